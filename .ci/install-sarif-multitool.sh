#!/usr/bin/env bash
# Install the Microsoft SARIF Multitool (npm package @microsoft/sarif-multitool) into
# <repo>/.tools/sarif-multitool, for tests/sarif_multitool.py.
#
# The npm package is a thin wrapper; the real tool is the self-contained .NET executable
# node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool that comes with the
# platform-specific optional dependency (Linux x86-64 only; no .NET runtime needed).
# Only the npm registry is used.
#
# Idempotent and fast: when the pinned version is already installed and runs, it exits
# at once without touching npm. A fresh install goes into a temporary directory that is
# moved into place only once the binary runs, so a half-finished install never counts.
#
# Env: SARIF_MULTITOOL_VERSION (default 5.7.0), SARIF_MULTITOOL_DIR (default
# <repo>/.tools/sarif-multitool).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${SARIF_MULTITOOL_VERSION:-5.7.0}"
DEST="${SARIF_MULTITOOL_DIR:-$REPO_ROOT/.tools/sarif-multitool}"
REL_BIN="node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"

log() { echo "install-sarif-multitool: $*"; }

installed_ok() {
    # $1: install dir. True when its binary runs and reports the pinned version.
    local bin="$1/$REL_BIN" out
    [ -x "$bin" ] || return 1
    # (--version prints to stderr)
    out="$(DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$bin" --version 2>&1 | head -n 1)" || return 1
    case "$out" in
        "SARIF Multitool $VERSION"|"SARIF Multitool $VERSION+"*) return 0 ;;
        *) return 1 ;;
    esac
}

if installed_ok "$DEST"; then
    log "SARIF Multitool $VERSION already installed in $DEST"
    exit 0
fi

if [ "$(uname -s)" != "Linux" ] || [ "$(uname -m)" != "x86_64" ]; then
    log "only Linux x86-64 is supported (this is $(uname -s) $(uname -m))" >&2
    exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
    log "npm is not installed (apt-get install nodejs npm, or any Node.js >= 18)" >&2
    exit 1
fi

mkdir -p "$(dirname "$DEST")"

# Serialise concurrent installs (e.g. several test processes finding the tool missing).
exec 9>"$DEST.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi
if installed_ok "$DEST"; then
    log "SARIF Multitool $VERSION installed by a concurrent run in $DEST"
    exit 0
fi

TMP="$(mktemp -d "$DEST.tmp.XXXXXX")"
chmod 755 "$TMP"
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT

log "installing @microsoft/sarif-multitool@$VERSION into $DEST"
start=$SECONDS
# --include=optional: the binary lives in the optional, platform-specific dependency.
# --ignore-scripts: its only install script is 'chmod u+x', done below (npm 11 may skip
# it anyway unless the package is on an allow-list).
npm install --prefix "$TMP" --no-audit --no-fund --no-save --include=optional --ignore-scripts \
    --loglevel=error "@microsoft/sarif-multitool@$VERSION"
chmod u+x "$TMP/$REL_BIN"

if ! installed_ok "$TMP"; then
    log "installed, but '$REL_BIN --version' does not report $VERSION:" >&2
    DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$TMP/$REL_BIN" --version >&2 || true
    exit 1
fi

rm -rf "$DEST"
mv "$TMP" "$DEST"
log "done in $((SECONDS - start)) s ($(du -sh "$DEST" | cut -f1))"
