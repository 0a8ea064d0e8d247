"""Épisode de soins (règles v3) : historique déclaré daté, clé d'idempotence des actes.

- ``episodes.date_declaration`` : date de la dernière séance déclarée (faite ailleurs) ; la déclaration compte tant
  qu'elle est dans les 12 mois avant la consultation. Une déclaration existante prend la date de son événement
  d'audit (la dernière ``declaration_historique`` de l'épisode, sinon sa ``creation_episode`` quand le nombre a été
  saisi à l'ouverture, sinon la création de l'épisode).
- ``seances.cle`` (index unique) : la clé du geste qui a enregistré l'acte ; le même geste reçu deux fois
  (double appui, message renvoyé, rechargement) retrouve son acte au lieu d'en créer un second. Vide pour les
  actes existants.

Rien n'est supprimé ni réécrit : les triages, actes, réponses et événements d'audit restent tels quels.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _details(valeur: Any) -> dict[str, Any]:
    if isinstance(valeur, dict):
        return valeur
    try:
        return json.loads(valeur) if valeur else {}
    except (TypeError, ValueError):
        return {}


def upgrade() -> None:
    op.add_column("episodes", sa.Column("date_declaration", sa.Date))
    op.add_column("seances", sa.Column("cle", sa.String(64)))
    op.create_index("ix_seances_cle", "seances", ["cle"], unique=True)

    connexion = op.get_bind()
    episodes = sa.table("episodes", sa.column("id", sa.String), sa.column("cree_le", sa.DateTime),
                        sa.column("seances_12_mois_declarees", sa.Integer),
                        sa.column("episodes_12_mois_declares", sa.Integer), sa.column("date_declaration", sa.Date))
    declares = connexion.execute(sa.select(episodes.c.id, episodes.c.cree_le).where(sa.or_(
        episodes.c.seances_12_mois_declarees.is_not(None), episodes.c.episodes_12_mois_declares.is_not(None)))).all()
    if not declares:
        return
    # The audit's events about these episodes (the journal holds ids, never patient data): the latest
    # declaration's timestamp, else the opening's.
    quand: dict[str, dict[str, str]] = {}
    evenements = connexion.execute(sa.text(
        "SELECT type, horodatage, details FROM evenements_audit "
        "WHERE type IN ('declaration_historique', 'creation_episode') ORDER BY seq"))
    for type_, horodatage, details in evenements:
        episode = _details(details).get("episode")
        if episode is not None:
            quand.setdefault(str(episode), {})[type_] = str(horodatage)
    for eid, cree_le in declares:
        trace = quand.get(eid, {})
        horodatage = trace.get("declaration_historique") or trace.get("creation_episode")
        if horodatage is not None:
            jour = date.fromisoformat(horodatage[:10])
        elif isinstance(cree_le, str):
            jour = date.fromisoformat(cree_le[:10])
        else:
            jour = cree_le.date()
        connexion.execute(episodes.update().where(episodes.c.id == eid).values(date_declaration=jour))


def downgrade() -> None:
    # Plain DROP COLUMN on both databases (never a batch copy: on SQLite, rebuilding ``episodes`` with foreign
    # keys on would cascade to the triages). The dates and keys go; every act and declaration stays.
    op.drop_index("ix_seances_cle", table_name="seances")
    op.execute("ALTER TABLE seances DROP COLUMN cle")
    op.execute("ALTER TABLE episodes DROP COLUMN date_declaration")
