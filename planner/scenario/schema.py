"""The scenario: one typed schema for everything a run needs.

A scenario is a TOML file whose tables mirror the classes below. Every field
has a default and a description; ``planner run`` with no file runs the
defaults, which is the demo-scale sample network. ``--set key=value``
overrides any field by its dotted path (``--set model.p=80``,
``--set travel.radius_km=40``). The resolved scenario is written next to
every output as ``scenario.toml`` so a run can be reproduced.

Relative paths in a scenario file are resolved against the file's folder;
the built-in default reads the sample network shipped in ``planner.geodata``,
and relative paths set on it (``--set``) are resolved against the working folder.

This module holds :class:`Scenario`, the sections of the model and its solve
(chargers, travel, model, solver, output), :func:`load_scenario` and
:func:`scenario_to_toml`. The input sections (dealers, existing chargers,
demand) live in :mod:`planner.scenario.inputs`, the constraint sections in
:mod:`planner.scenario.constraints`, and the shared number types and section
base class in :mod:`planner.scenario.fields`; every one of their names is
re-exported here, so ``from planner.scenario.schema import ...`` reaches the
whole schema.
"""

from __future__ import annotations

import dataclasses
import html
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import tomli_w
from pydantic import Field, ValidationError, field_validator, model_validator

from planner import _toml as toml
from planner._arguments import shown, text_list
from planner._files import NOT_REGULAR, is_special, path_argument
from planner.errors import InputError, Problem
from planner.scenario.afir import AfirConfig as AfirConfig
from planner.scenario.constraints import SCENARIO_BRANDS as SCENARIO_BRANDS
from planner.scenario.constraints import ConstraintsConfig as ConstraintsConfig
from planner.scenario.constraints import Phase as Phase
from planner.scenario.fields import MAX_COST_EUR, MAX_THREADS, FilePath, country_codes
from planner.scenario.fields import Count as Count
from planner.scenario.fields import Number as Number
from planner.scenario.fields import Share as Share
from planner.scenario.fields import SiteCount as SiteCount
from planner.scenario.fields import _Section as _Section
from planner.scenario.inputs import ColumnMapping as ColumnMapping
from planner.scenario.inputs import CountryFactors as CountryFactors
from planner.scenario.inputs import DealerFile as DealerFile
from planner.scenario.inputs import DealersConfig as DealersConfig
from planner.scenario.inputs import DemandConfig as DemandConfig
from planner.scenario.inputs import ExistingChargerFile as ExistingChargerFile
from planner.scenario.inputs import ExistingChargersConfig as ExistingChargersConfig
from planner.scenario.inputs import SessionsConfig as SessionsConfig
from planner.scenario.io import (
    apply_override,
    dotted_field,
    override_fields,
    resolve_paths,
    same_field,
    set_dotted,
    unset_dotted,
    validation_problems,
)
from planner.scenario.models import DEFAULT_MODEL, MODEL_TRAITS, ROLLOUT_MODEL
from planner.scenario.travel import TravelConfig as TravelConfig
from planner.scenario.trips import TripsConfig as TripsConfig
from planner.scenario.uncertainty import Distribution as Distribution
from planner.scenario.uncertainty import SweepConfig as SweepConfig

#: Sites opened by max_coverage and p_median when ``model.p`` is unset (and,
#: for max_coverage, no budget replaces it).
DEFAULT_P = 60


logger = logging.getLogger(__name__)


