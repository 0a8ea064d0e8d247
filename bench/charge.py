"""Load benchmark (issue #25): N tablets walking whole triages at once against ``triage-app serve``.

    python -m bench.charge                                  # N = 1, 10, 30 on SQLite and PostgreSQL; BENCHMARKS.md
    python -m bench.charge --sessions 30 --bases sqlite --duree 60 --sans-ecrire
    python -m bench.charge --proxy --sessions 60            # 2 processes behind the TLS proxy (deploy/)
    python -m bench.charge --proxy --sessions 60 --tours 3  # three rounds; the verdict is the best one

Each tablet is a real Streamlit session over the websocket (``tests.session_ws``: no browser, the server does the same
work as for a tablet's tap). The tablets arrive at random over a ramp-up (``--montee``, one a second on average by
default: a structure's tablets are switched on through the morning, and each login is a deliberately costly password
check), then all work for 90 s more. Each one logs in, fills the start form and taps « Commencer », answers every
question group (« Aucun de ces signes », or each open question), taps « Finaliser », then « Nouveau triage », and
again until the time is up, thinking 1 to 3 s between taps; it answers the page's idle check (a fragment rerun every
30 s) as the page does. Measured for each tap, by the client on loopback: from its message to the run's end
(``script_finished``), i.e. the server's time. A tap fails when the page shows an error or an exception (« base de
données occupée »…); a session is lost when its connection closes or a run does not end within 60 s (the tablet then
reconnects and logs in again, as a kiné would reload). The server's CPU time and peak memory are read from ``/proc``;
the client's own CPU is given too (both share the machine's cores).

Targets: at 30 sessions p95 ≤ 300 ms, 0 failed taps, 0 lost sessions (SQLite and PostgreSQL); through the proxy
with 2 processes at 60 sessions, p95 ≤ 300 ms. Needs the test extra (PostgreSQL binaries for ``postgresql``,
Debian's haproxy for ``--proxy``: ``scripts/dependances-test.sh`` installs them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.commun import RACINE, ecrire_section, etalon_ms, machine
from tests.session_ws import SessionPerdue, SessionStreamlit, Tour

CIBLE_P95_MS = 300.0
TITRES = {"lombalgie_aigue": "Lombalgie aiguë commune", "entorse_cheville": "Traumatisme en torsion de la cheville"}
MOT_DE_PASSE = "mot de passe de la charge"
NAISSANCE = date(date.today().year - 40, 6, 14)


def _quantile(valeurs: list[float], q: float) -> float:
    valeurs = sorted(valeurs)
    return valeurs[min(len(valeurs) - 1, int(q * len(valeurs)))] if valeurs else float("nan")


@dataclass
class Releve:
    """What the tablets measured during one run."""

    taps: list[tuple[str, float]] = field(default_factory=list)  # (kind of tap, ms)
    veilles: list[float] = field(default_factory=list)  # the idle check's fragment reruns (ms)
    echecs: Counter[str] = field(default_factory=Counter)
    perdues: int = 0
    triages: int = 0
    premiers_echecs: list[str] = field(default_factory=list)

    def noter(self, genre: str, tour: Tour) -> Tour:
        self.taps.append((genre, tour.duree_ms))
        for message in (*tour.erreurs, *tour.exceptions):
            cle = message.splitlines()[0][:90]
            self.echecs[cle] += 1
            if len(self.premiers_echecs) < 5:
                self.premiers_echecs.append(f"{genre} : {message[:300]}")
        return tour


class Tablette:
    """One tablet's kiné, walking triages until ``fin``."""

    def __init__(self, numero: int, url: str, ssl: Any, releve: Releve, fin: float, graine: int,
                 montee: float = 5.0) -> None:
        self.numero = numero
        self.montee = montee
        self.url = url
        self.ssl = ssl
        self.releve = releve
        self.fin = fin
        self.rng = random.Random(graine)
        self.s: SessionStreamlit | None = None
        self.patients = 0
        self.derniere_veille = 0.0

    async def penser(self) -> None:
        """1 to 3 s between taps; the page's idle check runs meanwhile when it is due."""
        fin_pause = time.monotonic() + self.rng.uniform(1.0, 3.0)
        s = self.s
        assert s is not None
        for fragment, intervalle in list(s.auto_reruns.items()):
            if time.monotonic() - self.derniere_veille >= intervalle and time.monotonic() < fin_pause:
                self.derniere_veille = time.monotonic()
                tour = await s.executer(fragment=fragment, auto=True)
                self.releve.veilles.append(tour.duree_ms)
        await asyncio.sleep(max(0.0, fin_pause - time.monotonic()))

    async def tap(self, genre: str, action: Any) -> Tour:
        return self.releve.noter(genre, await action)

    async def vivre(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.montee))  # the tablets arrive over the ramp-up
        while time.monotonic() < self.fin:
            try:
                await self.session()
            except SessionPerdue as exc:
                self.releve.perdues += 1
                if len(self.releve.premiers_echecs) < 5:
                    self.releve.premiers_echecs.append(f"session perdue : {exc}")
            finally:
                if self.s is not None:
                    await self.s.fermer()
                    self.s = None

    async def session(self) -> None:
        self.s = s = SessionStreamlit(self.url, ssl=self.ssl)
        self.derniere_veille = time.monotonic()
        await s.ouvrir()
        await self.penser()
        s.regler("connexion_identifiant", f"kine.charge{self.numero}")
        s.regler("connexion_mdp", MOT_DE_PASSE)
        tour = await self.tap("connexion", s.taper("se_connecter"))
        if "se_connecter" in tour.widgets:
            raise SessionPerdue(f"connexion refusée : {tour.erreurs or tour.exceptions}")
        while time.monotonic() < self.fin:
            await self.penser()
            await self.triage()

    async def triage(self) -> None:
        s = self.s
        assert s is not None
        protocole = self.rng.choice(sorted(TITRES))
        self.patients += 1
        s.regler("protocole", TITRES[protocole])
        s.regler("patient_nom", f"Charge{self.numero}x{self.patients}")
        s.regler("patient_prenom", "Tablette")
        s.regler("patient_naissance", NAISSANCE.strftime("%d/%m/%Y"))
        s.regler("date_debut", (date.today() - timedelta(days=3)).strftime("%d/%m/%Y"))
        for cle in ("medecin_delegant", "medecin_joignable", "consentement", "partage_dmp"):
            s.regler(cle, "Oui")
        if s.a("antecedent_lombalgie"):
            s.regler("antecedent_lombalgie", True)
        tour = await self.tap("commencer", s.taper("commencer"))
        if not any(c.startswith(("aucun_", "q_")) for c in tour.widgets):
            raise SessionPerdue(f"« Commencer » n'a pas ouvert le triage ({sorted(tour.widgets)[:12]})")
        for _ in range(80):
            await self.penser()
            cles = sorted(s.widgets)
            aucun = [c for c in cles if c.startswith("aucun_")]
            ouvertes = [c for c in cles if c.startswith("q_") and not s.valeur(c)]
            if aucun:
                await self.tap("aucun_de_ces_signes", s.taper(aucun[0]))
            elif ouvertes:
                w = s.widget(ouvertes[0])
                choix = "Oui" if ouvertes[0] == "q_mecanisme_torsion" else (
                    "Non" if "Non" in w.options else w.options[0])
                await self.tap("reponse", s.choisir(ouvertes[0], choix))
            elif "finaliser" in cles and not s.widget("finaliser").proto.disabled:
                await self.tap("finaliser", s.taper("finaliser"))
                self.releve.triages += 1
                break
            elif continuer := [c for c in cles if c.startswith("continuer_")]:
                await self.tap("continuer", s.taper(continuer[0]))
            else:
                raise SessionPerdue(f"parcours bloqué : {cles[:15]}")
        else:
            raise SessionPerdue("parcours sans fin")
        await self.penser()
        tour = await self.tap("nouveau_triage", s.taper("nouveau"))
        if "commencer" not in tour.widgets:
            raise SessionPerdue("« Nouveau triage » n'a pas ouvert le formulaire")


