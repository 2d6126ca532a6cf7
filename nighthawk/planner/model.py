"""The coverage model in CP-SAT: which radiologist works which shift on which day.

A boolean per allowed (reader, slot) *pair*. Hard, always: rest between shifts (two pairs of a
reader closer than the minimum rest, or overlapping, exclude each other), shifts per planning
week, consecutive nights. Coverage and capacity are elastic, so a roster always exists and the
model says what it cannot cover:

1. coverage: for each cell and class of demand, some eligible reader on shift, else an
   "uncovered" indicator weighted by the cell's minutes. Identical sets of eligible shifts
   are merged (one per facility and stretch of constant staffing, roughly). Adding them
   lazily, like the cuts below, was tried and lost: a solver that does not see a set drops
   the shifts that covered it, and the rounds cost more than the full model's presolve;
2. capacity: per cell, eligible readers' minutes at the target utilization cover the forecast,
   else unmet minutes. The flow from readers to demand is not modelled with a variable per
   reader, facility and hour (millions); Hall's condition is used instead, one inequality per
   deficient set of demand, found by an exact max flow on each roster and added as a cut until
   the model's unmet minutes equal the exact ones (a logic-based Benders loop);
3. cost, fairness (the most nights and the most weekend shifts any reader works) and
   preferences.

The three are solved lexicographically in stages: each fixes its optimum (or the best found in
its time share) as a bound for the next. Every roster CP-SAT returns is judged by the exact
evaluation (all coverage sets, max flows), never by the partial model, and replaces the
incumbent only when it is better there.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model
from scipy.sparse import csr_matrix

from nighthawk.kernel import holds_through
from nighthawk.planner.flow import FlowResult
from nighthawk.planner.instance import Instance


@dataclass(frozen=True)
class PlanWeights:
    """Stage 3's terms, in points; a shift's cost counts `cost` points per unit (rate x hours)."""

    cost: int = 100
    fairness: int = 300  # per night (and per weekend shift) of the busiest reader
    preference: int = 120  # per shift of a template the reader does not prefer; avoided x2


@dataclass(frozen=True)
class SolveSettings:
    time_limit: float = 60.0
    workers: int = 8  # CP-SAT's portfolio: fewer misses the subsolvers that prove optima
    # One worker on deterministic time, each stage round given its share of the limit (so a
    # run with many cut rounds may take longer): the same roster on every run and machine.
    deterministic: bool = False
    seed: int = 0
    soft: bool = True  # stage 3 (cost, fairness, preferences); off when only coverage matters
    max_cut_rounds: int = 30


@dataclass
class Outcome:
    chosen: np.ndarray  # pair ids in the roster
    status: str
    stages: dict[str, str] = field(default_factory=dict)
    first_solution_seconds: float = math.nan
    cut_rounds: int = 0


class CoverageModel:
    def __init__(self, instance: Instance, weights: PlanWeights | None = None) -> None:
        self.instance = instance
        self.weights = weights or PlanWeights()
        self.model = cp_model.CpModel()
        allowed = instance.allowed
        self.pair_reader, self.pair_slot = (a.astype(np.int64) for a in np.nonzero(allowed))
        self.x = [
            self.model.new_bool_var(f"x{r}_{k}")
            for r, k in zip(self.pair_reader, self.pair_slot, strict=True)
        ]
        self._pair_index = {
            (int(r), int(k)): p
            for p, (r, k) in enumerate(zip(self.pair_reader, self.pair_slot, strict=True))
        }
        by_slot = defaultdict(list)
        for p, k in enumerate(self.pair_slot):
            by_slot[int(k)].append(p)
        self.pairs_of_slot = {k: np.array(v, dtype=np.int64) for k, v in by_slot.items()}
        self._labour_rules()
        self.cell_pairs = [self._pairs_covering(c) for c in range(len(instance.cells))]
        self.cap_scaled = instance.capacity_scaled
        self.demand_scaled = instance.demand_scaled
        self.structural: list[tuple[int, int]] = []  # (cell, node) nobody could ever cover
        self._overhead = 0.5  # seconds to judge a roster; measured as rounds go
        self._cuts: set[tuple[int, bytes]] = set()
        self._coverage()
        self._capacity()
        self._soft_terms()

    # ----- hard labour rules ---------------------------------------------------------------
    def _labour_rules(self) -> None:
        inst = self.instance
        rules = inst.scenario.rules
        rest = rules.min_rest_hours * 60
        by_reader: dict[int, list[int]] = defaultdict(list)
        for p, reader in enumerate(self.pair_reader.tolist()):
            by_reader[reader].append(p)
        self.pairs_of_reader = {r: np.array(v, dtype=np.int64) for r, v in by_reader.items()}
        for r, pairs in by_reader.items():
            limit = int(inst.max_per_week[r])
            # Shifts closer than the rest period exclude each other: their spans extended
            # by the rest period overlap. That is an interval graph, so the maximal cliques
            # are the shifts whose extended span holds a given start, and one at-most-one
            # per clique is much tighter than a constraint per pair.
            starts = np.array([inst.slots[self.pair_slot[p]].start for p in pairs])
            ends = np.array([inst.slots[self.pair_slot[p]].end for p in pairs]) + rest
            seen: set[tuple[int, ...]] = set()
            for t in np.unique(starts):
                clique = tuple(int(p) for p in np.array(pairs)[(starts <= t) & (t < ends)])
                if len(clique) > 1 and clique not in seen:
                    seen.add(clique)
                    self.model.add_at_most_one(self.x[p] for p in clique)
            weeks: dict[int, list[int]] = defaultdict(list)
            for p in pairs:
                weeks[inst.slots[self.pair_slot[p]].week].append(p)
            for members in weeks.values():
                if len(members) > limit:
                    self.model.add(sum(self.x[p] for p in members) <= limit)
            self._consecutive_nights(pairs, rules.max_consecutive_nights)

    def _consecutive_nights(self, pairs: list[int], limit: int) -> None:
        """No run of more than `limit` nights: any limit+1 consecutive dates hold at most
        `limit` night shifts."""
        inst = self.instance
        nights: dict[int, list[int]] = defaultdict(list)
        for p in pairs:
            slot = inst.slots[self.pair_slot[p]]
            if slot.night:
                nights[slot.day.toordinal()].append(p)
        for first in sorted(nights):
            window = [p for d in range(first, first + limit + 1) for p in nights.get(d, [])]
            if len(window) > limit:
                self.model.add(sum(self.x[p] for p in window) <= limit)

    def _pairs_covering(self, cell: int) -> np.ndarray:
        slots = np.flatnonzero(self.instance.covers[cell])
        found = [self.pairs_of_slot[int(k)] for k in slots if int(k) in self.pairs_of_slot]
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    # ----- coverage ------------------------------------------------------------------------
    def _coverage(self) -> None:
        """What is counted is the facility-hour (as `uncovered_hours` reports it): a facility
        is uncovered in a cell when any class of its demand has nobody eligible on shift.
        Each class needs one of a set of shifts; identical sets are one constraint with an
        indicator `g`. A facility-cell whose classes all need the same set weighs on that
        `g`; one needing several sets gets its own indicator, at least each of theirs. A
        facility-cell with a class nobody could ever read is uncovered whatever the roster,
        so it weighs on nothing: covering its other classes closes no facility-hour (their
        demand still counts in stage 2)."""
        inst = self.instance
        set_index: dict[bytes, int] = {}
        self.sets: list[np.ndarray] = []
        single: dict[int, int] = defaultdict(int)  # set -> minutes of facility-cells
        several: dict[tuple[int, ...], int] = defaultdict(int)  # sets -> minutes
        facility_of = np.array([n.facility for n in inst.nodes], dtype=np.int64)
        for c in range(len(inst.cells)):
            nodes = np.flatnonzero(inst.demand[c] > 0)
            if nodes.size == 0:
                continue
            pairs = self.cell_pairs[c]
            eligible = holds_through(
                inst.until[nodes][:, self.pair_reader[pairs]], inst.cells[c, 1]
            )
            minutes = round(float(inst.cell_minutes[c]))
            needs: dict[int, set[int]] = defaultdict(set)
            hopeless: set[int] = set()
            for row, node in enumerate(nodes):
                facility = int(facility_of[node])
                ids = pairs[eligible[row]]
                if ids.size == 0:
                    self.structural.append((c, int(node)))
                    hopeless.add(facility)
                    continue
                key = ids.tobytes()
                if key not in set_index:
                    set_index[key] = len(self.sets)
                    self.sets.append(ids)
                needs[facility].add(set_index[key])
            for facility, wanted in needs.items():
                if facility in hopeless:
                    continue
                if len(wanted) == 1:
                    single[next(iter(wanted))] += minutes
                else:
                    several[tuple(sorted(wanted))] += minutes
        # (pair, set) incidence, to count each set's working shifts in one product
        rows = np.concatenate(self.sets) if self.sets else np.zeros(0, dtype=np.int64)
        columns = np.repeat(np.arange(len(self.sets)), [len(ids) for ids in self.sets])
        self.incidence = csr_matrix(
            (np.ones(rows.size, dtype=np.int32), (rows, columns)),
            shape=(len(self.x), len(self.sets)),
        )
        self.g: list[cp_model.IntVar] = []
        for index, ids in enumerate(self.sets):
            missing = self.model.new_bool_var(f"g{index}")
            self.model.add_bool_or([missing, *(self.x[p] for p in ids)])
            self.g.append(missing)
        self.set_weight = np.zeros(len(self.sets), dtype=np.int64)
        for index, minutes in single.items():
            self.set_weight[index] = minutes
        self.groups = list(several)
        self.group_weight = np.array([several[k] for k in self.groups], dtype=np.int64)
        terms = [int(w) * g for w, g in zip(self.set_weight, self.g, strict=True) if w]
        self.h: list[cp_model.IntVar] = []
        for members, minutes in zip(self.groups, self.group_weight, strict=True):
            any_missing = self.model.new_bool_var("h")
            for index in members:
                self.model.add_implication(self.g[index], any_missing)
            self.h.append(any_missing)
            terms.append(int(minutes) * any_missing)
        self.coverage_objective: cp_model.LinearExprT = sum(terms)

    def working(self, chosen: np.ndarray) -> np.ndarray:
        """Per coverage set, how many of its shifts the roster works."""
        on = np.zeros(len(self.x), dtype=np.int32)
        on[chosen] = 1
        return np.asarray(self.incidence.T @ on).ravel()

    def exact_coverage(self, chosen: np.ndarray) -> int:
        """Uncovered facility-cell minutes of a roster that some roster could cover."""
        missing = self.working(chosen) == 0
        grouped = sum(
            int(w)
            for members, w in zip(self.groups, self.group_weight, strict=True)
            if missing[list(members)].any()
        )
        return int(self.set_weight[missing].sum()) + grouped

    # ----- capacity ------------------------------------------------------------------------
    def _capacity(self) -> None:
        self.demand_cells = np.flatnonzero(self.demand_scaled.sum(axis=1) > 0)
        self.u: dict[int, cp_model.IntVar] = {}
        for c in self.demand_cells:
            total = int(self.demand_scaled[c].sum())
            self.u[int(c)] = self.model.new_int_var(0, total, f"u{c}")
            nodes = np.flatnonzero(self.demand_scaled[c] > 0)
            self._add_cut(int(c), np.ones(nodes.size, dtype=bool), nodes)
        self.unmet_objective: cp_model.LinearExprT = sum(self.u.values())

    def _add_cut(self, cell: int, chosen: np.ndarray, nodes: np.ndarray) -> bool:
        """Hall's inequality for demand `nodes[chosen]` in `cell`; False if already there."""
        inst = self.instance
        subset = nodes[chosen]
        key = (cell, np.sort(subset).tobytes())
        if key in self._cuts:
            return False
        self._cuts.add(key)
        pairs = self.cell_pairs[cell]
        need = int(self.demand_scaled[cell, subset].sum())
        if pairs.size:
            eligible = holds_through(
                inst.until[subset][:, self.pair_reader[pairs]], inst.cells[cell, 1]
            ).any(axis=0)
            pairs = pairs[eligible]
        capacity = self.cap_scaled[cell, self.pair_reader[pairs]]
        self.model.add(
            sum(int(a) * self.x[p] for a, p in zip(capacity, pairs, strict=True) if a > 0)
            + self.u[cell]
            >= need
        )
        return True

    def flows(self, chosen: np.ndarray) -> dict[int, tuple[np.ndarray, FlowResult]]:
        """Per demand cell, the exact max flow of a roster: (demand nodes, result)."""
        on = np.zeros(len(self.x), dtype=bool)
        on[chosen] = True
        result = {}
        for c in self.demand_cells:
            pairs = self.cell_pairs[c]
            result[int(c)] = self.instance.cell_flow(int(c), self.pair_reader[pairs[on[pairs]]])
        return result

    # ----- soft terms ----------------------------------------------------------------------
    def _soft_terms(self) -> None:
        inst = self.instance
        w = self.weights
        readers = range(len(inst.reader_ids))
        # Bounded by the slots, not by days: a shift running into the start adds one, and
        # with little rest a reader may work two a day.
        nights_max = self.model.new_int_var(0, len(inst.slots), "nights_max")
        weekend_max = self.model.new_int_var(0, len(inst.slots), "weekend_max")
        for r in readers:
            pairs = self.pairs_of_reader.get(r, np.zeros(0, dtype=np.int64))
            nights = [self.x[p] for p in pairs if inst.slots[self.pair_slot[p]].night]
            weekends = [self.x[p] for p in pairs if inst.slots[self.pair_slot[p]].weekend]
            if nights:
                self.model.add(sum(nights) <= nights_max)
            if weekends:
                self.model.add(sum(weekends) <= weekend_max)
        self.points = np.array(
            [
                round(inst.slots[k].cost * w.cost) + w.preference * int(inst.preference[r, k])
                for r, k in zip(self.pair_reader.tolist(), self.pair_slot.tolist(), strict=True)
            ],
            dtype=np.int64,
        )
        self.night_pair = np.array([inst.slots[k].night for k in self.pair_slot], dtype=bool)
        self.weekend_pair = np.array([inst.slots[k].weekend for k in self.pair_slot], dtype=bool)
        terms = [int(points) * x for points, x in zip(self.points, self.x, strict=True)]
        self.soft_objective = sum(terms) + w.fairness * (nights_max + weekend_max)

    def exact_soft(self, chosen: np.ndarray) -> int:
        readers = len(self.instance.reader_ids)
        nights = np.bincount(self.pair_reader[chosen[self.night_pair[chosen]]], minlength=readers)
        weekends = np.bincount(
            self.pair_reader[chosen[self.weekend_pair[chosen]]], minlength=readers
        )
        fairness = int(nights.max(initial=0)) + int(weekends.max(initial=0))
        return int(self.points[chosen].sum()) + self.weights.fairness * fairness

    # ----- solving -------------------------------------------------------------------------
    def pair_ids(self, roster: list[tuple[int, int]]) -> np.ndarray:
        """Pair ids of a (reader, slot) roster; pairs the model does not allow are dropped."""
        found = [self._pair_index.get((r, k)) for r, k in roster]
        return np.array([p for p in found if p is not None], dtype=np.int64)

    def roster(self, chosen: np.ndarray) -> list[tuple[int, int]]:
        return [(int(self.pair_reader[p]), int(self.pair_slot[p])) for p in chosen]

    def solve(
        self,
        settings: SolveSettings,
        hint: np.ndarray | None = None,
        *,
        started: float | None = None,
    ) -> Outcome:
        """Run the stages within the time limit; `started` is when the caller's clock for
        "time to the first roster" began (default: now)."""
        started = started if started is not None else time.perf_counter()
        begin = time.perf_counter()
        outcome = Outcome(
            chosen=np.asarray(hint if hint is not None else [], dtype=np.int64), status="HINT"
        )
        best = _Scored.of(self, outcome.chosen)
        shares = (0.3, 0.3, 0.4) if settings.soft else (0.5, 0.5, 0.0)
        if settings.deterministic:  # a budget per stage round, not a deadline
            ends = np.array(shares) * settings.time_limit
        else:
            ends = np.cumsum(shares) * settings.time_limit + begin

        # Stage 1: coverage.
        best = self._stage(settings, "coverage", ends[0], best, outcome, started)
        # Stage 2: unmet demand, coverage bounded by the best so far.
        best = self._stage(settings, "capacity", ends[1], best, outcome, None)
        # Stage 3: cost, fairness and preferences under both bounds.
        if settings.soft:
            best = self._stage(settings, "soft", ends[2], best, outcome, None)
        outcome.chosen = best.chosen
        outcome.status = (
            "OPTIMAL" if all(s == "OPTIMAL" for s in outcome.stages.values()) else "FEASIBLE"
        )
        return outcome

    def _stage(
        self,
        settings: SolveSettings,
        stage: str,
        end: float,
        best: _Scored,
        outcome: Outcome,
        started: float | None,
    ) -> _Scored:
        """Solve the stage's objective; judge each roster exactly; add the Hall cuts it shows
        missing and solve again until none is missing or time is up."""
        solved = False
        for _ in range(settings.max_cut_rounds):
            self._bound(stage, best)
            if settings.deterministic:
                # The stage's share in deterministic time, every round: nothing depends on
                # the wall clock, so the same input gives the same roster on any machine.
                remaining = end
            else:
                remaining = end - time.perf_counter()
                if remaining <= 0.05:
                    outcome.stages.setdefault(stage, "UNKNOWN")
                    break
            objective = {
                "coverage": self.coverage_objective,
                "capacity": self.unmet_objective,
                "soft": self.soft_objective,
            }[stage]
            # Leave time for judging the roster and setting up the next solve.
            seconds = remaining if settings.deterministic else remaining - self._overhead
            found = self._run(settings, objective, seconds, best, started, outcome, stage)
            if found is None:
                if solved:  # an earlier round of this stage did find a roster
                    outcome.stages[stage] = "FEASIBLE"
                break
            solved = True
            started = None  # only the stage's first solve times the first roster
            judging = time.perf_counter()
            scored = _Scored.of(self, found)
            outcome.cut_rounds += 1
            if scored.better_than(best, stage):
                best = scored
            added = self.cut(scored)
            self._overhead = max(self._overhead, 2 * (time.perf_counter() - judging))
            if added == 0:
                break
            outcome.stages[stage] = "FEASIBLE"  # the solve saw too few cuts
        return best

    def _bound(self, stage: str, best: _Scored) -> None:
        """Hold earlier stages to the incumbent's exact values (tighter each round)."""
        if stage in ("capacity", "soft"):
            self.model.add(self.coverage_objective <= best.coverage)
        if stage == "soft":
            self.model.add(self.unmet_objective <= best.unmet)

    def cut(self, scored: _Scored) -> int:
        """Add a Hall cut for every cell where the model understates the roster's unmet
        demand; returns how many were added."""
        added = 0
        for c, (nodes, flow) in scored.flows.items():
            if flow.unmet > 0 and self._add_cut(c, flow.hall_set, nodes):
                added += 1
        return added

    def _run(
        self,
        settings: SolveSettings,
        objective: cp_model.LinearExprT,
        seconds: float,
        hint: _Scored,
        started: float | None,
        outcome: Outcome,
        stage: str,
    ) -> np.ndarray | None:
        self.model.minimize(objective)
        self._hint(hint)
        solver = cp_model.CpSolver()
        params = solver.parameters
        if settings.deterministic:
            params.num_workers = 1
            # Alone, the worker needs the full linear relaxation to prove coverage optima.
            params.linearization_level = 2
            params.max_deterministic_time = max(0.05, seconds)
        else:
            params.num_workers = settings.workers
            params.max_time_in_seconds = max(0.05, seconds)
        params.random_seed = settings.seed
        callback = _FirstSolution(started) if started is not None else None
        status = solver.solve(self.model, callback)
        if callback is not None and callback.at is not None:
            outcome.first_solution_seconds = callback.at
        outcome.stages[stage] = solver.status_name(status)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        values = np.array([solver.boolean_value(v) for v in self.x], dtype=bool)
        return np.flatnonzero(values)

    def _hint(self, hint: _Scored) -> None:
        self.model.clear_hints()
        on = np.zeros(len(self.x), dtype=bool)
        on[hint.chosen] = True
        for p, var in enumerate(self.x):
            self.model.add_hint(var, bool(on[p]))
        missing = self.working(hint.chosen) == 0
        for var, gone in zip(self.g, missing, strict=True):
            self.model.add_hint(var, bool(gone))
        for var, members in zip(self.h, self.groups, strict=True):
            self.model.add_hint(var, bool(missing[list(members)].any()))
        unmet = hint.unmet_by_cell
        for c, var in self.u.items():
            self.model.add_hint(var, unmet.get(c, 0))


