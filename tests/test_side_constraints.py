"""Scenario side constraints turned into rows over a hand-made site table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.errors import InputError
from planner.pipeline.constraints import brand_mask, opening_cost, site_constraints
from planner.scenario.schema import load_scenario

SITES = pd.DataFrame(
    {
        "site_id": ["a", "b", "c", "d"],
        "brands": ["Renault", "Nissan;Renault", "Renault", "Nissan"],
        "country": ["FR", "FR", "BE", "BE"],
        "site_cost_eur": [np.nan, 100_000.0, np.nan, np.nan],
    }
)


def test_brand_mask_counts_dual_brand_sites_for_both() -> None:
    assert brand_mask(SITES, "Nissan").tolist() == [False, True, False, True]
    assert brand_mask(SITES, "Renault").tolist() == [True, True, True, False]


def test_opening_cost() -> None:
    scenario = load_scenario(None)
    # Default site cost 250,000 unless the file says otherwise, plus 2 × 150,000.
    assert opening_cost(SITES, scenario).tolist() == [550_000, 400_000, 550_000, 550_000]


def test_rows_from_scenario() -> None:
    scenario = load_scenario(
        None,
        overrides=[
            "constraints.budget_eur=1000000",
            "constraints.brand_min_share={Nissan = 0.5}",
            "constraints.country_max_sites={FR = 1}",
        ],
    )
    rows = site_constraints(SITES, scenario)
    assert rows.names == (
        "budget ≤ 1,000,000 EUR",
        "Nissan share of chosen sites ≥ 50 %",
        "FR sites ≤ 1",
    )
    assert rows.satisfied([1, 3]) == []  # 950,000 EUR, both Nissan, one French
    assert rows.satisfied([0, 1]) == ["FR sites ≤ 1"]  # one Nissan of two is 50 %
    assert rows.satisfied([0, 2]) == [  # 1,100,000 EUR and no Nissan site
        "budget ≤ 1,000,000 EUR",
        "Nissan share of chosen sites ≥ 50 %",
    ]


def test_proportional_brand_share() -> None:
    scenario = load_scenario(None, overrides=["constraints.brand_share_proportional=1.0"])
    rows = site_constraints(SITES, scenario)
    # Nissan is on 2 of 4 candidate sites, Renault on 3 of 4.
    assert rows.names == (
        "Nissan share of chosen sites ≥ 50 %",
        "Renault share of chosen sites ≥ 75 %",
    )


def test_unknown_brand_is_a_scenario_error() -> None:
    # Dacia is a Renault-group brand, but the constraints speak of the harmonised brands.
    with pytest.raises(InputError) as info:
        load_scenario(None, overrides=["constraints.brand_min_share={Dacia = 0.2}"])
    assert "unknown brand(s) 'Dacia'; the brands are Nissan and Renault" in str(info.value)
    assert "constraints" in str(info.value)


def test_brand_and_country_without_candidates_are_input_errors() -> None:
    scenario = load_scenario(
        None,
        overrides=[
            "constraints.brand_min_share={Nissan = 0.2}",
            "constraints.country_min_sites={DE = 2}",
        ],
    )
    only_renault = SITES.assign(brands="Renault")
    with pytest.raises(InputError) as info:
        site_constraints(only_renault, scenario)
    messages = [str(p) for p in info.value.problems]
    assert messages == [
        "scenario, field 'constraints.brand_min_share': brand 'Nissan' has no candidate site "
        "(brands: Renault)",
        "scenario, field 'constraints.country_min_sites': country 'DE' has no candidate site",
    ]
