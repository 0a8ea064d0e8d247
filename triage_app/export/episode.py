"""The episode's documents, from the stored records: the pre-filled DAP and the BDK summary sheet.

* :func:`dap_pdf` — a pre-filled *demande d'accord préalable* (to the Assurance Maladie's médecin conseil) for
  rehabilitation sessions past the threshold. It is a draft laid out by this product, not the official Cerfa
  (which we have not read): the template says so in a banner.
* :func:`synthese_pdf` / :func:`synthese_texte` — the *fiche de synthèse du bilan-diagnostic kinésithérapique*
  for the prescriber / médecin traitant, as PDF and as plain text. Both render the one dict built by
  :func:`donnees_synthese`, so they always carry the same facts.

Everything printed comes from the :class:`DossierEpisode` the documents service builds
(:meth:`ServiceDocuments.dossier_episode`) and from the rules' labels (``commun.yaml``: ``libelles``,
``orientations``, ``voies``, ``suivi_episode``); the documents' own headings live here and in the templates. Nothing
here reads the clock: the document date is ``dossier.jour``. File names never hold the patient's name
(:func:`nom_fichier_episode`).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from triage_app import presentation as pr
from triage_app.engine.evaluation import Moteur
from triage_app.export.pdf import _compiler
from triage_app.export.resume import _partie_sure
from triage_app.models.episode import (
    RUBRIQUES_MEDECIN,
    ActeEnregistre,
    DossierEpisode,
    EtatEpisode,
    MesureDossier,
)
from triage_app.models.protocol import LibelleOrientation

REEVALUATION = "consultation_protocole_2"
# The protocol thresholds the DAP cites (``seuils`` of the protocol file), when the protocol has them.
_SEUILS_DAP = ("seuil_dap", "seuil_dap_12_mois")
# Marks left for the kiné to fill in by hand.
A_COMPLETER = "à compléter"
NON_RENSEIGNE = "non renseigné"
# Headings of the summary sheet the template and the text share (the sections carry their own).
TITRES_SYNTHESE = {"triages": "Triages finalisés", "actes": "Actes enregistrés", "aucun": "Aucun",
                   "clinique": "Synthèse clinique (à compléter par le kinésithérapeute)",
                   "colonnes_actes": ["Date", "Acte", "Voie de prise en charge", "Évolution ; suite"]}


def _horodatage(jour: date) -> dict[str, int]:
    """The document date (PDF metadata) from the day of the records: the same records give the same bytes."""
    return {"annee": jour.year, "mois": jour.month, "jour": jour.day, "heure": 0, "minute": 0}


def _libelle(libelles: dict[str, str], code: str | None) -> str | None:
    return None if code is None else libelles.get(code, code)


def _date(jour: date | None) -> str | None:
    return None if jour is None else pr.date_fr(jour)


def _source(m: Moteur, source_id: str, verification: str | None = None) -> str:
    """« titre (badge) », as the summaries cite a source (``registre.sources``, ``libelles.verification``)."""
    src = m.registre.sources.get(source_id)
    titre = src.titre if src else source_id
    niveau = verification or (src.verification if src else None)
    badge = m.registre.commun.libelles.verification.get(niveau, niveau) if niveau else None
    return f"{titre} ({badge})" if badge else titre


def _patient(dossier: DossierEpisode, m: Moteur) -> dict[str, Any]:
    p = dossier.patient
    return {"nom": p.nom, "prenom": p.prenom, "nom_complet": f"{p.nom} {p.prenom}",
            "date_naissance": pr.date_fr(p.date_naissance),
            "couverture": _libelle(m.registre.commun.libelles.couvertures, p.couverture)}


def _orientation(m: Moteur, code: str | None) -> LibelleOrientation | None:
    return next((o for o in m.registre.commun.orientations if o.id == code), None)


def _voie(m: Moteur, code: str | None) -> str | None:
    if code is None:
        return None
    return next((v.libelle for v in m.registre.commun.voies if v.id == code), code)


def _actes(dossier: DossierEpisode, m: Moteur) -> list[dict[str, Any]]:
    """The visits recorded up to the document's day (those the counts cover), oldest first, in words."""
    lib = m.registre.commun.libelles.episode

    def issue(a: ActeEnregistre) -> str | None:
        """What a re-assessment found and decided (other visits carry neither)."""
        if a.evolution is None and a.suite is None:
            return None
        evolution, suite = _libelle(lib.evolutions, a.evolution), _libelle(lib.suites, a.suite)
        return f"{evolution or NON_RENSEIGNE} ; {suite or NON_RENSEIGNE}"

    return [{"date": pr.date_fr(a.date), "acte": _libelle(lib.actes, a.acte), "voie": _voie(m, a.voie),
             "issue": issue(a)} for a in dossier.etat.actes if a.date <= dossier.jour]


