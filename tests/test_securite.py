"""Safety properties of the triage over the red-flag answers of every protocol.

The red-flag questions are read FROM THE PROTOCOL MODEL (questions whose ``niveau`` is ``urgences``
or ``medecin_jour``); ``test_modele_contient_les_drapeaux_de_la_specification`` checks that the
model still has every id listed by rules.md §3.2 / §4.2, so deleting or downgrading a red flag
fails here. The expected result is computed by an independent oracle written from rules.md (§2,
§3.2, §3.3, §4.2–4.4, §7) and docs/format-des-cas.md; only the question → criterion mapping and the
``requis`` flags are taken from the model.

Orientation rank used by the monotonicity properties (0 = most urgent)::

    urgences (0) < medecin_jour (1) < null / incomplet (2) < sur_prescription, protocole,
    acces_direct, medecin_programme (3)

``null`` (an unanswered safety question) is placed just after the two referrals: it is not a
referral, but it is never a permission to treat either (docs/format-des-cas.md: « Une question de sécurité
sans réponse ne vaut pas “non” »), so going from any managed orientation to ``null`` is « less permissive »
and going from ``urgences`` / ``medecin_jour`` to ``null`` is « less urgent ». The four managed
orientations share one rank: among them the choice depends on the setting, never on red flags.

Settings (``CADRES``): MSP protocol-eligible, MSP with a prescription, cabinet, ESP (accès
direct), CPTS of a pilot département with ARS registration (accès direct), MSP not eligible with
the accès-direct cap used up. All at the consultation date of ``cas_base`` (2026-03-10).

Exhaustive where cheap (ankle: all 2^14 red-flag combinations in the eligible MSP, every urgences
subset × at most two medecin_jour « oui » in every setting, Ottawa negative and positive; back: every
subset of the 5 urgences × at most two medecin_jour « oui » in every setting), hypothesis otherwise
(arbitrary subsets, missing answers, ages, delays, Ottawa answers), derandomized. The whole file
runs in about 30 s (one evaluation ≈ 0.2–0.4 ms).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import cas_base
from triage_app.engine.evaluation import Moteur, moteur
from triage_app.errors import ErreurCas

LOMBALGIE = "lombalgie_aigue"
CHEVILLE = "entorse_cheville"
PROTOCOLES = (LOMBALGIE, CHEVILLE)
NIVEAUX = ("urgences", "medecin_jour")
GERES = frozenset({"sur_prescription", "protocole", "acces_direct", "medecin_programme"})
RANG: dict[str | None, int] = {"urgences": 0, "medecin_jour": 1, None: 2,
                               **dict.fromkeys(GERES, 3)}
ABSENTE = "<clé supprimée>"  # sentinel of the strategies: the answer's key is not in the case at all

# -- the specification (rules.md), written out on purpose: the model must contain all of it --------
SPEC_CRITERES: dict[str, dict[str, str]] = {
    LOMBALGIE: {
        **dict.fromkeys(("rf_troubles_sphincteriens", "rf_anesthesie_en_selle", "rf_deficit_moteur",
                         "rf_traumatisme_important", "rf_douleur_hyperalgique"), "urgences"),
        **dict.fromkeys(("rf_douleur_non_mecanique", "rf_perte_poids", "rf_antecedent_cancer", "rf_fievre",
                         "rf_alteration_etat_general", "rf_drogue_iv", "rf_corticotherapie_prolongee",
                         "rf_immunodepression", "rf_deformation_rachis", "rf_douleur_thoracique",
                         "rf_deficit_sensitif", "ex_irradiation_sous_genou", "ex_chirurgie_rachis",
                         "ex_rhumatisme_inflammatoire", "age_apparition", "doute_kine"), "medecin_jour"),
    },
    CHEVILLE: {
        **dict.fromkeys(("rf_deformation", "rf_deficit_vasculo_nerveux", "rf_polytraumatisme",
                         "rf_plaie_profonde"), "urgences"),
        **dict.fromkeys(("rf_plaie", "rf_appui_impossible_24h", "rf_risque_thromboembolique", "rf_anticoagulant",
                         "rf_grossesse", "rf_trouble_sensibilite", "rf_trouble_conscience", "rf_haute_energie",
                         "rf_entorses_recidivantes", "age_hors_18_55", "ottawa_positif", "doute_kine"),
                        "medecin_jour"),
    },
}
SPEC_CALCULES = {LOMBALGIE: {"age_apparition"}, CHEVILLE: {"age_hors_18_55", "ottawa_positif"}}
# rules.md §3.3 / §4.4 (bounds inclusive)
SPEC_AGE = {LOMBALGIE: (20, 55), CHEVILLE: (18, 55)}
# rules.md §4.3
OTTAWA_FENETRE_JOURS = 10
OTTAWA_NON_APPLICABLE = ("rf_grossesse", "rf_trouble_sensibilite", "rf_trouble_conscience")
OTTAWA_ZONES = {
    "cheville": ("ottawa_douleur_malleolaire",
                 ("ottawa_malleole_laterale", "ottawa_malleole_mediale", "ottawa_appui_4_pas_impossible")),
    "pied": ("ottawa_douleur_medio_pied",
             ("ottawa_base_5e_metatarsien", "ottawa_naviculaire", "ottawa_appui_4_pas_impossible")),
}
PLAFOND_ACCES_DIRECT = 8  # rules.md §1 / §3.5 (from 2023-08-22)


# -- red-flag questions and criteria, FROM THE MODEL ------------------------------------------------
M = moteur()


def _questions(pid: str, niveau: str) -> tuple[str, ...]:
    return tuple(q.id for q in M.protocoles[pid].modele.questions if q.niveau == niveau)


QUESTIONS_URGENCES = {pid: _questions(pid, "urgences") for pid in PROTOCOLES}
QUESTIONS_JOUR = {pid: _questions(pid, "medecin_jour") for pid in PROTOCOLES}
QUESTIONS_ALERTE = {pid: QUESTIONS_URGENCES[pid] + QUESTIONS_JOUR[pid] for pid in PROTOCOLES}
REQUISES = {pid: tuple(q.id for q in M.protocoles[pid].modele.questions if q.requis == "toujours")
            for pid in PROTOCOLES}
NIVEAU_CRITERE = {pid: {c.id: c.niveau for c in M.protocoles[pid].modele.criteres} for pid in PROTOCOLES}


# -- settings -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cadre:
    modifs: dict[str, Any]
    acces_direct: bool  # accès direct open in this setting at 2026-03-10 (rules.md §1)
    sans_drapeau: str   # orientation of the complete base case without any red flag


CADRES: dict[str, Cadre] = {
    "msp_eligible": Cadre({}, True, "protocole"),
    "msp_prescription": Cadre({"episode__prescription_medicale": True}, True, "sur_prescription"),
    "cabinet": Cadre({"cadre__structure": "cabinet"}, False, "medecin_programme"),
    "esp_acces_direct": Cadre({"cadre__structure": "esp"}, True, "acces_direct"),
    "cpts_acces_direct": Cadre({"cadre__structure": "cpts", "cadre__inscrit_experimentation_cpts": True,
                                "cadre__departement": "38"}, True, "acces_direct"),
    "msp_plafond": Cadre({"consentement__protocole": False, "episode__seances_realisees_episode": 8},
                         True, "medecin_programme"),
}
JOUR = date.fromisoformat(cas_base()["date_consultation"])
_BASES: dict[tuple[str, str], dict[str, Any]] = {}

OTTAWA_PROFILS = {
    "ottawa_negatif": {"ottawa_douleur_malleolaire": False, "ottawa_douleur_medio_pied": False},
    "ottawa_positif": {"ottawa_douleur_malleolaire": True, "ottawa_malleole_laterale": True,
                       "ottawa_malleole_mediale": False, "ottawa_appui_4_pas_impossible": False,
                       "ottawa_douleur_medio_pied": False},
}


def base(pid: str, cadre: str) -> dict[str, Any]:
    """The complete, no-red-flag base case of a setting (built once; never mutated)."""
    cle = (pid, cadre)
    if cle not in _BASES:
        _BASES[cle] = cas_base(pid, **CADRES[cadre].modifs)
    return _BASES[cle]


def cas(pid: str, cadre: str, reponses: dict[str, Any] | None = None, *, naissance: date | None = None,
        jours: int | None = None, antecedent: bool | None = None, sans: Iterable[str] = ()) -> dict[str, Any]:
    """A case of ``cadre`` with answers overridden (``ABSENTE`` or ``sans`` deletes the key)."""
    b = base(pid, cadre)
    c = {**b, "patient": dict(b["patient"]), "episode": dict(b["episode"]),
         "reponses": {**b["reponses"], **(reponses or {})}}
    if naissance is not None:
        c["patient"]["date_naissance"] = naissance.isoformat()
    if jours is not None:
        c["episode"]["date_debut"] = (JOUR - timedelta(days=jours)).isoformat()
    if antecedent is not None:
        c["episode"]["antecedent_lombalgie"] = antecedent
    for q in (*sans, *(k for k, v in c["reponses"].items() if v == ABSENTE)):
        c["reponses"].pop(q, None)
    return c


def avec_reponses(c: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``c`` with some answers changed (``ABSENTE`` deletes the key); everything else shared."""
    reponses = {**c["reponses"], **changes}
    return {**c, "reponses": {k: v for k, v in reponses.items() if v != ABSENTE}}


