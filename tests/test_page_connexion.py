"""The login gate of the page: first account, login, roles, idle lock, logout, identity provider (AppTest)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest  # noqa: TID251  (the page's own test harness)

from tests import ressources
from tests.test_page import APP, aller, boutons, creer_triage, executer, questions
from triage_app.ui import identite
from triage_app.ui.etat import CLE_UTILISATEUR

MDP = "correct horse battery"
PATIENT = ("Martin", "Paul", "1984-06-14", "14/06/1984")
# Every Services a test opens, the page's own included (one per URL, cached), is closed at its end.
fermer_les_depots = ressources.fermer_les_depots


@pytest.fixture
def url(tmp_path, monkeypatch):
    adresse = f"sqlite:///{(tmp_path / 'triage.sqlite').as_posix()}"
    monkeypatch.setenv("TRIAGE_DATABASE_URL", adresse)
    return adresse


@pytest.fixture
def depot(url):
    from triage_app.services.application import Services

    d = Services(url)
    d.structure.enregistrer_structure(nom="MSP", type="msp", departement="38",
                                      protocoles_appliques=["lombalgie_aigue", "entorse_cheville"], acteur="test")
    for ident, role in (("coord", "coordinateur"), ("kine", "kine"), ("medecin", "medecin")):
        d.comptes.creer_utilisateur(identifiant=ident, nom=ident.capitalize(), role=role, mot_de_passe=MDP,
                                    acteur="test")
    yield d
    d.fermer()


def groupe_ouvert(at: AppTest) -> str | None:
    """The open group of the walk, identified by the questions on screen (``None`` when none is open)."""
    return ",".join(sorted(questions(at))) or None


def tout_le_texte(at: AppTest) -> str:
    """Everything the page shows as text (markdown, HTML, captions, alerts, labels, tables)."""
    morceaux = [e.value for e in (*at.markdown, *at.caption, *at.info, *at.error, *at.warning, *at.success)]
    morceaux += [h.value for h in at.get("html")]
    morceaux += [str(getattr(w, "label", "")) for w in (*at.button, *at.text_input, *at.segmented_control)]
    morceaux += [d.value.to_csv() for d in at.dataframe] + [t.value.to_csv() for t in at.table]
    return "\n".join(str(m) for m in morceaux)


def se_connecter(at: AppTest, identifiant: str, mdp: str = MDP) -> AppTest:
    at.text_input(key="connexion_identifiant").input(identifiant)
    at.text_input(key="connexion_mdp").input(mdp)
    return executer(at.button(key="se_connecter").click())


def nouvelle_session(triage: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if triage:
        at.query_params["triage"] = triage
    return executer(at)


def test_premier_demarrage_cree_le_coordinateur_sans_mot_de_passe_par_defaut(url):
    from triage_app.services.application import Services

    at = nouvelle_session()
    assert at.markdown[0].value == "### Premier démarrage" and "se_connecter" not in boutons(at)
    at.text_input(key="premier_identifiant").input("marie.curie")
    at.text_input(key="premier_nom").input("Marie")
    at.text_input(key="premier_mdp").input("court")
    at.text_input(key="premier_mdp2").input("court")
    executer(at.button(key="creer_premier").click())
    assert at.error[0].value.startswith("Mot de passe : au moins 12 caractères")
    assert Services(url).comptes.compter_utilisateurs() == 0
    at.text_input(key="premier_mdp").input(MDP)
    at.text_input(key="premier_mdp2").input(MDP)
    executer(at.button(key="creer_premier").click())
    assert at.session_state[CLE_UTILISATEUR].role == "coordinateur"
    assert Services(url).comptes.connecter("marie.curie", MDP).role == "coordinateur"
    aller(at, "comptes")
    assert at.markdown[0].value == "### Comptes de la structure"


def test_sans_connexion_aucune_donnee_patient(depot):
    tid, _ = creer_triage(depot, nom=PATIENT[0])
    for at in (nouvelle_session(), nouvelle_session(tid)):
        assert "se_connecter" in boutons(at)
        texte = tout_le_texte(at)
        assert all(x not in texte for x in PATIENT), texte
        assert not at.segmented_control and not at.dataframe
    # Pages cannot be reached around the gate either: before the login, each path only draws the gate.
    for chemin in ("triages", "patients", "tableau", "structure", "comptes", "triage"):
        at = aller(nouvelle_session(), chemin)
        assert "se_connecter" in boutons(at), chemin
        assert [m.value for m in at.markdown][:1] == ["### Connexion"], chemin
        assert not at.dataframe and not at.segmented_control and not at.get("vega_lite_chart"), chemin
        texte = tout_le_texte(at)
        assert all(x not in texte for x in PATIENT), (chemin, texte)


@pytest.mark.parametrize(("identifiant", "chemin", "titre"), [
    ("kine", "patients", "### Patients"),
    ("coord", "tableau", "### Tableau de bord"),
    ("medecin", "protocoles", "### Protocoles"),
    ("kine", "compte", "### Mon compte"),
    ("kine", "comptes", "### Nouveau triage"),  # not in the kiné's menu: the role's first page
    ("medecin", "structure", "### Triages"),
    ("kine", "", "### Nouveau triage"),  # the root: the role's first page
    ("medecin", "", "### Triages"),
])
def test_la_page_de_l_url_est_ouverte_apres_la_connexion(depot, identifiant, chemin, titre):
    """A link or bookmark to a page (``/patients``) opened in a new session: the login leads to that page when the
    user's role has it, to the role's first page otherwise (never to a page the role lacks)."""
    at = nouvelle_session()
    if chemin:
        aller(at, chemin)
    se_connecter(at, identifiant)
    assert [m.value for m in at.markdown][:1] == [titre]


def test_mauvais_mot_de_passe_refuse_puis_connexion(depot):
    at = se_connecter(nouvelle_session(), "kine", "pas le bon mot de passe")
    assert at.error[0].value.startswith("Connexion refusée : identifiant ou mot de passe incorrect (après")
    assert CLE_UTILISATEUR not in at.session_state
    at = se_connecter(at, "kine")
    assert at.session_state[CLE_UTILISATEUR].identifiant == "kine"
    assert "commencer" in boutons(at)  # the patient form of « Nouveau triage »
    with depot.uow.bd.connect() as c:
        types = [r[0] for r in c.execute(text("SELECT type FROM evenements_audit ORDER BY seq"))]
    assert types[-2:] == ["connexion_echec", "connexion"]


def test_le_verrou_d_inactivite_garde_le_triage_en_cours(depot):
    tid, _ = creer_triage(depot, nom=PATIENT[0])
    at = se_connecter(nouvelle_session(tid), "kine")
    executer(at.button(key="aucun_neurologique").click())
    groupe = groupe_ouvert(at)
    at.session_state["derniere_activite"] = time.monotonic() - 16 * 60  # 15 min by default
    executer(at)
    assert at.markdown[0].value == "### Session verrouillée"
    assert all(x not in tout_le_texte(at) for x in PATIENT) and not questions(at)
    at.text_input(key="verrou_mdp").input("faux mot de passe!")
    executer(at.button(key="deverrouiller").click())
    assert at.markdown[0].value == "### Session verrouillée" and at.error
    at.text_input(key="verrou_mdp").input(MDP)
    executer(at.button(key="deverrouiller").click())
    assert at.query_params["triage"] == tid and groupe_ouvert(at) == groupe
    assert depot.triages.charger(tid).cas["reponses"]["rf_troubles_sphincteriens"] is False


def test_deconnexion(depot):
    at = se_connecter(nouvelle_session(), "kine")
    aller(at, "compte")
    executer(at.button(key="deconnexion").click())
    assert "se_connecter" in boutons(at) and CLE_UTILISATEUR not in at.session_state
    with depot.uow.bd.connect() as c:
        dernier = c.execute(text("SELECT type, acteur FROM evenements_audit ORDER BY seq DESC LIMIT 1")).one()
    assert tuple(dernier) == ("deconnexion", "kine")


def _menu(at: AppTest) -> set[str]:
    return {info.get("url_pathname") for info in at._registered_pages.values()}


def test_chaque_role_voit_son_menu(depot):
    assert _menu(se_connecter(nouvelle_session(), "coord")) >= {"", "triages", "protocoles", "structure", "comptes"}
    kine = _menu(se_connecter(nouvelle_session(), "kine"))
    assert "structure" not in kine and "comptes" not in kine and "triages" in kine
    medecin = _menu(se_connecter(nouvelle_session(), "medecin"))
    assert "structure" not in medecin and "comptes" not in medecin


def test_le_medecin_lit_sans_pouvoir_ecrire(depot):
    tid, _ = creer_triage(depot, nom=PATIENT[0])
    at = se_connecter(nouvelle_session(tid), "medecin")
    assert not questions(at) and "finaliser" not in boutons(at) and "aucun_neurologique" not in boutons(at)
    assert any("lecture seule" in i.value for i in at.info)
    assert "amender" not in boutons(at) and "nouveau" not in boutons(at)


def test_fournisseur_d_identite(depot, monkeypatch):
    import time

    depot.comptes.creer_utilisateur(identifiant="docteur@exemple.fr", nom="Dr X", role="medecin", mot_de_passe=None,
                                    source="oidc", acteur="test")
    monkeypatch.setattr(identite, "oidc_configure", lambda: True)
    monkeypatch.setattr(identite, "identite_oidc", lambda interop=None: None)
    at = nouvelle_session()
    assert "connexion_oidc" in boutons(at) and "se_connecter" in boutons(at)
    monkeypatch.setattr(identite, "identite_oidc", lambda interop=None: identite.IdentiteOidc(
        "docteur@exemple.fr", "Dr X", emis_le=time.time()))
    at = nouvelle_session()
    assert at.session_state[CLE_UTILISATEUR].role == "medecin"
    monkeypatch.setattr(identite, "identite_oidc", lambda interop=None: identite.IdentiteOidc(
        "intrus@exemple.fr", "Intrus", emis_le=time.time()))
    at = nouvelle_session()
    assert CLE_UTILISATEUR not in at.session_state and "coordinateur" in at.error[0].value
    # Streamlit's login cookie (30 days) reopening a session long after the provider confirmed the person: the
    # provider is asked again (no session opened from the old cookie).
    monkeypatch.setattr(identite, "identite_oidc", lambda interop=None: identite.IdentiteOidc(
        "docteur@exemple.fr", "Dr X", emis_le=time.time() - 3600))
    at = nouvelle_session()
    assert CLE_UTILISATEUR not in at.session_state and "connexion_oidc" in boutons(at)
    assert any("trop ancienne" in i.value for i in at.info)


def test_sans_secrets_pas_de_fournisseur(depot):
    at = nouvelle_session()
    assert "connexion_oidc" not in boutons(at)


def test_un_tap_apres_le_delai_d_inactivite_n_est_pas_enregistre(depot):
    """Issue #16: the tap's callback runs before the page checks the idle delay; the service refuses it (nothing
    saved under the absent user) and the page then shows the lock screen."""
    tid, _ = creer_triage(depot, nom=PATIENT[0])
    at = se_connecter(nouvelle_session(tid), "kine")
    at.session_state["derniere_activite"] = time.monotonic() - 16 * 60  # 15 min by default, no rerun since
    at.button(key="aucun_neurologique").click().run()
    assert not at.exception  # no English error page: the callback does nothing (issue #28)
    assert "rf_deficit_moteur" not in depot.triages.charger(tid).cas["reponses"]
    with depot.uow.bd.connect() as c:
        reponses = c.execute(text("SELECT count(*) FROM evenements_audit WHERE type = 'reponse'")).scalar()
    assert reponses == 0
    executer(at)
    assert at.markdown[0].value == "### Session verrouillée"


@pytest.mark.parametrize("changement", ["desactive", "mot_de_passe"])
def test_un_compte_change_ferme_la_session_deja_ouverte(depot, changement):
    """Issue #28: the coordinator deactivates the account (or its password changes) while the kiné's session is open:
    the session's next tap writes nothing and shows the login, in French."""
    from tests.test_page import remplir_patient

    at = se_connecter(nouvelle_session(), "kine")
    assert "commencer" in boutons(at)
    if changement == "desactive":
        depot.comptes.desactiver_utilisateur("kine", acteur="coord")
    else:
        depot.comptes.changer_mot_de_passe("kine", MDP, "un tout autre mot de passe")
    at = remplir_patient(at, nom="Apres", prenom="Changement")
    assert "se_connecter" in boutons(at) and CLE_UTILISATEUR not in at.session_state
    assert any("désactivé ou modifié" in w.value for w in at.warning)
    with depot.uow.bd.connect() as c:
        assert c.execute(text("SELECT count(*) FROM patients")).scalar() == 0


