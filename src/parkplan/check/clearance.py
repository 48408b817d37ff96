"""Hazard clearances, measured by the checker on its own: which bays come too near a hazard.

The contract is docs' *What a legal bay is* (the planner must agree with it); this module measures it
without the planner's zone or projection code (:mod:`parkplan.hazards` and friends), on the kerbs' own
straight segments (:class:`parkplan.check.geometry.KerbSegments`) and shapely's overlay operations.

**Where a hazard is on a kerb** (its *places*; kinds canonicalised, ``snap`` and ``match`` from
``rules.kind_defaults(kind)`` unless the feature's ``match`` column says otherwise):

* *Point* (each part of a MultiPoint is a hazard of its own): every *pass* of every kerb within ``snap``,
  a local minimum of the distance along the kerb: the foot of the perpendicular inside a segment, or a
  vertex whose two segments both lead away from the point (a kerb end: its one segment). They are found
  in closed form on the (point, segment) pairs an STRtree gives, so a kerb that steps, jogs or wraps
  round the point is passed as often as it comes near. Each pass is a place of its own: an arc
  digitised as chords round the point has one on every chord, and their extents together cover it. With
  ``match = "nearest"`` only passes no more than :data:`NEAREST_SLACK_M` farther than the nearest count.
* *Line*: (b) every connected piece of it within ``snap`` of a kerb (the line cut by the kerb's ``snap``
  buffer) whose projection onto the kerb spans at least :data:`ALONG_MIN_M` and :data:`ALONG_RATIO`
  times the range of its signed offsets from the kerb lies along the kerb and covers that span, however
  often it crosses (shallow angles, two-vertex lines, lines digitised on the kerb and rounded); (a) every
  point where it crosses (or touches) a kerb outside such pieces is a point-like place, crossing points
  closer than :data:`CROSSING_GAP_M` along the kerb one place spanning them; (c) a line that neither
  crosses a kerb nor lies along it applies at the projection of its nearest point. With ``match =
  "nearest"`` kerbs more than :data:`NEAREST_SLACK_M` farther than the nearest are dropped unless the
  line crosses them.
* *Polygon*: each connected stretch of kerb inside it, else the span onto which its vertices within
  ``snap`` project (nearest mode as for lines).
* *Kerb corners* (street-area kerbs, ``corner_start_m`` / ``corner_end_m`` not NaN): an
  ``intersection`` whose own extent is the corner arc.

**Own extent.** A point-like place ``[p0, p1]`` (``p0 == p1`` but for grouped crossings) becomes
``[p0 - w/2, p1 + w/2]``: ``w`` is the feature's ``width_m``, else the rule's ``default_width_m``, else
the kind's built-in ``width_m`` (``kinds.toml``), else 0, and at least the rule's ``min_width_m``. A span
shorter than ``min_width_m`` grows about its middle.

**Forbidden stretches** per clearance rule: ``[a - up, b + down]`` (anchor ``edge``) or ``[min(a, m - up),
max(b, m + down)]`` (``centre``, ``m`` the middle of ``[a, b]``); ``up`` is ``before_m`` on a forward
kerb (``after_m`` on a backward one). ``applies_to = "opposite"`` keeps only the own extent on the
hazard's kerb and puts the same half-extent and clearances (by that kerb's flow) round the point where a
ray at right angles from the middle of the own extent, towards the carriageway, first meets another
kerb within :data:`OPPOSITE_REACH_M`; ``"both"`` does both. Stretches are clipped to their kerb.

**Straight line.** For point hazards and rules that apply to the hazard's own side (``same``,
``both``), no bay standing along a kerb the point has a place on may bring its kerb extent (the stretch of
kerb ``[s0_m, s1_m]`` it takes) within ``R`` of the point: ``R = w/2 + min(before_m, after_m)`` (edge) or
``max(w/2, min(before_m, after_m))`` (centre).

A bay violates ``clearance`` when its kerb extent overlaps a forbidden stretch by more than
:data:`TOL_M`, or comes nearer the point than ``R - TOL_M``.

**Tagged no parking** (OpenStreetMap existing mode). :func:`parkplan.from_osm` turns every way side whose
tags do not allow parking into a ``no_parking`` line along that kerb, with the deciding tag in a
``reason`` column (``"parking:right=no"``, ``"untagged"``, ...). A violation of such a hazard whose tag
says parking is forbidden (a value in :data:`NO_PARKING_VALUES`: ``parking:<side>=no``,
``...:restriction=no_stopping``, ``parking:lane:<side>=no_parking`` ...) is reported as
``tagged_no_parking`` instead of ``clearance``; an untagged side, an unknown value or ``separate`` stays
``clearance`` (existing mode keeps bays off them, but the tags do not say "no parking"). A kerb table
that carries the tags itself is read too (:func:`tagged_no_parking`). Only bays attached to the kerb on its
carriageway side take part (``at.carriageway_side``; a bay on the footway side is the ``footway`` check's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkplan.check.geometry import KerbSegments, Projection, ragged_ranges
from parkplan.rules.loading import Clearance, KindDefaults, Rules

__all__ = [
    "ALONG_MIN_M",
    "ALONG_RATIO",
    "CROSSING_GAP_M",
    "NEAREST_SLACK_M",
    "NO_PARKING_VALUES",
    "OPPOSITE_REACH_M",
    "TOL_M",
    "VIOLATION_COLUMNS",
    "clearance_violations",
    "hazard_places",
    "tagged_no_parking",
]

TOL_M = 0.01
"""Excess (metres) a bay must exceed to violate a rule: the planner works to 1 mm."""

NEAREST_SLACK_M = 1.0
"""``match = "nearest"``: places up to this much farther than the nearest kerb count too (metres)."""

ALONG_MIN_M = 1.0
"""A piece of a line within ``snap_m`` of a kerb whose projection spans this much lies along it (metres)."""

ALONG_RATIO = 2.0
"""... and at least this many times the range of its signed offsets from the kerb (within about 27 degrees
of the kerb on the whole): a drive drawn at 45 degrees across a kerb crosses it, it does not lie along it."""

CROSSING_GAP_M = 1.0
"""Crossing points of one line closer than this along a kerb are one place spanning them (metres)."""

OPPOSITE_REACH_M = 60.0
"""How far across the carriageway the kerb opposite a place is looked for (metres)."""

BUFFER_QUAD_SEGS = 32
"""Segments per quarter circle of the ``snap_m`` buffers cutting line hazards (0.1 % of snap inside)."""

SAMPLE_STEP_M = 1.0
"""A line's piece near a kerb is sampled at least this densely to find the span it projects onto."""

NO_PARKING_VALUES = frozenset({"no", "no_parking", "no_stopping", "no_standing", "fire_lane"})
"""OSM parking tag values that say parking is forbidden on a kerb side (``tagged_no_parking``)."""

VIOLATION_COLUMNS = ["bay", "check", "detail", "hazard_id", "kind", "required_m", "measured_m"]

_I = NDArray[np.int64]
_F = NDArray[np.float64]
_B = NDArray[np.bool_]
_O = NDArray[np.object_]


def _clearance_rows(
    bay: _I, details: list[str], hids: object, kinds: object, required: _F, measured: _F, key: _I, excess: _F
) -> pd.DataFrame:
    """``clearance`` violations with the hazard (``key``) and how far past the rule (``excess``) each is."""
    return pd.DataFrame(
        {
            "bay": bay,
            "check": "clearance",
            "detail": np.array(details, dtype=object),
            "hazard_id": hids,
            "kind": kinds,
            "required_m": required,
            "measured_m": measured,
            "key": key,
            "excess": excess,
        }
    )


