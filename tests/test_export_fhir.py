"""FHIR R4B exports: Questionnaires from protocols/, and the triage Bundle (validity, content, determinism)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from tests.conftest import RACINE, cas_base, cas_reference
from triage_app.engine.evaluation import Moteur
from triage_app.export import fhir
from triage_app.export.resume import Resume, construire, depuis_cas
from triage_app.loading.registry import FICHIERS_COMMUNS

GENERE_LE = datetime(2026, 3, 10, 18, 30)
PROTOCOLES = sorted(p.stem for p in (RACINE / "protocols").glob("*.yaml") if p.name not in FICHIERS_COMMUNS)


def _questions(items: list[dict[str, Any]], parent: str | None = None) -> dict[str, tuple[dict[str, Any], str | None]]:
    """Every item of a Questionnaire (or QuestionnaireResponse) by linkId, with its parent's linkId."""
    out: dict[str, tuple[dict[str, Any], str | None]] = {}
    for it in items:
        assert it["linkId"] not in out, f"linkId en double : {it['linkId']}"
        out[it["linkId"]] = (it, parent)
        out.update(_questions(it.get("item", []), it["linkId"]))
    return out


def _references(noeud: Any) -> list[str]:
    if isinstance(noeud, dict):
        return ([noeud["reference"]] if isinstance(noeud.get("reference"), str) else []) + [
            r for v in noeud.values() for r in _references(v)]
    if isinstance(noeud, list):
        return [r for v in noeud for r in _references(v)]
    return []


@pytest.fixture(scope="module")
def questionnaires(m: Moteur) -> dict[str, dict[str, Any]]:
    """Each protocol's Questionnaire, validated by a JSON round trip, as plain JSON data."""
    out = {}
    for pid in PROTOCOLES:
        texte = fhir.questionnaire(m, pid).model_dump_json()
        out[pid] = json.loads(Questionnaire.model_validate_json(texte).model_dump_json())
    return out


# -- Questionnaire -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pid", PROTOCOLES)
def test_questionnaire_couvre_le_protocole(m: Moteur, questionnaires: dict[str, dict[str, Any]], pid: str):
    q = questionnaires[pid]
    p = m.protocoles[pid].modele
    assert q["url"] == f"{fhir.BASE_URL}/Questionnaire/{pid}"
    assert (q["version"], q["title"], q["status"], q["date"]) == (p.version, p.titre, "active",
                                                                  p.en_vigueur_du.isoformat())
    assert re.fullmatch(r"[A-Z][A-Za-z0-9_]{0,254}", q["name"])
    items = _questions(q["item"])
    assert [g["linkId"] for g in q["item"]] == [g.id for g in p.groupes if any(x.groupe == g.id for x in p.questions)]
    assert all(g["type"] == "group" for g in q["item"])
    posees = {k: it for k, (it, _) in items.items() if it["type"] in ("boolean", "choice")}
    assert sorted(posees) == sorted(x.id for x in p.questions)
    for x in p.questions:
        it, parent = items[x.id]
        assert parent == x.groupe and it["text"] == x.libelle
        assert it["type"] == {"booleen": "boolean", "choix": "choice"}[x.type]
        assert it["required"] is (x.requis == "toujours")
        codes = [o["valueCoding"]["code"] for o in it.get("answerOption", [])]
        assert codes == [str(c.valeur) for c in x.choix]
        aide = [c for c in it.get("item", []) if c["type"] == "display"]
        assert [c["text"] for c in aide] == [x.aide]
        trace = {e["url"]: e["valueCoding"]["code"] for ext in it["extension"] for e in ext["extension"]
                 if ext["url"] == f"{fhir.BASE_URL}/StructureDefinition/source" and "valueCoding" in e}
        assert trace == {"source": x.source, "verification": x.verification}


def test_un_questionnaire_par_protocole_charge(m: Moteur):
    assert sorted(m.protocoles) == PROTOCOLES


def test_questionnaire_ne_depend_que_des_regles(m: Moteur):
    assert fhir.questionnaire(m, "lombalgie_aigue").model_dump_json() == \
        fhir.questionnaire(m, "lombalgie_aigue").model_dump_json()


