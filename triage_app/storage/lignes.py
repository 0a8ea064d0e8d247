"""Every stored record sealed by the audit chain (issue #28), not only the finalised triage.

Each write transaction notes the rows it inserted, changed or deleted (the ORM's flushes, and the rows a statement
changes in bulk, named by the caller); just before it commits, each such row is read back and its keyed digest
(HMAC-SHA-256 with the structure's key, over the table, the id and every column) goes into the transaction's last
audit event (``details["lignes"]``: ``[table, id, digest or null when deleted]``). :func:`verifier_lignes` replays
those digests and reads every row of the sealed tables: a row changed, deleted or added by someone who has the
database but not the key is named (table and opaque id: never its content). A keyed digest reveals nothing of a
row, even after an RGPD erasure.

A database made before this release gets one event with the digests of all its rows (migration 0009); a later
migration that changes rows must do the same for the rows it changes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from triage_app.storage.tables import Base

# The tables whose every row the chain seals (the chain's own tables apart).
TABLES_SCELLEES = ("structure", "patients", "episodes", "seances", "triages", "utilisateurs", "mesures")


def _table(nom: str) -> Table:
    return Base.metadata.tables[nom]


def _cle_primaire(table: Table) -> Any:
    (colonne,) = table.primary_key.columns
    return colonne


def _valeur(v: Any) -> Any:
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def empreinte_ligne(cle: bytes, table: str, ligne: Any) -> str:
    """The keyed digest of a row as the database gives it back (every column that holds a value: a column added
    later by a migration, still empty, leaves the seal of the rows as it was; a value set to NULL still shows)."""
    contenu = json.dumps({c: _valeur(v) for c, v in dict(ligne._mapping).items() if v is not None}, sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"), default=str)
    return hmac.new(cle, f"{table}|{contenu}".encode(), hashlib.sha256).hexdigest()


def empreintes(session: Session, cle: bytes, lignes: Iterable[tuple[str, str]]) -> list[list[Any]]:
    """``[table, id, digest or None]`` of each row as it now stands in the transaction, sorted."""
    par_table: dict[str, set[str]] = {}
    for table, pk in lignes:
        par_table.setdefault(table, set()).add(pk)
    sortie: list[list[Any]] = []
    for nom, ids in sorted(par_table.items()):
        table = _table(nom)
        colonne = _cle_primaire(table)
        valeurs = [int(pk) for pk in ids] if colonne.type.python_type is int else list(ids)
        lues = {str(ligne._mapping[colonne.name]): ligne
                for ligne in session.execute(select(table).where(colonne.in_(valeurs)))}
        sortie += [[nom, pk, empreinte_ligne(cle, nom, lues[pk]) if pk in lues else None] for pk in sorted(ids)]
    return sortie


def toutes(session: Session, cle: bytes) -> list[list[Any]]:
    """The digests of every row of every sealed table (a database's baseline). Only the columns the database has
    now are read: a migration that runs before a later one adds its columns (those, empty, do not count in a
    digest: :func:`empreinte_ligne`) or creates its table."""
    from sqlalchemy import inspect

    presentes = inspect(session.connection())
    sortie: list[list[Any]] = []
    for nom in TABLES_SCELLEES:
        if not presentes.has_table(nom):  # a table a later migration creates (empty until then: nothing to seal)
            continue
        table = _table(nom)
        colonne = _cle_primaire(table)
        noms = {c["name"] for c in presentes.get_columns(nom)}
        requete = select(*(c for c in table.columns if c.name in noms))
        sortie += sorted([nom, str(ligne._mapping[colonne.name]), empreinte_ligne(cle, nom, ligne)]
                         for ligne in session.execute(requete))
    return sortie


def ligne_de(objet: Any) -> tuple[str, str] | None:
    """``(table, id)`` of an ORM object of a sealed table, else ``None``."""
    table = getattr(objet, "__tablename__", None)
    if table not in TABLES_SCELLEES:
        return None
    colonne = _cle_primaire(_table(table))
    pk = getattr(objet, colonne.key, None)
    return None if pk is None else (table, str(pk))


def verifier_lignes(session: Session, cle: bytes, attendues: dict[tuple[str, str], str | None]) -> str | None:
    """The first row that differs from what the chain sealed (changed, deleted or added outside the application),
    named by table and id; ``None`` when every row is as sealed."""
    for nom in TABLES_SCELLEES:
        table = _table(nom)
        colonne = _cle_primaire(table)
        presentes: set[str] = set()
        for ligne in session.execute(select(table)):
            pk = str(ligne._mapping[colonne.name])
            presentes.add(pk)
            if (nom, pk) not in attendues or attendues[(nom, pk)] is None:
                return f"{nom} {pk} : ligne ajoutée hors de l'application (aucun événement ne l'a écrite)"
            if not hmac.compare_digest(attendues[(nom, pk)] or "", empreinte_ligne(cle, nom, ligne)):
                return f"{nom} {pk} : ligne modifiée hors de l'application"
        for (t, pk), empreinte in attendues.items():
            if t == nom and empreinte is not None and pk not in presentes:
                return f"{nom} {pk} : ligne supprimée hors de l'application (aucun événement ne l'a effacée)"
    return None
