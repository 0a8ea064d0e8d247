"""One ``transitions.Machine`` per protocol, built once from the validated model.

The machine's states are the protocol's stages and outcomes; its transitions are the YAML's,
in order (the first whose conditions hold fires), with conditions resolved by name from the
allow-list in :mod:`triage_app.engine.predicats`. ``auto_transitions=False``: no shortcut
trigger can skip a stage. The machine has no bound model; each evaluation passes its own
:class:`~triage_app.engine.dossier.Dossier`, so evaluating never rebuilds anything.

The machine is the declared structure (diagrams, checks). Evaluation walks a table compiled once
from the same transitions (:func:`sorties`): per state, its exits in the machine's order, each with
its condition and ``unless`` functions. Firing an exit does what the machine's trigger does (the
first exit whose conditions all hold and none of whose ``unless`` holds; the same trace entry) without
transitions' per-trigger machinery, which cost more than the stages themselves (``bench/lot.py``).
:func:`parcourir_machine` walks the machine itself; a test checks both walks agree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import transitions.core
from transitions import Machine, State
from transitions.core import EventData

from triage_app.engine.dossier import CritereCompile, Dossier, EtatCompile, ProtocoleCompile, RegleCompilee, Sortie
from triage_app.engine.predicats import FONCTIONS, PREDICATS
from triage_app.models.protocol import Protocole, Transition


class _JournalAllege(logging.LoggerAdapter):  # type: ignore[type-arg]
    """transitions' logger with DEBUG and INFO calls reduced to nothing (warnings and errors pass through)."""

    def debug(self, *args: Any, **kwargs: Any) -> None:
        return None

    def info(self, *args: Any, **kwargs: Any) -> None:
        return None


def _alleger_journal_transitions() -> None:
    """Make transitions' DEBUG and INFO logging free when they are off.

    transitions calls ``_LOGGER.debug`` or ``.info`` about fourteen times per trigger; even when
    those levels are off, the calls cost about a quarter of the evaluation budget (measured with
    ``bench/engine.py``). When INFO is enabled for ``transitions`` at build time, nothing is changed.
    """
    journal = logging.getLogger("transitions.core")
    if not journal.isEnabledFor(logging.INFO) and not isinstance(transitions.core._LOGGER, _JournalAllege):
        transitions.core._LOGGER = _JournalAllege(journal, {})


def _condition(nom: str) -> Callable[[EventData], bool]:
    fonction = FONCTIONS[nom]

    def condition(ev: EventData) -> bool:
        return fonction(ev.model)

    condition.__name__ = nom
    return condition


def _entree_trace(t: Transition) -> dict[str, Any]:
    """The trace entry of a transition that fired."""
    return {"etat": t.depuis, "question": None, "reponse": t.vers, "regle": t.id, "source": t.source}


def _noter_transition(t: Transition) -> Callable[[EventData], None]:
    def noter(ev: EventData) -> None:
        ev.model.trace.append(_entree_trace(t))

    return noter


def sorties(p: Protocole) -> dict[str, tuple[Sortie, ...]]:
    """Per non-final state, its exits in the order the machine tries them.

    The machine tries, for the state's trigger, that trigger's transitions from the state in the YAML's order
    (loading checks every state has one trigger); conditions are the allow-list's functions, by name.
    """
    declencheurs = {t.depuis: t.declencheur for t in p.transitions}
    table: dict[str, list[Sortie]] = {}
    for t in p.transitions:
        if t.declencheur == declencheurs[t.depuis]:
            table.setdefault(t.depuis, []).append(Sortie(t, tuple(FONCTIONS[c] for c in t.conditions),
                                                         tuple(FONCTIONS[c] for c in t.sauf), t.vers,
                                                         _entree_trace(t)))
    return {etat: tuple(liste) for etat, liste in table.items()}


def configuration(p: Protocole, executable: bool = True) -> dict[str, Any]:
    """The machine's configuration (pytransitions' dict form) from the protocol model.

    With ``executable=False`` conditions stay names (for diagrams and markup, never triggered).
    """
    transitions = []
    for t in p.transitions:
        cfg: dict[str, Any] = {"trigger": t.declencheur, "source": t.depuis, "dest": t.vers}
        if executable:
            cfg["conditions"] = [_condition(c) for c in t.conditions]
            cfg["unless"] = [_condition(c) for c in t.sauf]
            cfg["after"] = [_noter_transition(t)]
        else:
            cfg["conditions"] = list(t.conditions)
            cfg["unless"] = list(t.sauf)
        transitions.append(cfg)
    return {
        "states": [State(e.id, final=e.final) for e in p.etats],
        "transitions": transitions,
        "initial": p.etat_initial,
        "auto_transitions": False,
    }


