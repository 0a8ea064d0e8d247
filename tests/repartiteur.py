"""The documented multi-process deployment (``deploy/plusieurs.py``: HAProxy, TLS, sticky sessions), started as a
structure would start it, on a throw-away certificate and loopback ports: for ``bench.charge --proxy`` and the tests.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

RACINE = Path(__file__).resolve().parents[1]

LANCEUR = RACINE / "deploy" / "plusieurs.py"
_PRET = re.compile(r"\(pid ([\d ]+)\) derrière HAProxy \(pid (\d+)\)")


def _port_libre(nombre: int = 1) -> int:
    """The first of ``nombre`` consecutive free ports on 127.0.0.1 (probed)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + nombre >= 65535:
            continue
        libres = True
        for port in range(base, base + nombre):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    libres = False
                    break
        if libres:
            return base
    raise RuntimeError("pas de ports libres consécutifs")


def certificat_jetable(dossier: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost / 127.0.0.1 (Debian's openssl)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl introuvable")
    cert, cle = dossier / "cert.pem", dossier / "cle.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(cle), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, cle


class Repartiteur:
    """``deploy/plusieurs.py`` running ``processus`` servers on ``url_base`` (PostgreSQL) behind HAProxy."""

    def __init__(self, url_base: str, processus: int = 2, delai_s: float = 120) -> None:
        self.url_base = url_base
        self.processus = processus
        self.delai_s = delai_s
        self.port: int | None = None
        self.pids: list[int] = []
        self.pid_proxy: int | None = None
        self._dossier: tempfile.TemporaryDirectory[str] | None = None
        self._lanceur: subprocess.Popen[bytes] | None = None
        self._journal: IO[bytes] | None = None
        self.cert: Path | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def ssl_client(self) -> ssl.SSLContext:
        """A client context that trusts the throw-away certificate (and checks the name 127.0.0.1)."""
        return ssl.create_default_context(cafile=str(self.cert))

    def __enter__(self) -> Repartiteur:
        self._dossier = tempfile.TemporaryDirectory()
        self.cert, cle = certificat_jetable(Path(self._dossier.name))
        self.port = _port_libre()
        interne = _port_libre(self.processus)
        self._journal = tempfile.TemporaryFile()
        env = {**os.environ, "TRIAGE_DATABASE_URL": self.url_base, "PYTHONUNBUFFERED": "1"}
        self._lanceur = subprocess.Popen(
            [sys.executable, str(LANCEUR), "--processus", str(self.processus), "--port", str(self.port),
             "--adresse", "127.0.0.1", "--port-interne", str(interne), "--certificat", str(self.cert),
             "--cle", str(cle)],
            cwd=RACINE, env=env, stdin=subprocess.DEVNULL, stdout=self._journal, stderr=subprocess.STDOUT,
            start_new_session=True)
        limite = time.monotonic() + self.delai_s
        try:
            while True:
                if self._lanceur.poll() is not None:
                    raise RuntimeError(f"le répartiteur s'est arrêté :\n{self.journal()}")
                if trouve := _PRET.search(self.journal()):
                    self.pids = [int(p) for p in trouve.group(1).split()]
                    self.pid_proxy = int(trouve.group(2))
                    break
                if time.monotonic() > limite:
                    raise RuntimeError(f"le répartiteur n'a pas démarré :\n{self.journal()}")
                time.sleep(0.2)
            self._attendre_proxy(limite)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _attendre_proxy(self, limite: float) -> None:
        import urllib.request

        while time.monotonic() < limite:
            with contextlib.suppress(OSError), urllib.request.urlopen(
                    self.url + "/_stcore/health", timeout=2, context=self.ssl_client()) as r:
                if r.read().decode().strip() == "ok":
                    return
            time.sleep(0.2)
        raise RuntimeError(f"le proxy ne répond pas :\n{self.journal()}")

    def journal(self) -> str:
        if self._journal is None:
            return ""
        self._journal.seek(0)
        return self._journal.read().decode(errors="replace")[-6000:]

    def __exit__(self, *_: Any) -> None:
        lanceur, self._lanceur = self._lanceur, None
        if lanceur is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(lanceur.pid, signal.SIGTERM)
            try:
                lanceur.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(lanceur.pid, signal.SIGKILL)
                lanceur.wait()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._dossier is not None:
            self._dossier.cleanup()
            self._dossier = None
