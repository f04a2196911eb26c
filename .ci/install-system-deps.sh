#!/usr/bin/env bash
# Install the Debian packages that the test suite's real loopback servers need
# (see tests/servers.py): PostgreSQL 15 (+ contrib for pgcrypto), MariaDB server
# and client, OpenSSH server and client, Samba (smbd, smbpasswd, smbcacls;
# samba-vfs-modules for acl_xattr, which stores NT ACLs) and smbclient.
#
# Idempotent and fast: when every package is already installed (checked with
# `dpkg -s`), it exits without touching apt at all, so CI can call it on every run.
#
# The test suite starts its own throwaway server instances in temp dirs; the
# distribution's system services must NOT be started by the install. On machines
# without systemd/init (containers, VMs like this one) the maintainer scripts would
# otherwise try to start them and either fail or leave daemons on the default ports.
# We guard against that with a temporary /usr/sbin/policy-rc.d that returns 101
# ("action forbidden"), removed again afterwards if we created it.
set -euo pipefail

PACKAGES=(
    postgresql
    postgresql-contrib
    mariadb-server
    mariadb-client
    openssh-server
    openssh-client
    e2fsprogs
    samba
    samba-vfs-modules
    smbclient
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    # `dpkg -s` succeeds for removed-but-config-files packages too, so check the status line.
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-system-deps: all packages already installed (${PACKAGES[*]})"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-system-deps: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
fi

POLICY=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
    if [ "$created_policy" -eq 1 ]; then
        $SUDO rm -f "$POLICY"
    fi
}
trap cleanup EXIT

if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# temporary: written by privaudit .ci/install-system-deps.sh\nexit 101\n' \
        | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 0755 "$POLICY"
    created_policy=1
fi

echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}"

# Stop anything that slipped through anyway (e.g. a pre-existing policy-rc.d that
# allows starts), so no system daemon holds the default ports or data dirs. Only for
# packages installed by this run: a developer's own, already-running services are left alone.
declare -A SERVICE_OF=([postgresql]=postgresql [mariadb-server]=mariadb [openssh-server]=ssh [samba]=smbd)
if command -v service >/dev/null 2>&1; then
    for pkg in "${missing[@]}"; do
        svc="${SERVICE_OF[$pkg]:-}"
        if [ -n "$svc" ]; then
            $SUDO service "$svc" stop >/dev/null 2>&1 || true
        fi
    done
fi

echo "install-system-deps: done"