def construire(p: Protocole, empreinte: str) -> ProtocoleCompile:
    """Build the protocol's machine and look-up tables (once per process)."""
    _alleger_journal_transitions()
    machine = Machine(model=None, send_event=True, **configuration(p))
    criteres: dict[str, list[Any]] = {}
    for c in p.criteres:
        criteres.setdefault(c.niveau, []).append(c)
    declencheurs = {t.depuis: t.declencheur for t in p.transitions}
    return ProtocoleCompile(
        modele=p,
        empreinte=empreinte,
        questions={q.id: q for q in p.questions},
        criteres={k: tuple(v) for k, v in criteres.items()},
        table_criteres={k: tuple(CritereCompile(c, c.id, c.question, c.condition, c.source) for c in v)
                        for k, v in criteres.items()},
        table_eligibilite=tuple(RegleCompilee(r, r.id, r.source, FONCTIONS[r.condition],
                                              PREDICATS[r.condition].questions) for r in p.eligibilite),
        etats_compiles={e.id: EtatCompile(e, e.etape, e.final) for e in p.etats},
        items_score=tuple((i.question, tuple(i.points_si)) for i in p.score_chronicite.items)
        if p.score_chronicite is not None else (),
        seuils={k: s.valeur for k, s in p.seuils.items()},
        etats={e.id: e for e in p.etats},
        machine=machine,
        evenements={etat: machine.events[nom] for etat, nom in declencheurs.items()},
        sorties=sorties(p),
        requises_toujours=tuple(q.id for q in p.questions if q.requis == "toujours"),
        defauts={q.id: q.defaut for q in p.questions if q.defaut is not None},
        reponses_permises=frozenset((q.id, type(v), v) for q in p.questions
                                    for v in (None, *((True, False) if q.type == "booleen" else
                                                      (c.valeur for c in q.choix)))),
    )


class ImpasseProtocole(RuntimeError):
    """A walk stopped in a non-final state: a bug in a protocol that passed loading."""


def _impasse(etat: str) -> ImpasseProtocole:
    return ImpasseProtocole(f"aucune transition possible depuis « {etat} »")


def parcourir(d: Dossier, etapes: dict[str, Callable[[Dossier, Any], None]]) -> None:
    """Walk the protocol from its initial state to an outcome, running each stage on the way.

    At each state, the first exit whose conditions all hold and none of whose ``unless`` holds fires, in the
    machine's order, as the machine's trigger would (:func:`parcourir_machine`).
    """
    p = d.p
    while True:
        etat = p.etats_compiles[d.state]
        etapes[etat.etape](d, etat.modele)
        if etat.final:
            return
        for sortie in p.sorties[d.state]:
            if sortie.ouverte(d):
                d.state = sortie.vers
                d.trace.append(sortie.entree.copy())
                break
        else:
            raise _impasse(d.state)


def parcourir_machine(d: Dossier, etapes: dict[str, Callable[[Dossier, Any], None]]) -> None:
    """The same walk through the ``transitions`` machine's triggers (the reference :func:`parcourir` agrees with)."""
    p = d.p
    while True:
        etat = p.etats[d.state]
        etapes[etat.etape](d, etat)
        if etat.final:
            return
        if not p.evenements[d.state].trigger(d):
            raise _impasse(d.state)


def diagramme_mermaid(p: Protocole) -> str:
    """The protocol's machine as Mermaid text (pytransitions' mermaid engine: no Graphviz)."""
    from transitions.extensions import GraphMachine

    class _Modele:
        pass

    modele = _Modele()
    GraphMachine(model=modele, graph_engine="mermaid", title=f"{p.titre} ({p.version})",
                 show_conditions=True, **configuration(p, executable=False))
    graphe: Any = modele.get_graph()  # type: ignore[attr-defined]
    return str(graphe.draw(None))
