"""Run the shipped scenarios of every model and print the solve's figures.

Usage::

    python benchmarks/models.py [--time-limit 60] [--only NAME]

The runs: every scenario of ``scenarios/`` that names a model (``default``,
``constraints``, ``sizing``, ``rollout``, ``rollout_budget``, ``france``,
``germany``), then the sizing model on the default scenario's five countries
(FR, BE, LU, NL, CH) at 80 % of the sessions, once with the demo-scale sample
dealers and once with the full-scale ones. ``france`` and ``germany`` read
data from ``../shared`` beside the checkout and are skipped (with the reason
on stderr) when it is absent.

Each run goes through the public API (``planner.run``) with the time limit
given; ``seconds`` is the solve stage's own (``Solution.seconds``), reading
the inputs excluded. One JSON object per run goes to stdout (``scenario``,
``model``, ``demand``, ``sites``, ``seconds``, ``objective``, ``bound``,
``gap`` as a fraction, ``status``), and a table to stderr.

Example::

    python benchmarks/models.py --only sizing_default
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import planner

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SHARED = ROOT.parent / "shared"
FULL_DEALERS = ROOT / "geodata" / "sample_dealers_full.csv"

#: The sizing model on the default scenario, as scenarios/sizing.toml sets it up for Benelux.
_SIZING = {"model.name": "sizing", "model.coverage_target": 0.8}


@dataclass(frozen=True)
class Run:
    """One line of the benchmark: a scenario file (or the built-in default) and overrides."""

    name: str
    scenario: Path | None
    overrides: dict[str, Any] = field(default_factory=dict)
    needs_shared: bool = False


RUNS = (
    Run("default", SCENARIOS / "default.toml"),
    Run("constraints", SCENARIOS / "constraints.toml"),
    Run("sizing", SCENARIOS / "sizing.toml"),
    Run("rollout", SCENARIOS / "rollout.toml"),
    Run("rollout_budget", SCENARIOS / "rollout_budget.toml"),
    Run("france", SCENARIOS / "france.toml", needs_shared=True),
    Run("germany", SCENARIOS / "germany.toml", needs_shared=True),
    Run("sizing_default", SCENARIOS / "default.toml", dict(_SIZING)),
    Run(
        "sizing_full",
        SCENARIOS / "default.toml",
        {**_SIZING, "dealers.files": [{"path": str(FULL_DEALERS)}]},
    ),
)


def measure(run: Run, time_limit: float) -> dict[str, Any]:
    """Solve one run and return its figures."""
    plan = planner.run(
        run.scenario,
        overrides={**run.overrides, "output.map": False},
        time_limit=time_limit,
    )
    solution = plan.solution
    gap = solution.gap
    return {
        "scenario": run.name,
        "model": plan.scenario.model.name,
        "demand": len(plan.demand),
        "sites": len(plan.sites),
        "seconds": round(solution.seconds, 2),
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": gap if math.isfinite(gap) else None,
        "status": str(solution.status),
    }


def table(records: list[dict[str, Any]]) -> str:
    """The records as aligned text."""
    lines = [
        f"{'scenario':<16} {'model':<14} {'demand':>7} {'sites':>6} {'s':>7} "
        f"{'objective':>16} {'bound':>16} {'gap %':>8}  status"
    ]
    for record in records:
        gap = "-" if record["gap"] is None else f"{100 * record['gap']:.3f}"
        lines.append(
            f"{record['scenario']:<16} {record['model']:<14} {record['demand']:>7} "
            f"{record['sites']:>6} {record['seconds']:>7.2f} {record['objective']:>16,.2f} "
            f"{record['bound']:>16,.2f} {gap:>8}  {record['status']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--only", default=None, help="run only this line (a name above)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    names = [run.name for run in RUNS]
    if args.only is not None and args.only not in names:
        parser.error(f"--only: unknown run {args.only!r}; choose one of {', '.join(names)}")

    records: list[dict[str, Any]] = []
    for run in RUNS:
        if args.only is not None and run.name != args.only:
            continue
        if run.needs_shared and not SHARED.is_dir():
            print(f"{run.name}: skipped, {SHARED} is absent", file=sys.stderr)
            continue
        started = time.perf_counter()
        record = measure(run, args.time_limit)
        record["total_seconds"] = round(time.perf_counter() - started, 2)
        print(json.dumps(record), flush=True)
        records.append(record)
    if records:
        print(table(records), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
