"""Shape of a protocol file (``protocols/<id>.yaml``) and of the shared files beside it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from triage_app.models.base import Couverture, DateISO, Ident, Modele, Niveau, Orientation, Trace, Verification, Voie
from triage_app.models.episode_regles import EpisodeDeSoins


class Source(Modele):
    """A document a rule or value rests on."""

    id: Ident
    titre: str
    url: str | None = None
    consulte_via: str | None = None
    verification: Verification
    # A published clinical rule or instrument whose validation studies are established (the Ottawa rules, the
    # French STarT Back): what the page shows instead of « à vérifier », even when the project read it second-hand.
    validation: str | None = None
    note: str | None = None


class FichierSources(Modele):
    """``protocols/sources.yaml``: the catalogue every other file cites by id."""

    sources: list[Source]


class Choix(Modele):
    """One allowed value of a multiple-choice question."""

    valeur: str | int
    libelle: str


class Groupe(Modele):
    """A theme grouping questions on the page."""

    id: Ident
    libelle: str


class Question(Trace):
    """A question the kiné answers; its id is part of the public case format."""

    id: Ident
    libelle: str
    aide: str
    type: Literal["booleen", "choix"]
    choix: list[Choix] = []
    groupe: Ident
    niveau: Literal["urgences", "medecin_jour", "eligibilite", "ottawa", "score", "gravite"]
    requis: Literal["toujours", "facultatif", "conditionnel"]
    defaut: bool | None = None

    @model_validator(mode="after")
    def _choix_coherents(self) -> Question:
        if self.type == "choix" and not self.choix:
            raise ValueError("une question de type « choix » doit lister ses choix")
        if self.type == "booleen" and self.choix:
            raise ValueError("une question de type « booleen » ne liste pas de choix")
        if self.defaut is not None and self.requis != "facultatif":
            raise ValueError("seule une question facultative peut avoir une valeur par défaut")
        return self


class Critere(Trace):
    """A row of a red-flag decision table: fires on a « oui » answer or on a named computed condition."""

    id: Ident
    libelle: str
    niveau: Niveau
    question: Ident | None = None
    condition: Ident | None = None

    @model_validator(mode="after")
    def _une_seule_regle(self) -> Critere:
        if (self.question is None) == (self.condition is None):
            raise ValueError("un critère a soit « question », soit « condition » (exactement un des deux)")
        return self


class Regle(Trace):
    """A named condition with its label: eligibility rows, medical-advice rows."""

    id: Ident
    libelle: str
    condition: Ident


class RegleEligibilite(Regle):
    """A protocol-eligibility row: the condition, and how its failure is said to people."""

    libelle_non_rempli: str = Field(description="Ce qui manque, en français simple, quand la règle échoue "
                                                "(« partage DMP non accepté »)")


class MotifSupplementaire(Trace):
    """A criterion listed among the motifs whenever its condition holds and the orientation is not one of
    ``sauf_orientations``, whatever else fired (it informs the médecin; it decides nothing)."""

    critere: Ident = Field(description="Identifiant d'un critère de « criteres »")
    condition: Ident
    sauf_orientations: list[Orientation] = []


class Seuil(Trace):
    """A clinical or regulatory number of the protocol (not dated)."""

    valeur: int | float
    libelle: str
    note: str | None = None


class ClasseDuree(Trace):
    """Duration classes: aiguë below a number of days, chronique from a number of calendar months."""

    aigue_moins_de_jours: Ident = Field(description="Identifiant du seuil (jours, borne exclue)")
    chronique_des_mois: Ident = Field(description="Identifiant du seuil (mois calendaires, borne incluse)")


class Recidive(Trace):
    """Recurrent episode flag: earlier episodes in the last 12 months at or above a threshold."""

    episodes_min: Ident = Field(description="Identifiant du seuil")


class ZoneOttawa(Modele):
    """An Ottawa zone: the pain question and the signs that call for an X-ray."""

    id: Ident
    douleur: Ident
    signes: list[Ident] = Field(min_length=1)


class RegleOttawa(Trace):
    """Ottawa ankle and foot rules: when they apply and which zones they test."""

    fenetre_jours: Ident = Field(description="Identifiant du seuil donnant le délai maximal (jours)")
    non_applicable_si: list[Ident]
    zones: list[ZoneOttawa] = Field(min_length=1)


class ItemScore(Modele):
    """One item of a score: one point when the answer is in ``points_si``."""

    question: Ident
    points_si: list[bool | str | int] = Field(min_length=1)


class ScoreChronicite(Trace):
    """STarT Back-style score: total and psychosocial sub-score give faible, moyen or eleve."""

    items: list[ItemScore] = Field(min_length=1)
    sous_score: list[Ident] = Field(min_length=1)
    total_faible_max: int
    sous_score_eleve_min: int


class Prescription(Trace):
    """Something the kiné may prescribe under the protocol."""

    id: Ident
    libelle: str
    condition: Ident | None = None


class Forfait(Modele):
    """A forfait line of the protocol route, its amount from a dated parameter."""

    code: str
    libelle: str
    parametre: str
    remarque: str
    orientations: list[Orientation] | None = Field(
        None, description="Orientations pour lesquelles la ligne est due (toutes si absent)")


class FacturationProtocole(Modele):
    """Protocol-specific billing: forfaits and the NGAP session act."""

    forfaits: list[Forfait] = Field(min_length=1)
    code_seance: str = Field(description="Paramètre daté donnant la lettre de la séance")
    coefficient_seance: str = Field(description="Paramètre daté donnant le coefficient de la séance")
    libelle_seance: str
    reevaluation: str = Field(description="Quand a lieu la consultation de réévaluation (texte)")


class Etat(Modele):
    """A stage of the walk, or (``final``) an outcome carrying an orientation."""

    id: Ident
    libelle: str
    etape: Ident = Field(description="Nom de l'étape (liste fermée, voir triage_app/engine/etapes.py)")
    niveau: Niveau | None = None
    final: bool = False
    orientation: Orientation | None = None
    motif: Ident | None = None
    seances: Literal["protocole", "acces_direct", "sur_prescription"] | None = None
    prescriptions: bool = False

    @model_validator(mode="after")
    def _issue(self) -> Etat:
        if self.final and self.etape != "issue":
            raise ValueError("un état final a pour étape « issue »")
        if not self.final and (self.orientation or self.motif or self.seances or self.prescriptions):
            raise ValueError("seul un état final porte orientation, motif, seances ou prescriptions")
        return self


class Transition(Trace):
    """An ordered transition: the first whose conditions hold (and whose ``sauf`` do not) fires."""

    id: Ident
    declencheur: Ident
    depuis: Ident
    vers: Ident
    conditions: list[Ident] = []
    sauf: list[Ident] = []
    libelle: str


class Conseil(Trace):
    """A sentence of the patient handout, in plain French, with its source."""

    texte: str


class ConseilsPatient(Modele):
    """The patient handout's advice for a protocol: what to do, and when to come back or call the 15."""

    conseils: list[Conseil] = Field(min_length=1)
    revenir_si: list[Conseil] = Field(min_length=1)