class ChargeDeFond:
    """``n`` tablets walking triages in a background thread against ``url`` until the block ends (``bench/ui.py``
    measures its own taps in Chromium meanwhile)."""

    def __init__(self, url: str, n: int, graine: int = 20261207) -> None:
        self.url, self.n, self.graine = url, n, graine
        self.releve = Releve()
        self._boucle: asyncio.AbstractEventLoop | None = None
        self._tache: asyncio.Task[Any] | None = None
        self._fil: threading.Thread | None = None
        self._pret = threading.Event()

    async def _vivre(self) -> None:
        self._boucle = asyncio.get_running_loop()
        tablettes = [Tablette(i, self.url, None, self.releve, float("inf"), self.graine + i) for i in range(self.n)]
        self._tache = asyncio.ensure_future(asyncio.gather(*(t.vivre() for t in tablettes)))
        self._pret.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._tache

    def __enter__(self) -> ChargeDeFond:
        self._fil = threading.Thread(target=asyncio.run, args=(self._vivre(),), daemon=True)
        self._fil.start()
        self._pret.wait(30)
        time.sleep(10)  # the tablets log in and start their first triage before the measure
        return self

    def __exit__(self, *_: Any) -> None:
        if self._boucle is not None and self._tache is not None:
            self._boucle.call_soon_threadsafe(self._tache.cancel)
        if self._fil is not None:
            self._fil.join(30)