def _empty_violations() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "bay": np.zeros(0, dtype=np.int64),
            "check": np.zeros(0, dtype=object),
            "detail": np.zeros(0, dtype=object),
            "hazard_id": np.zeros(0, dtype=object),
            "kind": np.zeros(0, dtype=object),
            "required_m": np.zeros(0),
            "measured_m": np.zeros(0),
        }
    )


# ------------------------------------------------------------------------------------------- segments


@dataclass(frozen=True)
class _Solid:
    """The kerbs' segments of positive length, in kerb and chainage order (``seg``: index in KerbSegments)."""

    seg: _I
    rank_of: _I
    """Per KerbSegments index: its rank among the solid segments (-1: zero length)."""
    first: _I
    """Per kerb: rank of its first solid segment (-1: none)."""
    last: _I
    """Per kerb: rank of its last solid segment (-1: none)."""
    key: _F
    """Per solid segment: ``kerb * stride + s0_m`` (sorted), to find the segment holding a chainage."""
    stride: float

    @staticmethod
    def of(segs: KerbSegments, n_kerbs: int) -> _Solid:
        seg = np.flatnonzero(segs.length_m > 0.0).astype(np.int64)
        rank_of = np.full(len(segs), -1, dtype=np.int64)
        rank_of[seg] = np.arange(len(seg))
        kerb = segs.kerb[seg]
        first = np.full(n_kerbs, -1, dtype=np.int64)
        last = np.full(n_kerbs, -1, dtype=np.int64)
        if len(seg):
            starts = np.flatnonzero(np.r_[True, kerb[1:] != kerb[:-1]])
            ends = np.r_[starts[1:] - 1, len(seg) - 1]
            first[kerb[starts]] = starts
            last[kerb[ends]] = ends
        stride = float(segs.kerb_length_m.max(initial=0.0)) + 1000.0
        return _Solid(seg, rank_of, first, last, kerb * stride + segs.s0_m[seg], stride)

    def holding(self, kerb: _I, s_m: _F) -> _I:
        """Index (in KerbSegments) of the solid segment of ``kerb`` holding chainage ``s_m`` (clipped)."""
        r = np.searchsorted(self.key, kerb * self.stride + s_m, side="right").astype(np.int64) - 1
        r = np.clip(r, self.first[kerb], self.last[kerb])
        return self.seg[np.maximum(r, 0)]


# --------------------------------------------------------------------------------------------- places


@dataclass
class _Places:
    """Places of hazards on kerbs, one row each (see the module docstring)."""

    hazard: list[_I] = field(default_factory=list)
    """Hazard number: row in the hazard frame, or ``n_hazards + i`` for kerb corners."""
    part: list[_I] = field(default_factory=list)
    """Point number for point hazards (straight-line rule), -1 otherwise."""
    kerb: list[_I] = field(default_factory=list)
    p0: list[_F] = field(default_factory=list)
    p1: list[_F] = field(default_factory=list)
    point_like: list[_B] = field(default_factory=list)

    def add(self, hazard: _I, part: int | _I, kerb: _I, p0: _F, p1: _F, point_like: bool | _B) -> None:
        n = len(hazard)
        self.hazard.append(np.asarray(hazard, dtype=np.int64))
        self.part.append(np.broadcast_to(np.asarray(part, dtype=np.int64), (n,)).copy())
        self.kerb.append(np.asarray(kerb, dtype=np.int64))
        self.p0.append(np.asarray(p0, dtype=float))
        self.p1.append(np.asarray(p1, dtype=float))
        self.point_like.append(np.broadcast_to(np.asarray(point_like, dtype=bool), (n,)).copy())

    def frame(self) -> pd.DataFrame:
        def cat(parts: list[NDArray[np.generic]], dtype: type) -> NDArray[np.generic]:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

        return pd.DataFrame(
            {
                "hazard": cat(self.hazard, np.int64),  # type: ignore[arg-type]
                "part": cat(self.part, np.int64),  # type: ignore[arg-type]
                "kerb": cat(self.kerb, np.int64),  # type: ignore[arg-type]
                "p0_m": cat(self.p0, float),  # type: ignore[arg-type]
                "p1_m": cat(self.p1, float),  # type: ignore[arg-type]
                "point_like": cat(self.point_like, bool),  # type: ignore[arg-type]
            }
        )


def _point_passes(segs: KerbSegments, solid: _Solid, xy: _F, snap: _F) -> pd.DataFrame:
    """Every pass of every kerb within ``snap[i]`` of ``xy[i]`` (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        ``point``, ``kerb``, ``s_m`` (where the kerb passes the point), ``dist_m``.
    """
    proj = segs.near(xy, snap)
    proj = proj.take(segs.length_m[proj.seg] > 0.0)
    rank = solid.rank_of[proj.seg]
    order = np.lexsort((rank, proj.point))
    proj = proj.take(order)
    pt, seg, kerb, rank = proj.point, proj.seg, proj.kerb, rank[order]
    n = len(pt)
    a = segs.a[seg]
    d = segs.b[seg] - a
    length = segs.length_m[seg]
    p = xy[pt]
    t = ((p[:, 0] - a[:, 0]) * d[:, 0] + (p[:, 1] - a[:, 1]) * d[:, 1]) / (length * length)
    d_a = np.hypot(p[:, 0] - a[:, 0], p[:, 1] - a[:, 1])
    d_b = np.hypot(p[:, 0] - segs.b[seg, 0], p[:, 1] - segs.b[seg, 1])
    s0 = segs.s0_m[seg]

    # Row r + 1 continues row r: the same point on the next solid segment of the same kerb.
    link = np.zeros(n, dtype=bool)
    if n > 1:
        link[:-1] = (pt[1:] == pt[:-1]) & (rank[1:] == rank[:-1] + 1) & (kerb[1:] == kerb[:-1])
    interior = (t > 0.0) & (t < 1.0)
    # A vertex between two segments: the distance falls into it from both sides.
    v_start = np.zeros(n, dtype=bool)
    v_start[1:] = link[:-1] & (t[:-1] >= 1.0) & (t[1:] <= 0.0)
    first = rank == solid.first[kerb]
    last = rank == solid.last[kerb]
    closed = segs.closed[kerb]
    # Kerb ends: the one side; a closed kerb's joint needs the other end's segment too.
    wrap_ok = np.ones(n, dtype=bool)
    if closed.any():
        keys = pt * (len(solid.seg) + 1) + rank
        other = np.where(first, solid.last[kerb], solid.first[kerb])
        want = pt * (len(solid.seg) + 1) + other
        pos = np.clip(np.searchsorted(keys, want), 0, max(n - 1, 0))
        found = keys[pos] == want
        t_other = t[pos]
        wrap_ok = ~closed | ~found | np.where(first, t_other >= 1.0, t_other <= 0.0)
    v_start |= first & (t <= 0.0) & wrap_ok
    v_end = last & (t >= 1.0) & wrap_ok
    is_min = interior | v_start | v_end
    s_min = np.where(v_end, s0 + length, np.where(v_start, s0, s0 + np.clip(t, 0.0, 1.0) * length))
    d_min = np.where(v_end, d_b, np.where(v_start, d_a, proj.dist_m))

    # A foot a hair from a vertex can show on both segments of a straight run: one place.
    r = np.flatnonzero(is_min)
    same = np.zeros(len(r), dtype=bool)
    same[1:] = (pt[r[1:]] == pt[r[:-1]]) & (kerb[r[1:]] == kerb[r[:-1]])
    same[1:] &= np.abs(s_min[r[1:]] - s_min[r[:-1]]) <= 1e-6
    r = r[~same]
    return pd.DataFrame({"point": pt[r], "kerb": kerb[r], "s_m": s_min[r], "dist_m": d_min[r]})


