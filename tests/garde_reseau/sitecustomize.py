"""Socket guard for the server tests: any connection or name look-up outside the loopback is refused and noted.

Loaded by Python at start-up when this folder is on ``PYTHONPATH`` (``sitecustomize``), so it also holds in the
process that ``triage-app serve`` replaces itself with (``os.execv`` keeps the environment). Each refused
attempt is appended, one line each, to the file named by ``GARDE_RESEAU_JOURNAL``, and raises
``PermissionError`` as a network namespace without a route would. Binding a listening socket is allowed on
any address: only outbound traffic is refused.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

_JOURNAL = os.environ.get("GARDE_RESEAU_JOURNAL", "")
_NOMS_LOCAUX = {None, "", "localhost", "0.0.0.0", "::"}
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_sendto = socket.socket.sendto
_getaddrinfo = socket.getaddrinfo


def _noter(quoi: str) -> None:
    if _JOURNAL:
        with open(_JOURNAL, "a", encoding="utf-8") as f:
            f.write(quoi + "\n")


def _hote_local(hote: Any) -> bool:
    if isinstance(hote, bytes):
        hote = hote.decode(errors="replace")
    if hote in _NOMS_LOCAUX:
        return True
    try:
        ip = ipaddress.ip_address(str(hote).split("%")[0])
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def _adresse_locale(sock: socket.socket, adresse: Any) -> bool:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return True  # Unix sockets, netlink…: not network traffic
    return isinstance(adresse, tuple) and _hote_local(adresse[0])


def _refuser(quoi: str) -> None:
    _noter(quoi)
    raise PermissionError(f"garde réseau : connexion hors de la boucle locale refusée ({quoi})")


def connect(self: socket.socket, adresse: Any) -> None:
    if not _adresse_locale(self, adresse):
        _refuser(f"connect {adresse!r}")
    return _connect(self, adresse)


def connect_ex(self: socket.socket, adresse: Any) -> int:
    if not _adresse_locale(self, adresse):
        _refuser(f"connect_ex {adresse!r}")
    return _connect_ex(self, adresse)


def sendto(self: socket.socket, donnees: Any, *args: Any) -> int:
    adresse = args[-1] if args else None
    if not _adresse_locale(self, adresse):
        _refuser(f"sendto {adresse!r}")
    return _sendto(self, donnees, *args)


def getaddrinfo(hote: Any, *args: Any, **kwargs: Any) -> Any:
    if not _hote_local(hote):
        _refuser(f"getaddrinfo {hote!r}")
    return _getaddrinfo(hote, *args, **kwargs)


socket.socket.connect = connect  # type: ignore[method-assign]
socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
socket.getaddrinfo = getaddrinfo
