"""Recording an act of an episode (rules v3, §9.6–§9.8): its route, what the kiné must confirm first, one act per tap.

The functions run inside the caller's transaction (the episode service's ``enregistrer_seance``, the triage service's
finalisation, which records the protocol's consultation 1).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage_app.engine.evaluation import Moteur
from triage_app.errors import ErreurSaisie, Probleme
from triage_app.models.base import Voie
from triage_app.models.episode import Acte, EtatEpisode, Evolution, Suite
from triage_app.services.episode_etat import REEVALUATION, SEANCE, clore, episode_ouvert_ou_refus, etat
from triage_app.services.unite import ErreurStockage
from triage_app.storage import audit
from triage_app.storage.tables import Episode, Seance

# The closing reason a re-assessment's outcome gives (the other outcomes keep the episode open).
_CLOTURE_PAR_SUITE = {"guerison": "guerison", "medecin": "reprise_medecin"}


@dataclass(frozen=True)
class Avertissement:
    """Something the kiné confirms before the act is recorded: its code (what the confirmation names) and text."""

    code: str
    message: str


class ConfirmationRequise(Exception):
    """The act needs the kiné's confirmation first; nothing was written. Recording again with these codes in
    ``confirmations`` records it."""

    def __init__(self, avertissements: tuple[Avertissement, ...]) -> None:
        super().__init__(" ".join(a.message for a in avertissements))
        self.avertissements = avertissements

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(a.code for a in self.avertissements)


def verifier_saisie(acte: str, voie: str | None, evolution: str | None, suite: str | None, cle: str | None) -> None:
    """Refuse unknown values before anything is read or written (French, naming the field)."""
    if acte not in get_args(Acte):
        raise ErreurSaisie([Probleme("acte", f"acte inconnu « {acte} » : attendu {', '.join(get_args(Acte))}")])
    if voie is not None and voie not in get_args(Voie):
        raise ErreurSaisie([Probleme("voie", f"voie inconnue « {voie} » : attendu {', '.join(get_args(Voie))}")])
    if cle is not None and not (8 <= len(cle) <= 64 and cle.isascii() and cle.isprintable()):
        raise ErreurSaisie([Probleme("cle", "clé du geste : de 8 à 64 caractères ASCII")])
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


def _jour(j: date) -> str:
    return j.strftime("%d/%m/%Y")


def consultation_du_patient(s: Session, moteur: Moteur, ep: Episode, jour: date) -> date | None:
    """A protocol consultation of the patient (any episode) on ``jour`` or the days before that the forfait covers
    (§9.6: no NGAP act the same day or the next)."""
    nc = moteur.registre.commun.episode_de_soins.non_cumul
    return s.scalar(select(Seance.date).join(Episode, Episode.id == Seance.episode_id).where(
        Episode.patient_id == ep.patient_id, Seance.acte.in_(nc.consultations),
        Seance.date <= jour, Seance.date >= jour - timedelta(days=nc.jours_apres)).order_by(Seance.date.desc())
        .limit(1))


def route_et_avertissements(s: Session, moteur: Moteur, ep: Episode, avant: EtatEpisode, *, acte: str, jour: date,
                            voie: str | None) -> tuple[str, list[Avertissement]]:
    """The act's billing route and what the kiné must confirm before it is recorded."""
    commun = moteur.registre.commun
    regles = commun.episode_de_soins
    textes = regles.avertissements
    avertissements: list[Avertissement] = []
    if acte in regles.non_cumul.consultations:
        route = regles.voies_actes.consultations
        if acte == REEVALUATION and avant.reevaluation_du and avant.reevaluation_au \
                and not avant.reevaluation_du <= jour <= avant.reevaluation_au:
            regle = moteur.protocoles[ep.protocole].modele.suivi.reevaluation
            depuis = avant.reevaluation_du - timedelta(days=regle.du_jour)
            avertissements.append(Avertissement("hors_fenetre", textes["hors_fenetre"].format(
                du=_jour(avant.reevaluation_du), au=_jour(avant.reevaluation_au), du_jour=regle.du_jour,
                au_jour=regle.au_jour, depuis=_jour(depuis), date=_jour(jour))))
            route = regles.reevaluation.voie_hors_fenetre
    elif avant.orientation == "protocole" and voie is None:
        route = regles.voies_actes.seances_protocole
    else:
        route = voie or avant.voie or regles.non_cumul.voie
    if acte in regles.non_cumul.actes:
        consultation = consultation_du_patient(s, moteur, ep, jour)
        if consultation is not None:
            avertissements.append(Avertissement("non_cumul", textes["non_cumul"].format(date=_jour(consultation))))
            route = regles.non_cumul.voie
    if any(a.acte == acte and a.date == jour for a in avant.actes):
        avertissements.append(Avertissement("meme_jour", textes["meme_jour"].format(
            acte=commun.libelles.episode.actes.get(acte, acte), date=_jour(jour))))
    return route, avertissements


