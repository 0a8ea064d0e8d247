"""The episode's documents from the stored records: the pre-filled DAP, the BDK summary sheet (PDF and text),
their file names and the ``triage-app episode`` command.

The store is SQLite in ``tmp_path``, filled through the service as the page does: a patient whose other
(closed) episode of the same protocol holds 28 sessions in the past 12 months, and a current episode with a
final triage oriented to the protocol and 2 sessions — the 12-month DAP threshold of the back (DAP from the
31st session over 12 months) is then reached.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pypdf
import pytest
from sqlalchemy import text

from tests import ressources
from triage_app.cli import main
from triage_app.errors import ErreurSaisie
from triage_app.export.episode import (
    dap_pdf,
    donnees_dap,
    donnees_synthese,
    nom_fichier_episode,
    nom_fichier_episode_de,
    synthese_pdf,
    synthese_texte,
)
from triage_app.services.application import Services

ACTEUR = "kine.test"
KINE = "Camille Œuvray"
NOM, PRENOM = "Dupont-Lefèvre", "Zoé"
PROTOCOLE = "lombalgie_aigue"
JOUR = date(2026, 3, 10)
TRIAGE = date(2026, 3, 2)
SEANCES = (date(2026, 3, 4), date(2026, 3, 6))  # from the day after next: the forfait day and the next take no NGAP act
ANCIENNES = 28
NOTE = "Lombalgie après déménagement ; revoir la marche « sans douleur » — #pas *de* balise"
EVENEMENT = "Malaise vagal à la 2e séance, résolu sans suite"

# Every Services a test opens (here or through the command line run in-process) is closed at its end.
fermer_les_depots = ressources.fermer_les_depots


def _depot(url: str) -> Services:
    return Services(url, horloge=lambda: datetime(2026, 3, 10, 9, 0, tzinfo=UTC))


def _url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/triage.sqlite"


def _triage_protocole(depot: Services, eid: str, jour: date) -> str:
    """A final triage oriented to the protocol (as ``bench/store.py`` builds it)."""
    tid = depot.triages.creer_triage(episode_id=eid, date_consultation=jour, acteur=ACTEUR)
    depot.triages.modifier_brouillon(tid, {"cadre.structure": "msp", "cadre.protocole_autorise": True,
                                           "cadre.medecin_delegant_est_medecin_traitant": True,
                                           "cadre.medecin_joignable": True, "consentement.protocole": True,
                                           "consentement.partage_dmp": True}, acteur=ACTEUR)
    modele = depot.moteur.protocoles[PROTOCOLE].modele
    depot.triages.completer_reponses(tid, {q.id: q.id == "mecanisme_torsion" for q in modele.questions
                                           if q.requis == "toujours"}, acteur=ACTEUR)
    assert depot.triages.finaliser(tid, acteur=ACTEUR, note=NOTE)["orientation"] == "protocole"
    return tid


def _remplir(depot: Services, *, prescription: bool = False, triage: bool = True) -> tuple[str, str, str]:
    """(patient, old closed episode with 28 sessions in the past 12 months, current episode with 2 sessions)."""
    depot.structure.enregistrer_structure(nom="MSP des Tilleuls", type="msp", departement="38",
                                          protocoles_appliques=["lombalgie_aigue", "entorse_cheville"], acteur="coord")
    depot.comptes.creer_utilisateur(identifiant=ACTEUR, nom=KINE, role="kine", mot_de_passe="un-mot-de-passe-long",
                                    acteur="coord")
    pid = depot.patients.creer_patient(nom=NOM, prenom=PRENOM, date_naissance=date(1979, 9, 9), sexe="F", acteur=ACTEUR)
    ancien = depot.episodes.creer_episode(patient_id=pid, protocole=PROTOCOLE, date_debut=date(2025, 5, 1),
                                          acteur=ACTEUR)
    for i in range(ANCIENNES):
        depot.episodes.enregistrer_seance(episode_id=ancien, jour=date(2025, 5, 2) + timedelta(days=2 * i),
                                          voie="ngap_prescription", acteur=ACTEUR)
    depot.episodes.cloturer_episode(ancien, motif="guerison", jour=date(2025, 7, 31), acteur=ACTEUR)
    eid = depot.episodes.creer_episode(patient_id=pid, protocole=PROTOCOLE, date_debut=date(2026, 3, 1),
                                       antecedent_lombalgie=True, prescription_medicale=prescription, acteur=ACTEUR)
    if triage:
        _triage_protocole(depot, eid, TRIAGE)
    for jour in SEANCES:
        depot.episodes.enregistrer_seance(episode_id=eid, jour=jour, voie=None if triage else "ngap_prescription",
                                          acteur=ACTEUR)
    return pid, ancien, eid


def _plat(texte: str) -> str:
    """Whitespace collapsed, typographic apostrophes straightened, words cut at a line end rejoined."""
    texte = re.sub(r"(?<=\w)-\n(?=\w)", "-", texte).replace("’", "'")
    return " ".join(texte.split())


def _texte_pdf(pdf: bytes) -> str:
    return _plat("\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages))


def _absents(attendus: list[str], texte: str) -> list[str]:
    return [a for a in attendus if _plat(a) not in texte]


def test_dap_au_seuil_des_12_mois(tmp_path):
    """The must-show: 28 sessions over 12 months on another closed episode + 2 in the series → DAP needed,
    and the pre-filled DAP says 28 over 12 months and 2 in the series."""
    with _depot(_url(tmp_path)) as depot:
        _, ancien, eid = _remplir(depot)
        etat = depot.episodes.etat_episode(eid, JOUR)
        assert (etat.seances_serie, etat.seances_12_mois, etat.seances_12_mois_calculees) == (2, ANCIENNES, ANCIENNES)
        assert etat.dap_necessaire is True and etat.restantes == 0
        dossier = depot.documents.dossier_episode(eid, JOUR, acteur=ACTEUR)
        m = depot.moteur
        pdf = dap_pdf(dossier, m)
    assert pdf.startswith(b"%PDF")
    assert dap_pdf(dossier, m) == pdf, "mêmes données, mêmes octets (aucune horloge lue)"
    texte = _texte_pdf(pdf)
    commun = m.registre.commun
    protocole = m.protocoles[PROTOCOLE].modele
    orientation = next(o for o in commun.orientations if o.id == "protocole")
    voie = next(v.libelle for v in commun.voies if v.id == "ngap_prescription")  # a protocol's sessions (rules v3)
    attendus = [
        "Demande d'accord préalable", "médecin conseil", "Brouillon pré-rempli", "Cerfa",
        "nous n'avons pas lu le formulaire officiel",
        "MSP des Tilleuls", KINE, NOM, PRENOM, "09/09/1979", commun.libelles.couvertures["regime_general"],
        f"Sans prescription médicale : le masseur-kinésithérapeute {KINE} ({orientation.libelle}",
        protocole.titre, "01/03/2026",
        "Séances de rééducation réalisées dans la série : 2",
        f"Séances des 12 derniers mois (autres épisodes du même motif) : {ANCIENNES} "
        f"(enregistrées dans le logiciel : {ANCIENNES})",
        f"Séances prévues par les règles pour la série : {etat.autorisees}, dont restantes sans accord préalable : 0",
        "Accord préalable nécessaire selon les règles enregistrées : oui",
        protocole.seuils["seuil_dap"].libelle, protocole.seuils["seuil_dap_12_mois"].libelle,
        m.registre.sources[protocole.seuils["seuil_dap_12_mois"].source].titre,
        "Nombre de séances demandées", "BDK joint", "bilan-diagnostic kinésithérapique", "Date",
        "Signature du masseur-kinésithérapeute",
        *(f"{j.strftime('%d/%m/%Y')} {commun.libelles.episode.actes['seance']} {voie}" for j in SEANCES),
    ]
    assert _absents(attendus, texte) == []
    # Only this episode's acts are listed (the old episode's sessions are a count, not a table).
    assert "02/05/2025" not in texte and ancien not in texte
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1


def test_dap_sur_prescription_sans_triage(tmp_path):
    """A prescription: the prescriber is left to fill in; without a final triage the rules' allowance is unknown."""
    with _depot(_url(tmp_path)) as depot:
        _, _, eid = _remplir(depot, prescription=True, triage=False)
        dossier = depot.documents.dossier_episode(eid, JOUR, acteur=ACTEUR)
        donnees = donnees_dap(dossier, depot.moteur)
        texte = _texte_pdf(dap_pdf(dossier, depot.moteur))
        synthese = _texte_pdf(synthese_pdf(dossier, depot.moteur))
        brut = synthese_texte(dossier, depot.moteur)
    assert donnees["seances"]["autorisees"] is None and donnees["seances"]["dap_necessaire"] is False
    assert _absents(["Prescription médicale (médecin prescripteur : à compléter)",
                     "Séances de rééducation réalisées dans la série : 2",
                     f"Séances des 12 derniers mois (autres épisodes du même motif) : {ANCIENNES}",
                     "non déterminé (aucun triage finalisé)",
                     "Accord préalable nécessaire selon les règles enregistrées : non"], texte) == []
    # The summary sheet without a final triage nor a protocol consultation.
    assert _absents(["TRIAGES FINALISÉS Aucun.", "Accès sur prescription médicale",
                     "sans objet (pas de consultation initiale de protocole)"], synthese) == []
    assert _absents(["TRIAGES FINALISÉS Aucun", "Accès : sur prescription médicale"], _plat(brut)) == []


