"""Which runs a sweep makes: the grid, the Monte Carlo draws, one scenario per run.

A sweep is the Cartesian product of its grid's values (the first field
outermost), each point solved once, or ``samples`` times with values drawn
from the scenario's ``[uncertainty]``. The same draws (common random numbers,
from one seeded generator) are used at every point of the grid, so two grid
points differ by their grid values alone, not by luck of the draw.

Every run's scenario is built and validated here, on the client, before any
run starts: an unknown field, a value its field refuses, a grid with no
values, ``samples`` without distributions, all stop the sweep at once with
one line naming the argument (``grid``, ``samples``, ``seed``; ``planner
sweep`` says ``--grid`` and so on) or field. A run is known by its id, a digest of
its resolved scenario: a resumed sweep finds the runs it already has by id,
and a changed scenario file shares none.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from planner import _toml as toml
from planner._arguments import shown, text_list, whole_number
from planner.errors import InputError, Problem
from planner.scenario.build import scenario_from
from planner.scenario.io import dotted_field, holds_integer, plain_value, same_field
from planner.scenario.schema import Distribution, Scenario, scenario_to_toml

__all__ = ["SweepRun", "SweepSpec", "draw_samples", "parse_grid", "sweep_spec"]

#: What the API takes as a grid: field → values, or ``key=v1,v2`` strings as ``--grid`` takes them.
GridLike = Mapping[str, Sequence[Any]] | Sequence[str] | None


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep.

    Attributes
    ----------
    index
        Position in the sweep, from 0.
    values
        The swept fields' values of this run (grid and draws), by dotted name.
    sample
        The draw's number (from 0) when the sweep draws samples, else ``None``.
    scenario
        The run's resolved scenario.
    run_id
        Digest of the resolved scenario: equal ids, equal runs.
    """

    index: int
    values: dict[str, Any]
    sample: int | None
    scenario: Scenario
    run_id: str


@dataclass(frozen=True)
class SweepSpec:
    """A sweep's scenario, grid, draws and runs."""

    scenario: Scenario
    grid: dict[str, list[Any]]
    samples: int
    seed: int
    runs: list[SweepRun] = field(repr=False)

    @property
    def parameters(self) -> list[str]:
        """The swept fields, grid first, then the drawn ones."""
        drawn = list(self.scenario.uncertainty) if self.samples else []
        return [*self.grid, *(key for key in drawn if key not in self.grid)]


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["travel.radius_km=30,50,80", "model.p=100,200"]`` → field → values.

    Values are read as TOML values (``30`` a number, ``true`` a bool,
    ``["FR"]`` a list) or else as plain text (``p_median``), as ``--set``
    reads them; commas inside brackets or quotes do not split.
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(Problem("grid", f"'{item}' is not of the form key=v1,v2,..."))
        values = _grid_values(text, key)
        if not values:
            raise InputError(Problem("grid", f"'{item}' gives no values", field=key))
        if key in grid:
            raise InputError(Problem("grid", f"'{key}' is given twice", field=key))
        grid[key] = values
    return grid


def _grid_values(text: str, key: str) -> list[Any]:
    text = text.strip()
    if not text:
        return []
    try:
        values = toml.loads(f"v = [{text}]")["v"]
    except toml.TOMLDecodeError:
        values = []
        parts = text.split(",")
        for i, part in enumerate(parts):
            part = part.strip()
            if not part and i < len(parts) - 1:
                # "1,,2" would sweep 1 and 2 as if the gap were not there.
                raise InputError(
                    Problem("grid", f"'{text}' has an empty value between commas", field=key)
                ) from None
            if not part:
                continue
            try:
                values.append(toml.loads(f"v = {part}")["v"])
            except toml.TOMLDecodeError:
                values.append(part)
    return list(values)


def draw_samples(
    uncertainty: Mapping[str, Distribution], samples: int, seed: int
) -> list[dict[str, Any]]:
    """``samples`` draws of every field of ``uncertainty``, from one generator seeded ``seed``.

    Fields are drawn in the order of their names, so a draw does not depend
    on the order of the scenario file. A whole-number field's draw is rounded.
    """
    rng = np.random.default_rng(seed)
    columns: dict[str, list[Any]] = {}
    for key in sorted(uncertainty):
        annotation, _ = dotted_field(Scenario, key)
        draws = _draw(uncertainty[key], samples, rng)
        if annotation is not None and holds_integer(annotation):
            draws = [round(v) if isinstance(v, float) else v for v in draws]
        columns[key] = draws
    return [{key: columns[key][i] for key in uncertainty} for i in range(samples)]


