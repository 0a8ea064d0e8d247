"""The unit of work: one structure's database (engine, sessions, schema), its secret key and the clock.

Every write is one transaction (:meth:`UniteDeTravail.ecriture`) that first takes the audit chain's lock, changes
what it must and appends its audit event(s) (:class:`triage_app.storage.audit.Chaine`); nothing is written when it
fails. SQLite's « database is locked » past its busy timeout becomes :class:`BaseOccupee` (French); an idempotent
write is tried again (:func:`reessayable`). The application services (one module per aggregate) share one unit of
work; none of them opens a transaction of its own.
"""

from __future__ import annotations

import functools
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from triage_app.config import Reglages
from triage_app.errors import TriageError
from triage_app.storage import audit
from triage_app.storage.cle import cle_secrete
from triage_app.storage.db import creer_moteur_bd, migrer


class ErreurStockage(TriageError):
    """A request the records cannot satisfy (unknown id, finalised triage changed…), in French."""


class BaseOccupee(ErreurStockage):
    """SQLite stayed locked by other writers past its busy timeout: nothing was written (the transaction was rolled
    back whole)."""


# A write that found the database busy is tried again this many times in all, after a short random pause (many
# tablets at once on SQLite: issue #25). Only for writes that give the same records when repeated.
ESSAIS_ECRITURE = 3
_PAUSE_S = (0.02, 0.15)
_M = TypeVar("_M", bound=Callable[..., Any])


def reessayable(methode: _M) -> _M:
    """Repeat an idempotent write that found the database busy (nothing was written by the failed attempt)."""

    @functools.wraps(methode)
    def enveloppe(*args: Any, **kwargs: Any) -> Any:
        for essai in range(1, ESSAIS_ECRITURE + 1):
            try:
                return methode(*args, **kwargs)
            except BaseOccupee:
                if essai == ESSAIS_ECRITURE:
                    raise
                time.sleep(random.uniform(*_PAUSE_S))  # a pause that spreads the writers, not a secret
        raise AssertionError("inaccessible")

    return enveloppe  # type: ignore[return-value]


def nouvel_id() -> str:
    """An opaque, unguessable identifier (128 random bits, hex)."""
    return uuid.uuid4().hex


class UniteDeTravail:
    """One structure's records: the database (created and migrated when needed), its sessions, the key that seals the
    audit chain (kept outside the database) and the clock that dates what is written."""

    def __init__(self, url: str | None = None, reglages: Reglages | None = None,
                 horloge: Callable[[], datetime] | None = None, migrer_schema: bool = True,
                 cle: bytes | None = None) -> None:
        """``cle``: the key to use instead of the structure's (checking a backup with the key saved beside it)."""
        reglages = reglages or Reglages()
        self.url = url or reglages.url_base
        self.bd: Engine = creer_moteur_bd(self.url, reglages)
        if migrer_schema:
            migrer(self.bd)
        self.sessions = sessionmaker(self.bd, expire_on_commit=False)
        # Reads on PostgreSQL in autocommit (issue #25): at READ COMMITTED each statement takes its own snapshot
        # anyway, so a read transaction only added a BEGIN and a ROLLBACK round trip around every read (two of the
        # ~10 a tap makes, each waiting for the interpreter again under load). SQLite keeps its transaction (one
        # snapshot for the whole read). No flush: nothing a read session holds is ever sent.
        lecteur = self.bd.execution_options(isolation_level="AUTOCOMMIT") \
            if self.bd.dialect.name == "postgresql" else self.bd
        self.sessions_lecture = sessionmaker(lecteur, expire_on_commit=False, autoflush=False)
        self.horloge = horloge or (lambda: datetime.now(UTC))
        self.reglages = reglages
        self._cle: bytes | None = cle

    @property
    def cle(self) -> bytes:
        """The structure's secret key (kept outside the database: :mod:`triage_app.storage.cle`)."""
        if self._cle is None:
            # A new key only for a database whose chain was never sealed (issue #28): a lost key is said, never
            # silently replaced.
            self._cle = cle_secrete(self.reglages, creer=not self.chaine_scellee())
        return self._cle

    def chaine_scellee(self) -> bool:
        """Whether the audit chain's head is already sealed with a key (then that key must be the one used)."""
        with self.bd.connect() as c:
            return audit.tete_scellee(c)

    def fermer(self) -> None:
        """Release the connections (idempotent; the unit stays usable and reconnects on its next use)."""
        self.bd.dispose()

    def lecture(self) -> Session:
        """A session to read with (``with uow.lecture() as s:``); nothing it does is written (no flush, and nothing
        committed)."""
        return self.sessions_lecture()

    @contextmanager
    def ecriture(self) -> Iterator[tuple[Session, audit.Chaine]]:
        """One write: a transaction that first takes the audit chain's lock; its events go with it or not at all."""
        try:
            with self.sessions.begin() as s:
                yield s, audit.Chaine(s, self.horloge().isoformat(), self.cle)
        except OperationalError as exc:
            # Many writers at once on SQLite: after its busy timeout (TRIAGE_SQLITE_BUSY_TIMEOUT_MS), said in French
            # (nothing was written: the transaction is rolled back whole).
            if "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower():
                raise BaseOccupee("base de données occupée par d’autres enregistrements : rien n’a été "
                                  "enregistré, réessayer dans un instant") from None
            raise