# -- Bundle ----------------------------------------------------------------------------------------------------------


def _resume_enregistre(m: Moteur, *, patient: str | None = "Dupont Marie", note: str | None = "Fébrile à 38,5.",
                       triage_id: str = "t-0001", version: int = 2, **modifs: Any) -> Resume:
    cas = m.valider(cas_base("lombalgie_aigue", reponses__rf_fievre=True, reponses__sbt_9="beaucoup",
                             **modifs)).model_dump(mode="json")
    return construire(m, cas, m.evaluer(cas), triage_id=triage_id, version=version, statut="final", patient=patient,
                      structure_nom="MSP des Alpes", note=note, auteur="kine.martin",
                      finalise_le=datetime(2026, 3, 10, 11, 5), genere_le=GENERE_LE)


def _verifier(m: Moteur, resume: Resume, questionnaires: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Checks every bundle must pass; returns the resources by type."""
    texte = fhir.bundle_json(resume, m)
    relu = Bundle.model_validate_json(texte)
    assert relu.model_dump_json(indent=2) == texte
    assert fhir.bundle_json(resume, m) == texte, "deux exports du même triage diffèrent"
    b = json.loads(texte)
    assert b["type"] == "collection" and "timestamp" not in b
    types = [e["resource"]["resourceType"] for e in b["entry"]]
    assert sorted(types) == ["ClinicalImpression", "Patient", "QuestionnaireResponse"]
    urls = [e["fullUrl"] for e in b["entry"]]
    assert len(set(urls)) == 3 and all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", u) for u in urls)
    refs = _references(b)
    assert refs and set(refs) <= set(urls)
    res = {e["resource"]["resourceType"]: e["resource"] for e in b["entry"]}
    pa, qr, ci = res["Patient"], res["QuestionnaireResponse"], res["ClinicalImpression"]
    r, cas = resume.resultat, resume.cas

    assert "identifier" not in pa
    assert pa["birthDate"] == cas["patient"]["date_naissance"]
    assert pa.get("gender") == {"F": "female", "M": "male"}.get(cas["patient"].get("sexe") or "")
    assert ("name" in pa) is (resume.patient is not None)

    q = questionnaires[resume.protocole_id]
    assert qr["questionnaire"] == f"{q['url']}|{q['version']}"
    assert qr["subject"]["reference"] == ci["subject"]["reference"] == urls[types.index("Patient")]
    assert qr["status"] == ("completed" if r["statut"] == "complet" else "in-progress")
    assert qr["authored"] == r["date_consultation"]
    dans_q = _questions(q["item"])
    dans_qr = _questions(qr.get("item", []))
    assert set(dans_qr) <= set(dans_q)
    for lid, (_, parent) in dans_qr.items():
        assert parent == dans_q[lid][1], f"{lid} hors de son groupe"
    repondues = {k: v for k, v in cas["reponses"].items() if v is not None}
    assert {k for k, (it, _) in dans_qr.items() if "answer" in it} == set(repondues)
    for qid, valeur in repondues.items():
        (reponse,) = dans_qr[qid][0]["answer"]
        if dans_q[qid][0]["type"] == "boolean":
            assert reponse == {"valueBoolean": valeur}
        else:
            options = [o["valueCoding"] for o in dans_q[qid][0]["answerOption"]]
            assert reponse["valueCoding"] in options and reponse["valueCoding"]["code"] == str(valeur)

    assert ci["status"] == ("completed" if r["statut"] == "complet" else "in-progress")
    assert ci["date"] == r["date_consultation"]
    assert ci["investigation"][0]["item"] == [{"reference": urls[types.index("QuestionnaireResponse")]}]
    assert ci["protocol"][0].endswith(f"/{resume.protocole_id}/{r['version_protocole']}")
    assert ci["protocol"][1] == "nih:sha-256;" + r["empreinte_regles"].removeprefix("sha256:")
    if resume.carte.orientation_libelle:
        assert ci["summary"].startswith(f"{resume.carte.orientation_libelle}. {resume.carte.consigne}")
    findings = ci.get("finding", [])
    assert [f["itemCodeableConcept"]["coding"][0]["code"] for f in findings] == [mo["id"] for mo in r["motifs"]]
    for f, mo, vue in zip(findings, r["motifs"], resume.carte.motifs, strict=True):
        assert f["itemCodeableConcept"]["coding"][0]["display"] == mo["libelle"]
        assert f["basis"].startswith(f"{vue.source_titre} ({vue.badge})")
    extensions = {e["url"].rsplit("/", 1)[1]: e for e in ci.get("extension", [])}
    if r["orientation"]:
        assert extensions["orientation"]["valueCoding"]["code"] == r["orientation"]
    assert ("risque-chronicite" in extensions) is (r["risque_chronicite"] is not None)
    assert ("radiographie" in extensions) is (r["radiographie"] is not None)
    assert ("seances" in extensions) is (r["seances"] is not None)
    return res


@pytest.mark.parametrize("nom", [n for n, _, _ in cas_reference()])
def test_bundle_des_cas_de_reference(m: Moteur, questionnaires: dict[str, dict[str, Any]], nom: str):
    cas = next(c for n, c, _ in cas_reference() if n == nom)
    res = _verifier(m, depuis_cas(m, cas, GENERE_LE), questionnaires)
    assert "name" not in res["Patient"]
    assert "note" not in res["ClinicalImpression"]


def test_bundle_d_un_triage_enregistre(m: Moteur, questionnaires: dict[str, dict[str, Any]]):
    resume = _resume_enregistre(m)
    res = _verifier(m, resume, questionnaires)
    assert res["Patient"]["name"] == [{"use": "official", "text": "Dupont Marie", "family": "Dupont",
                                       "given": ["Marie"]}]
    ci = res["ClinicalImpression"]
    assert ci["note"] == [{"authorString": "kine.martin", "text": "Fébrile à 38,5."}]
    assert "rf_fievre" in [f["itemCodeableConcept"]["coding"][0]["code"] for f in ci["finding"]]
    assert ci["summary"].startswith("Médecin dans la journée")
    sbt9 = _questions(res["QuestionnaireResponse"]["item"])["sbt_9"][0]
    assert sbt9["answer"][0]["valueCoding"]["display"] == "Beaucoup"


def test_nom_ambigu_garde_en_texte_seulement(m: Moteur, questionnaires: dict[str, dict[str, Any]]):
    res = _verifier(m, _resume_enregistre(m, patient="Le Gall Anne Marie"), questionnaires)
    assert res["Patient"]["name"] == [{"use": "official", "text": "Le Gall Anne Marie"}]


def test_sans_nom_ni_note(m: Moteur, questionnaires: dict[str, dict[str, Any]]):
    resume = _resume_enregistre(m, patient=None, note=None)
    res = _verifier(m, resume, questionnaires)
    assert "name" not in res["Patient"] and "note" not in res["ClinicalImpression"]
    assert "Dupont" not in fhir.bundle_json(resume, m)


def test_cheville_stade_et_radio(m: Moteur, questionnaires: dict[str, dict[str, Any]]):
    cas = cas_base("entorse_cheville", reponses__stade_gravite=2, reponses__ottawa_douleur_malleolaire=True,
                   reponses__ottawa_malleole_laterale=True, reponses__ottawa_malleole_mediale=False,
                   reponses__ottawa_appui_4_pas_impossible=False)
    res = _verifier(m, depuis_cas(m, cas, GENERE_LE), questionnaires)
    stade = _questions(res["QuestionnaireResponse"]["item"])["stade_gravite"][0]
    assert stade["answer"][0]["valueCoding"]["code"] == "2"
    extensions = {e["url"].rsplit("/", 1)[1]: e for e in res["ClinicalImpression"]["extension"]}
    assert extensions["radiographie"]["valueCoding"]["code"] == "cheville"


def test_startback_et_seances(m: Moteur, questionnaires: dict[str, dict[str, Any]]):
    sbt = {f"reponses__sbt_{i}": True for i in range(1, 9)}
    resume = depuis_cas(m, cas_base("lombalgie_aigue", reponses__sbt_9="extremement", **sbt), GENERE_LE)
    assert resume.resultat["risque_chronicite"] == "eleve"
    ci = _verifier(m, resume, questionnaires)["ClinicalImpression"]
    extensions = {e["url"].rsplit("/", 1)[1]: e for e in ci["extension"]}
    assert extensions["risque-chronicite"]["valueCoding"]["code"] == "eleve"
    seances = {p["url"]: p["valueInteger"] for p in extensions["seances"]["extension"]}
    assert seances["autorisees"] == resume.resultat["seances"]["autorisees"]
    voie = next(p for p in extensions["facturation"]["extension"] if p["url"] == "voie")
    assert voie["valueCoding"]["code"] == resume.resultat["facturation"]["voie"]


def test_triage_incomplet(m: Moteur, questionnaires: dict[str, dict[str, Any]]):
    cas = cas_base("lombalgie_aigue")
    del cas["reponses"]["rf_fievre"]
    resume = depuis_cas(m, cas, GENERE_LE)
    assert resume.resultat["statut"] == "incomplet"
    ci = _verifier(m, resume, questionnaires)["ClinicalImpression"]
    assert "incomplet" in ci["summary"]
    manquantes = [e["valueString"] for e in ci["extension"] if e["url"].endswith("/question-manquante")]
    assert manquantes == resume.resultat["questions_manquantes"] and "rf_fievre" in manquantes


def test_identifiants_deterministes_et_propres_au_triage(m: Moteur):
    a = json.loads(fhir.bundle_json(_resume_enregistre(m), m))
    relance = _resume_enregistre(m)
    assert json.loads(fhir.bundle_json(relance, m)) == a
    autre = json.loads(fhir.bundle_json(_resume_enregistre(m, triage_id="t-0002"), m))
    assert not {e["fullUrl"] for e in a["entry"]} & {e["fullUrl"] for e in autre["entry"]}
    cas1 = json.loads(fhir.bundle_json(depuis_cas(m, cas_base(), GENERE_LE), m))
    cas2 = json.loads(fhir.bundle_json(depuis_cas(m, cas_base(reponses__rf_fievre=True), GENERE_LE), m))
    assert cas1["identifier"] != cas2["identifier"]


def test_l_export_ne_lit_pas_l_horloge():
    source = (RACINE / "triage_app" / "export" / "fhir.py").read_text(encoding="utf-8")
    assert not re.search(r"\b(date\.today|datetime\.now|datetime\.today|datetime\.utcnow|time\.time)\s*\(", source)


def test_questionnaire_enable_when_ottawa_et_toute_question_conditionnelle(m, questionnaires):
    """Issue #14: every conditional question says when it is asked; the Ottawa signs follow their zone's pain."""
    for pid in PROTOCOLES:
        p = m.protocoles[pid].modele
        items = {i["linkId"]: i for g in questionnaires[pid]["item"] for i in g["item"]}
        for q in p.questions:
            assert ("enableWhen" in items[q.id]) is (q.requis == "conditionnel"), (pid, q.id)
    items = {i["linkId"]: i for g in questionnaires["entorse_cheville"]["item"] for i in g["item"]}
    quand = {i: [(c["question"], c["answerBoolean"]) for c in items[i]["enableWhen"]] for i in items
             if "enableWhen" in items[i]}
    assert quand["ottawa_malleole_laterale"] == [("ottawa_douleur_malleolaire", True)]
    assert quand["ottawa_naviculaire"] == [("ottawa_douleur_medio_pied", True)]
    assert sorted(quand["ottawa_appui_4_pas_impossible"]) == [("ottawa_douleur_malleolaire", True),
                                                              ("ottawa_douleur_medio_pied", True)]
    assert items["ottawa_appui_4_pas_impossible"]["enableBehavior"] == "any"
    assert items["ottawa_douleur_malleolaire"]["enableBehavior"] == "all"
    assert {q for q, v in quand["ottawa_douleur_malleolaire"]} == set(
        m.protocoles["entorse_cheville"].modele.ottawa.non_applicable_si)
    assert all(c["operator"] == "=" for i in quand for c in items[i]["enableWhen"])
