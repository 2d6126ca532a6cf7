"""The demo practice for `nighthawk serve --demo`: a seeded roster every facility can rely on.

Every facility must be readable at every hour of the next day, and stay rostered when the demo
is restarted on a later day. Everything goes through the real RosterService, so the demo uses
the same code paths, audit trail and re-planning as production traffic.

Figures follow the domain primer (shared with the offline generator in `nighthawk.demo`):
per-facility contracts over practice defaults, licenses weighted toward the states the work
comes from. The practice is small (40 readers), so readers hold about 8 of the 25 states'
licenses rather than the 14 of a national group.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import us
from sqlalchemy import Connection, func, select

from models.api import FacilityIn, RadiologistIn, ShiftIn
from models.domain import Credential, License, SlaMinutes
from models.priority import Modality
from models.tables import AUDIT, FACILITY, RADIOLOGIST, SHIFT, Role
from nighthawk.clock import state_time_zone
from nighthawk.demo import _CONTRACTS, _MODALITY_SUBSETS
from nighthawk.service.auth import Principal
from nighthawk.service.db import read_transaction
from nighthawk.service.roster import RosterService

logger = logging.getLogger(__name__)

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEMO_ACTOR = Principal("demo", Role.ADMIN)

HORIZON_HOURS = 24  # the seeded roster covers this many hours from `now`
MIN_ON_SHIFT = 3  # "a few readers are on" at every hour, whatever the facility
_NO_EXPIRY = 10**6  # day offset meaning "no expires_on recorded"

# --- practice shape -------------------------------------------------------------------------

_SUBSPECIALTIES = ("neuro", "msk", "body", "peds", "cardiac", "breast")
_READER_SUBSPECIALTY = np.array([0.30, 0.18, 0.28, 0.09, 0.07, 0.08])  # in _SUBSPECIALTIES order
_LICENSES_MEAN = 7.5
_LICENSES_RANGE = (4, 16)
_CREDENTIAL_SHARE = 0.85  # of the facilities in a reader's licensed states
_EXPIRING_SHARE = 0.04  # licenses/credentials up for renewal within weeks
_EXPIRING_DAYS = (10, 43)  # still valid all through the seeded day, in any time zone
_RESTRICTED_SHARE = 0.10
_CONTRACT_SHARE = 0.25
_SPEED_RANGE = (0.8, 1.3)
_SHIFT_HOURS = (8, 12)
# Shift starts run from this many hours before `now` to the end of the horizon, evenly, so
# readers hand over one by one instead of in two big waves.
_EARLIEST_START_HOURS = -8
_REST_HOURS = 8  # at least this long between the end of a reader's shift and their next
_COVER_HOURS = 10  # an extra shift added to close a gap

# Kinds of sending facility and how much each sends, relative to a community hospital. The
# feed reads the kind back out of the name, so the size survives a server restart.
_KIND_SIZE = {
    "Regional Medical Center": 3.0,
    "University Hospital": 3.5,
    "Medical Center": 2.5,
    "Memorial Hospital": 1.5,
    "Community Hospital": 1.0,
    "Children's Hospital": 1.0,
    "Imaging Center": 0.4,
    "Hospital": 1.8,
}
_KIND_SHARE = np.array([0.12, 0.05, 0.18, 0.12, 0.20, 0.05, 0.10, 0.18])  # _KIND_SIZE order
_NAME_PREFIXES = (
    "Mercy",
    "St. Luke's",
    "Providence",
    "Baptist",
    "Good Samaritan",
    "Sacred Heart",
    "Methodist",
    "Presbyterian",
    "Lakeview",
    "Riverside",
    "Valley",
    "Summit",
)
# A few real cities per state besides the capital, so names read like real hospitals.
_CITIES = {
    "AL": ("Birmingham", "Huntsville", "Mobile"),
    "AK": ("Anchorage", "Fairbanks"),
    "AZ": ("Tucson", "Mesa", "Flagstaff"),
    "AR": ("Fayetteville", "Fort Smith", "Jonesboro"),
    "CA": ("Fresno", "Oakland", "San Diego", "Redding"),
    "CO": ("Colorado Springs", "Pueblo", "Grand Junction"),
    "CT": ("Bridgeport", "New Haven", "Stamford"),
    "DE": ("Wilmington", "Newark", "Lewes"),
    "FL": ("Jacksonville", "Tampa", "Ocala", "Pensacola"),
    "GA": ("Savannah", "Macon", "Augusta"),
    "HI": ("Hilo", "Kailua", "Lihue"),
    "ID": ("Idaho Falls", "Pocatello", "Coeur d'Alene"),
    "IL": ("Peoria", "Rockford", "Champaign"),
    "IN": ("Fort Wayne", "Evansville", "South Bend"),
    "IA": ("Cedar Rapids", "Davenport", "Sioux City"),
    "KS": ("Wichita", "Salina", "Hays"),
    "KY": ("Louisville", "Lexington", "Bowling Green"),
    "LA": ("Shreveport", "Lafayette", "Monroe"),
    "ME": ("Portland", "Bangor", "Lewiston"),
    "MD": ("Baltimore", "Frederick", "Salisbury"),
    "MA": ("Worcester", "Springfield", "Lowell"),
    "MI": ("Grand Rapids", "Flint", "Marquette"),
    "MN": ("Duluth", "Rochester", "St. Cloud"),
    "MS": ("Gulfport", "Tupelo", "Hattiesburg"),
    "MO": ("Springfield", "Joplin", "Columbia"),
    "MT": ("Billings", "Missoula", "Great Falls"),
    "NE": ("Omaha", "Grand Island", "Kearney"),
    "NV": ("Reno", "Las Vegas", "Elko"),
    "NH": ("Manchester", "Nashua", "Keene"),
    "NJ": ("Newark", "Camden", "Paterson"),
    "NM": ("Albuquerque", "Las Cruces", "Roswell"),
    "NY": ("Buffalo", "Rochester", "Syracuse"),
    "NC": ("Charlotte", "Asheville", "Greenville"),
    "ND": ("Fargo", "Grand Forks", "Minot"),
    "OH": ("Cleveland", "Dayton", "Toledo"),
    "OK": ("Tulsa", "Lawton", "Enid"),
    "OR": ("Portland", "Eugene", "Bend"),
    "PA": ("Pittsburgh", "Allentown", "Erie"),
    "RI": ("Warwick", "Newport", "Woonsocket"),
    "SC": ("Charleston", "Greenville", "Florence"),
    "SD": ("Sioux Falls", "Rapid City", "Aberdeen"),
    "TN": ("Memphis", "Knoxville", "Chattanooga"),
    "TX": ("El Paso", "Lubbock", "Amarillo", "Tyler"),
    "UT": ("Provo", "Ogden", "St. George"),
    "VT": ("Burlington", "Rutland", "Bennington"),
    "VA": ("Norfolk", "Roanoke", "Lynchburg"),
    "WA": ("Spokane", "Yakima", "Tacoma"),
    "WV": ("Huntington", "Morgantown", "Wheeling"),
    "WI": ("Milwaukee", "Green Bay", "Eau Claire"),
    "WY": ("Casper", "Laramie", "Sheridan"),
}
_FIRST_NAMES = (
    "Ana", "Benjamin", "Chloe", "David", "Elena", "Farid", "Grace", "Hiroshi", "Isabel", "James",
    "Kavya", "Liam", "Maria", "Nathan", "Olivia", "Priya", "Rafael", "Sarah", "Thomas", "Wei",
)  # fmt: skip
_LAST_NAMES = (
    "Adams", "Bennett", "Chen", "Delgado", "Evans", "Fischer", "Gupta", "Hughes", "Ibrahim",
    "Johnson", "Kowalski", "Lopez", "Morgan", "Nakamura", "Okafor", "Patel", "Quinn", "Russo",
    "Schmidt", "Turner",
)  # fmt: skip


@dataclass(frozen=True)
class DemoPractice:
    facilities: int
    radiologists: int
    shifts: int
    states: list[str]


# --- the practice before it is written ------------------------------------------------------


@dataclass
class _Practice:
    """Index arrays of the practice being generated; readers r, states s, facilities f, hours h.

    `unrestricted` marks the readers who can cover a facility on their own: they read every
    modality (and, for a practice loaded from the database, are available). `existing` holds
    shifts already in the database; `shifts` only those this run adds.
    """

    now: datetime
    states: list[str]
    facility_state: IntArray  # f -> s
    facility_kind: IntArray  # f -> index into _KIND_SIZE
    licensed: BoolArray  # r x s
    license_days: IntArray  # r x s, days from today to expires_on
    credentialed: BoolArray  # r x f
    credential_days: IntArray  # r x f
    unrestricted: BoolArray  # r: reads every modality, so covers whatever a facility sends
    shifts: list[tuple[int, datetime, datetime]] = field(default_factory=list)
    on_shift: BoolArray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))  # r x h
    existing: list[tuple[int, datetime, datetime]] = field(default_factory=list)

    def hour(self, h: int) -> tuple[datetime, datetime]:
        start = self.now + timedelta(hours=h)
        return start, start + timedelta(hours=1)

    def add_shift(self, reader: int, start: datetime, end: datetime) -> None:
        """Record a new shift and the horizon hours it spans from start to finish."""
        self.shifts.append((reader, start, end))
        self._mark(reader, start, end)

    def add_existing(self, reader: int, start: datetime, end: datetime) -> None:
        """Record a shift the database already holds."""
        self.existing.append((reader, start, end))
        self._mark(reader, start, end)

    def _mark(self, reader: int, start: datetime, end: datetime) -> None:
        self.on_shift[reader, self.spanned(start, end)] = True

    def spanned(self, start: datetime, end: datetime) -> list[int]:
        """Horizon hours a shift from start to end spans from start to finish."""
        return [
            h for h in range(HORIZON_HOURS) if start <= self.hour(h)[0] and end >= self.hour(h)[1]
        ]

    def shifts_of(self, reader: int) -> list[tuple[int, datetime, datetime]]:
        """The reader's shifts, existing and new."""
        return [shift for shift in (*self.existing, *self.shifts) if shift[0] == reader]

    def last_end(self, reader: int) -> datetime | None:
        """When the reader's last shift ends; None if they have none."""
        return max((end for _, _, end in self.shifts_of(reader)), default=None)

    def heads(self, start: datetime, end: datetime) -> int:
        """Readers on shift (existing or new) all the way from start to end."""
        shifts = (*self.existing, *self.shifts)
        return len({r for r, s, e in shifts if s <= start and e >= end})

    def free(self, reader: int, start: datetime, end: datetime) -> bool:
        """No shift of the reader (existing or new) overlaps [start, end)."""
        return not any(s < end and e > start for _, s, e in self.shifts_of(reader))

    def privileged(self, f: int) -> BoolArray:
        """Readers who may read anything facility f sends, all through the horizon."""
        s = self.facility_state[f]
        return (
            self.unrestricted
            & self.licensed[:, s]
            & (self.license_days[:, s] >= 2)
            & self.credentialed[:, f]
            & (self.credential_days[:, f] >= 2)
        )

    def eligible(self, f: int, h: int) -> BoolArray:
        """Readers who could read anything facility f sends during hour h."""
        return self.privileged(f) & self.on_shift[:, h]

    def enough(self) -> int:
        """Readers who should be on at every hour: MIN_ON_SHIFT, if the practice has them."""
        return min(MIN_ON_SHIFT, int(self.unrestricted.sum()))

    def understaffed(self) -> list[int]:
        """Horizon hours with fewer than `enough` unrestricted readers on shift."""
        on = (self.on_shift & self.unrestricted[:, None]).sum(axis=0)
        return [int(h) for h in np.flatnonzero(on < self.enough())]


