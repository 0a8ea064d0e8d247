"""Triages: a draft started from the start form, answered one question at a time, corrected, finalised with its
result and rule version (immutable from then on), amended as a new version; the list of the structure's triages.

Evaluations go through the engine's one evaluation (:meth:`triage_app.engine.evaluation.Moteur.evaluer`), with the
session counts taken from the records, never asked of the kiné."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from triage_app.errors import ErreurCas, Probleme
from triage_app.models.episode_regles import EpisodeDeSoins
from triage_app.models.result import Resultat
from triage_app.services import actes, compteurs, saisie
from triage_app.services.base import Service
from triage_app.services.episode_etat import (
    ajouter_episode,
    clore,
    episode_a_continuer,
    lire_episode,
    prescriptions_recentes,
)
from triage_app.services.patients import PatientNouveau, PatientTrouve, ajouter_patient, homonymes
from triage_app.services.unite import ErreurStockage, nouvel_id, reessayable
from triage_app.storage import audit
from triage_app.storage.tables import (
    BROUILLON,
    CLOS,
    FINAL,
    OUVERT,
    REMPLACE,
    Episode,
    Patient,
    Seance,
    Structure,
    Triage,
)

# Case fields whose values are codes, not patient data: their old and new values are audited on a correction.
_CHAMPS_CODES = frozenset({"patient.couverture"})


@dataclass(frozen=True)
class Demarrage:
    """What « Commencer le triage » did: the draft started (and whether it joins an episode already open), or the
    recorded namesakes of a new patient, for the kiné to choose (then nothing was created)."""

    triage_id: str | None = None
    episode_id: str | None = None
    continue_episode: bool = False
    homonymes: tuple[PatientTrouve, ...] = ()


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
    provisoire: bool = False  # a draft: its orientation as it stands, not yet final (issue #29)


def ajouter_triage(s: Session, chaine: audit.Chaine, horloge: Callable[[], datetime], ep: Episode,
                   date_consultation: date, acteur: str) -> Triage:
    """A new draft for an episode, prefilled from the structure, the patient and the episode."""
    maintenant = horloge()
    st = s.get(Structure, 1)
    cas = {
        "protocole": ep.protocole,
        "date_consultation": date_consultation.isoformat(),
        "patient": {"date_naissance": ep.patient.date_naissance.isoformat(), "sexe": ep.patient.sexe,
                    "couverture": ep.patient.couverture},
        "cadre": _cadre(st, ep.protocole),
        "consentement": {"protocole": False, "partage_dmp": False},
        "episode": _episode(ep),
        "reponses": {},
    }
    t = Triage(id=nouvel_id(), episode_id=ep.id, version=1, statut=BROUILLON, date_consultation=date_consultation,
               cas=cas, auteur=acteur, cree_le=maintenant, modifie_le=maintenant)
    s.add(t)
    chaine.ajouter("creation", acteur, t.id)
    return t


def _cadre(st: Structure | None, protocole: str) -> dict[str, Any]:
    """The case's setting as the structure describes it (the cooperation questions unanswered)."""
    if st is None:
        return {"structure": "cabinet"}
    return {"structure": st.type, "protocole_autorise": protocole in st.protocoles_appliques,
            "departement": st.departement, "inscrit_experimentation_cpts": st.inscrit_experimentation_cpts,
            "medecin_delegant_est_medecin_traitant": False, "medecin_joignable": False}


def _episode(ep: Episode) -> dict[str, Any]:
    """The case's episode fields as the episode holds them."""
    return {"date_debut": ep.date_debut.isoformat(), "prescription_medicale": ep.prescription_medicale,
            "diagnostic_medical_prealable": ep.diagnostic_medical_prealable,
            "antecedent_lombalgie": ep.antecedent_lombalgie,
            "episodes_anterieurs_12_mois": ep.episodes_anterieurs_12_mois,
            "seances_realisees_episode": 0, "seances_12_mois": 0}


