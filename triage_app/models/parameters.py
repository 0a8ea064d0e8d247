"""Dated parameters in the OpenFisca style: values keyed by effective date, each with its reference."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

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

    @field_validator("valeurs", mode="before")
    @classmethod
    def _dates_entre_guillemets(cls, valeurs: Any) -> Any:
        if isinstance(valeurs, dict):
            for cle in valeurs:
                if not isinstance(cle, str):
                    raise ValueError(f"date d'effet « {cle} » invalide : écrire la date entre guillemets, au "
                                     "format \"AAAA-MM-JJ\"")
            if not valeurs:
                raise ValueError("au moins une valeur datée attendue (une date d'effet et sa valeur)")
        return valeurs
