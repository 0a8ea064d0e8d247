"""What the page shows, computed without Streamlit (``triage_app/presentation.py``).

The expectations are read from ``protocols/`` with plain YAML (``commun.yaml``, ``sources.yaml``, the
protocols, the dated parameters), not through the loader the module itself uses, so a label, an order or a
value that drifts between the rules and the page fails here.

« Aucun de ces signes » is a safety shortcut: it is checked exhaustively where cheap (one « oui » then the
shortcut on every group in the page's order; every subset of « oui » inside a group) and with hypothesis over
arbitrary partial answers in several settings (derandomized, a few seconds in all). Orientation ranks come
from ``commun.yaml`` (``rang``: 0 = most urgent).
"""

from __future__ import annotations

import copy
import itertools
import re
import typing
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import RACINE, cas_base
from triage_app import presentation as pr
from triage_app.engine.evaluation import moteur
from triage_app.models import base
from triage_app.models.result import Resultat

LOMBALGIE, CHEVILLE = "lombalgie_aigue", "entorse_cheville"
PROTOCOLES = (LOMBALGIE, CHEVILLE)
NBSP, NNBSP = "\u00a0", "\u202f"
DOSSIER = RACINE / "protocols"


def _yaml(chemin) -> Any:
    return yaml.safe_load(chemin.read_text(encoding="utf-8"))


COMMUN = _yaml(DOSSIER / "commun.yaml")
SOURCES = {s["id"]: s for s in _yaml(DOSSIER / "sources.yaml")["sources"]}
PROTOCOLES_YAML = {pid: _yaml(DOSSIER / f"{pid}.yaml") for pid in PROTOCOLES}
RANG: dict[str, int] = {o["id"]: o["rang"] for o in COMMUN["orientations"]}
LIBELLE_ORIENTATION = {o["id"]: o["libelle"] for o in COMMUN["orientations"]}
NIVEAUX_ALERTE = ("urgences", "medecin_jour")
# Both painful zones « oui »: every Ottawa sign is asked (the largest Ottawa group).
OTTAWA_VISIBLE: dict[str, dict[str, Any]] = {
    LOMBALGIE: {}, CHEVILLE: {"ottawa_douleur_malleolaire": True, "ottawa_douleur_medio_pied": True}}


def _questions_yaml(pid: str) -> list[dict[str, Any]]:
    return PROTOCOLES_YAML[pid]["questions"]


def _niveau(pid: str, qid: str) -> str | None:
    return next(q["niveau"] for q in _questions_yaml(pid) if q["id"] == qid)


def _alertes(pid: str) -> list[str]:
    """Red-flag questions (a « oui » is a referral by itself)."""
    return [q["id"] for q in _questions_yaml(pid) if q["niveau"] in NIVEAUX_ALERTE and q["type"] == "booleen"]


def _cas(pid: str, reponses: dict[str, Any], **modifs: Any) -> dict[str, Any]:
    cas = cas_base(pid, **modifs)
    cas["reponses"] = dict(reponses)
    return cas


def _vues(m, pid: str, reponses: dict[str, Any], **modifs: Any) -> tuple[list[pr.VueGroupe], dict[str, Any]]:
    cas = _cas(pid, reponses, **modifs)
    resultat = m.evaluer(cas)
    return pr.groupes(m.protocoles[pid].modele, cas["reponses"], resultat), resultat


def _par_id(vues: list[pr.VueGroupe]) -> dict[str, pr.VueGroupe]:
    return {g.id: g for g in vues}


# ======================================================================================================
# groupes(), groupe_courant()
# ======================================================================================================
@pytest.mark.parametrize("pid", PROTOCOLES)
def test_les_groupes_suivent_l_ordre_du_protocole(m, pid):
    ordre_yaml = [g["id"] for g in PROTOCOLES_YAML[pid]["groupes"]]
    vues, resultat = _vues(m, pid, {})
    assert resultat["orientation"] is None
    # With nothing answered, every group of the protocol has something to ask (Ottawa: the two zones).
    assert [g.id for g in vues] == ordre_yaml
    # Later, groups keep the protocol's order whatever is answered (the Ottawa group may disappear).
    vues_plus_tard, _ = _vues(m, pid, cas_base(pid)["reponses"] | OTTAWA_VISIBLE[pid], episode__date_debut="2026-01-10")
    ids = [g.id for g in vues_plus_tard]
    assert ids == [g for g in ordre_yaml if g in ids] and len(ids) >= len(ordre_yaml) - 1
    libelles = {g["id"]: g["libelle"] for g in PROTOCOLES_YAML[pid]["groupes"]}
    for g in vues:
        assert g.libelle == libelles[g.id]
        attendues = [q["id"] for q in _questions_yaml(pid) if q["groupe"] == g.id
                     and (q["requis"] != "conditionnel" or q["id"] in resultat["questions_manquantes"])]
        assert [q.id for q in g.questions] == attendues, g.id
        assert all(q.reponse is None for q in g.questions)


def test_ottawa_seulement_quand_le_moteur_le_demande_ou_deja_repondu(m):
    libelles = {q["id"]: q["libelle"] for q in _questions_yaml(CHEVILLE)}
    zones = ["ottawa_douleur_malleolaire", "ottawa_douleur_medio_pied"]
    cheville = ["ottawa_malleole_laterale", "ottawa_malleole_mediale", "ottawa_appui_4_pas_impossible"]

    # Nothing answered: the engine asks for the two painful zones only.
    vues, r = _vues(m, CHEVILLE, {})
    assert [q.id for q in _par_id(vues)["ottawa"].questions] == zones
    assert all(q.manquante for q in _par_id(vues)["ottawa"].questions)

    # Pain at the malleoli: the engine asks for the ankle signs, never the foot's.
    vues, r = _vues(m, CHEVILLE, {"ottawa_douleur_malleolaire": True})
    ottawa = _par_id(vues)["ottawa"]
    assert set(cheville) <= set(r["questions_manquantes"])
    assert [q.id for q in ottawa.questions] == [*zones[:1], *cheville[:2], zones[1], cheville[2]]
    assert {q.id: q.libelle for q in ottawa.questions} == {q: libelles[q] for q in (*zones, *cheville)}
    assert "ottawa_base_5e_metatarsien" not in {q.id for q in ottawa.questions}
    assert not ottawa.complet

    # No result to go by: only what is answered is shown.
    reponses = {"ottawa_douleur_malleolaire": False, "ottawa_naviculaire": True}
    vues = pr.groupes(m.protocoles[CHEVILLE].modele, reponses, None)
    assert [q.id for q in _par_id(vues)["ottawa"].questions] == ["ottawa_douleur_malleolaire", "ottawa_naviculaire"]
    assert _par_id(vues)["ottawa"].questions[1].reponse is True

    # An answered sign stays visible once the engine no longer asks for it.
    vues, r = _vues(m, CHEVILLE, {"ottawa_douleur_malleolaire": False, "ottawa_douleur_medio_pied": False,
                                  "ottawa_malleole_mediale": True})
    assert "ottawa_malleole_mediale" not in r["questions_manquantes"]
    assert "ottawa_malleole_mediale" in {q.id for q in _par_id(vues)["ottawa"].questions}

    # Trauma older than the Ottawa window: the engine does not ask, the group is not shown.
    vues, r = _vues(m, CHEVILLE, {}, episode__date_debut="2026-01-10")
    assert not any(q.startswith("ottawa") for q in r["questions_manquantes"])
    assert "ottawa" not in _par_id(vues)


