"""The patient's identity (INS, strict traits, status) and médecin traitant; the professional's own identity.

Shown on the patient's record and on a triage (collapsed); written only by the roles that may (the médecin reads).
"""

from __future__ import annotations

import streamlit as st

from triage_app import presentation as pr
from triage_app.errors import TriageError
from triage_app.models.identites import IdentitePatient
from triage_app.services.autorisation import ServiceAutorise
from triage_app.ui import etat
from triage_app.ui.composants import brut, en_francais, volet

_AUCUNE = ""
_INSI = ("L’application n’interroge pas le téléservice INSi (il demande une carte CPS ou un certificat de "
         "structure) : l’INS se récupère par votre logiciel métier, puis se recopie ici.")


def _resume(v: IdentitePatient, libelles: dict[str, str]) -> str:
    texte = f"**{libelles.get(v.statut, v.statut)}**"
    if v.ins:
        texte += f" · INS {v.ins[:13]} {v.ins[13:]}" + ("" if v.qualifiee else " (non transmise : identité non "
                                                           "qualifiée)")
    if v.piece_identite and v.piece_verifiee_le:
        texte += f" · pièce contrôlée le {pr.date_fr(v.piece_verifiee_le)}"
    return texte


@etat.fragment
def panneau(patient_id: str, cle: str, *, ouvert: bool = False) -> None:
    """« Identité (INS) et médecin traitant »: the status, and the forms for the roles that write.

    A fragment: its forms rerun the panel only, and the page's other taps do not rebuild its forms."""
    depot = etat.depot()
    interop = depot.moteur.registre.interop
    if interop is None:
        return
    try:
        v = depot.patients.identite_patient(patient_id)
    except TriageError as exc:
        st.error(en_francais(exc))
        return
    medecin = f" · médecin traitant : {brut(v.medecin_nom)}" if v.medecin_nom else " · médecin traitant non renseigné"
    # The status at a glance; the section's label stays the same whatever the status (a changed label would close it
    # after a save).
    st.caption(f"Identité : {interop.statuts_identite[v.statut].split(' (')[0]}{medecin}")
    with volet("Identité (INS) et médecin traitant", f"volet_identite_{cle}", ouvert=ouvert,
               icone=":material/badge:") as section:
        if not section.open:
            return
        st.markdown(_resume(v, interop.statuts_identite) + medecin)
        if not depot.peut("patients.renseigner_identite"):
            return
        if message := st.session_state.pop(f"identite_ok_{cle}", None):
            st.success(message)
        pieces = [_AUCUNE, *interop.pieces_identite]
        with st.form(f"form_identite_{cle}", enter_to_submit=False):
            st.markdown("**Identité nationale de santé**")
            st.caption(_INSI)
            ins = st.text_input("INS (matricule à 15 caractères, clé comprise)", value=v.ins or "", max_chars=21,
                                key=f"ins_{cle}")
            insi = st.toggle("INS récupérée par le téléservice INSi", value=v.recuperee_insi, key=f"insi_{cle}")
            piece = st.selectbox("Pièce d’identité contrôlée aujourd’hui (je confirme l’avoir vue)", pieces,
                                 index=pieces.index(v.piece_identite or _AUCUNE), key=f"piece_{cle}",
                                 format_func=lambda p: interop.pieces_identite.get(p, "Aucune pièce contrôlée"))
            c1, c2 = st.columns(2)
            nom_naissance = c1.text_input("Nom de naissance", value=v.nom_naissance or "", max_chars=200,
                                          key=f"nom_naissance_{cle}")
            prenoms = c2.text_input("Prénoms de naissance (dans l’ordre de la pièce)",
                                    value=v.prenoms_naissance or "", max_chars=400, key=f"prenoms_{cle}")
            c3, c4 = st.columns(2)
            sexes = ["M", "F"]
            sexe = c3.segmented_control("Sexe", sexes, default=v.sexe if v.sexe in sexes else None,
                                        format_func={"M": "Masculin", "F": "Féminin"}.__getitem__, key=f"sexe_{cle}")
            lieu = c4.text_input("Lieu de naissance (code INSEE, 99… à l’étranger)", value=v.lieu_naissance or "",
                                 max_chars=5, key=f"lieu_{cle}")
            if st.form_submit_button("Enregistrer l’identité", key=f"enregistrer_identite_{cle}"):
                try:
                    nouvelle = depot.patients.renseigner_identite(
                        patient_id, ins=ins or None, recuperee_insi=insi, piece_identite=piece or None,
                        nom_naissance=nom_naissance or None, prenoms_naissance=prenoms or None,
                        lieu_naissance=lieu or None, sexe=sexe)
                except TriageError as exc:
                    st.error(en_francais(exc))
                else:
                    st.session_state[f"identite_ok_{cle}"] = (
                        f"Identité enregistrée : {interop.statuts_identite[nouvelle.statut]}.")
                    st.rerun()
        with st.form(f"form_medecin_{cle}", enter_to_submit=False):
            st.markdown("**Médecin traitant** (destinataire du compte rendu)")
            nom = st.text_input("Nom du médecin traitant", value=v.medecin_nom or "", max_chars=200,
                                key=f"medecin_nom_{cle}")
            c1, c2 = st.columns(2)
            rpps = c1.text_input("RPPS (11 chiffres)", value=v.medecin_rpps or "", max_chars=14,
                                 key=f"medecin_rpps_{cle}")
            mssante = c2.text_input("Adresse MSSanté", value=v.medecin_mssante or "", max_chars=254,
                                    key=f"medecin_mssante_{cle}")
            if st.form_submit_button("Enregistrer le médecin traitant", key=f"enregistrer_medecin_{cle}"):
                try:
                    depot.patients.renseigner_medecin_traitant(patient_id, nom=nom or None, rpps=rpps or None,
                                                               mssante=mssante or None)
                except TriageError as exc:
                    st.error(en_francais(exc))
                else:
                    st.session_state[f"identite_ok_{cle}"] = "Médecin traitant enregistré."
                    st.rerun()


