"""FHIR R4B exports: each protocol as a Questionnaire, and a triage as a Bundle (patient, answers, impression).

Everything is derived from ``protocols/`` and from a :class:`~triage_app.export.resume.Resume`; nothing here
reads the clock, so the same triage always gives the same bytes. Resource ids are ``urn:uuid:`` values derived
(uuid5) from the triage id and version, or from a hash of the case for a case file.

Codes and extensions live under :data:`BASE_URL`, an identifier that is never fetched:

- ``{BASE_URL}/Questionnaire/<protocole>``: the protocol's questionnaire (canonical ``url|version``);
- ``{BASE_URL}/CodeSystem/<protocole>/reponse/<question>``: the values of a multiple-choice question;
- ``{BASE_URL}/CodeSystem/<protocole>/motif`` and ``…/prescription``: criteria that fired, prescriptions;
- ``{BASE_URL}/CodeSystem/<name>``: shared vocabularies (orientation, source, verification, classe-duree…);
- ``{BASE_URL}/StructureDefinition/<name>``: the extensions (source traceability, triage details).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any
from urllib.parse import quote

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from triage_app.engine.evaluation import Moteur
from triage_app.export.fhir_mesures import ressources_mesures
from triage_app.export.resume import Resume
from triage_app.models.protocol import Protocole, Question

BASE_URL = "https://triage-app.example/fhir"
"""Root of every canonical URL, code system and extension of the exports (an identifier, never fetched)."""

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, BASE_URL)
_ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
_ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
_UCUM = "http://unitsofmeasure.org"
_GENRES = {"F": "female", "M": "male"}


def url_questionnaire(protocole_id: str) -> str:
    """The canonical URL of a protocol's Questionnaire (without version)."""
    return f"{BASE_URL}/Questionnaire/{protocole_id}"


def systeme(*parties: str) -> str:
    """A code system URL under :data:`BASE_URL`."""
    return f"{BASE_URL}/CodeSystem/" + "/".join(parties)


def url_extension(nom: str) -> str:
    """An extension URL under :data:`BASE_URL`."""
    return f"{BASE_URL}/StructureDefinition/{nom}"


def systeme_reponse(protocole_id: str, question_id: str) -> str:
    """The code system of a multiple-choice question's values."""
    return systeme(protocole_id, "reponse", question_id)


