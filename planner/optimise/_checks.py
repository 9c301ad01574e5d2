"""Validation of the arguments every model shares; all problems are reported at once."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError, InputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def canonical_reach(reach: sp.spmatrix | sp.sparray, problems: list[str]) -> sp.csr_matrix:
    """``reach`` as CSR with sorted indices, keeping explicit zeros (real zero-cost pairs)."""
    if not sp.issparse(reach):
        problems.append("reach must be a scipy.sparse matrix (demand × sites)")
        return sp.csr_matrix((0, 0))
    matrix = sp.csr_matrix(reach, dtype=np.float64, copy=True)
    if not matrix.has_sorted_indices:
        matrix.sort_indices()
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    duplicate = (np.diff(matrix.indices) == 0) & (np.diff(rows) == 0)
    if np.any(duplicate):
        problems.append(f"reach has {int(duplicate.sum())} duplicate (demand, site) entries")
    if matrix.nnz and not np.all(np.isfinite(matrix.data)):
        problems.append("reach holds non-finite travel costs")
    elif matrix.nnz and np.any(matrix.data < 0):
        problems.append("reach holds negative travel costs")
    return matrix


def site_mask(
    mask: npt.ArrayLike | None, n_sites: int, name: str, problems: list[str]
) -> BoolArray:
    """A boolean mask over sites, or all False when ``mask`` is None."""
    if mask is None:
        return np.zeros(n_sites, dtype=bool)
    array = np.asarray(mask)
    if array.shape != (n_sites,):
        problems.append(f"{name} must have one entry per site ({n_sites}), got shape {array.shape}")
        return np.zeros(n_sites, dtype=bool)
    return array.astype(bool)


def demand_weights(weights: npt.ArrayLike | None, n_demand: int, problems: list[str]) -> FloatArray:
    """Non-negative finite weights, one per demand row (ones when None)."""
    if weights is None:
        return np.ones(n_demand)
    array = np.asarray(weights, dtype=np.float64)
    if array.shape != (n_demand,):
        problems.append(
            f"weights must have one entry per demand row ({n_demand}), got shape {array.shape}"
        )
        return np.ones(n_demand)
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        problems.append("weights must be finite and non-negative")
    return array


def site_costs(costs: npt.ArrayLike | None, n_sites: int, problems: list[str]) -> FloatArray:
    """Non-negative finite site costs (ones when None)."""
    if costs is None:
        return np.ones(n_sites)
    array = np.asarray(costs, dtype=np.float64)
    if array.shape != (n_sites,):
        problems.append(f"costs must have one entry per site ({n_sites}), got shape {array.shape}")
        return np.ones(n_sites)
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        problems.append("site costs must be finite and non-negative")
    return array


def raise_problems(model: str, problems: list[str]) -> None:
    """Raise one :class:`InputError` carrying every problem found."""
    if problems:
        raise InputError([f"{model}: {problem}" for problem in problems])


def check_fixed_excluded(model: str, fixed: BoolArray, excluded: BoolArray) -> None:
    """A site cannot be both fixed open and excluded."""
    both = np.flatnonzero(fixed & excluded)
    if both.size:
        raise InfeasibleError(
            f"{model}: {both.size} site(s) are both fixed and excluded (first: site {both[0]})"
        )


def check_p(model: str, p: int, fixed: BoolArray, excluded: BoolArray, *, exact: bool) -> None:
    """The number of sites to open must fit between the fixed and the allowed sites."""
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 0:
        raise InputError(f"{model}: p must be a non-negative integer, got {p!r}")
    n_fixed = int(fixed.sum())
    if p < n_fixed:
        raise InfeasibleError(f"{model}: p = {p} is smaller than the {n_fixed} fixed sites")
    allowed = int((~excluded).sum())
    if exact and p > allowed:
        raise InfeasibleError(
            f"{model}: p = {p} sites must open but only {allowed} sites are not excluded"
        )


def unit_scale(largest: float) -> float:
    """A power of two that lifts ``largest`` (an objective's largest term) to at least 1.

    Solvers' tolerances are absolute (feasibility and optimality 1e-7, gap
    1e-9): costs or weights of 1e-7 fall inside them, and a dearer plan was
    called optimal. A power of two scales exactly, so the scaled model's plans
    are the same plans. 1 when ``largest`` is at least 1 (or not positive).
    """
    if not (math.isfinite(largest) and 0.0 < largest < 1.0):
        return 1.0
    return float(2.0 ** -math.floor(math.log2(largest)))
