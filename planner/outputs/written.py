"""Two written plans side by side: read their output folders and tell what changed.

A plan folder is what ``planner run`` writes: ``report.json`` and
``sites.csv`` are required, ``scenario.toml`` is read when present. Sites are
matched by ``site_id``: a chosen site is *kept* when both plans choose it,
*added* when only the second does, *removed* when only the first does.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner import _toml as toml
from planner._arguments import shown
from planner._files import NOT_REGULAR, is_special, unreachable
from planner._text import fmt_eur
from planner.errors import InputError, Problem
from planner.outputs.spreadsheet import read_back_text

#: More chargers than any site holds: a count above it is a damaged cell (and
#: would overflow a whole number).
_MOST_CHARGERS = 1_000_000

#: Columns ``sites.csv`` must have for a comparison.
REQUIRED_SITE_COLUMNS = ("site_id", "name", "brands", "country", "lon", "lat", "chosen", "chargers")


@dataclass(frozen=True)
class WrittenPlan:
    """What a comparison needs from one plan folder.

    Attributes
    ----------
    folder
        The plan folder.
    name, title
        Scenario name and title.
    report
        The content of ``report.json``.
    sites
        ``sites.csv``.
    radius_km, circuity
        Travel radius and circuity of the scenario (reach circles).
    scenario
        The resolved scenario as read from ``scenario.toml`` (empty when absent).
    in_memory
        Whether the plan came from memory rather than a folder.
    """

    folder: Path
    name: str
    title: str
    report: dict[str, Any]
    sites: pd.DataFrame
    radius_km: float
    circuity: float
    scenario: dict[str, Any] = field(default_factory=dict)
    #: A plan compared from memory: ``folder`` is its scenario's name, no folder on disk.
    in_memory: bool = False

    @property
    def chosen(self) -> pd.DataFrame:
        """The chosen sites."""
        return self.sites[self.sites["chosen"]]


def read_plan_folder(folder: str | os.PathLike[str]) -> WrittenPlan:
    """Read ``report.json``, ``sites.csv`` and (if present) ``scenario.toml``.

    Raises
    ------
    InputError
        Naming every missing file, unreadable file and missing column at once.
    """
    root = Path(folder)
    reason = unreachable(root)
    if reason is not None and reason != "not found":
        raise InputError(Problem(str(root), reason))
    if not root.is_dir():
        raise InputError(Problem(str(root), "not a folder: give a folder written by planner run"))
    # Reading a pipe would wait for ever, and a device such as /dev/zero fill the memory.
    special = [
        Problem(str(root / name), f"{NOT_REGULAR}; a plan folder holds files")
        for name in ("report.json", "sites.csv", "scenario.toml")
        if is_special(root / name)
    ]
    if special:
        raise InputError(special)
    if not (root / "report.json").exists() and not (root / "sites.csv").exists():
        raise InputError(
            Problem(
                str(root),
                "not a plan folder (no report.json, no sites.csv): "
                "give a folder written by planner run",
            )
        )
    problems: list[Problem] = []
    report: dict[str, Any] = {}
    sites = pd.DataFrame()
    scenario: dict[str, Any] = {}
    report_path, sites_path = root / "report.json", root / "sites.csv"
    try:
        # A spreadsheet or editor may have added a byte-order mark.
        report = json.loads(report_path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        problems.append(Problem(str(report_path), "missing: is this a plan folder?"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(report_path), f"not valid JSON: {exc}"))
    except OSError as exc:  # a folder of that name, no permission
        problems.append(Problem(str(report_path), f"cannot be read ({exc.strerror or exc})"))
    if not isinstance(report, dict):
        problems.append(Problem(str(report_path), "not a JSON object, as planner's reports are"))
        report = {}
    try:
        # Only an empty cell is missing: a site named or numbered NA, null or
        # None (pandas' default missing words) is that text.
        sites = pd.read_csv(
            sites_path,
            dtype={"site_id": str, "name": str, "brands": str, "country": str},
            keep_default_na=False,
            na_values=[""],
        )
    except FileNotFoundError:
        problems.append(Problem(str(sites_path), "missing: is this a plan folder?"))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(sites_path), f"not a readable CSV file: {str(exc).strip()}"))
    except OSError as exc:
        problems.append(Problem(str(sites_path), f"cannot be read ({exc.strerror or exc})"))
    else:
        missing = [c for c in REQUIRED_SITE_COLUMNS if c not in sites.columns]
        if missing:
            # A spreadsheet that saved the file again may have used its own delimiter.
            hint = (
                f"; its header is one column ({str(sites.columns[0])[:40]!r}…): planner writes "
                "it comma-separated"
                if len(sites.columns) == 1 and any(d in str(sites.columns[0]) for d in ";\t|")
                else ""
            )
            problems.append(
                Problem(str(sites_path), f"missing columns: {', '.join(missing)}{hint}")
            )
        elif len(sites):
            counts = pd.to_numeric(sites["chargers"], errors="coerce")
            bad = np.flatnonzero(
                sites["chargers"].notna().to_numpy()
                & ~(
                    np.isfinite(counts)
                    & (counts >= 0)
                    & (counts <= _MOST_CHARGERS)
                    & (counts == np.round(counts))
                ).to_numpy()
            )
            problems.extend(
                Problem(
                    str(sites_path),
                    f"{_cell(sites['chargers'].iat[i])} is not a number of chargers",
                    row=int(i) + 2,
                    field="chargers",
                )
                for i in bad[:20]
            )
            problems += _site_problems(sites, str(sites_path))
    scenario_path = root / "scenario.toml"
    if scenario_path.exists():
        try:
            scenario = toml.loads(scenario_path.read_text(encoding="utf-8"))
        except (toml.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(scenario_path), f"not a valid TOML file: {exc}"))
        except OSError as exc:
            problems.append(Problem(str(scenario_path), f"cannot be read ({exc.strerror or exc})"))
    problems += report_problems(report, str(report_path))
    if problems:
        raise InputError(problems)
    sites = sites.assign(
        chosen=_chosen_words(sites).isin(["true", "1"]),
        chargers=pd.to_numeric(sites["chargers"], errors="coerce").fillna(0).astype(int),
        # The text as the run had it: sites.csv writes =x as 'x for spreadsheets.
        site_id=read_back_text(sites["site_id"].fillna("")),
        name=read_back_text(sites["name"].fillna("")),
        brands=read_back_text(sites["brands"].fillna("")),
    )
    agree = report_agreement(report, sites, str(sites_path))
    if agree:
        raise InputError(agree)
    travel = scenario.get("travel", {})
    if not isinstance(travel, dict):
        travel = {}
    return WrittenPlan(
        folder=root,
        name=str(report.get("scenario") or scenario.get("name") or root.name),
        title=str(report.get("title") or scenario.get("title") or root.name),
        report=report,
        sites=sites,
        radius_km=_positive(report.get("radius_km"), travel.get("radius_km"), 50.0),
        circuity=_positive(report.get("circuity"), travel.get("circuity"), 1.3),
        scenario=scenario,
    )


def _cell(value: Any) -> str:
    """A cell as the file shows it, in quotes."""
    if isinstance(value, float) and not math.isfinite(value):
        return "an empty cell" if math.isnan(value) else f"'{value}'"
    if isinstance(value, float) and value == int(value):
        value = int(value)
    return f"'{value}'"


#: What ``sites.csv`` writes in its ``chosen`` column (read case-blind).
_CHOSEN_WORDS = ("true", "false", "1", "0")


def _chosen_words(sites: pd.DataFrame) -> pd.Series:
    """The ``chosen`` cells as the words they hold: checked and read alike (" True" is true)."""
    return sites["chosen"].astype(str).str.strip().str.lower()


def _site_problems(sites: pd.DataFrame, source: str) -> list[Problem]:
    """Cells ``sites.csv`` as planner writes it cannot hold: a hand-edited or damaged file."""
    problems = []
    chosen = _chosen_words(sites)
    for i in np.flatnonzero(~chosen.isin(_CHOSEN_WORDS).to_numpy())[:20]:
        problems.append(
            Problem(
                source,
                f"{_cell(sites['chosen'].iat[i])} is not true or false",
                row=int(i) + 2,
                field="chosen",
            )
        )
    for column, most in (("lon", 180.0), ("lat", 90.0)):
        values = pd.to_numeric(sites[column], errors="coerce").to_numpy(dtype=float)
        for i in np.flatnonzero(~(np.abs(values) <= most))[:20]:
            problems.append(
                Problem(
                    source,
                    f"{_cell(sites[column].iat[i])} is not a {column} in degrees "
                    f"(-{most:g} to {most:g})",
                    row=int(i) + 2,
                    field=column,
                )
            )
    ids = sites["site_id"].fillna("").astype(str)
    for i in np.flatnonzero((ids.str.strip() == "").to_numpy())[:20]:
        problems.append(Problem(source, "the site id is empty", row=int(i) + 2, field="site_id"))
    repeated = (ids.duplicated(keep="first") & (ids.str.strip() != "")).to_numpy()
    for i in np.flatnonzero(repeated)[:20]:
        problems.append(
            Problem(
                source,
                f"site {_cell(ids.iat[i])} is listed again (first in row "
                f"{int(np.flatnonzero(ids.to_numpy() == ids.iat[i])[0]) + 2})",
                row=int(i) + 2,
                field="site_id",
            )
        )
    return problems


#: The figures of ``report.json`` a comparison shows, besides ``cost_eur.total``.
_FIGURES = ("coverage_pct", "sites_selected", "chargers_total", "demand_covered")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def report_problems(
    report: dict[str, Any], source: str, *, keys_needed: bool = False
) -> list[Problem]:
    """Parts of a report a comparison reads that are not of the kind planner writes.

    An empty ``report.json`` is passed over (the folder's other checks speak
    for it); with ``keys_needed`` (a plan in memory) its key figures must be there.
    """
    problems = []
    cost = report.get("cost_eur")
    if cost is not None and not isinstance(cost, dict):
        problems.append(Problem(source, "is not an object of costs", field="cost_eur"))
    if report or keys_needed:
        # Every report planner writes has them; the comparison's headline reads them.
        problems.extend(
            Problem(source, "is missing", field=key)
            for key in ("coverage_pct", "sites_selected", "chargers_total")
            if key not in report
        )
    figures = [(key, report.get(key)) for key in _FIGURES]
    if isinstance(cost, dict):
        figures.append(("cost_eur.total", cost.get("total")))
    for key, value in figures:
        # Planner writes these as numbers (or null where a model has none); text
        # read as "n/a" would hide an edited report.
        if value is not None and not _is_number(value):
            problems.append(Problem(source, f"is {shown(value)}, not a number", field=key))
        elif value is not None and not _possible(key, value):
            problems.append(Problem(source, f"is {shown(value)}, {_POSSIBLE[key]}", field=key))
    countries = report.get("by_country")
    if countries is not None and not (
        isinstance(countries, list) and all(isinstance(row, dict) for row in countries)
    ):
        problems.append(Problem(source, "is not a list of countries", field="by_country"))
    return problems


#: What each key figure of a report can be, said when it is not.
_POSSIBLE = {
    "coverage_pct": "not a share from 0 to 100 %",
    "sites_selected": "not a whole number of sites",
    "chargers_total": "not a whole number of chargers",
    "demand_covered": "below 0",
    "cost_eur.total": "below 0",
}


def _possible(key: str, value: float) -> bool:
    """Whether a report's key figure (a finite number) is one a plan can have."""
    if key == "coverage_pct":
        return 0 <= value <= 100
    if key in ("sites_selected", "chargers_total"):
        return value >= 0 and float(value).is_integer()
    return value >= 0


