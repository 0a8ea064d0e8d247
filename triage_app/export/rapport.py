"""The yearly report for the ARS (art. D4011-4 CSP) from the indicators: one page per protocol (PDF) and a
spreadsheet (CSV, XLSX), anonymised — only counts, and every small count shown as « < seuil » (with no share:
a share would give it back). The threshold and the classes come from ``protocols/rapport.yaml``, the labels from
the rules; nothing here reads the clock.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from triage_app import presentation as pr
from triage_app.engine.evaluation import Moteur
from triage_app.models.rapport_ars import BlocProtocole, Classes, Indicateurs, ParametresRapport


@dataclass(frozen=True)
class Ligne:
    libelle: str
    valeur: str
    part: str = ""


@dataclass(frozen=True)
class Section:
    titre: str
    lignes: list[Ligne]


@dataclass(frozen=True)
class PageProtocole:
    protocole: str
    titre: str
    sections: list[Section]


def parametres(m: Moteur) -> ParametresRapport:
    """The masking threshold and the classes, from ``protocols/rapport.yaml``."""
    if m.registre.rapport is None:
        raise ValueError("protocols/rapport.yaml absent : pas de rapport annuel (seuil de masquage inconnu)")
    return m.registre.rapport


@dataclass(frozen=True)
class Masque:
    """Counts from 1 to ``seuil - 1`` shown « < seuil », with no share (0 stays 0: it describes nobody)."""

    seuil: int

    @property
    def petite(self) -> str:
        return f"< {self.seuil}"

    @property
    def regle(self) -> str:
        return f"effectifs de 1 à {self.seuil - 1} affichés « {self.petite} »"

    def compte(self, n: int) -> str:
        return self.petite if 0 < n < self.seuil else str(n)

    def ligne(self, libelle: str, n: int, total: int | None = None) -> Ligne:
        part = ""
        if total and n >= self.seuil:
            part = f"{100 * n / total:.0f} %".replace(".", ",")
        return Ligne(libelle, self.compte(n), part)

    def classes(self, distribution: dict[int, int], classes: Classes) -> list[Ligne]:
        total = sum(distribution.values())
        unite = classes.unite
        lignes = []
        for bas, haut in classes.bornes:
            nom = f"{bas} {unite}" if bas == haut else (f"{bas} à {haut} {unite}" if haut is not None
                                                        else f"{bas} {unite} et plus")
            lignes.append(self.ligne(nom, effectif_classe(distribution, bas, haut), total))
        return lignes


def masque(m: Moteur) -> Masque:
    """The report's masking, from ``protocols/rapport.yaml``."""
    return Masque(parametres(m).petits_effectifs.seuil)


def effectif_classe(distribution: dict[int, int], bas: int, haut: int | None) -> int:
    """How many values of ``distribution`` (value → count) fall in ``[bas, haut]`` (``haut`` None: no upper bound)."""
    return sum(c for v, c in distribution.items() if v >= bas and (haut is None or v <= haut))


def libelles_motifs(m: Moteur, protocole: str) -> dict[str, str]:
    p = m.protocoles[protocole].modele
    libelles = {c.id: c.libelle for c in p.criteres}
    libelles |= {r.id: r.libelle_non_rempli for r in p.eligibilite}
    libelles |= {mo.id: mo.libelle for mo in m.registre.commun.motifs}
    return libelles


def _capitale(texte: str) -> str:
    return texte[:1].upper() + texte[1:]


def pages(ind: Indicateurs, m: Moteur) -> list[PageProtocole]:
    """The report's content, one page per protocol of the rules (in the rules' order), counts masked."""
    commun = m.registre.commun
    reglage, mq = parametres(m), masque(m)
    compte, ligne = mq.compte, mq.ligne
    orientations = {o.id: o.libelle for o in commun.orientations}
    voies = {v.id: v.libelle for v in commun.voies}
    repris = commun.libelles.episode.repris_par
    clotures = commun.libelles.episode.motifs_cloture
    sortie = []
    for protocole, pc in m.protocoles.items():
        b = ind.protocoles.get(protocole, BlocProtocole())
        motifs = libelles_motifs(m, protocole)
        mediane_seances = BlocProtocole.mediane(b.seances_par_episode)
        mediane_delai = BlocProtocole.mediane(b.delai_jours)
        sections = [
            Section("Activité", [ligne("Triages finalisés", b.triages), ligne("Patients", b.patients),
                                 ligne("Épisodes de soins", b.episodes)]),
            Section("Par voie de prise en charge", [
                Ligne(voies.get(v, v or "—"), compte(d["triages"]) + " triage(s)", compte(d["patients"])
                      + " patient(s)") for v, d in sorted(b.par_voie.items())]),
            Section("Orientations", [ligne(orientations.get(o, o or "sans orientation"), n, b.triages)
                                     for o, n in sorted(b.orientations.items(), key=lambda x: -x[1])]),
            Section("Signes d’alerte retenus (par critère)", [
                ligne(motifs.get(k, k), n, b.triages) for k, n in sorted(b.drapeaux.items(), key=lambda x: -x[1])]
                or [Ligne("Aucun", "0")]),
            Section("Critères du protocole non remplis", [
                ligne(_capitale(motifs.get(k, k)), n, b.triages)
                for k, n in sorted(b.non_eligibilite.items(), key=lambda x: -x[1])] or [Ligne("Aucun", "0")]),
            Section("Séances par épisode", [
                Ligne("Médiane", "—" if mediane_seances is None or b.episodes < mq.seuil
                      else f"{mediane_seances:g}".replace(".", ",")),
                *mq.classes(b.seances_par_episode, reglage.classes["seances_par_episode"])]),
            Section("Délai entre le début des symptômes et le triage", [
                Ligne("Médiane", "—" if mediane_delai is None or b.triages < mq.seuil
                      else f"{mediane_delai:g} jour(s)".replace(".", ",")),
                *mq.classes(b.delai_jours, reglage.classes["delai_jours"])]),
            Section("Suivi des épisodes", [
                *[ligne(repris.get(k, k), n, b.episodes) for k, n in sorted(b.repris_par.items())
                  if k != "aucun"],
                ligne("Événements indésirables", b.evenements_indesirables, b.episodes),
                ligne("Demandes d’accord préalable (épisodes)", b.dap, b.episodes),
                ligne("Accès direct : épisodes clos au plafond des séances", b.clos_au_plafond, b.episodes)]),
            Section("Clôture des épisodes (par motif)", [
                ligne(clotures.get(k, k), n, b.episodes) for k, n in sorted(b.clotures.items(), key=lambda x: -x[1])]
                or [Ligne("Aucun épisode clos", "0")]),
            Section("Résultats mesurés (épisodes clos, mesures du patient)", _resultats(m, b, mq, voies)),
            Section("Par mois", [ligne(pr.mois_fr(k), n) for k, n in sorted(b.mois.items())]
                    or [Ligne("Aucun triage", "0")]),
            Section("Versions des règles appliquées", [ligne(v or "—", n) for v, n in sorted(b.versions.items())]
                    or [Ligne("—", "0")]),
        ]
        sortie.append(PageProtocole(protocole, pc.modele.titre, sections))
    return sortie


