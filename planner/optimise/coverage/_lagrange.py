r"""Lagrangian relaxation of maximal covering: a proven upper bound and good site sets.

Relaxing the coverage constraints z_k ≤ Σ_{j ∈ N_k} y_j with multipliers
λ_k ≥ 0 (Galvão & ReVelle, 1996) splits the model into two trivial parts::

    L(λ) = Σ_k max(0, W_k - λ_k) + max { Σ_j (a_j + Σ_{k ∋ j} λ_k) y_j :
                                          Σ_j y_j ≤ p, fixed / excluded }

and L(λ) ≥ the optimum for every λ ≥ 0. The inner maximum opens the fixed
sites and then the best-scoring others. Subgradient steps (Polyak's rule)
lower the bound towards the LP bound in a few hundred sparse products,
which is far cheaper than the LP itself on continental instances; the site
sets of the inner problem, repaired by the swap heuristic, are often
better than greedy.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise.heuristics import swap_coverage

logger = logging.getLogger(__name__)

#: First Polyak step factor, halved after STALL iterations without a better bound.
THETA = 2.0
STALL = 10

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LagrangianResult:
    """Best upper bound found and the best site set seen (with its value)."""

    bound: float
    sites: IntArray
    value: float
    iterations: int


def coverage_value(
    rows: sp.csr_matrix, weights: FloatArray, site_weight: FloatArray, sites: IntArray
) -> float:
    """Objective of the reduced model for a set of open sites."""
    chosen = np.zeros(rows.shape[1])
    chosen[sites] = 1.0
    covered = (rows @ chosen) > 0
    return float(weights[covered].sum() + site_weight[sites].sum())


def best_sites(
    scores: FloatArray, p: int, fixed: BoolArray, allowed: BoolArray
) -> tuple[IntArray, float]:
    """Open fixed sites, then the ``p - #fixed`` best positive-scoring allowed sites."""
    free = np.where(allowed & ~fixed & (scores > 0), scores, -np.inf)
    slots = max(0, p - int(fixed.sum()))
    if slots and np.isfinite(free).any():
        top = np.argpartition(-free, min(slots, free.size - 1))[:slots]
        top = top[np.isfinite(free[top])]
    else:
        top = np.empty(0, dtype=np.int64)
    sites = np.union1d(np.flatnonzero(fixed), top).astype(np.int64)
    return sites, float(scores[sites].sum())


def lagrangian_value(
    rows: sp.csr_matrix | sp.csc_matrix,
    weights: FloatArray,
    site_weight: FloatArray,
    multipliers: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    allowed: BoolArray,
) -> tuple[float, IntArray]:
    """L(λ) for multipliers 0 ≤ λ_k ≤ W_k, and the inner problem's site set.

    An upper bound on the maximal-covering optimum for any such multipliers.
    """
    scores = site_weight + rows.T @ multipliers
    sites, inner_value = best_sites(scores, p, fixed, allowed)
    covering = weights > multipliers
    return float(np.sum((weights - multipliers)[covering])) + inner_value, sites


def mclp_lagrangian(
    rows: sp.csr_matrix,
    weights: FloatArray,
    site_weight: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    allowed: BoolArray,
    start: IntArray,
    seconds: float,
    max_iterations: int = 400,
    target_gap: float = 1e-4,
) -> LagrangianResult:
    """Subgradient optimisation of L(λ) within a time budget.

    Parameters
    ----------
    rows
        Reduced model rows (structure) × sites.
    weights
        W_k of each row; ``site_weight`` the a_j folded onto sites.
    p
        Largest number of open sites.
    fixed, allowed
        Sites that must open, and sites that may open.
    start
        A feasible site set (e.g. greedy + swap) giving the first lower bound.
    seconds
        Time budget of the steps; the swaps that repair the best plan after
        them stop half as long again later.
    max_iterations
        Subgradient iterations at most.
    target_gap
        Stop once bound and best value are this close (relative).
    """
    started = time.perf_counter()
    columns = sp.csc_matrix(rows)
    best_sites = np.asarray(start, dtype=np.int64)
    best_value = coverage_value(rows, weights, site_weight, best_sites)
    # Each row's weight spread over its sites; multipliers stay within [0, W_k],
    # since above W_k one only inflates the sites' scores.
    multipliers = weights / np.maximum(np.diff(rows.indptr), 1)
    best_bound = np.inf
    theta, stall = THETA, 0
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 (reported after the loop)
        bound, sites = lagrangian_value(
            columns, weights, site_weight, multipliers, p, fixed=fixed, allowed=allowed
        )
        covering = weights > multipliers
        if bound < best_bound - 1e-12 * max(1.0, abs(bound)):
            best_bound, stall = bound, 0
        else:
            stall += 1
            if stall >= STALL:
                theta, stall = theta / 2, 0
        value = coverage_value(rows, weights, site_weight, sites)
        if value > best_value:
            best_sites, best_value = sites, value
        gap = (best_bound - best_value) / max(abs(best_value), 1e-9)
        if gap <= target_gap or theta < 1e-6 or time.perf_counter() - started > seconds:
            break
        chosen = np.zeros(rows.shape[1])
        chosen[sites] = 1.0
        subgradient = (rows @ chosen) - covering
        norm = float(subgradient @ subgradient)
        if norm == 0:
            break
        step = theta * (bound - best_value) / norm
        multipliers = np.clip(multipliers - step * subgradient, 0.0, weights)
    repaired = swap_coverage(
        rows, weights, best_sites, fixed=fixed, excluded=~allowed, deadline=started + 1.5 * seconds
    )
    repaired_value = coverage_value(rows, weights, site_weight, repaired)
    if repaired_value > best_value:
        best_sites, best_value = repaired, repaired_value
    logger.debug(
        "lagrangian: %d iterations, bound %.6g, best %.6g, %.2f s",
        iteration,
        best_bound,
        best_value,
        time.perf_counter() - started,
    )
    return LagrangianResult(best_bound, best_sites, best_value, iteration)
