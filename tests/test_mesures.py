"""The patient's measures (issue #30): the data file checked at load, the scoring and the reading of a change, the
service that records them (SQLite and PostgreSQL), the summary sheet that prints them, RGPD export and erasure."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pypdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests import ressources
from triage_app.domain import mesures as dm
from triage_app.engine.evaluation import charger_regles
from triage_app.errors import ErreurChargement, ErreurSaisie
from triage_app.export.episode import synthese_pdf, synthese_texte
from triage_app.loading.mesures import charger_mesures
from triage_app.loading.registry import DOSSIER_PROTOCOLES
from triage_app.services.application import Services
from triage_app.storage.tables import Episode, EvenementAudit, MesureTable

fermer_les_depots = ressources.fermer_les_depots
ACTEUR = "kine.mesures"
DEBUT, BILAN, REEVALUATION = date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 16)
PARAMS = charger_regles().mesures
assert PARAMS is not None
EIFEL, FAAM, DOULEUR, IMPRESSION = (PARAMS.mesure(i) for i in ("eifel", "faam_avq", "douleur_en",
                                                                 "impression_changement"))


def _eifel(oui: int) -> dict[str, int]:
    """EIFEL answers with ``oui`` items ticked (score ``oui``)."""
    return {f"eifel_{i}": int(i <= oui) for i in range(1, 25)}


# -- the data file ---------------------------------------------------------------------------------------------------
def test_chaque_mesure_a_sa_source_sa_cotation_et_sa_licence():
    sources = {s.id for s in PARAMS.sources}
    assert {m.id for m in PARAMS.mesures} == {"douleur_en", "eifel", "faam_avq", "impression_changement", "startback"}
    assert [m.id for m in PARAMS.suivies("lombalgie_aigue")] == ["douleur_en", "eifel", "impression_changement"]
    assert [m.id for m in PARAMS.suivies("entorse_cheville")] == ["douleur_en", "faam_avq", "impression_changement"]
    # STarT Back is the triage's own questions, declared by the patient for the kiné to confirm: not followed.
    startback = PARAMS.mesure("startback")
    regles = charger_regles()
    sbt = {q.id for q in regles.protocoles["lombalgie_aigue"].questions if q.groupe == "startback"}
    assert {it.question_du_triage for it in startback.tous_les_items()} == sbt
    assert startback.cotation.regle == "aucune" and dm.score(startback, {f"sbt_{i}": 1 for i in range(1, 10)}) is None
    for m in PARAMS.mesures:
        assert m.source in sources and m.licence.note
        if m.variation_minimale is not None:
            assert m.variation_minimale.source in sources
    assert (len(EIFEL.tous_les_items()), EIFEL.variation_minimale.valeur) == (24, 3)
    faam = (len(FAAM.tous_les_items()), FAAM.variation_minimale.valeur, FAAM.variation_minimale.genre)
    assert faam == (21, 7, "MDC95")
    assert DOULEUR.code.valeur == "72514-3" and DOULEUR.code.systeme == "loinc"
    assert [m.id for m in PARAMS.mesures if m.montree_au_triage] == ["douleur_en"]  # shown in the kiné's walk
    # Texts whose licence is not verified are not shipped: numbered items, no text anywhere.
    for m in (EIFEL, FAAM):
        assert not m.licence.textes_livres and all(it.libelle is None for it in m.tous_les_items())


@pytest.mark.parametrize("remplacer, chemin, message", [
    ("protocoles: [lombalgie_aigue]", "mesures[1].protocoles[0]", "protocole « genou » inconnu"),
    ("source: coste_1993_eifel", "mesures[1].source", "source « inventee » inconnu"),
    ("stable: [3, 4, 5]", "mesures[3].cotation.lecture_par_niveau", "chaque niveau de 1 à 7"),
    ("question_du_triage: sbt_3", "mesures[4].items[2].question_du_triage", "question « sbt_inconnue » absente"),
    ("[pas_du_tout, legerement,", "mesures[4].items[8].valeurs_du_triage[0]", "valeur « enormement » inconnu"),
    ("question_du_triage: sbt_4", "mesures[4].items[3].question_du_triage", "niveau « urgences »"),
])
def test_un_fichier_de_mesures_incoherent_est_refuse(tmp_path: Path, remplacer, chemin, message):
    texte = (DOSSIER_PROTOCOLES / "mesures.yaml").read_text(encoding="utf-8")
    remplacement = {"protocoles: [lombalgie_aigue]": "protocoles: [genou]",
                    "source: coste_1993_eifel": "source: inventee",
                    "stable: [3, 4, 5]": "stable: [3, 4]",
                    "question_du_triage: sbt_3": "question_du_triage: sbt_inconnue",
                    "[pas_du_tout, legerement,": "[enormement, legerement,",
                    # A red flag linked to the patient's questionnaire: refused (never answered by the patient alone).
                    "question_du_triage: sbt_4": "question_du_triage: rf_troubles_sphincteriens"}[remplacer]
    assert remplacer in texte
    fichier = tmp_path / "mesures.yaml"
    fichier.write_text(texte.replace(remplacer, remplacement, 1), encoding="utf-8")
    with pytest.raises(ErreurChargement) as err:
        charger_mesures(fichier, charger_regles().protocoles)
    assert any(p.chemin == chemin and message in p.message and p.ligne for p in err.value.problemes), err.value


def test_aucune_question_d_alerte_n_est_posee_au_patient_seul():
    """Exhaustive over the data: every triage question a patient's answer can fill is a score question (STarT Back),
    never a red flag, an eligibility or an Ottawa question, in every protocol the measure applies to."""
    regles = charger_regles()
    liees = [(pid, it.question_du_triage) for m in PARAMS.mesures for it in m.tous_les_items()
             if it.question_du_triage for pid in m.protocoles]
    assert liees
    for pid, qid in liees:
        q = next(q for q in regles.protocoles[pid].questions if q.id == qid)
        assert q.niveau == "score", (pid, qid, q.niveau)


def test_le_registre_charge_les_mesures_hors_empreinte_des_regles(tmp_path: Path):
    """The measures are not rules: a registry without the file has the same fingerprints."""
    copie = tmp_path / "protocols"
    shutil.copytree(DOSSIER_PROTOCOLES, copie)
    (copie / "mesures.yaml").unlink()
    sans = charger_regles(copie)
    assert sans.mesures is None and sans.empreintes == charger_regles().empreintes


# -- scoring and reading --------------------------------------------------------------------------------------------
def test_cotations():
    assert dm.score(EIFEL, _eifel(14)) == 14.0
    assert dm.score(EIFEL, {k: v for k, v in _eifel(14).items() if k != "eifel_24"}) is None  # partial: no score
    faam = {f"faam_{i}": 4 for i in range(1, 22)}
    assert dm.score(FAAM, faam) == 100.0
    faam.update({"faam_1": 2, "faam_2": None})  # « sans objet » leaves the item out of the percentage
    assert dm.score(FAAM, faam) == round(100 * (2 + 4 * 19) / (4 * 20), 1)
    assert dm.score(FAAM, {f"faam_{i}": None for i in range(1, 22)}) is None
    assert dm.score(DOULEUR, {"douleur": 7}) == 7.0
    assert [p.chemin for p in dm.problemes_reponses(EIFEL, {"eifel_1": 2, "eifel_99": 1, "eifel_2": True})] == [
        "eifel_1", "eifel_99", "eifel_2"]


@pytest.mark.parametrize("mesure, avant, apres, lecture", [
    (EIFEL, 14, 9, "amelioration"), (EIFEL, 14, 13, "stable"), (EIFEL, 14, 11, "amelioration"),
    (EIFEL, 9, 14, "aggravation"), (DOULEUR, 7, 5, "amelioration"), (DOULEUR, 7, 6, "stable"),
    (FAAM, 60.0, 67.0, "amelioration"), (FAAM, 60.0, 66.9, "stable"), (FAAM, 60.0, 50.0, "aggravation"),
])
def test_lecture_d_une_variation(mesure, avant, apres, lecture):
    assert dm.lire_variation(mesure, float(avant), float(apres)) == lecture


@pytest.mark.parametrize("niveau, lecture", [(1, "amelioration"), (2, "amelioration"), (3, "stable"), (5, "stable"),
                                             (6, "aggravation"), (7, "aggravation")])
def test_l_impression_globale_se_lit_par_son_niveau(niveau, lecture):
    assert dm.suivi(IMPRESSION, [("2026-03-16", "reevaluation", float(niveau))]).lecture == lecture


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([0, 1, 2, 3, 4, None]), min_size=21, max_size=21),
       st.lists(st.integers(0, 1), min_size=24, max_size=24))
def test_un_score_complet_reste_dans_son_etendue(faam, eifel):
    s_faam = dm.score(FAAM, {f"faam_{i + 1}": v for i, v in enumerate(faam)})
    assert s_faam is None if all(v is None for v in faam) else 0 <= s_faam <= 100
    assert dm.score(EIFEL, {f"eifel_{i + 1}": v for i, v in enumerate(eifel)}) == sum(eifel)


def test_evolution_proposee():
    assert dm.evolution_proposee([None, None]) is None
    assert dm.evolution_proposee(["stable", "amelioration", None]) == "amelioration"
    assert dm.evolution_proposee(["amelioration", "aggravation"]) == "aggravation"
    assert dm.evolution_proposee(["stable"]) == "stable"


# -- the service, on SQLite and PostgreSQL ---------------------------------------------------------------------------
def _episode(depot: Services) -> str:
    depot.structure.enregistrer_structure(nom="MSP des Tilleuls", type="msp", departement="38",
                                          protocoles_appliques=["lombalgie_aigue", "entorse_cheville"], acteur="coord")
    depot.comptes.creer_utilisateur(identifiant=ACTEUR, nom="Camille Kiné", role="kine",
                                    mot_de_passe="un-mot-de-passe-long", acteur="coord")
    pid = depot.patients.creer_patient(nom="Durand", prenom="Lou", date_naissance=date(1986, 6, 14), sexe="F",
                                       acteur=ACTEUR)
    return depot.episodes.creer_episode(patient_id=pid, protocole="lombalgie_aigue", date_debut=DEBUT, acteur=ACTEUR)


@pytest.mark.parametrize("apres, lecture, attendu", [
    (9, "amelioration", "amélioration cliniquement pertinente"),
    (13, "stable", "pas de changement notable"),
])
def test_eifel_du_bilan_a_la_reevaluation(url_base, apres, lecture, attendu):
    """The must-show: EIFEL 14 at the bilan and 9 (or 13) at the re-assessment; the summary sheet prints both scores,
    the change and its meaning; the re-assessment's evolution is proposed from it."""
    with Services(url_base, horloge=lambda: datetime(2026, 3, 16, 9, 0, tzinfo=UTC)) as depot:
        eid = _episode(depot)
        depot.mesures.enregistrer(episode_id=eid, mesure="eifel", moment="bilan", jour=BILAN, reponses=_eifel(14),
                                  declare_par="patient", acteur=ACTEUR)
        depot.mesures.enregistrer(episode_id=eid, mesure="eifel", moment="reevaluation", jour=REEVALUATION,
                                  reponses=_eifel(apres), declare_par="kine", acteur=ACTEUR)
        suivis = dict((m.id, s) for m, s in depot.mesures.suivis(eid))
        assert (suivis["eifel"].premier, suivis["eifel"].dernier, suivis["eifel"].variation) == (14, apres, apres - 14)
        assert suivis["eifel"].lecture == lecture
        assert suivis["douleur_en"].lecture is None  # not measured: nothing read, nothing stated
        assert depot.mesures.evolution_proposee(eid) == lecture
        dossier = depot.documents.dossier_episode(eid, REEVALUATION, acteur=ACTEUR)
        pdf = " ".join(" ".join((p.extract_text() or "").split())
                       for p in pypdf.PdfReader(io.BytesIO(synthese_pdf(dossier, depot.moteur))).pages)
        texte = synthese_texte(dossier, depot.moteur)
        assert depot.audit.verifier_audit().intact
    ligne = (f"14 (bilan initial, 02/03/2026) → {apres} (réévaluation, 16/03/2026) ; variation {apres - 14} : "
             f"{attendu}")
    assert ligne in " ".join(texte.split())
    assert "MESURES RAPPORTÉES PAR LE PATIENT" in texte and "déclaré par le patient" in texte
    assert "MESURES RAPPORTÉES PAR LE PATIENT" in pdf and "14 (bilan initial, 02/03/2026)" in pdf
    assert f"variation {apres - 14}" in pdf and attendu in pdf


