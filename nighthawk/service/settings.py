"""Service settings from the environment (NIGHTHAWK_*), validated when the server starts."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from nighthawk.service.db import DEFAULT_SQLITE_URL


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NIGHTHAWK_", extra="ignore")

    db: str = Field(default=DEFAULT_SQLITE_URL, description="SQLAlchemy database URL.")
    admin_token: str | None = Field(
        default=None, min_length=16, repr=False, description="Bootstraps a token named 'admin'."
    )
    jobs: bool = Field(default=True, description="Run the re-plan and watchdog jobs.")
    patient_key: str | None = Field(
        default=None,
        min_length=32,
        repr=False,
        description="Key of the hash that groups a patient's studies; default: the database's.",
    )
    tick_seconds: float = Field(default=5.0, gt=0, le=300)
    replan_seconds: float = Field(default=30.0, gt=0, le=3600)
    min_replan_gap_seconds: float = Field(default=5.0, ge=0, le=3600)
    replan_time_limit: float = Field(default=1.0, gt=0, le=60)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    demo: bool = False
    demo_studies_per_hour: float = Field(default=45.0, ge=0, le=100_000)
