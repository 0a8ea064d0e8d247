"""Tables (SQLAlchemy 2 ORM). The application services (:mod:`triage_app.services`) use them; nothing above them does.

The schema itself is created and changed by the Alembic migrations in ``migrations/``; these
classes describe it for the ORM and must stay in step (a test compares them).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

Json = JSON().with_variant(JSONB(), "postgresql")

# The stored statuses: a triage's, an episode's.
BROUILLON, FINAL, REMPLACE = "brouillon", "final", "remplace"
OUVERT, CLOS = "ouvert", "clos"


class Base(DeclarativeBase):
    """Declarative base of the project's tables."""


class Structure(Base):
    """The structure's settings, described once (a single row, id 1)."""

    __tablename__ = "structure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    departement: Mapped[str | None] = mapped_column(String(3))
    protocoles_appliques: Mapped[list[str]] = mapped_column(Json)
    inscrit_experimentation_cpts: Mapped[bool] = mapped_column(default=False)
    modifie_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Identifiers for the documents (CDA custodian, MSSanté): FINESS or SIRET, address, secure mail, phone.
    finess: Mapped[str | None] = mapped_column(String(9))
    siret: Mapped[str | None] = mapped_column(String(14))
    adresse: Mapped[str | None] = mapped_column(Text)
    mssante: Mapped[str | None] = mapped_column(String(254))
    telephone: Mapped[str | None] = mapped_column(String(20))


class Patient(Base):
    """Only what the summary for the médecin needs."""

    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    prenom: Mapped[str] = mapped_column(String(200))
    date_naissance: Mapped[date] = mapped_column(Date)
    sexe: Mapped[str | None] = mapped_column(String(1))
    # The patient's cover (case format ``patient.couverture``), which sets the reimbursed share.
    couverture: Mapped[str] = mapped_column(String(20), default="regime_general", server_default="regime_general")
    # Search key (no accents, lower case: :func:`triage_app.domain.texte.cle_patient`), kept by the service.
    nom_recherche: Mapped[str] = mapped_column(String(420), default="", server_default="")
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # INS (matricule and the OID of its authority) and what was checked: retrieved through INSi (declared by the
    # kiné), identity document checked (type, day, by whom). The status follows from these two, never typed.
    ins_matricule: Mapped[str | None] = mapped_column(String(15))
    ins_oid: Mapped[str | None] = mapped_column(String(40))
    ins_insi: Mapped[bool] = mapped_column(default=False, server_default=false())
    piece_identite: Mapped[str | None] = mapped_column(String(30))
    piece_verifiee_le: Mapped[date | None] = mapped_column(Date)
    piece_verifiee_par: Mapped[str | None] = mapped_column(String(120))
    # Strict traits as on the identity document (the used name and first name are ``nom`` / ``prenom``).
    nom_naissance: Mapped[str | None] = mapped_column(String(200))
    prenoms_naissance: Mapped[str | None] = mapped_column(String(400))
    lieu_naissance: Mapped[str | None] = mapped_column(String(5))
    # The patient's médecin traitant: the summary's recipient.
    medecin_traitant_nom: Mapped[str | None] = mapped_column(String(200))
    medecin_traitant_rpps: Mapped[str | None] = mapped_column(String(11))
    medecin_traitant_mssante: Mapped[str | None] = mapped_column(String(254))

    episodes: Mapped[list[Episode]] = relationship(back_populates="patient", cascade="all, delete-orphan",
                                                   passive_deletes=True)

    __table_args__ = (Index("ix_patients_nom_recherche", "nom_recherche"),
                      Index("ix_patients_date_naissance", "date_naissance"))


class Episode(Base):
    """An episode of care for one protocol: onset, prescription or prior diagnosis, open or closed and how."""

    __tablename__ = "episodes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    protocole: Mapped[str] = mapped_column(String(60))
    date_debut: Mapped[date] = mapped_column(Date)
    prescription_medicale: Mapped[bool] = mapped_column(default=False)
    diagnostic_medical_prealable: Mapped[bool] = mapped_column(default=False)
    antecedent_lombalgie: Mapped[bool] = mapped_column(default=False)
    episodes_anterieurs_12_mois: Mapped[int] = mapped_column(default=0)
    statut: Mapped[str] = mapped_column(String(10), default="ouvert", server_default="ouvert")
    motif_cloture: Mapped[str | None] = mapped_column(String(30))
    date_cloture: Mapped[date | None] = mapped_column(Date)
    repris_par: Mapped[str | None] = mapped_column(String(20))
    evenement_indesirable: Mapped[bool | None] = mapped_column()
    evenement_texte: Mapped[str | None] = mapped_column(Text)
    # The 12-month history as declared by the kiné (sessions done elsewhere), with the stated reason.
    seances_12_mois_declarees: Mapped[int | None] = mapped_column()
    episodes_12_mois_declares: Mapped[int | None] = mapped_column()
    motif_declaration: Mapped[str | None] = mapped_column(Text)
    # Rules v3 (§9.5): the date of the last declared session; the declaration counts while it is within 12 months.
    date_declaration: Mapped[date | None] = mapped_column(Date)
    # Issue #29: the kiné's texts for the médecin (bilan, treatment, results, advice), by heading, saved as typed.
    textes: Mapped[dict[str, str] | None] = mapped_column(Json)
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    patient: Mapped[Patient] = relationship(back_populates="episodes")

    __table_args__ = (Index("ix_episodes_patient_protocole", "patient_id", "protocole", "statut"),
                      # At most one open episode per patient and condition (issue #28): the loser of a race joins
                      # the winner's episode.
                      Index("ix_episodes_un_ouvert", "patient_id", "protocole", unique=True,
                            sqlite_where=text("statut = 'ouvert'"), postgresql_where=text("statut = 'ouvert'")))


