"""The allow-list of conditions a protocol file may name. Nothing else can be called from YAML.

Each predicate reads a :class:`~triage_app.engine.dossier.Dossier` and returns a boolean; the
thresholds it uses are named so that loading refuses a protocol that lacks them. No clinical
number lives here: every bound comes from the protocol's ``seuils`` or a dated parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from triage_app.engine.dossier import Dossier


@dataclass(frozen=True)
class Predicat:
    """An allow-listed condition and the thresholds it needs."""

    fonction: Callable[[Dossier], bool]
    description: str
    seuils: tuple[str, ...] = ()
    # The questions it reads: while one is unanswered the condition is unknown, never « not met » (a draft's card
    # does not list the criterion as failed: issue #29).
    questions: tuple[str, ...] = ()


PREDICATS: dict[str, Predicat] = {}


def predicat(description: str, *seuils: str, questions: tuple[str, ...] = ()
             ) -> Callable[[Callable[[Dossier], bool]], Callable[[Dossier], bool]]:
    """Register a function in the allow-list under its own name (``questions``: the answers it reads)."""
    def enregistrer(f: Callable[[Dossier], bool]) -> Callable[[Dossier], bool]:
        PREDICATS[f.__name__] = Predicat(f, description, seuils, questions)
        return f
    return enregistrer


# -- decision (orientation) --------------------------------------------------------------------
@predicat("Au moins un critère d'urgence est présent")
def critere_urgences(d: Dossier) -> bool:
    return bool(d.declenches.get("urgences"))


@predicat("Au moins un critère « médecin dans la journée » est présent")
def critere_medecin_jour(d: Dossier) -> bool:
    return bool(d.declenches.get("medecin_jour"))


@predicat("Une question de sécurité obligatoire est sans réponse")
def reponses_manquantes(d: Dossier) -> bool:
    return bool(d.manquantes)


@predicat("Le patient a une prescription médicale pour ce motif")
def prescription_medicale(d: Dossier) -> bool:
    return d.cas.episode.prescription_medicale


@predicat("Tous les critères d'éligibilité au protocole sont remplis")
def eligible_protocole(d: Dossier) -> bool:
    return d.eligible


@predicat("L'accès direct est ouvert dans ce cadre à cette date")
def acces_direct_disponible(d: Dossier) -> bool:
    return d.acces_direct_disponible


@predicat("Les séances d'accès direct sans diagnostic médical préalable sont épuisées")
def plafond_acces_direct_atteint(d: Dossier) -> bool:
    plafond = d.plafond_acces_direct
    return plafond is not None and (d.cas.episode.acces_direct_periode_terminee or d.seances_acces_direct >= plafond)


# -- eligibility ---------------------------------------------------------------------------------
@predicat("Le protocole de coopération est en vigueur à la date de consultation")
def protocole_en_vigueur(d: Dossier) -> bool:
    return d.parametre_ou(d.registre.commun.protocole_en_vigueur, False) is True


@predicat("La structure est de celles où le protocole s'applique (MSP, centre de santé)")
def structure_protocole(d: Dossier) -> bool:
    return d.cas.cadre.structure in d.registre.commun.structures_protocole


@predicat("La structure applique le protocole, le kiné est formé et déclaré")
def protocole_autorise(d: Dossier) -> bool:
    return d.cas.cadre.protocole_autorise


@predicat("Le médecin délégant est le médecin traitant du patient")
def delegant_medecin_traitant(d: Dossier) -> bool:
    return d.cas.cadre.medecin_delegant_est_medecin_traitant


@predicat("Le médecin délégant est joignable")
def medecin_joignable(d: Dossier) -> bool:
    return d.cas.cadre.medecin_joignable


@predicat("Le patient consent au protocole")
def consentement_protocole(d: Dossier) -> bool:
    return d.cas.consentement.protocole


@predicat("Le patient accepte le partage avec le DMP")
def consentement_dmp(d: Dossier) -> bool:
    return d.cas.consentement.partage_dmp


@predicat("Âge dans les bornes du protocole (incluses)", "age_min", "age_max")
def age_protocole(d: Dossier) -> bool:
    return d.seuil("age_min") <= d.age <= d.seuil("age_max")


@predicat("Durée de l'épisode : aiguë")
def duree_aigue(d: Dossier) -> bool:
    return d.classe_duree == "aigue"


@predicat("Mécanisme de torsion confirmé", questions=("mecanisme_torsion",))
def mecanisme_torsion(d: Dossier) -> bool:
    return d.reponses.get("mecanisme_torsion") is True


@predicat("Traumatisme récent (délai maximal en jours inclus)", "traumatisme_recent_jours")
def traumatisme_recent(d: Dossier) -> bool:
    return 0 <= d.jours <= d.seuil("traumatisme_recent_jours")


# -- computed criteria ---------------------------------------------------------------------------
@predicat("Âge d'apparition atypique sans antécédent de lombalgie", "age_apparition_min",
          "age_apparition_max")
def age_apparition_atypique(d: Dossier) -> bool:
    hors = d.age < d.seuil("age_apparition_min") or d.age > d.seuil("age_apparition_max")
    return hors and not d.cas.episode.antecedent_lombalgie


@predicat("Âge hors des bornes du protocole", "age_min", "age_max")
def age_hors_protocole(d: Dossier) -> bool:
    return not age_protocole(d)


@predicat("Règles d'Ottawa positives alors que l'orientation ne serait pas le protocole (seule voie qui prescrit "
          "la radiographie) : patient non éligible, ou avec une prescription")
def ottawa_positif_hors_protocole(d: Dossier) -> bool:
    serait_protocole = d.eligible and not d.cas.episode.prescription_medicale
    return d.radiographie is not None and not serait_protocole


# -- classification, advice, prescriptions ------------------------------------------------------
@predicat("Risque de chronicité élevé (STarT Back)")
def risque_chronicite_eleve(d: Dossier) -> bool:
    return d.score[0] == "eleve"


@predicat("Lombalgie récidivante")
def recidivante(d: Dossier) -> bool:
    return d.recidivante is True


@predicat("Durée de l'épisode : subaiguë")
def duree_subaigue(d: Dossier) -> bool:
    return d.classe_duree == "subaigue"


@predicat("Durée de l'épisode : chronique")
def duree_chronique(d: Dossier) -> bool:
    return d.classe_duree == "chronique"


@predicat("Stade de gravité au moins égal au seuil d'avis médical", "stade_avis_medical")
def stade_gravite_avis(d: Dossier) -> bool:
    stade = d.reponses.get("stade_gravite")
    return isinstance(stade, int) and stade >= d.seuil("stade_avis_medical")


@predicat("Âge auquel les critères de Berne peuvent remplacer les règles d'Ottawa", "age_regles_berne")
def age_regles_de_berne(d: Dossier) -> bool:
    return d.age >= d.seuil("age_regles_berne")


@predicat("Une radiographie est indiquée par les règles d'Ottawa")
def radiographie_indiquee(d: Dossier) -> bool:
    return d.radiographie is not None


FONCTIONS: dict[str, Callable[[Dossier], bool]] = {n: p.fonction for n, p in PREDICATS.items()}