def coding(system: str, code: Any, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": str(code)}
    if display:
        coding["display"] = display
    return coding


def _ext(nom: str, **valeur: Any) -> dict[str, Any]:
    """A simple extension: ``_ext("orientation", valueCoding={...})``."""
    return {"url": url_extension(nom), **valeur}


def _ext_complexe(nom: str, parties: list[dict[str, Any]], *, absolue: bool = True) -> dict[str, Any]:
    """A complex extension; its parts use relative urls (``url: "voie"``), as FHIR requires."""
    return {"url": url_extension(nom) if absolue else nom, "extension": parties}


def _part(nom: str, **valeur: Any) -> dict[str, Any]:
    return {"url": nom, **valeur}


def _tracabilite(m: Moteur, source_id: str, verification: str) -> dict[str, Any]:
    """The ``source`` extension: which document a question or criterion rests on, and how it was verified."""
    src = m.registre.sources.get(source_id)
    badges = m.registre.commun.libelles.verification
    parties = [_part("source", valueCoding=coding(systeme("source"), source_id, src.titre if src else None)),
               _part("verification", valueCoding=coding(systeme("verification"), verification,
                                                        badges.get(verification)))]
    if src is not None and src.url:
        parties.append(_part("url", valueUri=src.url))
    return _ext_complexe("source", parties)


# -- Questionnaire ---------------------------------------------------------------------------------------------


def _nom_calcul(protocole_id: str) -> str:
    """A computer-friendly name (``TriageLombalgieAigue``), as FHIR's que-0 asks."""
    return "Triage" + "".join(p.capitalize() for p in protocole_id.split("_"))


def _item_question(m: Moteur, p: Protocole, q: Question) -> dict[str, Any]:
    item: dict[str, Any] = {
        "extension": [_tracabilite(m, q.source, q.verification)],
        "linkId": q.id,
        "text": q.libelle,
        "type": "boolean" if q.type == "booleen" else "choice",
        "required": q.requis == "toujours",
    }
    if q.type == "choix":
        item["answerOption"] = [{"valueCoding": coding(systeme_reponse(p.id, q.id), c.valeur, c.libelle)}
                                for c in q.choix]
    if q.aide:
        item["item"] = [{
            "extension": [{"url": _ITEM_CONTROL, "valueCodeableConcept": {
                "coding": [coding(_ITEM_CONTROL_SYSTEM, "help", "Help-Button")]}}],
            "linkId": f"{q.id}.aide", "text": q.aide, "type": "display"}]
    return item


def conditions(p: Protocole) -> dict[str, tuple[str, list[tuple[str, bool]]]]:
    """When each conditional question is asked (``enableWhen``): question id → (behaviour, [(question, answer)]).

    The Ottawa rules (the protocol's ``ottawa`` block): a zone's pain question when none of the rule's
    exclusions is present (each answered « non »); a sign when the pain of one of its zones is present. The time
    window since the trauma depends on dates, which ``enableWhen`` cannot compare: it stays in the rules."""
    out: dict[str, tuple[str, list[tuple[str, bool]]]] = {}
    if p.ottawa is None:
        return out
    for zone in p.ottawa.zones:
        out[zone.douleur] = ("all", [(q, False) for q in p.ottawa.non_applicable_si])
    for zone in p.ottawa.zones:
        for signe in zone.signes:
            _, deja = out.setdefault(signe, ("any", []))
            if (zone.douleur, True) not in deja:
                deja.append((zone.douleur, True))
    return out


def questionnaire(m: Moteur, protocole_id: str) -> Questionnaire:
    """A protocol as a FHIR R4B Questionnaire: one group per theme, one item per question (stable linkIds).

    ``required`` marks the questions asked in every case (``requis: toujours``); conditional ones (Ottawa) carry
    ``enableWhen`` (:func:`conditions`): a zone's pain when no exclusion applies, a sign when its zone hurts.
    The help text is a ``display`` child (itemControl ``help``); the source and its verification an extension.
    """
    p = m.protocoles[protocole_id].modele
    quand = conditions(p)
    groupes = []
    for g in p.groupes:
        qs = [_item_question(m, p, q) for q in p.questions if q.groupe == g.id]
        for item in qs:
            if item["linkId"] in quand:
                comportement, liste = quand[item["linkId"]]
                item["enableWhen"] = [{"question": q, "operator": "=", "answerBoolean": v} for q, v in liste]
                if len(liste) > 1:
                    item["enableBehavior"] = comportement
        if qs:
            groupes.append({"linkId": g.id, "text": g.libelle, "type": "group", "item": qs})
    jour = p.en_vigueur_du.isoformat()
    return Questionnaire.model_validate({
        "resourceType": "Questionnaire",
        "id": protocole_id.replace("_", "-"),
        "language": "fr",
        "extension": [_tracabilite(m, s, m.registre.sources[s].verification) for s in p.sources
                      if s in m.registre.sources],
        "url": url_questionnaire(p.id),
        "version": p.version,
        "name": _nom_calcul(p.id),
        "title": p.titre,
        "status": "active",
        "subjectType": ["Patient"],
        "date": jour,
        "description": p.description,
        "effectivePeriod": {"start": jour},
        "item": groupes,
    })


# -- Bundle ----------------------------------------------------------------------------------------------------


def graine_ressources(resume: Resume) -> str:
    """What the resource ids derive from: the triage and its version, or the case's content."""
    if resume.triage_id:
        return f"triage/{resume.triage_id}/{resume.version}"
    contenu = json.dumps(resume.cas, sort_keys=True, ensure_ascii=False, default=str)
    return "cas/" + hashlib.sha256(contenu.encode("utf-8")).hexdigest()


def urn_ressource(graine: str, ressource: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{graine}/{ressource}')}"


def identifiant_fhir(m: Moteur, genre: str, valeur: str, *, national: bool = False) -> dict[str, Any]:
    """A national identifier (FR Core): system ``urn:oid:`` of its authority, type code; ``national`` prefixes
    the value as the national id does (8 + RPPS, 1 + FINESS)."""
    interop = m.registre.interop
    assert interop is not None
    ident = interop.identifiants[genre]  # type: ignore[index]
    type_ = interop.fhir.types_identifiants[genre]  # type: ignore[index]
    return {"use": "official",
            "type": {"coding": [coding(interop.fhir.systeme_types_identifiants, type_, ident.libelle)]},
            "system": f"urn:oid:{ident.oid}", "value": (ident.prefixe if national else "") + valeur}


def ressource_patient(resume: Resume, m: Moteur | None = None) -> dict[str, Any]:
    """Birth date, gender, the name only when the Resume has one; the INS (FR Core) only for a qualified
    identity, with the strict traits (birth name, birth place), and the médecin traitant."""
    donnees = resume.cas["patient"]
    patient: dict[str, Any] = {"resourceType": "Patient", "birthDate": str(donnees["date_naissance"])}
    ident = resume.identites.patient if resume.identites is not None else None
    if m is not None and m.registre.interop is not None and ident is not None:
        patient["meta"] = {"profile": [m.registre.interop.fhir.profil_patient]}
        if ident.qualifiee and ident.ins_genre:
            patient["identifier"] = [identifiant_fhir(m, ident.ins_genre, ident.ins)]
    if resume.patient:
        nom: dict[str, Any] = {"use": "official", "text": resume.patient}
        if resume.patient_nom and resume.patient_prenom:  # stored separately: no guessing
            nom["family"], nom["given"] = resume.patient_nom, [resume.patient_prenom]
        elif len(mots := resume.patient.split()) == 2:  # « Nom Prénom » is only unambiguous with one word each
            nom["family"], nom["given"] = mots[0], [mots[1]]
        patient["name"] = [nom]
    if ident is not None and ident.nom_naissance:
        patient.setdefault("name", []).append({"use": "official", "family": ident.nom_naissance,
                                               "given": (ident.prenoms_naissance or "").split() or None,
                                               "text": f"{ident.nom_naissance} {ident.prenoms_naissance or ''}"
                                               .strip()})
        if patient["name"][0].get("use") == "official" and len(patient["name"]) > 1:
            patient["name"][0]["use"] = "usual"  # the used name; the birth name is the official one
    genre = _GENRES.get(donnees.get("sexe") or "")
    if genre:
        patient["gender"] = genre
    return patient


def _reponse(p: Protocole, q: Question, valeur: Any) -> dict[str, Any]:
    if q.type == "booleen":
        return {"valueBoolean": bool(valeur)}
    libelles = {str(c.valeur): c.libelle for c in q.choix}
    return {"valueCoding": coding(systeme_reponse(p.id, q.id), valeur, libelles.get(str(valeur)))}


def reponses_questionnaire(resume: Resume, p: Protocole, patient: str) -> dict[str, Any]:
    """The answers given (an unanswered question is left out, never written as « non»), nested by theme."""
    reponses = resume.cas.get("reponses") or {}
    items = []
    for g in p.groupes:
        qs = [{"linkId": q.id, "text": q.libelle, "answer": [_reponse(p, q, reponses[q.id])]}
              for q in p.questions if q.groupe == g.id and reponses.get(q.id) is not None]
        if qs:
            items.append({"linkId": g.id, "text": g.libelle, "item": qs})
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "language": "fr",
        "questionnaire": f"{url_questionnaire(p.id)}|{p.version}",
        "status": "completed" if resume.resultat["statut"] == "complet" else "in-progress",
        "subject": {"reference": patient},
        "authored": resume.resultat["date_consultation"],
    }
    if resume.auteur:
        qr["author"] = {"display": resume.auteur}
    if items:
        qr["item"] = items
    return qr


def _uris_regles(resume: Resume) -> list[str]:
    """The rules applied: protocol and version, and the fingerprint as an RFC 6920 ``nih:`` hash URI."""
    uris = [f"{BASE_URL}/regles/{resume.protocole_id}/{quote(resume.version_protocole, safe='+')}"]
    algo, _, condensat = resume.empreinte_regles.partition(":")
    if algo == "sha256" and condensat:
        uris.append(f"nih:sha-256;{condensat}")
    else:
        uris.append(f"{BASE_URL}/regles/empreinte/{quote(resume.empreinte_regles, safe='')}")
    return uris


def resume_texte(resume: Resume) -> str:
    c = resume.carte
    phrases = [f"{c.orientation_libelle}. {c.consigne}" if c.orientation_libelle else "Orientation non déterminée."]
    if not c.complet:
        phrases.append(f"Triage incomplet : {c.manquantes} réponse(s) requise(s) manquante(s) ; une question de "
                       "sécurité sans réponse n’est pas un « non ».")
    return " ".join(phrases)


def _details(m: Moteur, resume: Resume) -> list[dict[str, Any]]:
    """Orientation, duration, X-ray, STarT Back, medical advice, sessions, billing, prescriptions: extensions."""
    r = resume.resultat
    commun = m.registre.commun
    libelles = commun.libelles
    p = m.protocoles[resume.protocole_id].modele
    ext: list[dict[str, Any]] = []
    if r["orientation"]:
        ext.append(_ext("orientation", valueCoding=coding(systeme("orientation"), r["orientation"],
                                                          resume.carte.orientation_libelle)))
    ext += [_ext("question-manquante", valueString=qid) for qid in r["questions_manquantes"]]
    if r["classe_duree"]:
        ext.append(_ext("classe-duree", valueCoding=coding(systeme("classe-duree"), r["classe_duree"],
                                                           libelles.classe_duree.get(r["classe_duree"]))))
    ext.append(_ext("duree-episode", valueQuantity={"value": r["duree_jours"], "unit": "jours", "system": _UCUM,
                                                    "code": "d"}))
    if r["radiographie"]:
        ext.append(_ext("radiographie", valueCoding=coding(systeme("radiographie"), r["radiographie"],
                                                           libelles.radiographie.get(r["radiographie"]))))
    if resume.ottawa:
        ext.append(_ext("regles-ottawa", valueString=resume.ottawa))
    if risque := r["risque_chronicite"]:
        ext.append(_ext("risque-chronicite", valueCoding=coding(systeme("risque-chronicite"), risque,
                                                                libelles.risque_chronicite.get(risque))))
    ext.append(_ext("avis-medical-recommande", valueBoolean=r["avis_medical_recommande"]))
    if r["seances"]:
        s = r["seances"]
        ext.append(_ext_complexe("seances", [
            _part(nom, valueInteger=s[cle]) for nom, cle in (
                ("consultations-protocole", "consultations_protocole"), ("autorisees", "autorisees"),
                ("realisees", "realisees"), ("restantes", "restantes"), ("seuil-dap", "seuil_dap"))]))
    if facturation := _facturation(m, resume):
        ext.append(facturation)
    prescriptions = {x.id: x.libelle for x in p.prescriptions}
    ext += [_ext("prescription-autorisee", valueCoding=coding(systeme(p.id, "prescription"), pid,
                                                              prescriptions.get(pid)))
            for pid in r["prescriptions_autorisees"]]
    return ext


def _facturation(m: Moteur, resume: Resume) -> dict[str, Any] | None:
    """The billing route, its lines (amounts in EUR when fixed) and remarks; ``None`` when there is nothing."""
    fac = resume.resultat["facturation"]
    voies = {v.id: v.libelle for v in m.registre.commun.voies}
    parties = []
    if fac["voie"]:
        parties.append(_part("voie", valueCoding=coding(systeme("voie-facturation"), fac["voie"],
                                                        voies.get(fac["voie"]))))
    for li in fac["lignes"]:
        ligne = [_part("acte", valueCoding=coding(systeme("acte"), li["code"], li["libelle"]))]
        if li["montant_eur"] is not None:
            ligne.append(_part("montant", valueMoney={"value": li["montant_eur"], "currency": "EUR"}))
        if li["part_remboursee_eur"] is not None:
            ligne.append(_part("part-remboursee", valueMoney={"value": li["part_remboursee_eur"], "currency": "EUR"}))
        parties.append(_ext_complexe("ligne", ligne, absolue=False))
    parties += [_part("remarque", valueString=t) for t in fac["remarques"]]
    return _ext_complexe("facturation", parties) if parties else None


def ressource_impression(m: Moteur, resume: Resume, patient: str, reponses: str) -> dict[str, Any]:
    """The orientation and its reasons: one finding per motif, with its source and verification level."""
    r = resume.resultat
    p = m.protocoles[resume.protocole_id].modele
    findings = []
    for mo, vue in zip(r["motifs"], resume.carte.motifs, strict=True):
        base = f"{vue.source_titre} ({vue.badge})"
        findings.append({
            "extension": [_tracabilite(m, mo["source"], mo["verification"])],
            "itemCodeableConcept": {"coding": [coding(systeme(p.id, "motif"), mo["id"], mo["libelle"])],
                                    "text": mo["libelle"]},
            "basis": f"{base} — {vue.source_url}" if vue.source_url else base})
    ci: dict[str, Any] = {
        "resourceType": "ClinicalImpression",
        "language": "fr",
        "extension": _details(m, resume),
        "status": "completed" if r["statut"] == "complet" else "in-progress",
        "code": {"coding": [coding(systeme("protocole"), p.id, p.titre)],
                 "text": f"Triage kinésithérapique — {p.titre}"},
        "subject": {"reference": patient},
        "effectiveDateTime": r["date_consultation"],
        "date": r["date_consultation"],
        "investigation": [{"code": {"text": "Questions du triage"}, "item": [{"reference": reponses}]}],
        "protocol": _uris_regles(resume),
        "summary": resume_texte(resume),
    }
    if resume.auteur:
        ci["assessor"] = {"display": resume.auteur}
    if findings:
        ci["finding"] = findings
    if resume.note:
        note: dict[str, Any] = {"text": resume.note}
        if resume.auteur:
            note["authorString"] = resume.auteur
        ci["note"] = [note]
    return ci


def bundle(resume: Resume, m: Moteur) -> Bundle:
    """A triage as a FHIR R4B ``collection`` Bundle: Patient, QuestionnaireResponse, ClinicalImpression.

    Deterministic: the ids come from the triage (or the case), there is no timestamp, so two exports of
    the same triage are identical.
    """
    graine = graine_ressources(resume)
    p = m.protocoles[resume.protocole_id].modele
    patient, reponses, impression = (urn_ressource(graine, n) for n in ("Patient", "QuestionnaireResponse",
                                                               "ClinicalImpression"))
    return Bundle.model_validate({
        "resourceType": "Bundle",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": urn_ressource(graine, "Bundle")},
        "type": "collection",
        "entry": [
            {"fullUrl": patient, "resource": ressource_patient(resume, m)},
            {"fullUrl": reponses, "resource": reponses_questionnaire(resume, p, patient)},
            {"fullUrl": impression, "resource": ressource_impression(m, resume, patient, reponses)},
            *ressources_mesures(resume.mesures_fhir, patient, BASE_URL, lambda nom: urn_ressource(graine, nom)),
        ],
    })


def bundle_json(resume: Resume, m: Moteur) -> str:
    """The Bundle as pretty-printed FHIR JSON (UTF-8 text, French accents kept)."""
    return bundle(resume, m).model_dump_json(indent=2)
