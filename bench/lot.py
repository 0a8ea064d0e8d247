"""Batch benchmark (issue 25, item 6): ``triage-app evaluate --jsonl`` on 10,000 generated cases, this tree against the
previous release installed beside it, the runs alternated, each run's CPU (user + system, workers included) measured.

    python -m bench.lot                    # 5 rounds, writes the « Lot » section of BENCHMARKS.md
    python -m bench.lot --tours 9 --sans-ecrire
    python -m bench.lot --croisement       # also: one process or two, by batch size (where workers pay off)
    python -m bench.lot --reference        # rewrite tests/fixtures/lot_identique/ with the previous release
    python -m bench.lot --reference-courante  # … with this tree (after a change of the rules: see below)

The previous release (``PRECEDENTE``) is installed once under ``.bench-cache/`` (git-ignored): its files from
``git archive``, a virtualenv, ``pip install --no-deps -e`` of those files, and this tree's dependencies on its
path, so that both runs use the same libraries and only the code differs. Each round runs the previous release
with its default options (one worker per core), this tree with its defaults and the previous release with
``--processus 1``, in reverse order every other round; the CPU of each run is the growth of ``RUSAGE_CHILDREN``
across it (a finished child's own waited-for children, the workers, are in it). Every output must be
byte-identical to the previous release's.

Target (issue 25): CPU ≤ 45 % of the previous release's on the same cases (median of the per-round ratios).

The outputs were byte-identical up to the rules ``2020-03-08+r2``; the rules ``+r3`` (issue 27) change results on
purpose (version, fingerprint, accès direct's 12-month bound), so from them on the two releases' outputs differ and
the pinned reference of ``tests/test_lot_identique.py`` is this tree's (``--reference-courante``): it keeps any later
change of the engine from altering a result unnoticed.

``--croisement``: this tree with one process, then two, on batches of growing size. Workers are taken to pay off
from the size where they shorten the batch by at least ``GAIN_UTILE`` at that size and every larger one
(they always add CPU); ``triage_app.engine.lot.SEUIL_PROCESSUS`` is set from that measurement.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.commun import RACINE, cas_generes, ecrire_section, etalon_ms, machine

PRECEDENTE = "4bb100043592e082ecf7fd0b5642432218be9334"  # « Review: one masque(m)… », the release before issue 25
CACHE = RACINE / ".bench-cache"
REFERENCE = RACINE / "tests" / "fixtures" / "lot_identique"
N_CAS = 10_000
LIGNES_ECHANTILLON = 300
CIBLE = 0.45
GAIN_UTILE = 0.10  # the share of the batch's duration that workers must save to be worth their extra CPU


def installer_precedente(commit: str = PRECEDENTE) -> Path:
    """The previous release's ``triage-app``, installed under ``.bench-cache/`` on first use."""
    dossier = CACHE / f"triage_app-{commit[:12]}"
    commande = dossier / "venv" / "bin" / "triage-app"
    tampon = dossier / "installe"
    if commande.exists() and tampon.exists():
        return commande
    shutil.rmtree(dossier, ignore_errors=True)
    sources = dossier / "src"
    sources.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=RACINE, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(sources, filter="data")
    print(f"→ installation de {commit[:12]} dans {dossier.relative_to(RACINE)}…", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(dossier / "venv")], check=True)
    python = dossier / "venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "-e", str(sources)], check=True)
    # This tree's libraries (same versions: only the code differs); a path in a .pth file, not a site directory,
    # so this tree's own editable install is not on the previous release's path.
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz_dependances_du_banc.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    chemin = subprocess.run([str(python), "-c", "import triage_app; print(triage_app.__file__)"], check=True,
                            capture_output=True, text=True, cwd=dossier).stdout.strip()
    if not Path(chemin).is_relative_to(sources):
        raise SystemExit(f"la version précédente importe {chemin}, pas ses propres fichiers")
    tampon.write_text(commit + "\n", encoding="utf-8")
    return commande


