"""« Structure »: the setting, described once and used for every triage."""

from __future__ import annotations

import streamlit as st

from triage_app.errors import TriageError
from triage_app.ui import etat
from triage_app.ui.composants import en_francais


def page() -> None:
    """Type, département, protocols applied, CPTS registration."""
    depot = etat.depot()
    m = depot.moteur
    libelles = m.registre.commun.libelles.structures
    actuelle = depot.structure()
    st.markdown("### Structure")
    types = list(libelles)
    with st.form("form_structure", enter_to_submit=False):
        nom = st.text_input("Nom de la structure", value=actuelle.nom if actuelle else "", key="structure_nom")
        type_ = st.selectbox("Type", types, format_func=libelles.__getitem__, key="structure_type",
                             index=types.index(actuelle.type) if actuelle and actuelle.type in types else 0)
        departement = st.text_input("Département (numéro, ex. 38, 2B, 974)", key="structure_departement",
                                    value=(actuelle.departement or "") if actuelle else "", max_chars=3)
        protocoles = st.pills("Protocoles de coopération appliqués (touchez pour choisir)", sorted(m.protocoles),
                              selection_mode="multi", default=actuelle.protocoles_appliques if actuelle else [],
                              format_func=lambda p: m.protocoles[p].modele.titre, key="structure_protocoles")
        cpts = st.toggle("Inscrite à l’expérimentation de l’accès direct en CPTS", key="structure_cpts",
                         value=bool(actuelle.inscrit_experimentation_cpts) if actuelle else False)
        if st.form_submit_button("Enregistrer", type="primary", key="structure_enregistrer"):
            if not nom.strip():
                st.error("À renseigner : nom de la structure.")
                return
            try:
                depot.enregistrer_structure(nom=nom.strip(), type=type_, departement=departement.strip().upper(),
                                            protocoles_appliques=list(protocoles or []),
                                            inscrit_experimentation_cpts=cpts,
                                            acteur=etat.acteur())
            except TriageError as exc:
                st.error(en_francais(exc, libelles))
            else:
                st.success("Structure enregistrée : elle s’applique aux nouveaux triages.")
