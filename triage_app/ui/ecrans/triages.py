"""« Triages »: the episodes to re-assess, then this structure's triages newest first, one tap on a row opening it
(the triage's page resumes a draft, or shows a final one with its episode panel)."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from triage_app import presentation as pr
from triage_app.ui import chemins, etat
from triage_app.ui.composants import brut

_PAR_PAGE = 50
_STATUTS = {"brouillon": "Brouillon", "final": "Finalisé", "remplace": "Remplacé"}


def page() -> None:
    """The list; a row is a full-width button that opens its triage."""
    depot = etat.depot()
    tid = etat.triage_dans_url()
    if tid is not None and not depot.peut("triages.creer_triage"):  # a link opened by a read-only role (start page)
        chemins.triage(tid)
    m = depot.moteur
    orientations = {o.id: o.libelle for o in m.registre.commun.orientations}
    a_revoir(depot)
    st.markdown("### Triages")
    filtre = st.segmented_control("Statut", ["brouillon", "final"], key="filtre_statut",
                                  format_func=_STATUTS.__getitem__)
    recherche = st.text_input("Rechercher un patient (nom ou prénom)", key="recherche_patient", max_chars=100)
    numero = int(st.session_state.get("page_triages", 0))
    lignes = depot.triages.lister(limite=_PAR_PAGE, decalage=numero * _PAR_PAGE, statut=filtre, recherche=recherche)
    if not lignes:
        st.info("Aucun triage enregistré." if numero == 0 else "Fin de la liste.")
    titres = {pid: pc.modele.titre for pid, pc in m.protocoles.items()}
    ecrit = depot.peut("triages.creer_triage")
    if lignes:
        st.caption("Touchez une ligne pour ouvrir le triage" + (" (un brouillon se reprend là où il en était)."
                                                                if ecrit else "."))
    # One full-width button per triage: a tap opens it (a table would only select a cell on a tablet).
    for lt in lignes:
        statut = _STATUTS.get(lt.statut, lt.statut)
        if lt.orientation is None:
            orientation = "orientation à venir" if lt.provisoire else "sans orientation"
        else:  # a draft's as its card shows it, marked provisional (issue #29)
            orientation = orientations.get(lt.orientation, lt.orientation) + (" (provisoire)" if lt.provisoire else "")
        texte = (f"{pr.date_fr(lt.date_consultation)} · {brut(lt.patient)} · "
                 f"{titres.get(lt.protocole, lt.protocole)} · {orientation} · {statut}"
                 + (f" (version {lt.version})" if lt.version > 1 else ""))
        icone = ":material/edit_note:" if lt.statut == "brouillon" and ecrit else ":material/description:"
        if st.button(texte, key=f"ligne_{lt.id}", width="stretch", icon=icone):
            chemins.triage(lt.id)
    c1, c2 = st.columns(2)
    if numero > 0 and c1.button("← Plus récents", key="precedents"):
        st.session_state["page_triages"] = numero - 1
        st.rerun()
    if len(lignes) == _PAR_PAGE and c2.button("Plus anciens →", key="suivants"):
        st.session_state["page_triages"] = numero + 1
        st.rerun()


def a_revoir(depot: Any) -> None:
    """Open protocol episodes whose re-assessment (consultation 2) is due or late, the most pressing first."""
    if not depot.peut("episodes.a_revoir"):
        return
    liste = depot.episodes.a_revoir(date.today())
    if not liste:
        return
    m = depot.moteur
    libelles = m.registre.commun.libelles.episode.revue
    with st.container(border=True, key="a_revoir"):
        st.markdown(f"### À revoir ({len(liste)})")
        for r in liste:
            titre = m.protocoles[r.protocole].modele.titre if r.protocole in m.protocoles else r.protocole
            texte = (f"{brut(r.patient)} · {titre} · {libelles[r.revue]} (du {pr.date_fr(r.du)} au {pr.date_fr(r.au)})")
            if r.triage_id and st.button(texte, key=f"revoir_{r.episode_id}", width="stretch",
                                         icon=":material/event_repeat:"
                                         if r.revue == "due" else ":material/event_busy:"):
                chemins.triage(r.triage_id)
