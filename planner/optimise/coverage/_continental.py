"""Maximal covering on a continent: PDLP's bound, regional or kernel plans, then SCIP.

Models with more than ``model.KERNEL_FROM_PAIRS`` reach pairs come here
(see :mod:`planner.optimise.coverage.model`): at that size neither SCIP's nor
HiGHS's root LP finishes within the limit, so the bound comes from a
first-order LP method and the plan from smaller models.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from planner.optimise import progress
from planner.optimise._milp import Milp, MilpStatus, solve_milp
from planner.optimise._result import sites_from_values
from planner.optimise.coverage._lagrange import mclp_lagrangian
from planner.optimise.coverage._lp import coverage_lp, rounded_sites
from planner.optimise.coverage._reduced import Reduced, hint_values, infeasible, no_plan
from planner.optimise.coverage._regions import regional_plan
from planner.optimise.coverage._rows import BoolArray, FloatArray, IntArray
from planner.optimise.heuristics import swap_coverage
from planner.optimise.solution import SolverSettings, relative_gap

logger = logging.getLogger(__name__)

#: LP value from which a site belongs to the kernel. The constraints scenario
#: on the full-scale sample dealers (a budget of about 73 sites, France at
#: most 35, brand shares; 12k rows × 7.6k sites), whose LP spreads over 384
#: sites: from 0.3, 78 sites and a plan of 5,093 sessions/day against the
#: LP's 7,109; from 0.05, 205 sites, proven within the kernel in 19.9 s at
#: 7,100 (0.13 % below the LP); from 0.01, 311 sites, 7,100 unproven in 22.5 s.
KERNEL_LP_VALUE = 0.05
#: Share of the time limit a continental solve keeps back after its regional
#: sweeps (evaluating the plan, assembling the solution).
REGIONS_RESERVE = 0.02
#: Share of the time limit that must be left after the sweeps for SCIP to run.
SCIP_AFTER_REGIONS = 0.2
#: Seconds that must be left for SCIP to get the model when PDLP did not
#: converge: at this size its root LP takes minutes (Europe: unfinished after
#: 100 s), and loading the model alone runs seconds past a limit (every dealer
#: of the five default countries, a 20 s limit: SCIP given 4.9 s took 10 s).
SCIP_WITHOUT_LP_S = 120.0
#: Share of the time limit PDLP may take (at most a minute). Every dealer of the
#: five default countries at p = 60 (12,149 rows × 7,382 sites after reduction)
#: needs 21.6 s with the model's build: at 0.3 of 60 s it stopped unconverged,
#: the subgradient bound was 3.6 % high and no regions ran (6,884 against
#: 7,230, gap 5.0 %); with the time, 6,963 against 6,979 (0.22 %) at 38 s.
#: Europe's LP converges in 6.5-33 s of its 110 s either way.
LP_SHARE = 0.45
#: Share of the time limit by which the swaps of the LP's rounded plan stop,
#: so that a short limit leaves the regions time (Europe: a pass takes seconds).
ROUNDED_SWAPS_UNTIL = 0.6


def solve_continental(
    model: Reduced,
    start_sites: IntArray,
    settings: SolverSettings,
    started: float,
    details: dict[str, float],
) -> tuple[IntArray, float, MilpStatus]:
    """PDLP's bound, a regional or kernel MIP's plan, then SCIP on the full model if time is left.

    Without side constraints the plan comes from :func:`regional_plan`; its
    sweeps stop when they stall, and SCIP gets the plan and the time left
    only when that is a real share of the limit. With side constraints
    (which span regions) a MIP over the LP's kernel sites gives the plan.
    """
    rows, row_weights, p = model.rows, model.weights, model.p
    must, never_in_model, n_sites = model.fixed, model.closed, model.n_sites
    allowed = ~never_in_model
    # The LP's duals give the bound (exactly evaluated, see _coverage_lp) and
    # its rounded sites a start; subgradient steps only when the LP does not
    # converge within its share of the time.
    # Its share of the limit, but never the time the rest needs (a 10 s limit
    # on Europe reaches this point after 3.6 s).
    spare = settings.time_limit_s * (1 - SCIP_AFTER_REGIONS) - (time.perf_counter() - started)
    lp = coverage_lp(
        rows,
        row_weights,
        p,
        fixed=must,
        allowed=allowed,
        seconds=max(min(LP_SHARE * settings.time_limit_s, 60.0, spare), 0.0),
        side=model.side,
    )
    if lp is not None:
        rounded = swap_coverage(
            rows,
            row_weights,
            rounded_sites(lp.site_values, p, fixed=must, allowed=allowed),
            fixed=must,
            excluded=never_in_model,
            deadline=started + ROUNDED_SWAPS_UNTIL * settings.time_limit_s,
        )
        start_value = model.value(start_sites)
        if model.value(rounded) > start_value:
            start_sites = rounded
        relaxation_bound, iterations = lp.bound, 0
    else:
        relaxation = mclp_lagrangian(
            rows,
            row_weights,
            np.zeros(n_sites),
            p,
            fixed=must,
            allowed=allowed,
            start=start_sites,
            seconds=min(0.1 * settings.time_limit_s, 10.0),
            max_iterations=300,
            target_gap=settings.relative_gap,
        )
        start_sites = relaxation.sites
        relaxation_bound, iterations = relaxation.bound, relaxation.iterations
    start_feasible = model.feasible(start_sites)
    # The LP keeps the side rows; the subgradient's relaxation drops them, which
    # relaxes the model, so its bound holds with them too.
    lagrangian_bound = relaxation_bound + model.fixed_weight
    details.update(
        {
            "lp_bound": lagrangian_bound,
            "lagrangian_iterations": float(iterations),
            "lp_seconds": lp.seconds if lp is not None else 0.0,
        }
    )
    heuristic_value = model.value(start_sites) + model.fixed_weight if start_feasible else -np.inf
    progress.note(best=heuristic_value, bound=lagrangian_bound, maximise=True)
    if relative_gap(heuristic_value, lagrangian_bound) <= settings.relative_gap:
        # Proven by the relaxation: no branch and bound needed.
        return start_sites, lagrangian_bound, MilpStatus.OPTIMAL
    if lp is not None and not len(model.side):
        # Regions solved by their own dual LPs, then swept until the time is up
        # (with side constraints, which span regions, the kernel MIP below instead).
        deadline = started + settings.time_limit_s - REGIONS_RESERVE * settings.time_limit_s
        plan = regional_plan(
            rows,
            row_weights,
            p,
            fixed=must,
            closed=never_in_model,
            site_values=lp.site_values,
            start=start_sites,
            deadline=deadline,
            on_plan=lambda value: progress.note(best=value + model.fixed_weight, maximise=True),
        )
        value = model.value(plan) + model.fixed_weight
        details["regional_objective"] = value
        if value > heuristic_value:
            start_sites, heuristic_value = plan, value
        if relative_gap(heuristic_value, lagrangian_bound) <= settings.relative_gap:
            return start_sites, lagrangian_bound, MilpStatus.OPTIMAL
        left = settings.time_limit_s - (time.perf_counter() - started)
        if left < SCIP_AFTER_REGIONS * settings.time_limit_s:
            # The sweeps used the time, as they do on a continent: SCIP would
            # not finish its root LP, and loading the model alone takes seconds.
            return start_sites, lagrangian_bound, MilpStatus.FEASIBLE
    left = settings.time_limit_s - (time.perf_counter() - started)
    if lp is None and start_feasible and left < SCIP_WITHOUT_LP_S:
        # Neither an LP nor the time for SCIP, whose loading alone takes
        # seconds at this size (Europe, a 10 s limit: 3 s past it).
        return start_sites, lagrangian_bound, MilpStatus.FEASIBLE
    lower, upper = model.site_bounds()
    milp = model.milp(lower=lower, upper=upper, hint=start_sites if start_feasible else None)
    if lp is not None and len(model.side):
        left = settings.time_limit_s - (time.perf_counter() - started)
        kernel = _kernel_sites(milp, lp.site_values, start_sites if start_feasible else None)
        # The kernel's plan should come well within the gap sought: at that gap
        # the hint alone would count as the kernel's optimum.
        kernel_settings = replace(
            settings, time_limit_s=max(0.5 * left, 0.5), relative_gap=0.01 * settings.relative_gap
        )
        found = _solve_kernel(milp, kernel, kernel_settings)
        if found is not None:
            value = model.value(found) + model.fixed_weight
            details["kernel_sites"] = float(kernel.sum())
            details["kernel_objective"] = value
            if value > heuristic_value:
                start_sites, heuristic_value, start_feasible = found, value, True
                milp = replace(milp, hint=hint_values(model.folded_rows, n_sites, found))
    # SCIP (without restarts) proved the France MCLP (15k places, 2k sites,
    # p = 100) in 6 s where CP-SAT took 11 s and HiGHS 28 s (benchmarks/README.md).
    left = settings.time_limit_s - (time.perf_counter() - started)
    result = solve_milp(milp, replace(settings, time_limit_s=max(left, 0.5)), backend="scip")
    if result.status is MilpStatus.INFEASIBLE:
        raise infeasible(model)
    if result.status is MilpStatus.NO_SOLUTION and not start_feasible:
        raise no_plan(settings)
    open_sites, kind = start_sites, MilpStatus.FEASIBLE
    bound = lagrangian_bound
    if result.status in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
        kind = result.status
        bound = min(bound, result.bound)
        found_sites = sites_from_values(result.values, n_sites)
        if model.value(found_sites) + model.fixed_weight >= heuristic_value:
            open_sites = found_sites
    return open_sites, bound, kind


def _kernel_sites(
    milp: Milp, site_values: FloatArray, start: npt.NDArray[np.int64] | None
) -> BoolArray:
    """Sites the LP relaxation leans on (value ≥ ``KERNEL_LP_VALUE``), fixed and start sites."""
    n_sites = site_values.size
    kernel = (site_values >= KERNEL_LP_VALUE) & (milp.upper[:n_sites] > 0)
    kernel |= milp.lower[:n_sites] > 0
    if start is not None:
        kernel[start] = True
    return kernel


def _solve_kernel(
    milp: Milp, kernel: BoolArray, settings: SolverSettings
) -> npt.NDArray[np.int64] | None:
    """Open sites of the best plan using kernel sites only; ``None`` if none was found.

    The kernel MIP's bound says nothing about the full model and is dropped.
    """
    n_sites = kernel.size
    upper = milp.upper.copy()
    upper[:n_sites] = np.where(kernel, upper[:n_sites], 0.0)
    result = solve_milp(replace(milp, upper=upper), settings, backend="scip")
    logger.debug("kernel of %d sites: %s after %.1f s", kernel.sum(), result.status, result.seconds)
    if result.status not in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
        return None
    return sites_from_values(result.values, n_sites)
