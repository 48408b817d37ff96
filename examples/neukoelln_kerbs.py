"""Plan the real kerb layer of Berlin-Neukölln: 526 km of kerb, 1,055 crossings, 6,030 service ways.

Run from the repository root::

    python examples/neukoelln_kerbs.py            # de-parkraum rules, writes out/neukoelln_bays.geojson
    python examples/neukoelln_kerbs.py --rules cn

Data: © OpenStreetMap contributors; Bordsteinkanten: OpenStreetMap und Geoportal Berlin / ALKIS (ODbL 1.0).

The street-area layer was cut by its producer to a rectangle with a margin of "carriageway" between the
rectangle and the buffer around the district. That margin and the rectangle are not kerb: the script finds
the margin (carriageway wider than 40 m that touches the rectangle) and passes the rest as the plan's
``extent``, so boundary lying on the margin is left out.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import geopandas as gpd
import shapely

import parkplan
from parkplan.check.core import run_check

DATA = Path(__file__).resolve().parent / "data" / "neukoelln-kerbs"


def data_extent(areas: gpd.GeoDataFrame, opening_m: float = 20.0) -> shapely.Geometry:
    """The area the street-area layer really covers: its outer ring minus the wide margin along it."""
    union = shapely.union_all(areas.geometry.values)
    main = max(shapely.get_parts(union), key=lambda p: p.area)
    opened = shapely.buffer(shapely.buffer(main, -opening_m, quad_segs=4), opening_m, quad_segs=4)
    margin = shapely.union_all(
        [p for p in shapely.get_parts(opened) if shapely.dwithin(p, main.exterior, 0.5)]
    )
    return shapely.difference(shapely.Polygon(main.exterior), margin)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="de-parkraum")
    parser.add_argument("--out", default="out")
    args = parser.parse_args()

    t0 = time.perf_counter()
    areas = gpd.read_file(DATA / "kerb_street_areas.geojson")
    extent = data_extent(areas)
    hazards = [
        parkplan.HazardSource(DATA / "crossing.geojson", "crossing"),
        parkplan.HazardSource(DATA / "service_driveways.geojson", "driveway"),
    ]
    plan = parkplan.plan(areas, hazards, rules=args.rules, extent=extent)
    out = Path(args.out)
    out.mkdir(exist_ok=True)
    plan.write(
        out / "neukoelln_bays.geojson",
        zones=out / "neukoelln_zones.geojson",
        summary=out / "neukoelln_summary.json",
    )
    elapsed = time.perf_counter() - t0

    s = plan.summary
    print(f"rules {s['rules']}: {s['kerbs']['count']} kerbs, {s['kerbs']['length_m'] / 1000:.1f} km")
    for name, count in s["bays"]["by_type"].items():
        print(f"  {name:12} {count:7d} bays")
    for name, count in s["bays"]["by_orientation"].items():
        print(f"  {name:12} {count:7d} bays")
    solver = s["solver"]
    print(f"  total        {s['bays']['total']:7d} bays, solver {solver['status']}, gap {solver['gap']:.2%}")
    lost = plan.kerbs.filter(regex=r"^lost_.+_m$").sum()
    for column, metres in lost.items():
        print(f"  {column:24} {metres / 1000:8.1f} km")
    bay_km = plan.kerbs["bay_m"].sum() / 1000
    print(f"  bays {bay_km:.1f} km, leftover {plan.kerbs['leftover_m'].sum() / 1000:.1f} km")
    h = s["hazards"]
    print(f"hazards: {h['matched']} of {h['total']} matched a kerb ({h['by_kind']})")
    print(f"stages (s): {s['timings_s']}; total {elapsed:.2f} s; wrote {out / 'neukoelln_bays.geojson'}")
    # The layout as written, checked against the rules on its own (parkplan check; docs/check.md).
    result = run_check(out / "neukoelln_bays.geojson", areas, hazards, rules=args.rules, extent=extent)
    print(result.line())


if __name__ == "__main__":
    main()
