"""The page in headless Chromium against the real server, at tablet sizes (issue #4).

One server per module (``triage-app serve`` on 127.0.0.1, a fresh SQLite database describing an MSP that
applies both protocols), one Chromium per module, a new touch-enabled context per test. Every step is
tapped (``locator.tap()``), never clicked, after the patient form. Screenshots go to artefacts/captures/
(protocol, viewport, step); the touch targets under 44 px are written next to them (``*.json``) and listed
as a warning. Skipped when Chromium or Playwright is missing — failed instead in CI (``CI=true``).
"""

from __future__ import annotations

import contextlib
import itertools
import re
import urllib.parse
import warnings
from datetime import date, timedelta

import pytest

from tests import navigateur as nv
from triage_app.engine.evaluation import moteur

pytestmark = pytest.mark.slow

VUES = [pytest.param((1024, 768), id="1024x768"), pytest.param((820, 1180), id="820x1180")]
# The group order of the walk once the patient form is sent (the Ottawa group appears when the rules ask).
PARCOURS = {"lombalgie_aigue": ["neurologique", "douleur", "signes_generaux", "terrain", "rachis"],
            "entorse_cheville": ["gravite", "mecanisme", "traumatisme", "terrain", "fiabilite", "ottawa"]}
# The page's own controls that must be comfortable to tap: answers, group shortcuts, walk and form buttons.
CLES_PRINCIPALES = re.compile(r"^(q_\w+|aucun_\w+|continuer_\w+|ouvrir_\w+|finaliser|commencer|protocole|"
                              r"patient_sexe|amender|nouveau|ligne_[0-9a-f]+)$")


def questions(protocole: str, groupe: str) -> list[str]:
    """The ids of a group's questions, in the protocol's order."""
    return [q.id for q in moteur().protocoles[protocole].modele.questions if q.groupe == groupe]


_NUMEROS = itertools.count(1)


def patient(nom: str) -> nv.Patient:
    """A new patient of the module's database: a distinct name each time (the same name and birth date would be
    offered as a probable duplicate of the earlier one, issue #12)."""
    return nv.Patient(nom=f"{nom}{next(_NUMEROS)}", prenom="Camille",
                      naissance=date(date.today().year - 40, 6, 14),
                      debut=date.today() - timedelta(days=3))


# -- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def serveur(tmp_path_factory):
    nv.exiger_navigateur()
    url = f"sqlite:///{tmp_path_factory.mktemp('navigateur') / 'triage.sqlite'}"
    nv.preparer_base(url)
    with nv.ServeurPage(url) as s:
        yield s


@pytest.fixture(scope="module")
def navigateur():
    nv.exiger_navigateur()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = nv.lancer_chromium(p)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def nouvelle_page(request, navigateur, serveur):
    """``nouvelle_page(largeur, hauteur)``: a fresh tablet context on « Nouveau triage »; a screenshot is kept
    (``echec_<test>.png``) when the test fails."""
    contextes = []
    echecs_avant = request.session.testsfailed

    def ouvrir(largeur: int, hauteur: int, chemin: str = "/", identifiant: str = nv.IDENTIFIANT):
        contexte = nv.nouveau_contexte(navigateur, largeur, hauteur)
        contextes.append(contexte)
        page = contexte.new_page()
        nv.ouvrir(page, serveur.url + chemin, identifiant)
        return page

    yield ouvrir
    try:
        if request.session.testsfailed > echecs_avant:
            nom = re.sub(r"[^\w.-]+", "_", request.node.name)
            for i, contexte in enumerate(contextes):
                for page in contexte.pages:
                    nv.capturer(page, f"echec_{nom}_{i}")
            # The page redacts an uncaught exception (« This app has encountered an error »): the server's output
            # holds its traceback.
            (nv.CAPTURES / f"echec_{nom}_serveur.txt").write_text(serveur.journal(20_000), encoding="utf-8")
    finally:
        for contexte in contextes:
            contexte.close()


# -- checks -----------------------------------------------------------------------------------------

_SIGNALES: set[tuple[str, str, str, float]] = set()


def verifier_mise_en_page(page, nom: str) -> None:
    """Screenshot, French only, no horizontal scrolling, and touch targets: all reported, the page's own asserted
    ≥ 44 px."""
    nv.capturer(page, nom)
    nv.verifier_francais(page, nom)
    m = nv.mesurer_mise_en_page(page)
    petits = [b for b in m["boutons"] if b["petit"]]
    nv.ecrire_rapport(nom, {"largeur_fenetre": m["largeur_fenetre"], "largeur_document": m["largeur_document"],
                            "largeur_main": m["largeur_main"], "trop_larges": m["trop_larges"],
                            "cibles_sous_44px": petits, "cibles": m["boutons"]})
    nouveaux = []
    for b in petits:
        texte = " ".join(b["texte"].split())
        signature = (b["genre"], b["cle"] or b["testid"] or "", texte, b["hauteur"])
        if signature not in _SIGNALES:
            _SIGNALES.add(signature)
            nouveaux.append(f"{b['genre']} {signature[1]} « {texte} » {b['hauteur']} px")
    if nouveaux:  # each small target is reported once per run (the JSON files hold every step)
        warnings.warn(f"{nom} : cible(s) tactile(s) de moins de {nv.CIBLE_TACTILE_PX} px : " + " ; ".join(nouveaux),
                      stacklevel=2)
    assert m["largeur_document"] <= m["largeur_fenetre"], f"{nom} : défilement horizontal de la page ({m})"
    assert m["largeur_main"] <= m["largeur_main_visible"], f"{nom} : défilement horizontal du contenu ({m})"
    assert not m["trop_larges"], f"{nom} : éléments coupés au bord droit : {m['trop_larges']}"
    principaux = [b for b in m["boutons"] if b["cle"] and CLES_PRINCIPALES.match(b["cle"])]
    assert principaux, f"{nom} : aucun bouton de la page mesuré"
    trop_petits = [b for b in principaux if b["hauteur"] < nv.CIBLE_TACTILE_PX]
    assert not trop_petits, f"{nom} : boutons de moins de {nv.CIBLE_TACTILE_PX} px : {trop_petits}"


def patient_nom_absent(page) -> bool:
    texte = page.locator("body").inner_text()
    return "Camille" not in texte


def bandeau_urgence(page):
    return page.locator('[data-testid="stAlertContentError"]')


