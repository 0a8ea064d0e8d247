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
