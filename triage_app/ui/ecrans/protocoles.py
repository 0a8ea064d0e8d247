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
            # The states as a list (legible on a tablet); the diagram, whose text is tiny at tablet width, on demand.
            with st.expander("États et transitions", expanded=True):
                for e in pr.etats(m, pid):
                    fin = (f" → <b>orientation : {escape(e.orientation)}</b>" if e.orientation else
                           (" (fin)" if e.final else ""))
                    sorties = "".join(f"<li>{s.numero}. {escape(s.condition)} → {escape(s.vers)}</li>"
                                      for s in e.sorties)
                    st.html(f'<div class="etat{" urgent" if e.urgent else ""}"><b>{escape(e.libelle)}</b>{fin}'
                            f"{'<ul>' + sorties + '</ul>' if sorties else ''}</div>")
            with st.expander("Diagramme de la machine à états"):
                st.graphviz_chart(pr.diagramme_dot(m, pid), width="content")
            groupes = {g.id: g.libelle for g in p.groupes}
            for gid, libelle in groupes.items():
                with st.expander(libelle):
                    for q in (q for q in p.questions if q.groupe == gid):
                        src = sources.get(q.source)
                        titre = escape(src.titre if src else q.source)
                        texte, a_verifier = pr.verification_affichee(m, q.source, q.verification)
                        marque = badge(texte, not a_verifier and q.verification != "choix_produit")
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
