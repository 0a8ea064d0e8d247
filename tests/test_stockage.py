"""Storage, drafts, versions, sessions, audit and RGPD — the same tests on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect, text

from tests import ressources
from tests.conftest import RACINE
from triage_app.engine.evaluation import Moteur, charger_regles
from triage_app.errors import ErreurCas
from triage_app.services.application import Services
from triage_app.services.unite import ErreurStockage
from triage_app.storage import db
from triage_app.storage.tables import Base

ACTEUR = "kine.test"

# Every Services a test opens (here, in its threads, or through the command line run in-process) is closed at its end.
fermer_les_depots = ressources.fermer_les_depots


def _depot(url, **kwargs) -> Services:
    return Services(url, horloge=lambda: datetime(2026, 3, 10, 9, 0, tzinfo=UTC), **kwargs)


def _remplir(depot: Services, structure: str = "msp", protocole: str = "lombalgie_aigue",
             avant: Callable[[str], object] | None = None, **episode) -> tuple[str, str]:
    """The structure, a patient and an open episode (``avant``: what the patient had before it, given their id)."""
    depot.structure.enregistrer_structure(nom="MSP des Tilleuls", type=structure, departement="38",
                                          protocoles_appliques=["lombalgie_aigue", "entorse_cheville"], acteur="coord")
    pid = depot.patients.creer_patient(nom="Dupont", prenom="Jeanne", date_naissance=date(1979, 9, 9), sexe="F",
                                       acteur=ACTEUR)
    if avant is not None:
        avant(pid)
    eid = depot.episodes.creer_episode(patient_id=pid, protocole=protocole, date_debut=date(2026, 3, 1),
                                       antecedent_lombalgie=True, acteur=ACTEUR, **episode)
    return pid, eid


def _triage_complet(depot: Services, eid: str, jour: date = date(2026, 3, 10)) -> str:
    tid = depot.triages.creer_triage(episode_id=eid, date_consultation=jour, acteur=ACTEUR)
    depot.triages.modifier_brouillon(tid, {"cadre.medecin_delegant_est_medecin_traitant": True,
                                   "cadre.medecin_joignable": True, "consentement.protocole": True,
                                   "consentement.partage_dmp": True}, acteur=ACTEUR, etape="patient")
    protocole = depot.triages.charger(tid).cas["protocole"]
    for q in depot.moteur.protocoles[protocole].modele.questions:
        if q.requis == "toujours":
            depot.triages.enregistrer_reponse(tid, q.id, q.id == "mecanisme_torsion", acteur=ACTEUR, etape="drapeaux")
    if protocole == "entorse_cheville":
        for qid in ("ottawa_douleur_malleolaire", "ottawa_douleur_medio_pied"):
            depot.triages.enregistrer_reponse(tid, qid, False, acteur=ACTEUR)
    return tid


def test_base_neuve_et_audit_intact(url_base):
    depot = _depot(url_base)
    assert depot.audit.verifier_audit().intact
    assert depot.triages.lister() == []
    # Migrating again is a no-op.
    _depot(url_base)


def test_les_tables_orm_suivent_les_migrations(url_base):
    depot = _depot(url_base)
    inspecteur = inspect(depot.uow.bd)
    for table in Base.metadata.sorted_tables:
        colonnes = {c["name"] for c in inspecteur.get_columns(table.name)}
        assert colonnes == {c.name for c in table.columns}, table.name


def test_brouillon_repris_par_son_identifiant(url_base):
    depot = _depot(url_base)
    _, eid = _remplir(depot)
    tid = depot.triages.creer_triage(episode_id=eid, date_consultation=date(2026, 3, 10), acteur=ACTEUR)
    depot.triages.enregistrer_reponse(tid, "rf_fievre", False, acteur=ACTEUR, etape="drapeaux.generaux")
    depot.triages.enregistrer_reponse(tid, "rf_perte_poids", True, acteur=ACTEUR)
    depot.triages.enregistrer_reponse(tid, "rf_perte_poids", None, acteur=ACTEUR)
    repris = _depot(url_base).triages.charger(tid)
    assert repris.statut == "brouillon" and repris.etape == "drapeaux.generaux"
    assert repris.cas["reponses"] == {"rf_fievre": False}
    assert len(tid) == 32 and tid.isalnum()
    with pytest.raises(ErreurCas):
        depot.triages.enregistrer_reponse(tid, "rf_inconnue", True, acteur=ACTEUR)
    with pytest.raises(ErreurStockage):
        depot.triages.charger("0" * 32)


def test_un_triage_sans_orientation_ne_se_finalise_pas(url_base):
    depot = _depot(url_base)
    pid, eid = _remplir(depot)
    tid = depot.triages.creer_triage(episode_id=eid, date_consultation=date(2026, 3, 10), acteur=ACTEUR)
    depot.triages.enregistrer_reponse(tid, "rf_fievre", False, acteur=ACTEUR)
    with pytest.raises(ErreurStockage, match=r"incomplet.*rf_"):
        depot.triages.finaliser(tid, acteur=ACTEUR)
    assert depot.triages.charger(tid).statut == "brouillon"
    # An urgent sign is enough to decide (and to record) the referral, even with questions left.
    depot.triages.enregistrer_reponse(tid, "rf_troubles_sphincteriens", True, acteur=ACTEUR)
    assert depot.triages.finaliser(tid, acteur=ACTEUR)["orientation"] == "urgences"
    entete = depot.triages.entete(tid)
    assert entete["patient"] == "Dupont Jeanne" and entete["patient_id"] == pid and entete["episode_id"] == eid


def test_finaliser_puis_amender_garde_l_ancienne_version(url_base):
    depot = _depot(url_base)
    _, eid = _remplir(depot)
    tid = _triage_complet(depot, eid)
    r = depot.triages.finaliser(tid, acteur=ACTEUR, note="Lombalgie après déménagement.")
    assert r["orientation"] == "protocole"
    t = depot.triages.charger(tid)
    assert t.statut == "final" and t.resultat == r and t.version_protocole == r["version_protocole"]
    assert t.empreinte_regles.startswith("sha256:") and t.note.startswith("Lombalgie")
    with pytest.raises(ErreurStockage, match="finalisé"):
        depot.triages.enregistrer_reponse(tid, "rf_fievre", True, acteur=ACTEUR)
    nid = depot.triages.amender(tid, acteur=ACTEUR)
    depot.triages.enregistrer_reponse(nid, "rf_fievre", True, acteur=ACTEUR)
    assert depot.triages.charger(tid).statut == "final"
    r2 = depot.triages.finaliser(nid, acteur=ACTEUR)
    assert r2["orientation"] == "medecin_jour"
    ancien = depot.triages.charger(tid)
    assert ancien.statut == "remplace" and ancien.resultat == r and ancien.cas["reponses"]["rf_fievre"] is False
    assert [v.version for v in depot.triages.versions(tid)] == [1,
                                                                2] == [v.version for v in depot.triages.versions(nid)]
    assert [(lt.id, lt.version) for lt in depot.triages.lister()] == [(nid, 2)]
    assert depot.audit.verifier_audit().intact


def test_les_12_mois_comptent_les_autres_episodes_du_meme_motif(url_base):
    """Rules v2 (§8.1): ``seances_12_mois`` = the patient's other episodes of the same protocol, in the 12 months
    before the consultation; this episode's sessions are counted once, in ``seances_realisees_episode``."""
    depot = _depot(url_base)

    def anciens(pid: str) -> None:  # closed before this one opens (one open episode per condition, issue #28)
        ancien = depot.episodes.creer_episode(patient_id=pid, protocole="lombalgie_aigue",
                                              date_debut=date(2025, 6, 1), acteur=ACTEUR)
        for i in range(15):
            depot.episodes.enregistrer_seance(episode_id=ancien, jour=date(2025, 6, 2 + i), voie="ngap_prescription",
                                              acteur=ACTEUR)
        depot.episodes.cloturer_episode(ancien, motif="guerison", jour=date(2025, 6, 30), acteur=ACTEUR)

    pid, eid = _remplir(depot, avant=anciens)
    cheville = depot.episodes.creer_episode(patient_id=pid, protocole="entorse_cheville", date_debut=date(2025, 12, 1),
                                            acteur=ACTEUR)
    depot.episodes.enregistrer_seance(episode_id=cheville, jour=date(2025, 12, 2), voie="ngap_prescription",
                                      acteur=ACTEUR)
    for i in range(5):
        depot.episodes.enregistrer_seance(episode_id=eid, jour=date(2026, 3, 2 + i), voie="forfait_protocole",
                                          acteur=ACTEUR)
    assert depot.episodes.compter_seances(eid, date(2026, 3, 10)) == (5, 15)
    assert depot.episodes.compter_seances(eid, date(2026, 6, 10)) == (5, 7)  # 2025-06-02…06-09 now older than 12 months
    tid = _triage_complet(depot, eid)
    r = depot.triages.evaluer(tid)
    assert r["orientation"] == "protocole"
    assert r["seances"]["realisees"] == 5 and r["seances"]["restantes"] == 10  # min(15 − 5, 30 − 15 − 5)


