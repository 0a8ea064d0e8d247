#!/usr/bin/env bash
# System dependencies of the tests (run by scripts/test; idempotent, never prompts).
# PostgreSQL: the tests start their own throw-away cluster on 127.0.0.1 (tests/pg.py); they only need
# Debian's binaries under /usr/lib/postgresql/*/bin/. Debian's default cluster is neither used nor started here.
set -euo pipefail

postgres_present() {
    local f
    for f in /usr/lib/postgresql/*/bin/initdb; do
        [ -x "$f" ] && return 0
    done
    return 1
}

en_ci() {
    case "${CI:-}" in true | TRUE | True | 1 | yes) return 0 ;; *) return 1 ;; esac
}

# Already installed: nothing to do, no apt call (the usual case, kept instantaneous).
if postgres_present; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL (tests) : binaires absents de /usr/lib/postgresql/*/bin/ et pas de droits root pour l'installer." >&2
    echo "  → les tests PostgreSQL seront ignorés (hors CI). Pour les lancer : sudo apt-get install postgresql" >&2
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL (tests) : apt-get introuvable, installation automatique impossible (système non Debian ?)." >&2
    if en_ci; then exit 1; fi
    echo "  → les tests PostgreSQL seront ignorés." >&2
    exit 0
fi

echo "→ installation de PostgreSQL (tests)…"
journal="$(mktemp)"
trap 'rm -f "$journal"' EXIT
export DEBIAN_FRONTEND=noninteractive
# Lock timeout: on a freshly booted machine unattended-upgrades may still hold the dpkg lock.
# --force-confdef/--force-confold: never stop on a configuration-file question.
if ! { apt-get -o DPkg::Lock::Timeout=300 update -qq \
        && apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            install -y -qq --no-install-recommends postgresql; } </dev/null >"$journal" 2>&1; then
    echo "PostgreSQL (tests) : échec de l'installation par apt-get ; fin du journal :" >&2
    tail -n 30 "$journal" >&2
    if en_ci; then exit 1; fi
    echo "  → les tests PostgreSQL seront ignorés." >&2
    exit 0
fi

if ! postgres_present; then
    echo "PostgreSQL (tests) : paquet installé mais aucun initdb sous /usr/lib/postgresql/*/bin/." >&2
    if en_ci; then exit 1; fi
fi
exit 0
