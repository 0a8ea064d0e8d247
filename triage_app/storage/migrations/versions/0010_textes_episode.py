"""Textes du kinésithérapeute pour le médecin (issue #29).

- ``episodes.textes`` (JSON) : le bilan, le traitement réalisé, les résultats et les conseils, par rubrique,
  enregistrés au fil de la saisie ; la fiche de synthèse, la DAP et le compte rendu les impriment. Vide pour les
  épisodes existants.

Rien n'est supprimé ni réécrit. Le sceau des lignes ne porte que sur les colonnes qui ont une valeur : la colonne
ajoutée, vide, ne change le sceau d'aucun épisode.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("episodes", sa.Column("textes", sa.JSON().with_variant(JSONB(), "postgresql")))


def downgrade() -> None:
    op.drop_column("episodes", "textes")
