r"""The LP relaxation of maximal covering by a first-order method, turned into a proven bound.

The LP relaxation of maximal covering (rows :math:`k`, weights :math:`W_k`,
reach sets :math:`N_k`)::

    max  Σ_k W_k z_k
    s.t. z_k - Σ_{j ∈ N_k} y_j ≤ 0     (dual u_k)
         Σ_j y_j ≤ p
         0 ≤ z ≤ 1,  fixed ≤ y ≤ allowed

goes to PDLP (OR-Tools' primal-dual hybrid gradient), which needs no
factorisation and so scales to continental instances where a simplex or
barrier root LP takes minutes. Its answer is only accurate to a tolerance,
so neither its objective nor its duals are used as the bound directly: the
duals, clipped to :math:`0 ≤ u_k ≤ W_k`, are multipliers of the Lagrangian
relaxation (:mod:`planner.optimise.coverage._lagrange`), whose value is an upper bound
for *any* such multipliers and is evaluated exactly. Near the LP optimum it
is within the solver's tolerance of the LP bound.

Side rows over the sites (budget, brand shares, country bounds) join the LP,
each divided by its largest coefficient, and their duals price them in the
Lagrangian too; without them a budget-limited model (p = every site) has
only the total weight for a bound.

The LP's site values, rounded to the p largest and improved by swaps, give a
start that beats greedy on large instances.

Measured (benchmarks/README.md): France 15k places × 2k sites, p = 100:
0.3 s, bound 0.01 % above the LP bound where 300 subgradient steps ended 4 %
above it; Europe 78k places × 26k sites, p = 1,000: 10 s, bound 539.7 M
against 541.2 M from SCIP's unfinished root LP; the constraints scenario on
the full-scale sample dealers (12k rows × 7.6k sites, a budget, brand shares,
country bounds): 13 s, bound 7,109 of the 7,993 sessions/day in reach.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise._milp import Milp, solve_relaxation_pdlp
from planner.optimise.constraints import SiteRows, no_site_rows
from planner.optimise.coverage._lagrange import lagrangian_value

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: PDLP's relative and absolute optimality tolerance. Looser is faster; the
#: bound stays valid at any tolerance, only less tight. On Europe (p = 1,000,
#: 50 km; the exact LP bound is 539,602,094): 1e-3 gives 539,709,207 in
#: 11.6 s, 3e-4 539,633,533 in 15.8 s, 1e-4 539,612,830 in 22.2 s.
TOLERANCE = 3e-4


@dataclass(frozen=True)
class CoverageLp:
    """A proven upper bound from the LP's duals and the LP's site values."""

    bound: float
    site_values: FloatArray
    seconds: float


def cover_and_limit_rows(rows: sp.csr_matrix) -> sp.csr_matrix:
    """Rows z_k - Σ_{j ∈ N_k} y_j and Σ_j y_j over the columns y_0 .. y_{n-1}, z_0 .. z_{m-1}."""
    n_rows, n_sites = rows.shape
    cover = sp.hstack([-rows, sp.identity(n_rows, format="csr")], format="csr")
    return _with_limit_row(cover, n_sites)


def _with_limit_row(cover: sp.csr_matrix, n_sites: int) -> sp.csr_matrix:
    """``cover`` (rows × the sites' columns, then the shares') and the row Σ_j y_j below it."""
    limit = np.zeros(cover.shape[1])
    limit[:n_sites] = 1.0
    return sp.vstack([cover, sp.csr_matrix(limit[np.newaxis, :])], format="csr")


def share_relaxation(
    cover: sp.csr_matrix,
    share_weights: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    allowed: BoolArray,
    side: SiteRows,
) -> Milp:
    """The LP: max Σ W z over rows ``cover`` ≤ 0 (sites' columns first, then the shares z),
    Σ y ≤ p, ``side`` rows over the sites, fixed ≤ y ≤ allowed and 0 ≤ z ≤ 1.

    Maximal covering has one share per row (z_k − Σ_{j ∈ N_k} y_j ≤ 0); flow
    refuelling one per merged trip, in each of the trip's rows.
    """
    n_shares = share_weights.size
    n_sites = cover.shape[1] - n_shares
    return Milp(
        objective=np.concatenate([np.zeros(n_sites), share_weights]),
        matrix=sp.vstack(
            [
                _with_limit_row(cover, n_sites),
                sp.hstack([side.matrix, sp.csr_matrix((len(side), n_shares))]),
            ],
            format="csr",
        ),
        row_lower=np.concatenate([np.full(cover.shape[0] + 1, -np.inf), side.lower]),
        row_upper=np.concatenate([np.zeros(cover.shape[0]), [float(p)], side.upper]),
        lower=np.concatenate([fixed.astype(np.float64), np.zeros(n_shares)]),
        upper=np.concatenate([(allowed | fixed).astype(np.float64), np.ones(n_shares)]),
        integer=np.zeros(n_sites + n_shares, dtype=bool),
        maximise=True,
    )


def priced_side_rows(side: SiteRows, prices: FloatArray) -> tuple[FloatArray, float]:
    r"""The side rows priced at μ, for a Lagrangian bound: their site values and constant.

    For every y with lo ≤ A y ≤ hi, f(y) ≤ f(y) - μ·A y + max_{lo ≤ s ≤ hi} μ·s,
    so the side rows move onto the sites as -Aᵀμ and into a constant. A price
    pointing at an infinite side would make that constant infinite; it is
    dropped instead (any μ gives a valid bound).
    """
    usable = np.where(prices > 0, np.isfinite(side.upper), np.isfinite(side.lower))
    mu = np.where(usable, prices, 0.0)
    up, down = mu > 0, mu < 0
    support = float(mu[up] @ side.upper[up] + mu[down] @ side.lower[down])
    return -np.asarray(side.matrix.T @ mu, dtype=np.float64).ravel(), support


def pdlp_parameters(tolerance: float) -> str:
    # One thread: the same duals, and so the same bound and plan, on any machine.
    return (
        "termination_criteria { simple_optimality_criteria { "
        f"eps_optimal_absolute: {tolerance} eps_optimal_relative: {tolerance} }} }} "
        "num_threads: 1"
    )


#: PDLP given fewer seconds is not started: it cannot converge in them on a
#: model worth it, and building the model alone takes seconds at continental
#: size (143,000 sites, 31 M pairs, a 10 s limit: 3.8 s to build it, then
#: "not solved" at once).
LEAST_PDLP_S = 1.0


def coverage_lp(
    rows: sp.csr_matrix,
    weights: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    allowed: BoolArray,
    seconds: float,
    tolerance: float = TOLERANCE,
    side: SiteRows | None = None,
) -> CoverageLp | None:
    """Solve the LP relaxation with PDLP within ``seconds``; ``None`` when it does not converge
    (or ``seconds`` is below :data:`LEAST_PDLP_S`).

    ``rows`` are the reduced model's reach sets (structure only), ``weights``
    their :math:`W_k`; ``fixed`` sites must open, only ``allowed`` ones may;
    ``side`` rows over the sites (budget, shares, country bounds) join the LP
    and its bound.
    """
    if seconds < LEAST_PDLP_S:
        return None
    started = time.perf_counter()
    n_rows, n_sites = rows.shape
    side = scaled_side_rows(no_site_rows(n_sites) if side is None else side)
    cover = sp.hstack([-rows, sp.identity(n_rows, format="csr")], format="csr")
    relaxation = share_relaxation(cover, weights, p, fixed=fixed, allowed=allowed, side=side)
    # The build's seconds count against the time given.
    left = seconds - (time.perf_counter() - started)
    if left < LEAST_PDLP_S:
        return None
    answer = solve_relaxation_pdlp(relaxation, seconds=left, parameters=pdlp_parameters(tolerance))
    if answer is None:
        return None
    values, duals = answer
    # Any multipliers in [0, W] give a valid bound; the LP's make it tight.
    multipliers = np.clip(np.abs(duals[:n_rows]), 0.0, weights)
    side_duals = duals[n_rows + 1 :]
    # The side rows' duals priced either way round; both bounds are valid.
    bound = min(
        _priced_bound(rows, weights, multipliers, side, sign * side_duals, p, fixed, allowed)
        for sign in ((1.0, -1.0) if len(side) else (1.0,))
    )
    seconds_used = time.perf_counter() - started
    logger.debug("pdlp: bound %.6g in %.2f s", bound, seconds_used)
    return CoverageLp(bound, np.clip(values[:n_sites], 0.0, 1.0), seconds_used)


def scaled_side_rows(side: SiteRows) -> SiteRows:
    """The side rows, each divided by its largest coefficient.

    A budget row in euros next to rows of site counts leaves PDLP unconverged
    (the full-scale sample dealers with the constraints scenario: no answer in
    60 s; scaled, 13 s).
    """
    largest = np.asarray(abs(side.matrix).max(axis=1).toarray(), dtype=np.float64).ravel()
    scale = np.where(largest > 0, largest, 1.0)
    return replace(
        side,
        matrix=sp.csr_matrix(sp.diags(1.0 / scale) @ side.matrix),
        lower=side.lower / scale,
        upper=side.upper / scale,
    )


def _priced_bound(
    rows: sp.csr_matrix,
    weights: FloatArray,
    multipliers: FloatArray,
    side: SiteRows,
    prices: FloatArray,
    p: int,
    fixed: BoolArray,
    allowed: BoolArray,
) -> float:
    """L(u, μ): the Lagrangian bound with side rows priced at μ as well."""
    site_weight, support = priced_side_rows(side, prices)
    bound, _ = lagrangian_value(
        rows,
        weights,
        site_weight,
        multipliers,
        p,
        fixed=fixed,
        allowed=allowed,
    )
    return bound + support


def rounded_sites(
    site_values: FloatArray, p: int, *, fixed: BoolArray, allowed: BoolArray
) -> IntArray:
    """The fixed sites and the allowed ones of largest LP value, p in all (ties to lowest index)."""
    slots = max(0, p - int(fixed.sum()))
    ranked = np.where(allowed & ~fixed, site_values, -np.inf)
    order = np.lexsort((np.arange(ranked.size), -ranked))[:slots]
    order = order[np.isfinite(ranked[order])]
    return np.union1d(np.flatnonzero(fixed), order).astype(np.int64)
