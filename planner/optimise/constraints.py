r"""Side constraints on the open sites, usable with every model.

All of them are linear rows over the open-site indicators :math:`y_j`::

    budget          Σ_j cost_j y_j ≤ B                                   (1)
    group bounds    lo_g ≤ Σ_{j ∈ G} y_j ≤ hi_g   (a country, a brand)   (2)
    group share     Σ_{j ∈ G} y_j ≥ s_g Σ_j y_j
                    ⇔ Σ_j (1[j ∈ G] − s_g) y_j ≥ 0                      (3)

so a model appends them to its own constraint matrix as one block
(:func:`append_site_rows`) without knowing what they mean. Each row keeps a
name and a plain-words description, used to explain infeasibility: before any
solve, :func:`explain_infeasible` checks the counting arguments a planner
would make by hand (too few candidates of a brand for its share, a budget
below the fixed sites' cost, more sites required per country than ``p``) and
names the constraint with its numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError
from planner.optimise._milp import Milp, MilpStatus, solve_milp
from planner.optimise._reach import packed_rows, structure
from planner.optimise.solution import SolverSettings

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SiteRows:
    """Rows ``lower ≤ matrix @ y ≤ upper`` over the open-site indicators.

    Attributes
    ----------
    matrix
        k × n_sites, CSR.
    lower, upper
        Row bounds, ``±inf`` for one-sided rows.
    names
        A short description of each row, e.g. ``"Nissan share ≥ 40 %"``.
    """

    matrix: sp.csr_matrix
    lower: FloatArray
    upper: FloatArray
    names: tuple[str, ...]
    # Facts for explaining infeasibility (not part of the model).
    groups: tuple[_Group, ...] = field(default=(), repr=False)
    budget: _Budget | None = field(default=None, repr=False)

    @property
    def n_sites(self) -> int:
        return int(self.matrix.shape[1])

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    def of_sites(self, sites: npt.ArrayLike) -> SiteRows:
        """The same rows over ``sites`` only (the others closed), for a restricted model."""
        columns = np.asarray(sites, dtype=np.int64)
        return SiteRows(
            matrix=sp.csr_matrix(self.matrix[:, columns]),
            lower=self.lower,
            upper=self.upper,
            names=self.names,
        )

    def _values(self, open_sites: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Each row's left-hand side for the given open sites."""
        y = np.zeros(self.n_sites)
        y[np.asarray(open_sites, dtype=np.int64)] = 1.0
        return np.asarray(self.matrix @ y, dtype=np.float64)

    def excess(self, open_sites: npt.ArrayLike, *, tolerance: float = 1e-6) -> float:
        """How far the given open sites are outside the rows, summed (0 when all hold)."""
        values = self._values(open_sites)
        below = np.maximum(self.lower - tolerance - values, 0.0)
        above = np.maximum(values - self.upper - tolerance, 0.0)
        return float(np.sum(below) + np.sum(above))

    def violated(self, open_sites: npt.ArrayLike, *, tolerance: float = 1e-6) -> BoolArray:
        """Whether the given open sites violate each row."""
        values = self._values(open_sites)
        return (values < self.lower - tolerance) | (values > self.upper + tolerance)

    def at_limit(self, open_sites: npt.ArrayLike, *, tolerance: float = 1e-6) -> BoolArray:
        """Whether each row holds but one site fewer or more would break it.

        One site fewer is closing an open site, one more opening a closed
        one; the row is at its limit when the single change that moves its
        left-hand side furthest towards a finite bound crosses it (a country
        at its cap, a brand share that one site less of the brand would miss,
        a corridor section with its only site).
        """
        is_open = np.zeros(self.n_sites, dtype=bool)
        is_open[np.asarray(open_sites, dtype=np.int64)] = True
        chosen = np.flatnonzero(is_open)
        values = self._values(chosen)

        def extreme(sites: BoolArray, largest: bool) -> FloatArray:
            # Over the given sites; the implicit zeros count, so never below (above) 0.
            part = self.matrix[:, np.flatnonzero(sites)]
            if part.shape[1] == 0:
                return np.zeros(len(self))
            found = part.max(axis=1) if largest else part.min(axis=1)
            return np.asarray(found.toarray(), dtype=np.float64).ravel()

        # The most one change can lower (raise) the left-hand side by.
        fall = np.maximum(extreme(is_open, True), -extreme(~is_open, False))
        rise = np.maximum(extreme(~is_open, True), -extreme(is_open, False))
        tight = np.isfinite(self.lower) & (values - fall < self.lower - tolerance)
        tight |= np.isfinite(self.upper) & (values + rise > self.upper + tolerance)
        return tight & ~self.violated(chosen, tolerance=tolerance)

    def satisfied(self, open_sites: npt.ArrayLike, *, tolerance: float = 1e-6) -> list[str]:
        """Names of the rows the given open sites violate (empty when all hold)."""
        return [
            self.names[k] for k in np.flatnonzero(self.violated(open_sites, tolerance=tolerance))
        ]


