"""Projections onto a kerb in closed form (issue 13), and strips of one kerb meeting each other.

The room check and ``keep`` project points onto the kerb segment they came from (or the nearest one)
instead of calling :func:`shapely.line_locate_point` on the whole kerb, which walks every vertex: these
tests check the closed form against GEOS on random kerbs and points. A kerb that doubles back (a hairpin,
a zigzag) must not get bays where its passes are too close for two bay depths.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import parkplan
from parkplan.geometry import carriageway
from parkplan.geometry.kerbs import KerbSegments
from parkplan.keep import KERB_EDGE_FRACTION, MATCH_M, existing_spans
from parkplan.optimize import keep as keep_model

CRS = "EPSG:25833"
X0, Y0 = 391_000.0, 5_818_000.0  # realistic coordinate magnitudes
CAR = {"car": {"orientation": "parallel", "length_m": 6.0, "width_m": 2.5}}
RULES: dict[str, object] = {"name": "t", "traffic": "right", "bays": CAR}
DEPTH_M = 2.5


def random_kerbs(seed: int, n_kerbs: int, max_vertices: int, closed: bool = True) -> list[shapely.LineString]:
    """Random walks near the origin: kerbs that bend, double back and cross each other; some closed."""
    rng = np.random.default_rng(seed)
    kerbs = []
    for _ in range(n_kerbs):
        n = int(rng.integers(2, max_vertices + 1))
        steps = rng.normal(0.0, 1.0, (n - 1, 2)) * rng.choice([0.05, 1.0, 8.0], size=(n - 1, 1))
        start = rng.uniform(-20.0, 20.0, 2)
        xy = np.vstack([start, start + np.cumsum(steps, axis=0)]) + np.array([X0, Y0])
        if closed and n >= 3 and rng.random() < 0.2:
            xy = np.vstack([xy, xy[:1]])  # a closed kerb: start and end tie
        kerbs.append(shapely.LineString(xy))
    return kerbs


def points_near(seed: int, kerbs: list[shapely.LineString], n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points scattered up to ~10 m around random places on random kerbs, and their kerbs."""
    rng = np.random.default_rng(seed + 1)
    which = rng.integers(0, len(kerbs), n)
    lines = np.asarray(kerbs, dtype=object)[which]
    at = shapely.line_interpolate_point(lines, rng.uniform(0.0, 1.0, n), normalized=True)
    xy = shapely.get_coordinates(at) + rng.normal(0.0, 1.0, (n, 2)) * rng.choice([0.01, 1.0, 5.0], (n, 1))
    return xy, which


def assert_same_place(lines: np.ndarray, s: np.ndarray, expected: np.ndarray) -> None:
    """Chainages ``s`` are GEOS's ``expected``, or the other end of a closed kerb (the same point)."""
    length = shapely.length(lines)
    ok = np.abs(s - expected) < 1e-6
    ends = shapely.is_closed(lines) & (np.abs(np.abs(s - expected) - length) < 1e-6)
    assert np.all(ok | ends), (s[~(ok | ends)], expected[~(ok | ends)])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(2, 40))
def test_locate_on_the_nearest_segment_is_line_locate_point(seed: int, n_kerbs: int, vertices: int) -> None:
    """Projecting onto the nearest segment in closed form gives GEOS's chainage and distance."""
    kerbs = random_kerbs(seed, n_kerbs, vertices)
    segs = KerbSegments(np.asarray(kerbs, dtype=object))
    xy, which = points_near(seed, kerbs, 200)
    # The nearest segment of each point's kerb, by brute force over all segments.
    _, d_all = segs.locate(np.repeat(xy, len(segs), axis=0), np.tile(np.arange(len(segs)), len(xy)))
    d_all = np.where(segs.kerb[None, :] == which[:, None], d_all.reshape(len(xy), -1), np.inf)
    nearest = np.argmin(d_all, axis=1)  # the first of equally near segments, as GEOS
    s, dist = segs.locate(xy, nearest)
    lines = np.asarray(kerbs, dtype=object)[which]
    expected = shapely.line_locate_point(lines, shapely.points(xy))
    np.testing.assert_allclose(dist, shapely.distance(lines, shapely.points(xy)), atol=1e-9)
    assert_same_place(lines, s, expected)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(2, 40))
