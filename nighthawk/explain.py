"""Why each study went where it did, in words a coverage manager reads.

For an assigned study: how many readers were eligible, when it is predicted to finish against
its due time, and the best alternatives with why each lost (a later finish, work it would delay,
or the hard rules that bar it). For an unassigned study: the rule nobody on shift can meet.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from itertools import accumulate
from zoneinfo import ZoneInfo

import numpy as np

from models.plan import Alternative, Explanation
from models.types import format_utc_time
from nighthawk.clock import at_minutes
from nighthawk.eligibility import RULES
from nighthawk.schedule import FINISH_SLACK_MINUTES, Schedule, ScoringContext, reader_timeline

MAX_ELIGIBLE_ALTERNATIVES = 3
MAX_INELIGIBLE_ALTERNATIVES = 2


@dataclass(frozen=True)
class _ReaderView:
    running_max_key: list[float]
    finishes: list[float]


class Explainer:
    def __init__(self, context: ScoringContext, schedule: Schedule) -> None:
        self.context = context
        self.problem = context.problem
        studies = self.problem.studies
        # Dispatch key: class first, then due time, as a single sortable number.
        self.key = (studies.rank * 1e7 + studies.due).tolist()
        self.views: list[_ReaderView] = []
        for reader, queue in enumerate(schedule.queues):
            timeline = reader_timeline(context, reader, queue)
            keys = [self.key[s] for s in queue]
            self.views.append(_ReaderView(list(accumulate(keys, max)), timeline.finishes))
        failures = np.zeros((self.problem.study_count, self.problem.reader_count), dtype=np.int64)
        for passes in context.eligibility.by_rule.values():
            failures += ~passes
        self.failures = failures

    def explain(self, study: int, reader: int, start: float, finish: float) -> Explanation:
        context = self.context
        due = context.due[study]
        eligible = np.flatnonzero(context.matrix[study]).tolist()
        slack = due - finish
        alternatives = self._eligible_alternatives(study, reader, finish, eligible)
        alternatives += self._ineligible_alternatives(study)
        match = bool(context.subspecialty_match[study, reader])
        current = context.current[study]
        return Explanation(
            summary=self._summary(study, reader, finish, slack, len(eligible)),
            eligible_radiologists=len(eligible),
            due_at=at_minutes(self.problem.now, due),
            slack_minutes=round(slack, 3),
            subspecialty_match=match if self.problem.studies.subspecialty[study] else None,
            kept_current_assignment=(current == reader) if current >= 0 else None,
            alternatives=alternatives,
            ineligible=self._ineligible_counts(study),
        )

    def _summary(self, study: int, reader: int, finish: float, slack: float, eligible: int) -> str:
        name = self.problem.readers.ids[reader]
        local = self._local_time(study, finish)
        timing = (
            f"{slack:.0f} min before due"
            if slack >= -FINISH_SLACK_MINUTES
            else f"{-slack:.0f} min after due"
        )
        others = (
            "the only eligible reader" if eligible == 1 else f"one of {eligible} eligible readers"
        )
        return (
            f"{name} is {others}; predicted to finish at {self._time(finish)} ({local}), {timing}"
        )

    def _local_time(self, study: int, minutes: float) -> str:
        """The facility's wall-clock time: what the sending hospital sees."""
        facility = self.problem.studies.facility[study]
        zone = ZoneInfo(self.problem.facility_zone.get(facility, "UTC"))
        local = at_minutes(self.problem.now, minutes).astimezone(zone)
        return f"{local:%H:%M %Z} at {facility}"

    def _predicted_finish(self, study: int, reader: int) -> tuple[float, int]:
        """Finish if slotted in `reader`'s queue by dispatch order, and how many it would delay."""
        view = self.views[reader]
        position = bisect.bisect_right(view.running_max_key, self.key[study])
        begin = view.finishes[position - 1] if position else self.context.ready[reader]
        return begin + float(self.problem.duration[study, reader]), len(view.finishes) - position

    def _eligible_alternatives(
        self, study: int, chosen: int, finish: float, eligible: list[int]
    ) -> list[Alternative]:
        options = []
        for reader in eligible:
            if reader == chosen:
                continue
            their_finish, delayed = self._predicted_finish(study, reader)
            options.append((their_finish, reader, delayed))
        options.sort()
        return [
            self._eligible_alternative(study, chosen, finish, their_finish, reader, delayed)
            for their_finish, reader, delayed in options[:MAX_ELIGIBLE_ALTERNATIVES]
        ]

    def _eligible_alternative(
        self, study: int, chosen: int, finish: float, their_finish: float, reader: int, delayed: int
    ) -> Alternative:
        later = their_finish - finish
        limit = float(self.context.finish_limit[study, reader])
        if their_finish > limit + FINISH_SLACK_MINUTES:
            reason = f"could not finish it before {self._time(limit)} (end of shift or validity)"
            code = "NO_ROOM_BEFORE_SHIFT_END"
        elif later > FINISH_SLACK_MINUTES:
            reason = f"would finish at {self._time(their_finish)}, {later:.0f} min later"
            code = "LATER_FINISH"
        elif delayed:
            reason = (
                f"could finish {-later:.0f} min sooner, but would delay {delayed} "
                f"stud{'ies' if delayed != 1 else 'y'} already queued there"
            )
            code = "WOULD_DELAY_OTHERS"
        else:
            reason, code = self._preference_reason(study, chosen, reader)
        return Alternative(
            radiologist=self.problem.readers.ids[reader],
            eligible=True,
            predicted_finish=at_minutes(self.problem.now, their_finish),
            minutes_later=round(later, 3),
            reasons=[reason],
            reason_codes=[code],
        )

    def _preference_reason(self, study: int, chosen: int, reader: int) -> tuple[str, str]:
        context = self.context
        if context.current[study] == chosen:
            return "no sooner on time; the plan keeps studies with their assigned reader", "KEPT"
        if (
            context.subspecialty_match[study, chosen]
            and not context.subspecialty_match[study, reader]
        ):
            return "not a subspecialty match, which the plan prefers", "SUBSPECIALTY_PREFERRED"
        return "would also work; the plan spreads the workload evenly", "WORKLOAD_BALANCE"

    def _ineligible_alternatives(self, study: int) -> list[Alternative]:
        """The barred readers closest to eligible (fewest rules broken), with the rules."""
        failures = self.failures[study]
        barred = np.flatnonzero(failures > 0)
        if barred.size == 0:
            return []
        order = barred[np.lexsort((barred, failures[barred]))][:MAX_INELIGIBLE_ALTERNATIVES]
        alternatives = []
        for reader in order.tolist():
            reasons = self.context.eligibility.reasons(study, reader)
            alternatives.append(
                Alternative(
                    radiologist=self.problem.readers.ids[reader],
                    eligible=False,
                    reasons=[r.text for r in reasons],
                    reason_codes=[r.code for r in reasons],
                )
            )
        return alternatives

    def _ineligible_counts(self, study: int) -> dict[str, int]:
        counts = {}
        for rule in RULES:
            barred = int((~self.context.eligibility.by_rule[rule.code][study]).sum())
            if barred:
                counts[rule.code] = barred
        return counts

    def _time(self, minutes: float) -> str:
        return format_utc_time(at_minutes(self.problem.now, minutes))
