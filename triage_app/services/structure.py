"""The structure: described once (type, département, protocols applied, identifiers that name it in documents)."""

from __future__ import annotations

from typing import Any

from triage_app import identifiants as idf
from triage_app.errors import ErreurSaisie, Probleme
from triage_app.models.identites import IdentiteStructure
from triage_app.models.interop import Interop
from triage_app.services import saisie
from triage_app.services.base import Service
from triage_app.services.unite import ErreurStockage
from triage_app.storage.tables import Structure


def vue_structure(st: Structure) -> IdentiteStructure:
    """The structure as its documents name it."""
    return IdentiteStructure(nom=st.nom, finess=st.finess, siret=st.siret, adresse=st.adresse, mssante=st.mssante,
                             telephone=st.telephone)


def lire_identifiants(problemes: list[Probleme], interop: Interop, *, finess: str | None, siret: str | None,
                      mssante: str | None, telephone: str | None) -> dict[str, Any]:
    """The structure's identifiers, checked."""
    return {"finess": saisie.champ_lu(problemes, "finess", finess, idf.finess),
            "siret": saisie.champ_lu(problemes, "siret", siret, idf.siret),
            "mssante": saisie.champ_lu(problemes, "mssante", mssante,
                                       lambda v: idf.mssante(v, interop.domaine_mssante)),
            "telephone": saisie.champ_lu(problemes, "telephone", telephone, idf.telephone)}


class ServiceStructure(Service):
    """The structure's description."""

    _decrite = False  # once described, a structure stays described (its description is replaced, never removed)

    def decrite(self) -> bool:
        """Whether the structure is described (read once it is: the start form asks on every run)."""
        if not self._decrite:
            self._decrite = self.structure() is not None
        return self._decrite

    def structure(self) -> Structure | None:
        """The structure's settings, if described."""
        with self.uow.lecture() as s:
            return s.get(Structure, 1)

    def enregistrer_structure(self, *, nom: str, type: str, departement: str | None,
                              protocoles_appliques: list[str], inscrit_experimentation_cpts: bool = False,
                              finess: str | None = None, siret: str | None = None, adresse: str | None = None,
                              mssante: str | None = None, telephone: str | None = None, acteur: str) -> None:
        """Describe the structure once (replaces the previous description); FINESS or SIRET, address, MSSanté
        address and phone name it in the documents (checked as typed)."""
        nom = saisie.texte("nom", nom, 200)
        inconnus = [p for p in protocoles_appliques if p not in self.moteur.protocoles]
        if inconnus:
            raise ErreurStockage(f"protocole(s) inconnu(s) : {', '.join(inconnus)}")
        problemes: list[Probleme] = []
        ids = lire_identifiants(problemes, self.interop, finess=finess, siret=siret, mssante=mssante,
                                telephone=telephone)
        adresse_lue = saisie.texte("adresse", adresse, 400, vide=True, lignes=True).strip() or None if adresse else None
        if problemes:
            raise ErreurSaisie(problemes)
        with self.uow.ecriture() as (s, chaine):
            st = s.get(Structure, 1) or Structure(id=1)
            for champ, valeur in (ids | {"adresse": adresse_lue}).items():
                setattr(st, champ, valeur)
            st.nom, st.type, st.departement = nom, type, (departement or None)
            st.protocoles_appliques = sorted(protocoles_appliques)
            st.inscrit_experimentation_cpts = inscrit_experimentation_cpts
            st.modifie_le = self.horloge()
            s.add(st)
            chaine.ajouter("structure", acteur)
