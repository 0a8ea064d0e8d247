"""``protocols/mesures.yaml``: the measures the patient reports (pain, disability, global impression of change).

Not rules: no triage depends on them, so they stay outside the rules' fingerprint (like ``rapport.yaml``). Each
measure says how it is scored, the change its source calls minimal, its code for the exports and its licence as
found (item texts whose licence is not verified are not shipped: only their number and scoring).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from triage_app.models.base import Ident, Modele, Verification
from triage_app.models.protocol import Source

Moment = Literal["bilan", "reevaluation", "seance", "cloture"]
Lecture = Literal["amelioration", "stable", "aggravation"]


class ChoixMesure(Modele):
    valeur: int | None = Field(description="Points de la réponse ; null : « sans objet », hors du score")
    libelle: str = Field(min_length=1)


class Reponses(Modele):
    """What an item accepts: an integer scale, yes / no (1 point for yes), or labelled choices."""

    genre: Literal["echelle", "oui_non", "choix"]
    min: int | None = None
    max: int | None = None
    choix: list[ChoixMesure] = Field(default_factory=list)

    @model_validator(mode="after")
    def _coherentes(self) -> Reponses:
        if self.genre == "echelle" and (self.min is None or self.max is None or self.max <= self.min):
            raise ValueError("une échelle demande min et max (max > min)")
        if self.genre == "choix" and len(self.choix) < 2:
            raise ValueError("au moins deux choix")
        if self.genre != "choix" and self.choix:
            raise ValueError("« choix » seulement pour le genre choix")
        return self

    def acceptees(self) -> list[int | None]:
        """Every value an answer may take."""
        if self.genre == "echelle":
            return list(range(int(self.min or 0), int(self.max or 0) + 1))
        if self.genre == "oui_non":
            return [0, 1]
        return [c.valeur for c in self.choix]


class ItemMesure(Modele):
    id: Ident
    libelle: str | None = Field(default=None, description="Texte de l'item ; absent quand il n'est pas livré")
    reponses: Reponses
    question_du_triage: Ident | None = Field(
        default=None, description="Question du protocole que la réponse du patient propose au kinésithérapeute")
    valeurs_du_triage: list[str] | None = Field(
        default=None, description="Pour une question à choix du protocole : la valeur du triage de chaque réponse, "
                                  "dans l'ordre des valeurs 0, 1, 2…")


class ItemsNumerotes(Modele):
    """``nombre`` items with the same answers, named ``<prefixe>1`` … ``<prefixe>N`` (texts not shipped)."""

    nombre: int = Field(ge=1, le=100)
    prefixe: Ident
    reponses: Reponses


class Cotation(Modele):
    regle: Literal["somme", "pourcentage", "niveau", "aucune"]
    min: int
    max: int
    meilleur: Literal["bas", "haut"]
    note: str | None = None
    lecture_par_niveau: dict[Lecture, list[int]] | None = None


class VariationMinimale(Modele):
    valeur: float = Field(gt=0)
    genre: Literal["MCID", "MDC95"]
    texte: str = Field(min_length=1)
    source: Ident
    verification: Verification


class CodeMesure(Modele):
    systeme: Literal["loinc", "projet"]
    valeur: str = Field(min_length=1)
    libelle: str = Field(min_length=1)


class Licence(Modele):
    statut: Literal["libre", "non_verifiee", "restreinte"]
    textes_livres: bool
    note: str = Field(min_length=1)


class Mesure(Modele):
    id: Ident
    libelle: str = Field(min_length=1)
    libelle_court: str = Field(min_length=1)
    protocoles: list[Ident] = Field(min_length=1)
    moments: list[Moment] = Field(min_length=1)
    consigne: str = Field(min_length=1)
    items: list[ItemMesure] = Field(default_factory=list)
    items_numerotes: ItemsNumerotes | None = None
    cotation: Cotation
    variation_minimale: VariationMinimale | None = None
    code: CodeMesure
    licence: Licence
    source: Ident
    verification: Verification
    validation_francaise: str = Field(min_length=1, description="La version française utilisée et sa validation")
    montree_au_triage: bool = Field(default=False, description="Son dernier score déclaré par le patient s'affiche "
                                                              "dans le triage (« déclaré par le patient »)")

    def tous_les_items(self) -> list[ItemMesure]:
        """The items in order, the numbered ones spelled out (``eifel_1`` … ``eifel_24``, no text)."""
        if self.items_numerotes is None:
            return list(self.items)
        n = self.items_numerotes
        return [ItemMesure(id=f"{n.prefixe}{i}", reponses=n.reponses) for i in range(1, n.nombre + 1)]


class ParametresMesures(Modele):
    """The whole file."""

    version: str
    moments: dict[Moment, str]
    lectures: dict[Lecture, str]
    mesures: list[Mesure] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)

    def mesure(self, mid: str) -> Mesure:
        return next(m for m in self.mesures if m.id == mid)

    def connue(self, mid: str) -> Mesure | None:
        """The measure ``mid``, or ``None`` for a stored one no longer in the file (left out, never guessed)."""
        return next((m for m in self.mesures if m.id == mid), None)

    def pour(self, protocole: str) -> list[Mesure]:
        """The measures an episode of ``protocole`` takes, in the file's order."""
        return [m for m in self.mesures if protocole in m.protocoles]

    def suivies(self, protocole: str) -> list[Mesure]:
        """Those followed over the episode (scored): not the triage's questions the patient declares."""
        return [m for m in self.pour(protocole) if m.cotation.regle != "aucune"]
