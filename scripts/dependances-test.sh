#!/usr/bin/env bash
# System dependencies of the tests (run by scripts/test; idempotent, never prompts).
# PostgreSQL: the tests start their own throw-away cluster on 127.0.0.1 (tests/pg.py); they only need
# Debian's binaries under /usr/lib/postgresql/*/bin/. Debian's default cluster is neither used nor started here.
# Chromium: the browser tests (tests/test_navigateur.py) drive Debian's /usr/bin/chromium through Playwright
# (never « playwright install », whose downloads are not reachable everywhere); chromium-driver and a font
# package come with it so that pages render with real glyphs in the screenshots.
# OpenSSL: the HTTPS test (tests/test_serveur.py) makes a throw-away self-signed certificate with it.
# HAProxy: the multi-process deployment (deploy/plusieurs.py) is started behind it by tests/test_deploiement.py and
# bench/charge.py --proxy.
# Each dependency already present costs nothing (no apt call): the usual case stays instantaneous.
# Outside CI a failed installation only warns (the tests concerned are then skipped); in CI (CI=true) it fails.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

postgres_present() {
    local f
    for f in /usr/lib/postgresql/*/bin/initdb; do
        [ -x "$f" ] && return 0
    done
    return 1
}

chromium_present() {
    [ -x "$CHROMIUM" ]
}

openssl_present() {
    command -v openssl >/dev/null 2>&1
}

haproxy_present() {
    command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]
}

en_ci() {
    case "${CI:-}" in true | TRUE | True | 1 | yes) return 0 ;; *) return 1 ;; esac
}

# apt_installer NOM PAQUET… : installs Debian packages without any question; returns 1 (after printing the end
# of apt's log) on failure. The caller decides whether that is fatal (CI) or a warning.
apt_mis_a_jour=0
apt_installer() {
    local nom="$1"
    shift
    local journal
    journal="$(mktemp)"
    echo "→ installation de $nom (tests) : $*…"
    export DEBIAN_FRONTEND=noninteractive
    # Lock timeout: on a freshly booted machine unattended-upgrades may still hold the dpkg lock.
    # --force-confdef/--force-confold: never stop on a configuration-file question.
    if ! {
        { [ "$apt_mis_a_jour" -eq 1 ] || apt-get -o DPkg::Lock::Timeout=300 update -qq; } \
            && apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef \
                -o Dpkg::Options::=--force-confold install -y -qq --no-install-recommends "$@"
    } </dev/null >"$journal" 2>&1; then
        echo "$nom (tests) : échec de l'installation par apt-get ; fin du journal :" >&2
        tail -n 30 "$journal" >&2
        rm -f "$journal"
        return 1
    fi
    apt_mis_a_jour=1
    rm -f "$journal"
    return 0
}

# installer NOM TEST CONSEQUENCE PAQUET… : installs the packages unless TEST already succeeds.
# Returns 1 only when the failure must stop scripts/test (in CI).
installer() {
    local nom="$1" test="$2" consequence="$3"
    shift 3
    if "$test"; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "$nom (tests) : absent et pas de droits root pour l'installer (sudo apt-get install $*)." >&2
        if en_ci; then return 1; fi
        echo "  → $consequence." >&2
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$nom (tests) : apt-get introuvable, installation automatique impossible (système non Debian ?)." >&2
        if en_ci; then return 1; fi
        echo "  → $consequence." >&2
        return 0
    fi
    if ! apt_installer "$nom" "$@"; then
        if en_ci; then return 1; fi
        echo "  → $consequence." >&2
        return 0
    fi
    if ! "$test"; then
        echo "$nom (tests) : paquets installés mais toujours introuvable ($*)." >&2
        if en_ci; then return 1; fi
        echo "  → $consequence." >&2
    fi
    return 0
}

statut=0
installer "PostgreSQL" postgres_present "les tests PostgreSQL seront ignorés" \
    postgresql || statut=1
installer "Chromium" chromium_present "les tests navigateur seront ignorés" \
    chromium chromium-driver fonts-dejavu-core || statut=1
installer "OpenSSL" openssl_present "le test HTTPS échouera (certificat jetable)" \
    openssl || statut=1
installer "HAProxy" haproxy_present "le test du déploiement à plusieurs processus sera ignoré" \
    haproxy || statut=1
exit "$statut"
