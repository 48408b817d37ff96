"""Kerbs cut into parts face the parts across the street wherever their bays would.

A street drawn as several ways has its kerbs cut where the way beside each changes, and the two sides
are cut at different places. Rays across the carriageway every 10 m met one part; a piece of kerb near
the cut also faces the next part, and bays there could stand 2 m apart on a 6 m street (Helsinki under
``au`` and ``jp``: 3 bays in 2 places that ``parkplan check`` reported as ``clear_width``; that case is
in tests/test_datasets.py). Here the invariant on drawn streets: whatever the cuts and the driveways, the
plan passes the checker.
"""

from __future__ import annotations

import geopandas as gpd
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

import parkplan

CRS = "EPSG:25833"
RULES = {
    "name": "t",
    "traffic": "right",
    "bays": {"car": {"orientation": "parallel", "length_m": 5.2, "width_m": 2.0}},
    # 2.0 + 2.0 + 3.1 > 6: on a 6 m street bays may stand on one side only at any place
    "cross_section": {"min_clear_width_m": 3.1},
}


def street(south_cut: float, north_cut: float) -> gpd.GeoDataFrame:
    """A 6 m street, 100 m long, each kerb in two parts cut at the given distances from the west end."""
    rows = [
        ("s1", [(0, 0), (south_cut, 0)], "right"),
        ("s2", [(south_cut, 0), (100, 0)], "right"),
        ("n1", [(0, 6), (north_cut, 6)], "left"),
        ("n2", [(north_cut, 6), (100, 6)], "left"),
    ]
    return gpd.GeoDataFrame(
        {
            "curb_id": [c for c, _, _ in rows],
            "side": [s for _, _, s in rows],
            "flow": ["forward" if s == "right" else "backward" for _, _, s in rows],
        },
        geometry=[LineString(xy) for _, xy, _ in rows],
        crs=CRS,
    )


def driveways(south: list[tuple[float, float]], north: list[tuple[float, float]]) -> gpd.GeoDataFrame | None:
    """Driveways ``(x, width_m)`` on the south and north kerbs."""
    points = [Point(x, -1) for x, _ in south] + [Point(x, 7) for x, _ in north]
    if not points:
        return None
    widths = [w for _, w in south] + [w for _, w in north]
    return gpd.GeoDataFrame({"kind": ["driveway"] * len(points), "width_m": widths}, geometry=points, crs=CRS)


@settings(max_examples=25, deadline=None)
@given(
    south_cut=st.floats(15.0, 85.0),
    north_cut=st.floats(15.0, 85.0),
    south=st.lists(st.tuples(st.floats(0.0, 100.0), st.floats(1.0, 40.0)), max_size=4),
    north=st.lists(st.tuples(st.floats(0.0, 100.0), st.floats(1.0, 40.0)), max_size=4),
)
def test_no_two_bays_face_each_other_on_a_street_too_narrow_for_both_sides(
    south_cut: float, north_cut: float, south: list[tuple[float, float]], north: list[tuple[float, float]]
) -> None:
    """Property: on a 6 m street that takes bays on one side only, however the kerbs were cut into
    parts and wherever the driveways are, ``parkplan check`` finds no clear-width violation."""
    k = street(south_cut, north_cut)
    haz = driveways(south, north)
    p = parkplan.plan(k, haz, rules=RULES)
    violations = parkplan.check(p.bays, k, haz, rules=RULES)
    assert len(violations) == 0, violations
