"""Patients: recorded, found as the kiné types (accents and case aside), checked for namesakes, and their identity
(INS, strict traits, status, médecin traitant) as the documents carry it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage_app import identifiants as idf
from triage_app.domain.texte import cle_patient, cle_recherche, mots_recherche
from triage_app.errors import ErreurSaisie, Probleme
from triage_app.models.episode import EtatEpisode
from triage_app.models.identites import IdentitePatient
from triage_app.models.interop import Interop
from triage_app.services import saisie
from triage_app.services.base import Service
from triage_app.services.episode_etat import etat, prescriptions_recentes
from triage_app.services.unite import ErreurStockage, nouvel_id
from triage_app.storage import audit
from triage_app.storage.tables import OUVERT, Episode, Patient


@dataclass(frozen=True)
class PatientNouveau:
    """A patient to record (« Nouveau triage » for someone not found): checked before anything is written."""

    nom: str
    prenom: str
    date_naissance: date
    sexe: str | None = None
    couverture: str = "regime_general"

    def verifier(self) -> None:
        saisie.nom("nom", self.nom, 200)
        saisie.nom("prenom", self.prenom, 200)
        saisie.couverture(self.couverture)


@dataclass(frozen=True)
class PatientTrouve:
    """A patient found by a look-up, with the protocols of their open episodes."""

    id: str
    nom: str
    prenom: str
    date_naissance: date
    sexe: str | None
    couverture: str
    episodes_ouverts: tuple[str, ...]


def ajouter_patient(s: Session, chaine: audit.Chaine, horloge: Callable[[], datetime], p: PatientNouveau,
                    acteur: str) -> str:
    """A new patient (already checked), in the caller's transaction; its opaque id."""
    pid = nouvel_id()
    s.add(Patient(id=pid, nom=p.nom, prenom=p.prenom, date_naissance=p.date_naissance, sexe=p.sexe,
                  couverture=p.couverture, nom_recherche=cle_patient(p.nom, p.prenom), cree_le=horloge()))
    chaine.ajouter("creation_patient", acteur, details={"patient": pid})
    return pid


def patient_ou_refus(s: Session, patient_id: str) -> Patient:
    """The patient, or the French error every caller gives."""
    pa = s.get(Patient, patient_id)
    if pa is None:
        raise ErreurSaisie([Probleme("patient", "patient introuvable")])
    return pa


def vue_patient(pa: Patient, interop: Interop | None = None) -> IdentitePatient:
    """The patient's identity as the documents carry it (its status follows from what was checked)."""
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


def episodes_ouverts(s: Session, patients: list[str]) -> dict[str, tuple[str, ...]]:
    """The protocols of each patient's open episodes, oldest first."""
    if not patients:
        return {}
    ouverts: dict[str, list[str]] = {}
    for pid, protocole in s.execute(select(Episode.patient_id, Episode.protocole).where(
            Episode.patient_id.in_(patients), Episode.statut == OUVERT).order_by(Episode.date_debut)):
        ouverts.setdefault(pid, []).append(protocole)
    return {pid: tuple(v) for pid, v in ouverts.items()}


def homonymes(s: Session, nom: str, date_naissance: date) -> list[PatientTrouve]:
    """The patients recorded with the same name (accents and case aside) and birth date, oldest first."""
    patients = [p for p in s.scalars(select(Patient).where(Patient.date_naissance == date_naissance)
                                     .order_by(Patient.cree_le))
                if cle_recherche(p.nom) == cle_recherche(nom)]
    ouverts = episodes_ouverts(s, [p.id for p in patients])
    return [trouve(p, ouverts.get(p.id, ())) for p in patients]


def trouve(p: Patient, ouverts: tuple[str, ...]) -> PatientTrouve:
    return PatientTrouve(p.id, p.nom, p.prenom, p.date_naissance, p.sexe, p.couverture, ouverts)


_DATE_FR = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b")
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def termes(texte: str) -> tuple[list[str], list[date]]:
    """The words (search keys) and the dates of a typed search; a control character matches nobody."""
    texte = (texte or "")[:200]
    if saisie.CONTROLE.search(texte):
        return [], []
    jours: list[date] = []

    def date_de(annee: str, mois: str, jour: str) -> str:
        try:
            jours.append(date(int(annee), int(mois), int(jour)))
        except ValueError:
            return f"{jour} {mois} {annee}"  # not a real date: kept as words (so it matches nobody)
        return " "

    texte = _DATE_FR.sub(lambda m: date_de(m[3], m[2], m[1]), texte)
    texte = _DATE_ISO.sub(lambda m: date_de(m[1], m[2], m[3]), texte)
    return mots_recherche(texte), jours

