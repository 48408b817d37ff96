"""Property tests on random small districts: bays never overlap, never enter a forbidden zone, stay on
their kerb and on its carriageway side; the kerb accounting adds up; the closed form matches the count;
presolve and determinism do not change the result."""

from __future__ import annotations

import itertools
import math
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

import parkplan

CRS = "EPSG:25833"
X0, Y0 = 391_000.0, 5_818_000.0  # Berlin, so the coordinates have realistic magnitude
STRIP_M = 120.0  # kerbs lie in separate strips so bays of different kerbs cannot meet
TOL = 1e-3

KINDS = ["hydrant", "driveway", "crossing", "bus_stop", "no_parking", "obstacle", "intersection"]

# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------


@st.composite
def kerb_line(draw, i):
    """A straight or bent kerb in strip i: 1-3 segments, headings within +-15 degrees of the x axis."""
    n_seg = draw(st.integers(1, 3))
    heading = draw(st.floats(-15.0, 15.0))
    x, y = X0 + draw(st.floats(0.0, 20.0)), Y0 + i * STRIP_M
    pts = [(x, y)]
    for k in range(n_seg):
        if k:
            heading = float(np.clip(heading + draw(st.floats(-25.0, 25.0)), -15.0, 15.0))
        length = draw(st.floats(6.0, 60.0))
        x += length * math.cos(math.radians(heading))
        y += length * math.sin(math.radians(heading))
        pts.append((x, y))
    if draw(st.booleans()):
        pts = pts[::-1]
    return LineString(pts)


def _point_on(line, s, offset):
    """Point at chainage s (extrapolated past the ends), offset to the left of the digitised direction
    (negative: to the right)."""
    c = np.asarray(line.coords)
    seg_len = np.hypot(*np.diff(c, axis=0).T)
    chain = np.concatenate([[0.0], np.cumsum(seg_len)])
    i = int(np.clip(np.searchsorted(chain, s, side="right") - 1, 0, len(seg_len) - 1))
    ux, uy = (c[i + 1] - c[i]) / seg_len[i]
    x, y = c[i] + (s - chain[i]) * np.array([ux, uy])
    return float(x - uy * offset), float(y + ux * offset)


@st.composite
def hazard(draw, lines):
    k = draw(st.integers(0, len(lines) - 1))
    line = lines[k]
    kind = draw(st.sampled_from(KINDS))
    s = draw(st.floats(-3.0, line.length + 3.0))
    shape = draw(st.sampled_from(["point", "point", "crossing_line", "along_line", "polygon"]))
    width = draw(st.none() | st.floats(0.0, 6.0))
    if shape == "point":
        geom = Point(*_point_on(line, s, draw(st.floats(-4.0, 4.0))))
    elif shape == "crossing_line":
        a = _point_on(line, s, -draw(st.floats(0.5, 8.0)))
        b = _point_on(line, s + draw(st.floats(-3.0, 3.0)), draw(st.floats(0.5, 8.0)))
        geom = LineString([a, b])
    elif shape == "along_line":
        off = draw(st.floats(-2.5, 2.5))
        length = draw(st.floats(1.0, 25.0))
        geom = LineString(
            [_point_on(line, s, off), _point_on(line, s + length / 2, off), _point_on(line, s + length, off)]
        )
    else:
        length = draw(st.floats(1.0, 15.0))
        off = draw(st.floats(-3.0, 3.0))
        depth = draw(st.floats(0.5, 4.0))
        ring = [
            _point_on(line, s, off),
            _point_on(line, s + length, off),
            _point_on(line, s + length, off + depth),
            _point_on(line, s, off + depth),
        ]
        geom = shapely.make_valid(shapely.Polygon(ring))
        if geom.geom_type != "Polygon" or geom.area < 0.01:
            geom = Point(*_point_on(line, s, off))
    return kind, geom, width


