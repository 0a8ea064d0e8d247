"""Accounts, roles enforced by the service layer, login throttling and their audit trail (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from tests import ressources
from triage_app import comptes
from triage_app.cli import main
from triage_app.comptes import ErreurConnexion, ErreurDroits, Utilisateur
from triage_app.errors import ErreurSaisie
from triage_app.services.application import Services
from triage_app.services.autorisation import ACTIONS, ServiceAutorise
from triage_app.storage.cle import empreinte_identifiant

MDP = "correct horse battery"

# Every Services a test opens (fixture, test, or the command line run in-process) is closed at its end.
fermer_les_depots = ressources.fermer_les_depots


class Horloge:
    def __init__(self) -> None:
        self.maintenant = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.maintenant


@pytest.fixture
def horloge():
    return Horloge()


@pytest.fixture
def depot(url_base, horloge):
    d = Services(url_base, horloge=horloge)
    d.comptes.creer_utilisateur(identifiant="coord", nom="Coordination", role="coordinateur", mot_de_passe=MDP,
                                acteur="test")
    d.comptes.creer_utilisateur(identifiant="kine", nom="Kiné", role="kine", mot_de_passe=MDP, acteur="test")
    d.comptes.creer_utilisateur(identifiant="docteur@exemple.fr", nom="Dr X", role="medecin", mot_de_passe=None,
                                source="oidc", acteur="test")
    yield d
    d.fermer()


def _journal(depot: Services) -> list[tuple[str, str]]:
    with depot.uow.bd.connect() as c:
        return [(r[0], r[1]) for r in c.execute(text("SELECT type, acteur FROM evenements_audit ORDER BY seq"))]


def test_connexion_locale_et_empreinte_argon2(depot):
    u = depot.comptes.connecter(" KINE ", MDP)
    assert u == Utilisateur("kine", "Kiné", "kine", "local")
    with depot.uow.bd.connect() as c:
        empreinte = c.execute(text("SELECT empreinte_mot_de_passe FROM utilisateurs WHERE identifiant='kine'")).scalar()
    assert empreinte.startswith("$argon2id$") and MDP not in empreinte
    assert ("connexion", "kine") in _journal(depot)


@pytest.mark.parametrize(("identifiant", "mdp"), [("kine", "mauvais mot de passe"), ("inconnu", MDP),
                                                  ("docteur@exemple.fr", MDP)])
def test_echec_de_connexion_sans_dire_pourquoi(depot, identifiant, mdp):
    with pytest.raises(ErreurConnexion, match=r"^identifiant ou mot de passe incorrect \(après"):
        depot.comptes.connecter(identifiant, mdp)
    # The audit keeps a keyed hash of what was typed, never the text (a patient's name, a password…).
    type_, acteur = _journal(depot)[-1]
    assert type_ == "connexion_echec" and acteur.startswith("essai:") and identifiant not in acteur
    assert acteur == empreinte_identifiant(depot.uow.cle, identifiant)


def test_limitation_apres_echecs_repetes(depot, horloge):
    for _ in range(comptes.ECHECS_AVANT_BLOCAGE):
        with pytest.raises(ErreurConnexion, match="incorrect"):
            depot.comptes.connecter("kine", "mauvais mot de passe")
    # Held back: even the right password is refused until the delay is over, with the same words as an unknown
    # identifier (the message says nothing of the account).
    with pytest.raises(ErreurConnexion) as bloque:
        depot.comptes.connecter("kine", MDP)
    with pytest.raises(ErreurConnexion) as inconnu:
        depot.comptes.connecter("personne", MDP)
    assert str(bloque.value) == str(inconnu.value)
    horloge.maintenant += comptes.BLOCAGE_INITIAL + timedelta(seconds=1)
    assert depot.comptes.connecter("kine", MDP).role == "kine"
    # The count restarts after a success.
    with pytest.raises(ErreurConnexion, match="incorrect"):
        depot.comptes.connecter("kine", "mauvais mot de passe")
    assert depot.comptes.connecter("kine", MDP).role == "kine"


def test_duree_de_blocage_double_et_plafonne():
    assert comptes.duree_blocage(comptes.ECHECS_AVANT_BLOCAGE - 1) is None
    assert comptes.duree_blocage(comptes.ECHECS_AVANT_BLOCAGE) == comptes.BLOCAGE_INITIAL
    assert comptes.duree_blocage(comptes.ECHECS_AVANT_BLOCAGE + 1) == 2 * comptes.BLOCAGE_INITIAL
    assert comptes.duree_blocage(100) == comptes.BLOCAGE_MAXIMAL


def test_compte_desactive_ne_se_connecte_plus(depot):
    ServiceAutorise(depot, depot.comptes.connecter("coord", MDP)).comptes.desactiver_utilisateur("kine")
    with pytest.raises(ErreurConnexion):
        depot.comptes.connecter("kine", MDP)


def test_connexion_oidc_seulement_pour_un_compte_prevu(depot):
    assert depot.comptes.connecter_oidc("Docteur@Exemple.fr").role == "medecin"
    with pytest.raises(ErreurConnexion, match="coordinateur"):
        depot.comptes.connecter_oidc("inconnu@exemple.fr")
    with pytest.raises(ErreurConnexion):
        depot.comptes.connecter_oidc("kine")  # a local account cannot be taken over through the provider


@pytest.mark.parametrize(("champs", "champ"), [
    ({"identifiant": "a", "role": "kine"}, "identifiant"),
    ({"identifiant": "x y", "role": "kine"}, "identifiant"),
    ({"identifiant": "nouveau", "role": "admin"}, "role"),
    ({"identifiant": "nouveau", "role": "kine", "mot_de_passe": "court"}, "mot_de_passe"),
    ({"identifiant": "nouveau", "role": "kine", "mot_de_passe": "xxnouveauxx-long"}, "mot_de_passe"),
    ({"identifiant": "kine", "role": "kine"}, "identifiant"),
])
def test_creation_de_compte_refusee_avec_le_champ_nomme(depot, champs, champ):
    donnees = {"nom": "Nom", "mot_de_passe": MDP, "acteur": "test"} | champs
    with pytest.raises(ErreurSaisie) as exc:
        depot.comptes.creer_utilisateur(**donnees)
    assert f"{champ} :" in str(exc.value) and str(exc.value).startswith("Saisie invalide")


def _service(depot: Services, role: str) -> ServiceAutorise:
    return ServiceAutorise(depot, Utilisateur(f"{role}.x", role, role))


def test_un_kine_qui_appelle_une_action_de_coordinateur_est_refuse(depot):
    kine = _service(depot, "kine")
    with pytest.raises(ErreurDroits, match="refusée"):
        kine.structure.enregistrer_structure(nom="MSP", type="msp", departement="38", protocoles_appliques=[])
    with pytest.raises(ErreurDroits):
        kine.comptes.creer_utilisateur(identifiant="pirate", nom="P", role="coordinateur", mot_de_passe=MDP)
    with pytest.raises(ErreurDroits):
        kine.rgpd.effacer_patient("x")
    assert depot.structure.structure() is None and depot.comptes.compter_utilisateurs() == 3
    assert ("refus", "kine.x") in _journal(depot)


def test_chaque_role_fait_seulement_ce_qu_il_peut(depot):
    """Exhaustive over the service's actions: allowed ones run (or fail for other reasons), others are refused."""
    for role in comptes.ROLES:
        service = _service(depot, role)
        for action, permission in ACTIONS.items():
            autorise = role in comptes.PERMISSIONS[permission]
            assert service.peut(action) is autorise, (role, action)
            agregat, methode = action.split(".")
            if autorise:
                assert callable(getattr(getattr(service, agregat), methode))
            else:
                with pytest.raises(ErreurDroits):
                    getattr(getattr(service, agregat), methode)
    medecin = _service(depot, "medecin")
    for ecriture in ("patients.creer_patient", "triages.enregistrer_reponse", "triages.finaliser", "triages.amender",
                     "episodes.enregistrer_seance"):
        assert not medecin.peut(ecriture)
    assert medecin.peut("triages.lister") and medecin.peut("documents.exporter")  # reads summaries; exports are audited
    # No generic audit call, for anyone: neither a « journaliser » nor the refusal's own recording.
    assert not medecin.peut("audit.journaliser") and not medecin.peut("audit.refus")
    with pytest.raises(ErreurDroits):
        _service(depot, "coordinateur").audit.refus  # noqa: B018


