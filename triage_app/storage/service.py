"""The service layer: the only code that talks to the database.

Every write is one transaction that first takes the audit chain's lock, changes what it must and
appends its audit event(s). Evaluations go through the engine's one evaluation
(:meth:`triage_app.engine.evaluation.Moteur.evaluer`), with the session counts taken from the
records, never asked of the kiné.
"""

from __future__ import annotations

import copy
import functools
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Self, TypeVar, get_args

import orjson
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from triage_app import comptes
from triage_app.config import Reglages
from triage_app.domain.dates import ajouter_mois
from triage_app.domain.episode import etat_revue, fenetre_reevaluation, prochain_bdk
from triage_app.domain.montants import reste
from triage_app.domain.texte import cle_patient, cle_recherche, mots_recherche
from triage_app.engine.evaluation import Moteur, moteur
from triage_app.engine.lot import evaluer_lot
from triage_app.errors import ErreurCas, ErreurSaisie, Probleme, TriageError
from triage_app.identifiants import INVISIBLES
from triage_app.models.base import Couverture
from triage_app.models.episode import (
    Acte,
    ActeEnregistre,
    DossierEpisode,
    EtatEpisode,
    Evolution,
    MotifCloture,
    PatientDossier,
    ReprisPar,
    Suite,
    TriageDossier,
)
from triage_app.models.result import Resultat
from triage_app.storage import audit
from triage_app.storage.cle import cle_secrete, empreinte_identifiant
from triage_app.storage.db import creer_moteur_bd, migrer
from triage_app.storage.identites import IdentitesDepot, lire_structure
from triage_app.storage.rapport import RapportDepot
from triage_app.storage.tables import Episode, Patient, Seance, Structure, Triage
from triage_app.storage.tables import Utilisateur as CompteTable

BROUILLON, FINAL, REMPLACE = "brouillon", "final", "remplace"
OUVERT, CLOS = "ouvert", "clos"
SEANCE, REEVALUATION = "seance", "consultation_protocole_2"
# The closing reason a re-assessment's outcome gives (the other outcomes keep the episode open).
_CLOTURE_PAR_SUITE = {"guerison": "guerison", "medecin": "reprise_medecin"}
# Orientations under which rehabilitation sessions go on (a DAP may be needed past the threshold).
_ORIENTATIONS_SEANCES = frozenset({"protocole", "sur_prescription", "acces_direct"})
MOTIF_DECLARATION_OUVERTURE = "nombre d'épisodes saisi à l'ouverture de l'épisode"


class ErreurStockage(TriageError):
    """A request the records cannot satisfy (unknown id, finalised triage changed…), in French."""


class BaseOccupee(ErreurStockage):
    """SQLite stayed locked by other writers past its busy timeout: nothing was written (the transaction was rolled
    back whole)."""


# A write that found the database busy is tried again this many times in all, after a short random pause (many
# tablets at once on SQLite: issue #25). Only for writes that give the same records when repeated.
ESSAIS_ECRITURE = 3
_PAUSE_S = (0.02, 0.15)
_M = TypeVar("_M", bound=Callable[..., Any])


def reessayable(methode: _M) -> _M:
    """Repeat an idempotent write that found the database busy (nothing was written by the failed attempt)."""

    @functools.wraps(methode)
    def enveloppe(*args: Any, **kwargs: Any) -> Any:
        for essai in range(1, ESSAIS_ECRITURE + 1):
            try:
                return methode(*args, **kwargs)
            except BaseOccupee:
                if essai == ESSAIS_ECRITURE:
                    raise
                time.sleep(random.uniform(*_PAUSE_S))  # a pause that spreads the writers, not a secret
        raise AssertionError("inaccessible")

    return enveloppe  # type: ignore[return-value]


def _lire_episode(s: Session, episode_id: str) -> Episode:
    """The episode, or the French error every caller gives."""
    ep = s.get(Episode, episode_id)
    if ep is None:
        raise ErreurStockage("épisode introuvable")
    return ep


