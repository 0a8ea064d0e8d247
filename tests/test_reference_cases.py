"""Every worked example of the specification (shared/reference/cases) through the same evaluation."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import CAS_REFERENCE, cas_reference, sous_ensemble

CAS = cas_reference()


def test_les_cas_de_reference_sont_presents():
    assert CAS_REFERENCE.is_dir(), f"spécification introuvable : {CAS_REFERENCE}"
    assert len(CAS) >= 6


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
