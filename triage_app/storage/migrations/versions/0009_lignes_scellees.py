"""Tout enregistrement scellé par la chaîne d'audit (durcissement, issue #28).

À partir de cette version, chaque écriture met dans son dernier événement d'audit l'empreinte à clé (HMAC avec la clé
de la structure) des lignes qu'elle a écrites dans les tables scellées (structure, patients, épisodes, actes,
triages, comptes) ; ``audit verify`` relit chaque ligne et nomme celle qui a été modifiée, supprimée ou ajoutée hors
de l'application. Pour une base existante, cette mise à jour ajoute un événement ``empreintes_initiales`` qui scelle
toutes ses lignes telles qu'elles sont (la même confiance que la version d'avant, comme le sceau de la tête en
0006). Rien n'est modifié ni supprimé.

Une migration future qui modifie des lignes doit sceller de même les lignes qu'elle modifie.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from sqlalchemy.orm import Session

    from triage_app.storage import audit, lignes
    from triage_app.storage.cle import cle_secrete

    connexion = op.get_bind()
    session = Session(bind=connexion)
    cle = cle_secrete(creer=not audit.tete_scellee(connexion))
    toutes = lignes.toutes(session, cle)
    if not toutes:
        return
    chaine = audit.Chaine(session, datetime.now(UTC).isoformat(), cle)
    chaine.ajouter("empreintes_initiales", "mise_a_jour_0009", details={"lignes": toutes})
    chaine.ecrire_tete()


def downgrade() -> None:
    pass  # the event stays in the chain (append-only); the release before simply does not read it
