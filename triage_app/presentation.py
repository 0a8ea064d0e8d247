"""What the page shows, computed without Streamlit: the walk's groups, the orientation card, the rules' views.

Pure functions over the loaded rules and a result; the page (``triage_app/ui``) only lays them out, so the
logic is tested without a browser and the summary exports can reuse it. Every label comes from
``protocols/`` (``commun.yaml`` → ``libelles``, the protocols' questions, motifs and prescriptions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from triage_app.engine.evaluation import Moteur
from triage_app.models.protocol import Groupe, Protocole, Question
from triage_app.models.result import Resultat

# Questions for which « Aucun de ces signes » makes sense: red flags and examination findings, never an
# eligibility fact (a « non » there would be a statement, not the absence of a sign).
_NIVEAUX_SIGNES = frozenset({"urgences", "medecin_jour", "ottawa", "gravite"})


@dataclass(frozen=True)
class VueQuestion:
    """A question as the page shows it, with its current answer (``None`` = not answered)."""

    id: str
    libelle: str
    aide: str
    type: str
    choix: list[tuple[str, str]]
    reponse: Any
    manquante: bool


@dataclass(frozen=True)
class VueGroupe:
    """A theme of questions, in the protocol's order."""

    id: str
    libelle: str
    questions: list[VueQuestion]
    facultatif: bool
    tout_non: bool

    @property
    def complet(self) -> bool:
        """Every shown question of the group has an answer."""
        return all(q.reponse is not None for q in self.questions)

    @property
    def repondues(self) -> int:
        """How many shown questions are answered."""
        return sum(q.reponse is not None for q in self.questions)


def _visible(q: Question, reponses: dict[str, Any], manquantes: set[str]) -> bool:
    if q.requis == "conditionnel":
        return q.id in manquantes or q.id in reponses
    return True


def groupes(protocole: Protocole, reponses: dict[str, Any], resultat: Resultat | None) -> list[VueGroupe]:
    """The protocol's groups with the questions to show now (conditional ones only once the rules ask)."""
    manquantes = set(resultat["questions_manquantes"]) if resultat else set()
    par_groupe: dict[str, list[Question]] = {g.id: [] for g in protocole.groupes}
    for q in protocole.questions:
        if _visible(q, reponses, manquantes):
            par_groupe[q.groupe].append(q)
    vues = []
    for g in protocole.groupes:
        qs = par_groupe[g.id]
        if not qs:
            continue
        vues.append(_vue_groupe(g, qs, reponses, manquantes))
    return vues


def _vue_groupe(g: Groupe, qs: list[Question], reponses: dict[str, Any], manquantes: set[str]) -> VueGroupe:
    return VueGroupe(
        id=g.id, libelle=g.libelle,
        questions=[VueQuestion(q.id, q.libelle, q.aide, q.type, [(c.valeur, c.libelle) for c in q.choix],
                               reponses.get(q.id), q.id in manquantes) for q in qs],
        facultatif=all(q.requis == "facultatif" for q in qs),
        tout_non=all(q.type == "booleen" and q.niveau in _NIVEAUX_SIGNES for q in qs),
    )


def reponse_texte(q: VueQuestion, sans_reponse: str = "—") -> str:
    """An answer in words: « Oui », « Non », the choice's label, or ``sans_reponse``."""
    if q.reponse is None:
        return sans_reponse
    if isinstance(q.reponse, bool):
        return "Oui" if q.reponse else "Non"
    return dict(q.choix).get(q.reponse, str(q.reponse))


def groupe_courant(vues: list[VueGroupe]) -> str | None:
    """The first required group with a question still unanswered (``None`` when all are answered)."""
    for g in vues:
        if not g.facultatif and not g.complet:
            return g.id
    return None


def reponses_aucun_signe(groupe: VueGroupe) -> dict[str, bool]:
    """« Aucun de ces signes »: « non » for every unanswered question of the group.

    An answer already given is never overwritten: a « oui » stays a « oui » (the result can only get
    more cautious, never more permissive, by this shortcut).
    """
    if not groupe.tout_non:
        return {}
    return {q.id: False for q in groupe.questions if q.reponse is None}


