"""Storage benchmarks: triages (issue #3) and followed episodes (issue #12).

    python -m bench.store                       # both parts, SQLite in a temporary folder, writes BENCHMARKS.md
    python -m bench.store --episodes            # the followed episodes only (issue #12)
    python -m bench.store --episodes --postgres-jetable   # on the tests' throw-away PostgreSQL server
    python -m bench.store --base postgresql+psycopg://triage@127.0.0.1:5432/bench --sans-ecrire
    python -m bench.store --n 2000 --sans-ecrire
    python -m bench.store --episodes --patients 2000 --profil --sans-ecrire   # with a cProfile of each call

Triages (issue #3): the database is filled through the service layer itself (patients, episodes, triages,
answers, half of them finalised, every event chained in the audit log), so the figures include the audit
write and the JSON rewrite of the draft. Targets: one answer ≤ 5 ms median on SQLite; the latest 50 among
10 000 ≤ 50 ms.

Followed episodes (issue #12): 10 000 patients (French names, a fifth accented) recorded through
``Services.creer_patient`` (or, with ``--patients-direct``, inserted in one Core transaction with their search
key); then (a) a look-up by a partial name of 3 to 5 letters (accented names often typed without their
accents) through ``Services.rechercher_patients``, audit event included — target ≤ 20 ms median; (b) recording a
session with ``Services.enregistrer_seance`` on an episode with a final triage (which evaluates the episode's
next session with the engine, before and after) — target ≤ 5 ms median; (c) ``Services.etat_episode``.

The machine is shared and noisy: every round is reported and the verdict uses the best.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.commun import ecrire_section, etalon_ms, machine
from triage_app.domain.texte import cle_patient, cle_recherche
from triage_app.services.application import Services
from triage_app.services.unite import nouvel_id
from triage_app.storage.tables import Patient

ACTEUR = "bench"


def _quantile(valeurs: list[float], q: float) -> float:
    valeurs = sorted(valeurs)
    return valeurs[min(len(valeurs) - 1, int(q * len(valeurs)))]


def remplir(depot: Services, n: int, graine: int = 20261202) -> list[str]:
    """``n`` triages (two per episode), answered through the service; half finalised. Returns the draft ids."""
    rng = random.Random(graine)
    depot.structure.enregistrer_structure(nom="MSP de mesure", type="msp", departement="38",
                                          protocoles_appliques=sorted(depot.moteur.protocoles), acteur=ACTEUR)
    questions = {p: [q.id for q in pc.modele.questions if q.requis != "facultatif"]
                 for p, pc in depot.moteur.protocoles.items()}
    brouillons = []
    debut = time.perf_counter()
    for i in range(0, n, 2):
        protocole = rng.choice(sorted(questions))
        jour = date(2025, 1, 1) + timedelta(days=rng.randrange(600))
        pid = depot.patients.creer_patient(nom=f"Patient{i}", prenom="Mesure", acteur=ACTEUR,
                                           date_naissance=jour - timedelta(days=rng.randrange(18 * 365, 70 * 365)))
        eid = depot.episodes.creer_episode(patient_id=pid, protocole=protocole, date_debut=jour - timedelta(days=3),
                                           acteur=ACTEUR)
        for k in range(2 if i + 1 < n else 1):
            tid = depot.triages.creer_triage(episode_id=eid, date_consultation=jour + timedelta(days=k), acteur=ACTEUR)
            # The first triage of an episode is answered in full and finalised; the second stays a draft.
            a_repondre = questions[protocole] if k == 0 else questions[protocole][: rng.randrange(1, 6)]
            for q in a_repondre:
                depot.triages.enregistrer_reponse(tid, q, q == "mecanisme_torsion", acteur=ACTEUR)
            if k == 0:
                depot.triages.finaliser(tid, acteur=ACTEUR)
            else:
                brouillons.append(tid)
        if (i + 2) % 2000 == 0:
            print(f"  … {i + 2} triages enregistrés ({time.perf_counter() - debut:.0f} s)", file=sys.stderr)
    return brouillons


def mesurer(depot: Services, brouillons: list[str], tours: int, n_reponses: int) -> list[dict[str, float]]:
    rng = random.Random(7)
    questions = {p: [q.id for q in pc.modele.questions] for p, pc in depot.moteur.protocoles.items()}
    protocole_de = {tid: depot.triages.charger(tid).cas["protocole"] for tid in brouillons[:n_reponses]}
    resultats = []
    for _ in range(tours):
        reponses = []
        for tid, protocole in protocole_de.items():
            q = rng.choice([x for x in questions[protocole] if not x.startswith("sbt_")])
            t = time.perf_counter()
            depot.triages.enregistrer_reponse(tid, q, rng.random() < 0.5, acteur=ACTEUR)
            reponses.append(time.perf_counter() - t)
        listes = []
        for _ in range(100):
            t = time.perf_counter()
            lignes = depot.triages.lister(limite=50)
            listes.append(time.perf_counter() - t)
            assert len(lignes) == min(50, len(brouillons) * 2)
        resultats.append({"reponse_med": statistics.median(reponses) * 1e3,
                          "reponse_p95": _quantile(reponses, 0.95) * 1e3,
                          "liste_med": statistics.median(listes) * 1e3,
                          "liste_p95": _quantile(listes, 0.95) * 1e3})
    return resultats


# -- followed episodes (issue #12) ---------------------------------------------------------------------------
# Common French surnames, a fifth of them with an accent, a ligature or a hyphen (the look-up must find them
# typed without).
NOMS = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
    "Laurent", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "Bonnet",
    "Dupont", "Lambert", "Fontaine", "Rousseau", "Vidal", "Mercier", "Blanc", "Guerin", "Muller", "Henry",
    "Perrin", "Morin", "Mathieu", "Dumont", "Lopez", "Chevalier", "Robin", "Masson", "Sanchez", "Nguyen", "Boyer",
    "Denis", "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche", "Meyer", "Lucas", "Meunier", "Marchand",
    "Dufour", "Blanchard", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Renard", "Arnaud",
    "Caron", "Aubert", "Giraud", "Leclerc", "Bourgeois", "Renaud", "Picard", "Gaillard", "Lacroix", "Fabre",
    "Dupuis", "Olivier", "Hubert", "Guillot", "Le Gall", "Da Silva", "Moulin", "Berger", "Lecomte", "Carpentier",
    "Lefèbvre", "Lefèvre", "André", "François", "Gérard", "Clément", "Noël", "Pérez", "Ménard", "Rivière",
    "Benoît", "Prévost", "Carré", "Rémy", "Lemaître", "Chrétien", "Hénault", "Bézier", "Œdipe", "Saint-Exupéry",
    "Müller-Lüdenscheidt", "Besançon", "Gaëtan-Pélissier", "Lœillet", "Dœuvre", "D'Aubigné",
)
PRENOMS = (
    "Jeanne", "Marie", "Camille", "Léa", "Chloé", "Zoé", "Hélène", "Anaïs", "Noémie", "Gaëlle", "Cécile", "Agnès",
    "Inès", "Amélie", "Thérèse", "Éloïse", "Céline", "Aurélie", "Sophie", "Julie", "Claire", "Anne", "Louise",
    "Paul", "Jean", "Pierre", "Louis", "Lucas", "Hugo", "Jérôme", "François", "Benoît", "Loïc", "Maël", "Joël",
    "Raphaël", "Stéphane", "Frédéric", "Sébastien", "Hervé", "Thomas", "Nicolas", "Julien", "Antoine", "Jean-Luc",
)
_MOTS = re.compile(r"[\s'-]+")


def _naissance(rng: random.Random) -> date:
    return date(1940, 1, 1) + timedelta(days=rng.randrange(70 * 365))


def remplir_patients(depot: Services, n: int, direct: bool, graine: int = 20261212) -> list[tuple[str, str, date]]:
    """``n`` patients: through ``creer_patient`` (one transaction and one audit event each), or with ``direct``
    in one bulk statement (the search key computed as the service does, one audit event sealing them all). Returns
    (id, nom, date of birth)."""
    rng = random.Random(graine)
    lignes = [(rng.choice(NOMS), rng.choice(PRENOMS), _naissance(rng), rng.choice(("F", "M"))) for _ in range(n)]
    patients = []
    debut = time.perf_counter()
    if direct:
        maintenant = datetime.now(UTC)
        valeurs = [{"id": nouvel_id(), "nom": nom, "prenom": prenom, "date_naissance": naissance, "sexe": sexe,
                    "couverture": "regime_general", "nom_recherche": cle_patient(nom, prenom), "cree_le": maintenant}
                   for nom, prenom, naissance, sexe in lignes]
        with depot.uow.ecriture() as (session, chaine):  # one statement, the rows sealed by one audit event
            session.execute(Patient.__table__.insert(), valeurs)
            for v in valeurs:
                chaine.toucher("patients", v["id"])
            chaine.ajouter("import_patients_banc", ACTEUR, details={"patients": len(valeurs)})
        return [(v["id"], v["nom"], v["date_naissance"]) for v in valeurs]
    for i, (nom, prenom, naissance, sexe) in enumerate(lignes, start=1):
        pid = depot.patients.creer_patient(nom=nom, prenom=prenom, date_naissance=naissance, sexe=sexe, acteur=ACTEUR)
        patients.append((pid, nom, naissance))
        if i % 2500 == 0:
            print(f"  … {i} patients enregistrés ({time.perf_counter() - debut:.0f} s)", file=sys.stderr)
    return patients


def saisie_partielle(rng: random.Random, nom: str) -> tuple[str, bool]:
    """What a kiné types to find ``nom``: 3 to 5 letters of one of its words, mostly its start; an accented name
    is typed without its accents two times out of three. Returns (text typed, typed without the accents)."""
    mots = [m for m in _MOTS.split(nom) if len(m) >= 3]
    mot = rng.choice(mots)
    k = min(len(mot), rng.randint(3, 5))
    debut = 0 if rng.random() < 0.75 else rng.randrange(len(mot) - k + 1)
    morceau = mot[debut:debut + k]
    accentue = cle_recherche(morceau) != morceau.lower()
    if accentue and rng.random() < 2 / 3:
        return cle_recherche(morceau), True
    return (morceau.lower() if rng.random() < 0.5 else morceau), False


def episodes_avec_triage(depot: Services, patients: list[tuple[str, str, date]], nombre: int, jour: date,
                         graine: int = 12) -> list[str]:
    """``nombre`` episodes of patients aged 25 to 50 on ``jour``, each with a final triage oriented to the
    protocol (through the service, as the page does)."""
    rng = random.Random(graine)
    candidats = [p for p in patients if 25 * 365 < (jour - p[2]).days < 50 * 365]
    rng.shuffle(candidats)
    protocoles = sorted(depot.moteur.protocoles)
    episodes = []
    for n, (pid, _, _) in enumerate(candidats[:nombre]):
        protocole = protocoles[n % len(protocoles)]
        eid = depot.episodes.creer_episode(patient_id=pid, protocole=protocole, date_debut=jour - timedelta(days=2),
                                           antecedent_lombalgie=True, acteur=ACTEUR)
        tid = depot.triages.creer_triage(episode_id=eid, date_consultation=jour, acteur=ACTEUR)
        depot.triages.modifier_brouillon(tid, {"cadre.structure": "msp", "cadre.protocole_autorise": True,
                                       "cadre.medecin_delegant_est_medecin_traitant": True,
                                       "cadre.medecin_joignable": True, "consentement.protocole": True,
                                       "consentement.partage_dmp": True}, acteur=ACTEUR)
        modele = depot.moteur.protocoles[protocole].modele
        reponses = {q.id: q.id == "mecanisme_torsion" for q in modele.questions if q.requis == "toujours"}
        if modele.ottawa is not None:
            reponses.update({z.douleur: False for z in modele.ottawa.zones})
        depot.triages.completer_reponses(tid, reponses, acteur=ACTEUR)
        resultat = depot.triages.finaliser(tid, acteur=ACTEUR)
        assert resultat["orientation"] == "protocole", (protocole, resultat["orientation"])
        episodes.append(eid)
    assert len(episodes) == nombre, "pas assez de patients de 25 à 50 ans"
    return episodes


def _chrono(fonction: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fonction()
    return time.perf_counter() - t


def _stats(durees: list[float]) -> dict[str, float]:
    return {"med": statistics.median(durees) * 1e3, "p95": _quantile(durees, 0.95) * 1e3, "n": len(durees)}


@contextlib.contextmanager
def _profil(actif: bool, titre: str, sortie: list[str]) -> Iterator[None]:
    """cProfile of the block (when ``actif``): the 18 costliest functions by cumulative time, kept in ``sortie``."""
    if not actif:
        yield
        return
    profil = cProfile.Profile()
    profil.enable()
    try:
        yield
    finally:
        profil.disable()
        texte = io.StringIO()
        pstats.Stats(profil, stream=texte).strip_dirs().sort_stats("cumulative").print_stats(18)
        sortie.append(f"### {titre}\n{texte.getvalue()}")


def mesurer_episodes(depot: Services, patients: list[tuple[str, str, date]], tours: int, n_recherches: int,
                     n_seances: int, profiler: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """Per round: ``n_recherches`` look-ups, ``n_seances`` sessions (15 per episode, interleaved across fresh
    episodes, as a day of several kinés), as many ``etat_episode`` reads."""
    rng = random.Random(2026)
    jour = date(2026, 3, 10)
    par_episode = 15
    n_episodes = max(1, -(-n_seances // par_episode))
    episodes = episodes_avec_triage(depot, patients, n_episodes * tours, jour)
    profils: list[str] = []
    resultats = []
    for tour in range(tours):
        recherches, trouves, sans_accent = [], [], 0
        with _profil(profiler and tour == 0, "rechercher_patients", profils):
            for _ in range(n_recherches):
                texte, tape_sans_accent = saisie_partielle(rng, rng.choice(patients)[1])
                sans_accent += tape_sans_accent
                t = time.perf_counter()
                lignes = depot.patients.rechercher_patients(texte, acteur=ACTEUR)
                recherches.append(time.perf_counter() - t)
                trouves.append(len(lignes))
                assert lignes, texte
        les_miens = episodes[tour * n_episodes:(tour + 1) * n_episodes]
        seances = []
        with _profil(profiler and tour == 0, "enregistrer_seance", profils):
            for k in range(par_episode):
                for eid in les_miens:
                    if len(seances) == n_seances:
                        break
                    # From the day after next: the protocol consultation's day and the next take no NGAP act.
                    seances.append(_chrono(lambda eid=eid, k=k: depot.episodes.enregistrer_seance(
                        episode_id=eid, jour=jour + timedelta(days=k + 2), acteur=ACTEUR)))
        etats = []
        with _profil(profiler and tour == 0, "etat_episode", profils):
            for _ in range(n_seances):
                eid = rng.choice(les_miens)
                fin = jour + timedelta(days=par_episode + 1)
                etats.append(_chrono(lambda eid=eid, fin=fin: depot.episodes.etat_episode(eid, fin)))
        resultats.append({"recherche": _stats(recherches), "seance": _stats(seances), "etat": _stats(etats),
                          "trouves_med": statistics.median(trouves), "trouves_max": max(trouves),
                          "sans_accent": sans_accent,
                          "serie": depot.episodes.etat_episode(les_miens[0],
                                                               jour + timedelta(days=par_episode + 1)).seances_serie})
    return resultats, profils


ENTETE_EPISODES = ("| Tour | Recherche médiane (ms) | p95 (ms) | Patients trouvés (médiane / max, limite 20) "
                   "| Séance médiane (ms) | p95 (ms) | `etat_episode` médiane (ms) | p95 (ms) |")
NOTE_PG_JETABLE = ("Serveur PostgreSQL jetable des tests (`tests/pg.py` : 127.0.0.1, `fsync`, `synchronous_commit` "
                   "et `full_page_writes` désactivés) : un serveur de production durable sera plus lent à l'écriture.")


def bench_episodes(args: argparse.Namespace, url: str, etalon: float, note: str | None) -> None:
    with Services(url) as depot:
        moteur_bd = depot.uow.bd.dialect.name
        mode = ("insérés en une instruction avec leur clé de recherche (`--patients-direct`, un seul événement "
                "d'audit qui les scelle)" if args.patients_direct else
                "enregistrés par `Services.creer_patient` (une transaction et un événement d'audit chacun)")
        print(f"Remplissage : {args.patients} patients ({moteur_bd}, {mode})…", file=sys.stderr)
        t = time.perf_counter()
        patients = remplir_patients(depot, args.patients, args.patients_direct)
        remplissage = time.perf_counter() - t
        tours, profils = mesurer_episodes(depot, patients, args.tours, args.recherches, args.seances, args.profil)
        with depot.uow.sessions() as s:
            total_patients = s.query(Patient).count()
        rapport = depot.audit.verifier_audit()
        assert rapport.intact, rapport.premier_defaut
    accentues = sum(1 for _, nom, _ in patients if cle_recherche(nom) != nom.lower())

    def meilleur(cle: str) -> dict[str, float]:
        return min((r[cle] for r in tours), key=lambda x: x["med"])

    rech, seance, etat = meilleur("recherche"), meilleur("seance"), meilleur("etat")
    ok_rech = "✅" if rech["med"] <= 20 else "❌"
    ok_seance = "✅" if seance["med"] <= 5 else "❌"
    lignes = "\n".join(
        f"| {i} | {r['recherche']['med']:.2f} | {r['recherche']['p95']:.2f} | {r['trouves_med']:.0f} / "
        f"{r['trouves_max']} | {r['seance']['med']:.2f} | {r['seance']['p95']:.2f} | {r['etat']['med']:.2f} | "
        f"{r['etat']['p95']:.2f} |" for i, r in enumerate(tours, start=1))
    n_tour = tours[0]
    entete = note + "\n" if note else ""
    corps = f"""
{entete}`python -m bench.store --episodes` — mesuré le {date.today().isoformat()} ({machine()}),
base {moteur_bd} (fichier sur disque pour SQLite),
étalon CPU {etalon:.0f} ms (plus petit = machine plus rapide au moment de la mesure).
{args.patients} patients {mode} en {remplissage:.0f} s ({total_patients} patients dans la base ; {accentues} noms
accentués, à ligature ou composés). Par tour : {n_tour['recherche']['n']} recherches d'un nom partiel de 3 à 5 lettres
({n_tour['sans_accent']} d'un nom accentué tapé sans ses accents au 1er tour), {n_tour['seance']['n']} séances
enregistrées (15 par épisode, en alternance sur {-(-args.seances // 15)} épisodes neufs du tour dont le triage final
oriente vers le protocole : jusqu'à {n_tour['serie']} séances dans la série), autant de lectures `etat_episode` sur ces
épisodes. Journal d'audit vérifié intact ({rapport.evenements} événements).

{ENTETE_EPISODES}
|---|---|---|---|---|---|---|---|
{lignes}

- Retrouver un patient par un nom partiel parmi {total_patients} (`rechercher_patients`, événement d'audit compris) :
  **{rech['med']:.2f} ms** médiane, p95 {rech['p95']:.2f} ms (meilleur tour) — cible ≤ 20 ms {ok_rech}
- Enregistrer une séance sur un épisode à triage final (`enregistrer_seance` : état de l'épisode évalué par le
  moteur avant et après, événement d'audit) : **{seance['med']:.2f} ms** médiane, p95 {seance['p95']:.2f} ms
  (meilleur tour) — cible ≤ 5 ms {ok_seance}
- État d'un épisode (`etat_episode`, une évaluation du moteur) : **{etat['med']:.2f} ms** médiane,
  p95 {etat['p95']:.2f} ms (meilleur tour)
"""
    print(corps)
    for texte in profils:
        print(texte, file=sys.stderr)
    if not args.sans_ecrire:
        titre = "Épisodes suivis (issue #12)" if moteur_bd == "sqlite" else f"Épisodes suivis (issue #12, {moteur_bd})"
        ecrire_section(titre, corps)


def bench_triages(args: argparse.Namespace, url: str, etalon: float, note: str | None) -> None:
    with Services(url) as depot:  # its connections are closed even when a round fails
        moteur_bd = depot.uow.bd.dialect.name
        print(f"Remplissage : {args.n} triages ({moteur_bd})…", file=sys.stderr)
        t = time.perf_counter()
        brouillons = remplir(depot, args.n)
        remplissage = time.perf_counter() - t
        tours = mesurer(depot, brouillons, args.tours, args.reponses)
        t = time.perf_counter()
        rapport = depot.audit.verifier_audit()
        verification = time.perf_counter() - t
        assert rapport.intact, rapport.premier_defaut

    meilleur_rep = min(r["reponse_med"] for r in tours)
    meilleur_liste = min(r["liste_med"] for r in tours)
    ok_rep = "✅" if meilleur_rep <= 5 else "❌"
    ok_liste = "✅" if meilleur_liste <= 50 else "❌"
    entete = note + "\n" if note else ""
    lignes = "\n".join(
        f"| {i} | {r['reponse_med']:.2f} | {r['reponse_p95']:.2f} | {r['liste_med']:.2f} | {r['liste_p95']:.2f} |"
        for i, r in enumerate(tours, start=1))
    corps = f"""
{entete}`python -m bench.store` — {machine()}, base {moteur_bd}, étalon CPU {etalon:.0f} ms (plus petit = machine
plus rapide au moment de la mesure). {args.n} triages enregistrés par la couche service (moitié répondus en entier et
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


@contextlib.contextmanager
def _bases(args: argparse.Namespace) -> Iterator[tuple[Callable[[str], str], str | None]]:
    """A factory of empty databases (one per part) and the note on the server, if any."""
    if args.base:
        yield (lambda _nom: args.base), None
        return
    if args.postgres_jetable:
        from tests.pg import ServeurPostgres  # the tests' throw-away server (the bench runs from the clone)

        with ServeurPostgres() as serveur:
            yield serveur.creer_base, NOTE_PG_JETABLE
        return
    with tempfile.TemporaryDirectory() as dossier:
        yield (lambda nom: f"sqlite:///{Path(dossier) / nom}.sqlite"), None


def main() -> None:
    parseur = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parseur.add_argument("--n", type=int, default=10_000, help="triages stockés (défaut : 10 000)")
    parseur.add_argument("--base", help="URL de base vide (défaut : fichier SQLite temporaire)")
    parseur.add_argument("--postgres-jetable", action="store_true",
                         help="mesurer sur le serveur PostgreSQL jetable des tests (tests/pg.py)")
    parseur.add_argument("--tours", type=int, default=3)
    parseur.add_argument("--reponses", type=int, default=500, help="réponses chronométrées par tour")
    parseur.add_argument("--episodes", action="store_true", help="seulement les épisodes suivis (issue #12)")
    parseur.add_argument("--patients", type=int, default=10_000, help="patients stockés (défaut : 10 000)")
    parseur.add_argument("--patients-direct", action="store_true",
                         help="insérer les patients en une transaction Core (sans creer_patient ni audit)")
    parseur.add_argument("--recherches", type=int, default=300, help="recherches chronométrées par tour")
    parseur.add_argument("--seances", type=int, default=300, help="séances chronométrées par tour")
    parseur.add_argument("--profil", action="store_true", help="profil cProfile de chaque appel (1er tour)")
    parseur.add_argument("--sans-ecrire", action="store_true")
    args = parseur.parse_args()

    etalon = etalon_ms()
    with _bases(args) as (base, note):
        if not args.episodes:
            bench_triages(args, base("bench_triages"), etalon, note)
        bench_episodes(args, base("bench_episodes"), etalon, note)


if __name__ == "__main__":
    main()
