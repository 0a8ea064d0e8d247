"""A throw-away PostgreSQL server for the tests, and the two fixtures that expose it.

The server is a private cluster in a temporary directory, started from Debian's binaries
(``/usr/lib/postgresql/<version>/bin/``, installed by ``scripts/dependances-test.sh``), listening on
127.0.0.1 only, on a free port, with trust authentication for the user ``triage`` and durability off
(fsync, synchronous_commit, full_page_writes) since the data is thrown away. When the tests run as root
(CI) the cluster belongs to the ``postgres`` system user (PostgreSQL refuses to run as root).

It never outlives the test process: stopped at the end of the session (fixture teardown), at interpreter
exit (``atexit``, which also covers Ctrl-C), and otherwise by a watchdog process that stops it as soon as
the test process disappears for any reason (SIGKILL, OOM, CI timeout).

Use from a conftest (or a test module)::

    from tests.pg import serveur_pg, url_base  # noqa: F401  (fixtures)

    def test_quelque_chose(url_base):   # runs twice: [sqlite] and [postgresql]
        engine = create_engine(url_base)  # a fresh, empty database for this test
        try:
            ...
        finally:
            engine.dispose()  # a connection left open is a ResourceWarning, an error in this suite

- ``serveur_pg`` (session scope): the :class:`ServeurPostgres`, one per test process, started on first
  use. When PostgreSQL is unusable (:func:`disponible` gives the reason) the tests that need it are
  skipped with that reason — except when the environment variable ``CI`` is ``true``, where they fail,
  so that CI can never silently skip PostgreSQL.
- ``url_base`` (function scope, parametrised ``["sqlite", "postgresql"]``): the URL of a fresh, empty
  database for each test: ``sqlite:///{tmp_path}/triage.sqlite``, or a new database ``t_<uuid8>`` on the
  session server (``postgresql+psycopg://triage@127.0.0.1:PORT/t_…``), dropped after the test. The
  ``[sqlite]`` case never starts PostgreSQL; the ``[postgresql]`` case carries the ``slow`` marker, so
  ``pytest -m "not slow"`` runs SQLite only.

Import both names: ``url_base`` obtains the server through the ``serveur_pg`` fixture. A single import in
``tests/conftest.py`` is the tidy way. In a test module, ``from tests.pg import …`` makes ruff report F811
on every test taking the fixture as argument; bind them by assignment instead (``serveur_pg = pg.serveur_pg``,
``url_base = pg.url_base`` after ``from tests import pg``). Registering them in several modules is harmless:
the server is shared by the whole process.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

RACINE_BINAIRES = Path("/usr/lib/postgresql")
UTILISATEUR = "triage"
HOTE = "127.0.0.1"
_NOM_BASE = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# Watchdog: blocks until its stdin reaches EOF — i.e. until the test process has gone, however it went —
# then stops the server (argv[1:-1] is the pg_ctl stop command) and removes the directory (argv[-1]).
_VEILLEUR = """\
import shutil, subprocess, sys
sys.stdin.buffer.read()
subprocess.run(sys.argv[1:-1], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
               timeout=60, check=False)
shutil.rmtree(sys.argv[-1], ignore_errors=True)
"""


class ErreurPostgres(RuntimeError):
    """The throw-away server could not be started."""


def _version(dossier: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", dossier.name)) or (0,)


def binaires() -> tuple[Path, Path] | None:
    """``(initdb, pg_ctl)`` of the newest PostgreSQL under /usr/lib/postgresql/*/bin/, or None."""
    versions = sorted((d for d in RACINE_BINAIRES.glob("*") if d.is_dir()), key=_version, reverse=True)
    for v in versions:
        initdb, pg_ctl = v / "bin" / "initdb", v / "bin" / "pg_ctl"
        if os.access(initdb, os.X_OK) and os.access(pg_ctl, os.X_OK):
            return initdb, pg_ctl
    return None


def _est_root() -> bool:
    return os.geteuid() == 0


def disponible() -> str | None:
    """None when a throw-away server can be started here, otherwise the reason (in French)."""
    if binaires() is None:
        return (f"binaires introuvables, aucun initdb/pg_ctl sous {RACINE_BINAIRES}/*/bin/ "
                "(en root : bash scripts/dependances-test.sh, sinon : sudo apt-get install postgresql)")
    if importlib.util.find_spec("psycopg") is None:
        return "le pilote psycopg n'est pas installé dans l'environnement Python (psycopg[binary])"
    if _est_root():
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return ("tests lancés en root mais l'utilisateur système « postgres » n'existe pas "
                    "(PostgreSQL refuse de tourner en root)")
        if shutil.which("runuser") is None:
            return "tests lancés en root mais la commande runuser (util-linux) est introuvable"
    return None


