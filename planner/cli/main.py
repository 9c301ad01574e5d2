"""The ``planner`` command line: thin wrappers over the library.

Exit codes: 0 done; 2 bad input, scenario or command line (including an
``--out`` that is not a folder, or one another run is writing); 3 infeasible
scenario; 130 interrupted (Ctrl-C: nothing is written, an earlier output
stays as it was); 143 terminated (SIGTERM, handled like Ctrl-C: "terminated;
nothing written"); 1 anything else. Errors are one line naming the file, row
and field; ``--debug`` shows the traceback of unexpected errors.

This module imports no numerical library at import time: :func:`main` must
block SIGINT and SIGTERM before any thread starts (see
:mod:`planner.outputs.interrupt`). That module is imported first: a signal
while the rest loads is held for :func:`main` rather than printing a traceback.
"""

from __future__ import annotations

from planner.outputs.interrupt import (  # isort: split
    EXIT_INTERRUPTED,
    catching_interrupts,
    claim_report,
    interrupt_exit_code,
    interrupt_message,
    interrupted,
)

import codecs
import logging
import math
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from planner._files import path_argument, resolved, unreachable
from planner._text import one_line
from planner.cli._options import named_as_options, with_time_limit
from planner.cli._streams import consoles
from planner.cli.dealers import app as dealers_app
from planner.cli.routing import app as routing_app
from planner.cli.stages import Stages as _Stages
from planner.cli.sweep import sweep_command
from planner.errors import InputError, PlannerError, Problem
from planner.geodata import GEODATA_DIR
from planner.scenario.models import CAPACITY_MODEL, MODEL_TRAITS
from planner.scenario.schema import Scenario, load_scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Plan 800 V high-power chargers at Renault and Nissan dealer sites.",
    # Plain help, as click writes it: options with their metavars (--set KEY=VALUE),
    # no boxes and no type labels (<list[str]>); docstrings are the commands' help
    # and read as plain text.
    rich_markup_mode=None,
)
# Messages quote the users' own text (dealer names, cells): never read it as markup.
out, err = consoles()
app.add_typer(dealers_app, name="dealers")
app.add_typer(routing_app, name="routing")
app.command("sweep", short_help="Many runs on Dask: grid, uncertainty, no-regret sites.")(
    sweep_command
)

_debug = False

ScenarioArg = Annotated[
    Path | None,
    typer.Argument(
        help="Scenario TOML file; omit for the built-in default on the sample network.",
        metavar="SCENARIO.toml",
        show_default=False,
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override a scenario field by its dotted name: --set model.p=80 (repeatable).",
    ),
]
MapAssetsOption = Annotated[
    str,
    typer.Option(
        "--map-assets",
        metavar="inline|cdn",
        help="inline: the map needs no network (default); cdn: Leaflet linked from public "
        "CDNs at pinned versions, a smaller file that needs the network.",
    ),
]


def map_assets_mode(value: str) -> Literal["inline", "cdn"]:
    """The ``--map-assets`` value, checked."""
    if value not in ("inline", "cdn"):
        raise InputError(Problem("--map-assets", f"'{value}' is not one of: inline, cdn"))
    return "inline" if value == "inline" else "cdn"


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option(help="Show tracebacks of unexpected errors.")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Log each step.")] = False,
) -> None:
    global _debug
    _debug = debug
    handler = logging.StreamHandler()
    handler.setFormatter(_OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])


