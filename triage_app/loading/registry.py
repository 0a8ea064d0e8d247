"""Load ``protocols/`` once: sources, shared vocabulary, dated parameters and protocols, all cross-checked.

Everything is refused at load time with a French message naming the file, the YAML path (and line)
and what was expected; the engine only ever sees validated, frozen models.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel

from triage_app.errors import ErreurChargement, ParametreIntrouvable, Probleme
from triage_app.loading.controle import Controle as _Controle
from triage_app.loading.controle import valider as _valider
from triage_app.loading.mesures import charger_mesures
from triage_app.loading.yaml_strict import lire_yaml
from triage_app.models.base import Couverture
from triage_app.models.interop import Interop
from triage_app.models.mesures import ParametresMesures
from triage_app.models.parameters import Parametre, ValeurDatee
from triage_app.models.protocol import Commun, FichierSources, Protocole, Source
from triage_app.models.rapport_ars import ParametresRapport

M = TypeVar("M", bound=BaseModel)

DOSSIER_PROTOCOLES = Path(__file__).resolve().parents[2] / "protocols"
FICHIERS_COMMUNS = {"sources.yaml", "commun.yaml", "interoperabilite.yaml", "rapport.yaml", "mesures.yaml"}


@dataclass(frozen=True)
class ParametreDate:
    """A validated parameter: values in force sorted by date, announcements kept apart."""

    id: str
    modele: Parametre
    dates: tuple[date, ...]
    valeurs: tuple[ValeurDatee, ...]
    annonces: tuple[tuple[date, ValeurDatee], ...]

    def entree_au(self, jour: date) -> ValeurDatee:
        """The entry in force at ``jour``; :class:`ParametreIntrouvable` before the first date."""
        i = bisect_right(self.dates, jour)
        if i == 0:
            raise ParametreIntrouvable(self.id, jour.isoformat())
        return self.valeurs[i - 1]

    def valeur_au(self, jour: date) -> Any:
        """The value in force at ``jour`` (``None`` when explicitly not fixed from that date)."""
        return self.entree_au(jour).valeur

    def annonces_apres(self, jour: date) -> list[tuple[date, ValeurDatee]]:
        """Announced (``attendu``) values dated after ``jour``: shown, never applied."""
        return [(d, v) for d, v in self.annonces if d > jour]


@dataclass(frozen=True)
class Registre:
    """Everything loaded from ``protocols/``, validated and fingerprinted."""

    dossier: Path
    sources: dict[str, Source]
    commun: Commun
    parametres: dict[str, ParametreDate]
    protocoles: dict[str, Protocole]
    empreintes: dict[str, str] = field(default_factory=dict)
    interop: Interop | None = None  # identifiers and codes of the exports: not rules, outside the fingerprints
    rapport: ParametresRapport | None = None  # masking and classes of the ARS report: outside the fingerprints
    mesures: ParametresMesures | None = None  # what the patient reports (issue #30): outside the fingerprints

    def parametre(self, pid: str) -> ParametreDate:
        """A parameter by id (``ngap.lettre_cle_metropole``)."""
        return self.parametres[pid]


@dataclass(frozen=True)
class Vocabulaire:
    """What the rules may name, given by the engine that runs them (loading does not import the engine): the
    conditions (allow-listed predicates) and the stages, each with the thresholds (``seuils``) it needs."""

    conditions: Mapping[str, tuple[str, ...]]
    etapes: Mapping[str, tuple[str, ...]]


def charger_sources(chemin: Path, nom: str = "sources.yaml") -> dict[str, Source]:
    """Read the source catalogue; ids must be unique."""
    doc = lire_yaml(chemin, nom)
    fichier = _valider(FichierSources, doc, nom)
    ctl = _Controle(nom, doc)
    vues: dict[str, int] = {}
    for i, s in enumerate(fichier.sources):
        if s.id in vues:
            ctl.erreur(f"sources[{i}].id", f"identifiant « {s.id} » déjà utilisé (sources[{vues[s.id]}])")
        vues.setdefault(s.id, i)
    ctl.lever()
    return {s.id: s for s in fichier.sources}


def charger_parametre(chemin: Path, pid: str, nom: str, sources: dict[str, Source]) -> ParametreDate:
    """Read one dated parameter; dates strictly increasing, each citing a known source."""
    doc = lire_yaml(chemin, nom)
    modele = _valider(Parametre, doc, nom)
    ctl = _Controle(nom, doc)
    precedente: date | None = None
    dates: list[date] = []
    valeurs: list[ValeurDatee] = []
    annonces: list[tuple[date, ValeurDatee]] = []
    for cle, entree in modele.valeurs.items():
        chemin_cle = f"valeurs.{cle}"
        try:
            jour = date.fromisoformat(cle)
            if len(cle) != 10:
                raise ValueError(cle)
        except ValueError:
            ctl.erreur(chemin_cle, f"date d'effet « {cle} » invalide : attendu AAAA-MM-JJ entre guillemets")
            continue
        if precedente is not None and jour <= precedente:
            quoi = "en double" if jour == precedente else "dans le désordre"
            ctl.erreur(chemin_cle, f"date d'effet {cle} {quoi} : les dates doivent être strictement "
                       f"croissantes (la précédente est {precedente.isoformat()})")
        precedente = jour
        ctl.dans(entree.reference, sources, f"{chemin_cle}.reference", "source")
        if entree.attendu:
            annonces.append((jour, entree))
        else:
            if annonces:
                ctl.erreur(chemin_cle, "une valeur en vigueur ne peut suivre une valeur « attendu » : "
                           "passer l'annonce en vigueur (attendu: false) ou la retirer")
            dates.append(jour)
            valeurs.append(entree)
    if not dates:
        ctl.erreur("valeurs", "aucune valeur en vigueur : attendu au moins une date sans « attendu »")
    ctl.lever()
    return ParametreDate(pid, modele, tuple(dates), tuple(valeurs), tuple(annonces))


def charger_parametres(dossier: Path, sources: dict[str, Source]) -> dict[str, ParametreDate]:
    """Read every ``*.yaml`` below ``dossier``; the id is the relative path with dots."""
    out: dict[str, ParametreDate] = {}
    for chemin in sorted(dossier.rglob("*.yaml")):
        rel = chemin.relative_to(dossier).with_suffix("")
        pid = ".".join(rel.parts)
        out[pid] = charger_parametre(chemin, pid, f"parameters/{rel.as_posix()}.yaml", sources)
    return out


def charger_commun(chemin: Path, sources: dict[str, Source], parametres: dict[str, ParametreDate],
                   nom: str = "commun.yaml", *, vocabulaire: Vocabulaire) -> Commun:
    """Read the shared vocabulary and check every parameter, source and condition it names."""
    conditions = vocabulaire.conditions
    doc = lire_yaml(chemin, nom)
    commun = _valider(Commun, doc, nom)
    ctl = _Controle(nom, doc)
    for i, m in enumerate(commun.motifs):
        ctl.dans(m.source, sources, f"motifs[{i}].source", "source")
    for i, r in enumerate(commun.regles_voie):
        ctl.dans(r.source, sources, f"regles_voie[{i}].source", "source")
        if r.condition is not None:
            ctl.dans(r.condition, conditions, f"regles_voie[{i}].condition", "condition")
    if commun.regles_voie[-1].orientations is not None or commun.regles_voie[-1].condition is not None:
        ctl.erreur(f"regles_voie[{len(commun.regles_voie) - 1}]",
                   "la dernière règle de voie doit s'appliquer toujours (sans orientations ni condition)")
    orientations = [o.id for o in commun.orientations]
    for o in ("urgences", "medecin_jour", "sur_prescription", "protocole", "acces_direct", "medecin_programme"):
        if o not in orientations:
            ctl.erreur("orientations", f"orientation « {o} » manquante (attendue avec son libellé)")
    refs = {
        "protocole_en_vigueur": commun.protocole_en_vigueur,
        "acces_direct.structures": commun.acces_direct.structures,
        "acces_direct.cpts_departements": commun.acces_direct.cpts_departements,
        "acces_direct.plafond_sans_diagnostic": commun.acces_direct.plafond_sans_diagnostic,
        "facturation.lettre_cle": commun.facturation.lettre_cle,
        "facturation.lettre_cle_drom": commun.facturation.lettre_cle_drom,
        "facturation.departements_drom": commun.facturation.departements_drom,
        **{f"facturation.taux_remboursement.{c}": pid for c, pid in commun.facturation.taux_remboursement.items()},
        "facturation.franchise.montant": commun.facturation.franchise.montant,
        "facturation.franchise.plafond_jour": commun.facturation.franchise.plafond_jour,
        "facturation.seuil_devis": commun.facturation.seuil_devis,
        "facturation.bdk.coefficient": commun.facturation.bdk.coefficient,
    }
    for chemin_yaml, pid in refs.items():
        ctl.dans(pid, parametres, chemin_yaml, "paramètre")
    for couverture in get_args(Couverture):
        if couverture not in commun.facturation.taux_remboursement:
            ctl.erreur("facturation.taux_remboursement", f"couverture « {couverture} » sans taux de remboursement")
    ctl.dans(commun.facturation.franchise.source, sources, "facturation.franchise.source", "source")
    ctl.dans(commun.criteres_non_remplis_si, conditions, "criteres_non_remplis_si", "condition")
    ctl.lever()
    return commun


def _controler_protocole(p: Protocole, ctl: _Controle, sources: dict[str, Source], commun: Commun,
                         parametres: dict[str, ParametreDate], vocabulaire: Vocabulaire) -> None:
    conditions, etapes = vocabulaire.conditions, vocabulaire.etapes

    def source(valeur: str, chemin: str) -> None:
        ctl.dans(valeur, sources, chemin, "source")

    def predicat(nom: str, chemin: str) -> None:
        ctl.dans(nom, conditions, chemin, "condition")
        if nom in conditions:
            for s in conditions[nom]:
                if s not in p.seuils:
                    ctl.erreur(chemin, f"la condition « {nom} » a besoin du seuil « {s} », absent de « seuils »")

    for i, s in enumerate(p.sources):
        source(s, f"sources[{i}]")
    for nom, seuil in p.seuils.items():
        source(seuil.source, f"seuils.{nom}.source")
    groupes = [g.id for g in p.groupes]
    ids: dict[str, str] = {}
    questions = {}
    for i, q in enumerate(p.questions):
        chemin = f"questions[{i}]"
        if q.id in ids:
            ctl.erreur(f"{chemin}.id", f"identifiant de question « {q.id} » déjà utilisé ({ids[q.id]})")
        ids.setdefault(q.id, chemin)
        questions[q.id] = q
        ctl.dans(q.groupe, groupes, f"{chemin}.groupe", "groupe")
        source(q.source, f"{chemin}.source")
    criteres_par_question: dict[str, str] = {}
    crit_ids: dict[str, str] = {}
    for i, c in enumerate(p.criteres):
        chemin = f"criteres[{i}]"
        if c.id in crit_ids:
            ctl.erreur(f"{chemin}.id", f"identifiant de critère « {c.id} » déjà utilisé ({crit_ids[c.id]})")
        crit_ids.setdefault(c.id, chemin)
        source(c.source, f"{chemin}.source")
        if c.question is not None:
            ctl.dans(c.question, questions, f"{chemin}.question", "question")
            q = questions.get(c.question)
            if q is not None:
                criteres_par_question[q.id] = c.niveau
                if q.type != "booleen":
                    ctl.erreur(f"{chemin}.question", f"la question « {q.id} » doit être de type booleen")
                if q.niveau != c.niveau:
                    ctl.erreur(f"{chemin}.niveau", f"niveau « {c.niveau} » différent de celui de la question "
                               f"« {q.id} » (« {q.niveau} »)")
        if c.condition is not None:
            predicat(c.condition, f"{chemin}.condition")
    for i, q in enumerate(p.questions):
        if q.niveau in ("urgences", "medecin_jour") and q.id not in criteres_par_question:
            ctl.erreur(f"questions[{i}].niveau", f"la question « {q.id} » est de niveau « {q.niveau} » mais "
                       "aucun critère ne la cite")
    for section in ("conseils", "revenir_si"):
        for i, c in enumerate(getattr(p.conseils_patient, section)):
            source(c.source, f"conseils_patient.{section}[{i}].source")
    for i, ms in enumerate(p.motifs_supplementaires):
        ctl.dans(ms.critere, crit_ids, f"motifs_supplementaires[{i}].critere", "critère")
        predicat(ms.condition, f"motifs_supplementaires[{i}].condition")
        source(ms.source, f"motifs_supplementaires[{i}].source")
    for section in ("eligibilite", "avis_medical", "conseils_kine"):
        for i, r in enumerate(getattr(p, section)):
            predicat(r.condition, f"{section}[{i}].condition")
            source(r.source, f"{section}[{i}].source")
    for i, pr in enumerate(p.prescriptions):
        source(pr.source, f"prescriptions[{i}].source")
        if pr.condition is not None:
            predicat(pr.condition, f"prescriptions[{i}].condition")
    for nom in ("duree", "recidive", "ottawa", "score_chronicite"):
        bloc = getattr(p, nom)
        if bloc is not None:
            source(bloc.source, f"{nom}.source")
    if p.duree is not None:
        for champ in ("aigue_moins_de_jours", "chronique_des_mois"):
            ctl.dans(getattr(p.duree, champ), p.seuils, f"duree.{champ}", "seuil")
    if p.recidive is not None:
        ctl.dans(p.recidive.episodes_min, p.seuils, "recidive.episodes_min", "seuil")
    if p.ottawa is not None:
        ctl.dans(p.ottawa.fenetre_jours, p.seuils, "ottawa.fenetre_jours", "seuil")
        for i, qid in enumerate(p.ottawa.non_applicable_si):
            ctl.dans(qid, questions, f"ottawa.non_applicable_si[{i}]", "question")
        for i, z in enumerate(p.ottawa.zones):
            ctl.dans(z.douleur, questions, f"ottawa.zones[{i}].douleur", "question")
            for j, qid in enumerate(z.signes):
                ctl.dans(qid, questions, f"ottawa.zones[{i}].signes[{j}]", "question")
    if p.score_chronicite is not None:
        for i, it in enumerate(p.score_chronicite.items):
            ctl.dans(it.question, questions, f"score_chronicite.items[{i}].question", "question")
        for i, qid in enumerate(p.score_chronicite.sous_score):
            ctl.dans(qid, questions, f"score_chronicite.sous_score[{i}]", "question")
    ottawa_ids = set()
    if p.ottawa is not None:
        for z in p.ottawa.zones:
            ottawa_ids.add(z.douleur)
            ottawa_ids.update(z.signes)
    for i, q in enumerate(p.questions):
        if q.requis == "conditionnel" and q.id not in ottawa_ids:
            ctl.erreur(f"questions[{i}].requis", f"« conditionnel » n'est permis que pour les questions des "
                       f"règles d'Ottawa ; « {q.id} » n'en fait pas partie")
    fac = p.facturation
    for i, f in enumerate(fac.forfaits):
        ctl.dans(f.parametre, parametres, f"facturation.forfaits[{i}].parametre", "paramètre")
    ctl.dans(fac.code_seance, parametres, "facturation.code_seance", "paramètre")
    ctl.dans(fac.coefficient_seance, parametres, "facturation.coefficient_seance", "paramètre")

    # States and transitions: the machine's graph.
    etats: dict[str, str] = {}
    motifs = {m.id for m in commun.motifs}
    for i, e in enumerate(p.etats):
        chemin = f"etats[{i}]"
        if e.id in etats:
            ctl.erreur(f"{chemin}.id", f"identifiant d'état « {e.id} » déjà utilisé ({etats[e.id]})")
        etats.setdefault(e.id, chemin)
        ctl.dans(e.etape, etapes, f"{chemin}.etape", "étape")
        if e.motif is not None:
            ctl.dans(e.motif, motifs, f"{chemin}.motif", "motif")
        if e.etape == "criteres" and e.niveau is None:
            ctl.erreur(f"{chemin}.niveau", "une étape « criteres » précise son niveau (urgences ou medecin_jour)")
        for s in etapes.get(e.etape, ()):
            if s not in p.seuils:
                ctl.erreur(f"{chemin}.etape", f"l'étape « {e.etape} » a besoin du seuil « {s} », absent de « seuils »")
    ctl.dans(p.etat_initial, etats, "etat_initial", "état")
    sorties: dict[str, list[str]] = {e: [] for e in etats}
    declencheurs: dict[str, str] = {}
    t_ids: dict[str, str] = {}
    for i, t in enumerate(p.transitions):
        chemin = f"transitions[{i}]"
        if t.id in t_ids:
            ctl.erreur(f"{chemin}.id", f"identifiant de transition « {t.id} » déjà utilisé ({t_ids[t.id]})")
        t_ids.setdefault(t.id, chemin)
        ctl.dans(t.depuis, etats, f"{chemin}.depuis", "état")
        ctl.dans(t.vers, etats, f"{chemin}.vers", "état")
        source(t.source, f"{chemin}.source")
        for j, c in enumerate(t.conditions):
            predicat(c, f"{chemin}.conditions[{j}]")
        for j, c in enumerate(t.sauf):
            predicat(c, f"{chemin}.sauf[{j}]")
        if t.depuis in etats:
            if p.etats[_index(p, t.depuis)].final:
                ctl.erreur(f"{chemin}.depuis", f"aucune transition ne part d'un état final (« {t.depuis} »)")
            prec = declencheurs.setdefault(t.depuis, t.declencheur)
            if prec != t.declencheur:
                ctl.erreur(f"{chemin}.declencheur", f"toutes les transitions depuis « {t.depuis} » ont le même "
                           f"déclencheur (« {prec} »)")
            if t.vers in etats:
                sorties[t.depuis].append(t.vers)
    if ctl.problemes:
        return
    for i, e in enumerate(p.etats):
        if e.final:
            continue
        dernieres = [t for t in p.transitions if t.depuis == e.id]
        if not dernieres:
            ctl.erreur(f"etats[{i}]", f"impasse : l'état « {e.id} » n'est pas final et aucune transition n'en part")
        elif dernieres[-1].conditions or dernieres[-1].sauf:
            ctl.erreur(f"etats[{i}]", f"impasse possible : la dernière transition depuis « {e.id} » doit être "
                       "sans condition, pour que le parcours aboutisse toujours")
    atteints = {p.etat_initial}
    pile = [p.etat_initial]
    while pile:
        for suivant in sorties[pile.pop()]:
            if suivant not in atteints:
                atteints.add(suivant)
                pile.append(suivant)
    for i, e in enumerate(p.etats):
        if e.id not in atteints:
            ctl.erreur(f"etats[{i}]", f"état « {e.id} » inatteignable depuis « {p.etat_initial} »")


def _index(p: Protocole, etat: str) -> int:
    return next(i for i, e in enumerate(p.etats) if e.id == etat)


def charger_protocole(chemin: Path, sources: dict[str, Source], commun: Commun,
                      parametres: dict[str, ParametreDate], nom: str | None = None, *,
                      vocabulaire: Vocabulaire) -> Protocole:
    """Read one protocol file and check all its cross-references and its graph."""
    nom = nom or chemin.name
    doc = lire_yaml(chemin, nom)
    p = _valider(Protocole, doc, nom)
    ctl = _Controle(nom, doc)
    if p.id != chemin.stem:
        ctl.erreur("id", f"l'identifiant « {p.id} » doit être le nom du fichier (« {chemin.stem} »)")
    _controler_protocole(p, ctl, sources, commun, parametres, vocabulaire)
    ctl.lever()
    return p


def _empreinte(*morceaux: Any) -> str:
    texte = json.dumps(morceaux, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(texte.encode("utf-8")).hexdigest()


def charger_interop(chemin: Path, nom: str = "interoperabilite.yaml") -> Interop:
    """Read the identifiers and codes of French health IT; every item cites one of the file's own sources."""
    doc = lire_yaml(chemin, nom)
    interop = _valider(Interop, doc, nom)
    ctl = _Controle(nom, doc)
    sources = {s.id: s for s in interop.sources}
    for genre, ident in interop.identifiants.items():
        ctl.dans(ident.source, sources, f"identifiants.{genre}.source", "source")
    for partie in ("cda", "fhir", "pro_sante_connect"):
        ctl.dans(getattr(interop, partie).source, sources, f"{partie}.source", "source")
    for genre in interop.fhir.types_identifiants:
        ctl.dans(genre, interop.identifiants, f"fhir.types_identifiants.{genre}", "identifiant")
    ctl.lever()
    return interop


