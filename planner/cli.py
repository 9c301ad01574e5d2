"""The ``planner`` command line: thin wrappers over the library.

Exit codes: 0 done; 2 bad input or scenario; 3 infeasible scenario; 1 anything
else. Errors are one line naming the file, row and field; ``--debug`` shows
the traceback of unexpected errors.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from planner.errors import InputError, PlannerError, Problem
from planner.sample import DEFAULT_SEED
from planner.scenario import PROJECT_ROOT, Scenario, load_scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Plan 800 V high-power chargers at Renault and Nissan dealer sites.",
)
# Messages quote the users' own text (dealer names, cells): never read it as markup.
err = Console(stderr=True, highlight=False, markup=False)
out = Console(highlight=False, markup=False)

_debug = False

ScenarioArg = Annotated[
    Path | None,
    typer.Argument(
        help="Scenario TOML file; omit for the built-in default on the sample network.",
        show_default=False,
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a scenario field: --set model.p=80 (repeatable)."),
]


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option(help="Show tracebacks of unexpected errors.")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Log each step.")] = False,
) -> None:
    global _debug
    _debug = debug
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def output_folder(scenario: Scenario, out_dir: Path | None) -> Path:
    """Where a run writes: ``--out``, else the scenario's ``output.dir``, else ``maps/NAME``.

    A folder from the scenario file must lie inside the working folder: writing
    (and replacing) a folder elsewhere needs it named explicitly with ``--out``.
    """
    if out_dir is not None:
        return out_dir.resolve()
    if scenario.output.dir is None:
        return (Path.cwd() / "maps" / scenario.name).resolve()
    folder = scenario.output.dir.resolve()
    if not folder.is_relative_to(Path.cwd().resolve()):
        raise InputError(
            Problem(
                "scenario",
                f"output folder {folder} is outside the working folder; "
                "give it explicitly with --out to write there",
                field="output.dir",
            )
        )
    return folder


class _Stages:
    """Prints each finished stage with its time while a spinner shows the current one."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._status = console.status("starting")
        self._current: str | None = None
        self._started = time.perf_counter()

    def __enter__(self) -> _Stages:
        self._status.__enter__()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self._finish()
        self._status.__exit__(None, None, None)

    def _finish(self) -> None:
        if self._current is not None:
            seconds = time.perf_counter() - self._started
            self._console.print(f"  {self._current:<28} {seconds:6.1f} s")
        self._started = time.perf_counter()

    def __call__(self, name: str) -> None:
        self._finish()
        self._current = name
        self._status.update(f"{name} …")


@app.command()
def run(
    scenario_file: ScenarioArg = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default maps/<scenario name>).")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Solver time limit in seconds.")
    ] = None,
    overrides: SetOption = None,
) -> None:
    """Optimise a scenario and write map.html, sites.csv/.geojson, report.json, scenario.toml."""
    from planner.plan import run_scenario, write_plan

    extra = list(overrides or [])
    if time_limit is not None:
        extra.append(f"solver.time_limit_s={time_limit}")
    scenario = load_scenario(scenario_file, overrides=extra)
    target = output_folder(scenario, out_dir)
    with _Stages(err) as stages:
        plan = run_scenario(scenario, on_stage=stages)
        write_plan(plan, target, on_stage=stages)
    r = plan.report
    out.print(
        f"{r['model']} {r['status']}: {r['sites_selected']} sites, "
        f"{r['chargers_total']} chargers, coverage {r['coverage_pct']:.2f} % "
        f"(gap {r['gap']:.2e}, solve {r['solve_seconds']:.1f} s, "
        f"total {r['total_seconds']:.1f} s)",
        soft_wrap=True,
    )
    queue = r.get("queue", {})
    if queue.get("sites_missing_target"):
        hint = (
            "the linear capacity of the sizing model is meant to prevent this"
            if r["model"] == "sizing"
            else "model.name = 'sizing' plans within capacity"
        )
        out.print(
            f"warning: {queue['sites_missing_target']} chosen site(s) miss the queueing target "
            f"({queue['chargers_short']} chargers short, {queue['sessions_over_capacity']:.1f} "
            f"sessions/day over capacity; see sites.csv); {hint}",
            soft_wrap=True,
        )
    out.print(f"wrote {target}")


