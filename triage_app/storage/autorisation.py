"""The storage service as one logged-in user sees it: every call checked against the user's role.

The page only ever holds a :class:`ServiceAutorise`, never the raw :class:`Depot`: hiding a button is a
convenience, this is the rule. The acting user is filled in as ``acteur`` (the audit log's author), and a
refused call is itself recorded (``refus``) before :class:`ErreurDroits` is raised.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from typing import Any

from triage_app.comptes import ErreurDroits, Utilisateur, exiger
from triage_app.storage.service import Depot

# Depot method → permission it needs. A method absent from this table cannot be called through the service.
ACTIONS: dict[str, str] = {
    # reading
    "structure": "structure.lire",
    "lister": "triage.lire",
    "charger": "triage.lire",
    "entete": "triage.lire",
    "evaluer": "triage.lire",
    "charger_evalue": "triage.lire",
    "cas_effectif": "triage.lire",
    "versions": "triage.lire",
    "compter_seances": "triage.lire",
    "etat_episode": "triage.lire",
    "episode_ouvert": "triage.lire",
    "identite_patient": "triage.lire",
    "identites": "triage.lire",
    "profil": "triage.lire",
    # look-ups of patients (each audited by the service itself)
    "rechercher_patients": "triage.lire",
    "doublons_probables": "triage.lire",
    "fiche_patient": "triage.lire",
    "a_revoir": "triage.lire",
    "dossier_episode": "export",
    # triage writing
    "creer_patient": "triage.ecrire",
    "creer_episode": "triage.ecrire",
    "creer_triage": "triage.ecrire",
    "demarrer_triage": "triage.ecrire",
    "enregistrer_reponse": "triage.ecrire",
    "completer_reponses": "triage.ecrire",
    "modifier_brouillon": "triage.ecrire",
    "enregistrer_note": "triage.ecrire",
    "finaliser": "triage.ecrire",
    "amender": "triage.ecrire",
    "ouvrir_ou_continuer_episode": "triage.ecrire",
    "declarer_historique": "triage.ecrire",
    "cloturer_episode": "triage.ecrire",
    "renseigner_issue": "triage.ecrire",
    "renseigner_identite": "triage.ecrire",
    "renseigner_medecin_traitant": "triage.ecrire",
    "enregistrer_seance": "seance.ecrire",
    "supprimer_seance": "seance.ecrire",
    # one's own professional identity (every role signs what it exports)
    "modifier_profil": "structure.lire",
    # exports (each audited by the method that produces it)
    "exporter": "export",
    "document_episode": "export",
    "deconnecter": "structure.lire",
    # coordination
    "enregistrer_structure": "structure.ecrire",
    "creer_utilisateur": "comptes.gerer",
    "modifier_profil_compte": "comptes.gerer",
    "lister_utilisateurs": "comptes.gerer",
    "desactiver_utilisateur": "comptes.gerer",
    "exporter_patient": "rgpd",
    "effacer_patient": "rgpd",
    "verifier_audit": "audit",
    "indicateurs": "rapport",
    "reevaluer": "audit",
}


@cache
def _prend_acteur(nom: str) -> bool:
    """Whether the service method records who acts (read once per method, not on every call)."""
    return "acteur" in inspect.signature(getattr(Depot, nom)).parameters


class ServiceAutorise:
    """A :class:`Depot` restricted to what ``utilisateur`` may do."""

    def __init__(self, depot: Depot, utilisateur: Utilisateur, verrou: Callable[[], bool] | None = None) -> None:
        """``verrou``: whether the user's session is locked (idle): then every call is refused."""
        self._depot = depot
        self.utilisateur = utilisateur
        self._verrou = verrou

    @property
    def moteur(self) -> Any:
        """The rules (read-only for everyone)."""
        return self._depot.moteur

    def peut(self, action: str) -> bool:
        """Whether the user may call ``action`` (for the page to show or hide a control)."""
        permission = ACTIONS.get(action)
        return permission is not None and self.utilisateur.peut(permission)

    def __getattr__(self, nom: str) -> Callable[..., Any]:
        permission = ACTIONS.get(nom)
        if permission is None:
            raise ErreurDroits(f"action « {nom} » non disponible par le service")
        methode = getattr(self._depot, nom)
        if self._verrou is not None and nom != "deconnecter" and self._verrou():
            raise ErreurDroits("session verrouillée après inactivité : rien n'a été enregistré ; se reconnecter")
        if not self.utilisateur.peut(permission):
            self._depot._refus(nom, acteur=self.utilisateur.identifiant)
            exiger(self.utilisateur, permission)
        if _prend_acteur(nom):
            def appel(*args: Any, **kwargs: Any) -> Any:
                kwargs["acteur"] = self.utilisateur.identifiant
                return methode(*args, **kwargs)

            return appel
        return methode
