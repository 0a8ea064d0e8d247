"""Commands on the rules and on cases, without the records: ``evaluate`` (one case or a batch),
``protocols``, ``diagram``, ``schemas``, ``export-case``, ``questionnaire``.

They import what they need when they run: ``evaluate`` loads neither the database layer, nor the page, nor the
exports (start-up is part of a batch's cost; ``tests/test_cli.py`` checks what it imports)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from typing import IO

from triage_app.cli.commun import EXIT_INVALIDE, _ecrire_sortie, _erreur, _lire_texte, lire_cas
from triage_app.errors import ErreurCas


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate one case, or a JSON Lines batch."""
    from triage_app.engine.evaluation import moteur, resultat_texte

    m = moteur()  # loaded before any worker is forked
    if args.jsonl:
        sys.stdout.flush()
        code = _evaluer_lot(args.jsonl, sys.stdout.buffer, args.processus)
        sys.stdout.buffer.flush()
        return code
    if not args.cas:
        _erreur("Indiquer un fichier de cas (ou « - » pour l'entrée standard), ou --jsonl FICHIER.")
        return EXIT_INVALIDE
    try:
        resultat = m.evaluer(lire_cas(_lire_texte(args.cas), args.cas))
    except ErreurCas as exc:
        _erreur(str(exc))
        return EXIT_INVALIDE
    print(resultat_texte(resultat, indent=args.indent))
    return 0


def _lignes(chemin: str) -> Iterator[bytes]:
    if chemin == "-":
        yield from sys.stdin.buffer
        return
    with open(chemin, "rb", buffering=_BLOC) as fichier:
        yield from fichier


_BLOC = 1 << 16  # a batch file is read, and its results written, by blocks of 64 KiB (not one system call a line)


def _nombre_de_lignes(chemin: str) -> int:
    """Lines of a file (a last line without its newline counted), read by blocks."""
    n = 0
    dernier = b"\n"
    with open(chemin, "rb") as fichier:
        while bloc := fichier.read(_BLOC):
            n += bloc.count(b"\n")
            dernier = bloc[-1:]
    return n + (dernier != b"\n")


def _evaluer_lot(chemin: str, sortie: IO[bytes], processus: int | None = None) -> int:
    """Evaluate one case per line, in order (see :func:`triage_app.engine.lot.evaluer_lot`); ``processus=None``:
    the default for the file's number of lines (standard input: one process, results as the lines come)."""
    from triage_app.engine.lot import evaluer_lot, processus_par_defaut

    invalide = False
    tampon: list[bytes] = []  # a file's results, written by blocks (standard input's, line by line as they come)
    taille = 0
    try:
        if processus is None:
            processus = processus_par_defaut(None if chemin == "-" else _nombre_de_lignes(chemin))
        for texte, ko in evaluer_lot(_lignes(chemin), processus):
            invalide |= ko
            if chemin == "-":
                sortie.write(texte)
                sortie.flush()
                continue
            tampon.append(texte)
            taille += len(texte)
            if taille >= _BLOC:
                sortie.write(b"".join(tampon))
                tampon.clear()
                taille = 0
    except OSError as exc:
        with contextlib.suppress(OSError):  # the lines evaluated before a read error; not again after a write error
            sortie.write(b"".join(tampon))
        _erreur(f"Fichier « {chemin} » illisible : {exc.__class__.__name__}")
        return EXIT_INVALIDE
    sortie.write(b"".join(tampon))
    return EXIT_INVALIDE if invalide else 0


def cmd_protocols(args: argparse.Namespace) -> int:
    """List protocols with version, validity, fingerprint and sources."""
    from triage_app.engine.evaluation import moteur

    reg = moteur().registre
    if args.json:
        sortie = [{"id": p.id, "titre": p.titre, "version": p.version, "en_vigueur_du": p.en_vigueur_du.isoformat(),
                   "empreinte_regles": reg.empreintes[p.id],
                   "sources": [{"id": s, "titre": reg.sources[s].titre, "url": reg.sources[s].url,
                                "verification": reg.sources[s].verification} for s in p.sources]}
                  for p in reg.protocoles.values()]
        print(json.dumps(sortie, ensure_ascii=False, indent=2))
        return 0
    for p in reg.protocoles.values():
        print(f"{p.id} — {p.titre}")
        print(f"  version {p.version}, en vigueur depuis le {p.en_vigueur_du.strftime('%d/%m/%Y')}")
        print(f"  empreinte {reg.empreintes[p.id]}")
        print(f"  {len(p.questions)} questions, {len(p.criteres)} critères, {len(p.etats)} états")
        for s in p.sources:
            src = reg.sources[s]
            print(f"  - [{src.verification}] {src.titre}" + (f" <{src.url}>" if src.url else ""))
    return 0


def cmd_diagram(args: argparse.Namespace) -> int:
    """Print a protocol's state machine as Mermaid text."""
    from triage_app.engine.evaluation import moteur
    from triage_app.engine.machine import diagramme_mermaid

    reg = moteur().registre
    p = reg.protocoles.get(args.protocole)
    if p is None:
        _erreur(f"Protocole « {args.protocole} » inconnu ; valeurs permises : {', '.join(sorted(reg.protocoles))}")
        return EXIT_INVALIDE
    print(diagramme_mermaid(p))
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    """Check (default) or rewrite the committed JSON Schemas."""
    from triage_app.loading.registry import DOSSIER_PROTOCOLES
    from triage_app.schemas import ecrire_schemas, textes_schemas

    if args.ecrire:
        for chemin in ecrire_schemas():
            print(f"écrit : protocols/schema/{chemin.name}")
        return 0
    perimes = [nom for nom, texte in textes_schemas().items()
               if not (DOSSIER_PROTOCOLES / "schema" / nom).is_file()
               or (DOSSIER_PROTOCOLES / "schema" / nom).read_text(encoding="utf-8") != texte]
    for nom in perimes:
        _erreur(f"schéma périmé : protocols/schema/{nom} (lancer « triage-app schemas --ecrire »)")
    return 1 if perimes else 0


def cmd_export_case(args: argparse.Namespace) -> int:
    """Export the summary of a case file (no database, no identity)."""
    from datetime import datetime

    from triage_app.engine.evaluation import moteur
    from triage_app.export.formats import exporter
    from triage_app.export.resume import depuis_cas

    donnees = lire_cas(_lire_texte(args.cas), args.cas)
    m = moteur()
    resume = depuis_cas(m, donnees, genere_le=datetime.now().astimezone())
    _ecrire_sortie(exporter(resume, m, args.format), args.output)
    return 0


def cmd_questionnaire(args: argparse.Namespace) -> int:
    """A protocol as a FHIR Questionnaire (JSON), generated from protocols/."""
    from triage_app.engine.evaluation import moteur
    from triage_app.export.fhir import questionnaire

    m = moteur()
    if args.protocole not in m.protocoles:
        _erreur(f"protocole « {args.protocole} » inconnu (attendu : {', '.join(sorted(m.protocoles))})")
        return EXIT_INVALIDE
    _ecrire_sortie(questionnaire(m, args.protocole).model_dump_json(indent=2).encode("utf-8") + b"\n", args.output)
    return 0
