"""The gate before any page: first coordinator account, login (local or OIDC), idle lock, logout."""

from __future__ import annotations

import time

import streamlit as st

from triage_app.comptes import ErreurConnexion, Utilisateur
from triage_app.errors import TriageError
from triage_app.ui import etat, identite
from triage_app.ui.composants import brut, en_francais

_ACTIVITE = etat.CLE_ACTIVITE
_VERROU = etat.CLE_VERROU
_OIDC_A_CONFIRMER = "oidc_a_confirmer"
_TABLETTE_REMISE = "tablette_remise"


delai_inactivite_s = etat.delai_inactivite_s


def garde() -> Utilisateur | None:
    """The logged-in user, or ``None`` after drawing the login, first-account or lock screen."""
    utilisateur: Utilisateur | None = st.session_state.get(etat.CLE_UTILISATEUR)
    if utilisateur is None:
        utilisateur = _depuis_oidc()
    if utilisateur is None:
        if etat.depot_brut().comptes.compter_utilisateurs() == 0:
            premier_compte()
        else:
            formulaire_connexion()
        return None
    if not etat.compte_valide():  # deactivated, or its role or password changed since the login (issue #28)
        for cle in (etat.CLE_UTILISATEUR, etat.CLE_JETON, _VERROU):
            st.session_state.pop(cle, None)
        st.warning("Votre compte a été désactivé ou modifié depuis votre connexion : reconnectez-vous. Rien n’a été "
                   "enregistré après ce changement.", icon=":material/no_accounts:")
        formulaire_connexion()
        return None
    if etat.session_inactive():  # the service refuses every call from then on, callbacks included
        ecran_verrou(utilisateur)
        return None
    etat.noter_activite()
    return utilisateur


def _ouvrir_session(utilisateur: Utilisateur) -> None:
    st.session_state[etat.CLE_UTILISATEUR] = utilisateur
    etat.noter_compte(utilisateur)
    etat.noter_activite()
    st.session_state.pop(_VERROU, None)


def _depuis_oidc() -> Utilisateur | None:
    interop = etat.moteur().registre.interop
    info = identite.identite_oidc(interop)
    if info is None:
        return None
    if not identite.recente(info, delai_inactivite_s()):
        # A reload after the idle delay: the provider must confirm the person again (one tap, no password here).
        st.session_state[_OIDC_A_CONFIRMER] = True
        return None
    profil = {"prenom": info.prenom, "nom_famille": info.nom_famille, "profession": info.profession,
              "rpps": info.rpps}
    try:
        utilisateur = etat.depot_brut().comptes.connecter_oidc(info.identifiant, rpps=info.rpps, profil=profil)
    except ErreurConnexion as exc:
        st.error(en_francais(exc))
        return None
    remise = etat.remise(utilisateur.identifiant)
    if remise is not None:
        # A tablet of this account is in a patient's hands (issue #30): the provider's cookie alone does not reopen
        # the session; the person must have authenticated at the provider since the hand-over (its « auth_time »;
        # a provider that does not give it: a token issued since, i.e. a new round trip through the provider).
        depuis = info.authentifie_le if info.authentifie_le is not None else info.emis_le
        if depuis is None or depuis <= remise:
            st.session_state[_TABLETTE_REMISE] = True
            return None
        etat.fin_remise(utilisateur.identifiant)
    _ouvrir_session(utilisateur)
    return utilisateur


def premier_compte() -> None:
    """No account yet: create the first coordinator (no default password exists)."""
    st.markdown("### Premier démarrage")
    st.info("Aucun compte n’existe encore. Créez le compte du coordinateur de la structure : il créera ensuite "
            "les comptes des kinésithérapeutes et des médecins.")
    with st.form("form_premier_compte", enter_to_submit=False):
        identifiant = st.text_input("Identifiant (ex. prenom.nom)", key="premier_identifiant")
        nom = st.text_input("Nom affiché", key="premier_nom")
        mot_de_passe = st.text_input("Mot de passe (12 caractères au moins)", type="password", key="premier_mdp")
        confirmation = st.text_input("Confirmer le mot de passe", type="password", key="premier_mdp2")
        envoye = st.form_submit_button("Créer le compte coordinateur", type="primary", key="creer_premier")
    if not envoye:
        return
    if mot_de_passe != confirmation:
        st.error("Mot de passe : les deux saisies diffèrent.")
        return
    try:  # refused in the same write once any account exists (another tab was quicker)
        utilisateur = etat.depot_brut().comptes.creer_premier_compte(identifiant=identifiant, nom=nom,
                                                                      mot_de_passe=mot_de_passe)
    except TriageError as exc:
        st.error(en_francais(exc))
        return
    _ouvrir_session(utilisateur)
    st.rerun()


