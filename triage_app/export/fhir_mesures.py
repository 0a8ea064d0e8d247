"""The patient's measures in the FHIR export (issue #30): each as a ``QuestionnaireResponse`` (its answers, item by
item) and, once complete, an ``Observation`` of its score, coded in LOINC where a code exists (pain severity 0–10:
72514-3) and in the project's own code system otherwise. Plain data in (``Resume.mesures_fhir``), resources out."""

from __future__ import annotations

from typing import Any

_LOINC = "http://loinc.org"
_UCUM = "http://unitsofmeasure.org"
_CATEGORIE = "http://terminology.hl7.org/CodeSystem/observation-category"


def ressources_mesures(mesures: list[dict[str, Any]], patient: str, base_url: str,
                       urn: Any) -> list[dict[str, Any]]:
    """Bundle entries for ``mesures`` (plain data: id, mesure, libelle, code, moment_libelle, jour, score, complete,
    pourcentage, reponses, choix, declare_par); ``urn(nom)`` gives a resource's deterministic ``urn:uuid``."""
    entrees: list[dict[str, Any]] = []
    for x in mesures:
        reponse_url = urn(f"QuestionnaireResponse/mesure/{x['id']}")
        items = [{"linkId": item, "answer": [_valeur(valeur, x["choix"].get(item, {}))]}
                 for item, valeur in x["reponses"].items() if valeur is not None]
        qr: dict[str, Any] = {
            "resourceType": "QuestionnaireResponse",
            "language": "fr",
            "questionnaire": f"{base_url}/Questionnaire/mesure/{x['mesure']}",
            "status": "completed" if x["complete"] else "in-progress",
            "subject": {"reference": patient},
            "authored": x["jour"],
        }
        if x["declare_par"] == "patient":
            qr["source"] = {"reference": patient}
        if items:
            qr["item"] = items
        entrees.append({"fullUrl": reponse_url, "resource": qr})
        if x["score"] is None:
            continue
        code = x["code"]
        systeme = _LOINC if code["systeme"] == "loinc" else f"{base_url}/CodeSystem/mesure"
        unite = {"unit": "%", "system": _UCUM, "code": "%"} if x["pourcentage"] else {
            "unit": "score", "system": _UCUM, "code": "{score}"}
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{"system": _CATEGORIE, "code": "survey", "display": "Survey"}]}],
            "code": {"coding": [{"system": systeme, "code": code["valeur"], "display": code["libelle"]}],
                     "text": x["libelle"]},
            "subject": {"reference": patient},
            "effectiveDateTime": x["jour"],
            "valueQuantity": {"value": x["score"], **unite},
            "derivedFrom": [{"reference": reponse_url}],
            "note": [{"text": f"Moment : {x['moment_libelle']}"}],
        }
        if x["declare_par"] == "patient":
            observation["performer"] = [{"reference": patient}]
        entrees.append({"fullUrl": urn(f"Observation/mesure/{x['id']}"), "resource": observation})
    return entrees


def _valeur(valeur: int, libelles: dict[str, str]) -> dict[str, Any]:
    if str(valeur) in libelles:
        return {"valueCoding": {"code": str(valeur), "display": libelles[str(valeur)]}}
    return {"valueInteger": int(valeur)}
