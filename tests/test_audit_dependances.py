"""scripts/audit-dependances.sh: fails on a known vulnerability, never on what it could not audit, never hangs.

On the project's machines PyPI's JSON API answers « not found » for every package (a mirror) and OSV is out of
reach, so a real finding cannot come from the network here. The failure path is proven two ways, both offline:
a fake ``pip-audit`` (``PIP_AUDIT``) that prints a given JSON report, and the real pip-audit auditing the real
``.venv`` against a fake OSV service on 127.0.0.1 (``-s osv --osv-url``) that reports one vulnerability.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import RACINE

SCRIPT = RACINE / "scripts" / "audit-dependances.sh"
VENV_PY = RACINE / ".venv" / "bin" / "python"

pytestmark = pytest.mark.skipif(not VENV_PY.is_file(), reason="scripts/audit-dependances.sh audite .venv, absent ici "
                                                               "(source scripts/env.sh test)")

INTROUVABLE = "Dependency not found on PyPI and could not be audited: {} ({})"
VULN = {"id": "PYSEC-2021-142", "fix_versions": ["5.4"], "aliases": ["CVE-2020-14343", "GHSA-8q59-q68h-6hv4"],
        "description": "Arbitrary code execution with full_load."}

FAUX = '''\
import os, sys, time
time.sleep(float(os.environ.get("FAUX_DORMIR", "0")))
sys.stderr.write(os.environ.get("FAUX_JOURNAL", ""))
rapport = os.environ.get("FAUX_RAPPORT")
if rapport:
    sys.stdout.write(open(rapport, encoding="utf-8").read())
sys.exit(int(os.environ.get("FAUX_CODE", "0")))
'''


def lancer(env_plus: dict[str, str], *args: str, delai: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", **env_plus}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=delai,
                          check=False, stdin=subprocess.DEVNULL)


@pytest.fixture
def faux(tmp_path):
    """Run the script with a fake pip-audit printing ``rapport`` (JSON) and exiting with ``code``."""
    programme = tmp_path / "faux_pip_audit.py"
    programme.write_text(FAUX, encoding="utf-8")

    def executer(rapport: dict | None, code: int = 0, **env: str) -> subprocess.CompletedProcess[str]:
        plus = {"PIP_AUDIT": f"{sys.executable} {programme}", "FAUX_CODE": str(code), **env}
        if rapport is not None:
            chemin = tmp_path / "rapport.json"
            chemin.write_text(json.dumps(rapport), encoding="utf-8")
            plus["FAUX_RAPPORT"] = str(chemin)
        return lancer(plus)

    return executer


def _dep(nom: str, version_: str, vulns: list | None = None, skip: bool = False) -> dict:
    if skip:
        return {"name": nom, "skip_reason": INTROUVABLE.format(nom, version_)}
    return {"name": nom, "version": version_, "vulns": vulns or []}


def test_une_vulnerabilite_connue_fait_echouer(faux):
    rapport = {"dependencies": [_dep("pyyaml", "5.3", [VULN]), _dep("orjson", "3.10.0"),
                                _dep("streamlit", "1.40", skip=True),
                                {"name": "triage-app", "skip_reason": "distribution marked as editable"}],
               "fixes": []}
    r = faux(rapport, code=1)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "4 paquet(s) : 2 audité(s), 1 non audité(s), 1 ignoré(s)" in r.stdout
    assert "ÉCHEC : 1 vulnérabilité(s) connue(s) dans 1 paquet(s)" in r.stderr
    assert "pyyaml 5.3 : PYSEC-2021-142 (CVE-2020-14343, GHSA-8q59-q68h-6hv4) ; corrigé dans : 5.4" in r.stderr


def test_rien_d_auditable_ici_ne_fait_pas_echouer_mais_le_dit(faux):
    """The situation of the project's machines: every package « not found on PyPI »."""
    rapport = {"dependencies": [_dep(n, "1.0", skip=True) for n in ("alembic", "pydantic", "sqlalchemy")],
               "fixes": []}
    r = faux(rapport)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 paquet(s) : 0 audité(s), 3 non audité(s), 0 ignoré(s)" in r.stdout
    assert "3 non audité(s) : inconnus du service PyPI" in r.stdout
    assert "l'audit ne prouve rien ici" in r.stdout
    assert "DÉPENDANCES NON AUDITÉES" in r.stdout  # in capitals, visible in a CI log
    # Its last word says so plainly (issue #29: it ended « Aucune vulnérabilité connue parmi les 0 paquet(s) »).
    assert "Aucune vulnérabilité connue" not in r.stdout
    assert r.stdout.strip().splitlines()[-1].startswith("Audit non effectué : aucun des 3 paquet(s)")
    # …unless every package must be audited.
    exigeant = faux(rapport, AUDIT_EXIGEANT="1")
    assert exigeant.returncode == 1 and "3 paquet(s) non audité(s)" in exigeant.stderr


