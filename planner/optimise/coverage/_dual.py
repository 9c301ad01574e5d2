r"""The LP relaxation of maximal covering in dual form, held in HiGHS for branch and bound.

Rows :math:`k` (distinct reach sets) of weight :math:`W_k`, sites :math:`j`
with the weight :math:`a_j` of the rows only they reach, side rows
:math:`lo ≤ G y ≤ up` (the cardinality :math:`Σ_j y_j ≤ p` is one of them).
The LP relaxation has one row per reach set; its dual

.. code-block:: text

    min  Σ_k (W_k − u_k) + Σ_j t_j + up·λ⁺ − lo·λ⁻
    s.t. a_j + Σ_{k ∋ j} u_k − Σ_r G_rj (λ⁺_r − λ⁻_r) − t_j ≤ 0     (site row j, dual y_j)
         0 ≤ u_k ≤ W_k,  t_j ≥ 0,  λ⁺, λ⁻ ≥ 0

has one row per site, and the open-site values :math:`y_j` of the primal
are the duals of its rows. A simplex basis is as large as the row count:
on France (6.8k reach sets × 1.8k sites) HiGHS solves this form in 0.15 s
and the primal one in 1.3 s.

Closing site j (:math:`y_j = 0`) drops its row; opening it (:math:`y_j = 1`)
lets :math:`t_j` go negative. Both *relax* the dual, so a child starts from
its parent's optimal basis, still feasible, and the primal simplex
re-optimises in tens of iterations.

Bounds never trust the solver's objective. For any :math:`0 ≤ u ≤ W` and
:math:`λ ≥ 0`, relaxing every row with these multipliers leaves

.. code-block:: text

    B(u, λ) = Σ_k (W_k − u_k) + up·λ⁺ − lo·λ⁻ + Σ_j max_{y_j ∈ [l_j, h_j]} r_j y_j,
    r_j     = a_j + Σ_{k ∋ j} u_k − Σ_r G_rj (λ⁺_r − λ⁻_r),

an upper bound on every plan with :math:`l ≤ y ≤ h` (it is the dual
objective with the best :math:`t` for these multipliers). Evaluated from
whatever point the simplex stopped at, it is valid after an iteration
limit or with any tolerance, and equals the LP bound at the LP optimum.
The same :math:`r_j` bound the two children of site j: :math:`B + r_j` if a
site with :math:`r_j < 0` opens, :math:`B − r_j` if one with
:math:`r_j > 0` closes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import SolverError
from planner.optimise._highs import warm_lp
from planner.optimise._reach import select_rows

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

_INF = highspy.kHighsInf


def fold_single_rows(
    rows: sp.csr_matrix, weights: FloatArray
) -> tuple[sp.csr_matrix, FloatArray, FloatArray]:
    """Rows reached by one site put their weight on that site (:math:`a_j`).

    Returns the other rows, their weights and the site weights, the inputs
    of :class:`CoverageDual`.
    """
    single = np.diff(rows.indptr) == 1
    first = rows.indices[rows.indptr[:-1][single]]
    site_weight = np.bincount(first, weights=weights[single], minlength=rows.shape[1])
    return select_rows(rows, ~single), weights[~single], np.asarray(site_weight, dtype=np.float64)


class LpOutcome(Enum):
    """How one LP solve ended."""

    OPTIMAL = "optimal"
    STOPPED = "stopped"  # iteration limit: the point is feasible, not optimal
    INFEASIBLE = "infeasible"  # no plan meets the node's fixings and side rows


@dataclass(frozen=True)
class DualPoint:
    """One solve's multipliers turned into a bound, the site values and the r_j."""

    outcome: LpOutcome
    bound: float
    site_values: FloatArray
    scores: FloatArray


