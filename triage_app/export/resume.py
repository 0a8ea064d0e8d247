"""The summary for the médecin, as data: built once from a stored triage (by the documents service) or a case file,
rendered many ways.

Every renderer (PDF, plain text, FHIR, patient handout) reads a :class:`Resume`; none goes back to the
database or the engine, so the same triage gives the same facts in every format.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from triage_app import presentation as pr
from triage_app.engine.evaluation import Moteur
from triage_app.models.result import Resultat

if TYPE_CHECKING:
    from triage_app.models.identites import Identites
    from triage_app.models.interop import Interop

STATUTS = {"brouillon": "brouillon (non finalisé)", "final": "finalisé", "remplace": "remplacé par une version "
           "plus récente", "cas": "évaluation d’un fichier de cas (non enregistrée)"}


@dataclass(frozen=True)
class ReponseResume:
    """A question asked, with its answer in words."""

    id: str
    libelle: str
    reponse: str
    valeur: Any
    alerte: bool


@dataclass(frozen=True)
class GroupeResume:
    """The answers of one theme."""

    id: str
    libelle: str
    reponses: list[ReponseResume]


@dataclass(frozen=True)
class Resume:
    """Everything the médecin's summary says, in display form (French)."""

    triage_id: str | None
    version: int | None
    statut: str
    patient: str | None
    date_naissance: str
    age: int
    sexe: str | None
    date_consultation: str
    date_debut: str
    protocole_id: str
    protocole: str
    version_protocole: str
    empreinte_regles: str
    structure: str
    departement: str | None
    prescription_medicale: bool
    carte: pr.Carte
    groupes: list[GroupeResume]
    ottawa: str | None
    startback: str | None
    note: str | None
    auteur: str | None
    finalise_le: str | None
    genere_le: str
    resultat: Resultat
    cas: dict[str, Any] = field(repr=False)
    patient_nom: str | None = None
    patient_prenom: str | None = None
    genere_le_utc: str | None = None
    # Who the document is about, by and for (issue #14), in display form; the raw identities for CDA and FHIR.
    personnes: Personnes | None = None
    identites: Any = field(default=None, repr=False)
    finalise_le_utc: str | None = None
    # The kiné's texts for the médecin kept on the episode (issue #29), as (heading, text), those written only.
    textes_kine: list[dict[str, str]] = field(default_factory=list)
    # The patient's measures on the episode (issue #30): {"mesure": label, "texte": first → latest, change, reading}.
    mesures_patient: list[dict[str, str]] = field(default_factory=list)
    mesures_fhir: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def en_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (for the PDF template)."""
        donnees = asdict(self)
        for cle in ("cas", "resultat", "identites", "mesures_fhir"):
            donnees.pop(cle)
        return donnees


@dataclass(frozen=True)
class Personnes:
    """The summary's identities in words: the INS only for a qualified identity, the recipient, the signer."""

    identite: str
    ins: str | None
    traits: str | None
    destinataire: str | None
    auteur: str | None
    structure: str | None


def personnes(identites: Identites, interop: Interop) -> Personnes:
    """The identities of a triage as the summaries print them."""
    p = identites.patient
    ins = None
    if p.qualifiee and p.ins_genre:
        ins = f"{interop.identifiants[p.ins_genre].libelle} {p.ins[:13]} {p.ins[13:]}"  # type: ignore[index]
    traits = None
    if p.nom_naissance:
        traits = (f"nom de naissance {p.nom_naissance}, prénoms {p.prenoms_naissance or '—'}, "
                  f"lieu de naissance {p.lieu_naissance or '—'} (INSEE)")
    destinataire = None
    if p.medecin_nom:
        destinataire = "Dr " + p.medecin_nom + (f", RPPS {p.medecin_rpps}" if p.medecin_rpps else "") + (
            f", {p.medecin_mssante}" if p.medecin_mssante else "")
    auteur = None
    if (a := identites.auteur) is not None:
        profession = interop.professions[a.profession].libelle if a.profession in interop.professions else None
        auteur = ", ".join(x for x in (a.nom, profession, f"RPPS {a.rpps}" if a.rpps else None,
                                       f"ADELI {a.adeli}" if a.adeli and not a.rpps else None,
                                       f"tél. {a.telephone}" if a.telephone else None) if x)
    structure = None
    if (st := identites.structure) is not None:
        structure = ", ".join(x for x in (st.nom, f"FINESS {st.finess}" if st.finess else None,
                                          f"SIRET {st.siret}" if st.siret and not st.finess else None,
                                          " ".join(st.adresse.split()) if st.adresse else None,
                                          st.mssante, f"tél. {st.telephone}" if st.telephone else None) if x)
    return Personnes(identite=interop.statuts_identite[p.statut], ins=ins, traits=traits, destinataire=destinataire,
                     auteur=auteur, structure=structure)


