"""The Streamlit page, driven headless with Streamlit's AppTest (no browser).

Each test gets its own SQLite file (``TRIAGE_DATABASE_URL`` set before the AppTest is built: the page caches
one ``Services`` per URL) and checks what the kiné sees (keys of the widgets, the orientation card's
``data-orientation``) against what is stored (``Services``). Setup that is not under test (structure, patients,
complete answers) goes straight through ``Services``; the page is used for what each test is about.

AppTest only switches to file pages; the pages here are functions (``st.Page(page, url_path=…)``), so
:func:`aller` selects them by their URL path in the registry AppTest keeps (a private attribute).
"""

from __future__ import annotations

import html
import json
import re
import time
from datetime import date, timedelta
from typing import Any

import pytest
import yaml
from streamlit.testing.v1 import AppTest  # noqa: TID251  (the page's own test harness)

from tests import ressources
from tests.conftest import RACINE, cas_base
from tests.connexion import COORDINATEUR, KINE, connecte
from triage_app.comptes import Utilisateur
from triage_app.errors import TriageError
from triage_app.services.application import Services

APP = str(RACINE / "triage_app" / "ui" / "app.py")
LOMBALGIE, CHEVILLE = "lombalgie_aigue", "entorse_cheville"
PROTOCOLES = (LOMBALGIE, CHEVILLE)
ACTEUR = "test_page"
ID_OPAQUE = re.compile(r"[0-9a-f]{32}")
ORIENTATION = re.compile(r'data-orientation="([a-z_]*)"')
COOPERATION = ("medecin_delegant", "medecin_joignable", "consentement", "partage_dmp")
# Every Services a test opens, the page's own included (one per URL, cached), is closed at its end.
fermer_les_depots = ressources.fermer_les_depots
# The patient's covers and their French labels (commun.yaml, libelles.couvertures).
COUVERTURES: dict[str, str] = yaml.safe_load((RACINE / "protocols" / "commun.yaml").read_text(encoding="utf-8"))[
    "libelles"]["couvertures"]

# The page reads the real clock (date.today()): the patient's dates follow it so that every case stays
# eligible (40 years old, pain or trauma 2 days ago).
AUJOURD_HUI = date.today()
NAISSANCE = date(AUJOURD_HUI.year - 40, 1, 15)
DEBUT = AUJOURD_HUI - timedelta(days=2)


# -- fixtures and helpers ---------------------------------------------------------------------------
@pytest.fixture(name="url")
def url_fixture(tmp_path, monkeypatch):
    adresse = f"sqlite:///{(tmp_path / 'triage.sqlite').as_posix()}"
    monkeypatch.setenv("TRIAGE_DATABASE_URL", adresse)
    return adresse


@pytest.fixture(name="depot")
def depot_fixture(url):
    d = Services(url)
    yield d
    d.fermer()


@pytest.fixture(name="msp")
def msp_fixture(depot):
    """A MSP that applies both protocols (described once, as on the « Structure » page)."""
    depot.structure.enregistrer_structure(nom="MSP des Tilleuls", type="msp", departement="38",
                                          protocoles_appliques=list(PROTOCOLES), acteur=ACTEUR)
    return depot


def url_opaque(at: AppTest) -> None:
    """The query string holds the opaque triage id and nothing else (no name, no date, no answer)."""
    params = dict(at.query_params)
    assert set(params) <= {"triage"}, params
    if "triage" in params:
        assert ID_OPAQUE.fullmatch(params["triage"]), params


def executer(cible: Any) -> AppTest:
    """Run the app (``cible``: the AppTest, or a widget just set or clicked) and check the run."""
    at: AppTest = cible.run()
    assert not at.exception, [e.value for e in at.exception]
    url_opaque(at)
    return at


def lancer(triage: str | None = None, utilisateur: Utilisateur = KINE) -> AppTest:
    """A new browser session (``utilisateur`` logged in), optionally opened on ``?triage=<id>``."""
    at = connecte(AppTest.from_file(APP, default_timeout=30), utilisateur)
    if triage is not None:
        at.query_params["triage"] = triage
    return executer(at)


def aller(at: AppTest, url_path: str) -> AppTest:
    """Go to a page of the navigation by its URL path ("" for « Nouveau triage »)."""
    pages = [h for h, info in at._registered_pages.items() if info.get("url_pathname") == url_path]
    assert len(pages) == 1, (url_path, at._registered_pages)
    at._page_hash = pages[0]
    executer(at)
    at._page_hash = ""  # later runs stay on the page the last run finished on (st.switch_page included)
    return at


def ouvrir_volet(at: AppTest, cle: str) -> AppTest:
    """Open a section built only while open (``composants.volet``), as a tap on its header does: a run."""
    at.session_state[cle] = True
    return executer(at)


def ouvrir_volets(at: AppTest) -> AppTest:
    """Open every section built only while open, as a user tapping each header would (until none is left closed)."""
    for _ in range(5):
        fermes = [e.proto.id.split("-", 2)[2] for e in at.expander if e.proto.id and not e.proto.expanded]
        if not fermes:
            break
        for cle in fermes:
            at.session_state[cle] = True
        executer(at)
    return at


def orientation(at: AppTest) -> str | None:
    """The card's orientation: its id, "" for « Pas encore d'orientation », None when no card is shown."""
    trouvees = [m.group(1) for h in at.get("html") if (m := ORIENTATION.search(h.value))]
    assert len(trouvees) <= 1, trouvees
    return trouvees[0] if trouvees else None


def carte(at: AppTest) -> str:
    """The card's text (HTML pieces and markdown of the right column)."""
    return "\n".join([h.value for h in at.get("html") if "<style>" not in h.value] + [m.value for m in at.markdown])


def boutons(at: AppTest) -> list[str]:
    return [b.key for b in at.button if b.key]


def fichiers(at: AppTest) -> dict[str, dict[str, Any]]:
    """The document buttons on the page (downloads and « Imprimer »), by key: their data (label, file name…).
    They are produced in the session on a tap and handed over from memory (no ``/media`` address)."""
    import json as _json

    return {e.proto.id.split("-", 2)[2]: _json.loads(e.proto.json) for e in at.get("bidi_component")
            if e.proto.component_name == "triage_app.fichier"}


