"""What every loader of ``protocols/`` shares: validation against a model, and cross-reference problems with
their YAML lines, raised together in French."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from triage_app.errors import ErreurChargement, Probleme
from triage_app.loading.yaml_strict import DocumentYaml, problemes_pydantic

M = TypeVar("M", bound=BaseModel)


def valider(modele: type[M], doc: DocumentYaml, fichier: str) -> M:
    try:
        return modele.model_validate(doc.donnees)
    except ValidationError as exc:
        raise ErreurChargement(fichier, problemes_pydantic(exc, doc)) from exc


class Controle:
    """Collects cross-reference problems of one file, with YAML lines."""

    def __init__(self, fichier: str, doc: DocumentYaml) -> None:
        self.fichier = fichier
        self.doc = doc
        self.problemes: list[Probleme] = []

    def erreur(self, chemin: str, message: str) -> None:
        self.problemes.append(Probleme(chemin, message, self.doc.ligne(chemin)))

    def dans(self, valeur: str, permis: Iterable[str], chemin: str, quoi: str) -> None:
        permis = list(permis)
        if valeur not in permis:
            apercu = ", ".join(sorted(permis)[:12]) + (" …" if len(permis) > 12 else "")
            self.erreur(chemin, f"{quoi} « {valeur} » inconnu(e) ; attendu l'un de : {apercu}")

    def lever(self) -> None:
        if self.problemes:
            raise ErreurChargement(self.fichier, self.problemes)
