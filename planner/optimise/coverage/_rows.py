"""Helpers shared by the maximal-covering and set-covering models.

Both models start from the same reduced rows (distinct reach sets still open
to choice) and check side constraints and site bounds the same way.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise._aggregate import aggregate_rows
from planner.optimise._reach import drop_sites, rows_touching, select_rows, structure
from planner.optimise.constraints import SiteRows, no_site_rows

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def coverage_rows(
    reach: sp.csr_matrix, weights: FloatArray, fixed: BoolArray, excluded: BoolArray
) -> tuple[sp.csr_matrix, FloatArray, float, int]:
    """Distinct reach sets still open to choice, their weights, fixed-covered weight, row count."""
    usable = drop_sites(reach, excluded)
    by_fixed = rows_touching(usable, fixed)
    fixed_weight = float(weights[by_fixed].sum())
    nonempty = np.diff(usable.indptr) > 0
    keep = nonempty & ~by_fixed & (weights > 0)
    rows = select_rows(usable, keep)
    merged = aggregate_rows(rows, weights[keep], match_costs=False)
    return structure(merged.reach), merged.weights, fixed_weight, int(keep.sum())


def side_rows(constraints: SiteRows | None, n_sites: int) -> SiteRows:
    """The side constraints, checked to be over these sites (none when absent)."""
    if constraints is None:
        return no_site_rows(n_sites)
    if constraints.n_sites != n_sites:
        raise ValueError(
            f"side constraints are over {constraints.n_sites} sites, the model has {n_sites}"
        )
    return constraints


def site_bounds(fixed: BoolArray, excluded: BoolArray) -> tuple[FloatArray, FloatArray]:
    """Lower and upper bounds of the site variables: 1 for fixed, 0 for excluded sites."""
    lower = fixed.astype(np.float64)
    upper = (~excluded).astype(np.float64)
    return lower, upper
