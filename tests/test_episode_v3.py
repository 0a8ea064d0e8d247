"""Rules v3 (specification §9, issue #27): the episode's counts and acts follow the texts, through the services.

Each finding of the issue is reproduced as the kiné meets it (services called as the page calls them) and now
gives what §9 says; the boundaries of each rule are tested on both sides (8th/9th session, the period's last day,
29/30/31 reimbursed sessions, a declaration 364/365/366 days old, the day of / after / after next of a protocol
consultation, the re-assessment windows' edges, a double tap).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests import ressources
from tests.test_episodes import (
    ACTEUR,
    CHEVILLE,
    JOUR,
    LOMBALGIE,
    _brouillon_complet,
    _depot,
    _episode,
    _evenements,
    _final,
    _patient,
    _seances,
    _sqlite,
    _structure,
    _suite,
)
from triage_app.domain.dates import ajouter_mois
from triage_app.services.actes import ConfirmationRequise
from triage_app.services.application import Services
from triage_app.services.unite import ErreurStockage

fermer_les_depots = ressources.fermer_les_depots
J = timedelta(days=1)


def _nouvel_episode_ad(depot: Services, pid: str, debut: date, jour: date, attendu: str = "acces_direct") -> str:
    """A new triage for the patient's back pain in accès direct (the start form's path: open or continue)."""
    eid, _ = depot.episodes.ouvrir_ou_continuer_episode(patient_id=pid, protocole=LOMBALGIE, date_debut=debut,
                                                        antecedent_lombalgie=True, acteur=ACTEUR)
    _final(depot, eid, jour, acces_direct=True, attendu=attendu)
    return eid


# -- §9.1 the accès direct cap belongs to the patient and the condition ------------------------------------------
def test_le_plafond_ne_repart_pas_avec_un_nouvel_episode(tmp_path):
    """Finding 1: after 8 sessions close an episode, a new triage for the same back pain 17 days later used to open
    8 more sessions; now it is the same episode of care: a programmed medical consultation."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        pid = _patient(depot)
        premier = _nouvel_episode_ad(depot, pid, date(2026, 3, 8), JOUR)
        jours = _suite(JOUR, 8, 2)
        _seances(depot, premier, jours)
        assert depot.episodes.etat_episode(premier, jours[-1]).motif_cloture == "plafond"
        second = _nouvel_episode_ad(depot, pid, date(2026, 3, 8), jours[-1] + 17 * J, attendu="medecin_programme")
        assert second != premier
        e = depot.episodes.etat_episode(second, jours[-1] + 17 * J)
        assert (e.statut, e.motif_cloture) == ("clos", "plafond")


