"""Each radiologist's share of the roster: hours, shifts, nights, weekends, broken preferences.

A preference is what the scenario lets a reader ask for without making it a rule: `prefers`
(templates they would rather work; any other is against it) and `preferences.avoids`
(templates they would rather not work, which counts double in the objective). Availability,
leave and the weekly limit are hard rules: a roster never breaks them, so they appear as the
limit beside the busiest week, not as a broken preference.
"""

from __future__ import annotations

from collections import Counter

from nighthawk.planner.evaluate import Roster
from nighthawk.planner.instance import Instance
from nighthawk.planner.result import ReaderLoad

AVOIDED = 2  # `Instance.preference` codes
NOT_PREFERRED = 1


def reader_loads(instance: Instance, roster: Roster) -> list[ReaderLoad]:
    """One row per radiologist in the scenario, those with no shifts included."""
    inst = instance
    mine: dict[int, list[int]] = {r: [] for r in range(len(inst.reader_ids))}
    for reader, slot in roster:
        mine[reader].append(slot)
    return [_load(inst, r, sorted(slots)) for r, slots in mine.items()]


def _load(inst: Instance, reader: int, slots: list[int]) -> ReaderLoad:
    shifts = [inst.slots[k] for k in slots]
    per_week = Counter(s.week for s in shifts)
    codes = [int(inst.preference[reader, k]) for k in slots]
    return ReaderLoad(
        radiologist=inst.reader_ids[reader],
        shifts=len(shifts),
        hours=round(float(sum(s.hours for s in shifts)), 2),
        nights=sum(s.night for s in shifts),
        weekend_shifts=sum(s.weekend for s in shifts),
        busiest_week_shifts=max(per_week.values(), default=0),
        max_shifts_per_week=int(inst.max_per_week[reader]),
        avoided_shifts=codes.count(AVOIDED),
        unpreferred_shifts=codes.count(NOT_PREFERRED),
        broken_preferences=_broken(inst, reader, slots, codes),
    )


def _broken(inst: Instance, reader: int, slots: list[int], codes: list[int]) -> str:
    """The preferences the reader's shifts go against, by template, in words."""
    spec = inst.readers[reader]
    avoided: Counter[str] = Counter()
    unpreferred: Counter[str] = Counter()
    for slot, code in zip(slots, codes, strict=True):
        template = inst.templates[inst.slots[slot].template].id
        if code == AVOIDED:
            avoided[template] += 1
        elif code == NOT_PREFERRED:
            unpreferred[template] += 1
    words = [f"avoids {t}: {_shifts(n)}" for t, n in sorted(avoided.items())]
    if unpreferred:
        worked = ", ".join(f"{n} {t}" for t, n in sorted(unpreferred.items()))
        total = sum(unpreferred.values())
        preferred = ", ".join(sorted(spec.preferred_templates))
        words.append(f"prefers {preferred}: {worked} {'shift' if total == 1 else 'shifts'}")
    return "; ".join(words)


def _shifts(count: int) -> str:
    return f"{count} shift" if count == 1 else f"{count} shifts"