def test_une_methode_hors_table_n_est_pas_accessible(depot):
    with pytest.raises(ErreurDroits, match="non disponible"):
        _service(depot, "coordinateur").bd  # noqa: B018


def test_le_service_signe_chaque_action_du_nom_de_l_utilisateur(depot):
    kine = _service(depot, "kine")
    pid = kine.patients.creer_patient(nom="Dupont", prenom="Jeanne", date_naissance=date(1979, 9, 9), acteur="usurpe")
    assert pid and ("creation_patient", "kine.x") in _journal(depot)
    assert all(acteur != "usurpe" for _, acteur in _journal(depot))


def test_create_user_en_ligne_de_commande(url_base, monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(MDP + "\n"))
    assert main(["create-user", "premier", "--nom", "Premier Coord", "--base", url_base]) == 0
    assert "coordinateur" in capsys.readouterr().out
    d = Services(url_base)
    assert d.comptes.connecter("premier", MDP).role == "coordinateur"
    monkeypatch.setattr(sys, "stdin", io.StringIO("court\n"))
    assert main(["create-user", "second", "--role", "kine", "--base", url_base]) == 2
    assert "mot_de_passe" in capsys.readouterr().err
    assert d.comptes.compter_utilisateurs() == 1
    assert d.audit.verifier_audit().intact