@pytest.mark.parametrize("avant", [3, 7])
def test_huitieme_et_neuvieme_seance_a_travers_les_episodes(tmp_path, avant):
    """Sessions of an episode closed by guérison count in the new one's period: the one that makes 8 closes it,
    a 9th is refused."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        pid = _patient(depot)
        premier = _nouvel_episode_ad(depot, pid, date(2026, 3, 8), JOUR)
        _seances(depot, premier, _suite(JOUR, avant))
        depot.episodes.cloturer_episode(premier, motif="guerison", jour=JOUR + avant * J, acteur=ACTEUR)
        debut2 = JOUR + 20 * J
        second = _nouvel_episode_ad(depot, pid, debut2, debut2)
        e = depot.episodes.etat_episode(second, debut2)
        assert (e.seances_periode_acces_direct, e.restantes, e.seances_serie) == (avant, 8 - avant, 0)
        assert e.periode_acces_direct_du == JOUR
        reste = 8 - avant
        _seances(depot, second, _suite(debut2, reste))
        e = depot.episodes.etat_episode(second, debut2 + (reste - 1) * J)
        assert (e.statut, e.motif_cloture, e.seances_periode_acces_direct) == ("clos", "plafond", 8)
        with pytest.raises(ErreurStockage):
            depot.episodes.enregistrer_seance(episode_id=second, jour=debut2 + reste * J, acteur=ACTEUR)


@pytest.mark.parametrize(("ecart", "accepte"), [(0, True), (1, False)])
def test_dernier_jour_de_la_periode_et_le_lendemain(tmp_path, ecart, accepte):
    """Finding 1 (second half): a session after the 3-month period is refused and closes the episode (``duree``);
    the period's last day is still inside."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        pid = _patient(depot)
        eid = _nouvel_episode_ad(depot, pid, date(2026, 3, 8), JOUR)
        _seances(depot, eid, [JOUR])
        fin = ajouter_mois(JOUR, 3)  # exclusive: the last day is the day before
        e = depot.episodes.etat_episode(eid, JOUR)
        assert (e.periode_acces_direct_du, e.periode_acces_direct_au) == (JOUR, fin - J)
        jour = fin - J + ecart * J
        if accepte:
            depot.episodes.enregistrer_seance(episode_id=eid, jour=jour, acteur=ACTEUR)
            e = depot.episodes.etat_episode(eid, jour)
            assert (e.statut, e.seances_periode_acces_direct) == ("ouvert", 2)
        else:  # asked first (a mistyped date would close the episode for good), then refused and closed
            with pytest.raises(ConfirmationRequise) as question:
                depot.episodes.enregistrer_seance(episode_id=eid, jour=jour, acteur=ACTEUR)
            assert question.value.codes == {"fin_periode"} and depot.episodes.etat_episode(eid, jour).statut == "ouvert"
            with pytest.raises(ErreurStockage, match="3 mois"):
                depot.episodes.enregistrer_seance(episode_id=eid, jour=jour, acteur=ACTEUR,
                                                  confirmations={"fin_periode"})
            e = depot.episodes.etat_episode(eid, jour)
            assert (e.statut, e.motif_cloture, e.seances_serie) == ("clos", "duree", 1)
            assert [ev.details["motif"] for ev in _evenements(depot, "cloture_episode")] == ["duree"]
            # A new triage whose onset is inside the closed period: the same episode of care.
            _nouvel_episode_ad(depot, pid, JOUR, jour + 3 * J, attendu="medecin_programme")
            # A new onset after the period: a new period.
            nouveau = _nouvel_episode_ad(depot, pid, fin + 10 * J, fin + 12 * J)
            e = depot.episodes.etat_episode(nouveau, fin + 12 * J)
            assert (e.restantes, e.seances_periode_acces_direct) == (8, None)


# -- §9.3 / §9.4 the 12-month count --------------------------------------------------------------------------------
@pytest.mark.parametrize("aucune", [0, 20])
@pytest.mark.parametrize(("remboursees", "restantes"), [(29, 1), (30, 0), (31, 0), (25, 5), (10, 15)])
def test_seules_les_seances_remboursees_comptent_sur_12_mois(tmp_path, remboursees, restantes, aucune):
    """Finding 2: sessions recorded « aucune » used to count toward the 12-month approval; now only reimbursed
    ones do (29/30/31 reimbursed, with and without 20 « aucune » ones)."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        pid = _patient(depot)
        ancien = _episode(depot, pid, debut=date(2025, 5, 1))
        jours = _suite(date(2025, 4, 1), remboursees + aucune, 1)
        _seances(depot, ancien, jours[:remboursees], "ngap_prescription")
        _seances(depot, ancien, jours[remboursees:], "aucune")
        depot.episodes.cloturer_episode(ancien, motif="guerison", jour=date(2025, 9, 1), acteur=ACTEUR)
        eid = _episode(depot, pid, prescription_medicale=True)
        _final(depot, eid, attendu="sur_prescription")
        e = depot.episodes.etat_episode(eid, JOUR)
        assert e.seances_12_mois == remboursees
        assert e.restantes == max(0, min(15, 30 - remboursees)) == restantes
        assert e.dap_necessaire == (restantes == 0)


def test_l_acces_direct_respecte_la_borne_des_12_mois(tmp_path):
    """Finding 3: 25 reimbursed sessions in the past 12 months: a new accès direct patient has 5 sessions before a
    DAP (and the remark says so); the orientation stays accès direct."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        pid = _patient(depot)
        ancien = _episode(depot, pid, debut=date(2025, 5, 1), prescription_medicale=True)
        _seances(depot, ancien, _suite(date(2025, 5, 2), 25, 2), "ngap_prescription")
        depot.episodes.cloturer_episode(ancien, motif="guerison", jour=date(2025, 8, 1), acteur=ACTEUR)
        eid = _episode(depot, pid)
        tid = _final(depot, eid, acces_direct=True)
        r = depot.triages.charger(tid).resultat
        assert r["seances"]["restantes"] == 5 and r["orientation"] == "acces_direct"
        assert any("DAP : 30 séances sur 12 mois" in x for x in r["facturation"]["remarques"])
        _seances(depot, eid, _suite(JOUR + 2 * J, 5))
        e = depot.episodes.etat_episode(eid, JOUR + 6 * J)
        assert (e.restantes, e.dap_necessaire, e.plafond_atteint, e.statut, e.borne_12_mois) == (
            0, True, False, "ouvert", True)


