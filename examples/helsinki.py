"""Count today's street parking in central Helsinki from OpenStreetMap parking tags (existing mode).

Run from the repository root::

    python examples/helsinki.py               # writes out/helsinki_existing_bays.geojson
    python examples/helsinki.py --out /tmp/x

Data: © OpenStreetMap contributors, ODbL 1.0 (see examples/data/helsinki/SOURCE.md). The extract uses the
old ``parking:lane:*`` scheme; only kerb sides whose tags allow parking get bays (untagged sides none).
The plan is the command line's ``parkplan plan Helsinki.osm.pbf --mode existing``
(:func:`parkplan.osm.existing.plan_osm`): the tagged capacity caps the bays of each way side, and separately
mapped street-side parking is counted as bays.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import parkplan
from parkplan.check.core import run_check
from parkplan.osm.existing import plan_osm
from parkplan.osm.streets import osm_extent

DATA = Path(__file__).resolve().parent / "data" / "helsinki" / "Helsinki.osm.pbf"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="de-parkraum")
    parser.add_argument("--out", default="out")
    args = parser.parse_args()

    t0 = time.perf_counter()
    # What the tags say (for the figures below); plan_osm reads the file again for the plan.
    osm = parkplan.from_osm(DATA, mode="existing")
    hazards, ways, parking = osm.hazards, osm.ways, osm.parking
    t1 = time.perf_counter()
    plan = plan_osm(DATA, rules=args.rules, mode="existing")
    t2 = time.perf_counter()

    sides = {"left": ways["parking_left"], "right": ways["parking_right"]}
    allowed = int(sum(int(s.sum()) for s in sides.values()))
    print(f"{len(ways)} carriageway ways, {allowed} of {2 * len(ways)} sides allowed by the tags")
    tagged_orientation = (
        ways.loc[ways["parking_left"], "orientation_left"]
        .fillna("untagged")
        .value_counts()
        .add(
            ways.loc[ways["parking_right"], "orientation_right"].fillna("untagged").value_counts(),
            fill_value=0,
        )
    )
    print("allowed sides by tagged orientation:", {k: int(v) for k, v in tagged_orientation.items()})
    reasons = (
        hazards["reason"]
        .dropna()
        .str.replace(r"parking:(lane:)?(left|right|both)", r"parking:\1<side>", regex=True)
    )
    print("forbidden sides by reason:", {k: int(v) for k, v in reasons.value_counts().head(8).items()})
    print(
        f"separately mapped street-side parking: {len(parking)} ways, {plan.summary.bays.separate or 0} bays"
    )
    print(
        f"{len(plan.bays)} bays; by orientation:",
        {k: int(v) for k, v in plan.bays["orientation"].value_counts().items()},
    )
    print("by type:", plan.summary["bays"]["by_type"])
    print(
        "obstacles and school gates read:",
        {k: int(v) for k, v in hazards["kind"].value_counts().items() if k in ("obstacle", "school")},
    )
    # Tagged parking:<side>:capacity is a count on the street: no way side kept more bays than it.
    counts = plan.summary.capacity
    assert counts is not None  # existing mode
    spaces = int(ways["capacity_left"].sum() + ways["capacity_right"].sum())  # NaN (untagged) is skipped
    print(
        f"tagged capacity on {counts.way_sides_tagged} way sides ({spaces} spaces): "
        f"{counts.bays_dropped} bays capped, {counts.disagree} sides disagree with the geometry "
        f"({counts.capped} capped, {counts.capped_partly} capped partly, "
        f"{counts.geometry_fits_fewer} fit fewer), {counts.agrees} agree; {len(plan.bays)} bays left"
    )
    print(f"read the tags {t1 - t0:.2f} s, read and plan {t2 - t1:.2f} s ({plan.summary.solver.status})")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plan.write(out / "helsinki_existing_bays.geojson")
    forbidden = hazards[hazards["kind"] == "no_parking"]
    forbidden.to_file(out / "helsinki_no_parking.geojson", driver="GeoJSON")
    print(f"wrote {out / 'helsinki_existing_bays.geojson'} and {out / 'helsinki_no_parking.geojson'}")
    # The layout as written, checked against the rules and the tags on its own (docs/check.md).
    result = run_check(
        out / "helsinki_existing_bays.geojson",
        DATA,
        rules=args.rules,
        mode="existing",
        extent=osm_extent(DATA),
    )
    print(result.line())


if __name__ == "__main__":
    main()
