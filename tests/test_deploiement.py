"""The multi-process deployment (issue #25): ``deploy/plusieurs.py`` starts several ``triage-app serve`` on one
PostgreSQL database behind HAProxy (Debian's, installed by ``scripts/dependances-test.sh``), with TLS and sticky
sessions. Tablets (websocket sessions, as ``bench/charge.py`` drives them) log in and start triages through it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests import pg
from tests.pg import en_ci
from tests.repartiteur import LANCEUR, Repartiteur
from tests.test_charge import _connecter_et_commencer

serveur_pg = pg.serveur_pg


def _haproxy() -> None:
    if shutil.which("haproxy") or Path("/usr/sbin/haproxy").is_file():
        return
    if en_ci():
        pytest.fail("HAProxy est obligatoire en CI (scripts/dependances-test.sh l'installe)", pytrace=False)
    pytest.skip("HAProxy absent (apt-get install haproxy)")


@pytest.mark.slow
def test_plusieurs_processus_derriere_haproxy_sessions_collantes(serveur_pg, tmp_path):
    """Two processes behind the TLS proxy: every tablet logs in and starts a triage through it, stays on the process
    its cookie names (its session lives there), the tablets spread over both processes, the answers carry HSTS, and
    stopping the deployment stops every process."""
    _haproxy()
    from tests import navigateur as nv

    nom = f"t_{uuid.uuid4().hex[:8]}"
    url = serveur_pg.creer_base(nom)
    nv.preparer_base(url)
    from tests.session_ws import SessionStreamlit

    with Repartiteur(url, processus=2) as rep:
        contexte = rep.ssl_client()
        with urllib.request.urlopen(rep.url + "/", timeout=10, context=contexte) as reponse:
            assert "max-age=" in (reponse.headers.get("Strict-Transport-Security") or "")
            assert "TRIAGE_INSTANCE=" in (reponse.headers.get("Set-Cookie") or "")

        async def tablettes() -> list[str]:
            sessions = [SessionStreamlit(rep.url, ssl=contexte) for _ in range(4)]
            try:
                for i, s in enumerate(sessions):
                    await _connecter_et_commencer(s, f"Collant{i}")
                return [s.cookies for s in sessions]
            finally:
                for s in sessions:
                    await s.fermer()

        cookies = asyncio.run(tablettes())
        instances = {c.split("TRIAGE_INSTANCE=")[1].split(";")[0] for c in cookies}
        assert instances == {"triage1", "triage2"}, cookies
        pids = [*rep.pids, rep.pid_proxy]
        assert len(pids) == 3 and all(Path(f"/proc/{p}").exists() for p in pids)
    assert not any(Path(f"/proc/{p}").exists() and "zombie" not in Path(f"/proc/{p}/status").read_text().lower()
                   for p in pids)
    serveur_pg.supprimer_base(nom)


def test_plusieurs_processus_refuse_sqlite_en_francais(tmp_path):
    """Several processes do not share a SQLite file: the launcher says so in French, before starting anything."""
    env = {**os.environ, "TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'triage.sqlite'}"}
    r = subprocess.run([sys.executable, str(LANCEUR), "--certificat", "c.pem", "--cle", "k.pem"], env=env,
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2 and "PostgreSQL" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "triage.sqlite").exists()