@dataclass(frozen=True)
class _Group:
    name: str
    members: BoolArray
    minimum: int
    maximum: int | None
    share: float


@dataclass(frozen=True)
class _Budget:
    costs: FloatArray
    amount: float


def no_site_rows(n_sites: int) -> SiteRows:
    """No side constraint."""
    return SiteRows(
        matrix=sp.csr_matrix((0, n_sites)),
        lower=np.empty(0),
        upper=np.empty(0),
        names=(),
    )


def budget_rows(costs: npt.ArrayLike, budget: float) -> SiteRows:
    """Constraint (1): the opened sites cost at most ``budget``."""
    cost = np.asarray(costs, dtype=np.float64)
    if np.any(cost < 0) or not np.all(np.isfinite(cost)):
        raise ValueError("site costs must be finite and non-negative")
    return SiteRows(
        matrix=sp.csr_matrix(cost[None, :]),
        lower=np.array([-np.inf]),
        upper=np.array([float(budget)]),
        names=(f"budget ≤ {budget:,.0f} EUR",),
        budget=_Budget(cost, float(budget)),
    )


def group_rows(
    name: str,
    members: npt.ArrayLike,
    *,
    minimum: int = 0,
    maximum: int | None = None,
    share: float = 0.0,
) -> SiteRows:
    """Constraints (2) and (3) for one group of sites (a country, a brand).

    Parameters
    ----------
    name
        What the group is, as a user would say it: ``"FR"``, ``"Nissan"``.
    members
        Boolean mask of the sites in the group.
    minimum, maximum
        Bounds on the number of open sites in the group.
    share
        Least share of all open sites that must be in the group, in [0, 1].
    """
    mask = np.asarray(members, dtype=bool)
    n_sites = len(mask)
    rows, lower, upper, names = [], [], [], []
    if minimum > 0 or maximum is not None:
        rows.append(mask.astype(np.float64))
        lower.append(float(minimum))
        upper.append(np.inf if maximum is None else float(maximum))
        bounds = [f"≥ {minimum}"] if minimum > 0 else []
        bounds += [f"≤ {maximum}"] if maximum is not None else []
        names.append(f"{name} sites {' and '.join(bounds)}")
    if share > 0:
        rows.append(mask.astype(np.float64) - share)
        lower.append(0.0)
        upper.append(np.inf)
        names.append(f"{name} share of chosen sites ≥ {100 * share:g} %")
    matrix = sp.csr_matrix(np.vstack(rows)) if rows else sp.csr_matrix((0, n_sites))
    return SiteRows(
        matrix=matrix,
        lower=np.array(lower, dtype=np.float64),
        upper=np.array(upper, dtype=np.float64),
        names=tuple(names),
        groups=(_Group(name, mask, minimum, maximum, share),),
    )


