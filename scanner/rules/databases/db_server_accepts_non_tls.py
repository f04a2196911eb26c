"""The database server accepts connections without TLS (obligation 4: encryption in transit)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts import Transport, of_type
from scanner.model import Finding, Resource
from scanner.registry import RULES
from scanner.rule import Rule, RuleContext, TargetScan


@RULES.register
class DbServerAcceptsNonTls(Rule):
    id = "db_server_accepts_non_tls"

    def evaluate_target(self, target: TargetScan, ctx: RuleContext) -> Iterator[Finding]:
        for transport in of_type(target.facts, Transport):
            if not transport.accepts_non_tls:
                continue
            if transport.server == "postgresql":
                if not transport.ssl:
                    reason = "ssl = off: the server offers no TLS at all"
                else:
                    lines = ", ".join(f"line {r.line} ({r.type} {r.database} {r.user} {r.address})"
                                      for r in transport.non_tls_rules)
                    reason = f"pg_hba.conf accepts non-TLS TCP connections: {lines} (use hostssl)"
            else:
                reason = (f"require_secure_transport = {transport.require_secure_transport}, "
                          f"have_ssl = {transport.have_ssl}")
            resource = Resource(uri=transport.target, kind="database-server", display_name=transport.target,
                                connector=target.connector, logical_name=transport.target,
                                logical_kind="database-server")
            yield self.finding(
                resource,
                f"Database server {transport.target} accepts connections without TLS: {reason}",
                level=ctx.policy.rule_level(self.id, None, self.metadata().default_level),
                properties={k: v for k, v in transport.properties("target").items()
                            if v not in (None, []) or k == "connection_encrypted"},
            )
