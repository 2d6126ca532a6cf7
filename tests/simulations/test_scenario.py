"""Tests for ``simulations.scenario``: the contract, its files and traces (the layout of shifts
and eligibility in ``simulations.world`` is in test_world.py).

Scenarios are plain dicts, validated with ``parse_scenario`` (or written to YAML/JSON files and
read with ``load_scenario``); times in ``reader_stretches`` are minutes after the scenario start.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from models.priority import DEFAULT_READ_MINUTES, Modality
from simulations.scenario import (
    ReadDistribution,
    Scenario,
    ScenarioError,
    load_scenario,
    load_trace,
    parse_scenario,
)

START = "2026-12-01T00:00:00Z"  # a Tuesday; Denver is UTC-7 and New York UTC-5 in December
START_AT = datetime(2026, 12, 1, tzinfo=UTC)
DAY = 24 * 60
TRACE_HEADER = "arrived_at,facility,modality,priority,subspecialty,read_minutes"


def reader(rid: str = "r1", **fields: Any) -> dict[str, Any]:
    """A reader licensed and credentialed for the base facility, on duty 08:00-16:00 UTC."""
    data: dict[str, Any] = {
        "id": rid,
        "licenses": ["WY"],
        "credentials": ["f1"],
        "shifts": [{"start": "08:00", "end": "16:00", "timezone": "UTC"}],
    }
    data.update(fields)
    return data


def scenario_data(**fields: Any) -> dict[str, Any]:
    """A valid one-facility, one-reader, one-day practice in Wyoming; override any field."""
    data: dict[str, Any] = {
        "name": "test",
        "start": START,
        "days": 1,
        "facilities": [{"id": "f1", "state": "WY", "timezone": "America/Denver"}],
        "arrivals": [{"facility": "f1", "modality": "CT", "priority": "STAT", "per_hour": 2}],
        "radiologists": [reader()],
    }
    data.update(fields)
    return data


def build(**fields: Any) -> Scenario:
    return parse_scenario(scenario_data(**fields))


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data)
    return str(caught.value)


def mutated(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = copy.deepcopy(scenario_data())
    change(data)
    return data


def shift(**fields: Any) -> Callable[[dict[str, Any]], object]:
    return lambda d: d["radiologists"][0]["shifts"][0].update(fields)


def stream(**fields: Any) -> Callable[[dict[str, Any]], object]:
    return lambda d: d["arrivals"][0].update(fields)


def event(**fields: Any) -> Callable[[dict[str, Any]], object]:
    window = {"from": "2026-12-01T01:00:00Z", "to": "2026-12-01T02:00:00Z"}
    return lambda d: d.update(events=[{**window, **fields}])


def read_minutes(**fields: Any) -> Callable[[dict[str, Any]], object]:
    return lambda d: d.update(read_minutes={"CT": fields})


# ----- a valid scenario ---------------------------------------------------------------------
def test_a_minimal_scenario_parses_with_utc_start_and_end() -> None:
    scenario = build(days=2.5, warmup_hours=6)
    assert scenario.start == START_AT
    assert scenario.end == START_AT + timedelta(days=2.5)
    assert scenario.measured_from == START_AT + timedelta(hours=6)


def test_parse_scenario_refuses_data_that_is_not_a_mapping() -> None:
    with pytest.raises(ScenarioError, match=r"^scenario: must be a mapping of fields, got list"):
        parse_scenario([scenario_data()])


def test_a_trace_scenario_needs_no_arrivals() -> None:
    assert build(arrivals=None, trace="studies.csv").trace == "studies.csv"


# ----- bad input: every error names the field ---------------------------------------------
BAD_SCENARIOS = [
    ("unknown top-level field", lambda d: d.update(colour="blue"), "colour: unknown field"),
    ("missing name", lambda d: d.pop("name"), "name: required field is missing"),
    ("missing start", lambda d: d.pop("start"), "start: required field is missing"),
    ("missing facilities", lambda d: d.pop("facilities"), "facilities: required field"),
    ("missing radiologists", lambda d: d.pop("radiologists"), "radiologists: required field"),
    ("zero days", lambda d: d.update(days=0), "days: must be greater than 0"),
    ("negative days", lambda d: d.update(days=-1), "days: must be greater than 0"),
    (
        "warmup equal to days",
        lambda d: d.update(warmup_hours=24),
        "warmup_hours: 24 h must be shorter than the simulated 1 day (24 h)",
    ),
    (
        "warmup beyond days",
        lambda d: d.update(warmup_hours=30, days=1.2),
        "warmup_hours: 30 h must be shorter than the simulated 1.2 days (28.8 h)",
    ),
    ("both arrivals and trace", lambda d: d.update(trace="t.csv"), "arrivals: give either"),
    ("neither arrivals nor trace", lambda d: d.pop("arrivals"), "arrivals: give arrivals, a trace"),
    ("stream at unknown facility", stream(facility="x"), "arrivals[0].facility: unknown"),
    ("profile of 23 hours", stream(hourly_profile=[1.0] * 23), "arrivals[0].hourly_profile:"),
    ("profile of 25 hours", stream(hourly_profile=[1.0] * 25), "arrivals[0].hourly_profile:"),
    (
        "negative profile value",
        stream(hourly_profile=[1.0] * 23 + [-0.5]),
        "arrivals[0].hourly_profile[23]: must be at least 0",
    ),
    ("negative per_hour", stream(per_hour=-1), "arrivals[0].per_hour: must be at least 0"),
    (
        "required subspecialty not named",
        stream(subspecialty_required=True),
        "arrivals[0].subspecialty: required when subspecialty_required is true",
    ),
    (
        "duplicate facility id",
        lambda d: d["facilities"].append({"id": "f1", "state": "NY", "timezone": "UTC"}),
        "facilities[1].id: duplicate id 'f1'",
    ),
    (
        "duplicate radiologist id",
        lambda d: d["radiologists"].append(reader("r1")),
        "radiologists[1].id: duplicate id 'r1'",
    ),
    (
        "credential at unknown facility",
        lambda d: d["radiologists"][0].update(credentials=["f1", "nowhere"]),
        "radiologists[0].credentials[1]: unknown facility 'nowhere'",
    ),
    ("start 25:00", shift(start="25:00"), "radiologists[0].shifts[0].start: not a time of day"),
    ("start 7pm", shift(start="7pm"), "radiologists[0].shifts[0].start: expected HH:MM"),
    ("start 08:60", shift(start="08:60"), "radiologists[0].shifts[0].start: not a time of day"),
    ("start 24:00", shift(start="24:00"), "radiologists[0].shifts[0].start: not a time of day"),
    ("end 24:30", shift(end="24:30"), "radiologists[0].shifts[0].end: not a time of day"),
    ("unknown weekday", shift(days=["mon", "funday"]), "radiologists[0].shifts[0].days[1]:"),
    ("bad shift zone", shift(timezone="Mars/Olympus"), "radiologists[0].shifts[0].timezone:"),
    (
        "bad facility zone",
        lambda d: d["facilities"][0].update(timezone="Mars/Olympus"),
        "facilities[0].timezone: 'Mars/Olympus' is not an IANA time zone",
    ),
    (
        "lognormal without sd",
        read_minutes(distribution="lognormal", mean=10),
        "read_minutes.CT: sd: required for a lognormal distribution",
    ),
    (
        "exponential with sd",
        read_minutes(distribution="exponential", mean=10, sd=2),
        "read_minutes.CT: sd: only a lognormal distribution takes sd",
    ),
    ("zero mean", read_minutes(distribution="fixed", mean=0), "read_minutes.CT.mean: must be"),
    ("negative mean", read_minutes(distribution="fixed", mean=-3), "read_minutes.CT.mean:"),
    (
        "absence of unknown reader",
        event(type="absence", radiologist="ghost"),
        "events[0].radiologist: unknown radiologist 'ghost'",
    ),
    (
        "surge at unknown facility",
        event(type="surge", factor=2, facility="nowhere"),
        "events[0].facility: unknown facility 'nowhere'",
    ),
    ("unknown event type", event(type="strike"), "events[0]: Input tag 'strike'"),
    (
        "license in no state",
        lambda d: d["radiologists"][0].update(licenses=["XX"]),
        "radiologists[0].licenses[0].state: 'XX' is not a US state code",
    ),
    (
        "expiring license in no state",
        lambda d: d["radiologists"][0].update(
            licenses=[{"state": "QQ", "expires_on": "2027-01-01"}]
        ),
        "radiologists[0].licenses[0].state: 'QQ' is not a US state code",
    ),
    ("start without offset", lambda d: d.update(start="2026-12-01T00:00:00"), "start: time has no"),
]


@pytest.mark.parametrize(
    ("change", "message"),
    [pytest.param(change, message, id=name) for name, change, message in BAD_SCENARIOS],
)
def test_bad_scenario_error_names_the_field(
    change: Callable[[dict[str, Any]], object], message: str
) -> None:
    assert error_of(mutated(change)).startswith(f"scenario: {message}")


def test_event_to_before_from_names_to() -> None:
    message = error_of(
        mutated(
            event(type="surge", factor=2, **{"from": "2026-12-01T05:00:00Z"}, to=START),
        )
    )
    assert message.startswith("scenario: events[0]")
    assert message.endswith("to: must be after from")


@pytest.mark.parametrize("end", ["24:00", "00:00", "08:00"])
def test_a_shift_may_end_at_midnight_or_before_its_start(end: str) -> None:
    scenario = parse_scenario(mutated(shift(start="08:00", end=end)))
    assert scenario.radiologists[0].shifts[0].end == end


# ----- load_scenario: YAML, JSON, files ------------------------------------------------------
YAML_SCENARIO = """\
name: from yaml
start: 2026-12-01T00:00:00Z
days: 1
facilities: [{id: f1, state: WY, timezone: America/Denver}]
arrivals: [{facility: f1, modality: CT, priority: STAT, per_hour: 2}]
radiologists:
  - id: r1
    licenses: [{state: WY, expires_on: 2026-12-03}]
    credentials: [f1]
    shifts: [{start: "22:00", end: "08:00", timezone: UTC}]
