"""Documents for the médecin and the patient: the service reads the records once, hands plain data to
:mod:`triage_app.export` (which never reads the store) and audits what it produced.

- a triage's summary (:class:`~triage_app.export.resume.Resume`) in every format (PDF, FHIR, text, handout, CDA, XDM);
- an episode's dossier (:class:`~triage_app.models.episode.DossierEpisode`): DAP and summary sheet."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from triage_app.engine.evaluation import Moteur
from triage_app.errors import ErreurSaisie, Probleme
from triage_app.export.episode import dap_pdf, synthese_pdf, synthese_texte, texte_mesure
from triage_app.export.formats import FORMATS
from triage_app.export.formats import exporter as produire
from triage_app.export.resume import Resume, construire, personnes
from triage_app.models.episode import (
    RUBRIQUES_MEDECIN,
    DossierEpisode,
    MesureDossier,
    PatientDossier,
    TriageDossier,
)
from triage_app.models.identites import Identites
from triage_app.services.base import Service
from triage_app.services.comptes import vue_compte
from triage_app.services.episode_etat import etat, lire_episode
from triage_app.services.mesures import MesureEnregistree, ServiceMesures
from triage_app.services.patients import patient_ou_refus, vue_patient
from triage_app.services.structure import ServiceStructure, vue_structure
from triage_app.services.triages import ServiceTriages
from triage_app.services.unite import UniteDeTravail
from triage_app.storage.tables import FINAL, Episode, Structure, Triage
from triage_app.storage.tables import Utilisateur as CompteTable


class ServiceDocuments(Service):
    """What a triage or an episode gives the médecin and the patient, produced from the records and audited."""

    def __init__(self, uow: UniteDeTravail, moteur: Moteur, triages: ServiceTriages,
                 structure: ServiceStructure, mesures: ServiceMesures | None = None) -> None:
        super().__init__(uow, moteur)
        self.triages = triages
        self.structure = structure
        self.mesures = mesures or ServiceMesures(uow, moteur)

    def exporter(self, triage_id: str, format_: str, *, genere_le: datetime, acteur: str,
                 impression: bool = False) -> bytes:
        """A triage's document in ``format_`` (summary PDF, FHIR, text, handout, CDA, XDM), audited."""
        if format_ not in FORMATS:
            raise ErreurSaisie([Probleme("format", f"attendu l’un de : {', '.join(FORMATS)}")])
        octets = produire(self.resume(triage_id, genere_le), self.moteur, format_)
        details: dict[str, Any] = {"format": format_, **({"mode": "impression"} if impression else {})}
        with self.uow.ecriture() as (_, chaine):
            chaine.ajouter("export", acteur, triage_id, details)
        return octets

    def document_episode(self, episode_id: str, genre: str, jour: date, *, acteur: str) -> bytes:
        """An episode's document (``dap``, ``synthese``, ``synthese-txt``) from its records at ``jour``, audited
        (the read of the records and the export)."""
        producteurs = {"dap": dap_pdf, "synthese": synthese_pdf,
                       "synthese-txt": lambda d, m: synthese_texte(d, m).encode("utf-8")}
        if genre not in producteurs:
            raise ErreurSaisie([Probleme("format", f"attendu l’un de : {', '.join(producteurs)}")])
        octets = producteurs[genre](self.dossier_episode(episode_id, jour, acteur=acteur), self.moteur)
        with self.uow.ecriture() as (_, chaine):
            chaine.ajouter("export_episode", acteur, details={"episode": episode_id, "format": genre})
        return octets

    def dossier_episode(self, episode_id: str, jour: date, *, acteur: str) -> DossierEpisode:
        """Everything the DAP and the summary sheet print, read from the records (the read is audited)."""
        with self.uow.lecture() as s:
            ep = lire_episode(s, episode_id)
            pa = ep.patient
            st = s.get(Structure, 1)
            compte = s.scalar(select(CompteTable).where(CompteTable.identifiant == acteur))
            triages = [TriageDossier(id=t.id, date_consultation=t.date_consultation, version=t.version,
                                     orientation=t.orientation,
                                     classe_duree=(t.resultat or {}).get("classe_duree"),
                                     risque_chronicite=(t.resultat or {}).get("risque_chronicite"),
                                     version_protocole=t.version_protocole, note=t.note)
                       for t in s.scalars(select(Triage).where(Triage.episode_id == ep.id, Triage.statut == FINAL)
                                          .order_by(Triage.date_consultation, Triage.cree_le))]
            dossier = DossierEpisode(
                jour=jour, structure=st.nom if st else None, kine=compte.nom if compte else acteur,
                kine_rpps=compte.rpps if compte else None, destinataire=_medecin_traitant(pa),
                patient=PatientDossier(id=pa.id, nom=pa.nom, prenom=pa.prenom, date_naissance=pa.date_naissance,
                                       sexe=pa.sexe, couverture=pa.couverture),  # type: ignore[arg-type]
                titre_protocole=self.moteur.protocoles[ep.protocole].modele.titre, etat=etat(s, self.moteur, ep, jour),
                triages=tuple(triages), mesures=self.mesures_dossier(episode_id))
        with self.uow.ecriture() as (_, chaine):
            chaine.ajouter("consultation_episode", acteur, details={"episode": episode_id})
        return dossier

    def mesures_dossier(self, episode_id: str) -> tuple[MesureDossier, ...]:
        """The patient's measures over the episode as the documents print them: first and latest complete scores,
        their change and how it reads (issue #30)."""
        if self.moteur.registre.mesures is None:
            return ()
        return tuple(x.dossier for x in self.mesures.bilan(episode_id) if x.dossier is not None)

    def _mesures_fhir(self, faites: list[MesureEnregistree]) -> list[dict[str, Any]]:
        """The episode's measures as plain data for the FHIR export (answers, score, code)."""
        params = self.mesures.parametres
        sortie = []
        for x in faites:
            m = params.connue(x.mesure)
            if m is None:
                continue
            choix = {it.id: {str(c.valeur): c.libelle for c in it.reponses.choix if c.valeur is not None}
                     for it in m.tous_les_items()}
            sortie.append({"id": x.id, "mesure": x.mesure, "libelle": m.libelle, "code": m.code.model_dump(),
                           "moment_libelle": params.moments[x.moment], "jour": x.jour.isoformat(),
                           "score": x.score, "complete": not x.manquants,
                           "pourcentage": m.cotation.regle == "pourcentage",
                           "reponses": x.reponses, "choix": choix, "declare_par": x.declare_par})
        return sortie

    def identites(self, triage_id: str) -> Identites:
        """Patient, author and structure of a triage, as its documents name them."""
        with self.uow.lecture() as s:
            t = s.get(Triage, triage_id)
            ep = s.get(Episode, t.episode_id) if t is not None else None
            if t is None or ep is None:
                raise ErreurSaisie([Probleme("triage", "triage introuvable")])
            pa = patient_ou_refus(s, ep.patient_id)
            c = s.query(CompteTable).filter_by(identifiant=t.auteur).one_or_none()
            st = s.get(Structure, 1)
            return Identites(vue_patient(pa, self.interop), vue_compte(c) if c else None,
                             vue_structure(st) if st else None)

    def resume(self, triage_id: str, genere_le: datetime) -> Resume:
        """The summary of a stored triage: a final one from its stored result (never re-evaluated)."""
        t = self.triages.charger(triage_id)
        entete = self.triages.entete(triage_id)
        structure = self.structure.structure()
        if t.resultat is not None:
            cas, resultat = t.cas, t.resultat
        else:
            cas = self.triages.cas_effectif(triage_id)
            resultat = self.moteur.evaluer(cas)
        resume = construire(self.moteur, cas, resultat, triage_id=t.id, version=t.version,  # type: ignore[arg-type]
                            statut=t.statut, patient=entete["patient"], patient_nom=entete["nom"],
                            patient_prenom=entete["prenom"], structure_nom=structure.nom if structure else None,
                            note=t.note, auteur=t.auteur, finalise_le=t.finalise_le, genere_le=genere_le)
        with self.uow.lecture() as s:
            ep = s.get(Episode, t.episode_id)
            textes = dict(ep.textes or {}) if ep is not None else {}
        protocole, faites = self.mesures.lire(t.episode_id) if self.moteur.registre.mesures else ("", [])
        dossiers = [x.dossier for x in self.mesures.bilan_de(protocole, faites) if x.dossier] if faites else []
        resume = replace(resume, textes_kine=[{"rubrique": libelle, "texte": textes[cle]}
                                              for cle, libelle in RUBRIQUES_MEDECIN.items() if textes.get(cle)],
                         mesures_patient=[{"mesure": x.libelle, "texte": texte_mesure(x)} for x in dossiers],
                         mesures_fhir=self._mesures_fhir(faites))
        interop = self.moteur.registre.interop
        if interop is None:
            return resume
        identites = self.identites(triage_id)
        signe = identites.auteur.nom if identites.auteur is not None else t.auteur
        return replace(resume, personnes=personnes(identites, interop), identites=identites, auteur=signe)


def _medecin_traitant(pa: Any) -> str | None:
    """The patient's médecin traitant as the episode's documents address it (issue #29: never « non renseigné »
    when the patient's record has it)."""
    if not pa.medecin_traitant_nom:
        return None
    return ", ".join(x for x in ("Dr " + pa.medecin_traitant_nom,
                                 f"RPPS {pa.medecin_traitant_rpps}" if pa.medecin_traitant_rpps else None,
                                 pa.medecin_traitant_mssante) if x)