def seed_demo_practice(
    roster: RosterService,
    *,
    now: datetime,
    seed: int = 7,
    facilities: int = 120,
    radiologists: int = 40,
    states: int = 25,
) -> DemoPractice:
    """Seed the demo practice through the roster service; the same seed gives the same practice.

    Idempotent: if any facility already exists in the database, seed no facilities or readers
    and report what is there, so restarting `serve --demo` on the same database never
    duplicates the roster. On an existing database it calls `ensure_demo_shifts`, so a demo
    restarted the next day gets tomorrow's shifts (and a restart the same day adds none).
    """
    if _has_facilities(roster):
        ensure_demo_shifts(roster, now=now, seed=seed)
        return _existing_practice(roster)
    if not 1 <= states <= len(us.states.STATES) or facilities < states or radiologists < 1:
        raise ValueError("demo: need 1-50 states, a facility per state and at least one reader")
    rng = np.random.default_rng(seed)
    practice = _generate(rng, now, facilities, radiologists, states)
    _write(roster, practice, rng)
    return DemoPractice(
        facilities=facilities,
        radiologists=radiologists,
        shifts=len(practice.shifts),
        states=sorted(practice.states),
    )


def _has_facilities(roster: RosterService) -> bool:
    with read_transaction(roster.engine) as connection:
        return connection.execute(select(FACILITY.c.id).limit(1)).first() is not None


