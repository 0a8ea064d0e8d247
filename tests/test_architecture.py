"""Rooms of the package: streamlit only in ui/, nothing reads the clock in the decision code,
no clinical literal in Python (numbers of the rules live in protocols/)."""

from __future__ import annotations

import ast
import re
import tokenize
from pathlib import Path

from tests.conftest import RACINE
from triage_app.schemas import textes_schemas

PAQUET = RACINE / "triage_app"


def _modules():
    return sorted(PAQUET.rglob("*.py"))


def _imports(chemin: Path) -> set[str]:
    arbre = ast.parse(chemin.read_text(encoding="utf-8"))
    noms: set[str] = set()
    for noeud in ast.walk(arbre):
        if isinstance(noeud, ast.Import):
            noms.update(a.name.split(".")[0] for a in noeud.names)
        elif isinstance(noeud, ast.ImportFrom) and noeud.module:
            noms.add(noeud.module.split(".")[0])
    return noms


def test_streamlit_seulement_dans_ui():
    fautifs = [p.relative_to(RACINE).as_posix() for p in _modules()
               if "streamlit" in _imports(p) and "ui" not in p.relative_to(PAQUET).parts]
    assert fautifs == []


def test_la_decision_ne_lit_jamais_l_horloge():
    horloge = re.compile(r"\b(date\.today|datetime\.now|datetime\.today|datetime\.utcnow|time\.time)\s*\(")
    for sous in ("domain", "engine", "models", "loading", "export"):
        for p in (PAQUET / sous).rglob("*.py"):
            assert not horloge.search(p.read_text(encoding="utf-8")), p


def test_aucun_seuil_clinique_en_dur_dans_le_moteur():
    """No clinical or tariff number (ages, days, sessions, amounts) as a literal in the decision code."""
    suspects = {"8", "10", "11", "15", "16", "18", "20", "25", "28", "30", "31", "55", "56", "60", "65", "70",
                "2.15", "2.21", "2.36", "2.43", "7.5", "8.1", "8.4", "10.7"}
    for sous in ("domain", "engine"):
        for p in (PAQUET / sous).rglob("*.py"):
            with p.open("rb") as f:
                nombres = [t.string for t in tokenize.tokenize(f.readline) if t.type == tokenize.NUMBER]
            assert [n for n in nombres if n in suspects] == [], p.name


def test_schemas_json_a_jour():
    dossier = RACINE / "protocols" / "schema"
    for nom, texte in textes_schemas().items():
        chemin = dossier / nom
        assert chemin.is_file(), f"schéma manquant : {nom} (triage-app schemas --ecrire)"
        assert chemin.read_text(encoding="utf-8") == texte, f"schéma périmé : {nom} (triage-app schemas --ecrire)"


# The one place allowed to look beside the clone (and only when the folder exists): the comparison of the
# examples with the upstream specification.
_COMPARAISON_AMONT = {"tests/test_reference_cases.py"}
# Names of documents that are not in the repository, as a pointer to follow (docs/specification.md names the
# upstream documents on purpose, to say what citations of them mean).
_HORS_DEPOT = re.compile(r"\.\./shared|\"shared\"\s*/|DEVELOPERS\.md|case-format\.md")


def _fichiers_du_projet() -> list[Path]:
    exclus = {".git", ".venv", ".bench-cache", "data", "artefacts", "artifacts", "__pycache__", ".pytest_cache",
              ".ruff_cache", ".hypothesis", "build", "dist"}
    suffixes = {".py", ".sh", ".md", ".toml", ".yaml", ".yml", ".json", ".typ", ".cfg", ".txt", ""}
    return sorted(p for p in RACINE.rglob("*") if p.is_file() and p.suffix in suffixes
                  and not exclus.intersection(p.relative_to(RACINE).parts)
                  and not p.name.endswith(".egg-info") and ".egg-info" not in str(p))


def test_aucun_fichier_ne_renvoie_hors_du_depot():
    """No test, script or doc reads or points to a folder or document outside the repository."""
    moi = Path(__file__).resolve().relative_to(RACINE).as_posix()
    fautes = []
    for p in _fichiers_du_projet():
        nom = p.relative_to(RACINE).as_posix()
        if nom in _COMPARAISON_AMONT | {moi, "docs/specification.md"}:
            continue
        texte = p.read_text(encoding="utf-8", errors="replace")
        fautes += [f"{nom} : {m.group(0)}" for m in _HORS_DEPOT.finditer(texte)]
    assert len(_fichiers_du_projet()) > 50
    assert fautes == []


