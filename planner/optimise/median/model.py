r"""The p-median model: LP bound by Benders cuts, reduced-cost fixing, radius model.

Every reachable demand row :math:`i` is served by its nearest open site
within reach; the model opens exactly :math:`p` sites to minimise the
weighted total cost. The exact model is the radius formulation of Elloumi
(2010) / García, Labbé & Marín (2011): sort the distinct costs of row
:math:`i`, :math:`D_i^1 < D_i^2 < … < D_i^{K_i}`, and let :math:`z_i^k \ge 0`
be 1 when no open site of row :math:`i` costs :math:`D_i^k` or less. With
:math:`S_i^k` the sites of row :math:`i` at cost exactly :math:`D_i^k`::

    min  Σ_i w_i (D_i^1 + Σ_{k<K_i} (D_i^{k+1} - D_i^k) z_i^k)
    s.t. z_i^1 + Σ_{j ∈ S_i^1} y_j ≥ 1                      (1) nearest level
         z_i^k - z_i^{k-1} + Σ_{j ∈ S_i^k} y_j ≥ 0  1<k<K_i   (2) chained levels
         -z_i^{K_i-1} + Σ_{j ∈ S_i^{K_i}} y_j ≥ 0            (3) served within reach
         Σ_j y_j = p                                          (4)
         y_j ∈ {0, 1}; y_j = 1 fixed, 0 excluded;  z ≥ 0;  side rows over y

Chaining the levels keeps one coefficient per pair (the cumulative form
would need :math:`O(K_i^2)`) and has the same LP relaxation. Constraints
(1)–(3) add up to "some site within reach is open", so infeasibility means
:math:`p` sites cannot serve all reachable demand.

Solving it whole is slow when every row reaches many sites (a 1,400-point
instance has 1.9 million pairs), so the solve goes in three steps:

1. **LP bound.** The LP relaxation is solved in its Benders form (only
   :math:`y` and one :math:`\theta_i` per row, cuts added as needed; see
   :mod:`planner.optimise.median._lp`). On the standard sets it is often
   integral or within a fraction of a percent of the optimum.
2. **Incumbent.** The LP point rounded to its p largest values, and the
   greedy solution when it is cheap, each improved by best-improvement
   interchange (:mod:`planner.optimise.median._search`).
3. **Fixing and the exact model.** A site whose LP reduced cost lifts the
   bound above the incumbent (minus 1 when all data are whole numbers, so
   the objective is too) cannot be in a better plan and is fixed. Without
   side rows, a branch and Benders cut on the sites left finishes the proof
   (:mod:`planner.optimise.median._branch`): its nodes solve the small master
   LP, not the radius model, so it needs no size limit (generated 600- to
   900-vertex graphs at p = 5 and 10, whose LP bound is about 1 % low: the
   radius model by CP-SAT, SCIP or HiGHS proved none of gmed27, 32, 38 in
   60 s; the tree proved gmed27 in 45 s with 115 nodes on a loaded machine).
   When the sites left are still too many for the radius model, iterated
   local search improves the incumbent first; then, without side rows and
   up to p = 100 or with the plan within 0.05 % of the LP bound, the tree
   has the rest of the time, and otherwise kernel search
   (:mod:`planner.optimise.median._kernel`) looks for better plans before
   the exact step.
   With side rows the radius model is solved on the sites left. The bound
   reported is the best of the LP bound and that solve's bound, capped by
   the incumbent.

When the LP does not finish (its first round outlasting 30 % of the time,
or not started when its size says it would, as on every dealer of five
countries: 13,500 rows, 14,500 sites, 3.2 M pairs), greedy is the start,
the bound is the Lagrangian one of :mod:`planner.optimise.median._lagrange`,
and on a model too large for the exact steps the local search has the time
left. Before anything, more rows whose reach sets share no site than p prove
the instance infeasible.

Reductions before all that: pairs to excluded sites go; pairs costlier than
the nearest fixed site of a row can never serve it and go too; rows of zero
weight keep only their coverage requirement (all costs set to 0, one level);
rows identical in sites *and* costs merge with summed weights (merging by
sites alone would be wrong here, unlike in coverage models). Among sites
with identical pairs the lowest index is chosen, so ties go to the lowest
site id.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError, SolverError
from planner.optimise import _checks, evaluate
from planner.optimise._milp import MilpResult, MilpStatus, solve_milp
from planner.optimise._radius import radius_milp, reduced_rows
from planner.optimise._reach import (
    SortedPairs,
    drop_sites,
)
from planner.optimise._reduce import lowest_equivalent
from planner.optimise._result import finish, sites_from_values
from planner.optimise.constraints import (
    SiteRows,
    caps_short_of_cover,
    column_classes,
    explain_infeasible,
    infeasible_with,
    milp_with_site_rows,
    most_worth_within,
    no_site_rows,
)
from planner.optimise.median._branch import TreeResult, branch_and_cut
from planner.optimise.median._kernel import (
    kernel_nearest,
    kernel_nearest_cap,
    kernel_search,
    nearest_pairs,
)
from planner.optimise.median._lagrange import disjoint_rows, lagrangian_bound
from planner.optimise.median._lp import MedianLp, median_lp
from planner.optimise.median._search import (
    greedy_median,
    interchange_median,
    iterated_interchange,
    repair_worth,
)
from planner.optimise.solution import Solution, SolverSettings, relative_gap

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

_DEFAULT = SolverSettings()


def p_median(
    reach: sp.csr_matrix,
    weights: npt.NDArray[np.float64],
    p: int,
    *,
    fixed: npt.NDArray[np.bool_] | None = None,
    excluded: npt.NDArray[np.bool_] | None = None,
    constraints: SiteRows | None = None,
    settings: SolverSettings = _DEFAULT,
) -> Solution:
    """Open exactly ``p`` sites minimising the weighted cost to the nearest open site.

    Parameters
    ----------
    reach
        Demand × sites; stored pairs are within reach, data their travel cost.
        Rows without any pair are unreachable and ignored.
    weights
        Non-negative weight of each demand row.
    p
        Number of sites to open, fixed sites included.
    fixed, excluded
        Masks of sites that must / must not open.
    constraints
        Side constraints over the open sites (see :mod:`planner.optimise.constraints`).
    settings
        Time limit, gap, threads and seed.

    Returns
    -------
    Solution
        ``objective`` is Σ weight × cost to the nearest open site over reachable
        demand; ``assignment[i]`` that site (-1 for unreachable rows).

    Raises
    ------
    InputError
        Malformed arguments.
    InfeasibleError
        ``p`` does not fit between the fixed and the allowed sites, a reachable
        row has only excluded sites in reach, or no ``p`` sites serve every
        reachable row within reach (with the side constraints).
    SolverError
        No plan serving every reachable row was found within the time limit,
        and none was proven impossible either.
    """
    started = time.perf_counter()
    problems: list[str] = []
    matrix = _checks.canonical_reach(reach, problems)
    n_demand, n_sites = matrix.shape
    demand = _checks.demand_weights(weights, n_demand, problems)
    must = _checks.site_mask(fixed, n_sites, "fixed", problems)
    never = _checks.site_mask(excluded, n_sites, "excluded", problems)
    _checks.raise_problems("p_median", problems)
    _checks.check_fixed_excluded("p_median", must, never)
    _checks.check_p("p_median", p, must, never, exact=True)
    side = no_site_rows(n_sites) if constraints is None else constraints
    explain_infeasible(side, p=p, exact_p=True, fixed=must, excluded=never)

    reachable = evaluate.reachable_rows(matrix)
    blocked = reachable & (np.diff(drop_sites(matrix, never).indptr) == 0)
    if np.any(blocked):
        raise InfeasibleError(
            f"p_median: {int(blocked.sum())} reachable demand row(s) have only excluded "
            f"sites in reach (first: row {int(np.flatnonzero(blocked)[0])})"
        )
    rows, row_weights, n_kept = reduced_rows(matrix, demand, must, never)
    # Solved on weights scaled so that the largest term is at least 1 (at 1e-9
    # the LP's bound came out above the optimum); objective from the weights given.
    scale = _checks.unit_scale(
        float(row_weights.max(initial=0.0)) * float(rows.data.max(initial=0.0))
    )
    row_weights = row_weights * scale
    pairs = SortedPairs(rows)
    apart = disjoint_rows(pairs)
    if apart > p:
        raise InfeasibleError(
            f"p_median: no choice of p = {p} sites serves all {int(reachable.sum())} reachable "
            f"demand rows within reach: {apart} of them have no site in reach in common, "
            f"so at least {apart} sites are needed"
        )
    # A cap on a group below the sites its own rows need, proven by counting (rows of
    # no weight need no site).
    short = caps_short_of_cover(side, drop_sites(matrix, never)[demand > 0])
    if short:
        raise InfeasibleError(
            f"p_median: no choice of p = {p} sites serves every reachable demand row under "
            "the side constraints: " + "; ".join(short)
        )
    allowed = ~never
    integral = _whole(rows.data) and _whole(row_weights)
    details: dict[str, float] = {
        "unreachable_demand": float(np.sum(~reachable)),
        "rows_in_model": float(rows.shape[0]),
        "rows_before_aggregation": float(n_kept),
        "pairs_in_model": float(rows.nnz),
        "side_constraints": float(len(side)),
    }

    def left() -> float:
        return settings.time_limit_s - (time.perf_counter() - started)

    # (1) The LP bound and reduced costs, from the Benders master.
    lp = median_lp(
        pairs, row_weights, p, fixed=must, allowed=allowed, side=side, seconds=0.5 * left(),
        first_round_seconds=_FIRST_ROUND_SHARE * left(),
    )  # fmt: skip
    if lp.infeasible:
        raise _infeasible(p, must, never, reachable, side)
    details.update(lp_bound=lp.bound, lp_rounds=float(lp.rounds), lp_cuts=float(lp.cuts))

    # (2) An incumbent: the LP point rounded, and greedy when it is cheap, each
    # improved by interchange. Both ignore side constraints: a start that breaks
    # them is repaired (the fewest sites changed, by a MILP over the sites
    # alone) and its swaps stay within classes of sites with equal side
    # columns, which keeps every row's value (full-scale dealers, p = 400 with
    # a Nissan share of 20 %: no plan found before).
    # An unfinished LP's point is no start (five countries' dealers, p = 400,
    # 3.2 M pairs: 115,203 after 15 s of interchange serving the rows it left
    # unserved); greedy then is, at any size (there 0.6 s, 82,769).
    starts = [_rounded(lp.y, p, must, allowed)] if lp.converged else []
    if p * pairs.size <= _GREEDY_WORK or not lp.converged:
        starts.append(greedy_median(pairs, row_weights, p, fixed=must, allowed=allowed))
    best_sites, best_value = np.empty(0, dtype=np.int64), math.inf

    def offer(sites: IntArray) -> bool:
        """Keep ``sites`` when they form a better feasible plan."""
        nonlocal best_sites, best_value
        value = evaluate.p_median_objective(rows, row_weights, sites)
        if value < best_value and sites.size == p and not side.satisfied(sites):
            best_sites, best_value = sites, value
            return True
        return False

    classes = column_classes(side) if len(side) else None
    for start in starts:
        if classes is not None and side.satisfied(start):
            mended = most_worth_within(
                side,
                repair_worth(pairs, row_weights, start),
                p,
                exact_p=True,
                fixed=must,
                excluded=~allowed,
                seconds=0.05 * left(),
            )
            if mended is None:
                continue
            start = np.flatnonzero(mended).astype(np.int64)
        offer(
            interchange_median(
                pairs,
                row_weights,
                start,
                fixed=must,
                allowed=allowed,
                seconds=0.1 * left(),
                deadline=started + settings.time_limit_s,
                classes=classes,
            )
        )
    if not math.isfinite(best_value) and left() <= 0:
        # No plan and no time: the exact model over every pair would only take
        # longer to build than the limit (full-scale dealers, p = 120: 76 s).
        raise _no_plan(settings, lp, p, apart)
    details["heuristic_objective"] = best_value
    bound = lp.bound
    if not lp.converged and math.isfinite(best_value):
        # The LP's bound is missing or weak: the Lagrangian one is cheap (one
        # pass over the pairs a step) and converges to the same value.
        lagrangian = lagrangian_bound(
            pairs, row_weights, p, fixed=must, allowed=allowed, upper=best_value,
            deadline=time.perf_counter() + _LAGRANGIAN_SHARE * left(),
        )  # fmt: skip
        details["lagrangian_bound"] = lagrangian
        bound = max(bound, lagrangian)
    # Any better plan is at least ``step`` better: 1 when every cost and weight
    # is whole (the objective is then whole too), else the requested gap.
    integral_step = 1.0 if integral else 0.0

    def step() -> float:
        return integral_step or settings.relative_gap * abs(best_value)

    def open_gap() -> bool:
        return not math.isfinite(best_value) or best_value - bound > (
            settings.relative_gap * abs(best_value)
        )

    # CP-SAT with one worker and full linearisation proved the small-p OR-Library
    # instances fastest (pmed17: 10 s against 30 s for HiGHS), but it is exact
    # only on whole numbers; HiGHS takes the rest.
    backend = settings.backend or ("sat" if integral else "highs")
    if open_gap():
        # (3) Fix sites by reduced costs: no plan opening (closing) them beats the cutoff.
        cutoff = best_value - step()
        closed, opened = _fixed_by_reduced_costs(lp, cutoff)

        def too_large() -> bool:
            return _model_pairs(pairs, must | opened, never | closed) > _EXACT_PAIRS

        if math.isfinite(best_value) and too_large():
            # Too large to prove in the time left: look for a better incumbent
            # (which also fixes more sites), by iterated local search kicked with
            # the sites fixing cannot rule out, then on the LP's kernel with
            # growing neighbourhoods.
            pool = allowed & ((lp.y > 1e-6) | ~_fixed_by_reduced_costs(lp, best_value)[0])
            nearest = kernel_nearest(int(pool.sum()), p)
            offer(
                iterated_interchange(
                    _search_pairs(pairs, allowed, best_sites, nearest),
                    row_weights,
                    best_sites,
                    fixed=must,
                    allowed=allowed,
                    pool=pool,
                    # Without the LP nothing exact can follow: the search has the time.
                    seconds=(0.15 if lp.converged else 0.95) * left(),
                    seed=settings.seed,
                    classes=classes,
                )
            )
            # With up to about a hundred sites to place, the tree (no radius
            # model, no size limit) does better with the time than kernel
            # search: gmed38 (900 vertices, p = 5) proven in 56 s with the tree
            # at once, open at 60 s when the kernel search came first; TSPLIB
            # sets at p = 50 and 100 (u1432, fl1577, d1655, vm1748, u1817,
            # rl1304; 120 s) 11 of 12 proven in 4-62 s with the tree at once,
            # 9 of 12 in up to 119 s with kernel search first. With many,
            # kernel search finds the plans (fl1400, p = 200: 8,806 with it,
            # 8,809 and 8,818 with the tree at once). Whatever p, the tree also
            # goes first when the local search's plan is already within 0.05 %
            # of the LP bound: held-out TSPLIB sets at p = 200-500 (120 s),
            # u1817 p = 200 proven in 101 s (open with kernel search first),
            # and 10 that kernel search first proved too in 22-77 s against
            # 23-66 s (8 faster; d1655 p = 500 77 s against 43 s). The plans of fl1400,
            # fl1577 and d1655 at p = 200 were 0.11-0.24 % above the bound,
            # and there kernel search kept its place.
            near = relative_gap(best_value, bound) <= _TREE_FIRST_GAP
            tree_first = not len(side) and (p <= _TREE_FIRST_P or near)
            logger.debug(
                "p-median: plan %.12g after local search, LP bound %.12g, %s first",
                best_value,
                bound,
                "tree" if tree_first else "kernel search",
            )
            while (
                lp.converged
                and not tree_first
                and too_large()
                and left() > 0.1 * settings.time_limit_s
            ):
                found = kernel_search(
                    pairs,
                    row_weights,
                    p,
                    must=must,
                    never=never,
                    side=side,
                    kernel=~closed,
                    incumbent=best_sites,
                    nearest=nearest,
                    backend=backend,
                    settings=settings,
                    deadline=time.perf_counter() + 0.5 * left(),
                )
                if found is not None and offer(found):
                    details["kernel_objective"] = best_value
                    cutoff = best_value - step()
                    closed, opened = _fixed_by_reduced_costs(lp, cutoff)
                elif nearest >= kernel_nearest_cap(pairs.n_rows):
                    break
                else:
                    nearest = min(2 * nearest, kernel_nearest_cap(pairs.n_rows))
        details["sites_fixed_closed"] = float((closed & allowed).sum())
        details["sites_fixed_open"] = float((opened & ~must).sum())
        details["pairs_in_exact_model"] = float(_model_pairs(pairs, must | opened, never | closed))
        # (4) The radius model on the sites left, when it can be solved at all.
        # A plan it cannot see costs more than the cutoff: at least the
        # incumbent when the objective is whole.
        floor = cutoff + integral_step
        result: MilpResult | None = None
        # Without the LP, exact steps only on a model small enough for them.
        exact = lp.converged or not too_large()
        if not len(side) and math.isfinite(best_value) and exact:
            tree = _search_tree(
                rows,
                row_weights,
                p,
                must | opened,
                never | closed,
                start_y=lp.y,
                incumbent=best_sites,
                incumbent_value=best_value,
                integral=integral,
                settings=settings,
                deadline=started + settings.time_limit_s,
            )
            if tree is None:
                bound = max(bound, floor)  # fixing left no plan: none beats the cutoff
            else:
                details.update(tree_nodes=float(tree.nodes), tree_cuts=float(tree.cuts))
                if tree.sites is not None:
                    offer(tree.sites)
                bound = max(bound, min(tree.bound, floor))
        elif not math.isfinite(best_value) or (
            exact and details["pairs_in_exact_model"] <= _EXACT_LIMIT
        ):
            result = _solve_reduced(
                rows,
                row_weights,
                p,
                must | opened,
                never | closed,
                side,
                backend,
                settings,
                started + settings.time_limit_s,
                best_sites if math.isfinite(best_value) else None,
            )
            if result is None or result.status is MilpStatus.INFEASIBLE:
                if not math.isfinite(best_value):
                    raise _infeasible(p, must, never, reachable, side)
                bound = max(bound, floor)
            else:
                if result.status is not MilpStatus.NO_SOLUTION:
                    offer(sites_from_values(result.values, n_sites))
                if math.isfinite(result.bound):
                    bound = max(bound, min(result.bound, floor))
    if not math.isfinite(best_value):
        raise _no_plan(settings, lp, p, apart)

    open_sites = lowest_equivalent(
        matrix,
        best_sites,
        fixed=must,
        allowed=allowed,
        classes=classes,
    )
    assignment, _ = evaluate.nearest_open(matrix, open_sites)
    objective = evaluate.p_median_objective(matrix, demand, open_sites)
    bound /= scale
    for key in ("lp_bound", "heuristic_objective", "lagrangian_bound", "kernel_objective"):
        if key in details:
            details[key] /= scale
    proven = relative_gap(objective, bound) <= settings.relative_gap * (1 + 1e-6)
    kind = MilpStatus.OPTIMAL if proven else MilpStatus.FEASIBLE
    return finish(
        model="p_median",
        sense="min",
        result=MilpResult(kind, np.empty(0), objective, bound, 0.0),
        objective=objective,
        open_sites=open_sites,
        assignment=assignment,
        settings=settings,
        started=started,
        details=details,
    )


#: Up to this p, a model too large for the radius model goes to the tree at once
#: (the measurements are where it is used, in :func:`p_median`).
_TREE_FIRST_P = 100
#: ... or when the local search's plan is within this share of the LP bound.
_TREE_FIRST_GAP = 5e-4

#: Greedy runs only when p × pairs is at most this (it costs about that many steps),
#: or when the LP does not finish.
_GREEDY_WORK = 2e8
#: Share of the time left that the Lagrangian bound takes when the LP did not finish
#: (five countries' dealers, p = 400, 60 s: 69,839 in 720 steps; at 0.2 69,402,
#: the plan the same: the local search after it improved nothing either way).
_LAGRANGIAN_SHARE = 0.35
#: Share of the time left that the LP's first round may take: one that outlasts it
#: leaves too little for the rounds after it (five countries' dealers, 3.2 M
#: pairs: the first round unfinished after 29 s). The default network's LP at
#: p = 300 takes 6-7 s for its first round (14 s in all); the standard sets'
#: whole LPs converge in a few seconds (fl1400 p = 300: 10 rounds in 2.8 s).
_FIRST_ROUND_SHARE = 0.3
#: Above this many pairs the exact model waits for a kernel-search incumbent.
_EXACT_PAIRS = 150_000
#: Above this many pairs the exact model is not even tried (measured: CP-SAT
#: proves 76,000-pair models of fl1400 in under a minute, not 530,000).
_EXACT_LIMIT = 400_000


def _whole(values: FloatArray) -> bool:
    """Every value is a whole number (so sums of products are whole too)."""
    return bool(np.all(values == np.round(values)))


def _rounded(y: FloatArray, p: int, must: BoolArray, allowed: BoolArray) -> IntArray:
    """The fixed sites and the largest LP values up to p sites (ties to the lowest index)."""
    score = np.where(allowed, y, -np.inf)
    score[must] = np.inf
    return np.sort(np.argsort(-score, kind="stable")[:p]).astype(np.int64)


def _fixed_by_reduced_costs(lp: MedianLp, cutoff: float) -> tuple[BoolArray, BoolArray]:
    """Sites that no plan of value below ``cutoff`` can open (close), by LP duality."""
    if not math.isfinite(cutoff) or not math.isfinite(lp.lp_value):
        empty = np.zeros(lp.y.size, dtype=bool)
        return empty, empty.copy()
    tolerance = 1e-9 * max(1.0, abs(cutoff))
    closed = (lp.y <= 1e-9) & (lp.lp_value + lp.reduced_lower > cutoff + tolerance)
    opened = (lp.y >= 1 - 1e-9) & (lp.lp_value - lp.reduced_upper > cutoff + tolerance)
    return closed, opened


def _search_pairs(
    pairs: SortedPairs, allowed: BoolArray, incumbent: IntArray, nearest: int
) -> SortedPairs:
    """The pairs local search looks at: each row's ``nearest`` sites and its server.

    With many sites open a row is served by one of its few nearest, so the
    search loses little by ignoring the rest and every swap it evaluates
    costs a small fraction (fl1400, p = 300: 28,000 of 1.96 million pairs).
    A plan leaving a row without one of its listed sites open counts as
    unserved there, which only makes the search avoid it.
    """
    if 2 * nearest * pairs.n_rows >= pairs.size:
        return pairs
    return SortedPairs(nearest_pairs(pairs, allowed, incumbent, nearest))


def _model_pairs(pairs: SortedPairs, must: BoolArray, never: BoolArray) -> int:
    """Pairs of the radius model once ``never`` sites go and rows stop at their nearest ``must``."""
    usable = ~never[pairs.site]
    nearest_must = np.full(pairs.n_rows, np.inf)
    opened = must[pairs.site]
    np.minimum.at(nearest_must, pairs.owner[opened], pairs.cost[opened])
    return int(np.sum(usable & (pairs.cost <= nearest_must[pairs.owner])))


def _search_tree(
    rows: sp.csr_matrix,
    weights: FloatArray,
    p: int,
    must: BoolArray,
    never: BoolArray,
    *,
    start_y: FloatArray,
    incumbent: IntArray,
    incumbent_value: float,
    integral: bool,
    settings: SolverSettings,
    deadline: float,
) -> TreeResult | None:
    """The branch and cut on the sites left free; None when fixing left no feasible plan."""
    if int(must.sum()) > p or int((~never).sum()) < p or np.any(must & never):
        return None
    if np.any(np.diff(drop_sites(rows, never).indptr) == 0):
        return None  # a row lost every site it could be served by
    # Only the sites left: shorter cuts and fewer rows.
    reduced, reduced_weights, _ = reduced_rows(rows, weights, must, never)
    return branch_and_cut(
        SortedPairs(reduced),
        reduced_weights,
        p,
        fixed=must,
        allowed=~never,
        start_y=np.where(never, 0.0, start_y),
        incumbent=incumbent,
        incumbent_value=incumbent_value,
        integral=integral,
        relative_gap=settings.relative_gap,
        deadline=deadline,
    )


def _solve_reduced(
    rows: sp.csr_matrix,
    weights: FloatArray,
    p: int,
    must: BoolArray,
    never: BoolArray,
    side: SiteRows,
    backend: str,
    settings: SolverSettings,
    deadline: float,
    incumbent: IntArray | None,
) -> MilpResult | None:
    """The radius model on the sites left free; None when fixing left no feasible plan."""
    if int(must.sum()) > p or int((~never).sum()) < p or np.any(must & never):
        return None
    if np.any(np.diff(drop_sites(rows, never).indptr) == 0):
        return None  # a row lost every site it could be served by
    reduced, reduced_weights, _ = reduced_rows(rows, weights, must, never)
    hint = None
    if (
        incumbent is not None
        and not np.any(never[incumbent])
        and np.all(np.isin(np.flatnonzero(must), incumbent))
    ):
        hint = incumbent
    milp = radius_milp(reduced, reduced_weights, p, must, never, hint=hint)
    milp = milp_with_site_rows(milp, side)
    seconds = max(deadline - time.perf_counter(), 0.1)
    return solve_milp(milp, replace(settings, time_limit_s=seconds), backend=backend)


def _no_plan(settings: SolverSettings, lp: MedianLp, p: int, apart: int) -> SolverError:
    """The error for a solve that found no plan serving every reachable row in time.

    Every row needs an open site in reach: with p near the fewest sites that
    reach every row (a set covering problem, as hard as this one), a plan is
    hard to find at all (every dealer of five countries at p = 200, where 177
    to 195 sites are the fewest, none in 60 s; at p = 250 one in 6 s).
    """
    why = "" if lp.converged else "; its LP relaxation did not finish either"
    return SolverError(
        f"p_median: no plan found within {settings.time_limit_s:g} s that serves every "
        f"reachable demand row from one of p = {p} sites in reach{why}. At least {apart} "
        "sites are needed (rows that share no site), and the fewest that reach every row "
        "(the set_cover model finds them) may be close to p: raise p or the time limit"
    )


def _infeasible(
    p: int, must: BoolArray, never: BoolArray, reachable: BoolArray, side: SiteRows
) -> InfeasibleError:
    limit = f"p = {p} sites serving all reachable demand within reach"
    if len(side):
        return infeasible_with("p_median", side, limit)
    return InfeasibleError(
        f"p_median: no choice of p = {p} sites ({int(must.sum())} fixed, "
        f"{int(never.sum())} excluded) serves all {int(reachable.sum())} reachable "
        "demand rows within reach"
    )
