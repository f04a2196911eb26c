"""The Presidio analyzers are built and run with every network call refused (no model download,
no public-suffix fetch); an NER model is used only when present and never downloaded."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from stdnum import luhn

from scanner.detection.presidio import ModelNotInstalled, build_analyzer, build_presidio_default_analyzer

CARD = "622202100011223344" + luhn.calc_check_digit("622202100011223344")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


CASES = [
    ("身份证号 11010519491231002X", ["CN_RESIDENT_ID"]),
    ("身份证号 11010519491231002Y", []),  # check character fails
    (f"卡号 {CARD}", ["CN_BANK_CARD"]),
    (f"卡号 {CARD[:-1]}{(int(CARD[-1]) + 1) % 10}", []),  # Luhn fails
    ("card 622202******1234 mobile 138****5678", []),  # masked
    ("mail zhang.wei@example.com", ["EMAIL_ADDRESS"]),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_our_recognizers_run_offline_in_presidio(no_network: None, text: str, expected: list[str]) -> None:
    analyzer = build_analyzer()
    assert sorted({r.entity_type for r in analyzer.analyze(text, language="en")}) == expected


def test_presidio_defaults_build_offline(no_network: None) -> None:
    analyzer = build_presidio_default_analyzer()
    assert "CreditCardRecognizer" in {type(r).__name__ for r in analyzer.registry.recognizers}
    assert analyzer.analyze("mail zhang.wei@example.com", language="en")


def test_a_saved_ner_pipeline_adds_person(no_network: None, tmp_path: Path) -> None:
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": [{"LOWER": "zhang"}, {"LOWER": "wei"}]}])
    nlp.to_disk(tmp_path / "ner")
    analyzer = build_analyzer(ner_model=str(tmp_path / "ner"), languages=("en",))
    found = {r.entity_type for r in analyzer.analyze("customer Zhang Wei 身份证号 11010519491231002X",
                                                      language="en")}
    assert {"PERSON", "CN_RESIDENT_ID"} <= found


def test_a_missing_model_is_a_clear_error_not_a_download(no_network: None) -> None:
    with pytest.raises(ModelNotInstalled, match=r"not installed.*remove the ner_model setting"):
        build_analyzer(ner_model="zh_core_web_does_not_exist")


def _saved_pipeline(path: Path, language: str = "en") -> Path:
    """A tiny spaCy pipeline on disk whose entity ruler knows one fictitious customer name."""
    import spacy

    nlp = spacy.blank(language)
    ruler = nlp.add_pipe("entity_ruler")
    if language == "zh":
        ruler.add_patterns([{"label": "PERSON", "pattern": "张伟明"}])
    else:
        ruler.add_patterns([{"label": "PERSON", "pattern": [{"LOWER": "zhang"}, {"LOWER": "wei"}]}])
    nlp.to_disk(path)
    return path


def test_scan_with_ner_model_reports_masked_person_names(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from scanner.cli import main

    share = tmp_path / "share"
    share.mkdir()
    (share / "notes.txt").write_text("call back customer Zhang Wei tomorrow\n", encoding="utf-8")
    model = _saved_pipeline(tmp_path / "ner")
    result = CliRunner().invoke(main, ["scan", str(share), "--jobs", "1", "--ner-model", str(model),
                                       "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    assert "Zhang Wei" not in result.output
    findings = json.loads(result.stdout)["findings"]
    (finding,) = [f for f in findings if f["entityType"] == "PERSON_NAME" and f["ruleId"] == "pii_in_file"]
    assert finding["locations"][0]["line"] == 1 and finding["locations"][0]["evidence"].startswith("Z*")


def test_scan_with_a_missing_ner_model_is_a_usage_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import main

    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--ner-model", "zh_core_web_does_not_exist"])
    assert result.exit_code == 2
    assert "--ner-model" in result.output and "not installed" in result.output


def test_ner_model_language_comes_from_the_model(tmp_path: Path) -> None:
    from scanner.detection.presidio import ner_model_language

    assert ner_model_language(str(_saved_pipeline(tmp_path / "en", "en"))) == "en"
    assert ner_model_language(str(_saved_pipeline(tmp_path / "zh", "zh"))) == "zh"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotInstalled, match=r"meta\.json"):
        ner_model_language(str(tmp_path / "empty"))


def _config_scan(tmp_path: Path, config_lines: str, *args: str) -> Any:
    from click.testing import CliRunner

    from scanner.cli import main

    share = tmp_path / "share"
    share.mkdir(exist_ok=True)
    (share / "callbacks.txt").write_text("2026-11-02 回访客户张伟明，已核实身份\n", encoding="utf-8")
    (tmp_path / "privaudit.yaml").write_text(f"version: 1\n{config_lines}targets:\n  - path: share\n",
                                            encoding="utf-8")
    return CliRunner().invoke(main, ["scan", "--config", str(tmp_path / "privaudit.yaml"), "--jobs", "1",
                                     "--format", "json", *args])


def test_ner_model_named_in_the_scan_config_finds_chinese_names(tmp_path: Path) -> None:
    """``ner_model:`` in privaudit.yaml (a path relative to the file) is used for the config's targets,
    in the model's language: a Chinese pipeline finds a Chinese name, masked and never echoed."""
    import json

    (tmp_path / "models").mkdir()
    _saved_pipeline(tmp_path / "models" / "zh_names", "zh")
    result = _config_scan(tmp_path, "ner_model: models/zh_names\n")
    assert result.exit_code in (0, 1), result.output
    assert "张伟明" not in result.output
    findings = json.loads(result.stdout)["findings"]
    (finding,) = [f for f in findings if f["entityType"] == "PERSON_NAME" and f["ruleId"] == "pii_in_file"]
    assert finding["locations"][0] == {"line": 1, "field": None, "evidence": "***"}  # short names fully hidden


def test_a_missing_ner_model_in_the_scan_config_exits_2_with_file_and_line(tmp_path: Path) -> None:
    result = _config_scan(tmp_path, "min_score: 0.5\nner_model: zh_core_web_does_not_exist\n")
    assert result.exit_code == 2
    assert f"{tmp_path / 'privaudit.yaml'}:3: ner_model: NER model 'zh_core_web_does_not_exist' is not " \
           "installed" in result.stderr


def test_ner_model_on_the_command_line_overrides_the_config(tmp_path: Path) -> None:
    import json

    model = _saved_pipeline(tmp_path / "en_names", "en")
    result = _config_scan(tmp_path, "ner_model: zh_core_web_does_not_exist\n", "--ner-model", str(model))
    assert result.exit_code in (0, 1), result.output
    assert not [f for f in json.loads(result.stdout)["findings"] if f["entityType"] == "PERSON_NAME"]


def test_ner_matches_carry_byte_spans_and_lines_of_the_chunk(tmp_path: Path) -> None:
    """Several names in one chunk, after multi-byte text and on different lines: each match's byte span
    and line locate exactly that name in the resource."""
    from scanner.detection.engine import Detector
    from scanner.detection.presidio import NerDetector
    from scanner.model import Chunk

    detector = NerDetector(Detector(), str(_saved_pipeline(tmp_path / "zh", "zh")))
    data = "第一行说明\n客户张伟明来电\n回访：张伟明，已核实\n".encode()
    matches = [m for m in detector.scan(Chunk(data=data, line_offset=10, byte_offset=1000)).matches
               if m.entity_type == "PERSON_NAME"]
    assert [m.line for m in matches] == [12, 13]
    assert all(data[m.start - 1000:m.end - 1000] == "张伟明".encode() for m in matches)
