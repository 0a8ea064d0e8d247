"""The README's two commands: scripts/start passes its arguments to triage-app only, installs once, and keeps
standard output for the command's own output.

The stamp logic is tested on a copy of the scripts with a fake ``.venv`` (a shell script that notes what it is
asked), so no real installation runs; the real ``scripts/start`` is then run on the project's environment.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CAS_REFERENCE, RACINE

FAUX = """#!/bin/sh
echo "$(basename "$0") $*" >> "$(dirname "$0")/../appels.log"
"""


def _executable(chemin: Path, texte: str) -> None:
    chemin.write_text(texte, encoding="utf-8")
    chemin.chmod(chemin.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def copie(tmp_path) -> Path:
    """The scripts and pyproject.toml in a temporary folder, with a fake .venv that notes its calls."""
    (tmp_path / "scripts").mkdir()
    for nom in ("start", "env.sh"):
        shutil.copy2(RACINE / "scripts" / nom, tmp_path / "scripts" / nom)
    shutil.copy2(RACINE / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    for nom in ("python", "triage-app"):
        _executable(tmp_path / ".venv" / "bin" / nom, FAUX)
    return tmp_path


def _source(copie: Path, extras: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``source scripts/env.sh`` from a script called with ``args`` (which env.sh must not read)."""
    script = f'cd "{copie}"; TRIAGE_EXTRAS="{extras}" source scripts/env.sh'
    return subprocess.run(["bash", "-c", script, "appelant", *args], capture_output=True, text=True, timeout=60,
                          check=False, stdin=subprocess.DEVNULL)


def _installations(copie: Path) -> list[str]:
    journal = copie / ".venv" / "appels.log"
    lignes = journal.read_text(encoding="utf-8").splitlines() if journal.exists() else []
    return [ligne for ligne in lignes if " -e " in ligne]


def test_une_installation_par_pyproject(copie):
    r = _source(copie, "", "serve", "--port", "8600")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""  # messages and pip's output on standard error only
    assert "installation des dépendances" in r.stderr
    assert _installations(copie) == ["python -m pip install --disable-pip-version-check --progress-bar off -e ."]
    for args in (("serve",), ("evaluate", "cas.json"), ("--help",)):  # a change of sub-command: nothing
        r = _source(copie, "", *args)
        assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stderr
    assert len(_installations(copie)) == 1


def test_les_extras_de_test_s_ajoutent_une_fois(copie):
    assert _source(copie, "").returncode == 0
    assert _source(copie, "test").returncode == 0
    assert _installations(copie)[-1].endswith("-e .[test]")
    assert _source(copie, "").stderr == ""  # start after test: nothing to install
    assert _source(copie, "test").stderr == ""
    assert len(_installations(copie)) == 2
    with (copie / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write("\n# modifié\n")
    assert _source(copie, "").returncode == 0  # pyproject.toml changed: reinstalled, extras kept
    assert _installations(copie)[-1].endswith("-e .[test]")
    assert len(_installations(copie)) == 3


def test_start_passe_ses_arguments_a_triage_app_seulement(copie):
    assert _source(copie, "").returncode == 0
    r = subprocess.run([str(copie / "scripts" / "start"), "serve", "--port", "8600"], capture_output=True,
                       text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert len(_installations(copie)) == 1
    assert (copie / ".venv" / "appels.log").read_text(encoding="utf-8").splitlines()[-1] == \
        "triage-app serve --port 8600"


def test_start_aide_et_evaluation_sur_l_environnement_du_projet():
    """The real script on the project's environment (installed by scripts/test): help, then a pure JSON stdout."""
    env = {k: v for k, v in os.environ.items() if k != "TRIAGE_EXTRAS"}
    aide = subprocess.run([str(RACINE / "scripts" / "start"), "--help"], capture_output=True, text=True,
                          timeout=120, check=False, env=env, stdin=subprocess.DEVNULL)
    assert aide.returncode == 0, aide.stderr
    assert aide.stdout.startswith("utilisation : triage-app") and "evaluate" in aide.stdout and "serve" in aide.stdout
    assert "installation" not in aide.stdout  # an install (pyproject.toml changed) speaks on stderr only
    cas = CAS_REFERENCE / "lombalgie_protocole.case.json"
    r = subprocess.run([str(RACINE / "scripts" / "start"), "evaluate", str(cas)], capture_output=True, text=True,
                       timeout=120, check=False, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stderr == "", r.stderr  # installed once: nothing more to say
    assert json.loads(r.stdout)["orientation"] == "protocole"


def test_le_readme_montre_des_commandes_qui_marchent_sur_un_clone_neuf():
    """Issue #29: a newcomer has ``./scripts/start``, not ``triage-app``, on hand: every command the README shows
    goes through it (``triage-app`` is named in prose only, with how to put it on the PATH)."""
    import re

    texte = (RACINE / "README.md").read_text(encoding="utf-8")
    blocs = re.findall(r"```(?:bash|sh)?\n(.*?)```", texte, flags=re.S)
    lignes = [ligne for bloc in blocs for ligne in bloc.splitlines()]
    assert not [ligne for ligne in lignes if ligne.lstrip().startswith("triage-app")]
    assert not re.findall(r"`triage-app [a-z]", texte)
    assert 'export PATH="$PWD/.venv/bin:$PATH"' in texte
