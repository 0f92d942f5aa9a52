#!/usr/bin/env bash
# Installs everything Linli needs on this machine: Debian packages, the .venv with the
# project and its dev tools, and the front-end assets from npm. Idempotent; when nothing
# changed since the last run it only checks a stamp and returns in about a second.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

STAMP=.bootstrap.stamp
VENV=.venv
export DEBIAN_FRONTEND=noninteractive PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# Run a command quietly; on failure show its output and stop.
quietly() {
    local log
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        echo "bootstrap: failed: $*" >&2
        cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}

deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

find_python() {
    local candidate
    for candidate in python3.11 /usr/bin/python3.11 /usr/local/bin/python3.11; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

postgres_present() {
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null && command -v postgres >/dev/null; then
        return 0
    fi
    compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null
}

# --- (a) Debian packages -------------------------------------------------------------
missing=()
deb_installed chromium || missing+=(chromium)
deb_installed fonts-wqy-microhei || missing+=(fonts-wqy-microhei)
# WeasyPrint lays out the PDFs with Pango.
deb_installed libpango-1.0-0 || missing+=(libpango-1.0-0)
deb_installed libpangoft2-1.0-0 || missing+=(libpangoft2-1.0-0)
postgres_present || missing+=(postgresql)
command -v psql >/dev/null || deb_installed postgresql-client || missing+=(postgresql-client)
find_python >/dev/null || missing+=(python3.11 python3.11-venv)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v make >/dev/null || missing+=(make)

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "bootstrap: please install these Debian packages first (as root: apt-get install ${missing[*]})." >&2
        exit 1
    fi
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    quietly apt-get update -qq
    quietly apt-get install -y -qq "${missing[@]}"
fi

# --- fast path: nothing changed since the last run -----------------------------------
want=$(cat pyproject.toml package-lock.json scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)
if [[ -f $STAMP && $(cat "$STAMP") == "$want" && -x $VENV/bin/linli && -f node_modules/htmx.org/dist/htmx.min.js ]]; then
    exit 0
fi
rm -f "$STAMP"

# --- (b) Python venv with the project and its dev tools ------------------------------
if ! [[ -x $VENV/bin/python ]] \
    || ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    python=$(find_python)
    rm -rf "$VENV"
    quietly "$python" -m venv "$VENV"
fi
quietly "$VENV/bin/python" -m pip install -q -e '.[dev]'

# --- (c) front-end assets from npm (served from node_modules/htmx.org/dist) ----------
quietly npm ci --loglevel=error --no-audit --no-fund

echo "$want" >"$STAMP"
echo "bootstrap: done"
