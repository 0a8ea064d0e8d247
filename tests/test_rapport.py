"""The structure's indicators (issue #15), computed in SQL, checked against a count made here by another route
(every stored triage, episode and session read back one by one through the ORM), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select

from tests import ressources
from tests.conftest import cas_base
from triage_app.models.rapport_ars import BlocProtocole
from triage_app.services.application import Services
from triage_app.storage.tables import Episode, Seance, Triage

fermer_les_depots = ressources.fermer_les_depots
ACTEUR = "kine.rapport"
DU, AU = date(2026, 1, 1), date(2026, 12, 31)


def remplir_varie(depot: Services, n: int = 36, graine: int = 15) -> None:
    """Both protocols, red flags, ineligible ages, replaced versions, drafts, sessions, outcomes, a DAP, a
    triage outside the period."""
    rng = random.Random(graine)
    m = depot.moteur
    depot.structure.enregistrer_structure(nom="MSP Rapport", type="msp", departement="38",
                                          protocoles_appliques=sorted(m.protocoles), acteur=ACTEUR)
    for i in range(n):
        protocole = sorted(m.protocoles)[i % 2]
        jour = DU + timedelta(days=rng.randrange(360)) if i % 9 else date(2025, 12, 20)
        age = rng.choice([30, 40, 70, 16])
        pid = depot.patients.creer_patient(nom=f"Nom{i}", prenom="Prénom", sexe=rng.choice("MF"), acteur=ACTEUR,
                                           date_naissance=date(jour.year - age, 1, 1))
        eid = depot.episodes.creer_episode(patient_id=pid, protocole=protocole, acteur=ACTEUR,
                                           date_debut=jour - timedelta(days=rng.randrange(0, 20)))
        tid = depot.triages.creer_triage(episode_id=eid, date_consultation=jour, acteur=ACTEUR)
        reponses = dict(cas_base(protocole)["reponses"])
        drapeaux = [q.id for q in m.protocoles[protocole].modele.questions if q.id.startswith("rf_")]
        for q in rng.sample(drapeaux, rng.choice([0, 0, 1, 2])):
            reponses[q] = True
        for q, v in reponses.items():
            depot.triages.enregistrer_reponse(tid, q, v, acteur=ACTEUR)
        if i % 7 == 3:
            continue  # a draft: not counted
        depot.triages.finaliser(tid, acteur=ACTEUR)
        if depot.episodes.etat_episode(eid, jour).statut != "ouvert":  # referred to urgences: the episode closed itself
            continue
        if i % 5 == 1:  # amended: the new version counts, the replaced one does not
            nid = depot.triages.amender(tid, acteur=ACTEUR)
            depot.triages.finaliser(nid, acteur=ACTEUR)
        for k in range(rng.randrange(0, 4)):
            # From the day after next: no NGAP act the day of a protocol consultation or the next (rules v3, §9.6).
            depot.episodes.enregistrer_seance(episode_id=eid, jour=jour + timedelta(days=k + 2), acteur=ACTEUR)
        if i % 4 == 0:
            depot.episodes.renseigner_issue(eid, repris_par=rng.choice(["delegant", "autre_medecin"]),
                                            evenement_indesirable=i % 8 == 0, acteur=ACTEUR)
        if i % 6 == 0:
            depot.documents.document_episode(eid, "dap", jour + timedelta(days=5), acteur=ACTEUR)
        if i % 3 == 2:  # closed by hand, among them the caisse's refusal of a DAP (rules v3, §9.11)
            depot.episodes.cloturer_episode(eid, motif=("guerison", "dap_refusee", "abandon")[i % 9 // 3],
                                            jour=jour + timedelta(days=6), acteur=ACTEUR)


def compter_autrement(depot: Services) -> dict[str, BlocProtocole]:
    """The same indicators, from every row read back in Python."""
    out: dict[str, BlocProtocole] = {}
    with depot.uow.sessions() as s:
        triages = [t for t in s.scalars(select(Triage)) if t.statut == "final" and DU <= t.date_consultation <= AU]
        episodes = {e.id: e for e in s.scalars(select(Episode))}
        remboursees = set(depot.moteur.registre.commun.episode_de_soins.historique.voies_remboursees)
        seances = Counter(se.episode_id for se in s.scalars(select(Seance))
                          if se.acte == "seance" and se.voie in remboursees)
    daps = {e["details"]["episode"] for e in _evenements(depot) if e["type"] == "export_episode"
            and e["details"].get("format") == "dap"}
    suivis: dict[str, set[str]] = {}
    for t in triages:
        ep = episodes[t.episode_id]
        b = out.setdefault(ep.protocole, BlocProtocole())
        b.triages += 1
        voie = t.resultat["facturation"]["voie"]
        b.orientations[t.orientation or ""] = b.orientations.get(t.orientation or "", 0) + 1
        b.par_voie.setdefault(voie, {"triages": 0, "patients": 0})["triages"] += 1
        for mo in t.resultat["motifs"]:
            if mo.get("niveau"):
                b.drapeaux[mo["id"]] = b.drapeaux.get(mo["id"], 0) + 1
        for c in t.resultat["criteres_non_remplis"]:
            b.non_eligibilite[c["id"]] = b.non_eligibilite.get(c["id"], 0) + 1
        delai = (t.date_consultation - ep.date_debut).days
        b.delai_jours[delai] = b.delai_jours.get(delai, 0) + 1
        cle = f"{t.date_consultation:%Y-%m}"
        b.mois[cle] = b.mois.get(cle, 0) + 1
        suivis.setdefault(ep.protocole, set()).add(ep.id)
    for protocole, ids in suivis.items():
        b = out[protocole]
        b.episodes = len(ids)
        b.patients = len({episodes[e].patient_id for e in ids})
        for e in ids:
            b.seances_par_episode[seances[e]] = b.seances_par_episode.get(seances[e], 0) + 1
            ep = episodes[e]
            if ep.repris_par:
                b.repris_par[ep.repris_par] = b.repris_par.get(ep.repris_par, 0) + 1
            b.evenements_indesirables += bool(ep.evenement_indesirable)
            b.dap += e in daps
            if ep.motif_cloture:
                b.clotures[ep.motif_cloture] = b.clotures.get(ep.motif_cloture, 0) + 1
    return out


def _evenements(depot: Services) -> list[dict]:
    from triage_app.storage.tables import EvenementAudit

    with depot.uow.sessions() as s:
        return [{"type": e.type, "details": e.details} for e in s.scalars(select(EvenementAudit))]


def test_les_indicateurs_sql_egalent_le_compte_ligne_a_ligne(url_base):
    with Services(url_base) as depot:
        remplir_varie(depot)
        calcules = depot.rapport.indicateurs(DU, AU, acteur="coord").protocoles
        attendus = compter_autrement(depot)
        assert set(calcules) == set(attendus) == {"lombalgie_aigue", "entorse_cheville"}
        for protocole, a in attendus.items():
            c = calcules[protocole]
            for champ in ("triages", "episodes", "patients", "orientations", "drapeaux", "non_eligibilite",
                          "delai_jours", "mois", "seances_par_episode", "repris_par", "evenements_indesirables",
                          "dap", "clotures"):
                assert getattr(c, champ) == getattr(a, champ), (protocole, champ)
            assert {v: d["triages"] for v, d in c.par_voie.items()} == {v: d["triages"] for v, d in a.par_voie.items()}
            assert sum(c.versions.values()) == c.triages
        total = sum(b.triages for b in calcules.values())
        assert 0 < total < 36  # drafts and the triages of 2025 are left out
        assert any(b.drapeaux for b in calcules.values()) and any(b.non_eligibilite for b in calcules.values())
        assert depot.audit.verifier_audit().intact


def test_mediane_d_une_distribution():
    assert BlocProtocole.mediane({}) is None
    assert BlocProtocole.mediane({3: 1}) == 3
    assert BlocProtocole.mediane({1: 1, 2: 1}) == 1.5
    assert BlocProtocole.mediane({0: 2, 5: 1, 9: 1}) == 2.5
    assert BlocProtocole.mediane({0: 3, 5: 1}) == 0


def test_rapport_ars_anonymise_dans_chaque_format(tmp_path, capsys):
    """`triage-app rapport`: one PDF page per protocol, CSV and XLSX; no name, no birth date anywhere; every
    count from 1 to 4 shown as « < 5 », with no share."""
    import csv
    import io
    import re
    import zipfile

    from pypdf import PdfReader

    from triage_app.cli import main

    url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    with Services(url) as depot:
        remplir_varie(depot)
        with depot.uow.sessions() as s:
            from triage_app.storage.tables import Patient

            patients = [(p.nom, p.prenom, p.date_naissance) for p in s.scalars(select(Patient))]
        n_protocoles = len(depot.moteur.protocoles)
    sorties = {}
    for format_ in ("pdf", "csv", "xlsx"):
        fichier = tmp_path / f"rapport.{format_}"
        assert main(["rapport", "--annee", "2026", "--format", format_, "--base", url, "--output", str(fichier)]) == 0
        sorties[format_] = fichier.read_bytes()
    lecteur = PdfReader(io.BytesIO(sorties["pdf"]))
    assert len(lecteur.pages) == n_protocoles
    textes = {"pdf": " ".join(p.extract_text() for p in lecteur.pages), "csv": sorties["csv"].decode("utf-8-sig"),
              "xlsx": " ".join(zipfile.ZipFile(io.BytesIO(sorties["xlsx"])).read(n).decode("utf-8", "replace")
                               for n in zipfile.ZipFile(io.BytesIO(sorties["xlsx"])).namelist())}
    for format_, texte in textes.items():
        for nom, _, naissance in patients:
            assert not re.search(rf"\b{nom}\b", texte), (format_, nom)
            for forme in (naissance.isoformat(), naissance.strftime("%d/%m/%Y")):
                assert forme not in texte, (format_, forme)
    lignes = list(csv.DictReader(io.StringIO(textes["csv"]), delimiter=";"))
    assert {li["Protocole"] for li in lignes} == {"Lombalgie aiguë commune", "Traumatisme en torsion de la cheville"}
    for li in [li for li in lignes if li["Libellé"] != "Médiane"]:  # a median is not a count
        for valeur in (li["Valeur"], li["Part"]):
            for nombre in re.findall(r"(?<![\d,])(\d+)(?![\d,%-])(?! ?%)", valeur):
                assert int(nombre) == 0 or int(nombre) >= 5, li
        if "< 5" in li["Valeur"] and "triage" not in li["Valeur"]:
            assert li["Part"] == "", li
    assert any("< 5" in li["Valeur"] for li in lignes)
    assert main(["rapport", "--annee", "2026", "--du", "2026-05-01", "--au", "2026-04-01", "--base", url]) == 2
    assert "précède" in capsys.readouterr().err


def test_tableau_de_bord_coordinateur_et_medecin_en_lecture(tmp_path, monkeypatch):
    from tests.connexion import COORDINATEUR, KINE, MEDECIN
    from tests.test_page import aller, executer, lancer

    url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    monkeypatch.setenv("TRIAGE_DATABASE_URL", url)
    with Services(url) as depot:
        remplir_varie(depot)
        attendu = depot.rapport.indicateurs(DU, AU, acteur="test").protocoles
    at = lancer(utilisateur=COORDINATEUR)
    at = aller(at, "tableau")
    executer(at.segmented_control(key="tableau_annee").set_value(2026))
    assert at.markdown[0].value == "### Tableau de bord" and not at.exception
    # Each protocol's tab shows its count as the query gives it.
    assert str(attendu["entorse_cheville"].triages) in [m.value for m in at.metric if m.label == "Triages finalisés"]
    assert str(attendu["lombalgie_aigue"].triages) in [m.value for m in at.metric if m.label == "Triages finalisés"]
    assert len(at.get("vega_lite_chart")) >= 6
    from tests.test_page import fichiers

    assert set(fichiers(at)) >= {"rapport_pdf", "rapport_xlsx", "rapport_csv"}
    medecin = aller(lancer(utilisateur=MEDECIN), "tableau")
    assert not medecin.exception and not fichiers(medecin)
    kine = lancer(utilisateur=KINE)
    assert not [p for p in kine._registered_pages.values() if p.get("url_pathname") == "tableau"]


def _page(m, bloc: BlocProtocole) -> dict[str, list]:
    from triage_app.export.rapport import pages
    from triage_app.models.rapport_ars import Indicateurs

    pid = next(iter(m.protocoles))
    page = next(p for p in pages(Indicateurs(date(2026, 1, 1), date(2026, 12, 31), {pid: bloc}), m)
                if p.protocole == pid)
    return {s.titre: s.lignes for s in page.sections}


def test_le_seuil_et_les_classes_du_rapport_viennent_de_protocols(tmp_path):
    """The masking threshold and the classes are data (``protocols/rapport.yaml``): changing the file changes the
    report, and every value of a distribution is counted in exactly one class."""
    import shutil

    from triage_app.engine.evaluation import moteur
    from triage_app.loading.registry import DOSSIER_PROTOCOLES

    bloc = BlocProtocole(triages=7, patients=4, episodes=7, seances_par_episode={0: 1, 2: 2, 5: 4},
                         delai_jours={1: 3, 9: 2, 40: 2})
    reel = _page(moteur(), bloc)
    assert [li.valeur for li in reel["Activité"]] == ["7", "< 5", "7"]
    assert [(li.libelle, li.valeur) for li in reel["Séances par épisode"]][1:] == [
        ("0 séance(s)", "< 5"), ("1 à 3 séance(s)", "< 5"), ("4 à 6 séance(s)", "< 5"), ("7 à 10 séance(s)", "0"),
        ("11 séance(s) et plus", "0")]

    copie = tmp_path / "protocols"
    shutil.copytree(DOSSIER_PROTOCOLES, copie)
    fichier = copie / "rapport.yaml"
    texte = fichier.read_text(encoding="utf-8")
    for ancien, nouveau in (("  seuil: 5\n", "  seuil: 3\n"),
                            ("[[0, 2], [3, 7], [8, 14], [15, 28], [29, null]]", "[[0, 1], [2, 30], [31, null]]")):
        assert texte.count(ancien) == 1
        texte = texte.replace(ancien, nouveau)
    fichier.write_text(texte, encoding="utf-8")
    change = _page(moteur(copie), bloc)
    assert [li.valeur for li in change["Activité"]] == ["7", "4", "7"]
    assert [li.part for li in change["Séances par épisode"][1:4]] == ["", "", "57 %"]  # 1 and 2 are below 3
    assert [(li.libelle, li.valeur) for li in change["Délai entre le début des symptômes et le triage"]][1:] == [
        ("0 à 1 jour(s)", "3"), ("2 à 30 jour(s)", "< 3"), ("31 jour(s) et plus", "< 3")]


def test_masque_des_petits_effectifs():
    from triage_app.export.rapport import Masque

    masque = Masque(5)
    assert [masque.compte(n) for n in (0, 1, 4, 5, 12)] == ["0", "< 5", "< 5", "5", "12"]
    assert masque.ligne("x", 4, 10).part == "" and masque.ligne("x", 5, 10).part == "50 %"
    assert masque.regle == "effectifs de 1 à 4 affichés « < 5 »"