def test_reponses_une_a_une_idempotentes_et_audit_sans_reponse(url_base):
    """Answers arrive one at a time (a dropped connection loses nothing), a repeated tap writes nothing, the score
    comes with the last item, and the audit names the measure and counts, never an answer nor a score."""
    with Services(url_base, horloge=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) as depot:
        eid = _episode(depot)
        mid = depot.mesures.enregistrer(episode_id=eid, mesure="eifel", moment="bilan", jour=BILAN,
                                        reponses={"eifel_1": 1}, declare_par="patient", acteur=ACTEUR)
        avant = depot.audit.verifier_audit().evenements
        assert depot.mesures.enregistrer(episode_id=eid, mesure="eifel", moment="bilan", jour=BILAN, mesure_id=mid,
                                         reponses={"eifel_1": 1}, declare_par="patient", acteur=ACTEUR) == mid
        assert depot.audit.verifier_audit().evenements == avant  # the same tap again: nothing written
        for i, v in list(_eifel(5).items())[1:]:
            depot.mesures.enregistrer(episode_id=eid, mesure="eifel", moment="bilan", jour=BILAN, mesure_id=mid,
                                      reponses={i: v}, declare_par="patient", acteur=ACTEUR)
            [m] = depot.mesures.mesures_episode(eid)
            assert (m.score is None) == (i != "eifel_24")
        assert m.score == 5.0 and m.manquants == () and m.declare_par == "patient"
        with pytest.raises(ErreurSaisie) as err:
            depot.mesures.enregistrer(episode_id=eid, mesure="faam_avq", moment="bilan", jour=BILAN,
                                      reponses={}, declare_par="patient", acteur=ACTEUR)
        assert err.value.problemes[0].chemin == "mesure"
        with pytest.raises(ErreurSaisie) as err:
            depot.mesures.enregistrer(episode_id=eid, mesure="douleur_en", moment="bilan", jour=date(2026, 3, 1),
                                      reponses={"douleur": 11}, declare_par="voisin", acteur=ACTEUR)
        assert [p.chemin for p in err.value.problemes] == ["declare_par"]
        with pytest.raises(ErreurSaisie) as err:
            depot.mesures.enregistrer(episode_id=eid, mesure="douleur_en", moment="bilan", jour=date(2026, 3, 1),
                                      reponses={"douleur": 11}, declare_par="kine", acteur=ACTEUR)
        assert sorted(p.chemin for p in err.value.problemes) == ["douleur", "jour"]
        with depot.uow.lecture() as s:
            details = [e.details for e in s.scalars(select(EvenementAudit).where(EvenementAudit.type == "mesure"))]
        assert len(details) == 24
        # (« lignes »: the keyed digests of the rows the write sealed, never their content)
        assert all(set(d) - {"lignes"} == {"episode", "mesure", "moment", "reponses", "items", "declare_par"}
                   for d in details)
        assert details[-1]["reponses"] == 24 and "score" not in str(details)
        assert depot.audit.verifier_audit().intact