#: The totals row of two plans chosen among different candidate sites.
CANDIDATES_ROW = "Candidate sites"

#: Why a folder's sites and report can differ.
FOLDER_CHANGED = "the folder was changed after planner wrote it"


def report_agreement(
    report: dict[str, Any],
    sites: pd.DataFrame,
    source: str,
    *,
    named: str = "report.json",
    why: str = FOLDER_CHANGED,
) -> list[Problem]:
    """The sites against the counts their report gives: a cut or edited table differs."""
    problems = []
    checks = (
        ("sites_selected", "chosen sites", int(sites["chosen"].sum())),
        ("chargers_total", "chargers", int(sites.loc[sites["chosen"], "chargers"].sum())),
    )
    for key, what, found in checks:
        said = report.get(key)
        if _is_number(said) and said != found:
            problems.append(
                Problem(
                    source,
                    f"holds {found:,} {what}, {named} says {said:,}: {why}",
                )
            )
    return problems


def _positive(*values: Any) -> float:
    """The first of ``values`` that is a positive finite number (the last is the default)."""
    for value in values:
        if _is_number(value) and value > 0:
            return float(value)
    return float(values[-1])


def read_plan_folders(
    a: str | os.PathLike[str], b: str | os.PathLike[str]
) -> tuple[WrittenPlan, WrittenPlan]:
    """Read two plan folders, raising once with the problems of both."""
    plans: list[WrittenPlan] = []
    problems: list[Problem | str] = []
    for folder in (a, b):
        try:
            plans.append(read_plan_folder(folder))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return plans[0], plans[1]


