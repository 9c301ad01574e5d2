"""Side constraints as rows over the open sites, and their explanations."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp

from planner.errors import InfeasibleError
from planner.optimise.constraints import (
    SiteRows,
    budget_rows,
    caps_short_of_cover,
    combine,
    explain_infeasible,
    group_rows,
    no_site_rows,
)

NISSAN = np.array([True, False, False, True, False])
FRANCE = np.array([True, True, True, False, False])


def test_rows_by_hand() -> None:
    rows = combine(
        [
            budget_rows([1.0, 2.0, 3.0, 4.0, 5.0], 7.0),
            group_rows("Nissan", NISSAN, share=0.4),
            group_rows("FR", FRANCE, minimum=1, maximum=2),
        ],
        5,
    )
    assert len(rows) == 3
    assert rows.names == (
        "budget ≤ 7 EUR",
        "Nissan share of chosen sites ≥ 40 %",
        "FR sites ≥ 1 and ≤ 2",
    )
    # Sites 0 and 4: cost 6, one Nissan of two (50 %), one French site.
    assert rows.satisfied([0, 4]) == []
    # Sites 1 and 4: no Nissan site.
    assert rows.satisfied([1, 4]) == ["Nissan share of chosen sites ≥ 40 %"]
    # Sites 0, 1, 2: cost 6, but three French sites and 1/3 Nissan.
    assert rows.satisfied([0, 1, 2]) == [
        "Nissan share of chosen sites ≥ 40 %",
        "FR sites ≥ 1 and ≤ 2",
    ]
    # Sites 0 and 3 cost 5, both Nissan, one French; 0 and 4 plus 3 cost 10.
    assert rows.satisfied([0, 3]) == []
    assert rows.satisfied([0, 3, 4]) == ["budget ≤ 7 EUR"]


def test_rows_of_some_sites_judge_plans_of_those_sites_alike() -> None:
    rows = combine(
        [
            budget_rows([1.0, 2.0, 3.0, 4.0, 5.0], 7.0),
            group_rows("Nissan", NISSAN, share=0.4),
            group_rows("FR", FRANCE, minimum=1, maximum=2),
        ],
        5,
    )
    sites = np.array([0, 1, 2, 4])
    kept = rows.of_sites(sites)
    assert kept.n_sites == 4 and kept.names == rows.names
    for plan in ([0, 1], [0, 3], [1, 3], [0, 1, 2], [1, 2, 3], [2, 3]):
        assert kept.satisfied(plan) == rows.satisfied(sites[plan])


def test_rows_at_their_limit_are_those_one_site_fewer_or_more_would_break() -> None:
    rows = combine(
        [group_rows("Nissan", NISSAN, share=0.4), group_rows("FR", FRANCE, minimum=1, maximum=2)],
        5,
    )
    # One Nissan site of two, one French site: closing site 0 breaks both.
    assert rows.at_limit([0, 4]).tolist() == [True, True]
    # Two Nissan sites of three: one fewer (1 of 2) or one more other site (2 of 4) keeps 40 %.
    assert rows.at_limit([0, 3, 4]).tolist() == [False, True]
    # Two of four: one Nissan site fewer is 33 %; two French sites, the cap.
    assert rows.at_limit([0, 1, 3, 4]).tolist() == [True, True]
    # Broken rows are not at their limit: they are past it.
    assert rows.at_limit([0, 1, 2]).tolist() == [False, False]
    # Negative coefficients: opening a closed site, or closing an open one, lowers or raises too.
    signed = SiteRows(
        sp.csr_matrix(np.array([[-2.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]])),
        np.array([0.0, 0.0, -np.inf]),
        np.array([np.inf, np.inf, 0.0]),
        ("y2 ≥ 2 y0", "y2 ≥ y0", "y2 ≤ y0"),
    )
    # Site 2 open: opening site 0 breaks the first; the second has room; the third is broken.
    assert signed.at_limit([2]).tolist() == [True, False, False]
    # Sites 0 and 2: the first is broken; closing site 2 breaks the second, closing 0 the third.
    assert signed.at_limit([0, 2]).tolist() == [False, True, True]
    assert no_site_rows(3).at_limit([1]).size == 0


def test_excess_sums_how_far_outside_the_rows_a_plan_is() -> None:
    rows = combine(
        [group_rows("FR", FRANCE, minimum=1, maximum=2), group_rows("Nissan", NISSAN, minimum=1)],
        5,
    )
    assert rows.excess([0, 4]) == 0.0
    assert rows.excess([0, 1, 2]) == pytest.approx(1.0, abs=1e-5)  # one French site too many
    assert rows.excess([4]) == pytest.approx(2.0, abs=1e-5)  # no French site, no Nissan site
    assert no_site_rows(5).excess([0, 1]) == 0.0


def test_no_rows() -> None:
    rows = no_site_rows(4)
    assert len(rows) == 0
    assert rows.satisfied([0, 1, 2, 3]) == []


NONE = np.zeros(5, dtype=bool)


@pytest.mark.parametrize(
    ("rows", "p", "fixed", "excluded", "message"),
    [
        (
            group_rows("Nissan", NISSAN, share=0.5),
            6,
            NONE,
            NONE,
            "Nissan share of chosen sites ≥ 50 %: 6 sites need at least 3 sites of Nissan, "
            "but only 2 candidate sites carry Nissan",
        ),
        (
            budget_rows([1.0, 2.0, 3.0, 4.0, 5.0], 4.0),
            None,
            np.array([False, False, True, False, True]),
            NONE,
            "budget: the 2 fixed sites alone cost 8 EUR, above the budget of 4 EUR",
        ),
        (
            group_rows("FR", FRANCE, minimum=3),
            None,
            NONE,
            np.array([False, True, False, False, False]),
            "FR sites ≥ 3: only 2 candidate sites are in FR",
        ),
        (
            group_rows("FR", FRANCE, maximum=1),
            None,
            np.array([True, True, False, False, False]),
            NONE,
            "FR sites ≤ 1: 2 fixed sites are already in FR",
        ),
    ],
)
def test_infeasibility_is_named_with_numbers(
    rows: SiteRows,
    p: int | None,
    fixed: npt.NDArray[np.bool_],
    excluded: npt.NDArray[np.bool_],
    message: str,
) -> None:
    with pytest.raises(InfeasibleError) as info:
        explain_infeasible(rows, p=p, exact_p=True, fixed=fixed, excluded=excluded)
    assert str(info.value) == message


def test_feasible_counts_pass() -> None:
    rows = combine(
        [group_rows("Nissan", NISSAN, share=0.4), group_rows("FR", FRANCE, minimum=2)], 5
    )
    explain_infeasible(rows, p=5, exact_p=True, fixed=NONE, excluded=NONE)


def test_caps_short_of_cover_count_the_rows_only_the_group_reaches() -> None:
    # Sites 0-2 French. Rows 0 and 1 reach only site 0 and site 1 (stored zeros:
    # a travel cost of 0 is a pair), row 2 sites 1 and 2 (shares site 1 with row 1),
    # row 3 site 2 and the Belgian site 3 (not France's alone), row 4 nothing.
    reach = sp.csr_matrix((np.zeros(6), ([0, 1, 2, 2, 3, 3], [0, 1, 1, 2, 2, 3])), shape=(5, 5))
    assert reach.nnz == 6
    capped = combine(
        [group_rows("FR", FRANCE, maximum=1), group_rows("Nissan", NISSAN, share=0.4)], 5
    )
    (reason,) = caps_short_of_cover(capped, reach)
    assert reason.startswith("FR sites ≤ 1 cannot hold: 2 demand points reached only by FR")
    assert "no cap below 2 can work" in reason
    assert caps_short_of_cover(group_rows("FR", FRANCE, maximum=2), reach) == []
    assert caps_short_of_cover(group_rows("FR", FRANCE, minimum=3), reach) == []