def ecrire_lot(chemin: Path, n: int = N_CAS) -> None:
    """The batch: ``cas_generes`` (fixed seed, dates from 2023 on: nothing reads today's date), one JSON per line."""
    from triage_app.engine.evaluation import moteur

    chemin.write_text("\n".join(json.dumps(c) for c in cas_generes(moteur(), n)) + "\n", encoding="utf-8")


def lancer(commande: list[str], sortie: Path, dossier: Path) -> tuple[float, float, int]:
    """Run a command with its standard output into ``sortie``: (CPU seconds of it and its children, wall, code)."""
    avant = resource.getrusage(resource.RUSAGE_CHILDREN)
    debut = time.perf_counter()
    with sortie.open("wb") as f:
        code = subprocess.run(commande, stdout=f, stderr=subprocess.DEVNULL, cwd=dossier, check=False).returncode
    mur = time.perf_counter() - debut
    apres = resource.getrusage(resource.RUSAGE_CHILDREN)
    return apres.ru_utime - avant.ru_utime + apres.ru_stime - avant.ru_stime, mur, code


def empreinte(chemin: Path) -> str:
    return hashlib.sha256(chemin.read_bytes()).hexdigest()


def ecrire_reference(dossier: Path, courante: bool = False) -> None:
    """tests/fixtures/lot_identique/: the previous release's output (or this tree's, ``courante``) on the generated
    batch (SHA-256 and head)."""
    commande = (str(Path(sys.executable).with_name("triage-app")) if courante
                else str(installer_precedente()))
    lot, sortie = dossier / "lot.jsonl", dossier / "sortie.jsonl"
    ecrire_lot(lot)
    _, _, code = lancer([commande, "evaluate", "--jsonl", str(lot)], sortie, dossier)
    octets = sortie.read_bytes()
    REFERENCE.mkdir(parents=True, exist_ok=True)
    lignes = octets.splitlines(keepends=True)
    with gzip.GzipFile(REFERENCE / "debut.jsonl.gz", "wb", mtime=0) as f:
        f.write(b"".join(lignes[:LIGNES_ECHANTILLON]))
    provenance = {
        "produit_par": ("triage-app evaluate --jsonl LOT.jsonl de cet arbre (règles 2020-03-08+r3, issue 27 ; "
                        "identique à la version précédant l'issue 25 jusqu'aux règles +r2), options par défaut ; "
                        "python -m bench.lot --reference-courante") if courante else (
            f"triage-app evaluate --jsonl LOT.jsonl, version {PRECEDENTE} (la version précédant "
            "l'issue 25), options par défaut ; python -m bench.lot --reference"),
        "lot": f"bench.commun.cas_generes(moteur(), {N_CAS}) (graine fixe par défaut), une ligne json.dumps(cas) "
               "par cas, chaque ligne terminée par \\n",
        "cas": N_CAS,
        "sha256_lot": empreinte(lot),
        "code_de_sortie": code,
        "lignes": len(lignes),
        "sha256_sortie": hashlib.sha256(octets).hexdigest(),
        "echantillon": f"debut.jsonl.gz : les {LIGNES_ECHANTILLON} premières lignes de la sortie",
    }
    (REFERENCE / "provenance.json").write_text(json.dumps(provenance, ensure_ascii=False, indent=2) + "\n",
                                               encoding="utf-8")
    print(json.dumps(provenance, ensure_ascii=False, indent=2))


