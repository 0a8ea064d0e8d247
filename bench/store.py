"""Storage benchmark: saving one answer to a draft, and listing the latest triages among 10 000 stored.

    python -m bench.store                       # SQLite in a temporary folder, writes BENCHMARKS.md
    python -m bench.store --base postgresql+psycopg://triage@127.0.0.1:5432/bench --sans-ecrire
    python -m bench.store --n 2000 --sans-ecrire

The database is filled through the service layer itself (patients, episodes, triages, answers, half of
them finalised, every event chained in the audit log), so the figures include the audit write and the
JSON rewrite of the draft. Targets (issue #3): one answer ≤ 5 ms median on SQLite; the latest 50 among
10 000 ≤ 50 ms. The machine is shared and noisy: every round is reported and the verdict uses the best.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.commun import ecrire_section, etalon_ms, machine
from triage_app.storage.service import Depot

ACTEUR = "bench"


def _quantile(valeurs: list[float], q: float) -> float:
    valeurs = sorted(valeurs)
    return valeurs[min(len(valeurs) - 1, int(q * len(valeurs)))]


def remplir(depot: Depot, n: int, graine: int = 20261202) -> list[str]:
    """``n`` triages (two per episode), answered through the service; half finalised. Returns the draft ids."""
    rng = random.Random(graine)
    depot.enregistrer_structure(nom="MSP de mesure", type="msp", departement="38",
                                protocoles_appliques=sorted(depot.moteur.protocoles), acteur=ACTEUR)
    questions = {p: [q.id for q in pc.modele.questions if q.requis != "facultatif"]
                 for p, pc in depot.moteur.protocoles.items()}
    brouillons = []
    debut = time.perf_counter()
    for i in range(0, n, 2):
        protocole = rng.choice(sorted(questions))
        jour = date(2025, 1, 1) + timedelta(days=rng.randrange(600))
        pid = depot.creer_patient(nom=f"Patient{i}", prenom="Mesure", acteur=ACTEUR,
                                  date_naissance=jour - timedelta(days=rng.randrange(18 * 365, 70 * 365)))
        eid = depot.creer_episode(patient_id=pid, protocole=protocole, date_debut=jour - timedelta(days=3),
                                  acteur=ACTEUR)
        for k in range(2 if i + 1 < n else 1):
            tid = depot.creer_triage(episode_id=eid, date_consultation=jour + timedelta(days=k), acteur=ACTEUR)
            # The first triage of an episode is answered in full and finalised; the second stays a draft.
            a_repondre = questions[protocole] if k == 0 else questions[protocole][: rng.randrange(1, 6)]
            for q in a_repondre:
                depot.enregistrer_reponse(tid, q, q == "mecanisme_torsion", acteur=ACTEUR)
            if k == 0:
                depot.finaliser(tid, acteur=ACTEUR)
            else:
                brouillons.append(tid)
        if (i + 2) % 2000 == 0:
            print(f"  … {i + 2} triages enregistrés ({time.perf_counter() - debut:.0f} s)", file=sys.stderr)
    return brouillons


def mesurer(depot: Depot, brouillons: list[str], tours: int, n_reponses: int) -> list[dict[str, float]]:
    rng = random.Random(7)
    questions = {p: [q.id for q in pc.modele.questions] for p, pc in depot.moteur.protocoles.items()}
    protocole_de = {tid: depot.charger(tid).cas["protocole"] for tid in brouillons[:n_reponses]}
    resultats = []
    for _ in range(tours):
        reponses = []
        for tid, protocole in protocole_de.items():
            q = rng.choice([x for x in questions[protocole] if not x.startswith("sbt_")])
            t = time.perf_counter()
            depot.enregistrer_reponse(tid, q, rng.random() < 0.5, acteur=ACTEUR)
            reponses.append(time.perf_counter() - t)
        listes = []
        for _ in range(100):
            t = time.perf_counter()
            lignes = depot.lister(limite=50)
            listes.append(time.perf_counter() - t)
            assert len(lignes) == min(50, len(brouillons) * 2)
        resultats.append({"reponse_med": statistics.median(reponses) * 1e3,
                          "reponse_p95": _quantile(reponses, 0.95) * 1e3,
                          "liste_med": statistics.median(listes) * 1e3,
                          "liste_p95": _quantile(listes, 0.95) * 1e3})
    return resultats


def main() -> None:
    parseur = argparse.ArgumentParser(description=__doc__)
    parseur.add_argument("--n", type=int, default=10_000, help="triages stockés (défaut : 10 000)")
    parseur.add_argument("--base", help="URL de base vide (défaut : fichier SQLite temporaire)")
    parseur.add_argument("--tours", type=int, default=3)
    parseur.add_argument("--reponses", type=int, default=500, help="réponses chronométrées par tour")
    parseur.add_argument("--sans-ecrire", action="store_true")
    args = parseur.parse_args()

    etalon = etalon_ms()
    with tempfile.TemporaryDirectory() as dossier:
        url = args.base or f"sqlite:///{Path(dossier) / 'bench.sqlite'}"
        with Depot(url) as depot:  # its connections are closed even when a round fails
            moteur_bd = depot.bd.dialect.name
            print(f"Remplissage : {args.n} triages ({moteur_bd})…", file=sys.stderr)
            t = time.perf_counter()
            brouillons = remplir(depot, args.n)
            remplissage = time.perf_counter() - t
            tours = mesurer(depot, brouillons, args.tours, args.reponses)
            t = time.perf_counter()
            rapport = depot.verifier_audit()
            verification = time.perf_counter() - t
            assert rapport.intact, rapport.premier_defaut

    meilleur_rep = min(r["reponse_med"] for r in tours)
    meilleur_liste = min(r["liste_med"] for r in tours)
    ok_rep = "✅" if meilleur_rep <= 5 else "❌"
    ok_liste = "✅" if meilleur_liste <= 50 else "❌"
    lignes = "\n".join(
        f"| {i} | {r['reponse_med']:.2f} | {r['reponse_p95']:.2f} | {r['liste_med']:.2f} | {r['liste_p95']:.2f} |"
        for i, r in enumerate(tours, start=1))
    corps = f"""
`python -m bench.store` — {machine()}, base {moteur_bd}, étalon CPU {etalon:.0f} ms (plus petit = machine plus
rapide au moment de la mesure). {args.n} triages enregistrés par la couche service (moitié répondus en entier et
finalisés, chaque événement chaîné dans le journal d'audit) en {remplissage:.0f} s ; vérification complète du journal
({rapport.evenements} événements) en {verification:.2f} s.

| Tour | Réponse médiane (ms) | Réponse p95 (ms) | Liste des 50 derniers, médiane (ms) | p95 (ms) |
|---|---|---|---|---|
{lignes}

- Enregistrer une réponse dans un brouillon (transaction + événement d'audit) : **{meilleur_rep:.2f} ms** médiane
  (meilleur tour) — cible ≤ 5 ms {ok_rep}
- Lister les 50 derniers triages parmi {args.n} : **{meilleur_liste:.2f} ms** médiane (meilleur tour)
  — cible ≤ 50 ms {ok_liste}
"""
    print(corps)
    if not args.sans_ecrire:
        titre = "Stockage (issue #3)" if moteur_bd == "sqlite" else f"Stockage (issue #3, {moteur_bd})"
        ecrire_section(titre, corps)


if __name__ == "__main__":
    main()
