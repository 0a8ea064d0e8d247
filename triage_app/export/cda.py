"""The summary as a CDA R2 level-1 document (the PDF/A embedded, ``nonXMLBody``), header per the ANS CI-SIS, and
the IHE XDM package (ZIP: ``METADATA.XML`` + the CDA) that MSSanté clients attach.

Built with lxml. Codes, OIDs and templates come from ``protocols/interoperabilite.yaml``; nothing here reads the
clock (the document's time is the triage's finalisation, or the summary's generation time for a draft).
"""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from triage_app.engine.evaluation import Moteur
from triage_app.export.resume import Resume
from triage_app.models.interop import Code, Interop

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
_ESPACE = uuid.UUID("6b1d3f0e-2c41-5f4e-9a57-0c5a1f3b7d21")  # the app's namespace for derived ids (2.25.…)
# IHE XDS identification schemes and classification nodes (ITI TF-3, 4.2.5).
_XDS = {
    "document": "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1",
    "classe": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "confidentialite": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "format": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "etablissement": "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
    "cadre": "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
    "type": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "type_lot": "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500",
    "id_patient": "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
    "id_unique": "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
    "lot_patient": "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
    "lot_unique": "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
    "lot_source": "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832",
}
_LOT_SOUMISSION = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"


def _oid_derive(*parties: str) -> str:
    """An OID under 2.25 (ITU-T X.667: a UUID as an integer), stable for the same parts."""
    return f"2.25.{uuid.uuid5(_ESPACE, '/'.join(parties)).int}"


def _e(parent: Any, nom: str, texte: str | None = None, **attributs: str | None) -> Any:
    el = etree.SubElement(parent, f"{{{HL7}}}{nom}", {k: v for k, v in attributs.items() if v is not None})
    if texte is not None:
        el.text = texte
    return el


def _code(parent: Any, nom: str, c: Code) -> Any:
    return _e(parent, nom, code=c.code, codeSystem=c.systeme, codeSystemName=c.nom_systeme, displayName=c.libelle)


def _ts(moment: str) -> str:
    """An ISO moment (``2026-03-10T12:00:00+00:00``) as an HL7 TS (``20260310120000+0000``)."""
    d = datetime.fromisoformat(moment)
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.strftime("%Y%m%d%H%M%S%z")


def _moment(resume: Resume) -> str:
    return resume.finalise_le_utc or resume.genere_le_utc or f"{resume.resultat['date_consultation']}T00:00:00+00:00"


def _nom(parent: Any, prenom: str | None, nom: str | None, *, naissance: bool = False) -> None:
    el = _e(parent, "name")
    if prenom:
        for p in prenom.split(" ") if naissance else [prenom]:
            _e(el, "given", p)
    if nom:
        _e(el, "family", nom, qualifier="BR" if naissance else None)


def _professionnel(parent: Any, interop: Interop, pro: Any, nom_affiche: str | None) -> None:
    """id (national id), profession code, phone, person's name: the author, the legal authenticator."""
    if pro is not None and pro.rpps:
        _e(parent, "id", root=interop.identifiants["rpps"].oid,
           extension=interop.identifiants["rpps"].prefixe + pro.rpps)
    elif pro is not None and pro.adeli:
        _e(parent, "id", root=interop.identifiants["adeli"].oid,
           extension=interop.identifiants["adeli"].prefixe + pro.adeli)
    else:
        _e(parent, "id", nullFlavor="UNK")
    if pro is not None and pro.profession in interop.professions and interop.professions[pro.profession].code:
        p = interop.professions[pro.profession]
        _e(parent, "code", code=p.code, codeSystem=interop.systeme_professions, displayName=p.libelle)
    if pro is not None and pro.telephone:
        _e(parent, "telecom", value="tel:" + pro.telephone.replace(" ", ""), use="WP")
    personne = _e(parent, "assignedPerson")
    if pro is not None and pro.nom_famille:
        _nom(personne, pro.prenom, pro.nom_famille)
    else:
        _e(personne, "name", nom_affiche or "Professionnel non renseigné")


