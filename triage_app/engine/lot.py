"""Batch evaluation of JSON Lines: the same evaluation, in order, optionally over forked worker processes."""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import orjson

from triage_app.errors import ErreurCas
from triage_app.json_strict import JsonInvalide, charger

if TYPE_CHECKING:
    from triage_app.engine.evaluation import Moteur

# The rules of the batch being evaluated: set before the workers fork, so they inherit it.
_regles: Moteur | None = None


def _evaluer_ligne(numero: int, ligne: bytes) -> tuple[bytes, bool]:
    """One JSON Lines input line → (its output line, whether it was invalid). Every input line has its output
    line, a blank one included (an error: it is not a case), and every output carries its input line number."""
    from triage_app.engine.evaluation import moteur

    if not ligne.strip():
        return orjson.dumps({"ligne": numero, "erreur": "ligne vide : un cas JSON attendu"}), True
    try:
        resultat = (_regles or moteur()).evaluer(charger(ligne))
    except JsonInvalide as exc:
        return orjson.dumps({"ligne": numero, "erreur": exc.message.replace("(ligne 1, ", "(")}), True
    except ErreurCas as exc:
        return orjson.dumps({"ligne": numero, "erreur": exc.resume()}), True
    return orjson.dumps({"ligne": numero, **resultat}), False


def _evaluer_paquet(paquet: tuple[int, list[bytes]]) -> tuple[bytes, bool]:
    """A chunk of lines (first line number, lines) → the joined output lines, whether any was invalid.

    Chunks travel between processes as a few large byte strings, not one object per case.
    """
    premier, lignes = paquet
    sorties = []
    invalide = False
    for i, ligne in enumerate(lignes):
        texte, ko = _evaluer_ligne(premier + i, ligne)
        invalide |= ko
        sorties.append(texte)
        sorties.append(b"\n")
    return b"".join(sorties), invalide


def _paquets(lignes: Iterable[bytes], taille: int) -> Iterator[tuple[int, list[bytes]]]:
    paquet: list[bytes] = []
    premier = 1
    for numero, ligne in enumerate(lignes, start=1):
        if not paquet:
            premier = numero
        paquet.append(ligne)
        if len(paquet) == taille:
            yield premier, paquet
            paquet = []
    if paquet:
        yield premier, paquet


def evaluer_lot(lignes: Iterable[bytes], processus: int = 1, taille: int = 400,
                regles: Moteur | None = None) -> Iterator[tuple[bytes, bool]]:
    """Evaluate one JSON case per line; yields, in input order, chunks of output lines and whether any was invalid.

    An invalid line gives ``{"erreur": …, "ligne": N}`` and the batch goes on. ``regles`` defaults to the
    project's rules. With ``processus`` > 1 the chunks are evaluated in forked workers that share the
    already-loaded rules.
    """
    global _regles
    from triage_app.engine.evaluation import moteur

    _regles = regles or moteur()
    if processus <= 1:
        for paquet in _paquets(lignes, taille):
            yield _evaluer_paquet(paquet)
        return
    # Frozen objects are left alone by the collector, so the workers do not copy every page of the
    # shared rules (copy-on-write).
    gc.freeze()
    with multiprocessing.get_context("fork").Pool(processus) as pool:
        yield from pool.imap(_evaluer_paquet, _paquets(lignes, taille))
