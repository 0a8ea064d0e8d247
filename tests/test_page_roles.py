"""Per-role views (issue #13): a role sees no action it may not do.

Every button the médecin (read-only) can reach — on every menu page, a draft, a finalised triage with its episode,
a patient's record — is tapped, one path at a time from a fresh session, down to the buttons those taps reveal:
none is refused by the service (no « refus » in the audit, no « action refusée » on the page), and no field that
writes is shown to the médecin at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streamlit.testing.v1 import AppTest  # noqa: TID251  (the page's own test harness)

from tests import ressources, test_page
from tests.connexion import KINE, MEDECIN
from tests.test_page import (
    ACTEUR,
    AUJOURD_HUI,
    CHEVILLE,
    LOMBALGIE,
    aller,
    creer_triage,
    executer,
    lancer,
    ouvrir_volets,
    repondre_tout,
)
from tests.test_page_episode import RECHERCHE_FICHE, evenements, taper
from triage_app.comptes import Utilisateur

fermer_les_depots = ressources.fermer_les_depots
url_fixture, depot_fixture, msp_fixture = test_page.url_fixture, test_page.depot_fixture, test_page.msp_fixture

# Widgets a read-only role may use: they read (search, filters, pages of a list) or concern its own account
# (password, professional identity, logging in again after « Se déconnecter »).
LECTURE = ("recherche_patient", "filtre_", "tableau_", "mdp_", "profil_", "connexion_")


def _ecran(utilisateur: Utilisateur, chemin: str, triage: str | None = None,
           avant: Callable[[AppTest], Any] | None = None) -> Callable[[], AppTest]:
    def ouvrir() -> AppTest:
        at = lancer(triage, utilisateur=utilisateur) if chemin == "triage" else aller(lancer(utilisateur=utilisateur),
                                                                                      chemin)
        if avant is not None:
            avant(at)
        return at

    return ouvrir


def _explorer(ouvrir: Callable[[], AppTest], profondeur: int = 2) -> tuple[set[str], set[str]]:
    """Tap every button reachable in ``profondeur`` taps (each path replayed from a fresh session); the buttons
    and the input widgets seen."""
    vus: set[str] = set()
    champs: set[str] = set()
    chemins: list[tuple[str, ...]] = [()]
    for _ in range(profondeur + 1):
        suivants: list[tuple[str, ...]] = []
        for chemin in chemins:
            at = ouvrir()
            ouvrir_volets(at)  # the sections built only while open: their content too
            for cle in chemin:
                executer(at.button(key=cle).click())
                ouvrir_volets(at)
                refus = [e.value for e in at.error if "action refusée" in e.value]
                assert not refus, (chemin, refus)
            for genre in ("text_input", "text_area", "number_input", "segmented_control", "toggle", "selectbox",
                          "checkbox", "radio", "date_input"):
                champs |= {w.key for w in getattr(at, genre) if w.key}
            for b in at.button:
                if b.key and b.key not in vus and not b.disabled:
                    vus.add(b.key)
                    suivants.append((*chemin, b.key))
        chemins = suivants
    return vus, champs


def _structure_de_test(msp: Any) -> dict[str, str]:
    """The accounts, a draft, a finalised triage whose episode has a session, a second protocol's draft."""
    for u in (MEDECIN, KINE):
        msp.comptes.creer_utilisateur(identifiant=u.identifiant, nom=u.nom, role=u.role,
                                      mot_de_passe="mot de passe long",
                                      acteur=ACTEUR)
    brouillon, _ = creer_triage(msp, nom="Brouillon")
    final, eid = creer_triage(msp, CHEVILLE, nom="Finalise")
    repondre_tout(msp, final, CHEVILLE)
    msp.triages.finaliser(final, acteur=ACTEUR, note="Revoir à J5")
    # The day of the protocol consultation: not billable, confirmed (rules v3, §9.6); a session all the same.
    msp.episodes.enregistrer_seance(episode_id=eid, jour=AUJOURD_HUI, acteur=ACTEUR, confirmations={"non_cumul"})
    autre, _ = creer_triage(msp, LOMBALGIE, nom="Autre")
    return {"brouillon": brouillon, "final": final, "autre": autre,
            "patient": msp.triages.entete(final)["patient_id"]}


def test_le_medecin_ne_voit_aucune_action_qu_il_ne_peut_faire(msp):
    ids = _structure_de_test(msp)
    ecrans = [
        _ecran(MEDECIN, ""), _ecran(MEDECIN, "triage", ids["brouillon"]),
        _ecran(MEDECIN, "triage", ids["final"]), _ecran(MEDECIN, "protocoles"), _ecran(MEDECIN, "compte"),
        _ecran(MEDECIN, "patients", avant=lambda at: taper(at, RECHERCHE_FICHE, "finalise")),
        _ecran(MEDECIN, "nouveau"), _ecran(MEDECIN, "tableau"),
    ]
    tous: set[str] = set()
    for ouvrir in ecrans:
        vus, champs = _explorer(ouvrir)
        tous |= vus
        ecriture = sorted(c for c in champs if not c.startswith(LECTURE))
        assert not ecriture, f"champs d’écriture montrés au médecin : {ecriture}"
    assert not evenements(msp, "refus")
    # The exploration did reach the records (rows, a patient's record), not only empty pages.
    assert {f"ligne_{ids['final']}", f"fiche_{ids['patient']}"} <= tous
    assert not {"amender", "nouveau", "finaliser", "triage_patient"} & tous
    assert not [c for c in tous if c.startswith(("seance_", "annuler_", "aucun_", "declarer_", "cloturer_"))]
    t = msp.triages.charger(ids["final"])
    assert (t.statut, t.version, t.note) == ("final", 1, "Revoir à J5")


def test_le_kine_voit_ses_actions_et_aucune_de_coordination(msp):
    ids = _structure_de_test(msp)
    vus, _ = _explorer(_ecran(KINE, "triage", ids["final"]), profondeur=0)
    assert {"amender", "nouveau", f"seance_{msp.triages.charger(ids['final']).episode_id}"} <= vus
    at = lancer(utilisateur=KINE)
    assert not [p for p in at._registered_pages.values() if p.get("url_pathname") in ("comptes", "structure")]
    assert not evenements(msp, "refus")
