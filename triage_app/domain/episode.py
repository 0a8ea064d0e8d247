"""Episode arithmetic (pure): the next BDK, the re-assessment window and where the episode stands in it."""

from __future__ import annotations

from datetime import date, timedelta


def prochain_bdk(seances_faites: int, premiere_si_realisees: int, puis_si_realisees: int, pas: int,
                 bilans: int = 0) -> int:
    """The number of the session at which the next BDK is billable, counting from the coming one.

    With the NGAP rule (``0, 29, 20``: the 1st session, the 30th, then every 20) and 3 sessions done, the next BDK
    is at the 30th; with 30 done, at the 50th. ``bilans``: BDK already recorded in the episode; one that covers the
    coming position moves the next to the position after (a bilan recorded before the 1st session: the 30th).
    """
    if pas <= 0:
        raise ValueError("pas du BDK : attendu un entier positif")
    faites = max(0, seances_faites)
    positions = [premiere_si_realisees + 1, puis_si_realisees + 1]
    while positions[-1] <= faites + 1 or len(positions) <= bilans + 1:
        positions.append(positions[-1] + pas)
    rang = next(i for i, p in enumerate(positions) if p > faites)  # the coming position's rank
    return positions[max(rang, bilans)] if bilans > rang else positions[rang]


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
