"""Keyed hashes: the only form in which a personal value, or a finding's identity, leaves memory.

A plain SHA-256 of a resident ID or phone number is reversible by enumeration (the value space is
small), so every hash is an HMAC-SHA256 under a secret key. The key comes from
``PRIVSCAN_FINGERPRINT_KEY`` (hex or text) or from ``$XDG_CONFIG_HOME/privscan/fingerprint.key``,
created with mode 0600 on first use. Teams that compare reviews across machines (baselines) set the
environment variable from their secret store so fingerprints match everywhere.
"""

from __future__ import annotations

import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

ENV_KEY = "PRIVSCAN_FINGERPRINT_KEY"


def _key_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "privscan" / "fingerprint.key"


@lru_cache(maxsize=1)
def load_key() -> bytes:
    """Return the fingerprint key, creating the per-user key file when none is configured."""
    env = os.environ.get(ENV_KEY)
    if env:
        return env.encode("utf-8")
    path = _key_file()
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32).encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def keyed_hash(*parts: str, length: int = 32) -> str:
    """HMAC-SHA256 over the NUL-joined parts, hex, truncated to ``length`` characters."""
    message = "\0".join(parts).encode("utf-8")
    return hmac.digest(load_key(), message, "sha256").hex()[:length]  # one-shot: ~3x faster than hmac.new


def value_hash(entity_type: str, normalized_value: str) -> str:
    """Fingerprint of one identifier value: lets reports correlate a value without storing it."""
    return keyed_hash("value", entity_type, normalized_value, length=24)


def finding_fingerprint(rule_id: str, resource_uri: str, *discriminators: str) -> str:
    """Stable identity of a finding: rule + resource (+ entity type, grantee, ...), no line numbers."""
    return keyed_hash("finding/v1", rule_id, resource_uri, *discriminators)
