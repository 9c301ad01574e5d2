"""The independent check of the sizing model: a charger plan against its constraints.

:func:`evaluate_sizing` reads a plan (chargers per site and the share of each
demand point served by each site), checks every constraint of
:func:`planner.optimise.sizing.model.sizing` and recomputes its cost, without
any solver. The model's tests and the model itself (to report its objective)
use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

__all__ = ["SizingCheck", "evaluate_sizing"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Feasibility tolerance on loads and shares, relative to the demand involved.
_PLAN_TOLERANCE = 1e-6
#: Rounding allowed in a site's load, relative to the whole demand: a sum of
#: many shares may differ from a site's room in its last digits.
_SUM_ROUNDING = 1e-12


@dataclass(frozen=True)
class SizingCheck:
    """An independent evaluation of a sizing answer.

    Attributes
    ----------
    objective
        Site costs + charger costs (+ penalty × unserved demand).
    site_cost, charger_cost, penalty_cost
        The three parts of the objective.
    served_demand
        Σ_ij λ_i x_ij.
    reachable_demand
        Demand of rows with at least one stored pair (the base of the coverage share).
    coverage
        ``served_demand / reachable_demand`` (1 when nothing is reachable).
    load
        Demand assigned to each site.
    violations
        One line per violated constraint; empty when the answer is feasible.
    """

    objective: float
    site_cost: float
    charger_cost: float
    penalty_cost: float
    served_demand: float
    reachable_demand: float
    coverage: float
    load: FloatArray
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        """True when no constraint is violated."""
        return not self.violations


def evaluate_sizing(
    reach: sp.csr_matrix,
    demand: FloatArray,
    *,
    chargers: IntArray,
    served: sp.csr_matrix,
    site_cost: FloatArray,
    charger_cost: float | FloatArray,
    capacity_per_charger: float,
    max_chargers: FloatArray,
    coverage: float = 0.0,
    unserved_penalty: float | None = None,
    min_chargers: int = 0,
    open_sites: IntArray | None = None,
    capacity_intercept: float = 0.0,
) -> SizingCheck:
    """Recompute the cost of a charger plan from the data and check every constraint.

    The independent check of :func:`planner.optimise.sizing.model.sizing`: it reads
    the plan (chargers per site, share of each demand row served by each
    site), not the solver. A site is open when it has chargers or is listed in
    ``open_sites``; an open site needs at least ``min_chargers`` and takes
    ``capacity_intercept + capacity_per_charger × chargers``.
    Coverage is checked against the demand within reach of any site; the
    caller's excluded sites are not known here, so pass ``reach`` without them
    to check a model that excluded sites.
    """
    n_sites = reach.shape[1]
    lam = np.asarray(demand, dtype=np.float64)
    count = np.asarray(chargers, dtype=np.int64)
    is_open = count > 0
    if open_sites is not None:
        is_open[np.asarray(open_sites, dtype=np.int64)] = True
    per_charger = np.broadcast_to(np.asarray(charger_cost, dtype=np.float64), (n_sites,))
    limit = np.asarray(max_chargers, dtype=np.float64)
    shares = sp.csr_matrix(served, dtype=np.float64)
    violations: list[str] = []

    inside = sp.csr_matrix(shares.multiply(_pair_structure(reach)))
    outside = shares - inside
    if np.any(np.abs(outside.data) > _PLAN_TOLERANCE):
        violations.append("demand is served by a site out of its reach")
    if shares.nnz and (
        shares.data.min() < -_PLAN_TOLERANCE or shares.data.max() > 1 + _PLAN_TOLERANCE
    ):
        violations.append("a served share is outside [0, 1]")
    row_share = np.asarray(shares.sum(axis=1)).ravel()
    # Constraint (1)
    if np.any(row_share > 1 + _PLAN_TOLERANCE):
        violations.append(
            f"{int(np.sum(row_share > 1 + _PLAN_TOLERANCE))} row(s) served over 100 %"
        )
    load = np.asarray(shares.T @ lam).ravel()
    # Constraint (2)
    room = np.where(is_open, capacity_intercept, 0.0) + capacity_per_charger * count
    # Relative to each site's own room: a tolerance on the whole demand let a
    # small site through well over its room when the demand was large, and any
    # site when the demand was in tiny units.
    slack = _PLAN_TOLERANCE * np.maximum(room, 0.0) + _SUM_ROUNDING * float(lam.sum())
    over = load > room + slack
    if np.any(over):
        j = int(np.flatnonzero(over)[0])
        violations.append(
            f"{int(over.sum())} site(s) over capacity (site {j}: load {load[j]:.6g} > "
            f"{room[j]:.6g} for {count[j]} chargers)"
        )
    # Constraint (3)
    if np.any(count > limit):
        violations.append(f"{int(np.sum(count > limit))} site(s) above their charger limit")
    if np.any(count < 0):
        violations.append("negative charger counts")
    # Constraint (6)
    if np.any(is_open & (count < min_chargers)):
        violations.append(f"an open site has fewer than {min_chargers} chargers")
    # Shares out of reach load a site but serve nobody.
    served_total = float(np.dot(np.asarray(inside.sum(axis=1)).ravel(), lam))
    reachable = float(lam[np.diff(sp.csr_matrix(reach).indptr) > 0].sum())
    share = served_total / reachable if reachable > 0 else 1.0
    # Constraint (5)
    if coverage > 0 and served_total < coverage * reachable - _PLAN_TOLERANCE * max(1.0, reachable):
        violations.append(
            f"coverage {share:.6g} of the reachable demand is below the target {coverage:.6g}"
        )
    site_total = float(np.asarray(site_cost, dtype=np.float64)[is_open].sum())
    charger_total = float(np.dot(per_charger, count))
    unserved = max(0.0, float(lam.sum()) - served_total)
    penalty_total = 0.0 if unserved_penalty is None else unserved_penalty * unserved
    return SizingCheck(
        objective=site_total + charger_total + penalty_total,
        site_cost=site_total,
        charger_cost=charger_total,
        penalty_cost=penalty_total,
        served_demand=served_total,
        reachable_demand=reachable,
        coverage=share,
        load=load,
        violations=tuple(violations),
    )


def _pair_structure(reach: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """0/1 matrix of the stored pairs of ``reach`` (explicit zeros are pairs)."""
    matrix = sp.csr_matrix(reach)
    return sp.csr_matrix((np.ones(matrix.nnz), matrix.indices, matrix.indptr), shape=matrix.shape)
