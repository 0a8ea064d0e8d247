"""``protocols/rapport.yaml``: how the yearly ARS report masks small counts and groups distributions.

Not rules: a triage does not depend on it, so it stays outside the rules' fingerprint (like
``interoperabilite.yaml``). Every value cites one of the file's own sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
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


# -- the indicators of a period, as the services compute them (plain data the report and the dashboard read)
@dataclass
class ResultatMesure:
    """One measure over the closed episodes of a protocol and route (issue #30): how many episodes have it read
    (two scores, or a level for a global impression), how many read « amélioration cliniquement pertinente », and
    each episode's change (first → latest score; none for a measure read by level)."""

    episodes: int = 0
    ameliores: int = 0
    variations: list[float] = field(default_factory=list)

    @property
    def mediane(self) -> float | None:
        if not self.variations:
            return None
        v = sorted(self.variations)
        return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


@dataclass
class BlocProtocole:
    """One protocol's indicators over the period (counts; distributions as value → count)."""

    triages: int = 0
    patients: int = 0
    episodes: int = 0
    par_voie: dict[str, dict[str, int]] = field(default_factory=dict)
    orientations: dict[str, int] = field(default_factory=dict)
    drapeaux: dict[str, int] = field(default_factory=dict)
    non_eligibilite: dict[str, int] = field(default_factory=dict)
    seances_par_episode: dict[int, int] = field(default_factory=dict)
    delai_jours: dict[int, int] = field(default_factory=dict)
    repris_par: dict[str, int] = field(default_factory=dict)
    evenements_indesirables: int = 0
    dap: int = 0
    clos_au_plafond: int = 0
    clotures: dict[str, int] = field(default_factory=dict)  # closing reason → episodes (rules v3, §9.11)
    mois: dict[str, int] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    # Measured outcomes of the closed episodes (issue #30): route → measure → result.
    resultats: dict[str, dict[str, ResultatMesure]] = field(default_factory=dict)

    @staticmethod
    def mediane(distribution: dict[int, int]) -> float | None:
        """The median of a distribution given as value → count (``None`` when empty)."""
        total = sum(distribution.values())
        if total == 0:
            return None
        rangs = ((total - 1) // 2, total // 2)
        vus, valeurs = 0, []
        for valeur in sorted(distribution):
            n = distribution[valeur]
            valeurs += [valeur for r in rangs if vus <= r < vus + n]
            vus += n
        return sum(valeurs) / len(valeurs)


@dataclass
class Indicateurs:
    du: date
    au: date
    protocoles: dict[str, BlocProtocole] = field(default_factory=dict)
