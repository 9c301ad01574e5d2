r"""Facility location with opening costs: uncapacitated, capacitated split, single source.

Notation: customers i with demand d_i, sites j with opening cost f_j and
capacity u_j; ``assignment_costs`` holds c_ij, the cost of serving *all* of
customer i's demand from site j (OR-Library convention: not multiplied by
demand again), only for pairs within reach.

Uncapacitated (UFL), in the radius form shared with p-median (the distinct
costs D_i^1 < … < D_i^{K_i} of row i, sites S_i^k at cost D_i^k)::

    min  Σ_j f_j y_j + Σ_i (D_i^1 + Σ_{k<K_i} (D_i^{k+1} - D_i^k) z_i^k)
    s.t. z_i^1 + Σ_{j ∈ S_i^1} y_j ≥ 1                      (1)
         z_i^k - z_i^{k-1} + Σ_{j ∈ S_i^k} y_j ≥ 0           (2)
         -z_i^{K_i-1} + Σ_{j ∈ S_i^{K_i}} y_j ≥ 0            (3)

Capacitated, x_ij the share of customer i served by j (continuous in [0, 1]
with split demand, binary with single sourcing)::

    min  Σ_j f_j y_j + Σ_(i,j) c_ij x_ij
    s.t. Σ_j x_ij = 1                      for every customer i        (1)
         x_ij ≤ y_j                        for every pair (i, j)       (2)
         Σ_i d_i x_ij ≤ u_j y_j            for every site j            (3)
         Σ_j u_j y_j ≥ Σ_i d_i                                         (4)

(2) is implied by (3) for integral y but tightens the LP relaxation a lot;
(4) is a valid inequality (total capacity) that strengthens it further.
Customers without any pair in reach are unreachable and ignored. Handed
whole to a solver this model does not scale (100 sites × 1,000 customers:
no plan in a minute), so :mod:`planner.optimise.capacitated.model` solves it
by a Lagrangian bound, a Lagrangian heuristic, reduced-cost fixing of
sites and a branch and bound with the Lagrangian bound at every node (the
exact model over what is left, for single sourcing and small models).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError, SolverError
from planner.optimise import _checks, evaluate
from planner.optimise._milp import MilpStatus, solve_milp
from planner.optimise._radius import radius_milp
from planner.optimise._reach import drop_sites, select_rows
from planner.optimise._result import finish, sites_from_values
from planner.optimise.capacitated import model as capacitated
from planner.optimise.capacitated._data import Pairs
from planner.optimise.solution import Solution, SolverSettings

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_DEFAULT = SolverSettings()


def facility_location(
    fixed_costs: npt.NDArray[np.float64],
    assignment_costs: sp.csr_matrix,
    *,
    demand: npt.NDArray[np.float64] | None = None,
    capacities: npt.NDArray[np.float64] | None = None,
    single_source: bool = False,
    fixed: npt.NDArray[np.bool_] | None = None,
    excluded: npt.NDArray[np.bool_] | None = None,
    settings: SolverSettings = _DEFAULT,
) -> Solution:
    """Open sites and serve every reachable customer at least total opening + service cost.

    Parameters
    ----------
    fixed_costs
        Opening cost of each site.
    assignment_costs
        Customers × sites; stored pairs are within reach, data the cost of
        serving all of the customer's demand from the site.
    demand
        Demand of each customer (ones when None); only capacities use it.
    capacities
        Capacity of each site in demand units; ``None`` for the uncapacitated model.
    single_source
        Serve each customer from one site only (capacitated model).
    fixed, excluded
        Masks of sites that must / must not open.
    settings
        Time limit, gap, threads and seed.

    Returns
    -------
    Solution
        ``objective`` is opening plus service cost; ``allocation`` the share of
        each customer served by each site; ``assignment`` the largest share.

    Raises
    ------
    InputError
        Malformed arguments.
    InfeasibleError
        A reachable customer has only excluded sites in reach, or the
        capacities cannot serve all reachable demand.
    """
    started = time.perf_counter()
    problems: list[str] = []
    matrix = _checks.canonical_reach(assignment_costs, problems)
    n_customers, n_sites = matrix.shape
    opening = _checks.site_costs(fixed_costs, n_sites, problems)
    amounts = _checks.demand_weights(demand, n_customers, problems)
    must = _checks.site_mask(fixed, n_sites, "fixed", problems)
    never = _checks.site_mask(excluded, n_sites, "excluded", problems)
    caps: FloatArray | None = None
    if capacities is not None:
        caps = np.asarray(capacities, dtype=np.float64)
        if caps.shape != (n_sites,) or np.any(np.isnan(caps)) or np.any(caps < 0):
            problems.append(f"capacities must be {n_sites} non-negative numbers")
    elif single_source:
        problems.append("single_source needs capacities")
    _checks.raise_problems("facility_location", problems)
    _checks.check_fixed_excluded("facility_location", must, never)

    reachable = evaluate.reachable_rows(matrix)
    usable = drop_sites(matrix, never)
    blocked = reachable & (np.diff(usable.indptr) == 0)
    if np.any(blocked):
        raise InfeasibleError(
            f"facility_location: {int(blocked.sum())} reachable customer(s) have only "
            f"excluded sites in reach (first: row {int(np.flatnonzero(blocked)[0])})"
        )
    rows = select_rows(usable, reachable)
    details: dict[str, float] = {"unreachable_demand": float(np.sum(~reachable))}
    allocation: sp.csr_matrix | None = None
    if caps is None:
        milp = radius_milp(rows, np.ones(rows.shape[0]), None, must, never, site_costs=opening)
        result = solve_milp(milp, settings)
    else:
        if np.isfinite(caps[~never]).all() and caps[~never].sum() < amounts[reachable].sum():
            raise InfeasibleError(
                f"facility_location: total capacity {caps[~never].sum():.6g} of the sites "
                f"not excluded is below the reachable demand {amounts[reachable].sum():.6g}"
            )
        pairs = Pairs.from_rows(
            rows, amounts[reachable], opening, caps, must, never, single_source=single_source
        )
        result = capacitated.solve(pairs, settings, started=started)
    if result.status is MilpStatus.INFEASIBLE:
        raise InfeasibleError(
            "facility_location: the capacities cannot serve all reachable customers "
            "within reach" + (" from one site each" if single_source else "")
        )
    if result.status is MilpStatus.NO_SOLUTION:
        raise SolverError(
            f"facility_location: no feasible solution found within {settings.time_limit_s} s"
        )
    open_sites = sites_from_values(result.values, n_sites)
    if caps is None:
        assignment, _ = evaluate.nearest_open(matrix, open_sites)
        objective = evaluate.facility_location_objective(opening, matrix, open_sites)
    else:
        shares = np.clip(result.values[n_sites:], 0.0, 1.0)
        if single_source:
            shares = np.round(shares)
        allocation = evaluate.allocation_matrix(matrix, reachable, rows, shares)
        objective = evaluate.capacitated_objective(
            opening, matrix, amounts, caps, open_sites, allocation
        )
        assignment = evaluate.largest_share(allocation)
    solution = finish(
        model="facility_location",
        sense="min",
        result=result,
        objective=objective,
        open_sites=open_sites,
        assignment=assignment,
        settings=settings,
        started=started,
        details=details,
    )
    return solution if allocation is None else replace(solution, allocation=allocation)
