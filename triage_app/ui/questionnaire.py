"""The patient's questionnaire on the tablet (issue #30): the kiné opens it for an episode and hands the tablet over.

While it is open, the page shows this questionnaire and nothing else (no menu, no other page: the app's router is
not built); each answer is saved as it is given (a dropped connection loses nothing); « Rendre la tablette » or the
last answer locks the page until the kiné signs back in with their password. A reload starts a new session, which
opens on the login screen: the patient never reaches the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

from triage_app.comptes import ErreurConnexion
from triage_app.errors import TriageError
from triage_app.models.mesures import ItemMesure, Mesure
from triage_app.ui import declarations, etat
from triage_app.ui.composants import brut, en_francais
from triage_app.ui.connexion import deconnecter

CLE = "questionnaire_patient"  # the open questionnaire (a dict): present = the page is the patient's


@dataclass(frozen=True)
class Etape:
    mesure: Mesure
    item: ItemMesure
    rang: int  # 1-based, within the measure


def actif() -> bool:
    """Whether the tablet is in the patient's hands (or locked after it)."""
    return isinstance(st.session_state.get(CLE), dict)


def ouvrir(episode_id: str, protocole: str, moment: str, jour: date, triage_id: str | None = None) -> None:
    """Open the questionnaire of ``moment`` for the episode (the measures of its protocol taken at that moment).

    One begun the same day for the same moment (a reload, a dropped connection, the tablet taken back midway)
    resumes at its first unanswered question, with the answers already given: nothing is asked twice."""
    depot = etat.depot()
    mesures = [m.id for m in depot.mesures.mesures_du_protocole(protocole) if moment in m.moments]
    deja = {x.mesure: x for x in depot.mesures.mesures_episode(episode_id)
            if x.declare_par == "patient" and x.moment == moment and x.jour == jour and x.mesure in mesures}
    q = {"episode": episode_id, "protocole": protocole, "moment": moment, "jour": jour.isoformat(),
         "mesures": mesures, "ids": {mid: x.id for mid, x in deja.items()}, "etape": 0, "fini": False,
         "retour": triage_id, "erreur": None}
    etapes = _etapes(q)
    q["etape"] = next((i for i, e in enumerate(etapes)
                       if e.mesure.id not in deja or e.item.id not in deja[e.mesure.id].reponses), len(etapes))
    q["fini"] = q["etape"] >= len(etapes)
    st.session_state[CLE] = q
    etat.noter_remise(etat.utilisateur().identifiant)


@etat.rappel
def _ouvrir(episode_id: str, protocole: str, moment: str, jour: date, triage_id: str) -> None:
    ouvrir(episode_id, protocole, moment, jour, triage_id)


def bouton(triage_id: str, episode_id: str, protocole: str, jour: date) -> None:
    """On a draft triage: hand the tablet over for the intake questionnaire (pain, disability, STarT Back)."""
    if etat.moteur().registre.mesures is None or not etat.depot().peut("mesures.enregistrer"):
        return
    st.button("Questionnaire patient (remettre la tablette)", key=f"questionnaire_triage_{triage_id}",
              on_click=_ouvrir, args=(episode_id, protocole, "bilan", jour, triage_id), icon=":material/tablet:")


def _etapes(q: dict[str, Any]) -> list[Etape]:
    params = etat.moteur().registre.mesures
    if params is None:
        return []
    etapes = []
    for mid in q["mesures"]:
        m = params.mesure(mid)
        etapes += [Etape(m, it, i) for i, it in enumerate(m.tous_les_items(), start=1)]
    return etapes


@etat.rappel
def _repondre(indice: int, valeur: int | None) -> None:
    q = st.session_state.get(CLE)
    if not isinstance(q, dict) or q.get("fini") or q.get("etape") != indice:
        return  # a second tap on the same screen (already answered and moved on), or after the lock: nothing
    etapes = _etapes(q)
    if not 0 <= indice < len(etapes):
        return
    e = etapes[indice]
    try:
        q["ids"][e.mesure.id] = etat.depot().mesures.enregistrer(
            episode_id=q["episode"], mesure=e.mesure.id, moment=q["moment"], jour=date.fromisoformat(q["jour"]),
            reponses={e.item.id: valeur}, declare_par="patient", mesure_id=q["ids"].get(e.mesure.id))
    except TriageError as exc:
        q["erreur"] = en_francais(exc)
        return
    q["erreur"] = None
    q["etape"] = indice + 1
    if q["etape"] >= len(etapes):
        q["fini"] = True


