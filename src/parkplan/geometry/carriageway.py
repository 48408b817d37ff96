"""The room in front of each kerb: where bays would leave the carriageway or meet bays from another kerb.

Every bay reaches ``depth_m`` into the carriageway. The strip of that depth in front of a kerb (a flat-
capped single-sided buffer on its carriageway side) must not leave the carriageway and must not overlap
the strip in front of another kerb, or two bays could overlap (a lane narrower than two bay depths, the
inside of a corner, the two sides of a narrow median). This module turns such places into forbidden
zones, on both kerbs where two strips meet, so the optimiser never places a bay there:

* ``kind = "narrow"``: the strip overlaps another kerb's strip (the other kerb's id is in ``hazard_id``),
  or the strip of a part of the same kerb more than twice the depth away along it (the two passes of a
  hairpin or a zigzag, the two sides of a narrow U: then the kerb's own id is in ``hazard_id``);
* ``kind = "bend"``: the kerb turns sharply at a vertex (a jog, a kerb extension): no bay straddles it;
* ``kind = "outside"``: the strip crosses the edge of the carriageway: a kerb line (for kerb-line input)
  or the street-area boundary, including where the data was cut (for street-area input).

Kerbs that face each other across the carriageway (``facing``) are exempt from ``narrow``: which of
them parks, and how deep, is the choice of :mod:`parkplan.sides`, which weighs both sides. A strip
standing on kerb that ``outside`` or ``bend`` already closes holds no bay, so what it meets is no
conflict for the other kerb (a pass of a zigzag whose strip crosses the next pass does not close the
outer pass beyond it).

The strips are built per kerb segment and joint, and everything found in a strip is projected onto the
segment it was built from (:class:`KerbSegments`, in closed form): the time grows linearly with the
number of kerb vertices, also for one kerb of 200,000 vertices.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkplan._parallel import thread_map
from parkplan.geometry.chainage import ChainageIndex
from parkplan.geometry.kerbs import KerbSegments, polygons_from_rings
from parkplan.intervals import merge_intervals, no_zones, zone_table

__all__ = ["MAX_STRADDLE_TURN_DEG", "SLIVER_M", "room_zones"]

MAX_STRADDLE_TURN_DEG = 30.0
"""A bay never straddles a kerb vertex turning this much or more (degrees)."""

SLIVER_M = 0.05
"""Overlaps thinner than this (metres; shared edges, rounding) are not conflicts."""

CANDIDATE_CHUNK_ROWS = 65_536
"""Strips per range when their bounding-box pairs are looked up (keeps the candidate arrays small)."""


def _strips(
    kerbs: gpd.GeoDataFrame, depth_m: NDArray[np.float64], segs: KerbSegments
) -> tuple[NDArray[np.object_], NDArray[np.object_], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Quadrilaterals ``depth_m`` deep on the carriageway side of each kerb segment and joint.

    Built per segment rather than as one buffer per kerb: a single-sided buffer of a kerb that almost
    closes on itself (the ring round a block) can come back filled. Returns the strips, the same strips
    inset by ``SLIVER_M / 2`` from their kerb side and ends (so the kerb they stand on does not touch
    them), the kerb of each and the segments (of ``segs``) each was built from: a segment's strip its
    segment twice, a joint the segments before and after its vertex (after: -1 where the kerb turns away
    from the carriageway there).
    """
    p0, d, length, k = segs.p0, segs.d, segs.length_m, segs.kerb
    p1 = p0 + d
    side, unit = _normals(kerbs, segs)
    normal = unit * depth_m[k][:, None]
    ring = np.stack([p0, p1, p1 + normal, p0 + normal, p0], axis=1).reshape(-1, 2)
    # Joints: where two segments of a kerb meet, the wedge between their quads up to the mitred offset
    # point (the far corner a bay drawn round that vertex reaches; same mitre limit as the layout).
    j = np.flatnonzero(k[1:] == k[:-1])
    dot = np.clip((unit[j] * unit[j + 1]).sum(axis=1), -1.0, 1.0)
    # Where the kerb runs straight on the joint has no area: nothing to find in it.
    sine = (d[j, 0] * d[j + 1, 1] - d[j, 1] * d[j + 1, 0]) / (length[j] * length[j + 1])
    bent = (np.abs(sine) > 1e-9) | (dot < 0.0)
    j, dot, sine = j[bent], dot[bent], sine[bent]
    mitre = (unit[j] + unit[j + 1]) / np.maximum(1.0 + dot, 0.2)[:, None] * depth_m[k[j]][:, None]
    v = p1[j]
    joint = np.stack([v, v + normal[j], v + mitre, v + normal[j + 1], v], axis=1).reshape(-1, 2)
    eps = SLIVER_M / 2.0
    tangent = d / length[:, None] * np.minimum(eps, length / 3.0)[:, None]
    lift = unit * eps
    # The far side is pulled in too: a bay whose far edge just reaches another kerb line is not across it.
    far = normal - lift
    inset = np.stack(
        [
            p0 + tangent + lift,
            p1 - tangent + lift,
            p1 - tangent + far,
            p0 + tangent + far,
            p0 + tangent + lift,
        ],
        axis=1,
    ).reshape(-1, 2)
    away = mitre / np.maximum(np.hypot(mitre[:, 0], mitre[:, 1]), 1e-9)[:, None] * eps
    joint_inset = np.stack([v + away, v + normal[j], v + mitre, v + normal[j + 1], v + away], axis=1).reshape(
        -1, 2
    )
    owner = np.concatenate([k, k[j]]).astype(np.int64)
    counts = np.full(len(owner), 5, dtype=np.int64)
    polys = polygons_from_rings(np.concatenate([ring, joint]), counts)
    inner = polygons_from_rings(np.concatenate([inset, joint_inset]), counts)
    index = np.arange(len(k), dtype=np.int64)
    seg_a = np.concatenate([index, j]).astype(np.int64)
    # A joint where the kerb turns away from the carriageway (or runs straight on) lies wholly beyond
    # both its segments: every point of it projects onto its vertex. It zones no kerb of its own (a
    # zone of no length), only the kerbs whose strips it meets; seg_b = -1 marks it.
    towards = sine * side[j] > 0
    seg_b = np.concatenate([index, np.where(towards, j + 1, -1)]).astype(np.int64)
    # A segment's rectangle (and its inset) is valid unless it is (nearly) flat: check the rest.
    depth = depth_m[k]
    sure = np.concatenate([(length > 1e-3) & (depth > 1e-3), np.zeros(len(j), dtype=bool)])
    sure_inner = sure & np.concatenate([np.abs(depth - 2.0 * eps) > 1e-3, np.zeros(len(j), dtype=bool)])
    return _valid(polys, ~sure), _valid(inner, ~sure_inner), owner, seg_a, seg_b


