"""``protocols/interoperabilite.yaml``: identifiers and codes of French health IT (outside the rules' fingerprint)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from triage_app.models.base import Ident, Modele, Verification
from triage_app.models.protocol import Source

Oid = Annotated[str, StringConstraints(pattern=r"^[0-2](\.(0|[1-9][0-9]*))+$")]
StatutIdentite = Literal["provisoire", "recuperee", "validee", "qualifiee"]
GenreIdentifiant = Literal["ins_nir", "ins_nia", "ins_nir_test", "ins_nia_test", "rpps", "adeli", "finess", "siret"]


class Identifiant(Modele):
    """A national identifier: its label, the OID of its issuing authority, the prefix of the national id."""

    libelle: str
    oid: Oid
    prefixe: str = ""
    source: Ident
    verification: Verification


class Code(Modele):
    """A coded value (CDA ``code`` / XDS metadata): code, code system OID, system name, label."""

    code: str
    systeme: str
    nom_systeme: str
    libelle: str


class TypeId(Modele):
    root: Oid
    extension: str


class Cda(Modele):
    """The CDA R2 header's fixed parts (ANS CI-SIS) and the XDS metadata of the MSSanté package."""

    source: Ident
    verification: Verification
    realm: str
    type_id: TypeId
    gabarits: list[Oid] = Field(min_length=1)
    type_document: Code
    confidentialite: Code
    langue: str
    classe: Code
    format: Code
    cadre_exercice: Code
    secteur: Code
    evenement: Code


class Fhir(Modele):
    """FR Core profiles and identifier types."""

    source: Ident
    verification: Verification
    profil_patient: str
    profil_practitioner: str
    profil_organization: str
    systeme_types_identifiants: str
    types_identifiants: dict[GenreIdentifiant, str]


class ProSanteConnect(Modele):
    """The professionals' identity provider: where it is, what to ask, where each account field is in the claims."""

    source: Ident
    verification: Verification
    issuer: str
    metadata: str
    portees: str
    acr: str
    revendications: dict[Literal["identifiant_national", "profession", "prenom", "nom", "courriel"], str]


class Profession(Modele):
    code: str
    libelle: str


class Interop(Modele):
    """The whole file."""

    version: str
    identifiants: dict[GenreIdentifiant, Identifiant]
    statuts_identite: dict[StatutIdentite, str]
    pieces_identite: dict[Ident, str]
    professions: dict[Literal["kine", "medecin", "autre"], Profession]
    systeme_professions: Oid
    domaine_mssante: str
    cda: Cda
    fhir: Fhir
    pro_sante_connect: ProSanteConnect
    sources: list[Source] = Field(min_length=1)