def brouillon(s: Session, triage_id: str) -> Triage:
    """The draft, refused when finalised (a finalised triage changes only by a new version)."""
    t = s.get(Triage, triage_id)
    if t is None:
        raise ErreurStockage("triage introuvable")
    if t.statut != BROUILLON:
        raise ErreurStockage("ce triage est finalisé : le modifier crée une nouvelle version (amender)")
    return t


def cas_effectif(s: Session, t: Triage, regles: EpisodeDeSoins) -> dict[str, Any]:
    """The triage's case with the session counts taken from the records (rules v3, §9: one place for the counts)."""
    cas = copy.deepcopy(t.cas)
    jour = date.fromisoformat(cas["date_consultation"])
    c = compteurs.lire(s, regles, lire_episode(s, t.episode_id), jour, inclus=False)
    cas["episode"].update(compteurs.champs_cas(c))
    return cas


def modifier(chaine: audit.Chaine, horloge: Callable[[], datetime], t: Triage, champs: dict[str, Any], acteur: str,
             etape: str | None = None, note: str | None = None,
             valider: Callable[[dict[str, Any]], Any] | None = None) -> None:
    """Set case fields of a draft by dotted path; one audit event names them (values only for yes/no and codes).

    ``valider`` (the engine's case check) refuses, in French and before anything is stored or audited, a value
    outside what the case format allows (a crafted cover, a 5 kB text in a coded field: issue #28)."""
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
    if valider is not None:
        valider(cas)
    t.cas = cas
    if "date_consultation" in champs:
        t.date_consultation = date.fromisoformat(str(champs["date_consultation"]))
    if etape is not None:
        t.etape = etape
    if note is not None:
        t.note = saisie.texte("note", note, saisie.LONGUEUR_NOTE, vide=True, lignes=True)
    t.modifie_le = horloge()
    details: dict[str, Any] = {"champs": sorted(champs)}
    if valeurs:
        details["valeurs"] = valeurs
    chaine.ajouter("modification", acteur, t.id, details)