def naissance_pour(age: int) -> date:
    return JOUR.replace(year=JOUR.year - age)


# -- the oracle (rules.md) ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Attendu:
    declenches: dict[str, frozenset[str]]
    manquantes: frozenset[str]
    eligible: bool
    radiographie: bool
    orientation: str | None
    voie: str | None

    @property
    def tous(self) -> frozenset[str]:
        return self.declenches["urgences"] | self.declenches["medecin_jour"]

    @property
    def motifs(self) -> frozenset[str]:
        """The criteria listed among the motifs: those that fired and, rules.md §8.3, ``ottawa_positif``
        whenever an X-ray is indicated and the orientation is not protocole (it decides nothing)."""
        en_plus = {"ottawa_positif"} if self.radiographie and self.orientation != "protocole" else set()
        return self.tous | en_plus


def _age(naissance: date, jour: date) -> int:
    return jour.year - naissance.year - ((jour.month, jour.day) < (naissance.month, naissance.day))


def attendu(c: dict[str, Any], cadre: str) -> Attendu:
    """What rules.md says for this case (the setting tells whether accès direct is open)."""
    pid = c["protocole"]
    rep = {"doute_kine": False, **{k: v for k, v in c["reponses"].items() if v is not None}}
    oui = {k for k, v in rep.items() if v is True}
    jour = date.fromisoformat(c["date_consultation"])
    age = _age(date.fromisoformat(c["patient"]["date_naissance"]), jour)
    jours = (jour - date.fromisoformat(c["episode"]["date_debut"])).days
    cadre_c, cons, ep = c["cadre"], c["consentement"], c["episode"]
    amin, amax = SPEC_AGE[pid]
    eligible = (jour >= date(2020, 3, 8) and cadre_c["structure"] in ("msp", "centre_de_sante")
                and all(cadre_c.get(k, False) for k in ("protocole_autorise",
                                                        "medecin_delegant_est_medecin_traitant",
                                                        "medecin_joignable"))
                and cons.get("protocole", False) and cons.get("partage_dmp", False) and amin <= age <= amax)
    manquantes = {q for q in REQUISES[pid] if q not in rep}
    radiographie = False
    if pid == LOMBALGIE:
        eligible = eligible and jours < 28
        calcules = {"age_apparition": (age < 20 or age > 55) and not ep.get("antecedent_lombalgie", False)}
    else:
        eligible = eligible and rep.get("mecanisme_torsion") is True and 0 <= jours <= OTTAWA_FENETRE_JOURS
        if jours <= OTTAWA_FENETRE_JOURS and not oui & set(OTTAWA_NON_APPLICABLE):
            for douleur, signes in OTTAWA_ZONES.values():
                if douleur not in rep:
                    manquantes.add(douleur)
                elif rep[douleur] is True:
                    manquantes.update(s for s in signes if s not in rep)
                    radiographie |= any(rep.get(s) is True for s in signes)
        prescription = ep.get("prescription_medicale", False)
        calcules = {"age_hors_18_55": not amin <= age <= amax,
                    # §2 step 2, §4.2, §7.2: unless the orientation would otherwise be protocole
                    "ottawa_positif": radiographie and (not eligible or prescription)}
    declenches: dict[str, set[str]] = {n: set() for n in NIVEAUX}
    for cr in M.protocoles[pid].modele.criteres:
        if cr.niveau not in NIVEAUX:
            continue
        if cr.question is not None:
            vrai = cr.question in oui
        else:
            assert cr.id in calcules, f"critère calculé {cr.id} sans oracle dans test_securite.py"
            vrai = calcules[cr.id]
        if vrai:
            declenches[cr.niveau].add(cr.id)
    if declenches["urgences"]:
        orientation: str | None = "urgences"
    elif declenches["medecin_jour"]:
        orientation = "medecin_jour"
    elif manquantes:
        orientation = None
    elif ep.get("prescription_medicale", False):
        orientation = "sur_prescription"
    elif eligible:
        orientation = "protocole"
    elif CADRES[cadre].acces_direct:
        plafond = (not ep.get("diagnostic_medical_prealable", False)
                   and ep.get("seances_realisees_episode", 0) >= PLAFOND_ACCES_DIRECT)
        orientation = "medecin_programme" if plafond else "acces_direct"
    else:
        orientation = "medecin_programme"
    if orientation is None:
        voie = None
    elif orientation == "sur_prescription":
        voie = "ngap_prescription"
    elif eligible:
        voie = "forfait_protocole"
    elif orientation == "acces_direct":
        voie = "ngap_acces_direct"
    else:
        voie = "aucune"
    return Attendu({n: frozenset(s) for n, s in declenches.items()}, frozenset(manquantes), eligible,
                   radiographie, orientation, voie)


