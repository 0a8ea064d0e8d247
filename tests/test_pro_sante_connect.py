"""Pro Santé Connect (issue #14): a browser logs in through a local OIDC provider shaped like PSC
(``tests/oidc_local.py``, on 127.0.0.1), the account is found by its RPPS, filled from the userinfo claims (the ID
token carries none of them, as PSC's), the summary is signed with that RPPS; logout ends the provider's session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests import navigateur as nv
from tests import ressources
from tests.conftest import cas_base
from tests.oidc_local import fournisseur_oidc, utilisateur_psc
from triage_app.models.interop import Interop
from triage_app.services.application import Services
from triage_app.ui.identite import profil_pro, valeur

fermer_les_depots = ressources.fermer_les_depots
RPPS = "10001234565"
pytestmark = pytest.mark.slow


def test_revendications_psc_vers_le_compte():
    from triage_app.engine.evaluation import moteur

    interop: Interop = moteur().registre.interop
    claims = utilisateur_psc(rpps=RPPS, prenom="Camille", nom="Martin", code_profession="70")
    assert valeur(claims, "SubjectRefPro.exercices.0.codeProfession") == "70"
    assert valeur(claims, "SubjectRefPro.exercices.3.codeProfession") is None
    assert profil_pro(claims, interop) == {"rpps": RPPS, "profession": "kine", "prenom": "Camille",
                                           "nom_famille": "Martin"}
    medecin = profil_pro(utilisateur_psc(rpps="10007654329", code_profession="10"), interop)
    assert (medecin["rpps"], medecin["profession"]) == ("10007654329", "medecin")
    assert profil_pro({"SubjectNameID": "012345678"}, interop)["rpps"] is None  # 0 + ADELI: no RPPS


def _triage_final(url: str) -> str:
    with Services(url) as depot:
        depot.structure.enregistrer_structure(nom="MSP Pro Santé Connect", type="msp", departement="38",
                                              protocoles_appliques=["lombalgie_aigue"], acteur="test")
        # The coordinator created the account with the RPPS as identifier (no e-mail known, no profile yet).
        depot.comptes.creer_utilisateur(identifiant=RPPS, nom="Compte PSC", role="kine", mot_de_passe=None,
                                        source="oidc",
                                        acteur="test")
        pid = depot.patients.creer_patient(nom="Durand", prenom="Lou", date_naissance=date(1990, 2, 2), sexe="F",
                                           acteur="test")
        eid = depot.episodes.creer_episode(patient_id=pid, protocole="lombalgie_aigue", date_debut=date(2026, 3, 8),
                                           acteur=RPPS)
        tid = depot.triages.creer_triage(episode_id=eid, date_consultation=date(2026, 3, 10), acteur=RPPS)
        for q, v in cas_base("lombalgie_aigue")["reponses"].items():
            depot.triages.enregistrer_reponse(tid, q, v, acteur=RPPS)
        depot.triages.finaliser(tid, acteur=RPPS)
        return tid


def test_connexion_pro_sante_connect_rpps_dans_le_compte_rendu(tmp_path):
    nv.exiger_navigateur()
    from playwright.sync_api import sync_playwright

    url = f"sqlite:///{tmp_path / 'triage.sqlite'}"
    tid = _triage_final(url)
    claims = utilisateur_psc(rpps=RPPS, prenom="Camille", nom="Martin", code_profession="70")
    with fournisseur_oidc(claims, claims_id_token=("sub",)) as psc:
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(psc.secrets_toml("http://127.0.0.1:{port}/oauth2callback"), encoding="utf-8")
        with nv.ServeurPage(url, env={"STREAMLIT_SECRETS_FILES": str(secrets)}) as serveur, \
                sync_playwright() as p:
            navigateur = nv.lancer_chromium(p)
            try:
                page = nv.nouveau_contexte(navigateur, 1024, 768).new_page()
                page.goto(serveur.url)
                nv.attendre_fin(page, 0, 30_000)
                nv.verifier_francais(page, "connexion_psc")
                page.locator(".st-key-connexion_oidc button").tap()
                page.locator(".st-key-se_connecter").wait_for(state="detached", timeout=30_000)
                (demande,) = psc.autorisations
                assert (demande["scope"], demande["acr_values"]) == ("openid scope_all", "eidas1")
                page.goto(f"{serveur.url}/triage?triage={tid}")
                page.locator(".st-key-telecharger_txt button, .st-key-telecharger_txt a").first.wait_for(
                    timeout=30_000)
                nv.attendre_fin(page, 0, 30_000)
                with page.expect_download() as telechargement:
                    page.locator(".st-key-telecharger_txt button, .st-key-telecharger_txt a").first.click()
                texte = Path(telechargement.value.path()).read_text(encoding="utf-8")
                assert "Rédigé par : Camille Martin, Masseur-kinésithérapeute, RPPS 10001234565" in texte
                page.goto(f"{serveur.url}/compte")
                page.locator(".st-key-deconnexion button").tap()
                page.locator(".st-key-se_connecter").wait_for(timeout=30_000)
                assert psc.deconnexions and psc.deconnexions[0]["session_terminee"] and not psc.session_active
            finally:
                navigateur.close()
    with Services(url) as depot:
        pro = depot.comptes.profil(RPPS)
        assert (pro.rpps, pro.profession, pro.nom) == (RPPS, "kine", "Camille Martin")
        assert depot.audit.verifier_audit().intact


def test_un_jeton_d_identite_ancien_ne_rouvre_pas_une_session():
    """Streamlit's login cookie lasts 30 days: a reload after the idle delay needs the provider again."""
    import time

    from triage_app.ui.identite import IdentiteOidc, recente

    maintenant = time.time()
    assert recente(IdentiteOidc("a@b.fr", "A", emis_le=maintenant - 60), 900)
    assert not recente(IdentiteOidc("a@b.fr", "A", emis_le=maintenant - 901), 900)
    assert not recente(IdentiteOidc("a@b.fr", "A"), 900)  # no issue time: never trusted