class Reevaluation(Trace):
    """When the protocol's re-assessment consultation is due, counted in days from the initial consultation."""

    du_jour: int = Field(ge=0, description="Premier jour de la fenêtre (J0 = consultation initiale)")
    au_jour: int = Field(ge=0, description="Dernier jour de la fenêtre")

    @model_validator(mode="after")
    def _ordre(self) -> Reevaluation:
        if self.au_jour < self.du_jour:
            raise ValueError("au_jour doit être postérieur ou égal à du_jour")
        return self


class Suivi(Modele):
    """How the episode is followed after the first consultation."""

    reevaluation: Reevaluation


class Protocole(Modele):
    """A protocol: questions, decision tables, stages and outcomes, all traced to sources."""

    id: Ident
    titre: str
    version: str
    en_vigueur_du: DateISO
    description: str
    sources: list[Ident] = Field(min_length=1, description="Sources principales du protocole")
    seuils: dict[Ident, Seuil]
    groupes: list[Groupe]
    questions: list[Question]
    criteres: list[Critere]
    motifs_supplementaires: list[MotifSupplementaire] = []
    eligibilite: list[RegleEligibilite]
    duree: ClasseDuree | None = None
    recidive: Recidive | None = None
    ottawa: RegleOttawa | None = None
    score_chronicite: ScoreChronicite | None = None
    avis_medical: list[Regle]
    prescriptions: list[Prescription]
    conseils_kine: list[Regle] = Field([], description="Conseils au kinésithérapeute, affichés quand leur "
                                                      "condition est vraie ; ne changent aucune décision")
    facturation: FacturationProtocole
    conseils_patient: ConseilsPatient
    suivi: Suivi
    etat_initial: Ident
    etats: list[Etat]
    transitions: list[Transition]


