"""The test infrastructure itself: both backends reachable, fresh databases, the throw-away PostgreSQL server."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests import pg

RACINE = Path(__file__).resolve().parents[1]
_URLS_VUES: set[str] = set()


def _vivant(pid: int) -> bool:
    """True if ``pid`` is a live process (a zombie waiting for a reaper counts as dead)."""
    try:
        etat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return etat not in ("Z", "X")


def _attendre(condition, delai: float = 15.0) -> bool:
    fin = time.monotonic() + delai
    while time.monotonic() < fin:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_select_1(url_base):
    moteur = create_engine(url_base)
    try:
        with moteur.connect() as c:
            assert c.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        moteur.dispose()


@pytest.mark.parametrize("tour", [1, 2])
def test_chaque_url_base_est_une_base_neuve_et_vide(url_base, tour):
    # Whichever of the two runs comes second sees the other's table if databases were shared.
    assert url_base not in _URLS_VUES
    _URLS_VUES.add(url_base)
    moteur = create_engine(url_base)
    try:
        assert inspect(moteur).get_table_names() == []
        with moteur.begin() as c:
            c.execute(text("CREATE TABLE temoin (id INTEGER PRIMARY KEY, tour INTEGER NOT NULL)"))
            c.execute(text("INSERT INTO temoin (id, tour) VALUES (1, :t)"), {"t": tour})
        assert inspect(moteur).get_table_names() == ["temoin"]
    finally:
        moteur.dispose()


def test_postgres_n_ecoute_que_sur_127_0_0_1(serveur_pg):
    moteur = create_engine(serveur_pg.url("postgres"))
    try:
        with moteur.connect() as c:
            assert c.execute(text("SHOW listen_addresses")).scalar_one() == "127.0.0.1"
            assert c.execute(text("SELECT host(inet_server_addr())")).scalar_one() == "127.0.0.1"
            assert c.execute(text("SHOW fsync")).scalar_one() == "off"
            assert c.execute(text("SHOW server_encoding")).scalar_one() == "UTF8"
    finally:
        moteur.dispose()
    # What the kernel says: one TCP listener on the port, bound to 127.0.0.1, none in IPv6.
    if Path("/proc/net/tcp").exists():
        port = f"{serveur_pg.port:04X}"
        ecoutes = []
        for fichier in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(fichier) as f:
                for ligne in f.readlines()[1:]:
                    champs = ligne.split()
                    adresse, port_local = champs[1].rsplit(":", 1)
                    if port_local == port and champs[3] == "0A":  # 0A = LISTEN
                        ecoutes.append(adresse)
        assert ecoutes == ["0100007F"]  # 127.0.0.1, little-endian


def test_20_connexions_simultanees_sur_postgres(serveur_pg):
    nom = "t_concurrence"
    moteur = create_engine(serveur_pg.creer_base(nom), pool_size=20, max_overflow=0, pool_timeout=10)
    barriere = threading.Barrier(20, timeout=20)

    def travail(i: int) -> tuple[int, int]:
        with moteur.connect() as c:
            pid = c.execute(text("SELECT pg_backend_pid()")).scalar_one()
            barriere.wait()  # all 20 connections are open at this point
            ouvertes = c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :n"),
                                 {"n": nom}).scalar_one()
            barriere.wait()
            assert c.execute(text("SELECT :i"), {"i": i}).scalar_one() == i
            return pid, ouvertes

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            resultats = list(pool.map(travail, range(20)))
    finally:
        moteur.dispose()
        serveur_pg.supprimer_base(nom)
    assert len({pid for pid, _ in resultats}) == 20
    assert all(ouvertes >= 20 for _, ouvertes in resultats)


def test_arreter_ne_laisse_ni_processus_ni_dossier():
    pg.exiger_postgres()
    serveur = pg.ServeurPostgres().demarrer()
    dossier = serveur.dossier
    assert dossier is not None
    pid = int((dossier / "data" / "postmaster.pid").read_text().splitlines()[0])
    veilleur = serveur._veilleur
    assert veilleur is not None and _vivant(pid)
    serveur.arreter()
    serveur.arreter()  # idempotent
    assert not dossier.exists()
    assert _attendre(lambda: not _vivant(pid), 5)
    assert veilleur.poll() is not None
    assert serveur not in pg._actifs


def test_le_veilleur_arrete_le_serveur_si_le_processus_de_test_meurt():
    pg.exiger_postgres()
    script = (
        "import os, signal, sys\n"
        f"sys.path.insert(0, {str(RACINE)!r})\n"
        "from tests.pg import ServeurPostgres\n"
        "s = ServeurPostgres().demarrer()\n"
        "pid = open(f'{s.dossier}/data/postmaster.pid').readline().strip()\n"
        "print(s.dossier, pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"  # no atexit, no finally: only the watchdog can clean up
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=90, check=False)
    assert r.returncode == -signal.SIGKILL, r.stderr
    chemin, pid = r.stdout.split()
    dossier = Path(chemin)
    assert dossier.name.startswith("triage-pg-")
    assert _attendre(lambda: not dossier.exists(), 15), f"{dossier} n'a pas été supprimé par le veilleur"
    assert _attendre(lambda: not _vivant(int(pid)), 5), f"postmaster {pid} toujours vivant"


def test_indisponible_saute_hors_ci_mais_echoue_en_ci(monkeypatch):
    monkeypatch.setattr(pg, "disponible", lambda: "aucun initdb (simulé)")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="simulé"):
        pg.exiger_postgres()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="obligatoire en CI"):
        pg.exiger_postgres()
    monkeypatch.setattr(pg, "disponible", lambda: None)
    pg.exiger_postgres()  # available: neither skip nor fail

