"""Calendar arithmetic of the rules: age in whole years, whole days, calendar months."""

from __future__ import annotations

import calendar
from datetime import date


def age_en_annees(naissance: date, jour: date) -> int:
    """Age in whole years at ``jour``; born on 29 February, one turns older on 1 March in common years."""
    return jour.year - naissance.year - ((jour.month, jour.day) < (naissance.month, naissance.day))


def jours_entre(debut: date, fin: date) -> int:
    """Whole days from ``debut`` to ``fin``."""
    return (fin - debut).days


def ajouter_mois(jour: date, mois: int) -> date:
    """Add calendar months, clamping the day to the month's last day (30 Nov + 3 months = 28/29 Feb)."""
    total = jour.month - 1 + mois
    annee, m = jour.year + total // 12, total % 12 + 1
    return date(annee, m, min(jour.day, calendar.monthrange(annee, m)[1]))


def classe_duree(debut: date, consultation: date, aigue_moins_de_jours: int, chronique_des_mois: int) -> str:
    """``aigue`` below the day bound (strict), ``chronique`` from the month bound (inclusive), else ``subaigue``."""
    if jours_entre(debut, consultation) < aigue_moins_de_jours:
        return "aigue"
    if consultation >= ajouter_mois(debut, chronique_des_mois):
        return "chronique"
    return "subaigue"
