"""The sample dealer network shipped in ``geodata/``: a stand-in, not real dealers.

No public list of Renault or Nissan dealer locations exists, so the project
ships a *sample* network drawn from public facts:

Counts
    Per country and brand, the number of dealer and service listings that the
    All The Places crawl published in 2025 (:data:`LISTED_COUNTS`; 23 countries
    for the Renault group, 15 for Nissan). A count one brand lacks is imputed
    from the other with the median Nissan/Renault ratio of the 11 countries
    that have both (:func:`nissan_renault_ratio`, 12/76 ≈ 0.158):
    Nissan = Renault × ratio, Renault = Nissan ÷ ratio, rounded half up.
Scale
    ``full``: as many dealers as listings (about 27,000 in 27 countries).
    ``demo``: the full count divided by :data:`DEMO_DIVISOR` (10), rounded
    half up, at least 1 per listed country and brand; the default scenario's
    countries (FR, BE, LU, NL, CH) then hold about 1,460 dealers.
Towns
    Each dealer sits at a GeoNames place of at least
    :data:`TOWN_MIN_POPULATION` inhabitants of its country, drawn with
    replacement in proportion to population, so a big town gets several
    dealers. A dealer is placed uniformly in a disc around the town's point
    whose radius grows with the town (:func:`town_radius_km`: 0.46 km for
    1,000 people, 1.9 km for 100,000, at most 5 km), inside the country's
    outline (or, for a town the simplified outline cuts off, where the
    country check of dealer files still finds it in its country; see
    :mod:`planner.inputs.placement`), and at least :data:`MIN_SEPARATION_M` from
    every other dealer.
Dual-brand sites
    :data:`DUAL_BRAND_SHARE` (35 %) of each country's Nissan dealers (rounded
    half up) share a site with a Renault dealer: they sit 10–50 m from a
    distinct Renault dealer chosen at random, so a merge distance of 150 m
    makes each pair one site. Every other dealer is placed at least 200 m
    from all others (widening the disc in crowded towns), so merging at 60 to
    150 m finds those pairs (in the full file also 2 same-brand pairs in the
    densest city centres).
Seed
    One numpy ``Generator`` per country, seeded with ``[seed, country]``, so
    a country's dealers do not change when another country's count does. The
    same seed gives a byte-identical file.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from statistics import median
from typing import Literal

import numpy as np
import pandas as pd
import shapely

from planner._atomic import write_atomically
from planner.inputs.countries import country_outlines
from planner.inputs.geonames import populated_places
from planner.inputs.placement import IN_PLACE, place

logger = logging.getLogger(__name__)

Scale = Literal["demo", "full"]

#: The seed of the shipped sample files.
DEFAULT_SEED = 20261125

#: Demo scale = full scale ÷ this.
DEMO_DIVISOR = 10

#: Share of Nissan dealers placed at a Renault dealer's site.
DUAL_BRAND_SHARE = 0.35

#: Distance range (m) between a dual-brand pair.
CO_LOCATION_M = (10.0, 50.0)

#: Smallest distance (m) between dealers that are not a dual-brand pair.
MIN_SEPARATION_M = 200.0

#: Smallest town (inhabitants) that gets a dealer.
TOWN_MIN_POPULATION = 1000

#: Published dealer and service listings per country, as counted by the All The
#: Places crawl (alltheplaces.xyz): Renault group (Renault, Dacia, Alpine) from
#: the spider statistics of pull request #14268 (2025-09-17), Nissan (with
#: Infiniti) from pull request #14085 (2025-08-21). The Renault-group counts
#: include agents and service points; the Nissan counts stop before Italy.
LISTED_COUNTS: dict[str, dict[str, int]] = {
    "Renault": {
        "AT": 569, "BE": 678, "BG": 76, "CH": 590, "CZ": 236, "DE": 2310,
        "DK": 154, "ES": 1615, "FR": 12404, "GB": 662, "HR": 122, "HU": 166,
        "IE": 126, "IT": 1441, "LU": 52, "NL": 450, "PL": 294, "PT": 312,
        "RO": 268, "RS": 62, "SE": 242, "SI": 129, "SK": 98,
    },
    "Nissan": {
        "AT": 101, "BE": 53, "BG": 12, "CH": 61, "DE": 481, "DK": 47, "EE": 6,
        "ES": 176, "FI": 48, "FR": 265, "GB": 188, "GR": 54, "HR": 16, "IE": 34,
        "IS": 12,
    },
}  # fmt: skip

#: Brand → letter starting its dealer ids.
BRAND_PREFIX = {"Renault": "R", "Nissan": "N"}

#: Columns of the sample frame and file.
SAMPLE_COLUMNS = ("dealer_id", "brand", "name", "country", "lon", "lat", "town", "town_geonameid")

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0
_MAX_TRIES = 60


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def nissan_renault_ratio() -> float:
    """Median Nissan/Renault listing ratio over the countries listing both brands."""
    renault, nissan = LISTED_COUNTS["Renault"], LISTED_COUNTS["Nissan"]
    return float(median(nissan[c] / renault[c] for c in sorted(set(renault) & set(nissan))))


def dealer_counts(scale: Scale = "full") -> pd.DataFrame:
    """Dealers per country and brand in the sample, with where each number comes from.

    Parameters
    ----------
    scale
        ``"full"`` (the listing counts) or ``"demo"`` (÷ :data:`DEMO_DIVISOR`).

    Returns
    -------
    pandas.DataFrame
        One row per country and brand, sorted by country then brand
        (Renault first): ``country``, ``brand``, ``listed`` (the published
        count, ``<NA>`` where imputed), ``imputed`` (bool), ``full`` (int),
        ``dealers`` (int, at this scale) and ``dual_brand`` (Nissan dealers
        sharing a Renault site; 0 on Renault rows).
    """
    if scale not in ("demo", "full"):
        raise ValueError(f"scale must be 'demo' or 'full', got {scale!r}")
    ratio = nissan_renault_ratio()
    renault, nissan = LISTED_COUNTS["Renault"], LISTED_COUNTS["Nissan"]
    rows = []
    for country in sorted(set(renault) | set(nissan)):
        full_r = renault.get(country, _round_half_up(nissan.get(country, 0) / ratio))
        full_n = nissan.get(country, _round_half_up(renault.get(country, 0) * ratio))
        for brand, listed, full in (
            ("Renault", renault.get(country), full_r),
            ("Nissan", nissan.get(country), full_n),
        ):
            dealers = full if scale == "full" else max(1, _round_half_up(full / DEMO_DIVISOR))
            rows.append(
                {
                    "country": country,
                    "brand": brand,
                    "listed": listed,
                    "imputed": listed is None,
                    "full": full,
                    "dealers": dealers,
                }
            )
    counts = pd.DataFrame(rows)
    counts["listed"] = counts["listed"].astype("Int64")
    renault_dealers = counts["dealers"].where(counts["brand"] == "Renault").ffill()
    dual = [
        min(_round_half_up(DUAL_BRAND_SHARE * n), int(r)) if brand == "Nissan" else 0
        for brand, n, r in zip(counts["brand"], counts["dealers"], renault_dealers, strict=True)
    ]
    counts["dual_brand"] = np.asarray(dual, dtype=np.int64)
    return counts


def town_radius_km(population: float) -> float:
    """Radius of the disc around a town's point in which its dealers are placed.

    0.3 km + 0.5 km × √(population / 10,000), at most 5 km: a village's dealer
    stays near its centre, a city's dealers spread over its area.
    """
    return min(5.0, 0.3 + 0.5 * math.sqrt(population / 10_000.0))


class _Placed:
    """Dealers placed so far in one country, on a grid for fast distance checks."""

    def __init__(self, max_abs_lat: float) -> None:
        self.cell_lat = MIN_SEPARATION_M / _M_PER_DEG_LAT
        # The narrowest longitude degree in the country makes every cell at
        # least MIN_SEPARATION_M wide, so a 3 × 3 block holds every neighbour.
        narrowest = _M_PER_DEG_LON_EQUATOR * math.cos(math.radians(min(max_abs_lat, 89.0)))
        self.cell_lon = MIN_SEPARATION_M / narrowest
        self.cells: dict[tuple[int, int], list[tuple[float, float]]] = {}

    def _cell(self, lon: float, lat: float) -> tuple[int, int]:
        return (math.floor(lon / self.cell_lon), math.floor(lat / self.cell_lat))

    def too_close(self, lon: float, lat: float) -> bool:
        cx, cy = self._cell(lon, lat)
        m_per_deg_lon = _M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat))
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for olon, olat in self.cells.get((cx + dx, cy + dy), ()):
                    ex = (lon - olon) * m_per_deg_lon
                    ey = (lat - olat) * _M_PER_DEG_LAT
                    if ex * ex + ey * ey < MIN_SEPARATION_M * MIN_SEPARATION_M:
                        return True
        return False

    def add(self, lon: float, lat: float) -> None:
        self.cells.setdefault(self._cell(lon, lat), []).append((lon, lat))


def _offset(lon: float, lat: float, metres: float, bearing: float) -> tuple[float, float]:
    m_per_deg_lon = _M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat))
    return (
        lon + metres * math.sin(bearing) / m_per_deg_lon,
        lat + metres * math.cos(bearing) / _M_PER_DEG_LAT,
    )


def _place_near_town(
    lon: float,
    lat: float,
    radius_km: float,
    country: str,
    outline: shapely.Geometry,
    placed: _Placed,
    rng: np.random.Generator,
) -> tuple[float, float]:
    fallback: tuple[float, float] | None = None
    candidate = (lon, lat)
    for attempt in range(_MAX_TRIES):
        # Crowded towns (many dealers already) widen the disc step by step.
        radius_m = radius_km * 1000.0 * (1.0 + 0.5 * (attempt // 20))
        u, v = rng.random(2)
        candidate = _offset(lon, lat, radius_m * math.sqrt(u), 2.0 * math.pi * v)
        if placed.too_close(*candidate):
            continue
        if shapely.contains_xy(outline, *candidate):
            return candidate
        # A town on a coast or border the simplified outline cuts off keeps
        # its dealers near it rather than pushing them inland, as long as the
        # country check of dealer files still finds them in their country
        # (in the sea off its coast, or at most a border's slack beyond it).
        if fallback is None and place([candidate[0]], [candidate[1]], [country]).verdict[0] == (
            IN_PLACE
        ):
            fallback = candidate
    if fallback is not None:
        return fallback
    # A town that lies inside a neighbour's outline: its dealer goes to the
    # nearest point of its own country.
    nearest = shapely.shortest_line(outline, shapely.Point(lon, lat)).coords[0]
    return (float(nearest[0]), float(nearest[1]))


def _dealer_names(brand: str, towns: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for town in towns:
        seen[town] = seen.get(town, 0) + 1
        suffix = "sample" if seen[town] == 1 else f"sample {seen[town]}"
        names.append(f"{brand} {town} ({suffix})")
    return names


def _country_seed(seed: int, country: str) -> list[int]:
    return [seed, ord(country[0]) * 256 + ord(country[1])]


def _sample_country(
    country: str,
    counts: pd.DataFrame,
    towns: pd.DataFrame,
    outline: shapely.Geometry,
    seed: int,
    id_width: int,
) -> pd.DataFrame:
    rng = np.random.default_rng(_country_seed(seed, country))
    dealers = dict(zip(counts["brand"], counts["dealers"].astype(int), strict=True))
    n_renault, n_nissan = dealers["Renault"], dealers["Nissan"]
    n_dual = int(counts.loc[counts["brand"] == "Nissan", "dual_brand"].sum())
    weights = towns["population"].to_numpy(dtype=float)
    weights /= weights.sum()
    town_lon = towns["lon"].to_numpy()
    town_lat = towns["lat"].to_numpy()
    town_pop = towns["population"].to_numpy()
    placed = _Placed(float(np.abs(town_lat).max()) + 0.5)
    shapely.prepare(outline)

    def place_independent(n: int) -> tuple[np.ndarray, list[tuple[float, float]]]:
        drawn = rng.choice(len(towns), size=n, p=weights)
        points = []
        for t in drawn:
            point = _place_near_town(
                town_lon[t],
                town_lat[t],
                town_radius_km(town_pop[t]),
                country,
                outline,
                placed,
                rng,
            )
            placed.add(*point)
            points.append(point)
        return drawn, points

    renault_towns, renault_points = place_independent(n_renault)
    partners = rng.choice(n_renault, size=n_dual, replace=False) if n_dual else np.array([], int)
    dual_points = []
    for partner in partners:
        lo, hi = CO_LOCATION_M
        metres = lo + (hi - lo) * rng.random()
        lon, lat = renault_points[partner]
        point = _offset(lon, lat, metres, 2.0 * math.pi * rng.random())
        placed.add(*point)
        dual_points.append(point)
    solo_towns, solo_points = place_independent(n_nissan - n_dual)
    nissan_towns = np.concatenate([renault_towns[partners], solo_towns]).astype(int)

    frames = []
    for brand, town_idx, points in (
        ("Renault", renault_towns, renault_points),
        ("Nissan", nissan_towns, dual_points + solo_points),
    ):
        names = towns["name"].to_numpy()[town_idx].tolist()
        frames.append(
            pd.DataFrame(
                {
                    "dealer_id": [
                        f"{BRAND_PREFIX[brand]}-{country}-{i:0{id_width}d}"
                        for i in range(1, len(points) + 1)
                    ],
                    "brand": brand,
                    "name": _dealer_names(brand, names),
                    "country": country,
                    "lon": np.round([p[0] for p in points], 5),
                    "lat": np.round([p[1] for p in points], 5),
                    "town": names,
                    "town_geonameid": towns["geonameid"].to_numpy()[town_idx],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def generate_sample(scale: Scale, *, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Draw the sample dealer network (see the module docstring for the rules).

    Parameters
    ----------
    scale
        ``"demo"`` (about 2,700 dealers in 27 countries) or ``"full"`` (about
        27,000).
    seed
        Seed of the draw; the shipped files use :data:`DEFAULT_SEED`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SAMPLE_COLUMNS`: ``dealer_id`` (``"R-FR-0001"``,
        ``"N-FR-0001"``), ``brand`` (``"Renault"`` or ``"Nissan"``), ``name``
        (``"Renault Lyon (sample)"``, ``"Renault Lyon (sample 2)"``, ...),
        ``country`` (ISO alpha-2), ``lon``, ``lat`` (degrees, 5 decimals),
        ``town``, ``town_geonameid`` (int64); sorted by country, Renault
        before Nissan, then id.
    """
    counts = dealer_counts(scale)
    countries = sorted(counts["country"].unique())
    id_width = max(4, len(str(int(counts["dealers"].max()))))
    towns = populated_places(countries, min_population=TOWN_MIN_POPULATION)
    outlines = country_outlines(countries).set_index("iso_a2").geometry
    frames = []
    for country in countries:
        frames.append(
            _sample_country(
                country,
                counts[counts["country"] == country],
                towns[towns["country"] == country].reset_index(drop=True),
                outlines[country],
                seed,
                id_width,
            )
        )
    sample = pd.concat(frames, ignore_index=True)
    sample["town_geonameid"] = sample["town_geonameid"].astype(np.int64)
    logger.info("drew %d sample dealers (%s scale, seed %d)", len(sample), scale, seed)
    return sample[list(SAMPLE_COLUMNS)]