# -- §9.5 a declared history is dated and expires ------------------------------------------------------------------
@pytest.mark.parametrize(("age", "compte"), [(364, True), (365, True), (366, False)])
def test_une_declaration_expire_apres_12_mois(tmp_path, age, compte):
    """Finding 4: 25 sessions declared in January 2026 used to count forever; now while their date is within the
    12 months before the consultation (2027-01-10 is 365 days after 2026-01-10)."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot), debut=date(2026, 1, 5))
        declaration = date(2026, 1, 10)
        depot.episodes.declarer_historique(eid, seances_12_mois=25, episodes_12_mois=1, motif="autre cabinet",
                                           jour=declaration, acteur=ACTEUR)
        jour = declaration + age * J
        e = depot.episodes.etat_episode(eid, jour)
        assert e.date_declaration == declaration
        assert (e.seances_12_mois, e.declaration_en_cours) == ((25, True) if compte else (0, False))
        assert any("ne compte plus" in r for r in e.remarques) is not compte
        details = [ev.details for ev in _evenements(depot, "declaration_historique")]
        assert details[0]["date"] == {"avant": None, "apres": "2026-01-10"}


def test_la_declaration_porte_la_date_de_la_derniere_seance(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        depot.episodes.declarer_historique(eid, seances_12_mois=4, episodes_12_mois=1, motif="autre cabinet",
                                           jour=JOUR, date_derniere=date(2025, 6, 1), acteur=ACTEUR)
        assert depot.episodes.etat_episode(eid, date(2026, 5, 31)).seances_12_mois == 4
        assert depot.episodes.etat_episode(eid, date(2026, 6, 2)).seances_12_mois == 0
        from triage_app.errors import ErreurSaisie

        with pytest.raises(ErreurSaisie, match="date_declaration"):
            depot.episodes.declarer_historique(eid, seances_12_mois=4, episodes_12_mois=1, motif="x", jour=JOUR,
                                               date_derniere=JOUR + J, acteur=ACTEUR)


# -- §9.6 forfait and NGAP do not combine ---------------------------------------------------------------------------
@pytest.mark.parametrize(("ecart", "non_cumul"), [(0, True), (1, True), (2, False)])
def test_pas_de_seance_ngap_le_jour_ou_le_lendemain_de_la_consultation(tmp_path, ecart, non_cumul):
    """Finding 5: a session the day after the protocol consultation was billed as a forfait; now the page is told
    first, and if the kiné goes on it is stored « aucune »; later sessions of a protocol episode are NGAP."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid)
        jour = JOUR + ecart * J
        if non_cumul:
            with pytest.raises(ConfirmationRequise) as refus:
                depot.episodes.enregistrer_seance(episode_id=eid, jour=jour, acteur=ACTEUR)
            assert refus.value.codes == {"non_cumul"} and "10/03/2026" in str(refus.value)
            assert len(_evenements(depot, "seance")) == 1  # the consultation 1 only: nothing written
            depot.episodes.enregistrer_seance(episode_id=eid, jour=jour, acteur=ACTEUR, confirmations={"non_cumul"})
        else:
            depot.episodes.enregistrer_seance(episode_id=eid, jour=jour, acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, jour)
        seance = e.actes[-1]
        assert (seance.acte, seance.voie) == ("seance", "aucune" if non_cumul else "ngap_prescription")
        assert e.seances_serie == (0 if non_cumul else 1) and e.seances_non_facturees == (1 if non_cumul else 0)


