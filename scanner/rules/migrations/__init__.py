"""Migration rules: judge schema-change events from ``privscan check-migrations``.

They subclass :class:`scanner.migrations.rulebase.MigrationRule` and are skipped by ``privscan scan``
(their ``evaluate`` yields nothing; ``scope = "migrations"``).
"""