def enregistrer(s: Session, chaine: audit.Chaine, moteur: Moteur, horloge: Callable[[], datetime], *,
                episode_id: str, jour: date, acte: str, voie: str | None, evolution: str | None, suite: str | None,
                cle: str | None, confirmations: Collection[str], acteur: str) -> tuple[int | None, str | None]:
    """Record an act in the caller's transaction: (its id, None), or (None, why it was refused) when the refusal
    itself closes the episode (a session after the end of the accès direct period, §9.1: the closing is kept).

    Raises :class:`ConfirmationRequise` (nothing written) when something needs the kiné's confirmation that
    ``confirmations`` does not name.
    """
    if cle is not None:  # the same tap delivered again: its act, nothing new
        deja = s.execute(select(Seance.id, Seance.episode_id, Seance.acte, Seance.date)
                         .where(Seance.cle == cle)).first()
        if deja is not None:
            if (deja.episode_id, deja.acte, deja.date) != (episode_id, acte, jour):
                raise ErreurSaisie([Probleme("cle", "clé du geste déjà utilisée pour un autre acte")])
            return deja.id, None
    commun = moteur.registre.commun
    regles = commun.episode_de_soins
    ep = episode_ouvert_ou_refus(s, episode_id)
    avant = etat(s, moteur, ep, jour)
    if acte == regles.reevaluation.depuis and any(a.acte == acte for a in avant.actes):
        premiere = next(a.date for a in avant.actes if a.acte == acte)
        raise ErreurStockage(f"consultation initiale du protocole déjà enregistrée le {_jour(premiere)}")
    route, avertissements = route_et_avertissements(s, moteur, ep, avant, acte=acte, jour=jour, voie=voie)
    sous_plafond = acte == SEANCE and avant.plafond_acces_direct is not None and route == regles.acces_direct.voie
    if sous_plafond and avant.plafond_atteint and not avant.periode_acces_direct_terminee:
        raise ErreurStockage(f"plafond de l’accès direct atteint ({avant.plafond_acces_direct} séances "
                             "sans diagnostic médical) : l’épisode est adressé au médecin")
    if sous_plafond and avant.periode_acces_direct_terminee:
        # After the period: refused as accès direct, and the episode closes (§9.1); a mistyped date would close it
        # for good, so the kiné confirms first.
        fin = _jour(avant.periode_acces_direct_au) if avant.periode_acces_direct_au else "?"
        if "fin_periode" not in confirmations:
            raise ConfirmationRequise((Avertissement("fin_periode", regles.avertissements["fin_periode"].format(
                au=fin, date=_jour(jour), mois=regles.acces_direct.periode_mois)),))
        clore(chaine, regles, ep, regles.acces_direct.motif_cloture_duree, jour, acteur)
        return None, regles.avertissements["fin_periode_refus"].format(au=fin, mois=regles.acces_direct.periode_mois)
    manque = tuple(a for a in avertissements if a.code not in confirmations)
    if manque:
        raise ConfirmationRequise(manque)
    seance = Seance(episode_id=episode_id, date=jour, voie=route, acte=acte, evolution=evolution, suite=suite,
                    cle=cle, cree_le=horloge())
    s.add(seance)
    s.flush()
    details: dict[str, object] = {"episode": episode_id, "seance": seance.id, "acte": acte, "voie": route}
    if avertissements:
        details["confirme"] = sorted(a.code for a in avertissements)
    chaine.ajouter("seance", acteur, details=details)
    if sous_plafond:  # the session that reaches the cap closes the episode towards the médecin
        fin = max([jour, *(a.date for a in avant.actes)])  # a session entered late counts with the others
        if etat(s, moteur, ep, fin).plafond_atteint:
            clore(chaine, regles, ep, commun.suivi_episode.motif_cloture_plafond, fin, acteur)
    elif suite in _CLOTURE_PAR_SUITE:
        clore(chaine, regles, ep, _CLOTURE_PAR_SUITE[suite], jour, acteur)
    return seance.id, None


def acte_de_finalisation(s: Session, chaine: audit.Chaine, moteur: Moteur, horloge: Callable[[], datetime], *,
                         ep: Episode, orientation: str, jour: date, acteur: str) -> int | None:
    """The act a final triage records itself (§9.7: ``consultation_protocole_1`` for a protocol triage), once per
    episode; its id, or None when there is none to record."""
    regles = moteur.registre.commun.episode_de_soins
    acte = regles.actes_produit.a_la_finalisation.get(orientation)
    if acte is None or s.scalar(select(Seance.id).where(Seance.episode_id == ep.id, Seance.acte == acte)
                                .limit(1)) is not None:
        return None
    seance = Seance(episode_id=ep.id, date=jour, voie=regles.voies_actes.consultations, acte=acte,
                    cree_le=horloge())
    s.add(seance)
    s.flush()
    chaine.ajouter("seance", acteur, details={"episode": ep.id, "seance": seance.id, "acte": acte,
                                              "voie": seance.voie, "automatique": True})
    return seance.id
