"""Identifiers of French health IT, checked as typed: INS (NIR or NIA and its key), RPPS, ADELI, FINESS, SIRET,
MSSanté address, phone; and the INS identity status from what was actually checked.

Pure functions: each returns the normalised value or raises :class:`ValueError` with a French message (the caller
names the field). The identifiers' OIDs, labels and the statuses' wording are data
(``protocols/interoperabilite.yaml``).
"""

from __future__ import annotations

import re
from datetime import date

_CHIFFRES = re.compile(r"[\s.\-]")
_COURRIEL = re.compile(r"^[A-Za-z0-9._%+\-']+@([A-Za-z0-9\-]+\.)+[A-Za-z]{2,}$")
# Bidirectional controls and zero-width characters (« evil » must not print « live »): refused in names here and in
# every stored text by the services (one class of characters for both).
INVISIBLES = "\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff"
_INVISIBLES = re.compile(f"[{INVISIBLES}]")
# Nine characters: the département (2A/2B for Corsica), then seven digits (ADELI, FINESS).
_DEPARTEMENT_ET_7 = re.compile(r"([0-9]{2}|2A|2B)[0-9]{7}")


def _compact(texte: str) -> str:
    return _CHIFFRES.sub("", texte or "").upper()


def luhn_valide(chiffres: str) -> bool:
    """The Luhn check (RPPS, SIRET, FINESS): the sum with every second digit from the right doubled is 0 mod 10."""
    if not chiffres.isdigit():
        return False
    total = 0
    for i, c in enumerate(reversed(chiffres)):
        n = int(c)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def cle_nir(nir13: str) -> int:
    """The NIR's two-digit key: 97 − (the 13 characters as a number mod 97); Corsica's 2A/2B count as 19/18."""
    corps = nir13.upper()
    if corps[5:7] == "2A":
        corps = corps[:5] + "19" + corps[7:]
    elif corps[5:7] == "2B":
        corps = corps[:5] + "18" + corps[7:]
    return 97 - int(corps) % 97


def ins(matricule: str, *, sexe: str | None = None, date_naissance: date | None = None) -> str:
    """The INS matricule (NIR or NIA, 13 characters and a 2-digit key), checked against its key and, when
    given, against the sex and the birth year and month it encodes (its digits 1, 2–3 and 4–5)."""
    m = _compact(matricule)
    if not re.fullmatch(r"[1-478][0-9]{4}(2A|2B|[0-9]{2})[0-9]{6}[0-9]{2}", m):
        raise ValueError("15 caractères attendus (13 chiffres, 2A ou 2B pour la Corse, puis la clé à 2 chiffres)")
    if int(m[13:]) != cle_nir(m[:13]):
        raise ValueError(f"clé incorrecte (attendue {cle_nir(m[:13]):02d} pour ces 13 caractères) : "
                         "une faute de frappe ?")
    premier, annee, mois = m[0], int(m[1:3]), int(m[3:5])
    if sexe in ("M", "F") and premier in "12" and {"M": "1", "F": "2"}[sexe] != premier:
        raise ValueError(f"le matricule commence par {premier} ({'homme' if premier == '1' else 'femme'}) : "
                         "le sexe de l’identité ne correspond pas")
    if (date_naissance is not None and premier in "1278" and 1 <= mois <= 12
            and (annee, mois) != (date_naissance.year % 100, date_naissance.month)):
        raise ValueError(f"le matricule indique une naissance en {mois:02d}/{annee:02d}, la date de naissance "
                         f"est le {date_naissance.strftime('%d/%m/%Y')}")
    return m


def genre_ins(matricule: str) -> str:
    """``nir`` (starts 1 or 2, or 3 and 4 for people born abroad in progress) or ``nia`` (7 or 8, a temporary
    number): which OID the matricule takes."""
    return "nia" if matricule[:1] in "78" else "nir"


def rpps(numero: str) -> str:
    """An RPPS number: 11 digits, the last a Luhn key."""
    n = _compact(numero)
    if not re.fullmatch(r"[0-9]{11}", n):
        raise ValueError("11 chiffres attendus")
    if not luhn_valide(n):
        raise ValueError("clé de contrôle incorrecte : une faute de frappe ?")
    return n


