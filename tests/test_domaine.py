"""Pure domain functions: calendar arithmetic, rounding, BDK rhythm, scores."""

from __future__ import annotations

from datetime import date

import pytest

from triage_app.domain.dates import age_en_annees, ajouter_mois, classe_duree
from triage_app.domain.montants import part, produit, seance_avec_bdk
from triage_app.domain.scores import score_chronicite, zones_positives


@pytest.mark.parametrize(("naissance", "jour", "age"), [
    ("2008-02-29", "2026-02-28", 17), ("2008-02-29", "2026-03-01", 18), ("2008-02-29", "2028-02-29", 20),
    ("2008-02-29", "2028-02-28", 19), ("1979-09-09", "2026-09-08", 46), ("1979-09-09", "2026-09-09", 47),
])
def test_age(naissance, jour, age):
    assert age_en_annees(date.fromisoformat(naissance), date.fromisoformat(jour)) == age


@pytest.mark.parametrize(("debut", "mois", "attendu"), [
    ("2025-11-30", 3, "2026-02-28"), ("2023-11-30", 3, "2024-02-29"), ("2026-01-31", 1, "2026-02-28"),
    ("2026-10-15", 3, "2027-01-15"), ("2026-12-31", 2, "2027-02-28"),
])
def test_ajouter_mois_borne_au_dernier_jour(debut, mois, attendu):
    assert ajouter_mois(date.fromisoformat(debut), mois) == date.fromisoformat(attendu)


@pytest.mark.parametrize(("debut", "jour", "classe"), [
    ("2026-03-01", "2026-03-28", "aigue"), ("2026-03-01", "2026-03-29", "subaigue"),
    ("2025-11-30", "2026-02-27", "subaigue"), ("2025-11-30", "2026-02-28", "chronique"),
])
def test_classe_duree(debut, jour, classe):
    assert classe_duree(date.fromisoformat(debut), date.fromisoformat(jour), 28, 3) == classe


@pytest.mark.parametrize(("facteurs", "attendu"), [
    ((7.5, 2.21), 16.58), ((8.1, 2.21), 17.90), ((10.7, 2.21), 23.65), ((7.5, 2.15), 16.13), ((8.1, 2.43), 19.68),
])
def test_montants_arrondis_au_centime_superieur_a_la_moitie(facteurs, attendu):
    assert produit(*facteurs) == attendu


def test_part_remboursee():
    assert part(17.90, 60) == 10.74
    assert part(23.65, 60) == 14.19


@pytest.mark.parametrize("realisees", [0, 29, 49, 69, 89])
def test_bdk_oui(realisees):
    assert seance_avec_bdk(realisees, 0, 29, 20)


@pytest.mark.parametrize("realisees", [1, 7, 28, 30, 48, 50])
def test_bdk_non(realisees):
    assert not seance_avec_bdk(realisees, 0, 29, 20)


ITEMS = [(f"sbt_{i}", [True]) for i in range(1, 9)] + [("sbt_9", ["beaucoup", "extremement"])]
SOUS = ["sbt_5", "sbt_6", "sbt_7", "sbt_8", "sbt_9"]


def _reponses(vrais, gene="pas_du_tout"):
    r = {f"sbt_{i}": i in vrais for i in range(1, 9)}
    r["sbt_9"] = gene
    return r


@pytest.mark.parametrize(("vrais", "gene", "attendu"), [
    (set(), "pas_du_tout", ("faible", 0, 0)),
    ({1, 2, 3}, "moderement", ("faible", 3, 0)),
    ({1, 2, 3, 4}, "pas_du_tout", ("moyen", 4, 0)),
    ({1, 5, 6, 7}, "legerement", ("moyen", 4, 3)),
    ({5, 6, 7}, "beaucoup", ("eleve", 4, 4)),
    ({1, 2, 3, 4, 5, 6, 7, 8}, "extremement", ("eleve", 9, 5)),
])
def test_start_back(vrais, gene, attendu):
    assert score_chronicite(_reponses(vrais, gene), ITEMS, SOUS, 3, 4) == attendu


def test_start_back_incomplet():
    r = _reponses({1})
    del r["sbt_4"]
    assert score_chronicite(r, ITEMS, SOUS, 3, 4) == (None, None, None)


def test_zones_ottawa():
    zones = [("cheville", "d1", ["a", "b"]), ("pied", "d2", ["c", "b"])]
    assert zones_positives({"d1": True, "a": True}, zones) == ["cheville"]
    assert zones_positives({"d1": True, "d2": True, "b": True}, zones) == ["cheville", "pied"]
    assert zones_positives({"d1": False, "a": True}, zones) == []
    assert zones_positives({"d1": True, "a": None}, zones) == []
