"""The hindsight floor: the fewest STAT breaches any dispatch policy could reach, knowing in
advance every arrival and every drawn read time, and the STAT breaches nobody could avoid.

The floor is a relaxation over STAT studies only. Take any policy's run and keep just the
measured STATs it read on time: those reads obey the rules below, and dropping every other read
only frees readers. So the number of STATs the model can read on time is at least what any
policy reads on time, and the floor (measured STATs minus that number) is a lower bound on any
policy's STAT breaches. The rules, the same ones the event loop enforces:

* a reader starts a read at or after the study arrives, while on shift (a stretch's start <=
  start < its end), one read at a time;
* only a study they may read (license, privileges, modality, required subspecialty: the class's
  `until` column) and are expected to finish (expected minutes / speed) before the shift ends and
  their rights lapse, give or take FINISH_SLACK_MINUTES; a read once started runs to its end,
  past the end of the shift if need be, for the drawn read minutes / speed;
* a STAT is on time when its read ends by its due time (give or take the same slack); one
  unread is breached.

The model (CP-SAT) works in whole seconds and is never stricter than the rules: any real
schedule maps onto it by rounding every start and every read's length down, and the limits it
must then meet (arrival, shift start, shift end, finish limit, due time) are rounded so that
the mapped schedule meets them. STATs that arrive in the warm-up count for nothing, so the
model leaves them out (reading them could only take time from a measured one). Two STATs
interact only when some reader could read both in overlapping windows, so the model splits
into independent pieces, each solved on its own (one worker, fixed seed, deterministic time).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from simulations.arrivals import Studies
from simulations.world import FINISH_SLACK_MINUTES, World

STAT = 0
SECONDS_PER_MINUTE = 60
# Float noise in a bound never makes the model stricter: limits get this much extra room.
TOLERANCE_MINUTES = 1e-9
ROUNDING_SECONDS = 1e-6
DEFAULT_TIME_LIMIT = 5.0  # deterministic seconds per CP-SAT solve
# A large piece CP-SAT cannot prove in time is also bounded run by run of this many STATs.
CHUNK_STATS = 24
QUICK_ROUNDS = 20  # rounds of the list schedule that move STATs it left unread earlier
BOOST_SECONDS = 30 * SECONDS_PER_MINUTE


@dataclass(frozen=True)
class Floor:
    """The hindsight floor of one replication.

    `breaches` is a proven lower bound on the measured STAT breaches of any policy: the optimum
    when `optimal`, else derived from the solver's proven bound. `structural` of them could not
    have been avoided by anyone (nobody eligible could have read them in time).
    """

    breaches: int
    optimal: bool
    structural: int
    measured_stats: int
    seconds: float
    pieces: int = 0


@dataclass(frozen=True)
class _Options:
    """Every way a reader could read a STAT on time, one entry per (STAT, reader, stretch):
    the STAT's position among the modelled ones, the reader, and start bounds in seconds."""

    stat: np.ndarray
    reader: np.ndarray
    earliest: np.ndarray
    latest: np.ndarray
    seconds: np.ndarray  # occupancy: read / speed, rounded down


def measured_stats(world: World, studies: Studies) -> np.ndarray:
    """Positions of the measured STATs: arrived after the warm-up, before arrivals stop."""
    inside = (studies.arrival >= world.measured_from) & (studies.arrival < world.horizon)
    return np.flatnonzero(inside & (studies.priority == STAT))


def _until(world: World, studies: Studies, stats: np.ndarray) -> np.ndarray:
    """(STATs, readers): until when each reader may read each STAT (-inf: never)."""
    if not len(stats):
        return np.empty((0, world.reader_count))
    return np.vstack(world.class_until)[studies.klass[stats]]


def structural_stat_breaches(world: World, studies: Studies) -> np.ndarray:
    """Per study, True for a measured STAT nobody could have read on time even with nothing
    else to do: no eligible reader could start it on shift, expected to finish before the shift
    ends and rights lapse, and finish the drawn read by its due time."""
    stats = measured_stats(world, studies)
    possible = np.zeros(len(stats), dtype=bool)
    until = _until(world, studies, stats)
    arrival, due = studies.arrival[stats], studies.due[stats]
    expected, read = studies.expected[stats], studies.read[stats]
    for reader, stretches in enumerate(world.stretches):
        speed = float(world.speed[reader])
        for stretch in stretches:
            # Every rule bounds the start from above, so the earliest start decides. (A start
            # at the very end counts: the loop may handle an arrival there before the shift
            # ends, and a bound must not be stricter than the loop.)
            start = np.maximum(arrival, stretch.start)
            limit = np.minimum(stretch.end, until[:, reader]) + FINISH_SLACK_MINUTES
            possible |= (
                (start <= stretch.end)
                & (start + expected / speed <= limit + TOLERANCE_MINUTES)
                & (start + read / speed <= due + FINISH_SLACK_MINUTES + TOLERANCE_MINUTES)
            )
    structural = np.zeros(len(studies), dtype=bool)
    structural[stats[~possible]] = True
    return structural


