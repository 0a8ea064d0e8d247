"""The audit trail: append-only, hash-chained events, and their verification.

Each event's hash covers the previous event's hash and its own content, so changing or removing
any row breaks the chain at that row. The database refuses UPDATE and DELETE on the table
(triggers); :func:`verifier` finds what an administrator bypassing them would have broken.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from triage_app.storage.tables import EvenementAudit, TeteAudit, Triage

GENESE = "0" * 64


def empreinte_evenement(precedent: str, seq: int, horodatage: str, type_: str, triage_id: str | None,
                        acteur: str, details: dict[str, Any]) -> str:
    """SHA-256 of the previous hash and the event's canonical content."""
    contenu = json.dumps([seq, horodatage, type_, triage_id, acteur, details], sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{precedent}|{contenu}".encode()).hexdigest()


def empreinte_contenu(cas: dict[str, Any], resultat: dict[str, Any] | None) -> str:
    """SHA-256 of a triage's case and result: recorded when it is finalised, checked by :func:`verifier`."""
    contenu = json.dumps([cas, resultat], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(contenu.encode()).hexdigest()


class Chaine:
    """Appends events within one write transaction; created by taking the chain's lock."""

    def __init__(self, session: Session, horodatage: str) -> None:
        self.session = session
        self.horodatage = horodatage
        # First statement of every write transaction: takes the write lock (SQLite) / row lock (PostgreSQL),
        # so that appends are serialised and a transaction never has to upgrade a read lock.
        ligne = session.execute(text("UPDATE tete_audit SET seq = seq WHERE id = 1 RETURNING seq, empreinte")).one()
        self.seq, self.empreinte = int(ligne[0]), str(ligne[1])

    def ajouter(self, type_: str, acteur: str, triage_id: str | None = None,
                details: dict[str, Any] | None = None) -> int:
        """Append one event (ids, types and hashes only: never personal data)."""
        details = details or {}
        seq = self.seq + 1
        empreinte = empreinte_evenement(self.empreinte, seq, self.horodatage, type_, triage_id, acteur, details)
        self.session.add(EvenementAudit(seq=seq, horodatage=self.horodatage, type=type_, triage_id=triage_id,
                                        acteur=acteur, details=details, precedent=self.empreinte,
                                        empreinte=empreinte))
        self.session.execute(update(TeteAudit).where(TeteAudit.id == 1).values(seq=seq, empreinte=empreinte))
        self.seq, self.empreinte = seq, empreinte
        return seq


@dataclass(frozen=True)
class RapportAudit:
    """Outcome of a verification: ``premier_defaut`` names the first broken link, or is ``None``."""

    evenements: int
    premier_defaut: str | None

    @property
    def intact(self) -> bool:
        return self.premier_defaut is None


def verifier(session: Session) -> RapportAudit:
    """Walk the whole chain; also check that each finalised triage still has the content it was finalised with."""
    precedent = GENESE
    attendu = 1
    n = 0
    empreintes_finales: dict[str, str] = {}
    for ev in session.scalars(select(EvenementAudit).order_by(EvenementAudit.seq)).yield_per(1000):
        n += 1
        if ev.seq != attendu:
            return RapportAudit(n, f"maillon n° {attendu} : absent (le suivant présent est le n° {ev.seq})")
        if ev.precedent != precedent:
            return RapportAudit(n, f"maillon n° {ev.seq} : l'empreinte précédente ne correspond pas au maillon "
                                   f"n° {ev.seq - 1}")
        calcul = empreinte_evenement(ev.precedent, ev.seq, ev.horodatage, ev.type, ev.triage_id, ev.acteur,
                                     ev.details)
        if calcul != ev.empreinte:
            return RapportAudit(n, f"maillon n° {ev.seq} ({ev.type}) : contenu modifié (empreinte recalculée "
                                   "différente)")
        if ev.type == "finalisation" and ev.triage_id:
            empreintes_finales[ev.triage_id] = str(ev.details.get("contenu", ""))
        elif ev.type == "effacement":
            for tid in ev.details.get("triages", []):
                empreintes_finales.pop(tid, None)
        precedent = ev.empreinte
        attendu += 1
    tete = session.get(TeteAudit, 1)
    if tete is None or tete.seq != attendu - 1 or tete.empreinte != precedent:
        return RapportAudit(n, f"tête de chaîne : attendu le maillon n° {attendu - 1}, la tête indique "
                               f"n° {tete.seq if tete else '?'} (maillons retirés en fin de chaîne ?)")
    for tid, empreinte in empreintes_finales.items():
        t = session.get(Triage, tid)
        if t is None:
            return RapportAudit(n, f"triage {tid} : finalisé mais introuvable, sans effacement journalisé")
        if empreinte_contenu(t.cas, t.resultat) != empreinte:
            return RapportAudit(n, f"triage {tid} : contenu modifié depuis sa finalisation")
    return RapportAudit(n, None)