def test_les_seances_enregistrees_alimentent_l_evaluation(url_base):
    depot = _depot(url_base)
    _, eid = _remplir(depot, structure="esp")
    tid = _triage_complet(depot, eid, jour=date(2026, 4, 20))
    assert depot.triages.evaluer(tid)["seances"]["realisees"] == 0
    for i in range(7):
        depot.episodes.enregistrer_seance(episode_id=eid, jour=date(2026, 3, 11 + i), voie="ngap_acces_direct",
                                          acteur=ACTEUR)
    r = depot.triages.evaluer(tid)
    assert r["orientation"] == "acces_direct" and r["seances"]["realisees"] == 7 and r["seances"]["restantes"] == 1
    assert any("8e" in x for x in r["facturation"]["remarques"]), "avertissement avant la 8e séance"
    depot.episodes.enregistrer_seance(episode_id=eid, jour=date(2026, 3, 20), voie="ngap_acces_direct", acteur=ACTEUR)
    depot.episodes.enregistrer_seance(episode_id=eid, jour=date(2026, 4, 25), voie="ngap_acces_direct", acteur=ACTEUR)
    r = depot.triages.evaluer(tid)
    assert r["orientation"] == "medecin_programme" and [m["id"] for m in r["motifs"]] == ["plafond_acces_direct"]
    # The 12-month count is of the patient's other episodes (rules v2, §8.1): none here.
    assert depot.episodes.compter_seances(eid, date(2026, 4, 20)) == (8, 0)
    assert depot.episodes.compter_seances(eid, date(2027, 4, 1)) == (9, 0)


