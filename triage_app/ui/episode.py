"""The episode of care on a page: counters from the store, sessions in one or two taps, the re-assessment, the
thresholds (DAP, accès direct cap), the documents for the médecin, the closing and its outcome.

Every write goes through the authorising service in a button's callback, so the run that follows shows the
counters as the store now holds them; what the callback has to say is kept for that run (``episode_commun.MESSAGE``).
"""

from __future__ import annotations

import html
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from triage_app import presentation as pr
from triage_app.errors import TriageError
from triage_app.export.episode import nom_fichier_episode_de
from triage_app.models.episode import EtatEpisode
from triage_app.services.actes import ConfirmationRequise
from triage_app.services.autorisation import ServiceAutorise
from triage_app.ui import episode_mesures, episode_suivi, etat
from triage_app.ui.composants import bouton_fichier, champ_date
from triage_app.ui.episode_commun import (
    afficher_message,
    dire,
    ecrire,
    jour_acte,
    jour_du_panneau,
    mois_historique,
    voies_remboursees,
)

_A_CONFIRMER = "confirmer_acte_"  # + panel key: the act the service asked to confirm, and why
_CARTE = "compteurs_carte_"  # + episode id: the counters the orientation card shows beside the panel
_DERNIER_GESTE = "dernier_geste_"  # + panel key: the last act recorded from this panel (act, day, key, when)
_GESTE = "geste_"  # + panel key: the key of the next tap
# A second tap on « Enregistrer l’acte » this soon after the first, for the same act and day, is the same tap (a
# double tap lands on the panel drawn after the first one, with a new key): it carries the first one's key.
DOUBLE_APPUI_S = 2.0
ACTES_TAP = ("seance", "bilan", "consultation_protocole_1")  # what a tap records (the re-assessment has its walk)


def _motifs_renvoi(m: Any) -> set[str]:
    """The closing reasons that send the patient on (shown as an alert): the cap's, and the urgences one."""
    return {m.registre.commun.suivi_episode.motif_cloture_plafond, "urgences"}


def cle_geste(cle: str) -> str:
    """The idempotency key of the next tap on this panel (rules v3, §9.8): random, kept by the session until an
    act is recorded with it, so a message delivered twice carries the same key and the service records one act.
    Random, never derived from what the panel shows: two tablets on one episode never share a key."""
    geste = st.session_state.get(_GESTE + cle)
    if geste is None:
        geste = st.session_state[_GESTE + cle] = uuid.uuid4().hex
    return geste


# -- callbacks -----------------------------------------------------------------------------------------------
@etat.rappel
def _enregistrer(episode_id: str, cle: str, demande: dict[str, Any], confirmations: frozenset[str] = frozenset(),
                 succes: str | None = None) -> None:
    """Record an act through the service; what it asks to confirm is kept for the panel to ask (nothing written)."""
    depot = etat.depot()
    libelles = depot.moteur.registre.commun.libelles.episode
    jour = date.fromisoformat(demande["jour"])
    acte = demande["acte"]

    def bilan() -> str:
        if succes is not None:
            return succes
        e = depot.episodes.etat_episode(episode_id, jour)
        texte = (f"Acte enregistré : {libelles.actes[acte]}, le {pr.date_fr(jour)} — {e.seances_serie} séance(s) "
                 "dans la série.")
        if e.actes and e.actes[-1].voie not in voies_remboursees():
            texte += " Sans prise en charge (hors seuils)."
        if e.statut == "clos" and e.motif_cloture:
            texte += f" Épisode clos : {libelles.motifs_cloture[e.motif_cloture]}."
        return texte

    st.session_state.pop(_A_CONFIRMER + cle, None)
    dernier = st.session_state.get(_DERNIER_GESTE + cle)
    if (not confirmations and dernier and (dernier["acte"], dernier["jour"]) == (acte, demande["jour"])
            and time.monotonic() - dernier["quand"] < DOUBLE_APPUI_S):
        demande = {**demande, "geste": dernier["geste"]}  # a double tap: the first tap's act, nothing new
    try:
        depot.episodes.enregistrer_seance(episode_id=episode_id, jour=jour, acte=acte,
                                          evolution=demande.get("evolution"), suite=demande.get("suite"),
                                          cle=demande["geste"], confirmations=confirmations)
    except ConfirmationRequise as question:
        st.session_state[_A_CONFIRMER + cle] = {**demande, "codes": sorted(question.codes),
                                               "messages": [a.message for a in question.avertissements],
                                               "succes": succes}
        return
    except (TriageError, pr.DateInvalide) as exc:
        dire(cle, "erreur", str(exc))
        return
    st.session_state[_DERNIER_GESTE + cle] = {"acte": acte, "jour": demande["jour"], "geste": demande["geste"],
                                              "quand": time.monotonic()}
    st.session_state.pop(_GESTE + cle, None)  # the next tap is another act: a new key
    st.session_state.pop(f"acte_{cle}", None)  # the next act proposed afresh (a session once the bilan is done)
    dire(cle, "succes", bilan())