# -- tests ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("protocole", ["lombalgie_aigue", "entorse_cheville"])
@pytest.mark.parametrize("vue", VUES)
def test_triage_complet_au_doigt(nouvelle_page, protocole, vue):
    """Patient form, then taps only: each group's shortcut (or its answers), then « Finaliser »."""
    largeur, hauteur = vue
    prefixe = f"{protocole}_{largeur}x{hauteur}"
    page = nouvelle_page(largeur, hauteur)
    verifier_mise_en_page(page, f"{prefixe}_1_formulaire")
    nv.remplir_patient(page, protocole, patient(f"Parcours{largeur}"))
    assert nv.orientation(page) == "", "orientation affichée avant toute réponse"

    taps = 1  # « Commencer le triage »
    for i, groupe in enumerate(PARCOURS[protocole]):
        assert nv.groupe_courant(page) == groupe, f"groupe ouvert : {nv.groupe_courant(page)}, attendu {groupe}"
        assert nv.orientation(page) == "", f"orientation avant la fin du groupe {groupe}"
        if groupe == "mecanisme":
            assert page.locator(f".st-key-aucun_{groupe}").count() == 0, "« Aucun » sur un fait d'éligibilité"
            nv.repondre(page, "mecanisme_torsion", "Oui")
            taps += 1
        elif groupe == "ottawa":
            qs = questions(protocole, "ottawa")
            affichees = [q for q in qs if page.locator(f".st-key-q_{q}").count()]
            assert affichees == ["ottawa_douleur_malleolaire", "ottawa_douleur_medio_pied"], affichees
            verifier_mise_en_page(page, f"{prefixe}_3_ottawa")
            nv.repondre(page, "ottawa_douleur_malleolaire", "Non")
            assert nv.groupe_courant(page) == "ottawa"
            assert nv.reponse_affichee(page, "ottawa_douleur_malleolaire") == "Non"
            nv.repondre(page, "ottawa_douleur_medio_pied", "Non")
            taps += 2
        else:
            nv.taper(page, f".st-key-aucun_{groupe} button")
            taps += 1
        if i == 0:
            verifier_mise_en_page(page, f"{prefixe}_2_marche")

    assert nv.groupe_courant(page) is None
    assert page.locator(".st-key-finalisation").is_visible()
    assert nv.orientation(page) == "protocole"
    # Scrolled down to the last question and the finalisation: the card's orientation is still in view.
    page.locator(".st-key-finaliser").scroll_into_view_if_needed()
    page.locator(f".st-key-ouvrir_{PARCOURS[protocole][-1]}").scroll_into_view_if_needed()
    page.locator(".st-key-finaliser").scroll_into_view_if_needed()
    position = nv.carte_dans_la_fenetre(page)
    assert position["haut"] >= 0 and position["bas"] <= position["fenetre"], f"carte hors de la fenêtre : {position}"
    verifier_mise_en_page(page, f"{prefixe}_4_avant_finalisation")

    nv.taper(page, ".st-key-finaliser button", attendu=".st-key-amender button")
    taps += 1
    assert nv.orientation(page) == "protocole"
    assert page.get_by_text("finalisé", exact=False).first.is_visible()
    assert page.locator(".st-key-finaliser").count() == 0
    assert page.locator(".st-key-amender button").is_visible()
    verifier_mise_en_page(page, f"{prefixe}_5_final")
    assert taps <= 12, f"{taps} taps après les données du patient (cible ≤ 12)"


def test_rechargement_reprend_les_reponses(nouvelle_page):
    """A reload mid-way shows the same triage and answers; the URL holds the opaque id and nothing else."""
    protocole = "lombalgie_aigue"
    p = patient("Rechargement")
    page = nouvelle_page(820, 1180)
    tid = nv.remplir_patient(page, protocole, p)

    url = page.url
    parties = urllib.parse.urlsplit(url)
    assert urllib.parse.parse_qs(parties.query) == {"triage": [tid]}
    assert nv.ID_TRIAGE.fullmatch(tid)
    texte_url = urllib.parse.unquote(url).lower()
    for secret in (p.nom, p.prenom, p.naissance.isoformat(), p.naissance.strftime("%d/%m/%Y"),
                   p.naissance.strftime("%d%m%Y"), p.naissance.strftime("%Y%m%d")):
        assert secret.lower() not in texte_url, f"« {secret} » dans l'URL {url}"

    nv.taper(page, ".st-key-aucun_neurologique button")
    nv.taper(page, ".st-key-aucun_douleur button")
    premiere, *autres = questions(protocole, "signes_generaux")
    nv.repondre(page, premiere, "Oui")
    orientation_avant = nv.orientation(page)
    nv.capturer(page, f"{protocole}_820x1180_rechargement_1_avant")

    page.reload()
    nv.attendre_fin(page, 0, 30_000)
    # A reload is a new session: the gate asks who is there (nothing of the patient shows), then resumes.
    assert page.locator(".st-key-se_connecter").count() == 1
    assert patient_nom_absent(page)
    nv.connecter_si_besoin(page)
    page.wait_for_url(url)  # the triage's own page again
    nv.attendre_fin(page, 0)
    assert nv.groupe_courant(page) == "signes_generaux"
    assert nv.reponse_affichee(page, premiere) == "Oui"
    assert [nv.reponse_affichee(page, q) for q in autres] == [None] * len(autres)
    assert nv.orientation(page) == orientation_avant
    assert page.get_by_text("2 groupe(s) sur 5 complet(s)").is_visible()
    n = len(questions(protocole, "neurologique"))
    assert page.locator(".st-key-ouvrir_neurologique button").inner_text().strip().endswith(f"{n}/{n}")
    verifier_mise_en_page(page, f"{protocole}_820x1180_rechargement_2_apres")

    # A closed group reopens with its stored answers, then « Continuer » goes back to the walk.
    nv.taper(page, ".st-key-ouvrir_neurologique button", attendu=".st-key-groupe_neurologique")
    assert nv.groupe_courant(page) == "neurologique"
    assert [nv.reponse_affichee(page, q) for q in questions(protocole, "neurologique")] == ["Non"] * n
    verifier_mise_en_page(page, f"{protocole}_820x1180_rechargement_3_groupe_rouvert")
    nv.taper(page, ".st-key-continuer_neurologique button")
    assert nv.groupe_courant(page) == "signes_generaux"

    # Another session (another tablet) opening the same link resumes the same triage.
    autre = nouvelle_page(1024, 768, f"/?triage={tid}")
    assert nv.groupe_courant(autre) == "signes_generaux"
    assert nv.reponse_affichee(autre, premiere) == "Oui"