def _existing_practice(roster: RosterService) -> DemoPractice:
    with read_transaction(roster.engine) as connection:
        facility_count = connection.execute(select(func.count()).select_from(FACILITY)).scalar()
        reader_count = connection.execute(select(func.count()).select_from(RADIOLOGIST)).scalar()
        shift_count = connection.execute(select(func.count()).select_from(SHIFT)).scalar()
        codes = connection.execute(select(FACILITY.c.state).distinct()).scalars().all()
    return DemoPractice(
        facilities=int(facility_count or 0),
        radiologists=int(reader_count or 0),
        shifts=int(shift_count or 0),
        states=sorted(codes),
    )


def ensure_demo_shifts(roster: RosterService, *, now: datetime, seed: int = 7) -> int:
    """Roster the next 24 h of an existing demo practice if it runs short; return shifts added.

    Nothing happens unless the database holds the practice `seed_demo_practice` wrote (its
    audit trail says so: never touch somebody else's roster) and some hour of the next 24 h
    has fewer than `MIN_ON_SHIFT` unrestricted, available readers on. Then the rota carries
    on at the strength and stagger of the initial seeding (`_continue_rota`), and extra
    shifts close whatever gaps remain as they do there, so every facility has an eligible
    reader at every hour. Only shifts are added: licenses and credentials stay as the
    database has them. The same day gives the same roster; a second call finds the day
    staffed and adds nothing (until the end of the rostered day comes within 24 h).
    """
    with read_transaction(roster.engine) as connection:
        if not _is_demo_practice(connection):
            return 0
        practice, reader_ids, available = _load(connection, now)
    if not practice.understaffed():
        return 0
    rng = np.random.default_rng([seed, now.toordinal()])
    _continue_rota(rng, practice, available)
    _close_gaps(rng, practice, grant=False)
    _write_shifts(roster, practice, reader_ids)
    logger.info("demo: added %d shifts for the next %d h", len(practice.shifts), HORIZON_HOURS)
    return len(practice.shifts)