def charger_rapport(chemin: Path, nom: str = "rapport.yaml") -> ParametresRapport:
    """Read the ARS report's parameters: each cites one of the file's own sources, and each distribution's classes
    start at 0, follow one another without gap or overlap and end with an open class, so every value is counted
    exactly once."""
    doc = lire_yaml(chemin, nom)
    rapport = _valider(ParametresRapport, doc, nom)
    ctl = _Controle(nom, doc)
    sources = {s.id: s for s in rapport.sources}
    ctl.dans(rapport.petits_effectifs.source, sources, "petits_effectifs.source", "source")
    for genre, classes in rapport.classes.items():
        ctl.dans(classes.source, sources, f"classes.{genre}.source", "source")
        attendu = 0
        for i, (bas, haut) in enumerate(classes.bornes):
            chemin_yaml = f"classes.{genre}.bornes[{i}]"
            dernier = i == len(classes.bornes) - 1
            if bas != attendu:
                ctl.erreur(chemin_yaml, f"la classe commence à {bas} : attendu {attendu} (classes contiguës depuis 0)")
            if haut is None and not dernier:
                ctl.erreur(chemin_yaml, "classe ouverte (null) avant la dernière : attendu une borne haute (seule la "
                                       "dernière classe est ouverte)")
            elif haut is not None and dernier:
                ctl.erreur(chemin_yaml, f"la dernière classe doit être ouverte : attendu [{bas}, null]")
            elif haut is not None and haut < bas:
                ctl.erreur(chemin_yaml, f"borne haute {haut} sous la borne basse {bas} : attendu au moins {bas}")
            attendu = (haut if haut is not None else bas) + 1
    ctl.lever()
    return rapport


