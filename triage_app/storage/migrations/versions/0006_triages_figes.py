"""Triages finalisés figés et chaîne d'audit ancrée.

- ``tete_audit.mac`` (gardée par un retour en arrière) : le sceau (HMAC) de la tête de chaîne, fait avec la clé
  secrète de la structure, gardée hors de la base. Une base existante est scellée par la mise à jour elle-même
  (même confiance que la version d'avant).
- Déclencheurs sur ``triages`` (SQLite et PostgreSQL) : une ligne finalisée (``final`` ou ``remplace``) ne change
  plus, sauf le passage de ``final`` à ``remplace`` quand une nouvelle version est finalisée ; un changement passe
  par une nouvelle version.

Rien n'est supprimé ni réécrit : les triages, réponses et événements d'audit restent tels quels.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MESSAGE = "triage finalisé : aucune modification (faire une nouvelle version)"
# Every column of triages but the status (SQLite compares them one by one).
COLONNES = ("id", "episode_id", "version", "remplace_id", "date_consultation", "cas", "resultat", "orientation",
            "version_protocole", "empreinte_regles", "etape", "note", "auteur", "cree_le", "modifie_le",
            "finalise_le")


def upgrade() -> None:
    if "mac" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("tete_audit")}:
        op.add_column("tete_audit", sa.Column("mac", sa.String(64)))
    # The chain as it stands is sealed now, with the structure's key (the same trust as the release before).
    connexion = op.get_bind()
    seq, empreinte, mac = connexion.execute(sa.text("SELECT seq, empreinte, mac FROM tete_audit WHERE id = 1")).one()
    if seq > 0 and mac is None:
        from triage_app.storage.audit import mac_tete
        from triage_app.storage.cle import cle_secrete

        connexion.execute(sa.text("UPDATE tete_audit SET mac = :m WHERE id = 1"),
                          {"m": mac_tete(cle_secrete(), seq, empreinte)})
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION triage_fige() RETURNS trigger AS $$
            BEGIN
                IF OLD.statut = 'final' AND NEW.statut = 'remplace'
                   AND (to_jsonb(NEW) - 'statut') = (to_jsonb(OLD) - 'statut') THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '{MESSAGE}';
            END;
            $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER triage_fige BEFORE UPDATE ON triages FOR EACH ROW
                      WHEN (OLD.statut IN ('final', 'remplace')) EXECUTE FUNCTION triage_fige()""")
    else:
        identiques = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in COLONNES)
        op.execute(f"""CREATE TRIGGER triage_fige BEFORE UPDATE ON triages
                       WHEN OLD.statut IN ('final', 'remplace')
                        AND NOT (OLD.statut = 'final' AND NEW.statut = 'remplace' AND {identiques})
                       BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS triage_fige" + (" ON triages" if op.get_bind().dialect.name == "postgresql"
                                                       else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS triage_fige()")
    # The seal's column stays: back at this version, the seal is still valid if nothing was written meanwhile
    # (a release without the seal writing events leaves it stale, which the check then reports).
