"""Base class for identifier recognizers.

A recognizer has what a Presidio ``PatternRecognizer`` has (patterns, context words,
``validate_result``), and :meth:`Recognizer.as_presidio` turns it into one for a Presidio
``AnalyzerEngine`` (see :mod:`scanner.detection.presidio`). It is not a subclass: importing Presidio
pulls in spaCy (~0.7 s and ~75 MiB per process), which the fast engine does not need, and Presidio's
loader looks recognizer classes up by name among all its subclasses. It also declares what the fast
engine (:mod:`scanner.detection.engine`) needs to run it candidate-first over raw bytes:

* ``candidates``: ASCII regexes without look-arounds (Hyperscan compiles them into one
  multi-pattern database). The engine adds the word boundary itself (``boundary``), so a
  candidate is never part of a longer token: a phone-like run inside an order number, a UUID or
  a hex digest does not match;
* ``masked``: regexes of the masked display forms (``622202******1234``); they are counted as
  masked, never reported as exposures (requirement 5);
* ``validate``: the checksum / calendar / allocation check that turns a candidate into a match;
* ``requires_context``: for formats with no check digit (passport numbers, bare phone numbers),
  a context word or a field name must be present (per candidate: for the looser written forms of a
  format that otherwise needs none);
* ``owns_span``: whether a candidate that was not taken still claims its span, so that its parts
  are not read as shorter values of other types;
* ``priority``: when two recognizers claim overlapping text, the more specific one wins
  (CN_MOBILE_NUMBER over PHONE_NUMBER, CN_BANK_CARD over CREDIT_CARD);
* ``examples``: fictitious values that pass ``validate``. They document the format, are checked by
  the codebase tests, and :meth:`Recognizer.prepare` validates them once so that reference data
  loaded on first use (GB/T 2260 divisions, the public-suffix list, libphonenumber metadata) is
  loaded before scan workers fork, once, instead of once per worker.

Adding a recognizer = one module in :mod:`scanner.detection.recognizers` decorated with
``@RECOGNIZERS.register``, plus its table of test cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from presidio_analyzer import PatternRecognizer

ALNUM = "0-9A-Za-z"


#: What an entity type is, whatever the regulation: policy packs grade these (``kinds:``). identity:
#: identifies a person on its own (national IDs, passports, names, dates of birth); contact: reaches
#: a person (phones, e-mail, postal addresses); financial: a person's accounts and cards; network: an
#: online identifier (GDPR Recital 30); authentication: lets its holder act as the person or system;
#: organisation: identifies a legal person; location: a place.
KINDS = ("identity", "contact", "financial", "network", "authentication", "organisation", "location")


@dataclass(frozen=True)
class Candidate:
    """One candidate pattern: ``regex`` is the identifier itself, without boundaries.

    ``requires_context``: this form counts only with a context word or field name, even when the
    recognizer's usual forms do not need one (``078 05 1123`` is an SSN next to ``ssn``, nine digits
    in three groups anywhere else; a lowercase IBAN next to ``iban``). Such forms are searched for only
    near their entity's context words (see ``Detector._gated_ranges``)."""

    name: str
    regex: str
    score: float
    caseless: bool = False
    requires_context: bool = False


