"""Service settings from the environment (NIGHTHAWK_*), validated when the server starts."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.priority import Priority
from nighthawk.service.db import DEFAULT_SQLITE_URL
from nighthawk.service.hl7.orders import DEFAULT_ACCESSION_FIELDS, DEFAULT_PRIORITIES

# A field an accession may be read from: ORC-2/3, OBR-2/3/18, IPC-1.
AccessionField = Annotated[str, Field(pattern=r"^(ORC-[23]|OBR-(2|3|18)|IPC-1)$")]


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
    hl7_port: int | None = Field(
        default=None, ge=1, le=65535, description="MLLP port for HL7 v2 orders; off when unset."
    )
    hl7_host: str = Field(default="127.0.0.1", description="Interface the MLLP listener binds.")
    hl7_accession_fields: list[AccessionField] = Field(
        default_factory=lambda: list(DEFAULT_ACCESSION_FIELDS),
        min_length=1,
        description="Where an order's accession is read from, first found wins.",
    )
    hl7_priorities: dict[str, Priority] = Field(
        default_factory=lambda: dict(DEFAULT_PRIORITIES),
        description="HL7 priority codes (table 0027) to ours.",
    )
