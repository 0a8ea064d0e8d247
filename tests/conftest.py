"""Shared fixtures: the engine is loaded once per test session (as in production)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.pg import serveur_pg, url_base  # noqa: F401  (fixtures partagées SQLite / PostgreSQL)
from triage_app.engine.evaluation import Moteur, moteur

RACINE = Path(__file__).resolve().parents[1]
# The structure's secret key for the whole test session (and the servers it starts): a fixed test value, so no
# key file is written into the clone's data/ (tests/test_cle.py checks the file's creation on its own).
os.environ.setdefault("TRIAGE_CLE_SECRETE", "7e" * 32)
# The project's own copy of the worked examples (the specification's, plus the project's own): the tests never
# read anything outside the repository (tests/test_reference_cases.py compares the copy with the upstream
# specification only when one happens to lie beside the clone).
CAS_REFERENCE = RACINE / "docs" / "exemples"


@pytest.fixture(scope="session")
def m() -> Moteur:
    """The process-wide engine over the project's protocols/."""
    return moteur()


def cas_base(protocole: str = "lombalgie_aigue", **modifs: Any) -> dict[str, Any]:
    """A complete, eligible, no-red-flag case for ``protocole`` (all safety answers « non »)."""
    base: dict[str, Any] = {
        "protocole": protocole,
        "date_consultation": "2026-03-10",
        "patient": {"date_naissance": "1979-09-09", "sexe": "F"},
        "cadre": {"structure": "msp", "protocole_autorise": True, "medecin_delegant_est_medecin_traitant": True,
                  "medecin_joignable": True, "departement": "38"},
        "consentement": {"protocole": True, "partage_dmp": True},
        "episode": {"date_debut": "2026-03-01", "prescription_medicale": False,
                    "diagnostic_medical_prealable": False, "seances_realisees_episode": 0,
                    "seances_12_mois": 0, "antecedent_lombalgie": True, "episodes_anterieurs_12_mois": 0},
        "reponses": {},
    }
    p = moteur().protocoles[protocole]
    for q in p.modele.questions:
        if q.requis == "toujours":
            base["reponses"][q.id] = q.id == "mecanisme_torsion"
    if p.modele.ottawa is not None:
        for z in p.modele.ottawa.zones:
            base["reponses"][z.douleur] = False
    for chemin, valeur in modifs.items():
        cible = base
        *parents, feuille = chemin.split("__")
        for part in parents:
            cible = cible[part]
        cible[feuille] = valeur
    return copy.deepcopy(base)


def cas_reference() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The worked examples of the specification: (name, case, expected subset)."""
    out = []
    for f in sorted(CAS_REFERENCE.glob("*.case.json")):
        nom = f.name.removesuffix(".case.json")
        attendu = json.loads((CAS_REFERENCE / f"{nom}.expected.json").read_text(encoding="utf-8"))
        out.append((nom, json.loads(f.read_text(encoding="utf-8")), attendu))
    return out


def sous_ensemble(attendu: Any, obtenu: Any, chemin: str = "") -> list[str]:
    """Differences where ``obtenu`` does not contain ``attendu`` (dicts by key, lists by position)."""
    if isinstance(attendu, dict):
        if not isinstance(obtenu, dict):
            return [f"{chemin or '.'} : attendu un objet, obtenu {obtenu!r}"]
        return [e for k, v in attendu.items() for e in sous_ensemble(v, obtenu.get(k, "<absent>"), f"{chemin}.{k}")]
    if isinstance(attendu, list):
        if not isinstance(obtenu, list) or len(obtenu) < len(attendu):
            return [f"{chemin} : attendu {attendu!r}, obtenu {obtenu!r}"]
        return [e for i, v in enumerate(attendu) for e in sous_ensemble(v, obtenu[i], f"{chemin}[{i}]")]
    if attendu != obtenu or (type(attendu) is not type(obtenu) and not (
            isinstance(attendu, (int, float)) and isinstance(obtenu, (int, float))
            and not isinstance(attendu, bool) and not isinstance(obtenu, bool))):
        return [f"{chemin} : attendu {attendu!r}, obtenu {obtenu!r}"]
    return []
