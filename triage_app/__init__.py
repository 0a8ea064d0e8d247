"""triage_app: aide à la décision pour les kinésithérapeutes sans prescription médicale.

Les règles cliniques et réglementaires vivent dans ``protocols/`` (données relues par des
cliniciens) ; ce paquet les charge, les valide et les évalue.
"""

__version__ = "0.1.0"
