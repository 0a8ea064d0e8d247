"""The allow-list of stages a protocol state may run. Each stage reads its decision table from the
protocol model and writes every question, answer and rule it looks at into the trace."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from triage_app.engine import facturation
from triage_app.engine.dossier import Dossier
from triage_app.models.protocol import Etat


@dataclass(frozen=True)
class Etape:
    """An allow-listed stage and the thresholds it needs."""

    fonction: Callable[[Dossier, Etat], None]
    description: str
    seuils: tuple[str, ...] = ()


def identification(d: Dossier, etat: Etat) -> None:
    """Age and time since onset, computed from the case's dates."""
    d.noter(None, d.age, "age", None)
    d.noter(None, d.jours, "duree_jours", None)


def criteres(d: Dossier, etat: Etat) -> None:
    """A red-flag decision table: every criterion of the state's level, in order (the hottest loop of an
    evaluation: the trace entries of :meth:`Dossier.noter` are written here directly)."""
    trace, ici, reponses = d.trace, d.state, d.reponses
    for c in d.p.table_criteres.get(etat.niveau or "", ()):
        reponse = reponses.get(c.question) if c.question is not None else d.critere_vrai(c.modele)
        trace.append({"etat": ici, "question": c.question, "reponse": reponse, "regle": c.id, "source": c.source})


def eligibilite(d: Dossier, etat: Etat) -> None:
    """The protocol's eligibility table, every row."""
    trace, ici = d.trace, d.state
    for regle, ok in d.eligibilite:
        trace.append({"etat": ici, "question": None, "reponse": ok, "regle": regle.id, "source": regle.source})
    d.noter(None, d.eligible, "eligible_protocole", None)


def classification(d: Dossier, etat: Etat) -> None:
    """Duration class and recurrence, chronicity score, Ottawa rules, as the protocol defines them."""
    p = d.p.modele
    if p.duree is not None:
        d.noter(None, d.classe_duree, "classe_duree", p.duree.source)
    if p.recidive is not None:
        d.noter(None, d.recidivante, "recidivante", p.recidive.source)
    trace, ici, reponses = d.trace, d.state, d.reponses
    if p.score_chronicite is not None:
        source = p.score_chronicite.source
        for question, _ in d.p.items_score:
            trace.append({"etat": ici, "question": question, "reponse": reponses.get(question),
                          "regle": "score_chronicite", "source": source})
        d.noter(None, d.score[0], "risque_chronicite", source)
    if p.ottawa is not None:
        source = p.ottawa.source
        d.noter(None, d.ottawa_applicable, "ottawa_applicable", source)
        if d.ottawa_applicable:
            for z in p.ottawa.zones:
                regle = f"ottawa_{z.id}"
                for q in (z.douleur, *z.signes):
                    trace.append({"etat": ici, "question": q, "reponse": reponses.get(q), "regle": regle,
                                  "source": source})
        d.noter(None, d.radiographie, "radiographie", source)
    if "stade_gravite" in d.p.questions:
        q = d.p.questions["stade_gravite"]
        d.noter(q.id, d.reponses.get(q.id), "stade_gravite", q.source)


def decision(d: Dossier, etat: Etat) -> None:
    """The orientation is decided by the state's ordered transitions; missing answers are noted first."""
    if d.manquantes:
        d.noter(None, list(d.manquantes), "reponses_manquantes", None)


def issue(d: Dossier, etat: Etat) -> None:
    """An outcome: orientation, route, sessions, billing lines, prescriptions and advice."""
    commun = d.registre.commun
    d.orientation = etat.orientation
    remarques: list[str] = []
    d.seances = facturation.seances(d, etat, remarques)
    d.voie = facturation.voie(d, etat.orientation)
    d.lignes = facturation.lignes(d, d.voie, remarques)
    d.remarques = remarques
    d.prescriptions = [p.id for p in d.p.modele.prescriptions
                       if etat.prescriptions and (p.condition is None or d.verifie(p.condition))]
    d.avis = etat.orientation not in commun.avis_medical_sauf_orientations and any(
        d.verifie(r) for r in d.p.modele.avis_medical)
    d.noter(None, etat.orientation, "orientation", None)
    d.noter(None, d.voie, "voie_facturation", None)
    declenches = {c.id for criteres in d.declenches.values() for c in criteres}
    for c in d.motifs_criteres:
        if c.id not in declenches:
            d.noter(None, True, f"motif_supplementaire_{c.id}", c.source)
    for r in d.criteres_non_remplis:
        d.noter(None, False, f"critere_non_rempli_{r.id}", r.source)
    for r in d.conseils_kine:
        d.noter(None, True, f"conseil_{r.id}", r.source)


ETAPES: dict[str, Etape] = {
    "identification": Etape(identification, "Âge et délai depuis le début de l'épisode"),
    "criteres": Etape(criteres, "Table de critères (drapeaux rouges, exclusions) d'un niveau"),
    "eligibilite": Etape(eligibilite, "Critères d'éligibilité au protocole"),
    "classification": Etape(classification, "Durée, récidive, score de chronicité, règles d'Ottawa"),
    "decision": Etape(decision, "Orientation : transitions ordonnées"),
    "issue": Etape(issue, "Orientation, voie, séances, facturation, prescriptions",
                   ("consultations_protocole", "seances_protocole", "seances_referentiel", "seuil_dap")),
}