@st.composite
def bay_type(draw):
    orientation = draw(st.sampled_from(["parallel", "parallel", "perpendicular", "angled"]))
    bay = {
        "orientation": orientation,
        "length_m": draw(st.floats(4.0, 7.0).map(lambda v: round(v, 2))),
        "width_m": draw(st.floats(1.8, 3.0).map(lambda v: round(v, 2))),
        "weight": draw(st.sampled_from([1.0, 0.8, 0.55, 1.25])),
    }
    if orientation == "angled":
        bay["angle_deg"] = draw(st.sampled_from([30.0, 45.0, 60.0, 75.0]))
    return bay


@st.composite
def rules_mapping(draw, *, n_types=None, grouping=None):
    n = draw(st.integers(1, 2)) if n_types is None else n_types
    bays = {f"b{i}": draw(bay_type()) for i in range(n)}
    clearances = {}
    for kind in draw(st.lists(st.sampled_from(KINDS), unique=True, max_size=5)):
        entry = {"before_m": draw(st.floats(0.0, 15.0)), "after_m": draw(st.floats(0.0, 15.0))}
        if draw(st.booleans()):
            entry["default_width_m"] = draw(st.floats(0.0, 5.0))
        clearances[kind] = entry
    traffic = draw(st.sampled_from(["right", "left"]))
    rules = {"name": "random", "traffic": traffic, "bays": bays, "clearances": clearances}
    use_grouping = draw(st.booleans()) if grouping is None else grouping
    if use_grouping:
        rules["grouping"] = {"max_run_m": draw(st.floats(18.0, 60.0)), "gap_m": draw(st.floats(0.0, 5.0))}
    return rules


@st.composite
def district(draw, *, n_types=None, grouping=None):
    n = draw(st.integers(1, 4))
    lines = [draw(kerb_line(i)) for i in range(n)]
    flows = [draw(st.sampled_from(["forward", "backward"])) for _ in range(n)]
    sides = [draw(st.sampled_from([None, "left", "right"])) for _ in range(n)]
    kerbs = gpd.GeoDataFrame(
        {"curb_id": [f"k{i}" for i in range(n)], "flow": flows, "side": sides}, geometry=lines, crs=CRS
    )
    items = draw(st.lists(hazard(lines), max_size=8))
    hazards = gpd.GeoDataFrame(
        {
            "kind": [k for k, _, _ in items],
            "hazard_id": [f"h{i}" for i in range(len(items))],
            "width_m": [np.nan if w is None else w for _, _, w in items],
        },
        geometry=[g for _, g, _ in items],
        crs=CRS,
    )
    return kerbs, hazards, draw(rules_mapping(n_types=n_types, grouping=grouping))


# --------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------


def expected_carriageway(side, flow, traffic):
    if side == "right":
        return "left"
    if side == "left":
        return "right"
    left_of_flow = traffic == "right"
    return "left" if left_of_flow == (flow == "forward") else "right"


def side_of(line, point):
    """+1 when point lies left of the nearest segment of line, -1 right."""
    coords = np.asarray(line.coords)
    a, b = coords[:-1], coords[1:]
    segs = shapely.linestrings(np.stack([a, b], axis=1))
    i = int(np.argmin(shapely.distance(segs, point)))
    (ax, ay), (bx, by) = a[i], b[i]
    cross = (bx - ax) * (point.y - ay) - (by - ay) * (point.x - ax)
    return 1 if cross > 0 else -1


def concave_vertices(line, carriageway):
    """(chainage, turn) of the vertices of a kerb that turn towards its carriageway (inside of a bend)."""
    c = np.asarray(line.coords)
    d = np.diff(c, axis=0)
    if len(d) < 2:
        return []
    h = np.arctan2(d[:, 1], d[:, 0])
    turn = np.angle(np.exp(1j * np.diff(h)))
    chain = np.cumsum(np.hypot(d[:, 0], d[:, 1]))[:-1]
    sign = 1.0 if carriageway == "left" else -1.0
    return [(float(s), float(abs(t))) for s, t in zip(chain, turn, strict=True) if t * sign > 1e-9]


