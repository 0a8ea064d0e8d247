"""« Tableau de bord »: the structure's indicators per protocol over a year, in charts readable on a tablet
(Altair, which Streamlit draws natively); the coordinator downloads the yearly ARS report. Read-only for all."""

from __future__ import annotations

import textwrap
from datetime import date
from typing import Any

import altair as alt
import streamlit as st

from triage_app import presentation as pr
from triage_app.export.rapport import (
    effectif_classe,
    libelles_motifs,
    parametres,
    rapport_csv,
    rapport_pdf,
    rapport_xlsx,
)
from triage_app.models.rapport_ars import BlocProtocole, Indicateurs
from triage_app.ui import etat
from triage_app.ui.composants import COULEURS_RANG, bouton_fichier

_ANNEES = 3  # the years offered: this one and the two before
_LARGEUR_LIBELLE = 26  # characters per line of a bar's label: long ones wrap (legible at 820 px)
_BLEU = "#0b5394"


def _lignes(libelle: str) -> str:
    """A label wrapped at :data:`_LARGEUR_LIBELLE` characters (lines joined by « \\n », split by the chart)."""
    return "\n".join(textwrap.wrap(libelle, _LARGEUR_LIBELLE)) or libelle


def _barres(donnees: list[dict[str, Any]], titre: str, couleur: str = _BLEU) -> alt.Chart:
    """Horizontal bars with their count written at the end (legible without hovering, on a tablet). Every bar keeps
    its label (none hidden for overlap, long ones wrapped); a row may carry its own ``couleur``."""
    donnees = [{"couleur": couleur, **d, "libelle": _lignes(str(d["libelle"]))} for d in donnees]
    base = alt.Chart(alt.Data(values=donnees)).encode(
        y=alt.Y("libelle:N", sort="-x", title=None,
                axis=alt.Axis(labelLimit=0, labelFontSize=13, labelOverlap=False,
                              labelExpr="split(datum.label, '\\n')")),
        x=alt.X("n:Q", title=titre, axis=alt.Axis(tickMinStep=1, format="d")))
    barres = base.mark_bar().encode(color=alt.Color("couleur:N", scale=None, legend=None))
    return (barres + base.mark_text(align="left", dx=4, fontSize=13).encode(text="n:Q")) \
        .properties(height=_hauteur(donnees))


def _hauteur(donnees: list[dict[str, Any]]) -> int:
    """35 px per row, 17 more per extra line of the longest label, so that every label stays legible on a tablet."""
    lignes = max((1 + _lignes(str(d["libelle"])).count("\n") for d in donnees), default=1)
    return max(90, (17 * lignes + 18) * len(donnees) + 40)  # the rows share one height: the tallest label's


def _dessiner(graphique: alt.Chart, donnees: list[dict[str, Any]]) -> None:
    st.altair_chart(graphique, width="stretch", height=_hauteur(donnees))


def _mois(b: BlocProtocole, annee: int) -> alt.Chart:
    donnees = [{"mois": pr.MOIS_ABREGES[i], "rang": i, "n": b.mois.get(f"{annee:04d}-{i + 1:02d}", 0)}
               for i in range(12)]
    return alt.Chart(alt.Data(values=donnees)).mark_bar(color="#1f6f43").encode(
        x=alt.X("mois:N", sort=alt.SortField("rang"), title=None, axis=alt.Axis(labelAngle=0, labelFontSize=12)),
        y=alt.Y("n:Q", title="triages", axis=alt.Axis(tickMinStep=1, format="d"))).properties(height=200)


