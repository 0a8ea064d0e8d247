"""Accounts and logins: the coordinator creates the accounts (argon2id hashes, a role each), local logins are
checked with the same cost and the same words whether the account exists or not (failures held back), identity
provider logins find their account, and each professional's identity signs what they export."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from triage_app import comptes
from triage_app import identifiants as idf
from triage_app.errors import ErreurSaisie, Probleme
from triage_app.models.identites import IdentitePro
from triage_app.services import saisie
from triage_app.services.base import Service
from triage_app.services.unite import ErreurStockage, nouvel_id
from triage_app.storage.cle import empreinte_identifiant
from triage_app.storage.tables import Utilisateur as CompteTable

_IDENTIFIANT = re.compile(r"[a-z0-9._@-]{2,200}")
_REFUS = "identifiant ou mot de passe incorrect (après plusieurs échecs, attendre quelques minutes)"


def _hacheur() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


_HACHEUR = _hacheur()
_EMPREINTE_FICTIVE = _HACHEUR.hash("compte-inexistant-valeur-fictive")


def _verifier_empreinte(empreinte: str, mot_de_passe: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_HACHEUR.verify(empreinte, mot_de_passe))
    except (VerificationError, InvalidHashError):
        return False


def _utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes: they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def vue_compte(c: CompteTable) -> IdentitePro:
    """An account's professional identity, as it signs the documents."""
    return IdentitePro(identifiant=c.identifiant, nom=c.nom, prenom=c.prenom, nom_famille=c.nom_famille,
                       profession=c.profession, rpps=c.rpps, adeli=c.adeli, telephone=c.telephone)

