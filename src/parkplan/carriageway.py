"""The room in front of each kerb: where bays would leave the carriageway or meet bays from another kerb.

Every bay reaches ``depth_m`` into the carriageway. The strip of that depth in front of a kerb (a flat-
capped single-sided buffer on its carriageway side) must not leave the carriageway and must not overlap
the strip in front of another kerb, or two bays could overlap (a lane narrower than two bay depths, the
inside of a corner, the two sides of a narrow median). This module turns such places into forbidden
zones, on both kerbs where two strips meet, so the optimiser never places a bay there:

* ``kind = "narrow"``: the strip overlaps another kerb's strip (the other kerb's id is in ``hazard_id``);
* ``kind = "bend"``: the kerb turns sharply at a vertex (a jog, a kerb extension): no bay straddles it;
* ``kind = "outside"``: the strip crosses the edge of the carriageway: a kerb line (for kerb-line input)
  or the street-area boundary, including where the data was cut (for street-area input).

Kerbs that face each other across the carriageway (``facing``) are exempt from ``narrow``: which of
them parks, and how deep, is the choice of :mod:`parkplan.sides`, which weighs both sides.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkplan.hazards import no_zones, zone_table
from parkplan.kerbs import polygons_from_rings

__all__ = ["MAX_STRADDLE_TURN_DEG", "SLIVER_M", "room_zones"]

MAX_STRADDLE_TURN_DEG = 30.0
"""A bay never straddles a kerb vertex turning this much or more (degrees)."""

SLIVER_M = 0.05
"""Overlaps thinner than this (metres; shared edges, rounding) are not conflicts."""


def _strips(
    kerbs: gpd.GeoDataFrame, depth_m: NDArray[np.float64]
) -> tuple[NDArray[np.object_], NDArray[np.object_], NDArray[np.int64]]:
    """Quadrilaterals ``depth_m`` deep on the carriageway side of each kerb segment and joint.

    Built per segment rather than as one buffer per kerb: a single-sided buffer of a kerb that almost
    closes on itself (the ring round a block) can come back filled. Returns the strips, the same strips
    inset by ``SLIVER_M / 2`` from their kerb side and ends (so the kerb they stand on does not touch
    them) and the kerb of each.
    """
    coords, owner = shapely.get_coordinates(
        np.asarray(kerbs.geometry.values, dtype=object), return_index=True
    )
    same = owner[1:] == owner[:-1]
    p0, p1, k = coords[:-1][same], coords[1:][same], owner[:-1][same]
    d = p1 - p0
    length = np.hypot(d[:, 0], d[:, 1])
    ok = length > 1e-6
    p0, p1, k, d, length = p0[ok], p1[ok], k[ok], d[ok], length[ok]
    side = np.where(kerbs["carriageway"].to_numpy(dtype=object) == "left", 1.0, -1.0)[k]
    unit = np.column_stack([-d[:, 1], d[:, 0]]) / length[:, None] * side[:, None]
    normal = unit * depth_m[k][:, None]
    ring = np.stack([p0, p1, p1 + normal, p0 + normal, p0], axis=1).reshape(-1, 2)
    # Joints: where two segments of a kerb meet, the wedge between their quads up to the mitred offset
    # point (the far corner a bay drawn round that vertex reaches; same mitre limit as the layout).
    j = np.flatnonzero(k[1:] == k[:-1])
    dot = np.clip((unit[j] * unit[j + 1]).sum(axis=1), -1.0, 1.0)
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
    return _valid(polys), _valid(inner), owner


def _valid(polys: NDArray[np.object_]) -> NDArray[np.object_]:
    """Repair only the polygons that need it (make_valid on every strip is slow)."""
    out = np.asarray(polys, dtype=object).copy()
    bad = ~shapely.is_valid(out)
    if bad.any():
        out[bad] = shapely.make_valid(out[bad])
    return out


def _project(
    parts: NDArray[np.object_], owner: NDArray[np.int64], kerbs: NDArray[np.object_]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Chainage span each part's vertices project onto on its kerb: (part, start, end, kerb)."""
    coords, which = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        empty = np.zeros(0)
        return np.zeros(0, np.int64), empty, empty, np.zeros(0, np.int64)
    s = shapely.line_locate_point(kerbs[owner[which]], shapely.points(coords))
    frame = pd.DataFrame({"part": which, "s": s}).groupby("part")["s"].agg(["min", "max"])
    part = frame.index.to_numpy(dtype=np.int64)
    return part, frame["min"].to_numpy(), frame["max"].to_numpy(), owner[part]