def _prescripteur(dossier: DossierEpisode, m: Moteur) -> tuple[str, str | None]:
    """Who prescribes: the médecin (name left to fill in), or the kiné under the current triage's frame."""
    etat = dossier.etat
    if etat.prescription_medicale:
        return f"Prescription médicale (médecin prescripteur : {A_COMPLETER})", None
    o = _orientation(m, etat.orientation)
    cadre = f"{o.libelle} — {o.consigne}" if o else "cadre non déterminé (aucun triage finalisé)"
    note = m.registre.commun.remarques.get("acces_direct_prescripteur") if etat.voie == "ngap_acces_direct" else None
    return f"Sans prescription médicale : le masseur-kinésithérapeute {dossier.kine} ({cadre})", note


def _seances(etat: EtatEpisode) -> dict[str, Any]:
    return {"serie": etat.seances_serie, "douze_mois": etat.seances_12_mois,
            "douze_mois_enregistrees": etat.seances_12_mois_calculees,
            "declaration": etat.motif_declaration, "autorisees": etat.autorisees, "restantes": etat.restantes,
            "date_declaration": etat.date_declaration if etat.declaration_en_cours else None,
            "dap_necessaire": etat.dap_necessaire}


def _detail_12_mois(s: dict[str, Any]) -> str:
    """Beside the 12-month count: how many the records hold and, when the count in force is the kiné's
    declaration (sessions done elsewhere), the reason they gave."""
    texte = f"(enregistrées dans le logiciel : {s['douze_mois_enregistrees']}"
    if s["douze_mois"] != s["douze_mois_enregistrees"]:
        texte += f" ; nombre déclaré par le kinésithérapeute, motif : {s['declaration'] or NON_RENSEIGNE}"
        if s.get("date_declaration") is not None:
            texte += f" ; dernière séance déclarée le {pr.date_fr(s['date_declaration'])}"
    return texte + ")"


def _texte_12_mois(s: dict[str, Any]) -> str:
    return f"{s['douze_mois']} {_detail_12_mois(s)}"


# -- DAP ----------------------------------------------------------------------------------------------------------
def donnees_dap(dossier: DossierEpisode, moteur: Moteur) -> dict[str, Any]:
    """What ``dap.typ`` reads: the pre-filled fields of the request, in words."""
    etat = dossier.etat
    protocole = moteur.protocoles[etat.protocole].modele
    prescripteur, note = _prescripteur(dossier, moteur)
    seances = _seances(etat)
    return {
        "date": _horodatage(dossier.jour),
        "jour": pr.date_fr(dossier.jour),
        "structure": dossier.structure,
        "kine": dossier.kine,
        "kine_rpps": dossier.kine_rpps,
        "patient": _patient(dossier, moteur),
        "prescripteur": prescripteur,
        "prescripteur_note": note,
        "protocole": dossier.titre_protocole,
        "date_debut": pr.date_fr(etat.date_debut),
        "seances": seances,
        "douze_mois_detail": _detail_12_mois(seances),
        "seuils": [{"libelle": s.libelle, "source": _source(moteur, s.source, s.verification)}
                   for k in _SEUILS_DAP if (s := protocole.seuils.get(k)) is not None],
        "actes": _actes(dossier, moteur),
        "a_completer": A_COMPLETER,
        # The kiné's texts for the médecin (issue #29), those written only.
        "clinique": [{"rubrique": libelle, "texte": texte} for cle, libelle in RUBRIQUES_MEDECIN.items()
                     if (texte := dossier.etat.textes.get(cle))],
    }


