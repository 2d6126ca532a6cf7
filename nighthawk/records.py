"""Recorded studies from a CSV file (a simulator trace, a planner's history), validated
row by row: an error names the line as a spreadsheet shows it and the column."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

import pandas as pd

from models.priority import Modality, Priority
from models.scenario import ScenarioError
from models.types import MAX_READ_MINUTES

STUDY_COLUMNS = ("arrived_at", "facility", "modality", "priority", "subspecialty")


def read_studies_csv(
    path: str | Path,
    facilities: Collection[str],
    *,
    label: str,
    columns: Iterable[str] = STUDY_COLUMNS,
) -> pd.DataFrame:
    """The file's studies sorted by arrival: arrived_at (UTC), facility, modality, priority,
    subspecialty (None when blank), subspecialty_required, read_minutes (NaN where a cell is
    blank or the file has no such column). `columns` are the ones the caller needs."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ScenarioError(f"{label}: cannot read {path} ({_first_line(error)})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ScenarioError(f"{label}: missing column {missing[0]!r}")
    if "subspecialty" not in frame.columns:
        frame["subspecialty"] = ""
    return _validated(frame, set(facilities), label)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _validated(frame: pd.DataFrame, facilities: set[str], label: str) -> pd.DataFrame:
    row_of = {i: i + 2 for i in range(len(frame))}  # line numbers as a spreadsheet shows them

    def fail(i: int, column: str, problem: str) -> ScenarioError:
        return ScenarioError(f"{label} line {row_of[i]}: {column}: {problem}")

    arrived = pd.to_datetime(frame["arrived_at"], utc=True, errors="coerce", format="ISO8601")
    for i in _bad_rows(arrived.isna()):
        raise fail(i, "arrived_at", f"not an ISO-8601 time: {frame['arrived_at'].iat[i]!r}")
    # A time without an offset could be anyone's local time: refuse to guess, as the API does.
    has_offset = frame["arrived_at"].str.strip().str.contains(r"(?:Z|[+-]\d\d:?\d\d)$")
    for i in _bad_rows(~has_offset):
        raise fail(i, "arrived_at", "needs a UTC offset (e.g. 2026-12-01T03:00:00Z)")
    for i in _bad_rows(~frame["facility"].isin(facilities)):
        raise fail(i, "facility", f"unknown facility {frame['facility'].iat[i]!r}")
    modality = frame["modality"].str.strip().str.upper()
    for i in _bad_rows(~modality.isin([m.value for m in Modality])):
        raise fail(i, "modality", f"must be one of {', '.join(m.value for m in Modality)}")
    priority = frame["priority"].str.strip().str.upper()
    for i in _bad_rows(~priority.isin([p.value for p in Priority])):
        raise fail(i, "priority", f"must be one of {', '.join(p.value for p in Priority)}")
    # A blank cell (or no column at all) means "not recorded": NaN, for the caller to fill.
    given = frame["read_minutes"].str.strip() if "read_minutes" in frame.columns else None
    text = given if given is not None else pd.Series("", index=frame.index)
    minutes = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = (minutes.isna() & (text != "")) | (minutes <= 0) | (minutes > MAX_READ_MINUTES)
    for i in _bad_rows(bad):
        raise fail(i, "read_minutes", f"must be a number in (0, {MAX_READ_MINUTES:g}]")
    required = (
        frame["subspecialty_required"].str.strip().str.lower().isin(["true", "1", "yes"])
        if "subspecialty_required" in frame.columns
        else pd.Series(False, index=frame.index)
    )
    subspecialty = frame["subspecialty"].str.strip().str.lower()
    for i in _bad_rows(required & (subspecialty == "")):
        raise fail(i, "subspecialty", "required when subspecialty_required is true")
    clean = pd.DataFrame(
        {
            "arrived_at": arrived,
            "facility": frame["facility"],
            "modality": modality,
            "priority": priority,
            # object dtype: a blank is None, never NaN (a NaN would read as a subspecialty)
            "subspecialty": pd.Series(
                [value or None for value in subspecialty.tolist()], index=frame.index, dtype=object
            ),
            "subspecialty_required": required.astype(bool),
            "read_minutes": minutes.astype(float),
        }
    )
    return clean.sort_values("arrived_at", kind="stable").reset_index(drop=True)


def _bad_rows(mask: pd.Series) -> list[int]:
    """Positions of the first offending row (one error at a time, the earliest)."""
    positions = mask.to_numpy().nonzero()[0]
    return [int(positions[0])] if len(positions) else []