@etat.rappel
def _precedent() -> None:
    q = st.session_state.get(CLE)
    if isinstance(q, dict) and not q.get("fini") and q.get("etape", 0) > 0:
        q["etape"] -= 1


@etat.rappel
def _rendre() -> None:
    q = st.session_state.get(CLE)
    if isinstance(q, dict):
        q["fini"] = True


def page() -> None:
    """The patient's screen: one item at a time, large, with its progress; or the locked screen at the end."""
    q = st.session_state[CLE]
    st.html("<style>.stApp button p{font-size:1.35rem}</style>")
    etapes = _etapes(q)
    if q.get("fini") or not etapes:
        _verrou(q)
        return
    indice = min(int(q["etape"]), len(etapes) - 1)
    e = etapes[indice]
    st.markdown("### Questionnaire")
    st.progress(indice / len(etapes), text=f"Question {indice + 1} sur {len(etapes)}")
    if e.rang == 1:
        st.info(e.mesure.consigne)
    st.markdown(f"#### {e.mesure.libelle_court} — {_question(e)}")  # large: read at arm's length
    if q.get("erreur"):
        st.error(q["erreur"])
    _reponses(e, indice)
    st.divider()
    colonnes = st.columns(2)
    with colonnes[0]:
        if indice > 0:
            st.button("Question précédente", key="questionnaire_precedent", on_click=_precedent, width="stretch",
                      icon=":material/arrow_back:")
    with colonnes[1]:
        st.button("Rendre la tablette", key="questionnaire_rendre", on_click=_rendre, width="stretch",
                  icon=":material/lock:")


def _question(e: Etape) -> str:
    if e.item.libelle:
        return brut(e.item.libelle)
    n = e.mesure.items_numerotes.nombre if e.mesure.items_numerotes else len(e.mesure.tous_les_items())
    return f"phrase n° {e.rang} sur {n} de votre feuille : lisez-la, puis répondez."


def _reponses(e: Etape, indice: int) -> None:
    r = e.item.reponses
    if r.genre == "oui_non":
        options: list[tuple[int | None, str]] = [(1, "Oui"), (0, "Non")]
    elif r.genre == "echelle":
        options = [(v, str(v)) for v in r.acceptees() if v is not None]
    else:
        options = [(c.valeur, c.libelle) for c in r.choix]
    par_ligne = 6 if r.genre == "echelle" else (2 if r.genre == "oui_non" else 1)
    for debut in range(0, len(options), par_ligne):
        colonnes = st.columns(par_ligne)
        for colonne, (valeur, libelle) in zip(colonnes, options[debut:debut + par_ligne], strict=False):
            with colonne:
                st.button(libelle, key=f"questionnaire_{indice}_{'na' if valeur is None else valeur}",
                          on_click=_repondre, args=(indice, valeur), width="stretch", type="primary")


def _verrou(q: dict[str, Any]) -> None:
    """The end: the tablet goes back to the kiné, who signs in again to leave this screen."""
    st.markdown("### Merci")
    st.success("Vos réponses sont enregistrées. **Rendez la tablette au kinésithérapeute.**",
               icon=":material/check_circle:")
    utilisateur = etat.utilisateur()
    st.caption(f"Reprise par {brut(utilisateur.nom)} :")
    if utilisateur.source != "local":
        st.button("Changer d’utilisateur", key="questionnaire_changer", on_click=_deconnecter, width="stretch")
        return
    with st.form("form_reprise_tablette", enter_to_submit=False):
        mot_de_passe = st.text_input("Mot de passe du kinésithérapeute", type="password", key="reprise_mdp")
        envoye = st.form_submit_button("Reprendre la tablette", type="primary", key="reprendre_tablette",
                                       width="stretch")
    if envoye:
        try:
            etat.depot_brut().comptes.connecter(utilisateur.identifiant, mot_de_passe)
        except ErreurConnexion as exc:
            st.error(f"Reprise refusée : {exc}.")
            return
        retour = q.get("retour")
        del st.session_state[CLE]
        etat.fin_remise(utilisateur.identifiant)
        declarations.oublier()
        if retour:
            st.query_params[etat.PARAM_TRIAGE] = retour
        st.rerun()


def _deconnecter() -> None:
    deconnecter()
