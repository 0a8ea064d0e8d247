# Sourced by scripts/start and scripts/test: a project virtualenv in .venv, created and brought
# up to date from pyproject.toml when needed. Nothing to install by hand but Python >= 3.11.
set -euo pipefail
PYTHON="${PYTHON:-python3}"
EXTRAS="${1:-}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "triage_app demande Python 3.11 ou plus récent (\$PYTHON=$PYTHON)." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "→ création de l'environnement Python (.venv)…"
    "$PYTHON" -m venv .venv
fi
empreinte="$(cat pyproject.toml | sha256sum | cut -c1-16)${EXTRAS:+-$EXTRAS}"
if [ "$(cat .venv/.installe 2>/dev/null || true)" != "$empreinte" ]; then
    echo "→ installation des dépendances (première fois ou pyproject.toml modifié)…"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${EXTRAS:+[$EXTRAS]}"
    echo "$empreinte" > .venv/.installe
fi
