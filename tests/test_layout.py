"""Bay geometry: carriageway side under right- and left-hand traffic, parallel / perpendicular / angled
polygons, bent kerbs, and street-area polygon input."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

import parkplan

CRS = "EPSG:25833"
TOL = 1e-3
X0, Y0 = 392_000.0, 5_817_000.0


def kerbs_frame(lines, **columns):
    data = {"curb_id": [f"k{i}" for i in range(len(lines))], **columns}
    return gpd.GeoDataFrame(data, geometry=list(lines), crs=CRS)


def make_rules(bays, traffic="right", clearances=None, grouping=None):
    data = {"name": "t", "traffic": traffic, "bays": bays, "clearances": clearances or {}}
    if grouping is not None:
        data["grouping"] = {"max_run_m": grouping[0], "gap_m": grouping[1]}
    return data


CAR = {"car": {"orientation": "parallel", "length_m": 6.0, "width_m": 2.5}}
STRAIGHT = LineString([(X0, Y0), (X0 + 100.0, Y0)])


def side_of_kerb(p):
    """+1 if every bay lies left of the digitised line (y above), -1 if all right, 0 if mixed."""
    ys = np.array([g.centroid.y for g in p.bays.geometry]) - Y0
    if (ys > 0).all():
        return 1
    if (ys < 0).all():
        return -1
    return 0


def assert_no_overlap(geoms, limit=1e-4):
    geoms = np.asarray(geoms, dtype=object)
    assert shapely.is_valid(geoms).all()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    m = left < right
    if m.any():
        assert shapely.area(shapely.intersection(geoms[left[m]], geoms[right[m]])).max() < limit


# --------------------------------------------------------------------------------------------------
# Carriageway side
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("traffic", "flow", "side", "expected"),
    [
        ("right", "forward", None, 1),  # right-hand traffic: carriageway left of the flow direction
        ("right", "backward", None, -1),
        ("left", "forward", None, -1),  # left-hand traffic: right of it
        ("left", "backward", None, 1),
        ("right", "forward", "right", 1),  # side=right: kerb on the right, carriageway left of the line
        ("right", "forward", "left", -1),
        ("left", "forward", "right", 1),  # an explicit side wins over the traffic rule
        ("left", "backward", "left", -1),
    ],
)
def test_carriageway_side(traffic, flow, side, expected):
    cols = {"flow": [flow]}
    if side is not None:
        cols["side"] = [side]
    p = parkplan.plan(kerbs_frame([STRAIGHT], **cols), None, rules=make_rules(CAR, traffic))
    assert len(p.bays) == 16
    assert side_of_kerb(p) == expected
    assert p.kerbs["carriageway"].iloc[0] == ("left" if expected == 1 else "right")
    assert p.summary["traffic"] == traffic
    # Parallel bays: 6 m x 2.5 m rectangles against the kerb.
    for g in p.bays.geometry:
        minx, miny, maxx, maxy = g.bounds
        assert maxx - minx == pytest.approx(6.0, abs=TOL)
        assert maxy - miny == pytest.approx(2.5, abs=TOL)
        assert min(abs(miny - Y0), abs(maxy - Y0)) < 1e-6
        assert g.area == pytest.approx(15.0, abs=1e-6)


def test_left_hand_traffic_flips_a_street_of_two_kerbs():
    # Two kerbs 10 m apart, both digitised towards +x. Under right-hand traffic the southern kerb's
    # traffic runs along the line (forward) and the northern kerb's against it (backward); under
    # left-hand traffic it is the other way round. With the flows of each rule both kerbs face the
    # street between them: the same flows would put the carriageways outside under the other rule.
    south = STRAIGHT
    north = LineString([(X0, Y0 + 10), (X0 + 100, Y0 + 10)])
    kerbs = kerbs_frame([south, north], flow=["forward", "backward"])
    p = parkplan.plan(kerbs, None, rules=make_rules(CAR, "right"))
    assert list(p.kerbs["carriageway"]) == ["left", "right"]
    assert all(Y0 <= g.centroid.y <= Y0 + 10 for g in p.bays.geometry)
    kerbs = kerbs_frame([south, north], flow=["backward", "forward"])
    p = parkplan.plan(kerbs, None, rules=make_rules(CAR, "left"))
    assert list(p.kerbs["carriageway"]) == ["left", "right"]
    assert all(Y0 <= g.centroid.y <= Y0 + 10 for g in p.bays.geometry)
    kerbs = kerbs_frame([south, north], flow=["forward", "backward"])
    p = parkplan.plan(kerbs, None, rules=make_rules(CAR, "left"))
    assert list(p.kerbs["carriageway"]) == ["right", "left"]
    assert not any(Y0 <= g.centroid.y <= Y0 + 10 for g in p.bays.geometry)


# --------------------------------------------------------------------------------------------------
# Angled and perpendicular bays
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("angle", [45.0, 60.0, 30.0])
@pytest.mark.parametrize("flow", ["forward", "backward"])
@pytest.mark.parametrize("traffic", ["right", "left"])
def test_angled_bays_are_parallelograms(angle, flow, traffic):
    length, width = 5.0, 2.5
    rules = make_rules(
        {"a": {"orientation": "angled", "length_m": length, "width_m": width, "angle_deg": angle}}, traffic
    )
    p = parkplan.plan(kerbs_frame([STRAIGHT], flow=[flow]), None, rules=rules)
    rad = math.radians(angle)
    pitch = width / math.sin(rad)
    end = length * math.cos(rad)
    depth = length * math.sin(rad)
    n = len(p.bays)
    assert n == math.floor((100.0 + TOL - end) / pitch + 1e-9)
    # Chainages are reported to the millimetre; the kerb pitch is rounded up to the millimetre.
    pitch_mm = math.ceil(pitch * 1000 - 1e-6) / 1000
    starts = np.sort(p.bays["start_m"].to_numpy())
    np.testing.assert_allclose(np.diff(starts), pitch_mm, atol=TOL + 1e-9)
    np.testing.assert_allclose(p.bays["end_m"] - p.bays["start_m"], pitch_mm, atol=TOL + 1e-9)
    cw = p.kerbs["carriageway"].iloc[0]
    sign = 1.0 if cw == "left" else -1.0
    # Traffic moves towards +x on a forward kerb, -x on a backward one; cars nose in forwards, so each
    # bay's far (carriageway) edge lies upstream of its kerb edge by the end triangle.
    downstream = 1.0 if flow == "forward" else -1.0
    for row in p.bays.itertuples():
        g = row.geometry
        assert g.is_valid
        assert g.area == pytest.approx(length * width, rel=1e-3)
        coords = np.asarray(g.exterior.coords)[:-1]
        assert len(coords) == 4
        on_kerb = coords[np.abs(coords[:, 1] - Y0) < 1e-6]
        far = coords[np.abs(coords[:, 1] - (Y0 + sign * depth)) < 1e-3]
        assert len(on_kerb) == 2
        assert len(far) == 2
        k0, k1 = np.sort(on_kerb[:, 0])
        f0, f1 = np.sort(far[:, 0])
        assert k1 - k0 == pytest.approx(pitch, abs=TOL)
        assert f1 - f0 == pytest.approx(pitch, abs=TOL)
        # Far edge shifted upstream by the end triangle: the long sides have the bay's length and meet
        # the kerb at the bay's angle.
        assert (k0 - f0) * downstream == pytest.approx(end, abs=TOL)
        side = np.array([k0 - f0, -sign * depth])
        assert np.hypot(*side) == pytest.approx(length, abs=2 * TOL)
        assert math.degrees(math.atan2(depth, abs(k0 - f0))) == pytest.approx(angle, abs=0.05)
        # Chainage of the kerb edge (digitised from x = X0).
        assert row.start_m == pytest.approx(k0 - X0, abs=TOL)
    # The run, end triangle included, stays on the kerb.
    allx = shapely.get_coordinates(np.asarray(p.bays.geometry.values, dtype=object))[:, 0]
    assert allx.min() >= X0 - TOL
    assert allx.max() <= X0 + 100.0 + TOL
    assert_no_overlap(p.bays.geometry.values)
    # Accounting: one run covers n * pitch + end of kerb.
    row = p.kerbs.iloc[0]
    assert row["bay_m"] == pytest.approx(n * pitch + end, abs=n * TOL)


@pytest.mark.parametrize("flow", ["forward", "backward"])
def test_perpendicular_bays(flow):
    rules = make_rules({"p": {"orientation": "perpendicular", "length_m": 5.0, "width_m": 2.5}})
    p = parkplan.plan(kerbs_frame([STRAIGHT], flow=[flow]), None, rules=rules)
    assert len(p.bays) == 40
    sign = 1 if flow == "forward" else -1
    for g in p.bays.geometry:
        minx, miny, maxx, maxy = g.bounds
        assert maxx - minx == pytest.approx(2.5, abs=TOL)
        assert maxy - miny == pytest.approx(5.0, abs=TOL)  # depth = length
        assert (miny if sign > 0 else maxy) == pytest.approx(Y0, abs=1e-6)
        assert g.area == pytest.approx(12.5, abs=1e-6)
    assert_no_overlap(p.bays.geometry.values)


def test_mixed_types_in_one_run_do_not_overlap():
    rules = make_rules(
        {
            "car": {"orientation": "parallel", "length_m": 6.0, "width_m": 2.5, "weight": 1.0},
            "small": {"orientation": "parallel", "length_m": 4.5, "width_m": 2.0, "weight": 0.8},
        }
    )
    kerb = LineString([(X0, Y0), (X0 + 28.5, Y0)])  # 1 car + 5 small (5.0) beats the alternatives
    p = parkplan.plan(kerbs_frame([kerb], flow=["forward"]), None, rules=rules)
    assert sorted(p.bays["bay_type"]) == ["car"] + ["small"] * 5
    assert_no_overlap(p.bays.geometry.values)
    starts = p.bays.sort_values("start_m")
    np.testing.assert_allclose(starts["start_m"].to_numpy()[1:], starts["end_m"].to_numpy()[:-1], atol=TOL)


# --------------------------------------------------------------------------------------------------
# Bent kerbs
# --------------------------------------------------------------------------------------------------


def bent_kerb(turn_deg, first=50.0, second=20.0):
    """First leg along +x, then a turn (positive: to the left, towards the carriageway of a forward kerb
    under right-hand traffic, so its inside)."""
    t = math.radians(turn_deg)
    v = (X0 + first, Y0)
    return LineString([(X0, Y0), v, (v[0] + second * math.cos(t), v[1] + second * math.sin(t))])


def left_of(line, point):
    """Whether point lies left of the nearest segment of line."""
    c = np.asarray(line.coords)
    segs = shapely.linestrings(np.stack([c[:-1], c[1:]], axis=1))
    i = int(np.argmin(shapely.distance(segs, point)))
    (ax, ay), (bx, by) = c[i], c[i + 1]
    return (bx - ax) * (point.y - ay) - (by - ay) * (point.x - ax) > 0


def blockers(line, spans):
    """Obstacles (no clearance) covering exactly the given chainage spans."""
    pts, widths = [], []
    for a, b in spans:
        pts.append(line.interpolate((a + b) / 2))
        widths.append(b - a)
    return gpd.GeoDataFrame({"kind": ["obstacle"] * len(pts), "width_m": widths}, geometry=pts, crs=CRS)


@pytest.mark.parametrize("turn", [25.0, -25.0, 10.0, -10.0])
@pytest.mark.parametrize(
    "spans",
    [
        [(0.0, 8.1), (62.1, 70.0)],  # bay [44.1, 50.1] ends 0.1 m past the vertex at 50, the next follows
        [(0.0, 43.9), (67.9, 70.0)],  # bay [49.9, 55.9] starts 0.1 m before it, after [43.9, 49.9]
        [(0.0, 11.0), (53.0, 70.0)],  # a bay [47, 53] centred on it
    ],
    ids=["end-past-vertex", "start-before-vertex", "centred"],
)
def test_parallel_bays_across_a_bend_are_valid(turn, spans):
    line = bent_kerb(turn)
    p = parkplan.plan(kerbs_frame([line], flow=["forward"]), blockers(line, spans), rules=make_rules(CAR))
    free = 70.0 - sum(b - a for a, b in spans)
    assert len(p.bays) == math.floor((free + TOL) / 6.0)
    geoms = np.asarray(p.bays.geometry.values, dtype=object)
    assert shapely.is_valid(geoms).all(), [g.wkt for g in geoms[~shapely.is_valid(geoms)]]
    assert_no_overlap(geoms)
    for g in geoms:
        # About 6 x 2.5 m, centred about half its width from the kerb, on the carriageway (left) side.
        assert g.area == pytest.approx(15.0, rel=0.1)
        assert shapely.distance(g.centroid, line) == pytest.approx(1.25, abs=0.3)
        assert shapely.distance(g, line) < 1e-6
        assert left_of(line, g.centroid)


def test_bays_across_a_gap_on_the_inside_of_a_bend():
    """Perpendicular bays 5 m deep, 2.5 m wide; a 0.5 m obstacle at a 30 degree bend to the inside.

    Bays either side of the vertex would meet at their far corners, so the kerb within
    5 * tan(15 deg) = 1.34 m of it is a "bend" zone: free stretches [2.25, 48.66] and [51.34, 97.75],
    46.41 m each, hold 18 bays each (45 m): 36 bays, none overlapping.
    """
    rules = make_rules({"p": {"orientation": "perpendicular", "length_m": 5.0, "width_m": 2.5}})
    line = bent_kerb(30.0, first=50.0, second=47.75)
    p = parkplan.plan(
        kerbs_frame([line], flow=["forward"]), blockers(line, [(0.0, 2.25), (49.75, 50.25)]), rules=rules
    )
    bend = p.zones[p.zones["kind"] == "bend"]
    assert len(bend) == 1
    assert bend["start_m"].iloc[0] == pytest.approx(50.0 - 5.0 * math.tan(math.radians(15.0)), abs=1e-3)
    assert len(p.bays) == 36
    assert_no_overlap(p.bays.geometry.values)


def test_narrow_deep_bay_on_the_inside_of_a_bend():
    rules = make_rules({"p": {"orientation": "perpendicular", "length_m": 4.36, "width_m": 1.84}})
    line = bent_kerb(25.0)
    p = parkplan.plan(
        kerbs_frame([line], flow=["forward"]), blockers(line, [(0.0, 40.9), (55.62, 70.0)]), rules=rules
    )
    assert len(p.bays) == 8  # 14.72 m = 8 x 1.84 m; the bay [48.26, 50.1] spans the vertex at 50
    assert p.bays.is_valid.all()


# --------------------------------------------------------------------------------------------------
# Street-area polygons
# --------------------------------------------------------------------------------------------------

CORNER_RULES = make_rules(CAR, clearances={"intersection": {"before_m": 5.0, "after_m": 5.0}})
RECT = box(X0, Y0, X0 + 100.0, Y0 + 12.0)
CROSS = shapely.union_all([box(X0 - 50, Y0 - 6, X0 + 50, Y0 + 6), box(X0 - 6, Y0 - 50, X0 + 6, Y0 + 50)])
INNER_CORNERS = [Point(X0 + dx, Y0 + dy) for dx in (-6, 6) for dy in (-6, 6)]


def area_frame(poly):
    return gpd.GeoDataFrame({"curb_id": ["s"]}, geometry=[poly], crs=CRS)


@pytest.mark.parametrize("extent", [None, "cut"])
@pytest.mark.parametrize("shape", ["rectangle", "cross"])
def test_street_area_bays_inside_polygon(shape, extent):
    poly = RECT if shape == "rectangle" else CROSS
    # The extent cuts the rectangle's short ends and the cross's four arm ends.
    ext = (
        None
        if extent is None
        else box(X0, Y0 - 20, X0 + 100, Y0 + 32)
        if shape == "rectangle"
        else CROSS.envelope
    )
    p = parkplan.plan(area_frame(poly), None, rules=CORNER_RULES, extent=ext)
    assert len(p.bays) > 0
    inside = poly.buffer(1e-6)
    assert all(inside.contains(g) for g in p.bays.geometry)
    assert_no_overlap(p.bays.geometry.values)
    # Every kerb of a street area has the area on its left, and the flow of right-hand traffic.
    assert set(p.kerbs["carriageway"]) == {"left"}
    assert set(p.kerbs["flow"]) == {"forward"}
    for k in p.kerbs.itertuples():
        total = k.bay_m + k.gap_m + k.lost_m + k.leftover_m
        assert total == pytest.approx(k.length_m, abs=TOL + 1e-9)
    if extent is None:
        # The whole boundary is kerb; corners give intersection zones.
        assert p.kerbs["length_m"].sum() == pytest.approx(poly.length, abs=TOL)
        corner = p.zones[p.zones["hazard_id"].str.startswith("corner:")]
        assert len(corner) > 0
        assert set(corner["kind"]) == {"intersection"}
        assert p.summary["kerbs"]["corners"] == len(corner)
        assert (corner["end_m"] - corner["start_m"] >= 5.0 - TOL).all()


def test_rectangle_street_cut_at_both_ends():
    # Short sides on the extent's edge are where the data was cut: two long kerbs, no corners.
    p = parkplan.plan(area_frame(RECT), None, rules=CORNER_RULES, extent=box(X0, Y0 - 20, X0 + 100, Y0 + 32))
    assert sorted(p.kerbs["length_m"]) == [100.0, 100.0]
    assert len(p.zones) == 0
    assert len(p.bays) == 32
    ys = sorted(
        {round(g.bounds[1] - Y0, 3) for g in p.bays.geometry}
        | {round(g.bounds[3] - Y0, 3) for g in p.bays.geometry}
    )
    assert ys == [0.0, 2.5, 9.5, 12.0]


def test_street_area_entirely_on_the_extent_edge_gives_no_kerbs():
    haz = gpd.GeoDataFrame({"kind": ["hydrant"]}, geometry=[Point(X0 + 1, Y0 + 1)], crs=CRS)
    p = parkplan.plan(area_frame(RECT), haz, rules=CORNER_RULES, extent=RECT)
    assert len(p.kerbs) == 0
    assert len(p.bays) == 0
    assert p.summary["hazards"]["unmatched"] == 1


@pytest.mark.parametrize("extent", [None, "cut"])
def test_cross_junction_corners_keep_their_clearance(extent):
    ext = None if extent is None else CROSS.envelope
    p = parkplan.plan(area_frame(CROSS), None, rules=CORNER_RULES, extent=ext)
    assert len(p.bays) > 0
    for c in INNER_CORNERS:
        assert p.bays.distance(c).min() >= 5.0 - TOL


def test_rectangle_area_has_four_corners():
    poly = box(X0, Y0, X0 + 100.0, Y0 + 40.0)
    p = parkplan.plan(area_frame(poly), None, rules=CORNER_RULES)
    assert len(p.kerbs) == 4
    assert sorted(p.kerbs["length_m"]) == [40.0, 40.0, 100.0, 100.0]
    assert p.summary["kerbs"]["corners"] == 8


def test_corners_of_a_densified_rectangle_are_its_real_corners():
    # Vertices every 10 m: each vertex next to a corner sees the same windowed turn as the corner itself.
    from parkplan.geometry.kerbs import CornerSettings, ring_corners

    ring = shapely.get_coordinates(box(0.0, 0.0, 100.0, 40.0).segmentize(10.0).exterior)[:-1]
    corners, _, _ = ring_corners(ring, CornerSettings())
    got = {tuple(map(float, ring[i])) for i in corners}
    assert got == {(0.0, 0.0), (100.0, 0.0), (100.0, 40.0), (0.0, 40.0)}


@pytest.mark.parametrize("seed", range(6))
def test_overlap_check_looks_at_every_bay_that_overlaps_another(seed: int) -> None:
    """Crossing, bent kerbs with bays packed on them: every pair of raw bay polygons that overlaps
    (found by brute force over all pairs) is among the candidates the segment regions let through,
    except neighbours within one straight segment, which lie side by side by construction."""
    from parkplan.geometry.kerbs import KerbIndex
    from parkplan.layout import _following, _overlap_candidates

    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(25):
        start = rng.random(2) * 60
        steps = rng.normal(size=(int(rng.integers(1, 6)), 2)) * rng.choice([3.0, 15.0])
        lines.append(LineString(np.vstack([start, start + np.cumsum(steps, axis=0)])))
    idx = KerbIndex(np.array(lines, dtype=object))
    length = shapely.length(np.array(lines, dtype=object))
    k, a, b = [], [], []
    for kerb, total in enumerate(length):
        pos = 0.0
        while pos + 2.0 < total:
            span = rng.uniform(2.0, 7.0)
            k.append(kerb)
            a.append(pos)
            b.append(min(pos + span, total))
            pos += span + rng.choice([0.0, 0.5])
    k, a, b = np.array(k), np.array(a), np.array(b)
    depth = rng.choice([-2.5, 2.0], len(k))
    polys = shapely.make_valid(_following(idx, k, a, b, depth))  # folded bays (bends) made valid
    seg_a = idx.segment(k, a)
    straight = seg_a == idx.segment(k, np.maximum(b - 1e-9, a))
    loose = ~straight
    cand = set(_overlap_candidates(polys, idx, k, a, b, depth, seg_a, loose, 1).tolist())
    i, j = shapely.STRtree(polys).query(polys, predicate="overlaps")
    same = (k[i] == k[j]) & straight[i] & straight[j] & (seg_a[i] == seg_a[j])
    i, j = i[~same], j[~same]
    real = shapely.area(shapely.intersection(polys[i], polys[j])) > 1e-9
    assert real.sum() > 10  # the kerbs cross: there is something to find
    assert set(i[real].tolist()) | set(j[real].tolist()) <= cand
    assert len(cand) < len(k)  # and the regions spare some bays


@pytest.mark.parametrize("seed", range(4))
def test_row_helpers_equal_fancy_indexing(seed):
    """The fast gathers, scatters and row scaling give exactly numpy's fancy indexing and broadcasting."""
    from parkplan._arrays import rows, scaled, set_rows

    rng = np.random.default_rng(seed)
    points = rng.normal(size=(50, 2)) * 1e5
    which = rng.integers(0, 50, 80)
    factor = rng.normal(size=80)
    assert np.array_equal(rows(points, which), points[which])
    assert np.array_equal(scaled(points[which], factor), points[which] * factor[:, None])
    target, expected = np.zeros((60, 2)), np.zeros((60, 2))
    slots = rng.permutation(60)[:30]
    source = np.asfortranarray(points[:30])  # any memory order of the moved rows
    set_rows(target, slots, source)
    expected[slots] = source
    assert np.array_equal(target, expected)