# -- §9.7 the protocol's acts ----------------------------------------------------------------------------------------
def test_finaliser_un_triage_protocole_enregistre_la_consultation_1(tmp_path):
    """Finding 6: finalising a protocol triage recorded no consultation 1 (and the BDK was skipped); now it is
    recorded once, on the consultation date, undoable; the next BDK is at the first session."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        tid = _final(depot, eid)
        e = depot.episodes.etat_episode(eid, JOUR)
        assert [(a.acte, a.date, a.voie) for a in e.actes] == [("consultation_protocole_1", JOUR, "forfait_protocole")]
        assert (e.prochain_bdk, e.seances_serie, e.reevaluation_du) == (1, 0, JOUR + 14 * J)
        # An amended version finalised again records nothing more.
        nid = depot.triages.amender(tid, acteur=ACTEUR)
        depot.triages.finaliser(nid, acteur=ACTEUR)
        assert len(depot.episodes.etat_episode(eid, JOUR).actes) == 1
        with pytest.raises(ErreurStockage, match="déjà enregistrée"):
            depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + 3 * J, acte="consultation_protocole_1",
                                              acteur=ACTEUR)
        depot.episodes.supprimer_seance(e.actes[0].id, acteur=ACTEUR)  # undoable like any act
        assert depot.episodes.etat_episode(eid, JOUR).actes == ()


def test_un_triage_acces_direct_n_enregistre_rien(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid, acces_direct=True)
        assert depot.episodes.etat_episode(eid, JOUR).actes == ()


@pytest.mark.parametrize(("protocole", "jour", "dans"), [
    (LOMBALGIE, 13, False), (LOMBALGIE, 14, True), (LOMBALGIE, 28, True), (LOMBALGIE, 29, False),
    (CHEVILLE, 4, False), (CHEVILLE, 5, True), (CHEVILLE, 7, True), (CHEVILLE, 8, False)])
def test_la_reevaluation_hors_de_sa_fenetre_demande_confirmation(tmp_path, protocole, jour, dans):
    """Finding 6 (second half): a re-assessment three weeks early was accepted without a word; now outside its
    window (back J14–J28, ankle J5–J7 after consultation 1) it is confirmed, then recorded without its forfait."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot), protocole)
        _final(depot, eid)
        quand = JOUR + jour * J
        appel = {"episode_id": eid, "jour": quand, "acte": "consultation_protocole_2", "evolution": "amelioration",
                 "suite": "poursuite", "acteur": ACTEUR}
        if not dans:
            with pytest.raises(ConfirmationRequise) as refus:
                depot.episodes.enregistrer_seance(**appel)
            assert refus.value.codes == {"hors_fenetre"}
            depot.episodes.enregistrer_seance(**appel, confirmations={"hors_fenetre"})
        else:
            depot.episodes.enregistrer_seance(**appel)
        e = depot.episodes.etat_episode(eid, quand)
        assert e.actes[-1].voie == ("forfait_protocole" if dans else "aucune")
        assert any("hors de sa fenêtre" in r for r in e.remarques) is not dans


