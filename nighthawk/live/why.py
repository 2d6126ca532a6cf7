"""Why the dispatcher hands a free reader this study: the rule that decided, in words.

The answer names the rule of `choice.py` that picked the study (the most urgent class; one that
can still make its contract before one already lost; the one nobody else could start in time;
the earliest due; a study waiting past twice its turnaround), the slack left, and the other
eligible readers with when they could have started it.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from models.plan import Alternative, Explanation
from models.priority import Priority
from models.types import format_utc_time
from nighthawk.clock import at_minutes
from nighthawk.kernel import FINISH_SLACK_MINUTES, MIN_REMAINING_MINUTES
from nighthawk.live.choice import Choice, free_times
from nighthawk.live.dispatcher import Dispatcher
from nighthawk.live.forecast import Forecast, priced_slots

MAX_ALTERNATIVES = 3
PRIORITY_NAMES = {p.rank: p.value for p in Priority}


def explain_choice(
    dispatcher: Dispatcher, choice: Choice, reader: int, now: float, origin: datetime
) -> Explanation:
    studies, readers, classes = dispatcher.studies, dispatcher.readers, dispatcher.classes
    study = choice.study
    klass = int(studies.klass[study])
    due = float(studies.due[study])
    finish = now + float(studies.expected[study]) / float(readers.speed[reader])
    eligible = classes.readers[klass]
    free = free_times(readers, now, MIN_REMAINING_MINUTES)
    alternatives = _alternatives(dispatcher, study, reader, eligible, free, finish, origin)
    subspecialty = studies.subspecialty[study]
    return Explanation(
        summary=_summary(dispatcher, choice, reader, finish, due),
        eligible_radiologists=len(eligible),
        due_at=at_minutes(origin, due),
        slack_minutes=round(due - finish, 3),
        subspecialty_match=(
            subspecialty in readers.rights[reader].subspecialties if subspecialty else None
        ),
        alternatives=alternatives,
    )


def explain_placement(
    result: Forecast, study: int, reader: int, origin: datetime, *, with_patient: bool = False
) -> Explanation:
    """Why an arriving (or handed back) study went into this reader's worklist: of the readers
    who may read it, their queue finishes it first after everything more urgent (or they hold
    the patient's other studies). Alternatives are the next-best queues, priced the same way."""
    dispatcher = result.dispatcher
    studies, readers, classes = dispatcher.studies, dispatcher.readers, dispatcher.classes
    predicted = result.predicted(study)
    assert predicted is not None, "explain a study once it is placed"
    finish, due = predicted.finish, float(studies.due[study])
    name = str(readers.ids[reader])
    priority = PRIORITY_NAMES[int(studies.rank[study])]
    position = result.queues[reader].studies.index(study)
    others = sorted(
        (their_finish, other, late)
        for other, _, their_finish, late in priced_slots(result, study, skip=reader)
    )
    if due - finish >= -FINISH_SLACK_MINUTES:
        timing = f"predicted to finish {due - finish:.0f} min before due"
    else:
        timing = f"predicted to finish {finish - due:.0f} min late; no queue finishes it in time"
    ahead = f"{position} stud{'y' if position == 1 else 'ies'} ahead of it"
    eligible = len(classes.readers[int(studies.klass[study])])
    choice = (
        "who holds the patient's other unread studies and can still read it on time"
        if with_patient and others and others[0][0] < finish
        else "whose worklist finishes it first"
    )
    subspecialty = studies.subspecialty[study]
    return Explanation(
        summary=(
            f"this {priority} study went to {name}, {choice} among the {eligible} "
            f"radiologist{'s' if eligible != 1 else ''} who may read it ({ahead}); {timing}"
        ),
        eligible_radiologists=eligible,
        due_at=at_minutes(origin, due),
        slack_minutes=round(due - finish, 3),
        subspecialty_match=(
            subspecialty in readers.rights[reader].subspecialties if subspecialty else None
        ),
        alternatives=[
            Alternative(
                radiologist=str(readers.ids[other]),
                eligible=True,
                predicted_finish=at_minutes(origin, their_finish),
                minutes_later=round(their_finish - finish, 3),
                reasons=["their worklist would finish it later" + (", late" if late else "")],
                reason_codes=["LATER_FINISH"],
            )
            for their_finish, other, late in others[:MAX_ALTERNATIVES]
        ],
    )


def _summary(dispatcher: Dispatcher, choice: Choice, reader: int, finish: float, due: float) -> str:
    studies = dispatcher.studies
    name = dispatcher.readers.ids[reader]
    priority = PRIORITY_NAMES[int(studies.rank[choice.study])]
    if (
        choice.bucket < 0
        and studies.holder[choice.study] == reader
        and not studies.offered[choice.study]
    ):
        opening = f"{name} was assigned this {priority} study by hand"
    elif choice.starving:
        opening = f"this {priority} study has waited past twice its turnaround, so it goes first"
    else:
        opening = f"{name} is free, and this is the most urgent study they may start ({priority})"
    if due - finish >= -FINISH_SLACK_MINUTES:
        timing = f"it can still make its contract, with {due - finish:.0f} min to spare"
    else:
        timing = (
            f"it will be {finish - due:.0f} min late, and nothing they may start can still make "
            "its contract"
        )
    if priority == "STAT" and choice.saveable and not choice.starving:
        others = choice.others_in_time
        timing += (
            "; nobody else could start it in time"
            if others == 0
            else f"; {others} other reader{'s' if others != 1 else ''} could start it in time"
        )
    return f"{opening}; {timing}"


def _alternatives(
    dispatcher: Dispatcher,
    study: int,
    reader: int,
    eligible: np.ndarray,
    free: np.ndarray,
    finish: float,
    origin: datetime,
) -> list[Alternative]:
    studies, readers, classes = dispatcher.studies, dispatcher.readers, dispatcher.classes
    options = []
    for other in eligible.tolist():
        if other == reader or free[other] == math.inf:
            continue
        their_finish = float(free[other]) + float(studies.expected[study]) / float(
            readers.speed[other]
        )
        limit = min(
            float(classes.until[studies.klass[study], other]), float(readers.shift_end[other])
        )
        options.append((their_finish, other, limit))
    options.sort()
    result = []
    for their_finish, other, limit in options[:MAX_ALTERNATIVES]:
        if their_finish > limit + FINISH_SLACK_MINUTES:
            reason = "could not finish it before their shift ends or their rights lapse"
            code = "NO_ROOM_BEFORE_SHIFT_END"
        elif free[other] > free[reader] + FINISH_SLACK_MINUTES:
            busy = format_utc_time(at_minutes(origin, float(free[other])))
            reason = f"not free until {busy}"
            code = "BUSY"
        else:
            reason = "also free; this reader reads fewer kinds of work or was free first"
            code = "ROUTING"
        result.append(
            Alternative(
                radiologist=str(readers.ids[other]),
                eligible=True,
                predicted_finish=at_minutes(origin, their_finish),
                minutes_later=round(their_finish - finish, 3),
                reasons=[reason],
                reason_codes=[code],
            )
        )
    return result
