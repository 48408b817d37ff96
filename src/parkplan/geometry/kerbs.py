"""Kerbs: the lines bays stand along, with their carriageway side and direction of traffic.

Two inputs become one kerb table:

* kerb LineStrings (MultiLineStrings are split into their parts), used as digitised, except that lines
  which are one kerb drawn as several ways are joined into one (:func:`merge_kerb_lines`): where exactly
  two line ends meet (within 1 cm, no third kerb there) and the two lines agree on side, carriageway
  side, flow and the street attributes (``street_id``, ``width_m``, ``oneway``, ``orientation``,
  ``demand_weight``, ``loading_demand``). A line digitised the other way round joins too when its side
  and flow are the turned ones (end meets end, traffic against it: the same kerb), and is reversed. The
  joined kerb keeps the row and direction of its first line in input order; its ``curb_id`` is the
  lines' ids joined with ``"+"`` along the kerb (``"a+b"``), and so are the bays' ``curb_id``. The
  angle at the junction does not matter: the joined kerb is what one line drawn through it would be;
* street-area (carriageway) Polygons, whose boundary rings are kerbs. Each ring is walked with the
  carriageway on its left (exterior counter-clockwise, holes clockwise) and split where it turns a
  corner; both ends of such a piece are kerb corners, which later anchor the ``intersection`` clearance.

Chainage along a kerb runs from 0 at its first vertex to ``length_m`` at its last, in metres of the
working (metric) CRS.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkplan._arrays import rows, scaled, set_rows
from parkplan.geometry.chainage import ChainageIndex
from parkplan.io.read import text_column
from parkplan.rules.loading import Rules

__all__ = [
    "CornerSettings",
    "KerbIndex",
    "KerbSegments",
    "attach_ways",
    "build_kerbs",
    "lines_from_points",
    "merge_kerb_lines",
    "polygons_from_rings",
    "ring_corners",
    "side_of",
]

KERB_COLUMNS = [
    "curb_id",
    "input_index",
    "source_id",
    "street_id",
    "side",
    "carriageway",
    "flow",
    "width_m",
    "oneway",
    "orientation",
    "demand_weight",
    "loading_demand",
    "corner_start_m",
    "corner_end_m",
    "length_m",
]


@dataclass(frozen=True)
class CornerSettings:
    """How street-area rings are split into kerbs at corners.

    Parameters
    ----------
    window_m
        Length of kerb (metres) over which turning is summed.
    angle_deg
        Turning (degrees) within one window that makes a corner. 45 degrees in 25 m catches a square
        corner rounded with a radius up to about 30 m, and ignores the bends of a street curving on a
        radius above about 32 m and the in-and-out turns of a kerb extension shorter than the window
        (they cancel inside it).
    arc_turn_deg, arc_radius_m
        A vertex next to a corner belongs to the corner's arc (forbidden as the corner's own extent)
        while it turns at least ``arc_turn_deg`` on a local radius of at most ``arc_radius_m``.
    """

    window_m: float = 25.0
    angle_deg: float = 45.0
    arc_turn_deg: float = 2.0
    arc_radius_m: float = 30.0


def polygons_from_rings(coords: NDArray[np.float64], counts: NDArray[np.int64]) -> NDArray[np.object_]:
    """One Polygon per closed ring: ``coords`` holds the rings one after another, ``counts`` their sizes.

    Through :func:`shapely.from_ragged_array`, about twice as fast as ``polygons(linearrings(...))``.
    """
    ring_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    geom_offsets = np.arange(len(counts) + 1, dtype=np.int64)
    return np.asarray(
        shapely.from_ragged_array(shapely.GeometryType.POLYGON, coords, (ring_offsets, geom_offsets)),
        dtype=object,
    )


def lines_from_points(coords: NDArray[np.float64], counts: NDArray[np.int64]) -> NDArray[np.object_]:
    """One LineString per run of ``counts`` consecutive points of ``coords`` (each at least 2)."""
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return np.asarray(
        shapely.from_ragged_array(shapely.GeometryType.LINESTRING, coords, (offsets,)), dtype=object
    )


def _dedupe(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    """Drop consecutive repeated points (and the closing point of a ring)."""
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(np.abs(np.diff(coords, axis=0)) > 1e-9, axis=1)
    out = coords[keep]
    if len(out) > 1 and np.allclose(out[0], out[-1], atol=1e-9):
        out = out[:-1]
    return out


def ring_corners(
    coords: NDArray[np.float64], settings: CornerSettings
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Find the corner vertices of a closed ring and the curved arc around each.

    Parameters
    ----------
    coords
        Ring vertices, ``(n, 2)``, without the closing repeat and without consecutive duplicates.
    settings
        Window and angle thresholds.

    Returns
    -------
    tuple of numpy.ndarray
        Sorted indices of corner vertices (vertices whose windowed turning reaches the threshold and is
        the largest within half a window either side), and for each corner the first
        and last vertex of the arc it lies on: the run of vertices around it that each turn at least
        ``arc_turn_deg`` with a local radius of at most ``arc_radius_m`` (the corner vertex alone for a
        sharp corner).
    """
    empty = np.zeros(0, dtype=np.int64)
    n = len(coords)
    if n < 3:
        return empty, empty, empty
    seg = np.roll(coords, -1, axis=0) - coords  # seg[i] runs from vertex i to vertex i+1
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    heading = np.arctan2(seg[:, 1], seg[:, 0])
    turn = np.angle(np.exp(1j * (heading - np.roll(heading, 1))))  # turn at vertex i, in (-pi, pi]
    chain = np.concatenate([[0.0], np.cumsum(seg_len)])  # chainage of vertex i (chain[n] = perimeter)
    perimeter = chain[-1]
    half = min(settings.window_m / 2.0, perimeter / 2.0)
    # Tripled arrays let the window wrap around the ring's start.
    ext_chain = np.concatenate([chain[:-1] - perimeter, chain[:-1], chain[:-1] + perimeter])
    ext_cum = np.concatenate([[0.0], np.cumsum(np.tile(turn, 3))])
    lo = np.searchsorted(ext_chain, chain[:-1] - half, side="left")
    hi = np.searchsorted(ext_chain, chain[:-1] + half, side="right")
    windowed = np.abs(ext_cum[hi] - ext_cum[lo])
    hot = windowed >= np.radians(settings.angle_deg)
    if not hot.any():
        return empty, empty, empty
    # Among equal windowed turnings (a sharp corner seen from each vertex of its straight neighbours),
    # the vertex that turns itself wins: a negligible bonus for the local turn breaks the tie.
    score = windowed + 1e-6 * np.abs(turn)
    corners = _window_peaks(score, hot, ext_chain, chain[:-1], half, lo, hi)
    # Arcs: vertices that turn noticeably on a tight radius.
    local_len = (seg_len + np.roll(seg_len, 1)) / 2.0
    with np.errstate(divide="ignore"):
        radius = local_len / np.abs(turn)
    curved = (np.abs(turn) >= np.radians(settings.arc_turn_deg)) & (radius <= settings.arc_radius_m)
    curved[corners] = True
    arc_lo = corners.copy()
    arc_hi = corners.copy()
    if not curved.all():
        # Label runs of curved vertices on a ring rotated to start on a straight vertex.
        start = int(np.flatnonzero(~curved)[0])
        order = (np.arange(n) + start) % n
        c = curved[order]
        run_id = np.cumsum(np.concatenate([[c[0]], c[1:] & ~c[:-1]])) * c
        pos = np.empty(n, dtype=np.int64)
        pos[order] = np.arange(n)
        ids = run_id[pos[corners]]
        first = np.full(int(run_id.max()) + 1, n, dtype=np.int64)
        last = np.full(int(run_id.max()) + 1, -1, dtype=np.int64)
        np.minimum.at(first, run_id, np.arange(n))
        np.maximum.at(last, run_id, np.arange(n))
        arc_lo = order[first[ids]]
        arc_hi = order[last[ids]]
    order_c = np.argsort(corners)
    return (
        corners[order_c].astype(np.int64),
        arc_lo[order_c].astype(np.int64),
        arc_hi[order_c].astype(np.int64),
    )