class ChargersConfig(_Section):
    """The 800 V chargers: power, queueing target at the peak hour, costs, limits."""

    power_kw: Number = Field(
        300.0,
        gt=0,
        description="Power of one 800 V high-power charger, kW; with grid_kw it caps the "
        "chargers of a site. Assumption: current 800 V units deliver 300 to 400 kW.",
    )
    peak_hour_share: Number = Field(
        0.10,
        gt=0,
        le=1,
        description="Share of a day's sessions that fall in its busiest hour. Assumption: an "
        "even day would give 1/24 = 4 %; fast-charging sites see an afternoon peak of 8 to 12 % "
        "of the day, like the design-hour factor of road traffic engineering.",
    )
    session_minutes: Number = Field(
        20.0,
        gt=0,
        description="Mean session length at an 800 V charger, minutes. Makers' figures for "
        "800 V cars are 18 to 23 minutes from 10 to 80 %.",
    )
    max_wait_probability: Number = Field(
        0.2,
        gt=0,
        lt=1,
        description="Target probability that a driver arriving at the peak hour has to wait "
        "(Erlang C, M/M/c). Assumption: a service level (4 of 5 drivers plug in at once at the "
        "busiest hour), the 80/20 rule of queueing practice.",
    )
    min_per_site: Count = Field(
        2, ge=1, le=100_000, description="Least chargers at a chosen site (one can fail)."
    )
    max_per_site: Count = Field(
        12,
        ge=1,
        # A site of more is no site: beyond any grid connection, and 2**63 overflowed.
        le=100_000,
        description="Most chargers at a site when the dealer file gives neither max_chargers "
        "nor grid_kw.",
    )
    charger_cost_eur: Number = Field(
        150_000.0,
        ge=0,
        le=MAX_COST_EUR,
        description="Cost of one charger, hardware and installation, EUR. Assumption: "
        "300-400 kW units sell for about 100,000-150,000 EUR before installation.",
    )
    site_cost_eur: Number = Field(
        250_000.0,
        ge=0,
        le=MAX_COST_EUR,
        description="Cost of opening a site (medium-voltage grid connection and transformer, "
        "civil works, permits), EUR, unless the dealer file gives site_cost_eur. Assumption: "
        "a medium-voltage connection alone often costs 100,000-300,000 EUR.",
    )

    @model_validator(mode="after")
    def _least_within_most(self) -> ChargersConfig:
        # Every site without a limit of its own in the dealer file would be shut out.
        if self.min_per_site > self.max_per_site:
            raise ValueError(
                f"min_per_site ({self.min_per_site}) is above max_per_site "
                f"({self.max_per_site}): no site without its own limit could open"
            )
        return self


#: The models whose number of sites a budget replaces, for the field descriptions.
_BUDGET_MODELS = " or ".join(t.name for t in MODEL_TRAITS.values() if t.budget_replaces_p)


class ModelConfig(_Section):
    """Which facility-location model to solve and its parameters."""

    name: str = Field(
        DEFAULT_MODEL,
        description="; ".join(f"{t.name}: {t.summary}" for t in MODEL_TRAITS.values()) + ".",
    )
    p: Count | None = Field(
        None,
        ge=1,
        description=f"Number of sites to open (max_coverage, flow_refuelling: at most; p_median: "
        "exactly). "
        f"Unset: {DEFAULT_P}, except with {_BUDGET_MODELS} and constraints.budget_eur, where "
        "the budget alone limits the sites.",
    )
    coverage_target: Number = Field(
        1.0,
        ge=0,
        le=1,
        description="set_cover and sizing: share of the demand within reach of a candidate "
        "site that must be covered (set_cover) or served (sizing); sizing may use 0 with a "
        "penalty.",
    )
    unserved_penalty_eur: Number | None = Field(
        None,
        ge=0,
        le=MAX_COST_EUR,
        description="sizing: cost charged per session/day of demand left unserved, EUR, so "
        "that the model serves demand beyond coverage_target where that is cheaper than the "
        "penalty. Unset: no penalty.",
    )
    range_km: Number = Field(
        300.0,
        gt=0,
        description="flow_refuelling: km a car drives on a full charge at motorway speed "
        "(an 800 V car charged 10-80 % covers about 300 km); a trip is served when its round "
        "trip never runs the battery flat, starting with half a charge.",
    )
    trip_weight: Number = Field(
        1.0,
        ge=0,
        le=1,
        description="flow_refuelling: weight of the trips in the objective; 1 plans for trips "
        "alone, below 1 the rest goes to covering local demand within reach (the objective is "
        "trip_weight × share of trip flow refuelled + (1 − trip_weight) × share of demand "
        "covered).",
    )

    @field_validator("name")
    @classmethod
    def _known_model(cls, name: str) -> str:
        if name not in MODEL_TRAITS:
            raise ValueError(f"unknown model {name!r}; one of {', '.join(MODEL_TRAITS)}")
        return name

    @model_validator(mode="after")
    def _positive_set_cover_target(self) -> ModelConfig:
        if MODEL_TRAITS[self.name].needs_coverage and self.coverage_target <= 0:
            raise ValueError(f"coverage_target: {self.name} needs a share above 0")
        return self


