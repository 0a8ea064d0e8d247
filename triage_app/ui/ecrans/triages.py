"""« Triages »: this structure's triages, newest first; open, resume, finalise, record a session."""

from __future__ import annotations

import hashlib
from datetime import date

import streamlit as st

from triage_app import presentation as pr
from triage_app.errors import TriageError
from triage_app.ui import etat
from triage_app.ui.navigation import pages

_PAR_PAGE = 50
CLE_TABLE = "table_triages"
_STATUTS = {"brouillon": "Brouillon", "final": "Finalisé", "remplace": "Remplacé"}


def page() -> None:
    """The list and the actions on the selected triage."""
    depot = etat.depot()
    tid = etat.triage_dans_url()
    if tid is not None and not depot.peut("creer_triage"):  # a link opened by a read-only role (start page)
        st.switch_page(pages()["nouveau"], query_params={etat.PARAM_TRIAGE: tid})
    m = depot.moteur
    orientations = {o.id: o.libelle for o in m.registre.commun.orientations}
    st.markdown("### Triages")
    filtre = st.segmented_control("Statut", ["brouillon", "final"], key="filtre_statut",
                                  format_func=_STATUTS.__getitem__)
    recherche = st.text_input("Rechercher un patient (nom ou prénom)", key="recherche_patient", max_chars=100)
    numero = int(st.session_state.get("page_triages", 0))
    lignes = depot.lister(limite=_PAR_PAGE, decalage=numero * _PAR_PAGE, statut=filtre, recherche=recherche)
    if not lignes:
        st.info("Aucun triage enregistré." if numero == 0 else "Fin de la liste.")
    titres = {pid: pc.modele.titre for pid, pc in m.protocoles.items()}
    tableau = [{"Consultation": pr.date_fr(lt.date_consultation), "Patient": lt.patient,
                "Protocole": titres.get(lt.protocole, lt.protocole),
                "Orientation": orientations.get(lt.orientation or "", "—"),
                "Statut": _STATUTS.get(lt.statut, lt.statut), "Version": lt.version} for lt in lignes]
    # The key follows the rows shown: when the list changes (a colleague's new triage, another filter or
    # page) the selection is dropped rather than pointing at whoever now sits on the same row number.
    empreinte = hashlib.sha256("".join(lt.id for lt in lignes).encode()).hexdigest()[:12]
    choix = st.dataframe(tableau, key=f"{CLE_TABLE}_{empreinte}", on_select="rerun", selection_mode="single-row",
                         hide_index=True, width="stretch")
    c1, c2 = st.columns(2)
    if numero > 0 and c1.button("← Plus récents", key="precedents"):
        st.session_state["page_triages"] = numero - 1
        st.rerun()
    if len(lignes) == _PAR_PAGE and c2.button("Plus anciens →", key="suivants"):
        st.session_state["page_triages"] = numero + 1
        st.rerun()
    rangs = [r for r in (choix.selection.rows if choix and choix.selection else []) if 0 <= r < len(lignes)]
    if not rangs:
        st.caption("Touchez une ligne pour l’ouvrir, la reprendre, la finaliser ou enregistrer une séance.")
        return
    lt = lignes[rangs[0]]
    with st.container(border=True, key="actions_triage"):
        st.markdown(f"**{lt.patient}** — {pr.date_fr(lt.date_consultation)} — {_STATUTS.get(lt.statut, lt.statut)}")
        a, b = st.columns(2)
        if a.button("Reprendre" if lt.statut == "brouillon" else "Ouvrir", key="ouvrir", type="primary",
                    width="stretch"):
            st.switch_page(pages()["nouveau"], query_params={etat.PARAM_TRIAGE: lt.id})
        if lt.statut == "brouillon" and depot.peut("finaliser"):
            resultat = depot.evaluer(lt.id)
            if b.button("Finaliser", key="finaliser_liste", width="stretch",
                        disabled=resultat["orientation"] is None,
                        help=None if resultat["orientation"] else "Réponses manquantes : pas encore d’orientation."):
                try:
                    depot.finaliser(lt.id, acteur=etat.acteur())
                except TriageError as exc:
                    st.error(str(exc))
                else:
                    st.rerun()
        entete = depot.entete(lt.id)
        if not depot.peut("enregistrer_seance"):
            return
        with st.form("form_seance", border=False):
            st.markdown("**Enregistrer une séance sur cet épisode**")
            voies = {v.id: v.libelle for v in m.registre.commun.voies if v.id != "aucune"}
            jour = st.date_input("Date de la séance", value=date.today(), format="DD/MM/YYYY", key="seance_jour")
            voie = st.selectbox("Voie", list(voies), format_func=voies.__getitem__, key="seance_voie",
                                index=_voie_par_defaut(lt.orientation, list(voies)))
            if st.form_submit_button("Enregistrer la séance", key="enregistrer_seance", width="stretch"):
                try:
                    depot.enregistrer_seance(episode_id=entete["episode_id"], jour=jour, voie=voie,
                                             acteur=etat.acteur())
                except TriageError as exc:
                    st.error(str(exc))
                else:
                    fait, _ = depot.compter_seances(entete["episode_id"], date.max)
                    st.success(f"Séance enregistrée ({fait} sur cet épisode).")


def _voie_par_defaut(orientation: str | None, voies: list[str]) -> int:
    par_orientation = {"protocole": "forfait_protocole", "acces_direct": "ngap_acces_direct",
                       "sur_prescription": "ngap_prescription"}
    voie = par_orientation.get(orientation or "")
    return voies.index(voie) if voie in voies else 0