def questions(at: AppTest) -> dict[str, Any]:
    """The questions on screen (open group) and their selected value."""
    return {s.key.removeprefix("q_"): s.value for s in at.segmented_control if s.key and s.key.startswith("q_")}


def remplir_patient(at: AppTest, *, protocole: str | None = LOMBALGIE, nom: str = "Dupont", prenom: str = "Jeanne",
                    naissance: date | None = NAISSANCE, debut: date | None = DEBUT,
                    consultation: date | None = None, couverture: str | None = None) -> AppTest:
    if protocole:
        at.segmented_control(key="protocole").set_value(protocole)
    if couverture:  # chosen by its French label, as on the tablet
        choix = at.selectbox(key="patient_couverture")
        assert couverture in choix.options, choix.options
        choix.set_value({v: k for k, v in COUVERTURES.items()}[couverture])
    at.text_input(key="patient_nom").input(nom)
    at.text_input(key="patient_prenom").input(prenom)
    if naissance:
        at.text_input(key="patient_naissance").input(naissance.strftime("%d/%m/%Y"))
    if debut:
        at.text_input(key="date_debut").input(debut.strftime("%d/%m/%Y"))
    if consultation:
        at.text_input(key="date_consultation").input(consultation.strftime("%d/%m/%Y"))
    for cle in COOPERATION:  # answered Oui, never preset (issue #29)
        at.segmented_control(key=cle).set_value("oui")
    return executer(at.button(key="commencer").click())


def creer_triage(depot: Services, protocole: str = LOMBALGIE, nom: str = "Martin") -> tuple[str, str]:
    """A draft triage of an eligible patient, created as the form does; (triage id, episode id)."""
    pid = depot.patients.creer_patient(nom=nom, prenom="Paul", date_naissance=NAISSANCE, sexe="M", acteur=ACTEUR)
    eid = depot.episodes.creer_episode(patient_id=pid, protocole=protocole, date_debut=DEBUT, antecedent_lombalgie=True,
                                       acteur=ACTEUR)
    tid = depot.triages.creer_triage(episode_id=eid, date_consultation=AUJOURD_HUI, acteur=ACTEUR)
    depot.triages.modifier_brouillon(tid, {"cadre.medecin_delegant_est_medecin_traitant": True,
                                           "cadre.medecin_joignable": True, "consentement.protocole": True,
                                           "consentement.partage_dmp": True}, acteur=ACTEUR)
    return tid, eid


def repondre_tout(depot: Services, tid: str, protocole: str, **autres: Any) -> None:
    """Every safety question « non » (torsion « oui »), as ``cas_base``; then ``autres``."""
    for qid, valeur in (cas_base(protocole)["reponses"] | autres).items():
        depot.triages.enregistrer_reponse(tid, qid, valeur, acteur=ACTEUR)


def compteur(at: AppTest, episode_id: str) -> dict[str, str]:
    """The counters of an episode's panel, as the page writes them (data attributes)."""
    for h in at.get("html"):
        if f"data-episode=\"{episode_id}\"" in h.value:
            return dict(re.findall(r'data-(seances|restantes|statut)="([^"]*)"', h.value))
    raise AssertionError(f"pas de compteurs pour l’épisode {episode_id}")


def lignes_triages(at: AppTest) -> list[Any]:
    """The rows of the « Triages » list (one button each), in order."""
    return [b for b in at.button if b.key and b.key.startswith("ligne_")]


def choisir_ligne(at: AppTest, rang: int) -> AppTest:
    """Tap a row of the « Triages » list: it opens the triage."""
    return executer(lignes_triages(at)[rang].click())


# -- the walk -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("protocole", "groupes"), [
    (LOMBALGIE, ["neurologique", "douleur", "signes_generaux", "terrain", "rachis"]),
    (CHEVILLE, ["gravite", "mecanisme", "traumatisme", "terrain", "fiabilite", "ottawa"]),
])
def test_sans_drapeau_aucun_de_ces_signes_jusqu_au_protocole_puis_finalise(msp, protocole, groupes):
    at = lancer()
    assert not at.warning  # the structure is described
    at = remplir_patient(at, protocole=protocole)
    [ligne] = msp.triages.lister()
    assert dict(at.query_params) == {"triage": ligne.id}
    tid = ligne.id
    for i, g in enumerate(groupes):
        assert orientation(at) == ""
        assert "finaliser" not in boutons(at)
        if g == "mecanisme":  # a fact, not a sign: no « Aucun de ces signes »
            assert "aucun_mecanisme" not in boutons(at)
            assert questions(at) == {"mecanisme_torsion": None}
            executer(at.segmented_control(key="q_mecanisme_torsion").set_value("oui"))
        else:
            assert f"aucun_{g}" in boutons(at), (g, boutons(at))
            assert set(questions(at)) and all(v is None for v in questions(at).values())
            executer(at.button(key=f"aucun_{g}").click())
        assert all(f"ouvrir_{fait}" in boutons(at) for fait in groupes[:i + 1])
    assert orientation(at) == "protocole"
    texte = carte(at)
    assert "Protocole de coopération" in texte and "PC_CONSULTATION_1" in texte and "25,00\u00a0€" in texte
    assert "Paracétamol (ordonnance-type)" in texte
    executer(at.button(key="finaliser").click())

    [ligne] = msp.triages.lister()
    assert (ligne.id, ligne.statut, ligne.orientation, ligne.version) == (tid, "final", "protocole", 1)
    t = msp.triages.charger(tid)
    assert t.resultat is not None and t.resultat["orientation"] == "protocole"
    assert t.resultat["facturation"]["voie"] == "forfait_protocole"
    assert t.cas["reponses"] == cas_base(protocole)["reponses"]
    assert t.empreinte_regles and t.finalise_le is not None
    # The stored result is shown, the walk is gone.
    assert orientation(at) == "protocole"
    assert "finaliser" not in boutons(at) and "amender" in boutons(at)
    assert not questions(at)
    assert msp.audit.verifier_audit().intact


