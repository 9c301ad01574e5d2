"""Country outlines: the shipped file, lookups, and the generator on a tiny layer."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.errors import InputError
from planner.inputs.countries import (
    COUNTRY_OUTLINES_PATH,
    build_country_outlines,
    country_bounds,
    country_of,
    country_outlines,
)
from planner.inputs.sample import dealer_counts


def test_shipped_file_is_small_and_covers_every_sample_country() -> None:
    assert COUNTRY_OUTLINES_PATH.stat().st_size < 800_000
    outlines = country_outlines()
    assert list(outlines.columns) == ["iso_a2", "name", "geometry"]
    assert outlines.crs is not None and outlines.crs.to_epsg() == 4326
    assert outlines["iso_a2"].is_unique
    assert outlines.geometry.is_valid.all()
    sample_countries = set(dealer_counts("demo")["country"])
    assert sample_countries <= set(outlines["iso_a2"])


def test_selecting_countries() -> None:
    outlines = country_outlines(["lu", "FR"])
    assert outlines["iso_a2"].tolist() == ["FR", "LU"]
    assert outlines.loc[1, "name"] == "Luxembourg"
    # Luxembourg is about 2,590 km²; the simplified outline keeps it within 10 %.
    area_km2 = outlines.to_crs("EPSG:3035").area.iloc[1] / 1e6
    assert 2300 < area_km2 < 2900


def test_unknown_country_is_an_input_error() -> None:
    with pytest.raises(InputError, match="US"):
        country_outlines(["FR", "US"])


def test_country_of_known_places() -> None:
    lon = [6.13, 2.35, 4.35, -3.0, 6.1, 13.4]
    lat = [49.61, 48.85, 50.85, 46.0, 49.6, 52.52]
    # Luxembourg, Paris, Brussels, the Bay of Biscay, Strassen (LU), Berlin.
    codes = country_of(lon, lat)
    assert codes.tolist() == ["LU", "FR", "BE", "", "LU", "DE"]
    only = country_of(lon, lat, countries=["FR"])
    assert only.tolist() == ["", "FR", "", "", "", ""]


def test_country_of_snaps_coastal_points() -> None:
    # Le Conquet's harbour at the tip of Brittany, which a simplified
    # coastline may leave in the sea; 100 km out it is nobody's.
    assert country_of([-4.77], [48.36], tolerance_km=5).tolist() == ["FR"]
    assert country_of([-6.2], [48.36], tolerance_km=5).tolist() == [""]


def test_bounds_catch_swapped_coordinates() -> None:
    bounds = country_bounds(["LU"]).loc["LU"]
    assert bounds["west"] < 6.13 < bounds["east"]
    assert bounds["south"] < 49.61 < bounds["north"]
    # Swapped (lat as lon) lands far outside.
    assert not bounds["west"] < 49.61 < bounds["east"]


def test_build_keeps_shared_borders_and_clips(tmp_path: Path) -> None:
    # Two neighbours sharing a wiggly border, and one far outside the box.
    border = [(1.0, y / 10) for y in range(11)]
    wiggle = [(x + (0.003 if i % 2 else 0.0), y) for i, (x, y) in enumerate(border)]
    west = shapely.Polygon([(0.0, 1.0), (0.0, 0.0), *wiggle])
    east = shapely.Polygon([*wiggle, (2.0, 1.0), (2.0, 0.0)])
    far = shapely.box(50.0, 50.0, 51.0, 51.0)
    # Reaches out of the box: kept whole, never cut at the box's edge; its
    # island far outside the box is dropped.
    crossing = shapely.MultiPolygon([shapely.box(2.5, 2.5, 4.0, 4.0), far.buffer(-0.1)])
    layer = gpd.GeoDataFrame(
        {
            "ISO_A2_EH": ["AA", "BB", "CC", "DD"],
            "NAME_EN": ["Westland", "Eastland", "Farland", "Crossland"],
        },
        geometry=[west, east, far, crossing],
        crs="EPSG:4326",
    )
    source = tmp_path / "admin0.gpkg"
    layer.to_file(source, driver="GPKG")
    out = build_country_outlines(
        source, tmp_path / "out.geojson", bbox=(-1.0, -1.0, 3.0, 3.0), tolerance_deg=0.05
    )
    written = gpd.read_file(out)
    assert written["iso_a2"].tolist() == ["AA", "BB", "DD"]
    a, b, d = written.geometry
    assert d.bounds == pytest.approx((2.5, 2.5, 4.0, 4.0))
    # Shared border: no overlap and no gap between the simplified neighbours.
    assert shapely.intersection(a, b).area == pytest.approx(0.0, abs=1e-9)
    assert shapely.union(a, b).area == pytest.approx(2.0, rel=1e-3)
    # The 0.003° zigzag is well below the tolerance and gone.
    assert shapely.get_num_coordinates(a) < shapely.get_num_coordinates(west)
    assert np.isclose(a.area + b.area, 2.0, rtol=1e-3)
