"""Engine benchmark: time per case (machine built once) and throughput, in process and via the CLI.

    python -m bench.engine            # 10 000 generated cases, writes the « Moteur » section of BENCHMARKS.md
    python -m bench.engine --n 2000 --sans-ecrire

Targets (issue #2): median ≤ 200 µs per case; batch ≥ 5 000 cases/s. The machine is shared and
noisy, so per-case times are measured in several rounds and the command line batch is run three
times; every figure is reported, and the verdict uses the best one (as ``timeit`` advises), with
the spread shown beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.commun import RACINE, cas_generes, ecrire_section, etalon_ms, machine
from triage_app.engine.evaluation import moteur, resultat_texte


def _quantile(valeurs: list[float], q: float) -> float:
    valeurs = sorted(valeurs)
    return valeurs[min(len(valeurs) - 1, int(q * len(valeurs)))]


def main() -> None:
    parseur = argparse.ArgumentParser(description=__doc__)
    parseur.add_argument("--n", type=int, default=10_000)
    parseur.add_argument("--tours", type=int, default=5)
    parseur.add_argument("--sans-ecrire", action="store_true")
    args = parseur.parse_args()

    etalon = etalon_ms()
    debut = time.perf_counter()
    m = moteur()
    chargement = time.perf_counter() - debut
    cas = cas_generes(m, args.n)
    for c in cas[:500]:
        m.evaluer(c)

    tours = []
    for _ in range(args.tours):
        durees = []
        for c in cas:
            t = time.perf_counter()
            m.evaluer(c)
            durees.append(time.perf_counter() - t)
        tours.append((statistics.median(durees) * 1e6, _quantile(durees, 0.95) * 1e6, len(cas) / sum(durees)))
    meilleur = min(tours)

    t = time.perf_counter()
    for c in cas:
        resultat_texte(m.evaluer(c))
    debit_json = len(cas) / (time.perf_counter() - t)

    with tempfile.TemporaryDirectory() as dossier:
        lot = Path(dossier) / "lot.jsonl"
        lot.write_text("\n".join(json.dumps(c) for c in cas) + "\n", encoding="utf-8")
        durees_cli = []
        for _ in range(3):
            t = time.perf_counter()
            sortie = subprocess.run([sys.executable, "-m", "triage_app.cli", "evaluate", "--jsonl", str(lot)],
                                    capture_output=True, text=True, check=False, cwd=RACINE)
            durees_cli.append(time.perf_counter() - t)
    lignes = sortie.stdout.splitlines()
    assert len(lignes) == len(cas), sortie.stderr[-2000:]
    debits_cli = [len(cas) / x for x in durees_cli]
    debit_cli = max(debits_cli)
    orientations: dict[str, int] = {}
    for ligne in lignes:
        o = json.loads(ligne).get("orientation")
        orientations[str(o)] = orientations.get(str(o), 0) + 1

    ok_med = meilleur[0] <= 200
    ok_lot = debit_cli >= 5000
    corps = f"""
Mesuré le {date.today().isoformat()} ({machine()}) par `python -m bench.engine` : {len(cas)} cas générés
(graine fixe, deux protocoles, cadres, dates et réponses variés), machine construite une fois.
Étalon de vitesse de la machine à ce moment (boucle Python fixe, meilleur de 3) : {etalon:.0f} ms
(sur cette machine partagée, la même boucle varie de plus de 30 % d'un moment à l'autre : lire les chiffres
avec l'étalon).

| mesure | valeur | cible |
|---|---|---|
| chargement et compilation des protocoles | {chargement * 1000:.0f} ms | — |
| médiane par cas (meilleur des {len(tours)} tours) | {meilleur[0]:.0f} µs | ≤ 200 µs {"✅" if ok_med else "❌"} |
| p95 par cas (même tour) | {meilleur[1]:.0f} µs | — |
| médianes des {len(tours)} tours | {", ".join(f"{x[0]:.0f}" for x in tours)} µs | — |
| débit en processus (évaluation seule, meilleur tour) | {meilleur[2]:,.0f} cas/s | — |
| débit en processus avec sérialisation JSON | {debit_json:,.0f} cas/s | — |
| débit `triage-app evaluate --jsonl` (démarrage compris, meilleur de 3) | {debit_cli:,.0f} cas/s | ≥ 5 000 cas/s {
        "✅" if ok_lot else "❌"} |
| débits des 3 lancements | {", ".join(f"{x:,.0f}" for x in debits_cli)} cas/s | — |

Orientations du lot : {", ".join(f"{k} {v}" for k, v in sorted(orientations.items()))}.
"""
    print(corps)
    if not args.sans_ecrire:
        ecrire_section("Moteur (issue #2)", corps)


if __name__ == "__main__":
    main()
