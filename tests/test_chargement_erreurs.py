"""Every way a protocol, parameter or source file can be wrong is refused at load time.

Each case loads one broken file with the registry functions (the other files being the real ones of
``protocols/``) and checks the :class:`ErreurChargement`: it names the file, one problem has the
expected YAML path, its French message says what was expected, and it gives the line.

Pure-YAML failures are small committed files in ``tests/fixtures/invalides/``. Protocol and
``commun.yaml`` failures copy the real file to a temporary folder and replace one passage, so the
rest of the file stays valid and the test follows the real protocols when they change.

A case the loader does not (yet) handle as it should is marked ``xfail(strict=True)`` with the reason.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from triage_app.engine.evaluation import VOCABULAIRE, charger_regles
from triage_app.errors import ErreurChargement, Probleme
from triage_app.loading.registry import (
    DOSSIER_PROTOCOLES,
    FICHIERS_COMMUNS,
    charger_commun,
    charger_parametres,
    charger_protocole,
    charger_rapport,
    charger_sources,
)
from triage_app.loading.yaml_strict import lire_yaml

RAPPORT = "rapport.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "invalides"

# English words that must never reach the user (pydantic, PyYAML or Python leftovers).
ANGLAIS = re.compile(
    r"\b(field|required|input|should|value[_ ]error|expected|found|while|parsing|scanning|got|"
    r"allowed|could|cannot|mapping|sequence|invalid|valid|extra|permitted|string|integer|number|"
    r"must|unknown|missing|error|unicode|line|column|fractional|the|is|not|be)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Cas:
    """One failure mode.

    ``fichier``: where the broken file goes in a temporary copy of the ``protocols/`` layout (its
    name as the loader reports it). The file comes either from ``fixture`` (path under
    ``tests/fixtures/invalides``) or from ``reel`` (a real file of ``protocols/``) with ``remplacements``
    (each old text must occur exactly once).

    ``chemin``: expected YAML path; ``{section:id}`` is replaced by the index of the item ``id`` in the
    list ``section`` of the real file (``{section:+}`` by the length of that list, i.e. an appended item).
    ``ligne``: expected line: a number, a text whose (unique) occurrence in the loaded file starts on
    that line, or ``None`` when the problem has no line.
    """

    id: str
    fichier: str
    chemin: str
    mots: tuple[str, ...]
    ligne: int | str | None
    fixture: str | None = None
    reel: str | None = None
    remplacements: tuple[tuple[str, str], ...] = ()
    xfail: str | None = None
    xfail_ligne: str | None = None
    xfail_francais: str | None = None


class LigneInexacte(AssertionError):
    """Only the line is wrong: lets a case be ``xfail`` on its line alone, its other checks still binding."""


LOMBALGIE = "lombalgie_aigue.yaml"

# A passage of lombalgie_aigue.yaml: the end of the first question (rf_troubles_sphincteriens).
FIN_Q0 = ("  groupe: neurologique\n  niveau: urgences\n  requis: toujours\n"
          "  source: revmed_suisse_2010_urgences_lombalgie\n  verification: secondaire\n"
          "- id: rf_anesthesie_en_selle\n")
FIN_T_SANS_VOIE = "  libelle: 'Aucune voie sans prescription : consultation médicale (n° 6)'\n"
SEUIL_AGE_MIN = ("  age_min:\n    valeur: 20\n    libelle: Âge minimal du protocole (inclus)\n"
                 "    source: kineactu_protocoles_2020\n    verification: secondaire\n")


def _modif(id_: str, chemin: str, mots: tuple[str, ...], ligne: int | str | None,
           *remplacements: tuple[str, str], reel: str = LOMBALGIE, fichier: str | None = None,
           **autres: Any) -> Cas:
    return Cas(id_, fichier or reel, chemin, mots, ligne, reel=reel, remplacements=remplacements, **autres)


def _param(nom: str, chemin: str, mots: tuple[str, ...], ligne: int | str | None, **autres: Any) -> Cas:
    return Cas(f"parametre_{nom}", f"parameters/ngap/{nom}.yaml", chemin, mots, ligne,
               fixture=f"parametres/{nom}.yaml", **autres)


def _yaml(nom: str, chemin: str, mots: tuple[str, ...], ligne: int | str | None, **autres: Any) -> Cas:
    return Cas(f"yaml_{nom}", f"{nom}.yaml", chemin, mots, ligne, fixture=f"yaml/{nom}.yaml", **autres)


CAS: list[Cas] = [
    # -- YAML itself ---------------------------------------------------------------------------
    _yaml("syntaxe", "", ("YAML illisible",), 4),
    _yaml("indentation", "", ("YAML illisible",), 6),
    _yaml("vide", "", ("vide", "attendu"), None),
    _yaml("commentaires_seuls", "", ("vide", "attendu"), None),
    _yaml("cle_non_scalaire", "seuils", ("clé non scalaire", "attendu"), "  [age_min, age_max]:"),
    _yaml("etiquette_python_scalaire", "titre", ("étiquette", "python/name", "non autorisée", "attendu"),
          "titre: !!python"),
    _yaml("etiquette_python_objet", "seuils", ("étiquette", "python/object", "non autorisée", "attendu"),
          "seuils: !!python"),
    Cas("protocole_cle_en_double", "cle_en_double.yaml", "questions[1].niveau",
        ("clé « niveau » en double", "la première est ligne 12", "qu'une fois"), 14,
        fixture="protocoles/cle_en_double.yaml"),
    _modif("protocole_cle_en_double_reel", "questions[{questions:rf_troubles_sphincteriens}].niveau",
           ("clé « niveau » en double", "qu'une fois"), "  niveau: medecin_jour\n  requis: toujours\n  source: rev",
           (FIN_Q0, FIN_Q0.replace("  niveau: urgences\n", "  niveau: urgences\n  niveau: medecin_jour\n"))),
    # -- dated parameters ----------------------------------------------------------------------
    _param("cle_en_double", "valeurs.2024-02-22.valeur", ("clé « valeur » en double", "qu'une fois"),
           "    valeur: 2.15"),
    _param("date_en_double", "valeurs.2012-07-15", ("clé « 2012-07-15 » en double", "qu'une fois"), "  2012-07-15:"),
    Cas("parametre_date_en_double_premiere_ligne", "parameters/ngap/date_en_double.yaml", "valeurs.2012-07-15",
        ("la première est ligne 4",), "  2012-07-15:", fixture="parametres/date_en_double.yaml"),
    _param("dates_desordre", "valeurs.2012-07-15", ("2012-07-15", "désordre", "strictement croissantes",
                                                    "2024-02-22"), '  "2012-07-15":'),
    _param("date_format", "valeurs.22/02/2024", ("date d'effet", "22/02/2024", "invalide", "AAAA-MM-JJ"),
           '  "22/02/2024":'),
    _param("date_inexistante", "valeurs.2024-02-30", ("date d'effet", "2024-02-30", "invalide", "AAAA-MM-JJ"),
           '  "2024-02-30":'),
    _param("date_sans_tirets", "valeurs", ("date d'effet", "20240222", "AAAA-MM-JJ", "guillemets"), "valeurs:"),
    _param("en_vigueur_apres_attendu", "valeurs.2027-07-01", ("en vigueur", "« attendu »", "attendu: false"),
           '  "2027-07-01":'),
    _param("reference_inconnue", "valeurs.2024-02-22.reference", ("source", "avenant_7_arrete_2023", "inconnu",
                                                                  "attendu l'un de"),
           "    reference: avenant_7_arrete_2023"),
    _param("reference_manquante", "valeurs.2024-02-22.reference", ("champ obligatoire manquant",),
           '  "2024-02-22":'),
    _param("champ_inconnu", "devise", ("champ inconnu",), "devise: euro"),
    _param("champ_inconnu_imbrique", "valeurs.2012-07-15.commentaire", ("champ inconnu",), "    commentaire:"),
    _param("type_errone", "valeurs.2027-07-01.attendu", ("booléen attendu", "true ou false", "peut-être"),
           "    attendu: peut-être"),
    _param("valeurs_vides", "valeurs", ("au moins une", "date"), "valeurs: {}"),
    _param("etiquette_python_valeur", "valeurs.2012-07-15.valeur",
           ("étiquette", "python/object/apply", "non autorisée"), "    valeur: !!python"),
    # -- sources -------------------------------------------------------------------------------
    Cas("sources_id_en_double", "sources.yaml", "sources[2].id",
        ("arrete_pc_lombalgie_2020", "déjà utilisé", "sources[0]"),
        '  - id: arrete_pc_lombalgie_2020\n    titre: "Même',
        fixture="sources/id_en_double.yaml"),
    # -- protocol: unknown fields, wrong types -------------------------------------------------
    _modif("champ_inconnu_racine", "auteur", ("champ inconnu",), "auteur:",
           ("titre: Lombalgie aiguë commune\n", "titre: Lombalgie aiguë commune\nauteur: Dupont\n")),
    _modif("champ_inconnu_question", "questions[{questions:rf_troubles_sphincteriens}].obligatoire",
           ("champ inconnu",), "  obligatoire: oui",
           (FIN_Q0, FIN_Q0.replace("  requis: toujours\n", "  requis: toujours\n  obligatoire: oui\n"))),
    _modif("type_seuil_texte", "seuils.age_min.valeur", ("nombre", "attendu", "vingt"), "    valeur: vingt",
           (SEUIL_AGE_MIN, SEUIL_AGE_MIN.replace("valeur: 20", "valeur: vingt"))),
    _modif("type_score_texte", "score_chronicite.total_faible_max", ("nombre entier attendu", "trois"),
           "  total_faible_max: trois", ("  total_faible_max: 3\n", "  total_faible_max: trois\n")),
    _modif("type_booleen_texte", "etats[{etats:urgences}].final", ("booléen attendu", "true ou false"),
           "  final: oui\n  orientation: urgences",
           ("  final: true\n  orientation: urgences\n", "  final: oui\n  orientation: urgences\n")),
    _modif("type_choix_liste", "questions[{questions:sbt_9}].choix[0].valeur", ("attendu", "pas_du_tout"),
           "  - valeur: [pas_du_tout]", ("  - valeur: pas_du_tout\n", "  - valeur: [pas_du_tout]\n")),
    _modif("en_vigueur_du_format", "en_vigueur_du", ("date attendue", "AAAA-MM-JJ", "08/03/2020"),
           "en_vigueur_du:", ("en_vigueur_du: '2020-03-08'", "en_vigueur_du: 08/03/2020")),
    _modif("nom_fichier_different", "id", ("lombalgie_aigue", "nom du fichier", "lombalgie"),
           "id: lombalgie_aigue\ntitre:",
           fichier="lombalgie.yaml"),
    # -- protocol: states and transitions ------------------------------------------------------
    _modif("transition_vers_inconnu", "transitions[{transitions:t_identification}].vers",
           ("état", "signes_urgence", "inconnu", "attendu l'un de", "signes_urgents"), "  vers: signes_urgence\n",
           ("  depuis: identification\n  vers: signes_urgents\n",
            "  depuis: identification\n  vers: signes_urgence\n")),
    _modif("transition_depuis_inconnu", "transitions[{transitions:t_identification}].depuis",
           ("état", "identifcation", "inconnu", "attendu l'un de", "identification"), "  depuis: identifcation",
           ("  depuis: identification\n  vers: signes_urgents\n", "  depuis: identifcation\n  vers: signes_urgents\n")),
    _modif("transition_depuis_final", "transitions[{transitions:t_sans_voie}].depuis",
           ("aucune transition", "état final", "medecin_programme"), "  depuis: medecin_programme\n",
           ("  depuis: decision\n  vers: medecin_programme\n",
            "  depuis: medecin_programme\n  vers: medecin_programme\n")),
    _modif("etat_initial_inconnu", "etat_initial", ("état", "accueil", "inconnu", "attendu l'un de"),
           "etat_initial: accueil", ("etat_initial: identification", "etat_initial: accueil")),
    _modif("etat_inatteignable", "etats[{etats:+}]", ("orphelin", "inatteignable", "identification"), "- id: orphelin",
           ("transitions:\n- id: t_identification\n",
            "- id: orphelin\n  libelle: État oublié\n  etape: issue\n  final: true\n"
            "transitions:\n- id: t_identification\n")),
    _modif("etat_impasse", "etats[{etats:incomplet}]", ("impasse", "incomplet", "pas final", "aucune transition"),
           "- id: incomplet",
           ("  libelle: 'Réponses manquantes : pas d''orientation'\n  etape: issue\n  final: true\n",
            "  libelle: 'Réponses manquantes : pas d''orientation'\n  etape: issue\n")),
    _modif("etat_impasse_possible_conditions", "etats[{etats:decision}]",
           ("impasse possible", "dernière transition", "decision", "sans condition"), "- id: decision",
           (FIN_T_SANS_VOIE, FIN_T_SANS_VOIE + "  conditions:\n  - acces_direct_disponible\n")),
    _modif("etat_impasse_possible_sauf", "etats[{etats:decision}]",
           ("impasse possible", "dernière transition", "decision", "sans condition"), "- id: decision",
           (FIN_T_SANS_VOIE, FIN_T_SANS_VOIE + "  sauf:\n  - acces_direct_disponible\n")),
    # -- protocol: conditions (allow-list) and thresholds ---------------------------------------
    _modif("condition_inconnue_transition", "transitions[{transitions:t_urgences}].conditions[0]",
           ("condition", "critere_urgence", "inconnu", "attendu l'un de", "critere_urgences"), "  - critere_urgence\n",
           ("  - critere_urgences\n", "  - critere_urgence\n")),
    _modif("condition_inconnue_critere", "criteres[{criteres:age_apparition}].condition",
           ("condition", "age_apparition_bizarre", "inconnu", "attendu l'un de"), "  condition: age_apparition_bizarre",
           ("condition: age_apparition_atypique", "condition: age_apparition_bizarre")),
    _modif("condition_inconnue_eligibilite", "eligibilite[{eligibilite:lombalgie_aigue}].condition",
           ("condition", "duree_aigu", "inconnu", "attendu l'un de"), "  condition: duree_aigu\n",
           ("condition: duree_aigue", "condition: duree_aigu")),
    _modif("condition_inconnue_eligibilite_cheville", "eligibilite[{eligibilite:mecanisme_torsion}].condition",
           ("condition", "torsion", "inconnu", "attendu l'un de"), "  condition: torsion\n",
           ("  condition: mecanisme_torsion\n", "  condition: torsion\n"), reel="entorse_cheville.yaml"),
    _modif("condition_sans_seuil", "eligibilite[{eligibilite:age_20_55}].condition",
           ("age_protocole", "seuil « age_min »", "absent", "seuils"), "  condition: age_protocole",
           (SEUIL_AGE_MIN, "")),
    _modif("critere_question_et_condition", "criteres[{criteres:rf_troubles_sphincteriens}]",
           ("soit « question »", "soit « condition »", "exactement un"),
           "- id: rf_troubles_sphincteriens\n  libelle: Troubles sphinctériens récents (rétention, incontinence)",
           ("  question: rf_troubles_sphincteriens\n",
            "  question: rf_troubles_sphincteriens\n  condition: age_apparition_atypique\n")),
    # -- protocol: identifiers and references --------------------------------------------------
    _modif("question_id_en_double", "questions[{questions:rf_anesthesie_en_selle}].id",
           ("question", "rf_troubles_sphincteriens", "déjà utilisé", "questions[0]"),
           "- id: rf_troubles_sphincteriens\n  libelle: Anesthésie",
           ("- id: rf_anesthesie_en_selle\n  libelle: Anesthésie ou paresthésies en selle (périnée, pubis) ?\n",
            "- id: rf_troubles_sphincteriens\n  libelle: Anesthésie ou paresthésies en selle (périnée, pubis) ?\n")),
    _modif("critere_id_en_double", "criteres[{criteres:rf_anesthesie_en_selle}].id",
           ("critère", "rf_troubles_sphincteriens", "déjà utilisé", "criteres[0]"),
           "- id: rf_troubles_sphincteriens\n  libelle: Anesthésie",
           ("- id: rf_anesthesie_en_selle\n  libelle: Anesthésie ou paresthésies en selle (périnée, pubis)\n",
            "- id: rf_troubles_sphincteriens\n  libelle: Anesthésie ou paresthésies en selle (périnée, pubis)\n")),
    _modif("source_question_inconnue", "questions[{questions:rf_troubles_sphincteriens}].source",
           ("source", "revmed_suisse_2010", "inconnu", "attendu l'un de"), "  source: revmed_suisse_2010\n",
           (FIN_Q0, FIN_Q0.replace("revmed_suisse_2010_urgences_lombalgie", "revmed_suisse_2010"))),
    _modif("parametre_forfait_inconnu", "facturation.forfaits[0].parametre",
           ("paramètre", "protocoles.forfait_lombalgie_1", "inconnu", "attendu l'un de"),
           "    parametre: protocoles.forfait_lombalgie_1\n",
           ("parametre: protocoles.forfait_lombalgie_consultation_1", "parametre: protocoles.forfait_lombalgie_1")),
    # -- commun.yaml ---------------------------------------------------------------------------
    _modif("commun_parametre_inconnu", "facturation.lettre_cle",
           ("paramètre", "ngap.lettre_cle_metropol", "inconnu", "attendu l'un de"),
           "  lettre_cle: ngap.lettre_cle_metropol\n",
           ("lettre_cle: ngap.lettre_cle_metropole", "lettre_cle: ngap.lettre_cle_metropol"), reel="commun.yaml"),
    _modif("commun_parametre_inconnu_acces_direct", "acces_direct.plafond_sans_diagnostic",
           ("paramètre", "acces_direct.plafond", "inconnu", "attendu l'un de"), "  plafond_sans_diagnostic:",
           ("plafond_sans_diagnostic: acces_direct.plafond_sans_diagnostic",
            "plafond_sans_diagnostic: acces_direct.plafond"),
           reel="commun.yaml"),
    _modif("commun_condition_inconnue", "regles_voie[1].condition",
           ("condition", "eligible_au_protocole", "inconnu", "attendu l'un de"), "    condition: eligible_au_protocole",
           ("condition: eligible_protocole", "condition: eligible_au_protocole"), reel="commun.yaml"),
    _modif("commun_type_texte", "orientations[0].rang", ("nombre entier attendu", "premier"), "    rang: premier",
           ("    rang: 0\n", "    rang: premier\n"), reel="commun.yaml"),
    _modif("commun_type_decimal", "orientations[0].rang", ("nombre entier attendu", "0.5"), "    rang: 0.5",
           ("    rang: 0\n", "    rang: 0.5\n"), reel="commun.yaml"),
    # -- rapport.yaml (the ARS report: masking threshold and classes) -----------------------------
    _modif("rapport_classes_avec_trou", "classes.delai_jours.bornes[1]", ("commence à 4", "attendu 3"),
           "    bornes: [[0, 2], [4, 7]", ("[[0, 2], [3, 7]", "[[0, 2], [4, 7]"), reel=RAPPORT),
    _modif("rapport_classes_chevauchantes", "classes.seances_par_episode.bornes[2]", ("commence à 3", "attendu 4"),
           "    bornes: [[0, 0], [1, 3], [3, 6]", ("[1, 3], [4, 6]", "[1, 3], [3, 6]"), reel=RAPPORT),
    _modif("rapport_derniere_classe_fermee", "classes.seances_par_episode.bornes[4]",
           ("dernière classe doit être ouverte", "[11, null]"), "    bornes: [[0, 0]", ("[11, null]", "[11, 20]"),
           reel=RAPPORT),
    _modif("rapport_classe_ouverte_au_milieu", "classes.delai_jours.bornes[3]",
           ("seule la dernière", "attendu une borne haute"),
           "    bornes: [[0, 2]", ("[15, 28]", "[15, null]"), reel=RAPPORT),
    _modif("rapport_source_inconnue", "petits_effectifs.source",
           ("source", "choix_produit_petit_effectif", "inconnu", "attendu l'un de"),
           "  source: choix_produit_petit_effectif\n",
           ("source: choix_produit_petits_effectifs\n  verification", "source: choix_produit_petit_effectif\n"
            "  verification"), reel=RAPPORT),
    _modif("rapport_seuil_texte", "petits_effectifs.seuil", ("nombre entier attendu", "cinq"), "  seuil: cinq",
           ("  seuil: 5\n", "  seuil: cinq\n"), reel=RAPPORT),
    _modif("rapport_seuil_trop_petit", "petits_effectifs.seuil", ("2",), "  seuil: 1\n",
           ("  seuil: 5\n", "  seuil: 1\n"), reel=RAPPORT),
    _modif("rapport_distribution_inconnue", "classes.delais_jours", ("delai_jours",), "  delais_jours:",
           ("  delai_jours:\n", "  delais_jours:\n"), reel=RAPPORT),
]


@pytest.fixture(scope="module")
def socle() -> tuple[dict[str, Any], dict[str, Any], Any]:
    """The real sources, parameters and commun.yaml, as a broken file is checked against them."""
    sources = charger_sources(DOSSIER_PROTOCOLES / "sources.yaml")
    parametres = charger_parametres(DOSSIER_PROTOCOLES / "parameters", sources)
    commun = charger_commun(DOSSIER_PROTOCOLES / "commun.yaml", sources, parametres, vocabulaire=VOCABULAIRE)
    return sources, parametres, commun


def _texte(cas: Cas) -> str:
    if cas.fixture is not None:
        return (FIXTURES / cas.fixture).read_text(encoding="utf-8")
    assert cas.reel is not None
    texte = (DOSSIER_PROTOCOLES / cas.reel).read_text(encoding="utf-8")
    for ancien, nouveau in cas.remplacements:
        assert texte.count(ancien) == 1, f"{cas.id} : passage à remplacer absent ou répété dans {cas.reel} : {ancien!r}"
        texte = texte.replace(ancien, nouveau)
    return texte


def _chemin_attendu(cas: Cas) -> str:
    """Resolve ``{section:id}`` against the real (unmodified) file."""
    def index(m: re.Match[str]) -> str:
        assert cas.reel is not None
        donnees = lire_yaml(DOSSIER_PROTOCOLES / cas.reel).donnees
        liste = donnees[m.group(1)]
        if m.group(2) == "+":
            return str(len(liste))
        ids = [e.get("id") for e in liste]
        assert ids.count(m.group(2)) == 1, f"{m.group(2)} absent de {m.group(1)} dans {cas.reel}"
        return str(ids.index(m.group(2)))

    return re.sub(r"\{(\w+):([\w+]+)\}", index, cas.chemin)


def _ligne_attendue(cas: Cas, texte: str) -> int | None:
    if cas.ligne is None or isinstance(cas.ligne, int):
        return cas.ligne
    assert texte.count(cas.ligne) == 1, f"{cas.id} : repère de ligne absent ou répété : {cas.ligne!r}"
    return texte[:texte.index(cas.ligne)].count("\n") + 1


def _charger(fichier: str, texte: str, dossier: Path, socle: tuple[dict[str, Any], dict[str, Any], Any]) -> None:
    """Write ``texte`` as ``fichier`` in ``dossier`` and load it with the matching registry function."""
    sources, parametres, commun = socle
    chemin = dossier / fichier
    chemin.parent.mkdir(parents=True, exist_ok=True)
    chemin.write_text(texte, encoding="utf-8")
    if fichier == "sources.yaml":
        charger_sources(chemin)
    elif fichier == "commun.yaml":
        charger_commun(chemin, sources, parametres, vocabulaire=VOCABULAIRE)
    elif fichier == RAPPORT:
        charger_rapport(chemin)
    elif fichier.startswith("parameters/"):
        charger_parametres(dossier / "parameters", sources)
    else:
        charger_protocole(chemin, sources, commun, parametres, vocabulaire=VOCABULAIRE)


def _refus(cas: Cas, tmp_path: Path, socle: tuple[dict[str, Any], dict[str, Any], Any]) -> tuple[ErreurChargement, str]:
    texte = _texte(cas)
    with pytest.raises(ErreurChargement) as info:
        _charger(cas.fichier, texte, tmp_path / "protocols", socle)
    return info.value, texte


def _probleme(erreur: ErreurChargement, chemin: str) -> Probleme:
    trouves = [p for p in erreur.problemes if p.chemin == chemin]
    assert trouves, f"aucun problème au chemin {chemin!r} ; problèmes : {[str(p) for p in erreur.problemes]}"
    return trouves[0]


def _marques(cas: Cas) -> list[pytest.MarkDecorator]:
    if cas.xfail:
        return [pytest.mark.xfail(strict=True, reason=cas.xfail)]
    if cas.xfail_ligne:
        return [pytest.mark.xfail(strict=True, raises=LigneInexacte, reason=cas.xfail_ligne)]
    return []


@pytest.mark.parametrize("cas", [pytest.param(c, id=c.id, marks=_marques(c)) for c in CAS])
def test_fichier_invalide_refuse(cas: Cas, tmp_path: Path, socle) -> None:
    erreur, texte = _refus(cas, tmp_path, socle)
    assert erreur.fichier == cas.fichier
    chemin = _chemin_attendu(cas)
    probleme = _probleme(erreur, chemin)
    for mot in cas.mots:
        assert mot in probleme.message, f"« {mot} » absent du message : {probleme.message!r}"
    ligne = _ligne_attendue(cas, texte)
    if probleme.ligne != ligne:
        raise LigneInexacte(f"ligne {probleme.ligne} au lieu de {ligne} : {probleme}")
    # The whole message names the file, the path and the line.
    message = str(erreur)
    assert f"Fichier {cas.fichier} invalide" in message
    assert (chemin or "(racine)") in message
    if ligne is not None:
        assert f"(ligne {ligne})" in message


@pytest.mark.parametrize("cas", [
    pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail_francais)] if c.xfail_francais
                 else [])
    for c in CAS])
def test_messages_en_francais(cas: Cas, tmp_path: Path, socle) -> None:
    try:
        _charger(cas.fichier, _texte(cas), tmp_path / "protocols", socle)
    except ErreurChargement as exc:
        erreur = exc
    else:
        assert cas.xfail, f"{cas.id} : fichier accepté"
        pytest.skip(f"fichier accepté, voir test_fichier_invalide_refuse[{cas.id}]")
    assert str(erreur).startswith(f"Fichier {cas.fichier} invalide :")
    for p in erreur.problemes:
        anglais = ANGLAIS.findall(p.message)
        assert not anglais, f"mots anglais {anglais} dans : {p}"
        assert p.message.strip(), f"message vide au chemin {p.chemin!r}"


def test_les_vrais_protocoles_se_chargent() -> None:
    registre = charger_regles()
    assert set(registre.protocoles) == {p.stem for p in DOSSIER_PROTOCOLES.glob("*.yaml")} - {
        Path(n).stem for n in FICHIERS_COMMUNS}
    assert registre.sources and registre.parametres


def test_une_copie_des_vrais_protocoles_se_charge(tmp_path: Path) -> None:
    """The harness itself: an unmodified copy in a temporary folder loads (so each refusal is the change's)."""
    copie = tmp_path / "protocols"
    shutil.copytree(DOSSIER_PROTOCOLES, copie)
    assert set(charger_regles(copie).protocoles) == set(charger_regles().protocoles)


@pytest.mark.parametrize("reel", sorted({c.reel for c in CAS if c.reel is not None}))
def test_sans_modification_le_fichier_copie_se_charge(reel: str, tmp_path: Path, socle) -> None:
    """Each real file the cases modify loads from the temporary copy: a refusal is due to the one change."""
    _charger(reel, (DOSSIER_PROTOCOLES / reel).read_text(encoding="utf-8"), tmp_path / "protocols", socle)


def test_chaque_fixture_sert() -> None:
    """No stale file in tests/fixtures/invalides: each is used by a case."""
    utilisees = {c.fixture for c in CAS if c.fixture}
    presentes = {p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*.yaml")}
    assert presentes == utilisees


def test_le_detecteur_d_anglais_reconnait_pydantic_et_pyyaml() -> None:
    """The English detector catches the usual leftovers and lets the project's French messages through."""
    for anglais in ("Field required", "Input should be a valid integer", "Value error, x", "value_error",
                    "Extra inputs are not permitted", "while parsing a block mapping", "expected <block end>"):
        assert ANGLAIS.search(anglais), anglais
    for francais in ("champ obligatoire manquant", "clé « niveau » en double (la première est ligne 3)",
                     "date d'effet « 2024-2-22 » invalide : attendu AAAA-MM-JJ entre guillemets",
                     "état « x » inconnu(e) ; attendu l'un de : a, b", "booléen attendu (true ou false)"):
        assert not ANGLAIS.search(francais), francais

