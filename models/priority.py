"""Study priorities, their default turnaround guarantees and objective weights."""

from __future__ import annotations

from enum import StrEnum


class Priority(StrEnum):
    """How urgently a study must be read; the contract turns this into a due time."""

    STAT = "STAT"
    URGENT = "URGENT"
    ROUTINE = "ROUTINE"

    @property
    def rank(self) -> int:
        """0 for the most urgent class; dispatch orders by this first."""
        return _RANK[self]


_RANK = {Priority.STAT: 0, Priority.URGENT: 1, Priority.ROUTINE: 2}

# Practice-wide defaults; a facility's contract may override the minutes.
DEFAULT_SLA_MINUTES: dict[Priority, float] = {
    Priority.STAT: 30.0,
    Priority.URGENT: 120.0,
    Priority.ROUTINE: 1440.0,
}

# How much one unread or late study of each class weighs in the objective.
DEFAULT_PRIORITY_WEIGHTS: dict[Priority, float] = {
    Priority.STAT: 100.0,
    Priority.URGENT: 10.0,
    Priority.ROUTINE: 1.0,
}


class Modality(StrEnum):
    """Imaging modalities a reader may be restricted to (DICOM-style short codes)."""

    CT = "CT"
    MR = "MR"
    XR = "XR"
    US = "US"
    NM = "NM"
    PET = "PET"
    MG = "MG"
    FL = "FL"


# Typical minutes to read one study when the sender gives no estimate (J Imaging 2022 for CT;
# radiographs 2-4, MR 15-25); a reader's speed factor scales these.
DEFAULT_READ_MINUTES: dict[Modality, float] = {
    Modality.CT: 16.0,
    Modality.MR: 20.0,
    Modality.XR: 3.0,
    Modality.US: 8.0,
    Modality.NM: 15.0,
    Modality.PET: 20.0,
    Modality.MG: 5.0,
    Modality.FL: 10.0,
}
