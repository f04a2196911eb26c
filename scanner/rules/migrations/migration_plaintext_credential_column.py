"""A migration stores a credential (token, secret, private key, TOTP seed) in plaintext.

Whoever reads such a column can act as the user or the service without knowing a password: an
OAuth refresh token (RFC 6749 §1.5) or session token is a login, a TOTP seed (RFC 6238) generates
every future second factor, a private key signs as its owner. JR/T 0171-2020 grades authentication
data C3 (never in plaintext), GDPR Art. 32 asks for encryption of what would let a breach escalate,
PCI DSS Req. 8.3.2 renders every authentication factor unreadable in storage. Tokens the server only
compares are best kept as a SHA-256 digest; secrets it must use again (TOTP seeds, provider tokens,
client secrets) encrypted with a key kept outside the database. A column whose width is exactly a
digest's (``varchar(64)``: SHA-256 hex) most likely holds the digest already: a note asking to confirm.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.migrations.events import ColumnChanged
from scanner.migrations.rulebase import MigrationContext, MigrationRule
from scanner.migrations.schema import Sensitivity
from scanner.model import Finding
from scanner.registry import RULES
from scanner.rules.migrations.migration_plaintext_pii_column import became, column_finding, column_message


@RULES.register
class MigrationPlaintextCredentialColumn(MigrationRule):
    id = "migration_plaintext_credential_column"
    handles = (ColumnChanged,)

    def check(self, event: ColumnChanged, ctx: MigrationContext) -> Iterator[Finding]:
        def test(sens: Sensitivity | None) -> bool:
            return sens is not None and not sens.protected and sens.credential_only

        if not became(event, test):
            return
        assert event.after is not None
        requirement = f"requires {event.after.grade.id} data hashed or encrypted at rest"
        message = column_message(event, ctx.policy, requirement, what="authentication data")
        yield column_finding(self, event, ctx, message, entity_type="CREDENTIAL")