@dataclass(frozen=True)
class VueMotif:
    """Why the orientation was chosen: a criterion, its source and whether the source was read first-hand."""

    libelle: str
    source_id: str
    source_titre: str
    source_url: str | None
    verification: str
    badge: str
    a_verifier: bool


@dataclass(frozen=True)
class VueLigne:
    """A billing line with its amount at the consultation date, and who pays what (NGAP acts only)."""

    code: str
    libelle: str
    montant: str
    part_remboursee: str | None
    part_patient: str | None = None

    @property
    def qui_paie(self) -> str:
        """« (remboursé : 10,74 € ; reste patient : 7,16 €) », or "" when no share applies (forfaits)."""
        parts = [f"remboursé : {self.part_remboursee}"] if self.part_remboursee else []
        if self.part_patient:
            parts.append(f"reste patient : {self.part_patient}")
        return f" ({' ; '.join(parts)})" if parts else ""


@dataclass(frozen=True)
class Carte:
    """The orientation card: everything the kiné needs to act, in display form."""

    complet: bool
    orientation: str | None
    orientation_libelle: str | None
    consigne: str | None
    urgence: bool
    rang: int | None
    motifs: list[VueMotif]
    manquantes: int
    duree: str | None
    risque_chronicite: str | None
    radiographie: str | None
    avis_medical: bool
    seances: dict[str, int] | None
    voie: str | None
    lignes: list[VueLigne]
    remarques: list[str]
    prescriptions: list[str]
    details: dict[str, Any] = field(default_factory=dict)
    # Rules v2 (spec §8.4-8.6): why the protocol does not apply, the money remarks shown with the lines (rather
    # than as small print), advice to the kiné.
    criteres_non_remplis: list[VueMotif] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    conseils_kine: list[VueMotif] = field(default_factory=list)
    # The orientation is a referral to a médecin now (``commun.yaml`` avis_medical_sauf_orientations): the
    # referral stands alone at the top, the billing details go below it, collapsed.
    renvoi_medical: bool = False
    # Why the X-ray is indicated: the positive Ottawa findings (question labels), with the rule's source.
    radiographie_raisons: list[str] = field(default_factory=list)
    # Rules v3 (§9.10): a final triage's sessions are what was decided that day; the episode's current counters
    # (the panel's lines) are shown beside them when they differ.
    au_jour_du_triage: bool = False
    compteurs_actuels: list[str] = field(default_factory=list)
    compteurs_au: date | None = None  # the day the current counters are counted up to (the panel's)
    radiographie_source: VueMotif | None = None


# Headings shared by the card and the summaries (the PDF template receives them with its data).
PROTOCOLE_NON_APPLICABLE = "Protocole non applicable"
FACTURATION_DETAIL = "Facturation (détail)"
CONSEIL_KINE = "Conseil au kinésithérapeute"
# Remarks of ``commun.yaml`` (``remarques``) on who pays what: shown beside the billing lines, in this order.
_REMARQUES_PARTS = ("part_remboursee", "part_patient", "franchise", "franchise_mineur")


def euros(montant: float | None) -> str:
    """French money format: ``25,00 €``; « non fixé » when the value is not set at that date."""
    if montant is None:
        return "non fixé"
    entier, decimales = f"{montant:,.2f}".split(".")
    return entier.replace(",", "\u202f") + "," + decimales + "\u00a0€"


def date_fr(jour: date | str) -> str:
    """``10/03/2026``."""
    if isinstance(jour, str):
        jour = date.fromisoformat(jour)
    return jour.strftime("%d/%m/%Y")


# The months as a chart's axis writes them (the usual French abbreviations: issue #29).
MOIS_ABREGES = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
        "novembre", "décembre")


def mois_fr(cle: str) -> str:
    """``2026-03`` → ``mars 2026``."""
    annee, mois = cle.split("-")
    return f"{MOIS[int(mois) - 1]} {annee}"


def _jours(n: int) -> str:
    return f"{n} jour" if n in (0, 1) else f"{n} jours"


@lru_cache(maxsize=64)
def _gabarit(modele: str) -> re.Pattern[str]:
    """A regular expression matching the remarks written from ``modele`` (``{champ}`` = any text)."""
    return re.compile(".+?".join(re.escape(morceau) for morceau in re.split(r"\{[^{}]*\}", modele)))


