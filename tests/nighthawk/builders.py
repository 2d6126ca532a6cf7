"""Tiny hand-built practices for rule-by-rule tests."""

from __future__ import annotations

from typing import Any

from models.snapshot import Snapshot

NOW = "2026-12-05T07:30:00Z"


def reader(id: str = "rad-1", **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": id,
        "licenses": ["CA"],
        "credentials": ["fac-1"],
        "subspecialties": [],
        "modalities": [],
        "shift_start": "2026-12-05T07:00:00Z",
        "shift_end": "2026-12-05T15:00:00Z",
        "backlog_minutes": 0.0,
        "speed": 1.0,
    }
    base.update(overrides)
    return base


def study(id: str = "st-1", **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": id,
        "facility": "fac-1",
        "state": "CA",
        "modality": "CT",
        "priority": "ROUTINE",
        "arrived_at": "2026-12-05T07:00:00Z",
        "due_at": "2026-12-06T07:00:00Z",
        "expected_minutes": 10.0,
    }
    base.update(overrides)
    return base


def snapshot(
    readers: list[dict[str, Any]], studies: list[dict[str, Any]], **extra: Any
) -> Snapshot:
    return Snapshot.model_validate(
        {"now": NOW, "radiologists": readers, "studies": studies, **extra}
    )
