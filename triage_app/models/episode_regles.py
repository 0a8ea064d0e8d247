"""The episode of care's rules (specification, rules v3 §9), as ``protocols/commun.yaml`` holds them.

Each rule carries its source and how well it was verified; the numbers (months, days) and the lists (reimbursed
routes, closing reasons, what makes the summary sheet due) are data reviewed by clinicians, read by the counts
(:mod:`triage_app.domain.compteurs`) and the episode service.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from triage_app.models.base import Ident, Modele, Trace, Voie


class PeriodeAccesDirect(Trace):
    """§9.1: the accès direct cap counts per patient and condition over a period opened by the first session."""

    periode_mois: int = Field(ge=1, description="Durée de la période en mois (même jour N mois plus tard, exclu)")
    voie: Voie = Field(description="Voie des séances faites en accès direct (celles que le plafond compte)")
    motif_cloture_duree: Ident = Field(description="Motif de clôture quand une séance tombe après la fin de la "
                                                   "période")
    motifs_fin_periode: list[Ident] = Field(min_length=1, description="Motifs de clôture qui terminent la période "
                                                                      "(un nouveau triage dont le début n'est pas "
                                                                      "après sa fin est le même épisode de soins)")


class Historique12Mois(Trace):
    """§9.3 and §9.5: what counts over the 12 months before a consultation."""

    mois: int = Field(ge=1, description="Profondeur du compte, en mois")
    voies_remboursees: list[Voie] = Field(min_length=1, description="Voies dont les séances comptent (les séances "
                                                                    "« aucune » ne comptent dans aucun seuil)")
    declaration_valide_mois: int = Field(ge=1, description="Une déclaration compte tant que la date de sa dernière "
                                                           "séance est dans ces mois avant la consultation")


class NonCumul(Trace):
    """§9.6: no NGAP act on the day of a protocol consultation or the next day."""

    jours_apres: int = Field(ge=0, description="Jours après la consultation de protocole encore couverts (1 = le "
                                               "lendemain)")
    consultations: list[Ident] = Field(min_length=1, description="Actes facturés au forfait du protocole")
    actes: list[Ident] = Field(min_length=1, description="Actes NGAP non facturables dans la fenêtre")
    voie: Voie = Field(description="Voie d'un acte enregistré quand même dans la fenêtre")


class VoiesActes(Trace):
    """§9.6: the routes of a protocol episode's acts."""

    consultations: Voie = Field(description="Voie des consultations du protocole")
    seances_protocole: Voie = Field(description="Voie des séances de rééducation d'un épisode en protocole")


class ReevaluationEpisode(Trace):
    """§9.7: the re-assessment window counts from this act; outside it the forfait is not billable."""

    depuis: Ident = Field(description="Acte qui ouvre la fenêtre (J0)")
    voie_hors_fenetre: Voie


class ActesProduit(Trace):
    """§9.7: the acts the product records or proposes itself."""

    a_la_finalisation: dict[Ident, Ident] = Field(description="Orientation → acte enregistré en finalisant (une fois)")
    premier_acte_hors_protocole: Ident = Field(description="Premier acte proposé d'un épisode hors protocole")


class FicheSynthese(Trace):
    """§9.9: when the summary sheet for the médecin is due, beyond the session threshold."""

    evolutions: list[Ident] = Field(description="Évolution d'une réévaluation qui rend la fiche due")
    suites: list[Ident] = Field(description="Suite d'une réévaluation qui modifie le traitement")
    evenement_indesirable: bool = Field(description="Un événement indésirable rend la fiche due")


class DiagnosticPrealable(Trace):
    """§9.2: a stored episode of the condition with a prescription in these months proposes the prior diagnosis."""

    prescription_mois: int = Field(ge=1)


class EpisodeDeSoins(Modele):
    """Rules v3 (§9), one block per point, each traced to its source."""

    acces_direct: PeriodeAccesDirect
    historique: Historique12Mois
    non_cumul: NonCumul
    voies_actes: VoiesActes
    reevaluation: ReevaluationEpisode
    actes_produit: ActesProduit
    fiche_synthese: FicheSynthese
    diagnostic_prealable: DiagnosticPrealable
    motifs_cloture: list[Ident] = Field(min_length=1, description="Motifs de clôture d'un épisode (§9.11)")
    avertissements: dict[Ident, str] = Field(description="Ce que la page demande de confirmer avant d'enregistrer "
                                                         "un acte ({…} remplacé)")
    motifs_synthese: dict[Ident, str] = Field(description="Pourquoi la fiche de synthèse est due (panneau)")
    remarques: dict[Ident, str] = Field(description="Remarques du panneau de l'épisode ({…} remplacé)")

    @model_validator(mode="after")
    def _coherent(self) -> EpisodeDeSoins:
        manquants = [m for m in (self.acces_direct.motif_cloture_duree, *self.acces_direct.motifs_fin_periode)
                     if m not in self.motifs_cloture]
        if manquants:
            raise ValueError(f"motifs de clôture inconnus : {', '.join(manquants)}")
        return self
