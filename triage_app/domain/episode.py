"""Episode arithmetic (pure): the next BDK, the re-assessment window and where the episode stands in it."""

from __future__ import annotations

from datetime import date, timedelta


def prochain_bdk(seances_faites: int, premiere_si_realisees: int, puis_si_realisees: int, pas: int) -> int:
    """The number of the session at which the next BDK is billable, counting from the coming one.

    With the NGAP rule (``0, 29, 20``: the 1st session, the 30th, then every 20) and 3 sessions done, the next BDK
    is at the 30th; with 30 done, at the 50th.
    """
    if pas <= 0:
        raise ValueError("pas du BDK : attendu un entier positif")
    faites = max(0, seances_faites)
    if faites <= premiere_si_realisees:
        return premiere_si_realisees + 1
    if faites <= puis_si_realisees:
        return puis_si_realisees + 1
    rang = -(-(faites - puis_si_realisees) // pas)  # ceiling division
    return puis_si_realisees + rang * pas + 1


def fenetre_reevaluation(consultation_initiale: date, du_jour: int, au_jour: int) -> tuple[date, date]:
    """First and last day of the re-assessment window (J0 = the initial consultation)."""
    return consultation_initiale + timedelta(days=du_jour), consultation_initiale + timedelta(days=au_jour)


def etat_revue(jour: date, du: date, au: date, faite_le: date | None) -> str:
    """``faite`` once done; before the window ``a_venir``, inside ``due``, after ``en_retard``."""
    if faite_le is not None:
        return "faite"
    if jour < du:
        return "a_venir"
    return "due" if jour <= au else "en_retard"
