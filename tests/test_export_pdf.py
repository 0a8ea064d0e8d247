"""The médecin's summary and the patient handout as PDF: what they say, one page, PDF/A, fonts, QR code.

Every PDF is read back with pypdf (text, fonts, images, metadata) and its page is rendered with pypdfium2
into artefacts/pdf/ for a look by eye. Each document is compiled once per test session (a few tens of ms).
"""

from __future__ import annotations

import functools
import io
import json
import re
from datetime import datetime
from typing import Any

import pypdf
import pypdfium2 as pdfium
import pytest
import segno

from tests.conftest import CAS_REFERENCE, RACINE, cas_base
from triage_app.engine.evaluation import moteur
from triage_app.export.pdf import MARGE_QR, pdf_fiche_patient, pdf_resume
from triage_app.export.resume import Resume, construire, depuis_cas

ARTEFACTS = RACINE / "artefacts" / "pdf"
GENERE_LE = datetime(2026, 3, 10, 9, 45)
TRIAGE_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
PATIENT = "Dupont-Lefèvre Zoé"
# Typst markup in the data must come out as plain text (the data is never spliced into the template source).
NOTE = "Revue à 9 h : é è ç œ « entorse » ≤ 3 jours — l’appui reste douloureux ; #pas *de* $x$ _balise_ @ref"
AUTEUR = "Camille Œuvray"
CARACTERES = "éèçœ«»≤—’"
JARGON = ("PC_CONSULTATION", "NGAP", "sha256", "BDK", "STarT", "Ottawa", "forfait")


def _ressemble_a_un_cas(donnees: Any) -> bool:
    return isinstance(donnees, dict) and {"protocole", "patient", "episode"} <= donnees.keys()


def _cas_de_reference() -> dict[str, dict[str, Any]]:
    """Every case among the specification's files: a bare case, or a case beside its expected result."""
    out = {}
    for f in sorted(CAS_REFERENCE.glob("*.json")):
        donnees = json.loads(f.read_text(encoding="utf-8"))
        nom = f.name.removesuffix(".json").removesuffix(".case")
        if _ressemble_a_un_cas(donnees):
            out[nom] = donnees
        elif isinstance(donnees, dict):
            out.update({f"{nom}-{k}": v for k, v in donnees.items() if _ressemble_a_un_cas(v)})
    return out


REFERENCE = _cas_de_reference()


def _stocke(protocole: str, **modifs: Any) -> Resume:
    """A summary as a stored triage gives it: id, version, patient name, note, author, finalisation date."""
    m = moteur()
    cas = m.valider(cas_base(protocole, **modifs)).model_dump(mode="json")
    return construire(m, cas, m.evaluer(cas), triage_id=TRIAGE_ID, version=2, statut="final", patient=PATIENT,
                      structure_nom="Maison de santé des Écrins", note=NOTE, auteur=AUTEUR,
                      finalise_le=datetime(2026, 3, 10, 9, 30), genere_le=GENERE_LE)


def _incomplet() -> Resume:
    cas = cas_base("lombalgie_aigue")
    del cas["reponses"]["rf_fievre"]
    return depuis_cas(moteur(), cas, GENERE_LE)


# Rules v2 (spec §8): DMP sharing refused in an MSP applying the protocol; the Alsace-Moselle cover in an ESP;
# an eligible patient sent to the emergency department; an ankle at 65 (Bernese rules) who refuses the protocol.
HORS_PROTOCOLE_ALSACE = {"cadre__structure": "esp", "cadre__protocole_autorise": False, "cadre__departement": "67",
                         "patient__couverture": "alsace_moselle"}
