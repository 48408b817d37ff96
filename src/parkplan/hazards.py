"""Hazards to forbidden intervals of chainage: the kerbs each hazard applies to, and its zones there.

How a hazard finds its kerbs (the snap distance ``snap_m`` and mode ``match`` per kind come from
``parkplan/rules/kinds.toml``, overridable in the rules), one function per kind of geometry:

* **Points** (:func:`_match_points`) apply at every *pass* of every kerb within ``snap_m``: each local
  minimum of the distance along the kerb (a kerb that jogs, steps round a kerb extension or wraps round
  the point passes it more than once). With ``match = "nearest"`` (hydrants, signs, driveway points)
  only passes within 1 m of the nearest; with ``match = "all"`` (crossings, intersections, signals:
  nodes on a street centreline) every pass within ``snap_m``. Each place covers the hazard's width (the
  feature's ``width_m``, the rule's ``default_width_m`` or the kind's built-in ``width_m``), and the
  kerb within the rule's reach of the point in a straight line is forbidden too.
* **Lines** (:func:`_match_lines`) are cut to their pieces within ``snap_m``; a piece that runs along
  the kerb covers what it projects onto, however it crosses; crossings apply as points with the line's
  width; a line that does not cross applies where it comes nearest (:func:`_line_places_all`).
* **Polygons** (:func:`_match_polygons`) cover the stretch of kerb inside them, or, when no kerb enters
  them, the stretch their vertices within ``snap_m`` project onto.

Positions are measured on the kerbs' straight segments
(:class:`~parkplan.geometry.kerbs.KerbSegments`), O(1) per nearby segment. The hazard's own extent
``[a, b]`` is forbidden, and the clearance extends it: ``before_m`` upstream and ``after_m`` downstream
in the direction of traffic on that kerb (:func:`zones_from_matches`). Intervals are clipped to the
kerb; the interval arithmetic itself is :mod:`parkplan.intervals`, the rays to the kerb opposite
:mod:`parkplan.geometry.rays`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkplan._arrays import rows
from parkplan._parallel import chunk_bounds, geos_map
from parkplan.errors import InputError
from parkplan.geometry.kerbs import KerbSegments
from parkplan.geometry.rays import RaySegments, opposite_places
from parkplan.intervals import merge_intervals, zone_table
from parkplan.rules.loading import Clearance, Rules

__all__ = ["HazardMatch", "applicable_hazards", "match_hazards", "zones_from_matches"]

NEAREST_SLACK_M = 1.0
"""With ``match = "nearest"``, kerbs up to this much farther than the nearest one also get the hazard."""

ALONG_MIN_M = 1.0
"""A run of line segments that run along a kerb (:data:`ALONG_RATIO`) covers kerb when its projection
spans at least this much (metres)."""

ALONG_MIN_SAFE_M = 0.5
"""The planner's shortest whole piece along the kerb (the contract's :data:`ALONG_MIN_M` is 1 m): a 1 m
no-parking line rounded through WGS84 to 0.998 m still covers its span."""

ALONG_RATIO_SAFE = 1.5
"""The planner's threshold for a whole piece (see :data:`ALONG_RATIO`), looser than the contract's 2.0:
a piece near the threshold (measured on other vertices, a hair either way) is taken as along the kerb
*and* at its crossings and nearest point, so the plan is on the safe side of every borderline case."""

ALONG_RATIO_SURE = 2.5
"""A whole piece at least this far past the threshold is along the kerb for the checker too: its
crossings and nearest point then add nothing (a wide line drawn along the kerb keeps its span)."""

ALONG_RATIO = 2.0
"""A segment of a line runs along a kerb when its chainage on the kerb changes at least this many times
as fast as its offset from the kerb (within about 27 degrees of the kerb); a steeper one crosses or
meets the kerb (a driveway or footway drawn at 45 degrees across a kerb is a crossing, not 6 m of kerb)."""

TOL_M = 1e-3
"""Length tolerance (1 mm) used throughout."""


@dataclass(frozen=True)
class HazardMatch:
    """Where hazards touch kerbs: one row per (hazard, kerb, place) in ``table``.

    ``table`` columns: ``hazard`` (row in the hazard frame), ``kerb`` (row in the kerb table),
    ``s0_m`` / ``s1_m`` (the hazard's own extent in chainage, before clearances), ``point_like``
    (the extent came from a single place and gets the hazard's width), ``distance_m``, ``x`` / ``y``
    (the hazard point, for point hazards; NaN otherwise). ``segments``: the kerbs' segment index the
    places were measured on (reused for the straight-line clearances).
    """

    table: pd.DataFrame
    segments: RaySegments | None = None


def _check_kinds(hazards: gpd.GeoDataFrame, rules: Rules) -> None:
    kinds = hazards["kind"].to_numpy(dtype=object)
    known = set(rules.kinds)
    unknown = [k for k in pd.unique(kinds) if k not in known]
    if unknown:
        first = int(np.flatnonzero(kinds == unknown[0])[0])
        row = hazards.iloc[first]
        raise InputError(
            f"unknown hazard kind {unknown[0]!r} ({int((kinds == unknown[0]).sum())} features"
            f"{'; also ' + ', '.join(map(repr, unknown[1:])) if len(unknown) > 1 else ''}). Known kinds: "
            f"{', '.join(sorted(known))}; add a [clearances.{unknown[0]}] table to the rules for a new kind",
            source=str(row["source"]),
            feature=str(row["feature"]),
        )


def applicable_hazards(hazards: gpd.GeoDataFrame, rules: Rules) -> gpd.GeoDataFrame:
    """Drop the ``road_class`` hazards of road classes the rules do not forbid.

    :func:`parkplan.from_osm` draws a ``road_class`` line along the kerbs of every way of a known road
    class (motorways, motorroads, expressways, main carriageways beside side roads), whatever the rules,
    with the way's classes in a ``road_class`` column (``;``-joined). Only the lines of a class listed in
    the rules' ``[road_classes] no_parking`` forbid kerb. A ``road_class`` hazard without that column (or
    with no value in it) is kept: the user drew it as a no-parking road.

    Parameters
    ----------
    hazards
        Hazard frame (kinds as given or canonical).
    rules
        The rules the plan or the check uses.

    Returns
    -------
    geopandas.GeoDataFrame
        ``hazards`` without those rows (index reset when any row goes), else ``hazards`` itself.
    """
    if "road_class" not in hazards.columns or len(hazards) == 0:
        return hazards
    kinds = hazards["kind"].astype(str)
    is_class = kinds.map({k: rules.canonical_kind(k) == "road_class" for k in pd.unique(kinds)}).to_numpy(
        dtype=bool
    )
    values = hazards["road_class"].to_numpy(dtype=object)
    drop = np.zeros(len(hazards), dtype=bool)
    for i in np.flatnonzero(is_class):
        drop[i] = not rules.keeps_road_class(values[i])
    if not drop.any():
        return hazards
    return hazards.loc[~drop].reset_index(drop=True)


def match_hazards(
    hazards: gpd.GeoDataFrame, kerbs: gpd.GeoDataFrame, rules: Rules, workers: int | None = 1
) -> HazardMatch:
    """Find, for every hazard, the kerbs it applies to and its own extent along each.

    Parameters
    ----------
    hazards
        Hazard frame in the kerbs' CRS (columns ``kind``, ``hazard_id``, ``width_m``, geometry).
    kerbs
        Kerb table from :func:`parkplan.geometry.kerbs.build_kerbs`.
    rules
        Rules (snap settings per kind).
    workers
        Threads for large inputs (:func:`parkplan._parallel.geos_map`: the matching is GEOS work; Dask
        tasks with a client; ``None``: all CPUs). Each hazard is matched on its own, so the hazards are
        split into contiguous chunks and the result is the same for any number of workers.

    Returns
    -------
    HazardMatch
        The matches; hazards with no row matched no kerb.
    """
    _check_kinds(hazards, rules)
    segments = RaySegments(kerbs)
    segments.tree()  # built once here, shared by the chunks
    bounds = chunk_bounds(len(hazards), workers)
    if len(bounds) > 1:
        # The chunks themselves are the items: a Dask task then ships only its own hazards.
        chunks = [hazards.iloc[lo:hi] for lo, hi in bounds]
        tables = geos_map(lambda part: _match(part, kerbs, rules, segments).table, chunks, workers)
        shifted = [
            t.assign(hazard=t["hazard"].to_numpy() + lo) for t, (lo, _) in zip(tables, bounds, strict=True)
        ]
        table = pd.concat(shifted, ignore_index=True).astype({"hazard": np.int64, "kerb": np.int64})
        return HazardMatch(_by_kerb(table), segments)
    return _match(hazards, kerbs, rules, segments)


def _match_frame(
    hazard: NDArray[np.int64],
    kerb: NDArray[np.int64],
    s0: NDArray[np.float64],
    s1: NDArray[np.float64],
    point_like: NDArray[np.bool_] | bool,
    distance: NDArray[np.float64] | float,
    xy: NDArray[np.float64] | None = None,
) -> pd.DataFrame:
    n = len(hazard)
    at = np.full((n, 2), np.nan) if xy is None else xy
    return pd.DataFrame(
        {
            "hazard": np.asarray(hazard, dtype=np.int64),
            "kerb": np.asarray(kerb, dtype=np.int64),
            "s0_m": np.asarray(s0, dtype=float),
            "s1_m": np.asarray(s1, dtype=float),
            "point_like": np.broadcast_to(np.asarray(point_like, dtype=bool), (n,)),
            "distance_m": np.broadcast_to(np.asarray(distance, dtype=float), (n,)),
            "x": at[:, 0],
            "y": at[:, 1],
        }
    )


def _match(
    hazards: gpd.GeoDataFrame, kerbs: gpd.GeoDataFrame, rules: Rules, segments: RaySegments | None = None
) -> HazardMatch:
    """Match the hazards in this process (see :func:`match_hazards`)."""
    seg = segments if segments is not None else RaySegments(kerbs)
    kgeom = np.asarray(kerbs.geometry.values, dtype=object)
    hgeom = np.asarray(hazards.geometry.values, dtype=object)
    code, kinds = pd.factorize(hazards["kind"], sort=False)
    defaults = [rules.kind_defaults(str(k)) for k in kinds]
    snap = np.array([d.snap_m for d in defaults], dtype=float)[code]
    nearest_mode = np.array([d.match == "nearest" for d in defaults], dtype=bool)[code]
    if "match" in hazards.columns:
        # A feature's own match (e.g. a sign for one direction of traffic) wins over its kind's.
        own = hazards["match"].to_numpy(dtype=object)
        nearest_mode = np.where(pd.notna(own), own == "nearest", nearest_mode)
    empty = _match_frame(*(np.zeros(0, dtype=np.int64),) * 2, np.zeros(0), np.zeros(0), True, 0.0)
    if len(hgeom) == 0 or len(kgeom) == 0:
        return HazardMatch(empty, seg)
    gtype = shapely.get_type_id(hgeom)
    parts: list[pd.DataFrame] = []
    points = np.flatnonzero(np.isin(gtype, (0, 4)))
    if len(points):
        parts += _match_points(hgeom, points, snap, nearest_mode, seg)
    lines = np.flatnonzero(np.isin(gtype, (1, 5)))
    polygons = np.flatnonzero(np.isin(gtype, (3, 6)))
    if len(lines) or len(polygons):
        tree = shapely.STRtree(kgeom)
        if len(lines):
            parts += _match_lines(hgeom, kgeom, tree, lines, snap, nearest_mode, seg)
        if len(polygons):
            parts += _match_polygons(hgeom, kgeom, tree, polygons, snap, nearest_mode, seg)
    if not parts:
        return HazardMatch(empty, seg)
    return HazardMatch(_by_kerb(pd.concat(parts, ignore_index=True)), seg)


def _match_points(
    hgeom: NDArray[np.object_],
    which: NDArray[np.int64],
    snap: NDArray[np.float64],
    nearest: NDArray[np.bool_],
    seg: KerbSegments,
) -> list[pd.DataFrame]:
    """Match the point hazards ``which`` (MultiPoints: each part): every pass of every kerb within reach.

    ``snap`` and ``nearest`` (the ``"nearest"`` match mode) are per hazard; see :func:`_point_places`.
    """
    pts, part = shapely.get_parts(hgeom[which], return_index=True)
    owner = which[part]
    xy = shapely.get_coordinates(pts)
    return [_point_places(seg, xy, owner, snap[owner], nearest[owner])]


def _near_pairs(
    hgeom: NDArray[np.object_],
    kgeom: NDArray[np.object_],
    tree: shapely.STRtree,
    which: NDArray[np.int64],
    snap: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Every (hazard, kerb) pair of the hazards ``which`` within their ``snap``, with its distance.

    ``tree`` indexes ``kgeom``. Pairs come sorted by hazard, then kerb.
    """
    h_idx, k_idx = tree.query(hgeom[which], predicate="dwithin", distance=snap[which])
    h_idx = which[h_idx]
    order = np.lexsort((k_idx, h_idx))
    h_idx, k_idx = h_idx[order], k_idx[order]
    return h_idx, k_idx, shapely.distance(hgeom[h_idx], kgeom[k_idx])


def _near_enough(
    h_idx: NDArray[np.int64], dist: NDArray[np.float64], loose: NDArray[np.bool_], n_hazards: int
) -> NDArray[np.bool_]:
    """Flag the pairs to keep: ``loose`` ones only within :data:`NEAREST_SLACK_M` of the hazard's nearest."""
    keep = np.ones(len(h_idx), dtype=bool)
    if loose.any():
        dmin = np.full(n_hazards, np.inf)
        np.minimum.at(dmin, h_idx, dist)
        keep[loose] = dist[loose] <= dmin[h_idx[loose]] + NEAREST_SLACK_M
    return keep


def _match_lines(
    hgeom: NDArray[np.object_],
    kgeom: NDArray[np.object_],
    tree: shapely.STRtree,
    which: NDArray[np.int64],
    snap: NDArray[np.float64],
    nearest: NDArray[np.bool_],
    seg: KerbSegments,
) -> list[pd.DataFrame]:
    """Match the line hazards ``which``: :func:`_plain_crossings`, else :func:`_line_places_all`.

    In ``"nearest"`` mode a line applies to the kerbs it crosses and to those within
    :data:`NEAREST_SLACK_M` of its nearest kerb (a platform line crossing two kerb pieces and lying along
    a third 0.5 m away applies to all three; a driveway crossing one kerb and ending 2 m short of the far
    one, only to the first).
    """
    h_idx, k_idx, dist = _near_pairs(hgeom, kgeom, tree, which, snap)
    crosses = shapely.intersects(hgeom[h_idx], kgeom[k_idx])
    lj = np.flatnonzero(_near_enough(h_idx, dist, nearest[h_idx] & ~crosses, len(hgeom)))
    parts: list[pd.DataFrame] = []
    if len(lj):
        # Straight lines crossing a straight stretch of kerb steeply, once: the crossing point.
        fast, s_fast = _plain_crossings(hgeom[h_idx[lj]], kgeom[k_idx[lj]], k_idx[lj], snap[h_idx[lj]], seg)
        if fast.any():
            lf = lj[fast]
            parts.append(_match_frame(h_idx[lf], k_idx[lf], s_fast[fast], s_fast[fast], True, dist[lf]))
        lj = lj[~fast]
    if len(lj):
        pair, s0, s1, like = _line_places_all(
            hgeom[h_idx[lj]], kgeom[k_idx[lj]], k_idx[lj], snap[h_idx[lj]], seg
        )
        parts.append(_match_frame(h_idx[lj][pair], k_idx[lj][pair], s0, s1, like, dist[lj][pair]))
    return parts


def _match_polygons(
    hgeom: NDArray[np.object_],
    kgeom: NDArray[np.object_],
    tree: shapely.STRtree,
    which: NDArray[np.int64],
    snap: NDArray[np.float64],
    nearest: NDArray[np.bool_],
    seg: KerbSegments,
) -> list[pd.DataFrame]:
    """Match the polygon hazards ``which``, pair by pair (:func:`_polygon_places`).

    In ``"nearest"`` mode a polygon applies to the kerbs within :data:`NEAREST_SLACK_M` of its nearest.
    """
    h_idx, k_idx, dist = _near_pairs(hgeom, kgeom, tree, which, snap)
    keep = _near_enough(h_idx, dist, nearest[h_idx], len(hgeom))
    rows_: list[tuple[int, int, float, float, bool, float]] = []
    for j in np.flatnonzero(keep).tolist():
        h, k = int(h_idx[j]), int(k_idx[j])
        found = _polygon_places(hgeom[h], kgeom[k], k, float(snap[h]), seg)
        rows_ += [(h, k, lo, hi, like, float(dist[j])) for lo, hi, like in found]
    if not rows_:
        return []
    hh, kk, lo, hi, like, dd = (np.array(v) for v in zip(*rows_, strict=True))
    return [_match_frame(hh, kk, lo, hi, like.astype(bool), dd)]


def _point_places(
    seg: KerbSegments,
    xy: NDArray[np.float64],
    owner: NDArray[np.int64],
    snap: NDArray[np.float64],
    nearest: NDArray[np.bool_],
) -> pd.DataFrame:
    """Places of point hazards: every pass of every kerb within ``snap`` of the point.

    A pass is a local minimum of the distance from the point, walking along the kerb: the foot of the
    perpendicular inside a segment, or a vertex (or kerb end) from which the kerb leads away on both
    sides (on its one side). A kerb that jogs, steps round a recess or a kerb extension, or wraps round
    the point passes it more than once, and each pass is a place; an arc centred on the point has a pass
    on every chord. In "nearest" mode only the passes within :data:`NEAREST_SLACK_M` of the point's
    nearest pass count. Each pair of point and nearby segment costs O(1): the segment is known.
    """
    p, sg, t_raw, d = seg.near(xy, snap)  # sorted by point, then segment
    if len(p) == 0:
        return _match_frame(*(np.zeros(0, dtype=np.int64),) * 2, np.zeros(0), np.zeros(0), True, 0.0)
    interior = (t_raw > 0.0) & (t_raw < 1.0)
    at_start = t_raw <= 0.0
    at_end = t_raw >= 1.0
    # The segment before this one on the same kerb, found in the pairs of the same point (it holds the
    # shared vertex, so it is within reach whenever the vertex is).
    prev_here = np.zeros(len(p), dtype=bool)
    prev_here[1:] = (p[1:] == p[:-1]) & (sg[1:] == sg[:-1] + 1) & ~seg.last_of_kerb[sg[:-1]]
    prev_ends = np.zeros(len(p), dtype=bool)
    prev_ends[1:] = at_end[:-1]
    start_min = at_start & (seg.first_of_kerb[sg] | (prev_here & prev_ends))
    end_min = at_end & seg.last_of_kerb[sg]
    place = interior | start_min | end_min
    p, sg, d = p[place], sg[place], d[place]
    t = np.clip(t_raw[place], 0.0, 1.0)
    if nearest.any():
        dmin = np.full(len(xy), np.inf)
        np.minimum.at(dmin, p, d)
        kept = ~nearest[p] | (d <= dmin[p] + NEAREST_SLACK_M)
        p, sg, d, t = p[kept], sg[kept], d[kept], t[kept]
    s = seg.start_m[sg] + t * seg.length_m[sg]
    k = seg.kerb[sg]
    # A vertex minimum is found once; an interior foot a hair from a vertex may also show on the
    # neighbour segment: keep one place per (point, kerb, chainage to the micrometre).
    key = pd.DataFrame({"p": p, "k": k, "s": np.round(s, 6)})
    first = ~key.duplicated().to_numpy()
    p, k, s, d = p[first], k[first], s[first], d[first]
    return _match_frame(owner[p], k, s, s, True, d, rows(xy, p))


STEEP_DEG = 60.0
"""A straight line crossing a kerb at this angle or more is a plain crossing (:func:`_plain_crossings`)."""


def _plain_crossings(
    lines: NDArray[np.object_],
    kerb_geoms: NDArray[np.object_],
    k: NDArray[np.int64],
    snap_m: NDArray[np.float64],
    seg: KerbSegments,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Pick the pairs whose places are one crossing point, without cutting the line to pieces.

    A two-point line that meets its kerb once, at :data:`STEEP_DEG` or more, where the kerb segment it
    crosses runs straight on for the line's whole reach either side, has no piece along the kerb
    (its pieces' projection is at most ``cot(60) = 0.58`` times their offsets' range, under
    :data:`ALONG_RATIO_SAFE`): its only place is the crossing, as :func:`_line_places_all` would find
    (most driveways and footway crossings: a synthetic city's 210,742 driveway lines took 10.8 s through
    the pieces). Returns the flag and the crossing's chainage for each pair.
    """
    n = len(lines)
    out = np.zeros(n, dtype=bool)
    s_out = np.full(n, np.nan)
    two = shapely.get_num_coordinates(lines) == 2
    inter = np.full(n, None, dtype=object)
    inter[two] = shapely.intersection(lines[two], kerb_geoms[two])
    cand = np.flatnonzero(two & (shapely.get_type_id(inter) == 0))
    if len(cand) == 0:
        return out, s_out
    xy = shapely.get_coordinates(inter[cand])
    s, _, sg = seg.nearest_on(xy, TOL_M, k[cand])
    ok = sg >= 0
    cand, xy, s, sg = cand[ok], xy[ok], s[ok], sg[ok]
    ends = shapely.get_coordinates(lines[cand]).reshape(-1, 2, 2)
    u = ends[:, 1] - ends[:, 0]
    d = np.take(seg.d, sg, axis=0)
    cos = np.abs(u[:, 0] * d[:, 0] + u[:, 1] * d[:, 1]) / (np.hypot(u[:, 0], u[:, 1]) * seg.length_m[sg])
    steep = cos <= np.cos(np.radians(STEEP_DEG))
    reach = np.maximum(snap_m[cand], TOL_M)
    # The kerb runs straight beyond the band the line crosses it in, and a reach more.
    room = reach * cos / np.sqrt(np.maximum(1.0 - cos**2, 1e-12)) + 2.0 * reach
    straight = (s - seg.start_m[sg] >= room) & (seg.end_m[sg] - s >= room)
    pick = steep & straight
    out[cand[pick]] = True
    s_out[cand[pick]] = s[pick]
    return out, s_out


def _locate_in_boxes(
    seg: KerbSegments,
    xy: NDArray[np.float64],
    owner: NDArray[np.int64],
    k: NDArray[np.int64],
    boxes: NDArray[np.object_],
    reach_m: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:meth:`~parkplan.geometry.kerbs.KerbSegments.locate_on` (signed) for points in their pair's box.

    Each point lies in its owner pair's box, which holds the pair's line padded by twice its reach, so the
    nearest place of kerb ``k`` to any point of the line within reach lies on a segment of ``k`` that
    meets the box: one index query per pair finds those few segments, and each point is measured against
    its pair's segments only, in closed form. (Querying every point with its reach of 20 m, as
    ``locate_on`` does, took 3.0 of the 7.4 s the line places of a 400,000-bay city took, and most of
    their memory.) Ties as in :meth:`~parkplan.geometry.kerbs.KerbSegments.closest`.
    """
    n = len(xy)
    s_out = np.full(n, np.nan)
    d_out = np.full(n, np.nan)
    bp, bs = seg.tree().query(boxes, predicate="intersects")
    mine = seg.kerb[bs] == k[bp]
    bp, bs = bp[mine], bs[mine]
    order = np.lexsort((bs, bp))
    bp, bs = bp[order], bs[order]
    first = np.searchsorted(bp, np.arange(len(boxes)), side="left")
    count = np.searchsorted(bp, np.arange(len(boxes)), side="right") - first
    per = count[owner]
    if n == 0 or per.sum() == 0:
        return s_out, d_out
    if int(per.sum()) > 50_000_000:  # a very dense kerb in many boxes: the index query per point
        return seg.locate_on(xy, k[owner], reach_m[owner], signed=True)
    point = np.repeat(np.arange(n), per)
    at = np.arange(len(point)) - np.repeat(np.cumsum(per) - per, per) + np.repeat(first[owner], per)
    # The pairs come in point order, each point's segments ascending.
    who, s, dist, g = seg.closest(xy, point, bs[at])
    ok = dist <= reach_m[owner[who]] + 1e-9
    who, s, dist, g = who[ok], s[ok], dist[ok], g[ok]
    s_out[who] = s
    d_out[who] = np.where(seg.left_of(np.take(xy, who, axis=0), g), dist, -dist)
    return s_out, d_out


def _line_places_all(
    lines: NDArray[np.object_],
    kerb_geoms: NDArray[np.object_],
    k: NDArray[np.int64],
    snap_m: NDArray[np.float64],
    seg: KerbSegments,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Places of line hazards on kerbs, for many (line, kerb) pairs at once: ``(pair, s0, s1, point_like)``.

    ``lines[i]`` meets kerb ``k[i]`` (geometry ``kerb_geoms[i]``) within ``snap_m[i]``. Each line is cut
    to its pieces within reach of the kerb, and each piece's vertices (one a metre at least) are measured
    on the kerb: chainage and signed offset. A piece whose projection spans at least
    :data:`ALONG_MIN_SAFE_M` and :data:`ALONG_RATIO_SAFE` times the range of its offsets runs along the
    kerb and covers its projection, however often it crosses the kerb (a line digitised on the kerb and
    rounded crosses it at shallow angles all along); so does every run of consecutive piece segments
    that each run along the kerb (:data:`ALONG_RATIO`; a line that follows a kerb and leaves it round a
    corner covers the part that follows). Every point where the line crosses the kerb is a point-like
    place (a driveway or footway drawn across it; crossing points closer than :data:`ALONG_MIN_M` are
    one place); a line that does not cross the kerb also applies at the projection of its point nearest
    the kerb (a line that ends near the kerb). The checker (:mod:`parkplan.check.clearance`) takes
    crossings and the nearest point only where a line does not run along (ratio :data:`ALONG_RATIO`):
    the planner takes whole pieces as along from :data:`ALONG_RATIO_SAFE` and drops crossings and the
    nearest point only for pieces past :data:`ALONG_RATIO_SURE`, so near the threshold it forbids both
    readings.

    Every step is one vectorised GEOS or numpy call over all pairs, pieces or vertices (the test suite
    checks it against a plain pair-by-pair version): a synthetic city's 20,341 driveway pairs took 14.0 s
    pair by pair.
    """
    n = len(lines)
    reach = np.maximum(np.asarray(snap_m, dtype=float), TOL_M)
    # Buffers are polygons through points on the circle: a cut point may lie a hair beyond reach.
    measure = reach * 1.01 + TOL_M
    box = shapely.bounds(lines)
    pad = 2.0 * reach
    near_box = shapely.box(box[:, 0] - pad, box[:, 1] - pad, box[:, 2] + pad, box[:, 3] + pad)
    local = shapely.intersection(kerb_geoms, near_box)
    zone = shapely.buffer(local, reach, quad_segs=32)
    cut, cut_pair = shapely.get_parts(shapely.intersection(lines, zone), return_index=True)
    linear = np.isin(shapely.get_type_id(cut), (1, 5)) & ~shapely.is_empty(cut)
    pieces, which = shapely.get_parts(cut[linear], return_index=True)
    piece_pair = cut_pair[linear][which]
    n_pieces = len(pieces)

    # Every piece's vertices (one every metre at most) measured on its kerb.
    xy, vpiece = shapely.get_coordinates(shapely.segmentize(pieces, 1.0), return_index=True)
    vpair = piece_pair[vpiece]
    s, off = _locate_in_boxes(seg, xy, vpair, k, near_box, measure)
    found = ~np.isnan(s)
    lo = np.full(n_pieces, np.inf)
    hi = np.full(n_pieces, -np.inf)
    off_lo = np.full(n_pieces, np.inf)
    off_hi = np.full(n_pieces, -np.inf)
    np.minimum.at(lo, vpiece[found], s[found])
    np.maximum.at(hi, vpiece[found], s[found])
    np.minimum.at(off_lo, vpiece[found], off[found])
    np.maximum.at(off_hi, vpiece[found], off[found])
    span = hi - lo
    spread = off_hi - off_lo
    whole = np.isfinite(span) & (span >= ALONG_MIN_SAFE_M) & (span >= ALONG_RATIO_SAFE * spread)
    sure = whole & (span >= ALONG_MIN_M + 0.05) & (span >= ALONG_RATIO_SURE * spread)

    # Runs of consecutive segments of a piece that each run along the kerb.
    ds = np.abs(np.diff(s))
    doff = np.abs(np.diff(off))
    with np.errstate(invalid="ignore"):
        step = (vpiece[1:] == vpiece[:-1]) & (ds >= ALONG_RATIO * doff) & (ds > 0)
    edges = np.diff(np.concatenate([[0], step.astype(np.int8), [0]]))
    first, stop = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # segments a..b-1: vertices a..b
    run_lo = np.zeros(len(first))
    run_hi = np.zeros(len(first))
    if len(first):
        bounds = np.ravel(np.column_stack([first, stop + 1]))
        run_lo = np.minimum.reduceat(np.append(s, np.inf), np.minimum(bounds, len(s)))[::2]
        run_hi = np.maximum.reduceat(np.append(s, -np.inf), np.minimum(bounds, len(s)))[::2]
    run_piece = vpiece[first]
    inside_whole = whole[run_piece] & (run_lo >= lo[run_piece] - TOL_M) & (run_hi <= hi[run_piece] + TOL_M)
    run_ok = (run_hi - run_lo >= ALONG_MIN_M) & ~inside_whole

    # Crossings: every point where the line meets the kerb, those within TOL_M of a sure span left out.
    inter, inter_pair = shapely.get_parts(shapely.intersection(lines, kerb_geoms), return_index=True)
    solid = ~shapely.is_empty(inter)
    inter, inter_pair = inter[solid], inter_pair[solid]
    crossed = np.zeros(n, dtype=bool)
    crossed[inter_pair] = True
    cxy, cidx = shapely.get_coordinates(inter, return_index=True)
    cpair = inter_pair[cidx]
    cs, _ = seg.locate_on(cxy, k[cpair], measure[cpair])
    ok = ~np.isnan(cs)
    cpair, cs = cpair[ok], cs[ok]
    if sure.any() and len(cs):
        spans = pd.DataFrame({"pair": piece_pair[sure], "lo": lo[sure], "hi": hi[sure]})
        pts = pd.DataFrame({"pair": cpair, "s": cs, "row": np.arange(len(cs))}).merge(spans, on="pair")
        covered = pts.loc[(pts["s"] >= pts["lo"] - TOL_M) & (pts["s"] <= pts["hi"] + TOL_M), "row"].unique()
        keep = np.ones(len(cs), dtype=bool)
        keep[covered.astype(np.int64)] = False
        cpair, cs = cpair[keep], cs[keep]
    # Crossing points closer than ALONG_MIN_M are one crossing (a line touching twice).
    order = np.lexsort((cs, cpair))
    cpair, cs = cpair[order], cs[order]
    head = np.ones(len(cs), dtype=bool)
    head[1:] = (cpair[1:] != cpair[:-1]) | (cs[1:] - cs[:-1] >= ALONG_MIN_M)
    c_first = np.flatnonzero(head)
    c_last = np.append(c_first[1:] - 1, len(cs) - 1) if len(c_first) else c_first

    has_sure = np.zeros(n, dtype=bool)
    has_sure[piece_pair[sure]] = True
    placed = np.zeros(n, dtype=bool)
    placed[piece_pair[whole]] = True
    placed[piece_pair[run_piece[run_ok]]] = True
    placed[cpair] = True
    # Not across: also where it comes nearest (a line that ends near the kerb); and any pair with no place.
    nearest = np.flatnonzero((~crossed & ~has_sure) | ~placed)
    end = shapely.get_coordinates(
        shapely.get_point(shapely.shortest_line(lines[nearest], kerb_geoms[nearest]), 1)
    )
    ns, _ = seg.locate_on(end, k[nearest], measure[nearest] + TOL_M)
    nok = ~np.isnan(ns)

    pair = np.concatenate([piece_pair[run_piece[run_ok]], piece_pair[whole], cpair[c_first], nearest[nok]])
    s0 = np.concatenate([run_lo[run_ok], lo[whole], cs[c_first], ns[nok]])
    s1 = np.concatenate([run_hi[run_ok], hi[whole], cs[c_last], ns[nok]])
    like = np.concatenate(
        [
            np.zeros(int(run_ok.sum()) + int(whole.sum()), dtype=bool),
            np.ones(len(c_first) + int(nok.sum()), dtype=bool),
        ]
    )
    return pair.astype(np.int64), s0, s1, like


def _polygon_places(
    poly: object, kerb: object, k: int, snap_m: float, seg: KerbSegments
) -> list[tuple[float, float, bool]]:
    """Return the kerb inside a polygon hazard, else the stretch its vertices within reach project onto."""
    coords = shapely.get_coordinates(shapely.intersection(kerb, poly))
    if len(coords) == 0:
        verts = shapely.get_coordinates(poly)
        close = shapely.dwithin(shapely.points(verts), kerb, snap_m)
        coords = verts[close]
    if len(coords) == 0:
        return []
    s, _ = seg.locate_on(coords, np.full(len(coords), k), snap_m + TOL_M)
    s = s[~np.isnan(s)]
    if len(s) == 0:
        return []
    return [(float(s.min()), float(s.max()), bool(s.max() - s.min() < ALONG_MIN_M))]


def _by_kerb(table: pd.DataFrame) -> pd.DataFrame:
    """Sort matches by kerb, start and hazard, ties in their input order.

    One numpy sort: the same order as pandas' stable three-column sort, which factorizes every column.
    """
    order = np.lexsort(
        (
            table["hazard"].to_numpy(dtype=np.int64),
            table["s0_m"].to_numpy(dtype=float),
            table["kerb"].to_numpy(dtype=np.int64),
        )
    )
    return table.iloc[order].reset_index(drop=True)


def zones_from_matches(
    matches: HazardMatch,
    hazards: gpd.GeoDataFrame,
    kerbs: gpd.GeoDataFrame,
    rules: Rules,
    workers: int | None = 1,
) -> pd.DataFrame:
    """Turn matches into forbidden zones with their reasons.

    Kerb corners of street-area kerbs become ``intersection`` zones whose own extent is the corner arc
    (``corner_start_m`` from chainage 0, ``corner_end_m`` up to ``length_m``). ``workers`` cast the rays
    that carry rules to the kerb opposite (:func:`parkplan.geometry.rays.opposite_places`). Point hazards
    also forbid the kerb within their rule's straight-line reach (:func:`_disc_zones`), where that adds
    kerb.

    Returns
    -------
    pandas.DataFrame
        One row per zone: ``kerb``, ``start_m``, ``end_m`` (forbidden, clipped to the kerb),
        ``hazard_start_m``, ``hazard_end_m`` (own extent), ``kind``, ``hazard_id``, ``rule``; zones of
        zero length are left out. ``attrs["hazards_without_zone"]``: the rows of matched hazards none of
        whose zones has any length (no width, no clearance), for the summary and its warning.
    """
    t = matches.table
    lengths = kerbs["length_m"].to_numpy(dtype=float)
    flows = np.where(kerbs["flow"].to_numpy(dtype=object) == "backward", -1.0, 1.0)

    if len(t):
        h = t["hazard"].to_numpy(dtype=np.int64)
        k = t["kerb"].to_numpy(dtype=np.int64)
        kinds = hazards["kind"].to_numpy(dtype=object)[h]
        width = hazards["width_m"].to_numpy(dtype=float)[h]
        hid = hazards["hazard_id"].to_numpy(dtype=object)[h]
        s0 = t["s0_m"].to_numpy(dtype=float)
        s1 = t["s1_m"].to_numpy(dtype=float)
        point_like = t["point_like"].to_numpy(dtype=bool)
        px = t["x"].to_numpy(dtype=float) if "x" in t.columns else np.full(len(t), np.nan)
        py = t["y"].to_numpy(dtype=float) if "y" in t.columns else np.full(len(t), np.nan)
    else:
        h = k = np.zeros(0, dtype=np.int64)
        kinds = hid = np.zeros(0, dtype=object)
        width = s0 = s1 = px = py = np.zeros(0)
        point_like = np.zeros(0, dtype=bool)

    # Kerb corners as intersection anchors: the corner arc is the own extent.
    corner_start = kerbs["corner_start_m"].to_numpy(dtype=float)
    corner_end = kerbs["corner_end_m"].to_numpy(dtype=float)
    cs = np.flatnonzero(~np.isnan(corner_start))
    ce = np.flatnonzero(~np.isnan(corner_end))
    curb_ids = kerbs["curb_id"].to_numpy(dtype=object)
    n_corner = len(cs) + len(ce)
    h = np.concatenate([h, np.full(n_corner, -1, dtype=np.int64)])
    k = np.concatenate([k, cs, ce])
    kinds = np.concatenate([kinds, np.full(n_corner, "intersection", dtype=object)])
    hid = np.concatenate(
        [hid, [f"corner:{c}:start" for c in curb_ids[cs]], [f"corner:{c}:end" for c in curb_ids[ce]]]
    )
    width = np.concatenate([width, np.zeros(n_corner)])
    s0 = np.concatenate([s0, np.zeros(len(cs)), lengths[ce] - np.minimum(corner_end[ce], lengths[ce])])
    s1 = np.concatenate([s1, np.minimum(corner_start[cs], lengths[cs]), lengths[ce]])
    point_like = np.concatenate([point_like, np.zeros(n_corner, dtype=bool)])
    px = np.concatenate([px, np.full(n_corner, np.nan)])
    py = np.concatenate([py, np.full(n_corner, np.nan)])

    # One row per (place, clearance rule of its kind): a kind may have several rules.
    # The rules of every kind present, flattened; each place points at its kind's first rule.
    kind_code, kind_names = pd.factorize(pd.Series(kinds, dtype=object), sort=False)
    flat: list[Clearance] = []
    first_rule = np.zeros(len(kind_names), dtype=np.int64)
    n_rules = np.zeros(len(kind_names), dtype=np.int64)
    builtin_w = np.zeros(len(kind_names))
    for i, kind in enumerate(kind_names):
        listed = rules.clearance_rules(str(kind))
        first_rule[i], n_rules[i] = len(flat), len(listed)
        flat += listed
        known = rules.kinds.get(str(kind))
        builtin_w[i] = known.width_m if known is not None and known.width_m is not None else 0.0
    counts = n_rules[kind_code]
    row = np.repeat(np.arange(len(k)), counts)
    which = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    rid = first_rule[kind_code][row] + which
    own_w = builtin_w[kind_code][row]
    k, kinds, hid, width, s0, s1, point_like, h, px, py = (
        x[row] for x in (k, kinds, hid, width, s0, s1, point_like, h, px, py)
    )
    before = np.array([c.before_m for c in flat])[rid]
    after = np.array([c.after_m for c in flat])[rid]
    default_w = np.array([c.default_width_m if c.default_width_m is not None else np.nan for c in flat])[rid]
    min_w = np.array([c.min_width_m for c in flat])[rid]
    centre = np.array([c.anchor == "centre" for c in flat], dtype=bool)[rid]
    applies = np.array([c.applies_to for c in flat], dtype=object)[rid]
    rule_text = np.array([_rule_text(rules.name, c) for c in flat], dtype=object)[rid]

    # A place's width: the feature's own, else the rule's default, else the kind's built-in width (a
    # driveway or a crossing is never 0 m wide), at least the rule's minimum.
    w = np.where(np.isnan(width), np.where(np.isnan(default_w), own_w, default_w), width)
    w = np.where(point_like, np.maximum(w, min_w), 0.0)
    a = s0 - w / 2.0
    b = s1 + w / 2.0
    # Span of an along-kerb hazard shorter than its minimum width grows about its middle.
    short = ~point_like & (b - a < min_w)
    mid = (a + b) / 2.0
    a = np.where(short, mid - min_w / 2.0, a)
    b = np.where(short, mid + min_w / 2.0, b)

    # Straight-line clearances of point hazards: no bay nearer the point than the rule allows for a
    # hazard standing at the kerb, on every kerb the hazard applies to (a kerb that wraps round it or
    # jogs towards it may pass close by far from every pass along the kerb).
    disc = _disc_zones(matches, h, k, px, py, w, before, after, centre, applies, kinds, hid, rule_text)

    # Rules for the kerb opposite: the same extent and clearances, projected across the carriageway.
    far = np.flatnonzero(applies != "same")
    if len(far):
        k_opp, s_opp = opposite_places(kerbs, k[far], (a[far] + b[far]) / 2.0, workers, matches.segments)
        ok = k_opp >= 0
        sel = far[ok]
        half = (b[sel] - a[sel]) / 2.0
        k = np.concatenate([k, k_opp[ok]])
        a = np.concatenate([a, s_opp[ok] - half])
        b = np.concatenate([b, s_opp[ok] + half])
        kinds, hid, rule_text, h = (np.concatenate([x, x[sel]]) for x in (kinds, hid, rule_text, h))
        before, after, centre = (np.concatenate([x, x[sel]]) for x in (before, after, centre))
        # On its own kerb an "opposite" rule keeps only the hazard's own extent.
        own_only = np.concatenate([applies == "opposite", np.zeros(len(sel), dtype=bool)])
        before = np.where(own_only, 0.0, before)
        after = np.where(own_only, 0.0, after)

    fwd = flows[k] > 0
    up = np.where(fwd, before, after)  # metres added on the low-chainage side
    down = np.where(fwd, after, before)  # metres added on the high-chainage side
    mid = (a + b) / 2.0
    start = np.where(centre, np.minimum(a, mid - up), a - up)
    end = np.where(centre, np.maximum(b, mid + down), b + down)
    length = lengths[k]
    zones = zone_table(
        k,
        np.clip(start, 0.0, length),
        np.clip(end, 0.0, length),
        kinds,
        hid,
        rule_text,
        hazard_start_m=np.clip(a, 0.0, length),
        hazard_end_m=np.clip(b, 0.0, length),
    )
    h_zone = h
    if disc is not None:
        extra, h_disc = _uncovered(disc[0], disc[1], zones, h)
        zones = pd.concat([zones, extra], ignore_index=True)
        h_zone = np.concatenate([h, h_disc])
    real = (zones["end_m"] > zones["start_m"]).to_numpy().copy()
    real[real] = _not_nested(zones[real], h_zone[real])
    zones = zones[real]
    # Hazards matched to a kerb whose every zone came out empty (no width, no clearance): the summary
    # names them, so a matched hazard never silently forbids nothing.
    matched = np.unique(t["hazard"].to_numpy(dtype=np.int64)) if len(t) else np.zeros(0, np.int64)
    forbidding = np.unique(h_zone[real])
    # Numeric keys only (a text key is slow on millions of zones); ties keep their input order. Clearances
    # differ by kind, so the matches' order says little about the zones' order: one three-key sort.
    order = np.lexsort(
        (
            zones["end_m"].to_numpy(dtype=float),
            zones["start_m"].to_numpy(dtype=float),
            zones["kerb"].to_numpy(dtype=np.int64),
        )
    )
    out = zones.iloc[order].reset_index(drop=True)
    out.attrs["hazards_without_zone"] = np.setdiff1d(matched, forbidding)
    return out


def _not_nested(zones: pd.DataFrame, h: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Flag the zones to keep: not inside another zone of the same hazard, kerb and rule.

    A line that runs along a kerb is also placed where it comes nearest (:func:`_line_places_all`), inside
    its own span: one zone says it. Only hazards with several zones on one kerb are compared (one pair
    test per such group member), so millions of single zones cost one duplicate scan.
    """
    keep = np.ones(len(zones), dtype=bool)
    if len(zones) < 2:
        return keep
    key = pd.DataFrame(
        {"h": h, "kerb": zones["kerb"].to_numpy(dtype=np.int64), "rule": zones["rule"].to_numpy(dtype=object)}
    )
    multi = np.flatnonzero(key.duplicated(keep=False).to_numpy() & (h >= 0))
    if len(multi) == 0:
        return keep
    sub = key.iloc[multi].assign(
        row=multi,
        lo=zones["start_m"].to_numpy(dtype=float)[multi],
        hi=zones["end_m"].to_numpy(dtype=float)[multi],
    )
    pairs = sub.merge(sub, on=["h", "kerb", "rule"], suffixes=("", "_o"))
    inside = (pairs["lo_o"] <= pairs["lo"] + 1e-9) & (pairs["hi_o"] >= pairs["hi"] - 1e-9)
    same = (pairs["lo_o"] >= pairs["lo"] - 1e-9) & (pairs["hi_o"] <= pairs["hi"] + 1e-9)
    # Inside another zone; of two equal zones the later goes.
    drop = inside & (pairs["row_o"] != pairs["row"]) & (~same | (pairs["row_o"] < pairs["row"]))
    keep[pairs.loc[drop, "row"].to_numpy(dtype=np.int64)] = False
    return keep


def _uncovered(
    disc: pd.DataFrame, h_disc: NDArray[np.int64], zones: pd.DataFrame, h: NDArray[np.int64]
) -> tuple[pd.DataFrame, NDArray[np.int64]]:
    """Drop the straight-line zones that lie inside a zone of the same hazard on the same kerb.

    On a straight kerb the clearances along it already cover the circle: only where the kerb bends
    towards the hazard does a straight-line zone add kerb, and only those are kept (fewer, clearer zones).
    """
    if len(disc) == 0:
        return disc, h_disc
    left = pd.DataFrame(
        {
            "row": np.arange(len(disc)),
            "h": h_disc,
            "kerb": disc["kerb"].to_numpy(dtype=np.int64),
            "lo": disc["start_m"].to_numpy(dtype=float),
            "hi": disc["end_m"].to_numpy(dtype=float),
        }
    )
    right = pd.DataFrame(
        {
            "h": h,
            "kerb": zones["kerb"].to_numpy(dtype=np.int64),
            "a": zones["start_m"].to_numpy(dtype=float),
            "b": zones["end_m"].to_numpy(dtype=float),
        }
    )
    both = left.merge(right[right["h"] >= 0], on=["h", "kerb"], how="inner")
    inside = both[(both["a"] <= both["lo"] + 1e-6) & (both["b"] >= both["hi"] - 1e-6)]["row"].unique()
    keep = np.ones(len(disc), dtype=bool)
    keep[inside.astype(np.int64)] = False
    return disc[keep].reset_index(drop=True), h_disc[keep]


def _disc_zones(
    matches: HazardMatch,
    h: NDArray[np.int64],
    k: NDArray[np.int64],
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    w: NDArray[np.float64],
    before: NDArray[np.float64],
    after: NDArray[np.float64],
    centre: NDArray[np.bool_],
    applies: NDArray[np.object_],
    kinds: NDArray[np.object_],
    hid: NDArray[np.object_],
    rule_text: NDArray[np.object_],
) -> tuple[pd.DataFrame, NDArray[np.int64]] | None:
    """Zones of kerb within a point hazard's straight-line reach, on the kerbs it applies to.

    The reach is what the rule gives a hazard standing at the kerb: half its width plus the smaller of
    its clearances (anchor ``edge``), or the larger of the two (anchor ``centre``). Every segment of
    the kerb within reach gives the part of it inside the circle (closed form). Returns the zones and
    the hazard row of each.
    """
    seg = matches.segments
    reach = np.where(
        centre, np.maximum(w / 2.0, np.minimum(before, after)), w / 2.0 + np.minimum(before, after)
    )
    use = np.flatnonzero(~np.isnan(px) & (applies != "opposite") & (reach > 0) & (h >= 0))
    if seg is None or len(use) == 0:
        return None
    # One circle per (hazard, kerb, reach): the passes of a hazard along one kerb share it.
    key = pd.DataFrame({"h": h[use], "k": k[use], "r": reach[use], "rule": rule_text[use]})
    use = use[~key.duplicated().to_numpy()]
    xy = np.column_stack([px[use], py[use]])
    p, sg, _, _ = seg.near(xy, reach[use])
    mine = seg.kerb[sg] == k[use][p]
    p, sg = p[mine], sg[mine]
    if len(p) == 0:
        return None
    # Segment a + u (b - a), 0 <= u <= 1, inside the circle |x - c| <= r: a quadratic in u.
    e = rows(seg.d, sg)
    f = rows(seg.p0, sg) - rows(xy, p)
    r = reach[use][p]
    qa = seg.length_m[sg] ** 2
    qb = 2.0 * (f[:, 0] * e[:, 0] + f[:, 1] * e[:, 1])
    qc = f[:, 0] ** 2 + f[:, 1] ** 2 - r**2
    disc = np.maximum(qb**2 - 4.0 * qa * qc, 0.0)
    root = np.sqrt(disc)
    u0 = np.clip((-qb - root) / (2.0 * qa), 0.0, 1.0)
    u1 = np.clip((-qb + root) / (2.0 * qa), 0.0, 1.0)
    s_lo = seg.start_m[sg] + u0 * seg.length_m[sg]
    s_hi = seg.start_m[sg] + u1 * seg.length_m[sg]
    inside = u1 > u0
    # One zone per pass through the circle, not one per segment (a kerb of 0.14 m segments passing
    # within 5 m gives ~70 pieces a pass).
    src, s_lo, s_hi = merge_intervals(use[p[inside]], s_lo[inside], s_hi[inside], touch_m=1e-6)
    text = np.array(
        [f"{t}; within {x:g} m in a straight line" for t, x in zip(rule_text[src], reach[src], strict=True)],
        dtype=object,
    )
    zones = zone_table(k[src], s_lo, s_hi, kinds[src], hid[src], text)
    return zones, h[src]


def _rule_text(name: str, c: Clearance) -> str:
    text = f"{name}: {c.kind} before {c.before_m:g} m, after {c.after_m:g} m"
    if c.anchor != "edge":
        text += f", from its {c.anchor}"
    if c.applies_to != "same":
        text += f", {c.applies_to} side" if c.applies_to == "opposite" else ", both sides"
    return text