def combine(parts: Sequence[SiteRows], n_sites: int) -> SiteRows:
    """All rows of ``parts`` as one block."""
    parts = [p for p in parts if len(p) or p.groups or p.budget]
    if not parts:
        return no_site_rows(n_sites)
    budgets = [p.budget for p in parts if p.budget is not None]
    return SiteRows(
        matrix=sp.csr_matrix(sp.vstack([p.matrix for p in parts], format="csr")),
        lower=np.concatenate([p.lower for p in parts]),
        upper=np.concatenate([p.upper for p in parts]),
        names=tuple(n for p in parts for n in p.names),
        groups=tuple(g for p in parts for g in p.groups),
        budget=budgets[0] if len(budgets) == 1 else None,
    )


def explain_infeasible(
    rows: SiteRows,
    *,
    p: int | None,
    exact_p: bool,
    fixed: BoolArray,
    excluded: BoolArray,
) -> None:
    """Raise :class:`InfeasibleError` naming the first side constraint that cannot hold.

    Only sound counting arguments are used, so a scenario that passes may
    still be infeasible in a combination the solver then reports. One
    argument is a choice rather than a proof: a share for a group without
    candidates admits only the empty plan, which no planner wants, so it is
    reported as infeasible.

    Parameters
    ----------
    p
        The number of sites (exactly ``p`` when ``exact_p``, else at most), or
        ``None`` when the model has no cardinality constraint.
    """
    available = ~excluded
    n_fixed = int(fixed.sum())
    if rows.budget is not None:
        fixed_cost = float(rows.budget.costs[fixed].sum())
        if fixed_cost > rows.budget.amount + 1e-9:
            raise InfeasibleError(
                f"budget: the {n_fixed} fixed sites alone cost {fixed_cost:,.0f} EUR, "
                f"above the budget of {rows.budget.amount:,.0f} EUR"
            )
    # Every plan opens at least this many sites (fixed ones, group minimums).
    least = max([n_fixed, *(g.minimum for g in rows.groups)])
    for group in rows.groups:
        candidates = int((group.members & available).sum())
        fixed_in = int((group.members & fixed).sum())
        if group.minimum > candidates:
            raise InfeasibleError(
                f"{group.name} sites ≥ {group.minimum}: only {candidates} candidate sites "
                f"are in {group.name}"
            )
        if group.maximum is not None and fixed_in > group.maximum:
            raise InfeasibleError(
                f"{group.name} sites ≤ {group.maximum}: {fixed_in} fixed sites are already "
                f"in {group.name}"
            )
        if rows.budget is not None and group.minimum > fixed_in:
            cheapest = _cheapest(rows.budget.costs, group.members & available & ~fixed)
            needed = group.minimum - fixed_in
            cost = float(rows.budget.costs[fixed].sum()) + float(cheapest[:needed].sum())
            if cost > rows.budget.amount + 1e-9:
                raise InfeasibleError(
                    f"{group.name} sites ≥ {group.minimum} within the budget of "
                    f"{rows.budget.amount:,.0f} EUR: the fixed sites and the {needed} cheapest "
                    f"other sites in {group.name} cost {cost:,.0f} EUR"
                )
        if group.share > 0 and p is not None and exact_p:
            needed = math.ceil(group.share * p - 1e-9)
            if needed > candidates:
                raise InfeasibleError(
                    f"{group.name} share of chosen sites ≥ {100 * group.share:g} %: "
                    f"{p} sites need at least {needed} sites of {group.name}, but only "
                    f"{candidates} candidate sites carry {group.name}"
                )
        if group.share > 0 and least > 0:
            needed = math.ceil(group.share * least - 1e-9)
            if needed > candidates:
                raise InfeasibleError(
                    f"{group.name} share of chosen sites ≥ {100 * group.share:g} %: every plan "
                    f"opens at least {least} sites (fixed sites and minimums), so at least "
                    f"{needed} of {group.name}, but only {candidates} candidate sites carry "
                    f"{group.name}"
                )
        if group.share > 0 and candidates == 0:
            raise InfeasibleError(
                f"{group.name} share of chosen sites ≥ {100 * group.share:g} %: no candidate "
                f"site carries {group.name}"
            )
    if p is not None and n_fixed > p:
        raise InfeasibleError(f"p = {p}: {n_fixed} sites are fixed (must be chosen)")
    if p is not None and least > p:
        raise InfeasibleError(f"p = {p}: the side constraints need at least {least} sites")


