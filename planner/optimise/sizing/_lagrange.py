r"""The sizing model's Lagrangian bound: the demand and coverage rows priced, one knapsack per site.

Constraints (1) Σ_j x_kj ≤ 1 (multiplier λ_k u_k, u_k ≥ 0: a price per unit of
demand, so that every multiplier is in euros per session/hour), (5) Σ λ_k x_kj
≥ T (v ≥ 0), (7) Σ_j n_j ≥ N (w ≥ 0), the side rows (9) lo ≤ A y ≤ hi (π ≥ 0
on each finite side) and the budget (8) (β ≥ 0) of
:mod:`planner.optimise.sizing.model` are moved into the objective. What is
left splits by site: with the value of serving a unit of row k

.. math:: ρ_k = v + P - u_k

(P the unserved penalty, 0 without one), site j's subproblem is

.. math::

    h_j = \min\Bigl(0,\ \min_{n = m}^{M_j} \tilde f_j + \tilde c_j n
          - K_j(a + μ n)\Bigr),
    \qquad \tilde f_j = (1 + β) f_j - (π^{lo} - π^{hi})·A_{·j},
    \qquad \tilde c_j = (1 + β) c_j - w,

where :math:`K_j(C)` is the continuous knapsack: the most value Σ ρ_k λ_k x_kj
with Σ λ_k x_kj ≤ C and x in [0, 1] over the rows in reach of j, filled
greedily by ρ (the 0 branch is closing the site; a fixed site must take the
inner minimum and an excluded one the 0). The Lagrangian function

.. math:: L = Σ_j h_j - Σ_k λ_k u_k + v T + w N + π^{lo}·lo - π^{hi}·hi - β B + P Λ_{all}

is a lower bound on the optimum for every multiplier ≥ 0. Each site keeps
its integral n and y, so the best multipliers give the bound of the LP over
the convex hull of each site's feasible set: the multiple-choice formulation
with one copy of the shares per charger count. That is at least the LP
relaxation with the linking rows (4) and (7), and more where it matters:
that LP lets an open site take a fractional count with its shares filling
the room in between, which no mix of whole counts allows (five default
countries, at the same row prices: the LP 64.72 M EUR, the knapsacks
66.87 M). An evaluation is a sort of the pairs, where the LP itself does
not finish within a minute at 218,000 pairs.

The multipliers are improved by deflected subgradient steps (each direction
the subgradient plus ``deflection`` times the direction before, which damps
the zigzag between rows that share sites; Polyak's rule towards the best
known plan's cost, the step factor halved after ``patience`` steps without
progress), in a metric that divides each row's component by its
demand and every other by its right-hand side, so that row prices and the
coverage price move at comparable speeds (unscaled, the coverage price
swings and the row prices hardly move: no progress in 300 steps on the
default scenario). Each evaluation ranks the rows by u once; permuting the
rows of the pattern and turning it into columns sorts every site's pairs by
ρ, and the fill of every charger count is a search in the running sums.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise.constraints import SiteRows, no_site_rows
from planner.optimise.sizing._parts import Capacity, SizingInstance, pairs_of

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: The ascent stops once its step factor, halved on every stall, falls below this.
_SMALLEST_FACTOR = 1e-3
#: Weight of the direction before in each step's direction. Measured on the
#: five default countries (218,000 pairs, 30 s, the same plan cost as target):
#: bound 66.09 M EUR without deflection (patience 40), 66.63 M with patience
#: 100; with deflection 0.6, 0.7, 0.8 (patience 60): 66.85, 66.83, 66.78 M;
#: 0.7 with patience 40 or 80: 66.47 and 66.87 M; 0.5 or 0.3: 66.60-66.68 M.
_DEFLECTION = 0.7
#: Pairs above which the ascent starts from a sample's multipliers (:func:`coarse_start`),
#: every ``_COARSE_STRIDE``-th site, which gets ``COARSE_SHARE`` of the ascent's time
#: and is followed by steps of ``WARM_FACTOR``. Measured at full scale (3.1 M pairs,
#: 14,471 sites, 40 s): 60.1 M EUR from the cold start; from the sample of every
#: fifth site (10-15 s of it), 65.4-65.5 M; random fifths 65.4-65.6 M, tenths 64.1-64.3 M,
#: twentieths 61.0 M, three tenths 60.1 M (the sample's own ascent stays at its counting
#: bound); the whole instance's steps at factor 0.1: 65.4 M, 0.5: 63.2 M, 0.03: 65.0 M.
#: On the five default countries (218,000 pairs) a sample start is no better (66.73 M
#: against 66.84 M in 30 s).
_COARSE_PAIRS = 1_000_000
_COARSE_STRIDE = 5
COARSE_SHARE = 0.3
WARM_FACTOR = 0.1
#: Seconds of steps on the working set of :func:`sifted_ascend` between two
#: evaluations over every site.
SIFT_SLICE_S = 1.0
#: Sites that may join the working set after a slice, at least (or half its size;
#: with a penalty exactly this many, see :func:`sifted_ascend`).
SIFT_JOINING = 100
#: Steps without progress before the step factor halves.
_PATIENCE = 70
#: Weight of each step's minimiser in the running average of the openings (about
#: the last 200 steps): a site's share of recent minimisers that open it, the
#: relaxation's fractional opening, from which the search rounds plans.
_OPENED_RATE = 1 / 200


@dataclass(frozen=True)
class SizingCosts:
    """What the Lagrangian needs besides the instance: costs, target and the coupling rows."""

    prices: FloatArray  # f_j
    per_charger: FloatArray  # c_j
    capacity: Capacity
    target: float  # T of row (5); 0 without the row
    chargers_needed: float  # N of row (7); 0 without the row
    penalty: float  # P, 0 without a penalty
    offset: float  # P Λ_all, the penalty of serving nobody
    must: BoolArray
    least: int
    side: SiteRows
    budget: float | None

    def objective(self, cost: float, served: float) -> float:
        """A plan's objective: its sites and chargers plus the penalty for the demand unserved."""
        return cost + self.offset - self.penalty * served