def _port_libre() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOTE, 0))
        return s.getsockname()[1]


def _environnement() -> dict[str, str]:
    """The environment of initdb/pg_ctl: no PG* variables from the caller, a locale that always exists."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PG", "LC_")) and k not in ("LANG", "LANGUAGE")}
    env["LANG"] = "C"
    return env


_actifs: set[ServeurPostgres] = set()
_verrou = threading.Lock()


def _arreter_tous() -> None:
    for s in list(_actifs):
        s.arreter()


atexit.register(_arreter_tous)


class ServeurPostgres:
    """A private PostgreSQL cluster in a temporary directory, on 127.0.0.1 and a free port.

    ``demarrer()`` (or ``with ServeurPostgres() as s:``) starts it; ``arreter()`` stops it and removes
    its directory (idempotent, also done at interpreter exit or by the watchdog if the process dies).
    """

    def __init__(self) -> None:
        self.port: int | None = None
        self.dossier: Path | None = None
        self._pg_ctl: Path | None = None
        self._veilleur: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def demarrer(self) -> ServeurPostgres:
        if self.port is not None:
            return self
        raison = disponible()
        if raison:
            raise ErreurPostgres(raison)
        bins = binaires()
        assert bins is not None
        initdb, self._pg_ctl = bins
        with _verrou:
            _actifs.add(self)
        try:
            self._preparer_dossier()
            self._lancer_veilleur()
            self._initdb(initdb)
            self._demarrer_serveur()
        except BaseException:  # including KeyboardInterrupt: never leave a half-started server
            self.arreter()
            raise
        return self

    def arreter(self) -> None:
        """Stop the server (immediate mode) and remove its directory. Idempotent."""
        with _verrou:
            _actifs.discard(self)
        dossier, self.dossier, self.port = self.dossier, None, None
        if dossier is not None:
            donnees = dossier / "data"
            if (donnees / "postmaster.pid").exists():
                try:
                    r = self._executer([str(self._pg_ctl), "stop", "-D", str(donnees), "-m", "immediate",
                                        "-w", "-t", "30"], verifier=False)
                    arrete = r.returncode == 0
                except subprocess.TimeoutExpired:
                    arrete = False
                if not arrete:
                    self._tuer(donnees)
            shutil.rmtree(dossier, ignore_errors=True)
        veilleur, self._veilleur = self._veilleur, None
        if veilleur is not None:
            veilleur.kill()
            veilleur.wait()
            if veilleur.stdin is not None:
                veilleur.stdin.close()

    def __enter__(self) -> ServeurPostgres:
        return self.demarrer()

    def __exit__(self, *exc: object) -> None:
        self.arreter()

    # -- databases -------------------------------------------------------------------------------

    def url(self, base: str) -> str:
        """SQLAlchemy URL of database ``base`` on this server."""
        if self.port is None:
            raise ErreurPostgres("serveur PostgreSQL non démarré")
        return f"postgresql+psycopg://{UTILISATEUR}@{HOTE}:{self.port}/{base}"

    def connexion_admin(self):  # -> psycopg.Connection (imported lazily: psycopg may be missing)
        """An autocommit psycopg connection to the ``postgres`` database (close it, or use ``with``)."""
        import psycopg

        if self.port is None:
            raise ErreurPostgres("serveur PostgreSQL non démarré")
        return psycopg.connect(host=HOTE, port=self.port, user=UTILISATEUR, dbname="postgres",
                               autocommit=True, connect_timeout=10)

    def creer_base(self, nom: str) -> str:
        """CREATE DATABASE ``nom`` (empty, UTF-8); returns its URL."""
        from psycopg import sql

        self._verifier_nom(nom)
        with self.connexion_admin() as c:
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(nom)))
        return self.url(nom)

    def supprimer_base(self, nom: str) -> None:
        """DROP DATABASE ``nom``, closing any connection still open on it."""
        from psycopg import sql

        self._verifier_nom(nom)
        with self.connexion_admin() as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(nom)))

    # -- internals -------------------------------------------------------------------------------

    @staticmethod
    def _verifier_nom(nom: str) -> None:
        if not _NOM_BASE.fullmatch(nom):
            raise ValueError(f"nom de base invalide : {nom!r}")

    def _preparer_dossier(self) -> None:
        parent = tempfile.gettempdir()
        # As root the postgres user must be able to reach the directory; the Unix socket path
        # (DIR/.s.PGSQL.PORT) must stay under the ~107-byte limit. /tmp satisfies both.
        if _est_root() or len(parent) > 60:
            parent = "/tmp"
        self.dossier = Path(tempfile.mkdtemp(prefix="triage-pg-", dir=parent))
        if _est_root():
            pw = pwd.getpwnam("postgres")
            os.chown(self.dossier, pw.pw_uid, pw.pw_gid)

    def _commande(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if _est_root() else argv

    def _executer(self, argv: list[str], verifier: bool = True,
                  timeout: float = 120) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(self._commande(argv), cwd=self.dossier, env=_environnement(), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout, check=False)
        if verifier and r.returncode != 0:
            raise ErreurPostgres(f"échec de {Path(argv[0]).name} (code {r.returncode}) :\n{r.stdout}{r.stderr}")
        return r

    def _lancer_veilleur(self) -> None:
        assert self.dossier is not None
        arret = self._commande([str(self._pg_ctl), "stop", "-D", str(self.dossier / "data"), "-m", "immediate",
                                "-w", "-t", "30"])
        self._veilleur = subprocess.Popen(
            [sys.executable, "-c", _VEILLEUR, *arret, str(self.dossier)], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_environnement(), cwd="/",
            start_new_session=True)  # out of the terminal's process group: Ctrl-C does not reach it

    def _initdb(self, initdb: Path) -> None:
        assert self.dossier is not None
        donnees = self.dossier / "data"
        base = [str(initdb), "-D", str(donnees), "-U", UTILISATEUR, "--auth=trust", "--encoding=UTF8", "--no-sync"]
        r = self._executer([*base, "--locale=C.UTF-8"], verifier=False)
        if r.returncode != 0:
            shutil.rmtree(donnees, ignore_errors=True)
            r2 = self._executer([*base, "--locale=C"], verifier=False)
            if r2.returncode != 0:
                raise ErreurPostgres(f"échec d'initdb (C.UTF-8 puis C) :\n{r.stderr}\n---\n{r2.stdout}{r2.stderr}")

    def _demarrer_serveur(self) -> None:
        assert self.dossier is not None
        donnees, journal = self.dossier / "data", self.dossier / "log"
        erreur = ""
        for _ in range(3):  # the free port may be taken between the probe and the bind: retry
            port = _port_libre()
            options = (f"-c listen_addresses={HOTE} -p {port} -k {shlex.quote(str(self.dossier))} "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
            r = self._executer([str(self._pg_ctl), "start", "-w", "-t", "60", "-D", str(donnees), "-l", str(journal),
                                "-o", options], verifier=False, timeout=90)
            if r.returncode == 0:
                self.port = port
                return
            erreur = f"{r.stdout}{r.stderr}\n{_fin(journal)}"
            if (donnees / "postmaster.pid").exists():
                self._tuer(donnees)
        raise ErreurPostgres(f"le serveur PostgreSQL de test n'a pas démarré :\n{erreur}")

    def _tuer(self, donnees: Path) -> None:
        """Last resort: SIGKILL the postmaster named in postmaster.pid."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((donnees / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)