def test_dap_avec_historique_declare(tmp_path):
    """Sessions done elsewhere, declared by the kiné: the count in force, the records' count and the reason."""
    motif = "Séances faites dans un autre cabinet (courrier du confrère)"
    with _depot(_url(tmp_path)) as depot:
        _, _, eid = _remplir(depot)
        depot.episodes.declarer_historique(eid, seances_12_mois=ANCIENNES + 2, episodes_12_mois=1, motif=motif,
                                           jour=JOUR,
                                           acteur=ACTEUR)
        dossier = depot.documents.dossier_episode(eid, JOUR, acteur=ACTEUR)
        texte = _texte_pdf(dap_pdf(dossier, depot.moteur))
        synthese = synthese_texte(dossier, depot.moteur)
    attendu = (f"{ANCIENNES + 2} (enregistrées dans le logiciel : {ANCIENNES} ; nombre déclaré par le "
               f"kinésithérapeute, motif : {motif} ; dernière séance déclarée le {JOUR.strftime('%d/%m/%Y')})")
    assert _absents([f"Séances des 12 derniers mois (autres épisodes du même motif) : {attendu}"], texte) == []
    assert attendu in synthese


def _episode_clos(depot: Services) -> str:
    """The current episode, re-assessed (the médecin takes over: the episode closes), with its outcome."""
    _, _, eid = _remplir(depot)
    etat = depot.episodes.etat_episode(eid, JOUR)
    depot.episodes.enregistrer_seance(episode_id=eid, jour=etat.reevaluation_du, acte="consultation_protocole_2",
                                      evolution="stable", suite="medecin", acteur=ACTEUR)
    depot.episodes.renseigner_issue(eid, repris_par="delegant", evenement_indesirable=True, evenement_texte=EVENEMENT,
                                    acteur=ACTEUR)
    return eid


