"""What every service checks in a typed value before it is stored or audited: texts (no control, invisible or
bidirectional character; within their length), codes (one of their allowed values), identifiers read by their rules;
every refusal in French, naming the field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import get_args

from triage_app.errors import ErreurSaisie, Probleme
from triage_app.identifiants import INVISIBLES
from triage_app.models.base import Couverture

LONGUEUR_NOTE = 4000
# Control characters, and the bidirectional controls and invisible characters that make a text print otherwise
# than it reads (« evil » shown « live »): refused in every stored text.
CONTROLE = re.compile(f"[\x00-\x1f\x7f{INVISIBLES}]")
_CONTROLE_SAUF_LIGNES = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f{INVISIBLES}]")


def texte(champ: str, valeur: str, longueur: int, *, vide: bool = False, lignes: bool = False) -> str:
    """A text field as stored: no control character, within the column's length; French error naming it."""
    motif = _CONTROLE_SAUF_LIGNES if lignes else CONTROLE
    if not isinstance(valeur, str) or motif.search(valeur):
        raise ErreurSaisie([Probleme(champ, "caractère de contrôle, invisible ou de sens d’écriture interdit")])
    if not valeur.strip() and not vide:
        raise ErreurSaisie([Probleme(champ, "à renseigner")])
    if len(valeur) > longueur:
        raise ErreurSaisie([Probleme(champ, f"{longueur} caractères au plus")])
    return valeur


# A name: none of the categories that print nothing or differently than they read (format, private-use, unassigned,
# surrogate, line and paragraph separators), nor the « filler » letters that look blank; at least one letter.
_CATEGORIES_INTERDITES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"})
_REMPLISSAGES = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def nom(champ: str, valeur: str, longueur: int) -> str:
    """A person's name as stored (issue #28): any script, but every character visible and meaning what it shows,
    within its length (refused with the limit, never cut); French error naming the field."""
    texte(champ, valeur, longueur)
    for c in valeur:
        if c in _REMPLISSAGES or unicodedata.category(c) in _CATEGORIES_INTERDITES:
            raise ErreurSaisie([Probleme(champ, f"caractère invisible ou non imprimable interdit (U+{ord(c):04X})")])
    if not any(unicodedata.category(c).startswith("L") for c in valeur):
        raise ErreurSaisie([Probleme(champ, "au moins une lettre")])
    return valeur


def couverture(valeur: str) -> str:
    """The patient's cover, one of the case format's values (``patient.couverture``); French error naming it."""
    permises = get_args(Couverture)
    if valeur not in permises:
        raise ErreurSaisie([Probleme("couverture", f"valeur inconnue « {valeur} » (valeurs permises : "
                                                   f"{', '.join(permises)})")])
    return valeur


def champ_lu(problemes: list[Probleme], champ: str, valeur: str | None, lire: Callable[[str], str]) -> str | None:
    """The field read by ``lire`` (``None`` when empty), or its French problem collected."""
    if valeur is None or not str(valeur).strip():
        return None
    try:
        return lire(str(valeur))
    except ValueError as exc:
        problemes.append(Probleme(champ, str(exc)))
        return None


def echapper_like(valeur: str) -> str:
    """Make ``%``, ``_`` and the escape character literal in a LIKE pattern."""
    return valeur.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
