"""Batch evaluation of JSON Lines: the same evaluation, in order, in this process or over forked worker processes.

Workers cost CPU (fork, passing lines and results between processes, two busy cores each slower than one): by
default (``processus=None``) a batch runs in one process below :data:`SEUIL_PROCESSUS` cases, and over one worker
per core from there, where workers start to pay off (measured by ``python -m bench.lot --croisement``, see
BENCHMARKS.md).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Sized
from typing import TYPE_CHECKING

import orjson

from triage_app.errors import ErreurCas
from triage_app.json_strict import JsonInvalide, charger

if TYPE_CHECKING:
    from triage_app.engine.evaluation import Moteur

# Below this many cases, one process. Measured on the project's 2-core machine (shared with other work): two workers
# add 40 to 70 % of CPU at every size, and shorten a batch by 10 % or more only from 10,000 cases (machine otherwise
# idle) to 20,000 cases (machine busy); the larger bound is kept, so a default batch never pays for workers that
# would not make it noticeably shorter.
SEUIL_PROCESSUS = 20_000

# The rules of the batch being evaluated: set before the workers fork, so they inherit it.
_regles: Moteur | None = None

_LIGNE = orjson.OPT_APPEND_NEWLINE


def processus_par_defaut(nombre_de_cas: int | None) -> int:
    """The default worker count: one process for a batch below :data:`SEUIL_PROCESSUS` cases or of unknown size (a
    stream, evaluated as it comes), one per core above."""
    if nombre_de_cas is None or nombre_de_cas < SEUIL_PROCESSUS:
        return 1
    return os.cpu_count() or 1


def _evaluer_ligne(numero: int, ligne: bytes) -> tuple[bytes, bool]:
    """One JSON Lines input line → (its output line with its ``\\n``, whether it was invalid). Every input line has
    its output line, a blank one included (an error: it is not a case), and every output carries its input line
    number."""
    regles = _regles
    if regles is None:
        from triage_app.engine.evaluation import moteur

        regles = moteur()
    if not ligne.strip():
        return orjson.dumps({"ligne": numero, "erreur": "ligne vide : un cas JSON attendu"}, option=_LIGNE), True
    try:
        resultat = regles.evaluer(charger(ligne))
    except JsonInvalide as exc:
        return orjson.dumps({"ligne": numero, "erreur": exc.message.replace("(ligne 1, ", "(")}, option=_LIGNE), True
    except ErreurCas as exc:
        return orjson.dumps({"ligne": numero, "erreur": exc.resume()}, option=_LIGNE), True
    except Exception as exc:
        return orjson.dumps({"ligne": numero, "erreur": f"cas non évaluable (erreur interne {type(exc).__name__}) : "
                                                        "signaler ce cas aux mainteneurs"}, option=_LIGNE), True
    return orjson.dumps({"ligne": numero, **resultat}, option=_LIGNE), False


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


def evaluer_lot(lignes: Iterable[bytes], processus: int | None = None, taille: int = 400,
                regles: Moteur | None = None) -> Iterator[tuple[bytes, bool]]:
    """Evaluate one JSON case per line; yields, in input order, output lines (each with its ``\\n``) and whether any
    was invalid: one line at a time in this process, chunks of ``taille`` lines over workers.

    An invalid line gives ``{"erreur": …, "ligne": N}`` and the batch goes on. ``regles`` defaults to the
    project's rules. ``processus``: ``None`` for :func:`processus_par_defaut` (from the number of lines when
    ``lignes`` has a length, else one process); above 1, the chunks are evaluated in forked workers that share the
    already-loaded rules.
    """
    global _regles
    from triage_app.engine.evaluation import moteur

    _regles = regles or moteur()
    if processus is None:
        processus = processus_par_defaut(len(lignes) if isinstance(lignes, Sized) else None)
    if processus <= 1:
        for numero, ligne in enumerate(lignes, start=1):
            yield _evaluer_ligne(numero, ligne)
        return
    import multiprocessing

    # Frozen objects are left alone by the collector, so the workers do not copy every page of the
    # shared rules (copy-on-write).
    gc.freeze()
    with multiprocessing.get_context("fork").Pool(processus) as pool:
        yield from pool.imap(_evaluer_paquet, _paquets(lignes, taille))
