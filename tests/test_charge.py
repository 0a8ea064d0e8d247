"""Many tablets on one server (issue #25): the work of each run, the writes under contention, the server's settings.

The figures themselves (time per tap at 1, 10 and 30 sessions) come from ``bench/charge.py`` into BENCHMARKS.md, not
from here: these tests hold what makes them, so that it cannot creep back — the database reads of each screen's run
(a budget per screen), one write for « Commencer », a busy database tried again, the settings read once per process,
the post-run collection off in the server's command line.
"""

from __future__ import annotations

import collections
import sqlite3
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, func, select
from streamlit.testing.v1 import AppTest  # noqa: TID251  (the page's own test harness)

from tests import ressources, test_page
from tests.connexion import COORDINATEUR, KINE, connecte
from tests.test_page import ACTEUR, APP, AUJOURD_HUI, LOMBALGIE, aller, creer_triage, executer, repondre_tout
from triage_app.cli import serveur as cli_serveur
from triage_app.config import Reglages, reglages
from triage_app.services import unite
from triage_app.services.application import Services
from triage_app.services.patients import PatientNouveau
from triage_app.services.unite import BaseOccupee, ErreurStockage
from triage_app.storage.tables import Episode, EvenementAudit, Patient, Triage

fermer_les_depots = ressources.fermer_les_depots
url_fixture, depot_fixture, msp_fixture = test_page.url_fixture, test_page.depot_fixture, test_page.msp_fixture

# What each screen's full run may read (SELECT statements), measured when the budget was set. A new read on a screen
# fails here: make it cheaper, or raise the budget on purpose, in the same commit, saying why.
BUDGET_LECTURES = {
    # Issue #29: « triages » + 1 (the drafts shown, for their provisional orientation); « triage_final » + 5 (the
    # identities a document for the médecin would print, read to say beforehand what it lacks).
    # Issue #30: « tableau » + 1 (the measures of the period's closed episodes; their routes only when one exists).
    "connexion": 1, "nouveau": 0, "triage_brouillon": 11, "reponse": 12, "triage_final": 16, "triages": 7,
    "patients": 0, "protocoles": 0, "structure": 1, "tableau": 15, "comptes": 1, "compte": 1,
}


class Compteur:
    """The statements the page's storage service sends, by kind (SELECT, INSERT…), during a run."""

    def __init__(self) -> None:
        self.instructions: list[str] = []
        self._moteur: Any = None

    def ecouter(self) -> None:
        from triage_app.ui import etat

        [depot] = etat._depots.values()
        self._moteur = depot.uow.bd
        event.listen(self._moteur, "before_cursor_execute", self._noter)

    def _noter(self, _conn: Any, _curseur: Any, instruction: str, *_: Any) -> None:
        self.instructions.append(instruction.split(None, 1)[0].upper())

    def mesurer(self, action: Any) -> collections.Counter[str]:
        self.instructions.clear()
        action()
        return collections.Counter(self.instructions)

    def fermer(self) -> None:
        if self._moteur is not None:
            event.remove(self._moteur, "before_cursor_execute", self._noter)


@pytest.fixture(name="compteur")
def compteur_fixture():
    c = Compteur()
    yield c
    c.fermer()


def test_lectures_de_chaque_ecran_dans_leur_budget(msp, compteur):
    """Each screen's run reads the database within its budget (a draft, an answer, a final triage with its episode,
    every page of the menu, the login)."""
    brouillon, _ = creer_triage(msp)
    final, eid = creer_triage(msp, nom="Final")
    repondre_tout(msp, final, LOMBALGIE)
    msp.triages.finaliser(final, acteur=ACTEUR)
    # The day of the protocol consultation: not billable, confirmed (rules v3, §9.6); a session all the same.
    msp.episodes.enregistrer_seance(episode_id=eid, jour=AUJOURD_HUI, acteur=ACTEUR, confirmations={"non_cumul"})
    lectures: dict[str, int] = {}
    porte = AppTest.from_file(APP, default_timeout=30)
    executer(porte)  # the first run opens the page's storage service
    from triage_app.ui import etat

    _ = etat.depot_brut().uow.cle  # the audit key, read once per process at its first write: not any screen's cost
    compteur.ecouter()
    lectures["connexion"] = compteur.mesurer(lambda: executer(porte))["SELECT"]
    coordination = executer(connecte(AppTest.from_file(APP, default_timeout=30), COORDINATEUR))
    lectures["nouveau"] = compteur.mesurer(lambda: executer(coordination))["SELECT"]
    for chemin in ("triages", "patients", "protocoles", "structure", "tableau", "comptes", "compte"):
        lectures[chemin] = compteur.mesurer(lambda c=chemin: aller(coordination, c))["SELECT"]
    kine = connecte(AppTest.from_file(APP, default_timeout=30), KINE)
    kine.query_params["triage"] = brouillon
    lectures["triage_brouillon"] = compteur.mesurer(lambda: executer(kine))["SELECT"]
    question = next(s for s in kine.segmented_control if s.key and s.key.startswith("q_"))
    lectures["reponse"] = compteur.mesurer(lambda: executer(question.set_value("non")))["SELECT"]
    kine.query_params["triage"] = final
    lectures["triage_final"] = compteur.mesurer(lambda: executer(kine))["SELECT"]
    depasses = {ecran: (n, BUDGET_LECTURES[ecran]) for ecran, n in lectures.items() if n > BUDGET_LECTURES[ecran]}
    assert not depasses, f"lectures au-delà du budget (mesuré, budget) : {depasses}"
    assert set(lectures) == set(BUDGET_LECTURES)


