"""Migration 0008 (unique constraints, issue #28) on a database of the previous release (revision 0007), on SQLite and
PostgreSQL: a patient left with two open episodes of one condition by the old race keeps the most recent open, the
other is closed « doublon » with an audit event; nothing is deleted; the audit verifies; search keys are recomputed;
the constraints then hold (a second open episode, a second first account are refused)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.orm import Session

from tests import ressources
from tests.test_migration_0004 import _instantane, _migrer, _version
from tests.test_migration_0007 import _base_en_0006, _lignes
from triage_app.errors import TriageError
from triage_app.services.application import Services
from triage_app.storage import audit
from triage_app.storage.cle import cle_secrete
from triage_app.storage.db import _tetes, creer_moteur_bd

fermer_les_depots = ressources.fermer_les_depots
MOMENT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
DOUBLON = "9" * 32  # a second open back-pain episode of patient « a…a » (episode « 1…1 » is open too)


def _base_en_0007(url: str) -> None:
    _base_en_0006(url)
    bd = creer_moteur_bd(url)
    try:
        _migrer(bd, "0007")
        tables = MetaData()
        tables.reflect(bd)
        with Session(bd) as s, s.begin():
            chaine = audit.Chaine(s, MOMENT.isoformat(), cle_secrete())
            s.execute(tables.tables["episodes"].insert().values(
                id=DOUBLON, patient_id="a" * 32, protocole="lombalgie_aigue", date_debut=date(2026, 3, 15),
                prescription_medicale=False, diagnostic_medical_prealable=False, antecedent_lombalgie=True,
                episodes_anterieurs_12_mois=0, statut="ouvert", cree_le=MOMENT))
            chaine.ajouter("creation_episode", "kine", details={"episode": DOUBLON, "patient": "a" * 32})
            s.execute(tables.tables["patients"].update().where(tables.tables["patients"].c.id == "b" * 32)
                      .values(nom="杜邦", nom_recherche=""))  # a name the old key function could not find
    finally:
        bd.dispose()


def test_migration_0008_ferme_les_doublons_et_garde_tout(url_base):
    _base_en_0007(url_base)
    assert _version(url_base) == "0007"
    avant = _instantane(url_base)
    ouverts = _lignes(url_base, "SELECT id FROM episodes WHERE patient_id = '" + "a" * 32
                      + "' AND protocole = 'lombalgie_aigue' AND statut = 'ouvert' ORDER BY id")
    assert ouverts == [("1" * 32,), (DOUBLON,)]
    with Services(url_base) as depot:
        assert _version(url_base) in _tetes()
        apres = _instantane(url_base, avec_mises_a_jour=True)
        assert apres["triages"] == avant["triages"]
        assert apres["comptes"] == {**avant["comptes"], "evenements_audit": avant["comptes"]["evenements_audit"] + 2}
        assert apres["evenements_lignes"][:len(avant["evenements_lignes"])] == avant["evenements_lignes"]
        nouveaux = apres["evenements_lignes"][len(avant["evenements_lignes"]):]
        assert [(e["type"], e["acteur"]) for e in nouveaux] == [("cloture_episode", "mise_a_jour_0008"),
                                                                ("empreintes_initiales", "mise_a_jour_0009")]
        rapport = depot.audit.verifier_audit()
        assert rapport.intact, rapport.premier_defaut
        # The most recent stays open (onset 2026-03-15), the older one is closed « doublon »; both are still there.
        assert depot.episodes.etat_episode(DOUBLON, date(2026, 3, 20)).statut == "ouvert"
        ancien = depot.episodes.etat_episode("1" * 32, date(2026, 3, 20))
        assert (ancien.statut, ancien.motif_cloture) == ("clos", "doublon")
        assert [p.id for p in depot.patients.rechercher_patients("杜邦", acteur="x")] == ["b" * 32]
        # The constraints now hold.
        with pytest.raises(TriageError, match="déjà ouvert"):
            depot.episodes.creer_episode(patient_id="a" * 32, protocole="lombalgie_aigue",
                                         date_debut=date(2026, 3, 19), acteur="kine")
        with depot.uow.bd.begin() as c, pytest.raises(Exception):  # noqa: B017  (the database itself refuses)
            c.execute(text("UPDATE episodes SET statut = 'ouvert' WHERE id = :e"), {"e": "1" * 32})
        depot.comptes.creer_premier_compte(identifiant="coord", nom="Coordination", mot_de_passe="mot de passe long")
        with pytest.raises(TriageError, match="existe déjà"):
            depot.comptes.creer_premier_compte(identifiant="coord2", nom="Autre", mot_de_passe="mot de passe long")
        assert depot.audit.verifier_audit().intact
