r"""Branch and bound over the open sites with the Lagrangian bound at every node.

A node fixes some sites open and some closed (``lower`` ⊆ S ⊆ ``upper``).
Its bound is L(λ) of :mod:`._lagrange` under those fixings, raised by a
short subgradient ascent that starts from its parent's best multipliers
(:data:`_NODE_ITERATIONS` steps at most, a first step factor of 1 and
halved after :data:`_NODE_PATIENCE` steps without gain). Then, at the
node's multipliers:

- the node is dropped when its bound is within the relative gap of the
  incumbent's cost;
- sites whose forced other side lifts the bound past the incumbent are
  fixed for the whole subtree (:func:`._lagrange.fix_sites`);
- the relaxation's open sets (every :data:`_PLAN_EVERY`-th step, and the
  best) are served as plans (:func:`._heuristic.serve`), as long as plans
  have taken less than :data:`_PLAN_SHARE` of the tree's time;
- it branches on the free site whose share of the relaxations that opened
  it is nearest one half (the relaxations' average approximates the LP's
  y_j, which the relaxation itself never gives fractionally); each child's
  first bound is the cover knapsack solved again with that site fixed.

Nodes are taken best bound first, so the least bound of the nodes left is
a lower bound on every plan the fixings did not cut off. A node with every
site fixed is served exactly and not split.

Why not the MILP solver on the reduced model: where few sites open
(OR-Library capb: 8–9 of 100 at capacity 6,000–7,000, 40 sites free after
fixing) the LP over 40,000 shares makes every SCIP node cost about a
second, and 50 s of SCIP left gaps of 0.28 % and 3.2 %; this tree, at a few
milliseconds per relaxation, proved them in 19 and 33 nodes.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from planner.optimise.capacitated import _lagrange as lagrange
from planner.optimise.capacitated._data import (
    BoolArray,
    FloatArray,
    IntArray,
    Pairs,
    cheapest_cover,
)

logger = logging.getLogger(__name__)

#: Most subgradient steps per node.
_NODE_ITERATIONS = 100
#: Steps without a better bound before a node's step factor is halved.
_NODE_PATIENCE = 10
#: First step factor at a node (its multipliers start near the parent's best).
_NODE_STEP = 1.0
#: Steps between two plans served from a node's relaxations.
_PLAN_EVERY = 10
#: Most multipliers the open nodes keep (8 bytes each): at 100,000 customers
#: a node's are 0.8 MB.
_MAX_STORED_MULTIPLIERS = 50_000_000
#: Share of the tree's time the plans served from relaxations may take.
_PLAN_SHARE = 0.3


@dataclass(order=True, frozen=True)
class _Node:
    bound: float
    number: int
    lower: BoolArray = field(compare=False)
    upper: BoolArray = field(compare=False)
    multipliers: FloatArray = field(compare=False)


class _Plans:
    """Open sets served as plans, the heuristic ones within a share of the tree's time.

    A flow over 50 open sites of 1,000 customers takes about 60 ms, as long
    as 25 relaxations: unchecked, plans took two thirds of the tree's time.
    """

    def __init__(self, try_plan: Callable[[BoolArray], None]) -> None:
        self.try_plan = try_plan
        self.started = time.perf_counter()
        self.spent = 0.0

    def heuristic(self, opened: BoolArray) -> None:
        """Serve ``opened`` if plans have taken less than their share so far."""
        if self.spent <= _PLAN_SHARE * (time.perf_counter() - self.started):
            begun = time.perf_counter()
            self.try_plan(opened)
            self.spent += time.perf_counter() - begun


class _Openings:
    """How often a node's relaxations open each site; every few of them served as plans."""

    def __init__(self, n_sites: int, plans: _Plans) -> None:
        self.counts = np.zeros(n_sites)
        self.steps = 0
        self.plans = plans

    def __call__(self, relaxation: lagrange.Knapsacks, iteration: int) -> None:
        self.steps += 1
        self.counts[relaxation.chosen] += 1.0
        if iteration % _PLAN_EVERY == 1:
            self.plans.heuristic(relaxation.chosen)

    def share(self, sites: IntArray) -> FloatArray:
        """The share of the relaxations that opened each of ``sites``."""
        return np.asarray(self.counts[sites] / max(self.steps, 1))