def decrire(c: dict[str, Any], cadre: str) -> str:
    rep = c["reponses"]
    oui = sorted(k for k, v in rep.items() if v is True)
    nulles = sorted(k for k, v in rep.items() if v is None)
    absentes = sorted(q for q in REQUISES[c["protocole"]] if q not in rep)
    return (f"{c['protocole']} / {cadre} / né le {c['patient']['date_naissance']} / début "
            f"{c['episode']['date_debut']} / antécédent {c['episode'].get('antecedent_lombalgie')} / "
            f"oui={oui} null={nulles} absentes={absentes}")


def controler(m: Moteur, c: dict[str, Any], cadre: str) -> tuple[str | None, list[str]]:
    """Evaluate and check properties 1, 2, 5 and 6 (and §7.4); return the orientation and the failures."""
    r = m.evaluer(c)
    a = attendu(c, cadre)
    o = r["orientation"]
    err: list[str] = []
    # statut / questions_manquantes (docs/format-des-cas.md)
    if r["statut"] != ("incomplet" if a.manquantes else "complet") or set(r["questions_manquantes"]) != a.manquantes:
        err.append(f"statut {r['statut']} manquantes {r['questions_manquantes']}, attendu {sorted(a.manquantes)}")
    # 1. any urgences criterion → urgences
    if a.declenches["urgences"] and o != "urgences":
        err.append(f"P1 urgences {sorted(a.declenches['urgences'])} → orientation {o}")
    # 2. any medecin_jour criterion and no urgences → medecin_jour
    if not a.declenches["urgences"] and a.declenches["medecin_jour"] and o != "medecin_jour":
        err.append(f"P2 medecin_jour {sorted(a.declenches['medecin_jour'])} → orientation {o}")
    # 5. motifs = every criterion that fired (and §8.3's Ottawa motif), nothing else
    ids = [mo["id"] for mo in r["motifs"] if mo["niveau"] in NIVEAUX]
    if len(ids) != len(set(ids)) or set(ids) != a.motifs:
        err.append(f"P5 motifs {ids}, attendu {sorted(a.motifs)}")
    if any(mo["niveau"] != NIVEAU_CRITERE[c["protocole"]].get(mo["id"], mo["niveau"]) for mo in r["motifs"]):
        err.append(f"P5 niveau de motif faux : {r['motifs']}")
    if o in NIVEAUX and any(mo["niveau"] not in NIVEAUX for mo in r["motifs"]):
        err.append(f"P5 motif d'orientation avec {o} : {[mo['id'] for mo in r['motifs']]}")
    # 6. incomplete never managed; eligible keeps forfait_protocole; null orientation → no billing
    if a.manquantes and o not in (*NIVEAUX, None):
        err.append(f"P6 cas incomplet orienté {o}")
    voie = r["facturation"]["voie"]
    if a.eligible and o in (*NIVEAUX, "protocole") and voie != "forfait_protocole":
        err.append(f"P6 éligible au protocole, orientation {o}, voie {voie}")
    if o is None and (voie is not None or r["facturation"]["lignes"] or r["seances"] is not None):
        err.append(f"§7.4 orientation null mais voie {voie}, lignes {r['facturation']['lignes']}, "
                   f"séances {r['seances']}")
    if o in NIVEAUX and r["seances"] is not None:
        err.append(f"§7.4 séances {r['seances']} pour {o}")
    # the whole decision order (rules.md §2), once the safety-specific checks above have spoken
    if (o, voie) != (a.orientation, a.voie):
        err.append(f"§2 orientation/voie {o}/{voie}, attendu {a.orientation}/{a.voie}")
    return o, [f"{decrire(c, cadre)} : {e}" for e in err]


