"""Hardening v3 (issue #28), against the real server where the hole was found there.

- A client that is not logged in sends ``clear_cache`` then reruns the page, again and again: the server's open files
  and database connections stay where they were (the page's services are no Streamlit cache any client can clear).
"""

from __future__ import annotations

import asyncio
import os
from datetime import date
from pathlib import Path

from tests import navigateur as nv


def _fichiers_ouverts(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_vider_les_caches_en_boucle_n_ouvre_ni_fichier_ni_connexion(tmp_path: Path) -> None:
    from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: TID251  (the protocol a client speaks)

    from tests.session_ws import SessionStreamlit

    url = f"sqlite:///{tmp_path / 'serveur.sqlite'}"
    nv.preparer_base(url)

    async def scenario(adresse: str, pid: int) -> tuple[int, int]:
        s = SessionStreamlit(adresse)
        try:
            await s.ouvrir()  # the login screen: nobody is logged in
            for _ in range(3):  # warm-up: whatever the first runs open once
                await s.executer()
            avant = _fichiers_ouverts(pid)
            for _ in range(40):
                msg = BackMsg()
                msg.clear_cache = True
                await s.ws.send(msg.SerializeToString())
                tour = await s.executer()
                assert not tour.exceptions
            return avant, _fichiers_ouverts(pid)
        finally:
            await s.fermer()

    with nv.ServeurPage(url) as serveur:
        assert serveur.pid is not None
        avant, apres = asyncio.run(scenario(serveur.url, serveur.pid))
    # Before the fix each cycle opened a new pool (50 cycles: 57 → 157 files); a small margin for the sockets.
    assert apres <= avant + 3, (avant, apres)


def test_une_origine_etrangere_est_refusee_sans_appel_exterieur(tmp_path: Path) -> None:
    """A WebSocket from another site (foreign Origin): refused (403) at once, and the server looks nothing up
    outside (under the socket guard: any outbound connection or name look-up is noted); the health check answers at
    once after them."""
    import time
    import urllib.request

    import websockets

    from tests.test_serveur import _env_garde

    journal = tmp_path / "garde.log"
    url = f"sqlite:///{tmp_path / 'triage.sqlite'}"
    nv.preparer_base(url)

    async def attaques(port: int) -> list[str]:
        refus = []
        for origine in ("http://evil.example", "https://10.1.2.3:8501", "http://192.168.0.9") * 3:
            entetes = {"Origin": origine}
            try:
                async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                              additional_headers=entetes, open_timeout=10):
                    refus.append("accepte")
            except websockets.InvalidStatus as exc:
                refus.append(str(exc.response.status_code))
        return refus

    with nv.ServeurPage(url, options=[], env=_env_garde(journal)) as serveur:
        assert serveur.port is not None
        debut = time.monotonic()
        assert set(asyncio.run(attaques(serveur.port))) == {"403"}
        assert time.monotonic() - debut < 5  # no 2 s freeze per refused connection
        with urllib.request.urlopen(serveur.url + "/_stcore/health", timeout=5) as r:
            assert r.status == 200
    assert not journal.exists(), journal.read_text(encoding="utf-8")


def _demande(port: int, hote: str, chemin: str, websocket: bool) -> int:
    """The status of a request for ``chemin`` with the ``Host`` header ``hote`` (a WebSocket handshake if asked)."""
    import http.client

    entetes = {"Host": hote}
    if websocket:  # the browser's handshake, Origin the same as Host (what DNS rebinding gives)
        entetes |= {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "streamlit",
                    "Origin": f"http://{hote}"}
    connexion = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connexion.request("GET", chemin, headers=entetes)
        return connexion.getresponse().status
    finally:
        connexion.close()


