"""argparse in French (issue #28): its own words (« usage: », « error: », « positional arguments », « show this help
message and exit »…) come from gettext; the command line installs this table in their place before building its
parser, so that every message a user reads, help and mistakes included, is French."""

from __future__ import annotations

import argparse

FRANCAIS = {
    "usage: ": "utilisation : ",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments inconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (choisir parmi %(choices)s)",
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "au plus une valeur attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s peut désigner %(matches)s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "ignored explicit argument %r": "valeur %r ignorée",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "commande inconnue %(parser_name)r (choix : %(choices)s)",
    "unexpected option string: %s": "option inattendue : %s",
}
PLURIELS = {
    ("expected %s argument", "expected %s arguments"): ("%s valeur attendue", "%s valeurs attendues"),
}


def _traduire(texte: str) -> str:
    return FRANCAIS.get(texte, texte)


def _traduire_pluriel(singulier: str, pluriel: str, n: int) -> str:
    fr = PLURIELS.get((singulier, pluriel))
    if fr is None:
        return singulier if n == 1 else pluriel
    return fr[0] if n == 1 else fr[1]


def installer() -> None:
    """argparse's messages in French (its module-level gettext functions replaced; idempotent)."""
    argparse._ = _traduire  # type: ignore[attr-defined]
    argparse.ngettext = _traduire_pluriel  # type: ignore[attr-defined]
