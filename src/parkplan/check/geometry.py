"""The checker's own measuring tools: kerb segments, a spatial index over them, point projection.

Everything here is independent of the planner's geometry code (:mod:`parkplan.layout`,
:mod:`parkplan.hazards`, :mod:`parkplan.geometry.carriageway`): a point is projected onto the *segment* a
spatial
index finds for it, so a projection costs O(log n) whatever the length of the kerb, and chainage is the
segment's start chainage plus the distance along it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = ["KerbSegments", "Projection", "ragged_ranges"]


@dataclass(frozen=True)
class Projection:
    """Points projected onto kerb segments (one row per point-segment pair).

    Attributes
    ----------
    point
        Row of the point in the array that was projected.
    seg
        Segment index in :class:`KerbSegments`.
    kerb
        Kerb (row position in the kerb table) the segment belongs to.
    s_m
        Chainage of the foot of the perpendicular (the nearest point of the segment) on that kerb.
    dist_m
        Distance from the point to the segment.
    t
        Position of the foot along the segment, 0 (start) to 1 (end).
    """

    point: NDArray[np.int64]
    seg: NDArray[np.int64]
    kerb: NDArray[np.int64]
    s_m: NDArray[np.float64]
    dist_m: NDArray[np.float64]
    t: NDArray[np.float64]

    def take(self, rows: NDArray[np.int64] | NDArray[np.bool_]) -> Projection:
        """Return the pairs at ``rows`` (indices or a mask)."""
        return Projection(
            self.point[rows], self.seg[rows], self.kerb[rows], self.s_m[rows], self.dist_m[rows], self.t[rows]
        )


def ragged_ranges(
    lo: NDArray[np.int64], hi: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Flatten the integer ranges ``[lo[i], hi[i]]`` (inclusive; empty where ``hi < lo``).

    Returns
    -------
    tuple
        ``(owner, value)``: for every integer of every range, the range it came from and the integer.
    """
    counts = np.maximum(hi - lo + 1, 0)
    owner = np.repeat(np.arange(len(lo), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    value = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts) + np.repeat(lo, counts)
    return owner, value


class KerbSegments:
    """Every segment of every kerb, with its chainage and an STRtree over the segments.

    Parameters
    ----------
    lines
        Kerb LineStrings (one per kerb, in kerb-table order), metric CRS.

    Attributes
    ----------
    a, b
        ``(n, 2)`` start and end of each segment.
    kerb
        Kerb of each segment.
    s0_m
        Chainage of each segment's start on its kerb.
    length_m
        Segment lengths (0 for repeated vertices).
    first, last
        Per kerb, its first and last segment index (``last < first`` for a kerb with no segment).
    kerb_length_m
        Length of each kerb.
    closed
        Per kerb: its first and last vertex coincide.
    tree
        ``shapely.STRtree`` over the segments.
    """

    def __init__(self, lines: NDArray[np.object_]) -> None:
        lines = np.asarray(lines, dtype=object)
        coords, owner = shapely.get_coordinates(lines, return_index=True)
        owner = owner.astype(np.int64)
        same = owner[1:] == owner[:-1]
        start = np.flatnonzero(same)
        self.a: NDArray[np.float64] = coords[start]
        self.b: NDArray[np.float64] = coords[start + 1]
        self.kerb: NDArray[np.int64] = owner[start]
        d = self.b - self.a
        self.length_m: NDArray[np.float64] = np.hypot(d[:, 0], d[:, 1])
        cum = np.cumsum(self.length_m)
        n_kerbs = len(lines)
        counts = np.bincount(self.kerb, minlength=n_kerbs).astype(np.int64)
        self.first: NDArray[np.int64] = np.cumsum(counts) - counts
        self.last: NDArray[np.int64] = self.first + counts - 1
        # Chainage of each segment's start: the running sum less the kerb's running sum before it.
        before = np.where(self.first > 0, cum[np.maximum(self.first - 1, 0)], 0.0)
        before = np.where(counts > 0, before, 0.0)
        self.s0_m: NDArray[np.float64] = cum - self.length_m - before[self.kerb]
        self.kerb_length_m: NDArray[np.float64] = np.bincount(
            self.kerb, weights=self.length_m, minlength=n_kerbs
        ).astype(np.float64)
        has = counts > 0
        self.closed: NDArray[np.bool_] = np.zeros(n_kerbs, dtype=bool)
        fl = self.first[has]
        ll = self.last[has]
        self.closed[has] = np.all(self.a[fl] == self.b[ll], axis=1)
        self.tree = shapely.STRtree(shapely.linestrings(np.stack([self.a, self.b], axis=1)))

    def __len__(self) -> int:
        """Return the number of segments."""
        return len(self.kerb)

    def project(
        self, xy: NDArray[np.float64], seg: NDArray[np.int64], point: NDArray[np.int64]
    ) -> Projection:
        """Project points ``xy[point]`` onto the segments ``seg`` (pairwise).

        Parameters
        ----------
        xy
            ``(m, 2)`` point coordinates.
        seg
            Segment index per pair.
        point
            Row of ``xy`` per pair.
        """
        p = xy[point]
        a = self.a[seg]
        d = self.b[seg] - a
        ll = self.length_m[seg]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = ((p[:, 0] - a[:, 0]) * d[:, 0] + (p[:, 1] - a[:, 1]) * d[:, 1]) / (ll * ll)
        t = np.clip(np.where(ll > 0, t, 0.0), 0.0, 1.0)
        fx = a[:, 0] + t * d[:, 0] - p[:, 0]
        fy = a[:, 1] + t * d[:, 1] - p[:, 1]
        return Projection(
            point.astype(np.int64),
            seg.astype(np.int64),
            self.kerb[seg],
            self.s0_m[seg] + t * ll,
            np.hypot(fx, fy),
            t,
        )

    def near(self, xy: NDArray[np.float64], distance_m: float | NDArray[np.float64]) -> Projection:
        """Every (point, segment) pair closer than ``distance_m``, with the projection.

        Parameters
        ----------
        xy
            ``(m, 2)`` points.
        distance_m
            Search radius, one for all or one per point.
        """
        if len(xy) == 0 or len(self) == 0:
            empty_i = np.zeros(0, dtype=np.int64)
            empty_f = np.zeros(0, dtype=np.float64)
            return Projection(empty_i, empty_i, empty_i, empty_f, empty_f, empty_f)
        pts = shapely.points(xy)
        point, seg = self.tree.query(pts, predicate="dwithin", distance=distance_m)
        proj = self.project(xy, seg, point)
        limit = np.broadcast_to(np.asarray(distance_m, dtype=float), (len(xy),))[proj.point]
        return proj.take(proj.dist_m <= limit)

    def nearest_per(self, proj: Projection, key: NDArray[np.int64]) -> NDArray[np.int64]:
        """Rows of ``proj`` that are the nearest of their group (groups by ``key``), one per group.

        Ties go to the lower chainage, so the result does not depend on the index's order.
        """
        if len(key) == 0:
            return np.zeros(0, dtype=np.int64)
        order = np.lexsort((proj.s_m, proj.dist_m, key))
        k = key[order]
        first = np.ones(len(k), dtype=bool)
        first[1:] = k[1:] != k[:-1]
        return order[first]

    def on_kerb(
        self, xy: NDArray[np.float64], kerb: NDArray[np.int64], distance_m: float | NDArray[np.float64]
    ) -> Projection:
        """Find the nearest point of kerb ``kerb[i]`` to each point ``xy[i]``, within ``distance_m``.

        Returns one pair per point that has its kerb within reach (points without are left out).
        """
        proj = self.near(xy, distance_m)
        proj = proj.take(proj.kerb == kerb[proj.point])
        return proj.take(self.nearest_per(proj, proj.point))

    def segments_over(
        self, kerb: NDArray[np.int64], lo_m: NDArray[np.float64], hi_m: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """List the segments of ``kerb[i]`` that overlap the chainage range ``[lo_m[i], hi_m[i]]``.

        Returns
        -------
        tuple
            ``(owner, seg)``: row ``i`` of the query and a segment, for every such segment.
        """
        # Segments of one kerb are contiguous and sorted by s0_m: search within each kerb's block.
        big = float(self.kerb_length_m.max(initial=0.0)) + 10.0
        glob = self.s0_m + self.kerb * big
        lo_seg = np.searchsorted(glob, kerb * big + lo_m, side="right").astype(np.int64) - 1
        hi_seg = np.searchsorted(glob, kerb * big + hi_m, side="right").astype(np.int64) - 1
        lo_seg = np.clip(lo_seg, self.first[kerb], self.last[kerb])
        hi_seg = np.clip(hi_seg, self.first[kerb], self.last[kerb])
        return ragged_ranges(lo_seg, hi_seg)

    def left_of(self, xy: NDArray[np.float64], proj: Projection) -> NDArray[np.bool_]:
        """Whether each projected point lies left of its kerb (looking along the digitised direction).

        Decided on the segment the point was projected onto; where the foot is a vertex shared with the
        neighbouring segment of the same kerb, on the mean direction of the two segments (the region a
        vertex is nearest lies wholly on one side of that direction).
        """
        seg = proj.seg
        d = self.b[seg] - self.a[seg]
        n = np.maximum(self.length_m[seg], 1e-12)
        u = d / n[:, None]
        # Neighbouring segment at a vertex foot (same kerb only).
        at_end = (proj.t >= 1.0) & (seg < self.last[proj.kerb])
        at_start = (proj.t <= 0.0) & (seg > self.first[proj.kerb])
        other = np.where(at_end, seg + 1, np.where(at_start, seg - 1, seg))
        od = self.b[other] - self.a[other]
        on = np.maximum(self.length_m[other], 1e-12)
        u = u + np.where((at_end | at_start)[:, None], od / on[:, None], 0.0)
        foot = self.a[seg] + d * proj.t[:, None]
        p = xy[proj.point] - foot
        return np.asarray(u[:, 0] * p[:, 1] - u[:, 1] * p[:, 0] > 0.0)

    def at_chainage(
        self, kerb: NDArray[np.int64], s_m: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Locate chainage ``s_m[i]`` on kerb ``kerb[i]`` (clamped to the kerb).

        Returns
        -------
        tuple
            ``(xy, direction)``: the point and the unit direction of the segment it lies on.
        """
        if len(kerb) == 0:
            return np.zeros((0, 2)), np.zeros((0, 2))
        big = float(self.kerb_length_m.max(initial=0.0)) + 10.0
        glob = self.s0_m + self.kerb * big
        seg = np.searchsorted(glob, kerb * big + s_m, side="right").astype(np.int64) - 1
        seg = np.clip(seg, self.first[kerb], self.last[kerb])
        ll = self.length_m[seg]
        t = np.clip(np.where(ll > 0, (s_m - self.s0_m[seg]) / np.where(ll > 0, ll, 1.0), 0.0), 0.0, 1.0)
        d = self.b[seg] - self.a[seg]
        xy = self.a[seg] + d * t[:, None]
        u = d / np.where(ll > 0, ll, 1.0)[:, None]
        return xy, u
