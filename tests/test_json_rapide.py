"""The JSON reader's fast path (orjson) gives exactly the strict reader's outcome: the same value, or the same French
error, on generated texts — valid, with keys given twice at any depth, with « ": » inside strings, with numbers
orjson reads differently, lone surrogates, mutated characters, other encodings."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.commun import cas_generes
from triage_app.json_strict import PROFONDEUR_RAPIDE, JsonInvalide, charger, charger_strict

PROFIL = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])


def _forme(valeur: Any) -> Any:
    """A value with its types made explicit (``1 == 1.0 == True`` in Python, not in a case; ``-0.0``, NaN)."""
    if isinstance(valeur, dict):
        return ("objet", [(k, _forme(v)) for k, v in valeur.items()])
    if isinstance(valeur, list):
        return ("liste", [_forme(v) for v in valeur])
    if isinstance(valeur, float):
        return ("flottant", "nan" if math.isnan(valeur) else valeur.hex())
    return (type(valeur).__name__, valeur)


def _issue(lire: Any, texte: str | bytes) -> Any:
    try:
        return "valeur", _forme(lire(texte))
    except JsonInvalide as exc:
        return "erreur", exc.message


def _memes_issues(texte: str | bytes) -> None:
    assert _issue(charger, texte) == _issue(charger_strict, texte), texte


# -- generated values ------------------------------------------------------------------------------------------------
CLES = st.sampled_from(["a", "b", "protocole", "reponses", 'x":', "é", ":", '\\":', "rf_1"]) | st.text(max_size=6)
SCALAIRES = (st.none() | st.booleans()
             | st.integers(min_value=-(2**70), max_value=2**70)
             | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1])
             | st.floats(allow_nan=True, allow_infinity=True)
             | st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=8)
             | st.sampled_from(['":', "a:b", '\\', '"', "\ud800", "\udc00x", "10:30"]))


def _objet(enfants: st.SearchStrategy[Any]) -> st.SearchStrategy[list[tuple[str, Any]]]:
    """An object as its list of (key, value) pairs: the same key may come twice."""
    return st.lists(st.tuples(CLES, enfants), max_size=5)


VALEURS = st.recursive(SCALAIRES, lambda enfants: st.lists(enfants, max_size=4) | _objet(enfants).map(
    lambda paires: ("__objet__", paires)), max_leaves=25)


@st.composite
def textes(draw: st.DrawFn) -> str:
    """JSON text of a generated value, written with random spacing and escaping (keys twice when drawn so)."""
    ascii_ = draw(st.booleans())
    espace = draw(st.sampled_from(["", " ", "\n", " \t\r\n "]))

    def ecrire(v: Any) -> str:
        if isinstance(v, tuple) and v and v[0] == "__objet__":
            corps = f",{espace}".join(f"{json.dumps(k, ensure_ascii=ascii_)}{espace}:{espace}{ecrire(x)}"
                                      for k, x in v[1])
            return "{" + espace + corps + espace + "}"
        if isinstance(v, list):
            return "[" + f",{espace}".join(ecrire(x) for x in v) + "]"
        return json.dumps(v, ensure_ascii=ascii_)

    return espace + ecrire(draw(VALEURS)) + espace


@PROFIL
@given(textes())
def test_texte_genere_meme_issue(texte):
    _memes_issues(texte)
    try:
        octets = texte.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate written as such (ensure_ascii=False): not UTF-8
        octets = texte.encode("utf-8", "surrogatepass")
    _memes_issues(octets)


@PROFIL
@given(textes(), st.data())
def test_texte_altere_meme_issue(texte, data):
    """A character inserted, removed or replaced anywhere: the same value or the same error."""
    alphabet = st.sampled_from([*'{}[]",:\\ \t\n\x0b\xa0\ufeff0123456789.eE+-tfnu', "\ud800", "\x00", "NaN",
                                "Infinity", "é"])
    i = data.draw(st.integers(min_value=0, max_value=len(texte)))
    mode = data.draw(st.sampled_from(["inserer", "retirer", "remplacer"]))
    c = data.draw(alphabet)
    if mode == "inserer":
        texte = texte[:i] + c + texte[i:]
    elif mode == "retirer":
        texte = texte[:i] + texte[i + 1:]
    else:
        texte = texte[:i] + c + texte[i + 1:]
    _memes_issues(texte)
    _memes_issues(texte.encode("utf-8", "surrogatepass"))


@PROFIL
@given(st.binary(max_size=40))
def test_octets_quelconques_meme_issue(octets):
    _memes_issues(octets)
    _memes_issues(b'{"a": "' + octets + b'"}')


# -- the cases that matter --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("texte", [
    '{"a": 1, "a": 2}',
    '{"a": {"b": 1, "b": 1}}',
    '[{"x": 1}, {"y": [{"z": 0, "z": 0}]}]',
    '{"a": ":", "a": 1}',  # a duplicate hidden by a colon inside a string: the count differs, the strict reader decides
    '{"t": "10:30", "u": "\\":"}',  # colons inside strings, no duplicate
    '{"a": 1, "b": {"c": "\\u003a", "c": 2}}',
    '{"n": 18446744073709551616}', '{"n": -9223372036854775809}', '{"n": 18446744073709551615}',
    '{"n": 1e400}', '{"n": 1.5}', '{"n": NaN}', '{"n": -Infinity}', '{"n": ' + "9" * 5000 + "}",
    '"\\ud800"', '"\\ud83d\\ude00"', '{"\\ud800": 1}',
    '\ufeff{}', "", " ", "{", '{"a" 1}', "[1,]", '{"a":1,}', "\x0b1", "1 2", '"\x01"',
    "[" * (PROFONDEUR_RAPIDE + 1) + "]" * (PROFONDEUR_RAPIDE + 1),
    "[" * 100 + "]" * 100, "[" * 5000 + "]" * 5000, '{"a":' * 300 + "1" + "}" * 300,
])
def test_cas_particuliers(texte):
    _memes_issues(texte)
    _memes_issues(texte.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("octets", [
    b"\xef\xbb\xbf{}", '{"a": "é"}'.encode("utf-16"), '{"a": 1}'.encode("utf-32"), b'{"a": "\xff"}',
    b'"\xed\xa0\x80"', b'{"a": "\xc3"}', b"\x00",
])
def test_encodages(octets):
    _memes_issues(octets)


def test_cle_en_double_message_inchange():
    with pytest.raises(JsonInvalide, match="« a » apparaît deux fois"):
        charger('{"b": {"a": 1, "a": 2}}')


def test_les_cas_generes_passent_par_orjson(m, monkeypatch):
    """The generated batch is read by orjson alone (the fast path is the one taken), with the strict reader's values."""
    import triage_app.json_strict as module

    lignes = [json.dumps(c).encode() for c in cas_generes(m, 300)]
    valeurs = [charger_strict(x) for x in lignes]

    def interdit(texte):
        raise AssertionError("lecture stricte")

    monkeypatch.setattr(module, "charger_strict", interdit)
    assert [_forme(charger(x)) for x in lignes] == [_forme(v) for v in valeurs]
