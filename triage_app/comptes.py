"""Accounts, roles and what each role may do: the rules the service layer enforces (not only the page).

- ``kine``: the structure's triages (create, answer, finalise, amend, record sessions, export), rules views.
- ``coordinateur``: everything a kiné may do, plus accounts, the structure's settings, RGPD requests, audit.
- ``medecin``: read-only — triages and their summaries (exports), rules views.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from triage_app.errors import TriageError

ROLES = ("kine", "coordinateur", "medecin")
LIBELLES_ROLES = {"kine": "Kinésithérapeute", "coordinateur": "Coordinateur", "medecin": "Médecin (lecture seule)"}

_LECTURE = frozenset(ROLES)
_KINE = frozenset({"kine", "coordinateur"})
_COORDINATION = frozenset({"coordinateur"})

# Permission → roles allowed.
PERMISSIONS: dict[str, frozenset[str]] = {
    "triage.lire": _LECTURE,
    "triage.ecrire": _KINE,
    "seance.ecrire": _KINE,
    "export": _LECTURE,
    "protocoles.lire": _LECTURE,
    "structure.lire": _LECTURE,
    "structure.ecrire": _COORDINATION,
    "comptes.gerer": _COORDINATION,
    "rgpd": _COORDINATION,
    "audit": _COORDINATION,
    # The structure's indicators (counts only, no patient data): the coordinator, and the médecin who reads them.
    "rapport": frozenset({"coordinateur", "medecin"}),
    "rapport.exporter": _COORDINATION,  # the yearly ARS report (PDF, spreadsheet)
}

# Failed logins before the account is held back, then the hold doubles at each new failure (capped).
ECHECS_AVANT_BLOCAGE = 5
BLOCAGE_INITIAL = timedelta(seconds=30)
BLOCAGE_MAXIMAL = timedelta(minutes=15)
LONGUEUR_MINIMALE_MOT_DE_PASSE = 12


class ErreurDroits(TriageError):
    """The acting user's role does not allow this action."""


class ErreurConnexion(TriageError):
    """Login refused (wrong credentials, account held back or disabled). The message never says which."""


@dataclass(frozen=True)
class Utilisateur:
    """Who is acting: identifier (recorded in the audit log), display name and role."""

    identifiant: str
    nom: str
    role: str
    source: str = "local"

    def peut(self, permission: str) -> bool:
        """Whether this user's role grants ``permission``."""
        return self.role in PERMISSIONS.get(permission, frozenset())


def exiger(utilisateur: Utilisateur | None, permission: str) -> None:
    """Raise :class:`ErreurDroits` (French) unless ``utilisateur`` has ``permission``."""
    if utilisateur is None:
        raise ErreurDroits("connexion requise")
    if not utilisateur.peut(permission):
        raise ErreurDroits(f"action refusée : le rôle « {LIBELLES_ROLES.get(utilisateur.role, utilisateur.role)} » "
                           f"ne permet pas « {permission} »")


def duree_blocage(echecs: int) -> timedelta | None:
    """How long an account is held back after ``echecs`` consecutive failures (``None``: not held back)."""
    if echecs < ECHECS_AVANT_BLOCAGE:
        return None
    duree = BLOCAGE_INITIAL * (2 ** min(echecs - ECHECS_AVANT_BLOCAGE, 16))  # capped before any overflow
    return min(duree, BLOCAGE_MAXIMAL)


def fin_blocage(echecs: int, maintenant: datetime) -> datetime | None:
    """Until when the account is held back after this failure."""
    duree = duree_blocage(echecs)
    return maintenant + duree if duree else None


def verifier_mot_de_passe_nouveau(mot_de_passe: str, identifiant: str) -> None:
    """A new password's minimal rules (length, not the identifier); French error naming the field."""
    from triage_app.errors import ErreurSaisie, Probleme

    if len(mot_de_passe) < LONGUEUR_MINIMALE_MOT_DE_PASSE:
        raise ErreurSaisie([Probleme("mot_de_passe", f"au moins {LONGUEUR_MINIMALE_MOT_DE_PASSE} caractères")])
    if identifiant.lower() in mot_de_passe.lower():
        raise ErreurSaisie([Probleme("mot_de_passe", "ne doit pas contenir l'identifiant")])