def _near_pairs(segs: KerbSegments, geoms: _O, snap: _F, n_kerbs: int) -> tuple[_I, _I, _O]:
    """Every (geometry, kerb) pair within ``snap``, with the kerb's segments near the geometry.

    Returns
    -------
    tuple
        ``(row, kerb, near)``: the geometry's row, the kerb, and the kerb's segments within ``snap`` of
        it merged into lines (all of the kerb that matters for the pair: the rest is farther).
    """
    row, seg = segs.tree.query(geoms, predicate="dwithin", distance=snap)
    keep = segs.length_m[seg] > 0.0
    row, seg = row[keep].astype(np.int64), seg[keep].astype(np.int64)
    key = row * n_kerbs + segs.kerb[seg]
    order = np.lexsort((seg, key))
    row, seg, key = row[order], seg[order], key[order]
    uniq, pair = np.unique(key, return_inverse=True)
    if len(seg) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    lines = shapely.linestrings(np.stack([segs.a[seg], segs.b[seg]], axis=1))
    # Consecutive segments merged into lines: overlay and buffer are far quicker on a few long lines.
    near = np.asarray(shapely.line_merge(shapely.multilinestrings(lines, indices=pair)), dtype=object)
    return (uniq // n_kerbs).astype(np.int64), (uniq % n_kerbs).astype(np.int64), near


def _lines_of(geoms: _O, owner: _I) -> tuple[_O, _I]:
    """Return the connected line pieces of ``geoms`` (any type) merged per ``owner``, and their owners."""
    parts, which = shapely.get_parts(geoms, return_index=True)
    lineal = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 0.0)
    parts, which = parts[lineal], owner[which[lineal]]
    if len(parts) == 0:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64)
    order = np.argsort(which, kind="stable")
    present, dense = np.unique(which[order], return_inverse=True)
    merged = shapely.line_merge(shapely.multilinestrings(parts[order], indices=dense))
    pieces, at = shapely.get_parts(merged, return_index=True)
    keep = shapely.get_type_id(pieces) == 1
    return np.asarray(pieces[keep], dtype=object), present[at[keep]].astype(np.int64)


def _nearest_on(
    segs: KerbSegments, xy: _F, kerb: _I, reach: float | _F, guide: _O | None = None
) -> Projection:
    """Project each point ``xy[i]`` onto its kerb ``kerb[i]`` if within ``reach`` (else leave it out).

    The segment nearest the point, of any kerb, is found first (O(log n)); only the points whose nearest
    segment belongs to another kerb search the segments within reach, or within their distance to
    ``guide[i]`` (a geometry made of segments of their kerb) where given.
    """
    limit = np.broadcast_to(np.asarray(reach, dtype=float), (len(xy),))
    i, j = segs.tree.query_nearest(shapely.points(xy), max_distance=float(limit.max()), all_matches=False)
    i, j = i.astype(np.int64), j.astype(np.int64)
    mine = segs.kerb[j] == kerb[i]
    first = segs.project(xy, j[mine], i[mine])
    first = first.take(first.dist_m <= limit[first.point])
    rest = np.setdiff1d(np.arange(len(xy)), i[mine])
    if len(rest) == 0:
        return first
    far = limit[rest]
    if guide is not None:
        far = np.minimum(far, shapely.distance(shapely.points(xy[rest]), guide[rest]) + 1e-6)
    more = segs.on_kerb(xy[rest], kerb[rest], far)
    return Projection(
        np.concatenate([first.point, rest[more.point]]),
        np.concatenate([first.seg, more.seg]),
        np.concatenate([first.kerb, more.kerb]),
        np.concatenate([first.s_m, more.s_m]),
        np.concatenate([first.dist_m, more.dist_m]),
        np.concatenate([first.t, more.t]),
    )


def _span(
    segs: KerbSegments,
    xy: _F,
    owner: _I,
    kerb_of: _I,
    reach: float | _F,
    n: int,
    guide_of: _O | None = None,
) -> tuple[_F, _F, _F, _F]:
    """Chainage span onto which the points ``xy`` (grouped by ``owner``) project on ``kerb_of[owner]``.

    Points farther than ``reach`` (one for all, or one per group) from the kerb are left out; a group
    without a point gets NaN.
    ``guide_of``: per group, the part of its kerb near it (speeds up the search, see :func:`_nearest_on`).

    Returns
    -------
    tuple
        ``(lo, hi, off_lo, off_hi)``: the span per group, and the range of the points' signed offsets
        from the kerb (left of its digitised direction positive).
    """
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    off_lo = np.full(n, np.inf)
    off_hi = np.full(n, -np.inf)
    if len(xy):
        proj = _nearest_on(
            segs,
            xy,
            kerb_of[owner],
            reach[owner] if isinstance(reach, np.ndarray) else reach,
            None if guide_of is None else guide_of[owner],
        )
        group = owner[proj.point]
        np.minimum.at(lo, group, proj.s_m)
        np.maximum.at(hi, group, proj.s_m)
        offset = np.where(segs.left_of(xy, proj), proj.dist_m, -proj.dist_m)
        np.minimum.at(off_lo, group, offset)
        np.maximum.at(off_hi, group, offset)
    bad = ~np.isfinite(lo)
    return (
        np.where(bad, np.nan, lo),
        np.where(bad, np.nan, hi),
        np.where(bad, np.nan, off_lo),
        np.where(bad, np.nan, off_hi),
    )


def _nearest_filter(row: _I, dist: _F, nearest: _B, n: int) -> _B:
    """Pairs kept in nearest mode: no more than :data:`NEAREST_SLACK_M` farther than the row's nearest."""
    best = np.full(n, np.inf)
    np.minimum.at(best, row, dist)
    return np.asarray(~nearest[row] | (dist <= best[row] + NEAREST_SLACK_M))


