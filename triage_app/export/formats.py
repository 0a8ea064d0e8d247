"""One entry point for every export format, shared by the command line and the page."""

from __future__ import annotations

from dataclasses import dataclass

from triage_app.engine.evaluation import Moteur
from triage_app.export.resume import Resume, nom_fichier


@dataclass(frozen=True)
class Format:
    """An export format: its name on the command line, its label on the page, its file type."""

    id: str
    libelle: str
    mime: str
    extension: str
    suffixe: str = ""
    logiciel: bool = False  # a structured format, for the practice or DMP software rather than a person to read


FORMATS: dict[str, Format] = {f.id: f for f in (
    Format("pdf", "Compte rendu (PDF)", "application/pdf", "pdf"),
    Format("fhir", "FHIR (JSON)", "application/fhir+json", "json", "_fhir", logiciel=True),
    Format("fhir-document", "Document FHIR (JSON)", "application/fhir+json", "json", "_fhir_document", logiciel=True),
    Format("txt", "Texte pour messagerie", "text/plain", "txt"),
    Format("handout", "Fiche patient (PDF)", "application/pdf", "pdf", "_fiche_patient"),
    Format("cda", "Document CDA (DMP)", "text/xml", "xml", "_cda", logiciel=True),
    Format("xdm", "Lot MSSanté (IHE XDM)", "application/zip", "zip", "_mssante", logiciel=True),
)}


def exporter(resume: Resume, m: Moteur, format_: str) -> bytes:
    """The summary in ``format_`` (one of :data:`FORMATS`), as bytes; ``cda`` wraps the ``pdf`` bytes, ``xdm``
    packages the ``cda`` document."""
    if format_ == "pdf":
        from triage_app.export.pdf import pdf_resume

        return pdf_resume(resume)
    if format_ == "handout":
        from triage_app.export.pdf import pdf_fiche_patient

        return pdf_fiche_patient(resume, m)
    if format_ == "fhir":
        from triage_app.export.fhir import bundle_json

        return bundle_json(resume, m).encode("utf-8")
    if format_ in ("cda", "xdm"):
        from triage_app.export.cda import document_cda, paquet_xdm
        from triage_app.export.pdf import pdf_resume

        document = document_cda(resume, m, pdf_resume(resume))
        return document if format_ == "cda" else paquet_xdm(resume, m, document)
    if format_ == "fhir-document":
        from triage_app.export.fhir_document import document_json

        return document_json(resume, m).encode("utf-8")
    if format_ == "txt":
        from triage_app.export.texte import texte

        return texte(resume).encode("utf-8")
    raise ValueError(f"format d'export inconnu : {format_} (attendu : {', '.join(FORMATS)})")


def nom_export(resume: Resume, format_: str) -> str:
    """The download file name: protocol, date, opaque id and format — never the patient's name."""
    f = FORMATS[format_]
    return nom_fichier(resume, f.extension, f.suffixe)
