"""The pages of the navigation for the logged-in user's role, and the hidden pages of the login gate, which keep the
page of the URL through the login. Defined here only: the screens reach them through :mod:`triage_app.ui.chemins`,
where this module registers them."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from triage_app.ui import chemins, etat
from triage_app.ui.ecrans import compte, patients, protocoles, structure, tableau, triages
from triage_app.ui.ecrans import triage as un_triage

CHEMIN_CONNEXION = "connexion"  # the gate's own default page: no page of the menu has this path


def pages(peut: Callable[[str], bool] | None = None) -> dict[str, st.Page]:
    """The pages this user may open, by short name (the page's URL path), in menu order (built on each run: roles
    differ).

    ``peut`` replaces the logged-in user's permission check (the gate asks for every page of every role)."""
    peut = peut or etat.utilisateur().peut
    ecrit = peut("triage.ecrire")
    menu = {
        "nouveau": st.Page(un_triage.page_nouveau, title="Nouveau triage" if ecrit else "Triage",
                           icon=":material/add_circle:", url_path="nouveau", default=ecrit,
                           visibility="visible" if ecrit else "hidden"),
        # The walk of one triage (``?triage=<id>``), opened from the lists and after « Commencer »: a page of its
        # own, so that « Nouveau triage » in the menu always leads to the empty form (the open draft stays listed).
        "triage": st.Page(un_triage.page, title="Triage", icon=":material/assignment:", url_path="triage",
                          visibility="hidden"),
        "patients": st.Page(patients.page, title="Patients", icon=":material/groups:", url_path="patients"),
        "triages": st.Page(triages.page, title="Triages", icon=":material/list_alt:", url_path="triages",
                           default=not ecrit),
        "protocoles": st.Page(protocoles.page, title="Protocoles", icon=":material/account_tree:",
                              url_path="protocoles"),
    }
    if peut("rapport"):
        menu["tableau"] = st.Page(tableau.page, title="Tableau de bord", icon=":material/monitoring:",
                                  url_path="tableau")
    if peut("structure.ecrire"):
        menu["structure"] = st.Page(structure.page, title="Structure", icon=":material/home_health:",
                                    url_path="structure")
    if peut("comptes.gerer"):
        menu["comptes"] = st.Page(compte.page_comptes, title="Comptes", icon=":material/group:", url_path="comptes")
    # A short title, so that the whole menu fits 820 px (no « + N » hiding pages); the name is on the page.
    menu["compte"] = st.Page(compte.page, title="Mon compte", icon=":material/person:", url_path="compte")
    return menu


def _connexion() -> None:
    """Drawn by the gate before the navigation: nothing more to draw."""


def pages_de_la_connexion() -> list[st.Page]:
    """Before the login, every path of every role's menu, as hidden pages that draw nothing (the gate draws the
    login). The URL's page (a link, a bookmark, a reload) is thus kept through the login, whose rerun opens it when
    the user's role has it, or the role's first page otherwise. The root URL is the gate's own page, which no menu
    has: it leads to the role's first page too."""
    chemins = list(pages(lambda _permission: True))  # the keys are the URL paths (a default page's reads "")
    return [st.Page(_connexion, title="Connexion", url_path=CHEMIN_CONNEXION, default=True)] + [
        st.Page(_connexion, title="Connexion", url_path=chemin, visibility="hidden") for chemin in chemins]


chemins.enregistrer(pages)
