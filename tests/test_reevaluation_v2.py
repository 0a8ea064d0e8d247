"""``triage-app reevaluate`` on an older release's data: triages finalised with the rules v1, replayed with the current
rules (v3: v2's changes, and §9.4's 12-month bound in accès direct without a prior diagnosis).

The database is ``tests/fixtures/base_regles_v1.sql``, written by ``tests/fixtures/generer_base_v1.py`` run with
the v1 code (commit 02683d8): fictitious patients whose first name names the case. Every expected reason below
is derived from the specification's §8 (amendments v2) and §9 (v3), not from the engine's output.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import RACINE
from triage_app.cli import main
from triage_app.services import reevaluation as service

DUMP = RACINE / "tests" / "fixtures" / "base_regles_v1.sql"
V1, V2 = "2020-03-08+r1", "2020-03-08+r3"  # V2: the rules in force (v3 since issue 27)
RETIREE = "facturation.lignes : PC_CONSULTATION_2 retirée"

# First name of the fictitious patient → what v2 changes in that triage, in the order the reasons are given.
CHANGES: dict[str, list[str]] = {
    # §8.1: restantes = max(0, min(15 − r, 30 − s − r)) with r = 0: 29 → 1, 30 → 0, 28 → 2 (v1: 15).
    "Dap-Vingt-Neuf": ["seances.restantes : 15 → 1"],  # protocole
    "Dap-Trente-Prescription": ["seances.restantes : 15 → 0"],  # sur_prescription
    "Dap-Acces-Direct-Diagnostic": ["seances.restantes : 15 → 2"],  # accès direct with a prior diagnosis
    # §8.2: eligible, oriented elsewhere: PC_CONSULTATION_1 alone.
    "Urgence-Eligible": [RETIREE],  # urgences
    "Jour-Cheville": [RETIREE],  # medecin_jour
    "Amende-Fievre": [RETIREE],  # the current version of an amended triage (fever → medecin_jour)
    # §8.3 (and §8.2): the X-ray indication is named beside the sign that decided.
    "Ottawa-Urgence": [RETIREE, "motifs : + ottawa_positif"],
    "Ottawa-Doute": [RETIREE, "motifs : + ottawa_positif"],
    # §8.4: the structure applies the protocol, the patient is not eligible (absent in v1 = []).
    "Criteres-Age": ["criteres_non_remplis : + age_20_55"],
    "Criteres-Consentement": ["criteres_non_remplis : + consentement_protocole",
                              "criteres_non_remplis : + partage_dmp"],
    # §8.6: ankle, 65 or more.
    "Berne-Soixante-Dix": ["conseils_kine : + regles_de_berne"],
    # §9.4 (v3): the 12-month bound applies to accès direct without a prior diagnosis too: 29 sessions over 12
    # months, none in the series: min(8, 30 − 29 − 0) = 1 (v1 and v2: 8, the cap alone).
    "Acces-Direct-Sans-Diagnostic": ["seances.restantes : 8 → 1"],
}
# Unchanged by v2 and v3: the ankle (no 12-month bound), Ottawa outside
# the protocol (already a motif in v1), the default cover (same 60 %, patient share = amount − reimbursed share)
# for an adult and a minor, 64 years, a plain protocol triage.
INCHANGES = {"Protocole-Simple", "Cheville-Trente-et-Une", "Ottawa-Cabinet",
             "Regime-General", "Mineur", "Berne-Soixante-Quatre"}


@pytest.fixture(scope="module")
def base_v1(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, dict[str, str]]]:
    """The v1 dump loaded into a fresh SQLite file: its URL, and for each first name the triage ids by status."""
    fichier = tmp_path_factory.mktemp("base_v1") / "triage.sqlite"
    with sqlite3.connect(fichier) as connexion:
        connexion.executescript(DUMP.read_text(encoding="utf-8"))
        lignes = connexion.execute(
            "SELECT p.prenom, t.statut, t.id FROM triages t JOIN episodes e ON e.id = t.episode_id "
            "JOIN patients p ON p.id = e.patient_id").fetchall()
    connexion.close()
    triages: dict[str, dict[str, str]] = {}
    for prenom, statut, tid in lignes:
        triages.setdefault(prenom, {})[statut] = tid
    return f"sqlite:///{fichier}", triages


def _par_prenom(sortie: list[dict[str, Any]], triages: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    prenoms = {tid: prenom for prenom, ids in triages.items() for tid in ids.values()}
    return {prenoms[c["triage"]]: c for c in sortie}


def test_la_base_est_celle_des_regles_v1(base_v1):
    """The fixture was generated with the v1 code: every final triage carries the v1 protocol version."""
    _, triages = base_v1
    assert set(CHANGES) | INCHANGES | {"Brouillon"} == set(triages)
    assert set(CHANGES).isdisjoint(INCHANGES)
    texte = DUMP.read_text(encoding="utf-8")
    assert V1 in texte and V2 not in texte
    assert "Exemple-Fictif" in texte
    assert set(triages["Amende-Fievre"]) == {"final", "remplace"} and set(triages["Brouillon"]) == {"brouillon"}


def test_reevaluation_json_liste_exactement_les_changements_v2(base_v1, capsys):
    url, triages = base_v1
    assert main(["reevaluate", "--json", "--processus", "1", "--base", url]) == 0
    sortie = json.loads(capsys.readouterr().out)
    changes = _par_prenom(sortie, triages)
    assert set(changes) == set(CHANGES), "triages listés"
    for prenom, attendu in CHANGES.items():
        c = changes[prenom]
        assert c["pourquoi"] == attendu, prenom
        assert (c["version_avant"], c["version_apres"]) == (V1, V2), prenom
        assert c["triage"] == triages[prenom]["final"]
    listes = {c["triage"] for c in sortie}
    assert triages["Amende-Fievre"]["remplace"] not in listes  # a replaced version is not replayed
    assert triages["Brouillon"]["brouillon"] not in listes  # nor is a draft
    assert not listes & {triages[p]["final"] for p in INCHANGES}


def test_reevaluation_avant_apres_nomme_les_champs(base_v1, capsys):
    """The summaries behind the reasons: what v1 stored and what v2 gives, field by field."""
    url, triages = base_v1
    main(["reevaluate", "--json", "--processus", "1", "--base", url])
    changes = _par_prenom(json.loads(capsys.readouterr().out), triages)
    dap = changes["Dap-Trente-Prescription"]
    assert dap["avant"]["seances"] == {"autorisees": 15, "restantes": 15}
    assert dap["apres"]["seances"] == {"autorisees": 15, "restantes": 0}
    # Same lines and shares at 60 %: the patient share v1 implied (amount − reimbursed share) is v2's.
    assert dap["avant"]["parts"] == dap["apres"]["parts"] == [["BDK", 14.19, 9.46], ["RAM", 10.74, 7.16]]
    urgence = changes["Urgence-Eligible"]
    assert urgence["avant"]["lignes"] == [["PC_CONSULTATION_1", 25.0], ["PC_CONSULTATION_2", 20.0]]
    assert urgence["apres"]["lignes"] == [["PC_CONSULTATION_1", 25.0]]
    assert urgence["avant"]["orientation"] == urgence["apres"]["orientation"] == "urgences"
    ottawa = changes["Ottawa-Urgence"]
    assert (ottawa["avant"]["motifs"], ottawa["apres"]["motifs"]) == (["rf_deformation"],
                                                                      ["rf_deformation", "ottawa_positif"])
    consentement = changes["Criteres-Consentement"]
    assert consentement["avant"]["criteres_non_remplis"] == []
    assert consentement["apres"]["criteres_non_remplis"] == ["consentement_protocole", "partage_dmp"]


def test_reevaluation_en_sous_processus_et_en_texte(base_v1, capsys):
    url, triages = base_v1
    sortie = subprocess.run([sys.executable, "-m", "triage_app.cli", "reevaluate", "--json", "--base", url],
                            capture_output=True, text=True, check=False, cwd=RACINE)
    assert sortie.returncode == 0, sortie.stderr
    changes = _par_prenom(json.loads(sortie.stdout), triages)
    assert {p: c["pourquoi"] for p, c in changes.items()} == CHANGES
    assert main(["reevaluate", "--processus", "1", "--base", url]) == 0
    texte = capsys.readouterr().out
    assert f"{triages['Dap-Vingt-Neuf']['final']} (règles {V1} → {V2}) :\n  - seances.restantes : 15 → 1\n" in texte
    assert "  - motifs : + ottawa_positif\n" in texte
    assert texte.rstrip().endswith(f"{len(CHANGES)} triage(s) changerai(en)t avec les règles en vigueur.")
    assert "{" not in texte  # reasons, not raw dictionaries


def test_audit_verify_passe_sur_la_base_v1(base_v1, capsys):
    url, _ = base_v1
    assert main(["audit", "verify", "--base", url]) == 0
    assert "Journal d'audit intact" in capsys.readouterr().out
    sortie = subprocess.run([sys.executable, "-m", "triage_app.cli", "audit", "verify", "--base", url],
                            capture_output=True, text=True, check=False, cwd=RACINE)
    assert sortie.returncode == 0, sortie.stderr
    assert "intact" in sortie.stdout


# -- the reasons for fields the v1 data cannot show (a stored v1 case has no patient.couverture) ----------------
def _resultat(lignes: list[dict[str, Any]], **champs: Any) -> dict[str, Any]:
    return {"orientation": "sur_prescription", "motifs": [], "seances": {"autorisees": 15, "restantes": 15},
            "facturation": {"voie": "ngap_prescription", "lignes": lignes}, **champs}


def test_pourquoi_parts_par_ligne_et_lignes_ajoutees():
    """Alsace-Moselle instead of 60 %: each share named with its line, in euros with a decimal comma."""
    avant = _resultat([{"code": "RAM", "montant_eur": 17.9, "part_remboursee_eur": 10.74}])  # v1: no patient share
    apres = _resultat([{"code": "BDK", "montant_eur": 23.65, "part_remboursee_eur": 21.29, "part_patient_eur": 2.36},
                       {"code": "RAM", "montant_eur": 17.9, "part_remboursee_eur": 16.11, "part_patient_eur": 1.79}],
                      criteres_non_remplis=[], conseils_kine=[])
    a, b = service._resume(avant), service._resume(apres)
    assert service._differences(a, b) == ["facturation.lignes : BDK ajoutée",
                                          "facturation.lignes : RAM part_remboursee_eur 10,74 → 16,11",
                                          "facturation.lignes : RAM part_patient_eur 7,16 → 1,79"]


def test_pourquoi_orientation_voie_seances_et_motifs_retires():
    avant = _resultat([{"code": "RAM", "montant_eur": 16.58, "part_remboursee_eur": 9.95}],
                      motifs=[{"id": "ottawa_positif"}])
    apres = {"orientation": "medecin_programme", "motifs": [{"id": "plafond_acces_direct"}], "seances": None,
             "facturation": {"voie": "aucune", "lignes": []}, "criteres_non_remplis": [], "conseils_kine": []}
    assert service._differences(service._resume(avant), service._resume(apres)) == [
        "orientation : sur_prescription → medecin_programme", "facturation.voie : ngap_prescription → aucune",
        "facturation.lignes : RAM retirée", "motifs : + plafond_acces_direct", "motifs : - ottawa_positif",
        "seances.autorisees : 15 → —", "seances.restantes : 15 → —"]


def test_un_resultat_v1_sans_les_champs_v2_vaut_un_resultat_v2_vide():
    """Absent in a v1 result: criteres_non_remplis and conseils_kine are [], the patient share is implied."""
    v1 = _resultat([{"code": "RAM", "montant_eur": 17.9, "part_remboursee_eur": 10.74}])
    v2 = _resultat([{"code": "RAM", "montant_eur": 17.9, "part_remboursee_eur": 10.74, "part_patient_eur": 7.16}],
                   criteres_non_remplis=[], conseils_kine=[])
    assert service._resume(v1) == service._resume(v2)
    assert service._differences(service._resume(v1), service._resume(v2)) == []