@app.command()
def validate(scenario_file: ScenarioArg = None, overrides: SetOption = None) -> None:
    """Read and check a scenario's inputs and report every problem; solve nothing."""
    from planner.demand import load_demand
    from planner.sites import load_sites

    scenario = load_scenario(scenario_file, overrides=list(overrides or []))
    site_load = load_sites(scenario.dealers, countries=list(scenario.demand.countries))
    demand = load_demand(scenario.demand)
    counts = site_load.counts
    for warning in site_load.warnings:
        out.print(f"warning: {warning}", soft_wrap=True)
    out.print(
        f"dealers read {counts.get('read')}, dropped {counts.get('dropped')}, "
        f"outside the scenario's countries {counts.get('outside_countries')}, "
        f"merged {counts.get('merged')}; {len(site_load.sites)} sites; "
        f"{len(demand)} demand points; scenario OK",
        soft_wrap=True,
    )


@app.command()
def frontier(
    scenario_file: ScenarioArg = None,
    p_range: Annotated[
        str, typer.Option("--p", help="Numbers of sites: START:STOP[:STEP] or a list 5,10,40.")
    ] = "10:100:10",
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default maps/<scenario name>).")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Solver time limit per point, seconds.")
    ] = None,
    overrides: SetOption = None,
) -> None:
    """Coverage against number of sites: frontier.csv, frontier.png and the scenario's own plan."""
    from planner.frontier import coverage_frontier, frontier_table, parse_p_range, plot_frontier
    from planner.plan import (
        _Clock,
        assemble_plan,
        load_inputs,
        solve_model,
        solver_settings,
        write_plan,
    )

    extra = list(overrides or [])
    if time_limit is not None:
        extra.append(f"solver.time_limit_s={time_limit}")
    scenario = load_scenario(scenario_file, overrides=extra)
    p_values = parse_p_range(p_range)
    target = output_folder(scenario, out_dir)
    settings = solver_settings(scenario)
    with _Stages(err) as stages:
        clock = _Clock(stages)
        inputs = load_inputs(scenario, clock=clock)
        stages(f"frontier: {len(p_values)} solves")
        points = coverage_frontier(
            inputs,
            p_values,
            settings=settings,
            on_point=lambda pt: stages(
                f"frontier: p = {pt.p} gives {pt.coverage_pct:.2f} % ({pt.status})"
            ),
        )
        stages(f"solving {scenario.model.name}")
        start = time.perf_counter()
        solution = solve_model(scenario, inputs)
        plan = assemble_plan(
            scenario, inputs, solution, clock=clock, solve_seconds=time.perf_counter() - start
        )
        table = frontier_table(points)

        def extra_files(folder: Path) -> None:
            table.to_csv(folder / "frontier.csv", index=False)
            plot_frontier(
                points,
                folder / "frontier.png",
                chosen_p=scenario.model.p if scenario.model.name != "set_cover" else None,
                title=scenario.title,
            )

        write_plan(plan, target, on_stage=stages, extra=extra_files)
    out.print(table.to_string(index=False), soft_wrap=True)
    out.print(f"wrote {target}")


@app.command()
def sample(
    scale: Annotated[
        str, typer.Option(help="demo (default scenario) or full (tens of thousands of sites).")
    ] = "demo",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for sample_dealers_<scale>.csv (default geodata/)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the default gives the shipped files.")] = (
        DEFAULT_SEED
    ),
) -> None:
    """Regenerate the sample dealer network (GeoNames towns, published dealer counts)."""
    from planner.sample import write_sample

    if scale not in ("demo", "full"):
        raise InputError(Problem("--scale", f"'{scale}' is not one of: demo, full"))
    chosen: Literal["demo", "full"] = "demo" if scale == "demo" else "full"
    path = write_sample(chosen, out_dir or PROJECT_ROOT / "geodata", seed=seed)
    out.print(f"wrote {path}")


def main() -> None:
    """Entry point of the ``planner`` console script."""
    try:
        app(standalone_mode=False)
    except PlannerError as exc:
        if isinstance(exc, InputError) and len(exc.problems) > 1 and _wants_full_list():
            for problem in exc.problems:
                err.print(f"error: {problem}", soft_wrap=True)
        else:
            err.print(f"error: {exc}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted; no output was changed")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # the last line of defence: one line, exit 1
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        if _debug:
            raise
        err.print(f"error: {type(exc).__name__}: {exc} (rerun with --debug for details)")
        sys.exit(1)


def _wants_full_list() -> bool:
    """``validate`` prints every problem; other commands print one line."""
    return "validate" in sys.argv[1:]
