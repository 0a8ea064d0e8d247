"""Per protocol: the machine's graph, its build-once property and its Mermaid export."""

from __future__ import annotations

import re

import pytest
from transitions import MachineError

from tests.conftest import cas_base
from triage_app.engine.dossier import Dossier
from triage_app.engine.etapes import ETAPES
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


# -- the precompiled exits and the machine agree ----------------------------------------------------------------------
def test_les_sorties_compilees_sont_celles_de_la_machine(pc):
    """Per state: the machine's transitions for the state's trigger, in its order, with the same conditions."""
    assert set(pc.sorties) == set(pc.evenements)
    for etat, evenement in pc.evenements.items():
        machine = [(t.dest, [(c.func.__name__, c.target) for c in t.conditions]) for t in evenement.transitions[etat]]
        compilees = [(s.transition.vers, [(f.__name__, True) for f in s.conditions]
                      + [(f.__name__, False) for f in s.sauf]) for s in pc.sorties[etat]]
        assert compilees == machine, etat


def _cas_de_test(m) -> list[dict]:
    """Generated cases, the worked examples and every scenario case (valid or not)."""
    import yaml

    from bench.commun import cas_generes
    from tests.conftest import CAS_REFERENCE, cas_reference
    from tests.scenarios.conftest import DOSSIER, _Chargeur, construire_cas

    cas = cas_generes(m, 3000) + [c for _, c, _ in cas_reference()]
    for fichier in sorted(DOSSIER.rglob("*.yaml")):
        cas += [construire_cas(sc) for sc in yaml.load(fichier.read_text(encoding="utf-8"), Loader=_Chargeur)]
    assert len(cas) > 3000 + len(list(CAS_REFERENCE.glob("*.case.json")))
    return cas


def test_le_parcours_compile_et_la_machine_donnent_le_meme_resultat(m, monkeypatch):
    """Walking the precompiled exits or triggering the transitions machine: the same states, trace and result."""
    import triage_app.engine.evaluation as evaluation
    from triage_app.engine.machine import parcourir, parcourir_machine
    from triage_app.errors import ErreurCas

    cas = _cas_de_test(m)
    resultats = {}
    for nom, parcours in (("compile", parcourir), ("machine", parcourir_machine)):
        monkeypatch.setattr(evaluation, "parcourir", parcours)
        sortie = []
        for c in cas:
            try:
                sortie.append(m.evaluer(c))
            except ErreurCas as exc:
                sortie.append(str(exc))
        resultats[nom] = sortie
    assert resultats["compile"] == resultats["machine"]
    etats = {r["trace"][-1]["etat"] for r in resultats["compile"] if isinstance(r, dict)}
    assert etats == {e.id for p in m.protocoles.values() for e in p.modele.etats if e.final}


def test_une_impasse_leve_la_meme_erreur_dans_les_deux_parcours(m, pc):
    """A protocol whose last exit is conditional (loading refuses it): both walks stop with the same error."""
    from triage_app.engine.machine import ImpasseProtocole, construire, parcourir, parcourir_machine

    modele = pc.modele.model_copy(update={"transitions": [
        t.model_copy(update={"conditions": ["critere_urgences"]}) if t.depuis == "decision" else t
        for t in pc.modele.transitions]})
    impasse = construire(modele, "essai")
    cas = m.valider(cas_base(pc.modele.id))
    messages = []
    for parcours in (parcourir, parcourir_machine):
        d = Dossier(cas, impasse, m.registre, FONCTIONS)
        with pytest.raises(ImpasseProtocole) as exc:
            parcours(d, {nom: e.fonction for nom, e in ETAPES.items()})
        messages.append((str(exc.value), d.state, d.trace))
    assert messages[0] == messages[1]
    assert messages[0][0] == "aucune transition possible depuis « decision »"
