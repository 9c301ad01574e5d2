r"""A plan for the sizing model from maximum flows: few sites, full chargers.

When the demand may split between the sites in reach, whether a set S of
open sites with charger counts n can serve the target T is a maximum-flow
question on the network

    source → row k (capacity λ_k) → site j ∈ S in reach (λ_k) → sink (a + μ n_j),

and at the least cost most open sites carry their charger limit, full: the
cheapest capacity is a full site (the site cost spread over the most
chargers, and a ≤ 0 charged once). The heuristic therefore searches over the
open set with every site at its limit and sizes the chargers last:

1. start from a given set (the greedy start), adding the site that reaches the
   most unserved demand per euro while the flow is short of T;
2. drop sites, least loaded per euro first, while the flow still reaches T and
   the side rows are no further from holding (so a start with too many sites
   in a country or brand comes down to its bound);
3. try to do with one site less: drop the least loaded one (failing that the
   next, up to ``_DROPS``), then swap in the site reaching the most unserved
   demand per euro for the least loaded other, up to ``_SWAPS`` times, until
   the flow reaches T again (kept) or not (undone); repeat while it works;
4. lower the chargers, first to what the loads of the flow at full capacity
   need, then one at a time, from the site with the most room to spare, while
   the flow still reaches T.

A plan can then be improved by exchanges (:func:`exchange`), which price the
chargers as well as the sites: close an open site (least loaded per euro
first), open instead one of the closed sites reaching the most demand left
unserved per euro with the chargers that demand needs, add chargers one at a
time where they serve most until the flow reaches T again, lower the chargers
as in step 4 and keep the change if the plan costs less; repeat until no
exchange pays or the time is up.

Flows are computed by Dinic's algorithm (:func:`scipy.sparse.csgraph.maximum_flow`)
in whole units of ``1 / scale`` of a session per hour, each capacity rounded
down, so a flow that reaches ⌈T × scale⌉ serves at least T with every share
at most 1 and every site within its capacity. The plan is a start for the
solver and a fallback; its cost is recomputed by the model's evaluator.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_flow

from planner.optimise.constraints import SiteRows
from planner.optimise.sizing._parts import Capacity, SizingInstance, pairs_of

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Reaches = Callable[[npt.NDArray[np.bool_]], tuple[bool, npt.NDArray[np.float64]]]
Holds = Callable[[npt.NDArray[np.bool_]], bool]

#: Capacities are whole units; the largest total flow stays below 2**31.
_UNITS = 1.5e9
#: Swaps tried for each attempt to do with one site less.
_SWAPS = 6
#: Share of the time the choice of sites may take; the chargers get the rest.
_SITES_SHARE = 0.7
#: Sites tried for closing in each attempt to do with one site less.
_DROPS = 12
#: Closed sites tried in place of each open one by the exchanges. On the five
#: default countries, plans of 68.3-68.9 M EUR came down by 0.15-0.45 M in 5-8 s.
_EXCHANGE_CANDIDATES = 6


@dataclass(frozen=True)
class FlowPlan:
    """Open sites, chargers and the pair shares (instance order) of a plan."""

    is_open: BoolArray
    chargers: FloatArray
    shares: FloatArray
    cost: float


class ServiceFlow:
    """Maximum flows of one reduced instance for any open set and charger counts."""

    def __init__(self, inst: SizingInstance, capacity: Capacity, target: float) -> None:
        self.inst = inst
        self.capacity = capacity
        self.pair_row, self.pair_site = pairs_of(inst.rows)
        self.n_rows, self.n_sites = inst.rows.shape
        total = float(inst.row_demand.sum())
        self.scale = _UNITS / max(total, 1e-12)
        self.row_units = np.floor(inst.row_demand * self.scale).astype(np.int64)
        self.goal = math.ceil(target * self.scale - 1e-9) if target > 0 else 0
        # A hair below the capacity line: a plan filled exactly to it would sit
        # on the waiting target, and rounding could put it a millionth over.
        self.room_share = 1 - 1e-6
        whole = int(self.row_units.sum())
        if whole < self.goal and target <= total and np.all(self.row_units > 0):
            # A flow that fills every row's (rounded-down) units serves all
            # the demand, its shares being read against those units: with every
            # row to serve, ⌈T × scale⌉ lay above that total and no flow plan
            # could reach it (the default network's plan stayed the greedy
            # start's). A row below one unit could not be served at all, and
            # on a kernel of sites (rows left out) all its rows fall short of T.
            self.goal = whole
            # A unit of row k is then worth λ_k / ⌊λ_k × scale⌋, up to 1 + 1/u
            # units of demand for a row of u units: the sites keep that much
            # room, else the plan's loads were trimmed to their rooms and it
            # fell a millionth short of serving every row.
            self.room_share -= 1.0 / float(self.row_units.min())
        self.sink = self.n_rows + self.n_sites + 1
        numbered = np.arange(1, self.pair_row.size + 1, dtype=np.float64)
        self.by_site = sp.csc_matrix(
            sp.csr_matrix((numbered, inst.rows.indices, inst.rows.indptr), shape=inst.rows.shape)
        )

    def room_units(self, chargers: FloatArray) -> IntArray:
        # No site takes more than all the demand, which keeps capacities within int32.
        room = np.minimum(self.capacity.room(chargers) * self.scale * self.room_share, _UNITS)
        return np.floor(room).astype(np.int64)

    def serve(self, is_open: BoolArray, chargers: FloatArray) -> tuple[int, FloatArray]:
        """Most demand (in units) the open sites serve, and the flow of every pair (units)."""
        sites = np.flatnonzero(is_open & (chargers > 0))
        flows = np.zeros(self.pair_row.size)
        if sites.size == 0:
            return 0, flows
        block = self.by_site[:, sites]
        pairs = block.data.astype(np.int64) - 1
        if pairs.size == 0:
            return 0, flows
        rows = self.pair_row[pairs]
        room = self.room_units(chargers[sites])
        source_rows = np.unique(rows)
        tail = np.concatenate([np.zeros(source_rows.size, np.int64), 1 + rows,
                               1 + self.n_rows + sites])  # fmt: skip
        head = np.concatenate([1 + source_rows, 1 + self.n_rows + self.pair_site[pairs],
                               np.full(sites.size, self.sink)])  # fmt: skip
        cap = np.concatenate([self.row_units[source_rows], self.row_units[rows], room])
        # Edges without capacity stay out: scipy checks stored zeros the slow way.
        keep = cap > 0
        graph = sp.csr_array(
            (cap[keep].astype(np.int32), (tail[keep], head[keep])),
            shape=(self.sink + 1, self.sink + 1),
        )
        result = maximum_flow(graph, 0, self.sink, method="dinic")
        flow = sp.csr_array(result.flow)
        # The pair edges' flows, read back in the order of ``pairs``.
        values = np.asarray(flow[1 + rows, 1 + self.n_rows + self.pair_site[pairs]]).ravel()
        flows[pairs] = np.maximum(values, 0.0)
        return int(result.flow_value), flows

    def site_load(self, flows: FloatArray) -> FloatArray:
        return np.bincount(self.pair_site, weights=flows, minlength=self.n_sites)

    def unserved_reach(self, flows: FloatArray) -> FloatArray:
        """Demand (units) not yet served within reach of each site."""
        served = np.bincount(self.pair_row, weights=flows, minlength=self.n_rows)
        left = np.maximum(self.row_units - served, 0.0)
        return np.asarray(self.inst.rows.T @ left).ravel()

    def shares(self, flows: FloatArray) -> FloatArray:
        units = self.row_units[self.pair_row].astype(np.float64)
        return np.where(units > 0, np.minimum(flows / np.maximum(units, 1.0), 1.0), 0.0)


def flow_plan(
    inst: SizingInstance,
    prices: FloatArray,
    per_charger: FloatArray,
    capacity: Capacity,
    target: float,
    *,
    start: BoolArray,
    must: BoolArray,
    least: int,
    side: SiteRows,
    deadline: float,
) -> FlowPlan | None:
    """The plan of the module docstring, or ``None`` when no feasible one was found."""
    if target <= 0:
        return None
    # The chargers are sized in the last part of the time, whatever the sites took.
    sizing_from = time.perf_counter() + _SITES_SHARE * max(deadline - time.perf_counter(), 0.0)
    net = ServiceFlow(inst, capacity, target)
    allowed = inst.limit >= least
    full = np.where(allowed, inst.limit, 0.0)
    is_open = (start | must) & allowed

    def reaches(candidate: BoolArray) -> tuple[bool, FloatArray]:
        value, flows = net.serve(candidate, full)
        return value >= net.goal, flows

    def sides_hold(candidate: BoolArray) -> bool:
        return not side.satisfied(np.flatnonzero(candidate))

    enough, flows = reaches(is_open)
    while not enough:
        gain = np.minimum(net.unserved_reach(flows), net.room_units(full))
        score = np.where(allowed & ~is_open & (gain > 0), gain / np.maximum(prices, 1.0), -1.0)
        best = int(np.argmax(score))
        if score[best] <= 0 or time.perf_counter() > deadline:
            return None
        is_open[best] = True
        enough, flows = reaches(is_open)

    def excess(candidate: BoolArray) -> float:
        return side.excess(np.flatnonzero(candidate))

    is_open, flows = _drop(net, is_open, flows, must, prices, reaches, excess, sizing_from)
    while time.perf_counter() < sizing_from:
        smaller = _one_less(net, is_open, flows, must, allowed, prices, reaches, sides_hold,
                            sizing_from)  # fmt: skip
        if smaller is None:
            break
        is_open, flows = smaller
    if not sides_hold(is_open):
        return None
    chargers = _fewest_chargers(net, is_open, full, flows, least, deadline)
    value, flows = net.serve(is_open, chargers)
    if value < net.goal:
        return None
    cost = float(prices @ is_open + per_charger @ chargers)
    logger.debug("sizing: flow plan of %d sites, %d chargers", is_open.sum(), chargers.sum())
    return FlowPlan(is_open, chargers, net.shares(flows), cost)


def _drop(
    net: ServiceFlow,
    is_open: BoolArray,
    flows: FloatArray,
    must: BoolArray,
    prices: FloatArray,
    reaches: Reaches,
    excess: Callable[[BoolArray], float],
    deadline: float,
) -> tuple[BoolArray, FloatArray]:
    """Close sites, least loaded per euro first, while the target holds and the side rows
    are no further from holding (a start above an upper bound, too many sites in a
    country, comes down to it; one that meets them keeps meeting them).
    """
    order = np.argsort(net.site_load(flows) / np.maximum(prices, 1.0), kind="stable")
    outside = excess(is_open)
    # Outside the rows, first only the drops that bring the plan closer to them.
    for closer in (True, False) if outside > 0 else (False,):
        for site in order:
            if time.perf_counter() > deadline:
                break
            if not is_open[site] or must[site]:
                continue
            trial = is_open.copy()
            trial[site] = False
            after = excess(trial)
            if after > outside or (closer and after == outside):
                continue
            enough, trial_flows = reaches(trial)
            if enough:
                is_open, flows, outside = trial, trial_flows, after
    return is_open, flows


def _one_less(
    net: ServiceFlow,
    is_open: BoolArray,
    flows: FloatArray,
    must: BoolArray,
    allowed: BoolArray,
    prices: FloatArray,
    reaches: Reaches,
    sides_hold: Holds,
    deadline: float,
) -> tuple[BoolArray, FloatArray] | None:
    """The open set with one site less that still reaches the target, or ``None``.

    Each of the least loaded sites (per euro) in turn is closed and repaired by swaps.
    """
    for site in _least_loaded(net, flows, is_open & ~must, prices)[:_DROPS]:
        trial = is_open.copy()
        trial[site] = False
        repaired = _repair(net, trial, must, allowed, prices, reaches, sides_hold, deadline)
        if repaired is not None:
            return repaired
    return None


def _least_loaded(
    net: ServiceFlow, flows: FloatArray, candidates: BoolArray, spend: FloatArray
) -> IntArray:
    """The candidate sites by load per euro of ``spend``, least loaded first."""
    load = net.site_load(flows) / np.maximum(spend, 1.0)
    sites = np.flatnonzero(candidates)
    return sites[np.argsort(load[sites], kind="stable")]


def _repair(
    net: ServiceFlow,
    trial: BoolArray,
    must: BoolArray,
    allowed: BoolArray,
    prices: FloatArray,
    reaches: Reaches,
    sides_hold: Holds,
    deadline: float,
) -> tuple[BoolArray, FloatArray] | None:
    """Swaps (the site reaching most unserved demand in, the least loaded out) until T is met."""
    enough, trial_flows = reaches(trial)
    added = np.zeros_like(trial)
    for _ in range(_SWAPS):
        if enough and sides_hold(trial):
            return trial, trial_flows
        if time.perf_counter() > deadline:
            return None
        gain = np.minimum(net.unserved_reach(trial_flows), net.room_units(net.inst.limit))
        score = np.where(allowed & ~trial & ~added & (gain > 0), gain / np.maximum(prices, 1.0), -1)
        best = int(np.argmax(score))
        if score[best] <= 0:
            return None
        trial[best] = added[best] = True
        _, trial_flows = reaches(trial)
        load = net.site_load(trial_flows)
        others = np.flatnonzero(trial & ~must & ~added)
        if others.size == 0:
            return None
        trial[others[np.argmin(load[others] / np.maximum(prices[others], 1.0))]] = False
        enough, trial_flows = reaches(trial)
    return (trial, trial_flows) if enough and sides_hold(trial) else None


def _fewest_chargers(
    net: ServiceFlow,
    is_open: BoolArray,
    full: FloatArray,
    flows: FloatArray,
    least: int,
    deadline: float,
) -> FloatArray:
    """Charger counts of the open sites, lowered one at a time while the flow reaches T."""
    chargers = np.where(is_open, full, 0.0)
    # The loads of a flow at full capacity fix a first, safe lowering.
    need = net.capacity.chargers_for(net.site_load(flows) / net.scale)
    trial = np.where(is_open, np.clip(need, least, full), 0.0)
    value, trial_flows = net.serve(is_open, trial)
    if value >= net.goal:
        chargers, flows = trial, trial_flows
    blocked = ~is_open | (chargers <= least)
    while not blocked.all() and time.perf_counter() < deadline:
        spare = net.room_units(chargers) - net.site_load(flows)
        site = int(np.argmax(np.where(blocked, -np.inf, spare)))
        trial = chargers.copy()
        trial[site] -= 1
        value, trial_flows = net.serve(is_open, trial)
        if value >= net.goal:
            chargers, flows = trial, trial_flows
            blocked[site] = chargers[site] <= least
        else:
            blocked[site] = True
    return chargers


def exchange(
    inst: SizingInstance,
    prices: FloatArray,
    per_charger: FloatArray,
    capacity: Capacity,
    target: float,
    plan: FlowPlan,
    *,
    must: BoolArray,
    least: int,
    side: SiteRows,
    deadline: float,
) -> FlowPlan:
    """``plan`` improved by the exchanges of the module docstring (``plan`` itself if none pays)."""
    net = ServiceFlow(inst, capacity, target)
    allowed = inst.limit >= least
    full = np.where(allowed, inst.limit, 0.0)
    is_open, chargers, cost = plan.is_open.copy(), plan.chargers.copy(), plan.cost
    value, flows = net.serve(is_open, chargers)
    if value < net.goal:
        return plan
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        spend = prices + per_charger * chargers
        for site in _least_loaded(net, flows, is_open & ~must, spend):
            if time.perf_counter() > deadline:
                break
            found = _exchange_one(
                net, is_open, chargers, int(site), full, prices, per_charger, least, side, deadline
            )
            if found is not None and found[2] < cost * (1 - 1e-12):
                is_open, chargers, cost = found
                _, flows = net.serve(is_open, chargers)
                improved = True
                break
    if cost >= plan.cost:
        return plan
    logger.debug("sizing: exchanges took the plan from %.6g to %.6g", plan.cost, cost)
    return FlowPlan(is_open, chargers, net.shares(flows), cost)


def _exchange_one(
    net: ServiceFlow,
    is_open: BoolArray,
    chargers: FloatArray,
    site: int,
    full: FloatArray,
    prices: FloatArray,
    per_charger: FloatArray,
    least: int,
    side: SiteRows,
    deadline: float,
) -> tuple[BoolArray, FloatArray, float] | None:
    """The cheapest plan found with ``site`` closed and one closed site opened, or ``None``."""
    closed, left = is_open.copy(), chargers.copy()
    closed[site], left[site] = False, 0.0
    _, flows = net.serve(closed, left)
    unserved = net.unserved_reach(flows)
    saved = prices[site] + per_charger[site] * chargers[site]
    others = np.flatnonzero(~closed & (full > 0) & (unserved > 0))
    others = others[others != site]
    if others.size == 0:
        return None
    takes = np.minimum(unserved[others] / net.scale, net.capacity.room(full[others]))
    wanted = np.clip(net.capacity.chargers_for(takes), least, full[others])
    opening = prices[others] + per_charger[others] * wanted
    rank = np.argsort(-unserved[others] / np.maximum(opening, 1.0), kind="stable")
    best: tuple[BoolArray, FloatArray, float] | None = None
    for pick in rank[:_EXCHANGE_CANDIDATES]:
        other = int(others[pick])
        if opening[pick] >= saved or time.perf_counter() > deadline:
            continue
        trial, counts = closed.copy(), left.copy()
        trial[other], counts[other] = True, wanted[pick]
        if side.satisfied(np.flatnonzero(trial)):
            continue
        filled = _add_chargers(net, trial, counts, full, per_charger, saved - opening[pick])
        if filled is None:
            continue
        counts = _fewest_chargers(net, trial, counts, filled, least, deadline)
        cost = float(prices @ trial + per_charger @ counts)
        if best is None or cost < best[2]:
            best = (trial, counts, cost)
    return best


def _add_chargers(
    net: ServiceFlow,
    is_open: BoolArray,
    chargers: FloatArray,
    full: FloatArray,
    per_charger: FloatArray,
    allowance: float,
) -> FloatArray | None:
    """Chargers added in place, one at a time where most unserved demand is in reach,
    until the flow reaches T (its flows returned) or the added cost passes ``allowance``."""
    one = net.capacity.per_charger * net.scale
    value, flows = net.serve(is_open, chargers)
    spent = 0.0
    while value < net.goal:
        gain = np.where(is_open & (chargers < full), np.minimum(net.unserved_reach(flows), one), 0)
        site = int(np.argmax(gain))
        spent += per_charger[site]
        if gain[site] <= 0 or spent >= allowance:
            return None
        chargers[site] += 1
        value, flows = net.serve(is_open, chargers)
    return flows