class ServicePatients(Service):
    """Patients: records, look-ups, identities."""

    def creer_patient(self, *, nom: str, prenom: str, date_naissance: date, sexe: str | None = None,
                      couverture: str = "regime_general", acteur: str) -> str:
        """Record a patient (``couverture``: the cover that sets the reimbursed share); returns its opaque id."""
        nouveau = PatientNouveau(nom, prenom, date_naissance, sexe, couverture)
        nouveau.verifier()
        with self.uow.ecriture() as (s, chaine):
            return ajouter_patient(s, chaine, self.horloge, nouveau, acteur)

    def rechercher_patients(self, texte: str, *, acteur: str, limite: int = 20) -> list[PatientTrouve]:
        """Patients whose name and first name hold every typed word, and born on any typed date.

        Accent-, case- and punctuation-insensitive (« lefebvre » finds « Lefèbvre »), words in any order, a
        date as ``JJ/MM/AAAA`` or ``AAAA-MM-JJ``. Values are bound parameters; ``%`` and ``_`` are literal. The
        search is audited with the number of patients found (never the words typed).
        """
        mots, jours = termes(texte)
        trouves: list[PatientTrouve] = []
        if mots or jours:
            requete = select(Patient).order_by(Patient.nom_recherche, Patient.date_naissance, Patient.id).limit(limite)
            for mot in mots:
                requete = requete.where(Patient.nom_recherche.like("%" + saisie.echapper_like(mot) + "%", escape="\\"))
            for jour in jours:
                requete = requete.where(Patient.date_naissance == jour)
            with self.uow.lecture() as s:
                patients = list(s.scalars(requete))
                ouverts = episodes_ouverts(s, [p.id for p in patients])
            trouves = [trouve(p, ouverts.get(p.id, ())) for p in patients]
        with self.uow.ecriture() as (_, chaine):
            chaine.ajouter("recherche_patient", acteur, details={"resultats": len(trouves)})
        return trouves

    def doublons_probables(self, *, nom: str, date_naissance: date, acteur: str) -> list[PatientTrouve]:
        """Patients already recorded with the same name (accents and case aside) and birth date (audited)."""
        with self.uow.lecture() as s:
            trouves = homonymes(s, nom, date_naissance)
        with self.uow.ecriture() as (_, chaine):
            chaine.ajouter("recherche_doublon", acteur, details={"resultats": len(trouves)})
        return trouves

    def fiche_patient(self, patient_id: str, jour: date, *, acteur: str) -> tuple[PatientTrouve, list[EtatEpisode]]:
        """A patient and the state of each of their episodes on ``jour``, newest first (the look-up is audited)."""
        with self.uow.lecture() as s:
            p = s.get(Patient, patient_id)
            if p is None:
                raise ErreurStockage("patient introuvable")
            episodes = list(s.scalars(select(Episode).where(Episode.patient_id == patient_id)
                                      .order_by(Episode.date_debut.desc(), Episode.cree_le.desc())))
            etats = [etat(s, self.moteur, ep, jour) for ep in episodes]
            fiche = trouve(p, tuple(ep.protocole for ep in episodes if ep.statut == OUVERT))
        with self.uow.ecriture() as (_, chaine):
            chaine.ajouter("consultation_patient", acteur, details={"patient": patient_id})
        return fiche, etats

    def prescriptions_recentes(self, patient_id: str, jour: date) -> dict[str, date]:
        """Per protocol, the onset of the patient's stored episode with a medical prescription in the 12 months before
        ``jour``: the start form proposes the prior diagnosis from it (rules v3, §9.2)."""
        with self.uow.lecture() as s:
            return prescriptions_recentes(s, self.regles_episode, patient_id, jour)

    def identite_patient(self, patient_id: str) -> IdentitePatient:
        """The patient's identity (INS, strict traits, status, médecin traitant)."""
        with self.uow.lecture() as s:
            return vue_patient(patient_ou_refus(s, patient_id), self.interop)

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
        with self.uow.ecriture() as (s, chaine):
            pa = patient_ou_refus(s, patient_id)
            if sexe is not None:
                if sexe not in ("M", "F"):
                    problemes.append(Probleme("sexe", "attendu : M ou F"))
                else:
                    pa.sexe = sexe
            matricule = saisie.champ_lu(problemes, "ins", ins, lambda v: idf.ins(v, sexe=pa.sexe,
                                                                                 date_naissance=pa.date_naissance))
            naissance = saisie.champ_lu(problemes, "nom_naissance", nom_naissance, idf.nom_strict)
            prenoms = saisie.champ_lu(problemes, "prenoms_naissance", prenoms_naissance, idf.nom_strict)
            lieu = saisie.champ_lu(problemes, "lieu_naissance", lieu_naissance, idf.code_lieu_naissance)
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
        nom_lu = saisie.champ_lu(problemes, "medecin_nom", nom, lambda v: idf.nom_strict(v.removeprefix("Dr ")))
        rpps_lu = saisie.champ_lu(problemes, "medecin_rpps", rpps, idf.rpps)
        adresse = saisie.champ_lu(problemes, "medecin_mssante", mssante,
                                  lambda v: idf.mssante(v, interop.domaine_mssante))
        if (rpps_lu or adresse) and nom_lu is None and not any(p.chemin == "medecin_nom" for p in problemes):
            problemes.append(Probleme("medecin_nom", "à renseigner avec son RPPS ou son adresse"))
        if problemes:
            raise ErreurSaisie(problemes)
        with self.uow.ecriture() as (s, chaine):
            pa = patient_ou_refus(s, patient_id)
            pa.medecin_traitant_nom, pa.medecin_traitant_rpps, pa.medecin_traitant_mssante = nom_lu, rpps_lu, adresse
            chaine.ajouter("medecin_traitant", acteur, details={"patient": patient_id, "rpps": rpps_lu is not None})
            return vue_patient(pa, interop)