def profil(depot: ServiceAutorise) -> None:
    """« Mon compte »: the professional identity the documents are signed with."""
    interop = depot.moteur.registre.interop
    if interop is None:
        return
    u = etat.utilisateur()
    p = depot.comptes.profil(u.identifiant)
    if p is None:
        return
    if message := st.session_state.pop("profil_ok", None):
        st.success(message)
    professions = list(interop.professions)
    with st.form("form_profil", enter_to_submit=False):
        st.markdown("**Identité professionnelle** (signe les comptes rendus)")
        c1, c2 = st.columns(2)
        prenom = c1.text_input("Prénom", value=p.prenom or "", max_chars=200, key="profil_prenom")
        nom = c2.text_input("Nom", value=p.nom_famille or "", max_chars=200, key="profil_nom")
        profession = st.segmented_control("Profession", professions, key="profil_profession",
                                          default=p.profession if p.profession in professions else
                                          ("medecin" if u.role == "medecin" else "kine"),
                                          format_func=lambda x: interop.professions[x].libelle)
        c3, c4, c5 = st.columns(3)
        rpps = c3.text_input("RPPS (11 chiffres)", value=p.rpps or "", max_chars=14, key="profil_rpps")
        adeli = c4.text_input("ou ADELI (9 caractères)", value=p.adeli or "", max_chars=12, key="profil_adeli")
        telephone = c5.text_input("Téléphone", value=p.telephone or "", max_chars=20, key="profil_telephone")
        if st.form_submit_button("Enregistrer", key="profil_enregistrer"):
            try:
                depot.comptes.modifier_profil(prenom=prenom, nom_famille=nom, profession=profession or "",
                                              rpps=rpps or None, adeli=adeli or None, telephone=telephone or None)
            except TriageError as exc:
                st.error(en_francais(exc))
            else:
                st.session_state["profil_ok"] = "Identité professionnelle enregistrée."
                st.rerun()