def dap_pdf(dossier: DossierEpisode, moteur: Moteur) -> bytes:
    """The pre-filled DAP as an A4 PDF/A (a draft to check, and to copy onto the official form if required)."""
    return _compiler("dap.typ", donnees_dap(dossier, moteur))


# -- summary sheet --------------------------------------------------------------------------------------------------
def _champ(nom: str, valeur: Any) -> dict[str, str]:
    return {"nom": nom, "valeur": NON_RENSEIGNE if valeur is None else str(valeur)}


def _oui_non(m: Moteur, valeur: bool | None) -> str:
    if valeur is None:
        return NON_RENSEIGNE
    return m.registre.commun.libelles.reponses.get("oui" if valeur else "non", str(valeur))


def _statut(dossier: DossierEpisode, m: Moteur) -> str:
    etat = dossier.etat
    if etat.statut != "clos":
        return "en cours (épisode ouvert)"
    motif = _libelle(m.registre.commun.libelles.episode.motifs_cloture, etat.motif_cloture) or NON_RENSEIGNE
    return f"clos le {_date(etat.date_cloture) or NON_RENSEIGNE} — {motif}"


def _reevaluation(dossier: DossierEpisode, m: Moteur) -> list[dict[str, str]]:
    etat = dossier.etat
    lib = m.registre.commun.libelles.episode
    if etat.reevaluation_du is None:
        return [_champ("Réévaluation", "sans objet (pas de consultation initiale de protocole)")]
    champs = [_champ("Fenêtre de réévaluation", f"du {_date(etat.reevaluation_du)} au {_date(etat.reevaluation_au)}"),
              _champ("Réévaluation faite le", _date(etat.reevaluation_faite_le) or "non faite")]
    if etat.revue is not None:
        champs.append(_champ("État", _libelle(lib.revue, etat.revue)))
    faite = next((a for a in etat.actes if a.acte == REEVALUATION and a.date <= dossier.jour), None)
    if faite is not None:
        champs += [_champ("Évolution", _libelle(lib.evolutions, faite.evolution)),
                   _champ("Suite décidée", _libelle(lib.suites, faite.suite))]
    return champs


def _triages(dossier: DossierEpisode, m: Moteur) -> list[dict[str, Any]]:
    lib = m.registre.commun.libelles
    sortie = []
    for t in dossier.triages:
        o = _orientation(m, t.orientation)
        champs = [_champ("Orientation", o.libelle if o else t.orientation),
                  _champ("Durée des symptômes", _libelle(lib.classe_duree, t.classe_duree))]
        if t.risque_chronicite is not None:
            champs.append(_champ("STarT Back", _libelle(lib.risque_chronicite, t.risque_chronicite)))
        champs.append(_champ("Version des règles", t.version_protocole))
        if t.note:
            champs.append(_champ("Note", t.note))
        sortie.append({"titre": f"Triage du {pr.date_fr(t.date_consultation)} (version {t.version})",
                       "champs": champs})
    return sortie


