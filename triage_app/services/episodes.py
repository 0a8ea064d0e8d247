"""Episodes of care and their acts: opening, the counters and thresholds read from the recorded acts, sessions and
the re-assessment, the declared history, the closing and its outcome, the episodes to re-assess.

The module's functions take an open session (and, to write, the audit chain): the other services call them inside
their own transaction (a final triage closes its episode, a patient's record shows each episode's state)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage_app.domain.dates import ajouter_mois
from triage_app.domain.episode import etat_revue, fenetre_reevaluation, prochain_bdk
from triage_app.engine.evaluation import Moteur
from triage_app.errors import ErreurSaisie, Probleme
from triage_app.models.episode import (
    Acte,
    ActeEnregistre,
    EtatEpisode,
    Evolution,
    MotifCloture,
    ReprisPar,
    Suite,
)
from triage_app.services import saisie
from triage_app.services.base import Service
from triage_app.services.unite import ErreurStockage, nouvel_id
from triage_app.storage import audit
from triage_app.storage.tables import CLOS, FINAL, OUVERT, Episode, Patient, Seance, Triage

SEANCE, REEVALUATION = "seance", "consultation_protocole_2"
# The closing reason a re-assessment's outcome gives (the other outcomes keep the episode open).
_CLOTURE_PAR_SUITE = {"guerison": "guerison", "medecin": "reprise_medecin"}
# Orientations under which rehabilitation sessions go on (a DAP may be needed past the threshold).
_ORIENTATIONS_SEANCES = frozenset({"protocole", "sur_prescription", "acces_direct"})
MOTIF_DECLARATION_OUVERTURE = "nombre d'épisodes saisi à l'ouverture de l'épisode"


@dataclass(frozen=True)
class ARevoir:
    """An open protocol episode whose re-assessment is due (``due``) or late (``en_retard``)."""

    episode_id: str
    patient_id: str
    patient: str
    protocole: str
    du: date
    au: date
    revue: str
    triage_id: str | None = None


def lire_episode(s: Session, episode_id: str) -> Episode:
    """The episode, or the French error every caller gives."""
    ep = s.get(Episode, episode_id)
    if ep is None:
        raise ErreurStockage("épisode introuvable")
    return ep


def episode_ouvert_ou_refus(s: Session, episode_id: str) -> Episode:
    """The episode, refused when it is closed (a closed episode takes no act)."""
    ep = lire_episode(s, episode_id)
    if ep.statut != OUVERT:
        raise ErreurStockage("épisode clos : commencez un nouveau triage pour un nouvel épisode")
    return ep


def historique(s: Session, ep: Episode, jour: date) -> tuple[int, int, int, int]:
    """The 12 months before ``jour`` outside this episode: sessions and episodes of the same protocol.

    Returns (sessions, sessions computed, episodes, episodes computed): the effective value is the larger of
    the computed one and the one the kiné declared (sessions done elsewhere), never less than the records.
    Rules v2 (§8.1): the 12-month count is of the patient's other episodes of the same protocol.
    """
    debut = ajouter_mois(jour, -12)
    autres = select(Episode.id).where(Episode.patient_id == ep.patient_id, Episode.protocole == ep.protocole,
                                      Episode.id != ep.id)
    seances = int(s.scalar(select(func.count()).select_from(Seance).where(
        Seance.episode_id.in_(autres), Seance.acte == SEANCE, Seance.date < jour, Seance.date >= debut)) or 0)
    episodes = int(s.scalar(select(func.count()).select_from(Episode).where(
        Episode.patient_id == ep.patient_id, Episode.protocole == ep.protocole, Episode.id != ep.id,
        Episode.date_debut < jour, Episode.date_debut >= debut)) or 0)
    return (max(seances, ep.seances_12_mois_declarees or 0), seances,
            max(episodes, ep.episodes_12_mois_declares or 0), episodes)


def etat(s: Session, moteur: Moteur, ep: Episode, jour: date) -> EtatEpisode:
    """Counters, thresholds and the re-assessment window of an episode on ``jour``, from its recorded acts."""
    commun = moteur.registre.commun
    actes = [ActeEnregistre(id=a.id, date=a.date, acte=a.acte, voie=a.voie, evolution=a.evolution,
                            suite=a.suite)
             for a in s.scalars(select(Seance).where(Seance.episode_id == ep.id)
                                .order_by(Seance.date, Seance.id))]
    faites = sum(1 for a in actes if a.acte == SEANCE and a.date <= jour)
    seances_12, seances_12_calc, episodes_12, episodes_12_calc = historique(s, ep, jour)
    finals = list(s.scalars(select(Triage).where(Triage.episode_id == ep.id, Triage.statut == FINAL)
                            .order_by(Triage.date_consultation, Triage.cree_le)))
    courant = finals[-1] if finals else None
    champs: dict[str, Any] = {}
    if courant is not None and courant.resultat is not None:
        cas = copy.deepcopy(courant.cas)
        cas["episode"].update(seances_realisees_episode=faites, seances_12_mois=seances_12,
                              episodes_anterieurs_12_mois=episodes_12)
        suivant = moteur.evaluer(cas)
        plafond = any(m["id"] == commun.suivi_episode.motif_plafond for m in suivant["motifs"])
        seances = suivant["seances"]
        stocke = courant.resultat.get("seances") or {}
        sans_diagnostic = not ep.diagnostic_medical_prealable and courant.orientation == "acces_direct"
        champs = {
            "triage_id": courant.id, "orientation": courant.orientation,
            "voie": courant.resultat["facturation"]["voie"],
            "autorisees": seances["autorisees"] if seances else stocke.get("autorisees"),
            "restantes": seances["restantes"] if seances else 0,
            "plafond_acces_direct": stocke.get("autorisees") if sans_diagnostic else None,
            "plafond_atteint": plafond,
            "dap_necessaire": (not plafond and seances is not None and seances["restantes"] == 0
                               and suivant["orientation"] in _ORIENTATIONS_SEANCES),
        }
    bdk = commun.facturation.bdk
    revue: dict[str, Any] = {}
    initiale = next((a.date for a in actes if a.acte == "consultation_protocole_1"),
                    next((t.date_consultation for t in finals if t.orientation == "protocole"), None))
    if initiale is not None:
        regle = moteur.protocoles[ep.protocole].modele.suivi.reevaluation
        du, au = fenetre_reevaluation(initiale, regle.du_jour, regle.au_jour)
        faite = next((a.date for a in actes if a.acte == REEVALUATION), None)
        etat_revue_ = etat_revue(jour, du, au, faite)
        revue = {"reevaluation_du": du, "reevaluation_au": au, "reevaluation_faite_le": faite,
                 "revue": etat_revue_ if ep.statut == OUVERT or faite else None}
    seuil = commun.suivi_episode.seuil_fiche_synthese
    return EtatEpisode(
        episode_id=ep.id, patient_id=ep.patient_id, protocole=ep.protocole, statut=ep.statut,
        date_debut=ep.date_debut, prescription_medicale=ep.prescription_medicale,
        diagnostic_medical_prealable=ep.diagnostic_medical_prealable, motif_cloture=ep.motif_cloture,
        date_cloture=ep.date_cloture, repris_par=ep.repris_par, evenement_indesirable=ep.evenement_indesirable,
        evenement_texte=ep.evenement_texte, seances_serie=faites, seances_12_mois=seances_12,
        seances_12_mois_calculees=seances_12_calc, episodes_12_mois=episodes_12,
        episodes_12_mois_calcules=episodes_12_calc, motif_declaration=ep.motif_declaration,
        prochain_bdk=prochain_bdk(faites, bdk.premiere_si_realisees, bdk.puis_si_realisees, bdk.pas),
        synthese_due=faites >= seuil, seuil_synthese=seuil, actes=tuple(actes), **champs, **revue)


def clore(chaine: audit.Chaine, ep: Episode, motif: str, jour: date, acteur: str) -> None:
    """Close an episode with its reason (one of the closing reasons); audited."""
    if motif not in get_args(MotifCloture):
        raise ErreurSaisie([Probleme("motif_cloture", f"motif inconnu « {motif} » : attendu "
                                                      f"{', '.join(get_args(MotifCloture))}")])
    ep.statut, ep.motif_cloture, ep.date_cloture = CLOS, motif, jour
    chaine.ajouter("cloture_episode", acteur, details={"episode": ep.id, "motif": motif})


def issue(ep: Episode, repris_par: str | None, evenement: bool | None, texte: str | None) -> None:
    """Set the episode's outcome (who took the patient over, adverse event), checked."""
    if repris_par is not None and repris_par not in get_args(ReprisPar):
        raise ErreurSaisie([Probleme("repris_par", f"valeur inconnue « {repris_par} » : attendu "
                                                   f"{', '.join(get_args(ReprisPar))}")])
    if repris_par is not None:
        ep.repris_par = repris_par
    if evenement is not None:
        ep.evenement_indesirable = evenement
        ep.evenement_texte = saisie.texte("evenement_texte", texte, 2000, vide=True, lignes=True) \
            if evenement and texte else None


