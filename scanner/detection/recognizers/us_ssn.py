"""United States Social Security number.

Format: ``AAA-GG-SSSS`` (SSA, Program Operations Manual RM 10201.060); area 001–899 except 666,
group 01–99, serial 0001–9999, validated with ``stdnum.us.ssn`` (which also rejects the numbers
the SSA reserved for advertising, e.g. 078-05-1120). The dashed form counts on its own; the same
groups separated by spaces or dots (``078 05 1123``, ``078.05.1123``) only next to a context word
(ssn, social security) or in an SSN field; nine bare digits never: they are far too common in logs
(counters, amounts, offsets) to be told apart.

Fictitious test values: ``536-22-1234``, ``***-**-6789`` (masked).
"""

from __future__ import annotations

from stdnum.exceptions import ValidationError
from stdnum.us import ssn

from scanner.detection.recognizer import Candidate, Recognizer, digits_only
from scanner.registry import RECOGNIZERS


@RECOGNIZERS.register
class SocialSecurityNumberRecognizer(Recognizer):
    id = "us_ssn"
    entity_type = "US_SSN"
    kind = "identity"
    description = "US Social Security number"
    candidates = (
        Candidate("ssn_dashed", r"[0-8][0-9]{2}-[0-9]{2}-[0-9]{4}", 0.6),
        Candidate("ssn_spaced", r"[0-8][0-9]{2} [0-9]{2} [0-9]{4}", 0.5, requires_context=True),
        Candidate("ssn_dotted", r"[0-8][0-9]{2}\.[0-9]{2}\.[0-9]{4}", 0.5, requires_context=True),
    )
    masked = (r"[*xX#]{3}-[*xX#]{2}-[0-9]{4}", r"[*xX#]{3} [*xX#]{2} [0-9]{4}")
    context_words = ("ssn", "social security", "social_security", "socialsecurity", "ss#", "社会安全号")
    boundary = "0-9A-Za-z-"
    priority = 25
    examples = ("536-22-1234",)

    def normalize(self, text: str) -> str:
        return digits_only(text)

    def validate(self, value: str) -> bool:
        try:
            ssn.validate(value)
        except ValidationError:
            return False
        return True

    def mask(self, text: str) -> str:
        digits = self.normalize(text)
        return "***-**-" + digits[-4:]
