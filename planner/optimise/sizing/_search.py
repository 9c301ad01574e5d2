"""The sizing model's bound and plan before the MILP: Lagrangian ascent and flow plans.

In order, within the time given:

1. the flow plan (:mod:`._heuristic`) from the greedy start's sites; with
   every row to serve and no time for the whole instance's LP relaxation,
   the rest of this search then runs on a core of sites instead (those set
   covering's relaxation prices cheapest for each row, ``core``), whose
   plans are plans of the whole instance and whose bound is not;
2. the Lagrangian ascent (:mod:`._lagrange`) towards the best plan's cost,
   from the LP relaxation's duals when every row is to be served and PDLP
   fits in the time (:mod:`._lp_prices`), else on a large instance first on
   a sample of its sites (:func:`._lagrange.coarse_start`); then in rounds,
   each round continuing from the best multipliers so far and followed by
   the flow plan from the sites its minimiser opens (a Lagrangian
   heuristic: the relaxation knows where demand is worth serving); on a
   large instance the rounds step on the sites the minimisers open and
   price every site between slices
   (:func:`._lagrange.sifted_ascend`; full scale: bound 65.50 M →
   66.15-66.25 M EUR), and leave more of the time to the kernel below.
   A bound above what any plan may cost (:func:`most_objective`) ends the
   search: there is none (``constraints.toml`` with every row served and
   200 M EUR: 22.5 s in all, from 55.4 s, before the model's counting check
   of the caps took that case in 3.6 s);
3. in the time left, flow plans from the sites that at least a share θ of the
   ascent's recent minimisers open (its fractional opening rounded at θ), for
   the θ of ``_ROUNDING_SHARES`` in turn: one minimiser opens sites that
   others close, their average is steadier (five default countries: 69.2 M EUR
   from the last minimiser, 68.3, 68.85 and 69.45 M at θ = 0.3, 0.5, 0.7).
   On a large instance, when the sites some recent minimiser opens are few,
   this whole search runs instead on those sites alone (a kernel), from the
   best plan and the ascent's multipliers: there a step costs a fortieth,
   and its plans are plans of the whole instance (full scale, 14,471 sites:
   a kernel of 160-500 sites; plans of 68.80-69.20 M EUR before it);
4. exchanges of sites and chargers on the best plan (:func:`._heuristic.exchange`)
   until none pays or the time is up;
5. the bound: the best Lagrangian value, raised to the next multiple of the
   costs' common divisor, and the sites it closes or opens in every cheaper
   plan (:func:`._lagrange.fixings`), which the MILP then leaves out.

Flow plans serve the coverage target. With a penalty the first serves what
the start serves and each later one what the relaxation's minimiser serves
(at least the target, at most 99.9 % of what every site at its limit
serves), and plans compare by their cost plus the penalty for the demand
they leave unserved.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from planner.optimise import progress
from planner.optimise.sizing._heuristic import FlowPlan, ServiceFlow, exchange, flow_plan
from planner.optimise.sizing._lagrange import (
    COARSE_SHARE,
    WARM_FACTOR,
    Multipliers,
    SiteKnapsacks,
    SizingCosts,
    ascend,
    coarse_start,
    cost_step,
    fixings,
    on_sites,
    round_up_to,
    sifted_ascend,
)
from planner.optimise.sizing._lp_prices import fits, lp_prices
from planner.optimise.sizing._parts import SizingInstance, served_demand

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Share of the time to the deadline the first flow plan may take.
_FIRST_PLAN_SHARE = 0.4
#: Seconds a flow plan takes per pair of its sites, about (three maximum flows
#: of 0.8-1.5 µs a pair, 0.75-1.4 M pairs). The first plan is not started in
#: less: from 108,000 sites it went 4.5 s past a window of 0.8 s.
_PLAN_S_PER_PAIR = 3e-6
#: Rounds of ascent, each followed by a flow plan from its minimiser's sites.
_ROUNDS = 3
#: Most of the time after the first plan that the later plans take together.
_PLANS_SHARE = 0.4
#: Shares of recent minimisers opening a site above which the rounded plans open
#: it, in the order tried; the first ``_ROUNDINGS`` have time kept for them, and
#: so have the exchanges after them (the time of one plan at least).
_ROUNDING_SHARES = (0.3, 0.5, 0.2, 0.4, 0.6, 0.15, 0.25, 0.35, 0.45, 0.7)
_ROUNDINGS = 2
#: A start opening more than this many times the best plan's sites gets no flow
#: plan: at full scale (14,471 sites) the first minimisers open 1,770 sites, and
#: a flow plan from them ends in the time given with as many.
_MOST_SITES = 4
#: Above this many pairs, and when the sites the ascent's recent minimisers open
#: are at most ``_KERNEL_SITES_SHARE`` of all, the plans after the ascent come
#: from the search on those sites alone instead of the rounded openings.
_KERNEL_PAIRS = 1_000_000
_KERNEL_SITES_SHARE = 0.25
#: Share of the recent minimisers that open a site for it to be in the kernel
#: (full scale, 50 s: 68.65-68.70 M EUR from the 1,357 sites some minimiser
#: opens or those above 0.01, 68.30-68.55 M at 0.05, 68.35 M at 0.1).
_KERNEL_OPENING = 0.05
#: With sifted rounds, the plans' worth of time they leave (full scale, 50 s:
#: plans 68.25-68.35 M EUR with 8, 68.65 M with the 3 of the rounded plans).
_SIFTED_KEPT = 8
#: With all the demand to serve, the most of the ascent's time that the LP
#: relaxation's duals may take as its start (:mod:`._lp_prices`).
_LP_SHARE = 0.5
#: With a penalty, the share of the most demand the sites can serve that a flow
#: plan aims at, at most (all of it would leave no room for the flow's rounding).
_MOST_SERVED = 0.999


@dataclass(frozen=True)
class Search:
    """What the search found: a plan cheaper than the start (or ``None``), a bound, fixings.

    ``minimiser`` is the sites the relaxation opens at the bound's multipliers.
    """

    plan: FlowPlan | None
    bound: float
    closed: BoolArray
    opened: BoolArray
    steps: int
    minimiser: BoolArray


def search(
    inst: SizingInstance,
    costs: SizingCosts,
    *,
    start: BoolArray,
    start_cost: float,
    deadline: float,
    start_served: float = 0.0,
    prices: Multipliers | None = None,
    restricted: bool = False,
    core: BoolArray | None = None,
) -> Search:
    """Run the steps of the module docstring until ``deadline``.

    ``start_served`` is the demand the start serves: with a penalty, the first
    flow plan aims at it. ``prices``, when given, are where the ascent starts
    (multipliers of the same rows: a restricted instance's search starts where
    the whole instance's ascent ended). Each better plan and, unless the
    instance is ``restricted`` (some sites left out, so its Lagrangian value
    bounds only its own plans), each better bound is noted to the open
    progress watch as it is found. ``core`` (every row to serve) is where the
    search runs instead, from the LP relaxation of those sites alone, when the
    whole instance's relaxation does not fit in the time.
    """
    began = time.perf_counter()
    best: FlowPlan | None = None
    upper = start_cost
    # With a penalty the target is the plans' own choice: first what the start
    # serves, then the demand the relaxation's minimiser serves; at least the
    # coverage target, at most a little under what every site at its limit serves.
    target, most = costs.target, costs.target
    if costs.penalty > 0:
        every = (inst.limit >= costs.least) & (inst.limit > 0)
        net = ServiceFlow(inst, costs.capacity, 0.0)
        most = max(net.serve(every, inst.limit)[0] / net.scale * _MOST_SERVED, costs.target)
        target = min(max(costs.target, start_served), most)

    def objective(plan: FlowPlan) -> float:
        return costs.objective(plan.cost, served_demand(inst, plan.shares))

    def consider(plan: FlowPlan | None) -> None:
        nonlocal best, upper
        if plan is None:
            return
        worth = objective(plan)
        if worth >= upper * (1 - 1e-12):
            return
        if costs.budget is not None and plan.cost > costs.budget * (1 + 1e-9):
            return
        best, upper = plan, worth
        progress.note(best=worth, maximise=False)

    def plan_from(sites: BoolArray, until: float) -> FlowPlan | None:
        if target <= 0:
            return None
        if best is not None and sites.sum() > _MOST_SITES * best.is_open.sum():
            return None  # early multipliers open nearly everything: no plan in the time
        return flow_plan(
            inst,
            costs.prices,
            costs.per_charger,
            costs.capacity,
            target,
            start=sites,
            must=costs.must,
            least=costs.least,
            side=costs.side,
            deadline=until,
        )

    step = cost_step(costs.prices, costs.per_charger, costs.penalty or None)
    window = _FIRST_PLAN_SHARE * (deadline - began)
    if window >= _PLAN_S_PER_PAIR * np.count_nonzero(start[inst.rows.indices]):
        consider(plan_from(start, began + window))
    if (
        core is not None
        and prices is None
        and not fits(inst.rows.nnz, _LP_SHARE * (deadline - time.perf_counter()))
    ):
        # Every row to serve and no time for the whole LP: the cold ascent would not
        # leave the counting bound (full scale: 3.06 M pairs), and its plans follow
        # it. The core's own search, LP first, finds plans of the whole instance
        # (full scale, 1,100 sites: 157.90 M EUR against 175.40 M); the bound is
        # left to the counting one.
        served = start_served if best is None else served_demand(inst, best.shares)
        from_sites = start if best is None else best.is_open
        sites = core | from_sites | costs.must
        consider(_kernel_plan(inst, costs, sites, from_sites, served, upper, None, deadline))
        no_sites = np.zeros(inst.rows.shape[1], dtype=bool)
        return Search(best, -math.inf, no_sites, no_sites, 0, from_sites)
    knapsacks = SiteKnapsacks(inst, costs)
    # Each flow plan after an ascent round gets the time the first one took, and
    # the plans together at most _PLANS_SHARE of the time left.
    first = time.perf_counter() - began
    # On a large instance the rounds step on a working set of sites. Their bound
    # levels off sooner, and the time they leave goes to the kernel's search.
    sifted = knapsacks.pair_row.size > _KERNEL_PAIRS
    # Plans whose time the rounds leave: the rounded ones and the exchanges, or the kernel's.
    kept = _SIFTED_KEPT if sifted else _ROUNDINGS + 1
    reserve = min(first, _PLANS_SHARE * max(deadline - time.perf_counter(), 0.0) / (_ROUNDS + kept))
    value, steps = -math.inf, 0
    point, factor = (knapsacks.start(), 2.0) if prices is None else (prices, WARM_FACTOR)
    relaxed = knapsacks.evaluate(point)
    if prices is None:
        now = time.perf_counter()
        rounds_end = deadline - reserve * (_ROUNDS + kept)
        warm = lp_prices(knapsacks, deadline=now + _LP_SHARE * max(rounds_end - now, 0.0))
        if warm is None:
            warm = coarse_start(
                knapsacks,
                upper=upper if math.isfinite(upper) else _goal(relaxed.value),
                deadline=now + COARSE_SHARE * max(rounds_end - now, 0.0),
            )
        if warm is not None:
            point, factor = warm, WARM_FACTOR
            relaxed = knapsacks.evaluate(point)

    dearest_plan = most_objective(inst, costs)

    def beyond_every_plan(bound: float) -> bool:
        # No plan is cheaper than the bound: above what every plan costs, or (without
        # a penalty, when the bound is on the cost itself) above the budget, there is
        # none left to find.
        return bound > dearest_plan

    openings: FloatArray | None = None
    for round_left in range(_ROUNDS, 0, -1):
        if beyond_every_plan(relaxed.value):
            break
        now = time.perf_counter()
        until = now + (deadline - reserve * (round_left + kept) - now) / round_left
        if until <= now and math.isfinite(value):
            break
        goal = upper if math.isfinite(upper) else _goal(relaxed.value)
        ascent = (sifted_ascend if sifted else ascend)(
            knapsacks, point, upper=goal, deadline=until, factor=factor, opened=openings
        )
        factor, openings = ascent.factor, ascent.opened
        steps += ascent.iterations
        stalled = ascent.converged and ascent.relaxed.value <= value + 1e-6 * abs(value)
        if ascent.relaxed.value > value:
            point, relaxed, value = ascent.point, ascent.relaxed, ascent.relaxed.value
            if not restricted:
                progress.note(bound=round_up_to(value, step), maximise=False)
        if costs.penalty > 0:
            target = min(max(costs.target, float(relaxed.served.sum())), most)
        consider(plan_from(ascent.relaxed.is_open, time.perf_counter() + reserve))
        if stalled:
            break
    kernel = _kernel(openings, best, costs.must, knapsacks.pair_row.size)
    if beyond_every_plan(relaxed.value):
        openings, kernel = None, None
    if kernel is not None and best is not None:
        # The whole time left: the search on the kernel ends with its own exchanges.
        consider(_kernel_plan(
            inst, costs, kernel, best.is_open, served_demand(inst, best.shares), upper, point,
            deadline,
        ))  # fmt: skip
    for share in _ROUNDING_SHARES if kernel is None else ():
        if openings is None or time.perf_counter() + 2 * reserve > deadline:
            break
        consider(plan_from(openings >= share, time.perf_counter() + reserve))
    if best is not None and time.perf_counter() < deadline:
        # Every exchange keeps what the plan serves, so the penalty cannot rise.
        keep = served_demand(inst, best.shares) * (1 - 1e-9) if costs.penalty > 0 else costs.target
        improved = exchange(
            inst, costs.prices, costs.per_charger, costs.capacity, keep, best,
            must=costs.must, least=costs.least, side=costs.side, deadline=deadline,
        )  # fmt: skip
        consider(improved)
    bound = round_up_to(relaxed.value, step)
    closed, opened = fixings(relaxed, upper, costs.must)
    logger.debug(
        "sizing: Lagrangian bound %.6g after %d steps, plan %.6g, %d sites closed, %d open",
        bound, steps, upper, closed.sum(), opened.sum(),
    )  # fmt: skip
    return Search(best, bound, closed, opened, steps, relaxed.is_open)


def most_objective(inst: SizingInstance, costs: SizingCosts) -> float:
    """Above the objective of every plan: each site open at its limit, no demand served.

    Without a penalty the objective is the cost, and the budget caps it too.
    """
    can_open = (inst.limit >= costs.least) & (inst.limit > 0)
    most = float(np.sum((costs.prices + costs.per_charger * inst.limit)[can_open]))
    if costs.penalty == 0 and costs.budget is not None:
        return min(most, costs.budget)
    return most + costs.offset


def _kernel(
    openings: FloatArray | None, best: FlowPlan | None, must: BoolArray, pairs: int
) -> BoolArray | None:
    """The sites recent minimisers open, the best plan's and the fixed ones; or None.

    Only on an instance above ``_KERNEL_PAIRS`` pairs and when the kernel is
    at most ``_KERNEL_SITES_SHARE`` of the sites: the search on it then runs
    as fast as on a small instance.
    """
    if openings is None or best is None or pairs <= _KERNEL_PAIRS:
        return None
    kernel = (openings >= _KERNEL_OPENING) | best.is_open | must
    if kernel.sum() > _KERNEL_SITES_SHARE * kernel.size:
        return None
    return kernel


def _kernel_plan(
    inst: SizingInstance,
    costs: SizingCosts,
    kernel: BoolArray,
    start: BoolArray,
    start_served: float,
    upper: float,
    prices: Multipliers | None,
    deadline: float,
) -> FlowPlan | None:
    """The search on the kernel's sites alone, from a plan's sites; its plan in the whole instance.

    Every plan of the kernel is a plan of the whole instance (the other sites
    closed), so only its bound is not one of the whole instance's. Without
    ``prices`` the kernel's ascent starts as a whole instance's does.
    """
    sites = np.flatnonzero(kernel)
    kernel_inst, kernel_costs, pair = on_sites(inst, costs, sites)
    found = search(
        kernel_inst,
        kernel_costs,
        start=start[sites],
        start_cost=upper,
        deadline=deadline,
        start_served=start_served,
        prices=prices,
        restricted=True,
    )
    logger.debug(
        "sizing: search on %d kernel sites, plan %s", sites.size, found.plan and found.plan.cost
    )
    if found.plan is None:
        return None
    is_open = np.zeros(kernel.size, dtype=bool)
    chargers = np.zeros(kernel.size)
    shares = np.zeros(inst.rows.nnz)
    is_open[sites], chargers[sites], shares[pair] = (
        found.plan.is_open,
        found.plan.chargers,
        found.plan.shares,
    )
    return FlowPlan(is_open, chargers, shares, found.plan.cost)


def _goal(value: float) -> float:
    """Polyak's target without a plan (penalty mode): a tenth above the value."""
    return value + 0.1 * abs(value) + 1.0
