"""The episode's counts, from the recorded acts (rules v3, §9): one place, pure, the date an argument.

Every screen and document takes its counters from :func:`compter` (through the episode service): the series of
this episode, the reimbursed sessions of the 12 months before (other episodes of the condition, or a declaration
still in date), and the accès direct period (the cap belongs to the patient and the condition, §9.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from triage_app.domain.dates import ajouter_mois

SEANCE = "seance"


@dataclass(frozen=True, slots=True)
class ActeCompte:
    """A recorded act of the patient for the condition (any of their episodes)."""

    episode_id: str
    date: date
    acte: str
    voie: str


@dataclass(frozen=True, slots=True)
class EpisodeCompte:
    """An episode of the patient for the condition, as the counts need it."""

    id: str
    date_debut: date
    sans_diagnostic: bool
    motif_cloture: str | None = None


@dataclass(frozen=True, slots=True)
class Declaration:
    """The history the kiné declared on the episode (sessions done elsewhere), dated by its last session."""

    seances: int | None
    episodes: int | None
    date: date | None


@dataclass(frozen=True, slots=True)
class ReglesComptage:
    """What counts (from ``protocols/commun.yaml``, ``episode_de_soins``)."""

    voies_remboursees: frozenset[str]
    voie_acces_direct: str
    periode_mois: int
    motifs_fin_periode: frozenset[str]
    historique_mois: int
    declaration_valide_mois: int


@dataclass(frozen=True, slots=True)
class Periode:
    """An accès direct period: first session, end (exclusive), its sessions' dates and episodes."""

    debut: date
    fin: date
    dates: tuple[date, ...]
    episodes: frozenset[str]

    @property
    def dernier_jour(self) -> date:
        return self.fin - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Compteurs:
    """Where the episode stands on a day.

    ``serie`` counts this episode's sessions on a reimbursed route (what the DAP, BDK and the cap read);
    ``non_facturees`` its sessions on another route (stored « aucune »: they count in no threshold, §9.6).
    ``seances_12_mois`` is the larger of the reimbursed sessions of the patient's other episodes of the condition in
    the 12 months before the day and the declaration, when the declaration's date is within those months (§9.5).
    ``periode`` is the accès direct period this episode's sessions count in (``None``: the next such session opens
    a new one); ``seances_periode`` its sessions so far; ``periode_terminee`` says accès direct is over for this
    episode of care (its period ended, or was closed at the cap or by its duration and the onset is not after).
    """

    serie: int
    non_facturees: int
    seances_12_mois: int
    seances_12_mois_calculees: int
    episodes_12_mois: int
    episodes_12_mois_calcules: int
    declaration_en_cours: bool
    periode: Periode | None
    seances_periode: int
    periode_terminee: bool


def periodes(dates: Iterable[date], mois: int) -> list[Periode]:
    """Split accès direct sessions into periods: one opens with the first session not inside the one before."""
    out: list[Periode] = []
    courant: list[date] = []
    for jour in sorted(dates):
        if courant and jour >= ajouter_mois(courant[0], mois):
            out.append(Periode(courant[0], ajouter_mois(courant[0], mois), tuple(courant), frozenset()))
            courant = []
        courant.append(jour)
    if courant:
        out.append(Periode(courant[0], ajouter_mois(courant[0], mois), tuple(courant), frozenset()))
    return out


def _periodes_avec_episodes(actes: Sequence[ActeCompte], mois: int) -> list[Periode]:
    ordre = sorted(actes, key=lambda a: a.date)
    bornes = periodes((a.date for a in ordre), mois)
    out = []
    for p in bornes:
        eps = frozenset(a.episode_id for a in ordre if p.debut <= a.date < p.fin)
        out.append(Periode(p.debut, p.fin, p.dates, eps))
    return out


def declaration_valide(declaration: Declaration, jour: date, mois: int) -> bool:
    """Whether a declared history still counts on ``jour``: its date not older than ``mois`` months before the day
    (a declaration dated after the day, entered later for sessions done before, counts too)."""
    d = declaration.date
    return d is not None and ajouter_mois(jour, -mois) <= d


def compter(episode: EpisodeCompte, episodes: Sequence[EpisodeCompte], actes: Sequence[ActeCompte],
            declaration: Declaration, jour: date, regles: ReglesComptage, *, inclus: bool) -> Compteurs:
    """The counts of ``episode`` on ``jour`` from the acts of every episode of the patient for the condition.

    ``inclus``: count this episode's acts dated on the day too (where the episode stands after the day's visit,
    for the next session); otherwise only those before it (what a consultation on that day knows).
    """
    par_id = {e.id: e for e in episodes}
    par_id[episode.id] = episode

    def avant(a: ActeCompte) -> bool:
        return a.date <= jour if inclus else a.date < jour

    seances = [a for a in actes if a.acte == SEANCE]
    rembourse = regles.voies_remboursees
    propres = [a for a in seances if a.episode_id == episode.id and avant(a)]
    serie = sum(1 for a in propres if a.voie in rembourse)
    debut_12 = ajouter_mois(jour, -regles.historique_mois)
    calc_12 = sum(1 for a in seances if a.episode_id != episode.id and a.voie in rembourse
                  and debut_12 <= a.date < jour)
    ep_12 = sum(1 for e in episodes if e.id != episode.id and debut_12 <= e.date_debut < jour)
    en_cours = declaration_valide(declaration, jour, regles.declaration_valide_mois)
    seances_12 = max(calc_12, declaration.seances or 0) if en_cours else calc_12
    episodes_12 = max(ep_12, declaration.episodes or 0) if en_cours else ep_12

    sans_diag = [a for a in seances if a.voie == regles.voie_acces_direct
                 and par_id.get(a.episode_id, episode).sans_diagnostic]
    liste = _periodes_avec_episodes(sans_diag, regles.periode_mois)
    periode, terminee = _periode_de(episode, liste, par_id, jour, regles) if episode.sans_diagnostic else (None,
                                                                                                           False)
    n_periode = 0
    if periode is not None:
        n_periode = sum(1 for a in sans_diag if periode.debut <= a.date < periode.fin and avant(a))
    return Compteurs(serie=serie, non_facturees=len(propres) - serie, seances_12_mois=seances_12,
                     seances_12_mois_calculees=calc_12, episodes_12_mois=episodes_12,
                     episodes_12_mois_calcules=ep_12, declaration_en_cours=en_cours, periode=periode,
                     seances_periode=n_periode, periode_terminee=terminee)


def _periode_de(episode: EpisodeCompte, liste: list[Periode], par_id: dict[str, EpisodeCompte], jour: date,
                regles: ReglesComptage) -> tuple[Periode | None, bool]:
    """The period the episode's accès direct sessions count in on ``jour``, and whether it is over for it."""
    propres = [p for p in liste if episode.id in p.episodes]
    if propres:  # the episode already has sessions in a period: it stays there, until its end
        p = propres[-1]
        return p, jour >= p.fin
    def close(p: Periode) -> bool:
        return any((e := par_id.get(eid)) is not None and e.motif_cloture in regles.motifs_fin_periode
                   for eid in p.episodes)

    # A period closed at the cap or by its duration whose end is not before the onset: the same episode of care,
    # whichever period is running now.
    fermee = next((p for p in reversed(liste) if p.debut <= jour and close(p) and episode.date_debut < p.fin), None)
    if fermee is not None:
        return fermee, True
    courante = next((p for p in reversed(liste) if p.debut <= jour), None)
    if courante is not None and jour < courante.fin:  # a new episode inside a running period: counted with it
        return courante, False
    return None, False