@etat.rappel
def _seance(episode_id: str, cle: str, geste: str) -> None:
    acte = st.session_state.get(f"acte_{cle}") or "seance"
    try:
        jour = jour_acte(cle)
    except pr.DateInvalide as exc:
        dire(cle, "erreur", str(exc))
        return
    _enregistrer(episode_id, cle, {"acte": acte, "jour": jour.isoformat(), "geste": geste})


@etat.rappel
def _confirmer(episode_id: str, cle: str) -> None:
    demande = st.session_state.get(_A_CONFIRMER + cle)
    if demande:
        _enregistrer(episode_id, cle, demande, frozenset(demande["codes"]), demande.get("succes"))


@etat.rappel
def _renoncer(cle: str) -> None:
    st.session_state.pop(_A_CONFIRMER + cle, None)
    dire(cle, "alerte", "Acte non enregistré.")


@etat.rappel
def _annuler_derniere(episode_id: str, seance_id: int, cle: str) -> None:
    ecrire(cle, lambda: etat.depot().episodes.supprimer_seance(seance_id), "Dernier acte supprimé.")


@etat.rappel
def _reevaluation(episode_id: str, cle: str, geste: str) -> None:
    depot = etat.depot()
    evolution, suite = st.session_state.get(f"evolution_{cle}"), st.session_state.get(f"suite_{cle}")
    if evolution is None or suite is None:
        dire(cle, "erreur", "Réévaluation : choisissez l’évolution et la suite avant d’enregistrer.")
        return
    try:
        jour = jour_acte(cle)
    except pr.DateInvalide as exc:
        dire(cle, "erreur", str(exc))
        return
    libelles = depot.moteur.registre.commun.libelles.episode
    _enregistrer(episode_id, cle, {"acte": "consultation_protocole_2", "jour": jour.isoformat(), "geste": geste,
                                   "evolution": evolution, "suite": suite},
                 succes=f"Réévaluation enregistrée : {libelles.evolutions[evolution]} — {libelles.suites[suite]}.")


def lignes_compteurs(e: EtatEpisode) -> list[str]:
    """The episode's current counters, one line each (HTML-safe): the panel and the card show the same."""
    lignes = [f"Séances dans la série : <b>{e.seances_serie}</b>"
              + (f" (+ {e.seances_non_facturees} sans prise en charge)" if e.seances_non_facturees else "")]
    if e.restantes is not None:
        sur = f" sur {e.autorisees}" if e.autorisees is not None else ""
        borne = ""
        if e.borne_12_mois:
            seuil = etat.moteur().protocoles[e.protocole].seuils.get("seuil_dap_12_mois")
            borne = f" — borne des {seuil} séances sur {mois_historique()} mois"
        lignes.append(f"Restantes : <b>{e.restantes}</b>{sur}{borne}")
    if e.plafond_acces_direct is not None:
        ligne = f"Plafond de l’accès direct : {e.plafond_acces_direct} séances sans diagnostic médical"
        if e.periode_acces_direct_du is not None and e.periode_acces_direct_au is not None:
            ligne += (f" — {e.seances_periode_acces_direct} faite(s) du {pr.date_fr(e.periode_acces_direct_du)} "
                      f"au {pr.date_fr(e.periode_acces_direct_au)} (tous épisodes de ce motif)")
        lignes.append(ligne)
    declare = ""
    if e.date_declaration is not None:
        declare = (f" — déclaré (dernière séance le {pr.date_fr(e.date_declaration)})" if e.declaration_en_cours
                   else f" — déclaration du {pr.date_fr(e.date_declaration)} expirée")
    lignes.append(f"Sur {mois_historique()} mois (autres épisodes, séances remboursées) : {e.seances_12_mois} "
                  "séance(s), "
                  f"{e.episodes_12_mois} épisode(s){declare}")
    if e.statut == "ouvert" and e.prochain_bdk is not None:
        lignes.append(f"Prochain bilan (BDK) : à la séance n° {e.prochain_bdk}")
    return lignes


