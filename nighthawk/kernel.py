"""The rules every part of nighthawk shares, each written once.

The engine, the live dispatcher, the service's reports, the coverage planner and the simulator
all ask the same questions: until when may this reader read this kind of study, does a read
finish in time, when is a study due, and when does each queued read start and finish. The
answers live here and nowhere else (`tests/nighthawk/test_kernel_consumers.py` holds every
caller to them on random practices).

Times are float minutes on the caller's axis (after a snapshot's `now`, a scenario's start or a
dispatcher's origin); `-inf` as a "valid until" means never held.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from models.domain import RadiologistProfile, SlaMinutes
from models.priority import DEFAULT_SLA_MINUTES, Modality, Priority
from nighthawk.clock import state_time_zone, valid_until_minutes

# A read must finish by its limit (shift end, license, privileges); this much float noise, well
# under a second, is forgiven so that a read planned to end exactly at the limit still fits.
FINISH_SLACK_MINUTES = 1e-6
# A read in hand that has overrun its expectation is assumed to need at least this much more.
MIN_REMAINING_MINUTES = 1.0
NEVER = -math.inf
DEFAULT_ZONE = "America/New_York"


# ----- rights: licenses, privileges, modalities, subspecialties --------------------------------
@dataclass(frozen=True)
class Rights:
    """What one reader may read, and until when (minutes on the caller's axis)."""

    licenses: Mapping[str, float]  # state -> valid until
    credentials: Mapping[str, float]  # facility -> valid until
    modalities: frozenset[Modality]  # empty: reads every modality
    subspecialties: frozenset[str]

    def until(
        self, state: str, facility: str, modality: Modality, required_subspecialty: str | None
    ) -> float:
        """Until when this reader may read such a study (`NEVER` if not at all).

        Hard rules: an active license in the patient's state, active privileges at the facility
        (each valid to the end of its expiry date in the state's or facility's zone), the
        modality among those read, and a required subspecialty held.
        """
        if self.modalities and modality not in self.modalities:
            return NEVER
        if required_subspecialty is not None and required_subspecialty not in self.subspecialties:
            return NEVER
        return min(self.licenses.get(state, NEVER), self.credentials.get(facility, NEVER))

    @property
    def breadth(self) -> float:
        """How much kinds of work these rights open, ignoring expiry: facilities with
        privileges, times modalities read (all 8 when unrestricted), times subspecialties held
        plus one. Only compared between readers, to keep the versatile free."""
        modalities = len(self.modalities) or len(Modality)
        return float(len(self.credentials) * modalities * (1 + len(self.subspecialties)))


def facility_zone_of(facility: str, zones: Mapping[str, str], state: str | None = None) -> str:
    """The zone a facility's privileges are dated in: its contract's, else its state's."""
    zone = zones.get(facility)
    if zone:
        return zone
    return state_time_zone(state) if state else DEFAULT_ZONE


def rights_of(
    profile: RadiologistProfile, origin: datetime, credential_zone: Callable[[str], str]
) -> Rights:
    """A reader's rights on the axis starting at `origin`. A license is dated in its state's
    zone, privileges in the facility's; two documents for one key (a renewal on file): the later
    expiry counts."""
    return rights_from(
        [(lic.state, lic.expires_on) for lic in profile.licenses],
        [(cred.facility, cred.expires_on) for cred in profile.credentials],
        profile.modalities,
        profile.subspecialties,
        origin,
        credential_zone,
    )


def rights_from(
    licenses: Iterable[tuple[str, date | None]],
    credentials: Iterable[tuple[str, date | None]],
    modalities: Iterable[Modality | str],
    subspecialties: Iterable[str],
    origin: datetime,
    credential_zone: Callable[[str], str],
) -> Rights:
    """`rights_of` from plain (key, expires_on) pairs, as the service's rows hold them."""
    held_licenses: dict[str, float] = {}
    for state, expires_on in licenses:
        until = valid_until_minutes(origin, expires_on, state_time_zone(state))
        held_licenses[state] = max(until, held_licenses.get(state, NEVER))
    held_credentials: dict[str, float] = {}
    for facility, expires_on in credentials:
        until = valid_until_minutes(origin, expires_on, credential_zone(facility))
        held_credentials[facility] = max(until, held_credentials.get(facility, NEVER))
    return Rights(
        licenses=held_licenses,
        credentials=held_credentials,
        modalities=frozenset(Modality(m) for m in modalities),
        subspecialties=frozenset(subspecialties),
    )


def holds_through(until: Any, end: Any) -> Any:
    """Hard: rights cover a stretch of time only if they hold to its end (a license that lapses
    mid-hour leaves the rest of the hour uncovered). Works on numbers and numpy arrays."""
    return until >= end


def on_duty_throughout(shift_start: Any, shift_end: Any, start: Any, end: Any) -> Any:
    """A reader covers a stretch of time only if on duty for all of it, not just a moment."""
    return (shift_start <= start) & (shift_end >= end)


def fits(finish: float, limit: float) -> bool:
    """Hard: a read must finish by its limit (shift end, license and privileges)."""
    return finish <= limit + FINISH_SLACK_MINUTES


def is_late(finish: float, due: float) -> bool:
    """A read finishing after its due time (beyond float noise) breaks its contract."""
    return finish > due + FINISH_SLACK_MINUTES


# ----- due times ---------------------------------------------------------------------------------
def sla_minutes(
    priority: Priority,
    contract: SlaMinutes | None = None,
    defaults: Mapping[Priority, float] | None = None,
) -> float:
    """The turnaround a study is owed: its facility's contract for the priority, else the
    practice's default, else the product's (STAT 30, URGENT 120, ROUTINE 1440 minutes)."""
    fallback = {**DEFAULT_SLA_MINUTES, **(defaults or {})}
    if contract is None:
        return float(fallback[priority])
    return contract.minutes(priority, fallback)


def due_at(
    arrived_at: datetime,
    priority: Priority,
    contract: SlaMinutes | None = None,
    defaults: Mapping[Priority, float] | None = None,
) -> datetime:
    """When a study must be read: arrival plus the turnaround it is owed."""
    return arrived_at + timedelta(minutes=sla_minutes(priority, contract, defaults))


# ----- predictions -------------------------------------------------------------------------------
def remaining_minutes(expected_minutes: float, elapsed_minutes: float) -> float:
    """Minutes a read in hand still needs: what was expected minus what has passed, and at
    least a minute once it overruns (it is still being read, so not zero)."""
    return max(expected_minutes - elapsed_minutes, MIN_REMAINING_MINUTES)


def ready_at(now: float, shift_start: float, in_hand_minutes: float = 0.0) -> float:
    """When a reader can start new work: after the read in hand, and not before the shift."""
    return max(now + in_hand_minutes, shift_start)


def walk(ready: float, minutes: Iterable[float]) -> tuple[list[float], list[float]]:
    """Predicted (starts, finishes) of a queue read back to back from `ready`."""
    starts: list[float] = []
    finishes: list[float] = []
    clock = ready
    for duration in minutes:
        starts.append(clock)
        clock += duration
        finishes.append(clock)
    return starts, finishes
