"""Command line: ``triage-app evaluate|protocols|diagram`` (and, without argument, help).

Every sub-command calls the same engine as the page and the tests
(:class:`triage_app.engine.evaluation.Moteur`). Messages are French; results are JSON on stdout;
errors go to stderr with exit status 2.

Each sub-command imports what it needs when it runs: ``evaluate`` loads neither the database layer, nor the page,
nor the exports (start-up is part of a batch's cost; ``tests/test_cli.py`` checks what it imports).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from triage_app.errors import ErreurCas, ErreurChargement, ErreurSaisie, Probleme, TriageError

if TYPE_CHECKING:
    from triage_app.storage.service import Depot

EXIT_INVALIDE = 2


def _lire_texte(chemin: str) -> str:
    if chemin == "-":
        return sys.stdin.read()
    try:
        return Path(chemin).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ErreurCas([Probleme("", f"fichier « {chemin} » illisible : {exc.__class__.__name__}")]) from exc


def lire_cas(texte: str, nom: str = "cas") -> Any:
    """Parse a case written in JSON (strict: no key twice) or YAML (read strictly); French errors, no traceback."""
    from triage_app.json_strict import JsonInvalide, charger
    from triage_app.loading.yaml_strict import lire_yaml_texte

    try:
        return charger(texte)
    except JsonInvalide as exc_json:
        if texte.lstrip()[:1] in ("{", "[") or "deux fois" in exc_json.message:  # meant as JSON: say what is wrong
            raise ErreurCas([Probleme("", exc_json.message)]) from None
        try:
            return lire_yaml_texte(texte, nom).donnees
        except ErreurChargement as exc_yaml:
            raise ErreurCas(exc_yaml.problemes or [Probleme("", exc_json.message)]) from None


def _erreur(message: str) -> None:
    print(message, file=sys.stderr)


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


def _depot(args: argparse.Namespace) -> Depot:
    """The database of ``--base`` (or the settings'); use as a context manager, so it is closed after use."""
    from triage_app.storage.service import Depot

    return Depot(args.base)


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
        rapport = depot.verifier_audit(points)
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
        changements = depot.reevaluer(processus=args.processus)
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
            donnees = depot.exporter_patient(args.patient, acteur=args.acteur)
            _ecrire_sortie((json.dumps(donnees, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), args.output)
            return 0
        depot.effacer_patient(args.patient, acteur=args.acteur)
    print("Patient effacé ; le journal d'audit garde un événement sans donnée personnelle.")
    return 0


def _ecrire_sortie(octets: bytes, sortie: str | None) -> None:
    if sortie and sortie != "-":
        descripteur = os.open(sortie, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descripteur, "wb") as fichier:
            fichier.write(octets)
        os.chmod(sortie, 0o600)  # an existing file keeps its mode on open: made private too
    else:
        sys.stdout.buffer.write(octets)
        sys.stdout.buffer.flush()


def cmd_export(args: argparse.Namespace) -> int:
    """Export a stored triage (summary PDF, FHIR bundle, text, patient handout); the export is audited."""
    from datetime import datetime


    genere_le = datetime.now().astimezone() if args.genere_le is None else args.genere_le
    with _depot(args) as depot:
        octets = depot.exporter(args.triage, args.format, genere_le=genere_le, acteur=args.acteur)
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
        indicateurs = depot.indicateurs(du, au, acteur=args.acteur)
        structure = depot.structure()
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


def _moment(texte: str) -> Any:
    """``--genere-le AAAA-MM-JJTHH:MM[:SS][+HH:MM]`` (local time when no offset; French error)."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(texte)
    except ValueError:
        raise argparse.ArgumentTypeError(f"moment invalide « {texte} » (attendu : AAAA-MM-JJTHH:MM)") from None
    return moment if moment.tzinfo else moment.astimezone()


def _processus(texte: str) -> int | None:
    """``--processus N`` (1 or more; less counts as 1) or ``auto`` (``None``: the default of
    :func:`triage_app.engine.lot.processus_par_defaut`)."""
    if texte == "auto":
        return None
    try:
        return max(1, int(texte))
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre de processus invalide « {texte} » (attendu : un entier ou "
                                         "« auto »)") from None


def _jour(texte: str) -> date:
    """``--jour AAAA-MM-JJ`` (French error)."""
    try:
        return date.fromisoformat(texte)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date invalide « {texte} » (attendu : AAAA-MM-JJ)") from None


def cmd_episode(args: argparse.Namespace) -> int:
    """An episode's document from the records: the pre-filled DAP (PDF), the BDK summary sheet (PDF or text).

    The day defaults to today (read here, never in the export); the read and the export are both audited.
    """
    jour = args.jour or date.today()
    with _depot(args) as depot:
        octets = depot.document_episode(args.episode, args.format, jour, acteur=args.acteur)
    _ecrire_sortie(octets, args.sortie)
    return 0


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
        u = depot.creer_utilisateur(identifiant=args.identifiant, nom=args.nom or args.identifiant, role=args.role,
                                    mot_de_passe=mot_de_passe, source=args.source, acteur="ligne_de_commande")
    print(f"Compte créé : {u.identifiant} ({u.role}).")
    return 0


APPLICATION = Path(__file__).resolve().parent / "ui" / "app.py"
LOCALE = "127.0.0.1"
TOUTES_LES_INTERFACES = "0.0.0.0"  # only with « serve --reseau »

# Server settings passed on the command line, so that they hold whatever the working directory (Streamlit reads
# .streamlit/config.toml from the current folder only): no telemetry, no outbound look-up at start (Streamlit
# guesses its « External URL » by calling an outside service and its « Network URL » with a UDP connect unless
# its welcome message is hidden), no tracebacks shown to users, no file watcher.
OPTIONS_SERVEUR = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "logger.hideWelcomeMessage": "true",
    "client.showErrorDetails": "none",
    "client.toolbarMode": "minimal",  # no app menu (Print, Record screen: English, not for a kiné)
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "server.enableXsrfProtection": "true",
    # Many tablets on one process (issue #25): Streamlit's full garbage collection after every run (~170 ms with the
    # page's objects) holds the interpreter, so every other session waits and SQLite writes time out behind it. At
    # 10 tablets it took 86 % of the server's time (p95 per tap 2,075 ms; 11,112 ms and « base occupée » at 30); off,
    # p95 223 ms at 30 tablets. Python's own generational collector still frees cycles (memory: bench/charge.py).
    "runner.postScriptGC": "false",
}


def _est_locale(adresse: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(adresse).is_loopback
    except ValueError:
        return adresse == "localhost"


# The page's settings (theme, runner…): the project's own file, found from the package (an absolute path), so
# that they hold whatever folder ``serve`` is started from; OPTIONS_SERVEUR come on top.
CONFIG_PAGE = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"


def options_page(chemin: Path = CONFIG_PAGE) -> dict[str, str]:
    """Every ``section.option`` of the page's config file, as Streamlit's command line takes them."""
    import tomllib

    if not chemin.is_file():
        return {}
    options: dict[str, str] = {}
    for section, valeurs in tomllib.loads(chemin.read_text(encoding="utf-8")).items():
        for nom, valeur in valeurs.items():
            options[f"{section}.{nom}"] = str(valeur).lower() if isinstance(valeur, bool) else str(valeur)
    return options


def commande_serveur(port: int, adresse: str = LOCALE, certificat: Path | None = None,
                     cle: Path | None = None) -> list[str]:
    """The command line of the page's server (Streamlit's, through :mod:`triage_app.ui.serveur`: security headers,
    private files)."""
    argv = [sys.executable, "-m", "triage_app.ui.serveur", "run", str(APPLICATION)]
    for option, valeur in (options_page() | OPTIONS_SERVEUR | {"server.port": str(port),
                                                                  "server.address": adresse}).items():
        argv += [f"--{option}", valeur]
    if certificat is not None and cle is not None:
        argv += ["--server.sslCertFile", str(certificat), "--server.sslKeyFile", str(cle)]
    return argv


def _fichier_lisible(chemin: str | None, champ: str) -> Path | None:
    if chemin is None:
        return None
    p = Path(chemin)
    if not p.is_file():
        raise ErreurSaisie([Probleme(champ, f"fichier introuvable : {chemin}")])
    try:
        p.read_bytes()
    except OSError as exc:
        raise ErreurSaisie([Probleme(champ, f"fichier illisible : {chemin} ({exc.strerror})")]) from None
    return p


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the page (replaces this process with Streamlit's server)."""
    from triage_app.config import Reglages
    from triage_app.storage.service import Depot

    if (args.certificat is None) != (args.cle is None):
        raise ErreurSaisie([Probleme("--certificat" if args.certificat is None else "--cle",
                                     "HTTPS demande à la fois --certificat et --cle")])
    certificat = _fichier_lisible(args.certificat, "--certificat")
    cle = _fichier_lisible(args.cle, "--cle")
    adresse = args.adresse or (TOUTES_LES_INTERFACES if args.reseau else LOCALE)
    # Create and migrate the database before the first visitor, so a bad setting fails here, in French.
    Depot(Reglages().url_base).fermer()
    schema = "https" if certificat else "http"
    hote = "localhost" if _est_locale(adresse) or adresse == TOUTES_LES_INTERFACES else adresse
    print(f"triage_app : {schema}://{hote}:{args.port} (Ctrl-C pour arrêter)", flush=True)
    if _est_locale(adresse):
        print("Page servie sur ce poste seulement (127.0.0.1). Pour les tablettes du réseau : "
              "triage-app serve --reseau --certificat CERT.pem --cle CLE.pem.", flush=True)
    elif certificat is None:
        print(f"ATTENTION : page ouverte au réseau ({adresse}) sans HTTPS. Les tablettes ont besoin de HTTPS "
              "(données de santé, connexion, WebSocket) : donner le certificat de la structure avec "
              "--certificat CERT.pem --cle CLE.pem, ou servir sur 127.0.0.1 derrière un proxy inverse TLS "
              "(voir le README).", file=sys.stderr, flush=True)
    else:
        print(f"Page ouverte au réseau ({adresse}) en HTTPS : les tablettes l'ouvrent à "
              f"https://<nom ou adresse de ce poste>:{args.port} (le nom doit figurer dans le certificat).",
              flush=True)
    argv = commande_serveur(args.port, adresse, certificat, cle)
    os.execv(argv[0], argv)
    return 0  # pragma: no cover - execv does not return


def construire_parseur() -> argparse.ArgumentParser:
    """The argument parser (French help)."""
    from triage_app.engine.lot import SEUIL_PROCESSUS

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
    ra.add_argument("--annee", type=int, default=date.today().year, help="année civile (défaut : l'année en cours)")
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
    se.add_argument("--port", type=int, default=8501, help="port HTTP (défaut : 8501)")
    ecoute = se.add_mutually_exclusive_group()
    ecoute.add_argument("--adresse", metavar="IP", help="adresse d'écoute (défaut : 127.0.0.1, ce poste seulement)")
    ecoute.add_argument("--reseau", action="store_true",
                        help="écouter sur toutes les interfaces (tablettes du réseau : HTTPS nécessaire)")
    se.add_argument("--certificat", metavar="CERT.pem", help="HTTPS : certificat de la structure (PEM)")
    se.add_argument("--cle", metavar="CLE.pem", help="HTTPS : clé privée du certificat (PEM)")
    se.set_defaults(fonction=cmd_serve)
    sc = sous.add_parser("schemas", help="vérifier (ou --ecrire) les schémas JSON de protocols/schema/")
    sc.add_argument("--ecrire", action="store_true", help="réécrire les schémas depuis les modèles")
    sc.set_defaults(fonction=cmd_schemas)
    return parseur


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


if __name__ == "__main__":
    sys.exit(main())
