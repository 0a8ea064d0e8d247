"""Text keys for look-ups: accent-, case- and punctuation-insensitive (pure functions)."""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not split into a base letter and an accent.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l",
                            "đ": "d", "Đ": "d", "ı": "i"})
_SEPARATEURS = re.compile(r"[^0-9a-z]+")


def cle_recherche(texte: str) -> str:
    """The search key of a name: no accents, lower case, words separated by one space.

    « Lefèbvre » → « lefebvre », « SAINT-Exupéry » → « saint exupery », « Œdipe » → « oedipe ».
    """
    sans_ligature = texte.translate(_LIGATURES)
    decompose = unicodedata.normalize("NFKD", sans_ligature)
    sans_accent = "".join(c for c in decompose if not unicodedata.combining(c)).casefold()
    return _SEPARATEURS.sub(" ", sans_accent).strip()


def mots_recherche(texte: str) -> list[str]:
    """The words of a typed search, as keys (empty words dropped)."""
    return [m for m in cle_recherche(texte).split(" ") if m]


def cle_patient(nom: str, prenom: str) -> str:
    """The stored search key of a patient: name then first name."""
    return f"{cle_recherche(nom)} {cle_recherche(prenom)}".strip()