def test_le_service_refuse_l_ecriture_d_un_compte_qui_n_est_plus_valide(depot):
    """Before any call that is not a plain read (a tap's callback runs before the page's own check)."""
    from datetime import date

    from triage_app.comptes import ErreurDroits, Utilisateur
    from triage_app.services.autorisation import ServiceAutorise

    kine = ServiceAutorise(depot, Utilisateur("kine", "Kine", "kine"), compte_valide=lambda: False)
    with pytest.raises(ErreurDroits, match="désactivé ou modifié"):
        kine.patients.creer_patient(nom="A", prenom="B", date_naissance=date(1980, 1, 1))
    assert kine.structure.decrite() in (True, False)  # a plain read still answers (the page checks it per run)
    with depot.uow.bd.connect() as c:
        assert c.execute(text("SELECT count(*) FROM patients")).scalar() == 0


def test_le_compte_est_lu_une_fois_par_tap(depot, monkeypatch):
    """Issue #25: the account is read from the database once per run (the tap's callback, the page, its fragment
    and every write it asks for share that read), and again at the next tap."""
    from triage_app.services.comptes import ServiceComptes

    tid, _ = creer_triage(depot, nom=PATIENT[0])
    at = se_connecter(nouvelle_session(tid), "kine")
    lectures: list[str] = []
    d_origine = ServiceComptes.jeton_session

    def compte(self, identifiant):
        lectures.append(identifiant)
        return d_origine(self, identifiant)

    monkeypatch.setattr(ServiceComptes, "jeton_session", compte)
    at.button(key="aucun_neurologique").click().run()  # callback + write + page: one read
    assert lectures == ["kine"]
    assert "rf_deficit_moteur" in depot.triages.charger(tid).cas["reponses"]
    executer(at)  # the next run reads again: a deactivation between two taps is seen at the second
    assert lectures == ["kine", "kine"]
    depot.comptes.desactiver_utilisateur("kine", acteur="coord")
    executer(at)
    assert "se_connecter" in boutons(at)


