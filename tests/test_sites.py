"""Sites from dealers: merging, site attributes, counts, countries, several files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components

from planner.errors import InputError
from planner.inputs.merge import EARTH_RADIUS_M, haversine_m, site_labels
from planner.inputs.sites import DEALER_COLUMNS, SITE_COLUMNS, load_sites
from planner.scenario.schema import ColumnMapping, DealerFile, DealersConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent

HEADER = "id,name,brand,country,lat,lon"
PARIS = (48.8566, 2.3522)
#: Metres per degree of latitude on the sphere planner measures on.
M_PER_DEG = 2 * math.pi * EARTH_RADIUS_M / 360


def write(tmp_path: Path, rows: list[str], name: str = "dealers.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def load(*paths: Path, countries: list[str] | None = None, **options: Any) -> Any:
    config = DealersConfig(files=[DealerFile(path=p) for p in paths], **options)
    return load_sites(config, countries=countries)


def test_hand_checked_distances() -> None:
    # 0.001 degree of latitude is 111.195 m everywhere on the sphere.
    assert haversine_m(2.0, 48.0, 2.0, 48.001) == pytest.approx(111.195, abs=1e-3)
    # 0.001 degree of longitude at 60 degrees north is half that.
    assert haversine_m(10.0, 60.0, 10.001, 60.0) == pytest.approx(55.597, abs=1e-3)
    # Paris to Lyon, about 391.5 km.
    assert haversine_m(2.3522, 48.8566, 4.8357, 45.764) == pytest.approx(391_500, rel=1e-3)


@pytest.mark.parametrize(("metres", "merged"), [(149.0, True), (151.0, False), (20.0, True)])
def test_merge_distance_boundary(tmp_path: Path, metres: float, merged: bool) -> None:
    lat, lon = PARIS
    offset = metres / M_PER_DEG
    path = write(
        tmp_path,
        [
            f"R1,Renault Paris,Renault,FR,{lat},{lon}",
            f"N1,Nissan Paris,Nissan,FR,{lat + offset},{lon}",
        ],
    )
    result = load(path)
    assert result.counts["sites"] == (1 if merged else 2)
    assert result.counts["merged"] == (1 if merged else 0)


def test_same_brand_stays_separate_unless_asked(tmp_path: Path) -> None:
    lat, lon = PARIS
    path = write(
        tmp_path,
        [f"R1,Renault A,Renault,FR,{lat},{lon}", f"R2,Dacia B,Dacia,FR,{lat + 0.0002},{lon}"],
    )
    assert load(path).counts["sites"] == 2
    together = load(path, merge_same_brand=True)
    assert together.counts["sites"] == 1
    assert together.sites.loc[0, "brands"] == "Renault"


def test_chain_through_another_brand(tmp_path: Path) -> None:
    # R1 - N1 - R2, 100 m apart each: R1 and R2 are 200 m apart but join through N1.
    lat, lon = PARIS
    step = 100 / M_PER_DEG
    path = write(
        tmp_path,
        [
            f"R1,Renault A,Renault,FR,{lat},{lon}",
            f"N1,Nissan B,Nissan,FR,{lat + step},{lon}",
            f"R2,Renault C,Renault,FR,{lat + 2 * step},{lon}",
        ],
    )
    result = load(path)
    assert result.counts["sites"] == 1
    assert result.sites.loc[0, "dealer_ids"] == "N1;R1;R2"


def test_zero_merge_distance_merges_nothing(tmp_path: Path) -> None:
    lat, lon = PARIS
    path = write(
        tmp_path, [f"R1,Renault,Renault,FR,{lat},{lon}", f"N1,Nissan,Nissan,FR,{lat},{lon}"]
    )
    assert load(path, merge_distance_m=0.0).counts["sites"] == 2


def test_site_attributes_from_several_dealers(tmp_path: Path) -> None:
    header = HEADER + ",grid_kw,site_cost_eur,max_chargers,fixed,excluded"
    path = write(
        tmp_path,
        [
            "n-2,Nissan Ouest,Nissan,FR,48.8566,2.3522,300,90000,,no,yes",
            "b-1,Renault Ouest,Renault,FR,48.8568,2.3524,,120000,8,yes,no",
            "z-9,Renault Lyon,Renault,FR,45.764,4.8357,,,,,yes",
        ],
        header=header,
    )
    result = load(path)
    sites = result.sites
    assert list(sites.columns) == list(SITE_COLUMNS)
    assert list(result.dealers.columns) == list(DEALER_COLUMNS)
    assert list(sites["site_id"]) == ["b-1", "z-9"]
    first = sites.iloc[0]
    assert first["name"] == "Renault Ouest / Nissan Ouest"
    assert first["brands"] == "Nissan;Renault"
    assert first["dealer_ids"] == "b-1;n-2"
    assert first["n_dealers"] == 2
    assert first["lat"] == pytest.approx(48.8567)
    assert first["lon"] == pytest.approx(2.3523)
    assert first["grid_kw"] == 300.0
    assert first["site_cost_eur"] == 90000.0
    assert first["max_chargers"] == 8.0
    assert bool(first["fixed"]) and not bool(first["excluded"])
    lone = sites.iloc[1]
    assert math.isnan(lone["grid_kw"]) and bool(lone["excluded"])
    assert sites.crs.to_epsg() == 4326
    assert sites.geometry.x.tolist() == sites["lon"].tolist()
    assert dict(zip(result.dealers["dealer_id"], result.dealers["site_id"], strict=True)) == {
        "b-1": "b-1",
        "n-2": "b-1",
        "z-9": "z-9",
    }


def test_countries_filter_counts_the_others(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            "1,Renault Paris,Renault,FR,48.8566,2.3522",
            "2,Renault Bruxelles,Renault,BE,50.8503,4.3517",
            "3,Nissan Berlin,Nissan,DE,52.52,13.405",
        ],
    )
    result = load(path, countries=["fr", "BE"])
    assert result.counts["outside_countries"] == 1
    assert result.counts["files"]["dealers.csv"]["outside_countries"] == 1
    assert sorted(result.sites["country"]) == ["BE", "FR"]
    assert result.counts["read"] == 3


def test_no_dealer_in_the_countries(tmp_path: Path) -> None:
    path = write(tmp_path, ["3,Nissan Berlin,Nissan,DE,52.52,13.405"])
    with pytest.raises(InputError) as caught:
        load(path, countries=["FR"])
    assert str(caught.value) == (
        "dealers.csv: no dealer lies in the scenario's countries (FR); the files have dealers "
        "in DE (1)"
    )


def test_one_file_per_brand_and_colliding_ids(tmp_path: Path) -> None:
    renault = write(
        tmp_path,
        ["1,Renault Paris,FR,48.8566,2.3522"],
        "renault.csv",
        header="id,name,country,lat,lon",
    )
    nissan = write(
        tmp_path,
        ["1,Nissan Paris,FR,48.8567,2.3523"],
        "nissan.csv",
        header="id,name,country,lat,lon",
    )
    files = [DealerFile(path=renault, brand="Renault"), DealerFile(path=nissan, brand="Nissan")]
    with pytest.raises(InputError) as caught:
        load_sites(DealersConfig(files=files), countries=None)
    assert [str(p) for p in caught.value.problems] == [
        "nissan.csv, row 2: dealer id '1' is also in renault.csv, row 2 (set id_prefix on one "
        "of the files to keep them apart)"
    ]
    files = [
        DealerFile(path=renault, brand="Renault", id_prefix="R-"),
        DealerFile(path=nissan, brand="Nissan", id_prefix="N-"),
    ]
    result = load_sites(DealersConfig(files=files), countries=None)
    assert result.sites["site_id"].tolist() == ["N-1"]
    assert result.sites["brands"].tolist() == ["Nissan;Renault"]
    assert set(result.counts["files"]) == {"renault.csv", "nissan.csv"}


def test_problems_of_all_files_reported_together(tmp_path: Path) -> None:
    first = write(tmp_path, ["1,Renault Paris,Renault,FR,north,2.3522"], "a.csv")
    second = write(tmp_path, ["2,Renault Lyon,Tesla,FR,45.764,4.8357"], "b.csv")
    missing = tmp_path / "c.csv"
    with pytest.raises(InputError) as caught:
        load(first, second, missing)
    assert [str(p) for p in caught.value.problems] == [
        "a.csv, row 2, field 'lat': 'north' is not a number",
        "b.csv, row 2, field 'brand': unknown brand 'Tesla'; expected Renault or Nissan (or "
        "Dacia, Alpine, Infiniti)",
        f"c.csv: file not found: {missing}",
    ]


def test_unknown_brand_given_for_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, ["1,Paris,FR,48.8566,2.3522"], header="id,name,country,lat,lon")
    with pytest.raises(InputError) as caught:
        load_sites(DealersConfig(files=[DealerFile(path=path, brand="Peugeot")]), countries=None)
    assert str(caught.value) == (
        "dealers.csv, field 'brand': unknown brand 'Peugeot'; expected Renault or Nissan (or "
        "Dacia, Alpine, Infiniti) (given in the scenario)"
    )


def test_column_mapping_overrides_guessing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ["A7,Renault Nice,Renault,FR,43.7102,7.262,1"],
        header="Code,Raison,Make,Land,Y_wgs,X_wgs,Z",
    )
    mapping = ColumnMapping(id="Code", name="Raison", lat="Y_wgs", lon="X_wgs")
    result = load_sites(
        DealersConfig(files=[DealerFile(path=path, columns=mapping)]), countries=None
    )
    dealer = result.dealers.iloc[0]
    assert (dealer["dealer_id"], dealer["name"], dealer["lon"]) == ("A7", "Renault Nice", 7.262)


def test_mapped_column_absent(tmp_path: Path) -> None:
    path = write(tmp_path, ["1,Renault Paris,Renault,FR,48.8566,2.3522"])
    spec = DealerFile(path=path, columns=ColumnMapping(lat="Breite"))
    with pytest.raises(InputError) as caught:
        load_sites(DealersConfig(files=[spec]), countries=None)
    assert str(caught.value) == (
        "dealers.csv: column 'Breite' named in the scenario (columns.lat) is not in the file; "
        "its columns are ('id', 'name', 'brand', 'country', 'lat', 'lon')"
    )


def test_csv_in_a_projected_crs(tmp_path: Path) -> None:
    # Paris in Lambert-93 (EPSG:2154).
    path = write(
        tmp_path,
        ["1,Renault Paris,Renault,FR,6862035.26,652469.02"],
        header="id,name,brand,country,y,x",
    )
    spec = DealerFile(path=path, crs="EPSG:2154")
    result = load_sites(DealersConfig(files=[spec]), countries=None)
    assert result.dealers.loc[0, "lon"] == pytest.approx(2.3522, abs=1e-6)
    assert result.dealers.loc[0, "lat"] == pytest.approx(48.8566, abs=1e-6)


def test_input_order_does_not_change_the_sites(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    rows = [
        f"{i},Dealer {i},{'Renault' if i % 3 else 'Nissan'},FR,"
        f"{48.8 + rng.integers(0, 40) * 0.0005:.5f},{2.3 + rng.integers(0, 40) * 0.0005:.5f}"
        for i in range(120)
    ]
    forward = load(write(tmp_path, rows, "a.csv")).sites
    backward = load(write(tmp_path, rows[::-1], "b.csv")).sites
    columns = [c for c in SITE_COLUMNS if c not in ("geometry", "lon", "lat")]
    assert forward[columns].equals(backward[columns])
    assert np.allclose(forward[["lon", "lat"]], backward[["lon", "lat"]])


@pytest.mark.parametrize("same_brand", [False, True])
def test_merge_of_dealers_at_one_point_is_that_of_every_pair(same_brand: bool) -> None:
    # Dealers at the very same point are grouped before the pairs are found
    # (20,000 dealers geocoded to one point took 6.4 GB and 24 s); the sites
    # are still those of linking every pair within the distance.
    rng = np.random.default_rng(11)
    n = 300
    # A 100 m grid of 6 × 6 points: neighbours (100 m, 141 m) within 150 m, others not.
    cell = rng.integers(0, 6, size=(n, 2))
    lon = 2.3 + cell[:, 0] * 100 / (M_PER_DEG * math.cos(math.radians(48.8)))
    lat = 48.8 + cell[:, 1] * 100 / M_PER_DEG
    brands = rng.choice(np.array(["Renault", "Nissan", "Nissan;Renault"], dtype=object), n)
    labels = site_labels(lon, lat, brands, distance_m=150.0, same_brand=same_brand)
    linked = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(i + 1, n):
            near = haversine_m(lon[i], lat[i], lon[j], lat[j]) <= 150.0
            linked[i, j] = near and (same_brand or brands[i] != brands[j])
    _, expected = connected_components(linked, directed=False)
    # Both number the sites by their first dealer.
    assert np.array_equal(labels, expected)
    same = site_labels(
        np.full(20_000, 6.13),
        np.full(20_000, 49.61),
        np.array(["Renault", "Nissan"] * 10_000, dtype=object),
        distance_m=150.0,
    )
    assert np.unique(same).size == 1


def test_many_dealers_at_one_point_are_named_in_a_warning(tmp_path: Path) -> None:
    # Before: 20,000 dealers geocoded to one point merged into one site, without a word.
    rows = [f"{i},Dealer {i},{'Renault' if i % 2 else 'Nissan'},LU,49.61,6.13" for i in range(12)]
    rows += [f"{i},Dealer {i},Renault,LU,49.7,6.0{i}" for i in range(12, 21)]
    result = load(write(tmp_path, rows))
    (warning,) = result.warnings
    assert str(warning).startswith(
        "dealers: 12 dealers (first 0) share the point 6.13, 49.61: were their addresses "
        "geocoded to a town or country centre?"
    ), str(warning)
    assert load(write(tmp_path, rows[3:], "fewer.csv")).warnings == ()


def test_merge_at_continental_size_joins_every_partner() -> None:
    # Its time at this size and larger is measured by benchmarks/dealers.py.
    rng = np.random.default_rng(3)
    n = 30_000
    lon = rng.uniform(-10, 30, n)
    lat = rng.uniform(36, 70, n)
    # A partner dealer 40 m north of every tenth dealer.
    extra = np.arange(0, n, 10)
    lon = np.concatenate([lon, lon[extra]])
    lat = np.concatenate([lat, lat[extra] + 40 / M_PER_DEG])
    brands = np.array(["Renault"] * n + ["Nissan"] * len(extra), dtype=object)
    labels = site_labels(lon, lat, brands, distance_m=150.0)
    assert len(np.unique(labels)) <= n
    assert len(np.unique(labels[extra])) == len(extra)
    assert np.array_equal(labels[extra], labels[n:])


def test_full_scale_sample_network_loads_every_dealer() -> None:
    # Its time is measured by benchmarks/dealers.py.
    path = PROJECT_ROOT / "geodata" / "sample_dealers_full.csv"
    if not path.exists():
        pytest.skip(f"{path} is not generated (planner sample --scale full)")
    result = load(path)
    counts = result.counts
    assert counts["read"] > 20_000
    assert counts["dropped"] == 0 and result.warnings == ()
    assert counts["read"] == counts["sites"] + counts["merged"]
    dual = result.sites[result.sites["brands"] == "Nissan;Renault"]
    assert len(dual) == counts["merged"] > 0


def test_unknown_crs_and_encoding_in_the_scenario(tmp_path: Path) -> None:
    path = write(tmp_path, ["1,Renault Paris,Renault,FR,48.8566,2.3522"])
    with pytest.raises(InputError) as caught:
        load_sites(DealersConfig(files=[DealerFile(path=path, crs="EPSG:99999")]), countries=None)
    assert str(caught.value.problems[0]).startswith(
        "dealers.csv, field 'crs': unknown CRS 'EPSG:99999': "
    )
    with pytest.raises(InputError) as caught:
        load_sites(DealersConfig(files=[DealerFile(path=path, encoding="klingon")]), countries=None)
    assert str(caught.value) == "dealers.csv, field 'encoding': unknown text encoding 'klingon'"


def test_a_wide_encoding_stated_for_a_utf8_file_is_refused(tmp_path: Path) -> None:
    # Before: decoded as one line of unrelated characters, "the file has a header
    # but no data rows".
    path = write(tmp_path, ["1,Renault Paris,Renault,FR,48.8566,2.3522"])
    for encoding in ("utf-16", "UTF_32_LE"):
        config = DealersConfig(files=[DealerFile(path=path, encoding=encoding)])
        with pytest.raises(InputError) as caught:
            load_sites(config, countries=None)
        assert str(caught.value).startswith(
            f"dealers.csv, field 'encoding': cannot be read as {encoding}: it has no NUL byte"
        )
    # The same file written in UTF-16 still reads with the encoding stated.
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16-le"))
    config = DealersConfig(files=[DealerFile(path=path, encoding="utf-16-le")])
    assert load_sites(config, countries=None).counts["read"] == 1


def test_half_a_coordinate_pair_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            "1,Renault Paris,Renault,FR,48.8566,",
            "2,Renault Lyon,Renault,FR,,4.8357",
            "3,Renault Nowhere,Renault,FR,,",
            "4,Renault Nantes,Renault,FR,47.2184,-1.5536",
        ],
    )
    with pytest.raises(InputError) as caught:
        load(path)
    assert [str(p) for p in caught.value.problems] == [
        "dealers.csv, row 2, field 'lon': longitude is empty but the latitude is given",
        "dealers.csv, row 3, field 'lat': latitude is empty but the longitude is given",
    ]
    # The row without either is a counted warning, listed with the errors.
    assert [str(w) for w in caught.value.warnings] == [
        "dealers.csv, row 4, field 'lon/lat': no coordinates: row dropped (missing coordinates)"
    ]


def test_a_coordinate_out_of_range_quotes_the_cell_when_its_reading_differs(
    tmp_path: Path,
) -> None:
    # Before: "4352123.0 is out of range", a number the file never showed.
    path = write(
        tmp_path,
        [
            '1,Renault Paris,Renault,FR,48.8566,"2.352.123"',
            "2,Renault Lyon,Renault,FR,45.7640,4.8357",
            "3,Renault Nowhere,Renault,FR,123,4.8357",
        ],
    )
    with pytest.raises(InputError) as caught:
        load(path)
    assert [str(p) for p in caught.value.problems] == [
        "dealers.csv, row 2, field 'lon': '2.352.123' (read as 2,352,123) is out of range "
        "[-180, 180]; projected coordinates? state the file's crs in the scenario",
        "dealers.csv, row 4, field 'lat': 123.0 is out of range [-90, 90]",
    ]


def test_a_site_value_beyond_any_real_site_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            "1,Renault Paris,Renault,FR,48.8566,2.3522,1000",
            "2,Renault Lyon,Renault,FR,45.764,4.8357,1001",
        ],
        header=HEADER + ",max_chargers",
    )
    with pytest.raises(InputError) as caught:
        load(path)
    # Before: accepted up to 100,000 chargers at one site.
    assert [str(p) for p in caught.value.problems] == [
        "dealers.csv, row 3, field 'max_chargers': 1001 is above 1,000: not a max_chargers of "
        "one site"
    ]


def test_a_json_file_named_csv_is_named_as_json(tmp_path: Path) -> None:
    # Before: "the file has a header but no data rows".
    path = tmp_path / "dealers.csv"
    for text, first in (('{"type": "FeatureCollection", "features": []}', "{"), ("[1, 2]", "[")):
        path.write_text(text + "\n", encoding="utf-8")
        with pytest.raises(InputError) as caught:
            load(path)
        assert str(caught.value) == (
            f"dealers.csv: the file looks like JSON (it starts with '{first}'), not a table; "
            "a GeoJSON file needs the .geojson suffix"
        )
    # An empty one named .geojson: before, GDAL's advice to prefix a driver's name.
    empty = tmp_path / "dealers.geojson"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"^dealers.geojson: the file is empty$"):
        load(empty)


def test_dealers_in_a_neighbouring_country_are_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            "1,Renault Genève,Renault,FR,46.2044,6.1432",
            "2,Renault Barcelona,Renault,FR,41.3851,2.1734",
            "3,Renault Arlon,Renault,LU,49.6833,5.8167",
            "4,Renault Kehl,Renault,FR,48.5720,7.8150",
            "5,Renault Paris,Renault,FR,48.8566,2.3522",
            "6,Renault Atlantique,Renault,FR,45.0,-20.0",
        ],
    )
    with pytest.raises(InputError) as caught:
        load(path)
    where = "dealers.csv, row {}, field 'lon/lat': "
    assert [str(p) for p in caught.value.problems] == [
        where.format(2) + "lon 6.1432, lat 46.2044 lies in CH (Switzerland), not in FR (France) "
        "(4 km beyond its border)",
        where.format(3) + "lon 2.1734, lat 41.3851 lies in ES (Spain), not in FR (France) "
        "(108 km beyond its border)",
        where.format(7) + "lon -20.0, lat 45.0 lies outside FR (France)",
    ]
    # Less than 3 km deep: the simplified outlines cannot tell, so a warning and the row kept;
    # less than 1 km (Kehl on the Rhine): nothing to say.
    assert [str(w) for w in caught.value.warnings] == [
        where.format(4) + "lon 5.8167, lat 49.6833 lies 1.9 km inside BE (Belgium), not in LU, "
        "by the simplified country outlines: check the country (row kept)"
    ]


def test_country_check_falls_back_to_boxes_without_outlines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planner.inputs.placement

    path = write(
        tmp_path,
        ["1,Renault Genève,Renault,FR,46.2044,6.1432", "2,Renault Berlin,Renault,FR,52.52,13.405"],
    )
    monkeypatch.setattr(planner.inputs.placement, "_outlines", lambda: None)
    with pytest.raises(InputError) as caught:
        load(path)
    # Geneva lies in France's box; Berlin does not.
    assert [p.row for p in caught.value.problems] == [3]  # type: ignore[union-attr]


def test_swapped_coordinates_judged_by_the_outlines(tmp_path: Path) -> None:
    path = write(tmp_path, ["1,Renault Genève,Renault,CH,6.1432,46.2044"])
    with pytest.raises(InputError, match="look swapped"):
        load(path)
    fixed = load_sites(
        DealersConfig(files=[DealerFile(path=path, fix_swapped_coordinates=True)]), countries=None
    )
    assert (fixed.dealers["lon"].iloc[0], fixed.dealers["lat"].iloc[0]) == (6.1432, 46.2044)
    assert fixed.counts["swapped_fixed"] == 1


@pytest.mark.parametrize("scale", ["demo", "full"])
def test_sample_networks_lie_in_their_countries(scale: str) -> None:
    path = PROJECT_ROOT / "geodata" / f"sample_dealers_{scale}.csv"
    if not path.exists():
        pytest.skip(f"{path} is not generated (planner sample --scale {scale})")
    result = load(path)
    assert result.warnings == ()
    assert result.counts["dropped"] == 0


def test_a_fixed_dealer_outside_the_countries_is_named_in_a_warning(tmp_path: Path) -> None:
    # Before: counted only as "outside the scenario's countries": the site the
    # user said must open left the plan unsaid.
    header = f"{HEADER},fixed"
    rows = [
        "R1,Renault Lux,Renault,LU,49.61,6.13,yes",
        "R2,Renault Lille,Renault,FR,50.63,3.06,yes",
        "R3,Renault Metz,Renault,FR,49.12,6.18,no",
    ]
    result = load(write(tmp_path, rows, header=header), countries=["LU"])
    assert result.counts["outside_countries"] == 2
    (warning,) = result.warnings
    assert str(warning) == (
        "dealers.csv, field 'fixed': 1 dealer(s) marked fixed lie outside the scenario's "
        "countries and are left out of the plan: R2 (FR)"
    )
    assert load(write(tmp_path, rows, header=header)).warnings == ()


def test_lon_lat_columns_far_from_the_point_geometry_are_named(tmp_path: Path) -> None:
    # Before: the geometry won and the disagreeing columns, 35 km off, were
    # dropped without a note.
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [6.13, 49.61]},
            "properties": {
                "id": f"R{i}",
                "name": f"Renault {i}",
                "brand": "Renault",
                "country": "LU",
                "lon": 6.13 + shift,
                "lat": 49.61,
            },
        }
        for i, shift in enumerate([0.0, 0.5, 0.0001])
    ]
    path = tmp_path / "dealers.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = load(path)
    (warning,) = result.warnings
    assert str(warning) == (
        "dealers.geojson: 1 row(s) have lon/lat columns more than 1 km from their point "
        "geometry (first: row 3, 36.0 km); the geometry is used"
    )
    assert result.sites["lon"].tolist() == [6.13, 6.13, 6.13]


def test_units_stated_in_dealer_headers_are_converted_or_refused(tmp_path: Path) -> None:
    # Before: the brackets were dropped with the unit, so 300 kEUR was a site
    # of 300 EUR and a 2.5 MW grid connection one of 2.5 kW (no charger room).
    rows = ["r-1,Renault Est,Renault,FR,48.8566,2.3522,300,2.5"]
    header = HEADER + ",Cost (kEUR),Grid [MW]"
    [site] = load(write(tmp_path, rows, header=header)).sites.to_dict("records")
    assert (site["site_cost_eur"], site["grid_kw"]) == (300_000.0, 2_500.0)
    header = HEADER + ",Cost (Mio. EUR),Grid (in kW)"
    [site] = load(write(tmp_path, rows, header=header)).sites.to_dict("records")
    assert (site["site_cost_eur"], site["grid_kw"]) == (300_000_000.0, 2.5)
    header = HEADER + ",Cost (net),Grid [kW AC]"
    [site] = load(write(tmp_path, rows, header=header)).sites.to_dict("records")
    assert (site["site_cost_eur"], site["grid_kw"]) == (300.0, 2.5)
    # Finance tables write thousands and millions out, or after the currency.
    for written, factor in (
        ("Cost (in thousand EUR)", 1e3),
        ("Cost (EUR '000)", 1e3),
        ("Cost (€k)", 1e3),
        ("Cost (Tsd. EUR)", 1e3),
        ("Cost (EUR million)", 1e6),
    ):
        [site] = load(write(tmp_path, rows, header=HEADER + f",{written},grid_kw")).sites.to_dict(
            "records"
        )
        assert site["site_cost_eur"] == 300 * factor, written
    with pytest.raises(InputError, match=r"the column 'Cost \[CHF\]' states the unit 'CHF'"):
        load(write(tmp_path, rows, header=HEADER + ",Cost [CHF],grid_kw"))


def test_a_dealer_geojson_stating_an_unknown_crs_is_refused(tmp_path: Path) -> None:
    feature = {
        "type": "Feature",
        "properties": {"id": "r-1", "name": "G", "brand": "Renault", "country": "FR"},
        "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
    }
    path = tmp_path / "dealers.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "EPSG:999999"}},
                "features": [feature],
            }
        )
    )
    # Before: read as WGS 84 without a word.
    with pytest.raises(InputError, match="states the CRS EPSG:999999, which names no known CRS"):
        load(path)
