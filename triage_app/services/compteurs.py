"""The episode's counts read from the store, once, for every reader (rules v3, §9.10).

The engine's case (a triage's evaluation), the episode panel, the card, the documents and the re-evaluation all
take their counters here: two reads (the patient's episodes of the condition and their acts) handed to the pure
:func:`triage_app.domain.compteurs.compter`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage_app.domain.compteurs import ActeCompte, Compteurs, Declaration, EpisodeCompte, ReglesComptage, compter
from triage_app.models.episode_regles import EpisodeDeSoins
from triage_app.storage.tables import Episode, Seance


def regles_comptage(regles: EpisodeDeSoins) -> ReglesComptage:
    """What counts, from the rules' data."""
    ad, hist = regles.acces_direct, regles.historique
    return ReglesComptage(voies_remboursees=frozenset(hist.voies_remboursees), voie_acces_direct=ad.voie,
                          periode_mois=ad.periode_mois, motifs_fin_periode=frozenset(ad.motifs_fin_periode),
                          historique_mois=hist.mois, declaration_valide_mois=hist.declaration_valide_mois)


def declaration(ep: Episode) -> Declaration:
    """The history declared on the episode, dated."""
    return Declaration(ep.seances_12_mois_declarees, ep.episodes_12_mois_declares, ep.date_declaration)


def lire(s: Session, regles: EpisodeDeSoins, ep: Episode, jour: date, *, inclus: bool) -> Compteurs:
    """The episode's counts on ``jour`` from every act of the patient for the condition (two reads)."""
    episodes = [EpisodeCompte(i, debut, not diag, motif) for i, debut, diag, motif in s.execute(
        select(Episode.id, Episode.date_debut, Episode.diagnostic_medical_prealable, Episode.motif_cloture)
        .where(Episode.patient_id == ep.patient_id, Episode.protocole == ep.protocole))]
    actes = [ActeCompte(e, d, a, v) for e, d, a, v in s.execute(
        select(Seance.episode_id, Seance.date, Seance.acte, Seance.voie).join(Episode, Episode.id == Seance.episode_id)
        .where(Episode.patient_id == ep.patient_id, Episode.protocole == ep.protocole))]
    moi = EpisodeCompte(ep.id, ep.date_debut, not ep.diagnostic_medical_prealable, ep.motif_cloture)
    return compter(moi, episodes, actes, declaration(ep), jour, regles_comptage(regles), inclus=inclus)


def champs_cas(c: Compteurs) -> dict[str, Any]:
    """The case's episode fields the counts give (what a consultation on the day knows)."""
    return {"seances_realisees_episode": c.serie, "seances_12_mois": c.seances_12_mois,
            "episodes_anterieurs_12_mois": c.episodes_12_mois, "seances_acces_direct_periode": c.seances_periode,
            "acces_direct_periode_terminee": c.periode_terminee}