class _OneLineFormatter(logging.Formatter):
    """Log lines quote file names and headers: escape their control characters too.

    A warning reads as the command's own warnings do (``warning: …``); the
    steps ``--verbose`` logs keep the module that logged them.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.message)
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {record.message}"
        return super().formatMessage(record)


def output_folder(scenario: Scenario, out_dir: Path | None) -> Path:
    """Where a run writes: ``--out``, else the scenario's ``output.dir``, else ``maps/NAME``.

    A folder from the scenario file must lie inside the working folder: writing
    (and replacing) a folder elsewhere needs it named explicitly with ``--out``.
    Checked before any input is read (:func:`planner.outputs.folder.check_target`):
    a file, device, pipe or socket, the working folder, a mount point, a folder
    holding files planner did not write, one that cannot be created or one
    another run is writing is refused at once, not after the solve. The
    folder's lock is then held until the command ends.
    """
    from planner.outputs.folder import check_target
    from planner.pipeline.plan import default_output_folder

    return check_target(out_dir or default_output_folder(scenario), keep_lock=True, kind="plan")


@app.command(short_help="Optimise a scenario and write its plan folder.")
def run(
    scenario_file: ScenarioArg = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", metavar="DIR", help="Output folder (default maps/<scenario name>)."),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option("--time-limit", metavar="SECONDS", help="Solver time limit in seconds."),
    ] = None,
    overrides: SetOption = None,
    map_assets: MapAssetsOption = "inline",
) -> None:
    """Optimise a scenario and write map.html, sites.csv/.geojson, report.json, scenario.toml."""
    from planner.pipeline.api import run as run_plan

    extra = with_time_limit(overrides, time_limit)
    assets = map_assets_mode(map_assets)
    scenario = load_scenario(scenario_file, overrides=extra)
    target = output_folder(scenario, out_dir)
    with _Stages(err) as stages:
        plan = run_plan(scenario, progress=stages)
        for warned in _warning_lines(plan.report.get("inputs", {})):
            err.print(one_line(warned), soft_wrap=True)
        plan.save(target, on_stage=stages, map_assets=assets)
    line = _inputs_line(plan.report.get("inputs", {})) + _road_line(plan.report.get("travel"))
    out.print(one_line(line), soft_wrap=True)
    # The written report, whose times include rendering the map, as the stages above do.
    r = {**plan.report, **_written_times(target)}
    within = (r.get("sizing") or {}).get("coverage_of_reachable")
    # Sizing's target counts the demand within reach, not all of it.
    of_reach = "" if within is None else f" ({_figure(100 * within, '.2f')} % within reach)"
    out.print(
        f"{r['model']} {r['status']}: {r['sites_selected']} sites, "
        f"{r['chargers_total']} chargers, coverage {_figure(r.get('coverage_pct'), '.2f')} %"
        f"{of_reach} "
        f"(gap {_figure(r.get('gap'), '.2e')}, solve {_figure(r.get('solve_seconds'), '.1f')} s, "
        f"total {_figure(r.get('total_seconds'), '.1f')} s)",
        soft_wrap=True,
    )
    hint = time_limit_hint(r, scenario, sense=plan.solution.sense)
    if hint is not None:
        err.print(one_line(hint), soft_wrap=True)
    if r.get("sites_selected") == 0:
        err.print(
            "warning: the plan opens no site; the scenario's limits (a budget, p, country or "
            "brand maxima) or its inputs leave none worth opening",
            soft_wrap=True,
        )
    trips = r.get("trips") or {}
    if trips and not trips.get("trips_in_model") and not trips.get("served_per_day"):
        if trips.get("total_per_day"):
            reach = f" with model.range_km = {trips['range_km']:g}" if trips.get("range_km") else ""
            err.print(
                f"warning: none of the {trips.get('trips_unservable', 0):,} trips can be served "
                f"by any plan{reach}; the plan serves local demand only",
                soft_wrap=True,
            )
        else:
            err.print("warning: the scenario's trips add up to 0 a day", soft_wrap=True)
    p, candidates = r.get("p"), r.get("sites_candidates")
    if isinstance(p, int) and isinstance(candidates, int) and p > candidates:
        # Not an error: "as many as useful" is a fair question, but a mistyped p looks the same.
        named = "a phase's p" if scenario.constraints.phases else "model.p"
        err.print(
            f"note: {named} = {p:,} is more than the {candidates:,} candidate sites; "
            f"{r['sites_selected']:,} opened",
            soft_wrap=True,
        )
    if scenario.constraints.phases and scenario.model.p is not None:
        # Not refused: each phase's p decides, and a p beside them changes nothing.
        err.print(
            f"note: model.p = {scenario.model.p:,} is not used: with constraints.phases each "
            "phase's p or budget limits the sites",
            soft_wrap=True,
        )
    warning = queue_warning(r, scenario)
    if warning is not None:
        err.print(warning, soft_wrap=True)
    out.print(f"wrote {one_line(target)}", soft_wrap=True)


def queue_warning(report: dict[str, Any], scenario: Scenario) -> str | None:
    """The warning for chosen sites missing the queueing target, or ``None`` when none does.

    A roll-out's earlier years may miss it where its last year does not: their
    counts join the last year's, or make the warning alone.
    """
    queue = report.get("queue", {})
    by_year = [
        (row["year"], row.get("sites_missing_queue_target", 0))
        for row in report.get("phases") or []
    ]
    earlier = ", ".join(f"{count} in {year}" for year, count in by_year[:-1] if count)
    if not queue.get("sites_missing_target") and not earlier:
        return None
    if MODEL_TRAITS[scenario.model.name].within_capacity:
        hint = f"the linear capacity of {scenario.model.name} is meant to prevent this"
    elif scenario.constraints.phases:
        hint = (
            f"model.name = '{CAPACITY_MODEL}' plans within capacity, but for a single "
            "year only (without constraints.phases)"
        )
    else:
        hint = f"model.name = '{CAPACITY_MODEL}' plans within capacity"
    if not queue.get("sites_missing_target"):
        what = (
            f"chosen sites miss the queueing target in earlier years ({earlier}; see "
            "queue_target_met_<year> in sites.csv)"
        )
    else:
        when = f" in {by_year[-1][0]}" if by_year else ""
        what = (
            f"{queue['sites_missing_target']} chosen site(s) miss the queueing target{when} "
            f"({queue['chargers_short']:,} chargers short, "
            f"{queue['sessions_over_capacity']:,.1f} sessions/day over capacity"
            + (f"; {earlier}" if earlier else "")
            + "; see sites.csv)"
        )
    return f"warning: {what}; {hint}"


def _written_times(folder: Path) -> dict[str, Any]:
    """``total_seconds`` and the stage times of the report written into ``folder``."""
    import json

    try:
        written = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {key: written[key] for key in ("total_seconds", "seconds_by_stage") if key in written}


def _figure(value: Any, spec: str) -> str:
    """A number of the report formatted, or "n/a" when the solver gave none."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "n/a"
    return format(value, spec)


