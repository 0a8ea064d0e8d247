"""Épisodes suivis : recherche des patients, clôture et issue de l'épisode, historique déclaré, actes.

- ``patients.nom_recherche`` : clé de recherche sans accents ni majuscules (« lefebvre » trouve « Lefèbvre »),
  remplie pour les patients existants, indexée.
- ``episodes`` : statut (ouvert / clos), motif et date de clôture, issue (reprise par un médecin, événement
  indésirable), historique des 12 derniers mois déclaré avec son motif. Les épisodes existants restent ouverts ;
  un nombre d'épisodes antérieurs saisi à la main avant cette version devient une déclaration, avec ce motif.
- ``seances`` : l'acte (bilan, séance, consultation de protocole 1 ou 2) et l'issue d'une réévaluation ; les
  séances existantes sont des séances.

Rien n'est supprimé ni réécrit : les triages, réponses et événements d'audit restent tels quels.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage_app.domain.texte import cle_patient

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MOTIF_MIGRATION = "nombre saisi à la main avant le suivi des épisodes"


def upgrade() -> None:
    # Plain ADD COLUMN on both databases (never a batch copy: on SQLite, dropping ``patients`` or ``episodes``
    # with foreign keys on would cascade to the triages).
    op.add_column("patients", sa.Column("nom_recherche", sa.String(420), nullable=False, server_default=""))
    connexion = op.get_bind()
    patients = sa.table("patients", sa.column("id", sa.String), sa.column("nom", sa.String),
                        sa.column("prenom", sa.String), sa.column("nom_recherche", sa.String))
    lignes = connexion.execute(sa.select(patients.c.id, patients.c.nom, patients.c.prenom)).all()
    for ligne in lignes:
        connexion.execute(patients.update().where(patients.c.id == ligne.id)
                          .values(nom_recherche=cle_patient(ligne.nom, ligne.prenom)))
    op.create_index("ix_patients_nom_recherche", "patients", ["nom_recherche"])
    op.create_index("ix_patients_date_naissance", "patients", ["date_naissance"])

    op.add_column("episodes", sa.Column("statut", sa.String(10), nullable=False, server_default="ouvert"))
    op.add_column("episodes", sa.Column("motif_cloture", sa.String(30)))
    op.add_column("episodes", sa.Column("date_cloture", sa.Date))
    op.add_column("episodes", sa.Column("repris_par", sa.String(20)))
    op.add_column("episodes", sa.Column("evenement_indesirable", sa.Boolean))
    op.add_column("episodes", sa.Column("evenement_texte", sa.Text))
    op.add_column("episodes", sa.Column("seances_12_mois_declarees", sa.Integer))
    op.add_column("episodes", sa.Column("episodes_12_mois_declares", sa.Integer))
    op.add_column("episodes", sa.Column("motif_declaration", sa.Text))
    episodes = sa.table("episodes", sa.column("episodes_anterieurs_12_mois", sa.Integer),
                        sa.column("episodes_12_mois_declares", sa.Integer), sa.column("motif_declaration", sa.Text))
    connexion.execute(episodes.update().where(episodes.c.episodes_anterieurs_12_mois > 0)
                      .values(episodes_12_mois_declares=episodes.c.episodes_anterieurs_12_mois,
                              motif_declaration=MOTIF_MIGRATION))
    op.create_index("ix_episodes_patient_protocole", "episodes", ["patient_id", "protocole", "statut"])

    op.add_column("seances", sa.Column("acte", sa.String(30), nullable=False, server_default="seance"))
    op.add_column("seances", sa.Column("evolution", sa.String(20)))
    op.add_column("seances", sa.Column("suite", sa.String(20)))
    op.create_index("ix_seances_episode_date", "seances", ["episode_id", "date"])


def downgrade() -> None:
    op.drop_index("ix_seances_episode_date", "seances")
    for colonne in ("suite", "evolution", "acte"):
        op.execute(f"ALTER TABLE seances DROP COLUMN {colonne}")
    op.drop_index("ix_episodes_patient_protocole", "episodes")
    for colonne in ("motif_declaration", "episodes_12_mois_declares", "seances_12_mois_declarees",
                    "evenement_texte", "evenement_indesirable", "repris_par", "date_cloture", "motif_cloture",
                    "statut"):
        op.execute(f"ALTER TABLE episodes DROP COLUMN {colonne}")
    op.drop_index("ix_patients_date_naissance", "patients")
    op.drop_index("ix_patients_nom_recherche", "patients")
    op.execute("ALTER TABLE patients DROP COLUMN nom_recherche")
