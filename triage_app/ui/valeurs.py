"""What the browser sends for a widget has the widget's type (issue #28).

A client may speak Streamlit's protocol directly and send a number, bytes or a list where the page has a text field.
Streamlit then takes the value's type from the message, not from the widget, and fails with its English error page
(or hands the page a number as a name). Before any callback or page code runs, a value whose kind is not the one
the widget was drawn with is left out: the field keeps its previous value, as if nothing had been sent.
"""

from __future__ import annotations

from typing import Any

from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.runtime.state import session_state

# The kinds of a tap (button, form submit…): one may stand for another.
_DECLENCHEURS = frozenset({"trigger_value", "string_trigger_value", "json_trigger_value", "chat_input_value"})


def _conforme(genre_attendu: str | None, genre_recu: str | None) -> bool:
    if genre_attendu is None or genre_recu is None or genre_attendu == genre_recu:
        return True
    return genre_attendu in _DECLENCHEURS and genre_recu in _DECLENCHEURS


def _filtrer(appliquer: Any) -> Any:
    def set_widgets_from_proto(self: Any, widget_states: WidgetStates) -> None:
        connus = self._new_widget_state.widget_metadata
        gardes = WidgetStates()
        for etat in widget_states.widgets:
            meta = connus.get(etat.id)
            if meta is None or _conforme(meta.value_type, etat.WhichOneof("value")):
                gardes.widgets.append(etat)
        appliquer(self, gardes)

    set_widgets_from_proto.types_verifies = True  # type: ignore[attr-defined]
    return set_widgets_from_proto


def installer() -> None:
    """Once per process, before the first run."""
    classe = session_state.SessionState
    if not getattr(classe.set_widgets_from_proto, "types_verifies", False):
        classe.set_widgets_from_proto = _filtrer(classe.set_widgets_from_proto)  # type: ignore[method-assign]


def texte(valeur: Any, defaut: str = "") -> str:
    """A value from a page component as text: anything else is no value (``defaut``), never its Python text."""
    return valeur if isinstance(valeur, str) else defaut
