"""Measured outcomes in the indicators and the ARS report (issue #30), on SQLite and PostgreSQL: on a database with
known outcomes, the share of closed episodes with a clinically relevant improvement and the median change are the
ones computed by hand here; an open episode and a measure taken once count for nothing; the report masks small
counts as the rest of the report does."""

from __future__ import annotations

import statistics
from datetime import timedelta

from tests import ressources
from tests.test_page import ACTEUR, AUJOURD_HUI, creer_triage, repondre_tout
from triage_app.export.rapport import masque, pages
from triage_app.services.application import Services

fermer_les_depots = ressources.fermer_les_depots
# EIFEL at the bilan and at the closing, one closed episode each: 6 read « amélioration » (a drop of 3 or more).
EIFEL = [(14, 9), (14, 13), (10, 4), (8, 12), (20, 16), (12, 12), (18, 10), (9, 6), (16, 15), (11, 8)]


def _eifel(oui: int) -> dict[str, int]:
    return {f"eifel_{i}": int(i <= oui) for i in range(1, 25)}


def _episode(depot: Services, n: int, avant: int | None, apres: int | None, *, clore: bool = True) -> None:
    tid, eid = creer_triage(depot, nom=f"Patient{n}")
    repondre_tout(depot, tid, "lombalgie_aigue")
    depot.triages.finaliser(tid, acteur=ACTEUR)
    for moment, score in (("bilan", avant), ("cloture", apres)):
        if score is not None:
            depot.mesures.enregistrer(episode_id=eid, mesure="eifel", moment=moment, jour=AUJOURD_HUI,
                                      reponses=_eifel(score), declare_par="patient", acteur=ACTEUR)
    if clore:
        depot.episodes.cloturer_episode(eid, motif="guerison", jour=AUJOURD_HUI, acteur=ACTEUR)


def test_part_amelioree_et_variation_mediane_calculees_a_la_main(url_base):
    with Services(url_base) as depot:
        depot.structure.enregistrer_structure(nom="MSP", type="msp", departement="38",
                                              protocoles_appliques=["lombalgie_aigue"], acteur=ACTEUR)
        for n, (avant, apres) in enumerate(EIFEL):
            _episode(depot, n, avant, apres)
        _episode(depot, 100, 14, 2, clore=False)  # open: not an outcome yet
        _episode(depot, 101, 14, None)  # closed, measured once: nothing to read
        ind = depot.rapport.indicateurs(AUJOURD_HUI - timedelta(days=30), AUJOURD_HUI, acteur="coord")
        m = depot.moteur
    b = ind.protocoles["lombalgie_aigue"]
    [(route, par_mesure)] = b.resultats.items()
    r = par_mesure["eifel"]
    variations = [apres - avant for avant, apres in EIFEL]
    ameliores = sum(avant - apres >= 3 for avant, apres in EIFEL)
    assert (r.episodes, r.ameliores) == (10, 6) == (len(EIFEL), ameliores)
    assert sorted(r.variations) == sorted(variations)
    assert r.mediane == statistics.median(variations) == -3  # -8 -6 -5 -4 -3 | -3 -1 -1 0 4
    assert route  # the route of the episodes' final triage
    # The report: 6 of 10 (60 %), the median from 10 episodes (≥ the masking threshold, 5).
    assert masque(m).seuil == 5
    [page] = [p for p in pages(ind, m) if p.protocole == "lombalgie_aigue"]
    section = next(s for s in page.sections if s.titre.startswith("Résultats mesurés"))
    valeurs = {li.libelle.split(" : ", 1)[1]: (li.valeur, li.part) for li in section.lignes}
    assert valeurs["épisodes clos mesurés"] == ("10", "")
    assert valeurs["amélioration cliniquement pertinente"] == ("6", "60 %")
    assert valeurs["variation médiane (premier → dernier score)"] == ("-3", "")


def test_le_rapport_masque_les_petits_effectifs_de_resultats(url_base):
    with Services(url_base) as depot:
        depot.structure.enregistrer_structure(nom="MSP", type="msp", departement="38",
                                              protocoles_appliques=["lombalgie_aigue"], acteur=ACTEUR)
        for n, (avant, apres) in enumerate(EIFEL[:3]):
            _episode(depot, n, avant, apres)
        ind = depot.rapport.indicateurs(AUJOURD_HUI - timedelta(days=30), AUJOURD_HUI, acteur="coord")
        m = depot.moteur
    [page] = [p for p in pages(ind, m) if p.protocole == "lombalgie_aigue"]
    section = next(s for s in page.sections if s.titre.startswith("Résultats mesurés"))
    valeurs = {li.libelle.split(" : ", 1)[1]: (li.valeur, li.part) for li in section.lignes}
    assert valeurs["épisodes clos mesurés"] == ("< 5", "")
    assert valeurs["amélioration cliniquement pertinente"] == ("< 5", "")  # 2 of 3: neither count nor share
    assert valeurs["variation médiane (premier → dernier score)"] == ("—", "")