@pytest.mark.parametrize(("protocole", "question", "vue"), [
    pytest.param("lombalgie_aigue", "rf_troubles_sphincteriens", (1024, 768), id="lombalgie-1024x768"),
    pytest.param("entorse_cheville", "rf_deformation", (820, 1180), id="cheville-820x1180"),
])
def test_signe_urgent_affiche_urgences_des_le_tap(nouvelle_page, protocole, question, vue):
    """One « Oui » on an urgent red flag: the banner and the « Urgences » card at once; the questions stay put."""
    largeur, hauteur = vue
    page = nouvelle_page(largeur, hauteur)
    nv.remplir_patient(page, protocole, patient("Urgence"))
    assert bandeau_urgence(page).count() == 0
    assert nv.orientation(page) == ""

    groupe_avant = nv.groupe_courant(page)
    # Playwright scrolls a target into view before tapping: do it first, so only the app could move it.
    page.locator(f".st-key-q_{question}").scroll_into_view_if_needed()
    y_avant = page.locator(f".st-key-q_{question}").bounding_box()["y"]
    nv.repondre(page, question, "Oui")
    assert nv.orientation(page) == "urgences"
    assert page.locator(nv.SEL_ORIENTATION).inner_text().startswith("Urgences")
    bandeau = bandeau_urgence(page)
    assert bandeau.is_visible()
    assert "URGENCES" in bandeau.inner_text()
    assert nv.groupe_courant(page) == groupe_avant
    # The banner is above the card; the question just tapped has not moved under the finger.
    assert bandeau.bounding_box()["y"] < page.locator(nv.SEL_ORIENTATION).bounding_box()["y"]
    assert abs(page.locator(f".st-key-q_{question}").bounding_box()["y"] - y_avant) < 2
    verifier_mise_en_page(page, f"{protocole}_{largeur}x{hauteur}_urgence")

    # A mistaken tap is corrected the same way, and the banner goes.
    nv.repondre(page, question, "Non")
    assert nv.orientation(page) == ""
    assert bandeau_urgence(page).count() == 0


def test_un_triage_fait_dans_la_page_se_telecharge_en_pdf(nouvelle_page, tmp_path):
    """Issue #5: a triage made in the page downloads as a PDF holding its orientation, motifs and sources."""
    import io

    from pypdf import PdfReader

    page = nouvelle_page(1024, 768)
    tid = nv.remplir_patient(page, "lombalgie_aigue", patient("Export"))
    nv.taper(page, ".st-key-ouvrir_signes_generaux button", attendu=".st-key-q_rf_fievre")
    nv.repondre(page, "rf_fievre", "Oui")
    assert nv.orientation(page) == "medecin_jour"
    # Issue #13: the note is saved as it is typed (no Enter, no leaving the field): a reload keeps it.
    note = f".st-key-note_{tid} textarea"
    depuis = nv.messages_recus(page)
    page.locator(note).press_sequentially("Revoir à J5 si fièvre persistante", delay=20)
    nv.attendre_fin(page, depuis)
    page.reload()
    nv.attendre_fin(page, 0, 30_000)
    nv.connecter_si_besoin(page)
    nv.attendre_fin(page, 0)
    assert page.locator(note).input_value() == "Revoir à J5 si fièvre persistante"
    nv.taper(page, ".st-key-finaliser button", attendu=".st-key-telecharger_pdf")
    # « Imprimer »: one tap opens the PDF in a new tab (from memory, no address on the server).
    with page.context.expect_page() as onglet:
        page.locator(".st-key-imprimer_pdf button").click()
    onglet.value.wait_for_url(re.compile(r"^blob:"), timeout=15_000)
    imprime = bytes(page.evaluate("async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer()))",
                                  onglet.value.url))
    assert imprime.startswith(b"%PDF")
    texte_imprime = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(imprime)).pages).split())
    assert "Revoir à J5 si fièvre persistante" in texte_imprime
    onglet.value.close()
    with page.expect_download() as telechargement:
        page.locator(".st-key-telecharger_pdf button, .st-key-telecharger_pdf a").first.click()
    assert telechargement.value.url.startswith("blob:")  # from the session's memory, not a /media address
    fichier = tmp_path / telechargement.value.suggested_filename
    telechargement.value.save_as(fichier)
    assert "Export" not in fichier.name and fichier.name.startswith("triage_lombalgie_aigue_")
    lecteur = PdfReader(io.BytesIO(fichier.read_bytes()))
    texte = " ".join(" ".join(p.extract_text() for p in lecteur.pages).split())
    m = moteur()
    orientations = {o.id: o.libelle for o in m.registre.commun.orientations}
    assert orientations["medecin_jour"] in texte
    (critere,) = [c for c in m.protocoles["lombalgie_aigue"].modele.criteres if c.question == "rf_fievre"]
    assert critere.libelle in texte
    assert " ".join(m.registre.sources[critere.source].titre.split()) in texte
    assert "Export" in texte  # the patient's name is in the document, not in its file name


# -- the episode of care (issue #12) ------------------------------------------------------------------------

def _triage_sans_signe(page, protocole: str) -> None:
    """Every group answered by its shortcut (torsion « oui »), then « Finaliser »."""
    for groupe in PARCOURS[protocole]:
        if groupe == "mecanisme":
            nv.repondre(page, "mecanisme_torsion", "Oui")
        elif groupe == "ottawa":
            for q in ("ottawa_douleur_malleolaire", "ottawa_douleur_medio_pied"):
                nv.repondre(page, q, "Non")
        else:
            nv.taper(page, f".st-key-aucun_{groupe} button")
    nv.taper(page, ".st-key-finaliser button", attendu=".st-key-amender button")


def _menu(page, titre: str, attendu: str) -> None:
    """Tap a page of the top menu (its text holds the icon's name too) and wait for ``attendu``."""
    avant = nv.messages_recus(page)
    page.locator('[data-testid="stTopNavLink"]', has_text=titre).first.tap()
    nv.attendre_fin(page, avant)
    page.locator(attendu).first.wait_for(state="visible")


def _compteurs(page) -> dict[str, str]:
    bloc = page.locator("div.compteurs").first
    return {k: bloc.get_attribute(f"data-{k}") or "" for k in ("seances", "restantes", "statut")}


