"""Identities (issue #14): identifiers checked as typed, the INS status from what was checked, storage and audit."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import ressources
from triage_app import identifiants as idf
from triage_app.errors import ErreurSaisie
from triage_app.services.application import Services

fermer_les_depots = ressources.fermer_les_depots
ACTEUR = "kine.documents.identites"
NIR = "185057800608491"  # 1 85 05 78 006 084, key 91: a man born in May 1985
NIR_CORSE = "185052A00608435"
RPPS = "10001234565"


def test_cle_du_nir_et_corse():
    assert idf.ins(NIR) == NIR
    assert idf.ins("1 85 05 78 006 084 91") == NIR
    assert idf.ins(NIR_CORSE.lower()) == NIR_CORSE
    with pytest.raises(ValueError, match=r"clé incorrecte .attendue 91"):
        idf.ins(NIR[:-2] + "92")
    with pytest.raises(ValueError, match="15 caractères"):
        idf.ins("18505780060849")


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.sampled_from("12"))
def test_une_faute_de_frappe_sur_un_chiffre_est_vue(corps: str, premier: str):
    nir13 = premier + corps
    valide = nir13 + f"{idf.cle_nir(nir13):02d}"
    assert idf.ins(valide) == valide
    for i in range(13):
        for d in "0123456789":
            if d != valide[i] and (i or d in "1234"):
                faux = valide[:i] + d + valide[i + 1:]
                with pytest.raises(ValueError):
                    idf.ins(faux)


def test_le_nir_contredit_le_sexe_ou_la_naissance():
    assert idf.ins(NIR, sexe="M", date_naissance=date(1985, 5, 14)) == NIR
    with pytest.raises(ValueError, match="sexe"):
        idf.ins(NIR, sexe="F")
    with pytest.raises(ValueError, match="naissance en 05/85"):
        idf.ins(NIR, date_naissance=date(1986, 5, 14))


@pytest.mark.parametrize(("lire", "bon", "faux", "message"), [
    (idf.rpps, RPPS, "10001234566", "clé de contrôle"),
    (idf.rpps, "100 0123 4565", "1000123456", "11 chiffres"),
    (idf.siret, "73282932000074", "73282932000075", "clé de contrôle"),
    (idf.siret, "35600000000047", "35600000000048", "clé de contrôle"),  # La Poste: digits' sum a multiple of 5
    (idf.finess, "750001232", "750001233", "clé de contrôle"),
    (idf.adeli, "2A1234567", "2C1234567", "9 caractères"),
    (idf.telephone, "+33 6 12 34 56 78", "06 12 34 56", "10 chiffres"),
    (idf.code_lieu_naissance, "2A004", "2C004", "code INSEE"),
])
def test_identifiants_et_leurs_cles(lire, bon, faux, message):
    lire(bon)
    with pytest.raises(ValueError, match=message):
        lire(faux)


def test_adresse_mssante_et_noms():
    assert idf.mssante("Jean.Martin@Medecin.MSSante.fr", "mssante.fr") == "Jean.Martin@medecin.mssante.fr"
    with pytest.raises(ValueError, match="se termine par"):
        idf.mssante("jean.martin@gmail.com", "mssante.fr")
    with pytest.raises(ValueError, match="se termine par"):
        idf.mssante("jean@evilmssante.fr", "mssante.fr")
    assert idf.nom_strict("  Saint-Exupéry   d’Agay ") == "Saint-Exupéry d’Agay"
    for hostile in ("evil\u202e", "Ma\u200brtin", "Martin2", "<b>x</b>", "**x**"):
        with pytest.raises(ValueError):
            idf.nom_strict(hostile)


def test_qualifiee_seulement_avec_l_insi_et_la_piece():
    vus = {(insi, piece): idf.statut_identite(ins_present=True, recuperee_insi=insi, piece_verifiee=piece)
           for insi in (False, True) for piece in (False, True)}
    assert vus == {(False, False): "provisoire", (True, False): "recuperee", (False, True): "validee",
                   (True, True): "qualifiee"}
    assert idf.statut_identite(ins_present=False, recuperee_insi=True, piece_verifiee=True) == "validee"


# -- storage ---------------------------------------------------------------------------------------------------
@pytest.fixture
def depot(url_base):
    with Services(url_base) as d:
        yield d


def ressource_patient(depot: Services) -> str:
    return depot.patients.creer_patient(nom="Martin", prenom="Paul", date_naissance=date(1985, 5, 14), sexe="M",
                                        acteur=ACTEUR)


def test_identite_qualifiee_enregistree_auditee_sans_donnee(depot):
    pid = ressource_patient(depot)
    assert depot.patients.identite_patient(pid).statut == "provisoire"
    vue = depot.patients.renseigner_identite(pid, ins=NIR, recuperee_insi=True, piece_identite=None,
                                             nom_naissance="MARTIN",
                                             prenoms_naissance="Paul Jean", lieu_naissance="78646", acteur=ACTEUR)
    assert (vue.statut, vue.ins, vue.ins_oid, vue.qualifiee) == ("recuperee", NIR, "1.2.250.1.213.1.4.8", False)
    vue = depot.patients.renseigner_identite(pid, ins=NIR, recuperee_insi=True, piece_identite="cni",
                                             nom_naissance="MARTIN",
                                             prenoms_naissance="Paul Jean", lieu_naissance="78646", acteur=ACTEUR)
    assert (vue.statut, vue.qualifiee, vue.piece_verifiee_par, vue.premier_prenom) == (
        "qualifiee", True, ACTEUR, "Paul")
    assert vue.piece_verifiee_le == depot.uow.horloge().date()
    with depot.uow.bd.connect() as c:
        from sqlalchemy import text

        details = [r[0] for r in c.execute(text("SELECT details FROM evenements_audit WHERE type='identite_patient'"))]
    assert len(details) == 2 and all(NIR not in str(d) and "MARTIN" not in str(d) for d in details)
    assert depot.audit.verifier_audit().intact


def test_identite_refusee_en_francais_champ_par_champ(depot):
    pid = ressource_patient(depot)
    with pytest.raises(ErreurSaisie) as exc:
        depot.patients.renseigner_identite(pid, ins=NIR[:-2] + "00", recuperee_insi=True, piece_identite="cni",
                                           nom_naissance="", prenoms_naissance="Paul", lieu_naissance="2C004",
                                           acteur=ACTEUR)
    champs = {p.chemin: p.message for p in exc.value.problemes}
    assert set(champs) == {"ins", "nom_naissance", "lieu_naissance"}
    assert "clé incorrecte" in champs["ins"] and "pièce" in champs["nom_naissance"]
    assert depot.patients.identite_patient(pid).statut == "provisoire"  # nothing written
    with pytest.raises(ErreurSaisie, match="sexe"):
        depot.patients.renseigner_identite(pid, ins="285057800608441", recuperee_insi=False, piece_identite=None,
                                           nom_naissance=None, prenoms_naissance=None, lieu_naissance=None,
                                           acteur=ACTEUR)


def test_medecin_traitant_profil_et_structure(depot):
    pid = ressource_patient(depot)
    vue = depot.patients.renseigner_medecin_traitant(pid, nom="Dr Claire Durand", rpps=RPPS,
                                                     mssante="claire.durand@medecin.mssante.fr", acteur=ACTEUR)
    assert (vue.medecin_nom, vue.medecin_rpps) == ("Claire Durand", RPPS)
    with pytest.raises(ErreurSaisie) as exc:
        depot.patients.renseigner_medecin_traitant(pid, nom="Durand", rpps="10001234566", mssante="durand@gmail.com",
                                                   acteur=ACTEUR)
    assert {p.chemin for p in exc.value.problemes} == {"medecin_rpps", "medecin_mssante"}
    depot.comptes.creer_utilisateur(identifiant="claire.martin", nom="claire.martin", role="kine",
                                    mot_de_passe="mot de passe long", acteur=ACTEUR)
    with pytest.raises(ErreurSaisie, match=r"RPPS|rpps"):
        depot.comptes.modifier_profil(prenom="Claire", nom_famille="Martin", profession="kine", acteur="claire.martin")
    pro = depot.comptes.modifier_profil(prenom="Claire", nom_famille="Martin", profession="kine", rpps=RPPS,
                                        telephone="0612345678", acteur="claire.martin")
    assert (pro.nom, pro.rpps, pro.telephone) == ("Claire Martin", RPPS, "06 12 34 56 78")
    depot.structure.enregistrer_structure(nom="MSP des Tilleuls", type="msp", departement="78", protocoles_appliques=[],
                                          finess="750001232", mssante="secretariat@msp-tilleuls.mssante.fr",
                                          adresse="3 rue des Tilleuls\n78000 Versailles", acteur=ACTEUR)
    st = depot.structure.structure()
    assert (st.finess, st.mssante, st.adresse) == ("750001232", "secretariat@msp-tilleuls.mssante.fr",
                                                  "3 rue des Tilleuls\n78000 Versailles")
    with pytest.raises(ErreurSaisie, match="finess"):
        depot.structure.enregistrer_structure(nom="MSP", type="msp", departement="78", protocoles_appliques=[],
                                              finess="750001233", acteur=ACTEUR)


# -- in the summaries ------------------------------------------------------------------------------------------
def _triage_identifie(depot: Services, *, piece: str | None) -> str:
    from datetime import datetime

    from tests.conftest import cas_base

    depot.comptes.creer_utilisateur(identifiant="claire.martin", nom="claire.martin", role="kine",
                                    mot_de_passe="mot de passe long", acteur=ACTEUR)
    depot.comptes.modifier_profil(prenom="Claire", nom_famille="Martin", profession="kine", rpps=RPPS,
                                  telephone="0612345678", acteur="claire.martin")
    depot.structure.enregistrer_structure(nom="MSP des Tilleuls", type="msp", departement="78",
                                          protocoles_appliques=["lombalgie_aigue"], finess="750001232", acteur=ACTEUR)
    pid = ressource_patient(depot)
    depot.patients.renseigner_identite(pid, ins=NIR, recuperee_insi=True, piece_identite=piece, nom_naissance="MARTIN",
                                       prenoms_naissance="Paul Jean", lieu_naissance="78646", acteur="claire.martin")
    depot.patients.renseigner_medecin_traitant(pid, nom="Claire Durand", rpps="10007654329",
                                               mssante="claire.durand@medecin.mssante.fr", acteur="claire.martin")
    eid = depot.episodes.creer_episode(patient_id=pid, protocole="lombalgie_aigue", date_debut=date(2026, 3, 8),
                                       acteur="claire.martin")
    tid = depot.triages.creer_triage(episode_id=eid, date_consultation=date(2026, 3, 10), acteur="claire.martin")
    for q, v in cas_base("lombalgie_aigue")["reponses"].items():
        depot.triages.enregistrer_reponse(tid, q, v, acteur="claire.martin")
    depot.triages.finaliser(tid, acteur="claire.martin")
    assert datetime  # the summary's generation time is passed in by the caller
    return tid


@pytest.mark.parametrize(("piece", "ins_imprimee"), [("cni", True), (None, False)])
def test_le_compte_rendu_nomme_ins_destinataire_et_auteur(tmp_path, piece, ins_imprimee):
    import io
    from datetime import UTC, datetime

    from pypdf import PdfReader

    from triage_app.export.formats import exporter

    with Services(f"sqlite:///{tmp_path / 'b.sqlite'}") as depot:
        tid = _triage_identifie(depot, piece=piece)
        resume = depot.documents.resume(tid, genere_le=datetime(2026, 3, 10, 12, tzinfo=UTC))
        texte = exporter(resume, depot.moteur, "txt").decode()
        pdf = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(
            exporter(resume, depot.moteur, "pdf"))).pages).split()).replace("- ", "-")  # a line broken at « - »
    for sortie in (texte, " ".join(texte.split()), pdf):
        assert ("INS (NIR) 1850578006084 91" in sortie) is ins_imprimee
    for attendu in ("Dr Claire Durand, RPPS 10007654329", "Claire Martin, Masseur-kinésithérapeute, RPPS 10001234565",
                    "FINESS 750001232"):
        assert attendu in " ".join(texte.split()) and attendu in pdf, attendu
    assert "claire.martin" not in pdf.replace("claire.durand", "")  # signed with the real name, not the login
    assert ("Identité qualifiée" in pdf) is ins_imprimee


@pytest.mark.parametrize("piece", ["cni", None])
def test_document_fhir_composition_auteur_attestant_et_ins(tmp_path, piece):
    import json
    from datetime import UTC, datetime

    from fhir.resources.R4B.bundle import Bundle

    from triage_app.export.formats import exporter

    with Services(f"sqlite:///{tmp_path / 'b.sqlite'}") as depot:
        tid = _triage_identifie(depot, piece=piece)
        resume = depot.documents.resume(tid, genere_le=datetime(2026, 3, 10, 12, tzinfo=UTC))
        octets = exporter(resume, depot.moteur, "fhir-document")
        encore = exporter(depot.documents.resume(tid, genere_le=datetime(2026, 4, 1, tzinfo=UTC)), depot.moteur,
                          "fhir-document")
    assert octets == encore  # deterministic: the finalisation time, not the export time
    bundle = Bundle.model_validate_json(octets)
    assert bundle.type == "document" and bundle.timestamp is not None
    donnees = json.loads(octets)
    ressources_ = [e["resource"] for e in donnees["entry"]]
    urls = {e["fullUrl"]: e["resource"] for e in donnees["entry"]}
    composition = ressources_[0]
    assert composition["resourceType"] == "Composition" and composition["status"] == "final"
    assert composition["type"]["coding"][0]["code"] == "11488-4"
    auteur = urls[composition["author"][0]["reference"]]
    assert auteur["resourceType"] == "Practitioner"
    assert auteur["identifier"][0] | {"type": None} == {"use": "official", "type": None,
                                                        "system": "urn:oid:1.2.250.1.71.4.2.1",
                                                        "value": "8" + RPPS}
    assert auteur["name"][0]["family"] == "Martin"
    assert composition["attester"][0]["mode"] == "legal"
    assert composition["attester"][0]["party"]["reference"] == composition["author"][0]["reference"]
    assert urls[composition["custodian"]["reference"]]["identifier"][0]["value"] == "1750001232"
    patient = urls[composition["subject"]["reference"]]
    medecin = urls[patient["generalPractitioner"][0]["reference"]]
    assert medecin["identifier"][0]["value"] == "810007654329"
    if piece:
        (ins,) = patient["identifier"]
        assert (ins["system"], ins["value"]) == ("urn:oid:1.2.250.1.213.1.4.8", NIR)
        assert ins["type"]["coding"][0]["code"] == "INS-NIR"
    else:
        assert "identifier" not in patient  # an identity not qualified: its INS is never sent
    for r in ressources_[1:]:
        assert r["resourceType"] in {"Patient", "Practitioner", "Organization", "QuestionnaireResponse",
                                     "ClinicalImpression"}


def test_l_export_rgpd_contient_l_identite(depot):
    pid = ressource_patient(depot)
    depot.patients.renseigner_identite(pid, ins=NIR, recuperee_insi=True, piece_identite="cni", nom_naissance="MARTIN",
                                       prenoms_naissance="Paul Jean", lieu_naissance="78646", acteur=ACTEUR)
    depot.patients.renseigner_medecin_traitant(pid, nom="Claire Durand", rpps="10007654329", mssante=None,
                                               acteur=ACTEUR)
    donnees = depot.rgpd.exporter_patient(pid, acteur=ACTEUR)["patient"]
    assert (donnees["ins"], donnees["ins_insi"], donnees["piece_identite"], donnees["nom_naissance"]) == (
        NIR, True, "cni", "MARTIN")
    assert donnees["medecin_traitant"] == {"nom": "Claire Durand", "rpps": "10007654329", "mssante": None}


@pytest.mark.parametrize("invisible", ["\u202e", "\u2066", "\u200b", "\ufeff", "\u200f"])
def test_un_nom_avec_un_caractere_de_sens_d_ecriture_est_refuse(depot, invisible):
    """Issue #16: « evil » with a right-to-left override would print « live » in the PDF."""
    with pytest.raises(ErreurSaisie) as exc:
        depot.patients.creer_patient(nom=f"{invisible}live", prenom="Paul", date_naissance=date(1985, 5, 14),
                                     acteur=ACTEUR)
    assert exc.value.problemes[0].chemin == "nom" and "sens d’écriture" in exc.value.problemes[0].message
    with pytest.raises(ErreurSaisie):
        depot.comptes.creer_utilisateur(identifiant="x.y", nom=f"Nom{invisible}", role="kine",
                                        mot_de_passe="mot de passe long", acteur=ACTEUR)
