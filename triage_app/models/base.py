"""Shared building blocks of the models."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


ANNEE_MIN, ANNEE_MAX = 1900, 2100  # dates outside are typing errors (and month arithmetic stays in range)


def _dans_les_bornes(jour: date) -> date:
    if not ANNEE_MIN <= jour.year <= ANNEE_MAX:
        raise ValueError(f"date hors limites « {jour.isoformat()} » : attendu une année entre {ANNEE_MIN} et "
                         f"{ANNEE_MAX}")
    return jour


def _date_iso(valeur: object) -> date:
    if isinstance(valeur, date) and not hasattr(valeur, "hour"):
        return _dans_les_bornes(valeur)
    if isinstance(valeur, str) and _DATE.match(valeur):
        try:
            jour = date.fromisoformat(valeur)
        except ValueError:
            jour = None
        if jour is not None:
            return _dans_les_bornes(jour)
        raise ValueError(f"date inexistante « {valeur} » : attendu une date réelle au format AAAA-MM-JJ")
    from triage_app.loading.apercu import apercu

    raise ValueError(f"date attendue au format AAAA-MM-JJ, reçu « {apercu(valeur)} »")


DateISO = Annotated[date, BeforeValidator(_date_iso)]
"""A calendar date written ``YYYY-MM-DD`` (a ``date`` object is accepted too)."""

Ident = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
"""A stable identifier: French snake_case."""

Verification = Literal["primaire", "secondaire", "choix_produit"]
Niveau = Literal["urgences", "medecin_jour"]
Orientation = Literal["urgences", "medecin_jour", "sur_prescription", "protocole", "acces_direct",
                      "medecin_programme"]
Voie = Literal["forfait_protocole", "ngap_acces_direct", "ngap_prescription", "aucune"]
Couverture = Literal["regime_general", "alsace_moselle", "exoneration_100"]
"""The patient's cover, which sets the reimbursed share (rules v2, §8.5)."""
Structure = Literal["msp", "centre_de_sante", "esp", "ess", "cpts", "etablissement_de_sante", "esms",
                    "cabinet"]


class Modele(BaseModel):
    """Base of every model: unknown fields refused, instances immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Trace(Modele):
    """Where a rule comes from: a source id and how well it was verified."""

    source: Ident
    verification: Verification