# The episode panel's widgets (one panel on the pages these tests open; their keys end with the panel's key).
SEL_JOUR = '[class*="st-key-jour_"] input'
SEL_ACTE = '[class*="st-key-acte_"] button'
SEL_SEANCE = '[class*="st-key-seance_"] button'
SEL_CONFIRMATION = '[class*="st-key-confirmation_"]'


def _jour_acte(page, jour: date) -> None:
    """Type the act's date as the kiné does (its eight digits) and validate it with Enter: the panel redraws for that
    day. Nothing is sent when the field already holds that day."""
    champ = page.locator(SEL_JOUR)
    chiffres = jour.strftime("%d%m%Y")
    if champ.input_value() in (chiffres, jour.strftime("%d/%m/%Y")):
        return
    champ.fill(chiffres)
    avant = nv.messages_recus(page)
    champ.press("Enter")
    nv.attendre_fin(page, avant)
    assert page.locator(SEL_JOUR).input_value() == jour.strftime("%d/%m/%Y"), page.locator(SEL_JOUR).input_value()


def _acte_choisi(page) -> str:
    choisi = page.locator(f"{SEL_ACTE}[aria-checked='true']")
    return choisi.inner_text().strip() if choisi.count() else ""


def _choisir_acte(page, libelle: str) -> None:
    if _acte_choisi(page) != libelle:  # a tap on the chosen option would unselect it
        nv.taper(page, SEL_ACTE, libelle)
    assert _acte_choisi(page) == libelle


def _seance_du(page, jour: date, n: int) -> None:
    """« Enregistrer l'acte » for a session on ``jour`` (no confirmation asked): the panel then counts ``n``."""
    _jour_acte(page, jour)
    assert _acte_choisi(page) == "Séance"
    nv.taper(page, SEL_SEANCE)
    confirmation = page.locator(SEL_CONFIRMATION)
    assert confirmation.count() == 0, f"confirmation demandée le {jour} : {confirmation.inner_text()}"
    assert _compteurs(page)["seances"] == str(n), (jour, _compteurs(page), nv.erreurs_affichees(page))


def _actes_en_base(url_base: str, episode_id: str) -> list[tuple[str, date, str]]:
    """The episode's recorded acts as the store holds them: (act, day, route)."""
    from triage_app.services.application import Services

    with Services(url_base) as depot:
        e = depot.episodes.etat_episode(episode_id, date.today())
    return [(a.acte, a.date, a.voie) for a in e.actes]


def _episode_affiche(page) -> str:
    return page.locator("div.compteurs").first.get_attribute("data-episode") or ""


def test_episode_patient_retrouve_sans_accent_seances_reevaluation_puis_plafond(nouvelle_page, serveur):
    """1024×768: a protocol patient found again by a search typed without accents, three sessions by taps, the
    re-assessment; then an accès direct patient whose 8th session closes the episode towards the médecin.

    Rules v3: the consultation was 20 days ago (the re-assessment's window, J14 to J28, includes today) and each
    session has a day of its own after the day following the consultation (no confirmation asked)."""
    aujourd_hui = date.today()
    page = nouvelle_page(1024, 768)
    consultation = aujourd_hui - timedelta(days=20)
    suivi = nv.Patient(nom="Lefèbvre", prenom="Hélène", naissance=date(aujourd_hui.year - 41, 2, 3),
                       debut=consultation - timedelta(days=2))
    nv.remplir_patient(page, "lombalgie_aigue", suivi, consultation=consultation)
    _triage_sans_signe(page, "lombalgie_aigue")
    assert nv.orientation(page) == "protocole"

    _menu(page, "Patients", ".st-key-recherche_patient_fiche input")
    champ = page.locator(".st-key-recherche_patient_fiche input")
    champ.wait_for(state="visible")
    champ.press_sequentially("lefebvre hel", delay=40)  # no accent, no Enter: the list comes as one types
    resultat = page.locator('[class*="st-key-fiche_"] button', has_text="Lefèbvre Hélène")
    resultat.wait_for(state="visible", timeout=15_000)
    nv.attendre_fin(page, nv.messages_recus(page) - 1)
    nv.taper(page, '[class*="st-key-fiche_"] button', attendu="div.compteurs")
    avant = _compteurs(page)
    assert avant["seances"] == "0" and avant["statut"] == "ouvert" and int(avant["restantes"]) > 3, avant
    # The finalisation recorded the consultation 1 on the consultation's day (it is no session).
    assert page.get_by_text(f"{consultation:%d/%m/%Y} Consultation protocole 1", exact=False).first.is_visible()
    for n in (1, 2, 3):
        _seance_du(page, consultation + timedelta(days=1 + n), n)
    nv.taper(page, '[class*="st-key-ouvrir_revue_"] button', attendu='[class*="st-key-evolution_"] button')
    nv.taper(page, '[class*="st-key-evolution_"] button', "Amélioration")
    nv.taper(page, '[class*="st-key-suite_"] button', "Poursuivre la rééducation")
    _jour_acte(page, aujourd_hui)  # J20: inside the window
    nv.taper(page, '[class*="st-key-reevaluation_"] button')
    assert page.locator(SEL_CONFIRMATION).count() == 0, page.locator(SEL_CONFIRMATION).inner_text()
    assert page.get_by_text("Réévaluation enregistrée", exact=False).first.is_visible()
    apres = _compteurs(page)
    assert apres == {"seances": "3", "restantes": str(int(avant["restantes"]) - 3), "statut": "ouvert"}, apres
    assert page.get_by_text("faite le", exact=False).first.is_visible()
    verifier_mise_en_page_episode(page, "episode_1024x768_1_reevaluation")

    # Accès direct (the DMP sharing refused: outside the protocol): the session reaching the cap closes it.
    _menu(page, "Nouveau triage", ".st-key-commencer button")
    consultation = aujourd_hui - timedelta(days=10)
    direct = nv.Patient(nom="Directe", prenom="Inès", naissance=date(aujourd_hui.year - 35, 5, 6),
                        debut=consultation - timedelta(days=2))
    nv.remplir_patient(page, "lombalgie_aigue", direct, partage_dmp=False, consultation=consultation)
    _triage_sans_signe(page, "lombalgie_aigue")
    assert nv.orientation(page) == "acces_direct"
    page.locator("div.compteurs").wait_for()
    plafond = int(_compteurs(page)["restantes"])
    assert plafond == 8, _compteurs(page)
    assert _acte_choisi(page) == "Bilan (BDK)", "hors protocole, le premier acte proposé est le bilan"
    _choisir_acte(page, "Séance")
    for n in range(1, plafond + 1):
        _seance_du(page, consultation + timedelta(days=n), n)
    assert _compteurs(page)["statut"] == "clos"
    alerte = page.locator('[data-testid="stAlertContentError"]', has_text="adressé au médecin")
    assert alerte.first.is_visible()
    assert page.locator(SEL_SEANCE).count() == 0
    verifier_mise_en_page_episode(page, "episode_1024x768_2_plafond")


