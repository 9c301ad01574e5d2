"""Regenerate ``geodata/sample_corridors.geojson``: SAMPLE corridors for the AFIR check.

Usage::

    python geodata/tools/build_sample_corridors.py [--count 6]

The corridors are the paths of the strongest long-distance trips of the
default scenario (the sample network's towns and gravity trips, see
``planner.travel.trips``), one per origin–destination pair, in their
order of strength. They are not the TEN-T network: each is named
``SAMPLE: A – B`` and carries ``"sample": true``. Real checks need a TEN-T
export (see README, "AFIR corridors").
"""

from __future__ import annotations

import argparse
import json

from planner.geodata import GEODATA_DIR
from planner.pipeline.api import check
from planner.pipeline.trips import load_trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=6)
    args = parser.parse_args()
    checked = check(overrides={"model.name": "flow_refuelling"})
    demand = checked.inputs.demand
    trips = load_trips(checked.scenario, demand, checked.inputs.sites)
    order = sorted(range(len(trips.nodes)), key=lambda q: -trips.paths.flows[q])
    names = demand["name"].astype(str).to_numpy()
    features, seen = [], set()
    for q in order:
        pair = (int(trips.origin[q]), int(trips.destination[q]))
        nodes = trips.nodes[q]
        if pair in seen or len(nodes) < 2 or trips.km[q] < 200:
            continue
        seen.add(pair)
        coords = [
            [round(float(demand["lon"].iat[n]), 5), round(float(demand["lat"].iat[n]), 5)]
            for n in nodes
        ]
        name = f"SAMPLE: {names[pair[0]]} – {names[pair[1]]}"
        features.append(
            {
                "type": "Feature",
                "properties": {"name": name, "sample": True, "km": round(float(trips.km[q]))},
                "geometry": {"type": "LineString", "coordinates": coords},
            }
        )
        if len(features) == args.count:
            break
    target = GEODATA_DIR / "sample_corridors.geojson"
    target.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {target} ({len(features)} corridors)")


if __name__ == "__main__":
    main()