def test_nearest_on_kerb_is_line_locate_point(seed: int, n_kerbs: int, vertices: int) -> None:
    """The index query with a reach from any one segment of the kerb finds GEOS's nearest point."""
    kerbs = random_kerbs(seed, n_kerbs, vertices)
    segs = KerbSegments(np.asarray(kerbs, dtype=object))
    xy, which = points_near(seed, kerbs, 300)
    first = np.searchsorted(segs.kerb, which)  # the first segment of each point's kerb
    _, reach = segs.locate(xy, first)
    s, dist, seg = segs.nearest_on(xy, reach + 1e-6, which)
    lines = np.asarray(kerbs, dtype=object)[which]
    expected = shapely.line_locate_point(lines, shapely.points(xy))
    assert np.all(seg >= 0)
    assert np.all(segs.kerb[seg] == which)
    np.testing.assert_allclose(dist, shapely.distance(lines, shapely.points(xy)), atol=1e-9)
    assert_same_place(lines, s, expected)


def test_nearest_on_without_reach_finds_nothing() -> None:
    """A point farther from its kerb than the reach gets NaN, not another kerb's place."""
    segs = KerbSegments(
        np.array([shapely.LineString([(0, 0), (10, 0)]), shapely.LineString([(0, 5), (10, 5)])])
    )
    s, dist, seg = segs.nearest_on(np.array([[5.0, 4.0], [5.0, 4.0]]), 2.0, np.array([0, 1]))
    assert np.isnan(s[0])
    assert seg[0] == -1
    assert np.isinf(dist[0])
    assert s[1] == 5.0
    assert seg[1] == 1
    assert np.isclose(dist[1], 1.0)
    s, _, seg = segs.nearest_on(np.array([[5.0, 4.0]]), 10.0)  # any kerb
    assert seg[0] == 1
    assert s[0] == 5.0


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(2, 40))
def test_existing_spans_match_line_locate_point(seed: int, n_kerbs: int, vertices: int) -> None:
    """Existing bays: the kerb nearest their centre and the span of their kerb-edge vertices (those within
    a fraction of the bay's depth of its nearest vertex), as with GEOS.

    Open kerbs only: on a closed kerb both ends are right for its closing vertex (tested above).
    """
    kerbs = random_kerbs(seed, n_kerbs, vertices, closed=False)
    xy, _ = points_near(seed, kerbs, 60)
    rng = np.random.default_rng(seed + 2)
    corners = np.array([[-3.0, -1.2], [3.0, -1.2], [3.0, 1.2], [-3.0, 1.2], [-3.0, -1.2]])
    angle = rng.uniform(0.0, np.pi, len(xy))
    rot = np.stack([np.cos(angle), -np.sin(angle), np.sin(angle), np.cos(angle)], axis=1).reshape(-1, 2, 2)
    rings = xy[:, None, :] + np.einsum("nij,kj->nki", rot, corners)
    polys = shapely.polygons(rings)
    kerb_table = gpd.GeoDataFrame(geometry=kerbs, crs=CRS)
    got = existing_spans(gpd.GeoDataFrame(geometry=polys, crs=CRS), kerb_table)
    lines = np.asarray(kerbs, dtype=object)
    centre = shapely.centroid(polys)
    dist = shapely.distance(lines[None, :], centre[:, None])
    best = dist.min(axis=1)
    assert set(got["bay"]) == set(np.flatnonzero(best <= MATCH_M))
    for row in got.itertuples():
        ties = np.flatnonzero(dist[row.bay] <= best[row.bay] + 1e-9)
        assert row.kerb == ties[0]  # the nearest kerb; ties: the first
        points = shapely.points(shapely.get_coordinates(polys[row.bay]))
        s = shapely.line_locate_point(lines[row.kerb], points)
        d = shapely.distance(lines[row.kerb], points)
        edge = d <= d.min() + KERB_EDGE_FRACTION * (d.max() - d.min()) + 1e-9
        assert abs(row.start_m - s[edge].min()) < 1e-6
        assert abs(row.end_m - s[edge].max()) < 1e-6


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(2, 30), st.sampled_from([0.0, 0.04, 2.5, 5.0])
)
def test_edges_clipped_to_the_strips_in_closed_form_as_geos(
    seed: int, n_kerbs: int, vertices: int, depth_m: float
) -> None:
    """Where kerb edges cross a segment's inset strip (Cyrus-Beck in the segment's frame): GEOS's answer."""
    kerbs = random_kerbs(seed, n_kerbs, vertices)
    table = gpd.GeoDataFrame(
        {"carriageway": np.random.default_rng(seed).choice(["left", "right"], n_kerbs)},
        geometry=kerbs,
        crs=CRS,
    )
    segs = KerbSegments(np.asarray(kerbs, dtype=object))
    depth = np.full(n_kerbs, depth_m)
    _, inner, _, seg_a, seg_b = carriageway._strips(table, depth, segs)
    _, unit = carriageway._normals(table, segs)
    quad = np.flatnonzero(seg_a == seg_b)
    ea, eb = carriageway._segments(np.asarray(kerbs, dtype=object))
    edges = shapely.linestrings(np.stack([ea, eb], axis=1))
    qi, ei = shapely.STRtree(edges).query(inner[quad])  # every pair whose bounding boxes meet
    qi = quad[qi]
    with np.errstate(all="raise"):
        hit, lo, hi = carriageway._crossings(segs, unit, depth, seg_a[qi], ea[ei], eb[ei])
    expected = shapely.intersects(inner[qi], edges[ei])
    # Touching at a corner is a matter of rounding either way.
    near = shapely.distance(shapely.boundary(inner[qi]), edges[ei]) < 1e-9
    assert np.all((hit == expected) | near)
    both = np.flatnonzero(hit & expected)
    glo, ghi = carriageway._project(
        shapely.intersection(inner[qi[both]], edges[ei[both]]), seg_a[qi[both]], seg_b[qi[both]], segs
    )
    np.testing.assert_allclose(lo[both], glo, atol=1e-6)
    np.testing.assert_allclose(hi[both], ghi, atol=1e-6)


