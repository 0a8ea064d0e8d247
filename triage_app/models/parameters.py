"""Dated parameters in the OpenFisca style: values keyed by effective date, each with its reference."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from triage_app.models.base import Ident, Modele, Verification


class ValeurDatee(Modele):
    """The value in force from a date (``valeur: null`` means « not fixed from this date »)."""

    valeur: Any = Field(description="Nombre, texte, liste, ou null (non fixé à partir de cette date)")
    reference: Ident = Field(description="Identifiant d'une source de protocols/sources.yaml")
    verification: Verification
    attendu: bool = Field(False, description="Valeur annoncée, pas en vigueur : jamais appliquée")
    note: str | None = None


class Parametre(Modele):
    """A parameter file: description, unit and values by effective date (``AAAA-MM-JJ``)."""

    description: str
    unite: str | None = None
    valeurs: dict[str, ValeurDatee] = Field(min_length=1)
