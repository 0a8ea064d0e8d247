"""Pieces shared by the pages: the tablet stylesheet, the orientation card and the as-you-type search field."""

from __future__ import annotations

import html
from typing import Any

import streamlit as st

from triage_app.presentation import CONSEIL_KINE, FACTURATION_DETAIL, PROTOCOLE_NON_APPLICABLE, Carte, VueMotif

# Touch targets of at least 44 px, no horizontal scrolling, wrapped labels (tablet at 820 and 1024 px).
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
  max-width: 100%; padding-left: 1rem; padding-right: 1rem; padding-top: 3.5rem;
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
</style>
"""


def style() -> None:
    """Inject the tablet stylesheet (once per run)."""
    st.html(_STYLE)


def badge(texte: str, primaire: bool = False) -> str:
    """A small verification badge (HTML)."""
    classe = "badge primaire" if primaire else "badge"
    return f'<span class="{classe}">{html.escape(texte)}</span>'


def bandeau_urgence(c: Carte) -> None:
    """« URGENCES — appeler le 15 » in red, when the orientation is the most urgent one."""
    if c.urgence:
        st.error(f"**{(c.orientation_libelle or '').upper()}** — {c.consigne}", icon=":material/emergency:")


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
    """Why not the protocol, the billing route, its lines (amount, reimbursed and patient's shares), remarks."""
    if c.criteres_non_remplis:
        _liste_motifs(PROTOCOLE_NON_APPLICABLE, c.criteres_non_remplis, "non-applicable")
    if c.voie:
        st.markdown(f"**Facturation** : {c.voie}")
        for li in c.lignes:
            st.markdown(f"- `{li.code}` {li.libelle} : **{li.montant}**{li.qui_paie}")
        for r in c.parts:
            st.markdown(r)
        for r in c.remarques:
            st.caption(r)


def carte_orientation(c: Carte) -> None:
    """The orientation card: decision, reasons with sources, duration, X-ray, sessions, advice, billing,
    prescriptions. A referral to a médecin (urgences, medecin_jour) stands alone at the top: its billing
    details are below it, in a collapsed section."""
    with st.container(border=True, key="carte_orientation"):
        if c.orientation_libelle:
            classe = f"orientation rang-{c.rang}"
            titre = html.escape(c.orientation_libelle)
            consigne = html.escape(c.consigne or "")
            st.html(f'<div class="{classe}" data-orientation="{c.orientation}"><div class="titre">{titre}</div>'
                    f'<div>{consigne}</div></div>')
        else:
            st.html(f'<div class="orientation aucune" data-orientation=""><div class="titre">Pas encore '
                    f'd’orientation</div><div>{c.manquantes} réponse(s) manquante(s).</div></div>')
        if c.motifs:
            st.markdown("**Pourquoi**")
            for mo in c.motifs:
                st.html(f"<div>• {html.escape(mo.libelle)} — {_source(mo)}</div>")
        elif c.complet and c.orientation:
            st.caption("Aucun signe d’alerte retenu.")
        details = []
        if c.duree:
            details.append(f"**Durée** : {c.duree}")
        if c.radiographie:
            details.append(f"**Imagerie** : {c.radiographie}")
        if c.risque_chronicite:
            details.append(f"**STarT Back** : {c.risque_chronicite}")
        if c.avis_medical:
            details.append("**Avis médical recommandé**")
        if c.seances:
            s = c.seances
            details.append(f"**Séances** : {s['autorisees']} permises, {s['realisees']} réalisée(s), "
                           f"**{s['restantes']} restante(s)**")
        for ligne in details:
            st.markdown(ligne)
        if c.conseils_kine:
            _liste_motifs(CONSEIL_KINE, c.conseils_kine, "conseil-kine")
        if c.renvoi_medical:
            if c.voie or c.criteres_non_remplis:
                with st.expander(FACTURATION_DETAIL, expanded=False, key="facturation_detail"):
                    _facturation(c)
        else:
            _facturation(c)
        if c.prescriptions:
            st.markdown("**Le kinésithérapeute peut prescrire** : " + " ; ".join(c.prescriptions))


# -- a search field that answers as the kiné types (no Enter, no blur needed) ----------------------------------
# Streamlit's text_input reports its value on Enter or on leaving the field only. This small component (Streamlit's
# own components v2, inline: no package, no build) sends the text 250 ms after the last keystroke.
_RECHERCHE_HTML = """
<label class="recherche"><span class="libelle"></span>
<input type="search" autocomplete="off" autocapitalize="off" spellcheck="false" maxlength="100"></label>
<div class="aide"></div>
"""
_RECHERCHE_CSS = """
.recherche { display: block; font-family: var(--st-font, sans-serif); font-size: .875rem;
  color: var(--st-text-color, #31333f); }
.recherche .libelle { display: block; margin-bottom: .25rem; }
.recherche input { box-sizing: border-box; width: 100%; min-height: 44px; font-size: 1rem; padding: .4rem .75rem;
  border: 1px solid var(--st-border-color, #d5dae5); border-radius: .5rem;
  background: var(--st-secondary-background-color, #f0f2f6); color: inherit; }
.recherche input:focus { outline: 2px solid var(--st-primary-color, #0b5394); }
.aide { font-size: .8rem; opacity: .7; margin-top: .2rem; }
"""
_RECHERCHE_JS = """
export default function(component) {
  const { data, setStateValue, parentElement } = component;
  const champ = parentElement.querySelector("input");
  parentElement.querySelector(".libelle").textContent = data.libelle;
  parentElement.querySelector(".aide").textContent = data.aide || "";
  champ.setAttribute("aria-label", data.libelle);
  if (champ.dataset.pret !== "1") {
    champ.dataset.pret = "1";
    champ.value = data.valeur || "";
    let minuteur = null;
    champ.addEventListener("input", () => {
      clearTimeout(minuteur);
      minuteur = setTimeout(() => setStateValue("texte", champ.value), 250);
    });
  }
}
"""
_recherche: Any = None


def recherche_instantanee(libelle: str, cle: str, aide: str = "") -> str:
    """A text field whose value reaches the page as the kiné types (debounced); the current text."""
    global _recherche
    if _recherche is None:
        _recherche = st.components.v2.component("triage_app.recherche", html=_RECHERCHE_HTML, css=_RECHERCHE_CSS,
                                                js=_RECHERCHE_JS)
    actuel = st.session_state.get(cle)
    valeur = str(actuel.get("texte") or "") if isinstance(actuel, dict) else ""
    resultat = _recherche(key=cle, data={"libelle": libelle, "aide": aide, "valeur": valeur},
                          default={"texte": ""}, on_texte_change=lambda: None)
    texte = getattr(resultat, "texte", "") if resultat is not None else ""
    return str(texte or "")
