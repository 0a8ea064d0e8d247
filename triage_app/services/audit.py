"""The audit trail, read: the chain checked whole (and every record it seals), against the checkpoints kept outside;
and the refusals the role check records."""

from __future__ import annotations

from triage_app.services.base import Service
from triage_app.storage import audit


class ServiceAudit(Service):
    """The audit trail's verification, and what is recorded of a refused call."""

    def verifier_audit(self, points: tuple[audit.PointControle, ...] = ()) -> audit.RapportAudit:
        """Check the whole audit chain and the finalised triages' content (and the checkpoints kept outside)."""
        with self.uow.lecture() as s:
            return audit.verifier(s, self.uow.cle, points)

    def refus(self, action: str, *, acteur: str) -> None:
        """A call the role may not make (recorded by the role check, before it is refused)."""
        with self.uow.ecriture() as (_, chaine):
            chaine.ajouter("refus", acteur, details={"action": action})
