"""Close what the tests open: every storage service (``Services``) built during a test, whoever built it.

A ``Services`` holds an SQLAlchemy engine whose pool keeps database connections open (psycopg connections on
PostgreSQL, SQLite files with their ``-wal``/``-shm``). A test that drops one without ``fermer()`` leaves them
to the garbage collector, which reports each psycopg connection as a ``ResourceWarning`` (an error here: see
``filterwarnings`` in pyproject.toml). Some Depots are not the test's to close: the command line run
in-process (``triage_app.cli.main``) and the page under AppTest (``triage_app.ui.etat``, one per URL) open
their own.

``fermer_les_depots`` records every ``Services`` built while it is active and closes them all at teardown, then
forgets the page's cached ones (:func:`triage_app.ui.etat.fermer_depots`). Bind it in a test module by
assignment, as ``tests/pg.py`` explains for its fixtures::

    from tests import ressources

    fermer_les_depots = ressources.fermer_les_depots  # autouse: every test of the module
    depots_fermes = ressources.depots_fermes          # or, for a few tests: @pytest.mark.usefixtures("depots_fermes")
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from triage_app.services.application import Services


@contextlib.contextmanager
def _depots_fermes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Services]]:
    ouverts: list[Services] = []
    verrou = threading.Lock()
    origine = Services.__init__

    def __init__(self: Services, *args: Any, **kwargs: Any) -> None:
        origine(self, *args, **kwargs)
        with verrou:
            ouverts.append(self)

    monkeypatch.setattr(Services, "__init__", __init__)
    try:
        yield ouverts
    finally:
        monkeypatch.setattr(Services, "__init__", origine)
        etat = sys.modules.get("triage_app.ui.etat")  # loaded only by the tests that run the page
        if etat is not None:
            etat.fermer_depots()
        for depot in ouverts:
            depot.fermer()


@pytest.fixture(name="depots_fermes")
def depots_fermes_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Services]]:
    """Every ``Services`` built during the test (in any thread), closed at teardown even when the test fails."""
    with _depots_fermes(monkeypatch) as ouverts:
        yield ouverts


@pytest.fixture(name="fermer_les_depots", autouse=True)
def fermer_les_depots_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Services]]:
    """``depots_fermes`` for every test of the module that binds it."""
    with _depots_fermes(monkeypatch) as ouverts:
        yield ouverts


depots_fermes = depots_fermes_fixture
fermer_les_depots = fermer_les_depots_fixture
