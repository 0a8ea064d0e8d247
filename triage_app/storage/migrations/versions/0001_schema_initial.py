"""Schéma initial : structure, patients, épisodes, triages, séances, journal d'audit chaîné.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
HORODATAGE = sa.DateTime(timezone=True)
GENESE = "0" * 64


def upgrade() -> None:
    op.create_table(
        "structure",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("nom", sa.String(200), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("departement", sa.String(3)),
        sa.Column("protocoles_appliques", JSON, nullable=False),
        sa.Column("inscrit_experimentation_cpts", sa.Boolean, nullable=False),
        sa.Column("modifie_le", HORODATAGE, nullable=False),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("nom", sa.String(200), nullable=False),
        sa.Column("prenom", sa.String(200), nullable=False),
        sa.Column("date_naissance", sa.Date, nullable=False),
        sa.Column("sexe", sa.String(1)),
        sa.Column("cree_le", HORODATAGE, nullable=False),
    )
    op.create_table(
        "episodes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("patient_id", sa.String(32), sa.ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("protocole", sa.String(60), nullable=False),
        sa.Column("date_debut", sa.Date, nullable=False),
        sa.Column("prescription_medicale", sa.Boolean, nullable=False),
        sa.Column("diagnostic_medical_prealable", sa.Boolean, nullable=False),
        sa.Column("antecedent_lombalgie", sa.Boolean, nullable=False),
        sa.Column("episodes_anterieurs_12_mois", sa.Integer, nullable=False),
        sa.Column("cree_le", HORODATAGE, nullable=False),
    )
    op.create_index("ix_episodes_patient_id", "episodes", ["patient_id"])
    op.create_table(
        "triages",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("episode_id", sa.String(32), sa.ForeignKey("episodes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("remplace_id", sa.String(32), sa.ForeignKey("triages.id", ondelete="CASCADE")),
        sa.Column("statut", sa.String(12), nullable=False),
        sa.Column("date_consultation", sa.Date, nullable=False),
        sa.Column("cas", JSON, nullable=False),
        sa.Column("resultat", JSON),
        sa.Column("orientation", sa.String(30)),
        sa.Column("version_protocole", sa.String(60)),
        sa.Column("empreinte_regles", sa.String(80)),
        sa.Column("etape", sa.String(60)),
        sa.Column("note", sa.Text),
        sa.Column("auteur", sa.String(120), nullable=False),
        sa.Column("cree_le", HORODATAGE, nullable=False),
        sa.Column("modifie_le", HORODATAGE, nullable=False),
        sa.Column("finalise_le", HORODATAGE),
    )
    op.create_index("ix_triages_episode_id", "triages", ["episode_id"])
    op.create_index("ix_triages_cree_le", "triages", ["cree_le"])
    op.create_table(
        "seances",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("episode_id", sa.String(32), sa.ForeignKey("episodes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("voie", sa.String(30), nullable=False),
        sa.Column("cree_le", HORODATAGE, nullable=False),
    )
    op.create_index("ix_seances_episode_id", "seances", ["episode_id"])
    op.create_table(
        "evenements_audit",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("horodatage", sa.String(40), nullable=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("triage_id", sa.String(32)),
        sa.Column("acteur", sa.String(120), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("precedent", sa.String(64), nullable=False),
        sa.Column("empreinte", sa.String(64), nullable=False),
    )
    op.create_index("ix_evenements_audit_triage_id", "evenements_audit", ["triage_id"])
    tete = op.create_table(
        "tete_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("empreinte", sa.String(64), nullable=False),
    )
    op.bulk_insert(tete, [{"id": 1, "seq": 0, "empreinte": GENESE}])

    # The database itself refuses to change or remove an audit event.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_ajout_seul() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'journal d''audit en ajout seul : % refusé', TG_OP;
            END;
            $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER audit_ajout_seul BEFORE UPDATE OR DELETE ON evenements_audit
                      FOR EACH ROW EXECUTE FUNCTION audit_ajout_seul()""")
        op.execute("""CREATE TRIGGER audit_ajout_seul_tronquer BEFORE TRUNCATE ON evenements_audit
                      FOR EACH STATEMENT EXECUTE FUNCTION audit_ajout_seul()""")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER audit_ajout_seul_{operation.lower()} BEFORE {operation} ON evenements_audit
                           BEGIN SELECT RAISE(ABORT, 'journal d''audit en ajout seul : {operation} refusé'); END""")


def downgrade() -> None:
    raise NotImplementedError("le schéma initial ne se défait pas (le journal d'audit est en ajout seul)")
