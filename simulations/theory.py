"""Closed-form M/M/c queueing results used to validate the discrete-event simulator.

Model assumptions (M/M/c, FCFS, infinite queue, infinite population):

* arrivals form a Poisson process with rate ``lambda`` (``arrival_rate``);
* service times are i.i.d. exponential with rate ``mu`` (``service_rate``), mean ``1/mu``;
* ``c`` identical servers (``servers``) draw from one shared worklist, so no server is
  idle while a job waits;
* the system is stable: offered load ``a = lambda / mu`` is strictly below ``c``.

All times are in the same unit as the reciprocal of the rates. Every function is pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "MMcSummary",
    "erlang_c",
    "littles_law_gap",
    "mean_number_waiting",
    "mean_time_in_system",
    "mean_wait",
    "mmc",
    "offered_load",
    "wait_exceeds",
]

_TINY = 1e-12
"""Floor for the denominator of :func:`littles_law_gap`, so an empty system does not divide by 0."""


def _check_servers(servers: int) -> None:
    if isinstance(servers, bool) or not isinstance(servers, int):
        raise ValueError(f"servers must be an int, got {servers!r}")
    if servers < 1:
        raise ValueError(f"servers must be >= 1, got {servers}")


def _check_rates(arrival_rate: float, service_rate: float) -> None:
    if not math.isfinite(arrival_rate) or arrival_rate < 0:
        raise ValueError(f"arrival_rate must be finite and >= 0, got {arrival_rate}")
    if not math.isfinite(service_rate) or service_rate <= 0:
        raise ValueError(f"service_rate must be finite and > 0, got {service_rate}")


def offered_load(arrival_rate: float, service_rate: float) -> float:
    """Offered load ``a = lambda / mu`` in Erlangs (mean number of busy servers).

    Raises:
        ValueError: if ``arrival_rate`` is negative or not finite, or ``service_rate``
            is not a finite positive number.
    """
    _check_rates(arrival_rate, service_rate)
    return arrival_rate / service_rate


def erlang_c(servers: int, offered_load: float) -> float:
    """Erlang C: probability that an arriving job must wait, ``P(Wq > 0)``, in M/M/c.

    Direct formula, with ``c = servers`` and ``a = offered_load``::

        C(c, a) = (a^c / c!) * c / (c - a)
                  / (sum_{k=0}^{c-1} a^k / k!  +  (a^c / c!) * c / (c - a))

    That form overflows for large ``c``, so it is computed from the Erlang B recursion
    ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))`` and then
    ``C = c B(c) / (c - a (1 - B(c)))``; every intermediate lies in ``[0, 1]``, which is
    stable for hundreds of servers.

    Raises:
        ValueError: if ``servers < 1``, ``offered_load < 0`` (or not finite), or
            ``offered_load >= servers`` (the queue is unstable and grows without bound).
    """
    _check_servers(servers)
    if not math.isfinite(offered_load) or offered_load < 0:
        raise ValueError(f"offered_load must be finite and >= 0, got {offered_load}")
    if offered_load >= servers:
        raise ValueError(
            f"offered_load ({offered_load}) must be < servers ({servers}); "
            "the M/M/c queue is unstable otherwise"
        )
    a = offered_load
    b = 1.0
    for k in range(1, servers + 1):
        b = a * b / (k + a * b)
    return servers * b / (servers - a * (1.0 - b))


def mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time a job waits in the queue before service: ``Wq = C(c, a) / (c mu - lambda)``.

    Jobs that start service immediately count with wait 0. Same assumptions and errors as
    :func:`erlang_c` and :func:`offered_load`.
    """
    c_prob = erlang_c(servers, offered_load(arrival_rate, service_rate))
    return c_prob / (servers * service_rate - arrival_rate)


def mean_time_in_system(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean sojourn time (wait plus service): ``W = Wq + 1 / mu``."""
    return mean_wait(servers, arrival_rate, service_rate) + 1.0 / service_rate


def mean_number_waiting(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean number of jobs in the queue (not in service): ``Lq = lambda Wq`` (Little's law)."""
    return arrival_rate * mean_wait(servers, arrival_rate, service_rate)


def wait_exceeds(servers: int, arrival_rate: float, service_rate: float, t: float) -> float:
    """Probability that a job waits longer than ``t``: ``P(Wq > t) = C e^{-(c mu - lambda) t}``.

    Valid for FCFS service. At ``t = 0`` this is the Erlang C probability.

    Raises:
        ValueError: if ``t`` is negative or not finite, plus the errors of :func:`erlang_c`.
    """
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"t must be finite and >= 0, got {t}")
    c_prob = erlang_c(servers, offered_load(arrival_rate, service_rate))
    return c_prob * math.exp(-(servers * service_rate - arrival_rate) * t)


@dataclass(frozen=True)
class MMcSummary:
    """Steady-state measures of an M/M/c queue (see :func:`mmc`).

    Attributes:
        servers: ``c``.
        arrival_rate: ``lambda``.
        service_rate: ``mu`` per server.
        utilization: ``rho = a / c``, the long-run fraction of time each server is busy.
        p_wait: Erlang C, ``P(Wq > 0)``.
        mean_wait: ``Wq``.
        mean_time_in_system: ``W = Wq + 1/mu``.
        mean_number_waiting: ``Lq = lambda Wq``.
        mean_number_in_system: ``L = lambda W = Lq + a``.
    """

    servers: int
    arrival_rate: float
    service_rate: float
    utilization: float
    p_wait: float
    mean_wait: float
    mean_time_in_system: float
    mean_number_waiting: float
    mean_number_in_system: float


def mmc(servers: int, arrival_rate: float, service_rate: float) -> MMcSummary:
    """All steady-state M/M/c measures at once. Same assumptions and errors as :func:`erlang_c`."""
    a = offered_load(arrival_rate, service_rate)
    p_wait = erlang_c(servers, a)
    wq = p_wait / (servers * service_rate - arrival_rate)
    w = wq + 1.0 / service_rate
    return MMcSummary(
        servers=servers,
        arrival_rate=arrival_rate,
        service_rate=service_rate,
        utilization=a / servers,
        p_wait=p_wait,
        mean_wait=wq,
        mean_time_in_system=w,
        mean_number_waiting=arrival_rate * wq,
        mean_number_in_system=arrival_rate * w,
    )


def littles_law_gap(mean_number: float, arrival_rate: float, mean_time: float) -> float:
    """Relative violation of Little's law ``L = lambda W``: ``|L - lambda W| / max(L, tiny)``.

    Meant for checking simulator output (time-average ``L``, observed throughput ``lambda``
    and per-job mean ``W`` over the same window); ``tiny = 1e-12`` guards ``L = 0``.
    Returns 0 when the law holds exactly.

    Raises:
        ValueError: if any argument is negative or not finite.
    """
    for name, value in (
        ("mean_number", mean_number),
        ("arrival_rate", arrival_rate),
        ("mean_time", mean_time),
    ):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be finite and >= 0, got {value}")
    return abs(mean_number - arrival_rate * mean_time) / max(mean_number, _TINY)
