"""Comptes utilisateurs : identifiant, rôle, empreinte argon2, échecs de connexion (limitation).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

HORODATAGE = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "utilisateurs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("identifiant", sa.String(200), nullable=False, unique=True),
        sa.Column("nom", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("empreinte_mot_de_passe", sa.String(200)),
        sa.Column("actif", sa.Boolean, nullable=False),
        sa.Column("echecs", sa.Integer, nullable=False),
        sa.Column("bloque_jusqu_a", HORODATAGE),
        sa.Column("derniere_connexion", HORODATAGE),
        sa.Column("cree_le", HORODATAGE, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("utilisateurs")
