"""What one simulated replication of one policy produces: the studies and the readers' hours."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# The studies.csv contract, in order; the columns after it are extensions for analysis.
STUDY_COLUMNS = (
    "study",
    "facility",
    "state",
    "modality",
    "priority",
    "arrived_at",
    "assigned_at",
    "started_at",
    "finished_at",
    "radiologist",
    "due_at",
    "met_sla",
    "replication",
    "policy",
)
EXTRA_COLUMNS = ("warmup", "tat_minutes", "wait_minutes", "read_minutes")


@dataclass
class ReplicationResult:
    """One policy, one replication.

    `studies` has STUDY_COLUMNS + EXTRA_COLUMNS, one row per study that arrived: times are
    UTC pandas timestamps (NaT when it never happened), `radiologist` is "" for a study nobody
    read, `warmup` marks arrivals before the measured window (left out of every statistic),
    and the *_minutes columns are NaN where a time is missing. `busy_minutes[r, h]` and
    `shift_minutes[r, h]` are the minutes reader r spent reading while on shift (a read that
    runs past the shift's end counts to the end only, so busy <= on shift) and on shift in
    simulated hour h, `hours[h]` being that hour's UTC start.
    """

    policy: str
    replication: int
    studies: pd.DataFrame
    reader_ids: list[str]
    hours: pd.DatetimeIndex
    busy_minutes: np.ndarray
    shift_minutes: np.ndarray
    measured_from: pd.Timestamp
    events: int
    wall_seconds: float
    # Arrivals stop here; the hours after it only drain the queue, so utilization ends here.
    measured_until: pd.Timestamp | None = None

    @property
    def measured(self) -> pd.DataFrame:
        return self.studies.loc[~self.studies["warmup"]]
