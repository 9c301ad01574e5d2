"""report.json figures recomputed from the plan's tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from planner.optimise import Solution, Status
from planner.optimise.constraints import SiteRows
from planner.pipeline.report import build_report, side_constraints_met
from planner.scenario.schema import Scenario


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    sites = pd.DataFrame(
        {
            "site_id": ["a", "b", "c"],
            "brands": ["Renault", "Nissan;Renault", "Nissan"],
            "country": ["FR", "FR", "BE"],
            "chosen": [True, False, True],
            "chargers": [4, 0, 2],
        }
    )
    demand = pd.DataFrame(
        {
            "country": ["FR", "FR", "BE", "BE"],
            "population": [1000.0, 3000.0, 500.0, 500.0],
            "weight": [10.0, 30.0, 5.0, 5.0],
            "covered": [True, False, True, False],
        }
    )
    return sites, demand


def _report(**options: Any) -> dict[str, Any]:
    """The report of ``_tables``' plan (sites a and c open), proven optimal."""
    sites, demand = _tables()
    solution = Solution(
        model="max_coverage",
        sense="max",
        status=Status.OPTIMAL,
        objective=15.0,
        bound=15.0,
        seconds=0.1,
        open_sites=np.array([0, 2]),
        assignment=np.array([0, -1, 2, -1]),
    )
    return build_report(
        Scenario(),
        sites,
        demand,
        solution,
        inputs={"dealers": {"read": 4}},
        seconds={"solve": 0.1, "total": 1.5},
        **options,
    )


def test_report_figures_by_hand() -> None:
    report = _report()
    assert report["sites_selected"] == 2
    assert report["chargers_total"] == 6
    assert report["demand_total"] == 50.0
    assert report["demand_covered"] == 15.0
    assert report["coverage_pct"] == pytest.approx(30.0)
    assert report["population_covered"] == 1500.0
    assert report["status"] == "optimal"
    assert report["gap"] == 0.0
    assert report["by_country"] == [
        {
            "country": "BE",
            "sites": 1,
            "chargers": 2,
            "demand": 10.0,
            "covered": 5.0,
            "coverage_pct": 50.0,
        },
        {
            "country": "FR",
            "sites": 1,
            "chargers": 4,
            "demand": 40.0,
            "covered": 10.0,
            "coverage_pct": 25.0,
        },
    ]
    assert report["by_brand"] == [
        {"brand": "Nissan", "candidates": 2, "sites": 1, "chargers": 2, "share_of_sites_pct": 50.0},
        {
            "brand": "Renault",
            "candidates": 2,
            "sites": 1,
            "chargers": 4,
            "share_of_sites_pct": 50.0,
        },
    ]
    for key in (
        "scenario",
        "model",
        "objective",
        "bound",
        "solve_seconds",
        "total_seconds",
        "inputs",
    ):
        assert key in report


def test_queue_and_cost_figures() -> None:
    sites, demand = _tables()
    sites = sites.assign(
        chargers_required=[6, 0, 2],
        queue_target_met=[False, False, True],
        sessions_over_capacity=[12.5, 0.0, 0.0],
        site_cost_eur=[100.0, 100.0, 300.0],
    )
    solution = Solution(
        model="max_coverage",
        sense="max",
        status=Status.OPTIMAL,
        objective=15.0,
        bound=15.0,
        seconds=0.1,
        open_sites=np.array([0, 2]),
        assignment=np.array([0, -1, 2, -1]),
    )
    scenario = Scenario.model_validate({"constraints": {"budget_eur": 2_000_000.0}})
    report = build_report(
        scenario,
        sites,
        demand,
        solution,
        inputs={},
        seconds={"solve": 0.1, "total": 1.5},
        opening_cost=np.array([400_100.0, 400_100.0, 400_300.0]),
    )
    assert report["queue"]["sites_missing_target"] == 1
    assert report["queue"]["sites_meeting_target"] == 1
    assert report["queue"]["chargers_short"] == 2
    assert report["queue"]["sessions_over_capacity"] == 12.5
    assert report["chargers_required_total"] == 8
    # Sites 400 EUR, 6 chargers at 150,000 EUR; the budget counted 800,400 EUR.
    assert report["cost_eur"] == {
        "sites": 400.0,
        "chargers": 900_000.0,
        "total": 900_400.0,
        "budget": 2_000_000.0,
        "opening_cost_counted": 800_400.0,
    }
    # Max coverage with a budget and no p: the budget alone limits the sites.
    assert report["p"] is None


def test_side_constraints_met_at_the_chosen_sites() -> None:
    rows = SiteRows(
        sp.csr_matrix(np.array([[1.0, 1.0, 0.0], [-0.5, 0.5, 0.5], [0.0, 0.0, 1.0]])),
        np.array([1.0, 0.0, -np.inf]),
        np.array([1.0, np.inf, 0.0]),
        ("FR sites ≤ 1 and ≥ 1", "Nissan share ≥ 50 %", "BE sites ≤ 0"),
    )
    chosen = np.array([True, False, True])
    assert side_constraints_met(rows, chosen) == [
        {"constraint": "FR sites ≤ 1 and ≥ 1", "met": True, "at_limit": True},
        {"constraint": "Nissan share ≥ 50 %", "met": True, "at_limit": True},  # exactly at it
        {"constraint": "BE sites ≤ 0", "met": False, "at_limit": False},
    ]
    assert [row["met"] for row in _report(side=rows)["constraints"]] == [True, True, False]
    # With site 1 as well the share has room (one Nissan site fewer still makes 50 %).
    assert [row["at_limit"] for row in side_constraints_met(rows, np.ones(3, dtype=bool))] == [
        False,
        False,
        False,
    ]
    assert "constraints" not in _report()
