"""The measures the patient reports on an episode (issue #30): recorded item by item as given, scored once complete,
followed over the episode against their minimal change.

Every write goes through one unit of work and appends its audit event, which names the measure, the moment and how
many items are answered — never an answer nor a score."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from triage_app.domain import mesures as dm
from triage_app.errors import ErreurSaisie, Probleme
from triage_app.models.episode import MesureDossier
from triage_app.models.mesures import Mesure, ParametresMesures
from triage_app.services.base import Service
from triage_app.services.episode_etat import lire_episode
from triage_app.services.unite import nouvel_id
from triage_app.storage.tables import MesureTable

DECLARANTS = ("patient", "kine")


@dataclass(frozen=True)
class MesureEnregistree:
    """A stored measure as the page and the documents read it."""

    id: str
    mesure: str
    moment: str
    jour: date
    reponses: dict[str, int | None]
    score: float | None
    declare_par: str
    manquants: tuple[str, ...]


@dataclass(frozen=True)
class Declarations:
    """What the patient declared on the tablet for the episode's triage (issue #30): the latest complete score of
    each measure shown in the triage (``montree_au_triage``: the pain), and the protocol's questions they answered
    (triage values), with each answer's label — for the kiné to confirm."""

    jour: date | None = None
    scores: dict[str, str] = field(default_factory=dict)  # measure's short label → « 6/10 » (``montree_au_triage``)
    reponses: dict[str, Any] = field(default_factory=dict)
    libelles: dict[str, str] = field(default_factory=dict)

    @property
    def vide(self) -> bool:
        return not self.scores and not self.reponses


@dataclass(frozen=True)
class SuiviMesure:
    """One measure the protocol follows, over an episode: its follow-up (complete scores in order, first, latest,
    change and how it reads against the measure's minimal change), the complete measures, and the line the
    documents and the panel print (``None`` before a complete score)."""

    mesure: Mesure
    suivi: dm.Suivi
    completes: list[MesureEnregistree]
    dossier: MesureDossier | None


def _dossier(params: ParametresMesures, m: Mesure, suivi: dm.Suivi,
             faites: list[MesureEnregistree]) -> MesureDossier | None:
    if not faites:
        return None
    premier, dernier = faites[0], faites[-1]
    return MesureDossier(
        libelle=m.libelle, nombre=len(faites), premier=premier.score or 0.0, premier_jour=premier.jour,
        premier_moment=params.moments[premier.moment], dernier=dernier.score or 0.0, dernier_jour=dernier.jour,
        dernier_moment=params.moments[dernier.moment], variation=suivi.variation,
        lecture=params.lectures[suivi.lecture] if suivi.lecture else None,
        variation_minimale=m.variation_minimale.texte if m.variation_minimale else None,
        declare_par_patient=any(x.declare_par == "patient" for x in faites),
        dernier_libelle=_libelle_niveau(m, dernier.score))


def _libelle_niveau(m: Mesure, score: float | None) -> str | None:
    """The chosen level's label, for a measure scored by level (the global impression of change)."""
    if m.cotation.regle != "niveau" or score is None:
        return None
    [item] = m.tous_les_items()
    return next((c.libelle for c in item.reponses.choix if c.valeur == int(score)), None)