FABRIQUES = {
    "stocke_lombalgie_fievre": lambda: _stocke("lombalgie_aigue", reponses__rf_fievre=True),
    "stocke_cheville_anticoagulant": lambda: _stocke("entorse_cheville", reponses__rf_anticoagulant=True),
    "stocke_dmp_refuse": lambda: _stocke("lombalgie_aigue", consentement__partage_dmp=False),
    "stocke_alsace_moselle": lambda: _stocke("lombalgie_aigue", **HORS_PROTOCOLE_ALSACE),
    "stocke_urgence_eligible": lambda: _stocke("entorse_cheville", reponses__rf_deformation=True),
    "stocke_berne_refus": lambda: _stocke("entorse_cheville", patient__date_naissance="1950-01-01",
                                          consentement__protocole=False, consentement__partage_dmp=False),
    "incomplet": _incomplet,
    "stocke_cheville_ottawa": lambda: _stocke("entorse_cheville", reponses__ottawa_douleur_malleolaire=True,
                                              reponses__ottawa_malleole_laterale=True,
                                              reponses__ottawa_malleole_mediale=False,
                                              reponses__ottawa_appui_4_pas_impossible=False),
    **{nom: functools.partial(depuis_cas, moteur(), cas, GENERE_LE) for nom, cas in REFERENCE.items()},
}
NOMS = sorted(FABRIQUES)
STOCKES = [n for n in NOMS if n.startswith("stocke_")]


@functools.cache
def _export(nom: str) -> tuple[Resume, bytes, bytes]:
    resume = FABRIQUES[nom]()
    return resume, pdf_resume(resume), pdf_fiche_patient(resume, moteur())


@functools.cache
def _lecteur(nom: str, document: str) -> pypdf.PdfReader:
    _, resume, fiche = _export(nom)
    return pypdf.PdfReader(io.BytesIO(resume if document == "resume" else fiche))


def _plat(texte: str) -> str:
    """Whitespace and line breaks collapsed: a label wrapped over two lines still matches."""
    return " ".join(texte.split())


def _texte(nom: str, document: str) -> str:
    # A line broken after a word's own hyphen (« Alsace-⏎Moselle », « pluri-⏎professionnelle ») reads whole.
    texte = "\n".join(p.extract_text() for p in _lecteur(nom, document).pages)
    return _plat(re.sub(r"(?<=\w)-\n(?=\w)", "-", texte))


def _absents(attendus: list[str], texte: str) -> list[str]:
    return [a for a in attendus if _plat(a) not in texte]


def test_les_cas_de_reference_sont_lus():
    assert len(REFERENCE) >= 6, f"cas introuvables dans {CAS_REFERENCE}"


@pytest.mark.parametrize("nom", NOMS)
def test_le_resume_dit_l_orientation_ses_motifs_et_chaque_reponse(nom):
    resume, _, _ = _export(nom)
    c = resume.carte
    texte = _texte(nom, "resume")
    attendus = ["Compte rendu de triage kinésithérapique", resume.structure, resume.date_consultation,
                resume.date_naissance, f"{resume.age} ans", resume.protocole, resume.version_protocole,
                resume.empreinte_regles, "Aide à la décision : ne remplace pas le jugement clinique"]
    if c.orientation_libelle:
        attendus += [c.orientation_libelle, c.consigne or ""]
    else:
        attendus.append(f"{c.manquantes} question(s) sans réponse")
    for mo in (*c.motifs, *c.criteres_non_remplis, *c.conseils_kine):
        attendus += [mo.libelle, mo.source_titre, mo.badge]
    attendus += c.parts + [x for li in c.lignes for x in (li.part_remboursee, li.part_patient) if x]
    for g in resume.groupes:
        attendus.append(g.libelle)
        attendus += [f"{q.libelle} {q.reponse}" for q in g.reponses]
    attendus += [x for x in (resume.ottawa, resume.startback, c.duree) if x]
    attendus += c.prescriptions + [f"{li.code} {li.libelle} {li.montant}" for li in c.lignes] + c.remarques
    if c.seances:
        attendus.append(f"{c.seances['restantes']} restante(s)")
    if resume.triage_id:
        attendus += [resume.triage_id, resume.patient or "", resume.note or "", resume.auteur or "",
                     resume.finalise_le or ""]
    assert _absents(attendus, texte) == []


@pytest.mark.parametrize("nom", STOCKES)
def test_les_caracteres_francais_sont_rendus_et_extractibles(nom):
    texte = _texte(nom, "resume")
    assert [ch for ch in CARACTERES + PATIENT + AUTEUR if ch not in texte] == []
    assert _plat(NOTE) in texte
    assert PATIENT in _texte(nom, "fiche")


