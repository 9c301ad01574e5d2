"""planner: choose Renault and Nissan dealer sites for 800 V high-power chargers.

Dealer lists of both brands go in, a facility-location optimiser picks the
sites (and how many chargers each), and a self-contained HTML map, tables and
a report come out for review::

    import planner

    plan = planner.run("scenarios/france.toml", overrides={"model.p": 80})
    plan.report["coverage_pct"]
    plan.save("maps/france-80")

Names are imported on first use (PEP 562), so ``import planner`` stays quick
and the command line can set up its Ctrl-C handling before the heavy modules
load.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS = {
    "run": "planner.pipeline.api",
    "validate": "planner.pipeline.api",
    "check": "planner.pipeline.api",
    "frontier": "planner.pipeline.api",
    "compare": "planner.pipeline.api",
    "sweep": "planner.pipeline.sweep",
    "import_dealers": "planner.pipeline.dealers",
    "build_routing": "planner.pipeline.routing",
    "routing_matrix": "planner.pipeline.routing",
    "RoutingMatrix": "planner.pipeline.routing",
    "DealerImport": "planner.pipeline.dealers",
    "load_scenario": "planner.scenario.schema",
    "Scenario": "planner.scenario.schema",
    "Plan": "planner.pipeline.plan",
    "FrontierPlan": "planner.pipeline.frontier",
    "Comparison": "planner.pipeline.compare",
    "SweepResult": "planner.pipeline.sweep",
    "Solution": "planner.optimise.solution",
    "SolveProgress": "planner.optimise.progress",
    "Problem": "planner.errors",
    "PlannerError": "planner.errors",
    "InputError": "planner.errors",
    "InfeasibleError": "planner.errors",
    "SolverError": "planner.errors",
}

__all__ = [
    "Comparison",
    "DealerImport",
    "FrontierPlan",
    "InfeasibleError",
    "InputError",
    "Plan",
    "PlannerError",
    "Problem",
    "RoutingMatrix",
    "Scenario",
    "Solution",
    "SolveProgress",
    "SolverError",
    "SweepResult",
    "__version__",
    "build_routing",
    "check",
    "compare",
    "frontier",
    "import_dealers",
    "load_scenario",
    "routing_matrix",
    "run",
    "sweep",
    "validate",
]

if TYPE_CHECKING:
    from planner.errors import InfeasibleError, InputError, PlannerError, Problem, SolverError
    from planner.optimise.progress import SolveProgress
    from planner.optimise.solution import Solution
    from planner.pipeline.api import check, compare, frontier, run, validate
    from planner.pipeline.compare import Comparison
    from planner.pipeline.dealers import DealerImport, import_dealers
    from planner.pipeline.frontier import FrontierPlan
    from planner.pipeline.plan import Plan
    from planner.pipeline.routing import RoutingMatrix, build_routing, routing_matrix
    from planner.pipeline.sweep import SweepResult, sweep
    from planner.scenario.schema import Scenario, load_scenario


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'planner' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
