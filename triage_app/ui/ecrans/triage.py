"""A triage's page: the draft's walk question group by question group, the card updating as answers come, the
corrections of the start form, « Finaliser »; a final triage with its documents and its episode."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import streamlit as st

from triage_app import presentation as pr
from triage_app.errors import TriageError
from triage_app.export.formats import FORMATS
from triage_app.export.resume import nom_fichier_de
from triage_app.services.autorisation import ServiceAutorise
from triage_app.services.mesures import Declarations
from triage_app.services.saisie import LONGUEUR_NOTE
from triage_app.storage.tables import Triage
from triage_app.ui import chemins, declarations, etat, identites, questionnaire
from triage_app.ui import episode as vue_episode
from triage_app.ui.composants import (
    bandeau_urgence,
    bouton_fichier,
    bouton_imprimer,
    brut,
    carte_orientation,
    champ_date,
    en_francais,
    saisie_instantanee,
    texte_html,
    volet,
)
from triage_app.ui.ecrans.depart import A_OUVRIR, COUVERTURE_DEFAUT, LIBELLES_CHAMPS, formulaire_patient
from triage_app.ui.episode_commun import jour_affiche
from triage_app.ui.valeurs import texte as en_texte

OUI, NON = "oui", "non"
_GROUPE_OUVERT = "groupe_ouvert"  # opened by hand: stays open until « Continuer »
_GROUPE_CIBLE = "groupe_cible"  # where « Continuer » leads: open while incomplete
_TRIAGE_AFFICHE = "triage_affiche"
_ALLER_NOUVEAU = "aller_nouveau_triage"
_ERREUR_FINALISATION = "erreur_finalisation"
_CORRECTION = "corr_"  # widget keys of the start-form corrections (one per case field)
_ERREUR_CORRECTION = "erreur_correction"
IMPRESSIONS = {"pdf": "Imprimer le compte rendu", "handout": "Imprimer la fiche patient"}
NOTE = "note"  # widget key prefix of the draft note (one per triage: another triage starts with its own note)


def page_nouveau() -> None:
    """« Nouveau triage » (the menu's entry): the empty form; a link carrying a triage (an old bookmark, the URL
    kept across the login after a reload) is sent to that triage's own page."""
    tid = st.query_params.get(etat.PARAM_TRIAGE)
    if tid:
        chemins.triage(tid)
    page()


def page() -> None:
    """The page: the patient form without a triage in the URL, the walk with one."""
    if (ouvert := st.session_state.pop(A_OUVRIR, None)) is not None:  # a triage just started: its own page
        chemins.triage(ouvert)
    if st.session_state.pop(_ALLER_NOUVEAU, False):  # « Nouveau triage » tapped: the form, without drawing this page
        chemins.aller("nouveau")
    depot = etat.depot()
    tid = etat.triage_dans_url()
    if tid is None and st.query_params.get(etat.PARAM_TRIAGE):
        st.error("Lien de triage invalide.")
        etat.ouvrir_triage(None)
    if st.session_state.get(_TRIAGE_AFFICHE) != tid:
        # Another triage: forget the previous one's widget states.
        for cle in [k for k in st.session_state if str(k).startswith(("q_", _GROUPE_OUVERT, _GROUPE_CIBLE,
                                                                      _CORRECTION, _ERREUR_CORRECTION))]:
            del st.session_state[cle]
        st.session_state[_TRIAGE_AFFICHE] = tid
    ecrit = depot.peut("triages.creer_triage")
    if tid is None:
        if ecrit:
            formulaire_patient(depot)
        else:
            st.info("Ouvrez un triage depuis la page « Triages ».")
        return
    try:
        triage, entete = depot.triages.charger_entete(tid)
    except TriageError:
        st.error("Ce triage est introuvable (lien ancien ou triage effacé).")
        if st.button("Commencer un nouveau triage", key="recommencer"):
            etat.ouvrir_triage(None)
            st.rerun()
        return
    protocole = etat.moteur().protocoles[triage.cas["protocole"]].modele
    st.markdown(f"#### {brut(entete['patient'])} · {protocole.titre}")
    st.caption(f"Né(e) le {pr.date_fr(entete['date_naissance'])} · début le {pr.date_fr(entete['date_debut'])} · "
               f"consultation du {pr.date_fr(triage.cas['date_consultation'])} · version {triage.version} · "
               f"{'brouillon enregistré' if triage.statut == 'brouillon' else 'finalisé'}")
    if entete["autres_triages"] or entete["actes_episode"]:
        st.info(f"Ce triage rejoint l’épisode en cours, commencé le {pr.date_fr(entete['date_debut'])} "
                f"({entete['autres_triages']} triage(s) et {entete['actes_episode']} acte(s) avant celui-ci).",
                icon=":material/link:")
    identites.panneau(entete["patient_id"], f"triage_{tid}")
    if triage.statut == "brouillon" and ecrit:
        questionnaire.bouton(tid, triage.episode_id, triage.cas["protocole"],
                             date.fromisoformat(triage.cas["date_consultation"]))
        corrections(tid, triage.cas)
        marche(tid)
    else:
        resultat_final(depot, triage)