def _fin(fichier: Path, lignes: int = 20) -> str:
    try:
        return "\n".join(fichier.read_text(errors="replace").splitlines()[-lignes:])
    except OSError:
        return ""


# -- pytest fixtures -------------------------------------------------------------------------------

_partage: ServeurPostgres | None = None


def en_ci() -> bool:
    """True when the environment variable CI says so (GitHub, GitLab… set CI=true)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def exiger_postgres() -> None:
    """Skip the current test when PostgreSQL is unusable — or fail it in CI, which must never skip it."""
    raison = disponible()
    if raison is None:
        return
    if en_ci():
        pytest.fail(f"PostgreSQL est obligatoire en CI (CI={os.environ.get('CI')}) : {raison}", pytrace=False)
    pytest.skip(f"PostgreSQL indisponible : {raison}")


def serveur_partage() -> ServeurPostgres:
    """The process-wide throw-away server, started on first call."""
    global _partage
    if _partage is None or _partage.port is None:
        _partage = ServeurPostgres().demarrer()
    return _partage


@pytest.fixture(scope="session", name="serveur_pg")
def serveur_pg_fixture() -> Iterator[ServeurPostgres]:
    """The session's throw-away PostgreSQL server (skipped when unavailable, failed in CI)."""
    global _partage
    exiger_postgres()
    yield serveur_partage()
    if _partage is not None:
        _partage.arreter()
        _partage = None


@pytest.fixture(name="url_base", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def url_base_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty database for this test, on SQLite then on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/triage.sqlite"
        return
    serveur: ServeurPostgres = request.getfixturevalue("serveur_pg")
    nom = f"t_{uuid.uuid4().hex[:8]}"
    yield serveur.creer_base(nom)
    if serveur.port is not None:
        with contextlib.suppress(Exception):
            serveur.supprimer_base(nom)  # keeps the cluster small; it is thrown away anyway


serveur_pg = serveur_pg_fixture
url_base = url_base_fixture
