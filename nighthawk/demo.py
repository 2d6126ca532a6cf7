"""Seeded demo practices: one realistic moment of a teleradiology night, reproducible by seed.

Figures follow the domain primer: about 14 state licenses per reader, CT-heavy volume with CT reads
near 16 minutes, STAT 10% / URGENT 25% / ROUTINE 65%, per-facility contracts over practice defaults.
Every study normally has at least one eligible reader by construction: studies are placed only
at facilities whose credentialed, licensed readers can read them. About 1% deliberately go to a
facility whose credentialing is still in progress: a real worklist always holds a few such studies.

`contested=True` models a small night pool under pressure: more STATs arriving in the last minutes,
few licenses concentrated on a handful of states, so each STAT has only a few eligible readers and
their combined STAT minutes exceed what they can finish before the due times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import us

from models.domain import Credential, Facility, License, SlaMinutes
from models.priority import DEFAULT_SLA_MINUTES, Modality, Priority
from models.snapshot import Snapshot, SnapshotRadiologist, SnapshotStudy

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_NOW = datetime(2026, 12, 5, 7, 30, tzinfo=UTC)

STATES = list(us.states.STATES)
MODALITIES = list(Modality)
PRIORITIES = [Priority.STAT, Priority.URGENT, Priority.ROUTINE]
SUBSPECIALTIES = ["neuro", "msk", "body", "chest", "peds", "breast", "cardiac"]
_SUB = {name: index for index, name in enumerate(SUBSPECIALTIES)}
_NO_SUB = len(SUBSPECIALTIES)  # the "no subspecialty required" column of a coverage key
_NO_EXPIRY = 10**6  # day offset meaning "no expires_on recorded"

# Volume mix by modality (CT 45%, XR 25%, US 13%, MR 12%, the rest 5%), in MODALITIES order.
_MODALITY_SHARE = {
    "CT": 0.45,
    "MR": 0.12,
    "XR": 0.25,
    "US": 0.13,
    "NM": 0.015,
    "PET": 0.01,
    "MG": 0.015,
    "FL": 0.01,
}
# Mean and log-spread of reading minutes (J Imaging 2022 for CT; radiographs 2-4, MR 15-25).
_READ_MINUTES = {
    "CT": (16.0, 0.45),
    "MR": (20.0, 0.40),
    "XR": (3.0, 0.35),
    "US": (8.0, 0.40),
    "NM": (15.0, 0.40),
    "PET": (20.0, 0.35),
    "MG": (5.0, 0.35),
    "FL": (10.0, 0.40),
}
# Which subspecialty a study leans to, given its modality.
_STUDY_SUBSPECIALTY = {
    "CT": {"neuro": 0.35, "body": 0.30, "chest": 0.20, "msk": 0.08, "peds": 0.04, "cardiac": 0.03},
    "MR": {"neuro": 0.50, "msk": 0.30, "body": 0.12, "peds": 0.05, "breast": 0.03},
    "XR": {"msk": 0.50, "chest": 0.40, "peds": 0.10},
    "US": {"body": 0.70, "peds": 0.15, "breast": 0.10, "msk": 0.05},
    "NM": {"body": 0.40, "cardiac": 0.40, "chest": 0.20},
    "PET": {"body": 0.60, "neuro": 0.20, "chest": 0.20},
    "MG": {"breast": 1.0},
    "FL": {"body": 0.70, "peds": 0.30},
}
# How common each subspecialty is among readers.
_READER_SUBSPECIALTY = {
    "neuro": 0.25,
    "msk": 0.15,
    "body": 0.25,
    "chest": 0.12,
    "peds": 0.08,
    "breast": 0.08,
    "cardiac": 0.07,
}
# Readers who read only some modalities, and the subsets they keep.
_RESTRICTED_SHARE = 0.15
_MODALITY_SUBSETS = [
    (["XR", "US"], 0.35),
    (["CT", "MR"], 0.40),
    (["CT", "MR", "XR"], 0.15),
    (["MG", "US", "XR"], 0.10),
]
# Contracts that override the practice defaults (a stroke centre wants STAT in 20 minutes).
_CONTRACT_SHARE = 0.20
_CONTRACTS = [
    ({"STAT": 20.0}, 0.40),
    ({"STAT": 45.0}, 0.25),
    ({"STAT": 20.0, "URGENT": 60.0}, 0.20),
    ({"ROUTINE": 2880.0}, 0.15),
]
_FACILITY_KINDS = [
    "General Hospital",
    "Medical Center",
    "Regional Hospital",
    "Community Hospital",
    "Imaging Center",
    "University Hospital",
    "Children's Hospital",
    "Memorial Hospital",
]


@dataclass(frozen=True)
class _Mix:
    """The knobs that differ between an ordinary night and a contested one."""

    priority_shares: tuple[float, float, float]
    arrival_window_minutes: tuple[float, float, float]  # how far back each class arrives
    stat_recency: float  # >1 bunches STAT arrivals toward now (u**k of the window)
    licenses_mean: float
    licenses_range: tuple[int, int]
    core_states: int | None  # licenses drawn only from the busiest states
    credential_share: float  # share of facilities in licensed states that credential a reader


_NORMAL = _Mix(
    priority_shares=(0.10, 0.25, 0.65),
    arrival_window_minutes=(25.0, 100.0, 1200.0),
    stat_recency=1.0,
    licenses_mean=14.0,
    licenses_range=(4, 35),
    core_states=None,
    credential_share=0.85,
)
# Tuned so that on 150 studies x 12 readers each STAT has a median of 2-4 eligible readers and
# greedy dispatch breaches most STATs, of which only a minority would breach on an idle reader.
_CONTESTED = _Mix(
    priority_shares=(0.25, 0.30, 0.45),
    arrival_window_minutes=(20.0, 100.0, 1200.0),
    stat_recency=2.0,
    licenses_mean=5.0,
    licenses_range=(4, 6),
    core_states=8,
    credential_share=0.45,
)


@dataclass(frozen=True)
class _Facilities:
    models: list[Facility]
    state: IntArray  # index into STATES
    volume: FloatArray  # relative sending volume; a few hospitals send much more
    sla: FloatArray  # facility x priority, minutes


@dataclass(frozen=True)
class _Readers:
    licensed: BoolArray  # reader x state
    license_days: IntArray  # reader x state, days from today to expires_on
    credentialed: BoolArray  # reader x facility
    credential_days: IntArray  # reader x facility
    reads: BoolArray  # reader x modality
    holds: BoolArray  # reader x subspecialty


def generate_snapshot(
    studies: int,
    radiologists: int,
    seed: int,
    contested: bool = False,
    now: datetime | None = None,
) -> Snapshot:
    """A realistic practice snapshot, identical for identical arguments."""
    if studies < 0 or radiologists < 0:
        raise ValueError("studies and radiologists must not be negative")
    now = now or DEFAULT_NOW
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    mix = _CONTESTED if contested else _NORMAL
    rng = np.random.default_rng(seed)
    facilities = _make_facilities(rng, min(2000, max(20, studies // 8)))
    # One facility is still being credentialed: nobody may read for it yet.
    onboarding = int(rng.integers(len(facilities.models)))
    readers = _make_readers(rng, radiologists, facilities, onboarding, mix)
    study_models = _make_studies(rng, studies, now, facilities, readers, onboarding, mix)
    return Snapshot(
        now=now,
        radiologists=_radiologist_models(rng, now, facilities, readers),
        studies=study_models,
        facilities=facilities.models,
    )


def snapshot_to_json(snapshot: Snapshot) -> str:
    """The snapshot as indented JSON, leaving out unset optional fields."""
    return snapshot.model_dump_json(indent=2, exclude_none=True)


# --- facilities -------------------------------------------------------------------------------


def _make_facilities(rng: np.random.Generator, count: int) -> _Facilities:
    state = _facility_states(rng, count)
    volume = rng.lognormal(0.0, 1.0, size=count)
    kind = rng.integers(len(_FACILITY_KINDS), size=count)
    contract = np.where(
        rng.random(count) < _CONTRACT_SHARE,
        rng.choice(len(_CONTRACTS), size=count, p=[p for _, p in _CONTRACTS]),
        -1,
    )
    models: list[Facility] = []
    sla = np.empty((count, len(PRIORITIES)))
    for index in range(count):
        where = STATES[state[index]]
        has_contract = contract[index] >= 0
        terms = SlaMinutes(**_CONTRACTS[contract[index]][0]) if has_contract else SlaMinutes()
        sla[index] = [terms.minutes(p, DEFAULT_SLA_MINUTES) for p in PRIORITIES]
        models.append(
            Facility(
                id=f"fac-{index + 1:03d}",
                name=f"{where.capital} {_FACILITY_KINDS[kind[index]]}",
                state=where.abbr,
                timezone=where.capital_tz,
                sla_minutes=terms,
            )
        )
    return _Facilities(models=models, state=state, volume=volume, sla=sla)


def _facility_states(rng: np.random.Generator, count: int) -> IntArray:
    # Every state gets a facility before any state gets a second, so the practice spans all 50.
    first = rng.permutation(len(STATES))
    popularity = rng.lognormal(0.0, 0.8, size=len(STATES))
    extra = rng.choice(len(STATES), size=max(0, count - len(STATES)), p=_normalised(popularity))
    return np.concatenate([first, extra])[:count].astype(np.int64)


# --- readers: licenses, credentials, abilities -------------------------------------------------


def _make_readers(
    rng: np.random.Generator, count: int, facilities: _Facilities, onboarding: int, mix: _Mix
) -> _Readers:
    state_volume: FloatArray = np.bincount(
        facilities.state, weights=facilities.volume, minlength=len(STATES)
    ).astype(np.float64)
    licensed = _license_states(rng, count, state_volume, mix)
    # Credentials only where a reader is licensed: a hospital would not grant privileges otherwise.
    credentialed = licensed[:, facilities.state] & (
        rng.random((count, len(facilities.models))) < mix.credential_share
    )
    credentialed[:, onboarding] = False
    license_days = _expiry_days(rng, licensed.shape)
    credential_days = _expiry_days(rng, credentialed.shape)
    licensed_now = (licensed & (license_days >= 0))[:, facilities.state]
    licensed_now[:, onboarding] = False
    _keep_two_readers(rng, credentialed, credential_days, licensed_now)
    return _Readers(
        licensed=licensed,
        license_days=license_days,
        credentialed=credentialed,
        credential_days=credential_days,
        reads=_modalities_read(rng, count),
        holds=_subspecialties_held(rng, count),
    )


def _keep_two_readers(
    rng: np.random.Generator,
    credentialed: BoolArray,
    credential_days: IntArray,
    licensed_now: BoolArray,
) -> None:
    """Credential more licensed readers (in place) where a facility has fewer than two valid ones.

    A group does not sign a contract it can cover with one reader; a single reader on a break
    would leave the hospital unread. Facilities in states nobody is licensed in stay uncovered.
    """
    valid = credentialed & (credential_days >= 0) & licensed_now
    for facility in np.flatnonzero(valid.sum(axis=0) < 2):
        candidates = np.flatnonzero(licensed_now[:, facility] & ~valid[:, facility])
        need = min(2 - int(valid[:, facility].sum()), len(candidates))
        picks = rng.choice(candidates, size=need, replace=False)
        credentialed[picks, facility] = True
        credential_days[picks, facility] = _NO_EXPIRY


def _license_states(
    rng: np.random.Generator, count: int, state_volume: FloatArray, mix: _Mix
) -> BoolArray:
    if mix.core_states is None:
        # Readers license where the work is, with some licenses in quiet states too.
        weight = state_volume + 0.2 * state_volume.mean()
    else:
        busiest = np.argsort(-state_volume, kind="stable")[: mix.core_states]
        weight = np.zeros(len(STATES))
        weight[busiest] = state_volume[busiest]
    low, high = mix.licenses_range
    per_reader = np.clip(rng.poisson(mix.licenses_mean, size=count), low, high)
    return _weighted_subsets(rng, weight, per_reader)


def _weighted_subsets(rng: np.random.Generator, weight: FloatArray, counts: IntArray) -> BoolArray:
    """Row i holds counts[i] items drawn by weight without replacement (Gumbel top-k)."""
    positive = weight > 0
    log_weight = np.where(positive, np.log(np.where(positive, weight, 1.0)), -np.inf)
    keys = log_weight[None, :] + rng.gumbel(size=(len(counts), len(weight)))
    rank = np.argsort(np.argsort(-keys, axis=1, kind="stable"), axis=1, kind="stable")
    return (rank < counts[:, None]) & positive[None, :]


def _expiry_days(rng: np.random.Generator, shape: tuple[int, ...]) -> IntArray:
    """Days from today to expires_on: most have none recorded, ~2% already lapsed.

    Dates stay at least two days from today, so validity does not hinge on whose midnight counts.
    """
    draw = rng.random(shape)
    future = rng.integers(3, 731, size=shape)
    past = -rng.integers(2, 401, size=shape)
    days = np.full(shape, _NO_EXPIRY, dtype=np.int64)
    days = np.where(draw < 0.18, future, days)
    return np.where(draw < 0.02, past, days)


def _modalities_read(rng: np.random.Generator, count: int) -> BoolArray:
    reads = np.ones((count, len(MODALITIES)), dtype=bool)
    restricted = np.flatnonzero(rng.random(count) < _RESTRICTED_SHARE)
    subset = rng.choice(
        len(_MODALITY_SUBSETS), size=len(restricted), p=[p for _, p in _MODALITY_SUBSETS]
    )
    for reader, choice in zip(restricted, subset, strict=True):
        kept = _MODALITY_SUBSETS[choice][0]
        reads[reader] = [m.value in kept for m in MODALITIES]
    return reads


def _subspecialties_held(rng: np.random.Generator, count: int) -> BoolArray:
    per_reader = rng.choice(3, size=count, p=[0.30, 0.50, 0.20])
    weight = np.array([_READER_SUBSPECIALTY[s] for s in SUBSPECIALTIES])
    return _weighted_subsets(rng, weight, per_reader)


def _coverage(facilities: _Facilities, readers: _Readers) -> FloatArray:
    """Facility x (modality, required subspecialty) key: how many readers could read it.

    Key m * (subspecialties + 1) + s; s = _NO_SUB when no subspecialty is required.
    """
    license_ok = readers.licensed & (readers.license_days >= 0)
    valid = readers.credentialed & (readers.credential_days >= 0) & license_ok[:, facilities.state]
    holds_or_none = np.concatenate([readers.holds, np.ones((len(valid), 1), dtype=bool)], axis=1)
    able = (readers.reads[:, :, None] & holds_or_none[:, None, :]).reshape(
        len(valid), len(MODALITIES) * (len(SUBSPECIALTIES) + 1)
    )
    # float32 counts are exact far beyond any practice size, and use BLAS.
    result: FloatArray = valid.T.astype(np.float32) @ able.astype(np.float32)
    return result


# --- studies -----------------------------------------------------------------------------------


def _make_studies(
    rng: np.random.Generator,
    count: int,
    now: datetime,
    facilities: _Facilities,
    readers: _Readers,
    onboarding: int,
    mix: _Mix,
) -> list[SnapshotStudy]:
    modality = rng.choice(
        len(MODALITIES),
        size=count,
        p=_normalised(np.array([_MODALITY_SHARE[m.value] for m in MODALITIES])),
    )
    priority = _priority_quota(rng, count, mix.priority_shares)
    subspecialty, required = _study_subspecialties(rng, modality)
    facility, required = _place_studies(
        rng, modality, subspecialty, required, facilities, _coverage(facilities, readers)
    )
    # A few studies come from the hospital still being credentialed: no one may read them yet.
    uncovered = rng.choice(count, size=min(count, round(0.01 * count)), replace=False)
    facility[uncovered] = onboarding
    minutes = _reading_minutes(rng, modality)
    window = np.array(mix.arrival_window_minutes)[priority]
    share_of_window = rng.random(count)
    # A surge is happening now: STATs bunched near now are tight but still winnable, so
    # breaches come from contention for the few eligible readers, not from the clock alone.
    share_of_window = np.where(priority == 0, share_of_window**mix.stat_recency, share_of_window)
    seconds_ago = np.floor(share_of_window * window * 60.0).astype(np.int64)
    due_minutes = facilities.sla[facility, priority]
    reader_count = len(readers.reads)
    assigned = (rng.random(count) < 0.20) & (reader_count > 0)
    assignee = rng.integers(max(reader_count, 1), size=count)
    # Ids follow arrival order, as accession numbers do.
    order = np.argsort(-seconds_ago, kind="stable")
    studies: list[SnapshotStudy] = []
    for number, index in enumerate(order, start=1):
        arrived_at = now - timedelta(seconds=int(seconds_ago[index]))
        sub = int(subspecialty[index])
        fac = int(facility[index])
        studies.append(
            SnapshotStudy(
                id=f"st-{number:05d}",
                facility=facilities.models[fac].id,
                state=facilities.models[fac].state,
                modality=MODALITIES[modality[index]],
                subspecialty=SUBSPECIALTIES[sub] if sub != _NO_SUB else None,
                subspecialty_required=bool(required[index]),
                priority=PRIORITIES[priority[index]],
                arrived_at=arrived_at,
                due_at=arrived_at + timedelta(minutes=float(due_minutes[index])),
                expected_minutes=float(minutes[index]),
                assigned_to=f"rad-{assignee[index] + 1:03d}" if assigned[index] else None,
            )
        )
    return studies


def _priority_quota(
    rng: np.random.Generator, count: int, shares: tuple[float, float, float]
) -> IntArray:
    """Exact class counts (largest remainder), shuffled.

    Independent draws would swing a 150-study night between 19% and 35% STAT by seed alone;
    a quota keeps the pressure of a given mix comparable across seeds.
    """
    exact = np.array(shares) * count
    counts = np.floor(exact).astype(np.int64)
    short = count - int(counts.sum())
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return rng.permutation(np.repeat(np.arange(len(PRIORITIES)), counts))


def _study_subspecialties(
    rng: np.random.Generator, modality: IntArray
) -> tuple[IntArray, BoolArray]:
    """~35% lean to a subspecialty; ~8% require one, mostly neuro or peds on MR and CT."""
    count = len(modality)
    subspecialty = np.full(count, _NO_SUB, dtype=np.int64)
    has = rng.random(count) < 0.35
    for m, name in enumerate(MODALITIES):
        chosen = np.flatnonzero(has & (modality == m))
        leaning = _STUDY_SUBSPECIALTY[name.value]
        names = list(leaning)
        share = _normalised(np.array(list(leaning.values())))
        picks = rng.choice(len(names), size=len(chosen), p=share)
        subspecialty[chosen] = [_SUB[names[p]] for p in picks]
    strict_kind = np.isin(subspecialty, [_SUB["neuro"], _SUB["peds"]]) & np.isin(
        modality, [MODALITIES.index(Modality.MR), MODALITIES.index(Modality.CT)]
    )
    chance = np.where(strict_kind, 0.55, 0.12)
    required = (subspecialty != _NO_SUB) & (rng.random(count) < chance)
    return subspecialty, required


def _place_studies(
    rng: np.random.Generator,
    modality: IntArray,
    subspecialty: IntArray,
    required: BoolArray,
    facilities: _Facilities,
    coverage: FloatArray,
) -> tuple[IntArray, BoolArray]:
    """Send each study from a facility where someone can read it, busy hospitals more often.

    Studies first land by volume; those that landed where nobody could read them move to a
    facility that has such a reader, chosen by volume again. If nobody in the practice holds the
    required subspecialty for that modality, the requirement is dropped (the contract would not
    demand what the group cannot supply).
    """
    width = len(SUBSPECIALTIES) + 1
    key = modality * width + np.where(required, subspecialty, _NO_SUB)
    facility = rng.choice(len(facilities.models), size=len(key), p=_normalised(facilities.volume))
    required = required.copy()
    stuck_mask = coverage[facility, key] == 0
    for stuck_key in np.unique(key[stuck_mask]):
        stuck = np.flatnonzero(stuck_mask & (key == stuck_key))
        usable = coverage[:, stuck_key] > 0
        if not usable.any():
            required[stuck] = False
            usable = coverage[:, (stuck_key // width) * width + _NO_SUB] > 0
        if not usable.any():
            continue  # nobody in the practice reads this modality: the study stays unreadable
        facility[stuck] = rng.choice(
            len(facilities.models), size=len(stuck), p=_normalised(facilities.volume * usable)
        )
    return facility, required


def _reading_minutes(rng: np.random.Generator, modality: IntArray) -> FloatArray:
    mean = np.array([_READ_MINUTES[m.value][0] for m in MODALITIES])[modality]
    sigma = np.array([_READ_MINUTES[m.value][1] for m in MODALITIES])[modality]
    # Lognormal with the given mean: mu = ln(mean) - sigma^2 / 2.
    minutes: FloatArray = rng.lognormal(np.log(mean) - sigma**2 / 2, sigma)
    rounded: FloatArray = np.round(np.clip(minutes, 1.0, 90.0), 1).astype(np.float64)
    return rounded


# --- radiologist models ------------------------------------------------------------------------


def _radiologist_models(
    rng: np.random.Generator, now: datetime, facilities: _Facilities, readers: _Readers
) -> list[SnapshotRadiologist]:
    count = len(readers.reads)
    speed = np.round(np.clip(rng.lognormal(0.0, 0.18, size=count), 0.6, 1.6), 2)
    # Backlog is the rest of a read in progress: usually a few minutes, now and then 20.
    backlog = np.round(20.0 * rng.beta(1.0, 2.0, size=count), 1)
    shift_start, shift_end = _shift_minutes(rng, count)
    today = now.date()
    # Credentials without an expiry are identical across readers; frozen models can be shared.
    open_credentials = [Credential(facility=f.id) for f in facilities.models]
    models: list[SnapshotRadiologist] = []
    for r in range(count):
        restricted = not readers.reads[r].all()
        models.append(
            SnapshotRadiologist(
                id=f"rad-{r + 1:03d}",
                licenses=_licenses(readers, r, today),
                credentials=_credentials(readers, r, today, facilities, open_credentials),
                subspecialties=[SUBSPECIALTIES[s] for s in np.flatnonzero(readers.holds[r])],
                modalities=[m for m, ok in zip(MODALITIES, readers.reads[r], strict=True) if ok]
                if restricted
                else [],
                speed=float(speed[r]),
                shift_start=now + timedelta(minutes=float(shift_start[r])),
                shift_end=now + timedelta(minutes=float(shift_end[r])),
                backlog_minutes=float(backlog[r]),
            )
        )
    return models


def _shift_minutes(rng: np.random.Generator, count: int) -> tuple[IntArray, IntArray]:
    """Whole minutes from now: most started 0-8 h ago and end 1-10 h ahead; ~5% start soon."""
    start = -rng.integers(0, 481, size=count)
    end = rng.integers(60, 601, size=count)
    starting_soon = rng.random(count) < 0.05
    later_start = rng.integers(5, 61, size=count)
    start = np.where(starting_soon, later_start, start)
    end = np.where(starting_soon, later_start + rng.integers(480, 601, size=count), end)
    return start, end


def _licenses(readers: _Readers, r: int, today: date) -> list[License]:
    held = np.flatnonzero(readers.licensed[r])
    return [
        License(state=STATES[s].abbr, expires_on=_expires_on(today, readers.license_days[r, s]))
        for s in held
    ]


def _credentials(
    readers: _Readers, r: int, today: date, facilities: _Facilities, shared: list[Credential]
) -> list[Credential]:
    result: list[Credential] = []
    for f in np.flatnonzero(readers.credentialed[r]):
        days = readers.credential_days[r, f]
        if days == _NO_EXPIRY:
            result.append(shared[f])
        else:
            result.append(
                Credential(facility=facilities.models[f].id, expires_on=_expires_on(today, days))
            )
    return result


def _expires_on(today: date, days: np.int64) -> date | None:
    return None if days == _NO_EXPIRY else today + timedelta(days=int(days))


def _normalised(weight: FloatArray) -> FloatArray:
    total = weight.sum()
    result: FloatArray = weight / total
    return result
