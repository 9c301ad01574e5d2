"""A sweep's results as tables: one row per run, one row per site, and the summary.

``sweep.csv`` has a row per run: its number, id and draw, the swept fields'
values, status and message, and the key figures. ``site_robustness.csv``
has a row per candidate site: in how many of the runs that produced a plan
it was chosen, that share, whether it is a no-regret site (chosen in at
least ``sweep.no_regret_share`` of them), and its chargers (mean, least,
most) over the runs that chose it. Runs that failed (infeasible, an error,
a lost worker) count in neither share nor chargers: they chose nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from planner.pipeline.sweep_spec import SweepRun
from planner.pipeline.sweep_tasks import RunResult

__all__ = ["FIGURES", "robustness_table", "spread", "sweep_table"]

#: The key figures of a run, in the order of ``sweep.csv``.
FIGURES = (
    "objective",
    "bound",
    "gap",
    "coverage_pct",
    "sites_selected",
    "chargers_total",
    "cost_eur",
    "solve_seconds",
    "seconds",
)


def _cell(value: Any) -> Any:
    """A swept value as a table cell: lists and tables as JSON text."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def sweep_table(
    runs: Sequence[SweepRun],
    results: Sequence[RunResult],
    parameters: Sequence[str],
    *,
    samples: bool,
) -> pd.DataFrame:
    """One row per run, as written to ``sweep.csv``."""
    rows = []
    for run, result in zip(runs, results, strict=True):
        row: dict[str, Any] = {"run": run.index + 1, "run_id": run.run_id}
        if samples:
            row["sample"] = run.sample
        for key in parameters:
            row[key] = _cell(run.values.get(key))
        row["status"] = result.status
        row["message"] = result.message
        for name in FIGURES:
            row[name] = getattr(result, name)
        rows.append(row)
    table = pd.DataFrame(rows)
    for name in (
        "objective",
        "bound",
        "gap",
        "coverage_pct",
        "cost_eur",
        "solve_seconds",
        "seconds",
    ):
        table[name] = pd.to_numeric(table[name], errors="coerce").round(6)
    for name in ("sites_selected", "chargers_total"):
        table[name] = table[name].astype("Int64")
    if samples:
        table["sample"] = table["sample"].astype("Int64")
    return table


def robustness_table(
    sites: pd.DataFrame,
    results: Sequence[RunResult],
    *,
    no_regret_share: float,
) -> pd.DataFrame:
    """One row per candidate site: how often it is chosen, no-regret or not, its chargers.

    ``results`` holds one result per run (a result solved once for two equal
    runs appears twice); only runs with a plan count.
    """
    solved = [r for r in results if r.solved]
    chosen: dict[str, list[int]] = {}
    for result in solved:
        for site_id, chargers in zip(result.site_ids, result.chargers, strict=True):
            chosen.setdefault(site_id, []).append(chargers)
    table = sites[["site_id", "name", "brands", "country", "lon", "lat"]].copy()
    known = set(table["site_id"].astype(str))
    extra = sorted(set(chosen) - known)
    if extra:  # chosen in a run whose inputs the table does not list (never expected)
        table = pd.concat([table, pd.DataFrame({"site_id": extra})], ignore_index=True)
    ids = table["site_id"].astype(str)
    counts = np.array([len(chosen.get(s, ())) for s in ids], dtype=np.int64)
    runs = len(solved)
    share = counts / runs if runs else np.zeros(len(table))
    table["runs_chosen"] = counts
    table["share_chosen"] = np.round(share, 6)
    # The share is compared with a little slack: 9 of 10 runs is 0.9.
    table["no_regret"] = (counts > 0) & (share >= no_regret_share - 1e-9)
    table["chargers_mean"] = [
        round(float(np.mean(chosen[s])), 3) if s in chosen else math.nan for s in ids
    ]
    table["chargers_min"] = pd.array(
        [min(chosen[s]) if s in chosen else None for s in ids], dtype="Int64"
    )
    table["chargers_max"] = pd.array(
        [max(chosen[s]) if s in chosen else None for s in ids], dtype="Int64"
    )
    table["lon"] = pd.to_numeric(table["lon"], errors="coerce").round(6)
    table["lat"] = pd.to_numeric(table["lat"], errors="coerce").round(6)
    order = np.lexsort((ids.to_numpy(), -counts))
    return table.iloc[order].reset_index(drop=True)


def spread(values: Sequence[float | int | None]) -> dict[str, float | None]:
    """Least, 10th percentile, median, 90th percentile, most and mean of the finite values."""
    finite = np.array([float(v) for v in values if v is not None and math.isfinite(v)])
    names = ("min", "p10", "median", "p90", "max", "mean")
    if not finite.size:
        return dict.fromkeys(names)
    figures = [
        finite.min(),
        np.percentile(finite, 10),
        np.median(finite),
        np.percentile(finite, 90),
        finite.max(),
        finite.mean(),
    ]
    return {name: round(float(v), 6) for name, v in zip(names, figures, strict=True)}