def merged_free(zones, length):
    """Free stretches of one kerb from its zones (start_m, end_m)."""
    iv = sorted(zip(zones["start_m"], zones["end_m"], strict=True))
    free, pos = [], 0.0
    for a, b in iv:
        if a > pos:
            free.append(a - pos)
        pos = max(pos, b)
    if length > pos:
        free.append(length - pos)
    return free


def one_type_count(f, bay, grouping):
    """Bays of one type on a free stretch of f metres (1 mm tolerance), by counting runs."""
    p = math.ceil(bay.pitch_m * 1000 - 1e-6) / 1000
    e = math.ceil(bay.end_m * 1000 - 1e-6) / 1000
    f = f + TOL
    if grouping is None:
        return max(math.floor((f - e) / p + 1e-9), 0)
    run, gap = grouping.max_run_m + TOL, math.ceil(grouping.gap_m * 1000 - 1e-6) / 1000
    per_run = math.floor((run - e) / p + 1e-9)
    best, r = 0, 1
    while r * (p + e) + (r - 1) * gap <= f + 1e-9:
        best = max(best, min(r * per_run, math.floor((f - r * e - (r - 1) * gap) / p + 1e-9)))
        r += 1
    return best


def check_plan(p, kerbs_in, rules):
    bays, zones, kerbs = p.bays, p.zones, p.kerbs
    lengths = dict(zip(kerbs["curb_id"], kerbs["length_m"], strict=True))
    lines = dict(zip(kerbs_in["curb_id"], kerbs_in.geometry, strict=True))
    assert p.summary["solver"]["status"] == "OPTIMAL"
    assert p.summary["bays"]["total"] == len(bays)

    # Carriageway side recorded per kerb.
    for row in kerbs_in.itertuples():
        k = kerbs[kerbs["curb_id"] == row.curb_id].iloc[0]
        assert k["carriageway"] == expected_carriageway(row.side, row.flow, rules.traffic)
        assert k["flow"] == row.flow

    # Bays are valid polygons and no two overlap (on the inside of a bend the later bay gives up the
    # sliver it would share with its neighbour; see layout._untangle).
    geoms = np.asarray(bays.geometry.values, dtype=object)
    assert shapely.is_valid(geoms).all()
    assert (shapely.get_type_id(geoms) == 3).all()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if len(left):
        area = shapely.area(shapely.intersection(geoms[left], geoms[right]))
        assert area.max() < 1e-4, bays.iloc[[left[area.argmax()], right[area.argmax()]]].drop(
            columns="geometry"
        )

    # Bay areas: length x width for every orientation.
    expected_area = bays["length_m"] * bays["width_m"]
    straight = {c for c, g in lines.items() if len(g.coords) == 2}
    on_straight = bays["curb_id"].isin(straight).to_numpy()
    np.testing.assert_allclose(shapely.area(geoms)[on_straight], expected_area[on_straight], rtol=1e-3)

    for row in bays.itertuples():
        length = lengths[row.curb_id]
        # On the kerb.
        assert -TOL <= row.start_m < row.end_m <= length + TOL
        # Never in a forbidden zone.
        z = zones[zones["curb_id"] == row.curb_id]
        overlap = np.minimum(row.end_m, z["end_m"]) - np.maximum(row.start_m, z["start_m"])
        assert (overlap <= TOL).all(), (row, z[overlap > TOL])
        # On the carriageway side.
        k = kerbs[kerbs["curb_id"] == row.curb_id].iloc[0]
        want = 1 if k["carriageway"] == "left" else -1
        assert side_of(lines[row.curb_id], row.geometry.centroid) == want

    # Accounting per kerb.
    for k in kerbs.itertuples():
        total = k.bay_m + k.gap_m + k.lost_m + k.leftover_m
        assert total == pytest.approx(k.length_m, abs=TOL + 1e-9), k
        assert k.bays == int((bays["curb_id"] == k.curb_id).sum())
        assert min(k.bay_m, k.gap_m, k.lost_m, k.leftover_m) >= 0
        # Each value is rounded to the millimetre on its own: allow half a millimetre per term.
        lost_cols = [c for c in kerbs.columns if c.startswith("lost_") and c != "lost_m"]
        slack = 0.5 * TOL * (len(lost_cols) + 1) + 1e-9
        assert sum(getattr(k, c) for c in lost_cols) == pytest.approx(k.lost_m, abs=slack)

    # One bay type: the count per kerb is the closed form over its free stretches.
    if len(rules.bays) == 1:
        bay = rules.bays[0]
        for k in kerbs.itertuples():
            free = merged_free(zones[zones["curb_id"] == k.curb_id], k.length_m)
            # Zones are reported to the millimetre: a stretch within 2 mm of a boundary may go either way.
            lo = sum(one_type_count(f - 2 * TOL, bay, rules.grouping) for f in free)
            hi = sum(one_type_count(f + 2 * TOL, bay, rules.grouping) for f in free)
            mid = sum(one_type_count(f, bay, rules.grouping) for f in free)
            assert lo <= k.bays <= hi, (k.curb_id, free, k.bays, lo, mid, hi)
            if lo == hi:
                assert k.bays == mid