def _protocole(m: Any, pid: str, b: BlocProtocole, annee: int) -> None:
    commun = m.registre.commun
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Triages finalisés", b.triages)
    c2.metric("Patients", b.patients)
    repris = sum(n for k, n in b.repris_par.items() if k != "aucun")
    c3.metric("Repris (médecin)", repris, help="épisodes repris par le délégant ou un autre médecin")
    c4.metric("Événements indésirables", b.evenements_indesirables)
    if not b.triages:
        st.info("Aucun triage finalisé sur la période.")
        return
    orientations = {o.id: o for o in commun.orientations}
    # In the card's colours: Urgences red, « médecin dans la journée » brown, the others blue.
    lignes = [{"libelle": orientations[o].libelle if o in orientations else (o or "sans orientation"), "n": n,
               "couleur": COULEURS_RANG.get(orientations[o].rang, _BLEU) if o in orientations else _BLEU}
              for o, n in b.orientations.items()]
    st.markdown("**Orientations**")
    _dessiner(_barres(lignes, "triages"), lignes)
    st.markdown("**Par mois**")
    st.altair_chart(_mois(b, annee), width="stretch", height=200)
    motifs = libelles_motifs(m, pid)
    if b.drapeaux:
        st.markdown("**Signes d’alerte retenus**")
        lignes = [{"libelle": motifs.get(k, k), "n": n} for k, n in b.drapeaux.items()]
        _dessiner(_barres(lignes, "triages", "#b00020"), lignes)
    if b.non_eligibilite:
        st.markdown("**Critères du protocole non remplis**")
        lignes = [{"libelle": motifs.get(k, k), "n": n} for k, n in b.non_eligibilite.items()]
        _dessiner(_barres(lignes, "triages", "#8a4b00"), lignes)
    g, d = st.columns(2)
    with g:
        st.markdown("**Délai entre le début des symptômes et le triage**")
        mediane = BlocProtocole.mediane(b.delai_jours)
        st.caption(f"Médiane : {mediane:g} jour(s)" if mediane is not None else "—")
        classes = [{"libelle": f"{bas}–{haut} j" if haut is not None else f"{bas} j et plus",
                    "n": effectif_classe(b.delai_jours, bas, haut)}
                   for bas, haut in parametres(m).classes["delai_jours"].bornes]
        _dessiner(_barres(classes, "triages", "#6b7785"), classes)
    with d:
        st.markdown("**Suivi des épisodes**")
        mediane = BlocProtocole.mediane(b.seances_par_episode)
        st.markdown(f"- Épisodes : **{b.episodes}**\n- Séances par épisode (médiane) : "
                    f"**{'—' if mediane is None else f'{mediane:g}'}**\n- Demandes d’accord préalable : **{b.dap}**\n"
                    f"- Accès direct clos au plafond : **{b.clos_au_plafond}**")
    _resultats(m, b)


def _resultats(m: Any, b: BlocProtocole) -> None:
    """Measured outcomes of the closed episodes (issue #30), exact figures for the team."""
    params = m.registre.mesures
    if params is None:
        return
    st.markdown("**Résultats mesurés (épisodes clos)**")
    if not b.resultats:
        st.caption("Aucun épisode clos avec une mesure lue (deux scores, ou l’impression de changement).")
        return
    voies = {v.id: v.libelle for v in m.registre.commun.voies}
    lignes = [f"- {voies.get(voie, voie or '—')} — {params.mesure(mid).libelle_court} : **{r.ameliores}** sur "
              f"**{r.episodes}** épisode(s) en {params.lectures['amelioration']}"
              + (f" ({100 * r.ameliores / r.episodes:.0f} %)".replace(".", ",") if r.episodes else "")
              + (f" ; variation médiane **{r.mediane:+g}**".replace(".", ",") if r.mediane is not None else "")
              for voie, par_mesure in sorted(b.resultats.items()) for mid, r in sorted(par_mesure.items())]
    st.markdown("\n".join(lignes))


def page() -> None:
    depot = etat.depot()
    m = depot.moteur
    st.markdown("### Tableau de bord")
    cette_annee = date.today().year
    annees = [cette_annee - k for k in range(_ANNEES)]
    annee = st.segmented_control("Année", annees, default=cette_annee, key="tableau_annee") or cette_annee
    du, au = date(annee, 1, 1), date(annee, 12, 31)
    cle = f"tableau_{annee}"
    # One query per year and session (audited once): a tap elsewhere on the page does not recompute.
    if cle not in st.session_state:
        with st.spinner("Calcul des indicateurs…"):
            st.session_state[cle] = depot.rapport.indicateurs(du, au)
    indicateurs: Indicateurs = st.session_state[cle]
    st.caption(f"Triages finalisés du {pr.date_fr(du)} au {pr.date_fr(au)}, par protocole. Chiffres exacts, pour "
               "l’équipe ; le rapport pour l’ARS masque les effectifs de 1 à 4.")
    onglets = st.tabs([pc.modele.titre for pc in m.protocoles.values()])
    for onglet, pid in zip(onglets, m.protocoles, strict=True):
        with onglet:
            _protocole(m, pid, indicateurs.protocoles.get(pid, BlocProtocole()), annee)
    if depot.utilisateur.peut("rapport.exporter"):
        structure = depot.structure.structure()
        nom = structure.nom if structure else None
        st.markdown("**Rapport annuel pour l’ARS** (anonymisé)")
        colonnes = st.columns(3)
        for colonne, (format_, libelle, mime, produire) in zip(colonnes, (
                ("pdf", "Rapport (PDF)", "application/pdf", lambda: rapport_pdf(indicateurs, m, nom, date.today())),
                ("xlsx", "Tableur (XLSX)", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 lambda: rapport_xlsx(indicateurs, m, nom)),
                ("csv", "Tableur (CSV)", "text/csv", lambda: rapport_csv(indicateurs, m))), strict=True):
            with colonne:
                bouton_fichier(libelle, f"rapport_{format_}", produire, nom=f"rapport_ars_{annee}.{format_}",
                               mime=mime)