def _ottawa(m: Moteur, resultat: Resultat, groupes: list[pr.VueGroupe]) -> str | None:
    if resultat["radiographie"]:
        return m.registre.commun.libelles.radiographie.get(resultat["radiographie"], resultat["radiographie"])
    protocole = m.protocoles[resultat["protocole"]].modele
    if protocole.ottawa is None:
        return None
    ottawa = {z.douleur for z in protocole.ottawa.zones} | {s for z in protocole.ottawa.zones for s in z.signes}
    poses = [q for g in groupes for q in g.questions if q.id in ottawa and q.reponse is not None]
    if not poses:
        return "Non appliquées (hors des conditions de la règle, ou réponses manquantes)"
    return "Négatives : pas d’indication de radiographie"


def construire(m: Moteur, cas: dict[str, Any], resultat: Resultat, *, triage_id: str | None = None,
               version: int | None = None, statut: str = "cas", patient: str | None = None,
               patient_nom: str | None = None, patient_prenom: str | None = None,
               structure_nom: str | None = None, note: str | None = None, auteur: str | None = None,
               finalise_le: datetime | None = None, genere_le: datetime) -> Resume:
    """The summary of a case and its result (``genere_le`` is passed in: nothing here reads the clock)."""
    commun = m.registre.commun
    protocole = m.protocoles[cas["protocole"]].modele
    vues = pr.groupes(protocole, cas.get("reponses", {}), resultat)
    groupes = [GroupeResume(g.id, g.libelle, [
        ReponseResume(q.id, q.libelle, pr.reponse_texte(q, "non renseigné"), q.reponse,
                      q.reponse is True and g.tout_non)
        for q in g.questions if q.reponse is not None or not g.facultatif])
        for g in vues]
    groupes = [g for g in groupes if g.reponses]
    cadre = cas.get("cadre", {})
    type_structure = commun.libelles.structures.get(cadre.get("structure", ""), cadre.get("structure", ""))
    episode = cas.get("episode", {})
    return Resume(
        triage_id=triage_id, version=version, statut=STATUTS.get(statut, statut), patient=patient,
        date_naissance=pr.date_fr(cas["patient"]["date_naissance"]), age=resultat["age"],
        sexe={"F": "femme", "M": "homme"}.get(cas["patient"].get("sexe") or ""),
        date_consultation=pr.date_fr(cas["date_consultation"]), date_debut=pr.date_fr(episode["date_debut"]),
        protocole_id=protocole.id, protocole=protocole.titre, version_protocole=resultat["version_protocole"],
        empreinte_regles=resultat["empreinte_regles"],
        structure=f"{structure_nom} — {type_structure}" if structure_nom else type_structure,
        departement=cadre.get("departement"), prescription_medicale=bool(episode.get("prescription_medicale")),
        carte=pr.carte(m, resultat, cas.get("reponses", {})), groupes=groupes, ottawa=_ottawa(m, resultat, vues),
        startback=(commun.libelles.risque_chronicite.get(resultat["risque_chronicite"])
                   if resultat["risque_chronicite"] else None),
        note=note, auteur=auteur,
        finalise_le=finalise_le.strftime("%d/%m/%Y à %H:%M") if finalise_le else None,
        genere_le=genere_le.strftime("%d/%m/%Y à %H:%M"), resultat=resultat, cas=cas,
        patient_nom=patient_nom, patient_prenom=patient_prenom,
        genere_le_utc=genere_le.astimezone(UTC).isoformat(timespec="seconds") if genere_le.tzinfo else None,
        # Stored in UTC; SQLite gives it back without its zone.
        finalise_le_utc=((finalise_le if finalise_le.tzinfo else finalise_le.replace(tzinfo=UTC))
                         .astimezone(UTC).isoformat(timespec="seconds") if finalise_le is not None else None))


def depuis_cas(m: Moteur, cas: dict[str, Any], genere_le: datetime) -> Resume:
    """The summary of a case file (no identity: the case format carries only the birth date)."""
    resultat = m.evaluer(cas)
    return construire(m, m.valider(cas).model_dump(mode="json"), resultat, genere_le=genere_le)


_SUR = re.compile(r"[^A-Za-z0-9_-]+")


def _partie_sure(texte: str, longueur: int) -> str:
    """Only letters, digits, ``_`` and ``-``: no separator, no dot, no control character can get through."""
    return _SUR.sub("", texte)[:longueur] or "x"


def nom_fichier(resume: Resume, extension: str, suffixe: str = "") -> str:
    """A safe file name: protocol, consultation date, opaque id — never the patient's name, never a path."""
    return nom_fichier_de(resume.protocole_id, resume.resultat["date_consultation"], resume.triage_id, extension,
                          suffixe)


def nom_fichier_de(protocole_id: str, date_consultation: str, triage_id: str | None, extension: str,
                   suffixe: str = "") -> str:
    """:func:`nom_fichier` from its parts (no summary needed: the page names its downloads on every run)."""
    jour = date.fromisoformat(date_consultation).isoformat()
    ident = _partie_sure(triage_id or "cas", 12)
    fin = _partie_sure(suffixe, 30) if suffixe else ""
    return f"triage_{_partie_sure(protocole_id, 60)}_{jour}_{ident}{fin}.{_partie_sure(extension, 8)}"
