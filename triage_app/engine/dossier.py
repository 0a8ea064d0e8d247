"""One walk through a protocol: the case, what it implies (computed once, on demand) and the trace.

A :class:`Dossier` is the *model* of the protocol's ``transitions.Machine``: it carries the
``state`` attribute. Derived facts (duration class, eligibility, fired criteria…) are cached
properties, so the predicates named in the YAML give the same answer whatever the stage order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, overload

from triage_app.domain.dates import age_en_annees, classe_duree, jours_entre
from triage_app.domain.scores import score_chronicite, zones_positives
from triage_app.errors import ParametreIntrouvable
from triage_app.models.case import Cas
from triage_app.models.protocol import Critere, Etat, Protocole, Question, Regle, RegleEligibilite, Transition

if TYPE_CHECKING:
    from transitions import Machine
    from transitions.core import Event

    from triage_app.loading.registry import Registre


_T = TypeVar("_T")


class calcule_une_fois(Generic[_T]):  # a decorator, named like functools.cached_property
    """``functools.cached_property`` without its lock: computed on first read, then an ordinary attribute.

    Python 3.11's takes a lock on every first read, which cost a fifth of a case's derived facts; a
    :class:`Dossier` is never shared between threads.
    """

    def __init__(self, calcul: Callable[[Any], _T]) -> None:
        self.calcul = calcul
        self.nom = calcul.__name__
        self.__doc__ = calcul.__doc__

    def __set_name__(self, proprietaire: type, nom: str) -> None:
        self.nom = nom

    @overload
    def __get__(self, instance: None, proprietaire: type | None = None) -> Self: ...

    @overload
    def __get__(self, instance: object, proprietaire: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, proprietaire: type | None = None) -> Self | _T:
        if instance is None:
            return self
        valeur = instance.__dict__[self.nom] = self.calcul(instance)
        return valeur


# The protocol's rows that every case reads, copied once into slotted records: an attribute of a pydantic model is
# read through its ``__getattr__`` hook, about five times the cost of a slot, and these are read some three hundred
# times per case (criteria alone, 170).
@dataclass(frozen=True)
class Sortie:
    """One exit of a state, as the machine would try it: conditions (all true), ``unless`` (all false)."""

    transition: Transition
    conditions: tuple[Callable[[Dossier], bool], ...]
    sauf: tuple[Callable[[Dossier], bool], ...]
    vers: str
    entree: dict[str, Any]  # the trace entry, copied when the exit is taken

    def ouverte(self, d: Dossier) -> bool:
        """Whether the machine would take this exit: its conditions in order, then its ``unless``, the first that
        decides stops the check (as transitions' ``Transition.execute`` does)."""
        for condition in self.conditions:
            if not condition(d):
                return False
        for sauf in self.sauf:  # noqa: SIM110  (no generator per exit tried: most have no ``unless``)
            if sauf(d):
                return False
        return True


@dataclass(frozen=True, slots=True)
class CritereCompile:
    """A red-flag criterion: its question (answered « oui » fires it) or its computed condition."""

    modele: Critere
    id: str
    question: str | None
    condition: str | None
    source: str | None


@dataclass(frozen=True, slots=True)
class RegleCompilee:
    """An eligibility row and its allow-listed predicate."""

    modele: RegleEligibilite
    id: str
    source: str | None
    fonction: Callable[[Dossier], bool]
    questions: tuple[str, ...] = ()  # the answers its predicate reads (unanswered: the row is not yet known)


@dataclass(frozen=True, slots=True)
class EtatCompile:
    """A state of the walk: the stage it runs, whether it is an outcome."""

    modele: Etat
    etape: str
    final: bool


@dataclass(frozen=True)
class ProtocoleCompile:
    """A validated protocol with its look-up tables and its machine, built once per process."""

    modele: Protocole
    empreinte: str
    questions: dict[str, Question]
    criteres: dict[str, tuple[Critere, ...]]
    table_criteres: dict[str, tuple[CritereCompile, ...]]
    table_eligibilite: tuple[RegleCompilee, ...]
    etats_compiles: dict[str, EtatCompile]
    # The chronicity score's items as (question, answers that score a point).
    items_score: tuple[tuple[str, tuple[Any, ...]], ...]
    seuils: dict[str, float | int]
    etats: dict[str, Etat]
    machine: Machine
    evenements: dict[str, Event]
    sorties: dict[str, tuple[Sortie, ...]]
    requises_toujours: tuple[str, ...]
    defauts: dict[str, Any]
    # Every allowed answer as (question, type, value): what ``Moteur._problemes_reponses`` accepts.
    reponses_permises: frozenset[tuple[str, type, Any]]


class Dossier:
    """Model of the machine for one case: ``state``, the derived facts and the ``trace``."""

    def __init__(self, cas: Cas, protocole: ProtocoleCompile, registre: Registre,
                 predicats: dict[str, Callable[[Dossier], bool]]) -> None:
        self.cas = cas
        self.p = protocole
        self.registre = registre
        self.predicats = predicats
        self.jour: date = cas.date_consultation
        self.state: str = protocole.modele.etat_initial
        reponses = cas.reponses
        if None in reponses.values():  # an unanswered question (null) keeps its default, if any
            reponses = {k: v for k, v in reponses.items() if v is not None}
        self.reponses: dict[str, Any] = {**protocole.defauts, **reponses}
        self.age = age_en_annees(cas.patient.date_naissance, self.jour)
        self.jours = jours_entre(cas.episode.date_debut, self.jour)
        self.trace: list[dict[str, Any]] = []
        # Filled by the outcome stage.
        self.orientation: str | None = None
        self.seances: dict[str, int] | None = None
        self.voie: str | None = None
        self.lignes: list[dict[str, Any]] = []
        self.remarques: list[str] = []
        self.prescriptions: list[str] = []
        self.avis = False

    # -- helpers -----------------------------------------------------------------------------
    def noter(self, question: str | None, reponse: Any, regle: str, source: str | None) -> None:
        """Append a step to the trace, in the current state."""
        self.trace.append({"etat": self.state, "question": question, "reponse": reponse, "regle": regle,
                           "source": source})

    def seuil(self, nom: str) -> Any:
        """A threshold of the protocol (its presence is checked at load time)."""
        return self.p.seuils[nom]

    def parametre(self, pid: str) -> Any:
        """A dated parameter's value at the consultation date (may raise :class:`ParametreIntrouvable`)."""
        return self.registre.parametres[pid].valeur_au(self.jour)

    def parametre_ou(self, pid: str, defaut: Any) -> Any:
        """A dated parameter's value, or ``defaut`` when it has none at this date."""
        try:
            return self.parametre(pid)
        except ParametreIntrouvable:
            return defaut

    def verifie(self, regle: Regle | str) -> bool:
        """Evaluate an allow-listed predicate by name."""
        nom = regle if isinstance(regle, str) else regle.condition
        return self.predicats[nom](self)

    # -- derived facts -----------------------------------------------------------------------
    @calcule_une_fois
    def classe_duree(self) -> str | None:
        d = self.p.modele.duree
        if d is None:
            return None
        return classe_duree(self.cas.episode.date_debut, self.jour, self.seuil(d.aigue_moins_de_jours),
                            self.seuil(d.chronique_des_mois))

    @calcule_une_fois
    def recidivante(self) -> bool | None:
        r = self.p.modele.recidive
        if r is None:
            return None
        return self.cas.episode.episodes_anterieurs_12_mois >= self.seuil(r.episodes_min)

    @calcule_une_fois
    def score(self) -> tuple[str | None, int | None, int | None]:
        s = self.p.modele.score_chronicite
        if s is None:
            return None, None, None
        return score_chronicite(self.reponses, self.p.items_score, s.sous_score, s.total_faible_max,
                                s.sous_score_eleve_min)

    @calcule_une_fois
    def ottawa_applicable(self) -> bool:
        o = self.p.modele.ottawa
        if o is None:
            return False
        if self.jours > self.seuil(o.fenetre_jours):
            return False
        # An unanswered contra-indication does not rule the Ottawa rules out (the safer reading).
        return not any(self.reponses.get(q) is True for q in o.non_applicable_si)

    @calcule_une_fois
    def radiographie(self) -> str | None:
        o = self.p.modele.ottawa
        if o is None or not self.ottawa_applicable:
            return None
        zones = zones_positives(self.reponses, [(z.id, z.douleur, z.signes) for z in o.zones])
        return "_et_".join(zones) or None

    @calcule_une_fois
    def eligibilite(self) -> list[tuple[RegleCompilee, bool]]:
        return [(r, r.fonction(self)) for r in self.p.table_eligibilite]

    @calcule_une_fois
    def eligible(self) -> bool:
        return all(ok for _, ok in self.eligibilite)

    @calcule_une_fois
    def declenches(self) -> dict[str, list[Critere]]:
        reponses, verifie = self.reponses, self.verifie
        # critere_vrai, written out: twenty criteria per case
        return {niveau: [c.modele for c in criteres if (reponses.get(c.question) is True if c.question is not None
                                                        else verifie(c.condition or ""))]
                for niveau, criteres in self.p.table_criteres.items()}

    @calcule_une_fois
    def motifs_criteres(self) -> list[Critere]:
        """The criteria listed among the motifs, urgent level first, each in the protocol's order: those that
        fired, and the « supplementary » ones whose condition holds outside their excluded orientations (rules
        v2, §8.3: they inform, they decide nothing). Read once the orientation is known."""
        en_plus = {ms.critere for ms in self.p.modele.motifs_supplementaires
                   if self.orientation not in ms.sauf_orientations and self.verifie(ms.condition)}
        if not en_plus:  # the fired criteria, in the protocol's order within each level (ids are unique: loading)
            return [c for niveau in ("urgences", "medecin_jour") for c in self.declenches.get(niveau, ())]
        declenches = {c.id for niveau in ("urgences", "medecin_jour") for c in self.declenches.get(niveau, ())}
        return [c.modele for niveau in ("urgences", "medecin_jour") for c in self.p.table_criteres.get(niveau, ())
                if c.id in declenches or c.id in en_plus]

    @calcule_une_fois
    def criteres_non_remplis(self) -> list[RegleEligibilite]:
        """Failed eligibility rows, in the protocol's order, when the structure applies the protocol (rules v2,
        §8.4); empty otherwise. A row whose question is not answered yet is not failed, only unknown: it is not
        listed (a draft's card never states what the kiné has not said, issue #29)."""
        if self.eligible or not self.verifie(self.registre.commun.criteres_non_remplis_si):
            return []
        reponses = self.reponses
        return [r.modele for r, ok in self.eligibilite if not ok and all(q in reponses for q in r.questions)]

    @calcule_une_fois
    def conseils_kine(self) -> list[Regle]:
        """Advice to the kiné whose condition holds (changes no decision)."""
        return [r for r in self.p.modele.conseils_kine if self.verifie(r)]

    def critere_vrai(self, c: Critere) -> bool:
        """Whether one criterion fires: a « oui » answer, or its computed condition."""
        if c.question is not None:
            return self.reponses.get(c.question) is True
        return self.verifie(c.condition or "")

    @calcule_une_fois
    def manquantes(self) -> list[str]:
        manque = [q for q in self.p.requises_toujours if q not in self.reponses]
        o = self.p.modele.ottawa
        if o is not None and self.ottawa_applicable:
            ordre = {q: i for i, q in enumerate(self.p.questions)}
            extra: set[str] = set()
            for z in o.zones:
                if z.douleur not in self.reponses:
                    extra.add(z.douleur)
                elif self.reponses[z.douleur] is True:
                    extra.update(s for s in z.signes if s not in self.reponses)
            manque = sorted({*manque, *extra}, key=ordre.__getitem__)
        return manque

    @calcule_une_fois
    def acces_direct_disponible(self) -> bool:
        ad = self.registre.commun.acces_direct
        cadre = self.cas.cadre
        if cadre.structure in self.parametre_ou(ad.structures, []):
            return True
        if cadre.structure != ad.structure_cpts or not cadre.inscrit_experimentation_cpts:
            return False
        departement = (cadre.departement or "").strip().upper()
        return departement in {d.upper() for d in self.parametre_ou(ad.cpts_departements, [])}

    @calcule_une_fois
    def plafond_acces_direct(self) -> int | None:
        """Sessions allowed in accès direct without prior diagnosis; ``None`` when no cap applies."""
        if self.cas.episode.diagnostic_medical_prealable:
            return None
        return int(self.parametre_ou(self.registre.commun.acces_direct.plafond_sans_diagnostic, 0))

    @property
    def seances_acces_direct(self) -> int:
        """Sessions without prior diagnosis already done for the condition in the current accès direct period
        (rules v3, §9.1); the episode's own sessions when the case does not say."""
        ep = self.cas.episode
        return ep.seances_realisees_episode if ep.seances_acces_direct_periode is None \
            else ep.seances_acces_direct_periode
