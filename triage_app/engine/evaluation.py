"""The one evaluation: case in, result out. The command line, the page and the tests all call it.

Pure: the consultation date comes from the case, nothing reads the clock, nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from triage_app.engine.dossier import Dossier, ProtocoleCompile
from triage_app.engine.etapes import ETAPES
from triage_app.engine.machine import construire, parcourir
from triage_app.engine.predicats import FONCTIONS, PREDICATS
from triage_app.errors import ErreurCas, Probleme
from triage_app.loading.apercu import apercu
from triage_app.loading.registry import Registre, Vocabulaire, charger_registre
from triage_app.loading.yaml_strict import problemes_pydantic
from triage_app.models.case import Cas
from triage_app.models.protocol import Critere, Motif, Regle

if TYPE_CHECKING:  # the result's adapter and schema are built on import: not needed to evaluate
    from triage_app.models.result import MotifResultat, Resultat


class Moteur:
    """Loaded rules and one compiled machine per protocol; build once, evaluate many times."""

    def __init__(self, registre: Registre) -> None:
        self.registre = registre
        self.protocoles: dict[str, ProtocoleCompile] = {
            pid: construire(p, registre.empreintes[pid]) for pid, p in registre.protocoles.items()
        }
        self._etapes = {nom: e.fonction for nom, e in ETAPES.items()}
        motifs = registre.commun.motifs
        self._motifs = {m.id: m for m in motifs}

    # -- validation ----------------------------------------------------------------------------
    def valider(self, donnees: Mapping[str, Any] | Cas) -> Cas:
        """Check a case against the format and the protocol; raise :class:`ErreurCas` in French.

        Every problem is reported at once (format errors and unknown answer ids together).
        """
        if type(donnees) is not dict and isinstance(donnees, Cas):  # a dict, the usual case, skips the ABC checks
            cas = donnees
        else:
            if type(donnees) is not dict and not isinstance(donnees, Mapping):
                raise ErreurCas([Probleme("", "un cas est un objet JSON (dictionnaire) : attendu { … }")])
            try:
                cas = Cas.model_validate(donnees)
            except ValidationError as exc:
                problemes = problemes_pydantic(exc)
                pc = self.protocoles.get(str(donnees.get("protocole")))
                reponses = donnees.get("reponses")
                if pc is not None and isinstance(reponses, Mapping):
                    problemes += self._problemes_reponses(pc, reponses)
                raise ErreurCas(problemes) from None
        pc = self.protocoles.get(cas.protocole)
        if pc is None:
            permis = ", ".join(sorted(self.protocoles))
            raise ErreurCas([Probleme("protocole", f"protocole « {cas.protocole} » inconnu ; "
                                                   f"valeurs permises : {permis}")])
        problemes = []
        if cas.episode.date_debut > cas.date_consultation:
            problemes.append(Probleme("episode.date_debut", "date de début de l'épisode postérieure à la date "
                                      f"de consultation ({cas.date_consultation.isoformat()})"))
        if cas.patient.date_naissance > cas.date_consultation:
            problemes.append(Probleme("patient.date_naissance", "date de naissance postérieure à la date de "
                                      f"consultation ({cas.date_consultation.isoformat()})"))
        problemes += self._problemes_reponses(pc, cas.reponses)
        if problemes:
            raise ErreurCas(problemes)
        return cas

    @staticmethod
    def _problemes_reponses(pc: ProtocoleCompile, reponses: Mapping[str, Any]) -> list[Probleme]:
        try:  # the usual case: every (question, type, value) is an allowed answer (a list or an object is not
            # hashable: the loop below says why it is refused)
            valeurs = reponses.values()
            if pc.reponses_permises.issuperset(zip(reponses, map(type, valeurs), valeurs, strict=True)):
                return []
        except TypeError:
            pass
        problemes = []
        for qid, valeur in reponses.items():
            chemin = f"reponses.{qid}"
            q = pc.questions.get(qid)
            if q is None:
                problemes.append(Probleme(chemin, f"question « {qid} » inconnue pour le protocole "
                                          f"{pc.modele.id} : vérifier l'identifiant (une réponse mal "
                                          "orthographiée n'est jamais ignorée)"))
            elif valeur is None:
                continue
            elif q.type == "booleen":
                if not isinstance(valeur, bool):
                    problemes.append(Probleme(chemin, "réponse oui/non attendue (true, false ou null), "
                                              f"reçu « {apercu(valeur)} »"))
            elif not any(type(valeur) is type(c.valeur) and valeur == c.valeur for c in q.choix):
                permis = ", ".join(repr(c.valeur) for c in q.choix)
                problemes.append(Probleme(chemin, f"valeur « {apercu(valeur)} » inconnue ; valeurs permises : "
                                          f"{permis} (ou null)"))
        return problemes

    # -- evaluation ----------------------------------------------------------------------------
    def evaluer(self, donnees: Mapping[str, Any] | Cas) -> Resultat:
        """Validate then evaluate a case; the same function for the CLI, the page and the tests."""
        cas = self.valider(donnees)
        pc = self.protocoles[cas.protocole]
        d = Dossier(cas, pc, self.registre, FONCTIONS)
        parcourir(d, self._etapes)
        return self._resultat(d)

    def _resultat(self, d: Dossier) -> Resultat:
        pc = d.p
        etat = pc.etats[d.state]
        motifs: list[MotifResultat] = [_motif(c, c.niveau) for c in d.motifs_criteres]
        if etat.motif is not None:
            m = self._motifs[etat.motif]
            motifs.append(_motif(m, None))
        manquantes = list(d.manquantes)
        return {
            "protocole": pc.modele.id,
            "version_protocole": pc.modele.version,
            "empreinte_regles": pc.empreinte,
            "date_consultation": d.jour.isoformat(),
            "age": d.age,
            "statut": "incomplet" if manquantes else "complet",
            "orientation": d.orientation,  # type: ignore[typeddict-item]
            "motifs": motifs,
            "questions_manquantes": manquantes,
            "classe_duree": d.classe_duree,  # type: ignore[typeddict-item]
            "duree_jours": d.jours,
            "recidivante": d.recidivante,
            "risque_chronicite": d.score[0],  # type: ignore[typeddict-item]
            "radiographie": d.radiographie,  # type: ignore[typeddict-item]
            "avis_medical_recommande": d.avis,
            "eligible_protocole": d.eligible,
            "criteres_non_remplis": [{"id": r.id, "libelle": r.libelle_non_rempli, "source": r.source,
                                      "verification": r.verification, "niveau": None}
                                     for r in d.criteres_non_remplis],
            "seances": d.seances,  # type: ignore[typeddict-item]
            "facturation": {"voie": d.voie, "lignes": d.lignes, "remarques": d.remarques},  # type: ignore[typeddict-item]
            "prescriptions_autorisees": d.prescriptions,
            "conseils_kine": [_motif(r, None) for r in d.conseils_kine],
            "trace": d.trace,  # type: ignore[typeddict-item]
        }


def _motif(m: Critere | Motif | Regle, niveau: str | None) -> MotifResultat:
    return {"id": m.id, "libelle": m.libelle, "source": m.source, "verification": m.verification, "niveau": niveau}


def resultat_octets(resultat: Resultat, indent: bool = False) -> bytes:
    """The result as UTF-8 JSON (orjson: about ten times faster than ``json`` on French text)."""
    return orjson.dumps(resultat, option=orjson.OPT_INDENT_2 if indent else 0)


def resultat_texte(resultat: Resultat, indent: bool = False) -> str:
    """The result as JSON text (accented characters kept as they are)."""
    return resultat_octets(resultat, indent).decode("utf-8")


# What the rules may name: the engine's allow-lists of conditions and stages, with the thresholds each one needs.
VOCABULAIRE = Vocabulaire(conditions={nom: p.seuils for nom, p in PREDICATS.items()},
                          etapes={nom: e.seuils for nom, e in ETAPES.items()})


def charger_regles(dossier: Path | None = None) -> Registre:
    """The rules under ``dossier`` (default: the project's ``protocols/``), checked against what this engine runs."""
    return charger_registre(dossier, vocabulaire=VOCABULAIRE)


@lru_cache(maxsize=4)
def moteur(dossier: Path | None = None) -> Moteur:
    """The process-wide engine for a protocols folder (loaded and compiled once)."""
    return Moteur(charger_regles(dossier))
