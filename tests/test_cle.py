"""The structure's secret key (issue #16): outside the database, 0600, from the environment or created once."""

from __future__ import annotations

import stat

import pytest

from triage_app.config import Reglages
from triage_app.errors import ErreurSaisie
from triage_app.storage.cle import NOM_FICHIER, VARIABLE, cle_secrete, empreinte_identifiant


def test_cle_creee_une_fois_privee_et_relue(tmp_path, monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)
    reglages = Reglages(data_dir=tmp_path / "donnees")
    cle = cle_secrete(reglages)
    fichier = tmp_path / "donnees" / NOM_FICHIER
    assert len(cle) == 32 and fichier.read_bytes() == cle
    assert stat.S_IMODE(fichier.stat().st_mode) == 0o600
    assert stat.S_IMODE(fichier.parent.stat().st_mode) == 0o700
    assert cle_secrete(reglages) == cle  # read again, never replaced


def test_cle_de_l_environnement(monkeypatch):
    monkeypatch.setenv(VARIABLE, "ab" * 32)
    assert cle_secrete() == bytes.fromhex("ab" * 32)
    monkeypatch.setenv(VARIABLE, "court")
    with pytest.raises(ErreurSaisie, match="64 caractères"):
        cle_secrete()


def test_empreinte_d_un_identifiant_tape():
    a, b = bytes(32), bytes([1]) * 32
    assert empreinte_identifiant(a, "Dupont Marie née le 17/05/1980") == empreinte_identifiant(
        a, "Dupont Marie née le 17/05/1980")
    assert empreinte_identifiant(a, "x") != empreinte_identifiant(b, "x")  # keyed: no table can reverse it
    assert "Dupont" not in empreinte_identifiant(a, "Dupont")


def test_une_cle_perdue_est_dite_jamais_remplacee(tmp_path, monkeypatch, capsys):
    """Issue #28: a database whose chain is sealed and whose key file is gone: nothing writes, no new key is made,
    ``audit verify`` exits 3 saying the key must be restored, ``serve`` does not start; the key put back, the chain
    verifies intact."""
    import os
    import subprocess
    import sys

    from triage_app.cli import main
    from triage_app.services.application import Services
    from triage_app.storage.cle import CleAbsente

    monkeypatch.delenv(VARIABLE, raising=False)
    donnees = tmp_path / "donnees"
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(donnees))
    url = f"sqlite:///{donnees / 'triage.sqlite'}"
    monkeypatch.setenv("TRIAGE_DATABASE_URL", url)
    with Services(url, reglages=Reglages(data_dir=donnees)) as depot:  # a new database: its key is made
        depot.structure.enregistrer_structure(nom="MSP", type="msp", departement="38", protocoles_appliques=[],
                                              acteur="coord")
    fichier = donnees / NOM_FICHIER
    cle = fichier.read_bytes()
    fichier.unlink()
    depot = Services(url, reglages=Reglages(data_dir=donnees))
    try:
        with pytest.raises(CleAbsente, match="restaurer"):
            depot.structure.enregistrer_structure(nom="MSP 2", type="msp", departement="38",
                                                  protocoles_appliques=[], acteur="coord")
    finally:
        depot.fermer()
    assert not fichier.exists()
    capsys.readouterr()
    assert main(["audit", "verify", "--base", url]) == 3
    sortie = capsys.readouterr()
    assert "restaurer" in sortie.err and "rompu" not in sortie.err + sortie.out and not fichier.exists()
    serve = subprocess.run([sys.executable, "-m", "triage_app.cli", "serve", "--port", "8599"], capture_output=True,
                           text=True, timeout=120, env={**os.environ, "TRIAGE_DATA_DIR": str(donnees),
                                                        "TRIAGE_DATABASE_URL": url})
    assert serve.returncode != 0 and "restaurer" in serve.stderr and not fichier.exists()
    fichier.write_bytes(cle)
    fichier.chmod(0o600)
    assert main(["audit", "verify", "--base", url]) == 0


def test_sauvegarde_de_la_base_et_de_sa_cle_puis_verification(tmp_path, monkeypatch, capsys):
    """``triage-app sauvegarde DOSSIER`` writes the database and its key together (private files); ``--verifier``
    checks the copy with the copy's key: 0 intact, 1 when the copy was changed, 3 without its key."""
    import sqlite3

    from triage_app.cli import main
    from triage_app.services.application import Services

    url = f"sqlite:///{tmp_path / 'triage.sqlite'}"
    with Services(url) as depot:
        depot.structure.enregistrer_structure(nom="MSP", type="msp", departement="38", protocoles_appliques=[],
                                              acteur="coord")
    dossier = tmp_path / "sauvegarde"
    assert main(["sauvegarde", str(dossier), "--base", url]) == 0
    copie, cle = dossier / "triage.sqlite", dossier / NOM_FICHIER
    assert stat.S_IMODE(copie.stat().st_mode) == 0o600 and stat.S_IMODE(cle.stat().st_mode) == 0o600
    assert cle.read_bytes() == bytes.fromhex("7e" * 32)  # the key in force (here: the tests' environment)
    assert main(["sauvegarde", str(dossier), "--base", url]) == 2  # never over an earlier backup
    monkeypatch.setenv(VARIABLE, "00" * 32)  # whatever key the machine has now: the backup's own is used
    assert main(["sauvegarde", "--verifier", str(dossier)]) == 0
    assert "chaîne intacte" in capsys.readouterr().out
    with sqlite3.connect(copie) as c:  # someone with the file: the append-only triggers dropped, an event rewritten
        for (declencheur,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                        "AND tbl_name = 'evenements_audit'").fetchall():
            c.execute(f"DROP TRIGGER {declencheur}")
        c.execute("UPDATE evenements_audit SET acteur = 'x' WHERE seq = 1")
    c.close()
    assert main(["sauvegarde", "--verifier", str(dossier)]) == 1
    cle.unlink()
    assert main(["sauvegarde", "--verifier", str(dossier)]) == 3
