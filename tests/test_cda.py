"""CDA R2 level 1 and the MSSanté package (issue #14): ``triage-app export --format cda|xdm``.

The document is validated against the project's CDA R2 subset schema (``tests/fixtures/cda``: the header and
``nonXMLBody`` per the standard's structure, written by the project) and, when ``TRIAGE_CDA_XSD`` gives the path
of HL7's normative ``CDA.xsd``, against it too. It embeds byte for byte the PDF that ``--format pdf`` gives.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from tests import ressources
from tests.conftest import RACINE
from tests.test_identites import NIR, RPPS, _triage_identifie
from triage_app.cli import main
from triage_app.export.cda import HL7, RIM, pdf_de_cda
from triage_app.services.application import Services

fermer_les_depots = ressources.fermer_les_depots
SOUS_ENSEMBLE = RACINE / "tests" / "fixtures" / "cda" / "cda_r2_sous_ensemble.xsd"
MOMENT = "2026-03-10T12:00:00+01:00"
NS = {"h": HL7, "rim": RIM}


def _schema(chemin: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(chemin)))


def _exporter(url: str, tid: str, format_: str, sortie: Path) -> bytes:
    assert main(["export", tid, "--format", format_, "--genere-le", MOMENT, "--base", url,
                 "--output", str(sortie)]) == 0
    return sortie.read_bytes()


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """Each format of a triage whose identity is qualified (« cni ») and of one that is not (None)."""
    out = {}
    for piece in ("cni", None):
        dossier = tmp_path_factory.mktemp(f"cda_{piece}")
        url = f"sqlite:///{dossier / 'b.sqlite'}"
        with Services(url) as depot:
            tid = _triage_identifie(depot, piece=piece)
        out[str(piece)] = {f: _exporter(url, tid, f, dossier / f"sortie.{f}") for f in ("pdf", "cda", "xdm")}
    return out


@pytest.mark.parametrize("piece", ["cni", "None"])
def test_le_cda_se_valide_et_porte_le_meme_pdf(exports, piece):
    cda = exports[piece]["cda"]
    document = etree.fromstring(cda)
    _schema(SOUS_ENSEMBLE).assertValid(document)
    assert pdf_de_cda(cda) == exports[piece]["pdf"]  # the same PDF/A as « --format pdf », byte for byte
    assert document.find("h:code", NS).get("code") == "11488-4"
    assert [t.get("root") for t in document.findall("h:templateId", NS)] == ["2.16.840.1.113883.2.8.2.1",
                                                                            "1.2.250.1.213.1.1.1.1"]
    patient_id = document.find("h:recordTarget/h:patientRole/h:id", NS)
    if piece == "cni":  # qualified: the INS with its authority's OID
        assert (patient_id.get("root"), patient_id.get("extension")) == ("1.2.250.1.213.1.4.8", NIR)
    else:
        assert patient_id.get("root").startswith("2.25.") and NIR not in cda.decode()
    auteur = document.find("h:author/h:assignedAuthor/h:id", NS)
    assert (auteur.get("root"), auteur.get("extension")) == ("1.2.250.1.71.4.2.1", "8" + RPPS)
    assert document.find("h:author/h:assignedAuthor/h:assignedPerson/h:name/h:family", NS).text == "Martin"
    gardien = document.find("h:custodian/h:assignedCustodian/h:representedCustodianOrganization/h:id", NS)
    assert gardien.get("extension") == "1750001232"
    destinataire = document.find("h:informationRecipient/h:intendedRecipient", NS)
    assert destinataire.find("h:id", NS).get("extension") == "810007654329"
    assert destinataire.find("h:telecom", NS).get("value") == "mailto:claire.durand@medecin.mssante.fr"
    assert document.find("h:legalAuthenticator/h:signatureCode", NS).get("code") == "S"
    assert document.find("h:confidentialityCode", NS).get("code") == "N"
    officiel = os.environ.get("TRIAGE_CDA_XSD")
    if officiel:
        _schema(Path(officiel)).assertValid(document)


@pytest.mark.parametrize(("nom", "changer"), [
    ("sans id", lambda d: d.remove(d.find("h:id", NS))),
    ("titre après la date", lambda d: d.find("h:effectiveTime", NS).addnext(d.find("h:title", NS))),
    ("corps absent", lambda d: d.remove(d.find("h:component", NS))),
    ("élément inconnu", lambda d: etree.SubElement(d, f"{{{HL7}}}inconnu")),
    ("OID mal formé", lambda d: d.find("h:id", NS).set("root", "1.2.abc")),
    ("sans auteur", lambda d: d.remove(d.find("h:author", NS))),
])
def test_le_schema_refuse_un_document_abime(exports, nom, changer):
    document = etree.fromstring(exports["cni"]["cda"])
    changer(document)
    assert not _schema(SOUS_ENSEMBLE).validate(document), nom


def test_le_lot_xdm_mssante(exports):
    z = zipfile.ZipFile(io.BytesIO(exports["cni"]["xdm"]))
    assert sorted(z.namelist()) == ["IHE_XDM/SUBSET01/DOC0001.XML", "IHE_XDM/SUBSET01/METADATA.XML", "INDEX.HTM",
                                    "README.TXT"]
    doc = z.read("IHE_XDM/SUBSET01/DOC0001.XML")
    assert doc == exports["cni"]["cda"]
    meta = etree.fromstring(z.read("IHE_XDM/SUBSET01/METADATA.XML"))
    (objet,) = meta.findall(".//rim:ExtrinsicObject", NS)
    slots = {s.get("name"): [v.text for v in s.findall("rim:ValueList/rim:Value", NS)]
             for s in objet.findall("rim:Slot", NS)}
    assert slots["hash"] == [hashlib.sha1(doc).hexdigest()] and slots["size"] == [str(len(doc))]
    assert slots["URI"] == ["DOC0001.XML"] and slots["sourcePatientId"] == [f"{NIR}^^^&1.2.250.1.213.1.4.8&ISO"]
    ids = {e.get("identificationScheme"): e.get("value") for e in objet.findall("rim:ExternalIdentifier", NS)}
    assert ids["urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"] == etree.fromstring(doc).find("h:id", NS).get("root")
    assert ids["urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"] == f"{NIR}^^^&1.2.250.1.213.1.4.8&ISO"
    codes = {c.get("classificationScheme"): c.get("nodeRepresentation")
             for c in objet.findall("rim:Classification", NS)}
    assert codes["urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"] == "urn:ihe:iti:xds-sd:pdf:2008"
    assert codes["urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"] == "N"
    (lot,) = meta.findall(".//rim:RegistryPackage", NS)
    (association,) = meta.findall(".//rim:Association", NS)
    assert (association.get("sourceObject"), association.get("targetObject")) == (lot.get("id"), objet.get("id"))
