"""Compare two written plans: the side-by-side map and the change of key figures as data.

``planner compare DIR_A DIR_B`` writes, all or nothing, into one folder:

- ``compare.html``: the two plans in synchronised maps (see
  :func:`planner.maps.plan_map.render_comparison`);
- ``diff.json``: both folders, the scenario fields that differ, the sites
  kept, added and removed, the key figures of A and B and their change, and
  the coverage change per country;
- ``diff_sites.csv``: every site chosen in A or B with its change and its
  chargers in each;
- ``diff_countries.csv``: coverage and sites per country in A and B.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import FrozenInstanceError, replace
from pathlib import Path
from typing import Any

import pandas as pd

from planner._files import path_argument, resolved
from planner.errors import InputError, Problem
from planner.inputs.countries import country_outlines
from planner.maps.assets import MapAssets, checked_assets
from planner.maps.compare_page import pane_names, render_comparison_page
from planner.outputs.folder import publish_folder
from planner.outputs.spreadsheet import write_csv
from planner.outputs.written import PlanDiff, WrittenPlan, compare_plans, read_plan_folders
from planner.outputs.written import site_changes as _site_changes
from planner.pipeline.plan import Plan, check_plan_tables, write_tables

__all__ = ["Comparison", "comparison_record", "default_folder", "write_comparison_folder"]

log = logging.getLogger(__name__)

#: The files a comparison folder holds.
FILES = ("compare.html", "diff.json", "diff_sites.csv", "diff_countries.csv")


def default_folder(plan_a_dir: Path, plan_b_dir: Path) -> Path:
    """``maps/compare-<A>-<B>`` under the working folder, named after the two folders."""
    name_a, name_b = (resolved(Path(d)).name for d in (plan_a_dir, plan_b_dir))
    return resolved(Path.cwd() / "maps" / f"compare-{name_a}-{name_b}")


def _folder_text(plan: WrittenPlan) -> str | None:
    """The plan's folder, or none for a plan compared from memory (it was never written)."""
    return None if plan.in_memory else str(resolved(plan.folder))


def comparison_record(a: WrittenPlan, b: WrittenPlan, diff: PlanDiff) -> dict[str, Any]:
    """The content of ``diff.json``."""
    names = pane_names(a, b)
    return {
        "a": {"folder": _folder_text(a), "label": names[0], "scenario": a.name},
        "b": {"folder": _folder_text(b), "label": names[1], "scenario": b.name},
        "scenario_changes": [
            {"field": key, "a": value_a, "b": value_b}
            for key, value_a, value_b in diff.scenario_changes
        ],
        "sites": {
            "kept": len(diff.kept),
            "added": len(diff.added),
            "removed": len(diff.removed),
            "added_ids": diff.added,
            "removed_ids": diff.removed,
        },
        "figures": diff.figures,
        "by_country": diff.countries,
    }


