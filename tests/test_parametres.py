"""Dated parameters: one value at every date of the supported window, announcements never applied."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from triage_app.errors import ParametreIntrouvable


def _fenetre(m):
    debut = min(p.en_vigueur_du for p in m.registre.protocoles.values())
    return debut, date.today() + timedelta(days=366)


def test_couverture_temporelle(m):
    """Every parameter has exactly one value in force at every date from the protocols' start to a year ahead."""
    debut, fin = _fenetre(m)
    for pid, par in m.registre.parametres.items():
        assert par.dates[0] <= debut, f"{pid} : pas de valeur au {debut}"
        assert list(par.dates) == sorted(set(par.dates)), f"{pid} : dates en double ou désordonnées"
        jour = debut
        while jour <= fin:
            par.entree_au(jour)
            jour += timedelta(days=30)
        for d in par.dates:
            assert par.entree_au(d) is par.valeurs[par.dates.index(d)]
            if d > date.min:
                veille = d - timedelta(days=1)
                if d != par.dates[0]:
                    assert par.entree_au(veille) is par.valeurs[par.dates.index(d) - 1]


def test_avant_la_premiere_date_une_erreur_jamais_un_defaut(m):
    par = m.registre.parametres["ngap.lettre_cle_metropole"]
    with pytest.raises(ParametreIntrouvable) as exc:
        par.valeur_au(par.dates[0] - timedelta(days=1))
    assert "n'a pas de valeur" in str(exc.value)


def test_une_valeur_attendue_n_est_jamais_appliquee(m):
    par = m.registre.parametres["ngap.coefficient_seance"]
    assert par.annonces, "le coefficient 8,4 annoncé doit figurer comme annonce"
    jour_annonce, annonce = par.annonces[0]
    assert annonce.attendu
    for jour in (jour_annonce, jour_annonce + timedelta(days=1), jour_annonce + timedelta(days=3650)):
        assert par.valeur_au(jour) != annonce.valeur
    assert par.annonces_apres(jour_annonce - timedelta(days=1)) == [(jour_annonce, annonce)]
    assert par.annonces_apres(jour_annonce) == []


def test_chaque_valeur_cite_une_source_connue(m):
    for pid, par in m.registre.parametres.items():
        for v in (*par.valeurs, *(a for _, a in par.annonces)):
            assert v.reference in m.registre.sources, pid
            assert v.verification in ("primaire", "secondaire", "choix_produit")


def test_valeurs_de_parameters_md(m):
    """Spot-check the dated values against the specification's table (parameters.md)."""
    p = m.registre.parametres
    assert p["ngap.lettre_cle_metropole"].valeur_au(date(2024, 2, 21)) == 2.15
    assert p["ngap.lettre_cle_metropole"].valeur_au(date(2024, 2, 22)) == 2.21
    assert p["ngap.lettre_cle_drom"].valeur_au(date(2024, 2, 21)) == 2.36
    assert p["ngap.lettre_cle_drom"].valeur_au(date(2024, 2, 22)) == 2.43
    assert p["ngap.coefficient_seance"].valeur_au(date(2025, 12, 31)) == 7.5
    assert p["ngap.coefficient_seance"].valeur_au(date(2026, 1, 1)) == 8.1
    assert p["ngap.coefficient_bdk"].valeur_au(date(2026, 1, 1)) == 10.7
    assert p["ngap.taux_remboursement"].valeur_au(date(2026, 1, 1)) == 60
    assert p["protocoles.forfait_lombalgie_consultation_1"].valeur_au(date(2020, 9, 29)) is None
    assert p["protocoles.forfait_lombalgie_consultation_2"].valeur_au(date(2020, 9, 30)) == 20
    assert p["protocoles.forfait_cheville_consultation_2"].valeur_au(date(2020, 9, 30)) == 25
    assert p["acces_direct.plafond_sans_diagnostic"].valeur_au(date(2023, 8, 22)) == 8
    assert len(p["acces_direct.cpts_departements"].valeur_au(date(2025, 7, 15))) == 20
    assert p["acces_direct.cpts_departements"].valeur_au(date(2025, 7, 14)) == []
    assert p["ngap.seuil_devis_hors_nomenclature"].valeur_au(date(2026, 1, 1)) == 70
