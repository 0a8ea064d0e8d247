"""Scoring a measure the patient reported, and reading its change (issue #30). Pure functions: the rules of each
measure (items, scoring, minimal change) come from ``protocols/mesures.yaml``; nothing here knows a threshold."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from triage_app.errors import Probleme
from triage_app.models.mesures import Lecture, Mesure


def problemes_reponses(mesure: Mesure, reponses: Mapping[str, object]) -> list[Probleme]:
    """What is wrong with ``reponses`` (item id → value) for ``mesure``: an unknown item, or a value the item does not
    accept (named by the item and the values allowed). Missing items are not a problem: answers are saved as given."""
    items = {it.id: it for it in mesure.tous_les_items()}
    problemes = []
    for cle, valeur in reponses.items():
        item = items.get(cle)
        if item is None:
            problemes.append(Probleme(cle, f"item inconnu de « {mesure.libelle_court} »"))
            continue
        acceptees = item.reponses.acceptees()
        if isinstance(valeur, bool) or valeur not in acceptees:
            permis = ", ".join("sans objet" if v is None else str(v) for v in acceptees)
            problemes.append(Probleme(cle, f"valeur non permise : attendu l’une de {permis}"))
    return problemes


def manquants(mesure: Mesure, reponses: Mapping[str, object]) -> list[str]:
    """The items not answered yet, in order."""
    return [it.id for it in mesure.tous_les_items() if it.id not in reponses]


def score(mesure: Mesure, reponses: Mapping[str, int | None]) -> float | None:
    """The measure's score once every item is answered (``None`` before: a partial questionnaire has no score).

    ``somme``: the points added; ``pourcentage``: points / (highest points × items answered other than « sans
    objet ») × 100, ``None`` when every item is « sans objet »; ``niveau``: the level chosen; ``aucune``: none (the
    triage's questions the patient declares, scored by the protocol once the kiné confirms them)."""
    if mesure.cotation.regle == "aucune" or manquants(mesure, reponses):
        return None
    valeurs = [reponses[it.id] for it in mesure.tous_les_items()]
    regle = mesure.cotation.regle
    if regle in ("somme", "niveau"):
        if any(v is None for v in valeurs):
            return None
        return float(sum(v for v in valeurs if v is not None))
    comptees = [v for v in valeurs if v is not None]
    if not comptees:
        return None
    plus_haut = max(v for it in mesure.tous_les_items() for v in it.reponses.acceptees() if v is not None)
    return round(100.0 * sum(comptees) / (plus_haut * len(comptees)), 1)


def lire_variation(mesure: Mesure, premier: float | None, dernier: float) -> Lecture:
    """How the change from ``premier`` to ``dernier`` reads: against the measure's minimal change, in the direction in
    which the measure improves; a global impression (scored by level) reads by its level alone."""
    par_niveau = mesure.cotation.lecture_par_niveau
    if par_niveau is not None:
        return next(lecture for lecture, niveaux in par_niveau.items() if int(dernier) in niveaux)
    if premier is None or mesure.variation_minimale is None:
        return "stable"
    gain = (premier - dernier) if mesure.cotation.meilleur == "bas" else (dernier - premier)
    seuil = mesure.variation_minimale.valeur
    if gain >= seuil:
        return "amelioration"
    if -gain >= seuil:
        return "aggravation"
    return "stable"


@dataclass(frozen=True)
class Suivi:
    """One measure over an episode: its scores in order (day, moment, score), the first, the latest, the change and
    how it reads (``None`` until two scores exist, or one for a measure read by level)."""

    mesure: str
    points: tuple[tuple[str, str, float], ...]
    premier: float | None
    dernier: float | None
    variation: float | None
    lecture: Lecture | None


def suivi(mesure: Mesure, points: Iterable[tuple[str, str, float]]) -> Suivi:
    """``points``: (ISO day, moment, score) of the complete measures, in the order they were taken."""
    pts = tuple(points)
    if not pts:
        return Suivi(mesure.id, pts, None, None, None, None)
    premier, dernier = pts[0][2], pts[-1][2]
    if mesure.cotation.lecture_par_niveau is not None:
        return Suivi(mesure.id, pts, premier, dernier, None, lire_variation(mesure, None, dernier))
    if len(pts) < 2:
        return Suivi(mesure.id, pts, premier, dernier, None, None)
    variation = round(dernier - premier, 1)
    return Suivi(mesure.id, pts, premier, dernier, variation, lire_variation(mesure, premier, dernier))


def evolution_proposee(lectures: Iterable[Lecture | None]) -> Lecture | None:
    """The re-assessment's evolution the measures suggest (the kiné confirms it): any aggravation first, then any
    clinically relevant improvement, else no notable change; ``None`` when no measure can be read yet."""
    lues = [lecture for lecture in lectures if lecture is not None]
    if not lues:
        return None
    if "aggravation" in lues:
        return "aggravation"
    if "amelioration" in lues:
        return "amelioration"
    return "stable"
