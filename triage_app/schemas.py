"""JSON Schemas of the data files and of the public case/result, exported from the pydantic models.

The committed copies under ``protocols/schema/`` give editors completion and validation while a
clinician edits YAML; a test fails when they no longer match the models
(``triage-app schemas --ecrire`` refreshes them).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, TypeAdapter

from triage_app.loading.registry import DOSSIER_PROTOCOLES
from triage_app.models.case import Cas
from triage_app.models.interop import Interop
from triage_app.models.mesures import ParametresMesures
from triage_app.models.parameters import Parametre
from triage_app.models.protocol import Commun, FichierSources, Protocole
from triage_app.models.rapport_ars import ParametresRapport
from triage_app.models.result import ADAPTATEUR_RESULTAT

SCHEMAS: dict[str, type[BaseModel] | TypeAdapter] = {  # type: ignore[type-arg]
    "protocole.schema.json": Protocole,
    "parametre.schema.json": Parametre,
    "commun.schema.json": Commun,
    "sources.schema.json": FichierSources,
    "interoperabilite.schema.json": Interop,
    "rapport.schema.json": ParametresRapport,
    "mesures.schema.json": ParametresMesures,
    "cas.schema.json": Cas,
    "resultat.schema.json": ADAPTATEUR_RESULTAT,
}


def textes_schemas() -> dict[str, str]:
    """Each schema file's expected text."""
    def schema(modele: type[BaseModel] | TypeAdapter) -> dict:  # type: ignore[type-arg]
        return modele.json_schema() if isinstance(modele, TypeAdapter) else modele.model_json_schema()

    return {nom: json.dumps(schema(modele), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
            for nom, modele in SCHEMAS.items()}


def ecrire_schemas(dossier: Path | None = None) -> list[Path]:
    """Write the schemas to ``protocols/schema/`` (or ``dossier``); returns the files written."""
    dossier = dossier or DOSSIER_PROTOCOLES / "schema"
    dossier.mkdir(parents=True, exist_ok=True)
    ecrits = []
    for nom, texte in textes_schemas().items():
        chemin = dossier / nom
        chemin.write_text(texte, encoding="utf-8")
        ecrits.append(chemin)
    return ecrits
