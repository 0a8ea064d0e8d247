"""What the commands share: reading a case, French errors, the records of ``--base``, dates and counts
as typed."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage_app.errors import ErreurCas, ErreurChargement, ErreurSaisie, Probleme

if TYPE_CHECKING:
    from triage_app.services.application import Services


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


def _depot(args: argparse.Namespace) -> Services:
    """The database of ``--base`` (or the settings'); use as a context manager, so it is closed after use."""
    from triage_app.services.application import Services

    return Services(args.base)


def _ecrire_sortie(octets: bytes, sortie: str | None) -> None:
    if sortie and sortie != "-":
        descripteur = os.open(sortie, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descripteur, "wb") as fichier:
            fichier.write(octets)
        os.chmod(sortie, 0o600)  # an existing file keeps its mode on open: made private too
    else:
        sys.stdout.buffer.write(octets)
        sys.stdout.buffer.flush()


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
        n = max(1, int(texte))
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre de processus invalide « {texte[:40]} » (attendu : un entier ou "
                                         "« auto »)") from None
    if n > PROCESSUS_MAX:  # each one forks the whole engine: a typo must not fork thousands (issue #28)
        raise argparse.ArgumentTypeError(f"au plus {PROCESSUS_MAX} processus")
    return n


PROCESSUS_MAX = 64


def _jour(texte: str) -> date:
    """``--jour AAAA-MM-JJ`` (French error)."""
    try:
        return date.fromisoformat(texte)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date invalide « {texte} » (attendu : AAAA-MM-JJ)") from None


# Who acts when the command line is run by the machine's operator rather than a named account.
ACTEUR_LIGNE_DE_COMMANDE = "ligne_de_commande"


def _acteur(depot: Services, acteur: str) -> str:
    """``--acteur`` as the audit will record it: an active account's identifier, or ``ligne_de_commande``. Anything
    else is refused without repeating it (free text could be a patient's name; issue #28)."""
    if acteur == ACTEUR_LIGNE_DE_COMMANDE:
        return acteur
    identifiant = acteur.strip().lower()
    if len(identifiant) > 200 or depot.comptes.jeton_session(identifiant) is None:
        raise ErreurSaisie([Probleme("--acteur", "l'identifiant d'un compte actif de la structure (page « Comptes »), "
                                                 f"ou « {ACTEUR_LIGNE_DE_COMMANDE} »")])
    return identifiant


def _annee(texte: str) -> int:
    """``--annee`` (a calendar year of the dates the product handles)."""
    try:
        annee = int(texte)
    except ValueError:
        raise argparse.ArgumentTypeError(f"année invalide « {texte[:20]} » (attendu : AAAA)") from None
    if not 1900 <= annee <= 2100:
        raise argparse.ArgumentTypeError("année entre 1900 et 2100 attendue")
    return annee


def _port(texte: str) -> int:
    """``--port`` (1 to 65535)."""
    try:
        port = int(texte)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port invalide « {texte[:20]} » (attendu : un nombre)") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError("port entre 1 et 65535 attendu")
    return port
