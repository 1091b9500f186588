#!/usr/bin/env bash
# The README's second command (and what .ci/run calls): set up if needed, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The browser test drives Debian's chromium (a test tool's own browser download cannot work
# here). Install what is missing when we are allowed to (root, as on CI), and stop if that fails:
# a green run must not hide tests that skipped for want of a package. Without root or apt-get
# the tests that need one skip, and pytest prints why (-rs).
# The IMAP tests run a real Dovecot, the DKIM tests a real NSD serving keys, the DuckLake catalog
# tests a real PostgreSQL (its own throw-away cluster, not Debian's), all on loopback (started
# and stopped by the tests themselves).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
[ -x /usr/sbin/nsd ] || missing+=(nsd)
# The posture tests sign a zone (ldns) and validate it with unbound, for a real DNSSEC AD bit.
[ -x /usr/sbin/unbound ] || missing+=(unbound)
command -v ldns-signzone >/dev/null 2>&1 || missing+=(ldnsutils)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# The lake on an s3:// data path is tested against a real S3 server, OpenStack Swift with its
# s3api middleware (tests/swift_server.py). Installed without recommends: those would add
# services the tests do not start.
lean=()
for program in swift-ring-builder swift-proxy-server swift-account-server swift-container-server swift-object-server memcached; do
    command -v "$program" >/dev/null 2>&1 || { lean=(swift swift-proxy swift-object swift-account swift-container memcached); break; }
done
if [ $((${#missing[@]} + ${#lean[@]})) -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages for the tests: ${missing[*]} ${lean[*]}..."
    # Keep Debian's post-install scripts from starting a system Dovecot (143/993), NSD or unbound
    # (53), PostgreSQL (5432), Swift (8080, 6200-6202) or memcached (11211).
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    installed=1
    apt-get update -qq >/dev/null || installed=""
    if [ -n "$installed" ] && [ ${#missing[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || installed=""
    fi
    if [ -n "$installed" ] && [ ${#lean[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null || installed=""
    fi
    [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
    if [ -z "$installed" ]; then
        echo "error: could not install ${missing[*]} ${lean[*]}, which the tests need" >&2
        exit 1
    fi
fi
# Two test processes (pytest-xdist): many tests wait on servers, subprocesses and the disk, so
# two of them at once keep both cores busy (the suite on 2 cores: 16 min alone, 12 min so).
exec .venv/bin/python -m pytest -q -rs -n 2 "$@"