def test_aucun_role_ne_peut_ecrire_un_evenement_d_audit_quelconque(depot):
    """Issue #16: a forged « effacement » could hide an edit, a forged « finalisation » fake a tampering."""
    from triage_app.comptes import ErreurDroits, Utilisateur
    from triage_app.services.autorisation import ServiceAutorise

    avant = depot.audit.verifier_audit().evenements
    for role in ("medecin", "kine", "coordinateur"):
        service = ServiceAutorise(depot, Utilisateur(f"{role}.x", role, role))
        for nom in ("journaliser", "_refus", "_ecriture", "audit.refus", "audit.journaliser", "uow.ecriture"):
            with pytest.raises(ErreurDroits):
                cible = service
                for partie in nom.split("."):
                    cible = getattr(cible, partie)
                cible("effacement", details={"patient": "x"})
    assert not hasattr(depot, "journaliser")
    assert depot.audit.verifier_audit().intact and depot.audit.verifier_audit().evenements == avant


def test_chaque_refus_coute_une_verification_de_mot_de_passe(depot, monkeypatch):
    """No timing oracle (issue #16): unknown identifier, wrong password, account held back, provider account —
    each login check computes exactly one argon2 verification and answers with the same words."""
    from triage_app.services import comptes as service

    appels: list[str] = []
    vrai = service._verifier_empreinte
    monkeypatch.setattr(service, "_verifier_empreinte", lambda e, m: appels.append(m) or vrai(e, m))
    messages = set()
    for _ in range(comptes.ECHECS_AVANT_BLOCAGE + 2):  # the last attempts meet an account held back
        for identifiant, mdp in (("kine", "mauvais mot de passe"), ("inconnu", MDP), ("docteur@exemple.fr", MDP)):
            avant = len(appels)
            with contextlib.suppress(ErreurConnexion):
                depot.comptes.connecter(identifiant, mdp)
            assert len(appels) - avant == 1, identifiant
    for identifiant in ("inconnu", "docteur@exemple.fr", "kine"):  # « kine » is held back: its right password too
        avant = len(appels)
        with pytest.raises(ErreurConnexion) as exc:
            depot.comptes.connecter(identifiant, MDP)
        assert len(appels) - avant == 1, identifiant
        messages.add(str(exc.value))
    assert len(messages) == 1