def _is_demo_practice(connection: Connection) -> bool:
    """The demo actor put the readers: this database holds the demo practice."""
    query = select(AUDIT.c.seq).where(
        AUDIT.c.actor == DEMO_ACTOR.name, AUDIT.c.action == "radiologist.put"
    )
    return connection.execute(query.limit(1)).first() is not None


def _load(connection: Connection, now: datetime) -> tuple[_Practice, list[str], BoolArray]:
    """The practice as the database holds it, in the index form the shift planner works on.

    Returns the practice, the reader ids by index and which readers are available.
    """
    facilities = connection.execute(
        select(FACILITY.c.id, FACILITY.c.state).order_by(FACILITY.c.id)
    ).all()
    readers = connection.execute(select(RADIOLOGIST).order_by(RADIOLOGIST.c.id)).all()
    shifts = connection.execute(
        select(SHIFT.c.radiologist_id, SHIFT.c.start, SHIFT.c.end).where(
            SHIFT.c.end > now - timedelta(hours=_SHIFT_HOURS[1] + _REST_HOURS)
        )
    ).all()
    states = sorted({f.state for f in facilities})
    state_index = {code: s for s, code in enumerate(states)}
    facility_index = {f.id: i for i, f in enumerate(facilities)}
    reader_index = {r.id: i for i, r in enumerate(readers)}
    shape_s, shape_f = (len(readers), len(states)), (len(readers), len(facilities))
    licensed, license_days = np.zeros(shape_s, dtype=bool), np.zeros(shape_s, dtype=np.int64)
    credentialed = np.zeros(shape_f, dtype=bool)
    credential_days = np.zeros(shape_f, dtype=np.int64)
    today = now.date()
    for r, row in enumerate(readers):
        for item in row.licenses:
            if (s := state_index.get(item.get("state"))) is not None:
                licensed[r, s], license_days[r, s] = True, _days(today, item.get("expires_on"))
        for item in row.credentials:
            if (f := facility_index.get(item.get("facility"))) is not None:
                credentialed[r, f] = True
                credential_days[r, f] = _days(today, item.get("expires_on"))
    practice = _Practice(
        now=now,
        states=states,
        facility_state=np.array([state_index[f.state] for f in facilities], dtype=np.int64),
        facility_kind=np.zeros(len(facilities), dtype=np.int64),
        licensed=licensed,
        license_days=license_days,
        credentialed=credentialed,
        credential_days=credential_days,
        unrestricted=np.array([bool(r.available) and not r.modalities for r in readers], bool),
        on_shift=np.zeros((len(readers), HORIZON_HOURS), dtype=bool),
    )
    for shift in shifts:
        if (index := reader_index.get(shift.radiologist_id)) is not None:
            practice.add_existing(index, shift.start, shift.end)
    available = np.array([bool(r.available) for r in readers], dtype=bool)
    return practice, [r.id for r in readers], available