def compteurs(e: EtatEpisode) -> None:
    """The counters as one line each; the numbers also as data attributes (the browser tests read them)."""
    restantes = "" if e.restantes is None else str(e.restantes)
    corps = "".join(f"<div>{ligne}</div>" for ligne in lignes_compteurs(e))
    corps += "".join(f'<div class="remarque">{html.escape(r)}</div>' for r in e.remarques)
    st.html(f'<div class="compteurs" data-episode="{e.episode_id}" data-seances="{e.seances_serie}" '
            f'data-restantes="{html.escape(restantes)}" data-statut="{e.statut}">{corps}</div>')


def _revue(depot: ServiceAutorise, e: EtatEpisode) -> None:
    if e.reevaluation_du is None or e.reevaluation_au is None:
        return
    libelles = depot.moteur.registre.commun.libelles.episode
    fenetre = f"Réévaluation (consultation 2) : du {pr.date_fr(e.reevaluation_du)} au {pr.date_fr(e.reevaluation_au)}"
    if e.reevaluation_faite_le is not None:
        st.markdown(f"{fenetre} — faite le {pr.date_fr(e.reevaluation_faite_le)}")
    elif e.revue in ("due", "en_retard"):
        (st.warning if e.revue == "en_retard" else st.info)(f"{fenetre} — **{libelles.revue[e.revue]}**")
    elif e.revue is not None:
        st.markdown(f"{fenetre} — {libelles.revue[e.revue]}")


def _documents(depot: ServiceAutorise, episode_id: str, e: EtatEpisode, cle: str) -> None:
    """The DAP when the next session needs one; the summary sheet from the threshold and at the end of care."""
    if not depot.peut("documents.dossier_episode"):
        return
    jour = jour_du_panneau(cle)

    def produire(genre: str) -> Callable[[], bytes]:
        def octets() -> bytes:  # produced and audited by the service
            return depot.documents.document_episode(episode_id, genre, jour)

        return octets

    def nom(genre: str, extension: str) -> str:  # no patient data in a file name: the day, an opaque id
        return nom_fichier_episode_de(genre, jour, episode_id, extension)

    boutons: list[tuple[str, str, str, str]] = []
    if e.dap_necessaire and e.statut == "ouvert":
        boutons.append(("dap", "Demande d’accord préalable (PDF)", nom("dap", "pdf"), "application/pdf"))
    if e.synthese_due or (e.statut == "clos" and e.seances_serie > 0):
        boutons += [("synthese", "Fiche de synthèse (PDF)", nom("synthese", "pdf"), "application/pdf"),
                    ("synthese-txt", "Fiche de synthèse (texte)", nom("synthese", "txt"), "text/plain")]
    if not boutons:
        return
    _manques_synthese(depot, e)
    if e.synthese_motifs:
        st.caption("Fiche de synthèse due : " + " ; ".join(e.synthese_motifs) + ".")
    colonnes = st.columns(len(boutons))
    for colonne, (genre, libelle, fichier, mime) in zip(colonnes, boutons, strict=True):
        with colonne:
            bouton_fichier(libelle, f"doc_{genre}_{cle}", produire(genre), nom=fichier, mime=mime)