# -- corrections of the start form (a draft) --------------------------------------------------------
def _valeur(cas: dict[str, Any], chemin: str) -> Any:
    cible: Any = cas
    for part in chemin.split("."):
        cible = cible.get(part) if isinstance(cible, dict) else None
    return cible


@etat.rappel
def _corriger(tid: str, chemin: str) -> None:
    """Write one corrected field of the draft's case (audited by the service), dates checked first."""
    valeur = st.session_state.get(_CORRECTION + chemin)
    st.session_state.pop(_ERREUR_CORRECTION, None)
    depot = etat.depot()
    cas = depot.triages.charger(tid).cas
    if chemin in ("date_consultation", "episode.date_debut"):
        libelle = {"date_consultation": "Date de consultation",
                   "episode.date_debut": "Début de la douleur ou date du traumatisme"}[chemin]
        try:
            valeur = pr.lire_date(valeur, libelle, minimum=date(1900, 1, 1), maximum=date.today())
        except pr.DateInvalide as exc:
            st.session_state[_ERREUR_CORRECTION] = f"{exc} Non enregistré."
            return
        if valeur is None:
            st.session_state[_ERREUR_CORRECTION] = f"{libelle} : date à renseigner."
            return
        autre = {"date_consultation": "episode.date_debut", "episode.date_debut": "date_consultation"}[chemin]
        debut, consultation = (valeur, date.fromisoformat(cas["date_consultation"])) \
            if chemin == "episode.date_debut" else (date.fromisoformat(_valeur(cas, autre)), valeur)
        if debut > consultation:
            st.session_state[_ERREUR_CORRECTION] = ("Le début de la douleur ou la date du traumatisme est "
                                                    "postérieur à la date de consultation : non enregistré.")
            return
        valeur = valeur.isoformat()
    try:
        depot.triages.modifier_brouillon(tid, {chemin: valeur}, acteur=etat.acteur())
    except TriageError as exc:
        st.session_state[_ERREUR_CORRECTION] = str(exc)


def corrections(tid: str, cas: dict[str, Any]) -> None:
    """Every field of the start form, correctable in place until the triage is finalised."""
    m = etat.moteur()
    couvertures = m.registre.commun.libelles.couvertures
    # Built only while open (a correction is rare; the form is a dozen widgets). Its key starts like the fields' so
    # that another triage starts with it closed.
    with volet("Corriger le patient et l’épisode", _CORRECTION + "volet", icone=":material/edit:") as section:
        if not section.open:
            return
        if erreur := st.session_state.get(_ERREUR_CORRECTION):
            st.error(erreur)
        c1, c2 = st.columns(2)
        for colonne, chemin, libelle in ((c1, "episode.date_debut", "Début de la douleur ou date du traumatisme"),
                                         (c2, "date_consultation", "Date de consultation")):
            cle = _CORRECTION + chemin
            if cle not in st.session_state:
                st.session_state[cle] = pr.date_fr(_valeur(cas, chemin))
            champ_date(libelle, cle, colonne, on_change=_corriger, args=(tid, chemin))
        cle = _CORRECTION + "patient.couverture"
        if cle not in st.session_state:
            st.session_state[cle] = _valeur(cas, "patient.couverture") or COUVERTURE_DEFAUT
        st.selectbox("Couverture", list(couvertures), key=cle, format_func=couvertures.__getitem__,
                     on_change=_corriger, args=(tid, "patient.couverture"))
        for chemin, libelle in LIBELLES_CHAMPS.items():
            if chemin == "episode.antecedent_lombalgie" and cas["protocole"] != "lombalgie_aigue":
                continue
            cle = _CORRECTION + chemin
            if cle not in st.session_state:
                st.session_state[cle] = bool(_valeur(cas, chemin))
            st.toggle(libelle, key=cle, on_change=_corriger, args=(tid, chemin))