def test_commencer_ecrit_en_une_transaction_ce_qu_ecrivaient_quatre_appels(msp):
    """« Commencer le triage » for a new patient: the patient, the episode, the draft with the start form's fields, and
    their four audit events, in one write; a found patient with an open episode joins it."""
    avant = msp.audit.verifier_audit().evenements
    demarrage = msp.triages.demarrer_triage(
        protocole=LOMBALGIE, date_debut=AUJOURD_HUI, date_consultation=AUJOURD_HUI,
        nouveau_patient=PatientNouveau("Durand", "Lou", date(1986, 6, 14), "F", "exoneration_100"),
        antecedent_lombalgie=True, champs={"consentement.protocole": True, "cadre.medecin_joignable": True},
        acteur=ACTEUR)
    tid, eid = demarrage.triage_id, demarrage.episode_id
    assert tid and eid and not demarrage.continue_episode and demarrage.homonymes == ()
    t = msp.triages.charger(tid)
    assert t.episode_id == eid and t.statut == "brouillon"
    assert t.cas["consentement"]["protocole"] is True and t.cas["cadre"]["medecin_joignable"] is True
    assert t.cas["patient"]["couverture"] == "exoneration_100" and t.cas["episode"]["antecedent_lombalgie"] is True
    with msp.uow.sessions() as s:
        evenements = list(s.scalars(select(EvenementAudit).where(EvenementAudit.seq > avant)
                                    .order_by(EvenementAudit.seq)))
        # One transaction: the four events carry the same time.
        assert [e.type for e in evenements] == ["creation_patient", "creation_episode", "creation", "modification"]
        assert len({e.horodatage for e in evenements}) == 1
        pid = s.scalar(select(Episode.patient_id).where(Episode.id == eid))
    assert evenements[3].details["valeurs"]["consentement.protocole"] == {"avant": False, "apres": True}
    suite = msp.triages.demarrer_triage(protocole=LOMBALGIE, date_debut=date(2020, 1, 1),
                                        date_consultation=AUJOURD_HUI, patient_id=pid, acteur=ACTEUR)
    assert suite.continue_episode and suite.episode_id == eid and suite.triage_id != tid
    # A new patient with the same name and birth date: the namesake is offered, nothing else is written (the
    # look-up audited as « recherche_doublon »).
    avant = msp.audit.verifier_audit().evenements
    homonyme = msp.triages.demarrer_triage(
        protocole=LOMBALGIE, date_debut=AUJOURD_HUI, date_consultation=AUJOURD_HUI, sauf_homonymes=True,
        nouveau_patient=PatientNouveau("DURAND", "Lucie", date(1986, 6, 14)), acteur=ACTEUR)
    assert homonyme.triage_id is None and [p.id for p in homonyme.homonymes] == [pid]
    with msp.uow.sessions() as s:
        assert [(e.type, e.details) for e in s.scalars(select(EvenementAudit).where(EvenementAudit.seq > avant))] \
            == [("recherche_doublon", {"resultats": 1})]
        assert s.scalar(select(func.count()).select_from(Patient)) == 1
    assert msp.audit.verifier_audit().intact