def _lignes(page, selecteur: str) -> list[str]:
    """The counters' lines of a block (its child ``div``s but the remarks), as shown."""
    return page.evaluate("""(sel) => { const b = document.querySelector(sel);
                                       return b ? [...b.children].filter(d => d.tagName === 'DIV'
                                                                              && !d.classList.contains('remarque'))
                                                                 .map(d => d.innerText.replace(/\\s+/g, ' ').trim())
                                                : null; }""", selecteur)


def test_episode_double_tap_une_seance_puis_plafond_carte_et_panneau_d_accord(nouvelle_page, serveur):
    """1024×768, rules v3 (issue #27): two taps 150 ms apart on « Enregistrer l'acte » record one session; after the
    8th accès direct session (each on its own past day) the orientation card and the episode panel show the same
    current counters, the episode closed."""
    aujourd_hui = date.today()
    page = nouvelle_page(1024, 768)
    consultation = aujourd_hui - timedelta(days=12)
    direct = nv.Patient(nom=f"Double{next(_NUMEROS)}", prenom="Camille", naissance=date(aujourd_hui.year - 30, 3, 9),
                        debut=consultation - timedelta(days=1))
    nv.remplir_patient(page, "lombalgie_aigue", direct, partage_dmp=False, consultation=consultation)
    _triage_sans_signe(page, "lombalgie_aigue")
    assert nv.orientation(page) == "acces_direct"
    page.locator("div.compteurs").wait_for()
    episode_id = _episode_affiche(page)
    assert _compteurs(page) == {"seances": "0", "restantes": "8", "statut": "ouvert"}, _compteurs(page)
    assert _actes_en_base(serveur.url_base, episode_id) == []  # outside the protocol, no act at the finalisation
    assert _acte_choisi(page) == "Bilan (BDK)"
    _choisir_acte(page, "Séance")

    # (a) A double tap: the same finger twice, 150 ms apart.
    premier = consultation + timedelta(days=1)
    _jour_acte(page, premier)
    bouton = page.locator(SEL_SEANCE)
    bouton.wait_for(state="visible")
    bouton.tap()
    page.wait_for_timeout(150)
    avant_second = nv.messages_recus(page)
    bouton.tap()
    nv.attendre_fin(page, avant_second)
    nv.attendre_fin(page, 0)  # and whatever run the second tap started is over too
    assert _compteurs(page)["seances"] == "1", (_compteurs(page), nv.erreurs_affichees(page))
    assert _actes_en_base(serveur.url_base, episode_id) == [("seance", premier, "ngap_acces_direct")]
    confirmation = page.locator(SEL_CONFIRMATION)
    if confirmation.count():  # the second tap reached a panel already redrawn: a second session that day is asked
        assert "déjà enregistré" in confirmation.inner_text(), confirmation.inner_text()
        nv.taper(page, '[class*="st-key-renoncer_"] button')
        assert page.get_by_text("Acte non enregistré", exact=False).first.is_visible()
    assert _compteurs(page)["seances"] == "1"
    assert len(_actes_en_base(serveur.url_base, episode_id)) == 1

    # (b) Sessions 2 to 8, each on its own day: the 8th reaches the cap and closes the episode.
    for n in range(2, 9):
        _seance_du(page, consultation + timedelta(days=n), n)
    panneau = _compteurs(page)
    assert panneau["seances"] == "8" and panneau["statut"] == "clos", panneau
    assert len(_actes_en_base(serveur.url_base, episode_id)) == 8
    carte = page.locator(".st-key-carte_orientation")
    assert "(au jour du triage)" in carte.inner_text()
    actuels = carte.locator("div.compteurs-actuels")
    assert actuels.count() == 1, carte.inner_text()
    # The card names the day the panel counts up to: the last act's typed date.
    jour_saisi = (consultation + timedelta(days=8)).strftime("%d/%m/%Y")
    assert actuels.inner_text().startswith(f"Au {jour_saisi}, dans l’épisode :"), actuels.inner_text()
    lignes_carte = _lignes(page, ".st-key-carte_orientation div.compteurs-actuels")
    lignes_panneau = _lignes(page, "div.compteurs")
    assert lignes_carte == lignes_panneau, (lignes_carte, lignes_panneau)
    assert "Séances dans la série : 8" in lignes_carte, lignes_carte
    assert any(ligne.startswith("Restantes : 0") for ligne in lignes_carte), lignes_carte
    verifier_mise_en_page_episode(page, "episode_1024x768_3_carte_et_panneau")