@pytest.mark.parametrize(("protocole", "qid"), [(LOMBALGIE, "rf_troubles_sphincteriens"),
                                                (CHEVILLE, "rf_deformation")])
def test_un_drapeau_rouge_donne_urgences_des_le_premier_tap(msp, protocole, qid):
    tid, _ = creer_triage(msp, protocole)
    at = lancer(tid)
    assert orientation(at) == "" and not at.error
    executer(at.segmented_control(key=f"q_{qid}").set_value("oui"))
    assert orientation(at) == "urgences"
    [bandeau] = at.error
    assert "URGENCES" in bandeau.value and "15" in bandeau.value
    assert 'class="orientation rang-0"' in carte(at)
    motif = next(c.libelle for c in msp.moteur.protocoles[protocole].modele.criteres if c.id == qid)
    assert html.escape(motif, quote=False) in carte(at)
    # Nothing else was answered: the referral does not wait for the rest.
    assert msp.triages.charger(tid).cas["reponses"] == {qid: True}
    autres = {q: v for q, v in questions(at).items() if q != qid}
    assert autres and all(v is None for v in autres.values())
    assert questions(at)[qid] == "oui"
    manquantes = msp.triages.evaluer(tid)["questions_manquantes"]
    assert manquantes
    # An emergency is finalised at once, the other questions left unanswered.
    assert not at.button(key="finaliser").disabled
    executer(at.button(key="finaliser").click())
    t = msp.triages.charger(tid)
    assert t.statut == "final" and t.resultat is not None
    assert t.resultat["orientation"] == "urgences" and t.resultat["questions_manquantes"] == manquantes


def test_un_signe_medecin_jour_dans_un_groupe_ouvert_a_la_main(msp):
    tid, _ = creer_triage(msp)
    at = lancer(tid)
    executer(at.button(key="ouvrir_signes_generaux").click())
    assert set(questions(at)) == {"rf_perte_poids", "rf_fievre", "rf_alteration_etat_general"}
    executer(at.segmented_control(key="q_rf_fievre").set_value("oui"))
    assert orientation(at) == "medecin_jour"
    assert not at.error  # no emergency banner for a same-day referral
    t = msp.triages.charger(tid)
    assert t.cas["reponses"] == {"rf_fievre": True} and t.etape == "signes_generaux"
    # The engine has decided (same-day referral): it can be recorded now, the other answers are not needed.
    assert "finaliser" in boutons(at)
    assert "sans les autres questions" in " ".join(m.value for m in at.markdown)


def test_reponses_manquantes_pas_d_orientation_ni_finalisation(msp):
    tid, _ = creer_triage(msp)
    at = lancer(tid)
    executer(at.button(key="aucun_neurologique").click())
    executer(at.button(key="aucun_douleur").click())
    assert orientation(at) == ""
    manquantes = len(msp.triages.evaluer(tid)["questions_manquantes"])
    assert manquantes > 0
    assert f"{manquantes} réponse(s) manquante(s)" in carte(at)
    assert "finaliser" not in boutons(at)
    # From the list, a tap on the row resumes the draft where it was: still no « Finaliser ».
    aller(at, "triages")
    choisir_ligne(at, 0)
    assert dict(at.query_params) == {"triage": tid}
    assert "finaliser" not in boutons(at) and "aucun_signes_generaux" in boutons(at)
    assert msp.triages.charger(tid).statut == "brouillon"


# -- resuming --------------------------------------------------------------------------------------------
def test_reprise_dans_une_nouvelle_session_au_meme_groupe(msp):
    tid, _ = creer_triage(msp)
    at = lancer(tid)
    executer(at.button(key="aucun_neurologique").click())
    executer(at.button(key="ouvrir_terrain").click())  # the kiné goes ahead to « Antécédents et terrain »
    executer(at.segmented_control(key="q_rf_drogue_iv").set_value("non"))
    executer(at.segmented_control(key="q_rf_antecedent_cancer").set_value("oui"))
    assert orientation(at) == "medecin_jour"

    reprise = lancer(tid)  # another tablet, or the same one after a reload
    assert dict(reprise.query_params) == {"triage": tid}
    assert questions(reprise) == {"rf_antecedent_cancer": "oui", "rf_drogue_iv": "non",
                                  "rf_corticotherapie_prolongee": None, "rf_immunodepression": None}
    assert orientation(reprise) == "medecin_jour"
    assert "Martin Paul" in reprise.markdown[0].value
    executer(reprise.button(key="ouvrir_neurologique").click())
    assert questions(reprise) == dict.fromkeys(
        ("rf_troubles_sphincteriens", "rf_anesthesie_en_selle", "rf_deficit_moteur", "rf_deficit_sensitif"), "non")


def test_double_tap_apres_une_reponse_n_ouvre_pas_le_groupe_glisse_sous_le_doigt(msp):
    """Issue #13: the second half of a double tap (within DOUBLE_TAP_S of an answer) lands on whatever slid under
    the finger, often a later group's header: it is ignored; a deliberate tap afterwards opens the group."""
    tid, _ = creer_triage(msp)
    at = lancer(tid)
    executer(at.button(key="ouvrir_terrain").click())
    executer(at.segmented_control(key="q_rf_drogue_iv").set_value("non"))
    terrain = set(questions(at))
    executer(at.button(key="ouvrir_neurologique").click())  # at once: the same finger
    assert set(questions(at)) == terrain
    at.session_state["derniere_reponse"] = time.monotonic() - 1.0  # one second later: a deliberate tap
    executer(at.button(key="ouvrir_neurologique").click())
    assert "rf_deficit_moteur" in questions(at) and "rf_drogue_iv" not in questions(at)


def test_triage_inconnu_message_francais_sans_plantage(depot):
    at = lancer("0" * 32)
    [erreur] = at.error
    assert "introuvable" in erreur.value
    assert orientation(at) is None and not questions(at)
    executer(at.button(key="recommencer").click())
    assert dict(at.query_params) == {}
    assert "commencer" in boutons(at)  # the patient form