def test_kerb_account_counts_runs_in_any_row_order():
    """Bays, bay metres (each run from its lowest to its highest chainage, far edge included) and gap
    metres per kerb, by hand; the same when the bays come in another order."""
    import pandas as pd

    from parkplan.accounting import kerb_account

    rules = parkplan.load_rules("cn")  # runs of bays apart by a gap
    assert rules.grouping is not None
    gap = rules.grouping.gap_m
    zone_account = pd.DataFrame({"length_m": [30.0, 40.0], "free_m": [20.0, 30.0], "lost_m": [10.0, 10.0]})
    placed = pd.DataFrame(
        {
            "kerb": [0, 0, 0, 1],
            "stretch": [0, 0, 0, 1],
            "run": [0, 0, 1, 0],
            "start_m": [0.0, 6.0, 13.0, 21.0],
            "end_m": [5.0, 11.0, 18.0, 25.0],
            "far_start_m": [0.0, 6.0, 13.0, 20.0],
            "far_end_m": [5.0, 11.0, 18.0, 26.0],
        }
    )
    # Kerb 0: run 0 spans 0-11 (a metre between its bays counts), run 1 13-18, one gap between them.
    expected = {"bays": [3, 1], "bay_m": [16.0, 6.0], "gap_m": [gap, 0.0]}
    for order in ([0, 1, 2, 3], [3, 2, 0, 1], [0, 2, 1, 3], [2, 3, 1, 0]):
        got = kerb_account(zone_account, placed.iloc[order].reset_index(drop=True), rules)
        for column, values in expected.items():
            assert got[column].tolist() == pytest.approx(values), (order, column)
        assert got["leftover_m"].tolist() == pytest.approx([20.0 - 16.0 - gap, 30.0 - 6.0])