def donnees_synthese(dossier: DossierEpisode, moteur: Moteur) -> dict[str, Any]:
    """The summary sheet as data: what ``synthese.typ`` and :func:`synthese_texte` both render."""
    etat = dossier.etat
    commun = moteur.registre.commun
    regle = commun.suivi_episode
    seances = _seances(etat)
    repris = _libelle(commun.libelles.episode.repris_par, etat.repris_par)
    evenement = _oui_non(moteur, etat.evenement_indesirable)
    if etat.evenement_indesirable and etat.evenement_texte:
        evenement += f" : {etat.evenement_texte}"
    faites = etat.seances_serie + etat.seances_non_facturees
    seuil = (f"{regle.seuil_fiche_synthese} séances — "
             + ("atteint" if faites >= regle.seuil_fiche_synthese else "non atteint") + f" ({faites} réalisée(s))")
    # Rules v3 (§9.9): also due when the treatment changes or a complication occurs; the sheet says why.
    due = "; ".join(etat.synthese_motifs) if etat.synthese_motifs else "non"
    patient = _patient(dossier, moteur)
    sections = [
        {"titre": "Patient", "champs": [
            _champ("Nom", patient["nom_complet"]), _champ("Date de naissance", patient["date_naissance"]),
            _champ("Couverture", patient["couverture"])]},
        {"titre": "Épisode de soins", "champs": [
            _champ("Protocole", dossier.titre_protocole), _champ("Début de l'épisode", pr.date_fr(etat.date_debut)),
            _champ("Accès", "sur prescription médicale" if etat.prescription_medicale
                   else "sans prescription médicale"),
            _champ("Statut", _statut(dossier, moteur)), _champ("Reprise", repris),
            _champ("Événement indésirable", evenement)]},
        {"titre": "Séances", "champs": [
            _champ("Séances de rééducation de la série", etat.seances_serie),
            _champ("Séances des 12 derniers mois (autres épisodes du même motif)", _texte_12_mois(seances)),
            _champ("Seuil de la fiche de synthèse", seuil), _champ("Fiche due", due)]},
        {"titre": "Réévaluation", "champs": _reevaluation(dossier, moteur)},
    ]
    if dossier.mesures:
        sections.append({"titre": "Mesures rapportées par le patient",
                         "champs": [_champ(m.libelle, texte_mesure(m)) for m in dossier.mesures]})
    return {
        "date": _horodatage(dossier.jour),
        "titre": "Fiche de synthèse du bilan-diagnostic kinésithérapique",
        "destinataire": (f"Au médecin traitant, {dossier.destinataire}" if dossier.destinataire
                         else "Au médecin prescripteur / médecin traitant"),
        "jour": pr.date_fr(dossier.jour),
        "structure": dossier.structure,
        "kine": dossier.kine,
        "kine_rpps": dossier.kine_rpps,
        "sections": sections,
        "triages": _triages(dossier, moteur),
        "actes": _actes(dossier, moteur),
        "regle": (f"Fiche adressée à l'issue d'un traitement d'au moins {regle.seuil_fiche_synthese} séances, et quand "
                  "le traitement est modifié ou qu'une complication survient."),
        "source": _source(moteur, regle.source, regle.verification),
        "titres": TITRES_SYNTHESE,
        # The kiné's texts, by heading (issue #29); a heading without text keeps its box to write in by hand.
        "clinique": [{"rubrique": libelle, "texte": dossier.etat.textes.get(cle, "")}
                     for cle, libelle in RUBRIQUES_MEDECIN.items()],
    }


def _point(score: float, moment: str, jour: date) -> str:
    return f"{pr.nombre(score)} ({moment.lower()}, {pr.date_fr(jour)})"