@pytest.mark.parametrize("valeur", ["../../etc/passwd", "a b", "x" * 65])
def test_identifiant_mal_forme_signale_puis_formulaire(depot, valeur):
    at = connecte(AppTest.from_file(APP, default_timeout=30))
    at.query_params["triage"] = valeur
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Lien de triage invalide."]
    assert "commencer" in boutons(at)
    assert dict(at.query_params) == {}


def test_identifiant_vide_ignore(depot):
    at = connecte(AppTest.from_file(APP, default_timeout=30))
    at.query_params["triage"] = ""
    at.run()
    assert not at.exception and not at.error
    assert "commencer" in boutons(at)


# -- patient form ----------------------------------------------------------------------------------------
def _manquants(at: AppTest) -> list[str]:
    [erreur] = at.error
    assert erreur.value.startswith("À renseigner : ") and erreur.value.endswith(".")
    return erreur.value.removeprefix("À renseigner : ").removesuffix(".").split(", ")


def test_formulaire_vide_nomme_chaque_champ_manquant(depot):
    at = lancer()
    executer(at.button(key="commencer").click())
    assert _manquants(at) == ["motif de consultation", "nom", "prénom", "date de naissance",
                              "début de la douleur ou date du traumatisme", *CADRE_MANQUANT]
    assert depot.triages.lister() == [] and dict(at.query_params) == {}


CADRE_MANQUANT = ["le médecin délégant est le médecin traitant", "le médecin délégant est joignable",
                  "le patient consent à la prise en charge dans le protocole",
                  "le patient accepte le partage dans le DMP"]


@pytest.mark.parametrize("sans_reponse", COOPERATION)
def test_les_questions_du_cadre_n_ont_pas_de_reponse_par_defaut(msp, sans_reponse):
    """Issue #29: the framework and consent questions start unanswered (neither Oui nor Non); « Commencer » with one
    left unanswered names it and writes nothing; answered, the triage starts with the answers given."""
    at = lancer()
    assert all(at.segmented_control(key=cle).value is None for cle in COOPERATION)
    at.segmented_control(key="protocole").set_value(LOMBALGIE)
    at.text_input(key="patient_nom").input("Cadre")
    at.text_input(key="patient_prenom").input("Léa")
    at.text_input(key="patient_naissance").input(NAISSANCE.strftime("%d/%m/%Y"))
    at.text_input(key="date_debut").input(DEBUT.strftime("%d/%m/%Y"))
    for cle in COOPERATION:
        if cle != sans_reponse:
            at.segmented_control(key=cle).set_value("oui")
    executer(at.button(key="commencer").click())
    assert _manquants(at) == [CADRE_MANQUANT[COOPERATION.index(sans_reponse)]]
    assert msp.triages.lister() == [] and "triage" not in at.query_params
    at.segmented_control(key=sans_reponse).set_value("non")  # a form's field: sent with its submit button
    executer(at.button(key="commencer").click())
    [ligne] = msp.triages.lister()
    cas = msp.triages.charger(ligne.id).cas
    valeurs = {"medecin_delegant": cas["cadre"]["medecin_delegant_est_medecin_traitant"],
               "medecin_joignable": cas["cadre"]["medecin_joignable"],
               "consentement": cas["consentement"]["protocole"], "partage_dmp": cas["consentement"]["partage_dmp"]}
    assert valeurs == {cle: cle != sans_reponse for cle in COOPERATION}


def test_formulaire_partiel_nomme_seulement_ce_qui_manque(depot):
    at = remplir_patient(lancer(), prenom="   ", naissance=None)
    assert _manquants(at) == ["prénom", "date de naissance"]
    assert depot.triages.lister() == [] and dict(at.query_params) == {}


def test_debut_apres_la_consultation_refuse(depot):
    at = remplir_patient(lancer(), debut=AUJOURD_HUI, consultation=AUJOURD_HUI - timedelta(days=3))
    [erreur] = at.error
    assert "postérieur à la date de consultation" in erreur.value
    assert depot.triages.lister() == [] and dict(at.query_params) == {}


def test_naissance_apres_la_consultation_refusee_sans_plantage(depot):
    at = remplir_patient(lancer(), naissance=AUJOURD_HUI - timedelta(days=1),
                         debut=AUJOURD_HUI - timedelta(days=6), consultation=AUJOURD_HUI - timedelta(days=5))
    assert at.error
    assert depot.triages.lister() == []


def test_formulaire_cree_le_triage_avec_le_cadre_et_le_consentement(msp):
    at = remplir_patient(lancer(), protocole=CHEVILLE, nom="  Durand ", prenom="Léa")
    [ligne] = msp.triages.lister()
    assert ligne.patient == "Durand Léa" and ligne.protocole == CHEVILLE and ligne.statut == "brouillon"
    cas = msp.triages.charger(ligne.id).cas
    assert cas["cadre"]["structure"] == "msp" and cas["cadre"]["protocole_autorise"] is True
    assert cas["cadre"]["medecin_delegant_est_medecin_traitant"] is True and cas["consentement"]["protocole"]
    assert cas["episode"]["date_debut"] == DEBUT.isoformat()
    assert cas["date_consultation"] == AUJOURD_HUI.isoformat()
    assert dict(at.query_params) == {"triage": ligne.id}
    assert "Durand" not in str(at.query_params) and NAISSANCE.isoformat() not in str(at.query_params)


@pytest.mark.parametrize(("saisie", "message"), [
    ("31/02/1980", "Date de naissance : le 31/02/1980 n’existe pas (février 1980 compte 29 jours)."),
    ("14/06/80", "Date de naissance : « 14/06/80 » n’est pas une date au format JJ/MM/AAAA"),
])
def test_date_tapee_impossible_refusee_en_francais_sans_triage(msp, saisie, message):
    """Issue #13: a typed date that does not exist is refused with the field's name, never moved to 28/02."""
    at = lancer()
    at.text_input(key="patient_naissance").input(saisie)
    at = remplir_patient(at, naissance=None)
    assert at.error[0].value.startswith(message)
    assert msp.triages.lister() == [] and "triage" not in at.query_params
    at.text_input(key="patient_naissance").input("14061980")  # digits only: the same date, accepted
    executer(at.button(key="commencer").click())
    [ligne] = msp.triages.lister()
    assert msp.triages.charger(ligne.id).cas["patient"]["date_naissance"] == "1980-06-14"


