"""The patient's questionnaire on the page (issue #30, AppTest): the kiné opens it from the episode, the patient
answers pain and EIFEL one tap per item with nothing else on screen, the page locks at the end until the kiné's
password, and the episode then shows the scores « déclaré par le patient »."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest  # noqa: TID251  (the page's own test harness)

from tests import ressources, test_page
from tests.connexion import KINE
from tests.test_page import boutons, executer, lancer, ouvrir_volet
from tests.test_page_episode import triage_final
from triage_app.ui import etat

fermer_les_depots = ressources.fermer_les_depots
url_fixture, depot_fixture, msp_fixture = test_page.url_fixture, test_page.depot_fixture, test_page.msp_fixture
OUI_EIFEL = 14
STARTBACK = [1, 0, 1, 1, 0, 1, 0, 0, 3]  # sbt_1…sbt_8 (1 = « D'accord »), sbt_9 (3 = « Beaucoup »)
MDP_KINE = "un mot de passe assez long"


def _ouvrir_questionnaire(msp, moment: str = "bilan") -> tuple[AppTest, str]:
    msp.comptes.creer_utilisateur(identifiant=KINE.identifiant, nom=KINE.nom, role="kine", mot_de_passe=MDP_KINE,
                                  acteur="test")
    tid, eid = triage_final(msp, il_y_a=3)
    at = lancer(tid)
    ouvrir_volet(at, f"volet_mesures_{eid}")
    assert any("pas encore mesuré" in c.value for c in at.caption)
    at.segmented_control(key=f"moment_mesure_{eid}").set_value(moment)
    executer(at.button(key=f"questionnaire_{eid}").click())
    return at, eid


def _startback(at: AppTest, debut: int) -> None:
    for i, valeur in enumerate(STARTBACK):
        _seul_le_questionnaire(at)
        executer(at.button(key=f"questionnaire_{debut + i}_{valeur}").click())


def _seul_le_questionnaire(at: AppTest) -> None:
    """Nothing of the app: no menu page, no triage, no other patient; only the questionnaire's own buttons."""
    assert at.markdown[0].value in ("### Questionnaire", "### Merci")
    assert all(b.startswith(("questionnaire_", "reprendre_tablette")) for b in boutons(at)), boutons(at)
    assert not at.text_input or [t.key for t in at.text_input] == ["reprise_mdp"]


def test_le_patient_repond_par_taps_puis_la_tablette_revient_au_kine(msp):
    at, eid = _ouvrir_questionnaire(msp)
    _seul_le_questionnaire(at)
    assert etat.remise(KINE.identifiant) is not None  # a tablet out: the provider's cookie alone reopens nothing
    assert "Question 1 sur 34" in at.get("progress")[0].proto.text  # pain 1, EIFEL 24, STarT Back 9
    taps = 0
    executer(at.button(key="questionnaire_0_6").click())  # pain 6/10
    taps += 1
    for i in range(1, 25):
        _seul_le_questionnaire(at)
        assert f"phrase n° {i} sur 24" in at.markdown[-1].value or any(
            f"phrase n° {i} sur 24" in m.value for m in at.markdown)
        executer(at.button(key=f"questionnaire_{i}_{1 if i <= OUI_EIFEL else 0}").click())
        taps += 1
    assert taps == 25  # EIFEL in 24 taps (target ≤ 30), the pain score in one
    _startback(at, 25)
    _seul_le_questionnaire(at)
    assert at.markdown[0].value == "### Merci"
    assert any("Rendez la tablette au kinésithérapeute" in s.value for s in at.success)
    faites = {m.mesure: m for m in msp.mesures.mesures_episode(eid)}
    assert (faites["douleur_en"].score, faites["eifel"].score) == (6.0, float(OUI_EIFEL))
    assert {m.declare_par for m in faites.values()} == {"patient"}
    # A wrong password keeps the tablet locked; the kiné's own password gives the app back, on the triage.
    at.text_input(key="reprise_mdp").input("pas le bon")
    executer(at.button(key="reprendre_tablette").click())
    assert any("Reprise refusée" in e.value for e in at.error)
    _seul_le_questionnaire(at)
    at.text_input(key="reprise_mdp").input(MDP_KINE)
    executer(at.button(key="reprendre_tablette").click())
    assert "questionnaire_patient" not in at.session_state and etat.remise(KINE.identifiant) is None
    ouvrir_volet(at, f"volet_mesures_{eid}")
    textes = " ".join(m.value for m in at.markdown)
    assert "14 (bilan initial" in textes and "déclaré par le patient" in textes


def test_rendre_la_tablette_en_cours_garde_les_reponses_et_verrouille(msp):
    at, eid = _ouvrir_questionnaire(msp)
    executer(at.button(key="questionnaire_0_3").click())
    executer(at.button(key="questionnaire_1_1").click())
    executer(at.button(key="questionnaire_precedent").click())  # back one item, within the questionnaire only
    assert any("phrase n° 1 sur 24" in m.value for m in at.markdown)
    executer(at.button(key="questionnaire_rendre").click())
    assert at.markdown[0].value == "### Merci"
    _seul_le_questionnaire(at)
    faites = {m.mesure: m for m in msp.mesures.mesures_episode(eid)}
    assert faites["douleur_en"].score == 3.0
    assert faites["eifel"].reponses == {"eifel_1": 1} and faites["eifel"].score is None  # partial: no score stated