def time_limit_hint(report: dict[str, Any], scenario: Scenario, *, sense: str) -> str | None:
    """What a plan left with a gap above the target means, and what to try.

    For a solve stopped by its time limit (``time_limit``) or ended before it
    with nothing left to try (``stopped``); ``None`` when the solve ended
    within the requested gap.
    """
    gap = report.get("gap")
    wanted = scenario.solver.relative_gap
    status = report.get("status")
    if status == "time_limit" and gap is None:
        # Before, nothing was said: the summary's "gap n/a" alone.
        return (
            f"note: the solver stopped at its time limit ({scenario.solver.time_limit_s:g} s) "
            "before it could bound the best plan, so how far this plan is from it is not "
            "known. To get a bound: more time (--time-limit), or fewer candidate sites or "
            "trips (a smaller region, excluded sites, trips.max_trips)"
        )
    if status not in ("time_limit", "stopped") or gap is None or gap <= wanted:
        return None
    better = "do better" if sense == "max" else "cost less"
    meaning = (
        f"a gap of {100 * gap:.3g} %: no plan can {better} than this one by more than that, "
        f"but a better plan may exist."
    )
    looser = f"accept a looser solver.relative_gap (now {100 * wanted:.3g} %)"
    if status == "stopped":
        seconds = _figure(report.get("solve_seconds"), ".1f")
        return (
            f"note: the solver ended after {seconds} s, before its time limit "
            f"({scenario.solver.time_limit_s:g} s), with {meaning} Its methods had nothing "
            f"left to try, so more time alone is unlikely to close it. To narrow it: fewer "
            f"candidate sites (a smaller region, excluded sites), or {looser}"
        )
    return (
        f"note: the solver stopped at its time limit ({scenario.solver.time_limit_s:g} s) with "
        f"{meaning} To close it: more time (--time-limit), fewer candidate "
        f"sites (a smaller region, excluded sites), or {looser}"
    )


