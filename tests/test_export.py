"""Export commands and the page's download buttons: the same export function behind both."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest  # noqa: TID251  (the page's own test harness)

from tests import ressources
from tests.conftest import CAS_REFERENCE, RACINE
from tests.connexion import connecte
from triage_app.cli import main
from triage_app.export.formats import FORMATS
from triage_app.services.application import Services

CAS = sorted(CAS_REFERENCE.glob("*.case.json"))
ACTEUR = "kine.test"
# Every Services a test opens (fixture, command line run in-process, page under AppTest) is closed at its end.
fermer_les_depots = ressources.fermer_les_depots


@pytest.fixture
def base(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/triage.sqlite"
    monkeypatch.setenv("TRIAGE_DATABASE_URL", url)
    depot = Services(url)
    depot.structure.enregistrer_structure(nom="MSP des Tilleuls", type="msp", departement="38",
                                          protocoles_appliques=["lombalgie_aigue", "entorse_cheville"], acteur="coord")
    pid = depot.patients.creer_patient(nom="Dupont-Lefèvre", prenom="Zoé", date_naissance=date(1979, 9, 9), sexe="F",
                                       acteur=ACTEUR)
    eid = depot.episodes.creer_episode(patient_id=pid, protocole="lombalgie_aigue", date_debut=date(2026, 3, 1),
                                       acteur=ACTEUR)
    tid = depot.triages.creer_triage(episode_id=eid, date_consultation=date(2026, 3, 10), acteur=ACTEUR)
    depot.triages.modifier_brouillon(tid, {"cadre.medecin_delegant_est_medecin_traitant": True,
                                           "cadre.medecin_joignable": True, "consentement.protocole": True,
                                           "consentement.partage_dmp": True}, acteur=ACTEUR)
    for q in depot.moteur.protocoles["lombalgie_aigue"].modele.questions:
        if q.requis == "toujours":
            depot.triages.enregistrer_reponse(tid, q.id, q.id == "rf_fievre", acteur=ACTEUR)
    depot.triages.finaliser(tid, acteur=ACTEUR, note="Revoir à J2 « si fièvre ≥ 38 » — l’avis du médecin.")
    yield url, depot, tid
    depot.fermer()


@pytest.mark.parametrize("cas", CAS, ids=lambda p: p.name.removesuffix(".case.json"))
def test_export_case_texte_de_chaque_exemple(cas, capsysbinary):
    from triage_app.engine.evaluation import moteur

    attendu = json.loads(cas.with_name(cas.name.replace(".case.", ".expected.")).read_text(encoding="utf-8"))
    assert main(["export-case", str(cas), "--format", "txt"]) == 0
    sortie = capsysbinary.readouterr().out.decode("utf-8")
    libelles = {o.id: o.libelle for o in moteur().registre.commun.orientations}
    assert f"ORIENTATION : {libelles[attendu['orientation']]}" in sortie
    for motif in moteur().evaluer(json.loads(cas.read_text(encoding="utf-8")))["motifs"]:
        assert motif["libelle"] in sortie


def test_export_d_un_triage_dans_chaque_format_est_journalise(base, tmp_path):
    url, depot, tid = base
    depot.comptes.creer_utilisateur(identifiant="medecin.test", nom="Médecin", role="medecin",
                                    mot_de_passe="un mot de passe long", acteur="test")
    avant = depot.audit.verifier_audit().evenements
    fichiers = {}
    for f in FORMATS:
        fichiers[f] = tmp_path / f"sortie_{f}"
        assert main(["export", tid, "--format", f, "--output", str(fichiers[f]), "--base", url,
                     "--acteur", "medecin.test"]) == 0
    assert fichiers["pdf"].read_bytes().startswith(b"%PDF") and fichiers["handout"].read_bytes().startswith(b"%PDF")
    paquet = json.loads(fichiers["fhir"].read_text(encoding="utf-8"))
    assert paquet["resourceType"] == "Bundle"
    (patient,) = [e["resource"] for e in paquet["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert patient["name"][0]["family"] == "Dupont-Lefèvre" and patient["name"][0]["given"] == ["Zoé"]
    texte = fichiers["txt"].read_text(encoding="utf-8")
    assert "Dupont-Lefèvre Zoé" in texte and "Médecin dans la journée" in texte and "≥ 38" in texte
    rapport = depot.audit.verifier_audit()
    assert rapport.intact and rapport.evenements == avant + len(FORMATS)
    with depot.uow.bd.connect() as c:
        lignes = c.execute(text("SELECT type, acteur, details FROM evenements_audit ORDER BY seq DESC LIMIT 4"))
        journal = [tuple(r) for r in lignes]
    assert {r[0] for r in journal} == {"export"} and {r[1] for r in journal} == {"medecin.test"}
    assert "Dupont" not in str(journal)


def test_export_vers_la_sortie_standard_et_triage_inconnu(base, capsysbinary):
    url, _, tid = base
    assert main(["export", tid, "--format", "txt", "--base", url]) == 0
    assert "Dupont-Lefèvre Zoé" in capsysbinary.readouterr().out.decode("utf-8")
    assert main(["export", "0" * 32, "--format", "pdf", "--base", url]) == 2
    assert "introuvable" in capsysbinary.readouterr().err.decode("utf-8")


def test_cas_invalide_en_export_case(tmp_path, capsysbinary):
    cas = json.loads(CAS[0].read_text(encoding="utf-8"))
    cas["reponses"]["rf_inconnue"] = True
    fichier = tmp_path / "cas.json"
    fichier.write_text(json.dumps(cas), encoding="utf-8")
    assert main(["export-case", str(fichier), "--format", "pdf"]) == 2
    assert "rf_inconnue" in capsysbinary.readouterr().err.decode("utf-8")


def test_questionnaire_fhir_en_ligne_de_commande(capsysbinary):
    assert main(["questionnaire", "entorse_cheville"]) == 0
    q = json.loads(capsysbinary.readouterr().out)
    assert q["resourceType"] == "Questionnaire" and q["version"]
    assert main(["questionnaire", "genou"]) == 2


def test_la_page_propose_les_telechargements_d_un_triage_finalise(base):
    _, depot, tid = base
    at = connecte(AppTest.from_file(str(RACINE / "triage_app" / "ui" / "app.py"), default_timeout=30))
    at.query_params["triage"] = tid
    at.run()
    assert not at.exception
    from tests.test_page import fichiers, ouvrir_volets

    # For the person who reads: the PDFs and the text; the structured formats once their section is opened.
    assert {k.removeprefix("telecharger_") for k in fichiers(at) if k.startswith("telecharger_")} == {
        f.id for f in FORMATS.values() if not f.logiciel} == {"pdf", "txt", "handout"}
    ouvrir_volets(at)
    boutons = {k: v for k, v in fichiers(at).items() if k.startswith("telecharger_")}
    assert sorted(b["libelle"] for b in boutons.values()) == sorted(f.libelle for f in FORMATS.values())
    assert not at.get("download_button")  # nothing served through /media
    for f in FORMATS.values():
        assert boutons[f"telecharger_{f.id}"]["contenu"] is None  # produced on the tap only
        assert boutons[f"telecharger_{f.id}"]["nom"].endswith(f.extension)
    # File names carry the protocol, date and opaque id, never the patient's name.
    from triage_app.export.formats import nom_export

    resume = depot.documents.resume(tid, genere_le=datetime(2026, 3, 10, 9, tzinfo=UTC))
    for f in FORMATS:
        nom = nom_export(resume, f)
        assert tid[:12] in nom and "Dupont" not in nom and "Zo" not in nom
        assert nom.startswith("triage_lombalgie_aigue_2026-03-10_")


@pytest.mark.parametrize("cas", CAS, ids=lambda p: p.name.removesuffix(".case.json"))
def test_export_case_pdf_et_fhir_valides_pour_chaque_exemple(cas, tmp_path):
    """Issue #5, « Must show »: each reference example gives a valid PDF and a FHIR bundle that validates."""
    from fhir.resources.R4B.bundle import Bundle
    from pypdf import PdfReader

    pdf, fhir = tmp_path / "resume.pdf", tmp_path / "paquet.json"
    assert main(["export-case", str(cas), "--format", "pdf", "--output", str(pdf)]) == 0
    assert main(["export-case", str(cas), "--format", "fhir", "--output", str(fhir)]) == 0
    lecteur = PdfReader(pdf)
    assert len(lecteur.pages) == 1 and "Compte rendu" in lecteur.pages[0].extract_text()
    paquet = Bundle.model_validate_json(fhir.read_text(encoding="utf-8"))
    assert sorted(e.resource.get_resource_type() for e in paquet.entry) == [
        "ClinicalImpression", "Patient", "QuestionnaireResponse"]