# -- §9.8 one tap, one act ------------------------------------------------------------------------------------------
def test_un_double_appui_enregistre_une_seance(tmp_path):
    """Finding 7: two taps 150 ms apart recorded two sessions; now the same tap (same key) records one act, and a
    second session on the same day is confirmed first."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid, acces_direct=True)
        premier = depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR, acteur=ACTEUR, cle="geste-0001")
        assert depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR, acteur=ACTEUR, cle="geste-0001") == premier
        assert depot.episodes.etat_episode(eid, JOUR).seances_serie == 1
        assert len(_evenements(depot, "seance")) == 1
        with pytest.raises(ConfirmationRequise) as refus:
            depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR, acteur=ACTEUR, cle="geste-0002")
        assert refus.value.codes == {"meme_jour"}
        depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR, acteur=ACTEUR, cle="geste-0002",
                                          confirmations={"meme_jour"})
        assert depot.episodes.etat_episode(eid, JOUR).seances_serie == 2
        assert _evenements(depot, "seance")[-1].details["confirme"] == ["meme_jour"]
        # A key already used for another act (another day, another act) is refused, never taken for it.
        from triage_app.errors import ErreurSaisie

        with pytest.raises(ErreurSaisie, match="cle"):
            depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + J, acteur=ACTEUR, cle="geste-0001")
        assert len(depot.episodes.etat_episode(eid, JOUR + J).actes) == 2


def test_le_huitieme_appui_repete_ne_dit_pas_episode_clos(tmp_path):
    """The tap that closes the episode at the cap, delivered again: its act, not an error."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid, acces_direct=True)
        _seances(depot, eid, _suite(JOUR, 7))
        huitieme = depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + 7 * J, acteur=ACTEUR, cle="cle-huit")
        assert depot.episodes.etat_episode(eid, JOUR + 7 * J).statut == "clos"
        assert depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + 7 * J, acteur=ACTEUR,
                                                 cle="cle-huit") == huitieme


# -- §9.9 the summary sheet -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("evolution", "suite", "motif"), [
    ("aggravation", "poursuite", "aggravation"), ("stable", "nouveau_triage", "traitement modifié"),
    ("amelioration", "poursuite", None)])
def test_la_fiche_de_synthese_est_due_quand_le_traitement_change(tmp_path, evolution, suite, motif):
    """Finding 9: due only by count; now also after a re-assessment that finds the patient worse or changes the
    plan, and for an adverse event; the panel says why."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid)
        depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + 15 * J, acte="consultation_protocole_2",
                                          evolution=evolution, suite=suite, acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, JOUR + 15 * J)
        assert e.synthese_due is (motif is not None)
        if motif:
            assert any(motif in m for m in e.synthese_motifs)
        depot.episodes.renseigner_issue(eid, repris_par=None, evenement_indesirable=True, evenement_texte="chute",
                                        acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, JOUR + 15 * J)
        assert e.synthese_due and "événement indésirable signalé" in e.synthese_motifs


# -- §9.11 closing reasons -------------------------------------------------------------------------------------------
def test_dap_refusee_est_un_motif_de_cloture(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        depot.episodes.cloturer_episode(eid, motif="dap_refusee", jour=JOUR, acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, JOUR)
        assert e.motif_cloture == "dap_refusee"
        libelles = depot.moteur.registre.commun.libelles.episode.motifs_cloture
        assert set(depot.moteur.registre.commun.episode_de_soins.motifs_cloture) <= set(libelles)


def test_le_brouillon_voit_les_comptes_de_la_periode(tmp_path):
    """The engine's case and the panel read the same counts: a draft after 3 sessions in another episode."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        pid = _patient(depot)
        premier = _nouvel_episode_ad(depot, pid, date(2026, 3, 8), JOUR)
        _seances(depot, premier, _suite(JOUR, 3))
        depot.episodes.cloturer_episode(premier, motif="guerison", jour=JOUR + 3 * J, acteur=ACTEUR)
        second, _ = depot.episodes.ouvrir_ou_continuer_episode(patient_id=pid, protocole=LOMBALGIE,
                                                               date_debut=JOUR + 9 * J, acteur=ACTEUR)
        tid = _brouillon_complet(depot, second, JOUR + 10 * J, acces_direct=True)
        cas = depot.triages.cas_effectif(tid)
        assert cas["episode"]["seances_acces_direct_periode"] == 3
        assert depot.triages.evaluer(tid)["seances"]["restantes"] == 5


