"""Re-evaluation: every current final triage replayed with the rules in force now, and what would change, field by
field (a new rules version is checked against the stored decisions before it is used)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select

from triage_app.domain.montants import reste
from triage_app.engine.lot import evaluer_lot
from triage_app.services.base import Service
from triage_app.storage.tables import FINAL, Triage


@dataclass(frozen=True)
class Changement:
    """A stored final triage whose result would change under the rules in force now.

    ``avant``/``apres`` are the compared summaries (:func:`_resume`); ``pourquoi`` says in French what differs,
    each entry naming the result field (« seances.restantes : 15 → 1 »); the protocol versions are reported but
    a new version alone is not a change.
    """

    triage_id: str
    avant: dict[str, Any]
    apres: dict[str, Any]
    version_avant: str | None = None
    version_apres: str | None = None
    pourquoi: tuple[str, ...] = ()


def _part_patient(ligne: dict[str, Any]) -> float | None:
    """A line's patient share; a result written before rules v2 has none: the amount less the reimbursed share
    (what it implied), so that an unchanged cover is not reported as a change."""
    if "part_patient_eur" in ligne:
        return ligne["part_patient_eur"]
    montant, rembourse = ligne.get("montant_eur"), ligne.get("part_remboursee_eur")
    return None if montant is None or rembourse is None else reste(montant, rembourse)


def _resume(resultat: dict[str, Any]) -> dict[str, Any]:
    """What a re-evaluation compares in a result. A field an older result lacks counts as empty
    (``criteres_non_remplis``, ``conseils_kine``: rules v2)."""
    if "erreur" in resultat:
        return {"erreur": resultat["erreur"]}
    fac = resultat.get("facturation") or {}
    lignes = fac.get("lignes") or []
    seances = resultat.get("seances")

    def ids(champ: str) -> list[str]:
        return [m["id"] for m in resultat.get(champ) or []]

    return {"orientation": resultat.get("orientation"), "voie": fac.get("voie"),
            "lignes": [(ligne["code"], ligne["montant_eur"]) for ligne in lignes],
            "parts": [(ligne["code"], ligne.get("part_remboursee_eur"), _part_patient(ligne)) for ligne in lignes],
            "motifs": ids("motifs"), "criteres_non_remplis": ids("criteres_non_remplis"),
            "seances": None if seances is None else {"autorisees": seances.get("autorisees"),
                                                     "restantes": seances.get("restantes")},
            "conseils_kine": ids("conseils_kine")}


def _valeur_texte(valeur: Any) -> str:
    """A compared value in French: « — » for none, euros with a decimal comma."""
    if valeur is None:
        return "—"
    if isinstance(valeur, float):
        return f"{valeur:.2f}".replace(".", ",")
    return str(valeur)


def _differences_ids(champ: str, avant: list[str], apres: list[str]) -> list[str]:
    out = [f"{champ} : + {i}" for i in apres if i not in avant] + [f"{champ} : - {i}" for i in avant if i not in apres]
    if not out and avant != apres:
        out.append(f"{champ} : ordre {', '.join(avant)} → {', '.join(apres)}")
    return out


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Each difference between two summaries (:func:`_resume`), in French, naming the result field."""
    if "erreur" in a or "erreur" in b:
        return [f"erreur : {_valeur_texte(a.get('erreur'))} → {_valeur_texte(b.get('erreur'))}"]
    out = [f"{champ} : {_valeur_texte(a[cle])} → {_valeur_texte(b[cle])}"
           for champ, cle in (("orientation", "orientation"), ("facturation.voie", "voie")) if a[cle] != b[cle]]

    def lignes(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {code: {"montant_eur": montant, "part_remboursee_eur": rembourse, "part_patient_eur": patient}
                for (code, montant), (_, rembourse, patient) in zip(r["lignes"], r["parts"], strict=True)}

    la, lb = lignes(a), lignes(b)
    out += [f"facturation.lignes : {code} retirée" for code in la if code not in lb]
    out += [f"facturation.lignes : {code} ajoutée" for code in lb if code not in la]
    out += [f"facturation.lignes : {code} {cle} {_valeur_texte(v)} → {_valeur_texte(lb[code][cle])}"
            for code, valeurs in la.items() if code in lb for cle, v in valeurs.items() if lb[code][cle] != v]
    codes_a, codes_b = [c for c, _ in a["lignes"]], [c for c, _ in b["lignes"]]
    if set(codes_a) == set(codes_b) and codes_a != codes_b:
        out.append(f"facturation.lignes : ordre {', '.join(codes_a)} → {', '.join(codes_b)}")
    out += _differences_ids("motifs", a["motifs"], b["motifs"])
    out += _differences_ids("criteres_non_remplis", a["criteres_non_remplis"], b["criteres_non_remplis"])
    sa, sb = a["seances"] or {}, b["seances"] or {}
    out += [f"seances.{cle} : {_valeur_texte(sa.get(cle))} → {_valeur_texte(sb.get(cle))}"
            for cle in ("autorisees", "restantes") if sa.get(cle) != sb.get(cle)]
    out += _differences_ids("conseils_kine", a["conseils_kine"], b["conseils_kine"])
    return out

class ServiceReevaluation(Service):
    """What the rules in force now would change in the stored decisions."""

    def reevaluer(self, processus: int | None = None) -> list[Changement]:
        """Replay every current final triage with the rules in force now; list those whose result changes.

        Compared: orientation, billing route, lines (amount, reimbursed and patient shares), motif ids, failed
        eligibility criteria, sessions allowed and remaining, advice to the kiné (see :func:`_resume`).
        """
        with self.uow.lecture() as s:
            stockes = [(t.id, t.cas, t.resultat or {}) for t in
                       s.scalars(select(Triage).where(Triage.statut == FINAL).order_by(Triage.cree_le))]
        lignes = [orjson.dumps(cas) for _, cas, _ in stockes]
        sorties = b"".join(texte for texte, _ in evaluer_lot(lignes, processus, regles=self.moteur)).splitlines()
        changements = []
        for (tid, _, avant), sortie in zip(stockes, sorties, strict=True):
            apres = orjson.loads(sortie)
            apres.pop("ligne", None)  # the batch's line number, not part of the result
            a, b = _resume(avant), _resume(apres)
            if a != b:
                changements.append(Changement(tid, a, b, avant.get("version_protocole"),
                                              apres.get("version_protocole"), tuple(_differences(a, b))))
        return changements