# -- rules v2 in the text summary: why not the protocol, who pays what, advice, the referral first -----------
def _texte_de(**modifs) -> tuple[str, object]:
    from tests.conftest import cas_base
    from triage_app.engine.evaluation import moteur
    from triage_app.export.resume import depuis_cas
    from triage_app.export.texte import texte

    protocole = modifs.pop("protocole", "lombalgie_aigue")
    resume = depuis_cas(moteur(), cas_base(protocole, **modifs), datetime(2026, 3, 10, 9, 45))
    return texte(resume), resume.carte


def test_texte_partage_dmp_refuse_dans_une_msp_qui_applique_le_protocole():
    sortie, c = _texte_de(consentement__partage_dmp=False)
    [critere] = c.criteres_non_remplis
    assert (f"Protocole non applicable : partage DMP non accepté (source : {critere.source_titre} ; à vérifier)"
            in sortie.splitlines())
    assert ("  - RAM Séance de rééducation, lombalgie commune : 17,90\u00a0€ (remboursé : 10,74\u00a0€ ; "
            "reste patient : 7,16\u00a0€)") in sortie.splitlines()
    assert "  Reste à la charge du patient (ou de sa complémentaire) : 16,62 € sur 41,55 €." in sortie.splitlines()
    lignes = sortie.splitlines()
    franchise = next(i for i, x in enumerate(lignes) if x.startswith("  Franchise médicale de 1,00 € par acte"))
    assert franchise > next(i for i, x in enumerate(lignes) if "Reste à la charge du patient" in x)