def test_seuil_dap_depuis_les_seances(url_base):
    depot = _depot(url_base)
    _, eid = _remplir(depot, prescription_medicale=True)
    tid = _triage_complet(depot, eid, jour=date(2026, 6, 1))
    for i in range(15):
        depot.episodes.enregistrer_seance(episode_id=eid, jour=date(2026, 3, 2 + i), voie="ngap_prescription",
                                          acteur=ACTEUR)
    r = depot.triages.evaluer(tid)
    assert r["orientation"] == "sur_prescription" and r["seances"]["realisees"] == 15
    assert any("DAP" in x for x in r["facturation"]["remarques"])


def test_le_journal_refuse_modification_et_suppression(url_base):
    depot = _depot(url_base)
    _remplir(depot)
    for ordre in ("UPDATE evenements_audit SET acteur = 'intrus' WHERE seq = 1", "DELETE FROM evenements_audit"):
        with pytest.raises(Exception, match="ajout seul"), depot.uow.bd.begin() as c:
            c.execute(text(ordre))
    assert depot.audit.verifier_audit().intact


def _contourner_triggers(depot: Services) -> None:
    with depot.uow.bd.begin() as c:
        if depot.uow.bd.dialect.name == "postgresql":
            c.execute(text("ALTER TABLE evenements_audit DISABLE TRIGGER USER"))
        else:
            c.execute(text("DROP TRIGGER audit_ajout_seul_update"))
            c.execute(text("DROP TRIGGER audit_ajout_seul_delete"))


@pytest.mark.parametrize(("alteration", "attendu"), [
    ("UPDATE evenements_audit SET acteur = 'intrus' WHERE seq = 3", "maillon n° 3"),
    ("DELETE FROM evenements_audit WHERE seq = 2", "maillon n° 2 : absent"),
    ("DELETE FROM evenements_audit WHERE seq = (SELECT max(seq) FROM evenements_audit)", "tête de chaîne"),
])
def test_audit_verify_nomme_le_premier_maillon_rompu(url_base, alteration, attendu):
    depot = _depot(url_base)
    _, eid = _remplir(depot)
    _triage_complet(depot, eid)
    _contourner_triggers(depot)
    with depot.uow.bd.begin() as c:
        c.execute(text(alteration))
    rapport = depot.audit.verifier_audit()
    assert not rapport.intact and attendu in rapport.premier_defaut
    sortie = subprocess.run([sys.executable, "-m", "triage_app.cli", "audit", "verify", "--base", url_base],
                            capture_output=True, text=True, check=False)
    assert sortie.returncode == 1 and attendu in sortie.stderr