def _separer_parts(m: Moteur, remarques: list[str]) -> tuple[list[str], list[str]]:
    """(remarks on who pays what, the other remarks), each in the engine's order; announcements of values not
    yet in force are left out (the « Protocoles » page lists them: the card shows what applies today)."""
    commun = m.registre.commun.remarques
    modeles = [commun[k] for k in _REMARQUES_PARTS if k in commun]
    parts = [r for r in remarques if any(_gabarit(x).fullmatch(r) for x in modeles)]
    annonce = _gabarit(commun["annonce"]) if "annonce" in commun else None
    return parts, [r for r in remarques if r not in parts and not (annonce and annonce.fullmatch(r))]


def _raisons_radiographie(m: Moteur, resultat: Resultat, reponses: dict[str, Any] | None) -> list[str]:
    """The positive Ottawa findings behind the X-ray indication: each positive zone's pain and signs."""
    protocole = m.protocoles[resultat["protocole"]].modele
    if not resultat["radiographie"] or protocole.ottawa is None or reponses is None:
        return []
    libelles = {q.id: q.libelle.rstrip(" ?") for q in protocole.questions}
    zones = set(resultat["radiographie"].split("_et_"))
    raisons: list[str] = []
    for z in protocole.ottawa.zones:
        if z.id in zones:
            for q in (z.douleur, *z.signes):
                if reponses.get(q) is True and libelles.get(q, q) not in raisons:
                    raisons.append(libelles.get(q, q))
    return raisons


def verification_affichee(m: Moteur, source: str, verification: str) -> tuple[str, bool]:
    """The badge of a rule traced to ``source``: (its text, whether it is « à vérifier »).

    Only a second-hand source is « à vérifier »; a primary source, or a published rule whose validation is
    established (``validation`` in ``sources.yaml``: the Ottawa rules), is not, whoever reported it.
    """
    libelles = m.registre.commun.libelles.verification
    src = m.registre.sources.get(source)
    if verification == "secondaire" and src is not None and src.validation:
        return libelles.get("validee", "règle validée"), False
    return libelles.get(verification, verification), verification == "secondaire"


def _vue_motif(m: Moteur, mo: dict[str, Any]) -> VueMotif:
    src = m.registre.sources.get(mo["source"])
    badge, a_verifier = verification_affichee(m, mo["source"], mo["verification"])
    return VueMotif(
        libelle=mo["libelle"], source_id=mo["source"], source_titre=src.titre if src else mo["source"],
        source_url=src.url if src else None, verification=mo["verification"], badge=badge, a_verifier=a_verifier)


def carte(m: Moteur, resultat: Resultat, reponses: dict[str, Any] | None = None) -> Carte:
    """The orientation card of a result (complete or not); with the case's ``reponses``, the X-ray indication
    says which Ottawa findings call for it.

    A result stored before rules v2 has no ``criteres_non_remplis``, ``conseils_kine`` nor ``part_patient_eur``:
    they are then simply not shown (a final triage is never re-evaluated).
    """
    commun = m.registre.commun
    libelles = commun.libelles
    orientations = {o.id: o for o in commun.orientations}
    voies = {v.id: v.libelle for v in commun.voies}
    protocole = m.protocoles[resultat["protocole"]].modele
    prescriptions = {p.id: p.libelle for p in protocole.prescriptions}
    o = orientations.get(resultat["orientation"]) if resultat["orientation"] else None
    motifs = [_vue_motif(m, dict(mo)) for mo in resultat["motifs"]]
    fac = resultat["facturation"]
    parts, remarques = _separer_parts(m, list(fac["remarques"]))
    classe = resultat["classe_duree"]
    ottawa = protocole.ottawa
    return Carte(
        complet=resultat["statut"] == "complet",
        orientation=resultat["orientation"],
        orientation_libelle=o.libelle if o else None,
        consigne=o.consigne if o else None,
        urgence=o is not None and o.rang == 0,
        rang=o.rang if o else None,
        motifs=motifs,
        manquantes=len(resultat["questions_manquantes"]),
        duree=(f"{libelles.classe_duree.get(classe, classe)} ({_jours(resultat['duree_jours'])})" if classe else None),
        risque_chronicite=(libelles.risque_chronicite.get(resultat["risque_chronicite"])
                           if resultat["risque_chronicite"] else None),
        radiographie=libelles.radiographie.get(resultat["radiographie"]) if resultat["radiographie"] else None,
        avis_medical=resultat["avis_medical_recommande"],
        seances=dict(resultat["seances"]) if resultat["seances"] else None,
        voie=voies.get(fac["voie"]) if fac["voie"] else None,
        lignes=[VueLigne(li["code"], li["libelle"], euros(li["montant_eur"]),
                         euros(li["part_remboursee_eur"]) if li["part_remboursee_eur"] is not None else None,
                         euros(li["part_patient_eur"]) if li.get("part_patient_eur") is not None else None)
                for li in fac["lignes"]],
        remarques=remarques,
        prescriptions=[prescriptions.get(p, p) for p in resultat["prescriptions_autorisees"]],
        criteres_non_remplis=[_vue_motif(m, dict(c)) for c in resultat.get("criteres_non_remplis", [])],
        parts=parts,
        conseils_kine=[_vue_motif(m, dict(c)) for c in resultat.get("conseils_kine", [])],
        renvoi_medical=resultat["orientation"] in commun.avis_medical_sauf_orientations,
        radiographie_raisons=_raisons_radiographie(m, resultat, reponses),
        radiographie_source=(_vue_motif(m, {"libelle": "Règles d’Ottawa", "source": ottawa.source,
                                            "verification": ottawa.verification})
                             if ottawa is not None and resultat["radiographie"] else None),
    )


