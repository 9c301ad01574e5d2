r"""The nested roll-out as one maximal covering over (site, year) pairs.

A nested plan over years :math:`t = 1..T` is a maximal covering whose
"sites" are the pairs :math:`(j, t)` (open :math:`y_{jt}`) and whose reach
sets are the pairs :math:`(k, t)` of weight :math:`d_t W_k`, reached by the
pairs :math:`(j, t)`, :math:`j \in N_k`. Everything else is a side row over
the pairs::

    Σ_j y_jt ≤ p_t                              years with a p           (3)
    Σ_j c_j y_jt − Σ_j c_j y_j,t−1 ≤ B_t        years with a budget      (4)
    Σ_j y_jt − Σ_j y_j,t−1 ≤ q_t                years with a budget      (3b)
    lo ≤ A y_t ≤ hi                             every year               (5)
    y_jt − y_j,t+1 ≤ 0                          every free site, t < T   (2)

(numbers as in :mod:`.phased`; y_j0 = 0; (3) with p_t the smallest p of
year t or later, which nesting implies). Row (3b) holds for every integral
plan — :math:`q_t` is how many of the cheapest free sites fit in
:math:`B_t` (the first year pays for and counts the fixed ones) — but cuts
the LP: with equal site costs a budget year of the LP opened 14.5 sites
where plans open 14 (the budget scenario's LP bound 11 950.6 → 11 813.9).

So the dual-form LP of maximal covering (:class:`~._dual.CoverageDual`, one
row per pair: 3 × 1.2k on the roll-out scenarios, solved in 1–4 s where
HiGHS took 170 s on the primal nested LP) and its branch and bound
(:mod:`._bnb`: bounds :math:`B(u, λ)` valid at any multipliers, reduced-cost
fixing, strong branching, diving) apply unchanged; only the plans differ.
A plan of the search is a set of pairs; it is valued, rounded and improved
as a nested plan (:func:`._nested_solve.nested_plans`):

* value — :math:`Σ_t d_t` × the weight the year's sites cover, ``-inf``
  unless the years are nested and meet (3)–(5);
* rounding — :func:`._nested_search.nested_greedy` scored by the LP values
  of the pairs: year t keeps year t − 1's sites, repairs the side rows and
  adds the pairs of largest value while (3) and (4) allow;
* polishing — :func:`._nested_search.improve`, exchanges of opening years
  that keep the plan nested and feasible.

Reductions before, as in the single-year model: rows with identical reach
sets merge, rows covered by a fixed site leave (their weight counts every
year), and a site whose rows are a subset of another's, at the same cost and
with the same side-row columns, stays closed: in any plan that opens it the
other site can take its opening year (and it the other's), which changes no
yearly count, spend or side row and covers no less.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from planner.optimise._reduce import reduce_coverage
from planner.optimise.constraints import SiteRows, column_classes, counted_sites
from planner.optimise.coverage._dual import CoverageDual, fold_single_rows
from planner.optimise.coverage._rows import BoolArray, FloatArray, IntArray, coverage_rows


@dataclass(frozen=True)
class NestedModel:
    """The nested roll-out after the reductions, on the caller's site indices.

    A plan is the opening year of each site (-1 never).

    Attributes
    ----------
    rows, weights
        Distinct reach sets not covered by a fixed site (structure) and their weight.
    factors
        Demand factor :math:`d_t` of each year.
    caps
        Most sites open in each year (``None``: no count limit).
    budgets
        Spending budget of each year for the sites it opens (``None``: none).
    costs
        Opening cost of each site.
    fixed, closed
        Sites open from the first year; sites never opened (excluded or dominated).
    side
        Side rows, held every year.
    fixed_weight
        Weight covered by the fixed sites (in every year).
    """

    rows: sp.csr_matrix
    weights: FloatArray
    factors: FloatArray
    caps: tuple[int | None, ...]
    budgets: tuple[float | None, ...]
    costs: FloatArray
    fixed: BoolArray
    closed: BoolArray
    side: SiteRows
    fixed_weight: float

    @property
    def n_sites(self) -> int:
        return int(self.rows.shape[1])

    @property
    def n_years(self) -> int:
        return int(self.factors.size)

    @property
    def free(self) -> BoolArray:
        """Sites whose opening year is to be chosen."""
        return np.asarray(~self.fixed & ~self.closed)

    @cached_property
    def classes(self) -> IntArray:
        """A label per site, equal for equal side-row columns and cost (dominance stays within)."""
        with_cost = SiteRows(
            matrix=sp.vstack([self.side.matrix, sp.csr_matrix(self.costs[None, :])], format="csr"),
            lower=np.concatenate([self.side.lower, [-np.inf]]),
            upper=np.concatenate([self.side.upper, [np.inf]]),
            names=(*self.side.names, "cost"),
        )
        return column_classes(with_cost)

    @cached_property
    def new_caps(self) -> tuple[int | None, ...]:
        """Most sites a budget year can open: the cheapest free ones that fit (3b).

        The first year pays for the fixed sites too, and counts them.
        """
        free_costs = np.sort(self.costs[self.free])
        caps: list[int | None] = []
        for t, budget in enumerate(self.budgets):
            if budget is None:
                caps.append(None)
                continue
            left = budget - (float(self.costs[self.fixed].sum()) if t == 0 else 0.0)
            fits = int(np.searchsorted(np.cumsum(free_costs), left + 1e-9, side="right"))
            caps.append(fits + (int(self.fixed.sum()) if t == 0 else 0))
        return tuple(caps)

    def year_sites(self, opened: IntArray, year: int) -> IntArray:
        return np.flatnonzero((opened >= 0) & (opened <= year)).astype(np.int64)

    @property
    def constant(self) -> float:
        """Σ_t d_t × the fixed-covered weight: the objective's part no choice changes."""
        return float(self.factors.sum()) * self.fixed_weight

    def value(self, opened: IntArray) -> float:
        """Σ_t d_t × weight of the model's rows covered in year t (without :attr:`constant`)."""
        total = 0.0
        for t in range(self.n_years):
            chosen = np.zeros(self.n_sites)
            chosen[self.year_sites(opened, t)] = 1.0
            total += float(self.factors[t] * self.weights[(self.rows @ chosen) > 0].sum())
        return total

    def feasible(self, opened: IntArray) -> bool:
        """Whether a plan (opening year per site, -1 never) meets every limit and side row."""
        if np.any(opened[self.closed] >= 0) or np.any(opened[self.fixed] != 0):
            return False
        for t in range(self.n_years):
            open_now = self.year_sites(opened, t)
            cap, budget = self.caps[t], self.budgets[t]
            if cap is not None and open_now.size > cap:
                return False
            if budget is not None and float(self.costs[opened == t].sum()) > budget + 1e-9:
                return False
            if len(self.side) and self.side.satisfied(open_now):
                return False
        return True