def test_formulaire_couverture_regime_general_par_defaut(msp):
    at = lancer()
    choix = at.selectbox(key="patient_couverture")
    assert choix.label.startswith("Couverture") and choix.options == list(COUVERTURES.values())
    assert choix.value == "regime_general" and choix.options[choix.index] == "Régime général"
    remplir_patient(at)
    [ligne] = msp.triages.lister()
    assert msp.triages.charger(ligne.id).cas["patient"]["couverture"] == "regime_general"


def test_triage_en_regime_local_d_alsace_moselle_montre_la_part_de_90_pour_cent(depot):
    depot.structure.enregistrer_structure(nom="ESP du Rhin", type="esp", departement="67", protocoles_appliques=[],
                                          acteur=ACTEUR)
    at = remplir_patient(lancer(), couverture="Régime local d'Alsace-Moselle")
    [ligne] = depot.triages.lister()
    cas = depot.triages.charger(ligne.id).cas
    assert cas["patient"]["couverture"] == "alsace_moselle"
    repondre_tout(depot, ligne.id, LOMBALGIE)
    at = executer(at)
    assert orientation(at) == "acces_direct"
    texte = carte(at)
    assert "Part remboursée par l'Assurance maladie : 90 % du tarif (Régime local d'Alsace-Moselle)." in texte
    assert "<code>RAM</code> Séance de rééducation, lombalgie commune : <b>17,90\u00a0€</b> (remboursé : " \
           "16,11\u00a0€ ; reste patient : 1,79\u00a0€)" in texte
    assert "Reste à la charge du patient (ou de sa complémentaire) : 4,15 € sur 41,55 €." in texte
    assert "<div>Franchise médicale de 1,00 € par acte" in texte
    # The card: the route in plain words (no code); the codes, shares and remarks in the collapsed « détail ».
    assert "Séance de rééducation, lombalgie commune : <b>17,90\u00a0€</b></div>" in texte
    assert "Facturation (détail)" in [e.label for e in at.expander]


def test_protocole_non_applicable_sur_la_carte(msp):
    tid, _ = creer_triage(msp)
    msp.triages.modifier_brouillon(tid, {"consentement.partage_dmp": False}, acteur=ACTEUR)
    repondre_tout(msp, tid, LOMBALGIE)
    at = lancer(tid)
    assert orientation(at) == "acces_direct"
    [bloc] = [h.value for h in at.get("html") if 'class="non-applicable"' in h.value]
    assert "<b>Protocole non applicable :</b> partage DMP non accepté — " in bloc
    source = msp.moteur.registre.sources["arrete_pc_lombalgie_2020"]
    assert html.escape(source.titre) in bloc and "à vérifier" in bloc


def test_urgence_eligible_le_renvoi_seul_en_haut_la_facturation_repliee_dessous(msp):
    tid, _ = creer_triage(msp, CHEVILLE)
    repondre_tout(msp, tid, CHEVILLE, rf_deformation=True)  # eligible: the protocol's first forfait is due
    at = lancer(tid)
    assert orientation(at) == "urgences"
    [detail] = [e for e in at.expander if e.label == "Facturation (détail)"]
    assert not detail.proto.expanded
    dedans = [h.value for h in detail.get("html")]
    assert any("PC_CONSULTATION_1" in x for x in dedans)
    # The codes only in the collapsed « détail »; the card says the route and amount in plain words, after the
    # referral (the orientation comes first on the card).
    dehors = [h.value for h in at.get("html") if h.value not in dedans]
    assert not any("PC_CONSULTATION" in x for x in dehors)
    textes = [x for x in dehors if "Facturation" in x or 'data-orientation="urgences"' in x]
    assert "data-orientation" in textes[0] and "Forfait du protocole" in textes[1], textes


# -- « Triages » -----------------------------------------------------------------------------------------
def test_triages_du_plus_recent_et_un_tap_sur_la_ligne_l_ouvre(msp):
    ancien, _ = creer_triage(msp, nom="Ancien")
    creer_triage(msp, nom="Récent")
    at = aller(lancer(), "triages")
    lignes = [b.label for b in lignes_triages(at)]
    assert len(lignes) == 2 and "Récent Paul" in lignes[0] and "Ancien Paul" in lignes[1]
    assert all("Brouillon" in x for x in lignes)
    assert "Touchez une ligne pour ouvrir le triage (un brouillon se reprend" in at.caption[-1].value \
        or any("Touchez une ligne" in c.value for c in at.caption)
    choisir_ligne(at, 1)  # one tap: the walk of that triage
    assert dict(at.query_params) == {"triage": ancien}
    assert at.markdown[0].value.startswith("#### Ancien Paul")
    assert "aucun_neurologique" in boutons(at)


def test_triages_filtre_par_statut(msp):
    creer_triage(msp, nom="Brouillon")
    fini, _ = creer_triage(msp, nom="Fini")
    repondre_tout(msp, fini, LOMBALGIE)
    msp.triages.finaliser(fini, acteur=ACTEUR)
    at = aller(lancer(), "triages")
    lignes = [b.label for b in lignes_triages(at)]
    assert "Protocole de coopération" in lignes[0] and "orientation à venir" in lignes[1]
    executer(at.segmented_control(key="filtre_statut").set_value("final"))
    assert [("Fini Paul" in b.label) for b in lignes_triages(at)] == [True]
    executer(at.segmented_control(key="filtre_statut").set_value("brouillon"))
    assert [("Brouillon Paul" in b.label) for b in lignes_triages(at)] == [True]


def test_un_brouillon_dit_dans_la_liste_ce_que_dit_sa_carte(msp):
    """Issue #29: a draft with an urgent red flag reads « Urgences (provisoire) » in « Triages », for the kiné and
    the médecin; the médecin's read-only view of it names the rules in force, never « None »."""
    from tests.connexion import MEDECIN

    tid, _ = creer_triage(msp, nom="Urgent")
    msp.triages.enregistrer_reponse(tid, "rf_troubles_sphincteriens", True, acteur=ACTEUR)
    carte = msp.triages.evaluer(tid)["orientation"]
    assert carte == "urgences"
    for qui in (None, MEDECIN):
        at = aller(lancer(), "triages") if qui is None else lancer(utilisateur=MEDECIN)  # the médecin's first page
        [ligne] = [b.label for b in lignes_triages(at)]
        assert "Urgences (provisoire)" in ligne and "sans orientation" not in ligne
    vue = lancer(tid, utilisateur=MEDECIN)
    textes = "\n".join(c.value for c in vue.caption)
    assert "None" not in textes and "Règles : version " in textes and "résultat provisoire" in textes