@dataclass(frozen=True)
class Multipliers:
    """One point of the dual space (see the module docstring for each)."""

    row: FloatArray  # u_k, euros per unit of demand of row k
    coverage: float  # v
    chargers: float  # w
    side_lower: FloatArray  # π^lo
    side_upper: FloatArray  # π^hi
    budget: float  # β


@dataclass(frozen=True)
class Relaxed:
    """The Lagrangian function at one point and its minimiser.

    ``value`` is a lower bound on the optimum. ``open_value`` is each site's
    best open value (the inner minimum; ``inf`` where the site cannot open),
    ``chargers`` its count there, ``is_open`` the minimiser's site choice and
    ``served`` the demand of each row its knapsacks take (over all sites).
    """

    value: float
    open_value: FloatArray
    chargers: FloatArray
    is_open: BoolArray
    served: FloatArray


class SiteKnapsacks:
    """Evaluates the Lagrangian function of one reduced sizing instance."""

    def __init__(self, inst: SizingInstance, costs: SizingCosts) -> None:
        self.inst = inst
        self.costs = costs
        pair_row, pair_site = pairs_of(inst.rows)
        self.pair_row, self.pair_site = pair_row, pair_site
        self.n_rows, self.n_sites = inst.rows.shape
        self.weight = inst.row_demand[pair_row]
        mu = costs.capacity
        limit = inst.limit
        self.can_open = (limit >= costs.least) & (limit > 0)
        if np.any(costs.must & ~self.can_open):
            raise ValueError("a fixed site cannot open")
        # Every (site, count) the subproblems compare: counts m..M_j of sites that can open.
        span = np.where(self.can_open, limit - costs.least + 1, 0).astype(np.int64)
        self.query_site = np.repeat(np.arange(self.n_sites), span)
        first = np.cumsum(span) - span
        self.query_count = (
            costs.least + np.arange(self.query_site.size) - np.repeat(first, span)
        ).astype(np.float64)
        self.query_room = mu.room(self.query_count)
        # Pair numbers (+ 1, so that none is a zero) in the rows' pattern: permuting
        # its rows and turning it into columns sorts every site's pairs by row rank.
        self.numbered = sp.csr_matrix(
            (
                np.arange(1, pair_row.size + 1, dtype=np.float64),
                inst.rows.indices,
                inst.rows.indptr,
            ),
            shape=inst.rows.shape,
        )
        self.site_start = np.concatenate(
            [[0], np.cumsum(np.bincount(pair_site, minlength=self.n_sites))]
        )
        self.sorted_site = np.repeat(np.arange(self.n_sites), np.diff(self.site_start))
        self.pair_start = self.site_start[self.sorted_site]  # first sorted pair of its site
        self.side_matrix = sp.csr_matrix(costs.side.matrix)
        self.lower_finite = np.isfinite(costs.side.lower)
        self.upper_finite = np.isfinite(costs.side.upper)

    def start(self) -> Multipliers:
        """Every row worth the cost of the cheapest full site per unit of room.

        The coverage price is that cost (0 without a target) and the row prices
        are 0, or, with a penalty, what brings v + P - u down to that cost: at
        u = 0 every row would be worth the penalty, every site would open, and
        the ascent would spend its steps climbing back (full scale with a
        penalty: the bound was still below -3e8 EUR after 130 steps).
        """
        costs = self.costs
        room = costs.capacity.room(self.inst.limit)
        usable = self.can_open & (room > 0)
        per_unit = (costs.prices + costs.per_charger * self.inst.limit) / np.where(usable, room, 1)
        cheapest = float(per_unit[usable].min()) if usable.any() else 0.0
        price = cheapest if costs.target > 0 else 0.0
        n_side = len(costs.side.lower)
        return Multipliers(
            row=np.full(self.n_rows, max(price + costs.penalty - cheapest, 0.0)),
            coverage=price,
            chargers=0.0,
            side_lower=np.zeros(n_side),
            side_upper=np.zeros(n_side),
            budget=0.0,
        )

    def evaluate(self, point: Multipliers) -> Relaxed:
        """The Lagrangian function and its minimiser at ``point``."""
        costs = self.costs
        # Every pair's value per unit of demand is v + P - u_k: ranking the rows by
        # rising u_k ranks each site's pairs by falling value, positive ones first.
        by_price = np.argsort(point.row, kind="stable")
        order = sp.csc_matrix(self.numbered[by_price]).data.astype(np.int64) - 1
        row_of = self.pair_row[order]
        rate = (point.coverage + costs.penalty - point.row)[row_of]
        weight = np.where(rate > 0, self.weight[order], 0.0)
        gain = weight * rate
        held = np.concatenate([[0.0], np.cumsum(weight)])
        worth = np.concatenate([[0.0], np.cumsum(gain)])
        start = self.site_start[self.query_site]
        stop = self.site_start[self.query_site + 1]
        goal = held[start] + self.query_room
        # Pairs [start, full) fit whole; pair `full` (if a positive one) fills the rest.
        full = np.clip(np.searchsorted(held, goal, side="right") - 1, start, stop)
        fill = worth[full] - worth[start]
        part = full < stop
        at = np.minimum(full, max(order.size - 1, 0))
        spare = np.where(part, goal - held[full], 0.0)
        fill += np.where(part & (weight[at] > 0), np.minimum(spare, weight[at]) * rate[at], 0.0)
        site_fixed, site_charger = self.reduced_costs(point)
        option = site_fixed[self.query_site] + site_charger[self.query_site] * self.query_count
        option -= fill
        best = np.full(self.n_sites, np.inf)
        np.minimum.at(best, self.query_site, option)
        pick = np.zeros(self.n_sites, dtype=np.int64)
        chosen = np.flatnonzero(option <= best[self.query_site])
        picked, first = np.unique(self.query_site[chosen], return_index=True)
        pick[picked] = chosen[first]  # the fewest chargers among equals
        is_open = self.can_open & ((best < 0) | costs.must)
        site_value = np.where(is_open, best, 0.0)
        chargers = np.where(is_open, self.query_count[pick], 0.0)
        # What each open site's knapsack takes of every pair, in the sorted order.
        room = np.where(is_open, self.query_room[pick], 0.0)[self.sorted_site]
        take = np.clip(room - (held[:-1] - held[self.pair_start]), 0.0, weight)
        served = np.bincount(row_of, weights=take, minlength=self.n_rows)
        value = float(site_value.sum()) + self.constant(point)
        return Relaxed(value, best, chargers, is_open, served)

    def reduced_costs(self, point: Multipliers) -> tuple[FloatArray, FloatArray]:
        """f̃ and c̃ of the module docstring."""
        costs = self.costs
        scale = 1.0 + point.budget
        net = point.side_lower - point.side_upper
        site_fixed = scale * costs.prices - np.asarray(self.side_matrix.T @ net).ravel()
        return site_fixed, scale * costs.per_charger - point.chargers

    def constant(self, point: Multipliers) -> float:
        costs = self.costs
        value = -float(np.dot(self.inst.row_demand, point.row))
        value += point.coverage * costs.target + point.chargers * costs.chargers_needed
        side = costs.side
        value += float(np.dot(point.side_lower[self.lower_finite], side.lower[self.lower_finite]))
        value -= float(np.dot(point.side_upper[self.upper_finite], side.upper[self.upper_finite]))
        if costs.budget is not None:
            value -= point.budget * costs.budget
        return value + costs.offset

    def subgradient(self, relaxed: Relaxed) -> Multipliers:
        """The constraints' violation by the minimiser: a subgradient at its point."""
        costs = self.costs
        row = relaxed.served - self.inst.row_demand
        covered = float(relaxed.served.sum())
        y = relaxed.is_open.astype(np.float64)
        rows_y = np.asarray(self.side_matrix @ y).ravel()
        side = costs.side
        spend = float(costs.prices @ y + costs.per_charger @ relaxed.chargers)
        return Multipliers(
            row=row,
            coverage=costs.target - covered if costs.target > 0 else 0.0,
            chargers=costs.chargers_needed - float(relaxed.chargers.sum()),
            side_lower=np.where(self.lower_finite, side.lower - rows_y, 0.0),
            side_upper=np.where(self.upper_finite, rows_y - side.upper, 0.0),
            budget=spend - costs.budget if costs.budget is not None else 0.0,
        )


