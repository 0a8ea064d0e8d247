"""One ``transitions.Machine`` per protocol, built once from the validated model.

The machine's states are the protocol's stages and outcomes; its transitions are the YAML's,
in order (the first whose conditions hold fires), with conditions resolved by name from the
allow-list in :mod:`triage_app.engine.predicats`. ``auto_transitions=False``: no shortcut
trigger can skip a stage. The machine has no bound model; each evaluation passes its own
:class:`~triage_app.engine.dossier.Dossier`, so evaluating never rebuilds anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import transitions.core
from transitions import Machine, State
from transitions.core import EventData

from triage_app.engine.dossier import Dossier, ProtocoleCompile
from triage_app.engine.predicats import FONCTIONS
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


def _noter_transition(t: Transition) -> Callable[[EventData], None]:
    def noter(ev: EventData) -> None:
        ev.model.trace.append({"etat": t.depuis, "question": None, "reponse": t.vers, "regle": t.id,
                               "source": t.source})

    return noter


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
        seuils={k: s.valeur for k, s in p.seuils.items()},
        etats={e.id: e for e in p.etats},
        machine=machine,
        evenements={etat: machine.events[nom] for etat, nom in declencheurs.items()},
        requises_toujours=tuple(q.id for q in p.questions if q.requis == "toujours"),
        defauts={q.id: q.defaut for q in p.questions if q.defaut is not None},
    )


class ImpasseProtocole(RuntimeError):
    """A walk stopped in a non-final state: a bug in a protocol that passed loading."""


def parcourir(d: Dossier, etapes: dict[str, Callable[[Dossier, Any], None]]) -> None:
    """Walk the machine from its initial state to an outcome, running each stage on the way."""
    p = d.p
    while True:
        etat = p.etats[d.state]
        etapes[etat.etape](d, etat)
        if etat.final:
            return
        if not p.evenements[d.state].trigger(d):
            raise ImpasseProtocole(f"aucune transition possible depuis « {d.state} »")


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
