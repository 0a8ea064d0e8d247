"""Migration 0011 (the patient's measures, issue #30) on a database of the previous schema (revision 0010, its rows
sealed), on SQLite and PostgreSQL: nothing lost or rewritten (triages, acts, audit events, every table's rows), the
seals still verify with the new empty table, and a measure is then recorded, sealed and verified."""

from __future__ import annotations

from datetime import date

from sqlalchemy import create_engine, inspect

from tests import ressources
from tests.test_migration_0004 import _instantane, _migrer, _version
from tests.test_migration_0010 import _base_en_0009
from triage_app.services.application import Services
from triage_app.storage.db import _tetes, creer_moteur_bd

fermer_les_depots = ressources.fermer_les_depots


def _base_en_0010(url: str) -> None:
    _base_en_0009(url)
    bd = creer_moteur_bd(url)
    try:
        _migrer(bd, "0010")
    finally:
        bd.dispose()


def test_migration_0011_garde_tout_et_les_sceaux(url_base):
    _base_en_0010(url_base)
    assert _version(url_base) == "0010"
    bd = create_engine(url_base)
    try:
        assert "mesures" not in inspect(bd).get_table_names()
    finally:
        bd.dispose()
    avant = _instantane(url_base, avec_mises_a_jour=True)
    with Services(url_base) as depot:
        assert _version(url_base) in _tetes()
        apres = _instantane(url_base, avec_mises_a_jour=True)
        assert apres == avant  # no row added, changed or removed anywhere, no event appended
        rapport = depot.audit.verifier_audit()
        assert rapport.intact, rapport.premier_defaut
        eid = "1" * 32
        assert depot.mesures.mesures_episode(eid) == []
        mid = depot.mesures.enregistrer(episode_id=eid, mesure="douleur_en", moment="seance", jour=date(2026, 3, 20),
                                        reponses={"douleur": 6}, declare_par="kine", acteur="kine")
        [m] = depot.mesures.mesures_episode(eid)
        assert (m.id, m.score, m.manquants) == (mid, 6.0, ())
        assert depot.audit.verifier_audit().intact