def _days(today: date, expires_on: str | None) -> int:
    return _NO_EXPIRY if not expires_on else (date.fromisoformat(expires_on) - today).days


def _generate(
    rng: np.random.Generator, now: datetime, facilities: int, readers: int, states: int
) -> _Practice:
    all_states = [s.abbr for s in us.states.STATES]
    chosen = sorted(all_states[i] for i in rng.choice(len(all_states), states, replace=False))
    facility_state = _facility_states(rng, facilities, states)
    kinds = rng.choice(len(_KIND_SIZE), size=facilities, p=_KIND_SHARE / _KIND_SHARE.sum())
    size = np.array(list(_KIND_SIZE.values()))[kinds]
    state_volume: FloatArray = np.bincount(facility_state, weights=size, minlength=states).astype(
        np.float64
    )
    licensed = _licenses(rng, readers, state_volume)
    credentialed = licensed[:, facility_state] & (
        rng.random((readers, facilities)) < _CREDENTIAL_SHARE
    )
    practice = _Practice(
        now=now,
        states=chosen,
        facility_state=facility_state,
        facility_kind=kinds,
        licensed=licensed,
        license_days=_expiry_days(rng, licensed.shape),
        credentialed=credentialed,
        credential_days=_expiry_days(rng, credentialed.shape),
        unrestricted=rng.random(readers) >= _RESTRICTED_SHARE,
        on_shift=np.zeros((readers, HORIZON_HOURS), dtype=bool),
    )
    _stagger_shifts(rng, practice)
    _close_gaps(rng, practice)
    return practice


def _facility_states(rng: np.random.Generator, count: int, states: int) -> IntArray:
    """Every state gets a facility before any gets a second; then busy states get more."""
    popularity = rng.lognormal(0.0, 0.8, size=states)
    extra = rng.choice(states, size=count - states, p=popularity / popularity.sum())
    return np.concatenate([rng.permutation(states), extra]).astype(np.int64)


def _licenses(rng: np.random.Generator, readers: int, state_volume: FloatArray) -> BoolArray:
    """Readers license where the work is, with some licenses in quiet states too."""
    weight = state_volume + 0.2 * state_volume.mean()
    low, high = _LICENSES_RANGE
    per_reader = np.clip(rng.poisson(_LICENSES_MEAN, size=readers), low, min(high, len(weight)))
    licensed = np.zeros((readers, len(weight)), dtype=bool)
    for reader, count in enumerate(per_reader):
        picks = rng.choice(len(weight), size=int(count), replace=False, p=weight / weight.sum())
        licensed[reader, picks] = True
    return licensed


def _expiry_days(rng: np.random.Generator, shape: tuple[int, ...]) -> IntArray:
    """Most have no recorded expiry; a few are up for renewal within weeks (still valid now)."""
    expiring = rng.random(shape) < _EXPIRING_SHARE
    soon = rng.integers(*_EXPIRING_DAYS, size=shape)
    return np.where(expiring, soon, _NO_EXPIRY).astype(np.int64)