def preparer(url_base: str, n: int) -> None:
    """The structure (both protocols) and one kiné account per tablet."""
    from triage_app.services.application import Services

    depot = Services(url_base)
    try:
        depot.structure.enregistrer_structure(nom="MSP de la charge", type="msp", departement="38",
                                              protocoles_appliques=sorted(TITRES), acteur="bench")
        for i in range(n):
            depot.comptes.creer_utilisateur(identifiant=f"kine.charge{i}", nom=f"Kiné {i}", role="kine",
                                            mot_de_passe=MOT_DE_PASSE, acteur="bench")
    finally:
        depot.fermer()


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (from /proc)."""
    total = 0
    for pid in pids:
        try:
            champs = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(champs[11]) + int(champs[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def _rss_mo(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            for ligne in Path(f"/proc/{pid}/status").read_text().splitlines():
                if ligne.startswith("VmRSS:"):
                    total += int(ligne.split()[1]) / 1024
        except (OSError, ValueError):
            pass
    return total


@dataclass
class Resultat:
    base: str
    sessions: int
    processus: int
    duree_s: float
    releve: Releve
    cpu_serveur_s: float
    cpu_client_s: float
    rss_max_mo: float
    montee_s: float = 5.0

    @property
    def durees(self) -> list[float]:
        return [d for _, d in self.releve.taps]

    @property
    def ok(self) -> bool:
        return (bool(self.durees) and _quantile(self.durees, 0.95) <= CIBLE_P95_MS
                and not self.releve.echecs and self.releve.perdues == 0)

    def ligne(self) -> str:
        d = self.durees
        r = self.releve
        connexions = [t for g, t in r.taps if g == "connexion"]
        return (f"| {self.base} | {self.processus} | {self.sessions} | {self.montee_s:.0f} | {len(d)} | {r.triages} | "
                f"{statistics.median(d):.0f} | {_quantile(d, 0.95):.0f} | {max(d):.0f} | "
                f"{sum(r.echecs.values())} | {r.perdues} | {len(d) / self.duree_s:.1f} | "
                f"{100 * self.cpu_serveur_s / self.duree_s:.0f} % | {100 * self.cpu_client_s / self.duree_s:.0f} % | "
                f"{self.rss_max_mo:.0f} | {_quantile(connexions, 0.95):.0f} | {'✅' if self.ok else '❌'} |")


async def _charge(urls: list[str], ssl: Any, n: int, duree_s: float, graine: int, montee: float = 5.0) -> Releve:
    releve = Releve()
    fin = time.monotonic() + duree_s
    tablettes = [Tablette(i, urls[i % len(urls)], ssl, releve, fin, graine + i, montee) for i in range(n)]
    await asyncio.gather(*(t.vivre() for t in tablettes))
    return releve


def mesurer(base: str, url_base: str, n: int, duree_s: float, graine: int, proxy: bool = False,
            processus: int = 1, montee_s: float = 5.0) -> Resultat:
    from tests import navigateur as nv

    preparer(url_base, n)
    with ExitStack() as pile:
        ssl = None
        if proxy:  # the documented deployment: deploy/plusieurs.py (HAProxy, TLS, sticky sessions)
            from tests.repartiteur import Repartiteur

            repartiteur = pile.enter_context(Repartiteur(url_base, processus))
            urls, ssl, pids = [repartiteur.url], repartiteur.ssl_client(), list(repartiteur.pids)
        else:
            serveurs = [pile.enter_context(nv.ServeurPage(url_base)) for _ in range(processus)]
            urls = [s.url for s in serveurs]
            pids = [s.pid for s in serveurs if s.pid is not None]
        rss_max = 0.0
        echantillons: list[float] = []

        async def tout() -> Releve:
            nonlocal rss_max
            tache = asyncio.create_task(_charge(urls, ssl, n, duree_s, graine, montee_s))
            while not tache.done():
                rss_max = max(rss_max, _rss_mo(pids))
                echantillons.append(rss_max)
                await asyncio.sleep(1.0)
            return await tache

        cpu0, client0 = _cpu_s(pids), resource.getrusage(resource.RUSAGE_SELF)
        debut = time.monotonic()
        releve = asyncio.run(tout())
        ecoule = time.monotonic() - debut
        client1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu_serveur = _cpu_s(pids) - cpu0
    cpu_client = (client1.ru_utime + client1.ru_stime) - (client0.ru_utime + client0.ru_stime)
    return Resultat(base, n, processus, ecoule, releve, cpu_serveur, cpu_client, rss_max, montee_s)


def main() -> None:
    parseur = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parseur.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 30])
    parseur.add_argument("--bases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parseur.add_argument("--duree", type=float, default=None,
                         help="secondes de charge par mesure (défaut : la montée, puis 90 s)")
    parseur.add_argument("--montee", type=float, default=None,
                         help="les tablettes arrivent au hasard sur cette durée (défaut : une par seconde)")
    parseur.add_argument("--proxy", action="store_true", help="2 processus derrière le proxy TLS (deploy/)")
    parseur.add_argument("--processus", type=int, default=2, help="avec --proxy : processus serve (défaut : 2)")
    parseur.add_argument("--graine", type=int, default=20261207)
    parseur.add_argument("--tours", type=int, default=1,
                         help="mesures par configuration ; le verdict retient le meilleur tour (machine partagée)")
    parseur.add_argument("--sans-ecrire", action="store_true")
    args = parseur.parse_args()
    if args.proxy:
        args.bases = ["postgresql"]  # several processes share one PostgreSQL database (deploy/plusieurs.py)
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    sys.path.insert(0, str(RACINE))

    etalon = etalon_ms()
    resultats: list[Resultat] = []
    with ExitStack() as pile:
        pg = None
        # One measure per configuration and round, each on a fresh database.
        for base, n, _tour in itertools.product(args.bases, args.sessions, range(args.tours)):
            if base == "sqlite":
                dossier = pile.enter_context(tempfile.TemporaryDirectory())
                url = f"sqlite:///{Path(dossier) / 'charge.sqlite'}"
            else:
                if pg is None:
                    from tests.pg import ServeurPostgres

                    pg = pile.enter_context(ServeurPostgres())
                url = pg.creer_base(f"charge_{n}_{len(resultats)}")
            montee = float(n) if args.montee is None else args.montee
            r = mesurer(base, url, n, args.duree or montee + 90, args.graine, proxy=args.proxy,
                        processus=args.processus if args.proxy else 1, montee_s=montee)
            resultats.append(r)
            print(_entete() if len(resultats) == 1 else "", file=sys.stderr, end="")
            print(r.ligne(), file=sys.stderr)
            _detail(r)

    if args.sans_ecrire:
        return
    titre = "Charge : tablettes simultanées (issue #25)" + (" — derrière le proxy" if args.proxy else "")
    options = ((f" --proxy --sessions {' '.join(map(str, args.sessions))}" if args.proxy else "")
               + (f" --tours {args.tours}" if args.tours > 1 else ""))
    corps = f"""
