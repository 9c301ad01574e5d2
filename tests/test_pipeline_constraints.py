"""Every side constraint through the whole pipeline, on a six-site instance solved by hand.

Six dealers in Luxembourg and Belgium, each with one demand point on it and
none within reach of another (radius 5 km, the dealers are 15 km or more
apart), so a chosen site covers exactly its own point. Every factor of the
sessions model is 1: a point's weight is its population, and coverage is the
sum of the chosen sites' populations:

    site  brand    country  population  site cost (EUR)
    A     Renault  LU       100         1,000,000
    B     Renault  LU        80           200,000
    C     Nissan   LU        30           100,000
    D     Nissan   LU        20           100,000
    E     Renault  BE        60           300,000
    F     Nissan   BE        12            50,000

A charger costs nothing and a site needs one, so a site's opening cost (what
budgets count) is its site cost.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from planner import run as run_scenario
from planner.errors import InfeasibleError, InputError
from planner.pipeline.chargers import phase_chargers
from planner.pipeline.plan import site_table
from planner.scenario.schema import Scenario, load_scenario
from tests.conftest import run_cli as _cli

DEALERS = """dealer_id,brand,name,country,lon,lat,site_cost_eur,fixed,excluded
A,Renault,Renault Luxembourg,LU,6.1300,49.6100,1000000,{A_fixed},{A_excluded}
B,Renault,Renault Esch,LU,5.9800,49.5000,200000,no,no
C,Nissan,Nissan Ettelbruck,LU,6.1000,49.8500,100000,no,no
D,Nissan,Nissan Wiltz,LU,5.9300,49.9700,100000,{D_fixed},no
E,Renault,Renault Arlon,BE,5.8200,49.6800,300000,no,no
F,Nissan,Nissan Bastogne,BE,5.7200,50.0000,50000,no,no
"""

DEMAND = """demand_id,name,country,lon,lat,population
a,Luxembourg,LU,6.1300,49.6100,100
b,Esch,LU,5.9800,49.5000,80
c,Ettelbruck,LU,6.1000,49.8500,30
d,Wiltz,LU,5.9300,49.9700,20
e,Arlon,BE,5.8200,49.6800,60
f,Bastogne,BE,5.7200,50.0000,12
"""

SCENARIO = """
name = "six"
title = "Sample network: six sites by hand"

[[dealers.files]]
path = "dealers.csv"

[demand]
source = "demand.csv"
countries = ["LU", "BE"]

[demand.sessions]
cars_per_inhabitant = 1.0
bev_share_of_fleet = 1.0
brand_share_of_bev = 1.0
fast_sessions_per_bev_per_day = 1.0
country_defaults = false

[travel]
radius_km = 5.0

[chargers]
charger_cost_eur = 0.0
min_per_site = 1
max_per_site = 1000

[model]
p = 2

