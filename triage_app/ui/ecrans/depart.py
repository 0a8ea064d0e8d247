"""« Nouveau triage »: the start form — the patient (found as the kiné types, or new; a namesake offered first), the
episode, the setting and consent — in one write, then the triage's own page."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from triage_app import presentation as pr
from triage_app.errors import TriageError
from triage_app.models.case import Patient
from triage_app.services.autorisation import ServiceAutorise
from triage_app.services.patients import PatientNouveau, PatientTrouve
from triage_app.ui import chemins, etat
from triage_app.ui.cadre_francais import faire_defiler
from triage_app.ui.composants import brut, champ_date, recherche_instantanee

A_OUVRIR = "triage_a_ouvrir"  # a triage just started from a callback: the next run opens its page
# The case format's default cover (« Régime général »): the form's preselected choice.
COUVERTURE_DEFAUT: str = Patient.model_fields["couverture"].default
_ERREUR_DEMARRAGE = "erreur_demarrage"
_RECHERCHE = "recherche_patient_nouveau"
_RECHERCHE_MEMOIRE = "recherche_patient_nouveau_resultats"
_DOUBLONS = "doublons_en_attente"  # probable duplicates found when « Commencer » was tapped for a new patient
# Rules v3 (§9.2): « Commencer » for a patient found with a prescription episode of the chosen condition in the last
# 12 months, the prior diagnosis not ticked: the episode's onset, to propose the prior diagnosis before starting.
_DIAGNOSTIC_PROPOSE = "diagnostic_propose"
_DATES_LUES = "dates_lues"  # the start form's dates, read from what was typed (by _valider)
_CHAMPS_PATIENT = ("patient_nom", "patient_prenom", "patient_naissance", "patient_sexe", "patient_couverture")
# The start form's yes/no fields, by case path: the same labels on the form and in its corrections.
LIBELLES_CHAMPS = {
    "episode.prescription_medicale": "Le patient a une prescription médicale pour cet épisode",
    "episode.diagnostic_medical_prealable": "Diagnostic médical préalable (accès direct au-delà du plafond)",
    "episode.antecedent_lombalgie": "Antécédent de lombalgie (lombalgie seulement)",
    "cadre.medecin_delegant_est_medecin_traitant": "Le médecin délégant est le médecin traitant",
    "cadre.medecin_joignable": "Le médecin délégant est joignable",
    "consentement.protocole": "Le patient consent à la prise en charge dans le protocole",
    "consentement.partage_dmp": "Le patient accepte le partage dans le DMP",
}


# The framework and consent questions of the start form (case path → widget key): answered Oui or Non, never
# preset.
CADRE = {"cadre.medecin_delegant_est_medecin_traitant": "medecin_delegant",
         "cadre.medecin_joignable": "medecin_joignable",
         "consentement.protocole": "consentement", "consentement.partage_dmp": "partage_dmp"}
_OUI_NON = {"oui": "Oui", "non": "Non"}


# -- patient and episode ----------------------------------------------------------------------------
# What one patient's form holds and the next patient's must not inherit (issue #29: an abandoned « 1/12 » was
# carried over to the patient picked next).
_CHAMPS_DU_FORMULAIRE = (*_CHAMPS_PATIENT, "protocole", "date_debut", "prescription", "diagnostic",
                         "antecedent_lombalgie", *CADRE.values(), _DIAGNOSTIC_PROPOSE, _DATES_LUES)


@etat.rappel
def _choisir(patient: PatientTrouve | None) -> None:
    ss = st.session_state
    ss.pop(_DOUBLONS, None)
    if patient is None or ss.get(etat.PATIENT_CHOISI) != patient:
        for cle in _CHAMPS_DU_FORMULAIRE:
            ss.pop(cle, None)
    if patient is None:
        ss.pop(etat.PATIENT_CHOISI, None)
    else:
        ss[etat.PATIENT_CHOISI] = patient


def _libelle_patient(m: Any, p: PatientTrouve) -> str:
    titres = [m.protocoles[x].modele.titre for x in p.episodes_ouverts if x in m.protocoles]
    ouverts = f" · épisode en cours : {', '.join(titres)}" if titres else ""
    return f"{brut(p.nom)} {brut(p.prenom)} · né(e) le {pr.date_fr(p.date_naissance)}{ouverts}"


def choix_patient(depot: ServiceAutorise) -> PatientTrouve | None:
    """Find a recorded patient as the kiné types (name, first name, birth date), or go on with a new one."""
    m = depot.moteur
    choisi = st.session_state.get(etat.PATIENT_CHOISI)
    if isinstance(choisi, PatientTrouve):
        with st.container(border=True, key="patient_retenu"):
            st.markdown(f"**Patient** : {_libelle_patient(m, choisi)}")
            st.button("Changer de patient", key="changer_patient", on_click=_choisir, args=(None,),
                      icon=":material/person_search:")
        return choisi
    texte = recherche_instantanee("Patient déjà venu ? Rechercher (nom, prénom, date de naissance)", _RECHERCHE,
                                  "Sans accents ni majuscules : « lefebvre » trouve « Lefèbvre ».")
    if texte.strip():
        trouves = etat.patients_trouves(depot, texte, _RECHERCHE_MEMOIRE, limite=8)
        if not trouves:
            st.caption("Aucun patient trouvé : remplissez le formulaire ci-dessous pour un nouveau patient.")
        for p in trouves:
            st.button(_libelle_patient(m, p), key=f"choisir_{p.id}", on_click=_choisir, args=(p,),
                      icon=":material/person:", width="stretch")
    return None


def formulaire_patient(depot: ServiceAutorise) -> None:
    """Patient (found or new), episode, setting and consent: one form, one write, then the walk."""
    m = depot.moteur
    st.markdown("### Nouveau triage")
    if not depot.structure.decrite():
        st.warning("La structure n’est pas encore décrite (page « Structure ») : le cadre retenu est le cabinet "
                   "libéral, sans protocole de coopération.")
    patient = choix_patient(depot)
    protocoles = sorted(m.protocoles)
    couvertures = m.registre.commun.libelles.couvertures
    aujourd_hui = date.today()
    zone_erreurs = st.container(key="erreurs_depart")  # a refused « Commencer » says why here, above the form
    with st.form("form_patient", border=True, enter_to_submit=False):
        st.segmented_control("Motif de consultation", protocoles, key="protocole",
                             format_func=lambda p: m.protocoles[p].modele.titre)
        c1, c2 = st.columns(2)
        if patient is None:
            # No max_chars: the browser would cut a long name without a word; the service refuses it, with its limit.
            c1.text_input("Nom", key="patient_nom")
            c2.text_input("Prénom", key="patient_prenom")
        # Row by row, so that the keyboard's « Tab » goes name → first name → birth date → onset (no tap needed).
        c1, c2 = st.columns(2)
        if patient is None:
            champ_date("Date de naissance", "patient_naissance", c1)
        champ_date("Début de la douleur ou date du traumatisme", "date_debut", c2 if patient is None else c1)
        c1, c2 = st.columns(2)
        if "date_consultation" not in st.session_state:
            st.session_state["date_consultation"] = pr.date_fr(aujourd_hui)
        champ_date("Date de consultation", "date_consultation", c1)
        if patient is None:
            c2.segmented_control("Sexe (facultatif)", ["F", "M"], key="patient_sexe",
                                 format_func=lambda s: {"F": "Femme", "M": "Homme"}[s])
        st.caption("Dates au format JJ/MM/AAAA (les chiffres suffisent : 14061986). Pour un patient dont l’épisode "
                   "du même motif est en cours, le triage le rejoint : l’épisode garde sa date de début.")
        if patient is None:
            st.selectbox("Couverture (fixe la part remboursée par l’Assurance maladie)", list(couvertures),
                         index=list(couvertures).index(COUVERTURE_DEFAUT), format_func=couvertures.__getitem__,
                         key="patient_couverture")
        st.markdown("**Parcours**")
        st.toggle(LIBELLES_CHAMPS["episode.prescription_medicale"], key="prescription")
        st.toggle(LIBELLES_CHAMPS["episode.diagnostic_medical_prealable"], key="diagnostic")
        _diagnostic_explique(depot, patient)
        st.toggle(LIBELLES_CHAMPS["episode.antecedent_lombalgie"], key="antecedent_lombalgie")
        st.caption("Les séances et épisodes des 12 derniers mois sont comptés à partir des séances enregistrées ; "
                   "des séances faites ailleurs se déclarent ensuite, avec leur motif.")
        st.markdown("**Protocole de coopération et consentement**")
        # No default (issue #29): an unanswered « Non » would put an eligible patient out of the protocol and print
        # a refusal nobody gave; « Commencer » asks for each one left unanswered.
        for chemin, cle in CADRE.items():
            st.segmented_control(LIBELLES_CHAMPS[chemin], tuple(_OUI_NON), key=cle, format_func=_OUI_NON.__getitem__)
        envoye = st.form_submit_button("Commencer le triage", type="primary", key="commencer",
                                       width="stretch")
    if envoye:
        st.session_state.pop(_DOUBLONS, None)
        st.session_state.pop(_DIAGNOSTIC_PROPOSE, None)
        # A new patient's namesakes are looked for in the same write that starts the triage (offered below when
        # there are some); then straight to the triage's page (one run, not a rerun of this form first).
        if _valider(patient, zone_erreurs) and not _proposer_diagnostic(depot, patient) and _demarrer(
                patient.id if patient is not None else None, sauf_homonymes=True):
            chemins.triage(st.session_state.pop(A_OUVRIR))
    if erreur := st.session_state.pop(_ERREUR_DEMARRAGE, None):
        st.error(erreur)
    if doublons := st.session_state.get(_DOUBLONS):
        _offrir_doublons(depot, doublons)
    if (propose := st.session_state.get(_DIAGNOSTIC_PROPOSE)) and patient is not None:
        _offrir_diagnostic(depot, patient, propose)
def _diagnostic_explique(depot: ServiceAutorise, patient: PatientTrouve | None) -> None:
    """What counts as a prior medical diagnosis (rules v3, §9.2), and, for a patient found, the stored episodes with
    a prescription that would count (by condition)."""
    m = depot.moteur
    regles = m.registre.commun.episode_de_soins
    plafond = m.registre.parametres[m.registre.commun.acces_direct.plafond_sans_diagnostic].valeur_au(date.today())
    st.caption(regles.remarques["diagnostic_prealable"].format(plafond=plafond))
    if patient is None:
        return
    for protocole, quand in depot.patients.prescriptions_recentes(patient.id, date.today()).items():
        titre = m.protocoles[protocole].modele.titre if protocole in m.protocoles else protocole
        st.caption(f"{titre} — " + regles.remarques["diagnostic_propose"].format(date=pr.date_fr(quand)))


def _proposer_diagnostic(depot: ServiceAutorise, patient: PatientTrouve | None) -> bool:
    """Before starting: a patient found with a prescription episode of the chosen condition in the 12 months before
    the consultation, the prior diagnosis not ticked: keep the proposal to be answered (True: not started)."""
    ss = st.session_state
    if patient is None or ss.get("diagnostic"):
        return False
    quand = depot.patients.prescriptions_recentes(patient.id, ss[_DATES_LUES]["consultation"]).get(ss["protocole"])
    if quand is None:
        return False
    ss[_DIAGNOSTIC_PROPOSE] = quand
    return True


def _offrir_diagnostic(depot: ServiceAutorise, patient: PatientTrouve, quand: date) -> None:
    """The proposal, pre-set: « Oui » (first, primary) starts with the prior diagnosis, « Non » without; the service
    audits the answer."""
    regles = depot.moteur.registre.commun.episode_de_soins
    with st.container(border=True, key="proposition_diagnostic"):
        st.info(regles.remarques["diagnostic_propose"].format(date=pr.date_fr(quand)),
                icon=":material/medical_information:")
        st.button("Oui : avec diagnostic médical préalable", key="diagnostic_oui", type="primary", width="stretch",
                  on_click=_demarrer_apres_proposition, args=(patient.id, True))
        st.button("Non : sans diagnostic médical préalable", key="diagnostic_non", width="stretch",
                  on_click=_demarrer_apres_proposition, args=(patient.id, False))


@etat.rappel
def _demarrer_apres_proposition(patient_id: str, diagnostic: bool) -> None:
    st.session_state.pop(_DIAGNOSTIC_PROPOSE, None)
    st.session_state["diagnostic"] = diagnostic
    _demarrer(patient_id)


_CHAMPS_DATES = {"patient_naissance": "Date de naissance", "date_debut": "Début de la douleur ou date du traumatisme",
                 "date_consultation": "Date de consultation"}


def _valider(patient: PatientTrouve | None, zone: Any) -> bool:
    """The form's required fields, the typed dates (a date that does not exist is refused) and their order; the
    French errors name each field, above the form (``zone``), and the fields in error are marked (issue #29)."""
    ss = st.session_state
    aujourd_hui = date.today()
    lues: dict[str, date | None] = {}
    erreurs: list[str] = []
    en_erreur: list[str] = []
    for cle, libelle in _CHAMPS_DATES.items():
        if cle == "patient_naissance" and patient is not None:
            continue
        try:
            lues[cle] = pr.lire_date(ss.get(cle), libelle, minimum=date(1900, 1, 1), maximum=aujourd_hui)
        except pr.DateInvalide as exc:
            erreurs.append(str(exc))
            en_erreur.append(cle)
            lues[cle] = None
    if erreurs:
        return _refuser(zone, erreurs, en_erreur)
    champs: list[tuple[str, str, Any]] = [("motif de consultation", "protocole", ss.get("protocole"))]
    if patient is None:
        champs += [("nom", "patient_nom", (ss.get("patient_nom") or "").strip()),
                   ("prénom", "patient_prenom", (ss.get("patient_prenom") or "").strip()),
                   ("date de naissance", "patient_naissance", lues.get("patient_naissance"))]
    champs += [("début de la douleur ou date du traumatisme", "date_debut", lues.get("date_debut")),
               ("date de consultation", "date_consultation", lues.get("date_consultation"))]
    champs += [(LIBELLES_CHAMPS[chemin][0].lower() + LIBELLES_CHAMPS[chemin][1:], cle, ss.get(cle) in _OUI_NON)
               for chemin, cle in CADRE.items()]
    manquants = [(nom, cle) for nom, cle, v in champs if not v]
    if manquants:
        return _refuser(zone, ["À renseigner : " + ", ".join(nom for nom, _ in manquants) + "."],
                        [cle for _, cle in manquants])
    naissance = patient.date_naissance if patient is not None else lues["patient_naissance"]
    debut, consultation = lues["date_debut"], lues["date_consultation"]
    assert naissance is not None and debut is not None and consultation is not None
    if debut > consultation:
        return _refuser(zone, ["Le début de la douleur ou la date du traumatisme est postérieur à la date de "
                               "consultation."], ["date_debut", "date_consultation"])
    if naissance > consultation or naissance > debut:
        return _refuser(zone, ["La date de naissance est postérieure au début de la douleur ou à la date de "
                               "consultation."], ["patient_naissance"])
    ss[_DATES_LUES] = {"naissance": naissance, "debut": debut, "consultation": consultation}
    return True


def _refuser(zone: Any, messages: list[str], cles: list[str]) -> bool:
    """A refused « Commencer »: the messages above the form, each field in error outlined and marked « à corriger »,
    the page scrolled to the first one (it may be off-screen on a tablet). Returns False."""
    for message in messages:
        zone.error(message)
    saisies = ", ".join(f".st-key-{c} [data-testid='stTextInputRootElement']" for c in cles)
    choix = ", ".join(f".st-key-{c} [data-testid='stButtonGroup']" for c in cles)
    etiquettes = ", ".join(f".st-key-{c} [data-testid='stWidgetLabel'] p::after" for c in cles)
    st.html(f"<style>{saisies} {{ box-shadow: 0 0 0 2px #b00020; }}"
            f"{choix} {{ outline: 2px solid #b00020; outline-offset: 2px; border-radius: .5rem; }}"
            f"{etiquettes} {{ content: ' — à corriger'; color: #b00020; font-weight: 600; }}</style>")
    faire_defiler(f".st-key-{cles[0]}" if cles else ".st-key-erreurs_depart")
    return False


def _offrir_doublons(depot: ServiceAutorise, doublons: tuple[PatientTrouve, ...]) -> None:
    """Before a new patient is created: the recorded patients of the same name and birth date."""
    m = depot.moteur
    with st.container(border=True, key="doublons"):
        st.warning("Un patient du même nom, né le même jour, est déjà enregistré. S’agit-il de lui ?",
                   icon=":material/group:")
        for p in doublons:
            st.button(f"Oui : {_libelle_patient(m, p)}", key=f"doublon_{p.id}", on_click=_demarrer, args=(p.id,),
                      type="primary", width="stretch")
        st.button("Non, créer un nouveau patient", key="creer_quand_meme", on_click=_demarrer, args=(None,),
                  width="stretch")


@etat.rappel
def _demarrer(patient_id: str | None, sauf_homonymes: bool = False) -> bool:
    """Create the patient (unless found), open or continue the episode, start the draft; then open it. With
    ``sauf_homonymes``, a new patient's recorded namesakes stop it and are kept to be offered."""
    ss = st.session_state
    ss.pop(_DOUBLONS, None)
    depot = etat.depot()
    lues = ss[_DATES_LUES]
    protocole, debut, consultation = ss["protocole"], lues["debut"], lues["consultation"]
    nouveau = None if patient_id is not None else PatientNouveau(
        nom=ss["patient_nom"].strip(), prenom=ss["patient_prenom"].strip(), date_naissance=lues["naissance"],
        sexe=ss.get("patient_sexe"), couverture=ss.get("patient_couverture") or COUVERTURE_DEFAUT)
    try:  # one write: the patient unless found, their open episode or a new one (the page says which), the draft
        demarrage = depot.triages.demarrer_triage(
            protocole=protocole, date_debut=debut, date_consultation=consultation, patient_id=patient_id,
            nouveau_patient=nouveau, prescription_medicale=bool(ss.get("prescription")),
            diagnostic_medical_prealable=bool(ss.get("diagnostic")),
            antecedent_lombalgie=bool(ss.get("antecedent_lombalgie")),
            champs={chemin: ss.get(cle) == "oui" for chemin, cle in CADRE.items()},
            sauf_homonymes=sauf_homonymes)
    except TriageError as exc:
        ss[_ERREUR_DEMARRAGE] = str(exc)
        return False
    if demarrage.homonymes:
        ss[_DOUBLONS] = demarrage.homonymes
        return False
    tid = demarrage.triage_id
    for cle in (*_CHAMPS_PATIENT, etat.PATIENT_CHOISI, _RECHERCHE, _RECHERCHE_MEMOIRE, _DATES_LUES, "date_debut",
                "date_consultation", *CADRE.values()):
        ss.pop(cle, None)
    etat.ouvrir_triage(tid)
    st.session_state[A_OUVRIR] = tid  # the next run opens the « triage » page (no page switch in a callback)
    return True
