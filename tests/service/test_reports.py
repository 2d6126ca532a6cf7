"""Reports over a real SQLite file: hand-built cases with numbers worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.engine import Connection

from models.api import CoverageOut, SlaRow
from models.priority import Priority
from models.tables import AuditRow, FacilityRow, RadiologistRow, ShiftRow, StudyRow
from nighthawk.service.db import make_engine, migrate, read_transaction, write_transaction
from nighthawk.service.errors import Unprocessable
from nighthawk.service.reports import audit_page, coverage_report, sla_report

T0 = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


# --- row builders ---------------------------------------------------------------------------


def add_facility(
    connection: Connection, facility_id: str, state: str = "WY", zone: str = "America/Denver"
) -> None:
    connection.execute(insert(FacilityRow).values(id=facility_id, state=state, timezone=zone))


def add_study(
    connection: Connection,
    study_id: str,
    *,
    facility: str = "fac-1",
    priority: str = "STAT",
    received: float,
    due: float,
    reported: float | None = None,
    status: str | None = None,
    modality: str = "CT",
    subspecialty: str | None = None,
) -> None:
    """Times are minutes after T0; a study with `reported` set is status `reported`."""
    connection.execute(
        insert(StudyRow).values(
            id=study_id,
            facility=facility,
            accession=f"acc-{study_id}",
            state="WY",
            modality=modality,
            subspecialty=subspecialty,
            priority=priority,
            expected_minutes=15.0,
            received_at=at(received),
            due_at=at(due),
            reported_at=None if reported is None else at(reported),
            status=status or ("reported" if reported is not None else "assigned"),
            content_hash="0" * 64,
            version=1,
            queue_rank=0.0,
            pinned=False,
            subspecialty_required=subspecialty is not None,
        )
    )


def add_radiologist(
    connection: Connection,
    radiologist_id: str,
    *,
    licenses: list[dict[str, Any]] | None = None,
    credentials: list[dict[str, Any]] | None = None,
    available: bool = True,
) -> None:
    connection.execute(
        insert(RadiologistRow).values(
            id=radiologist_id,
            licenses=[{"state": "WY", "expires_on": None}] if licenses is None else licenses,
            credentials=(
                [{"facility": "fac-1", "expires_on": None}] if credentials is None else credentials
            ),
            subspecialties=[],
            modalities=[],
            speed=1.0,
            available=available,
        )
    )


def add_shift(connection: Connection, radiologist_id: str, start: str, end: str) -> None:
    connection.execute(
        insert(ShiftRow).values(
            id=f"{radiologist_id}-{start}",
            radiologist_id=radiologist_id,
            start=utc(start),
            end=utc(end),
        )
    )


# --- SLA ------------------------------------------------------------------------------------


def sla(engine: Engine, **kwargs: Any) -> Any:
    kwargs.setdefault("start", at(0))
    kwargs.setdefault("end", at(24 * 60))
    kwargs.setdefault("now", at(120))
    with read_transaction(engine) as connection:
        return sla_report(connection, **kwargs)


def counts(row: SlaRow) -> tuple[Any, ...]:
    return (
        row.priority,
        row.facility,
        row.studies,
        row.reported,
        row.met,
        row.breached,
        row.open_overdue,
    )


def test_sla_counts_met_breached_and_open_overdue(engine: Engine) -> None:
    with write_transaction(engine) as c:
        add_facility(c, "fac-1")
        add_study(c, "met-early", received=0, due=30, reported=10)  # TAT 10
        add_study(c, "met-on-time", received=0, due=30, reported=20.5)  # due == +30, TAT 20.5
        add_study(c, "breached", received=10, due=40, reported=71)  # TAT 61
        add_study(c, "overdue", received=20, due=50)  # open, past due at now=120
        add_study(c, "reading-overdue", received=25, due=55, status="reading")
        add_study(c, "not-yet-due", received=110, due=140)  # open, undecided
        add_study(c, "before-window", received=-1, due=29, reported=200)
        add_study(c, "at-window-end", received=24 * 60, due=24 * 60 + 30)

    report = sla(engine)

    stat = report.by_priority[0]
    assert counts(stat) == (Priority.STAT, None, 6, 3, 2, 1, 2)
    assert stat.compliance == pytest.approx(2 / 5)
    # numpy linear percentiles of [10, 20.5, 61]: p90 = 20.5 + 0.8 * 40.5, p99 = 20.5 + 0.98 * 40.5
    assert (stat.tat_p50_minutes, stat.tat_p90_minutes, stat.tat_p99_minutes) == (
        20.5,
        52.9,
        60.2,
    )
    assert report.from_ == at(0)
    assert report.to == at(24 * 60)


def test_sla_report_due_exactly_at_report_time_is_met(engine: Engine) -> None:
    with write_transaction(engine) as c:
        add_facility(c, "fac-1")
        add_study(c, "exact", received=0, due=30, reported=30)
        add_study(c, "one-second-late", received=0, due=30, reported=30 + 1 / 60)

    stat = sla(engine).by_priority[0]

    assert (stat.met, stat.breached) == (1, 1)
    assert stat.compliance == 0.5


def test_sla_by_priority_always_lists_all_three_classes(engine: Engine) -> None:
    with write_transaction(engine) as c:
        add_facility(c, "fac-1")
        add_study(c, "u", priority="URGENT", received=0, due=120, reported=60)

    rows = sla(engine).by_priority

    assert [row.priority for row in rows] == [Priority.STAT, Priority.URGENT, Priority.ROUTINE]
    assert counts(rows[0]) == (Priority.STAT, None, 0, 0, 0, 0, 0)
    assert rows[0].compliance is None
    assert rows[0].tat_p50_minutes is None
    assert counts(rows[1]) == (Priority.URGENT, None, 1, 1, 1, 0, 0)
    assert rows[1].compliance == 1.0
    assert rows[1].tat_p99_minutes == 60.0


def test_sla_compliance_is_none_while_nothing_is_decided(engine: Engine) -> None:
    with write_transaction(engine) as c:
        add_facility(c, "fac-1")
        add_study(c, "open", priority="ROUTINE", received=0, due=1440)

    routine = sla(engine).by_priority[2]

    assert counts(routine) == (Priority.ROUTINE, None, 1, 0, 0, 0, 0)
    assert routine.compliance is None
    assert routine.tat_p90_minutes is None


def test_sla_by_facility_sorted_by_facility_then_priority_rank(engine: Engine) -> None:
    with write_transaction(engine) as c:
        add_facility(c, "fac-2")
        add_facility(c, "fac-1")
        add_study(c, "a", facility="fac-2", priority="URGENT", received=0, due=120, reported=130)
        add_study(c, "b", facility="fac-1", priority="ROUTINE", received=0, due=1440)
        add_study(c, "c", facility="fac-1", priority="STAT", received=0, due=30, reported=15)
        add_study(c, "d", facility="fac-1", priority="STAT", received=5, due=35)

    rows = sla(engine).by_facility

    assert [counts(row) for row in rows] == [
        (Priority.STAT, "fac-1", 2, 1, 1, 0, 1),
        (Priority.ROUTINE, "fac-1", 1, 0, 0, 0, 0),
        (Priority.URGENT, "fac-2", 1, 1, 0, 1, 0),
    ]
    assert rows[0].compliance == 0.5
    assert rows[2].tat_p50_minutes == 130.0


def test_sla_ignores_a_priority_outside_the_contract(engine: Engine) -> None:
    # The API only stores STAT/URGENT/ROUTINE; a stray value must not break the report.
    with write_transaction(engine) as c:
        add_facility(c, "fac-1")
        add_study(c, "odd", priority="LOW", received=0, due=30, reported=10)
        add_study(c, "stat", received=0, due=30, reported=10)

    report = sla(engine)

    assert [row.studies for row in report.by_priority] == [1, 0, 0]
    assert [counts(row) for row in report.by_facility] == [(Priority.STAT, "fac-1", 1, 1, 1, 0, 0)]


def test_sla_scoped_to_a_site_sees_only_its_facilities(engine: Engine) -> None:
    with write_transaction(engine) as c:
        add_facility(c, "fac-1")
        add_facility(c, "fac-2")
        add_study(c, "mine", facility="fac-2", received=0, due=30, reported=40)
        add_study(c, "theirs", facility="fac-1", received=0, due=30, reported=10)

    report = sla(engine, facilities=frozenset({"fac-2"}))
    nothing = sla(engine, facilities=frozenset())

    assert counts(report.by_priority[0]) == (Priority.STAT, None, 1, 1, 0, 1, 0)
    assert [row.facility for row in report.by_facility] == ["fac-2"]
    assert nothing.by_priority[0].studies == 0
    assert nothing.by_facility == []


# --- coverage -------------------------------------------------------------------------------

# Hours 04:00Z .. 08:00Z on 2026-12-02; Denver (WY) midnight ending Dec 1 is 07:00Z.
WINDOW = {"start": utc("2026-12-02T04:30:00Z"), "end": utc("2026-12-02T09:00:00Z")}
HOURS = ["04", "05", "06", "07", "08"]


def coverage(engine: Engine, **kwargs: Any) -> CoverageOut:
    for key, value in WINDOW.items():
        kwargs.setdefault(key, value)
    with read_transaction(engine) as connection:
        return coverage_report(connection, **kwargs)


def covered_hours(report: CoverageOut, facility: str = "fac-1") -> list[str]:
    """The hours (as 'HH') in which `facility` had at least one eligible radiologist."""
    [site] = [f for f in report.facilities if f.facility == facility]
    return [f"{hour.start.hour:02d}" for hour in site.hours if not hour.gap]


def one_reader(engine: Engine, **kwargs: Any) -> CoverageOut:
    """fac-1 (WY, Denver), one radiologist on shift all window, altered by `kwargs`."""
    shift = kwargs.pop("shift", ("2026-12-02T00:00:00Z", "2026-12-02T12:00:00Z"))
    facility_zone = kwargs.pop("facility_zone", "America/Denver")
    with write_transaction(engine) as c:
        add_facility(c, "fac-1", "WY", facility_zone)
        add_radiologist(c, "r-1", **kwargs)
        add_shift(c, "r-1", *shift)
    return coverage(engine)


def test_coverage_lists_each_whole_hour_with_the_eligible_reader(engine: Engine) -> None:
    report = one_reader(engine)

    [site] = report.facilities
    assert [hour.start for hour in site.hours] == [utc(f"2026-12-02T{hh}:00:00Z") for hh in HOURS]
    assert all(hour.eligible_radiologists == ["r-1"] for hour in site.hours)
    assert (site.facility, site.state, site.gap_hours, report.gap_hours) == ("fac-1", "WY", 0, 0)
    assert (report.from_, report.to) == (WINDOW["start"], WINDOW["end"])


def test_coverage_gap_when_nobody_is_licensed_in_the_state(engine: Engine) -> None:
    report = one_reader(engine, licenses=[{"state": "CO", "expires_on": None}])

    assert covered_hours(report) == []
    assert report.facilities[0].gap_hours == 5
    assert report.gap_hours == 5


def test_license_valid_until_midnight_in_the_states_zone(engine: Engine) -> None:
    # Dated 2026-12-01 in WY: valid until 2026-12-02T00:00 Denver = 07:00Z, not 00:00Z.
    report = one_reader(engine, licenses=[{"state": "WY", "expires_on": "2026-12-01"}])

    assert covered_hours(report) == ["04", "05", "06"]
    assert report.gap_hours == 2


@pytest.mark.parametrize("renewal_first", [False, True])
def test_a_renewed_license_on_file_wins_over_the_expired_one(
    engine: Engine, renewal_first: bool
) -> None:
    renewed = [
        {"state": "WY", "expires_on": "2026-12-01"},
        {"state": "WY", "expires_on": "2027-12-01"},
    ]
    report = one_reader(engine, licenses=renewed[::-1] if renewal_first else renewed)

    assert covered_hours(report) == HOURS


def test_credential_valid_until_midnight_in_the_facilitys_zone(engine: Engine) -> None:
    # The facility keeps Pacific time: its credential dated Dec 1 runs to 08:00Z.
    report = one_reader(
        engine,
        facility_zone="America/Los_Angeles",
        credentials=[{"facility": "fac-1", "expires_on": "2026-12-01"}],
    )

    assert covered_hours(report) == ["04", "05", "06", "07"]


def test_coverage_gap_when_credential_is_missing(engine: Engine) -> None:
    report = one_reader(engine, credentials=[{"facility": "fac-9", "expires_on": None}])

    assert covered_hours(report) == []


def test_coverage_gap_when_unavailable(engine: Engine) -> None:
    report = one_reader(engine, available=False)

    assert covered_hours(report) == []


def test_an_hour_is_covered_only_if_someone_is_on_duty_for_all_of_it(engine: Engine) -> None:
    # The planner's rule (the kernel's on_duty_throughout): a minute on shift is not an hour.
    with write_transaction(engine) as c:
        add_facility(c, "fac-1")
        add_radiologist(c, "r-1")
        add_radiologist(c, "r-2")
        add_shift(c, "r-1", "2026-12-02T03:00:00Z", "2026-12-02T06:00:00Z")  # ends as 06 begins
        add_shift(c, "r-1", "2026-12-02T07:59:00Z", "2026-12-02T08:01:00Z")  # two minutes
        add_shift(c, "r-2", "2026-12-02T06:30:00Z", "2026-12-02T07:00:00Z")  # half of 06
        add_shift(c, "r-1", "2026-12-02T06:00:00Z", "2026-12-02T06:30:00Z")  # the other half

    report = coverage(engine)
    assert covered_hours(report) == ["04", "05", "06"]  # 06: handed over at 06:30
    hour_06 = report.facilities[0].hours[2]
    assert hour_06.eligible_radiologists == ["r-1", "r-2"]
    hour_07 = report.facilities[0].hours[3]
    assert (hour_07.gap, hour_07.eligible_radiologists, hour_07.uncovered) == (
        True,
        ["r-1"],
        ["any study"],
    )


def test_coverage_asks_for_the_kinds_of_work_the_facility_sends(engine: Engine) -> None:
    # fac-1 sent MR needing neuro last week: a reader without neuro covers its CT, not that.
    with write_transaction(engine) as c:
        add_facility(c, "fac-1")
        add_radiologist(c, "r-1")
        add_shift(c, "r-1", "2026-12-02T00:00:00Z", "2026-12-02T12:00:00Z")
        add_study(c, "a", received=0, due=30)
        add_study(c, "b", received=10, due=40, modality="MR", subspecialty="neuro")
    report = coverage(engine)
    assert covered_hours(report) == []
    assert report.facilities[0].hours[0].uncovered == ["MR (neuro required)"]
    assert report.facilities[0].hours[0].eligible_radiologists == ["r-1"]


def test_coverage_gap_when_off_shift(engine: Engine) -> None:
    report = one_reader(engine, shift=("2026-12-02T10:00:00Z", "2026-12-02T18:00:00Z"))

    assert covered_hours(report) == []


def test_coverage_facilities_sorted_scoped_and_readers_sorted(engine: Engine) -> None:
    with write_transaction(engine) as c:
        add_facility(c, "fac-2", "CO", "America/Denver")
        add_facility(c, "fac-1")
        both = [
            {"facility": "fac-1", "expires_on": None},
            {"facility": "fac-2", "expires_on": None},
        ]
        wy_and_co = [{"state": "WY", "expires_on": None}, {"state": "CO", "expires_on": None}]
        add_radiologist(c, "r-b", licenses=wy_and_co, credentials=both)
        add_radiologist(c, "r-a", licenses=wy_and_co, credentials=both)
        add_radiologist(c, "r-c")  # WY and fac-1 only
        for reader in ("r-a", "r-b", "r-c"):
            add_shift(c, reader, "2026-12-02T04:00:00Z", "2026-12-02T06:00:00Z")

    report = coverage(engine)
    scoped = coverage(engine, facilities=frozenset({"fac-2"}))

    assert [f.facility for f in report.facilities] == ["fac-1", "fac-2"]
    assert report.facilities[0].hours[0].eligible_radiologists == ["r-a", "r-b", "r-c"]
    assert report.facilities[1].hours[0].eligible_radiologists == ["r-a", "r-b"]
    assert [f.gap_hours for f in report.facilities] == [3, 3]
    assert report.gap_hours == 6
    assert [f.facility for f in scoped.facilities] == ["fac-2"]
    assert scoped.gap_hours == 3


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-12-02T05:00:00Z", "2026-12-02T05:00:00Z"),
        ("2026-12-02T05:00:00Z", "2026-12-02T04:00:00Z"),
        ("2026-12-02T05:00:00Z", "2026-12-09T05:00:01Z"),
    ],
)
def test_coverage_refuses_empty_inverted_and_over_a_week_windows(
    engine: Engine, start: str, end: str
) -> None:
    with pytest.raises(Unprocessable) as raised:
        coverage(engine, start=utc(start), end=utc(end))
    assert raised.value.field == "to"


def test_coverage_accepts_exactly_a_week(engine: Engine) -> None:
    report = one_reader(engine)
    week = coverage(engine, start=utc("2026-12-02T05:00:00Z"), end=utc("2026-12-09T05:00:00Z"))

    assert len(report.facilities[0].hours) == 5
    assert len(week.facilities[0].hours) == 168


def test_coverage_with_no_facilities_or_no_radiologists(engine: Engine) -> None:
    empty = coverage(engine)
    with write_transaction(engine) as c:
        add_facility(c, "fac-1")
    nobody = coverage(engine)

    assert (empty.facilities, empty.gap_hours) == ([], 0)
    assert nobody.facilities[0].gap_hours == 5
    assert nobody.facilities[0].hours[0].eligible_radiologists == []


def test_coverage_of_a_large_practice_covers_every_hour(engine: Engine) -> None:
    with write_transaction(engine) as c:
        for f in range(120):
            add_facility(c, f"fac-{f:03d}", ["WY", "CO", "UT"][f % 3])
        for r in range(40):
            licenses = [{"state": s, "expires_on": "2026-12-02"} for s in ("WY", "CO", "UT")]
            credentials = [{"facility": f"fac-{f:03d}", "expires_on": None} for f in range(120)]
            add_radiologist(c, f"r-{r:02d}", licenses=licenses, credentials=credentials)
            hour = r % 24
            add_shift(c, f"r-{r:02d}", f"2026-12-02T{hour:02d}:00:00Z", "2026-12-03T00:00:00Z")

    # Speed is a benchmark's business, not a test's: this checks the vectorised path's answer.
    report = coverage(engine, start=utc("2026-12-02T00:00:00Z"), end=utc("2026-12-03T00:00:00Z"))

    assert len(report.facilities) == 120
    assert report.facilities[0].hours[23].eligible_radiologists == [f"r-{r:02d}" for r in range(40)]
    assert report.gap_hours == 0


# --- audit ----------------------------------------------------------------------------------


def add_audit(engine: Engine, studies: list[str | None]) -> None:
    with write_transaction(engine) as c:
        for i, study in enumerate(studies):
            c.execute(
                insert(AuditRow).values(
                    at=at(i),
                    actor="engine",
                    action="assign",
                    study_id=study,
                    before={"assigned_to": None},
                    after={"assigned_to": f"r-{i}"},
                    reason=f"step {i}",
                )
            )


def page(engine: Engine, **kwargs: Any) -> Any:
    kwargs.setdefault("study", None)
    kwargs.setdefault("cursor", None)
    with read_transaction(engine) as connection:
        return audit_page(connection, **kwargs)


def test_audit_pages_in_seq_order_until_no_cursor(engine: Engine) -> None:
    add_audit(engine, ["s1", "s2", "s1", None, "s1", "s2", "s1"])

    pages, cursor = [], None
    for _ in range(10):
        result = page(engine, limit=3, cursor=cursor)
        pages.append([item.seq for item in result.items])
        cursor = result.next_cursor
        if cursor is None:
            break

    assert pages == [[1, 2, 3], [4, 5, 6], [7]]


def test_audit_last_full_page_has_no_next_cursor(engine: Engine) -> None:
    add_audit(engine, ["s1"] * 6)

    first = page(engine, limit=3)
    second = page(engine, limit=3, cursor=first.next_cursor)

    assert first.next_cursor == "3"
    assert [item.seq for item in second.items] == [4, 5, 6]
    assert second.next_cursor is None


def test_audit_study_filter(engine: Engine) -> None:
    add_audit(engine, ["s1", "s2", "s1", None, "s1", "s2", "s1"])

    first = page(engine, study="s1", limit=2)
    second = page(engine, study="s1", limit=2, cursor=first.next_cursor)

    assert [item.seq for item in first.items] == [1, 3]
    assert [item.seq for item in second.items] == [5, 7]
    assert second.next_cursor is None
    assert {item.study for item in first.items + second.items} == {"s1"}


def test_audit_entry_carries_the_row(engine: Engine) -> None:
    add_audit(engine, ["s1"])

    [entry] = page(engine, limit=10).items

    assert (entry.seq, entry.at, entry.actor, entry.action) == (1, at(0), "engine", "assign")
    assert (entry.study, entry.before, entry.after) == (
        "s1",
        {"assigned_to": None},
        {"assigned_to": "r-0"},
    )
    assert entry.reason == "step 0"


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", "", " 3", "٣"])
def test_audit_bad_cursor_is_unprocessable(engine: Engine, cursor: str) -> None:
    with pytest.raises(Unprocessable) as raised:
        page(engine, limit=3, cursor=cursor)
    assert (raised.value.field, raised.value.message) == ("cursor", "not a valid cursor")
