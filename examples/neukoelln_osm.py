"""Plan a few blocks of Berlin-Neukölln straight from OpenStreetMap, in both modes.

Run from the repository root::

    python examples/neukoelln_osm.py          # writes out/neukoelln_osm_{plan,existing}_bays.geojson

``plan`` ignores parking tags (the rules decide); ``existing`` puts bays only where the tags
(``parking:left|right|both``) allow parking today, at most the tagged capacity per way side, and counts
separately mapped parking as bays. Each is the command line's ``parkplan plan FILE --mode MODE``
(:func:`parkplan.osm.existing.plan_osm`). Data: © OpenStreetMap contributors, ODbL 1.0
(tests/data/osm/SOURCE.md).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import parkplan
from parkplan.check.core import run_check
from parkplan.osm.existing import plan_osm

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "osm" / "neukoelln-2024.osm"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="de-parkraum")
    parser.add_argument("--out", default="out")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    for mode in ("plan", "existing"):
        t0 = time.perf_counter()
        plan = plan_osm(DATA, rules=args.rules, mode=mode)
        dt = time.perf_counter() - t0
        # What the tags say, for the figures below.
        osm = parkplan.from_osm(DATA, mode=mode)
        hazards, ways, parking = osm.hazards, osm.ways, osm.parking
        by_orientation = {k: int(v) for k, v in plan.bays["orientation"].value_counts().items()}
        print(f"{mode:8s} {len(plan.bays):4d} bays {by_orientation} in {dt:.2f} s")
        counts = hazards["kind"].value_counts()
        print(f"         obstacles {counts.get('obstacle', 0)}, school gates {counts.get('school', 0)} read")
        if mode == "existing":
            allowed = int(ways["parking_left"].sum() + ways["parking_right"].sum())
            capacity = ways["capacity_left"].sum() + ways["capacity_right"].sum()
            print(f"         {allowed} of {2 * len(ways)} way sides allowed; tagged capacity {capacity:.0f}")
            print(
                f"         {len(parking)} separately mapped street-side parking ways "
                f"(tagged capacity {parking['capacity'].sum():.0f}): their kerb kept free, "
                f"{plan.summary.bays.separate or 0} bays of their own"
            )
            capped = plan.summary.capacity  # no way side keeps more bays than its tagged capacity
            assert capped is not None
            print(
                f"         tagged capacity on {capped.way_sides_tagged} way sides: "
                f"{capped.bays_dropped} bays capped, {capped.disagree} sides disagree with the geometry"
            )
        path = out / f"neukoelln_osm_{mode}_bays.geojson"
        plan.write(path)
        print(f"         wrote {path}")
        # The layout as written, checked against the rules and the tags on its own (docs/check.md).
        result = run_check(path, DATA, rules=args.rules, mode=mode)
        print(f"         {result.line()}")


if __name__ == "__main__":
    main()