def test_rgpd_export_et_effacement_couvrent_les_mesures(url_base):
    with Services(url_base, horloge=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) as depot:
        eid = _episode(depot)
        depot.mesures.enregistrer(episode_id=eid, mesure="douleur_en", moment="bilan", jour=BILAN,
                                  reponses={"douleur": 6}, declare_par="patient", acteur=ACTEUR)
        with depot.uow.lecture() as s:
            pid = s.get(Episode, eid).patient_id
        export = depot.rgpd.exporter_patient(pid, acteur="coord")
        [mesure] = export["episodes"][0]["mesures"]
        assert (mesure["mesure"], mesure["reponses"], mesure["score"], mesure["declare_par"]) == (
            "douleur_en", {"douleur": 6}, 6.0, "patient")
        depot.rgpd.effacer_patient(pid, acteur="coord")
        with depot.uow.lecture() as s:
            assert s.scalar(select(MesureTable.id)) is None
        rapport = depot.audit.verifier_audit()
        assert rapport.intact, rapport.premier_defaut


def test_le_compte_rendu_du_triage_imprime_les_mesures(tmp_path):
    """The triage's compte rendu for the médecin (PDF and text): each measure's first, latest, change and meaning."""
    from tests import test_page

    with Services(f"sqlite:///{tmp_path}/triage.sqlite") as depot:
        depot.structure.enregistrer_structure(nom="MSP des Tilleuls", type="msp", departement="38",
                                              protocoles_appliques=["lombalgie_aigue"], acteur="coord")
        tid, eid = test_page.creer_triage(depot)
        test_page.repondre_tout(depot, tid, "lombalgie_aigue")
        depot.triages.finaliser(tid, acteur=ACTEUR)
        jour = date.fromisoformat(depot.triages.charger(tid).cas["date_consultation"])
        for moment, oui in (("bilan", 14), ("reevaluation", 9)):
            depot.mesures.enregistrer(episode_id=eid, mesure="eifel", moment=moment, jour=jour, reponses=_eifel(oui),
                                      declare_par="patient", acteur=ACTEUR)
        depot.mesures.enregistrer(episode_id=eid, mesure="douleur_en", moment="bilan", jour=jour,
                                  reponses={"douleur": 6}, declare_par="kine", acteur=ACTEUR)
        genere = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
        pdf = depot.documents.exporter(tid, "pdf", genere_le=genere, acteur=ACTEUR)
        texte = depot.documents.exporter(tid, "txt", genere_le=genere, acteur=ACTEUR).decode("utf-8")
        fhir = json.loads(depot.documents.exporter(tid, "fhir", genere_le=genere, acteur=ACTEUR))
        assert fhir == json.loads(depot.documents.exporter(tid, "fhir", genere_le=genere, acteur=ACTEUR))
    pdf_texte = " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    attendu = "14 (bilan initial, {j}) → 9 (réévaluation, {j}) ; variation -5 : amélioration cliniquement pertinente"
    attendu = attendu.format(j=jour.strftime("%d/%m/%Y"))
    assert "Mesures rapportées par le patient" in texte and attendu in " ".join(texte.split())
    assert attendu in pdf_texte

    # FHIR: each measure's answers as a QuestionnaireResponse, its score as an Observation (LOINC for the pain).
    ressources = [e["resource"] for e in fhir["entry"]]
    observations = {o["code"]["coding"][0]["code"]: o for o in ressources if o["resourceType"] == "Observation"}
    assert observations["72514-3"]["code"]["coding"][0]["system"] == "http://loinc.org"
    assert observations["72514-3"]["valueQuantity"]["value"] == 6 and "performer" not in observations["72514-3"]
    assert observations["eifel-score"]["valueQuantity"]["value"] in (14, 9)
    assert observations["eifel-score"]["performer"][0]["reference"].startswith("urn:uuid:")
    reponses = [r for r in ressources
                if r["resourceType"] == "QuestionnaireResponse" and "mesure/" in r["questionnaire"]]
    assert len(reponses) == 3 and all(r["status"] == "completed" for r in reponses)
    assert sorted(len(r["item"]) for r in reponses) == [1, 24, 24]
