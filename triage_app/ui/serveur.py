"""Streamlit's server as ``triage-app serve`` starts it: the page's settings from the project (whatever the working
directory), security headers on every HTTP answer, and files created private to their owner.

Started as ``python -m triage_app.ui.serveur run APP --option valeur…``
(see :func:`triage_app.cli.serveur.commande_serveur`).
Streamlit 1.67 serves through Starlette: an ASGI middleware is added to its own stack before the server starts.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

# Every answer: no framing by another site (clickjacking), no type sniffing, no referrer, no powerful features.
ENTETES: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
# Served over HTTPS by the server itself: browsers keep to HTTPS for this host (a year).
HSTS = (b"strict-transport-security", b"max-age=31536000")
# Streamlit's internal endpoints a visitor has no use for (the metrics expose the server's sessions and caches).
CACHES = ("/_stcore/metrics",)
# Health data: the database, its journal files and the exports are readable by their owner only.
MASQUE = 0o077

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Recevoir = Callable[[], Awaitable[Message]]
Envoyer = Callable[[Message], Awaitable[None]]


# The names under which the page may be asked for, besides IP addresses, ``localhost`` and this machine's own name:
# the structure's (``serve --nom``, or TRIAGE_NOMS_HOTE, comma-separated), e.g. the name a reverse proxy passes on.
VARIABLE_NOMS = "TRIAGE_NOMS_HOTE"


def _hote(scope: Scope) -> str:
    """The host the client asked for (``Host`` header, port and IPv6 brackets removed, lower case)."""
    for nom, valeur in scope.get("headers", []):
        if nom.lower() == b"host":
            hote = valeur.decode("latin-1").strip().lower()
            if hote.startswith("["):
                return hote[1:hote.find("]")] if "]" in hote else hote
            return hote.rsplit(":", 1)[0] if hote.count(":") == 1 else hote
    return ""


def noms_autorises() -> frozenset[str]:
    """``localhost``, this machine's names and the structure's (:data:`VARIABLE_NOMS`)."""
    import socket

    machine = socket.gethostname().lower()
    noms = {"localhost", machine, f"{machine}.local", machine.split(".")[0]}
    noms |= {n.strip().lower().rstrip(".") for n in os.environ.get(VARIABLE_NOMS, "").split(",") if n.strip()}
    return frozenset(n for n in noms if n)


def hote_autorise(hote: str, noms: frozenset[str]) -> bool:
    """An IP address, or one of ``noms``, or no name at all (an HTTP/1.0 health check from a reverse proxy). A page
    asked for under any other name is refused: DNS rebinding (a foreign site whose name is made to point at this
    server, so that a browser sends it the tablets' requests as « same origin ») always shows its own name in
    ``Host``, which browsers always send."""
    import ipaddress

    if not hote:
        return True
    try:
        ipaddress.ip_address(hote)
    except ValueError:
        return hote.rstrip(".") in noms
    return True


class EntetesDeSecurite:
    """ASGI middleware: adds :data:`ENTETES` to every HTTP response; refuses, on HTTP and on the WebSocket, a request
    whose ``Host`` is not one of this server's (:func:`hote_autorise`)."""

    def __init__(self, app: Callable[[Scope, Recevoir, Envoyer], Awaitable[None]]) -> None:
        self.app = app
        self.noms = noms_autorises()

    async def __call__(self, scope: Scope, receive: Recevoir, send: Envoyer) -> None:
        genre = scope.get("type")
        if genre in ("http", "websocket") and not hote_autorise(_hote(scope), self.noms):
            if genre == "websocket":  # closed before it is accepted: the client gets a 403
                await send({"type": "websocket.close", "code": 1008})
                return
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), *ENTETES]})
            await send({"type": "http.response.body", "body": "Nom d'hôte non reconnu par ce serveur".encode()})
            return
        if genre != "http":
            await self.app(scope, receive, send)
            return
        if str(scope.get("path", "")).rstrip("/").endswith(CACHES):  # the server's internals: not for visitors
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), *ENTETES]})
            await send({"type": "http.response.body", "body": b"Introuvable"})
            return
        entetes = ENTETES + ((HSTS,) if scope.get("scheme") == "https" else ())

        async def envoyer(message: Message) -> None:
            if message.get("type") == "http.response.start":
                presentes = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k, v) for k, v in entetes if k not in presentes]]
            await send(message)

        await self.app(scope, receive, envoyer)


