"""Rooms of the package: streamlit only in ui/, nothing reads the clock in the decision code,
no clinical literal in Python (numbers of the rules live in protocols/)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import RACINE
from triage_app.schemas import textes_schemas

PAQUET = RACINE / "triage_app"


def _modules():
    return sorted(PAQUET.rglob("*.py"))


def _imports(chemin: Path) -> set[str]:
    arbre = ast.parse(chemin.read_text(encoding="utf-8"))
    noms: set[str] = set()
    for noeud in ast.walk(arbre):
        if isinstance(noeud, ast.Import):
            noms.update(a.name.split(".")[0] for a in noeud.names)
        elif isinstance(noeud, ast.ImportFrom) and noeud.module:
            noms.add(noeud.module.split(".")[0])
    return noms


def test_streamlit_seulement_dans_ui():
    fautifs = [p.relative_to(RACINE).as_posix() for p in _modules()
               if "streamlit" in _imports(p) and "ui" not in p.relative_to(PAQUET).parts]
    assert fautifs == []


def test_la_decision_ne_lit_jamais_l_horloge():
    horloge = re.compile(r"\b(date\.today|datetime\.now|datetime\.today|datetime\.utcnow|time\.time)\s*\(")
    for sous in ("domain", "engine", "models", "loading"):
        for p in (PAQUET / sous).rglob("*.py"):
            assert not horloge.search(p.read_text(encoding="utf-8")), p


def test_aucun_seuil_clinique_en_dur_dans_le_moteur():
    """No bare clinical numbers (ages, days, sessions, amounts) in the decision code."""
    suspects = re.compile(r"(?<![\w.])(?:10|18|20|28|55|56|60|65|70|15|16|8|2\.15|2\.21|7\.5|8\.1|10\.7|25)(?![\w.])")
    for sous in ("domain", "engine"):
        for p in (PAQUET / sous).rglob("*.py"):
            code = "\n".join(ligne.split("#")[0] for ligne in p.read_text(encoding="utf-8").splitlines()
                             if not ligne.strip().startswith(('"', "'")))
            trouves = [t for t in suspects.findall(code)]
            assert trouves == [], f"{p.name} : {trouves}"


def test_schemas_json_a_jour():
    dossier = RACINE / "protocols" / "schema"
    for nom, texte in textes_schemas().items():
        chemin = dossier / nom
        assert chemin.is_file(), f"schéma manquant : {nom} (triage-app schemas --ecrire)"
        assert chemin.read_text(encoding="utf-8") == texte, f"schéma périmé : {nom} (triage-app schemas --ecrire)"