def caps_short_of_cover(rows: SiteRows, reach: sp.csr_matrix) -> list[str]:
    """Each group's upper bound that cannot hold if every row of ``reach`` is served.

    Rows that only sites of the group reach, packed so that no two share a
    site (:func:`planner.optimise._reach.packed_rows`), each need a group site
    of their own: more of them than the bound proves it cannot hold. Counts
    the rows of ``reach`` (rows × sites, its stored pairs the reach) that have
    a site at all.
    """
    # Stored zeros are pairs too (a travel cost of 0): count the pairs, not the values.
    pairs = structure(sp.csr_matrix(reach))
    found = []
    for group in rows.groups:
        if group.maximum is None:
            continue
        outside = np.asarray(pairs @ (~group.members).astype(np.float64)).ravel() > 0
        inside = np.flatnonzero(~outside & (np.diff(pairs.indptr) > 0))
        own = pairs[inside]
        packed = packed_rows(own.indptr, own.indices).size
        if packed > group.maximum:
            found.append(
                f"{group.name} sites ≤ {group.maximum} cannot hold: {packed} demand points "
                f"reached only by {group.name} sites, no two by the same one, each need a "
                f"site of their own, so no cap below {packed} can work"
            )
    return found


def _cheapest(costs: FloatArray, mask: BoolArray) -> FloatArray:
    """Costs of the sites in ``mask``, cheapest first."""
    return np.sort(costs[mask])


def describe_rows(rows: SiteRows, *, excluded: BoolArray | None = None) -> str:
    """The side constraints with the numbers behind them, for infeasibility messages.

    Each group row gets its candidate count, e.g. ``"Nissan share of chosen
    sites ≥ 50 % (2 of 14 candidate sites carry Nissan)"``; the budget row gets
    the cheapest site's cost.
    """
    available = np.ones(rows.n_sites, dtype=bool) if excluded is None else ~excluded
    parts = []
    described: set[str] = set()
    for group in rows.groups:
        candidates = int((group.members & available).sum())
        for name in rows.names:
            if name.startswith(f"{group.name} ") and name not in described:
                described.add(name)
                parts.append(
                    f"{name} ({candidates} of {int(available.sum())} candidate sites in "
                    f"{group.name})"
                )
    if rows.budget is not None:
        allowed = rows.budget.costs[available]
        cheapest = float(allowed.min()) if allowed.size else 0.0
        name = next(n for n in rows.names if n.startswith("budget"))
        described.add(name)
        parts.append(f"{name} (cheapest site {cheapest:,.0f} EUR)")
    parts += [n for n in rows.names if n not in described]
    return "; ".join(parts)


def column_classes(rows: SiteRows) -> npt.NDArray[np.int64]:
    """A label per site; sites share a label when their side-constraint columns are equal.

    Dominance reductions may only swap a site for another of the same class:
    a dominated site can matter to a side constraint (a country minimum, a
    brand share) that the dominating one does not help.
    """
    n_sites = rows.n_sites
    if len(rows) == 0:
        return np.zeros(n_sites, dtype=np.int64)
    columns = np.ascontiguousarray(rows.matrix.T.toarray())
    _, labels = np.unique(columns, axis=0, return_inverse=True)
    return np.asarray(labels, dtype=np.int64).reshape(n_sites)


def counted_sites(rows: SiteRows) -> BoolArray:
    """Sites a side constraint may need open for their count alone.

    A site whose column raises a row with a lower bound (a country or brand
    minimum, the brand of a share) can be needed beside a site that covers
    all it covers: opening both may be the only way to the minimum. Dominance
    reductions must keep such sites; one that only lowers such a row, or
    only counts towards a maximum or the budget, is never needed that way.
    """
    coo = rows.matrix.tocoo()
    helps = ((coo.data > 0) & np.isfinite(rows.lower[coo.row])) | (
        (coo.data < 0) & np.isfinite(rows.upper[coo.row])
    )
    counted = np.zeros(rows.n_sites, dtype=bool)
    counted[coo.col[helps]] = True
    return counted