events:
  - {type: surge, factor: 2, from: 2026-12-01T06:00:00Z, to: 2026-12-01T07:00:00Z}
"""


def test_yaml_with_unquoted_timestamps_and_dates_loads(tmp_path: Path) -> None:
    path = tmp_path / "practice.yaml"
    path.write_text(YAML_SCENARIO)
    scenario = load_scenario(path)
    assert scenario.start == START_AT
    assert scenario.events[0].from_ == START_AT + timedelta(hours=6)
    assert str(scenario.radiologists[0].licenses[0].expires_on) == "2026-12-03"


def test_json_scenario_loads(tmp_path: Path) -> None:
    path = tmp_path / "practice.json"
    path.write_text(json.dumps(scenario_data(name="from json")))
    assert load_scenario(path).name == "from json"


def test_yaml_error_is_reported_with_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "practice.yml"
    path.write_text(YAML_SCENARIO.replace("days: 1", "days: 0"))
    with pytest.raises(ScenarioError, match=re.escape(f"{path}: days: must be greater than 0")):
        load_scenario(path)


def test_bad_yaml_syntax_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\nstart: 2026-12-01T00:00:00Z\n")
    with pytest.raises(ScenarioError, match=re.escape(f"{path}: not valid YAML")):
        load_scenario(path)


def test_bad_json_syntax_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"name": "x",}')
    with pytest.raises(ScenarioError, match=re.escape(f"{path}: not valid JSON")):
        load_scenario(path)


def test_a_yaml_list_is_not_a_scenario(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- name: x\n")
    with pytest.raises(ScenarioError, match=re.escape(f"{path}: must be a mapping")):
        load_scenario(path)


def test_a_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ScenarioError, match=re.escape(f"{path}: cannot read")):
        load_scenario(path)


def test_a_file_that_is_not_utf8_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00name: x\n")
    with pytest.raises(ScenarioError, match=re.escape(str(path))):
        load_scenario(path)


def test_yaml_shift_times_need_no_quotes(tmp_path: Path) -> None:
    path = tmp_path / "night.yaml"
    path.write_text(YAML_SCENARIO.replace('start: "22:00"', "start: 22:00"))
    assert load_scenario(path).radiologists[0].shifts[0].start == "22:00"


def test_a_relative_trace_is_found_next_to_the_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "practice"
    folder.mkdir()
    (folder / "studies.csv").write_text(f"{TRACE_HEADER}\n2026-12-01T03:00:00Z,f1,CT,STAT,,12\n")
    (folder / "practice.json").write_text(
        json.dumps(scenario_data(arrivals=None, trace="studies.csv"))
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    scenario = load_scenario(folder / "practice.json")
    assert Path(scenario.trace or "") == folder / "studies.csv"
    assert load_trace(scenario)["read_minutes"].tolist() == [12.0]


def test_an_absolute_trace_path_is_kept(tmp_path: Path) -> None:
    trace = tmp_path / "data" / "studies.csv"
    (tmp_path / "practice.json").write_text(
        json.dumps(scenario_data(arrivals=None, trace=str(trace)))
    )
    assert load_scenario(tmp_path / "practice.json").trace == str(trace)


# ----- trace CSV -------------------------------------------------------------------------------
GOOD_ROW = {
    "arrived_at": "2026-12-01T03:00:00Z",
    "facility": "f1",
    "modality": "CT",
    "priority": "STAT",
    "subspecialty": "",
    "read_minutes": "12",
}


def trace_scenario(tmp_path: Path, lines: list[str], **fields: Any) -> Scenario:
    path = tmp_path / "studies.csv"
    path.write_text("\n".join(lines) + "\n")
    return build(arrivals=None, trace=str(path), **fields)


def row(**cells: str) -> dict[str, str]:
    return {**GOOD_ROW, **cells}


def csv_lines(rows: list[dict[str, str]]) -> list[str]:
    header = list(rows[0])
    return [",".join(header)] + [",".join(r[c] for c in header) for r in rows]


def test_trace_loads_sorted_by_arrival_with_clean_values(tmp_path: Path) -> None:
    rows = [
        row(arrived_at="2026-12-01T05:00:00Z", modality=" ct ", priority="stat"),
        row(
            arrived_at="2026-12-01T01:00:00Z", modality="MR", priority="ROUTINE", read_minutes="30"
        ),
        row(arrived_at="2026-12-01T03:00:00-02:00", priority="URGENT", subspecialty="Neuro"),
    ]
    frame = load_trace(trace_scenario(tmp_path, csv_lines(rows)))
    assert frame["arrived_at"].tolist() == [
        START_AT + timedelta(hours=1),
        START_AT + timedelta(hours=5),
        START_AT + timedelta(hours=5),
    ]
    assert frame["modality"].tolist() == ["MR", "CT", "CT"]
    assert frame["priority"].tolist() == ["ROUTINE", "STAT", "URGENT"]  # stable among ties
    assert frame["read_minutes"].tolist() == [30.0, 12.0, 12.0]
    assert frame["subspecialty"].iat[2] == "neuro"
    assert not frame["subspecialty_required"].any()


def test_trace_drops_rows_outside_the_simulated_days(tmp_path: Path) -> None:
    rows = [
        row(arrived_at="2026-11-30T23:59:59Z"),
        row(arrived_at="2026-12-01T00:00:00Z", read_minutes="1"),
        row(arrived_at="2026-12-01T23:59:00Z", read_minutes="2"),
        row(arrived_at="2026-12-02T00:00:00Z"),
    ]
    frame = load_trace(trace_scenario(tmp_path, csv_lines(rows)))
    assert frame["read_minutes"].tolist() == [1.0, 2.0]


def test_trace_reads_a_required_subspecialty(tmp_path: Path) -> None:
    rows = [
        {**row(subspecialty="neuro"), "subspecialty_required": "true"},
        {**row(), "subspecialty_required": ""},
    ]
    frame = load_trace(trace_scenario(tmp_path, csv_lines(rows)))
    assert frame["subspecialty_required"].tolist() == [True, False]


def test_trace_blank_subspecialty_is_none(tmp_path: Path) -> None:
    frame = load_trace(trace_scenario(tmp_path, csv_lines([row()])))
    assert frame["subspecialty"].tolist() == [None]


def test_trace_missing_column_is_named(tmp_path: Path) -> None:
    lines = ["arrived_at,facility,modality,priority,subspecialty", f"{START},f1,CT,STAT,"]
    with pytest.raises(ScenarioError, match=r"^trace: missing column 'read_minutes'$"):
        load_trace(trace_scenario(tmp_path, lines))


def test_trace_that_cannot_be_read_is_a_scenario_error(tmp_path: Path) -> None:
    scenario = build(arrivals=None, trace=str(tmp_path / "absent.csv"))
    with pytest.raises(ScenarioError, match=r"^trace: cannot read"):
        load_trace(scenario)


BAD_CELLS = [
    ("arrived_at", "yesterday", "arrived_at: not an ISO-8601 time: 'yesterday'"),
    ("facility", "nowhere", "facility: unknown facility 'nowhere'"),
    ("modality", "XRAY", "modality: must be one of CT"),
    ("priority", "ASAP", "priority: must be one of STAT, URGENT, ROUTINE"),
    ("read_minutes", "0", "read_minutes: must be a number in (0, 1440]"),
    ("read_minutes", "-4", "read_minutes: must be a number in (0, 1440]"),
    ("read_minutes", "twelve", "read_minutes: must be a number in (0, 1440]"),
    ("read_minutes", "none", "read_minutes: must be a number in (0, 1440]"),
    ("read_minutes", "1440.5", "read_minutes: must be a number in (0, 1440]"),
]


@pytest.mark.parametrize(("column", "value", "message"), BAD_CELLS)
def test_trace_error_names_line_and_column(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    rows = [row(), row(**{column: value}), row()]  # the bad one is on line 3 (line 1: header)
    with pytest.raises(ScenarioError, match=f"^{re.escape(f'trace line 3: {message}')}"):
        load_trace(trace_scenario(tmp_path, csv_lines(rows)))


def test_trace_required_subspecialty_must_be_named(tmp_path: Path) -> None:
    rows = [{**row(), "subspecialty_required": "true"}]
    message = "trace line 2: subspecialty: required when subspecialty_required is true"
    with pytest.raises(ScenarioError, match=f"^{re.escape(message)}$"):
        load_trace(trace_scenario(tmp_path, csv_lines(rows)))


def test_trace_arrival_without_offset_is_refused(tmp_path: Path) -> None:
    rows = [row(), row(arrived_at="2026-12-01T03:00:00")]
    with pytest.raises(ScenarioError, match=r"^trace line 3: arrived_at:"):
        load_trace(trace_scenario(tmp_path, csv_lines(rows)))


# ----- read distributions ---------------------------------------------------------------------
@pytest.mark.parametrize("modality", list(Modality))
def test_read_distribution_defaults_to_exponential_at_the_default_mean(modality: Modality) -> None:
    assert build().read_distribution(modality) == ReadDistribution(
        distribution="exponential", mean=DEFAULT_READ_MINUTES[modality]
    )


def test_read_distribution_given_in_the_scenario_is_used() -> None:
    given = {"distribution": "lognormal", "mean": 14, "sd": 6}
    scenario = build(read_minutes={"MR": given})
    assert scenario.read_distribution(Modality.MR) == ReadDistribution(**given)
    assert scenario.read_distribution(Modality.CT).mean == DEFAULT_READ_MINUTES[Modality.CT]


def test_lognormal_parameters_give_back_mean_and_sd() -> None:
    mu, sigma = ReadDistribution(distribution="lognormal", mean=15, sd=8).lognormal_parameters()
    assert math.exp(mu + sigma**2 / 2) == pytest.approx(15)
    assert math.sqrt(math.expm1(sigma**2)) * 15 == pytest.approx(8)
