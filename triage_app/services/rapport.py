"""The structure's indicators over a period, computed in the database (SQLite and PostgreSQL): what the
dashboard shows and the yearly ARS report prints (anonymised there by :mod:`triage_app.export.rapport`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Integer, and_, cast, distinct, extract, func, select, text

from triage_app.domain.mesures import suivi as suivre
from triage_app.models.rapport_ars import BlocProtocole, Indicateurs, ResultatMesure
from triage_app.services.base import Service
from triage_app.storage.tables import Episode, EvenementAudit, MesureTable, Seance, Triage

_VOIE = Triage.resultat[("facturation", "voie")].as_string()  # a final triage's billing route


def _cle(valeur: Any) -> str:
    return "" if valeur is None else str(valeur)


class ServiceRapport(Service):
    """The structure's indicators."""

    def indicateurs(self, du: date, au: date, *, acteur: str) -> Indicateurs:
        """The indicators of the final triages consulted between ``du`` and ``au`` (inclusive); the query is
        audited (its period only)."""
        resultat = Indicateurs(du, au)
        with self.uow.lecture() as s:
            dialecte = s.get_bind().dialect.name
            dans = and_(Triage.statut == "final", Triage.date_consultation >= du, Triage.date_consultation <= au)
            voie = _VOIE
            base = (select(Episode.protocole).select_from(Triage).join(Episode, Episode.id == Triage.episode_id)
                    .where(dans))

            def bloc(protocole: str) -> BlocProtocole:
                return resultat.protocoles.setdefault(protocole, BlocProtocole())

            for protocole, n, patients, episodes in s.execute(
                    base.add_columns(func.count(), func.count(distinct(Episode.patient_id)),
                                     func.count(distinct(Episode.id))).group_by(Episode.protocole)):
                b = bloc(protocole)
                b.triages, b.patients, b.episodes = n, patients, episodes
            for protocole, v, n, patients in s.execute(
                    base.add_columns(voie, func.count(), func.count(distinct(Episode.patient_id)))
                    .group_by(Episode.protocole, voie)):
                bloc(protocole).par_voie[_cle(v)] = {"triages": n, "patients": patients}
            for protocole, orientation, n in s.execute(base.add_columns(Triage.orientation, func.count())
                                                       .group_by(Episode.protocole, Triage.orientation)):
                bloc(protocole).orientations[_cle(orientation)] = n
            annee, mois = extract("year", Triage.date_consultation), extract("month", Triage.date_consultation)
            for protocole, a, m_, n in s.execute(base.add_columns(annee, mois, func.count())
                                                 .group_by(Episode.protocole, annee, mois)):
                bloc(protocole).mois[f"{int(a):04d}-{int(m_):02d}"] = n
            for protocole, version, n in s.execute(base.add_columns(Triage.version_protocole, func.count())
                                                   .group_by(Episode.protocole, Triage.version_protocole)):
                bloc(protocole).versions[_cle(version)] = n

            # Red flags (motifs with a referral level) and unmet eligibility criteria: elements of JSON arrays.
            for chemin, attribut, filtre in (("motifs", "drapeaux", True), ("criteres_non_remplis",
                                                                             "non_eligibilite", False)):
                bornes = {"du": du, "au": au} if dialecte == "postgresql" else {"du": du.isoformat(),
                                                                                 "au": au.isoformat()}
                for protocole, ident, n in s.execute(_elements(dialecte, chemin, filtre), bornes):
                    getattr(bloc(protocole), attribut)[_cle(ident)] = n

            # Time from onset to the triage, in days (a distribution).
            if dialecte == "postgresql":
                delai = (Triage.date_consultation - Episode.date_debut).label("delai")
            else:
                delai = cast(func.julianday(Triage.date_consultation) - func.julianday(Episode.date_debut),
                             Integer).label("delai")
            for protocole, jours, n in s.execute(base.add_columns(delai, func.count())
                                                 .group_by(Episode.protocole, delai)):
                bloc(protocole).delai_jours[int(jours)] = n

            # The episodes the period's triages belong to: sessions, outcome, DAP.
            episodes = select(Triage.episode_id).where(dans).distinct().subquery()
            # Sessions as the episode's counters count them (rules v3, §9.10): rehabilitation sessions on a
            # reimbursed route (not the bilan nor the protocol's consultations, not a session stored « aucune »).
            compte = self.moteur.registre.commun.episode_de_soins.historique.voies_remboursees
            par_episode = (select(Episode.id.label("eid"), Episode.protocole.label("protocole"),
                                  func.count(Seance.id).label("n"))
                           .join(episodes, episodes.c.episode_id == Episode.id)
                           .outerjoin(Seance, and_(Seance.episode_id == Episode.id, Seance.acte == "seance",
                                                   Seance.voie.in_(compte)))
                           .group_by(Episode.id, Episode.protocole).subquery())
            for protocole, n, combien in s.execute(
                    select(par_episode.c.protocole, par_episode.c.n, func.count())
                    .group_by(par_episode.c.protocole, par_episode.c.n)):
                bloc(protocole).seances_par_episode[int(n)] = combien
            suivis = select(Episode.protocole).join(episodes, episodes.c.episode_id == Episode.id)
            for protocole, repris, n in s.execute(suivis.add_columns(Episode.repris_par, func.count())
                                                  .where(Episode.repris_par.is_not(None))
                                                  .group_by(Episode.protocole, Episode.repris_par)):
                bloc(protocole).repris_par[_cle(repris)] = n
            indesirable = Episode.evenement_indesirable.is_(True)
            for protocole, n in s.execute(suivis.add_columns(func.count()).where(indesirable)
                                          .group_by(Episode.protocole)):
                bloc(protocole).evenements_indesirables = n
            plafond = self.moteur.registre.commun.suivi_episode.motif_cloture_plafond
            for protocole, motif, n in s.execute(suivis.add_columns(Episode.motif_cloture, func.count())
                                                 .where(Episode.motif_cloture.is_not(None))
                                                 .group_by(Episode.protocole, Episode.motif_cloture)):
                bloc(protocole).clotures[_cle(motif)] = n
                if motif == plafond:
                    bloc(protocole).clos_au_plafond = n
            episode_dap = EvenementAudit.details["episode"].as_string()
            format_dap = EvenementAudit.details["format"].as_string()
            dap = (select(Episode.protocole, func.count(distinct(Episode.id)))
                   .join(episodes, episodes.c.episode_id == Episode.id)
                   .join(EvenementAudit, and_(EvenementAudit.type == "export_episode", episode_dap == Episode.id,
                                              format_dap == "dap"))
                   .group_by(Episode.protocole))
            for protocole, n in s.execute(dap):
                bloc(protocole).dap = n
            if self.moteur.registre.mesures is not None:
                self._resultats(s, episodes, bloc)
        with self.uow.ecriture() as (_, chaine):
            chaine.ajouter("rapport", acteur, details={"du": du.isoformat(), "au": au.isoformat()})
        return resultat

    def _resultats(self, s: Any, episodes: Any, bloc: Any) -> None:
        """The measured outcomes of the period's closed episodes, by protocol, route and measure (issue #30): each
        episode's measure read as the episode panel reads it (first → latest complete score)."""
        params = self.moteur.registre.mesures
        assert params is not None
        points: dict[tuple[str, str, str], list[tuple[str, str, float]]] = {}
        lignes = s.execute(select(Episode.id, Episode.protocole, MesureTable.mesure, MesureTable.jour,
                                  MesureTable.moment, MesureTable.score)
                           .join(episodes, episodes.c.episode_id == Episode.id)
                           .join(MesureTable, MesureTable.episode_id == Episode.id)
                           .where(Episode.statut == "clos", MesureTable.score.is_not(None))
                           .order_by(MesureTable.jour, MesureTable.cree_le))
        for eid, protocole, mesure, jour, moment, score in lignes:
            points.setdefault((eid, protocole, mesure), []).append((jour.isoformat(), moment, float(score)))
        voies = _voies_des_episodes(s, episodes) if points else {}  # read only when an outcome is there
        suivies = {(p, m.id): m for p in {cle[1] for cle in points} for m in params.suivies(p)}
        for (eid, protocole, mid), pts in points.items():
            if (protocole, mid) not in suivies:
                continue
            suivi = suivre(suivies[(protocole, mid)], pts)
            if suivi.lecture is None:
                continue
            r = bloc(protocole).resultats.setdefault(voies.get(eid, ""), {}).setdefault(mid, ResultatMesure())
            r.episodes += 1
            r.ameliores += suivi.lecture == "amelioration"
            if suivi.variation is not None:
                r.variations.append(suivi.variation)


