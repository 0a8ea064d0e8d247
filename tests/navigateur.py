"""Browser helpers for the page tests and the page benchmark: the real server, headless Chromium, the walk.

- :class:`ServeurPage` starts ``python -m triage_app.cli serve`` on 127.0.0.1 and a free port, in its own
  process group, with its own SQLite database; ``arreter()`` kills the whole group. It never outlives the
  test process: stopped at teardown, at interpreter exit (``atexit``) and otherwise by a watchdog process that
  kills the group as soon as the test process disappears (SIGKILL, OOM, CI timeout), as ``tests/pg.py`` does.
- :func:`lancer_chromium` launches Debian's ``/usr/bin/chromium`` through Playwright — never a downloaded
  browser (``playwright install`` is not used) — with the flags that keep it quiet on a closed network.
- :func:`exiger_navigateur` skips a test when Chromium or Playwright is missing, and fails it in CI.
- The page helpers never sleep: they wait until the server has answered the tap on the app's WebSocket
  (messages counted by an init script), Streamlit says the script is not running (``data-test-script-state``
  of ``stApp``), nothing moved for ``CALME_MS`` and no element is stale or still loading.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.pg import en_ci

RACINE = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CAPTURES = RACINE / "artefacts" / "captures"
HOTE = "127.0.0.1"
# Without the background-networking flags Chromium waits on network services it cannot reach here.
ARGS_CHROMIUM = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CIBLE_TACTILE_PX = 44
ID_TRIAGE = re.compile(r"[0-9a-f]{32}")

# The page's walk, as a kiné taps it. Titles come from protocols/*.yaml (``titre``).
TITRES = {"lombalgie_aigue": "Lombalgie aiguë commune", "entorse_cheville": "Traumatisme en torsion de la cheville"}
GROUPES_AUCUN = {"lombalgie_aigue": ["neurologique", "douleur", "signes_generaux", "terrain", "rachis"],
                 "entorse_cheville": ["gravite", "traumatisme", "terrain", "fiabilite", "ottawa"]}

# Counts the messages the server sends on the app's WebSocket and notes when the last one came (or the script
# state last changed). A tap's run is over once at least one message came after the tap, the script is not
# running and nothing came for CALME_MS — the state attribute alone is not enough: a short run may flip it
# to « running » and back within one React commit, leaving no trace in the DOM.
_SCRIPT_INIT = """
(() => {
  window.__triage_messages = 0;
  window.__triage_calme_depuis = performance.now();
  const calme = () => { window.__triage_calme_depuis = performance.now(); };
  const Origine = window.WebSocket;
  window.WebSocket = class extends Origine {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => { window.__triage_messages += 1; calme(); });
    }
  };
  new MutationObserver(calme).observe(document, {subtree: true, attributes: true,
                                                 attributeFilter: ['data-test-script-state']});
})();
"""
# How long the page must have stayed quiet before a helper trusts it: a run ended by ``st.rerun()`` is
# followed by the next one within a few tens of ms (measured: 12-67 ms on a busy 2-core machine).
CALME_MS = 200

# Watchdog: blocks until its stdin reaches EOF — i.e. until the test process has gone, however it went —
# then kills the server's process group (argv[1]).
_VEILLEUR = """\
import os, signal, sys
sys.stdin.buffer.read()
try:
    os.killpg(int(sys.argv[1]), signal.SIGKILL)
except OSError:
    pass