def _options(world: World, studies: Studies, stats: np.ndarray) -> _Options:
    """The (STAT, reader, stretch) triples with room for an on-time read, in whole seconds,
    rounded so that every real on-time read maps to one (floor of its start and occupancy)."""
    until = _until(world, studies, stats)
    arrival = np.floor(studies.arrival[stats] * SECONDS_PER_MINUTE)
    due = studies.due[stats] + FINISH_SLACK_MINUTES + TOLERANCE_MINUTES
    nothing = np.empty(0, dtype=np.int64)
    parts: list[tuple[np.ndarray, ...]] = [(nothing,) * 5]
    for reader, stretches in enumerate(world.stretches):
        speed = float(world.speed[reader])
        # A hair less than the read, so float noise in the sum of two back-to-back reads can
        # never make the mapped schedule overlap.
        occupancy = np.floor(studies.read[stats] / speed * SECONDS_PER_MINUTE - ROUNDING_SECONDS)
        expected = np.floor(studies.expected[stats] / speed * SECONDS_PER_MINUTE)
        for stretch in stretches:
            earliest = np.maximum(arrival, math.floor(stretch.start * SECONDS_PER_MINUTE))
            limit = np.minimum(stretch.end, until[:, reader]) + FINISH_SLACK_MINUTES
            with np.errstate(invalid="ignore"):  # -inf rights: never
                latest = np.minimum.reduce(
                    [
                        np.full(len(stats), math.ceil(stretch.end * SECONDS_PER_MINUTE)),
                        np.floor((limit + TOLERANCE_MINUTES) * SECONDS_PER_MINUTE) - expected,
                        np.floor(due * SECONDS_PER_MINUTE) - occupancy,
                    ]
                )
            fits = np.flatnonzero(latest >= earliest)
            parts.append(
                (fits, np.full(len(fits), reader), earliest[fits], latest[fits], occupancy[fits])
            )
    columns = [np.concatenate(column).astype(np.int64) for column in zip(*parts, strict=True)]
    return _Options(*columns)


