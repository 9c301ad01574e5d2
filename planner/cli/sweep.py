"""``planner sweep``: many runs of a scenario on Dask, and which sites are right in all of them.

A thin layer over :func:`planner.pipeline.sweep.sweep`; ``planner.cli.main``
registers :func:`sweep_command`. Like the rest of the command line, this
module imports no numerical library when it is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console

from planner._text import one_line
from planner.cli._dask import quiet_dask_logs, refuse_workers_with_scheduler
from planner.cli._options import named_as_options, with_time_limit
from planner.cli._streams import consoles
from planner.errors import InputError, Problem
from planner.outputs.interrupt import add_cleanup, interrupted

if TYPE_CHECKING:
    from planner.pipeline.sweep import SweepResult
    from planner.pipeline.sweep_cluster import SweepProgress

__all__ = ["sweep_command"]

out, err = consoles()


def sweep_command(
    scenario_file: Annotated[
        Path | None,
        typer.Argument(
            help="Scenario TOML file; omit for the built-in default on the sample network.",
            metavar="SCENARIO.toml",
            show_default=False,
        ),
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid",
            metavar="KEY=V1,V2,...",
            help="Values of a scenario field to sweep (repeatable; the runs are the Cartesian "
            "product): --grid travel.radius_km=30,50,80 --grid model.p=100,200.",
        ),
    ] = None,
    samples: Annotated[
        int,
        typer.Option(
            "--samples",
            metavar="N",
            help="Draws from the scenario's [uncertainty] distributions at every grid point.",
        ),
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", metavar="S", help="Seed of the draws.")] = 0,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Output folder (default maps/<scenario name>-sweep)."
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="An existing Dask scheduler (tcp://HOST:8786); default: a local cluster.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            help="Worker processes of the local cluster (default: one per core).",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Keep the runs a stopped sweep into the same folder finished; solve the rest.",
        ),
    ] = False,
    time_limit: Annotated[
        float | None,
        typer.Option("--time-limit", metavar="SECONDS", help="Solver time limit per run."),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Override a scenario field by its dotted name (repeatable).",
        ),
    ] = None,
    map_assets: Annotated[
        str,
        typer.Option(
            "--map-assets",
            metavar="inline|cdn",
            help="inline: the map needs no network (default); cdn: Leaflet from public CDNs.",
        ),
    ] = "inline",
) -> None:
    """Solve a scenario over a grid and under uncertainty on Dask; find the no-regret sites.

    Writes sweep.csv (one row per run), site_robustness.csv (how often each site
    is chosen, its chargers), sweep.json, sweep.png (coverage against each swept
    field) and map.html (sites coloured by how often they are chosen, no-regret
    sites ringed), all or nothing. Finished runs are kept as they finish:
    --resume continues a stopped sweep.
    """
    from planner.outputs.folder import check_target
    from planner.outputs.sweep_runs import runs_folder
    from planner.pipeline.sweep import default_sweep_folder, sweep
    from planner.pipeline.sweep_spec import parse_grid, refuse_swept_and_set
    from planner.scenario.io import override_fields
    from planner.scenario.schema import load_scenario

    if map_assets not in ("inline", "cdn"):
        raise InputError(Problem("--map-assets", f"'{map_assets}' is not one of: inline, cdn"))
    assets: Literal["inline", "cdn"] = "inline" if map_assets == "inline" else "cdn"
    refuse_workers_with_scheduler(scheduler, workers)
    with named_as_options(_OPTIONS):
        points = parse_grid(list(grid or []))
    extra = with_time_limit(overrides, time_limit)
    scenario = load_scenario(scenario_file, overrides=extra)
    with named_as_options({**_OPTIONS, "overrides": "--set"}):
        refuse_swept_and_set(
            points, override_fields(extra), list(scenario.uncertainty) if samples else []
        )
    quiet_dask_logs()
    # Checked and locked before anything else starts: a second sweep into the
    # same folder is refused at once.
    target = check_target(out_dir or default_sweep_folder(scenario), keep_lock=True, kind="sweep")
    bar = _ProgressBar(err)
    _interrupted_sweep.clear()
    _interrupted_sweep.append(runs_folder(target))
    add_cleanup(_say_runs_kept)
    with bar, named_as_options(_OPTIONS):
        result = sweep(
            scenario,
            grid=points,
            samples=samples,
            seed=seed,
            scheduler=scheduler,
            workers=workers,
            out=target,
            resume=resume,
            map_assets=assets,
            progress=bar,
        )
    _interrupted_sweep.clear()
    _report(result)
    out.print(f"wrote {one_line(target)}", soft_wrap=True)


#: The sweep API's argument names, as this command's options, in messages.
_OPTIONS = {
    "grid": "--grid",
    "samples": "--samples",
    "seed": "--seed",
    "scheduler": "--scheduler",
    "workers": "--workers",
    "sweep": "planner sweep",
}


#: The runs folder of the sweep this command is running (empty when none is).
_interrupted_sweep: list[Path] = []


def _say_runs_kept() -> None:
    """After Ctrl-C or SIGTERM: how many finished runs are kept, and how to go on.

    Registered with :func:`planner.outputs.interrupt.add_cleanup`, so it runs
    even when the process is ended while the cluster shuts down.
    """
    if not _interrupted_sweep or not interrupted():
        return
    kept = _interrupted_sweep.pop()
    count = len(list(kept.glob("*.json"))) if kept.is_dir() else 0
    if count:
        err.print(
            one_line(
                f"{count} finished run(s) kept in {kept}: planner sweep --resume with the same "
                "options solves only the rest"
            ),
            soft_wrap=True,
        )


def _report(result: SweepResult) -> None:
    from planner.pipeline.sweep_tasks import FAILED_STATUSES

    summary = result.summary
    coverage = summary["coverage_pct"]
    without = summary["runs_without_plan"]
    resumed = f", {summary['runs_resumed']} kept from before" if summary["runs_resumed"] else ""
    line = (
        f"sweep: {summary['runs']} runs ({without} without a plan{resumed}) in "
        f"{summary['seconds']:.1f} s on {summary['workers']} worker(s)"
    )
    if coverage["median"] is not None:
        line += (
            f"; coverage {coverage['min']:.2f}–{coverage['max']:.2f} % "
            f"(median {coverage['median']:.2f} %)"
        )
    out.print(line, soft_wrap=True)
    no_regret = summary["no_regret_sites"]
    share = 100 * summary["no_regret_share"]
    listed = ", ".join(no_regret[:12])
    if len(no_regret) > 12:
        listed += f", … ({len(no_regret)} in all)"
    out.print(
        one_line(
            f"{len(no_regret)} no-regret site(s), chosen in ≥ {share:g} % of the runs with a plan"
            + (f": {listed}" if no_regret else "")
        ),
        soft_wrap=True,
    )
    if without:
        statuses = ", ".join(
            f"{status} {n}"
            for status, n in summary["runs_by_status"].items()
            if status in FAILED_STATUSES
        )
        err.print(
            one_line(f"warning: {without} run(s) without a plan ({statuses}); sweep.csv says why"),
            soft_wrap=True,
        )


class _ProgressBar:
    """A rich progress bar of the runs: done, running, failed, workers and the time left.

    A spinner says the cluster is starting until the first report; a sweep
    that stops on an error leaves no bar behind its message.
    """

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._console = console
        self._status = console.status("starting the cluster …")
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
        )
        self._task: Any = None
        self._dashboard_said = False

    def __enter__(self) -> _ProgressBar:
        self._status.__enter__()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._status.__exit__(None, None, None)
        if self._task is not None:
            if exc_type is not None:
                self._progress.update(self._task, visible=False)
            self._progress.__exit__(None, None, None)

    def __call__(self, state: SweepProgress) -> None:
        if self._task is None:
            self._status.__exit__(None, None, None)
            self._progress.__enter__()
            self._task = self._progress.add_task("sweep", total=state.total, status="")
        if state.dashboard and not self._dashboard_said:
            self._dashboard_said = True
            self._progress.console.print(f"Dask dashboard: {state.dashboard}", soft_wrap=True)
        if state.phase == "reading inputs":
            status = f"reading the inputs on {state.workers} worker(s) …"
        else:
            left = "–" if state.seconds_left is None else _duration(state.seconds_left)
            status = (
                f"running {state.running} · failed {state.failed} · "
                f"workers {state.workers} · left {left}"
            )
        self._progress.update(self._task, total=state.total, completed=state.done, status=status)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