def test_edge_at_right_angles_beyond_the_strip_misses_it() -> None:
    """An edge square to a diagonal segment, past its end but inside its strip's bounding box: no hit,
    and no infinite parameter times zero (NaN) on the way."""
    table = gpd.GeoDataFrame(
        {"carriageway": ["right"]}, geometry=[shapely.LineString([(0, 0), (10, 10)])], crs=CRS
    )
    segs = KerbSegments(np.asarray(table.geometry.values, dtype=object))
    _, unit = carriageway._normals(table, segs)
    a, b = np.array([[10.5, 9.5], [10.0, 4.0]]), np.array([[11.5, 8.5], [4.0, 10.0]])
    with np.errstate(all="raise"):
        hit, lo, hi = carriageway._crossings(segs, unit, np.array([2.5]), np.array([0, 0]), a, b)
    assert not hit[0]
    assert hit[1]  # the second edge crosses the strip square to the kerb at its middle
    np.testing.assert_allclose([lo[1], hi[1]], [np.hypot(7.0, 7.0), np.hypot(7.0, 7.0)])


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([5000, 5700, 6000]),
    st.integers(1, 25),
    st.integers(0, 18000),
    st.lists(st.integers(-2000, 170_000), min_size=1, max_size=30),
)
def test_keep_chain_is_the_cpsat_optimum(pitch: int, n: int, slack: int, raw: list[int]) -> None:
    """Keeping without grouping in O(m log m) keeps as many bays as the CP-SAT model's optimum."""
    lo, hi = 1000, 1000 + n * pitch + slack
    starts = sorted({min(max(a, lo), hi - pitch) for a in raw})
    xs, _, on, status = keep_model.cpsat_stretch(lo, hi, n, pitch, starts, None, 0)
    got, kept = keep_model.chain(lo, hi, n, pitch, starts)
    assert len(got) == n
    assert got[0] >= lo
    assert got[-1] + pitch <= hi
    assert all(b - a >= pitch for a, b in itertools.pairwise(got))
    assert status == "OPTIMAL"
    assert len(set(got) & set(starts)) == len(set(xs) & set(starts)) == sum(kept) == sum(on)