def _draw(dist: Distribution, n: int, rng: np.random.Generator) -> list[Any]:
    if dist.dist == "choice":
        assert dist.values is not None
        weights = None
        if dist.weights is not None:
            total = float(sum(dist.weights))
            weights = [w / total for w in dist.weights]
        picks = rng.choice(len(dist.values), size=n, p=weights)
        return [dist.values[int(i)] for i in picks]
    if dist.dist == "uniform":
        assert dist.low is not None and dist.high is not None
        return [float(v) for v in rng.uniform(dist.low, dist.high, size=n)]
    if dist.dist == "triangular":
        assert dist.low is not None and dist.mode is not None and dist.high is not None
        return [float(v) for v in rng.triangular(dist.low, dist.mode, dist.high, size=n)]
    assert dist.mean is not None and dist.sd is not None
    return [_truncated_normal(dist, rng) for _ in range(n)]


def _truncated_normal(dist: Distribution, rng: np.random.Generator) -> float:
    """A normal draw within ``low``..``high`` (when given), by the inverse distribution.

    Drawing again until a value falls inside would take ever longer as the
    bounds narrow against ``sd``, so the draw is exact instead: a uniform
    share of the probability between the bounds, split at the mean (which
    lies between them) so that each side is looked up in its lower tail,
    where the inverse keeps its precision.
    """
    assert dist.mean is not None and dist.sd is not None
    if dist.low is None and dist.high is None:
        return float(rng.normal(dist.mean, dist.sd))
    low = -np.inf if dist.low is None else dist.low
    high = np.inf if dist.high is None else dist.high
    below, above = (low - dist.mean) / dist.sd, (high - dist.mean) / dist.sd
    share = float(rng.uniform())
    if above - below < _FLAT:
        # Bounds this close against sd: the density is flat between them.
        return float(low + share * (high - low))
    left, right = 0.5 - ndtr(below), 0.5 - ndtr(-above)  # mass each side of the mean
    mass = share * (left + right)
    step = float(ndtri(0.5 - mass)) if mass < left else -float(ndtri(0.5 - (mass - left)))
    return float(min(max(dist.mean + dist.sd * step, low), high))


#: Bounds closer than this many sd: a draw between them is uniform.
_FLAT = 1e-6