def sample_path(scale: Scale, out_dir: Path) -> Path:
    """Where :func:`write_sample` writes: ``out_dir / sample_dealers_<scale>.csv``."""
    return Path(out_dir) / f"sample_dealers_{scale}.csv"


def write_sample(scale: Scale, out_dir: Path, *, seed: int = DEFAULT_SEED) -> Path:
    """Draw the sample network and write it as ``sample_dealers_<scale>.csv``.

    The file is written to a temporary name and moved into place, so an
    interrupted run leaves the previous file intact.

    Parameters
    ----------
    scale
        ``"demo"`` or ``"full"``.
    out_dir
        Folder to write into (created if missing); the shipped files live in
        ``geodata/``.
    seed
        Seed of the draw.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    sample = generate_sample(scale, seed=seed)
    path = sample_path(scale, out_dir)
    text = sample.to_csv(index=False, float_format="%.5f", lineterminator="\n")
    write_atomically(path, text)
    logger.info("wrote %s", path)
    return path


def generate_country_sample(
    country: str, *, renault: int, nissan: int, seed: int = DEFAULT_SEED
) -> pd.DataFrame:
    """A sample network of one country with given counts, drawn by the same rules.

    For a country the published listing counts leave out (Malta, for the road
    example): ``renault`` and ``nissan`` dealers at its GeoNames towns,
    :data:`DUAL_BRAND_SHARE` of the Nissan dealers beside a Renault dealer.
    Columns as :func:`generate_sample`.
    """
    dual = min(_round_half_up(nissan * DUAL_BRAND_SHARE), renault)
    counts = pd.DataFrame(
        {
            "country": [country, country],
            "brand": ["Renault", "Nissan"],
            "dealers": [renault, nissan],
            "dual_brand": [0, dual],
        }
    )
    towns = populated_places([country], min_population=TOWN_MIN_POPULATION)
    outline = country_outlines([country]).set_index("iso_a2").geometry[country]
    sample = _sample_country(country, counts, towns.reset_index(drop=True), outline, seed, 4)
    sample["town_geonameid"] = sample["town_geonameid"].astype(np.int64)
    return sample[list(SAMPLE_COLUMNS)]