def test_un_triage_finalise_modifie_en_base_est_detecte(url_base):
    depot = _depot(url_base)
    _, eid = _remplir(depot)
    tid = _triage_complet(depot, eid)
    depot.triages.finaliser(tid, acteur=ACTEUR)
    assert depot.audit.verifier_audit().intact
    # The database refuses the change (issue #16)…
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="triage finalisé"), depot.uow.bd.begin() as c:
        c.execute(text("UPDATE triages SET orientation = 'acces_direct', note = 'x' WHERE id = :i"), {"i": tid})
    # …and an administrator who drops the trigger is caught by the check: the listing columns and the note are in
    # the fingerprint too.
    with depot.uow.bd.begin() as c:
        pg = depot.uow.bd.dialect.name == "postgresql"
        c.execute(text("DROP TRIGGER triage_fige" + (" ON triages" if pg else "")))
        c.execute(text("UPDATE triages SET orientation = 'acces_direct', note = 'x' WHERE id = :i"), {"i": tid})
    rapport = depot.audit.verifier_audit()
    assert not rapport.intact and tid in rapport.premier_defaut


def test_audit_verify_en_ligne_de_commande_base_neuve(url_base):
    _depot(url_base)
    sortie = subprocess.run([sys.executable, "-m", "triage_app.cli", "audit", "verify", "--base", url_base],
                            capture_output=True, text=True, check=False)
    assert sortie.returncode == 0, sortie.stderr
    assert "intact" in sortie.stdout


def test_commandes_de_stockage_sur_une_base_remplie(url_base, tmp_path, capsys):
    from triage_app.cli import main

    depot = _depot(url_base)
    pid, eid = _remplir(depot)
    depot.triages.finaliser(_triage_complet(depot, eid), acteur=ACTEUR)
    _triage_complet(depot, eid)
    assert main(["audit", "verify", "--base", url_base]) == 0
    assert "intact" in capsys.readouterr().out
    assert main(["reevaluate", "--json", "--processus", "1", "--base", url_base]) == 0
    assert json.loads(capsys.readouterr().out) == []
    fichier = tmp_path / "export.json"
    # --acteur names an account of the structure (issue #28): never free text that could be a patient's name.
    assert main(["patient", "export", pid, "--acteur", "Dupont Jeanne née le 01/02/1960", "--output", str(fichier),
                 "--base", url_base]) == 2
    assert "Dupont" not in capsys.readouterr().err and not fichier.exists()
    depot.comptes.creer_utilisateur(identifiant="coord", nom="Coordination", role="coordinateur",
                                    mot_de_passe="un mot de passe long", acteur="test")
    assert main(["patient", "export", pid, "--acteur", "coord", "--output", str(fichier), "--base", url_base]) == 0
    assert json.loads(fichier.read_text(encoding="utf-8"))["patient"]["nom"] == "Dupont"
    assert main(["patient", "erase", pid, "--acteur", "coord", "--base", url_base]) == 0
    capsys.readouterr()
    assert main(["patient", "export", pid, "--acteur", "coord", "--base", url_base]) == 2
    assert "introuvable" in capsys.readouterr().err
    assert main(["audit", "verify", "--base", url_base]) == 0


def test_export_et_effacement_rgpd(url_base):
    depot = _depot(url_base)
    pid, eid = _remplir(depot)
    tid = _triage_complet(depot, eid)
    depot.triages.finaliser(tid, acteur=ACTEUR)
    depot.episodes.enregistrer_seance(episode_id=eid, jour=date(2026, 3, 12), voie="forfait_protocole", acteur=ACTEUR)
    export = depot.rgpd.exporter_patient(pid, acteur="coord")
    assert export["patient"]["nom"] == "Dupont" and export["patient"]["date_naissance"] == "1979-09-09"
    assert export["episodes"][0]["triages"][0]["resultat"]["orientation"] == "protocole"
    assert export["episodes"][0]["seances"] == [  # consultation 1 recorded at finalisation (rules v3, §9.7)
        {"date": "2026-03-10", "voie": "forfait_protocole", "acte": "consultation_protocole_1", "evolution": None,
         "suite": None},
        {"date": "2026-03-12", "voie": "forfait_protocole", "acte": "seance", "evolution": None, "suite": None}]
    autre_pid, autre_eid = pid, None
    autre_pid = depot.patients.creer_patient(nom="Autre", prenom="Paul", date_naissance=date(1990, 1, 1), acteur=ACTEUR)
    autre_eid = depot.episodes.creer_episode(patient_id=autre_pid, protocole="entorse_cheville",
                                             date_debut=date(2026, 3, 9), acteur=ACTEUR)
    _triage_complet(depot, autre_eid)
    depot.rgpd.effacer_patient(pid, acteur="coord")
    with pytest.raises(ErreurStockage):
        depot.rgpd.exporter_patient(pid, acteur="coord")
    assert [lt.patient for lt in depot.triages.lister()] == ["Autre Paul"]
    assert depot.audit.verifier_audit().intact
    with depot.uow.bd.connect() as c:
        journal = " ".join(str(tuple(r)) for r in c.execute(text("SELECT * FROM evenements_audit")))
    assert "Dupont" not in journal and "1979-09-09" not in journal and "Jeanne" not in journal
    assert "effacement" in journal