def test_le_triage_montre_ce_que_le_patient_a_declare_a_confirmer(msp):
    """From a draft (intake): the questionnaire, then the kiné's walk shows the pain score and the STarT Back answers
    « déclaré par le patient »; nothing enters the triage until the kiné takes them, and no red flag is ever
    answered from the patient's questionnaire."""
    msp.comptes.creer_utilisateur(identifiant=KINE.identifiant, nom=KINE.nom, role="kine", mot_de_passe=MDP_KINE,
                                  acteur="test")
    tid, _ = test_page.creer_triage(msp)
    at = lancer(tid)
    executer(at.button(key=f"questionnaire_triage_{tid}").click())
    _seul_le_questionnaire(at)
    executer(at.button(key="questionnaire_0_6").click())
    for i in range(1, 25):
        executer(at.button(key=f"questionnaire_{i}_0").click())
    _startback(at, 25)
    assert at.markdown[0].value == "### Merci"
    at.text_input(key="reprise_mdp").input(MDP_KINE)
    executer(at.button(key="reprendre_tablette").click())
    assert at.query_params["triage"] in (tid, [tid])  # back on the triage it was opened from
    assert any("Déclaré par le patient" in i.value and "douleur 6/10" in i.value for i in at.info)
    avant = msp.triages.charger(tid).cas["reponses"]
    assert not any(q.startswith("sbt_") for q in avant)  # declared, not answered
    executer(at.button(key="ouvrir_startback").click())
    assert any(c.value == "Déclaré par le patient : D'accord" for c in at.caption)
    assert any(c.value == "Déclaré par le patient : Beaucoup" for c in at.caption)
    executer(at.button(key=f"reprendre_patient_{tid}").click())
    reponses = msp.triages.charger(tid).cas["reponses"]
    assert {q: reponses[q] for q in reponses if q.startswith("sbt_")} == {
        **{f"sbt_{i + 1}": bool(v) for i, v in enumerate(STARTBACK[:8])}, "sbt_9": "beaucoup"}
    assert set(reponses) - set(avant) == {f"sbt_{i}" for i in range(1, 10)}  # nothing else, no red flag
    assert at.segmented_control(key="q_sbt_1").value == "oui"


def test_la_reevaluation_propose_l_evolution_lue_dans_les_mesures(msp):
    """EIFEL 14 at the bilan, 9 since: the re-assessment's walk suggests « amélioration », taken in one tap (never
    set without it)."""
    from datetime import timedelta

    from tests.test_page import AUJOURD_HUI

    tid, eid = triage_final(msp, il_y_a=15)
    debut = AUJOURD_HUI - timedelta(days=15)
    for jour, oui in ((debut, 14), (AUJOURD_HUI, 9)):
        msp.mesures.enregistrer(episode_id=eid, mesure="eifel", moment="bilan" if oui == 14 else "seance", jour=jour,
                                reponses={f"eifel_{i}": int(i <= oui) for i in range(1, 25)}, declare_par="patient",
                                acteur="test")
    at = lancer(tid)  # the re-assessment is due: its walk is open
    assert any("Suggérée par les mesures du patient : **Amélioration**" in c.value for c in at.caption)
    assert at.segmented_control(key=f"evolution_{eid}").value is None  # suggested, not chosen
    executer(at.button(key=f"evolution_suggeree_{eid}").click())
    assert at.segmented_control(key=f"evolution_{eid}").value == "amelioration"


def test_un_questionnaire_interrompu_reprend_a_la_premiere_question_sans_reponse(msp):
    """The tablet taken back (or a reload) midway: reopened the same day for the same moment, the questionnaire
    resumes where it stopped, with the same measures (nothing asked twice, no second partial questionnaire)."""
    at, eid = _ouvrir_questionnaire(msp)
    executer(at.button(key="questionnaire_0_4").click())
    executer(at.button(key="questionnaire_1_1").click())
    executer(at.button(key="questionnaire_rendre").click())
    at.text_input(key="reprise_mdp").input(MDP_KINE)
    executer(at.button(key="reprendre_tablette").click())
    ouvrir_volet(at, f"volet_mesures_{eid}")
    at.segmented_control(key=f"moment_mesure_{eid}").set_value("bilan")
    executer(at.button(key=f"questionnaire_{eid}").click())
    assert "Question 3 sur 34" in at.get("progress")[0].proto.text
    executer(at.button(key="questionnaire_2_0").click())
    faites = msp.mesures.mesures_episode(eid)
    assert sorted(m.mesure for m in faites) == ["douleur_en", "eifel"]
    assert next(m for m in faites if m.mesure == "eifel").reponses == {"eifel_1": 1, "eifel_2": 0}


def test_ce_que_le_patient_declare_ailleurs_parait_a_la_visite_suivante(msp):
    """Declarations are read once per visit of the triage (not at each answer); a declaration made meanwhile (the
    patient on another tablet) shows when the kiné opens the triage again from the list."""
    from tests.test_page import aller

    tid, eid = test_page.creer_triage(msp)
    at = lancer(tid)
    assert not any("Déclaré par le patient" in i.value for i in at.info)
    msp.mesures.enregistrer(episode_id=eid, mesure="douleur_en", moment="bilan",
                            jour=test_page.AUJOURD_HUI, reponses={"douleur": 7}, declare_par="patient", acteur="test")
    executer(at)  # a rerun of the same visit: the walk keeps what it read
    assert not any("Déclaré par le patient" in i.value for i in at.info)
    aller(at, "triages")
    executer(at.button(key=f"ligne_{tid}").click())
    assert any("Déclaré par le patient" in i.value and "douleur 7/10" in i.value for i in at.info)
