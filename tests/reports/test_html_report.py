"""The auditor report (``privaudit report``): HTML structure and counts, escaping of hostile resource
names, the message catalogue, the command line, and a real browser rendering it (headless Chromium
from Debian, installed by ``.ci/install-chromium.sh``; the screenshots are kept in
``tests/artifacts/``).

The review fixture is a :class:`~scanner.model.ScanReport` built by hand and serialized by the real
SARIF reporter, so the report is tested against what ``privaudit scan`` writes: one finding per data
store, every baseline state, an applied and a pending waiver, a failed target and unreadable items.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reports._audit import build_audit, stores_of_tags
from reports._i18n import LANGUAGES, catalogue, placeholders
from reports.html import render_html
from reports.sarif import build_sarif
from scanner.cli import main
from scanner.demo import resident_id
from scanner.model import (
    Category,
    Finding,
    Level,
    Location,
    Notification,
    Resource,
    ScanReport,
    TargetSummary,
)
from scanner.registry import REPORTERS, RULES

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
TEMPLATES = Path(__file__).resolve().parents[2] / "reports" / "templates"
CHROMIUM = "/usr/bin/chromium"

# -- the review fixture ------------------------------------------------------------------------

WAIVER = {"kind": "external", "status": "accepted", "justification": "Log platform purge scheduled.",
          "properties": {"owner": "li.wei@bank.example", "expires": "2027-03-31", "ticket": "SEC-42",
                         "waiver": "waivers.yaml:7"}}
PENDING_WAIVER = {"kind": "external", "status": "underReview", "justification": "Awaiting the data owner.",
                  "properties": {"owner": "zhao.min@bank.example", "expiry": "2027-01-15"}}

# (rule, store URI of the resource, grade, level, baseline state, suppressions, evidence)
FINDINGS: list[tuple[str, str, str, Level, str, list[dict[str, Any]], list[str]]] = [
    ("pii_in_file", "file:///srv/share/exports/customers.csv", "C2", Level.ERROR, "new", [], ["138****5678"]),
    ("pii_in_log", "file:///srv/share/logs/app.log", "C3", Level.ERROR, "unchanged", [WAIVER], ["62220210****3344"]),
    ("file_world_readable_with_pii", "file:///srv/share/exports/customers.csv", "C2", Level.ERROR, "new",
     [PENDING_WAIVER], ["110105********0012"]),
    ("pg_public_select_on_pii", "postgresql://127.0.0.1:5432/core#public.customers.id_number", "C2", Level.ERROR,
     "updated", [], []),
    ("mysql_wildcard_host_reads_pii", "mysql://127.0.0.1:3306/crm#crm.clients.mobile", "C2", Level.ERROR,
     "unchanged", [], []),
    ("db_plaintext_c3_column", "sqlite:///data/app.db#main.users.password", "C3", Level.ERROR, "new", [], []),
    ("s3_bucket_public_with_pii", "s3://exports-bucket/customers.csv", "C2", Level.ERROR, "new", [], ["139****6789"]),
    ("pii_in_file", "sftp://10.0.0.5/home/backup/dump.csv", "C1", Level.WARNING, "absent", [], []),
]
TARGETS = [
    TargetSummary("/srv/share", "files", resources=120, bytes_scanned=5 * 1048576, skipped={"binary": 3}),
    TargetSummary("postgresql://auditor@127.0.0.1:5432/core", "postgresql", resources=14, items_examined=1400),
    TargetSummary("mysql://auditor@127.0.0.1:3306/crm", "mysql", resources=6, items_examined=600),
    TargetSummary("sqlite:///data/app.db", "sqlite", resources=2, items_examined=40),
    TargetSummary("s3://exports-bucket", "s3", resources=9, items_examined=9),
    TargetSummary("sftp://backup@10.0.0.5/home/backup", "sftp", resources=4),
    TargetSummary("sftp://backup@10.0.0.9/srv", "sftp", failed=True),
]
NOTIFICATIONS = [
    Notification("File /srv/share/hr/salaries.xlsx could not be read: permission denied.",
                 "file:///srv/share/hr/salaries.xlsx", kind="permission"),
    Notification("File /srv/share/dump.sql is larger than 256 MiB; skipped.", "file:///srv/share/dump.sql",
                 Level.NOTE, kind="too-large"),
    Notification("Target sftp://backup@10.0.0.9/srv could not be scanned: connection refused.",
                 "sftp://10.0.0.9/srv", Level.ERROR, kind="connection"),
]
EXPECTED = {
    "open": 6, "waived": 1, "new": 4, "resolved": 1, "unchanged": 2, "updated": 1, "targets": 7, "unreadable": 3,
    "grade": {"C3": (1, 1), "C2": (5, 0)},
    "store": {"file": (2, 1), "postgresql": (1, 0), "mysql": (1, 0), "sqlite": (1, 0), "s3": (1, 0), "sftp": (0, 0)},
    # obligation -> status (6: the S3 sharing rule ran on a bucket and found nothing; 9: only a migration rule)
    "obligations": {1: "fail", 2: "fail", 3: "fail", 4: "fail", 5: "pass", 6: "pass", 7: "pass", 8: "fail",
                    9: "not-checked"},
}


def _resource(uri: str) -> Resource:
    if uri.startswith("file://"):
        relative = uri.removeprefix("file:///srv/share/")
        return Resource(uri=uri, kind="file", display_name=relative, connector="files",
                        root_uri="file:///srv/share/", relative_path=relative)
    return Resource(uri=uri, kind="column" if "#" in uri else "object", display_name=uri, connector="x",
                    logical_name=uri.split("#")[-1], logical_kind="column" if "#" in uri else "object")


def review_report() -> ScanReport:
    findings = []
    for index, (rule_id, uri, grade, level, state, suppressions, evidence) in enumerate(FINDINGS):
        meta = RULES.get(rule_id).metadata()
        findings.append(Finding(
            rule_id=rule_id, level=level, category=meta.category, message=f"Finding {index} on {uri}.",
            resource=_resource(uri), grade=grade, entity_type="CN_MOBILE_NUMBER", occurrences=index + 1,
            locations=[Location(line=3, evidence=evidence[0])] if evidence else [],
            fingerprint=f"{index:032x}", properties={"evidence": evidence} if evidence else {},
            suppressions=[dict(s) for s in suppressions], baseline_state=state,
        ))
    # as `privaudit scan` does: migration and review (waiver) rules judge other inputs than scanned content
    rules = [cls for cls in RULES if getattr(cls, "scope", None) not in ("migrations", "review")]
    return ScanReport(findings=findings, notifications=NOTIFICATIONS, targets=TARGETS, rules=rules,
                      started="2026-11-20T01:00:00Z", finished="2026-11-20T01:42:00Z", tool_version="0.1.0",
                      policy_name="financial-cn")


def review_sarif() -> dict[str, Any]:
    return json.loads(json.dumps(build_sarif(review_report())))


# -- HTML structure ----------------------------------------------------------------------------


class _Page(HTMLParser):
    """Every tag with its attributes, the ids, and the text of elements with an id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("br", "meta", "rect", "link"):
            self._open.append(dict(attrs).get("id"))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br", "meta", "rect", "link") and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for element_id in self._open:
            if element_id:
                self.text[element_id] = self.text.get(element_id, "") + data

    def by(self, tag: str | None = None, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if (tag is None or t == tag)
                and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def tile(html: str, name: str) -> str:
    match = re.search(rf'id="tile-{name}"><span class="num">([^<]*)</span>', html)
    assert match, name
    return match.group(1)


@pytest.fixture(scope="module")
def review_html() -> str:
    return render_html(review_sarif(), source="review-2026H2.sarif")


def test_sections_present_and_self_contained(review_html: str) -> None:
    page = parse(review_html)
    ids = {a.get("id") for _, a in page.tags}
    assert {"summary", "obligations", "findings", "coverage"} <= ids
    assert not page.by("script") and not page.by("link") and not page.by("img") and not page.by("iframe")
    assert all(str(a["href"]).startswith("#") for a in page.by("a"))  # only in-page links
    assert not re.search(r"(?i)\b(src|href)\s*=\s*[\"']?(https?:)?//", review_html)  # nothing external
    assert "@import" not in review_html and "url(" not in review_html
    assert "@media print" in review_html
    csp = page.by("meta", http_equiv="Content-Security-Policy")[0]["content"] or ""
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert len(page.by("svg")) == 4  # grade, category, store, baseline charts


def test_summary_counts(review_html: str) -> None:
    for name in ("open", "waived", "new", "resolved", "targets", "unreadable"):
        assert tile(review_html, name) == str(EXPECTED[name]), name
    for attribute in ("grade", "store"):
        table = review_html.split(f'id="counts-{attribute}"')[1].split("</table>")[0]
        rows = re.findall(r'data-key="([^"]+)">.*?class="n open">([\d,]+)<.*?class="n waived">([\d,]+)<', table)
        assert {k: (int(o), int(w)) for k, o, w in rows} == EXPECTED[attribute], attribute
    audit = build_audit(review_sarif())
    assert {k: (o, w) for k, o, w in audit.counts_by("grade")} == EXPECTED["grade"]
    assert {k: (o, w) for k, o, w in audit.counts_by("store")} == EXPECTED["store"]
    for state, expected in (("new", 4), ("unchanged", 2), ("updated", 1), ("absent", 1)):
        assert audit.state_count(state) == expected


def test_obligations_coverage(review_html: str) -> None:
    page = parse(review_html)
    statuses = {int(str(a["id"]).split("-")[1]): a["data-status"] for a in page.by("tr") if
                str(a.get("id", "")).startswith("obligation-")}
    assert statuses == EXPECTED["obligations"]
    text = page.text["obligations"]
    assert "Classify and grade customer information by sensitivity" in text and "分级分类管理" in text
    # every rule that serves an obligation is listed under it, with what it did in this scan
    listed = {(a.get("data-rule"), a.get("data-status")) for a in page.by() if a.get("data-rule")
              and a.get("data-status")}
    assert ("pii_in_file", "fail") in listed
    assert ("pii_in_log", "waived") in listed
    assert ("s3_bucket_shared_cross_account", "pass") in listed
    assert ("migration_suppression_without_reason", "not-run") in listed
    for cls in RULES:
        assert any(rule == cls.id for rule, _ in listed), cls.id


def test_findings_grouped_by_resource_with_waivers_and_remediation(review_html: str) -> None:
    page = parse(review_html)
    findings = page.text["findings"]
    articles = [a for a in page.by("article")]
    assert len(articles) == len({uri for _, uri, *_ in FINDINGS})  # one block per resource
    assert "li.wei@bank.example" in findings and "2027-03-31" in findings and "SEC-42" in findings
    assert "waivers.yaml:7" in findings
    assert "waiver under review (not applied)" in findings  # a pending waiver does not hide a finding
    assert RULES.get("pii_in_file").metadata().help.split(";")[0] in findings  # remediation from the rule
    assert "138****5678" in findings
    assert "postgresql://127.0.0.1:5432/core#public.customers.id_number" in findings
    resolved = page.by("tr", data_state="absent")
    assert len(resolved) == 1 and "resolved" in str(resolved[0]["class"])
    # open findings first: the resolved-only resource is the last block
    assert page.text[f"resource-{len(articles)}"].count("dump.csv") >= 1


def test_scan_coverage(review_html: str) -> None:
    page = parse(review_html)
    coverage = page.text["coverage"]
    for target in TARGETS:
        assert target.target in coverage
    assert "1,400" in coverage and "5.0 MiB" in coverage and "binary 3" in coverage
    assert "could not be scanned" in coverage
    assert "permission denied" in coverage and "connection refused" in coverage


def test_chinese_labels(review_html: str) -> None:
    html = render_html(review_sarif(), lang="zh", source="review.sarif")
    page = parse(html)
    assert 'lang="zh-CN"' in html
    assert "隐私合规审查报告" in html and "执行摘要" in html and "合规义务覆盖情况" in html
    assert "负责人" in page.text["findings"]
    assert tile(html, "open") == str(EXPECTED["open"])
    assert "Executive summary" not in html


def test_baseline_file_computes_new_resolved_and_not_covered(tmp_path: Path) -> None:
    """Two scans of a changed estate, the first without the second's second target."""
    share, other = tmp_path / "share", tmp_path / "other"
    for directory in (share, other):
        directory.mkdir()
    (share / "kept.log").write_text("mobile 13812345678\n", encoding="utf-8")
    (share / "fixed.log").write_text(f"id {resident_id('11010519850312001')}\n", encoding="utf-8")
    (other / "elsewhere.log").write_text("mobile 13923456789\n", encoding="utf-8")
    previous = _scan(tmp_path / "previous.sarif", share, other)
    (share / "fixed.log").write_text("id 110105********0012\n", encoding="utf-8")  # masked now
    (share / "new.log").write_text("mobile 15034567890\n", encoding="utf-8")
    current = _scan(tmp_path / "current.sarif", share)  # `other` not scanned this time

    audit = build_audit(json.loads(current.read_text()), json.loads(previous.read_text()))
    assert audit.baseline_source == "file"
    states = {(Path(f.resource).name, f.rule_id): f.state for f in audit.findings}
    assert states[("new.log", "pii_in_log")] == "new"
    assert states[("kept.log", "pii_in_log")] == "unchanged"
    assert states[("fixed.log", "pii_in_log")] == "absent"
    assert [Path(f.resource).name for f in audit.not_covered if f.rule_id == "pii_in_log"] == ["elsewhere.log"]

    result = CliRunner().invoke(main, ["report", str(current), "--baseline", str(previous),
                                       "--output", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    page = parse(html)
    assert tile(html, "resolved") == str(sum(f.state == "absent" for f in audit.findings))
    assert "elsewhere.log" in page.text["coverage"]


def _scan(output: Path, *targets: Path) -> Path:
    result = CliRunner().invoke(main, ["scan", *map(str, targets), "--jobs", "1", "--fail-on", "none",
                                       "--format", "sarif", "--output", str(output)])
    assert result.exit_code == 0, result.output
    return output


# -- hostile resource names --------------------------------------------------------------------

HOSTILE_NAMES = [
    ("<script>alert(1)<", "script>.csv"),  # the directory and the file make `<script>alert(1)</script>.csv`
    ("x", '"><img src=x onerror=alert(2)>.log'),
    ("x", "javascript:alert(3).csv"),
    ("x", "' onmouseover='alert(4)' .txt"),
    ("x", "{{ 7*7 }} ${7*7} [link](javascript:alert(5)) | pipe.csv"),
]


def scan_hostile_tree(root: Path) -> Path:
    """Scan a tree whose file names are markup, script URLs and template syntax; returns the SARIF."""
    for directory, name in HOSTILE_NAMES:
        (root / directory).mkdir(parents=True, exist_ok=True)
        (root / directory / name).write_text(
            f"name,mobile,id\n张伟,13812345678,{resident_id('11010519850312001')}\n", encoding="utf-8")
        (root / directory / name).chmod(0o644)
    output = root.parent / "hostile.sarif"
    result = CliRunner().invoke(main, ["scan", str(root), "--jobs", "1", "--fail-on", "none", "--format", "sarif",
                                       "--output", str(output)])
    assert result.exit_code == 0, result.output
    resources = {r["properties"]["resource"] for r in json.loads(output.read_text())["runs"][0]["results"]}
    assert len(resources) == len(HOSTILE_NAMES)  # every hostile file is a finding: the names reach the report
    return output


@pytest.fixture(scope="module")
def hostile_sarif(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scan_hostile_tree(tmp_path_factory.mktemp("hostile"))


def test_hostile_resource_names_are_escaped(hostile_sarif: Path) -> None:
    for lang in LANGUAGES:
        html = render_html(json.loads(hostile_sarif.read_text()), lang=lang, source="<b>hostile</b>.sarif")
        page = parse(html)
        assert not page.by("script") and not page.by("img") and not page.by("b")
        assert not [(t, k) for t, a in page.tags for k in a if k.startswith("on")]  # no event handlers
        assert all(str(a["href"]).startswith("#") for a in page.by("a"))
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in html  # shown, as text
        assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;.log" in html
        assert "{{ 7*7 }}" in page.text["findings"] and "${7*7}" in page.text["findings"]  # data, not template
        text = page.text["findings"]
        for _, name in HOSTILE_NAMES:
            assert name.replace("script>.csv", "<script>alert(1)</script>.csv") in text or name in text


# -- message catalogue -------------------------------------------------------------------------


def test_catalogue_has_every_key_in_both_languages() -> None:
    messages = catalogue()
    assert set(messages) == set(LANGUAGES)
    en, zh = messages["en"], messages["zh"]
    assert set(en) == set(zh), f"only in en: {sorted(set(en) - set(zh))}, only in zh: {sorted(set(zh) - set(en))}"
    for key in en:
        assert en[key].strip() and zh[key].strip(), key
        assert placeholders(en[key]) == placeholders(zh[key]), key


def test_templates_use_only_catalogue_keys() -> None:
    messages = catalogue()["en"]
    used = set()
    for template in TEMPLATES.glob("*.j2"):
        # literal keys; keys built from data (``'state.' ~ f.state``) are checked below
        used |= set(re.findall(r"\bt\('([^']+)'\s*[,)]", template.read_text(encoding="utf-8")))
    assert used and used <= set(messages), sorted(used - set(messages))
    # keys built from data: every value privaudit itself produces has a label
    dynamic = [f"category.{c.value}" for c in Category] + [f"level.{lv.value}" for lv in Level]
    dynamic += ["store.migrations"]
    dynamic += [f"state.{s}" for s in ("new", "unchanged", "updated", "absent")]
    dynamic += [f"rule.status.{s}" for s in ("fail", "waived", "pass", "not-applicable", "not-run")]
    dynamic += [f"obligation.status.{s}" for s in ("fail", "pass", "not-checked")]
    dynamic += [f"obligation.{n}.{part}" for n in range(1, 10) for part in ("title", "local")]
    dynamic += ["grade.C1", "grade.C2", "grade.C3"]
    assert [k for k in dynamic if k not in messages] == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_connector_labels_its_store_in_every_report_language(lang: str) -> None:
    from reports._audit import store_keys

    keys = store_keys()
    assert keys.order[0] == "file" and set(keys.of_connector.values()) == set(keys.order)
    assert [k for k in keys.order if f"store.{k}" not in keys.labels.get(lang, {})] == []


# -- rule applicability, registry, command line ---------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "stores"),
    [
        (["database", "access", "postgresql"], {"postgresql"}),
        (["database", "encryption"], {"postgresql", "mysql", "sqlite"}),
        (["exposure", "s3", "cloud"], {"s3"}),
        (["migrations", "grants", "postgresql"], {"migrations"}),
        (["privacy", "logs"], None),
    ],
)
def test_rule_applies_to_the_stores_its_tags_name(tags: list[str], stores: set[str] | None) -> None:
    assert stores_of_tags(tags) == stores


def test_html_is_a_registered_report_format_for_live_scans() -> None:
    html = REPORTERS.get("html")().render(review_report())
    assert tile(html, "open") == str(EXPECTED["open"])
    # the registry is the single source of format names: `scan --format` offers every registered one
    scan_format = next(p for p in main.commands["scan"].params if p.name == "fmt")
    assert list(scan_format.type.choices) == REPORTERS.names()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "is not JSON"),
        ('{"version": "2.1.0"}', "is not a SARIF log"),
        ('{"version": "1.0.0", "runs": []}', "only SARIF 2.1.0"),
    ],
)
def test_unusable_sarif_is_a_usage_error(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "findings.sarif"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(path)])
    assert result.exit_code == 2
    assert message in result.output and "privaudit scan --format sarif" in result.output


