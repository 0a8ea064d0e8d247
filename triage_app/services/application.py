"""One structure's application services over one unit of work: what the page, the command line and the tests call.

    services = Services(url)                      # the database at ``url`` (created and migrated when needed)
    tid, eid, _ = services.triages.demarrer_triage(…)
    services.episodes.enregistrer_seance(episode_id=eid, jour=…, acteur=…)

Each aggregate has its own service (``structure``, ``patients``, ``episodes``, ``triages``, ``documents``,
``comptes``, ``rgpd``, ``reevaluation``, ``rapport``, ``audit``, ``mesures``); they share the unit of work (``uow``: the
database, the structure's key, the clock) and the rules (``moteur``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Self

from triage_app.config import Reglages
from triage_app.engine.evaluation import Moteur, moteur
from triage_app.services.audit import ServiceAudit
from triage_app.services.comptes import ServiceComptes
from triage_app.services.documents import ServiceDocuments
from triage_app.services.episodes import ServiceEpisodes
from triage_app.services.mesures import ServiceMesures
from triage_app.services.patients import ServicePatients
from triage_app.services.rapport import ServiceRapport
from triage_app.services.reevaluation import ServiceReevaluation
from triage_app.services.rgpd import ServiceRgpd
from triage_app.services.structure import ServiceStructure
from triage_app.services.triages import ServiceTriages
from triage_app.services.unite import UniteDeTravail

# The aggregates' services, by attribute name (the authorising wrapper exposes the same names).
AGREGATS = ("structure", "patients", "episodes", "triages", "documents", "comptes", "rgpd", "reevaluation", "rapport",
            "audit", "mesures")


class Services:
    """The services of one structure's records."""

    def __init__(self, url: str | None = None, reglages: Reglages | None = None, moteur_regles: Moteur | None = None,
                 horloge: Callable[[], datetime] | None = None, migrer_schema: bool = True,
                 cle: bytes | None = None) -> None:
        self.moteur = moteur_regles or moteur()
        self.uow = UniteDeTravail(url, reglages, horloge, migrer_schema, cle)
        self.structure = ServiceStructure(self.uow, self.moteur)
        self.patients = ServicePatients(self.uow, self.moteur)
        self.episodes = ServiceEpisodes(self.uow, self.moteur)
        self.triages = ServiceTriages(self.uow, self.moteur)
        self.mesures = ServiceMesures(self.uow, self.moteur)
        self.documents = ServiceDocuments(self.uow, self.moteur, self.triages, self.structure, self.mesures)
        self.comptes = ServiceComptes(self.uow, self.moteur)
        self.rgpd = ServiceRgpd(self.uow, self.moteur)
        self.reevaluation = ServiceReevaluation(self.uow, self.moteur)
        self.rapport = ServiceRapport(self.uow, self.moteur)
        self.audit = ServiceAudit(self.uow, self.moteur)

    @property
    def url(self) -> str:
        """The database's URL."""
        return self.uow.url

    def fermer(self) -> None:
        """Release the connections (idempotent; the services stay usable and reconnect on their next call)."""
        self.uow.fermer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fermer()
