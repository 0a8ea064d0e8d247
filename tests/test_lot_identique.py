"""The batch output is unchanged: ``evaluate --jsonl`` on the 10,000 generated cases writes, byte for byte, the pinned
reference (tests/fixtures/lot_identique/provenance.json says how it was produced). Up to the rules ``+r2`` the
reference was the release before issue 25 (``python -m bench.lot --reference``: the batch engine's rewrite changed no
byte); the rules ``+r3`` change results on purpose, so it is now this tree's output after that change
(``--reference-courante``), which a later change of the engine must not alter."""

from __future__ import annotations

import gzip
import hashlib
import io
import json

import pytest

from bench.commun import cas_generes
from tests.conftest import RACINE
from triage_app.cli.regles import _evaluer_lot

REFERENCE = RACINE / "tests" / "fixtures" / "lot_identique"


@pytest.fixture(scope="module")
def lot(tmp_path_factory, m):
    provenance = json.loads((REFERENCE / "provenance.json").read_text(encoding="utf-8"))
    texte = ("\n".join(json.dumps(c) for c in cas_generes(m, provenance["cas"])) + "\n").encode()
    assert hashlib.sha256(texte).hexdigest() == provenance["sha256_lot"], (
        "the generated cases changed (protocols/ or bench.commun.cas_generes): the reference must be produced again "
        "with the previous release (python -m bench.lot --reference), or the generator restored")
    chemin = tmp_path_factory.mktemp("lot") / "lot.jsonl"
    chemin.write_bytes(texte)
    return chemin, provenance


def _premiere_difference(obtenu: bytes) -> str:
    with gzip.open(REFERENCE / "debut.jsonl.gz") as f:
        attendu = f.read().splitlines()
    for i, (a, b) in enumerate(zip(attendu, obtenu.splitlines(), strict=False), start=1):
        if a != b:
            j = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            debut = max(0, j - 150)
            return (f"ligne {i}, octet {j} :\n  attendu …{a[debut:j + 150]!r}…\n"
                    f"  obtenu  …{b[debut:j + 150]!r}…")
    return f"les {len(attendu)} premières lignes sont identiques ; la différence est plus loin"


@pytest.mark.parametrize("processus", [None, 2], ids=["par_defaut", "deux_processus"])
def test_sortie_identique_a_la_version_precedente(lot, processus):
    chemin, provenance = lot
    sortie = io.BytesIO()
    code = _evaluer_lot(str(chemin), sortie, processus)
    octets = sortie.getvalue()
    assert code == provenance["code_de_sortie"]
    assert octets.count(b"\n") == provenance["lignes"]
    assert hashlib.sha256(octets).hexdigest() == provenance["sha256_sortie"], _premiere_difference(octets)


def test_le_lot_ne_depend_pas_de_la_date_du_jour(m, monkeypatch):
    """cas_generes draws its dates from a fixed origin: the same cases whatever today is."""
    import datetime as dt

    import bench.commun as commun

    class Demain(dt.date):
        @classmethod
        def today(cls):
            return dt.date(2031, 7, 14)

    avant = cas_generes(m, 50)
    monkeypatch.setattr(commun, "date", Demain)
    assert cas_generes(m, 50) == avant