def test_keep_chain_on_a_long_stretch_is_fast_and_keeps_an_exact_fit() -> None:
    """A 57 km stretch of 10,000 bays (CP-SAT stops at its time limit from a few hundred): existing bays
    on every other pitch, all kept."""
    pitch, n = 5700, 10_000
    starts = list(range(0, n * pitch, 2 * pitch))
    got, kept = keep_model.chain(0, n * pitch + 3000, n, pitch, starts)
    assert len(set(got) & set(starts)) == sum(kept) == len(starts)


# --------------------------------------------------------------------------------------------------
# One kerb meeting itself
# --------------------------------------------------------------------------------------------------


def hairpin(length_m: float, width_m: float, arc_vertices: int = 16) -> np.ndarray:
    """A U: along the x axis, a half circle, and back ``width_m`` north; the carriageway inside."""
    r = width_m / 2.0
    t = np.linspace(-np.pi / 2.0, np.pi / 2.0, arc_vertices)
    arc = np.column_stack([length_m + r * np.cos(t), r + r * np.sin(t)])
    return np.vstack([[[0.0, 0.0]], arc, [[0.0, width_m]]]) + np.array([X0, Y0])


def zigzag(passes: int, length_m: float, spacing_m: float, step_m: float) -> np.ndarray:
    """Straight passes ``spacing_m`` apart, alternately east and west, a vertex every ``step_m``."""
    x = np.linspace(0.0, length_m, round(length_m / step_m) + 1)
    rows = [
        np.column_stack([x if i % 2 == 0 else x[::-1], np.full(len(x), i * spacing_m)]) for i in range(passes)
    ]
    return np.vstack(rows) + np.array([X0, Y0])


def plan_one(xy: np.ndarray, **columns: object) -> parkplan.Plan:
    kerbs = gpd.GeoDataFrame(
        {"curb_id": ["k"], **{k: [v] for k, v in columns.items()}}, geometry=[shapely.LineString(xy)], crs=CRS
    )
    return parkplan.plan(kerbs, None, rules=RULES)


def overlap_m2(bays: gpd.GeoDataFrame) -> float:
    g = np.asarray(bays.geometry.values, dtype=object)
    i, j = shapely.STRtree(g).query(g, predicate="intersects")
    keep = i < j
    return float(shapely.area(shapely.intersection(g[i[keep]], g[j[keep]])).sum())


def test_hairpin_too_narrow_for_two_bay_depths_has_no_bays_on_its_legs() -> None:
    """Legs 4 m apart, bays 2.5 m deep: bays on both legs would overlap by 1 m; the kerb is closed."""
    p = plan_one(hairpin(60.0, 4.0))
    legs = (p.bays["end_m"] <= 60.0) | (p.bays["start_m"] >= 60.0 + np.pi * 2.0)
    assert not legs.any()
    assert overlap_m2(p.bays) < 0.01
    narrow = p.zones[p.zones["kind"] == "narrow"]
    assert (narrow["hazard_id"] == "kerb:k").all()
    # The whole of both legs, but for the ends within twice the depth of each other along the kerb.
    covered = narrow[(narrow["start_m"] < 1.0) & (narrow["end_m"] > 58.0)]
    assert len(covered) >= 1


def test_hairpin_wide_enough_parks_both_legs() -> None:
    """Legs 6 m apart hold 2.5 m bays on both: the same-kerb check must not close them."""
    p = plan_one(hairpin(60.0, 6.0))
    first = (p.bays["end_m"] <= 60.0).sum()
    second = (p.bays["start_m"] >= 60.0 + np.pi * 3.0).sum()
    assert first >= 9
    assert second >= 9
    assert overlap_m2(p.bays) < 0.01
    assert not (p.zones["kind"] == "narrow").any()


def test_zigzag_parks_only_its_outer_pass() -> None:
    """Passes 0.7 m apart (a vertex every 0.5 m): the strips of the inner passes cross the next pass, so
    they hold no bays; the first pass faces out (carriageway on the right, ``side = left``) and keeps its
    bays although the strip of the pass two along reaches over it."""
    p = plan_one(zigzag(5, 60.0, 0.7, 0.5), side="left")
    assert len(p.bays) >= 9
    assert (p.bays["end_m"] <= 60.0).all()
    assert overlap_m2(p.bays) < 0.01
    full = shapely.area(np.asarray(p.bays.geometry.values, dtype=object))
    np.testing.assert_allclose(full, 6.0 * DEPTH_M, rtol=1e-3)  # full bays, not trimmed
