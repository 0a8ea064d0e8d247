"""JSON read strictly, as the YAML reader is: a key given twice in one object is refused (the last one would
silently win: « "rf_troubles_sphincteriens": true, "rf_troubles_sphincteriens": false » gave a permissive
result); every error is in French, with its line and column.

Reading goes through orjson first (about three times faster than ``json``) and keeps its value only when it is
provably the strict reader's: orjson accepted the text (its grammar is RFC 8259's, which ``json`` accepts too,
with the same strings and integers), the value holds no float (orjson turns an integer beyond 64 bits into one;
``json`` keeps it exact), nothing is nested deeper than a case ever is, and no key can have been given twice: the
parsed objects hold as many keys as the text has « : » characters (each key of the text is followed by one outside
strings, so a key given twice leaves one key fewer). Otherwise (an orjson refusal, a float, a « : » inside a string,
a duplicate key) the strict reader reads the text again and gives today's value or today's French error.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

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


# Deeper values are read by the strict reader only (``json`` and orjson do not stop at the same depth).
PROFONDEUR_RAPIDE = 32


class _PasSur(Exception):
    """orjson's value may not be the strict reader's: read the text again, strictly."""


_A_VOIR = frozenset({dict, list, float})


def _nombre_de_cles(valeur: Any, reste: int) -> int:
    """Keys of every object in ``valeur`` (orjson's output: only ``dict`` and ``list`` hold other values);
    :class:`_PasSur` for a float or a nesting deeper than ``reste``."""
    if type(valeur) is dict:
        n = len(valeur)
        enfants: Any = valeur.values()
    elif type(valeur) is list:
        n = 0
        enfants = valeur
    elif type(valeur) is float:
        raise _PasSur
    else:
        return 0
    if reste == 0:
        raise _PasSur
    if _A_VOIR.isdisjoint(map(type, enfants)):  # only strings, integers, booleans, nulls: nothing more to count
        return n
    for enfant in enfants:
        genre = type(enfant)
        if genre is dict or genre is list:
            n += _nombre_de_cles(enfant, reste - 1)
        elif genre is float:
            raise _PasSur
    return n


def charger(texte: str | bytes) -> Any:
    """The JSON value of ``texte``; :class:`JsonInvalide` (French) for a syntax error, a duplicate key, a nesting
    too deep or a number out of range. (``NaN`` and ``Infinity`` are read, and refused by the case model, which
    names the field.)"""
    try:
        valeur = orjson.loads(texte)
        deux_points = texte.count(b":") if isinstance(texte, bytes) else texte.count(":")
        if _nombre_de_cles(valeur, PROFONDEUR_RAPIDE) == deux_points:
            return valeur
    except (orjson.JSONDecodeError, _PasSur):
        pass
    return charger_strict(texte)


def charger_strict(texte: str | bytes) -> Any:
    """:func:`charger` with the standard library's reader only (the reference the fast path is checked against)."""
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
