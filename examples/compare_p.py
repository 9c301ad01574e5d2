"""Run a scenario, change p, compare the two plans and write both.

    python examples/compare_p.py [OUT_FOLDER]

The built-in default scenario (the sample network) is solved with 60 and with
90 sites; both plans and their comparison are written under OUT_FOLDER
(default ``maps/examples``): open ``compare/compare.html`` to see them side by
side, or each plan's ``map.html``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import planner


def main(out: Path) -> None:
    base = planner.run(overrides={"model.p": 60})
    more = planner.run(base.scenario, overrides={"model.p": 90, "name": "default-p90"})
    for plan in (base, more):
        report = plan.report
        print(
            f"{plan.scenario.name}: {report['sites_selected']} sites, "
            f"{report['chargers_total']} chargers, coverage {report['coverage_pct']:.2f} %, "
            f"{report['status']} (gap {report['gap']:.2e})"
        )

    comparison = planner.compare(base, more)
    coverage = comparison.diff.figures["coverage_pct"]
    print(
        f"coverage {coverage['a']:.2f} % -> {coverage['b']:.2f} % "
        f"({coverage['change']:+.2f} points); {len(comparison.diff.added)} sites added, "
        f"{len(comparison.diff.removed)} removed"
    )

    base.save(out / "p60")
    more.save(out / "p90")
    comparison.save(out / "compare")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("maps/examples"))