def test_liste_vide_dit_aucun_triage_sans_tableau_vide(msp):
    creer_triage(msp, nom="Un")
    at = aller(lancer(), "triages")
    executer(at.segmented_control(key="filtre_statut").set_value("final"))
    assert at.info and not lignes_triages(at) and not at.dataframe  # « Aucun triage enregistré. », no « empty »


# -- « Aucun de ces signes » never overwrites a « oui » -------------------------------------------------------
def test_aucun_de_ces_signes_n_ecrase_pas_un_oui_enregistre_ailleurs(msp):
    tid, _ = creer_triage(msp)
    vieux = lancer(tid)  # a tab left open
    msp.triages.enregistrer_reponse(tid, "rf_deficit_moteur", True, acteur="autre_poste")
    executer(vieux.button(key="aucun_neurologique").click())
    assert msp.triages.charger(tid).cas["reponses"]["rf_deficit_moteur"] is True
    assert orientation(vieux) == "urgences"


def test_un_oui_tape_juste_avant_aucun_de_ces_signes_reste_oui(msp):
    tid, _ = creer_triage(msp)
    at = lancer(tid)
    at.segmented_control(key="q_rf_deficit_moteur").set_value("oui")
    executer(at.button(key="aucun_neurologique").click())
    assert msp.triages.charger(tid).cas["reponses"]["rf_deficit_moteur"] is True
    assert orientation(at) == "urgences"


# -- final triage, amendment ---------------------------------------------------------------------------------
def test_triage_finalise_s_affiche_puis_se_modifie_en_nouvelle_version(msp):
    tid, _ = creer_triage(msp, CHEVILLE)
    repondre_tout(msp, tid, CHEVILLE)
    msp.triages.finaliser(tid, acteur=ACTEUR, note="Revoir à J5")
    at = lancer(tid)
    assert orientation(at) == "protocole"
    assert any(m.value == "**Note**" for m in at.markdown)
    assert any('<div class="texte-saisi">Revoir à J5</div>' in h.value for h in at.get("html"))
    assert [e.label for e in at.expander][1:3] == ["Signes de gravité immédiate — 4/4",
                                                   "Mécanisme du traumatisme — 1/1"]
    assert any("**Oui**" in m.value for m in at.markdown) and any("**Non**" in m.value for m in at.markdown)
    executer(at.button(key="amender").click())
    nouveau = at.query_params["triage"]
    assert nouveau != tid
    t = msp.triages.charger(nouveau)
    assert (t.version, t.statut, t.remplace_id) == (2, "brouillon", tid)
    assert orientation(at) == "protocole"  # the answers came along
    assert "finaliser" in boutons(at)
    assert msp.triages.charger(nouveau).note == "Revoir à J5"  # and the note too, ready to edit
    executer(at.button(key="finaliser").click())
    assert msp.triages.charger(nouveau).note == "Revoir à J5"


def test_la_note_s_enregistre_au_fil_de_la_saisie_et_survit_au_rechargement(msp):
    """The note reaches the draft as it is typed (the field's debounced state), before « Finaliser »: a reload
    (a new session) keeps it; the audit records its length, never its text; an unchanged rerun writes nothing."""
    tid, _ = creer_triage(msp, CHEVILLE)
    repondre_tout(msp, tid, CHEVILLE)
    at = lancer(tid)
    assert "finaliser" in boutons(at)
    at.session_state[f"note_{tid}"] = {"texte": "Revoir à J5, **Zéphyrine** nocturne"}
    executer(at)
    t = msp.triages.charger(tid)
    assert (t.statut, t.note) == ("brouillon", "Revoir à J5, **Zéphyrine** nocturne")
    notes = [e for e in _evenements(msp) if e.type == "note"]
    assert [{k: v for k, v in e.details.items() if k != "lignes"} for e in notes] == [{"longueur": 35}]
    assert "Zéphyrine" not in json.dumps([e.details for e in _evenements(msp)], ensure_ascii=False)
    executer(at)  # a rerun without typing: nothing new written
    assert len([e for e in _evenements(msp) if e.type == "note"]) == 1
    recharge = lancer(tid)  # the page reloaded: the typed note is there and goes with the finalisation
    executer(recharge.button(key="finaliser").click())
    assert msp.triages.charger(tid).note == "Revoir à J5, **Zéphyrine** nocturne"
    assert msp.triages.charger(tid).statut == "final"


def test_une_note_forgee_non_textuelle_n_est_jamais_stockee(msp):
    """Issue #28: the note's field given a number, a list or an object instead of its text (a crafted message): the
    page keeps the saved note, shows no error page, stores nothing (before, the value's Python text became the
    note)."""
    tid, _ = creer_triage(msp, CHEVILLE)
    repondre_tout(msp, tid, CHEVILLE)
    at = lancer(tid)
    at.session_state[f"note_{tid}"] = {"texte": "Note tapée"}
    executer(at)
    for forge in (12345, ["a"], {"x": 1}, None):
        at.session_state[f"note_{tid}"] = {"texte": forge}
        executer(at)
        assert msp.triages.charger(tid).note == "Note tapée"
    assert len([e for e in _evenements(msp) if e.type == "note"]) == 1
    at.session_state[f"note_{tid}"] = {"texte": 12345}  # « Finaliser » sends the field as it holds it
    executer(at.button(key="finaliser").click())
    assert (msp.triages.charger(tid).statut, msp.triages.charger(tid).note) == ("final", "Note tapée")