[solver]
time_limit_s = 20.0
relative_gap = 0.0
"""


def _write(folder: Path, extra: str = "", **flags: str) -> Path:
    values = {"A_fixed": "no", "A_excluded": "no", "D_fixed": "no", **flags}
    (folder / "dealers.csv").write_text(DEALERS.format(**values), encoding="utf-8")
    (folder / "demand.csv").write_text(DEMAND, encoding="utf-8")
    path = folder / "six.toml"
    path.write_text(SCENARIO + extra, encoding="utf-8")
    return path


def _chosen(tmp_path: Path, overrides: list[str], extra: str = "", **flags: str) -> set[str]:
    scenario = load_scenario(_write(tmp_path, extra, **flags), overrides=overrides)
    plan = run_scenario(scenario)
    assert plan.report["status"] == "optimal"
    return set(plan.sites.loc[plan.sites["chosen"], "site_id"])


def _covered(tmp_path: Path, overrides: list[str], **flags: str) -> tuple[set[str], float]:
    scenario = load_scenario(_write(tmp_path, **flags), overrides=overrides)
    plan = run_scenario(scenario)
    assert plan.report["status"] == "optimal"
    return set(plan.sites.loc[plan.sites["chosen"], "site_id"]), plan.report["demand_covered"]


def test_no_side_constraint(tmp_path: Path) -> None:
    assert _covered(tmp_path, []) == ({"A", "B"}, 180.0)


def test_brand_min_share(tmp_path: Path) -> None:
    # Half the sites at Nissan dealers: one of two, the best is C (30).
    overrides = ["constraints.brand_min_share={Nissan = 0.5}"]
    assert _covered(tmp_path, overrides) == ({"A", "C"}, 130.0)


def test_brand_share_proportional(tmp_path: Path) -> None:
    # Each brand is on 3 of 6 candidates; 0.8 of that is 40 %. Three sites would need
    # two of each brand, so at most p = 3 allows only two sites: A and C.
    overrides = ["constraints.brand_share_proportional=0.8", "model.p=3"]
    assert _covered(tmp_path, overrides) == ({"A", "C"}, 130.0)


def test_country_min_and_max(tmp_path: Path) -> None:
    assert _covered(tmp_path, ["constraints.country_min_sites={BE = 1}"]) == (
        {"A", "E"},
        160.0,
    )
    overrides = ["constraints.country_max_sites={LU = 1}", "model.p=3"]
    assert _covered(tmp_path, overrides) == ({"A", "E", "F"}, 172.0)


def test_budget_replaces_p(tmp_path: Path) -> None:
    # 500,000 EUR and no p (the scenario file's p = 2 is unset here): B, C, D, F
    # cost 450,000 and cover 142; B and E cost 500,000 and cover 140.
    scenario = load_scenario(_write(tmp_path), overrides=["constraints.budget_eur=500000"])
    scenario = scenario.model_copy(update={"model": scenario.model.model_copy(update={"p": None})})
    plan = run_scenario(scenario)
    assert set(plan.sites.loc[plan.sites["chosen"], "site_id"]) == {"B", "C", "D", "F"}
    assert plan.report["demand_covered"] == 142.0
    assert plan.report["p"] is None
    assert plan.report["cost_eur"]["opening_cost_counted"] == 450_000.0
    assert plan.report["cost_eur"]["budget"] == 500_000.0


def test_budget_with_p(tmp_path: Path) -> None:
    # p = 2 as well: the best pair within 500,000 EUR is B and E.
    assert _covered(tmp_path, ["constraints.budget_eur=500000"]) == ({"B", "E"}, 140.0)


def test_fixed_and_excluded(tmp_path: Path) -> None:
    # D must open, A must not: D and the best other site, B.
    assert _covered(tmp_path, [], D_fixed="yes", A_excluded="yes") == ({"B", "D"}, 100.0)


@pytest.mark.parametrize("model", ["p_median", "set_cover"])
def test_side_constraints_reach_every_model(tmp_path: Path, model: str) -> None:
    # Every point has only its own site in reach, so p-median (p = 6) and set cover
    # must open all six sites: at most one Belgian site cannot hold, and the
    # message names the bound with its numbers (set cover: the two Belgian points
    # that need a Belgian site each).
    overrides = [f"model.name={model}", "model.p=6", "constraints.country_max_sites={BE = 1}"]
    scenario = load_scenario(_write(tmp_path), overrides=overrides)
    numbers = r"\(2 of 6 candidate sites in BE\)|cannot hold: 2 demand points"
    with pytest.raises(InfeasibleError, match=rf"BE sites ≤ 1 ({numbers})"):
        run_scenario(scenario)
    # Without the bound both open the six sites.
    plan = run_scenario(load_scenario(_write(tmp_path), overrides=overrides[:2]))
    assert plan.report["sites_selected"] == 6


def test_phased_plan_by_hand(tmp_path: Path) -> None:
    # 2026: one site, half of them Nissan, so C (30); 2028: two sites, C stays, A joins.
    extra = """
[[constraints.phases]]
year = 2026
p = 1

