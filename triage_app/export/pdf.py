"""The médecin's one-page summary and the patient handout as PDF/A, laid out by Typst.

The templates (``modeles/*.typ``) receive every value as one JSON document through ``sys.inputs`` — no
text is ever spliced into Typst source, so nothing needs escaping. Only Typst's embedded fonts are used
(the output does not depend on the fonts of the machine) and the document date is the summary's
``genere_le``: the same :class:`Resume` always gives the same bytes, and nothing here reads the clock.
"""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import segno
import typst

from triage_app import presentation as pr
from triage_app.engine.evaluation import Moteur
from triage_app.export.resume import Resume

MODELES = Path(__file__).resolve().parent / "modeles"
NORME_PDF = "a-2b"
# Border of the QR code, in modules: the quiet zone the readers need (ISO/IEC 18004).
MARGE_QR = 4
# Orientations for which the patient is sent to a médecin: the handout says to bring it along.
_VERS_MEDECIN = frozenset({"urgences", "medecin_jour", "medecin_programme"})


def qr_png(contenu: str) -> bytes:
    """A QR code holding ``contenu`` exactly, as a one-pixel-per-module PNG with its quiet zone."""
    sortie = io.BytesIO()
    segno.make(contenu, error="m", micro=False).save(sortie, kind="png", scale=1, border=MARGE_QR)
    return sortie.getvalue()


def _horodatage(resume: Resume) -> dict[str, int]:
    """The document date (PDF metadata, UTC) from the summary's generation time."""
    if resume.genere_le_utc:
        moment = datetime.fromisoformat(resume.genere_le_utc)
    else:  # a naive time (tests): taken as written
        moment = datetime.strptime(resume.genere_le, "%d/%m/%Y à %H:%M")
    return {"annee": moment.year, "mois": moment.month, "jour": moment.day, "heure": moment.hour,
            "minute": moment.minute}


# A word longer than this is given break opportunities (a zero-width space every ``_MORCEAU`` characters): Typst
# does not hyphenate (``hyphenate: false``) and would let a 400-character word run off the page.
_MOT_LONG = re.compile(r"\S{41,}")
_MORCEAU = 30


def coupable(valeur: Any) -> Any:
    """Every string of the template's data with its very long words made breakable (the text is unchanged)."""
    if isinstance(valeur, str):
        return _MOT_LONG.sub(lambda m: "\u200b".join(m.group(0)[i:i + _MORCEAU]
                                                     for i in range(0, len(m.group(0)), _MORCEAU)), valeur)
    if isinstance(valeur, dict):
        return {k: (v if k in _BRUTS or "url" in k else coupable(v)) for k, v in valeur.items()}
    if isinstance(valeur, list):
        return [coupable(v) for v in valeur]
    return valeur


# Values kept as they are: an image, a hash printed whole, and (by their key) addresses.
_BRUTS = frozenset({"qr", "empreinte_regles"})


def _compiler(modele: str, donnees: dict[str, Any]) -> bytes:
    pdf = typst.compile(str(MODELES / modele), format="pdf", ignore_system_fonts=True,
                        sys_inputs={"donnees": json.dumps(coupable(donnees), ensure_ascii=False, default=str)},
                        pdf_standards=[NORME_PDF])
    assert isinstance(pdf, bytes)
    return pdf


def donnees_resume(resume: Resume, qr: bool = True) -> dict[str, Any]:
    """What ``resume.typ`` reads: the summary, the document date, and the QR code (the triage id only)."""
    code = qr_png(resume.triage_id) if qr and resume.triage_id else None
    return {"resume": resume.en_dict(), "date": _horodatage(resume),
            "qr": list(code) if code is not None else None,
            "titres": {"non_applicable": pr.PROTOCOLE_NON_APPLICABLE, "conseil_kine": pr.CONSEIL_KINE}}


def pdf_resume(resume: Resume, qr: bool = True) -> bytes:
    """The one-page A4 summary for the médecin (French), with a QR code of the triage id when there is one."""
    return _compiler("resume.typ", donnees_resume(resume, qr))


def _suite(resume: Resume) -> list[str]:
    """The next steps, in plain words, from the orientation card."""
    c = resume.carte
    if c.orientation is None:
        return ["Votre kinésithérapeute termine le bilan avec vous, puis vous explique la suite."]
    suite = []
    if c.orientation in _VERS_MEDECIN:
        suite.append("Montrez cette fiche au médecin que vous allez voir.")
    elif c.seances and c.seances["restantes"] > 0:
        s = c.seances
        faites = f" (déjà faites : {s['realisees']})" if s["realisees"] else ""
        suite.append(f"Vous pouvez avoir jusqu’à {s['restantes']} séance(s) de kinésithérapie pour ce problème"
                     f"{faites}.")
        if s.get("consultations_protocole", 0) >= 2:
            suite.append("Votre kinésithérapeute vous reverra pour un nouveau bilan, pour voir comment vous allez.")
    if c.avis_medical and c.orientation not in _VERS_MEDECIN:
        suite.append("Votre kinésithérapeute vous conseille aussi de prendre l’avis de votre médecin traitant.")
    suite.append("Gardez cette fiche et apportez-la à vos prochains rendez-vous.")
    return suite


def donnees_fiche_patient(resume: Resume, moteur: Moteur) -> dict[str, Any]:
    """What ``fiche_patient.typ`` reads: plain-French sentences only (no codes, no rules vocabulary)."""
    c = resume.carte
    orientations = {o.id: o for o in moteur.registre.commun.orientations}
    o = orientations.get(c.orientation) if c.orientation else None
    conseils = moteur.protocoles[resume.protocole_id].modele.conseils_patient
    # Self-care advice is for a finished, non-urgent assessment: an urgent patient reads the urgent sentence
    # instead, and an unfinished one may still hide a red flag.
    a_faire = [] if c.urgence or c.orientation is None else conseils.conseils
    sources = moteur.registre.sources
    ids = dict.fromkeys(x.source for x in (*a_faire, *conseils.revenir_si))
    return {
        "date": _horodatage(resume),
        "patient": resume.patient,
        "date_consultation": resume.date_consultation,
        "structure": resume.structure,
        "orientation": o.patient if o else None,
        "urgence": c.urgence,
        "rang": c.rang,
        "conseils": [x.texte for x in a_faire],
        "revenir_si": [x.texte for x in conseils.revenir_si],
        "suite": _suite(resume),
        "sources": [sources[i].titre if i in sources else i for i in ids],
    }


def pdf_fiche_patient(resume: Resume, moteur: Moteur) -> bytes:
    """The one-page patient handout (plain French, larger print): meaning, what to do, when to come back."""
    return _compiler("fiche_patient.typ", donnees_fiche_patient(resume, moteur))
