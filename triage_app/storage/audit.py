"""The audit trail: append-only, hash-chained events, anchored by a keyed MAC, and their verification.

Each event's hash covers the previous event's hash and its own content, so changing or removing any row breaks
the chain at that row. The chain's head (last number and hash) carries an HMAC made with the structure's secret
key, kept outside the database: whoever can write to the database but lacks the key cannot recompute the chain
after a change, nor cut its tail, without :func:`verifier` seeing it. The database refuses UPDATE and DELETE on
the events and any change to a finalised triage (triggers); :func:`verifier` also finds what an administrator
bypassing them would have broken: each finalised triage is checked against the fingerprint of every stored
field, taken when it was finalised.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from triage_app.storage import lignes
from triage_app.storage.tables import EvenementAudit, TeteAudit, Triage

GENESE = "0" * 64


def empreinte_evenement(precedent: str, seq: int, horodatage: str, type_: str, triage_id: str | None,
                        acteur: str, details: dict[str, Any]) -> str:
    """SHA-256 of the previous hash and the event's canonical content."""
    contenu = json.dumps([seq, horodatage, type_, triage_id, acteur, details], sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{precedent}|{contenu}".encode()).hexdigest()


def empreinte_contenu(cas: dict[str, Any], resultat: dict[str, Any] | None) -> str:
    """SHA-256 of a triage's case and result: recorded when it is finalised, checked by :func:`verifier`."""
    contenu = json.dumps([cas, resultat], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(contenu.encode()).hexdigest()


# Every stored field of a triage that a reader sees or that decides, in the fingerprint of a finalised triage
# (the status apart: « final » becomes « remplace » when a new version is finalised, which the chain records).
CHAMPS_FIGES = ("id", "episode_id", "version", "remplace_id", "date_consultation", "cas", "resultat", "orientation",
                "version_protocole", "empreinte_regles", "etape", "note", "auteur", "cree_le", "finalise_le")


def _valeur(v: Any) -> Any:
    if isinstance(v, datetime):  # stored in UTC; SQLite gives it back without its zone
        return (v if v.tzinfo else v.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return v


def empreinte_triage(t: Triage) -> str:
    """SHA-256 of every field of :data:`CHAMPS_FIGES`: recorded when the triage is finalised."""
    contenu = json.dumps({c: _valeur(getattr(t, c)) for c in CHAMPS_FIGES}, sort_keys=True, ensure_ascii=False,
                         separators=(",", ":"), default=str)
    return hashlib.sha256(contenu.encode()).hexdigest()


def mac_tete(cle: bytes, seq: int, empreinte: str) -> str:
    """The head's keyed MAC (HMAC-SHA-256 of its number and hash)."""
    return hmac.new(cle, f"{seq}|{empreinte}".encode(), hashlib.sha256).hexdigest()


class Chaine:
    """Appends events within one write transaction; created by taking the chain's lock.

    The events are queued and written with the transaction's other rows, just before it commits, with the head
    (number, hash, seal): one statement for the head per transaction, while the lock held from the first statement
    keeps the appends serialised. With the key, the rows the transaction wrote in the sealed tables are read back
    then and their keyed digests go into its last event (:mod:`triage_app.storage.lignes`, issue #28)."""

    def __init__(self, session: Session, horodatage: str, cle: bytes | None = None) -> None:
        """``cle``: the structure's secret key, which seals the head and the rows; ``None`` only to write as a release
        before the seal did (the upgrade tests build such databases)."""
        self.session = session
        self.horodatage = horodatage
        self.cle = cle
        self._en_attente: list[tuple[int, str, str, str | None, dict[str, Any]]] = []
        self._lignes: set[tuple[str, str]] = set()
        event.listen(session, "before_commit", self._ecrire_tete, once=True)
        if cle is not None:
            event.listen(session, "after_flush", self._noter_lignes)
        # First statement of every write transaction: takes the write lock (SQLite) / row lock (PostgreSQL),
        # so that appends are serialised and a transaction never has to upgrade a read lock.
        if cle is None:
            ligne = session.execute(text("UPDATE tete_audit SET seq = seq WHERE id = 1 RETURNING seq, empreinte")).one()
            self.seq, self.empreinte, self.sceau_rompu = int(ligne[0]), str(ligne[1]), False
        else:
            ligne = session.execute(text("UPDATE tete_audit SET seq = seq WHERE id = 1 "
                                         "RETURNING seq, empreinte, mac")).one()
            self.seq, self.empreinte = int(ligne[0]), str(ligne[1])
            # Appending re-seals the head: a seal found broken is written into the chain for good, so that the
            # app's next write never seals over a chain recomputed without the key.
            self.sceau_rompu = self.seq > 0 and (ligne[2] is None or not hmac.compare_digest(
                str(ligne[2]), mac_tete(cle, self.seq, self.empreinte)))

    def ajouter(self, type_: str, acteur: str, triage_id: str | None = None,
                details: dict[str, Any] | None = None) -> int:
        """Append one event (ids, types and hashes only: never personal data); its number."""
        details = dict(details or {})
        if self.sceau_rompu:
            details["sceau_rompu"] = True
            self.sceau_rompu = False
        self.seq += 1
        self._en_attente.append((self.seq, type_, acteur, triage_id, details))
        return self.seq

    def toucher(self, table: str, identifiant: Any) -> None:
        """A row of a sealed table this transaction changed by a bulk statement (the ORM's flushes are seen alone)."""
        self._lignes.add((table, str(identifiant)))

    def _noter_lignes(self, session: Session, _contexte: Any) -> None:
        for objet in (*session.new, *session.dirty, *session.deleted):
            if (ligne := lignes.ligne_de(objet)) is not None:
                self._lignes.add(ligne)

    def ecrire_tete(self) -> None:
        """Write the events and the head now (a migration, whose transaction Alembic commits, not the session)."""
        self._ecrire_tete(self.session)
        self.session.flush()

    def _ecrire_tete(self, session: Session) -> None:
        """Before the commit: the rows' digests into the last event, the events hashed in order, the head moved to
        the last one and sealed with the key."""
        if self.cle is not None:
            session.flush()  # the transaction's last changes, so that their rows are read as they will be stored
            if self._lignes:
                scellees = lignes.empreintes(session, self.cle, self._lignes)
                if not self._en_attente:
                    self.ajouter("lignes", "systeme")
                self._en_attente[-1][4]["lignes"] = scellees
        if not self._en_attente:
            return
        precedent = self.empreinte
        for seq, type_, acteur, triage_id, details in self._en_attente:
            empreinte = empreinte_evenement(precedent, seq, self.horodatage, type_, triage_id, acteur, details)
            session.add(EvenementAudit(seq=seq, horodatage=self.horodatage, type=type_, triage_id=triage_id,
                                       acteur=acteur, details=details, precedent=precedent, empreinte=empreinte))
            precedent = empreinte
        self.empreinte = precedent
        self._en_attente.clear()
        valeurs: dict[str, Any] = {"seq": self.seq, "empreinte": self.empreinte}
        if self.cle is not None:
            valeurs["mac"] = mac_tete(self.cle, self.seq, self.empreinte)
        session.execute(update(TeteAudit).where(TeteAudit.id == 1).values(**valeurs))


@dataclass(frozen=True)
class PointControle:
    """A link of the chain kept outside the database (``seq:empreinte``): a copy of the database rolled back as a
    whole to before it, or a chain rewritten with the key, no longer has it. The head's seal cannot see either."""

    seq: int
    empreinte: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.empreinte}"

    @classmethod
    def lire(cls, texte: str) -> PointControle:
        """Read ``N:EMPREINTE`` (N ≥ 1, 64 hexadecimal characters); ``ValueError`` in French otherwise."""
        seq, _, empreinte = texte.strip().partition(":")
        if not (seq.isdigit() and int(seq) >= 1 and len(empreinte) == 64
                and all(c in "0123456789abcdef" for c in empreinte)):
            raise ValueError("point de contrôle attendu sous la forme N:EMPREINTE (numéro du maillon, deux-points, "
                             "64 caractères hexadécimaux en minuscules), tel que l'affiche « audit verify »")
        return cls(int(seq), empreinte)


@dataclass(frozen=True)
class RapportAudit:
    """Outcome of a verification: ``premier_defaut`` names the first broken link, or is ``None``; ``tete`` is the
    chain's last link, to keep outside the database as a checkpoint (``None`` for an empty chain)."""

    evenements: int
    premier_defaut: str | None
    tete: PointControle | None = None

    @property
    def intact(self) -> bool:
        return self.premier_defaut is None


def verifier(session: Session, cle: bytes, points: tuple[PointControle, ...] = ()) -> RapportAudit:
    """Walk the whole chain, check its head's keyed MAC, and check each finalised triage against the fingerprint
    of every field taken when it was finalised, and its status against the chain (« remplace » only once a newer
    version is finalised). Each checkpoint of ``points`` (links kept outside the database) must be in the chain,
    with the same hash."""
    attendus = {p.seq: p.empreinte for p in points}
    precedent = GENESE
    attendu = 1
    n = 0
    finaux: dict[str, dict[str, Any]] = {}
    remplaces: set[str] = set()
    scellees: dict[tuple[str, str], str | None] = {}
    for ev in session.scalars(select(EvenementAudit).order_by(EvenementAudit.seq)).yield_per(1000):
        n += 1
        if ev.seq != attendu:
            return RapportAudit(n, f"maillon n° {attendu} : absent (le suivant présent est le n° {ev.seq})")
        if ev.precedent != precedent:
            return RapportAudit(n, f"maillon n° {ev.seq} : l'empreinte précédente ne correspond pas au maillon "
                                   f"n° {ev.seq - 1}")
        calcul = empreinte_evenement(ev.precedent, ev.seq, ev.horodatage, ev.type, ev.triage_id, ev.acteur,
                                     ev.details)
        if calcul != ev.empreinte:
            return RapportAudit(n, f"maillon n° {ev.seq} ({ev.type}) : contenu modifié (empreinte recalculée "
                                   "différente)")
        for table, pk, empreinte_ligne in ev.details.get("lignes", ()):
            scellees[(table, pk)] = empreinte_ligne
        if ev.type == "finalisation" and ev.triage_id:
            finaux[ev.triage_id] = ev.details
            if ev.details.get("remplace"):
                remplaces.add(str(ev.details["remplace"]))
        elif ev.type == "effacement":
            for tid in ev.details.get("triages", []):
                finaux.pop(tid, None)
        if ev.seq in attendus and not hmac.compare_digest(attendus[ev.seq], ev.empreinte):
            return RapportAudit(n, f"maillon n° {ev.seq} : différent du point de contrôle gardé hors de la base "
                                   "(chaîne réécrite)")
        if ev.details.get("sceau_rompu"):
            return RapportAudit(n, f"maillon n° {ev.seq} ({ev.type}) : écrit alors que le sceau de la chaîne était "
                                   "absent ou faux (chaîne recalculée ou coupée sans la clé)")
        precedent = ev.empreinte
        attendu += 1
    tete = session.get(TeteAudit, 1)
    if tete is None or tete.seq != attendu - 1 or tete.empreinte != precedent:
        return RapportAudit(n, f"tête de chaîne : attendu le maillon n° {attendu - 1}, la tête indique "
                               f"n° {tete.seq if tete else '?'} (maillons retirés en fin de chaîne ?)")
    if tete.seq > 0 and (tete.mac is None or not hmac.compare_digest(tete.mac, mac_tete(cle, tete.seq,
                                                                                         tete.empreinte))):
        return RapportAudit(n, "tête de chaîne : sceau (MAC) absent ou faux — chaîne recalculée ou coupée sans "
                               "la clé de la structure")
    if points and max(attendus) > tete.seq:
        return RapportAudit(n, f"point de contrôle n° {max(attendus)} absent : la chaîne s'arrête au maillon "
                               f"n° {tete.seq} (base revenue à un état antérieur, par exemple une sauvegarde "
                               "restaurée)")
    for tid, details in finaux.items():
        t = session.get(Triage, tid)
        if t is None:
            return RapportAudit(n, f"triage {tid} : finalisé mais introuvable, sans effacement journalisé")
        if "triage" in details:
            if empreinte_triage(t) != details["triage"]:
                return RapportAudit(n, f"triage {tid} : modifié depuis sa finalisation")
        elif empreinte_contenu(t.cas, t.resultat) != details.get("contenu"):  # finalised before version 0006
            return RapportAudit(n, f"triage {tid} : contenu modifié depuis sa finalisation")
        statut = "remplace" if tid in remplaces else "final"
        if t.statut != statut:
            return RapportAudit(n, f"triage {tid} : statut « {t.statut} » au lieu de « {statut} »")
    if (defaut := lignes.verifier_lignes(session, cle, scellees)) is not None:  # every other record (issue #28)
        return RapportAudit(n, defaut)
    return RapportAudit(n, None, PointControle(tete.seq, tete.empreinte) if tete.seq > 0 else None)


def tete_scellee(connexion: Any) -> bool:
    """Whether the chain's head is sealed (a key was used): then only that key may seal and verify it."""
    ligne = connexion.execute(text("SELECT seq, mac FROM tete_audit WHERE id = 1")).first()
    return ligne is not None and ligne[0] > 0 and ligne[1] is not None