[[constraints.phases]]
year = 2028
p = 2
"""
    scenario = load_scenario(
        _write(tmp_path, extra), overrides=["constraints.brand_min_share={Nissan = 0.5}"]
    )
    plan = run_scenario(scenario)
    years = plan.sites.set_index("site_id")["opening_year"]
    assert str(years.dtype) == "Int64"
    assert years["C"] == 2026 and years["A"] == 2028
    assert years.isna().sum() == 4
    assert plan.report["objective"] == pytest.approx(30.0 + 130.0)
    assert plan.report["status"] == "optimal"
    assert [row["sites_open"] for row in plan.report["phases"]] == [1, 2]
    assert plan.report["p"] == 2
    # Chargers installed by the end of each year: none before a site opens,
    # never fewer later, the last year's the plan's, and the years' totals.
    sites = plan.sites.set_index("site_id")
    by_year = sites[["chargers_2026", "chargers_2028"]]
    assert by_year.loc["A", "chargers_2026"] == 0 and by_year.loc["A", "chargers_2028"] > 0
    assert by_year.loc["C", "chargers_2026"] > 0
    assert (by_year["chargers_2028"] >= by_year["chargers_2026"]).all()
    assert (by_year["chargers_2028"] == sites["chargers"]).all()
    assert by_year.sum().tolist() == [row["chargers"] for row in plan.report["phases"]]
    written = site_table(plan).columns.tolist()
    at = written.index("opening_year")
    assert written[at + 1 : at + 3] == ["chargers_2026", "chargers_2028"]
    # Then the queue of each year: the last year's is the plan's.
    assert written[at + 3 : at + 5] == ["queue_target_met_2026", "queue_target_met_2028"]
    assert (sites["queue_target_met_2028"] == sites["queue_target_met"]).all()
    assert not sites.loc["A", "queue_target_met_2026"]  # not open yet
    missing = [row["sites_missing_queue_target"] for row in plan.report["phases"]]
    assert missing[-1] == plan.report["queue"]["sites_missing_target"]


def test_a_capped_site_misses_the_queue_only_while_it_serves_alone() -> None:
    # Site 0 (at most 2 chargers) opens first and serves rows A and B alone:
    # 80 sessions a day are too many for 2 chargers. Site 1 opens the year
    # after, nearer to B, and site 0 keeps A's 20 sessions, which 2 chargers take.
    reach = sp.csr_matrix(np.array([[1.0, 0.0], [5.0, 1.0]]))
    yearly = phase_chargers(
        reach, np.array([20.0, 60.0]), np.array([0, 1]), [1.0, 1.0], np.array([2, 12]), Scenario()
    )
    assert yearly.counts[:, 0].tolist() == [2, 2]
    assert yearly.target_met.tolist() == [[False, False], [True, True]]


def test_phased_budgets_with_a_country_minimum(tmp_path: Path) -> None:
    # 300,000 EUR a year and a Belgian site every year. 2026: B and F (250,000,
    # 92) beat E alone (60) and F, C, D (62); 2028: E (60) beats C and D (50).
    extra = """
[[constraints.phases]]
year = 2026
budget_eur = 300000

[[constraints.phases]]
year = 2028
budget_eur = 300000
"""
    scenario = load_scenario(
        _write(tmp_path, extra), overrides=["constraints.country_min_sites={BE = 1}"]
    )
    plan = run_scenario(scenario)
    years = plan.sites.set_index("site_id")["opening_year"]
    assert years.dropna().to_dict() == {"B": 2026, "E": 2028, "F": 2026}
    assert plan.report["objective"] == pytest.approx(92.0 + 152.0)
    assert plan.report["status"] == "optimal"
    phases = plan.report["phases"]
    assert [row["opening_cost_eur"] for row in phases] == [250_000.0, 300_000.0]
    # One charger per site at 0 EUR: the real spend is the site costs.
    assert [row["spend_eur"] for row in phases] == [250_000.0, 300_000.0]


def test_an_existing_station_with_swapped_coordinates_is_named(tmp_path: Path) -> None:
    # Before: a station at longitude 49.61, latitude 6.13 (Luxembourg swapped,
    # the Indian Ocean) was kept and reached nothing, without a word.
    (tmp_path / "stations.csv").write_text(
        "id,operator,power_kw,points,lon,lat\n"
        "s1,Ionity,300,4,6.1300,49.6100\n"
        "s2,Ionity,300,4,49.6100,6.1300\n",
        encoding="utf-8",
    )
    extra = """
