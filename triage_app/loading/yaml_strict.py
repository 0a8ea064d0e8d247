"""Strict YAML reading: duplicate keys refused, dates kept as text, every path mapped to its line.

PyYAML's ``safe_load`` silently keeps the last of two duplicate keys and turns ``2024-02-22``
into a ``date``. Clinicians edit these files by hand, so both are refused or kept verbatim here,
and each value's YAML path is remembered with its line for error messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from triage_app.errors import ErreurChargement, Probleme
from triage_app.loading.apercu import apercu


class _Resolver(yaml.resolver.BaseResolver):
    """The safe resolver without the timestamp rule: dates stay strings."""


for _first, _resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items():
    for _tag, _regexp in _resolvers:
        if _tag != "tag:yaml.org,2002:timestamp":
            _Resolver.add_implicit_resolver(_tag, _regexp, [_first] if _first else None)


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer,
              yaml.constructor.SafeConstructor, _Resolver):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)


if getattr(yaml, "__with_libyaml__", False):

    class _LoaderC(yaml.cyaml.CParser, yaml.constructor.SafeConstructor, _Resolver):  # type: ignore[misc]
        """libyaml's parser (about ten times faster) with the same resolver and constructor."""

        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)

    _LOADER: type = _LoaderC
else:  # pragma: no cover - PyYAML built without libyaml
    _LOADER = _Loader


_SCALAIRES = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:str",
}


