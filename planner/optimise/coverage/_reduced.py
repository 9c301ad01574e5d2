"""Maximal covering after the reductions, shared by its solution routes.

The mid-size route (branch and bound, then SCIP; :mod:`.model`) and the
continental one (:mod:`._continental`) both work on :class:`Reduced`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from planner.errors import InfeasibleError, SolverError
from planner.optimise._milp import Milp
from planner.optimise.constraints import SiteRows, append_site_rows, infeasible_with
from planner.optimise.coverage._dual import fold_single_rows
from planner.optimise.coverage._lagrange import coverage_value
from planner.optimise.coverage._lp import cover_and_limit_rows
from planner.optimise.coverage._rows import BoolArray, FloatArray, IntArray, site_bounds
from planner.optimise.solution import SolverSettings


@dataclass(frozen=True)
class Reduced:
    """Maximal covering after the reductions, on the model's site indices.

    ``rows``/``weights`` hold every distinct reach set left; the model folds
    those reached by one site into that site's weight (``folded_rows``,
    ``folded_weights``, ``site_weight``). Fixed-covered weight is a constant.
    """

    rows: sp.csr_matrix
    weights: FloatArray
    p: int
    fixed: BoolArray
    closed: BoolArray
    side: SiteRows
    fixed_weight: float

    @property
    def n_sites(self) -> int:
        return int(self.rows.shape[1])

    @cached_property
    def _folded(self) -> tuple[sp.csr_matrix, FloatArray, FloatArray]:
        return fold_single_rows(self.rows, self.weights)

    @property
    def folded_rows(self) -> sp.csr_matrix:
        return self._folded[0]

    @property
    def folded_weights(self) -> FloatArray:
        return self._folded[1]

    @property
    def site_weight(self) -> FloatArray:
        return self._folded[2]

    def value(self, sites: IntArray) -> float:
        """Covered weight of a plan (the fixed-covered constant excluded)."""
        return coverage_value(self.rows, self.weights, np.zeros(self.n_sites), sites)

    def feasible(self, sites: IntArray) -> bool:
        """Whether a plan meets the limit of p sites and the side constraints."""
        return len(sites) <= self.p and not self.side.satisfied(sites)

    def milp(self, *, lower: FloatArray, upper: FloatArray, hint: IntArray | None) -> Milp:
        """The MIP: y_0 .. y_{n-1}, then z_k per folded row; sites bounded by ``lower``/``upper``.

        Constraints (1) z_k - Σ_{j∈N_k} y_j ≤ 0 and (2) Σ_j y_j ≤ p, then
        the side constraints over the y columns.
        """
        rows, n_sites = self.folded_rows, self.n_sites
        n_rows = rows.shape[0]
        matrix, row_lower, row_upper = append_site_rows(
            cover_and_limit_rows(rows),
            np.full(n_rows + 1, -np.inf),
            np.concatenate([np.zeros(n_rows), [float(self.p)]]),
            self.side,
            site_columns=np.arange(n_sites, dtype=np.int64),
            n_columns=n_sites + n_rows,
        )
        return Milp(
            objective=np.concatenate([self.site_weight, self.folded_weights]),
            matrix=matrix,
            row_lower=row_lower,
            row_upper=row_upper,
            lower=np.concatenate([lower, np.zeros(n_rows)]),
            upper=np.concatenate([upper, np.ones(n_rows)]),
            integer=np.concatenate([np.ones(n_sites, bool), np.zeros(n_rows, bool)]),
            maximise=True,
            offset=self.fixed_weight,
            hint=None if hint is None else hint_values(rows, n_sites, hint),
        )

    def site_bounds(self) -> tuple[FloatArray, FloatArray]:
        return site_bounds(self.fixed, self.closed)


def infeasible(model: Reduced) -> InfeasibleError:
    """The error for a model without any feasible plan, naming the side constraints."""
    if len(model.side):
        return infeasible_with("max_coverage", model.side, f"at most p = {model.p} sites")
    return InfeasibleError(f"max_coverage: no choice of at most p = {model.p} sites is feasible")


def no_plan(settings: SolverSettings) -> SolverError:
    """The error for a search that found no plan meeting the side constraints in time."""
    return SolverError(
        f"max_coverage: no site choice meeting the side constraints found within "
        f"{settings.time_limit_s:g} s; raise the time limit"
    )


def hint_values(rows: sp.csr_matrix, n_sites: int, open_sites: IntArray) -> FloatArray:
    """Values of y and z for a site choice: z_k = min(1, Σ_{j ∈ N_k} y_j)."""
    y = np.zeros(n_sites)
    y[open_sites] = 1.0
    return np.concatenate([y, np.minimum(1.0, rows @ y)])
