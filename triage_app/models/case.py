"""The public case format (see docs/format-des-cas.md): one patient, one consultation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt

from triage_app.models.base import Couverture, DateISO, Modele, Structure

# Bounded (issue #28): no patient has 10,000 sessions, and an out-of-range integer (10**30) is refused in French
# instead of reaching the arithmetic.
COMPTEUR_MAX = 10_000
Compteur = Annotated[StrictInt, Field(ge=0, le=COMPTEUR_MAX)]


class Patient(Modele):
    """Only what the decision needs."""

    date_naissance: DateISO
    sexe: Literal["F", "M"] | None = None
    couverture: Couverture = "regime_general"


class Cadre(Modele):
    """The setting of the consultation."""

    structure: Structure
    protocole_autorise: StrictBool = False
    medecin_delegant_est_medecin_traitant: StrictBool = False
    medecin_joignable: StrictBool = False
    departement: str | None = Field(None, max_length=3)
    inscrit_experimentation_cpts: StrictBool = False


class Consentement(Modele):
    """The patient's consent to the protocol and to DMP sharing."""

    protocole: StrictBool = False
    partage_dmp: StrictBool = False


class Episode(Modele):
    """The episode of care: onset or trauma date, prescription, sessions already done."""

    date_debut: DateISO
    prescription_medicale: StrictBool = False
    diagnostic_medical_prealable: StrictBool = False
    seances_realisees_episode: Compteur = 0
    seances_12_mois: Compteur = 0
    antecedent_lombalgie: StrictBool = False
    episodes_anterieurs_12_mois: Compteur = 0
    # Rules v3 (§9.1): the accès direct cap counts per patient and condition over a 3-month period, whichever
    # stored episode holds the sessions. Absent: the episode's own sessions (``seances_realisees_episode``).
    seances_acces_direct_periode: Compteur | None = None
    acces_direct_periode_terminee: StrictBool = False


class Cas(Modele):
    """A case: the input of the evaluation. Answers are checked against the protocol's questions."""

    protocole: str = Field(max_length=60)
    date_consultation: DateISO
    patient: Patient
    cadre: Cadre
    consentement: Consentement = Consentement()
    episode: Episode
    reponses: dict[str, Any] = Field({}, max_length=500)