def _organisation(parent: Any, nom: str, interop: Interop, structure: Any) -> None:
    if structure is not None and (structure.finess or structure.siret):
        genre = "finess" if structure.finess else "siret"
        ident = interop.identifiants[genre]
        _e(parent, "id", root=ident.oid, extension=ident.prefixe + (structure.finess or structure.siret))
    else:
        _e(parent, "id", nullFlavor="UNK")
    _e(parent, "name", nom)
    if structure is not None and structure.telephone:
        _e(parent, "telecom", value="tel:" + structure.telephone.replace(" ", ""), use="WP")
    if structure is not None and structure.mssante:
        _e(parent, "telecom", value="mailto:" + structure.mssante, use="WP")
    if structure is not None and structure.adresse:
        _e(parent, "addr", " ".join(structure.adresse.split()))


def identifiant_document(resume: Resume) -> str:
    """The document's id (root): derived from the triage and its version (the same document gives the same id)."""
    return _oid_derive("cda", resume.triage_id or resume.empreinte_regles, str(resume.version or 0))


def identifiant_patient(resume: Resume, interop: Interop) -> tuple[str, str]:
    """(root, extension) of the patient: the INS when the identity is qualified, else the structure's local id."""
    ids = resume.identites
    if ids is not None and ids.patient.qualifiee and ids.patient.ins_genre:
        return interop.identifiants[ids.patient.ins_genre].oid, ids.patient.ins
    local = ids.patient.patient_id if ids is not None else (resume.triage_id or "cas")
    return _oid_derive("patients"), local