def _inputs_line(inputs: dict[str, Any]) -> str:
    """One line on what the run read and what it left out: no row leaves silently."""
    dealers, demand = inputs.get("dealers", {}), inputs.get("demand", {})
    left = _counted(
        (dealers.get("dropped", 0), "dropped (see the warnings)"),
        (dealers.get("outside_countries", 0), "outside the scenario's countries"),
        (dealers.get("merged", 0), "merged into another dealer's site"),
    )
    line = f"inputs: {dealers.get('read', 0):,} dealer rows"
    line += f" ({', '.join(left)})" if left else ""
    line += f", {dealers.get('sites', 0):,} candidate sites"
    line += f"; {demand.get('kept', 0):,} demand points"
    out_of_demand = _counted(
        (demand.get("outside_countries", 0), "outside the countries"),
        (demand.get("zero_population", 0), "without population"),
        (demand.get("city_sections_dropped", 0), "sections of cities listed whole"),
    )
    if out_of_demand:
        line += f" ({', '.join(out_of_demand)} left out)"
    return line + _stations_part(inputs.get("existing_chargers")) + _trips_part(inputs.get("trips"))


def _stations_part(stations: Any) -> str:
    """The existing stations read and kept, for the inputs line; '' without any file."""
    if not isinstance(stations, dict):
        return ""
    kept, read = int(stations.get("kept", 0)), int(stations.get("read", 0))
    part = f"; {kept:,} of {read:,} existing stations kept"
    below, astray = int(stations.get("below_min_power", 0)), int(stations.get("in_no_country", 0))
    notes = [f"{below:,} below {stations.get('min_power_kw', 0):g} kW left out"] if below else []
    notes += [f"{astray:,} kept in no country"] if astray else []
    return part + (f" ({'; '.join(notes)})" if notes else "")


def _trips_part(trips: Any) -> str:
    """The trip file's rows left out, for the inputs line; '' when none were."""
    if not isinstance(trips, dict):
        return ""
    left = _counted(
        (trips.get("zero_trips_dropped", 0), "with no trips"),
        (trips.get("blank_rows_dropped", 0), "blank"),
        (trips.get("duplicate_rows_dropped", 0), "repeating an earlier row"),
    )
    if not left:
        return ""
    return f"; trip file rows left out: {', '.join(left)}"


def _counted(*counts: tuple[float, str]) -> list[str]:
    """'3 merged', '1 blank'...: each count that is not 0, with what it counts."""
    return [f"{int(count):,} {what}" for count, what in counts if count]


def _road_line(travel: Any) -> str:
    """What road travel left out, for the inputs line: coverage is of the rest."""
    dropped = travel.get("dropped") if isinstance(travel, dict) else None
    if not isinstance(dropped, dict):
        return ""
    demand = int(dropped.get("demand_outside_extract", 0)) + int(dropped.get("demand_off_road", 0))
    sites = int(dropped.get("sites_outside_extract", 0)) + int(dropped.get("sites_off_road", 0))
    if not demand and not sites:
        return ""
    people = float(dropped.get("population_dropped", 0.0))
    parts = []
    if demand:
        parts.append(f"{demand:,} demand points ({people:,.0f} people)")
    if sites:
        parts.append(f"{sites:,} sites")
    left = int(travel.get("snapped", {}).get("demand", 0))
    return (
        f"; off the road network or outside the extract: {' and '.join(parts)} left out, "
        f"so coverage is of the {left:,} demand points on it"
    )


def _warning_lines(inputs: dict[str, Any]) -> list[str]:
    """The warnings about whole columns of dealer files in full, then one line on the rest.

    A column's warning says how its numbers were read ('250.000' as 250 EUR):
    a misreading a user must see, and there are few. The rows a run dropped
    or changed may be thousands: they get one line with counts.
    """
    dealers = inputs.get("dealers", {})
    warnings = inputs.get("warnings", [])
    shown = int(dealers.get("column_warnings", 0))
    lines = [f"warning: {warning}" for warning in warnings[:shown]]
    if len(warnings) > shown:
        lines.append(_warning_summary(dealers, len(warnings) - shown, more=shown > 0))
    return lines


