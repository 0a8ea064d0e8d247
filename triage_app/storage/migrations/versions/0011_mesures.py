"""Mesures rapportées par le patient (issue #30).

- Table ``mesures`` : une mesure d'un épisode (douleur, EIFEL, FAAM-F AVQ, impression globale de changement), ses
  réponses telles que données, item par item, et son score une fois complète ; qui l'a déclarée (le patient sur la
  tablette, ou le kinésithérapeute). Scellée par la chaîne d'audit comme les autres enregistrements ; effacée avec
  l'épisode (RGPD).

Rien n'est supprimé ni réécrit : la table est nouvelle et vide.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mesures",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("episode_id", sa.String(32), sa.ForeignKey("episodes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("mesure", sa.String(40), nullable=False),
        sa.Column("moment", sa.String(20), nullable=False),
        sa.Column("jour", sa.Date(), nullable=False),
        sa.Column("reponses", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("score", sa.Float()),
        sa.Column("declare_par", sa.String(20), nullable=False),
        sa.Column("auteur", sa.String(120), nullable=False),
        sa.Column("cree_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modifie_le", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mesures_episode_id", "mesures", ["episode_id"])


def downgrade() -> None:
    op.drop_index("ix_mesures_episode_id", table_name="mesures")
    op.drop_table("mesures")
