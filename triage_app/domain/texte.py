"""Text keys for look-ups: accent-, case- and punctuation-insensitive (pure functions)."""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not split into a base letter and an accent.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l",
                            "đ": "d", "Đ": "d", "ı": "i"})
_ESPACES = re.compile(r" +")


def cle_recherche(texte: str) -> str:
    """The search key of a name: letters and digits of every script, no accents, case folded, words separated by
    one space (issue #28: « 杜邦 » and « دوبون » are found too; an invisible character splits nothing).

    « Lefèbvre » → « lefebvre », « SAINT-Exupéry » → « saint exupery », « Œdipe » → « oedipe ».
    """
    sans_ligature = texte.translate(_LIGATURES)
    decompose = unicodedata.normalize("NFKD", sans_ligature)
    sans_accent = "".join(c for c in decompose if not unicodedata.combining(c)).casefold()
    gardes = []
    for c in sans_accent:
        categorie = unicodedata.category(c)
        if categorie[0] in "LN":
            gardes.append(c)
        elif categorie not in ("Cf", "Mn", "Me"):  # format characters vanish (« Du\u2060pont » is « dupont »)
            gardes.append(" ")
    return _ESPACES.sub(" ", "".join(gardes)).strip()


def mots_recherche(texte: str) -> list[str]:
    """The words of a typed search, as keys (empty words dropped)."""
    return [m for m in cle_recherche(texte).split(" ") if m]


def cle_patient(nom: str, prenom: str) -> str:
    """The stored search key of a patient: name then first name."""
    return f"{cle_recherche(nom)} {cle_recherche(prenom)}".strip()
