"""Database connection: SQLite by default (WAL, foreign keys, busy timeout) or PostgreSQL; schema by Alembic."""

from __future__ import annotations

import threading
import time
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url

from triage_app.config import Reglages

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _pragmas_sqlite(delai_ms: int) -> Any:
    def regler(connexion_dbapi: Any, _enregistrement: Any) -> None:
        curseur = connexion_dbapi.cursor()
        curseur.execute("PRAGMA journal_mode=WAL")
        curseur.execute("PRAGMA foreign_keys=ON")
        curseur.execute(f"PRAGMA busy_timeout={int(delai_ms)}")
        curseur.execute("PRAGMA synchronous=NORMAL")
        curseur.close()

    return regler


def _dossier_prive(fichier: Path) -> None:
    """The database's folder created 0700, the file and its journals (-wal, -shm) made 0600 when they exist:
    health data readable by their owner only (a folder the structure chose itself is left as it is)."""
    dossier = fichier.parent
    if not dossier.exists():
        dossier.mkdir(mode=0o700, parents=True)
    for chemin in (fichier, fichier.with_name(fichier.name + "-wal"), fichier.with_name(fichier.name + "-shm")):
        try:
            if chemin.exists() and chemin.stat().st_mode & 0o077:
                chemin.chmod(0o600)
        except OSError:  # not ours to change: SQLite's own checks apply
            pass


def creer_moteur_bd(url: str, reglages: Reglages | None = None) -> Engine:
    """An SQLAlchemy engine for ``url``; for SQLite, the file's folder is created and the pragmas set."""
    reglages = reglages or Reglages()
    adresse = make_url(url)
    if adresse.get_backend_name() == "sqlite":
        if adresse.database and adresse.database != ":memory:":
            _dossier_prive(Path(adresse.database))
        # hide_parameters: SQL logs and database errors never carry the values (patients' names, dates…).
        moteur = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=5,
                               hide_parameters=True,
                               max_overflow=20, pool_pre_ping=False)
        event.listen(moteur, "connect", _pragmas_sqlite(reglages.sqlite_busy_timeout_ms))
        return _sans_lignes_au_journal(moteur)
    moteur = create_engine(url, pool_size=10, max_overflow=20, hide_parameters=True)
    _verifier_si_inactive(moteur, PING_APRES_S)
    return _sans_lignes_au_journal(moteur)


# A pooled PostgreSQL connection unused for this long is checked (``SELECT 1``) before it is lent again: the server
# may have restarted or closed it meanwhile (a night, a maintenance), and a dead one is replaced without the user
# seeing an error. SQLAlchemy's ``pool_pre_ping`` checks at every lending: one more round trip for each read and write
# of every tap, 12 % of the server's time with 60 tablets (issue #25), for connections lent a few ms earlier.
PING_APRES_S = 10.0


def _verifier_si_inactive(moteur: Engine, apres_s: float) -> None:
    @event.listens_for(moteur, "checkin")
    def rendue(_connexion_dbapi: Any, enregistrement: Any) -> None:
        enregistrement.info["rendue_a"] = time.monotonic()

    @event.listens_for(moteur, "checkout")
    def pretee(connexion_dbapi: Any, enregistrement: Any, _mandataire: Any) -> None:
        rendue_a = enregistrement.info.get("rendue_a")
        if rendue_a is None or time.monotonic() - rendue_a <= apres_s:
            return
        try:
            curseur = connexion_dbapi.cursor()
            curseur.execute("SELECT 1")
            curseur.close()
            connexion_dbapi.rollback()
        except Exception as e:  # any failure: the pool opens a new connection in its place
            raise exc.DisconnectionError("connexion fermée par le serveur") from e


def _sans_lignes_au_journal(moteur: Engine) -> Engine:
    """Never log result rows (SQLAlchemy does at DEBUG): they would carry patients' data.

    Parameters are hidden by ``hide_parameters``; statements themselves hold no values. This engine answers
    « no » to SQLAlchemy's « log rows at DEBUG? » whatever the logging configuration of the host.
    """
    moteur._should_log_debug = lambda: False  # type: ignore[method-assign]
    return moteur


# Alembic's ``context`` is process-global: two threads must not run it at once.
_VERROU_MIGRATION = threading.Lock()
# Any constant key: PostgreSQL serialises concurrent migrations from several processes or replicas.
_CLE_VERROU_PG = 0x7472696167


def _configuration() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@cache
def _tetes() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(_configuration()).get_heads())


def a_jour(moteur: Engine) -> bool:
    """Whether the database is already at the latest migration (a single read)."""
    with moteur.connect() as connexion:
        return frozenset(MigrationContext.configure(connexion).get_current_heads()) == _tetes()


def migrer(moteur: Engine) -> None:
    """Bring the schema up to date (Alembic ``upgrade head``); a cheap read when it already is.

    Safe from several threads (a process lock) and, on PostgreSQL, from several processes (an advisory lock).
    """
    if a_jour(moteur):
        return
    cfg = _configuration()
    with _VERROU_MIGRATION, moteur.begin() as connexion:
        if moteur.dialect.name == "postgresql":
            connexion.execute(text("SELECT pg_advisory_xact_lock(:cle)"), {"cle": _CLE_VERROU_PG})
        cfg.attributes["connexion"] = connexion
        command.upgrade(cfg, "head")
