"""Who a document is about, by and for, as plain data: the patient's identity (INS, strict traits, status,
médecin traitant), a professional's, the structure's. Built by the services from the records; read by the exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class IdentitePatient:
    """The patient's identity as the documents carry it; ``statut`` follows from what was checked."""

    patient_id: str
    nom: str
    prenom: str
    date_naissance: date
    sexe: str | None
    statut: str
    ins: str | None = None
    ins_oid: str | None = None
    ins_genre: str | None = None
    recuperee_insi: bool = False
    piece_identite: str | None = None
    piece_verifiee_le: date | None = None
    piece_verifiee_par: str | None = None
    nom_naissance: str | None = None
    prenoms_naissance: str | None = None
    lieu_naissance: str | None = None
    medecin_nom: str | None = None
    medecin_rpps: str | None = None
    medecin_mssante: str | None = None

    @property
    def qualifiee(self) -> bool:
        """Only a qualified identity's INS may be sent (DMP, MSSanté) or written in a document's header."""
        return self.statut == "qualifiee" and self.ins is not None

    @property
    def premier_prenom(self) -> str | None:
        return self.prenoms_naissance.split(" ")[0] if self.prenoms_naissance else None


@dataclass(frozen=True)
class IdentitePro:
    """A professional as the documents sign: name, profession, RPPS or ADELI, phone (the account's identifier
    is the login, never printed as a name)."""

    identifiant: str
    nom: str
    prenom: str | None = None
    nom_famille: str | None = None
    profession: str | None = None
    rpps: str | None = None
    adeli: str | None = None
    telephone: str | None = None


@dataclass(frozen=True)
class IdentiteStructure:
    nom: str
    finess: str | None = None
    siret: str | None = None
    adresse: str | None = None
    mssante: str | None = None
    telephone: str | None = None


@dataclass(frozen=True)
class Identites:
    """Everything a document about one triage needs to name: patient, author, structure."""

    patient: IdentitePatient
    auteur: IdentitePro | None
    structure: IdentiteStructure | None
