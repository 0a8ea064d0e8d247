"""Commands on the structure's records: ``audit verify``, ``reevaluate``, ``patient``, ``export``,
``rapport``, ``episode``, ``create-user`` (through the same services as the page)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from triage_app.cli.commun import _acteur, _depot, _ecrire_sortie, _erreur
from triage_app.errors import ErreurSaisie, Probleme

# `audit verify` when the key that sealed the chain is missing: neither intact (0) nor broken (1).
CODE_CLE_ABSENTE = 3


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Check the audit chain (and the checkpoints given with ``--point``); exit 1 naming the first broken link.
    An intact chain prints its head, to keep outside the database as the next checkpoint."""
    from triage_app.storage.audit import PointControle

    try:
        points = tuple(PointControle.lire(p) for p in args.point)
    except ValueError as exc:
        _erreur(f"--point : {exc}")
        return 2
    from triage_app.storage.cle import CleAbsente

    with _depot(args) as depot:
        try:
            rapport = depot.audit.verifier_audit(points)
        except CleAbsente as exc:  # its own exit code: the chain cannot be checked, nothing says it is broken
            _erreur(f"Vérification impossible : {exc}")
            return CODE_CLE_ABSENTE
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
            donnees = depot.rgpd.exporter_patient(args.patient, acteur=_acteur(depot, args.acteur))
            _ecrire_sortie((json.dumps(donnees, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), args.output)
            return 0
        depot.rgpd.effacer_patient(args.patient, acteur=_acteur(depot, args.acteur))
    print("Patient effacé ; le journal d'audit garde un événement sans donnée personnelle.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export a stored triage (summary PDF, FHIR bundle, text, patient handout); the export is audited."""
    from datetime import datetime


    genere_le = datetime.now().astimezone() if args.genere_le is None else args.genere_le
    with _depot(args) as depot:
        octets = depot.documents.exporter(args.triage, args.format, genere_le=genere_le,
                                          acteur=_acteur(depot, args.acteur))
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
        indicateurs = depot.rapport.indicateurs(du, au, acteur=_acteur(depot, args.acteur))
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
        octets = depot.documents.document_episode(args.episode, args.format, jour, acteur=_acteur(depot, args.acteur))
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


def cmd_sauvegarde(args: argparse.Namespace) -> int:
    """Back up the database and its key together (SQLite: a consistent copy while the app runs), or check a copy:
    the copy's chain verified with the copy's key (issue #28: a lost key is a lost audit)."""
    import os
    import sqlite3
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from triage_app.config import Reglages
    from triage_app.services.application import Services
    from triage_app.storage.cle import NOM_FICHIER, CleAbsente

    dossier = Path(args.dossier)
    base, cle = dossier / "triage.sqlite", dossier / NOM_FICHIER
    if args.verifier:
        if not base.is_file():
            raise ErreurSaisie([Probleme(str(base), "copie de la base introuvable")])
        if not cle.is_file():
            _erreur(f"Vérification impossible : clé introuvable dans la sauvegarde ({cle}) : une sauvegarde sans sa "
                    "clé ne prouve rien")
            return CODE_CLE_ABSENTE
        with Services(f"sqlite:///{base.as_posix()}", reglages=Reglages(data_dir=dossier), migrer_schema=False,
                      cle=cle.read_bytes()) as copie:
            rapport = copie.audit.verifier_audit(())
        if not rapport.intact:
            _erreur(f"Sauvegarde : journal d'audit rompu : {rapport.premier_defaut}")
            return 1
        print(f"Sauvegarde vérifiée : {rapport.evenements} événement(s), chaîne intacte avec la clé de la sauvegarde.")
        return 0
    url = make_url(args.base or Reglages().url_base)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise ErreurSaisie([Probleme("--base", "sauvegarde intégrée pour SQLite seulement ; PostgreSQL : pg_dump de "
                                              "la base et copie de la clé secrète, ensemble (voir le README)")])
    dossier.mkdir(mode=0o700, parents=True, exist_ok=True)
    if base.exists() or cle.exists():
        raise ErreurSaisie([Probleme(str(dossier), "une sauvegarde s'y trouve déjà : choisir un dossier vide")])
    with Services(args.base) as depot:
        try:
            octets_cle = depot.uow.cle
        except CleAbsente as exc:
            _erreur(f"Sauvegarde impossible : {exc}")
            return CODE_CLE_ABSENTE
    source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
    try:
        cible = sqlite3.connect(base)
        try:
            source.backup(cible)  # a consistent copy, even while the page writes
        finally:
            cible.close()
    finally:
        source.close()
    base.chmod(0o600)
    descripteur = os.open(cle, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descripteur, "wb") as f:
        f.write(octets_cle)
    print(f"Sauvegarde écrite dans {dossier} : la base et sa clé (à garder ensemble, hors de ce poste). "
          f"Vérifier une copie : triage-app sauvegarde --verifier {dossier}")
    return 0