def _faits(donnees: dict) -> list[str]:
    """Every fact the summary sheet's data holds, as printed (a field's name and its value apart: the PDF lays
    them out in two columns)."""
    faits = [donnees["titre"], donnees["destinataire"], donnees["jour"], donnees["kine"], donnees["regle"],
             donnees["source"], *(t.upper() for t in (donnees["titres"]["triages"], donnees["titres"]["actes"],
                                                      donnees["titres"]["clinique"]))]
    faits += [s["titre"].upper() for s in donnees["sections"]]
    faits += [x for s in (*donnees["sections"], *donnees["triages"]) for c in s["champs"]
              for x in (c["nom"], c["valeur"])]
    faits += [t["titre"] for t in donnees["triages"]]
    faits += [x for a in donnees["actes"] for x in (a["date"], a["acte"], a["voie"], a["issue"]) if x]
    return faits + [x for r in donnees["clinique"] for x in (r["rubrique"], r["texte"]) if x]


def _champs(donnees: dict) -> list[str]:
    """Every field of the sheet as the text prints it: « name : value »."""
    return [f"{c['nom']} : {c['valeur']}" for s in (*donnees["sections"], *donnees["triages"]) for c in s["champs"]]


def test_synthese_apres_cloture_pdf_et_texte_disent_les_memes_faits(tmp_path):
    with _depot(_url(tmp_path)) as depot:
        eid = _episode_clos(depot)
        jour = JOUR + timedelta(days=20)
        dossier = depot.documents.dossier_episode(eid, jour, acteur=ACTEUR)
        m = depot.moteur
        donnees = donnees_synthese(dossier, m)
        pdf = synthese_pdf(dossier, m)
        brut = synthese_texte(dossier, m)
    etat = dossier.etat
    assert etat.statut == "clos" and etat.motif_cloture == "reprise_medecin"
    assert pdf.startswith(b"%PDF")
    texte_pdf, texte = _texte_pdf(pdf), _plat(brut)
    commun = m.registre.commun
    lib = commun.libelles.episode
    regle = commun.suivi_episode
    attendus = [
        f"Nom : {NOM} {PRENOM}", "09/09/1979", KINE, "MSP des Tilleuls", m.protocoles[PROTOCOLE].modele.titre,
        "01/03/2026", f"clos le {etat.reevaluation_du.strftime('%d/%m/%Y')} — {lib.motifs_cloture['reprise_medecin']}",
        lib.repris_par["delegant"], f"{commun.libelles.reponses['oui']} : {EVENEMENT}",
        "Séances de rééducation de la série : 2", f"{ANCIENNES} (enregistrées dans le logiciel : {ANCIENNES})",
        f"{regle.seuil_fiche_synthese} séances — non atteint (2 réalisée(s))",
        f"du {etat.reevaluation_du.strftime('%d/%m/%Y')} au {etat.reevaluation_au.strftime('%d/%m/%Y')}",
        lib.revue["faite"], lib.evolutions["stable"], lib.suites["medecin"],
        lib.actes["consultation_protocole_2"], *(j.strftime("%d/%m/%Y") for j in SEANCES),
        f"Triage du {TRIAGE.strftime('%d/%m/%Y')} (version 1)",
        next(o.libelle for o in commun.orientations if o.id == "protocole"), commun.libelles.classe_duree["aigue"],
        dossier.triages[0].version_protocole, NOTE, m.registre.sources[regle.source].titre,
        f"au moins {regle.seuil_fiche_synthese} séances", "SYNTHÈSE CLINIQUE (À COMPLÉTER PAR LE KINÉSITHÉRAPEUTE)",
    ]
    assert dossier.triages[0].version_protocole
    assert _absents(attendus, texte) == [], "texte"
    assert _absents([a.replace(" : ", " ", 1) if a.startswith(("Nom :", "Séances de")) else a for a in attendus],
                    texte_pdf) == [], "PDF"
    # Same facts in both: every value of the shared data is in the text and in the PDF.
    faits = _faits(donnees)
    assert _absents(faits, texte) == []
    assert _absents(faits, texte_pdf) == []
    assert _absents(_champs(donnees), texte) == []
    assert "none" not in texte_pdf.lower().split() and "None" not in brut


