"""Several ``triage-app serve`` processes on one PostgreSQL database, behind HAProxy (TLS, sticky sessions).

For a structure or a CPTS that outgrows one process (issue #25): each Streamlit session lives in the memory of the
process that opened it, so HAProxy keeps every browser on its process with a cookie (``TRIAGE_INSTANCE``), relays the
websocket (``/_stcore/stream``) and ends TLS. The processes listen on 127.0.0.1 only; the database is shared
(``TRIAGE_DATABASE_URL=postgresql+psycopg://…``: SQLite is for one process). Started in the foreground; Ctrl-C (or
SIGTERM) stops HAProxy and every process.

    TRIAGE_DATABASE_URL=postgresql+psycopg://triage@127.0.0.1/triage \\
        ./scripts/plusieurs --processus 2 --port 8443 --certificat cert.pem --cle cle.pem

HAProxy comes from Debian (``apt-get install haproxy``). Its configuration is written into a private temporary
folder (``--garder-config DOSSIER`` keeps a copy to read or adapt).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

RACINE = Path(__file__).resolve().parents[1]
HOTE = "127.0.0.1"
COOKIE = "TRIAGE_INSTANCE"


def configuration_haproxy(ports: Sequence[int], pem: Path, port_public: int, adresse_publique: str = "*") -> str:
    """HAProxy's configuration: TLS on ``port_public``, one backend server per ``serve`` process, sticky by cookie.

    - ``balance roundrobin`` for a new browser, then the ``TRIAGE_INSTANCE`` cookie keeps it on its process (its
      Streamlit session, its login, its open triage live there); a process that stops is skipped (health check) and
      its browsers log in again on another one.
    - The websocket stays open as long as the tablet (``timeout tunnel``); the answers carry HSTS.
    """
    serveurs = "\n".join(f"    server triage{i} {HOTE}:{port} check cookie triage{i}"
                         for i, port in enumerate(ports, 1))
    return f"""# Written by deploy/plusieurs.py (issue #25): {len(ports)} triage-app processes behind one TLS front.
global
    maxconn 2000
    ssl-default-bind-options ssl-min-ver TLSv1.2
    log stderr format raw daemon notice

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    # The page's websocket (/_stcore/stream) stays open while the tablet is on the page.
    timeout tunnel 8h
    timeout http-request 15s

frontend triage_tls
    bind {adresse_publique}:{port_public} ssl crt {pem} alpn http/1.1
    http-request set-header X-Forwarded-Proto https
    http-response set-header Strict-Transport-Security "max-age=31536000"
    default_backend triage_processus

backend triage_processus
    balance roundrobin
    # Sticky sessions: the first answer sets the cookie, later requests (the websocket included) follow it.
    cookie {COOKIE} insert indirect nocache httponly secure attr "SameSite=Strict"
    option httpchk GET /_stcore/health
    http-check expect string ok
{serveurs}
"""


def _sain(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOTE}:{port}/_stcore/health", timeout=2) as r:
            return r.read().decode().strip() == "ok"
    except OSError:
        return False


def _erreur(message: str) -> int:
    print(f"plusieurs : {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parseur = argparse.ArgumentParser(prog="plusieurs", description=__doc__,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    parseur.add_argument("--processus", type=int, default=2, help="processus triage-app serve (défaut : 2)")
    parseur.add_argument("--port", type=int, default=8443, help="port HTTPS public (défaut : 8443)")
    parseur.add_argument("--adresse", default="*", help="adresse d'écoute publique (défaut : toutes)")
    parseur.add_argument("--port-interne", type=int, default=8601,
                         help="premier port des processus sur 127.0.0.1 (défaut : 8601, puis 8602…)")
    parseur.add_argument("--certificat", required=True, help="certificat TLS de la structure (PEM)")
    parseur.add_argument("--cle", required=True, help="clé privée du certificat (PEM)")
    parseur.add_argument("--garder-config", metavar="DOSSIER", help="copier ici la configuration HAProxy écrite")
    args = parseur.parse_args(argv)

    url = os.environ.get("TRIAGE_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return _erreur("TRIAGE_DATABASE_URL doit désigner la base PostgreSQL commune (postgresql+psycopg://…) : "
                       "plusieurs processus ne partagent pas un fichier SQLite")
    if not 1 <= args.processus <= 32:
        return _erreur("--processus : entre 1 et 32")
    haproxy = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).is_file()), None)
    if haproxy is None:
        return _erreur("HAProxy introuvable : l'installer (Debian : apt-get install haproxy)")
    certificat, cle = Path(args.certificat), Path(args.cle)
    for chemin, option in ((certificat, "--certificat"), (cle, "--cle")):
        if not chemin.is_file():
            return _erreur(f"{option} : fichier introuvable : {chemin}")

    os.umask(0o077)
    # The schema is brought up to date once, before the processes start.
    from triage_app.services.application import Services

    Services(url).fermer()

    processus: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="triage-plusieurs-") as dossier:
        pem = Path(dossier) / "certificat.pem"
        pem.write_bytes(certificat.read_bytes().rstrip(b"\n") + b"\n" + cle.read_bytes())
        ports = [args.port_interne + i for i in range(args.processus)]
        config = Path(dossier) / "haproxy.cfg"
        config.write_text(configuration_haproxy(ports, pem, args.port, args.adresse), encoding="utf-8")
        if args.garder_config:
            Path(args.garder_config).mkdir(parents=True, exist_ok=True)
            shutil.copy(config, Path(args.garder_config) / "haproxy.cfg")

        def arreter(*_: object) -> None:
            for p in reversed(processus):
                if p.poll() is None:
                    p.terminate()
            for p in processus:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()

        signal.signal(signal.SIGTERM, lambda *_: (arreter(), sys.exit(0)))
        try:
            for port in ports:
                processus.append(subprocess.Popen(
                    [sys.executable, "-m", "triage_app.cli", "serve", "--adresse", HOTE, "--port", str(port)],
                    stdin=subprocess.DEVNULL, cwd=RACINE))
            limite = time.monotonic() + 90
            while not all(_sain(p) for p in ports):
                if time.monotonic() > limite or any(p.poll() is not None for p in processus):
                    arreter()
                    return _erreur("un processus triage-app n'a pas démarré (voir ses messages ci-dessus)")
                time.sleep(0.2)
            processus.append(subprocess.Popen([haproxy, "-db", "-f", str(config)], stdin=subprocess.DEVNULL))
            pids = " ".join(str(p.pid) for p in processus[:-1])
            print(f"triage_app : https://<ce poste>:{args.port} — {args.processus} processus (pid {pids}) derrière "
                  f"HAProxy (pid {processus[-1].pid}) ; Ctrl-C pour arrêter.", flush=True)
            while all(p.poll() is None for p in processus):
                time.sleep(0.5)
            return _erreur("un processus s'est arrêté : arrêt de l'ensemble")
        except KeyboardInterrupt:
            return 0
        finally:
            arreter()


if __name__ == "__main__":
    sys.exit(main())
