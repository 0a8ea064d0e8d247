"""Sessions allowed and billing lines of an outcome, from the protocol's thresholds and dated parameters."""

from __future__ import annotations

from typing import Any

from triage_app.domain.montants import part, produit, reste, seance_avec_bdk, somme
from triage_app.engine.dossier import Dossier
from triage_app.errors import ParametreIntrouvable
from triage_app.models.protocol import Etat


def _remarque(d: Dossier, cle: str, **valeurs: Any) -> str:
    return d.registre.commun.remarques[cle].format(**valeurs)


def _nombre(valeur: float) -> str:
    return f"{valeur:g}".replace(".", ",")


def _euros(valeur: float) -> str:
    return f"{valeur:.2f}".replace(".", ",")


def _ordinal(n: int) -> str:
    return "1re" if n == 1 else f"{n}e"


def seances(d: Dossier, etat: Etat, remarques: list[str]) -> dict[str, int] | None:
    """Sessions this frame allows (``None`` unless the outcome manages care), with their warnings."""
    if etat.seances is None:
        return None
    ep = d.cas.episode
    realisees = ep.seances_realisees_episode
    realisees_plafond = realisees
    consultations = 0
    if etat.seances == "protocole":
        consultations = int(d.seuil("consultations_protocole"))
        autorisees = int(d.seuil("seances_protocole"))
    elif etat.seances == "acces_direct" and d.plafond_acces_direct is not None:
        # Rules v3 (§9.1): the cap counts the patient's sessions for the condition in the accès direct period,
        # whichever stored episode holds them.
        autorisees = d.plafond_acces_direct
        faites = d.seances_acces_direct
        if faites != realisees:
            remarques.append(_remarque(d, "acces_direct_periode", faites=faites, plafond=autorisees))
        if faites == autorisees - 1:
            remarques.append(_remarque(d, "acces_direct_derniere_seance", plafond=autorisees))
        realisees_plafond = faites
    else:
        autorisees = int(d.seuil("seances_referentiel"))
    seuil_dap = int(d.seuil("seuil_dap"))
    if realisees >= seuil_dap:
        remarques.append(_remarque(d, "dap_atteint", realisees=realisees))
    elif autorisees >= seuil_dap:
        remarques.append(_remarque(d, "dap", seuil_suivant=seuil_dap + 1))
    restantes = max(0, autorisees - realisees_plafond)
    # Rules v2 (§8.1) and v3 (§9.4): the reimbursed sessions of the last 12 months outside this episode count
    # towards the 12-month DAP threshold, on every reimbursed route (accès direct without prior diagnosis too).
    if "seuil_dap_12_mois" in d.p.seuils:
        seuil_12 = int(d.seuil("seuil_dap_12_mois"))
        borne_12 = seuil_12 - ep.seances_12_mois - realisees
        if borne_12 < autorisees - realisees_plafond:
            restantes = max(0, borne_12)
            remarques.append(_remarque(d, "dap_12_mois", seuil=seuil_12, seances_12_mois=ep.seances_12_mois,
                                       seance_dap=_ordinal(max(1, seuil_12 - ep.seances_12_mois + 1))))
    return {"consultations_protocole": consultations, "autorisees": autorisees, "realisees": realisees,
            "restantes": restantes, "seuil_dap": seuil_dap}


def voie(d: Dossier, orientation: str | None) -> str | None:
    """The billing route: the first matching row of ``regles_voie`` (``None`` without orientation)."""
    if orientation is None:
        return None
    for r in d.registre.commun.regles_voie:
        if r.orientations is not None and orientation not in r.orientations:
            continue
        if r.condition is not None and not d.verifie(r.condition):
            continue
        return r.voie
    raise AssertionError("regles_voie se termine par une règle sans condition (vérifié au chargement)")


def _valeur(d: Dossier, pid: str) -> Any:
    try:
        return d.parametre(pid)
    except ParametreIntrouvable:
        return None


def _annonces(d: Dossier, pids: list[str], remarques: list[str]) -> None:
    for pid in pids:
        par = d.registre.parametres[pid]
        for jour, v in par.annonces_apres(d.jour):
            remarques.append(_remarque(d, "annonce", description=par.modele.description,
                                       valeur=_nombre(v.valeur), date=jour.strftime("%d/%m/%Y")))


