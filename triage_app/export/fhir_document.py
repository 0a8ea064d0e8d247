"""FHIR R4B ``document`` Bundle of a triage (for the DMP): the Composition first, then the patient (INS when
qualified), the author with their national identifier, the médecin traitant, the structure, the answers and the
impression (:func:`triage_app.export.fhir.bundle`'s resources), deterministic like it.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle

from triage_app.engine.evaluation import Moteur
from triage_app.export.fhir import (
    coding,
    graine_ressources,
    identifiant_fhir,
    reponses_questionnaire,
    ressource_impression,
    ressource_patient,
    resume_texte,
    urn_ressource,
)
from triage_app.export.resume import Resume
from triage_app.models.identites import IdentitePro


def _praticien(m: Moteur, pro: IdentitePro | None, *, nom: str | None = None) -> dict[str, Any]:
    """A Practitioner (FR Core): the national id (8 + RPPS, or 0 + ADELI), the name, the phone."""
    interop = m.registre.interop
    assert interop is not None
    praticien: dict[str, Any] = {"resourceType": "Practitioner",
                                 "meta": {"profile": [interop.fhir.profil_practitioner]}}
    if pro is not None and pro.rpps:
        praticien["identifier"] = [identifiant_fhir(m, "rpps", pro.rpps, national=True)]
    elif pro is not None and pro.adeli:
        praticien["identifier"] = [identifiant_fhir(m, "adeli", pro.adeli, national=True)]
    if pro is not None and pro.nom_famille:
        praticien["name"] = [{"family": pro.nom_famille, "given": [pro.prenom] if pro.prenom else None,
                              "text": f"{pro.prenom or ''} {pro.nom_famille}".strip()}]
    elif nom:
        praticien["name"] = [{"text": nom}]
    if pro is not None and pro.telephone:
        praticien["telecom"] = [{"system": "phone", "value": pro.telephone, "use": "work"}]
    return praticien


def document(resume: Resume, m: Moteur) -> Bundle:
    """A triage as a FHIR R4B ``document`` Bundle: the Composition first (type, subject, author and legal
    attester from the account, custodian the structure), then the Patient (INS when qualified, médecin traitant as
    ``generalPractitioner``), the author, the médecin traitant, the structure, the answers and the impression.

    Deterministic like :func:`bundle`: its timestamp is the triage's finalisation (or the summary's generation
    time for a draft or a case file), never the clock."""
    interop = m.registre.interop
    if interop is None:
        raise ValueError("protocols/interoperabilite.yaml absent : pas de document FHIR")
    graine = graine_ressources(resume)
    p = m.protocoles[resume.protocole_id].modele
    ids = resume.identites
    urn = {n: urn_ressource(graine, n) for n in ("Composition", "Patient", "Auteur", "Medecin", "Structure",
                                         "QuestionnaireResponse", "ClinicalImpression")}
    moment = resume.finalise_le_utc or resume.genere_le_utc or f"{resume.resultat['date_consultation']}"
    patient = ressource_patient(resume, m)
    entrees: list[dict[str, Any]] = []
    auteur = ids.auteur if ids is not None else None
    entrees.append({"fullUrl": urn["Auteur"], "resource": _praticien(m, auteur, nom=resume.auteur)})
    if ids is not None and ids.patient.medecin_nom:
        medecin = IdentitePro(identifiant="", nom=ids.patient.medecin_nom, rpps=ids.patient.medecin_rpps)
        fiche = _praticien(m, medecin, nom=f"Dr {ids.patient.medecin_nom}")
        if ids.patient.medecin_mssante:
            fiche["telecom"] = [{"system": "email", "value": ids.patient.medecin_mssante, "use": "work"}]
        entrees.append({"fullUrl": urn["Medecin"], "resource": fiche})
        patient["generalPractitioner"] = [{"reference": urn["Medecin"]}]
    structure = ids.structure if ids is not None else None
    organisation: dict[str, Any] = {"resourceType": "Organization",
                                    "meta": {"profile": [interop.fhir.profil_organization]},
                                    "name": structure.nom if structure else resume.structure}
    if structure is not None and (structure.finess or structure.siret):
        genre = "finess" if structure.finess else "siret"
        organisation["identifier"] = [identifiant_fhir(m, genre, structure.finess or structure.siret, national=True)]
    if structure is not None and structure.mssante:
        organisation["telecom"] = [{"system": "email", "value": structure.mssante, "use": "work"}]
    entrees.append({"fullUrl": urn["Structure"], "resource": organisation})
    cda = interop.cda
    composition = {
        "resourceType": "Composition", "language": "fr",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": urn["Composition"]},
        "status": "final" if resume.finalise_le_utc else "preliminary",
        "type": {"coding": [coding("http://loinc.org", cda.type_document.code, cda.type_document.libelle)]},
        "subject": {"reference": urn["Patient"]},
        "date": moment,
        "author": [{"reference": urn["Auteur"]}],
        "title": f"Compte rendu de triage kinésithérapique — {p.titre}",
        "confidentiality": cda.confidentialite.code,
        "custodian": {"reference": urn["Structure"]},
        "section": [{"title": "Orientation et motifs", "code": {"text": "Orientation"},
                     "text": {"status": "generated",
                              "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{_xhtml(resume_texte(resume))}</div>'},
                     "entry": [{"reference": urn["ClinicalImpression"]}, {"reference": urn["QuestionnaireResponse"]}]}],
    }
    if resume.finalise_le_utc:
        composition["attester"] = [{"mode": "legal", "time": resume.finalise_le_utc,
                                    "party": {"reference": urn["Auteur"]}}]
    impression = ressource_impression(m, resume, urn["Patient"], urn["QuestionnaireResponse"])
    impression["assessor"] = {"reference": urn["Auteur"]}
    return Bundle.model_validate({
        "resourceType": "Bundle", "language": "fr",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": urn_ressource(graine, "Document")},
        "type": "document",
        "timestamp": moment,
        "entry": [{"fullUrl": urn["Composition"], "resource": composition},
                  {"fullUrl": urn["Patient"], "resource": patient}, *entrees,
                  {"fullUrl": urn["QuestionnaireResponse"],
                   "resource": reponses_questionnaire(resume, p, urn["Patient"])},
                  {"fullUrl": urn["ClinicalImpression"], "resource": impression}],
    })


def _xhtml(texte: str) -> str:
    """Plain text inside the narrative: escaped, line breaks kept."""
    import html

    return "<br/>".join(html.escape(ligne, quote=False) for ligne in texte.splitlines()) or "—"


def document_json(resume: Resume, m: Moteur) -> str:
    """The document Bundle as pretty-printed FHIR JSON."""
    return document(resume, m).model_dump_json(indent=2)
