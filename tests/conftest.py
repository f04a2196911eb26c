"""Test-wide setup: a fixed fingerprint key so fingerprints are stable and no key file is written;
compiled-pattern caches go to a temporary directory, not the user's ~/.cache."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("PRIVAUDIT_FINGERPRINT_KEY", "privaudit-test-key")
if "PRIVAUDIT_CACHE_DIR" not in os.environ:
    os.environ["PRIVAUDIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="privaudit-test-cache-")
    atexit.register(shutil.rmtree, os.environ["PRIVAUDIT_CACHE_DIR"], ignore_errors=True)

pytest_plugins = ["tests.servers"]