def infeasible_with(model: str, rows: SiteRows, limit: str) -> InfeasibleError:
    """The error for a model whose solver proved the side constraints cannot all hold."""
    names = describe_rows(rows)
    return InfeasibleError(f"{model}: {limit} and the side constraints ({names}) cannot all hold")


def append_site_rows(
    matrix: sp.csr_matrix,
    row_lower: FloatArray,
    row_upper: FloatArray,
    rows: SiteRows,
    *,
    site_columns: npt.NDArray[np.int64],
    n_columns: int,
) -> tuple[sp.csr_matrix, FloatArray, FloatArray]:
    """A model's constraint block with the side constraints appended.

    ``site_columns[j]`` is the model's column of :math:`y_j` for each of the
    sites the rows were built on.
    """
    if len(rows) == 0:
        return matrix, row_lower, row_upper
    mapped = rows.matrix.tocoo()
    side = sp.csr_matrix(
        (mapped.data, (mapped.row, site_columns[mapped.col])), shape=(len(rows), n_columns)
    )
    return (
        sp.csr_matrix(sp.vstack([matrix, side], format="csr")),
        np.concatenate([row_lower, rows.lower]),
        np.concatenate([row_upper, rows.upper]),
    )


def milp_with_site_rows(milp: Milp, rows: SiteRows) -> Milp:
    """``milp`` with the side constraints appended; its first columns are the sites' y."""
    if len(rows) == 0:
        return milp
    matrix, lower, upper = append_site_rows(
        milp.matrix,
        milp.row_lower,
        milp.row_upper,
        rows,
        site_columns=np.arange(rows.n_sites, dtype=np.int64),
        n_columns=milp.matrix.shape[1],
    )
    return replace(milp, matrix=matrix, row_lower=lower, row_upper=upper)


#: The MILP of :func:`most_worth_within` (the sites alone, a few rows) gets at least this long.
LEAST_REPAIR_S = 1.0


def most_worth_within(
    rows: SiteRows,
    worth: npt.ArrayLike,
    p: int,
    *,
    exact_p: bool,
    fixed: BoolArray,
    excluded: BoolArray,
    seconds: float,
) -> BoolArray | None:
    """The open sites of most total ``worth`` that meet ``rows``, or ``None`` if none is found.

    At most ``p`` sites (exactly ``p`` with ``exact_p``), fixed ones open and
    excluded ones closed: a MILP over the sites alone, which HiGHS settles in
    a moment with a few side rows. The models' searches read no side rows;
    given each site's worth to a plan that breaks them (its own sites worth
    more than any other, plus what the plan loses without each), this is the
    plan that keeps most of it and meets them, for the searches to go on from.
    """
    n_sites = rows.n_sites
    count = sp.csr_matrix(np.ones((1, n_sites)))
    milp = Milp(
        objective=np.asarray(worth, dtype=np.float64),
        matrix=sp.vstack([rows.matrix, count], format="csr"),
        row_lower=np.concatenate([rows.lower, [float(p) if exact_p else -np.inf]]),
        row_upper=np.concatenate([rows.upper, [float(p)]]),
        lower=np.asarray(fixed, dtype=np.float64),
        upper=(~np.asarray(excluded, dtype=bool)).astype(np.float64),
        integer=np.ones(n_sites, dtype=bool),
        maximise=True,
    )
    settings = SolverSettings(time_limit_s=max(seconds, LEAST_REPAIR_S), relative_gap=1e-6)
    result = solve_milp(milp, settings, backend="highs")
    if result.status not in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
        return None
    chosen = np.asarray(result.values > 0.5)
    return None if rows.satisfied(np.flatnonzero(chosen)) else chosen
