"""A live dispatcher from a snapshot (`nighthawk solve`'s contract): for tests and benchmarks
that hold the dispatcher to the independent validator, and for what-ifs on a saved moment."""

from __future__ import annotations

from models.snapshot import Snapshot
from nighthawk.clock import minutes_between
from nighthawk.kernel import due_at, facility_zone_of, rights_of
from nighthawk.live.dispatcher import Dispatcher, DispatchSettings
from nighthawk.live.state import StudyFacts


def dispatcher_from_snapshot(
    snapshot: Snapshot, settings: DispatchSettings | None = None
) -> Dispatcher:
    """Readers with their rights, shift and backlog; every study waiting (the snapshot's
    `assigned_to` is a plan, not a decision: the forecast makes its own). Minutes after
    `snapshot.now`."""
    now = snapshot.now
    zones = {f.id: f.timezone for f in snapshot.facilities}
    states = {s.facility: s.state for s in snapshot.studies}
    dispatcher = Dispatcher(settings)
    for reader in snapshot.radiologists:
        rights = rights_of(reader, now, lambda f: facility_zone_of(f, zones, states.get(f)))
        dispatcher.add_reader(reader.id, speed=reader.speed, rights=rights)
        dispatcher.set_shift(
            reader.id,
            minutes_between(now, reader.shift_start),
            minutes_between(now, reader.shift_end),
        )
        dispatcher.set_backlog(reader.id, reader.backlog_minutes)
    contracts = {f.id: f.sla_minutes for f in snapshot.facilities}
    defaults = snapshot.settings.sla_defaults()
    for study in snapshot.studies:
        due = study.due_at or due_at(
            study.arrived_at, study.priority, contracts.get(study.facility), defaults
        )
        facts = StudyFacts(
            id=study.id,
            klass=(
                study.state,
                study.facility,
                study.modality,
                study.subspecialty if study.subspecialty_required else None,
            ),
            rank=study.priority.rank,
            arrival=minutes_between(now, study.arrived_at),
            due=minutes_between(now, due),
            expected_minutes=study.expected_minutes,
            subspecialty=study.subspecialty,
        )
        dispatcher.arrive(facts, 0.0)
    return dispatcher
