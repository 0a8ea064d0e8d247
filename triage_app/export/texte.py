"""The summary as plain text, for pasting into a secure message (MSSanté)."""

from __future__ import annotations

from triage_app import presentation as pr
from triage_app.export.resume import Resume


def _motif(mo: pr.VueMotif) -> str:
    return f"{mo.libelle} (source : {mo.source_titre} ; {mo.badge})"


def _liste(titre: str, motifs: list[pr.VueMotif]) -> list[str]:
    """A titled list of reasons with their sources: one reason on the title's line, several below it."""
    if len(motifs) == 1:
        return [f"{titre} : {_motif(motifs[0])}"]
    return [f"{titre} :"] + [f"  - {_motif(mo)}" for mo in motifs]


def _facturation(c: pr.Carte) -> list[str]:
    """Why not the protocol, the billing route, its lines with who pays what, and the remarks."""
    lignes = _liste(pr.PROTOCOLE_NON_APPLICABLE, c.criteres_non_remplis) if c.criteres_non_remplis else []
    if c.voie:
        lignes.append(f"Facturation : {c.voie}")
        lignes += [f"  - {li.code} {li.libelle} : {li.montant}{li.qui_paie}" for li in c.lignes]
        lignes += [f"  {r}" for r in (*c.parts, *c.remarques)]
    return lignes


def texte(r: Resume) -> str:
    """A plain-text summary: short lines, no markup, every motif with its source."""
    c = r.carte
    lignes = [f"Compte rendu de triage kinésithérapique — {r.protocole}", ""]
    if r.patient:
        lignes.append(f"Patient : {r.patient}, né(e) le {r.date_naissance} ({r.age} ans)")
    else:
        lignes.append(f"Patient : né(e) le {r.date_naissance} ({r.age} ans)")
    if (pe := r.personnes) is not None:
        lignes.append(f"Identité : {pe.identite}" + (f" ; {pe.ins}" if pe.ins else ""))
        if pe.traits:
            lignes.append(f"Traits d’identité : {pe.traits}")
        lignes.append(f"Destinataire : {pe.destinataire or 'médecin traitant non renseigné'}")
    lignes += [f"Consultation du {r.date_consultation} ; début des symptômes le {r.date_debut}",
               f"Cadre : {r.structure}" + (f" (département {r.departement})" if r.departement else ""),
               f"Protocole : {r.protocole} (règles {r.version_protocole})", ""]
    lignes.append(f"ORIENTATION : {c.orientation_libelle or 'aucune (réponses manquantes)'}")
    if c.consigne:
        lignes.append(c.consigne)
    if c.motifs:
        lignes.append("Motifs :")
        lignes += [f"  - {_motif(mo)}" for mo in c.motifs]
    # What to request or prescribe first (the card's order), then the sessions.
    if c.radiographie:
        lignes.append(f"À FAIRE : {c.radiographie}" + (f" — critères positifs : {' ; '.join(c.radiographie_raisons)}"
                                                       if c.radiographie_raisons else "")
                      + (f" (source : {c.radiographie_source.source_titre} ; {c.radiographie_source.badge})"
                         if c.radiographie_source else ""))
    if c.prescriptions:
        lignes.append("Prescriptions possibles dans le protocole : " + " ; ".join(c.prescriptions))
    if c.duree:
        lignes.append(f"Durée : {c.duree}")
    if r.ottawa and not c.radiographie:  # an indication is already the « À FAIRE » line
        lignes.append(f"Règles d’Ottawa : {r.ottawa}")
    if r.startback:
        lignes.append(f"STarT Back : {r.startback}")
    if c.avis_medical:
        lignes.append("Avis médical recommandé.")
    if c.seances:
        lignes.append(f"Séances : {c.seances['autorisees']} permises, {c.seances['realisees']} réalisée(s), "
                      f"{c.seances['restantes']} restante(s)")
    if c.conseils_kine:
        lignes += _liste(pr.CONSEIL_KINE, c.conseils_kine)
    # A referral to a médecin comes first and alone: its billing details go after the answers.
    facturation = _facturation(c)
    if not c.renvoi_medical:
        lignes += facturation
    lignes += ["", "Questions posées :"]
    for g in r.groupes:
        lignes.append(f"  {g.libelle}")
        lignes += [f"    - {q.libelle} {q.reponse}" for q in g.reponses]
    if c.renvoi_medical and facturation:
        lignes += ["", f"{pr.FACTURATION_DETAIL} :", *(f"  {x}" for x in facturation)]
    if r.note:
        lignes += ["", f"Note du kinésithérapeute : {r.note}"]
    if r.mesures_patient:  # the patient's measures on the episode (issue #30)
        lignes += ["", "Mesures rapportées par le patient :", *(f"  {x['mesure']} : {x['texte']}"
                                                                for x in r.mesures_patient)]
    for x in r.textes_kine:  # the kiné's texts kept on the episode (issue #29)
        lignes += ["", f"{x['rubrique']} :", *(f"  {ligne}" for ligne in x["texte"].splitlines())]
    lignes += ["", f"Triage {r.triage_id or '—'} (version {r.version or '—'}, {r.statut})"
               + (f", finalisé le {r.finalise_le}" if r.finalise_le else "")
               + (f" par {r.auteur}" if r.auteur else ""),
               *([f"Rédigé par : {r.personnes.auteur}"] if r.personnes and r.personnes.auteur else []),
               *([f"Structure : {r.personnes.structure}"] if r.personnes and r.personnes.structure else []),
               f"Empreinte des règles : {r.empreinte_regles}",
               "Aide à la décision : ne remplace pas le jugement clinique."]
    return "\n".join(lignes) + "\n"