def _stagger_shifts(rng: np.random.Generator, practice: _Practice) -> None:
    """One 8-12 h shift per reader, starts spread evenly so readers hand over one at a time.

    Starts are on whole hours (as rosters are), from a few hours before `now` (night readers
    already working) to the last hour of the horizon.
    """
    readers = len(practice.unrestricted)
    base = practice.now.replace(minute=0, second=0, microsecond=0)
    offsets = np.round(np.linspace(_EARLIEST_START_HOURS, HORIZON_HOURS - 1, readers))
    lengths = rng.integers(_SHIFT_HOURS[0], _SHIFT_HOURS[1] + 1, size=readers)
    for reader, slot in enumerate(rng.permutation(readers)):
        start = base + timedelta(hours=int(offsets[slot]))
        practice.add_shift(reader, start, start + timedelta(hours=int(lengths[reader])))


def _continue_rota(rng: np.random.Generator, practice: _Practice, available: BoolArray) -> None:
    """Shifts that carry an existing roster on through the horizon at its usual strength.

    The initial stagger keeps about `usual` readers on at a time, handing over a few an hour.
    Hour by hour, from `_EARLIEST_START_HOURS` on (so a practice whose roster ran out long
    ago has readers already working at `now`, as when it was first seeded), readers start
    8-12 h shifts while fewer than `usual` are on, at most a few starting each hour. First
    to start is the reader who lets the most facilities be read in hours nobody covers yet
    (fewer extra shifts to close gaps afterwards), then the one off longest; nobody starts
    within `_REST_HOURS` of another shift.
    """
    readers = len(practice.unrestricted)
    facilities = range(len(practice.facility_state))
    privileged = np.array([practice.privileged(f) for f in facilities], bool).reshape(-1, readers)
    span = HORIZON_HOURS - _EARLIEST_START_HOURS
    usual = int(np.ceil(readers * np.mean(_SHIFT_HOURS) / span))
    per_hour = int(np.ceil(readers / span)) + 1
    rest = timedelta(hours=_REST_HOURS)
    base = practice.now.replace(minute=0, second=0, microsecond=0)
    for offset in range(_EARLIEST_START_HOURS, HORIZON_HOURS):
        start = base + timedelta(hours=offset)
        for _ in range(per_hour):
            if practice.heads(start, start + timedelta(hours=1)) >= usual:
                break
            end = start + timedelta(hours=int(rng.integers(_SHIFT_HOURS[0], _SHIFT_HOURS[1] + 1)))
            rested = [
                int(r)
                for r in rng.permutation(np.flatnonzero(available))
                if practice.free(int(r), start - rest, end + rest)
            ]
            if not rested:
                break
            hours = practice.spanned(start, end)
            uncovered = (privileged.astype(np.int64) @ practice.on_shift[:, hours]) == 0  # f x h
            closes = privileged[:, rested].T.astype(np.int64) @ uncovered.astype(np.int64)
            gaps_closed = closes.sum(axis=1) if hours else np.zeros(len(rested), dtype=np.int64)
            never = start - timedelta(days=365)
            best = min(
                range(len(rested)),
                key=lambda i: (-gaps_closed[i], practice.last_end(rested[i]) or never),
            )  # the first of equals wins, and `rested` is shuffled
            practice.add_shift(rested[best], start, end)


def _close_gaps(rng: np.random.Generator, practice: _Practice, *, grant: bool = True) -> None:
    """Make every hour staffed and every facility readable at every hour of the horizon.

    A random roster leaves some small state uncovered at 04:00. A coverage manager would fix
    that by privileging a reader already on (cheapest), licensing one (slower in real life)
    or adding a shift; we do the same, in that order, and check again. Without `grant` (a
    practice already in the database, whose privileges are not ours to change) only shifts
    are added, for readers who already hold what the facility needs.
    """
    if grant and not practice.unrestricted.any():
        practice.unrestricted[0] = True  # somebody must read whatever a facility sends
    for h in practice.understaffed():
        while int((practice.on_shift[:, h] & practice.unrestricted).sum()) < practice.enough():
            _add_cover_shift(rng, practice, h, practice.unrestricted)
    for f in range(len(practice.facility_state)):
        for h in range(HORIZON_HOURS):
            if practice.eligible(f, h).any():
                continue
            if grant:
                _cover(practice, f, h)
            elif practice.privileged(f).any():
                _add_cover_shift(rng, practice, h, practice.privileged(f))
            else:
                state = practice.states[practice.facility_state[f]]
                logger.warning("demo: nobody may read for facility #%d (%s) any more", f, state)
                break


