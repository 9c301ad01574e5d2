r"""Flow refuelling (FRLM) and flow capturing (FCLM): stations for trips, not residents.

Notation: trips :math:`q` with flow :math:`f_q` (merged trips with the same
rows, see :mod:`.rows`), sites :math:`j`, cover sets :math:`K` of each trip.
:math:`x_j \in \{0, 1\}` open station, :math:`y_q \in [0, 1]` trip served::

    max  Σ_q f_q y_q
    s.t. y_q ≤ Σ_{j ∈ K} x_j        for every cover set K of trip q     (1)
         Σ_j x_j ≤ p                                                   (2)
         side constraints (budget, brand and country quotas) on x
         x_j = 1 for fixed sites, x_j = 0 for excluded sites

With :math:`x` integral, the optimum sets :math:`y_q = 1` exactly when
every row of trip :math:`q` is covered, so :math:`y` may be continuous. With
a range the rows are the arc-cover rows of Capar, Kuby, Leon & Tsai (EJOR
2013), which the LP relaxes more tightly than the path-segment combinations
of Kuby & Lim (2005); without one (``range_km=None``) each trip has one row,
every site of its path: Hodgson's flow-capturing model (1990).

The plan's value is recomputed by :func:`.charge.refuelled`, which simulates
the state of charge along every path and never reads the rows.

**Trips and local demand in one plan.** Given local demand (a reach matrix
and weights) and a trip weight :math:`λ`, the objective becomes

.. math:: λ \, Σ_q f_q y_q / F + (1 − λ) \, Σ_k W_k z_k / W,
          \qquad z_k ≤ Σ_{j ∈ N_k} x_j

with :math:`F` all trip flow, :math:`W` all demand weight within reach, and
:math:`z_k` the distinct reach sets of maximal covering: a weighted sum of
the two shares served, each between 0 and 1. Each reach set is then a trip
of one row, and the blend one model of trips with flows :math:`λ f_q / F`
and :math:`(1 − λ) W_k / W`: its rows' greedy and swaps, or the greedy
maximal cover of the local demand alone improved by swaps, whichever serves
more, is the solver's start and stands in when the solver ends with a worse
plan or none.

**Large models.** From ``LP_BOUND_FROM_ENTRIES`` row entries (the blend's
local rows included) the solver is not started: PDLP's LP bound
(:mod:`.bound`) and a search of kicks and swaps from the start
(:mod:`.start`) take the time.

**Size.** The rows grow with the candidate sites along each path; building
them stops with an error once they hold ``MAX_ROW_ENTRIES`` site entries,
before memory and time run out.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError, SolverError
from planner.optimise import _checks, evaluate, progress
from planner.optimise._milp import Milp, MilpResult, MilpStatus, solve_milp
from planner.optimise._result import finish, sites_from_values
from planner.optimise.constraints import SiteRows, explain_infeasible, milp_with_site_rows
from planner.optimise.coverage._rows import coverage_rows, side_rows, site_bounds
from planner.optimise.coverage.model import OBJECTIVE_DETAILS, max_coverage
from planner.optimise.flow.bound import TOLERANCE, refuelling_bound
from planner.optimise.flow.charge import captured, refuelled
from planner.optimise.flow.paths import TripPaths, check_range
from planner.optimise.flow.rows import CoverRows, TooManyEntries, cover_rows
from planner.optimise.flow.start import kicked, refuelling_start
from planner.optimise.heuristics import greedy_coverage, swap_coverage
from planner.optimise.solution import Solution, SolverSettings, relative_gap

__all__ = ["LocalDemand", "flow_refuelling", "served_trips"]

_DEFAULT = SolverSettings()

#: Most site entries the trips' rows may hold; building stops with an error
#: once they pass it. The trips scenario on the demo-scale sample dealers
#: holds 83,000 and is proven in seconds; on the full-scale dealers (2,000
#: trips, hundreds of dealers along each path) the model held 145 million
#: entries, its rows took 77 s and 11 GB to build, and SCIP then ran 156 s
#: against a 60 s limit, peaked at 23 GB and found no plan.
MAX_ROW_ENTRIES = 20_000_000

#: Share of the time left after building the rows that the start plan's swaps
#: may take (for trips alone); the solver gets the rest.
START_SHARE = 0.1

#: Models of trips alone with at least this many row entries get a bound from
#: PDLP (:mod:`.bound`), with at most ``LP_SHARE`` of the time left, and their
#: plan from kicks and swaps rather than the solver. Below it SCIP's own root
#: LP ends in time (a 124-node network, 85,000 entries: proven in 41 s); above
#: it may not (339 nodes, 3.7 million: no bound from SCIP in 60 s, and PDLP
#: needs 35–38 s of the 50 s left).
LP_BOUND_FROM_ENTRIES = 500_000
LP_SHARE = 0.9

#: PDLP's tolerance for trips blended with local demand. On the full-scale
#: sample dealers (2,000 trips, 13,364 trip rows and 12,376 local reach sets,
#: 5.6 million entries) it ends in 18 s at a bound 0.26 % above that of
#: 3e-3 (32 s); the 1e-3 of trips alone needs 48 s of the 50 s left.
BLEND_TOLERANCE = 1e-2


@dataclass(frozen=True)
class LocalDemand:
    """Local demand served beside the trips, and the trips' weight λ in [0, 1].

    ``reach`` is demand × sites (stored pairs within reach), ``weights`` the
    demand weights.
    """

    reach: sp.csr_matrix
    weights: np.ndarray
    trip_weight: float


def served_trips(paths: TripPaths, open_sites: np.ndarray, range_km: float | None) -> np.ndarray:
    """Which trips the open sites serve: refuelled with a range, captured without."""
    if range_km is None:
        return captured(paths, open_sites)
    return refuelled(paths, open_sites, range_km)


def flow_refuelling(
    paths: TripPaths,
    range_km: float | None,
    p: int,
    *,
    fixed: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    constraints: SiteRows | None = None,
    settings: SolverSettings = _DEFAULT,
    local: LocalDemand | None = None,
) -> Solution:
    """Open at most ``p`` stations serving the most trip flow (and local demand).

    Parameters
    ----------
    paths
        The trips and the candidate sites along each path (:class:`TripPaths`).
    range_km
        The car's range R in km; ``None`` for flow capturing (a trip counts
        when any open station lies on its path).
    p
        Most stations to open (fixed ones included).
    fixed, excluded
        Masks of sites that must / must not open.
    constraints
        Side constraints over the open sites (budget, quotas).
    local
        Local demand to cover as well, and the trips' weight λ (module
        docstring); ``None`` for trips alone.

    Returns
    -------
    Solution
        ``objective`` is the served flow, recomputed by simulation (with
        ``local``: λ × share of trip flow served + (1 − λ) × share of the
        demand within reach covered; both shares are in ``details``);
        ``assignment`` gives, per trip, the first open station on its path
        when the trip is served, else -1. ``details`` holds the sizes.
    """
    started = time.perf_counter()
    problems: list[str] = []
    n_sites = paths.n_sites
    must = _checks.site_mask(fixed, n_sites, "fixed", problems)
    never = _checks.site_mask(excluded, n_sites, "excluded", problems)
    if local is not None:
        local = _checked_local(local, n_sites, problems)
    _checks.raise_problems("flow_refuelling", problems)
    check_range(range_km)
    _checks.check_fixed_excluded("flow_refuelling", must, never)
    _checks.check_p("flow_refuelling", p, must, never, exact=False)
    side = side_rows(constraints, n_sites)
    explain_infeasible(side, p=p, exact_p=False, fixed=must, excluded=never)

    try:
        rows = cover_rows(paths, range_km, usable=~never, max_entries=MAX_ROW_ENTRIES)
    except TooManyEntries as too_many:
        per_path = paths.sites.size / max(paths.n_trips, 1)
        raise SolverError(
            f"flow_refuelling: the cover rows of the first {too_many.trips:,} of "
            f"{paths.n_trips:,} trips already hold {too_many.entries / 1e6:,.1f} million site "
            f"entries, more than the {MAX_ROW_ENTRIES / 1e6:,.0f} million this model is built "
            f"for ({per_path:,.0f} candidate sites along a path on average); fewer trips, a "
            "shorter detour from the paths or fewer candidate sites bring it down"
        ) from None
    n_rows, n_groups = rows.matrix.shape[0], rows.n_groups
    details: dict[str, float] = {
        "trips": float(paths.n_trips),
        "trips_unservable": float(np.sum(rows.trip_group == -1)),
        "trips_served_by_existing": float(np.sum(rows.trip_group == -2)),
        "trips_in_model": float(n_groups),
        "rows_in_model": float(n_rows),
        "side_constraints": float(len(side)),
    }
    # (1): y_q − Σ_{j∈K} x_j ≤ 0 for every row; (2): Σ x ≤ p.
    trip_columns = sp.csr_matrix(
        (np.ones(n_rows), (np.arange(n_rows), rows.row_trip)), shape=(n_rows, n_groups)
    )
    cover = sp.hstack([-rows.matrix, trip_columns], format="csr")
    count = sp.csr_matrix(np.concatenate([np.ones(n_sites), np.zeros(n_groups)])[np.newaxis, :])
    y_lower, y_upper = site_bounds(must, never)
    milp = Milp(
        objective=np.concatenate([np.zeros(n_sites), rows.group_flow]),
        matrix=sp.vstack([cover, count], format="csr"),
        row_lower=np.full(n_rows + 1, -np.inf),
        row_upper=np.concatenate([np.zeros(n_rows), [float(p)]]),
        lower=np.concatenate([y_lower, np.zeros(n_groups)]),
        upper=np.concatenate([y_upper, np.ones(n_groups)]),
        integer=np.concatenate([np.ones(n_sites, bool), np.zeros(n_groups, bool)]),
        maximise=True,
        # Trips existing stations serve count in every plan.
        offset=rows.served_anyway,
    )
    total_flow = float(paths.flows.sum())
    blend = None if local is None else _blend(local, must, never, total_flow)
    if blend is not None:
        milp = _with_local_demand(milp, blend, n_sites)
        details["local_rows_in_model"] = float(blend.rows.shape[0])
    milp = milp_with_site_rows(milp, side)
    if range_km is None and local is None:
        return _capture(paths, rows, p, must, never, constraints, settings, started, details)
    # The blend as one set of rows: each distinct local reach set a trip of one row.
    searched = rows if blend is None else _blended_rows(rows, blend)
    large = searched.matrix.nnz >= LP_BOUND_FROM_ENTRIES
    # A plan for the solver to start from and to fall back on: greedy and
    # swaps on the rows (a 339-node network with 57,291 trips: without it
    # SCIP had no plan after 60 s), and with local demand also maximal
    # covering's greedy and swaps on that demand alone, the better of the two
    # (full-scale sample dealers, 20 trips: without a start SCIP ended at 7
    # sites after 63 s; 2,000 trips: the local start alone served 19.6 % of
    # the trip flow, the rows' greedy 80.2 %).
    starts = [
        refuelling_start(
            searched,
            p,
            must,
            never,
            seconds=START_SHARE * max(_left_s(settings, started), 0.0),
            side=side,
        )
    ]
    if blend is not None:
        starts.append(_local_start(blend, p, must, never))
    # A plan that breaks the side rows stays out of the solver's hands.
    kept = [plan for plan in starts if not side.satisfied(plan)]
    start: npt.NDArray[np.int64] | None = None
    value = math.nan
    if kept:
        value, start = max(
            ((_value(paths, range_km, local, plan)[0], plan) for plan in kept),
            key=lambda valued: valued[0],
        )
        milp = replace(milp, hint=_hint(milp, n_sites, start))
        progress.note(best=value, maximise=True)
    lp_bound = None
    if large:
        found = refuelling_bound(
            searched,
            p,
            fixed=must,
            allowed=~never,
            side=side,
            seconds=LP_SHARE * max(_left_s(settings, started), 0.0),
            tolerance=TOLERANCE if blend is None else BLEND_TOLERANCE,
        )
        if found is not None:
            lp_bound = found + searched.served_anyway
            details["lp_bound"] = lp_bound
            progress.note(bound=lp_bound, maximise=True)
    if large and start is not None:
        # A model this large leaves the solver no time beyond its root LP, and
        # its set-up outruns the limit (3.5 million entries: 31 s for 26 s
        # given, no plan better than the start), so the plan is searched here,
        # also when PDLP ran out of time (the bound is then all the flow).
        if lp_bound is None or relative_gap(value, lp_bound) > settings.relative_gap:
            moved = kicked(
                searched,
                start,
                p,
                must,
                never,
                seconds=max(_left_s(settings, started), 0.0),
                seed=settings.seed,
                side=side,
                on_better=_note_best,
                bound=math.inf if lp_bound is None else lp_bound,
                gap=settings.relative_gap,
            )
            # The kicks keep only plans that meet the side rows; checked again
            # here, as before they read them a plan past a budget of 12
            # sites (16.5) came back.
            if not side.satisfied(moved):
                start = moved
                value = _value(paths, range_km, local, start)[0]
        hint = _hint(milp, n_sites, start)
        result = MilpResult(MilpStatus.FEASIBLE, hint, value, lp_bound or math.inf, 0.0)
    else:
        # Building the rows of a large network takes seconds that count against the limit.
        left = replace(settings, time_limit_s=max(_left_s(settings, started), 0.1))
        result = solve_milp(milp, left, backend="scip", report=progress.whole_model(maximise=True))
    if result.status is MilpStatus.INFEASIBLE:
        raise InfeasibleError(
            f"flow_refuelling: p = {p} and the side constraints cannot all hold"
            + (f" ({', '.join(side.names)})" if len(side) else "")
        )
    plans = [] if start is None else [start]
    if result.status is not MilpStatus.NO_SOLUTION:
        plans.insert(0, sites_from_values(result.values, n_sites))
    if not plans:
        plans = [np.flatnonzero(must).astype(np.int64)]
        if side.satisfied(plans[0]):
            raise SolverError(
                f"flow_refuelling: no plan meeting the side constraints found within "
                f"{settings.time_limit_s:g} s; raise the time limit"
            )
    valued = [(_value(paths, range_km, local, plan), plan) for plan in plans]
    (objective, shares, served), open_sites = max(valued, key=lambda item: item[0][0])
    # All the flow (and local demand) any plan could serve bounds every plan:
    # a solver stopped before its root LP reports no bound or a placeholder (1e20).
    ceiling = float(searched.group_flow.sum()) + searched.served_anyway
    result = _with_bound(result, min(lp_bound or math.inf, ceiling), objective, settings)
    details["served_flow"] = float(paths.flows[served].sum())
    details["total_flow"] = total_flow
    if local is not None:
        details.update(
            {"trip_share": shares[0], "local_share": shares[1], "trip_weight": local.trip_weight}
        )
    return finish(
        model="flow_refuelling",
        sense="max",
        result=result,
        objective=objective,
        open_sites=open_sites,
        assignment=_first_station(paths, open_sites, served),
        settings=settings,
        started=started,
        details=details,
    )


def _with_bound(
    result: MilpResult, bound: float, objective: float, settings: SolverSettings
) -> MilpResult:
    """``result`` with the tighter of its bound and ``bound``, optimal when that proves it."""
    if math.isfinite(result.bound):
        bound = min(bound, result.bound)
    status = result.status
    if relative_gap(objective, bound) <= settings.relative_gap:
        status = MilpStatus.OPTIMAL
    return replace(result, status=status, bound=bound)


def _note_best(value: float) -> None:
    progress.note(best=value, maximise=True)


def _left_s(settings: SolverSettings, started: float) -> float:
    return settings.time_limit_s - (time.perf_counter() - started)


def _capture(
    paths: TripPaths,
    rows: CoverRows,
    p: int,
    must: np.ndarray,
    never: np.ndarray,
    constraints: SiteRows | None,
    settings: SolverSettings,
    started: float,
    details: dict[str, float],
) -> Solution:
    """Flow capturing solved as the maximal covering it is: trips for demand rows.

    Each merged trip has one row, the sites on its path, so the model is
    maximal covering over those rows with the trips' flows for weights, and
    that solver's reductions, Lagrangian bound and search apply. On a
    339-node network with 57,291 trips, SCIP on the whole model had found no
    plan after 60 s.
    """
    covering = max_coverage(
        rows.matrix,
        rows.group_flow,
        p,
        fixed=must,
        excluded=never,
        constraints=constraints,
        settings=replace(settings, time_limit_s=max(_left_s(settings, started), 0.1)),
    )
    open_sites = covering.open_sites
    objective, _, served = _value(paths, None, None, open_sites)
    # The covering's figures leave out the trips existing stations capture.
    extra: dict[str, float] = {
        key: covering.details[key] + rows.served_anyway
        for key in OBJECTIVE_DETAILS
        if key in covering.details
    }
    details["served_flow"] = float(paths.flows[served].sum())
    details["total_flow"] = float(paths.flows.sum())
    return replace(
        covering,
        model="flow_refuelling",
        objective=objective,
        # The trips existing stations capture count in every plan, the bound's too.
        bound=covering.bound + rows.served_anyway,
        seconds=time.perf_counter() - started,
        assignment=_first_station(paths, open_sites, served),
        details={**covering.details, **extra, **details},
    )


def _value(
    paths: TripPaths, range_km: float | None, local: LocalDemand | None, open_sites: np.ndarray
) -> tuple[float, tuple[float, float], np.ndarray]:
    """The objective of ``open_sites`` by simulation, its shares of trips and local demand,
    and which trips it serves."""
    served = served_trips(paths, open_sites, range_km)
    flow = float(paths.flows[served].sum())
    if local is None:
        return flow, (0.0, 0.0), served
    total_flow = float(paths.flows.sum())
    within = _within(local)
    trip_share = flow / total_flow if total_flow > 0 else 0.0
    covered = evaluate.covered_weight(local.reach, local.weights, open_sites)
    local_share = covered / within if within > 0 else 0.0
    blended = local.trip_weight * trip_share + (1 - local.trip_weight) * local_share
    return blended, (trip_share, local_share), served


def _within(local: LocalDemand) -> float:
    """W: the local demand weight within reach of some site."""
    weights = np.asarray(local.weights, dtype=np.float64)
    return float(weights[np.diff(sp.csr_matrix(local.reach).indptr) > 0].sum())


@dataclass(frozen=True)
class _Blend:
    """Local demand as maximal covering sees it, and the blend's scale of each part.

    ``rows`` are the distinct reach sets still open to choice with their
    ``weights``; ``fixed_weight`` is the weight the fixed sites cover.
    """

    rows: sp.csr_matrix
    weights: npt.NDArray[np.float64]
    fixed_weight: float
    trip_scale: float
    local_scale: float


def _blend(local: LocalDemand, must: np.ndarray, never: np.ndarray, total_flow: float) -> _Blend:
    """λ / F for trip flow and (1 − λ) / W for local weight, with the local rows."""
    rows, weights, fixed_weight, _ = coverage_rows(
        sp.csr_matrix(local.reach), np.asarray(local.weights, dtype=np.float64), must, never
    )
    lam = local.trip_weight
    within = _within(local)
    return _Blend(
        rows=rows,
        weights=weights,
        fixed_weight=fixed_weight,
        trip_scale=lam / total_flow if total_flow > 0 else 0.0,
        local_scale=(1 - lam) / within if within > 0 else 0.0,
    )


def _blended_rows(rows: CoverRows, blend: _Blend) -> CoverRows:
    """The trips' rows and the local reach sets as one model of trips, in the blend's units.

    A local reach set is a trip of one row: it counts when one of its sites is open.
    """
    n_local = blend.rows.shape[0]
    return CoverRows(
        matrix=sp.vstack([rows.matrix, blend.rows], format="csr"),
        row_trip=np.concatenate([rows.row_trip, rows.n_groups + np.arange(n_local)]),
        group_flow=np.concatenate(
            [blend.trip_scale * rows.group_flow, blend.local_scale * blend.weights]
        ),
        trip_group=rows.trip_group,
        served_anyway=blend.trip_scale * rows.served_anyway
        + blend.local_scale * blend.fixed_weight,
    )


def _checked_local(local: LocalDemand, n_sites: int, problems: list[str]) -> LocalDemand:
    """``local`` with its reach as CSR, or the problems with it added to ``problems``."""
    if not (0.0 <= local.trip_weight <= 1.0):
        problems.append(f"trip_weight must be in [0, 1], got {local.trip_weight!r}")
    reach = _checks.canonical_reach(local.reach, problems)
    if sp.issparse(local.reach) and reach.shape[1] != n_sites:
        problems.append(
            f"the local demand's reach has {reach.shape[1]} site columns, the trips' paths "
            f"{n_sites} candidate sites"
        )
    weights = _checks.demand_weights(local.weights, reach.shape[0], problems)
    return replace(local, reach=reach, weights=weights)


def _local_start(
    blend: _Blend, p: int, must: np.ndarray, never: np.ndarray
) -> npt.NDArray[np.int64]:
    """The greedy maximal cover of the local demand by ``p`` sites, improved by swaps."""
    chosen = greedy_coverage(blend.rows, blend.weights, p, fixed=must, excluded=never)
    return swap_coverage(blend.rows, blend.weights, chosen, fixed=must, excluded=never)


def _hint(milp: Milp, n_sites: int, open_sites: np.ndarray) -> np.ndarray:
    """Values of every column for ``open_sites``: a served share is 1 where all its rows are met.

    Each trip or local share appears with +1 in rows y − Σ x ≤ 0 only.
    """
    chosen = np.zeros(n_sites)
    chosen[open_sites] = 1.0
    matrix = sp.csr_matrix(milp.matrix)
    shares = sp.csr_matrix(matrix[:, n_sites:])
    short = (matrix[:, :n_sites] @ chosen + 1.0 > milp.row_upper + 1e-9) & (
        np.diff(shares.indptr) > 0
    )
    blocked = shares.T @ short.astype(np.float64) > 0
    return np.concatenate([chosen, np.where(blocked, 0.0, 1.0)])


def _with_local_demand(milp: Milp, blend: _Blend, n_sites: int) -> Milp:
    """``milp`` with maximal covering's rows and the blended objective."""
    rows = blend.rows
    n_cols, n_local = milp.matrix.shape[1], rows.shape[0]
    # z_k − Σ_{j∈N_k} x_j ≤ 0, beside the trip rows (whose columns keep their place).
    cover = sp.hstack(
        [-rows, sp.csr_matrix((n_local, n_cols - n_sites)), sp.identity(n_local, format="csr")],
        format="csr",
    )
    objective = milp.objective.copy()
    objective[n_sites:] *= blend.trip_scale
    return Milp(
        objective=np.concatenate([objective, blend.local_scale * blend.weights]),
        matrix=sp.vstack(
            [sp.hstack([milp.matrix, sp.csr_matrix((milp.matrix.shape[0], n_local))]), cover],
            format="csr",
        ),
        row_lower=np.concatenate([milp.row_lower, np.full(n_local, -np.inf)]),
        row_upper=np.concatenate([milp.row_upper, np.zeros(n_local)]),
        lower=np.concatenate([milp.lower, np.zeros(n_local)]),
        upper=np.concatenate([milp.upper, np.ones(n_local)]),
        integer=np.concatenate([milp.integer, np.zeros(n_local, bool)]),
        maximise=True,
        offset=blend.trip_scale * milp.offset + blend.local_scale * blend.fixed_weight,
    )


def _first_station(paths: TripPaths, open_sites: np.ndarray, served: np.ndarray) -> np.ndarray:
    """Per trip, the first open station on its path when it is served, else -1."""
    is_open = np.zeros(paths.n_sites, dtype=bool)
    is_open[open_sites] = True
    first = np.full(paths.n_trips, -1, dtype=np.int64)
    for q in np.flatnonzero(served).tolist():
        sites, _ = paths.along(q)
        sites = sites[sites >= 0]  # candidate sites, not existing stations
        stations = sites[is_open[sites]]
        if stations.size:
            first[q] = int(stations[0])
    return first