@dataclass(frozen=True)
class VueParametre:
    """A dated parameter in force at a date, with its reference."""

    id: str
    description: str
    valeur: str
    depuis: str
    reference: str
    reference_url: str | None
    badge: str
    annonces: list[str]


def nombre(valeur: float) -> str:
    """French decimal comma: ``8,4``; integers unchanged."""
    return f"{valeur:g}".replace(".", ",") if isinstance(valeur, float) else str(valeur)


def _valeur_texte(valeur: Any, unite: str | None) -> str:
    if valeur is None:
        return "non fixé"
    if isinstance(valeur, bool):
        return "Oui" if valeur else "Non"
    if isinstance(valeur, list):
        return ", ".join(_valeur_texte(v, None) for v in valeur)
    if unite == "EUR" and isinstance(valeur, int | float):
        return euros(float(valeur))
    if isinstance(valeur, int | float):
        texte = nombre(valeur)
        return f"{texte}\u00a0%" if unite == "pourcentage" else texte
    return str(valeur)


def parametres_au(m: Moteur, jour: date) -> list[VueParametre]:
    """Every dated parameter in force at ``jour`` (those not yet in force are left out)."""
    from triage_app.errors import ParametreIntrouvable

    vues = []
    libelles = m.registre.commun.libelles.verification
    for pid, p in sorted(m.registre.parametres.items()):
        try:
            entree = p.entree_au(jour)
        except ParametreIntrouvable:
            continue
        depuis = max(d for d, v in zip(p.dates, p.valeurs, strict=True) if v is entree)
        src = m.registre.sources.get(entree.reference)
        vues.append(VueParametre(
            id=pid, description=p.modele.description, valeur=_valeur_texte(entree.valeur, p.modele.unite),
            depuis=date_fr(depuis), reference=src.titre if src else entree.reference,
            reference_url=src.url if src else None, badge=libelles.get(entree.verification, entree.verification),
            annonces=[f"{_valeur_texte(v.valeur, p.modele.unite)} annoncé au {date_fr(d)}"
                      + (" (date passée, toujours non appliqué : à vérifier)" if d <= jour else "")
                      for d, v in p.annonces]))
    return vues


def _dot(texte: str) -> str:
    return texte.replace("\\", "\\\\").replace('"', '\\"')