@dataclass(frozen=True)
class Tree:
    """How the tree ended: its lower bound (at most the incumbent's cost) and its size."""

    bound: float
    nodes: int
    open_nodes: int


def branch_and_bound(
    pairs: Pairs,
    root: lagrange.Dual,
    lower: BoolArray,
    upper: BoolArray,
    *,
    incumbent: Callable[[], float],
    try_plan: Callable[[BoolArray], None],
    serve_leaf: Callable[[BoolArray], None],
    deadline: float,
    relative_gap: float,
) -> Tree:
    """Search the site sets between ``lower`` and ``upper`` (module docstring).

    ``incumbent`` gives the best plan's cost so far, ``try_plan`` serves an
    open set and offers the plan to it (the relaxations' sets within
    :data:`_PLAN_SHARE` of the time); ``serve_leaf`` serves the open set of
    a node with every site fixed by the exact transportation optimum.
    The tree stops when the least open bound is within ``relative_gap`` of
    the incumbent, or at ``deadline``.
    """
    heap = [_Node(root.relaxation.bound, 0, lower, upper, root.multipliers)]
    numbered = nodes = 0
    order = lagrange.CostOrder(pairs)
    plans = _Plans(try_plan)
    # Nodes dropped within the gap of the incumbent still bound the optimum.
    dropped = [math.inf]

    def closed_by(bound: float) -> bool:
        cost = incumbent()
        if math.isfinite(cost) and cost - bound <= relative_gap * abs(cost):
            dropped[0] = min(dropped[0], bound)
            return True
        return False

    while heap and not closed_by(heap[0].bound) and time.perf_counter() < deadline:
        node = heapq.heappop(heap)
        nodes += 1
        openings = _Openings(pairs.n_sites, plans)
        dual = lagrange.maximise(
            pairs,
            node.lower,
            node.upper,
            upper_bound=incumbent,
            on_relaxation=openings,
            deadline=deadline,
            relative_gap=relative_gap,
            max_iterations=_NODE_ITERATIONS,
            start=node.multipliers,
            step_factor=_NODE_STEP,
            patience=_NODE_PATIENCE,
            order=order,
        )
        relaxation = dual.relaxation
        bound = max(node.bound, relaxation.bound)
        if not math.isfinite(relaxation.bound) or closed_by(bound):
            continue  # No site set here covers the demand, or none beats the incumbent.
        plans.heuristic(relaxation.chosen)
        fixings = lagrange.fix_sites(pairs, dual, node.lower, node.upper, incumbent())
        low, high = node.lower | fixings.open, node.upper & ~fixings.closed
        free = np.flatnonzero(high & ~low)
        if free.size == 0:
            # Every site is fixed: the plan is the node's only one, served always
            # (and exactly), or the tree would lose it.
            serve_leaf(low)
            continue
        site = int(free[np.argmin(np.abs(openings.share(free) - 0.5))])
        base = float(dual.multipliers.sum())
        # Both children share the node's multipliers; past the memory cap they
        # start from the root's instead.
        kept = len(heap) * pairs.n_customers < _MAX_STORED_MULTIPLIERS
        start = dual.multipliers if kept else root.multipliers
        for opened in (True, False):
            child_lower, child_upper = low.copy(), high.copy()
            if opened:
                child_lower[site] = True
            else:
                child_upper[site] = False
            value, _ = cheapest_cover(
                relaxation.site_values, pairs.capacity, pairs.total_demand, child_lower, child_upper
            )
            if not math.isfinite(value):
                continue  # The sites left cannot cover the demand.
            child_bound = max(bound, base + value)
            if not closed_by(child_bound):
                numbered += 1
                heapq.heappush(heap, _Node(child_bound, numbered, child_lower, child_upper, start))
    cost = incumbent()
    tree_bound = min((node.bound for node in heap), default=cost)
    logger.debug(
        "capacitated: branch and bound ended after %d nodes, %d open, bound %.8g, plan %.8g",
        nodes,
        len(heap),
        tree_bound,
        cost,
    )
    return Tree(min(tree_bound, dropped[0], cost), nodes, len(heap))
