"""The public result format: the decision, its reasons and its trace.

The result is a JSON document: a ``TypedDict`` that pydantic validates and documents
(:data:`ADAPTATEUR_RESULTAT`, the committed JSON Schema), while building and serialising it
during an evaluation costs next to nothing (the engine's speed target).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, TypeAdapter
from typing_extensions import TypedDict

from triage_app.models.base import Orientation, Verification, Voie

_STRICT = ConfigDict(extra="forbid")


class MotifResultat(TypedDict):
    __pydantic_config__ = _STRICT  # type: ignore[misc]

    """A criterion that fired, with its label and source."""

    id: str
    libelle: str
    source: str
    verification: Verification
    niveau: str | None


class Seances(TypedDict):
    __pydantic_config__ = _STRICT  # type: ignore[misc]

    """Sessions this frame allows without further authorisation."""

    consultations_protocole: int
    autorisees: int
    realisees: int
    restantes: int
    seuil_dap: int


class Ligne(TypedDict):
    __pydantic_config__ = _STRICT  # type: ignore[misc]

    """A billing line at the consultation date (``montant_eur`` null when not fixed)."""

    code: str
    libelle: str
    montant_eur: float | None
    part_remboursee_eur: float | None
    part_patient_eur: float | None


class Facturation(TypedDict):
    __pydantic_config__ = _STRICT  # type: ignore[misc]

    """The billing route and its lines."""

    voie: Voie | None
    lignes: list[Ligne]
    remarques: list[str]


class EtapeTrace(TypedDict):
    __pydantic_config__ = _STRICT  # type: ignore[misc]

    """One step of the walk: state, question, answer, rule and source."""

    etat: str
    question: str | None
    reponse: Any
    regle: str
    source: str | None


class Resultat(TypedDict):
    """The output of the evaluation, exactly as in the public case format."""

    __pydantic_config__ = _STRICT  # type: ignore[misc]

    protocole: str
    version_protocole: str
    empreinte_regles: str
    date_consultation: str
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
    criteres_non_remplis: list[MotifResultat]
    seances: Seances | None
    facturation: Facturation
    prescriptions_autorisees: list[str]
    conseils_kine: list[MotifResultat]
    trace: list[EtapeTrace]


ADAPTATEUR_RESULTAT: TypeAdapter[Resultat] = TypeAdapter(Resultat)
"""Validates a result and exports its JSON Schema."""
