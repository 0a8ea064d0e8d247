"""Identities for the documents: the patient's INS and strict traits, their médecin traitant, the professional
identity of an account, the structure's identifiers (issue #14). Part of :class:`~triage_app.storage.service.Depot`.

Every value is checked as typed (:mod:`triage_app.identifiants`) and refused with a French message naming the
field. The audit records what was done and the identity status, never a name, a number or a date.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from triage_app import identifiants as idf
from triage_app.errors import ErreurSaisie, Probleme
from triage_app.models.interop import Interop
from triage_app.storage.tables import Episode, Patient, Structure, Triage
from triage_app.storage.tables import Utilisateur as CompteTable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from triage_app.engine.evaluation import Moteur
    from triage_app.storage import audit


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


def _champ(problemes: list[Probleme], champ: str, valeur: str | None, lire: Callable[[str], str]) -> str | None:
    """The field read by ``lire`` (``None`` when empty), or its French problem collected."""
    if valeur is None or not str(valeur).strip():
        return None
    try:
        return lire(str(valeur))
    except ValueError as exc:
        problemes.append(Probleme(champ, str(exc)))
        return None


def vue_patient(pa: Patient, interop: Interop | None = None) -> IdentitePatient:
    genre = None
    if pa.ins_matricule and interop is not None:
        genre = next((g for g, i in interop.identifiants.items() if i.oid == pa.ins_oid), None)
    return IdentitePatient(
        patient_id=pa.id, nom=pa.nom, prenom=pa.prenom, date_naissance=pa.date_naissance, sexe=pa.sexe,
        statut=idf.statut_identite(ins_present=bool(pa.ins_matricule), recuperee_insi=bool(pa.ins_insi),
                                   piece_verifiee=bool(pa.piece_identite)),
        ins=pa.ins_matricule, ins_oid=pa.ins_oid, ins_genre=genre, recuperee_insi=bool(pa.ins_insi),
        piece_identite=pa.piece_identite, piece_verifiee_le=pa.piece_verifiee_le,
        piece_verifiee_par=pa.piece_verifiee_par, nom_naissance=pa.nom_naissance,
        prenoms_naissance=pa.prenoms_naissance, lieu_naissance=pa.lieu_naissance,
        medecin_nom=pa.medecin_traitant_nom, medecin_rpps=pa.medecin_traitant_rpps,
        medecin_mssante=pa.medecin_traitant_mssante)


def vue_compte(c: CompteTable) -> IdentitePro:
    return IdentitePro(identifiant=c.identifiant, nom=c.nom, prenom=c.prenom, nom_famille=c.nom_famille,
                       profession=c.profession, rpps=c.rpps, adeli=c.adeli, telephone=c.telephone)


def vue_structure(st: Structure) -> IdentiteStructure:
    return IdentiteStructure(nom=st.nom, finess=st.finess, siret=st.siret, adresse=st.adresse, mssante=st.mssante,
                             telephone=st.telephone)


class IdentitesDepot:
    """The identity methods of the storage service (mixed into ``Depot``)."""

    moteur: Moteur
    sessions: sessionmaker[Session]
    horloge: Callable[[], datetime]
    _ecriture: Callable[[], AbstractContextManager[tuple[Session, audit.Chaine]]]

    @property
    def interop(self) -> Interop:
        interop = self.moteur.registre.interop
        if interop is None:
            raise ErreurSaisie([Probleme("interoperabilite.yaml", "fichier des identifiants absent de protocols/")])
        return interop

    def _patient(self, s: Session, patient_id: str) -> Patient:
        pa = s.get(Patient, patient_id)
        if pa is None:
            raise ErreurSaisie([Probleme("patient", "patient introuvable")])
        return pa

    def identite_patient(self, patient_id: str) -> IdentitePatient:
        """The patient's identity (INS, strict traits, status, médecin traitant)."""
        with self.sessions() as s:
            return vue_patient(self._patient(s, patient_id), self.interop)

    def renseigner_identite(self, patient_id: str, *, ins: str | None, recuperee_insi: bool,
                            piece_identite: str | None, nom_naissance: str | None, prenoms_naissance: str | None,
                            lieu_naissance: str | None, sexe: str | None = None, acteur: str) -> IdentitePatient:
        """Record the INS and the strict traits as typed from the identity document, and what was checked.

        ``recuperee_insi``: the kiné declares the INS was returned by the INSi teleservice (through their practice
        software: this app has no CPS card and does not call INSi). ``piece_identite``: the document whose check
        the kiné confirms now (its type), recorded with the day and the account. The status follows: never
        « qualifiée » without both."""
        interop = self.interop
        problemes: list[Probleme] = []
        with self._ecriture() as (s, chaine):
            pa = self._patient(s, patient_id)
            if sexe is not None:
                if sexe not in ("M", "F"):
                    problemes.append(Probleme("sexe", "attendu : M ou F"))
                else:
                    pa.sexe = sexe
            matricule = _champ(problemes, "ins", ins, lambda v: idf.ins(v, sexe=pa.sexe,
                                                                         date_naissance=pa.date_naissance))
            naissance = _champ(problemes, "nom_naissance", nom_naissance, idf.nom_strict)
            prenoms = _champ(problemes, "prenoms_naissance", prenoms_naissance, idf.nom_strict)
            lieu = _champ(problemes, "lieu_naissance", lieu_naissance, idf.code_lieu_naissance)
            if piece_identite is not None and piece_identite not in interop.pieces_identite:
                problemes.append(Probleme("piece_identite", "attendu l’un de : " + ", ".join(interop.pieces_identite)))
            if recuperee_insi and matricule is None and not any(p.chemin == "ins" for p in problemes):
                problemes.append(Probleme("ins", "à renseigner : l’INS récupérée par l’INSi"))
            if piece_identite is not None:
                # Checking the document means the strict traits were read on it: all of them are needed.
                for champ, valeur in (("nom_naissance", naissance), ("prenoms_naissance", prenoms),
                                      ("lieu_naissance", lieu)):
                    if valeur is None and not any(p.chemin == champ for p in problemes):
                        problemes.append(Probleme(champ, "à renseigner (trait strict lu sur la pièce d’identité)"))
                if pa.sexe not in ("M", "F"):
                    problemes.append(Probleme("sexe", "à renseigner (trait strict lu sur la pièce d’identité)"))
            if problemes:
                raise ErreurSaisie(problemes)
            genre = None
            if matricule is not None:
                genre = "ins_nia" if idf.genre_ins(matricule) == "nia" else "ins_nir"
            pa.ins_matricule = matricule
            pa.ins_oid = interop.identifiants[genre].oid if genre else None
            pa.ins_insi = bool(recuperee_insi and matricule)
            pa.nom_naissance, pa.prenoms_naissance, pa.lieu_naissance = naissance, prenoms, lieu
            if piece_identite is None:
                pa.piece_identite = pa.piece_verifiee_le = pa.piece_verifiee_par = None
            elif piece_identite != pa.piece_identite or pa.piece_verifiee_le is None:
                pa.piece_identite = piece_identite
                pa.piece_verifiee_le = self.horloge().date()
                pa.piece_verifiee_par = acteur
            vue = vue_patient(pa, interop)
            chaine.ajouter("identite_patient", acteur, details={"patient": patient_id, "statut": vue.statut})
            return vue

    def renseigner_medecin_traitant(self, patient_id: str, *, nom: str | None, rpps: str | None,
                                    mssante: str | None, acteur: str) -> IdentitePatient:
        """The patient's médecin traitant, the summary's recipient: name, RPPS (checked), MSSanté address."""
        interop = self.interop
        problemes: list[Probleme] = []
        nom_lu = _champ(problemes, "medecin_nom", nom, lambda v: idf.nom_strict(v.removeprefix("Dr ")))
        rpps_lu = _champ(problemes, "medecin_rpps", rpps, idf.rpps)
        adresse = _champ(problemes, "medecin_mssante", mssante, lambda v: idf.mssante(v, interop.domaine_mssante))
        if (rpps_lu or adresse) and nom_lu is None and not any(p.chemin == "medecin_nom" for p in problemes):
            problemes.append(Probleme("medecin_nom", "à renseigner avec son RPPS ou son adresse"))
        if problemes:
            raise ErreurSaisie(problemes)
        with self._ecriture() as (s, chaine):
            pa = self._patient(s, patient_id)
            pa.medecin_traitant_nom, pa.medecin_traitant_rpps, pa.medecin_traitant_mssante = nom_lu, rpps_lu, adresse
            chaine.ajouter("medecin_traitant", acteur, details={"patient": patient_id, "rpps": rpps_lu is not None})
            return vue_patient(pa, interop)

    def profil(self, identifiant: str) -> IdentitePro | None:
        """An account's professional identity (``None`` for an unknown login, e.g. a deleted account)."""
        with self.sessions() as s:
            c = s.query(CompteTable).filter_by(identifiant=identifiant).one_or_none()
            return vue_compte(c) if c is not None else None

    def modifier_profil(self, *, prenom: str, nom_famille: str, profession: str, rpps: str | None = None,
                        adeli: str | None = None, telephone: str | None = None, acteur: str) -> IdentitePro:
        """The professional identity of the acting account (« Mon compte »)."""
        return self.modifier_profil_compte(acteur, prenom=prenom, nom_famille=nom_famille, profession=profession,
                                           rpps=rpps, adeli=adeli, telephone=telephone, acteur=acteur)

    def modifier_profil_compte(self, identifiant: str, *, prenom: str, nom_famille: str, profession: str,
                               rpps: str | None = None, adeli: str | None = None, telephone: str | None = None,
                               acteur: str) -> IdentitePro:
        """The professional identity of account ``identifiant`` (the coordinator, or the login confirmed by
        Pro Santé Connect)."""
        problemes: list[Probleme] = []
        prenom_lu = _champ(problemes, "prenom", prenom, idf.nom_strict)
        nom_lu = _champ(problemes, "nom_famille", nom_famille, idf.nom_strict)
        for champ, valeur in (("prenom", prenom_lu), ("nom_famille", nom_lu)):
            if valeur is None and not any(p.chemin == champ for p in problemes):
                problemes.append(Probleme(champ, "à renseigner"))
        if profession not in self.interop.professions:
            problemes.append(Probleme("profession", "attendu l’un de : " + ", ".join(self.interop.professions)))
        rpps_lu = _champ(problemes, "rpps", rpps, idf.rpps)
        adeli_lu = _champ(problemes, "adeli", adeli, idf.adeli)
        tel = _champ(problemes, "telephone", telephone, idf.telephone)
        if profession in ("kine", "medecin") and not (rpps_lu or adeli_lu) and not any(
                p.chemin in ("rpps", "adeli") for p in problemes):
            problemes.append(Probleme("rpps", "à renseigner (ou l’ADELI) : le numéro signe les documents"))
        if problemes:
            raise ErreurSaisie(problemes)
        with self._ecriture() as (s, chaine):
            cible = identifiant
            c = s.query(CompteTable).filter_by(identifiant=cible).one_or_none()
            if c is None:
                raise ErreurSaisie([Probleme("identifiant", "compte inconnu")])
            c.prenom, c.nom_famille, c.profession = prenom_lu, nom_lu, profession
            c.rpps, c.adeli, c.telephone = rpps_lu, adeli_lu, tel
            c.nom = f"{prenom_lu} {nom_lu}"
            chaine.ajouter("profil", acteur, details={"compte": cible, "profession": profession,
                                                      "rpps": rpps_lu is not None})
            return vue_compte(c)

    def identites(self, triage_id: str) -> Identites:
        """Patient, author and structure of a triage, as its documents name them."""
        with self.sessions() as s:
            t = s.get(Triage, triage_id)
            ep = s.get(Episode, t.episode_id) if t is not None else None
            if t is None or ep is None:
                raise ErreurSaisie([Probleme("triage", "triage introuvable")])
            pa = self._patient(s, ep.patient_id)
            c = s.query(CompteTable).filter_by(identifiant=t.auteur).one_or_none()
            st = s.get(Structure, 1)
            return Identites(vue_patient(pa, self.interop), vue_compte(c) if c else None,
                             vue_structure(st) if st else None)


def lire_structure(problemes: list[Probleme], interop: Interop, *, finess: str | None, siret: str | None,
                   mssante: str | None, telephone: str | None) -> dict[str, Any]:
    """The structure's identifiers, checked (``enregistrer_structure``)."""
    return {"finess": _champ(problemes, "finess", finess, idf.finess),
            "siret": _champ(problemes, "siret", siret, idf.siret),
            "mssante": _champ(problemes, "mssante", mssante, lambda v: idf.mssante(v, interop.domaine_mssante)),
            "telephone": _champ(problemes, "telephone", telephone, idf.telephone)}