# -- the walk ---------------------------------------------------------------------------------------
def _vers_widget(q: pr.VueQuestion, reponse: Any = None) -> Any:
    valeur = q.reponse if reponse is None else reponse
    if valeur is None:
        return None
    if q.type == "booleen":
        return OUI if valeur else NON
    return valeur


# A second tap this soon after an answer is the same finger (a double tap): when the answer completed its group,
# the group closed and the next group's header slid under the finger; that tap must not open it.
DOUBLE_TAP_S = 0.6
_DERNIERE_REPONSE = "derniere_reponse"


@etat.rappel
def _enregistrer(tid: str, qid: str, type_: str, groupe: str) -> None:
    st.session_state[_DERNIERE_REPONSE] = time.monotonic()
    valeur = st.session_state.get(f"q_{qid}")
    if type_ == "booleen" and valeur is not None:
        valeur = valeur == OUI
    etat.depot().triages.enregistrer_reponse(tid, qid, valeur, acteur=etat.acteur(), etape=groupe)


@etat.rappel
def _aucun_signe(tid: str, groupe: pr.VueGroupe) -> None:
    # Written by the service only where no answer exists *in the database* at write time: a « oui » given
    # since the page was drawn (another tab or tablet) is never replaced. A control already set on this
    # page (a tap whose own callback may run after this one) is left alone too.
    depot = etat.depot()
    a_remplir = {q: v for q, v in pr.reponses_aucun_signe(groupe).items()
                 if st.session_state.get(f"q_{q}") is None}
    depot.triages.completer_reponses(tid, a_remplir, acteur=etat.acteur(), etape=groupe.id)
    reponses = depot.triages.charger(tid).cas["reponses"]
    for q in groupe.questions:
        if q.id in reponses and st.session_state.get(f"q_{q.id}") is None:
            st.session_state[f"q_{q.id}"] = _vers_widget(q, reponses[q.id])
    st.session_state.pop(_GROUPE_OUVERT, None)


@etat.rappel
def _ouvrir(groupe: str | None) -> None:
    if time.monotonic() - st.session_state.get(_DERNIERE_REPONSE, float("-inf")) < DOUBLE_TAP_S:
        return  # the double tap's second half, landed on a group header that moved under the finger
    st.session_state.pop(_GROUPE_CIBLE, None)
    if groupe is None:
        st.session_state.pop(_GROUPE_OUVERT, None)
    else:
        st.session_state[_GROUPE_OUVERT] = groupe


@etat.rappel
def _continuer(groupe: str | None) -> None:
    st.session_state.pop(_GROUPE_OUVERT, None)
    if groupe is None:
        st.session_state.pop(_GROUPE_CIBLE, None)
    else:
        st.session_state[_GROUPE_CIBLE] = groupe


