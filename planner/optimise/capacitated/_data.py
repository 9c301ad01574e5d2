r"""The capacitated facility-location instance as flat pair arrays, and its sites' cover knapsack.

The bound, the heuristics and the exact model all walk the same pairs
(customer i, site j) of the reachable customers, so they share one frozen
:class:`Pairs` built once. Capacities are finite here: a site of infinite
capacity can serve at most all the demand, so it gets the total demand.

Every relaxation here keeps the total-capacity row of the model as a
knapsack over the sites: with site values v_j (opening cost plus the best
use of the site, which may be negative),

    min  Σ_j v_j y_j   s.t.  Σ_j u_j y_j ≥ Σ_i d_i,  y_j ∈ {0, 1},  fixed / excluded

:func:`cheapest_cover` solves it: sites of negative value open, then the
cheapest cover of the capacity still missing, by dynamic programming over
capacity units. When the units would be too many, capacities are rounded
*up* and the requirement scaled down, which relaxes the knapsack, so the
value stays a lower bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise._reach import entry_rows

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

# Capacity units of the cover dynamic programme: cells × sites bytes of memory.
_MAX_UNITS = 20_000


@dataclass(frozen=True)
class Pairs:
    """Reachable customers × usable sites, one entry per pair, ordered by customer.

    Attributes
    ----------
    owner, site, cost
        Customer, site and cost of serving all the customer's demand, per pair.
    demand
        Demand of each customer (positive).
    opening, capacity
        Opening cost and (finite) capacity of each site.
    fixed, excluded
        Sites that must / must not open.
    single_source
        Whether every customer is served by one site.
    """

    owner: IntArray
    site: IntArray
    cost: FloatArray
    demand: FloatArray
    opening: FloatArray
    capacity: FloatArray
    fixed: BoolArray
    excluded: BoolArray
    single_source: bool

    @classmethod
    def from_rows(
        cls,
        rows: sp.csr_matrix,
        demand: FloatArray,
        opening: FloatArray,
        capacity: FloatArray,
        fixed: BoolArray,
        excluded: BoolArray,
        *,
        single_source: bool,
    ) -> Pairs:
        """From the reachable rows (customers × sites, pairs to excluded sites dropped)."""
        total = float(demand.sum())
        return cls(
            owner=entry_rows(rows),
            site=rows.indices.astype(np.int64),
            cost=np.asarray(rows.data, dtype=np.float64),
            demand=np.asarray(demand, dtype=np.float64),
            opening=np.asarray(opening, dtype=np.float64),
            capacity=np.minimum(np.asarray(capacity, dtype=np.float64), total),
            fixed=fixed.copy(),
            excluded=excluded.copy(),
            single_source=single_source,
        )

    @property
    def n_customers(self) -> int:
        return int(self.demand.size)

    @property
    def n_sites(self) -> int:
        return int(self.opening.size)

    @property
    def total_demand(self) -> float:
        return float(self.demand.sum())

    def unit_cost(self) -> FloatArray:
        """Cost per unit of demand of every pair (0 for customers of zero demand)."""
        weight = self.demand[self.owner]
        return np.divide(self.cost, weight, out=np.zeros_like(self.cost), where=weight > 0)

    def objective(self, opened: BoolArray, shares: FloatArray) -> float:
        """Opening plus service cost of a plan (shares per pair)."""
        return float(self.opening[opened].sum() + np.dot(self.cost, shares))


def cheapest_cover(
    values: FloatArray,
    capacity: FloatArray,
    requirement: float,
    lower: BoolArray,
    upper: BoolArray,
) -> tuple[float, BoolArray]:
    """A lower bound on min Σ v_j y_j s.t. Σ u_j y_j ≥ requirement, lower ≤ y ≤ upper, binary.

    Exact when every free site has the same capacity or capacities are whole
    numbers of few units; otherwise the rounded relaxation (module docstring).
    Returns ``(inf, lower)`` when even every allowed site cannot cover it.
    """
    chosen = lower | (upper & (values < 0))
    value = float(values[chosen].sum())
    missing = requirement - float(capacity[chosen].sum())
    # Relative tolerance: capacities and demands may be large sums of floats.
    slack = 1e-9 * max(1.0, requirement)
    if missing <= slack:
        return value, chosen
    free = np.flatnonzero(upper & ~chosen)
    if float(capacity[free].sum()) < missing - slack:
        return math.inf, lower.copy()
    sizes = capacity[free]
    if np.all(sizes == sizes[0]):
        # Equal capacities: the k cheapest, k the fewest sites that cover.
        count = math.ceil(missing / sizes[0] - 1e-9)
        take = free[np.argsort(values[free], kind="stable")[:count]]
        chosen = chosen.copy()
        chosen[take] = True
        return value + float(values[take].sum()), chosen
    scale = max(1.0, missing / _MAX_UNITS)
    units = np.ceil(sizes / scale - 1e-9).astype(np.int64)
    target = math.ceil(missing / scale - 1e-9)
    units = np.minimum(units, target)
    # best[c]: least value of free sites covering at least c units.
    best = np.full(target + 1, math.inf)
    best[0] = 0.0
    took = np.zeros((free.size, target + 1), dtype=bool)
    for k, (site, width) in enumerate(zip(free.tolist(), units.tolist(), strict=True)):
        before = np.concatenate([np.zeros(width), best[: target + 1 - width]])
        candidate = before + values[site]
        better = candidate < best
        took[k] = better
        best = np.where(better, candidate, best)
    chosen = chosen.copy()
    cell = target
    for k in range(free.size - 1, -1, -1):
        if cell > 0 and took[k, cell]:
            chosen[free[k]] = True
            cell = max(0, cell - int(units[k]))
    return value + float(best[target]), chosen
