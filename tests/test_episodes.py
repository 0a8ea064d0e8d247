"""The episode of care in the storage service (issue #12): the audited patient look-up and probable duplicates,
continuing an open episode, the 12-month history computed from the records and declared with its reason, sessions
and their counters, the accès direct cap, the DAP thresholds, the re-assessment window and the « à revoir » list,
the episode's outcome, the RGPD export and erasure, and who may do each of these through the authorising service.

The tests whose SQL differs between the engines (look-up, history, RGPD) run on SQLite and PostgreSQL
(``url_base``); the others on a SQLite file in ``tmp_path``, as tests/test_export_episode.py does.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests import ressources
from triage_app.comptes import ErreurDroits, Utilisateur
from triage_app.errors import ErreurSaisie
from triage_app.services.actes import ConfirmationRequise
from triage_app.services.application import Services
from triage_app.services.autorisation import ACTIONS, ServiceAutorise
from triage_app.services.unite import ErreurStockage
from triage_app.storage.tables import EvenementAudit, Seance

ACTEUR = "kine.episodes"
JOUR = date(2026, 3, 10)
NAISSANCE = date(1980, 1, 2)
LOMBALGIE, CHEVILLE = "lombalgie_aigue", "entorse_cheville"

# Every Services a test opens is closed at its end (a connection left open is a ResourceWarning, an error here).
fermer_les_depots = ressources.fermer_les_depots


def _depot(url: str) -> Services:
    return Services(url, horloge=lambda: datetime(2026, 3, 10, 9, 0, tzinfo=UTC))


def _sqlite(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/triage.sqlite"


def _structure(depot: Services) -> None:
    depot.structure.enregistrer_structure(nom="MSP des Tilleuls", type="msp", departement="38",
                                          protocoles_appliques=[LOMBALGIE, CHEVILLE], acteur="coord")


def _patient(depot: Services, nom: str = "Martin", prenom: str = "Paul", naissance: date = NAISSANCE) -> str:
    return depot.patients.creer_patient(nom=nom, prenom=prenom, date_naissance=naissance, sexe="M", acteur=ACTEUR)


def _episode(depot: Services, pid: str, protocole: str = LOMBALGIE, debut: date = date(2026, 3, 8), **champs) -> str:
    return depot.episodes.creer_episode(patient_id=pid, protocole=protocole, date_debut=debut,
                                        antecedent_lombalgie=True,
                                        acteur=ACTEUR, **champs)


def _brouillon_complet(depot: Services, eid: str, jour: date = JOUR, *, acces_direct: bool = False,
                       **reponses: bool) -> str:
    """A draft with every « toujours » question answered with no sign (as bench/store.py builds it): oriented to
    the protocol, or to accès direct when the structure is not authorised to apply the protocol."""
    tid = depot.triages.creer_triage(episode_id=eid, date_consultation=jour, acteur=ACTEUR)
    depot.triages.modifier_brouillon(tid, {"cadre.structure": "msp", "cadre.protocole_autorise": not acces_direct,
                                   "cadre.medecin_delegant_est_medecin_traitant": True,
                                   "cadre.medecin_joignable": True, "consentement.protocole": True,
                                   "consentement.partage_dmp": True}, acteur=ACTEUR)
    modele = depot.moteur.protocoles[depot.triages.charger(tid).cas["protocole"]].modele
    valeurs = {q.id: q.id == "mecanisme_torsion" for q in modele.questions if q.requis == "toujours"}
    if modele.ottawa is not None:
        valeurs.update({z.douleur: False for z in modele.ottawa.zones})
    valeurs.update(reponses)
    depot.triages.completer_reponses(tid, valeurs, acteur=ACTEUR)
    return tid


def _final(depot: Services, eid: str, jour: date = JOUR, *, acces_direct: bool = False, attendu: str | None = None,
           **reponses: bool) -> str:
    tid = _brouillon_complet(depot, eid, jour, acces_direct=acces_direct, **reponses)
    orientation = depot.triages.finaliser(tid, acteur=ACTEUR)["orientation"]
    assert orientation == (attendu or ("acces_direct" if acces_direct else "protocole"))
    return tid


def _seances(depot: Services, eid: str, jours: list[date], voie: str | None = None) -> list[int]:
    return [depot.episodes.enregistrer_seance(episode_id=eid, jour=j, voie=voie, acteur=ACTEUR) for j in jours]


def _suite(debut: date, n: int, pas: int = 1) -> list[date]:
    return [debut + timedelta(days=pas * k) for k in range(n)]


def _evenements(depot: Services, type_: str | None = None) -> list[EvenementAudit]:
    with depot.uow.sessions() as s:
        requete = select(EvenementAudit).order_by(EvenementAudit.seq)
        if type_ is not None:
            requete = requete.where(EvenementAudit.type == type_)
        return list(s.scalars(requete))


def _sans_lignes(details: dict) -> dict:
    """An event's details without the digests of the rows its write sealed (issue #28; see test_inviolabilite)."""
    return {k: v for k, v in details.items() if k != "lignes"}


def _journal(depot: Services) -> str:
    """The whole audit table as text (details decoded: no JSON escape hides an accented word)."""
    return "\n".join(f"{e.type} {e.acteur} {e.triage_id} {json.dumps(e.details, ensure_ascii=False)}".casefold()
                     for e in _evenements(depot))


def _problemes(erreur: pytest.ExceptionInfo[ErreurSaisie]) -> dict[str, str]:
    return {p.chemin: p.message for p in erreur.value.problemes}