@pytest.mark.parametrize(("pid", "attendu"), [
    (LOMBALGIE, {"neurologique": (False, True), "douleur": (False, True), "signes_generaux": (False, True),
                 "terrain": (False, True), "rachis": (False, True), "startback": (True, False),
                 "doute": (True, True)}),
    (CHEVILLE, {"gravite": (False, True), "mecanisme": (False, False), "traumatisme": (False, True),
                "terrain": (False, True), "fiabilite": (False, True), "ottawa": (False, True),
                "stade": (True, False), "doute": (True, True)}),
])
def test_facultatif_et_aucun_de_ces_signes_par_groupe(m, pid, attendu):
    """(facultatif, tout_non) per group; also with every Ottawa sign shown."""
    for reponses in ({}, OTTAWA_VISIBLE[pid]):
        vues, _ = _vues(m, pid, reponses)
        assert {g.id: (g.facultatif, g.tout_non) for g in vues} == attendu


@pytest.mark.parametrize("pid", PROTOCOLES)
def test_jamais_aucun_de_ces_signes_pour_un_choix_ou_un_fait_d_eligibilite(m, pid):
    vues, _ = _vues(m, pid, OTTAWA_VISIBLE[pid])
    types = {q["id"]: (q["type"], q["niveau"]) for q in _questions_yaml(pid)}
    for g in vues:
        if any(types[q.id][0] != "booleen" or types[q.id][1] in ("eligibilite", "score") for q in g.questions):
            assert not g.tout_non, g.id
            assert pr.reponses_aucun_signe(g) == {}
        else:
            assert g.tout_non, g.id


@pytest.mark.parametrize("pid", PROTOCOLES)
def test_groupe_courant(m, pid):
    vues, _ = _vues(m, pid, {})
    requis = [g.id for g in vues if not g.facultatif]
    assert pr.groupe_courant(vues) == requis[0]
    reponses: dict[str, Any] = {}
    for attendu in requis:
        vues, _ = _vues(m, pid, reponses)
        assert pr.groupe_courant(vues) == attendu
        g = _par_id(vues)[attendu]
        reponses |= {q.id: q.id == "mecanisme_torsion" for q in g.questions}
    vues, r = _vues(m, pid, reponses)
    assert pr.groupe_courant(vues) is None  # optional groups left unanswered do not hold the walk
    assert r["orientation"] == "protocole"
    assert any(g.facultatif and not g.complet for g in vues)
    assert pr.groupe_courant([]) is None


def test_groupe_courant_reste_sur_ottawa_tant_que_les_signes_manquent(m):
    base_cas = cas_base(CHEVILLE)["reponses"]
    reponses = base_cas | {"ottawa_douleur_medio_pied": True}
    vues, r = _vues(m, CHEVILLE, reponses)
    assert r["orientation"] is None
    assert pr.groupe_courant(vues) == "ottawa"
    ottawa = _par_id(vues)["ottawa"]
    assert ottawa.repondues == 2 and len(ottawa.questions) == 5


# ======================================================================================================
# reponses_aucun_signe(): the safety property
# ======================================================================================================
def _controler_aucun_signe(m, pid: str, cas: dict[str, Any]) -> list[str]:
    """Apply the shortcut to every shown group of ``cas``; the list of violations (empty when safe)."""
    erreurs: list[str] = []
    avant = m.evaluer(cas)
    vues = pr.groupes(m.protocoles[pid].modele, cas["reponses"], avant)
    donnees = {q: v for q, v in cas["reponses"].items() if v is not None}
    oui = [q for q in _alertes(pid) if cas["reponses"].get(q) is True]
    for g in vues:
        ajout = pr.reponses_aucun_signe(g)
        ici = f"{pid} {g.id} {cas['reponses']}"
        if set(ajout) & set(donnees):
            erreurs.append(f"{ici} : réponse écrasée {sorted(set(ajout) & set(donnees))}")
        if not set(ajout) <= {q.id for q in g.questions}:
            erreurs.append(f"{ici} : question hors du groupe {sorted(ajout)}")
        if any(v is not False for v in ajout.values()):
            erreurs.append(f"{ici} : autre chose que « non » {ajout}")
        if g.tout_non and set(ajout) != {q.id for q in g.questions if q.reponse is None}:
            erreurs.append(f"{ici} : questions sans réponse oubliées {ajout}")
        if not g.tout_non and ajout:
            erreurs.append(f"{ici} : raccourci proposé hors des signes {ajout}")
        apres_cas = copy.deepcopy(cas)
        apres_cas["reponses"].update(ajout)
        if any(apres_cas["reponses"][q] != v for q, v in donnees.items()):
            erreurs.append(f"{ici} : une réponse a changé")
        apres = m.evaluer(apres_cas)["orientation"]
        for q in oui:
            plafond = RANG[_niveau(pid, q)]
            if apres is None or RANG[apres] > plafond:
                erreurs.append(f"{ici} : « oui » à {q} mais {apres} après « Aucun de ces signes »")
        if avant["orientation"] is not None and (apres is None or RANG[apres] > RANG[avant["orientation"]]):
            erreurs.append(f"{ici} : {avant['orientation']} devient {apres}")
    return erreurs


