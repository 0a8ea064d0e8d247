"""Rooms of the package: streamlit only in ui/, nothing reads the clock in the decision code,
no clinical literal in Python (numbers of the rules live in protocols/)."""

from __future__ import annotations

import ast
import re
import tokenize
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
    for sous in ("domain", "engine", "models", "loading", "export"):
        for p in (PAQUET / sous).rglob("*.py"):
            assert not horloge.search(p.read_text(encoding="utf-8")), p


def test_aucun_seuil_clinique_en_dur_dans_le_moteur():
    """No clinical or tariff number (ages, days, sessions, amounts) as a literal in the decision code."""
    suspects = {"8", "10", "11", "15", "16", "18", "20", "25", "28", "30", "31", "55", "56", "60", "65", "70",
                "2.15", "2.21", "2.36", "2.43", "7.5", "8.1", "8.4", "10.7"}
    for sous in ("domain", "engine"):
        for p in (PAQUET / sous).rglob("*.py"):
            with p.open("rb") as f:
                nombres = [t.string for t in tokenize.tokenize(f.readline) if t.type == tokenize.NUMBER]
            assert [n for n in nombres if n in suspects] == [], p.name


def test_schemas_json_a_jour():
    dossier = RACINE / "protocols" / "schema"
    for nom, texte in textes_schemas().items():
        chemin = dossier / nom
        assert chemin.is_file(), f"schéma manquant : {nom} (triage-app schemas --ecrire)"
        assert chemin.read_text(encoding="utf-8") == texte, f"schéma périmé : {nom} (triage-app schemas --ecrire)"


# The one place allowed to look beside the clone (and only when the folder exists): the comparison of the
# examples with the upstream specification.
_COMPARAISON_AMONT = {"tests/test_reference_cases.py"}
# Names of documents that are not in the repository, as a pointer to follow (docs/specification.md names the
# upstream documents on purpose, to say what citations of them mean).
_HORS_DEPOT = re.compile(r"\.\./shared|\"shared\"\s*/|DEVELOPERS\.md|case-format\.md")


def _fichiers_du_projet() -> list[Path]:
    exclus = {".git", ".venv", ".bench-cache", "data", "artefacts", "artifacts", "__pycache__", ".pytest_cache",
              ".ruff_cache", ".hypothesis", "build", "dist"}
    suffixes = {".py", ".sh", ".md", ".toml", ".yaml", ".yml", ".json", ".typ", ".cfg", ".txt", ""}
    return sorted(p for p in RACINE.rglob("*") if p.is_file() and p.suffix in suffixes
                  and not exclus.intersection(p.relative_to(RACINE).parts)
                  and not p.name.endswith(".egg-info") and ".egg-info" not in str(p))


def test_aucun_fichier_ne_renvoie_hors_du_depot():
    """No test, script or doc reads or points to a folder or document outside the repository."""
    moi = Path(__file__).resolve().relative_to(RACINE).as_posix()
    fautes = []
    for p in _fichiers_du_projet():
        nom = p.relative_to(RACINE).as_posix()
        if nom in _COMPARAISON_AMONT | {moi, "docs/specification.md"}:
            continue
        texte = p.read_text(encoding="utf-8", errors="replace")
        fautes += [f"{nom} : {m.group(0)}" for m in _HORS_DEPOT.finditer(texte)]
    assert len(_fichiers_du_projet()) > 50
    assert fautes == []
