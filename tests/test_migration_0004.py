"""Migration 0004 (followed episodes) on the previous releases' databases: nothing lost, the audit still verifies.

A database at revision 0003 (the previous release) is filled as that release wrote it — patients with accented
names, episodes with a typed number of earlier episodes, final, replaced and draft triages with their answers,
sessions, a hash-chained audit trail — on SQLite and on PostgreSQL; the v1 dump of ``tests/fixtures``
(revision 0002) is upgraded too. Opening the storage service migrates to the head; every triage and audit event
is compared with what was there before, byte for byte.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, inspect, text
from sqlalchemy.orm import Session

from tests import ressources
from tests.conftest import RACINE, cas_base
from triage_app.cli import main
from triage_app.domain.texte import cle_patient
from triage_app.engine.evaluation import moteur
from triage_app.services.application import Services
from triage_app.storage import audit
from triage_app.storage.db import _configuration, _tetes, creer_moteur_bd

ACTEUR = "kine.migration"
MOMENT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
JOUR = date(2026, 3, 10)
DUMP_V1 = RACINE / "tests" / "fixtures" / "base_regles_v1.sql"
# The reason migration 0004 gives to a number of earlier episodes typed before it.
MOTIF_MIGRATION = "nombre saisi à la main avant le suivi des épisodes"
# A note as a kiné may type it: accents, ligatures, quotes, line breaks, a character outside the BMP.
NOTE = "Douleur « en barre » lombaire\nrevu le 12/03 — œdème léger, pas d'irradiation ; l’« EVA » 6/10 🙂"

fermer_les_depots = ressources.fermer_les_depots  # every Services of this module (the CLI's too) is closed

# (id, nom, prénom, date of birth, sexe, cover): the names a search without accents must find.
PATIENTS = [
    ("a" * 32, "Lefèbvre", "Hélène", date(1981, 4, 2), "F", "regime_general"),
    ("b" * 32, "Œdipe", "Zoé", date(1990, 12, 24), "F", "alsace_moselle"),
    ("c" * 32, "Saint-Exupéry", "Antoine", date(1975, 6, 29), "M", "regime_general"),
    ("d" * 32, "Dupont", "Jean-François", date(1979, 9, 9), None, "exoneration_100"),
    ("e" * 32, "Müller-Lüdenscheidt", "Ægir", date(1969, 1, 31), "M", "regime_general"),
]
# (id, patient, protocole, onset, typed number of earlier episodes in the 12 months, prescription).
EPISODES = [
    ("1" * 32, "a" * 32, "lombalgie_aigue", date(2026, 3, 1), 2, False),
    ("2" * 32, "b" * 32, "entorse_cheville", date(2026, 3, 5), 0, False),
    ("3" * 32, "c" * 32, "lombalgie_aigue", date(2026, 3, 2), 3, True),
    ("4" * 32, "d" * 32, "lombalgie_aigue", date(2026, 2, 27), 0, False),
    ("5" * 32, "e" * 32, "entorse_cheville", date(2026, 3, 8), 1, False),
]
# Sessions of the previous release (no act): (episode, day, billing route).
SEANCES = [("1" * 32, date(2026, 3, 11), "forfait_protocole"), ("1" * 32, date(2026, 3, 13), "forfait_protocole"),
           ("1" * 32, date(2026, 3, 16), "forfait_protocole"), ("3" * 32, date(2026, 3, 12), "ngap_prescription"),
           ("2" * 32, date(2026, 3, 12), "forfait_protocole")]
COLONNES_TRIAGE = ("id", "episode_id", "version", "remplace_id", "statut", "date_consultation", "cas", "resultat",
                   "orientation", "version_protocole", "empreinte_regles", "etape", "note", "auteur", "cree_le",
                   "modifie_le", "finalise_le")
COLONNES_AUDIT = ("seq", "horodatage", "type", "triage_id", "acteur", "details", "precedent", "empreinte")
TABLES = ("structure", "patients", "episodes", "triages", "seances", "evenements_audit", "tete_audit")


def _migrer(bd: Engine, cible: str, *, descendre: bool = False) -> None:
    """Alembic ``upgrade``/``downgrade`` to ``cible`` on the connection, as :func:`triage_app.storage.db.migrer`."""
    from alembic import command

    cfg = _configuration()
    with bd.begin() as connexion:
        cfg.attributes["connexion"] = connexion
        (command.downgrade if descendre else command.upgrade)(cfg, cible)


def _cas(protocole: str, patient: tuple[Any, ...], episode: tuple[Any, ...], jour: date,
         reponses: dict[str, Any]) -> dict[str, Any]:
    """A case as revision 0003 stored it (the cover in the case, the typed number of earlier episodes)."""
    cas = cas_base(protocole, date_consultation=jour.isoformat())
    cas["patient"] = {"date_naissance": patient[3].isoformat(), "sexe": patient[4], "couverture": patient[5]}
    cas["episode"].update(date_debut=episode[3].isoformat(), prescription_medicale=episode[5],
                          episodes_anterieurs_12_mois=episode[4])
    cas["reponses"] = reponses
    return cas


def _base_en_0003(url: str) -> dict[str, Any]:
    """A database at revision 0003, filled as the application of that revision did; returns what it holds."""
    bd = creer_moteur_bd(url)
    try:
        _migrer(bd, "0003")
        tables = MetaData()
        tables.reflect(bd)
        assert "nom_recherche" not in tables.tables["patients"].c and "acte" not in tables.tables["seances"].c
        m = moteur()
        triages: list[dict[str, Any]] = []
        patients = {p[0]: p for p in PATIENTS}
        for n, ep in enumerate(EPISODES):
            pc = m.protocoles[ep[2]]
            toutes = {q.id: q.id == "mecanisme_torsion" for q in pc.modele.questions if q.requis == "toujours"}
            if pc.modele.ottawa is not None:
                toutes.update({z.douleur: False for z in pc.modele.ottawa.zones})
            if ep[0] == "3" * 32:
                toutes["rf_fievre"] = True  # a final triage sending the patient to the médecin the same day
            commun = {"episode_id": ep[0], "auteur": ACTEUR, "cree_le": MOMENT + timedelta(minutes=n),
                      "modifie_le": MOMENT + timedelta(minutes=n, seconds=30)}
            cas = _cas(ep[2], patients[ep[1]], ep, JOUR, toutes)
            resultat = dict(m.evaluer(cas))
            final = {"id": f"f{n}".ljust(32, "0"), "version": 1, "remplace_id": None, "statut": "final",
                     "date_consultation": JOUR, "cas": cas, "resultat": resultat,
                     "orientation": resultat["orientation"], "version_protocole": resultat["version_protocole"],
                     "empreinte_regles": resultat["empreinte_regles"], "etape": "synthese",
                     "note": NOTE if n == 0 else None, "finalise_le": MOMENT + timedelta(minutes=n, seconds=50),
                     **commun}
            if ep[0] == "4" * 32:
                # An amended triage: version 1 replaced by version 2 (final); then a draft of a later visit.
                final["statut"] = "remplace"
                cas2 = _cas(ep[2], patients[ep[1]], ep, JOUR, {**toutes, "rf_fievre": True})
                resultat2 = dict(m.evaluer(cas2))
                v2 = {**final, "id": "v2".ljust(32, "0"), "version": 2, "remplace_id": final["id"],
                      "statut": "final", "cas": cas2, "resultat": resultat2,
                      "orientation": resultat2["orientation"], "note": "v2 « fièvre »"}
                triages += [final, v2]
            else:
                triages.append(final)
            partielles = dict(list(toutes.items())[: 2 + n])
            triages.append({"id": f"b{n}".ljust(32, "0"), "version": 1, "remplace_id": None, "statut": "brouillon",
                            "date_consultation": JOUR + timedelta(days=1),
                            "cas": _cas(ep[2], patients[ep[1]], ep, JOUR + timedelta(days=1), partielles),
                            "resultat": None, "orientation": None, "version_protocole": None,
                            "empreinte_regles": None, "etape": "drapeaux", "note": "à finir" if n % 2 else None,
                            "finalise_le": None, **commun})
        with Session(bd) as s, s.begin():
            chaine = audit.Chaine(s, MOMENT.isoformat())
            s.execute(tables.tables["structure"].insert().values(
                id=1, nom="MSP des Tilleuls", type="msp", departement="38",
                protocoles_appliques=["entorse_cheville", "lombalgie_aigue"], inscrit_experimentation_cpts=False,
                modifie_le=MOMENT))
            chaine.ajouter("structure", "coord")
            for pid, nom, prenom, naissance, sexe, couverture in PATIENTS:
                s.execute(tables.tables["patients"].insert().values(
                    id=pid, nom=nom, prenom=prenom, date_naissance=naissance, sexe=sexe, couverture=couverture,
                    cree_le=MOMENT))
                chaine.ajouter("creation_patient", ACTEUR, details={"patient": pid})
            for eid, pid, protocole, debut, anterieurs, prescription in EPISODES:
                s.execute(tables.tables["episodes"].insert().values(
                    id=eid, patient_id=pid, protocole=protocole, date_debut=debut,
                    prescription_medicale=prescription, diagnostic_medical_prealable=False,
                    antecedent_lombalgie=protocole == "lombalgie_aigue", episodes_anterieurs_12_mois=anterieurs,
                    cree_le=MOMENT))
                chaine.ajouter("creation_episode", ACTEUR, details={"episode": eid, "patient": pid})
            for t in triages:
                s.execute(tables.tables["triages"].insert().values(**t))
                chaine.ajouter("creation", ACTEUR, t["id"])
                for q in t["cas"]["reponses"]:
                    chaine.ajouter("reponse", ACTEUR, t["id"], {"question": q})
                if t["statut"] != "brouillon":
                    chaine.ajouter("finalisation", ACTEUR, t["id"], {
                        "contenu": audit.empreinte_contenu(t["cas"], t["resultat"]), "version": t["version"],
                        "remplace": t["remplace_id"], "empreinte_regles": t["empreinte_regles"]})
            seances = tables.tables["seances"]
            for eid, jour, voie in SEANCES:  # ids from the database's own sequence, as the release wrote them
                n = s.execute(seances.insert().values(episode_id=eid, date=jour, voie=voie, cree_le=MOMENT)
                              .returning(seances.c.id)).scalar_one()
                chaine.ajouter("seance", ACTEUR, details={"episode": eid, "seance": n})
    finally:
        bd.dispose()
    return {"triages": triages}


def _json(valeur: Any) -> Any:
    """PostgreSQL returns JSON columns decoded, SQLite as text: compare the decoded values."""
    return json.loads(valeur) if isinstance(valeur, str | bytes) else valeur


# The events an upgrade appends itself (0008's closing of open duplicates, 0009's seal of every row): what the
# release before had is compared without them; the tests of those migrations look at them.
ACTEURS_MISES_A_JOUR = ("mise_a_jour_0008", "mise_a_jour_0009")


def _instantane(url: str, *, avec_mises_a_jour: bool = False) -> dict[str, Any]:
    """Every triage and audit row as stored (raw SQL, no ORM), and the row count of each table. The events an upgrade
    appended at the chain's end are left out (and the head and count taken before them) unless
    ``avec_mises_a_jour``; ``ajoutes_par_mise_a_jour`` lists their types."""
    bd = create_engine(url)
    try:
        with bd.connect() as c:
            triages = [dict(zip(COLONNES_TRIAGE, r, strict=True)) for r in c.execute(text(
                f"SELECT {', '.join(COLONNES_TRIAGE)} FROM triages ORDER BY id"))]
            evenements = [dict(zip(COLONNES_AUDIT, r, strict=True)) for r in c.execute(text(
                f"SELECT {', '.join(COLONNES_AUDIT)} FROM evenements_audit ORDER BY seq"))]
            tete = tuple(c.execute(text("SELECT seq, empreinte FROM tete_audit")).one())
            comptes = {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}
    finally:
        bd.dispose()
    ajoutes = []
    while not avec_mises_a_jour and evenements and evenements[-1]["acteur"] in ACTEURS_MISES_A_JOUR:
        ajoutes.insert(0, evenements.pop()["type"])
    if ajoutes:
        tete = (evenements[-1]["seq"], evenements[-1]["empreinte"]) if evenements else (0, audit.GENESE)
        comptes["evenements_audit"] -= len(ajoutes)
    return {"triages": json.dumps(triages, sort_keys=True, ensure_ascii=False, default=str),
            "evenements": json.dumps(evenements, sort_keys=True, ensure_ascii=False, default=str),
            "triages_lignes": triages, "evenements_lignes": evenements, "tete": tete, "comptes": comptes,
            "ajoutes_par_mise_a_jour": ajoutes}


def _version(url: str) -> str:
    bd = create_engine(url)
    try:
        with bd.connect() as c:
            return str(c.execute(text("SELECT version_num FROM alembic_version")).scalar())
    finally:
        bd.dispose()


def test_migration_0004_garde_triages_reponses_et_journal_de_0003(url_base, capsys):
    contenu = _base_en_0003(url_base)
    avant = _instantane(url_base)
    assert avant["comptes"]["triages"] == len(contenu["triages"]) == 11
    assert _version(url_base) == "0003"
    with Services(url_base) as depot:  # migrates to the head
        assert _version(url_base) in _tetes()
        apres = _instantane(url_base)
        # Triages (ids, case with every answer, result, status, note…) and audit events: as they were.
        assert apres["triages"] == avant["triages"]
        assert apres["evenements"] == avant["evenements"] and apres["tete"] == avant["tete"]
        assert apres["comptes"] == avant["comptes"]
        stockes = {t["id"]: t for t in apres["triages_lignes"]}
        for t in contenu["triages"]:
            ligne = stockes[t["id"]]
            assert _json(ligne["cas"]) == t["cas"] and _json(ligne["cas"])["reponses"] == t["cas"]["reponses"]
            assert _json(ligne["resultat"]) == t["resultat"]
            assert (ligne["statut"], ligne["note"], ligne["version"]) == (t["statut"], t["note"], t["version"])
            assert depot.triages.charger(t["id"]).cas == t["cas"]
        assert stockes["f0".ljust(32, "0")]["note"] == NOTE
        rapport = depot.audit.verifier_audit()
        assert rapport.intact, rapport.premier_defaut
        # Every event of the release before, and the seal of every row the upgrade added (0009).
        assert apres["ajoutes_par_mise_a_jour"] == ["empreintes_initiales"]
        assert rapport.evenements == len(avant["evenements_lignes"]) + 1
        capsys.readouterr()
        assert main(["audit", "verify", "--base", url_base]) == 0
        assert f"intact : {rapport.evenements} événement(s)" in capsys.readouterr().out

        # The search keys were filled from the stored names: no accents, no case, no punctuation.
        with depot.uow.bd.connect() as c:
            cles = dict(c.execute(text("SELECT id, nom_recherche FROM patients")).all())
        assert cles == {pid: cle_patient(nom, prenom) for pid, nom, prenom, *_ in PATIENTS}
        assert cles["b" * 32] == "oedipe zoe" and cles["e" * 32] == "muller ludenscheidt aegir"
        for tape, nom in (("lefebvre", "Lefèbvre"), ("oedipe", "Œdipe"), ("saint exupery", "Saint-Exupéry"),
                          ("LEFÈBVRE", "Lefèbvre"), ("exupéry saint", "Saint-Exupéry"), ("jean francois", "Dupont"),
                          ("ludensch aegir", "Müller-Lüdenscheidt"), ("24/12/1990", "Œdipe"),
                          ("œdipe zoé", "Œdipe")):
            assert [p.nom for p in depot.patients.rechercher_patients(tape, acteur="x")] == [nom], tape
        (lefebvre,) = depot.patients.rechercher_patients("lefeb", acteur="x")
        assert lefebvre.episodes_ouverts == ("lombalgie_aigue",) and lefebvre.couverture == "regime_general"
        assert depot.patients.rechercher_patients("lefevre", acteur="x") == []

        # Old sessions are sessions; old episodes are open; a typed number became a declaration with its reason.
        with depot.uow.bd.connect() as c:
            assert set(c.execute(text("SELECT acte, evolution, suite FROM seances")).all()) == {("seance", None, None)}
            assert c.execute(text("SELECT count(*) FROM seances")).scalar() == len(SEANCES)
        for eid, _, protocole, debut, anterieurs, prescription in EPISODES:
            etat = depot.episodes.etat_episode(eid, JOUR + timedelta(days=10))
            assert (etat.statut, etat.motif_cloture, etat.date_cloture) == ("ouvert", None, None)
            assert (etat.repris_par, etat.evenement_indesirable) == (None, None)
            assert (etat.protocole, etat.date_debut, etat.prescription_medicale) == (protocole, debut, prescription)
            assert etat.episodes_12_mois == anterieurs and etat.episodes_12_mois_calcules == 0
            assert etat.motif_declaration == (MOTIF_MIGRATION if anterieurs else None)
            assert etat.seances_12_mois == etat.seances_12_mois_calculees == 0
            assert etat.seances_serie == sum(1 for e, _, _ in SEANCES if e == eid)
            assert all(a.acte == "seance" for a in etat.actes)
        etat = depot.episodes.etat_episode("1" * 32, JOUR + timedelta(days=10))
        assert etat.orientation == "protocole" and etat.voie == "forfait_protocole"
        assert [(a.date, a.voie) for a in etat.actes] == [(j, v) for e, j, v in SEANCES if e == "1" * 32]
        assert depot.rgpd.exporter_patient("a" * 32, acteur="coord")["episodes"][0]["episodes_12_mois_declares"] == 2

        # The old records go on: a draft of 0003 evaluates with the declared history, a new session is recorded.
        assert depot.triages.cas_effectif("b0".ljust(32, "0"))["episode"]["episodes_anterieurs_12_mois"] == 2
        depot.episodes.enregistrer_seance(episode_id="1" * 32, jour=date(2026, 3, 18), acteur=ACTEUR)
        assert depot.episodes.etat_episode("1" * 32, date(2026, 3, 18)).seances_serie == 4
        rapport = depot.audit.verifier_audit()
        assert rapport.intact and rapport.evenements > len(avant["evenements_lignes"])
        # …and the events of the previous release are still the first ones, unchanged.
        assert _instantane(url_base)["evenements_lignes"][: len(avant["evenements_lignes"])] == \
            avant["evenements_lignes"]


def test_migration_0004_de_la_base_v1(tmp_path, capsys):
    """The dump of the release of rules v1 (revision 0002) upgraded to the head: same rows, audit intact."""
    fichier = tmp_path / "triage.sqlite"
    with sqlite3.connect(fichier) as connexion:
        connexion.executescript(DUMP_V1.read_text(encoding="utf-8"))
    connexion.close()
    url = f"sqlite:///{fichier}"
    assert _version(url) == "0002"
    avant = _instantane(url)
    assert avant["comptes"]["triages"] >= 19 and avant["comptes"]["seances"] > 0
    with Services(url) as depot:
        assert _version(url) in _tetes()
        apres = _instantane(url)
        assert apres["comptes"] == avant["comptes"]
        assert apres["triages"] == avant["triages"] and apres["evenements"] == avant["evenements"]
        rapport = depot.audit.verifier_audit()
        assert rapport.intact, rapport.premier_defaut
        assert rapport.evenements == avant["comptes"]["evenements_audit"] + len(apres["ajoutes_par_mise_a_jour"])
        with depot.uow.bd.connect() as c:
            patients = c.execute(text("SELECT nom, prenom, nom_recherche, couverture FROM patients")).all()
            assert {r[0] for r in c.execute(text("SELECT acte FROM seances"))} == {"seance"}
            # Open episodes of one patient and condition beyond the most recent were closed « doublon » by 0008 (at
            # most one open per patient and condition since then); nothing else is closed.
            assert {(r[0], r[1]) for r in c.execute(text("SELECT statut, motif_cloture FROM episodes"))} <= {
                ("ouvert", None), ("clos", "doublon")}
            assert not c.execute(text("SELECT patient_id, protocole FROM episodes WHERE statut = 'ouvert' "
                                      "GROUP BY patient_id, protocole HAVING count(*) > 1")).all()
        assert all(cle == cle_patient(nom, prenom) and cle.startswith("exemple fictif ") for nom, prenom, cle, _
                   in patients)
        assert {p[3] for p in patients} == {"regime_general"}
        trouves = depot.patients.rechercher_patients("exemple fictif", acteur="x", limite=100)
        assert len(trouves) == len(patients)
        assert [p.prenom for p in depot.patients.rechercher_patients("amende fievre", acteur="x")] == ["Amende-Fievre"]
    capsys.readouterr()
    assert main(["audit", "verify", "--base", url]) == 0
    assert "Journal d'audit intact" in capsys.readouterr().out
    sortie = subprocess.run([sys.executable, "-m", "triage_app.cli", "audit", "verify", "--base", url],
                            capture_output=True, text=True, check=False, cwd=RACINE)
    assert sortie.returncode == 0, sortie.stderr
    assert "intact" in sortie.stdout


def test_descendre_en_0003_puis_remonter_garde_les_lignes(url_base):
    _base_en_0003(url_base)
    avant = _instantane(url_base)
    with Services(url_base, horloge=lambda: MOMENT + timedelta(days=1)) as depot:
        # Written at the head: a patient (its search key), a session, a closed episode.
        pid = depot.patients.creer_patient(nom="Lemaître", prenom="Noël", date_naissance=date(1988, 5, 5),
                                           acteur=ACTEUR)
        depot.episodes.enregistrer_seance(episode_id="2" * 32, jour=date(2026, 3, 14), acteur=ACTEUR)
        depot.episodes.cloturer_episode("5" * 32, motif="guerison", jour=date(2026, 3, 20), acteur=ACTEUR)
        en_tete = _instantane(url_base)
    bd = creer_moteur_bd(url_base)
    try:
        _migrer(bd, "0003", descendre=True)
        assert _version(url_base) == "0003"
        colonnes = {t: {c["name"] for c in inspect(bd).get_columns(t)} for t in ("patients", "episodes", "seances")}
        assert "nom_recherche" not in colonnes["patients"] and "couverture" in colonnes["patients"]
        assert {"statut", "motif_cloture", "episodes_12_mois_declares"}.isdisjoint(colonnes["episodes"])
        assert "acte" not in colonnes["seances"]
        indexes = {i["name"] for t in ("patients", "episodes", "seances") for i in inspect(bd).get_indexes(t)}
        assert not {"ix_patients_nom_recherche", "ix_episodes_patient_protocole", "ix_seances_episode_date"} & indexes
    finally:
        bd.dispose()
    descendue = _instantane(url_base)
    assert descendue["comptes"] == en_tete["comptes"]
    assert descendue["comptes"]["patients"] == avant["comptes"]["patients"] + 1
    assert descendue["comptes"]["seances"] == avant["comptes"]["seances"] + 1
    assert descendue["triages"] == en_tete["triages"] == avant["triages"]
    assert descendue["evenements"] == en_tete["evenements"] and descendue["tete"] == en_tete["tete"]
    with Services(url_base) as depot:  # up again
        assert _version(url_base) in _tetes()
        remontee = _instantane(url_base)
        assert remontee["comptes"] == en_tete["comptes"]
        assert remontee["triages"] == avant["triages"] and remontee["evenements"] == en_tete["evenements"]
        assert depot.audit.verifier_audit().intact
        assert [p.id for p in depot.patients.rechercher_patients("lemaitre noel", acteur="x")] == [pid]
        assert [p.nom for p in depot.patients.rechercher_patients("oedipe", acteur="x")] == ["Œdipe"]
        assert depot.episodes.etat_episode("2" * 32, date(2026, 3, 20)).seances_serie == 2
        assert depot.episodes.etat_episode("1" * 32, JOUR).episodes_12_mois == 2
