"""Identités de l'informatique de santé : INS du patient et ses traits stricts, médecin traitant, identité
professionnelle des comptes, identifiants de la structure.

- ``patients`` : matricule INS et OID de son autorité, INS récupérée par l'INSi (déclaré par le kiné), pièce
  d'identité contrôlée (type, date, par qui), traits stricts (nom et prénoms de naissance, code INSEE du lieu
  de naissance), médecin traitant (nom, RPPS, adresse MSSanté). Les patients existants ont une identité
  provisoire (rien n'est contrôlé).
- ``utilisateurs`` : prénom et nom d'exercice, profession, RPPS ou ADELI, téléphone.
- ``structure`` : FINESS ou SIRET, adresse, adresse MSSanté, téléphone.

Rien n'est supprimé ni réécrit : les triages, réponses et événements d'audit restent tels quels.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLONNES = {
    "patients": [
        sa.Column("ins_matricule", sa.String(15)), sa.Column("ins_oid", sa.String(40)),
        sa.Column("ins_insi", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("piece_identite", sa.String(30)), sa.Column("piece_verifiee_le", sa.Date),
        sa.Column("piece_verifiee_par", sa.String(120)), sa.Column("nom_naissance", sa.String(200)),
        sa.Column("prenoms_naissance", sa.String(400)), sa.Column("lieu_naissance", sa.String(5)),
        sa.Column("medecin_traitant_nom", sa.String(200)), sa.Column("medecin_traitant_rpps", sa.String(11)),
        sa.Column("medecin_traitant_mssante", sa.String(254)),
    ],
    "utilisateurs": [
        sa.Column("prenom", sa.String(200)), sa.Column("nom_famille", sa.String(200)),
        sa.Column("profession", sa.String(20)), sa.Column("rpps", sa.String(11)), sa.Column("adeli", sa.String(9)),
        sa.Column("telephone", sa.String(20)),
    ],
    "structure": [
        sa.Column("finess", sa.String(9)), sa.Column("siret", sa.String(14)), sa.Column("adresse", sa.Text),
        sa.Column("mssante", sa.String(254)), sa.Column("telephone", sa.String(20)),
    ],
}


def upgrade() -> None:
    # Plain ADD COLUMN on both databases (never a batch copy, which would cascade to the triages on SQLite).
    for table, colonnes in COLONNES.items():
        for colonne in colonnes:
            op.add_column(table, colonne)


def downgrade() -> None:
    for table, colonnes in COLONNES.items():
        for colonne in reversed(colonnes):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {colonne.name}")