def test_synthese_d_un_episode_ouvert_sans_issue(tmp_path):
    with _depot(_url(tmp_path)) as depot:
        _, _, eid = _remplir(depot)
        dossier = depot.documents.dossier_episode(eid, JOUR, acteur=ACTEUR)
        brut = synthese_texte(dossier, depot.moteur)
        texte_pdf = _texte_pdf(synthese_pdf(dossier, depot.moteur))
    lib = depot.moteur.registre.commun.libelles.episode
    attendus = ["Statut : en cours (épisode ouvert)", "Événement indésirable : non renseigné",
                "Réévaluation faite le : non faite", f"État : {lib.revue['a_venir']}"]
    assert _absents(attendus, _plat(brut)) == []
    assert _absents([a.replace(" : ", " ") for a in attendus], texte_pdf) == []


def test_noms_de_fichier_sans_le_patient(tmp_path):
    with _depot(_url(tmp_path)) as depot:
        _, _, eid = _remplir(depot)
        dossier = depot.documents.dossier_episode(eid, JOUR, acteur=ACTEUR)
    noms = [nom_fichier_episode(dossier, "dap", "pdf"), nom_fichier_episode(dossier, "synthese", "pdf"),
            nom_fichier_episode(dossier, "synthese", "txt")]
    assert noms == [f"dap-2026-03-10-{eid[:8]}.pdf", f"synthese-2026-03-10-{eid[:8]}.pdf",
                    f"synthese-2026-03-10-{eid[:8]}.txt"]
    for nom in noms:
        assert re.fullmatch(r"[a-z]+-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}\.[a-z]+", nom)
        assert not {"dupont", "lefèvre", "lefevre", "zoé", "zoe"} & set(re.split(r"[-.]", nom.lower()))
    assert nom_fichier_episode(dossier, "dap", "../pdf") == f"dap-2026-03-10-{eid[:8]}.pdf"
    assert nom_fichier_episode_de("synthese", JOUR, "../" + eid, "txt") == f"synthese-2026-03-10-{eid[:8]}.txt"
    with pytest.raises(ValueError):
        nom_fichier_episode(dossier, "autre", "pdf")  # type: ignore[arg-type]


