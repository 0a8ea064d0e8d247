"""Where a screen sends the user: the pages of the navigation by their short name.

The navigation (:mod:`triage_app.ui.navigation`) defines the pages and registers how to build them here; the screens
go through this module (``aller("triage", triage=tid)``), never through the navigation, which imports them: no import
circle between the menu and its screens."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import streamlit as st

from triage_app.ui import etat

_pages: Callable[[], dict[str, st.Page]] | None = None


def enregistrer(pages: Callable[[], dict[str, st.Page]]) -> None:
    """The navigation's function that builds the logged-in user's pages (called once, when it is imported)."""
    global _pages
    _pages = pages


def page(nom: str) -> st.Page:
    """The page ``nom`` of the logged-in user's navigation."""
    if _pages is None:
        raise RuntimeError("navigation non enregistrée (triage_app.ui.navigation)")
    return _pages()[nom]


def aller(nom: str, **parametres: str) -> NoReturn:
    """Switch to page ``nom``, with ``parametres`` as its query string (the opaque triage id only); what the last
    visit read for itself (``etat.CACHE_VISITE``) is forgotten."""
    for cle in [c for c in st.session_state if str(c).startswith(etat.CACHE_VISITE)]:
        del st.session_state[cle]
    st.switch_page(page(nom), query_params=parametres or None)
    raise AssertionError("inaccessible")  # st.switch_page ends the run


def triage(triage_id: str) -> NoReturn:
    """Open a triage's own page (its opaque id in the URL)."""
    aller("triage", **{etat.PARAM_TRIAGE: triage_id})