@pytest.mark.parametrize("nom", NOMS)
def test_une_page_pdfa_polices_embarquees(nom):
    for document in ("resume", "fiche"):
        lecteur = _lecteur(nom, document)
        assert len(lecteur.pages) == 1, document
        xmp = lecteur.xmp_metadata.stream.get_data().decode("utf-8")
        assert re.search(r"pdfaid:part>2<", xmp) and re.search(r"pdfaid:conformance>B<", xmp), document
        polices = list(lecteur.pages[0]["/Resources"]["/Font"].values())
        assert polices
        for ref in polices:
            police = ref.get_object()
            assert police["/Subtype"] != "/Type3", police.get("/BaseFont")
            if police["/Subtype"] == "/Type0":
                police = police["/DescendantFonts"][0].get_object()
            descripteur = police["/FontDescriptor"].get_object()
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descripteur.keys()), police.get("/BaseFont")


def test_une_page_meme_avec_tous_les_signes_d_alerte():
    """Many motifs and a long note: the text shrinks to keep the summary on one page."""
    m = moteur()
    cas = cas_base("lombalgie_aigue")
    cas["reponses"] = {k: (v if not k.startswith("rf_") else True) for k, v in cas["reponses"].items()}
    cas = m.valider(cas).model_dump(mode="json")
    resume = construire(m, cas, m.evaluer(cas), triage_id=TRIAGE_ID, patient=PATIENT, note=NOTE * 6,
                        genere_le=GENERE_LE)
    assert len(resume.carte.motifs) >= 10
    lecteur = pypdf.PdfReader(io.BytesIO(pdf_resume(resume)))
    assert len(lecteur.pages) == 1
    texte = _plat(lecteur.pages[0].extract_text())
    assert _absents([mo.libelle for mo in resume.carte.motifs], texte) == []


def _images(pdf: bytes) -> list[Any]:
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    objets = page["/Resources"].get("/XObject", {})
    return [o.get_object() for o in objets.values() if o.get_object()["/Subtype"] == "/Image"]


@pytest.mark.parametrize("nom", NOMS)
def test_qr_code_seulement_avec_un_identifiant_et_rien_d_autre(nom):
    resume, pdf, fiche = _export(nom)
    assert _images(fiche) == []
    if resume.triage_id is None:
        assert _images(pdf) == []
        return
    assert _images(pdf_resume(resume, qr=False)) == []
    (image,) = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images
    pixels = image.image.convert("L")
    # The image is the QR code of the triage id alone, module for module (a QR of any other text differs).
    attendu = [[bool(x) for x in ligne] for ligne in segno.make(TRIAGE_ID, error="m").matrix_iter(border=MARGE_QR)]
    assert pixels.size == (len(attendu[0]), len(attendu))
    obtenu = [[pixels.getpixel((x, y)) < 128 for x in range(pixels.width)] for y in range(pixels.height)]
    assert obtenu == attendu


def _polices_de(lecteur: pypdf.PdfReader, mot: str) -> list[str]:
    """The fonts of every text run that reads ``mot``."""
    vues: list[str] = []

    def visiter(texte: str, _cm: Any, _tm: Any, police: Any, _taille: Any) -> None:
        if texte.strip() == mot and police is not None:
            vues.append(str(police.get("/BaseFont")))

    lecteur.pages[0].extract_text(visitor_text=visiter)
    return vues


def test_les_oui_d_alerte_sont_en_gras_les_autres_non():
    lombalgie = _lecteur("stocke_lombalgie_fievre", "resume")
    assert _polices_de(lombalgie, "Oui") and all("Bold" in p for p in _polices_de(lombalgie, "Oui"))
    assert not any("Bold" in p for p in _polices_de(lombalgie, "Non"))
    # The ankle case answers « Oui » twice: the anticoagulant (an alert) and the torsion (the inclusion criterion).
    cheville = _polices_de(_lecteur("stocke_cheville_anticoagulant", "resume"), "Oui")
    assert sorted("Bold" in p for p in cheville) == [False, True]