def test_finaliser_et_la_note_restent_a_portee_pendant_le_start_back(msp):
    """Issue #29: every required group answered, the kiné opens the optional STarT Back group: the note and
    « Finaliser » are still on the page (they disappeared while it was open)."""
    tid, _ = creer_triage(msp, LOMBALGIE)
    repondre_tout(msp, tid, LOMBALGIE)
    at = lancer(tid)
    assert "finaliser" in boutons(at)
    executer(at.button(key="ouvrir_startback").click())
    assert any(k.startswith("q_sbt_") for k in questions(at)) or "q_sbt_1" in {s.key for s in at.segmented_control}
    assert "finaliser" in boutons(at) and not at.button(key="finaliser").disabled
    assert [h for h in at.get("bidi_component") if f"note_{tid}" in str(h.proto)]


def test_la_note_d_un_triage_finalise_ne_s_ecrit_plus(msp):
    tid, _ = creer_triage(msp, CHEVILLE)
    repondre_tout(msp, tid, CHEVILLE)
    msp.triages.finaliser(tid, acteur=ACTEUR, note="Revoir à J5")
    with pytest.raises(TriageError):
        msp.triages.enregistrer_note(tid, "autre texte", acteur=ACTEUR)
    assert msp.triages.charger(tid).note == "Revoir à J5"


def test_le_formulaire_de_depart_se_corrige_sur_place_avant_la_finalisation(msp):
    """Every field of the start form can be corrected on the draft; each change is written and audited."""
    tid, _ = creer_triage(msp)
    repondre_tout(msp, tid, LOMBALGIE)
    at = lancer(tid)
    assert orientation(at) == "protocole"
    [corriger] = [e for e in at.expander if e.label == "Corriger le patient et l’épisode"]
    assert not corriger.proto.expanded
    assert not any(t.key.startswith("corr_") for t in at.toggle if t.key)  # built only once opened
    ouvrir_volet(at, "corr_volet")
    executer(at.toggle(key="corr_consentement.partage_dmp").set_value(False))
    assert msp.triages.charger(tid).cas["consentement"]["partage_dmp"] is False
    assert orientation(at) == "acces_direct"
    assert any('class="non-applicable"' in h.value and "partage DMP non accepté" in h.value for h in at.get("html"))
    executer(at.toggle(key="corr_episode.prescription_medicale").set_value(True))
    assert orientation(at) == "sur_prescription"
    executer(at.selectbox(key="corr_patient.couverture").set_value("exoneration_100"))
    assert msp.triages.charger(tid).cas["patient"]["couverture"] == "exoneration_100"
    # A consultation before the onset is refused in French and not written.
    avant = msp.triages.charger(tid).cas["date_consultation"]
    executer(at.text_input(key="corr_date_consultation").input((DEBUT - timedelta(days=1)).strftime("%d/%m/%Y")))
    assert msp.triages.charger(tid).cas["date_consultation"] == avant
    assert any("postérieur à la date de consultation" in e.value for e in at.error)
    executer(at.text_input(key="corr_episode.date_debut").input((DEBUT - timedelta(days=40)).strftime("%d/%m/%Y")))
    assert msp.triages.charger(tid).cas["episode"]["date_debut"] == (DEBUT - timedelta(days=40)).isoformat()
    assert not at.error
    modifications = [e.details for e in _evenements(msp) if e.type == "modification"]
    champs = [d.get("champs") for d in modifications]
    for chemin in ("consentement.partage_dmp", "episode.prescription_medicale", "patient.couverture",
                   "episode.date_debut"):
        assert [chemin] in champs
    valeurs = {k: v for d in modifications for k, v in d.get("valeurs", {}).items()}
    assert valeurs["consentement.partage_dmp"] == {"avant": True, "apres": False}
    assert valeurs["patient.couverture"] == {"avant": "regime_general", "apres": "exoneration_100"}
    assert "episode.date_debut" not in valeurs  # a date is never written to the journal


def _evenements(depot: Services) -> list[Any]:
    from sqlalchemy import select

    from triage_app.storage.tables import EvenementAudit

    with depot.uow.sessions() as s:
        return list(s.scalars(select(EvenementAudit).order_by(EvenementAudit.seq)))


def test_le_resume_final_affiche_le_libelle_des_choix(msp):
    tid, _ = creer_triage(msp, CHEVILLE)
    repondre_tout(msp, tid, CHEVILLE, stade_gravite=2)
    msp.triages.finaliser(tid, acteur=ACTEUR)
    at = lancer(tid)
    assert any("Stade 2, entorse moyenne" in m.value for m in at.markdown)


# -- every page renders ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("chemin", "titre"), [("", "### Nouveau triage"), ("triages", "### Triages"),
                                               ("protocoles", "### Protocoles"), ("structure", "### Structure")])
def test_chaque_page_s_affiche_sans_exception(msp, chemin, titre):
    tid, _ = creer_triage(msp)
    repondre_tout(msp, tid, LOMBALGIE)
    msp.triages.finaliser(tid, acteur=ACTEUR)
    creer_triage(msp, CHEVILLE)
    at = aller(lancer(utilisateur=COORDINATEUR), chemin)
    assert at.markdown[0].value == titre
    assert not at.error


def test_page_protocoles_diagrammes_questions_et_parametres(depot):
    at = aller(lancer(), "protocoles")
    titres = sorted(pc.modele.titre for pc in depot.moteur.protocoles.values())
    assert sorted(t.label for t in at.tabs[:-1]) == titres and at.tabs[-1].label == "Paramètres en vigueur"
    graphes = at.get("graphviz_chart")
    assert len(graphes) == len(titres)
    textes = "\n".join(h.value for h in at.get("html"))
    assert "Déficit moteur d’un membre inférieur ?" in textes and "Règles d’Ottawa" in "".join(
        e.label for e in at.expander)
    assert "Valeur de la lettre-clé kiné" in textes and "2,21\u00a0€" in textes
    assert "8.4 annoncé" in textes or "8,4 annoncé" in textes


