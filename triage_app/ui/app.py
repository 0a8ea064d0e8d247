"""Entry point of the page (``streamlit run``): the login gate, the router and the frame, nothing else."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from triage_app.ui import questionnaire
from triage_app.ui.cadre_francais import francais
from triage_app.ui.composants import style
from triage_app.ui.connexion import garde, veille
from triage_app.ui.navigation import pages, pages_de_la_connexion
from triage_app.ui.valeurs import installer as textes_seulement

# The icon is a file of the package: a « :material/…: » icon makes the browser fetch it from an outside font host.
ICONE = Path(__file__).resolve().parent / "icone.png"
st.set_page_config(page_title="Triage kiné", page_icon=str(ICONE), layout="wide",
                   initial_sidebar_state="collapsed")
textes_seulement()
style()
francais()
if garde() is not None:
    veille()
    if questionnaire.actif():  # the tablet is in the patient's hands: their questionnaire and nothing else (#30)
        st.navigation([st.Page(questionnaire.page, title="Questionnaire", url_path="questionnaire")],
                      position="hidden").run()
    else:
        st.navigation(list(pages().values()), position="top").run()
else:  # the login, first-account or lock screen is drawn; the URL keeps its page for the run after the login
    st.navigation(pages_de_la_connexion(), position="hidden")
