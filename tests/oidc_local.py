"""A local OpenID Connect provider for the tests, shaped like Pro Santé Connect (PSC).

:func:`fournisseur_oidc` runs it on 127.0.0.1 and a free port (a ``ThreadingHTTPServer`` in a daemon thread),
with PSC's Keycloak paths under ``/auth/realms/esante-wallet``:

- discovery at the standard ``/.well-known/openid-configuration`` and at PSC's own
  ``/.well-known/wallet-openid-configuration``; the JWKS at ``…/certs``;
- authorization: approves the configured user at once (no form) and redirects back with a code;
  each request's parameters are kept in ``autorisations`` (scope, acr_values, prompt, PKCE…);
- token (``authorization_code``, client secret in Basic or in the form, PKCE S256 checked): an access token and
  an RS256 ID token with the nonce, ``acr`` = ``eidas1`` and ``sid``;
- userinfo: the user's PSC claims (JSON, or a signed JWT with ``userinfo_jwt=True`` as PSC may answer);
- end_session: each call is kept in ``deconnexions`` and ends the session named by ``id_token_hint``
  (its access tokens stop working), then redirects to ``post_logout_redirect_uri``.

Streamlit's ``st.user`` holds the ID token's claims only (Authlib never calls userinfo during ``st.login()``):
by default every claim of the user also goes into the ID token; ``claims_id_token`` narrows it.
JWTs are signed with joserfc, which comes with Authlib (``streamlit[auth]``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Collection, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

HOTE = "127.0.0.1"
ROYAUME = "/auth/realms/esante-wallet"  # PSC's Keycloak realm
OIDC = f"{ROYAUME}/protocol/openid-connect"
CLIENT_ID = "triage-app-tests"
CLIENT_SECRET = "secret-du-client-des-tests"
ACR = "eidas1"


def utilisateur_psc(rpps: str = "10001234567", prenom: str = "Camille", nom: str = "Martin", *,
                    courriel: str = "camille.martin@exemple.fr", code_profession: str = "70") -> dict[str, Any]:
    """PSC-shaped userinfo claims (scope ``scope_all``) for a professional (70: masseur-kinésithérapeute, 10:
    médecin). The national id is ``"8" + RPPS`` (``preferred_username``, ``SubjectNameID``)."""
    idnat = "8" + rpps
    exercice = {"codeProfession": code_profession, "codeCategorieProfessionnelle": "C", "codeCiviliteDexercice": "",
                "nomDexercice": nom, "prenomDexercice": prenom, "codeTypeSavoirFaire": "", "codeSavoirFaire": "",
                "activities": [{"codeModeExercice": "L", "codeSecteurDactivite": "SA07", "codeGenreActivite": "GENR01",
                                "raisonSocialeSite": "MSP DES TESTS", "identifiantTechniqueDeLaStructure": "R10000",
                                "codePostal": "38000", "numeroFinessSite": "", "numeroSiretSite": ""}]}
    return {"sub": f"f:00000000-0000-4000-8000-{rpps[-11:].zfill(12)}:{idnat}", "preferred_username": idnat,
            "SubjectNameID": idnat, "given_name": prenom, "family_name": nom, "email": courriel, "codeCivilite": "",
            "SubjectRefPro": {"codeCivilite": "", "exercices": [exercice]},
            "SubjectRole": [f"{code_profession}^1.2.250.1.213.1.1.5.5"], "SubjectOrganization": "MSP DES TESTS",
            "SubjectOrganizationID": "R10000", "otherIds": [{"identifiant": rpps, "origine": "RPPS", "qualite": 1}]}


def _toml(valeur: Any) -> str:
    """A TOML value (strings, lists and inline tables only: enough for Streamlit's ``[auth]``)."""
    if isinstance(valeur, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in valeur.items()) + " }"
    if isinstance(valeur, list | tuple):
        return "[" + ", ".join(_toml(v) for v in valeur) + "]"
    return json.dumps(str(valeur))  # a JSON string is a valid TOML basic string


class _Serveur(ThreadingHTTPServer):
    daemon_threads = True
    fournisseur: FournisseurOidc


class FournisseurOidc:
    """The provider and what it saw. Start it with :func:`fournisseur_oidc`."""

    def __init__(self, utilisateur: dict[str, Any], *, claims_id_token: Collection[str] | None = None,
                 userinfo_jwt: bool = False) -> None:
        self.utilisateur = dict(utilisateur)
        self.claims_id_token = claims_id_token  # None: all of the user's claims also go into the ID token
        self.userinfo_jwt = userinfo_jwt
        self.cle = RSAKey.generate_key(2048, parameters={"kid": "cle-tests", "use": "sig", "alg": "RS256"},
                                       private=True)
        self.autorisations: list[dict[str, str]] = []
        self.deconnexions: list[dict[str, Any]] = []
        self.sessions: set[str] = set()  # live provider sessions (``sid``)
        self._codes: dict[str, dict[str, Any]] = {}
        self._jetons: dict[str, str] = {}  # access token -> sid
        self.verrou = threading.Lock()
        self._serveur = _Serveur((HOTE, 0), _Gestionnaire)
        self._serveur.fournisseur = self
        self._fil = threading.Thread(target=self._serveur.serve_forever, name="fournisseur-oidc", daemon=True)

    @property
    def issuer(self) -> str:
        return f"http://{HOTE}:{self._serveur.server_address[1]}{ROYAUME}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        base = self.issuer.removesuffix(ROYAUME) + OIDC
        return {"issuer": self.issuer, "authorization_endpoint": f"{base}/auth", "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/userinfo", "end_session_endpoint": f"{base}/logout",
                "jwks_uri": f"{base}/certs", "response_types_supported": ["code"], "acr_values_supported": [ACR],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "scope_all"], "claims_supported": sorted(self.utilisateur)}

    def secrets_toml(self, redirect_uri: str, *, fournisseur: str | None = "default", prompt: str = "login",
                     expose_tokens: Collection[str] = ("id", "access")) -> str:
        """Streamlit's ``[auth]`` section for this provider, as PSC needs it (scope ``openid scope_all``).

        ``redirect_uri`` may hold ``{port}`` (Streamlit puts its own port there). The client's keys go in an
        ``[auth.<fournisseur>]`` section (``"default"``: what ``st.login()`` uses; ``"psc"``: ``st.login("psc")``),
        the only form where Streamlit hands ``authorize_params`` (``acr_values = "eidas1"``) to Authlib; with
        ``fournisseur=None`` they sit in ``[auth]`` itself and no ``acr_values`` is sent."""
        commun = {"redirect_uri": redirect_uri, "cookie_secret": secrets.token_urlsafe(32),
                  "expose_tokens": list(expose_tokens)}
        client = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "server_metadata_url": self.metadata_url,
                  "client_kwargs": {"scope": "openid scope_all", "prompt": prompt}}
        lignes = ["[auth]", *(f"{k} = {_toml(v)}" for k, v in commun.items())]
        if fournisseur is not None:
            lignes.append(f"\n[auth.{fournisseur}]")
            client["authorize_params"] = {"acr_values": ACR}
        lignes += [f"{k} = {_toml(v)}" for k, v in client.items()]
        return "\n".join(lignes) + "\n"

    @property
    def session_active(self) -> bool:
        with self.verrou:
            return bool(self.sessions)

    def demarrer(self) -> FournisseurOidc:
        self._fil.start()
        return self

    def arreter(self) -> None:
        if self._fil.is_alive():
            self._serveur.shutdown()
            self._fil.join(timeout=10)
        self._serveur.server_close()

    # -- the endpoints (called from the server's threads) -------------------------------------------------

    def autoriser(self, q: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self.verrou:
            self.autorisations.append(q)
        retour = q.get("redirect_uri", "")
        if q.get("client_id") != CLIENT_ID or not retour.startswith(("http://", "https://")):
            return 400, {}, b"client_id ou redirect_uri invalide"
        sep = "&" if urlsplit(retour).query else "?"
        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            erreur = {"error": "invalid_request", "state": q.get("state", "")}
            return 302, {"Location": retour + sep + urlencode(erreur)}, b""
        code, sid = secrets.token_urlsafe(24), secrets.token_hex(16)
        with self.verrou:
            self.sessions.add(sid)
            self._codes[code] = {**q, "sid": sid, "auth_time": int(time.time())}
        params = {"code": code, "session_state": sid, **({"state": q["state"]} if "state" in q else {})}
        return 302, {"Location": retour + sep + urlencode(params)}, b""

    def jeton(self, form: dict[str, str], autorisation: str | None) -> tuple[int, dict[str, Any]]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if autorisation and autorisation.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(autorisation[6:]).decode().partition(":")
        if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        with self.verrou:
            demande = self._codes.pop(form.get("code", ""), None)  # a code serves once
        if form.get("grant_type") != "authorization_code" or demande is None \
                or form.get("redirect_uri") != demande.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        if "code_challenge" in demande:
            empreinte = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(empreinte).rstrip(b"=").decode() != demande["code_challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        maintenant, acces = int(time.time()), secrets.token_urlsafe(32)
        gardes = self.utilisateur if self.claims_id_token is None else {
            k: v for k, v in self.utilisateur.items() if k in self.claims_id_token}
        claims = {**gardes, "iss": self.issuer, "sub": self.utilisateur["sub"], "aud": CLIENT_ID, "azp": CLIENT_ID,
                  "iat": maintenant, "exp": maintenant + 300, "auth_time": demande["auth_time"], "acr": ACR,
                  "sid": demande["sid"], **({"nonce": demande["nonce"]} if "nonce" in demande else {})}
        with self.verrou:
            self._jetons[acces] = demande["sid"]
        return 200, {"access_token": acces, "token_type": "Bearer", "expires_in": 120, "scope": demande["scope"],
                     "id_token": self.signer(claims)}

    def userinfo(self, autorisation: str | None) -> tuple[int, str, bytes]:
        acces = (autorisation or "").removeprefix("Bearer ").strip()
        with self.verrou:
            valide = self._jetons.get(acces) in self.sessions
        if not valide:
            return 401, "application/json", b'{"error": "invalid_token"}'
        if self.userinfo_jwt:
            claims = {**self.utilisateur, "iss": self.issuer, "aud": CLIENT_ID}
            return 200, "application/jwt", self.signer(claims).encode()
        return 200, "application/json", json.dumps(self.utilisateur).encode()

    def deconnecter(self, q: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        sid = None
        with contextlib.suppress(Exception):  # a missing or foreign hint ends no session
            sid = jwt.decode(q["id_token_hint"], self.cle).claims.get("sid")
        with self.verrou:
            self.deconnexions.append({**q, "sid": sid, "session_terminee": sid in self.sessions})
            self.sessions.discard(sid or "")
        retour = q.get("post_logout_redirect_uri")
        if retour:
            if "state" in q:
                retour += ("&" if urlsplit(retour).query else "?") + urlencode({"state": q["state"]})
            return 302, {"Location": retour}, b""
        return 200, {}, "Vous êtes déconnecté du fournisseur d’identité de test.".encode()

    def signer(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": "RS256", "kid": self.cle.kid, "typ": "JWT"}, claims, self.cle)


class _Gestionnaire(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet

    def _envoyer(self, statut: int, corps: bytes, type_: str = "text/plain; charset=utf-8",
                 en_tetes: dict[str, str] | None = None) -> None:
        self.send_response(statut)
        for nom, valeur in {"Content-Type": type_, "Cache-Control": "no-store", **(en_tetes or {})}.items():
            self.send_header(nom, valeur)
        self.send_header("Content-Length", str(len(corps)))
        self.end_headers()
        self.wfile.write(corps)

    def _json(self, statut: int, donnees: dict[str, Any]) -> None:
        self._envoyer(statut, json.dumps(donnees).encode(), "application/json")

    def _router(self, params: dict[str, str]) -> None:
        f = cast(_Serveur, self.server).fournisseur
        chemin = urlsplit(self.path).path
        if chemin in (f"{ROYAUME}/.well-known/openid-configuration",
                      f"{ROYAUME}/.well-known/wallet-openid-configuration"):  # PSC's own discovery path
            self._json(200, f.metadata())
        elif chemin == f"{OIDC}/certs":
            self._json(200, {"keys": [f.cle.as_dict(private=False)]})
        elif chemin == f"{OIDC}/auth":
            statut, en_tetes, corps = f.autoriser(params)
            self._envoyer(statut, corps, en_tetes=en_tetes)
        elif chemin == f"{OIDC}/token" and self.command == "POST":
            self._json(*f.jeton(params, self.headers.get("Authorization")))
        elif chemin == f"{OIDC}/userinfo":
            statut, type_, corps = f.userinfo(self.headers.get("Authorization"))
            self._envoyer(statut, corps, type_, {"WWW-Authenticate": "Bearer"} if statut == 401 else None)
        elif chemin == f"{OIDC}/logout":
            statut, en_tetes, corps = f.deconnecter(params)
            self._envoyer(statut, corps, en_tetes=en_tetes)
        else:
            self._envoyer(404, b"introuvable")

    def do_GET(self) -> None:
        self._router(dict(parse_qsl(urlsplit(self.path).query)))

    def do_POST(self) -> None:
        corps = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self._router(dict(parse_qsl(corps)))


@contextlib.contextmanager
def fournisseur_oidc(utilisateur: dict[str, Any], *, claims_id_token: Collection[str] | None = None,
                     userinfo_jwt: bool = False) -> Iterator[FournisseurOidc]:
    """The provider running on 127.0.0.1 for the ``with`` block, then stopped and its socket closed."""
    fournisseur = FournisseurOidc(utilisateur, claims_id_token=claims_id_token, userinfo_jwt=userinfo_jwt)
    try:
        yield fournisseur.demarrer()
    finally:
        fournisseur.arreter()
