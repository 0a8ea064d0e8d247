"""The dashboard's charts read on a tablet (issue #29): every bar labelled (none hidden, long labels wrapped),
orientations in the card's colours, French month abbreviations. Read from the charts' specifications (AppTest); the
browser suite keeps their screenshots at 1024 and 820 px."""

from __future__ import annotations

import json

from tests import ressources, test_page
from tests.connexion import COORDINATEUR
from tests.test_page import ACTEUR, LOMBALGIE, aller, creer_triage, lancer, repondre_tout
from triage_app.ui.composants import COULEURS_RANG

url_fixture, depot_fixture, msp_fixture = test_page.url_fixture, test_page.depot_fixture, test_page.msp_fixture
fermer_les_depots = ressources.fermer_les_depots


def _graphiques(at) -> list[tuple[dict, list[dict]]]:
    """Each chart's specification and its rows (Streamlit sends the data apart, as Arrow)."""
    import pyarrow as pa

    def lignes(octets: bytes) -> list[dict]:
        return pa.ipc.open_stream(octets).read_all().to_pylist() if octets else []

    sortie = []
    for e in at.get("vega_lite_chart"):
        rangs = lignes(e.proto.data.data) + [r for d in e.proto.datasets for r in lignes(d.data.data)]
        sortie.append((json.loads(e.proto.spec), rangs))
    return sortie


def _valeurs(spec: dict) -> list[dict]:
    lignes = list(spec.get("data", {}).get("values", []))
    for valeurs in spec.get("datasets", {}).values():
        lignes += valeurs
    for couche in spec.get("layer", []):
        lignes += _valeurs(couche)
    return lignes


def test_les_graphiques_du_tableau_de_bord_se_lisent(msp):
    for nom, reponses in (("Urgent", {"rf_troubles_sphincteriens": True}), ("Protocole", {}), ("Autre", {})):
        tid, _ = creer_triage(msp, nom=nom)
        repondre_tout(msp, tid, LOMBALGIE, **reponses)
        msp.triages.finaliser(tid, acteur=ACTEUR)
    at = aller(lancer(utilisateur=COORDINATEUR), "tableau")
    graphiques = _graphiques(at)
    assert graphiques, "aucun graphique"
    spec, rangs = next((s, r) for s, r in graphiques if any(v.get("libelle") == "Urgences" for v in r))
    couleurs = {v["libelle"]: v["couleur"] for v in rangs}
    assert couleurs["Urgences"] == COULEURS_RANG[0]
    assert {c for libelle, c in couleurs.items() if libelle != "Urgences"} <= {"#0b5394", COULEURS_RANG[1]}
    axe = json.dumps(spec)
    assert '"labelOverlap": false' in axe and "split(datum.label" in axe and '"labelLimit": 0' in axe
    _, mois = next((s, r) for s, r in graphiques if any("mois" in v for v in r))
    assert [v["mois"] for v in sorted(mois, key=lambda v: v["rang"])] == [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]

def test_un_libelle_long_passe_a_la_ligne_sans_etre_coupe():
    from triage_app.ui.ecrans.tableau import _LARGEUR_LIBELLE, _barres

    long = "Déficit moteur d’un membre inférieur ou anesthésie en selle d’apparition récente"
    spec = _barres([{"libelle": long, "n": 2}], "triages").to_dict()
    [ligne] = _valeurs(spec)
    morceaux = ligne["libelle"].split("\n")
    assert len(morceaux) > 1 and all(len(m) <= _LARGEUR_LIBELLE for m in morceaux)
    assert " ".join(morceaux) == long  # wrapped, nothing cut
