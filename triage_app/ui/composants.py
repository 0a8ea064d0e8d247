"""Pieces shared by the pages: the tablet stylesheet, the orientation card and the as-you-type search field."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from triage_app.presentation import CONSEIL_KINE, FACTURATION_DETAIL, PROTOCOLE_NON_APPLICABLE, Carte, VueMotif
from triage_app.ui.valeurs import texte as en_texte

# Touch targets of at least 44 px, no horizontal scrolling, wrapped labels (tablet at 820 and 1024 px).
# The orientation card's colours by the orientation's rank (0: urgences, 1: médecin dans la journée; the others
# blue), also used by the dashboard's charts (issue #29). The style below writes the same values.
COULEURS_RANG = {0: "#b00020", 1: "#8a4b00"}
_STYLE = """
<style>
.stApp button, .stApp [role="radio"], .stApp [data-baseweb="select"] > div, .stApp input {
  min-height: 44px;
}
.stApp button { min-width: 44px; }
.stApp [data-testid="stCheckbox"] label, .stApp summary, .stApp [data-testid="stTopNavLink"] {
  min-height: 44px; display: flex; align-items: center;
}
.stApp [data-testid="stButtonGroup"] button { min-width: 64px; }
.stApp p, .stApp label, .stApp li { overflow-wrap: anywhere; }
.main .block-container, [data-testid="stMainBlockContainer"] {
  max-width: 100%; padding-left: 1rem; padding-right: 1rem; padding-top: 3.5rem; padding-bottom: 1.5rem;
}
html, body, .stApp { overflow-x: hidden; }
.badge { display: inline-block; padding: 0 .45em; border-radius: .6em; font-size: .8em; font-weight: 600;
  background: #fff3cd; color: #5c4400; border: 1px solid #c9a227; white-space: nowrap; }
.badge.primaire { background: #e3f4e6; color: #14532d; border-color: #3a8a55; }
.orientation { border-radius: .5rem; padding: .6rem .9rem; margin-bottom: .5rem; color: #fff;
  background: #0b5394; }
.orientation.rang-0 { background: #b00020; }
.orientation.rang-1 { background: #8a4b00; }
.orientation.aucune { background: #eef3f8; color: #1a1a1a; border: 1px dashed #6b7785; }
.orientation .titre { font-size: 1.35em; font-weight: 700; }
.non-applicable { border-left: 4px solid #c9a227; background: #fffbea; padding: .35rem .6rem; margin: .3rem 0;
  border-radius: .3rem; }
.conseil-kine { border-left: 4px solid #0b5394; background: #eef3f8; padding: .35rem .6rem; margin: .3rem 0;
  border-radius: .3rem; }
.radiographie { border: 2px solid #8a4b00; background: #fff4e5; padding: .4rem .6rem; border-radius: .4rem; }
.radiographie .titre { font-weight: 700; font-size: 1.08em; color: #5c3200; }
.radiographie ul { margin: .1rem 0 .2rem 1.1rem; padding: 0; }
.a-faire { border-left: 4px solid #1f6f43; background: #eef8f1; padding: .3rem .6rem; border-radius: .3rem; }
/* The card stays in view while the questions scroll (1024x768 and 820x1180): its column is sticky under the
   top menu and never taller than the window (it scrolls inside itself if it must). */
.stApp [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] .st-key-carte_orientation) {
  align-items: flex-start; }
.stApp [data-testid="stColumn"]:has(.st-key-carte_orientation) {
  position: sticky; top: 3.75rem; max-height: calc(100vh - 5.5rem); overflow-y: auto; }
.st-key-carte_orientation [data-testid="stVerticalBlock"] { gap: .45rem; }
/* Answer choices never break inside a word (« Extrêmement »): the choices wrap as whole buttons instead. */
.stApp [data-testid="stButtonGroup"] > div { flex-wrap: wrap; }
.stApp [data-testid="stButtonGroup"] button p { overflow-wrap: normal; word-break: keep-all; white-space: nowrap; }
/* The top menu fits 820 px: text only, tighter padding (no « N more » hiding pages). */
.stApp [data-testid="stTopNavLink"] { padding-left: .3rem; padding-right: .3rem; }
.stApp [data-testid="stTopNavLink"] p { font-size: .95rem; }
.stApp [data-testid="stTopNavLink"] [data-testid="stIconMaterial"],
.stApp [data-testid="stTopNavLink"] > span:has([data-testid="stIconMaterial"]) { display: none; }
.st-key-francais { display: none; }
.texte-saisi { white-space: pre-wrap; overflow-wrap: anywhere; }
.ligne-triage p { text-align: left; }
</style>
"""


def style() -> None:
    """Inject the tablet stylesheet (once per run)."""
    st.html(_STYLE)


# What Markdown (CommonMark, GFM, Streamlit's additions) would read in typed text: emphasis, code, links and
# images, HTML, tables, strike-through, LaTeX, directives, « :x » before a letter (Streamlit's « :material/…: »
# and emoji codes); and, at a line's start, what makes a heading, a quote, a list or a rule. Each is escaped with
# a backslash. GFM's autolinks (« http://… », « www.… », « a@b.fr ») are found in the text after escapes and
# character references are read: an invisible word joiner (U+2060, nothing printed) is put inside them.
_MARKDOWN = re.compile(r"[\\`*_\[\]<>|~$!#{}=^&]|:(?=\w)")
_LIENS = re.compile(r":(?=//)|(?<=www)\.|@", re.IGNORECASE)
_JOINT = "\u2060"
_JOINTS = {":": _JOINT + ":", ".": _JOINT + ".", "@": "@" + _JOINT}
_DEBUT_DE_LIGNE = re.compile(r"^(\s*)([-+>]|\d+(?=[.)]))")


def brut(texte: object) -> str:
    """Patient or user text inside Markdown (a header, a button label, a message), shown exactly as typed:
    nothing is formatted (« **x** », headings, tables), linked (« http://… »; « ![i](http://…) » fetches nothing)
    or computed (« $x$ », « {{7*7}} »)."""
    lignes = []
    for ligne in str(texte).split("\n"):
        ligne = _MARKDOWN.sub(lambda m: "\\" + m.group(0), ligne)
        ligne = _LIENS.sub(lambda m: _JOINTS[m.group(0)], ligne)
        lignes.append(_DEBUT_DE_LIGNE.sub(lambda m: m.group(1) + "\\" + m.group(2) if not m.group(2)[0].isdigit()
                                          else m.group(1) + m.group(2) + "\\", ligne, count=1))
    return "  \n".join(lignes)


def texte_html(texte: object) -> str:
    """Patient or user text inside the page's HTML: escaped, line breaks kept (``white-space: pre-wrap``)."""
    return f'<div class="texte-saisi">{html.escape(str(texte), quote=False)}</div>'


def champ_date(libelle: str, cle: str, colonne: Any = None, **options: Any) -> str:
    """A date typed as JJ/MM/AAAA (digits only are enough: « 14061986 »), read by ``presentation.lire_date``.

    Streamlit's date input shows an English calendar, English errors and silently moves 31/02 to 28/02; a typed
    field has none of that and takes no tap to close a calendar."""
    cible = colonne if colonne is not None else st
    return str(cible.text_input(libelle, key=cle, max_chars=10, placeholder="JJ/MM/AAAA", **options) or "")


def volet(libelle: str, cle: str, *, icone: str | None = None, ouvert: bool = False) -> Any:
    """A collapsed section whose content is built only while it is open (``.open``): its forms cost nothing on the
    runs where it stays closed (issue #25). Opening it reruns the part of the page it is in (a fragment, or the page).

    ``with volet(…) as v:`` then ``if v.open:`` around the content."""
    return st.expander(libelle, expanded=ouvert, key=cle, icon=icone, on_change="rerun")


def badge(texte: str, primaire: bool = False) -> str:
    """A small verification badge (HTML)."""
    classe = "badge primaire" if primaire else "badge"
    return f'<span class="{classe}">{html.escape(texte)}</span>'


def bandeau_urgence(c: Carte) -> None:
    """« URGENCES — appeler le 15 » in red, when the orientation is the most urgent one."""
    if c.urgence:
        st.error(f"**{(c.orientation_libelle or '').upper()}** — {c.consigne}", icon=":material/emergency:")


def _t(texte: str) -> str:
    """Text shown as typed inside the page's HTML (markup escaped; quotes left as they are)."""
    return html.escape(texte, quote=False)


def _source(mo: VueMotif) -> str:
    """A reason's source (a link when it has an address) and its verification badge (HTML)."""
    lien = (f'<a href="{html.escape(mo.source_url)}" target="_blank" rel="noopener">'
            f"{html.escape(mo.source_titre)}</a>" if mo.source_url else html.escape(mo.source_titre))
    return f"<small>{lien}</small> {badge(mo.badge, not mo.a_verifier)}"


def _liste_motifs(titre: str, motifs: list[VueMotif], classe: str) -> None:
    """A titled block of reasons with their sources: one reason on the title's line, several as a list."""
    if len(motifs) == 1:
        corps = f"<b>{html.escape(titre)} :</b> {html.escape(motifs[0].libelle)} — {_source(motifs[0])}"
    else:
        corps = f"<b>{html.escape(titre)} :</b>" + "".join(
            f"<div>• {html.escape(mo.libelle)} — {_source(mo)}</div>" for mo in motifs)
    st.html(f'<div class="{classe}">{corps}</div>')


def _facturation(c: Carte) -> None:
    """Why not the protocol, then the billing in plain words; codes, shares and remarks in « détail »."""
    if c.criteres_non_remplis:
        _liste_motifs(PROTOCOLE_NON_APPLICABLE, c.criteres_non_remplis, "non-applicable")
    if not c.voie:
        return
    st.html(f'<div class="facturation"><b>Facturation :</b> {_t(c.voie)}'
            + "".join(f"<div>• {_t(li.libelle)} : <b>{_t(li.montant)}</b></div>" for li in c.lignes)
            + "</div>")
    if c.lignes or c.parts or c.remarques:
        with st.expander(FACTURATION_DETAIL, expanded=False, key="facturation_detail"):
            for li in c.lignes:
                st.html(f"<div>• <code>{_t(li.code)}</code> {_t(li.libelle)} : "
                        f"<b>{_t(li.montant)}</b>{_t(li.qui_paie)}</div>")
            for r in c.parts:
                st.html(f"<div>{_t(r)}</div>")
            for r in c.remarques:
                st.html(f"<div><small>{_t(r)}</small></div>")


def _a_faire(c: Carte) -> None:
    """What the kiné must request or may prescribe: the X-ray indication first, highlighted, with its reason."""
    if c.radiographie:
        raisons = "".join(f"<li>{_t(r)}</li>" for r in c.radiographie_raisons)
        source = f"<div>{_source(c.radiographie_source)}</div>" if c.radiographie_source else ""
        st.html(f'<div class="radiographie" data-radiographie="1"><div class="titre">{_t(c.radiographie)}'
                f"</div>{'<div>Critères positifs :</div><ul>' + raisons + '</ul>' if raisons else ''}{source}</div>")
    if c.avis_medical:
        st.html('<div class="a-faire"><b>Avis médical recommandé</b></div>')
    if c.prescriptions:
        st.html('<div class="a-faire"><b>Le kinésithérapeute peut prescrire :</b> '
                f"{_t(' ; '.join(c.prescriptions))}</div>")


def carte_orientation(c: Carte) -> None:
    """The orientation card, in the order the kiné acts: the orientation and why, what to request or prescribe
    (the X-ray indication highlighted), the sessions, then the billing in plain words (codes in « détail »).
    The card stays in view beside the questions (sticky column, see the stylesheet)."""
    with st.container(border=True, key="carte_orientation"):
        if c.orientation_libelle:
            classe = f"orientation rang-{c.rang}"
            titre = _t(c.orientation_libelle)
            consigne = _t(c.consigne or "")
            st.html(f'<div class="{classe}" data-orientation="{c.orientation}"><div class="titre">{titre}</div>'
                    f'<div>{consigne}</div></div>')
        else:
            st.html(f'<div class="orientation aucune" data-orientation=""><div class="titre">Pas encore '
                    f'd’orientation</div><div>{c.manquantes} réponse(s) manquante(s).</div></div>')
        if c.motifs:
            st.html("<div><b>Pourquoi</b></div>" + "".join(
                f"<div>• {_t(mo.libelle)} — {_source(mo)}</div>" for mo in c.motifs))
        elif c.complet and c.orientation:
            st.caption("Aucun signe d’alerte retenu.")
        _a_faire(c)
        details = []
        if c.seances:
            s = c.seances
            quand = " (au jour du triage)" if c.au_jour_du_triage else ""
            details.append(f"<b>Séances{quand} :</b> {s['autorisees']} permises, {s['realisees']} réalisée(s), "
                           f"<b>{s['restantes']} restante(s)</b>")
        if c.compteurs_actuels:  # lines built by the episode panel (already HTML-safe)
            quand = ("Aujourd’hui" if c.compteurs_au in (None, date.today())
                     else f"Au {c.compteurs_au.strftime('%d/%m/%Y')}")
            details.append(f'<div class="compteurs-actuels"><b>{quand}, dans l’épisode :</b>'
                           + "".join(f"<div>{ligne}</div>" for ligne in c.compteurs_actuels) + "</div>")
        if c.risque_chronicite:
            details.append(f"<b>STarT Back :</b> {_t(c.risque_chronicite)}")
        if c.duree:
            details.append(f"<b>Durée :</b> {_t(c.duree)}")
        if details:
            st.html("".join(f"<div>{d}</div>" for d in details))
        if c.conseils_kine:
            _liste_motifs(CONSEIL_KINE, c.conseils_kine, "conseil-kine")
        _facturation(c)


# -- fields that reach the page as the kiné types (no Enter, no blur needed) ---------------------------------------
# Streamlit's text_input and text_area report their value on Enter or on leaving the field only: a note typed and
# not yet « applied » is lost on a reload. These small components (Streamlit's own components v2, inline: no
# package, no build) send the text after the kiné pauses typing, and at once when the field loses focus.
_SAISIE_CSS = """
.saisie { display: block; font-family: var(--st-font, sans-serif); font-size: .875rem;
  color: var(--st-text-color, #31333f); }
.saisie .libelle { display: block; margin-bottom: .25rem; }
.saisie input, .saisie textarea { box-sizing: border-box; width: 100%; min-height: 44px; font-size: 1rem;
  padding: .4rem .75rem; border: 1px solid var(--st-border-color, #d5dae5); border-radius: .5rem;
  background: var(--st-secondary-background-color, #f0f2f6); color: inherit; font-family: inherit; }
.saisie textarea { min-height: 6.5rem; resize: vertical; }
.saisie input:focus, .saisie textarea:focus { outline: 2px solid var(--st-primary-color, #0b5394); }
.aide { font-size: .8rem; opacity: .7; margin-top: .2rem; }
"""
_SAISIE_JS = """
export default function(component) {
  const { data, setStateValue, parentElement } = component;
  const champ = parentElement.querySelector("input, textarea");
  parentElement.querySelector(".libelle").textContent = data.libelle;
  parentElement.querySelector(".aide").textContent = data.aide || "";
  champ.setAttribute("aria-label", data.libelle);
  champ.maxLength = data.longueur;
  if (champ.dataset.pret !== "1") {
    champ.dataset.pret = "1";
    champ.value = data.valeur || "";
    let minuteur = null;
    let envoye = champ.value;
    const envoyer = () => {
      clearTimeout(minuteur);
      if (champ.value !== envoye) { envoye = champ.value; setStateValue("texte", champ.value); }
    };
    champ.addEventListener("input", () => { clearTimeout(minuteur); minuteur = setTimeout(envoyer, data.delai); });
    champ.addEventListener("blur", envoyer);
  }
}
"""
_CHAMP_HTML = {
    False: '<label class="saisie"><span class="libelle"></span><input type="search" autocomplete="off" '
           'autocapitalize="off" spellcheck="false"></label><div class="aide"></div>',
    True: '<label class="saisie"><span class="libelle"></span><textarea autocomplete="off" spellcheck="true">'
          '</textarea></label><div class="aide"></div>',
}
_saisies: dict[bool, Any] = {}


def saisie_instantanee(libelle: str, cle: str, *, aide: str = "", valeur: str = "", longueur: int = 100,
                       lignes: bool = False, delai_ms: int = 250) -> str:
    """A text field (one line, or several with ``lignes``) whose value reaches the page as the kiné types
    (``delai_ms`` after the last keystroke, or on leaving the field); the current text (``valeur`` until then)."""
    if lignes not in _saisies:
        _saisies[lignes] = st.components.v2.component(f"triage_app.saisie_{'texte' if lignes else 'ligne'}",
                                                      html=_CHAMP_HTML[lignes], css=_SAISIE_CSS, js=_SAISIE_JS)
    actuel = st.session_state.get(cle)
    if isinstance(actuel, dict):  # what the browser sent: text only (anything else is no value, issue #28)
        valeur = en_texte(actuel.get("texte"), valeur)
    resultat = _saisies[lignes](key=cle, data={"libelle": libelle, "aide": aide, "valeur": valeur,
                                               "longueur": longueur, "delai": delai_ms},
                                default={"texte": valeur}, on_texte_change=lambda: None)
    return en_texte(getattr(resultat, "texte", valeur) if resultat is not None else valeur, valeur)


def recherche_instantanee(libelle: str, cle: str, aide: str = "") -> str:
    """A search field whose value reaches the page as the kiné types (debounced); the current text."""
    return saisie_instantanee(libelle, cle, aide=aide)


# -- documents produced in the session: « Imprimer » (a new tab) and downloads -----------------------------------------
# A tap asks the page for the document; it is produced then (never on an ordinary rerun), sent once to this
# browser session and handed over from memory (a ``blob:`` address): no file on the server, no ``/media`` address
# that another browser could fetch. « Imprimer » opens the new tab within the tap itself (no pop-up blocker stops
# it) and shows the PDF there for the tablet's print dialog; « Télécharger » saves the file. If the browser refused
# the tab, a link in its place opens it.
_FICHIER_HTML = '<button type="button" class="fichier"></button><a class="secours" target="_blank" hidden></a>'
_FICHIER_CSS = """
.fichier { box-sizing: border-box; width: 100%; min-height: 44px; font-size: 1rem; padding: .4rem .75rem;
  border: 1px solid var(--st-border-color, #d5dae5); border-radius: .5rem; cursor: pointer;
  background: var(--st-background-color, #fff); color: var(--st-text-color, #31333f); font-family: inherit; }
.fichier:hover, .fichier:focus { border-color: var(--st-primary-color, #0b5394); color: var(--st-primary-color); }
.secours { display: block; margin-top: .3rem; font-size: .9rem; color: var(--st-link-color, #0b5394); }
"""
_FICHIER_JS = """
export default function(component) {
  const { data, setTriggerValue, parentElement } = component;
  const bouton = parentElement.querySelector("button");
  const secours = parentElement.querySelector("a.secours");
  bouton.textContent = (data.mode === "imprimer" ? "🖨 " : "⬇ ") + data.libelle;
  bouton.setAttribute("aria-label", data.libelle);
  const attentes = (window.__triage_fichiers = window.__triage_fichiers || {});
  if (bouton.dataset.pret !== "1") {
    bouton.dataset.pret = "1";
    bouton.addEventListener("click", () => {
      let onglet = null;
      if (data.mode === "imprimer") {
        onglet = window.open("", "_blank");
        if (onglet) { onglet.document.title = data.libelle; onglet.document.body.textContent = "Préparation…"; }
      }
      attentes[data.cle] = { onglet: onglet, jeton: data.jeton };
      setTriggerValue("produire", data.jeton + 1);
    });
  }
  const attente = attentes[data.cle];
  if (data.contenu && attente && data.jeton > attente.jeton) {
    delete attentes[data.cle];
    const octets = Uint8Array.from(atob(data.contenu), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([octets], { type: data.mime }));
    if (data.mode !== "imprimer") {
      const a = document.createElement("a");
      a.href = url; a.download = data.nom; a.hidden = true;
      document.body.appendChild(a); a.click(); a.remove();
    } else if (attente.onglet && !attente.onglet.closed) {
      attente.onglet.location.href = url;
    } else {
      secours.href = url; secours.textContent = "Ouvrir le document pour l’imprimer"; secours.hidden = false;
    }
    setTimeout(() => URL.revokeObjectURL(url), 120000);
  }
}
"""
_fichier: Any = None


def bouton_fichier(libelle: str, cle: str, produire: Callable[[], bytes], *, mode: str = "telecharger",
                   nom: str = "document.pdf", mime: str = "application/pdf") -> None:
    """A button that produces a document on its tap (``produire()``, which audits it) and hands it to this browser
    from memory: downloaded as ``nom``, or (``mode="imprimer"``) shown in a new tab for printing."""
    global _fichier
    if _fichier is None:
        _fichier = st.components.v2.component("triage_app.fichier", html=_FICHIER_HTML, css=_FICHIER_CSS,
                                              js=_FICHIER_JS)
    pret = f"{cle}_pret"
    jeton = int(st.session_state.get(f"{cle}_jeton", 0))

    def preparer() -> None:
        st.session_state[f"{cle}_jeton"] = jeton + 1
        st.session_state[pret] = base64.b64encode(produire()).decode("ascii")

    contenu = st.session_state.pop(pret, None)  # sent once: an ordinary rerun sends no document
    _fichier(key=cle, data={"libelle": libelle, "cle": cle, "jeton": jeton, "contenu": contenu, "mode": mode,
                            "nom": nom, "mime": mime}, on_produire_change=preparer)


def bouton_imprimer(libelle: str, cle: str, produire: Callable[[], bytes]) -> None:
    """« Imprimer … »: on a tap, ``produire()`` makes the PDF (audited by it) and a new tab shows it."""
    bouton_fichier(libelle, cle, produire, mode="imprimer")


# The fields of the account and structure forms, as the page names them (the service names them by their code).
_CHAMPS_FORMULAIRES = {
    "mot_de_passe": "Mot de passe", "identifiant": "Identifiant", "nom": "Nom", "role": "Rôle",
    "source": "Connexion", "type": "Type de structure", "departement": "Département",
    "protocoles_appliques": "Protocoles de coopération appliqués", "(racine)": "Saisie",
    "ins": "INS", "nom_naissance": "Nom de naissance", "prenoms_naissance": "Prénoms de naissance",
    "lieu_naissance": "Lieu de naissance", "piece_identite": "Pièce d’identité", "sexe": "Sexe",
    "medecin_nom": "Médecin traitant", "medecin_rpps": "RPPS du médecin traitant",
    "medecin_mssante": "Adresse MSSanté du médecin traitant", "prenom": "Prénom", "nom_famille": "Nom",
    "profession": "Profession", "rpps": "RPPS", "adeli": "ADELI", "telephone": "Téléphone", "finess": "FINESS",
    "siret": "SIRET", "mssante": "Adresse MSSanté", "adresse": "Adresse", "patient": "Patient",
}


def en_francais(exc: Exception, codes: dict[str, str] | None = None) -> str:
    """The service's refusal as the page says it: each field by its label, each code by its French label."""
    problemes = getattr(exc, "problemes", None)
    if not problemes:
        texte = str(exc)
    else:
        texte = " ; ".join(f"{_CHAMPS_FORMULAIRES.get(p.chemin or '(racine)', p.chemin)} : {p.message}"
                           for p in problemes)
    if codes:  # whole words only: the code « esp » is not replaced inside « espace »
        motif = re.compile(r"\b(" + "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True)) + r")\b")
        texte = motif.sub(lambda m: f"« {codes[m.group(1)]} »", texte)
    return brut(texte)  # a refused value is echoed as typed, never formatted