def test_un_nom_d_hote_etranger_est_refuse_sans_appel_exterieur(tmp_path: Path) -> None:
    """DNS rebinding: a foreign site's name made to point at the server, so the browser sends the page's requests and
    its WebSocket as « same origin ». Its name shows in ``Host``: refused (403) on the page, the health check and the
    WebSocket; IP addresses, localhost and the structure's own names (``serve --nom``, here through its variable) are
    served; nothing is looked up outside (socket guard)."""
    from tests.test_serveur import _env_garde

    journal = tmp_path / "garde.log"
    url = f"sqlite:///{tmp_path / 'triage.sqlite'}"
    nv.preparer_base(url)
    env = _env_garde(journal) | {"TRIAGE_NOMS_HOTE": "cabinet.example"}
    with nv.ServeurPage(url, options=[], env=env) as serveur:
        port = serveur.port
        assert port is not None
        for etranger in (f"evil.example:{port}", "evil.example", f"localhost.evil.example:{port}", "[::2"):
            for chemin, ws in (("/", False), ("/_stcore/health", False), ("/_stcore/stream", True)):
                assert _demande(port, etranger, chemin, ws) == 403, (etranger, chemin)
        for connu in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"Cabinet.Example:{port}",
                      "192.168.1.20", ""):  # no name: a proxy's HTTP/1.0 health check
            assert _demande(port, connu, "/_stcore/health", False) == 200, connu
        assert _demande(port, f"127.0.0.1:{port}", "/_stcore/stream", True) == 101
    assert not journal.exists(), journal.read_text(encoding="utf-8")


def test_une_valeur_forgee_dans_la_correction_est_refusee_avant_le_journal(tmp_path: Path) -> None:
    """A crafted value for a coded field (the cover) is refused in French, naming the field: nothing stored, nothing
    in the audit, the draft still evaluates."""
    import pytest

    from tests.test_page import creer_triage
    from triage_app.errors import TriageError
    from triage_app.services.application import Services

    with Services(f"sqlite:///{tmp_path / 'triage.sqlite'}") as depot:
        tid, _ = creer_triage(depot)
        avant = depot.audit.verifier_audit().evenements
        forgee = "DUPONT Jeanne, lombalgie sur cancer du sein " * 100
        with pytest.raises(TriageError, match=r"patient\.couverture"):
            depot.triages.modifier_brouillon(tid, {"patient.couverture": forgee}, acteur="kine")
        assert depot.audit.verifier_audit().evenements == avant
        assert depot.triages.charger(tid).cas["patient"]["couverture"] == "regime_general"
        depot.triages.evaluer(tid)  # still evaluates


def test_des_compteurs_hors_bornes_en_lot_n_arretent_pas_le_lot(tmp_path: Path, capsys) -> None:
    """``evaluate --jsonl``: a line with an out-of-range counter (10**30), an oversized protocol id, a blank line:
    each gets its French error line, the valid ones their results, whatever the number of processes."""
    import json

    import pytest

    from tests.conftest import cas_base
    from triage_app.cli import main

    bon = cas_base("lombalgie_aigue")
    enorme = json.loads(json.dumps(bon))
    enorme["episode"]["seances_realisees_episode"] = 10**30
    long_ = json.loads(json.dumps(bon))
    long_["protocole"] = "x" * 100_000
    lignes = [json.dumps(bon), json.dumps(enorme), "", json.dumps(long_), json.dumps(bon)]
    fichier = tmp_path / "lot.jsonl"
    fichier.write_text("\n".join(lignes) + "\n", encoding="utf-8")
    for processus in ("1", "4"):
        capsys.readouterr()
        code = main(["evaluate", "--jsonl", str(fichier), "--processus", processus])
        sorties = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert code == 2 and [s["ligne"] for s in sorties] == [1, 2, 3, 4, 5]  # 2: some lines invalid
        assert "orientation" in sorties[0] and "orientation" in sorties[4]
        assert "valeur trop grande" in sorties[1]["erreur"] and "Traceback" not in json.dumps(sorties)
        assert len(sorties[3]["erreur"]) < 500
    with pytest.raises(SystemExit):
        main(["evaluate", "--jsonl", str(fichier), "--processus", "100000"])