@dataclass
class _Scored:
    """A roster and its exact stage values."""

    chosen: np.ndarray
    coverage: int
    unmet: int
    soft: int
    flows: dict[int, tuple[np.ndarray, FlowResult]]

    @property
    def unmet_by_cell(self) -> dict[int, int]:
        return {c: flow.unmet for c, (_, flow) in self.flows.items()}

    @classmethod
    def of(cls, model: CoverageModel, chosen: np.ndarray) -> _Scored:
        flows = model.flows(chosen)
        return cls(
            chosen=chosen,
            coverage=model.exact_coverage(chosen),
            unmet=sum(flow.unmet for _, flow in flows.values()),
            soft=model.exact_soft(chosen),
            flows=flows,
        )

    def better_than(self, other: _Scored, stage: str) -> bool:
        mine = (self.coverage, self.unmet, self.soft)
        theirs = (other.coverage, other.unmet, other.soft)
        if stage == "coverage":
            return mine < theirs
        if stage == "capacity":
            return self.coverage <= other.coverage and mine[1:] < theirs[1:]
        return self.coverage <= other.coverage and self.unmet <= other.unmet and mine < theirs


class _FirstSolution(cp_model.CpSolverSolutionCallback):
    def __init__(self, started: float) -> None:
        super().__init__()
        self.started = started
        self.at: float | None = None

    def on_solution_callback(self) -> None:
        if self.at is None:
            self.at = time.perf_counter() - self.started
