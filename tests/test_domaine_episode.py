"""Pure episode arithmetic and search keys (issue #12): the next BDK, the re-assessment window and where an episode
stands in it, the accent-, case- and punctuation-insensitive keys of the patient look-up."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage_app.domain.episode import etat_revue, fenetre_reevaluation, prochain_bdk
from triage_app.domain.texte import cle_patient, cle_recherche, mots_recherche
from triage_app.engine.evaluation import Moteur

# No example database on disk, the same examples on every run (as tests/test_durcissement.py).
REGLAGES = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
# words of letters and digits (every script, issue #28) separated by one space, nothing else
CLE = re.compile(r"(?:[^\W_]+(?: [^\W_]+)*)?")
JOUR = date(2026, 3, 10)


def _bdk(m: Moteur) -> tuple[int, int, int]:
    b = m.registre.commun.facturation.bdk
    return b.premiere_si_realisees, b.puis_si_realisees, b.pas


def _est_seance_bdk(n: int) -> bool:
    """The NGAP rule as the convention states it: a BDK at the 1st session, the 30th, then every 20."""
    return n == 1 or (n >= 30 and (n - 30) % 20 == 0)


# -- prochain_bdk ------------------------------------------------------------------------------------------------
def test_prochain_bdk_avec_les_parametres_des_donnees(m):
    p = _bdk(m)
    assert [prochain_bdk(n, *p) for n in (0, 1, 2, 28, 29, 30, 31, 48, 49, 50, 69, 70)] == [
        1, 30, 30, 30, 30, 50, 50, 50, 50, 70, 70, 90]
    # The sessions at which a BDK falls due, over the first 120: exactly the 1st, the 30th, then every 20.
    dues = sorted({prochain_bdk(n, *p) for n in range(120)} & set(range(1, 121)))
    assert dues == [1, 30, 50, 70, 90, 110]
    assert all(prochain_bdk(n - 1, *p) == n for n in dues), "la séance d'un BDK est celle qui vient"


def test_prochain_bdk_cas_limites():
    assert prochain_bdk(-3, 0, 29, 20) == 1  # a negative count is no session done
    assert prochain_bdk(0, 0, 0, 10) == 1 and prochain_bdk(1, 0, 0, 10) == 11 and prochain_bdk(10, 0, 0, 10) == 11
    assert prochain_bdk(11, 0, 0, 10) == 21
    assert prochain_bdk(5, 9, 29, 1) == 10 and prochain_bdk(30, 9, 29, 1) == 31  # every session past the 30th
    for pas in (0, -20):
        with pytest.raises(ValueError, match="pas"):
            prochain_bdk(3, 0, 29, pas)


@REGLAGES
@given(st.integers(min_value=-10, max_value=5000))
def test_prochain_bdk_est_la_premiere_seance_bdk_a_venir(n):
    """With the NGAP parameters: after ``n`` sessions the next BDK is the first BDK session after the n-th."""
    r = prochain_bdk(n, 0, 29, 20)
    assert r > n and _est_seance_bdk(r)
    assert not any(_est_seance_bdk(k) for k in range(max(n + 1, 1), r))


@REGLAGES
@given(st.integers(min_value=-10, max_value=10_000), st.integers(min_value=0, max_value=200),
       st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=60))
def test_prochain_bdk_toujours_apres_les_seances_faites(n, premiere, puis, pas):
    r = prochain_bdk(n, premiere, puis, pas)
    assert r > n
    assert prochain_bdk(r - 1, premiere, puis, pas) == r  # stable until that session is done


# -- re-assessment window ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("protocole", ["lombalgie_aigue", "entorse_cheville"])
def test_fenetre_de_reevaluation_des_donnees(m, protocole):
    modele = m.protocoles[protocole].modele
    regle = modele.suivi.reevaluation
    du, au = fenetre_reevaluation(JOUR, regle.du_jour, regle.au_jour)
    assert (du - JOUR).days == regle.du_jour and (au - JOUR).days == regle.au_jour and du <= au
    # The structured window says what the protocol's billing text says (« entre le 14e et le 28e jour »).
    assert f"{regle.du_jour}e" in modele.facturation.reevaluation
    assert f"{regle.au_jour}e" in modele.facturation.reevaluation


def test_fenetre_de_reevaluation_passe_les_mois_et_les_annees():
    assert fenetre_reevaluation(date(2026, 12, 20), 14, 28) == (date(2027, 1, 3), date(2027, 1, 17))
    assert fenetre_reevaluation(date(2028, 2, 24), 5, 7) == (date(2028, 2, 29), date(2028, 3, 2))
    assert fenetre_reevaluation(JOUR, 0, 0) == (JOUR, JOUR)


@pytest.mark.parametrize(("ecart", "attendu"), [
    (-30, "a_venir"), (-1, "a_venir"), (0, "due"), (1, "due"), (14, "due"), (15, "en_retard"), (400, "en_retard")])
def test_etat_revue_aux_bornes(ecart, attendu):
    du, au = date(2026, 3, 24), date(2026, 4, 7)  # 14 days
    assert etat_revue(du + timedelta(days=ecart), du, au, None) == attendu


@pytest.mark.parametrize("faite", [date(2026, 3, 1), date(2026, 3, 24), date(2026, 4, 7), date(2026, 5, 1)])
def test_etat_revue_faite_quel_que_soit_le_jour(faite):
    du, au = date(2026, 3, 24), date(2026, 4, 7)
    assert {etat_revue(j, du, au, faite) for j in (du - timedelta(days=1), du, au, au + timedelta(days=1))} == {
        "faite"}


def test_etat_revue_fenetre_d_un_jour():
    assert [etat_revue(JOUR + timedelta(days=k), JOUR, JOUR, None) for k in (-1, 0, 1)] == [
        "a_venir", "due", "en_retard"]


@REGLAGES
@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)), st.integers(0, 60), st.integers(0, 60),
       st.integers(-100, 100))
def test_etat_revue_un_seul_etat_par_jour(initiale, a, b, ecart):
    du, au = fenetre_reevaluation(initiale, min(a, b), max(a, b))
    jour = initiale + timedelta(days=ecart)
    attendu = "a_venir" if jour < du else "due" if jour <= au else "en_retard"
    assert etat_revue(jour, du, au, None) == attendu


# -- search keys -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("texte", "cle"), [
    ("Lefèbvre", "lefebvre"), ("LEFÈBVRE", "lefebvre"), ("lefebvre", "lefebvre"),
    ("Saint-Exupéry", "saint exupery"), ("SAINT-EXUPÉRY", "saint exupery"), ("saint  exupery", "saint exupery"),
    ("Œdipe", "oedipe"), ("œuvray", "oeuvray"), ("Lætitia", "laetitia"), ("ÆGIR", "aegir"), ("Søren", "soren"),
    ("Łukasz", "lukasz"), ("D'Aubigné", "d aubigne"), ("d’Artagnan", "d artagnan"), ("O’Brien-Smith", "o brien smith"),
    ("Strauß", "strauss"), ("Çelik", "celik"), ("Noël", "noel"), ("ﬁlippi", "filippi"), ("Dž", "dz"),
    ("  -Jean--François-  ", "jean francois"), ("Taux_100%", "taux 100"), ("\tA\nB ", "a b"),
    ("", ""), ("—", ""), ("'%_", ""), ("Σοφία", "σοφια"), ("杜邦", "杜邦"), ("دوبون", "دوبون"),
    ("Du\u2060pont", "dupont"), ("Du\u00adpont", "dupont"),
])
def test_cle_recherche(texte, cle):
    assert cle_recherche(texte) == cle


def test_mots_recherche():
    assert mots_recherche("  Zoé   d'Arc ") == ["zoe", "d", "arc"]
    assert mots_recherche("SAINT-exup") == ["saint", "exup"]
    assert mots_recherche("Œuvray, Camille") == ["oeuvray", "camille"]
    assert mots_recherche("") == [] and mots_recherche(" -'’ ") == [] and mots_recherche("%") == []


def test_cle_patient_nom_puis_prenom():
    assert cle_patient("Saint-Exupéry", "Antoine") == "saint exupery antoine"
    assert cle_patient("Müller-Lüdenscheidt", "Gaëlle") == "muller ludenscheidt gaelle"
    assert cle_patient("Œuvray", "Zoé-Lætitia") == "oeuvray zoe laetitia"
    assert cle_patient("Dupont", "-") == "dupont" and cle_patient("", "Zoé") == "zoe"
    assert cle_patient("Martin", "Paul") != cle_patient("Paul", "Martin")


@REGLAGES
@given(st.text(max_size=60))
def test_cle_recherche_idempotente_et_sans_signes(texte):
    cle = cle_recherche(texte)
    assert CLE.fullmatch(cle), cle
    assert cle_recherche(cle) == cle
    assert " ".join(mots_recherche(texte)) == cle


FRANCAIS = "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿœæ0123456789 -'’"


@REGLAGES
@given(st.text(alphabet=FRANCAIS, max_size=40))
def test_cle_recherche_insensible_a_la_casse_du_francais(texte):
    assert cle_recherche(texte.upper()) == cle_recherche(texte) == cle_recherche(texte.casefold())


@REGLAGES
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ", max_size=40))
def test_cle_recherche_garde_le_texte_deja_simple(texte):
    assert cle_recherche(texte) == " ".join(texte.split())