def test_noms_hostiles_refuses_et_noms_d_autres_ecritures_retrouves(tmp_path: Path) -> None:
    """Names that print otherwise than they read, or look empty, are refused (naming the field and the character);
    a too-long name is refused with its limit, never cut; names in other scripts are found, as typed."""
    import pytest

    from triage_app.errors import ErreurSaisie
    from triage_app.services.application import Services

    with Services(f"sqlite:///{tmp_path / 'triage.sqlite'}") as depot:
        def creer(nom: str) -> str:
            return depot.patients.creer_patient(nom=nom, prenom="Anne", date_naissance=date(1980, 1, 2),
                                                acteur="kine")

        for hostile in ("Du\u2060pont", "Du\u061cpont", "Du\u00adpont", "Du\u180epont", "Du\u206apont",
                        "Du\ufff9pont", "Du\U000e0041pont", "Du\u2028pont", "Du\u2029pont", "Du\ue000pont",
                        "Du\ufdd0pont", "\u3164", "\u2800", "\u3164\u3164"):
            with pytest.raises(ErreurSaisie, match="nom"):
                creer(hostile)
        with pytest.raises(ErreurSaisie, match="200 caractères au plus"):
            creer("A" * 201)
        for nom, tape in (("杜邦", "杜邦"), ("دوبون", "دوبون"), ("Ἀθηνᾶ", "αθηνα"), ("Дюпон", "дюпон")):
            pid = creer(nom)
            assert [p.id for p in depot.patients.rechercher_patients(tape, acteur="kine")] == [pid], nom
        assert depot.patients.rechercher_patients("Du\u2060pont", acteur="kine") == []  # typed: no crash, no match


def test_les_erreurs_de_la_ligne_de_commande_sont_en_francais_sans_trace(tmp_path: Path, capsys) -> None:
    """The command-line mistakes the red team found end in French, with no traceback and no argparse English."""
    import pytest

    from triage_app.cli import main

    url = f"sqlite:///{tmp_path / 'triage.sqlite'}"
    essais = [["rapport", "--annee", "0", "--base", url], ["serve", "--port", "99999"],
              ["rapport", "--output", str(tmp_path), "--base", url], ["audit", "verify", "--base", "pas-une-url"],
              ["commande-inconnue"], ["evaluate", "--inconnu"], ["patient", "export"], ["evaluate", "--processus", "x"],
              ["--help"], ["rapport", "--help"]]
    for argv in essais:
        capsys.readouterr()
        try:
            code = main(argv)
        except SystemExit as sortie:
            code = sortie.code
        texte = "".join(capsys.readouterr())
        assert code in (0, 2), (argv, code)
        assert "Traceback" not in texte, argv
        for anglais in ("usage:", "error:", "positional arguments", "show this help message", "invalid choice",
                        "the following arguments are required"):
            assert anglais not in texte, (argv, anglais)
    with pytest.raises(SystemExit):
        main(["rapport", "--annee", "20000"])