def test_reevaluation_liste_les_changements_de_regles(url_base, tmp_path):
    depot = _depot(url_base)
    _, eid = _remplir(depot)
    tid = _triage_complet(depot, eid)
    depot.triages.finaliser(tid, acteur=ACTEUR)
    assert depot.reevaluation.reevaluer() == []
    regles = tmp_path / "protocols"
    shutil.copytree(RACINE / "protocols", regles)
    forfait = regles / "parameters" / "protocoles" / "forfait_lombalgie_consultation_1.yaml"
    forfait.write_text(forfait.read_text(encoding="utf-8").replace("valeur: 25", "valeur: 30"), encoding="utf-8")
    nouveau = _depot(url_base, moteur_regles=Moteur(charger_regles(regles)))
    changements = nouveau.reevaluation.reevaluer()
    assert [c.triage_id for c in changements] == [tid]
    assert changements[0].avant["lignes"][0] == ("PC_CONSULTATION_1", 25.0)
    assert changements[0].apres["lignes"][0] == ("PC_CONSULTATION_1", 30.0)


def test_vingt_ecrivains_en_parallele_ne_perdent_ni_ne_dupliquent_rien(url_base):
    depot = _depot(url_base)
    _, eid = _remplir(depot)
    triages = [depot.triages.creer_triage(episode_id=eid, date_consultation=date(2026, 3, 10), acteur=ACTEUR)
               for _ in range(20)]
    questions = [q.id for q in depot.moteur.protocoles["lombalgie_aigue"].modele.questions if q.requis == "toujours"]
    avant = depot.audit.verifier_audit().evenements
    erreurs: list[BaseException] = []
    depart = threading.Barrier(20, timeout=60)

    def ecrire(tid: str, n: int) -> None:
        try:
            local = _depot(url_base)
            depart.wait()
            for q in questions:
                local.triages.enregistrer_reponse(tid, q, (n + len(q)) % 2 == 0, acteur=f"kine{n}")
            # One day each: a second session on one day would ask for a confirmation (rules v3, §9.8).
            local.episodes.enregistrer_seance(episode_id=eid, jour=date(2026, 3, 11) + timedelta(days=n),
                                              voie="forfait_protocole", acteur=f"kine{n}")
            local.fermer()
        except BaseException as exc:
            erreurs.append(exc)

    fils = [threading.Thread(target=ecrire, args=(tid, n), daemon=True) for n, tid in enumerate(triages)]
    for f in fils:
        f.start()
    for f in fils:
        f.join(timeout=120)
    assert not any(f.is_alive() for f in fils), "un écrivain est resté bloqué"
    assert erreurs == []
    for n, tid in enumerate(triages):
        assert depot.triages.charger(tid).cas["reponses"] == {q: (n + len(q)) % 2 == 0 for q in questions}
    rapport = depot.audit.verifier_audit()
    assert rapport.intact
    assert rapport.evenements == avant + 20 * (len(questions) + 1)
    assert depot.episodes.compter_seances(eid, date(2026, 4, 1)) == (20, 0)


SCRIPT_INTERROMPU = """
import sys
from datetime import date
from triage_app.services.application import Services
depot = Services(sys.argv[1])
pid = depot.patients.creer_patient(nom="Kill", prenom="Test", date_naissance=date(1980, 1, 1), acteur="k")
eid = depot.episodes.creer_episode(patient_id=pid, protocole="lombalgie_aigue", date_debut=date(2026, 3, 1), acteur="k")
tid = depot.triages.creer_triage(episode_id=eid, date_consultation=date(2026, 3, 10), acteur="k")
print("triage", tid, flush=True)
questions = [q.id for q in depot.moteur.protocoles["lombalgie_aigue"].modele.questions]
i = 0
while True:
    q = questions[i % len(questions)]
    valeur = "legerement" if q == "sbt_9" else (i % 3 == 0)
    depot.triages.enregistrer_reponse(tid, q, valeur, acteur="k")
    print("ok", q, valeur, flush=True)
    i += 1
"""