def chemin_texte(loc: tuple[Any, ...] | list[Any]) -> str:
    """Render a location tuple as ``questions[3].source``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class DocumentYaml:
    """A parsed YAML document with the line of each path."""

    def __init__(self, donnees: Any, lignes: dict[str, int]) -> None:
        self.donnees = donnees
        self.lignes = lignes

    def ligne(self, chemin: str) -> int | None:
        """Line of ``chemin`` or of its nearest parent."""
        while True:
            if chemin in self.lignes:
                return self.lignes[chemin]
            if not chemin:
                return None
            coupe = max(chemin.rfind("."), chemin.rfind("["))
            chemin = chemin[:coupe] if coupe > 0 else ""


_CONTENEURS = {yaml.MappingNode: "tag:yaml.org,2002:map", yaml.SequenceNode: "tag:yaml.org,2002:seq"}


def _scalaire(noeud: yaml.Node, loader: Any, loc: tuple[Any, ...], problemes: list[Probleme]) -> Any:
    """Build a scalar; an impossible value (« !!int abc », a 5000-digit number) is a French problem."""
    try:
        return loader.construct_object(noeud)
    except (ValueError, KeyError, TypeError, OverflowError, yaml.YAMLError):
        etiquette = noeud.tag.rsplit(":", 1)[-1]
        problemes.append(Probleme(chemin_texte(loc), f"valeur « {apercu(noeud.value, 40)} » illisible comme "
                                  f"{etiquette} (nombre trop long ou étiquette YAML incompatible)",
                                  noeud.start_mark.line + 1))
        return None


def _convertir(noeud: yaml.Node, loader: Any, loc: tuple[Any, ...], lignes: dict[str, int],
               problemes: list[Probleme], vus: set[int] | None = None) -> Any:
    # An alias (*nom) reuses its anchor's node: refused, so no self-reference and no exponential expansion
    # (« billion laughs ») can get through; data files never need them.
    vus = set() if vus is None else vus
    if id(noeud) in vus:
        problemes.append(Probleme(chemin_texte(loc), "alias YAML (*nom) non autorisé : recopier la valeur attendue",
                                  noeud.start_mark.line + 1))
        return None
    vus.add(id(noeud))
    # A key's own line wins over the line where its (block) value starts.
    lignes.setdefault(chemin_texte(loc), noeud.start_mark.line + 1)
    attendu = _CONTENEURS.get(type(noeud))
    if attendu is not None and noeud.tag != attendu:
        problemes.append(Probleme(chemin_texte(loc), f"étiquette YAML « {noeud.tag} » non autorisée : attendu un "
                                  "dictionnaire ou une liste simple", noeud.start_mark.line + 1))
        return None
    if isinstance(noeud, yaml.MappingNode):
        resultat: dict[Any, Any] = {}
        for cle_noeud, valeur_noeud in noeud.value:
            if cle_noeud.tag == "tag:yaml.org,2002:merge":
                problemes.append(Probleme(chemin_texte(loc), "fusion YAML « << » non autorisée : recopier les "
                                          "champs explicitement", cle_noeud.start_mark.line + 1))
                continue
            if not isinstance(cle_noeud, yaml.ScalarNode) or cle_noeud.tag not in _SCALAIRES:
                problemes.append(Probleme(chemin_texte(loc), "clé non scalaire : attendu un nom simple",
                                          cle_noeud.start_mark.line + 1))
                continue
            cle = _scalaire(cle_noeud, loader, loc, problemes)
            if cle is None:
                continue
            if cle in resultat:
                problemes.append(Probleme(chemin_texte((*loc, cle)),
                                          f"clé « {cle} » en double (la première est ligne "
                                          f"{lignes[chemin_texte((*loc, cle))]}) : chaque clé ne doit "
                                          "apparaître qu'une fois", cle_noeud.start_mark.line + 1))
                continue
            lignes.setdefault(chemin_texte((*loc, cle)), cle_noeud.start_mark.line + 1)
            resultat[cle] = _convertir(valeur_noeud, loader, (*loc, cle), lignes, problemes, vus)
        return resultat
    if isinstance(noeud, yaml.SequenceNode):
        return [_convertir(v, loader, (*loc, i), lignes, problemes, vus) for i, v in enumerate(noeud.value)]
    if noeud.tag not in _SCALAIRES:
        problemes.append(Probleme(chemin_texte(loc), f"étiquette YAML « {noeud.tag} » non autorisée : "
                                  "attendu une valeur simple (texte, nombre, booléen, null)",
                                  noeud.start_mark.line + 1))
        return None
    return _scalaire(noeud, loader, loc, problemes)


_SYNTAXE = [
    ("found character '\\t'", "tabulation interdite : indenter avec des espaces"),
    ("found character that cannot start any token", "caractère inattendu (tabulation ? indenter avec des espaces)"),
    ("did not find expected ',' or ']'", "liste entre crochets [ … ] mal fermée ou mal séparée"),
    ("did not find expected ',' or '}'", "dictionnaire entre accolades { … } mal fermé ou mal séparé"),
    ("did not find expected key", "indentation incohérente"),
    ("did not find expected", "indentation ou ponctuation incohérente"),
    ("mapping values are not allowed", "deux-points inattendu : mettre la valeur entre guillemets"),
    ("could not find expected ':'", "deux-points manquant après une clé"),
    ("expected <block end>", "indentation incohérente"),
    ("expected <block mapping start>", "indentation incohérente"),
    ("flow sequence", "liste entre crochets [ … ] mal fermée ou mal séparée"),
    ("flow mapping", "dictionnaire entre accolades { … } mal fermé ou mal séparé"),
    ("found undefined alias", "ancre YAML (*nom) inconnue"),
    ("unacceptable character", "caractère interdit"),
    ("while scanning a quoted scalar", "guillemets non refermés"),
    ("found unknown escape character", "échappement inconnu dans un texte entre guillemets"),
    ("expected a single document", "un seul document YAML attendu (retirer les « --- » en trop)"),
]


def _syntaxe_francaise(exc: yaml.YAMLError) -> str:
    texte = str(exc)
    for motif, francais in _SYNTAXE:
        if motif in texte:
            return francais
    return "syntaxe invalide : vérifier l'indentation, les deux-points et les guillemets"


def lire_yaml_texte(texte: str, nom: str) -> DocumentYaml:
    """Parse YAML text strictly; raise :class:`ErreurChargement` naming ``nom``."""
    loader = _LOADER(texte)
    try:
        noeud = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        ligne = mark.line + 1 if mark is not None else None
        colonne = f", colonne {mark.column + 1}" if mark is not None else ""
        raise ErreurChargement(nom, [Probleme("", f"YAML illisible{colonne} : {_syntaxe_francaise(exc)}",
                                              ligne)]) from exc
    finally:
        loader.dispose()
    if noeud is None:
        raise ErreurChargement(nom, [Probleme("", "fichier vide : attendu un document YAML")])
    lignes: dict[str, int] = {}
    problemes: list[Probleme] = []
    donnees = _convertir(noeud, loader, (), lignes, problemes)
    if problemes:
        raise ErreurChargement(nom, problemes)
    return DocumentYaml(donnees, lignes)


def lire_yaml(chemin: Path, nom: str | None = None) -> DocumentYaml:
    """Read and parse a YAML file strictly."""
    nom = nom or chemin.name
    try:
        texte = chemin.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ErreurChargement(nom, [Probleme("", f"lecture impossible : {exc}")]) from exc
    return lire_yaml_texte(texte, nom)


_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu : vérifier l'orthographe (champs permis : voir le schéma)",
    "string_type": "texte attendu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "bool_type": "booléen attendu (true ou false)",
    "bool_parsing": "booléen attendu (true ou false)",
    "list_type": "liste attendue",
    "dict_type": "dictionnaire (clé : valeur) attendu",
    "model_type": "dictionnaire (clé : valeur) attendu",
    "date_from_datetime_parsing": "date attendue au format AAAA-MM-JJ",
    "date_parsing": "date attendue au format AAAA-MM-JJ",
    "date_type": "date attendue au format AAAA-MM-JJ",
    "string_pattern_mismatch": "forme invalide",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "int_from_float": "nombre entier attendu (sans décimale)",
    "too_short": "trop peu d'éléments",
    "too_long": "trop d'éléments",
    "string_too_short": "texte vide",
    "union_tag_invalid": "valeur invalide",
    "frozen_instance": "valeur non modifiable",
    "json_invalid": "JSON invalide",
    "finite_number": "nombre fini attendu",
    "none_required": "aucune valeur attendue (null)",
    "url_parsing": "adresse web invalide",
}

_TYPES_UNION = {"str", "int", "float", "bool", "list", "dict", "none", "date", "function-after", "function-before",
                "function-plain", "function-wrap", "lax-or-strict", "typed-dict", "nullable", "tagged-union"}


def _apercu(valeur: Any) -> str:
    return apercu(valeur)


def message_francais(err: dict[str, Any]) -> str:
    """French text for one pydantic error (custom ``ValueError`` messages are already French)."""
    typ = err.get("type", "")
    if typ == "value_error":
        msg = str(err.get("msg", ""))
        return msg.removeprefix("Value error, ")
    if typ in ("literal_error", "enum"):
        attendu = str(err.get("ctx", {}).get("expected", "")).replace(" or ", ", ")
        return f"valeur « {err.get('input')} » inconnue ; valeurs permises : {attendu}"
    base = _MESSAGES.get(typ)
    if base is None:
        return f"valeur invalide (contrôle « {typ} »), reçu « {_apercu(err.get('input'))} »"
    ctx = err.get("ctx") or {}
    if typ == "too_short":
        return f"{base} : au moins {ctx.get('min_length', 1)} attendu(s)"
    if typ == "string_pattern_mismatch":
        return f"{base} : attendu le motif {ctx.get('pattern')}"
    if typ in ("greater_than_equal", "less_than_equal"):
        borne = ctx.get("ge", ctx.get("le"))
        return f"{base} (borne : {borne})"
    if typ in ("missing", "extra_forbidden"):
        return base
    return f"{base}, reçu « {_apercu(err.get('input'))} »"


def problemes_pydantic(exc: ValidationError, doc: DocumentYaml | None = None,
                       prefixe: tuple[Any, ...] = ()) -> list[Probleme]:
    """Translate a pydantic error into French problems with paths (and lines when known).

    Union members' type names (``.int``, ``.str``…) are dropped from paths; the alternatives for one
    path are merged into a single problem.
    """
    par_chemin: dict[str, list[str]] = {}
    for err in exc.errors():
        brut = (*prefixe, *err["loc"])
        # Union members (« str », « date »…) are pydantic's, not the file's — except the unknown key itself.
        dernier = brut[-1:] if err.get("type") == "extra_forbidden" else ()
        corps = brut[:-1] if dernier else brut
        loc = tuple(p for p in corps
                    if not (isinstance(p, str) and (p in _TYPES_UNION or ("[" in p and p.endswith("]"))))) + dernier
        messages = par_chemin.setdefault(chemin_texte(loc), [])
        message = message_francais(dict(err))
        if message not in messages:
            messages.append(message)
    return [Probleme(chemin, " ; ou ".join(messages), doc.ligne(chemin) if doc else None)
            for chemin, messages in par_chemin.items()]