`python -m bench.charge{options}` — mesuré le {date.today().isoformat()} ({machine()}),
étalon CPU {etalon:.0f} ms (plus petit = machine plus rapide). Chaque tablette est une vraie session Streamlit sur la
WebSocket (connexion, formulaire de départ, chaque groupe de questions, « Finaliser », « Nouveau triage », 1 à 3 s
de réflexion entre deux taps, vérification d'inactivité de la page toutes les 30 s). Les tablettes arrivent au
hasard pendant la montée (une par seconde en moyenne : les postes d'une structure s'allument au fil de la matinée),
puis toutes travaillent encore 90 s ; tous les taps comptent, montée comprise. Une connexion vérifie le mot de
passe (argon2id, ~115 ms de calcul, hors du verrou de l'interpréteur) : 60 connexions en 5 s occupent à elles seules
les deux cœurs pendant 3 à 4 s (p95 de la connexion à part). Temps serveur d'un tap : du message du client à la fin
du run (`script_finished`), sur la boucle locale. CPU en % d'un cœur sur la durée (la machine en a deux ; le client
de charge, PostgreSQL et HAProxy les partagent).
{_PROXY if args.proxy else ""}

{_entete()}{chr(10).join(r.ligne() for r in resultats)}

Cible : p95 ≤ {CIBLE_P95_MS:.0f} ms, 0 tap en échec, 0 session perdue.{_verdict(resultats, args.tours)}
"""
    ecrire_section(titre, corps)


_PROXY = ("Plusieurs processus `triage-app serve` sur une base PostgreSQL, derrière HAProxy (TLS, sessions collantes "
          "par cookie) ; voir `deploy/`.")


def _verdict(resultats: list[Resultat], tours: int) -> str:
    """With several rounds per configuration: each round is a row above; the verdict is the best round's, as the
    other benchmarks of this shared machine do."""
    if tours <= 1:
        return ""
    lignes = []
    for cle in dict.fromkeys((r.base, r.processus, r.sessions) for r in resultats):
        rangs = [r for r in resultats if (r.base, r.processus, r.sessions) == cle]
        p95 = [_quantile(r.durees, 0.95) for r in rangs]
        meilleur = min(rangs, key=lambda r: _quantile(r.durees, 0.95))
        lignes.append(f"- {cle[0]}, {cle[1]} processus, {cle[2]} tablettes : p95 des {len(rangs)} tours "
                      f"{', '.join(f'{x:.0f}' for x in p95)} ms ; meilleur tour "
                      f"{_quantile(meilleur.durees, 0.95):.0f} ms {'✅' if meilleur.ok else '❌'}")
    return (f"\n\n{tours} tours par configuration, chacun sur une base neuve, un seul à la fois sur la machine "
            "(partagée et bruitée : le verdict retient le meilleur tour, comme les autres mesures) :\n\n"
            + "\n".join(lignes))


def _entete() -> str:
    return ("| Base | Processus | Tablettes | Montée (s) | Taps | Triages | p50 (ms) | p95 (ms) | max (ms) | "
            "Taps en échec | Sessions perdues | Taps/s | CPU serveur | CPU client | Mémoire serveur max (Mo) | "
            "p95 connexion (ms) | Cible |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")


def _detail(r: Resultat) -> None:
    par_genre: dict[str, list[float]] = {}
    for genre, d in r.releve.taps:
        par_genre.setdefault(genre, []).append(d)
    for genre, d in sorted(par_genre.items()):
        print(f"    {genre:22} n={len(d):5}  p50 {statistics.median(d):6.0f}  p95 {_quantile(d, 0.95):6.0f}  "
              f"max {max(d):6.0f} ms", file=sys.stderr)
    if r.releve.veilles:
        v = r.releve.veilles
        print(f"    {'veille (fragment)':22} n={len(v):5}  p50 {statistics.median(v):6.0f} ms", file=sys.stderr)
    for e in r.releve.premiers_echecs:
        print(f"    ! {e}", file=sys.stderr)


if __name__ == "__main__":
    main()
