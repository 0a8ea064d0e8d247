"""Scénarios YAML à la manière d'OpenFisca : chaque fichier ``**/*.yaml`` de ce dossier est une liste
de scénarios, chacun devient un test pytest dont l'identifiant est son ``nom``.

Clés d'un scénario :

- ``nom`` (obligatoire, unique dans le fichier) ;
- le cas : ``cas`` (complet) **ou** ``base`` (un protocole : ``cas_base(base)``) avec ``modifs``
  (chemins pointés → valeur ; ``null`` = sans réponse) et ``supprimer`` (chemins pointés à retirer) ;
- ce qui est attendu : ``attendu`` (sous-ensemble du résultat JSON ; listes comparées par position) ;
  ``ensembles`` (chemin → liste exacte des identifiants, sans ordre ; un objet est identifié par
  son ``id`` ou son ``code``) ; ``contient`` / ``absents`` (chemin → identifiants présents / absents) ;
  ``remarques_contiennent`` (fragments, sans casse, chacun présent dans une remarque de facturation) ;
  ``remarques_absentes`` (fragments, sans casse, qu'aucune remarque de facturation ne contient) ;
  **ou** ``erreur`` (chemins de champ que l'exception ``ErreurCas`` doit nommer) ;
- ``xfail`` (facultatif) : raison d'un désaccord connu entre la spécification et le moteur.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import cas_base, sous_ensemble
from triage_app.engine.evaluation import moteur
from triage_app.errors import ErreurCas

DOSSIER = Path(__file__).resolve().parent
CLES = frozenset({"nom", "cas", "base", "modifs", "supprimer", "attendu", "ensembles", "contient", "absents",
                  "remarques_contiennent", "remarques_absentes", "erreur", "xfail"})


class _Chargeur(yaml.SafeLoader):
    """Chargeur YAML où les dates restent des chaînes ISO, comme dans un cas JSON."""


_Chargeur.yaml_implicit_resolvers = {
    debut: [(tag, rx) for tag, rx in resolveurs if tag != "tag:yaml.org,2002:timestamp"]
    for debut, resolveurs in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class ScenarioInvalide(Exception):
    """Le fichier de scénarios lui-même est mal écrit."""


class EchecScenario(AssertionError):
    """Le résultat du moteur ne correspond pas au scénario."""

    def __init__(self, differences: list[str]) -> None:
        self.differences = differences
        super().__init__("\n".join(differences))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> FichierScenarios | None:
    if file_path.suffix == ".yaml" and DOSSIER in file_path.resolve().parents:
        return FichierScenarios.from_parent(parent, path=file_path)
    return None


class FichierScenarios(pytest.File):
    """Un fichier YAML : une liste de scénarios."""

    def collect(self) -> Iterator[Scenario]:
        donnees = yaml.load(self.path.read_text(encoding="utf-8"), Loader=_Chargeur)
        if not isinstance(donnees, list):
            raise ScenarioInvalide(f"{self.path} : une liste de scénarios est attendue")
        vus: set[str] = set()
        for i, sc in enumerate(donnees):
            if not isinstance(sc, dict) or not isinstance(sc.get("nom"), str):
                raise ScenarioInvalide(f"{self.path}, scénario n° {i + 1} : objet avec un « nom » attendu")
            nom = sc["nom"]
            inconnues = set(sc) - CLES
            if inconnues:
                raise ScenarioInvalide(f"{self.path}, « {nom} » : clés inconnues {sorted(inconnues)}")
            if nom in vus or "::" in nom:
                raise ScenarioInvalide(f"{self.path}, « {nom} » : nom en double ou contenant « :: »")
            attentes = {"attendu", "ensembles", "contient", "absents", "remarques_contiennent",
                        "remarques_absentes"} & set(sc)
            if ("cas" in sc) == ("base" in sc) or ("erreur" in sc) == bool(attentes):
                raise ScenarioInvalide(f"{self.path}, « {nom} » : il faut `cas` ou `base`, et `erreur` "
                                       "ou un résultat attendu")
            vus.add(nom)
            yield Scenario.from_parent(self, name=nom, donnees=sc)


def _parent_et_cle(cas: dict[str, Any], chemin: str) -> tuple[dict[str, Any], str]:
    *parents, feuille = chemin.split(".")
    cible = cas
    for part in parents:
        cible = cible.setdefault(part, {})
    return cible, feuille


def construire_cas(sc: dict[str, Any]) -> dict[str, Any]:
    """Le cas du scénario : complet, ou ``cas_base`` modifié."""
    if "cas" in sc:
        return copy.deepcopy(sc["cas"])
    cas = cas_base(sc["base"])
    for chemin, valeur in (sc.get("modifs") or {}).items():
        parent, cle = _parent_et_cle(cas, chemin)
        parent[cle] = copy.deepcopy(valeur)
    for chemin in sc.get("supprimer") or []:
        parent, cle = _parent_et_cle(cas, chemin)
        if cle not in parent:
            raise ScenarioInvalide(f"« {chemin} » à supprimer est absent du cas de base")
        del parent[cle]
    return cas


def _valeur(obtenu: Any, chemin: str) -> Any:
    for part in chemin.split("."):
        obtenu = obtenu.get(part) if isinstance(obtenu, dict) else None
    return obtenu


def _identifiants(obtenu: Any, chemin: str) -> list[Any] | None:
    liste = _valeur(obtenu, chemin)
    if not isinstance(liste, list):
        return None
    return [e.get("id", e.get("code")) if isinstance(e, dict) else e for e in liste]


def comparer(sc: dict[str, Any], obtenu: dict[str, Any]) -> list[str]:
    """Toutes les différences entre ce que le scénario attend et le résultat obtenu."""
    diffs = sous_ensemble(sc.get("attendu") or {}, obtenu)
    for chemin, ids in (sc.get("ensembles") or {}).items():
        eus = _identifiants(obtenu, chemin)
        if eus is None or sorted(map(str, eus)) != sorted(map(str, ids)):
            diffs.append(f"{chemin} : attendu exactement {sorted(ids)!r} (sans ordre), obtenu {eus!r}")
    for chemin, ids in (sc.get("contient") or {}).items():
        eus = _identifiants(obtenu, chemin) or []
        diffs += [f"{chemin} : « {i} » attendu, absent de {eus!r}" for i in ids if i not in eus]
    for chemin, ids in (sc.get("absents") or {}).items():
        eus = _identifiants(obtenu, chemin) or []
        diffs += [f"{chemin} : « {i} » présent alors qu'il ne devait pas l'être" for i in ids if i in eus]
    remarques = list(_valeur(obtenu, "facturation.remarques") or [])
    for fragment in sc.get("remarques_contiennent") or []:
        if not any(fragment.lower() in r.lower() for r in remarques):
            diffs.append(f"facturation.remarques : aucune remarque ne contient « {fragment} » "
                         f"(remarques : {remarques!r})")
    for fragment in sc.get("remarques_absentes") or []:
        diffs += [f"facturation.remarques : « {fragment} » présent alors qu'il ne devait pas l'être : {r!r}"
                  for r in remarques if fragment.lower() in r.lower()]
    return diffs


def _resume(obtenu: dict[str, Any]) -> str:
    fact = obtenu.get("facturation") or {}
    lignes = [(ligne.get("code"), ligne.get("montant_eur")) for ligne in fact.get("lignes") or []]
    motifs = [m.get("id") for m in obtenu.get("motifs") or []]
    return (f"obtenu : orientation={obtenu.get('orientation')!r}, statut={obtenu.get('statut')!r}, "
            f"voie={fact.get('voie')!r}, motifs={motifs!r}, lignes={lignes!r}, "
            f"seances={obtenu.get('seances')!r}")


class Scenario(pytest.Item):
    """Un scénario : un cas évalué, et ce qui est attendu (résultat ou erreur)."""

    def __init__(self, *, donnees: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.donnees = donnees
        if donnees.get("xfail"):
            self.add_marker(pytest.mark.xfail(reason=str(donnees["xfail"]), strict=True))

    def runtest(self) -> None:
        cas = construire_cas(self.donnees)
        attendus = self.donnees.get("erreur")
        try:
            obtenu = moteur().evaluer(cas)
        except ErreurCas as exc:
            if attendus is None:
                raise EchecScenario([f"cas jugé invalide alors qu'un résultat était attendu : {exc}"]) from exc
            chemins = [p.chemin for p in exc.problemes]
            manquants = [c for c in attendus if c not in chemins]
            if manquants:
                raise EchecScenario([f"erreur attendue sur {manquants!r}, l'erreur levée nomme {chemins!r} : "
                                     f"{exc}"]) from exc
            return
        if attendus is not None:
            raise EchecScenario([f"erreur attendue sur {attendus!r}, mais le cas a été évalué", _resume(obtenu)])
        diffs = comparer(self.donnees, obtenu)
        if diffs:
            raise EchecScenario([*diffs, _resume(obtenu)])

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, EchecScenario):
            lignes = "\n".join(f"  - {d}" for d in excinfo.value.differences)
            return f"Scénario « {self.name} » ({self.path.name}) : le résultat diffère de l'attendu\n{lignes}"
        if isinstance(excinfo.value, ScenarioInvalide):
            return f"Scénario « {self.name} » ({self.path.name}) mal écrit : {excinfo.value}"
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scénario : {self.name}"