class CoverageDual:
    """The dual LP of a maximal-covering relaxation, re-solved as sites are fixed.

    Parameters
    ----------
    rows
        Reach sets × sites (structure), without the rows folded into ``site_weight``.
    weights
        :math:`W_k` of each row (positive).
    site_weight
        :math:`a_j` of each site.
    side_matrix, side_lower, side_upper
        Side rows ``side_lower ≤ side_matrix @ y ≤ side_upper`` over all
        sites, the cardinality row included.
    candidates
        Sites the model may open besides the fixed ones.
    fixed
        Sites that must open.

    The LP has a row for each candidate or fixed site; ``sites`` maps LP
    sites to model sites and ``position`` model sites to LP sites (-1 for
    sites outside the LP).
    """

    def __init__(
        self,
        rows: sp.csr_matrix,
        weights: FloatArray,
        site_weight: FloatArray,
        side_matrix: sp.csr_matrix,
        side_lower: FloatArray,
        side_upper: FloatArray,
        candidates: BoolArray,
        fixed: BoolArray,
    ) -> None:
        n_rows = rows.shape[0]
        self.sites: IntArray = np.flatnonzero(candidates | fixed).astype(np.int64)
        self.position: IntArray = np.full(candidates.size, -1, dtype=np.int64)
        self.position[self.sites] = np.arange(self.sites.size)
        self.n_rows = n_rows
        self.weights = np.asarray(weights, dtype=np.float64)
        self.total_weight = float(self.weights.sum())
        # Site × row incidence: row j of the dual LP reads u through it.
        self.incidence = sp.csr_matrix(sp.csc_matrix(rows)[:, self.sites].T)
        self.site_weight = np.asarray(site_weight, dtype=np.float64)[self.sites]
        side = sp.csc_matrix(side_matrix)[:, self.sites]
        has_upper = np.isfinite(side_upper)
        has_lower = np.isfinite(side_lower)
        self.side_plus = sp.csr_matrix(side[np.flatnonzero(has_upper)])
        self.side_minus = sp.csr_matrix(side[np.flatnonzero(has_lower)])
        self.upper_rhs = np.asarray(side_upper, dtype=np.float64)[has_upper]
        self.lower_rhs = np.asarray(side_lower, dtype=np.float64)[has_lower]
        n_sites = self.sites.size
        n_plus, n_minus = self.upper_rhs.size, self.lower_rhs.size
        self.t_start = n_rows
        self.plus_start = n_rows + n_sites
        self.minus_start = self.plus_start + n_plus
        matrix = sp.hstack(
            [
                self.incidence,
                -sp.identity(n_sites, format="csr"),
                -self.side_plus.T,
                self.side_minus.T,
            ],
            format="csc",
        )
        n_columns = matrix.shape[1]
        t_lower = np.where(fixed[self.sites], -_INF, 0.0)
        self._highs = warm_lp(
            matrix,
            np.concatenate([-np.ones(n_rows), np.ones(n_sites), self.upper_rhs, -self.lower_rhs]),
            np.concatenate([np.zeros(n_rows), t_lower, np.zeros(n_plus + n_minus)]),
            np.concatenate([self.weights, np.full(n_columns - n_rows, _INF)]),
            np.full(n_sites, -_INF),
            -self.site_weight,
        )
        self._lower = fixed[self.sites].astype(np.int8)
        self._upper = np.ones(n_sites, dtype=np.int8)
        self.lp_seconds = 0.0
        self.solves = 0

    @property
    def n_sites(self) -> int:
        return int(self.sites.size)

    @property
    def opened(self) -> npt.NDArray[np.int8]:
        """The lower fixings :math:`l` the LP holds now (1 where a site must open)."""
        return self._lower.copy()

    def set_fixings(self, lower: npt.NDArray[np.int8], upper: npt.NDArray[np.int8]) -> None:
        """Bounds :math:`l ≤ y ≤ h` (0/1 per LP site) of the node to solve next."""
        changed = np.flatnonzero((lower != self._lower) | (upper != self._upper))
        highs = self._highs
        for site in changed.tolist():
            closed = upper[site] == 0
            highs.changeRowBounds(site, -_INF, _INF if closed else float(-self.site_weight[site]))
            opened = lower[site] == 1
            highs.changeColBounds(self.t_start + site, -_INF if opened else 0.0, _INF)
        self._lower = lower.copy()
        self._upper = upper.copy()

    def basis(self) -> Any:
        """The current simplex basis, to restart a child from."""
        return self._highs.getBasis()

    def solve(
        self,
        *,
        basis: Any = None,
        iterations: int | None = None,
        seconds: float | None = None,
        dual_simplex: bool = False,
    ) -> DualPoint:
        """Re-optimise from ``basis`` (or the current one); at most ``iterations`` pivots.

        A solve stopped by ``iterations`` or ``seconds`` is ``STOPPED``: its
        bound is valid, only weaker than the LP's.
        """
        highs = self._highs
        if basis is not None:
            highs.setBasis(basis)
        # Dual simplex for a cold start; primal simplex when the basis stays
        # feasible (every fixing relaxes this LP).
        highs.setOptionValue("simplex_strategy", 1 if dual_simplex else 4)
        highs.setOptionValue("simplex_iteration_limit", iterations if iterations else 2**31 - 1)
        # HiGHS's time limit counts the run time of every solve so far.
        limit = _INF if seconds is None else highs.getRunTime() + max(seconds, 1e-3)
        highs.setOptionValue("time_limit", limit)
        started = time.perf_counter()
        highs.run()
        self.lp_seconds += time.perf_counter() - started
        self.solves += 1
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            outcome = LpOutcome.OPTIMAL
        elif status in (
            highspy.HighsModelStatus.kIterationLimit,
            highspy.HighsModelStatus.kTimeLimit,
        ):
            outcome = LpOutcome.STOPPED
        elif status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            # The dual is always feasible (u = λ = 0, t large), so unbounded
            # means the primal node is infeasible.
            return DualPoint(LpOutcome.INFEASIBLE, -np.inf, np.empty(0), np.empty(0))
        else:
            text = highs.modelStatusToString(status)
            raise SolverError(f"HiGHS ended the coverage LP with status {text}")
        solution = highs.getSolution()
        values = np.asarray(solution.col_value, dtype=np.float64)
        site_values = np.clip(-np.asarray(solution.row_dual, dtype=np.float64), 0.0, 1.0)
        bound, scores = self.bound(values)
        return DualPoint(outcome, bound, site_values, scores)

    def bound(self, values: FloatArray) -> tuple[float, FloatArray]:
        """B(u, λ) at the current fixings and the r_j, from a vector of LP column values."""
        multipliers = np.clip(values[: self.n_rows], 0.0, self.weights)
        plus = np.maximum(values[self.plus_start : self.minus_start], 0.0)
        minus = np.maximum(values[self.minus_start :], 0.0)
        scores = self.site_weight + self.incidence @ multipliers
        if plus.size:
            scores -= self.side_plus.T @ plus
        if minus.size:
            scores += self.side_minus.T @ minus
        box = np.where(
            self._upper == 0,
            0.0,
            np.where(self._lower == 1, scores, np.maximum(scores, 0.0)),
        )
        bound = (
            self.total_weight
            - float(multipliers.sum())
            + float(self.upper_rhs @ plus)
            - float(self.lower_rhs @ minus)
            + float(box.sum())
        )
        return bound, scores
