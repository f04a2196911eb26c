#!/usr/bin/env bash
# Install Debian's Chromium for the browser check of the auditor report
# (tests/reports/test_html_report.py renders the HTML report to a PNG with headless Chromium).
#
# Idempotent and fast: when Chromium and the CJK fonts are already installed it exits without touching apt, so
# `make system-deps` can call it on every run. Only Debian's own package is used (no snap, no
# downloaded browser builds); --no-install-recommends keeps it to the headless essentials plus
# the fonts package that gives Chinese glyphs (fonts-noto-cjk) so `--lang zh` reports render.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
PACKAGES=(chromium fonts-noto-cjk)

if [ -x "$CHROMIUM" ] && dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "ok installed"; then
    echo "install-chromium: $CHROMIUM and fonts-noto-cjk already installed"
    exit 0
fi

SUDO="$([ "$(id -u)" -eq 0 ] || echo sudo)"
if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
    echo "install-chromium: need root (or sudo) to install: ${PACKAGES[*]}" >&2
    exit 1
fi

echo "install-chromium: installing ${PACKAGES[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${PACKAGES[@]}"

if [ ! -x "$CHROMIUM" ]; then
    echo "install-chromium: installed, but $CHROMIUM is missing" >&2
    exit 1
fi
echo "install-chromium: done ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