@dataclass(frozen=True)
class PlanDiff:
    """What changed from plan A to plan B.

    Attributes
    ----------
    kept, added, removed
        Sorted ``site_id`` of chosen sites in both, only in B, only in A.
    totals
        Rows ``(label, value in A, value in B, change)``, already formatted.
    by_country
        Rows ``(country, coverage A, coverage B, change, sites A, sites B)``, formatted.
    figures
        The key figures as numbers: ``{key: {"a", "b", "change"}}`` for
        ``coverage_pct`` (change in percentage points), ``sites_selected``,
        ``chargers_total``, ``demand_covered`` and ``cost_eur_total``;
        ``None`` where a plan does not say.
    countries
        Per country, numbers: ``country``, ``coverage_pct_a``,
        ``coverage_pct_b``, ``change_pp``, ``sites_a``, ``sites_b``.
    scenario_changes
        Scenario fields that differ: ``(dotted name, value in A, value in B)``.
    """

    kept: list[str]
    added: list[str]
    removed: list[str]
    totals: list[tuple[str, str, str, str]]
    by_country: list[tuple[str, str, str, str, str, str]]
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    countries: list[dict[str, Any]] = field(default_factory=list)
    scenario_changes: list[tuple[str, Any, Any]] = field(default_factory=list)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _pct(value: Any) -> str:
    number = _number(value)
    return "n/a" if number is None else f"{number:.1f} %"


