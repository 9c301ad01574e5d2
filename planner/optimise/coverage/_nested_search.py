r"""Heuristics for nested roll-out plans: a greedy that respects the side rows, and swaps.

Greedy (the start, and the rounding of LP values in the branch and bound):
year by year, it first repairs the side rows — opens the sites that reduce
their violation most (country minimums, brand shares) — then adds the site
of best score among those that keep every side row satisfied, while the
year's p and budget allow. The score is the marginal covered weight (per
euro in budget years) or, when rounding, the LP value of the (site, year)
pair.

Local search: exchanges of opening years. Site b, opening in year r (or
never, r = T), takes the opening year s < r of a site a, and a takes r: in
the years s..r−1, b is open instead of a, every other year is as before, so
every yearly count holds. An exchange is allowed when the side rows still
hold in those years and the spends of years s and r (c_b − c_a more and
less) stay within their budgets. The change of Σ_t d_t covered_t is, summed
over those years, the weight b newly covers minus the weight only a covers
outside b's rows — the swap move of maximal covering
(:func:`~planner.optimise.heuristics.swap_coverage`) with per-year cover
counts. For each b the best allowed (a, s) is taken when it gains; passes
repeat until none does.

Measured on the scenarios' greedy plans: swaps within one year's layer (the
single-year swap with the other years held) did not move the budget
scenario's plan (11 531.8); exchanges within classes of equal side-row
columns and cost reached 11 640.4, exchanges checked against the side rows
11 661.6 (roll-out: 12 769.7 → 12 888.9 → 12 913.4).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise.coverage._nested import NestedModel
from planner.optimise.coverage._rows import FloatArray, IntArray

#: Passes over the candidate sites; each improves the plan or ends the search.
MAX_PASSES = 5


def improve(model: NestedModel, opened: IntArray) -> IntArray:
    """The plan after exchanges of opening years (module docstring); a new array."""
    opened = np.asarray(opened, dtype=np.int64).copy()
    rows, weights, factors = model.rows, model.weights, model.factors
    n_years, n_sites = model.n_years, model.n_sites
    by_site = sp.csc_matrix(rows)
    side = model.side
    columns = side.matrix.toarray() if len(side) else np.zeros((0, n_sites))
    # Side-row values and spend per year, kept as exchanges change them.
    values = np.stack(
        [columns @ ((opened >= 0) & (opened <= t)).astype(np.float64) for t in range(n_years)],
        axis=1,
    ).reshape(columns.shape[0], n_years)
    spend = np.array([float(model.costs[opened == t].sum()) for t in range(n_years)])
    budgets = np.array([np.inf if b is None else b for b in model.budgets])
    free = model.free
    # Per year and row: how many open sites cover it, and the sum of their indices
    # (the one site, where only one does).
    count = np.zeros((n_years, rows.shape[0]), dtype=np.int64)
    owner = np.zeros((n_years, rows.shape[0]), dtype=np.int64)

    def members(site: int) -> npt.NDArray[np.int32]:
        return by_site.indices[by_site.indptr[site] : by_site.indptr[site + 1]]

    def toggle(site: int, first: int, last: int, step: int) -> None:
        """Open (``step`` 1) or close (-1) ``site`` in the years first..last−1."""
        covered = members(site)
        count[first:last, covered[None, :]] += step
        owner[first:last, covered[None, :]] += step * site

    for site in np.flatnonzero(opened >= 0).tolist():
        toggle(site, int(opened[site]), n_years, 1)
    tolerance = 1e-9 * max(1.0, float(factors.sum() * weights.sum()))

    def losses() -> FloatArray:
        """Per year and site, the weight only that site covers."""
        loss = np.zeros((n_years, n_sites))
        for t in range(n_years):
            only = count[t] == 1
            loss[t] = np.bincount(owner[t][only], weights=weights[only], minlength=n_sites)
        return loss

    loss = losses()
    for _ in range(MAX_PASSES):
        improved = False
        for b in np.flatnonzero(free & (opened != 0)).tolist():
            r = int(opened[b]) if opened[b] >= 0 else n_years
            rows_b = members(b)
            gains = np.array(
                [factors[t] * weights[rows_b[count[t, rows_b] == 0]].sum() for t in range(r)]
            )
            if gains.sum() <= tolerance:
                continue
            best_gain, best_a, best_s = tolerance, -1, -1
            net = np.zeros(n_sites)
            for s in reversed(range(r)):
                # net: loss of each site over the years s..r−1, less what b covers of it.
                singles = rows_b[count[s, rows_b] == 1]
                net += factors[s] * loss[s]
                np.subtract.at(net, owner[s, singles], factors[s] * weights[singles])
                pool = np.flatnonzero((opened == s) & free)
                # Only the exchanges that would gain need the (slower) feasibility check.
                pool = pool[gains[s:].sum() - net[pool] > best_gain]
                if pool.size == 0:
                    continue
                pool = pool[_exchangeable(model, columns, values, spend, budgets, pool, b, s, r)]
                if pool.size == 0:
                    continue
                a = int(pool[np.argmin(net[pool])])
                best_gain, best_a, best_s = float(gains[s:].sum() - net[a]), a, s
            if best_a < 0:
                continue
            toggle(best_a, best_s, r, -1)
            toggle(b, best_s, r, 1)
            values[:, best_s:r] += (columns[:, b] - columns[:, best_a])[:, None]
            spend[best_s] += model.costs[b] - model.costs[best_a]
            if r < n_years:
                spend[r] += model.costs[best_a] - model.costs[b]
            opened[best_a] = r if r < n_years else -1
            opened[b] = best_s
            loss = losses()
            improved = True
        if not improved:
            break
    return opened


def _exchangeable(
    model: NestedModel,
    columns: FloatArray,
    values: FloatArray,
    spend: FloatArray,
    budgets: FloatArray,
    pool: IntArray,
    b: int,
    s: int,
    r: int,
) -> npt.NDArray[np.bool_]:
    """Which sites ``a`` of ``pool`` (opening in year s) b may exchange years with.

    In the years s..r−1 the side rows change by b's column less a's; year s
    spends c_b − c_a more and year r (if any) as much less.
    """
    ok = np.ones(pool.size, dtype=bool)
    costs = model.costs
    ok &= spend[s] + costs[b] - costs[pool] <= budgets[s] + 1e-9
    if r < model.n_years:
        ok &= spend[r] + costs[pool] - costs[b] <= budgets[r] + 1e-9
    if columns.shape[0]:
        change = columns[:, [b]] - columns[:, pool]
        for t in range(s, r):
            after = values[:, [t]] + change
            side = model.side
            ok &= np.all(
                (after >= side.lower[:, None] - 1e-9) & (after <= side.upper[:, None] + 1e-9),
                axis=0,
            )
    return ok


def nested_greedy(model: NestedModel, scores: FloatArray | None = None) -> IntArray:
    """The greedy of the module docstring; ``scores[t, j]`` replaces the marginal weight.

    With ``scores``, only sites of positive score open (beyond the repairs).
    """
    rows, weights, costs = model.rows, model.weights, model.costs
    by_site = sp.csc_matrix(rows)
    n_sites = model.n_sites
    side = model.side
    opened = np.where(model.fixed, 0, -1).astype(np.int64)
    uncovered = np.ones(rows.shape[0], dtype=bool)
    if model.fixed.any():
        uncovered &= np.asarray(rows[:, np.flatnonzero(model.fixed)].sum(axis=1)).ravel() == 0
    coefficients = side.matrix.toarray() if len(side) else np.zeros((0, n_sites))

    def violation(values: FloatArray) -> FloatArray:
        """Summed violation of the side rows for each column of row values."""
        low = np.maximum(side.lower[:, None] - values, 0.0)
        high = np.maximum(values - side.upper[:, None], 0.0)
        return np.asarray(low.sum(axis=0) + high.sum(axis=0), dtype=np.float64)

    for t in range(model.n_years):
        cap, budget = model.caps[t], model.budgets[t]
        spent = float(costs[model.fixed].sum()) if t == 0 else 0.0
        while True:
            is_open = opened >= 0
            if cap is not None and int(is_open.sum()) >= cap:
                break
            values = coefficients @ is_open.astype(np.float64)
            now = float(violation(values[:, None])[0]) if len(side) else 0.0
            after = violation(values[:, None] + coefficients) if len(side) else np.zeros(n_sites)
            allowed = ~is_open & model.free
            if budget is not None:
                allowed &= spent + costs <= budget + 1e-9
            if scores is None:
                gains = np.asarray(by_site.T @ (weights * uncovered)).ravel()
                score = gains / np.maximum(costs, 1e-12) if budget is not None else gains
            else:
                score = scores[t]
            if now > 1e-9:
                # Repair first: among the sites reducing the violation most, the best score.
                candidates = allowed & (after < now - 1e-9)
                if not candidates.any():
                    break
                candidates &= after <= after[candidates].min() + 1e-9
            else:
                candidates = allowed & (after <= 1e-9) & (score > 1e-12)
                if not candidates.any():
                    break
            best = int(np.argmax(np.where(candidates, score, -np.inf)))
            opened[best] = t
            spent += float(costs[best])
            uncovered[by_site.indices[by_site.indptr[best] : by_site.indptr[best + 1]]] = False
    return opened