def test_format_follows_the_output_extension(tmp_path: Path) -> None:
    sarif = tmp_path / "review.sarif"
    sarif.write_text(json.dumps(review_sarif()), encoding="utf-8")
    for name, starts in (("r.html", "<!DOCTYPE html>"), ("r.md", "# Privacy compliance review report")):
        result = CliRunner().invoke(main, ["report", str(sarif), "--output", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(starts)
    result = CliRunner().invoke(main, ["report", str(sarif), "--format", "markdown", "--lang", "zh"])
    assert result.exit_code == 0 and result.output.startswith("# 隐私合规审查报告")


# -- a real browser --------------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                    reason="Chromium missing: run .ci/install-chromium.sh (make system-deps)")
# What Chromium logs (--enable-logging=stderr) when a page's script fails or the CSP blocks something.
# Any console message counts: the report has no script, so the only ones possible are errors and
# Content-Security-Policy violations (an injected script or an external resource being blocked).
_BROWSER_ERRORS = re.compile(r"CONSOLE[:(]\d+|Uncaught|Content Security Policy|Refused to")


def screenshot(html_path: Path, png: Path, tmp_path: Path) -> str:
    """Render ``html_path`` with headless Chromium to ``png``; returns Chromium's log."""
    png.unlink(missing_ok=True)
    completed = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--screenshot={png}", "--window-size=1280,2000",
         "--enable-logging=stderr", "--v=0", html_path.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stderr


def png_pixels(png: Path) -> tuple[int, int, bytes]:
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, offset = b"", 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IDAT":
            idat += data[offset + 8:offset + 8 + length]
        offset += 12 + length
    return width, height, zlib.decompress(idat)


@needs_chromium
@pytest.mark.parametrize("lang", LANGUAGES)
def test_chromium_renders_the_report(tmp_path: Path, hostile_sarif: Path, lang: str) -> None:
    sarif = review_sarif()
    hostile_run = json.loads(hostile_sarif.read_text())["runs"][0]
    sarif["runs"].append(hostile_run)  # hostile names in the same page: nothing may run or be blocked
    html_path = tmp_path / f"report-{lang}.html"
    html_path.write_text(render_html(sarif, lang=lang, source="review.sarif"), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / f"report-{lang}.png"
    log = screenshot(html_path, png, tmp_path)
    assert not _BROWSER_ERRORS.findall(log), log[-3000:]
    width, height, pixels = png_pixels(png)
    assert (width, height) == (1280, 2000)
    assert png.stat().st_size > 50_000 and len(set(pixels[::97])) > 20  # not a blank page


@needs_chromium
@pytest.mark.parametrize(
    "body",
    [
        "<script>undefinedFunction();</script>",  # a script error
        "<script>document.title = 1;</script>",  # an injected script, blocked by the report's CSP
        '<img src="http://192.0.2.1/x.png">',  # an external resource, blocked by the report's CSP
    ],
)
def test_chromium_log_shows_errors(tmp_path: Path, body: str) -> None:
    """The browser check can fail: what an escaping bug would produce shows up in Chromium's log."""
    csp = '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
    page = tmp_path / "broken.html"
    page.write_text(f"<!DOCTYPE html>{csp if 'undefined' not in body else ''}<title>x</title><p>x</p>{body}",
                    encoding="utf-8")
    log = screenshot(page, tmp_path / "broken.png", tmp_path)
    assert _BROWSER_ERRORS.search(log), log[-3000:]
