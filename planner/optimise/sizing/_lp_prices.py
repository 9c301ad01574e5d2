r"""Row prices for the sizing Lagrangian from its LP relaxation, solved by PDLP.

With all the demand to serve (coverage 1) each row's price must reach what
serving it costs where it is: a remote row that only a site serving little
else reaches is worth that site's whole cost. The subgradient ascent from
the cold start climbs there slowly (default network, 120 s of steps:
150.0 M EUR, against the LP's 157.53 M). The LP relaxation of the
multiple-choice formulation (:math:`z_{jn}` site j open with n chargers,
n from the least count m to the limit M_j; notation of
:mod:`planner.optimise.sizing.model`)::

    min  Σ_j f_j y_j + Σ_j Σ_n c_j n z_jn
    s.t. Σ_{j ∈ N_k} λ_k x_kj = λ_k            every row k       (dual ρ_k)
         Σ_k λ_k x_kj ≤ Σ_n (a + μ n) z_jn      every site j
         Σ_n z_jn = y_j                         every site j
         x_kj ≤ y_j                             every pair
         0 ≤ x, z ≤ 1,  fixed ≤ y ≤ allowed

goes to PDLP, like maximal covering's (:mod:`planner.optimise.coverage._lp`).
Its duals ρ, a value per unit of each row's demand, become the
Lagrangian's multipliers (the coverage price v the largest ρ less the
unserved penalty P, row prices u = v + P - ρ ≥ 0, w = 0), which
:class:`planner.optimise.sizing._lagrange.SiteKnapsacks` evaluates exactly:
the bound holds at any tolerance, and the ascent goes on from there. The
side rows (9) are rows of the LP too, and their duals become their
multipliers π (default network with a Nissan share of at least 10 %, 60 s:
bound 158.35 M → 160.30 M EUR). The budget (8) is not: it bounds the very
cost the LP minimises, so its dual there is 0 (β starts at 0). Below
coverage 1 the ascent from the cold start reaches the relaxation's optimum
in the time (default network at 80 %: 66.90 M EUR, the convex hull's
bound), so the LP is solved only with every row served.

Measured on the default network with every row served (5,681 rows × 1,448
sites, 218,240 pairs): PDLP at 1e-3 in 10.5 s, bound 156.92 M EUR at its
duals, 157.62 M after 5 s of steps from there (the LP optimum 157.53 M);
at 3e-3 5.4 s and 152.04 M; at 1e-2 3.7 s and 141.47 M.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise._milp import Milp, solve_relaxation_pdlp
from planner.optimise.coverage._lp import LEAST_PDLP_S, pdlp_parameters
from planner.optimise.sizing._lagrange import Multipliers, SiteKnapsacks

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

#: What missing a side row by one costs in the LP, in full sites (``_relaxation``).
ELASTIC_SITES = 10.0
#: PDLP's tolerance (see the measurements above).
TOLERANCE = 1e-3
#: Seconds PDLP takes per pair of the instance at ``TOLERANCE``, about (10.5 s
#: for 218,240 pairs). It is not started when the time given cannot hold it.
S_PER_PAIR = 6e-5


def lp_prices(knapsacks: SiteKnapsacks, *, deadline: float) -> Multipliers | None:
    """The Lagrangian's multipliers at the LP relaxation's duals; ``None`` without them.

    ``None`` unless the target is all the demand in reach, and when the time to
    ``deadline`` cannot hold PDLP on this instance or it does not converge in it.
    """
    costs = knapsacks.costs
    if not 0 < float(knapsacks.inst.row_demand.sum()) <= costs.target:
        return None
    if not fits(knapsacks.pair_row.size, deadline - time.perf_counter()):
        return None
    relaxation, unit = _relaxation(knapsacks)
    answer = solve_relaxation_pdlp(
        relaxation,
        seconds=deadline - time.perf_counter(),
        parameters=pdlp_parameters(TOLERANCE),
    )
    if answer is None:
        return None
    duals = answer[1]
    value = duals[: knapsacks.n_rows] * unit
    # The rows' values as ρ_k = v + P - u_k with u ≥ 0 (P the unserved penalty):
    # the coverage price is the dearest row's value less P. With every row served
    # in full this is the same Lagrangian as any other split (the constant
    # -Σ λ_k u_k + v T is Σ λ_k ρ_k - P T).
    coverage = max(float(value.max(initial=0.0)) - costs.penalty, 0.0)
    # The side rows come last (``_relaxation``): a row's dual is positive where its
    # lower side holds it and negative at its upper side.
    side = duals[duals.size - len(costs.side) :] * unit
    return Multipliers(
        row=coverage + costs.penalty - value,
        coverage=coverage,
        chargers=0.0,
        side_lower=np.where(np.isfinite(costs.side.lower), np.maximum(side, 0.0), 0.0),
        side_upper=np.where(np.isfinite(costs.side.upper), np.maximum(-side, 0.0), 0.0),
        budget=0.0,  # the budget is no row of the LP (module docstring)
    )


def fits(pairs: int, seconds: float) -> bool:
    """Whether PDLP on an instance of this many pairs is likely to end within ``seconds``."""
    return seconds >= max(LEAST_PDLP_S, S_PER_PAIR * pairs)


def _relaxation(knapsacks: SiteKnapsacks) -> tuple[Milp, float]:
    """The LP of the module docstring and the side rows over [y, z, x, s], and the costs' unit.

    Costs are divided by the mean cost of a site at its least count, so that
    PDLP's absolute tolerance is in the objective's own scale. A side row may
    be missed, by s ≥ 0 on either side at ``ELASTIC_SITES`` times the dearest
    full site's cost a unit, so that the LP always has an optimum for PDLP to
    find: it does not find that an LP has none (France capped at 35 sites with
    every French row served: no answer in the 21 s given, so no duals at all).
    """
    inst, costs = knapsacks.inst, knapsacks.costs
    n_rows, n_sites = knapsacks.n_rows, knapsacks.n_sites
    site, count, room = knapsacks.query_site, knapsacks.query_count, knapsacks.query_room
    pair_row, pair_site, weight = knapsacks.pair_row, knapsacks.pair_site, knapsacks.weight
    n_counts, n_pairs, n_side = site.size, pair_row.size, len(costs.side)
    z = n_sites + np.arange(n_counts)
    x = n_sites + n_counts + np.arange(n_pairs)
    sites = np.arange(n_sites)
    width = n_sites + n_counts + n_pairs + 2 * n_side
    demand = inst.row_demand

    def block(
        rows: npt.ArrayLike, cols: npt.ArrayLike, vals: npt.ArrayLike, count: int
    ) -> sp.csr_matrix:
        return sp.csr_matrix((vals, (rows, cols)), shape=(count, width))

    served = block(pair_row, x, weight, n_rows)
    room_rows = block(
        np.concatenate([pair_site, site]), np.concatenate([x, z]), np.concatenate([weight, -room]),
        n_sites,
    )  # fmt: skip
    one_count = block(
        np.concatenate([site, sites]), np.concatenate([z, sites]),
        np.concatenate([np.ones(n_counts), -np.ones(n_sites)]), n_sites,
    )  # fmt: skip
    linking = block(
        np.concatenate([np.arange(n_pairs)] * 2), np.concatenate([x, pair_site]),
        np.concatenate([np.ones(n_pairs), -np.ones(n_pairs)]), n_pairs,
    )  # fmt: skip
    slack = sp.identity(n_side, format="csr")
    side = sp.hstack(
        [costs.side.matrix, sp.csr_matrix((n_side, n_counts + n_pairs)), slack, -slack]
    )
    least = costs.prices + costs.per_charger * costs.least
    unit = float(np.mean(least[knapsacks.can_open])) if knapsacks.can_open.any() else 1.0
    unit = unit if unit > 0 else 1.0
    dearest = float(np.max(costs.prices + costs.per_charger * inst.limit, initial=unit))
    objective = np.concatenate(
        [
            costs.prices,
            costs.per_charger[site] * count,
            np.zeros(n_pairs),
            np.full(2 * n_side, ELASTIC_SITES * dearest),
        ]
    )
    return (
        Milp(
            objective=objective / unit,
            matrix=sp.vstack([served, room_rows, one_count, linking, side], format="csr"),
            row_lower=np.concatenate(
                [
                    demand,
                    np.full(n_sites, -np.inf),
                    np.zeros(n_sites),
                    np.full(n_pairs, -np.inf),
                    costs.side.lower,
                ]
            ),
            row_upper=np.concatenate([demand, np.zeros(2 * n_sites + n_pairs), costs.side.upper]),
            lower=np.concatenate(
                [costs.must.astype(np.float64), np.zeros(n_counts + n_pairs + 2 * n_side)]
            ),
            upper=np.concatenate(
                [
                    knapsacks.can_open.astype(np.float64),
                    np.ones(n_counts + n_pairs),
                    np.full(2 * n_side, np.inf),
                ]
            ),
            integer=np.zeros(width, dtype=bool),
        ),
        unit,
    )