# -- rooms and arrows (issue #26) ----------------------------------------------------------------------------------
def _nom_module(chemin: Path) -> str:
    parties = chemin.relative_to(RACINE).with_suffix("").parts
    return ".".join(parties[:-1] if parties[-1] == "__init__" else parties)


def _dependances(chemin: Path, modules: set[str]) -> set[str]:
    """The package's modules ``chemin`` imports: every import statement, at the top, in a function or under
    ``TYPE_CHECKING`` (an arrow is an arrow); ``from package import module`` names the module."""
    arbre = ast.parse(chemin.read_text(encoding="utf-8"))
    paquet = _nom_module(chemin) if chemin.name == "__init__.py" else _nom_module(chemin).rpartition(".")[0]
    cibles: set[str] = set()
    for noeud in ast.walk(arbre):
        if isinstance(noeud, ast.Import):
            cibles.update(a.name for a in noeud.names)
        elif isinstance(noeud, ast.ImportFrom):
            base = noeud.module or ""
            if noeud.level:
                racine = paquet.split(".")[: len(paquet.split(".")) - noeud.level + 1]
                base = ".".join([*racine, *([base] if base else [])])
            cibles.add(base)
            cibles.update(f"{base}.{a.name}" for a in noeud.names)
    trouves = set()
    for cible in cibles:
        while cible and cible not in modules:  # « triage_app.x.y.Nom » names the module triage_app.x.y
            cible = cible.rpartition(".")[0]
        if cible and cible != _nom_module(chemin):
            trouves.add(cible)
    return trouves


def _graphe() -> dict[str, set[str]]:
    chemins = {_nom_module(p): p for p in _modules() if "migrations" not in p.parts}
    modules = set(chemins)
    # A package's own __init__ is not an arrow target when a module of it is imported through it.
    return {m: {d for d in _dependances(p, modules) if not m.startswith(d + ".")} for m, p in chemins.items()}


def _cycles(graphe: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), and self-loops."""
    index: dict[str, int] = {}
    bas: dict[str, int] = {}
    pile: list[str] = []
    sur_pile: set[str] = set()
    groupes: list[list[str]] = []
    compteur = [0]

    def visiter(v: str) -> None:
        index[v] = bas[v] = compteur[0]
        compteur[0] += 1
        pile.append(v)
        sur_pile.add(v)
        for w in sorted(graphe.get(v, ())):
            if w not in index:
                visiter(w)
                bas[v] = min(bas[v], bas[w])
            elif w in sur_pile:
                bas[v] = min(bas[v], index[w])
        if bas[v] == index[v]:
            groupe = []
            while True:
                w = pile.pop()
                sur_pile.discard(w)
                groupe.append(w)
                if w == v:
                    break
            if len(groupe) > 1:
                groupes.append(sorted(groupe))

    for v in sorted(graphe):
        if v not in index:
            visiter(v)
    return groupes


def test_aucun_cycle_d_imports_entre_les_modules_du_paquet():
    """No import circle between the package's modules, at any depth (the rooms' arrows only point down)."""
    graphe = _graphe()
    assert len(graphe) > 60 and "triage_app.services.triages" in graphe
    assert _cycles(graphe) == []


def test_le_detecteur_de_cycles_en_trouve_un():
    """The check above can fail: two modules that import each other, three in a ring, are found."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_export_et_stockage_ne_s_importent_pas():
    """Documents are made from plain data: export/ never imports storage/ (nor the services that read it), and
    storage/ imports nothing of export/ or ui/."""
    graphe = _graphe()
    fautes = [(m, d) for m, deps in graphe.items() for d in deps
              if (m.startswith("triage_app.export") and d.startswith(("triage_app.storage", "triage_app.services")))
              or (m.startswith("triage_app.storage") and d.startswith(("triage_app.export", "triage_app.ui",
                                                                        "triage_app.services")))]
    assert fautes == []


def test_le_chargement_ne_connait_pas_le_moteur():
    """loading/ checks the rules against what it is given (the engine's vocabulary), it does not import the engine."""
    graphe = _graphe()
    assert not [(m, d) for m, deps in graphe.items() for d in deps
                if m.startswith("triage_app.loading") and d.startswith("triage_app.engine")]


def test_aucun_module_du_paquet_ne_depasse_500_lignes():
    trop_longs = {p.relative_to(RACINE).as_posix(): n for p in _modules()
                  if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert trop_longs == {}
