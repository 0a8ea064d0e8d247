"""The pages of the navigation, built once per run and reachable from any page (``st.switch_page``)."""

from __future__ import annotations

import streamlit as st

_PAGES: dict[str, st.Page] = {}


def pages() -> dict[str, st.Page]:
    """The app's pages by short name, in menu order."""
    from triage_app.ui.ecrans import nouveau, protocoles, structure, triages

    if not _PAGES:
        _PAGES.update({
            "nouveau": st.Page(nouveau.page, title="Nouveau triage", icon=":material/add_circle:", url_path="nouveau",
                               default=True),
            "triages": st.Page(triages.page, title="Triages", icon=":material/list_alt:", url_path="triages"),
            "protocoles": st.Page(protocoles.page, title="Protocoles", icon=":material/account_tree:",
                                  url_path="protocoles"),
            "structure": st.Page(structure.page, title="Structure", icon=":material/home_health:",
                                 url_path="structure"),
        })
    return _PAGES
