"""A live demo practice for `nighthawk serve --demo`: the roster (`practice`) and its traffic
(`feed`: arriving studies and the simulated readers who read them)."""

from nighthawk.service.demo.feed import (
    DEMO_STUDIES_PER_HOUR,
    DemoFeed,
    DemoReaders,
    ReadingStep,
)
from nighthawk.service.demo.practice import (
    DEMO_ACTOR,
    HORIZON_HOURS,
    MIN_ON_SHIFT,
    DemoPractice,
    ensure_demo_shifts,
    facility_size,
    seed_demo_practice,
)

__all__ = [
    "DEMO_ACTOR",
    "DEMO_STUDIES_PER_HOUR",
    "HORIZON_HOURS",
    "MIN_ON_SHIFT",
    "DemoFeed",
    "DemoPractice",
    "DemoReaders",
    "ReadingStep",
    "ensure_demo_shifts",
    "facility_size",
    "seed_demo_practice",
]
