"""Commands on the structure's records: ``audit verify``, ``reevaluate``, ``patient``, ``export``,
``rapport``, ``episode``, ``create-user`` (through the same services as the page)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from triage_app.cli.commun import _depot, _ecrire_sortie, _erreur
from triage_app.errors import ErreurSaisie, Probleme


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Check the audit chain (and the checkpoints given with ``--point``); exit 1 naming the first broken link.
    An intact chain prints its head, to keep outside the database as the next checkpoint."""
    from triage_app.storage.audit import PointControle

    try:
        points = tuple(PointControle.lire(p) for p in args.point)
    except ValueError as exc:
        _erreur(f"--point : {exc}")
        return 2
    with _depot(args) as depot:
        rapport = depot.audit.verifier_audit(points)
    if rapport.intact:
        print(f"Journal d'audit intact : {rapport.evenements} événement(s) vérifié(s)"
              + (f", {len(points)} point(s) de contrôle retrouvé(s)." if points else "."))
        if rapport.tete is not None:
            print(f"Point de contrôle à garder hors de la base : {rapport.tete}")
        return 0
    _erreur(f"Journal d'audit rompu : {rapport.premier_defaut}")
    return 1


def cmd_reevaluate(args: argparse.Namespace) -> int:
    """Replay stored final triages with the rules in force now; list those whose result changes, and why."""
    with _depot(args) as depot:
        changements = depot.reevaluation.reevaluer(processus=args.processus)
    if args.json:
        print(json.dumps([{"triage": c.triage_id, "version_avant": c.version_avant, "version_apres": c.version_apres,
                           "pourquoi": list(c.pourquoi), "avant": c.avant, "apres": c.apres} for c in changements],
                         ensure_ascii=False, indent=2))
    else:
        for c in changements:
            versions = f"règles {c.version_avant or '?'} → {c.version_apres or '?'}"
            print(f"{c.triage_id} ({versions}) :")
            for raison in c.pourquoi:
                print(f"  - {raison}")
        print(f"{len(changements)} triage(s) changerai(en)t avec les règles en vigueur.")
    return 0


def cmd_patient(args: argparse.Namespace) -> int:
    """RGPD: export everything about a patient, or erase them."""
    with _depot(args) as depot:
        if args.action == "export":
            donnees = depot.rgpd.exporter_patient(args.patient, acteur=args.acteur)
            _ecrire_sortie((json.dumps(donnees, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), args.output)
            return 0
        depot.rgpd.effacer_patient(args.patient, acteur=args.acteur)
    print("Patient effacé ; le journal d'audit garde un événement sans donnée personnelle.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export a stored triage (summary PDF, FHIR bundle, text, patient handout); the export is audited."""
    from datetime import datetime


    genere_le = datetime.now().astimezone() if args.genere_le is None else args.genere_le
    with _depot(args) as depot:
        octets = depot.documents.exporter(args.triage, args.format, genere_le=genere_le, acteur=args.acteur)
    _ecrire_sortie(octets, args.output)
    return 0


def cmd_rapport(args: argparse.Namespace) -> int:
    """The yearly indicators report (ARS): one PDF page per protocol, or a spreadsheet (CSV, XLSX); anonymised."""
    from triage_app.export.rapport import rapport_csv, rapport_pdf, rapport_xlsx

    du = args.du or date(args.annee, 1, 1)
    au = args.au or date(args.annee, 12, 31)
    if au < du:
        raise ErreurSaisie([Probleme("--au", f"le {au:%d/%m/%Y} précède le début de la période ({du:%d/%m/%Y})")])
    with _depot(args) as depot:
        indicateurs = depot.rapport.indicateurs(du, au, acteur=args.acteur)
        structure = depot.structure.structure()
        nom = structure.nom if structure else None
        if args.format == "pdf":
            octets = rapport_pdf(indicateurs, depot.moteur, nom, date.today())
        elif args.format == "xlsx":
            octets = rapport_xlsx(indicateurs, depot.moteur, nom)
        else:
            octets = rapport_csv(indicateurs, depot.moteur)
    _ecrire_sortie(octets, args.output)
    return 0


# ``triage-app episode --format``: the document, and what its bytes are.
FORMATS_EPISODE = ("dap", "synthese", "synthese-txt")


# The export formats (the same as ``triage_app.export.formats.FORMATS``, which a test checks; named here so that
# building the parser imports no export code).
FORMATS_EXPORT = ("pdf", "fhir", "fhir-document", "txt", "handout", "cda", "xdm")


def cmd_episode(args: argparse.Namespace) -> int:
    """An episode's document from the records: the pre-filled DAP (PDF), the BDK summary sheet (PDF or text).

    The day defaults to today (read here, never in the export); the read and the export are both audited.
    """
    jour = args.jour or date.today()
    with _depot(args) as depot:
        octets = depot.documents.document_episode(args.episode, args.format, jour, acteur=args.acteur)
    _ecrire_sortie(octets, args.sortie)
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create an account from the command line (the first coordinator, typically): no default password."""
    import getpass


    mot_de_passe = None
    if args.source == "local":
        if args.mot_de_passe_stdin or not sys.stdin.isatty():
            mot_de_passe = sys.stdin.readline().rstrip("\n")
        else:
            mot_de_passe = getpass.getpass("Mot de passe (12 caractères au moins) : ")
            if getpass.getpass("Confirmer : ") != mot_de_passe:
                raise ErreurSaisie([Probleme("mot_de_passe", "les deux saisies diffèrent")])
    with _depot(args) as depot:
        u = depot.comptes.creer_utilisateur(identifiant=args.identifiant, nom=args.nom or args.identifiant,
                                            role=args.role,
                                            mot_de_passe=mot_de_passe, source=args.source, acteur="ligne_de_commande")
    print(f"Compte créé : {u.identifiant} ({u.role}).")
    return 0