def _reponse_simple(q: pr.VueQuestion) -> Any:
    if q.id == "mecanisme_torsion":
        return True
    return q.choix[0][0] if q.type == "choix" else False


@pytest.mark.parametrize("pid", PROTOCOLES)
def test_aucun_signe_un_oui_puis_le_raccourci_partout_garde_le_renvoi(m, pid):
    """Exhaustive over the red flags: one « oui », then the page's walk with the shortcut on every group."""
    erreurs: list[str] = []
    for q in _alertes(pid):
        reponses: dict[str, Any] = {q: True}
        for _ in range(20):
            cas = _cas(pid, reponses)
            erreurs += _controler_aucun_signe(m, pid, cas)
            vues = pr.groupes(m.protocoles[pid].modele, reponses, m.evaluer(cas))
            a_faire = [g for g in vues if not g.complet]
            if not a_faire:
                break
            g = a_faire[0]
            # Groups without the shortcut are answered as a kiné would for a simple case.
            reponses |= pr.reponses_aucun_signe(g) or {x.id: _reponse_simple(x) for x in g.questions
                                                       if x.reponse is None}
        final = m.evaluer(_cas(pid, reponses))
        assert final["orientation"] == _niveau(pid, q), (q, final["orientation"])
        assert final["statut"] == "complet"
        assert reponses[q] is True
    assert erreurs == []


@pytest.mark.parametrize("pid", PROTOCOLES)
def test_aucun_signe_toute_combinaison_de_oui_dans_un_groupe(m, pid):
    """Exhaustive inside each group: every subset of « oui », the rest of the case unanswered or « non »."""
    ottawa_visible = OTTAWA_VISIBLE[pid]
    erreurs: list[str] = []
    total = 0
    vues, _ = _vues(m, pid, ottawa_visible)
    complet = cas_base(pid)["reponses"]
    for g in vues:
        if not g.tout_non:
            continue
        ids = [q.id for q in g.questions]
        for n in range(len(ids) + 1):
            for oui in itertools.combinations(ids, n):
                for autour in ({}, {k: v for k, v in complet.items() if k not in ids}):
                    reponses = autour | (ottawa_visible if g.id != "ottawa" else {}) | dict.fromkeys(oui, True)
                    erreurs += _controler_aucun_signe(m, pid, _cas(pid, reponses))
                    total += 1
    assert total > 100
    assert erreurs == [], f"{len(erreurs)} violation(s) :\n" + "\n".join(erreurs[:20])


ABSENTE = "<absente>"
CADRES: dict[str, dict[str, Any]] = {
    "msp_eligible": {},
    "cabinet": {"cadre__structure": "cabinet"},
    "prescription": {"episode__prescription_medicale": True},
    "esp_acces_direct": {"cadre__structure": "esp"},
    "age_hors_protocole": {"patient__date_naissance": "1950-01-01"},
}


@st.composite
def etats_partiels(draw, pid: str) -> dict[str, Any]:
    """Any partial answers: mostly unanswered or « non », sometimes « oui », any choice; any setting."""
    reponses: dict[str, Any] = {}
    for q in _questions_yaml(pid):
        if q["type"] == "booleen":
            options: list[Any] = [ABSENTE] * 5 + [False] * 4 + [True, None]
        else:
            options = [ABSENTE] * 2 + [c["valeur"] for c in q["choix"]]
        v = draw(st.sampled_from(options), label=q["id"])
        if v != ABSENTE:
            reponses[q["id"]] = v
    modifs = CADRES[draw(st.sampled_from(sorted(CADRES)), label="cadre")]
    if pid == CHEVILLE:
        modifs = modifs | {"episode__date_debut": draw(st.sampled_from(["2026-03-08", "2026-02-01"]))}
    return _cas(pid, reponses, **modifs)