def test_un_processus_tue_en_plein_triage_ne_perd_aucune_reponse_acquittee(url_base, tmp_path):
    script = tmp_path / "interrompu.py"
    script.write_text(SCRIPT_INTERROMPU, encoding="utf-8")
    acquittees: dict[str, object] = {}
    # « with »: the pipe is closed on the way out; the child writes forever, so it is killed whatever happens.
    with subprocess.Popen([sys.executable, str(script), url_base], stdout=subprocess.PIPE, text=True,
                          cwd=RACINE, env={**os.environ, "PYTHONPATH": str(RACINE)}) as proc:
        try:
            assert proc.stdout is not None
            tid = proc.stdout.readline().split()[1]
            while len(acquittees) < 15:
                _, q, v = proc.stdout.readline().split()
                acquittees[q] = "legerement" if v == "legerement" else v == "True"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
    reponses = _depot(url_base).triages.charger(tid).cas["reponses"]
    assert set(acquittees) <= set(reponses)
    assert all(reponses[q] == v for q, v in acquittees.items() if list(acquittees).count(q) == 1)
    assert _depot(url_base).audit.verifier_audit().intact


def test_reglages_par_environnement_et_fichier(tmp_path, monkeypatch):
    from triage_app.config import Reglages

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRIAGE_DATABASE_URL", raising=False)
    assert Reglages().url_base == "sqlite:///data/triage.sqlite"
    (tmp_path / "triage.toml").write_text('data_dir = "donnees"\nsqlite_busy_timeout_ms = 100\n', encoding="utf-8")
    assert Reglages().url_base == "sqlite:///donnees/triage.sqlite"
    monkeypatch.setenv("TRIAGE_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/b")
    assert Reglages().url_base == "postgresql+psycopg://u@127.0.0.1/b"


def test_sqlite_cree_son_dossier_et_regle_ses_pragmas(tmp_path):
    url = f"sqlite:///{tmp_path}/neuf/sous/triage.sqlite"
    depot = _depot(url)
    assert (tmp_path / "neuf" / "sous" / "triage.sqlite").is_file()
    with depot.uow.bd.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert c.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    create_engine(url).dispose()


@pytest.mark.parametrize("piege", ["'; DROP TABLE patients; --", "%", "_", "\\", "' OR '1'='1", "Dup%nt"])
def test_recherche_litterale_sans_injection(url_base, piege):
    depot = _depot(url_base)
    _, eid = _remplir(depot)
    depot.triages.creer_triage(episode_id=eid, date_consultation=date(2026, 3, 10), acteur=ACTEUR)
    pid = depot.patients.creer_patient(nom="Taux_100%", prenom="Zoé", date_naissance=date(1990, 1, 1), acteur=ACTEUR)
    e2 = depot.episodes.creer_episode(patient_id=pid, protocole="lombalgie_aigue", date_debut=date(2026, 3, 1),
                                      acteur=ACTEUR)
    depot.triages.creer_triage(episode_id=e2, date_consultation=date(2026, 3, 10), acteur=ACTEUR)
    trouves = {lt.patient for lt in depot.triages.lister(recherche=piege)}
    attendu = {"Taux_100% Zoé"} if piege in ("%", "_") else set()
    assert trouves == attendu
    assert {lt.patient for lt in depot.triages.lister(recherche="dupont")} == {"Dupont Jeanne"}
    assert {lt.patient for lt in depot.triages.lister(recherche="zoé taux")} == {"Taux_100% Zoé"}
    assert len(depot.triages.lister()) == 2  # nothing dropped


# -- migration 0003: the patient's cover ------------------------------------------------------------------
def _tetes() -> frozenset[str]:
    from triage_app.storage.db import _tetes as tetes

    return tetes()


