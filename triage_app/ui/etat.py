"""Shared state of the page: the storage service (one per process), the acting user, the triage in the URL."""

from __future__ import annotations

import streamlit as st

from triage_app.comptes import ErreurDroits, Utilisateur
from triage_app.config import Reglages
from triage_app.engine.evaluation import Moteur
from triage_app.storage.autorisation import ServiceAutorise
from triage_app.storage.service import Depot

PARAM_TRIAGE = "triage"
CLE_UTILISATEUR = "utilisateur"


@st.cache_resource(show_spinner=False)
def _depot(url: str) -> Depot:
    return Depot(url)


def depot_brut() -> Depot:
    """The unrestricted storage service: for the login gate only."""
    return _depot(Reglages().url_base)


def utilisateur() -> Utilisateur:
    """The logged-in user (the gate in ``app.py`` guarantees one on every page)."""
    u = st.session_state.get(CLE_UTILISATEUR)
    if u is None:
        raise ErreurDroits("connexion requise")
    return u


def depot() -> ServiceAutorise:
    """The storage service as the logged-in user may use it (every call checked against the role)."""
    return ServiceAutorise(depot_brut(), utilisateur())


def moteur() -> Moteur:
    """The rules the service evaluates with."""
    return depot_brut().moteur


def acteur() -> str:
    """Who acts (recorded in the audit log): the logged-in user's identifier."""
    return utilisateur().identifiant


def triage_dans_url() -> str | None:
    """The opaque triage id carried by the URL (``?triage=…``), the only thing the URL ever holds."""
    valeur = st.query_params.get(PARAM_TRIAGE)
    return valeur if valeur and valeur.isalnum() and len(valeur) <= 64 else None


def ouvrir_triage(triage_id: str | None) -> None:
    """Put a triage in the URL (or remove it) so a reload or a new session resumes it."""
    if triage_id:
        st.query_params[PARAM_TRIAGE] = triage_id
    else:
        st.query_params.pop(PARAM_TRIAGE, None)
