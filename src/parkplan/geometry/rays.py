"""Rays across the carriageway: the kerb opposite a place, and the place there.

A ray leaves a place on a kerb at right angles to it, towards the carriageway, and the first other kerb
it meets is the kerb opposite (:func:`opposite_places`, :func:`opposite_hits`). The rays are cast in
closed form on the kerbs' straight segments (:class:`RaySegments`): the place and its direction from the
segment that holds it (:class:`parkplan.geometry.chainage.ChainageIndex`), the hits after one
bounding-box query.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from parkplan._arrays import rows, scaled
from parkplan._parallel import chunk_bounds, fork_map
from parkplan.geometry.chainage import ChainageIndex
from parkplan.geometry.kerbs import KerbSegments

__all__ = ["OPPOSITE_REACH_M", "RaySegments", "opposite_hits", "opposite_places"]

OPPOSITE_REACH_M = 60.0
"""How far across the carriageway the kerb opposite a place is looked for (metres)."""


def opposite_places(
    kerbs: gpd.GeoDataFrame,
    kerb: NDArray[np.int64],
    s: NDArray[np.float64],
    workers: int | None = 1,
    segments: RaySegments | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Find the kerb across the carriageway from each place, and the chainage there.

    A ray leaves the place at right angles to its kerb, towards the carriageway, for
    :data:`OPPOSITE_REACH_M`; the first other kerb it meets is the kerb opposite, and the place there is
    where the ray meets it. ``-1`` where no kerb is met. See :func:`opposite_hits`.
    """
    k, at, _ = opposite_hits(kerbs, kerb, s, workers, segments)
    return k, at


def opposite_hits(
    kerbs: gpd.GeoDataFrame,
    kerb: NDArray[np.int64],
    s: NDArray[np.float64],
    workers: int | None = 1,
    segments: RaySegments | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Cast the rays of :func:`opposite_places`; also return how far each ray went (metres, ``inf``: no hit).

    Everything is closed-form numpy on the kerbs' straight segments: the place and its direction from the
    segment that holds it, the hits after a bounding-box query. Many places are split among ``workers``
    processes (:mod:`parkplan._parallel`); each ray is independent, so the result is the same.
    ``segments``: the kerbs' segment index when the caller has one (the hazard matching's).
    """
    if segments is None:
        segments = RaySegments(kerbs)
    bounds = chunk_bounds(len(kerb), workers)
    if len(bounds) > 1:
        segments.tree()  # built once here, before the workers fork
        places = [(kerb[lo:hi], s[lo:hi]) for lo, hi in bounds]
        parts = fork_map(lambda p: segments.cast(*p), places, workers)
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )
    return segments.cast(kerb, s)


class RaySegments(KerbSegments):
    """The kerbs' segments (:class:`~parkplan.geometry.kerbs.KerbSegments`) with what rays need.

    Each kerb's length and carriageway side, from the kerb table. Built once per
    :func:`parkplan.hazards.match_hazards` / :func:`opposite_hits` call and shared by its chunks
    (inherited by forked workers; the index is rebuilt where the segments are unpickled, e.g. on a Dask
    worker).
    """

    def __init__(self, kerbs: gpd.GeoDataFrame) -> None:
        super().__init__(np.asarray(kerbs.geometry.values, dtype=object))
        self.lengths = kerbs["length_m"].to_numpy(dtype=float)
        self.left = kerbs["carriageway"].to_numpy(dtype=object) == "left"

    def cast(
        self, kerb: NDArray[np.int64], s: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """Cast the rays of :func:`opposite_hits` from these places, in this process."""
        lengths, seg_k, chain0, seg_len = self.lengths, self.kerb, self.start_m, self.length_m
        out_k = np.full(len(kerb), -1, dtype=np.int64)
        out_s = np.zeros(len(kerb))
        out_d = np.full(len(kerb), np.inf)
        if len(kerb) == 0 or len(lengths) == 0 or len(seg_k) == 0:
            return out_k, out_s, out_d
        side = np.where(self.left, 1.0, -1.0)[kerb]
        # Each place on the segment that holds it (segments of positive length, in kerb and chainage order).
        s = np.clip(s, 0.0, lengths[kerb])
        index = ChainageIndex.of(seg_k, chain0, float(lengths.max()) + 1.0)
        q = index.before(kerb, s)
        lo, stop = index.rows_of(kerb)
        hi = stop - 1
        has = hi >= lo  # a kerb of no length casts no ray
        q = np.minimum(np.clip(q, lo, np.maximum(hi, lo)), len(seg_k) - 1)
        a_q = rows(self.p0, q)
        e_q = rows(self.d, q)
        len_q = seg_len[q]
        t_q = np.clip((s - chain0[q]) / len_q, 0.0, 1.0)
        p = a_q + scaled(e_q, t_q)
        n = scaled(np.column_stack([-(e_q[:, 1] / len_q), e_q[:, 0] / len_q]), side)
        start = p + n * 0.05
        ray = n * (OPPOSITE_REACH_M - 0.05)

        ends = start + ray
        ray_boxes = shapely.box(
            np.minimum(start[:, 0], ends[:, 0]),
            np.minimum(start[:, 1], ends[:, 1]),
            np.maximum(start[:, 0], ends[:, 0]),
            np.maximum(start[:, 1], ends[:, 1]),
        )
        ri, si = self.tree().query(ray_boxes)
        other = (seg_k[si] != kerb[ri]) & has[ri]
        ri, si = ri[other], si[other]
        if len(ri) == 0:
            return out_k, out_s, out_d
        # Ray: start + t * ray, 0 <= t <= 1; segment: a + u * (b - a), 0 <= u <= 1.
        r = rows(ray, ri)
        e = rows(self.d, si)
        w = rows(self.p0, si) - rows(start, ri)
        den = r[:, 0] * e[:, 1] - r[:, 1] * e[:, 0]
        ok = np.abs(den) > 1e-12
        den = np.where(ok, den, 1.0)
        t = (w[:, 0] * e[:, 1] - w[:, 1] * e[:, 0]) / den
        u = (w[:, 0] * r[:, 1] - w[:, 1] * r[:, 0]) / den
        hit = ok & (t >= 0.0) & (t <= 1.0) & (u >= -1e-9) & (u <= 1.0 + 1e-9)
        ri, si, t, u = ri[hit], si[hit], t[hit], u[hit]
        if len(ri) == 0:
            return out_k, out_s, out_d
        order = np.lexsort((t, ri))
        best = order[np.concatenate([[True], ri[order][1:] != ri[order][:-1]])]
        r_best, s_best = ri[best], si[best]
        out_k[r_best] = seg_k[s_best]
        out_s[r_best] = chain0[s_best] + np.clip(u[best], 0.0, 1.0) * seg_len[s_best]
        out_d[r_best] = 0.05 + t[best] * (OPPOSITE_REACH_M - 0.05)
        return out_k, out_s, out_d
