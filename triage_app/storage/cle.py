"""The structure's secret key, kept outside the database: it keys the audit chain's anchor (a MAC no one can
recompute with write access to the database alone) and the hash of the identifiers typed at a failed login.

From ``TRIAGE_CLE_SECRETE`` (64 hexadecimal characters, for a server whose data directory is not writable), else
the file ``cle_secrete`` of the data directory, created once with 32 random bytes, mode 0600.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from triage_app.config import Reglages
from triage_app.errors import ErreurSaisie, Probleme

NOM_FICHIER = "cle_secrete"
VARIABLE = "TRIAGE_CLE_SECRETE"


class CleAbsente(ErreurSaisie):
    """The database's audit chain is sealed and the key that sealed it is missing: it must be restored from its
    backup (a new key would seal the next events with another key, and the chain could never be verified again)."""

    def __init__(self, chemin: str) -> None:
        super().__init__([Probleme(chemin, "clé secrète absente alors que la base a déjà une chaîne d'audit scellée : "
                                           "restaurer le fichier de clé depuis sa sauvegarde (avec la base) ; "
                                           "aucune nouvelle clé n'a été créée")])


def cle_secrete(reglages: Reglages | None = None, *, creer: bool = True) -> bytes:
    """The key (32 bytes): from the environment, else the data directory's file, created if missing only when
    ``creer`` (a new database); for a database whose chain is sealed, a missing key raises :class:`CleAbsente`."""
    texte = os.environ.get(VARIABLE)
    if texte:
        try:
            cle = bytes.fromhex(texte.strip())
        except ValueError:
            cle = b""
        if len(cle) < 32:
            raise ErreurSaisie([Probleme(VARIABLE, "64 caractères hexadécimaux attendus (32 octets)")])
        return cle
    dossier = Path((reglages or Reglages()).data_dir)
    chemin = dossier / NOM_FICHIER
    if not chemin.exists():
        if not creer:
            raise CleAbsente(str(chemin))
        dossier.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            descripteur = os.open(chemin, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: read theirs
            pass
        else:
            with os.fdopen(descripteur, "wb") as fichier:
                fichier.write(secrets.token_bytes(32))
    cle = chemin.read_bytes()
    if len(cle) < 32:
        raise ErreurSaisie([Probleme(str(chemin), "clé secrète tronquée (32 octets attendus)")])
    return cle


def empreinte_identifiant(cle: bytes, identifiant: str) -> str:
    """What the audit records of an identifier typed at a failed login: a keyed hash, never the text (it may be a
    patient's name or a password typed in the wrong field). The same text gives the same value (repeated
    attempts can be counted), which cannot be reversed without the key."""
    return "essai:" + hmac.new(cle, identifiant.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
