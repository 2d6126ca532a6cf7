"""What each figure of summary.json means and in which unit: written into the file itself.

One convention: shares are fractions from 0 to 1 in summary.json; the console and report.html
show the same numbers as percentages (and differences of shares in percentage points).
"""

from __future__ import annotations

from collections.abc import Mapping

from simulations.facilities import MIN_RANKED_STUDIES, WORST_FACILITIES

__all__ = ["CONVENTIONS", "DEFINITIONS", "RECOMMENDED_REPLICATIONS", "replication_warnings"]

RECOMMENDED_REPLICATIONS = 5
"""Below this many replications the intervals rest on too few values to trust; said so."""

CONVENTIONS = {
    "shares": "fractions from 0 to 1 here; shown as percentages on the console and in report.html",
    "times": "minutes",
    "counts": "studies per replication (a mean over replications)",
    "statistic": (
        "{mean, ci95, values}: values has one entry per replication, in the order of the "
        "policy's replication_ids (null where undefined, e.g. a percentile of no studies); "
        "ci95 is the 95% interval [low, high], null with fewer than 2 replications"
    ),
    "measured": (
        "studies that arrived after the warm-up (warmup_hours) and before arrivals stop; "
        "reader hours that start in that window"
    ),
}

_BOOTSTRAP = "percentile bootstrap of the mean over replications (seeded: the same every run)"
_WILSON = (
    "Wilson score interval on the counts pooled over replications, its size deflated by the "
    "replications' extra-binomial spread and its critical value Student's t with k-1 df"
)
_PAIRED = "policy minus baseline, paired by replication number (the same studies and reads)"

DEFINITIONS: dict[str, dict[str, str]] = {
    "count": {
        "unit": "studies",
        "meaning": "measured studies per replication",
        "interval": _BOOTSTRAP,
    },
    "met": {
        "unit": "studies",
        "meaning": "measured studies read by their due time, per replication",
        "interval": _BOOTSTRAP,
    },
    "met_sla_share": {
        "unit": "fraction",
        "meaning": "share of measured studies read by their due time (unread ones count as "
        "missed); mean is the pooled share over replications",
        "interval": _WILSON,
    },
    "tat_p50": {
        "unit": "minutes",
        "meaning": "median turnaround (arrival to finished read) of the studies read, "
        "per replication",
        "interval": _BOOTSTRAP,
    },
    "tat_p90": {"unit": "minutes", "meaning": "90th percentile turnaround", "interval": _BOOTSTRAP},
    "tat_p99": {"unit": "minutes", "meaning": "99th percentile turnaround", "interval": _BOOTSTRAP},
    "mean_wait": {
        "unit": "minutes",
        "meaning": "mean time from arrival to the start of the read, of studies started",
        "interval": _BOOTSTRAP,
    },
    "unread": {
        "unit": "studies",
        "meaning": "measured studies never read by the end of the drain, per replication",
        "interval": _BOOTSTRAP,
    },
    "stat_breaches": {
        "unit": "studies",
        "meaning": "measured STAT studies not read by their due time, per replication",
        "interval": _BOOTSTRAP,
    },
    "utilization": {
        "unit": "fraction",
        "meaning": "busy minutes over on-shift minutes of all readers in the measured hours; "
        "only the part of a read inside the reader's shift counts as busy (a read "
        "finished past the shift end is not counted beyond it), so it lies in [0, 1]; "
        "mean is the pooled ratio over replications",
        "interval": "percentile bootstrap of the pooled ratio over replications (seeded)",
    },
    "utilization.by_reader": {
        "unit": "fraction",
        "meaning": "the same ratio per reader, pooled over replications (readers with no "
        "on-shift minutes are listed in utilization.readers_without_shift_time instead)",
        "interval": "none",
    },
    "utilization.readers_without_shift_time": {
        "unit": "reader ids",
        "meaning": "readers never on shift in the measured hours of any replication: "
        "busy over on-shift minutes is undefined for them, so they have no utilization",
        "interval": "none",
    },
    "worst_facilities": {
        "unit": "fraction",
        "meaning": "facilities with the lowest share of STAT and URGENT studies met, pooled "
        f"over replications; ranked only with at least {MIN_RANKED_STUDIES} such measured "
        f"studies (pooled), the rest counted in facilities_with_too_few_studies; at most "
        f"{WORST_FACILITIES} rows, each with its ci95",
        "interval": _WILSON,
    },
    "comparisons.stat_breaches": {
        "unit": "studies",
        "meaning": f"{_PAIRED}: difference in STAT breaches per replication",
        "interval": "Student t on the per-replication differences",
    },
    "comparisons.stat_met_sla_share": {
        "unit": "fraction",
        "meaning": f"{_PAIRED}: the difference in STAT studies met over the mean paired count "
        "of STAT studies (values: per replication); it agrees with stat_breaches on "
        "significance by construction",
        "interval": "Student t on the per-replication differences in studies met, divided by "
        "the mean paired count",
    },
    "comparisons.stat_tat_p90": {
        "unit": "minutes",
        "meaning": f"{_PAIRED}: difference in STAT TAT p90",
        "interval": "Student t on the per-replication differences",
    },
    "comparisons.all_met_sla_share": {
        "unit": "fraction",
        "meaning": f"{_PAIRED}: as stat_met_sla_share, over all priorities",
        "interval": "Student t on the per-replication differences in studies met, divided by "
        "the mean paired count",
    },
    "comparisons.significant": {
        "unit": "boolean",
        "meaning": "the difference's 95% interval excludes zero",
        "interval": "none",
    },
    "wall_seconds": {
        "unit": "seconds",
        "meaning": "wall time of all the policy's replications",
        "interval": "none",
    },
    "events": {
        "unit": "events",
        "meaning": "simulation events of all the policy's replications",
        "interval": "none",
    },
}


def replication_warnings(replications: Mapping[str, int]) -> list[str]:
    """A warning for the policies run fewer than ``RECOMMENDED_REPLICATIONS`` times."""
    few: dict[int, list[str]] = {}
    for policy, count in replications.items():
        if count < RECOMMENDED_REPLICATIONS:
            few.setdefault(count, []).append(policy)
    warnings = []
    for count, policies in sorted(few.items()):
        who = ", ".join(policies)
        if count == 1:
            warnings.append(
                f"1 replication ({who}): no intervals and no significance; run at least "
                f"{RECOMMENDED_REPLICATIONS} before relying on a figure or a comparison"
            )
        else:
            warnings.append(
                f"{count} replications ({who}), fewer than {RECOMMENDED_REPLICATIONS}: the "
                f"intervals rest on too few values to trust; run at least "
                f"{RECOMMENDED_REPLICATIONS}"
            )
    return warnings