def adeli(numero: str) -> str:
    """An ADELI number: 9 characters (2 of the département, 2A/2B for Corsica, then 7 digits)."""
    n = _compact(numero)
    if not _DEPARTEMENT_ET_7.fullmatch(n):
        raise ValueError("9 caractères attendus (département puis 7 chiffres)")
    return n


def finess(numero: str) -> str:
    """A FINESS number: an ADELI-shaped number (:func:`adeli`) whose last digit is a Luhn key."""
    n = adeli(numero)
    if n.isdigit() and not luhn_valide(n):
        raise ValueError("clé de contrôle incorrecte : une faute de frappe ?")
    return n


def siret(numero: str) -> str:
    """A SIRET: 14 digits with a Luhn key (La Poste's establishments: the digits' sum a multiple of 5)."""
    n = _compact(numero)
    if not re.fullmatch(r"[0-9]{14}", n):
        raise ValueError("14 chiffres attendus")
    if n.startswith("356000000"):
        if sum(int(c) for c in n) % 5:
            raise ValueError("clé de contrôle incorrecte : une faute de frappe ?")
    elif not luhn_valide(n):
        raise ValueError("clé de contrôle incorrecte : une faute de frappe ?")
    return n


def mssante(adresse: str, domaine: str) -> str:
    """An MSSanté address: an e-mail address whose domain is in the MSSanté space (``domaine``, from the data)."""
    a = (adresse or "").strip()
    if not _COURRIEL.fullmatch(a):
        raise ValueError("adresse de messagerie attendue (prenom.nom@operateur.mssante.fr)")
    hote = a.rsplit("@", 1)[1].lower()
    if hote != domaine and not hote.endswith("." + domaine):
        raise ValueError(f"une adresse MSSanté se termine par « {domaine} » (espace de confiance de la messagerie "
                         "sécurisée de santé)")
    return a[: a.rindex("@")] + "@" + hote


def telephone(numero: str) -> str:
    """A French phone number, kept as ``0X XX XX XX XX`` (``+33`` accepted)."""
    n = _compact(numero).removeprefix("+33").removeprefix("0033")
    if n and not n.startswith("0"):
        n = "0" + n
    if not re.fullmatch(r"0[1-9][0-9]{8}", n):
        raise ValueError("10 chiffres attendus (ou +33 suivi de 9 chiffres)")
    return " ".join(n[i:i + 2] for i in range(0, 10, 2))


def code_lieu_naissance(code: str) -> str:
    """The birth place's INSEE code: 5 characters (a commune, 2A/2B for Corsica; 99 then the country abroad)."""
    c = _compact(code)
    if not re.fullmatch(r"([0-9]{2}|2A|2B)[0-9]{3}", c):
        raise ValueError("code INSEE à 5 caractères attendu (commune de naissance, ou 99 suivi du pays)")
    return c


def nom_strict(texte: str, *, champ_vide: bool = False) -> str:
    """A birth name or first name as typed on the identity document: letters, spaces, hyphens, apostrophes; no
    control, no bidirectional or invisible character."""
    t = " ".join((texte or "").split())
    if not t:
        if champ_vide:
            return ""
        raise ValueError("à renseigner")
    if _INVISIBLES.search(t):
        raise ValueError("caractère invisible ou de sens d’écriture interdit")
    if not re.fullmatch(r"[^\W\d_]+(?:[ '\-’][^\W\d_]+)*", t):
        raise ValueError("lettres, espaces, traits d’union et apostrophes seulement")
    return t


def statut_identite(*, ins_present: bool, recuperee_insi: bool, piece_verifiee: bool) -> str:
    """The identity status (Référentiel national d'identitovigilance): ``qualifiee`` only when the INS was
    retrieved through the INSi teleservice AND the identity document was checked; ``validee`` with the document
    only; ``recuperee`` with INSi only; otherwise ``provisoire``."""
    insi = ins_present and recuperee_insi
    if insi and piece_verifiee:
        return "qualifiee"
    if piece_verifiee:
        return "validee"
    if insi:
        return "recuperee"
    return "provisoire"
