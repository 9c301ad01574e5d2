"""Shipped per-country values of the sessions-per-day factors, each with its source.

Two factors differ markedly between countries and have published figures:
passenger cars per inhabitant and the battery-electric share of the car
fleet. The others (the brands' share of BEVs, fast sessions per BEV per day)
are assumptions without a per-country source and stay single values in the
scenario. A scenario's ``demand.sessions.by_country`` wins over these values;
``demand.sessions.country_defaults = false`` turns them off.

The values are rounded to the precision the sources give; check them against
the current editions before a real plan. Countries of the sample network not
listed here use the scenario's single (EU-average) values.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COUNTRY_FACTORS", "CountryValue", "country_value"]


@dataclass(frozen=True)
class CountryValue:
    """One shipped value and where it comes from."""

    value: float
    source: str


_CARS = "Eurostat road_eqs_carhab, passenger cars per 1,000 inhabitants, 2022"
_CARS_CH = "Swiss Federal Statistical Office (FSO), motorisation rate, 2022"
_CARS_DE = "Kraftfahrt-Bundesamt (KBA) car stock 1 Jan 2023 / Destatis population, 2022"
_BEV = "Eurostat road_eqs_carpda, battery-only electric share of passenger cars, 31 Dec 2023"
_BEV_DE = "Kraftfahrt-Bundesamt (KBA), 1.41 million BEVs of 49.1 million cars, 1 Jan 2024"
_BEV_FR = "SDES (French ministry), about 1 million BEVs of 39 million cars, 1 Jan 2024"
_BEV_CH = "Swiss Federal Statistical Office (FSO), road vehicle stock, 2023"

#: Per ISO code: factor name -> value with its source.
COUNTRY_FACTORS: dict[str, dict[str, CountryValue]] = {
    "BE": {
        "cars_per_inhabitant": CountryValue(0.51, _CARS),
        "bev_share_of_fleet": CountryValue(0.030, _BEV),
    },
    "CH": {
        "cars_per_inhabitant": CountryValue(0.54, _CARS_CH),
        "bev_share_of_fleet": CountryValue(0.033, _BEV_CH),
    },
    "DE": {
        "cars_per_inhabitant": CountryValue(0.58, _CARS_DE),
        "bev_share_of_fleet": CountryValue(0.029, _BEV_DE),
    },
    "DK": {"bev_share_of_fleet": CountryValue(0.071, _BEV)},
    "FI": {"cars_per_inhabitant": CountryValue(0.661, _CARS)},
    "FR": {
        "cars_per_inhabitant": CountryValue(0.57, _CARS),
        "bev_share_of_fleet": CountryValue(0.025, _BEV_FR),
    },
    "GR": {"bev_share_of_fleet": CountryValue(0.002, _BEV)},
    "HU": {"cars_per_inhabitant": CountryValue(0.424, _CARS)},
    "IT": {"cars_per_inhabitant": CountryValue(0.684, _CARS)},
    "LU": {
        "cars_per_inhabitant": CountryValue(0.678, _CARS),
        "bev_share_of_fleet": CountryValue(0.051, _BEV),
    },
    "NL": {
        "cars_per_inhabitant": CountryValue(0.50, _CARS),
        "bev_share_of_fleet": CountryValue(0.050, _BEV),
    },
    "PL": {"bev_share_of_fleet": CountryValue(0.002, _BEV)},
    "RO": {"cars_per_inhabitant": CountryValue(0.417, _CARS)},
    "SE": {"bev_share_of_fleet": CountryValue(0.059, _BEV)},
    "BG": {"cars_per_inhabitant": CountryValue(0.428, _CARS)},
}


def country_value(country: str, factor: str) -> float | None:
    """The shipped value of ``factor`` for ``country`` (ISO alpha-2), or ``None``."""
    entry = COUNTRY_FACTORS.get(country.upper(), {}).get(factor)
    return None if entry is None else entry.value