class LibelleOrientation(Modele):
    """How an orientation is shown to the kiné."""

    id: Orientation
    libelle: str
    consigne: str
    patient: str = Field(description="Ce que l'orientation veut dire, pour le patient, en français simple")
    rang: int = Field(description="0 = la plus urgente")


class LibelleVoie(Modele):
    """How a billing route is shown."""

    id: Voie
    libelle: str


class Motif(Trace):
    """A motif that is not a question: decided by the route (cap reached, no route)."""

    id: Ident
    libelle: str


class Bdk(Modele):
    """BDK rule: billable at the 1st session, then the 30th, then every 20."""

    code: str
    libelle: str
    coefficient: str
    premiere_si_realisees: int
    puis_si_realisees: int
    pas: int


class Franchise(Trace):
    """The franchise médicale on paramedical acts: shown as a remark, never deducted (ids of dated parameters)."""

    montant: str = Field(description="Paramètre daté : franchise par acte (€)")
    plafond_jour: str = Field(description="Paramètre daté : plafond journalier (€)")
    age_exoneration_moins_de: int = Field(description="Pas de franchise avant cet âge (mineurs)")


class FacturationCommune(Modele):
    """NGAP parameters shared by every protocol (ids of dated parameters)."""

    lettre_cle: str
    lettre_cle_drom: str
    departements_drom: str
    taux_remboursement: dict[Couverture, str] = Field(
        description="Paramètre daté du taux remboursé, pour chaque couverture du patient (patient.couverture)")
    franchise: Franchise
    seuil_devis: str
    bdk: Bdk


class AccesDirect(Modele):
    """Where and how far accès direct is open (ids of dated parameters)."""

    structures: str
    structure_cpts: str
    cpts_departements: str
    plafond_sans_diagnostic: str


class RegleVoie(Trace):
    """A row of the billing-route table: the first row that matches gives the route."""

    voie: Voie
    orientations: list[Orientation] | None = None
    condition: Ident | None = None


class Libelles(Modele):
    """How the codes of the case and of the result are shown to people (page, summaries)."""

    structures: dict[str, str] = Field(description="Type de structure (cadre.structure) → libellé")
    couvertures: dict[str, str] = Field(description="Couverture du patient (patient.couverture) → libellé")
    classe_duree: dict[str, str]
    risque_chronicite: dict[str, str] = Field(description="Niveau STarT Back → libellé et conduite à tenir")
    radiographie: dict[str, str]
    verification: dict[str, str] = Field(description="Niveau de vérification d'une source → badge affiché")
    reponses: dict[str, str] = Field(description="Libellés des réponses oui / non")
    episode: LibellesEpisode


class SuiviEpisode(Trace):
    """Episode rules shared by every protocol: the summary sheet for the médecin, the accès direct cap motif."""

    seuil_fiche_synthese: int = Field(ge=1, description="Fiche de synthèse au prescripteur / médecin traitant à "
                                                        "partir de ce nombre de séances (et en fin de soins)")
    motif_plafond: Ident = Field(description="Motif du résultat qui dit que le plafond d'accès direct est atteint")
    motif_cloture_plafond: Ident = Field(description="Motif de clôture de l'épisode au plafond d'accès direct")


class LibellesEpisode(Modele):
    """How the episode's codes are shown (acts, closing reasons, outcome, re-assessment)."""

    actes: dict[str, str]
    motifs_cloture: dict[str, str]
    repris_par: dict[str, str]
    evolutions: dict[str, str]
    suites: dict[str, str]
    revue: dict[str, str]


class Commun(Modele):
    """``protocols/commun.yaml``: vocabulary and rules shared by every protocol."""

    orientations: list[LibelleOrientation]
    voies: list[LibelleVoie]
    motifs: list[Motif]
    structures_protocole: list[str]
    criteres_non_remplis_si: Ident = Field(description="Condition sous laquelle le résultat dit quels critères "
                                                       "d'éligibilité manquent (la structure applique le protocole)")
    regles_voie: list[RegleVoie] = Field(min_length=1)
    avis_medical_sauf_orientations: list[Orientation]
    protocole_en_vigueur: str
    acces_direct: AccesDirect
    facturation: FacturationCommune
    remarques: dict[Ident, str]
    suivi_episode: SuiviEpisode
    episode_de_soins: EpisodeDeSoins = Field(description="Règles de l'épisode de soins (spécification v3, §9)")
    libelles: Libelles