def _franchise(d: Dossier, remarques: list[str]) -> None:
    """The franchise médicale remark (rules v2, §8.5): shown, never deducted from the reimbursed share."""
    fr = d.registre.commun.facturation.franchise
    if d.age < fr.age_exoneration_moins_de:
        remarques.append(_remarque(d, "franchise_mineur"))
        return
    montant, plafond = _valeur(d, fr.montant), _valeur(d, fr.plafond_jour)
    if montant is not None and plafond is not None:
        remarques.append(_remarque(d, "franchise", franchise=_euros(montant), plafond=_euros(plafond)))


def lignes(d: Dossier, voie_facturation: str | None, remarques: list[str]) -> list[dict[str, Any]]:
    """Billing lines of the route at the consultation date, amounts rounded to the cent."""
    if voie_facturation is None:
        return []
    commun = d.registre.commun
    if voie_facturation == "aucune":
        remarques.append(_remarque(d, "aucune", seuil_devis=_nombre(_valeur(d, commun.facturation.seuil_devis)
                                                                   or 0)))
        return []
    if voie_facturation == "forfait_protocole":
        out = []
        forfaits = d.p.modele.facturation.forfaits
        dus = [f for f in forfaits if f.orientations is None or d.orientation in f.orientations]
        for f in dus:
            montant = _valeur(d, f.parametre)
            if montant is None:
                remarques.append(_remarque(d, "montant_non_fixe", code=f.code, date=d.jour.strftime("%d/%m/%Y")))
            out.append({"code": f.code, "libelle": f.libelle,
                        "montant_eur": None if montant is None else produit(montant),
                        "part_remboursee_eur": None, "part_patient_eur": None})
        remarques.append(_remarque(d, "forfait_structure"))
        if len(dus) == len(forfaits):
            remarques.append(_remarque(d, "forfait_lignes", reevaluation=d.p.modele.facturation.reevaluation))
        else:  # rules v2 (§8.2): a patient oriented elsewhere leaves the protocol, no re-assessment forfait
            remarques.append(_remarque(d, "forfait_sortie_protocole"))
        return out
    fac = commun.facturation
    fp = d.p.modele.facturation
    departement = (d.cas.cadre.departement or "").strip().upper()
    drom = departement in (_valeur(d, fac.departements_drom) or [])
    lettre = _valeur(d, fac.lettre_cle_drom if drom else fac.lettre_cle)
    if drom:
        remarques.append(_remarque(d, "drom", departement=departement))
    couverture = d.cas.patient.couverture
    taux = _valeur(d, fac.taux_remboursement[couverture])
    actes: list[tuple[str, str, Any]] = []
    realisees = d.cas.episode.seances_realisees_episode
    bdk = fac.bdk
    if seance_avec_bdk(realisees, bdk.premiere_si_realisees, bdk.puis_si_realisees, bdk.pas):
        actes.append((bdk.code, bdk.libelle, _valeur(d, bdk.coefficient)))
    code = _valeur(d, fp.code_seance) or "SEANCE"
    actes.append((code, fp.libelle_seance, _valeur(d, fp.coefficient_seance)))
    out = []
    for code_acte, libelle, coefficient in actes:
        montant = None if coefficient is None or lettre is None else produit(coefficient, lettre)
        if montant is None:
            remarques.append(_remarque(d, "montant_non_fixe", code=code_acte, date=d.jour.strftime("%d/%m/%Y")))
        rembourse = None if montant is None or taux is None else part(montant, taux)
        out.append({"code": code_acte, "libelle": libelle, "montant_eur": montant, "part_remboursee_eur": rembourse,
                    "part_patient_eur": None if montant is None or rembourse is None else reste(montant, rembourse)})
    if voie_facturation == "ngap_acces_direct":
        remarques.append(_remarque(d, "acces_direct_prescripteur"))
    else:
        remarques.append(_remarque(d, "prescription"))
    if taux is not None:
        remarques.append(_remarque(d, "part_remboursee", taux=_nombre(taux),
                                   couverture=commun.libelles.couvertures[couverture]))
    parts = [ligne["part_patient_eur"] for ligne in out if ligne["part_patient_eur"] is not None]
    if parts and len(parts) == len(out):
        remarques.append(_remarque(d, "part_patient", part_patient=_euros(somme(parts)),
                                   total=_euros(somme([ligne["montant_eur"] for ligne in out]))))
    _franchise(d, remarques)
    _annonces(d, [fp.coefficient_seance, bdk.coefficient, fac.lettre_cle], remarques)
    return out