def test_commencer_refuse_avant_d_ecrire(msp):
    """A refused start (an invalid name, both patients given, an unknown protocol) writes nothing at all."""
    avant = msp.audit.verifier_audit().evenements
    with pytest.raises(ErreurStockage):
        msp.triages.demarrer_triage(protocole="genou", date_debut=AUJOURD_HUI, date_consultation=AUJOURD_HUI,
                                    nouveau_patient=PatientNouveau("Durand", "Lou", date(1986, 6, 14)), acteur=ACTEUR)
    with pytest.raises(ErreurStockage):
        msp.triages.demarrer_triage(protocole=LOMBALGIE, date_debut=AUJOURD_HUI, date_consultation=AUJOURD_HUI,
                                    acteur=ACTEUR)
    with pytest.raises(Exception, match="nom"):
        msp.triages.demarrer_triage(protocole=LOMBALGIE, date_debut=AUJOURD_HUI, date_consultation=AUJOURD_HUI,
                                    nouveau_patient=PatientNouveau(" ", "Lou", date(1986, 6, 14)), acteur=ACTEUR)
    with msp.uow.sessions() as s:
        assert s.scalar(select(Patient.id)) is None and s.scalar(select(Triage.id)) is None
    assert msp.audit.verifier_audit().evenements == avant


def test_une_ecriture_idempotente_est_retentee_quand_la_base_est_occupee(tmp_path, monkeypatch):
    """SQLite locked by another writer past the busy timeout: an answer is tried again and written once; a write
    that is not retried says so in French, nothing written; a lock that stays gives up after the last try."""
    url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    with Services(url, reglages=Reglages(sqlite_busy_timeout_ms=30)) as depot:
        pid = depot.patients.creer_patient(nom="Durand", prenom="Lou", date_naissance=date(1990, 1, 1), acteur=ACTEUR)
        eid = depot.episodes.creer_episode(patient_id=pid, protocole=LOMBALGIE, date_debut=AUJOURD_HUI, acteur=ACTEUR)
        tid = depot.triages.creer_triage(episode_id=eid, date_consultation=AUJOURD_HUI, acteur=ACTEUR)
        verrou = sqlite3.connect(tmp_path / "b.sqlite")
        pauses: list[float] = []

        def pause_qui_libere(duree: float) -> None:  # the other writer commits during the pause
            pauses.append(duree)
            verrou.rollback()

        try:
            verrou.execute("BEGIN IMMEDIATE")
            monkeypatch.setattr(unite.time, "sleep", pause_qui_libere)
            avant = depot.audit.verifier_audit().evenements
            depot.triages.enregistrer_reponse(tid, "rf_troubles_sphincteriens", False, acteur=ACTEUR)
            assert len(pauses) == 1
            assert depot.triages.charger(tid).cas["reponses"]["rf_troubles_sphincteriens"] is False
            assert depot.audit.verifier_audit().evenements == avant + 1  # written once
            verrou.execute("BEGIN IMMEDIATE")
            with pytest.raises(BaseOccupee, match="base de données occupée"):
                depot.patients.creer_patient(nom="Martin", prenom="Paul", date_naissance=date(1990, 1, 1),
                                             acteur=ACTEUR)
            monkeypatch.setattr(unite.time, "sleep", pauses.append)  # the lock is kept this time
            with pytest.raises(BaseOccupee):
                depot.triages.enregistrer_reponse(tid, "rf_troubles_sphincteriens", True, acteur=ACTEUR)
            assert len(pauses) == 1 + unite.ESSAIS_ECRITURE - 1
        finally:
            verrou.rollback()
            verrou.close()
        assert depot.triages.charger(tid).cas["reponses"]["rf_troubles_sphincteriens"] is False
        assert depot.audit.verifier_audit().evenements == avant + 1


def test_les_reglages_de_la_page_sont_lus_une_fois_par_processus(monkeypatch, tmp_path):
    """The page builds its settings once per process (not on each service call), and reads them again only when
    asked (the tests that change them)."""
    reglages.cache_clear()
    monkeypatch.setenv("TRIAGE_INACTIVITE_MINUTES", "7")
    premiers = reglages()
    monkeypatch.setenv("TRIAGE_INACTIVITE_MINUTES", "9")
    assert reglages() is premiers and premiers.inactivite_minutes == 7
    reglages.cache_clear()
    assert reglages().inactivite_minutes == 9
    reglages.cache_clear()


def test_le_serveur_ne_ramasse_pas_les_miettes_apres_chaque_run():
    """The server's command line pins post-run collection off (a full collection after every run held every other
    session: issue #25), with the other pinned settings, whatever the working directory's config says."""
    argv = cli_serveur.commande_serveur(8501)
    assert argv[argv.index("--runner.postScriptGC") + 1] == "false"