def formulaire_connexion() -> None:
    """Local login form (and the identity provider's button when configured)."""
    st.markdown("### Connexion")
    if etat.triage_dans_url():
        st.info("Le triage en cours est enregistré : il reprendra à la même étape après la connexion.",
                icon=":material/restore:")
    if identite.oidc_configure():
        if st.session_state.get(_TABLETTE_REMISE):
            st.warning("Cette tablette a été remise à un patient : le kinésithérapeute se reconnecte auprès du "
                       "fournisseur d’identité (une nouvelle authentification est demandée).",
                       icon=":material/tablet:")
        elif st.session_state.get(_OIDC_A_CONFIRMER):
            st.info("Connexion au fournisseur d’identité trop ancienne : confirmez-la pour continuer.",
                    icon=":material/verified_user:")
        st.button("Se connecter avec le fournisseur d’identité de la structure", key="connexion_oidc",
                  on_click=identite.demarrer_oidc, type="primary", width="stretch")
        st.caption("ou avec un compte local :")
    with st.form("form_connexion", enter_to_submit=False):
        identifiant = st.text_input("Identifiant", key="connexion_identifiant", autocomplete="username")
        mot_de_passe = st.text_input("Mot de passe", type="password", key="connexion_mdp",
                                     autocomplete="current-password")
        envoye = st.form_submit_button("Se connecter", type="primary", key="se_connecter", width="stretch")
    if envoye:
        try:
            utilisateur = etat.depot_brut().comptes.connecter(identifiant, mot_de_passe)
        except ErreurConnexion as exc:
            st.error(f"Connexion refusée : {exc}.")
            return
        _ouvrir_session(utilisateur)
        st.rerun()


def ecran_verrou(utilisateur: Utilisateur) -> None:
    """Idle lock: the work in progress is saved; the same user unlocks, or someone else logs in."""
    st.markdown("### Session verrouillée")
    st.info(f"Session de {brut(utilisateur.nom)} verrouillée après inactivité. Le triage en cours est enregistré et "
            "reprendra à la même étape.")
    if utilisateur.source == "local":
        with st.form("form_deverrouiller", enter_to_submit=False):
            mot_de_passe = st.text_input("Mot de passe", type="password", key="verrou_mdp")
            envoye = st.form_submit_button("Déverrouiller", type="primary", key="deverrouiller", width="stretch")
        if envoye:
            try:
                _ouvrir_session(etat.depot_brut().comptes.connecter(utilisateur.identifiant, mot_de_passe))
            except ErreurConnexion as exc:
                st.error(f"Déverrouillage refusé : {exc}.")
                return
            st.rerun()
    st.button("Changer d’utilisateur", key="changer_utilisateur", on_click=deconnecter, width="stretch")


def deconnecter() -> None:
    """Log out: audit event, session forgotten (the drafts stay in the database)."""
    utilisateur: Utilisateur | None = st.session_state.get(etat.CLE_UTILISATEUR)
    if utilisateur is not None:
        etat.depot_brut().comptes.deconnecter(acteur=utilisateur.identifiant)
    for cle in list(st.session_state.keys()):
        del st.session_state[cle]
    if utilisateur is not None and utilisateur.source == "oidc":
        identite.terminer_oidc()


@st.fragment(run_every=30)
def veille() -> None:
    """Every 30 s, lock the page if the user has been idle too long (a full rerun draws the lock screen)."""
    derniere = st.session_state.get(_ACTIVITE)
    if derniere is not None and time.monotonic() - derniere > delai_inactivite_s():
        st.session_state[_VERROU] = True
        st.rerun(scope="app")
