"""privaudit's recognizers inside a Presidio ``AnalyzerEngine``, fully offline.

A bare ``AnalyzerEngine()`` loads spaCy's ``en_core_web_lg`` and downloads it when it is missing
(and can exit the process when it cannot); Presidio's e-mail recognizer calls ``tldextract``, whose
default extractor fetches the public-suffix list on first use. Scanners run on isolated hosts, so:

* with no NER model, the engine gets a no-op NLP engine: pattern recognizers, context words and
  checksum validation (``validate_result``) all work without any model;
* an NER model (a spaCy package name or the path of a saved pipeline) is used only when it is
  installed; it is never downloaded, and a missing one is a :class:`ModelNotInstalled` error that
  says how to install it;
* ``tldextract`` is pointed at its bundled public-suffix snapshot before any recognizer runs.

The fast engine (:mod:`scanner.detection.engine`) does not use this module; importing Presidio costs
~0.7 s and ~75 MiB, so it is imported only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scanner.detection.recognizer import mask_middle
from scanner.fingerprint import value_hash
from scanner.model import Match
from scanner.registry import RECOGNIZERS

NER_ENTITIES = ("PERSON", "LOCATION")


class ModelNotInstalled(ValueError):
    """The configured NER model is neither an installed spaCy package nor a saved pipeline."""


def _offline_tldextract() -> None:
    import tldextract

    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    try:  # presidio's e-mail recognizer imported the function by name in some versions
        import presidio_analyzer.predefined_recognizers.generic.email_recognizer as email_module
    except ImportError:  # pragma: no cover - module layout differs between Presidio versions
        return
    if hasattr(email_module, "tldextract"):
        email_module.tldextract.extract = tldextract.extract


def _noop_nlp_engine(languages: Sequence[str]) -> Any:
    from presidio_analyzer.nlp_engine import NoOpNlpEngine

    return NoOpNlpEngine(models=[{"lang_code": lang, "model_name": "none"} for lang in languages])


def check_ner_model(model: str) -> None:
    """Raise :class:`ModelNotInstalled` unless ``model`` is an installed spaCy package or a saved pipeline."""
    import spacy.util

    if not (Path(model).is_dir() or spacy.util.is_package(model)):
        raise ModelNotInstalled(
            f"NER model {model!r} is not installed: install the spaCy package "
            f"(pip install {model} from your internal mirror) or give the path of a saved pipeline, "
            "or remove the ner_model setting to scan with pattern recognizers only."
        )


def ner_model_language(model: str) -> str:
    """The language a spaCy model was trained for (``lang`` in its ``meta.json``), so a Chinese
    pipeline such as ``zh_core_web_lg`` analyses text as Chinese; raises :class:`ModelNotInstalled`."""
    import spacy.util

    check_ner_model(model)
    directory = Path(model) if Path(model).is_dir() else spacy.util.get_package_path(model)
    try:
        meta = spacy.util.get_model_meta(directory)
    except (OSError, ValueError) as exc:
        raise ModelNotInstalled(f"NER model {model!r} has no readable meta.json ({exc}); save the pipeline with "
                                "nlp.to_disk() or reinstall the package") from None
    return str(meta.get("lang") or "en")


def _spacy_nlp_engine(model: str, languages: Sequence[str]) -> Any:
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    check_ner_model(model)
    return SpacyNlpEngine(models=[{"lang_code": lang, "model_name": model} for lang in languages])


def build_analyzer(ner_model: str | None = None, languages: Sequence[str] = ("en", "zh")) -> Any:
    """An ``AnalyzerEngine`` with exactly privaudit's recognizers (and spaCy NER when a model is given)."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    _offline_tldextract()
    registry = RecognizerRegistry(supported_languages=list(languages))
    for cls in RECOGNIZERS:
        for language in languages:
            registry.add_recognizer(cls().as_presidio(supported_language=language))
    if ner_model:
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        nlp_engine = _spacy_nlp_engine(ner_model, languages)
        for language in languages:
            registry.add_recognizer(SpacyRecognizer(supported_language=language,
                                                    supported_entities=list(NER_ENTITIES)))
    else:
        nlp_engine = _noop_nlp_engine(languages)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=list(languages))


def build_presidio_default_analyzer() -> Any:
    """Presidio's predefined recognizers, as a default ``AnalyzerEngine`` has them, but with no NLP
    model and nothing downloaded: the baseline ``bench/bench_logs.py`` measures against."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    _offline_tldextract()
    nlp_engine = _noop_nlp_engine(["en"])
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


#: Presidio's NER labels -> privaudit entity types graded by the policy packs
NER_ENTITY_TYPES = {"PERSON": "PERSON_NAME", "LOCATION": "LOCATION"}


class NerDetector:
    """The fast detector plus PERSON/LOCATION from an installed spaCy model, for text chunks.

    Names have no checksum, so they come only from a model the user chose to install (never
    downloaded); evidence is masked and values hashed like every other match. Text is analysed in
    the model's own language (``zh`` for a Chinese pipeline), read from the model's metadata.
    """

    def __init__(self, detector: Any, ner_model: str) -> None:
        self.detector = detector
        self.ner_model = ner_model
        self.min_score = detector.min_score
        self.language = ner_model_language(ner_model)
        self.analyzer = build_analyzer(ner_model, languages=(self.language,))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.detector, name)

    def scan(self, chunk: Any) -> Any:
        result = self.detector.scan(chunk)
        text = chunk.data.decode("utf-8", "replace")
        found_all = [f for f in self.analyzer.analyze(text, language=self.language, entities=list(NER_ENTITIES))
                     if f.score >= self.min_score]
        # byte offset and line advance incrementally over the results in text order (not from the chunk
        # start for each name, which is quadratic in a chunk full of names)
        position, byte_offset, line = 0, chunk.byte_offset, chunk.line_offset + 1
        for found in sorted(found_all, key=lambda f: f.start):
            byte_offset += len(text[position:found.start].encode("utf-8"))
            line += text.count("\n", position, found.start)
            position = found.start
            entity = NER_ENTITY_TYPES[found.entity_type]
            value = text[found.start:found.end]
            result.matches.append(Match(
                entity_type=entity,
                start=byte_offset,
                end=byte_offset + len(value.encode("utf-8")),
                line=line,
                score=round(found.score, 2),
                evidence=mask_middle(value, keep_start=1, keep_end=0),
                value_hash=value_hash(entity, value),
                field=chunk.field,
            ))
        return result
