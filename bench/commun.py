"""Shared helpers of the benchmarks: generated cases, the BENCHMARKS.md section writer."""

from __future__ import annotations

import platform
import random
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from triage_app.engine.evaluation import Moteur

RACINE = Path(__file__).resolve().parents[1]
BENCHMARKS = RACINE / "BENCHMARKS.md"
STRUCTURES = ["msp", "centre_de_sante", "esp", "ess", "cpts", "etablissement_de_sante", "esms", "cabinet"]


def cas_generes(m: Moteur, n: int, graine: int = 20261123) -> list[dict[str, Any]]:
    """``n`` varied cases over every protocol: settings, dates, red flags (mostly « non »), some missing."""
    rng = random.Random(graine)
    protocoles = sorted(m.protocoles)
    out = []
    for _ in range(n):
        pc = m.protocoles[rng.choice(protocoles)]
        consultation = date(2023, 1, 1) + timedelta(days=rng.randrange(1400))
        reponses: dict[str, Any] = {}
        for q in pc.modele.questions:
            if q.requis == "facultatif" and rng.random() < 0.5:
                continue
            if rng.random() < 0.03:
                continue
            if q.type == "choix":
                reponses[q.id] = rng.choice(q.choix).valeur
            elif q.id == "mecanisme_torsion":
                reponses[q.id] = rng.random() < 0.9
            else:
                reponses[q.id] = rng.random() < 0.04
        out.append({
            "protocole": pc.modele.id,
            "date_consultation": consultation.isoformat(),
            "patient": {
                "date_naissance": (consultation - timedelta(days=rng.randrange(15 * 365, 70 * 365))).isoformat()},
            "cadre": {"structure": rng.choice(STRUCTURES), "protocole_autorise": rng.random() < 0.7,
                      "medecin_delegant_est_medecin_traitant": True, "medecin_joignable": rng.random() < 0.9,
                      "departement": rng.choice(["38", "75", "974", "2b", "69"]),
                      "inscrit_experimentation_cpts": rng.random() < 0.5},
            "consentement": {"protocole": rng.random() < 0.9, "partage_dmp": rng.random() < 0.9},
            "episode": {"date_debut": (consultation - timedelta(days=rng.randrange(0, 150))).isoformat(),
                        "prescription_medicale": rng.random() < 0.15,
                        "diagnostic_medical_prealable": rng.random() < 0.1,
                        "seances_realisees_episode": rng.randrange(0, 12),
                        "seances_12_mois": rng.randrange(0, 40),
                        "antecedent_lombalgie": rng.random() < 0.6,
                        "episodes_anterieurs_12_mois": rng.randrange(0, 3)},
            "reponses": reponses,
        })
    return out


def etalon_ms() -> float:
    """Best of three runs of a fixed pure-Python loop: the machine's speed when the figures were taken."""
    import time

    meilleur = float("inf")
    for _ in range(3):
        debut = time.perf_counter()
        total = 0
        for i in range(3_000_000):
            total += i * i
        meilleur = min(meilleur, time.perf_counter() - debut)
    return meilleur * 1000


def machine() -> str:
    """One line describing where the figures were measured."""
    import os

    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{python}, {os.cpu_count()} cœurs, {platform.machine()}"


def ecrire_section(titre: str, corps: str) -> None:
    """Replace (or append) the ``## titre`` section of BENCHMARKS.md."""
    texte = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else (
        "# Mesures de performance\n\nChiffres produits par les scripts de `bench/` (pas de mesure chronométrée dans "
        "les tests : les machines sont partagées et bruitées). Chaque section est réécrite par son script.\n")
    section = f"## {titre}\n\n{corps.strip()}\n"
    motif = re.compile(rf"^## {re.escape(titre)}\n.*?(?=^## |\Z)", re.M | re.S)
    if motif.search(texte):
        texte = motif.sub(lambda _: section + "\n", texte).rstrip() + "\n"
    else:
        texte = texte.rstrip() + "\n\n" + section
    BENCHMARKS.write_text(texte, encoding="utf-8")
