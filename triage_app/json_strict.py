"""JSON read strictly, as the YAML reader is: a key given twice in one object is refused (the last one would
silently win: « "rf_troubles_sphincteriens": true, "rf_troubles_sphincteriens": false » gave a permissive
result); every error is in French, with its line and column."""

from __future__ import annotations

import json
from typing import Any

_MESSAGES = {
    "Expecting value": "valeur attendue",
    "Expecting property name enclosed in double quotes": "nom de champ entre guillemets doubles attendu",
    "Expecting ':' delimiter": "« : » attendu",
    "Expecting ',' delimiter": "« , » attendu",
    "Unterminated string starting at": "texte entre guillemets non terminé",
    "Invalid control character at": "caractère de contrôle dans un texte",
    "Extra data": "données en trop après la fin du JSON",
    "Invalid \\escape": "séquence d'échappement invalide",
    "Invalid \\uXXXX escape": "séquence \\uXXXX invalide",
}


class JsonInvalide(ValueError):
    """The text is not strict JSON; ``message`` says why in French (with line and column when known)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Doublon(ValueError):
    def __init__(self, cle: str) -> None:
        super().__init__(cle)
        self.cle = cle


def _sans_doublon(paires: list[tuple[str, Any]]) -> dict[str, Any]:
    objet: dict[str, Any] = {}
    for cle, valeur in paires:
        if cle in objet:
            raise _Doublon(cle)
        objet[cle] = valeur
    return objet


def charger(texte: str | bytes) -> Any:
    """The JSON value of ``texte``; :class:`JsonInvalide` (French) for a syntax error, a duplicate key, a nesting
    too deep or a number out of range. (``NaN`` and ``Infinity`` are read, and refused by the case model, which
    names the field.)"""
    try:
        return json.loads(texte, object_pairs_hook=_sans_doublon)
    except _Doublon as exc:
        raise JsonInvalide(f"JSON refusé : le champ « {exc.cle} » apparaît deux fois dans le même objet "
                           "(la dernière valeur l'emporterait sans rien dire)") from None
    except json.JSONDecodeError as exc:
        francais = _MESSAGES.get(exc.msg, "syntaxe JSON invalide")
        raise JsonInvalide(f"JSON illisible (ligne {exc.lineno}, colonne {exc.colno}) : {francais}") from None
    except UnicodeDecodeError:
        raise JsonInvalide("JSON illisible : le texte n'est pas en UTF-8") from None
    except RecursionError:
        raise JsonInvalide("JSON trop imbriqué (profondeur excessive)") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise JsonInvalide(f"JSON illisible : nombre ou valeur hors limites ({type(exc).__name__})") from None
