"""Exceptions of the project, all carrying French messages meant for the user."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Probleme:
    """One problem found in a file or a case: where, and what was expected."""

    chemin: str
    message: str
    ligne: int | None = None

    def __str__(self) -> str:
        ou = self.chemin or "(racine)"
        if self.ligne is not None:
            ou = f"{ou} (ligne {self.ligne})"
        return f"{ou} : {self.message}"


class TriageError(Exception):
    """Base class of every error raised by triage_app."""


class ErreurChargement(TriageError):
    """A protocol, parameter or source file is invalid; names the file and each YAML path."""

    def __init__(self, fichier: str, problemes: list[Probleme]) -> None:
        self.fichier = fichier
        self.problemes = problemes
        lignes = "\n".join(f"  - {p}" for p in problemes)
        super().__init__(f"Fichier {fichier} invalide :\n{lignes}")


class ErreurCas(TriageError):
    """A case is invalid; each problem names the field path."""

    titre = "Cas invalide"

    def __init__(self, problemes: list[Probleme]) -> None:
        self.problemes = problemes
        super().__init__(f"{self.titre} :\n" + "\n".join(f"  - {p}" for p in problemes))

    def resume(self) -> str:
        """One-line French summary (for the JSONL batch mode)."""
        return " ; ".join(str(p) for p in self.problemes)


class ParametreIntrouvable(TriageError):
    """A dated parameter has no value at the requested date (never a silent default)."""

    def __init__(self, parametre: str, date_iso: str) -> None:
        self.parametre = parametre
        self.date_iso = date_iso
        super().__init__(f"Le paramètre « {parametre} » n'a pas de valeur au {date_iso}.")


class ErreurSaisie(ErreurCas):
    """A form or command input (an account, a password) is invalid; each problem names the field."""

    titre = "Saisie invalide"
