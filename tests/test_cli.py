"""The command line: same evaluation, JSON on stdout, French errors on stderr, exit 2 when invalid."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from tests.conftest import cas_base
from triage_app.cli import main


def _ecrire(tmp_path, cas, nom="cas.json"):
    f = tmp_path / nom
    f.write_text(json.dumps(cas), encoding="utf-8")
    return str(f)


def test_evaluate_fichier(tmp_path, capsys):
    assert main(["evaluate", _ecrire(tmp_path, cas_base())]) == 0
    sortie = capsys.readouterr()
    r = json.loads(sortie.out)
    assert r["orientation"] == "protocole" and r["statut"] == "complet"
    assert r["empreinte_regles"].startswith("sha256:") and r["version_protocole"]
    assert sortie.err == ""


def test_evaluate_yaml(tmp_path, capsys):
    f = tmp_path / "cas.yaml"
    cas = cas_base("entorse_cheville")
    import yaml
    f.write_text(yaml.safe_dump(cas, allow_unicode=True), encoding="utf-8")
    assert main(["evaluate", str(f)]) == 0
    assert json.loads(capsys.readouterr().out)["orientation"] == "protocole"


@pytest.mark.parametrize(("modif", "chemin", "mot"), [
    ({"reponses__rf_fievr": False}, "reponses.rf_fievr", "inconnue"),
    ({"date_consultation": "2026-13-01"}, "date_consultation", "AAAA-MM-JJ"),
    ({"cadre__structure": "clinique"}, "cadre.structure", "valeurs permises"),
    ({"episode__date_debut": "2026-04-01"}, "episode.date_debut", "postérieure"),
    ({"reponses__sbt_9": "souvent"}, "reponses.sbt_9", "valeurs permises"),
    ({"reponses__rf_fievre": "non"}, "reponses.rf_fievre", "oui/non attendue"),
    ({"patient__date_naissance": "2027-01-01"}, "patient.date_naissance", "postérieure"),
    ({"episode__seances_realisees_episode": -1}, "episode.seances_realisees_episode", "trop petite"),
])
def test_cas_invalide_sort_en_2_avec_un_message_francais(tmp_path, capsys, modif, chemin, mot):
    assert main(["evaluate", _ecrire(tmp_path, cas_base(**modif))]) == 2
    sortie = capsys.readouterr()
    assert sortie.out == ""
    assert chemin in sortie.err and mot in sortie.err
    assert "Input should" not in sortie.err and "Field required" not in sortie.err


def test_champ_obligatoire_manquant(tmp_path, capsys):
    cas = cas_base()
    del cas["cadre"]["structure"]
    assert main(["evaluate", _ecrire(tmp_path, cas)]) == 2
    assert "cadre.structure : champ obligatoire manquant" in capsys.readouterr().err


def test_json_illisible(tmp_path, capsys):
    f = tmp_path / "cas.json"
    f.write_text("{ pas du json", encoding="utf-8")
    assert main(["evaluate", str(f)]) == 2
    sortie = capsys.readouterr()
    assert sortie.out == "" and "illisible" in sortie.err


def test_evaluate_stdin_en_sous_processus():
    sortie = subprocess.run([sys.executable, "-m", "triage_app.cli", "evaluate", "-"],
                            input=json.dumps(cas_base(cadre__structure="cabinet")), capture_output=True,
                            text=True, check=False)
    assert sortie.returncode == 0, sortie.stderr
    assert json.loads(sortie.stdout)["orientation"] == "medecin_programme"


def test_jsonl_continue_apres_une_ligne_invalide(monkeypatch, capsys):
    """One output line per input line, a blank one included (an error); every output carries its line number."""
    lignes = [json.dumps(cas_base()), "{pas du json", json.dumps(cas_base(reponses__rf_x=True)), "",
              json.dumps(cas_base("entorse_cheville"))]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(("\n".join(lignes) + "\n").encode())))
    assert main(["evaluate", "--jsonl", "-", "--processus", "1"]) == 2
    sortie = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [s["ligne"] for s in sortie] == [1, 2, 3, 4, 5]
    assert sortie[0]["orientation"] == "protocole"
    assert "JSON illisible" in sortie[1]["erreur"] and "nom de champ entre guillemets" in sortie[1]["erreur"]
    assert "reponses.rf_x" in sortie[2]["erreur"]
    assert sortie[3]["erreur"].startswith("ligne vide")
    assert sortie[4]["protocole"] == "entorse_cheville"


DOUBLON = '{"protocole": "lombalgie_aigue", "reponses": {"rf_troubles_sphincteriens": true, ' \
          '"rf_troubles_sphincteriens": false}}'


def test_une_cle_en_double_est_refusee_fichier_entree_et_jsonl(tmp_path, monkeypatch, capsys):
    """The YAML reader refuses a key given twice; so does every JSON reader (the last one would win)."""
    cas = cas_base()
    cas["reponses"]["rf_troubles_sphincteriens"] = True
    texte = json.dumps(cas).replace('"rf_troubles_sphincteriens": true',
                                    '"rf_troubles_sphincteriens": true, "rf_troubles_sphincteriens": false')
    assert texte.count("rf_troubles_sphincteriens") == 2
    f = tmp_path / "cas.json"
    f.write_text(texte, encoding="utf-8")
    assert main(["evaluate", str(f)]) == 2
    assert "« rf_troubles_sphincteriens » apparaît deux fois" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(texte.encode())))
    assert main(["evaluate", "-"]) == 2
    assert "deux fois" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((texte + "\n" + json.dumps(cas) + "\n").encode())))
    assert main(["evaluate", "--jsonl", "-", "--processus", "1"]) == 2
    premiere, seconde = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert premiere["ligne"] == 1 and "deux fois" in premiere["erreur"]
    assert seconde["ligne"] == 2 and seconde["orientation"] == "urgences"


def test_jsonl_en_parallele_garde_l_ordre_et_les_memes_resultats(tmp_path):
    protocoles, structures = ("lombalgie_aigue", "entorse_cheville"), ("msp", "esp", "cabinet")
    cas = [cas_base(protocoles[i % 2], episode__seances_realisees_episode=i % 9, cadre__structure=structures[i % 3])
           for i in range(600)]
    cas[400]["reponses"]["rf_inconnu"] = True
    f = tmp_path / "lot.jsonl"
    f.write_text("\n".join(json.dumps(c) for c in cas) + "\n", encoding="utf-8")
    sorties = {}
    for n in ("1", "2"):
        commande = [sys.executable, "-m", "triage_app.cli", "evaluate", "--jsonl", str(f), "--processus", n]
        r = subprocess.run(commande, capture_output=True, text=True, check=False)
        assert r.returncode == 2
        sorties[n] = r.stdout.splitlines()
    assert sorties["1"] == sorties["2"]
    assert len(sorties["2"]) == 600
    assert json.loads(sorties["2"][400])["ligne"] == 401
    assert [json.loads(x).get("protocole") for x in sorties["2"][:2]] == ["lombalgie_aigue", "entorse_cheville"]


def test_jsonl_un_seul_processus_par_defaut_sous_le_seuil(tmp_path, monkeypatch, capsys):
    """``--processus`` defaults to ``auto``: one process below SEUIL_PROCESSUS cases (and for standard input), one per
    core above; ``--processus N`` and ``auto`` are still accepted, and the output is the same whatever the count."""
    import triage_app.engine.lot as lot

    f = tmp_path / "lot.jsonl"
    f.write_text("\n".join(json.dumps(cas_base(p)) for p in ("lombalgie_aigue", "entorse_cheville") * 3) + "\n",
                 encoding="utf-8")
    vus = []
    evaluer_lot = lot.evaluer_lot

    def espion(lignes, processus=None, *args, **kwargs):
        vus.append(processus)
        return evaluer_lot(lignes, processus, *args, **kwargs)

    monkeypatch.setattr(lot, "evaluer_lot", espion)
    sorties = []
    for options in ([], ["--processus", "auto"], ["--processus", "2"], ["--processus", "0"]):
        assert main(["evaluate", "--jsonl", str(f), *options]) == 0
        sorties.append(capsys.readouterr().out)
    assert vus == [1, 1, 2, 1]
    assert len(set(sorties)) == 1 and len(sorties[0].splitlines()) == 6
    monkeypatch.setattr(lot, "SEUIL_PROCESSUS", 6)
    assert main(["evaluate", "--jsonl", str(f)]) == 0
    assert vus[-1] == lot.processus_par_defaut(6) and capsys.readouterr().out == sorties[0]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f.read_bytes())))
    assert main(["evaluate", "--jsonl", "-"]) == 0
    assert vus[-1] == 1 and capsys.readouterr().out == sorties[0]
    with pytest.raises(SystemExit):
        main(["evaluate", "--jsonl", str(f), "--processus", "beaucoup"])
    assert "nombre de processus invalide « beaucoup »" in capsys.readouterr().err


def test_nombre_de_lignes_compte_une_derniere_ligne_sans_retour(tmp_path):
    from triage_app.cli.regles import _nombre_de_lignes

    for texte, n in ((b"", 0), (b"a", 1), (b"a\n", 1), (b"a\nb", 2), (b"\n\n", 2), (b"a\n" * 300_000, 300_000)):
        (tmp_path / "f").write_bytes(texte)
        assert _nombre_de_lignes(str(tmp_path / "f")) == n


def test_jsonl_erreur_d_ecriture_message_francais(tmp_path, capsys):
    """A write that fails (disk full, closed pipe) ends the batch with the French message and code 2, as before the
    results were written by blocks."""
    from triage_app.cli.regles import _evaluer_lot

    class Pleine(io.BytesIO):
        def write(self, octets):
            raise OSError(28, "No space left on device")

    f = tmp_path / "lot.jsonl"
    f.write_text("\n".join(json.dumps(cas_base()) for _ in range(200)) + "\n", encoding="utf-8")
    assert _evaluer_lot(str(f), Pleine()) == 2
    assert "illisible : OSError" in capsys.readouterr().err


def test_evaluate_n_importe_ni_la_base_ni_la_page_ni_les_exports(tmp_path):
    """``evaluate --jsonl`` starts light: no database layer, no page, no exports, no worker machinery."""
    f = _ecrire(tmp_path, cas_base(), "lot.jsonl")
    code = ("import sys; from triage_app.cli import main; main(['evaluate', '--jsonl', sys.argv[1]]); "
            "sys.stderr.write(' '.join(sorted(sys.modules)))")
    r = subprocess.run([sys.executable, "-c", code, f], capture_output=True, text=True, check=True)
    modules = set(r.stderr.split())
    assert json.loads(r.stdout)["orientation"] == "protocole"
    interdits = {"sqlalchemy", "alembic", "streamlit", "typst", "fhir", "lxml", "argon2", "psycopg", "segno",
                 "xlsxwriter", "multiprocessing", "triage_app.storage", "triage_app.ui", "triage_app.export"}
    assert not {m for m in modules if m.split(".")[0] in interdits or any(m.startswith(i + ".") or m == i
                                                                          for i in interdits)}


def test_protocols(capsys):
    assert main(["protocols"]) == 0
    texte = capsys.readouterr().out
    assert "lombalgie_aigue" in texte and "entorse_cheville" in texte and "2020-03-08+r3" in texte
    assert main(["protocols", "--json"]) == 0
    donnees = json.loads(capsys.readouterr().out)
    assert {p["id"] for p in donnees} == {"lombalgie_aigue", "entorse_cheville"}
    assert all(s["verification"] for p in donnees for s in p["sources"])


def test_diagram(capsys):
    assert main(["diagram", "lombalgie_aigue"]) == 0
    assert "stateDiagram-v2" in capsys.readouterr().out
    assert main(["diagram", "genou"]) == 2
    assert "inconnu" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "port"), [([], "8501"), (["serve", "--port", "8765"], "8765")])
def test_sans_argument_sert_la_page(argv, port, monkeypatch, tmp_path, capsys):
    """« triage-app » alone serves the page on 8501 (README's first command), after migrating the database."""
    lance: list[list[str]] = []
    monkeypatch.setenv("TRIAGE_DATABASE_URL", f"sqlite:///{tmp_path}/triage.sqlite")
    monkeypatch.setattr("os.execv", lambda chemin, args: lance.append(list(args)))
    assert main(argv) == 0
    (commande,) = lance
    assert commande[1:4] == ["-m", "triage_app.ui.serveur", "run"] and commande[4].endswith("app.py")
    # The page's settings come from the project's file (any working directory), with the hardening on top.
    assert commande[commande.index("--theme.primaryColor") + 1] == "#0b5394"
    assert commande[commande.index("--client.showErrorDetails") + 1] == "none"
    assert commande[commande.index("--runner.magicEnabled") + 1] == "false"
    assert commande[commande.index("--server.port") + 1] == port
    assert (tmp_path / "triage.sqlite").is_file()
    assert f"localhost:{port}" in capsys.readouterr().out


def test_l_aide_liste_les_commandes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    sortie = capsys.readouterr().out
    assert all(c in sortie for c in ("evaluate", "serve", "audit", "reevaluate", "patient"))


def test_schemas_a_jour(capsys):
    assert main(["schemas"]) == 0
