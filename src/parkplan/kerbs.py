"""Kerbs: the lines bays stand along, with their carriageway side and direction of traffic.

Two inputs become one kerb table:

* kerb LineStrings (MultiLineStrings are split into their parts), used as digitised;
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

from parkplan.rules import Rules

__all__ = ["CornerSettings", "build_kerbs", "ring_corners"]

KERB_COLUMNS = [
    "curb_id",
    "input_index",
    "source_id",
    "street_id",
    "carriageway",
    "flow",
    "width_m",
    "oneway",
    "corner_start",
    "corner_end",
    "length_m",
]


@dataclass(frozen=True)
class CornerSettings:
    """How street-area rings are split into kerbs at corners.

    Parameters
    ----------
    window_m
        Length of kerb (metres) over which turning is summed; a rounded kerb corner of radius up to about
        ``window_m / 1.6`` still turns enough inside one window.
    angle_deg
        Turning (degrees) within one window that makes a corner. 50 degrees catches a square corner
        rounded with a 9 m radius, and ignores the gentle bends of a curved street and the in-and-out
        turns of a short kerb extension (they cancel inside the window).
    """

    window_m: float = 15.0
    angle_deg: float = 50.0


def _dedupe(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    """Drop consecutive repeated points (and the closing point of a ring)."""
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(np.abs(np.diff(coords, axis=0)) > 1e-9, axis=1)
    out = coords[keep]
    if len(out) > 1 and np.allclose(out[0], out[-1], atol=1e-9):
        out = out[:-1]
    return out


def ring_corners(coords: NDArray[np.float64], settings: CornerSettings) -> NDArray[np.int64]:
    """Find the corner vertices of a closed ring.

    Parameters
    ----------
    coords
        Ring vertices, ``(n, 2)``, without the closing repeat and without consecutive duplicates.
    settings
        Window and angle thresholds.

    Returns
    -------
    numpy.ndarray
        Sorted indices of corner vertices: in every maximal run of vertices whose windowed turning
        reaches the threshold, the one with the largest windowed turning.
    """
    n = len(coords)
    if n < 3:
        return np.zeros(0, dtype=np.int64)
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
        return np.zeros(0, dtype=np.int64)
    if hot.all():
        return np.array([int(np.argmax(windowed))], dtype=np.int64)
    # Rotate so the ring starts on a cold vertex; then runs of hot vertices do not wrap.
    start = int(np.flatnonzero(~hot)[0])
    order = (np.arange(n) + start) % n
    h = hot[order]
    edges = np.diff(np.concatenate([[0], h.astype(np.int8), [0]]))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)
    corners = []
    for a, b in zip(run_starts, run_ends, strict=True):
        idx = order[a:b]
        corners.append(int(idx[int(np.argmax(windowed[idx]))]))
    return np.sort(np.array(corners, dtype=np.int64))


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
    coords: NDArray[np.float64], corners: NDArray[np.int64], cut: NDArray[np.bool_]
) -> list[tuple[NDArray[np.float64], bool, bool]]:
    """Split a ring at its corners, leaving out segments where the data was cut (``cut[i]`` is true
    when the segment from vertex i to vertex i+1 lies on the data extent's boundary).

    Returns pieces as ``(coords, starts_at_corner, ends_at_corner)``.
    """
    n = len(coords)
    if not cut.any():
        if len(corners) == 0:
            return [(np.vstack([coords, coords[:1]]), False, False)]
        pieces = []
        for k, a in enumerate(corners):
            b = corners[(k + 1) % len(corners)]
            idx = np.arange(a, b + 1) if b > a else np.concatenate([np.arange(a, n), np.arange(0, b + 1)])
            pieces.append((coords[idx], True, True))
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
            pieces.append((coords[verts[lo : hi + 1]], j > 0, j < len(bounds) - 2))
    return pieces


def _cut_segments(coords: NDArray[np.float64], extent_boundary: object, tol_m: float) -> NDArray[np.bool_]:
    """Segments of a ring lying on the data extent's boundary (both ends and the middle within tol_m)."""
    nxt = np.roll(coords, -1, axis=0)
    pts = shapely.points(np.concatenate([coords, nxt, (coords + nxt) / 2.0]))
    near = shapely.dwithin(pts, extent_boundary, tol_m).reshape(3, -1)
    return np.asarray(near.all(axis=0))


def _source_ids(gdf: pd.DataFrame) -> list[str]:
    for col in ("curb_id", "osm_id", "id"):
        if col in gdf.columns:
            return [str(v) if pd.notna(v) else str(i) for i, v in enumerate(gdf[col])]
    return [str(i) for i in range(len(gdf))]


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
        Output of :func:`parkplan.io.read_kerbs`, reprojected to the working CRS.
    rules
        Rules; their ``traffic`` side sets the default flow and carriageway side.
    corners
        Corner detection settings for street-area polygons.
    extent
        Polygon of the area the data was cut to (same CRS). Street-area boundary lying on its boundary
        (within 5 cm) is where the data was cut, not kerb, and is left out. Default: none (every ring is
        kerb all round).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per kerb with the columns of ``KERB_COLUMNS`` and a LineString geometry. ``carriageway``
        is the side of the digitised line the carriageway lies on (``"left"`` / ``"right"``); ``flow`` is
        the direction of traffic beside the kerb (``"forward"`` along the digitised line or
        ``"backward"``); ``corner_start`` / ``corner_end`` say whether an end is a kerb corner.
    """
    settings = corners or CornerSettings()
    ids = _source_ids(gdf)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    type_ids = shapely.get_type_id(geoms)
    has = {c: c in gdf.columns for c in ("side", "flow", "street_id", "oneway", "osm_id")}
    default_flow = "forward"
    extent_boundary = None if extent is None else shapely.boundary(extent)
    if extent_boundary is not None:
        shapely.prepare(extent_boundary)
    rows: list[dict[str, object]] = []
    lines: list[object] = []

    for i, geom in enumerate(geoms):
        width = float(gdf["width_m"].iloc[i])
        street = gdf["street_id"].iloc[i] if has["street_id"] else None
        street = None if street is None or (isinstance(street, float) and np.isnan(street)) else str(street)
        oneway = gdf["oneway"].iloc[i] if has["oneway"] else None
        source_id = str(gdf["osm_id"].iloc[i]) if has["osm_id"] and pd.notna(gdf["osm_id"].iloc[i]) else ids[i]
        base = {
            "input_index": i,
            "source_id": source_id,
            "street_id": street,
            "width_m": width,
            "oneway": oneway,
        }
        if type_ids[i] in (1, 5):  # LineString, MultiLineString
            parts = shapely.get_parts(geom)
            flow = gdf["flow"].iloc[i] if has["flow"] and gdf["flow"].iloc[i] is not None else default_flow
            side = gdf["side"].iloc[i] if has["side"] else None
            if side == "right":
                cw = "left"
            elif side == "left":
                cw = "right"
            else:
                # The carriageway is the side traffic keeps to: right-hand traffic drives with the kerb
                # on its right, so the carriageway lies left of the direction of flow.
                keeps_left_of_flow = rules.traffic == "right"
                along = flow == "forward"
                cw = "left" if keeps_left_of_flow == along else "right"
            for k, part in enumerate(parts):
                cid = ids[i] if len(parts) == 1 else f"{ids[i]}/{k}"
                rows.append({**base, "curb_id": cid, "carriageway": cw, "flow": flow,
                             "corner_start": False, "corner_end": False})
                lines.append(part)
        else:  # Polygon, MultiPolygon: street areas
            parts = shapely.get_parts(geom)
            rings, part_of, ring_no = _rings(parts)
            # Walking with the carriageway on the left is the direction of the traffic beside the kerb
            # under right-hand traffic; under left-hand traffic it flows the other way.
            flow = "forward" if rules.traffic == "right" else "backward"
            for coords, p, r in zip(rings, part_of, ring_no, strict=True):
                if len(coords) < 3:
                    continue
                cidx = ring_corners(coords, settings)
                if extent_boundary is None:
                    cut = np.zeros(len(coords), dtype=bool)
                else:
                    cut = _cut_segments(coords, extent_boundary, 0.05)
                pieces = _split_ring(coords, cidx, cut)
                prefix = ids[i] if len(parts) == 1 else f"{ids[i]}/{p}"
                for k, (piece, at_start, at_end) in enumerate(pieces):
                    rows.append({**base, "curb_id": f"{prefix}:{r}:{k}", "carriageway": "left", "flow": flow,
                                 "corner_start": at_start, "corner_end": at_end})
                    lines.append(shapely.linestrings(piece))
    kerbs = gpd.GeoDataFrame(rows, geometry=np.asarray(lines, dtype=object) if lines else [], crs=gdf.crs)
    if len(kerbs) == 0:
        kerbs = gpd.GeoDataFrame(columns=[*KERB_COLUMNS, "geometry"], geometry="geometry", crs=gdf.crs)
    kerbs["length_m"] = shapely.length(np.asarray(kerbs.geometry.values, dtype=object))
    return kerbs[[*KERB_COLUMNS, "geometry"]]
