"""Per protocol: the machine's graph, its build-once property and its Mermaid export."""

from __future__ import annotations

import re

import pytest
from transitions import MachineError

from tests.conftest import cas_base
from triage_app.engine.dossier import Dossier
from triage_app.engine.machine import diagramme_mermaid
from triage_app.engine.predicats import FONCTIONS

PROTOCOLES = ["lombalgie_aigue", "entorse_cheville"]


@pytest.fixture(params=PROTOCOLES)
def pc(request, m):
    return m.protocoles[request.param]


def test_les_deux_protocoles_sont_charges(m):
    assert sorted(m.protocoles) == sorted(PROTOCOLES)


def test_pas_de_transitions_automatiques(pc):
    """auto_transitions=False: no « to_<state> » trigger can skip the red flags."""
    assert not [nom for nom in pc.machine.events if nom.startswith("to_")]
    assert set(pc.machine.events) == {t.declencheur for t in pc.modele.transitions}


def test_chaque_etat_est_atteignable_et_chaque_chemin_finit_sur_une_issue(pc):
    sorties: dict[str, list[str]] = {}
    for t in pc.modele.transitions:
        sorties.setdefault(t.depuis, []).append(t.vers)
    atteints, pile = {pc.modele.etat_initial}, [pc.modele.etat_initial]
    while pile:
        for suivant in sorties.get(pile.pop(), []):
            if suivant not in atteints:
                atteints.add(suivant)
                pile.append(suivant)
    assert atteints == set(pc.etats)
    for etat in pc.modele.etats:
        if etat.final:
            assert etat.id not in sorties, f"un état final a une sortie : {etat.id}"
        else:
            assert sorties.get(etat.id), f"impasse : {etat.id}"
            derniere = [t for t in pc.modele.transitions if t.depuis == etat.id][-1]
            assert not derniere.conditions and not derniere.sauf, f"la dernière sortie de {etat.id} est conditionnelle"


def test_les_urgences_sont_decidees_avant_toute_orientation_kine(pc):
    decision = [t for t in pc.modele.transitions if t.depuis == "decision"]
    ordre = [t.vers for t in decision]
    assert ordre[:3] == ["urgences", "medecin_jour", "incomplet"]
    orientations = [pc.etats[v].orientation for v in ordre]
    assert orientations.index("urgences") < orientations.index("medecin_jour") < orientations.index("protocole")


def test_chaque_issue_est_atteinte_par_un_cas(m, pc):
    """Every outcome of the machine is reached by some case (no decorative state)."""
    pid = pc.modele.id
    rf_urg = next(c.question for c in pc.modele.criteres if c.niveau == "urgences")
    rf_jour = next(c.question for c in pc.modele.criteres if c.niveau == "medecin_jour" and c.question)
    cas = {
        "urgences": cas_base(pid, **{f"reponses__{rf_urg}": True}),
        "medecin_jour": cas_base(pid, **{f"reponses__{rf_jour}": True}),
        "incomplet": cas_base(pid, **{f"reponses__{rf_jour}": None}),
        "sur_prescription": cas_base(pid, episode__prescription_medicale=True),
        "protocole": cas_base(pid),
        "acces_direct": cas_base(pid, cadre__structure="esp"),
        "medecin_programme_plafond": cas_base(pid, cadre__structure="esp", episode__seances_realisees_episode=8),
        "medecin_programme": cas_base(pid, cadre__structure="cabinet"),
    }
    atteints = set()
    for attendu, c in cas.items():
        r = m.evaluer(c)
        etats = [t["etat"] for t in r["trace"]]
        final = r["trace"][-1]["etat"]
        assert final == attendu, (attendu, etats)
        atteints.add(final)
    assert atteints == {e.id for e in pc.modele.etats if e.final}


def test_la_trace_suit_les_etapes_du_yaml_et_chaque_question(m, pc):
    r = m.evaluer(cas_base(pc.modele.id))
    etats_vus = list(dict.fromkeys(t["etat"] for t in r["trace"]))
    etapes = [e.id for e in pc.modele.etats if not e.final]
    assert etats_vus[: len(etapes)] == etapes
    questions_tracees = {t["question"] for t in r["trace"] if t["question"]}
    requises = {q.id for q in pc.modele.questions if q.requis == "toujours" and q.niveau != "eligibilite"}
    assert requises <= questions_tracees
    regles = [t["regle"] for t in r["trace"]]
    for t in pc.modele.transitions[:5]:
        assert t.id in regles


def test_la_machine_est_construite_une_fois(m, monkeypatch):
    """Evaluating never builds a Machine (the build costs far more than an evaluation)."""
    import transitions.core

    def interdit(*args, **kwargs):
        raise AssertionError("une Machine a été construite pendant une évaluation")

    monkeypatch.setattr(transitions.core.Machine, "__init__", interdit)
    for pid in PROTOCOLES:
        m.evaluer(cas_base(pid))


def test_un_declencheur_invalide_leve_une_erreur(pc, m):
    """Invalid triggers raise (never silently ignored): no trigger leaves a final state."""
    d = Dossier(m.valider(cas_base(pc.modele.id)), pc, m.registre, FONCTIONS)
    d.state = "protocole"
    with pytest.raises(MachineError):
        pc.machine.events["orienter"].trigger(d)


def test_export_mermaid_restitue_les_etats_et_les_transitions(pc):
    texte = diagramme_mermaid(pc.modele)
    assert texte.lstrip().startswith("---") and "stateDiagram-v2" in texte
    etats = set(re.findall(r'^\s*state "([^"]+)" as ', texte, flags=re.M))
    assert etats == {e.id for e in pc.modele.etats}
    fleches = re.findall(r"^\s*(\w+) --> (\w+)", texte, flags=re.M)
    assert {(a, b) for a, b in fleches if a != "[*]"} >= {(t.depuis, t.vers) for t in pc.modele.transitions}
    assert "critere_urgences" in texte
