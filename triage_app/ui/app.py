"""Entry point of the page (``streamlit run``): the login gate, the router and the frame, nothing else."""

from __future__ import annotations

import streamlit as st

from triage_app.ui.composants import francais, style
from triage_app.ui.connexion import garde, veille
from triage_app.ui.navigation import pages

st.set_page_config(page_title="Triage kiné", page_icon=":material/medical_services:", layout="wide",
                   initial_sidebar_state="collapsed")
style()
francais()
if garde() is not None:
    veille()
    st.navigation(list(pages().values()), position="top").run()