# -- look-up -----------------------------------------------------------------------------------------------------
def test_recherche_sans_accents_ni_casse_dans_tout_ordre_et_journalisee_sans_le_texte(url_base):
    with _depot(url_base) as depot:
        _structure(depot)
        helene = _patient(depot, "Lefèbvre", "Hélène", date(1981, 4, 2))
        marc = _patient(depot, "LEFEBVRE", "Marc", date(1975, 6, 1))
        antoine = _patient(depot, "Saint-Exupéry", "Antoine", date(1975, 6, 29))
        camille = _patient(depot, "Œuvray", "Camille", date(1990, 12, 24))
        zoe = _patient(depot, "Martin", "Zoé", NAISSANCE)
        paul = _patient(depot, "Martin", "Paul", date(1980, 1, 3))
        ouvert = _episode(depot, helene)
        depot.episodes.cloturer_episode(_episode(depot, helene, CHEVILLE), motif="guerison", jour=JOUR, acteur=ACTEUR)
        cas = {
            "lefebvre": [helene, marc], "LEFÈBVRE": [helene, marc], "Lefebvre": [helene, marc],
            "lefebvre helene": [helene], "Hélène Lefèbvre": [helene], "hel LEF": [helene], "marc lefebvre": [marc],
            "saint exup": [antoine], "SAINT-EXUPERY": [antoine], "antoine exupéry saint": [antoine],
            "oeuvray": [camille], "œuvray": [camille], "ŒUVRAY camille": [camille],
            "martin": [paul, zoe], "martin 02/01/1980": [zoe], "2/1/1980 martin": [zoe], "1980-01-02": [zoe],
            "zoe 02.01.1980": [zoe], "martin 03/01/1980": [paul], "paul 02/01/1980": [], "martin 31/02/1980": [],
            "lefevre": [], "martinez": [], "%": [], "_": [], "%%": [], "_%_": [], "": [], "   ": [], "-'’": [],
            "martin\x00": [],
        }
        trouves = {tape: depot.patients.rechercher_patients(tape, acteur=ACTEUR) for tape in cas}
        assert {tape: [p.id for p in t] for tape, t in trouves.items()} == cas
        [h] = trouves["hel LEF"]
        assert (h.nom, h.prenom, h.date_naissance, h.episodes_ouverts) == ("Lefèbvre", "Hélène", date(1981, 4, 2),
                                                                           (LOMBALGIE,))
        assert depot.episodes.episode_ouvert(helene, LOMBALGIE) == ouvert
        assert [p.id for p in depot.patients.rechercher_patients("e", acteur=ACTEUR, limite=2)] == [helene, marc]
        assert len(depot.patients.rechercher_patients("martin", acteur=ACTEUR, limite=1)) == 1

        # One event per look-up, holding the number of patients found and nothing else.
        recherches = _evenements(depot, "recherche_patient")
        assert [e.details for e in recherches] == (
            [{"resultats": len(t)} for t in trouves.values()] + [{"resultats": 2}, {"resultats": 1}])
        assert {e.acteur for e in recherches} == {ACTEUR}
        journal = _journal(depot)
        for tape in ("lefebvre", "lefèbvre", "helene", "hélène", "exup", "oeuvray", "œuvray", "martin", "zoe",
                     "02/01/1980", "1980-01-02", "02.01.1980"):
            assert tape not in journal, tape