class Comparison:
    """Two plan folders read and compared, ready to write.

    Parameters
    ----------
    plan_a_dir, plan_b_dir
        Output folders of ``planner run``.

    Raises
    ------
    InputError
        When a folder is not a plan folder or lacks a file or column.
    """

    a: WrittenPlan
    b: WrittenPlan
    diff: PlanDiff

    def __init__(self, plan_a_dir: str | os.PathLike[str], plan_b_dir: str | os.PathLike[str]):
        a, b = read_plan_folders(plan_a_dir, plan_b_dir)
        # Frozen as the other result objects are: a diff set apart from its plans
        # would be written as theirs.
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "diff", compare_plans(a, b))

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    @classmethod
    def of(cls, a: Plan | str | os.PathLike[str], b: Plan | str | os.PathLike[str]) -> Comparison:
        """Compare plans given in memory or as folders written by ``planner run``.

        A plan in memory is read back through the very files ``planner run``
        writes (tables and report, not the map), so both kinds compare alike;
        its pane is labelled with the scenario's name.
        """
        for side, plan in (("a", a), ("b", b)):
            if isinstance(getattr(plan, "plan", None), Plan):
                # A frontier's result holds its scenario's plan.
                kind = type(plan).__name__
                raise InputError(
                    Problem(side, f"give a Plan or a plan folder; this {kind} holds one as .plan")
                )
            if isinstance(plan, Plan):
                check_plan_tables(plan, side)
        given = {
            side: plan if isinstance(plan, Plan) else path_argument(plan, side)
            for side, plan in (("a", a), ("b", b))
        }
        with tempfile.TemporaryDirectory(prefix="planner-compare-") as tmp:
            folders = [
                _tables_written(plan, Path(tmp) / side) if isinstance(plan, Plan) else plan
                for side, plan in given.items()
            ]
            try:
                comparison = cls(folders[0], folders[1])
            except InputError as exc:
                # A plan whose tables were edited in memory: name the argument,
                # not the temporary folder it was read back from.
                raise InputError(
                    [_named_argument(p, Path(tmp)) for p in exc.problems], warnings=exc.warnings
                ) from None
        for side, plan in (("a", a), ("b", b)):
            if isinstance(plan, Plan):
                written = getattr(comparison, side)
                object.__setattr__(
                    comparison,
                    side,
                    replace(written, folder=Path(plan.scenario.name), in_memory=True),
                )
        return comparison

    def __repr__(self) -> str:
        diff = self.diff
        return (
            f"<Comparison {self.a.folder.name} -> {self.b.folder.name}: sites kept "
            f"{len(diff.kept)}, added {len(diff.added)}, removed {len(diff.removed)}>"
        )

    def record(self) -> dict[str, Any]:
        """The content of ``diff.json``."""
        return comparison_record(self.a, self.b, self.diff)

    def site_changes(self) -> pd.DataFrame:
        """The content of ``diff_sites.csv``."""
        return _site_changes(self.a, self.b)

    def country_changes(self) -> pd.DataFrame:
        """The content of ``diff_countries.csv``."""
        columns = ["country", "coverage_pct_a", "coverage_pct_b", "change_pp", "sites_a", "sites_b"]
        table = pd.DataFrame(self.diff.countries, columns=columns)
        # A country one plan lacks has no count there: whole numbers stay whole (1, not 1.0).
        return table.astype({"sites_a": "Int64", "sites_b": "Int64"})

    def save(
        self,
        folder: str | os.PathLike[str],
        *,
        map_assets: MapAssets | None = None,
        assets: MapAssets | None = None,
    ) -> Path:
        """Write :data:`FILES` into ``folder``, all or nothing, as ``planner compare`` does.

        ``map_assets`` (``"inline"`` when not given) is named as in
        :meth:`Plan.save`; ``assets`` is its earlier name, still read.
        """
        target = resolved(path_argument(folder, "folder"))
        if assets is not None and map_assets is not None:
            raise InputError(
                Problem("assets", "is map_assets' earlier name: give one of the two, not both")
            )
        if assets is None:
            chosen = checked_assets("inline" if map_assets is None else map_assets, "map_assets")
        else:
            chosen = checked_assets(assets, "assets")
        for plan in (self.a, self.b):
            if plan.in_memory:
                continue  # its "folder" is its scenario's name: nothing on disk to keep
            source = resolved(plan.folder)
            if target == source or source.is_relative_to(target):
                raise InputError(
                    Problem(
                        "folder",
                        f"{target} holds the plan folder {source}; "
                        "write the comparison to another folder",
                    )
                )
        page = render_comparison_page(self.a, self.b, outlines=country_outlines(), assets=chosen)

        def write(folder: Path) -> None:
            (folder / "compare.html").write_text(page, encoding="utf-8")
            record = json.dumps(self.record(), indent=2, ensure_ascii=False, default=str)
            (folder / "diff.json").write_text(record + "\n", encoding="utf-8")
            write_csv(self.site_changes(), folder / "diff_sites.csv")
            write_csv(self.country_changes(), folder / "diff_countries.csv")

        publish_folder(target, write, kind="comparison")
        log.info("comparison written to %s", target)
        return target


def _tables_written(plan: Plan, folder: Path) -> Path:
    """Write the plan's report, sites and scenario (no map) into a new ``folder``."""
    folder.mkdir()
    write_tables(plan, folder)
    return folder


def write_comparison_folder(
    plan_a_dir: str | os.PathLike[str],
    plan_b_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    assets: MapAssets = "inline",
) -> Comparison:
    """Compare two plan folders and write :data:`FILES` into ``out_dir``, all or nothing.

    Raises
    ------
    InputError
        When a folder is not a plan folder, or ``out_dir`` is one of the two
        (writing the comparison would replace a plan).
    """
    comparison = Comparison(plan_a_dir, plan_b_dir)
    comparison.save(out_dir, map_assets=assets)
    return comparison


def _named_argument(problem: Problem | str, tmp: Path) -> Problem | str:
    """``problem`` with a file of the temporary folder named as argument ``a`` or ``b``."""
    if not isinstance(problem, Problem):
        return problem
    source = Path(problem.source)
    if not source.is_relative_to(tmp):
        return problem
    side, *rest = source.relative_to(tmp).parts
    return replace(problem, source=f"{side} ({'/'.join(rest) or 'plan'})")