def _same_key(value: Any) -> str:
    """What makes two grid values one: a number by its value, anything else by its text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(float(value))
    return repr(value)


#: Most runs one sweep takes (a 1,000-run Monte Carlo at each of 100 grid points).
MAX_RUNS = 100_000


def sweep_spec(
    scenario: Scenario,
    *,
    grid: GridLike = None,
    samples: int = 0,
    seed: int = 0,
) -> SweepSpec:
    """The runs of a sweep, each scenario validated; nothing is read or solved.

    Raises
    ------
    InputError
        Nothing to sweep; an unknown field or a value a field refuses, in the
        grid or in a draw; ``samples`` without ``[uncertainty]``; a grid with
        no values.
    """
    points = grid_mapping(grid)
    for key, values in points.items():
        texts = [repr(plain_value(v)) for v in values]
        # By value: 50 and 50.0 (or 5e1) are one radius, and one run's id.
        same = [_same_key(plain_value(v)) for v in values]
        twice = next((i for i, v in enumerate(same) if v in same[:i]), None)
        if twice is not None:
            # Each copy would be solved again and count again in the sites' robustness shares.
            first = texts[same.index(same[twice])]
            written = "" if first == texts[twice] else f" (as {first} and {texts[twice]})"
            raise InputError(Problem("grid", f"{texts[twice]} is given twice{written}", field=key))
    samples = whole_number(samples, "samples", least=0)
    # numpy's generators take no negative seed.
    seed = whole_number(seed, "seed", least=0)
    runs_asked = math.prod(len(values) for values in points.values()) * max(samples, 1)
    if runs_asked > MAX_RUNS:
        # Every run's scenario is built and checked before the first starts.
        raise InputError(
            Problem(
                "sweep",
                f"{runs_asked:,} runs asked for; at most {MAX_RUNS:,} in one sweep (split it "
                "into sweeps over parts of the grid, each with its own output folder)",
            )
        )
    if samples and not scenario.uncertainty:
        raise InputError(
            Problem(
                "samples",
                "the scenario declares no [uncertainty] to draw from; give fields "
                'distributions, e.g. [uncertainty] "travel.radius_km" = '
                '{dist = "uniform", low = 40, high = 60}',
            )
        )
    if not points and not samples:
        raise InputError(
            Problem("sweep", "nothing to sweep: give a grid (key=v1,v2,...) or samples")
        )
    for key, values in points.items():
        _check_grid_field(scenario, key, values)
    draws: list[dict[str, Any] | None] = list(draw_samples(scenario.uncertainty, samples, seed))
    base = scenario_to_toml(scenario)
    runs: list[SweepRun] = []
    combos = list(itertools.product(*points.values())) if points else [()]
    for combo in combos:
        chosen = dict(zip(points, combo, strict=True))
        for sample, drawn in enumerate(draws or [None]):
            run_values = {**(drawn or {}), **chosen}
            run_scenario = _run_scenario(
                scenario, run_values, sample if drawn is not None else None
            )
            runs.append(
                SweepRun(
                    index=len(runs),
                    values={key: plain_value(v) for key, v in run_values.items()},
                    sample=sample if drawn is not None else None,
                    scenario=run_scenario,
                    run_id=_run_id(base, run_scenario),
                )
            )
    return SweepSpec(scenario=scenario, grid=points, samples=samples, seed=seed, runs=runs)


def refuse_swept_and_set(
    grid: Mapping[str, Any], set_fields: Sequence[str], drawn: Sequence[str]
) -> None:
    """Refuse a field swept and also set by an override or drawn, or set and drawn.

    The grid's value replaced the override's, and a draw the override's, in
    every run without a word.

    Parameters
    ----------
    grid
        The swept fields.
    set_fields
        The dotted fields the overrides set (``--set``, ``time_limit``).
    drawn
        The fields drawn from ``[uncertainty]``; empty without samples.
    """

    for key in grid:
        for other, how, verb in [(f, "set by an override", "set") for f in set_fields] + [
            (f, "drawn from [uncertainty]", "draw") for f in drawn
        ]:
            if same_field(key, other):
                where = "" if other == key else f" ('{other}')"
                why = f"is also {how}{where}; either sweep the field or {verb} it"
                raise InputError(Problem("grid", why, field=key))
    for key in set_fields:
        field = next((f for f in drawn if same_field(key, f)), None)
        if field is not None:
            raise InputError(
                Problem(
                    "overrides",
                    f"'{key}' is also drawn from [uncertainty] ('{field}'), whose draws would "
                    "replace it; either set the field or draw it",
                )
            )


def grid_mapping(grid: GridLike) -> dict[str, list[Any]]:
    if grid is None:
        return {}
    if isinstance(grid, str):
        return parse_grid([grid])
    if isinstance(grid, Mapping):
        points = {}
        for key, values in grid.items():
            if isinstance(values, bytes | bytearray | Mapping):
                # Bytes would be taken apart into character codes, a mapping into its keys.
                raise InputError(
                    Problem("grid", f"give a list of values, not {shown(values)}", field=str(key))
                )
            # One value given bare ({"model.p": 3}) is a grid of one value.
            bare = isinstance(values, str) or not isinstance(values, Iterable)
            listed = [values] if bare else list(values)
            if not listed:
                raise InputError(Problem("grid", f"'{key}' gives no values", field=key))
            points[str(key)] = listed
        return points
    wanted = "a mapping {'model.p': [100, 200]} or 'key=v1,v2' strings"
    return parse_grid(text_list(grid, "grid", wanted))


def _check_grid_field(scenario: Scenario, key: str, values: list[Any]) -> None:
    """An unknown grid field, one given a distribution too, or a value its field refuses."""
    _, problem = dotted_field(Scenario, key)
    if problem is not None:
        raise InputError(Problem("grid", problem, field=key))
    if key.split(".")[0] == "sweep":
        # A run does not read them: the sweep's summary does, once.
        raise InputError(Problem("grid", "is a setting of the sweep itself", field=key))
    for value in values:
        try:
            scenario_from(scenario, overrides={key: value})
        except InputError as exc:
            raise InputError(
                Problem("grid", f"{value!r} is refused: {_first(exc, key)}", field=key)
            ) from None


def _run_scenario(scenario: Scenario, values: dict[str, Any], sample: int | None) -> Scenario:
    if not values:
        return scenario
    try:
        return scenario_from(scenario, overrides=values)
    except InputError as exc:
        where = "a drawn value" if sample is not None else "the grid"
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
        # Bounds help a drawn number out of range, not a choice or a misnamed key.
        numeric = [
            key
            for key in values
            if key in scenario.uncertainty and scenario.uncertainty[key].dist != "choice"
        ]
        hint = (
            "; bound the distribution (low/high) to the values the field takes"
            if sample is not None and numeric
            else ""
        )
        raise InputError(
            Problem("planner sweep", f"{where} is refused ({shown}): {_first(exc)}{hint}")
        ) from None


def _first(exc: InputError, key: str | None = None) -> str:
    """The first problem's message, naming its field unless it is ``key``."""
    problem = exc.problems[0]
    if isinstance(problem, Problem):
        where = f"field '{problem.field}': " if problem.field and problem.field != key else ""
        return f"{where}{problem.message}"
    return str(problem)


def _run_id(base: str, scenario: Scenario) -> str:
    """A digest of the resolved scenario (and of the base, which the draws came from)."""
    digest = hashlib.sha256()
    digest.update(base.encode("utf-8"))
    digest.update(b"\0")
    digest.update(json.dumps(scenario.model_dump(mode="json"), sort_keys=True).encode("utf-8"))
    return digest.hexdigest()[:16]