[[existing_chargers.files]]
path = "stations.csv"
format = "generic"
"""
    with pytest.raises(InputError) as caught:
        run_scenario(load_scenario(_write(tmp_path, extra), overrides=["model.p=1"]))
    assert str(caught.value) == (
        "stations.csv: station s2 at longitude 49.61, latitude 6.13 lies in no country; with "
        "the two swapped it lies in LU: are its coordinates swapped?"
    )


def test_an_existing_station_in_no_country_is_warned_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: a station in the Atlantic was counted as kept, without a word.
    (tmp_path / "stations.csv").write_text(
        "id,operator,power_kw,points,lon,lat\n"
        "s1,Ionity,300,4,6.1300,49.6100\n"
        "s2,Ionity,300,4,-30,40\n",
        encoding="utf-8",
    )
    extra = """
[[existing_chargers.files]]
path = "stations.csv"
format = "generic"
"""
    with caplog.at_level("WARNING"):
        plan = run_scenario(load_scenario(_write(tmp_path, extra), overrides=["model.p=1"]))
    assert (
        "stations.csv: 1 station(s) lie in no country (first: s2 at longitude -30, latitude 40): "
        "check their coordinates (kept as given)"
    ) in caplog.text
    counts = plan.report["inputs"]["existing_chargers"]
    assert (counts["kept"], counts["in_no_country"]) == (2, 1)
    assert counts["files"][0]["in_no_country"] == 1


def test_existing_chargers_discount_demand(tmp_path: Path) -> None:
    # A 300 kW station at A (kept) and a 50 kW one at B (below 150 kW): A's 100
    # sessions count half, so with p = 1 the plan takes B (80) over A (50).
    (tmp_path / "stations.csv").write_text(
        "id,operator,power_kw,points,lon,lat\n"
        "s1,Ionity,300,4,6.1300,49.6100\n"
        "s2,Town,50,2,5.9800,49.5000\n",
        encoding="utf-8",
    )
    extra = """
[existing_chargers]
demand_discount = 0.5

