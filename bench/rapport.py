"""The structure's report (issue #15) on a database filled by ``bench/store.py`` (10 000 triages, half final).

    python -m bench.rapport                  # SQLite (temporary file) and the tests' throw-away PostgreSQL
    python -m bench.rapport --sqlite-seul --n 2000 --sans-ecrire

Each round times (a) the indicators query (``Services.indicateurs``: every aggregate in SQL), (b) the whole
command ``triage-app rapport --annee 2025`` in a new process for each format (PDF, CSV, XLSX: interpreter start,
migration check, query, document), and (c) the « Tableau de bord » page drawn for the coordinator (Streamlit's
AppTest, the query included). Target: the dashboard and the command within 2 s on SQLite and on PostgreSQL.
The machine is shared and noisy: every round is reported and the verdict uses the best.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from bench.commun import RACINE, ecrire_section, etalon_ms, machine
from bench.store import remplir
from triage_app.services.application import Services

CIBLE_S = 2.0
ANNEE = 2025
FORMATS = ("pdf", "csv", "xlsx")


def _chrono(fonction: object) -> float:
    debut = time.perf_counter()
    fonction()  # type: ignore[operator]
    return time.perf_counter() - debut


def _commande(url: str, format_: str, sortie: Path) -> float:
    debut = time.perf_counter()
    subprocess.run([sys.executable, "-m", "triage_app.cli", "rapport", "--annee", str(ANNEE), "--format", format_,
                    "--base", url, "--output", str(sortie)], check=True, cwd=RACINE, capture_output=True)
    return time.perf_counter() - debut


def _tableau(url: str) -> float:
    from streamlit.testing.v1 import AppTest  # noqa: TID251  (the page's own test harness)

    from tests.connexion import COORDINATEUR, connecte

    os.environ["TRIAGE_DATABASE_URL"] = url
    at = connecte(AppTest.from_file(str(RACINE / "triage_app" / "ui" / "app.py"), default_timeout=60), COORDINATEUR)
    at.run()
    pages = [h for h, info in at._registered_pages.items() if info.get("url_pathname") == "tableau"]
    at._page_hash = pages[0]
    at.run()  # the page with this year's figures: warm (imports, the rules), not timed
    at.session_state["tableau_annee"] = ANNEE
    debut = time.perf_counter()
    at.run()
    duree = time.perf_counter() - debut
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.label == "Triages finalisés" for m in at.metric)
    return duree


def mesurer(url: str, tours: int) -> list[dict[str, float]]:
    lignes = []
    with tempfile.TemporaryDirectory() as dossier, Services(url) as depot:
        for _ in range(tours):
            ligne = {"requete": _chrono(lambda: depot.rapport.indicateurs(date(ANNEE, 1, 1), date(ANNEE, 12, 31),
                                                                          acteur="bench"))}
            for f in FORMATS:
                ligne[f] = _commande(url, f, Path(dossier) / f"rapport.{f}")
            ligne["tableau"] = _tableau(url)
            lignes.append(ligne)
    return lignes


@contextlib.contextmanager
def _bases(sqlite_seul: bool) -> Iterator[list[tuple[str, str]]]:
    with tempfile.TemporaryDirectory() as dossier:
        bases = [("sqlite", f"sqlite:///{Path(dossier) / 'rapport.sqlite'}")]
        if sqlite_seul:
            yield bases
            return
        from tests.pg import ServeurPostgres

        with ServeurPostgres() as serveur:
            yield [*bases, ("postgresql", serveur.creer_base("bench_rapport"))]


def main() -> None:
    parseur = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parseur.add_argument("--n", type=int, default=10_000, help="triages stockés (défaut : 10 000)")
    parseur.add_argument("--tours", type=int, default=3)
    parseur.add_argument("--sqlite-seul", action="store_true", help="sans le serveur PostgreSQL jetable")
    parseur.add_argument("--sans-ecrire", action="store_true")
    args = parseur.parse_args()
    etalon = etalon_ms()
    resultats = {}
    with _bases(args.sqlite_seul) as bases:
        for nom, url in bases:
            debut = time.perf_counter()
            with Services(url) as depot:
                remplir(depot, args.n)
                with depot.uow.sessions() as s:
                    from sqlalchemy import func, select

                    from triage_app.storage.tables import Triage

                    finals = s.scalar(select(func.count()).select_from(Triage).where(Triage.statut == "final"))
            print(f"{nom} : {args.n} triages en {time.perf_counter() - debut:.0f} s", file=sys.stderr)
            resultats[nom] = (finals, mesurer(url, args.tours))
            for i, ligne in enumerate(resultats[nom][1], 1):
                print(f"{nom} tour {i} : " + ", ".join(f"{k} {v:.2f} s" for k, v in ligne.items()), file=sys.stderr)
    corps = [f"`python -m bench.rapport` — mesuré le {date.today().isoformat()} ({machine()}), étalon CPU "
             f"{etalon:.0f} ms (plus petit = machine plus rapide au moment de la mesure). Base remplie par "
             f"`bench/store.py` : {args.n} triages (la moitié finalisés), rapport de l'année {ANNEE}. Requête : "
             "`Services.indicateurs` (tous les agrégats en SQL) ; commande : `triage-app rapport` dans un nouveau "
             "processus (démarrage de Python compris) ; tableau de bord : la page dessinée pour le coordinateur "
             "(AppTest, requête comprise).", ""]
    for nom, (finals, lignes) in resultats.items():
        corps += [f"**{nom}** ({finals} triages finalisés)", "",
                  "| Tour | Requête (s) | Commande PDF (s) | Commande CSV (s) | Commande XLSX (s) "
                  "| Tableau de bord (s) |",
                  "|---|---|---|---|---|---|"]
        corps += [f"| {i} | {li['requete']:.3f} | {li['pdf']:.2f} | {li['csv']:.2f} | {li['xlsx']:.2f} | "
                  f"{li['tableau']:.2f} |" for i, li in enumerate(lignes, 1)]
        pire_commande = min(max(li[f] for f in FORMATS) for li in lignes)
        tableau = min(li["tableau"] for li in lignes)
        corps += ["", f"- Meilleur tour : commande la plus lente **{pire_commande:.2f} s**, tableau de bord "
                      f"**{tableau:.2f} s**, requête **{min(li['requete'] for li in lignes):.3f} s** — cible ≤ "
                      f"{CIBLE_S:g} s {'✅' if max(pire_commande, tableau) <= CIBLE_S else '❌'}", ""]
    texte = "\n".join(corps)
    print(texte)
    if not args.sans_ecrire:
        ecrire_section("Rapport et tableau de bord (issue #15)", texte)


if __name__ == "__main__":
    main()
