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
    actuelle = depot.structure.structure()
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
        st.markdown("**Identifiants** (en-tête des comptes rendus et messagerie sécurisée)")
        c1, c2 = st.columns(2)
        finess = c1.text_input("FINESS (9 caractères)", key="structure_finess", max_chars=12,
                               value=(actuelle.finess or "") if actuelle else "")
        siret = c2.text_input("ou SIRET (14 chiffres)", key="structure_siret", max_chars=20,
                              value=(actuelle.siret or "") if actuelle else "")
        adresse = st.text_area("Adresse", key="structure_adresse", max_chars=400, height=80,
                               value=(actuelle.adresse or "") if actuelle else "")
        c3, c4 = st.columns(2)
        mssante = c3.text_input("Adresse MSSanté de la structure", key="structure_mssante", max_chars=254,
                                value=(actuelle.mssante or "") if actuelle else "")
        telephone = c4.text_input("Téléphone", key="structure_telephone", max_chars=20,
                                  value=(actuelle.telephone or "") if actuelle else "")
        if st.form_submit_button("Enregistrer", type="primary", key="structure_enregistrer"):
            if not nom.strip():
                st.error("À renseigner : nom de la structure.")
                return
            try:
                depot.structure.enregistrer_structure(nom=nom.strip(), type=type_,
                                                      departement=departement.strip().upper(),
                                                      protocoles_appliques=list(protocoles or []),
                                                      inscrit_experimentation_cpts=cpts, finess=finess or None,
                                                      siret=siret or None, adresse=adresse or None,
                                                      mssante=mssante or None,
                                                      telephone=telephone or None, acteur=etat.acteur())
            except TriageError as exc:
                st.error(en_francais(exc, libelles))
            else:
                st.success("Structure enregistrée : elle s’applique aux nouveaux triages.")
