"""Hypothesis strategies that build whole practices: tiny, but with every rule in play.

Readers hold random licenses and credentials (some expiring around now, a few mid-shift),
read some modalities and subspecialties, at speeds 0.5 / 1 / 2, with a backlog, on shifts
that may start later or end soon. Studies come in all three priorities, some overdue already,
some already assigned, some requiring a subspecialty.

The clock is fixed at NOW = 2026-12-05T07:30:00Z: 23:30 on Dec 4 in California and Nevada, so
a license or privilege dated Dec 4 there lapses at 08:00Z, thirty minutes into the night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import us
from hypothesis import strategies as st

from models.domain import Credential, Facility, License, SlaMinutes
from models.priority import Modality, Priority
from models.snapshot import (
    PreferenceWeights,
    Settings,
    Snapshot,
    SnapshotRadiologist,
    SnapshotStudy,
)

NOW = datetime(2026, 12, 5, 7, 30, tzinfo=UTC)
SMALL_STATE_POOL = ("CA", "NV", "WY", "TX")
LARGE_STATE_POOL = ("CA", "NV", "WY", "TX", "NY", "FL")
MODALITY_POOL = (Modality.CT, Modality.MR, Modality.XR)
SUBSPECIALTY_POOL = ("neuro", "body", "msk")
EXACT_SPEEDS = (0.5, 1.0, 2.0)
INEXACT_SPEEDS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)
# Days after "today" (local) on which a license or credential expires; None never expires.
# 0 in a Pacific state expires thirty minutes after NOW; -1 in a Mountain or Central state
# has just lapsed.
EXPIRY_OFFSETS_DAYS = (-1, 0, 1, 30)


@dataclass(frozen=True)
class _Site:
    id: str
    state: str
    zone: str
    listed: bool


def _capital_zone(state: str) -> str:
    found = us.states.lookup(state)
    return getattr(found, "capital_tz", None) or "America/New_York"


def _state_zones(state: str) -> list[str]:
    """Every zone a facility in this state may keep (El Paso, Texas, keeps Mountain time)."""
    found = us.states.lookup(state)
    return list(getattr(found, "time_zones", None) or [_capital_zone(state)])


def _minutes(draw: st.DrawFn, low: int, high: int, exact_times: bool) -> float:
    """Minutes between low and high: whole minutes if exact, else to the millisecond."""
    if exact_times:
        return float(draw(st.integers(low, high)))
    return draw(st.integers(low * 60_000, high * 60_000)) / 60_000


def _at(minutes_from_now: float) -> datetime:
    return NOW + timedelta(minutes=minutes_from_now)


def _expiry(draw: st.DrawFn, zone: str) -> date | None:
    offset = draw(st.one_of(st.none(), st.sampled_from(EXPIRY_OFFSETS_DAYS)))
    if offset is None:
        return None
    return NOW.astimezone(ZoneInfo(zone)).date() + timedelta(days=offset)


def _often(draw: st.DrawFn) -> bool:
    """True three times in four: readers usually hold a license or credential on offer."""
    return draw(st.sampled_from((True, True, True, False)))


@st.composite
def _sites(draw: st.DrawFn, states: list[str], max_facilities: int) -> list[_Site]:
    count = draw(st.integers(1, max_facilities))
    sites = []
    for index in range(1, count + 1):
        state = draw(st.sampled_from(states))
        listed = draw(st.booleans())
        # An unlisted facility is dated in its state capital's zone, as the validator does.
        zone = draw(st.sampled_from(_state_zones(state))) if listed else None
        sites.append(_Site(f"F{index}", state, zone or _capital_zone(state), listed))
    return sites


@st.composite
def _sla(draw: st.DrawFn) -> SlaMinutes:
    return draw(
        st.one_of(
            st.just(SlaMinutes()),
            st.builds(
                SlaMinutes,
                STAT=st.sampled_from((15.0, 30.0, 45.0, 60.0)),
                URGENT=st.sampled_from((60.0, 120.0, 240.0)),
                ROUTINE=st.sampled_from((720.0, 1440.0)),
            ),
        )
    )


@st.composite
def _settings(draw: st.DrawFn) -> Settings:
    weight = st.sampled_from((0.0, 0.5, 1.0, 2.0, 5.0))
    custom = st.builds(
        Settings,
        preference_weights=st.builds(
            PreferenceWeights,
            workload_balance=weight,
            subspecialty_mismatch=weight,
            moved_study=weight,
        ),
        sla_minutes=_sla(),
    )
    return draw(st.one_of(st.just(Settings()), custom))


@st.composite
def _radiologist(
    draw: st.DrawFn, index: int, states: list[str], sites: list[_Site], exact_times: bool
) -> SnapshotRadiologist:
    licenses = [
        License(state=state, expires_on=_expiry(draw, _capital_zone(state)))
        for state in states
        if _often(draw)
    ]
    if licenses and draw(st.integers(0, 9)) == 0:
        # A renewal on file beside the license it replaces: either one is enough.
        state = licenses[0].state
        licenses.append(License(state=state, expires_on=_expiry(draw, _capital_zone(state))))
    credentials = [
        Credential(facility=site.id, expires_on=_expiry(draw, site.zone))
        for site in sites
        if _often(draw)
    ]
    start = draw(
        st.one_of(
            st.just(0.0),
            st.builds(lambda m: -m, st.integers(1, 600).map(float)),  # started earlier
            st.integers(1, 120).map(float),  # starts later tonight
        )
    )
    if not exact_times:
        start += draw(st.integers(0, 59_999)) / 60_000
    length = draw(
        st.one_of(
            st.integers(10, 120).map(float),  # ends soon
            st.integers(121, 720).map(float),
        )
    )
    end = max(start, 0.0) + length
    return SnapshotRadiologist(
        id=f"R{index}",
        licenses=licenses,
        credentials=credentials,
        subspecialties=draw(st.lists(st.sampled_from(SUBSPECIALTY_POOL), max_size=2, unique=True)),
        modalities=draw(
            st.one_of(
                st.just([]),  # most readers read everything
                st.just([]),
                st.lists(st.sampled_from(MODALITY_POOL), min_size=1, max_size=2, unique=True),
            )
        ),
        speed=draw(st.sampled_from(EXACT_SPEEDS if exact_times else INEXACT_SPEEDS)),
        backlog_minutes=_minutes(draw, 0, 30, exact_times),
        shift_start=_at(start),
        shift_end=_at(end),
    )


@st.composite
def _study(
    draw: st.DrawFn, index: int, sites: list[_Site], reader_ids: list[str], exact_times: bool
) -> SnapshotStudy:
    site = draw(st.sampled_from(sites))
    subspecialty = draw(st.one_of(st.none(), st.sampled_from(SUBSPECIALTY_POOL)))
    arrived = -_minutes(draw, 0, 1500, exact_times)
    due_after = draw(st.one_of(st.none(), st.integers(0, 720)))  # may already be past
    if exact_times:
        expected = float(draw(st.integers(1, 40)))
    else:
        expected = draw(st.integers(6_000, 2_400_000)) / 60_000
    return SnapshotStudy(
        id=f"S{index}",
        facility=site.id,
        state=site.state,
        modality=draw(st.sampled_from(MODALITY_POOL)),
        subspecialty=subspecialty,
        subspecialty_required=draw(st.booleans()) if subspecialty else False,
        priority=draw(st.sampled_from(list(Priority))),
        arrived_at=_at(arrived),
        due_at=None if due_after is None else _at(arrived + due_after),
        expected_minutes=expected,
        assigned_to=draw(st.one_of(st.none(), st.sampled_from(reader_ids))) if reader_ids else None,
    )


@st.composite
def _practice(
    draw: st.DrawFn,
    *,
    min_studies: int,
    max_studies: int,
    min_radiologists: int,
    max_radiologists: int,
    exact_times: bool,
    state_pool: tuple[str, ...],
    max_facilities: int,
) -> Snapshot:
    states = draw(st.lists(st.sampled_from(state_pool), min_size=1, max_size=3, unique=True))
    sites = draw(_sites(states, max_facilities))
    reader_count = draw(st.integers(min_radiologists, max_radiologists))
    readers = [
        draw(_radiologist(i, states, sites, exact_times)) for i in range(1, reader_count + 1)
    ]
    reader_ids = [r.id for r in readers]
    study_count = draw(st.integers(min_studies, max_studies))
    studies = [draw(_study(i, sites, reader_ids, exact_times)) for i in range(1, study_count + 1)]
    facilities = [
        Facility(id=site.id, state=site.state, timezone=site.zone, sla_minutes=draw(_sla()))
        for site in sites
        if site.listed
    ]
    return Snapshot(
        now=NOW,
        radiologists=readers,
        studies=studies,
        facilities=facilities,
        settings=draw(_settings()),
    )


def practices(
    max_studies: int = 6,
    max_radiologists: int = 3,
    exact_times: bool = True,
    *,
    min_studies: int = 1,
    min_radiologists: int = 1,
) -> st.SearchStrategy[Snapshot]:
    """Tiny but rich practices, small enough to brute-force (6 studies, 3 readers by default).

    With exact_times every time and duration is a whole number of seconds (times on whole
    minutes, reading times on multiples of 30 s), so a solver counting integer seconds is exact;
    otherwise times fall on arbitrary milliseconds and speeds include 0.75, 1.25, 1.5 and 3.
    """
    return _practice(
        min_studies=min_studies,
        max_studies=max_studies,
        min_radiologists=min_radiologists,
        max_radiologists=max_radiologists,
        exact_times=exact_times,
        state_pool=SMALL_STATE_POOL,
        max_facilities=3,
    )


def larger_practices(
    max_studies: int = 40,
    max_radiologists: int = 6,
    exact_times: bool = True,
    *,
    min_studies: int = 1,
    min_radiologists: int = 1,
) -> st.SearchStrategy[Snapshot]:
    """Practices too large to brute-force (up to 40 studies, 6 readers), for validity checks."""
    return _practice(
        min_studies=min_studies,
        max_studies=max_studies,
        min_radiologists=min_radiologists,
        max_radiologists=max_radiologists,
        exact_times=exact_times,
        state_pool=LARGE_STATE_POOL,
        max_facilities=5,
    )
