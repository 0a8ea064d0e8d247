"""Every worked example (the project's copy in docs/exemples/) through the same evaluation."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CAS_REFERENCE, RACINE, cas_reference, sous_ensemble

CAS = cas_reference()
# Files copied from the upstream specification, with their SHA-256 when copied (``sha256sum`` format).
MANIFESTE = CAS_REFERENCE / "specification.sha256"


def _manifeste() -> dict[str, str]:
    lignes = MANIFESTE.read_text(encoding="utf-8").splitlines()
    return {nom.strip(): empreinte for empreinte, nom in (ligne.split(maxsplit=1) for ligne in lignes if ligne)}


def _sha256(fichier: Path) -> str:
    return hashlib.sha256(fichier.read_bytes()).hexdigest()


def test_les_cas_de_reference_sont_presents():
    assert CAS_REFERENCE.is_dir(), f"exemples introuvables : {CAS_REFERENCE}"
    assert len(CAS) >= 6
    noms = {f.name for f in CAS_REFERENCE.glob("*.json")}
    for nom in noms:  # every case has its expected result and the other way round
        autre = nom.replace(".case.", ".expected.") if ".case." in nom else nom.replace(".expected.", ".case.")
        assert autre in noms, f"{nom} sans {autre}"


def test_copie_de_la_specification_conforme():
    """The copied examples are unchanged since their copy; if the upstream specification lies beside the clone
    (``TRIAGE_SPECIFICATION`` or ``../shared/reference``), they are also identical to it, and none is missing.

    The project's copy is what the tests use: without an upstream folder this test still checks the copy.
    """
    manifeste = _manifeste()
    assert len(manifeste) >= 12
    for nom, empreinte in manifeste.items():
        assert _sha256(CAS_REFERENCE / nom) == empreinte, f"{nom} modifié depuis sa copie de la spécification"
    amont = Path(os.environ.get("TRIAGE_SPECIFICATION", RACINE.parent / "shared" / "reference")) / "cases"
    if amont.is_dir():
        fichiers_amont = {f.name: _sha256(f) for f in amont.glob("*.json")}
        assert fichiers_amont == manifeste, (
            "la spécification a changé : recopier ses exemples dans docs/exemples/ et mettre à jour "
            "specification.sha256 (sha256sum)")


@pytest.mark.parametrize(("nom", "cas", "attendu"), CAS, ids=[c[0] for c in CAS])
def test_cas_de_reference(m, nom, cas, attendu):
    obtenu = m.evaluer(cas)
    assert sous_ensemble(attendu, obtenu) == []


@pytest.mark.parametrize(("nom", "cas", "attendu"), CAS[:2], ids=[c[0] for c in CAS[:2]])
def test_cas_de_reference_en_ligne_de_commande(nom, cas, attendu):
    fichier = CAS_REFERENCE / f"{nom}.case.json"
    sortie = subprocess.run([sys.executable, "-m", "triage_app.cli", "evaluate", str(fichier)],
                            capture_output=True, text=True, check=False)
    assert sortie.returncode == 0, sortie.stderr
    assert sortie.stderr == ""
    assert sous_ensemble(attendu, json.loads(sortie.stdout)) == []


def test_chaque_resultat_respecte_le_schema_public(m):
    """Results of the worked examples and of 300 varied generated cases validate against the result schema."""
    from bench.commun import cas_generes
    from triage_app.errors import ErreurCas
    from triage_app.models.result import ADAPTATEUR_RESULTAT

    valides = 0
    for cas in [c for _, c, _ in CAS] + cas_generes(m, 300, graine=7):
        try:
            r = m.evaluer(cas)
        except ErreurCas:
            continue
        ADAPTATEUR_RESULTAT.validate_python(r)
        assert json.loads(json.dumps(r, ensure_ascii=False)) == r
        valides += 1
    assert valides > 250
