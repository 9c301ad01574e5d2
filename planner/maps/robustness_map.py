"""The robustness map of a sweep: which sites are chosen whatever the future brings.

One self-contained page, offline like the plan's map and built from the same
pieces (:mod:`planner.maps.base`: outlines, online tiles off, panes; the
``sites()`` markers of ``static/map.js``; town names). Every site chosen in
at least one run is a marker coloured by the share of runs that chose it
(rarely, sometimes, often, no-regret), its number that share in per cent
and its area the chargers it got on average when chosen; no-regret sites
(chosen in at least ``sweep.no_regret_share`` of the runs) are ringed. The
dealer sites never chosen stay as small brand-coloured dots. The KPI panel
gives the runs, the spread of coverage and cost and the fields swept; a
collapsible panel shows ``sweep.png``.

Strings from input files reach the page only through ``textContent`` or
:func:`html.escape`, as on the plan's map.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import pandas as pd

from planner._atomic import write_atomically
from planner._text import fmt_eur
from planner.maps import data, site_rows, town_labels
from planner.maps.assets import MapAssets, folium_module
from planner.maps.base import LAYER_NAMES, credit_roads, json_group, new_map, prepare_map
from planner.maps.formats import fmt_int, fmt_pct
from planner.maps.layers import JsonLayer, Markup
from planner.maps.panels import figure_panel, plan_title, title_panel
from planner.scenario.schema import Scenario

__all__ = ["BANDS", "band_of", "render_robustness_map", "write_robustness_map"]

#: The share bands of the markers: CSS class word, least share, legend text, colour.
BANDS = (
    ("often", 0.5, "chosen in half the runs or more", "#6a51a3"),
    ("sometimes", 0.2, "chosen in 20 % to half of the runs", "#9e9ac8"),
    ("rarely", 0.0, "chosen in fewer than 20 % of the runs", "#dadaeb"),
)
NO_REGRET_COLOUR = "#3f007d"
NO_REGRET_RING = "#e69f00"

#: The layer of the sites chosen in some run.
ROBUST_LAYER = "Sites chosen in some run"

_POPUP_CLEAR_OF_PANELS = {
    "autoPanPaddingTopLeft": [340, 90],
    "autoPanPaddingBottomRight": [260, 20],
}


class SweepView(Protocol):
    """What the map reads of a sweep (:class:`planner.pipeline.sweep.SweepResult` has it)."""

    @property
    def scenario(self) -> Scenario: ...
    @property
    def sites(self) -> pd.DataFrame: ...
    @property
    def robustness(self) -> pd.DataFrame: ...
    @property
    def summary(self) -> dict[str, Any]: ...


def band_of(share: float, no_regret_share: float) -> str:
    """The marker class word of a site chosen in ``share`` of the runs."""
    if share >= no_regret_share - 1e-9:
        return "noregret"
    return next(word for word, least, _, _ in BANDS if share >= least)


def robust_site_rows(robustness: pd.DataFrame, no_regret_share: float, runs: int) -> list[dict]:
    """One marker row per site chosen in some run, as :func:`site_rows.site_layer` takes them."""
    chosen = robustness[robustness["runs_chosen"] > 0]
    most = max([float(v) for v in chosen["chargers_mean"] if pd.notna(v)] + [1.0])
    rows = []
    for row in chosen.to_dict("records"):
        share = float(row["share_chosen"])
        mean = float(row["chargers_mean"]) if pd.notna(row["chargers_mean"]) else 0.0
        no_regret = bool(row["no_regret"])
        pairs = [
            ["Site", data.as_text(row["site_id"])],
            ["Brands", " + ".join(data.brand_list(row.get("brands")))],
            ["Country", data.as_text(row.get("country"))],
            [
                "Chosen in",
                f"{fmt_int(row['runs_chosen'])} of {fmt_int(runs)} runs "
                f"({fmt_pct(100 * share, 0)})",
            ],
            [
                "No-regret site",
                f"yes (≥ {fmt_pct(100 * no_regret_share, 0)} of runs)" if no_regret else "no",
            ],
            [
                "Chargers when chosen",
                f"mean {mean:.1f}, least {fmt_int(row['chargers_min'])}, "
                f"most {fmt_int(row['chargers_max'])}",
            ],
        ]
        rows.append(
            {
                "lat": round(float(row["lat"]), data.COORD_DECIMALS),
                "lon": round(float(row["lon"]), data.COORD_DECIMALS),
                "size": site_rows.site_marker_size(mean, most),
                # The marker's number: the per cent of runs that chose the site.
                "chargers": round(100 * share),
                "title": data.as_text(row.get("name")) or data.as_text(row["site_id"]),
                "pairs": pairs,
                "kind": band_of(share, no_regret_share),
            }
        )
    # The most robust sites last, drawn over the others.
    rows.sort(key=lambda r: (r["chargers"], r["title"]))
    return rows


def render_robustness_map(
    sweep: SweepView,
    *,
    outlines: gpd.GeoDataFrame | None = None,
    assets: MapAssets = "inline",
    sweep_png: bytes | None = None,
) -> str:
    """The HTML page of a sweep's robustness map (``map.html`` of ``planner sweep``)."""
    lib = folium_module(assets)
    scenario, summary = sweep.scenario, sweep.summary
    sample = data.is_sample(scenario)
    title = plan_title(scenario.title, scenario.name, sample)
    folium_map = new_map(lib)
    figure = folium_map.get_root()
    figure.title = html.escape(f"Sweep: {title} ({scenario.name})")
    prepare_map(lib, folium_map, outlines)

    dealers = _dealer_layer(lib, folium_map, sweep.sites, sweep.robustness)
    share = float(summary["no_regret_share"])
    runs = int(summary["runs_with_plan"])
    rows = robust_site_rows(sweep.robustness, share, runs)
    layer = JsonLayer("sites", site_rows.site_layer(rows), _POPUP_CLEAR_OF_PANELS)
    json_group(lib, folium_map, ROBUST_LAYER, layer)
    towns = town_labels.town_label_layer(scenario.demand.countries)
    if towns is not None:
        json_group(lib, folium_map, LAYER_NAMES["towns"], JsonLayer("towns", towns))
    lib.LayerControl(collapsed=False, position="topright").add_to(folium_map)
    box = _bounds(sweep.sites)
    if box is not None:
        padding = {"paddingTopLeft": [330, 90], "paddingBottomRight": [250, 20]}
        JsonLayer("fit", box, padding).add_to(folium_map)
    credit_roads(folium_map, scenario.travel.mode == "road")

    panels = (
        title_panel(
            f"{title}: robustness over {fmt_int(summary.get('runs'))} runs",
            scenario.name,
            scenario.model.name,
            sample,
        )
        + '<div class="planner-left">'
        + sweep_kpi_panel(summary)
        + _legend(dealers, share, towns is not None)
        + "</div>"
        + (
            figure_panel(
                sweep_png,
                summary="Coverage against the swept fields",
                alt="Coverage against each swept field, with its spread",
                panel_id="planner-sweep-plot",
                name="sweep_png",
            )
            if sweep_png is not None
            else ""
        )
    )
    figure.html.add_child(Markup(panels), name="planner_panels")
    page: str = figure.render()
    return page