def assert_same_bays(a, b):
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert list(a.geometry.to_wkb()) == list(b.geometry.to_wkb())


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------

SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


@settings(max_examples=60, **SETTINGS)
@given(district())
def test_invariants(data):
    kerbs, hazards, rules_map = data
    rules = parkplan.load_rules(rules_map)
    p = parkplan.plan(kerbs, hazards, rules=rules)
    check_plan(p, kerbs, rules)


@settings(max_examples=30, **SETTINGS)
@given(district(n_types=1, grouping=False))
def test_one_type_no_grouping(data):
    kerbs, hazards, rules_map = data
    rules = parkplan.load_rules(rules_map)
    p = parkplan.plan(kerbs, hazards, rules=rules)
    check_plan(p, kerbs, rules)


@settings(max_examples=20, **SETTINGS)
@given(district())
def test_presolve_and_determinism(data):
    kerbs, hazards, rules_map = data
    rules = parkplan.load_rules(rules_map)
    a = parkplan.plan(kerbs, hazards, rules=rules, presolve=True)
    b = parkplan.plan(kerbs, hazards, rules=rules, presolve=False)
    assert a.summary["solver"]["status"] == b.summary["solver"]["status"] == "OPTIMAL"
    assert a.summary["solver"]["objective"] == pytest.approx(b.summary["solver"]["objective"], abs=1e-9)
    if len(rules.bays) == 1:
        # One type: the same layout, to the bit.
        assert_same_bays(a.bays, b.bays)
        assert a.summary["bays"] == b.summary["bays"]
    else:
        # Several types: equally good mixes may differ (solve.py docstring), but every kerb is worth the
        # same and both layouts satisfy every invariant.
        weight = {t.name: t.weight for t in rules.bays}
        va = a.bays.assign(w=a.bays["bay_type"].map(weight)).groupby("curb_id")["w"].sum()
        vb = b.bays.assign(w=b.bays["bay_type"].map(weight)).groupby("curb_id")["w"].sum()
        pd.testing.assert_series_equal(va, vb, atol=1e-9, rtol=0)
        check_plan(b, kerbs, rules)
    c = parkplan.plan(kerbs, hazards, rules=rules, presolve=True)
    with tempfile.TemporaryDirectory() as tmp:
        fa, fc = Path(tmp) / "a.geojson", Path(tmp) / "c.geojson"
        a.to_geojson(fa)
        c.to_geojson(fc)
        assert fa.read_bytes() == fc.read_bytes()
        a.write(zones=Path(tmp) / "za.geojson", kerbs=Path(tmp) / "ka.geojson")
        c.write(zones=Path(tmp) / "zc.geojson", kerbs=Path(tmp) / "kc.geojson")
        assert (Path(tmp) / "za.geojson").read_bytes() == (Path(tmp) / "zc.geojson").read_bytes()
        assert (Path(tmp) / "ka.geojson").read_bytes() == (Path(tmp) / "kc.geojson").read_bytes()


# --------------------------------------------------------------------------------------------------
# The kerb account's loss by kind and the zone sort, against plain-Python references
# --------------------------------------------------------------------------------------------------

