"""Clinical scores and rules computed from answers (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def score_chronicite(reponses: Mapping[str, Any], items: Sequence[tuple[str, Sequence[Any]]],
                     sous_score: Sequence[str], total_faible_max: int, sous_score_eleve_min: int
                     ) -> tuple[str | None, int | None, int | None]:
    """STarT Back-style classification: ``(risque, total, sous_score)``; ``None`` unless all items answered."""
    points: dict[str, int] = {}
    for question, points_si in items:
        reponse = reponses.get(question)
        if reponse is None:
            return None, None, None
        points[question] = 1 if reponse in points_si else 0
    total = sum(points.values())
    sous = sum(points[q] for q in sous_score)
    if total <= total_faible_max:
        return "faible", total, sous
    if sous >= sous_score_eleve_min:
        return "eleve", total, sous
    return "moyen", total, sous


def zones_positives(reponses: Mapping[str, Any], zones: Sequence[tuple[str, str, Sequence[str]]]) -> list[str]:
    """Ottawa: the zones whose pain question is « oui » with at least one sign « oui »."""
    return [zid for zid, douleur, signes in zones
            if reponses.get(douleur) is True and any(reponses.get(s) is True for s in signes)]