def _base_en_0002(url: str) -> None:
    """A database at revision 0002, filled as the application of that revision did (no ``couverture``)."""
    from alembic import command
    from sqlalchemy import MetaData
    from sqlalchemy.orm import Session

    from tests.conftest import cas_base
    from triage_app.engine.evaluation import moteur
    from triage_app.storage import audit
    from triage_app.storage.db import _configuration, creer_moteur_bd

    bd = creer_moteur_bd(url)
    cfg = _configuration()
    with bd.begin() as connexion:
        cfg.attributes["connexion"] = connexion
        command.upgrade(cfg, "0002")
    tables = MetaData()
    tables.reflect(bd)
    assert "couverture" not in tables.tables["patients"].c
    moment = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    cas = cas_base("lombalgie_aigue")
    cas["patient"] = {"date_naissance": "1979-09-09", "sexe": "F"}  # as revision 0002 wrote it
    resultat = dict(moteur().evaluer(cas))
    with Session(bd) as s, s.begin():
        s.execute(tables.tables["patients"].insert().values(
            id="p" * 32, nom="Dupont", prenom="Jeanne", date_naissance=date(1979, 9, 9), sexe="F", cree_le=moment))
        s.execute(tables.tables["episodes"].insert().values(
            id="e" * 32, patient_id="p" * 32, protocole="lombalgie_aigue", date_debut=date(2026, 3, 1),
            prescription_medicale=False, diagnostic_medical_prealable=False, antecedent_lombalgie=True,
            episodes_anterieurs_12_mois=0, cree_le=moment))
        commun = {"episode_id": "e" * 32, "version": 1, "date_consultation": date(2026, 3, 10), "auteur": ACTEUR,
                  "cree_le": moment, "modifie_le": moment}
        s.execute(tables.tables["triages"].insert().values(
            id="f" * 32, statut="final", cas=cas, resultat=resultat, orientation=resultat["orientation"],
            version_protocole=resultat["version_protocole"], empreinte_regles=resultat["empreinte_regles"],
            finalise_le=moment, **commun))
        s.execute(tables.tables["triages"].insert().values(id="b" * 32, statut="brouillon", cas=cas, **commun))
        chaine = audit.Chaine(s, moment.isoformat())
        chaine.ajouter("finalisation", ACTEUR, "f" * 32, {"contenu": audit.empreinte_contenu(cas, resultat),
                                                           "version": 1, "remplace": None,
                                                           "empreinte_regles": resultat["empreinte_regles"]})
    bd.dispose()


def test_migration_0003_garde_les_patients_et_triages_de_0002_en_regime_general(url_base):
    _base_en_0002(url_base)
    depot = _depot(url_base)  # migrates to the head
    colonnes = {c["name"]: c for c in inspect(depot.uow.bd).get_columns("patients")}
    assert not colonnes["couverture"]["nullable"] and "regime_general" in str(colonnes["couverture"]["default"])
    with depot.uow.bd.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() in _tetes()
        lignes = [tuple(r) for r in c.execute(text("SELECT id, nom, prenom, sexe, couverture FROM patients"))]
    assert lignes == [("p" * 32, "Dupont", "Jeanne", "F", "regime_general")]
    # The final triage of 0002 is intact (its stored result, its audited content); the draft still evaluates.
    final = depot.triages.charger("f" * 32)
    assert final.statut == "final" and final.resultat is not None and final.resultat["orientation"] == "protocole"
    assert "couverture" not in final.cas["patient"]
    assert depot.audit.verifier_audit().intact
    assert depot.triages.evaluer("b" * 32)["orientation"] == "protocole"
    assert {lt.id for lt in depot.triages.lister()} == {"f" * 32, "b" * 32}
    # A new triage of the old patient carries the cover the migration gave.
    tid = depot.triages.creer_triage(episode_id="e" * 32, date_consultation=date(2026, 3, 11), acteur=ACTEUR)
    assert depot.triages.charger(tid).cas["patient"]["couverture"] == "regime_general"
    assert depot.rgpd.exporter_patient("p" * 32, acteur="coord")["patient"]["couverture"] == "regime_general"


def test_couverture_du_patient_dans_le_cas_et_la_part_remboursee(url_base):
    depot = _depot(url_base)
    depot.structure.enregistrer_structure(nom="Cabinet", type="esp", departement="67", protocoles_appliques=[],
                                          acteur="coord")
    pid = depot.patients.creer_patient(nom="Muller", prenom="Anne", date_naissance=date(1979, 9, 9),
                                       couverture="alsace_moselle", acteur=ACTEUR)
    eid = depot.episodes.creer_episode(patient_id=pid, protocole="lombalgie_aigue", date_debut=date(2026, 3, 1),
                                       antecedent_lombalgie=True, acteur=ACTEUR)
    tid = _triage_complet(depot, eid)
    assert depot.triages.charger(tid).cas["patient"]["couverture"] == "alsace_moselle"
    resultat = depot.triages.finaliser(tid, acteur=ACTEUR)
    assert resultat["orientation"] == "acces_direct"
    for ligne in resultat["facturation"]["lignes"]:
        assert round(ligne["part_remboursee_eur"] + ligne["part_patient_eur"], 2) == ligne["montant_eur"]
    assert [ligne["part_remboursee_eur"] for ligne in resultat["facturation"]["lignes"]] == [21.29, 16.11]


