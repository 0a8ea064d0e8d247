# Sourced by scripts/start and scripts/test: the project's virtualenv in .venv, created and brought up to
# date from pyproject.toml when needed. Nothing to install by hand but Python >= 3.11.
#
# Usage: TRIAGE_EXTRAS="test" source scripts/env.sh   (the extras this script needs; none to serve the page)
# The caller's own arguments are never read here (a sourced file would otherwise see them as "$@").
#
# One stamp for the whole project (.venv/.installe): the pyproject.toml fingerprint and the extras installed
# with it. The environment is reinstalled only when pyproject.toml changes or an extra not yet installed is
# asked for (./scripts/test after ./scripts/start adds the test tools once; ./scripts/start after
# ./scripts/test installs nothing). Every message and pip's progress go to standard error: standard output
# belongs to the command that runs afterwards (./scripts/start evaluate CAS.json > resultat.json).
set -euo pipefail
PYTHON="${PYTHON:-python3}"
extras_demandes="${TRIAGE_EXTRAS:-}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "triage_app demande Python 3.11 ou plus récent (\$PYTHON=$PYTHON)." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "→ création de l'environnement Python (.venv)…" >&2
    "$PYTHON" -m venv .venv >&2
fi
empreinte="$(sha256sum < pyproject.toml | cut -c1-16)"
tampon="$(cat .venv/.installe 2>/dev/null || true)"
extras_installes="$(echo "$tampon" | cut -s -d' ' -f2-)"
manquant=0
[ "${tampon%% *}" = "$empreinte" ] || manquant=1
for extra in $extras_demandes; do
    case " $extras_installes " in *" $extra "*) ;; *) manquant=1 ;; esac
done
if [ "$manquant" -eq 1 ]; then
    # Keep the extras installed before (even with an older pyproject.toml), add what is asked now.
    extras="$(echo "$extras_installes $extras_demandes" | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')"
    extras="${extras% }"
    cible="."
    [ -z "$extras" ] || cible=".[${extras// /,}]"
    echo "→ installation des dépendances${extras:+ ($extras)} (première fois ou pyproject.toml modifié ;" \
         "environ 2 minutes la première fois)…" >&2
    .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off --upgrade pip >&2
    .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off -e "$cible" >&2
    echo "$empreinte${extras:+ $extras}" > .venv/.installe
    echo "→ dépendances installées." >&2
fi