def test_sans_vulnerabilite_reussit(faux):
    r = faux({"dependencies": [_dep("pyyaml", "6.0.2"), _dep("orjson", "3.10.0")], "fixes": []})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 audité(s), 0 non audité(s)" in r.stdout and "Aucune vulnérabilité connue" in r.stdout
    assert "NON AUDITÉES" not in r.stdout


def test_service_injoignable_avertit_sans_echouer(faux):
    journal = ("Traceback (most recent call last):\nrequests.exceptions.ConnectionError: HTTPSConnectionPool("
               "host='api.osv.dev', port=443): Max retries exceeded\n")
    r = faux(None, code=1, FAUX_JOURNAL=journal)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "non effectué : service de vulnérabilités injoignable" in r.stderr
    assert "DÉPENDANCES NON AUDITÉES" in r.stdout
    assert "Traceback" not in r.stdout


def test_ne_reste_jamais_bloque(faux):
    debut = time.monotonic()
    r = faux(None, FAUX_DORMIR="30", AUDIT_DELAI="0.5")
    assert time.monotonic() - debut < 15
    assert r.returncode == 0, r.stdout + r.stderr
    assert "interrompu après 0.5 s" in r.stderr


def test_pip_audit_absent_fait_echouer(faux):
    r = lancer({"PIP_AUDIT": str(RACINE / "pas_de_pip_audit_ici")})
    assert r.returncode == 1 and "pip-audit est introuvable" in r.stderr


# -- the real pip-audit on the real .venv, against a fake OSV service on the loopback -----------------------
class _Osv(BaseHTTPRequestHandler):
    signale: str | None = None

    def do_POST(self) -> None:
        requete = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        paquet = requete["package"]["name"]
        corps: dict = {}
        if paquet == self.signale:
            corps = {"vulns": [{"id": "PYSEC-0000-TEST", "summary": "Vulnérabilité de test.",
                                "aliases": ["CVE-0000-0000"],
                                "affected": [{"package": {"name": paquet, "ecosystem": "PyPI"},
                                              "ranges": [{"type": "ECOSYSTEM",
                                                          "events": [{"introduced": "0"}, {"fixed": "999.0"}]}]}]}]}
        donnees = json.dumps(corps).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(donnees)))
        self.end_headers()
        self.wfile.write(donnees)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def osv():
    serveur = ThreadingHTTPServer(("127.0.0.1", 0), _Osv)
    fil = threading.Thread(target=serveur.serve_forever, daemon=True)
    fil.start()
    try:
        yield f"http://127.0.0.1:{serveur.server_address[1]}/v1/query"
    finally:
        serveur.shutdown()
        serveur.server_close()
        _Osv.signale = None


def test_vrai_pip_audit_sur_le_venv_echoue_sur_une_vulnerabilite_signalee(osv, tmp_path):
    _Osv.signale = "pyyaml"
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    r = lancer(env, "-s", "osv", "--osv-url", osv)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"pyyaml {version('pyyaml')} : PYSEC-0000-TEST (CVE-0000-0000) ; corrigé dans : 999.0" in r.stderr
    assert "non audité" in r.stdout and "0 non audité(s)" in r.stdout  # OSV answered for every package
    # The same audit with nothing reported passes.
    _Osv.signale = None
    r = lancer(env, "-s", "osv", "--osv-url", osv)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Aucune vulnérabilité connue" in r.stdout and " 0 audité(s)" not in r.stdout


def test_le_script_est_appele_par_scripts_test():
    lignes = (RACINE / "scripts" / "test").read_text(encoding="utf-8").splitlines()
    assert "bash scripts/audit-dependances.sh" in lignes
    assert lignes.index("bash scripts/audit-dependances.sh") == lignes.index(".venv/bin/ruff check .") + 1
    assert Path(SCRIPT).is_file()