def _manques_synthese(depot: ServiceAutorise, e: EtatEpisode) -> None:
    """Before the summary sheet or the DAP: what it would leave blank while the kiné can give it (the patient's
    médecin traitant, the kiné's RPPS), with where it is filled (issue #29)."""
    manques = []
    if not depot.patients.identite_patient(e.patient_id).medecin_nom:
        manques.append("le médecin traitant du patient (volet « Identité (INS) et médecin traitant »)")
    profil = depot.comptes.profil(etat.acteur())
    if profil is not None and not profil.rpps:
        manques.append("votre numéro RPPS (page « Mon compte »)")
    if manques:
        st.warning("Avant d’envoyer la fiche au médecin, compléter : " + " ; ".join(manques) + ".",
                   icon=":material/contact_mail:")


def _saisie(depot: ServiceAutorise, episode_id: str, e: EtatEpisode, cle: str) -> None:
    """Record a visit: the date (today by default) and the act (a session by default): one or two taps."""
    libelles = depot.moteur.registre.commun.libelles.episode
    if e.dap_necessaire:
        st.warning("La prochaine séance dépasse le seuil de prise en charge : **demande d’accord préalable (DAP) "
                   "nécessaire** avant de la réaliser. La DAP pré-remplie se télécharge ci-dessous.",
                   icon=":material/assignment_late:")
    if e.statut == "ouvert" and e.plafond_acces_direct is not None and e.restantes == 1:  # before it, not after
        st.warning(depot.moteur.registre.commun.remarques["acces_direct_derniere_seance"].format(
            plafond=e.plafond_acces_direct), icon=":material/warning:")
    c1, c2 = st.columns([1, 2])
    if f"jour_{cle}" not in st.session_state:
        st.session_state[f"jour_{cle}"] = pr.date_fr(date.today())
    champ_date("Date de l’acte", f"jour_{cle}", c1)
    if f"acte_{cle}" not in st.session_state:  # rules v3 (§9.7): outside the protocol, the bilan comes first
        premier = depot.moteur.registre.commun.episode_de_soins.actes_produit.premier_acte_hors_protocole
        sans_acte = not e.actes and e.orientation != "protocole"
        st.session_state[f"acte_{cle}"] = premier if sans_acte else "seance"
    c2.segmented_control("Acte", list(ACTES_TAP), key=f"acte_{cle}", format_func=libelles.actes.__getitem__)
    geste = cle_geste(cle)
    if demande := st.session_state.get(_A_CONFIRMER + cle):
        with st.container(border=True, key=f"confirmation_{cle}"):
            for message in demande["messages"]:
                st.warning(message, icon=":material/help:")
            g, d = st.columns(2)
            g.button("Enregistrer quand même", key=f"confirmer_{cle}", type="primary", width="stretch",
                     on_click=_confirmer, args=(episode_id, cle))
            d.button("Ne pas enregistrer", key=f"renoncer_{cle}", width="stretch", on_click=_renoncer, args=(cle,))
    else:
        st.button("Enregistrer l’acte", key=f"seance_{cle}", type="primary", width="stretch", on_click=_seance,
                  args=(episode_id, cle, geste), icon=":material/add_task:")
    if e.reevaluation_du is not None and e.reevaluation_faite_le is None:
        if not st.session_state.get(f"revue_ouverte_{cle}", e.revue in ("due", "en_retard")):
            st.button("Réévaluation (consultation de protocole 2)", key=f"ouvrir_revue_{cle}",
                      icon=":material/event_repeat:", width="stretch", on_click=st.session_state.__setitem__,
                      args=(f"revue_ouverte_{cle}", True))
        else:
            _reevaluation_saisie(depot, episode_id, cle, geste)
    _derniers(depot, episode_id, e, cle)