def _combined(gradient: Multipliers, before: Multipliers, weight: float) -> Multipliers:
    """``gradient + weight × before``: the deflected direction."""
    return Multipliers(
        row=gradient.row + weight * before.row,
        coverage=gradient.coverage + weight * before.coverage,
        chargers=gradient.chargers + weight * before.chargers,
        side_lower=gradient.side_lower + weight * before.side_lower,
        side_upper=gradient.side_upper + weight * before.side_upper,
        budget=gradient.budget + weight * before.budget,
    )


def _step(point: Multipliers, direction: Multipliers, size: float) -> Multipliers:
    """``point + size × direction`` projected onto the non-negative multipliers."""
    return Multipliers(
        row=np.maximum(point.row + size * direction.row, 0.0),
        coverage=max(point.coverage + size * direction.coverage, 0.0),
        chargers=max(point.chargers + size * direction.chargers, 0.0),
        side_lower=np.maximum(point.side_lower + size * direction.side_lower, 0.0),
        side_upper=np.maximum(point.side_upper + size * direction.side_upper, 0.0),
        budget=max(point.budget + size * direction.budget, 0.0),
    )


def _scaled(knapsacks: SiteKnapsacks, direction: Multipliers) -> tuple[Multipliers, float]:
    """The subgradient in the metric the steps use, and its squared length there.

    A row's component is divided by its demand (a share rather than an amount
    of demand, so that small rows move as fast as large ones) and every other
    component by the size of its row's right-hand side, which keeps the
    coverage and count prices from swamping the row prices.
    """
    costs = knapsacks.costs
    demand = knapsacks.inst.row_demand
    coverage_scale = 1.0 / max(costs.target, 1e-9)
    count_scale = 1.0 / max(costs.chargers_needed, 1.0)
    site_scale = 1.0 / max(float(costs.least), 1.0) / max(knapsacks.n_sites, 1) ** 0.5
    budget_scale = 1.0 / max(costs.budget or 1.0, 1.0) ** 2
    scaled = Multipliers(
        row=direction.row / demand,
        coverage=direction.coverage * coverage_scale,
        chargers=direction.chargers * count_scale,
        side_lower=direction.side_lower * site_scale,
        side_upper=direction.side_upper * site_scale,
        budget=direction.budget * budget_scale,
    )
    length = float(
        np.dot(direction.row, scaled.row)
        + direction.coverage * scaled.coverage
        + direction.chargers * scaled.chargers
        + np.dot(direction.side_lower, scaled.side_lower)
        + np.dot(direction.side_upper, scaled.side_upper)
        + direction.budget * scaled.budget
    )
    return scaled, length