@etat.fragment
def marche(tid: str) -> None:
    """The questions group by group (current one open), the card beside them, the note and « Finaliser ».

    A fragment: an answer reruns the walk and the card only, not the header, the identity panel or the corrections
    (which an answer does not change; a correction, outside, reruns the whole page)."""
    depot = etat.depot()
    m = depot.moteur
    try:
        triage, resultat = depot.triages.charger_evalue(tid)
        if triage.statut != "brouillon":  # finalised meanwhile (another tab): the page shows the final triage
            st.rerun(scope="app")
    except TriageError as exc:
        st.error(f"Ce triage ne peut pas être évalué : {exc}")
        return
    cas, etape, note = triage.cas, triage.etape, triage.note
    protocole = m.protocoles[cas["protocole"]].modele
    vues = pr.groupes(protocole, cas["reponses"], resultat)
    carte = pr.carte(m, resultat, cas["reponses"])
    par_id = {g.id: g for g in vues}
    suivant = pr.groupe_courant(vues)
    ouvert = st.session_state.get(_GROUPE_OUVERT)
    cible = st.session_state.get(_GROUPE_CIBLE)
    if ouvert in par_id:
        courant: str | None = ouvert
    elif cible in par_id and not par_id[cible].complet:
        courant = cible
    elif etape in par_id and not par_id[etape].complet and not par_id[etape].facultatif:
        courant = etape
    else:
        courant = suivant
    # What the patient declared on the tablet (issue #30), read once per visit of the page.
    decl = declarations.lire(depot, triage.episode_id) if m.registre.mesures is not None else Declarations()
    gauche, droite = st.columns([3, 2], gap="medium")
    with gauche:
        declarations.bandeau(decl)
        requis = [g for g in vues if not g.facultatif]
        faits = sum(g.complet for g in requis)
        st.progress(faits / max(1, len(requis)), text=f"{faits} groupe(s) sur {len(requis)} complet(s)")
        for g in vues:
            if g.id == courant:
                apres = next((h.id for h in requis if not h.complet and h.id != g.id), None)
                _groupe_ouvert(tid, g, ouvert == g.id, apres, decl)
            else:
                _groupe_ferme(g)
        # Every required group answered: the note and « Finaliser » stay in reach, an optional group (STarT Back)
        # open or not (issue #29).
        if suivant is None or (carte.orientation is not None and carte.manquantes):
            _finaliser(depot, tid, carte, note)
    with droite:
        # The banner sits above the card, in the right column: the questions under the finger never move.
        bandeau_urgence(carte)
        carte_orientation(carte)


def _groupe_ferme(g: pr.VueGroupe) -> None:
    # Material icons ship with Streamlit: no dependency on the tablet's emoji font.
    icone = ":material/check_circle:" if g.complet else (
        ":material/more_horiz:" if g.facultatif else ":material/radio_button_unchecked:")
    suffixe = " (facultatif)" if g.facultatif else ""
    texte = f"{g.libelle}{suffixe} — {g.repondues}/{len(g.questions)}"
    st.button(texte, key=f"ouvrir_{g.id}", on_click=_ouvrir, args=(g.id,), icon=icone, width="stretch")


def _groupe_ouvert(tid: str, g: pr.VueGroupe, rouvert: bool, apres: str | None, decl: Declarations) -> None:
    with st.container(border=True, key=f"groupe_{g.id}"):
        st.markdown(f"**{g.libelle}**" + (" *(facultatif)*" if g.facultatif else ""))
        if g.tout_non and not g.complet:
            st.button("Aucun de ces signes", key=f"aucun_{g.id}", on_click=_aucun_signe, args=(tid, g),
                      type="primary", width="stretch")
        declarations.dans_le_groupe(tid, decl, g.questions, {q.id: q.reponse for q in g.questions
                                                              if q.reponse is not None})
        for q in g.questions:
            cle = f"q_{q.id}"
            if cle not in st.session_state:
                st.session_state[cle] = _vers_widget(q)
            if q.type == "booleen":
                options, libelles = [NON, OUI], {NON: "Non", OUI: "Oui"}
            else:
                options, libelles = [v for v, _ in q.choix], dict(q.choix)
            st.segmented_control(q.libelle, options, key=cle, format_func=libelles.__getitem__, help=q.aide,
                                 on_change=_enregistrer, args=(tid, q.id, q.type, g.id))
            declarations.mention(decl, q.id)
        if rouvert or g.complet or g.facultatif:
            st.button("Continuer", key=f"continuer_{g.id}", on_click=_continuer, args=(apres,),
                      width="stretch")


