"""Export benchmark: time to lay out one médecin's summary (PDF/A, with QR code) and one patient handout.

    python -m bench.export                  # 40 generated cases per protocol, 3 rounds, writes BENCHMARKS.md
    python -m bench.export --n 10 --tours 2 --sans-ecrire

The summaries are built once from generated cases of both protocols (as a stored triage gives them: id,
patient name, note, author), then every round compiles each of them with Typst, which is what a click on
« Télécharger le PDF » costs. Target (issue #5): ≤ 300 ms per summary. The machine is shared and noisy:
every round is reported and the verdict uses the best one. The first compilation of the process (font
loading) is reported apart.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pypdf

from bench.commun import cas_generes, ecrire_section, etalon_ms, machine
from triage_app.engine.evaluation import Moteur, moteur
from triage_app.errors import ErreurCas
from triage_app.export.pdf import pdf_fiche_patient, pdf_resume
from triage_app.export.resume import Resume, construire

CIBLE_MS = 300
NOTE = "Douleur mieux tolérée à la marche ; reprise du travail envisagée — revoir à J+3 si l’appui reste ≤ 50 %."


def _quantile(valeurs: list[float], q: float) -> float:
    valeurs = sorted(valeurs)
    return valeurs[min(len(valeurs) - 1, int(q * len(valeurs)))]


def resumes(m: Moteur, n_par_protocole: int, graine: int = 20261205) -> dict[str, list[Resume]]:
    """``n_par_protocole`` stored-like summaries for each protocol, from generated cases (invalid ones skipped)."""
    rng = random.Random(graine)
    par_protocole: dict[str, list[Resume]] = {p: [] for p in sorted(m.protocoles)}
    for cas in cas_generes(m, 20 * n_par_protocole * len(par_protocole), graine=graine):
        liste = par_protocole[cas["protocole"]]
        if len(liste) >= n_par_protocole:
            continue
        try:
            valide = m.valider(cas).model_dump(mode="json")
            resultat = m.evaluer(valide)
        except ErreurCas:
            continue
        fin = datetime.fromisoformat(cas["date_consultation"]) + timedelta(hours=9 + rng.randrange(9))
        liste.append(construire(
            m, valide, resultat, triage_id=f"{rng.getrandbits(128):032x}", version=1, statut="final",
            patient=f"Patient{len(liste)} Mesure-Éloïse", structure_nom="MSP de mesure", note=NOTE,
            auteur="Kiné de mesure", finalise_le=fin, genere_le=fin + timedelta(minutes=5)))
        if all(len(v) >= n_par_protocole for v in par_protocole.values()):
            break
    return par_protocole


def _chronometrer(fonction: Callable[[Resume], bytes], elements: list[Resume]) -> list[float]:
    durees = []
    for r in elements:
        t = time.perf_counter()
        fonction(r)
        durees.append(time.perf_counter() - t)
    return durees


def main() -> None:
    parseur = argparse.ArgumentParser(description=__doc__)
    parseur.add_argument("--n", type=int, default=40, help="résumés par protocole (défaut : 40)")
    parseur.add_argument("--tours", type=int, default=3)
    parseur.add_argument("--sans-ecrire", action="store_true")
    args = parseur.parse_args()

    etalon = etalon_ms()
    m = moteur()
    jeux = resumes(m, args.n)
    tous = [r for liste in jeux.values() for r in liste]
    t = time.perf_counter()
    premier = pdf_resume(tous[0])
    froid = (time.perf_counter() - t) * 1e3
    assert premier.startswith(b"%PDF")
    documents = [(pdf_resume(r), pdf_fiche_patient(r, m)) for r in tous]
    taille_resume = statistics.median(len(d[0]) for d in documents) / 1024
    taille_fiche = statistics.median(len(d[1]) for d in documents) / 1024
    plus_d_une_page = sum(len(pypdf.PdfReader(io.BytesIO(d)).pages) > 1 for paire in documents for d in paire)

    tours = []
    for _ in range(args.tours):
        tour: dict[str, float] = {}
        for protocole, liste in jeux.items():
            durees = _chronometrer(pdf_resume, liste)
            tour[f"{protocole}_med"] = statistics.median(durees) * 1e3
            tour[f"{protocole}_p95"] = _quantile(durees, 0.95) * 1e3
        fiches = _chronometrer(lambda r: pdf_fiche_patient(r, m), tous)
        tour["fiche_med"] = statistics.median(fiches) * 1e3
        tour["fiche_p95"] = _quantile(fiches, 0.95) * 1e3
        tours.append(tour)

    protocoles = list(jeux)
    meilleur = {p: min(t[f"{p}_med"] for t in tours) for p in protocoles}
    meilleur_p95 = {p: min(t[f"{p}_p95"] for t in tours) for p in protocoles}
    meilleure_fiche = min(t["fiche_med"] for t in tours)
    pire = max(meilleur.values())
    verdict = "✅" if pire <= CIBLE_MS else "❌"
    entete = " | ".join(f"{p} médiane (ms) | {p} p95 (ms)" for p in protocoles)
    lignes = "\n".join(
        f"| {i} | " + " | ".join(f"{t[f'{p}_med']:.1f} | {t[f'{p}_p95']:.1f}" for p in protocoles)
        + f" | {t['fiche_med']:.1f} | {t['fiche_p95']:.1f} |"
        for i, t in enumerate(tours, start=1))
    par_protocole = " ; ".join(f"{p} **{meilleur[p]:.1f} ms** (p95 {meilleur_p95[p]:.1f} ms)" for p in protocoles)
    corps = f"""
`python -m bench.export` — {machine()}, étalon CPU {etalon:.0f} ms (plus petit = machine plus rapide au moment
de la mesure). {args.n} résumés par protocole tirés de cas générés (identifiant, nom, note, auteur : comme un triage
enregistré), compilés par Typst (PDF/A-2b, polices embarquées de Typst, QR code de l'identifiant) à chaque tour ;
{args.tours} tours. Première compilation du processus (chargement des polices) : {froid:.0f} ms. Taille médiane :
compte rendu {taille_resume:.0f} Kio, fiche patient {taille_fiche:.0f} Kio. Documents de plus d'une page :
{plus_d_une_page} sur {2 * len(tous)}.

| Tour | {entete} | Fiche patient médiane (ms) | Fiche p95 (ms) |
|---|{"---|" * (2 * len(protocoles) + 2)}
{lignes}

- Compte rendu PDF d'une page, médiane du meilleur tour : {par_protocole} — cible ≤ {CIBLE_MS} ms {verdict}
- Fiche patient PDF : **{meilleure_fiche:.1f} ms** médiane (meilleur tour)
"""
    print(corps)
    if not args.sans_ecrire:
        ecrire_section("Exports (issue #5)", corps)


if __name__ == "__main__":
    main()
