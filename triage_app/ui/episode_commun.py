"""What the episode panel's parts share: the message a callback leaves for the next run, a write said in French, the
act's typed date, and the rules' values the panel names (reimbursed routes, the 12-month depth)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from triage_app import presentation as pr
from triage_app.errors import TriageError
from triage_app.ui import etat

MESSAGE = "msg_episode_"  # + panel key: (kind, text) shown once by the next run


def dire(cle: str, genre: str, texte: str) -> None:
    st.session_state[MESSAGE + cle] = (genre, texte)


def afficher_message(cle: str) -> None:
    message = st.session_state.pop(MESSAGE + cle, None)
    if message:
        genre, texte = message
        {"succes": st.success, "erreur": st.error, "alerte": st.warning}[genre](texte)


def ecrire(cle: str, action: Callable[[], Any], succes: str | Callable[[], str]) -> None:
    """Run a write; say what happened (the service's French message on refusal)."""
    try:
        action()
    except (TriageError, pr.DateInvalide) as exc:
        dire(cle, "erreur", str(exc))
        return
    dire(cle, "succes", succes() if callable(succes) else succes)


def jour_acte(cle: str) -> date:
    """The act's typed date (today when left blank); ``pr.DateInvalide`` names the field when it cannot be read."""
    jour = st.session_state.get(f"jour_{cle}")
    if isinstance(jour, date):
        return jour
    return pr.lire_date(jour, "Date de l’acte", minimum=date(1900, 1, 1), maximum=date.today()) or date.today()


def jour_affiche(episode_id: str, cle: str | None = None) -> date:
    """The day the panel counts up to (the act's typed date, today by default): the card says it."""
    return jour_du_panneau(cle or episode_id)


def jour_du_panneau(cle: str) -> date:
    """The act's date for the counters shown (today while the typed date cannot be read)."""
    try:
        return jour_acte(cle)
    except pr.DateInvalide:
        return date.today()


def voies_remboursees() -> frozenset[str]:
    return frozenset(etat.moteur().registre.commun.episode_de_soins.historique.voies_remboursees)


def mois_historique() -> int:
    return etat.moteur().registre.commun.episode_de_soins.historique.mois
