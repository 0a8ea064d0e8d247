"""A short, bounded preview of any value for an error message (never recursive, never huge)."""

from __future__ import annotations

import reprlib
from typing import Any

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 50
_REPR.maxother = 50
_REPR.maxlong = 40
_REPR.maxlist = _REPR.maxdict = _REPR.maxtuple = _REPR.maxset = 4


def apercu(valeur: Any, longueur: int = 60) -> str:
    """``repr`` cut to ``longueur`` characters, safe on deeply nested or enormous values."""
    try:
        texte = _REPR.repr(valeur)
    except (RecursionError, ValueError):
        texte = f"<{type(valeur).__name__}>"
    return texte if len(texte) <= longueur else texte[: longueur - 1] + "…"
