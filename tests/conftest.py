"""Test-wide setup: a fixed fingerprint key so fingerprints are stable and no key file is written."""

from __future__ import annotations

import os

os.environ.setdefault("PRIVSCAN_FINGERPRINT_KEY", "privscan-test-key")

pytest_plugins = ["tests.servers"]
