"""Couverture du patient (régime général, régime local d'Alsace-Moselle, exonération) : part remboursée.

Les patients déjà enregistrés reçoivent ``regime_general`` (la valeur par défaut du format de cas) ; aucune
ligne n'est modifiée ni perdue.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (never a batch copy of the table: on SQLite, dropping the old
    # ``patients`` table with foreign keys on would cascade to the episodes and triages). The server default
    # fills the existing rows and keeps the column NOT NULL.
    op.add_column("patients", sa.Column("couverture", sa.String(20), nullable=False,
                                        server_default="regime_general"))


def downgrade() -> None:
    # SQLite (3.35 or later) and PostgreSQL both drop a column in place: the other columns and rows stay.
    op.execute("ALTER TABLE patients DROP COLUMN couverture")
