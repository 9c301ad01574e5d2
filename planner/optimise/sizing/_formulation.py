"""The sizing MILP: the formulation of :mod:`planner.optimise.sizing.model` as a :class:`Milp`.

:func:`build_milp` writes rows (1)-(7) of that module's docstring over the
variables [y (sites), n (sites), x (pairs)], :func:`with_side_rows` appends
the budget (8) and the side rows (9), :func:`fix_sites` applies the sites the
Lagrangian relaxation fixes, and :func:`kernel_milp` solves the model on a
kernel of sites from a plan.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise._milp import Milp, MilpResult, MilpStatus, solve_milp
from planner.optimise.constraints import SiteRows, append_site_rows
from planner.optimise.sizing._lagrange import SizingCosts, on_sites
from planner.optimise.sizing._parts import Capacity, SizingInstance, pairs_of
from planner.optimise.solution import SolverSettings

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Most pairs for which the linking rows (4) are added.
LINK_PAIRS = 50_000
#: Backend of that MILP. HiGHS takes the plan as its start and keeps its best
#: at the limit: five countries, 80 %, penalty 200,000 EUR, 60 s, two to five
#: runs each, HiGHS against SCIP: 50 km 155.88-156.65 M against 156.79-160.46 M,
#: 40 km 204.67-206.68 M against 205.06-209.25 M, 60 km 128.63-132.40 M
#: against 128.09-132.85 M (benchmarks/README.md).
KERNEL_BACKEND = "highs"


def build_milp(
    inst: SizingInstance,
    prices: FloatArray,
    per_charger: FloatArray,
    mu: Capacity,
    target: float,
    penalty: float | None,
    must: BoolArray,
    never: BoolArray,
    lam: FloatArray,
    least: int,
) -> Milp:
    """The MILP of :mod:`.model`'s docstring over variables [y (sites), n (sites), x (pairs)]."""
    n_rows, n_sites = inst.rows.shape
    pair_row, pair_site = pairs_of(inst.rows)
    n_pairs = pair_row.size
    weight = inst.row_demand[pair_row]
    y, pairs = np.arange(n_sites), np.arange(n_pairs)
    n, x = n_sites + y, 2 * n_sites + pairs
    ones, width = np.ones(n_sites), 2 * n_sites + n_pairs
    blocks: list[sp.csr_matrix] = []
    bounds: list[tuple[FloatArray, FloatArray]] = []

    def add(
        terms: list[tuple[IntArray, IntArray, FloatArray]], count: int, lo: float, up: float
    ) -> None:
        rows, cols, vals = (np.concatenate(part) for part in zip(*terms, strict=True))
        blocks.append(sp.csr_matrix((vals, (rows, cols)), shape=(count, width)))
        bounds.append((np.full(count, lo), np.full(count, up)))

    # Constraint (1): Σ_j x_kj ≤ 1 for every distinct reach set k.
    add([(pair_row, x, np.ones(n_pairs))], n_rows, -np.inf, 1.0)
    # Constraint (2): Σ_k λ_k x_kj - μ n_j - a y_j ≤ 0.
    add([(pair_site, x, weight), (y, n, -mu.per_charger * ones), (y, y, -mu.intercept * ones)],
        n_sites, -np.inf, 0.0)  # fmt: skip
    # Constraint (3): n_j - M_j y_j ≤ 0.
    add([(y, n, ones), (y, y, -inst.limit)], n_sites, -np.inf, 0.0)
    # Constraint (4): x_kj - y_j ≤ 0 for every pair, while the LP stays small.
    if n_pairs <= LINK_PAIRS:
        add([(pairs, x, np.ones(n_pairs)), (pairs, pair_site, -np.ones(n_pairs))],
            n_pairs, -np.inf, 0.0)  # fmt: skip
    # Constraint (5): Σ λ_k x_kj ≥ α Λ (the target is in the units of demand).
    if target > 0:
        add([(np.zeros(n_pairs, dtype=np.int64), x, weight)], 1, target, np.inf)
    # Constraint (6): n_j - m y_j ≥ 0.
    add([(y, n, ones), (y, y, -float(least) * ones)], n_sites, 0.0, np.inf)
    # Constraint (7): Σ_j n_j ≥ ⌈α Λ / μ⌉. Valid because every charger serves at
    # most μ; it carries the rounding of the charger counts into the LP bound,
    # which otherwise prices fractional chargers and leaves a gap of about one.
    if target > 0:
        needed = float(math.ceil(target / mu.per_charger - 1e-9))
        add([(np.zeros(n_sites, dtype=np.int64), n, ones)], 1, needed, np.inf)

    objective = np.concatenate([prices, per_charger, np.zeros(n_pairs)])
    offset = 0.0
    if penalty is not None:
        # P Σ λ (1 - Σ x) = P Σ λ - P Σ λ_k x_kj over every row, in the model or not.
        objective[x] = -penalty * weight
        offset = penalty * float(lam.sum())
    allowed = (~never) & (inst.limit >= least)
    return Milp(
        objective=objective,
        matrix=sp.vstack(blocks, format="csr"),
        row_lower=np.concatenate([lo for lo, _ in bounds]),
        row_upper=np.concatenate([up for _, up in bounds]),
        lower=np.concatenate([must.astype(np.float64), np.zeros(n_sites + n_pairs)]),
        upper=np.concatenate([allowed.astype(np.float64), inst.limit, np.ones(n_pairs)]),
        integer=np.concatenate([np.ones(2 * n_sites, bool), np.zeros(n_pairs, bool)]),
        offset=offset,
    )