def test_un_bilan_enregistre_deplace_le_prochain_bdk(tmp_path):
    """The BDK recorded as its own act covers the 1st session's: the next one is at the 30th."""
    from triage_app.domain.episode import prochain_bdk

    assert [prochain_bdk(n, 0, 29, 20, bilans=1) for n in (0, 3, 29, 30)] == [30, 30, 30, 50]
    assert prochain_bdk(0, 0, 29, 20) == 1 and prochain_bdk(30, 0, 29, 20, bilans=2) == 50
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid, acces_direct=True)
        assert depot.episodes.etat_episode(eid, JOUR).prochain_bdk == 1
        depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR, acte="bilan", acteur=ACTEUR)
        assert depot.episodes.etat_episode(eid, JOUR).prochain_bdk == 30


def test_un_nouveau_debut_apres_la_periode_ouvre_un_nouvel_episode(tmp_path):
    """§9.1: the open accès direct episode's period ended; a new triage with an onset after its end is a new episode
    of care: the old one closes (``duree``), the new one has a new period."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        pid = _patient(depot)
        ancien = _nouvel_episode_ad(depot, pid, date(2026, 3, 8), JOUR)
        _seances(depot, ancien, [JOUR, JOUR + 2 * J])
        fin = ajouter_mois(JOUR, 3)
        nouveau = _nouvel_episode_ad(depot, pid, fin + 5 * J, fin + 8 * J)
        assert nouveau != ancien
        e = depot.episodes.etat_episode(ancien, fin + 8 * J)
        assert (e.statut, e.motif_cloture) == ("clos", "duree")
        assert depot.episodes.etat_episode(nouveau, fin + 8 * J).restantes == 8
        # An onset inside the period (the same pain) continues the open episode.
        autre = _patient(depot, "Autre")
        premier = _nouvel_episode_ad(depot, autre, date(2026, 3, 8), JOUR)
        _seances(depot, premier, [JOUR])
        suite, continue_ = depot.episodes.ouvrir_ou_continuer_episode(patient_id=autre, protocole=LOMBALGIE,
                                                                      date_debut=JOUR + 20 * J, acteur=ACTEUR)
        assert (suite, continue_) == (premier, True)


def test_meme_episode_de_soins_meme_si_une_autre_periode_a_suivi():
    """§9.1: an onset inside a period closed at the cap is the same episode of care, even when a later period
    (another onset) is running on the day of the new triage."""
    from triage_app.domain.compteurs import ActeCompte, Declaration, EpisodeCompte, ReglesComptage, compter

    regles = ReglesComptage(frozenset({"ngap_acces_direct"}), "ngap_acces_direct", 3, frozenset({"plafond", "duree"}),
                            12, 12)
    p1 = EpisodeCompte("p1", date(2026, 1, 5), True, "plafond")
    p2 = EpisodeCompte("p2", date(2026, 6, 1), True)
    d = EpisodeCompte("d", date(2026, 2, 1), True)
    actes = [ActeCompte("p1", date(2026, 1, 6) + k * J, "seance", "ngap_acces_direct") for k in range(8)]
    actes += [ActeCompte("p2", date(2026, 6, 2), "seance", "ngap_acces_direct")]
    c = compter(d, [p1, p2, d], actes, Declaration(None, None, None), date(2026, 6, 10), regles, inclus=False)
    assert c.periode_terminee and c.periode is not None and c.periode.debut == date(2026, 1, 6)
