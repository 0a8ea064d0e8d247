"""The public result format: the decision, its reasons and its trace."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from triage_app.models.base import Modele, Orientation, Verification, Voie


class MotifResultat(Modele):
    """A criterion that fired, with its label and source."""

    id: str
    libelle: str
    source: str
    verification: Verification
    niveau: str | None = None


class Seances(Modele):
    """Sessions this frame allows without further authorisation."""

    consultations_protocole: int
    autorisees: int
    realisees: int
    restantes: int
    seuil_dap: int


class Ligne(Modele):
    """A billing line at the consultation date (``montant_eur`` null when not fixed)."""

    code: str
    libelle: str
    montant_eur: float | None
    part_remboursee_eur: float | None


class Facturation(Modele):
    """The billing route and its lines."""

    voie: Voie | None
    lignes: list[Ligne]
    remarques: list[str]


class EtapeTrace(Modele):
    """One step of the walk: state, question, answer, rule and source."""

    etat: str
    question: str | None
    reponse: Any
    regle: str
    source: str | None


class Resultat(Modele):
    """The output of the evaluation, exactly as in the public case format."""

    protocole: str
    version_protocole: str
    empreinte_regles: str
    date_consultation: date
    age: int
    statut: Literal["complet", "incomplet"]
    orientation: Orientation | None
    motifs: list[MotifResultat]
    questions_manquantes: list[str]
    classe_duree: Literal["aigue", "subaigue", "chronique"] | None
    duree_jours: int
    recidivante: bool | None
    risque_chronicite: Literal["faible", "moyen", "eleve"] | None
    radiographie: Literal["cheville", "pied", "cheville_et_pied"] | None
    avis_medical_recommande: bool
    eligible_protocole: bool
    seances: Seances | None
    facturation: Facturation
    prescriptions_autorisees: list[str]
    trace: list[EtapeTrace]
