"""The server's defaults: loopback only, no outbound connection at start, HTTPS for the clinic network.

The real ``triage-app serve`` runs under a socket guard (``tests/garde_reseau/sitecustomize.py``) that refuses
and notes every connection or name look-up outside the loopback, in the server process itself.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.navigateur import ServeurPage
from triage_app.cli import main

GARDE = Path(__file__).resolve().parent / "garde_reseau"


def _env_garde(journal: Path) -> dict[str, str]:
    chemin = os.pathsep.join(p for p in (str(GARDE), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": chemin, "GARDE_RESEAU_JOURNAL": str(journal)}


def _ecoute(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) listening on ``port``."""
    adresses = set()
    for fichier in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(fichier, encoding="ascii") as f:
            for ligne in f.readlines()[1:]:
                champs = ligne.split()
                hote, port_hex = champs[1].rsplit(":", 1)
                if champs[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                    adresses.add(hote)
    return adresses


def test_la_garde_refuse_et_note_hors_boucle_locale(tmp_path):
    """The guard itself: an outside name or address is refused and noted; the loopback goes through."""
    journal = tmp_path / "garde.log"
    code = (
        "import socket\n"
        "for cible in (('example.org', 80), ('192.0.2.1', 80)):\n"
        "    try:\n"
        "        socket.create_connection(cible, timeout=1)\n"
        "    except PermissionError:\n"
        "        pass\n"
        "    else:\n"
        "        raise SystemExit('non refusé')\n"
        "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "try:\n"
        "    u.connect(('8.8.8.8', 1))\n"
        "except PermissionError:\n"
        "    pass\n"
        "u.close()\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "c = socket.create_connection(s.getsockname(), timeout=1); c.close(); s.close()\n")
    sortie = subprocess.run([sys.executable, "-c", code], env={**os.environ, **_env_garde(journal)},
                            capture_output=True, text=True, timeout=60, check=False)
    assert sortie.returncode == 0, sortie.stderr
    notes = journal.read_text(encoding="utf-8")
    assert "example.org" in notes and "192.0.2.1" in notes and "8.8.8.8" in notes
    assert "127.0.0.1" not in notes


def test_serve_par_defaut_sur_la_boucle_locale_sans_connexion_sortante(tmp_path):
    journal = tmp_path / "garde.log"
    with ServeurPage(f"sqlite:///{tmp_path / 'triage.sqlite'}", options=[], env=_env_garde(journal)) as serveur:
        assert serveur.port is not None
        with urllib.request.urlopen(serveur.url + "/", timeout=10) as r:
            assert r.status == 200
        assert _ecoute(serveur.port) == {"0100007F"}  # 127.0.0.1 only, no IPv6 or other interface
        console = serveur.journal()
    assert not journal.exists(), journal.read_text(encoding="utf-8")
    assert "ce poste seulement (127.0.0.1)" in console
    assert "External URL" not in console and "Network URL" not in console


@pytest.fixture(scope="module")
def certificat(tmp_path_factory) -> tuple[Path, Path]:
    """A throw-away self-signed certificate for localhost / 127.0.0.1 (Debian's openssl)."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl introuvable (installé par scripts/dependances-test.sh)"
    dossier = tmp_path_factory.mktemp("tls")
    cert, cle = dossier / "cert.pem", dossier / "cle.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(cle), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, cle


def test_serve_reseau_en_https_avec_le_certificat_de_la_structure(tmp_path, certificat):
    cert, cle = certificat
    journal = tmp_path / "garde.log"
    contexte = ssl.create_default_context(cafile=str(cert))  # verifies the chain and the name 127.0.0.1
    options = ["--reseau", "--certificat", str(cert), "--cle", str(cle)]
    with ServeurPage(f"sqlite:///{tmp_path / 'triage.sqlite'}", options=options, env=_env_garde(journal),
                     tls=contexte) as serveur:
        assert serveur.port is not None
        with urllib.request.urlopen(serveur.url + "/_stcore/health", timeout=10, context=contexte) as r:
            assert r.read().decode().strip() == "ok"
            assert r.headers["strict-transport-security"] == "max-age=31536000"  # HTTPS kept by the browser
        assert _ecoute(serveur.port) == {"00000000"}  # every IPv4 interface, as asked
        with pytest.raises(OSError):  # plain HTTP is not served
            urllib.request.urlopen(f"http://127.0.0.1:{serveur.port}/_stcore/health", timeout=5).close()
        console = serveur.journal()
    assert not journal.exists(), journal.read_text(encoding="utf-8")
    assert "en HTTPS" in console


def _lance(argv: list[str], monkeypatch, tmp_path) -> list[str]:
    lance: list[list[str]] = []
    monkeypatch.setenv("TRIAGE_DATABASE_URL", f"sqlite:///{tmp_path}/triage.sqlite")
    monkeypatch.setattr("os.execv", lambda chemin, args: lance.append(list(args)))
    assert main(argv) == 0
    (commande,) = lance
    return commande


def _option(commande: list[str], nom: str) -> str:
    return commande[commande.index(nom) + 1]


def test_serve_durci_quel_que_soit_le_dossier_courant(monkeypatch, tmp_path):
    """The hardening options are on the command line, not only in a config file of the current folder."""
    monkeypatch.chdir(tmp_path)
    commande = _lance(["serve"], monkeypatch, tmp_path)
    assert _option(commande, "--server.address") == "127.0.0.1"
    assert _option(commande, "--client.showErrorDetails") == "none"
    assert _option(commande, "--browser.gatherUsageStats") == "false"
    assert _option(commande, "--logger.hideWelcomeMessage") == "true"
    assert "--server.sslCertFile" not in commande


def test_serve_reseau_sans_https_previent_en_francais(monkeypatch, tmp_path, capsys):
    commande = _lance(["serve", "--reseau"], monkeypatch, tmp_path)
    assert _option(commande, "--server.address") == "0.0.0.0"
    erreur = capsys.readouterr().err
    assert "ATTENTION" in erreur and "HTTPS" in erreur and "tablettes" in erreur


def test_serve_adresse_choisie(monkeypatch, tmp_path, capsys):
    commande = _lance(["serve", "--adresse", "192.0.2.10", "--port", "8600"], monkeypatch, tmp_path)
    assert _option(commande, "--server.address") == "192.0.2.10"
    assert "HTTPS" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["serve", "--certificat", "c.pem"], ["serve", "--cle", "k.pem"],
                                  ["serve", "--certificat", "absent.pem", "--cle", "absent.pem"]])
def test_serve_https_mal_configure_refuse_en_francais(argv, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("os.execv", lambda *a: pytest.fail("le serveur ne doit pas démarrer"))
    assert main(argv) == 2
    erreur = capsys.readouterr().err
    assert "--certificat" in erreur or "--cle" in erreur


def test_serve_hors_du_projet_entetes_de_securite_et_fichiers_prives(tmp_path):
    """Issue #16: started from another folder, the server answers with the security headers, and the database's
    folder is 0700, its files 0600 (health data readable by their owner only)."""
    import stat
    import urllib.request

    ailleurs = tmp_path / "ailleurs"
    ailleurs.mkdir()
    base = tmp_path / "donnees" / "triage.sqlite"
    with ServeurPage(f"sqlite:///{base}", cwd=ailleurs) as serveur:
        with urllib.request.urlopen(urllib.request.Request(serveur.url + "/", method="HEAD"), timeout=10) as r:
            entetes = {k.lower(): v for k, v in r.headers.items()}
        with urllib.request.urlopen(serveur.url + "/_stcore/health", timeout=10) as r:
            sante = {k.lower(): v for k, v in r.headers.items()}
    for vus in (entetes, sante):
        assert vus["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in vus["content-security-policy"]
        assert vus["x-content-type-options"] == "nosniff" and vus["referrer-policy"] == "no-referrer"
    assert stat.S_IMODE(base.parent.stat().st_mode) == 0o700
    fichiers = [p for p in base.parent.iterdir() if p.name.startswith("triage.sqlite")]
    assert base in fichiers and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in fichiers), [
        (p.name, oct(p.stat().st_mode)) for p in fichiers]


def test_une_exception_journalisee_perd_son_message():
    """Issue #16: an unhandled exception's message may hold stored values; the log keeps its traceback only."""
    import io
    import logging

    from triage_app.ui.serveur import SansValeurs

    tampon = io.StringIO()
    gestionnaire = logging.StreamHandler(tampon)
    gestionnaire.addFilter(SansValeurs())
    journal = logging.getLogger("test.sans_valeurs")
    journal.addHandler(gestionnaire)
    valeur_stockee = "".join(["Dup", "ont Marie née le 17", "/05/1980"])  # never in the source line itself
    try:
        raise ValueError(f"patient {valeur_stockee}")
    except ValueError:
        journal.exception("Uncaught app execution")
    finally:
        journal.removeHandler(gestionnaire)
    texte = tampon.getvalue()
    assert "Uncaught app execution" in texte and "ValueError (message retiré" in texte and "test_serveur.py" in texte
    assert "Dupont" not in texte and "17/05/1980" not in texte


def test_le_filtre_vaut_pour_tout_journal_du_serveur():
    """The server installs it through the record factory: a logger with its own handler (as Streamlit's) too."""
    import io
    import logging

    from triage_app.ui.serveur import filtrer_journaux

    avant = logging.getLogRecordFactory()
    tampon = io.StringIO()
    journal = logging.getLogger("streamlit.test_sans_valeurs")
    gestionnaire = logging.StreamHandler(tampon)
    journal.addHandler(gestionnaire)
    journal.propagate = False
    try:
        filtrer_journaux()
        valeur = "".join(["Zéph", "yrine"])
        try:
            raise KeyError(valeur)
        except KeyError:
            journal.exception("Erreur")
    finally:
        logging.setLogRecordFactory(avant)
        journal.removeHandler(gestionnaire)
    assert "KeyError (message retiré" in tampon.getvalue() and "Zéphyrine" not in tampon.getvalue()