@dataclass(frozen=True)
class Ascent:
    """The best point the subgradient steps reached, and how the steps ended."""

    point: Multipliers
    relaxed: Relaxed
    iterations: int
    converged: bool  # stopped by its own rule, not by the deadline or the count
    factor: float  # the step factor reached, to go on with
    opened: FloatArray  # each site's share of the recent minimisers that open it


def ascend(
    knapsacks: SiteKnapsacks,
    point: Multipliers,
    *,
    upper: float,
    deadline: float,
    iterations: int = 2_000,
    patience: int = _PATIENCE,
    factor: float = 2.0,
    deflection: float = _DEFLECTION,
    opened: FloatArray | None = None,
) -> Ascent:
    """Subgradient steps from ``point`` (Polyak's rule towards ``upper``) until ``deadline``.

    ``opened`` carries on the average of the minimisers' openings of an ascent before.
    """
    relaxed = knapsacks.evaluate(point)
    best_point, best = point, relaxed
    share = relaxed.is_open.astype(np.float64) if opened is None else opened.copy()
    stale, done, converged = 0, 0, False
    before: Multipliers | None = None
    while done < iterations and time.perf_counter() < deadline:
        done += 1
        gradient = knapsacks.subgradient(relaxed)
        if before is not None:
            gradient = _combined(gradient, before, deflection)
        before = gradient
        direction, norm = _scaled(knapsacks, gradient)
        if norm <= 1e-18 or upper - relaxed.value <= 1e-9 * max(1.0, abs(upper)):
            converged = True
            break
        point = _step(point, direction, factor * (upper - relaxed.value) / norm)
        relaxed = knapsacks.evaluate(point)
        share += _OPENED_RATE * (relaxed.is_open - share)
        if relaxed.value > best.value + 1e-9 * max(1.0, abs(best.value)):
            best_point, best, stale = point, relaxed, 0
        else:
            stale += 1
            if stale >= patience:
                factor, stale = factor / 2, 0
                if factor < _SMALLEST_FACTOR:
                    converged = True
                    break
    logger.debug("sizing: Lagrangian bound %.6g after %d steps", best.value, done)
    return Ascent(best_point, best, done, converged, factor, share)


