"""Pydantic models: frozen, ``extra="forbid"``; the shapes of protocols, parameters, cases and results."""