def write_robustness_map(
    sweep: SweepView,
    path: str | os.PathLike[str],
    *,
    outlines: gpd.GeoDataFrame | None = None,
    assets: MapAssets = "inline",
    sweep_png: bytes | None = None,
) -> Path:
    """Render :func:`render_robustness_map` and write it to ``path`` atomically."""
    page = render_robustness_map(sweep, outlines=outlines, assets=assets, sweep_png=sweep_png)
    return write_atomically(path, page)


def _dealer_layer(
    lib: Any, folium_map: Any, sites: pd.DataFrame, robustness: pd.DataFrame
) -> data.DealerLayers:
    """The candidate sites never chosen, as small dots of their brand's colour (one layer)."""
    never = set(robustness.loc[robustness["runs_chosen"] == 0, "site_id"].astype(str))
    rows = sites[sites["site_id"].astype(str).isin(never)]
    if "n_dealers" not in rows.columns:
        rows = rows.assign(n_dealers=1)
    dealers = data.dealer_layers(rows)
    for brand, points in dealers.by_brand.items():
        style = {
            "color": "#3d3d3d",
            "weight": 0.5,
            "fillColor": dealers.colours[brand],
            "fillOpacity": 0.8,
        }
        json_group(
            lib, folium_map, f"{brand} sites never chosen", JsonLayer("points", points, style)
        )
    if dealers.multi_brand is not None:
        style = {
            "color": "#1a1a1a",
            "weight": 1,
            "fillColor": data.DUAL_BRAND_COLOUR,
            "fillOpacity": 0.9,
        }
        layer = JsonLayer("points", dealers.multi_brand, style)
        json_group(lib, folium_map, "Dual-brand sites never chosen", layer)
    return dealers


def _bounds(sites: pd.DataFrame) -> list[list[float]] | None:
    lat = pd.to_numeric(sites["lat"], errors="coerce").dropna()
    lon = pd.to_numeric(sites["lon"], errors="coerce").dropna()
    if lat.empty or lon.empty:
        return None
    return [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]