def nouvel_id() -> str:
    """An opaque, unguessable identifier (128 random bits, hex)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class PatientNouveau:
    """A patient to record (« Nouveau triage » for someone not found): checked before anything is written."""

    nom: str
    prenom: str
    date_naissance: date
    sexe: str | None = None
    couverture: str = "regime_general"

    def verifier(self) -> None:
        _texte("nom", self.nom, 200)
        _texte("prenom", self.prenom, 200)
        _couverture(self.couverture)


@dataclass(frozen=True)
class LigneTriage:
    """A row of the triage list (no answers, no result)."""

    id: str
    date_consultation: date
    protocole: str
    orientation: str | None
    statut: str
    version: int
    patient: str
    cree_le: datetime


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


@dataclass(frozen=True)
class ARevoir:
    """An open protocol episode whose re-assessment is due (``due``) or late (``en_retard``)."""

    episode_id: str
    patient_id: str
    patient: str
    protocole: str
    du: date
    au: date
    revue: str
    triage_id: str | None = None


@dataclass(frozen=True)
class Changement:
    """A stored final triage whose result would change under the rules in force now.

    ``avant``/``apres`` are the compared summaries (:func:`_resume`); ``pourquoi`` says in French what differs,
    each entry naming the result field (« seances.restantes : 15 → 1 »); the protocol versions are reported but
    a new version alone is not a change.
    """

    triage_id: str
    avant: dict[str, Any]
    apres: dict[str, Any]
    version_avant: str | None = None
    version_apres: str | None = None
    pourquoi: tuple[str, ...] = ()


class Depot(IdentitesDepot, RapportDepot):
    """Records of one structure: settings, patients, episodes, triages, sessions and the audit trail."""

    def __init__(self, url: str | None = None, reglages: Reglages | None = None, moteur_regles: Moteur | None = None,
                 horloge: Callable[[], datetime] | None = None, migrer_schema: bool = True) -> None:
        reglages = reglages or Reglages()
        self.url = url or reglages.url_base
        self.bd: Engine = creer_moteur_bd(self.url, reglages)
        if migrer_schema:
            migrer(self.bd)
        self.sessions = sessionmaker(self.bd, expire_on_commit=False)
        self.moteur = moteur_regles or moteur()
        self.horloge = horloge or (lambda: datetime.now(UTC))
        self.reglages = reglages
        self._cle: bytes | None = None

    @property
    def cle(self) -> bytes:
        """The structure's secret key (kept outside the database: :mod:`triage_app.storage.cle`)."""
        if self._cle is None:
            self._cle = cle_secrete(self.reglages)
        return self._cle

    def fermer(self) -> None:
        """Release the connections (idempotent; the service stays usable and reconnects on its next call)."""
        self.bd.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fermer()

    @contextmanager
    def _ecriture(self) -> Iterator[tuple[Session, audit.Chaine]]:
        try:
            with self.sessions.begin() as s:
                yield s, audit.Chaine(s, self.horloge().isoformat(), self.cle)
        except OperationalError as exc:
            # Many writers at once on SQLite: after its busy timeout (TRIAGE_SQLITE_BUSY_TIMEOUT_MS), said in French
            # (nothing was written: the transaction is rolled back whole).
            if "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower():
                raise BaseOccupee("base de données occupée par d’autres enregistrements : rien n’a été "
                                     "enregistré, réessayer dans un instant") from None
            raise

    # -- structure ---------------------------------------------------------------------------------
    def structure(self) -> Structure | None:
        """The structure's settings, if described."""
        with self.sessions() as s:
            return s.get(Structure, 1)

    def enregistrer_structure(self, *, nom: str, type: str, departement: str | None,
                              protocoles_appliques: list[str], inscrit_experimentation_cpts: bool = False,
                              finess: str | None = None, siret: str | None = None, adresse: str | None = None,
                              mssante: str | None = None, telephone: str | None = None, acteur: str) -> None:
        """Describe the structure once (replaces the previous description); FINESS or SIRET, address, MSSanté
        address and phone name it in the documents (checked as typed)."""
        nom = _texte("nom", nom, 200)
        inconnus = [p for p in protocoles_appliques if p not in self.moteur.protocoles]
        if inconnus:
            raise ErreurStockage(f"protocole(s) inconnu(s) : {', '.join(inconnus)}")
        problemes: list[Probleme] = []
        ids = lire_structure(problemes, self.interop, finess=finess, siret=siret, mssante=mssante,
                             telephone=telephone)
        adresse_lue = _texte("adresse", adresse, 400, vide=True, lignes=True).strip() or None if adresse else None
        if problemes:
            raise ErreurSaisie(problemes)
        with self._ecriture() as (s, chaine):
            st = s.get(Structure, 1) or Structure(id=1)
            for champ, valeur in (ids | {"adresse": adresse_lue}).items():
                setattr(st, champ, valeur)
            st.nom, st.type, st.departement = nom, type, (departement or None)
            st.protocoles_appliques = sorted(protocoles_appliques)
            st.inscrit_experimentation_cpts = inscrit_experimentation_cpts
            st.modifie_le = self.horloge()
            s.add(st)
            chaine.ajouter("structure", acteur)

    # -- patients and episodes ---------------------------------------------------------------------
    def creer_patient(self, *, nom: str, prenom: str, date_naissance: date, sexe: str | None = None,
                      couverture: str = "regime_general", acteur: str) -> str:
        """Record a patient (``couverture``: the cover that sets the reimbursed share); returns its opaque id."""
        nouveau = PatientNouveau(nom, prenom, date_naissance, sexe, couverture)
        nouveau.verifier()
        with self._ecriture() as (s, chaine):
            return self._ajouter_patient(s, chaine, nouveau, acteur)

    def _ajouter_patient(self, s: Session, chaine: audit.Chaine, p: PatientNouveau, acteur: str) -> str:
        pid = nouvel_id()
        s.add(Patient(id=pid, nom=p.nom, prenom=p.prenom, date_naissance=p.date_naissance, sexe=p.sexe,
                      couverture=p.couverture, nom_recherche=cle_patient(p.nom, p.prenom), cree_le=self.horloge()))
        chaine.ajouter("creation_patient", acteur, details={"patient": pid})
        return pid

    def creer_episode(self, *, patient_id: str, protocole: str, date_debut: date, prescription_medicale: bool = False,
                      diagnostic_medical_prealable: bool = False, antecedent_lombalgie: bool = False,
                      episodes_anterieurs_12_mois: int = 0, acteur: str) -> str:
        """Open an episode of care for a protocol; returns its id."""
        self._protocole_connu(protocole)
        with self._ecriture() as (s, chaine):
            return self._ajouter_episode(s, chaine, patient_id=patient_id, protocole=protocole, date_debut=date_debut,
                                         prescription_medicale=prescription_medicale,
                                         diagnostic_medical_prealable=diagnostic_medical_prealable,
                                         antecedent_lombalgie=antecedent_lombalgie,
                                         episodes_anterieurs_12_mois=episodes_anterieurs_12_mois, acteur=acteur)

    def _protocole_connu(self, protocole: str) -> None:
        if protocole not in self.moteur.protocoles:
            raise ErreurStockage(f"protocole « {protocole} » inconnu")

    def _ajouter_episode(self, s: Session, chaine: audit.Chaine, *, patient_id: str, protocole: str, date_debut: date,
                         prescription_medicale: bool, diagnostic_medical_prealable: bool, antecedent_lombalgie: bool,
                         episodes_anterieurs_12_mois: int, acteur: str) -> str:
        if s.get(Patient, patient_id) is None:
            raise ErreurStockage("patient introuvable")
        eid = nouvel_id()
        s.add(Episode(id=eid, patient_id=patient_id, protocole=protocole, date_debut=date_debut,
                      prescription_medicale=prescription_medicale,
                      diagnostic_medical_prealable=diagnostic_medical_prealable,
                      antecedent_lombalgie=antecedent_lombalgie,
                      episodes_anterieurs_12_mois=episodes_anterieurs_12_mois,
                      episodes_12_mois_declares=episodes_anterieurs_12_mois or None,
                      motif_declaration=MOTIF_DECLARATION_OUVERTURE if episodes_anterieurs_12_mois else None,
                      cree_le=self.horloge()))
        chaine.ajouter("creation_episode", acteur, details={"episode": eid, "patient": patient_id})
        return eid

    # -- triages -----------------------------------------------------------------------------------
    def creer_triage(self, *, episode_id: str, date_consultation: date, acteur: str) -> str:
        """Start a draft triage for an episode, prefilled from the structure, the patient and the episode."""
        with self._ecriture() as (s, chaine):
            return self._ajouter_triage(s, chaine, _lire_episode(s, episode_id), date_consultation, acteur).id

    def _ajouter_triage(self, s: Session, chaine: audit.Chaine, ep: Episode, date_consultation: date,
                        acteur: str) -> Triage:
        maintenant = self.horloge()
        st = s.get(Structure, 1)
        cas = {
            "protocole": ep.protocole,
            "date_consultation": date_consultation.isoformat(),
            "patient": {"date_naissance": ep.patient.date_naissance.isoformat(), "sexe": ep.patient.sexe,
                        "couverture": ep.patient.couverture},
            "cadre": self._cadre(st, ep.protocole),
            "consentement": {"protocole": False, "partage_dmp": False},
            "episode": self._episode(ep),
            "reponses": {},
        }
        t = Triage(id=nouvel_id(), episode_id=ep.id, version=1, statut=BROUILLON, date_consultation=date_consultation,
                   cas=cas, auteur=acteur, cree_le=maintenant, modifie_le=maintenant)
        s.add(t)
        chaine.ajouter("creation", acteur, t.id)
        return t

    def demarrer_triage(self, *, protocole: str, date_debut: date, date_consultation: date,
                        patient_id: str | None = None, nouveau_patient: PatientNouveau | None = None,
                        prescription_medicale: bool = False, diagnostic_medical_prealable: bool = False,
                        antecedent_lombalgie: bool = False, champs: dict[str, Any] | None = None,
                        acteur: str) -> tuple[str, str, bool]:
        """« Commencer le triage »: in one transaction, the patient (``nouveau_patient``, or the one found:
        ``patient_id``), their open episode of this protocol or a new one, and the draft with the start form's other
        fields (``champs``, as :meth:`modifier_brouillon` takes them). The same records and audit events as those
        four calls, in one short write instead of four. Returns (triage id, episode id, whether the triage joins an
        episode already open)."""
        self._protocole_connu(protocole)
        if (patient_id is None) == (nouveau_patient is None):
            raise ErreurStockage("un patient trouvé ou un nouveau patient, l’un des deux")
        if nouveau_patient is not None:
            nouveau_patient.verifier()
        with self._ecriture() as (s, chaine):
            if nouveau_patient is not None:
                patient_id = self._ajouter_patient(s, chaine, nouveau_patient, acteur)
            assert patient_id is not None
            eid = s.scalar(select(Episode.id).where(Episode.patient_id == patient_id, Episode.protocole == protocole,
                                                    Episode.statut == OUVERT)
                           .order_by(Episode.date_debut.desc(), Episode.cree_le.desc()).limit(1))
            continue_ = eid is not None
            if eid is None:
                eid = self._ajouter_episode(s, chaine, patient_id=patient_id, protocole=protocole,
                                            date_debut=date_debut, prescription_medicale=prescription_medicale,
                                            diagnostic_medical_prealable=diagnostic_medical_prealable,
                                            antecedent_lombalgie=antecedent_lombalgie, episodes_anterieurs_12_mois=0,
                                            acteur=acteur)
                s.flush()
            t = self._ajouter_triage(s, chaine, _lire_episode(s, eid), date_consultation, acteur)
            if champs:
                self._modifier(chaine, t, champs, acteur)
            return t.id, eid, continue_

    @staticmethod
    def _cadre(st: Structure | None, protocole: str) -> dict[str, Any]:
        if st is None:
            return {"structure": "cabinet"}
        return {"structure": st.type, "protocole_autorise": protocole in st.protocoles_appliques,
                "departement": st.departement, "inscrit_experimentation_cpts": st.inscrit_experimentation_cpts,
                "medecin_delegant_est_medecin_traitant": False, "medecin_joignable": False}

    @staticmethod
    def _episode(ep: Episode) -> dict[str, Any]:
        return {"date_debut": ep.date_debut.isoformat(), "prescription_medicale": ep.prescription_medicale,
                "diagnostic_medical_prealable": ep.diagnostic_medical_prealable,
                "antecedent_lombalgie": ep.antecedent_lombalgie,
                "episodes_anterieurs_12_mois": ep.episodes_anterieurs_12_mois,
                "seances_realisees_episode": 0, "seances_12_mois": 0}

    def _brouillon(self, s: Session, triage_id: str) -> Triage:
        t = s.get(Triage, triage_id)
        if t is None:
            raise ErreurStockage("triage introuvable")
        if t.statut != BROUILLON:
            raise ErreurStockage("ce triage est finalisé : le modifier crée une nouvelle version (amender)")
        return t

    @reessayable
    def enregistrer_reponse(self, triage_id: str, question: str, valeur: Any, *, acteur: str,
                            etape: str | None = None) -> None:
        """Save one answer to a draft (one short transaction). ``None`` removes the answer."""
        self._ecrire_reponses(triage_id, {question: valeur}, acteur=acteur, etape=etape, remplacer=True)

    @reessayable
    def completer_reponses(self, triage_id: str, valeurs: dict[str, Any], *, acteur: str,
                           etape: str | None = None) -> list[str]:
        """Set only the answers still missing (one transaction); an answer already given is never replaced.

        Used by « Aucun de ces signes »: read and write happen under the same write lock, so a « oui » saved
        meanwhile (another tab, another tablet) is kept. Returns the question ids actually written.
        """
        return self._ecrire_reponses(triage_id, valeurs, acteur=acteur, etape=etape, remplacer=False)

    def _ecrire_reponses(self, triage_id: str, valeurs: dict[str, Any], *, acteur: str, etape: str | None,
                         remplacer: bool) -> list[str]:
        """Write answers to a draft under the write lock; one audit event per question written.

        ``remplacer``: an answer replaces the stored one and ``None`` removes it; otherwise only missing
        answers are set and ``None`` is ignored.
        """
        with self._ecriture() as (s, chaine):
            t = self._brouillon(s, triage_id)
            pc = self.moteur.protocoles[t.cas["protocole"]]
            inconnues = [q for q in valeurs if q not in pc.questions]
            if inconnues:
                raise ErreurCas([Probleme(f"reponses.{q}", f"question « {q} » inconnue pour le protocole "
                                          f"{pc.modele.id}") for q in inconnues])
            cas = copy.deepcopy(t.cas)
            ecrites = list(valeurs) if remplacer else [q for q, v in valeurs.items()
                                                       if v is not None and q not in cas["reponses"]]
            if not ecrites:
                return []
            for q in ecrites:
                if valeurs[q] is None:
                    cas["reponses"].pop(q, None)
                else:
                    cas["reponses"][q] = valeurs[q]
                chaine.ajouter("reponse", acteur, triage_id, {"question": q})
            t.cas = cas
            t.modifie_le = self.horloge()
            if etape is not None:
                t.etape = etape
        return ecrites

    @reessayable
    def modifier_brouillon(self, triage_id: str, champs: dict[str, Any], *, acteur: str,
                           etape: str | None = None, note: str | None = None) -> None:
        """Set case fields by dotted path (``cadre.medecin_joignable``, ``consentement.protocole``…)."""
        with self._ecriture() as (s, chaine):
            self._modifier(chaine, self._brouillon(s, triage_id), champs, acteur, etape, note)

    def _modifier(self, chaine: audit.Chaine, t: Triage, champs: dict[str, Any], acteur: str,
                  etape: str | None = None, note: str | None = None) -> None:
        cas = copy.deepcopy(t.cas)
        valeurs: dict[str, dict[str, Any]] = {}
        for chemin, valeur in champs.items():
            *parents, feuille = chemin.split(".")
            cible = cas
            for p in parents:
                cible = cible.setdefault(p, {})
            ancienne = cible.get(feuille)
            # Old and new values go to the audit only for yes/no and coded fields (never a date or a text:
            # the journal holds no patient data).
            if isinstance(valeur, bool) or chemin in _CHAMPS_CODES:
                valeurs[chemin] = {"avant": ancienne, "apres": valeur}
            cible[feuille] = valeur
        t.cas = cas
        if "date_consultation" in champs:
            t.date_consultation = date.fromisoformat(str(champs["date_consultation"]))
        if etape is not None:
            t.etape = etape
        if note is not None:
            t.note = _texte("note", note, LONGUEUR_NOTE, vide=True, lignes=True)
        t.modifie_le = self.horloge()
        details: dict[str, Any] = {"champs": sorted(champs)}
        if valeurs:
            details["valeurs"] = valeurs
        chaine.ajouter("modification", acteur, t.id, details)

    @reessayable
    def enregistrer_note(self, triage_id: str, note: str, *, acteur: str) -> None:
        """Save the draft's note for the médecin as it is typed (the page sends it debounced). The audit records
        that the note changed and its length, never its text (the journal holds no patient data)."""
        with self._ecriture() as (s, chaine):
            t = self._brouillon(s, triage_id)
            texte = _texte("note", note, LONGUEUR_NOTE, vide=True, lignes=True) or None
            if (t.note or None) == texte:
                return
            t.note = texte
            t.modifie_le = self.horloge()
            chaine.ajouter("note", acteur, triage_id, {"longueur": len(texte or "")})

    def charger(self, triage_id: str) -> Triage:
        """A triage by its opaque id (detached copy)."""
        with self.sessions() as s:
            t = s.get(Triage, triage_id)
            if t is None:
                raise ErreurStockage("triage introuvable")
            return t

    def compter_seances(self, episode_id: str, jour: date) -> tuple[int, int]:
        """Sessions before ``jour`` on the episode, and on the patient's other episodes of the same protocol in the
        12 months before ``jour``."""
        with self.sessions() as s:
            return self._compter(s, episode_id, jour)

    @classmethod
    def _compter(cls, s: Session, episode_id: str, jour: date) -> tuple[int, int]:
        ep = _lire_episode(s, episode_id)
        sur_episode = s.scalar(select(func.count()).select_from(Seance).where(
            Seance.episode_id == episode_id, Seance.acte == SEANCE, Seance.date < jour)) or 0
        return int(sur_episode), cls._historique(s, ep, jour)[0]

    @staticmethod
    def _historique(s: Session, ep: Episode, jour: date) -> tuple[int, int, int, int]:
        """The 12 months before ``jour`` outside this episode: sessions and episodes of the same protocol.

        Returns (sessions, sessions computed, episodes, episodes computed): the effective value is the larger of
        the computed one and the one the kiné declared (sessions done elsewhere), never less than the records.
        Rules v2 (§8.1): the 12-month count is of the patient's other episodes of the same protocol.
        """
        debut = ajouter_mois(jour, -12)
        autres = select(Episode.id).where(Episode.patient_id == ep.patient_id, Episode.protocole == ep.protocole,
                                          Episode.id != ep.id)
        seances = int(s.scalar(select(func.count()).select_from(Seance).where(
            Seance.episode_id.in_(autres), Seance.acte == SEANCE, Seance.date < jour, Seance.date >= debut)) or 0)
        episodes = int(s.scalar(select(func.count()).select_from(Episode).where(
            Episode.patient_id == ep.patient_id, Episode.protocole == ep.protocole, Episode.id != ep.id,
            Episode.date_debut < jour, Episode.date_debut >= debut)) or 0)
        return (max(seances, ep.seances_12_mois_declarees or 0), seances,
                max(episodes, ep.episodes_12_mois_declares or 0), episodes)

    def cas_effectif(self, triage_id: str) -> dict[str, Any]:
        """The draft's case with the session counts taken from the records."""
        with self.sessions() as s:
            t = s.get(Triage, triage_id)
            if t is None:
                raise ErreurStockage("triage introuvable")
            return self._cas_effectif(s, t)

    def _cas_effectif(self, s: Session, t: Triage) -> dict[str, Any]:
        cas = copy.deepcopy(t.cas)
        jour = date.fromisoformat(cas["date_consultation"])
        ep = _lire_episode(s, t.episode_id)
        realisees = int(s.scalar(select(func.count()).select_from(Seance).where(
            Seance.episode_id == ep.id, Seance.acte == SEANCE, Seance.date < jour)) or 0)
        sur_12_mois, _, episodes_12_mois, _ = self._historique(s, ep, jour)
        cas["episode"]["seances_realisees_episode"] = realisees
        cas["episode"]["seances_12_mois"] = sur_12_mois
        cas["episode"]["episodes_anterieurs_12_mois"] = episodes_12_mois
        return cas

    def entete(self, triage_id: str) -> dict[str, Any]:
        """Who and what a triage is about, for the page's header (patient name, birth date, episode)."""
        with self.sessions() as s:
            t = s.get(Triage, triage_id)
            if t is None:
                raise ErreurStockage("triage introuvable")
            ep = s.get(Episode, t.episode_id)
            pa = s.get(Patient, ep.patient_id) if ep else None
            if ep is None or pa is None:
                raise ErreurStockage("épisode introuvable")
            # What the episode held when this triage was started (its first version): earlier triages (first
            # versions: one per triage however often amended) and recorded acts. None: the triage opened it.
            racine = t
            while racine.remplace_id is not None and (precedent := s.get(Triage, racine.remplace_id)) is not None:
                racine = precedent
            autres = int(s.scalar(select(func.count()).select_from(Triage).where(
                Triage.episode_id == ep.id, Triage.version == 1, Triage.cree_le < racine.cree_le)) or 0)
            actes = int(s.scalar(select(func.count()).select_from(Seance).where(
                Seance.episode_id == ep.id, Seance.cree_le < racine.cree_le)) or 0)
            return {"patient": f"{pa.nom} {pa.prenom}", "nom": pa.nom, "prenom": pa.prenom,
                    "date_naissance": pa.date_naissance,
                    "protocole": ep.protocole, "date_debut": ep.date_debut, "episode_id": ep.id,
                    "patient_id": ep.patient_id, "version": t.version, "statut": t.statut,
                    "episode_statut": ep.statut, "autres_triages": autres, "actes_episode": actes}

    def evaluer(self, triage_id: str) -> Resultat:
        """Evaluate a triage as it stands (nothing is written)."""
        return self.moteur.evaluer(self.cas_effectif(triage_id))

    def charger_evalue(self, triage_id: str) -> tuple[Triage, Resultat]:
        """A triage and its evaluation as it stands, in one read (the walk's every answer needs both)."""
        with self.sessions() as s:
            t = s.get(Triage, triage_id)
            if t is None:
                raise ErreurStockage("triage introuvable")
            return t, self.moteur.evaluer(self._cas_effectif(s, t))

    @reessayable
    def finaliser(self, triage_id: str, *, acteur: str, note: str | None = None) -> Resultat:
        """Evaluate and freeze a draft with its result, rule version and fingerprint; an amended one replaces."""
        with self._ecriture() as (s, chaine):
            t = self._brouillon(s, triage_id)
            cas = self._cas_effectif(s, t)
            resultat = self.moteur.evaluer(cas)
            if resultat["orientation"] is None:
                manquantes = ", ".join(resultat["questions_manquantes"])
                raise ErreurStockage(f"triage incomplet : pas d'orientation sans réponse à {manquantes}")
            t.cas, t.resultat = cas, dict(resultat)
            t.orientation = resultat["orientation"]
            t.version_protocole, t.empreinte_regles = resultat["version_protocole"], resultat["empreinte_regles"]
            if note is not None:
                t.note = _texte("note", note, LONGUEUR_NOTE, vide=True, lignes=True)
            t.statut, t.finalise_le = FINAL, self.horloge()
            if t.remplace_id:
                s.execute(update(Triage).where(Triage.id == t.remplace_id).values(statut=REMPLACE))
            s.flush()
            chaine.ajouter("finalisation", acteur, triage_id, {
                "contenu": audit.empreinte_contenu(t.cas, t.resultat), "triage": audit.empreinte_triage(t),
                "version": t.version, "remplace": t.remplace_id, "empreinte_regles": resultat["empreinte_regles"]})
            self._suite_du_triage(s, chaine, t, resultat, acteur)
        return resultat

    def _suite_du_triage(self, s: Session, chaine: audit.Chaine, t: Triage, resultat: Resultat, acteur: str) -> None:
        """A final triage sending the patient to the emergency department, or past the accès direct cap, closes
        the episode with that reason; a new version that no longer does reopens the episode it had closed."""
        ep = s.get(Episode, t.episode_id)
        if ep is None:
            return
        regles = self.moteur.registre.commun.suivi_episode
        if resultat["orientation"] == "urgences":
            motif: str | None = "urgences"
        elif any(m["id"] == regles.motif_plafond for m in resultat["motifs"]):
            motif = regles.motif_cloture_plafond
        else:
            motif = None
        jour = t.date_consultation
        if motif is not None and ep.statut == OUVERT:
            self._clore(chaine, ep, motif, jour, acteur)
        elif motif is None and ep.statut == CLOS and t.remplace_id and ep.motif_cloture in (
                "urgences", regles.motif_cloture_plafond) and ep.date_cloture == jour:
            ep.statut, ep.motif_cloture, ep.date_cloture = OUVERT, None, None
            chaine.ajouter("reouverture_episode", acteur, t.id, {"episode": ep.id})

    def amender(self, triage_id: str, *, acteur: str) -> str:
        """Start a new version (draft) of a final triage; the old one stays readable, unchanged."""
        nid = nouvel_id()
        maintenant = self.horloge()
        with self._ecriture() as (s, chaine):
            t = s.get(Triage, triage_id)
            if t is None:
                raise ErreurStockage("triage introuvable")
            if t.statut != FINAL:
                raise ErreurStockage("seul un triage finalisé (version en cours) s'amende")
            s.add(Triage(id=nid, episode_id=t.episode_id, version=t.version + 1, remplace_id=t.id,
                         statut=BROUILLON, date_consultation=t.date_consultation, cas=copy.deepcopy(t.cas),
                         etape=t.etape, note=t.note, auteur=acteur, cree_le=maintenant, modifie_le=maintenant))
            chaine.ajouter("amendement", acteur, nid, {"remplace": t.id})
        return nid

    def versions(self, triage_id: str) -> list[Triage]:
        """Every version of a triage, oldest first."""
        with self.sessions() as s:
            t = s.get(Triage, triage_id)
            if t is None:
                raise ErreurStockage("triage introuvable")
            chaine = [t]
            while chaine[0].remplace_id:
                precedent = s.get(Triage, chaine[0].remplace_id)
                if precedent is None:
                    break
                chaine.insert(0, precedent)
            suivant = s.scalar(select(Triage).where(Triage.remplace_id == chaine[-1].id))
            while suivant is not None:
                chaine.append(suivant)
                suivant = s.scalar(select(Triage).where(Triage.remplace_id == suivant.id))
            return chaine

    def lister(self, limite: int = 50, decalage: int = 0, statut: str | None = None,
               recherche: str | None = None) -> list[LigneTriage]:
        """This structure's triages, newest first (replaced versions hidden).

        ``recherche`` matches the patient's name or first name, case-insensitively, as literal text (``%``
        and ``_`` are not wildcards; the value is a bound parameter, never spliced into SQL).
        """
        requete = (select(Triage.id, Triage.date_consultation, Episode.protocole, Triage.orientation, Triage.statut,
                          Triage.version, Patient.nom, Patient.prenom, Triage.cree_le)
                   .join(Episode, Episode.id == Triage.episode_id).join(Patient, Patient.id == Episode.patient_id)
                   .where(Triage.statut != REMPLACE)
                   .order_by(Triage.cree_le.desc(), Triage.id).limit(limite).offset(decalage))
        if statut:
            requete = requete.where(Triage.statut == statut)
        if recherche and _CONTROLE.search(recherche):
            return []  # no name holds a control character: such a search matches nobody (never « everybody »)
        recherche = (recherche or "").strip()
        if recherche:
            motif = "%" + _echapper_like(recherche[:200].lower()) + "%"
            requete = requete.where(func.lower(Patient.nom + " " + Patient.prenom).like(motif, escape="\\")
                                    | func.lower(Patient.prenom + " " + Patient.nom).like(motif, escape="\\"))
        with self.sessions() as s:
            return [LigneTriage(r.id, r.date_consultation, r.protocole, r.orientation, r.statut, r.version,
                                f"{r.nom} {r.prenom}", r.cree_le) for r in s.execute(requete)]

    # -- patients: look-up -------------------------------------------------------------------------
    def rechercher_patients(self, texte: str, *, acteur: str, limite: int = 20) -> list[PatientTrouve]:
        """Patients whose name and first name hold every typed word, and born on any typed date.

        Accent-, case- and punctuation-insensitive (« lefebvre » finds « Lefèbvre »), words in any order, a
        date as ``JJ/MM/AAAA`` or ``AAAA-MM-JJ``. Values are bound parameters; ``%`` and ``_`` are literal. The
        search is audited with the number of patients found (never the words typed).
        """
        mots, jours = _termes(texte)
        trouves: list[PatientTrouve] = []
        if mots or jours:
            requete = select(Patient).order_by(Patient.nom_recherche, Patient.date_naissance, Patient.id).limit(limite)
            for mot in mots:
                requete = requete.where(Patient.nom_recherche.like("%" + _echapper_like(mot) + "%", escape="\\"))
            for jour in jours:
                requete = requete.where(Patient.date_naissance == jour)
            with self.sessions() as s:
                patients = list(s.scalars(requete))
                ouverts = self._episodes_ouverts(s, [p.id for p in patients])
            trouves = [_trouve(p, ouverts.get(p.id, ())) for p in patients]
        with self._ecriture() as (_, chaine):
            chaine.ajouter("recherche_patient", acteur, details={"resultats": len(trouves)})
        return trouves

    def doublons_probables(self, *, nom: str, date_naissance: date, acteur: str) -> list[PatientTrouve]:
        """Patients already recorded with the same name (accents and case aside) and birth date (audited)."""
        with self.sessions() as s:
            patients = [p for p in s.scalars(select(Patient).where(Patient.date_naissance == date_naissance)
                                             .order_by(Patient.cree_le))
                        if cle_recherche(p.nom) == cle_recherche(nom)]
            ouverts = self._episodes_ouverts(s, [p.id for p in patients])
        with self._ecriture() as (_, chaine):
            chaine.ajouter("recherche_doublon", acteur, details={"resultats": len(patients)})
        return [_trouve(p, ouverts.get(p.id, ())) for p in patients]

    def fiche_patient(self, patient_id: str, jour: date, *, acteur: str) -> tuple[PatientTrouve, list[EtatEpisode]]:
        """A patient and the state of each of their episodes on ``jour``, newest first (the look-up is audited)."""
        with self.sessions() as s:
            p = s.get(Patient, patient_id)
            if p is None:
                raise ErreurStockage("patient introuvable")
            episodes = list(s.scalars(select(Episode).where(Episode.patient_id == patient_id)
                                      .order_by(Episode.date_debut.desc(), Episode.cree_le.desc())))
            etats = [self._etat(s, ep, jour) for ep in episodes]
            trouve = _trouve(p, tuple(ep.protocole for ep in episodes if ep.statut == OUVERT))
        with self._ecriture() as (_, chaine):
            chaine.ajouter("consultation_patient", acteur, details={"patient": patient_id})
        return trouve, etats

    @staticmethod
    def _episodes_ouverts(s: Session, patients: list[str]) -> dict[str, tuple[str, ...]]:
        if not patients:
            return {}
        ouverts: dict[str, list[str]] = {}
        for pid, protocole in s.execute(select(Episode.patient_id, Episode.protocole).where(
                Episode.patient_id.in_(patients), Episode.statut == OUVERT).order_by(Episode.date_debut)):
            ouverts.setdefault(pid, []).append(protocole)
        return {pid: tuple(v) for pid, v in ouverts.items()}

    # -- episodes ----------------------------------------------------------------------------------
    def episode_ouvert(self, patient_id: str, protocole: str) -> str | None:
        """The patient's open episode of this protocol (the most recent), if any."""
        with self.sessions() as s:
            return s.scalar(select(Episode.id).where(Episode.patient_id == patient_id, Episode.protocole == protocole,
                                                     Episode.statut == OUVERT)
                            .order_by(Episode.date_debut.desc(), Episode.cree_le.desc()).limit(1))

    def ouvrir_ou_continuer_episode(self, *, patient_id: str, protocole: str, date_debut: date,
                                    prescription_medicale: bool = False, diagnostic_medical_prealable: bool = False,
                                    antecedent_lombalgie: bool = False, acteur: str) -> tuple[str, bool]:
        """The patient's open episode of this protocol, or a new one: (episode id, whether it continues one).

        A continued episode keeps its own onset date, prescription and prior diagnosis (the values given here
        are for a new episode only).
        """
        existant = self.episode_ouvert(patient_id, protocole)
        if existant is not None:
            return existant, True
        return self.creer_episode(patient_id=patient_id, protocole=protocole, date_debut=date_debut,
                                  prescription_medicale=prescription_medicale,
                                  diagnostic_medical_prealable=diagnostic_medical_prealable,
                                  antecedent_lombalgie=antecedent_lombalgie, acteur=acteur), False

    def declarer_historique(self, episode_id: str, *, seances_12_mois: int, episodes_12_mois: int, motif: str,
                            jour: date, acteur: str) -> None:
        """Declare the 12-month history when the records do not hold it all (sessions done elsewhere).

        The reason is required; a declared count below what the records hold is refused (the records always
        count). The audit keeps the old and new counts, never the reason's text.
        """
        motif = _texte("motif_declaration", motif, 500)
        with self._ecriture() as (s, chaine):
            ep = self._episode_ouvert(s, episode_id)
            _, seances, _, episodes = self._historique(s, ep, jour)
            problemes = [Probleme(champ, f"au moins {minimum} (déjà enregistré{'s' if minimum > 1 else ''})")
                         for champ, valeur, minimum in (("seances_12_mois", seances_12_mois, seances),
                                                        ("episodes_12_mois", episodes_12_mois, episodes))
                         if valeur < minimum]
            problemes += [Probleme(champ, "au plus 500") for champ, valeur in
                          (("seances_12_mois", seances_12_mois), ("episodes_12_mois", episodes_12_mois))
                          if valeur > 500]
            if problemes:
                raise ErreurSaisie(problemes)
            details = {"episode": episode_id,
                       "seances_12_mois": {"avant": ep.seances_12_mois_declarees, "apres": seances_12_mois},
                       "episodes_12_mois": {"avant": ep.episodes_12_mois_declares, "apres": episodes_12_mois}}
            ep.seances_12_mois_declarees, ep.episodes_12_mois_declares = seances_12_mois, episodes_12_mois
            ep.motif_declaration = motif
            chaine.ajouter("declaration_historique", acteur, details=details)

    def cloturer_episode(self, episode_id: str, *, motif: str, jour: date, acteur: str, repris_par: str | None = None,
                         evenement_indesirable: bool | None = None, evenement_texte: str | None = None) -> None:
        """Close an open episode with its reason (guérison, reprise par le médecin, urgences, abandon, plafond)."""
        with self._ecriture() as (s, chaine):
            ep = self._episode_ouvert(s, episode_id)
            self._clore(chaine, ep, motif, jour, acteur)
            self._issue(ep, repris_par, evenement_indesirable, evenement_texte)

    def renseigner_issue(self, episode_id: str, *, repris_par: str | None, evenement_indesirable: bool | None,
                         evenement_texte: str | None = None, acteur: str) -> None:
        """Record the episode's outcome for later statistics (who took the patient over, adverse event)."""
        with self._ecriture() as (s, chaine):
            ep = _lire_episode(s, episode_id)
            self._issue(ep, repris_par, evenement_indesirable, evenement_texte)
            chaine.ajouter("issue_episode", acteur, details={"episode": episode_id, "repris_par": ep.repris_par,
                                                             "evenement_indesirable": ep.evenement_indesirable})

    def _clore(self, chaine: audit.Chaine, ep: Episode, motif: str, jour: date, acteur: str) -> None:
        if motif not in get_args(MotifCloture):
            raise ErreurSaisie([Probleme("motif_cloture", f"motif inconnu « {motif} » : attendu "
                                                          f"{', '.join(get_args(MotifCloture))}")])
        ep.statut, ep.motif_cloture, ep.date_cloture = CLOS, motif, jour
        chaine.ajouter("cloture_episode", acteur, details={"episode": ep.id, "motif": motif})

    @staticmethod
    def _issue(ep: Episode, repris_par: str | None, evenement: bool | None, texte: str | None) -> None:
        if repris_par is not None and repris_par not in get_args(ReprisPar):
            raise ErreurSaisie([Probleme("repris_par", f"valeur inconnue « {repris_par} » : attendu "
                                                       f"{', '.join(get_args(ReprisPar))}")])
        if repris_par is not None:
            ep.repris_par = repris_par
        if evenement is not None:
            ep.evenement_indesirable = evenement
            ep.evenement_texte = _texte("evenement_texte", texte, 2000, vide=True, lignes=True) \
                if evenement and texte else None

    @staticmethod
    def _episode_ouvert(s: Session, episode_id: str) -> Episode:
        ep = _lire_episode(s, episode_id)
        if ep.statut != OUVERT:
            raise ErreurStockage("épisode clos : commencez un nouveau triage pour un nouvel épisode")
        return ep

    # -- sessions ----------------------------------------------------------------------------------
    def enregistrer_seance(self, *, episode_id: str, jour: date, voie: str | None = None, acteur: str,
                           acte: str = "seance", evolution: str | None = None, suite: str | None = None) -> int:
        """Record a visit (a session by default); it feeds the counts of the next evaluations.

        On an episode with a final triage: a session past the accès direct cap is refused, and the session that
        reaches it closes the episode towards the médecin (motif ``plafond``). The re-assessment consultation
        (``consultation_protocole_2``) carries what changed and what follows; « guérison » and « médecin » close
        the episode. ``voie`` defaults to the billing route of the episode's current triage.
        """
        if acte not in get_args(Acte):
            raise ErreurSaisie([Probleme("acte", f"acte inconnu « {acte} » : attendu {', '.join(get_args(Acte))}")])
        if acte == REEVALUATION:
            manque = [Probleme(c, "à renseigner pour la réévaluation") for c, v in
                      (("evolution", evolution), ("suite", suite)) if v is None]
            if manque:
                raise ErreurSaisie(manque)
            if evolution not in get_args(Evolution) or suite not in get_args(Suite):
                raise ErreurSaisie([Probleme("evolution" if evolution not in get_args(Evolution) else "suite",
                                             "valeur inconnue")])
        elif evolution is not None or suite is not None:
            raise ErreurSaisie([Probleme("evolution", "réservé à la réévaluation (consultation de protocole 2)")])
        regles = self.moteur.registre.commun.suivi_episode
        with self._ecriture() as (s, chaine):
            ep = self._episode_ouvert(s, episode_id)
            avant = self._etat(s, ep, jour)
            if acte == SEANCE and avant.plafond_atteint:
                raise ErreurStockage(f"plafond de l’accès direct atteint ({avant.plafond_acces_direct} séances "
                                     "sans diagnostic médical) : l’épisode est adressé au médecin")
            seance = Seance(episode_id=episode_id, date=jour, voie=voie or avant.voie or "aucune", acte=acte,
                            evolution=evolution, suite=suite, cree_le=self.horloge())
            s.add(seance)
            s.flush()
            chaine.ajouter("seance", acteur, details={"episode": episode_id, "seance": seance.id, "acte": acte})
            # Only an episode under the accès direct cap needs the second evaluation.
            if acte == SEANCE and avant.plafond_acces_direct is not None:
                fin = max([jour, *(a.date for a in avant.actes)])  # a session entered late counts with the others
                if self._etat(s, ep, fin).plafond_atteint:
                    self._clore(chaine, ep, regles.motif_cloture_plafond, fin, acteur)
            elif suite in _CLOTURE_PAR_SUITE:
                self._clore(chaine, ep, _CLOTURE_PAR_SUITE[suite], jour, acteur)
            return seance.id

    def supprimer_seance(self, seance_id: int, *, acteur: str) -> None:
        """Remove a visit recorded by mistake (on an open episode); the audit keeps its id."""
        with self._ecriture() as (s, chaine):
            seance = s.get(Seance, seance_id)
            if seance is None:
                raise ErreurStockage("séance introuvable")
            self._episode_ouvert(s, seance.episode_id)
            s.delete(seance)
            chaine.ajouter("suppression_seance", acteur, details={"episode": seance.episode_id, "seance": seance_id})

    # -- where an episode stands -----------------------------------------------------------------------
    def etat_episode(self, episode_id: str, jour: date) -> EtatEpisode:
        """Counters, thresholds and the re-assessment window of an episode on ``jour``, from the records."""
        with self.sessions() as s:
            ep = _lire_episode(s, episode_id)
            return self._etat(s, ep, jour)

    def _etat(self, s: Session, ep: Episode, jour: date) -> EtatEpisode:
        commun = self.moteur.registre.commun
        actes = [ActeEnregistre(id=a.id, date=a.date, acte=a.acte, voie=a.voie, evolution=a.evolution,
                                suite=a.suite)
                 for a in s.scalars(select(Seance).where(Seance.episode_id == ep.id)
                                    .order_by(Seance.date, Seance.id))]
        faites = sum(1 for a in actes if a.acte == SEANCE and a.date <= jour)
        seances_12, seances_12_calc, episodes_12, episodes_12_calc = self._historique(s, ep, jour)
        finals = list(s.scalars(select(Triage).where(Triage.episode_id == ep.id, Triage.statut == FINAL)
                                .order_by(Triage.date_consultation, Triage.cree_le)))
        courant = finals[-1] if finals else None
        champs: dict[str, Any] = {}
        if courant is not None and courant.resultat is not None:
            cas = copy.deepcopy(courant.cas)
            cas["episode"].update(seances_realisees_episode=faites, seances_12_mois=seances_12,
                                  episodes_anterieurs_12_mois=episodes_12)
            suivant = self.moteur.evaluer(cas)
            plafond = any(m["id"] == commun.suivi_episode.motif_plafond for m in suivant["motifs"])
            seances = suivant["seances"]
            stocke = courant.resultat.get("seances") or {}
            sans_diagnostic = not ep.diagnostic_medical_prealable and courant.orientation == "acces_direct"
            champs = {
                "triage_id": courant.id, "orientation": courant.orientation,
                "voie": courant.resultat["facturation"]["voie"],
                "autorisees": seances["autorisees"] if seances else stocke.get("autorisees"),
                "restantes": seances["restantes"] if seances else 0,
                "plafond_acces_direct": stocke.get("autorisees") if sans_diagnostic else None,
                "plafond_atteint": plafond,
                "dap_necessaire": (not plafond and seances is not None and seances["restantes"] == 0
                                   and suivant["orientation"] in _ORIENTATIONS_SEANCES),
            }
        bdk = commun.facturation.bdk
        revue: dict[str, Any] = {}
        initiale = next((a.date for a in actes if a.acte == "consultation_protocole_1"),
                        next((t.date_consultation for t in finals if t.orientation == "protocole"), None))
        if initiale is not None:
            regle = self.moteur.protocoles[ep.protocole].modele.suivi.reevaluation
            du, au = fenetre_reevaluation(initiale, regle.du_jour, regle.au_jour)
            faite = next((a.date for a in actes if a.acte == REEVALUATION), None)
            etat_revue_ = etat_revue(jour, du, au, faite)
            revue = {"reevaluation_du": du, "reevaluation_au": au, "reevaluation_faite_le": faite,
                     "revue": etat_revue_ if ep.statut == OUVERT or faite else None}
        seuil = commun.suivi_episode.seuil_fiche_synthese
        return EtatEpisode(
            episode_id=ep.id, patient_id=ep.patient_id, protocole=ep.protocole, statut=ep.statut,
            date_debut=ep.date_debut, prescription_medicale=ep.prescription_medicale,
            diagnostic_medical_prealable=ep.diagnostic_medical_prealable, motif_cloture=ep.motif_cloture,
            date_cloture=ep.date_cloture, repris_par=ep.repris_par, evenement_indesirable=ep.evenement_indesirable,
            evenement_texte=ep.evenement_texte, seances_serie=faites, seances_12_mois=seances_12,
            seances_12_mois_calculees=seances_12_calc, episodes_12_mois=episodes_12,
            episodes_12_mois_calcules=episodes_12_calc, motif_declaration=ep.motif_declaration,
            prochain_bdk=prochain_bdk(faites, bdk.premiere_si_realisees, bdk.puis_si_realisees, bdk.pas),
            synthese_due=faites >= seuil, seuil_synthese=seuil, actes=tuple(actes), **champs, **revue)

    def a_revoir(self, jour: date, *, acteur: str, limite: int = 100) -> list[ARevoir]:
        """Open protocol episodes whose re-assessment is due or late on ``jour``, the latest due first.

        Audited (a list of patients) with the number of episodes listed.
        """
        sans_revue = select(Seance.episode_id).where(Seance.acte == REEVALUATION)
        requete = (select(Episode, Patient.nom, Patient.prenom).join(Patient, Patient.id == Episode.patient_id)
                   .where(Episode.statut == OUVERT, Episode.id.not_in(sans_revue),
                          Episode.id.in_(select(Triage.episode_id).where(Triage.statut == FINAL,
                                                                         Triage.orientation == "protocole"))))
        liste: list[ARevoir] = []
        with self.sessions() as s:
            for ep, nom, prenom in s.execute(requete):
                etat = self._etat(s, ep, jour)
                if etat.revue in ("due", "en_retard") and etat.reevaluation_du and etat.reevaluation_au:
                    liste.append(ARevoir(ep.id, ep.patient_id, f"{nom} {prenom}", ep.protocole, etat.reevaluation_du,
                                         etat.reevaluation_au, etat.revue, etat.triage_id))
        liste.sort(key=lambda r: (r.au, r.patient))
        liste = liste[:limite]
        with self._ecriture() as (_, chaine):
            chaine.ajouter("liste_a_revoir", acteur, details={"resultats": len(liste)})
        return liste

    def dossier_episode(self, episode_id: str, jour: date, *, acteur: str) -> DossierEpisode:
        """Everything the DAP and the summary sheet print, read from the records (the read is audited)."""
        with self.sessions() as s:
            ep = _lire_episode(s, episode_id)
            pa = ep.patient
            st = s.get(Structure, 1)
            compte = s.scalar(select(CompteTable).where(CompteTable.identifiant == acteur))
            triages = [TriageDossier(id=t.id, date_consultation=t.date_consultation, version=t.version,
                                     orientation=t.orientation,
                                     classe_duree=(t.resultat or {}).get("classe_duree"),
                                     risque_chronicite=(t.resultat or {}).get("risque_chronicite"),
                                     version_protocole=t.version_protocole, note=t.note)
                       for t in s.scalars(select(Triage).where(Triage.episode_id == ep.id, Triage.statut == FINAL)
                                          .order_by(Triage.date_consultation, Triage.cree_le))]
            dossier = DossierEpisode(
                jour=jour, structure=st.nom if st else None, kine=compte.nom if compte else acteur,
                patient=PatientDossier(id=pa.id, nom=pa.nom, prenom=pa.prenom, date_naissance=pa.date_naissance,
                                       sexe=pa.sexe, couverture=pa.couverture),  # type: ignore[arg-type]
                titre_protocole=self.moteur.protocoles[ep.protocole].modele.titre, etat=self._etat(s, ep, jour),
                triages=tuple(triages))
        with self._ecriture() as (_, chaine):
            chaine.ajouter("consultation_episode", acteur, details={"episode": episode_id})
        return dossier

    # -- audit -------------------------------------------------------------------------------------
    def verifier_audit(self, points: tuple[audit.PointControle, ...] = ()) -> audit.RapportAudit:
        """Check the whole audit chain and the finalised triages' content (and the checkpoints kept outside)."""
        with self.sessions() as s:
            return audit.verifier(s, self.cle, points)

    # -- actions that change nothing but are audited: each method does the action and writes its own event; there
    # is no generic « journaliser » (a role could otherwise forge an « effacement » or a « finalisation »).
    def exporter(self, triage_id: str, format_: str, *, genere_le: datetime, acteur: str,
                 impression: bool = False) -> bytes:
        """A triage's document in ``format_`` (summary PDF, FHIR, text, handout, CDA, XDM), audited."""
        from triage_app.export.formats import FORMATS
        from triage_app.export.formats import exporter as produire
        from triage_app.export.resume import depuis_triage

        if format_ not in FORMATS:
            raise ErreurSaisie([Probleme("format", f"attendu l’un de : {', '.join(FORMATS)}")])
        octets = produire(depuis_triage(self, triage_id, genere_le=genere_le), self.moteur, format_)
        details: dict[str, Any] = {"format": format_, **({"mode": "impression"} if impression else {})}
        with self._ecriture() as (_, chaine):
            chaine.ajouter("export", acteur, triage_id, details)
        return octets

    def document_episode(self, episode_id: str, genre: str, jour: date, *, acteur: str) -> bytes:
        """An episode's document (``dap``, ``synthese``, ``synthese-txt``) from its records at ``jour``, audited
        (the read of the records and the export)."""
        from triage_app.export.episode import dap_pdf, synthese_pdf, synthese_texte

        producteurs = {"dap": dap_pdf, "synthese": synthese_pdf,
                       "synthese-txt": lambda d, m: synthese_texte(d, m).encode("utf-8")}
        if genre not in producteurs:
            raise ErreurSaisie([Probleme("format", f"attendu l’un de : {', '.join(producteurs)}")])
        octets = producteurs[genre](self.dossier_episode(episode_id, jour, acteur=acteur), self.moteur)
        with self._ecriture() as (_, chaine):
            chaine.ajouter("export_episode", acteur, details={"episode": episode_id, "format": genre})
        return octets

    def deconnecter(self, *, acteur: str) -> None:
        """The user ends their session (the page forgets it): audited."""
        with self._ecriture() as (_, chaine):
            chaine.ajouter("deconnexion", acteur)

    def _refus(self, action: str, *, acteur: str) -> None:
        """A call the role may not make (recorded by the role check, before it is refused)."""
        with self._ecriture() as (_, chaine):
            chaine.ajouter("refus", acteur, details={"action": action})

    # -- accounts ----------------------------------------------------------------------------------
    def compter_utilisateurs(self) -> int:
        """How many accounts exist (none: the page asks for the first coordinator)."""
        with self.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(CompteTable)) or 0)

    def creer_utilisateur(self, *, identifiant: str, nom: str, role: str, mot_de_passe: str | None,
                          source: str = "local", acteur: str) -> comptes.Utilisateur:
        """Create an account (local: argon2 hash of a password of at least 12 characters; oidc: no password)."""
        identifiant = identifiant.strip().lower()
        problemes = []
        if not _IDENTIFIANT.fullmatch(identifiant):
            problemes.append(Probleme("identifiant", "2 à 200 caractères parmi a-z, 0-9, « . _ @ - »"))
        if role not in comptes.ROLES:
            problemes.append(Probleme("role", f"attendu : {', '.join(comptes.ROLES)}"))
        if not nom.strip():
            problemes.append(Probleme("nom", "à renseigner"))
        elif _CONTROLE.search(nom) or len(nom) > 200:
            problemes.append(Probleme("nom", "200 caractères au plus, sans caractère de contrôle, invisible ou de "
                                             "sens d’écriture"))
        if source not in ("local", "oidc"):
            problemes.append(Probleme("source", "attendu : local ou oidc"))
        if problemes:
            raise ErreurSaisie(problemes)
        empreinte = None
        if source == "local":
            comptes.verifier_mot_de_passe_nouveau(mot_de_passe or "", identifiant)
            empreinte = _HACHEUR.hash(mot_de_passe or "")
        with self._ecriture() as (s, chaine):
            if s.scalar(select(CompteTable).where(CompteTable.identifiant == identifiant)) is not None:
                raise ErreurSaisie([Probleme("identifiant", f"« {identifiant} » existe déjà")])
            s.add(CompteTable(id=nouvel_id(), identifiant=identifiant, nom=nom.strip(), role=role, source=source,
                              empreinte_mot_de_passe=empreinte, actif=True, echecs=0, cree_le=self.horloge()))
            chaine.ajouter("creation_compte", acteur, details={"compte": identifiant, "role": role})
        return comptes.Utilisateur(identifiant, nom.strip(), role, source)

    def lister_utilisateurs(self) -> list[CompteTable]:
        """Every account (detached rows), by identifier."""
        with self.sessions() as s:
            return list(s.scalars(select(CompteTable).order_by(CompteTable.identifiant)))

    def desactiver_utilisateur(self, identifiant: str, *, acteur: str) -> None:
        """Disable an account (kept for the audit trail; it can no longer log in)."""
        with self._ecriture() as (s, chaine):
            compte = s.scalar(select(CompteTable).where(CompteTable.identifiant == identifiant))
            if compte is None:
                raise ErreurStockage("compte introuvable")
            compte.actif = False
            chaine.ajouter("desactivation_compte", acteur, details={"compte": identifiant})

    def connecter(self, identifiant: str, mot_de_passe: str) -> comptes.Utilisateur:
        """Check a local login; failures are counted and the account held back after several in a row.

        Neither the message nor the time taken says whether the identifier exists or the account is held back:
        the password is always checked (against a dummy hash when there is no account), and every refusal says
        the same. The audit records a keyed hash of the typed identifier, never its text.
        """
        identifiant = identifiant.strip().lower()
        maintenant = self.horloge()
        erreur: str | None = None
        with self._ecriture() as (s, chaine):
            compte = s.scalar(select(CompteTable).where(CompteTable.identifiant == identifiant))
            utilisable = compte is not None and compte.source == "local" and compte.actif
            empreinte = (compte.empreinte_mot_de_passe if utilisable and compte is not None else None)
            correct = _verifier_empreinte(empreinte or _EMPREINTE_FICTIVE, mot_de_passe) and empreinte is not None
            if not utilisable or compte is None:
                erreur = _REFUS
            elif compte.bloque_jusqu_a is not None and _utc(compte.bloque_jusqu_a) > maintenant:
                erreur = _REFUS  # held back: even the right password is refused, with the same words
            elif not correct:
                compte.echecs += 1
                compte.bloque_jusqu_a = comptes.fin_blocage(compte.echecs, maintenant)
                erreur = _REFUS
            if erreur is not None:
                chaine.ajouter("connexion_echec", empreinte_identifiant(self.cle, identifiant),
                               details={"motif": "refus"})
            else:
                assert compte is not None
                compte.echecs, compte.bloque_jusqu_a, compte.derniere_connexion = 0, None, maintenant
                if _HACHEUR.check_needs_rehash(compte.empreinte_mot_de_passe or ""):
                    compte.empreinte_mot_de_passe = _HACHEUR.hash(mot_de_passe)
                chaine.ajouter("connexion", identifiant)
                utilisateur = comptes.Utilisateur(compte.identifiant, compte.nom, compte.role, compte.source)
        if erreur is not None:
            raise comptes.ErreurConnexion(erreur)
        return utilisateur

    def connecter_oidc(self, identifiant: str, *, rpps: str | None = None,
                       profil: dict[str, str | None] | None = None) -> comptes.Utilisateur:
        """A login confirmed by the identity provider: the account must exist (source oidc) and be active.

        The account is found by its identifier (the e-mail, or the national number the coordinator typed), or by
        its RPPS (``rpps``: Pro Santé Connect's national id without its leading 8). ``profil`` (first name, family
        name, profession, RPPS from the provider's claims) updates the account's professional identity, which
        then signs the documents; a value the checks refuse is left as it was."""
        identifiant = identifiant.strip().lower()
        with self._ecriture() as (s, chaine):
            candidats = [identifiant] + ([rpps] if rpps else [])
            compte = None
            for cle in candidats:
                compte = s.scalar(select(CompteTable).where(CompteTable.identifiant == cle))
                if compte is not None:
                    break
            if compte is None and rpps:
                compte = s.scalar(select(CompteTable).where(CompteTable.rpps == rpps, CompteTable.source == "oidc"))
            if compte is None or compte.source != "oidc" or not compte.actif:
                chaine.ajouter("connexion_echec", empreinte_identifiant(self.cle, identifiant),
                               details={"motif": "oidc_inconnu"})
                utilisateur = None
            else:
                compte.derniere_connexion = self.horloge()
                chaine.ajouter("connexion", compte.identifiant, details={"source": "oidc"})
                utilisateur = comptes.Utilisateur(compte.identifiant, compte.nom, compte.role, compte.source)
        if utilisateur is None:
            raise comptes.ErreurConnexion("compte non autorisé : demander au coordinateur de créer ce compte")
        actuel = self.profil(utilisateur.identifiant) if profil else None
        inchange = actuel is not None and profil is not None and all(
            getattr(actuel, cle) == profil.get(cle) for cle in ("prenom", "nom_famille", "profession", "rpps")
            if profil.get(cle))
        if profil and profil.get("prenom") and profil.get("nom_famille") and not inchange:
            try:
                pro = self.modifier_profil_compte(
                    utilisateur.identifiant, prenom=str(profil["prenom"]), nom_famille=str(profil["nom_famille"]),
                    profession=str(profil.get("profession") or (actuel.profession if actuel else None) or "autre"),
                    rpps=profil.get("rpps") or (actuel.rpps if actuel else None),
                    adeli=actuel.adeli if actuel else None, telephone=actuel.telephone if actuel else None,
                    acteur=utilisateur.identifiant)
            except ErreurSaisie:
                pro = None
            if pro is not None:
                utilisateur = comptes.Utilisateur(utilisateur.identifiant, pro.nom, utilisateur.role,
                                                  utilisateur.source)
        return utilisateur

    def changer_mot_de_passe(self, identifiant: str, ancien: str, nouveau: str) -> None:
        """Change one's own password (the old one is checked like a login)."""
        self.connecter(identifiant, ancien)
        comptes.verifier_mot_de_passe_nouveau(nouveau, identifiant)
        with self._ecriture() as (s, chaine):
            compte = s.scalar(select(CompteTable).where(CompteTable.identifiant == identifiant.strip().lower()))
            assert compte is not None
            compte.empreinte_mot_de_passe = _HACHEUR.hash(nouveau)
            chaine.ajouter("changement_mot_de_passe", compte.identifiant)

    # -- RGPD --------------------------------------------------------------------------------------
    def exporter_patient(self, patient_id: str, *, acteur: str) -> dict[str, Any]:
        """Everything stored about one patient, as JSON-ready data (the export itself is audited)."""
        with self._ecriture() as (s, chaine):
            p = s.get(Patient, patient_id)
            if p is None:
                raise ErreurStockage("patient introuvable")
            episodes = []
            for ep in p.episodes:
                triages = s.scalars(select(Triage).where(Triage.episode_id == ep.id).order_by(Triage.cree_le)).all()
                seances = s.scalars(select(Seance).where(Seance.episode_id == ep.id).order_by(Seance.date)).all()
                episodes.append({
                    "id": ep.id, "protocole": ep.protocole, "date_debut": ep.date_debut.isoformat(),
                    "prescription_medicale": ep.prescription_medicale,
                    "diagnostic_medical_prealable": ep.diagnostic_medical_prealable,
                    "antecedent_lombalgie": ep.antecedent_lombalgie,
                    "episodes_anterieurs_12_mois": ep.episodes_anterieurs_12_mois,
                    "statut": ep.statut, "motif_cloture": ep.motif_cloture,
                    "date_cloture": ep.date_cloture.isoformat() if ep.date_cloture else None,
                    "repris_par": ep.repris_par, "evenement_indesirable": ep.evenement_indesirable,
                    "evenement_texte": ep.evenement_texte,
                    "seances_12_mois_declarees": ep.seances_12_mois_declarees,
                    "episodes_12_mois_declares": ep.episodes_12_mois_declares,
                    "motif_declaration": ep.motif_declaration,
                    "triages": [{"id": t.id, "version": t.version, "statut": t.statut, "remplace": t.remplace_id,
                                 "date_consultation": t.date_consultation.isoformat(), "cas": t.cas,
                                 "resultat": t.resultat, "note": t.note, "auteur": t.auteur,
                                 "cree_le": t.cree_le.isoformat(),
                                 "finalise_le": t.finalise_le.isoformat() if t.finalise_le else None}
                                for t in triages],
                    "seances": [{"date": se.date.isoformat(), "voie": se.voie, "acte": se.acte,
                                 "evolution": se.evolution, "suite": se.suite} for se in seances],
                })
            donnees = {"patient": {"id": p.id, "nom": p.nom, "prenom": p.prenom,
                                   "date_naissance": p.date_naissance.isoformat(), "sexe": p.sexe,
                                   "couverture": p.couverture,
                                   # Identity (issue #14): INS and what was checked, strict traits, médecin.
                                   "ins": p.ins_matricule, "ins_oid": p.ins_oid, "ins_insi": p.ins_insi,
                                   "piece_identite": p.piece_identite,
                                   "piece_verifiee_le": (p.piece_verifiee_le.isoformat() if p.piece_verifiee_le
                                                         else None),
                                   "piece_verifiee_par": p.piece_verifiee_par, "nom_naissance": p.nom_naissance,
                                   "prenoms_naissance": p.prenoms_naissance, "lieu_naissance": p.lieu_naissance,
                                   "medecin_traitant": {"nom": p.medecin_traitant_nom,
                                                        "rpps": p.medecin_traitant_rpps,
                                                        "mssante": p.medecin_traitant_mssante}},
                       "episodes": episodes}
            chaine.ajouter("export_rgpd", acteur, details={"patient": patient_id})
        return donnees

    def effacer_patient(self, patient_id: str, *, acteur: str) -> None:
        """Erase a patient and everything about them; the audit keeps an event with ids only."""
        with self._ecriture() as (s, chaine):
            if s.get(Patient, patient_id) is None:
                raise ErreurStockage("patient introuvable")
            episodes = select(Episode.id).where(Episode.patient_id == patient_id)
            triages = list(s.scalars(select(Triage.id).where(Triage.episode_id.in_(episodes))))
            s.execute(delete(Seance).where(Seance.episode_id.in_(episodes)))
            # Newest versions first: a finalised row is never updated (trigger), and the link to the version it
            # replaces goes with the row itself.
            for tid in s.scalars(select(Triage.id).where(Triage.id.in_(triages)).order_by(Triage.version.desc())):
                s.execute(delete(Triage).where(Triage.id == tid))
            s.execute(delete(Episode).where(Episode.patient_id == patient_id))
            s.execute(delete(Patient).where(Patient.id == patient_id))
            chaine.ajouter("effacement", acteur, details={"patient": patient_id, "triages": sorted(triages)})

    # -- re-evaluation -----------------------------------------------------------------------------
    def reevaluer(self, processus: int | None = None) -> list[Changement]:
        """Replay every current final triage with the rules in force now; list those whose result changes.

        Compared: orientation, billing route, lines (amount, reimbursed and patient shares), motif ids, failed
        eligibility criteria, sessions allowed and remaining, advice to the kiné (see :func:`_resume`).
        """
        with self.sessions() as s:
            stockes = [(t.id, t.cas, t.resultat or {}) for t in
                       s.scalars(select(Triage).where(Triage.statut == FINAL).order_by(Triage.cree_le))]
        lignes = [orjson.dumps(cas) for _, cas, _ in stockes]
        sorties = b"".join(texte for texte, _ in evaluer_lot(lignes, processus, regles=self.moteur)).splitlines()
        changements = []
        for (tid, _, avant), sortie in zip(stockes, sorties, strict=True):
            apres = orjson.loads(sortie)
            apres.pop("ligne", None)  # the batch's line number, not part of the result
            a, b = _resume(avant), _resume(apres)
            if a != b:
                changements.append(Changement(tid, a, b, avant.get("version_protocole"),
                                              apres.get("version_protocole"), tuple(_differences(a, b))))
        return changements