class Triage(Base):
    """One triage: the case, its result, the rules that produced it; drafts are saved answer by answer."""

    __tablename__ = "triages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    episode_id: Mapped[str] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    remplace_id: Mapped[str | None] = mapped_column(ForeignKey("triages.id", ondelete="CASCADE"))
    statut: Mapped[str] = mapped_column(String(12))
    date_consultation: Mapped[date] = mapped_column(Date)
    cas: Mapped[dict[str, Any]] = mapped_column(Json)
    resultat: Mapped[dict[str, Any] | None] = mapped_column(Json)
    orientation: Mapped[str | None] = mapped_column(String(30))
    version_protocole: Mapped[str | None] = mapped_column(String(60))
    empreinte_regles: Mapped[str | None] = mapped_column(String(80))
    etape: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(Text)
    auteur: Mapped[str] = mapped_column(String(120))
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    modifie_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finalise_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_triages_cree_le", "cree_le"),)


class Seance(Base):
    """A visit recorded on an episode: its act (bilan, séance, protocol consultation 1 or 2) and date."""

    __tablename__ = "seances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    episode_id: Mapped[str] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    date: Mapped[date] = mapped_column(Date)
    voie: Mapped[str] = mapped_column(String(30))
    acte: Mapped[str] = mapped_column(String(30), default="seance", server_default="seance")
    # Re-assessment consultation (act ``consultation_protocole_2``): what changed and what follows.
    evolution: Mapped[str | None] = mapped_column(String(20))
    suite: Mapped[str | None] = mapped_column(String(20))
    # Rules v3 (§9.8): the tap's idempotency key; the same tap delivered twice finds its act here.
    cle: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_seances_episode_date", "episode_id", "date"),)


class MesureTable(Base):
    """A measure the patient reported on an episode (issue #30): its answers as given, item by item, and its score
    once complete (``protocols/mesures.yaml`` says how it is scored)."""

    __tablename__ = "mesures"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    episode_id: Mapped[str] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    mesure: Mapped[str] = mapped_column(String(40))
    moment: Mapped[str] = mapped_column(String(20))
    jour: Mapped[date] = mapped_column(Date)
    reponses: Mapped[dict[str, Any]] = mapped_column(Json)
    score: Mapped[float | None] = mapped_column(Float)
    # Who gave the answers: the patient on the tablet (« déclaré par le patient ») or the kiné.
    declare_par: Mapped[str] = mapped_column(String(20))
    auteur: Mapped[str] = mapped_column(String(120))
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    modifie_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EvenementAudit(Base):
    """An append-only, hash-chained audit event (no personal data: ids, types, hashes only)."""

    __tablename__ = "evenements_audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    horodatage: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(30))
    triage_id: Mapped[str | None] = mapped_column(String(32), index=True)
    acteur: Mapped[str] = mapped_column(String(120))
    details: Mapped[dict[str, Any]] = mapped_column(Json)
    precedent: Mapped[str] = mapped_column(String(64))
    empreinte: Mapped[str] = mapped_column(String(64))


class TeteAudit(Base):
    """The chain's head (one row): last sequence number and hash; updating it serialises appends."""

    __tablename__ = "tete_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    empreinte: Mapped[str] = mapped_column(String(64))
    # HMAC of seq and empreinte with the structure's secret key (outside the database): the chain's anchor.
    mac: Mapped[str | None] = mapped_column(String(64))


class Utilisateur(Base):
    """An account: local (argon2 hash) or from the structure's identity provider (OIDC, no password here)."""

    __tablename__ = "utilisateurs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    identifiant: Mapped[str] = mapped_column(String(200), unique=True)
    nom: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10))
    empreinte_mot_de_passe: Mapped[str | None] = mapped_column(String(200))
    actif: Mapped[bool] = mapped_column(default=True)
    echecs: Mapped[int] = mapped_column(default=0)
    bloque_jusqu_a: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    derniere_connexion: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # True for the account made at first start, empty otherwise: unique, so two first-account forms sent together
    # make one coordinator (issue #28).
    premier: Mapped[bool | None] = mapped_column(unique=True, index=True)
    # The professional identity signed on the documents: first and family name, profession, RPPS or ADELI, phone.
    prenom: Mapped[str | None] = mapped_column(String(200))
    nom_famille: Mapped[str | None] = mapped_column(String(200))
    profession: Mapped[str | None] = mapped_column(String(20))
    rpps: Mapped[str | None] = mapped_column(String(11))
    adeli: Mapped[str | None] = mapped_column(String(9))
    telephone: Mapped[str | None] = mapped_column(String(20))
