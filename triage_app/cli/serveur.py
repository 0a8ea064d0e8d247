"""``serve``: the page's server (Streamlit's, through :mod:`triage_app.ui.serveur`), with the server
settings pinned whatever the working directory."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from triage_app.errors import ErreurSaisie, Probleme

APPLICATION = Path(__file__).resolve().parents[1] / "ui" / "app.py"


LOCALE = "127.0.0.1"


TOUTES_LES_INTERFACES = "0.0.0.0"  # only with « serve --reseau »


# Server settings passed on the command line, so that they hold whatever the working directory (Streamlit reads
# .streamlit/config.toml from the current folder only): no telemetry, no outbound look-up at start (Streamlit
# guesses its « External URL » by calling an outside service and its « Network URL » with a UDP connect unless
# its welcome message is hidden), no tracebacks shown to users, no file watcher.
OPTIONS_SERVEUR = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "logger.hideWelcomeMessage": "true",
    "client.showErrorDetails": "none",
    "client.toolbarMode": "minimal",  # no app menu (Print, Record screen: English, not for a kiné)
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "server.enableXsrfProtection": "true",
    # Many tablets on one process (issue #25): Streamlit's full garbage collection after every run (~170 ms with the
    # page's objects) holds the interpreter, so every other session waits and SQLite writes time out behind it. At
    # 10 tablets it took 86 % of the server's time (p95 per tap 2,075 ms; 11,112 ms and « base occupée » at 30); off,
    # p95 223 ms at 30 tablets. Python's own generational collector still frees cycles (memory: bench/charge.py).
    "runner.postScriptGC": "false",
    # Whatever a .streamlit/config.toml in the working folder or the user's home says (issue #28): no anonymous agent
    # API, no static file serving, the browser's origin checked, no development mode.
    "server.enableAgentApi": "false",
    "server.enableStaticServing": "false",
    "server.enableCORS": "true",
    "server.allowRunOnSave": "false",
    "server.enableExpensiveMemoryStats": "false",
    "global.developmentMode": "false",
}


def _est_locale(adresse: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(adresse).is_loopback
    except ValueError:
        return adresse == "localhost"


# The page's settings (theme, runner…): the project's own file, found from the package (an absolute path), so
# that they hold whatever folder ``serve`` is started from; OPTIONS_SERVEUR come on top.
CONFIG_PAGE = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def options_page(chemin: Path = CONFIG_PAGE) -> dict[str, str]:
    """Every ``section.option`` of the page's config file, as Streamlit's command line takes them."""
    import tomllib

    if not chemin.is_file():
        return {}
    options: dict[str, str] = {}
    for section, valeurs in tomllib.loads(chemin.read_text(encoding="utf-8")).items():
        for nom, valeur in valeurs.items():
            options[f"{section}.{nom}"] = str(valeur).lower() if isinstance(valeur, bool) else str(valeur)
    return options


def commande_serveur(port: int, adresse: str = LOCALE, certificat: Path | None = None,
                     cle: Path | None = None) -> list[str]:
    """The command line of the page's server (Streamlit's, through :mod:`triage_app.ui.serveur`: security headers,
    private files)."""
    argv = [sys.executable, "-m", "triage_app.ui.serveur", "run", str(APPLICATION)]
    for option, valeur in (options_page() | OPTIONS_SERVEUR | {"server.port": str(port),
                                                                  "server.address": adresse}).items():
        argv += [f"--{option}", valeur]
    if certificat is not None and cle is not None:
        argv += ["--server.sslCertFile", str(certificat), "--server.sslKeyFile", str(cle)]
    return argv


def _fichier_lisible(chemin: str | None, champ: str) -> Path | None:
    if chemin is None:
        return None
    p = Path(chemin)
    if not p.is_file():
        raise ErreurSaisie([Probleme(champ, f"fichier introuvable : {chemin}")])
    try:
        p.read_bytes()
    except OSError as exc:
        raise ErreurSaisie([Probleme(champ, f"fichier illisible : {chemin} ({exc.strerror})")]) from None
    return p


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the page (replaces this process with Streamlit's server)."""
    from triage_app.config import Reglages
    from triage_app.services.application import Services

    if (args.certificat is None) != (args.cle is None):
        raise ErreurSaisie([Probleme("--certificat" if args.certificat is None else "--cle",
                                     "HTTPS demande à la fois --certificat et --cle")])
    certificat = _fichier_lisible(args.certificat, "--certificat")
    cle = _fichier_lisible(args.cle, "--cle")
    adresse = args.adresse or (TOUTES_LES_INTERFACES if args.reseau else LOCALE)
    # Create and migrate the database before the first visitor, so a bad setting fails here, in French; a database
    # whose audit chain is sealed needs its key (issue #28): missing, the server does not start (CleAbsente, French).
    services = Services(Reglages().url_base)
    try:
        _ = services.uow.cle
    finally:
        services.fermer()
    schema = "https" if certificat else "http"
    hote = "localhost" if _est_locale(adresse) or adresse == TOUTES_LES_INTERFACES else adresse
    print(f"triage_app : {schema}://{hote}:{args.port} (Ctrl-C pour arrêter)", flush=True)
    if _est_locale(adresse):
        print("Page servie sur ce poste seulement (127.0.0.1). Pour les tablettes du réseau : "
              "triage-app serve --reseau --certificat CERT.pem --cle CLE.pem.", flush=True)
    elif certificat is None:
        print(f"ATTENTION : page ouverte au réseau ({adresse}) sans HTTPS. Les tablettes ont besoin de HTTPS "
              "(données de santé, connexion, WebSocket) : donner le certificat de la structure avec "
              "--certificat CERT.pem --cle CLE.pem, ou servir sur 127.0.0.1 derrière un proxy inverse TLS "
              "(voir le README).", file=sys.stderr, flush=True)
    else:
        print(f"Page ouverte au réseau ({adresse}) en HTTPS : les tablettes l'ouvrent à "
              f"https://<nom ou adresse de ce poste>:{args.port} (le nom doit figurer dans le certificat).",
              flush=True)
    from triage_app.ui.serveur import VARIABLE_NOMS

    if args.nom:  # the names the page may be asked for, besides IP addresses and this machine's own (Host check)
        os.environ[VARIABLE_NOMS] = ",".join([*filter(None, os.environ.get(VARIABLE_NOMS, "").split(",")), *args.nom])
    argv = commande_serveur(args.port, adresse, certificat, cle)
    os.execv(argv[0], argv)
    return 0  # pragma: no cover - execv does not return