def test_reevaluation_hors_fenetre_demande_confirmation(nouvelle_page, serveur):
    """1024×768, rules v3 (issue #27): a re-assessment 10 days after the consultation 1 (its window: J14 to J28) asks
    for confirmation naming its window; nothing is recorded until « Enregistrer quand même », and then without its
    forfait (route « aucune »)."""
    aujourd_hui = date.today()
    page = nouvelle_page(1024, 768)
    consultation = aujourd_hui - timedelta(days=10)
    p = nv.Patient(nom=f"Fenetre{next(_NUMEROS)}", prenom="Camille", naissance=date(aujourd_hui.year - 52, 8, 21),
                   debut=consultation - timedelta(days=3))
    nv.remplir_patient(page, "lombalgie_aigue", p, consultation=consultation)
    _triage_sans_signe(page, "lombalgie_aigue")
    assert nv.orientation(page) == "protocole"
    page.locator("div.compteurs").wait_for()
    episode_id = _episode_affiche(page)
    initiale = [("consultation_protocole_1", consultation, "forfait_protocole")]
    assert _actes_en_base(serveur.url_base, episode_id) == initiale
    avant = _compteurs(page)

    nv.taper(page, '[class*="st-key-ouvrir_revue_"] button', attendu='[class*="st-key-evolution_"] button')
    nv.taper(page, '[class*="st-key-evolution_"] button', "Amélioration")
    nv.taper(page, '[class*="st-key-suite_"] button', "Poursuivre la rééducation")
    assert page.locator(SEL_JOUR).input_value() == aujourd_hui.strftime("%d/%m/%Y")  # J10: before the window
    du, au = consultation + timedelta(days=14), consultation + timedelta(days=28)
    for renoncer in (True, False):
        nv.taper(page, '[class*="st-key-reevaluation_"] button', attendu=SEL_CONFIRMATION)
        texte = page.locator(SEL_CONFIRMATION).inner_text()
        assert "hors de sa fenêtre" in texte and f"du {du:%d/%m/%Y} au {au:%d/%m/%Y}" in texte, texte
        assert page.locator(SEL_SEANCE).count() == 0  # the question replaces « Enregistrer l'acte »
        assert _actes_en_base(serveur.url_base, episode_id) == initiale  # nothing written yet
        assert _compteurs(page) == avant
        if renoncer:
            verifier_mise_en_page_episode(page, "episode_1024x768_4_reevaluation_hors_fenetre")
            nv.taper(page, '[class*="st-key-renoncer_"] button')
            assert page.get_by_text("Acte non enregistré", exact=False).first.is_visible()
            assert page.locator(SEL_CONFIRMATION).count() == 0
            assert _actes_en_base(serveur.url_base, episode_id) == initiale
    nv.taper(page, '[class*="st-key-confirmer_"] button')
    assert page.locator(SEL_CONFIRMATION).count() == 0
    assert page.get_by_text("Réévaluation enregistrée", exact=False).first.is_visible()
    reevaluation = ("consultation_protocole_2", aujourd_hui, "aucune")  # stored without its forfait
    assert _actes_en_base(serveur.url_base, episode_id) == [*initiale, reevaluation]
    assert page.get_by_text(f"faite le {aujourd_hui:%d/%m/%Y}", exact=False).first.is_visible()
    assert page.get_by_text("Consultation protocole 2 (réévaluation) (sans prise en charge)",
                            exact=False).first.is_visible()
    assert _compteurs(page)["seances"] == avant["seances"]


def verifier_mise_en_page_episode(page, nom: str) -> None:
    """Screenshot and no horizontal scrolling on the episode's panel."""
    nv.capturer(page, nom)
    m = nv.mesurer_mise_en_page(page)
    assert m["largeur_document"] <= m["largeur_fenetre"], f"{nom} : défilement horizontal de la page ({m})"
    assert not m["trop_larges"], f"{nom} : éléments coupés au bord droit : {m['trop_larges']}"


def _un_triage_finalise(url_base: str) -> None:
    """A final triage of this year per protocol in the server's database (the dashboard has something to draw)."""
    from tests.conftest import cas_base
    from triage_app.services.application import Services

    with Services(url_base) as depot:
        for protocole in ("lombalgie_aigue", "entorse_cheville"):
            pid = depot.patients.creer_patient(nom="Tableau", prenom="Bord", date_naissance=date(1986, 1, 15), sexe="F",
                                               acteur="test")
            eid = depot.episodes.creer_episode(patient_id=pid, protocole=protocole, acteur="test",
                                               date_debut=date.today() - timedelta(days=2))
            tid = depot.triages.creer_triage(episode_id=eid, date_consultation=date.today(), acteur="test")
            for q, v in cas_base(protocole)["reponses"].items():
                depot.triages.enregistrer_reponse(tid, q, v, acteur="test")
            depot.triages.finaliser(tid, acteur="test")


@pytest.mark.parametrize("vue", VUES)
def test_chaque_page_en_francais_menu_entier_et_ligne_qui_ouvre(navigateur, nouvelle_page, serveur, vue):
    """Login page, then every page of the menu as the coordinator (who sees them all): French only, <html lang="fr">,
    the whole menu visible without « N more »; in « Triages » one tap on a row opens that triage."""
    largeur, hauteur = vue
    prefixe = f"pages_{largeur}x{hauteur}"
    contexte = nv.nouveau_contexte(navigateur, largeur, hauteur)
    try:
        porte = contexte.new_page()
        porte.goto(serveur.url + "/")
        nv.attendre_fin(porte, 0, 30_000)
        porte.locator(".st-key-se_connecter").wait_for()
        nv.capturer(porte, f"{prefixe}_0_connexion")
        nv.verifier_francais(porte, f"{prefixe}_0_connexion")
    finally:
        contexte.close()
    kine = nouvelle_page(largeur, hauteur)
    tid = nv.remplir_patient(kine, "entorse_cheville", patient(f"Ligne{largeur}"))
    assert urllib.parse.urlparse(kine.url).path.endswith("/triage"), kine.url
    nv.repondre(kine, "rf_deformation", "Oui")  # a red flag on the draft: the list must say what its card says
    kine.locator(f'{nv.SEL_ORIENTATION}[data-orientation="urgences"]').wait_for()
    # « Nouveau triage » in the menu always starts a new one (the open draft stays listed in « Triages »).
    nv.taper(kine, '[data-testid="stTopNavLink"]:has-text("Nouveau triage")', attendu=".st-key-commencer button")
    assert "triage=" not in kine.url and kine.locator(".st-key-patient_nom input").input_value() == ""
    _un_triage_finalise(serveur.url_base)  # so that the dashboard draws its charts (and their menus)
    page = nouvelle_page(largeur, hauteur, "/", nv.COORDINATEUR)
    liens = page.locator('[data-testid="stTopNavLink"]')
    liens.first.wait_for()  # the menu is drawn by the run after the login: read it once it is there
    titres = [t.strip() for t in liens.all_inner_texts()]
    assert {"Nouveau triage", "Patients", "Triages", "Protocoles", "Tableau de bord", "Structure", "Comptes"} <= set(
        titres), titres
    for lien in liens.all():
        assert lien.is_visible(), f"{prefixe} : lien du menu caché : {lien.inner_text()}"
    for chemin in ("patients", "protocoles", "tableau", "structure", "comptes", "compte", "triages"):
        nv.taper(page, f'[data-testid="stTopNavLink"][href$="/{chemin}"]')
        page.wait_for_url(re.compile(rf"/{chemin}(\?|$)"))
        if chemin == "tableau":  # the charts fit the tablet's width (no horizontal scrolling, nothing cut)
            graphique = page.locator('[data-testid="stVegaLiteChart"]:visible').first
            graphique.wait_for(timeout=30_000)
            graphique.hover()  # its toolbar (« Download as PNG »…)
            m = nv.mesurer_mise_en_page(page)
            assert m["largeur_document"] <= m["largeur_fenetre"] and not m["trop_larges"], (chemin, m)
        if chemin == "triages":
            verifier_mise_en_page(page, f"{prefixe}_{chemin}")
        nv.capturer(page, f"{prefixe}_{chemin}")
        nv.verifier_francais(page, f"{prefixe}_{chemin}")
    ligne = page.locator(f".st-key-ligne_{tid} button")
    assert ligne.is_visible()
    assert "Urgences (provisoire)" in ligne.inner_text()  # issue #29: not « sans orientation »
    nv.taper(page, f".st-key-ligne_{tid} button", attendu=nv.SEL_ORIENTATION)
    assert nv.triage_de_url(page.url) == tid
    nv.capturer(page, f"{prefixe}_triage_ouvert_par_la_ligne")
    nv.verifier_francais(page, f"{prefixe}_triage_ouvert_par_la_ligne")


