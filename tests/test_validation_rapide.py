"""The answers' fast check (one set look-up per answer) refuses exactly what the full check refuses, with the same
problems: generated answers of every JSON type, known and unknown questions, values equal across types
(``1 == True == 1.0``), unhashable values."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage_app.engine.evaluation import Moteur, moteur

PROFIL = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
M = moteur()


def _valeurs_de(pid: str) -> list:
    choix = [c.valeur for q in M.protocoles[pid].modele.questions for c in q.choix]
    return [*choix, *(float(c) for c in choix if isinstance(c, int)), *(str(c) for c in choix),
            True, False, None, 0, 1, 0.0, 1.0, "oui", "", [], {}, [True], {"a": 1}, float("nan")]


@st.composite
def reponses(draw: st.DrawFn) -> tuple[str, dict]:
    pid = draw(st.sampled_from(sorted(M.protocoles)))
    ids = [q.id for q in M.protocoles[pid].modele.questions]
    cles = st.sampled_from([*ids, "rf_inconnu", "Mecanisme_torsion", ""])
    return pid, draw(st.dictionaries(cles, st.sampled_from(_valeurs_de(pid)), max_size=12))


@PROFIL
@given(reponses())
def test_la_verification_rapide_et_la_complete_disent_la_meme_chose(cas):
    pid, r = cas
    pc = M.protocoles[pid]
    complete = dataclasses.replace(pc, reponses_permises=frozenset())  # no allowed set: always the full check
    assert Moteur._problemes_reponses(pc, r) == Moteur._problemes_reponses(complete, r)