def test_un_config_toml_du_dossier_courant_n_ouvre_rien_et_les_internes_sont_caches(tmp_path: Path) -> None:
    """A .streamlit/config.toml in the folder ``serve`` is started from cannot turn on the anonymous agent API nor
    static serving; /_stcore/metrics is not served; the security headers are there."""
    import urllib.error
    import urllib.request

    dossier = tmp_path / "ailleurs"
    (dossier / ".streamlit").mkdir(parents=True)
    (dossier / ".streamlit" / "config.toml").write_text(
        "[server]\nenableAgentApi = true\nenableStaticServing = true\nenableCORS = false\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'triage.sqlite'}"
    nv.preparer_base(url)

    def statut(chemin: str) -> int:
        try:
            with urllib.request.urlopen(serveur.url + chemin, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    (dossier / "static").mkdir()
    (dossier / "static" / "x.txt").write_text("fichier-statique-du-dossier", encoding="utf-8")

    def corps(chemin: str) -> str:
        try:
            with urllib.request.urlopen(serveur.url + chemin, timeout=10) as r:
                return r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError:
            return ""

    with nv.ServeurPage(url, cwd=dossier) as serveur:
        assert statut("/_stcore/metrics") == 404
        # Any other path answers with the page itself (200, the app's HTML): never the agent nor the folder's file.
        assert "fichier-statique-du-dossier" not in corps("/app/static/x.txt")
        agent = corps("/_stcore/agent/interact")
        assert not agent or agent.lstrip().lower().startswith("<!doctype html")
        with urllib.request.urlopen(serveur.url + "/", timeout=10) as r:
            assert r.headers["x-frame-options"] == "DENY"


def _premier_compte(url: str, n: int, depart: float) -> str:
    import time

    from triage_app.errors import TriageError
    from triage_app.services.application import Services

    with Services(url) as depot:
        time.sleep(max(0.0, depart - time.time()))  # every process at once
        try:
            depot.comptes.creer_premier_compte(identifiant=f"coord{n}", nom=f"Coordination {n}",
                                               mot_de_passe="un mot de passe long")
            return "cree"
        except TriageError:
            return "refuse"


def _ouvrir(url: str, pid: str, depart: float) -> str:
    import time

    from triage_app.services.application import Services

    with Services(url) as depot:
        time.sleep(max(0.0, depart - time.time()))
        eid, _ = depot.episodes.ouvrir_ou_continuer_episode(patient_id=pid, protocole="lombalgie_aigue",
                                                            date_debut=date(2026, 3, 8), acteur="kine")
        return eid


def test_courses_premier_compte_et_ouverture_d_episode_entre_processus(url_base: str) -> None:
    """Six processes submit the first-account form at once: one coordinator. Four processes open an episode of the
    same patient and condition at once: one open episode, which they all join (issue #28)."""
    import multiprocessing
    import time

    from triage_app.services.application import Services

    with Services(url_base) as depot:  # migrated once, before the race
        pid = depot.patients.creer_patient(nom="Course", prenom="Anne", date_naissance=date(1980, 1, 2), acteur="t")
    contexte = multiprocessing.get_context("fork")
    with contexte.Pool(6) as pool:
        depart = time.time() + 1.0
        issues = pool.starmap(_premier_compte, [(url_base, n, depart) for n in range(6)])
        depart = time.time() + 1.0
        episodes = pool.starmap(_ouvrir, [(url_base, pid, depart) for _ in range(4)])
    assert sorted(issues) == ["cree"] + ["refuse"] * 5
    assert len(set(episodes)) == 1
    with Services(url_base) as depot:
        assert [u.role for u in depot.comptes.lister_utilisateurs()] == ["coordinateur"]
        with depot.uow.bd.connect() as c:
            from sqlalchemy import text

            assert c.execute(text("SELECT count(*) FROM episodes WHERE statut = 'ouvert'")).scalar() == 1
        assert depot.audit.verifier_audit().intact


def test_des_valeurs_non_textuelles_forgees_ne_cassent_pas_la_page(tmp_path: Path) -> None:
    """A client speaking Streamlit's protocol sends a number, bytes or a list where the page has a text field (the
    start form's name), or a number, a list or an object as the text of a field that sends as typed (the patient
    search): the page treats it as no value — never Streamlit's English error page — and the form says in French
    what is missing."""
    import json

    from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: TID251  (the protocol a client speaks)

    from tests.session_ws import SessionStreamlit

    url = f"sqlite:///{tmp_path / 'serveur.sqlite'}"
    nv.preparer_base(url)

    async def depart(adresse: str) -> None:
        s = SessionStreamlit(adresse)
        try:
            await s.ouvrir()
            s.regler("connexion_identifiant", nv.IDENTIFIANT)
            s.regler("connexion_mdp", nv.MOT_DE_PASSE)
            tour = await s.taper("se_connecter")
            recherche = s.widget("recherche_patient_nouveau")
            for forge in ({"texte": 12345}, {"texte": ["a", "b"]}, {"texte": {"x": 1}}, [1, 2], 7):
                s.valeurs[recherche.id] = WidgetState(id=recherche.id, json_value=json.dumps(forge))
                tour = await s.executer(fragment=recherche.fragment or None)
                assert not tour.exceptions, (forge, tour.exceptions)
            del s.valeurs[recherche.id]
            champ = s.widget("patient_nom").id
            for etat in (WidgetState(id=champ, int_value=7), WidgetState(id=champ, bytes_value=b"\x00\xff"),
                         WidgetState(id=champ, double_array_value={"data": [1.0]}),
                         WidgetState(id=champ, json_value="{}")):
                s.valeurs[champ] = etat
                tour = await s.taper("commencer")
                assert not tour.exceptions, tour.exceptions
                assert any("nom" in e for e in tour.erreurs), tour.erreurs  # as if nothing was typed
        finally:
            await s.fermer()

    with nv.ServeurPage(url) as serveur:
        asyncio.run(depart(serveur.url))
