#!/usr/bin/env bash
# Audit of the Python packages installed in .venv against known vulnerabilities (pip-audit); run by
# scripts/test right after ruff.
#
# Exit status: 1 when pip-audit reports at least one known vulnerability (or cannot run at all: not
# installed, bad option); 0 otherwise. A package the vulnerability service does not know, an unreachable
# service or a time-out does NOT fail the run: the French summary says how many packages were audited, how
# many were not and why. With AUDIT_EXIGEANT=1 every package must have been audited (for a machine that
# reaches PyPI's JSON API or OSV directly).
#
# Settings (environment):
#   AUDIT_DELAI      overall time limit in seconds (default 240); pip-audit's own socket timeout is 15 s.
#   AUDIT_EXIGEANT   1: also fail when some packages could not be audited.
#   PIP_AUDIT        the pip-audit command (default: .venv/bin/python -m pip_audit); the tests use a fake one.
# Extra arguments are passed to pip-audit as they are, e.g.:
#   bash scripts/audit-dependances.sh --ignore-vuln PYSEC-2024-0 -s osv --osv-url http://127.0.0.1:8080/v1/query
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
delai="${AUDIT_DELAI:-240}"
read -r -a commande <<< "${PIP_AUDIT:-$PY -m pip_audit}"

rapport="$(mktemp)"
journal="$(mktemp)"
trap 'rm -f "$rapport" "$journal"' EXIT

echo "→ audit des dépendances (pip-audit)"
code=0
# --local: only this environment's packages; --skip-editable: the project itself (not a published package).
timeout --kill-after=10 "$delai" "${commande[@]}" --local --skip-editable --format json \
    --progress-spinner off --timeout 15 "$@" </dev/null >"$rapport" 2>"$journal" || code=$?

exec "$PY" - "$rapport" "$journal" "$code" "$delai" "${AUDIT_EXIGEANT:-0}" <<'PYTHON'
"""Reads pip-audit's JSON report and prints the French summary; the exit status is the script's."""

import json
import re
import sys
from collections import Counter

chemin_rapport, chemin_journal, code_texte, delai, exigeant_texte = sys.argv[1:6]
code = int(code_texte)
exigeant = exigeant_texte.strip() in ("1", "true", "oui", "yes")
with open(chemin_journal, encoding="utf-8", errors="replace") as f:
    journal = f.read()


def fin_du_journal() -> None:
    lignes = [ligne for ligne in journal.strip().splitlines() if ligne.strip()]
    if lignes:
        print("  fin du journal de pip-audit :", file=sys.stderr)
        for ligne in lignes[-6:]:
            print(f"    {ligne[:200]}", file=sys.stderr)


BANDEAU = "*** DÉPENDANCES NON AUDITÉES : aucune vulnérabilité n'a été cherchée sur ce poste ***"


def non_effectue(raison: str) -> None:
    print(BANDEAU)
    print(f"AVERTISSEMENT : audit des dépendances non effectué : {raison}.", file=sys.stderr)
    fin_du_journal()
    if exigeant:
        print("ÉCHEC : AUDIT_EXIGEANT=1 et aucune dépendance n'a pu être auditée.", file=sys.stderr)
        sys.exit(1)
    print("  → aucune vulnérabilité n'a été cherchée ; le reste des vérifications continue.", file=sys.stderr)
    sys.exit(0)


if code in (124, 137):
    non_effectue(f"interrompu après {delai} s (service de vulnérabilités trop lent ou injoignable)")
if code in (126, 127) or "No module named pip_audit" in journal:
    print("ÉCHEC : pip-audit est introuvable ; il fait partie des extras de test "
          "(source scripts/env.sh test).", file=sys.stderr)
    fin_du_journal()
    sys.exit(1)
try:
    with open(chemin_rapport, encoding="utf-8") as f:
        rapport = json.load(f)
    dependances = rapport["dependencies"]
except (OSError, ValueError, KeyError, TypeError):
    if code == 2 or "usage:" in journal:
        print("ÉCHEC : pip-audit a refusé ses arguments.", file=sys.stderr)
        fin_du_journal()
        sys.exit(1)
    if re.search(r"ConnectionError|NameResolution|Max retries|timed out|Could not connect", journal):
        non_effectue("service de vulnérabilités injoignable (réseau)")
    non_effectue(f"pip-audit n'a pas produit de rapport lisible (code {code})")

RAISONS = [
    ("Dependency not found on PyPI", "inconnus du service PyPI (paquet non publié, ou miroir qui ne sert pas "
                                     "l'API JSON de PyPI)"),
    ("distribution marked as editable", "installés en mode éditable (le projet lui-même)"),
    ("could not deduce package version", "version inconnue"),
]


def raison_francaise(texte: str) -> str:
    for motif, francais in RAISONS:
        if motif in texte:
            return francais
    return f"autre raison ({re.sub(r':.*', '', texte)[:80]})"


audites = [d for d in dependances if "vulns" in d]
ignores = [d for d in dependances if "vulns" not in d]
vulnerables = [d for d in audites if d["vulns"]]
editables = [d for d in ignores if "editable" in str(d.get("skip_reason", ""))]
non_audites = [d for d in ignores if d not in editables]
print(f"Audit des dépendances : {len(dependances)} paquet(s) : {len(audites)} audité(s), "
      f"{len(non_audites)} non audité(s), {len(editables)} ignoré(s) (mode éditable).")
for raison, nombre in Counter(raison_francaise(str(d.get("skip_reason", ""))) for d in non_audites).most_common():
    print(f"  - {nombre} non audité(s) : {raison}")
if non_audites and not audites:
    print(BANDEAU)
    print("  → aucun paquet n'a pu être comparé aux vulnérabilités connues sur ce poste : l'audit ne prouve rien ici "
          "(il échouera quand même sur toute vulnérabilité que le service signalera).")

if vulnerables:
    total = sum(len(d["vulns"]) for d in vulnerables)
    print(f"ÉCHEC : {total} vulnérabilité(s) connue(s) dans {len(vulnerables)} paquet(s) :", file=sys.stderr)
    for d in vulnerables:
        for v in d["vulns"]:
            alias = [a for a in v.get("aliases") or [] if a != v.get("id")]
            correctifs = ", ".join(v.get("fix_versions") or []) or "aucune version corrigée connue"
            print(f"  - {d['name']} {d.get('version', '?')} : {v.get('id', '?')}"
                  + (f" ({', '.join(alias)})" if alias else "") + f" ; corrigé dans : {correctifs}", file=sys.stderr)
    print("  → mettre à jour ces paquets (bornes de pyproject.toml), ou justifier une exception avec "
          "--ignore-vuln ID.", file=sys.stderr)
    sys.exit(1)
if code not in (0, 1):
    non_effectue(f"pip-audit s'est arrêté avec le code {code} après avoir écrit son rapport")
if exigeant and non_audites:
    print(f"ÉCHEC : AUDIT_EXIGEANT=1 et {len(non_audites)} paquet(s) non audité(s).", file=sys.stderr)
    sys.exit(1)
if not audites:  # nothing compared: say so plainly, never « no vulnerability among 0 »
    print(f"Audit non effectué : aucun des {len(dependances)} paquet(s) n'a pu être comparé aux vulnérabilités "
          "connues (voir les raisons ci-dessus) ; aucune vulnérabilité n'a été signalée, ce qui ne prouve rien.")
    sys.exit(0)
print(f"Aucune vulnérabilité connue parmi les {len(audites)} paquet(s) audité(s).")
sys.exit(0)
PYTHON
