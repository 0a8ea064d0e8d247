"""Load ``protocols/mesures.yaml`` strictly, against the protocols it names (issue #30)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from triage_app.loading.controle import Controle, valider
from triage_app.loading.yaml_strict import lire_yaml
from triage_app.models.mesures import ItemMesure, ParametresMesures
from triage_app.models.protocol import Protocole, Question


def charger_mesures(chemin: Path, protocoles: Mapping[str, Protocole], nom: str = "mesures.yaml") -> ParametresMesures:
    """Read the measures: unique ids (of measures and of their items), known protocols, the file's own sources cited,
    items in the file or numbered (not both), an item text present whenever the licence lets the texts ship, a
    minimal change in the measure's own unit, a reading by level exactly for a measure scored by level."""
    doc = lire_yaml(chemin, nom)
    fichier = valider(ParametresMesures, doc, nom)
    ctl = Controle(nom, doc)
    sources = {s.id for s in fichier.sources}
    connus = list(protocoles)
    questions = {pid: {q.id: q for q in p.questions} for pid, p in protocoles.items()}
    vus: set[str] = set()
    for i, m in enumerate(fichier.mesures):
        ici = f"mesures[{i}]"
        if m.id in vus:
            ctl.erreur(f"{ici}.id", f"identifiant « {m.id} » déjà utilisé")
        vus.add(m.id)
        for j, p in enumerate(m.protocoles):
            ctl.dans(p, connus, f"{ici}.protocoles[{j}]", "protocole")
        ctl.dans(m.source, sources, f"{ici}.source", "source")
        if m.variation_minimale is not None:
            ctl.dans(m.variation_minimale.source, sources, f"{ici}.variation_minimale.source", "source")
            if m.variation_minimale.valeur >= m.cotation.max - m.cotation.min:
                ctl.erreur(f"{ici}.variation_minimale.valeur", "variation minimale plus grande que l'étendue du score")
        if bool(m.items) == (m.items_numerotes is not None):
            ctl.erreur(ici, "attendu soit « items », soit « items_numerotes » (un seul des deux)")
        ids = [it.id for it in m.tous_les_items()]
        if len(set(ids)) != len(ids):
            ctl.erreur(f"{ici}.items", "identifiants d'items en double")
        if m.licence.textes_livres and m.items_numerotes is not None:
            ctl.erreur(f"{ici}.items_numerotes", "textes livrés : écrire chaque item avec son texte dans « items »")
        for j, it in enumerate(m.items):
            if m.licence.textes_livres and not it.libelle:
                ctl.erreur(f"{ici}.items[{j}].libelle", "à renseigner (la licence permet de livrer les textes)")
            if not m.licence.textes_livres and it.libelle:
                ctl.erreur(f"{ici}.items[{j}].libelle", "texte non livrable (licence) : retirer le texte")
        par_niveau = m.cotation.lecture_par_niveau
        if (m.cotation.regle == "niveau") != (par_niveau is not None):
            ctl.erreur(f"{ici}.cotation", "« lecture_par_niveau » va avec la règle « niveau », et seulement avec elle")
        if par_niveau is not None:
            niveaux = sorted(n for ns in par_niveau.values() for n in ns)
            if niveaux != list(range(m.cotation.min, m.cotation.max + 1)):
                ctl.erreur(f"{ici}.cotation.lecture_par_niveau",
                           f"chaque niveau de {m.cotation.min} à {m.cotation.max} une fois exactement")
        for j, it in enumerate(m.items):
            if it.question_du_triage is not None:
                for pid in (p for p in m.protocoles if p in questions):
                    _question_compatible(ctl, f"{ici}.items[{j}]", it, questions[pid].get(it.question_du_triage), pid)
            elif it.valeurs_du_triage is not None:
                ctl.erreur(f"{ici}.items[{j}].valeurs_du_triage", "sans « question_du_triage », rien à préremplir")
        if m.cotation.regle not in ("niveau", "aucune") and m.variation_minimale is None:
            ctl.erreur(f"{ici}.variation_minimale", "à renseigner : sans elle, aucune variation ne peut être lue")
    ctl.lever()
    return fichier


def _question_compatible(ctl: Controle, ici: str, it: ItemMesure, q: Question | None, protocole: str) -> None:
    """The patient's answer can become the protocol question's: a score question only (never a red flag); a yes /
    no question takes items valued 0 and 1; a choice question, one triage value per answer, each a choice of it."""
    if q is None:
        ctl.erreur(f"{ici}.question_du_triage",
                   f"question « {it.question_du_triage} » absente du protocole {protocole}")
        return
    if q.niveau != "score":  # a red flag, an eligibility or an Ottawa question: never answered by the patient alone
        ctl.erreur(f"{ici}.question_du_triage", f"« {q.id} » est une question de niveau « {q.niveau} » : seules les "
                                                "questions de score (STarT Back) peuvent être déclarées par le "
                                                "patient")
        return
    valeurs = [v for v in it.reponses.acceptees() if v is not None]
    if q.type == "booleen":
        if sorted(valeurs) != [0, 1] or it.valeurs_du_triage is not None:
            ctl.erreur(ici, f"« {q.id} » est une question oui / non : attendu des réponses 0 et 1, sans "
                            "« valeurs_du_triage »")
        return
    permis = [c.valeur for c in q.choix]
    if it.valeurs_du_triage is None or len(it.valeurs_du_triage) != len(valeurs) or sorted(valeurs) != list(
            range(len(valeurs))):
        ctl.erreur(f"{ici}.valeurs_du_triage", f"une valeur du triage par réponse (0 à {len(valeurs) - 1}) pour "
                                               f"« {q.id} »")
        return
    for k, v in enumerate(it.valeurs_du_triage):
        ctl.dans(v, permis, f"{ici}.valeurs_du_triage[{k}]", "valeur")
