"""Where an episode stands, read from the records (rules v3, §9): the functions the services call inside their own
transaction (a final triage closes its episode, a patient's record shows each episode's state, a document prints
the same counters as the page)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage_app.domain.dates import ajouter_mois
from triage_app.domain.episode import etat_revue, fenetre_reevaluation, prochain_bdk
from triage_app.engine.evaluation import Moteur
from triage_app.errors import ErreurSaisie, Probleme
from triage_app.models.episode import ActeEnregistre, EtatEpisode, ReprisPar
from triage_app.models.episode_regles import EpisodeDeSoins
from triage_app.services import compteurs, saisie
from triage_app.services.unite import ErreurStockage, nouvel_id
from triage_app.storage import audit
from triage_app.storage.tables import CLOS, FINAL, OUVERT, Episode, Patient, Seance, Triage

SEANCE, REEVALUATION, BILAN = "seance", "consultation_protocole_2", "bilan"
# Orientations under which rehabilitation sessions go on (a DAP may be needed past the threshold).
_ORIENTATIONS_SEANCES = frozenset({"protocole", "sur_prescription", "acces_direct"})
MOTIF_DECLARATION_OUVERTURE = "nombre d'épisodes saisi à l'ouverture de l'épisode"


def lire_episode(s: Session, episode_id: str) -> Episode:
    """The episode, or the French error every caller gives."""
    ep = s.get(Episode, episode_id)
    if ep is None:
        raise ErreurStockage("épisode introuvable")
    return ep


def episode_ouvert_ou_refus(s: Session, episode_id: str) -> Episode:
    """The episode, refused when it is closed (a closed episode takes no act)."""
    ep = lire_episode(s, episode_id)
    if ep.statut != OUVERT:
        raise ErreurStockage("épisode clos : commencez un nouveau triage pour un nouvel épisode")
    return ep


def historique(s: Session, regles: EpisodeDeSoins, ep: Episode, jour: date) -> tuple[int, int, int, int]:
    """The 12 months before ``jour`` outside this episode: reimbursed sessions and episodes of the same protocol.

    Returns (sessions, sessions computed, episodes, episodes computed): the effective value is the larger of
    the computed one and the one the kiné declared while its date is within the 12 months (rules v3, §9.3, §9.5).
    """
    c = compteurs.lire(s, regles, ep, jour, inclus=False)
    return c.seances_12_mois, c.seances_12_mois_calculees, c.episodes_12_mois, c.episodes_12_mois_calcules


def _actes(s: Session, ep: Episode) -> list[ActeEnregistre]:
    return [ActeEnregistre(id=a.id, date=a.date, acte=a.acte, voie=a.voie, evolution=a.evolution, suite=a.suite)
            for a in s.scalars(select(Seance).where(Seance.episode_id == ep.id).order_by(Seance.date, Seance.id))]


def _jour(j: date) -> str:
    return j.strftime("%d/%m/%Y")


def etat(s: Session, moteur: Moteur, ep: Episode, jour: date) -> EtatEpisode:
    """Counters, thresholds and the re-assessment window of an episode on ``jour``, from the recorded acts.

    The counts come from :mod:`triage_app.services.compteurs` (every act of the patient for the condition), the
    remaining sessions and the cap from the engine's evaluation of the current triage for the *next* session.
    """
    commun = moteur.registre.commun
    regles = commun.episode_de_soins
    actes = _actes(s, ep)
    c = compteurs.lire(s, regles, ep, jour, inclus=True)
    finals = list(s.scalars(select(Triage).where(Triage.episode_id == ep.id, Triage.statut == FINAL)
                            .order_by(Triage.date_consultation, Triage.cree_le)))
    courant = finals[-1] if finals else None
    champs: dict[str, Any] = {}
    if courant is not None and courant.resultat is not None:
        cas = copy.deepcopy(courant.cas)
        cas["episode"].update(compteurs.champs_cas(c))
        suivant = moteur.evaluer(cas)
        plafond = any(m["id"] == commun.suivi_episode.motif_plafond for m in suivant["motifs"])
        seances = suivant["seances"]
        stocke = courant.resultat.get("seances") or {}
        sans_diagnostic = not ep.diagnostic_medical_prealable and courant.orientation == "acces_direct"
        seuils = moteur.protocoles[ep.protocole].seuils
        borne_12 = False
        if seances is not None and "seuil_dap_12_mois" in seuils:  # which bound decides, as the engine reads them
            reste_12 = int(seuils["seuil_dap_12_mois"]) - c.seances_12_mois - c.serie
            faites = c.seances_periode if sans_diagnostic and c.periode is not None else c.serie
            borne_12 = reste_12 <= seances["restantes"] and reste_12 < seances["autorisees"] - faites
        champs = {
            "triage_id": courant.id, "orientation": courant.orientation,
            "voie": courant.resultat["facturation"]["voie"],
            "autorisees": seances["autorisees"] if seances else stocke.get("autorisees"),
            "restantes": seances["restantes"] if seances else 0,
            "plafond_acces_direct": stocke.get("autorisees") if sans_diagnostic else None,
            "plafond_atteint": plafond,
            "dap_necessaire": (not plafond and seances is not None and seances["restantes"] == 0
                               and suivant["orientation"] in _ORIENTATIONS_SEANCES),
            "borne_12_mois": borne_12,
        }
    bdk = commun.facturation.bdk
    revue: dict[str, Any] = {}
    remarques: list[str] = []
    textes = regles.remarques
    initiale = next((a.date for a in actes if a.acte == regles.reevaluation.depuis),
                    next((t.date_consultation for t in finals if t.orientation == "protocole"), None))
    if initiale is not None:
        regle = moteur.protocoles[ep.protocole].modele.suivi.reevaluation
        du, au = fenetre_reevaluation(initiale, regle.du_jour, regle.au_jour)
        faite = next((a.date for a in actes if a.acte == REEVALUATION), None)
        etat_revue_ = etat_revue(jour, du, au, faite)
        revue = {"reevaluation_du": du, "reevaluation_au": au, "reevaluation_faite_le": faite,
                 "revue": etat_revue_ if ep.statut == OUVERT or faite else None}
        remarques += [textes["hors_fenetre"].format(date=_jour(a.date), du_jour=regle.du_jour, au_jour=regle.au_jour)
                      for a in actes if a.acte == REEVALUATION and not du <= a.date <= au]
    remboursees = set(regles.historique.voies_remboursees)
    remarques += [textes["non_cumul"].format(date=_jour(a.date)) for a in actes
                  if a.acte in regles.non_cumul.actes and a.voie == regles.non_cumul.voie
                  and _non_cumul(actes, a.date, regles) is not None and a.voie not in remboursees]
    periode: dict[str, Any] = {}
    if c.periode is not None:
        periode = {"periode_acces_direct_du": c.periode.debut, "periode_acces_direct_au": c.periode.dernier_jour,
                   "seances_periode_acces_direct": c.seances_periode,
                   "periode_acces_direct_terminee": c.periode_terminee}
        if c.periode_terminee:
            remarques.append(textes["periode_terminee"].format(au=_jour(c.periode.dernier_jour)))
    if ep.date_declaration is not None and not c.declaration_en_cours:
        remarques.append(textes["declaration_expiree"].format(date=_jour(ep.date_declaration)))
    seuil = commun.suivi_episode.seuil_fiche_synthese
    faites = c.serie + c.non_facturees
    motifs = _motifs_synthese(regles, commun.libelles.episode.suites, ep, actes, faites, seuil)
    return EtatEpisode(
        episode_id=ep.id, patient_id=ep.patient_id, protocole=ep.protocole, statut=ep.statut,
        date_debut=ep.date_debut, prescription_medicale=ep.prescription_medicale,
        diagnostic_medical_prealable=ep.diagnostic_medical_prealable, motif_cloture=ep.motif_cloture,
        date_cloture=ep.date_cloture, repris_par=ep.repris_par, evenement_indesirable=ep.evenement_indesirable,
        evenement_texte=ep.evenement_texte, textes=dict(ep.textes or {}), seances_serie=c.serie,
        seances_non_facturees=c.non_facturees,
        seances_12_mois=c.seances_12_mois, seances_12_mois_calculees=c.seances_12_mois_calculees,
        episodes_12_mois=c.episodes_12_mois, episodes_12_mois_calcules=c.episodes_12_mois_calcules,
        motif_declaration=ep.motif_declaration, date_declaration=ep.date_declaration,
        declaration_en_cours=c.declaration_en_cours,
        prochain_bdk=prochain_bdk(c.serie, bdk.premiere_si_realisees, bdk.puis_si_realisees, bdk.pas,
                                  bilans=sum(1 for a in actes if a.acte == BILAN)),
        synthese_due=bool(motifs), synthese_motifs=motifs, seuil_synthese=seuil, actes=tuple(actes),
        remarques=tuple(remarques), **champs, **revue, **periode)


def _non_cumul(actes: list[ActeEnregistre], jour: date, regles: EpisodeDeSoins) -> date | None:
    """The protocol consultation that makes an NGAP act on ``jour`` not billable (§9.6), if any."""
    nc = regles.non_cumul
    return next((a.date for a in actes if a.acte in nc.consultations
                 and 0 <= (jour - a.date).days <= nc.jours_apres), None)


def _motifs_synthese(regles: EpisodeDeSoins, suites: dict[str, str], ep: Episode, actes: list[ActeEnregistre],
                     faites: int, seuil: int) -> tuple[str, ...]:
    """Why the summary sheet for the médecin is due (§9.9): the session threshold, a re-assessment that finds the
    patient worse or changes the plan, an adverse event."""
    fs, textes = regles.fiche_synthese, regles.motifs_synthese
    motifs = [textes["seuil"].format(seuil=seuil)] if faites >= seuil else []
    revues = [a for a in actes if a.acte == REEVALUATION]
    if any(a.evolution in fs.evolutions for a in revues):
        motifs.append(textes["aggravation"])
    motifs += [textes["changement"].format(suite=suites.get(a.suite, a.suite).lower()) for a in revues
               if a.suite in fs.suites]
    if fs.evenement_indesirable and ep.evenement_indesirable:
        motifs.append(textes["evenement_indesirable"])
    return tuple(dict.fromkeys(motifs))


def clore(chaine: audit.Chaine, regles: EpisodeDeSoins, ep: Episode, motif: str, jour: date, acteur: str) -> None:
    """Close an episode with its reason (one of the closing reasons of the rules' data); audited."""
    if motif not in regles.motifs_cloture:
        raise ErreurSaisie([Probleme("motif_cloture", f"motif inconnu « {motif} » : attendu "
                                                      f"{', '.join(regles.motifs_cloture)}")])
    ep.statut, ep.motif_cloture, ep.date_cloture = CLOS, motif, jour
    chaine.ajouter("cloture_episode", acteur, details={"episode": ep.id, "motif": motif})


def issue(ep: Episode, repris_par: str | None, evenement: bool | None, texte: str | None) -> None:
    """Set the episode's outcome (who took the patient over, adverse event), checked."""
    if repris_par is not None and repris_par not in get_args(ReprisPar):
        raise ErreurSaisie([Probleme("repris_par", f"valeur inconnue « {repris_par} » : attendu "
                                                   f"{', '.join(get_args(ReprisPar))}")])
    if repris_par is not None:
        ep.repris_par = repris_par
    if evenement is not None:
        ep.evenement_indesirable = evenement
        ep.evenement_texte = saisie.texte("evenement_texte", texte, 2000, vide=True, lignes=True) \
            if evenement and texte else None


def episode_a_continuer(s: Session, chaine: audit.Chaine, regles: EpisodeDeSoins, *, patient_id: str, protocole: str,
                        date_debut: date, jour: date, acteur: str) -> str | None:
    """The patient's open episode of this protocol that a new triage joins, if any.

    Rules v3 (§9.1): an open accès direct episode whose period ended before the new onset is not continued: a new
    onset after that date starts a new period, so the old episode is closed (``duree``, audited) and ``None``
    returned (the caller opens a new one)."""
    ep = s.scalars(select(Episode).where(Episode.patient_id == patient_id, Episode.protocole == protocole,
                                         Episode.statut == OUVERT)
                   .order_by(Episode.date_debut.desc(), Episode.cree_le.desc()).limit(1)).first()
    if ep is None:
        return None
    if not ep.diagnostic_medical_prealable:
        c = compteurs.lire(s, regles, ep, jour, inclus=False)
        if c.periode is not None and ep.id in c.periode.episodes and date_debut >= c.periode.fin:
            clore(chaine, regles, ep, regles.acces_direct.motif_cloture_duree, jour, acteur)
            return None
    return ep.id


def prescriptions_recentes(s: Session, regles: EpisodeDeSoins, patient_id: str, jour: date) -> dict[str, date]:
    """Per protocol, the onset of the patient's latest stored episode with a medical prescription in the months
    before ``jour`` (rules v3, §9.2: it counts as a prior medical diagnosis; the page proposes it)."""
    debut = ajouter_mois(jour, -regles.diagnostic_prealable.prescription_mois)
    out: dict[str, date] = {}
    for protocole, quand in s.execute(
            select(Episode.protocole, Episode.date_debut).where(
                Episode.patient_id == patient_id, Episode.prescription_medicale.is_(True),
                Episode.date_debut >= debut, Episode.date_debut <= jour).order_by(Episode.date_debut)):
        out[protocole] = quand
    return out


def ajouter_episode(s: Session, chaine: audit.Chaine, horloge: Callable[[], datetime], *, patient_id: str,
                    protocole: str, date_debut: date, prescription_medicale: bool, diagnostic_medical_prealable: bool,
                    antecedent_lombalgie: bool, episodes_anterieurs_12_mois: int, acteur: str,
                    diagnostic_propose: bool = False) -> str:
    """A new episode for a recorded patient, in the caller's transaction; its id. ``diagnostic_propose``: the page
    proposed the prior diagnosis from a stored prescription episode (audited with the kiné's answer)."""
    if s.get(Patient, patient_id) is None:
        raise ErreurStockage("patient introuvable")
    # At most one open episode per patient and condition (issue #28; a unique index backs it): checked in the same
    # write, which holds the audit chain's lock, so two writers cannot both pass.
    if s.scalar(select(Episode.id).where(Episode.patient_id == patient_id, Episode.protocole == protocole,
                                         Episode.statut == OUVERT).limit(1)) is not None:
        raise ErreurStockage("un épisode de ce motif est déjà ouvert pour ce patient : le continuer, ou le clore "
                             "avant d'en ouvrir un autre")
    eid = nouvel_id()
    s.add(Episode(id=eid, patient_id=patient_id, protocole=protocole, date_debut=date_debut,
                  prescription_medicale=prescription_medicale,
                  diagnostic_medical_prealable=diagnostic_medical_prealable,
                  antecedent_lombalgie=antecedent_lombalgie,
                  episodes_anterieurs_12_mois=episodes_anterieurs_12_mois,
                  episodes_12_mois_declares=episodes_anterieurs_12_mois or None,
                  motif_declaration=MOTIF_DECLARATION_OUVERTURE if episodes_anterieurs_12_mois else None,
                  date_declaration=horloge().date() if episodes_anterieurs_12_mois else None,
                  cree_le=horloge()))
    details: dict[str, Any] = {"episode": eid, "patient": patient_id}
    if diagnostic_propose:
        details["diagnostic_propose"] = {"confirme": diagnostic_medical_prealable}
    chaine.ajouter("creation_episode", acteur, details=details)
    return eid