def _line_places(
    segs: KerbSegments, lines: _O, hazard: _I, snap: _F, nearest: _B, n_kerbs: int, out: _Places
) -> None:
    """Add the places of line hazards ``lines`` (hazard rows ``hazard``) to ``out``."""
    h, k, near = _near_pairs(segs, lines, snap, n_kerbs)
    if len(h) == 0:
        return
    n_pairs = len(h)
    geom = lines[h]
    # Where it crosses or touches the kerb (a stretch on the kerb: its ends).
    inter = shapely.intersection(geom, near)
    parts, pi = shapely.get_parts(inter, return_index=True)
    ends = np.where(shapely.get_type_id(parts) == 0, parts, shapely.boundary(parts))
    pts, pj = shapely.get_parts(ends, return_index=True)
    solid = ~shapely.is_empty(pts)
    pts, cpair = pts[solid], pi[pj[solid]].astype(np.int64)
    crosses = np.bincount(cpair, minlength=n_pairs) > 0
    kept = crosses | _nearest_filter(h, shapely.distance(geom, near), nearest, len(lines))
    # (b) Every connected piece within snap that runs along the kerb covers its projection.
    buffered = shapely.buffer(near, snap[h], quad_segs=BUFFER_QUAD_SEGS)
    pieces, ppair = _lines_of(shapely.intersection(geom, buffered), np.arange(n_pairs))
    along = np.zeros(n_pairs, dtype=bool)
    piece_along = np.zeros(len(pieces), dtype=bool)
    if len(pieces):
        dense = shapely.segmentize(pieces, SAMPLE_STEP_M)
        xy, which = shapely.get_coordinates(dense, return_index=True)
        which = which.astype(np.int64)
        reach = snap[h[ppair]] + 0.01
        lo, hi, off_lo, off_hi = _span(segs, xy, which, k[ppair], reach, len(pieces), near[ppair])
        span = hi - lo
        piece_along = np.isfinite(lo) & (span >= ALONG_MIN_M) & (span >= ALONG_RATIO * (off_hi - off_lo))
        ok = piece_along & kept[ppair]
        along[ppair[ok]] = True
        out.add(hazard[h[ppair[ok]]], -1, k[ppair[ok]], lo[ok], hi[ok], False)
    # (a) Crossings outside the pieces along the kerb: point-like; those closer than CROSSING_GAP_M
    # along the kerb are one place spanning them.
    if len(pts):
        if piece_along.any():
            ci, pc = shapely.STRtree(pieces[piece_along]).query(pts, predicate="dwithin", distance=1e-6)
            on_along = np.zeros(len(pts), dtype=bool)
            on_along[ci[ppair[piece_along][pc] == cpair[ci]]] = True
            pts, cpair = pts[~on_along], cpair[~on_along]
        cross = segs.on_kerb(shapely.get_coordinates(pts).reshape(-1, 2), k[cpair], 1e-4)
        cp, cs = cpair[cross.point], cross.s_m
        order = np.lexsort((cs, cp))
        cp, cs = cp[order], cs[order]
        head = np.ones(len(cp), dtype=bool)
        head[1:] = (cp[1:] != cp[:-1]) | (cs[1:] - cs[:-1] >= CROSSING_GAP_M)
        first = np.flatnonzero(head)
        last = np.r_[first[1:] - 1, len(cp) - 1].astype(np.int64) if len(cp) else first
        out.add(hazard[h[cp[first]]], -1, k[cp[first]], cs[first], cs[last], True)
    # (c) Neither crossing nor along: the projection of its nearest point.
    rest = np.flatnonzero(kept & ~crosses & ~along)
    if len(rest):
        shortest = shapely.shortest_line(geom[rest], near[rest])
        end = shapely.get_coordinates(shortest)[1::2]
        proj = segs.on_kerb(end, k[rest], 1e-4)
        r = rest[proj.point]
        out.add(hazard[h[r]], -1, k[r], proj.s_m, proj.s_m, True)


def _polygon_places(
    segs: KerbSegments, polys: _O, hazard: _I, snap: _F, nearest: _B, n_kerbs: int, out: _Places
) -> None:
    """Add the places of polygon hazards ``polys`` (hazard rows ``hazard``) to ``out``."""
    h, k, near = _near_pairs(segs, polys, snap, n_kerbs)
    if len(h) == 0:
        return
    n_pairs = len(h)
    geom = polys[h]
    kept = _nearest_filter(h, shapely.distance(geom, near), nearest, len(polys))
    # Each connected stretch of kerb inside the polygon.
    inside, ipair = _lines_of(shapely.intersection(near, geom), np.arange(n_pairs))
    has_inside = np.zeros(n_pairs, dtype=bool)
    if len(inside):
        xy, which = shapely.get_coordinates(inside, return_index=True)
        lo, hi, _, _ = _span(segs, xy, which.astype(np.int64), k[ipair], 1e-4, len(inside))
        ok = np.isfinite(lo) & kept[ipair]
        has_inside[ipair] = True
        out.add(hazard[h[ipair[ok]]], -1, k[ipair[ok]], lo[ok], hi[ok], False)
    # Else the span its vertices within snap project onto.
    rest = np.flatnonzero(kept & ~has_inside)
    if len(rest):
        xy, which = shapely.get_coordinates(geom[rest], return_index=True)
        which = which.astype(np.int64)
        lo, hi, _, _ = _span(segs, xy, which, k[rest], snap[h[rest]], len(rest))
        ok = np.isfinite(lo)
        out.add(hazard[h[rest[ok]]], -1, k[rest[ok]], lo[ok], hi[ok], False)


def _defaults(rules: Rules, kind: str) -> KindDefaults:
    """Snap settings of ``kind``; a kind the rules do not know snaps like a new kind (3 m, nearest)."""
    found = rules.kinds.get(kind)
    return found if found is not None else KindDefaults(kind, 3.0, "nearest")


def hazard_places(
    hazards: gpd.GeoDataFrame,
    kerbs: gpd.GeoDataFrame,
    rules: Rules,
    *,
    segments: KerbSegments | None = None,
) -> pd.DataFrame:
    """Find where every hazard is on every kerb (its places; see the module docstring).

    Parameters
    ----------
    hazards
        Hazards in the kerbs' metric CRS: ``kind``, ``hazard_id``, ``width_m`` (NaN: none), optional
        ``match``, geometry (Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon).
    kerbs
        Kerb table (:func:`parkplan.geometry.kerbs.build_kerbs`).
    rules
        Rules: snap distances and match modes per kind.
    segments
        The kerbs' :class:`KerbSegments`, when the caller has them.

    Returns
    -------
    pandas.DataFrame
        One row per place: ``hazard`` (row in ``hazards``; kerb corners ``len(hazards) + i``), ``part``
        (number of the point for point hazards, -1 otherwise), ``kerb``, ``p0_m`` / ``p1_m`` (the place,
        before widths and clearances), ``point_like``, ``kind``, ``hazard_id``, ``width_m`` (the
        feature's), ``x`` / ``y`` (the point, NaN for other hazards).
    """
    segs = segments if segments is not None else KerbSegments(np.asarray(kerbs.geometry.values, dtype=object))
    solid = _Solid.of(segs, len(kerbs))
    n_kerbs, n_haz = len(kerbs), len(hazards)
    kinds = np.array(
        [rules.canonical_kind(str(v)) for v in hazards["kind"].to_numpy(dtype=object)], dtype=object
    )
    uniq_kinds, kind_code = np.unique(kinds.astype(str), return_inverse=True)
    snap_of = np.array([_defaults(rules, str(kd)).snap_m for kd in uniq_kinds], dtype=float)
    all_of = np.array([_defaults(rules, str(kd)).match == "all" for kd in uniq_kinds], dtype=bool)
    snap = snap_of[kind_code]
    match = hazards["match"].to_numpy(dtype=object) if "match" in hazards.columns else np.full(n_haz, None)
    given = np.array([m in ("nearest", "all") for m in match], dtype=bool)
    nearest = np.where(given, match == "nearest", ~all_of[kind_code]).astype(bool)
    geoms = np.asarray(hazards.geometry.values, dtype=object)
    type_id = shapely.get_type_id(geoms)
    out = _Places()
    point_xy = np.zeros((0, 2))
    if len(segs) and n_haz:
        # Points: each part of a MultiPoint is a hazard of its own.
        pts_rows = np.flatnonzero(np.isin(type_id, (0, 4)))
        parts, owner = shapely.get_parts(geoms[pts_rows], return_index=True)
        parts = np.asarray(parts, dtype=object)
        solid_pt = ~shapely.is_empty(parts)
        parts, owner = parts[solid_pt], pts_rows[owner[solid_pt]].astype(np.int64)
        point_xy = shapely.get_coordinates(parts).reshape(-1, 2)
        passes = _point_passes(segs, solid, point_xy, snap[owner])
        pt = passes["point"].to_numpy(dtype=np.int64)
        dist = passes["dist_m"].to_numpy(dtype=float)
        keep = _nearest_filter(pt, dist, nearest[owner], len(parts))
        out.add(
            owner[pt[keep]],
            pt[keep],
            passes["kerb"].to_numpy(dtype=np.int64)[keep],
            passes["s_m"].to_numpy(dtype=float)[keep],
            passes["s_m"].to_numpy(dtype=float)[keep],
            True,
        )
        rows = np.flatnonzero(np.isin(type_id, (1, 5)))
        if len(rows):
            _line_places(segs, geoms[rows], rows.astype(np.int64), snap[rows], nearest[rows], n_kerbs, out)
        rows = np.flatnonzero(np.isin(type_id, (3, 6)))
        if len(rows):
            _polygon_places(segs, geoms[rows], rows.astype(np.int64), snap[rows], nearest[rows], n_kerbs, out)
    # Kerb corners: the corner arc is an intersection's own extent.
    length = kerbs["length_m"].to_numpy(dtype=float)
    c_start = kerbs["corner_start_m"].to_numpy(dtype=float)
    c_end = kerbs["corner_end_m"].to_numpy(dtype=float)
    cs = np.flatnonzero(np.isfinite(c_start))
    ce = np.flatnonzero(np.isfinite(c_end))
    curb_ids = kerbs["curb_id"].astype(str).to_numpy(dtype=object)
    corner_ids = np.concatenate(
        [
            np.array([f"corner:{c}:start" for c in curb_ids[cs]], dtype=object),
            np.array([f"corner:{c}:end" for c in curb_ids[ce]], dtype=object),
        ]
    )
    corner_kerb = np.concatenate([cs, ce]).astype(np.int64)
    out.add(
        n_haz + np.arange(len(corner_kerb)),
        -1,
        corner_kerb,
        np.concatenate([np.zeros(len(cs)), length[ce] - np.minimum(c_end[ce], length[ce])]),
        np.concatenate([np.minimum(c_start[cs], length[cs]), length[ce]]),
        False,
    )
    places = out.frame()
    # Per hazard number (features, then kerb corners): kind, id and the feature's width.
    kind_all = np.concatenate([kinds, np.full(len(corner_kerb), "intersection", dtype=object)])
    ids = (
        hazards["hazard_id"].astype(str).to_numpy(dtype=object)
        if "hazard_id" in hazards.columns
        else np.array([f"hazards#{i}" for i in range(n_haz)], dtype=object)
    )
    widths = (
        pd.to_numeric(hazards["width_m"], errors="coerce").to_numpy(dtype=float)
        if "width_m" in hazards.columns
        else np.full(n_haz, np.nan)
    )
    id_all = np.concatenate([ids, corner_ids])
    width_all = np.concatenate([widths, np.full(len(corner_kerb), np.nan)])
    hz = places["hazard"].to_numpy(dtype=np.int64)
    places["kind"] = kind_all[hz]
    places["hazard_id"] = id_all[hz]
    places["width_m"] = width_all[hz]
    part = places["part"].to_numpy(dtype=np.int64)
    xy = point_xy[part] if len(point_xy) else np.zeros((len(part), 2))
    places["x"] = np.where(part >= 0, xy[:, 0], np.nan)
    places["y"] = np.where(part >= 0, xy[:, 1], np.nan)
    return places


