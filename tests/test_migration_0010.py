"""Migration 0010 (the kiné's texts for the médecin, issue #29) on a database of the previous schema (revision 0009,
its rows sealed), on SQLite and PostgreSQL: nothing lost or rewritten (triages, acts, audit events, every table's
rows), the seals still verify with the new empty column, and a text is then saved and sealed."""

from __future__ import annotations

from datetime import date

from tests import ressources
from tests.test_migration_0004 import _instantane, _migrer, _version
from tests.test_migration_0008 import _base_en_0007
from triage_app.services.application import Services
from triage_app.storage.db import _tetes, creer_moteur_bd

fermer_les_depots = ressources.fermer_les_depots


def _base_en_0009(url: str) -> None:
    _base_en_0007(url)
    bd = creer_moteur_bd(url)
    try:
        _migrer(bd, "0009")
    finally:
        bd.dispose()


def test_migration_0010_garde_tout_et_les_sceaux(url_base):
    _base_en_0009(url_base)
    assert _version(url_base) == "0009"
    avant = _instantane(url_base, avec_mises_a_jour=True)
    with Services(url_base) as depot:
        assert _version(url_base) in _tetes()
        apres = _instantane(url_base, avec_mises_a_jour=True)
        assert apres == avant  # no row added, changed or removed anywhere, no event appended
        rapport = depot.audit.verifier_audit()
        assert rapport.intact, rapport.premier_defaut
        eid = "1" * 32
        assert depot.episodes.etat_episode(eid, date(2026, 3, 20)).textes == {}
        assert depot.episodes.enregistrer_texte(eid, "bilan", "EN 6/10", acteur="kine")
        assert depot.episodes.etat_episode(eid, date(2026, 3, 20)).textes == {"bilan": "EN 6/10"}
        assert depot.audit.verifier_audit().intact
