"""Attach bays to kerbs: which kerb each bay stands along, and the stretch of it the bay takes.

This is the checker's own measurement (:mod:`parkplan.check.geometry`), independent of the planner's
chainages: a bay's ``start_m`` / ``end_m`` columns are never read.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkplan.check.geometry import KerbSegments, Projection

__all__ = ["ATTACH_RADIUS_M", "EDGE_BAND_M", "EDGE_M", "attach_bays", "bay_vertices"]

ATTACH_RADIUS_M = 5.0
"""A bay is attached only to a kerb within this distance of it (metres)."""

EDGE_M = 0.5
"""A bay edge whose two ends both lie within this distance of a kerb runs along that kerb (metres)."""

EDGE_BAND_M = 0.25
"""The bay's kerb edge: its vertices within ``offset_m`` + this of its kerb (metres). Far below any bay
depth, and above the skew of a hand-drawn bay's kerb side."""


def bay_vertices(
    geoms: NDArray[np.object_],
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Exterior-ring vertices of every polygon part of ``geoms``, closing vertex included.

    Returns
    -------
    tuple
        ``(xy, bay, ring)``: coordinates, the row of ``geoms`` each vertex belongs to, and a ring
        number (consecutive vertices with the same ring number form an edge).
    """
    parts, bay = shapely.get_parts(geoms, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    parts, bay = parts[poly], bay[poly]
    rings = shapely.get_exterior_ring(parts)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    return xy, bay[ring].astype(np.int64), ring.astype(np.int64)


def _group_min(values: NDArray[np.float64], group: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    out = np.full(n, np.inf)
    np.minimum.at(out, group, values)
    return out


def _group_max(values: NDArray[np.float64], group: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    out = np.full(n, -np.inf)
    np.maximum.at(out, group, values)
    return out


def _named_kerbs(bays: gpd.GeoDataFrame, kerbs: gpd.GeoDataFrame) -> NDArray[np.int64]:
    """Kerb row named by each bay's ``curb_id`` (-1 where it has none or names no kerb)."""
    named = np.full(len(bays), -1, dtype=np.int64)
    if "curb_id" not in bays.columns or "curb_id" not in kerbs.columns:
        return named
    lookup = pd.Series(np.arange(len(kerbs)), index=kerbs["curb_id"].astype(str).to_numpy())
    lookup = lookup[~lookup.index.duplicated()]
    ids = bays["curb_id"]
    ok = ids.notna().to_numpy()
    found = lookup.reindex(ids[ok].astype(str).to_numpy()).to_numpy()
    named[ok] = np.where(np.isnan(found), -1, np.nan_to_num(found, nan=-1)).astype(np.int64)
    return named


def _longest_edge_kerb(
    proj: Projection, bay: NDArray[np.int64], ring: NDArray[np.int64], xy: NDArray[np.float64], n_kerbs: int
) -> NDArray[np.int64]:
    """Per bay, the kerb along which it has the longest edge within :data:`EDGE_M` (-1: none).

    ``proj`` holds at most one pair per (vertex, kerb).
    """
    n_bays = int(bay.max(initial=-1)) + 1
    best = np.full(n_bays, -1, dtype=np.int64)
    close = proj.take(proj.dist_m <= EDGE_M)
    if len(close.point) == 0:
        return best
    keys = close.point * n_kerbs + close.kerb
    key_set = np.unique(keys)
    nxt = close.point + 1
    same_ring = np.zeros(len(nxt), dtype=bool)
    inside = nxt < len(ring)
    same_ring[inside] = ring[nxt[inside]] == ring[close.point[inside]]
    want = nxt * n_kerbs + close.kerb
    pos = np.clip(np.searchsorted(key_set, want), 0, len(key_set) - 1)
    edge = same_ring & (key_set[pos] == want)
    p = close.point[edge]
    step = xy[p + 1] - xy[p]
    length = np.hypot(step[:, 0], step[:, 1])
    pair = bay[p] * n_kerbs + close.kerb[edge]
    pairs, inverse = np.unique(pair, return_inverse=True)
    total = np.bincount(inverse, weights=length)
    pb = pairs // n_kerbs
    pk = pairs % n_kerbs
    # Longest first per bay; ties to the lower kerb row.
    order = np.lexsort((pk, -total, pb))
    first_of = np.ones(len(order), dtype=bool)
    first_of[1:] = pb[order][1:] != pb[order][:-1]
    chosen = order[first_of & (total[order] > 0)]
    best[pb[chosen]] = pk[chosen]
    return best


def attach_bays(
    bays: gpd.GeoDataFrame, kerbs: gpd.GeoDataFrame, *, segments: KerbSegments | None = None
) -> pd.DataFrame:
    """Find each bay's kerb and the stretch of it the bay takes (the checker's own measurement).

    Contract:

    * **Which kerb.** A bay whose ``curb_id`` names a kerb of ``kerbs`` uses that kerb. Any other bay (a
      user's layer, or a ``curb_id`` that names no kerb) goes to the kerb along which it has its longest
      edge (both ends within :data:`EDGE_M` = 0.5 m of the kerb), else to the nearest kerb within
      :data:`ATTACH_RADIUS_M` = 5 m; none within 5 m: ``kerb = -1`` and NaN measurements.
    * **Kerb edge and extent.** ``offset_m`` is the smallest distance of an exterior-ring vertex of the
      bay from its kerb; the kerb edge is the vertices within ``offset_m`` + :data:`EDGE_BAND_M` of it,
      and ``[s0_m, s1_m]`` the chainage span of their projections onto the kerb (``s0_m <= s1_m``).
      Projections are onto the segment an STRtree over all kerb segments finds for each vertex (cost
      independent of the kerb's length).
    * **Side.** ``carriageway_side``: the bay's centroid lies on the kerb's carriageway side, judged on
      the kerb's segments beside the bay's extent.

    Parameters
    ----------
    bays
        Bay polygons (MultiPolygon: all parts; other geometry types are never attached), in the same
        metric CRS as ``kerbs``.
    kerbs
        Kerb table (:func:`parkplan.geometry.kerbs.build_kerbs`): LineStrings with ``carriageway`` and, for
        matching by id, ``curb_id``.
    segments
        The kerbs' :class:`KerbSegments`, when the caller has built them already.

    Returns
    -------
    pandas.DataFrame
        One row per bay, in ``bays``' order: ``bay`` (row position in ``bays``), ``kerb`` (row position
        in ``kerbs``, -1 when none), ``s0_m``, ``s1_m``, ``offset_m``, ``carriageway_side``.
    """
    n_bays, n_kerbs = len(bays), len(kerbs)
    segs = segments if segments is not None else KerbSegments(np.asarray(kerbs.geometry.values, dtype=object))
    geoms = np.asarray(bays.geometry.values, dtype=object)
    out = pd.DataFrame(
        {
            "bay": np.arange(n_bays, dtype=np.int64),
            "kerb": np.full(n_bays, -1, dtype=np.int64),
            "s0_m": np.full(n_bays, np.nan),
            "s1_m": np.full(n_bays, np.nan),
            "offset_m": np.full(n_bays, np.nan),
            "carriageway_side": np.zeros(n_bays, dtype=bool),
        }
    )
    if n_bays == 0 or n_kerbs == 0 or len(segs) == 0:
        return out
    xy, vbay, vring = bay_vertices(geoms)
    near = segs.near(xy, EDGE_M + EDGE_BAND_M)
    # Nearest segment of each kerb per vertex.
    near = near.take(segs.nearest_per(near, near.point * n_kerbs + near.kerb))

    kerb = _named_kerbs(bays, kerbs)
    free = kerb < 0
    longest = _longest_edge_kerb(near, vbay, vring, xy, n_kerbs)
    longest = np.concatenate([longest, np.full(n_bays - len(longest), -1, dtype=np.int64)])
    kerb[free] = longest[free]
    rest = np.flatnonzero((kerb < 0) & shapely.is_valid_input(geoms) & ~shapely.is_empty(geoms))
    if len(rest):
        polys = geoms[rest]
        is_poly = np.isin(shapely.get_type_id(polys), (3, 6))
        rest = rest[is_poly]
        if len(rest):
            b_idx, s_idx = segs.tree.query_nearest(
                geoms[rest], max_distance=ATTACH_RADIUS_M, all_matches=False
            )
            kerb[rest[b_idx]] = segs.kerb[s_idx]

    # Every vertex's nearest point on its bay's kerb: from the near pairs, else searched farther.
    vk = kerb[vbay]
    mine = near.take(near.kerb == vk[near.point])
    has_close = np.zeros(n_bays, dtype=bool)
    has_close[vbay[mine.point[mine.dist_m <= EDGE_M]]] = True
    far_bays = (kerb >= 0) & ~has_close
    if far_bays.any():
        far_v = np.flatnonzero(far_bays[vbay])
        extra = segs.on_kerb(xy[far_v], vk[far_v], ATTACH_RADIUS_M + EDGE_BAND_M)
        extra = Projection(far_v[extra.point], extra.seg, extra.kerb, extra.s_m, extra.dist_m, extra.t)
        keep = ~far_bays[vbay[mine.point]]
        mine = mine.take(keep)
        mine = Projection(
            np.concatenate([mine.point, extra.point]),
            np.concatenate([mine.seg, extra.seg]),
            np.concatenate([mine.kerb, extra.kerb]),
            np.concatenate([mine.s_m, extra.s_m]),
            np.concatenate([mine.dist_m, extra.dist_m]),
            np.concatenate([mine.t, extra.t]),
        )
    pb = vbay[mine.point]
    offset = _group_min(mine.dist_m, pb, n_bays)
    edge = mine.dist_m <= offset[pb] + EDGE_BAND_M
    s0 = _group_min(mine.s_m[edge], pb[edge], n_bays)
    s1 = _group_max(mine.s_m[edge], pb[edge], n_bays)
    found = np.isfinite(offset) & (kerb >= 0)
    kerb = np.where(found, kerb, -1)
    out["kerb"] = kerb
    out["s0_m"] = np.where(found, s0, np.nan)
    out["s1_m"] = np.where(found, s1, np.nan)
    out["offset_m"] = np.where(found, offset, np.nan)

    # Side of the centroid, on the kerb's segments beside the bay.
    idx = np.flatnonzero(found)
    if len(idx):
        centre = shapely.centroid(geoms[idx])
        cxy = np.full((len(idx), 2), np.nan)
        solid = ~shapely.is_empty(centre)
        cxy[solid] = shapely.get_coordinates(centre[solid])
        vin = np.flatnonzero(found[vbay])
        pos = np.full(n_bays, -1, dtype=np.int64)
        pos[idx] = np.arange(len(idx))
        d_c = np.hypot(xy[vin, 0] - cxy[pos[vbay[vin]], 0], xy[vin, 1] - cxy[pos[vbay[vin]], 1])
        radius = _group_max(d_c, vbay[vin], n_bays)[idx]
        owner, seg = segs.segments_over(kerb[idx], s0[idx] - radius - 1.0, s1[idx] + radius + 1.0)
        proj = segs.project(cxy, seg, owner)
        proj = proj.take(segs.nearest_per(proj, proj.point))
        left = segs.left_of(cxy, proj)
        cw_left = kerbs["carriageway"].to_numpy(dtype=object)[kerb[idx[proj.point]]] == "left"
        side = np.zeros(n_bays, dtype=bool)
        side[idx[proj.point]] = left == cw_left
        out["carriageway_side"] = side
    return out