def diagramme_dot(m: Moteur, protocole: str) -> str:
    """The protocol's state machine in Graphviz DOT (states, ordered transitions, final outcomes)."""
    pc = m.protocoles[protocole].modele
    lignes = ["digraph {", '  rankdir=TB; node [shape=box, style="rounded,filled", fillcolor="#eef3f8", '
              'fontname="Helvetica"]; edge [fontname="Helvetica", fontsize=10];']
    rangs = {o.id: o.rang for o in m.registre.commun.orientations}
    for e in pc.etats:
        forme = ""
        if e.final:
            rang = rangs.get(e.orientation) if e.orientation else None
            couleur = {None: "#e6e6e6", 0: "#fde2e1", 1: "#fdebd0"}.get(rang, "#e3f4e6")
            forme = f', shape={"doubleoctagon" if rang == 0 else "octagon"}, fillcolor="{couleur}"'
        lignes.append(f'  "{e.id}" [label="{_dot(e.libelle)}"{forme}];')
    for i, t in enumerate(pc.transitions, start=1):
        lignes.append(f'  "{t.depuis}" -> "{t.vers}" [label="{i}. {_dot(t.libelle)}"];')
    lignes.append("}")
    return "\n".join(lignes)


@dataclass(frozen=True)
class VueSortie:
    """A transition out of a state, in the order the machine tries them."""

    numero: int
    condition: str
    vers: str


@dataclass(frozen=True)
class VueEtat:
    """A state of the protocol's machine as a readable list item (the diagram's content, legible on a tablet)."""

    id: str
    libelle: str
    final: bool
    orientation: str | None
    urgent: bool
    sorties: list[VueSortie]


def etats(m: Moteur, protocole: str) -> list[VueEtat]:
    """The protocol's states in order, each with its numbered transitions (same numbers as the diagram)."""
    pc = m.protocoles[protocole].modele
    libelles = {e.id: e.libelle for e in pc.etats}
    orientations = {o.id: o for o in m.registre.commun.orientations}
    sorties: dict[str, list[VueSortie]] = {}
    for i, t in enumerate(pc.transitions, start=1):
        sorties.setdefault(t.depuis, []).append(VueSortie(i, t.libelle, libelles.get(t.vers, t.vers)))
    vues = []
    for e in pc.etats:
        o = orientations.get(e.orientation) if e.final and e.orientation else None
        vues.append(VueEtat(e.id, e.libelle, e.final, o.libelle if o else None, o is not None and o.rang == 0,
                            sorties.get(e.id, [])))
    return vues


# -- dates typed as the kiné says them (JJ/MM/AAAA) -------------------------------------------------------------
_MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
         "novembre", "décembre")
_DATE_SEPAREE = re.compile(r"(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{4})")
_DATE_COLLEE = re.compile(r"(\d{2})(\d{2})(\d{4})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class DateInvalide(ValueError):
    """A typed date that cannot be read, does not exist or is out of range: the French message names the field."""


def lire_date(texte: str | None, champ: str, *, minimum: date | None = None,
              maximum: date | None = None) -> date | None:
    """The date typed in ``champ`` (« 14/06/1986 », « 14061986 », « 14.06.1986 », « 1986-06-14 »); ``None`` when
    blank. A date that does not exist (31/02) is refused, never moved to the nearest day."""
    brut = (texte or "").strip()
    if not brut:
        return None
    if m := _DATE_ISO.fullmatch(brut):
        annee, mois, jour = (int(x) for x in m.groups())
    elif m := (_DATE_SEPAREE.fullmatch(brut) or _DATE_COLLEE.fullmatch(brut)):
        jour, mois, annee = (int(x) for x in m.groups())
    else:
        raise DateInvalide(f"{champ} : « {brut} » n’est pas une date au format JJ/MM/AAAA (exemple : 14/06/1986).")
    if not 1 <= mois <= 12:
        raise DateInvalide(f"{champ} : « {brut} » — le mois doit aller de 01 à 12.")
    try:
        lu = date(annee, mois, jour)
    except ValueError:
        dernier = (date(annee + (mois == 12), mois % 12 + 1, 1) - date(annee, mois, 1)).days if annee >= 1 else 31
        raise DateInvalide(f"{champ} : le {jour:02d}/{mois:02d}/{annee} n’existe pas ({_MOIS[mois - 1]} {annee} "
                           f"compte {dernier} jours).") from None
    if minimum is not None and lu < minimum:
        raise DateInvalide(f"{champ} : le {date_fr(lu)} est antérieur au {date_fr(minimum)}.")
    if maximum is not None and lu > maximum:
        raise DateInvalide(f"{champ} : le {date_fr(lu)} est postérieur au {date_fr(maximum)} (date à venir).")
    return lu