@pytest.mark.parametrize("valeur", ["alsace", "", "REGIME_GENERAL", "exoneration"])
def test_couverture_inconnue_refusee_en_francais(tmp_path, valeur):
    from triage_app.errors import ErreurSaisie

    depot = _depot(f"sqlite:///{tmp_path}/triage.sqlite")
    with pytest.raises(ErreurSaisie) as exc:
        depot.patients.creer_patient(nom="Muller", prenom="Anne", date_naissance=date(1979, 9, 9), couverture=valeur,
                                     acteur=ACTEUR)
    assert "couverture" in str(exc.value) and "valeur inconnue" in str(exc.value)
    assert "regime_general, alsace_moselle, exoneration_100" in str(exc.value)
    with depot.uow.bd.connect() as c:
        assert c.execute(text("SELECT count(*) FROM patients")).scalar() == 0


def test_base_occupee_message_francais_sans_ecriture(tmp_path):
    """Issue #16: « database is locked » (many writers on SQLite) is said in French, and nothing is written."""
    import sqlite3

    from triage_app.config import Reglages
    from triage_app.services.unite import ErreurStockage

    url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    with Services(url, reglages=Reglages(sqlite_busy_timeout_ms=50)) as depot:
        avant = depot.audit.verifier_audit().evenements
        verrou = sqlite3.connect(tmp_path / "b.sqlite")
        try:
            verrou.execute("BEGIN IMMEDIATE")
            with pytest.raises(ErreurStockage, match="base de données occupée"):
                depot.patients.creer_patient(nom="Durand", prenom="Lou", date_naissance=date(1990, 1, 1), acteur=ACTEUR)
        finally:
            verrou.rollback()
            verrou.close()
        assert depot.audit.verifier_audit().evenements == avant


def _connexions_coupees(serveur_pg, base: str) -> None:
    """What a PostgreSQL restart or an idle timeout does to the pool: every session on ``base`` is closed."""
    with serveur_pg.connexion_admin() as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                      "AND pid <> pg_backend_pid()", (base,))


@pytest.mark.parametrize("apres_s, remplacee", [(0.0, True), (3600.0, False)])
def test_postgres_connexion_inactive_verifiee_avant_pret(serveur_pg, monkeypatch, apres_s, remplacee):
    """Issue #25: a pooled connection idle past ``PING_APRES_S`` is checked before it is lent, and a dead one replaced
    without error; one lent again at once is not checked (no round trip per read under load): a closed one then
    fails, which shows the check is what saved the first case."""
    from sqlalchemy import exc as sa_exc

    nom = f"ping_{int(apres_s)}"
    url = serveur_pg.creer_base(nom)
    monkeypatch.setattr(db, "PING_APRES_S", apres_s)
    moteur = db.creer_moteur_bd(url)
    try:
        with moteur.connect() as c:
            assert c.execute(text("SELECT 1")).scalar() == 1
        _connexions_coupees(serveur_pg, nom)
        if remplacee:
            with moteur.connect() as c:
                assert c.execute(text("SELECT 2")).scalar() == 2
        else:
            with pytest.raises(sa_exc.OperationalError), moteur.connect() as c:
                c.execute(text("SELECT 2"))
    finally:
        moteur.dispose()


def test_une_lecture_n_ecrit_rien_et_sur_postgres_sans_transaction(url_base):
    """Issue #25: a read session never writes (a changed object is not flushed nor committed); on PostgreSQL it reads
    in autocommit (no BEGIN / ROLLBACK round trips around each read), and sees what was committed."""
    with Services(url_base) as depot:
        depot.structure.enregistrer_structure(nom="MSP", type="msp", departement="38",
                                              protocoles_appliques=["lombalgie_aigue"], acteur=ACTEUR)
        from triage_app.storage.tables import Structure

        with depot.uow.lecture() as s:
            st_ = s.get(Structure, 1)
            st_.nom = "Modifiée en lecture"
            s.get(Structure, 1)  # a query after the change: no autoflush
            autocommit = s.connection().connection.dbapi_connection.autocommit \
                if depot.uow.bd.dialect.name == "postgresql" else None
        assert depot.structure.structure().nom == "MSP"
        if depot.uow.bd.dialect.name == "postgresql":
            assert autocommit is True
        assert depot.audit.verifier_audit().intact