_IDENTIFIANT = re.compile(r"[a-z0-9._@-]{2,200}")
_REFUS = "identifiant ou mot de passe incorrect (après plusieurs échecs, attendre quelques minutes)"


def _hacheur() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


_HACHEUR = _hacheur()
_EMPREINTE_FICTIVE = _HACHEUR.hash("compte-inexistant-valeur-fictive")


def _verifier_empreinte(empreinte: str, mot_de_passe: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_HACHEUR.verify(empreinte, mot_de_passe))
    except (VerificationError, InvalidHashError):
        return False


LONGUEUR_NOTE = 4000
# Case fields whose values are codes, not patient data: their old and new values are audited on a correction.
_CHAMPS_CODES = frozenset({"patient.couverture"})
# Control characters, and the bidirectional controls and invisible characters that make a text print otherwise
# than it reads (« evil » shown « live »): refused in every stored text.
_CONTROLE = re.compile(f"[\x00-\x1f\x7f{INVISIBLES}]")
_CONTROLE_SAUF_LIGNES = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f{INVISIBLES}]")


def _texte(champ: str, valeur: str, longueur: int, *, vide: bool = False, lignes: bool = False) -> str:
    """A text field as stored: no control character, within the column's length; French error naming it."""
    motif = _CONTROLE_SAUF_LIGNES if lignes else _CONTROLE
    if not isinstance(valeur, str) or motif.search(valeur):
        raise ErreurSaisie([Probleme(champ, "caractère de contrôle, invisible ou de sens d’écriture interdit")])
    if not valeur.strip() and not vide:
        raise ErreurSaisie([Probleme(champ, "à renseigner")])
    if len(valeur) > longueur:
        raise ErreurSaisie([Probleme(champ, f"{longueur} caractères au plus")])
    return valeur


