"""Log a Streamlit AppTest session in (the page requires an account since issue #6)."""

from __future__ import annotations

from typing import Any

from triage_app.comptes import Utilisateur
from triage_app.ui.etat import CLE_UTILISATEUR

KINE = Utilisateur("kine.test", "Kiné Test", "kine")
COORDINATEUR = Utilisateur("coord.test", "Coordination Test", "coordinateur")
MEDECIN = Utilisateur("medecin.test", "Médecin Test", "medecin")


def connecte(at: Any, utilisateur: Utilisateur = KINE) -> Any:
    """The AppTest ``at`` with ``utilisateur`` logged in (as the login form would leave the session)."""
    at.session_state[CLE_UTILISATEUR] = utilisateur
    return at