def _voies_des_episodes(s: Any, episodes: Any) -> dict[str, str]:
    """Each episode's route: that of its latest final triage."""
    lignes = s.execute(select(Triage.episode_id, _VOIE).join(episodes, episodes.c.episode_id == Triage.episode_id)
                       .where(Triage.statut == "final").order_by(Triage.date_consultation, Triage.cree_le))
    return {eid: _cle(v) for eid, v in lignes}


def _elements(dialecte: str, chemin: str, drapeaux: bool) -> Any:
    """Per protocol, the ids of a result's JSON array (``motifs`` with a referral level, or
    ``criteres_non_remplis``), counted: ``json_each`` on SQLite, ``jsonb_array_elements`` on PostgreSQL."""
    if dialecte == "postgresql":
        niveau = "AND j.value ->> 'niveau' IS NOT NULL" if drapeaux else ""
        return text(f"""
            SELECT e.protocole, j.value ->> 'id' AS ident, count(*) AS n
            FROM triages t JOIN episodes e ON e.id = t.episode_id,
                 jsonb_array_elements(t.resultat -> '{chemin}') AS j
            WHERE t.statut = 'final' AND t.date_consultation BETWEEN :du AND :au {niveau}
            GROUP BY e.protocole, ident""")
    niveau = "AND json_extract(j.value, '$.niveau') IS NOT NULL" if drapeaux else ""
    return text(f"""
        SELECT e.protocole, json_extract(j.value, '$.id') AS ident, count(*) AS n
        FROM triages t JOIN episodes e ON e.id = t.episode_id, json_each(t.resultat, '$.{chemin}') AS j
        WHERE t.statut = 'final' AND t.date_consultation BETWEEN :du AND :au {niveau}
        GROUP BY e.protocole, ident""")
