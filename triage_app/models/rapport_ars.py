"""``protocols/rapport.yaml``: how the yearly ARS report masks small counts and groups distributions.

Not rules: a triage does not depend on it, so it stays outside the rules' fingerprint (like
``interoperabilite.yaml``). Every value cites one of the file's own sources.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from triage_app.models.base import Ident, Modele, Verification
from triage_app.models.protocol import Source


class PetitsEffectifs(Modele):
    """Counts from 1 to ``seuil - 1`` are shown « < seuil », with no share (a share would give them back)."""

    seuil: int = Field(ge=2, le=100)
    source: Ident
    verification: Verification


class Classes(Modele):
    """A distribution shown as classes: ``[bas, haut]`` inclusive, from 0, contiguous, the last one open (null)."""

    unite: str = Field(min_length=1)
    bornes: list[tuple[int, int | None]] = Field(min_length=2)
    source: Ident
    verification: Verification


class ParametresRapport(Modele):
    """The whole file."""

    version: str
    petits_effectifs: PetitsEffectifs
    classes: dict[Literal["seances_par_episode", "delai_jours"], Classes]
    sources: list[Source] = Field(min_length=1)