def ajouter_episode(s: Session, chaine: audit.Chaine, horloge: Callable[[], datetime], *, patient_id: str,
                    protocole: str, date_debut: date, prescription_medicale: bool, diagnostic_medical_prealable: bool,
                    antecedent_lombalgie: bool, episodes_anterieurs_12_mois: int, acteur: str) -> str:
    """A new episode for a recorded patient, in the caller's transaction; its id."""
    if s.get(Patient, patient_id) is None:
        raise ErreurStockage("patient introuvable")
    eid = nouvel_id()
    s.add(Episode(id=eid, patient_id=patient_id, protocole=protocole, date_debut=date_debut,
                  prescription_medicale=prescription_medicale,
                  diagnostic_medical_prealable=diagnostic_medical_prealable,
                  antecedent_lombalgie=antecedent_lombalgie,
                  episodes_anterieurs_12_mois=episodes_anterieurs_12_mois,
                  episodes_12_mois_declares=episodes_anterieurs_12_mois or None,
                  motif_declaration=MOTIF_DECLARATION_OUVERTURE if episodes_anterieurs_12_mois else None,
                  cree_le=horloge()))
    chaine.ajouter("creation_episode", acteur, details={"episode": eid, "patient": patient_id})
    return eid


class ServiceEpisodes(Service):
    """Episodes of care: acts, counters, thresholds, closing."""

    def creer_episode(self, *, patient_id: str, protocole: str, date_debut: date, prescription_medicale: bool = False,
                      diagnostic_medical_prealable: bool = False, antecedent_lombalgie: bool = False,
                      episodes_anterieurs_12_mois: int = 0, acteur: str) -> str:
        """Open an episode of care for a protocol; returns its id."""
        self.protocole_connu(protocole)
        with self.uow.ecriture() as (s, chaine):
            return ajouter_episode(s, chaine, self.horloge, patient_id=patient_id, protocole=protocole,
                                   date_debut=date_debut, prescription_medicale=prescription_medicale,
                                   diagnostic_medical_prealable=diagnostic_medical_prealable,
                                   antecedent_lombalgie=antecedent_lombalgie,
                                   episodes_anterieurs_12_mois=episodes_anterieurs_12_mois, acteur=acteur)

    def episode_ouvert(self, patient_id: str, protocole: str) -> str | None:
        """The patient's open episode of this protocol (the most recent), if any."""
        with self.uow.lecture() as s:
            return s.scalar(select(Episode.id).where(Episode.patient_id == patient_id, Episode.protocole == protocole,
                                                     Episode.statut == OUVERT)
                            .order_by(Episode.date_debut.desc(), Episode.cree_le.desc()).limit(1))

    def ouvrir_ou_continuer_episode(self, *, patient_id: str, protocole: str, date_debut: date,
                                    prescription_medicale: bool = False, diagnostic_medical_prealable: bool = False,
                                    antecedent_lombalgie: bool = False, acteur: str) -> tuple[str, bool]:
        """The patient's open episode of this protocol, or a new one: (episode id, whether it continues one).

        A continued episode keeps its own onset date, prescription and prior diagnosis (the values given here
        are for a new episode only).
        """
        existant = self.episode_ouvert(patient_id, protocole)
        if existant is not None:
            return existant, True
        return self.creer_episode(patient_id=patient_id, protocole=protocole, date_debut=date_debut,
                                  prescription_medicale=prescription_medicale,
                                  diagnostic_medical_prealable=diagnostic_medical_prealable,
                                  antecedent_lombalgie=antecedent_lombalgie, acteur=acteur), False

    def declarer_historique(self, episode_id: str, *, seances_12_mois: int, episodes_12_mois: int, motif: str,
                            jour: date, acteur: str) -> None:
        """Declare the 12-month history when the records do not hold it all (sessions done elsewhere).

        The reason is required; a declared count below what the records hold is refused (the records always
        count). The audit keeps the old and new counts, never the reason's text.
        """
        motif = saisie.texte("motif_declaration", motif, 500)
        with self.uow.ecriture() as (s, chaine):
            ep = episode_ouvert_ou_refus(s, episode_id)
            _, seances, _, episodes = historique(s, ep, jour)
            problemes = [Probleme(champ, f"au moins {minimum} (déjà enregistré{'s' if minimum > 1 else ''})")
                         for champ, valeur, minimum in (("seances_12_mois", seances_12_mois, seances),
                                                        ("episodes_12_mois", episodes_12_mois, episodes))
                         if valeur < minimum]
            problemes += [Probleme(champ, "au plus 500") for champ, valeur in
                          (("seances_12_mois", seances_12_mois), ("episodes_12_mois", episodes_12_mois))
                          if valeur > 500]
            if problemes:
                raise ErreurSaisie(problemes)
            details = {"episode": episode_id,
                       "seances_12_mois": {"avant": ep.seances_12_mois_declarees, "apres": seances_12_mois},
                       "episodes_12_mois": {"avant": ep.episodes_12_mois_declares, "apres": episodes_12_mois}}
            ep.seances_12_mois_declarees, ep.episodes_12_mois_declares = seances_12_mois, episodes_12_mois
            ep.motif_declaration = motif
            chaine.ajouter("declaration_historique", acteur, details=details)

    def cloturer_episode(self, episode_id: str, *, motif: str, jour: date, acteur: str, repris_par: str | None = None,
                         evenement_indesirable: bool | None = None, evenement_texte: str | None = None) -> None:
        """Close an open episode with its reason (guérison, reprise par le médecin, urgences, abandon, plafond)."""
        with self.uow.ecriture() as (s, chaine):
            ep = episode_ouvert_ou_refus(s, episode_id)
            clore(chaine, ep, motif, jour, acteur)
            issue(ep, repris_par, evenement_indesirable, evenement_texte)

    def renseigner_issue(self, episode_id: str, *, repris_par: str | None, evenement_indesirable: bool | None,
                         evenement_texte: str | None = None, acteur: str) -> None:
        """Record the episode's outcome for later statistics (who took the patient over, adverse event)."""
        with self.uow.ecriture() as (s, chaine):
            ep = lire_episode(s, episode_id)
            issue(ep, repris_par, evenement_indesirable, evenement_texte)
            chaine.ajouter("issue_episode", acteur, details={"episode": episode_id, "repris_par": ep.repris_par,
                                                             "evenement_indesirable": ep.evenement_indesirable})

    def enregistrer_seance(self, *, episode_id: str, jour: date, voie: str | None = None, acteur: str,
                           acte: str = "seance", evolution: str | None = None, suite: str | None = None) -> int:
        """Record a visit (a session by default); it feeds the counts of the next evaluations.

        On an episode with a final triage: a session past the accès direct cap is refused, and the session that
        reaches it closes the episode towards the médecin (motif ``plafond``). The re-assessment consultation
        (``consultation_protocole_2``) carries what changed and what follows; « guérison » and « médecin » close
        the episode. ``voie`` defaults to the billing route of the episode's current triage.
        """
        if acte not in get_args(Acte):
            raise ErreurSaisie([Probleme("acte", f"acte inconnu « {acte} » : attendu {', '.join(get_args(Acte))}")])
        if acte == REEVALUATION:
            manque = [Probleme(c, "à renseigner pour la réévaluation") for c, v in
                      (("evolution", evolution), ("suite", suite)) if v is None]
            if manque:
                raise ErreurSaisie(manque)
            if evolution not in get_args(Evolution) or suite not in get_args(Suite):
                raise ErreurSaisie([Probleme("evolution" if evolution not in get_args(Evolution) else "suite",
                                             "valeur inconnue")])
        elif evolution is not None or suite is not None:
            raise ErreurSaisie([Probleme("evolution", "réservé à la réévaluation (consultation de protocole 2)")])
        regles = self.moteur.registre.commun.suivi_episode
        with self.uow.ecriture() as (s, chaine):
            ep = episode_ouvert_ou_refus(s, episode_id)
            avant = etat(s, self.moteur, ep, jour)
            if acte == SEANCE and avant.plafond_atteint:
                raise ErreurStockage(f"plafond de l’accès direct atteint ({avant.plafond_acces_direct} séances "
                                     "sans diagnostic médical) : l’épisode est adressé au médecin")
            seance = Seance(episode_id=episode_id, date=jour, voie=voie or avant.voie or "aucune", acte=acte,
                            evolution=evolution, suite=suite, cree_le=self.horloge())
            s.add(seance)
            s.flush()
            chaine.ajouter("seance", acteur, details={"episode": episode_id, "seance": seance.id, "acte": acte})
            # Only an episode under the accès direct cap needs the second evaluation.
            if acte == SEANCE and avant.plafond_acces_direct is not None:
                fin = max([jour, *(a.date for a in avant.actes)])  # a session entered late counts with the others
                if etat(s, self.moteur, ep, fin).plafond_atteint:
                    clore(chaine, ep, regles.motif_cloture_plafond, fin, acteur)
            elif suite in _CLOTURE_PAR_SUITE:
                clore(chaine, ep, _CLOTURE_PAR_SUITE[suite], jour, acteur)
            return seance.id

    def supprimer_seance(self, seance_id: int, *, acteur: str) -> None:
        """Remove a visit recorded by mistake (on an open episode); the audit keeps its id."""
        with self.uow.ecriture() as (s, chaine):
            seance = s.get(Seance, seance_id)
            if seance is None:
                raise ErreurStockage("séance introuvable")
            episode_ouvert_ou_refus(s, seance.episode_id)
            s.delete(seance)
            chaine.ajouter("suppression_seance", acteur, details={"episode": seance.episode_id, "seance": seance_id})

    def etat_episode(self, episode_id: str, jour: date) -> EtatEpisode:
        """Counters, thresholds and the re-assessment window of an episode on ``jour``, from the records."""
        with self.uow.lecture() as s:
            ep = lire_episode(s, episode_id)
            return etat(s, self.moteur, ep, jour)

    def a_revoir(self, jour: date, *, acteur: str, limite: int = 100) -> list[ARevoir]:
        """Open protocol episodes whose re-assessment is due or late on ``jour``, the latest due first.

        Audited (a list of patients) with the number of episodes listed.
        """
        sans_revue = select(Seance.episode_id).where(Seance.acte == REEVALUATION)
        requete = (select(Episode, Patient.nom, Patient.prenom).join(Patient, Patient.id == Episode.patient_id)
                   .where(Episode.statut == OUVERT, Episode.id.not_in(sans_revue),
                          Episode.id.in_(select(Triage.episode_id).where(Triage.statut == FINAL,
                                                                         Triage.orientation == "protocole"))))
        liste: list[ARevoir] = []
        with self.uow.lecture() as s:
            for ep, nom, prenom in s.execute(requete):
                e = etat(s, self.moteur, ep, jour)
                if e.revue in ("due", "en_retard") and e.reevaluation_du and e.reevaluation_au:
                    liste.append(ARevoir(ep.id, ep.patient_id, f"{nom} {prenom}", ep.protocole, e.reevaluation_du,
                                         e.reevaluation_au, e.revue, e.triage_id))
        liste.sort(key=lambda r: (r.au, r.patient))
        liste = liste[:limite]
        with self.uow.ecriture() as (_, chaine):
            chaine.ajouter("liste_a_revoir", acteur, details={"resultats": len(liste)})
        return liste

    def compter_seances(self, episode_id: str, jour: date) -> tuple[int, int]:
        """Sessions before ``jour`` on the episode, and on the patient's other episodes of the same protocol in the
        12 months before ``jour``."""
        with self.uow.lecture() as s:
            ep = lire_episode(s, episode_id)
            sur_episode = s.scalar(select(func.count()).select_from(Seance).where(
                Seance.episode_id == episode_id, Seance.acte == SEANCE, Seance.date < jour)) or 0
            return int(sur_episode), historique(s, ep, jour)[0]