"""


# -- availability ---------------------------------------------------------------------------------

def raison_indisponible() -> str | None:
    """None when the browser tests can run here, otherwise the reason (in French)."""
    if not os.access(CHROMIUM, os.X_OK):
        return (f"{CHROMIUM} introuvable (en root : bash scripts/dependances-test.sh, sinon : "
                "sudo apt-get install chromium chromium-driver)")
    if importlib.util.find_spec("playwright") is None:
        return "le paquet Python playwright n'est pas installé (extra test : source scripts/env.sh test)"
    return None


def exiger_navigateur() -> None:
    """Skip the current test when the browser is unusable — or fail it in CI, which must never skip it."""
    raison = raison_indisponible()
    if raison is None:
        return
    if en_ci():
        pytest.fail(f"Chromium et Playwright sont obligatoires en CI (CI={os.environ.get('CI')}) : {raison}",
                    pytrace=False)
    pytest.skip(f"navigateur indisponible : {raison}")


# -- the server -----------------------------------------------------------------------------------

def _port_libre() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOTE, 0))
        return s.getsockname()[1]


_actifs: set[ServeurPage] = set()
_verrou = threading.Lock()


def _arreter_tous() -> None:
    for s in list(_actifs):
        s.arreter()


atexit.register(_arreter_tous)


class ErreurServeur(RuntimeError):
    """The page server did not start."""


class ServeurPage:
    """``triage-app serve`` on 127.0.0.1 and a free port, on the database ``url_base``.

    ``options`` replace ``--adresse 127.0.0.1`` (``["--reseau", "--certificat", …]``); ``env`` is added to the
    environment; with ``tls`` (an SSL context trusting the server's certificate) the health check is made over
    HTTPS on 127.0.0.1.
    """

    def __init__(self, url_base: str, delai_s: float = 60, options: list[str] | None = None,
                 env: dict[str, str] | None = None, tls: ssl.SSLContext | None = None,
                 cwd: Path | None = None) -> None:
        self.cwd = cwd or RACINE
        self.url_base = url_base
        self.delai_s = delai_s
        self.options = ["--adresse", HOTE] if options is None else options
        self.env = env or {}
        self.tls = tls
        self.port: int | None = None
        self._processus: subprocess.Popen[bytes] | None = None
        self._veilleur: subprocess.Popen[bytes] | None = None
        self._journal: Any = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise ErreurServeur("serveur non démarré")
        return f"{'https' if self.tls else 'http'}://{HOTE}:{self.port}"

    def demarrer(self) -> ServeurPage:
        with _verrou:
            _actifs.add(self)
        try:
            self._demarrer()
        except BaseException:  # including KeyboardInterrupt: never leave a half-started server
            self.arreter()
            raise
        return self

    def _demarrer(self) -> None:
        env = {**os.environ, "TRIAGE_DATABASE_URL": self.url_base, "PYTHONUNBUFFERED": "1", **self.env}
        env.pop("TRIAGE_CONFIG", None)
        self.port = _port_libre()
        self._journal = tempfile.TemporaryFile()  # noqa: SIM115  (closed by arreter(), after the server)
        self._processus = subprocess.Popen(
            [sys.executable, "-m", "triage_app.cli", "serve", "--port", str(self.port), *self.options],
            cwd=self.cwd, env=env, stdin=subprocess.DEVNULL, stdout=self._journal, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group: killed as a whole, out of reach of Ctrl-C
        self._veilleur = subprocess.Popen(
            [sys.executable, "-c", _VEILLEUR, str(self._processus.pid)], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", start_new_session=True)
        limite = time.monotonic() + self.delai_s
        while time.monotonic() < limite:
            if self._processus.poll() is not None:
                raise ErreurServeur(f"le serveur s'est arrêté (code {self._processus.returncode}) :\n{self.journal()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2, context=self.tls) as r:
                    if r.read().decode().strip() == "ok":
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise ErreurServeur(f"le serveur ne répond pas « ok » sur /_stcore/health après {self.delai_s:.0f} s :\n"
                            f"{self.journal()}")

    @property
    def pid(self) -> int | None:
        """The server's process id (``serve`` replaces itself with Streamlit's server: the same process)."""
        return self._processus.pid if self._processus is not None else None

    def journal(self, caracteres: int = 4000) -> str:
        """The end of the server's output (for failure messages)."""
        if self._journal is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self._journal.seek(0)
            return self._journal.read().decode(errors="replace")[-caracteres:]
        return ""

    def arreter(self) -> None:
        """Kill the server's process group (SIGTERM, then SIGKILL). Idempotent."""
        with _verrou:
            _actifs.discard(self)
        veilleur, self._veilleur = self._veilleur, None
        if veilleur is not None:
            veilleur.kill()
            veilleur.wait()
            if veilleur.stdin is not None:
                veilleur.stdin.close()
        processus, self._processus = self._processus, None
        if processus is not None:
            for sig, delai in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(processus.pid, sig)
                try:
                    processus.wait(timeout=delai)
                    break
                except subprocess.TimeoutExpired:
                    continue
            # Anything left in the group (a process the server started) goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(processus.pid, signal.SIGKILL)
        self.port = None
        if self._journal is not None:
            with contextlib.suppress(OSError):
                self._journal.close()
            self._journal = None

    def __enter__(self) -> ServeurPage:
        return self.demarrer()

    def __exit__(self, *exc: object) -> None:
        self.arreter()