class SolverConfig(_Section):
    """Solver limits."""

    time_limit_s: Number = Field(60.0, gt=0, description="Time limit of the solve, seconds.")
    relative_gap: Number = Field(
        1e-4,
        ge=0,
        lt=1,
        description="Stop when the proven relative gap is at most this (below 1: a gap of "
        "1 would let any plan count as optimal).",
    )
    threads: Count = Field(1, ge=1, le=MAX_THREADS, description="Solver threads (at most 256).")
    seed: Count = Field(0, description="Random seed of solver and heuristics.")


class OutputConfig(_Section):
    """What to write."""

    dir: FilePath | None = Field(
        None,
        description="Output folder, relative to the scenario file; default maps/<scenario "
        "name>/ under the working folder. A folder outside the working folder must be given "
        "with --out.",
    )
    map: bool = Field(True, description="Write map.html.")
    reach_circles: bool = Field(True, description="Draw reach circles around chosen sites.")
    max_demand_points: Count = Field(
        20000,
        ge=0,
        description="Most demand points drawn individually on the map (largest first).",
    )


class _Checked(type(_Section)):  # type: ignore[misc]
    """Built directly (``Scenario(model={"p": 3})``), a bad value raises the InputError
    a file or a mapping gives, not pydantic's ValidationError.

    On the metaclass, not in ``__init__``: pydantic runs a custom ``__init__``
    when it validates a mapping too, whose problems then lost their source.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except ValidationError as exc:
            raise InputError(validation_problems(exc, f"{cls.__name__}(...)", cls)) from None


class Scenario(_Section, metaclass=_Checked):
    """A planning scenario."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=100)] = Field(
        "default",
        description="Short name (letters, digits, '_', '.', '-'; at most 100 of them); names "
        "the default output folder.",
    )
    title: str = Field(
        "Sample network: Western Europe, 800 V chargers at Renault and Nissan dealers",
        description="Title shown on the map and in the report.",
    )
    dealers: DealersConfig = Field(default_factory=DealersConfig)
    demand: DemandConfig = Field(default_factory=DemandConfig)
    existing_chargers: ExistingChargersConfig = Field(default_factory=ExistingChargersConfig)
    travel: TravelConfig = Field(default_factory=TravelConfig)
    chargers: ChargersConfig = Field(default_factory=ChargersConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    constraints: ConstraintsConfig = Field(default_factory=ConstraintsConfig)
    solver: SolverConfig = Field(default_factory=SolverConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    sweep: SweepConfig = Field(default_factory=SweepConfig)
    trips: TripsConfig = Field(default_factory=TripsConfig)
    afir: AfirConfig = Field(default_factory=AfirConfig)
    uncertainty: dict[str, Distribution] = Field(
        default_factory=dict,
        description="Distributions of scenario fields for planner sweep --samples, keyed by "
        "the dotted name --set takes; planner run checks them but solves the scenario's own "
        "figures. A draw for a whole-number "
        "field is rounded.",
        examples=[
            {
                "demand.sessions.by_country.FR.bev_share_of_fleet": {
                    "dist": "triangular",
                    "low": 0.03,
                    "mode": 0.08,
                    "high": 0.15,
                }
            }
        ],
    )

    def __repr__(self) -> str:
        # pydantic's repr listed every field: 2 kB for the default scenario.
        return f"<Scenario {self.name!r}: {', '.join(self._gist())}>"

    def _repr_html_(self) -> str:
        """In a notebook: the gist and the fields this scenario sets, as TOML."""
        chosen = self.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
        fields = tomli_w.dumps(chosen).strip() if chosen else "(none)"
        return (
            f"<p><b>Scenario {html.escape(repr(self.name))}</b>: "
            f"{html.escape(', '.join(self._gist()))}</p>"
            "<p>Set here (every other field at its default, as scenarios/default.toml "
            f"lists them):</p><pre>{html.escape(fields)}</pre>"
        )

    def _gist(self) -> list[str]:
        """The figures a planner reads a scenario by: model, sites, reach, inputs."""
        traits = MODEL_TRAITS[self.model.name]
        gist = [self.model.name]
        phases = self.constraints.phases
        sites = self.sites_limit()
        if traits.rolls_out and phases:  # each year its own p or budget
            gist.append(f"roll-out {phases[0].year}–{phases[-1].year} in {len(phases)} phases")
        elif sites is not None:
            gist.append(f"p = {sites}")
        if traits.sites is None:  # the coverage target sets the number of sites
            gist.append(f"coverage target {self.model.coverage_target * 100:.4g} %")
        if traits.within_capacity and self.model.unserved_penalty_eur is not None:
            gist.append(f"unserved penalty {self.model.unserved_penalty_eur:,.0f} EUR")
        if self.constraints.budget_eur is not None:
            gist.append(f"budget {self.constraints.budget_eur:,.0f} EUR")
        travel = self.travel
        if travel.mode == "road":
            unit = "min" if travel.road_metric == "minutes" else "km"
            gist.append(f"reach {travel.road_limit:g} {unit} by road")
        else:
            gist.append(f"reach {travel.radius_km:g} km")
        files = len(self.dealers.files)
        gist.append(f"{files} dealer file{'' if files == 1 else 's'}")
        source = self.demand.source
        if source != "geonames":
            gist.append(f"demand from {Path(source).name}")
        elif self.demand.countries:
            gist.append("demand of " + " ".join(self.demand.countries))
        return gist

    def sites_limit(self) -> int | None:
        """The number of sites the single-year model opens (at most, or exactly for p_median).

        ``model.p`` when set; else none for max_coverage with a budget (the
        budget replaces p), else :data:`DEFAULT_P`. ``None`` also for the
        models without a number of sites (set_cover, sizing).
        """
        traits = MODEL_TRAITS[self.model.name]
        if traits.sites is None:
            return None
        if self.model.p is not None:
            return self.model.p
        if traits.budget_replaces_p and self.constraints.budget_eur is not None:
            return None
        return DEFAULT_P

    @field_validator("name")
    @classmethod
    def _name_of_a_folder(cls, name: str) -> str:
        # "." and ".." name no folder of their own: maps/.. is the working folder.
        if set(name) == {"."}:
            raise ValueError(f"'{name}' names no folder of its own; give a short name")
        return name

    @model_validator(mode="after")
    def _countries_upper(self) -> Scenario:
        bad = [c for c in self.demand.countries if len(c) != 2 or not c.isalpha()]
        if bad:
            raise ValueError(f"demand.countries: not ISO 3166-1 alpha-2 codes: {bad}")
        unknown = [c for c in self.demand.countries if c.upper() not in country_codes()]
        if unknown:
            # The two codes people write for the alpha-2 ones.
            hints = {"UK": " (the United Kingdom is GB)", "EL": " (Greece is GR)"}
            said = "".join(hints.get(c.upper(), "") for c in unknown)
            raise ValueError(f"demand.countries: no such country code: {unknown}{said}")
        return self

    @model_validator(mode="after")
    def _uncertain_fields_exist(self) -> Scenario:
        for key in self.uncertainty:
            if key.split(".")[0] in ("uncertainty", "sweep"):
                raise ValueError(f"uncertainty: '{key}' is a setting of the sweep itself")
            _, problem = dotted_field(Scenario, key)
            if problem is not None:
                what = problem.replace("unknown field", "not a field of the scenario", 1)
                raise ValueError(f"uncertainty: '{key}' is {what}")
        return self

    @model_validator(mode="after")
    def _rollout_model(self) -> Scenario:
        # Refused here, before any input is read; planner.pipeline.registry.model_of
        # checks again for scenarios built without validation.
        name = self.model.name
        if self.constraints.phases and not MODEL_TRAITS[name].rolls_out:
            raise ValueError(
                f"constraints.phases: a phased roll-out is solved by {ROLLOUT_MODEL} only, "
                f"not by {name}; set model.name = '{ROLLOUT_MODEL}' or remove the phases"
            )
        return self

    @model_validator(mode="after")
    def _some_country_open(self) -> Scenario:
        # Sites outside demand.countries are left out, so bounds of 0 on all of
        # them forbid every site: every plan would be empty.
        most = self.constraints.country_max_sites
        if self.demand.countries and all(most.get(c) == 0 for c in self.demand.countries):
            raise ValueError(
                "constraints.country_max_sites: every country of demand.countries "
                f"({', '.join(self.demand.countries)}) allows 0 sites, so no site can open"
            )
        return self


def load_scenario(
    path: Path | None = None,
    *,
    overrides: list[str] | tuple[str, ...] = (),
    values: Mapping[str, Any] | None = None,
) -> Scenario:
    """Read a scenario file (or the built-in default), apply overrides, resolve paths.

    Parameters
    ----------
    path
        A TOML file; ``None`` for the built-in default on the sample network.
    overrides
        ``key=value`` strings with dotted keys; values are read as TOML values
        (``model.p=80``, ``demand.countries=["FR"]``) or else as plain strings.
    values
        Dotted keys and Python values (``{"model.p": 80}``), applied after
        ``overrides``.
    """
    listed = text_list(
        overrides, "overrides", "a list of 'key=value' strings (a mapping goes to values=)"
    )
    if values is not None and not isinstance(values, Mapping):
        raise InputError(
            Problem(
                "values",
                "give a mapping of dotted field names to values, like {'model.p': 80}, not "
                f"{shown(values)} (a list of 'key=value' strings goes to overrides=)",
            )
        )
    if path is None:
        raw: dict[str, Any] = {}
        # Paths given as overrides of the built-in default are the user's own,
        # relative to where they work.
        base = Path.cwd()
        source = "built-in default scenario"
    else:
        path = path_argument(path, "path")
        source = str(path)
        if is_special(Path(path)):
            raise InputError(Problem(source, NOT_REGULAR))
        try:
            raw = toml.loads(Path(path).read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise InputError(Problem(source, "scenario file not found")) from None
        except IsADirectoryError:
            raise InputError(Problem(source, "is a folder, not a scenario file")) from None
        except OSError as exc:
            raise InputError(Problem(source, f"cannot be read: {exc.strerror or exc}")) from None
        except (toml.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(Problem(source, f"not a valid TOML file: {exc}")) from None
        if not raw:
            # An empty file (or comments only) is more often a slip than a choice.
            logger.warning("%s sets no field: it is the built-in default scenario", source)
        base = Path(path).resolve().parent
    return validated_scenario(raw, source, base, overrides=listed, values=values)


def validated_scenario(
    raw: dict[str, Any],
    source: str,
    base: Path,
    *,
    overrides: Sequence[str] = (),
    values: Mapping[str, Any] | None = None,
) -> Scenario:
    """Apply overrides to a scenario's raw tables, validate, and resolve paths against ``base``.

    ``raw`` is changed in place; every problem is raised at once, naming
    ``source`` and the field.
    """
    _refuse_repeated_fields(override_fields(overrides) + override_fields(values))
    # Which override set each field, so a problem with it names the override.
    labels: dict[str, str] = {}
    for item in overrides:
        labels[apply_override(raw, item, source, Scenario)] = f"override '{item.strip()}'"
    for key, value in (values or {}).items():
        if value is None:
            # As ``--set key=null``: the field takes its default, whatever that is.
            unset_dotted(raw, str(key), source, Scenario, shown=f"{key}=None")
        else:
            set_dotted(raw, key, value, source)
        # The value itself may be a whole table: the key names it well enough.
        labels[key.strip()] = f"override {key.strip()}"
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = validation_problems(exc, source, Scenario)
        raise InputError([_attributed(p, labels) for p in problems]) from None
    return resolve_paths(scenario, base, source)


def _refuse_repeated_fields(keys: Sequence[str]) -> None:
    """Refuse two overrides of one field, or of a field and a table holding it.

    The later one won without a word: ``--set model.p=3 --set model.p=4`` gave
    p = 4, and so did ``{"model.p": 3, "model": {"p": 4}}``.
    """
    for i, key in enumerate(keys):
        clash = next((k for k in keys[:i] if same_field(k, key)), None)
        if clash is not None:
            also = "is given twice" if clash == key else f"and '{clash}' set the same field"
            raise InputError(Problem("overrides", f"'{key}' {also}; give each field once"))


def _attributed(problem: Problem, labels: Mapping[str, str]) -> Problem:
    """The problem named by the override that set its field (or a field under it), if one did.

    ``nope.x`` is refused at ``nope``, ``model.p.x`` at ``model.p``: the override
    is still the one to name, not the scenario it was applied to.
    """
    field = problem.field or ""
    for key, label in labels.items():
        under = field if field.endswith(".") else f"{field}."
        if field == key or field.startswith(f"{key}.") or (field and key.startswith(under)):
            return dataclasses.replace(problem, source=label)
    return problem


def scenario_to_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML text, for ``scenario.toml`` beside the outputs."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    return tomli_w.dumps(data)