def note_du_brouillon(depot: ServiceAutorise, tid: str, enregistree: str | None) -> str:
    """The note for the médecin, saved on the draft as it is typed (like every answer): a reload or a crash keeps
    it. The audit records that it changed, never its text."""
    note = saisie_instantanee("Note pour le médecin (facultatif)", f"{NOTE}_{tid}", valeur=enregistree or "",
                              longueur=LONGUEUR_NOTE, lignes=True, delai_ms=600,
                              aide="Enregistrée au fil de la saisie ; imprimée dans le compte rendu.")
    if note != (enregistree or ""):
        try:
            depot.triages.enregistrer_note(tid, note)
        except TriageError as exc:
            st.error(en_francais(exc))
    return note


def _finaliser(depot: ServiceAutorise, tid: str, carte: pr.Carte, enregistree: str | None = None) -> None:
    with st.container(border=True, key="finalisation"):
        if carte.manquantes:
            st.markdown(f"**{carte.orientation_libelle} : le triage peut être finalisé sans les autres questions.**")
        else:
            st.markdown("**Toutes les questions obligatoires ont une réponse.**")
        note_du_brouillon(depot, tid, enregistree)
        if erreur := st.session_state.pop(_ERREUR_FINALISATION, None):
            st.error(erreur)
        st.button("Finaliser le triage", key="finaliser", type="primary", width="stretch",
                  disabled=carte.orientation is None, on_click=_finaliser_brouillon, args=(tid,))


@etat.rappel
def _finaliser_brouillon(tid: str) -> None:
    """« Finaliser » (before the run: the run that follows shows the final triage, not the walk first). The note goes
    with it as the field holds it (the last keystrokes may not have been saved yet)."""
    actuel = st.session_state.get(f"{NOTE}_{tid}")
    note = en_texte(actuel.get("texte")) if isinstance(actuel, dict) else None  # text only (issue #28)
    depot = etat.depot()
    try:
        if depot.triages.charger(tid).statut != "brouillon":
            return  # a second tap on « Finaliser » (a double tap): the first one finalised it
        depot.triages.finaliser(tid, acteur=etat.acteur(), note=note or None)
    except TriageError as exc:
        st.session_state[_ERREUR_FINALISATION] = str(exc)


def _export(depot: ServiceAutorise, tid: str, format_: str, impression: bool = False) -> Callable[[], bytes]:
    def produire() -> bytes:  # produced and audited by the service, signed with the session's user
        return depot.documents.exporter(tid, format_, genere_le=datetime.now().astimezone(), impression=impression)

    return produire


def _manques_avant_envoi(depot: ServiceAutorise, tid: str) -> None:
    """Before a document for the médecin is made: what it would print as « non renseigné » while the kiné can give it
    (the recipient, the kiné's RPPS), with where it is filled (issue #29)."""
    ids = depot.documents.identites(tid)
    sans_rpps = ids.auteur is not None and not ids.auteur.rpps and ids.auteur.identifiant == etat.acteur()
    manques = []
    if not ids.patient.medecin_nom:
        manques.append("le médecin traitant du patient, destinataire du compte rendu (volet « Identité (INS) et "
                       "médecin traitant » en haut de cette page)")
    if sans_rpps:
        manques.append("votre numéro RPPS (page « Mon compte »)")
    if manques:
        st.warning("Avant d’envoyer un document au médecin, compléter : " + " ; ".join(manques) + ".",
                   icon=":material/contact_mail:")
    if sans_rpps:
        st.page_link(chemins.page("compte"), label="Renseigner mon RPPS", icon=":material/badge:")


