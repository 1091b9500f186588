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
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages for the tests: ${missing[*]}..."
    # Keep Debian's post-install scripts from starting a system Dovecot (143/993), NSD or unbound
    # (53) or PostgreSQL (5432).
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    installed=1
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
        || installed=""
    [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
    if [ -z "$installed" ]; then
        echo "error: could not install ${missing[*]}, which the tests need" >&2
        exit 1
    fi
fi
exec .venv/bin/python -m pytest -q -rs "$@"
