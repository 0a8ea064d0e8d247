"""Tamper-evidence (issue #16): every file-level change to a finalised triage or to the audit chain is detected.

A base is filled through the service (a triage finalised then amended, so one version is « remplace »; a draft; a
session; a patient erased). Each case then changes the database as someone with write access to it would — the
protections dropped first, as an administrator can — and the check must fail; the untouched base passes. On SQLite
and PostgreSQL, each case inside a transaction rolled back afterwards (the check reads the same connection);
``triage-app audit verify`` itself exits 1 on a tampered copy (SQLite file, PostgreSQL database made from a
template) after each case, and 0 on the untouched copy.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from tests import ressources
from tests.test_stockage import ACTEUR, _remplir, _triage_complet
from triage_app.cli import main
from triage_app.services.application import Services
from triage_app.storage import audit

fermer_les_depots = ressources.fermer_les_depots


def _base(url: str) -> dict[str, str]:
    with Services(url, horloge=lambda: datetime(2026, 3, 10, 9, 0, tzinfo=UTC)) as depot:
        _, eid = _remplir(depot)
        ancien = _triage_complet(depot, eid)
        depot.triages.finaliser(ancien, acteur=ACTEUR, note="Revoir à J5")
        final = depot.triages.amender(ancien, acteur=ACTEUR)
        depot.triages.finaliser(final, acteur=ACTEUR, note="Revoir à J7")
        brouillon = _triage_complet(depot, eid)
        # The day after next: no NGAP act the day of the protocol consultation or the next (rules v3, §9.6).
        depot.episodes.enregistrer_seance(episode_id=eid, jour=date(2026, 3, 12), acteur=ACTEUR)
        autre = depot.patients.creer_patient(nom="Efface", prenom="Moi", date_naissance=date(1980, 1, 1), acteur=ACTEUR)
        depot.rgpd.effacer_patient(autre, acteur="coord")
        assert depot.audit.verifier_audit().intact
        return {"final": final, "ancien": ancien, "brouillon": brouillon, "episode": eid}


def _sans_protections(c: Connection) -> None:
    """What an administrator can do: the triggers are dropped (SQLite) or disabled (PostgreSQL)."""
    if c.dialect.name == "postgresql":
        c.execute(text("ALTER TABLE triages DISABLE TRIGGER USER"))
        c.execute(text("ALTER TABLE evenements_audit DISABLE TRIGGER USER"))
    else:
        for nom in ("triage_fige", "audit_ajout_seul_update", "audit_ajout_seul_delete"):
            c.execute(text(f"DROP TRIGGER IF EXISTS {nom}"))  # SQLite's DDL is not rolled back by sqlite3


def _json(c: Connection, colonne: str, chemin: str, valeur: str) -> str:
    """An SQL expression: ``colonne`` with the JSON value at the dotted ``chemin`` replaced (or added)."""
    if c.dialect.name == "postgresql":
        return f"jsonb_set({colonne}, '{{{chemin.replace('.', ',')}}}', '{valeur}'::jsonb)"
    return f"json_set({colonne}, '$.{chemin}', json('{valeur}'))"


def _sans_cle(c: Connection, chemin: str) -> str:
    if c.dialect.name == "postgresql":
        return f"cas #- '{{{chemin.replace('.', ',')}}}'"
    return f"json_remove(cas, '$.{chemin}')"


def _evenements(c: Connection) -> list[dict[str, Any]]:
    lignes = c.execute(text("SELECT seq, horodatage, type, triage_id, acteur, details, precedent, empreinte "
                            "FROM evenements_audit ORDER BY seq")).mappings()
    return [dict(li) | {"details": li["details"] if isinstance(li["details"], dict) else json.loads(li["details"])}
            for li in lignes]


def _reecrire(c: Connection, evenements: list[dict[str, Any]], *, mac: str | None = "garder") -> None:
    """Rewrite the chain from scratch (hashes recomputed, without the key) and its head."""
    c.execute(text("DELETE FROM evenements_audit"))
    precedent = audit.GENESE
    for i, ev in enumerate(evenements, 1):
        empreinte = audit.empreinte_evenement(precedent, i, ev["horodatage"], ev["type"], ev["triage_id"],
                                              ev["acteur"], ev["details"])
        c.execute(text("INSERT INTO evenements_audit (seq, horodatage, type, triage_id, acteur, details, precedent, "
                       "empreinte) VALUES (:s, :h, :t, :tr, :a, :d, :p, :e)"),
                  {"s": i, "h": ev["horodatage"], "t": ev["type"], "tr": ev["triage_id"], "a": ev["acteur"],
                   "d": json.dumps(ev["details"]), "p": precedent, "e": empreinte})
        precedent = empreinte
    c.execute(text("UPDATE tete_audit SET seq = :s, empreinte = :e" + (", mac = NULL" if mac is None else "")),
              {"s": len(evenements), "e": precedent})


def _modifier_evenement(c: Connection, quoi: Callable[[list[dict[str, Any]]], None], **options: Any) -> None:
    evenements = _evenements(c)
    quoi(evenements)
    _reecrire(c, evenements, **options)


def _ajouter(evenements: list[dict[str, Any]], type_: str, details: dict[str, Any],
             triage_id: str | None = None) -> None:
    evenements.append({"horodatage": evenements[-1]["horodatage"], "type": type_, "triage_id": triage_id,
                       "acteur": "coord", "details": details})


Cas = Callable[[Connection, dict[str, str]], None]


def _sql(modele: str) -> Cas:
    def appliquer(c: Connection, ids: dict[str, str]) -> None:
        for requete in modele.format(**{k: f"'{v}'" for k, v in ids.items()}).split(";"):
            c.execute(text(requete))
    return appliquer


def _sur_final(affectation: Callable[[Connection], str]) -> Cas:
    return lambda c, ids: c.execute(text(f"UPDATE triages SET {affectation(c)} WHERE id = :i"), {"i": ids["final"]})


CAS: dict[str, Cas] = {
    # The finalised triage: every stored field a reader sees or that decides.
    "statut_brouillon": _sql("UPDATE triages SET statut = 'brouillon' WHERE id = {final}"),
    "statut_remplace_sans_suite": _sql("UPDATE triages SET statut = 'remplace' WHERE id = {final}"),
    "reponse_changee": _sur_final(lambda c: "cas = " + _json(c, "cas", "reponses.rf_troubles_sphincteriens", "true")),
    "reponse_retiree": _sur_final(lambda c: "cas = " + _sans_cle(c, "reponses.rf_fievre")),
    "reponse_ajoutee": _sur_final(lambda c: "cas = " + _json(c, "cas", "reponses.stade_gravite", "3")),
    "cadre_change": _sur_final(lambda c: "cas = " + _json(c, "cas", "cadre.medecin_joignable", "false")),
    "resultat_orientation": _sur_final(lambda c: "resultat = " + _json(c, "resultat", "orientation", '"urgences"')),
    "resultat_seances": _sur_final(lambda c: "resultat = " + _json(c, "resultat", "seances.autorisees", "99")),
    "colonne_orientation": _sur_final(lambda c: "orientation = 'urgences'"),
    "version_protocole": _sur_final(lambda c: "version_protocole = '2019-01-01'"),
    "empreinte_regles": _sur_final(lambda c: "empreinte_regles = 'sha256:0000'"),
    "note": _sur_final(lambda c: "note = 'Pas besoin de revoir'"),
    "note_effacee": _sur_final(lambda c: "note = NULL"),
    "auteur": _sur_final(lambda c: "auteur = 'quelqu.un.d.autre'"),
    "finalise_le": _sur_final(lambda c: "finalise_le = '2026-01-01 08:00:00+00:00'"),
    "date_consultation": _sur_final(lambda c: "date_consultation = '2026-03-01'"),
    "remplace_id": _sur_final(lambda c: "remplace_id = NULL"),
    "version": _sur_final(lambda c: "version = 1"),
    "etape": _sur_final(lambda c: "etape = 'autre'"),
    "cree_le": _sur_final(lambda c: "cree_le = '2026-01-01 08:00:00+00:00'"),
    "identifiant_change": _sql("UPDATE triages SET id = 'f0000000000000000000000000000000' WHERE id = {final}"),
    "triage_efface": _sql("DELETE FROM triages WHERE id = {final}"),
    # The replaced version stays as it was.
    "ancien_note": _sql("UPDATE triages SET note = 'réécrit' WHERE id = {ancien}"),
    "ancien_redevient_final": _sql("UPDATE triages SET statut = 'final' WHERE id = {ancien}"),
    "ancien_efface": _sql("DELETE FROM triages WHERE id = {ancien}"),
    # The chain itself.
    "evenement_details": _sql("UPDATE evenements_audit SET details = " + "'{{}}'" + " WHERE seq = 3"),
    "evenement_type": _sql("UPDATE evenements_audit SET type = 'lecture' WHERE seq = 4"),
    "evenement_acteur": _sql("UPDATE evenements_audit SET acteur = 'personne' WHERE seq = 5"),
    "evenement_heure": _sql("UPDATE evenements_audit SET horodatage = '2020-01-01T00:00:00+00:00' WHERE seq = 6"),
    "maillon_retire": _sql("DELETE FROM evenements_audit WHERE seq = 7"),
    "queue_coupee": _sql("DELETE FROM evenements_audit WHERE seq = (SELECT max(seq) FROM evenements_audit)"),
    "queue_coupee_tete_recalee": _sql(
        "DELETE FROM evenements_audit WHERE seq = (SELECT max(seq) FROM evenements_audit); UPDATE tete_audit SET "
        "seq = (SELECT max(seq) FROM evenements_audit), empreinte = (SELECT empreinte FROM evenements_audit WHERE "
        "seq = (SELECT max(seq) FROM evenements_audit))"),
    "chaine_recalculee": lambda c, ids: _modifier_evenement(
        c, lambda evs: evs[2]["details"].update({"falsifie": True})),
    "chaine_recalculee_sceau_efface": lambda c, ids: _modifier_evenement(
        c, lambda evs: evs[2]["details"].update({"falsifie": True}), mac=None),
    "ordre_inverse": lambda c, ids: _modifier_evenement(c, lambda evs: evs.insert(3, evs.pop(4))),
    "effacement_forge": lambda c, ids: _modifier_evenement(
        c, lambda evs: _ajouter(evs, "effacement", {"patient": "x", "triages": [ids["final"]]})),
    "finalisation_forgee": lambda c, ids: _modifier_evenement(
        c, lambda evs: _ajouter(evs, "finalisation", {"contenu": "0", "triage": "0", "remplace": None},
                                ids["brouillon"])),
    "finalisation_retiree": lambda c, ids: _modifier_evenement(
        c, lambda evs: evs.remove(next(e for e in evs if e["type"] == "finalisation"
                                       and e["triage_id"] == ids["final"]))),
    "sceau_faux": _sql("UPDATE tete_audit SET mac = '" + "0" * 64 + "'"),
    "sceau_efface": _sql("UPDATE tete_audit SET mac = NULL"),
    # Every other record (issue #28): changed, deleted or added at file level.
    "patient_renomme": _sql("UPDATE patients SET nom = 'Autre' WHERE id = (SELECT patient_id FROM episodes WHERE "
                            "id = {episode})"),
    "patient_naissance": _sql("UPDATE patients SET date_naissance = '1950-01-01'"),
    "patient_efface": _sql("DELETE FROM patients"),
    "patient_ajoute": _sql("INSERT INTO patients (id, nom, prenom, date_naissance, couverture, nom_recherche, "
                           "cree_le) VALUES ('" + "e" * 32 + "', 'Intrus', 'Ian', '1970-01-01', 'regime_general', "
                           "'intrus ian', '2026-03-10 09:00:00+00:00')"),
    "episode_diagnostic": _sql("UPDATE episodes SET diagnostic_medical_prealable = NOT diagnostic_medical_prealable"),
    "episode_debut": _sql("UPDATE episodes SET date_debut = '2025-01-01'"),
    "episode_clos": _sql("UPDATE episodes SET statut = 'clos', motif_cloture = 'guerison'"),
    "episode_efface": _sql("DELETE FROM seances; DELETE FROM triages; DELETE FROM episodes"),
    "seances_effacees": _sql("DELETE FROM seances"),
    "seance_deplacee": _sql("UPDATE seances SET date = '2026-04-01'"),
    "seance_ajoutee": _sql("INSERT INTO seances (episode_id, date, voie, acte, cree_le) VALUES ({episode}, "
                           "'2026-03-20', 'ngap_prescription', 'seance', '2026-03-20 10:00:00+00:00')"),
    "brouillon_reponse": lambda c, ids: c.execute(text(
        "UPDATE triages SET cas = " + _json(c, "cas", "reponses.rf_fievre", "true") + " WHERE id = :i"),
        {"i": ids["brouillon"]}),
    "structure_renommee": _sql("UPDATE structure SET nom = 'Autre structure'"),
    "compte_ajoute": _sql("INSERT INTO utilisateurs (id, identifiant, nom, role, source, actif, echecs, cree_le) "
                          "VALUES ('" + "c" * 32 + "', 'intrus', 'Intrus', 'coordinateur', 'local', TRUE, 0, "
                          "'2026-03-10 09:00:00+00:00')"),
}


def test_chaque_falsification_est_vue_sur_les_deux_bases(url_base):
    assert len(CAS) >= 47
    ids = _base(url_base)
    with Services(url_base) as depot:
        cle = depot.uow.cle
        with depot.uow.bd.connect() as c:
            assert audit.verifier(Session(bind=c), cle).intact
            c.rollback()
            echappees = []
            for nom, cas in CAS.items():
                transaction = c.begin()
                try:
                    _sans_protections(c)
                    cas(c, ids)
                    rapport = audit.verifier(Session(bind=c), cle)
                    if rapport.intact:
                        echappees.append(nom)
                finally:
                    transaction.rollback()
            assert not echappees, f"falsifications non vues : {echappees}"
            assert audit.verifier(Session(bind=c), cle).intact  # every change was rolled back


def test_la_base_refuse_de_changer_un_triage_finalise_et_le_journal(url_base):
    from sqlalchemy.exc import DBAPIError

    ids = _base(url_base)
    with Services(url_base) as depot:
        for requete in ("UPDATE triages SET statut = 'brouillon' WHERE id = :f", "UPDATE triages SET note = 'x' "
                        "WHERE id = :a", "UPDATE evenements_audit SET acteur = 'x' WHERE seq = 1",
                        "DELETE FROM evenements_audit WHERE seq = 1"):
            with pytest.raises(DBAPIError), depot.uow.bd.begin() as c:
                c.execute(text(requete), {"f": ids["final"], "a": ids["ancien"]})
        assert depot.audit.verifier_audit().intact


@pytest.fixture(scope="module")
def base_sqlite(tmp_path_factory) -> tuple[Any, dict[str, str]]:
    fichier = tmp_path_factory.mktemp("inviolabilite") / "base.sqlite"
    return fichier, _base(f"sqlite:///{fichier}")


@pytest.mark.parametrize("nom", sorted(CAS))
def test_audit_verify_sort_en_1_sur_une_copie_falsifiee(base_sqlite, tmp_path, capsys, nom):
    """`triage-app audit verify` itself, on a copy of the SQLite file: 0 untouched, 1 after each falsification."""
    fichier, ids = base_sqlite
    copie = tmp_path / "copie.sqlite"
    shutil.copy(fichier, copie)
    capsys.readouterr()
    assert main(["audit", "verify", "--base", f"sqlite:///{copie}"]) == 0
    assert "intact" in capsys.readouterr().out
    with Services(f"sqlite:///{copie}") as depot, depot.uow.bd.begin() as c:
        _sans_protections(c)
        CAS[nom](c, ids)
    assert main(["audit", "verify", "--base", f"sqlite:///{copie}"]) == 1
    assert "intact" not in capsys.readouterr().out


@pytest.fixture(scope="module")
def modele_pg(serveur_pg) -> tuple[Any, dict[str, str]]:
    """A filled PostgreSQL database used as the template of each copy (CREATE DATABASE … TEMPLATE)."""
    nom = f"modele_{uuid.uuid4().hex[:8]}"
    ids = _base(serveur_pg.creer_base(nom))
    yield nom, ids
    with contextlib.suppress(Exception):
        serveur_pg.supprimer_base(nom)


@pytest.mark.slow
@pytest.mark.parametrize("nom", sorted(CAS))
def test_audit_verify_sort_en_1_sur_une_copie_postgresql_falsifiee(serveur_pg, modele_pg, capsys, nom):
    from psycopg import sql

    modele, ids = modele_pg
    copie = f"copie_{uuid.uuid4().hex[:8]}"
    with serveur_pg.connexion_admin() as c:
        c.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(copie), sql.Identifier(modele)))
    url = serveur_pg.url(copie)
    try:
        capsys.readouterr()
        assert main(["audit", "verify", "--base", url]) == 0
        assert "intact" in capsys.readouterr().out
        with Services(url) as depot, depot.uow.bd.begin() as c:
            _sans_protections(c)
            CAS[nom](c, ids)
        assert main(["audit", "verify", "--base", url]) == 1
        assert "intact" not in capsys.readouterr().out
    finally:
        serveur_pg.supprimer_base(copie)


# -- checkpoints kept outside the database: what the head's seal cannot see --------------------------------------

def test_point_de_controle_sur_les_deux_bases(url_base):
    """A checkpoint (a link kept outside) is found in the chain as it grows; one that is not there, or differs,
    is reported, while the chain itself stays intact."""
    _base(url_base)
    with Services(url_base) as depot:
        rapport = depot.audit.verifier_audit()
        point = rapport.tete
        assert rapport.intact and point is not None and point.seq == rapport.evenements
        depot.patients.creer_patient(nom="Apres", prenom="Point", date_naissance=date(1990, 2, 2), acteur=ACTEUR)
        suivant = depot.audit.verifier_audit((point,))
        assert suivant.intact and suivant.tete is not None and suivant.tete.seq > point.seq
        plus_tard = audit.PointControle(suivant.tete.seq + 3, "a" * 64)
        assert "base revenue à un état antérieur" in (depot.audit.verifier_audit((point,
                                                                                  plus_tard)).premier_defaut or "")
        reecrit = audit.PointControle(point.seq, "0" * 64)
        assert "différent du point de contrôle" in (depot.audit.verifier_audit((reecrit,)).premier_defaut or "")
        assert depot.audit.verifier_audit().intact


def test_audit_verify_voit_une_base_restauree_avec_le_point_de_controle(tmp_path, capsys):
    """A database file put back as a whole to an earlier copy (its seal matching, so `audit verify` alone says
    intact) is caught with the checkpoint printed by a later verification."""
    fichier = tmp_path / "base.sqlite"
    url = f"sqlite:///{fichier}"
    _base(url)
    ancienne = tmp_path / "ancienne.sqlite"
    shutil.copy(fichier, ancienne)
    with Services(url) as depot:
        depot.patients.creer_patient(nom="Apres", prenom="Copie", date_naissance=date(1990, 2, 2), acteur=ACTEUR)
    capsys.readouterr()
    assert main(["audit", "verify", "--base", url]) == 0
    sortie = capsys.readouterr().out
    point = sortie.split("Point de contrôle à garder hors de la base : ")[1].strip()
    assert audit.PointControle.lire(point).seq >= 2
    assert main(["audit", "verify", "--base", url, "--point", point]) == 0
    assert "1 point(s) de contrôle retrouvé(s)" in capsys.readouterr().out
    assert main(["audit", "verify", "--base", f"sqlite:///{ancienne}"]) == 0  # the seal alone cannot tell
    capsys.readouterr()
    assert main(["audit", "verify", "--base", f"sqlite:///{ancienne}", "--point", point]) == 1
    assert "base revenue à un état antérieur" in capsys.readouterr().err
    for mauvais in ("12", "0:" + "a" * 64, "3:" + "A" * 64, "3:abc"):
        assert main(["audit", "verify", "--base", url, "--point", mauvais]) == 2
        assert "--point : point de contrôle attendu sous la forme N:EMPREINTE" in capsys.readouterr().err