IDENTIFIANT = "kine.navigateur"
MOT_DE_PASSE = "mot de passe des tests navigateur"
COORDINATEUR = "coord.navigateur"  # same password: sees « Structure » and « Comptes » too


def preparer_base(url_base: str) -> None:
    """Describe an MSP applying both protocols (so the protocol orientation is reachable) and a kiné account."""
    from triage_app.services.application import Services

    depot = Services(url_base)
    try:
        depot.structure.enregistrer_structure(nom="MSP des tests navigateur", type="msp", departement="38",
                                              protocoles_appliques=["lombalgie_aigue",
                                                                    "entorse_cheville"], acteur="test")
        depot.comptes.creer_utilisateur(identifiant=IDENTIFIANT, nom="Kiné Navigateur", role="kine",
                                        mot_de_passe=MOT_DE_PASSE, acteur="test")
        depot.comptes.creer_utilisateur(identifiant=COORDINATEUR, nom="Coordinatrice Navigateur", role="coordinateur",
                                        mot_de_passe=MOT_DE_PASSE, acteur="test")
    finally:
        depot.fermer()


def connecter_si_besoin(page: Any, identifiant: str = IDENTIFIANT) -> None:
    """Log in through the form when the gate shows it (a new browser session, or after a reload), and wait until
    the login is done: the form has gone. Filling and tapping are not enough (a tap that lands while the
    browser is still committing the typed values, or during a run, submits nothing and the form stays up);
    the submit is tapped again only when the form is still there, filled, with no error shown."""
    porte = page.locator(".st-key-se_connecter")
    if porte.count() == 0:
        return
    champs = {".st-key-connexion_identifiant input": identifiant, ".st-key-connexion_mdp input": MOT_DE_PASSE}
    for essai in range(3):
        for selecteur, valeur in champs.items():
            champ = page.locator(selecteur)
            if champ.input_value() != valeur:
                champ.fill(valeur)
            page.wait_for_function("([s, v]) => document.querySelector(s)?.value === v", arg=[selecteur, valeur])
        avant = messages_recus(page)
        page.locator(".st-key-se_connecter button").tap()
        attendre_fin(page, avant, 30_000)
        try:
            porte.wait_for(state="detached", timeout=10_000)
            return
        except Exception:  # Playwright's TimeoutError: the form is still up
            if page.get_by_text("Connexion refusée").count() or essai == 2:
                raise AssertionError(f"connexion refusée ou non soumise : {page.inner_text('body')[:500]}") from None


# -- the browser ----------------------------------------------------------------------------------

def lancer_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless, through Playwright (``playwright.chromium.launch``)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS_CHROMIUM, timeout=30_000)


def nouveau_contexte(navigateur: Any, largeur: int, hauteur: int) -> Any:
    """A tablet-like context (touch events) that counts Streamlit's script runs."""
    contexte = navigateur.new_context(viewport={"width": largeur, "height": hauteur}, has_touch=True,
                                      locale="fr-FR", timezone_id="Europe/Paris")
    contexte.set_default_timeout(15_000)
    contexte.add_init_script(_SCRIPT_INIT)
    return contexte


# -- the page -------------------------------------------------------------------------------------

SEL_ORIENTATION = ".st-key-carte_orientation div.orientation[data-orientation]"


def messages_recus(page: Any) -> int:
    """How many WebSocket messages the page has received from the server (a mark to wait from)."""
    return int(page.evaluate("window.__triage_messages || 0"))