def document_cda(resume: Resume, m: Moteur, pdf: bytes) -> bytes:
    """The CDA R2 level-1 document wrapping ``pdf`` (the summary's PDF/A), as UTF-8 XML bytes."""
    interop = m.registre.interop
    if interop is None:
        raise ValueError("protocols/interoperabilite.yaml absent : pas de document CDA")
    cda = interop.cda
    ids = resume.identites
    moment = _ts(_moment(resume))
    racine = etree.Element(f"{{{HL7}}}ClinicalDocument", nsmap={None: HL7, "xsi": XSI})
    _e(racine, "realmCode", code=cda.realm)
    _e(racine, "typeId", root=cda.type_id.root, extension=cda.type_id.extension)
    for gabarit in cda.gabarits:
        _e(racine, "templateId", root=gabarit)
    _e(racine, "id", root=identifiant_document(resume))
    _code(racine, "code", cda.type_document)
    _e(racine, "title", f"Compte rendu de triage kinésithérapique — {resume.protocole}")
    _e(racine, "effectiveTime", value=moment)
    _e(racine, "confidentialityCode", code=cda.confidentialite.code, codeSystem=cda.confidentialite.systeme,
       displayName=cda.confidentialite.libelle)
    _e(racine, "languageCode", code=cda.langue)
    _e(racine, "setId", root=_oid_derive("cda-lot", resume.triage_id or resume.empreinte_regles))
    _e(racine, "versionNumber", value=str(resume.version or 1))

    role = _e(_e(racine, "recordTarget"), "patientRole")
    root, extension = identifiant_patient(resume, interop)
    _e(role, "id", root=root, extension=extension)
    patient = _e(role, "patient")
    p = ids.patient if ids is not None else None
    if p is not None and p.nom_naissance:
        _nom(patient, p.prenoms_naissance, p.nom_naissance, naissance=True)
    _nom(patient, resume.patient_prenom, resume.patient_nom)
    sexe = resume.cas["patient"].get("sexe")
    if sexe in ("M", "F"):
        _e(patient, "administrativeGenderCode", code=sexe, codeSystem="2.16.840.1.113883.5.1")
    else:
        _e(patient, "administrativeGenderCode", nullFlavor="UNK")
    _e(patient, "birthTime", value=str(resume.cas["patient"]["date_naissance"]).replace("-", ""))
    if p is not None and p.lieu_naissance:
        _e(_e(_e(_e(patient, "birthplace"), "place"), "addr"), "county", p.lieu_naissance)

    auteur = _e(racine, "author")
    _e(auteur, "time", value=moment)
    assigne = _e(auteur, "assignedAuthor")
    _professionnel(assigne, interop, ids.auteur if ids is not None else None, resume.auteur)
    structure = ids.structure if ids is not None else None
    nom_structure = structure.nom if structure is not None else resume.structure
    _organisation(_e(assigne, "representedOrganization"), nom_structure, interop, structure)

    gardien = _e(_e(_e(racine, "custodian"), "assignedCustodian"), "representedCustodianOrganization")
    _organisation(gardien, nom_structure, interop, structure)

    if p is not None and p.medecin_nom:
        destinataire = _e(_e(racine, "informationRecipient"), "intendedRecipient")
        if p.medecin_rpps:
            _e(destinataire, "id", root=interop.identifiants["rpps"].oid,
               extension=interop.identifiants["rpps"].prefixe + p.medecin_rpps)
        if p.medecin_mssante:
            _e(destinataire, "telecom", value="mailto:" + p.medecin_mssante, use="WP")
        _e(_e(destinataire, "informationRecipient"), "name", f"Dr {p.medecin_nom}")

    if resume.finalise_le_utc:
        legal = _e(racine, "legalAuthenticator")
        _e(legal, "time", value=moment)
        _e(legal, "signatureCode", code="S")
        entite = _e(legal, "assignedEntity")
        _professionnel(entite, interop, ids.auteur if ids is not None else None, resume.auteur)

    evenement = _e(_e(racine, "documentationOf"), "serviceEvent")
    _code(evenement, "code", cda.evenement)
    _e(_e(evenement, "effectiveTime"), "low", value=str(resume.resultat["date_consultation"]).replace("-", ""))

    rencontre = _e(_e(racine, "componentOf"), "encompassingEncounter")
    _e(_e(rencontre, "effectiveTime"), "low", value=str(resume.resultat["date_consultation"]).replace("-", ""))
    lieu = _e(_e(rencontre, "location"), "healthCareFacility")
    _code(lieu, "code", cda.secteur)

    corps = _e(_e(racine, "component"), "nonXMLBody")
    _e(corps, "text", base64.b64encode(pdf).decode("ascii"), mediaType="application/pdf", representation="B64")
    return etree.tostring(racine, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def pdf_de_cda(document: bytes) -> bytes:
    """The PDF a CDA level-1 document wraps (for checks and for a reader without a CDA viewer)."""
    racine = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    texte = racine.find(f"{{{HL7}}}component/{{{HL7}}}nonXMLBody/{{{HL7}}}text")
    if texte is None or texte.get("representation") != "B64":
        raise ValueError("document CDA sans corps PDF (nonXMLBody/text en B64)")
    return base64.b64decode("".join((texte.text or "").split()))


# -- IHE XDM (the package an MSSanté client attaches) -------------------------------------------------------------
def _slot(parent: Any, nom: str, *valeurs: str) -> None:
    slot = etree.SubElement(parent, f"{{{RIM}}}Slot", name=nom)
    liste = etree.SubElement(slot, f"{{{RIM}}}ValueList")
    for v in valeurs:
        etree.SubElement(liste, f"{{{RIM}}}Value").text = v


def _nomme(parent: Any, texte: str) -> None:
    etree.SubElement(etree.SubElement(parent, f"{{{RIM}}}Name"), f"{{{RIM}}}LocalizedString", value=texte,
                     charset="UTF-8", lang="fr-FR")


def _classification(parent: Any, schema: str, objet: str, c: Code, n: int) -> None:
    cl = etree.SubElement(parent, f"{{{RIM}}}Classification", id=f"urn:uuid:{uuid.uuid5(_ESPACE, f'{objet}/{n}')}",
                          classificationScheme=schema, classifiedObject=objet, nodeRepresentation=c.code)
    _slot(cl, "codingScheme", c.systeme)
    _nomme(cl, c.libelle)


def _identifiant_externe(parent: Any, schema: str, objet: str, valeur: str, nom: str) -> None:
    ei = etree.SubElement(parent, f"{{{RIM}}}ExternalIdentifier", id=f"urn:uuid:{uuid.uuid5(_ESPACE, objet + nom)}",
                          registryObject=objet, identificationScheme=schema, value=valeur)
    _nomme(ei, nom)


def metadonnees_xdm(resume: Resume, m: Moteur, document: bytes, nom_fichier: str) -> bytes:
    """``METADATA.XML``: the submission set and the document entry (ebRIM 3.0), with hash, size and codes."""
    interop = m.registre.interop
    assert interop is not None
    cda = interop.cda
    moment = _ts(_moment(resume))[:14]
    root, extension = identifiant_patient(resume, interop)
    id_patient = f"{extension}^^^&{root}&ISO"
    requete = etree.Element(f"{{{LCM}}}SubmitObjectsRequest", nsmap={"lcm": LCM, "rim": RIM})
    liste = etree.SubElement(requete, f"{{{RIM}}}RegistryObjectList")
    doc_id = f"urn:uuid:{uuid.uuid5(_ESPACE, identifiant_document(resume))}"
    lot_id = f"urn:uuid:{uuid.uuid5(_ESPACE, 'lot/' + identifiant_document(resume))}"
    objet = etree.SubElement(liste, f"{{{RIM}}}ExtrinsicObject", id=doc_id, mimeType="text/xml",
                             objectType=_XDS["document"])
    _slot(objet, "creationTime", moment)
    _slot(objet, "hash", hashlib.sha1(document).hexdigest())  # IHE XDS: the hash is SHA-1
    _slot(objet, "size", str(len(document)))
    _slot(objet, "languageCode", cda.langue)
    _slot(objet, "serviceStartTime", str(resume.resultat["date_consultation"]).replace("-", ""))
    _slot(objet, "sourcePatientId", id_patient)
    _slot(objet, "URI", nom_fichier)
    _nomme(objet, f"Compte rendu de triage kinésithérapique — {resume.protocole}")
    for n, (schema, c) in enumerate((("classe", cda.classe), ("confidentialite", cda.confidentialite),
                                     ("format", cda.format), ("etablissement", cda.secteur),
                                     ("cadre", cda.cadre_exercice), ("type", cda.type_document))):
        _classification(objet, _XDS[schema], doc_id, c, n)
    _identifiant_externe(objet, _XDS["id_patient"], doc_id, id_patient, "XDSDocumentEntry.patientId")
    _identifiant_externe(objet, _XDS["id_unique"], doc_id, identifiant_document(resume),
                         "XDSDocumentEntry.uniqueId")
    lot = etree.SubElement(liste, f"{{{RIM}}}RegistryPackage", id=lot_id)
    _slot(lot, "submissionTime", moment)
    _nomme(lot, "Compte rendu de triage kinésithérapique")
    _classification(lot, _XDS["type_lot"], lot_id, cda.type_document, 99)
    _identifiant_externe(lot, _XDS["lot_unique"], lot_id, _oid_derive("lot", identifiant_document(resume)),
                         "XDSSubmissionSet.uniqueId")
    _identifiant_externe(lot, _XDS["lot_source"], lot_id, _oid_derive("source"), "XDSSubmissionSet.sourceId")
    _identifiant_externe(lot, _XDS["lot_patient"], lot_id, id_patient, "XDSSubmissionSet.patientId")
    etree.SubElement(liste, f"{{{RIM}}}Classification", id=f"urn:uuid:{uuid.uuid5(_ESPACE, lot_id + '/lot')}",
                     classifiedObject=lot_id, classificationNode=_LOT_SOUMISSION)
    etree.SubElement(liste, f"{{{RIM}}}Association", id=f"urn:uuid:{uuid.uuid5(_ESPACE, lot_id + '/membre')}",
                     associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember",
                     sourceObject=lot_id, targetObject=doc_id)
    return etree.tostring(requete, xml_declaration=True, encoding="UTF-8", pretty_print=True)


DOSSIER_XDM = "IHE_XDM/SUBSET01"


def paquet_xdm(resume: Resume, m: Moteur, document: bytes) -> bytes:
    """The IHE XDM ZIP: ``IHE_XDM/SUBSET01/DOC0001.XML`` (the CDA), its ``METADATA.XML``, ``INDEX.HTM`` and
    ``README.TXT`` at the root. Entries dated from the document (a ZIP of the same triage is the same bytes)."""
    nom = "DOC0001.XML"
    metadonnees = metadonnees_xdm(resume, m, document, nom)
    d = datetime.fromisoformat(_moment(resume))
    date_zip = (max(d.year, 1980), d.month, d.day, d.hour, d.minute, d.second)
    tampon = io.BytesIO()
    with zipfile.ZipFile(tampon, "w", zipfile.ZIP_DEFLATED) as z:
        for chemin, contenu in (
                ("README.TXT", "Compte rendu de triage kinésithérapique (CDA R2 niveau 1, PDF/A encapsulé).\r\n"
                               "Produit par triage_app ; document : IHE_XDM/SUBSET01/DOC0001.XML.\r\n"),
                ("INDEX.HTM", '<html lang="fr"><head><meta charset="utf-8"><title>Contenu</title></head><body>'
                              '<a href="IHE_XDM/SUBSET01/DOC0001.XML">Compte rendu (CDA)</a></body></html>'),
                (f"{DOSSIER_XDM}/{nom}", document), (f"{DOSSIER_XDM}/METADATA.XML", metadonnees)):
            info = zipfile.ZipInfo(chemin, date_time=date_zip)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, contenu)
    return tampon.getvalue()
