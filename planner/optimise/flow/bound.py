r"""A proven bound for large flow-refuelling models: PDLP's LP duals, priced exactly.

On a large network the solver's root LP does not finish within the limit
(339 nodes, 57,291 trips, 268,706 rows: SCIP gave no bound in 60 s, HiGHS'
simplex took 343 s for the LP alone), so its bound is all the flow. PDLP
solves the LP relaxation of the model (:mod:`.model`) to a tolerance; its
duals :math:`μ_K ≥ 0` of the cover rows (and :math:`ν` of the side rows)
then price the Lagrangian relaxation

.. math:: L(μ, ν) = Σ_q \max\bigl(0, f_q − Σ_{K ∈ q} μ_K\bigr)
          + \max_{x} Σ_j \bigl(Σ_{K ∋ j} μ_K − (A^T ν)_j\bigr) x_j + \text{support}(ν)

over :math:`x` with at most :math:`p` open sites (fixed ones open, excluded
ones closed), an upper bound on the optimum for *any* such prices. So the
bound holds whatever PDLP's accuracy, and near the LP optimum it is the LP
bound. On that network the LP happened to be integral: the start plan of
:mod:`.start` met the bound.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise._milp import solve_relaxation_pdlp
from planner.optimise.constraints import SiteRows
from planner.optimise.coverage._lagrange import best_sites
from planner.optimise.coverage._lp import (
    pdlp_parameters,
    priced_side_rows,
    scaled_side_rows,
    share_relaxation,
)
from planner.optimise.flow.rows import CoverRows

__all__ = ["refuelling_bound"]

#: PDLP's optimality tolerance. On the 339-node network (268,706 rows, p = 10):
#: 3e-4 and 1e-3 both ended in 35 s at the exact LP bound, 3e-3 in 24 s 9.4
#: above it (1e-4 of it).
TOLERANCE = 1e-3

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def refuelling_bound(
    rows: CoverRows,
    p: int,
    *,
    fixed: BoolArray,
    allowed: BoolArray,
    side: SiteRows,
    seconds: float,
    tolerance: float = TOLERANCE,
) -> float | None:
    """An upper bound on the served flow of the trips in ``rows`` (without ``served_anyway``).

    ``None`` when PDLP does not converge to ``tolerance`` within ``seconds``.
    """
    n_rows, n_groups = rows.matrix.shape[0], rows.n_groups
    side = scaled_side_rows(side)
    membership = sp.csr_matrix(
        (np.ones(n_rows), (np.arange(n_rows), rows.row_trip)), shape=(n_rows, n_groups)
    )
    cover = sp.hstack([-rows.matrix, membership], format="csr")
    # PDLP's absolute tolerance is in the objective's units, so it solves with
    # flows of mean 1: the shares of a blend with local demand (about 1e-4 a
    # trip) stopped it at once, 7 % above the plan (full-scale sample
    # dealers, 20 trips); scaled, 8 s and 0.6 %. Its duals scale back.
    total = float(rows.group_flow.sum())
    scale = n_groups / total if total > 0 else 1.0
    relaxation = share_relaxation(
        cover, scale * rows.group_flow, p, fixed=fixed, allowed=allowed, side=side
    )
    answer = solve_relaxation_pdlp(
        relaxation, seconds=seconds, parameters=pdlp_parameters(tolerance)
    )
    if answer is None:
        return None
    _, duals = answer
    prices = np.abs(duals[:n_rows]) / scale
    side_duals = duals[n_rows + 1 :] / scale
    # The side rows' duals priced either way round; both bounds are valid.
    bound = min(
        _priced(rows, prices, side, sign * side_duals, p, fixed, allowed)
        for sign in ((1.0, -1.0) if len(side) else (1.0,))
    )
    logger.debug("flow bound by pdlp: %.6g", bound)
    return bound


def _priced(
    rows: CoverRows,
    prices: FloatArray,
    side: SiteRows,
    side_prices: FloatArray,
    p: int,
    fixed: BoolArray,
    allowed: BoolArray,
) -> float:
    """L(μ, ν) of the module docstring."""
    site_weight, support = priced_side_rows(side, side_prices)
    charged = np.bincount(rows.row_trip, weights=prices, minlength=rows.n_groups)
    trips = float(np.maximum(rows.group_flow - charged, 0.0).sum())
    scores = np.asarray(rows.matrix.T @ prices, dtype=np.float64).ravel() + site_weight
    _, sites_value = best_sites(scores, p, fixed, allowed)
    return trips + sites_value + support