def attendre_fin(page: Any, depuis: int, delai_ms: float = 15_000) -> None:
    """Wait until the server answered after the mark ``depuis`` (:func:`messages_recus`), the script is not
    running, the page stayed quiet for ``CALME_MS`` and its elements are drawn (no stale element, no placeholder
    of a widget still loading)."""
    page.wait_for_function(
        """([n, calme]) => { const app = document.querySelector('[data-testid="stApp"]');
                  return window.__triage_messages > n && app
                         && app.getAttribute('data-test-script-state') === 'notRunning'
                         && performance.now() - window.__triage_calme_depuis >= calme
                         && !document.querySelector('[data-stale="true"], [data-testid="stSkeleton"]'); }""",
        arg=[depuis, CALME_MS], timeout=delai_ms)


def ouvrir(page: Any, url: str, identifiant: str = IDENTIFIANT) -> None:
    """Load ``url``, wait for the first run of the script to end, and log in if asked."""
    page.goto(url)
    attendre_fin(page, 0, 30_000)
    connecter_si_besoin(page, identifiant)


def taper(page: Any, selecteur: str, texte: str | None = None, attendu: str | None = None) -> None:
    """Tap an element (a touch, as on a tablet), wait for the run it starts and, if given, for ``attendu``."""
    cible = page.locator(selecteur)
    if texte is not None:
        cible = cible.filter(has_text=re.compile(rf"^\s*{re.escape(texte)}\s*$"))
    cible.wait_for(state="visible")
    avant = messages_recus(page)
    cible.tap()
    attendre_fin(page, avant)
    if attendu is not None:
        try:
            page.locator(attendu).first.wait_for(state="visible")
        except Exception:  # Playwright's TimeoutError: say what the page shows instead (an error, often)
            raise AssertionError(f"« {attendu} » absent après le tap sur « {selecteur} » ; erreurs affichées : "
                                 f"{erreurs_affichees(page)}") from None


def erreurs_affichees(page: Any) -> list[str]:
    """The errors the page shows: Streamlit's exception boxes and the app's red alerts (their text)."""
    return [t.strip() for t in page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
            .all_inner_texts()]


def repondre(page: Any, question: str, reponse: str) -> None:
    """Tap « Oui » or « Non » for a question (segmented control ``q_<question>``)."""
    taper(page, f".st-key-q_{question} button", reponse)


def reponse_affichee(page: Any, question: str) -> str | None:
    """The selected option of a question, or None."""
    choisi = page.locator(f".st-key-q_{question} button[aria-checked='true']")
    return choisi.inner_text().strip() if choisi.count() else None


def orientation(page: Any) -> str:
    """The orientation shown on the card (``data-orientation``; empty while there is none)."""
    return page.locator(SEL_ORIENTATION).get_attribute("data-orientation") or ""


def _saisir_date(page: Any, cle: str, jour: date) -> None:
    """Type a date as the kiné does in the JJ/MM/AAAA field: its eight digits (no calendar to close)."""
    champ = page.locator(f".st-key-{cle} input")
    champ.fill(jour.strftime("%d%m%Y"))
    if champ.input_value() not in (jour.strftime("%d%m%Y"), jour.strftime("%d/%m/%Y")):  # slashes written as typed
        raise AssertionError(f"date saisie dans {cle} : {champ.input_value()!r}")


@dataclass(frozen=True)
class Patient:
    nom: str
    prenom: str
    naissance: date
    debut: date


