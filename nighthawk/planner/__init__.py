"""The coverage planner: shift rosters that cover every facility every hour at least cost.

`planner.plan` is the entry point (the CLI's `plan`, the service's plans and the benchmark
use it); `model` holds the CP-SAT formulation, `evaluate` the exact judge of any roster,
`structural` the gaps no roster can close, `recommend` and `combine` the papers that would.
"""