def _points(a: Any, b: Any) -> str:
    """Change of a percentage, in percentage points."""
    x, y = _number(a), _number(b)
    return "n/a" if x is None or y is None else f"{y - x:+.1f} pp"


def _count(value: Any) -> str:
    number = _number(value)
    return "n/a" if number is None else f"{round(number):,}"


def _count_change(a: Any, b: Any) -> str:
    x, y = _number(a), _number(b)
    return "n/a" if x is None or y is None else f"{round(y - x):+,}"


def _eur_change(a: Any, b: Any) -> str:
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return "n/a"
    change = fmt_eur(abs(y - x))
    return change if y == x else ("+" if y > x else "−") + change


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}


#: Scenario fields that say nothing about the plan itself.
_IGNORED_FIELDS = ("output.dir", "title")


def scenario_changes(a: WrittenPlan, b: WrittenPlan) -> list[tuple[str, Any, Any]]:
    """Dotted scenario fields whose values differ between A and B, in A's order, then B's."""
    if not a.scenario or not b.scenario:
        # A folder without its scenario.toml says nothing about its fields: every
        # one of the other's would show as changed.
        return []
    flat_a, flat_b = _flatten(a.scenario), _flatten(b.scenario)
    keys = list(dict.fromkeys([*flat_a, *flat_b]))
    return [
        (key, flat_a.get(key), flat_b.get(key))
        for key in keys
        if key not in _IGNORED_FIELDS and flat_a.get(key) != flat_b.get(key)
    ]


def _change(a: Any, b: Any) -> float | None:
    x, y = _number(a), _number(b)
    # Rounded like report.json, so 84.2437 -> 89.9307 is +5.687, not +5.686999999999998.
    return None if x is None or y is None else round(y - x, 6)


