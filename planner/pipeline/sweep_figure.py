"""``sweep.png``: coverage against each swept field, with its spread.

One panel per swept field. A field with a few distinct values (a grid, a
choice) gets, at each value, the median coverage joined by a line, the band
from the least to the most coverage of the runs at that value (the spread
over the draws and the other fields) and the 10th to 90th percentile band
darker; a drawn number gets a dot per run and the running median. Runs
without a plan are left out, and the panel says how many.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["sweep_figure"]

#: Above this many distinct values, a field's values are drawn as dots, not as bands.
_DISCRETE_UP_TO = 12

#: Most panels in one figure (the first fields swept).
_MOST_PANELS = 6

_LINE = "#1f4e9c"

#: Values beyond this are drawn as labels: an axis pads its limits past them.
_LARGEST_ON_AXIS = 1e300


def sweep_figure(table: pd.DataFrame, parameters: Sequence[str], *, title: str) -> Any:
    """The figure of ``sweep.png`` from the table of ``sweep.csv``; not registered with pyplot."""
    from matplotlib.figure import Figure

    shown = list(parameters)[:_MOST_PANELS]
    solved = table[pd.to_numeric(table["coverage_pct"], errors="coerce").notna()]
    columns = min(len(shown), 3) or 1
    rows = math.ceil(max(len(shown), 1) / columns)
    fig = Figure(figsize=(4.2 * columns + 0.6, 3.4 * rows + 0.7), dpi=110)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False).ravel())
    for ax, key in zip(axes, shown, strict=False):
        _panel(ax, solved, key)
        ax.set_title(_wrapped(key), fontsize=8.5)
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    if not shown:
        axes[0].text(0.5, 0.5, "nothing swept", ha="center", va="center")
    left_out = len(table) - len(solved)
    note = f" · {left_out} run(s) without a plan left out" if left_out else ""
    more = len(parameters) - len(shown)
    note += f" · {more} more field(s) in sweep.csv" if more > 0 else ""
    fig.suptitle(f"{title}\n{len(table)} runs{note}", fontsize=9.5)
    fig.tight_layout()
    return fig


def _wrapped(key: str) -> str:
    """A long dotted name over two lines, broken at a dot."""
    if len(key) <= 42 or "." not in key:
        return key
    head, _, tail = key.rpartition(".")
    return f"{head}.\n{tail}"


def _panel(ax: Any, table: pd.DataFrame, key: str) -> None:
    values = table[key]
    coverage = pd.to_numeric(table["coverage_pct"], errors="coerce").to_numpy(dtype=float)
    numbers = pd.to_numeric(values, errors="coerce")
    numeric = (
        bool(len(values))
        and numbers.notna().all()
        and values.map(lambda v: not isinstance(v, bool)).all()
        # Near the largest float an axis's margins overflow: such values are labels.
        and bool((numbers.abs() < _LARGEST_ON_AXIS).all())
    )
    distinct = values.astype(str).nunique()
    ax.set_ylabel("coverage (%)", fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.tick_params(labelsize=7.5)
    if not len(values):
        return
    if numeric and distinct > _DISCRETE_UP_TO:
        _dots(ax, numbers.to_numpy(dtype=float), coverage)
        return
    if numeric:
        positions = numbers.to_numpy(dtype=float)
        levels = sorted(set(positions.tolist()))
        x = np.array(levels)
        # The levels swept are the ticks (40, 60), not 39, 42, 45 … between them.
        ax.set_xticks(x, [f"{level:g}" for level in levels])
        groups = [coverage[positions == level] for level in levels]
    else:
        labels = values.astype(str)
        levels_text = list(dict.fromkeys(labels))
        x = np.arange(len(levels_text), dtype=float)
        groups = [coverage[(labels == level).to_numpy()] for level in levels_text]
        ax.set_xticks(x, levels_text, rotation=20 if len(levels_text) > 3 else 0)
    _bands(ax, x, groups)


def _bands(ax: Any, x: np.ndarray, groups: list[np.ndarray]) -> None:
    low = np.array([g.min() for g in groups])
    high = np.array([g.max() for g in groups])
    p10 = np.array([np.percentile(g, 10) for g in groups])
    p90 = np.array([np.percentile(g, 90) for g in groups])
    median = np.array([np.median(g) for g in groups])
    spread = bool(np.any(high - low > 1e-9))
    if spread:
        ax.fill_between(x, low, high, color=_LINE, alpha=0.12, linewidth=0, label="least–most")
        ax.fill_between(x, p10, p90, color=_LINE, alpha=0.25, linewidth=0, label="10–90 %")
    ax.plot(x, median, marker="o", markersize=3.5, color=_LINE, label="median")
    if spread:
        ax.legend(loc="lower right", fontsize=7)


def _dots(ax: Any, x: np.ndarray, coverage: np.ndarray) -> None:
    ax.scatter(x, coverage, s=8, color=_LINE, alpha=0.45, linewidths=0, label="run")
    order = np.argsort(x)
    window = max(5, len(x) // 10)
    running = pd.Series(coverage[order]).rolling(window, center=True, min_periods=1).median()
    ax.plot(x[order], running.to_numpy(), color="#d95f02", linewidth=1.4, label="running median")
    ax.legend(loc="lower right", fontsize=7)