def telechargements(depot: ServiceAutorise, t: Triage) -> None:
    """Download buttons: the médecin's summary (PDF, text) and the patient handout, « Imprimer »; the structured
    formats (FHIR, CDA, XDM: for software) in a section of their own, built only once opened. Each export is audited.

    Documents are produced on click only; a rerun just names the files (protocol, date, opaque id).
    """
    tid = t.id

    def boutons(formats: list[Any]) -> None:
        colonnes = st.columns(2)
        for i, f in enumerate(formats):
            with colonnes[i % 2]:
                bouton_fichier(f.libelle, f"telecharger_{f.id}", _export(depot, tid, f.id), mime=f.mime,
                               nom=nom_fichier_de(t.cas["protocole"], t.cas["date_consultation"], tid, f.extension,
                                                  f.suffixe))

    with st.container(border=True, key="exports"):
        st.markdown("**Comptes rendus**")
        _manques_avant_envoi(depot, tid)
        boutons([f for f in FORMATS.values() if not f.logiciel])
        # « Imprimer »: the PDF in a new tab, for the tablet's print dialog (produced on the tap, audited).
        impression = st.columns(2)
        for i, (format_, libelle) in enumerate(IMPRESSIONS.items()):
            with impression[i]:
                bouton_imprimer(libelle, f"imprimer_{format_}", _export(depot, tid, format_, impression=True))
        with volet("Formats pour les logiciels (DMP, messagerie, dossier)", "volet_formats_logiciels",
                   icone=":material/data_object:") as section:
            if section.open:
                boutons([f for f in FORMATS.values() if f.logiciel])


def resultat_final(depot: ServiceAutorise, t: Triage) -> None:
    """A final triage: its stored result (never re-evaluated), the answers, and the way to amend it."""
    tid = t.id
    m = depot.moteur
    resultat = t.resultat if t.resultat is not None else depot.triages.evaluer(tid)
    if t.resultat is None:
        st.info("Triage en cours de saisie : lecture seule, résultat provisoire.")
    carte = pr.carte(m, resultat, t.cas["reponses"])  # type: ignore[arg-type]
    gauche, droite = st.columns([3, 2], gap="medium")
    courant = None
    with gauche:  # drawn first: the episode panel gives the card its current counters (rules v3, §9.10)
        if t.statut == "remplace":
            st.info("Cette version a été remplacée par une version plus récente (consultable dans « Triages »).")
        protocole = m.protocoles[t.cas["protocole"]].modele
        for g in pr.groupes(protocole, t.cas["reponses"], resultat):  # type: ignore[arg-type]
            with st.expander(f"{g.libelle} — {g.repondues}/{len(g.questions)}"):
                for q in g.questions:
                    st.markdown(f"- {q.libelle} **{pr.reponse_texte(q)}**")
        if t.note:
            st.markdown("**Note**")
            st.html(texte_html(t.note))
        if t.resultat is not None:
            telechargements(depot, t)
            if t.statut == "final":
                courant = vue_episode.panneau(t.episode_id)
    if t.resultat is not None and carte.seances:
        s = carte.seances
        differents = courant is not None and ((courant.seances_serie, courant.restantes)
                                              != (s["realisees"], s["restantes"]) or courant.statut != "ouvert")
        carte = replace(carte, au_jour_du_triage=True,
                        compteurs_actuels=vue_episode.lignes_compteurs(courant) if differents and courant else [],
                        compteurs_au=jour_affiche(t.episode_id))
    if courant is not None:
        vue_episode.noter_compteurs_carte(courant)
    with droite:
        bandeau_urgence(carte)
        carte_orientation(carte)
        regles = f"Règles : version {resultat['version_protocole']} · {resultat['empreinte_regles']}"
        st.caption(regles if t.resultat is not None else f"{regles} (en vigueur : résultat provisoire)")
    with gauche:
        c1, c2 = st.columns(2)
        if t.statut == "final" and depot.peut("triages.amender") and c1.button("Modifier (nouvelle version)",
                                                                               key="amender",
                                             width="stretch"):
            nid = depot.triages.amender(tid, acteur=etat.acteur())
            etat.ouvrir_triage(nid)
            st.rerun()
        if depot.peut("triages.creer_triage"):
            c2.button("Nouveau triage", key="nouveau", width="stretch", on_click=st.session_state.__setitem__,
                      args=(_ALLER_NOUVEAU, True))
