"""Sweeps: many runs of one scenario, over a grid and under uncertainty, on Dask distributed.

A network planner does not want one optimum but the sites that are right
whatever the future brings. :func:`sweep` solves the scenario at every point
of a grid (``{"model.p": [100, 200], "travel.radius_km": [30, 50, 80]}``)
and, with ``samples``, for draws of the fields the scenario's
``[uncertainty]`` gives distributions; it returns a :class:`SweepResult`:
the table of runs (``sweep.csv``), how often each site was chosen
(``site_robustness.csv``) and the no-regret sites, a plot
(``sweep.png``) and a robustness map (``map.html``).

The runs go to a Dask cluster (:mod:`planner.pipeline.sweep_cluster`): a
``LocalCluster`` of processes by default, or an existing scheduler. The
inputs are read once per distinct input setting and reach computed once per
travel setting, on the workers; a run sends back its key figures and chosen
sites only (:mod:`planner.pipeline.sweep_tasks`). With an output folder,
every finished run is kept on disk as it finishes
(:mod:`planner.outputs.sweep_runs`), so a stopped sweep resumes, and the
folder is written all or nothing at the end, like ``planner run``'s.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from planner._arguments import callback, shown
from planner._files import path_argument
from planner.errors import InputError, Problem
from planner.inputs.countries import country_outlines
from planner.maps.assets import MapAssets, checked_assets
from planner.maps.data import is_sample
from planner.maps.panels import plan_title
from planner.maps.robustness_map import write_robustness_map
from planner.outputs.folder import check_target, holding_target, publish_folder
from planner.outputs.spreadsheet import write_csv
from planner.outputs.sweep_runs import RunJournal
from planner.pipeline.dask_cluster import checked_workers, dask_client
from planner.pipeline.figures import figure_html, png_bytes
from planner.pipeline.plan import default_output_folder
from planner.pipeline.report import strict_json
from planner.pipeline.sweep_cluster import ProgressCallback, collect_runs, read_sites
from planner.pipeline.sweep_figure import sweep_figure
from planner.pipeline.sweep_spec import (
    GridLike,
    SweepSpec,
    grid_mapping,
    refuse_swept_and_set,
    sweep_spec,
)
from planner.pipeline.sweep_tables import robustness_table, spread, sweep_table
from planner.pipeline.sweep_tasks import RunResult
from planner.scenario.build import TIME_LIMIT_FIELD, Overrides, ScenarioLike, scenario_from
from planner.scenario.io import override_fields
from planner.scenario.schema import Distribution, Scenario, scenario_to_toml

__all__ = ["SweepResult", "default_sweep_folder", "sweep"]

logger = logging.getLogger(__name__)


def sweep(
    scenario: ScenarioLike = None,
    *,
    grid: GridLike = None,
    samples: int = 0,
    seed: int = 0,
    overrides: Overrides = None,
    time_limit: float | None = None,
    scheduler: Any = None,
    workers: int | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    map_assets: MapAssets = "inline",
    progress: ProgressCallback | None = None,
) -> SweepResult:
    """Solve a scenario over a grid and under uncertainty on Dask; the runs and robust sites.

    Parameters
    ----------
    scenario
        A scenario file, a :class:`~planner.Scenario`, a mapping or ``None``
        (the default on the sample network), as for :func:`planner.run`.
    grid
        Field → values (``{"model.p": [100, 200]}``), or ``key=v1,v2``
        strings as ``--grid`` takes them; the runs are the Cartesian product.
    samples, seed
        Draws from the scenario's ``[uncertainty]`` at every grid point (the
        same draws at each), from a generator seeded ``seed``.
    overrides, time_limit
        As for :func:`planner.run`; ``time_limit`` is per run.
    scheduler
        The address of an existing Dask scheduler (``"tcp://10.0.0.5:8786"``)
        or a ``distributed.Client``; ``None`` starts a ``LocalCluster`` of
        ``workers`` processes (default: one per core) for this sweep.
    out
        An output folder: finished runs are kept beside it as they finish,
        and the sweep's files are written into it, all or nothing, at the end
        (what ``planner sweep`` writes). ``None``: nothing is written.
    resume
        Keep the finished runs an earlier, stopped sweep into ``out`` left,
        and solve only the others.
    progress
        Called about twice a second with a
        :class:`~planner.pipeline.sweep_cluster.SweepProgress`.

    Returns
    -------
    SweepResult
        ``.table`` (one row per run), ``.robustness`` (one row per site),
        ``.no_regret``, ``.summary``, ``.figure()``, ``.save(folder)``.

    Raises
    ------
    planner.InputError
        Before any run starts: an unknown field in the grid or
        ``[uncertainty]``, a bad distribution or value, a grid with no values,
        a scheduler that cannot be reached, a bad input file, an output folder
        that may not be written or that another sweep is writing.
    """
    callback(progress, "progress")
    if workers is not None:
        checked_workers(workers)
        if scheduler is not None:
            # Ignored before: the cluster at the address has the workers it has.
            raise InputError(
                Problem("workers", "sets the size of a local cluster; not with scheduler")
            )
    if not isinstance(resume, bool):
        raise InputError(Problem("resume", f"give True or False, not {shown(resume)}"))
    if resume and out is None:
        raise InputError(
            Problem("resume", "keeps the finished runs of a sweep's folder: give it as out=")
        )
    resolved = scenario_from(scenario, overrides=overrides, time_limit=time_limit)
    set_fields = override_fields(overrides) + ([] if time_limit is None else [TIME_LIMIT_FIELD])
    refuse_swept_and_set(
        grid_mapping(grid), set_fields, list(resolved.uncertainty) if samples else []
    )
    spec = sweep_spec(resolved, grid=grid, samples=samples, seed=seed)
    # Checked before any run: the assets are used only when the folder is written.
    map_assets = checked_assets(map_assets, "map_assets")
    if out is None:
        return _run(spec, scheduler=scheduler, workers=workers, progress=progress)
    target = check_target(path_argument(out, "out"), kind="sweep")
    target.parent.mkdir(parents=True, exist_ok=True)
    with holding_target(target, kind="sweep") as target:
        journal = RunJournal.open(target, resume=resume)
        result = _run(
            spec, scheduler=scheduler, workers=workers, progress=progress, journal=journal
        )
        result.save(target, map_assets=map_assets)
        journal.remove()
    return result


def default_sweep_folder(scenario: Scenario) -> Path:
    """Where ``planner sweep`` writes without ``--out``: ``maps/<scenario name>-sweep``."""
    return default_output_folder(scenario, suffix="-sweep")


def _run(
    spec: SweepSpec,
    *,
    scheduler: Any,
    workers: int | None,
    progress: ProgressCallback | None,
    journal: RunJournal | None = None,
) -> SweepResult:
    start = time.perf_counter()
    wanted = {run.run_id for run in spec.runs}
    finished: dict[str, RunResult] = {}
    if journal is not None:
        for run_id, record in journal.finished().items():
            if run_id in wanted:
                finished[run_id] = RunResult.from_record(record)
        if finished:
            logger.info("sweep: %d finished run(s) kept from before", len(finished))

    def keep(result: RunResult) -> None:
        if journal is not None:
            journal.record(result.run_id, result.record())

    with dask_client(scheduler, workers) as client:
        sites, graph = read_sites(client, spec.runs, progress=progress)
        _say_numbers_of_sites_beyond(spec, len(sites))
        results = collect_runs(
            client, graph, spec.runs, finished=finished, on_result=keep, progress=progress
        )
        worker_count = len(client.nthreads())
    return SweepResult(
        spec=spec,
        results=tuple(results[run.run_id] for run in spec.runs),
        sites=sites,
        seconds=time.perf_counter() - start,
        workers=worker_count,
        resumed=len({run.run_id for run in spec.runs} & set(finished)),
    )


def _say_numbers_of_sites_beyond(spec: SweepSpec, candidates: int) -> None:
    """Warn of swept ``model.p`` values above the candidate sites: their runs add nothing.

    ``frontier`` cuts such values; a sweep's runs are its grid, so they run and
    are said to repeat one plan (``candidates`` counts every run's sites, so a
    value above it is above each run's).
    """
    above = sorted(
        {
            run.values["model.p"]
            for run in spec.runs
            if isinstance(run.values.get("model.p"), int) and run.values["model.p"] > candidates
        }
    )
    if above:
        listed = ", ".join(map(str, above[:5])) + (
            f" and {len(above) - 5} more" if len(above) > 5 else ""
        )
        logger.warning(
            "model.p = %s: above the %s candidate sites, so these runs open no more sites "
            "than p = %s would",
            listed,
            f"{candidates:,}",
            f"{candidates:,}",
        )


@dataclass(frozen=True, eq=False)
class SweepResult:
    """The runs of a sweep, and what they say about each site.

    Attributes
    ----------
    spec
        The sweep: its scenario, grid, draws and runs.
    results
        One result per run of ``spec.runs``, in order (equal runs share one).
    sites
        The candidate sites (``site_id``, ``name``, ``brands``, ``country``,
        ``lon``, ``lat``, ``n_dealers``, ``excluded``).
    seconds
        Wall-clock seconds of the sweep.
    workers
        Dask workers at its end.
    resumed
        Distinct runs taken from an earlier, stopped sweep.
    """

    spec: SweepSpec
    results: tuple[RunResult, ...]
    sites: pd.DataFrame
    seconds: float
    workers: int = 0
    resumed: int = 0

    @property
    def scenario(self) -> Scenario:
        """The scenario swept (with its ``[uncertainty]``)."""
        return self.spec.scenario

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        """One row per run, as written to ``sweep.csv``."""
        return sweep_table(
            self.spec.runs, self.results, self.spec.parameters, samples=self.spec.samples > 0
        )

    @functools.cached_property
    def robustness(self) -> pd.DataFrame:
        """One row per candidate site, as written to ``site_robustness.csv``."""
        return robustness_table(
            self.sites, self.results, no_regret_share=self.scenario.sweep.no_regret_share
        )

    @property
    def no_regret(self) -> list[str]:
        """The ids of the no-regret sites, most often chosen first."""
        table = self.robustness
        return [str(s) for s in table.loc[table["no_regret"], "site_id"]]

    @functools.cached_property
    def summary(self) -> dict[str, Any]:
        """The sweep in figures, as written to ``sweep.json``."""
        solved = [r for r in self.results if r.solved]
        by_status: dict[str, int] = {}
        for result in self.results:
            by_status[result.status] = by_status.get(result.status, 0) + 1
        robustness = self.robustness
        spec = self.spec
        return {
            "scenario": self.scenario.name,
            "runs": len(self.results),
            "runs_with_plan": len(solved),
            "runs_without_plan": len(self.results) - len(solved),
            "runs_by_status": dict(sorted(by_status.items())),
            "grid": spec.grid,
            "samples": spec.samples,
            "seed": spec.seed,
            "uncertainty": {
                key: dist.model_dump(mode="json", exclude_none=True)
                for key, dist in self.scenario.uncertainty.items()
                if spec.samples
            },
            "swept": self._swept(),
            "no_regret_share": self.scenario.sweep.no_regret_share,
            "no_regret_sites": self.no_regret,
            "sites_chosen_in_some_run": int((robustness["runs_chosen"] > 0).sum()),
            "coverage_pct": spread([r.coverage_pct for r in solved]),
            "cost_eur": spread([r.cost_eur for r in solved]),
            "sites_selected": spread([r.sites_selected for r in solved]),
            "chargers_total": spread([r.chargers_total for r in solved]),
            "seconds": round(self.seconds, 3),
            "workers": self.workers,
            "runs_resumed": self.resumed,
        }

    def _swept(self) -> dict[str, str]:
        swept = {
            key: "grid: " + ", ".join(map(str, values)) for key, values in self.spec.grid.items()
        }
        if self.spec.samples:
            for key, dist in self.scenario.uncertainty.items():
                if key not in swept:
                    swept[key] = f"{self.spec.samples} draws: {_described(dist)}"
        return swept

    @property
    def title(self) -> str:
        """The plot's title: the scenario's map title ("sample" only on the sample network)."""
        return plan_title(self.scenario.title, self.scenario.name, is_sample(self.scenario))

    def figure(self) -> Any:
        """``sweep.png`` as a matplotlib figure (a notebook shows it inline)."""
        return sweep_figure(self.table, self.spec.parameters, title=self.title)

    def png(self) -> bytes:
        """``sweep.png`` as bytes."""
        return png_bytes(self.figure())

    def _repr_html_(self) -> str:
        return figure_html(self.png(), self.robustness.head(15), alt="sweep", digits=",.3g")

    def __repr__(self) -> str:
        summary = self.summary
        return (
            f"<SweepResult {self.scenario.name!r}: {summary['runs']} runs "
            f"({summary['runs_without_plan']} without a plan), "
            f"{len(summary['no_regret_sites'])} no-regret sites>"
        )

    def write_files(self, folder: Path, *, map_assets: MapAssets = "inline") -> None:
        """Write the sweep's files into ``folder`` (no all-or-nothing: see :meth:`save`)."""
        write_csv(self.table, folder / "sweep.csv")
        write_csv(self.robustness, folder / "site_robustness.csv")
        (folder / "sweep.json").write_text(
            strict_json(self.summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (folder / "scenario.toml").write_text(scenario_to_toml(self.scenario), encoding="utf-8")
        png = self.png()
        (folder / "sweep.png").write_bytes(png)
        if self.scenario.output.map:
            write_robustness_map(
                self,
                folder / "map.html",
                outlines=country_outlines(),
                assets=map_assets,
                sweep_png=png,
            )

    def save(self, folder: str | os.PathLike[str], *, map_assets: MapAssets = "inline") -> Path:
        """Write ``sweep.csv``, ``site_robustness.csv``, ``sweep.json``, ``sweep.png``,
        ``map.html`` and ``scenario.toml`` into ``folder``, all or nothing."""
        target = path_argument(folder, "folder")
        map_assets = checked_assets(map_assets, "map_assets")
        return publish_folder(
            target,
            lambda staging: self.write_files(staging, map_assets=map_assets),
            kind="sweep",
        )


def _described(dist: Distribution) -> str:
    """A distribution in a few words: ``triangular(low 0.03, mode 0.08, high 0.15)``."""
    parameters: Mapping[str, Any] = dist.model_dump(exclude_none=True)
    shown = ", ".join(
        f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
        for name, value in parameters.items()
        if name != "dist"
    )
    return f"{dist.dist}({shown})"
