"""Migration 0005 (identities) on a database of the previous release (revision 0004): nothing lost, the audit
verifies, the existing patients are « provisoire »; down to 0004 and up again keeps every row."""

from __future__ import annotations

from sqlalchemy import inspect

from tests import ressources
from tests.test_migration_0004 import MOMENT, _base_en_0003, _instantane, _migrer, _version
from triage_app.services.application import Services
from triage_app.storage.db import _tetes, creer_moteur_bd

fermer_les_depots = ressources.fermer_les_depots


def _base_en_0004(url: str) -> None:
    _base_en_0003(url)
    bd = creer_moteur_bd(url)
    try:
        _migrer(bd, "0004")
    finally:
        bd.dispose()


def test_migration_0005_garde_tout_et_les_identites_sont_provisoires(url_base):
    _base_en_0004(url_base)
    assert _version(url_base) == "0004"
    avant = _instantane(url_base)
    with Services(url_base, horloge=lambda: MOMENT) as depot:
        assert _version(url_base) in _tetes()
        apres = _instantane(url_base)
        assert apres["triages"] == avant["triages"] and apres["evenements"] == avant["evenements"]
        assert apres["comptes"] == avant["comptes"] and apres["tete"] == avant["tete"]
        assert depot.audit.verifier_audit().intact
        statuts = {depot.patients.identite_patient(pid).statut for pid in ("a" * 32, "b" * 32, "c" * 32)}
        assert statuts == {"provisoire"}
        vue = depot.patients.renseigner_identite("c" * 32, ins="175067812345613", recuperee_insi=True,
                                                 piece_identite="cni",
                                                 nom_naissance="SAINT-EXUPÉRY", prenoms_naissance="Antoine Jean",
                                                 lieu_naissance="69123", acteur="kine")
        assert vue.qualifiee and depot.audit.verifier_audit().intact
        en_tete = _instantane(url_base)
    bd = creer_moteur_bd(url_base)
    try:
        _migrer(bd, "0004", descendre=True)
        colonnes = {c["name"] for c in inspect(bd).get_columns("patients")}
        assert "ins_matricule" not in colonnes and "nom_recherche" in colonnes
        assert "rpps" not in {c["name"] for c in inspect(bd).get_columns("utilisateurs")}
    finally:
        bd.dispose()
    descendue = _instantane(url_base)
    assert descendue["triages"] == en_tete["triages"] and descendue["evenements"] == en_tete["evenements"]
    assert descendue["comptes"] == en_tete["comptes"]
    with Services(url_base) as depot:  # up again
        assert depot.audit.verifier_audit().intact
        assert depot.patients.identite_patient("a" * 32).statut == "provisoire"
