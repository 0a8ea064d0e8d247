"""Contraintes d'unicité (durcissement, issue #28) : un seul premier coordinateur, un seul épisode ouvert par patient et
par motif.

- ``utilisateurs.premier`` (vrai pour le compte créé au premier démarrage, vide sinon) et son index unique : deux
  formulaires « premier compte » envoyés ensemble ne créent qu'un coordinateur, même hors de l'application.
- Index unique partiel ``ix_episodes_un_ouvert`` sur ``episodes (patient_id, protocole)`` pour les épisodes ouverts
  (SQLite et PostgreSQL). Une base qui a déjà plusieurs épisodes ouverts du même motif pour un patient (la course
  que cet index empêche désormais) garde le plus récent ouvert ; les autres sont clos avec le motif ``doublon``, à
  la date de la mise à jour, et chaque clôture est ajoutée au journal d'audit (scellé avec la clé de la structure).
  Aucun épisode, acte ni triage n'est supprimé.
- ``patients.nom_recherche`` recalculé : la clé de recherche garde désormais les lettres de toutes les écritures
  (« 杜邦 », « دوبون ») et ignore les caractères de format (« Du\u2060pont » est « dupont ») ; les noms restent tels
  quels.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MOTIF = "doublon"


def _doublons(connexion: sa.Connection) -> list[str]:
    """The open episodes to close: every open one of a patient and protocol but the most recent."""
    lignes = connexion.execute(sa.text(
        "SELECT id, patient_id, protocole FROM episodes WHERE statut = 'ouvert' "
        "ORDER BY patient_id, protocole, date_debut DESC, cree_le DESC, id DESC")).all()
    vus: set[tuple[str, str]] = set()
    fermer = []
    for eid, patient, protocole in lignes:
        if (patient, protocole) in vus:
            fermer.append(eid)
        vus.add((patient, protocole))
    return fermer


def upgrade() -> None:
    op.add_column("utilisateurs", sa.Column("premier", sa.Boolean))
    op.create_index("ix_utilisateurs_premier", "utilisateurs", ["premier"], unique=True)

    connexion = op.get_bind()
    fermer = _doublons(connexion)
    if fermer:
        from sqlalchemy.orm import Session

        from triage_app.storage import audit
        from triage_app.storage.cle import cle_secrete

        maintenant = datetime.now(UTC)
        cle = cle_secrete(creer=not audit.tete_scellee(connexion))
        session = Session(bind=connexion)
        chaine = audit.Chaine(session, maintenant.isoformat(), cle)
        for eid in fermer:
            connexion.execute(sa.text("UPDATE episodes SET statut = 'clos', motif_cloture = :m, date_cloture = :d "
                                      "WHERE id = :e"), {"m": MOTIF, "d": maintenant.date(), "e": eid})
            chaine.ajouter("cloture_episode", "mise_a_jour_0008", details={"episode": eid, "motif": MOTIF})
        session.flush()
        chaine.ecrire_tete()
    from triage_app.domain.texte import cle_patient

    patients = connexion.execute(sa.text("SELECT id, nom, prenom, nom_recherche FROM patients")).all()
    for pid, nom, prenom, cle in patients:
        if cle_patient(nom, prenom) != cle:
            connexion.execute(sa.text("UPDATE patients SET nom_recherche = :c WHERE id = :p"),
                              {"c": cle_patient(nom, prenom), "p": pid})
    op.create_index("ix_episodes_un_ouvert", "episodes", ["patient_id", "protocole"], unique=True,
                    sqlite_where=sa.text("statut = 'ouvert'"), postgresql_where=sa.text("statut = 'ouvert'"))


def downgrade() -> None:
    op.drop_index("ix_episodes_un_ouvert", table_name="episodes")
    op.drop_index("ix_utilisateurs_premier", table_name="utilisateurs")
    op.execute("ALTER TABLE utilisateurs DROP COLUMN premier")
