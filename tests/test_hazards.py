"""Hazards to forbidden chainage intervals: projection, clearances by direction of traffic, clipping,
line and polygon hazards, kerb matching ("nearest" / "all"), unmatched and unknown hazards."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

import parkplan

CRS = "EPSG:25833"
TOL = 1e-3


def kerbs_frame(lines, **columns):
    data = {"curb_id": [f"k{i}" for i in range(len(lines))], **columns}
    return gpd.GeoDataFrame(data, geometry=list(lines), crs=CRS)


def hazards_frame(kinds, geoms, widths=None, ids=None):
    data = {
        "kind": list(kinds),
        "hazard_id": list(ids) if ids is not None else [f"h{i}" for i in range(len(kinds))],
    }
    if widths is not None:
        data["width_m"] = [np.nan if w is None else float(w) for w in widths]
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=CRS)


def make_rules(clearances=None, **extra):
    rules = {
        "name": "t",
        "traffic": "right",
        "bays": {"car": {"orientation": "parallel", "length_m": 6.0, "width_m": 2.5}},
        "clearances": clearances if clearances is not None else {},
    }
    rules.update(extra)
    return rules


HYDRANT = {"hydrant": {"before_m": 5.0, "after_m": 3.0}}


def zone(p, hazard_id, curb_id=None):
    z = p.zones[p.zones["hazard_id"] == hazard_id]
    if curb_id is not None:
        z = z[z["curb_id"] == curb_id]
    assert len(z) == 1, f"expected one zone for {hazard_id} on {curb_id}, got:\n{z}"
    row = z.iloc[0]
    return float(row["start_m"]), float(row["end_m"])


def assert_interval(got, expected):
    assert got[0] == pytest.approx(expected[0], abs=TOL)
    assert got[1] == pytest.approx(expected[1], abs=TOL)


# --------------------------------------------------------------------------------------------------
# Point hazards: chainage and asymmetric clearances
# --------------------------------------------------------------------------------------------------

STRAIGHT = LineString([(0.0, 0.0), (100.0, 0.0)])


@pytest.mark.parametrize(
    ("flow", "expected"),
    [("forward", (35.0, 43.0)), ("backward", (37.0, 45.0))],
)
def test_point_clearance_follows_direction_of_traffic(flow, expected):
    # Hydrant on the footway 2 m behind the kerb at chainage 40: 5 m before it, 3 m after it.
    p = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=[flow]),
        hazards_frame(["hydrant"], [Point(40, -2)]),
        rules=make_rules(HYDRANT),
    )
    assert_interval(zone(p, "h0"), expected)
    z = p.zones.iloc[0]
    assert z["kind"] == "hydrant"
    assert z["hazard_start_m"] == pytest.approx(40.0, abs=TOL)
    assert z["hazard_end_m"] == pytest.approx(40.0, abs=TOL)
    # The zone's geometry is the forbidden stretch of kerb.
    assert p.zones.geometry.iloc[0].length == pytest.approx(8.0, abs=TOL)


@pytest.mark.parametrize("x", [12.5, 40.0, 77.0])
@pytest.mark.parametrize("width", [None, 1.2])
def test_forward_and_backward_mirror(x, width):
    """Forward and backward flow on the same line mirror the clearances about the hazard; reversing the
    digitised line together with the flow gives the same physical zone at mirrored chainage."""
    length = 100.0
    before, after = 6.0, 2.5
    rules = make_rules({"hydrant": {"before_m": before, "after_m": after, "default_width_m": 0.8}})
    w = 0.8 if width is None else width
    haz = hazards_frame(["hydrant"], [Point(x, 1.0)], widths=[width])
    fwd = parkplan.plan(kerbs_frame([STRAIGHT], flow=["forward"]), haz, rules=rules)
    bwd = parkplan.plan(kerbs_frame([STRAIGHT], flow=["backward"]), haz, rules=rules)
    a, b = x - w / 2, x + w / 2
    assert_interval(zone(fwd, "h0"), (a - before, b + after))
    assert_interval(zone(bwd, "h0"), (a - after, b + before))
    # Mirror about the hazard's centre.
    fs, fe = zone(fwd, "h0")
    bs, be = zone(bwd, "h0")
    assert x - fs == pytest.approx(be - x, abs=TOL)
    assert fe - x == pytest.approx(x - bs, abs=TOL)

    # Same street, line digitised the other way with traffic still towards +x (flow backward).
    reversed_line = LineString([(length, 0.0), (0.0, 0.0)])
    rev = parkplan.plan(kerbs_frame([reversed_line], flow=["backward"], side=["left"]), haz, rules=rules)
    rs, re_ = zone(rev, "h0")
    assert_interval((length - re_, length - rs), (fs, fe))


def test_point_width_from_feature_and_default():
    rules = make_rules({"hydrant": {"before_m": 5.0, "after_m": 3.0, "default_width_m": 2.0}})
    haz = hazards_frame(["hydrant", "hydrant"], [Point(30, -1), Point(70, -1)], widths=[1.0, None])
    p = parkplan.plan(kerbs_frame([STRAIGHT], flow=["forward"]), haz, rules=rules)
    assert_interval(zone(p, "h0"), (29.5 - 5.0, 30.5 + 3.0))
    assert_interval(zone(p, "h1"), (69.0 - 5.0, 71.0 + 3.0))


def test_min_width_applies_to_points():
    rules = make_rules({"driveway": {"default_width_m": 1.0, "min_width_m": 4.0}})
    haz = hazards_frame(["driveway", "driveway"], [Point(30, -1), Point(70, -1)], widths=[2.0, 6.0])
    p = parkplan.plan(kerbs_frame([STRAIGHT], flow=["forward"]), haz, rules=rules)
    assert_interval(zone(p, "h0"), (28.0, 32.0))
    assert_interval(zone(p, "h1"), (67.0, 73.0))


@pytest.mark.parametrize(
    ("flow", "x", "expected"),
    [
        ("forward", 2.0, (0.0, 5.0)),  # 5 m before would reach -3: clipped at the start
        ("forward", 98.0, (93.0, 100.0)),  # 3 m after would reach 101: clipped at the end
        ("backward", 2.0, (0.0, 7.0)),  # backward: 3 m "after" lies towards chainage 0
        ("backward", 98.0, (95.0, 100.0)),  # and 5 m "before" towards the end
        ("forward", 0.0, (0.0, 3.0)),
        ("forward", 100.0, (95.0, 100.0)),
    ],
)
def test_clipping_at_kerb_ends(flow, x, expected):
    p = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=[flow]),
        hazards_frame(["hydrant"], [Point(x, -1)]),
        rules=make_rules(HYDRANT),
    )
    got = zone(p, "h0")
    assert_interval(got, expected)
    assert 0.0 <= got[0] <= got[1] <= 100.0
    row = p.kerbs.iloc[0]
    assert row["lost_m"] == pytest.approx(expected[1] - expected[0], abs=TOL)


def test_point_beyond_kerb_end_projects_to_end():
    # 2 m past the kerb end (within the hydrant's 8 m snap): projects onto chainage 100.
    p = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=["forward"]),
        hazards_frame(["hydrant"], [Point(102, 0)]),
        rules=make_rules(HYDRANT),
    )
    assert_interval(zone(p, "h0"), (95.0, 100.0))


def test_chainage_on_bent_kerb():
    # L-shaped kerb: 50 m along x, then 50 m along y. A hydrant beside the second leg at y = 20
    # sits at chainage 70.
    bent = LineString([(0, 0), (50, 0), (50, 50)])
    p = parkplan.plan(
        kerbs_frame([bent], flow=["forward"]),
        hazards_frame(["hydrant"], [Point(52, 20)]),
        rules=make_rules(HYDRANT),
    )
    assert_interval(zone(p, "h0"), (65.0, 73.0))
    geom = p.zones[p.zones["hazard_id"] == "h0"].geometry.iloc[0]
    assert geom.length == pytest.approx(8.0, abs=TOL)
    assert shapely.get_point(geom, 0).distance(Point(50, 15)) < TOL
    assert shapely.get_point(geom, -1).distance(Point(50, 23)) < TOL


def test_kind_without_clearance_blocks_only_its_extent():
    haz = hazards_frame(["obstacle", "utility_shaft"], [Point(20, -0.5), Point(60, -0.5)], widths=[1.0, 0.6])
    p = parkplan.plan(kerbs_frame([STRAIGHT], flow=["forward"]), haz, rules=make_rules(HYDRANT))
    assert_interval(zone(p, "h0"), (19.5, 20.5))
    assert_interval(zone(p, "h1"), (59.7, 60.3))


def test_point_without_width_and_no_clearance_blocks_nothing():
    p = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=["forward"]),
        hazards_frame(["obstacle"], [Point(20, -0.5)]),
        rules=make_rules(),
    )
    assert len(p.zones) == 0
    assert p.summary["hazards"]["matched"] == 1
    assert len(p.bays) == 16  # floor(100 / 6)


# --------------------------------------------------------------------------------------------------
# Line hazards
# --------------------------------------------------------------------------------------------------

DRIVEWAY_RULES = make_rules({"driveway": {"before_m": 1.0, "after_m": 0.5, "default_width_m": 3.5}})


@pytest.mark.parametrize("flow", ["forward", "backward"])
def test_driveway_line_crossing_kerb(flow):
    # Two driveways drawn from the buildings across the kerb into the street: one perpendicular at
    # x = 30 with width_m 4, one diagonal crossing at x = 70 without width (rules default 3.5 m).
    lines = [LineString([(30, -8), (30, 2)]), LineString([(65, -5), (75, 5)])]
    haz = hazards_frame(["driveway", "driveway"], lines, widths=[4.0, None])
    p = parkplan.plan(kerbs_frame([STRAIGHT], flow=[flow]), haz, rules=DRIVEWAY_RULES)
    up, down = (1.0, 0.5) if flow == "forward" else (0.5, 1.0)
    assert_interval(zone(p, "h0"), (28.0 - up, 32.0 + down))
    assert_interval(zone(p, "h1"), (70.0 - 1.75 - up, 70.0 + 1.75 + down))
    z = p.zones.set_index("hazard_id")
    assert z.loc["h0", "hazard_start_m"] == pytest.approx(28.0, abs=TOL)
    assert z.loc["h0", "hazard_end_m"] == pytest.approx(32.0, abs=TOL)


def test_driveway_line_ending_on_the_kerb_and_short_of_it():
    # One ends exactly on the kerb, one stops 1 m short of it (still within the 3 m driveway snap).
    lines = [LineString([(30, -8), (30, 0)]), LineString([(60, -8), (60, -1)])]
    haz = hazards_frame(["driveway", "driveway"], lines)
    p = parkplan.plan(kerbs_frame([STRAIGHT], flow=["forward"]), haz, rules=DRIVEWAY_RULES)
    assert_interval(zone(p, "h0"), (30.0 - 1.75 - 1.0, 30.0 + 1.75 + 0.5))
    assert_interval(zone(p, "h1"), (60.0 - 1.75 - 1.0, 60.0 + 1.75 + 0.5))


@pytest.mark.parametrize("flow", ["forward", "backward"])
def test_line_crossing_kerb_twice_applies_at_each_crossing(flow):
    """A semicircular drive (one line entering the street at x=20 and leaving it at x=50) applies at each
    crossing point with its width, like two points; the kerb between the crossings stays free."""
    line = LineString([(20, 5), (20, -10), (50, -10), (50, 5)])
    rules = make_rules({"driveway": {"before_m": 1.0, "after_m": 0.5}})
    p = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=[flow]), hazards_frame(["driveway"], [line], [2.0]), rules=rules
    )
    up, down = (1.0, 0.5) if flow == "forward" else (0.5, 1.0)
    z = p.zones.sort_values("start_m")
    assert len(z) == 2
    assert_interval((z["start_m"].iloc[0], z["end_m"].iloc[0]), (19.0 - up, 21.0 + down))
    assert_interval((z["start_m"].iloc[1], z["end_m"].iloc[1]), (49.0 - up, 51.0 + down))
    assert p.kerbs.iloc[0]["lost_m"] == pytest.approx(2 * (2.0 + 1.5), abs=TOL)
    assert ((p.bays["start_m"] > 21.0) & (p.bays["end_m"] < 49.0)).sum() == 4


def test_line_weaving_along_kerb_covers_its_span():
    # A no-parking line digitised along the kerb that crosses it several times stays one stretch.
    line = LineString([(10, 0.5), (14, -0.5), (18, 0.5), (22, -0.5), (26, 0.5)])
    p = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=["forward"]), hazards_frame(["no_parking"], [line]), rules=make_rules()
    )
    assert_interval(zone(p, "h0"), (10.0, 26.0))


@pytest.mark.parametrize("offset", [0.0, 1.0, -2.0])
@pytest.mark.parametrize("flow", ["forward", "backward"])
def test_no_parking_line_along_kerb(offset, flow):
    # A no-parking line drawn along the kerb (on it, in the carriageway or on the footway, within the
    # 3 m snap) covers the span it projects onto; no_parking has no clearance entry -> exactly its span.
    line = LineString([(20, offset), (27.5, offset + 0.01), (35, offset)])
    p = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=[flow]), hazards_frame(["no_parking"], [line]), rules=make_rules(HYDRANT)
    )
    assert_interval(zone(p, "h0"), (20.0, 35.0))
    # The width given to a point-like hazard does not widen a stretch along the kerb.
    p2 = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=[flow]),
        hazards_frame(["no_parking"], [line], [5.0]),
        rules=make_rules(HYDRANT),
    )
    assert_interval(zone(p2, "h0"), (20.0, 35.0))


@pytest.mark.parametrize("flow", ["forward", "backward"])
def test_along_kerb_line_gets_clearances(flow):
    # A bus stop platform edge drawn along the kerb: its span plus 4 m before / 2 m after.
    line = LineString([(40, 1.5), (58, 1.5)])
    rules = make_rules({"bus_stop": {"before_m": 4.0, "after_m": 2.0}})
    p = parkplan.plan(kerbs_frame([STRAIGHT], flow=[flow]), hazards_frame(["bus_stop"], [line]), rules=rules)
    expected = (36.0, 60.0) if flow == "forward" else (38.0, 62.0)
    assert_interval(zone(p, "h0"), expected)


def test_along_line_is_clipped_to_kerb():
    line = LineString([(-10, 1), (15, 1)])
    p = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=["forward"]), hazards_frame(["no_parking"], [line]), rules=make_rules()
    )
    assert_interval(zone(p, "h0"), (0.0, 15.0))


# --------------------------------------------------------------------------------------------------
# Polygon hazards
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["forward", "backward"])
def test_polygon_over_kerb(flow):
    rules = make_rules({"bus_stop": {"before_m": 4.0, "after_m": 2.0}})
    poly = box(50, -3, 58, 2)  # the kerb runs through it from x=50 to x=58
    p = parkplan.plan(kerbs_frame([STRAIGHT], flow=[flow]), hazards_frame(["bus_stop"], [poly]), rules=rules)
    expected = (46.0, 60.0) if flow == "forward" else (48.0, 62.0)
    assert_interval(zone(p, "h0"), expected)
    z = p.zones.iloc[0]
    assert z["hazard_start_m"] == pytest.approx(50.0, abs=TOL)
    assert z["hazard_end_m"] == pytest.approx(58.0, abs=TOL)


def test_polygon_near_kerb_projects_its_vertices():
    # A no-parking area in the carriageway 0.5 m from the kerb (kerb does not enter it).
    poly = box(10, 0.5, 22, 2.0)
    p = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=["forward"]), hazards_frame(["no_parking"], [poly]), rules=make_rules()
    )
    assert_interval(zone(p, "h0"), (10.0, 22.0))


def test_polygon_over_kerb_end_is_clipped():
    poly = box(95, -2, 110, 2)
    p = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=["forward"]),
        hazards_frame(["no_parking"], [poly]),
        rules=make_rules({"no_parking": {"before_m": 2.0, "after_m": 2.0}}),
    )
    assert_interval(zone(p, "h0"), (93.0, 100.0))


# --------------------------------------------------------------------------------------------------
# Matching hazards to kerbs
# --------------------------------------------------------------------------------------------------

# A street running along x with a 10 m carriageway between two kerbs. Kerb A (y = 0) has the
# carriageway on its left and traffic along the line; kerb B (y = 10) has it on its right and traffic
# against the line.
KERB_A = LineString([(0, 0), (100, 0)])
KERB_B = LineString([(0, 10), (100, 10)])


def street(with_side: bool):
    if with_side:
        return kerbs_frame([KERB_A, KERB_B], flow=["forward", "backward"], side=["right", "left"])
    return kerbs_frame([KERB_A, KERB_B], flow=["forward", "backward"])


@pytest.mark.parametrize("with_side", [True, False])
def test_nearest_match_applies_to_one_kerb(with_side):
    # 3 m from A, 7 m from B: both within the hydrant snap (8 m), only the nearest gets it.
    p = parkplan.plan(
        street(with_side), hazards_frame(["hydrant"], [Point(30, 3)]), rules=make_rules(HYDRANT)
    )
    assert list(p.zones["curb_id"]) == ["k0"]
    assert_interval(zone(p, "h0", "k0"), (25.0, 33.0))
    assert p.kerbs.set_index("curb_id").loc["k1", "lost_m"] == pytest.approx(0.0, abs=TOL)
    assert p.summary["hazards"]["matched"] == 1


def test_nearest_match_slack_of_one_metre():
    # 4.6 m from A and 5.4 m from B: within 1 m of the nearest distance, so both kerbs get it.
    p = parkplan.plan(street(True), hazards_frame(["hydrant"], [Point(30, 4.6)]), rules=make_rules(HYDRANT))
    assert sorted(p.zones["curb_id"]) == ["k0", "k1"]
    assert_interval(zone(p, "h0", "k0"), (25.0, 33.0))
    assert_interval(zone(p, "h0", "k1"), (27.0, 35.0))  # B: traffic towards -x
    # 4.4 m vs 5.6 m: only A.
    p = parkplan.plan(street(True), hazards_frame(["hydrant"], [Point(30, 4.4)]), rules=make_rules(HYDRANT))
    assert list(p.zones["curb_id"]) == ["k0"]


@pytest.mark.parametrize("with_side", [True, False])
def test_all_match_centreline_crossing_applies_to_both_kerbs(with_side):
    rules = make_rules({"crossing": {"before_m": 2.0, "after_m": 1.0, "default_width_m": 4.0}})
    p = parkplan.plan(street(with_side), hazards_frame(["crossing"], [Point(50, 5)]), rules=rules)
    assert sorted(p.zones["curb_id"]) == ["k0", "k1"]
    assert_interval(zone(p, "h0", "k0"), (46.0, 53.0))  # A: traffic +x, 2 m before = lower chainage
    assert_interval(zone(p, "h0", "k1"), (47.0, 54.0))  # B: traffic -x, 2 m before = higher chainage
    assert p.summary["hazards"]["matched"] == 1
    assert p.summary["hazards"]["unmatched"] == 0


def test_line_crossing_both_kerbs_applies_to_both_in_nearest_mode():
    # A driveway (match "nearest") drawn right across the street applies where it crosses each kerb.
    line = LineString([(40, -5), (40, 15)])
    p = parkplan.plan(street(True), hazards_frame(["driveway"], [line], [3.0]), rules=make_rules())
    assert sorted(p.zones["curb_id"]) == ["k0", "k1"]
    assert_interval(zone(p, "h0", "k0"), (38.5, 41.5))
    assert_interval(zone(p, "h0", "k1"), (38.5, 41.5))


def test_match_mode_override_in_rules():
    rules = make_rules({"hydrant": {"before_m": 5.0, "after_m": 3.0, "match": "all"}})
    p = parkplan.plan(street(True), hazards_frame(["hydrant"], [Point(30, 3)]), rules=rules)
    assert sorted(p.zones["curb_id"]) == ["k0", "k1"]
    rules = make_rules({"crossing": {"snap_m": 4.0}})
    p = parkplan.plan(street(True), hazards_frame(["crossing"], [Point(50, 5)], [4.0]), rules=rules)
    assert len(p.zones) == 0
    assert p.summary["hazards"]["unmatched"] == 1


def test_unmatched_hazard_is_reported():
    haz = hazards_frame(
        ["hydrant", "hydrant", "crossing"],
        [Point(30, -1), Point(500, 500), Point(50, 30.01)],
        ids=["near", "far", "crossing_far"],
    )
    p = parkplan.plan(street(True), haz, rules=make_rules(HYDRANT))
    h = p.summary["hazards"]
    assert h["total"] == 3
    assert h["matched"] == 1
    assert h["unmatched"] == 2
    assert h["by_kind"]["hydrant"] == {"total": 2, "matched": 1, "unmatched": 1}
    assert h["by_kind"]["crossing"] == {"total": 1, "matched": 0, "unmatched": 1}
    assert sorted(f["hazard_id"] for f in h["unmatched_features"]) == ["crossing_far", "far"]
    assert set(p.zones["hazard_id"]) == {"near"}


# --------------------------------------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------------------------------------


def test_unknown_kind_raises_input_error():
    with pytest.raises(parkplan.InputError, match="unknown hazard kind 'banana'"):
        parkplan.plan(
            kerbs_frame([STRAIGHT]),
            hazards_frame(["hydrant", "banana"], [Point(1, 1), Point(2, 2)]),
            rules=make_rules(HYDRANT),
        )


def test_unknown_kind_from_hazard_source_raises():
    frame = gpd.GeoDataFrame({"hazard_id": ["x"]}, geometry=[Point(5, 1)], crs=CRS)
    with pytest.raises(parkplan.InputError):
        parkplan.plan(
            kerbs_frame([STRAIGHT]), parkplan.HazardSource(frame, "unicorn_pen"), rules=make_rules()
        )
    # InputError is a ValueError and a ParkplanError.
    with pytest.raises(ValueError, match="unicorn_pen"):
        parkplan.plan(
            kerbs_frame([STRAIGHT]), [parkplan.HazardSource(frame, "unicorn_pen")], rules=make_rules()
        )


def test_hazard_source_gives_kind_to_every_feature():
    frame = gpd.GeoDataFrame(
        {"id": ["a", "b"], "width_m": [2.0, 2.0]}, geometry=[Point(20, -1), Point(60, -1)], crs=CRS
    )
    p = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=["forward"]),
        parkplan.HazardSource(frame, "hydrant"),
        rules=make_rules(HYDRANT),
    )
    assert set(p.zones["kind"]) == {"hydrant"}
    assert_interval(zone(p, "a"), (14.0, 24.0))
    assert_interval(zone(p, "b"), (54.0, 64.0))


def test_new_kind_declared_by_clearance_is_known():
    rules = make_rules({"tree": {"before_m": 1.0, "after_m": 1.0, "default_width_m": 1.0}})
    p = parkplan.plan(
        kerbs_frame([STRAIGHT], flow=["forward"]), hazards_frame(["tree"], [Point(50, -1)]), rules=rules
    )
    assert_interval(zone(p, "h0"), (48.5, 51.5))


def test_zones_and_accounting_with_overlapping_hazards():
    # Two overlapping zones on one kerb: lost_m counts the union once.
    haz = hazards_frame(["hydrant", "hydrant"], [Point(40, -1), Point(44, -1)])
    p = parkplan.plan(kerbs_frame([STRAIGHT], flow=["forward"]), haz, rules=make_rules(HYDRANT))
    assert_interval(zone(p, "h0"), (35.0, 43.0))
    assert_interval(zone(p, "h1"), (39.0, 47.0))
    row = p.kerbs.iloc[0]
    assert row["lost_m"] == pytest.approx(12.0, abs=TOL)
    assert row["lost_hydrant_m"] == pytest.approx(12.0, abs=TOL)
    # Free stretches 35 m and 53 m -> 5 + 8 bays.
    assert len(p.bays) == 13
    total = row["bay_m"] + row["gap_m"] + row["lost_m"] + row["leftover_m"]
    assert total == pytest.approx(row["length_m"], abs=TOL)


def test_kind_spellings_and_aliases_resolve():
    rules = parkplan.load_rules(make_rules())
    assert rules.canonical_kind("Fire hydrant") == "hydrant"
    assert rules.canonical_kind(" Bus-Stop ") == "bus_stop"
    assert rules.canonical_kind("traffic_signals") == "traffic_signal"
    assert rules.canonical_kind("curb_cut") == "driveway"
    # A kind the rules declare themselves is never taken for another kind's alias.
    assert rules.canonical_kind("tree") == "obstacle"
    own = parkplan.load_rules(make_rules({"tree": {"before_m": 1.0}}))
    assert own.canonical_kind("Tree") == "tree"
    frame = gpd.GeoDataFrame({"kind": ["Fire Hydrant"]}, geometry=[Point(5, 1)], crs=CRS)
    p = parkplan.plan(kerbs_frame([STRAIGHT]), frame, rules=make_rules())
    # Matched, but these rules give hydrants no clearance and the kind no width: named, not silent.
    assert p.summary["hazards"]["by_kind"] == {
        "hydrant": {"total": 1, "matched": 1, "unmatched": 0, "matched_without_zone": 1}
    }
    assert p.summary["hazards"]["without_zone_features"][0]["kind"] == "hydrant"
    assert any("forbid none of it" in w for w in p.summary["warnings"])


def test_nearest_mode_line_applies_only_where_it_crosses():
    # A driveway crossing the kerb at y=0 and ending 2 m short of the kerb at y=-12 blocks only the first.
    kerbs = gpd.GeoDataFrame(
        {"curb_id": ["a", "b"], "side": ["right", "left"]},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, -12), (100, -12)])],
        crs=CRS,
    )
    haz = gpd.GeoDataFrame(
        {"kind": ["driveway"], "width_m": [4.0]}, geometry=[LineString([(20, 10), (20, -10)])], crs=CRS
    )
    p = parkplan.plan(kerbs, haz, rules=make_rules())
    assert p.zones["curb_id"].tolist() == ["a"]
    assert_interval((p.zones["start_m"].iloc[0], p.zones["end_m"].iloc[0]), (18.0, 22.0))


def test_rules_kind_names_are_normalised_and_aliases_add_up():
    rules = parkplan.load_rules(
        make_rules(
            {"Taxi-Stand": {"before_m": 3.0}},
            kinds={"taxi_stand": {"aliases": ["Taxi Rank"]}, "hydrant": {"aliases": ["Plug"]}},
        )
    )
    assert rules.canonical_kind("taxi rank") == "taxi_stand"
    assert rules.canonical_kind("Taxi-Stand") == "taxi_stand"
    assert rules.canonical_kind("plug") == "hydrant"
    assert rules.canonical_kind("fire hydrant") == "hydrant"  # the built-in alias is kept


def test_multipoint_parts_find_their_own_kerbs():
    kerbs = gpd.GeoDataFrame({"curb_id": ["near"]}, geometry=[LineString([(0, 0), (100, 0)])], crs=CRS)
    haz = gpd.GeoDataFrame(
        {"kind": ["hydrant"]}, geometry=[shapely.MultiPoint([(20, 2), (80, 500)])], crs=CRS
    )
    p = parkplan.plan(kerbs, haz, rules=make_rules(HYDRANT))
    assert len(p.zones) == 1
    assert p.zones["start_m"].iloc[0] < 30.0


def test_duplicate_osm_ids_do_not_make_duplicate_kerb_ids():
    kerbs = gpd.GeoDataFrame(
        {"osm_id": [7, 7]},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, 20), (100, 20)])],
        crs=CRS,
    )
    p = parkplan.plan(kerbs, None, rules=make_rules())
    assert p.kerbs["curb_id"].is_unique
    assert p.bays["bay_id"].is_unique
    assert set(p.kerbs["source_id"]) == {"7"}


def test_numeric_oneway_values_are_read():
    kerbs = gpd.GeoDataFrame(
        {"oneway": [1.0, 0.0, np.nan, -1]},
        geometry=[LineString([(0, y), (100, y)]) for y in (0, 20, 40, 60)],
        crs=CRS,
    )
    p = parkplan.plan(kerbs, None, rules=make_rules())
    assert p.kerbs["oneway"].tolist() == [True, False, None, True]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 6), st.integers(0, 3)),
        min_size=0,
        max_size=60,
    ),
    st.integers(0, 3),
    st.booleans(),
)
def test_kerb_order_is_the_lexsort(rows: list[tuple[int, int, int]], presorted: int, with_end: bool) -> None:
    """kerb_order gives np.lexsort's permutation exactly (ties in input order), whether the rows come
    sorted, as sorted parts one after the other, or in any order; with NaN keys too."""
    from parkplan.intervals import kerb_order

    data = np.array(rows, dtype=float).reshape(-1, 3)
    kerb, start, end = data[:, 0].astype(np.int64), data[:, 1] / 2.0, data[:, 2] / 2.0
    if presorted and len(data):
        # Sorted parts one after the other, as the plan's concatenations are.
        cut = len(data) * presorted // 4
        for part in (slice(0, cut), slice(cut, None)):
            o = np.lexsort((end[part], start[part], kerb[part]))
            kerb[part], start[part], end[part] = kerb[part][o], start[part][o], end[part][o]
    if presorted == 3 and len(data):
        start[len(data) // 2] = np.nan
    if with_end:
        assert np.array_equal(kerb_order(kerb, start, end), np.lexsort((end, start, kerb)))
    else:
        assert np.array_equal(kerb_order(kerb, start), np.lexsort((start, kerb)))


@pytest.mark.parametrize("seed", range(3))
def test_matches_sorted_as_pandas_stable_sort(seed: int) -> None:
    """The match table's one numpy sort gives pandas' stable sort by kerb, start, hazard (NaN, -0.0)."""
    import pandas as pd

    from parkplan.hazards import _by_kerb

    rng = np.random.default_rng(seed)
    for _ in range(50):
        n = int(rng.integers(4, 60))
        table = pd.DataFrame(
            {
                "hazard": rng.integers(0, 5, n),
                "kerb": rng.integers(0, 4, n),
                "s0_m": rng.integers(0, 4, n) / 2.0,
                "s1_m": rng.random(n),
            }
        )
        table.loc[[1, 3], "s0_m"] = [-0.0, np.nan]
        expected = table.sort_values(["kerb", "s0_m", "hazard"], kind="stable").reset_index(drop=True)
        assert _by_kerb(table).equals(expected)


# --------------------------------------------------------------------------------------------------
# Real-geometry defect classes (issue 13): lines along the kerb however they cross, widths never 0,
# every pass of a kerb near a point, the straight-line reach, grouping gaps across zones
# --------------------------------------------------------------------------------------------------


def _wgs84_rounded(geom, decimals=7):
    """``geom`` (EPSG:25833) through WGS84 rounded to ``decimals`` and back, as GIS exports do."""
    series = gpd.GeoSeries([geom], crs=CRS).to_crs(4326)
    rounded = shapely.transform(np.asarray(series.values, dtype=object), lambda xy: np.round(xy, decimals))
    return gpd.GeoSeries(rounded, crs=4326).to_crs(CRS).values[0]


BERLIN_KERB = LineString([(391000.0, 5818000.0), (391100.0, 5818000.0)])


@pytest.mark.parametrize(
    ("decimals", "tilt_m"), [(6, 0.0), (7, 0.0), (8, 0.0), (7, 0.05), (8, -0.02), (7, 0.3)]
)
def test_no_parking_line_digitised_on_the_kerb_and_rounded_forbids_its_span(decimals, tilt_m):
    # The line lies on the kerb from x=20 to x=70; rounding makes it cross the kerb at shallow angles,
    # a tilt makes it cross once, at a very shallow angle.
    kerb = _wgs84_rounded(BERLIN_KERB, decimals)
    line = _wgs84_rounded(
        LineString([(391020.0, 5818000.0 - tilt_m), (391070.0, 5818000.0 + tilt_m)]), decimals
    )
    p = parkplan.plan(kerbs_frame([kerb]), hazards_frame(["no_parking"], [line]), rules=make_rules())
    z = p.zones[p.zones["kind"] == "no_parking"]
    assert len(z) >= 1
    assert z["start_m"].min() == pytest.approx(20.0, abs=0.05)
    assert z["end_m"].max() == pytest.approx(70.0, abs=0.05)
    # No bay overlaps the no-parking stretch.
    bays = p.bays
    inside = (bays["end_m"] > 20.0 + 0.01) & (bays["start_m"] < 70.0 - 0.01)
    assert not inside.any()


def test_two_vertex_line_with_one_vertex_in_reach_forbids_the_part_in_reach():
    # From 1 m to 5 m off the kerb over 40 m: only its first vertex is within the 3 m snap, yet half of
    # it (x = 10 .. 30) runs along the kerb within reach.
    line = LineString([(10, 1), (50, 5)])
    p = parkplan.plan(kerbs_frame([STRAIGHT]), hazards_frame(["no_parking"], [line]), rules=make_rules())
    start, end = zone(p, "h0")
    assert start == pytest.approx(10.0, abs=TOL)
    assert end == pytest.approx(30.0, abs=0.05)


def test_driveway_without_width_or_clearance_keeps_its_built_in_width():
    # Rules with no driveway width and zero clearances: the driveway still forbids its own 3 m.
    rules = make_rules({"driveway": {"before_m": 0.0, "after_m": 0.0}})
    haz = hazards_frame(["driveway", "driveway"], [LineString([(30, -5), (30, 2)]), Point(70, -1)])
    p = parkplan.plan(kerbs_frame([STRAIGHT]), haz, rules=rules)
    assert_interval(zone(p, "h0"), (28.5, 31.5))
    assert_interval(zone(p, "h1"), (68.5, 71.5))
    assert p.summary["hazards"]["matched_without_zone"] == 0


def test_point_hazard_applies_at_every_pass_of_a_jogging_kerb():
    # A crossing node on the centreline 6 m from the kerb at x = 50; 4 m downstream the kerb steps 2 m
    # towards the carriageway (a kerb extension). The nearest point of the kerb is the step's corner,
    # but the kerb also passes the node at x = 50: that pass gets the crossing too.
    kerb = LineString([(0, 0), (54, 0), (54, 2), (100, 2)])
    rules = make_rules({"crossing": {"before_m": 5.0, "after_m": 5.0, "default_width_m": 4.0}})
    p = parkplan.plan(
        kerbs_frame([kerb], side=["left"]), hazards_frame(["crossing"], [Point(50, 6)]), rules=rules
    )
    z = p.zones[p.zones["hazard_id"] == "h0"]
    # Pass at x = 50 (chainage 50): 50 - 2 - 5 .. 50 + 2 + 5.
    covers = (z["start_m"] <= 43.0 + TOL) & (z["end_m"] >= 57.0 - TOL)
    assert covers.any(), z
    bays = p.bays
    assert not ((bays["end_m"] > 43.0 + 0.01) & (bays["start_m"] < 57.0 - 0.01)).any()


def test_point_hazard_at_the_centre_of_a_kerb_arc_forbids_the_whole_arc():
    # A kerb wrapping round a hydrant on a 3 m radius (a turning head): every chord passes it.
    angles = np.linspace(np.pi, 0.0, 19)
    arc = [(50 + 3 * np.cos(a), 3 * np.sin(a)) for a in angles]
    kerb = LineString([(0, 0), *arc, (100, 0)])
    rules = make_rules({"hydrant": {"before_m": 1.0, "after_m": 1.0}})
    p = parkplan.plan(
        kerbs_frame([kerb], side=["right"]), hazards_frame(["hydrant"], [Point(50, 0)]), rules=rules
    )
    arc_start = 47.0
    arc_len = float(LineString(arc).length)
    z = p.zones[p.zones["hazard_id"] == "h0"]
    lo, hi = float(z["start_m"].min()), float(z["end_m"].max())
    assert lo <= arc_start + TOL
    assert hi >= arc_start + arc_len - TOL


def test_straight_line_reach_where_the_kerb_turns_back_towards_the_hazard():
    # A U-shaped kerb (a narrow inlet 3 m across) round a hydrant standing at the kerb at its mouth: the
    # far side of the inlet is 20 m away along the kerb but 3 m away in a straight line, closer than the
    # 5 m the rule keeps clear.
    kerb = LineString([(0, 0), (40, 0), (40, -10), (43, -10), (43, 0), (100, 0)])
    rules = make_rules({"hydrant": {"before_m": 5.0, "after_m": 5.0}})
    p = parkplan.plan(
        kerbs_frame([kerb], side=["left"]),
        hazards_frame(["hydrant"], [Point(40, -1)]),
        rules=rules,
        room=False,
    )
    geoms = np.asarray(p.bays.geometry.values, dtype=object)
    kerb_edges = shapely.intersection(shapely.buffer(geoms, 0.01), kerb)
    assert (shapely.distance(kerb_edges, Point(40, -1)) >= 5.0 - 0.01).all()
    assert p.zones["rule"].str.contains("straight line").any()


def test_grouping_gap_holds_across_a_short_zone():
    # A 1 m obstacle zone in the middle of a kerb: the bays either side are different groups and must be
    # at least the grouping gap apart.
    rules = make_rules({"obstacle": {"before_m": 0.0, "after_m": 0.0, "default_width_m": 1.0}})
    rules["grouping"] = {"max_run_m": 30.0, "gap_m": 4.0}
    # 46 m either side: exactly a run of five 6 m bays, the 4 m gap and two more bays, no slack.
    kerb = LineString([(0, 0), (93, 0)])
    p = parkplan.plan(kerbs_frame([kerb]), hazards_frame(["obstacle"], [Point(46.5, -0.5)]), rules=rules)
    b = p.bays.sort_values("start_m")
    gaps = b["start_m"].to_numpy()[1:] - b["end_m"].to_numpy()[:-1]
    assert (p.zones["kind"] == "grouping").sum() == 1
    real = gaps[gaps > 0.01]
    assert len(real)
    assert (real >= 4.0 - 1e-6).all()


@settings(max_examples=25, deadline=None)
@given(
    x=st.floats(5.0, 95.0),
    y=st.floats(-7.0, 7.0),
    n=st.integers(2, 60),
)
def test_segment_locate_equals_line_locate_point(x, y, n):
    from parkplan.geometry.rays import RaySegments

    xs = np.linspace(0.0, 100.0, n)
    kerb = LineString(np.column_stack([xs, 3.0 * np.sin(xs / 7.0)]))
    table = parkplan.geometry.kerbs.build_kerbs(
        kerbs_frame([kerb]).assign(width_m=np.nan), parkplan.load_rules(make_rules())
    )
    seg = RaySegments(table)
    s, d = seg.locate_on(np.array([[x, y]]), np.array([0]), 50.0)
    assert s[0] == pytest.approx(shapely.line_locate_point(kerb, Point(x, y)), abs=1e-6) or d[
        0
    ] == pytest.approx(shapely.distance(kerb, Point(x, y)), abs=1e-9)
    assert d[0] == pytest.approx(shapely.distance(kerb, Point(x, y)), abs=1e-9)


# --------------------------------------------------------------------------------------------------
# Line places, vectorised over all pairs, against a plain pair-by-pair reference
# --------------------------------------------------------------------------------------------------

from parkplan import hazards as hz  # noqa: E402
from parkplan.geometry.rays import RaySegments  # noqa: E402


def _reference_line_places(
    line: object, kerb: object, k: int, snap_m: float, seg: RaySegments
) -> list[tuple[float, float, bool]]:
    """Reference for :func:`parkplan.hazards._line_places_all`: one (line, kerb) pair, step by step."""
    xmin, ymin, xmax, ymax = shapely.bounds(line)
    reach = max(snap_m, hz.TOL_M)
    local = shapely.clip_by_rect(kerb, xmin - 2 * reach, ymin - 2 * reach, xmax + 2 * reach, ymax + 2 * reach)
    if shapely.is_empty(local):
        return _reference_nearest_place(line, kerb, k, reach, seg)
    zone = shapely.buffer(local, reach, quad_segs=32)
    pieces = shapely.get_parts(shapely.intersection(line, zone))
    pieces = pieces[np.isin(shapely.get_type_id(pieces), (1, 5)) & ~shapely.is_empty(pieces)]
    pieces = shapely.get_parts(pieces)
    # Buffers are polygons through points on the circle: a cut point may lie a hair beyond reach.
    measure = reach * 1.01 + hz.TOL_M
    places: list[tuple[float, float, bool]] = []
    whole: list[tuple[float, float]] = []
    sure: list[tuple[float, float]] = []
    for piece in pieces:
        coords = shapely.get_coordinates(shapely.segmentize(piece, 1.0))
        s, off = seg.locate_on(coords, np.full(len(coords), k), measure, signed=True)
        found = ~np.isnan(s)
        runs = _reference_along_runs(s, off)
        if found.any():
            lo, hi = float(s[found].min()), float(s[found].max())
            spread = float(off[found].max() - off[found].min())
            if hi - lo >= hz.ALONG_MIN_SAFE_M and hi - lo >= hz.ALONG_RATIO_SAFE * spread:
                whole.append((lo, hi))
                if hi - lo >= hz.ALONG_MIN_M + 0.05 and hi - lo >= hz.ALONG_RATIO_SURE * spread:
                    sure.append((lo, hi))
                runs = [(a, b) for a, b in runs if a < lo - hz.TOL_M or b > hi + hz.TOL_M]
        places += [(lo, hi, False) for lo, hi in runs]
    places += [(lo, hi, False) for lo, hi in whole]
    inter = shapely.get_parts(shapely.intersection(line, kerb))
    inter = inter[~shapely.is_empty(inter)]
    pts = shapely.get_coordinates(inter) if len(inter) else np.zeros((0, 2))
    cs, _ = seg.locate_on(pts, np.full(len(pts), k), measure)
    cs = np.unique(cs[~np.isnan(cs)])
    for lo, hi in sure:
        cs = cs[(cs < lo - hz.TOL_M) | (cs > hi + hz.TOL_M)]
    if len(cs):
        # Crossing points closer than hz.ALONG_MIN_M are one crossing (a line touching twice).
        group = np.concatenate([[0], np.cumsum(np.diff(cs) >= hz.ALONG_MIN_M)])
        for g in np.unique(group).tolist():
            c = cs[group == g]
            places.append((float(c.min()), float(c.max()), True))
    if len(inter) == 0 and not sure:
        # Not across: also where it comes nearest (a line that ends near the kerb).
        places += _reference_nearest_place(line, kerb, k, measure, seg)
    return places


def _reference_along_runs(s: np.ndarray, off: np.ndarray) -> list[tuple[float, float]]:
    """Chainage spans of the runs of a piece's segments that run along the kerb (see :func:`_line_places`).

    ``s`` / ``off``: chainage and signed offset of the piece's vertices in order (NaN: not measured,
    which breaks a run).
    """
    if len(s) < 2:
        return []
    ds = np.abs(np.diff(s))
    doff = np.abs(np.diff(off))
    along = (ds >= hz.ALONG_RATIO * doff) & (ds > 0) & ~np.isnan(ds) & ~np.isnan(doff)
    edges = np.diff(np.concatenate([[0], along.astype(np.int8), [0]]))
    spans: list[tuple[float, float]] = []
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        run = s[a : b + 1]  # segments a .. b-1 join vertices a .. b
        lo, hi = float(run.min()), float(run.max())
        if hi - lo >= hz.ALONG_MIN_M:
            spans.append((lo, hi))
    return spans


def _reference_nearest_place(
    geom: object, kerb: object, k: int, reach: float, seg: RaySegments
) -> list[tuple[float, float, bool]]:
    """Return the projection of the point of ``geom`` nearest the kerb, as a point-like place."""
    nearest = shapely.get_coordinates(shapely.get_point(shapely.shortest_line(geom, kerb), 1))
    ns, _ = seg.locate_on(nearest, np.array([k]), reach + hz.TOL_M)
    return [] if np.isnan(ns[0]) else [(float(ns[0]), float(ns[0]), True)]


@settings(max_examples=40, deadline=None)
@given(
    bend=st.floats(-40.0, 40.0),
    lines=st.lists(
        st.tuples(
            st.floats(-10.0, 110.0),
            st.floats(-6.0, 6.0),
            st.floats(0.0, 360.0),
            st.floats(0.5, 30.0),
            st.integers(2, 4),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_vectorised_line_places_equal_pair_by_pair(bend, lines):
    xs = np.linspace(0.0, 100.0, 9)
    kerb = LineString(np.column_stack([xs, bend * ((xs - 50.0) / 50.0) ** 2]))
    table = parkplan.geometry.kerbs.build_kerbs(
        kerbs_frame([kerb]).assign(width_m=np.nan), parkplan.load_rules(make_rules())
    )
    seg = RaySegments(table)
    geoms = []
    for x, y, angle, length, n in lines:
        a = np.radians(angle)
        t = np.linspace(0.0, length, n)
        wiggle = 0.3 * np.sin(t)
        geoms.append(
            LineString(
                np.column_stack(
                    [x + t * np.cos(a) - wiggle * np.sin(a), y + t * np.sin(a) + wiggle * np.cos(a)]
                )
            )
        )
    geoms = np.array(geoms, dtype=object)
    snap = np.full(len(geoms), 3.0)
    k = np.zeros(len(geoms), dtype=np.int64)
    kg = np.array([kerb] * len(geoms), dtype=object)
    pair, s0, s1, like = hz._line_places_all(geoms, kg, k, snap, seg)
    got = sorted(
        (int(p), round(a, 6), round(b, 6), bool(c)) for p, a, b, c in zip(pair, s0, s1, like, strict=True)
    )
    want = sorted(
        (i, round(a, 6), round(b, 6), bool(c))
        for i in range(len(geoms))
        for a, b, c in _reference_line_places(geoms[i], kerb, 0, 3.0, seg)
    )
    assert got == want


@settings(max_examples=40, deadline=None)
@given(
    lines=st.lists(
        st.tuples(st.floats(5.0, 95.0), st.floats(0.0, 180.0), st.floats(1.0, 30.0), st.floats(0.05, 0.95)),
        min_size=1,
        max_size=8,
    ),
    snap=st.sampled_from([3.0, 10.0, 20.0]),
)
def test_plain_crossings_are_what_the_pieces_give(lines, snap):
    # A kerb with a bend at x = 50: crossings near it must not take the shortcut.
    kerb = LineString([(0, 0), (50, 0), (100, 20)])
    table = parkplan.geometry.kerbs.build_kerbs(
        kerbs_frame([kerb]).assign(width_m=np.nan), parkplan.load_rules(make_rules())
    )
    seg = RaySegments(table)
    geoms = []
    for x, angle, length, before in lines:
        a = np.radians(angle)
        u = np.array([np.cos(a), np.sin(a)])
        p = np.array([x, 0.0 if x <= 50 else (x - 50) * 0.4])
        geoms.append(LineString([p - u * length * before, p + u * length * (1 - before)]))
    geoms = np.array(geoms, dtype=object)
    n = len(geoms)
    kg = np.array([kerb] * n, dtype=object)
    k = np.zeros(n, dtype=np.int64)
    fast, s_fast = hz._plain_crossings(geoms, kg, k, np.full(n, snap), seg)
    pair, s0, s1, like = hz._line_places_all(geoms, kg, k, np.full(n, snap), seg)
    for i in np.flatnonzero(fast):
        mine = [(a, b, c) for p_, a, b, c in zip(pair, s0, s1, like, strict=True) if p_ == i]
        assert len(mine) == 1
        assert mine[0][2]
        assert mine[0][0] == pytest.approx(s_fast[i], abs=1e-6)
        assert mine[0][1] == pytest.approx(s_fast[i], abs=1e-6)