def test_page_structure_enregistre_le_cadre_des_nouveaux_triages(depot):
    at = lancer(utilisateur=COORDINATEUR)
    [avertissement] = at.warning  # no structure yet: cabinet, no cooperation protocol
    assert "Structure" in avertissement.value
    aller(at, "structure")
    executer(at.button(key="structure_enregistrer").click())
    [erreur] = at.error
    assert erreur.value == "À renseigner : nom de la structure."
    assert depot.structure.structure() is None

    at.text_input(key="structure_nom").input("MSP du Parc")
    at.selectbox(key="structure_type").set_value("msp")
    at.text_input(key="structure_departement").input("2b")
    at.button_group(key="structure_protocoles").set_value([CHEVILLE])
    executer(at.button(key="structure_enregistrer").click())
    assert at.success and not at.error
    s = depot.structure.structure()
    assert s is not None
    assert (s.nom, s.type, s.departement, s.protocoles_appliques) == ("MSP du Parc", "msp", "2B", [CHEVILLE])

    aller(at, "")
    assert not at.warning
    remplir_patient(at, protocole=CHEVILLE)
    [ligne] = depot.triages.lister()
    cadre = depot.triages.charger(ligne.id).cas["cadre"]
    assert (cadre["structure"], cadre["departement"], cadre["protocole_autorise"]) == ("msp", "2B", True)


def test_erreur_de_saisie_nomme_le_champ_et_les_codes_en_francais_mots_entiers():
    from triage_app.errors import ErreurSaisie, Probleme
    from triage_app.ui.composants import en_francais

    exc = ErreurSaisie([Probleme("type", "attendu parmi msp, esp (espace)"), Probleme("mot_de_passe", "trop court")])
    assert en_francais(exc, {"msp": "MSP", "esp": "ESP"}) == (
        "Type de structure : attendu parmi « MSP », « ESP » (espace) ; Mot de passe : trop court")


# -- identities (issue #14) --------------------------------------------------------------------------------------
def test_identite_ins_et_medecin_traitant_depuis_le_triage(msp):
    """The kiné types the INS and strict traits and confirms the identity document: « qualifiée » only then;
    a wrong key is refused in French naming the field; the médecin traitant is recorded with its RPPS."""
    tid, _ = creer_triage(msp)
    pid = msp.triages.entete(tid)["patient_id"]
    cle = f"triage_{tid}"
    k_ = f"{97 - int(f'{NAISSANCE:1%y%m}78006084') % 97:02d}"  # the NIR's key, computed here another way
    at = lancer(tid)
    assert not any(t.key == f"ins_{cle}" for t in at.text_input)  # the forms are built once the section is open
    ouvrir_volet(at, f"volet_identite_{cle}")
    at.text_input(key=f"ins_{cle}").input(f"{NAISSANCE:1%y%m}78006084" + f"{int(k_) + 1:02d}"[-2:])
    executer(at.button(key=f"enregistrer_identite_{cle}").click())
    assert any("INS : clé incorrecte" in e.value for e in at.error)
    at.text_input(key=f"ins_{cle}").input(f"{NAISSANCE:1 %y %m} 78 006 084 {k_}")
    at.toggle(key=f"insi_{cle}").set_value(True)
    executer(at.button(key=f"enregistrer_identite_{cle}").click())
    assert msp.patients.identite_patient(pid).statut == "recuperee"
    at.selectbox(key=f"piece_{cle}").set_value("cni")
    at.text_input(key=f"nom_naissance_{cle}").input("MARTIN")
    at.text_input(key=f"prenoms_{cle}").input("Paul Louis")
    at.text_input(key=f"lieu_{cle}").input("78646")
    executer(at.button(key=f"enregistrer_identite_{cle}").click())
    assert any("Identité qualifiée" in s.value for s in at.success)
    v = msp.patients.identite_patient(pid)
    assert (v.statut, v.piece_verifiee_par) == ("qualifiee", KINE.identifiant)
    at.text_input(key=f"medecin_nom_{cle}").input("Claire Durand")
    at.text_input(key=f"medecin_rpps_{cle}").input("10001234565")
    executer(at.button(key=f"enregistrer_medecin_{cle}").click())
    assert msp.patients.identite_patient(pid).medecin_rpps == "10001234565"


# -- patient text as typed (issue #16) --------------------------------------------------------------------------
HOSTILES = ["**Gras**", "# Titre", "![i](http://127.0.0.9/x.png)", "a@b.fr", "https://x.fr",
             "{{x*7}}", "$x^2$", "<b>x</b>", "| a | b |",
            ":smile:", "www.exemple.fr", "a_b_c", "`code`", "~~barré~~", "[lien](http://x)", "1. liste"]


@pytest.mark.parametrize("hostile", HOSTILES)
def test_un_texte_hostile_est_echappe_partout_ou_la_page_l_ecrit(msp, hostile):
    """A name or a note holding Markdown is escaped wherever the page writes it (header, Triages row, note): the
    unescaped text is exactly what was typed, and no Markdown character is left active."""
    from triage_app.ui.composants import _MARKDOWN

    pid = msp.patients.creer_patient(nom=hostile, prenom="Paul", date_naissance=NAISSANCE, sexe="M", acteur=ACTEUR)
    eid = msp.episodes.creer_episode(patient_id=pid, protocole=CHEVILLE, date_debut=DEBUT, acteur=ACTEUR)
    tid = msp.triages.creer_triage(episode_id=eid, date_consultation=AUJOURD_HUI, acteur=ACTEUR)
    repondre_tout(msp, tid, CHEVILLE)
    msp.triages.finaliser(tid, acteur=ACTEUR, note=f"avant {hostile} après")
    at = lancer(tid)
    (entete,) = [m.value for m in at.markdown if m.value.startswith("#### ")]
    lignes = [b.label for b in aller(lancer(), "triages").button if b.key == f"ligne_{tid}"]
    for ecrit in (entete.removeprefix("#### "), *lignes):
        assert f"{hostile} Paul" in re.sub(r"\\(.)", r"\1", ecrit).replace("\u2060", ""), ecrit
        # What is left once every escaped character is taken out: nothing active.
        reste = re.sub(r"\\.", "", ecrit)
        assert not _MARKDOWN.search(reste), (ecrit, reste)
        assert not re.search(r"https?://|www\.|@\w", reste), (ecrit, reste)  # no autolink left either
    assert any(html.escape(f"avant {hostile} après", quote=False) in h.value for h in at.get("html"))
