r"""The radius formulation shared by p-median and uncapacitated facility location.

For each row :math:`i` sort its distinct costs
:math:`D_i^1 < D_i^2 < … < D_i^{K_i}` and let :math:`z_i^k \ge 0` be 1 when no
open site of row :math:`i` costs :math:`D_i^k` or less; :math:`S_i^k` are the
sites of row :math:`i` at cost exactly :math:`D_i^k` (Elloumi, 2010; García,
Labbé & Marín, 2011)::

    min  Σ_j f_j y_j + Σ_i w_i (D_i^1 + Σ_{k<K_i} (D_i^{k+1} - D_i^k) z_i^k)
    s.t. z_i^1 + Σ_{j ∈ S_i^1} y_j ≥ 1                      (1) nearest level
         z_i^k - z_i^{k-1} + Σ_{j ∈ S_i^k} y_j ≥ 0  1<k<K_i   (2) chained levels
         -z_i^{K_i-1} + Σ_{j ∈ S_i^{K_i}} y_j ≥ 0            (3) served within reach
         Σ_j y_j = p                          (4) p-median only
         y_j ∈ {0, 1}; y_j = 1 fixed, 0 excluded;  z ≥ 0

Chaining the levels keeps one coefficient per pair (the cumulative form
would need :math:`O(K_i^2)`) and has the same LP relaxation. Constraints
(1)–(3) add up to "some site within reach is open". For integral
:math:`y` the optimal :math:`z` are integral too, so they stay continuous.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise import evaluate
from planner.optimise._aggregate import aggregate_rows
from planner.optimise._milp import Milp
from planner.optimise._reach import drop_sites, entry_rows, keep_entries, select_rows

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def reduced_rows(
    matrix: sp.csr_matrix, demand: FloatArray, must: BoolArray, never: BoolArray
) -> tuple[sp.csr_matrix, FloatArray, int]:
    """Distinct (sites, costs) rows, and the number of rows before merging.

    Pairs to ``never`` sites go; pairs costlier than the nearest ``must``
    site of a row can never serve it and go too; rows of zero weight keep
    only their coverage requirement (all costs 0); rows identical in sites
    *and* costs merge with summed weights. Rows left without pairs are
    dropped, so callers check reachability first.
    """
    usable = drop_sites(matrix, never)
    rows_of = entry_rows(usable)
    _, nearest_fixed = evaluate.nearest_open(usable, np.flatnonzero(must))
    usable = keep_entries(usable, usable.data <= nearest_fixed[rows_of])
    usable.data[demand[entry_rows(usable)] == 0] = 0.0
    keep = np.diff(usable.indptr) > 0
    merged = aggregate_rows(select_rows(usable, keep), demand[keep], match_costs=True)
    return merged.reach, merged.weights, int(keep.sum())


def radius_milp(
    rows: sp.csr_matrix,
    weights: FloatArray,
    p: int | None,
    must: BoolArray,
    never: BoolArray,
    *,
    site_costs: FloatArray | None = None,
    hint: IntArray | None = None,
) -> Milp:
    """Constraints (1)–(4) of the module docstring as one sparse matrix.

    Without ``p`` constraint (4) is left out; ``site_costs`` put opening costs
    on the site variables (the uncapacitated facility location model);
    ``hint`` open sites become the solver's starting solution.
    """
    n_sites = rows.shape[1]
    owner = entry_rows(rows)
    order = np.lexsort((rows.indices, rows.data, owner))
    owner, sites, costs = owner[order], rows.indices[order].astype(np.int64), rows.data[order]
    new_level = np.ones(owner.size, dtype=bool)
    new_level[1:] = (owner[1:] != owner[:-1]) | (costs[1:] != costs[:-1])
    level_of_entry = np.cumsum(new_level) - 1
    level_row = owner[new_level]
    level_cost = costs[new_level]
    n_levels = level_row.size
    first = np.ones(n_levels, dtype=bool)
    first[1:] = level_row[1:] != level_row[:-1]
    last = np.ones(n_levels, dtype=bool)
    last[:-1] = level_row[1:] != level_row[:-1]
    has_z = ~last
    z_of_level = np.cumsum(has_z) - 1
    n_z = int(has_z.sum())

    levels_with_z = np.flatnonzero(has_z)
    levels_chained = np.flatnonzero(~first)
    # Constraint (4) is the last row, over every site, when p is given.
    in_card = n_sites if p is not None else 0
    coo_rows = np.concatenate(
        [level_of_entry, levels_with_z, levels_chained, np.full(in_card, n_levels)]
    )
    coo_cols = np.concatenate(
        [
            sites,
            n_sites + z_of_level[levels_with_z],
            n_sites + z_of_level[levels_chained - 1],
            np.arange(in_card),
        ]
    )
    coo_vals = np.concatenate(
        [
            np.ones(sites.size),
            np.ones(levels_with_z.size),
            -np.ones(levels_chained.size),
            np.ones(in_card),
        ]
    )
    card_rows = 1 if p is not None else 0
    matrix = sp.csr_matrix(
        (coo_vals, (coo_rows, coo_cols)), shape=(n_levels + card_rows, n_sites + n_z)
    )
    step = np.zeros(n_levels)
    step[levels_with_z] = level_cost[levels_with_z + 1] - level_cost[levels_with_z]
    z_cost = (weights[level_row] * step)[has_z]
    offset = float(np.sum(weights[level_row[first]] * level_cost[first]))
    start = None
    if hint is not None:
        is_open = np.zeros(n_sites, dtype=bool)
        is_open[hint] = True
        nearest_open = np.full(rows.shape[0], np.inf)
        np.minimum.at(nearest_open, owner[is_open[sites]], costs[is_open[sites]])
        # z_i^k = 1 while no open site of row i costs D_i^k or less.
        z_start = (nearest_open[level_row] > level_cost)[has_z]
        start = np.concatenate([is_open.astype(np.float64), z_start.astype(np.float64)])
    return Milp(
        objective=np.concatenate([np.zeros(n_sites) if site_costs is None else site_costs, z_cost]),
        matrix=matrix,
        # Constraints (1)-(3): ≥ 1 on a row's nearest level, ≥ 0 on the others;
        # constraint (4): exactly p.
        row_lower=np.concatenate([first.astype(np.float64), np.full(card_rows, float(p or 0))]),
        row_upper=np.concatenate([np.full(n_levels, np.inf), np.full(card_rows, float(p or 0))]),
        lower=np.concatenate([must.astype(np.float64), np.zeros(n_z)]),
        upper=np.concatenate([(~never).astype(np.float64), np.full(n_z, np.inf)]),
        integer=np.concatenate([np.ones(n_sites, bool), np.zeros(n_z, bool)]),
        offset=offset,
        hint=start,
    )