def texte_mesure(m: MesureDossier) -> str:
    """« 14 (bilan initial, 02/03/2026) → 9 (réévaluation, 16/03/2026) ; variation -5 : amélioration cliniquement
    pertinente (variation minimale : …) » — a level measure by its level's label; one measure alone says so."""
    patient = " ; déclaré par le patient" if m.declare_par_patient else ""
    if m.dernier_libelle is not None:
        return (f"{m.dernier_libelle} ({m.dernier_moment.lower()}, {pr.date_fr(m.dernier_jour)})"
                + (f" : {m.lecture}" if m.lecture else "") + patient)
    premier = _point(m.premier, m.premier_moment, m.premier_jour)
    if m.nombre < 2 or m.variation is None:
        return f"{premier} ; une seule mesure{patient}"
    signe = "+" if m.variation > 0 else ""
    texte = (f"{premier} → {_point(m.dernier, m.dernier_moment, m.dernier_jour)} ; variation "
             f"{signe}{pr.nombre(m.variation)}")
    if m.lecture:
        texte += f" : {m.lecture}"
    if m.variation_minimale:
        texte += f" (variation minimale : {m.variation_minimale})"
    return texte + patient


def synthese_pdf(dossier: DossierEpisode, moteur: Moteur) -> bytes:
    """The BDK summary sheet for the prescriber / médecin traitant, as an A4 PDF/A."""
    return _compiler("synthese.typ", donnees_synthese(dossier, moteur))


def _ligne_acte(a: dict[str, Any]) -> str:
    return f"{a['date']} : {a['acte']} ({a['voie']})" + (f" — {a['issue']}" if a["issue"] else "")


def synthese_texte(dossier: DossierEpisode, moteur: Moteur) -> str:
    """The BDK summary sheet as plain text (secure messaging): the same facts as :func:`synthese_pdf`."""
    d = donnees_synthese(dossier, moteur)
    titres = d["titres"]
    lignes = [d["titre"], f"{d['destinataire']} · {d['jour']}"]
    if d["structure"]:
        lignes.append(f"Structure : {d['structure']}")
    lignes += [f"Masseur-kinésithérapeute : {d['kine']}" + (f", RPPS {d['kine_rpps']}" if d["kine_rpps"] else ""),
               f"{d['regle']} Source : {d['source']}"]
    for section in d["sections"]:
        lignes += ["", section["titre"].upper()]
        lignes += [f"  {c['nom']} : {c['valeur']}" for c in section["champs"]]
    lignes += ["", titres["triages"].upper()]
    if not d["triages"]:
        lignes.append(f"  {titres['aucun']}")
    for t in d["triages"]:
        lignes.append(f"  {t['titre']}")
        lignes += [f"    - {c['nom']} : {c['valeur']}" for c in t["champs"]]
    lignes += ["", titres["actes"].upper()]
    lignes += [f"  - {_ligne_acte(a)}" for a in d["actes"]] or [f"  {titres['aucun']}"]
    lignes += ["", titres["clinique"].upper()]
    for r in d["clinique"]:
        lignes += [f"  {r['rubrique']} :", *(f"    {ligne}" for ligne in r["texte"].splitlines()), ""] \
            if r["texte"] else [f"  {r['rubrique']} :", "", ""]
    lignes += ["Aide à la décision : ne remplace pas le jugement clinique."]
    return "\n".join(lignes) + "\n"


# -- file names -----------------------------------------------------------------------------------------------------
def nom_fichier_episode(dossier: DossierEpisode, genre: Literal["dap", "synthese"], extension: str) -> str:
    """``dap-2026-03-10-1a2b3c4d.pdf``: the kind, the document's day and the start of the opaque episode id —
    never the patient's name, never a path."""
    return nom_fichier_episode_de(genre, dossier.jour, dossier.etat.episode_id, extension)


def nom_fichier_episode_de(genre: Literal["dap", "synthese"], jour: date, episode_id: str, extension: str) -> str:
    """:func:`nom_fichier_episode` from its parts (the page names its download buttons before any document)."""
    if genre not in ("dap", "synthese"):
        raise ValueError(f"document d'épisode inconnu : {genre} (attendu : dap, synthese)")
    return f"{genre}-{jour.isoformat()}-{_partie_sure(episode_id, 8)}.{_partie_sure(extension, 8)}"