def test_fiche_patient_ses_episodes_et_sa_consultation_journalisee(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        pid = _patient(depot)
        ancien = _episode(depot, pid, debut=date(2025, 5, 1))
        depot.episodes.cloturer_episode(ancien, motif="guerison", jour=date(2025, 6, 1), acteur=ACTEUR)
        cheville = _episode(depot, pid, CHEVILLE, debut=date(2026, 3, 1))
        trouve, etats = depot.patients.fiche_patient(pid, JOUR, acteur=ACTEUR)
        assert trouve.episodes_ouverts == (CHEVILLE,)
        assert [(e.episode_id, e.statut) for e in etats] == [(cheville, "ouvert"), (ancien, "clos")]  # newest first
        assert [e.details for e in _evenements(depot, "consultation_patient")] == [{"patient": pid}]
        with pytest.raises(ErreurStockage, match="introuvable"):
            depot.patients.fiche_patient("0" * 32, JOUR, acteur=ACTEUR)


# -- probable duplicates -----------------------------------------------------------------------------------------
def test_doublons_probables_meme_nom_et_meme_naissance(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        jeanne = _patient(depot, "Dupont", "Jeanne")
        lea = _patient(depot, "Dupont-Martin", "Léa")
        dupond = _patient(depot, "Dupond", "Jeanne")
        marc = _patient(depot, "Dupont", "Marc", date(1981, 1, 2))
        _patient(depot, "Lefèbvre", "Hélène")
        _episode(depot, jeanne)

        def doublons(nom: str, naissance: date = NAISSANCE) -> list[str]:
            return [p.id for p in depot.patients.doublons_probables(nom=nom, date_naissance=naissance, acteur=ACTEUR)]

        for nom in ("Dupont", "DUPONT", "dupont ", "Dupônt"):
            assert doublons(nom) == [jeanne], nom
        assert doublons("Dupont", date(1981, 1, 2)) == [marc]
        assert doublons("dupont martin") == doublons("DUPONT-MARTIN") == [lea]
        assert doublons("Dupond") == [dupond]
        assert doublons("Lefebvre") != [] and doublons("lefèbvre") == doublons("Lefebvre")
        assert doublons("Dupont", date(1990, 1, 2)) == [] and doublons("Durand") == [] and doublons("Dupon") == []
        [p] = depot.patients.doublons_probables(nom="dupont", date_naissance=NAISSANCE, acteur=ACTEUR)
        assert (p.nom, p.prenom, p.episodes_ouverts) == ("Dupont", "Jeanne", (LOMBALGIE,))
        evenements = _evenements(depot, "recherche_doublon")
        assert len(evenements) == 15 and [e.details for e in evenements[:4]] == [{"resultats": 1}] * 4
        assert [e.details for e in evenements[-4:]] == [{"resultats": 0}] * 3 + [{"resultats": 1}]
        assert "dupont" not in _journal(depot) and "1980-01-02" not in _journal(depot)


# -- episodes ----------------------------------------------------------------------------------------------------
def test_un_episode_ouvert_du_meme_protocole_est_continue(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        pid = _patient(depot)
        assert depot.episodes.episode_ouvert(pid, LOMBALGIE) is None
        eid, continue_ = depot.episodes.ouvrir_ou_continuer_episode(patient_id=pid, protocole=LOMBALGIE,
                                                                    date_debut=date(2026, 3, 1), acteur=ACTEUR)
        assert not continue_ and depot.episodes.episode_ouvert(pid, LOMBALGIE) == eid
        # The same protocol again: the open episode, with its own onset date and prescription.
        assert depot.episodes.ouvrir_ou_continuer_episode(patient_id=pid, protocole=LOMBALGIE, date_debut=date(2026, 3,
                                                                                                               9),
                                                          prescription_medicale=True, diagnostic_medical_prealable=True,
                                                          acteur=ACTEUR) == (eid, True)
        etat = depot.episodes.etat_episode(eid, JOUR)
        assert (etat.date_debut, etat.prescription_medicale, etat.diagnostic_medical_prealable) == (
            date(2026, 3, 1), False, False)
        assert len(_evenements(depot, "creation_episode")) == 1
        # Another protocol: a new episode, the first one still open.
        cheville, continue_ = depot.episodes.ouvrir_ou_continuer_episode(patient_id=pid, protocole=CHEVILLE,
                                                                         date_debut=date(2026, 3, 9), acteur=ACTEUR)
        assert cheville != eid and not continue_ and depot.episodes.episode_ouvert(pid, LOMBALGIE) == eid
        # Once closed, the same protocol opens a new episode.
        depot.episodes.cloturer_episode(eid, motif="guerison", jour=JOUR, acteur=ACTEUR)
        assert depot.episodes.episode_ouvert(pid, LOMBALGIE) is None
        nouveau, continue_ = depot.episodes.ouvrir_ou_continuer_episode(patient_id=pid, protocole=LOMBALGIE,
                                                                        date_debut=JOUR,
                                                                        prescription_medicale=True, acteur=ACTEUR)
        assert nouveau not in (eid, cheville) and not continue_
        etat = depot.episodes.etat_episode(nouveau, JOUR)
        assert (etat.date_debut, etat.prescription_medicale, etat.statut) == (JOUR, True, "ouvert")
        # Another patient's open episode is never continued.
        autre, continue_ = depot.episodes.ouvrir_ou_continuer_episode(patient_id=_patient(depot, "Autre"),
                                                                      protocole=CHEVILLE,
                                                                      date_debut=JOUR, acteur=ACTEUR)
        assert autre != cheville and not continue_


# -- the 12-month history ----------------------------------------------------------------------------------------
def test_historique_sur_12_mois_calcule_depuis_les_enregistrements(url_base):
    with _depot(url_base) as depot:
        pid = _patient(depot)
        # 12 months before JOUR (2026-03-10) starts on 2025-03-10.
        tres_ancien = _episode(depot, pid, debut=date(2024, 12, 1))  # onset out of the 12 months
        _seances(depot, tres_ancien, [date(2025, 1, 5), date(2025, 3, 9), date(2025, 3, 10)], "ngap_prescription")
        depot.episodes.cloturer_episode(tres_ancien, motif="guerison", jour=date(2025, 3, 20), acteur=ACTEUR)
        ancien = _episode(depot, pid, debut=date(2025, 6, 1))
        _seances(depot, ancien, [date(2025, 6, 2), date(2025, 6, 4)], "ngap_prescription")
        depot.episodes.enregistrer_seance(episode_id=ancien, jour=date(2025, 6, 3), acte="bilan", acteur=ACTEUR)
        depot.episodes.cloturer_episode(ancien, motif="guerison", jour=date(2025, 7, 1), acteur=ACTEUR)
        cheville = _episode(depot, pid, CHEVILLE, debut=date(2025, 12, 1))  # another protocol
        _seances(depot, cheville, _suite(date(2025, 12, 2), 4), "ngap_prescription")
        autre_patient = _episode(depot, _patient(depot, "Autre"), debut=date(2025, 9, 1))
        _seances(depot, autre_patient, _suite(date(2025, 9, 2), 3), "ngap_prescription")
        eid = _episode(depot, pid, debut=date(2026, 3, 1))
        # This episode: the series, not the history.
        _seances(depot, eid, [date(2026, 3, 2), date(2026, 3, 9)], "ngap_prescription")

        e = depot.episodes.etat_episode(eid, JOUR)
        assert (e.seances_serie, e.seances_12_mois, e.seances_12_mois_calculees) == (2, 3, 3)
        assert (e.episodes_12_mois, e.episodes_12_mois_calcules, e.motif_declaration) == (1, 1, None)
        assert depot.episodes.compter_seances(eid, JOUR) == (2, 3)
        tid = depot.triages.creer_triage(episode_id=eid, date_consultation=JOUR, acteur=ACTEUR)
        episode = depot.triages.cas_effectif(tid)["episode"]
        assert (episode["seances_realisees_episode"], episode["seances_12_mois"]) == (2, 3)
        assert episode["episodes_anterieurs_12_mois"] == 1
        # The window slides with the day: three months later, the old episode's sessions are out of it.
        e = depot.episodes.etat_episode(eid, date(2026, 6, 10))
        assert (e.seances_serie, e.seances_12_mois, e.episodes_12_mois) == (2, 0, 0)
        # The other protocol's episode counts its own history the same way.
        assert depot.episodes.etat_episode(cheville, JOUR).seances_12_mois == 0


def test_historique_declare_motive_jamais_sous_les_enregistrements(url_base):
    with _depot(url_base) as depot:
        pid = _patient(depot)
        ancien = _episode(depot, pid, debut=date(2025, 6, 1))
        _seances(depot, ancien, _suite(date(2025, 6, 2), 3), "ngap_prescription")
        depot.episodes.cloturer_episode(ancien, motif="guerison", jour=date(2025, 7, 1), acteur=ACTEUR)
        eid = _episode(depot, pid, debut=date(2026, 3, 1))
        assert depot.episodes.etat_episode(eid, JOUR).seances_12_mois_calculees == 3

        def declarer(seances: int, episodes: int, motif: str = "Séances dans un autre cabinet") -> None:
            depot.episodes.declarer_historique(eid, seances_12_mois=seances, episodes_12_mois=episodes, motif=motif,
                                               jour=JOUR,
                                               acteur=ACTEUR)

        with pytest.raises(ErreurSaisie) as refus:
            declarer(2, 0)
        assert _problemes(refus).keys() == {"seances_12_mois", "episodes_12_mois"}
        assert "au moins 3" in _problemes(refus)["seances_12_mois"]
        assert "au moins 1" in _problemes(refus)["episodes_12_mois"]
        with pytest.raises(ErreurSaisie) as refus:
            declarer(-1, 1)
        assert _problemes(refus).keys() == {"seances_12_mois"}
        for motif in ("", "   ", "cabinet\x00"):
            with pytest.raises(ErreurSaisie) as refus:
                declarer(9, 2, motif)
            assert _problemes(refus).keys() == {"motif_declaration"}
        with pytest.raises(ErreurSaisie) as refus:
            declarer(501, 1)
        assert _problemes(refus).keys() == {"seances_12_mois"}
        assert not _evenements(depot, "declaration_historique")
        assert depot.episodes.etat_episode(eid, JOUR).seances_12_mois == 3

        motif = "Séances au cabinet Œuvray, à Grenoble"
        declarer(4, 1, motif)  # the records' own count is accepted as a floor
        e = depot.episodes.etat_episode(eid, JOUR)
        assert (e.seances_12_mois, e.seances_12_mois_calculees, e.motif_declaration) == (4, 3, motif)
        # (The records of another episode of this condition cannot grow meanwhile: it is closed, issue #28.)
        declarer(12, 2, motif)
        e = depot.episodes.etat_episode(eid, JOUR)
        assert (e.seances_12_mois, e.seances_12_mois_calculees, e.episodes_12_mois, e.episodes_12_mois_calcules) == (
            12, 3, 2, 1)
        tid = depot.triages.creer_triage(episode_id=eid, date_consultation=JOUR, acteur=ACTEUR)
        assert depot.triages.cas_effectif(tid)["episode"]["seances_12_mois"] == 12
        assert depot.triages.cas_effectif(tid)["episode"]["episodes_anterieurs_12_mois"] == 2

        assert [_sans_lignes(e.details) for e in _evenements(depot, "declaration_historique")] == [
            {"episode": eid, "seances_12_mois": {"avant": None, "apres": 4},
             "episodes_12_mois": {"avant": None, "apres": 1}, "date": {"avant": None, "apres": "2026-03-10"}},
            {"episode": eid, "seances_12_mois": {"avant": 4, "apres": 12},
             "episodes_12_mois": {"avant": 1, "apres": 2}, "date": {"avant": "2026-03-10", "apres": "2026-03-10"}}]
        journal = _journal(depot)
        assert "grenoble" not in journal and "cabinet" not in journal
        depot.episodes.cloturer_episode(eid, motif="abandon", jour=JOUR, acteur=ACTEUR)
        with pytest.raises(ErreurStockage, match="clos"):
            declarer(20, 2)


# -- sessions and their counters ---------------------------------------------------------------------------------
def test_compteurs_des_seances_bdk_et_fiche_de_synthese(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid)
        seuil = depot.moteur.registre.commun.suivi_episode.seuil_fiche_synthese
        e = depot.episodes.etat_episode(eid, JOUR)
        autorisees = e.autorisees
        assert (e.seances_serie, e.restantes, e.prochain_bdk, e.voie) == (0, autorisees, 1, "forfait_protocole")
        assert autorisees == 15 and not e.dap_necessaire and not e.synthese_due and e.seuil_synthese == seuil
        # Rules v3: the protocol's consultation 1 is recorded at finalisation; NGAP acts from the day after next.
        debut = JOUR + timedelta(days=2)
        depot.episodes.enregistrer_seance(episode_id=eid, jour=debut, acte="bilan", acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, debut)
        # A bilan is not a session; recorded, it covers the 1st session's BDK: the next one is at the 30th.
        assert (e.seances_serie, e.restantes, e.prochain_bdk) == (0, autorisees, 30)
        assert [(a.acte, a.voie) for a in e.actes] == [("consultation_protocole_1", "forfait_protocole"),
                                                       ("bilan", "ngap_prescription")]
        jours = _suite(debut, 30)
        depot.episodes.enregistrer_seance(episode_id=eid, jour=jours[0], acteur=ACTEUR, confirmations={"meme_jour"})
        e = depot.episodes.etat_episode(eid, debut)
        assert (e.seances_serie, e.restantes, e.prochain_bdk) == (1, autorisees - 1, 30)
        assert depot.episodes.etat_episode(eid, debut - timedelta(days=1)).seances_serie == 0  # from its own day
        faites = 1
        for n in (seuil - 1, seuil, 14, 15, 29, 30):
            _seances(depot, eid, jours[faites:n])
            faites = n
            e = depot.episodes.etat_episode(eid, jours[-1])
            assert e.seances_serie == n
            assert e.restantes == max(0, autorisees - n)
            assert e.prochain_bdk == (30 if n < 30 else 50), n
            assert e.synthese_due == (n >= seuil), n
            assert e.dap_necessaire == (n >= 15), n  # the back: a DAP from the 16th session of the series
            assert e.statut == "ouvert"  # past the threshold a DAP is asked; nothing closes the episode
        assert len(_evenements(depot, "seance")) == 32


def test_la_reevaluation_demande_evolution_et_suite(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid)

        def revue(**champs: Any) -> int:
            return depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + timedelta(days=15),
                                                     acte="consultation_protocole_2", acteur=ACTEUR, **champs)

        with pytest.raises(ErreurSaisie) as refus:
            revue()
        assert _problemes(refus).keys() == {"evolution", "suite"}
        with pytest.raises(ErreurSaisie) as refus:
            revue(evolution="amelioration")
        assert _problemes(refus).keys() == {"suite"}
        with pytest.raises(ErreurSaisie, match="evolution"):
            revue(evolution="mieux", suite="poursuite")
        with pytest.raises(ErreurSaisie, match="suite"):
            revue(evolution="stable", suite="on verra")
        with pytest.raises(ErreurSaisie, match="evolution"):  # only the re-assessment carries them
            depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR, evolution="stable", suite="poursuite",
                                              acteur=ACTEUR)
        with pytest.raises(ErreurSaisie, match="acte"):
            depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR, acte="massage", acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, JOUR)
        assert [a.acte for a in e.actes] == ["consultation_protocole_1"]  # recorded at finalisation (rules v3)
        assert e.reevaluation_faite_le is None and e.revue is not None
        assert len(_evenements(depot, "seance")) == 1


