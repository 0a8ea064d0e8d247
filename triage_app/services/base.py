"""What every application service holds: the structure's unit of work and the rules it evaluates with."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from triage_app.errors import ErreurSaisie, Probleme
from triage_app.services.unite import ErreurStockage

if TYPE_CHECKING:
    from triage_app.engine.evaluation import Moteur
    from triage_app.models.episode_regles import EpisodeDeSoins
    from triage_app.models.interop import Interop
    from triage_app.services.unite import UniteDeTravail


class Service:
    """One aggregate's use cases, over the shared unit of work (``uow``) and rules (``moteur``)."""

    def __init__(self, uow: UniteDeTravail, moteur: Moteur) -> None:
        self.uow = uow
        self.moteur = moteur

    @property
    def horloge(self) -> Callable[[], datetime]:
        return self.uow.horloge

    @property
    def regles_episode(self) -> EpisodeDeSoins:
        """The episode of care's rules (rules v3, §9: what counts, the acts' routes, the confirmations)."""
        return self.moteur.registre.commun.episode_de_soins

    @property
    def interop(self) -> Interop:
        """The identifiers' rules and codes (``protocols/interoperabilite.yaml``)."""
        interop = self.moteur.registre.interop
        if interop is None:
            raise ErreurSaisie([Probleme("interoperabilite.yaml", "fichier des identifiants absent de protocols/")])
        return interop

    def protocole_connu(self, protocole: str) -> None:
        """Refuse a protocol the rules do not have (French)."""
        if protocole not in self.moteur.protocoles:
            raise ErreurStockage(f"protocole « {protocole} » inconnu")