class Recognizer:
    """An identifier recognizer for the fast candidate engine, convertible to a Presidio recognizer."""

    id: ClassVar[str]
    entity_type: ClassVar[str]
    # what the entity is, pack-independent (see ``KINDS``): a policy pack grades kinds, so a new
    # recognizer is graded by every pack without an edit there; an ``entities:`` entry overrides
    kind: ClassVar[str]
    description: ClassVar[str]
    personal: ClassVar[bool] = True  # False: identifies an organisation, not a natural person
    # field names (column, JSON key, header; English, pinyin, Chinese) that announce its values, read as
    # runs of tokens at the head of a name; field_names.yaml may say more (exact, contains, SQL types)
    field_names: ClassVar[tuple[str, ...]] = ()
    candidates: ClassVar[tuple[Candidate, ...]]
    masked: ClassVar[tuple[str, ...]] = ()
    context_words: ClassVar[tuple[str, ...]] = ()
    requires_context: ClassVar[bool] = False
    boundary: ClassVar[str] = ALNUM
    priority: ClassVar[int] = 10
    enabled_by_default: ClassVar[bool] = True
    examples: ClassVar[tuple[str, ...]] = ()

    def as_presidio(self, supported_language: str = "en") -> PatternRecognizer:
        """This recognizer as a Presidio ``PatternRecognizer``: the same bounded patterns, context
        words and checksum validation (``validate_result``). The looser forms that count only with
        context (``Candidate.requires_context``) are left out: Presidio's context words raise a score
        but cannot be required."""
        from presidio_analyzer import Pattern

        return _presidio_adapter_class()(
            self,
            supported_entity=self.entity_type,
            name=self.id,
            supported_language=supported_language,
            patterns=[Pattern(c.name, self.bounded(c.regex), c.score) for c in self.candidates
                      if not c.requires_context or self.requires_context],
            context=list(self.context_words),
        )

    @classmethod
    def bounded(cls, regex: str) -> str:
        """The candidate regex with look-around boundaries, for engines that support them."""
        return f"(?<![{cls.boundary}])(?:{regex})(?![{cls.boundary}])"

    def prepare(self) -> None:
        """Load what validation loads lazily, by validating the examples."""
        for example in self.examples:
            self.validate(self.normalize(example))

    # -- what subclasses override -------------------------------------------------------------

    def normalize(self, text: str) -> str:
        """Canonical form used for validation and fingerprints (separators removed)."""
        return "".join(ch for ch in text if ch.isalnum() or ch in "@.+").upper()

    def validate(self, value: str) -> bool | None:
        """True: the check passed; False: reject; None: no check exists for this format."""
        return None

    def canonical(self, value: str) -> str:
        """The form a reported value is hashed in, so that one value written two ways counts once (a
        national phone number and its E.164 form). Asked only of reported values; ``normalize`` is asked
        of every candidate and must stay cheap."""
        return value

    def owns_span(self, text: str, value: str) -> bool:
        """Whether a candidate that is not taken (it failed validation, or lacks the context or score it
        needs) still has this format's shape so exactly that no other recognizer may read a part of it
        as a value: an IBAN of its country's length whose check digits fail is a mistyped IBAN, not a
        card number with letters around it. Asked once per distinct candidate."""
        return False

    def claims_around(self, data: bytes, start: int, end: int) -> bool:
        """Whether the value another recognizer took at ``start:end`` of ``data`` is a part of a token of
        this format's shape around it (see :meth:`owns_span`), for the forms this recognizer does not
        search for everywhere. Asked only of values taken without a context word of their own."""
        return False

    def is_masked_form(self, text: bytes) -> bool:
        """Whether a match of a ``masked`` regex is a masked value of this type: for forms a regex
        cannot bound without enumerating every split of kept and hidden characters (an 18-character
        resident ID with any number of them hidden), the regex is loose and this checks the length."""
        return True

    def mask(self, text: str) -> str:
        """Masked evidence shown in reports: keep a short prefix and suffix, star the rest."""
        return mask_middle(self.normalize(text), keep_start=2, keep_end=2)

    # -- Presidio integration ---------------------------------------------------------------

    def validate_result(self, pattern_text: str) -> bool | None:
        return self.validate(self.normalize(pattern_text))


_NON_DIGITS = re.compile(r"[^0-9]")


def digits_only(text: str) -> str:
    """The digits of a candidate (``6222 0212 3456 7890`` -> ``6222021234567890``); hot in the engine,
    so the common separator-free case costs one ``isdigit``."""
    return text if text.isdigit() else _NON_DIGITS.sub("", text)


@lru_cache(maxsize=1)
def _presidio_adapter_class() -> type:
    """Defined on first use so that Presidio is imported only by those who ask for it."""
    from presidio_analyzer import PatternRecognizer

    class PrivauditPatternRecognizer(PatternRecognizer):
        """A privaudit recognizer inside Presidio: validation is the recognizer's own checksum."""

        def __init__(self, recognizer: Recognizer, **kwargs: Any) -> None:
            self.privaudit_recognizer = recognizer
            super().__init__(**kwargs)

        def validate_result(self, pattern_text: str) -> bool | None:
            return self.privaudit_recognizer.validate_result(pattern_text)

    return PrivauditPatternRecognizer


def mask_middle(value: str, keep_start: int, keep_end: int, char: str = "*") -> str:
    """``6222021234567890123`` -> ``622202*********0123`` with keep_start=6, keep_end=4.

    The keep counts follow the display masks of the financial rulebooks (card 6+4, mobile 3+4,
    resident ID 6+4); at least four characters, and at least a third of the value, stay hidden.
    """
    n = len(value)
    hidden = max(4, -(-n // 3))
    while keep_start + keep_end > n - hidden and (keep_start or keep_end):
        if keep_start >= keep_end:
            keep_start -= 1
        else:
            keep_end -= 1
    return value[:keep_start] + char * (n - keep_start - keep_end) + value[n - keep_end :]