def _couverture(valeur: str) -> str:
    """The patient's cover, one of the case format's values (``patient.couverture``); French error naming it."""
    permises = get_args(Couverture)
    if valeur not in permises:
        raise ErreurSaisie([Probleme("couverture", f"valeur inconnue « {valeur} » (valeurs permises : "
                                                   f"{', '.join(permises)})")])
    return valeur


_DATE_FR = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b")
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _termes(texte: str) -> tuple[list[str], list[date]]:
    """The words (search keys) and the dates of a typed search; a control character matches nobody."""
    texte = (texte or "")[:200]
    if _CONTROLE.search(texte):
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


def _trouve(p: Patient, ouverts: tuple[str, ...]) -> PatientTrouve:
    return PatientTrouve(p.id, p.nom, p.prenom, p.date_naissance, p.sexe, p.couverture, ouverts)


def _echapper_like(texte: str) -> str:
    """Make ``%``, ``_`` and the escape character literal in a LIKE pattern."""
    return texte.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes: they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _part_patient(ligne: dict[str, Any]) -> float | None:
    """A line's patient share; a result written before rules v2 has none: the amount less the reimbursed share
    (what it implied), so that an unchanged cover is not reported as a change."""
    if "part_patient_eur" in ligne:
        return ligne["part_patient_eur"]
    montant, rembourse = ligne.get("montant_eur"), ligne.get("part_remboursee_eur")
    return None if montant is None or rembourse is None else reste(montant, rembourse)


