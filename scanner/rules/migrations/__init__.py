"""Migration rules: judge schema-change events from ``privaudit check-migrations``.

They subclass :class:`scanner.migrations.rulebase.MigrationRule` and are skipped by ``privaudit scan``
(their ``evaluate`` yields nothing; ``scope = "migrations"``).
"""