[[existing_chargers.files]]
path = "stations.csv"
format = "generic"
"""
    scenario = load_scenario(_write(tmp_path, extra), overrides=["model.p=1"])
    plan = run_scenario(scenario)
    assert set(plan.sites.loc[plan.sites["chosen"], "site_id"]) == {"B"}
    weights = plan.demand.set_index("demand_id")["weight"]
    assert weights["a"] == 50.0 and weights["b"] == 80.0
    existing = plan.report["existing_chargers"]
    assert existing["read"] == 2 and existing["kept"] == 1
    assert existing["sessions_within_reach"] == 100.0
    assert existing["sessions_within_reach_pct"] == pytest.approx(100 * 100 / 302)
    assert existing["population_within_reach"] == 100.0
    assert existing["sessions_discounted"] == 50.0
    lu = next(row for row in existing["by_country"] if row["country"] == "LU")
    assert lu["sessions_within_reach_pct"] == pytest.approx(100 * 100 / 230)
    assert plan.existing_chargers is not None
    assert list(plan.existing_chargers.columns) == [
        "id",
        "operator",
        "power_kw",
        "points",
        "lon",
        "lat",
    ]
    assert plan.existing_chargers["id"].tolist() == ["s1"]


@pytest.mark.parametrize(
    ("overrides", "flags", "message"),
    [
        (
            ["constraints.country_min_sites={BE = 3}"],
            {},
            "BE sites ≥ 3: only 2 candidate sites are in BE",
        ),
        (
            ["constraints.budget_eur=500000"],
            {"A_fixed": "yes"},
            "budget: the 1 fixed sites alone cost 1,000,000 EUR, above the budget of 500,000 EUR",
        ),
        (
            [
                "constraints.brand_min_share={Nissan = 0.8}",
                "constraints.country_min_sites={LU = 4}",
            ],
            {},
            "every plan opens at least 4 sites (fixed sites and minimums), so at least 4 of "
            "Nissan, but only 3 candidate sites carry Nissan",
        ),
        (
            ["model.name=sizing", "model.coverage_target=0.9", "chargers.max_per_site=2"],
            {},
            "sizing: coverage target 90.0% of the 30.2 peak-hour sessions within reach "
            "cannot be met",
        ),
        (
            ["model.name=sizing", "model.coverage_target=0.9", "chargers.max_per_site=2"],
            {},
            "Either lower model.coverage_target (now 0.9) to 0.",
        ),
        (
            ["model.name=sizing", "constraints.country_max_sites={BE = 0}"],
            {},
            "BE sites ≤ 0 cannot hold",
        ),
        (
            ["model.name=sizing", "constraints.country_max_sites={BE = 0}"],
            {},
            "raise those caps or lower model.coverage_target (now 1); more chargers a site "
            "would not help",
        ),
        (
            ["model.name=set_cover", "constraints.country_max_sites={BE = 0}"],
            {},
            "BE sites ≤ 0 cannot hold",
        ),
        (
            ["model.name=sizing", "model.coverage_target=0.6", "constraints.budget_eur=100000"],
            {},
            # Two sites: the rows of a packing it must serve share none.
            "costs at least 250,000 EUR in sites and chargers, above the budget of 100,000 EUR",
        ),
    ],
)
def test_infeasible_exits_3_with_the_numbers(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    overrides: list[str],
    flags: dict[str, str],
    message: str,
) -> None:
    path = _write(tmp_path, **flags)
    args = ["run", str(path), "--out", str(tmp_path / "out")]
    for item in overrides:
        args += ["--set", item]
    code, _, stderr = _cli(args, capsys)
    assert code == 3, stderr
    assert message in stderr
    assert not (tmp_path / "out").exists()


def test_sizing_budget_remedy_is_a_budget_that_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path)
    base = ["--set", "model.name=sizing", "--set", "model.coverage_target=0.6"]
    args = ["run", str(path), "--out", str(tmp_path / "out"), *base]
    code, _, stderr = _cli([*args, "--set", "constraints.budget_eur=100000"], capsys)
    assert code == 3, stderr
    found = re.search(r"raise constraints\.budget_eur to ([\d,]+)", stderr)
    assert found is not None, stderr
    budget = found.group(1).replace(",", "")
    code, _, stderr = _cli([*args, "--set", f"constraints.budget_eur={budget}"], capsys)
    assert code == 0, stderr


def test_sizing_model_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Serve 60 % of 302 sessions/day, 181.2, at least cost (chargers at 1,000 EUR barely
    # count): B, C, E and F reach 182 for 650,000 EUR in site costs; every other set
    # reaching 181.2 costs more (B, C, D, E: 700,000; anything with A: 1,000,000 more).
    path = _write(tmp_path)
    out = tmp_path / "out"
    args = ["run", str(path), "--out", str(out), "--set", "model.name=sizing"]
    args += ["--set", "model.coverage_target=0.6", "--set", "chargers.charger_cost_eur=1000"]
    code, _, stderr = _cli(args, capsys)
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    sites = pd.read_csv(out / "sites.csv")
    chosen = sites[sites["chosen"]]
    assert report["model"] == "sizing"
    assert report["demand_covered"] >= 0.6 * 302 - 1e-6
    for column in ("chargers", "chargers_required", "wait_probability", "queue_target_met"):
        assert column in sites.columns
    assert report["chargers_total"] == chosen["chargers"].sum()
    assert report["cost_eur"]["total"] == pytest.approx(
        chosen["site_cost_eur"].sum() + 1000 * chosen["chargers"].sum()
    )
    assert report["objective"] == pytest.approx(report["cost_eur"]["total"])
    assert report["status"] == "optimal"
    assert set(chosen["site_id"]) == {"B", "C", "E", "F"}