@pytest.mark.parametrize("nom", NOMS)
def test_la_fiche_patient_parle_simplement(nom):
    resume, _, _ = _export(nom)
    m = moteur()
    texte = _texte(nom, "fiche")
    conseils = m.protocoles[resume.protocole_id].modele.conseils_patient
    orientations = {o.id: o for o in m.registre.commun.orientations}
    attendus = [x.texte for x in conseils.revenir_si] + ["Quand revenir ou appeler le 15", "SAMU"]
    if resume.carte.orientation:
        attendus.append(orientations[resume.carte.orientation].patient)
    else:
        attendus.append("L’évaluation n’est pas terminée")
    if resume.carte.urgence or resume.carte.orientation is None:
        assert _absents([x.texte for x in conseils.conseils], texte) == [x.texte for x in conseils.conseils]
    else:
        attendus += [x.texte for x in conseils.conseils]
    # No session sentence when none is left (rules v2, §8.1: 30 sessions over 12 months already reimbursed).
    if resume.carte.orientation in ("protocole", "acces_direct") and resume.carte.seances \
            and resume.carte.seances["restantes"] > 0:
        attendus.append(f"jusqu’à {resume.carte.seances['restantes']} séance(s)")
    if resume.carte.avis_medical and resume.carte.orientation not in ("urgences", "medecin_jour"):
        attendus.append("prendre l’avis de votre médecin traitant")
    assert _absents(attendus, texte) == []
    assert [j for j in JARGON if j.lower() in texte.lower()] == []
    assert resume.carte.consigne is None or _plat(resume.carte.consigne) not in texte
    annotations = [a.get_object() for a in _lecteur(nom, "fiche").pages[0].get("/Annots", [])]
    assert {a["/A"]["/URI"] for a in annotations if "/A" in a} >= {"tel:15", "tel:112"}


def test_meme_resume_memes_octets_date_du_document_celle_du_resume():
    """Nothing reads the clock: the PDF date is the summary's ``genere_le``, and the bytes are reproducible."""
    resume, pdf, fiche = _export("stocke_lombalgie_fievre")
    assert pdf_resume(resume) == pdf
    assert pdf_fiche_patient(resume, moteur()) == fiche
    xmp = _lecteur("stocke_lombalgie_fievre", "resume").xmp_metadata.stream.get_data().decode("utf-8")
    assert "<xmp:CreateDate>2026-03-10T09:45:00" in xmp