def _resume(resultat: dict[str, Any]) -> dict[str, Any]:
    """What a re-evaluation compares in a result. A field an older result lacks counts as empty
    (``criteres_non_remplis``, ``conseils_kine``: rules v2)."""
    if "erreur" in resultat:
        return {"erreur": resultat["erreur"]}
    fac = resultat.get("facturation") or {}
    lignes = fac.get("lignes") or []
    seances = resultat.get("seances")

    def ids(champ: str) -> list[str]:
        return [m["id"] for m in resultat.get(champ) or []]

    return {"orientation": resultat.get("orientation"), "voie": fac.get("voie"),
            "lignes": [(ligne["code"], ligne["montant_eur"]) for ligne in lignes],
            "parts": [(ligne["code"], ligne.get("part_remboursee_eur"), _part_patient(ligne)) for ligne in lignes],
            "motifs": ids("motifs"), "criteres_non_remplis": ids("criteres_non_remplis"),
            "seances": None if seances is None else {"autorisees": seances.get("autorisees"),
                                                     "restantes": seances.get("restantes")},
            "conseils_kine": ids("conseils_kine")}


def _valeur_texte(valeur: Any) -> str:
    """A compared value in French: « — » for none, euros with a decimal comma."""
    if valeur is None:
        return "—"
    if isinstance(valeur, float):
        return f"{valeur:.2f}".replace(".", ",")
    return str(valeur)


