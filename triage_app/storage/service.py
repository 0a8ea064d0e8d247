"""The service layer: the only code that talks to the database.

Every write is one transaction that first takes the audit chain's lock, changes what it must and
appends its audit event(s). Evaluations go through the engine's one evaluation
(:meth:`triage_app.engine.evaluation.Moteur.evaluer`), with the session counts taken from the
records, never asked of the kiné.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Self, get_args

import orjson
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from triage_app import comptes
from triage_app.config import Reglages
from triage_app.domain.dates import ajouter_mois
from triage_app.domain.montants import reste
from triage_app.engine.evaluation import Moteur, moteur
from triage_app.engine.lot import evaluer_lot
from triage_app.errors import ErreurCas, ErreurSaisie, Probleme, TriageError
from triage_app.models.base import Couverture
from triage_app.models.result import Resultat
from triage_app.storage import audit
from triage_app.storage.db import creer_moteur_bd, migrer
from triage_app.storage.tables import Episode, Patient, Seance, Structure, Triage
from triage_app.storage.tables import Utilisateur as CompteTable

BROUILLON, FINAL, REMPLACE = "brouillon", "final", "remplace"


class ErreurStockage(TriageError):
    """A request the records cannot satisfy (unknown id, finalised triage changed…), in French."""


def nouvel_id() -> str:
    """An opaque, unguessable identifier (128 random bits, hex)."""
    return uuid.uuid4().hex


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


class Depot:
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

    def fermer(self) -> None:
        """Release the connections (idempotent; the service stays usable and reconnects on its next call)."""
        self.bd.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fermer()

    @contextmanager
    def _ecriture(self) -> Iterator[tuple[Session, audit.Chaine]]:
        with self.sessions.begin() as s:
            yield s, audit.Chaine(s, self.horloge().isoformat())

    # -- structure ---------------------------------------------------------------------------------
    def structure(self) -> Structure | None:
        """The structure's settings, if described."""
        with self.sessions() as s:
            return s.get(Structure, 1)

    def enregistrer_structure(self, *, nom: str, type: str, departement: str | None,
                              protocoles_appliques: list[str], inscrit_experimentation_cpts: bool = False,
                              acteur: str) -> None:
        """Describe the structure once (replaces the previous description)."""
        nom = _texte("nom", nom, 200)
        inconnus = [p for p in protocoles_appliques if p not in self.moteur.protocoles]
        if inconnus:
            raise ErreurStockage(f"protocole(s) inconnu(s) : {', '.join(inconnus)}")
        with self._ecriture() as (s, chaine):
            st = s.get(Structure, 1) or Structure(id=1)
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
        nom, prenom = _texte("nom", nom, 200), _texte("prenom", prenom, 200)
        couverture = _couverture(couverture)
        pid = nouvel_id()
        with self._ecriture() as (s, chaine):
            s.add(Patient(id=pid, nom=nom, prenom=prenom, date_naissance=date_naissance, sexe=sexe,
                          couverture=couverture, cree_le=self.horloge()))
            chaine.ajouter("creation_patient", acteur, details={"patient": pid})
        return pid

    def creer_episode(self, *, patient_id: str, protocole: str, date_debut: date, prescription_medicale: bool = False,
                      diagnostic_medical_prealable: bool = False, antecedent_lombalgie: bool = False,
                      episodes_anterieurs_12_mois: int = 0, acteur: str) -> str:
        """Open an episode of care for a protocol; returns its id."""
        if protocole not in self.moteur.protocoles:
            raise ErreurStockage(f"protocole « {protocole} » inconnu")
        eid = nouvel_id()
        with self._ecriture() as (s, chaine):
            if s.get(Patient, patient_id) is None:
                raise ErreurStockage("patient introuvable")
            s.add(Episode(id=eid, patient_id=patient_id, protocole=protocole, date_debut=date_debut,
                          prescription_medicale=prescription_medicale,
                          diagnostic_medical_prealable=diagnostic_medical_prealable,
                          antecedent_lombalgie=antecedent_lombalgie,
                          episodes_anterieurs_12_mois=episodes_anterieurs_12_mois, cree_le=self.horloge()))
            chaine.ajouter("creation_episode", acteur, details={"episode": eid, "patient": patient_id})
        return eid

    # -- triages -----------------------------------------------------------------------------------
    def creer_triage(self, *, episode_id: str, date_consultation: date, acteur: str) -> str:
        """Start a draft triage for an episode, prefilled from the structure, the patient and the episode."""
        tid = nouvel_id()
        maintenant = self.horloge()
        with self._ecriture() as (s, chaine):
            ep = s.get(Episode, episode_id)
            if ep is None:
                raise ErreurStockage("épisode introuvable")
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
            s.add(Triage(id=tid, episode_id=ep.id, version=1, statut=BROUILLON, date_consultation=date_consultation,
                         cas=cas, auteur=acteur, cree_le=maintenant, modifie_le=maintenant))
            chaine.ajouter("creation", acteur, tid)
        return tid

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

    def enregistrer_reponse(self, triage_id: str, question: str, valeur: Any, *, acteur: str,
                            etape: str | None = None) -> None:
        """Save one answer to a draft (one short transaction). ``None`` removes the answer."""
        self._ecrire_reponses(triage_id, {question: valeur}, acteur=acteur, etape=etape, remplacer=True)

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

    def modifier_brouillon(self, triage_id: str, champs: dict[str, Any], *, acteur: str,
                           etape: str | None = None, note: str | None = None) -> None:
        """Set case fields by dotted path (``cadre.medecin_joignable``, ``consentement.protocole``…)."""
        with self._ecriture() as (s, chaine):
            t = self._brouillon(s, triage_id)
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
            chaine.ajouter("modification", acteur, triage_id, details)

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

    @staticmethod
    def _compter(s: Session, episode_id: str, jour: date) -> tuple[int, int]:
        ep = s.get(Episode, episode_id)
        if ep is None:
            raise ErreurStockage("épisode introuvable")
        sur_episode = s.scalar(select(func.count()).select_from(Seance).where(
            Seance.episode_id == episode_id, Seance.date < jour)) or 0
        # Rules v2 (§8.1): the 12-month count is of the patient's other episodes of the same protocol.
        episodes = select(Episode.id).where(Episode.patient_id == ep.patient_id, Episode.protocole == ep.protocole,
                                            Episode.id != episode_id)
        sur_12_mois = s.scalar(select(func.count()).select_from(Seance).where(
            Seance.episode_id.in_(episodes), Seance.date < jour, Seance.date >= ajouter_mois(jour, -12))) or 0
        return int(sur_episode), int(sur_12_mois)

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
        realisees, sur_12_mois = self._compter(s, t.episode_id, jour)
        cas["episode"]["seances_realisees_episode"] = realisees
        cas["episode"]["seances_12_mois"] = sur_12_mois
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
            return {"patient": f"{pa.nom} {pa.prenom}", "nom": pa.nom, "prenom": pa.prenom,
                    "date_naissance": pa.date_naissance,
                    "protocole": ep.protocole, "date_debut": ep.date_debut, "episode_id": ep.id,
                    "patient_id": ep.patient_id, "version": t.version, "statut": t.statut}

    def evaluer(self, triage_id: str) -> Resultat:
        """Evaluate a triage as it stands (nothing is written)."""
        return self.moteur.evaluer(self.cas_effectif(triage_id))

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
            chaine.ajouter("finalisation", acteur, triage_id, {
                "contenu": audit.empreinte_contenu(t.cas, t.resultat), "version": t.version,
                "remplace": t.remplace_id, "empreinte_regles": resultat["empreinte_regles"]})
        return resultat

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

    # -- sessions ----------------------------------------------------------------------------------
    def enregistrer_seance(self, *, episode_id: str, jour: date, voie: str, acteur: str) -> int:
        """Record a treatment session; it feeds the counts of the next evaluations."""
        with self._ecriture() as (s, chaine):
            if s.get(Episode, episode_id) is None:
                raise ErreurStockage("épisode introuvable")
            seance = Seance(episode_id=episode_id, date=jour, voie=voie, cree_le=self.horloge())
            s.add(seance)
            s.flush()
            chaine.ajouter("seance", acteur, details={"episode": episode_id, "seance": seance.id})
            return seance.id

    # -- audit -------------------------------------------------------------------------------------
    def verifier_audit(self) -> audit.RapportAudit:
        """Check the whole audit chain and the finalised triages' content."""
        with self.sessions() as s:
            return audit.verifier(s)

    def journaliser(self, type_: str, *, acteur: str, triage_id: str | None = None,
                    details: dict[str, Any] | None = None) -> None:
        """Record an event with no other change (export of a summary, for instance)."""
        with self._ecriture() as (_, chaine):
            chaine.ajouter(type_, acteur, triage_id, details)

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

        The message never says whether the identifier exists. Every attempt is in the audit log.
        """
        identifiant = identifiant.strip().lower()
        maintenant = self.horloge()
        erreur: str | None = None
        with self._ecriture() as (s, chaine):
            compte = s.scalar(select(CompteTable).where(CompteTable.identifiant == identifiant))
            if compte is None or compte.source != "local" or not compte.actif:
                _verifier_empreinte(_EMPREINTE_FICTIVE, mot_de_passe)  # same cost: no timing oracle
                erreur = _REFUS
            elif compte.bloque_jusqu_a is not None and _utc(compte.bloque_jusqu_a) > maintenant:
                attente = int((_utc(compte.bloque_jusqu_a) - maintenant).total_seconds()) + 1
                erreur = f"trop d'essais : réessayer dans {attente} s"
            elif not _verifier_empreinte(compte.empreinte_mot_de_passe or _EMPREINTE_FICTIVE, mot_de_passe):
                compte.echecs += 1
                compte.bloque_jusqu_a = comptes.fin_blocage(compte.echecs, maintenant)
                erreur = _REFUS
            if erreur is not None:
                chaine.ajouter("connexion_echec", identifiant[:200], details={"motif": "refus"})
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

    def connecter_oidc(self, identifiant: str) -> comptes.Utilisateur:
        """A login confirmed by the identity provider: the account must exist (source oidc) and be active."""
        identifiant = identifiant.strip().lower()
        with self._ecriture() as (s, chaine):
            compte = s.scalar(select(CompteTable).where(CompteTable.identifiant == identifiant))
            if compte is None or compte.source != "oidc" or not compte.actif:
                chaine.ajouter("connexion_echec", identifiant[:200], details={"motif": "oidc_inconnu"})
                utilisateur = None
            else:
                compte.derniere_connexion = self.horloge()
                chaine.ajouter("connexion", identifiant, details={"source": "oidc"})
                utilisateur = comptes.Utilisateur(compte.identifiant, compte.nom, compte.role, compte.source)
        if utilisateur is None:
            raise comptes.ErreurConnexion("compte non autorisé : demander au coordinateur de créer ce compte")
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
                    "triages": [{"id": t.id, "version": t.version, "statut": t.statut, "remplace": t.remplace_id,
                                 "date_consultation": t.date_consultation.isoformat(), "cas": t.cas,
                                 "resultat": t.resultat, "note": t.note, "auteur": t.auteur,
                                 "cree_le": t.cree_le.isoformat(),
                                 "finalise_le": t.finalise_le.isoformat() if t.finalise_le else None}
                                for t in triages],
                    "seances": [{"date": se.date.isoformat(), "voie": se.voie} for se in seances],
                })
            donnees = {"patient": {"id": p.id, "nom": p.nom, "prenom": p.prenom,
                                   "date_naissance": p.date_naissance.isoformat(), "sexe": p.sexe,
                                   "couverture": p.couverture},
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
            s.execute(update(Triage).where(Triage.id.in_(triages)).values(remplace_id=None))
            s.execute(delete(Triage).where(Triage.id.in_(triages)))
            s.execute(delete(Episode).where(Episode.patient_id == patient_id))
            s.execute(delete(Patient).where(Patient.id == patient_id))
            chaine.ajouter("effacement", acteur, details={"patient": patient_id, "triages": sorted(triages)})

    # -- re-evaluation -----------------------------------------------------------------------------
    def reevaluer(self, processus: int = 1) -> list[Changement]:
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
            a, b = _resume(avant), _resume(apres)
            if a != b:
                changements.append(Changement(tid, a, b, avant.get("version_protocole"),
                                              apres.get("version_protocole"), tuple(_differences(a, b))))
        return changements


_IDENTIFIANT = re.compile(r"[a-z0-9._@-]{2,200}")
_REFUS = "identifiant ou mot de passe incorrect"


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
_CONTROLE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROLE_SAUF_LIGNES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _texte(champ: str, valeur: str, longueur: int, *, vide: bool = False, lignes: bool = False) -> str:
    """A text field as stored: no control character, within the column's length; French error naming it."""
    motif = _CONTROLE_SAUF_LIGNES if lignes else _CONTROLE
    if not isinstance(valeur, str) or motif.search(valeur):
        raise ErreurSaisie([Probleme(champ, "caractère de contrôle interdit")])
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