def _resultats(m: Moteur, b: BlocProtocole, mq: Masque, voies: dict[str, str]) -> list[Ligne]:
    """Per route and measure: the closed episodes with the measure read, the share with a clinically relevant
    improvement and the median change, under the small-count rule (a median only from ``seuil`` episodes)."""
    params = m.registre.mesures
    if params is None or not b.resultats:
        return [Ligne("Aucun épisode clos avec une mesure lue", "0")]
    lignes = []
    for voie, par_mesure in sorted(b.resultats.items()):
        for mid, r in sorted(par_mesure.items()):
            nom = f"{voies.get(voie, voie or '—')} — {params.mesure(mid).libelle_court}"
            lignes.append(mq.ligne(f"{nom} : épisodes clos mesurés", r.episodes))
            lignes.append(mq.ligne(f"{nom} : {params.lectures['amelioration']}", r.ameliores, r.episodes))
            if r.variations:
                mediane = r.mediane
                lignes.append(Ligne(f"{nom} : variation médiane (premier → dernier score)",
                                    "—" if mediane is None or len(r.variations) < mq.seuil
                                    else f"{mediane:+g}".replace(".", ",")))
    return lignes


def rapport_csv(ind: Indicateurs, m: Moteur) -> bytes:
    """One line per value: protocol, section, label, value, share (semicolons, UTF-8 with BOM for Excel)."""
    tampon = io.StringIO()
    ecrivain = csv.writer(tampon, delimiter=";", lineterminator="\r\n")
    ecrivain.writerow(["Protocole", "Rubrique", "Libellé", "Valeur", "Part"])
    for page in pages(ind, m):
        for section in page.sections:
            for li in section.lignes:
                ecrivain.writerow([page.titre, section.titre, li.libelle, li.valeur, li.part])
    return ("\ufeff" + tampon.getvalue()).encode("utf-8")


def rapport_xlsx(ind: Indicateurs, m: Moteur, structure: str | None) -> bytes:
    """A workbook: one sheet per protocol (the PDF's page), with the period and the masking rule in its head."""
    import xlsxwriter

    tampon = io.BytesIO()
    classeur = xlsxwriter.Workbook(tampon, {"in_memory": True})
    classeur.set_properties({"title": titre(ind), "company": structure or ""})
    gras = classeur.add_format({"bold": True})
    titre_fmt = classeur.add_format({"bold": True, "font_size": 13})
    regle = masque(m).regle
    for page in pages(ind, m):
        feuille = classeur.add_worksheet(page.protocole[:31])
        feuille.set_column(0, 0, 62)
        feuille.set_column(1, 2, 18)
        feuille.write(0, 0, f"{page.titre} — {periode(ind)}", titre_fmt)
        feuille.write(1, 0, f"{structure or ''} · {regle}")
        rang = 3
        for section in page.sections:
            feuille.write(rang, 0, section.titre, gras)
            rang += 1
            for li in section.lignes:
                feuille.write(rang, 0, li.libelle)
                feuille.write(rang, 1, int(li.valeur) if li.valeur.isdigit() else li.valeur)
                feuille.write(rang, 2, li.part)
                rang += 1
            rang += 1
    classeur.close()
    return tampon.getvalue()


def periode(ind: Indicateurs) -> str:
    return f"du {pr.date_fr(ind.du)} au {pr.date_fr(ind.au)}"


def titre(ind: Indicateurs) -> str:
    return f"Indicateurs des protocoles de coopération {periode(ind)}"


def rapport_pdf(ind: Indicateurs, m: Moteur, structure: str | None, jour: date) -> bytes:
    """The ARS report: one A4 page per protocol (PDF/A, Typst), dated ``jour``."""
    from triage_app.export.pdf import _compiler

    donnees: dict[str, Any] = {
        "titre": titre(ind), "periode": periode(ind), "structure": structure or "Structure non décrite",
        "jour": pr.date_fr(jour), "date": {"annee": jour.year, "mois": jour.month, "jour": jour.day},
        "regle": masque(m).regle,
        "pages": [{"titre": p.titre, "sections": [{"titre": s.titre, "lignes": [
            {"libelle": li.libelle, "valeur": li.valeur, "part": li.part} for li in s.lignes]} for s in p.sections]}
            for p in pages(ind, m)],
    }
    return _compiler("rapport.typ", donnees)