def test_tablette_remise_le_cookie_du_fournisseur_ne_rouvre_pas_la_session(depot, monkeypatch):
    """Issue #30: a kiné signed in through the identity provider hands the tablet over; a reload (a new session
    with the provider's cookie) does not reopen the kiné's session until the person authenticated at the provider
    after the hand-over."""
    import time

    from triage_app.ui import etat

    depot.comptes.creer_utilisateur(identifiant="kine@exemple.fr", nom="Kiné X", role="kine", mot_de_passe=None,
                                    source="oidc", acteur="test")
    monkeypatch.setattr(identite, "oidc_configure", lambda: True)
    avant = time.time() - 5
    monkeypatch.setattr(identite, "identite_oidc", lambda interop=None: identite.IdentiteOidc(
        "kine@exemple.fr", "Kiné X", emis_le=avant, authentifie_le=avant))
    at = nouvelle_session()
    assert at.session_state[CLE_UTILISATEUR].identifiant == "kine@exemple.fr"
    etat.noter_remise("kine@exemple.fr")  # « Questionnaire patient »
    try:
        at = nouvelle_session()  # the patient reloads the page
        assert CLE_UTILISATEUR not in at.session_state
        assert any("remise à un patient" in w.value for w in at.warning)
        apres = time.time() + 1  # the kiné authenticates again at the provider
        monkeypatch.setattr(identite, "identite_oidc", lambda interop=None: identite.IdentiteOidc(
            "kine@exemple.fr", "Kiné X", emis_le=apres, authentifie_le=apres))
        at = nouvelle_session()
        assert at.session_state[CLE_UTILISATEUR].identifiant == "kine@exemple.fr"
        assert etat.remise("kine@exemple.fr") is None
    finally:
        etat.fin_remise("kine@exemple.fr")