def _differences_ids(champ: str, avant: list[str], apres: list[str]) -> list[str]:
    out = [f"{champ} : + {i}" for i in apres if i not in avant] + [f"{champ} : - {i}" for i in avant if i not in apres]
    if not out and avant != apres:
        out.append(f"{champ} : ordre {', '.join(avant)} → {', '.join(apres)}")
    return out


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Each difference between two summaries (:func:`_resume`), in French, naming the result field."""
    if "erreur" in a or "erreur" in b:
        return [f"erreur : {_valeur_texte(a.get('erreur'))} → {_valeur_texte(b.get('erreur'))}"]
    out = [f"{champ} : {_valeur_texte(a[cle])} → {_valeur_texte(b[cle])}"
           for champ, cle in (("orientation", "orientation"), ("facturation.voie", "voie")) if a[cle] != b[cle]]

    def lignes(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {code: {"montant_eur": montant, "part_remboursee_eur": rembourse, "part_patient_eur": patient}
                for (code, montant), (_, rembourse, patient) in zip(r["lignes"], r["parts"], strict=True)}

    la, lb = lignes(a), lignes(b)
    out += [f"facturation.lignes : {code} retirée" for code in la if code not in lb]
    out += [f"facturation.lignes : {code} ajoutée" for code in lb if code not in la]
    out += [f"facturation.lignes : {code} {cle} {_valeur_texte(v)} → {_valeur_texte(lb[code][cle])}"
            for code, valeurs in la.items() if code in lb for cle, v in valeurs.items() if lb[code][cle] != v]
    codes_a, codes_b = [c for c, _ in a["lignes"]], [c for c, _ in b["lignes"]]
    if set(codes_a) == set(codes_b) and codes_a != codes_b:
        out.append(f"facturation.lignes : ordre {', '.join(codes_a)} → {', '.join(codes_b)}")
    out += _differences_ids("motifs", a["motifs"], b["motifs"])
    out += _differences_ids("criteres_non_remplis", a["criteres_non_remplis"], b["criteres_non_remplis"])
    sa, sb = a["seances"] or {}, b["seances"] or {}
    out += [f"seances.{cle} : {_valeur_texte(sa.get(cle))} → {_valeur_texte(sb.get(cle))}"
            for cle in ("autorisees", "restantes") if sa.get(cle) != sb.get(cle)]
    out += _differences_ids("conseils_kine", a["conseils_kine"], b["conseils_kine"])
    return out
