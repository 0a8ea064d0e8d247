"""The episode's counts as pure functions (rules v3, §9): properties over generated histories.

A session stored without a reimbursed route never moves a threshold (§9.3, §9.6); the accès direct periods split the
sessions without overlap, each shorter than 3 months, each session in exactly one (§9.1); a declaration counts
exactly while its date is within the 12 months up to the day (§9.5).
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from triage_app.domain.compteurs import (
    ActeCompte,
    Declaration,
    EpisodeCompte,
    ReglesComptage,
    compter,
    declaration_valide,
    periodes,
)
from triage_app.domain.dates import ajouter_mois

REGLES = ReglesComptage(voies_remboursees=frozenset({"forfait_protocole", "ngap_acces_direct", "ngap_prescription"}),
                        voie_acces_direct="ngap_acces_direct", periode_mois=3,
                        motifs_fin_periode=frozenset({"plafond", "duree"}), historique_mois=12,
                        declaration_valide_mois=12)
ORIGINE = date(2025, 1, 1)
JOURS = st.integers(min_value=0, max_value=700).map(lambda n: ORIGINE + timedelta(days=n))
EPISODES = [EpisodeCompte("a", ORIGINE, True), EpisodeCompte("b", ORIGINE + timedelta(days=200), True, "guerison"),
            EpisodeCompte("c", ORIGINE + timedelta(days=400), False)]
ACTES = st.lists(st.builds(ActeCompte, st.sampled_from(["a", "b", "c"]), JOURS,
                           st.sampled_from(["seance", "bilan", "consultation_protocole_1"]),
                           st.sampled_from(["ngap_acces_direct", "ngap_prescription", "forfait_protocole", "aucune"])),
                 max_size=40)


def _comptes(actes: list[ActeCompte], jour: date, episode: EpisodeCompte, inclus: bool) -> tuple:
    c = compter(episode, EPISODES, actes, Declaration(None, None, None), jour, REGLES, inclus=inclus)
    return c.serie, c.seances_12_mois, c.episodes_12_mois, c.seances_periode, c.periode_terminee, c.periode


@settings(max_examples=150, deadline=None)
@given(ACTES, JOURS, st.sampled_from(EPISODES), st.booleans(), JOURS, st.sampled_from(["a", "b", "c"]))
def test_une_seance_sans_prise_en_charge_ne_bouge_aucun_seuil(actes, jour, episode, inclus, quand, ou):
    avec = [*actes, ActeCompte(ou, quand, "seance", "aucune")]
    assert _comptes(avec, jour, episode, inclus) == _comptes(actes, jour, episode, inclus)


@settings(max_examples=200, deadline=None)
@given(st.lists(JOURS, max_size=60))
def test_les_periodes_partagent_les_seances_sans_recouvrement(jours):
    liste = periodes(jours, 3)
    assert sorted(j for p in liste for j in p.dates) == sorted(jours)  # each session in exactly one period
    for p in liste:
        assert p.debut == min(p.dates) and p.fin == ajouter_mois(p.debut, 3)
        assert all(p.debut <= j < p.fin for j in p.dates)
    for avant, apres in pairwise(liste):
        assert avant.fin <= apres.debut  # the next period opens with the first session after the previous one's end


@settings(max_examples=300, deadline=None)
@given(JOURS, st.integers(min_value=-10, max_value=800))
def test_une_declaration_compte_douze_mois(declaree, age):
    jour = declaree + timedelta(days=age)
    attendu = ajouter_mois(jour, -12) <= declaree
    assert declaration_valide(Declaration(25, 1, declaree), jour, 12) is attendu
    c = compter(EPISODES[0], EPISODES, [], Declaration(25, 1, declaree), jour, REGLES, inclus=False)
    assert c.seances_12_mois == (25 if attendu else 0)


@settings(max_examples=150, deadline=None)
@given(ACTES, JOURS)
def test_le_compte_de_la_periode_ne_depasse_jamais_les_seances_sans_diagnostic(actes, jour):
    c = compter(EPISODES[0], EPISODES, actes, Declaration(None, None, None), jour, REGLES, inclus=True)
    sans_diagnostic = [a for a in actes if a.acte == "seance" and a.voie == "ngap_acces_direct" and a.episode_id != "c"]
    assert c.seances_periode <= len(sans_diagnostic)
    if c.periode is not None:
        assert c.periode.fin == ajouter_mois(c.periode.debut, 3)
        assert c.periode_terminee == (jour >= c.periode.fin) or EPISODES[0].id not in c.periode.episodes
