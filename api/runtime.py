"""What a running API process holds: the database engine, the services and the jobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from nighthawk.service.assignment import AssignmentService
from nighthawk.service.auth import TokenVerifier
from nighthawk.service.clock import Clock
from nighthawk.service.jobs import Jobs
from nighthawk.service.plans import PlanService
from nighthawk.service.roster import RosterService
from nighthawk.service.settings import ServiceSettings


@dataclass
class Runtime:
    settings: ServiceSettings
    engine: Engine
    clock: Clock
    assignments: AssignmentService
    roster: RosterService
    tokens: TokenVerifier
    plans: PlanService
    jobs: Jobs | None = None
    hl7: Any = None  # the MLLP listener's asyncio.Server, when one runs
