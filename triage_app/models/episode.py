"""An episode of care as the page, the exports and the tests see it: counts taken from the records.

These models are read-only views built by the services (:meth:`ServiceEpisodes.etat_episode`,
:meth:`ServiceDocuments.dossier_episode`); nothing here is typed by the kiné.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from triage_app.models.base import Couverture, Modele

Acte = Literal["bilan", "seance", "consultation_protocole_1", "consultation_protocole_2"]
"""What was done at a visit: the BDK (bilan), a rehabilitation session, a protocol consultation."""

StatutEpisode = Literal["ouvert", "clos"]
MotifCloture = str
"""A closing reason: one of ``episode_de_soins.motifs_cloture`` (``protocols/commun.yaml``), checked by the service."""
ReprisPar = Literal["delegant", "autre_medecin", "aucun"]
Evolution = Literal["amelioration", "stable", "aggravation"]
Suite = Literal["poursuite", "guerison", "medecin", "nouveau_triage"]
EtatRevue = Literal["a_venir", "due", "en_retard", "faite"]


class ActeEnregistre(Modele):
    """One recorded visit of the episode."""

    id: int
    date: date
    acte: Acte
    voie: str
    evolution: Evolution | None = None
    suite: Suite | None = None


# The kiné's texts for the médecin, by heading (issue #29): the summary sheet, the DAP and the report print them.
RUBRIQUES_MEDECIN: dict[str, str] = {
    "bilan": "Bilan initial (déficiences, limitations d'activité)",
    "traitement": "Traitement réalisé",
    "resultats": "Résultats et évolution",
    "conseils": "Conseils et suite proposée",
}
LONGUEUR_RUBRIQUE = 2000


class EtatEpisode(Modele):
    """Where an episode stands on a given day: counters, thresholds, the re-assessment window.

    ``seances_serie`` counts the rehabilitation sessions (act ``seance``) of this episode dated on or before the
    day; ``seances_12_mois`` the sessions of the patient's other episodes of the same protocol in the 12 months
    before the day, or the value the kiné declared (with ``motif_declaration``) when it is larger.
    ``restantes``, ``dap_necessaire`` and ``plafond_atteint`` come from the engine's evaluation of the episode's
    current triage for the *next* session (``None`` when the episode has no final triage yet).
    """

    episode_id: str
    patient_id: str
    protocole: str
    statut: StatutEpisode
    date_debut: date
    prescription_medicale: bool
    diagnostic_medical_prealable: bool
    motif_cloture: MotifCloture | None = None
    date_cloture: date | None = None
    repris_par: ReprisPar | None = None
    evenement_indesirable: bool | None = None
    evenement_texte: str | None = None
    textes: dict[str, str] = Field(default_factory=dict, description="Textes pour le médecin, par rubrique")
    triage_id: str | None = Field(None, description="Triage final en vigueur de l'épisode (le plus récent)")
    orientation: str | None = Field(None, description="Orientation du triage en vigueur de l'épisode")
    voie: str | None = None
    seances_serie: int = Field(description="Séances de l'épisode sur une voie remboursée (celles que les seuils "
                                           "comptent)")
    seances_non_facturees: int = Field(0, description="Séances de l'épisode enregistrées sans prise en charge")
    seances_12_mois: int
    seances_12_mois_calculees: int
    episodes_12_mois: int
    episodes_12_mois_calcules: int
    motif_declaration: str | None = None
    date_declaration: date | None = Field(None, description="Date de la dernière séance déclarée")
    declaration_en_cours: bool = Field(False, description="La déclaration compte encore (moins de 12 mois)")
    periode_acces_direct_du: date | None = None
    periode_acces_direct_au: date | None = Field(None, description="Dernier jour de la période d'accès direct")
    seances_periode_acces_direct: int | None = Field(None, description="Séances sans diagnostic du patient pour ce "
                                                                       "motif dans la période (tous épisodes)")
    periode_acces_direct_terminee: bool = False
    borne_12_mois: bool = Field(False, description="La borne des 12 mois décide des séances restantes")
    autorisees: int | None = None
    restantes: int | None = None
    plafond_acces_direct: int | None = None
    dap_necessaire: bool = False
    plafond_atteint: bool = False
    prochain_bdk: int | None = Field(None, description="Numéro de la séance à laquelle le prochain BDK est dû")
    synthese_due: bool = Field(False, description="Fiche de synthèse due (seuil de séances, traitement modifié, "
                                                  "complication)")
    synthese_motifs: tuple[str, ...] = Field((), description="Pourquoi la fiche de synthèse est due (libellés)")
    remarques: tuple[str, ...] = Field((), description="Ce que le panneau dit des actes et des comptes")
    seuil_synthese: int
    reevaluation_du: date | None = None
    reevaluation_au: date | None = None
    reevaluation_faite_le: date | None = None
    revue: EtatRevue | None = None
    actes: tuple[ActeEnregistre, ...] = ()


class PatientDossier(Modele):
    """Who the documents are about (only what they print)."""

    id: str
    nom: str
    prenom: str
    date_naissance: date
    sexe: str | None
    couverture: Couverture


class TriageDossier(Modele):
    """A final triage of the episode, as the summary sheet lists it."""

    id: str
    date_consultation: date
    version: int
    orientation: str | None
    classe_duree: str | None
    risque_chronicite: str | None
    version_protocole: str | None
    note: str | None


class MesureDossier(Modele):
    """One measure the patient reported, over the episode, as the documents print it (issue #30): the first and the
    latest complete scores, the change and how it reads against the measure's minimal change."""

    libelle: str
    nombre: int = Field(ge=1, description="Mesures complètes sur l'épisode")
    premier: float
    premier_jour: date
    premier_moment: str
    dernier: float
    dernier_jour: date
    dernier_moment: str
    variation: float | None = None
    lecture: str | None = Field(default=None, description="« amélioration cliniquement pertinente »…")
    variation_minimale: str | None = None
    declare_par_patient: bool = False
    dernier_libelle: str | None = Field(default=None, description="Libellé du niveau, pour une mesure par niveau")


class DossierEpisode(Modele):
    """Everything the DAP and the summary sheet need, read from the records on ``jour``."""

    jour: date
    structure: str | None
    kine: str = Field(description="Nom affiché du compte qui produit le document")
    kine_rpps: str | None = Field(default=None, description="RPPS du compte qui produit le document, s'il est connu")
    destinataire: str | None = Field(
        default=None, description="Médecin traitant du patient tel que sa fiche le donne (nom, RPPS, MSSanté)")
    patient: PatientDossier
    titre_protocole: str
    etat: EtatEpisode
    triages: tuple[TriageDossier, ...]
    mesures: tuple[MesureDossier, ...] = ()
