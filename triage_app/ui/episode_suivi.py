"""The episode panel's follow-up sections, built only while open: the history declared (sessions done elsewhere, dated)
and the closing with its outcome (who took over, adverse event)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from triage_app import presentation as pr
from triage_app.errors import TriageError
from triage_app.models.episode import LONGUEUR_RUBRIQUE, RUBRIQUES_MEDECIN, EtatEpisode
from triage_app.services.autorisation import ServiceAutorise
from triage_app.ui import etat
from triage_app.ui.composants import champ_date, en_francais, saisie_instantanee, volet
from triage_app.ui.episode_commun import dire, ecrire, jour_acte, jour_du_panneau, mois_historique

# The others close the episode by themselves (urgences, the accès direct cap and its duration).
MOTIFS_A_LA_MAIN = ("guerison", "reprise_medecin", "abandon", "dap_refusee")


@etat.rappel
def _cloturer(episode_id: str, cle: str) -> None:
    motif = st.session_state.get(f"motif_{cle}")
    if motif is None:
        dire(cle, "erreur", "Clôture : choisissez le motif.")
        return
    ecrire(cle, lambda: etat.depot().episodes.cloturer_episode(episode_id, motif=motif, jour=jour_acte(cle)),
            "Épisode clos.")


@etat.rappel
def _issue(episode_id: str, cle: str) -> None:
    repris = st.session_state.get(f"repris_{cle}")
    evenement = st.session_state.get(f"evenement_{cle}")
    texte = st.session_state.get(f"evenement_texte_{cle}") or None
    ecrire(cle, lambda: etat.depot().episodes.renseigner_issue(
        episode_id, repris_par=repris, evenement_indesirable=None if evenement is None else evenement == "oui",
        evenement_texte=texte), "Issue de l’épisode enregistrée.")


@etat.rappel
def _declarer(episode_id: str, cle: str) -> None:
    seances = int(st.session_state.get(f"decl_seances_{cle}") or 0)
    episodes = int(st.session_state.get(f"decl_episodes_{cle}") or 0)
    motif = str(st.session_state.get(f"decl_motif_{cle}") or "").strip()
    if not motif:
        dire(cle, "erreur", "Motif de la déclaration : à renseigner (par exemple « séances faites dans un autre "
                             "cabinet »).")
        return
    try:
        jour = jour_acte(cle)
        derniere = pr.lire_date(st.session_state.get(f"decl_date_{cle}"), "Date de la dernière séance déclarée",
                                minimum=date(1900, 1, 1), maximum=jour)
    except pr.DateInvalide as exc:
        dire(cle, "erreur", str(exc))
        return
    ecrire(cle, lambda: etat.depot().episodes.declarer_historique(episode_id, seances_12_mois=seances,
                                                                   episodes_12_mois=episodes, motif=motif,
                                                                   jour=jour, date_derniere=derniere),
            "Historique des 12 derniers mois déclaré.")


# -- pieces --------------------------------------------------------------------------------------------------


def historique(e: EtatEpisode, episode_id: str, cle: str) -> None:
    with volet("Séances faites ailleurs (12 derniers mois)", f"volet_historique_{cle}",
               icone=":material/history:") as section:
        if not section.open:
            return
        st.caption(f"Calculé à partir des séances enregistrées : {e.seances_12_mois_calculees} séance(s) et "
                   f"{e.episodes_12_mois_calcules} épisode(s) du même motif dans les 12 derniers mois. Une "
                   "déclaration plus élevée (séances faites dans un autre cabinet) demande un motif ; elle est "
                   "journalisée.")
        c1, c2 = st.columns(2)
        c1.number_input("Séances sur 12 mois", min_value=e.seances_12_mois_calculees, max_value=500,
                        value=e.seances_12_mois, step=1, key=f"decl_seances_{cle}")
        c2.number_input("Épisodes sur 12 mois", min_value=e.episodes_12_mois_calcules, max_value=500,
                        value=e.episodes_12_mois, step=1, key=f"decl_episodes_{cle}")
        st.text_input("Motif de la déclaration", key=f"decl_motif_{cle}", max_chars=500,
                      placeholder="Séances faites dans un autre cabinet")
        if f"decl_date_{cle}" not in st.session_state:
            st.session_state[f"decl_date_{cle}"] = pr.date_fr(e.date_declaration or jour_du_panneau(cle))
        champ_date(f"Date de la dernière séance déclarée (la déclaration compte pendant {mois_historique()} mois)",
                   f"decl_date_{cle}", st)
        st.button("Déclarer", key=f"declarer_{cle}", on_click=_declarer, args=(episode_id, cle), width="stretch")


def cloture_et_issue(depot: ServiceAutorise, e: EtatEpisode, episode_id: str, cle: str) -> None:
    libelles = depot.moteur.registre.commun.libelles.episode
    # One label whether the episode is open or closed: a label that changed with the closing would close the section.
    with volet("Clôture et issue de l’épisode", f"volet_cloture_{cle}", icone=":material/flag:") as section:
        if not section.open:
            return
        if e.statut == "ouvert":
            st.segmented_control("Motif de clôture", list(MOTIFS_A_LA_MAIN), key=f"motif_{cle}",
                                 format_func=libelles.motifs_cloture.__getitem__)
            st.button("Clore l’épisode", key=f"cloturer_{cle}", on_click=_cloturer, args=(episode_id, cle),
                      width="stretch")
        if f"repris_{cle}" not in st.session_state and e.repris_par is not None:
            st.session_state[f"repris_{cle}"] = e.repris_par
        st.segmented_control("Reprise par un médecin", list(libelles.repris_par), key=f"repris_{cle}",
                             format_func=libelles.repris_par.__getitem__)
        if f"evenement_{cle}" not in st.session_state and e.evenement_indesirable is not None:
            st.session_state[f"evenement_{cle}"] = "oui" if e.evenement_indesirable else "non"
        st.segmented_control("Événement indésirable", ["non", "oui"], key=f"evenement_{cle}",
                             format_func={"non": "Non", "oui": "Oui"}.__getitem__)
        if st.session_state.get(f"evenement_{cle}") == "oui":
            if f"evenement_texte_{cle}" not in st.session_state and e.evenement_texte:
                st.session_state[f"evenement_texte_{cle}"] = e.evenement_texte
            st.text_area("Décrire l’événement indésirable", key=f"evenement_texte_{cle}", max_chars=2000)
        st.button("Enregistrer l’issue", key=f"issue_{cle}", on_click=_issue, args=(episode_id, cle),
                  width="stretch")


def textes_medecin(depot: ServiceAutorise, e: EtatEpisode, episode_id: str, cle: str) -> None:
    """The kiné's texts for the médecin (bilan, treatment, results, advice), saved as typed like the note: the summary
    sheet prints them (issue #29). Open by default once the summary sheet is due and a text is missing."""
    manquants = [r for r in RUBRIQUES_MEDECIN if not e.textes.get(r)]
    with volet("Pour le médecin : bilan, traitement, résultats, conseils", f"volet_textes_{cle}",
               icone=":material/edit_note:", ouvert=e.synthese_due and bool(manquants)) as section:
        if not section.open:
            return
        st.caption("Enregistré au fil de la saisie ; imprimé dans la fiche de synthèse.")
        for rubrique, libelle in RUBRIQUES_MEDECIN.items():
            actuel = e.textes.get(rubrique, "")
            texte = saisie_instantanee(libelle, f"texte_{rubrique}_{cle}", valeur=actuel, longueur=LONGUEUR_RUBRIQUE,
                                       lignes=True, delai_ms=600)
            if texte != actuel:
                try:
                    depot.episodes.enregistrer_texte(episode_id, rubrique, texte)
                except TriageError as exc:
                    st.error(en_francais(exc))