def _normals(kerbs: gpd.GeoDataFrame, segs: KerbSegments) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Carriageway side of each segment's kerb (1 left, -1 right) and its unit normal towards it."""
    side = np.where(kerbs["carriageway"].to_numpy(dtype=object) == "left", 1.0, -1.0)[segs.kerb]
    unit = np.column_stack([-segs.d[:, 1], segs.d[:, 0]]) / segs.length_m[:, None] * side[:, None]
    return side, unit


def _valid(polys: NDArray[np.object_], check: NDArray[np.bool_]) -> NDArray[np.object_]:
    """Repair only the polygons that need it among those to ``check`` (make_valid on every strip is slow)."""
    out = np.asarray(polys, dtype=object).copy()
    bad = np.zeros(len(out), dtype=bool)
    bad[check] = ~shapely.is_valid(out[check])
    if bad.any():
        out[bad] = shapely.make_valid(out[bad])
    return out


def _project(
    parts: NDArray[np.object_], seg_a: NDArray[np.int64], seg_b: NDArray[np.int64], segs: KerbSegments
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Chainage span each part's vertices project onto (NaN for an empty part).

    Each part lies in the strip of segment ``seg_a`` (a joint: of segments ``seg_a`` and ``seg_b``); its
    vertices are projected onto that segment (a joint's: onto the nearer of its two; a joint where the
    kerb turns away, ``seg_b = -1``: onto its vertex), O(1) per vertex.
    """
    lo = np.full(len(parts), np.nan)
    hi = np.full(len(parts), np.nan)
    coords, which = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        return lo, hi
    a, b = np.take(seg_a, which), np.take(seg_b, which)
    s, dist = segs.locate(coords, a)
    s[b < 0] = np.take(segs.end_m, a[b < 0])
    joint = np.flatnonzero((a != b) & (b >= 0))
    if len(joint):
        # The segment after the vertex only where a point projects inside it and nearer (not onto the
        # vertex both share).
        s_b, dist_b, t_b = segs._locate(coords[joint], b[joint])
        nearer = (t_b > 0.0) & (dist_b < dist[joint])
        s[joint[nearer]] = s_b[nearer]
    # Vertices come grouped by part, in order.
    starts = np.flatnonzero(np.concatenate([[True], which[1:] != which[:-1]]))
    part = which[starts]
    lo[part] = np.minimum.reduceat(s, starts)
    hi[part] = np.maximum.reduceat(s, starts)
    return lo, hi


def _within(
    closed: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]],
    kerb: NDArray[np.int64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Whether ``[lo, hi]`` on ``kerb`` lies inside one of the disjoint, sorted intervals ``closed``."""
    ck, cs, ce = closed
    out = np.zeros(len(kerb), dtype=bool)
    if len(ck) == 0 or len(kerb) == 0:
        return out
    stride = float(max(np.nanmax(np.abs(ce)), np.nanmax(np.abs(hi)), 0.0)) * 2.0 + 10.0
    i, ok = ChainageIndex.of(ck, cs, stride).holding(kerb, lo)
    out[:] = ok & (cs[i] <= lo) & (ce[i] >= hi)
    return out


def _segments(geometry: object) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Start and end points of the segments of every line or polygon boundary in ``geometry``."""
    geoms = np.atleast_1d(np.asarray(geometry, dtype=object))
    polys = np.isin(shapely.get_type_id(geoms), (3, 6))
    lines = np.where(polys, shapely.boundary(geoms), geoms)
    parts = shapely.get_parts(shapely.get_parts(lines))
    coords, owner = shapely.get_coordinates(parts, return_index=True)
    same = owner[1:] == owner[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    keep = np.any(a != b, axis=1)
    return a[keep], b[keep]


def _crossings(
    segs: KerbSegments,
    unit: NDArray[np.float64],
    depth_m: NDArray[np.float64],
    seg: NDArray[np.int64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
    """Where the edges ``a``-``b`` cross the inset strips of segments ``seg``, in closed form.

    The inset strip of a segment is the rectangle ``SLIVER_M / 2`` in from its ends (a third of a short
    segment), from ``SLIVER_M / 2`` to ``depth - SLIVER_M / 2`` in front of it (:func:`_strips`). Each
    edge is clipped to it in the segment's own frame (Cyrus-Beck); the part inside projects onto the
    segment as the span of its two ends.

    Returns
    -------
    tuple of numpy.ndarray
        Whether each edge meets its strip (boundary included), and the chainage span of the part inside.
    """
    eps = SLIVER_M / 2.0
    length = np.take(segs.length_m, seg)
    along = np.take(segs.d, seg, axis=0) / length[:, None]
    across = np.take(unit, seg, axis=0)
    rel = a - np.take(segs.p0, seg, axis=0)
    step = b - a
    u0 = rel[:, 0] * along[:, 0] + rel[:, 1] * along[:, 1]
    du = step[:, 0] * along[:, 0] + step[:, 1] * along[:, 1]
    w0 = rel[:, 0] * across[:, 0] + rel[:, 1] * across[:, 1]
    dw = step[:, 0] * across[:, 0] + step[:, 1] * across[:, 1]
    tip = np.minimum(eps, length / 3.0)
    far = np.take(depth_m, np.take(segs.kerb, seg)) - eps
    t0 = np.zeros(len(seg))
    t1 = np.ones(len(seg))
    for v0, dv, lo, hi in ((u0, du, tip, length - tip), (w0, dw, np.minimum(eps, far), np.maximum(eps, far))):
        flat = dv == 0.0
        inside = (v0 >= lo) & (v0 <= hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            ta = (lo - v0) / dv
            tb = (hi - v0) / dv
        t0 = np.maximum(t0, np.where(flat, np.where(inside, -np.inf, np.inf), np.minimum(ta, tb)))
        t1 = np.minimum(t1, np.where(flat, np.where(inside, np.inf, -np.inf), np.maximum(ta, tb)))
    hit = t0 <= t1
    t0, t1 = np.where(hit, t0, 0.0), np.where(hit, t1, 0.0)  # misses may be infinite
    ua, ub = u0 + t0 * du, u0 + t1 * du
    start = np.take(segs.start_m, seg)
    lo_m = start + np.clip(np.minimum(ua, ub), 0.0, length)
    hi_m = start + np.clip(np.maximum(ua, ub), 0.0, length)
    return hit, lo_m, hi_m


def _stands_on(
    seg_a: NDArray[np.int64], seg_b: NDArray[np.int64], segs: KerbSegments
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Find the stretch of kerb each strip stands on: what its points project onto.

    A segment's strip its segment; a joint where the kerb turns towards the carriageway its two segments;
    a joint where it turns away its vertex.
    """
    lo = np.where(seg_b == seg_a, segs.start_m[seg_a], segs.end_m[seg_a])
    lo = np.where(seg_b > seg_a, segs.start_m[seg_a], lo)
    hi = np.where(seg_b > seg_a, segs.end_m[np.maximum(seg_b, 0)], segs.end_m[seg_a])
    return lo, hi


def _bend_zones(
    kerbs: gpd.GeoDataFrame, depth_m: NDArray[np.float64], bay_length_m: float = 0.0
) -> pd.DataFrame:
    """Zones round kerb vertices that turn by ``MAX_STRADDLE_TURN_DEG`` or more (a jog, a kerb extension).

    No bay straddles such a vertex, nor a run of vertices turning that much together within
    ``bay_length_m`` (:func:`_wrap_zones`): a painted bay is straight. Where the kerb turns towards the
    carriageway, the bays either side would also meet at their far corners, so the zone reaches
    ``depth_m * tan(turn / 2)`` either side; elsewhere it is 1 mm wide.
    """
    coords, owner = shapely.get_coordinates(
        np.asarray(kerbs.geometry.values, dtype=object), return_index=True
    )
    same = owner[1:] == owner[:-1]
    d = np.diff(coords, axis=0)
    length = np.where(same, np.hypot(d[:, 0], d[:, 1]), 0.0)
    first = np.ones(len(owner), dtype=bool)
    first[1:] = ~same
    cum = np.concatenate([[0.0], np.cumsum(length)])
    chain = cum - cum[np.maximum.accumulate(np.where(first, np.arange(len(owner)), 0))]
    # Interior vertices v: segments v-1 -> v and v -> v+1 on the same kerb, both of positive length.
    v = np.flatnonzero(np.concatenate([[False], same[:-1] & same[1:], [False]]))
    a, b = d[v - 1], d[v]
    ok = (length[v - 1] > 1e-6) & (length[v] > 1e-6)
    v, a, b = v[ok], a[ok], b[ok]
    signed = np.arctan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], (a * b).sum(axis=1))
    turn = np.abs(signed)
    curb_ids = kerbs["curb_id"].to_numpy(dtype=object)
    rule = f"no bay straddles a kerb turning {MAX_STRADDLE_TURN_DEG:g} degrees or more"
    wraps = _wrap_zones(owner[v], chain[v], signed, bay_length_m, curb_ids, rule)
    sharp = turn >= np.radians(MAX_STRADDLE_TURN_DEG)
    v, a, b, turn = v[sharp], a[sharp], b[sharp], turn[sharp]
    k = owner[v]
    side = np.where(kerbs["carriageway"].to_numpy(dtype=object) == "left", 1.0, -1.0)[k]
    towards = (a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]) * side > 0
    reach = np.where(towards, depth_m[k] * np.tan(np.minimum(turn, np.radians(170.0)) / 2.0), 0.001)
    s = chain[v]
    sharp_zones = zone_table(
        k,
        s - reach,
        s + reach,
        "bend",
        [f"kerb:{c}@{x:.2f}" for c, x in zip(curb_ids[k], s, strict=True)],
        rule,
        hazard_start_m=s,
        hazard_end_m=s,
    )
    return pd.concat([sharp_zones, wraps], ignore_index=True) if len(wraps) else sharp_zones