# -- a real server, driven over its websocket as a tablet does ------------------------------------------------------
async def _connecter_et_commencer(s: Any, nom: str = "Fragment") -> Any:
    """Log in (the browser tests' kiné) and start a triage for a new patient ``nom`` (a name not used before: the
    same name and birth date would be offered as a namesake first)."""
    from tests import navigateur as nv

    await s.ouvrir()
    s.regler("connexion_identifiant", nv.IDENTIFIANT)
    s.regler("connexion_mdp", nv.MOT_DE_PASSE)
    tour = await s.taper("se_connecter")
    assert "commencer" in tour.widgets, tour.erreurs
    s.regler("protocole", nv.TITRES[LOMBALGIE])
    for cle, valeur in (("patient_nom", nom), ("patient_prenom", "Lou"), ("patient_naissance", "14/06/1986"),
                        ("date_debut", AUJOURD_HUI.strftime("%d/%m/%Y"))):
        s.regler(cle, valeur)
    for cle in ("medecin_delegant", "medecin_joignable", "consentement", "partage_dmp"):
        s.regler(cle, "Oui")
    s.regler("antecedent_lombalgie", True)
    tour = await s.taper("commencer")
    assert any(c.startswith("q_") for c in tour.widgets) and not tour.erreurs and not tour.exceptions
    return tour


@pytest.mark.slow
def test_une_reponse_ne_reexecute_que_la_marche_et_compte_comme_activite(tmp_path):
    """On the real server: an answer reruns the walk's fragment only (not the page), and such taps keep the session
    alive past the idle delay; once idle, a tap in the walk (a fragment's rerun, which does not pass through the
    page's gate) draws the lock screen instead of the walk."""
    import asyncio
    import time

    from tests import navigateur as nv
    from tests.session_ws import SessionStreamlit

    url = f"sqlite:///{tmp_path / 'serveur.sqlite'}"
    nv.preparer_base(url)
    delai_s = 3.0

    async def scenario(adresse: str) -> None:
        s = SessionStreamlit(adresse)
        try:
            await _connecter_et_commencer(s)
            fin = time.monotonic() + delai_s + 1.5  # answering, one tap a second, past the idle delay
            while time.monotonic() < fin:
                ouvertes = [c for c in sorted(s.widgets) if c.startswith("q_") and not s.valeur(c)]
                if not ouvertes:
                    break
                tour = await s.choisir(ouvertes[0], "Non")
                assert tour.fragment, "une réponse a réexécuté toute la page"
                assert "deverrouiller" not in tour.widgets and not tour.exceptions
                await asyncio.sleep(0.8)
            groupe = next(c for c in sorted(s.widgets) if c.startswith("ouvrir_"))
            await asyncio.sleep(delai_s + 0.5)  # idle
            tour = await s.taper(groupe)
            assert "deverrouiller" in tour.widgets and not any(c.startswith("q_") for c in tour.widgets)
            assert not tour.exceptions
        finally:
            await s.fermer()

    with nv.ServeurPage(url, env={"TRIAGE_INACTIVITE_MINUTES": str(delai_s / 60)}) as serveur:
        asyncio.run(scenario(serveur.url))


def test_le_serveur_passe_la_main_entre_sessions_toutes_les_millisecondes():
    """The server's entry point sets the interpreter's hand-over interval to 1 ms before Streamlit starts (a write
    holding the database's lock gets the interpreter back sooner): run here without serving."""
    import subprocess
    import sys

    code = ("import sys; from triage_app.ui import serveur; serveur.installer = lambda: None; "
            "serveur.prechauffer = lambda: None; import streamlit.web.cli as c; c.main = lambda: None; "
            "sys.argv = ['x']; serveur.main(); print(sys.getswitchinterval())")
    sortie = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert float(sortie.stdout.split()[-1]) == 0.001


def test_le_serveur_prechauffe_puis_met_de_cote_ses_objets():
    """Before the first visitor the server compiles the rules, imports the page's modules and sets their objects
    aside from the collector (its full collections then scan only what the sessions made)."""
    import subprocess
    import sys

    code = ("import gc, sys; from triage_app.ui.serveur import prechauffer; prechauffer(); "
            "from triage_app.engine.evaluation import moteur; "
            "print(gc.get_freeze_count(), moteur.cache_info().currsize, 'triage_app.ui.ecrans.triage' in sys.modules)")
    sortie = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    gele, regles, page = sortie.stdout.split()
    assert int(gele) > 50_000 and int(regles) == 1 and page == "True"