def _cover(practice: _Practice, f: int, h: int) -> None:
    """Give facility f an eligible reader in hour h, preferring the smallest change."""
    s = practice.facility_state[f]
    on = practice.on_shift[:, h] & practice.unrestricted
    licensed_on = on & practice.licensed[:, s] & (practice.license_days[:, s] >= 2)
    if licensed_on.any():
        reader = _least_loaded(practice.credentialed, licensed_on)
    else:
        reader = _least_loaded(practice.licensed, on)
        practice.licensed[reader, s] = True
        practice.license_days[reader, s] = _NO_EXPIRY
    practice.credentialed[reader, f] = True
    practice.credential_days[reader, f] = _NO_EXPIRY


def _least_loaded(held: BoolArray, candidates: BoolArray) -> int:
    """The candidate holding the fewest licenses/credentials: spread the paperwork around."""
    counts = np.where(candidates, held.sum(axis=1), np.iinfo(np.int64).max)
    return int(np.argmin(counts))


def _add_cover_shift(
    rng: np.random.Generator, practice: _Practice, h: int, candidates: BoolArray
) -> None:
    """An extra shift through hour h for a candidate who is off then, rested if possible.

    If every candidate works near hour h, the shift fills the time between their shifts
    (the reader stays on longer) rather than overlapping one.
    """
    start = practice.hour(h)[0].replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=_COVER_HOURS)
    rest = timedelta(hours=_REST_HOURS)
    off = np.flatnonzero(candidates & ~practice.on_shift[:, h])
    rested = [int(r) for r in off if practice.free(int(r), start - rest, end + rest)]
    free = [int(r) for r in off if practice.free(int(r), start, end)]
    pool = rested or free or [int(r) for r in off]
    reader = pool[int(rng.integers(len(pool)))]
    hour_start, hour_end = practice.hour(h)
    for _, other_start, other_end in practice.shifts_of(reader):
        if other_end <= hour_start:
            start = max(start, other_end)
        elif other_start >= hour_end:
            end = min(end, other_start)
    practice.add_shift(reader, start, end)


# --- writing through the services -----------------------------------------------------------


def _write(roster: RosterService, practice: _Practice, rng: np.random.Generator) -> None:
    """Facilities, then readers, then shifts.

    Every roster call re-plans; while nobody is on shift the re-plan has an empty board, so
    writing shifts last keeps seeding quick.
    """
    facility_ids = _ids("fac", len(practice.facility_state), 3)
    for facility_id, facility in zip(facility_ids, _facility_bodies(rng, practice), strict=True):
        roster.put_facility(DEMO_ACTOR, facility_id, facility)
    reader_ids = _ids("rad", len(practice.unrestricted), 2)
    bodies = _radiologist_bodies(rng, practice, facility_ids)
    for reader_id, body in zip(reader_ids, bodies, strict=True):
        roster.put_radiologist(DEMO_ACTOR, reader_id, body)
    _write_shifts(roster, practice, reader_ids)


def _write_shifts(roster: RosterService, practice: _Practice, reader_ids: list[str]) -> None:
    for index, start, end in sorted(practice.shifts, key=lambda s: (s[1], s[0])):
        roster.add_shift(DEMO_ACTOR, reader_ids[index], ShiftIn(start=start, end=end))


def _ids(prefix: str, count: int, width: int) -> list[str]:
    width = max(width, len(str(count)))
    return [f"{prefix}-{n:0{width}d}" for n in range(1, count + 1)]


