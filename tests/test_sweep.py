"""Sweeps without a cluster: the grid and the draws, the tables, the journal, the map, bad input."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.errors import InputError
from planner.maps.assets import loaded_resources
from planner.maps.data import BRAND_COLOURS, DUAL_BRAND_COLOUR, OTHER_BRAND_COLOURS
from planner.maps.robustness_map import BANDS, NO_REGRET_COLOUR, render_robustness_map
from planner.maps.script import MAP_CSS
from planner.outputs.sweep_runs import RunJournal, runs_folder
from planner.pipeline.load import load_inputs
from planner.pipeline.sweep import SweepResult
from planner.pipeline.sweep_figure import sweep_figure
from planner.pipeline.sweep_spec import draw_samples, parse_grid, sweep_spec
from planner.pipeline.sweep_tables import robustness_table
from planner.pipeline.sweep_tasks import RunResult, reach_for, run_inputs, solve_run
from planner.scenario.build import scenario_from
from planner.scenario.schema import Distribution, Scenario, load_scenario
from tests.test_api import _tiny
from tests.test_cli import _run

BEV_LU = "demand.sessions.by_country.LU.bev_share_of_fleet"


def _uncertain(folder: Path) -> Scenario:
    raw = _tiny(folder)
    raw["uncertainty"] = {
        BEV_LU: {"dist": "triangular", "low": 0.03, "mode": 0.05, "high": 0.1},
        "model.p": {"dist": "uniform", "low": 1, "high": 3},
    }
    return scenario_from(raw)


def test_grid_values_are_read_as_set_reads_them() -> None:
    grid = parse_grid(
        [
            "model.p=1,2, 3",
            "model.name=max_coverage,p_median",
            'demand.countries=["LU"],["LU","BE"]',
        ]
    )
    assert grid == {
        "model.p": [1, 2, 3],
        "model.name": ["max_coverage", "p_median"],
        "demand.countries": [["LU"], ["LU", "BE"]],
    }
    for bad, message in (
        ("model.p=", "gives no values"),
        # Before: the gap was dropped and 1 and 2 swept without a word.
        ("model.p=1,,2", "'1,,2' has an empty value between commas"),
        ("model.name=a,,b", "'a,,b' has an empty value between commas"),
        ("model.p", "not of the form"),
        ("=1,2", "not of the form"),
    ):
        with pytest.raises(InputError, match=message):
            parse_grid([bad])
    with pytest.raises(InputError, match="given twice"):
        parse_grid(["model.p=1", "model.p=2"])


def test_runs_are_the_product_of_the_grid_with_common_draws(tmp_path: Path) -> None:
    scenario = _uncertain(tmp_path)
    spec = sweep_spec(scenario, grid={"travel.radius_km": [10, 20]}, samples=4, seed=7)
    assert len(spec.runs) == 8
    assert spec.parameters == ["travel.radius_km", BEV_LU, "model.p"]
    assert [run.values["travel.radius_km"] for run in spec.runs] == [10] * 4 + [20] * 4
    # The same draws at every grid point, and whole numbers for model.p.
    first = [run.values[BEV_LU] for run in spec.runs[:4]]
    assert first == [run.values[BEV_LU] for run in spec.runs[4:]]
    assert all(0.03 <= v <= 0.1 for v in first)
    assert all(isinstance(run.values["model.p"], int) for run in spec.runs)
    assert all(run.scenario.model.p == run.values["model.p"] for run in spec.runs)
    assert spec.runs[5].scenario.travel.radius_km == 20.0
    # Draws depend on the seed only; ids on the resolved scenario.
    again = sweep_spec(scenario, grid={"travel.radius_km": [10, 20]}, samples=4, seed=7)
    assert [r.run_id for r in again.runs] == [r.run_id for r in spec.runs]
    other = sweep_spec(scenario, grid={"travel.radius_km": [10, 20]}, samples=4, seed=8)
    assert [r.values for r in other.runs] != [r.values for r in spec.runs]


def test_bad_sweeps_are_refused_naming_the_option_or_field(tmp_path: Path) -> None:
    scenario = _uncertain(tmp_path)
    plain = scenario.model_copy(update={"uncertainty": {}})
    cases = [
        (lambda: sweep_spec(scenario, grid={"model.pp": [1]}), "^grid, .*did you mean 'model.p'"),
        (lambda: sweep_spec(scenario, grid={"model.p": [0, 1]}), "0 is refused"),
        (lambda: sweep_spec(scenario, grid={"model.p": []}), "gives no values"),
        # Before: solved twice, and counted twice in the sites' robustness shares.
        (lambda: sweep_spec(scenario, grid={"model.p": [1, 2, 1]}), "^grid, .*1 is given twice$"),
        # Before: 50 and 50.0 passed, two runs of one id.
        (
            lambda: sweep_spec(scenario, grid={"travel.radius_km": [50, 20, 50.0]}),
            r"^grid, field 'travel.radius_km': 50.0 is given twice \(as 50 and 50.0\)$",
        ),
        (lambda: sweep_spec(scenario), "^sweep: nothing to sweep: give a grid"),
        (lambda: sweep_spec(plain, samples=3), "declares no \\[uncertainty\\]"),
        # Before: numpy's "expected non-negative integer", exit 1.
        (lambda: sweep_spec(scenario, samples=2, seed=-5), "^seed: must be 0 or more"),
        (lambda: sweep_spec(scenario, samples=None), "^samples: must be a whole number"),  # type: ignore[arg-type]
        # Before: a million runs built and checked one by one, with no word for minutes.
        (
            lambda: sweep_spec(scenario, grid={"model.p": [1, 2]}, samples=60_000),
            "120,000 runs asked for; at most 100,000",
        ),
        # Before: accepted, and the sweep's summary used its own share all the same.
        (
            lambda: sweep_spec(scenario, grid={"sweep.no_regret_share": [0.5]}),
            "is a setting of the sweep itself",
        ),
    ]
    for call, message in cases:
        with pytest.raises(InputError, match=message):
            call()


def test_a_field_swept_and_also_set_or_drawn_is_refused(tmp_path: Path) -> None:
    # Before: the grid's value replaced the override's, and a draw replaced
    # both, in every run without a word.
    import planner

    raw = _tiny(tmp_path)
    drawn = _uncertain(tmp_path)
    cases = [
        (
            lambda: planner.sweep(raw, grid={"model.p": [1, 2]}, overrides={"model.p": 3}),
            "grid, field 'model.p': is also set by an override; either sweep the field or set it",
        ),
        (
            lambda: planner.sweep(raw, grid={"model.p": [1, 2]}, overrides=["model={p = 3}"]),
            "grid, field 'model.p': is also set by an override ('model')",
        ),
        (
            lambda: planner.sweep(raw, grid={"solver.time_limit_s": [1, 2]}, time_limit=4),
            "grid, field 'solver.time_limit_s': is also set by an override",
        ),
        (
            lambda: planner.sweep(drawn, grid={"model.p": [1, 2]}, samples=2),
            "grid, field 'model.p': is also drawn from [uncertainty]; either sweep the field "
            "or draw it",
        ),
        (
            lambda: planner.sweep(drawn, grid={"travel.radius_km": [9]}, overrides={"model.p": 2}),
            None,  # no draws: the override is the value of every run
        ),
        (
            lambda: planner.sweep(drawn, overrides={"model.p": 2}, samples=2),
            "overrides: 'model.p' is also drawn from [uncertainty] ('model.p')",
        ),
    ]
    for call, message in cases:
        if message is None:
            assert len(call().table) == 1
            continue
        with pytest.raises(InputError) as caught:
            call()
        assert str(caught.value).startswith(message), str(caught.value)


@pytest.mark.parametrize(
    ("distribution", "message"),
    [
        ({"dist": "uniform", "low": 0.2, "high": 0.1}, "low.*0.2 is above high = 0.1"),
        ({"dist": "triangular", "low": 0.1, "high": 0.2}, "triangular needs mode"),
        ({"dist": "triangular", "low": 0.1, "mode": 0.3, "high": 0.2}, "mode"),
        ({"dist": "choice", "values": []}, "at least one value"),
        ({"dist": "normal", "mean": 0.1, "sd": 0.0}, "greater than 0"),
        ({"dist": "lognormal", "low": 1, "high": 2}, "dist"),
        # Before: every draw was exactly 200, unsaid.
        ({"dist": "normal", "mean": 50, "sd": 8, "low": 200}, "mean': 50 lies below low = 200"),
        # Before: numpy's OverflowError and ValueError, exit 1.
        ({"dist": "uniform", "low": -1e308, "high": 1e308}, "wider than a number can hold"),
        (
            {"dist": "choice", "values": [1, 2], "weights": [1e308, 1e308]},
            "their sum is more than a number can hold",
        ),
    ],
)
def test_bad_distributions_are_refused(distribution: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_scenario(values={"uncertainty": {BEV_LU: distribution}})


def test_uncertainty_keys_must_name_fields() -> None:
    with pytest.raises(InputError, match=r"'model.pp' is not a field.*did you mean 'model.p'"):
        load_scenario(
            values={"uncertainty": {"model.pp": {"dist": "uniform", "low": 1, "high": 2}}}
        )
    with pytest.raises(InputError, match=r"'demand.sessions' is a section"):
        load_scenario(
            values={"uncertainty": {"demand.sessions": {"dist": "uniform", "low": 1, "high": 2}}}
        )


def test_a_draw_a_field_refuses_stops_the_sweep(tmp_path: Path) -> None:
    raw = _tiny(tmp_path)
    raw["uncertainty"] = {BEV_LU: {"dist": "normal", "mean": 0.0, "sd": 0.5}}
    with pytest.raises(InputError, match=r"drawn value is refused.*bound the distribution"):
        sweep_spec(scenario_from(raw), samples=20)
    # A choice has no bounds to give: the hint is not for it.
    raw["uncertainty"] = {"model.p": {"dist": "choice", "values": [0, 1]}}
    with pytest.raises(InputError) as caught:
        sweep_spec(scenario_from(raw), samples=20)
    assert "drawn value is refused" in str(caught.value)
    assert "bound the distribution" not in str(caught.value)


def test_a_run_takes_its_own_sessions_and_reports_failure_as_a_row(tmp_path: Path) -> None:
    scenario = scenario_from(_tiny(tmp_path))
    inputs = load_inputs(scenario)
    reach = reach_for(inputs, scenario)
    same = run_inputs(inputs, reach, scenario)
    assert np.allclose(same.demand["weight"], inputs.demand["weight"])
    assert (same.reach != inputs.reach).nnz == 0
    doubled = scenario_from(scenario, overrides={BEV_LU: 2 * 0.051})
    more = run_inputs(inputs, reach, doubled)
    ratio = more.demand["weight"].to_numpy() / inputs.demand["weight"].to_numpy()
    assert np.allclose(ratio, ratio[0]) and ratio[0] != pytest.approx(1.0)

    result = solve_run("a" * 16, scenario, inputs, reach)
    assert result.status == "optimal" and len(result.site_ids) == 2
    assert result.chargers_total == sum(result.chargers)
    impossible = scenario_from(scenario, overrides={"constraints.country_min_sites": {"LU": 4}})
    failed = solve_run("b" * 16, impossible, inputs, reach)
    assert failed.status == "infeasible" and "at least 4 sites" in failed.message
    assert not failed.solved and failed.site_ids == ()


def _result(run_id: str, sites: dict[str, int], status: str = "optimal") -> RunResult:
    return RunResult(
        run_id=run_id,
        status=status,
        coverage_pct=50.0 if sites else None,
        site_ids=tuple(sites),
        chargers=tuple(sites.values()),
    )


SITES = pd.DataFrame(
    {
        "site_id": ["A", "B", "C", "D"],
        "name": ["=HYPERLINK(1)", "<b>B</b> & Fils", "C", "D"],
        "brands": ["Renault", "Nissan", "Nissan;Renault", "Renault"],
        "country": ["LU"] * 4,
        "lon": [6.1, 6.0, 6.2, 5.9],
        "lat": [49.6, 49.5, 49.8, 49.9],
        "n_dealers": [1, 1, 2, 1],
        "excluded": [False] * 4,
    }
)


def test_robustness_counts_the_runs_with_a_plan() -> None:
    results = [
        _result("1", {"A": 2, "B": 3}),
        _result("2", {"A": 4, "C": 2}),
        _result("3", {"A": 3, "B": 2}),
        _result("4", {"A": 2, "B": 2}),
        _result("5", {}, status="infeasible"),
    ]
    table = robustness_table(SITES, results, no_regret_share=0.75).set_index("site_id")
    assert list(table.index) == ["A", "B", "C", "D"]
    assert table.loc["A", "runs_chosen"] == 4 and table.loc["A", "share_chosen"] == 1.0
    assert table.loc["B", "share_chosen"] == 0.75 and bool(table.loc["B", "no_regret"])
    assert not bool(table.loc["C", "no_regret"]) and table.loc["D", "runs_chosen"] == 0
    assert table.loc["A", "chargers_mean"] == pytest.approx(2.75)
    assert (table.loc["A", "chargers_min"], table.loc["A", "chargers_max"]) == (2, 4)
    assert table["chargers_min"].isna()["D"]


def test_journal_keeps_runs_and_refuses_to_drop_them(tmp_path: Path) -> None:
    target = tmp_path / "out"
    journal = RunJournal.open(target, resume=False)
    # Nothing on disk before the first run: a sweep refused before it leaves nothing.
    assert not runs_folder(target).exists()
    record = _result("0123456789abcdef", {"A": 2}).record()
    journal.record("0123456789abcdef", record)
    assert runs_folder(target).is_dir()
    with pytest.raises(InputError, match=r"left 1 finished run.*--resume"):
        RunJournal.open(target, resume=False)
    again = RunJournal.open(target, resume=True)
    kept = again.finished()
    assert RunResult.from_record(kept["0123456789abcdef"]) == _result("0123456789abcdef", {"A": 2})
    again.remove()
    assert not runs_folder(target).exists()


def _synthetic_sweep(tmp_path: Path) -> SweepResult:
    scenario = _uncertain(tmp_path)
    spec = sweep_spec(scenario, grid={"travel.radius_km": [10, 20]}, samples=2)
    results = [
        _result(run.run_id, {"A": 2, "B": 3} if i % 2 else {"A": 4, "C": 2})
        for i, run in enumerate(spec.runs)
    ]
    return SweepResult(spec=spec, results=tuple(results), sites=SITES, seconds=1.0, workers=2)


def test_robustness_map_is_offline_and_escapes_names(tmp_path: Path) -> None:
    result = _synthetic_sweep(tmp_path)
    assert result.no_regret == ["A"]
    page = render_robustness_map(result, sweep_png=result.png())
    assert [u for u in loaded_resources(page) if not u.startswith("data:")] == []
    assert "<b>B</b>" not in page
    assert "noregret" in page and "planner-sweep-plot" in page
    assert "No-regret sites (≥ 90 %)" in page
    summary = result.summary
    assert summary["runs"] == 4 and summary["no_regret_sites"] == ["A"]
    assert summary["coverage_pct"]["median"] == 50.0
    json.dumps(summary, allow_nan=False)


def test_sweep_marker_colours_stand_apart_from_the_brand_dots() -> None:
    # The never-chosen sites are dots of their brand's colour on the same map;
    # zoomed out, a marker shrinks to a dot too, so a band of Nissan's sky blue
    # (#6baed6 against #56b4e9) read as a Nissan dealer, and the darkest as a
    # third brand's blue (#2171b5 against #0072b2).
    def rgb(colour: str) -> np.ndarray:
        return np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)], dtype=float)

    markers = [colour for *_, colour in BANDS] + [NO_REGRET_COLOUR]
    for word, *_, colour in BANDS:
        assert f".planner-site-{word} .planner-site-dot {{ background: {colour};" in MAP_CSS
    assert f".planner-site-noregret .planner-site-dot {{ background: {NO_REGRET_COLOUR};" in MAP_CSS
    dots = [*BRAND_COLOURS.values(), *OTHER_BRAND_COLOURS, DUAL_BRAND_COLOUR]
    for dot in dots:
        for marker in markers:
            assert np.linalg.norm(rgb(marker) - rgb(dot)) > 60, (dot, marker)


def test_cli_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dealers.csv").write_text(
        "dealer_id,brand,name,country,lon,lat\nR1,Renault,A,LU,6.13,49.6\n", encoding="utf-8"
    )
    head = 'name = "s"\n[[dealers.files]]\npath = "dealers.csv"\n[demand]\ncountries = ["LU"]\n'
    scenario = tmp_path / "s.toml"
    scenario.write_text(head, encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        head + '[uncertainty]\n"travel.radius_km" = {dist = "uniform", low = 60, high = 40}\n',
        encoding="utf-8",
    )
    out = str(tmp_path / "out")
    cases = [
        ([str(scenario), "--grid", "model.pp=1,2"], "did you mean 'model.p'"),
        ([str(scenario), "--grid", "model.p="], "gives no values"),
        ([str(bad), "--samples", "3"], "low'.*60 is above high = 40"),
        # The API names its arguments; the command its options.
        ([str(scenario), "--grid", "model.pp=1,2"], "error: --grid, field 'model.pp'"),
        ([str(scenario), "--grid", "model.p=1", "--seed", "-5"], "error: --seed: must be 0"),
        ([str(scenario)], "error: planner sweep: nothing to sweep"),
        # Before: the grid's value replaced --set's in every run, unsaid.
        (
            [str(scenario), "--grid", "model.p=1,2", "--set", "model.p=3"],
            "error: --grid, field 'model.p': is also set by an override",
        ),
        (
            [str(bad.with_name("drawn.toml")), "--set", "travel.radius_km=9", "--samples", "2"],
            "error: --set: 'travel.radius_km' is also drawn from",
        ),
    ]
    (tmp_path / "drawn.toml").write_text(
        head + '[uncertainty]\n"travel.radius_km" = {dist = "uniform", low = 40, high = 60}\n',
        encoding="utf-8",
    )
    for args, message in cases:
        code, _, stderr = _run(["sweep", *args, "--out", out], capsys)
        assert code == 2, stderr
        assert len(stderr.strip().splitlines()) == 1, stderr
        assert re.search(message, stderr), stderr
    start = time.perf_counter()
    code, _, stderr = _run(
        [
            "sweep",
            str(scenario),
            "--out",
            out,
            "--grid",
            "model.p=1",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
        capsys,
    )
    assert code == 2 and "cannot reach a Dask scheduler" in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert time.perf_counter() - start < 20
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("values", [[1e308], [-1e308], [1.7e308, 1.79e308], [1e308, 5.0]])
def test_sweep_figure_draws_values_near_the_largest_float(values: list[float]) -> None:
    # Before: a grid of travel.max_minutes=1e308 solved every run, then
    # drawing sweep.png failed ("arange: cannot compute length"), so the sweep
    # could neither finish nor be resumed.
    table = pd.DataFrame({"travel.max_minutes": values, "coverage_pct": 50.0})
    figure = sweep_figure(table, ["travel.max_minutes"], title="huge values")
    figure.savefig(io.BytesIO(), format="png")
    labels = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
    assert labels == list(dict.fromkeys(str(value) for value in values))


@pytest.mark.parametrize(
    ("mean", "sd", "low", "high"),
    [
        (50.0, 8.0, 40.0, 55.0),  # both bounds within reach
        (50.0, 1e7, 30.0, 80.0),  # sd far wider than the bounds: nearly uniform
        (5.0, 1e308, 1.0, 10.0),  # the widest sd there is
        (0.05, 0.02, 0.05, None),  # one bound, at the mean
        (0.0, 1.0, -1e-3, 8.0),  # far in the upper tail
    ],
)
def test_bounded_normal_draws_follow_the_truncated_distribution(
    mean: float, sd: float, low: float, high: float | None
) -> None:
    # Before: a draw gave up after 10,000 values outside the bounds and took
    # the mean, so with sd 1e7 between 30 and 80 every run drew exactly 50.
    from scipy.stats import truncnorm

    field = "travel.max_minutes"
    bounds = {"low": low} | ({} if high is None else {"high": high})
    dist = Distribution.model_validate({"dist": "normal", "mean": mean, "sd": sd, **bounds})
    draws = np.array([run[field] for run in draw_samples({field: dist}, 4000, seed=7)])
    upper = np.inf if high is None else high
    assert draws.min() >= low and draws.max() <= upper
    a, b = (low - mean) / sd, (upper - mean) / sd
    if b - a < 1e-3:  # scipy's moments lose precision here; the uniform limit is exact enough
        expected_mean, expected_sd = (low + upper) / 2, (upper - low) / np.sqrt(12)
    else:
        expected_mean, expected_sd = truncnorm.stats(a, b, loc=mean, scale=sd, moments="mv")
        expected_sd = np.sqrt(expected_sd)
    # 4,000 draws: the sample mean lies within 4 standard errors of the expectation.
    assert abs(draws.mean() - expected_mean) < 4 * expected_sd / np.sqrt(len(draws))
    assert draws.std() == pytest.approx(expected_sd, rel=0.06)