def _reevaluation_saisie(depot: ServiceAutorise, episode_id: str, cle: str, geste: str) -> None:
    """The re-assessment's short walk: what changed, what follows."""
    libelles = depot.moteur.registre.commun.libelles.episode
    with st.container(border=True, key=f"revue_{cle}"):
        st.markdown("**Réévaluation (consultation de protocole 2)**")
        episode_mesures.suggestion(depot, episode_id, cle)
        st.segmented_control("Évolution depuis la consultation initiale", list(libelles.evolutions),
                             key=f"evolution_{cle}", format_func=libelles.evolutions.__getitem__)
        st.segmented_control("Suite", list(libelles.suites), key=f"suite_{cle}",
                             format_func=libelles.suites.__getitem__)
        st.button("Enregistrer la réévaluation", key=f"reevaluation_{cle}", width="stretch",
                  on_click=_reevaluation, args=(episode_id, cle, geste))


def _derniers(depot: ServiceAutorise, episode_id: str, e: EtatEpisode, cle: str) -> None:
    """The last acts, and undoing the last one (a tap recorded by mistake)."""
    libelles = depot.moteur.registre.commun.libelles.episode
    remboursees = voies_remboursees()
    if e.actes:
        derniers = e.actes[-5:]
        st.caption("Derniers actes : " + " · ".join(
            f"{pr.date_fr(a.date)} {libelles.actes[a.acte]}"
            + (" (sans prise en charge)" if a.acte != "consultation_protocole_1" and a.voie not in remboursees
               else "")
            for a in derniers))
        st.button("Annuler le dernier acte", key=f"annuler_{cle}", on_click=_annuler_derniere,
                  args=(episode_id, e.actes[-1].id, cle), icon=":material/undo:")


def _signature(e: EtatEpisode) -> tuple[Any, ...]:
    return e.seances_serie, e.restantes, e.statut, e.seances_periode_acces_direct


def noter_compteurs_carte(e: EtatEpisode) -> None:
    """The page drew the orientation card with these counters: a change the panel makes redraws the page."""
    st.session_state[_CARTE + e.episode_id] = _signature(e)


@etat.fragment
def panneau(episode_id: str, cle: str | None = None) -> EtatEpisode | None:
    """The episode's panel; ``cle`` tells apart several panels on one page (default: the episode's id).

    A fragment: an act recorded reruns the panel only (its counters, thresholds and documents), not the page."""
    cle = cle or episode_id
    depot = etat.depot()
    m = depot.moteur
    libelles = m.registre.commun.libelles.episode
    try:
        e = depot.episodes.etat_episode(episode_id, jour_du_panneau(cle))
    except TriageError as exc:
        st.error(str(exc))
        return None
    carte = st.session_state.get(_CARTE + episode_id)
    if carte is not None and carte != _signature(e):  # the card beside shows the counters too: one set (§9.10)
        st.session_state[_CARTE + episode_id] = _signature(e)
        st.rerun(scope="app")
    titre = m.protocoles[e.protocole].modele.titre if e.protocole in m.protocoles else e.protocole
    with st.container(border=True, key=f"episode_{cle}"):
        st.markdown(f"**Épisode : {titre}** — débuté le {pr.date_fr(e.date_debut)}")
        afficher_message(cle)
        if e.statut == "clos":
            motif = libelles.motifs_cloture.get(e.motif_cloture or "", e.motif_cloture or "")
            quand = f" le {pr.date_fr(e.date_cloture)}" if e.date_cloture else ""
            (st.error if e.motif_cloture in _motifs_renvoi(m) else st.info)(
                f"**Épisode clos{quand}** : {motif}.", icon=":material/lock:")
        compteurs(e)
        _revue(depot, e)
        ecrit = depot.peut("episodes.enregistrer_seance")
        if e.statut == "ouvert" and ecrit:
            _saisie(depot, episode_id, e, cle)
        if depot.peut("episodes.enregistrer_texte"):
            episode_suivi.textes_medecin(depot, e, episode_id, cle)
        episode_mesures.mesures(depot, e, episode_id, cle)
        _documents(depot, episode_id, e, cle)
        if depot.peut("episodes.declarer_historique") and e.statut == "ouvert":
            episode_suivi.historique(e, episode_id, cle)
        if depot.peut("episodes.renseigner_issue"):
            episode_suivi.cloture_et_issue(depot, e, episode_id, cle)
    return e
