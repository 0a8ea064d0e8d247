"""Exports of a triage: the médecin's summary (PDF, plain text, FHIR) and the patient handout."""
