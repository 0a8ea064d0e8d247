"""Migration 0007 (rules v3: dated declarations, one act per tap) on a database of the previous release (revision
0006), on SQLite and PostgreSQL: nothing lost (triages, acts, declarations, audit events, the sealed head), the
audit verifies, each declaration takes the date of its audit event; down to 0006 and up again keeps every row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.orm import Session

from tests import ressources
from tests.test_migration_0004 import JOUR, MOMENT, _instantane, _migrer, _version
from tests.test_migration_0005 import _base_en_0004
from triage_app.cli import main
from triage_app.services.application import Services
from triage_app.storage import audit
from triage_app.storage.cle import cle_secrete
from triage_app.storage.db import _tetes, creer_moteur_bd

fermer_les_depots = ressources.fermer_les_depots
DECLARE_LE = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
# Acts as the previous release recorded them: (episode, day, act, route, evolution, suite).
ACTES = [("2" * 32, date(2026, 3, 10), "consultation_protocole_1", "forfait_protocole", None, None),
         ("2" * 32, date(2026, 3, 11), "seance", "forfait_protocole", None, None),
         ("2" * 32, date(2026, 3, 15), "consultation_protocole_2", "forfait_protocole", "stable", "poursuite"),
         ("4" * 32, date(2026, 3, 12), "bilan", "aucune", None, None)]


def _base_en_0006(url: str) -> None:
    """The 0004 database of the earlier upgrade tests, brought to 0006, then written as release 0006 wrote: acts of
    every kind, a declaration of sessions done elsewhere (audited), the head sealed with the structure's key."""
    _base_en_0004(url)
    bd = creer_moteur_bd(url)
    try:
        _migrer(bd, "0006")
        tables = MetaData()
        tables.reflect(bd)
        assert "cle" not in tables.tables["seances"].c and "date_declaration" not in tables.tables["episodes"].c
        seances, episodes = tables.tables["seances"], tables.tables["episodes"]
        with Session(bd) as s, s.begin():
            chaine = audit.Chaine(s, MOMENT.isoformat(), cle_secrete())
            for eid, jour, acte, voie, evolution, suite in ACTES:
                n = s.execute(seances.insert().values(episode_id=eid, date=jour, acte=acte, voie=voie,
                                                      evolution=evolution, suite=suite, cree_le=MOMENT)
                              .returning(seances.c.id)).scalar_one()
                chaine.ajouter("seance", "kine", details={"episode": eid, "seance": n, "acte": acte})
        with Session(bd) as s, s.begin():
            chaine = audit.Chaine(s, DECLARE_LE.isoformat(), cle_secrete())
            s.execute(episodes.update().where(episodes.c.id == "4" * 32).values(
                seances_12_mois_declarees=12, episodes_12_mois_declares=1, motif_declaration="autre cabinet"))
            chaine.ajouter("declaration_historique", "kine", details={
                "episode": "4" * 32, "seances_12_mois": {"avant": None, "apres": 12},
                "episodes_12_mois": {"avant": None, "apres": 1}})
    finally:
        bd.dispose()


def _lignes(url: str, requete: str) -> list[tuple]:
    bd = create_engine(url)
    try:
        with bd.connect() as c:
            return [tuple(r) for r in c.execute(text(requete))]
    finally:
        bd.dispose()


ACTES_SQL = "SELECT id, episode_id, date, acte, voie, evolution, suite, cree_le FROM seances ORDER BY id"
EPISODES_SQL = ("SELECT id, statut, seances_12_mois_declarees, episodes_12_mois_declares, motif_declaration "
                "FROM episodes ORDER BY id")


def test_migration_0007_garde_tout_et_date_les_declarations(url_base, capsys):
    _base_en_0006(url_base)
    assert _version(url_base) == "0006"
    avant = _instantane(url_base)
    actes, episodes = _lignes(url_base, ACTES_SQL), _lignes(url_base, EPISODES_SQL)
    assert len(actes) == 5 + len(ACTES)
    with Services(url_base) as depot:  # migrates to the head
        assert _version(url_base) in _tetes()
        apres = _instantane(url_base)
        assert apres["triages"] == avant["triages"] and apres["evenements"] == avant["evenements"]
        assert apres["tete"] == avant["tete"] and apres["comptes"] == avant["comptes"]
        assert _lignes(url_base, ACTES_SQL) == actes and _lignes(url_base, EPISODES_SQL) == episodes
        assert _lignes(url_base, "SELECT count(*) FROM seances WHERE cle IS NOT NULL") == [(0,)]
        rapport = depot.audit.verifier_audit()
        assert rapport.intact, rapport.premier_defaut
        capsys.readouterr()
        assert main(["audit", "verify", "--base", url_base]) == 0
        assert "intact" in capsys.readouterr().out
        # Each declaration is dated by its audit event: the one declared later, by the declaration; a number typed
        # at the opening (made a declaration by 0004), by the episode's creation.
        dates = dict(_lignes(url_base, "SELECT id, date_declaration FROM episodes"))
        dates = {k: (date.fromisoformat(v) if isinstance(v, str) else v) for k, v in dates.items()}
        assert dates["4" * 32] == DECLARE_LE.date()
        assert dates["1" * 32] == dates["3" * 32] == dates["5" * 32] == MOMENT.date()  # typed at the opening
        assert dates["2" * 32] is None
        etat = depot.episodes.etat_episode("4" * 32, JOUR)
        assert (etat.seances_12_mois, etat.date_declaration, etat.declaration_en_cours) == (12, DECLARE_LE.date(),
                                                                                            True)
        assert depot.episodes.etat_episode("4" * 32, DECLARE_LE.date() + timedelta(days=400)).seances_12_mois == 0
        # The acts keep their kind, route and outcome; the new release writes with the key, the audit still holds.
        revue = [a for a in depot.episodes.etat_episode("2" * 32, JOUR).actes if a.acte == "consultation_protocole_2"]
        assert [(a.evolution, a.suite, a.voie) for a in revue] == [("stable", "poursuite", "forfait_protocole")]
        sid = depot.episodes.enregistrer_seance(episode_id="2" * 32, jour=JOUR + timedelta(days=20), acteur="kine",
                                                cle="cle-apres-0007")
        assert depot.episodes.enregistrer_seance(episode_id="2" * 32, jour=JOUR + timedelta(days=20), acteur="kine",
                                                 cle="cle-apres-0007") == sid
        assert depot.audit.verifier_audit().intact
        en_tete = _instantane(url_base)
    bd = creer_moteur_bd(url_base)
    try:
        _migrer(bd, "0006", descendre=True)
        assert "cle" not in {c["name"] for c in inspect(bd).get_columns("seances")}
        assert "date_declaration" not in {c["name"] for c in inspect(bd).get_columns("episodes")}
    finally:
        bd.dispose()
    descendue = _instantane(url_base)
    assert descendue["triages"] == en_tete["triages"] and descendue["evenements"] == en_tete["evenements"]
    assert descendue["comptes"] == en_tete["comptes"]
    with Services(url_base) as depot:  # up again: the dates are taken again from the audit
        assert depot.audit.verifier_audit().intact
        assert depot.episodes.etat_episode("4" * 32, JOUR).date_declaration == DECLARE_LE.date()