def _whole(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else round(number)


def _figure(a: Any, b: Any) -> dict[str, Any]:
    return {"a": _number(a), "b": _number(b), "change": _change(a, b)}


def _counts(a: Any, b: Any) -> dict[str, Any]:
    x, y = _whole(a), _whole(b)
    return {"a": x, "b": y, "change": None if x is None or y is None else y - x}


def compare_plans(a: WrittenPlan, b: WrittenPlan) -> PlanDiff:
    """Sites kept, added and removed, and the change of the key figures."""
    chosen_a, chosen_b = set(a.chosen["site_id"]), set(b.chosen["site_id"])
    ra, rb = a.report, b.report
    cost_a = (ra.get("cost_eur") or {}).get("total")
    cost_b = (rb.get("cost_eur") or {}).get("total")
    totals = [
        (
            "Coverage",
            _pct(ra.get("coverage_pct")),
            _pct(rb.get("coverage_pct")),
            _points(ra.get("coverage_pct"), rb.get("coverage_pct")),
        ),
        (
            "Sites",
            _count(len(chosen_a)),
            _count(len(chosen_b)),
            _count_change(len(chosen_a), len(chosen_b)),
        ),
        (
            "Chargers",
            _count(a.chosen["chargers"].sum()),
            _count(b.chosen["chargers"].sum()),
            _count_change(a.chosen["chargers"].sum(), b.chosen["chargers"].sum()),
        ),
        (
            "Total cost",
            fmt_eur(cost_a),
            fmt_eur(cost_b),
            _eur_change(cost_a, cost_b),
        ),
        ("Status", str(ra.get("status", "n/a")), str(rb.get("status", "n/a")), ""),
    ]
    candidates_a, candidates_b = set(a.sites["site_id"]), set(b.sites["site_id"])
    if candidates_a != candidates_b:
        # Plans of other dealer files or countries: "added" and "removed" then
        # count sites the other plan could not choose, which must be said.
        both = len(candidates_a & candidates_b)
        totals.insert(
            1,
            (
                CANDIDATES_ROW,
                _count(len(candidates_a)),
                _count(len(candidates_b)),
                f"{both:,} in both",
            ),
        )
    figures = {
        "coverage_pct": _figure(ra.get("coverage_pct"), rb.get("coverage_pct")),
        "sites_selected": _counts(len(chosen_a), len(chosen_b)),
        "chargers_total": _counts(a.chosen["chargers"].sum(), b.chosen["chargers"].sum()),
        "demand_covered": _figure(ra.get("demand_covered"), rb.get("demand_covered")),
        "cost_eur_total": _figure(cost_a, cost_b),
    }
    countries_a = {str(r.get("country")): r for r in ra.get("by_country") or []}
    countries_b = {str(r.get("country")): r for r in rb.get("by_country") or []}
    by_country = []
    countries = []
    for country in sorted(set(countries_a) | set(countries_b)):
        row_a, row_b = countries_a.get(country, {}), countries_b.get(country, {})
        countries.append(
            {
                "country": country,
                "coverage_pct_a": _number(row_a.get("coverage_pct")),
                "coverage_pct_b": _number(row_b.get("coverage_pct")),
                "change_pp": _change(row_a.get("coverage_pct"), row_b.get("coverage_pct")),
                "sites_a": _whole(row_a.get("sites")),
                "sites_b": _whole(row_b.get("sites")),
            }
        )
        by_country.append(
            (
                country,
                _pct(row_a.get("coverage_pct")),
                _pct(row_b.get("coverage_pct")),
                _points(row_a.get("coverage_pct"), row_b.get("coverage_pct")),
                _count(row_a.get("sites")),
                _count(row_b.get("sites")),
            )
        )
    return PlanDiff(
        kept=sorted(chosen_a & chosen_b),
        added=sorted(chosen_b - chosen_a),
        removed=sorted(chosen_a - chosen_b),
        totals=totals,
        by_country=by_country,
        figures=figures,
        countries=countries,
        scenario_changes=scenario_changes(a, b),
    )


def site_changes(a: WrittenPlan, b: WrittenPlan) -> pd.DataFrame:
    """Every site chosen in A or B: ``site_id``, ``name``, ``brands``, ``country``,
    ``change`` (kept, added, removed), ``chargers_a``, ``chargers_b`` (0 when not chosen)."""
    columns = ["site_id", "name", "brands", "country", "chargers"]
    both = a.chosen[columns].merge(
        b.chosen[columns], on="site_id", how="outer", suffixes=("_a", "_b"), sort=True
    )
    in_a, in_b = both["chargers_a"].notna(), both["chargers_b"].notna()
    table = pd.DataFrame(
        {
            "site_id": both["site_id"],
            "name": both["name_a"].fillna(both["name_b"]),
            "brands": both["brands_a"].fillna(both["brands_b"]),
            "country": both["country_a"].fillna(both["country_b"]),
            "change": [
                "kept" if x and y else "removed" if x else "added"
                for x, y in zip(in_a, in_b, strict=True)
            ],
            "chargers_a": both["chargers_a"].fillna(0).astype(int),
            "chargers_b": both["chargers_b"].fillna(0).astype(int),
        }
    )
    return table.reset_index(drop=True)
