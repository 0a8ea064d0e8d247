"""Episodes of care and their acts: opening, the counters and thresholds read from the recorded acts, sessions and
the re-assessment, the declared history, the closing and its outcome, the episodes to re-assess."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from triage_app.domain.dates import ajouter_mois
from triage_app.errors import ErreurSaisie, Probleme
from triage_app.models.episode import LONGUEUR_RUBRIQUE, RUBRIQUES_MEDECIN, EtatEpisode
from triage_app.services import actes, compteurs, saisie
from triage_app.services.base import Service
from triage_app.services.episode_etat import (
    REEVALUATION,
    ajouter_episode,
    clore,
    episode_a_continuer,
    episode_ouvert_ou_refus,
    etat,
    issue,
    lire_episode,
)
from triage_app.services.unite import ErreurStockage
from triage_app.storage.tables import FINAL, OUVERT, Episode, Patient, Seance, Triage


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
        are for a new episode only). An accès direct episode whose period ended before this onset is closed
        (``duree``) and a new one opened (rules v3, §9.1).
        """
        self.protocole_connu(protocole)
        with self.uow.ecriture() as (s, chaine):
            existant = episode_a_continuer(s, chaine, self.regles_episode, patient_id=patient_id,
                                           protocole=protocole, date_debut=date_debut, jour=date_debut, acteur=acteur)
            if existant is not None:
                return existant, True
            return ajouter_episode(s, chaine, self.horloge, patient_id=patient_id, protocole=protocole,
                                   date_debut=date_debut, prescription_medicale=prescription_medicale,
                                   diagnostic_medical_prealable=diagnostic_medical_prealable,
                                   antecedent_lombalgie=antecedent_lombalgie, episodes_anterieurs_12_mois=0,
                                   acteur=acteur), False

    def declarer_historique(self, episode_id: str, *, seances_12_mois: int, episodes_12_mois: int, motif: str,
                            jour: date, acteur: str, date_derniere: date | None = None) -> None:
        """Declare the 12-month history when the records do not hold it all (sessions done elsewhere).

        ``date_derniere`` is the date of the last declared session (default: the declaration's day, ``jour``); the
        declaration counts while it is within the 12 months before a consultation (rules v3, §9.5). The reason is
        required; a declared count below what the records hold is refused (the records always count). The audit
        keeps the old and new counts and the date, never the reason's text.
        """
        motif = saisie.texte("motif_declaration", motif, 500)
        quand = date_derniere or jour
        with self.uow.ecriture() as (s, chaine):
            ep = episode_ouvert_ou_refus(s, episode_id)
            c = compteurs.lire(s, self.regles_episode, ep, jour, inclus=False)
            seances, episodes = c.seances_12_mois_calculees, c.episodes_12_mois_calcules
            problemes = [Probleme(champ, f"au moins {minimum} (déjà enregistré{'s' if minimum > 1 else ''})")
                         for champ, valeur, minimum in (("seances_12_mois", seances_12_mois, seances),
                                                        ("episodes_12_mois", episodes_12_mois, episodes))
                         if valeur < minimum]
            problemes += [Probleme(champ, "au plus 500") for champ, valeur in
                          (("seances_12_mois", seances_12_mois), ("episodes_12_mois", episodes_12_mois))
                          if valeur > 500]
            if quand > jour:
                problemes.append(Probleme("date_declaration", "date de la dernière séance après aujourd'hui"))
            elif quand < ajouter_mois(jour, -self.regles_episode.historique.declaration_valide_mois):
                mois = self.regles_episode.historique.declaration_valide_mois
                problemes.append(Probleme("date_declaration", f"dernière séance datant de plus de {mois} mois : elle "
                                                              "ne compte plus, rien à déclarer"))
            if problemes:
                raise ErreurSaisie(problemes)
            details = {"episode": episode_id,
                       "seances_12_mois": {"avant": ep.seances_12_mois_declarees, "apres": seances_12_mois},
                       "episodes_12_mois": {"avant": ep.episodes_12_mois_declares, "apres": episodes_12_mois},
                       "date": {"avant": ep.date_declaration.isoformat() if ep.date_declaration else None,
                                "apres": quand.isoformat()}}
            ep.seances_12_mois_declarees, ep.episodes_12_mois_declares = seances_12_mois, episodes_12_mois
            ep.motif_declaration, ep.date_declaration = motif, quand
            chaine.ajouter("declaration_historique", acteur, details=details)

    def cloturer_episode(self, episode_id: str, *, motif: str, jour: date, acteur: str, repris_par: str | None = None,
                         evenement_indesirable: bool | None = None, evenement_texte: str | None = None) -> None:
        """Close an open episode with one of the closing reasons of the rules' data (guérison, reprise par le médecin,
        urgences, abandon, plafond, durée de l'accès direct, DAP refusée)."""
        with self.uow.ecriture() as (s, chaine):
            ep = episode_ouvert_ou_refus(s, episode_id)
            clore(chaine, self.regles_episode, ep, motif, jour, acteur)
            issue(ep, repris_par, evenement_indesirable, evenement_texte)

    def renseigner_issue(self, episode_id: str, *, repris_par: str | None, evenement_indesirable: bool | None,
                         evenement_texte: str | None = None, acteur: str) -> None:
        """Record the episode's outcome for later statistics (who took the patient over, adverse event)."""
        with self.uow.ecriture() as (s, chaine):
            ep = lire_episode(s, episode_id)
            issue(ep, repris_par, evenement_indesirable, evenement_texte)
            chaine.ajouter("issue_episode", acteur, details={"episode": episode_id, "repris_par": ep.repris_par,
                                                             "evenement_indesirable": ep.evenement_indesirable})

    def enregistrer_texte(self, episode_id: str, rubrique: str, texte: str, *, acteur: str) -> bool:
        """Save one of the kiné's texts for the médecin (bilan, treatment, results, advice), as it is typed (the
        page sends it after a pause): on an open or a closed episode (the summary is often written at the end). An
        unchanged text writes nothing (False). The audit records the heading and the length, never the text."""
        if rubrique not in RUBRIQUES_MEDECIN:
            raise ErreurSaisie([Probleme("rubrique", f"rubrique inconnue (permises : {', '.join(RUBRIQUES_MEDECIN)})")])
        texte = saisie.texte(rubrique, texte, LONGUEUR_RUBRIQUE, vide=True, lignes=True)
        with self.uow.ecriture() as (s, chaine):
            ep = lire_episode(s, episode_id)
            textes = dict(ep.textes or {})
            if textes.get(rubrique, "") == texte:
                return False
            if texte:
                textes[rubrique] = texte
            else:
                textes.pop(rubrique, None)
            ep.textes = textes or None
            chaine.ajouter("texte_episode", acteur, details={"episode": episode_id, "rubrique": rubrique,
                                                             "longueur": len(texte)})
            return True

    def enregistrer_seance(self, *, episode_id: str, jour: date, voie: str | None = None, acteur: str,
                           acte: str = "seance", evolution: str | None = None, suite: str | None = None,
                           cle: str | None = None, confirmations: Collection[str] = ()) -> int:
        """Record an act (a session by default); it feeds the counts of the next evaluations (rules v3, §9).

        ``cle`` identifies the tap: the same tap delivered twice records one act (its id is returned again).
        What needs the kiné's confirmation raises :class:`~triage_app.services.actes.ConfirmationRequise` with
        nothing written: a session the day of a protocol consultation or the next (stored « aucune »), a
        re-assessment outside its window (stored without its forfait), a second act of the kind on the same day;
        recording again with those codes in ``confirmations`` records it. The route follows the act (protocol
        consultations on the forfait, a protocol episode's sessions in NGAP) or the episode's current triage, unless
        ``voie`` says. Accès direct without a prior diagnosis: the session that reaches the cap closes the episode
        (``plafond``), a session past the cap is refused, one after the end of the 3-month period is refused and
        closes it (``duree``). A re-assessment's « guérison » and « médecin » close the episode.
        """
        actes.verifier_saisie(acte, voie, evolution, suite, cle)
        with self.uow.ecriture() as (s, chaine):
            sid, refus = actes.enregistrer(s, chaine, self.moteur, self.horloge, episode_id=episode_id, jour=jour,
                                           acte=acte, voie=voie, evolution=evolution, suite=suite, cle=cle,
                                           confirmations=confirmations, acteur=acteur)
        if sid is None:  # refused, the episode closed (committed above)
            raise ErreurStockage(refus or "séance refusée")
        return sid

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
        """Reimbursed sessions before ``jour`` on the episode, and the 12-month count before ``jour`` (other
        episodes of the same protocol, or a declaration still in date)."""
        with self.uow.lecture() as s:
            c = compteurs.lire(s, self.regles_episode, lire_episode(s, episode_id), jour, inclus=False)
            return c.serie, c.seances_12_mois