def charger_registre(dossier: Path | None = None, *, vocabulaire: Vocabulaire) -> Registre:
    """Load and validate everything under ``dossier`` (default: the project's ``protocols/``), against the engine's
    ``vocabulaire`` (the conditions and stages it can run)."""
    dossier = dossier or DOSSIER_PROTOCOLES
    sources = charger_sources(dossier / "sources.yaml")
    parametres = charger_parametres(dossier / "parameters", sources)
    commun = charger_commun(dossier / "commun.yaml", sources, parametres, vocabulaire=vocabulaire)
    protocoles: dict[str, Protocole] = {}
    for chemin in sorted(dossier.glob("*.yaml")):
        if chemin.name in FICHIERS_COMMUNS:
            continue
        p = charger_protocole(chemin, sources, commun, parametres, vocabulaire=vocabulaire)
        protocoles[p.id] = p
    if not protocoles:
        raise ErreurChargement(str(dossier), [Probleme("", "aucun protocole trouvé : attendu des fichiers *.yaml")])
    socle = (
        {k: v.model_dump(mode="json") for k, v in sorted(sources.items())},
        commun.model_dump(mode="json"),
        {k: v.modele.model_dump(mode="json") for k, v in sorted(parametres.items())},
    )
    empreintes = {pid: _empreinte(p.model_dump(mode="json"), *socle) for pid, p in protocoles.items()}
    chemin_interop = dossier / "interoperabilite.yaml"
    interop = charger_interop(chemin_interop) if chemin_interop.exists() else None
    chemin_rapport = dossier / "rapport.yaml"
    rapport = charger_rapport(chemin_rapport) if chemin_rapport.exists() else None
    chemin_mesures = dossier / "mesures.yaml"
    mesures = charger_mesures(chemin_mesures, protocoles) if chemin_mesures.exists() else None
    return Registre(dossier, sources, commun, parametres, protocoles, empreintes, interop, rapport, mesures)
