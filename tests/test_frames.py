"""Dealer and demand tables given as DataFrames meet the same checks as files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon

from planner.errors import InputError, Problem
from planner.inputs.demand import load_demand
from planner.inputs.sites import load_sites
from planner.inputs.tables import read_frame
from planner.scenario.schema import DealerFile, DealersConfig, DemandConfig


def _dealers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "name": ["Renault Paris", "Nissan Lyon", "Renault Luxembourg"],
            "brand": ["Renault", "Nissan", "Renault"],
            "country": ["FR", "FR", "LU"],
            "lat": [48.8566, 45.764, 49.6116],
            "lon": [2.3522, 4.8357, 6.1296],
        }
    )


def _demand() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["lux", "esch", "paris"],
            "name": ["Luxembourg", "Esch-sur-Alzette", "Paris"],
            "lon": [6.1296, 5.9806, 2.3522],
            "lat": [49.6116, 49.4958, 48.8566],
            "population": [132780, 36625, 2100000],
        }
    )


def _problems(caught: pytest.ExceptionInfo[InputError]) -> list[Problem]:
    return [p for p in caught.value.problems if isinstance(p, Problem)]


def test_dealer_frame_gives_the_same_sites_as_the_csv(tmp_path: Path) -> None:
    frame = _dealers()
    path = tmp_path / "dealers.csv"
    frame.to_csv(path, index=False)
    from_file = load_sites(DealersConfig(files=[DealerFile(path=path)]), countries=None)
    from_frame = load_sites(
        DealersConfig(files=[]), countries=None, frames=[("dealers table", frame)]
    )
    pd.testing.assert_frame_equal(from_frame.sites, from_file.sites)
    dealers = from_frame.dealers.drop(columns="source")
    pd.testing.assert_frame_equal(dealers, from_file.dealers.drop(columns="source"))
    assert set(from_frame.dealers["source"]) == {"dealers table"}
    assert from_frame.counts["files"]["dealers table"]["dealers"] == 3


def test_frames_replace_the_scenario_files(tmp_path: Path) -> None:
    missing = DealerFile(path=tmp_path / "absent.csv")
    result = load_sites(
        DealersConfig(files=[missing]), countries=["LU"], frames=[("dealers table", _dealers())]
    )
    assert result.sites["site_id"].tolist() == ["3"]


def test_dealer_geodataframe_takes_coordinates_from_its_points() -> None:
    frame = _dealers()
    geo = gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
        crs="EPSG:4326",
    )
    result = load_sites(DealersConfig(), countries=None, frames=[("dealers table", geo)])
    assert result.sites["lon"].tolist() == pytest.approx([2.3522, 4.8357, 6.1296])


def test_bad_dealer_row_names_the_table_row_and_column() -> None:
    frame = _dealers().astype({"lat": object})
    frame.loc[1, "lat"] = "north"
    with pytest.raises(InputError) as caught:
        load_sites(DealersConfig(), countries=None, frames=[("dealers table", frame)])
    (problem,) = _problems(caught)
    # The frame's second row is row 3, as in the same table saved to CSV.
    assert str(problem) == "dealers table, row 3, field 'lat': 'north' is not a number"


def test_two_dealer_tables_are_told_apart() -> None:
    first, second = _dealers(), _dealers()
    with pytest.raises(InputError) as caught:
        load_sites(
            DealersConfig(),
            countries=None,
            frames=[("dealers table 1", first), ("dealers table 2", second)],
        )
    assert "dealers table 2, row 2: dealer id '1' is also in dealers table 1, row 2" in str(
        _problems(caught)[0]
    )


def test_not_a_data_frame_and_an_empty_one() -> None:
    with pytest.raises(InputError, match="dealers table: is a list, not a pandas DataFrame"):
        read_frame([1, 2], source="dealers table")
    with pytest.raises(InputError, match="dealers table: the table has no data rows"):
        read_frame(_dealers().iloc[:0], source="dealers table")


def test_demand_frame_gives_the_same_demand_as_the_csv(tmp_path: Path) -> None:
    frame = _demand()
    path = tmp_path / "demand.csv"
    frame.to_csv(path, index=False)
    config = DemandConfig(countries=["LU"], source=path)
    from_file = load_demand(config)
    from_frame = load_demand(DemandConfig(countries=["LU"]), frame=frame)
    pd.testing.assert_frame_equal(from_frame, from_file)
    assert from_frame.attrs["counts"] == from_file.attrs["counts"]
    assert from_frame["population"].tolist() == [132780.0, 36625.0]


def test_demand_geodataframe_of_polygons_uses_centroids() -> None:
    square = Polygon([(6.0, 49.6), (6.1, 49.6), (6.1, 49.7), (6.0, 49.7)])
    frame = gpd.GeoDataFrame({"population": [100]}, geometry=[square], crs="EPSG:4326")
    demand = load_demand(DemandConfig(countries=["LU"]), frame=frame, name="grid")
    assert demand["lon"].iloc[0] == pytest.approx(6.05, abs=1e-3)
    assert demand["lat"].iloc[0] == pytest.approx(49.65, abs=1e-3)
    assert demand["demand_id"].tolist() == ["grid:1"]


def test_bad_demand_row_names_the_table_row_and_column() -> None:
    frame = _demand().astype({"population": object, "lat": object})
    frame.loc[1, "population"] = "many"
    frame.loc[2, "lat"] = 123.0
    with pytest.raises(InputError) as caught:
        load_demand(DemandConfig(countries=["LU"]), frame=frame)
    assert [str(p) for p in _problems(caught)] == [
        "demand table, row 3, field 'population': 'many' is not a number",
        "demand table, row 4, field 'lat': outside ±90 degrees",
    ]


def test_ambiguous_text_number_in_a_frame_is_refused() -> None:
    # Typed float coordinates show no decimal mark, so the text "132.780" stays open.
    frame = _demand().astype({"population": object})
    frame.loc[0, "population"] = "132.780"
    with pytest.raises(InputError) as caught:
        load_demand(DemandConfig(countries=["LU"]), frame=frame)
    (problem,) = _problems(caught)
    assert str(problem).startswith(
        "demand table, row 2, field 'population': '132.780' is ambiguous"
    )


def test_text_held_as_bytes_in_a_frame_is_read_as_text() -> None:
    # Before: ids and names held as bytes became "b'R1'".
    frame = _dealers()
    frame["id"] = [v.encode("utf-8") for v in frame["id"]]
    frame["name"] = [v.encode("utf-8") for v in frame["name"]]
    read = load_sites(DealersConfig(files=[]), countries=None, frames=[("t", frame)]).dealers
    assert sorted(read["dealer_id"]) == ["1", "2", "3"]
    assert "Renault Paris" in set(read["name"])
