"""The episode of care in the storage service (issue #12), on SQLite and PostgreSQL: the patient look-up, probable
duplicates, continuing an open episode, the computed and declared 12-month history, sessions and their
counters, the accès direct cap, the DAP threshold, the re-assessment list, the outcome, the RGPD export and
erasure; and the pure functions behind them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from tests import ressources
from triage_app.comptes import ErreurDroits, Utilisateur
from triage_app.domain.episode import etat_revue, fenetre_reevaluation, prochain_bdk
from triage_app.domain.texte import cle_patient, cle_recherche, mots_recherche
from triage_app.errors import TriageError
from triage_app.services.application import Services
from triage_app.services.autorisation import ServiceAutorise
from triage_app.services.unite import ErreurStockage

ACTEUR = "kine"
JOUR = date(2026, 3, 10)
fermer_les_depots = ressources.fermer_les_depots
LOMBALGIE, CHEVILLE = "lombalgie_aigue", "entorse_cheville"


def _depot(url: str) -> Services:
    return Services(url, horloge=lambda: datetime(2026, 3, 10, 9, 0, tzinfo=UTC))


def _structure(depot: Services) -> None:
    depot.structure.enregistrer_structure(nom="MSP", type="msp", departement="38", protocoles_appliques=[LOMBALGIE,
                                                                                                         CHEVILLE],
                                          acteur="coord")


def _final(depot: Services, eid: str, jour: date = JOUR, dmp: bool = True) -> str:
    """A final triage with no sign on the episode (protocol, or accès direct when the DMP sharing is refused)."""
    tid = depot.triages.creer_triage(episode_id=eid, date_consultation=jour, acteur=ACTEUR)
    depot.triages.modifier_brouillon(tid, {"cadre.medecin_delegant_est_medecin_traitant": True,
                                   "cadre.medecin_joignable": True, "consentement.protocole": True,
                                   "consentement.partage_dmp": dmp}, acteur=ACTEUR)
    modele = depot.moteur.protocoles[depot.triages.charger(tid).cas["protocole"]].modele
    reponses = {q.id: q.id == "mecanisme_torsion" for q in modele.questions if q.requis == "toujours"}
    if modele.ottawa is not None:
        reponses.update({z.douleur: False for z in modele.ottawa.zones})
    depot.triages.completer_reponses(tid, reponses, acteur=ACTEUR)
    depot.triages.finaliser(tid, acteur=ACTEUR)
    return tid


def _audit(depot: Services) -> list[tuple[str, str]]:
    with depot.uow.bd.connect() as c:
        return [(r[0], str(r[1])) for r in c.execute(text("SELECT type, details FROM evenements_audit ORDER BY seq"))]


# -- look-up ----------------------------------------------------------------------------------------------------
def test_recherche_sans_accents_ni_casse_et_journalisee_sans_le_texte(url_base):
    with _depot(url_base) as depot:
        lef = depot.patients.creer_patient(nom="Lefèbvre", prenom="Hélène", date_naissance=date(1980, 1, 2),
                                           acteur=ACTEUR)
        saint = depot.patients.creer_patient(nom="Saint-Exupéry", prenom="Zoé", date_naissance=date(1990, 5, 6),
                                             acteur=ACTEUR)
        oe = depot.patients.creer_patient(nom="Œdipe", prenom="Anaïs", date_naissance=date(1970, 7, 8), acteur=ACTEUR)
        depot.patients.creer_patient(nom="Lefebre", prenom="Paul", date_naissance=date(1980, 1, 2), acteur=ACTEUR)
        ids = {"lefebvre": [lef], "LEFÈBVRE hélène": [lef], "helene lef": [lef], "saint exup": [saint],
               "exupery zoe": [saint], "oedipe": [oe], "œdipe": [oe], "08/07/1970": [oe], "1970-07-08": [oe],
               "lefe 02/01/1980": sorted([lef]), "%": [], "_": [], "": [], "   ": []}
        for tape, attendus in ids.items():
            trouves = [p.id for p in depot.patients.rechercher_patients(tape, acteur=ACTEUR)]
            if tape.startswith("lefe "):
                assert lef in trouves and len(trouves) == 2, tape  # Lefèbvre and Lefebre, both born that day
            else:
                assert trouves == attendus, tape
        assert len(depot.patients.rechercher_patients("e", acteur=ACTEUR, limite=2)) == 2
        evenements = [d for t, d in _audit(depot) if t == "recherche_patient"]
        assert len(evenements) == len(ids) + 1
        assert not any(mot in d.lower() for d in evenements for mot in ("lef", "helene", "exup", "oedipe"))


def test_doublons_probables_meme_nom_et_naissance(url_base):
    with _depot(url_base) as depot:
        pid = depot.patients.creer_patient(nom="Dupont", prenom="Jeanne", date_naissance=date(1980, 1, 2),
                                           acteur=ACTEUR)
        depot.patients.creer_patient(nom="Dupontel", prenom="Jeanne", date_naissance=date(1980, 1, 2), acteur=ACTEUR)
        depot.patients.creer_patient(nom="Dupont", prenom="Marc", date_naissance=date(1981, 1, 2), acteur=ACTEUR)
        assert [p.id for p in depot.patients.doublons_probables(nom="DUPONT", date_naissance=date(1980, 1, 2),
                                                                acteur=ACTEUR)] == [pid]
        assert depot.patients.doublons_probables(nom="Durand", date_naissance=date(1980, 1, 2), acteur=ACTEUR) == []
        assert [t for t, _ in _audit(depot)].count("recherche_doublon") == 2


# -- episodes and the 12-month history ---------------------------------------------------------------------------
def test_un_episode_ouvert_du_meme_motif_est_continue(url_base):
    with _depot(url_base) as depot:
        pid = depot.patients.creer_patient(nom="A", prenom="B", date_naissance=date(1980, 1, 2), acteur=ACTEUR)
        eid, continue_ = depot.episodes.ouvrir_ou_continuer_episode(patient_id=pid, protocole=LOMBALGIE,
                                                                    date_debut=date(2026, 3, 1), acteur=ACTEUR)
        assert not continue_
        assert depot.episodes.ouvrir_ou_continuer_episode(patient_id=pid, protocole=LOMBALGIE, date_debut=date(2026, 3,
                                                                                                               8),
                                                          acteur=ACTEUR) == (eid, True)
        assert depot.episodes.etat_episode(eid, JOUR).date_debut == date(2026, 3, 1)
        autre, continue_ = depot.episodes.ouvrir_ou_continuer_episode(patient_id=pid, protocole=CHEVILLE,
                                                                      date_debut=date(2026, 3, 8), acteur=ACTEUR)
        assert autre != eid and not continue_
        depot.episodes.cloturer_episode(eid, motif="guerison", jour=JOUR, acteur=ACTEUR)
        nouveau, continue_ = depot.episodes.ouvrir_ou_continuer_episode(patient_id=pid, protocole=LOMBALGIE,
                                                                        date_debut=JOUR, acteur=ACTEUR)
        assert nouveau not in (eid, autre) and not continue_


def test_historique_calcule_et_declaration_motivee(url_base):
    with _depot(url_base) as depot:
        pid = depot.patients.creer_patient(nom="A", prenom="B", date_naissance=date(1980, 1, 2), acteur=ACTEUR)
        ancien = depot.episodes.creer_episode(patient_id=pid, protocole=LOMBALGIE, date_debut=date(2025, 6, 1),
                                              acteur=ACTEUR)
        for k in range(4):  # two within 12 months of JOUR, two older
            depot.episodes.enregistrer_seance(episode_id=ancien, jour=[date(2025, 2, 1), date(2025, 3, 1),
                                                                       date(2025, 6, 2), date(2025, 6,
                                                                                              9)][k],
                                              voie="ngap_prescription", acteur=ACTEUR)
        cheville = depot.episodes.creer_episode(patient_id=pid, protocole=CHEVILLE, date_debut=date(2025, 9, 1),
                                                acteur=ACTEUR)
        depot.episodes.enregistrer_seance(episode_id=cheville, jour=date(2025, 9, 2), voie="ngap_prescription",
                                          acteur=ACTEUR)  # another protocol
        depot.episodes.cloturer_episode(ancien, motif="guerison", jour=date(2025, 7, 1), acteur=ACTEUR)
        eid = depot.episodes.creer_episode(patient_id=pid, protocole=LOMBALGIE, date_debut=date(2026, 3, 1),
                                           acteur=ACTEUR)
        depot.episodes.enregistrer_seance(episode_id=eid, jour=date(2026, 3, 5), voie="ngap_prescription",
                                          acteur=ACTEUR)  # this episode: the series
        e = depot.episodes.etat_episode(eid, JOUR)
        assert (e.seances_12_mois, e.seances_12_mois_calculees, e.episodes_12_mois, e.seances_serie) == (2, 2, 1, 1)
        with pytest.raises(TriageError, match="seances_12_mois"):
            depot.episodes.declarer_historique(eid, seances_12_mois=1, episodes_12_mois=1, motif="ailleurs", jour=JOUR,
                                               acteur=ACTEUR)
        with pytest.raises(TriageError, match="motif_declaration"):
            depot.episodes.declarer_historique(eid, seances_12_mois=9, episodes_12_mois=1, motif=" ", jour=JOUR,
                                               acteur=ACTEUR)
        depot.episodes.declarer_historique(eid, seances_12_mois=9, episodes_12_mois=2, motif="Cabinet de Grenoble",
                                           jour=JOUR,
                                           acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, JOUR)
        assert (e.seances_12_mois, e.seances_12_mois_calculees, e.episodes_12_mois) == (9, 2, 2)
        [decl] = [d for t, d in _audit(depot) if t == "declaration_historique"]
        assert "9" in decl and "Grenoble" not in decl


# -- sessions, thresholds ----------------------------------------------------------------------------------------
def test_seances_compteurs_bdk_et_reevaluation(url_base):
    with _depot(url_base) as depot:
        _structure(depot)
        pid = depot.patients.creer_patient(nom="A", prenom="B", date_naissance=date(1980, 1, 2), acteur=ACTEUR)
        eid = depot.episodes.creer_episode(patient_id=pid, protocole=LOMBALGIE, date_debut=date(2026, 3, 8),
                                           antecedent_lombalgie=True, acteur=ACTEUR)
        _final(depot, eid)
        bdk = depot.moteur.registre.commun.facturation.bdk
        e = depot.episodes.etat_episode(eid, JOUR)
        assert (e.seances_serie, e.prochain_bdk, e.orientation) == (0, bdk.premiere_si_realisees + 1, "protocole")
        autorisees = e.restantes
        apres = JOUR + timedelta(days=2)  # rules v3: no NGAP act the day of the protocol consultation or the next
        depot.episodes.enregistrer_seance(episode_id=eid, jour=apres, acte="bilan", acteur=ACTEUR)
        sid = depot.episodes.enregistrer_seance(episode_id=eid, jour=apres, acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, apres)
        assert (e.seances_serie, e.restantes, e.prochain_bdk) == (1, autorisees - 1, bdk.puis_si_realisees + 1)
        regle = depot.moteur.protocoles[LOMBALGIE].modele.suivi.reevaluation
        assert (e.reevaluation_du, e.reevaluation_au) == (JOUR + timedelta(days=regle.du_jour),
                                                          JOUR + timedelta(days=regle.au_jour))
        with pytest.raises(TriageError, match="evolution"):
            depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR, acte="consultation_protocole_2", acteur=ACTEUR)
        depot.episodes.supprimer_seance(sid, acteur=ACTEUR)
        assert depot.episodes.etat_episode(eid, apres).seances_serie == 0
        revue = JOUR + timedelta(days=regle.du_jour)
        depot.episodes.enregistrer_seance(episode_id=eid, jour=revue, acte="consultation_protocole_2",
                                          evolution="stable",
                                          suite="poursuite", acteur=ACTEUR)
        assert depot.episodes.etat_episode(eid, revue).statut == "ouvert"
        depot.episodes.enregistrer_seance(episode_id=eid, jour=revue, acte="consultation_protocole_2",
                                          evolution="aggravation", confirmations={"meme_jour"},
                                          suite="medecin", acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, revue)
        assert (e.statut, e.motif_cloture, e.revue) == ("clos", "reprise_medecin", "faite")
        with pytest.raises(ErreurStockage, match="clos"):
            depot.episodes.enregistrer_seance(episode_id=eid, jour=revue, acteur=ACTEUR)


def test_le_plafond_de_l_acces_direct_clot_l_episode(url_base):
    with _depot(url_base) as depot:
        _structure(depot)
        pid = depot.patients.creer_patient(nom="A", prenom="B", date_naissance=date(1980, 1, 2), acteur=ACTEUR)
        eid = depot.episodes.creer_episode(patient_id=pid, protocole=LOMBALGIE, date_debut=date(2026, 3, 8),
                                           antecedent_lombalgie=True, acteur=ACTEUR)
        tid = _final(depot, eid, dmp=False)
        e = depot.episodes.etat_episode(eid, JOUR)
        assert e.orientation == "acces_direct" and e.plafond_acces_direct == e.restantes
        for k in range(e.plafond_acces_direct - 1):
            depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + timedelta(days=k), acteur=ACTEUR)
            assert depot.episodes.etat_episode(eid, JOUR + timedelta(days=k)).seances_serie == k + 1
            assert depot.episodes.etat_episode(eid, JOUR + timedelta(days=k)).statut == "ouvert"
        depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + timedelta(days=10), acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, JOUR + timedelta(days=10))
        assert (e.statut, e.motif_cloture, e.plafond_atteint, e.restantes) == ("clos", "plafond", True, 0)
        with pytest.raises(ErreurStockage):
            depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + timedelta(days=11), acteur=ACTEUR)
        # The next evaluation of the episode's triage orients to the médecin, with the cap's reason.
        cas = depot.triages.charger(tid).cas
        cas["episode"]["seances_realisees_episode"] = e.seances_serie
        cas["episode"]["seances_acces_direct_periode"] = e.seances_periode_acces_direct  # rules v3: the period's
        suivant = depot.moteur.evaluer(cas)
        assert suivant["orientation"] == "medecin_programme"
        assert "plafond_acces_direct" in [m["id"] for m in suivant["motifs"]]


def test_dap_necessaire_apres_28_seances_sur_12_mois_et_2_dans_la_serie(url_base):
    with _depot(url_base) as depot:
        _structure(depot)
        pid = depot.patients.creer_patient(nom="A", prenom="B", date_naissance=date(1980, 1, 2), acteur=ACTEUR)
        ancien = depot.episodes.creer_episode(patient_id=pid, protocole=LOMBALGIE, date_debut=date(2025, 6, 1),
                                              acteur=ACTEUR)
        for k in range(28):
            depot.episodes.enregistrer_seance(episode_id=ancien, jour=date(2025, 6, 2) + timedelta(days=k),
                                              voie="ngap_prescription", acteur=ACTEUR)
        depot.episodes.cloturer_episode(ancien, motif="guerison", jour=date(2025, 8, 1), acteur=ACTEUR)
        eid = depot.episodes.creer_episode(patient_id=pid, protocole=LOMBALGIE, date_debut=date(2026, 3, 8),
                                           antecedent_lombalgie=True, acteur=ACTEUR)
        _final(depot, eid)
        j1, j2 = JOUR + timedelta(days=2), JOUR + timedelta(days=3)
        depot.episodes.enregistrer_seance(episode_id=eid, jour=j1, acteur=ACTEUR)
        assert not depot.episodes.etat_episode(eid, j1).dap_necessaire  # 28 + 1: one session left without approval
        depot.episodes.enregistrer_seance(episode_id=eid, jour=j2, acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, j2)
        assert (e.seances_12_mois, e.seances_serie, e.restantes, e.dap_necessaire) == (28, 2, 0, True)
        assert e.statut == "ouvert"  # a DAP is asked, the episode goes on


def test_a_revoir_due_et_en_retard_seulement(url_base):
    with _depot(url_base) as depot:
        _structure(depot)
        regle = depot.moteur.protocoles[LOMBALGIE].modele.suivi.reevaluation
        eids = {}
        for nom, ecart in (("Due", regle.du_jour), ("Retard", regle.au_jour + 1), ("Avenir", regle.du_jour - 1)):
            pid = depot.patients.creer_patient(nom=nom, prenom="X", date_naissance=date(1980, 1, 2), acteur=ACTEUR)
            consultation = JOUR - timedelta(days=ecart)
            eids[nom] = depot.episodes.creer_episode(patient_id=pid, protocole=LOMBALGIE,
                                                     date_debut=consultation - timedelta(days=2),
                                                     antecedent_lombalgie=True, acteur=ACTEUR)
            _final(depot, eids[nom], jour=consultation)
        assert [(r.patient, r.revue) for r in depot.episodes.a_revoir(JOUR, acteur=ACTEUR)] == [("Retard X",
                                                                                                 "en_retard"),
                                                                                                ("Due X", "due")]
        depot.episodes.cloturer_episode(eids["Retard"], motif="abandon", jour=JOUR, acteur=ACTEUR)
        assert [r.episode_id for r in depot.episodes.a_revoir(JOUR, acteur=ACTEUR)] == [eids["Due"]]
        assert [t for t, _ in _audit(depot)].count("liste_a_revoir") == 2


def test_issue_rgpd_et_effacement(url_base):
    with _depot(url_base) as depot:
        _structure(depot)
        pid = depot.patients.creer_patient(nom="A", prenom="B", date_naissance=date(1980, 1, 2), acteur=ACTEUR)
        eid = depot.episodes.creer_episode(patient_id=pid, protocole=LOMBALGIE, date_debut=date(2026, 3, 8),
                                           antecedent_lombalgie=True, acteur=ACTEUR)
        _final(depot, eid)
        depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + timedelta(days=2), acte="bilan", acteur=ACTEUR)
        with pytest.raises(TriageError, match="repris_par"):
            depot.episodes.cloturer_episode(eid, motif="guerison", jour=JOUR, repris_par="voisin", acteur=ACTEUR)
        with pytest.raises(TriageError, match="motif_cloture"):
            depot.episodes.cloturer_episode(eid, motif="lassitude", jour=JOUR, acteur=ACTEUR)
        depot.episodes.cloturer_episode(eid, motif="guerison", jour=JOUR, acteur=ACTEUR)
        depot.episodes.renseigner_issue(eid, repris_par="delegant", evenement_indesirable=True,
                                        evenement_texte="Malaise vagal", acteur=ACTEUR)
        export = depot.rgpd.exporter_patient(pid, acteur="coord")
        [ep] = export["episodes"]
        assert (ep["statut"], ep["motif_cloture"], ep["repris_par"], ep["evenement_texte"]) == (
            "clos", "guerison", "delegant", "Malaise vagal")
        assert "bilan" in str(export)
        depot.rgpd.effacer_patient(pid, acteur="coord")
        with depot.uow.bd.connect() as c:
            assert c.execute(text("SELECT count(*) FROM seances")).scalar() == 0
            assert c.execute(text("SELECT count(*) FROM episodes")).scalar() == 0
        assert depot.audit.verifier_audit().intact


def test_droits_des_nouvelles_actions(tmp_path):
    with _depot(f"sqlite:///{tmp_path / 'd.sqlite'}") as depot:
        pid = depot.patients.creer_patient(nom="A", prenom="B", date_naissance=date(1980, 1, 2), acteur=ACTEUR)
        eid = depot.episodes.creer_episode(patient_id=pid, protocole=LOMBALGIE, date_debut=date(2026, 3, 8),
                                           acteur=ACTEUR)
        medecin = ServiceAutorise(depot, Utilisateur("med", "Médecin", "medecin"))
        assert medecin.patients.rechercher_patients("a") and medecin.episodes.etat_episode(eid, JOUR).seances_serie == 0
        for action, appel in (
                ("episodes.enregistrer_seance", lambda: medecin.episodes.enregistrer_seance(episode_id=eid, jour=JOUR)),
                ("episodes.declarer_historique", lambda: medecin.episodes.declarer_historique(
                    eid, seances_12_mois=1, episodes_12_mois=0, motif="x", jour=JOUR)),
                ("episodes.cloturer_episode", lambda: medecin.episodes.cloturer_episode(eid, motif="abandon",
                                                                                        jour=JOUR))):
            assert not medecin.peut(action)
            with pytest.raises(ErreurDroits):
                appel()
        e = depot.episodes.etat_episode(eid, JOUR)
        assert e.seances_serie == 0 and e.statut == "ouvert"
        kine = ServiceAutorise(depot, Utilisateur("k", "Kiné", "kine"))
        kine.episodes.enregistrer_seance(episode_id=eid, jour=JOUR, voie="ngap_prescription")
        assert depot.episodes.etat_episode(eid, JOUR).seances_serie == 1
        assert [t for t, _ in _audit(depot)].count("refus") == 3


# -- pure functions ----------------------------------------------------------------------------------------------
def test_prochain_bdk_regle_ngap():
    assert [prochain_bdk(n, 0, 29, 20) for n in (0, 1, 3, 29, 30, 49, 50, 51)] == [1, 30, 30, 30, 50, 50, 70, 70]
    with pytest.raises(ValueError):
        prochain_bdk(3, 0, 29, 0)


@given(st.integers(min_value=0, max_value=500))
def test_prochain_bdk_toujours_apres_les_seances_faites(n):
    assert prochain_bdk(n, 0, 29, 20) > n


def test_fenetre_et_etat_de_la_reevaluation():
    du, au = fenetre_reevaluation(JOUR, 14, 28)
    assert (du, au) == (date(2026, 3, 24), date(2026, 4, 7))
    assert [etat_revue(j, du, au, None) for j in (du - timedelta(days=1), du, au, au + timedelta(days=1))] == [
        "a_venir", "due", "due", "en_retard"]
    assert etat_revue(au + timedelta(days=9), du, au, du) == "faite"


def test_cles_de_recherche():
    assert cle_recherche("Lefèbvre") == "lefebvre"
    assert cle_recherche("SAINT-Exupéry") == "saint exupery"
    assert cle_recherche("Œdipe") == "oedipe" and cle_recherche("D'Aubigné") == "d aubigne"
    assert mots_recherche("  Zoé   d'Arc ") == ["zoe", "d", "arc"]
    assert cle_patient("Müller-Lüdenscheidt", "Gaëlle") == "muller ludenscheidt gaelle"