class ServiceMesures(Service):
    """Record and read the patient's measures."""

    @property
    def parametres(self) -> ParametresMesures:
        mesures = self.moteur.registre.mesures
        if mesures is None:
            raise ErreurSaisie([Probleme("mesures.yaml", "fichier des mesures absent de protocols/")])
        return mesures

    def _mesure(self, mid: str, protocole: str) -> Mesure:
        permises = [m.id for m in self.parametres.pour(protocole)]
        if mid not in permises:
            raise ErreurSaisie([Probleme("mesure", f"mesure inconnue pour ce protocole (permises : "
                                                   f"{', '.join(permises)})")])
        return self.parametres.mesure(mid)

    def mesures_du_protocole(self, protocole: str) -> list[Mesure]:
        """The measures an episode of ``protocole`` follows."""
        return self.parametres.pour(protocole)

    def enregistrer(self, *, episode_id: str, mesure: str, moment: str, jour: date,
                    reponses: Mapping[str, int | None], declare_par: str, acteur: str,
                    mesure_id: str | None = None) -> str:
        """Record answers to a measure and return its id: a new measure, or more answers to ``mesure_id`` (the page
        sends each answer as it is given, so a dropped connection loses nothing). An answer already stored with the
        same value writes nothing (a repeated tap); a changed one replaces it. The score is computed when the last
        item is answered. Checked before anything is written: the measure belongs to the episode's protocol, the
        moment to the measure, the day is not before the episode's start, every item and value is allowed."""
        if declare_par not in DECLARANTS:
            raise ErreurSaisie([Probleme("declare_par", f"attendu l’un de : {', '.join(DECLARANTS)}")])
        with self.uow.ecriture() as (s, chaine):
            ep = lire_episode(s, episode_id)
            m = self._mesure(mesure, ep.protocole)
            problemes = dm.problemes_reponses(m, reponses)
            if moment not in m.moments:
                problemes.append(Probleme("moment", f"attendu l’un de : {', '.join(m.moments)}"))
            if jour < ep.date_debut:
                problemes.append(Probleme("jour", "avant le début de l’épisode"))
            if problemes:
                raise ErreurSaisie(problemes)
            ligne = s.get(MesureTable, mesure_id) if mesure_id else None
            if ligne is not None and (ligne.episode_id != episode_id or ligne.mesure != mesure):
                raise ErreurSaisie([Probleme("mesure_id", "mesure d’un autre épisode ou d’un autre questionnaire")])
            maintenant = self.horloge()
            if ligne is None:
                ligne = MesureTable(id=mesure_id or nouvel_id(), episode_id=episode_id, mesure=mesure, moment=moment,
                                    jour=jour, reponses={}, score=None, declare_par=declare_par, auteur=acteur,
                                    cree_le=maintenant, modifie_le=maintenant)
                s.add(ligne)
            elif all(ligne.reponses.get(k, object()) == v for k, v in reponses.items()) and (
                    ligne.moment, ligne.jour) == (moment, jour):
                return ligne.id  # nothing new (a repeated tap): nothing written, nothing audited
            fusion = {**ligne.reponses, **reponses}
            ligne.reponses = fusion
            ligne.moment, ligne.jour, ligne.modifie_le = moment, jour, maintenant
            ligne.score = dm.score(m, fusion)
            chaine.ajouter("mesure", acteur, details={"episode": episode_id, "mesure": mesure, "moment": moment,
                                                      "reponses": len(fusion), "items": len(m.tous_les_items()),
                                                      "declare_par": declare_par})
            return ligne.id

    def lire(self, episode_id: str) -> tuple[str, list[MesureEnregistree]]:
        """The episode's protocol and every measure of the episode, in the order taken (day, then recording): one
        read, that :meth:`bilan_de` and the exports share."""
        with self.uow.lecture() as s:
            protocole = lire_episode(s, episode_id).protocole
            lignes = list(s.scalars(select(MesureTable).where(MesureTable.episode_id == episode_id)
                                    .order_by(MesureTable.jour, MesureTable.cree_le)))
        prises = {x.id: x for x in self.parametres.pour(protocole)}
        sortie = []
        for ligne in lignes:
            m = prises.get(ligne.mesure)
            manquants = tuple(dm.manquants(m, ligne.reponses)) if m is not None else ()
            sortie.append(MesureEnregistree(ligne.id, ligne.mesure, ligne.moment, ligne.jour, dict(ligne.reponses),
                                            ligne.score, ligne.declare_par, manquants))
        return protocole, sortie

    def mesures_episode(self, episode_id: str) -> list[MesureEnregistree]:
        """Every measure of the episode, in the order taken."""
        return self.lire(episode_id)[1]

    def bilan(self, episode_id: str) -> list[SuiviMesure]:
        """Each measure the episode's protocol follows, over the episode (see :class:`SuiviMesure`)."""
        return self.bilan_de(*self.lire(episode_id))

    def bilan_de(self, protocole: str, faites: list[MesureEnregistree]) -> list[SuiviMesure]:
        """:meth:`bilan` from measures already read."""
        params = self.parametres
        sortie = []
        for m in params.suivies(protocole):
            completes = [x for x in faites if x.mesure == m.id and x.score is not None]
            suivi = dm.suivi(m, [(x.jour.isoformat(), x.moment, float(x.score or 0.0)) for x in completes])
            sortie.append(SuiviMesure(m, suivi, completes, _dossier(params, m, suivi, completes)))
        return sortie

    def suivis(self, episode_id: str) -> list[tuple[Mesure, dm.Suivi]]:
        """Each measure of the episode's protocol and its follow-up (see :meth:`bilan`)."""
        return [(x.mesure, x.suivi) for x in self.bilan(episode_id)]

    def evolution_proposee(self, episode_id: str) -> str | None:
        """The re-assessment's evolution the measures suggest (« amelioration », « stable », « aggravation »), for
        the kiné to confirm; ``None`` when no measure can be read yet."""
        return dm.evolution_proposee(s.lecture for _, s in self.suivis(episode_id))

    def declarations(self, episode_id: str) -> Declarations:
        """What the patient declared for the episode (:class:`Declarations`): read by the triage's walk."""
        with self.uow.lecture() as s:  # one read (the triage's walk asks once per visit)
            faites = list(s.scalars(select(MesureTable).where(MesureTable.episode_id == episode_id,
                                                              MesureTable.declare_par == "patient")
                                    .order_by(MesureTable.jour, MesureTable.cree_le)))
        scores: dict[str, str] = {}
        reponses: dict[str, Any] = {}
        libelles: dict[str, str] = {}
        jour: date | None = None
        for x in faites:  # in order: the latest complete score of each measure shown in the triage
            m = self.parametres.connue(x.mesure)
            if m is not None and m.montree_au_triage and x.score is not None:
                scores[m.libelle_court] = f"{x.score:g}/{m.cotation.max}".replace(".", ",")
                jour = max(jour or x.jour, x.jour)
        for x in faites:  # in order: a later declaration replaces an earlier one
            m = self.parametres.connue(x.mesure)
            for it in m.tous_les_items() if m is not None else ():
                valeur = (x.reponses or {}).get(it.id)
                if it.question_du_triage is None or valeur is None:
                    continue
                reponses[it.question_du_triage] = (it.valeurs_du_triage[valeur] if it.valeurs_du_triage is not None
                                                   else bool(valeur))
                libelles[it.question_du_triage] = next(c.libelle for c in it.reponses.choix if c.valeur == valeur) \
                    if it.reponses.choix else ("Oui" if valeur else "Non")
                jour = max(jour or x.jour, x.jour)
        return Declarations(jour, scores, reponses, libelles)
