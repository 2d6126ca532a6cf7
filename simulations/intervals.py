"""95% intervals that respect their range, one method per kind of measure.

- A share of studies (met SLA): the Wilson score interval on the counts pooled over the
  replications. Its sample size is deflated by the replications' spread beyond binomial noise
  (the quasi-binomial dispersion, at least 1), because studies of one replication share their
  queue and are not independent; its critical value is Student's t with k-1 degrees of freedom,
  because that spread is estimated from k replications. Inside [0, 1] by construction; where the
  t-interval of the per-replication shares fits inside [0, 1] the two are about as wide.
- A time or count per replication (TAT percentiles, mean wait, studies, unread, breaches): a
  percentile bootstrap of the mean over replications, seeded, so the same values always give
  the same interval; it never leaves the range of the values, so never goes below 0.
- A ratio of minutes (utilization): the pooled ratio, bootstrapped over replications the same
  way; inside [0, 1] whenever each replication's ratio is.
- A paired difference between policies: Student's t on the per-replication differences (a
  difference may have either sign). A share's difference is its count's difference divided by
  the mean paired count, so a count and its share always agree on significance.

Every interval needs two replications: one says nothing about how replications differ, and a
zero-width interval would claim certainty it does not have.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "CONFIDENCE",
    "MIN_REPLICATIONS_FOR_INTERVAL",
    "Stat",
    "across_replications",
    "bootstrap_mean",
    "bootstrap_ratio",
    "dispersion",
    "excludes_zero",
    "number",
    "paired_difference",
    "ratio_stat",
    "scaled",
    "share_stat",
    "t_interval",
    "wilson_interval",
]

Stat = dict[str, Any]
"""``{"mean": float | None, "ci95": [lo, hi] | None, "values": [float | None, ...]}``."""

CONFIDENCE = 0.95
MIN_REPLICATIONS_FOR_INTERVAL = 2
BOOTSTRAP_RESAMPLES = 2000
_BOOTSTRAP_SEED = 20240613
"""Fixed: the bootstrap is part of the output, and the same results must give the same file."""


def number(value: float | int | np.number | None) -> float | None:
    """A plain finite float, or None for anything undefined (NaN, inf, missing)."""
    if value is None:
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def _critical_t(replications: int) -> float:
    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, replications - 1))


def _defined(values: Sequence[float | int | None]) -> tuple[list[float | None], np.ndarray]:
    cleaned = [number(v) for v in values]
    return cleaned, np.array([v for v in cleaned if v is not None], dtype=float)


# --- paired differences: Student t ------------------------------------------------------------


def t_interval(values: np.ndarray) -> list[float] | None:
    """``mean ± t(0.975, n-1) · s / sqrt(n)``; for differences, which may take either sign."""
    if len(values) < MIN_REPLICATIONS_FOR_INTERVAL:
        return None
    mean = float(values.mean())
    half = _critical_t(len(values)) * float(values.std(ddof=1)) / math.sqrt(len(values))
    return [mean - half, mean + half]


def excludes_zero(interval: list[float] | None) -> bool:
    return interval is not None and (interval[0] > 0 or interval[1] < 0)


def paired_difference(base: Mapping[int, float | None], other: Mapping[int, float | None]) -> Stat:
    """other − base per replication number present (and defined) in both, with its t-interval.

    Adds ``replication_ids`` (the order of ``values``) and ``significant`` (the interval
    excludes zero) to the usual statistic.
    """
    paired: dict[int, float] = {}
    for replication in sorted(base.keys() & other.keys()):
        before, after = number(base[replication]), number(other[replication])
        if before is not None and after is not None:
            paired[replication] = after - before
    differences = np.array(list(paired.values()), dtype=float)
    interval = t_interval(differences)
    return {
        "mean": float(differences.mean()) if len(differences) else None,
        "ci95": interval,
        "values": list(paired.values()),
        "replication_ids": list(paired),
        "significant": excludes_zero(interval),
    }


def scaled(difference: Stat, factor: float, values: list[float | None]) -> Stat:
    """A paired difference multiplied by a positive constant: the same significance by
    construction. ``values`` replaces the per-replication values (kept for reading only)."""
    if not factor > 0:
        raise ValueError(f"the scale factor must be positive, got {factor}")
    mean, interval = difference["mean"], difference["ci95"]
    return {
        **difference,
        "mean": None if mean is None else mean * factor,
        "ci95": None if interval is None else [bound * factor for bound in interval],
        "values": values,
    }


# --- shares of studies: Wilson on pooled counts ------------------------------------------------


def dispersion(successes: np.ndarray, trials: np.ndarray) -> float:
    """Pearson's X² / (k − 1) of the replications' counts around their pooled share, at least 1
    (never narrower than binomial); 1 when it cannot be estimated."""
    keep = trials > 0
    successes, trials = successes[keep], trials[keep]
    if len(trials) < 2:
        return 1.0
    share = successes.sum() / trials.sum()
    if share <= 0.0 or share >= 1.0:
        return 1.0  # every study met (or none), in every replication: no spread to see
    pearson = float((((successes - trials * share) ** 2) / (trials * share * (1 - share))).sum())
    return max(1.0, pearson / (len(trials) - 1))


def wilson_interval(
    successes: float, trials: float, *, critical: float, dispersion: float = 1.0
) -> list[float] | None:
    """The Wilson score interval of ``successes / trials`` with ``trials / dispersion`` as the
    effective sample size."""
    if trials <= 0:
        return None
    size = trials / dispersion
    share = successes / trials
    z2 = critical * critical
    denominator = 1.0 + z2 / size
    centre = (share + z2 / (2 * size)) / denominator
    half = critical * math.sqrt(share * (1 - share) / size + z2 / (4 * size * size)) / denominator
    # The interval always holds the share itself; min and max only absorb float noise.
    return [min(max(0.0, centre - half), share), max(min(1.0, centre + half), share)]


def share_stat(successes: Sequence[float], trials: Sequence[float]) -> Stat:
    """A share per replication; ``mean`` is the pooled share (every success over every trial,
    the count-weighted mean of ``values``) and ``ci95`` its quasi-binomial Wilson interval."""
    met = np.asarray(successes, dtype=float)
    size = np.asarray(trials, dtype=float)
    values = [float(m / n) if n > 0 else None for m, n in zip(met, size, strict=True)]
    counted = size > 0
    total = float(size[counted].sum())
    if total <= 0:
        return {"mean": None, "ci95": None, "values": values}
    replications = int(counted.sum())
    interval = None
    if replications >= MIN_REPLICATIONS_FOR_INTERVAL:
        interval = wilson_interval(
            float(met[counted].sum()),
            total,
            critical=_critical_t(replications),
            dispersion=dispersion(met, size),
        )
    return {"mean": float(met[counted].sum()) / total, "ci95": interval, "values": values}


# --- times, counts and ratios: bootstrap over replications -------------------------------------


@functools.cache
def _resamples(replications: int) -> np.ndarray:
    """(resamples, replications) indices of replications drawn with replacement."""
    rng = np.random.default_rng([_BOOTSTRAP_SEED, replications])
    return rng.integers(0, replications, size=(BOOTSTRAP_RESAMPLES, replications), dtype=np.int32)


def _percentiles(draws: np.ndarray) -> list[float]:
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return [float(low), float(high)]


def bootstrap_mean(values: np.ndarray) -> list[float] | None:
    """Percentile bootstrap interval of the mean of ``values`` (one per replication)."""
    if len(values) < MIN_REPLICATIONS_FOR_INTERVAL:
        return None
    return _percentiles(values[_resamples(len(values))].mean(axis=1))


def bootstrap_ratio(numerators: np.ndarray, denominators: np.ndarray) -> list[float] | None:
    """Percentile bootstrap interval of ``sum(numerators) / sum(denominators)`` over
    replications (each denominator positive)."""
    if len(numerators) < MIN_REPLICATIONS_FOR_INTERVAL:
        return None
    rows = _resamples(len(numerators))
    return _percentiles(numerators[rows].sum(axis=1) / denominators[rows].sum(axis=1))


def across_replications(values: Sequence[float | int | None]) -> Stat:
    """Mean and bootstrap interval of per-replication values; undefined values are skipped."""
    cleaned, defined = _defined(values)
    return {
        "mean": float(defined.mean()) if len(defined) else None,
        "ci95": bootstrap_mean(defined),
        "values": cleaned,
    }


def ratio_stat(numerators: Sequence[float], denominators: Sequence[float]) -> Stat:
    """A ratio per replication (None where the denominator is 0); ``mean`` is the pooled ratio
    and ``ci95`` its bootstrap interval over the replications with a denominator."""
    top = np.asarray(numerators, dtype=float)
    bottom = np.asarray(denominators, dtype=float)
    counted = bottom > 0
    values = [float(t / b) if b > 0 else None for t, b in zip(top, bottom, strict=True)]
    if not counted.any():
        return {"mean": None, "ci95": None, "values": values}
    return {
        "mean": float(top[counted].sum() / bottom[counted].sum()),
        "ci95": bootstrap_ratio(top[counted], bottom[counted]),
        "values": values,
    }