@pytest.mark.parametrize(("suite", "statut", "motif"), [
    ("poursuite", "ouvert", None), ("nouveau_triage", "ouvert", None), ("guerison", "clos", "guerison"),
    ("medecin", "clos", "reprise_medecin")])
def test_la_suite_de_la_reevaluation(tmp_path, suite, statut, motif):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid)
        _seances(depot, eid, _suite(JOUR + timedelta(days=2), 3))
        jour = JOUR + timedelta(days=depot.moteur.protocoles[LOMBALGIE].modele.suivi.reevaluation.du_jour)
        depot.episodes.enregistrer_seance(episode_id=eid, jour=jour, acte="consultation_protocole_2",
                                          evolution="amelioration",
                                          suite=suite, acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, jour)
        assert (e.statut, e.motif_cloture, e.date_cloture) == (statut, motif, jour if motif else None)
        assert (e.reevaluation_faite_le, e.revue, e.seances_serie) == (jour, "faite", 3)
        assert (e.actes[-1].acte, e.actes[-1].evolution, e.actes[-1].suite) == (
            "consultation_protocole_2", "amelioration", suite)
        assert [ev.details["motif"] for ev in _evenements(depot, "cloture_episode")] == ([motif] if motif else [])
        if motif:
            with pytest.raises(ErreurStockage, match="clos"):
                depot.episodes.enregistrer_seance(episode_id=eid, jour=jour, acteur=ACTEUR)
        else:  # a session the day of the re-assessment: not billable (rules v3, §9.6), confirmed, outside the counts
            with pytest.raises(ConfirmationRequise):
                depot.episodes.enregistrer_seance(episode_id=eid, jour=jour, acteur=ACTEUR)
            depot.episodes.enregistrer_seance(episode_id=eid, jour=jour + timedelta(days=2), acteur=ACTEUR)
            assert depot.episodes.etat_episode(eid, jour + timedelta(days=2)).seances_serie == 4