def _wrap_zones(
    kerb: NDArray[np.int64],
    s_m: NDArray[np.float64],
    turn: NDArray[np.float64],
    bay_length_m: float,
    curb_ids: NDArray[np.object_],
    rule: str,
) -> pd.DataFrame:
    """Zones where a kerb turns :data:`MAX_STRADDLE_TURN_DEG` or more within one bay's length.

    Vertices each turning a little can add up: the tip of a narrow island turns 180 degrees in 3 m in
    steps of 10 to 25 degrees, and a bay laid round it wraps the tip with its middle on the footway
    (Neukoelln: 7 such bays, found by ``parkplan check``). For every interior vertex ``i`` (``kerb``,
    chainage ``s_m``, signed ``turn``, in kerb and chainage order) the net turning from ``i`` to each
    vertex ``j`` less than ``bay_length_m`` further on is summed; where it first reaches the limit,
    ``[s_i, s_j]`` is forbidden. A bay holding vertices that turn that much together holds such a
    stretch's start, so it meets a zone; a kerb that wiggles (turns cancelling) is left alone.
    """
    limit = np.radians(MAX_STRADDLE_TURN_DEG)
    n = len(kerb)
    if bay_length_m <= 0 or n < 2:
        return no_zones()
    before = np.cumsum(turn) - turn  # net turning before each vertex (running over all kerbs)
    stride = float(s_m.max() if n else 0.0) + bay_length_m + 1.0
    # The first vertex beyond each vertex's window.
    end = ChainageIndex.of(kerb, s_m, stride).search(kerb, s_m, "left", shift=bay_length_m)
    width = end - np.arange(n)  # vertices in each window (>= 1: the vertex itself)
    # Candidates: the window's largest net turning either way, from the running sums (reduceat).
    after = before + turn
    bounds = np.ravel(np.column_stack([np.arange(n), end]))
    top = np.maximum.reduceat(np.append(after, -np.inf), np.minimum(bounds, n))[::2]
    low = np.minimum.reduceat(np.append(after, np.inf), np.minimum(bounds, n))[::2]
    hot = np.flatnonzero((top - before >= limit) | (before - low >= limit))
    if len(hot) == 0:
        return no_zones()
    # The first vertex of each hot window where the net turning reaches the limit: a padded table of the
    # windows (a few dozen vertices each: only hot windows are laid out).
    span = int(width[hot].max())
    idx = hot[:, None] + np.arange(span)[None, :]
    inside = idx < end[hot][:, None]
    net = np.abs(after[np.minimum(idx, n - 1)] - before[hot][:, None])
    reached = inside & (net >= limit)
    j = hot + np.argmax(reached, axis=1)
    # Overlapping windows of one bend are one zone (a U-turn is hot from every vertex a bay back).
    k, lo, hi = merge_intervals(kerb[hot], s_m[hot], s_m[j])
    return zone_table(
        k,
        lo,
        hi,
        "bend",
        [f"kerb:{c}@{x:.2f}" for c, x in zip(curb_ids[k], lo, strict=True)],
        rule + f" within {bay_length_m:g} m",
    )


