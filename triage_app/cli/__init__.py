"""Command line: ``triage-app evaluate|protocols|diagram`` (and, without argument, help).

Every sub-command calls the same engine as the page and the tests
(:class:`triage_app.engine.evaluation.Moteur`). Messages are French; results are JSON on stdout;
errors go to stderr with exit status 2.

The commands live in :mod:`.regles` (rules and cases), :mod:`.base` (the records) and :mod:`.serveur` (the page's
server); this module reads the command line and dispatches.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date

from triage_app.cli import francais
from triage_app.cli.base import (
    FORMATS_EPISODE,
    FORMATS_EXPORT,
    cmd_audit_verify,
    cmd_create_user,
    cmd_episode,
    cmd_export,
    cmd_patient,
    cmd_rapport,
    cmd_reevaluate,
    cmd_sauvegarde,
)
from triage_app.cli.commun import EXIT_INVALIDE, _annee, _erreur, _jour, _moment, _port, _processus
from triage_app.cli.regles import (
    cmd_diagram,
    cmd_evaluate,
    cmd_export_case,
    cmd_protocols,
    cmd_questionnaire,
    cmd_schemas,
)
from triage_app.cli.serveur import cmd_serve
from triage_app.errors import ErreurChargement, TriageError


def construire_parseur() -> argparse.ArgumentParser:
    """The argument parser (French help)."""
    from triage_app.engine.lot import SEUIL_PROCESSUS

    francais.installer()  # argparse's own words (usage, errors, help) in French
    seuil = f"{SEUIL_PROCESSUS:,}".replace(",", "\u202f")
    parseur = argparse.ArgumentParser(
        prog="triage-app",
        description="Aide au triage des patients vus sans prescription par un kinésithérapeute "
                    "(protocoles de coopération, accès direct).")
    sous = parseur.add_subparsers(dest="commande", metavar="COMMANDE")
    ev = sous.add_parser("evaluate", help="évaluer un cas (JSON ou YAML) et écrire le résultat JSON")
    ev.add_argument("cas", nargs="?", help="fichier de cas, ou « - » pour l'entrée standard")
    ev.add_argument("--jsonl", metavar="FICHIER", help="un cas JSON par ligne (« - » : entrée standard)")
    ev.add_argument("--indent", action="store_true", help="JSON indenté (lecture humaine)")
    ev.add_argument("--processus", type=_processus, default=None, metavar="N",
                    help="avec --jsonl : nombre de processus de calcul, ou « auto » (par défaut : un seul en "
                         f"dessous de {seuil} cas et pour l'entrée standard, un par cœur au-delà)")
    ev.set_defaults(fonction=cmd_evaluate)
    pr = sous.add_parser("protocols", help="lister les protocoles, leur version, leur validité et leurs sources")
    pr.add_argument("--json", action="store_true", help="sortie JSON")
    pr.set_defaults(fonction=cmd_protocols)
    dg = sous.add_parser("diagram", help="machine à états d'un protocole en texte Mermaid")
    dg.add_argument("protocole", help="identifiant du protocole (voir « triage-app protocols »)")
    dg.set_defaults(fonction=cmd_diagram)
    base = argparse.ArgumentParser(add_help=False)
    base.add_argument("--base", metavar="URL", help="base de données (par défaut : TRIAGE_DATABASE_URL, sinon "
                                                    "le fichier SQLite de data/)")
    ra = sous.add_parser("rapport", parents=[base], help="rapport annuel des indicateurs (ARS), anonymisé : PDF "
                                                         "(une page par protocole), CSV ou XLSX")
    ra.add_argument("--annee", type=_annee, default=date.today().year, help="année civile (défaut : l'année en cours)")
    ra.add_argument("--du", type=_jour, help="début de la période (AAAA-MM-JJ ; défaut : 1er janvier)")
    ra.add_argument("--au", type=_jour, help="fin de la période, incluse (AAAA-MM-JJ ; défaut : 31 décembre)")
    ra.add_argument("--format", choices=["pdf", "csv", "xlsx"], default="pdf")
    ra.add_argument("--output", metavar="FICHIER", help="fichier de sortie (défaut : sortie standard)")
    ra.add_argument("--acteur", default="ligne_de_commande", help="qui établit le rapport (journalisé)")
    ra.set_defaults(fonction=cmd_rapport)
    au = sous.add_parser("audit", help="journal d'audit")
    au_sous = au.add_subparsers(dest="action", metavar="ACTION", required=True)
    av = au_sous.add_parser("verify", parents=[base], help="vérifier la chaîne d'empreintes (code 1 si rompue)")
    av.add_argument("--point", action="append", default=[], metavar="N:EMPREINTE",
                    help="point de contrôle gardé hors de la base (affiché par une vérification précédente) : il doit "
                         "être dans la chaîne ; répétable")
    au.set_defaults(fonction=cmd_audit_verify)
    sv = sous.add_parser("sauvegarde", parents=[base],
                         help="sauvegarder la base SQLite et sa clé ensemble dans DOSSIER, ou vérifier une sauvegarde")
    sv.add_argument("dossier", metavar="DOSSIER", help="dossier de la sauvegarde (vide pour en écrire une)")
    sv.add_argument("--verifier", action="store_true",
                    help="vérifier la sauvegarde de DOSSIER avec sa propre clé (code 0 intacte, 1 rompue, 3 sans clé)")
    sv.set_defaults(fonction=cmd_sauvegarde)
    re_ = sous.add_parser("reevaluate", parents=[base],
                          help="rejouer les triages finalisés avec les règles en vigueur et lister les changements")
    re_.add_argument("--json", action="store_true")
    re_.add_argument("--processus", type=_processus, default=None, metavar="N",
                     help=f"nombre de processus de calcul, ou « auto » (par défaut : un seul en dessous de {seuil} "
                          "triages, un par cœur au-delà)")
    re_.set_defaults(fonction=cmd_reevaluate)
    pa = sous.add_parser("patient", help="RGPD : exporter ou effacer les données d'un patient")
    pa.add_argument("action", choices=["export", "erase"])
    pa.add_argument("patient", help="identifiant du patient")
    pa.add_argument("--acteur", required=True, help="qui fait la demande (journalisé)")
    pa.add_argument("--output", metavar="FICHIER", help="export : fichier de sortie (défaut : sortie standard)")
    pa.add_argument("--base", metavar="URL", help="base de données")
    pa.set_defaults(fonction=cmd_patient)
    formats = list(FORMATS_EXPORT)
    ex = sous.add_parser("export", parents=[base], help="exporter un triage enregistré (compte rendu, FHIR, texte, "
                                                        "fiche patient)")
    ex.add_argument("triage", help="identifiant du triage")
    ex.add_argument("--format", choices=formats, default="pdf")
    ex.add_argument("--output", metavar="FICHIER", help="fichier de sortie (défaut : sortie standard)")
    ex.add_argument("--acteur", default="ligne_de_commande", help="qui exporte (journalisé)")
    ex.add_argument("--genere-le", type=_moment, metavar="AAAA-MM-JJTHH:MM",
                    help="moment imprimé comme date de génération (défaut : maintenant) : deux exports au même "
                         "moment donnent les mêmes octets")
    ex.set_defaults(fonction=cmd_export)
    ec = sous.add_parser("export-case", help="exporter le compte rendu d'un fichier de cas (JSON ou YAML)")
    ec.add_argument("cas", help="fichier de cas, ou « - » pour l'entrée standard")
    ec.add_argument("--format", choices=formats, default="pdf")
    ec.add_argument("--output", metavar="FICHIER", help="fichier de sortie (défaut : sortie standard)")
    ec.set_defaults(fonction=cmd_export_case)
    ep = sous.add_parser("episode", parents=[base], help="document d'un épisode enregistré : demande d'accord "
                                                        "préalable (DAP) pré-remplie, fiche de synthèse du BDK")
    ep.add_argument("episode", help="identifiant de l'épisode")
    ep.add_argument("--format", choices=FORMATS_EPISODE, required=True,
                    help="dap : DAP pré-remplie (PDF) ; synthese : fiche de synthèse (PDF) ; synthese-txt : "
                         "fiche de synthèse en texte")
    ep.add_argument("--sortie", "--output", dest="sortie", metavar="FICHIER",
                    help="fichier de sortie (défaut : sortie standard)")
    ep.add_argument("--jour", type=_jour, metavar="AAAA-MM-JJ",
                    help="date du document et des décomptes (défaut : aujourd'hui)")
    ep.add_argument("--acteur", default="ligne_de_commande",
                    help="identifiant du compte qui produit le document (son nom y figure ; journalisé)")
    ep.set_defaults(fonction=cmd_episode)
    qu = sous.add_parser("questionnaire", help="un protocole en Questionnaire FHIR (JSON)")
    qu.add_argument("protocole")
    qu.add_argument("--output", metavar="FICHIER")
    qu.set_defaults(fonction=cmd_questionnaire)
    cu = sous.add_parser("create-user", parents=[base], help="créer un compte (le premier coordinateur, par exemple)")
    cu.add_argument("identifiant")
    cu.add_argument("--role", choices=["coordinateur", "kine", "medecin"], default="coordinateur")
    cu.add_argument("--nom", help="nom affiché (défaut : l'identifiant)")
    cu.add_argument("--source", choices=["local", "oidc"], default="local",
                    help="local : mot de passe ; oidc : fournisseur d'identité (identifiant = courriel)")
    cu.add_argument("--mot-de-passe-stdin", action="store_true",
                    help="lire le mot de passe sur l'entrée standard (une ligne), sans invite")
    cu.set_defaults(fonction=cmd_create_user)
    se = sous.add_parser("serve", help="servir la page (c'est aussi ce que fait « triage-app » sans argument)")
    se.add_argument("--port", type=_port, default=8501, help="port HTTP (défaut : 8501)")
    ecoute = se.add_mutually_exclusive_group()
    ecoute.add_argument("--adresse", metavar="IP", help="adresse d'écoute (défaut : 127.0.0.1, ce poste seulement)")
    ecoute.add_argument("--reseau", action="store_true",
                        help="écouter sur toutes les interfaces (tablettes du réseau : HTTPS nécessaire)")
    se.add_argument("--certificat", metavar="CERT.pem", help="HTTPS : certificat de la structure (PEM)")
    se.add_argument("--cle", metavar="CLE.pem", help="HTTPS : clé privée du certificat (PEM)")
    se.add_argument("--nom", action="append", default=[], metavar="NOM",
                    help="nom sous lequel les tablettes ouvrent la page (répétable), en plus des adresses IP, de "
                         "localhost et du nom de ce poste : tout autre nom est refusé (403)")
    se.set_defaults(fonction=cmd_serve)
    sc = sous.add_parser("schemas", help="vérifier (ou --ecrire) les schémas JSON de protocols/schema/")
    sc.add_argument("--ecrire", action="store_true", help="réécrire les schémas depuis les modèles")
    sc.set_defaults(fonction=cmd_schemas)
    return parseur


def _raison_systeme(exc: OSError) -> str:
    raisons = {IsADirectoryError: "c'est un dossier, un fichier est attendu", FileNotFoundError: "introuvable",
               PermissionError: "accès refusé", NotADirectoryError: "chemin invalide (un fichier au lieu d'un dossier)"}
    return next((texte for type_, texte in raisons.items() if isinstance(exc, type_)),
                f"erreur du système (code {exc.errno})")


def _url_invalide(exc: Exception) -> bool:
    """A --base that is no database URL (SQLAlchemy's ArgumentError, recognised without importing the database layer:
    ``evaluate`` starts without it)."""
    genre = type(exc)
    return genre.__name__ == "ArgumentError" and genre.__module__.startswith("sqlalchemy")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``triage-app`` console script."""
    os.umask(0o077)  # health data: every file this command creates (database, exports) is its owner's only
    parseur = construire_parseur()
    args = parseur.parse_args(argv)
    if not getattr(args, "fonction", None):
        args = parseur.parse_args(["serve"])
    try:
        return int(args.fonction(args))
    except ErreurChargement as exc:
        _erreur(f"Les règles (protocols/) ne se chargent pas :\n{exc}")
        return EXIT_INVALIDE
    except TriageError as exc:
        _erreur(str(exc))
        return EXIT_INVALIDE
    except BrokenPipeError:  # the reader closed the pipe (``| head``): not an error
        sys.stderr.close()
        return 0
    except OSError as exc:  # a file or folder the command cannot use (--output on a folder…): said in French
        _erreur(f"fichier « {exc.filename or '?'} » : {_raison_systeme(exc)}")
        return EXIT_INVALIDE
    except Exception as exc:
        if not _url_invalide(exc):
            raise
        _erreur("--base : URL de base de données invalide (par exemple sqlite:///data/triage.sqlite ou "
                "postgresql+psycopg://utilisateur@hote/base)")
        return EXIT_INVALIDE
