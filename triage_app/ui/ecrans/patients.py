"""« Patients »: find a patient as one types, their episodes with the counters, sessions in one or two taps,
the re-assessment, the documents; a new triage for this patient."""

from __future__ import annotations

from datetime import date

import streamlit as st

from triage_app import presentation as pr
from triage_app.errors import TriageError
from triage_app.services.autorisation import ServiceAutorise
from triage_app.services.patients import PatientTrouve
from triage_app.ui import chemins, etat, identites
from triage_app.ui import episode as vue_episode
from triage_app.ui.composants import brut, recherche_instantanee

OUVERT = "patient_ouvert"  # (patient, its episodes' ids) looked up once when opened (session only, never the URL)
_RECHERCHE = "recherche_patient_fiche"
_RECHERCHE_MEMOIRE = "recherche_patient_fiche_resultats"
_ERREUR = "erreur_fiche_patient"


@etat.rappel
def _ouvrir(patient_id: str | None) -> None:
    """Open a patient's record: one audited look-up; the panels then read each episode's state."""
    st.session_state.pop(OUVERT, None)
    if patient_id is None:
        return
    try:
        patient, episodes = etat.depot().patients.fiche_patient(patient_id, date.today())
    except TriageError as exc:
        st.session_state[_ERREUR] = str(exc)
        return
    ouverts_d_abord = sorted(episodes, key=lambda e: e.statut != "ouvert")
    st.session_state[OUVERT] = (patient, tuple(e.episode_id for e in ouverts_d_abord))


def page() -> None:
    depot = etat.depot()
    st.markdown("### Patients")
    if erreur := st.session_state.pop(_ERREUR, None):
        st.error(erreur)
    ouvert = st.session_state.get(OUVERT)
    if ouvert:
        fiche(depot, *ouvert)
        return
    texte = recherche_instantanee("Rechercher un patient (nom, prénom, date de naissance)", _RECHERCHE,
                                  "Sans accents ni majuscules : « lefebvre » trouve « Lefèbvre ».")
    if not texte.strip():
        st.caption("Tapez quelques lettres du nom ou du prénom, ou la date de naissance (JJ/MM/AAAA).")
        return
    trouves = etat.patients_trouves(depot, texte, _RECHERCHE_MEMOIRE)
    if not trouves:
        st.info("Aucun patient trouvé.")
        return
    m = depot.moteur
    for p in trouves:
        titres = [m.protocoles[x].modele.titre for x in p.episodes_ouverts if x in m.protocoles]
        suite = f" · en cours : {', '.join(titres)}" if titres else ""
        st.button(f"{brut(p.nom)} {brut(p.prenom)} · né(e) le {pr.date_fr(p.date_naissance)}{suite}",
                  key=f"fiche_{p.id}", on_click=_ouvrir, args=(p.id,), icon=":material/person:", width="stretch")


def fiche(depot: ServiceAutorise, patient: PatientTrouve, episodes: tuple[str, ...]) -> None:
    """A patient and their episodes, the open ones first."""
    c1, c2 = st.columns([3, 2])
    c1.markdown(f"#### {brut(patient.nom)} {brut(patient.prenom)}")
    c1.caption(f"Né(e) le {pr.date_fr(patient.date_naissance)}")
    c2.button("Autre patient", key="autre_patient", on_click=_ouvrir, args=(None,), icon=":material/person_search:",
              width="stretch")
    if depot.peut("triages.creer_triage") and c2.button("Nouveau triage pour ce patient", key="triage_patient",
                                                        type="primary", icon=":material/add_circle:", width="stretch"):
        st.session_state[etat.PATIENT_CHOISI] = patient
        chemins.aller("nouveau")
    identites.panneau(patient.id, f"fiche_{patient.id}")
    if not episodes:
        st.info("Aucun épisode enregistré.")
    for episode_id in episodes:
        e = vue_episode.panneau(episode_id)
        if e is not None and e.triage_id and st.button("Ouvrir le triage de cet épisode", key=f"triage_{episode_id}",
                                                       icon=":material/description:"):
            chemins.triage(e.triage_id)