def echouer_si(erreurs: list[tuple[int, str]], total: int) -> None:
    """Fail with the smallest counter-examples first (fewest « oui »)."""
    if erreurs:
        erreurs.sort()
        extrait = "\n".join(e for _, e in erreurs[:5])
        raise AssertionError(f"{len(erreurs)} cas faux sur {total} ; les plus petits :\n{extrait}")


def sous_ensembles(elements: tuple[str, ...], max_taille: int | None = None) -> Iterator[tuple[str, ...]]:
    n = len(elements) if max_taille is None else max_taille
    for k in range(n + 1):
        yield from itertools.combinations(elements, k)


def verifier_monotonie(resultats: dict[frozenset[str], str | None], questions: tuple[str, ...],
                       contexte: str) -> list[tuple[int, str]]:
    """Property 3 inside an enumerated family: adding one « oui » never lowers the urgency."""
    err = []
    for combo, o in resultats.items():
        for q in questions:
            plus = combo | {q}
            if q not in combo and plus in resultats and RANG[resultats[plus]] > RANG[o]:
                err.append((len(combo), f"{contexte} : {sorted(combo)} → {o}, + {q} → {resultats[plus]}"))
    return err


# ======================================================================================================
# The model carries the specification's red flags
# ======================================================================================================
@pytest.mark.parametrize("pid", PROTOCOLES)
def test_modele_contient_les_drapeaux_de_la_specification(m, pid):
    modele = m.protocoles[pid].modele
    criteres = {c.id: c for c in modele.criteres}
    questions = {q.id: q for q in modele.questions}
    for cid, niveau in SPEC_CRITERES[pid].items():
        assert cid in criteres, f"{pid} : le critère {cid} (rules.md) a disparu du modèle"
        cr = criteres[cid]
        assert cr.niveau == niveau, f"{pid} : {cid} est « {cr.niveau} », rules.md dit « {niveau} »"
        if cid in SPEC_CALCULES[pid]:
            assert cr.condition is not None and cr.question is None, f"{pid} : {cid} doit être calculé"
            continue
        assert cr.question == cid, f"{pid} : le critère {cid} lit la question {cr.question}"
        assert cid in questions, f"{pid} : la question {cid} a disparu"
        assert questions[cid].niveau == niveau and questions[cid].type == "booleen"
        if cid == "doute_kine":  # docs/format-des-cas.md: defaults to false
            assert questions[cid].requis == "facultatif" and questions[cid].defaut is False
        else:  # docs/format-des-cas.md: every rf_* / ex_* is a required safety question
            assert questions[cid].requis == "toujours", f"{pid} : {cid} doit être requis"
    # every red-flag question of the model fires a criterion of its own level (a « oui » is never lost)
    par_question = {c.question: c for c in modele.criteres if c.question is not None}
    for qid in QUESTIONS_ALERTE[pid]:
        assert qid in par_question and par_question[qid].niveau == questions[qid].niveau, qid
    # every rf_*/ex_* question is a required red flag; computed criteria are those of the specification
    for qid, q in questions.items():
        if qid.startswith(("rf_", "ex_")):
            assert q.niveau in NIVEAUX and q.requis == "toujours", qid
    assert {c.id for c in modele.criteres if c.condition is not None and c.niveau in NIVEAUX} \
        == SPEC_CALCULES[pid]
    if pid == CHEVILLE:
        assert questions["mecanisme_torsion"].requis == "toujours"
        o = modele.ottawa
        assert o is not None
        assert tuple(o.non_applicable_si) == OTTAWA_NON_APPLICABLE
        assert m.protocoles[pid].seuils[o.fenetre_jours] == OTTAWA_FENETRE_JOURS
        assert {z.id: (z.douleur, tuple(z.signes)) for z in o.zones} == OTTAWA_ZONES


