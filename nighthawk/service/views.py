"""Database rows to the contract's response bodies."""

from __future__ import annotations

import re
from typing import Any

from models.api import FacilityOut, RadiologistOut, StudyOut
from models.plan import Explanation
from models.tables import StudyStatus


def study_out(row: Any, *, why: Explanation | None = None, site: bool = False) -> StudyOut:
    """A study as the contract shows it. Without a fresh `why`, the explanation it was last
    placed with; for a site's token (`site`), one that names no reader."""
    if why is None and getattr(row, "why", None):
        why = Explanation.model_validate(row.why)
    if why is not None and site:
        why = for_site(why, uncovered=row.status == StudyStatus.UNCOVERED.value)
    return StudyOut(
        id=row.id,
        status=row.status,
        due_at=row.due_at,
        assigned_to=row.assigned_to,
        predicted_start=row.predicted_start,
        predicted_finish=row.predicted_finish,
        facility=row.facility,
        accession=row.accession,
        state=row.state,
        modality=row.modality,
        priority=row.priority,
        subspecialty=row.subspecialty,
        subspecialty_required=row.subspecialty_required,
        body_part=row.body_part,
        procedure=getattr(row, "procedure", None),
        patient_ref=row.patient_ref,
        expected_minutes=row.expected_minutes,
        received_at=row.received_at,
        assigned_at=row.assigned_at,
        started_at=row.started_at,
        reported_at=row.reported_at,
        report=row.report,
        uncovered_reason=(reason_for_site(row.uncovered_reason) if site else row.uncovered_reason),
        pinned=row.pinned,
        version=row.version,
        why=why,
    )


_HANDED_BACK = re.compile(r"^handed back by [^;]*;")
_AWAY = re.compile(r"; on shift but away: .*$")


def reason_for_site(reason: str | None) -> str | None:
    """Why nobody can take a study, as a hospital may see it: the rule that no reader on shift
    meets, never which readers handed it back or are away."""
    if reason is None:
        return None
    return _AWAY.sub("", _HANDED_BACK.sub("handed back by its reader;", reason))


def for_site(why: Explanation, *, uncovered: bool = False) -> Explanation:
    """A hospital sees when its study will be read, not who else could read it or how other
    facilities' work weighs on their queues: no reader, no alternatives, no counts."""
    slack = why.slack_minutes
    if uncovered:
        summary = "no radiologist on shift can take it now; it is retried as the roster changes"
    else:
        timing = f"{slack:.0f} min before due" if slack >= 0 else f"{-slack:.0f} min after due"
        summary = f"assigned to a radiologist; predicted to finish {timing}"
    return Explanation(
        summary=summary, eligible_radiologists=0, due_at=why.due_at, slack_minutes=slack
    )


def sla_minutes_of(row: Any) -> dict[str, float]:
    """A facility row's contract: the priorities it sets, by name."""
    return {
        name: value
        for name, value in (
            ("STAT", row.sla_stat),
            ("URGENT", row.sla_urgent),
            ("ROUTINE", row.sla_routine),
        )
        if value is not None
    }


def facility_out(row: Any) -> FacilityOut:
    sla = sla_minutes_of(row)
    return FacilityOut(
        id=row.id,
        name=row.name,
        state=row.state,
        timezone=row.timezone,
        sla_minutes=sla,
        aliases=list(row.aliases or []),
    )


def radiologist_out(row: Any) -> RadiologistOut:
    return RadiologistOut(
        id=row.id,
        name=row.name,
        licenses=list(row.licenses),
        credentials=list(row.credentials),
        subspecialties=list(row.subspecialties),
        modalities=list(row.modalities),
        speed=row.speed,
        available=row.available,
        availability_reason=row.availability_reason,
    )