def croisement(dossier: Path, courante: list[str], tailles: list[int], tours: int) -> list[dict[str, float]]:
    """One process against two, this tree, by batch size: medians of CPU and wall over alternated runs."""
    lot = dossier / "lot.jsonl"
    lignes = lot.read_bytes().splitlines(keepends=True)
    mesures = []
    for n in tailles:
        partie = dossier / f"lot_{n}.jsonl"
        partie.write_bytes(b"".join((lignes * (n // len(lignes) + 1))[:n]))
        cpu: dict[int, list[float]] = {1: [], 2: []}
        mur: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(tours):
            for p in (1, 2):
                c, w, _ = lancer([*courante, "--jsonl", str(partie), "--processus", str(p)], dossier / "x", dossier)
                cpu[p].append(c)
                mur[p].append(w)
        mesures.append({"n": n, "cpu1": statistics.median(cpu[1]), "cpu2": statistics.median(cpu[2]),
                        "mur1": statistics.median(mur[1]), "mur2": statistics.median(mur[2])})
        print(mesures[-1], file=sys.stderr)
    return mesures


def main() -> None:
    parseur = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parseur.add_argument("--tours", type=int, default=5)
    parseur.add_argument("--croisement", action="store_true", help="mesurer aussi 1 contre 2 processus par taille")
    parseur.add_argument("--reference", action="store_true", help="réécrire tests/fixtures/lot_identique/")
    parseur.add_argument("--reference-courante", action="store_true",
                         help="réécrire tests/fixtures/lot_identique/ avec cet arbre (après un changement des règles)")
    parseur.add_argument("--sans-ecrire", action="store_true")
    args = parseur.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        dossier = Path(tmp)
        if args.reference or args.reference_courante:
            ecrire_reference(dossier, courante=args.reference_courante)
            return
        precedente = installer_precedente()
        lot = dossier / "lot.jsonl"
        ecrire_lot(lot)
        courante = [str(Path(sys.executable).with_name("triage-app")), "evaluate"]
        variantes = {
            "precedente": [str(precedente), "evaluate", "--jsonl", str(lot)],
            "courante": [*courante, "--jsonl", str(lot)],
            "precedente_1": [str(precedente), "evaluate", "--jsonl", str(lot), "--processus", "1"],
        }
        etalon = etalon_ms()
        cpu: dict[str, list[float]] = {v: [] for v in variantes}
        mur: dict[str, list[float]] = {v: [] for v in variantes}
        empreintes: set[str] = set()
        codes: set[int] = set()
        charge_avant = os.getloadavg()
        for tour in range(args.tours):
            for nom, commande in (variantes.items() if tour % 2 == 0 else reversed(variantes.items())):
                sortie = dossier / f"{nom}.jsonl"
                c, w, code = lancer(commande, sortie, dossier)
                cpu[nom].append(c)
                mur[nom].append(w)
                codes.add(code)
                empreintes.add(empreinte(sortie))
            print({nom: round(v[-1], 3) for nom, v in cpu.items()}, file=sys.stderr)
        identiques = len(empreintes) == 1
        # Start-up: a one-case batch (imports, rules loaded and compiled, one evaluation).
        un = dossier / "un.jsonl"
        un.write_bytes(lot.read_bytes().split(b"\n", 1)[0] + b"\n")
        demarrage: dict[str, list[float]] = {"precedente": [], "courante": []}
        for _ in range(5):
            for nom in demarrage:
                commande = [*variantes[nom][:-1], str(un)] if nom == "courante" else [
                    str(precedente), "evaluate", "--jsonl", str(un), "--processus", "1"]
                demarrage[nom].append(lancer(commande, dossier / "x", dossier)[0])
        rapports = [c / p for c, p in zip(cpu["courante"], cpu["precedente"], strict=True)]
        rapports_1 = [c / p for c, p in zip(cpu["courante"], cpu["precedente_1"], strict=True)]
        rapport = statistics.median(rapports)
        charge_apres = os.getloadavg()
        mesures = croisement(dossier, courante, [500, 1000, 2500, 5000, 10_000, 20_000, 40_000],
                             max(3, args.tours // 2)) if args.croisement else []
    med = {nom: statistics.median(v) for nom, v in cpu.items()}
    med_mur = {nom: statistics.median(v) for nom, v in mur.items()}
    ok = rapport <= CIBLE and identiques
    corps = f"""
`python -m bench.lot` — mesuré le {date.today().isoformat()} ({machine()}), étalon CPU {etalon:.0f} ms (plus petit =
machine plus rapide au moment de la mesure). `triage-app evaluate --jsonl` sur {N_CAS} cas générés (`cas_generes`,
graine fixe), la version précédente (`{PRECEDENTE[:7]}`, installée à côté avec les mêmes bibliothèques) et celle-ci
lancées tour à tour, {args.tours} tours ; CPU = utilisateur + système du processus et de ses processus de calcul.
Charge de la machine (moyenne sur 1 min) : {charge_avant[0]:.1f} au début, {charge_apres[0]:.1f} à la fin (une autre
charge partage les 2 cœurs : les tours où elle pèse s'écartent des autres).

| lancement | CPU médian | durée médiane | CPU de chaque tour |
|---|---|---|---|
| version précédente, options par défaut (un processus par cœur) | {med["precedente"]:.2f} s | {
        med_mur["precedente"]:.2f} s | {", ".join(f"{x:.2f}" for x in cpu["precedente"])} |
| version précédente, `--processus 1` | {med["precedente_1"]:.2f} s | {med_mur["precedente_1"]:.2f} s | {
        ", ".join(f"{x:.2f}" for x in cpu["precedente_1"])} |
| cette version, options par défaut | {med["courante"]:.2f} s | {med_mur["courante"]:.2f} s | {
        ", ".join(f"{x:.2f}" for x in cpu["courante"])} |

- CPU de cette version / version précédente (médiane des rapports tour par tour) : **{rapport:.0%}** (tours :
  {", ".join(f"{x:.0%}" for x in rapports)}) — cible ≤ {CIBLE:.0%} {"✅" if rapport <= CIBLE else "❌"}
- par rapport à la version précédente avec `--processus 1` : {statistics.median(rapports_1):.0%}
- démarrage (lot d'un cas, CPU médian de 5) : {statistics.median(demarrage["precedente"]):.2f} s avant,
  {statistics.median(demarrage["courante"]):.2f} s maintenant (imports de pydantic, PyYAML, transitions et des
  modèles ; chargement et vérification de `protocols/`)
- sorties identiques octet pour octet à celles de la version précédente, à chaque lancement :
  {"oui ✅" if identiques else "NON ❌"} (codes de sortie : {sorted(codes)})
"""
    if mesures:
        from triage_app.engine.lot import SEUIL_PROCESSUS

        utiles = [x["n"] for x in mesures if (x["mur1"] - x["mur2"]) / x["mur1"] >= GAIN_UTILE]
        croise = next((x["n"] for i, x in enumerate(mesures) if all(y["n"] in utiles for y in mesures[i:])), None)
        lignes = "\n".join(
            f"| {x['n']} | {x['cpu1']:.2f} s | {x['cpu2']:.2f} s | {x['mur1']:.2f} s | {x['mur2']:.2f} s | "
            f"{x['mur1'] - x['mur2']:+.2f} s | {x['cpu2'] - x['cpu1']:+.2f} s |" for x in mesures)
        corps += f"""
Un ou deux processus (cette version, `--processus 1` puis `2`, médianes de {max(3, args.tours // 2)} paires) : deux
processus ajoutent toujours du CPU ; ils sont jugés utiles à partir de la taille où ils raccourcissent le lot d'au
moins {GAIN_UTILE:.0%}, à cette taille et au-delà : **{f"{croise} cas" if croise else "jamais jusqu'à " +
                                                       str(mesures[-1]["n"]) + " cas"}** ici. Défaut de
`--processus auto` : un seul processus en dessous de {SEUIL_PROCESSUS} cas (`SEUIL_PROCESSUS`, la plus grande des
tailles ainsi mesurées, qui varient avec la charge de la machine : voir `triage_app/engine/lot.py`).

| cas | CPU 1 | CPU 2 | durée 1 | durée 2 | durée gagnée | CPU ajouté |
|---|---|---|---|---|---|---|
{lignes}
"""
    print(corps)
    if not args.sans_ecrire:
        ecrire_section("Lot `evaluate --jsonl` (issue 25)", corps)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