def test_supprimer_une_seance_sur_un_episode_ouvert_seulement(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid)
        (consultation,) = (a.id for a in depot.episodes.etat_episode(eid, JOUR).actes)
        premiere, seconde = _seances(depot, eid, [JOUR + timedelta(days=2), JOUR + timedelta(days=3)])
        depot.episodes.supprimer_seance(seconde, acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, JOUR + timedelta(days=3))
        assert [a.id for a in e.actes] == [consultation, premiere]
        assert e.seances_serie == 1 and e.restantes == e.autorisees - 1
        assert [_sans_lignes(ev.details) for ev in _evenements(depot, "suppression_seance")] == [
            {"episode": eid, "seance": seconde}]
        with pytest.raises(ErreurStockage, match="introuvable"):
            depot.episodes.supprimer_seance(seconde, acteur=ACTEUR)
        depot.episodes.cloturer_episode(eid, motif="abandon", jour=JOUR + timedelta(days=4), acteur=ACTEUR)
        with pytest.raises(ErreurStockage, match="clos"):
            depot.episodes.supprimer_seance(premiere, acteur=ACTEUR)
        assert [a.id for a in depot.episodes.etat_episode(eid, JOUR + timedelta(days=4)).actes] == [consultation,
                                                                                                  premiere]


# -- the accès direct cap ----------------------------------------------------------------------------------------
def test_le_plafond_de_l_acces_direct_clot_l_episode_vers_le_medecin(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid, acces_direct=True)
        e = depot.episodes.etat_episode(eid, JOUR)
        assert (e.orientation, e.voie, e.plafond_acces_direct, e.restantes) == (
            "acces_direct", "ngap_acces_direct", 8, 8)
        jours = _suite(JOUR, 9)
        _seances(depot, eid, jours[:7])
        e = depot.episodes.etat_episode(eid, jours[6])
        assert (e.statut, e.seances_serie, e.restantes, e.plafond_atteint) == ("ouvert", 7, 1, False)
        assert not _evenements(depot, "cloture_episode")
        # The 8th session reaches the cap: recorded, and the episode is closed towards the médecin.
        depot.episodes.enregistrer_seance(episode_id=eid, jour=jours[7], acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, jours[7])
        assert (e.statut, e.motif_cloture, e.date_cloture) == ("clos", "plafond", jours[7])
        assert (e.seances_serie, e.restantes, e.plafond_atteint, e.dap_necessaire) == (8, 0, True, False)
        assert [_sans_lignes(ev.details) for ev in _evenements(depot, "cloture_episode")] == [
            {"episode": eid, "motif": "plafond"}]
        # A further session is refused; nothing is recorded.
        with pytest.raises(ErreurStockage):
            depot.episodes.enregistrer_seance(episode_id=eid, jour=jours[8], acteur=ACTEUR)
        assert depot.episodes.etat_episode(eid, jours[8]).seances_serie == 8 and len(_evenements(depot, "seance")) == 8
        # The next triage of the episode orients to a programmed medical consultation, for the cap.
        tid = _brouillon_complet(depot, eid, jours[8], acces_direct=True)
        r = depot.triages.evaluer(tid)
        assert r["orientation"] == "medecin_programme"
        assert [m["id"] for m in r["motifs"]] == ["plafond_acces_direct"]


