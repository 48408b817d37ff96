"""``parkplan check`` hazard clearances, measured by the checker on its own (parkplan.check.clearance).

Hand-made kerbs, hazards and bays with answers worked out on paper. Every test has a bay that is legal
only because of the rule under test, or illegal only because of it, so it fails if the rule is ignored.
Coordinates sit at UTM magnitudes (X0, Y0) so that rounding behaves as on real data.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from parkplan.check.attach import attach_bays
from parkplan.check.clearance import TOL_M, clearance_violations, hazard_places, tagged_no_parking
from parkplan.geometry.kerbs import build_kerbs
from parkplan.io.read import read_kerbs
from parkplan.rules.loading import load_rules

CRS = "EPSG:25833"
X0, Y0 = 392_000.0, 5_817_000.0


def rules_with(clearances, **extra):
    data = {
        "name": "t",
        "traffic": "right",
        "bays": {"car": {"orientation": "parallel", "length_m": 5.0, "width_m": 2.0}},
        "clearances": clearances,
    }
    data.update(extra)
    return load_rules(data)


def kerb_table(lines, rules, **columns):
    frame = gpd.GeoDataFrame(
        {"curb_id": [f"k{i}" for i in range(len(lines))], **columns}, geometry=list(lines), crs=CRS
    )
    return build_kerbs(read_kerbs(frame)[0], rules)


def xy(x, y):
    return (X0 + x, Y0 + y)


def line(*points):
    return LineString([xy(x, y) for x, y in points])


def hazard_frame(kinds, geoms, widths=None, ids=None, match=None):
    n = len(kinds)
    data = {
        "kind": list(kinds),
        "hazard_id": list(ids) if ids is not None else [f"h{i}" for i in range(n)],
        "width_m": [np.nan] * n if widths is None else [np.nan if w is None else w for w in widths],
    }
    if match is not None:
        data["match"] = list(match)
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=CRS)


def bay_on(kerbs, k, s0, s1, depth=2.0):
    """A bay along kerb ``k`` from chainage s0 to s1, ``depth`` deep on its carriageway side."""
    geom = kerbs.geometry.iloc[k]
    edge = shapely.ops.substring(geom, s0, s1)
    sign = 1.0 if kerbs["carriageway"].iloc[k] == "left" else -1.0
    far = shapely.offset_curve(edge, sign * depth, join_style="mitre")
    ring = list(edge.coords) + list(far.coords)[::-1]
    poly = Polygon(ring)
    assert poly.is_valid
    return poly


def check(kerbs, hazards, rules, extents):
    """Bays at ``extents`` ([(kerb, s0, s1), ...]) and the violations the checker finds for them."""
    bays = gpd.GeoDataFrame(geometry=[bay_on(kerbs, k, s0, s1) for k, s0, s1 in extents], crs=CRS)
    at = attach_bays(bays, kerbs)
    assert (at["kerb"].to_numpy() == [k for k, _, _ in extents]).all()
    assert at["carriageway_side"].all()
    return clearance_violations(bays, at, kerbs, hazards, rules)


def bad(violations):
    return sorted(set(violations["bay"].tolist()))


CROSSING = {"crossing": {"before_m": 5.0, "after_m": 0.0, "default_width_m": 4.0}}


# ------------------------------------------------------------------------------------------- points


def test_point_at_the_kerb_and_off_it_on_a_straight_kerb() -> None:
    rules = rules_with(CROSSING)
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    # At the kerb (chainage 30) and 7.5 m off it (chainage 70, a centreline node): both apply.
    hz = hazard_frame(["crossing", "crossing"], [Point(xy(30, 0)), Point(xy(70, -7.5))], ids=["c1", "c2"])
    places = hazard_places(hz, kerbs, rules)
    assert places["p0_m"].tolist() == pytest.approx([30.0, 70.0])
    # Own extent [28, 32] and [68, 72]; 5 m before each in the direction of traffic (forward).
    v = check(
        kerbs, hz, rules, [(0, 17.0, 22.9), (0, 18.0, 23.5), (0, 32.5, 37.5), (0, 57.5, 63.2), (0, 72, 77)]
    )
    assert bad(v) == [1, 3]
    row = v[v["bay"] == 1].iloc[0]
    assert row["hazard_id"] == "c1"
    assert row["required_m"] == pytest.approx(5.0)
    assert row["measured_m"] == pytest.approx(28.0 - 23.5)
    assert "before crossing c1" in row["detail"]
    assert v[v["bay"] == 3].iloc[0]["measured_m"] == pytest.approx(68.0 - 63.2)


coordinate = st.floats(min_value=0.0, max_value=40.0, allow_nan=False).map(lambda v: round(v, 2))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(coordinate, coordinate), min_size=2, max_size=6),
    st.tuples(coordinate, coordinate),
)
def test_passes_are_the_local_minima_of_a_densely_sampled_kerb(vertices, point) -> None:
    """The closed-form passes against brute force: the kerb sampled every 5 mm, local minima of distance."""
    pts = np.array(vertices, dtype=float)
    steps = np.hypot(*np.diff(pts, axis=0).T)
    assume(steps.min() > 0.5)
    rules = rules_with({})
    kerbs = kerb_table([line(*pts.tolist())], rules)
    geom = kerbs.geometry.iloc[0]
    assume(not geom.is_closed)
    hz = hazard_frame(["crossing"], [Point(xy(*point))], match=["all"])
    rules = rules_with({"crossing": {"snap_m": 100.0}})
    found = np.sort(hazard_places(hz, kerbs, rules)["p0_m"].to_numpy())
    # Brute force: samples every 5 mm (and every vertex), strict local minima (ends: one side).
    dense = shapely.segmentize(geom, 0.005)
    c = shapely.get_coordinates(dense)
    s = np.r_[0.0, np.cumsum(np.hypot(*np.diff(c, axis=0).T))]
    d = np.hypot(c[:, 0] - X0 - point[0], c[:, 1] - Y0 - point[1])
    left = np.r_[np.inf, d[:-1]]
    right = np.r_[d[1:], np.inf]
    # Plateaus (a kerb segment at constant distance) have no single minimum: leave those draws out.
    assume(not np.any(np.abs(np.diff(d)) < 1e-9))
    brute = s[(d < left) & (d < right)]
    assert all(np.min(np.abs(brute - f)) <= 0.01 for f in found), (found, brute)
    assert all(np.min(np.abs(found - b)) <= 0.01 for b in brute), (found, brute)


def test_point_beyond_snap_applies_nowhere() -> None:
    rules = rules_with(CROSSING)
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    hz = hazard_frame(["crossing"], [Point(xy(50, 20.5))])
    assert len(hazard_places(hz, kerbs, rules)) == 0
    assert bad(check(kerbs, hz, rules, [(0, 45, 50)])) == []


def test_jog_near_a_centreline_node_counts_the_second_pass() -> None:
    rules = rules_with({"crossing": {"before_m": 5.0, "after_m": 5.0, "default_width_m": 4.0}})
    # The kerb steps 3 m back at x = 40 (a recess); the node at (45, 4) is nearest the step's corner
    # (6.4 m), and the kerb passes it again beside it at (45, -3), 7 m away, chainage 48.
    kerbs = kerb_table([line((0, 0), (40, 0), (40, -3), (100, -3))], rules)
    hz = hazard_frame(["crossing"], [Point(xy(45, 4))])
    places = hazard_places(hz, kerbs, rules).sort_values("p0_m")
    assert places["p0_m"].tolist() == pytest.approx([40.0, 48.0])
    # Forbidden [33, 47] round the corner and [41, 55] beside the node: a bay at [49.5, 54.5] is illegal
    # only through the second pass, one at [56, 61] is legal.
    assert bad(check(kerbs, hz, rules, [(0, 49.5, 54.5), (0, 56.0, 61.0), (0, 26.0, 31.0)])) == [0]


def test_closed_kerb_joint_is_a_pass_only_where_the_kerb_leads_away_on_both_sides() -> None:
    rules = rules_with({"hydrant": {"before_m": 2.0, "after_m": 2.0, "default_width_m": 1.0}})
    # A closed square kerb (first vertex = last), carriageway inside. Beside the first segment, the joint
    # at chainage 0 / 80 is no pass (the distance falls into the first segment); outside the corner at
    # the joint it is a pass at both ends.
    kerbs = kerb_table([line((0, 0), (20, 0), (20, 20), (0, 20), (0, 0))], rules)
    hz = hazard_frame(["hydrant", "hydrant"], [Point(xy(5, -1)), Point(xy(-1, -1))], match=["all", "all"])
    places = hazard_places(hz, kerbs, rules)
    got = sorted(zip(places["hazard"], places["p0_m"].round(6), strict=True))
    assert got == [(0, 5.0), (1, 0.0), (1, 80.0)]


def arc(cx, cy, r, a0_deg, a1_deg, n):
    ang = np.radians(np.linspace(a0_deg, a1_deg, n + 1))
    return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in ang]


def test_kerb_arc_centred_on_the_node_has_a_place_on_every_chord() -> None:
    rules = rules_with({"crossing": {"before_m": 2.0, "after_m": 2.0, "default_width_m": 2.0}})
    # Straight, then a quarter arc of radius 8 about the node at (0, 0), then straight again: the
    # carriageway (left of the line) is inside the arc, where the node is.
    pts = [(-30.0, -8.0), *arc(0, 0, 8, -90, 0, 24)[:-1], (8.0, 0.0), (8.0, 30.0)]
    kerbs = kerb_table([line(*pts)], rules)
    hz = hazard_frame(["crossing"], [Point(xy(0, 0))])
    places = hazard_places(hz, kerbs, rules)
    # Every chord's midpoint is a pass at the same distance.
    assert len(places) == 24
    quarter = 8.0 * 24 * 2 * math.sin(math.radians(90 / 48))
    step = quarter / 24
    expected = 30.0 + step / 2 + step * np.arange(24)
    assert np.sort(places["p0_m"].to_numpy()) == pytest.approx(expected, abs=1e-6)
    # Together they forbid from the first - 1 - 2 to the last + 1 + 2: bays just before the arc and just
    # after it are illegal, bays clear of the whole arc legal.
    start_arc, end_arc = 30.0, 30.0 + quarter
    v = check(kerbs, hz, rules, [(0, start_arc - 7.0, start_arc - 2.0), (0, end_arc + 1.0, end_arc + 6.0)])
    assert bad(v) == [0, 1]
    extents = [(0, start_arc - 9.0, start_arc - 4.0), (0, end_arc + 3.5, end_arc + 8.5)]
    assert bad(check(kerbs, hz, rules, extents)) == []


def test_straight_kerb_far_from_the_point_has_one_pass_even_with_collinear_vertices() -> None:
    rules = rules_with(CROSSING)
    # Densified with a vertex exactly at the foot (x = 50) and others around it.
    kerbs = kerb_table([line(*[(float(x), 0.0) for x in range(0, 101, 5)])], rules)
    hz = hazard_frame(["crossing"], [Point(xy(50, 7.5))])
    places = hazard_places(hz, kerbs, rules)
    assert places["p0_m"].tolist() == pytest.approx([50.0])


# -------------------------------------------------------------------------------------------- lines

NO_PARKING = {"no_parking": {"before_m": 0.0, "after_m": 0.0}}


def test_line_along_the_kerb_at_a_shallow_angle_covers_its_span() -> None:
    rules = rules_with(NO_PARKING)
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    # Digitised "on" the kerb but crossing it at about 2 degrees at x = 45: its whole length is within snap.
    hz = hazard_frame(["no_parking"], [line((30, -0.5), (60, 0.5))])
    places = hazard_places(hz, kerbs, rules)
    along = places[~places["point_like"]]
    assert len(along) == 1
    assert along.iloc[0][["p0_m", "p1_m"]].tolist() == pytest.approx([30.0, 60.0], abs=1e-6)
    # Its crossing lies on the piece along the kerb: no place of its own.
    assert places["point_like"].sum() == 0
    v = check(kerbs, hz, rules, [(0, 52.0, 57.0), (0, 24.0, 29.0), (0, 61.0, 66.0)])
    assert bad(v) == [0]


def test_drive_drawn_at_45_degrees_crosses_the_kerb_and_does_not_lie_along_it() -> None:
    rules = rules_with({"driveway": {"before_m": 0.0, "after_m": 0.0, "default_width_m": 3.0}})
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    # Within the 3 m snap it projects onto 6 m of kerb, but its offsets range over 6 m too.
    hz = hazard_frame(["driveway"], [line((44, -4), (56, 8))])
    places = hazard_places(hz, kerbs, rules)
    assert places[["p0_m", "p1_m", "point_like"]].to_numpy().tolist() == [[48.0, 48.0, True]]
    # Own extent [46.5, 49.5]: legal just beside it, where 6 m of "along" would forbid [45, 51].
    assert bad(check(kerbs, hz, rules, [(0, 49.6, 54.6), (0, 41.3, 46.4), (0, 49.0, 54.0)])) == [2]


def test_crossings_closer_than_a_metre_are_one_place() -> None:
    rules = rules_with({"driveway": {"before_m": 0.0, "after_m": 0.0, "default_width_m": 0.0}})
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    # A drive that dips across the kerb and back within 0.8 m, and one that crosses twice 3 m apart.
    hz = hazard_frame(
        ["driveway", "driveway"],
        [line((30, 5), (30.2, -0.5), (30.8, -0.5), (31, 5)), line((70, 5), (70, -5), (73, -5), (73, 5))],
    )
    places = hazard_places(hz, kerbs, rules).sort_values("p0_m")
    got = places[["p0_m", "p1_m"]].to_numpy()
    assert got[0] == pytest.approx([30.0 + 0.2 * 5 / 5.5, 31.0 - 0.2 * 5 / 5.5])
    assert got[1:].tolist() == [[70.0, 70.0], [73.0, 73.0]]
    # No width: the first is the stretch between its crossings, the second two points.
    extents = [(0, 30.3, 30.7), (0, 24.0, 30.2), (0, 31.0, 36.0), (0, 71.0, 72.0)]
    assert bad(check(kerbs, hz, rules, extents)) == [0, 1]


def test_two_vertex_line_within_snap_covers_its_projection() -> None:
    rules = rules_with(NO_PARKING)
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    # Two vertices, no crossing, 2 to 2.5 m from the kerb: along it from 20 to 40.
    hz = hazard_frame(["no_parking"], [line((20, 2.0), (40, 2.5))])
    places = hazard_places(hz, kerbs, rules)
    assert places[["p0_m", "p1_m"]].to_numpy().tolist() == [pytest.approx([20.0, 40.0], abs=1e-6)]
    assert bad(check(kerbs, hz, rules, [(0, 27.0, 32.0), (0, 41.0, 46.0), (0, 14.0, 19.0)])) == [0]


def test_line_crossing_gets_the_driveway_width_and_one_ending_near_its_nearest_point() -> None:
    rules = rules_with({"driveway": {"before_m": 0.0, "after_m": 0.0, "default_width_m": 4.0}})
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    # A drive crossing at right angles (x = 30) and one ending 1 m short of the kerb (x = 70).
    hz = hazard_frame(["driveway", "driveway"], [line((30, -10), (30, 5)), line((70, -10), (70, -1))])
    places = hazard_places(hz, kerbs, rules)
    assert sorted(places["p0_m"].round(6).tolist()) == [30.0, 70.0]
    assert places["point_like"].all()
    # Own extents [28, 32] and [68, 72].
    v = check(kerbs, hz, rules, [(0, 22.5, 27.5), (0, 23.0, 28.5), (0, 72.5, 77.5), (0, 63.0, 68.3)])
    assert bad(v) == [1, 3]


def test_places_of_a_hazard_do_not_depend_on_the_others_in_the_batch() -> None:
    rules = rules_with({"driveway": {"before_m": 0.0, "after_m": 0.0, "default_width_m": 3.0}})
    kerbs = kerb_table([line((0, 0), (100, 0)), line((0, 40), (100, 40))], rules)
    # A crossing way running beside the kerb 12 m off it (within its 20 m snap), a driveway (3 m snap)
    # and a polygon: each kind measured with its own snap whatever else is in the frame.
    geoms = [
        line((20, -5), (20, 1)),
        line((40, 12), (55, 12.5)),
        Polygon([xy(70, 32), xy(80, 32), xy(80, 34), xy(70, 34)]),
        line((60, -5), (60, 1)),
    ]
    kinds = ["driveway", "crossing", "no_parking", "driveway"]
    rules = rules_with({"no_parking": {"snap_m": 8.0}})
    together = hazard_places(hazard_frame(kinds, geoms), kerbs, rules)
    for i in range(len(geoms)):
        alone = hazard_places(hazard_frame(kinds[i : i + 1], geoms[i : i + 1]), kerbs, rules)
        mine = together[together["hazard"] == i]
        assert mine[["kerb", "p0_m", "p1_m", "point_like"]].to_numpy().tolist() == (
            alone[["kerb", "p0_m", "p1_m", "point_like"]].to_numpy().tolist()
        ), kinds[i]
    crossing = together[together["hazard"] == 1]
    assert crossing[["kerb", "p0_m", "p1_m"]].to_numpy().tolist() == [pytest.approx([0, 40.0, 55.0])]
    assert together[together["hazard"] == 2][["kerb", "p0_m", "p1_m"]].to_numpy().tolist() == [
        pytest.approx([1, 70.0, 80.0])
    ]


def test_nearest_mode_line_keeps_only_the_kerb_it_crosses_or_the_nearest() -> None:
    rules = rules_with({"driveway": {"before_m": 0.0, "after_m": 0.0, "default_width_m": 4.0}})
    # Two kerbs 6 m apart; a drive crosses the lower one and ends 2 m short of the upper one.
    kerbs = kerb_table([line((0, 0), (100, 0)), line((100, 6), (0, 6))], rules)
    hz = hazard_frame(["driveway"], [line((50, -5), (50, 4))])
    places = hazard_places(hz, kerbs, rules)
    assert places["kerb"].tolist() == [0]


# ------------------------------------------------------------------------------------ flow, anchor


def test_backward_flow_swaps_before_and_after() -> None:
    rules = rules_with({"hydrant": {"before_m": 5.0, "after_m": 1.0, "default_width_m": 1.0}})
    lines = [line((0, 0), (100, 0)), line((0, 50), (100, 50))]
    kerbs = kerb_table(lines, rules, flow=["forward", "backward"])
    assert kerbs["carriageway"].tolist() == ["left", "right"]
    hz = hazard_frame(["hydrant", "hydrant"], [Point(xy(50, -1)), Point(xy(50, 51))])
    # Forward: forbidden [44.5, 51.5]; backward (upstream = higher chainage): [48.5, 55.5].
    extents = [(0, 40.0, 45.0), (0, 52.0, 57.0), (1, 40.0, 45.0), (1, 52.0, 57.0)]
    v = check(kerbs, hz, rules, extents)
    assert bad(v) == [0, 3]
    assert "before" in v[v["bay"] == 3].iloc[0]["detail"]
    assert v[v["bay"] == 3].iloc[0]["measured_m"] == pytest.approx(52.0 - 50.5)


def test_anchor_centre_measures_from_the_middle() -> None:
    rules = rules_with({"stop_sign": {"before_m": 3.0, "after_m": 3.0, "anchor": "centre"}})
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    hz = hazard_frame(["stop_sign"], [Point(xy(50, -0.5))], widths=[2.0])
    # Centre: [min(49, 47), max(51, 53)] = [47, 53] (edge would be [46, 54]).
    v = check(kerbs, hz, rules, [(0, 53.5, 58.5), (0, 41.0, 47.5), (0, 41.0, 46.5)])
    assert bad(v) == [1]
    row = v.iloc[0]
    assert row["measured_m"] == pytest.approx(2.5)
    assert row["required_m"] == pytest.approx(3.0)


def test_applies_to_opposite_forbids_across_the_carriageway_and_only_the_own_extent_here() -> None:
    rules = rules_with(
        {
            "driveway": {
                "before_m": 5.0,
                "after_m": 5.0,
                "default_width_m": 4.0,
                "applies_to": "opposite",
            }
        }
    )
    # Two kerbs 8 m apart, the carriageway between them (both forward: left of each line).
    kerbs = kerb_table([line((0, 0), (100, 0)), line((100, 8), (0, 8))], rules)
    hz = hazard_frame(["driveway"], [Point(xy(50, -1))])
    # Own kerb: [48, 52] only. Opposite kerb: the ray hits x = 50 = chainage 50; forbidden [43, 57].
    extents = [(0, 52.5, 57.5), (0, 43.0, 48.5), (1, 55.0, 60.0), (1, 58.0, 63.0), (1, 37.0, 42.0)]
    v = check(kerbs, hz, rules, extents)
    assert bad(v) == [1, 2]
    assert "opposite" in v[v["bay"] == 2].iloc[0]["detail"]


def test_straight_line_rule_on_a_kerb_wrapping_round_the_point() -> None:
    rules = rules_with({"hydrant": {"before_m": 6.0, "after_m": 6.0, "default_width_m": 1.0}})
    # An arc of radius 6 about (0.5, 0) from 80 to 280 degrees, then 20 m straight on; the hydrant at
    # (0, 0). The arc passes it nearest at (-5.5, 0), chainage 6 m x 100 degrees: forbidden along the
    # kerb +-6.5 m from there. R = 0.5 + 6 = 6.5 m, and the whole arc is nearer than that in a straight line.
    pts = arc(0.5, 0.0, 6.0, 80.0, 280.0, 400)
    tangent = np.array([-math.sin(math.radians(280.0)), math.cos(math.radians(280.0))])
    pts.append(tuple(np.array(pts[-1]) + 20.0 * tangent))
    kerbs = kerb_table([line(*pts)], rules)
    hz = hazard_frame(["hydrant"], [Point(xy(0, 0))], match=["all"])
    places = hazard_places(hz, kerbs, rules)
    # The chords right beside the nearest point hold feet of the perpendicular: passes within a metre.
    p0 = places["p0_m"].min()
    assert p0 <= 6.0 * math.radians(100.0) <= places["p1_m"].max() < p0 + 1.0
    arc_end = 6.0 * math.radians(200.0)
    v = check(kerbs, hz, rules, [(0, 0.0, 3.0), (0, arc_end + 8.0, arc_end + 13.0)])
    # Along the kerb the first bay is clear of the pass by more than 6.5 m; in a straight line it is not.
    assert p0 - 6.5 > 3.0
    assert bad(v) == [0]
    row = v.iloc[0]
    assert row["required_m"] == pytest.approx(6.5)
    assert row["measured_m"] < 6.5 - TOL_M
    assert "straight line" in row["detail"]


def test_tolerance_one_centimetre() -> None:
    rules = rules_with(CROSSING)
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    hz = hazard_frame(["crossing"], [Point(xy(50, 0))])
    # Forbidden [43, 52]: 8 mm into it is within the tolerance, 3 cm is not.
    assert bad(check(kerbs, hz, rules, [(0, 38.008, 43.008), (0, 52.0 - 0.008, 57.0)])) == []
    assert bad(check(kerbs, hz, rules, [(0, 38.03, 43.03), (0, 52.0 - 0.03, 57.0)])) == [0, 1]


# ------------------------------------------------------------------------------ polygons, corners


def test_polygon_covers_the_kerb_inside_it_or_the_span_of_its_near_vertices() -> None:
    rules = rules_with({"bus_stop": {"before_m": 0.0, "after_m": 0.0}})
    kerbs = kerb_table([line((0, 0), (100, 0)), line((100, 40), (0, 40))], rules)
    inside = Polygon([xy(20, -2), xy(35, -2), xy(35, 1), xy(20, 1)])
    behind = Polygon([xy(60, 41), xy(70, 41.5), xy(75, 45), xy(60, 48)])
    hz = hazard_frame(["bus_stop", "bus_stop"], [inside, behind])
    places = hazard_places(hz, kerbs, rules).sort_values("kerb")
    # Kerb 1 runs from x = 100 to x = 0: the vertices (all within the 10 m snap) at x 60, 70, 75 and 60.
    assert places[["kerb", "p0_m", "p1_m"]].to_numpy().tolist() == [
        pytest.approx([0, 20.0, 35.0]),
        pytest.approx([1, 25.0, 40.0]),
    ]
    assert not places["point_like"].any()
    v = check(kerbs, hz, rules, [(0, 14.0, 19.0), (0, 30.0, 35.5), (1, 40.5, 45.5), (1, 20.0, 25.5)])
    assert bad(v) == [1, 3]


def test_kerb_corners_are_intersections_with_the_corner_arc_as_own_extent() -> None:
    rules = rules_with({"intersection": {"before_m": 5.0, "after_m": 5.0}})
    square = Polygon([xy(0, 0), xy(60, 0), xy(60, 60), xy(0, 60)])
    frame = gpd.GeoDataFrame({"curb_id": ["a"]}, geometry=[square], crs=CRS)
    kerbs = build_kerbs(read_kerbs(frame)[0], rules)
    assert len(kerbs) == 4
    hz = hazard_frame([], [])
    places = hazard_places(hz, kerbs, rules)
    assert len(places) == 8
    assert (places["kind"] == "intersection").all()
    # Sharp corners: own extent [0, 0] and [60, 60]; forbidden [0, 5] and [55, 60] on each kerb.
    v = check(kerbs, hz, rules, [(0, 4.0, 9.0), (0, 5.0, 10.0), (1, 50.0, 55.0), (1, 50.0, 55.5)])
    assert bad(v) == [0, 3]


# --------------------------------------------------------------------------------- other behaviour


def test_multipoint_parts_are_separate_hazards_and_nearest_mode_slack() -> None:
    rules = rules_with({"hydrant": {"before_m": 2.0, "after_m": 2.0, "default_width_m": 1.0}})
    # Kerbs at y = 0 and y = 4 (a narrow street); hydrant parts at 1.5 m and at 2.8 m from the lower kerb.
    kerbs = kerb_table([line((0, 0), (100, 0)), line((100, 4), (0, 4))], rules)
    hz = hazard_frame(["hydrant"], [MultiPoint([xy(20, 1.5), xy(70, 1.2)])])
    places = hazard_places(hz, kerbs, rules)
    # Part one: 1.5 m from kerb 0 and 2.5 m from kerb 1 (within 1 m more): both. Part two: 1.2 / 2.8: kerb 0.
    assert sorted(zip(places["part"], places["kerb"], strict=True)) == [(0, 0), (0, 1), (1, 0)]


def test_a_bay_on_the_footway_side_is_left_to_the_footway_check() -> None:
    rules = rules_with(CROSSING)
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    hz = hazard_frame(["crossing"], [Point(xy(50, 0))])
    bays = gpd.GeoDataFrame(geometry=[Polygon([xy(44, 0), xy(49, 0), xy(49, -2), xy(44, -2)])], crs=CRS)
    at = attach_bays(bays, kerbs)
    assert not at["carriageway_side"].iloc[0]
    assert len(clearance_violations(bays, at, kerbs, hz, rules)) == 0


def test_one_row_per_bay_and_hazard_the_worst_rule() -> None:
    rules = rules_with(
        {
            "crossing": [
                {"before_m": 5.0, "after_m": 0.0, "default_width_m": 4.0},
                {"before_m": 8.0, "default_width_m": 0.0},
            ]
        }
    )
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    hz = hazard_frame(["crossing"], [Point(xy(50, 0))])
    # Rule one forbids [43, 52], rule two [42, 50]: the bay breaks both, rule two by more.
    v = check(kerbs, hz, rules, [(0, 38.0, 43.5)])
    assert len(v) == 1
    assert v.iloc[0]["required_m"] == pytest.approx(8.0)
    assert v.iloc[0]["measured_m"] == pytest.approx(6.5)


def test_widths_feature_rule_kind_and_minimum() -> None:
    rules = rules_with(
        {"driveway": {"before_m": 0.0, "after_m": 0.0, "min_width_m": 2.0}},
        kinds={"driveway": {"width_m": 3.5}},
    )
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    # No width anywhere but the kind's built-in 3.5 m: [18.25, 21.75]; the feature's 6 m: [57, 63];
    # the feature's 1 m is raised to the rule's minimum 2 m: [79, 81].
    drives = [line((20, -5), (20, 1)), line((60, -5), (60, 1)), line((80, -5), (80, 1))]
    hz = hazard_frame(["driveway"] * 3, drives, widths=[None, 6.0, 1.0])
    extents = [
        (0, 13.0, 18.3),
        (0, 21.7, 26.7),
        (0, 52.0, 57.05),
        (0, 63.5, 68.5),
        (0, 74.0, 79.05),
        (0, 81.0, 86.0),
    ]
    v = check(kerbs, hz, rules, extents)
    assert bad(v) == [0, 1, 2, 4]


def test_tagged_no_parking_from_kerb_columns() -> None:
    rules = rules_with({})
    kerbs = kerb_table([line((0, 0), (100, 0)), line((100, 8), (0, 8)), line((0, 30), (100, 30))], rules)
    kerbs["source_id"] = ["way/1", "way/1", "way/2"]
    kerbs["side"] = ["right", "left", "right"]
    kerbs["reason_left"] = ["parking:left=no_stopping", "parking:left=no_stopping", None]
    kerbs["reason_right"] = [None, None, "untagged"]
    bays = gpd.GeoDataFrame(
        geometry=[bay_on(kerbs, 0, 10, 15), bay_on(kerbs, 1, 10, 15), bay_on(kerbs, 2, 10, 15)], crs=CRS
    )
    at = attach_bays(bays, kerbs)
    v = tagged_no_parking(at, kerbs)
    assert v["bay"].tolist() == [1]
    assert v.iloc[0]["check"] == "tagged_no_parking"
    assert v.iloc[0]["hazard_id"] == "way/1"
    assert "parking:left=no_stopping" in v.iloc[0]["detail"]
    # Without tag columns: nothing to check.
    assert len(tagged_no_parking(at, kerbs.drop(columns=["reason_left", "reason_right"]))) == 0
    both = clearance_violations(bays, at, kerbs, hazard_frame([], []), rules)
    assert both["check"].tolist() == ["tagged_no_parking"]


def test_tagged_no_parking_from_the_reason_of_existing_mode_side_lines() -> None:
    rules = rules_with({})
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    # Existing mode's side lines, 0.5 m inside the kerb, with the deciding tag.
    hz = hazard_frame(
        ["no_parking"] * 3,
        [line((0, 0.5), (30, 0.5)), line((35, 0.5), (60, 0.5)), line((65, 0.5), (100, 0.5))],
        ids=["way/1/left", "way/2/left", "way/3/left"],
    )
    hz["reason"] = ["parking:left=no_stopping", "untagged", "parking:left=separate"]
    v = check(kerbs, hz, rules, [(0, 10.0, 15.0), (0, 40.0, 45.0), (0, 70.0, 75.0), (0, 30.5, 34.5)])
    assert v[["bay", "check"]].to_numpy().tolist() == [
        [0, "tagged_no_parking"],
        [1, "clearance"],
        [2, "clearance"],
    ]
    assert v.iloc[0]["detail"].startswith("on a kerb side tagged parking:left=no_stopping (way/1/left)")


def test_output_columns_and_empty_inputs() -> None:
    rules = rules_with(CROSSING)
    kerbs = kerb_table([line((0, 0), (100, 0))], rules)
    v = check(kerbs, hazard_frame([], []), rules, [(0, 10.0, 15.0)])
    assert list(v.columns) == ["bay", "check", "detail", "hazard_id", "kind", "required_m", "measured_m"]
    assert len(v) == 0
    assert isinstance(v, pd.DataFrame)