def _facility_bodies(rng: np.random.Generator, practice: _Practice) -> list[FacilityIn]:
    kinds = list(_KIND_SIZE)
    facility_kinds = practice.facility_kind
    contract = rng.choice(len(_CONTRACTS), size=len(facility_kinds), p=[p for _, p in _CONTRACTS])
    has_contract = rng.random(len(facility_kinds)) < _CONTRACT_SHARE
    used: set[str] = set()
    bodies = []
    for f, kind in enumerate(facility_kinds):
        state = practice.states[practice.facility_state[f]]
        terms = SlaMinutes(**_CONTRACTS[contract[f]][0]) if has_contract[f] else None
        bodies.append(
            FacilityIn(
                name=_facility_name(rng, state, kinds[kind], used),
                state=state,
                timezone=state_time_zone(state),
                sla_minutes=terms,
            )
        )
    return bodies


def _facility_name(rng: np.random.Generator, state: str, kind: str, used: set[str]) -> str:
    """'Mercy Hospital Casper': a prefix, a kind, a real city of the state; never repeated."""
    found = us.states.lookup(state, field="abbr")
    cities = [*_CITIES.get(state, ()), str(getattr(found, "capital", state))]
    for _ in range(100):
        prefix = _NAME_PREFIXES[int(rng.integers(len(_NAME_PREFIXES)))]
        name = f"{prefix} {kind} {cities[int(rng.integers(len(cities)))]}"
        if name not in used:
            used.add(name)
            return name
    name = f"{name} {len(used) + 1}"
    used.add(name)
    return name


def _radiologist_bodies(
    rng: np.random.Generator, practice: _Practice, facility_ids: list[str]
) -> list[RadiologistIn]:
    readers = len(practice.unrestricted)
    today = practice.now.date()
    names = _reader_names(rng, readers)
    speed = np.round(rng.uniform(*_SPEED_RANGE, size=readers), 2)
    held = _held_subspecialties(rng, readers)
    subsets = rng.choice(len(_MODALITY_SUBSETS), size=readers, p=[p for _, p in _MODALITY_SUBSETS])
    bodies = []
    for r in range(readers):
        restricted = [] if practice.unrestricted[r] else _MODALITY_SUBSETS[subsets[r]][0]
        bodies.append(
            RadiologistIn(
                name=names[r],
                licenses=[
                    License(state=practice.states[s], expires_on=_date(today, days))
                    for s, days in _held(practice.licensed[r], practice.license_days[r])
                ],
                credentials=[
                    Credential(facility=facility_ids[f], expires_on=_date(today, days))
                    for f, days in _held(practice.credentialed[r], practice.credential_days[r])
                ],
                subspecialties=held[r],
                modalities=[Modality(m) for m in restricted],
                speed=float(speed[r]),
            )
        )
    return bodies


def _held(mask: BoolArray, days: IntArray) -> list[tuple[int, int]]:
    return [(int(i), int(days[i])) for i in np.flatnonzero(mask)]


def _date(today: date, days: int) -> date | None:
    return None if days == _NO_EXPIRY else today + timedelta(days=days)


def _reader_names(rng: np.random.Generator, count: int) -> list[str]:
    combos = len(_FIRST_NAMES) * len(_LAST_NAMES)
    picks = rng.choice(combos, size=count, replace=count > combos)
    return [
        f"Dr. {_FIRST_NAMES[p // len(_LAST_NAMES)]} {_LAST_NAMES[p % len(_LAST_NAMES)]}"
        for p in picks
    ]


def _held_subspecialties(rng: np.random.Generator, count: int) -> list[list[str]]:
    """Most readers hold one subspecialty, some none (generalists), a few two."""
    per_reader = rng.choice(3, size=count, p=[0.30, 0.50, 0.20])
    weight = _READER_SUBSPECIALTY / _READER_SUBSPECIALTY.sum()
    return [
        sorted(_SUBSPECIALTIES[i] for i in rng.choice(len(weight), size=n, replace=False, p=weight))
        for n in per_reader
    ]


def facility_size(name: str | None) -> float:
    """Relative volume of a facility, read from the kind in its demo name (1.0 if unknown)."""
    text = f" {name or ''} "
    for kind in sorted(_KIND_SIZE, key=len, reverse=True):
        if f" {kind} " in text:
            return _KIND_SIZE[kind]
    return 1.0
