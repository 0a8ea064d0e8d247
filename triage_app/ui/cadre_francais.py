"""The page's frame in French, and the tablet's keypad on date fields: one small component mounted once per browser
session (components v2, inline: no iframe, no package)."""

from __future__ import annotations

from typing import Any

import streamlit as st

# -- French everywhere ------------------------------------------------------------------------------------------
# Streamlit's own frame (menus, widget hints, screen-reader labels) is written in English and has no language
# setting. This component (components v2, inline, in the page itself: no iframe) declares the page French
# (``<html lang="fr">``) and rewrites the frame's known English labels as they appear. The page's own widgets are
# chosen so as not to show English in the first place (no calendar, no multiselect, no empty table).
_TRADUCTIONS = {
    "App pages": "Pages de l’application", "Main menu": "Menu principal", "Link to heading": "Lien vers ce titre",
    "Skip to main content": "Aller au contenu", "Open": "Ouvrir", "Close": "Fermer", "Clear": "Effacer",
    "Clear all": "Tout effacer", "Clear value": "Effacer", "Clear date": "Effacer la date",
    "Choose date": "Choisir une date", "Choose an option": "Choisir", "Choose options": "Choisir",
    "Select all": "Tout choisir", "Press Enter to apply": "Entrée pour valider",
    "Press Enter to submit form": "Entrée pour envoyer", "Press ⌘+Enter to apply": "Ctrl+Entrée pour valider",
    "Press Ctrl+Enter to apply": "Ctrl+Entrée pour valider", "Show password text": "Afficher le mot de passe",
    "Hide password text": "Masquer le mot de passe", "Show password": "Afficher le mot de passe",
    "Hide password": "Masquer le mot de passe", "Running...": "Calcul…", "Stop": "Arrêter",
    "Increment": "Augmenter", "Decrement": "Diminuer", "Expand": "Déplier", "Collapse": "Replier",
    "Download": "Télécharger", "Fullscreen": "Plein écran", "Close fullscreen": "Quitter le plein écran",
    "Search": "Rechercher", "empty": "aucune ligne", "Rerun": "Relancer", "Connecting": "Connexion…",
    "Please wait...": "Patientez…", "Show data": "Voir les données", "Download as PNG": "Télécharger en PNG",
    "Copy Vega-Lite spec": "Copier la description du graphique", "Copied!": "Copié !",
    "Download as SVG": "Télécharger en SVG", "View source": "Voir la source",
}
_FRANCAIS_JS = """
export default function(component) {
  const t = component.data.traductions;
  const fr = (v) => {
    if (v == null) return null;
    const s = v.trim();
    if (Object.prototype.hasOwnProperty.call(t, s)) return t[s];
    let m = /^Help for (.*)$/.exec(s); if (m) return "Aide : " + m[1];
    m = /^(\\d+) more$/.exec(s); if (m) return "+ " + m[1];
    m = /^(day|month|year), (.*)$/.exec(s);
    if (m) return ({day: "jour", month: "mois", year: "année"})[m[1]] + ", " + m[2];
    return null;
  };
  const ATTR = ["aria-label", "placeholder", "title", "alt", "aria-roledescription"];
  const traduire = (racine) => {
    if (racine.nodeType === 3) {
      const n = fr(racine.nodeValue); if (n !== null && n !== racine.nodeValue.trim()) racine.nodeValue = n;
      return;
    }
    if (racine.nodeType !== 1) return;
    for (const el of [racine, ...racine.querySelectorAll("*")]) {
      for (const a of ATTR) {
        const v = el.getAttribute(a); const n = fr(v); if (n !== null && n !== v) el.setAttribute(a, n);
      }
      if (el.tagName === "STYLE" || el.tagName === "SCRIPT") continue;
      for (const c of el.childNodes) if (c.nodeType === 3) {
        const n = fr(c.nodeValue); if (n !== null && n !== c.nodeValue.trim()) c.nodeValue = n;
      }
    }
  };
  // Date fields (placeholder JJ/MM/AAAA): the digit keypad on a tablet, and the slashes written as the digits are
  // typed (« 07122026 » reads 07/12/2026): through the input's own setter, so that the page receives the value.
  const valeur = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
  const formater = (v) => {
    const c = v.replace(/\\D/g, "").slice(0, 8);
    return c.length > 4 ? c.slice(0, 2) + "/" + c.slice(2, 4) + "/" + c.slice(4)
         : c.length > 2 ? c.slice(0, 2) + "/" + c.slice(2) : c;
  };
  const dates = (racine) => {
    if (racine.nodeType !== 1) return;
    const champs = racine.matches && racine.matches('input[placeholder="JJ/MM/AAAA"]') ? [racine]
                 : racine.querySelectorAll('input[placeholder="JJ/MM/AAAA"]');
    for (const el of champs) {
      if (el.dataset.date === "1") continue;
      el.dataset.date = "1";
      el.setAttribute("inputmode", "numeric");
      el.addEventListener("input", (ev) => {
        if (ev.inputType && ev.inputType.startsWith("delete")) return;  // erasing: leave the field as the kiné has it
        if (!/^[\\d/]*$/.test(el.value)) return;  // something else typed: the page says what is wrong
        const f = formater(el.value);
        if (f !== el.value) {
          valeur.call(el, f);
          el.setSelectionRange(f.length, f.length);
          el.dispatchEvent(new Event("input", {bubbles: true}));
        }
      });
    }
  };
  document.documentElement.lang = "fr";
  if (window.__triage_francais) return;
  window.__triage_francais = true;
  traduire(document.body);
  dates(document.body);
  new MutationObserver((changes) => {
    if (document.documentElement.lang !== "fr") document.documentElement.lang = "fr";
    for (const c of changes) {
      if (c.type === "attributes") traduire(c.target);
      else if (c.type === "characterData") traduire(c.target);
      else for (const n of c.addedNodes) { traduire(n); dates(n); }
    }
  }).observe(document.documentElement, {subtree: true, childList: true, characterData: true, attributes: true,
                                         attributeFilter: [...ATTR, "lang"]});
}
"""
_francais: Any = None


_FRANCAIS_MONTE = "francais_monte"


def francais() -> None:
    """Declare the page French and translate Streamlit's own English labels: mounted on the first run of a browser
    session (login included); its observer then stays in the window for every later page and run (a reload starts a
    new session, which mounts it again). Not sending it on every run saves each tap its table (issue #25)."""
    global _francais
    if st.session_state.get(_FRANCAIS_MONTE):
        return
    if _francais is None:
        _francais = st.components.v2.component("triage_app.francais", html="<span></span>", js=_FRANCAIS_JS)
    _francais(key="francais", data={"traductions": _TRADUCTIONS})
    st.session_state[_FRANCAIS_MONTE] = True


_DEFILER_JS = """
export default function(component) {
  const cible = document.querySelector(component.data.selecteur);
  if (cible) cible.scrollIntoView({block: "center"});
}
"""
_defiler: Any = None
_DEFILEMENTS = "defilements"


def faire_defiler(selecteur: str) -> None:
    """Scroll the page to the element ``selecteur`` once, on this run (a form refused below the fold: issue #29)."""
    global _defiler
    if _defiler is None:
        _defiler = st.components.v2.component("triage_app.defiler", html="<span></span>", js=_DEFILER_JS)
    n = st.session_state.get(_DEFILEMENTS, 0) + 1  # a new key: mounted (and run) again at each refusal
    st.session_state[_DEFILEMENTS] = n
    _defiler(key=f"defiler_{n}", data={"selecteur": selecteur})