def _warning_summary(dealers: dict[str, Any], count: int, *, more: bool) -> str:
    """One line on the dealer rows a run dropped or changed, and the other warnings."""
    parts = []
    dropped = dealers.get("dropped_by_reason", {})
    if dropped:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in dropped.items())
        parts.append(f"{sum(dropped.values())} dealer rows dropped ({reasons})")
    swapped = dealers.get("swapped_fixed", 0)
    if swapped:
        parts.append(f"{swapped} swapped lon/lat fixed")
    plural = "s" if count != 1 else ""
    parts.append(f"{count} more warning{plural}" if more else f"{count} warning{plural} in all")
    return "warning: " + ", ".join(parts) + "; planner validate lists them"


@app.command(short_help="Check a scenario's inputs; solve nothing.")
def validate(scenario_file: ScenarioArg = None, overrides: SetOption = None) -> None:
    """Read and check a scenario's inputs and report every problem; solve nothing.

    Reads what planner run reads (dealers, demand, existing chargers) and
    builds the side constraints, so a scenario that validates starts solving.
    """
    from planner.pipeline.api import check

    try:
        scenario = load_scenario(scenario_file, overrides=list(overrides or []))
        checked = check(scenario)
        inputs, side = checked.inputs, checked.side_constraints
    except InputError as exc:
        # Every problem, then the warnings that would remain once they are fixed.
        _say_problems(exc.problems)
        for warning in exc.warnings:
            err.print(one_line(f"warning: {warning}"), soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    dealers = inputs.counts["dealers"]
    for warning in inputs.counts["warnings"]:
        out.print(one_line(f"warning: {warning}"), soft_wrap=True)
    summary = (
        f"dealers read {dealers.get('read')}, dropped {dealers.get('dropped')}, "
        f"outside the scenario's countries {dealers.get('outside_countries')}, "
        f"merged {dealers.get('merged')}; {len(inputs.sites)} sites; "
        f"{len(inputs.demand)} demand points; {inputs.counts['reach_pairs']} pairs in reach"
    )
    if inputs.existing is not None:
        existing = inputs.existing.counts
        summary += f"; existing stations read {existing.get('read')}, kept {existing.get('kept')}"
    if len(side):
        summary += f"; {len(side)} side-constraint rows"
    out.print(f"{summary}; scenario OK", soft_wrap=True)


@app.command(short_help="Coverage against number of sites, and the plan.")
def frontier(
    scenario_file: ScenarioArg = None,
    p_range: Annotated[
        str | None,
        typer.Option(
            "--p",
            metavar="RANGE",
            help="Numbers of sites: START:STOP[:STEP] or a list 5,10,40 (default 10:100:10).",
            show_default=False,
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Output folder (default maps/<scenario name>-frontier)."
        ),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", metavar="SECONDS", help="Solver time limit per point, seconds."
        ),
    ] = None,
    overrides: SetOption = None,
    map_assets: MapAssetsOption = "inline",
    trip_weights: Annotated[
        str | None,
        typer.Option(
            "--trip-weights",
            metavar="WEIGHTS",
            help="flow_refuelling: trip weights to sweep instead of p, START:STOP:STEP or a "
            "list 0,0.5,1 (default 0:1:0.25).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Coverage against number of sites: frontier.csv, frontier.png and the scenario's own plan.

    The plan's map.html shows the frontier plot. Inputs and reach are computed
    once for every solve; the scenario's own p is solved (once) and marked
    even when it is not on the grid. A flow_refuelling scenario sweeps its
    trip weight instead: trip flow refuelled against local demand covered.
    """
    from planner.pipeline.frontier import default_frontier_folder, frontier_plan, parse_p_range
    from planner.pipeline.load import Clock, load_inputs
    from planner.scenario.models import MODEL_TRAITS as traits

    extra = with_time_limit(overrides, time_limit)
    assets = map_assets_mode(map_assets)
    scenario = load_scenario(scenario_file, overrides=extra)
    flow = traits[scenario.model.name].needs_trips
    # An option of the other kind of frontier would be ignored without a word.
    if flow and p_range is not None:
        raise InputError(
            Problem(
                "--p",
                f"{scenario.model.name} sweeps its trip weight, not p: give --trip-weights",
            )
        )
    if not flow and trip_weights is not None:
        raise InputError(
            Problem(
                "--trip-weights",
                f"only a flow_refuelling scenario sweeps its trip weight; "
                f"{scenario.model.name} sweeps p: give --p",
            )
        )
    if flow:
        # An empty value is refused as one, not taken for the default.
        _trade_off(scenario, "0:1:0.25" if trip_weights is None else trip_weights, out_dir, assets)
        return
    p_values = parse_p_range("10:100:10" if p_range is None else p_range)
    target = output_folder(scenario, out_dir or default_frontier_folder(scenario))
    with _Stages(err) as stages:
        clock = Clock(stages)
        inputs = load_inputs(scenario, clock=clock)
        result = frontier_plan(
            scenario,
            inputs,
            p_values,
            clock=clock,
            on_start=lambda p: stages(f"frontier: p = {p}"),
            on_point=lambda pt: stages.relabel(
                f"frontier: p = {pt.p}: {pt.coverage_pct:.2f} % ({pt.status})"
            ),
        )
        result.save(target, on_stage=stages, map_assets=assets)
    out.print(result.table.to_string(index=False), soft_wrap=True)
    out.print(f"wrote {target}")


def _trade_off(scenario: Scenario, weights: str, out_dir: Path | None, assets: Any) -> None:
    """``planner frontier`` of a flow scenario: the trip weight swept, trips against local."""
    from planner.maps.data import is_sample
    from planner.maps.panels import plan_title
    from planner.pipeline.frontier import default_frontier_folder
    from planner.pipeline.load import Clock, load_inputs
    from planner.pipeline.tradeoff import parse_weights, trade_off

    values = parse_weights(weights)
    target = output_folder(scenario, out_dir or default_frontier_folder(scenario))
    with _Stages(err) as stages:
        clock = Clock(stages)
        inputs = load_inputs(scenario, clock=clock)
        title = plan_title(scenario.title, scenario.name, is_sample(scenario))
        result = trade_off(
            scenario,
            inputs,
            values,
            clock=clock,
            title=title,
            on_start=lambda w: stages(f"trade-off: trip weight {w:g}"),
        )
        result.save(target, on_stage=stages, map_assets=assets)
    out.print(result.table.to_string(index=False), soft_wrap=True)
    out.print(f"wrote {target}")


@app.command(short_help="Compare two plan folders.")
def compare(
    dir_a: Annotated[
        Path, typer.Argument(metavar="DIR_A", help="Plan folder A (written by planner run).")
    ],
    dir_b: Annotated[Path, typer.Argument(metavar="DIR_B", help="Plan folder B.")],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", metavar="DIR", help="Output folder (default maps/compare-<A>-<B>)."),
    ] = None,
    map_assets: MapAssetsOption = "inline",
) -> None:
    """Compare two plans: compare.html (two synchronised maps), diff.json, diff_*.csv."""
    from planner.outputs.written import CANDIDATES_ROW
    from planner.pipeline.compare import default_folder, write_comparison_folder

    assets = map_assets_mode(map_assets)
    target = resolved(out_dir) if out_dir is not None else default_folder(dir_a, dir_b)
    with _Stages(err) as stages:
        stages("comparing plans")
        with named_as_options({"folder": "--out"}):
            comparison = write_comparison_folder(dir_a, dir_b, target, assets=assets)
    figures, diff = comparison.diff.figures, comparison.diff
    coverage = figures["coverage_pct"]
    if coverage["change"] is not None:
        out.print(
            f"coverage {coverage['a']:.2f} % -> {coverage['b']:.2f} % "
            f"({coverage['change']:+.2f} pp); sites kept {len(diff.kept)}, "
            f"added {len(diff.added)}, removed {len(diff.removed)}",
            soft_wrap=True,
        )
    candidates = next((row for row in diff.totals if row[0] == CANDIDATES_ROW), None)
    if candidates is not None:
        # "added" and "removed" then count sites the other plan could not choose.
        _, in_a, in_b, both = candidates
        err.print(
            f"note: the plans chose among different candidate sites ({in_a} in A, {in_b} in "
            f"B, {both})",
            soft_wrap=True,
        )
    folder_a = resolved(dir_a)
    if folder_a == resolved(dir_b):
        err.print(one_line(f"note: A and B are the same folder, {folder_a}"), soft_wrap=True)
    for side, plan in (("A", comparison.a), ("B", comparison.b)):
        if not plan.scenario:
            # "No scenario field differs" would not be known to be true.
            err.print(
                one_line(f"note: {side} has no scenario.toml: its scenario is not compared"),
                soft_wrap=True,
            )
    out.print(f"wrote {target}")


@app.command(short_help="Regenerate the sample dealer network.")
def sample(
    scale: Annotated[
        str,
        typer.Option(
            metavar="demo|full",
            help="demo (default scenario) or full (tens of thousands of sites).",
        ),
    ] = "demo",
    out_dir: Annotated[
        # Text, not a Path: the command line would make '' the working folder.
        str | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Folder for sample_dealers_<scale>.csv (default geodata/).",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(metavar="N", help="Random seed; by default the one of the shipped files."),
    ] = None,
) -> None:
    """Regenerate the sample dealer network (GeoNames towns, published dealer counts)."""
    from planner.inputs.sample import DEFAULT_SEED, sample_path, write_sample
    from planner.outputs.folder import refuse_inside_output

    if scale not in ("demo", "full"):
        raise InputError(Problem("--scale", f"'{scale}' is not one of: demo, full"))
    if seed is not None and seed < 0:
        raise InputError(Problem("--seed", f"must be 0 or more, not {seed}"))
    folder = GEODATA_DIR if out_dir is None else path_argument(out_dir, "--out")
    reason = unreachable(folder)
    if reason is not None and reason != "not found":
        raise InputError(Problem("--out", f"'{folder}' {reason}"))
    if folder.exists() and not folder.is_dir():
        what = "a file" if folder.is_file() else "a device, pipe or socket"
        raise InputError(Problem("--out", f"'{folder}' is {what}, not a folder"))
    chosen: Literal["demo", "full"] = "demo" if scale == "demo" else "full"
    # A file added to an output folder makes planner refuse to replace it later.
    refuse_inside_output(sample_path(chosen, folder), "--out")
    path = write_sample(chosen, folder, seed=DEFAULT_SEED if seed is None else seed)
    out.print(f"wrote {path}")


def main() -> None:
    """Entry point of the ``planner`` console script."""
    # First, before any library starts a thread: Ctrl-C and SIGTERM must reach
    # the watcher. Output-folder locks are released when it ends.
    try:
        with catching_interrupts(_say_before_exit):
            # A signal while the modules loaded: stop before the command starts.
            code = _interrupted() if interrupted() else _dispatch()
    except KeyboardInterrupt:
        # The watcher's KeyboardInterrupt reached this thread after the command
        # had already seen interrupted() and returned.
        code = _interrupted()
    _forget_caught_interrupts()
    sys.exit(code)


def _forget_caught_interrupts() -> None:
    """Clear CPython 3.12's note of a KeyboardInterrupt that ended code run from a string.

    A KeyboardInterrupt that passes through code run by ``exec`` or ``eval`` of a
    string (dataclasses and typing build functions that way) leaves a flag set
    even when it is caught later; under ``python -m planner`` the interpreter
    then ends itself by SIGINT (exit status -2, no message) instead of with the
    exit code given: about one run in sixty with Ctrl-C or SIGTERM right after
    the start. Every string ``exec`` clears that flag before it runs.
    """
    exec("pass", {})


def _say_problems(problems: Sequence[Problem | str], *, most: int | None = None) -> None:
    """One ``error:`` line per problem; past ``most`` of them, a count of the rest."""
    for problem in problems[:most]:
        if isinstance(problem, Problem) and problem.source == "overrides":
            # The scenario's overrides are the Python API's word; here they are --set.
            problem = replace(problem, source="--set")
        _say(f"error: {problem}")
    if most is not None and len(problems) > most:
        _say(f"error: … and {len(problems) - most} more problem(s)")


def _say(message: str) -> None:
    """One line on standard error: user text escaped, never wrapped."""
    err.print(one_line(message), soft_wrap=True)


def _say_before_exit(message: str) -> None:
    """The last words of a process ended from the interrupt watcher."""
    _say(message)
    if err.is_terminal:
        # The progress spinner redraws itself below the message and hides the
        # cursor; it will not get to clean up, so erase its line here.
        err.file.write("\r\x1b[2K")
        err.show_cursor(True)


#: Command-line mistakes (unknown option, bad value): click's, or the copy newer
#: typer versions carry instead of depending on click.
_USAGE_ERRORS: tuple[type[Exception], ...] = ()
try:
    import click
except ImportError:  # typer without click
    pass
else:
    _USAGE_ERRORS += (click.ClickException,)
try:
    from typer.exceptions import TyperException
except ImportError:  # typer versions that raise click's exceptions
    pass
else:
    _USAGE_ERRORS += (TyperException,)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """A library's warning as one ``warning:`` line, without its source code line."""
    if _debug:
        _python_showwarning(message, category, filename, lineno, file, line)
        return
    _say(f"warning: {message}")


_python_showwarning = warnings.showwarning


#: How many of an input error's problems a command prints before counting the rest.
_LISTED_PROBLEMS = 20


def _dispatch() -> int:
    """Run the command line and return its exit code; every error is one line."""
    warnings.showwarning = _show_warning
    try:
        os.getcwd()
    except FileNotFoundError:
        # Every relative path would fail later as "unexpected failure: [Errno 2]", unnamed.
        _say("error: the working folder no longer exists (deleted?); cd to one that does")
        return 2
    try:
        result = app(prog_name="planner", standalone_mode=False)
    except PlannerError as exc:
        if interrupted():
            return _interrupted()
        if isinstance(exc, InputError):
            # Each problem on its line, as validate gives them: "(and 3 more
            # problem(s))" left the user to find the other three one run at a time.
            _say_problems(exc.problems, most=_LISTED_PROBLEMS)
        else:
            _say(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        return _interrupted()
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        _say("error: aborted")
        return 1
    except _USAGE_ERRORS as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            # "planner" alone: the help text, as click gives it.
            out.print(exc.format_message(), soft_wrap=True)  # type: ignore[attr-defined]
            return 2
        _say(f"error: {_usage_message(exc)}")
        return int(getattr(exc, "exit_code", 2)) or 2
    except Exception as exc:  # the last line of defence: one line, exit 1
        if interrupted():
            return _interrupted()
        if _debug:
            raise
        narrow = _narrow_encoding(exc)
        if narrow:
            _say(f"error: {narrow}")
            return 2
        _say(
            f"error: unexpected failure: {str(exc) or type(exc).__name__} "
            "(rerun with --debug for the traceback)"
        )
        return 1
    if interrupted() or result == EXIT_INTERRUPTED:
        # typer turns Ctrl-C into exit code 130 without a word.
        return _interrupted()
    return result if isinstance(result, int) else 0


def _narrow_encoding(exc: Exception) -> str | None:
    """What to say when non-ASCII text meets a file-system encoding that cannot hold it.

    With ``PYTHONUTF8=0`` in the C locale, Python names files in ASCII: a file
    named ``données.csv`` cannot be opened, and ``--set title=Café`` arrives
    as undecodable bytes. Both ended as "unexpected failure".
    """
    encoding = sys.getfilesystemencoding()
    if not isinstance(exc, UnicodeEncodeError) or codecs.lookup(encoding).name == "utf-8":
        return None
    advice = "; run with PYTHONUTF8=1 or in a UTF-8 locale (LC_ALL=C.UTF-8)"
    if "\udc80" <= exc.object[exc.start] <= "\udcff":
        # Bytes of the command line that the encoding could not read, met on writing.
        return (
            f"the command line holds letters the file-system encoding ({encoding}) cannot "
            f"read{advice}"
        )
    line_start = exc.object.rfind("\n", 0, exc.start) + 1
    line_end = exc.object.find("\n", exc.end)
    shown = exc.object[line_start : line_end if line_end >= 0 else None]
    return f"{shown!r} holds letters the file-system encoding ({encoding}) cannot hold{advice}"


def _interrupted() -> int:
    if claim_report():
        _say(interrupt_message())
    return interrupt_exit_code()


def _usage_message(exc: Exception) -> str:
    """A command-line mistake as "planner run: what is wrong (see planner run --help)"."""
    text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", None) or "planner"
    return f"{command}: {text} (see {command} --help)"