def remplir_patient(page: Any, protocole: str, patient: Patient, *, lombalgie_anterieure: bool = True,
                    partage_dmp: bool = True, consultation: date | None = None) -> str:
    """Fill « Nouveau triage » for a patient in the cooperation protocol, tap « Commencer »; returns the id.

    Without ``partage_dmp`` the patient refuses the DMP sharing: outside the protocol (accès direct). With
    ``consultation`` the consultation's date is typed (the form proposes today)."""
    page.locator(".st-key-commencer button").wait_for()
    page.locator(".st-key-protocole button", has_text=TITRES[protocole]).tap()
    page.locator(".st-key-patient_nom input").fill(patient.nom)
    page.locator(".st-key-patient_prenom input").fill(patient.prenom)
    _saisir_date(page, "patient_naissance", patient.naissance)
    _saisir_date(page, "date_debut", patient.debut)
    if consultation is not None:
        _saisir_date(page, "date_consultation", consultation)
    for cle, oui in (("medecin_delegant", True), ("medecin_joignable", True), ("consentement", True),
                     ("partage_dmp", partage_dmp)):  # each answered, never preset (issue #29)
        page.locator(f".st-key-{cle} button", has_text="Oui" if oui else "Non").tap()
    if lombalgie_anterieure and protocole == "lombalgie_aigue":
        page.locator(".st-key-antecedent_lombalgie label").tap()
    avant = messages_recus(page)
    page.locator(".st-key-commencer button").tap()
    page.wait_for_url(re.compile(r"[?&]triage=[0-9a-f]{32}"))
    page.locator(SEL_ORIENTATION).wait_for()
    attendre_fin(page, avant)
    return triage_de_url(page.url)


def triage_de_url(url: str) -> str:
    trouve = re.search(r"[?&]triage=([0-9a-f]+)", url)
    if not trouve:
        raise AssertionError(f"pas d'identifiant de triage dans l'URL {url}")
    return trouve.group(1)


def groupe_courant(page: Any) -> str | None:
    """The id of the open group (container ``groupe_<id>``), or None."""
    classes = page.evaluate("""() => { const g = document.querySelector('[class*="st-key-groupe_"]');
                                       return g ? g.className : null; }""")
    if not classes:
        return None
    trouve = re.search(r"st-key-groupe_(\w+)", classes)
    return trouve.group(1) if trouve else None


# -- layout checks and screenshots -----------------------------------------------------------------

_MESURES_JS = r"""
min => {
  const main = document.querySelector('[data-testid="stMain"]');
  const trop_larges = [];
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.position === 'fixed') continue;
    if (r.right > window.innerWidth + 1 && el.children.length === 0)
      trop_larges.push({balise: el.tagName, texte: (el.innerText || '').slice(0, 60), droite: Math.round(r.right)});
  }
  // Touch targets: buttons (segmented controls are buttons), toggles (their label is what a finger hits: the
  // switch input itself is clipped to nothing), expanders, links of the top navigation.
  const cibles = document.querySelectorAll('button, label:has(input[role="switch"]), summary, '
                                           + '[data-testid="stTopNavLink"]');
  const boutons = [];
  for (const b of cibles) {
    const r = b.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) continue;
    let cle = null;
    for (let e = b; e && !cle; e = e.parentElement) {
      const k = [...(e.classList || [])].find(c => c.startsWith('st-key-'));
      if (k) cle = k.slice(7);
    }
    const genre = b.tagName === 'LABEL' ? 'bascule' : b.tagName === 'SUMMARY' ? 'dépliant'
                : b.tagName === 'A' ? 'lien' : 'bouton';
    const libelle = b.querySelector('[data-testid="stMarkdownContainer"]');  // not the icons' ligature names
    const texte = (libelle ? libelle.innerText : b.innerText) || b.getAttribute('aria-label') || '';
    boutons.push({cle, genre, texte: texte.replace(/\s+/g, ' ').trim().slice(0, 60),
                  testid: b.getAttribute('data-testid'), hauteur: Math.round(r.height * 10) / 10,
                  largeur: Math.round(r.width * 10) / 10, petit: r.height < min});
  }
  return {largeur_document: document.documentElement.scrollWidth, largeur_fenetre: window.innerWidth,
          largeur_main: main ? main.scrollWidth : 0, largeur_main_visible: main ? main.clientWidth : 0,
          trop_larges, boutons};
}
"""


def mesurer_mise_en_page(page: Any) -> dict[str, Any]:
    """Widths (document, main scroller, window), elements past the right edge, and every visible button."""
    return page.evaluate(_MESURES_JS, CIBLE_TACTILE_PX)