def reduce_nested(
    reach: sp.csr_matrix,
    weights: FloatArray,
    *,
    factors: FloatArray,
    caps: tuple[int | None, ...],
    budgets: tuple[float | None, ...],
    costs: FloatArray,
    fixed: BoolArray,
    excluded: BoolArray,
    side: SiteRows,
    dominance_deadline: float | None = None,
) -> tuple[NestedModel, BoolArray]:
    """The reduced :class:`NestedModel` and the mask of dominated sites (module docstring).

    Past ``dominance_deadline`` (``time.perf_counter()`` seconds) the site dominance
    stops, leaving a larger but valid model.
    """
    rows, row_weights, fixed_weight, _ = coverage_rows(reach, weights, fixed, excluded)
    model = NestedModel(
        rows=rows,
        weights=row_weights,
        factors=np.asarray(factors, dtype=np.float64),
        caps=caps,
        budgets=budgets,
        costs=costs,
        fixed=fixed,
        closed=excluded,
        side=side,
        fixed_weight=fixed_weight,
    )
    rows, row_weights, dominated = reduce_coverage(
        rows,
        row_weights,
        costs,
        ~fixed & ~excluded,
        drop_implied_rows=False,
        classes=model.classes,
        kept=counted_sites(side) if len(side) else None,
        dominance_deadline=dominance_deadline,
    )
    reduced = NestedModel(
        rows=rows,
        weights=row_weights,
        factors=model.factors,
        caps=caps,
        budgets=budgets,
        costs=costs,
        fixed=fixed,
        closed=excluded | dominated,
        side=side,
        fixed_weight=fixed_weight,
    )
    return reduced, dominated