def test_le_plafond_compte_une_seance_saisie_apres_coup(tmp_path):
    """Sessions entered late, the latest first: the one that makes 8 closes the episode all the same."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid, acces_direct=True)
        jours = _suite(JOUR, 8)
        _seances(depot, eid, jours[:0:-1])  # the 8th, 7th… 2nd: 7 sessions
        assert depot.episodes.etat_episode(eid, jours[-1]).statut == "ouvert"
        depot.episodes.enregistrer_seance(episode_id=eid, jour=jours[0], acteur=ACTEUR)  # the 1st, entered last
        e = depot.episodes.etat_episode(eid, jours[-1])
        assert (e.statut, e.motif_cloture, e.seances_serie) == ("clos", "plafond", 8)
        assert e.date_cloture == jours[-1]  # closed as of its last session
        with pytest.raises(ErreurStockage):
            depot.episodes.enregistrer_seance(episode_id=eid, jour=jours[-1] + timedelta(days=1), acteur=ACTEUR)


def test_pas_de_plafond_avec_un_diagnostic_medical_prealable(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot), diagnostic_medical_prealable=True)
        _final(depot, eid, acces_direct=True)
        _seances(depot, eid, _suite(JOUR, 9))
        e = depot.episodes.etat_episode(eid, JOUR + timedelta(days=8))
        assert (e.orientation, e.plafond_acces_direct, e.plafond_atteint) == ("acces_direct", None, False)
        assert (e.statut, e.seances_serie, e.restantes) == ("ouvert", 9, e.autorisees - 9)


# -- the DAP thresholds ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("anciennes", "dap"), [(28, True), (27, False), (29, True)])
def test_dap_du_dos_au_dela_de_30_seances_sur_12_mois(tmp_path, anciennes, dap):
    """Back: a DAP from the 31st session over 12 months. 28 on another (closed) episode of the same protocol in
    the past 12 months plus 2 in the series: the next session needs it."""
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        pid = _patient(depot)
        ancien = _episode(depot, pid, debut=date(2025, 5, 1))
        _seances(depot, ancien, _suite(date(2025, 5, 2), anciennes, 2), "ngap_prescription")
        depot.episodes.cloturer_episode(ancien, motif="guerison", jour=date(2025, 8, 1), acteur=ACTEUR)
        eid = _episode(depot, pid)
        _final(depot, eid)
        jours = [JOUR + timedelta(days=2), JOUR + timedelta(days=3)]
        _seances(depot, eid, jours)
        e = depot.episodes.etat_episode(eid, jours[-1])
        assert (e.seances_12_mois, e.seances_serie) == (anciennes, 2)
        assert e.restantes == max(0, 30 - anciennes - 2)
        assert e.dap_necessaire is dap and e.statut == "ouvert"
        assert depot.documents.dossier_episode(eid, jours[-1], acteur=ACTEUR).etat.dap_necessaire is dap


@pytest.mark.parametrize(("seances", "dap"), [(9, False), (10, True)])
def test_dap_de_la_cheville_a_partir_de_la_11e_seance(tmp_path, seances, dap):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot), CHEVILLE)
        _final(depot, eid)
        _seances(depot, eid, _suite(JOUR + timedelta(days=2), seances))
        e = depot.episodes.etat_episode(eid, JOUR + timedelta(days=seances + 2))
        assert (e.autorisees, e.restantes, e.dap_necessaire) == (10, 10 - seances, dap)


def test_la_cheville_n_a_pas_de_borne_sur_12_mois(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        pid = _patient(depot)
        ancien = _episode(depot, pid, CHEVILLE, debut=date(2025, 5, 1))
        _seances(depot, ancien, _suite(date(2025, 5, 2), 28), "ngap_prescription")
        depot.episodes.cloturer_episode(ancien, motif="guerison", jour=date(2025, 8, 1), acteur=ACTEUR)
        eid = _episode(depot, pid, CHEVILLE)
        _final(depot, eid)
        jours = [JOUR + timedelta(days=2), JOUR + timedelta(days=3)]
        _seances(depot, eid, jours)
        e = depot.episodes.etat_episode(eid, jours[-1])
        assert (e.seances_12_mois, e.seances_serie, e.restantes, e.dap_necessaire) == (28, 2, 8, False)


# -- re-assessment window and « à revoir » -----------------------------------------------------------------------
@pytest.mark.parametrize("protocole", [LOMBALGIE, CHEVILLE])
def test_fenetre_de_reevaluation_depuis_la_consultation_initiale(tmp_path, protocole):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        regle = depot.moteur.protocoles[protocole].modele.suivi.reevaluation
        eid = _episode(depot, _patient(depot), protocole)
        assert depot.episodes.etat_episode(eid, JOUR).revue is None  # no protocol consultation yet: no window
        _final(depot, eid)
        du, au = JOUR + timedelta(days=regle.du_jour), JOUR + timedelta(days=regle.au_jour)
        etats = {j: depot.episodes.etat_episode(eid, j) for j in (du - timedelta(days=1), du, au,
                                                                  au + timedelta(days=1))}
        assert {(e.reevaluation_du, e.reevaluation_au) for e in etats.values()} == {(du, au)}
        assert [e.revue for e in etats.values()] == ["a_venir", "due", "due", "en_retard"]
        # The window counts from the consultation 1 finalising recorded (rules v3, §9.7): removed and recorded
        # again two days later, the window moves with it.
        (consultation,) = depot.episodes.etat_episode(eid, JOUR).actes
        assert (consultation.acte, consultation.date) == ("consultation_protocole_1", JOUR)
        depot.episodes.supprimer_seance(consultation.id, acteur=ACTEUR)
        depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + timedelta(days=2),
                                          acte="consultation_protocole_1",
                                          acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, du)
        assert (e.reevaluation_du, e.revue) == (du + timedelta(days=2), "a_venir")


def test_acces_direct_sans_fenetre_de_reevaluation(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid, acces_direct=True)
        e = depot.episodes.etat_episode(eid, JOUR + timedelta(days=20))
        assert (e.reevaluation_du, e.revue) == (None, None)


def test_a_revoir_liste_les_reevaluations_dues_et_en_retard(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        dos = depot.moteur.protocoles[LOMBALGIE].modele.suivi.reevaluation
        cheville = depot.moteur.protocoles[CHEVILLE].modele.suivi.reevaluation
        ids: dict[str, str] = {}
        consultations: dict[str, date] = {}
        for nom, protocole, ecart, acces_direct in (
                ("Debut", LOMBALGIE, dos.du_jour, False), ("Fin", LOMBALGIE, dos.au_jour, False),
                ("Retard", LOMBALGIE, dos.au_jour + 1, False), ("Avenir", LOMBALGIE, dos.du_jour - 1, False),
                ("Faite", LOMBALGIE, dos.du_jour, False), ("Close", LOMBALGIE, dos.du_jour, False),
                ("Cheville", CHEVILLE, cheville.du_jour, False), ("Direct", LOMBALGIE, dos.du_jour, True)):
            consultations[nom] = JOUR - timedelta(days=ecart)
            ids[nom] = _episode(depot, _patient(depot, nom, "Anne"), protocole,
                                debut=consultations[nom] - timedelta(days=2))
            _final(depot, ids[nom], consultations[nom], acces_direct=acces_direct)
        depot.episodes.enregistrer_seance(episode_id=ids["Faite"], jour=JOUR, acte="consultation_protocole_2",
                                          evolution="stable", suite="poursuite", acteur=ACTEUR)
        depot.episodes.cloturer_episode(ids["Close"], motif="abandon", jour=JOUR, acteur=ACTEUR)
        depot.triages.creer_triage(episode_id=_episode(depot, _patient(depot, "Brouillon", "Anne"),
                                                       debut=JOUR - timedelta(days=dos.du_jour + 2)),
                                   date_consultation=JOUR - timedelta(days=dos.du_jour), acteur=ACTEUR)  # draft only

        liste = depot.episodes.a_revoir(JOUR, acteur=ACTEUR)
        # The latest first: ordered by the window's last day.
        assert [(r.patient, r.revue) for r in liste] == [
            ("Retard Anne", "en_retard"), ("Fin Anne", "due"), ("Cheville Anne", "due"), ("Debut Anne", "due")]
        for r in liste:
            nom = r.patient.split()[0]
            regle = cheville if r.protocole == CHEVILLE else dos
            assert r.episode_id == ids[nom] and r.triage_id is not None
            assert (r.du, r.au) == (consultations[nom] + timedelta(days=regle.du_jour),
                                    consultations[nom] + timedelta(days=regle.au_jour))
        assert [r.patient for r in depot.episodes.a_revoir(JOUR, acteur=ACTEUR, limite=2)] == ["Retard Anne",
                                                                                               "Fin Anne"]
        assert [e.details for e in _evenements(depot, "liste_a_revoir")] == [{"resultats": 4}, {"resultats": 2}]
        assert "anne" not in _journal(depot)


# -- the episode's outcome ---------------------------------------------------------------------------------------
def test_cloture_et_issue_de_l_episode(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        _final(depot, eid)
        with pytest.raises(ErreurSaisie) as refus:
            depot.episodes.cloturer_episode(eid, motif="lassitude", jour=JOUR, acteur=ACTEUR)
        assert _problemes(refus).keys() == {"motif_cloture"}
        with pytest.raises(ErreurSaisie) as refus:  # nothing is written when the outcome is refused
            depot.episodes.cloturer_episode(eid, motif="guerison", jour=JOUR, repris_par="voisin", acteur=ACTEUR)
        assert _problemes(refus).keys() == {"repris_par"}
        with pytest.raises(ErreurSaisie) as refus:
            depot.episodes.cloturer_episode(eid, motif="guerison", jour=JOUR, evenement_indesirable=True,
                                            evenement_texte="malaise\x07", acteur=ACTEUR)
        assert _problemes(refus).keys() == {"evenement_texte"}
        assert depot.episodes.etat_episode(eid, JOUR).statut == "ouvert" and not _evenements(depot, "cloture_episode")

        texte = "Malaise vagal à la 2e séance,\nrésolu sans suite"
        depot.episodes.cloturer_episode(eid, motif="reprise_medecin", jour=JOUR, repris_par="autre_medecin",
                                        evenement_indesirable=True, evenement_texte=texte, acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, JOUR)
        assert (e.statut, e.motif_cloture, e.date_cloture, e.repris_par) == ("clos", "reprise_medecin", JOUR,
                                                                             "autre_medecin")
        assert (e.evenement_indesirable, e.evenement_texte) == (True, texte)
        with pytest.raises(ErreurStockage, match="clos"):
            depot.episodes.cloturer_episode(eid, motif="guerison", jour=JOUR, acteur=ACTEUR)
        # The outcome can be completed after the closing; no adverse event: no text kept.
        depot.episodes.renseigner_issue(eid, repris_par="delegant", evenement_indesirable=False,
                                        evenement_texte="sans objet", acteur=ACTEUR)
        e = depot.episodes.etat_episode(eid, JOUR)
        assert (e.repris_par, e.evenement_indesirable, e.evenement_texte) == ("delegant", False, None)
        depot.episodes.renseigner_issue(eid, repris_par=None, evenement_indesirable=None,
                                        acteur=ACTEUR)  # nothing changes
        assert depot.episodes.etat_episode(eid, JOUR).repris_par == "delegant"
        with pytest.raises(ErreurSaisie, match="repris_par"):
            depot.episodes.renseigner_issue(eid, repris_par="le voisin", evenement_indesirable=None, acteur=ACTEUR)
        with pytest.raises(ErreurStockage, match="introuvable"):
            depot.episodes.renseigner_issue("0" * 32, repris_par="aucun", evenement_indesirable=False, acteur=ACTEUR)
        assert [_sans_lignes(ev.details) for ev in _evenements(depot, "issue_episode")] == [
            {"episode": eid, "repris_par": "delegant", "evenement_indesirable": False},
            {"episode": eid, "repris_par": "delegant", "evenement_indesirable": False}]
        assert "malaise" not in _journal(depot) and "objet" not in _journal(depot)


def test_un_triage_vers_les_urgences_clot_l_episode(tmp_path):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        eid = _episode(depot, _patient(depot))
        tid = _final(depot, eid, attendu="urgences", rf_troubles_sphincteriens=True)
        e = depot.episodes.etat_episode(eid, JOUR)
        assert (e.statut, e.motif_cloture, e.date_cloture) == ("clos", "urgences", JOUR)
        with pytest.raises(ErreurStockage, match="clos"):
            depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR, acteur=ACTEUR)
        # Corrected the same day (the sign was typed by mistake): the new version reopens the episode.
        nid = depot.triages.amender(tid, acteur=ACTEUR)
        depot.triages.enregistrer_reponse(nid, "rf_troubles_sphincteriens", False, acteur=ACTEUR)
        assert depot.triages.finaliser(nid, acteur=ACTEUR)["orientation"] == "protocole"
        e = depot.episodes.etat_episode(eid, JOUR)
        assert (e.statut, e.motif_cloture, e.date_cloture, e.triage_id) == ("ouvert", None, None, nid)
        assert len(_evenements(depot, "reouverture_episode")) == 1


# -- RGPD --------------------------------------------------------------------------------------------------------
def test_export_rgpd_des_episodes_et_effacement(url_base):
    with _depot(url_base) as depot:
        _structure(depot)
        pid = _patient(depot, "Lefèbvre", "Hélène")
        ancien = _episode(depot, pid, debut=date(2025, 6, 1))
        _seances(depot, ancien, [date(2025, 6, 2)], "ngap_prescription")
        depot.episodes.cloturer_episode(ancien, motif="guerison", jour=date(2025, 7, 1), acteur=ACTEUR)
        eid = _episode(depot, pid)
        tid = _final(depot, eid)
        depot.episodes.declarer_historique(eid, seances_12_mois=6, episodes_12_mois=2, motif="Cabinet de Voiron",
                                           jour=JOUR,
                                           acteur=ACTEUR)
        depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + timedelta(days=2), acte="bilan", acteur=ACTEUR)
        depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + timedelta(days=3), acteur=ACTEUR)
        depot.episodes.enregistrer_seance(episode_id=eid, jour=JOUR + timedelta(days=14),
                                          acte="consultation_protocole_2",
                                          evolution="amelioration", suite="guerison", acteur=ACTEUR)
        depot.episodes.renseigner_issue(eid, repris_par="aucun", evenement_indesirable=True,
                                        evenement_texte="Douleur vive après la 1re séance", acteur=ACTEUR)
        autre = _patient(depot, "Autre", "Paul")
        autre_eid = _episode(depot, autre, CHEVILLE)
        _seances(depot, autre_eid, [JOUR], "ngap_prescription")

        export = depot.rgpd.exporter_patient(pid, acteur="coord")
        episodes = {ep["id"]: ep for ep in export["episodes"]}
        assert set(episodes) == {ancien, eid}
        ep = episodes[eid]
        assert {k: ep[k] for k in ("statut", "motif_cloture", "date_cloture", "repris_par", "evenement_indesirable",
                                   "evenement_texte", "seances_12_mois_declarees", "episodes_12_mois_declares",
                                   "motif_declaration")} == {
            "statut": "clos", "motif_cloture": "guerison", "date_cloture": "2026-03-24", "repris_par": "aucun",
            "evenement_indesirable": True, "evenement_texte": "Douleur vive après la 1re séance",
            "seances_12_mois_declarees": 6, "episodes_12_mois_declares": 2, "motif_declaration": "Cabinet de Voiron"}
        assert ep["seances"] == [  # rules v3: consultation 1 at finalisation, the protocol's sessions in NGAP
            {"date": "2026-03-10", "voie": "forfait_protocole", "acte": "consultation_protocole_1", "evolution": None,
             "suite": None},
            {"date": "2026-03-12", "voie": "ngap_prescription", "acte": "bilan", "evolution": None, "suite": None},
            {"date": "2026-03-13", "voie": "ngap_prescription", "acte": "seance", "evolution": None, "suite": None},
            {"date": "2026-03-24", "voie": "forfait_protocole", "acte": "consultation_protocole_2",
             "evolution": "amelioration", "suite": "guerison"}]
        assert [t["id"] for t in ep["triages"]] == [tid]
        assert episodes[ancien]["seances"][0]["acte"] == "seance" and episodes[ancien]["motif_cloture"] == "guerison"
        assert json.loads(json.dumps(export)) == export  # JSON-ready
        assert [_sans_lignes(e.details) for e in _evenements(depot, "export_rgpd")] == [{"patient": pid}]

        depot.rgpd.effacer_patient(pid, acteur="coord")
        with pytest.raises(ErreurStockage):
            depot.rgpd.exporter_patient(pid, acteur="coord")
        with pytest.raises(ErreurStockage):
            depot.episodes.etat_episode(eid, JOUR)
        with depot.uow.sessions() as s:
            restantes = s.scalar(select(func.count()).select_from(Seance).where(Seance.episode_id.in_([ancien, eid])))
            assert restantes == 0
            assert s.scalar(select(func.count()).select_from(Seance)) == 1  # the other patient's session
        assert depot.patients.rechercher_patients("lefebvre", acteur=ACTEUR) == []
        assert depot.episodes.etat_episode(autre_eid, JOUR).seances_serie == 1
        rapport = depot.audit.verifier_audit()
        assert rapport.intact, rapport.premier_defaut
        journal = _journal(depot)
        for donnee in ("lefèbvre", "hélène", "voiron", "douleur vive"):
            assert donnee not in journal, donnee
        [effacement] = _evenements(depot, "effacement")
        assert _sans_lignes(effacement.details) == {"patient": pid, "triages": [tid]}


# -- rights --------------------------------------------------------------------------------------------------------
LECTURE = ("patients.rechercher_patients", "patients.doublons_probables", "patients.fiche_patient",
           "episodes.episode_ouvert", "episodes.etat_episode", "episodes.a_revoir", "documents.dossier_episode")
ECRITURE = ("episodes.ouvrir_ou_continuer_episode", "episodes.declarer_historique", "episodes.enregistrer_seance",
            "episodes.supprimer_seance", "episodes.renseigner_issue", "episodes.cloturer_episode")
RGPD = ("rgpd.exporter_patient", "rgpd.effacer_patient")
PERMIS = {"medecin": set(LECTURE), "kine": set(LECTURE + ECRITURE), "coordinateur": set(LECTURE + ECRITURE + RGPD)}


def _appels(c: dict[str, Any]) -> dict[str, Any]:
    """Each new action called through the authorising service (in an order where every call can succeed)."""
    return {
        "patients.rechercher_patients": lambda s: s.patients.rechercher_patients("martin"),
        "patients.doublons_probables": lambda s: s.patients.doublons_probables(nom="Martin",
                                                                               date_naissance=NAISSANCE),
        "patients.fiche_patient": lambda s: s.patients.fiche_patient(c["pid"], JOUR),
        "episodes.episode_ouvert": lambda s: s.episodes.episode_ouvert(c["pid"], LOMBALGIE),
        "episodes.etat_episode": lambda s: s.episodes.etat_episode(c["eid"], JOUR),
        "episodes.a_revoir": lambda s: s.episodes.a_revoir(JOUR),
        "documents.dossier_episode": lambda s: s.documents.dossier_episode(c["eid"], JOUR),
        "episodes.ouvrir_ou_continuer_episode": lambda s: s.episodes.ouvrir_ou_continuer_episode(
            patient_id=c["pid"], protocole=CHEVILLE, date_debut=JOUR),
        "episodes.declarer_historique": lambda s: s.episodes.declarer_historique(
            c["eid"], seances_12_mois=3, episodes_12_mois=0, motif="Autre cabinet", jour=JOUR),
        "episodes.enregistrer_seance": lambda s: s.episodes.enregistrer_seance(episode_id=c["eid"], jour=JOUR,
                                                                               voie="ngap_prescription"),
        "episodes.supprimer_seance": lambda s: s.episodes.supprimer_seance(c["sid"]),
        "episodes.renseigner_issue": lambda s: s.episodes.renseigner_issue(c["eid"], repris_par="aucun",
                                                                           evenement_indesirable=False),
        "episodes.cloturer_episode": lambda s: s.episodes.cloturer_episode(c["eid"], motif="abandon", jour=JOUR),
        "rgpd.exporter_patient": lambda s: s.rgpd.exporter_patient(c["pid"]),
        "rgpd.effacer_patient": lambda s: s.rgpd.effacer_patient(c["pid"]),
    }


def test_la_table_des_droits_couvre_les_nouvelles_actions():
    assert set(_appels({})) == set(LECTURE + ECRITURE + RGPD) <= set(ACTIONS)


@pytest.mark.parametrize("role", ["medecin", "kine", "coordinateur"])
def test_droits_des_actions_de_l_episode(tmp_path, role):
    with _depot(_sqlite(tmp_path)) as depot:
        _structure(depot)
        c = {"pid": _patient(depot)}
        c["eid"] = _episode(depot, c["pid"])
        c["sid"] = depot.episodes.enregistrer_seance(episode_id=c["eid"], jour=JOUR - timedelta(days=1),
                                                     voie="ngap_prescription", acteur=ACTEUR)
        utilisateur = Utilisateur(f"{role}.test", f"Compte {role}", role)
        service = ServiceAutorise(depot, utilisateur)
        avant = len(_evenements(depot))
        refusees = []
        for action, appel in _appels(c).items():
            permise = action in PERMIS[role]
            assert service.peut(action) is permise, action
            if permise:
                appel(service)
            else:
                with pytest.raises(ErreurDroits, match="action refusée"):
                    appel(service)
                refusees.append(action)
        evenements = _evenements(depot)[avant:]
        assert [e.details for e in evenements if e.type == "refus"] == [{"action": a} for a in refusees]
        assert {e.acteur for e in evenements} == {utilisateur.identifiant}  # the service names the acting user
        if role == "medecin":  # read everything, wrote nothing
            assert {e.type for e in evenements} == {"refus", "recherche_patient", "recherche_doublon",
                                                   "consultation_patient", "liste_a_revoir", "consultation_episode"}
            e = depot.episodes.etat_episode(c["eid"], JOUR)
            assert (e.statut, e.seances_serie, e.seances_12_mois, e.repris_par) == ("ouvert", 1, 0, None)
            assert depot.episodes.episode_ouvert(c["pid"], CHEVILLE) is None
        elif role == "kine":  # wrote the episode, but no RGPD request
            e = depot.episodes.etat_episode(c["eid"], JOUR)
            assert (e.statut, e.motif_cloture, e.seances_serie, e.seances_12_mois) == ("clos", "abandon", 1, 3)
            assert c["sid"] not in [a.id for a in e.actes] and depot.episodes.episode_ouvert(c["pid"],
                                                                                             CHEVILLE) is not None
            assert refusees == list(RGPD) and not _evenements(depot, "export_rgpd")
        else:
            assert refusees == []
            with pytest.raises(ErreurStockage):
                depot.episodes.etat_episode(c["eid"], JOUR)
