r"""The sizing model: which sites open and how many chargers each, at least cost.

Notation: demand rows :math:`i` with peak-hour demand :math:`λ_i` (sessions
per hour at the peak hour; any unit works if ``capacity_per_charger`` uses the
same one), sites :math:`j`, reach set :math:`N_i` (the stored pairs of row
:math:`i` of ``reach``; explicit zeros are pairs), :math:`y_j \in \{0, 1\}`
open site, :math:`n_j \in ℕ` chargers, :math:`x_{ij} \in [0, 1]` the share of
row :math:`i` served by site :math:`j` (demand may split), μ the sessions per
hour one charger takes at the queueing target
(:func:`planner.optimise.sizing.queueing.capacity_per_charger`) and a ≤ 0 an optional
intercept, so that a site of n chargers takes a + μ n (the secant of the
Erlang-C capacity through the least two counts,
:func:`planner.optimise.sizing.queueing.capacity_line`, is exact there and safe for
every other count), :math:`M_j` the charger limit
(grid connection or ``max_chargers``), α the coverage target, Λ the demand
within reach of a site that is not excluded, P the optional penalty per unit
of unserved demand::

    min  Σ_j f_j y_j + Σ_j c_j n_j + P Σ_i λ_i (1 - Σ_j x_ij)
    s.t. Σ_{j ∈ N_i} x_ij ≤ 1                  for every demand row i     (1)
         Σ_i λ_i x_ij ≤ μ n_j + a y_j           for every site j           (2)
         n_j ≤ M_j y_j                          for every site j           (3)
         x_ij ≤ y_j                             for every pair in reach    (4)
         Σ_ij λ_i x_ij ≥ α Λ                                               (5)
         n_j ≥ m y_j                            least chargers at a site   (6)
         Σ_j n_j ≥ ⌈α Λ / μ⌉                    chargers for the target    (7)
         Σ_j f_j y_j + Σ_j c_j n_j ≤ B          optional budget            (8)
         lo ≤ A y ≤ hi                          side constraints           (9)
         y_j = 1 for fixed sites, y_j = 0 for excluded sites

(9) are the rows of :mod:`planner.optimise.constraints` (brand shares,
country bounds) over the open-site indicators; the budget (8) counts the
chargers the model installs, not a fixed number per site.

(4) is implied by (2)–(3) but tightens the LP relaxation (the site cost is
no longer spread over M_j chargers); it adds one row per pair, so it is used
up to ``_formulation.LINK_PAIRS`` pairs, beyond which the LP with it takes
longer than the whole solve should (measured: 223,000 pairs, HiGHS simplex
unfinished after 60 s; without (4) 9 s). (5) is dropped when α = 0 (penalty
only); m is ``min_chargers``.

Reductions before solving: pairs to excluded sites are dropped; rows of zero
demand or without any pair leave the model; rows with identical reach sets
merge (their demand sums, and each original row gets its group's shares);
:math:`M_j` is lowered to the chargers needed to serve all demand in reach of
:math:`j` (more could never help), which keeps the big-M of (3) small.

A greedy heuristic gives the warm start and the fallback when the time limit
passes before the solver finds a solution: it opens, one at a time, the site
with the most newly served demand per euro (its charger limit bounding what it
takes) until the target is met, or, with a penalty, while a site saves more
penalty than it costs; chargers are then ⌈load/μ⌉. When it misses the target,
an LP with every allowed site at its limit proves infeasibility with numbers,
or its rounded answer becomes the warm start. A start that breaks the side
constraints or the budget is not handed to the solver.

Before the MILP, :mod:`planner.optimise.sizing._search` improves the start with
maximum-flow plans (few sites, full chargers; :mod:`._heuristic`) and bounds
the optimum from below by a Lagrangian relaxation of rows (1), (5), (7), (8)
and (9), one continuous knapsack per site (:mod:`._lagrange`). Its value, the
counting bound and the solver's bound, the best of them raised to the next
multiple of the costs' common divisor, is the bound reported. Sites the
relaxation proves closed (or open) in every plan cheaper than the start are
fixed in the MILP. The MILP runs up to ``_MILP_PAIRS`` pairs; above that, and
whenever the bound already proves the start within the gap, the search's
plan is the answer (status ``stopped``, not ``time_limit``, when the search
ran every step before its deadline and a gap is left: its bound is then at
the relaxation's best, which more time does not raise). With an unserved
penalty and a coverage target below 1 (up to ``_KERNEL_MILP_PAIRS`` pairs)
the search stops earlier and the MILP on the sites of its plan and of the
relaxation's minimiser may improve that plan: the flow plans aim at a
fixed demand served, the MILP chooses how much to serve.

The objective reported is recomputed by :func:`planner.optimise.sizing.evaluate.evaluate_sizing`
(re-exported here) from the chargers and shares returned, which also
re-checks every constraint.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError, InputError, SolverError
from planner.optimise import _checks, progress
from planner.optimise._milp import MilpResult, MilpStatus, solve_milp
from planner.optimise._reach import drop_sites, entry_rows
from planner.optimise._result import finish
from planner.optimise.constraints import (
    SiteRows,
    caps_short_of_cover,
    describe_rows,
    explain_infeasible,
    no_site_rows,
)
from planner.optimise.sizing import _formulation
from planner.optimise.sizing._lagrange import SizingCosts, cost_step, round_up_to
from planner.optimise.sizing._parts import (
    Capacity,
    SizingInstance,
    counting_bound,
    explain_budget,
    fewest_covering_sites,
    greedy_start,
    max_service,
    pairs_of,
    per_site_values,
    reduce_instance,
    round_up,
    served_demand,
    within_room,
)
from planner.optimise.sizing._search import Search, most_objective, search
from planner.optimise.sizing.evaluate import SizingCheck, evaluate_sizing
from planner.optimise.solution import Solution, SolverSettings, relative_gap

logger = logging.getLogger(__name__)

__all__ = ["SizingCheck", "SizingSolution", "evaluate_sizing", "sizing"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_DEFAULT = SolverSettings()
#: Backend of the MILP, chosen by measurement: on 2,000 demand rows × 200 sites
#: SCIP reached a 0.5 % gap in 20 s while HiGHS spent that long in root cuts.
#: LPs (relaxation, infeasibility diagnosis) go to HiGHS.
_BACKEND = "scip"
#: Most pairs for which the MILP runs after the Lagrangian search; above it the
#: root LP alone outlasts a minute (218,000 pairs: SCIP's root unfinished after
#: 60 s), so the search has the whole time and its plan and bound are the answer.
_MILP_PAIRS = 100_000
#: Share of the time limit the search takes before the MILP.
_SEARCH_SHARE = 0.25
#: Share of the time limit after which the greedy start goes on lazily
#: (:func:`planner.optimise.sizing._parts.greedy_start`).
_GREEDY_SHARE = 0.1
#: With every row to serve, the share of the time limit for set covering's
#: bound on the sites a plan opens (:func:`._parts.fewest_covering_sites`).
_COVER_SHARE = 0.05
#: With every row to serve, the cheapest sites of each row (at set covering's
#: multipliers) in the core the search falls back on when the LP relaxation of
#: the whole instance does not fit in the time (:func:`._search.search`).
_CORE_PER_ROW = 2
#: With an unserved penalty, between ``_MILP_PAIRS`` and ``_KERNEL_MILP_PAIRS``
#: pairs: the search's share of the time limit, the rest going to the MILP on
#: the kernel (:func:`_kernel_milp`) when that has at most
#: ``_KERNEL_MILP_MOST_PAIRS`` pairs and at least ``_KERNEL_MILP_LEAST_S`` seconds.
#: Above 1 M pairs the search runs its own kernel search, and at full scale
#: (3.1 M pairs, one run) the shorter search left the bound at the counting
#: bound while SCIP found no plan on a kernel of 1,911 sites.
_PENALTY_SEARCH_SHARE = 0.6
_KERNEL_MILP_PAIRS = 1_000_000
_KERNEL_MILP_MOST_PAIRS = 50_000
_KERNEL_MILP_LEAST_S = 2.0
#: Most chargers one site may need to serve all demand in its reach. The
#: largest charging hubs hold a few hundred; beyond this the demand is in
#: another unit than the capacity, and the relaxation, which lists every
#: count of every site, would run out of memory (a billion sessions an hour:
#: 500 million counts) or far past its time.
MOST_CHARGERS = 10_000


@dataclass(frozen=True)
class SizingSolution:
    """The sizing model's answer: the common :class:`Solution` plus chargers and shares.

    Attributes
    ----------
    solution
        Status, objective (total cost), proven bound, seconds, open sites and
        the main serving site of every demand row (-1 when unserved).
    chargers
        Chargers at each site (0 at closed sites), one entry per site.
    load
        Demand assigned to each site (same unit as the demand passed in).
    served
        Demand × sites share of each row served by each site; its stored
        pairs are a subset of ``reach``'s. Row sums are at most 1.
    """

    solution: Solution
    chargers: IntArray
    load: FloatArray
    served: sp.csr_matrix

    @property
    def chargers_total(self) -> int:
        """Chargers over all sites."""
        return int(self.chargers.sum())


def sizing(
    reach: sp.csr_matrix,
    demand: FloatArray,
    *,
    site_cost: FloatArray,
    charger_cost: float | FloatArray,
    capacity_per_charger: float,
    max_chargers: FloatArray,
    coverage: float,
    unserved_penalty: float | None = None,
    min_chargers: int = 1,
    capacity_intercept: float = 0.0,
    fixed: BoolArray | None = None,
    excluded: BoolArray | None = None,
    constraints: SiteRows | None = None,
    budget: float | None = None,
    settings: SolverSettings = _DEFAULT,
) -> SizingSolution:
    """Choose sites and charger counts of least cost that serve the coverage target.

    Parameters
    ----------
    reach
        Demand × sites; stored pairs are within reach (explicit zeros too).
        Only the structure is read.
    demand
        Peak-hour demand of each row in sessions per hour (λ_i), non-negative.
    site_cost
        Cost of opening each site (euros), one per site.
    charger_cost
        Cost of one charger (euros), one number or one per site.
    capacity_per_charger
        μ: sessions per hour one charger serves at the queueing target
        (:func:`planner.optimise.sizing.queueing.capacity_per_charger`).
    max_chargers
        Charger limit per site (grid connection or site limit); ``inf`` for none.
    coverage
        α: share of the demand within reach of a non-excluded site that must
        be served, in [0, 1]; 0 leaves only the penalty.
    unserved_penalty
        Cost per unit of unserved demand (euros per session/hour), or ``None``.
    capacity_intercept
        a ≤ 0: an open site of n chargers takes a + μ n (the secant of the
        Erlang-C capacity, :func:`planner.optimise.sizing.queueing.capacity_line`); 0 for μ n.
    min_chargers
        m: least chargers at an open site (at least 1; 2 keeps a site working
        when one charger fails).
    fixed, excluded
        Masks of sites that must / must not open.
    constraints
        Side constraints over the open sites (brand shares, country bounds;
        see :mod:`planner.optimise.constraints`).
    budget
        Most money for site costs plus charger costs (row 8), or ``None``.
    settings
        Time limit, gap, threads and seed.

    Returns
    -------
    SizingSolution
        The common solution (objective: total cost in euros, including the
        penalty) with the chargers, loads and served shares.

    Raises
    ------
    InputError
        Malformed arguments (every problem at once).
    InfeasibleError
        The coverage target cannot be met even with every allowed site at its
        charger limit, a site is both fixed and excluded, a fixed site's
        charger limit is below ``min_chargers``, or the side constraints or
        the budget cannot hold (the message names them, with numbers).
    """
    started = time.perf_counter()
    problems: list[str] = []
    matrix = _checks.canonical_reach(reach, problems)
    n_demand, n_sites = matrix.shape
    lam = _checks.demand_weights(demand, n_demand, problems)
    prices = _checks.site_costs(site_cost, n_sites, problems)
    per_charger = per_site_values("charger_cost", charger_cost, n_sites, problems)
    if not np.all(np.isfinite(per_charger)):
        problems.append("charger_cost must be finite")
    limit = per_site_values("max_chargers", max_chargers, n_sites, problems)
    finite = limit[np.isfinite(limit)]
    if np.any(finite != np.floor(finite)):
        problems.append("max_chargers must be whole numbers (or inf)")
    if not (math.isfinite(capacity_per_charger) and capacity_per_charger > 0):
        problems.append(f"capacity_per_charger must be positive, got {capacity_per_charger!r}")
    if not (math.isfinite(capacity_intercept) and capacity_intercept <= 0):
        problems.append(f"capacity_intercept must be at most 0, got {capacity_intercept!r}")
    if not (isinstance(coverage, int | float) and 0.0 <= coverage <= 1.0):
        problems.append(f"coverage must be in [0, 1], got {coverage!r}")
    if unserved_penalty is not None and not (
        math.isfinite(unserved_penalty) and unserved_penalty >= 0
    ):
        problems.append(f"unserved_penalty must be non-negative, got {unserved_penalty!r}")
    if isinstance(min_chargers, bool) or not isinstance(min_chargers, int) or min_chargers < 1:
        problems.append(f"min_chargers must be a whole number of at least 1, got {min_chargers!r}")
    must = _checks.site_mask(fixed, n_sites, "fixed", problems)
    never = _checks.site_mask(excluded, n_sites, "excluded", problems)
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        problems.append(f"budget must be non-negative, got {budget!r}")
    side = no_site_rows(n_sites) if constraints is None else constraints
    if side.n_sites != n_sites:
        problems.append(f"side constraints are over {side.n_sites} sites, the model has {n_sites}")
    _checks.raise_problems("sizing", problems)
    _checks.check_fixed_excluded("sizing", must, never)
    explain_infeasible(side, p=None, exact_p=False, fixed=must, excluded=never)
    if budget is not None:
        explain_budget(budget, prices, per_charger, must, min_chargers)
    no_room = np.flatnonzero(must & (limit < min_chargers))
    if no_room.size:
        raise InfeasibleError(
            f"sizing: {no_room.size} fixed site(s) have a charger limit below min_chargers = "
            f"{min_chargers} (first: site {int(no_room[0])}, limit {limit[no_room[0]]:g})"
        )

    # Solved on demand (and capacity) scaled by a power of two so that the largest
    # row's is at least 1: at 1e-6 sessions/hour the solver's absolute tolerances
    # took an overloaded plan missing the target for optimal. Costs are unchanged;
    # the penalty per unit of demand scales the other way.
    scale = _checks.unit_scale(float(lam.max(initial=0.0)))
    lam = lam * scale
    if unserved_penalty is not None:
        unserved_penalty = unserved_penalty / scale
    mu = Capacity(float(capacity_per_charger) * scale, float(capacity_intercept) * scale)
    inst = reduce_instance(matrix, lam, limit, mu, never, min_chargers)
    every_row = coverage >= 1.0  # all the demand within reach to serve
    # With every row to serve, a cap on a group below the sites its own rows need is
    # proven by counting, before any search (constraints.toml at coverage 1: 3.6 s in
    # all, where the search's bound took 20.8 s to prove it, without saying why).
    short = caps_short_of_cover(side, inst.rows) if every_row else []
    if short:
        raise InfeasibleError(
            "sizing: no plan serves every peak-hour session within reach under the side "
            "constraints: " + "; ".join(short),
            remedy={"caps_short": float(len(short))},
        )
    crowded = np.flatnonzero(inst.limit > MOST_CHARGERS)
    if crowded.size:
        # The relaxation lists every charger count of a site: millions of them
        # ran out of memory, or minutes past the time limit.
        worst = int(crowded[np.argmax(inst.limit[crowded])])
        raise InputError(
            f"sizing: {crowded.size} site(s) would take more than {MOST_CHARGERS:,} chargers "
            f"each to serve the demand in their reach (site {worst}: "
            f"{inst.limit[worst]:,.0f}); demand and capacity_per_charger are likely in "
            "different units (both are sessions per hour), or max_chargers is missing"
        )
    reachable = float(lam[np.diff(matrix.indptr) > 0].sum())
    within = float(inst.row_demand.sum())  # within reach of a non-excluded site
    target = coverage * within
    pair_row, pair_site = pairs_of(inst.rows)

    best = greedy_start(
        inst,
        prices,
        per_charger,
        mu,
        target,
        unserved_penalty,
        must,
        min_chargers,
        deadline=started + _GREEDY_SHARE * settings.time_limit_s,
    )
    if served_demand(inst, best) < target * (1 - 1e-9):
        best = max_service(
            inst, mu, coverage, target, within, _time_left(settings, started), scale=scale
        )
    hint_y, hint_n = round_up(inst, best, mu, must, min_chargers)
    start_cost = float(prices @ hint_y + per_charger @ hint_n)
    start_ok = not side.satisfied(np.flatnonzero(hint_y > 0)) and (
        budget is None or start_cost <= budget + 1e-6
    )
    least_sites, core = 0, None
    if every_row and within > 0:  # the open sites reach every row
        least_sites, core = fewest_covering_sites(
            inst,
            min_chargers,
            max(float(hint_y.sum()), 1.0),
            deadline=time.perf_counter() + _COVER_SHARE * settings.time_limit_s,
            per_row=_CORE_PER_ROW,
        )
    floor = counting_bound(
        inst, prices, per_charger, mu, target, must, min_chargers, least_sites=least_sites
    )
    if budget is not None and unserved_penalty is None and floor > budget * (1 + 1e-9):
        enough = not side.satisfied(np.flatnonzero(hint_y > 0))
        raise InfeasibleError(
            f"sizing: serving {coverage:.1%} of the {within / scale:,.1f} peak-hour sessions "
            f"within reach costs at least {floor:,.0f} EUR in sites and chargers, above the budget "
            f"of {budget:,.0f} EUR"
            + (f"; a plan costing {start_cost:,.0f} EUR serves it" if enough else ""),
            remedy={"budget": math.ceil(start_cost)} if enough else None,
        )
    if unserved_penalty is not None:
        floor += unserved_penalty * (float(lam.sum()) - within)
    progress.note(bound=floor, maximise=False)
    if start_ok and unserved_penalty is None:
        progress.note(best=start_cost, maximise=False)
    costs = SizingCosts(
        prices, per_charger, mu, target, math.ceil(target / mu.per_charger - 1e-9),
        unserved_penalty or 0.0, (unserved_penalty or 0.0) * float(lam.sum()), must,
        min_chargers, side, budget,
    )  # fmt: skip
    whole_milp = pair_row.size <= _MILP_PAIRS
    # With every row to serve the penalty is a constant: there is no amount of
    # service for the kernel's MILP to choose, and the search keeps its time.
    kernel_milp = not whole_milp and unserved_penalty is not None and not every_row
    kernel_milp &= pair_row.size <= _KERNEL_MILP_PAIRS
    start_served = served_demand(inst, best)
    start_objective = costs.objective(start_cost, start_served)
    share = _SEARCH_SHARE if whole_milp else _PENALTY_SEARCH_SHARE if kernel_milp else 0.9
    search_until = started + settings.time_limit_s * share
    if np.any(inst.limit[pair_site] >= min_chargers):
        found = search(
            inst, costs, start=hint_y > 0, start_cost=start_objective if start_ok else math.inf,
            deadline=search_until, start_served=start_served, core=core,
        )  # fmt: skip
    else:  # no site can serve anything: no relaxation to search (its arrays would be empty)
        nothing = np.zeros(n_sites, dtype=bool)
        found = Search(None, -math.inf, nothing, nothing, 0, nothing)
    # Done before its deadline: every step of the search ran to its end (its
    # ascent stalled), so more time would not have raised the bound.
    exhausted = time.perf_counter() < search_until
    if found.plan is not None:
        best, hint_n = found.plan.shares, found.plan.chargers
        hint_y = found.plan.is_open.astype(np.float64)
        start_cost, start_ok = found.plan.cost, True
        start_objective = costs.objective(start_cost, served_demand(inst, best))
    milp = _formulation.build_milp(
        inst, prices, per_charger, mu, target, unserved_penalty, must, never, lam, min_chargers
    )
    milp = _formulation.with_side_rows(milp, side, budget, prices, per_charger, n_sites)
    if start_ok:
        milp = replace(milp, hint=np.concatenate([hint_y, hint_n, best]))
    floor = max(floor, found.bound)
    progress.note(bound=floor, maximise=False)
    if start_ok:
        progress.note(best=start_objective, maximise=False)
    left = _left_s(settings, started)
    proven = start_ok and relative_gap(start_objective, floor) <= settings.relative_gap
    kernel = ((hint_y > 0) | found.minimiser) & ~never
    if kernel_milp and start_ok and not proven and left < _KERNEL_MILP_LEAST_S:
        exhausted = False  # the kernel's MILP below had no time left to run
    if (
        kernel_milp
        and start_ok
        and not proven
        and left >= _KERNEL_MILP_LEAST_S
        and np.count_nonzero(kernel[pair_site]) <= _KERNEL_MILP_MOST_PAIRS
    ):
        values = np.concatenate([hint_y, hint_n, best])
        seconds = replace(settings, time_limit_s=0.9 * left)
        better = _formulation.kernel_milp(
            inst, costs, kernel, values, unserved_penalty, lam, budget, seconds
        )
        exhausted &= better is not None and better.status is MilpStatus.OPTIMAL
        if better is not None and better.objective < start_objective * (1 - 1e-9):
            hint_y = np.round(better.values[:n_sites])
            hint_n = np.round(better.values[n_sites : 2 * n_sites])
            best = np.clip(better.values[2 * n_sites :], 0.0, 1.0)
            start_objective = better.objective
            progress.note(best=start_objective, maximise=False)
            proven = relative_gap(start_objective, floor) <= settings.relative_gap
    # A penalty's MILP over every pair is not tried above _MILP_PAIRS either: in the
    # seconds left SCIP found no plan (218,000 pairs) and the solve ran past its limit.
    if proven or (start_ok and not whole_milp):
        # Proven by the bound, or too large for the MILP within the time: the plan found.
        values = np.concatenate([hint_y, hint_n, best])
        result = MilpResult(
            MilpStatus.OPTIMAL if proven else MilpStatus.FEASIBLE,
            values,
            start_objective,
            floor,
            0.0,
        )
    elif not whole_milp:
        # No plan meets the side rows or the budget, and none is to be had from the
        # MILP in the seconds left: on 218,000 pairs SCIP took 20 s past the limit
        # to build the model and end without one.
        result = MilpResult(MilpStatus.NO_SOLUTION, np.zeros(0), math.nan, floor, 0.0)
    else:
        exhausted = False  # the MILP's own status says whether its limit stopped it
        if start_ok:
            closed, opened = found.closed & (hint_y == 0), found.opened & (hint_y > 0)
            milp = _formulation.fix_sites(milp, closed, opened)
        result = solve_milp(
            milp,
            replace(settings, time_limit_s=max(left, 1.0)),
            backend=_BACKEND,
            report=progress.whole_model(maximise=False),
        )
    if not result.bound >= floor:  # also when the solver has no bound (nan)
        result = replace(result, bound=floor)
    # Every plan's cost is a multiple of the costs' common divisor, so is the optimum.
    step = cost_step(prices, per_charger, unserved_penalty)
    result = replace(result, bound=round_up_to(result.bound, step))
    proven_none = (
        result.status is MilpStatus.NO_SOLUTION
        and not start_ok
        and result.bound > most_objective(inst, costs) * (1 + 1e-9)
    )
    # Above what every site at its limit costs no plan meets the side rows at all,
    # and the bound (the price of a side row missed) is no figure to show.
    over_budget = proven_none and budget is not None and unserved_penalty is None
    over_budget &= result.bound <= most_objective(inst, replace(costs, budget=None))
    if proven_none:
        # The bound holds for every plan meeting all the rows, side rows and budget
        # included (the Lagrangian prices them): above what any plan costs, or above
        # the budget, it proves there is none, which no more time changes.
        result = replace(result, status=MilpStatus.INFEASIBLE)
    if result.status is MilpStatus.INFEASIBLE:
        # The numbers when the target alone is out of reach; with no time left to
        # tell, the plainer message below still holds.
        with contextlib.suppress(SolverError):
            max_service(
                inst, mu, coverage, target, within, _time_left(settings, started), scale=scale
            )
        limits = []
        if len(side):
            limits.append(describe_rows(side, excluded=never))
        if budget is not None:
            limits.append(f"budget ≤ {budget:,.0f} EUR for sites and chargers")
        raise InfeasibleError(
            f"sizing: no plan serves {coverage:.1%} of the {within / scale:,.1f} peak-hour "
            f"sessions within reach with at least {min_chargers} charger(s) at every open site"
            + (f" under the side constraints ({'; '.join(limits)})" if limits else "")
            + (
                f": a plan meeting them all would cost at least {result.bound:,.0f} EUR"
                if over_budget
                else ""
            )
        )
    if result.status is MilpStatus.NO_SOLUTION:
        if not start_ok:
            raise SolverError(
                f"sizing: no plan meeting the side constraints found within "
                f"{settings.time_limit_s:g} s; raise solver.time_limit_s"
            )
        logger.warning("sizing: no solution within the time limit; returning the start plan")
        count, shares = hint_n, best
    elif start_ok and result.objective > start_objective * (1 + 1e-9):
        # The backend did not take the start up and found only a dearer plan.
        result = replace(result, objective=start_objective)
        count, shares = hint_n, best
    else:
        count = np.round(result.values[n_sites : 2 * n_sites])
        shares = np.clip(result.values[2 * n_sites :], 0.0, 1.0)

    shares = within_room(inst, shares, count, mu)
    chargers = count.astype(np.int64)
    served = _expand(inst, shares, n_demand, n_sites)
    check = evaluate_sizing(
        drop_sites(matrix, never),
        lam,
        chargers=chargers,
        served=served,
        site_cost=prices,
        charger_cost=per_charger,
        capacity_per_charger=mu.per_charger,
        capacity_intercept=mu.intercept,
        max_chargers=limit,
        coverage=coverage,
        unserved_penalty=unserved_penalty,
        min_chargers=min_chargers,
        open_sites=np.flatnonzero(must),
    )
    open_sites = np.flatnonzero((chargers > 0) | must).astype(np.int64)
    violations = list(check.violations) + side.satisfied(open_sites)
    if budget is not None and check.site_cost + check.charger_cost > budget * (1 + 1e-9) + 1e-6:
        violations.append(f"cost {check.site_cost + check.charger_cost:,.0f} above the budget")
    if violations:
        raise SolverError(f"sizing: the solver's answer fails the check: {violations}")
    details = {
        "site_cost": check.site_cost,
        "charger_cost": check.charger_cost,
        "penalty_cost": check.penalty_cost,
        "chargers_total": float(chargers.sum()),
        "demand_total": float(lam.sum()) / scale,
        "demand_reachable": reachable / scale,
        "demand_within_reach": within / scale,
        "demand_served": check.served_demand / scale,
        "coverage_of_reachable": check.served_demand / within if within > 0 else 1.0,
        "rows_in_model": float(inst.rows.shape[0]),
        "rows_before_aggregation": float(inst.kept.sum()),
        "pairs_in_model": float(pair_row.size),
    }
    solution = finish(
        model="sizing",
        sense="min",
        result=result,
        objective=check.objective,
        open_sites=open_sites,
        assignment=_main_site(served),
        settings=settings,
        started=started,
        details=details,
        exhausted=exhausted,
    )
    logger.info(
        "sizing: %d sites, %d chargers, cost %.6g (bound %.6g) in %.2f s",
        open_sites.size,
        int(chargers.sum()),
        solution.objective,
        solution.bound,
        solution.seconds,
    )
    solution = replace(solution, allocation=served, chargers=chargers)
    return SizingSolution(solution, chargers, check.load / scale, served)


def _expand(inst: SizingInstance, shares: FloatArray, n_demand: int, n_sites: int) -> sp.csr_matrix:
    """Shares of the distinct rows handed back to every original row of their group."""
    # A copy of the pattern: dropping the zero shares in place would drop pairs from inst.rows.
    per_row = sp.csr_matrix(
        (shares, inst.rows.indices, inst.rows.indptr), shape=inst.rows.shape, copy=True
    )
    per_row.eliminate_zeros()
    kept_rows = np.flatnonzero(inst.kept)
    pick = sp.csr_matrix(
        (np.ones(kept_rows.size), (kept_rows, inst.group)), shape=(n_demand, inst.rows.shape[0])
    )
    served = sp.csr_matrix(pick @ per_row)
    served.data[served.data < 1e-9] = 0.0
    served.eliminate_zeros()
    served.sort_indices()
    return served


def _main_site(served: sp.csr_matrix) -> IntArray:
    """The site serving the largest share of each row (lowest index on ties); -1 if none."""
    n_demand = served.shape[0]
    main = np.full(n_demand, -1, dtype=np.int64)
    rows = entry_rows(served)
    keep = served.data > 1e-6
    rows, sites, values = rows[keep], served.indices[keep].astype(np.int64), served.data[keep]
    order = np.lexsort((sites, -values, rows))
    rows, sites = rows[order], sites[order]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    main[rows[first]] = sites[first]
    return main


def _left_s(settings: SolverSettings, started: float) -> float:
    """Seconds the solve started at ``started`` has left."""
    return settings.time_limit_s - (time.perf_counter() - started)


def _time_left(settings: SolverSettings, started: float) -> SolverSettings:
    """``settings`` with the time the solve has left, a second at least for one last LP."""
    return replace(settings, time_limit_s=max(_left_s(settings, started), 1.0))