def kernel_milp(
    inst: SizingInstance,
    costs: SizingCosts,
    kernel: BoolArray,
    hint: FloatArray,
    penalty: float | None,
    lam: FloatArray,
    budget: float | None,
    settings: SolverSettings,
) -> MilpResult | None:
    """The MILP on the ``kernel`` sites alone, from ``hint`` (a plan on them); its plan, or None.

    The values returned are the whole instance's [y, n, x] (every other site
    closed), and the objective is the whole model's for them. With an unserved
    penalty the flow plans aim at a fixed demand served, which the MILP does
    not: on the five countries at 80 % with a penalty of 200,000 EUR per
    session, on the sites of the plan and of the relaxation's minimiser
    (239-254 sites, 13,000-14,000 pairs), HiGHS found 157.19 M in 30 s and
    155.73 M in 60 s against the search's 160.46 M; in the model, in the
    last 40 % of the minute, HiGHS 155.88-156.65 M and SCIP 156.79-160.46 M.
    """
    sites = np.flatnonzero(kernel)
    n_sites = kernel.size
    part, part_costs, pair = on_sites(inst, costs, sites)
    milp = build_milp(
        part,
        part_costs.prices,
        part_costs.per_charger,
        costs.capacity,
        costs.target,
        penalty,
        part_costs.must,
        np.zeros(sites.size, dtype=bool),
        lam,
        costs.least,
    )
    milp = with_side_rows(
        milp, part_costs.side, budget, part_costs.prices, part_costs.per_charger, sites.size
    )
    x = 2 * n_sites + pair
    milp = replace(milp, hint=np.concatenate([hint[sites], hint[n_sites + sites], hint[x]]))
    result = solve_milp(milp, settings, backend=KERNEL_BACKEND)
    logger.debug(
        "sizing: MILP on %d kernel sites, %s, objective %.6g",
        sites.size,
        result.status.name,
        result.objective,
    )
    if result.status not in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
        return None
    values = np.zeros(hint.size)
    values[sites] = result.values[: sites.size]
    values[n_sites + sites] = result.values[sites.size : 2 * sites.size]
    values[x] = result.values[2 * sites.size :]
    return replace(result, values=values)


def fix_sites(milp: Milp, closed: BoolArray, opened: BoolArray) -> Milp:
    """Sites closed or opened in every plan cheaper than the hint, which obeys both."""
    n_sites = closed.size
    lower, upper = milp.lower.copy(), milp.upper.copy()
    lower[:n_sites][opened] = 1.0
    upper[:n_sites][closed] = 0.0
    upper[n_sites : 2 * n_sites][closed] = 0.0
    return replace(milp, lower=lower, upper=upper)


def with_side_rows(
    milp: Milp,
    side: SiteRows,
    budget: float | None,
    prices: FloatArray,
    per_charger: FloatArray,
    n_sites: int,
) -> Milp:
    """Constraints (8) and (9) appended to the model over [y, n, x]."""
    width = milp.matrix.shape[1]
    matrix, lower, upper = append_site_rows(
        milp.matrix,
        milp.row_lower,
        milp.row_upper,
        side,
        site_columns=np.arange(n_sites, dtype=np.int64),
        n_columns=width,
    )
    if budget is not None:
        # Constraint (8): Σ f_j y_j + Σ c_j n_j ≤ B.
        row = np.zeros(width)
        row[:n_sites] = prices
        row[n_sites : 2 * n_sites] = per_charger
        matrix = sp.csr_matrix(sp.vstack([matrix, sp.csr_matrix(row[None, :])], format="csr"))
        lower = np.concatenate([lower, [-np.inf]])
        upper = np.concatenate([upper, [float(budget)]])
    return replace(milp, matrix=matrix, row_lower=lower, row_upper=upper)