def _pieces(options: _Options, count: int) -> list[np.ndarray]:
    """Independent groups of options (positions into `options`), one per piece of the `count`
    modelled STATs: two STATs belong together when some reader could read both and the times
    their reads could take overlap. STATs without any option are in no piece."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ends = (options.latest + options.seconds).tolist()
    for reader in np.unique(options.reader).tolist():
        mine = np.flatnonzero(options.reader == reader)
        mine = mine[np.argsort(options.earliest[mine], kind="stable")]
        anchor, reach = -1, -math.inf
        for option in mine.tolist():
            stat = int(options.stat[option])
            if options.earliest[option] < reach:
                parent[root(stat)] = root(anchor)
                reach = max(reach, ends[option])
            else:
                anchor, reach = stat, ends[option]
    if not count:
        return []
    roots = np.array([root(i) for i in range(count)], dtype=np.int64)
    # Group the options by their STAT's piece; a STAT without options is a piece of its own.
    label = roots[options.stat]
    order = np.argsort(label, kind="stable")
    grouped = np.split(order, np.flatnonzero(np.diff(label[order])) + 1) if len(order) else []
    return [g for g in grouped if len(g)]


@dataclass(frozen=True)
class _Bounds:
    """How many STATs of a piece can be read on time: `found` by a schedule in hand, at most
    `bound` (proven); equal when the piece is solved."""

    found: int
    bound: int


def _list_schedule(options: _Options, chosen: np.ndarray, key: np.ndarray) -> dict[int, int]:
    """A quick schedule (option -> start): STATs in `key` order, each read on the option that
    finishes first after what its reader already has, or left unread when none is on time."""
    free: dict[int, int] = {}
    schedule: dict[int, int] = {}
    by_stat: dict[int, list[int]] = {}
    for option in chosen[np.lexsort((options.stat[chosen], key[chosen]))].tolist():
        by_stat.setdefault(int(options.stat[option]), []).append(option)
    for mine in by_stat.values():
        best: tuple[int, int, int] | None = None  # finish, option, start
        for option in mine:
            start = max(int(options.earliest[option]), free.get(int(options.reader[option]), 0))
            finish = start + int(options.seconds[option])
            if start <= options.latest[option] and (best is None or finish < best[0]):
                best = (finish, option, start)
        if best is not None:
            free[int(options.reader[best[1]])] = best[0]
            schedule[best[1]] = best[2]
    return schedule


def _quick(options: _Options, chosen: np.ndarray) -> dict[int, int]:
    """The best of a few list schedules: by earliest start, latest start, latest end, then
    rounds of the first in which every STAT left unread goes earlier in the order."""
    keys = (options.earliest, options.latest, options.latest + options.seconds)
    best = max((_list_schedule(options, chosen, key) for key in keys), key=len)
    stats = np.unique(options.stat[chosen])
    key = options.earliest.astype(float)  # a copy: boosts stay local to this piece
    for _ in range(QUICK_ROUNDS):
        if len(best) == len(stats):
            break
        found = _list_schedule(options, chosen, key)
        best = max(best, found, key=len)
        read = options.stat[list(found)]
        key[chosen[~np.isin(options.stat[chosen], read)]] -= BOOST_SECONDS
    return best


def _solve(options: _Options, chosen: np.ndarray, hint: dict[int, int], limit: float) -> _Bounds:
    """CP-SAT on one piece: at most one read per STAT, one read at a time per reader, as
    many STATs on time as possible; `hint` is a schedule to start from."""
    model = cp_model.CpModel()
    present_of: dict[int, list[cp_model.IntVar]] = {}
    intervals_of: dict[int, list[cp_model.IntervalVar]] = {}
    for option in chosen.tolist():
        stat, reader = int(options.stat[option]), int(options.reader[option])
        name = f"stat{stat}_reader{reader}_option{option}"
        present = model.new_bool_var(f"reads_{name}")
        start = model.new_int_var(
            int(options.earliest[option]), int(options.latest[option]), f"start_{name}"
        )
        interval = model.new_optional_fixed_size_interval_var(
            start, int(options.seconds[option]), present, f"read_{name}"
        )
        present_of.setdefault(stat, []).append(present)
        intervals_of.setdefault(reader, []).append(interval)
        model.add_hint(present, option in hint)
        if option in hint:
            model.add_hint(start, hint[option])
    for presents in present_of.values():
        model.add_at_most_one(presents)
    for intervals in intervals_of.values():
        model.add_no_overlap(intervals)
    model.maximize(sum(p for presents in present_of.values() for p in presents))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = limit
    # The LP of the full linearization proves these small scheduling models at once; the
    # default level took seconds on a 24-STAT piece that this one solves in milliseconds.
    solver.parameters.linearization_level = 2
    status = solver.solve(model)
    if status == cp_model.OPTIMAL:
        return _Bounds(round(solver.objective_value), round(solver.objective_value))
    if status in (cp_model.FEASIBLE, cp_model.UNKNOWN):
        found = round(solver.objective_value) if status == cp_model.FEASIBLE else 0
        bound = min(math.floor(solver.best_objective_bound + 1e-6), len(present_of))
        return _Bounds(max(found, len(hint)), bound)
    raise RuntimeError(f"hindsight floor: CP-SAT returned {solver.status_name(status)}")


def _chunks(options: _Options, chosen: np.ndarray, offset: int) -> list[np.ndarray]:
    """The piece's options cut into runs of CHUNK_STATS STATs in order of arrival (the first
    run `offset` STATs shorter)."""
    stats, first = np.unique(options.stat[chosen], return_index=True)
    arrival_order = stats[np.argsort(options.earliest[chosen][first], kind="stable")]
    rank = np.empty(int(stats.max()) + 1, dtype=np.int64)
    rank[arrival_order] = np.arange(len(arrival_order))
    label = (rank[options.stat[chosen]] + offset) // CHUNK_STATS
    return [chosen[label == value] for value in np.unique(label)]


def _bounds(options: _Options, chosen: np.ndarray, limit: float) -> _Bounds:
    """What one piece allows. A quick schedule that reads every STAT on time settles it;
    otherwise CP-SAT on the whole piece, starting from that schedule. Should a large piece not
    be proven in time, its bound is tightened by cutting it into runs of STATs and adding up
    each run's best alone (reads in one run cannot help another's, so the sum is an upper
    bound too), the tighter of two different cuts."""
    stats = len(np.unique(options.stat[chosen]))
    hint = _quick(options, chosen)
    if len(hint) == stats:
        return _Bounds(stats, stats)
    whole = _solve(options, chosen, hint, limit)
    if whole.found == whole.bound or stats <= CHUNK_STATS:
        return whole
    cut = min(
        sum(_bounds(options, chunk, limit).bound for chunk in _chunks(options, chosen, offset))
        for offset in (0, CHUNK_STATS // 2)
    )
    return _Bounds(whole.found, min(whole.bound, cut))


def stat_floor(world: World, studies: Studies, *, time_limit: float = DEFAULT_TIME_LIMIT) -> Floor:
    """The fewest measured STAT breaches any policy could reach with perfect hindsight (a proven
    lower bound when a piece is not solved to optimality within `time_limit` deterministic
    seconds). Structural breaches are part of it: nobody could avoid them."""
    began = time.perf_counter()
    stats = measured_stats(world, studies)
    structural = structural_stat_breaches(world, studies)[stats]
    modelled = stats[~structural]
    options = _options(world, studies, modelled)
    pieces = _pieces(options, len(modelled))
    bounds = [_bounds(options, piece, time_limit) for piece in pieces]
    return Floor(
        breaches=len(stats) - sum(b.bound for b in bounds),
        optimal=all(b.found == b.bound for b in bounds),
        structural=int(structural.sum()),
        measured_stats=len(stats),
        seconds=time.perf_counter() - began,
        pieces=len(pieces),
    )
