"""Regenerate ``geodata/sample_dealers_malta.csv``, the sample dealers of the road example.

Usage::

    python geodata/tools/build_malta_sample.py

Malta is not among the countries of the published listing counts, so its
counts are an assumption: 12 Renault and 4 Nissan dealers (for 0.5 million
inhabitants, about a third of Luxembourg's listings per inhabitant), placed
at Malta's and Gozo's GeoNames towns by the rules of the sample network
(:func:`planner.inputs.sample.generate_country_sample`). **Not real dealers.**
"""

from __future__ import annotations

from pathlib import Path

from planner._atomic import write_atomically
from planner.inputs.sample import generate_country_sample

RENAULT, NISSAN = 12, 4
OUT = Path(__file__).resolve().parent.parent / "sample_dealers_malta.csv"


def main() -> None:
    sample = generate_country_sample("MT", renault=RENAULT, nissan=NISSAN)
    text = sample.to_csv(index=False, float_format="%.5f", lineterminator="\n")
    write_atomically(OUT, text)
    print(f"wrote {OUT} ({len(sample)} sample dealers)")


if __name__ == "__main__":
    main()