@pytest.mark.parametrize("nom", NOMS)
def test_rendu_png_dans_les_artefacts(nom):
    """Page 1 of each document rendered to artefacts/pdf/ (kept for a look by eye); the page is A4 and not blank."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    _, pdf, fiche = _export(nom)
    for document, contenu in (("resume", pdf), ("fiche", fiche)):
        page = pdfium.PdfDocument(contenu)[0]
        largeur, hauteur = page.get_size()
        assert (round(largeur), round(hauteur)) == (595, 842)
        image = page.render(scale=150 / 72).to_pil()
        image.save(ARTEFACTS / f"{nom}_{document}.png")
        encre = sum(image.convert("L").histogram()[:128]) / (image.width * image.height)
        assert 0.01 < encre < 0.5, (document, encre)


# -- rules v2: why not the protocol, who pays what, advice, the referral first --------------------------------
def test_pdf_protocole_non_applicable_partage_dmp_refuse_avec_sa_source():
    resume, _, _ = _export("stocke_dmp_refuse")
    texte = _texte("stocke_dmp_refuse", "resume")
    [critere] = resume.carte.criteres_non_remplis
    assert f"Protocole non applicable : partage DMP non accepté — {_plat(critere.source_titre)} à vérifier" in texte
    assert "Orientation : Accès direct" in texte
    # Tariff, reimbursed share and the patient's share, to the cent; then the patient's total and the franchise.
    assert "RAM Séance de rééducation, lombalgie commune 17,90 € 10,74 € 7,16 €" in texte
    assert "Reste à la charge du patient (ou de sa complémentaire) : 16,62 € sur 41,55 €." in texte
    assert texte.index("Franchise médicale de 1,00 € par acte") > texte.index("Reste à la charge du patient")
    assert "non déduite ci-dessus" in texte


def test_pdf_alsace_moselle_90_pour_cent_et_part_du_patient():
    texte = _texte("stocke_alsace_moselle", "resume")
    assert "Part remboursée par l'Assurance maladie : 90 % du tarif (Régime local d'Alsace-Moselle)." in texte
    assert "BDK Bilan diagnostic kinésithérapique (AMK 10,7) 23,65 € 21,29 € 2,36 €" in texte
    assert "RAM Séance de rééducation, lombalgie commune 17,90 € 16,11 € 1,79 €" in texte
    assert "Reste à la charge du patient (ou de sa complémentaire) : 4,15 € sur 41,55 €." in texte
    assert "Franchise médicale de 1,00 € par acte" in texte
    assert "Protocole non applicable" not in texte  # the structure does not apply the protocol


def test_pdf_urgence_eligible_la_facturation_vient_apres_le_renvoi():
    resume, _, _ = _export("stocke_urgence_eligible")
    c = resume.carte
    assert c.orientation == "urgences" and c.renvoi_medical and c.voie
    texte = _texte("stocke_urgence_eligible", "resume")
    renvoi = texte.index(f"Orientation : {c.orientation_libelle}")
    assert renvoi < texte.index(_plat(c.consigne or "")) < texte.index(c.motifs[0].libelle)
    # Nothing of the billing above or beside the referral: the route, the line and its remarks come after it.
    facturation = [c.voie, "PC_CONSULTATION_1", *c.remarques]
    assert _absents(facturation, texte) == []
    assert min(texte.index(_plat(x)) for x in facturation) > texte.index(c.motifs[0].libelle) > renvoi
    assert "Prise en charge " + c.voie not in texte  # not among the patient's details at the top
    assert "PC_CONSULTATION_2" not in texte  # rules v2 §8.2: the patient leaves the protocol


def test_pdf_conseil_regles_de_berne_et_plusieurs_criteres_non_remplis():
    resume, _, _ = _export("stocke_berne_refus")
    c = resume.carte
    texte = _texte("stocke_berne_refus", "resume")
    [conseil] = c.conseils_kine
    assert f"Conseil au kinésithérapeute : {_plat(conseil.libelle)}" in texte
    assert len(c.criteres_non_remplis) >= 2
    assert _absents(["Protocole non applicable :", *(x.libelle for x in c.criteres_non_remplis)], texte) == []
    positions = [texte.index(x.libelle) for x in c.criteres_non_remplis]
    assert positions == sorted(positions)  # the protocol's order



def test_resume_dans_l_ordre_de_la_carte_radiographie_mise_en_avant_puis_seances_puis_facturation():
    """Issue #13: the summary says first what the kiné must do (orientation, X-ray with its positive Ottawa findings
    and source, prescriptions), then the sessions, the answers, and the billing last."""
    texte = _plat(_texte("stocke_cheville_ottawa", "resume")).lower()
    reperes = [r.lower() for r in ("Orientation :", "Radiographie de la cheville indiquée", "Critères positifs :",
                                   "Prescriptions possibles dans le protocole", "Séances :", "Questions posées",
                                   "Facturation")]
    positions = [texte.find(r) for r in reperes]
    assert all(p >= 0 for p in positions), dict(zip(reperes, positions, strict=True))
    assert positions == sorted(positions), dict(zip(reperes, positions, strict=True))
    assert "stiell" in texte and "règle validée" in texte
    assert "annoncé, non appliqué" not in texte  # values not in force stay on « Protocoles »


def test_un_mot_tres_long_se_coupe_dans_le_pdf_sans_deborder():
    """Issue #16: a 400-character word in the note breaks across lines inside the page (it used to overflow)."""
    import io
    from datetime import UTC, datetime

    import pypdfium2 as pdfium

    from tests.conftest import cas_base
    from triage_app.engine.evaluation import moteur
    from triage_app.export.pdf import pdf_resume
    from triage_app.export.resume import construire

    m = moteur()
    cas = cas_base()
    mot = "Anticonstitutionnellement" * 16  # 400 characters, no space
    resume = construire(m, cas, m.evaluer(cas), note=mot, genere_le=datetime(2026, 3, 10, 12, tzinfo=UTC))
    document = pdfium.PdfDocument(io.BytesIO(pdf_resume(resume)))
    contenu = ""
    try:
        largeur = document[0].get_width()
        for page in document:
            texte = page.get_textpage()
            for i in range(texte.count_chars()):
                _, _, droite, _ = texte.get_charbox(i)
                assert droite <= largeur, f"caractère hors de la page ({droite:.0f} > {largeur:.0f})"
            contenu += texte.get_text_range()
            texte.close()
    finally:
        document.close()
    contenu = "".join(contenu.replace("\u200b", "").split())
    assert contenu.count("Anticonstitutionnellement") >= 16