def capturer(page: Any, nom: str) -> Path:
    """Full-page screenshot in artefacts/captures/<nom>.png (the page scrolls inside ``stMain``: the viewport
    is stretched to the content for the shot, then restored)."""
    CAPTURES.mkdir(parents=True, exist_ok=True)
    chemin = CAPTURES / f"{nom}.png"
    taille = page.viewport_size
    hauteur = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
                                       return Math.ceil(Math.max(m ? m.scrollHeight : 0,
                                                                 document.documentElement.scrollHeight)); }""")
    etire = taille is not None and hauteur > taille["height"]
    if etire:
        page.set_viewport_size({"width": taille["width"], "height": min(int(hauteur), 12_000)})
    try:
        page.screenshot(path=str(chemin), full_page=True)
    finally:
        if etire:
            page.set_viewport_size(taille)
    return chemin


def ecrire_rapport(nom: str, donnees: Any) -> Path:
    """A JSON report next to the screenshots (e.g. the buttons under 44 px)."""
    CAPTURES.mkdir(parents=True, exist_ok=True)
    chemin = CAPTURES / f"{nom}.json"
    chemin.write_text(json.dumps(donnees, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return chemin


# -- French everywhere (issue #13) ------------------------------------------------------------------------------
# English that Streamlit's frame or widgets are known to show (menus, hints, calendars, screen-reader labels), as
# found in the page at 1024x768 and 820x1180. Matched against every visible text and every label a screen reader
# announces (aria-label, placeholder, title, alt).
ANGLAIS = [re.compile(x) for x in (
    r"\bChoose\b", r"\bSelect all\b", r"\bPress (Enter|Ctrl|⌘)", r"^\d+ more$", r"^Print$", r"\bRecord\b",
    r"Made with Streamlit", r"^empty$", r"\bError\b", r"\bHelp for\b", r"\bClear\b", r"^Open$", r"^Close$",
    r"\bMain menu\b", r"\bApp pages\b", r"\bLink to heading\b", r"\bSkip to\b", r"\bSelected Date\b",
    r"\bRunning\b", r"^Stop$", r"^(dd|mm|yyyy)$", r"\bDeploy\b", r"\bSettings\b", r"^Rerun$",
    r"^(day|month|year), ", r"\b(Show|Hide) password\b", r"\benable JavaScript\b", r"\bPrevious month\b",
    r"\bNext month\b", r"\bDownload\b", r"\bFullscreen\b", r"\bSearch\b", r"\bView (more|less)\b",
    r"\bNone\b",  # a Python value shown as is (issue #29: « Règles : version None »)
)]
_TEXTES_ET_LIBELLES = """() => {
  const sortie = [];
  const cache = (el) => el.closest('noscript, style, script, [aria-hidden="true"], [data-testid="stIconMaterial"]');
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (w.nextNode()) {
    const n = w.currentNode, el = n.parentElement, t = n.nodeValue.trim();
    if (!t || !el || cache(el)) continue;
    if (el.checkVisibility && !el.checkVisibility()) continue;
    sortie.push(t);
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], [alt]')) {
    if (el.closest('noscript')) continue;
    for (const a of ['aria-label', 'placeholder', 'title', 'alt']) {
      const v = el.getAttribute(a); if (v && v.trim()) sortie.push(v.trim());
    }
  }
  return {lang: document.documentElement.lang, textes: sortie};
}"""


def anglais_visibles(page: Any) -> tuple[str, list[str]]:
    """(the page's ``<html lang>``, the visible texts and announced labels matching a known English string)."""
    trouve = page.evaluate(_TEXTES_ET_LIBELLES)
    return trouve["lang"], sorted({t for t in trouve["textes"] if any(x.search(t) for x in ANGLAIS)})


def verifier_francais(page: Any, nom: str) -> None:
    """The page is declared French and shows or announces none of the known English strings."""
    page.wait_for_function("document.documentElement.lang === 'fr'", timeout=10_000)
    lang, anglais = anglais_visibles(page)
    assert lang == "fr", f"{nom} : <html lang=\"{lang}\">"
    assert not anglais, f"{nom} : texte anglais dans la page : {anglais}"


def carte_dans_la_fenetre(page: Any) -> dict[str, float]:
    """Where the card's orientation sits in the window (top, bottom, window height), in CSS px."""
    return page.evaluate("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                                       return {haut: r.top, bas: r.bottom, fenetre: window.innerHeight}; }""",
                         SEL_ORIENTATION)