ZONE_KINDS = ["hydrant", "driveway", "crossing", "bus_stop"]


@st.composite
def zone_rows(draw):
    """Zones on up to 4 kerbs, on a 0.5 m grid so that ends often coincide; own extent inside the zone."""
    n = draw(st.integers(0, 25))
    rows = []
    for _ in range(n):
        start = draw(st.integers(0, 60)) / 2.0
        end = start + draw(st.integers(1, 20)) / 2.0
        own_a = start + draw(st.integers(0, 4)) / 2.0
        own_b = own_a + draw(st.integers(0, 4)) / 2.0
        rows.append(
            (
                draw(st.integers(0, 3)),
                start,
                end,
                min(own_a, end),
                min(own_b, end),
                draw(st.sampled_from(ZONE_KINDS)),
            )
        )
    zones = pd.DataFrame(rows, columns=["kerb", "start_m", "end_m", "hazard_start_m", "hazard_end_m", "kind"])
    if draw(st.booleans()):  # the plan passes them in kerb and start order; also try any order
        zones = zones.sort_values(["kerb", "start_m"], kind="stable").reset_index(drop=True)
    return zones


def _lost_reference(zones: pd.DataFrame, n_kerbs: int, order: list[str]) -> dict[tuple[int, str], float]:
    """Each elementary piece of a kerb goes to the covering zone that wins: its own extent before any
    clearance, then the kind listed first. Loops, no numpy tricks."""
    out: dict[tuple[int, str], float] = {}
    for k in range(n_kerbs):
        mine = zones[zones["kerb"] == k]
        cuts = sorted(
            set(mine["start_m"])
            | set(mine["end_m"])
            | set(mine["hazard_start_m"])
            | set(mine["hazard_end_m"])
        )
        for lo, hi in itertools.pairwise(cuts):
            mid = (lo + hi) / 2.0
            best = None
            for z in mine.itertuples():
                rank = order.index(z.kind)
                if z.hazard_start_m < mid < z.hazard_end_m:
                    prio = rank
                elif z.start_m < mid < z.end_m:
                    prio = rank + len(order)
                else:
                    continue
                best = prio if best is None else min(best, prio)
            if best is not None:
                kind = order[best % len(order)]
                out[(k, kind)] = out.get((k, kind), 0.0) + hi - lo
    return out


@settings(max_examples=150, deadline=None)
@given(zone_rows())
def test_lost_by_kind_matches_a_plain_reference(zones):
    from parkplan.accounting import kind_rank, lost_by_kind
    from parkplan.rules.loading import load_rules

    rules = load_rules("cn")
    rank = kind_rank(rules)
    order = sorted(ZONE_KINDS, key=lambda k: rank.get(k, len(rank)))
    got = lost_by_kind(zones, 4, rules)
    want = _lost_reference(zones, 4, order)
    for k in range(4):
        for kind in ZONE_KINDS:
            column = f"lost_{kind}_m"
            value = float(got[column].iloc[k]) if column in got.columns else 0.0
            assert value == pytest.approx(want.get((k, kind), 0.0), abs=1e-6), (k, kind)


@settings(max_examples=150, deadline=None)
@given(zone_rows(), st.integers(0, 3))
def test_sort_zones_equals_the_three_key_sort(zones, pieces):
    """Sorted parts put together (as the choice of sides does), or any order: the same as a lexsort."""
    from parkplan.intervals import sort_zones

    if pieces and len(zones):
        ordered = zones.iloc[np.lexsort((zones["end_m"], zones["start_m"], zones["kerb"]))]
        zones = pd.concat([ordered[ordered["kerb"] % (pieces + 1) == j] for j in range(pieces + 1)])
    zones = zones.assign(row=np.arange(len(zones)))
    want = zones.iloc[
        np.lexsort((zones["end_m"].to_numpy(), zones["start_m"].to_numpy(), zones["kerb"].to_numpy()))
    ]
    assert sort_zones(zones)["row"].tolist() == want["row"].tolist()
