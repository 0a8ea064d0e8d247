"""Settings: environment variables ``TRIAGE_*`` and an optional TOML file, with embedded defaults.

With nothing set, the app keeps its data in a SQLite file under ``data/`` (created on first start).
Several users or instances: ``TRIAGE_DATABASE_URL=postgresql+psycopg://user@host/base``.
An optional file ``triage.toml`` (or the path in ``TRIAGE_CONFIG``) may hold the same keys.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


class Reglages(BaseSettings):
    """Where data lives and how the app behaves; every value has a safe default."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="forbid", frozen=True)

    data_dir: Path = Field(Path("data"), description="Dossier des données (base SQLite, exports)")
    database_url: str | None = Field(None, description="URL SQLAlchemy ; par défaut SQLite dans data_dir")
    sqlite_busy_timeout_ms: int = Field(5000, ge=0, description="Attente maximale d'un verrou SQLite")
    inactivite_minutes: float = Field(15, gt=0, description="Verrouillage de la session après inactivité (min)")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        fichier = Path(os.environ.get("TRIAGE_CONFIG", "triage.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if fichier.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=fichier))
        return tuple(sources)

    @property
    def url_base(self) -> str:
        """The database URL in use (the embedded SQLite file when none is configured)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'triage.sqlite').as_posix()}"


@cache
def reglages() -> Reglages:
    """The settings, read once per process: the page's every run and every service call share them (a running server's
    environment and file do not change; ``reglages.cache_clear()`` forgets them, for the tests that change them)."""
    return Reglages()
