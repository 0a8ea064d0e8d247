"""« Protocoles »: each protocol's state diagram, its questions with sources, the parameters in force today."""

from __future__ import annotations

from datetime import date
from html import escape

import streamlit as st

from triage_app import presentation as pr
from triage_app.ui import etat
from triage_app.ui.composants import badge


def page() -> None:
    """Read-only view of the rules in force, for the kiné and the coordinator."""
    m = etat.moteur()
    sources = m.registre.sources
    verif = m.registre.commun.libelles.verification
    st.markdown("### Protocoles")
    onglets = st.tabs([pc.modele.titre for pc in m.protocoles.values()] + ["Paramètres en vigueur"])
    for onglet, (pid, pc) in zip(onglets, m.protocoles.items(), strict=False):
        with onglet:
            p = pc.modele
            st.caption(f"Version {p.version} · en vigueur depuis le {pr.date_fr(p.en_vigueur_du)} · "
                       f"empreinte {pc.empreinte[:19]}…")
            st.markdown(p.description)
            st.graphviz_chart(pr.diagramme_dot(m, pid), width="stretch")
            groupes = {g.id: g.libelle for g in p.groupes}
            for gid, libelle in groupes.items():
                with st.expander(libelle):
                    for q in (q for q in p.questions if q.groupe == gid):
                        src = sources.get(q.source)
                        titre = escape(src.titre if src else q.source)
                        marque = badge(verif.get(q.verification, q.verification), q.verification == "primaire")
                        st.html(f"<div><b>{escape(q.libelle)}</b> {marque}<br><small>{escape(q.aide)}</small><br>"
                                f"<small>Source : {titre}</small></div>")
    with onglets[-1]:
        jour = date.today()
        st.caption(f"Valeurs en vigueur au {pr.date_fr(jour)}.")
        for v in pr.parametres_au(m, jour):
            annonce = f" — {'; '.join(v.annonces)}" if v.annonces else ""
            lien = f'<a href="{escape(v.reference_url)}" target="_blank" rel="noopener">{escape(v.reference)}</a>' \
                if v.reference_url else escape(v.reference)
            st.html(f"<div><b>{escape(v.description)}</b> : {escape(v.valeur)} (depuis le {v.depuis}){escape(annonce)} "
                    f"{badge(v.badge, v.badge == verif.get('primaire'))}<br><small>{lien}</small></div>")