def sifted_ascend(
    knapsacks: SiteKnapsacks,
    point: Multipliers,
    *,
    upper: float,
    deadline: float,
    factor: float,
    opened: FloatArray | None = None,
) -> Ascent:
    """:func:`ascend` on the sites the minimisers open, every site priced between slices.

    Sites whose knapsack stays closed add nothing to the Lagrangian function,
    so the steps run on a working set: the sites open at ``point`` or in a
    recent minimiser. After each slice of ``SIFT_SLICE_S`` seconds the whole
    instance is evaluated at the slice's point: that value is a bound like
    any other, and the sites its minimiser opens join the working set (column
    generation over sites). A step on the working set costs a fraction of one
    on every site, so the same time buys many more of them.
    """
    costs = knapsacks.costs
    relaxed = knapsacks.evaluate(point)
    best_point, best = point, relaxed
    share = relaxed.is_open.astype(np.float64) if opened is None else opened.copy()
    working = relaxed.is_open | (share > 0) | costs.must
    done, converged = 0, False
    part: SiteKnapsacks | None = None  # the working set's knapsacks, rebuilt when it grows
    while time.perf_counter() < deadline:
        sites = np.flatnonzero(working)
        if part is None or part.n_sites != sites.size:
            part = SiteKnapsacks(*on_sites(knapsacks.inst, costs, sites)[:2])
        ascent = ascend(
            part,
            point,
            upper=upper,
            deadline=min(deadline, time.perf_counter() + SIFT_SLICE_S),
            factor=factor,
            opened=share[sites],
        )
        done += ascent.iterations
        factor, point = ascent.factor, ascent.point
        # Sites outside the working set were closed in every step of the slice.
        share *= (1 - _OPENED_RATE) ** ascent.iterations
        share[sites] = ascent.opened
        relaxed = knapsacks.evaluate(point)
        if relaxed.value > best.value:
            best_point, best = point, relaxed
        joining = np.flatnonzero(relaxed.is_open & ~working)
        if ascent.converged and not joining.size:
            converged = True
            break
        # The most attractive first: far from the dual optimum every site opens.
        # With a penalty the set starts at thousands of sites (at the sample's
        # prices a row is worth nearly the penalty to every site near it) and
        # half of it joining per slice soon makes it every site: full scale,
        # 30 s from the sample's point, 117.1 M EUR; with at most 300, 100 or
        # 30 sites a slice 121.2, 123.9 and 125.6 M (but 48.7 M with 10).
        most = SIFT_JOINING if costs.penalty > 0 else max(SIFT_JOINING, sites.size // 2)
        working[joining[np.argsort(relaxed.open_value[joining], kind="stable")[:most]]] = True
    logger.debug("sizing: sifted Lagrangian bound %.6g after %d steps", best.value, done)
    return Ascent(best_point, best, done, converged, factor, share)


def coarse_start(knapsacks: SiteKnapsacks, *, upper: float, deadline: float) -> Multipliers | None:
    """Multipliers from an ascent on every ``_COARSE_STRIDE``-th site, for a large instance.

    ``None`` below ``_COARSE_PAIRS`` pairs, where the ascent from the cold
    start converges in the time. Above it an evaluation is slow (0.19-0.25 s
    at 3.1 M pairs), and the steps the minute allows do not leave the counting
    bound; on a fifth of the sites each step is five times cheaper, and the
    row prices found there are a start near which the whole instance's ascent
    goes on. The sample serves the same rows, so each row keeps its price;
    a row no sampled site reaches gets a price that makes serving it worth
    nothing (v + P - u = 0), and the target and the charger count shrink with
    the demand the sample reaches. Side rows and the budget are left out of the
    sample: its multipliers are only a start, so any are valid.
    """
    inst, costs = knapsacks.inst, knapsacks.costs
    if knapsacks.pair_row.size <= _COARSE_PAIRS:
        return None
    sample = np.arange(0, knapsacks.n_sites, _COARSE_STRIDE)
    sampled, sampled_costs, _ = on_sites(inst, costs, sample)
    reached = np.diff(sampled.rows.indptr) > 0
    total = float(inst.row_demand.sum())
    share = float(inst.row_demand[reached].sum()) / total if total > 0 else 0.0
    coarse = SiteKnapsacks(
        sampled,
        replace(
            sampled_costs,
            target=costs.target * share,
            chargers_needed=math.ceil(costs.chargers_needed * share),
            side=no_site_rows(sample.size),
            budget=None,
        ),
    )
    ascent = ascend(coarse, coarse.start(), upper=upper * share, deadline=deadline)
    found = ascent.point
    neutral = found.coverage + costs.penalty
    cold = knapsacks.start()
    return replace(
        cold,
        row=np.where(reached, found.row, neutral),
        coverage=found.coverage,
        chargers=found.chargers,
    )


def on_sites(
    inst: SizingInstance, costs: SizingCosts, sites: IntArray
) -> tuple[SizingInstance, SizingCosts, IntArray]:
    """The instance with only ``sites`` (the others closed), and where each of its pairs is.

    The third array gives, for each pair of the restricted instance, its
    position in ``inst``'s pairs (to hand a restricted plan's shares back).
    """
    rows = inst.rows
    # Pair numbers (+ 1, none a zero) sliced like the rows: where each kept pair is.
    numbered = sp.csr_matrix(
        (np.arange(1, rows.nnz + 1, dtype=np.float64), rows.indices, rows.indptr),
        shape=rows.shape,
    )[:, sites]
    pair = numbered.data.astype(np.int64) - 1
    kept = sp.csr_matrix((rows.data[pair], numbered.indices, numbered.indptr), shape=numbered.shape)
    restricted_costs = replace(
        costs,
        prices=costs.prices[sites],
        per_charger=costs.per_charger[sites],
        must=costs.must[sites],
        side=costs.side.of_sites(sites),
    )
    return replace(inst, rows=kept, limit=inst.limit[sites]), restricted_costs, pair


def cost_step(prices: FloatArray, per_charger: FloatArray, penalty: float | None) -> float:
    """The largest amount every plan's cost is a whole multiple of; 0 when there is none.

    With whole-euro site and charger costs and no penalty every cost is a
    multiple of their greatest common divisor, so a bound rounds up to one.
    """
    values = np.concatenate([prices, per_charger])
    values = values[values != 0]
    if penalty is not None or values.size == 0 or np.any(np.abs(values) > 2**52):
        return 0.0
    whole = np.round(values)
    # Exactly whole: costs a hair off whole euros (20,000.00001) add up over
    # hundreds of chargers, and a rounded bound could pass the optimum.
    if np.any(values != whole):
        return 0.0
    return float(np.gcd.reduce(np.abs(whole).astype(np.int64)))


def round_up_to(bound: float, step: float) -> float:
    """``bound`` raised to the next multiple of ``step`` (unchanged without a step)."""
    if step <= 0 or not math.isfinite(bound):
        return bound
    return step * math.ceil(bound / step - 1e-9)


def fixings(relaxed: Relaxed, upper: float, must: BoolArray) -> tuple[BoolArray, BoolArray]:
    """Sites closed, and sites open, in every plan cheaper than ``upper``.

    Opening a site the minimiser leaves closed raises the Lagrangian function
    by its open value; closing an open one by minus that. When the raised
    value passes ``upper`` no plan cheaper than ``upper`` makes that change.
    """
    margin = 1e-9 * max(1.0, abs(upper))
    value, change = relaxed.value, relaxed.open_value
    closed = ~relaxed.is_open & np.isfinite(change) & (value + change > upper + margin)
    opened = relaxed.is_open & ~must & (value - change > upper + margin)
    return closed, opened