def test_les_listes_derivees_du_modele_ne_sont_pas_vides():
    assert len(QUESTIONS_URGENCES[LOMBALGIE]) == 5 and len(QUESTIONS_JOUR[LOMBALGIE]) == 15
    assert len(QUESTIONS_URGENCES[CHEVILLE]) == 4 and len(QUESTIONS_JOUR[CHEVILLE]) == 10


@pytest.mark.parametrize("pid", PROTOCOLES)
@pytest.mark.parametrize("cadre", CADRES)
def test_cadre_sans_drapeau(m, pid, cadre):
    """The settings are what they claim: the complete base case gets the setting's orientation."""
    c = cas(pid, cadre)
    o, err = controler(m, c, cadre)
    assert not err, err
    assert o == CADRES[cadre].sans_drapeau


# ======================================================================================================
# Properties 1, 2, 3, 5, 6 — exhaustive families
# ======================================================================================================
def _exhaustif(m, pid, cadre, combos, autres=None, **profil) -> None:
    resultats: dict[frozenset[str], str | None] = {}
    erreurs: list[tuple[int, str]] = []
    for combo in combos:
        c = cas(pid, cadre, {**(autres or {}), **dict.fromkeys(combo, True)}, **profil)
        o, err = controler(m, c, cadre)
        resultats[frozenset(combo)] = o
        erreurs += [(len(combo), e) for e in err]
    erreurs += verifier_monotonie(resultats, QUESTIONS_ALERTE[pid], f"P3 {pid}/{cadre}")
    echouer_si(erreurs, len(resultats))


def _param_cheville(profils: Iterable[str]) -> list[Any]:
    return [pytest.param(cadre, profil, id=f"{cadre}-{profil}") for cadre in CADRES for profil in profils]


@pytest.mark.parametrize("cadre", ["msp_eligible"])
def test_cheville_toutes_les_combinaisons(m, cadre):
    """All 2^14 answers of the ankle's urgences + medecin_jour questions (Ottawa zones painless), in the
    protocol-eligible MSP: the setting where a missed red flag would let the kiné treat and bill."""
    qs = QUESTIONS_ALERTE[CHEVILLE]
    _exhaustif(m, CHEVILLE, cadre, sous_ensembles(qs), OTTAWA_PROFILS["ottawa_negatif"])


