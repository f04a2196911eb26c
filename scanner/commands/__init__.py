"""Subcommands beyond ``scan`` and ``demo``: one module per command, found by name.

A module ``scanner/commands/check_migrations.py`` exposing a click command named ``command``
becomes ``privaudit check-migrations``; nothing else needs editing.
"""
