"""« Compte »: who is logged in, logout, password change; « Comptes » (coordinator): the structure's accounts."""

from __future__ import annotations

import streamlit as st

from triage_app.comptes import LIBELLES_ROLES, ROLES
from triage_app.errors import TriageError
from triage_app.ui import etat, identites
from triage_app.ui.composants import brut, en_francais
from triage_app.ui.connexion import deconnecter

_CONFIRMATION = "confirmation_comptes"


def page() -> None:
    """The logged-in user's account."""
    u = etat.utilisateur()
    st.markdown("### Mon compte")
    st.markdown(f"**{brut(u.nom)}** — {LIBELLES_ROLES.get(u.role, u.role)} · identifiant {brut(u.identifiant)}")
    st.button("Se déconnecter", key="deconnexion", on_click=deconnecter, type="primary", width="stretch")
    identites.profil(etat.depot())
    if u.source != "local":
        return
    with st.form("form_mot_de_passe", enter_to_submit=False):
        st.markdown("**Changer de mot de passe**")
        ancien = st.text_input("Mot de passe actuel", type="password", key="mdp_ancien")
        nouveau = st.text_input("Nouveau mot de passe (12 caractères au moins)", type="password", key="mdp_nouveau")
        confirmation = st.text_input("Confirmer", type="password", key="mdp_confirmation")
        if st.form_submit_button("Changer", key="changer_mdp"):
            if nouveau != confirmation:
                st.error("Mot de passe : les deux saisies diffèrent.")
                return
            try:
                etat.depot_brut().comptes.changer_mot_de_passe(u.identifiant, ancien, nouveau)
            except TriageError as exc:
                st.error(en_francais(exc))
            else:
                st.success("Mot de passe changé.")


def page_comptes() -> None:
    """Coordinator: list, create and disable accounts (local or from the identity provider)."""
    depot = etat.depot()
    st.markdown("### Comptes de la structure")
    if message := st.session_state.pop(_CONFIRMATION, None):
        st.success(message, icon=":material/check_circle:")
    comptes = depot.comptes.lister_utilisateurs()
    # A plain table (st.dataframe's toolbar speaks English: « Download as CSV », « Search »).
    st.table([{"Identifiant": c.identifiant, "Nom": c.nom, "Rôle": LIBELLES_ROLES.get(c.role, c.role),
               "Connexion": "fournisseur d’identité" if c.source == "oidc" else "locale",
               "Actif": "oui" if c.actif else "non"} for c in comptes], hide_index=True)
    with st.form("form_nouveau_compte", enter_to_submit=False, clear_on_submit=True):
        st.markdown("**Nouveau compte**")
        identifiant = st.text_input("Identifiant (ou adresse électronique pour le fournisseur d’identité)",
                                    key="compte_identifiant")
        nom = st.text_input("Nom affiché", key="compte_nom")
        role = st.selectbox("Rôle", ROLES, format_func=LIBELLES_ROLES.__getitem__, key="compte_role")
        source = st.segmented_control("Connexion", ["local", "oidc"], default="local", key="compte_source",
                                      format_func={"local": "mot de passe local",
                                                   "oidc": "fournisseur d’identité"}.__getitem__)
        mot_de_passe = st.text_input("Mot de passe initial (compte local, 12 caractères au moins)", type="password",
                                     key="compte_mdp")
        if st.form_submit_button("Créer le compte", type="primary", key="creer_compte"):
            try:
                depot.comptes.creer_utilisateur(identifiant=identifiant, nom=nom, role=role,
                                                mot_de_passe=mot_de_passe if source == "local" else None,
                                                source=source or "local")
            except TriageError as exc:
                st.error(en_francais(exc))
            else:
                # Said after the rerun (a message written before it would vanish); the form is emptied, password too.
                st.session_state[_CONFIRMATION] = (f"Compte créé : {nom or identifiant} "
                                                   f"({LIBELLES_ROLES.get(role, role)}).")
                st.rerun()
    actifs = [c.identifiant for c in comptes if c.actif and c.identifiant != etat.acteur()]
    if actifs:
        with st.form("form_desactiver", enter_to_submit=False):
            cible = st.selectbox("Désactiver un compte", actifs, key="compte_a_desactiver")
            if st.form_submit_button("Désactiver", key="desactiver_compte"):
                depot.comptes.desactiver_utilisateur(cible)
                st.session_state[_CONFIRMATION] = f"Compte désactivé : {cible}."
                st.rerun()
