"""What the patient declared on the tablet, shown in the kiné's walk (issue #30): the pain score, and the protocol's
questions they answered (STarT Back), each marked « déclaré par le patient » beside the kiné's own control. Nothing
is written into the triage until the kiné taps « Reprendre les réponses du patient »: an unanswered question stays
unanswered, and a red-flag question is never among them (the questionnaire does not ask any)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from triage_app import presentation as pr
from triage_app.services.autorisation import ServiceAutorise
from triage_app.services.mesures import Declarations
from triage_app.ui import etat

# + episode id: read once per visit of the triage (forgotten when a screen opens a page, or the tablet comes back)
_CACHE = etat.CACHE_VISITE + "declarations_patient_"


def oublier() -> None:
    """The tablet came back from the patient: the walk reads the declarations again."""
    for cle in [c for c in st.session_state if str(c).startswith(_CACHE)]:
        del st.session_state[cle]


def lire(depot: ServiceAutorise, episode_id: str) -> Declarations:
    cle = _CACHE + episode_id
    if not isinstance(st.session_state.get(cle), Declarations):
        st.session_state[cle] = depot.mesures.declarations(episode_id)
    return st.session_state[cle]


def bandeau(d: Declarations) -> None:
    """Above the walk: what the patient declared, and where it waits for confirmation."""
    if d.vide:
        return
    morceaux = []
    morceaux += [f"{libelle.lower()} {score}" for libelle, score in d.scores.items()]
    if d.reponses:
        morceaux.append(f"{len(d.reponses)} réponse(s) au questionnaire STarT Back, à confirmer dans son groupe")
    quand = f" le {pr.date_fr(d.jour)}" if d.jour else ""
    st.info(f"**Déclaré par le patient**{quand} : " + " ; ".join(morceaux) + ".", icon=":material/tablet:")


def dans_le_groupe(tid: str, d: Declarations, questions: list[Any], reponses: dict[str, Any]) -> None:
    """In an open group: the button that takes the patient's answers for the questions still unanswered."""
    a_reprendre = {q.id: d.reponses[q.id] for q in questions if q.id in d.reponses and q.id not in reponses}
    if a_reprendre:
        st.button(f"Reprendre les réponses du patient ({len(a_reprendre)})", key=f"reprendre_patient_{tid}",
                  on_click=_reprendre, args=(tid, a_reprendre), icon=":material/tablet:", width="stretch")


def mention(d: Declarations, question_id: str) -> None:
    """Under a question the patient answered: their answer, marked as theirs."""
    if question_id in d.libelles:
        st.caption(f"Déclaré par le patient : {d.libelles[question_id]}")


@etat.rappel
def _reprendre(tid: str, a_reprendre: dict[str, Any]) -> None:
    """Written by the service only where no answer exists in the database at write time (like « Aucun de ces
    signes »): an answer the kiné gave meanwhile is never replaced."""
    depot = etat.depot()
    depot.triages.completer_reponses(tid, a_reprendre, acteur=etat.acteur())
    for q, valeur in depot.triages.charger(tid).cas["reponses"].items():
        if q in a_reprendre and st.session_state.get(f"q_{q}") is None:
            st.session_state[f"q_{q}"] = ("oui" if valeur else "non") if isinstance(valeur, bool) else valeur
