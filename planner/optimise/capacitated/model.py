r"""Capacitated facility location: bound, plans, fixings and a proof; single sourcing from split.

The exact model (split demand: x_ij ∈ [0, 1]; single sourcing: binary)::

    min  Σ_j f_j y_j + Σ_(i,j) c_ij x_ij
    s.t. Σ_j x_ij = 1                      for every customer i        (1)
         x_ij ≤ b_ij y_j                   for linked pairs of free j  (2)
         Σ_i d_i x_ij ≤ u_j y_j            for every site j            (3)
         Σ_j u_j y_j ≥ Σ_i d_i                                         (4)
         0 ≤ x_ij ≤ b_ij;  y_j fixed where the bound proves it

Handed whole to a MILP solver, a hundred sites and a thousand customers
(100,000 pairs, as many rows (2)) found no plan in a minute: its LP alone
takes HiGHS 20 s. So:

1. **Lagrangian bound** (:mod:`._lagrange`): the assignment
   rows (1) relaxed, subgradient ascent; at its best the LP bound of the
   strong formulation or a little more (the total-capacity knapsack is
   solved in integers), in a fraction of the LP's time.
2. **Plans** (:mod:`._heuristic`): every few iterations the
   relaxation's open sites, if their capacity covers the demand, are served
   by the transportation problem. This incumbent is the subgradient's
   target. After the ascent, the site sets the relaxation cannot rule out
   are served in order of their Lagrangian value (:mod:`._enumerate`), and
   the best plan is improved by closing, opening and swapping sites in the
   order the Lagrangian site values predict. Both take at most 1.5 times
   the bound's time (and 15 % of the limit): where the exact model is quick
   they must not outlast it.
3. **Fixing**: sites whose forced opening (closing)
   lifts the bound above the incumbent stay closed (open); b_ij < 1 bounds
   the shares by the pairs' reduced costs (b_ij = 1 without a bound), which
   also strengthens (2). The pairs of closed sites go. Rows (2) only
   tighten the LP ((3) implies them for integral y), so they are written
   only for the free sites' pairs that the relaxation or the incumbent
   uses.
4. **Proof.** With split demand a branch and bound over the open sites
   with the Lagrangian bound at every node (:mod:`._branch`) takes the
   time left; its nodes' relaxations are served as plans too. With single
   sourcing (binary x_ij, which the Lagrangian bound does not see), or
   when the reduced model is small, SCIP solves the reduced model from
   the incumbent as a hint, with the time left and parameters measured on
   it (:data:`_SCIP_REDUCED`).
5. **Single sourcing**, where a site holds many customers, starts as
   split demand (steps 1–4, 30 % of the time): that optimum is a bound
   for it, and its open sites, each customer assigned whole by SCIP over
   them, a plan. Steps 1–4 on the single-sourcing model itself follow
   only when the two do not meet.

The bound reported is the best of the Lagrangian bound, the enumeration's
(when it listed every candidate set and served each exactly) and
min(tree's or reduced model's bound, incumbent): every plan the fixings cut
off costs more than the incumbent.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from planner.optimise._milp import Milp, MilpResult, MilpStatus, solve_milp
from planner.optimise.capacitated import _branch as branch
from planner.optimise.capacitated import _enumerate as enumerate_sets
from planner.optimise.capacitated import _heuristic as heuristic
from planner.optimise.capacitated import _lagrange as lagrange
from planner.optimise.capacitated._data import BoolArray, FloatArray, Pairs
from planner.optimise.solution import SolverSettings, relative_gap

logger = logging.getLogger(__name__)

# Relaxations between two calls of the Lagrangian heuristic (new site sets only).
_HEURISTIC_EVERY = 10
# On models of at most _EARLY_PLANS_PAIRS pairs, where a flow costs about a
# millisecond, a plan from each of the first _EARLY_PLANS relaxations as well:
# the steps aim at the incumbent's cost, and from the all-sites plan alone
# (cap124, 50 × 50: 1,371,390 against the optimum 946,051) they overshoot, the
# bound stays at its first value (699,071) and the ascent stops after 100
# steps; SCIP then took 0.93 s. With them the ascent reaches 942,000 and the
# whole solve 0.25 s. On 100 × 1,000 (100,000 pairs) a flow costs 0.1-0.3 s
# and the same plans slowed every seeded instance by 0.2-1.2 s.
_EARLY_PLANS = 10
_EARLY_PLANS_PAIRS = 10_000
# Share of the time so far the Lagrangian heuristic may take.
_HEURISTIC_SHARE = 0.3
# Share of the time limit the bound may take before the reduced model starts.
_BOUND_SHARE = 0.4
# Share of the time limit the local search may take after the bound: a full pass
# over capa's swaps (100 × 1,000, 6 open sites) is about 600 flows, 7 s.
_SEARCH_SHARE = 0.15
# ... and at most this many times the time the bound took: where the exact model
# is quick (50 customers: 0.1 s) the search must not outlast it.
_SEARCH_PACE = 1.5
# SCIP on the reduced model (100,000 pairs, 29 free sites, capacity ratio 1.1):
# presolving (probing, dominated columns over 100,000 columns) took 7–9 s and
# found nothing the fixings had not, and cut rounds past the fifth ~1 s each
# for 0.001 % of bound, while strong branching on a few sites closed the gap:
# 54 s with SCIP's defaults, 33 s without presolving, 22 s with five cut rounds.
_SCIP_REDUCED = "\n".join(
    [
        "presolving/maxrounds = 0",
        "propagating/maxroundsroot = 0",
        "separating/maxroundsroot = 5",
    ]
)


# Shares in the reduced model from which the tree proves split demand. At 2,500
# (50 × 50, 34 of 50 sites open) SCIP proved in 1.4 s what took the tree 456
# nodes and 8.5 s; at 35,000–100,000 (100 × 1,000) each SCIP node costs about a
# second: the tree proved OR-Library capb at 6,000 and 7,000, which SCIP did not,
# and random instances in 1.5–10.1 s against SCIP's 7.1–25.7 s.
_TREE_FROM_PAIRS = 10_000
# Single sourcing goes by way of split demand (step 5) when a site of average
# capacity holds this many customers or more: capa–capc at 100 × 1,000 hold
# 97–275. Random instances holding 15 (capacity ratio 1.5, 56 sites open) ended
# at 1.25 % that way (the split plan's sites assigned whole took SCIP 6 s for a
# plan 1.4 % above the split optimum) against 0.15–0.25 % without it.
_CUSTOMERS_PER_SITE = 40
# The split model's share of the time limit, and its gap relative to the one asked.
_SPLIT_SHARE = 0.3
_SPLIT_GAP = 0.1
# Most of the time limit for assigning each customer whole to the split plan's
# sites: on capb at 7,000 (8 sites open) SCIP took 1.1 s and came within 0.006 %
# of the split optimum, where the single-sourcing model alone ended 5.6 % above.
_ASSIGNMENT_SHARE = 0.1
# Share of the time limit the tree leaves for assembling the result.
_TREE_RESERVE = 0.01


@dataclass
class _Incumbent:
    """The best plan so far (mutable while the search runs)."""

    cost: float = math.inf
    opened: BoolArray | None = None
    shares: FloatArray | None = None

    def offer(self, opened: BoolArray, cost: float, shares: FloatArray) -> bool:
        if cost < self.cost - 1e-9 * abs(cost):
            self.cost, self.opened, self.shares = cost, opened.copy(), shares
            return True
        return False


def reduced_milp(
    pairs: Pairs,
    lower: BoolArray,
    upper: BoolArray,
    pair_upper: FloatArray,
    linked: BoolArray | None = None,
) -> tuple[Milp, np.ndarray]:
    """Constraints (1)–(4) over the pairs with b_ij > 0; also returns those pairs' indices.

    Rows (2) are written for the ``linked`` pairs only (all when ``None``).
    """
    n_sites, n_customers = pairs.n_sites, pairs.n_customers
    kept = np.flatnonzero((pair_upper > 0) & upper[pairs.site])
    n_kept = kept.size
    owner, site, bound = pairs.owner[kept], pairs.site[kept], pair_upper[kept]
    columns = n_sites + np.arange(n_kept)
    shape = n_sites + n_kept
    # Constraint (1): Σ_j x_ij = 1.
    assign = sp.csr_matrix((np.ones(n_kept), (owner, columns)), shape=(n_customers, shape))
    # Constraint (2): x_ij - b_ij y_j ≤ 0, only where y_j is free.
    free = (upper & ~lower)[site]
    if linked is not None:
        free &= linked[kept]
    links = np.flatnonzero(free)
    link = sp.csr_matrix(
        (
            np.concatenate([np.ones(links.size), -bound[links]]),
            (
                np.concatenate([np.arange(links.size), np.arange(links.size)]),
                np.concatenate([columns[links], site[links]]),
            ),
        ),
        shape=(links.size, shape),
    )
    # Constraint (3): Σ_i d_i x_ij - u_j y_j ≤ 0.
    capacity = sp.csr_matrix(
        (
            np.concatenate([pairs.demand[owner], -pairs.capacity]),
            (
                np.concatenate([site, np.arange(n_sites)]),
                np.concatenate([columns, np.arange(n_sites)]),
            ),
        ),
        shape=(n_sites, shape),
    )
    # Constraint (4): Σ_j u_j y_j ≥ Σ_i d_i.
    enough = sp.csr_matrix(np.concatenate([pairs.capacity, np.zeros(n_kept)])[np.newaxis, :])
    milp = Milp(
        objective=np.concatenate([pairs.opening, pairs.cost[kept]]),
        matrix=sp.vstack([assign, link, capacity, enough], format="csr"),
        row_lower=np.concatenate(
            [np.ones(n_customers), np.full(links.size + n_sites, -np.inf), [pairs.total_demand]]
        ),
        row_upper=np.concatenate([np.ones(n_customers), np.zeros(links.size + n_sites), [np.inf]]),
        lower=np.concatenate([lower.astype(np.float64), np.zeros(n_kept)]),
        upper=np.concatenate([upper.astype(np.float64), bound]),
        integer=np.concatenate([np.ones(n_sites, bool), np.full(n_kept, pairs.single_source)]),
    )
    return milp, kept


def _hint(milp: Milp, kept: np.ndarray, incumbent: _Incumbent) -> Milp:
    if incumbent.opened is None or incumbent.shares is None:
        return milp
    values = np.concatenate([incumbent.opened.astype(np.float64), incumbent.shares[kept]])
    return replace(milp, hint=np.clip(values, milp.lower, milp.upper))


def _by_tree(
    pairs: Pairs, settings: SolverSettings, upper: BoolArray, pair_upper: FloatArray
) -> bool:
    """Whether the Lagrangian tree (:mod:`._branch`) rather than SCIP finishes the proof.

    Not with single sourcing (module docstring), nor when ``settings`` names
    a MILP backend (the reduced model is then what is asked for), nor when
    the reduced model is small enough for SCIP's nodes to be cheap
    (:data:`_TREE_FROM_PAIRS`).
    """
    if pairs.single_source or settings.backend is not None:
        return False
    return int(np.count_nonzero((pair_upper > 0) & upper[pairs.site])) >= _TREE_FROM_PAIRS


def _solve_reduced(milp: Milp, settings: SolverSettings) -> MilpResult:
    """SCIP with :data:`_SCIP_REDUCED`, unless ``settings.backend`` names another backend."""
    if settings.backend not in (None, "scip"):
        return solve_milp(milp, settings)
    return solve_milp(milp, settings, backend="scip", extra_parameters=_SCIP_REDUCED)


def solve(pairs: Pairs, settings: SolverSettings, *, started: float) -> MilpResult:
    """The capacitated model (module docstring); values are y then x per pair, as in ``pairs``.

    Status ``OPTIMAL`` only when the bound is within ``settings.relative_gap``;
    ``INFEASIBLE`` when no plan exists; ``NO_SOLUTION`` when none was found in time.
    """
    if pairs.single_source and settings.backend is None and _fine_grained(pairs):
        return _single_source(pairs, settings, started)
    return _solve(pairs, settings, started=started)


def _fine_grained(pairs: Pairs) -> bool:
    """Whether a site of average capacity holds at least :data:`_CUSTOMERS_PER_SITE` customers.

    Then assigning customers whole costs little more than splitting them,
    and single sourcing goes by way of split demand (:func:`_single_source`).
    """
    allowed = ~pairs.excluded
    if not allowed.any() or pairs.total_demand <= 0:
        return False
    average = float(pairs.capacity[allowed].mean())
    return pairs.n_customers * average / pairs.total_demand >= _CUSTOMERS_PER_SITE


def _single_source(pairs: Pairs, settings: SolverSettings, started: float) -> MilpResult:
    """Single sourcing by way of split demand (module docstring, step 5).

    Splitting demand relaxes single sourcing, so the split model's bound is
    a bound here too, and its open sites, each customer then assigned whole
    by SCIP, give a plan. Only when the two do not meet does the single-
    sourcing model itself get the time left, from that plan.
    """
    deadline = started + settings.time_limit_s
    relaxed = _solve(
        replace(pairs, single_source=False),
        # Its own gap tighter: its bound is the floor of this one's.
        replace(
            settings,
            time_limit_s=_SPLIT_SHARE * settings.time_limit_s,
            relative_gap=_SPLIT_GAP * settings.relative_gap,
        ),
        started=started,
    )
    if relaxed.status is MilpStatus.INFEASIBLE:
        return relaxed
    floor = relaxed.bound if math.isfinite(relaxed.bound) else -math.inf
    incumbent = _Incumbent()
    if relaxed.status in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
        opened = relaxed.values[: pairs.n_sites] > 0.5
        served = heuristic.serve(pairs, opened)
        if served is not None:
            incumbent.offer(opened, *served)
        milp, kept = reduced_milp(pairs, opened, opened, np.ones(pairs.cost.size))
        remaining = min(deadline - time.perf_counter(), _ASSIGNMENT_SHARE * settings.time_limit_s)
        if remaining > 0:
            whole = _solve_reduced(
                _hint(milp, kept, incumbent), replace(settings, time_limit_s=remaining)
            )
            if whole.status in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
                shares = np.zeros(pairs.cost.size)
                shares[kept] = np.round(np.clip(whole.values[pairs.n_sites :], 0.0, 1.0))
                incumbent.offer(opened, pairs.objective(opened, shares), shares)
    if math.isfinite(incumbent.cost) and (
        relative_gap(incumbent.cost, floor) <= settings.relative_gap
        or time.perf_counter() >= deadline
    ):
        return _result(pairs, incumbent, floor, settings, started)
    return _solve(pairs, settings, started=started, incumbent=incumbent, floor=floor)


def _solve(
    pairs: Pairs,
    settings: SolverSettings,
    *,
    started: float,
    incumbent: _Incumbent | None = None,
    floor: float = -math.inf,
) -> MilpResult:
    """Steps 1–4 of the module docstring, from ``incumbent`` when one is given.

    ``floor`` is a bound known beforehand (single sourcing's split optimum):
    the bound reported is at least it.
    """
    deadline = started + settings.time_limit_s
    lower, upper = pairs.fixed.copy(), ~pairs.excluded
    incumbent = _Incumbent() if incumbent is None else incumbent
    seen: set[bytes] = set()

    spent = [0.0]  # seconds in the heuristic so far

    def try_plan(opened: BoolArray) -> None:
        key = opened.tobytes()
        if key in seen:
            return
        seen.add(key)
        begun = time.perf_counter()
        result = heuristic.serve(pairs, opened)
        spent[0] += time.perf_counter() - begun
        if result is not None:
            incumbent.offer(opened, *result)

    def serve_leaf(opened: BoolArray) -> None:
        result = heuristic.serve_exactly(pairs, opened)
        if result is not None:
            incumbent.offer(opened, *result)

    def on_relaxation(relaxation: lagrange.Knapsacks, iteration: int) -> None:
        # A flow over ~90 open sites takes 0.1–0.3 s, ten times a subgradient step:
        # plans may take only a share of the time, or the bound would starve.
        share = spent[0] / max(time.perf_counter() - started, 1e-9)
        early = iteration <= _EARLY_PLANS and pairs.cost.size <= _EARLY_PLANS_PAIRS
        if (
            iteration == 1
            or early
            or (iteration % _HEURISTIC_EVERY == 0 and share < _HEURISTIC_SHARE)
        ):
            try_plan(relaxation.chosen)

    try_plan(upper.copy())
    # The bound may take only a share of the time: the exact model needs the rest.
    bound_deadline = started + settings.time_limit_s * _BOUND_SHARE
    dual = lagrange.maximise(
        pairs,
        lower,
        upper,
        upper_bound=lambda: incumbent.cost,
        on_relaxation=on_relaxation,
        deadline=bound_deadline,
        relative_gap=settings.relative_gap,
    )
    bound = dual.relaxation.bound
    good_enough = bound + settings.relative_gap * abs(bound)
    now = time.perf_counter()
    search_until = min(
        deadline,
        now + _SEARCH_SHARE * settings.time_limit_s,
        now + _SEARCH_PACE * (now - started),
    )
    if incumbent.cost > good_enough and math.isfinite(bound):
        listed = enumerate_sets.best_of_sets(
            pairs, dual, lower, upper, incumbent.cost, deadline=search_until
        )
        if listed.opened is not None and listed.shares is not None:
            incumbent.offer(listed.opened, listed.cost, listed.shares)
        bound = max(bound, min(listed.proven_bound, incumbent.cost))
        good_enough = bound + settings.relative_gap * abs(bound)
    if incumbent.opened is not None and incumbent.shares is not None:
        # No plan cheaper than the incumbent crosses the fixings: the search need not.
        ahead = lagrange.fix_sites(pairs, dual, lower, upper, incumbent.cost)
        incumbent.offer(
            *heuristic.improve(
                pairs,
                incumbent.opened,
                incumbent.cost,
                incumbent.shares,
                values=dual.relaxation.site_values,
                fixed=lower | ahead.open,
                allowed=upper & ~ahead.closed,
                deadline=search_until,
                good_enough=good_enough,
            )
        )
    logger.debug(
        "capacitated: lagrangian bound %.6g after %d iterations, incumbent %.6g, %.2f s",
        bound,
        dual.iterations,
        incumbent.cost,
        time.perf_counter() - started,
    )
    if (
        math.isfinite(incumbent.cost)
        and relative_gap(incumbent.cost, bound) <= settings.relative_gap
    ):
        return _result(pairs, incumbent, max(bound, floor), settings, started)
    if math.isfinite(incumbent.cost):
        fixings = lagrange.fix_sites(pairs, dual, lower, upper, incumbent.cost)
        lower, upper = lower | fixings.open, upper & ~fixings.closed
        pair_upper = fixings.pair_upper
    else:
        pair_upper = np.ones(pairs.cost.size)
    logger.debug(
        "capacitated: %d sites fixed open, %d closed, %d free",
        int((lower & ~pairs.fixed).sum()),
        int((~upper & ~pairs.excluded).sum()),
        int((upper & ~lower).sum()),
    )
    if _by_tree(pairs, settings, upper, pair_upper) and math.isfinite(incumbent.cost):
        tree = branch.branch_and_bound(
            pairs,
            dual,
            lower,
            upper,
            incumbent=lambda: incumbent.cost,
            try_plan=try_plan,
            serve_leaf=serve_leaf,
            deadline=deadline - _TREE_RESERVE * settings.time_limit_s,
            relative_gap=settings.relative_gap,
        )
        # Plans cut off by the fixings cost more than the incumbent (module docstring).
        return _result(pairs, incumbent, max(bound, tree.bound, floor), settings, started)
    # Rows (2) only tighten the LP; those of pairs the relaxation or the incumbent
    # uses do nearly all of it (29,000 rows → 1,400: 54 s → 45 s in SCIP).
    linked = dual.relaxation.shares(pairs.cost.size) > 0
    if incumbent.shares is not None:
        linked |= incumbent.shares > 0
    milp, kept = reduced_milp(pairs, lower, upper, pair_upper, linked)
    # SCIP counts its time from after loading 100,000 columns and overran a
    # 40 s limit by 2.5 s on a loaded machine: leave it a margin.
    remaining = max(deadline - time.perf_counter() - 0.06 * settings.time_limit_s, 0.01)
    exact = _solve_reduced(_hint(milp, kept, incumbent), replace(settings, time_limit_s=remaining))
    if exact.status is MilpStatus.INFEASIBLE and not math.isfinite(incumbent.cost):
        return exact
    if exact.status in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
        opened = exact.values[: pairs.n_sites] > 0.5
        shares = np.zeros(pairs.cost.size)
        shares[kept] = np.clip(exact.values[pairs.n_sites :], 0.0, 1.0)
        if pairs.single_source:
            shares = np.round(shares)
        incumbent.offer(opened, pairs.objective(opened, shares), shares)
    if not math.isfinite(incumbent.cost):
        return MilpResult(MilpStatus.NO_SOLUTION, np.empty(0), math.nan, max(bound, floor), 0.0)
    # Plans cut off by the fixings cost more than the incumbent (module docstring).
    if exact.status is MilpStatus.INFEASIBLE:
        reduced_bound = incumbent.cost
    elif math.isfinite(exact.bound):
        reduced_bound = min(exact.bound, incumbent.cost)
    else:
        reduced_bound = -math.inf
    return _result(pairs, incumbent, max(bound, reduced_bound, floor), settings, started)


def _result(
    pairs: Pairs, incumbent: _Incumbent, bound: float, settings: SolverSettings, started: float
) -> MilpResult:
    assert incumbent.opened is not None and incumbent.shares is not None
    bound = min(bound, incumbent.cost)
    proven = relative_gap(incumbent.cost, bound) <= settings.relative_gap
    return MilpResult(
        MilpStatus.OPTIMAL if proven else MilpStatus.FEASIBLE,
        np.concatenate([incumbent.opened.astype(np.float64), incumbent.shares]),
        incumbent.cost,
        bound,
        time.perf_counter() - started,
    )