# ------------------------------------------------------------------------------------------ stretches


def _opposite(segs: KerbSegments, solid: _Solid, left: _B, kerb: _I, s_m: _F) -> tuple[_I, _F, _F]:
    """Cast a ray at right angles from chainage ``s_m`` of ``kerb`` towards the carriageway.

    Returns
    -------
    tuple
        ``(kerb, s_m, dist_m)`` of the first point of another kerb the ray meets within
        :data:`OPPOSITE_REACH_M` (kerb -1, NaN where none).
    """
    n = len(kerb)
    hit_k = np.full(n, -1, dtype=np.int64)
    hit_s = np.full(n, np.nan)
    hit_d = np.full(n, np.inf)
    if n == 0:
        return hit_k, hit_s, hit_d
    seg = solid.holding(kerb, s_m)
    a = segs.a[seg]
    u = (segs.b[seg] - a) / segs.length_m[seg][:, None]
    t = np.clip(s_m - segs.s0_m[seg], 0.0, segs.length_m[seg])
    q = a + u * t[:, None]
    sign = np.where(left[kerb], 1.0, -1.0)
    normal = np.stack([-u[:, 1] * sign, u[:, 0] * sign], axis=1)
    rays = shapely.linestrings(np.stack([q, q + normal * OPPOSITE_REACH_M], axis=1))
    ray, other = segs.tree.query(rays, predicate="intersects")
    ray, other = ray.astype(np.int64), other.astype(np.int64)
    ok = (segs.kerb[other] != kerb[ray]) & (segs.length_m[other] > 0.0)
    ray, other = ray[ok], other[ok]
    # q + lam * normal = A + mu * (B - A), solved by cross products.
    oa = segs.a[other]
    od = segs.b[other] - oa
    nr = normal[ray]
    w = oa - q[ray]
    denom = nr[:, 0] * od[:, 1] - nr[:, 1] * od[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = (w[:, 0] * od[:, 1] - w[:, 1] * od[:, 0]) / denom
        mu = (w[:, 0] * nr[:, 1] - w[:, 1] * nr[:, 0]) / denom
    good = (np.abs(denom) > 1e-12) & (lam > 1e-6) & (lam <= OPPOSITE_REACH_M) & (mu >= 0.0) & (mu <= 1.0)
    ray, other, lam, mu = ray[good], other[good], lam[good], mu[good]
    order = np.lexsort((lam, ray))
    first = order[np.r_[True, ray[order][1:] != ray[order][:-1]]] if len(order) else order
    r = ray[first]
    hit_k[r] = segs.kerb[other[first]]
    hit_s[r] = segs.s0_m[other[first]] + mu[first] * segs.length_m[other[first]]
    hit_d[r] = lam[first]
    return hit_k, hit_s, hit_d


def _own_width(rule: Clearance, defaults: KindDefaults) -> float:
    """Width of a point-like place of a feature without ``width_m``, before ``min_width_m``."""
    if rule.default_width_m is not None:
        return float(rule.default_width_m)
    built_in = getattr(defaults, "width_m", None)
    return 0.0 if built_in is None else float(built_in)


def _stretches(
    places: pd.DataFrame, kerbs: gpd.GeoDataFrame, rules: Rules, segs: KerbSegments
) -> tuple[pd.DataFrame, list[Clearance]]:
    """Forbidden stretches, one row per (place, rule, kerb it lands on).

    Returns
    -------
    tuple
        The table (``place``, ``rule``, ``kerb``, ``lo_m`` / ``hi_m`` forbidden and clipped (empty where
        ``hi_m <= lo_m``), ``a_m`` / ``b_m`` / ``mid_m`` the own extent and its middle on that kerb,
        ``low_m`` / ``high_m`` the clearances on its low- and high-chainage sides, ``centre``, ``forward``
        (flow on that kerb), ``across``
        (on the kerb opposite), ``w_m`` the point-like width used, ``same_side`` (the row of a rule that
        applies to the hazard's own side, on that side)) and the flat list of rules ``rule`` points into.
    """
    solid = _Solid.of(segs, len(kerbs))
    kinds = places["kind"].to_numpy(dtype=object)
    names, code = np.unique(kinds, return_inverse=True) if len(kinds) else (np.zeros(0, object), kinds)
    flat: list[Clearance] = []
    first = np.zeros(len(names), dtype=np.int64)
    count = np.zeros(len(names), dtype=np.int64)
    own_w: list[float] = []
    for i, kind in enumerate(names):
        listed = rules.clearance_rules(str(kind)) if str(kind) in rules.kinds else (Clearance(str(kind)),)
        first[i], count[i] = len(flat), len(listed)
        flat += listed
        own_w += [_own_width(c, _defaults(rules, str(kind))) for c in listed]
    code = code.astype(np.int64)
    place, which = ragged_ranges(first[code], first[code] + count[code] - 1) if len(code) else (code, code)
    rid = which
    before = np.array([c.before_m for c in flat], dtype=float)[rid] if flat else np.zeros(0)
    after = np.array([c.after_m for c in flat], dtype=float)[rid] if flat else np.zeros(0)
    min_w = np.array([c.min_width_m for c in flat], dtype=float)[rid] if flat else np.zeros(0)
    default_w = np.array(own_w, dtype=float)[rid] if flat else np.zeros(0)
    centre = np.array([c.anchor == "centre" for c in flat], dtype=bool)[rid] if flat else np.zeros(0, bool)
    applies = np.array([c.applies_to for c in flat], dtype=object)[rid] if flat else np.zeros(0, object)

    kerb = places["kerb"].to_numpy(dtype=np.int64)[place]
    p0 = places["p0_m"].to_numpy(dtype=float)[place]
    p1 = places["p1_m"].to_numpy(dtype=float)[place]
    point_like = places["point_like"].to_numpy(dtype=bool)[place]
    feat_w = places["width_m"].to_numpy(dtype=float)[place]
    w = np.maximum(np.where(np.isfinite(feat_w), feat_w, default_w), min_w)
    w = np.where(point_like, w, 0.0)
    a = p0 - w / 2.0
    b = p1 + w / 2.0
    short = ~point_like & (b - a < min_w)
    mid = (a + b) / 2.0
    a = np.where(short, mid - min_w / 2.0, a)
    b = np.where(short, mid + min_w / 2.0, b)

    length = kerbs["length_m"].to_numpy(dtype=float)
    forward = kerbs["flow"].to_numpy(dtype=object) != "backward"
    left = kerbs["carriageway"].to_numpy(dtype=object) == "left"
    own_only = applies == "opposite"
    far = np.flatnonzero(applies != "same")
    k2, s2, _ = _opposite(
        segs, solid, left, kerb[far], np.clip((a[far] + b[far]) / 2.0, 0.0, length[kerb[far]])
    )
    hit = k2 >= 0
    sel = far[hit]
    half = (b[sel] - a[sel]) / 2.0
    rows = np.concatenate([np.arange(len(place)), sel])
    across = np.r_[np.zeros(len(place), dtype=bool), np.ones(len(sel), dtype=bool)]
    on = np.concatenate([kerb, k2[hit]])
    a_all = np.concatenate([a, s2[hit] - half])
    b_all = np.concatenate([b, s2[hit] + half])
    zero = np.concatenate([own_only, np.zeros(len(sel), dtype=bool)])
    bef = np.where(zero, 0.0, before[rows])
    aft = np.where(zero, 0.0, after[rows])
    fwd = forward[on] if len(on) else np.zeros(0, dtype=bool)
    low = np.where(fwd, bef, aft)
    high = np.where(fwd, aft, bef)
    m = (a_all + b_all) / 2.0
    cen = centre[rows]
    lo = np.where(cen, np.minimum(a_all, m - low), a_all - low)
    hi = np.where(cen, np.maximum(b_all, m + high), b_all + high)
    kl = length[on] if len(on) else np.zeros(0)
    table = pd.DataFrame(
        {
            "place": place[rows],
            "rule": rid[rows],
            "kerb": on,
            "lo_m": np.clip(lo, 0.0, kl),
            "hi_m": np.clip(hi, 0.0, kl),
            "a_m": a_all,
            "b_m": b_all,
            "mid_m": m,
            "low_m": low,
            "high_m": high,
            "centre": cen,
            "forward": fwd,
            "across": across,
            "w_m": w[rows],
            "same_side": np.isin(applies[rows], ("same", "both")) & ~across,
        }
    )
    return table, flat


# ---------------------------------------------------------------------------------------------- tests


def _eligible(at: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``at`` that take part: attached, measured, on the kerb's carriageway side."""
    ok = (at["kerb"].to_numpy(dtype=np.int64) >= 0) & np.isfinite(at["s0_m"].to_numpy(dtype=float))
    ok &= np.isfinite(at["s1_m"].to_numpy(dtype=float))
    if "carriageway_side" in at.columns:
        ok &= at["carriageway_side"].to_numpy(dtype=bool)
    return pd.DataFrame(at[ok])


def _along_pairs(stretches: pd.DataFrame, at: pd.DataFrame) -> tuple[_I, _I, _F]:
    """(stretch row, ``at`` row, overlap) for every bay overlapping a stretch of its kerb by > TOL_M."""
    bk = at["kerb"].to_numpy(dtype=np.int64)
    b0 = at["s0_m"].to_numpy(dtype=float)
    b1 = at["s1_m"].to_numpy(dtype=float)
    sk = stretches["kerb"].to_numpy(dtype=np.int64)
    lo = stretches["lo_m"].to_numpy(dtype=float)
    hi = stretches["hi_m"].to_numpy(dtype=float)
    if len(bk) == 0 or len(sk) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    longest = float(np.max(b1 - b0))
    stride = float(max(np.max(b1), np.max(hi))) + longest + 1000.0
    order = np.lexsort((b0, bk))
    key = bk[order] * stride + b0[order]
    # Bays starting after (lo - longest) and before hi: the only ones that can overlap.
    i0 = np.searchsorted(key, sk * stride + lo + TOL_M - longest, side="left").astype(np.int64)
    i1 = np.searchsorted(key, sk * stride + hi - TOL_M, side="left").astype(np.int64)
    st, pos = ragged_ranges(i0, i1 - 1)
    row = order[pos]
    overlap = np.minimum(b1[row], hi[st]) - np.maximum(b0[row], lo[st])
    ok = (overlap > TOL_M) & (bk[row] == sk[st])
    return st[ok], row[ok].astype(np.int64), overlap[ok]


def _rule_words(rules: Rules, rule: Clearance, kind: str, before: bool) -> str:
    value = rule.before_m if before else rule.after_m
    text = f"{rules.name}: {kind} {'before' if before else 'after'} {value:g} m"
    if rule.anchor == "centre":
        text += " from its centre"
    return text


def _along_violations(
    stretches: pd.DataFrame, flat: list[Clearance], places: pd.DataFrame, at: pd.DataFrame, rules: Rules
) -> pd.DataFrame:
    st, row, overlap = _along_pairs(stretches, at)
    if len(st) == 0:
        return _empty_violations().assign(key=np.zeros(0, dtype=np.int64), excess=np.zeros(0))
    s = stretches.iloc[st]
    b0 = at["s0_m"].to_numpy(dtype=float)[row]
    b1 = at["s1_m"].to_numpy(dtype=float)[row]
    a = s["a_m"].to_numpy(dtype=float)
    b = s["b_m"].to_numpy(dtype=float)
    m = s["mid_m"].to_numpy(dtype=float)
    low = s["low_m"].to_numpy(dtype=float)
    high = s["high_m"].to_numpy(dtype=float)
    centre = s["centre"].to_numpy(dtype=bool)
    lower = (b0 + b1) / 2.0 < m
    measured = np.where(centre, np.where(lower, m - b1, b0 - m), np.where(lower, a - b1, b0 - b))
    required = np.where(
        centre,
        np.where(lower, np.maximum(low, m - a), np.maximum(high, b - m)),
        np.where(lower, low, high),
    )
    place = s["place"].to_numpy(dtype=np.int64)
    kinds = places["kind"].to_numpy(dtype=object)[place]
    hids = places["hazard_id"].to_numpy(dtype=object)[place]
    across = s["across"].to_numpy(dtype=bool)
    forward = s["forward"].to_numpy(dtype=bool)
    rule_ids = s["rule"].to_numpy(dtype=np.int64)
    details = []
    for i in range(len(st)):
        rule = flat[rule_ids[i]]
        where = f"the place opposite {kinds[i]} {hids[i]}" if across[i] else f"{kinds[i]} {hids[i]}"
        if rule.applies_to == "opposite" and not across[i]:
            details.append(
                f"overlaps the own extent ({b[i] - a[i]:.2f} m) of {where} by {overlap[i]:.2f} m along the "
                f"kerb ({rules.name}: {kinds[i]}, clearances on the opposite side only)"
            )
            continue
        before = bool(lower[i]) == bool(forward[i])
        word = "before" if before else "after"
        ref = "the centre of " if centre[i] else ""
        head = (
            f"{measured[i]:.2f} m {word} {ref}{where} along the kerb"
            if measured[i] >= 0.0
            else f"{-measured[i]:.2f} m past the {'centre' if centre[i] else 'near edge'} of {where} "
            f"along the kerb, coming from {word} it"
        )
        details.append(
            f"{head}; the rule asks {required[i]:.2f} m ({_rule_words(rules, rule, str(kinds[i]), before)})"
        )
    return _clearance_rows(
        at["bay"].to_numpy(dtype=np.int64)[row],
        details,
        hids,
        kinds,
        required,
        measured,
        places["hazard"].to_numpy(dtype=np.int64)[place],
        np.maximum(overlap, required - measured),
    )


def _straight_violations(
    stretches: pd.DataFrame,
    flat: list[Clearance],
    places: pd.DataFrame,
    at: pd.DataFrame,
    bays: gpd.GeoDataFrame,
    segs: KerbSegments,
    rules: Rules,
) -> pd.DataFrame:
    """Bays whose kerb extent comes nearer a point hazard in a straight line than its rule allows."""
    place = stretches["place"].to_numpy(dtype=np.int64)
    part = places["part"].to_numpy(dtype=np.int64)[place]
    sel = np.flatnonzero(stretches["same_side"].to_numpy(dtype=bool) & (part >= 0))
    empty = _empty_violations().assign(key=np.zeros(0, dtype=np.int64), excess=np.zeros(0))
    if len(sel) == 0 or len(at) == 0:
        return empty
    rule_ids = stretches["rule"].to_numpy(dtype=np.int64)[sel]
    bef = np.array([flat[r].before_m for r in rule_ids], dtype=float)
    aft = np.array([flat[r].after_m for r in rule_ids], dtype=float)
    half = stretches["w_m"].to_numpy(dtype=float)[sel] / 2.0
    near = np.minimum(bef, aft)
    centre = stretches["centre"].to_numpy(dtype=bool)[sel]
    reach = np.where(centre, np.maximum(half, near), half + near)
    kerb = stretches["kerb"].to_numpy(dtype=np.int64)[sel]
    pts = part[sel]
    # The largest reach per (point, kerb): the passes and rules of one point on one kerb share the point.
    order = np.lexsort((-reach, kerb, pts))
    key = pts[order] * (int(kerb.max()) + 1) + kerb[order]
    best = order[np.r_[True, key[1:] != key[:-1]]]
    best = best[reach[best] > TOL_M]
    if len(best) == 0:
        return empty
    pl = place[sel][best]
    xy = np.stack([places["x"].to_numpy(dtype=float)[pl], places["y"].to_numpy(dtype=float)[pl]], axis=1)
    r_best, k_best = reach[best], kerb[best]
    geoms = np.asarray(bays.geometry.values, dtype=object)[at["bay"].to_numpy(dtype=np.int64)]
    offsets = at["offset_m"].to_numpy(dtype=float) if "offset_m" in at.columns else np.zeros(0)
    slack = float(np.nanmax(offsets, initial=0.0)) + 1.0
    tree = shapely.STRtree(geoms)
    q, row = tree.query(shapely.points(xy), predicate="dwithin", distance=r_best + slack)
    q, row = q.astype(np.int64), row.astype(np.int64)
    ak = at["kerb"].to_numpy(dtype=np.int64)
    ok = ak[row] == k_best[q]
    q, row = q[ok], row[ok]
    if len(q) == 0:
        return empty
    s0 = at["s0_m"].to_numpy(dtype=float)[row]
    s1 = at["s1_m"].to_numpy(dtype=float)[row]
    owner, seg = segs.segments_over(k_best[q], s0, s1)
    length = np.maximum(segs.length_m[seg], 1e-12)
    t_lo = np.clip((s0[owner] - segs.s0_m[seg]) / length, 0.0, 1.0)
    t_hi = np.clip((s1[owner] - segs.s0_m[seg]) / length, 0.0, 1.0)
    p = xy[q[owner]]
    sa = segs.a[seg]
    sd = segs.b[seg] - sa
    t = ((p[:, 0] - sa[:, 0]) * sd[:, 0] + (p[:, 1] - sa[:, 1]) * sd[:, 1]) / (length * length)
    t = np.clip(t, t_lo, t_hi)
    dist = np.hypot(sa[:, 0] + t * sd[:, 0] - p[:, 0], sa[:, 1] + t * sd[:, 1] - p[:, 1])
    measured = np.full(len(q), np.inf)
    np.minimum.at(measured, owner, dist)
    required = r_best[q]
    bad = measured < required - TOL_M
    q, row, measured, required = q[bad], row[bad], measured[bad], required[bad]
    pl_q = pl[q]
    kinds = places["kind"].to_numpy(dtype=object)[pl_q]
    hids = places["hazard_id"].to_numpy(dtype=object)[pl_q]
    which = best[q]
    details = [
        f"{measured[i]:.2f} m from {kinds[i]} {hids[i]} in a straight line; "
        f"the rule asks {required[i]:.2f} m "
        f"({rules.name}: {kinds[i]}, "
        + (
            f"the larger of half its width {half[which[i]]:g} m and the smaller clearance "
            f"{near[which[i]]:g} m"
            if centre[which[i]]
            else f"half its width {half[which[i]]:g} m + the smaller clearance {near[which[i]]:g} m"
        )
        + ")"
        for i in range(len(q))
    ]
    return _clearance_rows(
        at["bay"].to_numpy(dtype=np.int64)[row],
        details,
        hids,
        kinds,
        required,
        measured,
        places["hazard"].to_numpy(dtype=np.int64)[pl_q],
        required - measured,
    )


def tagged_no_parking(at: pd.DataFrame, kerbs: gpd.GeoDataFrame) -> pd.DataFrame:
    """Bays on a kerb side whose OpenStreetMap tags forbid parking (OSM existing mode).

    The kerb table says what the tags say about its side in either of two ways:

    * ``parking_reason`` (and optionally ``parking_allowed``): the deciding tag of the kerb's side as
      ``key=value``, as :func:`parkplan.from_osm` gives it per way side (``reason_<side>``);
    * ``side`` (which side of its way the kerb is on, :func:`parkplan.geometry.kerbs.attach_ways`) with the
    way's
      ``reason_left`` / ``reason_right`` (or ``parking_tag_left`` / ``parking_tag_right``) columns.

    A side is *tagged no parking* when the deciding tag's value is one of :data:`NO_PARKING_VALUES`
    (``no``, ``no_parking``, ``no_stopping``, ``no_standing``, ``fire_lane``: ``parking:<side>=no``,
    ``parking:<side>:restriction=no_stopping``, ``parking:condition:<side>=no_parking``,
    ``parking:lane:<side>=no_stopping``, ...) and ``parking_allowed`` (where given) is not true. An
    untagged side, a value parkplan does not know and ``separate`` (the parking is mapped as its own
    feature) are not: existing mode keeps bays off them too, but the tags do not say "no parking" there.
    Without these columns there is nothing to check and no row is returned.

    Parameters
    ----------
    at
        Bays on kerbs (:func:`parkplan.check.attach.attach_bays`).
    kerbs
        Kerb table, possibly with the columns above.

    Returns
    -------
    pandas.DataFrame
        Violations (``check = "tagged_no_parking"``) with the columns of :data:`VIOLATION_COLUMNS`;
        ``hazard_id`` is the kerb's ``source_id`` (the way), ``kind`` the deciding tag.
    """
    n = len(kerbs)
    reason: NDArray[np.object_] | None = None
    if "parking_reason" in kerbs.columns:
        reason = kerbs["parking_reason"].to_numpy(dtype=object)
    elif "side" in kerbs.columns:
        for prefix in ("parking_tag_", "reason_"):
            if f"{prefix}left" in kerbs.columns and f"{prefix}right" in kerbs.columns:
                side = kerbs["side"].to_numpy(dtype=object)
                reason = np.where(
                    side == "left",
                    kerbs[f"{prefix}left"].to_numpy(dtype=object),
                    np.where(side == "right", kerbs[f"{prefix}right"].to_numpy(dtype=object), None),
                )
                break
    if reason is None or n == 0 or len(at) == 0:
        return _empty_violations()
    forbids = np.array([_forbidding_tag(r) for r in reason], dtype=bool)
    if "parking_allowed" in kerbs.columns:
        allowed = kerbs["parking_allowed"].to_numpy(dtype=object)
        forbids &= np.array([a is not True and a is not np.True_ for a in allowed], dtype=bool)
    ak = at["kerb"].to_numpy(dtype=np.int64)
    rows = np.flatnonzero((ak >= 0) & forbids[np.maximum(ak, 0)])
    if len(rows) == 0:
        return _empty_violations()
    k = ak[rows]
    ids = kerbs["source_id"].astype(str).to_numpy(dtype=object) if "source_id" in kerbs.columns else None
    curb = kerbs["curb_id"].astype(str).to_numpy(dtype=object)
    way = ids[k] if ids is not None else curb[k]
    return pd.DataFrame(
        {
            "bay": at["bay"].to_numpy(dtype=np.int64)[rows],
            "check": "tagged_no_parking",
            "detail": np.array(
                [
                    f"on kerb {c}, a side of {w} tagged {r} (no parking)"
                    for c, w, r in zip(curb[k], way, reason[k], strict=True)
                ],
                dtype=object,
            ),
            "hazard_id": way,
            "kind": reason[k],
            "required_m": np.nan,
            "measured_m": np.nan,
        }
    )


def _forbidding_tag(reason: object) -> bool:
    """Whether an OSM reason / deciding tag ``key=value`` says parking is forbidden there."""
    if not isinstance(reason, str) or "=" not in reason:
        return False
    return reason.rsplit("=", 1)[1].strip() in NO_PARKING_VALUES


def _retag(found: pd.DataFrame, hazards: gpd.GeoDataFrame) -> None:
    """Make violations of hazards whose ``reason`` is a tag forbidding parking ``tagged_no_parking``."""
    if "reason" not in hazards.columns or len(found) == 0:
        return
    key = found["key"].to_numpy(dtype=np.int64)
    reasons = hazards["reason"].to_numpy(dtype=object)
    of_feature = key < len(reasons)
    reason = np.where(of_feature, reasons[np.where(of_feature, key, 0)], None)
    tagged = np.array([_forbidding_tag(r) for r in reason], dtype=bool)
    if not tagged.any():
        return
    detail = found["detail"].to_numpy(dtype=object).copy()
    detail[tagged] = [
        f"on a kerb side tagged {r} ({h}): {d}"
        for r, h, d in zip(
            reason[tagged], found["hazard_id"].to_numpy(dtype=object)[tagged], detail[tagged], strict=True
        )
    ]
    found["detail"] = detail
    found["check"] = np.where(tagged, "tagged_no_parking", found["check"].to_numpy(dtype=object))


def clearance_violations(
    bays: gpd.GeoDataFrame,
    at: pd.DataFrame,
    kerbs: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame | None,
    rules: Rules,
    *,
    segments: KerbSegments | None = None,
) -> pd.DataFrame:
    """Find the bays too near a hazard (``clearance``) or on a side tagged no parking (``tagged_no_parking``).

    Measured on its own as the module docstring says (the contract of docs' *What a legal bay is*).

    Parameters
    ----------
    bays
        Bay polygons in the kerbs' metric CRS.
    at
        Where each bay stands (:func:`parkplan.check.attach.attach_bays`): ``bay``, ``kerb``, ``s0_m``,
        ``s1_m``, ``offset_m``, ``carriageway_side``.
    kerbs
        Kerb table (:func:`parkplan.geometry.kerbs.build_kerbs`), possibly with OSM parking tags
        (:func:`tagged_no_parking`).
    hazards
        Hazards in the same CRS: ``kind``, ``hazard_id``, ``width_m`` (NaN: none), optional ``match`` and
        ``reason`` (OSM existing mode); ``None``: none.
    rules
        The rules the layout is checked against.
    segments
        The kerbs' :class:`KerbSegments`, when the caller has them.

    Returns
    -------
    pandas.DataFrame
        One row per (bay, hazard), the worst where a bay breaks several rules of one hazard; ``check`` is
        ``tagged_no_parking`` where the hazard's ``reason`` is an OSM tag forbidding parking (see the module
        docstring), else ``clearance``; plus the ``tagged_no_parking`` rows of :func:`tagged_no_parking`:
        ``bay`` (row position in ``bays``), ``check``, ``detail`` (one sentence: hazard, rule, required and
        measured), ``hazard_id``, ``kind``, ``required_m``, ``measured_m`` (along the kerb from the
        hazard's own extent, or its centre for ``anchor = "centre"``, to the bay, negative where they
        overlap; or in a straight line from the point), sorted by bay.
    """
    segs = segments if segments is not None else KerbSegments(np.asarray(kerbs.geometry.values, dtype=object))
    tagged = tagged_no_parking(at, kerbs)
    use = _eligible(at).reset_index(drop=True)
    hz = (
        hazards
        if hazards is not None
        else gpd.GeoDataFrame({"kind": [], "hazard_id": [], "width_m": []}, geometry=[], crs=kerbs.crs)
    )
    places = hazard_places(hz, kerbs, rules, segments=segs)
    stretches, flat = _stretches(places, kerbs, rules, segs)
    live = stretches[stretches["hi_m"] > stretches["lo_m"]].reset_index(drop=True)
    found = pd.concat(
        [
            _along_violations(live, flat, places, use, rules),
            _straight_violations(stretches, flat, places, use, bays, segs, rules),
        ],
        ignore_index=True,
    )
    if len(found):
        found = found.sort_values(["bay", "key", "excess"], ascending=[True, True, False], kind="stable")
        found = found.drop_duplicates(["bay", "key"]).reset_index(drop=True)
        _retag(found, hz)
    found = found.drop(columns=["key", "excess"])
    out = pd.concat([found, tagged], ignore_index=True) if len(tagged) else found
    out = out.sort_values("bay", kind="stable").reset_index(drop=True)
    return out[VIOLATION_COLUMNS]