@pytest.mark.parametrize(("cadre", "profil"), _param_cheville(OTTAWA_PROFILS))
def test_cheville_urgences_et_paires(m, cadre, profil):
    """Every urgences subset × at most two medecin_jour « oui », Ottawa negative or positive."""
    combos = (u + j for u in sous_ensembles(QUESTIONS_URGENCES[CHEVILLE])
              for j in sous_ensembles(QUESTIONS_JOUR[CHEVILLE], 2))
    _exhaustif(m, CHEVILLE, cadre, combos, OTTAWA_PROFILS[profil])


@pytest.mark.parametrize("cadre", CADRES)
@pytest.mark.parametrize("age", [17, 56, 70])
def test_cheville_age_hors_18_55(m, cadre, age):
    """Computed criterion age_hors_18_55: every urgences subset × at most one medecin_jour « oui »."""
    combos = (u + j for u in sous_ensembles(QUESTIONS_URGENCES[CHEVILLE])
              for j in sous_ensembles(QUESTIONS_JOUR[CHEVILLE], 1))
    _exhaustif(m, CHEVILLE, cadre, combos, OTTAWA_PROFILS["ottawa_negatif"], naissance=naissance_pour(age))


@pytest.mark.parametrize("cadre", CADRES)
def test_lombalgie_urgences_et_paires(m, cadre):
    """Every subset of the 5 urgences × at most two medecin_jour « oui » (3 872 cases per setting)."""
    combos = (u + j for u in sous_ensembles(QUESTIONS_URGENCES[LOMBALGIE])
              for j in sous_ensembles(QUESTIONS_JOUR[LOMBALGIE], 2))
    _exhaustif(m, LOMBALGIE, cadre, combos)


@pytest.mark.parametrize("cadre", CADRES)
@pytest.mark.parametrize(("age", "antecedent"), [(19, False), (56, False), (19, True), (56, True), (20, False),
                                                 (55, False)])
def test_lombalgie_age_apparition(m, cadre, age, antecedent):
    """Computed criterion age_apparition (age < 20 or > 55 without antecedent_lombalgie), bounds included:
    at most one urgences × at most one medecin_jour « oui »."""
    combos = (u + j for u in sous_ensembles(QUESTIONS_URGENCES[LOMBALGIE], 1)
              for j in sous_ensembles(QUESTIONS_JOUR[LOMBALGIE], 1))
    _exhaustif(m, LOMBALGIE, cadre, combos, naissance=naissance_pour(age), antecedent=antecedent)


@pytest.mark.parametrize("cadre", ["msp_prescription", "cabinet", "esp_acces_direct", "cpts_acces_direct",
                                   "msp_plafond"])
@pytest.mark.parametrize("zone", ["cheville", "pied"])
def test_ottawa_positif_hors_protocole_medecin_jour(m, cadre, zone):
    """§2 step 2, §4.2, §7.2: Ottawa positive and no protocol route → medecin_jour, motif ottawa_positif.

    ``msp_prescription`` is protocol-eligible but has a prescription: §7.2 « with a prescription it is
    medecin_jour » (regression: the engine used to orient it sur_prescription, fixed in afe7239)."""
    douleur, signes = OTTAWA_ZONES[zone]
    autres = next(d for d, _ in OTTAWA_ZONES.values() if d != douleur)
    for signe in signes:
        c = cas(CHEVILLE, cadre, {douleur: True, **dict.fromkeys(signes, False), signe: True, autres: False})
        r = m.evaluer(c)
        assert (r["orientation"], [mo["id"] for mo in r["motifs"]]) == ("medecin_jour", ["ottawa_positif"]), \
            f"{cadre} {douleur} + {signe} : {r['orientation']} {r['motifs']}"


@pytest.mark.parametrize("pid", PROTOCOLES)
@pytest.mark.parametrize("cadre", CADRES)
def test_doute_kine_absent_vaut_non(m, pid, cadre):
    """docs/format-des-cas.md: doute_kine defaults to false (null or absent = no doubt); « oui » → medecin_jour."""
    ref = m.evaluer(cas(pid, cadre, {"doute_kine": False}))
    for variante in ({"doute_kine": None}, {"doute_kine": ABSENTE}):
        r = m.evaluer(cas(pid, cadre, variante))
        assert (r["statut"], r["orientation"], r["motifs"]) == (ref["statut"], ref["orientation"], ref["motifs"])
    r = m.evaluer(cas(pid, cadre, {"doute_kine": True}))
    assert r["orientation"] == "medecin_jour" and [mo["id"] for mo in r["motifs"]] == ["doute_kine"]


