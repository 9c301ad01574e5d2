r"""Branch and bound for maximal covering on the dual-form LP (:mod:`._coverage_dual`).

Nodes fix sites open or closed; each node's LP restarts from its parent's
basis and its bound is :math:`B(u, λ)`, valid whatever the simplex did.
At every node, before branching:

* **reduced-cost fixing** — a free site whose child bound :math:`B ± r_j`
  cannot beat the incumbent is fixed the other way (for the whole tree at
  the root);
* **strong branching** with an iteration limit on the fractional sites whose
  pseudo-costs are not yet reliable; a child that cannot beat the
  incumbent fixes its site the other way and the node is solved again, so
  many instances close at the root without branching at all;
* **rounding** — the fixed-open sites and the largest LP values, :math:`p`
  in all, give a plan (the caller checks it against the side rows);
* at the root, **LP diving** — open the sites at one and the largest
  fractional one, re-solve (warm), repeat until integral — and swaps on
  the plan it ends with: on Italy at 50 km (p = 64) that plan was 0.002 %
  below the optimum. Pseudo-costs learn from strong branching and from
  every child solved.

Nodes are taken best bound first. A node or fixing is discarded when its
bound is within the relative gap of the incumbent; the largest such bound
is kept, so the bound returned is valid: the most of the incumbent, the
open nodes and everything discarded. The search stops at a time or node
limit with that bound; the fixings proven at the root are returned so a
MIP solver can take over a smaller model.

Measured (benchmarks/README.md): France 15k places × 2k sites, 30 km,
p = 100 — proven in 5 nodes and 1.5 s where SCIP needs 6 s.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise.coverage._dual import CoverageDual, DualPoint, LpOutcome
from planner.optimise.coverage._lagrange import coverage_value
from planner.optimise.heuristics import swap_coverage

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Fixings = npt.NDArray[np.int8]

#: A site value this close to 0 or 1 counts as integral.
INTEGRAL = 1e-6
#: Simplex iterations per strong-branching child, candidates per node, and
#: the strong-branching results a site's pseudo-cost needs in each direction
#: before it is trusted. Measured on nine mid-size instances (France 30 km
#: p = 50 … 400, the default scenario p = 30 … 120, Italy and Germany at
#: 50 km): 4 candidates at 50 iterations took 52 s in all, 8 candidates 65 s,
#: 16 candidates 52 s; 25 or 100 iterations and reliability 1 or 4 were no
#: better (benchmarks/README.md).
STRONG_ITERATIONS = 50
STRONG_CANDIDATES = 4
RELIABLE = 2


@dataclass(frozen=True)
class BnbResult:
    """Best plan found (LP-site indices), its value, a proven upper bound and the root fixings.

    ``lower``/``upper`` are the sites the root proved open/closed in every
    plan better than the incumbent; ``fixings_bound`` bounds the plans they
    exclude (``-inf`` when none beats the incumbent).
    """

    sites: IntArray
    value: float
    bound: float
    proven: bool
    root_bound: float
    lower: Fixings
    upper: Fixings
    fixings_bound: float
    nodes: int
    lp_solves: int
    lp_seconds: float


@dataclass(frozen=True)
class Plans:
    """How the search values, rounds and improves plans (arrays of LP-site indices).

    Attributes
    ----------
    value_of
        Exact covered weight of a plan, ``-inf`` when it breaks a side row.
    round_plan
        A plan from LP site values and the node's lower fixings.
    polish
        Local search on a plan (applied to the root's rounding and to every
        plan that beats the incumbent).
    """

    value_of: Callable[[IntArray], float]
    round_plan: Callable[[FloatArray, Fixings], IntArray]
    polish: Callable[[IntArray], IntArray]


def coverage_plans(
    rows: sp.csr_matrix,
    weights: FloatArray,
    dual: CoverageDual,
    count: int,
    *,
    fixed: BoolArray,
    closed: BoolArray,
    feasible: Callable[[IntArray], bool] | None = None,
) -> Plans:
    """:class:`Plans` for the reach sets ``rows`` (all of them, unfolded) and their weights,
    over the LP sites of ``dual``.

    Rounding takes the fixed-open sites, then the largest LP values, ``count``
    in all (ties to the lowest index); polishing is the swap heuristic;
    ``feasible`` (over model sites) screens plans for side rows.
    """
    lp_sites, position = dual.sites, dual.position
    no_weight = np.zeros(rows.shape[1])

    def value_of(plan: IntArray) -> float:
        sites = lp_sites[plan]
        if feasible is not None and not feasible(sites):
            return -math.inf
        return coverage_value(rows, weights, no_weight, sites)

    def round_plan(values: FloatArray, opened: Fixings) -> IntArray:
        ranked = np.lexsort((np.arange(values.size), -(values + 2.0 * opened)))[:count]
        return np.sort(ranked[(values[ranked] > 0) | (opened[ranked] == 1)]).astype(np.int64)

    def polish(plan: IntArray) -> IntArray:
        improved = swap_coverage(rows, weights, lp_sites[plan], fixed=fixed, excluded=closed)
        return position[improved]

    return Plans(value_of, round_plan, polish)


@dataclass
class _Node:
    bound: float
    depth: int
    lower: Fixings
    upper: Fixings
    basis: Any
    # How the node was made: (site, side, parent bound, change of the site's value).
    branch: tuple[int, int, float, float] | None = None

    def key(self, order: int) -> tuple[float, int, int]:
        return (-self.bound, -self.depth, order)


class _Search:
    """State of one search: incumbent, pseudo-costs, discarded bound, node queue."""

    def __init__(
        self,
        dual: CoverageDual,
        plans: Plans,
        start: IntArray,
        start_value: float,
        relative_gap: float,
        deadline: float,
    ) -> None:
        self.dual = dual
        self.deadline = deadline
        self.at_root = True
        self.value_of = plans.value_of
        self.round_plan = plans.round_plan
        self.polish = plans.polish
        self.root_point: DualPoint | None = None
        self.dived = False
        self.best_sites = np.asarray(start, dtype=np.int64)
        self.best_value = start_value
        self.relative_gap = relative_gap
        self.discarded = -math.inf
        self.root_discarded = -math.inf
        n_sites = dual.n_sites
        # Fixings proven at the root, for the whole tree.
        self.root_lower = dual.opened
        self.root_upper = np.ones(n_sites, dtype=np.int8)
        self.pseudo = np.zeros((2, n_sites))
        self.pseudo_count = np.zeros((2, n_sites))
        self.queue: list[tuple[tuple[float, int, int], _Node]] = []
        self.order = 0
        self.nodes = 0

    # -- incumbent and cut-off -------------------------------------------------
    def cutoff(self) -> float:
        """Bounds at or below this cannot give a plan better than the gap sought."""
        if not math.isfinite(self.best_value):
            return -math.inf
        return self.best_value + self.relative_gap * max(abs(self.best_value), 1e-9)

    def discard(self, bound: float, *, root: bool = False) -> None:
        """Drop a node or branch of this bound, keeping the bound if it exceeds the incumbent.

        ``root`` marks what the root fixings exclude, which a solver taking
        over the fixed model must add to its own bound.
        """
        if bound > self.best_value:
            self.discarded = max(self.discarded, bound)
            if root or self.at_root:
                self.root_discarded = max(self.root_discarded, bound)

    def out_of_time(self) -> bool:
        return time.perf_counter() > self.deadline

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def offer(self, sites: IntArray, *, polish: bool = False) -> None:
        """Take a plan as the incumbent if it is better (after local search when ``polish``)."""
        value = self.value_of(sites)
        if polish or value > self.best_value:
            improved = self.polish(sites)
            improved_value = self.value_of(improved)
            if improved_value > value:
                sites, value = improved, improved_value
        if value > self.best_value:
            logger.debug("coverage b&b: plan %.10g at node %d", value, self.nodes)
            self.best_sites, self.best_value = np.asarray(sites, dtype=np.int64), value
            if self.root_point is not None:
                # A better incumbent fixes more sites by the root's scores, everywhere.
                self.fix_by_scores(self.root_point, self.root_lower, self.root_upper, root=True)

    # -- queue -----------------------------------------------------------------
    def push(self, node: _Node) -> None:
        self.order += 1
        heapq.heappush(self.queue, (node.key(self.order), node))

    def open_bound(self) -> float:
        return max((node.bound for _, node in self.queue), default=-math.inf)

    # -- one node ----------------------------------------------------------------
    def fix_by_scores(
        self, point: DualPoint, lower: Fixings, upper: Fixings, *, root: bool = False
    ) -> bool:
        """Reduced-cost fixing at this node (``root``: for the whole tree); True if any."""
        free = (lower == 0) & (upper == 1)
        scores = point.scores
        cutoff = self.cutoff()
        # Opening a site with r_j < 0 bounds the child by B + r_j, closing one
        # with r_j > 0 by B − r_j.
        open_bound = point.bound + np.minimum(scores, 0.0)
        close_bound = point.bound - np.maximum(scores, 0.0)
        closing = free & (scores < 0) & (open_bound <= cutoff)
        opening = free & (scores > 0) & (close_bound <= cutoff)
        if not (closing.any() or opening.any()):
            return False
        if closing.any():
            self.discard(float(open_bound[closing].max()), root=root)
        if opening.any():
            self.discard(float(close_bound[opening].max()), root=root)
        upper[closing] = 0
        lower[opening] = 1
        return True

    def unit_costs(self) -> tuple[float, float]:
        """Mean pseudo-costs per direction (1 before any is known)."""
        means = []
        for side in (0, 1):
            known = self.pseudo_count[side] > 0
            means.append(
                float(np.mean(self.pseudo[side][known] / self.pseudo_count[side][known]))
                if known.any()
                else 1.0
            )
        return means[0], means[1]

    def learn(self, side: int, site: int, parent: float, child: float, change: float) -> None:
        if change > 0 and math.isfinite(child):
            self.pseudo[side, site] += max(parent - child, 0.0) / change
            self.pseudo_count[side, site] += 1

    def child_fixings(
        self, lower: Fixings, upper: Fixings, site: int, side: int
    ) -> tuple[Fixings, Fixings]:
        child_lower, child_upper = lower.copy(), upper.copy()
        if side == 0:
            child_upper[site] = 0
        else:
            child_lower[site] = 1
        return child_lower, child_upper

    def process(self, node: _Node, *, root: bool) -> None:
        """Solve a node; prune it, or fix sites and re-solve, or branch."""
        dual = self.dual
        # Fixings made at the root hold in the whole tree.
        lower, upper = (
            (self.root_lower, self.root_upper) if root else (node.lower.copy(), node.upper.copy())
        )
        dual.set_fixings(lower, upper)
        point = dual.solve(basis=node.basis, seconds=self.left(), dual_simplex=root)
        if node.branch is not None and point.outcome is LpOutcome.OPTIMAL:
            site, side, parent, change = node.branch
            self.learn(side, site, parent, point.bound, change)
        while True:
            if point.outcome is LpOutcome.INFEASIBLE:
                return
            if point.outcome is LpOutcome.STOPPED:
                # Out of time inside the node (node solves have no iteration
                # limit): it stays open with what it proved.
                node.bound = min(node.bound, point.bound)
                node.lower, node.upper = lower.copy(), upper.copy()
                if node.bound > self.cutoff():
                    self.push(node)
                return
            if point.bound <= self.cutoff():
                self.discard(point.bound)
                return
            self.offer(self.round_plan(point.site_values, lower), polish=root)
            if point.bound <= self.cutoff():
                self.discard(point.bound)
                return
            if root and self.root_point is None:
                self.root_point = point
            if self.fix_by_scores(point, lower, upper):
                # The fixings do not bind at this point: the LP and its bound stay.
                dual.set_fixings(lower, upper)
            free = (lower == 0) & (upper == 1)
            values = point.site_values
            fractional = np.flatnonzero(free & (values > INTEGRAL) & (values < 1 - INTEGRAL))
            if fractional.size == 0:
                plan = np.flatnonzero((lower == 1) | (free & (values > 0.5)))
                self.offer(plan.astype(np.int64))
                self.discard(point.bound)
                return
            basis = dual.basis()
            if root and not self.dived:
                self.dived = True
                self.dive(point, lower, upper)
                if point.bound <= self.cutoff():
                    self.discard(point.bound)
                    return
                dual.set_fixings(lower, upper)
            decision, site, bounds = self.strong_branch(point, fractional, lower, upper, basis)
            if decision == "pruned":
                return
            if decision == "fixed":
                dual.set_fixings(lower, upper)
                point = dual.solve(basis=basis, seconds=self.left())
                continue
            value = float(values[site])
            for side in (0, 1):
                child_lower, child_upper = self.child_fixings(lower, upper, site, side)
                child_bound = min(point.bound, bounds[side])
                change = value if side == 0 else 1 - value
                self.push(
                    _Node(
                        child_bound,
                        node.depth + 1,
                        child_lower,
                        child_upper,
                        basis,
                        (site, side, point.bound, change),
                    )
                )
            return

    def dive(self, point: DualPoint, lower: Fixings, upper: Fixings) -> None:
        """LP diving for a plan: open the largest fractional site, re-solve, until integral.

        Each step relaxes the dual LP, so it is a warm primal-simplex solve;
        the plan at the bottom, after local search, is offered as incumbent.
        """
        dual = self.dual
        dive_lower = lower.copy()
        current = point
        for _ in range(dual.n_sites):
            if self.out_of_time():
                break
            free = (dive_lower == 0) & (upper == 1)
            values = current.site_values
            fractional = free & (values > INTEGRAL) & (values < 1 - INTEGRAL)
            if not fractional.any():
                plan = np.flatnonzero((dive_lower == 1) | (free & (values > 0.5)))
                self.offer(plan.astype(np.int64), polish=True)
                break
            # Open the sites at one and the most fractional-valued one.
            dive_lower[free & (values >= 1 - INTEGRAL)] = 1
            dive_lower[int(np.argmax(np.where(fractional, values, -1.0)))] = 1
            dual.set_fixings(dive_lower, upper)
            current = dual.solve(seconds=self.left())
            if current.outcome is not LpOutcome.OPTIMAL:
                break
            self.offer(self.round_plan(current.site_values, dive_lower))
        dual.set_fixings(lower, upper)

    def strong_branch(
        self,
        point: DualPoint,
        fractional: IntArray,
        lower: Fixings,
        upper: Fixings,
        basis: Any,
    ) -> tuple[str, int, tuple[float, float]]:
        """Pick the branching site (``"branch"``), or fix one (``"fixed"``) or prune the node.

        Returns the decision, the site and its two children's bounds
        (close, open) where strong branching measured them.

        Candidates are scored by the product of their two children's bound
        drops: estimated from pseudo-costs, or measured by strong branching
        for the best-scored sites whose pseudo-costs are not reliable yet.
        Mutates ``lower``/``upper`` when a child cannot beat the incumbent.
        """
        dual = self.dual
        values = point.site_values[fractional]
        known = self.pseudo_count[:, fractional]
        mean_down, mean_up = self.unit_costs()
        per_down = np.where(
            known[0] > 0, self.pseudo[0, fractional] / np.maximum(known[0], 1), mean_down
        )
        per_up = np.where(
            known[1] > 0, self.pseudo[1, fractional] / np.maximum(known[1], 1), mean_up
        )
        score = np.maximum(per_down * values, 1e-6) * np.maximum(per_up * (1 - values), 1e-6)
        ranked = np.argsort(-score, kind="stable")
        unreliable = [
            int(position)
            for position in ranked
            if min(known[0, position], known[1, position]) < RELIABLE
        ][:STRONG_CANDIDATES]
        child_bounds = {int(position): (point.bound, point.bound) for position in ranked[:1]}
        cutoff = self.cutoff()
        for position in unreliable:
            if self.out_of_time():
                break
            site = int(fractional[position])
            bounds = []
            for side in (0, 1):
                dual.set_fixings(*self.child_fixings(lower, upper, site, side))
                child = dual.solve(basis=basis, iterations=STRONG_ITERATIONS, seconds=self.left())
                bounds.append(child.bound)
                change = values[position] if side == 0 else 1 - values[position]
                if child.outcome is LpOutcome.OPTIMAL:
                    self.learn(side, site, point.bound, child.bound, change)
            dual.set_fixings(lower, upper)
            close, keep = bounds
            if close <= cutoff and keep <= cutoff:
                self.discard(max(close, keep))
                return "pruned", site, (close, keep)
            if close <= cutoff or keep <= cutoff:
                self.discard(min(close, keep))
                if close <= cutoff:
                    lower[site] = 1
                else:
                    upper[site] = 0
                return "fixed", site, (close, keep)
            score[position] = max(point.bound - close, 1e-6) * max(point.bound - keep, 1e-6)
            child_bounds[position] = (close, keep)
        chosen = int(np.argmax(score))
        measured = child_bounds.get(chosen, (point.bound, point.bound))
        return "branch", int(fractional[chosen]), measured


def branch_and_bound(
    dual: CoverageDual,
    plans: Plans,
    *,
    start: IntArray,
    start_value: float,
    relative_gap: float,
    seconds: float,
    max_nodes: int = 1_000_000,
    on_bounds: Callable[[float, float], None] | None = None,
) -> BnbResult:
    """Search for a plan better than ``start`` within ``relative_gap``; at most ``seconds``.

    Parameters
    ----------
    dual
        The LP, with its fixed sites; sites are indexed as in ``dual.sites``.
    plans
        How plans are valued, rounded and improved.
    start, start_value
        A feasible plan and its value (the incumbent to beat).
    relative_gap
        Nodes whose bound exceeds the incumbent by at most this fraction are discarded.
    seconds, max_nodes
        Limits; the bound returned is valid when either stops the search.
    on_bounds
        Told the incumbent's value and the proven bound after the root and
        about twice a second during the search (a progress display).
    """
    started = time.perf_counter()
    search = _Search(dual, plans, start, start_value, relative_gap, started + seconds)
    root = _Node(math.inf, 0, search.root_lower.copy(), search.root_upper.copy(), None)
    search.nodes = 1
    search.process(root, root=True)
    search.at_root = False
    root_bound = max(search.open_bound(), search.discarded, search.best_value)
    if on_bounds is not None:
        on_bounds(search.best_value, root_bound)
    told = time.perf_counter()
    while search.queue and search.nodes < max_nodes:
        if search.out_of_time():
            break
        if on_bounds is not None and time.perf_counter() - told > 0.5:
            bound = max(search.open_bound(), search.discarded, search.best_value)
            on_bounds(search.best_value, bound)
            told = time.perf_counter()
        _, node = heapq.heappop(search.queue)
        if node.bound <= search.cutoff():
            search.discard(node.bound)
            continue
        # Root fixings hold everywhere.
        node.lower = np.maximum(node.lower, search.root_lower)
        node.upper = np.minimum(node.upper, search.root_upper)
        if np.any(node.lower > node.upper):
            continue
        search.nodes += 1
        search.process(node, root=False)
    proven = not search.queue
    bound = max(search.open_bound(), search.discarded, search.best_value)
    logger.debug(
        "coverage b&b: %d nodes, %d LPs (%.2f s), bound %.10g, plan %.10g, %s",
        search.nodes,
        dual.solves,
        dual.lp_seconds,
        bound,
        search.best_value,
        "proven" if proven else "stopped",
    )
    return BnbResult(
        sites=search.best_sites,
        value=search.best_value,
        bound=bound,
        proven=proven,
        root_bound=root_bound,
        lower=search.root_lower,
        upper=search.root_upper,
        fixings_bound=search.root_discarded,
        nodes=search.nodes,
        lp_solves=dual.solves,
        lp_seconds=dual.lp_seconds,
    )
