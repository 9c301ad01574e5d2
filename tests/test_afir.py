"""The AFIR corridor check and constraint, by hand on a straight corridor."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import planner
from planner.errors import InfeasibleError, InputError
from planner.pipeline.afir import afir_report, corridor_rows, load_corridors
from tests.conftest import problems_of

# One degree of longitude on the equator, km.
DEGREE_KM = np.radians(1.0) * 6371.0088


def _corridor(tmp_path: Path, coordinates: list[list[float]], **extra: object) -> Path:
    feature = {
        "type": "Feature",
        "properties": {"name": "Equator motorway"},
        "geometry": {"type": "LineString", "coordinates": coordinates},
    }
    collection: dict[str, object] = {"type": "FeatureCollection", "features": [feature], **extra}
    path = tmp_path / "corridors.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def _sites(lons: list[float], chargers: list[int], lat: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lon": lons,
            "lat": [lat] * len(lons),
            "chosen": [c > 0 for c in chargers],
            "chargers": chargers,
            "excluded": [False] * len(lons),
        }
    )


def test_longest_gaps_by_hand(tmp_path: Path) -> None:
    # 2° of equator (222.4 km). Pools at 0.5° (2 chargers: 600 kW, two fast points),
    # 1.0° (1 charger: 300 kW, short of 400) and 1.5° (2 chargers); one site 10 km off.
    path = _corridor(tmp_path, [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    sites = _sites([0.5, 1.0, 1.5, 1.2], [2, 1, 2, 3])
    sites.loc[3, "lat"] = 0.09  # 10 km north: beyond the 3 km offset
    scenario = planner.load_scenario(None, overrides=[f"afir.corridors='{path}'"])
    [row] = afir_report(sites, None, scenario)
    assert row["corridor"] == "Equator motorway"
    assert row["length_km"] == pytest.approx(2 * DEGREE_KM, abs=0.1)
    assert (row["pools"], row["pools_chosen"], row["pools_existing"]) == (3, 3, 0)
    # 2025 (≥ 400 kW): pools at 0.5° and 1.5°: gaps 0.5°, 1.0°, 0.5° → 111.2 km.
    assert row["longest_gap_km_2025"] == pytest.approx(DEGREE_KM, abs=0.1)
    assert row["gap_starts_km_2025"] == pytest.approx(0.5 * DEGREE_KM, abs=0.1)
    assert row["met_2025"] is False
    # An existing 400 kW station (two points) at 1.0° closes the 2025 gap to 0.5°.
    existing = pd.DataFrame({"lon": [1.0], "lat": [0.0], "power_kw": [400.0], "points": [2]})
    [row] = afir_report(sites, existing, scenario)
    assert row["pools_existing"] == 1
    assert row["longest_gap_km_2025"] == pytest.approx(0.5 * DEGREE_KM, abs=0.1)
    assert row["met_2025"] is True
    assert row["met_2027"] is False  # 400 kW is short of 600 kW: the 2027 gap stays 1°


def test_enforced_rows_cover_every_stretch(tmp_path: Path) -> None:
    path = _corridor(tmp_path, [[0.0, 0.0], [2.0, 0.0]])
    lons = [0.1, 0.4, 0.7, 1.0, 1.3, 1.6, 1.9]  # every 33 km
    sites = _sites(lons, [0] * len(lons))
    scenario = planner.load_scenario(
        None, overrides=[f"afir.corridors='{path}'", "afir.enforce=true"]
    )
    rows = corridor_rows(sites, scenario)
    matrix = rows.matrix.toarray()
    assert np.all(rows.lower == 1)
    # Sites 0.3° (33.4 km) apart meet the 60 km rule; 0.6° (66.7 km) apart do not.
    close = np.zeros(len(lons))
    close[[0, 1, 2, 3, 4, 5, 6]] = 1
    assert np.all(matrix @ close >= 1)
    wide = np.zeros(len(lons))
    wide[[0, 2, 4, 6]] = 1
    assert np.any(matrix @ wide < 1)
    # Every other site but one: 0.1, 0.4, 0.7, 1.0, 1.3, 1.6, 1.9 without 1.0 leaves
    # 0.7 → 1.3 = 66.7 km: a row must catch it.
    holed = close.copy()
    holed[3] = 0
    assert np.any(matrix @ holed < 1)


def test_a_stretch_without_candidates_is_named(tmp_path: Path) -> None:
    path = _corridor(tmp_path, [[0.0, 0.0], [2.0, 0.0]])
    sites = _sites([0.1, 0.3, 1.9], [0, 0, 0])
    scenario = planner.load_scenario(
        None, overrides=[f"afir.corridors='{path}'", "afir.enforce=true"]
    )
    with pytest.raises(InfeasibleError, match=r"AFIR on corridor 'Equator motorway'.*km 33-93"):
        corridor_rows(sites, scenario)


def test_bad_corridor_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(InputError, match="no LineString"):
        load_corridors(empty)
    projected = _corridor(tmp_path, [[400000.0, 5400000.0], [460000.0, 5400000.0]])
    with pytest.raises(InputError, match="not longitudes and latitudes"):
        load_corridors(projected)
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("not json", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be read as corridor lines"):
        load_corridors(garbage)
    # Before: GDAL's "not recognized as being in a supported file format; It might
    # help to specify the correct driver explicitly ...".
    nothing = tmp_path / "nothing.geojson"
    nothing.write_bytes(b"")
    with pytest.raises(InputError) as caught:
        load_corridors(nothing)
    assert [str(p) for p in problems_of(caught)] == [
        f"{nothing}, field 'afir.corridors': the file is empty"
    ]


def test_a_one_point_corridor_line_is_explained_in_plain_words(tmp_path: Path) -> None:
    # Before: "IllegalArgumentException: point array must contain 0 or >1 elements".
    with pytest.raises(InputError) as caught:
        load_corridors(_corridor(tmp_path, [[6.13, 49.61]]))
    (problem,) = problems_of(caught)
    assert problem.message == (
        "cannot be read as corridor lines: a line has a single point (it needs two)"
    )


def test_corridor_features_that_are_not_usable_lines_are_named(tmp_path: Path) -> None:
    # Before: a NaN vertex crashed the projection onto the line, a point or a
    # feature without geometry beside the lines was left out unsaid, and a
    # CSV file crashed on its missing geometry.
    line = {"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 0.0]]}
    features = [
        {"type": "Feature", "properties": {"name": "A1"}, "geometry": geometry}
        for geometry in (
            line,
            {"type": "LineString", "coordinates": [[0.0, float("nan")], [1.0, 0.0]]},
            {"type": "Point", "coordinates": [0.5, 0.5]},
            None,
        )
    ]
    path = tmp_path / "mixed.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(InputError) as caught:
        load_corridors(path)
    assert [(p.field, p.message) for p in problems_of(caught)] == [
        ("afir.corridors", "feature 2: coordinates are not numbers (NaN or infinite)"),
        (
            "afir.corridors",
            "feature 3: a Point is not a corridor line (LineString or MultiLineString)",
        ),
        ("afir.corridors", "feature 4: no geometry"),
    ]
    table = tmp_path / "corridors.csv"
    table.write_text("name,lon,lat\nA1,0.0,0.0\n", encoding="utf-8")
    with pytest.raises(InputError, match="no LineString"):
        load_corridors(table)


def test_report_and_map_of_a_plan_with_corridors(tmp_path: Path) -> None:
    # A corridor through the sample network's Belgian dealers, Brussels to Liège.
    path = _corridor(tmp_path, [[4.35, 50.85], [4.70, 50.80], [5.20, 50.70], [5.57, 50.63]])
    overrides = {"afir.corridors": str(path), "afir.max_offset_km": 10.0}
    plan = planner.run(overrides=overrides)
    afir = plan.report["afir"]
    assert afir["max_gap_km"] == 60 and afir["enforced"] is False
    [row] = afir["corridors"]
    assert row["corridor"] == "Equator motorway" and row["length_km"] > 80
    assert row["met_2027"] == (row["longest_gap_km_2027"] <= 60)
    plan.save(tmp_path / "out")
    page = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    assert "AFIR corridors" in page and "corridor(s) meet the 2025 rule" in page
    enforced = planner.run(overrides={**overrides, "afir.enforce": True})
    rows = corridor_rows(enforced.sites, enforced.scenario)
    chosen = enforced.sites["chosen"].to_numpy(dtype=float)
    assert len(rows.names) > 0 and np.all(rows.matrix @ chosen >= 1)
    if not row["met_2025"]:  # the plain plan left a gap: enforcing it changed the plan
        assert not np.array_equal(chosen, plan.sites["chosen"].to_numpy(dtype=float))


def test_a_corridor_far_from_every_site_is_named(tmp_path: Path) -> None:
    # A line across the Baltic Sea: no sample dealer within 3 km.
    path = _corridor(tmp_path, [[18.0, 55.0], [20.0, 56.0]])
    with pytest.raises(InputError) as caught:
        planner.check(overrides={"afir.corridors": str(path)})
    assert str(caught.value).endswith(
        "corridor 'Equator motorway' lies farther than 3 km from every candidate site: a file "
        "for another region, or raise afir.max_offset_km"
    )
    # Brussels to Liège written latitude first. Before: "a file for another region".
    path = _corridor(tmp_path, [[50.85, 4.35], [50.80, 4.70], [50.70, 5.20], [50.63, 5.57]])
    with pytest.raises(InputError) as caught:
        planner.check(overrides={"afir.corridors": str(path)})
    assert str(caught.value).endswith(
        "lies farther than 3 km from every candidate site: its coordinates look swapped "
        "(GeoJSON writes longitude first): with the two swapped it passes candidate sites"
    )


def _features(tmp_path: Path, features: list[tuple[str | None, dict[str, object]]]) -> Path:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": name}, "geometry": geometry}
            for name, geometry in features
        ],
    }
    path = tmp_path / "pieces.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def _line(*lons: float, lat: float = 0.0) -> dict[str, object]:
    return {"type": "LineString", "coordinates": [[lon, lat] for lon in lons]}


def test_a_corridor_in_pieces_is_checked_along_its_whole_length(tmp_path: Path) -> None:
    # 2° of equator exported in pieces, each shorter than 60 km: as parts of a
    # MultiLineString (one reversed), and as features of one name (one 2 km off).
    parts = [[[0.0, 0.0], [0.5, 0.0]], [[1.0, 0.0], [0.5, 0.0]], [[1.0, 0.0], [1.5, 0.0]]]
    multi: dict[str, object] = {"type": "MultiLineString", "coordinates": parts}
    split = _features(
        tmp_path,
        [("A1", multi), ("A1", _line(1.5, 1.52)), ("A1", _line(1.54, 2.0))],
    )
    [corridor] = load_corridors(split)
    assert corridor.name == "A1"
    assert corridor.length_km == pytest.approx(2 * DEGREE_KM, abs=0.1)
    # Pools only at the ends: before, every piece "met" the rule on its own,
    # the pools-less ones too.
    scenario = planner.load_scenario(None, overrides=[f"afir.corridors='{split}'"])
    [row] = afir_report(_sites([0.0, 2.0], [2, 2]), None, scenario)
    assert row["longest_gap_km_2027"] == pytest.approx(2 * DEGREE_KM, abs=0.1)
    assert row["met_2027"] is False


def test_carriageways_far_pieces_and_unnamed_lines_make_distinct_corridors(
    tmp_path: Path,
) -> None:
    path = _features(
        tmp_path,
        [
            ("A1", _line(0.0, 1.0)),
            # The other carriageway, 100 m north: read as one with the first.
            ("A1", _line(1.0, 0.0, lat=0.0009)),
            # 3° away: a corridor of its own, named apart.
            ("A1", _line(4.0, 4.4)),
            # No name (null, missing): after its feature number; a made-up
            # name that meets a feature's own name is told apart.
            (None, _line(0.0, 0.6, lat=1.0)),
            ("A1 (2)", _line(0.0, 0.6, lat=2.0)),
        ],
    )
    corridors = load_corridors(path)
    assert [(c.name, round(c.length_km)) for c in corridors] == [
        ("A1 (1)", 111),
        ("A1 (2)", 44),
        ("corridor 4", 67),
        ("A1 (2) #2", 67),
    ]
    from planner.inputs.corridors import corridor_notes

    notes = corridor_notes(path)
    assert any("1 line(s) run alongside a longer one" in n for n in notes)
    assert any("'A1' is in 2 pieces more than 5 km apart" in n for n in notes)


def test_a_zero_length_corridor_is_refused(tmp_path: Path) -> None:
    # Before: 0 km, "met" in every year, with afir.enforce too.
    path = _features(tmp_path, [("zero", _line(4.35, 4.35, lat=50.85))])
    with pytest.raises(InputError, match=r"corridor 'zero' has zero length"):
        load_corridors(path)


def test_a_corridor_without_a_name_runs_and_a_short_one_is_warned(tmp_path: Path) -> None:
    # Before: a null name was NaN on the map ("Out of range float values are not
    # JSON compliant", exit 1).
    path = _features(tmp_path, [(None, _line(4.35, 4.70, 5.20, lat=50.8))])
    plan = planner.run(overrides={"afir.corridors": str(path), "afir.max_offset_km": 10.0})
    [row] = plan.report["afir"]["corridors"]
    assert row["corridor"] == "corridor 1"
    assert (plan.save(tmp_path / "out") / "map.html").is_file()
    short = _features(tmp_path, [("short", _line(4.35, 4.6, lat=50.85))])
    plan = planner.run(overrides={"afir.corridors": str(short), "afir.max_offset_km": 10.0})
    assert any(
        "corridor 'short' is 17.6 km long, within afir.max_gap_km (60 km), so it meets the "
        "rule without any pool" in warning
        for warning in plan.report["inputs"]["warnings"]
    )


@pytest.mark.parametrize(
    ("crs", "shown"),
    [
        ({"type": "name", "properties": {"name": "EPSG:999999"}}, "EPSG:999999"),
        ("banana", '"banana"'),
    ],
)
def test_a_crs_that_names_nothing_is_refused(tmp_path: Path, crs: object, shown: str) -> None:
    # Before: GDAL read past it, and the lines were taken as WGS 84 unsaid.
    path = _corridor(tmp_path, [[4.35, 50.85], [4.70, 50.80]], crs=crs)
    with pytest.raises(InputError, match=rf"states the CRS {shown}, which names no known CRS"):
        load_corridors(path)
    named = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert len(load_corridors(_corridor(tmp_path, [[4.35, 50.85], [4.7, 50.8]], crs=named))) == 1


def test_a_corridor_of_many_shuffled_pieces_is_one_line(tmp_path: Path) -> None:
    # 600 pieces of 0.01° along the equator, shuffled and half of them reversed,
    # with a second carriageway 55 m north of every other piece.
    rng = np.random.default_rng(7)
    features: list[tuple[str | None, dict[str, object]]] = []
    for k in rng.permutation(600).tolist():
        lons = [k / 100, (k + 1) / 100]
        features.append(("E40", _line(*(lons[::-1] if rng.random() < 0.5 else lons))))
        if k % 2 == 0:
            features.append(("E40", _line(*lons, lat=0.0005)))
    [corridor] = load_corridors(_features(tmp_path, features))
    assert corridor.length_km == pytest.approx(6 * DEGREE_KM, rel=1e-9)
    assert np.all(np.diff(corridor.lon) >= 0) or np.all(np.diff(corridor.lon) <= 0)
