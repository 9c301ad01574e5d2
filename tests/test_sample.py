"""The sample dealer network: counts, scaling, dual-brand share, placement, determinism."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pandas.testing import assert_frame_equal

from planner.inputs.countries import country_outlines
from planner.inputs.sample import (
    DEFAULT_SEED,
    DEMO_DIVISOR,
    DUAL_BRAND_SHARE,
    LISTED_COUNTS,
    SAMPLE_COLUMNS,
    Scale,
    dealer_counts,
    generate_sample,
    nissan_renault_ratio,
    sample_path,
    town_radius_km,
    write_sample,
)
from tests.conftest import shared_path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

GEODATA = PROJECT_ROOT / "geodata"
DEFAULT_COUNTRIES = ["FR", "BE", "LU", "NL", "CH"]
SCALES: tuple[Scale, ...] = ("demo", "full")
EARTH_RADIUS_M = 6_371_008.8


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return generate_sample("demo")


@pytest.fixture(scope="module")
def shipped() -> dict[str, pd.DataFrame]:
    return {
        scale: pd.read_csv(sample_path(scale, GEODATA), dtype={"town_geonameid": "int64"})
        for scale in SCALES
    }


def _nearest_other_brand_m(sample: pd.DataFrame) -> np.ndarray:
    """For each Nissan dealer, the distance (m) to the nearest Renault dealer."""
    from sklearn.neighbors import BallTree

    renault = sample[sample["brand"] == "Renault"]
    nissan = sample[sample["brand"] == "Nissan"]
    tree = BallTree(np.radians(renault[["lat", "lon"]].to_numpy()), metric="haversine")
    dist, _ = tree.query(np.radians(nissan[["lat", "lon"]].to_numpy()), k=1)
    return dist[:, 0] * EARTH_RADIUS_M


def test_listed_counts_match_the_published_file() -> None:
    path = shared_path("data", "dealer_counts_by_country.csv")
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    published = {
        ("Renault" if r["brand_group"].startswith("Renault") else "Nissan", r["country"]): int(
            r["items"]
        )
        for r in rows
    }
    embedded = {(b, c): n for b, counts in LISTED_COUNTS.items() for c, n in counts.items()}
    assert len(embedded) == 38
    assert embedded == published


def test_missing_counts_are_imputed_with_the_median_ratio() -> None:
    # The 11 countries listing both brands; the median ratio is Bulgaria's 12/76.
    assert nissan_renault_ratio() == pytest.approx(12 / 76)
    counts = dealer_counts("full").set_index(["country", "brand"])
    assert counts.loc[("LU", "Nissan"), "full"] == 8  # 52 × 12/76 = 8.2
    assert counts.loc[("IT", "Nissan"), "full"] == 228  # 1441 × 12/76 = 227.5
    assert counts.loc[("IS", "Renault"), "full"] == 76  # 12 ÷ (12/76)
    assert counts.loc[("FR", "Renault"), "full"] == 12404
    assert bool(counts.loc[("EE", "Renault"), "imputed"])
    assert not bool(counts.loc[("EE", "Nissan"), "imputed"])
    assert len(counts) == 2 * 27


def test_demo_scale_divides_by_ten_and_fits_the_default_scenario() -> None:
    full = dealer_counts("full")
    demo = dealer_counts("demo")
    expected = [max(1, math.floor(n / DEMO_DIVISOR + 0.5)) for n in full["full"]]
    assert demo["dealers"].tolist() == expected
    in_default = demo[demo["country"].isin(DEFAULT_COUNTRIES)]
    sites = in_default["dealers"].sum() - in_default["dual_brand"].sum()
    assert 1000 <= sites <= 2000
    assert 20_000 <= full["dealers"].sum() <= 40_000


def test_dual_brand_counts_follow_the_share() -> None:
    counts = dealer_counts("full")
    nissan = counts[counts["brand"] == "Nissan"]
    assert (counts.loc[counts["brand"] == "Renault", "dual_brand"] == 0).all()
    for n, dual in zip(nissan["dealers"], nissan["dual_brand"], strict=True):
        assert dual == math.floor(DUAL_BRAND_SHARE * n + 0.5)


def test_same_seed_same_frame_other_seed_other_frame(demo: pd.DataFrame) -> None:
    assert_frame_equal(generate_sample("demo", seed=DEFAULT_SEED), demo)
    other = generate_sample("demo", seed=1)
    assert len(other) == len(demo)
    assert not np.array_equal(other["lon"].to_numpy(), demo["lon"].to_numpy())


def test_columns_ids_and_names(demo: pd.DataFrame) -> None:
    assert tuple(demo.columns) == SAMPLE_COLUMNS
    assert demo["dealer_id"].is_unique
    # Two towns of one name in one country still give distinct dealer names.
    assert not demo.duplicated(["country", "name"]).any()
    assert set(demo["brand"]) == {"Renault", "Nissan"}
    assert demo["dealer_id"].str.fullmatch(r"[RN]-[A-Z]{2}-\d{4,}").all()
    assert (demo["dealer_id"].str[0] == demo["brand"].str[0]).all()
    assert (demo["dealer_id"].str[2:4] == demo["country"]).all()
    assert demo["name"].str.contains(r"\(sample(?: \d+)?\)$").all()
    assert (demo["lon"].round(5) == demo["lon"]).all()
    assert demo["town_geonameid"].dtype == np.int64


@pytest.mark.parametrize("scale", SCALES)
def test_shipped_counts_per_country_and_brand(
    scale: Scale, shipped: dict[str, pd.DataFrame]
) -> None:
    counts = dealer_counts(scale).set_index(["country", "brand"])["dealers"]
    placed = shipped[scale].groupby(["country", "brand"]).size()
    assert placed.sort_index().to_dict() == counts.sort_index().to_dict()


@pytest.mark.parametrize("scale", SCALES)
def test_dual_brand_share_at_the_merge_distance(
    scale: Scale, shipped: dict[str, pd.DataFrame]
) -> None:
    sample = shipped[scale]
    distance = _nearest_other_brand_m(sample)
    share = float((distance < 150.0).mean())
    assert 0.30 <= share <= 0.40
    # The pairs are placed 10–50 m apart; the rest keep 200 m from all others,
    # so the count does not depend on the merge distance between 60 and 150 m.
    expected = dealer_counts(scale)["dual_brand"].sum()
    assert (distance < 60.0).sum() == expected
    assert abs(int((distance < 150.0).sum()) - expected) <= 0.01 * expected + 1


def test_dealers_lie_in_their_country(shipped: dict[str, pd.DataFrame]) -> None:
    sample = shipped["full"]
    outlines = country_outlines(sorted(sample["country"].unique())).set_index("iso_a2")
    geoms = outlines.geometry.loc[sample["country"]].to_numpy()
    points = shapely.points(sample["lon"].to_numpy(), sample["lat"].to_numpy())
    distance_deg = shapely.distance(geoms, points)
    # The outlines are simplified by about 3 km: a town on a coast or border
    # may sit just outside; no dealer is farther than a few km out.
    assert distance_deg.max() < 0.1
    assert (distance_deg == 0).mean() > 0.99


def test_dealers_sit_near_their_town(shipped: dict[str, pd.DataFrame]) -> None:
    from planner.inputs.geonames import populated_places

    sample = shipped["full"]
    towns = populated_places(sorted(sample["country"].unique())).set_index("geonameid")
    town = towns.loc[sample["town_geonameid"]]
    assert (town["name"].to_numpy() == sample["town"].to_numpy()).all()
    assert (town["country"].to_numpy() == sample["country"].to_numpy()).all()
    dy = (sample["lat"].to_numpy() - town["lat"].to_numpy()) * 111.0
    dx = (sample["lon"].to_numpy() - town["lon"].to_numpy()) * 111.0
    dx *= np.cos(np.radians(sample["lat"].to_numpy()))
    # The disc is at most 5 km, widened to 10 km in the most crowded towns.
    assert np.hypot(dx, dy).max() < 10.5


def test_big_towns_get_more_dealers(shipped: dict[str, pd.DataFrame]) -> None:
    france = shipped["full"].query("country == 'FR' and brand == 'Renault'")
    top = france["town"].value_counts()
    assert top.index[0] == "Paris"
    assert top.iloc[0] > 5 * top.loc["Rennes"] > 0


def test_town_radius() -> None:
    assert town_radius_km(1000) == pytest.approx(0.3 + 0.5 * math.sqrt(0.1))
    assert town_radius_km(10_000) == pytest.approx(0.8)
    assert town_radius_km(5_000_000) == 5.0


@pytest.mark.parametrize("scale", SCALES)
def test_shipped_files_are_what_the_generator_writes(scale: Scale, tmp_path: Path) -> None:
    out = write_sample(scale, tmp_path)
    assert out.name == f"sample_dealers_{scale}.csv"
    assert out.read_bytes() == sample_path(scale, GEODATA).read_bytes(), (
        f"geodata/{out.name} differs from what the generator writes: regenerate it with "
        f"`planner sample --scale {scale}` and commit it"
    )
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="scale"):
        dealer_counts("huge")  # type: ignore[arg-type]