def _range(figures: Mapping[str, Any] | None, fmt: Any) -> str:
    """``median (least–most)`` of a :func:`~planner.pipeline.sweep_tables.spread`."""
    if not figures or figures.get("median") is None:
        return "n/a"
    return f"{fmt(figures['median'])} ({fmt(figures['min'])} – {fmt(figures['max'])})"


def _pct(value: Any) -> str:
    return fmt_pct(value, 1)


def sweep_kpi_panel(summary: Mapping[str, Any]) -> str:
    """Runs, the spread of coverage, cost, sites and chargers, no-regret sites, fields swept."""
    by_status = summary.get("runs_by_status") or {}
    failed = summary.get("runs_without_plan") or 0
    coverage = summary.get("coverage_pct") or {}
    figures = [
        (
            "Runs",
            f"{fmt_int(summary.get('runs'))}"
            + (f" ({fmt_int(failed)} without a plan)" if failed else ""),
        ),
        ("Coverage, median (range)", _range(coverage, _pct)),
        (
            "Coverage, 10–90 %",
            f"{_pct(coverage.get('p10'))} – {_pct(coverage.get('p90'))}"
            if coverage.get("p10") is not None
            else "n/a",
        ),
        ("Total cost, median (range)", _range(summary.get("cost_eur"), fmt_eur)),
        ("Sites selected", _range(summary.get("sites_selected"), fmt_int)),
        ("Chargers", _range(summary.get("chargers_total"), fmt_int)),
        (
            f"No-regret sites (≥ {fmt_pct(100 * float(summary['no_regret_share']), 0)})",
            fmt_int(len(summary.get("no_regret_sites") or [])),
        ),
        ("Sites chosen in some run", fmt_int(summary.get("sites_chosen_in_some_run"))),
    ]
    grid = "".join(
        f'<div>{html.escape(label)}</div><div class="planner-kpi-value">{html.escape(value)}</div>'
        for label, value in figures
    )
    swept = "".join(
        f'<div class="planner-note"><b>{html.escape(str(key))}</b><br>{html.escape(str(how))}</div>'
        for key, how in (summary.get("swept") or {}).items()
    )
    statuses = ", ".join(f"{status} {n}" for status, n in sorted(by_status.items()))
    return (
        '<div class="planner-panel planner-kpi" id="planner-kpi"><h2>Sweep</h2>'
        f'<div class="planner-kpi-grid">{grid}</div>'
        f'<div class="planner-kpi-status" id="planner-status"><b>Runs by status:</b> '
        f"{html.escape(statuses)}</div>"
        f'<details open id="planner-swept"><summary>Fields swept</summary>{swept}</details></div>'
    )


def _legend(dealers: data.DealerLayers, no_regret_share: float, towns: bool) -> str:
    site = "border:2px solid #fff;box-shadow:0 0 2px #000;width:16px;height:16px"
    rows = [
        _row(
            f"background:{NO_REGRET_COLOUR};border:2px solid #fff;width:16px;height:16px;"
            f"box-shadow:0 0 0 3px {NO_REGRET_RING}",
            f"No-regret site: chosen in ≥ {fmt_pct(100 * no_regret_share, 0)} of the runs",
            "planner-legend-noregret",
        )
    ]
    rows += [_row(f"background:{colour};{site}", f"Site {text}") for _, _, text, colour in BANDS]
    rows += [
        _row(
            f"background:{colour};border:1px solid #3d3d3d;width:9px;height:9px;margin:0 1.5px",
            f"{brand} site never chosen",
        )
        for brand, colour in dealers.colours.items()
    ]
    if dealers.multi_brand is not None:
        rows.append(
            _row(
                f"background:{data.DUAL_BRAND_COLOUR};border:2px solid #1a1a1a",
                "Dual-brand site never chosen",
            )
        )
    note = (
        '<div class="planner-note">Marker number: per cent of the runs with a plan that chose '
        "the site; area: its mean chargers when chosen.</div>"
    )
    if towns:
        note += '<div class="planner-note">Town names: GeoNames (CC BY 4.0).</div>'
    return (
        # Folded by hand, or at first on a narrow screen (map.js), to free the map.
        '<div class="planner-panel planner-legend" id="planner-legend">'
        "<details open><summary><h2>Legend</h2></summary>"
        + "".join(rows)
        + note
        + "</details></div>"
    )


def _row(swatch_style: str, label: str, row_id: str = "") -> str:
    ident = f' id="{row_id}"' if row_id else ""
    return (
        f'<div class="planner-legend-row"{ident}><span class="planner-swatch" '
        f'style="{swatch_style}"></span><span>{html.escape(label)}</span></div>'
    )
