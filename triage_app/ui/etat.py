"""Shared state of the page: the application services (one per process), the acting user, the triage in the URL."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from triage_app.comptes import ErreurDroits, Utilisateur
from triage_app.config import reglages
from triage_app.engine.evaluation import Moteur
from triage_app.services.application import Services
from triage_app.services.autorisation import ServiceAutorise
from triage_app.services.patients import PatientTrouve

PARAM_TRIAGE = "triage"
CLE_UTILISATEUR = "utilisateur"
PATIENT_CHOISI = "patient_choisi"  # the patient (PatientTrouve) the next triage is for (session only)


# The services the page opened, one per database URL, for the process's life. Not st.cache_resource: any client may
# ask Streamlit to clear its caches (a ``clear_cache`` message, no login needed), which forgets a cached value without
# closing it — a new connection pool per message until the server runs out of files (issue #28).
_depots: dict[str, Services] = {}
_verrou_depots = threading.Lock()


def _depot(url: str) -> Services:
    depot = _depots.get(url)
    if depot is None:
        with _verrou_depots:
            depot = _depots.get(url)
            if depot is None:
                depot = _depots[url] = Services(url)
    return depot


def fermer_depots() -> None:
    """Forget the page's services and release their database connections; the next run opens a new one.

    For whoever runs the page in-process (the AppTest tests, after each test): a server keeps its service. The
    settings are read again too (a test sets its own database).
    """
    reglages.cache_clear()
    with _verrou_depots:
        ouverts = list(_depots.values())
        _depots.clear()
    for depot in ouverts:
        depot.fermer()


def depot_brut() -> Services:
    """The unrestricted services: for the login gate only."""
    return _depot(reglages().url_base)


def utilisateur() -> Utilisateur:
    """The logged-in user (the gate in ``app.py`` guarantees one on every page)."""
    u = st.session_state.get(CLE_UTILISATEUR)
    if u is None:
        raise ErreurDroits("connexion requise")
    return u


CLE_ACTIVITE = "derniere_activite"
CLE_VERROU = "session_verrouillee"
CLE_JETON = "jeton_compte"  # what the account was at login (role, state, password): compared on every run


def noter_compte(utilisateur: Utilisateur) -> None:
    """At login: keep what the account is now, for :func:`compte_valide`."""
    st.session_state[CLE_JETON] = depot_brut().comptes.jeton_session(utilisateur.identifiant)


# Session keys starting with this are what a page read for one visit: forgotten when a screen sends the user to a
# page (:func:`triage_app.ui.chemins.aller`), kept across the reruns of the visit.
CACHE_VISITE = "visite_"
CLE_COMPTE_VU = "compte_verifie_pendant"  # (the run it was read in, for whom, its answer): one read per run


def _run_courant() -> object | None:
    """What identifies the run in progress (a full run or a fragment's): Streamlit gives each one a new table of
    cursors when it starts (``ScriptRunContext.reset``); ``None`` outside a run or if Streamlit stops doing so."""
    ctx = get_script_run_ctx()
    curseurs = getattr(ctx, "cursors", None) if ctx is not None else None
    return curseurs if isinstance(curseurs, dict) else None


def compte_valide() -> bool:
    """Whether the logged-in account still is as it was at login (issue #28): not deactivated, same role, same
    password. A session opened by the login keeps its token; one without (never made by the page) is not checked.

    Read from the database once per run (a tap: its callback, the page or the fragment, and every write the run
    asks for), not at each of those steps (issue #25: the read was 17 % of the server's time with 60 tablets); the
    next tap reads it again. The run is recognised by Streamlit's own object for it, kept here, so that another run
    can never be mistaken for it."""
    if CLE_JETON not in st.session_state:
        return True
    utilisateur_ = st.session_state.get(CLE_UTILISATEUR)
    jeton = st.session_state[CLE_JETON]
    if utilisateur_ is None or jeton is None:
        return False
    run = _run_courant()
    vu = st.session_state.get(CLE_COMPTE_VU)
    if run is not None and isinstance(vu, tuple) and vu[0] is run and vu[1] == (utilisateur_.identifiant, jeton):
        return bool(vu[2])
    valide = depot_brut().comptes.jeton_session(utilisateur_.identifiant) == jeton
    if run is not None:
        st.session_state[CLE_COMPTE_VU] = (run, (utilisateur_.identifiant, jeton), valide)
    return valide


def delai_inactivite_s() -> float:
    """Idle time before the session locks (settings: ``TRIAGE_INACTIVITE_MINUTES``, default 15)."""
    return reglages().inactivite_minutes * 60.0


def session_inactive() -> bool:
    """Whether the session is past its idle delay (then locked for good until the user logs in again). Checked at
    every call of the service, so a tap that lands after the delay — whose callback runs before the page's own
    check — is refused and never saved under the absent user."""
    if st.session_state.get(CLE_VERROU):
        return True
    derniere = st.session_state.get(CLE_ACTIVITE)
    if derniere is not None and time.monotonic() - derniere > delai_inactivite_s():
        st.session_state[CLE_VERROU] = True
        return True
    return False


def noter_activite() -> None:
    """The user acted (a full run after the gate, or a tap in a fragment): the idle delay starts again."""
    st.session_state[CLE_ACTIVITE] = time.monotonic()


_F = TypeVar("_F", bound=Callable[..., Any])


def fragment(fonction: _F) -> _F:
    """``st.fragment`` for a part of a page the user works in (the walk, a panel): a tap on one of its widgets reruns
    that part only, so the rest of the page is not rebuilt for it (issue #25: many tablets on one server).

    A fragment's rerun does not pass through the page's login gate: it checks the same things first (a user logged
    in, the session not idle; otherwise the whole page reruns and the gate draws the login or the lock), and counts
    as activity, like a full run."""

    @functools.wraps(fonction)
    def garde(*args: Any, **kwargs: Any) -> Any:
        if st.session_state.get(CLE_UTILISATEUR) is None or session_inactive() or not compte_valide():
            st.rerun(scope="app")
        noter_activite()
        return fonction(*args, **kwargs)

    return st.fragment(garde)  # type: ignore[return-value]


def rappel(fonction: _F) -> _F:
    """A widget's callback (``on_click``, ``on_change``), which Streamlit runs before the page and its login gate: run
    only while the session is open (a user logged in, not idle, the account as it was at login). Otherwise, or if
    the service refuses for the same reasons meanwhile, nothing is done and the page's gate that follows draws the
    lock or the login in French (issue #28: a tap after the idle lock showed Streamlit's English error)."""

    @functools.wraps(fonction)
    def garde(*args: Any, **kwargs: Any) -> Any:
        if st.session_state.get(CLE_UTILISATEUR) is None or session_inactive() or not compte_valide():
            return None
        try:
            return fonction(*args, **kwargs)
        except ErreurDroits:
            return None

    return garde  # type: ignore[return-value]


def depot() -> ServiceAutorise:
    """The services as the logged-in user may use them (every call checked against the role and the idle
    lock)."""
    return ServiceAutorise(depot_brut(), utilisateur(), verrou=session_inactive, compte_valide=compte_valide)


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


def patients_trouves(depot: ServiceAutorise, texte: str, cle: str, limite: int = 20) -> list[PatientTrouve]:
    """The patients matching ``texte``: looked up (and audited) once per text typed, not again on every rerun
    of the page (a tap elsewhere); kept under ``cle`` for this session only."""
    memoire = st.session_state.get(cle)
    if isinstance(memoire, tuple) and memoire[0] == texte:
        return list(memoire[1])
    trouves = depot.patients.rechercher_patients(texte, limite=limite)
    st.session_state[cle] = (texte, tuple(trouves))
    return trouves


# Tablets handed over to a patient (issue #30), by account: the time of the hand-over. A session signed in through
# the identity provider reopens by itself on a reload (the provider's cookie); while its account has a tablet in a
# patient's hands, it reopens only after the person authenticated at the provider *after* the hand-over. Kept in
# the process (a tablet's reload comes back to the same process: sessions are sticky behind the proxy).
_remises: dict[str, float] = {}
_verrou_remises = threading.Lock()


def noter_remise(identifiant: str) -> None:
    with _verrou_remises:
        _remises[identifiant] = time.time()


def fin_remise(identifiant: str) -> None:
    with _verrou_remises:
        _remises.pop(identifiant, None)


def remise(identifiant: str) -> float | None:
    """When the account handed a tablet over to a patient, not taken back yet (``None``: no tablet out)."""
    with _verrou_remises:
        return _remises.get(identifiant)
