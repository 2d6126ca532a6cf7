"""SLA compliance per facility, pooled over replications; the worst ranked only on enough work.

A facility's time-critical work is its STAT and URGENT studies: their contracts are the tight
ones, and routine work would dilute a facility's troubles. A share of four studies says little,
so only facilities with at least ``MIN_RANKED_STUDIES`` measured STAT and URGENT studies
(pooled over the policy's replications) are ranked, each with its interval (a quasi-binomial
Wilson interval, as for every share: ``simulations.intervals``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from models.priority import Priority
from simulations.intervals import number, share_stat
from simulations.measured import Measured
from simulations.results import ReplicationResult

__all__ = [
    "MIN_RANKED_STUDIES",
    "WORST_FACILITIES",
    "facility_compliance",
    "facility_counts",
    "worst_facilities",
]

WORST_FACILITIES = 10
MIN_RANKED_STUDIES = 30
"""Measured STAT and URGENT studies a facility needs, pooled over replications, to be ranked."""

_COUNTS = ["count", "met", "stat_count", "stat_met", "critical_count", "critical_met"]
_FACILITY_COLUMNS = ["facility", "state", "count", "met_sla_share", "stat_count", "stat_met_share"]


def facility_counts(measured: Measured) -> pd.DataFrame:
    """One replication's measured studies and met counts per facility (one row each): all
    priorities, STAT, and STAT with URGENT (``critical``)."""
    codes, size = measured.facility_codes, len(measured.facilities)
    is_stat = measured.is_priority(Priority.STAT.value)
    is_critical = is_stat | measured.is_priority(Priority.URGENT.value)

    def per_facility(weights: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=size)

    return pd.DataFrame(
        {
            "facility": measured.facilities,
            "state": measured.facility_states,
            "count": np.bincount(codes, minlength=size),
            "met": per_facility(measured.met),
            "stat_count": per_facility(is_stat),
            "stat_met": per_facility(measured.met & is_stat),
            "critical_count": per_facility(is_critical),
            "critical_met": per_facility(measured.met & is_critical),
        }
    )


def _pooled(parts: list[pd.DataFrame]) -> pd.DataFrame:
    pooled = pd.concat(parts).groupby("facility", sort=False)
    table = pooled[_COUNTS].sum()
    table["state"] = pooled["state"].first()
    return table


def facility_compliance(results: Iterable[ReplicationResult]) -> pd.DataFrame:
    """Met-SLA shares per facility, pooled over the replications given (measured studies).

    Columns: facility, state, count, met_sla_share, stat_count, stat_met_share (NaN without
    STAT studies); sorted worst first (lowest share, then facility id for a stable order).
    """
    parts = [facility_counts(Measured.of(result)) for result in results]
    if not parts:
        return pd.DataFrame(columns=_FACILITY_COLUMNS)
    table = _pooled(parts)
    table["met_sla_share"] = table["met"] / table["count"]
    table["stat_met_share"] = table["stat_met"] / table["stat_count"].where(table["stat_count"] > 0)
    table = table.reset_index().sort_values(["met_sla_share", "facility"], kind="stable")
    return table[_FACILITY_COLUMNS].reset_index(drop=True)


def worst_facilities(parts: list[pd.DataFrame]) -> dict[str, Any]:
    """The facilities with the lowest STAT-and-URGENT met share, from per-replication
    ``facility_counts``; only those with enough such studies are ranked."""
    ranked: list[dict[str, Any]] = []
    too_few = 0
    if parts:
        table = _pooled(parts)
        # Replication × facility: a facility with no studies in a replication counts 0 there.
        grid = pd.concat(
            [part.set_index("facility")[["critical_count", "critical_met"]] for part in parts],
            keys=range(len(parts)),
        ).unstack(level=0, fill_value=0)
        eligible = table.index[table["critical_count"] >= MIN_RANKED_STUDIES]
        too_few = len(table) - len(eligible)
        for facility in eligible:
            share = share_stat(
                grid.loc[facility, "critical_met"].to_numpy(dtype=float),
                grid.loc[facility, "critical_count"].to_numpy(dtype=float),
            )
            row = table.loc[facility]
            ranked.append(
                {
                    "facility": str(facility),
                    "state": str(row["state"]),
                    "studies": int(row["count"]),
                    "stat_urgent_studies": int(row["critical_count"]),
                    "stat_urgent_met_share": share["mean"],
                    "ci95": share["ci95"],
                    "met_sla_share": number(row["met"] / row["count"]),
                    "stat_met_share": number(row["stat_met"] / row["stat_count"])
                    if row["stat_count"] > 0
                    else None,
                }
            )
    ranked.sort(key=lambda row: (row["stat_urgent_met_share"], row["facility"]))
    return {
        "minimum_stat_urgent_studies": MIN_RANKED_STUDIES,
        "facilities_ranked": len(ranked),
        "facilities_with_too_few_studies": too_few,
        "rows": ranked[:WORST_FACILITIES],
    }