class SansValeurs(logging.Filter):
    """An exception in the server's log keeps its traceback (files, lines, code) but loses its message, which may
    hold stored values (a patient's name in a validation error): the type alone is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            type_, _, pile = record.exc_info
            record.exc_text = ("Traceback (most recent call last):\n" + "".join(traceback.format_tb(pile))
                               + f"{type_.__name__} (message retiré du journal : il peut contenir des données)")
            record.exc_info = None
        return True


def filtrer_journaux() -> None:
    """:class:`SansValeurs` applied to every log record of the process, whichever logger and handler write it
    (Streamlit gives each of its loggers its own handler): through the record factory."""
    fabrique = logging.getLogRecordFactory()
    filtre = SansValeurs()

    def sans_valeurs(*args: Any, **kwargs: Any) -> logging.LogRecord:
        enregistrement = fabrique(*args, **kwargs)
        filtre.filter(enregistrement)
        return enregistrement

    logging.setLogRecordFactory(sans_valeurs)


def installer() -> None:
    """Add the middleware to Streamlit's stack (before the server is created)."""
    from starlette.middleware import Middleware
    from streamlit.web.server.starlette import starlette_app

    origine = starlette_app.create_streamlit_middleware

    def pile() -> list[Any]:
        return [Middleware(EntetesDeSecurite), *origine()]

    starlette_app.create_streamlit_middleware = pile  # type: ignore[assignment]


def sans_adresse_exterieure() -> None:
    """No outside look-up, whatever a client sends (issue #28). For a WebSocket whose Origin is not the page's own
    host, Streamlit compares it with the machine's addresses, which it finds by calling an outside service
    (``checkip.amazonaws.com``, then HTTPS) and by a UDP « connect » to a public address: on a network that drops
    traffic each refused connection froze the server for about 2 s. Both answers are now « unknown », at their source:
    a foreign Origin is refused at once (403), the tablets' same-origin connections are not concerned."""
    from streamlit import net_util

    net_util.get_external_ip = lambda: None  # type: ignore[assignment]
    net_util.get_internal_ip = lambda: None  # type: ignore[assignment]


def prechauffer() -> None:
    """Before the first visitor: the rules compiled and the page's modules imported, then every object made so far set
    aside from the garbage collector (``gc.freeze``). With post-run collection off (many tablets: issue #25), Python's
    own full collections still stop every session while they scan all objects; without the ~150,000 objects of the
    libraries, the rules and the page, they scanned half as long (max 98 ms instead of 233 ms at 30 tablets)."""
    import gc
    import importlib
    import pkgutil

    from triage_app.engine.evaluation import moteur
    from triage_app.ui import ecrans

    moteur()
    for module in ("triage_app.ui.navigation", "triage_app.ui.connexion", "triage_app.ui.composants",
                   *(f"{ecrans.__name__}.{m.name}" for m in pkgutil.iter_modules(ecrans.__path__))):
        importlib.import_module(module)
    gc.collect()
    gc.freeze()


# How long a thread keeps the interpreter before another one may take it (Python's default: 5 ms). Each session's run
# is a thread; a write holds the database's lock (SQLite's, or the audit chain's row on PostgreSQL) across several round
# trips, and after each one it waits for the interpreter behind the other sessions' runs. At 1 ms the lock is held
# shorter: 60 tablets on 2 processes, waiters on PostgreSQL's lock 0.31 → 0.16 on average, p95 per tap 232 → 177 ms
# (bench/charge.py --proxy; issue #25; measured before rules v3 and the sealing of every row: BENCHMARKS.md has
# today's figure).
INTERVALLE_BASCULE_S = 0.001


def main() -> None:
    os.umask(MASQUE)
    filtrer_journaux()
    installer()
    sans_adresse_exterieure()
    sys.setswitchinterval(INTERVALLE_BASCULE_S)
    prechauffer()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