def room_zones(
    kerbs: gpd.GeoDataFrame,
    depth_m: float | NDArray[np.float64],
    street_area: object | None = None,
    facing: NDArray[np.int64] | None = None,
    bay_length_m: float = 0.0,
    segments: KerbSegments | None = None,
) -> pd.DataFrame:
    """Forbidden zones where the deepest bay would not fit in front of a kerb.

    Parameters
    ----------
    kerbs
        Kerb table (metric CRS) from :func:`parkplan.geometry.kerbs.build_kerbs`.
    depth_m
        The deepest bay type's depth (metres).
    street_area
        Union of the street-area polygons, when the kerbs came from street areas.
    facing
        ``(n, 2)`` kerb pairs that face each other across the carriageway: their strips may meet, the
        choice of sides and depths (:mod:`parkplan.sides`) keeps their bays apart.
    bay_length_m
        The longest bay along the kerb: no bay may hold kerb turning ``MAX_STRADDLE_TURN_DEG`` or more
        in all within this length (0: only single vertices are judged).
    segments
        The kerbs' :class:`parkplan.geometry.kerbs.KerbSegments`, when the caller checks several depths.

    Returns
    -------
    pandas.DataFrame
        Zones in the format of :func:`parkplan.intervals.zone_table`.
    """
    n = len(kerbs)
    depth = np.broadcast_to(np.asarray(depth_m, dtype=float), (n,)).copy()
    if n == 0 or not (depth > 0).any():
        return no_zones()
    geoms = np.asarray(kerbs.geometry.values, dtype=object)
    segs = segments if segments is not None else KerbSegments(geoms)
    strips, inner, strip_kerb, seg_a, seg_b = _strips(kerbs, depth, segs)
    _, unit = _normals(kerbs, segs)
    labels = np.array([f"kerb:{c}" for c in kerbs["curb_id"].to_numpy(dtype=object)], dtype=object)
    bends = _bend_zones(kerbs, depth, bay_length_m)
    frames: list[pd.DataFrame] = [bends]

    # Strip crossing the edge of the carriageway (a kerb line, or where the data was cut). The segments'
    # strips in closed form; the joints where the kerb turns towards the carriageway with GEOS; those
    # where it turns away zone no kerb of their own.
    ea, eb = _segments(street_area if street_area is not None else geoms)
    edges = shapely.linestrings(
        np.stack([ea, eb], axis=1).reshape(-1, 2), indices=np.repeat(np.arange(len(ea)), 2)
    )
    edge_tree = shapely.STRtree(edges)
    quad = np.flatnonzero(seg_b == seg_a)

    def crossed(lo: int, hi: int) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        # By ranges of strips: a strip of a dense kerb meets dozens of edges' bounding boxes.
        rows = quad[lo:hi]
        qi, ei = edge_tree.query(inner[rows])
        qi = rows[qi]
        hit, q_lo, q_hi = _crossings(segs, unit, depth, seg_a[qi], ea[ei], eb[ei])
        return qi[hit], q_lo[hit], q_hi[hit]

    found_q = thread_map(crossed, len(quad), chunk_rows=CANDIDATE_CHUNK_ROWS)
    qi = np.concatenate([f[0] for f in found_q])
    q_lo = np.concatenate([f[1] for f in found_q])
    q_hi = np.concatenate([f[2] for f in found_q])
    bent = np.flatnonzero(seg_b > seg_a)
    ji, ei = edge_tree.query(inner[bent], predicate="intersects")
    ji = bent[ji]
    j_lo, j_hi = _project(shapely.intersection(inner[ji], edges[ei]), seg_a[ji], seg_b[ji], segs)
    got = np.isfinite(j_lo)
    out_k = strip_kerb[np.concatenate([qi, ji[got]])]
    out_lo = np.concatenate([q_lo, j_lo[got]])
    out_hi = np.concatenate([q_hi, j_hi[got]])
    if len(out_k):
        rule = "bays would cross the edge of the carriageway"
        # One zone per stretch of kerb: the pieces of several edges in one strip overlap, and the strips
        # of neighbouring segments leave windows of at most SLIVER_M between them (their insets), which
        # hold no bay.
        mk, m_lo, m_hi = merge_intervals(out_k, out_lo, out_hi, touch_m=SLIVER_M + 1e-9)
        frames.append(zone_table(mk, m_lo, m_hi, "outside", labels[mk], rule))
    # Kerb these zones close, with windows too short for any bay (< SLIVER_M) closed too: no bay stands
    # there, so what the strips there meet is no conflict for the other kerb.
    pad = SLIVER_M / 2.0 + 1e-9
    ck, cs, ce = merge_intervals(
        np.concatenate([out_k, bends["kerb"].to_numpy(dtype=np.int64)]),
        np.concatenate([out_lo, bends["start_m"].to_numpy(dtype=float)]) - pad,
        np.concatenate([out_hi, bends["end_m"].to_numpy(dtype=float)]) + pad,
    )
    closed = (ck, cs + pad, ce - pad)

    # Strip against strip of another kerb, or of a part of the same kerb far enough along it. A strip
    # standing on closed kerb holds no bay: its pairs need no test (its side is closed already, the
    # other side has nothing to meet there). Overlaps thinner than SLIVER_M do not count: two strips
    # overlap by more exactly where the strips shrunk by SLIVER_M / 2 meet, so the shrunk strips are
    # compared and only the pairs that meet are intersected.
    span_lo, span_hi = _stands_on(seg_a, seg_b, segs)
    alive = ~_within(closed, strip_kerb, span_lo, span_hi)
    ring_m = np.where(
        shapely.is_closed(geoms), np.bincount(segs.kerb, weights=segs.length_m, minlength=n), np.inf
    )
    pair_key = None if facing is None or not len(facing) else facing.min(axis=1) * n + facing.max(axis=1)
    tree = shapely.STRtree(strips)

    def candidates(lo: int, hi: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        # Bounding boxes first, by ranges of strips (the pairs of a long zigzag run to tens of millions).
        rows = lo + np.flatnonzero(alive[lo:hi])
        a, b = tree.query(strips[rows])
        a = rows[a]
        keep = (a < b) & alive[b]
        a, b = a[keep], b[keep]
        ka, kb = strip_kerb[a], strip_kerb[b]
        # Strips of one kerb: only far enough apart along it (neighbours overlap on the inside of bends).
        gap = np.maximum(span_lo[b] - span_hi[a], span_lo[a] - span_hi[b])
        gap = np.minimum(
            gap, ring_m[ka] - (np.maximum(span_hi[a], span_hi[b]) - np.minimum(span_lo[a], span_lo[b]))
        )
        keep = (ka != kb) | (gap > 2.0 * depth[ka])
        if pair_key is not None:
            # Facing kerbs are kept apart by the choice of sides: no need to measure their overlaps.
            keep &= ~np.isin(np.minimum(ka, kb) * n + np.maximum(ka, kb), pair_key)
        return a[keep], b[keep]

    found = thread_map(candidates, len(strips), chunk_rows=CANDIDATE_CHUNK_ROWS)
    qa = np.concatenate([f[0] for f in found])
    qb = np.concatenate([f[1] for f in found])
    core = np.full(len(strips), None, dtype=object)
    used = np.zeros(len(strips), dtype=bool)
    used[qa] = True
    used[qb] = True
    core[used] = shapely.buffer(strips[used], -SLIVER_M / 2.0)
    meet = shapely.intersects(core[qa], core[qb])
    qa, qb = qa[meet], qb[meet]
    if len(qa):
        inter = shapely.intersection(strips[qa], strips[qb])
        spans = [_project(inter, seg_a[q], seg_b[q], segs) for q in (qa, qb)]
        dead = [_within(closed, strip_kerb[q], lo, hi) for q, (lo, hi) in zip((qa, qb), spans, strict=True)]
        rule = "bays would overlap bays of the kerb opposite"
        for mine, other, (lo, hi), other_dead in ((qa, qb, spans[0], dead[1]), (qb, qa, spans[1], dead[0])):
            z = (seg_b[mine] >= 0) & ~other_dead & np.isfinite(lo)
            k = strip_kerb[mine[z]]
            frames.append(zone_table(k, lo[z], hi[z], "narrow", labels[strip_kerb[other[z]]], rule))
    if not frames:
        return no_zones()
    zones = pd.concat(frames, ignore_index=True)
    length = kerbs["length_m"].to_numpy(dtype=float)[zones["kerb"].to_numpy(dtype=np.int64)]
    for col in ("start_m", "end_m", "hazard_start_m", "hazard_end_m"):
        zones[col] = np.clip(zones[col].to_numpy(dtype=float), 0.0, length)
    return zones[zones["end_m"] > zones["start_m"]].reset_index(drop=True)