class ServiceComptes(Service):
    """Accounts, logins and the professionals' identities."""

    def compter_utilisateurs(self) -> int:
        """How many accounts exist (none: the page asks for the first coordinator)."""
        with self.uow.lecture() as s:
            return int(s.scalar(select(func.count()).select_from(CompteTable)) or 0)

    def jeton_session(self, identifiant: str) -> str | None:
        """What an open session must still match (issue #28): a digest of the account's role, state, source and
        password hash; ``None`` when the account is gone or deactivated. The page keeps it at login and compares it
        on every run and before every write: a deactivated account, a changed password or role ends the session."""
        with self.uow.lecture() as s:
            ligne = s.execute(select(CompteTable.role, CompteTable.actif, CompteTable.source,
                                     CompteTable.empreinte_mot_de_passe)
                              .where(CompteTable.identifiant == identifiant)).first()
        if ligne is None or not ligne.actif:
            return None
        return hashlib.sha256(f"{ligne.role}|{ligne.source}|{ligne.empreinte_mot_de_passe or ''}".encode()).hexdigest()

    def creer_premier_compte(self, *, identifiant: str, nom: str, mot_de_passe: str) -> comptes.Utilisateur:
        """The first coordinator, at first start: refused once any account exists, in the same write (and by the
        database's unique constraint on ``premier``: two forms sent together make one account, issue #28)."""
        return self.creer_utilisateur(identifiant=identifiant, nom=nom, role="coordinateur", mot_de_passe=mot_de_passe,
                                      acteur="premier_demarrage", premier=True)

    def creer_utilisateur(self, *, identifiant: str, nom: str, role: str, mot_de_passe: str | None,
                          source: str = "local", acteur: str, premier: bool = False) -> comptes.Utilisateur:
        """Create an account (local: argon2 hash of a password of at least 12 characters; oidc: no password)."""
        identifiant = identifiant.strip().lower()
        problemes = []
        if not _IDENTIFIANT.fullmatch(identifiant):
            problemes.append(Probleme("identifiant", "2 à 200 caractères parmi a-z, 0-9, « . _ @ - »"))
        if role not in comptes.ROLES:
            problemes.append(Probleme("role", f"attendu : {', '.join(comptes.ROLES)}"))
        if not nom.strip():
            problemes.append(Probleme("nom", "à renseigner"))
        elif saisie.CONTROLE.search(nom) or len(nom) > 200:
            problemes.append(Probleme("nom", "200 caractères au plus, sans caractère de contrôle, invisible ou de "
                                             "sens d’écriture"))
        if source not in ("local", "oidc"):
            problemes.append(Probleme("source", "attendu : local ou oidc"))
        if problemes:
            raise ErreurSaisie(problemes)
        empreinte = None
        if source == "local":
            comptes.verifier_mot_de_passe_nouveau(mot_de_passe or "", identifiant)
            empreinte = _HACHEUR.hash(mot_de_passe or "")
        try:
            with self.uow.ecriture() as (s, chaine):
                if premier and s.scalar(select(func.count()).select_from(CompteTable)):
                    raise ErreurSaisie([Probleme("identifiant", "un compte existe déjà : se connecter")])
                if s.scalar(select(CompteTable).where(CompteTable.identifiant == identifiant)) is not None:
                    raise ErreurSaisie([Probleme("identifiant", f"« {identifiant} » existe déjà")])
                s.add(CompteTable(id=nouvel_id(), identifiant=identifiant, nom=nom.strip(), role=role, source=source,
                                  empreinte_mot_de_passe=empreinte, actif=True, echecs=0, cree_le=self.horloge(),
                                  premier=True if premier else None))
                chaine.ajouter("creation_compte", acteur, details={"compte": identifiant, "role": role})
        except IntegrityError:  # the database's constraint: another first account, or the same identifier, won
            raise ErreurSaisie([Probleme("identifiant", "un compte existe déjà : se connecter" if premier
                                         else f"« {identifiant} » existe déjà")]) from None
        return comptes.Utilisateur(identifiant, nom.strip(), role, source)

    def lister_utilisateurs(self) -> list[CompteTable]:
        """Every account (detached rows), by identifier."""
        with self.uow.lecture() as s:
            return list(s.scalars(select(CompteTable).order_by(CompteTable.identifiant)))

    def desactiver_utilisateur(self, identifiant: str, *, acteur: str) -> None:
        """Disable an account (kept for the audit trail; it can no longer log in)."""
        with self.uow.ecriture() as (s, chaine):
            compte = s.scalar(select(CompteTable).where(CompteTable.identifiant == identifiant))
            if compte is None:
                raise ErreurStockage("compte introuvable")
            compte.actif = False
            chaine.ajouter("desactivation_compte", acteur, details={"compte": identifiant})

    def connecter(self, identifiant: str, mot_de_passe: str) -> comptes.Utilisateur:
        """Check a local login; failures are counted and the account held back after several in a row.

        Neither the message nor the time taken says whether the identifier exists or the account is held back:
        the password is always checked (against a dummy hash when there is no account), and every refusal says
        the same. The audit records a keyed hash of the typed identifier, never its text.
        """
        identifiant = identifiant.strip().lower()
        maintenant = self.horloge()
        erreur: str | None = None
        with self.uow.ecriture() as (s, chaine):
            compte = s.scalar(select(CompteTable).where(CompteTable.identifiant == identifiant))
            utilisable = compte is not None and compte.source == "local" and compte.actif
            empreinte = (compte.empreinte_mot_de_passe if utilisable and compte is not None else None)
            correct = _verifier_empreinte(empreinte or _EMPREINTE_FICTIVE, mot_de_passe) and empreinte is not None
            if not utilisable or compte is None:
                erreur = _REFUS
            elif compte.bloque_jusqu_a is not None and _utc(compte.bloque_jusqu_a) > maintenant:
                erreur = _REFUS  # held back: even the right password is refused, with the same words
            elif not correct:
                compte.echecs += 1
                compte.bloque_jusqu_a = comptes.fin_blocage(compte.echecs, maintenant)
                erreur = _REFUS
            if erreur is not None:
                chaine.ajouter("connexion_echec", empreinte_identifiant(self.uow.cle, identifiant),
                               details={"motif": "refus"})
            else:
                assert compte is not None
                compte.echecs, compte.bloque_jusqu_a, compte.derniere_connexion = 0, None, maintenant
                if _HACHEUR.check_needs_rehash(compte.empreinte_mot_de_passe or ""):
                    compte.empreinte_mot_de_passe = _HACHEUR.hash(mot_de_passe)
                chaine.ajouter("connexion", identifiant)
                utilisateur = comptes.Utilisateur(compte.identifiant, compte.nom, compte.role, compte.source)
        if erreur is not None:
            raise comptes.ErreurConnexion(erreur)
        return utilisateur

    def connecter_oidc(self, identifiant: str, *, rpps: str | None = None,
                       profil: dict[str, str | None] | None = None) -> comptes.Utilisateur:
        """A login confirmed by the identity provider: the account must exist (source oidc) and be active.

        The account is found by its identifier (the e-mail, or the national number the coordinator typed), or by
        its RPPS (``rpps``: Pro Santé Connect's national id without its leading 8). ``profil`` (first name, family
        name, profession, RPPS from the provider's claims) updates the account's professional identity, which
        then signs the documents; a value the checks refuse is left as it was."""
        identifiant = identifiant.strip().lower()
        with self.uow.ecriture() as (s, chaine):
            candidats = [identifiant] + ([rpps] if rpps else [])
            compte = None
            for cle in candidats:
                compte = s.scalar(select(CompteTable).where(CompteTable.identifiant == cle))
                if compte is not None:
                    break
            if compte is None and rpps:
                compte = s.scalar(select(CompteTable).where(CompteTable.rpps == rpps, CompteTable.source == "oidc"))
            if compte is None or compte.source != "oidc" or not compte.actif:
                chaine.ajouter("connexion_echec", empreinte_identifiant(self.uow.cle, identifiant),
                               details={"motif": "oidc_inconnu"})
                utilisateur = None
            else:
                compte.derniere_connexion = self.horloge()
                chaine.ajouter("connexion", compte.identifiant, details={"source": "oidc"})
                utilisateur = comptes.Utilisateur(compte.identifiant, compte.nom, compte.role, compte.source)
        if utilisateur is None:
            raise comptes.ErreurConnexion("compte non autorisé : demander au coordinateur de créer ce compte")
        actuel = self.profil(utilisateur.identifiant) if profil else None
        inchange = actuel is not None and profil is not None and all(
            getattr(actuel, cle) == profil.get(cle) for cle in ("prenom", "nom_famille", "profession", "rpps")
            if profil.get(cle))
        if profil and profil.get("prenom") and profil.get("nom_famille") and not inchange:
            try:
                pro = self.modifier_profil_compte(
                    utilisateur.identifiant, prenom=str(profil["prenom"]), nom_famille=str(profil["nom_famille"]),
                    profession=str(profil.get("profession") or (actuel.profession if actuel else None) or "autre"),
                    rpps=profil.get("rpps") or (actuel.rpps if actuel else None),
                    adeli=actuel.adeli if actuel else None, telephone=actuel.telephone if actuel else None,
                    acteur=utilisateur.identifiant)
            except ErreurSaisie:
                pro = None
            if pro is not None:
                utilisateur = comptes.Utilisateur(utilisateur.identifiant, pro.nom, utilisateur.role,
                                                  utilisateur.source)
        return utilisateur

    def changer_mot_de_passe(self, identifiant: str, ancien: str, nouveau: str) -> None:
        """Change one's own password (the old one is checked like a login)."""
        self.connecter(identifiant, ancien)
        comptes.verifier_mot_de_passe_nouveau(nouveau, identifiant)
        with self.uow.ecriture() as (s, chaine):
            compte = s.scalar(select(CompteTable).where(CompteTable.identifiant == identifiant.strip().lower()))
            assert compte is not None
            compte.empreinte_mot_de_passe = _HACHEUR.hash(nouveau)
            chaine.ajouter("changement_mot_de_passe", compte.identifiant)

    def deconnecter(self, *, acteur: str) -> None:
        """The user ends their session (the page forgets it): audited."""
        with self.uow.ecriture() as (_, chaine):
            chaine.ajouter("deconnexion", acteur)

    def profil(self, identifiant: str) -> IdentitePro | None:
        """An account's professional identity (``None`` for an unknown login, e.g. a deleted account)."""
        with self.uow.lecture() as s:
            c = s.query(CompteTable).filter_by(identifiant=identifiant).one_or_none()
            return vue_compte(c) if c is not None else None

    def modifier_profil(self, *, prenom: str, nom_famille: str, profession: str, rpps: str | None = None,
                        adeli: str | None = None, telephone: str | None = None, acteur: str) -> IdentitePro:
        """The professional identity of the acting account (« Mon compte »)."""
        return self.modifier_profil_compte(acteur, prenom=prenom, nom_famille=nom_famille, profession=profession,
                                           rpps=rpps, adeli=adeli, telephone=telephone, acteur=acteur)

    def modifier_profil_compte(self, identifiant: str, *, prenom: str, nom_famille: str, profession: str,
                               rpps: str | None = None, adeli: str | None = None, telephone: str | None = None,
                               acteur: str) -> IdentitePro:
        """The professional identity of account ``identifiant`` (the coordinator, or the login confirmed by
        Pro Santé Connect)."""
        problemes: list[Probleme] = []
        prenom_lu = saisie.champ_lu(problemes, "prenom", prenom, idf.nom_strict)
        nom_lu = saisie.champ_lu(problemes, "nom_famille", nom_famille, idf.nom_strict)
        for champ, valeur in (("prenom", prenom_lu), ("nom_famille", nom_lu)):
            if valeur is None and not any(p.chemin == champ for p in problemes):
                problemes.append(Probleme(champ, "à renseigner"))
        if profession not in self.interop.professions:
            problemes.append(Probleme("profession", "attendu l’un de : " + ", ".join(self.interop.professions)))
        rpps_lu = saisie.champ_lu(problemes, "rpps", rpps, idf.rpps)
        adeli_lu = saisie.champ_lu(problemes, "adeli", adeli, idf.adeli)
        tel = saisie.champ_lu(problemes, "telephone", telephone, idf.telephone)
        if profession in ("kine", "medecin") and not (rpps_lu or adeli_lu) and not any(
                p.chemin in ("rpps", "adeli") for p in problemes):
            problemes.append(Probleme("rpps", "à renseigner (ou l’ADELI) : le numéro signe les documents"))
        if problemes:
            raise ErreurSaisie(problemes)
        with self.uow.ecriture() as (s, chaine):
            cible = identifiant
            c = s.query(CompteTable).filter_by(identifiant=cible).one_or_none()
            if c is None:
                raise ErreurSaisie([Probleme("identifiant", "compte inconnu")])
            c.prenom, c.nom_famille, c.profession = prenom_lu, nom_lu, profession
            c.rpps, c.adeli, c.telephone = rpps_lu, adeli_lu, tel
            c.nom = f"{prenom_lu} {nom_lu}"
            chaine.ajouter("profil", acteur, details={"compte": cible, "profession": profession,
                                                      "rpps": rpps_lu is not None})
            return vue_compte(c)
