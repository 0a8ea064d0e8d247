"""The episode panel's measures (issue #30): each measure over time (a small chart), its change against its minimal
important change, the re-assessment's evolution the measures suggest, and « Questionnaire patient » to hand the
tablet over. Built only while its section is open."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from triage_app import presentation as pr
from triage_app.domain.mesures import evolution_proposee
from triage_app.export.episode import texte_mesure
from triage_app.models.episode import EtatEpisode
from triage_app.services.autorisation import ServiceAutorise
from triage_app.ui import etat, questionnaire
from triage_app.ui.composants import volet
from triage_app.ui.episode_commun import jour_du_panneau


@etat.rappel
def _ouvrir(episode_id: str, protocole: str, cle: str) -> None:
    moment = st.session_state.get(f"moment_mesure_{cle}")
    if moment is None:
        st.session_state[f"moment_mesure_erreur_{cle}"] = True
        return
    questionnaire.ouvrir(episode_id, protocole, moment, jour_du_panneau(cle), etat.triage_dans_url())


def _graphique(libelle: str, points: tuple[tuple[str, str, float], ...], bornes: tuple[int, int]) -> None:
    donnees = pd.DataFrame([{"jour": pr.date_fr(j), "score": s} for j, _, s in points])
    graphique = alt.Chart(donnees).mark_line(point=True).encode(
        x=alt.X("jour:N", sort=None, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("score:Q", title=libelle, scale=alt.Scale(domain=list(bornes))),
        tooltip=[alt.Tooltip("jour:N", title="Jour"), alt.Tooltip("score:Q", title="Score")],
    ).properties(height=150)
    st.altair_chart(graphique, width="stretch")


def mesures(depot: ServiceAutorise, e: EtatEpisode, episode_id: str, cle: str) -> None:
    """The section: what was measured, how it changed, and the questionnaire to hand over."""
    if etat.moteur().registre.mesures is None:
        return
    if questionnaire.actif():  # just opened by the button (a callback of this fragment): the whole page changes
        st.rerun(scope="app")
    with volet("Mesures du patient (douleur, incapacité, évolution)", f"volet_mesures_{cle}",
               icone=":material/monitoring:") as section:
        if not section.open:
            return
        bilan = depot.mesures.bilan(episode_id)
        for x in bilan:
            m = x.mesure
            if x.dossier is None:
                st.caption(f"{m.libelle_court} : pas encore mesuré.")
                continue
            st.markdown(f"**{m.libelle_court}** : {texte_mesure(x.dossier)}")
            if len(x.suivi.points) >= 2 and m.cotation.regle != "niveau":
                _graphique(m.libelle_court, x.suivi.points, (m.cotation.min, m.cotation.max))
        proposee = evolution_proposee(x.suivi.lecture for x in bilan)
        if proposee is not None:
            libelle = etat.moteur().registre.mesures.lectures[proposee]  # type: ignore[union-attr]
            st.info(f"Évolution suggérée par les mesures : **{libelle}** (à confirmer à la réévaluation).",
                    icon=":material/insights:")
        if not depot.peut("mesures.enregistrer"):
            return
        params = etat.moteur().registre.mesures
        assert params is not None
        moments = list(params.moments)
        st.segmented_control("Questionnaire du patient : moment", options=moments, key=f"moment_mesure_{cle}",
                             format_func=lambda x: params.moments[x])
        if st.session_state.pop(f"moment_mesure_erreur_{cle}", False):
            st.error("Moment du questionnaire : à choisir (bilan initial, réévaluation, séance ou clôture).")
        st.button("Questionnaire patient (remettre la tablette)", key=f"questionnaire_{cle}", on_click=_ouvrir,
                  args=(episode_id, e.protocole, cle), icon=":material/tablet:", width="stretch")


def _prendre(cle: str, evolution: str) -> None:
    st.session_state[f"evolution_{cle}"] = evolution


def suggestion(depot: ServiceAutorise, episode_id: str, cle: str) -> None:
    """In the re-assessment's walk: the evolution the patient's measures suggest, taken in one tap (never set
    without it: the kiné decides)."""
    if etat.moteur().registre.mesures is None:
        return
    proposee = depot.mesures.evolution_proposee(episode_id)
    if proposee is None:
        return
    libelle = depot.moteur.registre.commun.libelles.episode.evolutions.get(proposee, proposee)
    st.caption(f"Suggérée par les mesures du patient : **{libelle}**")
    if st.session_state.get(f"evolution_{cle}") != proposee:
        st.button(f"Reprendre : {libelle}", key=f"evolution_suggeree_{cle}", on_click=_prendre, args=(cle, proposee),
                  icon=":material/insights:")