def test_commande_episode(tmp_path, capsysbinary):
    url = _url(tmp_path)
    with _depot(url) as depot:
        _, _, eid = _remplir(depot)
        avant = depot.audit.verifier_audit().evenements
    sortie = tmp_path / "dap.pdf"
    assert main(["episode", eid, "--format", "dap", "--sortie", str(sortie), "--base", url, "--jour", "2026-03-10",
                 "--acteur", ACTEUR]) == 0
    pdf = sortie.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert _absents([NOM, KINE, f"12 derniers mois (autres épisodes du même motif) : {ANCIENNES}",
                     "réalisées dans la série : 2"], _texte_pdf(pdf)) == []
    assert main(["episode", eid, "--format", "synthese-txt", "--base", url, "--jour", "2026-03-10",
                 "--acteur", ACTEUR]) == 0
    texte = capsysbinary.readouterr().out.decode("utf-8")
    assert texte.startswith("Fiche de synthèse du bilan-diagnostic kinésithérapique")
    assert f"{NOM} {PRENOM}" in texte and "Séances de rééducation de la série : 2" in texte
    assert main(["episode", eid, "--format", "synthese", "--base", url, "--jour", "2026-03-10"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"%PDF")
    # Each document: the read of the records and the export, audited with ids only.
    with _depot(url) as depot:
        rapport = depot.audit.verifier_audit()
        with depot.uow.bd.connect() as c:
            journal = [tuple(r) for r in c.execute(text(
                "SELECT type, acteur, details FROM evenements_audit WHERE seq > :avant ORDER BY seq"),
                {"avant": avant})]
    assert rapport.intact
    assert [r[0] for r in journal] == ["consultation_episode", "export_episode"] * 3
    assert NOM not in str(journal) and PRENOM not in str(journal)
    # Unknown episode, bad date: French errors, exit status 2.
    assert main(["episode", "0" * 32, "--format", "dap", "--base", url, "--jour", "2026-03-10"]) == 2
    assert "introuvable" in capsysbinary.readouterr().err.decode("utf-8")
    with pytest.raises(SystemExit):
        main(["episode", eid, "--format", "dap", "--base", url, "--jour", "10/03/2026"])
    assert "AAAA-MM-JJ" in capsysbinary.readouterr().err.decode("utf-8")


TEXTES_KINE = {
    "bilan": "Douleur lombaire basse EN 6/10, Schober 12/10, flexion limitée.",
    "traitement": "Dix séances : éducation, mobilisation, renforcement des extenseurs, marche.",
    "resultats": "EN 2/10 à la dixième séance, reprise du travail à mi-temps.",
    "conseils": "Poursuivre la marche quotidienne ; revoir le médecin si la douleur revient.",
}


def test_la_fiche_de_synthese_imprime_les_textes_du_kine(tmp_path):
    """Issue #29: after 10 sessions, the kiné's bilan, treatment, results and advice (saved on the episode as typed,
    audited by length only) are printed in the summary sheet, PDF and text, and in the DAP; the sheet's pages rendered
    to PNG in artefacts/pdf/ for a look by eye. An unchanged text writes nothing; an unknown heading or a text over
    its limit is refused."""
    import pypdfium2 as pdfium

    from tests.test_export_pdf import ARTEFACTS

    with _depot(_url(tmp_path)) as depot:
        _, _, eid = _remplir(depot)
        for k in range(8):  # 2 sessions already: 10 in all
            depot.episodes.enregistrer_seance(episode_id=eid, jour=SEANCES[-1] + timedelta(days=2 + k), acteur=ACTEUR)
        for rubrique, texte in TEXTES_KINE.items():
            assert depot.episodes.enregistrer_texte(eid, rubrique, texte, acteur=ACTEUR)
        assert not depot.episodes.enregistrer_texte(eid, "bilan", TEXTES_KINE["bilan"], acteur=ACTEUR)
        with pytest.raises(ErreurSaisie):
            depot.episodes.enregistrer_texte(eid, "diagnostic", "x", acteur=ACTEUR)
        with pytest.raises(ErreurSaisie):
            depot.episodes.enregistrer_texte(eid, "bilan", "x" * 2001, acteur=ACTEUR)
        jour = SEANCES[-1] + timedelta(days=12)
        dossier = depot.documents.dossier_episode(eid, jour, acteur=ACTEUR)
        assert dossier.etat.seances_serie == 10
        pdf = synthese_pdf(dossier, depot.moteur)
        brut = synthese_texte(dossier, depot.moteur)
        dap = _texte_pdf(dap_pdf(dossier, depot.moteur))
        with depot.uow.bd.connect() as c:
            journal = " ".join(str(r[0]) for r in c.execute(text("SELECT details FROM evenements_audit"))).casefold()
        assert depot.audit.verifier_audit().intact
    texte_pdf = _texte_pdf(pdf)
    assert _absents([_plat(t) for t in TEXTES_KINE.values()], texte_pdf) == []
    assert _absents([_plat(t) for t in TEXTES_KINE.values()], _plat(brut)) == []
    assert _absents([_plat(t) for t in TEXTES_KINE.values()], dap) == []  # the DAP prints them too
    assert all(t.split(",")[0].casefold() not in journal for t in TEXTES_KINE.values())  # lengths only
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    document = pdfium.PdfDocument(pdf)
    for i in range(len(document)):
        document[i].render(scale=150 / 72).to_pil().save(ARTEFACTS / f"synthese_textes_kine_p{i + 1}.png")


def test_le_compte_rendu_du_triage_imprime_les_textes_de_son_episode(tmp_path):
    """Issue #29: the compte rendu of a triage (PDF and text) prints the kiné's texts kept on its episode, those
    written only; without any, it prints no empty heading."""
    with _depot(_url(tmp_path)) as depot:
        _, _, eid = _remplir(depot)
        tid = depot.triages.lister()[0].id
        moment = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
        avant = _texte_pdf(depot.documents.exporter(tid, "pdf", genere_le=moment, acteur=ACTEUR))
        depot.episodes.enregistrer_texte(eid, "bilan", TEXTES_KINE["bilan"], acteur=ACTEUR)
        depot.episodes.enregistrer_texte(eid, "conseils", TEXTES_KINE["conseils"], acteur=ACTEUR)
        pdf = _texte_pdf(depot.documents.exporter(tid, "pdf", genere_le=moment, acteur=ACTEUR))
        txt = _plat(depot.documents.exporter(tid, "txt", genere_le=moment, acteur=ACTEUR).decode("utf-8"))
    assert "Bilan et suivi du kinésithérapeute".upper() not in avant.upper()
    for texte in (TEXTES_KINE["bilan"], TEXTES_KINE["conseils"]):
        assert _plat(texte) in pdf and _plat(texte) in txt
    assert _plat(TEXTES_KINE["traitement"]) not in pdf


def test_synthese_et_dap_nomment_le_medecin_traitant_et_le_rpps_connus(tmp_path):
    """Issue #29: the summary sheet is addressed to the patient's médecin traitant when the patient's record has one,
    and the kiné's RPPS (from « Mon compte ») is printed on the sheet and the DAP, instead of a generic line or a
    blank; without them, the generic recipient and the blank to fill by hand remain."""
    with _depot(_url(tmp_path)) as depot:
        pid, _, eid = _remplir(depot)
        sans = depot.documents.dossier_episode(eid, JOUR, acteur=ACTEUR)
        depot.patients.renseigner_medecin_traitant(pid, nom="Claire Durand", rpps="10007654329",
                                                   mssante="claire.durand@medecin.mssante.fr", acteur=ACTEUR)
        depot.comptes.modifier_profil(prenom="Camille", nom_famille="Œuvray", profession="kine", rpps="10001234565",
                                      acteur=ACTEUR)
        avec = depot.documents.dossier_episode(eid, JOUR, acteur=ACTEUR)
        m = depot.moteur
        textes = {cle: (_texte_pdf(synthese_pdf(d, m)), _plat(synthese_texte(d, m)), _texte_pdf(dap_pdf(d, m)))
                  for cle, d in (("sans", sans), ("avec", avec))}
    destinataire = "Au médecin traitant, Dr Claire Durand, RPPS 10007654329, claire.durand@medecin.mssante.fr"
    for texte in textes["avec"][:2]:
        assert _absents([destinataire, "RPPS 10001234565"], texte) == []
    assert "N° RPPS / n° Assurance Maladie RPPS 10001234565" in textes["avec"][2]
    for texte in textes["sans"]:
        assert "Claire Durand" not in texte and "10001234565" not in texte
    assert "Au médecin prescripteur / médecin traitant" in textes["sans"][0]