def _window_peaks(
    score: NDArray[np.float64],
    hot: NDArray[np.bool_],
    ext_chain: NDArray[np.float64],
    chain: NDArray[np.float64],
    half: float,
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Hot vertices whose score is the largest within half a window either side (first of equals).

    ``lo`` / ``hi`` index the window of every vertex in the tripled arrays (``ext_chain``), so windows
    wrap round the ring's start.
    """
    n = len(score)
    ext_score = np.tile(score, 3)
    # Largest score in [lo, hi) for every vertex, by reduceat over interleaved window bounds.
    bounds = np.ravel(np.column_stack([lo, hi]))
    safe = np.append(ext_score, -np.inf)
    window_max = np.maximum.reduceat(safe, np.minimum(bounds, len(ext_score)))[::2]
    peak = hot & (score >= window_max)
    # Plateaus: of equal peaks closer than half a window, keep the first along the ring.
    idx = np.flatnonzero(peak)
    if len(idx) > 1:
        gap = np.diff(np.concatenate([chain[idx], [chain[idx[0]] + ext_chain[2 * n] - ext_chain[n]]]))
        close_to_next = gap < half
        drop = np.roll(close_to_next, 1)  # the one after a close predecessor goes
        if drop.all():
            drop[0] = False
        idx = idx[~drop]
    return np.sort(idx.astype(np.int64))


def _rings(polygon_parts: NDArray[np.object_]) -> tuple[list[NDArray[np.float64]], list[int], list[int]]:
    """Rings of polygons walked with the polygon (carriageway) on the left.

    Returns the ring coordinates, the polygon-part number and the ring number within it.
    """
    oriented = shapely.orient_polygons(polygon_parts, exterior_cw=False)
    rings: list[NDArray[np.float64]] = []
    part_of: list[int] = []
    ring_no: list[int] = []
    for p, poly in enumerate(oriented):
        for r, ring in enumerate([poly.exterior, *poly.interiors]):
            rings.append(_dedupe(shapely.get_coordinates(ring)))
            part_of.append(p)
            ring_no.append(r)
    return rings, part_of, ring_no


def _split_ring(
    corners: NDArray[np.int64], cut: NDArray[np.bool_]
) -> list[tuple[NDArray[np.int64], bool, bool]]:
    """Split a ring of ``len(cut)`` vertices at its corners, leaving out where the data was cut.

    ``cut[i]`` is true when the segment from vertex i to vertex i+1 lies outside the data extent.
    Returns pieces as ``(vertex indices, starts_at_corner, ends_at_corner)``.
    """
    n = len(cut)
    if not cut.any():
        if len(corners) == 0:
            return [(np.concatenate([np.arange(n), [0]]), False, False)]
        pieces = []
        for k, a in enumerate(corners):
            b = corners[(k + 1) % len(corners)]
            idx = np.arange(a, b + 1) if b > a else np.concatenate([np.arange(a, n), np.arange(0, b + 1)])
            pieces.append((idx, True, True))
        return pieces
    if cut.all():
        return []
    # Rotate so vertex 0 ends a cut segment; then every run of kept segments is an open polyline.
    start = int(np.flatnonzero(cut)[-1]) + 1
    order = (np.arange(n + 1) + start) % n  # vertices start .. start+n (wrapping)
    seg_cut = cut[order[:-1]]
    is_corner = np.zeros(n, dtype=bool)
    is_corner[corners] = True
    pieces = []
    edges = np.diff(np.concatenate([[0], (~seg_cut).astype(np.int8), [0]]))
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        verts = order[a : b + 1]  # segments a..b-1 -> vertices a..b
        inner = np.flatnonzero(is_corner[verts[1:-1]]) + 1
        bounds = np.concatenate([[0], inner, [len(verts) - 1]])
        for j in range(len(bounds) - 1):
            lo, hi = int(bounds[j]), int(bounds[j + 1])
            pieces.append((verts[lo : hi + 1], j > 0, j < len(bounds) - 2))
    return pieces


def _arc_lengths(
    coords: NDArray[np.float64],
    verts: NDArray[np.int64],
    arc_lo: dict[int, int],
    arc_hi: dict[int, int],
    at_start: bool,
    at_end: bool,
) -> tuple[float, float]:
    """Length of the corner arcs at the two ends of a piece (NaN where an end is no corner)."""
    pts = coords[verts]
    chain = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
    start_m = end_m = float("nan")
    if at_start:
        hit = np.flatnonzero(verts == arc_hi[int(verts[0])])
        start_m = float(chain[hit[0]]) if len(hit) else 0.0
    if at_end:
        hit = np.flatnonzero(verts == arc_lo[int(verts[-1])])
        end_m = float(chain[-1] - chain[hit[-1]]) if len(hit) else 0.0
    return start_m, end_m


def _cut_segments(coords: NDArray[np.float64], inner_extent: object) -> NDArray[np.bool_]:
    """Flag the segments of a ring outside the data extent or on its edge.

    A segment is out when its midpoint is not inside the extent shrunk by 5 cm.
    """
    mid = (coords + np.roll(coords, -1, axis=0)) / 2.0
    return ~np.asarray(shapely.contains_xy(inner_extent, mid[:, 0], mid[:, 1]))


def _source_ids(gdf: pd.DataFrame) -> list[str]:
    """Choose the kerb ids.

    ``curb_id`` (checked unique on reading), else ``osm_id`` or ``id`` when those are unique, else the
    row number. Missing values fall back to the row number.
    """
    for col in ("curb_id", "osm_id", "id"):
        if col in gdf.columns:
            ids = [str(v) if pd.notna(v) else str(i) for i, v in enumerate(gdf[col])]
            if len(set(ids)) == len(ids):
                return ids
    return [str(i) for i in range(len(gdf))]


class KerbIndex:
    """Vertex arrays of all kerbs, for vectorised interpolation and offsets along them.

    Parameters
    ----------
    geometries
        Kerb LineStrings.
    """

    def __init__(self, geometries: NDArray[np.object_]) -> None:
        coords, owner = shapely.get_coordinates(geometries, return_index=True)
        self.xy = coords
        self.owner = owner
        seg = np.diff(coords, axis=0)
        seg_len = np.hypot(seg[:, 0], seg[:, 1])
        same = owner[1:] == owner[:-1]
        seg_len = np.where(same, seg_len, 0.0)
        first = np.ones(len(owner), dtype=bool)
        first[1:] = ~same
        cum = np.concatenate([[0.0], np.cumsum(seg_len)])
        start_of = np.maximum.accumulate(np.where(first, np.arange(len(owner)), 0))
        self.chain = cum - cum[start_of]
        self.first_vertex = np.flatnonzero(first)
        self.last_vertex = np.append(self.first_vertex[1:] - 1, len(owner) - 1)[: len(self.first_vertex)]
        span = float(self.chain.max()) + 10.0 if len(self.chain) else 10.0
        self.vertices = ChainageIndex.of(owner, self.chain, span)
        """The vertices by kerb and chainage (:class:`parkplan.geometry.chainage.ChainageIndex`)."""
        # Unit left normal of each segment (segment v -> v+1); zero-length segments copy a neighbour.
        with np.errstate(invalid="ignore", divide="ignore"):
            nx = -seg[:, 1] / seg_len
            ny = seg[:, 0] / seg_len
        nrm = np.column_stack([nx, ny])
        bad = ~np.isfinite(nrm).all(axis=1)
        if bad.any():
            good = np.flatnonzero(~bad)
            nearest = good[np.clip(np.searchsorted(good, np.flatnonzero(bad)), 0, len(good) - 1)]
            nrm[bad] = nrm[nearest]
        self.seg_normal = nrm
        self.seg_len = seg_len
        # Mitred normal at each vertex: averages the normals of its two segments so that an offset of d
        # lies d away from both. Kerb end vertices use their single segment.
        prev_n = np.vstack([nrm[:1], nrm])
        next_n = np.vstack([nrm, nrm[-1:]])
        is_first = first
        is_last = np.zeros(len(owner), dtype=bool)
        is_last[self.last_vertex] = True
        prev_n = np.where(is_first[:, None], next_n, prev_n)
        next_n = np.where(is_last[:, None], prev_n, next_n)
        dot = np.clip((prev_n * next_n).sum(axis=1), -1.0, 1.0)
        self.vertex_normal = (prev_n + next_n) / np.maximum(1.0 + dot, 0.2)[:, None]

    def segment(self, kerb: NDArray[np.int64], s: NDArray[np.float64]) -> NDArray[np.int64]:
        """Index of the segment holding chainage ``s`` on ``kerb`` (its last segment at the very end)."""
        seg = self.vertices.before(kerb, s)
        return np.clip(seg, self.first_vertex[kerb], self.last_vertex[kerb] - 1)

    def point(
        self, kerb: NDArray[np.int64], s: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Coordinates at chainage ``s`` and the segment they lie on."""
        seg = self.segment(kerb, s)
        length = np.where(self.seg_len[seg] > 0, self.seg_len[seg], 1.0)
        f = np.clip((s - self.chain[seg]) / length, 0.0, 1.0)
        here = rows(self.xy, seg)
        xy = here + scaled(rows(self.xy, seg + 1) - here, f)
        return xy, seg


MERGE_TOL_M = 0.01
"""Kerb line ends closer than this (metres) meet: :func:`merge_kerb_lines` joins the lines there."""


def merge_kerb_lines(
    lines: NDArray[np.object_],
    keys: NDArray[np.int64],
    reversed_keys: NDArray[np.int64],
    tolerance_m: float = MERGE_TOL_M,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Find chains of kerb lines that are one kerb drawn as several ways.

    Two lines join where an end of one lies within ``tolerance_m`` of an end of the other, when these
    are the only two line ends there and no other line passes there (a junction of three kerbs is no
    join), and when they describe the same kerb: end meets start and ``keys`` are equal, or end meets
    end (start meets start) and the key of one equals the ``reversed_keys`` of the other (one line is
    digitised the other way round, so its side and flow are turned). A line never joins itself (a
    closed line stays as it is). The joins make paths and rings of lines; a ring is opened at the start
    of its first line (in input order).

    Parameters
    ----------
    lines
        Kerb LineStrings (metric CRS, none of zero length).
    keys
        Per line, a code for everything that must agree for two lines to be one kerb (carriageway side,
        flow, street attributes), as digitised.
    reversed_keys
        Per line, the code of the same attributes for the line digitised the other way round (coded
        together with ``keys``, so that equal attributes have equal codes).
    tolerance_m
        Distance (metres) within which two ends meet.

    Returns
    -------
    tuple of numpy.ndarray
        Per line: its chain (numbered from 0 in the input order of each chain's first line), its
        position along the chain (from 0), and whether it runs against the chain (to be reversed). The
        first line of every chain in input order runs along it.
    """
    a, b = _meeting_ends(lines, tolerance_m)
    fits = _same_kerb(a, b, keys, reversed_keys)
    return _chains(len(lines), a[fits], b[fits])


def _same_kerb(
    a: NDArray[np.int64], b: NDArray[np.int64], keys: NDArray[np.int64], reversed_keys: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Whether the lines of the meeting ends ``a`` and ``b`` describe one kerb."""
    la, lb = a // 2, b // 2
    # End meets end or start meets start: one of the lines is digitised the other way round.
    same_kind = (a % 2) == (b % 2)
    return np.asarray(np.where(same_kind, keys[la] == reversed_keys[lb], keys[la] == keys[lb]), dtype=bool)


def _meeting_ends(
    lines: NDArray[np.object_], tolerance_m: float = MERGE_TOL_M
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Pairs of line ends where two kerb lines could join (:func:`merge_kerb_lines`), both ways round.

    Ends are numbered ``2 i`` (start of line ``i``) and ``2 i + 1`` (its end). A pair is two ends of
    different lines within ``tolerance_m`` of each other, with no other line end within ``tolerance_m``
    of either and no third line passing within ``tolerance_m`` of either.
    """
    n = len(lines)
    none = np.zeros(0, dtype=np.int64)
    if n < 2:
        return none, none
    coords = shapely.get_coordinates(lines)
    last = np.cumsum(shapely.get_num_coordinates(lines)) - 1
    first = np.concatenate([[0], last[:-1] + 1])
    xy = np.empty((2 * n, 2))
    xy[0::2] = rows(coords, first)
    xy[1::2] = rows(coords, last)
    # Only ends with another end in their own or a neighbouring grid cell can meet: the exact test
    # (a spatial index of points) runs on these few.
    near = np.flatnonzero(_crowded(xy, tolerance_m))
    if len(near) == 0:
        return none, none
    ends = np.empty(2 * n, dtype=object)
    ends[near] = shapely.points(rows(xy, near))
    ia, ib = shapely.STRtree(ends[near]).query(ends[near], predicate="dwithin", distance=tolerance_m)
    a, b = near[ia], near[ib]
    other = a != b
    a, b = a[other], b[other]
    met = np.bincount(a, minlength=2 * n)  # other line ends within reach (this line's own other end too)
    ok = (a // 2 != b // 2) & (met[a] == 1) & (met[b] == 1)
    a, b = a[ok], b[ok]
    if len(a) == 0:
        return none, none
    # No third line passing there (a kerb that runs on through the node: a junction, not a join).
    at, _ = shapely.STRtree(lines).query(ends[a], predicate="dwithin", distance=tolerance_m)
    clear = np.zeros(2 * n, dtype=bool)
    clear[a] = np.bincount(at, minlength=len(a)) == 2  # only the two lines themselves
    ok = clear[a] & clear[b]
    return a[ok].astype(np.int64), b[ok].astype(np.int64)


def _crowded(xy: NDArray[np.float64], cell_m: float) -> NDArray[np.bool_]:
    """Flag the points with another point in their own or a neighbouring cell of a ``cell_m`` grid.

    Every point within ``cell_m`` of another is flagged (and few others).
    """
    cells = np.floor((xy - xy.min(axis=0)) / cell_m).astype(np.int64) + 1
    width = int(cells[:, 1].max()) + 2
    order = np.argsort(cells[:, 0] * width + cells[:, 1], kind="stable")
    key = cells[order, 0] * width + cells[order, 1]  # sorted
    count = np.zeros(len(xy), dtype=np.int64)
    for dx in (-width, 0, width):
        # The three cells of a grid column beside (or at) the point are one range of keys.
        count += np.searchsorted(key, key + dx + 1, side="right") - np.searchsorted(key, key + dx - 1)
    out = np.empty(len(xy), dtype=bool)
    out[order] = count > 1
    return out


def _chains(
    n: int, a: NDArray[np.int64], b: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Chains of ``n`` lines joined at end pairs ``(a, b)`` (both ways round), as :func:`merge_kerb_lines`."""
    chain = np.arange(n, dtype=np.int64)
    position = np.zeros(n, dtype=np.int64)
    backwards = np.zeros(n, dtype=bool)
    if len(a) == 0:
        return chain, position, backwards
    partner = np.full(2 * n, -1, dtype=np.int64)
    partner[a] = b
    steps = max(1, int(np.ceil(np.log2(2 * n))) + 1)
    entry = np.arange(2 * n, dtype=np.int64)
    # Entering a line by one end, leaving by the other, entering the next line by its partner end.
    nxt = partner[entry ^ 1]
    jump, _ = _jump(nxt, steps)
    ring = nxt[jump] >= 0  # never reaches a last line: the entry lies on a ring
    if ring.any():
        # Open every ring at the start of its first line: the smallest line index met going round.
        first = entry // 2
        reach = np.where(nxt >= 0, nxt, entry)
        for _ in range(steps):
            first = np.minimum(first, first[reach])
            reach = reach[reach]
        cut = np.unique(2 * first[ring])
        cut = cut[partner[cut] >= 0]
        partner[partner[cut]] = -1
        partner[cut] = -1
        nxt = partner[entry ^ 1]
        jump, _ = _jump(nxt, steps)
    _, rank = _jump(nxt, steps)
    tail = jump  # the last entry of the walk: names the walk (each chain has two, one per direction)
    line = np.arange(n)
    key = np.minimum(tail[2 * line], tail[2 * line + 1])  # the same for every line of a chain
    lead = np.full(2 * n, n, dtype=np.int64)
    np.minimum.at(lead, key, line)  # first line of each chain in input order
    along = tail[2 * line] == tail[2 * lead[key]]
    size = np.bincount(key, minlength=2 * n)[key]
    position = size - 1 - np.where(along, rank[2 * line], rank[2 * line + 1])
    chain = np.unique(lead[key], return_inverse=True)[1].astype(np.int64)
    return chain, position.astype(np.int64), ~along


def _jump(nxt: NDArray[np.int64], steps: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Pointer jumping along ``nxt`` (-1 ends a walk): where each walk ends and how many steps away.

    After ``steps`` doublings a walk of up to ``2 ** steps`` steps is followed to its end; on a ring the
    result is some entry of the ring (its step count meaningless).
    """
    idx = np.arange(len(nxt), dtype=np.int64)
    jump = np.where(nxt >= 0, nxt, idx)
    rank = (nxt >= 0).astype(np.int64)
    for _ in range(steps):
        rank = rank + rank[jump]
        jump = jump[jump]
    return jump, rank


_MERGE_COLUMNS = ("street_id", "width_m", "oneway", "orientation", "demand_weight", "loading_demand")
"""Columns two kerb lines must agree on (besides side, carriageway and flow) to be joined into one kerb."""

_TURNED = {"left": "right", "right": "left", "forward": "backward", "backward": "forward"}


def _merge_line_table(table: dict[str, NDArray[np.generic]]) -> dict[str, NDArray[np.generic]]:
    """Join the kerb lines that are one kerb drawn as several ways (:func:`merge_kerb_lines`).

    A joined kerb takes the row of its first line in input order (whose direction it keeps), its
    vertices run through the lines in chain order (the first vertex of each following line, within
    :data:`MERGE_TOL_M` of the last one kept, is dropped), its ``curb_id`` is the lines' ids joined with
    ``"+"`` in chain order and its ``source_id`` their distinct source ids joined the same way.
    """
    n = len(table["curb_id"])
    if n < 2:
        return table

    geoms = np.asarray(table["geometry"], dtype=object)
    a, b = _meeting_ends(geoms)
    if len(a) == 0:
        return table
    # The attributes that must agree, as digitised and turned, coded for the lines that could join:
    # per column a code for each distinct value (missing values share one), then one per combination.
    some = np.unique(a // 2)
    m = len(some)
    codes = np.zeros(2 * m, dtype=np.int64)
    for c in (*_MERGE_COLUMNS, "side", "carriageway", "flow"):
        values = np.asarray(table[c], dtype=object)[some]
        if c in _MERGE_COLUMNS:
            both = np.tile(values, 2)
        else:
            turned = [_TURNED.get(v, v) if isinstance(v, str) else v for v in values.tolist()]
            both = np.concatenate([values, np.asarray(turned, dtype=object)])
        column, distinct = pd.factorize(both, use_na_sentinel=True)
        combined = codes * (len(distinct) + 1) + column + 1  # below (2 m) * (2 m + 1): no overflow
        codes = pd.factorize(combined)[0].astype(np.int64)
    keys = np.full(n, -1, dtype=np.int64)
    reversed_keys = np.full(n, -2, dtype=np.int64)
    keys[some] = codes[:m]
    reversed_keys[some] = codes[m:]
    fits = _same_kerb(a, b, keys, reversed_keys)
    chain, position, backwards = _chains(n, a[fits], b[fits])
    n_chains = int(chain.max()) + 1
    if n_chains == n:
        return table
    line = np.arange(n)
    lead = np.full(n_chains, n, dtype=np.int64)
    np.minimum.at(lead, chain, line)
    out = {c: np.asarray(v)[lead] for c, v in table.items()}
    # Ids of the joined kerbs: the lines' ids in chain order (source ids once each).
    order = np.lexsort((position, chain))
    size = np.bincount(chain, minlength=n_chains)
    bounds = np.concatenate([[0], np.cumsum(size)]).tolist()
    ids = np.asarray(table["curb_id"], dtype=object)[order].tolist()
    sources = [str(v) for v in np.asarray(table["source_id"], dtype=object)[order]]
    multi = np.flatnonzero(size > 1)
    out["curb_id"] = out["curb_id"].astype(object)
    out["curb_id"][multi] = ["+".join(ids[bounds[c] : bounds[c + 1]]) for c in multi.tolist()]
    out["source_id"] = out["source_id"].astype(object)
    out["source_id"][multi] = [
        "+".join(dict.fromkeys(sources[bounds[c] : bounds[c + 1]])) for c in multi.tolist()
    ]
    # Vertices of each chain: each line turned where it runs against the chain, junction vertices once.
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    count = np.bincount(owner, minlength=n)
    local = np.arange(len(owner)) - (np.cumsum(count) - count)[owner]
    along = np.where(backwards[owner], count[owner] - 1 - local, local)
    keep = (position[owner] == 0) | (along > 0)
    vert = np.lexsort((along, position[owner], chain[owner]))
    vert = vert[keep[vert]]
    out["geometry"] = lines_from_points(
        np.ascontiguousarray(coords[vert]), np.bincount(chain[owner][vert], minlength=n_chains)
    )
    return out


class KerbSegments:
    """The segments of positive length of a set of kerbs, for projections in closed form.

    A point is projected onto one known segment (the one it was built from, or its nearest) instead of
    the whole kerb: ``chainage = start_m[seg] + clamp(t) * length_m[seg]``, O(1) per point, where
    :func:`shapely.line_locate_point` walks every vertex of the kerb.

    Parameters
    ----------
    geometries
        Kerb LineStrings (metric CRS), one per kerb.
    """

    def __init__(self, geometries: NDArray[np.object_]) -> None:
        coords, owner = shapely.get_coordinates(np.asarray(geometries, dtype=object), return_index=True)
        same = owner[1:] == owner[:-1]
        d = np.diff(coords, axis=0)
        length = np.where(same, np.hypot(d[:, 0], d[:, 1]), 0.0)
        first = np.ones(len(owner), dtype=bool)
        first[1:] = ~same
        cum = np.concatenate([[0.0], np.cumsum(length)])
        chain = cum - cum[np.maximum.accumulate(np.where(first, np.arange(len(owner)), 0))]
        ok = same & (length > 1e-6)
        self.p0: NDArray[np.float64] = coords[:-1][ok]
        """Start point of each segment, ``(n, 2)``."""
        self.d: NDArray[np.float64] = d[ok]
        """End minus start of each segment, ``(n, 2)``."""
        self.length_m: NDArray[np.float64] = length[ok]
        """Length of each segment."""
        self.start_m: NDArray[np.float64] = chain[:-1][ok]
        """Chainage of each segment's start on its kerb."""
        self.end_m: NDArray[np.float64] = chain[1:][ok]
        """Chainage of each segment's end on its kerb (the same number as the next segment's start)."""
        self.kerb: NDArray[np.int64] = owner[:-1][ok].astype(np.int64)
        """Kerb (row of ``geometries``) of each segment."""
        same_kerb = self.kerb[1:] == self.kerb[:-1]
        self.first_of_kerb: NDArray[np.bool_] = np.concatenate([[True], ~same_kerb])[: len(self.kerb)]
        """The segment is its kerb's first (of positive length)."""
        self.last_of_kerb: NDArray[np.bool_] = np.concatenate([~same_kerb, [True]])[: len(self.kerb)]
        """The segment is its kerb's last."""
        self._tree: shapely.STRtree | None = None

    def __getstate__(self) -> dict[str, object]:
        # The tree is rebuilt where the segments are unpickled (a Dask worker), not shipped.
        return {**self.__dict__, "_tree": None}

    def __len__(self) -> int:
        return len(self.kerb)

    def near(
        self, xy: NDArray[np.float64], reach_m: NDArray[np.float64] | float
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """Segments within ``reach_m`` of each point: ``(point, segment, t, distance)`` per pair.

        ``t`` is where the perpendicular from the point meets the segment's line, as a fraction of the
        segment (not clipped: below 0 or above 1 the nearest point is an end); ``distance`` is to the
        segment itself. One index query, then closed-form numpy: O(1) per pair, whatever the kerb's
        length. Pairs come sorted by point, then segment (kerb and chainage order).
        """
        reach = np.broadcast_to(np.asarray(reach_m, dtype=float), (len(xy),))
        if len(xy) == 0 or len(self) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        p, sg = self.tree().query(shapely.points(xy), predicate="dwithin", distance=reach)
        order = np.lexsort((sg, p))
        p, sg = p[order].astype(np.int64), sg[order].astype(np.int64)
        p0 = np.take(self.p0, sg, axis=0)
        d = np.take(self.d, sg, axis=0)
        rel = np.take(xy, p, axis=0) - p0
        t = (rel[:, 0] * d[:, 0] + rel[:, 1] * d[:, 1]) / (self.length_m[sg] ** 2)
        tc = np.clip(t, 0.0, 1.0)
        dist = np.hypot(rel[:, 0] - d[:, 0] * tc, rel[:, 1] - d[:, 1] * tc)
        ok = dist <= reach[p] + 1e-9
        return p[ok], sg[ok], t[ok], dist[ok]

    def left_of(self, xy: NDArray[np.float64], seg: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether each point lies left of its segment's direction (on it counts as left)."""
        p0 = np.take(self.p0, seg, axis=0)
        d = np.take(self.d, seg, axis=0)
        rel = xy - p0
        return np.asarray(d[:, 0] * rel[:, 1] - d[:, 1] * rel[:, 0] >= 0.0)

    def locate(
        self, xy: NDArray[np.float64], seg: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Chainage of the point of segment ``seg`` nearest each point ``xy``, and the distance to it.

        Parameters
        ----------
        xy
            ``(n, 2)`` points.
        seg
            ``(n,)`` segment of each point.

        Returns
        -------
        tuple of numpy.ndarray
            Chainage on the segment's kerb (metres) and distance from the point to the segment (metres).
        """
        s, dist_m, _ = self._locate(xy, seg)
        return s, dist_m

    def _locate(
        self, xy: NDArray[np.float64], seg: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`locate`, and where along its segment (0 to 1) each point projects."""
        p0 = np.take(self.p0, seg, axis=0)
        d = np.take(self.d, seg, axis=0)
        length = np.take(self.length_m, seg)
        rel = xy - p0
        t = np.clip((rel[:, 0] * d[:, 0] + rel[:, 1] * d[:, 1]) / (length * length), 0.0, 1.0)
        dist_m = np.hypot(rel[:, 0] - t * d[:, 0], rel[:, 1] - t * d[:, 1])
        # A segment's end is its next segment's start exactly: a joint's points all meet at its vertex.
        s = np.where(t >= 1.0, np.take(self.end_m, seg), np.take(self.start_m, seg) + t * length)
        return s, dist_m, t

    def lines(self) -> NDArray[np.object_]:
        """Each segment as a two-point LineString."""
        pairs = np.stack([self.p0, self.p0 + self.d], axis=1).reshape(-1, 2)
        return np.asarray(
            shapely.linestrings(pairs, indices=np.repeat(np.arange(len(self)), 2)), dtype=object
        )

    def tree(self) -> shapely.STRtree:
        """STRtree of :meth:`lines` (built on first use)."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.lines())
        return self._tree

    def nearest_on(
        self,
        xy: NDArray[np.float64],
        reach_m: float | NDArray[np.float64],
        kerb: NDArray[np.int64] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """Find the nearest point of kerb ``kerb`` (or of any kerb) to each point, as ``line_locate_point``.

        Only the segments within ``reach_m`` of a point are looked at (one index query), so ``reach_m``
        must be at least the point's distance to its kerb (the distance to any one segment of the kerb
        will do). Equally near segments (within 1 nm): the first, as GEOS takes it along a kerb.

        Parameters
        ----------
        xy
            ``(n, 2)`` points.
        reach_m
            Upper bound of each point's distance to its kerb (metres; one for all or one per point).
        kerb
            ``(n,)`` kerb of each point; ``None``: the nearest segment of any kerb.

        Returns
        -------
        tuple of numpy.ndarray
            Chainage on the kerb, distance to it (metres) and the segment; NaN, inf and -1 for a point
            with no segment of its kerb within ``reach_m``.
        """
        n = len(xy)
        s = np.full(n, np.nan)
        dist = np.full(n, np.inf)
        seg = np.full(n, -1, dtype=np.int64)
        if n == 0 or len(self) == 0:
            return s, dist, seg
        qi, qs = self.tree().query(shapely.points(xy), predicate="dwithin", distance=reach_m)
        if kerb is not None:
            on = self.kerb[qs] == kerb[qi]
            qi, qs = qi[on], qs[on]
        if len(qi) == 0:
            return s, dist, seg
        order = np.lexsort((qs, qi))
        who, cs, cd, cg = self.closest(xy, qi[order], qs[order])
        s[who], dist[who], seg[who] = cs, cd, cg
        return s, dist, seg

    def locate_on(
        self,
        xy: NDArray[np.float64],
        kerb: NDArray[np.int64],
        reach_m: float | NDArray[np.float64],
        *,
        signed: bool = False,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Chainage on ``kerb`` of each point's nearest place on it, and the distance (NaN beyond reach).

        :meth:`nearest_on`: like ``shapely.line_locate_point`` for points within ``reach_m`` of their
        kerb, O(1) per nearby segment. ``signed``: the distance is negative for points right of the
        kerb's digitised direction.
        """
        s, dist, seg = self.nearest_on(xy, reach_m, np.asarray(kerb, dtype=np.int64))
        found = seg >= 0
        dist = np.where(found, dist, np.nan)
        if signed and found.any():
            left = self.left_of(xy[found], seg[found])
            dist[found] = np.where(left, dist[found], -dist[found])
        return s, dist

    def closest(
        self, xy: NDArray[np.float64], point: NDArray[np.int64], seg: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """Choose each point's segment among candidate pairs: the first no farther than its nearest (+1 nm).

        Parameters
        ----------
        xy
            ``(n, 2)`` points.
        point, seg
            Candidate pairs (point row, segment), sorted by point and then segment; not empty.

        Returns
        -------
        tuple of numpy.ndarray
            The points that have a candidate, and for each its chainage, distance and segment (ties go to
            the first segment along a kerb, as GEOS takes them).
        """
        cs, cd = self.locate(np.take(xy, point, axis=0), seg)
        starts = np.flatnonzero(np.concatenate([[True], point[1:] != point[:-1]]))
        best = np.repeat(np.minimum.reduceat(cd, starts), np.diff(np.append(starts, len(point))))
        near = np.flatnonzero(cd <= best + 1e-9)
        first = near[np.concatenate([[True], point[near][1:] != point[near][:-1]])]
        return point[first], cs[first], cd[first], seg[first]


def build_kerbs(
    gdf: gpd.GeoDataFrame,
    rules: Rules,
    *,
    corners: CornerSettings | None = None,
    extent: object | None = None,
) -> gpd.GeoDataFrame:
    """Turn a checked kerb layer (in a metric CRS) into the kerb table.

    Parameters
    ----------
    gdf
        Output of :func:`parkplan.io.read.read_kerbs`, reprojected to the working CRS.
    rules
        Rules; their ``traffic`` side sets the default flow and carriageway side.
    corners
        Corner detection settings for street-area polygons.
    extent
        Polygon of the area the data was cut to (same CRS). Street-area boundary on its edge (within 5 cm)
        or outside it is where the data was cut, not kerb, and is left out. Default: none (every ring is
        kerb all round).

    Kerb lines that are one kerb drawn as several ways are joined into one kerb (see the module
    docstring and :func:`merge_kerb_lines`); its ``curb_id`` is the lines' ids joined with ``"+"``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per kerb with the columns of ``KERB_COLUMNS`` and a LineString geometry. ``carriageway``
        is the side of the digitised line the carriageway lies on (``"left"`` / ``"right"``); ``flow`` is
        the direction of traffic beside the kerb (``"forward"`` along the digitised line or
        ``"backward"``); ``corner_start_m`` / ``corner_end_m`` are the length of the corner arc at each end
        that is a kerb corner, NaN at an end that is not.
    """
    settings = corners or CornerSettings()
    ids = _source_ids(gdf)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    type_ids = shapely.get_type_id(geoms)
    default_flow = "forward"
    inner_extent = None if extent is None else shapely.buffer(extent, -0.05)
    if inner_extent is not None:
        shapely.prepare(inner_extent)
    # Columns as plain arrays once (indexing a frame row by row is slow on large layers).
    n_in = len(gdf)

    def column(name: str, default: object) -> NDArray[np.object_]:
        if name in gdf.columns:
            return np.asarray(gdf[name].to_numpy(dtype=object))
        return np.full(n_in, default, dtype=object)

    def present(values: NDArray[np.object_]) -> NDArray[np.bool_]:
        return np.asarray(pd.notna(values), dtype=bool)

    def text(values: NDArray[np.object_], fallback: NDArray[np.object_]) -> NDArray[np.object_]:
        out = fallback.copy()
        ok = present(values)
        out[ok] = [str(v) for v in values[ok]]
        return out

    ids_arr = np.asarray(ids, dtype=object)
    # Per input feature: the columns every kerb drawn from it shares.
    feature = {
        "source_id": text(column("osm_id", None), ids_arr),
        "street_id": text(column("street_id", None), np.full(n_in, None, dtype=object)),
        "width_m": gdf["width_m"].to_numpy(dtype=float),
        "oneway": column("oneway", None),
        "orientation": column("orientation", None),
        "demand_weight": column("demand_weight", 1.0).astype(float),
        "loading_demand": column("loading_demand", 0.0).astype(float),
    }
    flow_col = column("flow", None)
    side_col = column("side", None)
    tables: list[dict[str, NDArray[np.generic]]] = []

    # Kerb lines, all at once: one kerb per part.
    line_feat = np.flatnonzero(np.isin(type_ids, (1, 5)))
    if len(line_feat):
        parts, which = shapely.get_parts(geoms[line_feat], return_index=True)
        feat = line_feat[which]
        first = np.ones(len(which), dtype=bool)
        first[1:] = which[1:] != which[:-1]
        ordinal = np.arange(len(which)) - np.maximum.accumulate(np.where(first, np.arange(len(which)), 0))
        single = np.bincount(which, minlength=len(line_feat))[which] == 1
        cid = ids_arr[feat].copy()
        cid[~single] = [f"{ids[f]}/{k}" for f, k in zip(feat[~single], ordinal[~single], strict=True)]
        flow = np.where(present(flow_col[feat]), flow_col[feat], default_flow)
        side = side_col[feat]
        # The carriageway is the side traffic keeps to: right-hand traffic drives with the kerb on its
        # right, so the carriageway lies left of the direction of flow; a given side says it directly.
        keeps_left_of_flow = rules.traffic == "right"
        by_flow = np.where((flow == "forward") == keeps_left_of_flow, "left", "right")
        cw = np.where(side == "right", "left", np.where(side == "left", "right", by_flow)).astype(object)
        line_table: dict[str, NDArray[np.generic]] = {
            "input_index": feat,
            "order": ordinal,
            **{c: v[feat] for c, v in feature.items()},
            "side": side,
            "curb_id": cid,
            "carriageway": cw,
            "flow": flow.astype(object),
            "corner_start_m": np.full(len(feat), np.nan),
            "corner_end_m": np.full(len(feat), np.nan),
            "geometry": np.asarray(parts, dtype=object),
        }
        tables.append(_merge_line_table(line_table))

    # Street areas: every ring split at its corners (and where the data was cut).
    rows: list[dict[str, object]] = []
    # Walking with the carriageway on the left is the direction of the traffic beside the kerb under
    # right-hand traffic; under left-hand traffic it flows the other way.
    area_flow = "forward" if rules.traffic == "right" else "backward"
    for i in np.flatnonzero(~np.isin(type_ids, (1, 5))).tolist():
        parts = shapely.get_parts(geoms[i])
        rings, part_of, ring_no = _rings(parts)
        for coords, p, r in zip(rings, part_of, ring_no, strict=True):
            if len(coords) < 3:
                continue
            cidx, arc_lo, arc_hi = ring_corners(coords, settings)
            lo_of = dict(zip(cidx.tolist(), arc_lo.tolist(), strict=True))
            hi_of = dict(zip(cidx.tolist(), arc_hi.tolist(), strict=True))
            if inner_extent is None:
                cut = np.zeros(len(coords), dtype=bool)
            else:
                cut = _cut_segments(coords, inner_extent)
            pieces = _split_ring(cidx, cut)
            prefix = ids[i] if len(parts) == 1 else f"{ids[i]}/{p}"
            for k, (verts, at_start, at_end) in enumerate(pieces):
                start_m, end_m = _arc_lengths(coords, verts, lo_of, hi_of, at_start, at_end)
                rows.append(
                    {
                        "input_index": i,
                        "order": len(rows),
                        **{c: v[i] for c, v in feature.items()},
                        "side": None,
                        "curb_id": f"{prefix}:{r}:{k}",
                        "carriageway": "left",
                        "flow": area_flow,
                        "corner_start_m": start_m,
                        "corner_end_m": end_m,
                        "geometry": shapely.linestrings(coords[verts]),
                    }
                )
    if rows:
        tables.append({c: np.asarray([row[c] for row in rows], dtype=object) for c in rows[0]})
    columns = [c for c in KERB_COLUMNS if c != "length_m"]
    if not tables:
        return gpd.GeoDataFrame(columns=[*KERB_COLUMNS, "geometry"], geometry="geometry", crs=gdf.crs)
    merged = {c: np.concatenate([t[c] for t in tables]) for c in [*columns, "order", "geometry"]}
    # Kerbs in input order, the parts of a feature in their own order.
    order = np.lexsort((merged["order"].astype(np.int64), merged["input_index"].astype(np.int64)))
    geometry = np.asarray(merged["geometry"], dtype=object)[order]
    numeric = {"input_index": np.int64, "width_m": float, "demand_weight": float, "loading_demand": float}
    numeric |= {"corner_start_m": float, "corner_end_m": float}
    table = {
        c: merged[c][order].astype(numeric[c]) if c in numeric else text_column(merged[c][order], len(order))
        for c in columns
    }
    kerbs = gpd.GeoDataFrame(table, geometry=geometry, crs=gdf.crs)
    kerbs["oneway"] = kerbs["oneway"].infer_objects()
    kerbs["length_m"] = shapely.length(geometry)
    return kerbs[[*KERB_COLUMNS, "geometry"]]


def side_of(
    lines: NDArray[np.object_], points: NDArray[np.object_]
) -> tuple[NDArray[np.str_], NDArray[np.float64]]:
    """Say which side of each line each point lies on, looking along the line where it passes the point.

    Returns ``"left"`` / ``"right"`` per pair and the line's direction there (a 1 m chord).
    """
    s = shapely.line_locate_point(lines, points)
    a = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.maximum(s - 0.5, 0.0)))
    b = shapely.get_coordinates(shapely.line_interpolate_point(lines, s + 0.5))
    p = shapely.get_coordinates(points)
    d = b - a
    cross = d[:, 0] * (p[:, 1] - a[:, 1]) - d[:, 1] * (p[:, 0] - a[:, 0])
    return np.where(cross > 0, "left", "right"), d


WAY_REACH_M = 40.0
"""A kerb (or part of one) takes the attributes of the nearest centreline way this near (metres)."""

PART_SAMPLE_M = 2.0
"""Spacing of the places along a street-area kerb where :func:`attach_ways` looks up its way (metres)."""

MIN_PART_M = 10.0
"""Shortest run of kerb beside one way (or ways of equal attributes) that becomes a part of its own
(metres). A shorter run (a junction's corner arc, the round end of a joining way's buffer) takes the
attributes of the runs either side of it, split at its middle, so a kerb is not chopped into pieces a
metre long where ways meet."""

_ONEWAY_YES = {"yes", "true", "1"}
_ONEWAY_REVERSE = {"-1", "reverse"}

_SIDE_COLUMNS = ("orientation",)
"""Way columns given per side of the way (``<name>_left`` / ``<name>_right``, OSM existing mode) that
cut a kerb where they change. The other tags of a side (allowed or not, reason, capacity) act through
their own hazards and :func:`parkplan.osm.streets.enforce_capacity`, which find their way side by geometry:
a cut
for them would only cost the bay that could have straddled it."""


@dataclass(frozen=True)
class _Ways:
    """The centrelines of :func:`attach_ways` with what each kerb part takes from them.

    ``code_left`` / ``code_right``: per way, a code of what a kerb on that side of it takes that matters
    to the plan (width, one-way-ness, highway class and the side's tagged orientation): equal codes, equal
    attributes.
    """

    geometry: NDArray[np.object_]
    way_id: NDArray[np.object_]
    is_oneway: NDArray[np.bool_]
    reverse: NDArray[np.bool_]
    code_left: NDArray[np.int64]
    code_right: NDArray[np.int64]
    tree: shapely.STRtree

    @staticmethod
    def of(ways: gpd.GeoDataFrame) -> _Ways:
        """Read the ways frame of :func:`attach_ways`."""
        n = len(ways)
        geometry = np.asarray(ways.geometry.values, dtype=object)
        ids = ways["street_id"] if "street_id" in ways.columns else ways.get("osm_id")
        way_id = (
            np.array([str(v) for v in ids], dtype=object) if ids is not None else np.arange(n).astype(str)
        ).astype(object)
        raw = ways["oneway"].to_numpy(dtype=object) if "oneway" in ways.columns else np.full(n, None)
        text = [str(v).strip().lower() if v is not None and v == v else "" for v in raw]
        is_oneway = np.array([t in _ONEWAY_YES or t in _ONEWAY_REVERSE for t in text], dtype=bool)
        reverse = np.array([t in _ONEWAY_REVERSE for t in text], dtype=bool)
        shared: dict[str, NDArray[np.generic]] = {"oneway": is_oneway, "reverse": reverse}
        if "width_m" in ways.columns:
            shared["width_m"] = pd.to_numeric(ways["width_m"], errors="coerce").to_numpy(dtype=float)
        if "highway" in ways.columns:
            shared["highway"] = ways["highway"].to_numpy(dtype=object)
        per_side = {c: np.concatenate([v, v]) for c, v in shared.items()}
        for col in _SIDE_COLUMNS:
            if f"{col}_left" in ways.columns and f"{col}_right" in ways.columns:
                per_side[col] = np.concatenate(
                    [ways[f"{col}_left"].to_numpy(dtype=object), ways[f"{col}_right"].to_numpy(dtype=object)]
                )
        frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in per_side.items()})
        codes = np.asarray(
            frame.groupby(list(frame.columns), dropna=False, sort=False).ngroup().to_numpy(), dtype=np.int64
        )
        return _Ways(geometry, way_id, is_oneway, reverse, codes[:n], codes[n:], shapely.STRtree(geometry))


@dataclass(frozen=True)
class _Parts:
    """Where the street-area kerbs of :func:`attach_ways` are cut, and the way of every kerb (part)."""

    kerb: NDArray[np.int64]
    """Per part, the kerb (row of the input table) it is cut from."""
    start_m: NDArray[np.float64]
    """Per part, its chainage on that kerb where it starts."""
    end_m: NDArray[np.float64]
    """Per part, its chainage on that kerb where it ends."""
    way: NDArray[np.int64]
    """Per part, its way (row of the ways; -1: none within :data:`WAY_REACH_M`)."""
    place: NDArray[np.float64]
    """Per part, ``(n, 2)``: a place on the kerb beside its way (NaN without a way)."""


def _ends_band(rules: Rules) -> float:
    """How far past a kerb corner's arc the ``intersection`` clearance reaches (metres): no cut there.

    A kerb part begun by a cut has no corner, so a cut inside the corner's zone would free the kerb
    after the cut; the parts' boundaries stay beyond the farthest reach of the intersection rules.
    """
    reach = [max(c.before_m, c.after_m) for c in rules.clearance_rules("intersection")]
    return float(max(reach, default=0.0))


def _split_parts(kerbs: gpd.GeoDataFrame, ways: _Ways, rules: Rules) -> _Parts:
    """Cut every street-area kerb where the way beside it (the attributes it would take) changes.

    Places every :data:`PART_SAMPLE_M` along each kerb look up their nearest way within
    :data:`WAY_REACH_M` (one index query for all) and the code of what a kerb on that side of that way
    takes (:class:`_Ways`, with the one-way flow beside it). Runs of equal codes shorter than
    :data:`MIN_PART_M`, and every place within a corner's arc plus the rules' ``intersection`` clearance
    of a kerb end that is a corner, are *weak*: each takes the code of the nearer strong place of its
    kerb (none: the code of the kerb's middle place). The kerb is cut half way between neighbouring
    places of different codes. Each part's way is the one most of its places with the part's code lie
    beside (ties: the first way in the frame), and its place the middle one of those.

    Kerbs with a ``side`` already (kerb lines digitised with their side) are not cut: their way is the
    one nearest their middle, as for kerb lines with attributes of their own.
    """
    n = len(kerbs)
    geoms = np.asarray(kerbs.geometry.values, dtype=object)
    length = shapely.length(geoms)
    cut_me = kerbs["side"].isna().to_numpy() & (length > 0)
    # Kerbs that are not cut: the way nearest their middle, as always.
    whole = np.flatnonzero(~cut_me)
    way = np.full(n, -1, dtype=np.int64)
    place = np.full((n, 2), np.nan)
    if len(whole):
        mid = shapely.line_interpolate_point(geoms[whole], 0.5, normalized=True)
        mi, wi = ways.tree.query_nearest(mid, max_distance=WAY_REACH_M, all_matches=False)
        way[whole[mi]] = wi
        place[whole[mi]] = shapely.get_coordinates(mid[mi])
    parts = _Parts(np.arange(n, dtype=np.int64), np.zeros(n), length.astype(float), way, place)
    sel = np.flatnonzero(cut_me)
    if len(sel) == 0:
        return parts

    # Places along the kerbs to cut, at the middle of equal steps of about PART_SAMPLE_M.
    index = KerbIndex(geoms[sel])
    count = np.maximum(np.ceil(length[sel] / PART_SAMPLE_M).astype(np.int64), 1)
    step = length[sel] / count
    local = np.repeat(np.arange(len(sel), dtype=np.int64), count)
    first = np.cumsum(count) - count
    ordinal = np.arange(len(local)) - first[local]
    s = (ordinal + 0.5) * step[local]
    xy, seg = index.point(local, s)
    pts = shapely.points(xy)
    pi, wi = ways.tree.query_nearest(pts, max_distance=WAY_REACH_M, all_matches=False)
    w = np.full(len(local), -1, dtype=np.int64)
    w[pi] = wi
    code = np.full(len(local), -1, dtype=np.int64)
    if len(pi):
        side, d = side_of(ways.geometry[wi], pts[pi])
        kerb_dir = rows(index.xy, seg[pi] + 1) - rows(index.xy, seg[pi])
        along = (kerb_dir * d).sum(axis=1) >= 0
        side_code = np.where(side == "left", ways.code_left[wi], ways.code_right[wi])
        # On a one-way way the flow beside the kerb is part of what it takes (0: two-way).
        flow = np.where(ways.is_oneway[wi], np.where(along != ways.reverse[wi], 1, 2), 0)
        code[pi] = side_code * 3 + flow

    # Weak places: in a run shorter than MIN_PART_M, or near a corner end.
    new_run = np.ones(len(local), dtype=bool)
    new_run[1:] = (code[1:] != code[:-1]) | (local[1:] != local[:-1])
    run = np.cumsum(new_run) - 1
    run_len = np.bincount(run, weights=step[local])[run]
    band = _ends_band(rules)
    c_start = kerbs["corner_start_m"].to_numpy(dtype=float)[sel]
    c_end = kerbs["corner_end_m"].to_numpy(dtype=float)[sel]
    near_start = s < np.where(np.isnan(c_start), -np.inf, c_start + band)[local]
    near_end = s > (length[sel] - np.where(np.isnan(c_end), -np.inf, c_end + band))[local]
    strong = (run_len >= MIN_PART_M - 1e-9) & ~near_start & ~near_end
    final = _fill_weak(code, strong, local, first, count)

    # Cuts half way between neighbouring places of different codes on one kerb.
    change = np.flatnonzero((final[1:] != final[:-1]) & (local[1:] == local[:-1]))
    cut_kerb = local[change]
    cut_s = (s[change] + s[change + 1]) / 2.0
    n_parts = np.bincount(cut_kerb, minlength=len(sel)) + 1
    p_local = np.repeat(np.arange(len(sel), dtype=np.int64), n_parts)
    p_first = np.cumsum(n_parts) - n_parts
    starts = np.zeros(len(p_local))
    ends = np.repeat(length[sel], n_parts).astype(float)
    # The j-th cut of a kerb ends its part j and starts part j + 1.
    cut_ord = np.arange(len(change)) - (np.cumsum(n_parts - 1) - (n_parts - 1))[cut_kerb]
    ends[p_first[cut_kerb] + cut_ord] = cut_s
    starts[p_first[cut_kerb] + cut_ord + 1] = cut_s
    # The part of each place; each part's way is the one most of its places of the part's code lie
    # beside, its place the middle one of those.
    boundary = np.concatenate([[0], (final[1:] != final[:-1]) & (local[1:] == local[:-1])]).astype(np.int64)
    passed = np.cumsum(boundary)
    part_of = p_first[local] + passed - passed[first][local]
    p_way = np.full(len(p_local), -1, dtype=np.int64)
    p_place = np.full((len(p_local), 2), np.nan)
    use = np.flatnonzero((code == final) & (w >= 0))
    if len(use):
        stride = np.int64(len(ways.geometry) + 1)
        pair = part_of[use] * stride + w[use]
        uniq, votes = np.unique(pair, return_counts=True)
        u_part, u_way = uniq // stride, uniq % stride
        best = np.lexsort((u_way, -votes, u_part))
        best = best[np.concatenate([[True], u_part[best][1:] != u_part[best][:-1]])]
        best_pair = np.full(len(p_local), -1, dtype=np.int64)
        best_pair[u_part[best]] = uniq[best]
        chosen = use[pair == best_pair[part_of[use]]]  # in place order, so by part
        c_part, c_first, c_count = np.unique(part_of[chosen], return_index=True, return_counts=True)
        mid = chosen[c_first + c_count // 2]
        p_way[c_part] = w[mid]
        p_place[c_part] = rows(xy, mid)
    keep_rows = np.flatnonzero(~cut_me)
    kerb_all = np.concatenate([keep_rows, sel[p_local]])
    order = np.argsort(kerb_all, kind="stable")  # kerbs in their order, parts in theirs
    return _Parts(
        kerb_all[order].astype(np.int64),
        np.concatenate([np.zeros(len(keep_rows)), starts])[order],
        np.concatenate([length[keep_rows], ends])[order],
        np.concatenate([way[keep_rows], p_way])[order],
        np.concatenate([place[keep_rows], p_place])[order],
    )


def _fill_weak(
    code: NDArray[np.int64],
    strong: NDArray[np.bool_],
    kerb: NDArray[np.int64],
    first: NDArray[np.int64],
    count: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Give every weak place the code of the nearer strong place of its kerb (ties: the one before).

    ``kerb`` numbers the places' kerbs (places in kerb order), ``first`` / ``count`` the first place
    and the number of places of each kerb. A kerb without strong places takes its middle place's code.
    """
    idx = np.arange(len(code), dtype=np.int64)
    prev = np.maximum.accumulate(np.where(strong, idx, -1))
    after = np.where(strong, idx, len(code))
    nxt = np.minimum.accumulate(after[::-1])[::-1]
    has_prev = prev >= first[kerb]
    has_next = nxt <= (first + count - 1)[kerb]
    take_prev = has_prev & (~has_next | (idx - prev <= nxt - idx))
    src = np.where(take_prev, prev, np.where(has_next, nxt, (first + count // 2)[kerb]))
    return np.asarray(code[src], dtype=np.int64)


def _cut_lines(
    geoms: NDArray[np.object_],
    kerb: NDArray[np.int64],
    start_m: NDArray[np.float64],
    end_m: NDArray[np.float64],
) -> NDArray[np.object_]:
    """Cut the pieces ``[start_m, end_m]`` of the kerbs ``kerb`` (rows of ``geoms``), as LineStrings.

    Each is the point at its start, the kerb's vertices strictly inside it and the point at its end,
    all at once (no loop over pieces).
    """
    index = KerbIndex(geoms)
    p0, _ = index.point(kerb, start_m)
    p1, _ = index.point(kerb, end_m)
    lo, hi = index.vertices.inside(kerb, start_m, end_m)
    inner = np.maximum(hi - lo, 0)
    size = inner + 2
    offset = np.cumsum(size) - size
    coords = np.empty((int(size.sum()), 2))
    set_rows(coords, offset, p0)
    set_rows(coords, offset + size - 1, p1)
    owner = np.repeat(np.arange(len(kerb), dtype=np.int64), inner)
    within = np.arange(len(owner), dtype=np.int64) - np.repeat(np.cumsum(inner) - inner, inner)
    set_rows(coords, offset[owner] + 1 + within, rows(index.xy, lo[owner] + within))
    return lines_from_points(coords, size.astype(np.int64))


def _parts_table(kerbs: gpd.GeoDataFrame, parts: _Parts) -> gpd.GeoDataFrame:
    """Replace every cut kerb of the kerb table by its parts, in place.

    A part is a copy of its kerb's row with its own geometry and ``length_m``; its ``curb_id`` is the
    kerb's followed by ``|`` and the part's number from 1 along the kerb (``a|1``, ``a|2``), made unique
    with a further ``|`` where an input id already reads so. Only a kerb's first part keeps the corner
    at its start (``corner_start_m``), only its last the one at its end.
    """
    kerb = parts.kerb
    n_of = np.bincount(kerb, minlength=len(kerbs))
    cut = n_of[kerb] > 1
    out = kerbs.iloc[kerb].reset_index(drop=True)
    if not cut.any():
        return out
    geoms = np.asarray(kerbs.geometry.values, dtype=object)
    which = np.flatnonzero(cut)
    # Parts numbered within their kerb; the kerbs cut, renumbered for the index of their lines.
    first = np.concatenate([[True], kerb[1:] != kerb[:-1]])
    number = np.arange(len(kerb)) - np.maximum.accumulate(np.where(first, np.arange(len(kerb)), 0)) + 1
    cut_kerbs, local = np.unique(kerb[which], return_inverse=True)
    lines = _cut_lines(geoms[cut_kerbs], local.astype(np.int64), parts.start_m[which], parts.end_m[which])
    geometry = np.asarray(out.geometry.values, dtype=object).copy()
    geometry[which] = lines
    ids = out["curb_id"].to_numpy(dtype=object).copy()
    taken = set(kerbs["curb_id"].astype(str))
    new_ids = [f"{ids[i]}|{number[i]}" for i in which.tolist()]
    ids[which] = [f"{v}|" if v in taken else v for v in new_ids]
    out["curb_id"] = ids
    last = np.concatenate([kerb[1:] != kerb[:-1], [True]])
    c_start = out["corner_start_m"].to_numpy(dtype=float).copy()
    c_end = out["corner_end_m"].to_numpy(dtype=float).copy()
    c_start[~first] = np.nan
    c_end[~last] = np.nan
    out["corner_start_m"] = c_start
    out["corner_end_m"] = c_end
    out = gpd.GeoDataFrame(out.drop(columns="geometry"), geometry=geometry, crs=kerbs.crs)
    out["length_m"] = shapely.length(geometry)
    return out[kerbs.columns]


def attach_ways(kerbs: gpd.GeoDataFrame, ways: gpd.GeoDataFrame, rules: Rules) -> gpd.GeoDataFrame:
    """Give every kerb, or each part of it, the attributes of the street centreline (way) beside it.

    A street-area kerb (one without a ``side``) runs beside several ways where the carriageways were
    merged: a street split into two ways mid-block, a narrow stretch, a one-way section. It is cut
    where the attributes it would take from the nearest way change (:func:`_split_parts`: sampled every
    :data:`PART_SAMPLE_M`, runs under :data:`MIN_PART_M` and the reach of the corners' ``intersection``
    clearance never cut), and each part takes its own way's. Consecutive ways that agree on what the
    plan uses (width, one-way flow, ``highway`` and, in OSM existing mode, the tagged orientation of the
    kerb's side) cut nothing: the kerb keeps its length and takes the way most of it lies beside (its
    id, ``name``...). A part is a row of its
    own, ``curb_id`` the kerb's with ``|1``, ``|2``... along it. A kerb with a ``side`` (a kerb line) is
    not cut and takes the way nearest its middle.

    The way lends its id (``street_id`` and, for kerbs of street areas, ``source_id``), ``width_m`` and
    ``oneway`` where the kerb has none, and the kerb learns which side of the way it is on (``side``:
    ``"left"`` / ``"right"`` of the way's digitised direction), ``width_source`` where the ways carry one
    and lend the width (OSM: which tag gave it, see :data:`parkplan.osm.tags.WIDTH_SOURCES`) and, where
    the ways
    carry
    ``orientation_left`` / ``orientation_right`` (OSM existing mode), the tagged ``orientation`` of that
    side. On a one-way street the traffic beside every kerb runs the way's direction (``oneway = -1``:
    against it), which sets the kerb's ``flow``; on a two-way street the flow the kerb already has is
    kept. All within :data:`WAY_REACH_M`; a kerb (part) with no way that near keeps what it has.

    Parameters
    ----------
    kerbs
        Kerb table from :func:`build_kerbs` (metric CRS).
    ways
        Centrelines in the same CRS with any of ``osm_id`` / ``street_id``, ``name``, ``highway``,
        ``oneway``, ``width_m`` and the per-side columns of :func:`parkplan.from_osm` (``orientation_left``,
        ``parking_right``, ...).
    rules
        Rules: the reach of their ``intersection`` clearance keeps cuts away from kerb corners.

    Returns
    -------
    geopandas.GeoDataFrame
        The kerb table, kerbs cut into parts, with the attributes filled in, plus ``name`` and
        ``highway`` columns.
    """
    out = kerbs.copy()
    out["name"] = None
    out["highway"] = None
    if "width_source" in ways.columns:
        out["width_source"] = None
    if len(kerbs) == 0 or len(ways) == 0:
        return out
    view = _Ways.of(ways)
    parts = _split_parts(kerbs, view, rules)
    out = _parts_table(out, parts)
    k_idx = np.flatnonzero(parts.way >= 0)
    if len(k_idx) == 0:
        return out
    w_idx = parts.way[k_idx]
    kgeom = np.asarray(out.geometry.values, dtype=object)
    mid = shapely.points(parts.place[k_idx])
    side, d = side_of(view.geometry[w_idx], mid)
    # Direction of the kerb at its place, to compare with the way's.
    ks = shapely.line_locate_point(kgeom[k_idx], mid)
    ka = shapely.get_coordinates(shapely.line_interpolate_point(kgeom[k_idx], np.maximum(ks - 0.5, 0.0)))
    kb = shapely.get_coordinates(shapely.line_interpolate_point(kgeom[k_idx], ks + 0.5))
    along = ((kb - ka) * d).sum(axis=1) >= 0

    is_oneway = view.is_oneway[w_idx]
    reverse = view.reverse[w_idx]
    flow = out["flow"].to_numpy(dtype=object).copy()
    with_traffic = along != reverse
    flow[k_idx] = np.where(is_oneway, np.where(with_traffic, "forward", "backward"), flow[k_idx])
    out["flow"] = flow

    way_id = view.way_id
    street = out["street_id"].to_numpy(dtype=object).copy()
    street[k_idx] = np.where(pd.isna(street[k_idx]), way_id[w_idx], street[k_idx])
    out["street_id"] = street
    source = out["source_id"].to_numpy(dtype=object).copy()
    from_area = out["side"].isna().to_numpy()[k_idx]
    source[k_idx] = np.where(from_area, way_id[w_idx], source[k_idx])
    out["source_id"] = source
    sides = out["side"].to_numpy(dtype=object).copy()
    sides[k_idx] = np.where(pd.isna(sides[k_idx]), side, sides[k_idx])
    out["side"] = sides
    width = out["width_m"].to_numpy(dtype=float).copy()
    if "width_m" in ways.columns:
        way_width = pd.to_numeric(ways["width_m"], errors="coerce").to_numpy(dtype=float)[w_idx]
        taken = np.isnan(width[k_idx])
        width[k_idx] = np.where(taken, way_width, width[k_idx])
        if "width_source" in ways.columns:
            # Where the width came from (OSM: the tag, lanes+parking, class_default), where the way gave it.
            width_source = out["width_source"].to_numpy(dtype=object).copy()
            width_source[k_idx[taken]] = ways["width_source"].to_numpy(dtype=object)[w_idx[taken]]
            out["width_source"] = width_source
    out["width_m"] = width
    ow = out["oneway"].to_numpy(dtype=object).copy()
    ow[k_idx] = [o if o is not None else bool(v) for o, v in zip(ow[k_idx], is_oneway, strict=True)]
    out["oneway"] = ow
    for col in ("name", "highway"):
        if col in ways.columns:
            values = out[col].to_numpy(dtype=object).copy()
            values[k_idx] = ways[col].to_numpy(dtype=object)[w_idx]
            out[col] = values
    if "orientation_left" in ways.columns and "orientation_right" in ways.columns:
        # Tagged orientation of the way side the kerb is on (OSM existing mode).
        tagged = np.where(
            side == "left",
            ways["orientation_left"].to_numpy(dtype=object)[w_idx],
            ways["orientation_right"].to_numpy(dtype=object)[w_idx],
        )
        tagged = np.array(
            [
                {"diagonal": "angled"}.get(str(t), str(t)) if t is not None and t == t else None
                for t in tagged
            ],
            dtype=object,
        )
        orient = out["orientation"].to_numpy(dtype=object).copy()
        orient[k_idx] = np.where(pd.isna(orient[k_idx]), tagged, orient[k_idx])
        out["orientation"] = orient
    return out