def test_texte_alsace_moselle_90_pour_cent():
    sortie, _ = _texte_de(cadre__structure="esp", cadre__protocole_autorise=False, cadre__departement="57",
                          patient__couverture="alsace_moselle")
    lignes = sortie.splitlines()
    assert "  Part remboursée par l'Assurance maladie : 90 % du tarif (Régime local d'Alsace-Moselle)." in lignes
    assert ("  - BDK Bilan diagnostic kinésithérapique (AMK 10,7) : 23,65\u00a0€ (remboursé : 21,29\u00a0€ ; "
            "reste patient : 2,36\u00a0€)") in lignes
    assert "  Reste à la charge du patient (ou de sa complémentaire) : 4,15 € sur 41,55 €." in lignes
    assert "Protocole non applicable" not in sortie


def test_texte_urgence_eligible_le_renvoi_d_abord_la_facturation_apres():
    sortie, c = _texte_de(protocole="entorse_cheville", reponses__rf_deformation=True)
    assert c.orientation == "urgences" and c.voie
    lignes = sortie.splitlines()
    renvoi = lignes.index("ORIENTATION : Urgences")
    assert lignes[renvoi + 1] == c.consigne
    questions = lignes.index("Questions posées :")
    detail = lignes.index("Facturation (détail) :")
    assert renvoi < questions < detail
    # No billing word between the referral and the answers; all of it after them.
    for mot in (c.voie, "PC_CONSULTATION_1", *c.remarques):
        assert not any(mot in x for x in lignes[:questions]), mot
        assert any(mot in x for x in lignes[detail:]), mot


def test_texte_conseil_regles_de_berne():
    sortie, c = _texte_de(protocole="entorse_cheville", patient__date_naissance="1950-01-01")
    [conseil] = c.conseils_kine
    assert f"Conseil au kinésithérapeute : {conseil.libelle} (source : {conseil.source_titre} ; à vérifier)" in sortie


def test_la_ligne_de_commande_offre_chaque_format():
    from triage_app.cli.base import FORMATS_EXPORT
    from triage_app.export.formats import FORMATS

    assert list(FORMATS_EXPORT) == list(FORMATS)
