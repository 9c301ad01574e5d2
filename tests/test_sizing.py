"""Queueing-based charger sizing: Erlang B/C against published values, stability, sizing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from planner.optimise.sizing.queueing import (
    capacity_per_charger,
    chargers_needed,
    chargers_within_grid,
    erlang_b,
    erlang_c,
    max_arrivals_per_hour,
    mean_wait_min,
    offered_load,
    peak_hour_arrivals,
)


def _load_at_blocking(servers: int, blocking: float) -> float:
    """The load a with B(servers, a) = blocking, by bisection (B increases with a)."""
    low, high = 0.0, 10.0 * servers + 10.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        if erlang_b(servers, middle) < blocking:
            low = middle
        else:
            high = middle
    return low


# Erlang B tables (grade of service → traffic in Erlangs for N circuits), as printed
# in V. B. Iversen, "Teletraffic Engineering and Network Planning", Technical
# University of Denmark, and in the ITU-D "Teletraffic Engineering Handbook" (2005):
# N=10: 4.46 E at 1 %, 5.08 E at 2 %; N=100: 84.06 E at 1 %, 87.97 E at 2 %;
# N=1: 0.0101 E at 1 %; N=5: 1.36 E at 1 %.
@pytest.mark.parametrize(
    ("servers", "blocking", "table_erlangs", "decimals"),
    [
        (1, 0.01, 0.0101, 4),
        (5, 0.01, 1.36, 2),
        (10, 0.01, 4.46, 2),
        (10, 0.02, 5.08, 2),
        (100, 0.01, 84.06, 2),
        (100, 0.02, 87.97, 2),
    ],
)
def test_erlang_b_matches_published_table(
    servers: int, blocking: float, table_erlangs: float, decimals: int
) -> None:
    assert round(_load_at_blocking(servers, blocking), decimals) == pytest.approx(table_erlangs)


def test_erlang_c_closed_forms() -> None:
    # M/M/1: P(wait) = ρ. M/M/2: P(wait) = 2ρ² / (1 + ρ) with ρ = a/2
    # (L. Kleinrock, Queueing Systems Vol. 1, 1975, §3.5): a = 1 gives 1/3.
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0)
    # Wolfram Language documentation, ErlangC, basic example: ErlangC[3, 2] = 4/9.
    assert erlang_c(3, 2.0) == pytest.approx(4.0 / 9.0)


def test_erlang_c_textbook_example() -> None:
    # 120 customers/hour, 3 minutes each, 10 servers (a = 6 Erlangs): "from the
    # Erlang C curve, it follows that the probability of waiting is about 0.10"
    # (the printed solution of a standard M/M/m textbook exercise).
    assert erlang_c(10, offered_load(120, 3.0)) == pytest.approx(0.10, abs=0.005)


def test_erlang_c_call_centre_example() -> None:
    # Mitan Ltd, "The Erlang-C formula" worked example: 360 calls per half hour,
    # 4-minute calls, 55 agents → traffic 48 Erlangs, average speed of answer
    # 8.2 s, service level 84.6 % of calls answered within 15 s.
    arrivals_per_hour = 720.0
    asa_s = 60.0 * float(mean_wait_min(55, arrivals_per_hour, 4.0))
    assert asa_s == pytest.approx(8.2, abs=0.05)
    wait = float(erlang_c(55, offered_load(arrivals_per_hour, 4.0)))
    service_level = 1.0 - wait * math.exp(-(55 - 48) * 15.0 / 240.0)
    assert service_level == pytest.approx(0.846, abs=0.0005)


def test_erlang_c_edges() -> None:
    assert erlang_c(0, 0.0) == 0.0
    assert erlang_c(0, 1.0) == 1.0
    assert erlang_c(5, 0.0) == 0.0
    assert erlang_c(5, 5.0) == 1.0
    assert erlang_c(5, 7.5) == 1.0
    np.testing.assert_allclose(erlang_c([1, 2, 3], [0.5, 1.0, 2.0]), [0.5, 1 / 3, 4 / 9])
    with pytest.raises(ValueError, match="non-negative"):
        erlang_c(-1, 1.0)
    with pytest.raises(ValueError, match="whole"):
        erlang_c(1.5, 1.0)


@pytest.mark.parametrize("load", [50.0, 400.0, 1000.0, 2500.0])
def test_erlang_stable_for_large_loads(load: float) -> None:
    # Hundreds of sessions per hour give hundreds of Erlangs; a factorial form
    # overflows near 170. Compare with the Poisson form B = pmf(c)/cdf(c),
    # which scipy evaluates in log space.
    servers = np.arange(int(load) - 20, int(load) + 4 * int(math.sqrt(load)), 7)
    reference = stats.poisson.pmf(servers, load) / stats.poisson.cdf(servers, load)
    got = erlang_b(servers, load)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, reference, rtol=1e-9)
    wait = erlang_c(servers, load)
    assert np.all((wait >= 0) & (wait <= 1))
    assert np.all(np.diff(wait[servers > load]) < 0)


def test_chargers_needed_large_load_follows_square_root_staffing() -> None:
    # Halfin–Whitt: c ≈ a + β√a with P(wait) ≈ [1 + β Φ(β)/φ(β)]⁻¹; β ≈ 0.8 for 20 %.
    arrivals = 1500.0  # sessions per hour at a very large hub network aggregate
    load = float(offered_load(arrivals, 20.0))
    result = chargers_needed(arrivals, 20.0, max_wait_probability=0.2)
    beta = (int(result.chargers) - load) / math.sqrt(load)
    approx = 1.0 / (1.0 + beta * stats.norm.cdf(beta) / stats.norm.pdf(beta))
    assert approx == pytest.approx(0.2, abs=0.02)
    assert float(result.wait_probability) <= 0.2
    assert float(erlang_c(int(result.chargers) - 1, load)) > 0.2


def test_chargers_needed_is_least_count() -> None:
    arrivals = np.array([0.0, 0.5, 3.0, 12.0, 40.0, 250.0])
    result = chargers_needed(arrivals, 20.0, max_wait_probability=0.2)
    load = offered_load(arrivals, 20.0)
    assert result.chargers.shape == arrivals.shape
    assert result.chargers[0] == 0
    for c, a in zip(result.chargers, load, strict=True):
        assert erlang_c(c, a) <= 0.2
        if c > 0:
            assert erlang_c(c - 1, a) > 0.2
    assert not result.capped.any()
    np.testing.assert_array_equal(result.chargers, result.required)


def test_chargers_needed_hand_computed() -> None:
    # a = 2.5 Erlangs (30/h × 5 min): C(5, 2.5) = 0.130 > 0.1, C(6, 2.5) = 0.047.
    result = chargers_needed(30.0, 5.0, max_wait_probability=0.1)
    assert int(result.chargers) == 6
    assert float(result.wait_probability) == pytest.approx(0.0474, abs=1e-4)


def test_chargers_needed_cap_and_minimum() -> None:
    result = chargers_needed(
        [30.0, 30.0, 0.0], 5.0, max_wait_probability=0.1, max_chargers=[4, 10, 3], min_chargers=1
    )
    np.testing.assert_array_equal(result.chargers, [4, 6, 1])
    np.testing.assert_array_equal(result.required, [6, 6, 1])
    np.testing.assert_array_equal(result.capped, [True, False, False])
    np.testing.assert_array_equal(result.target_met, [False, True, True])
    assert result.wait_probability[0] == pytest.approx(float(erlang_c(4, 2.5)))
    overloaded = chargers_needed(30.0, 5.0, max_wait_probability=0.1, max_chargers=2)
    assert float(overloaded.wait_probability) == 1.0


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="max_wait_probability"):
        chargers_needed(1.0, 20.0, max_wait_probability=0.0)
    with pytest.raises(ValueError, match="mean_session_min"):
        chargers_needed(1.0, 0.0, max_wait_probability=0.2)
    with pytest.raises(ValueError, match="arrivals_per_hour"):
        chargers_needed(-1.0, 20.0, max_wait_probability=0.2)
    with pytest.raises(ValueError, match="peak_hour_share"):
        peak_hour_arrivals(10.0, peak_hour_share=1.5)


def test_peak_hour_arrivals() -> None:
    np.testing.assert_allclose(peak_hour_arrivals([100.0, 0.0], peak_hour_share=0.1), [10.0, 0])


def test_max_arrivals_and_capacity_per_charger() -> None:
    # M/M/1 at P* = 0.2 and 20-minute sessions: ρ = 0.2 → 0.6 sessions/hour.
    np.testing.assert_allclose(
        max_arrivals_per_hour([0, 1], 20.0, max_wait_probability=0.2), [0.0, 0.6], atol=1e-9
    )
    per_charger = [
        capacity_per_charger(20.0, max_wait_probability=0.2, reference_chargers=c)
        for c in (1, 2, 4, 8, 16)
    ]
    # Pooling: a larger site takes more per charger, never beyond 3 sessions/hour (ρ < 1).
    assert np.all(np.diff(per_charger) > 0)
    assert per_charger[-1] < 3.0
    limit = max_arrivals_per_hour(4, 20.0, max_wait_probability=0.2)
    assert float(erlang_c(4, offered_load(limit, 20.0))) == pytest.approx(0.2, abs=1e-9)


def test_chargers_within_grid() -> None:
    got = chargers_within_grid([700.0, 1000.0, np.nan, 0.0], charger_power_kw=350.0)
    assert got[0] == 2 and got[1] == 2 and got[3] == 0
    assert got[2] > 10**9
    capped = chargers_within_grid(
        [700.0, np.nan], charger_power_kw=350.0, max_chargers=np.array([1, 6])
    )
    np.testing.assert_array_equal(capped, [1, 6])


def test_capacity_line_is_exact_at_the_least_counts_and_safe_above() -> None:
    from planner.optimise.sizing.queueing import capacity_line

    per_charger, per_site = capacity_line(
        20.0, max_wait_probability=0.2, least_chargers=2, most_chargers=40
    )
    counts = np.arange(2, 41)
    exact = max_arrivals_per_hour(counts, 20.0, max_wait_probability=0.2)
    line = per_site + per_charger * counts
    np.testing.assert_allclose(line[:2], exact[:2], rtol=1e-9)
    assert np.all(line <= exact + 1e-9)
    assert per_site < 0
    # Sized by the line, every count meets the waiting target (Erlang C).
    assert np.all(erlang_c(counts, line * 20.0 / 60.0) <= 0.2 + 1e-9)


def _least_by_recursion(load: float, target: float) -> int:
    """The least count by running the B recursion from c = 1: the definition, slowly."""
    blocking, c = 1.0, 0
    while True:
        c += 1
        blocking = load * blocking / (c + load * blocking)
        if c > load and c * blocking / (c - load * (1 - blocking)) <= target:
            return c


@pytest.mark.parametrize("load", [499.0, 501.0, 2_000.0, 12_345.6, 60_000.0])
@pytest.mark.parametrize("target", [0.05, 0.2, 0.8])
def test_large_loads_are_sized_exactly(load: float, target: float) -> None:
    sized = chargers_needed([load * 3.0], 20.0, max_wait_probability=target)
    assert int(sized.required[0]) == _least_by_recursion(load, target)


def test_a_huge_load_is_sized_at_once_or_refused() -> None:
    import time

    from planner.optimise.sizing.queueing import MAX_LOAD

    start = time.perf_counter()
    sized = chargers_needed([3e11], 20.0, max_wait_probability=0.2)
    assert time.perf_counter() - start < 5.0
    # Square-root staffing: a + β√a with β of order one.
    assert 1e11 < int(sized.required[0]) < 1e11 + 10 * 1e11**0.5
    with pytest.raises(ValueError, match="beyond any charger plan"):
        chargers_needed([MAX_LOAD * 30.0], 20.0, max_wait_probability=0.2)