@pytest.mark.parametrize("pid", PROTOCOLES)
def test_aucun_signe_hypothesis_etats_partiels(m, pid):
    @settings(max_examples=250, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(cas=etats_partiels(pid))
    def propriete(cas):
        erreurs = _controler_aucun_signe(m, pid, cas)
        assert not erreurs, "\n".join(erreurs)

    propriete()


def test_aucun_signe_n_ecrase_pas_un_oui_deja_donne(m):
    vues, r = _vues(m, LOMBALGIE, {"rf_deficit_moteur": True, "rf_deficit_sensitif": False})
    assert r["orientation"] == "urgences"
    neuro = _par_id(vues)["neurologique"]
    assert pr.reponses_aucun_signe(neuro) == {"rf_troubles_sphincteriens": False, "rf_anesthesie_en_selle": False}
    rempli = pr.VueGroupe(neuro.id, neuro.libelle, [
        pr.VueQuestion(q.id, q.libelle, q.aide, q.type, q.choix, True, False) for q in neuro.questions],
        neuro.facultatif, neuro.tout_non)
    assert pr.reponses_aucun_signe(rempli) == {}


# ======================================================================================================
# carte()
# ======================================================================================================
def _prescriptions_yaml(pid: str) -> dict[str, str]:
    return {p["id"]: p["libelle"] for p in PROTOCOLES_YAML[pid]["prescriptions"]}


@pytest.mark.parametrize(("pid", "montants"), [(LOMBALGIE, ("25,00", "20,00")), (CHEVILLE, ("25,00", "25,00"))])
def test_carte_protocole_facturation_et_prescriptions(m, pid, montants):
    r = m.evaluer(cas_base(pid))
    c = pr.carte(m, r)
    assert c.complet and c.orientation == "protocole"
    assert c.orientation_libelle == LIBELLE_ORIENTATION["protocole"] == "Protocole de coopération"
    assert c.consigne == next(o["consigne"] for o in COMMUN["orientations"] if o["id"] == "protocole")
    assert not c.urgence and c.rang == RANG["protocole"]
    assert c.motifs == [] and c.manquantes == 0
    assert c.voie == next(v["libelle"] for v in COMMUN["voies"] if v["id"] == "forfait_protocole")
    assert [li.code for li in c.lignes] == ["PC_CONSULTATION_1", "PC_CONSULTATION_2"]
    assert [li.montant for li in c.lignes] == [f"{x}{NBSP}€" for x in montants]
    assert all(li.part_remboursee is None for li in c.lignes)
    forfaits = {f["code"]: f["libelle"] for f in PROTOCOLES_YAML[pid]["facturation"]["forfaits"]}
    assert {li.code: li.libelle for li in c.lignes} == forfaits
    libelles = _prescriptions_yaml(pid)
    assert c.prescriptions == [libelles[p] for p in r["prescriptions_autorisees"]]
    assert "Paracétamol (ordonnance-type)" in c.prescriptions
    assert c.remarques == r["facturation"]["remarques"] and c.remarques
    assert c.seances is not None and c.seances["restantes"] == c.seances["autorisees"] - c.seances["realisees"]
    if pid == LOMBALGIE:
        assert c.duree == f"{COMMUN['libelles']['classe_duree']['aigue']} ({r['duree_jours']} jours)"
    else:
        assert c.duree is None and c.risque_chronicite is None  # no duration class for the ankle
    assert c.avis_medical is False


def test_carte_montant_non_fixe_a_la_date(m):
    r = m.evaluer(cas_base(CHEVILLE, date_consultation="2020-06-01", episode__date_debut="2020-05-29"))
    c = pr.carte(m, r)
    assert c.orientation == "protocole"
    assert [li.montant for li in c.lignes] == ["non fixé", "non fixé"]
    assert any("non fixé" in x for x in c.remarques)


def test_carte_acces_direct_lignes_ngap_avec_part_remboursee(m):
    c = pr.carte(m, m.evaluer(cas_base(LOMBALGIE, cadre__structure="esp")))
    assert c.orientation == "acces_direct" and c.prescriptions == []
    assert c.lignes and all(re.fullmatch(rf"\d+,\d\d{NBSP}€", li.montant) for li in c.lignes)
    assert all(li.part_remboursee and li.part_remboursee.endswith(f"{NBSP}€") for li in c.lignes)


def test_carte_radiographie_ottawa_libellee(m):
    r = m.evaluer(cas_base(CHEVILLE, reponses__ottawa_douleur_malleolaire=True, reponses__ottawa_malleole_laterale=True,
                           reponses__ottawa_malleole_mediale=False, reponses__ottawa_appui_4_pas_impossible=False))
    c = pr.carte(m, r)
    assert r["radiographie"] == "cheville"
    assert c.radiographie == COMMUN["libelles"]["radiographie"]["cheville"]
    assert _prescriptions_yaml(CHEVILLE)["radiographie"] in c.prescriptions


def test_carte_drapeau_rouge_source_secondaire_a_verifier(m):
    r = m.evaluer(cas_base(LOMBALGIE, reponses__rf_fievre=True))
    c = pr.carte(m, r)
    assert c.orientation == "medecin_jour" and c.rang == 1 and not c.urgence
    critere = next(x for x in PROTOCOLES_YAML[LOMBALGIE]["criteres"] if x["id"] == "rf_fievre")
    assert critere["verification"] == "secondaire"
    [motif] = c.motifs
    assert motif.libelle == critere["libelle"]
    assert motif.source_id == critere["source"]
    assert motif.source_titre == SOURCES[critere["source"]]["titre"]
    assert motif.source_url == SOURCES[critere["source"]]["url"]
    assert motif.badge == COMMUN["libelles"]["verification"]["secondaire"] == "à vérifier"
    assert motif.a_verifier is True
    # No billing, no prescriptions for a referral.
    assert c.prescriptions == []


def test_carte_motif_choix_du_produit_et_source_primaire(m):
    r = m.evaluer(cas_base(CHEVILLE, reponses__rf_anticoagulant=True))
    [motif] = pr.carte(m, r).motifs
    assert motif.badge == COMMUN["libelles"]["verification"]["choix_produit"]
    # A product choice is labelled as such; « à vérifier » is kept for rules read second-hand.
    assert motif.a_verifier is False
    assert motif.source_url is None and motif.source_titre == SOURCES[motif.source_id]["titre"]
    # A first-hand source is not « à vérifier » (no protocol criterion is primary yet: the result is edited).
    primaire = copy.deepcopy(r)
    primaire["motifs"][0]["verification"] = "primaire"
    [motif] = pr.carte(m, primaire).motifs
    assert motif.a_verifier is False
    assert motif.badge == COMMUN["libelles"]["verification"]["primaire"]


@pytest.mark.parametrize(("pid", "qid"), [(LOMBALGIE, "rf_troubles_sphincteriens"), (CHEVILLE, "rf_deformation")])
def test_carte_urgence(m, pid, qid):
    cas = _cas(pid, {qid: True})
    r = m.evaluer(cas)
    c = pr.carte(m, r)
    assert c.orientation == "urgences" and c.urgence is True and c.rang == 0
    assert c.orientation_libelle == "Urgences" and "15" in (c.consigne or "")
    assert c.manquantes > 0 and not c.complet  # urgent before the rest is answered
    assert c.seances is None and c.prescriptions == []


@pytest.mark.parametrize("pid", PROTOCOLES)
def test_carte_incomplete_sans_orientation(m, pid):
    r = m.evaluer(_cas(pid, {}))
    c = pr.carte(m, r)
    assert c.orientation is None and c.orientation_libelle is None and c.consigne is None
    assert c.rang is None and not c.urgence and not c.complet
    assert c.manquantes == len(r["questions_manquantes"]) > 0
    assert c.voie is None and c.lignes == [] and c.prescriptions == [] and c.motifs == []


def test_carte_risque_stratb_back_libelle(m):
    reponses = dict.fromkeys(("sbt_1", "sbt_2", "sbt_3", "sbt_4", "sbt_5", "sbt_6", "sbt_7", "sbt_8"), False)
    r = m.evaluer(cas_base(LOMBALGIE, **{f"reponses__{k}": v for k, v in reponses.items()},
                           reponses__sbt_9="pas_du_tout"))
    assert r["risque_chronicite"] == "faible"
    assert pr.carte(m, r).risque_chronicite == COMMUN["libelles"]["risque_chronicite"]["faible"]


# ------------------------------------------------------------------------------------------------------
# carte(): rules v2 — why not the protocol, who pays what, advice to the kiné, referral first
# ------------------------------------------------------------------------------------------------------
def _eligibilite_yaml(pid: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in PROTOCOLES_YAML[pid]["eligibilite"]}


def _remarque(cle: str, **valeurs: Any) -> str:
    return COMMUN["remarques"][cle].format(**valeurs)


def _taux(couverture: str) -> Decimal:
    """The reimbursed share (percent) of a cover at JOUR, read from the dated parameter behind commun.yaml."""
    pid = COMMUN["facturation"]["taux_remboursement"][couverture]
    return Decimal(str(_valeur_au_jour(pid)))


def _valeur_au_jour(pid: str) -> Any:
    """A dated parameter's value at JOUR (the consultation date of ``cas_base``), read from its YAML file."""
    en_vigueur = _en_vigueur(PARAMETRES[pid], JOUR)
    assert en_vigueur is not None, pid
    return en_vigueur[1]["valeur"]


def _centimes(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("pid", PROTOCOLES)
def test_carte_protocole_non_applicable_partage_dmp_refuse_avec_sa_source(m, pid):
    r = m.evaluer(cas_base(pid, consentement__partage_dmp=False))
    c = pr.carte(m, r)
    assert r["eligible_protocole"] is False and c.orientation == "acces_direct"
    regle = _eligibilite_yaml(pid)["partage_dmp"]
    [critere] = c.criteres_non_remplis
    assert critere.libelle == regle["libelle_non_rempli"] == "partage DMP non accepté"
    assert critere.source_id == regle["source"] and critere.source_titre == SOURCES[regle["source"]]["titre"]
    assert critere.source_url == SOURCES[regle["source"]]["url"]
    assert critere.badge == COMMUN["libelles"]["verification"][regle["verification"]] and critere.a_verifier
    assert pr.PROTOCOLE_NON_APPLICABLE == "Protocole non applicable"


def test_carte_criteres_non_remplis_dans_l_ordre_du_protocole_et_rien_hors_protocole(m):
    r = m.evaluer(cas_base(LOMBALGIE, consentement__partage_dmp=False, consentement__protocole=False,
                           cadre__medecin_joignable=False))
    ordre = [x["id"] for x in PROTOCOLES_YAML[LOMBALGIE]["eligibilite"]]
    attendus = [i for i in ordre if i in {"partage_dmp", "consentement_protocole", "medecin_joignable"}]
    libelles = _eligibilite_yaml(LOMBALGIE)
    assert [x.libelle for x in pr.carte(m, r).criteres_non_remplis] == [
        libelles[i]["libelle_non_rempli"] for i in attendus]
    # The structure does not apply the protocol (a cabinet; an MSP that did not adopt it): nothing to explain.
    for cas in (cas_base(LOMBALGIE, cadre__structure="cabinet", cadre__protocole_autorise=False,
                         consentement__partage_dmp=False),
                cas_base(LOMBALGIE, cadre__protocole_autorise=False)):
        assert pr.carte(m, m.evaluer(cas)).criteres_non_remplis == []
    # An eligible patient: nothing either.
    assert pr.carte(m, m.evaluer(cas_base(LOMBALGIE))).criteres_non_remplis == []


@pytest.mark.parametrize("couverture", ["regime_general", "alsace_moselle", "exoneration_100"])
def test_carte_part_remboursee_et_part_du_patient_au_centime(m, couverture):
    r = m.evaluer(cas_base(LOMBALGIE, cadre__structure="esp", cadre__protocole_autorise=False,
                           patient__couverture=couverture))
    c = pr.carte(m, r)
    assert c.orientation == "acces_direct" and [li.code for li in c.lignes] == ["BDK", "RAM"]
    taux = _taux(couverture)
    for li, brute in zip(c.lignes, r["facturation"]["lignes"], strict=True):
        montant = Decimal(str(brute["montant_eur"]))
        rembourse = _centimes(montant * taux / 100)
        assert li.montant == pr.euros(float(montant))
        assert li.part_remboursee == pr.euros(float(rembourse))
        assert li.part_patient == pr.euros(float(montant - rembourse))
        assert re.fullmatch(rf"\d+,\d\d{NBSP}€", li.part_patient)
    libelle = COMMUN["libelles"]["couvertures"][couverture]
    assert c.parts[0] == _remarque("part_remboursee", taux=f"{taux:f}", couverture=libelle)
    # Who pays what is shown with the lines, never among the small print; every engine remark is kept once.
    # Announcements of values not yet in force stay on « Protocoles », off the card (issue #13).
    annonces = [x for x in r["facturation"]["remarques"] if x.startswith("Annoncé, non appliqué")]
    assert annonces and not any(x in c.remarques for x in annonces)
    assert sorted(c.parts + c.remarques + annonces) == sorted(r["facturation"]["remarques"])
    assert not set(c.parts) & set(c.remarques)


def test_carte_alsace_moselle_90_pour_cent(m):
    c = pr.carte(m, m.evaluer(cas_base(LOMBALGIE, cadre__structure="esp", cadre__protocole_autorise=False,
                                       patient__couverture="alsace_moselle")))
    assert _taux("alsace_moselle") == 90
    ram = next(li for li in c.lignes if li.code == "RAM")
    assert (ram.montant, ram.part_remboursee, ram.part_patient) == (f"17,90{NBSP}€", f"16,11{NBSP}€", f"1,79{NBSP}€")
    assert "90 %" in c.parts[0] and "Régime local d'Alsace-Moselle" in c.parts[0]


def test_carte_franchise_medicale_affichee_jamais_deduite(m):
    r = m.evaluer(cas_base(LOMBALGIE, cadre__structure="esp", cadre__protocole_autorise=False))
    c = pr.carte(m, r)
    franchise = COMMUN["facturation"]["franchise"]
    montant, plafond = _valeur_au_jour(franchise["montant"]), _valeur_au_jour(franchise["plafond_jour"])
    attendu = _remarque("franchise", franchise=f"{montant:.2f}".replace(".", ","),
                        plafond=f"{plafond:.2f}".replace(".", ","))
    assert attendu in c.parts and attendu not in c.remarques
    # The franchise comes after the shares it is not deducted from (« non déduite ci-dessus »).
    assert c.parts.index(attendu) == len(c.parts) - 1
    total = sum(Decimal(str(li["part_patient_eur"])) for li in r["facturation"]["lignes"])
    assert any(f"{total:.2f}".replace(".", ",") in x for x in c.parts)
    # A minor: no franchise, said as such.
    mineur = pr.carte(m, m.evaluer(cas_base(LOMBALGIE, cadre__structure="esp", cadre__protocole_autorise=False,
                                            patient__date_naissance="2012-01-01")))
    assert _remarque("franchise_mineur") in mineur.parts and attendu not in mineur.parts


def test_carte_forfaits_sans_part_patient(m):
    c = pr.carte(m, m.evaluer(cas_base(CHEVILLE)))
    assert c.lignes and all(li.part_remboursee is None and li.part_patient is None for li in c.lignes)
    assert c.parts == []


def test_carte_conseil_regles_de_berne_a_65_ans_avec_source(m):
    conseil = next(x for x in PROTOCOLES_YAML[CHEVILLE]["conseils_kine"] if x["id"] == "regles_de_berne")
    age = PROTOCOLES_YAML[CHEVILLE]["seuils"]["age_regles_berne"]["valeur"]
    naissance = date(JOUR.year - age, 1, 1).isoformat()
    c = pr.carte(m, m.evaluer(cas_base(CHEVILLE, patient__date_naissance=naissance)))
    [vue] = c.conseils_kine
    assert vue.libelle == conseil["libelle"] and vue.source_titre == SOURCES[conseil["source"]]["titre"]
    assert vue.badge == COMMUN["libelles"]["verification"][conseil["verification"]]
    assert pr.CONSEIL_KINE == "Conseil au kinésithérapeute"
    veille = date(JOUR.year - age + 1, 1, 1).isoformat()
    assert pr.carte(m, m.evaluer(cas_base(CHEVILLE, patient__date_naissance=veille))).conseils_kine == []
    assert pr.carte(m, m.evaluer(cas_base(LOMBALGIE, patient__date_naissance=naissance))).conseils_kine == []


@pytest.mark.parametrize(("modifs", "orientation"), [
    ({"reponses__rf_troubles_sphincteriens": True}, "urgences"),
    ({"reponses__rf_fievre": True}, "medecin_jour"),
    ({}, "protocole"),
    ({"cadre__structure": "esp"}, "acces_direct"),
    ({"cadre__structure": "cabinet"}, "medecin_programme"),
    ({"episode__prescription_medicale": True}, "sur_prescription"),
])
def test_carte_renvoi_medical_seulement_pour_urgences_et_medecin_du_jour(m, modifs, orientation):
    c = pr.carte(m, m.evaluer(cas_base(LOMBALGIE, **modifs)))
    assert c.orientation == orientation
    assert c.renvoi_medical is (orientation in COMMUN["avis_medical_sauf_orientations"])
    assert c.renvoi_medical is (orientation in ("urgences", "medecin_jour"))


def test_carte_resultat_enregistre_avant_les_regles_v2(m):
    """A final triage keeps its stored result: one from before rules v2 lacks the new fields, and still shows."""
    r = copy.deepcopy(m.evaluer(cas_base(LOMBALGIE, cadre__structure="esp", consentement__partage_dmp=False)))
    for cle in ("criteres_non_remplis", "conseils_kine"):
        del r[cle]
    for ligne in r["facturation"]["lignes"]:
        del ligne["part_patient_eur"]
    c = pr.carte(m, r)
    assert c.criteres_non_remplis == [] and c.conseils_kine == []
    assert c.lignes and all(li.part_patient is None and li.part_remboursee for li in c.lignes)


# ======================================================================================================
# Every code the engine outputs has a display label
# ======================================================================================================
def _literaux(tp: Any) -> set[Any]:
    valeurs: set[Any] = set()
    for a in typing.get_args(tp):
        if typing.get_origin(a) is typing.Literal:
            valeurs |= set(typing.get_args(a))
        elif a is not type(None):
            valeurs |= _literaux(a) if typing.get_args(a) else {a}
    return valeurs


CHAMPS_RESULTAT = typing.get_type_hints(Resultat)


@pytest.mark.parametrize(("codes", "libelles"), [
    pytest.param(_literaux(CHAMPS_RESULTAT["classe_duree"]), "classe_duree", id="classe_duree"),
    pytest.param(_literaux(CHAMPS_RESULTAT["risque_chronicite"]), "risque_chronicite", id="risque_chronicite"),
    pytest.param(_literaux(CHAMPS_RESULTAT["radiographie"]), "radiographie", id="radiographie"),
    pytest.param(set(typing.get_args(base.Structure)), "structures", id="structures"),
    pytest.param(set(typing.get_args(base.Verification)), "verification", id="verification"),
])
def test_chaque_code_du_moteur_a_un_libelle(codes, libelles):
    assert len(codes) >= 3, codes  # the Literal was found
    table = COMMUN["libelles"][libelles]
    assert codes - set(table) == set(), f"codes sans libellé dans commun.yaml libelles.{libelles}"
    assert all(isinstance(v, str) and v.strip() for v in table.values())


def test_chaque_orientation_et_voie_a_un_libelle():
    assert set(typing.get_args(base.Orientation)) <= set(LIBELLE_ORIENTATION)
    assert set(typing.get_args(base.Voie)) <= {v["id"] for v in COMMUN["voies"]}
    assert {"oui", "non"} <= set(COMMUN["libelles"]["reponses"])
    assert {s["verification"] for s in SOURCES.values()} <= set(COMMUN["libelles"]["verification"])


# ======================================================================================================
# parametres_au()
# ======================================================================================================
def _parametres_yaml() -> dict[str, dict[str, Any]]:
    out = {}
    for f in sorted((DOSSIER / "parameters").rglob("*.yaml")):
        out[f"{f.parent.name}.{f.stem}"] = _yaml(f)
    return out


PARAMETRES = _parametres_yaml()
JOUR = date(2026, 3, 10)


def _en_vigueur(doc: dict[str, Any], jour: date) -> tuple[date, dict[str, Any]] | None:
    dates = sorted((date.fromisoformat(d), v) for d, v in doc["valeurs"].items()
                   if not v.get("attendu") and date.fromisoformat(d) <= jour)
    return dates[-1] if dates else None


def test_parametres_en_vigueur_valeur_date_reference(m):
    vues = {v.id: v for v in pr.parametres_au(m, JOUR)}
    assert set(vues) == set(PARAMETRES)
    for pid, doc in PARAMETRES.items():
        v = vues[pid]
        trouve = _en_vigueur(doc, JOUR)
        assert trouve is not None, pid
        depuis, entree = trouve
        assert v.description == doc["description"]
        assert v.valeur.strip(), pid
        assert v.depuis == depuis.strftime("%d/%m/%Y"), pid
        assert v.reference == SOURCES[entree["reference"]]["titre"], pid
        assert v.reference_url == SOURCES[entree["reference"]]["url"], pid
        assert v.badge == COMMUN["libelles"]["verification"][entree["verification"]], pid
    assert vues["protocoles.forfait_lombalgie_consultation_2"].valeur == f"20,00{NBSP}€"
    assert vues["ngap.lettre_cle_metropole"].valeur == f"2,21{NBSP}€"
    assert vues["acces_direct.structures"].valeur.startswith("msp, centre_de_sante")
    assert vues["acces_direct.plafond_sans_diagnostic"].valeur == "8"


def test_parametres_avant_toute_date_moins_de_valeurs(m):
    plus_tot = min(min(date.fromisoformat(d) for d in doc["valeurs"]) for doc in PARAMETRES.values())
    tous = pr.parametres_au(m, JOUR)
    avant_2015 = pr.parametres_au(m, date(2015, 1, 1))
    assert 0 < len(avant_2015) < len(tous)
    assert {v.id for v in avant_2015} == {p for p, doc in PARAMETRES.items() if _en_vigueur(doc, date(2015, 1, 1))}
    assert pr.parametres_au(m, date.fromordinal(plus_tot.toordinal() - 1)) == []


def test_forfait_non_fixe_avant_l_arrete(m):
    vues = {v.id: v for v in pr.parametres_au(m, date(2020, 6, 1))}
    assert vues["protocoles.forfait_cheville_consultation_1"].valeur == "non fixé"
    assert vues["protocoles.forfait_cheville_consultation_1"].depuis == "08/03/2020"


@pytest.mark.parametrize("jour", [JOUR, date(2027, 6, 30), date(2027, 7, 1), date(2028, 1, 1)])
def test_valeurs_annoncees_jamais_en_vigueur(m, jour):
    annonces = {(pid, d): v for pid, doc in PARAMETRES.items() for d, v in doc["valeurs"].items() if v.get("attendu")}
    assert annonces, "aucune valeur annoncée dans protocols/parameters : le test ne vérifie plus rien"
    vues = {v.id: v for v in pr.parametres_au(m, jour)}
    for (pid, d), entree in annonces.items():
        v = vues[pid]
        trouve = _en_vigueur(PARAMETRES[pid], jour)
        assert trouve is not None
        en_vigueur = trouve[1]
        chiffre = re.escape(str(entree["valeur"])).replace(r"\.", "[.,]")
        if en_vigueur["valeur"] != entree["valeur"]:
            assert not re.search(rf"^{chiffre}\b", v.valeur), (pid, jour, v.valeur)
        if date.fromisoformat(d) > jour:
            assert any(re.search(chiffre, a) and date.fromisoformat(d).strftime("%d/%m/%Y") in a
                       for a in v.annonces), (pid, v.annonces)
    # Only announced values are listed as announcements.
    assert all(not v.annonces for p, v in vues.items() if p not in {a for a, _ in annonces})


def test_parametre_booleen_affiche_en_francais(m):
    vues = {v.id: v for v in pr.parametres_au(m, JOUR)}
    assert vues["protocoles.en_vigueur"].valeur.lower() == "oui"


def test_parametre_decimal_avec_une_virgule(m):
    vues = pr.parametres_au(m, JOUR)
    textes = [v.valeur for v in vues] + [a for v in vues for a in v.annonces]
    assert [t for t in textes if re.search(r"\d\.\d", t)] == []


# ======================================================================================================
# diagramme_dot()
# ======================================================================================================
CHAINE_DOT = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _dot_valide(texte: str) -> None:
    lignes = texte.splitlines()
    assert lignes[0] == "digraph {" and lignes[-1] == "}"
    sans_chaines = CHAINE_DOT.sub('""', texte)
    assert '"' not in sans_chaines.replace('""', ""), "guillemet non fermé"
    profondeur = 0
    for car in sans_chaines:
        profondeur += {"{": 1, "}": -1}.get(car, 0)
        assert profondeur >= 0
    assert profondeur == 0
    assert sans_chaines.count("[") == sans_chaines.count("]")
    for ligne in lignes[1:-1]:
        assert ligne.rstrip().endswith(";"), ligne


def _sans_echappement(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


@pytest.mark.parametrize("pid", PROTOCOLES)
def test_diagramme_dot_contient_chaque_etat_et_transition(m, pid):
    texte = pr.diagramme_dot(m, pid)
    _dot_valide(texte)
    doc = PROTOCOLES_YAML[pid]
    noeuds = re.findall(r'^  "([a-z0-9_]+)" \[label="((?:[^"\\]|\\.)*)"', texte, re.M)
    assert [n for n, _ in noeuds] == [e["id"] for e in doc["etats"]]
    assert [_sans_echappement(lib) for _, lib in noeuds] == [e["libelle"] for e in doc["etats"]]
    aretes = re.findall(r'^  "([a-z0-9_]+)" -> "([a-z0-9_]+)" \[label="((?:[^"\\]|\\.)*)"\];$', texte, re.M)
    assert [(a, b) for a, b, _ in aretes] == [(t["depuis"], t["vers"]) for t in doc["transitions"]]
    assert [_sans_echappement(lib) for _, _, lib in aretes] == [
        f"{i}. {t['libelle']}" for i, t in enumerate(doc["transitions"], start=1)]
    # Urgences stands out from the other outcomes.
    assert re.search(r'^  "urgences" .*doubleoctagon', texte, re.M)


def test_diagramme_dot_echappe_guillemets_et_barres(m):
    modele = m.protocoles[LOMBALGIE].modele
    piege = 'Dire "stop" \\ puis {attendre}'
    etats = [modele.etats[0].model_copy(update={"libelle": piege}), *modele.etats[1:]]
    transitions = [modele.transitions[0].model_copy(update={"libelle": f'« "{piege}" »'}), *modele.transitions[1:]]
    faux = SimpleNamespace(registre=m.registre, protocoles={LOMBALGIE: SimpleNamespace(
        modele=modele.model_copy(update={"etats": etats, "transitions": transitions}))})
    texte = pr.diagramme_dot(faux, LOMBALGIE)  # type: ignore[arg-type]
    _dot_valide(texte)
    assert 'label="Dire \\"stop\\" \\\\ puis {attendre}"' in texte
    labels = [_sans_echappement(x) for x in re.findall(r'label="((?:[^"\\]|\\.)*)"', texte)]
    assert piege in labels and f'1. « "{piege}" »' in labels


# ======================================================================================================
# euros(), date_fr()
# ======================================================================================================
@pytest.mark.parametrize(("montant", "texte"), [
    (25, f"25,00{NBSP}€"), (25.0, f"25,00{NBSP}€"), (0, f"0,00{NBSP}€"), (2.21, f"2,21{NBSP}€"),
    (17.9, f"17,90{NBSP}€"), (1234.5, f"1{NNBSP}234,50{NBSP}€"), (1234567.89, f"1{NNBSP}234{NNBSP}567,89{NBSP}€"),
    (None, "non fixé"),
])
def test_euros(montant, texte):
    assert pr.euros(montant) == texte


def test_euros_jamais_de_point_ni_d_espace_secable():
    for montant in (0.5, 9.99, 70, 999.99, 1000, 10_000.01):
        t = pr.euros(montant)
        assert "." not in t and " " not in t and t.endswith(f"{NBSP}€")


@pytest.mark.parametrize(("jour", "texte"), [
    (date(2026, 3, 10), "10/03/2026"), ("2026-03-01", "01/03/2026"), (date(2024, 2, 29), "29/02/2024"),
    ("1979-12-31", "31/12/1979"),
])
def test_date_fr(jour, texte):
    assert pr.date_fr(jour) == texte


def test_date_fr_refuse_une_date_invalide():
    with pytest.raises(ValueError):
        pr.date_fr("2026-02-30")


# -- issue #13: typed dates, badges that mean something, the card's X-ray reason, the states as a list ---------
@pytest.mark.parametrize(("texte", "attendu"), [
    ("14/06/1986", date(1986, 6, 14)), ("14061986", date(1986, 6, 14)), ("14.06.1986", date(1986, 6, 14)),
    ("1/2/2020", date(2020, 2, 1)), ("1986-06-14", date(1986, 6, 14)), ("29/02/2024", date(2024, 2, 29)),
    ("  ", None), (None, None),
])
def test_lire_date_accepte_les_saisies_du_kine(texte, attendu):
    assert pr.lire_date(texte, "Date de naissance") == attendu


@pytest.mark.parametrize(("texte", "message"), [
    ("31/02/2025", "Date de naissance : le 31/02/2025 n’existe pas (février 2025 compte 28 jours)."),
    ("29/02/2025", "n’existe pas (février 2025 compte 28 jours)"), ("31/04/2026", "avril 2026 compte 30 jours"),
    ("12/13/2000", "le mois doit aller de 01 à 12"), ("14/06/86", "format JJ/MM/AAAA"), ("abc", "format JJ/MM/AAAA"),
    ("04/12/2026", "postérieur au 03/12/2026"), ("31/12/1899", "antérieur au 01/01/1900"),
])
def test_lire_date_refuse_sans_corriger_et_nomme_le_champ(texte, message):
    with pytest.raises(pr.DateInvalide) as exc:
        pr.lire_date(texte, "Date de naissance", minimum=date(1900, 1, 1), maximum=date(2026, 12, 3))
    assert message in str(exc.value) and str(exc.value).startswith("Date de naissance : ")


def test_badge_a_verifier_seulement_pour_les_sources_de_seconde_main():
    m = moteur()
    assert pr.verification_affichee(m, "stiell_ottawa_1992_1993", "secondaire") == ("règle validée", False)
    assert pr.verification_affichee(m, "keele_start_back", "primaire") == ("source primaire", False)
    assert pr.verification_affichee(m, "macsf_competences_kine_protocoles", "secondaire") == ("à vérifier", True)
    validees = {s.id for s in m.registre.sources.values() if s.validation}
    assert validees == {"stiell_ottawa_1992_1993", "bruyere_2013_sbst_fr"}


def test_carte_radiographie_dit_les_criteres_d_ottawa_positifs_et_sa_source():
    m = moteur()
    cas = cas_base("entorse_cheville")
    cas["reponses"] |= {"ottawa_douleur_malleolaire": True, "ottawa_malleole_laterale": True}
    r = m.evaluer(cas)
    assert r["radiographie"] == "cheville"
    c = pr.carte(m, r, cas["reponses"])
    libelles = {q.id: q.libelle.rstrip(" ?") for q in m.protocoles["entorse_cheville"].modele.questions}
    assert c.radiographie_raisons == [libelles["ottawa_douleur_malleolaire"], libelles["ottawa_malleole_laterale"]]
    assert c.radiographie_source is not None and c.radiographie_source.source_id == "stiell_ottawa_1992_1993"
    assert not c.radiographie_source.a_verifier
    assert pr.carte(m, r).radiographie_raisons == []  # without the answers: the indication, no reason list


def test_etats_en_liste_memes_numeros_que_le_diagramme():
    m = moteur()
    for pid in m.protocoles:
        vues = pr.etats(m, pid)
        numeros = sorted(s.numero for e in vues for s in e.sorties)
        assert numeros == list(range(1, len(m.protocoles[pid].modele.transitions) + 1))
        dot = pr.diagramme_dot(m, pid)
        for e in vues:
            for s in e.sorties:
                assert f'label="{s.numero}. ' in dot
        assert any(e.urgent for e in vues) and all(e.orientation for e in vues if e.final and e.urgent)


def test_un_critere_dont_la_question_est_sans_reponse_n_est_jamais_non_rempli(m):
    """Issue #29: the ankle's « traumatisme en torsion » row reads its question; unanswered (a draft, just after
    choosing the protocol) it is unknown, not failed — the card does not list it, while a criterion the kiné did
    answer still is; answered « non », it is listed."""
    cas = cas_base(CHEVILLE, consentement__partage_dmp=False)
    del cas["reponses"]["mecanisme_torsion"]
    r = m.evaluer(cas)
    assert [x["id"] for x in r["criteres_non_remplis"]] == ["partage_dmp"]
    assert "pas de traumatisme en torsion" not in [x.libelle for x in pr.carte(m, r).criteres_non_remplis]
    cas["reponses"]["mecanisme_torsion"] = False
    assert "mecanisme_torsion" in [x["id"] for x in m.evaluer(cas)["criteres_non_remplis"]]
