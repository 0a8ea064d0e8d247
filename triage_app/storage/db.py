"""Database connection: SQLite by default (WAL, foreign keys, busy timeout) or PostgreSQL; schema by Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
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


def creer_moteur_bd(url: str, reglages: Reglages | None = None) -> Engine:
    """An SQLAlchemy engine for ``url``; for SQLite, the file's folder is created and the pragmas set."""
    reglages = reglages or Reglages()
    adresse = make_url(url)
    if adresse.get_backend_name() == "sqlite":
        if adresse.database and adresse.database != ":memory:":
            Path(adresse.database).parent.mkdir(parents=True, exist_ok=True)
        moteur = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=5,
                               max_overflow=20, pool_pre_ping=False)
        event.listen(moteur, "connect", _pragmas_sqlite(reglages.sqlite_busy_timeout_ms))
        return moteur
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def migrer(moteur: Engine) -> None:
    """Bring the schema up to date (Alembic ``upgrade head``); a no-op when it already is."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with moteur.begin() as connexion:
        cfg.attributes["connexion"] = connexion
        command.upgrade(cfg, "head")
