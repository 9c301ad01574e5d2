r"""Solving the nested roll-out over (site, year) pairs: a kernel plan, then the proof.

The branch and bound of :mod:`._bnb` on the LP over pairs (:mod:`._nested`)
proves the plan; what it needs most is a good incumbent early, since every
reduced-cost fixing and pruned node is measured against it. The LP itself
points to one: few sites carry LP value in any year (91 of 1.2k on the
budget scenario, 116 on the p scenario), and the nested model restricted to
them and the sites of largest reduced cost outside them — the **kernel** —
is small enough for the same branch and bound to solve in seconds (reduced
again first: with fewer sites far more reach sets merge). Its plan is
feasible for the whole model and becomes the start of the full search,
whose root LP is then already solved. Measured (load 3–5 on two cores):
the LP's support alone (91 and 116 sites) gave 11 795.5 and 13 042.2 in
3–4 s, with the nearest sites outside it added
(``KERNEL_EXTRA``) 11 795.5 and 13 045.4 in 2–5 s, against optima of
11 797.2 and 13 045.4; the greedy with exchanges had reached 11 661.6 and
12 913.4, the root's rounding and diving 11 768.4 and 13 037.6. With the
kernel both scenarios were proven within 60 s (40 s and 53 s at load 3);
without it the budget scenario ended at a gap of 0.30 %.

The kernel search gets at most ``KERNEL_SHARE`` of the time; its bound says
nothing about the whole model and is not used.

Tried and left out: closing the sites whose root reduced cost rules them out
against the kernel plan and solving the smaller model — 191 and 121 of the
1 215 free sites left, the LP barely shrank (the branch and bound fixes the
same sites at its root anyway); nesting backwards from the last year's
single-year optimum (11 734.8 after exchanges, 15 s).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner.optimise.coverage._bnb import Fixings, Plans, branch_and_bound
from planner.optimise.coverage._dual import CoverageDual, DualPoint, LpOutcome
from planner.optimise.coverage._nested import (
    NestedModel,
    opened_from_pairs,
    pairs_dual,
    pairs_from_opened,
    reduce_nested,
)
from planner.optimise.coverage._nested_search import improve, nested_greedy
from planner.optimise.coverage._rows import FloatArray, IntArray

#: Share of the time the kernel search may take.
KERNEL_SHARE = 0.3
#: A site is in the kernel when its LP value in some year exceeds this.
IN_KERNEL = 1e-6
#: Sites outside the LP's support that join the kernel, as a share of it:
#: on the p scenario the support alone (116 sites) gave 13 042.2 in 4.1 s,
#: with the 25 nearest sites more 13 045.4 (the optimum) in 2.9 s, with 50
#: the same in 5.6 s, with 100 in 11 s.
KERNEL_EXTRA = 0.25


@dataclass(frozen=True)
class NestedResult:
    """Best plan found (opening years), its value and a proven bound, both without the constant.

    ``proven`` with no plan means no plan exists.
    """

    opened: IntArray | None
    value: float
    bound: float
    proven: bool
    details: dict[str, float]


def solve_pairs(
    model: NestedModel,
    start: IntArray | None,
    *,
    relative_gap: float,
    seconds: float,
    on_bounds: Callable[[float, float], None] | None = None,
    kernel: bool = True,
) -> NestedResult:
    """Branch and bound on the LP over pairs, from the better of ``start`` and the kernel plan.

    ``start`` is a feasible plan or ``None``; ``on_bounds`` hears the
    incumbent's value and the bound (without the constant) as the search
    goes. Raises :class:`~planner.errors.SolverError` when HiGHS fails on an LP.
    """
    started = time.perf_counter()
    dual = pairs_dual(model)
    details: dict[str, float] = {}
    if start is not None and not model.feasible(start):
        start = None
    if kernel:
        point = dual.solve(dual_simplex=True, seconds=seconds)
        if point.outcome is LpOutcome.OPTIMAL:
            details["lp_bound"] = point.bound
            if on_bounds is not None and start is not None:
                on_bounds(model.value(start), point.bound)
            kernel_started = time.perf_counter()
            found = _kernel_plan(model, dual, point, relative_gap, seconds * KERNEL_SHARE)
            details["kernel_sites"] = float(found[1])
            details["kernel_seconds"] = time.perf_counter() - kernel_started
            details["lp_seconds"] = kernel_started - started
            if found[0] is not None and (
                start is None or model.value(found[0]) > model.value(start)
            ):
                start = found[0]
                if on_bounds is not None:
                    on_bounds(model.value(start), point.bound)
    plans = nested_plans(model, dual)
    if start is not None:
        start_pairs = dual.position[pairs_from_opened(model, start)]
        start_value = model.value(start)
    else:
        start_pairs, start_value = np.empty(0, dtype=np.int64), -math.inf
    result = branch_and_bound(
        dual,
        plans,
        start=start_pairs,
        start_value=start_value,
        relative_gap=relative_gap,
        seconds=seconds - (time.perf_counter() - started),
        on_bounds=on_bounds,
    )
    found_plan = math.isfinite(result.value)
    details.update(
        {
            "bnb_nodes": float(result.nodes),
            "bnb_lp_solves": float(result.lp_solves),
            "bnb_lp_seconds": result.lp_seconds,
        }
    )
    return NestedResult(
        opened=opened_from_pairs(model, dual.sites[result.sites]) if found_plan else None,
        value=result.value,
        bound=result.bound,
        proven=result.proven,
        details=details,
    )


def _kernel_plan(
    model: NestedModel,
    dual: CoverageDual,
    point: DualPoint,
    relative_gap: float,
    seconds: float,
) -> tuple[IntArray | None, int]:
    """The best plan over the sites with LP value (module docstring), and their number."""
    shape = (model.n_years, model.n_sites)
    values = np.zeros(shape)
    values.flat[dual.sites] = point.site_values
    scores = np.full(shape, -np.inf)
    scores.flat[dual.sites] = point.scores
    in_kernel = model.free & (values.max(axis=0) > IN_KERNEL)
    # The sites nearest to entering the LP's plan (largest reduced cost) join it.
    outside = np.flatnonzero(model.free & ~in_kernel)
    nearest = np.argsort(-scores.max(axis=0)[outside], kind="stable")
    in_kernel[outside[nearest[: int(KERNEL_EXTRA * in_kernel.sum())]]] = True
    size = int(in_kernel.sum())
    if size == int(model.free.sum()):
        return None, size  # the kernel is the whole model
    # Reduced again: with fewer sites, far more reach sets become identical.
    restricted, _ = reduce_nested(
        model.rows,
        model.weights,
        factors=model.factors,
        caps=model.caps,
        budgets=model.budgets,
        costs=model.costs,
        fixed=model.fixed,
        excluded=model.closed | (model.free & ~in_kernel),
        side=model.side,
    )
    start: IntArray | None = improve(restricted, nested_greedy(restricted))
    if start is not None and not restricted.feasible(start):
        start = None
    result = solve_pairs(
        restricted, start, relative_gap=relative_gap, seconds=seconds, kernel=False
    )
    return result.opened, size


def nested_plans(model: NestedModel, dual: CoverageDual) -> Plans:
    """:class:`~._bnb.Plans` over the LP's pairs (module docstring)."""
    lp_pairs, position = dual.sites, dual.position
    n_sites = model.n_sites

    def as_opened(plan: IntArray) -> IntArray:
        return opened_from_pairs(model, lp_pairs[plan])

    def value_of(plan: IntArray) -> float:
        pairs = lp_pairs[plan]
        opened = opened_from_pairs(model, pairs)
        # Pairs must be nested: exactly the pairs the opening years imply.
        if pairs.size != pairs_from_opened(model, opened).size or not model.feasible(opened):
            return -math.inf
        return model.value(opened)

    def round_plan(values: FloatArray, lower: Fixings) -> IntArray:
        by_pair = np.zeros(n_sites * model.n_years)
        by_pair[lp_pairs] = values + 2.0 * lower
        opened = nested_greedy(model, by_pair.reshape(model.n_years, n_sites))
        return position[pairs_from_opened(model, opened)]

    def polish_plan(plan: IntArray) -> IntArray:
        opened = as_opened(plan)
        if not model.feasible(opened):
            return plan
        better = improve(model, opened)
        return position[pairs_from_opened(model, better)]

    return Plans(value_of, round_plan, polish_plan)