@pytest.mark.parametrize("pid", PROTOCOLES)
def test_drapeau_mal_orthographie_refuse(m, pid):
    """§7.13: a mistyped red flag never passes silently (whatever the answer)."""
    for q in QUESTIONS_ALERTE[pid]:
        for v in (True, False, None):
            with pytest.raises(ErreurCas):
                m.evaluer(cas(pid, "msp_eligible", {f"{q}s": v}))


# ======================================================================================================
# Property 4 — removing a required answer (exhaustive over required ids, a few base profiles)
# ======================================================================================================
def _profils_retrait(pid: str) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Base profiles (answers, case options) whose every required answer gets removed in turn."""
    out: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {"sans_drapeau": ({}, {})}
    out["urgences"] = ({QUESTIONS_URGENCES[pid][0]: True}, {})
    out["medecin_jour"] = ({QUESTIONS_JOUR[pid][0]: True}, {})
    out["urgences+jour"] = ({QUESTIONS_URGENCES[pid][-1]: True, QUESTIONS_JOUR[pid][-2]: True}, {})
    if pid == LOMBALGIE:
        out["age_apparition"] = ({}, {"naissance": naissance_pour(60), "antecedent": False})
    else:
        out["age_hors_18_55"] = ({}, {"naissance": naissance_pour(17)})
        out['ottawa_positif'] = (dict(OTTAWA_PROFILS['ottawa_positif']), {})
        out["grossesse"] = ({"rf_grossesse": True}, {})
    return out


def requises_du_cas(c: dict[str, Any], cadre: str) -> list[str]:
    """The answers of ``c`` that are required (rules.md §7.3, docs/format-des-cas.md): removing one makes it
    missing."""
    return sorted(q for q in c["reponses"] if q in attendu(avec_reponses(c, **{q: ABSENTE}), cadre).manquantes)


def retrait(m, c: dict[str, Any], cadre: str, q: str, mode: str) -> list[str]:
    """Property 4 for removing the answer ``q`` of ``c`` (``mode``: null or delete the key)."""
    avant = m.evaluer(c)
    valeur = c["reponses"][q]
    c_apres = avec_reponses(c, **{q: None if mode == "null" else ABSENTE})
    apres = m.evaluer(c_apres)
    o, err = apres["orientation"], []
    if apres["statut"] != "incomplet" or q not in apres["questions_manquantes"]:
        err.append(f"statut {apres['statut']}, manquantes {apres['questions_manquantes']}")
    if o not in (*NIVEAUX, None):
        err.append(f"orientation {o} pour un cas incomplet")
    if o is None and (apres["facturation"]["voie"] is not None or apres["facturation"]["lignes"]
                      or apres["seances"] is not None):
        err.append(f"orientation null mais voie {apres['facturation']['voie']} / séances {apres['seances']}")
    if valeur is False:
        if avant["orientation"] in NIVEAUX and o != avant["orientation"]:
            err.append(f"{avant['orientation']} devenu {o}")
        if RANG[o] > RANG[avant["orientation"]]:
            err.append(f"moins urgent : {avant['orientation']} → {o}")
        # The criteria that fired stay; only §8.3's Ottawa motif may appear, as the orientation leaves protocole.
        gardes = [mo for mo in avant["motifs"] if mo["niveau"] in NIVEAUX]
        nouveaux = [mo["id"] for mo in apres["motifs"] if mo not in gardes]
        if [mo for mo in apres["motifs"] if mo in gardes] != gardes or set(nouveaux) - (
                attendu(c_apres, cadre).motifs - attendu(c, cadre).motifs):
            err.append(f"motifs {avant['motifs']} → {apres['motifs']}")
    return [f"P4 {decrire(c, cadre)} ; retrait ({mode}) de {q}={valeur} : {e}" for e in err]


@pytest.mark.parametrize("pid", PROTOCOLES)
@pytest.mark.parametrize("cadre", CADRES)
def test_retrait_d_une_reponse_requise(m, pid, cadre):
    erreurs: list[tuple[int, str]] = []
    total = 0
    for nom, (reponses, options) in _profils_retrait(pid).items():
        c = cas(pid, cadre, reponses, **options)
        assert not attendu(c, cadre).manquantes, nom
        requises = requises_du_cas(c, cadre)
        assert set(REQUISES[pid]) <= set(requises), nom
        for q in requises:
            for mode in ("null", "supprimer"):
                total += 1
                erreurs += [(0, e) for e in retrait(m, c, cadre, q, mode)]
    echouer_si(erreurs, total)


# ======================================================================================================
# Hypothesis: arbitrary subsets, missing answers, ages, delays, Ottawa answers
# ======================================================================================================
NAISSANCES_BORNES = [JOUR.replace(year=JOUR.year - n) + timedelta(days=d)
                     for n in (17, 18, 19, 20, 21, 46, 55, 56) for d in (0, 1)]
PROFIL_HYP = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cas_aleatoires(draw, pid: str, cadre: str, ottawa: str = "libre", complet: bool = False) -> dict[str, Any]:
    """A case of ``cadre`` with any red-flag subset, optional missing answers, any age and delay."""
    qs = QUESTIONS_ALERTE[pid]
    oui = draw(st.sets(st.sampled_from(qs), max_size=5))
    reponses: dict[str, Any] = dict.fromkeys(qs, False) | dict.fromkeys(oui, True)
    if pid == CHEVILLE:
        reponses["mecanisme_torsion"] = draw(st.booleans().map(lambda b: not b))
        ott = {q for d, s in OTTAWA_ZONES.values() for q in (d, *s)}
        if ottawa == "libre":
            valeurs = st.booleans() if complet else st.sampled_from((False, True, None, ABSENTE))
            reponses |= {q: draw(valeurs) for q in sorted(ott)}
        elif ottawa == "negatif":
            reponses |= OTTAWA_PROFILS["ottawa_negatif"]
        else:
            reponses |= OTTAWA_PROFILS["ottawa_positif"] | {
                q: draw(st.booleans()) for q in sorted(ott - set(OTTAWA_PROFILS["ottawa_positif"]))}
    if not complet:
        candidates = sorted(set(REQUISES[pid]) | {"doute_kine"})
        for q in draw(st.sets(st.sampled_from(candidates), max_size=4)):
            reponses[q] = draw(st.sampled_from((None, ABSENTE)))
    naissance = draw(st.one_of(st.sampled_from(NAISSANCES_BORNES),
                               st.dates(date(1936, 1, 1), JOUR - timedelta(days=1))))
    jours_max = 27 if complet and pid == LOMBALGIE else 120
    jours = draw(st.one_of(st.sampled_from((9, 0, 10, 11, 27, 28)), st.integers(0, jours_max)))
    if complet and pid == CHEVILLE:
        jours = min(jours, OTTAWA_FENETRE_JOURS + 20)
    return cas(pid, cadre, reponses, naissance=naissance, jours=jours, antecedent=draw(st.booleans()))


def _param_hyp() -> list[Any]:
    out = [pytest.param(LOMBALGIE, cadre, "libre", id=f"{LOMBALGIE}-{cadre}") for cadre in CADRES]
    out += [pytest.param(CHEVILLE, cadre, ottawa, id=f"{CHEVILLE}-{cadre}-{ottawa}")
            for cadre in CADRES for ottawa in ("negatif", "positif", "libre")]
    return out


@pytest.mark.parametrize(("pid", "cadre", "ottawa"), _param_hyp())
def test_hypothesis_proprietes_1_2_5_6(m, pid, cadre, ottawa):
    @PROFIL_HYP
    @given(c=cas_aleatoires(pid, cadre, ottawa))
    def propriete(c):
        _, err = controler(m, c, cadre)
        assert not err, "\n".join(err)

    propriete()


@pytest.mark.parametrize("pid", PROTOCOLES)
@pytest.mark.parametrize("cadre", CADRES)
def test_hypothesis_monotonie(m, pid, cadre):
    """Property 3: one more « oui » (replacing no, null or an absent key) never lowers the urgency."""
    @PROFIL_HYP
    @given(c=cas_aleatoires(pid, cadre), data=st.data())
    def propriete(c, data):
        q = data.draw(st.sampled_from(QUESTIONS_ALERTE[pid]), label="nouveau_oui")
        if c["reponses"].get(q) is True:
            return
        avant = m.evaluer(c)["orientation"]
        plus = avec_reponses(c, **{q: True})
        apres = m.evaluer(plus)["orientation"]
        assert RANG[apres] <= RANG[avant], f"{decrire(c, cadre)} : {avant}, + {q} → {apres}"
        assert apres in NIVEAUX, f"{decrire(plus, cadre)} → {apres}"
        if q in QUESTIONS_URGENCES[pid]:
            assert apres == "urgences"

    propriete()


@pytest.mark.parametrize("pid", PROTOCOLES)
@pytest.mark.parametrize("cadre", CADRES)
def test_hypothesis_retrait(m, pid, cadre):
    """Property 4 from arbitrary complete cases: remove any required answer (null or key deleted)."""
    @PROFIL_HYP
    @given(c=cas_aleatoires(pid, cadre, complet=True), data=st.data())
    def propriete(c, data):
        a = attendu(c, cadre)
        if a.manquantes:  # e.g. a painful Ottawa zone whose signs were not drawn: not a complete case
            return
        q = data.draw(st.sampled_from(requises_du_cas(c, cadre)), label="retire")
        mode = data.draw(st.sampled_from(("null", "supprimer")), label="mode")
        err = retrait(m, c, cadre, q, mode)
        assert not err, "\n".join(err)

    propriete()