@pytest.mark.parametrize("taille", [(1024, 768), (820, 1180)])
def test_les_dates_ouvrent_le_pave_numerique_et_s_ecrivent_jj_mm_aaaa(nouvelle_page, taille):
    """Issue #29: a date field opens the digit keypad (``inputmode=numeric``) and « 07122026 » typed digit by digit
    reads 07/12/2026 in the field; erasing is left alone; the start form without its framework answers says which."""
    page = nouvelle_page(*taille)
    champ = page.locator(".st-key-date_debut input")
    champ.wait_for()
    for cle in ("patient_naissance", "date_debut", "date_consultation"):
        assert page.locator(f".st-key-{cle} input").get_attribute("inputmode") == "numeric", cle
    champ.click()
    champ.press_sequentially("07122026")
    assert champ.input_value() == "07/12/2026"
    champ.press("Backspace")
    champ.press("Backspace")
    assert champ.input_value() == "07/12/20"
    page.locator(".st-key-protocole button", has_text=nv.TITRES["lombalgie_aigue"]).tap()
    page.locator(".st-key-patient_nom input").fill("Clavier")
    page.locator(".st-key-patient_prenom input").fill("Léa")
    page.locator(".st-key-patient_naissance input").press_sequentially("14061986")
    champ.fill("")
    champ.press_sequentially("01122026")
    avant = nv.messages_recus(page)
    page.locator(".st-key-commencer button").tap()
    nv.attendre_fin(page, avant)
    erreur = page.locator('[data-testid="stAlertContentError"]').first
    erreur.wait_for()
    texte = erreur.inner_text()
    assert "le médecin délégant est le médecin traitant" in texte and "partage dans le DMP" in texte
    assert "triage=" not in page.url


@pytest.mark.parametrize("taille", [(1024, 768), (820, 1180)])
def test_un_formulaire_refuse_montre_sa_premiere_erreur(nouvelle_page, taille):
    """Issue #29: « Commencer » tapped at the bottom of the form with the name missing: the page scrolls back to the
    name, outlined and marked « à corriger » (with every other field in error), the message above the form."""
    page = nouvelle_page(*taille)
    page.locator(".st-key-commencer button").wait_for()
    page.locator(".st-key-protocole button", has_text=nv.TITRES["lombalgie_aigue"]).tap()
    page.locator(".st-key-patient_prenom input").fill("Léa")
    page.locator(".st-key-patient_naissance input").press_sequentially("14061986")
    page.locator(".st-key-date_debut input").press_sequentially("01122026")
    for cle in ("medecin_delegant", "medecin_joignable", "consentement"):
        page.locator(f".st-key-{cle} button", has_text="Oui").tap()
    bouton = page.locator(".st-key-commencer button")
    bouton.scroll_into_view_if_needed()
    avant = nv.messages_recus(page)
    bouton.tap()
    nv.attendre_fin(page, avant)
    page.locator(".st-key-erreurs_depart [data-testid='stAlertContentError']").wait_for()
    page.wait_for_function("""() => { const r = document.querySelector('.st-key-patient_nom').getBoundingClientRect();
                                      return r.top >= 0 && r.bottom <= window.innerHeight; }""", timeout=10_000)
    marque = """(cle) => getComputedStyle(document.querySelector(`.st-key-${cle} [data-testid='stWidgetLabel'] p`),
                                       '::after').content"""
    assert "à corriger" in page.evaluate(marque, "patient_nom")
    assert "à corriger" in page.evaluate(marque, "partage_dmp")
    assert page.evaluate(marque, "patient_prenom") in ("none", "normal", "")
    contour = """(cle) => getComputedStyle(
        document.querySelector(`.st-key-${cle} [data-testid='stTextInputRootElement']`)).boxShadow"""
    assert "176, 0, 32" in page.evaluate(contour, "patient_nom")  # outlined in the card's red
    assert "176, 0, 32" not in page.evaluate(contour, "patient_prenom")
    assert "triage=" not in page.url
    nv.capturer(page, f"formulaire_refuse_{taille[0]}x{taille[1]}")


def test_un_lien_vers_une_page_y_mene_apres_la_connexion(nouvelle_page):
    """A bookmark to « Patients » opened in a new browser session: the login form, then that page, at that URL;
    a page the role lacks (a kiné's link to « Comptes ») leads to the role's first page, with no error."""
    page = nouvelle_page(1180, 820, "/patients")
    page.get_by_text("Patients", exact=True).first.wait_for()
    assert page.locator("h3", has_text="Patients").count() == 1
    assert urllib.parse.urlparse(page.url).path.endswith("/patients"), page.url
    page = nouvelle_page(1180, 820, "/comptes")
    page.locator(".st-key-commencer button").wait_for()
    assert page.locator("h3", has_text="Nouveau triage").count() == 1
    assert not page.get_by_text("Page not found").count() and not page.get_by_text("introuvable").count()


# -- patient text shown as typed (issue #16) ----------------------------------------------------------------
HOSTILE_NOM = "**Gras** # Titre"
HOSTILE_PRENOM = "![i](http://127.0.0.9:9/x.png)"
HOSTILE_NOTE = "| a | b |\n|---|---|\n{{7*7}} $x^2$ <b>gras</b> :smile: www.exemple.fr\n# pas un titre"


