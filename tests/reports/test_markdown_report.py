"""The Markdown auditor report: structure, counts, Chinese labels, and escaping for Markdown and
inline HTML (GitHub and GitLab render both, so a file name must not become a tag, link or new row)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reports._render import markdown_escape
from reports.markdown import render_markdown
from scanner.registry import REPORTERS
from tests.reports.test_html_report import (
    EXPECTED,
    FINDINGS,
    TARGETS,
    review_report,
    review_sarif,
    scan_hostile_tree,
)


@pytest.fixture(scope="module")
def review_md() -> str:
    return render_markdown(review_sarif(), source="review-2026H2.sarif")


def section(text: str, heading: str) -> str:
    """The text from ``## heading`` to the next level-2 heading."""
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def table_rows(text: str) -> list[list[str]]:
    """Cells of every table row, split on unescaped pipes."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not re.fullmatch(r"\|[-:| ]+\|", line):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_sections_and_summary_counts(review_md: str) -> None:
    assert review_md.startswith("# Privacy compliance review report\n")
    for heading in ("Executive summary", "Obligations coverage", "Findings by resource", "Scan coverage"):
        assert f"\n## {heading}\n" in review_md
    tiles = table_rows(section(review_md, "Executive summary"))
    assert tiles[1] == [str(EXPECTED[k]) for k in ("open", "waived", "new", "resolved", "targets", "unreadable")]
    rows = {row[0]: row[1:] for row in tiles[2:]}
    assert rows["C3 — authentication data"] == ["1", "1"]
    assert rows["S3 object storage"] == ["1", "0"] and rows["SFTP file shares"] == ["0", "0"]
    assert rows["Resolved"] == ["1"] and rows["New"] == ["4"]


def test_obligations_table(review_md: str) -> None:
    rows = table_rows(section(review_md, "Obligations coverage"))
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, 10)]
    status = {int(row[0]): row[2] for row in rows[1:]}
    labels = {"fail": "Not met", "pass": "No open findings", "not-checked": "Not checked"}
    assert status == {n: labels[s] for n, s in EXPECTED["obligations"].items()}
    assert r"pii\_in\_log: waived (1)" in rows[5][3]


def test_findings_and_coverage(review_md: str) -> None:
    findings = section(review_md, "Findings by resource")
    assert findings.count("\n### ") == len({uri for _, uri, *_ in FINDINGS})
    for row in table_rows(findings):
        assert len(row) == 9, row  # no value adds or removes a column
    assert "owner: li.wei@bank.example; Expires: 2027-03-31; Ticket: SEC-42" in findings.replace("Owner", "owner")
    assert "~~Finding 7 on sftp://10.0.0.5/home/backup/dump.csv.~~" in findings  # resolved: struck through
    assert r"138\*\*\*\*5678" in findings
    coverage = section(review_md, "Scan coverage")
    for target in TARGETS:
        assert markdown_escape(target.target) in coverage


def test_chinese(tmp_path: Path) -> None:
    text = render_markdown(review_sarif(), lang="zh", source="review.sarif")
    assert text.startswith("# 隐私合规审查报告\n") and "\n## 合规义务覆盖情况\n" in text and "负责人: li.wei" in text
    assert "Executive summary" not in text


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<script>alert(1)</script>.csv", "&lt;script&gt;alert(1)&lt;/script&gt;.csv"),
        ("[x](javascript:alert(1))", r"\[x\](javascript:alert(1))"),
        ("![i](http://x/y.png)", r"!\[i\](http://x/y.png)"),
        ("a|b", r"a\|b"),
        ("`code` *em* _em_ ~~s~~ # h", r"\`code\` \*em\* \_em\_ \~\~s\~\~ \# h"),
        ("line\nbreak", "line break"),
        ("a & b", "a &amp; b"),
        (r"back\slash", r"back\\slash"),
        ("张伟 13812345678", "张伟 13812345678"),
    ],
)
def test_markdown_escape(raw: str, escaped: str) -> None:
    assert markdown_escape(raw) == escaped


def test_hostile_resource_names(tmp_path: Path) -> None:
    text = render_markdown(json.loads(scan_hostile_tree(tmp_path / "tree").read_text()), source="x.sarif")
    assert "<script" not in text and "<img" not in text and not re.search(r"(?<!\\)\]\(javascript:", text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in text
    for row in table_rows(section(text, "Findings by resource")):
        assert len(row) == 9, row  # the `|` in a file name did not add a column
    # the only raw HTML in the file is the report's own <br> separators
    assert set(re.findall(r"<(/?\w+)", text)) <= {"br"}


def test_markdown_is_a_registered_report_format() -> None:
    text = REPORTERS.get("markdown")().render(review_report())
    assert text.startswith("# Privacy compliance review report")
