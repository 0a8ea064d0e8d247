"""Adapter around Streamlit's OIDC login (``st.login`` / ``st.user``): the rest of the app sees plain data."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class IdentiteOidc:
    """What the identity provider says about the person (email used as the account identifier)."""

    identifiant: str
    nom: str


def oidc_configure() -> bool:
    """Whether the structure configured an identity provider in ``.streamlit/secrets.toml`` (``[auth]``)."""
    try:
        return "auth" in st.secrets
    except Exception:  # a missing or broken secrets file means « no provider », never a crash
        return False


def identite_oidc() -> IdentiteOidc | None:
    """The provider's identity of the current browser session, if logged in there."""
    if not oidc_configure():
        return None
    utilisateur = st.user
    if not getattr(utilisateur, "is_logged_in", False):
        return None
    courriel = str(utilisateur.get("email") or "").strip().lower()
    if not courriel:
        return None
    return IdentiteOidc(courriel, str(utilisateur.get("name") or courriel))


def demarrer_oidc() -> None:
    """Send the browser to the identity provider."""
    st.login()


def terminer_oidc() -> None:
    """Log out at the provider's side too."""
    if oidc_configure() and getattr(st.user, "is_logged_in", False):
        st.logout()