def test_le_texte_saisi_s_affiche_tel_quel(nouvelle_page, serveur):
    """Markdown, HTML, LaTeX, emoji codes and links typed in a name or a note are shown literally, and the page
    fetches nothing outside the server (the image of « ![i](http://…) » is never requested)."""
    from tests.conftest import cas_base
    from triage_app.services.application import Services

    with Services(serveur.url_base) as depot:
        pid = depot.patients.creer_patient(nom=HOSTILE_NOM, prenom=HOSTILE_PRENOM, date_naissance=date(1986, 1, 15),
                                           sexe="M", acteur="test")
        eid = depot.episodes.creer_episode(patient_id=pid, protocole="entorse_cheville", acteur="test",
                                           date_debut=date.today() - timedelta(days=1))
        tid = depot.triages.creer_triage(episode_id=eid, date_consultation=date.today(), acteur="test")
        for q, v in cas_base("entorse_cheville")["reponses"].items():
            depot.triages.enregistrer_reponse(tid, q, v, acteur="test")
        depot.triages.finaliser(tid, acteur="test", note=HOSTILE_NOTE)
    hote = urllib.parse.urlsplit(serveur.url).netloc
    ailleurs: list[str] = []
    for chemin in (f"/?triage={tid}", "/triages"):
        page = nouvelle_page(1024, 768, chemin)
        if chemin == "/triages":  # after the login the page is « Nouveau triage »: go to the list by the menu
            nv.taper(page, '[data-testid="stTopNavLink"][href$="/triages"]', attendu=f".st-key-ligne_{tid}")
        page.locator(".st-key-exports" if "triage=" in chemin else f".st-key-ligne_{tid}").wait_for(timeout=30_000)
        nv.attendre_fin(page, 0)
        # Every resource the page loaded since it opened (images included): none from outside the server.
        ailleurs += [u for u in page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
                     if urllib.parse.urlsplit(u).netloc not in (hote, "") and not u.startswith(("data:", "blob:"))]
        corps = page.locator('[data-testid="stMain"]')
        texte = corps.inner_text().replace("\u2060", "")  # the invisible joiner that keeps a URL from linking
        assert f"{HOSTILE_NOM} {HOSTILE_PRENOM}" in texte, chemin
        if "triage=" in chemin:
            for ligne in HOSTILE_NOTE.splitlines():
                assert ligne in texte, (chemin, ligne)
        # Nothing was formatted: no bold, heading, table, image, link or formula made of the typed text.
        for balise in ("img", "table", "strong:has-text('Gras')", "b:has-text('gras')", "a[href*='exemple']",
                       "a[href*='127.0.0.9']", ".katex", "h1:has-text('Titre')", "h1:has-text('pas un titre')"):
            assert corps.locator(balise).count() == 0, (chemin, balise)
        nv.capturer(page, f"texte_tel_quel_{'triage' if 'triage=' in chemin else 'triages'}")
    assert not ailleurs, ailleurs


# -- the patient's questionnaire (issue #30) ------------------------------------------------------------

_MENU = ("Nouveau triage", "Patients", "Triages", "Protocoles", "Mon compte")


def _rien_de_l_application(page, nom: str) -> None:
    """Nothing of the app reachable: no menu item, no patient name, no triage control."""
    texte = page.inner_text("body")
    assert not [m for m in _MENU if m in texte], texte[:400]
    assert page.locator("[data-testid='stNavigation'], [data-testid='stSidebarNav'] a").count() == 0
    assert page.locator(".st-key-finaliser, [class*='st-key-aucun_'], .st-key-commencer").count() == 0
    assert nom not in texte


def _repondre_questionnaire(page, indice: int, valeur: int) -> None:
    nv.taper(page, f".st-key-questionnaire_{indice}_{valeur} button")


def test_questionnaire_patient_sur_la_tablette_820x1180(nouvelle_page):
    """The must-show: the kiné hands the tablet over from a draft; the patient answers pain and EIFEL by taps,
    tries to leave (menu, back, reload) and reaches nothing else; a reload opens on the login and the answers
    stay; reopened, it resumes; at the end the page locks until the kiné's password; the walk then shows the pain
    score and the STarT Back answers « déclaré par le patient »."""
    p = patient("Tablette")
    page = nouvelle_page(820, 1180)
    tid = nv.remplir_patient(page, "lombalgie_aigue", p)
    url_triage = page.url
    bouton = f".st-key-questionnaire_triage_{tid} button"
    nv.taper(page, bouton, attendu=".st-key-questionnaire_0_6")
    _rien_de_l_application(page, p.nom)
    nv.verifier_francais(page, "questionnaire_820x1180_1_debut")
    nv.capturer(page, "questionnaire_820x1180_1_debut")
    _repondre_questionnaire(page, 0, 6)
    for i in range(1, 6):
        _repondre_questionnaire(page, i, 1)
    # Back: the browser's history leads nowhere else.
    avant = nv.messages_recus(page)
    page.go_back()
    with contextlib.suppress(Exception):
        nv.attendre_fin(page, avant, 5_000)
    _rien_de_l_application(page, p.nom)
    # Reload: a new session, on the login; nothing of the patient nor of the app.
    page.reload()
    nv.attendre_fin(page, 0, 30_000)
    assert page.locator(".st-key-se_connecter").count() == 1
    _rien_de_l_application(page, p.nom)
    # The kiné signs in, back on the triage; the questionnaire resumes at item 6 of EIFEL.
    nv.connecter_si_besoin(page)
    page.wait_for_url(url_triage)
    nv.attendre_fin(page, 0)
    nv.taper(page, bouton, attendu=".st-key-questionnaire_6_1")
    assert page.get_by_text("Question 7 sur 34").count() >= 1
    for i in range(6, 25):
        _repondre_questionnaire(page, i, 1 if i <= 14 else 0)
    for i, valeur in enumerate([1, 0, 1, 1, 0, 1, 0, 0, 3], start=25):
        _repondre_questionnaire(page, i, valeur)
    page.get_by_text("Rendez la tablette au kinésithérapeute").wait_for()
    _rien_de_l_application(page, p.nom)
    nv.verifier_francais(page, "questionnaire_820x1180_2_verrou")
    nv.capturer(page, "questionnaire_820x1180_2_verrou")
    page.locator(".st-key-reprise_mdp input").fill(nv.MOT_DE_PASSE)
    nv.taper(page, ".st-key-reprendre_tablette button")
    page.get_by_text("Déclaré par le patient").first.wait_for()
    assert "douleur 6/10" in page.inner_text("body")
    nv.taper(page, ".st-key-ouvrir_startback button", attendu=".st-key-groupe_startback")
    assert page.get_by_text("Déclaré par le patient : D'accord").count() >= 1
    assert page.get_by_text("Déclaré par le patient : Beaucoup").count() == 1
    nv.capturer(page, "questionnaire_820x1180_3_triage")