class ServiceTriages(Service):
    """Triages: drafts, answers, finalisation, versions, the list."""

    def creer_triage(self, *, episode_id: str, date_consultation: date, acteur: str) -> str:
        """Start a draft triage for an episode, prefilled from the structure, the patient and the episode."""
        with self.uow.ecriture() as (s, chaine):
            return ajouter_triage(s, chaine, self.horloge, lire_episode(s, episode_id), date_consultation, acteur).id

    def demarrer_triage(self, *, protocole: str, date_debut: date, date_consultation: date,
                        patient_id: str | None = None, nouveau_patient: PatientNouveau | None = None,
                        prescription_medicale: bool = False, diagnostic_medical_prealable: bool = False,
                        antecedent_lombalgie: bool = False, champs: dict[str, Any] | None = None,
                        sauf_homonymes: bool = False, acteur: str) -> Demarrage:
        """« Commencer le triage »: in one transaction, the patient (``nouveau_patient``, or the one found:
        ``patient_id``), their open episode of this protocol or a new one, and the draft with the start form's other
        fields (``champs``, as :meth:`modifier_brouillon` takes them). The same records and audit events as those
        four calls, in one short write instead of four.

        With ``sauf_homonymes``, a new patient is first looked for among the recorded ones of the same name and
        birth date (audited as :meth:`ServicePatients.doublons_probables` is): when there are some, nothing else is
        written and they are returned, for the kiné to choose."""
        self.protocole_connu(protocole)
        if (patient_id is None) == (nouveau_patient is None):
            raise ErreurStockage("un patient trouvé ou un nouveau patient, l’un des deux")
        if nouveau_patient is not None:
            nouveau_patient.verifier()
        with self.uow.ecriture() as (s, chaine):
            if nouveau_patient is not None and sauf_homonymes:
                deja = homonymes(s, nouveau_patient.nom, nouveau_patient.date_naissance)
                chaine.ajouter("recherche_doublon", acteur, details={"resultats": len(deja)})
                if deja:
                    return Demarrage(homonymes=tuple(deja))
            if nouveau_patient is not None:
                patient_id = ajouter_patient(s, chaine, self.horloge, nouveau_patient, acteur)
            assert patient_id is not None
            eid = episode_a_continuer(s, chaine, self.regles_episode, patient_id=patient_id, protocole=protocole,
                                      date_debut=date_debut, jour=date_consultation, acteur=acteur)
            continue_ = eid is not None
            if eid is None:
                propose = nouveau_patient is None and protocole in prescriptions_recentes(
                    s, self.regles_episode, patient_id, date_consultation)
                eid = ajouter_episode(s, chaine, self.horloge, patient_id=patient_id, protocole=protocole,
                                      date_debut=date_debut, prescription_medicale=prescription_medicale,
                                      diagnostic_medical_prealable=diagnostic_medical_prealable,
                                      antecedent_lombalgie=antecedent_lombalgie, episodes_anterieurs_12_mois=0,
                                      acteur=acteur, diagnostic_propose=propose)
                s.flush()
            t = ajouter_triage(s, chaine, self.horloge, lire_episode(s, eid), date_consultation, acteur)
            if champs:
                modifier(chaine, self.horloge, t, champs, acteur, valider=self.moteur.valider)
            return Demarrage(t.id, eid, continue_)

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
        with self.uow.ecriture() as (s, chaine):
            t = brouillon(s, triage_id)
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
        with self.uow.ecriture() as (s, chaine):
            modifier(chaine, self.horloge, brouillon(s, triage_id), champs, acteur, etape, note, self.moteur.valider)

    @reessayable
    def enregistrer_note(self, triage_id: str, note: str, *, acteur: str) -> None:
        """Save the draft's note for the médecin as it is typed (the page sends it debounced). The audit records
        that the note changed and its length, never its text (the journal holds no patient data)."""
        with self.uow.ecriture() as (s, chaine):
            t = brouillon(s, triage_id)
            texte = saisie.texte("note", note, saisie.LONGUEUR_NOTE, vide=True, lignes=True) or None
            if (t.note or None) == texte:
                return
            t.note = texte
            t.modifie_le = self.horloge()
            chaine.ajouter("note", acteur, triage_id, {"longueur": len(texte or "")})

    def charger(self, triage_id: str) -> Triage:
        """A triage by its opaque id (detached copy)."""
        with self.uow.lecture() as s:
            t = s.get(Triage, triage_id)
            if t is None:
                raise ErreurStockage("triage introuvable")
            return t

    def cas_effectif(self, triage_id: str) -> dict[str, Any]:
        """The draft's case with the session counts taken from the records."""
        with self.uow.lecture() as s:
            t = s.get(Triage, triage_id)
            if t is None:
                raise ErreurStockage("triage introuvable")
            return cas_effectif(s, t, self.regles_episode)

    def entete(self, triage_id: str) -> dict[str, Any]:
        """Who and what a triage is about, for the page's header (patient name, birth date, episode)."""
        return self.charger_entete(triage_id)[1]

    def charger_entete(self, triage_id: str) -> tuple[Triage, dict[str, Any]]:
        """A triage and its header (:meth:`entete`), in one read (the triage's page needs both on each run)."""
        with self.uow.lecture() as s:
            t = s.get(Triage, triage_id)
            if t is None:
                raise ErreurStockage("triage introuvable")
            return t, self._entete(s, t)

    @staticmethod
    def _entete(s: Session, t: Triage) -> dict[str, Any]:
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
        with self.uow.lecture() as s:
            t = s.get(Triage, triage_id)
            if t is None:
                raise ErreurStockage("triage introuvable")
            return t, self.moteur.evaluer(cas_effectif(s, t, self.regles_episode))

    @reessayable
    def finaliser(self, triage_id: str, *, acteur: str, note: str | None = None) -> Resultat:
        """Evaluate and freeze a draft with its result, rule version and fingerprint; an amended one replaces."""
        with self.uow.ecriture() as (s, chaine):
            t = brouillon(s, triage_id)
            cas = cas_effectif(s, t, self.regles_episode)
            resultat = self.moteur.evaluer(cas)
            if resultat["orientation"] is None:
                manquantes = ", ".join(resultat["questions_manquantes"])
                raise ErreurStockage(f"triage incomplet : pas d'orientation sans réponse à {manquantes}")
            t.cas, t.resultat = cas, dict(resultat)
            t.orientation = resultat["orientation"]
            t.version_protocole, t.empreinte_regles = resultat["version_protocole"], resultat["empreinte_regles"]
            if note is not None:
                t.note = saisie.texte("note", note, saisie.LONGUEUR_NOTE, vide=True, lignes=True)
            t.statut, t.finalise_le = FINAL, self.horloge()
            if t.remplace_id:
                s.execute(update(Triage).where(Triage.id == t.remplace_id).values(statut=REMPLACE))
                chaine.toucher("triages", t.remplace_id)
            s.flush()
            chaine.ajouter("finalisation", acteur, triage_id, {
                "contenu": audit.empreinte_contenu(t.cas, t.resultat), "triage": audit.empreinte_triage(t),
                "version": t.version, "remplace": t.remplace_id, "empreinte_regles": resultat["empreinte_regles"]})
            self._suite_du_triage(s, chaine, t, resultat, acteur)
        return resultat

    def _suite_du_triage(self, s: Session, chaine: audit.Chaine, t: Triage, resultat: Resultat, acteur: str) -> None:
        """A final triage sending the patient to the emergency department, or past the accès direct cap, closes
        the episode with that reason; a new version that no longer does reopens the episode it had closed. A triage
        oriented to the protocol records its consultation 1 (once per episode, rules v3 §9.7)."""
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
            clore(chaine, self.regles_episode, ep, motif, jour, acteur)
        elif motif is None and ep.statut == CLOS and t.remplace_id and ep.motif_cloture in (
                "urgences", regles.motif_cloture_plafond) and ep.date_cloture == jour:
            ep.statut, ep.motif_cloture, ep.date_cloture = OUVERT, None, None
            chaine.ajouter("reouverture_episode", acteur, t.id, {"episode": ep.id})
        if ep.statut == OUVERT and resultat["orientation"] is not None:  # rules v3 (§9.7): consultation 1
            actes.acte_de_finalisation(s, chaine, self.moteur, self.horloge, ep=ep, orientation=resultat["orientation"],
                                       jour=jour, acteur=acteur)

    def amender(self, triage_id: str, *, acteur: str) -> str:
        """Start a new version (draft) of a final triage; the old one stays readable, unchanged."""
        nid = nouvel_id()
        maintenant = self.horloge()
        with self.uow.ecriture() as (s, chaine):
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
        with self.uow.lecture() as s:
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
        if recherche and saisie.CONTROLE.search(recherche):
            return []  # no name holds a control character: such a search matches nobody (never « everybody »)
        recherche = (recherche or "").strip()
        if recherche:
            motif = "%" + saisie.echapper_like(recherche[:200].lower()) + "%"
            requete = requete.where(func.lower(Patient.nom + " " + Patient.prenom).like(motif, escape="\\")
                                    | func.lower(Patient.prenom + " " + Patient.nom).like(motif, escape="\\"))
        with self.uow.lecture() as s:
            lignes = [LigneTriage(r.id, r.date_consultation, r.protocole, r.orientation, r.statut, r.version,
                                  f"{r.nom} {r.prenom}", r.cree_le) for r in s.execute(requete)]
            brouillons = [lt.id for lt in lignes if lt.statut == BROUILLON]
            if not brouillons:
                return lignes
            # A draft says what its card says: its orientation as it stands, marked provisional (issue #29).
            provisoires = {t.id: self._orientation_provisoire(t)
                           for t in s.scalars(select(Triage).where(Triage.id.in_(brouillons)))}
        return [replace(lt, orientation=provisoires.get(lt.id), provisoire=True) if lt.id in provisoires else lt
                for lt in lignes]

    def _orientation_provisoire(self, t: Triage) -> str | None:
        """The draft's orientation from its case as saved (the episode's counters as they were when it started:
        provisional anyway, and no more reads per row)."""
        try:
            return self.moteur.evaluer(t.cas)["orientation"]
        except ErreurCas:  # a draft the rules cannot read yet: no orientation to show
            return None
