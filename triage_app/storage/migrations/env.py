"""Alembic environment: runs on the connection handed over by triage_app.storage.db (or on the URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from triage_app.storage.tables import Base

config = context.config
connexion = config.attributes.get("connexion")


def _executer(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connexion is not None:
    _executer(connexion)
else:
    moteur = create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with moteur.connect() as conn:
            _executer(conn)
    finally:
        moteur.dispose()  # the pool would otherwise keep the connection open until garbage collection