def _segments(geometry: object) -> NDArray[np.object_]:
    """Two-point segments of every line or polygon boundary in ``geometry`` (one geometry or an array)."""
    geoms = np.atleast_1d(np.asarray(geometry, dtype=object))
    polys = np.isin(shapely.get_type_id(geoms), (3, 6))
    lines = np.where(polys, shapely.boundary(geoms), geoms)
    parts = shapely.get_parts(shapely.get_parts(lines))
    coords, owner = shapely.get_coordinates(parts, return_index=True)
    same = owner[1:] == owner[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    keep = np.any(a != b, axis=1)
    pairs = np.stack([a[keep], b[keep]], axis=1).reshape(-1, 2)
    return np.asarray(
        shapely.linestrings(pairs, indices=np.repeat(np.arange(int(keep.sum())), 2)), dtype=object
    )


def _zones(
    kerb: NDArray[np.int64],
    start: NDArray[np.float64],
    end: NDArray[np.float64],
    kind: str,
    other: NDArray[np.object_],
    rule: str,
) -> pd.DataFrame:
    """Build zones in the format of :func:`parkplan.hazards.zones_from_matches`.

    ``other`` is the id of the kerb that causes each zone.
    """
    return zone_table(kerb, start, end, kind, [f"kerb:{c}" for c in other], rule)


def _bend_zones(kerbs: gpd.GeoDataFrame, depth_m: NDArray[np.float64]) -> pd.DataFrame:
    """Zones round kerb vertices that turn by ``MAX_STRADDLE_TURN_DEG`` or more (a jog, a kerb extension).

    No bay straddles such a vertex: a painted bay is straight. Where the kerb turns towards the
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
    turn = np.abs(np.arctan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], (a * b).sum(axis=1)))
    sharp = turn >= np.radians(MAX_STRADDLE_TURN_DEG)
    v, a, b, turn = v[sharp], a[sharp], b[sharp], turn[sharp]
    k = owner[v]
    side = np.where(kerbs["carriageway"].to_numpy(dtype=object) == "left", 1.0, -1.0)[k]
    towards = (a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]) * side > 0
    reach = np.where(towards, depth_m[k] * np.tan(np.minimum(turn, np.radians(170.0)) / 2.0), 0.001)
    s = chain[v]
    return zone_table(
        k,
        s - reach,
        s + reach,
        "bend",
        [f"kerb:{c}@{x:.2f}" for c, x in zip(kerbs["curb_id"].to_numpy(dtype=object)[k], s, strict=True)],
        f"no bay straddles a kerb turning {MAX_STRADDLE_TURN_DEG:g} degrees or more",
        hazard_start_m=s,
        hazard_end_m=s,
    )


def room_zones(
    kerbs: gpd.GeoDataFrame,
    depth_m: float | NDArray[np.float64],
    street_area: object | None = None,
    facing: NDArray[np.int64] | None = None,
) -> pd.DataFrame:
    """Forbidden zones where the deepest bay would not fit in front of a kerb.

    Parameters
    ----------
    kerbs
        Kerb table (metric CRS) from :func:`parkplan.kerbs.build_kerbs`.
    depth_m
        The deepest bay type's depth (metres).
    street_area
        Union of the street-area polygons, when the kerbs came from street areas.
    facing
        ``(n, 2)`` kerb pairs that face each other across the carriageway: their strips may meet, the
        choice of sides and depths (:mod:`parkplan.sides`) keeps their bays apart.

    Returns
    -------
    pandas.DataFrame
        Zones in the format of :func:`parkplan.hazards.zones_from_matches`.
    """
    n = len(kerbs)
    depth = np.broadcast_to(np.asarray(depth_m, dtype=float), (n,)).copy()
    if n == 0 or not (depth > 0).any():
        return no_zones()
    geoms = np.asarray(kerbs.geometry.values, dtype=object)
    strips, inner, strip_kerb = _strips(kerbs, depth)
    curb_ids = kerbs["curb_id"].to_numpy(dtype=object)
    frames: list[pd.DataFrame] = [_bend_zones(kerbs, depth)]

    # Strip against strip of another kerb.
    tree = shapely.STRtree(strips)
    qa, qb = tree.query(strips)  # bounding boxes first; the exact test only for pairs of different kerbs
    keep = strip_kerb[qa] < strip_kerb[qb]
    if facing is not None and len(facing):
        # Facing kerbs are kept apart by the choice of sides: no need to measure their overlaps.
        key = strip_kerb[qa] * n + strip_kerb[qb]
        keep &= ~np.isin(key, facing.min(axis=1) * n + facing.max(axis=1))
    qa, qb = qa[keep], qb[keep]
    touching = shapely.intersects(strips[qa], strips[qb])
    qa, qb = qa[touching], qb[touching]
    if len(qa):
        inter = shapely.intersection(strips[qa], strips[qb])
        thin = shapely.is_empty(shapely.buffer(inter, -SLIVER_M / 2.0))
        a, b, inter = strip_kerb[qa[~thin]], strip_kerb[qb[~thin]], inter[~thin]
        for mine, other in ((a, b), (b, a)):
            part, s0, s1, k = _project(inter, mine, geoms)
            rule = "bays would overlap bays of the kerb opposite"
            frames.append(_zones(k, s0, s1, "narrow", curb_ids[other[part]], rule))

    # Strip crossing the edge of the carriageway (a kerb line, or where the data was cut).
    edges = _segments(street_area if street_area is not None else geoms)
    qi, ei = shapely.STRtree(edges).query(inner, predicate="intersects")
    if len(qi):
        pieces = shapely.intersection(inner[qi], edges[ei])
        _, s0, s1, k = _project(pieces, strip_kerb[qi], geoms)
        rule = "bays would cross the edge of the carriageway"
        frames.append(_zones(k, s0, s1, "outside", curb_ids[k], rule))
    if not frames:
        return no_zones()
    zones = pd.concat(frames, ignore_index=True)
    length = kerbs["length_m"].to_numpy(dtype=float)[zones["kerb"].to_numpy(dtype=np.int64)]
    for col in ("start_m", "end_m", "hazard_start_m", "hazard_end_m"):
        zones[col] = np.clip(zones[col].to_numpy(dtype=float), 0.0, length)
    return zones[zones["end_m"] > zones["start_m"]].reset_index(drop=True)