def pairs_dual(model: NestedModel) -> CoverageDual:
    """The dual-form LP over (site, year) pairs; pair ``t * n_sites + j`` is site j in year t."""
    n_sites, n_years = model.n_sites, model.n_years
    rows, weights, site_weight = fold_single_rows(model.rows, model.weights)
    eye = sp.identity(n_years, format="csr")
    pair_rows = sp.csr_matrix(sp.kron(eye, rows, format="csr"))
    pair_weights = np.asarray(np.kron(model.factors, weights), dtype=np.float64)
    pair_site_weight = np.asarray(np.kron(model.factors, site_weight), dtype=np.float64)
    parts: list[sp.csr_matrix] = []
    lower: list[FloatArray] = []
    upper: list[FloatArray] = []

    def in_year(block: sp.spmatrix, year: int) -> sp.csr_matrix:
        """``block`` (columns = sites) placed on year ``year``'s pairs."""
        unit = sp.csr_matrix(([1.0], ([0], [year])), shape=(1, n_years))
        return sp.csr_matrix(sp.kron(unit, block, format="csr"))

    ones = sp.csr_matrix(np.ones((1, n_sites)))
    cost_row = sp.csr_matrix(model.costs[None, :])
    for t in range(n_years):
        cap, budget = model.caps[t], model.budgets[t]
        if cap is not None:
            # Constraint (3).
            parts.append(in_year(ones, t))
            lower.append(np.array([-np.inf]))
            upper.append(np.array([float(cap)]))
        if budget is not None:
            # Constraint (4): the fixed sites are paid in the first year.
            spend = in_year(cost_row, t)
            if t > 0:
                spend = sp.csr_matrix(spend - in_year(cost_row, t - 1))
            parts.append(spend)
            lower.append(np.array([-np.inf]))
            upper.append(np.array([float(budget)]))
            # Constraint (3b): the sites the budget can pay for at most, counted.
            count = in_year(ones, t)
            if t > 0:
                count = sp.csr_matrix(count - in_year(ones, t - 1))
            parts.append(count)
            lower.append(np.array([-np.inf]))
            upper.append(np.array([float(model.new_caps[t] or 0)]))
        if len(model.side):
            # Constraint (5).
            parts.append(in_year(model.side.matrix, t))
            lower.append(model.side.lower)
            upper.append(model.side.upper)
    free = np.flatnonzero(model.free)
    if n_years > 1 and free.size:
        # Constraint (2), for the free sites only (the others are bounded alike every year).
        pick = sp.csr_matrix(
            (np.ones(free.size), (np.arange(free.size), free)), shape=(free.size, n_sites)
        )
        for t in range(n_years - 1):
            parts.append(sp.csr_matrix(in_year(pick, t) - in_year(pick, t + 1)))
            lower.append(np.full(free.size, -np.inf))
            upper.append(np.zeros(free.size))
    return CoverageDual(
        pair_rows,
        pair_weights,
        pair_site_weight,
        sp.csr_matrix(sp.vstack(parts, format="csr")),
        np.concatenate(lower),
        np.concatenate(upper),
        np.tile(model.free, n_years),
        np.tile(model.fixed, n_years),
    )


def opened_from_pairs(model: NestedModel, pairs: IntArray) -> IntArray:
    """Opening year per site from a set of (site, year) pairs: its first year."""
    opened = np.full(model.n_sites, -1, dtype=np.int64)
    years, sites = np.divmod(np.asarray(pairs, dtype=np.int64), model.n_sites)
    order = np.argsort(-years, kind="stable")
    opened[sites[order]] = years[order]
    return opened


def pairs_from_opened(model: NestedModel, opened: IntArray) -> IntArray:
    """The (site, year) pairs of a plan: site j in every year from its opening year."""
    pairs = [t * model.n_sites + model.year_sites(opened, t) for t in range(model.n_years)]
    return np.concatenate(pairs).astype(np.int64)
