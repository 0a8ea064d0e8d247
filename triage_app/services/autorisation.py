"""The application services as one logged-in user sees them: every call checked against the user's role.

The page only ever holds a :class:`ServiceAutorise`, never the raw :class:`~triage_app.services.application.Services`:
hiding a button is a convenience, this is the rule. ``depot.triages.finaliser(tid)`` is checked against
``ACTIONS["triages.finaliser"]``; the acting user is filled in as ``acteur`` (the audit log's author), and a refused
call is itself recorded (``refus``) before :class:`ErreurDroits` is raised.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from typing import Any

from triage_app.comptes import ErreurDroits, Utilisateur, exiger
from triage_app.services.application import Services

# « aggregate.method » → the permission it needs. A method absent from this table cannot be called through here.
ACTIONS: dict[str, str] = {
    # reading
    "structure.structure": "structure.lire",
    "structure.decrite": "structure.lire",
    "triages.lister": "triage.lire",
    "triages.charger": "triage.lire",
    "triages.entete": "triage.lire",
    "triages.charger_entete": "triage.lire",
    "triages.evaluer": "triage.lire",
    "triages.charger_evalue": "triage.lire",
    "triages.cas_effectif": "triage.lire",
    "triages.versions": "triage.lire",
    "episodes.compter_seances": "triage.lire",
    "episodes.etat_episode": "triage.lire",
    "episodes.episode_ouvert": "triage.lire",
    "patients.identite_patient": "triage.lire",
    "patients.prescriptions_recentes": "triage.lire",
    "documents.identites": "triage.lire",
    "mesures.mesures_du_protocole": "triage.lire",
    "mesures.mesures_episode": "triage.lire",
    "mesures.suivis": "triage.lire",
    "mesures.bilan": "triage.lire",
    "mesures.declarations": "triage.lire",
    "mesures.evolution_proposee": "triage.lire",
    "comptes.profil": "triage.lire",
    # look-ups of patients (each audited by the service itself)
    "patients.rechercher_patients": "triage.lire",
    "patients.doublons_probables": "triage.lire",
    "patients.fiche_patient": "triage.lire",
    "episodes.a_revoir": "triage.lire",
    "documents.dossier_episode": "export",
    # triage writing
    "patients.creer_patient": "triage.ecrire",
    "episodes.creer_episode": "triage.ecrire",
    "triages.creer_triage": "triage.ecrire",
    "triages.demarrer_triage": "triage.ecrire",
    "triages.enregistrer_reponse": "triage.ecrire",
    "triages.completer_reponses": "triage.ecrire",
    "triages.modifier_brouillon": "triage.ecrire",
    "triages.enregistrer_note": "triage.ecrire",
    "triages.finaliser": "triage.ecrire",
    "triages.amender": "triage.ecrire",
    "episodes.ouvrir_ou_continuer_episode": "triage.ecrire",
    "episodes.declarer_historique": "triage.ecrire",
    "episodes.cloturer_episode": "triage.ecrire",
    "episodes.renseigner_issue": "triage.ecrire",
    "episodes.enregistrer_texte": "triage.ecrire",
    "mesures.enregistrer": "triage.ecrire",
    "patients.renseigner_identite": "triage.ecrire",
    "patients.renseigner_medecin_traitant": "triage.ecrire",
    "episodes.enregistrer_seance": "seance.ecrire",
    "episodes.supprimer_seance": "seance.ecrire",
    # one's own professional identity (every role signs what it exports)
    "comptes.modifier_profil": "structure.lire",
    # exports (each audited by the method that produces it)
    "documents.exporter": "export",
    "documents.document_episode": "export",
    "comptes.deconnecter": "structure.lire",
    # coordination
    "structure.enregistrer_structure": "structure.ecrire",
    "comptes.creer_utilisateur": "comptes.gerer",
    "comptes.modifier_profil_compte": "comptes.gerer",
    "comptes.lister_utilisateurs": "comptes.gerer",
    "comptes.desactiver_utilisateur": "comptes.gerer",
    "rgpd.exporter_patient": "rgpd",
    "rgpd.effacer_patient": "rgpd",
    "audit.verifier_audit": "audit",
    "rapport.indicateurs": "rapport",
    "reevaluation.reevaluer": "audit",
}


# Permissions of plain reads (the page checks the account once per run for them; every other call, before it).
LECTURES = frozenset({"triage.lire", "structure.lire"})


@cache
def _prend_acteur(fonction: Callable[..., Any]) -> bool:
    """Whether the service method records who acts (read once per method, not on every call)."""
    return "acteur" in inspect.signature(fonction).parameters


class _Agregat:
    """One aggregate's service, restricted to what the user may call."""

    def __init__(self, autorise: ServiceAutorise, nom: str) -> None:
        self._autorise = autorise
        self._nom = nom

    def __getattr__(self, nom: str) -> Callable[..., Any]:
        return self._autorise._appel(self._nom, nom)


class ServiceAutorise:
    """The :class:`Services` restricted to what ``utilisateur`` may do."""

    def __init__(self, services: Services, utilisateur: Utilisateur, verrou: Callable[[], bool] | None = None,
                 compte_valide: Callable[[], bool] | None = None) -> None:
        """``verrou``: whether the user's session is locked (idle): then every call is refused. ``compte_valide``:
        whether the account still is as it was at login (active, same role and password): checked before every
        call that is not a plain read, so a deactivated account's open session writes nothing."""
        self._services = services
        self.utilisateur = utilisateur
        self._verrou = verrou
        self._compte_valide = compte_valide

    @property
    def moteur(self) -> Any:
        """The rules (read-only for everyone)."""
        return self._services.moteur

    def peut(self, action: str) -> bool:
        """Whether the user may call ``action`` (« aggregate.method »: for the page to show or hide a control)."""
        permission = ACTIONS.get(action)
        return permission is not None and self.utilisateur.peut(permission)

    def __getattr__(self, agregat: str) -> _Agregat:
        if agregat.startswith("_") or not hasattr(self._services, agregat):
            raise ErreurDroits(f"service « {agregat} » non disponible")
        return _Agregat(self, agregat)

    def _appel(self, agregat: str, nom: str) -> Callable[..., Any]:
        action = f"{agregat}.{nom}"
        permission = ACTIONS.get(action)
        if permission is None:
            raise ErreurDroits(f"action « {action} » non disponible par le service")
        methode = getattr(getattr(self._services, agregat), nom)
        if self._verrou is not None and action != "comptes.deconnecter" and self._verrou():
            raise ErreurDroits("session verrouillée après inactivité : rien n'a été enregistré ; se reconnecter")
        if (self._compte_valide is not None and permission not in LECTURES and action != "comptes.deconnecter"
                and not self._compte_valide()):
            raise ErreurDroits("compte désactivé ou modifié depuis la connexion : rien n'a été enregistré ; "
                               "se reconnecter")
        if not self.utilisateur.peut(permission):
            self._services.audit.refus(action, acteur=self.utilisateur.identifiant)
            exiger(self.utilisateur, permission)
        if _prend_acteur(getattr(methode, "__func__", methode)):
            def appel(*args: Any, **kwargs: Any) -> Any:
                kwargs["acteur"] = self.utilisateur.identifiant
                return methode(*args, **kwargs)

            return appel
        return methode