def test_no_bay_wraps_a_kerb_turning_in_small_steps():
    """The tip of an island 8 m wide: 180 degrees in 12.6 m in steps of 15 degrees (no single vertex turns
    30 degrees), the carriageway outside. No bay may hold kerb turning 30 degrees or more in all
    (Neukoelln: bays wrapped such tips with their middle on the footway)."""
    import geopandas as gpd
    import shapely
    from shapely.geometry import LineString

    import parkplan

    angles = np.linspace(-np.pi / 2, np.pi / 2, 13)
    tip = [(100 + 4.0 * np.cos(a), 4.0 + 4.0 * np.sin(a)) for a in angles]
    kerb = LineString([(0, 0), *tip, (0, 8)])
    frame = gpd.GeoDataFrame({"curb_id": ["k"], "side": ["left"]}, geometry=[kerb], crs="EPSG:25833")
    rules = {
        "name": "t",
        "traffic": "right",
        "bays": {"car": {"orientation": "parallel", "length_m": 5.0, "width_m": 2.0}},
    }
    p = parkplan.plan(frame, None, rules=rules, room=True)
    coords = np.asarray(kerb.coords)
    seg = np.diff(coords, axis=0)
    heading = np.unwrap(np.arctan2(seg[:, 1], seg[:, 0]))
    chain = np.concatenate([[0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))])
    for row in p.bays.itertuples():
        inside = (chain[1:-1] > row.start_m + 1e-6) & (chain[1:-1] < row.end_m - 1e-6)
        held = np.flatnonzero(inside) + 1  # interior vertices under the bay
        if len(held):
            # Net turning from the segment before the first held vertex to the one after the last.
            turned = abs(heading[held[-1]] - heading[held[0] - 1])
            assert turned < np.radians(30.0), (row.bay_id, np.degrees(turned))
    assert len(p.bays) >= 38  # both long sides still park
    assert shapely.is_valid(np.asarray(p.bays.geometry.values, dtype=object)).all()
