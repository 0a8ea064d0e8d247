"""Adapter around Streamlit's OIDC login (``st.login`` / ``st.user``): the rest of the app sees plain data.

Pro Santé Connect (the professionals' identity provider) returns the professional data through ``userinfo``,
which Streamlit never calls: when the structure lets the page see the access token (``expose_tokens``), the
claims are read from ``userinfo`` once per login (JSON, or a JWT checked against the provider's keys). Where
each account field sits in the claims is data (``protocols/interoperabilite.yaml``, ``pro_sante_connect``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import streamlit as st

from triage_app.models.interop import Interop

_USERINFO = "oidc_userinfo"  # the userinfo claims of this login (session only), keyed by the ID token's iat


@dataclass(frozen=True)
class IdentiteOidc:
    """What the identity provider says about the person: the account key (e-mail, else the national id), the
    professional identity when the provider gives it (Pro Santé Connect), and when its ID token was issued."""

    identifiant: str
    nom: str
    rpps: str | None = None
    prenom: str | None = None
    nom_famille: str | None = None
    profession: str | None = None
    emis_le: float | None = None
    authentifie_le: float | None = None  # the provider's « auth_time »: when the person last proved who they are


def oidc_configure() -> bool:
    """Whether the structure configured an identity provider in ``.streamlit/secrets.toml`` (``[auth]``)."""
    try:
        return "auth" in st.secrets
    except Exception:  # a missing or broken secrets file means « no provider », never a crash
        return False


def _section_fournisseur() -> dict[str, Any]:
    """The provider's settings: ``[auth]`` itself, or its ``[auth.default]`` sub-section."""
    auth = dict(st.secrets["auth"])
    sous = auth.get("default")
    return {**auth, **dict(sous)} if isinstance(sous, dict) or hasattr(sous, "keys") else auth


def valeur(donnees: dict[str, Any], chemin: str) -> Any:
    """A claim by dotted path (``SubjectRefPro.exercices.0.codeProfession``); ``None`` when absent."""
    courant: Any = donnees
    for partie in chemin.split("."):
        if isinstance(courant, list) and partie.isdigit() and int(partie) < len(courant):
            courant = courant[int(partie)]
        elif isinstance(courant, dict) and partie in courant:
            courant = courant[partie]
        else:
            return None
    return courant


def _userinfo(jeton: str) -> dict[str, Any]:
    """The provider's userinfo for ``jeton`` (JSON, or a JWT verified with the provider's published keys)."""
    import httpx

    with httpx.Client(timeout=10) as client:
        metadonnees = client.get(str(_section_fournisseur()["server_metadata_url"])).raise_for_status().json()
        reponse = client.get(metadonnees["userinfo_endpoint"], headers={"Authorization": f"Bearer {jeton}"})
        reponse.raise_for_status()
        if reponse.headers.get("content-type", "").startswith("application/jwt"):
            from joserfc import jwt
            from joserfc.jwk import KeySet

            cles = KeySet.import_key_set(client.get(metadonnees["jwks_uri"]).raise_for_status().json())
            return dict(jwt.decode(reponse.text.strip(), cles).claims)
        return dict(reponse.json())


def profil_pro(revendications: dict[str, Any], interop: Interop) -> dict[str, str | None]:
    """The account fields found in the claims (Pro Santé Connect's mapping): RPPS from the national id
    (8 + RPPS), profession from its code, first and family names."""
    carte = interop.pro_sante_connect.revendications
    national = str(valeur(revendications, carte["identifiant_national"]) or "")
    prefixe = interop.identifiants["rpps"].prefixe
    rpps = national[len(prefixe):] if national.startswith(prefixe) and len(national) == 12 else None
    code = str(valeur(revendications, carte["profession"]) or "")
    profession = next((k for k, p in interop.professions.items() if p.code and p.code == code), None)
    prenom, nom = valeur(revendications, carte["prenom"]), valeur(revendications, carte["nom"])
    return {"rpps": rpps, "profession": profession, "prenom": str(prenom) if prenom else None,
            "nom_famille": str(nom) if nom else None}


def identite_oidc(interop: Interop | None = None) -> IdentiteOidc | None:
    """The provider's identity of the current browser session, if logged in there."""
    if not oidc_configure():
        return None
    utilisateur = st.user
    if not getattr(utilisateur, "is_logged_in", False):
        return None
    revendications = {k: v for k, v in utilisateur.to_dict().items() if k not in ("tokens", "is_logged_in")}
    emis_le = revendications.get("iat")
    if interop is not None and valeur(revendications, interop.pro_sante_connect.revendications[
            "identifiant_national"]) is None:
        jeton = (getattr(utilisateur, "tokens", None) or {}).get("access")
        memoire = st.session_state.get(_USERINFO)
        if memoire is not None and memoire[0] == emis_le:
            revendications = {**revendications, **memoire[1]}
        elif jeton:
            try:
                complement = _userinfo(str(jeton))
            except Exception:  # the provider unreachable: the ID token's claims only (the account key stays)
                complement = {}
            st.session_state[_USERINFO] = (emis_le, complement)
            revendications = {**revendications, **complement}
    pro = profil_pro(revendications, interop) if interop is not None else {}
    courriel = str(revendications.get("email") or "").strip().lower()
    cle = courriel or (pro.get("rpps") or "")
    if not cle:
        return None
    nom = " ".join(x for x in (pro.get("prenom"), pro.get("nom_famille")) if x) or str(
        revendications.get("name") or cle)
    return IdentiteOidc(cle, nom, rpps=pro.get("rpps"), prenom=pro.get("prenom"), nom_famille=pro.get("nom_famille"),
                        profession=pro.get("profession"),
                        emis_le=float(emis_le) if isinstance(emis_le, int | float) else None,
                        authentifie_le=float(authentification) if isinstance(
                            authentification := revendications.get("auth_time"), int | float) else None)


def recente(info: IdentiteOidc, delai_s: float) -> bool:
    """Whether the provider confirmed the person within ``delai_s`` (the idle delay): Streamlit's login cookie
    lasts 30 days and would otherwise reopen a locked session on a reload, without asking the provider."""
    return info.emis_le is not None and time.time() - info.emis_le <= delai_s


def demarrer_oidc() -> None:
    """Send the browser to the identity provider."""
    st.session_state.pop(_USERINFO, None)
    st.login()


def terminer_oidc() -> None:
    """Log out at the provider's side too (Streamlit sends the browser to its end-session endpoint)."""
    if oidc_configure() and getattr(st.user, "is_logged_in", False):
        st.logout()
