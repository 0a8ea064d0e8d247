"""The pages of the navigation for the logged-in user's role, reachable from any page (``st.switch_page``)."""

from __future__ import annotations

import streamlit as st

from triage_app.comptes import Utilisateur
from triage_app.ui import etat


def pages() -> dict[str, st.Page]:
    """The pages this user may open, by short name, in menu order (built on each run: roles differ)."""
    from triage_app.ui.ecrans import compte, nouveau, patients, protocoles, structure, tableau, triages

    u: Utilisateur = etat.utilisateur()
    ecrit = u.peut("triage.ecrire")
    menu = {
        "nouveau": st.Page(nouveau.page_nouveau, title="Nouveau triage" if ecrit else "Triage",
                           icon=":material/add_circle:", url_path="nouveau", default=ecrit,
                           visibility="visible" if ecrit else "hidden"),
        # The walk of one triage (``?triage=<id>``), opened from the lists and after « Commencer »: a page of its
        # own, so that « Nouveau triage » in the menu always leads to the empty form (the open draft stays listed).
        "triage": st.Page(nouveau.page, title="Triage", icon=":material/assignment:", url_path="triage",
                          visibility="hidden"),
        "patients": st.Page(patients.page, title="Patients", icon=":material/groups:", url_path="patients"),
        "triages": st.Page(triages.page, title="Triages", icon=":material/list_alt:", url_path="triages",
                           default=not ecrit),
        "protocoles": st.Page(protocoles.page, title="Protocoles", icon=":material/account_tree:",
                              url_path="protocoles"),
    }
    if u.peut("rapport"):
        menu["tableau"] = st.Page(tableau.page, title="Tableau de bord", icon=":material/monitoring:",
                                  url_path="tableau")
    if u.peut("structure.ecrire"):
        menu["structure"] = st.Page(structure.page, title="Structure", icon=":material/home_health:",
                                    url_path="structure")
    if u.peut("comptes.gerer"):
        menu["comptes"] = st.Page(compte.page_comptes, title="Comptes", icon=":material/group:", url_path="comptes")
    # A short title, so that the whole menu fits 820 px (no « + N » hiding pages); the name is on the page.
    menu["compte"] = st.Page(compte.page, title="Mon compte", icon=":material/person:", url_path="compte")
    return menu
