"""RGPD requests (the coordinator): everything stored about a patient, and its erasure (the audit keeps an event
with opaque ids only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from triage_app.services.base import Service
from triage_app.services.unite import ErreurStockage
from triage_app.storage.tables import Episode, MesureTable, Patient, Seance, Triage


class ServiceRgpd(Service):
    """A patient's data: exported whole, or erased."""

    def exporter_patient(self, patient_id: str, *, acteur: str) -> dict[str, Any]:
        """Everything stored about one patient, as JSON-ready data (the export itself is audited)."""
        with self.uow.ecriture() as (s, chaine):
            p = s.get(Patient, patient_id)
            if p is None:
                raise ErreurStockage("patient introuvable")
            episodes = []
            for ep in p.episodes:
                triages = s.scalars(select(Triage).where(Triage.episode_id == ep.id).order_by(Triage.cree_le)).all()
                seances = s.scalars(select(Seance).where(Seance.episode_id == ep.id).order_by(Seance.date)).all()
                mesures = s.scalars(select(MesureTable).where(MesureTable.episode_id == ep.id)
                                    .order_by(MesureTable.jour, MesureTable.cree_le)).all()
                episodes.append({
                    "id": ep.id, "protocole": ep.protocole, "date_debut": ep.date_debut.isoformat(),
                    "prescription_medicale": ep.prescription_medicale,
                    "diagnostic_medical_prealable": ep.diagnostic_medical_prealable,
                    "antecedent_lombalgie": ep.antecedent_lombalgie,
                    "episodes_anterieurs_12_mois": ep.episodes_anterieurs_12_mois,
                    "statut": ep.statut, "motif_cloture": ep.motif_cloture,
                    "date_cloture": ep.date_cloture.isoformat() if ep.date_cloture else None,
                    "repris_par": ep.repris_par, "evenement_indesirable": ep.evenement_indesirable,
                    "evenement_texte": ep.evenement_texte,
                    "seances_12_mois_declarees": ep.seances_12_mois_declarees,
                    "episodes_12_mois_declares": ep.episodes_12_mois_declares,
                    "motif_declaration": ep.motif_declaration,
                    "triages": [{"id": t.id, "version": t.version, "statut": t.statut, "remplace": t.remplace_id,
                                 "date_consultation": t.date_consultation.isoformat(), "cas": t.cas,
                                 "resultat": t.resultat, "note": t.note, "auteur": t.auteur,
                                 "cree_le": t.cree_le.isoformat(),
                                 "finalise_le": t.finalise_le.isoformat() if t.finalise_le else None}
                                for t in triages],
                    "seances": [{"date": se.date.isoformat(), "voie": se.voie, "acte": se.acte,
                                 "evolution": se.evolution, "suite": se.suite} for se in seances],
                    # The kiné's texts for the médecin (issue #29) and the patient's measures (issue #30).
                    "textes": dict(ep.textes or {}),
                    "mesures": [{"id": me.id, "mesure": me.mesure, "moment": me.moment, "jour": me.jour.isoformat(),
                                 "reponses": me.reponses, "score": me.score, "declare_par": me.declare_par,
                                 "auteur": me.auteur, "cree_le": me.cree_le.isoformat()} for me in mesures],
                })
            donnees = {"patient": {"id": p.id, "nom": p.nom, "prenom": p.prenom,
                                   "date_naissance": p.date_naissance.isoformat(), "sexe": p.sexe,
                                   "couverture": p.couverture,
                                   # Identity (issue #14): INS and what was checked, strict traits, médecin.
                                   "ins": p.ins_matricule, "ins_oid": p.ins_oid, "ins_insi": p.ins_insi,
                                   "piece_identite": p.piece_identite,
                                   "piece_verifiee_le": (p.piece_verifiee_le.isoformat() if p.piece_verifiee_le
                                                         else None),
                                   "piece_verifiee_par": p.piece_verifiee_par, "nom_naissance": p.nom_naissance,
                                   "prenoms_naissance": p.prenoms_naissance, "lieu_naissance": p.lieu_naissance,
                                   "medecin_traitant": {"nom": p.medecin_traitant_nom,
                                                        "rpps": p.medecin_traitant_rpps,
                                                        "mssante": p.medecin_traitant_mssante}},
                       "episodes": episodes}
            chaine.ajouter("export_rgpd", acteur, details={"patient": patient_id})
        return donnees

    def effacer_patient(self, patient_id: str, *, acteur: str) -> None:
        """Erase a patient and everything about them; the audit keeps an event with ids only."""
        with self.uow.ecriture() as (s, chaine):
            if s.get(Patient, patient_id) is None:
                raise ErreurStockage("patient introuvable")
            episodes = select(Episode.id).where(Episode.patient_id == patient_id)
            triages = list(s.scalars(select(Triage.id).where(Triage.episode_id.in_(episodes))))
            # The rows deleted in bulk, named to the chain: their deletion is sealed with the erasure (issue #28).
            for table, ids in (("seances", s.scalars(select(Seance.id).where(Seance.episode_id.in_(episodes)))),
                               ("mesures", s.scalars(select(MesureTable.id)
                                                     .where(MesureTable.episode_id.in_(episodes)))),
                               ("triages", triages), ("episodes", s.scalars(episodes)), ("patients", [patient_id])):
                for identifiant in list(ids):
                    chaine.toucher(table, identifiant)
            s.execute(delete(Seance).where(Seance.episode_id.in_(episodes)))
            s.execute(delete(MesureTable).where(MesureTable.episode_id.in_(episodes)))
            # Newest versions first: a finalised row is never updated (trigger), and the link to the version it
            # replaces goes with the row itself.
            for tid in s.scalars(select(Triage.id).where(Triage.id.in_(triages)).order_by(Triage.version.desc())):
                s.execute(delete(Triage).where(Triage.id == tid))
            s.execute(delete(Episode).where(Episode.patient_id == patient_id))
            s.execute(delete(Patient).where(Patient.id == patient_id))
            chaine.ajouter("effacement", acteur, details={"patient": patient_id, "triages": sorted(triages)})
