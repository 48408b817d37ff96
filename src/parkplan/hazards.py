"""Hazards to forbidden intervals of chainage, and the free stretches between them.

How a hazard finds its kerbs (the snap distance ``snap_m`` and mode ``match`` per kind come from
``parkplan/data/kinds.toml``, overridable in the rules):

* **Points** apply to kerbs within ``snap_m``. With ``match = "nearest"`` (hydrants, signs, driveway
  points) only the nearest kerb, and any other kerb within 1 m of that distance (both kerb pieces at a
  corner); with ``match = "all"`` (crossings, intersections, signals: nodes on a street centreline) every
  kerb within ``snap_m`` — a centreline node half a carriageway from each kerb applies to both. The
  hazard sits at its projection (``line_locate_point``) and covers its ``width_m`` (or the kind's
  ``default_width_m``), centred there.
* **Lines** that cross a kerb (a driveway or footway drawn up to or across the street) apply at each
  crossing point, like a point with the line's width; crossings on one piece of the line that runs
  along the kerb (within ``snap_m``) cover the stretch that piece projects onto. A line that does not
  cross but lies along a kerb within ``snap_m`` covers the stretch its nearby part projects onto; one
  that merely ends near a kerb applies at the projection of its nearest point.
* **Polygons** cover the stretch of kerb inside them, or, when no kerb enters them, the stretch their
  vertices within ``snap_m`` project onto.

The hazard's own extent ``[a, b]`` is forbidden, and the clearance extends it: ``before_m`` upstream and
``after_m`` downstream in the direction of traffic on that kerb. Intervals are clipped to the kerb.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkplan.errors import InputError
from parkplan.io import text_column
from parkplan.kerbs import KerbIndex, rows, scaled
from parkplan.parallel import chunk_bounds, fork_map, geos_map
from parkplan.rules import Clearance, Rules

__all__ = [
    "HazardMatch",
    "free_stretches",
    "kerb_order",
    "match_hazards",
    "merge_intervals",
    "opposite_places",
    "sort_zones",
    "zones_from_matches",
]

NEAREST_SLACK_M = 1.0
"""With ``match = "nearest"``, kerbs up to this much farther than the nearest one also get the hazard."""

ALONG_MIN_M = 1.0
"""A non-crossing line whose nearby part projects onto at least this much kerb lies *along* the kerb."""

TOL_M = 1e-3
"""Length tolerance (1 mm) used throughout."""


@dataclass(frozen=True)
class HazardMatch:
    """Where hazards touch kerbs: one row per (hazard, kerb, place) in ``table``.

    ``table`` columns: ``hazard`` (row in the hazard frame), ``kerb`` (row in the kerb table),
    ``s0_m`` / ``s1_m`` (the hazard's own extent in chainage, before clearances), ``point_like``
    (the extent came from a single place and gets the hazard's width), ``distance_m``.
    """

    table: pd.DataFrame


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


def _crossing_places(line: object, kerb: object, snap_m: float) -> list[tuple[float, float, bool]]:
    """Places where a line that crosses (or touches) a kerb applies: ``(s0, s1, point_like)`` each.

    The crossing points (and the ends of stretches where the line runs on the kerb) are grouped by the
    connected piece of the line within ``snap_m`` of the kerb they lie on, so a line that crosses the
    kerb, leaves it and comes back (a semicircular drive) applies at each crossing separately. A piece
    whose crossings span less than ``ALONG_MIN_M`` is a crossing point; a longer one lies along the kerb
    and covers the stretch the piece projects onto.
    """
    inter = shapely.get_parts(shapely.intersection(line, kerb))
    pts = shapely.get_parts(np.where(shapely.get_type_id(inter) == 0, inter, shapely.boundary(inter)))
    if len(pts) == 0:
        return []
    s = shapely.line_locate_point(kerb, pts)
    near = shapely.get_parts(shapely.intersection(line, shapely.buffer(kerb, max(snap_m, TOL_M))))
    blobs = shapely.get_parts(shapely.union_all(shapely.buffer(near, TOL_M)))
    label = np.arange(len(pts)) + len(blobs)  # a point on no piece (should not happen) stands alone
    p_idx, b_idx = shapely.STRtree(blobs).query(pts, predicate="intersects")
    label[p_idx[::-1]] = b_idx[::-1]  # first matching piece wins
    n_idx, nb_idx = shapely.STRtree(blobs).query(near, predicate="intersects")
    places: list[tuple[float, float, bool]] = []
    for lab in np.unique(label):
        sp = s[label == lab]
        if sp.max() - sp.min() < ALONG_MIN_M:
            places.append((float(sp.min()), float(sp.max()), True))
            continue
        coords = shapely.get_coordinates(near[n_idx[nb_idx == lab]])
        if len(coords):
            sp = np.concatenate([sp, shapely.line_locate_point(kerb, shapely.points(coords))])
        places.append((float(sp.min()), float(sp.max()), False))
    return places


def match_hazards(
    hazards: gpd.GeoDataFrame, kerbs: gpd.GeoDataFrame, rules: Rules, workers: int | None = 1
) -> HazardMatch:
    """Find, for every hazard, the kerbs it applies to and its own extent along each.

    Parameters
    ----------
    hazards
        Hazard frame in the kerbs' CRS (columns ``kind``, ``hazard_id``, ``width_m``, geometry).
    kerbs
        Kerb table from :func:`parkplan.kerbs.build_kerbs`.
    rules
        Rules (snap settings per kind).
    workers
        Threads for large inputs (:func:`parkplan.parallel.geos_map`: the matching is GEOS work; Dask
        tasks with a client; ``None``: all CPUs). Each hazard is matched on its own, so the hazards are
        split into contiguous chunks and the result is the same for any number of workers.

    Returns
    -------
    HazardMatch
        The matches; hazards with no row matched no kerb.
    """
    _check_kinds(hazards, rules)
    bounds = chunk_bounds(len(hazards), workers)
    if len(bounds) > 1:
        # The chunks themselves are the items: a Dask task then ships only its own hazards.
        chunks = [hazards.iloc[lo:hi] for lo, hi in bounds]
        tables = geos_map(lambda part: _match(part, kerbs, rules).table, chunks, workers)
        shifted = [
            t.assign(hazard=t["hazard"].to_numpy() + lo) for t, (lo, _) in zip(tables, bounds, strict=True)
        ]
        table = pd.concat(shifted, ignore_index=True).astype({"hazard": np.int64, "kerb": np.int64})
        return HazardMatch(_by_kerb(table))
    return _match(hazards, kerbs, rules)


def _match(hazards: gpd.GeoDataFrame, kerbs: gpd.GeoDataFrame, rules: Rules) -> HazardMatch:
    """Match the hazards in this process (see :func:`match_hazards`)."""
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
    empty = pd.DataFrame(
        {"hazard": [], "kerb": [], "s0_m": [], "s1_m": [], "point_like": [], "distance_m": []}
    )
    if len(hgeom) == 0 or len(kgeom) == 0:
        return HazardMatch(empty)

    tree = shapely.STRtree(kgeom)
    h_idx, k_idx = tree.query(hgeom, predicate="dwithin", distance=snap)
    if len(h_idx) == 0:
        return HazardMatch(empty)
    order = np.lexsort((k_idx, h_idx))
    h_idx, k_idx = h_idx[order], k_idx[order]
    dist = shapely.distance(hgeom[h_idx], kgeom[k_idx])
    gtype = shapely.get_type_id(hgeom[h_idx])
    is_point = np.isin(gtype, (0, 4))
    is_line = np.isin(gtype, (1, 5))
    is_poly = np.isin(gtype, (3, 6))

    # Lines crossing a kerb apply where they cross, whatever the match mode.
    crosses = np.zeros(len(h_idx), dtype=bool)
    if is_line.any():
        li = np.flatnonzero(is_line)
        crosses[li] = shapely.intersects(hgeom[h_idx[li]], kgeom[k_idx[li]])

    # "nearest" mode: a line that crosses a kerb applies only where it crosses; otherwise keep the kerbs
    # within NEAREST_SLACK_M of the hazard's nearest kerb.
    keep = np.ones(len(h_idx), dtype=bool)
    crossing_hazards = np.unique(h_idx[crosses])
    keep &= ~(nearest_mode[h_idx] & ~crosses & np.isin(h_idx, crossing_hazards))
    sel = nearest_mode[h_idx] & ~crosses & keep
    if sel.any():
        frame = pd.DataFrame({"h": h_idx[sel], "d": dist[sel]})
        dmin = frame.groupby("h")["d"].transform("min").to_numpy()
        keep[np.flatnonzero(sel)] = frame["d"].to_numpy() <= dmin + NEAREST_SLACK_M

    parts: list[pd.DataFrame] = []

    # Points (MultiPoints: each part).
    pi = np.flatnonzero(is_point & keep)
    if len(pi):
        pts = shapely.get_parts(hgeom[h_idx[pi]], return_index=True)
        sub, which = pts
        kk = k_idx[pi][which]
        s = shapely.line_locate_point(kgeom[kk], sub)
        parts.append(
            pd.DataFrame(
                {
                    "hazard": h_idx[pi][which],
                    "kerb": kk,
                    "s0_m": s,
                    "s1_m": s,
                    "point_like": True,
                    "distance_m": shapely.distance(sub, kgeom[kk]),
                }
            )
        )

    # Lines crossing a kerb once: the crossing point (vectorised). Other crossing lines (several
    # crossings, or running along the kerb for a while): each place where they cross (_crossing_places).
    ci = np.flatnonzero(crosses)
    if len(ci):
        inter = shapely.intersection(hgeom[h_idx[ci]], kgeom[k_idx[ci]])
        single = shapely.get_type_id(inter) == 0
        one = ci[single]
        if len(one):
            kk = k_idx[one]
            s = shapely.line_locate_point(kgeom[kk], inter[single])
            parts.append(
                pd.DataFrame(
                    {
                        "hazard": h_idx[one],
                        "kerb": kk,
                        "s0_m": s,
                        "s1_m": s,
                        "point_like": True,
                        "distance_m": 0.0,
                    }
                )
            )
        rows: list[tuple[int, int, float, float, bool]] = []
        for j in ci[~single].tolist():
            h, k = int(h_idx[j]), int(k_idx[j])
            rows += [
                (h, k, lo, hi, like) for lo, hi, like in _crossing_places(hgeom[h], kgeom[k], float(snap[h]))
            ]
        if rows:
            hh, kk2, lo, hi, like = (np.array(v) for v in zip(*rows, strict=True))
            parts.append(
                pd.DataFrame(
                    {"hazard": hh, "kerb": kk2, "s0_m": lo, "s1_m": hi, "point_like": like, "distance_m": 0.0}
                )
            )

    # Lines near but not crossing: along the kerb (their vertices within snap_m project onto a stretch
    # of at least ALONG_MIN_M), or ending near it (the projection of their nearest point).
    ni = np.flatnonzero(is_line & ~crosses & keep)
    if len(ni):
        hh, kk = h_idx[ni], k_idx[ni]
        nearest = shapely.get_point(shapely.shortest_line(hgeom[hh], kgeom[kk]), 1)
        s_near = shapely.line_locate_point(kgeom[kk], nearest)
        coords, pair = shapely.get_coordinates(hgeom[hh], return_index=True)
        pts = shapely.points(coords)
        close = shapely.distance(pts, kgeom[kk[pair]]) <= snap[hh[pair]]
        s_vert = shapely.line_locate_point(kgeom[kk[pair[close]]], pts[close])
        span = (
            pd.DataFrame(
                {
                    "pair": np.concatenate([np.arange(len(ni)), pair[close]]),
                    "s": np.concatenate([s_near, s_vert]),
                }
            )
            .groupby("pair")["s"]
            .agg(["min", "max"])
        )
        lo = span["min"].to_numpy()
        hi = span["max"].to_numpy()
        along = hi - lo >= ALONG_MIN_M
        parts.append(
            pd.DataFrame(
                {
                    "hazard": hh,
                    "kerb": kk,
                    "s0_m": np.where(along, lo, s_near),
                    "s1_m": np.where(along, hi, s_near),
                    "point_like": ~along,
                    "distance_m": dist[ni],
                }
            )
        )

    # Polygons: the kerb inside them, else the kerb their nearby vertices project onto.
    for j in np.flatnonzero(is_poly & keep):
        h, k = int(h_idx[j]), int(k_idx[j])
        kerb = kgeom[k]
        inside = shapely.intersection(kerb, hgeom[h])
        coords = shapely.get_coordinates(inside)
        if len(coords) == 0:
            verts = shapely.points(shapely.get_coordinates(hgeom[h]))
            coords = shapely.get_coordinates(verts[shapely.dwithin(verts, kerb, snap[h])])
        if len(coords) == 0:
            continue
        s = shapely.line_locate_point(kerb, shapely.points(coords))
        parts.append(
            pd.DataFrame(
                {
                    "hazard": [h],
                    "kerb": [k],
                    "s0_m": [s.min()],
                    "s1_m": [s.max()],
                    "point_like": [s.max() - s.min() < ALONG_MIN_M],
                    "distance_m": [dist[j]],
                }
            )
        )

    if not parts:
        return HazardMatch(empty)
    return HazardMatch(_by_kerb(pd.concat(parts, ignore_index=True)))


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


def zone_table(
    kerb: NDArray[np.int64],
    start_m: NDArray[np.float64] | float,
    end_m: NDArray[np.float64] | float,
    kind: object,
    hazard_id: object,
    rule: object,
    hazard_start_m: NDArray[np.float64] | None = None,
    hazard_end_m: NDArray[np.float64] | None = None,
) -> pd.DataFrame:
    """Build a zones table; ``kind``, ``hazard_id``, ``rule`` are one string or one per zone.

    The hazard's own extent defaults to the whole zone.
    """
    n = len(kerb)
    start = np.broadcast_to(np.asarray(start_m, dtype=float), (n,))
    end = np.broadcast_to(np.asarray(end_m, dtype=float), (n,))
    return pd.DataFrame(
        {
            "kerb": np.asarray(kerb, dtype=np.int64),
            "start_m": start,
            "end_m": end,
            "hazard_start_m": start if hazard_start_m is None else np.asarray(hazard_start_m, dtype=float),
            "hazard_end_m": end if hazard_end_m is None else np.asarray(hazard_end_m, dtype=float),
            "kind": text_column(kind, n),
            "hazard_id": text_column(hazard_id, n),
            "rule": text_column(rule, n),
        }
    )


def no_zones() -> pd.DataFrame:
    """Return an empty zones table."""
    return zone_table(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), "", "", "")


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
    that carry rules to the kerb opposite (:func:`opposite_places`).

    Returns
    -------
    pandas.DataFrame
        One row per zone: ``kerb``, ``start_m``, ``end_m`` (forbidden, clipped to the kerb),
        ``hazard_start_m``, ``hazard_end_m`` (own extent), ``kind``, ``hazard_id``, ``rule``.
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
    else:
        h = k = np.zeros(0, dtype=np.int64)
        kinds = hid = np.zeros(0, dtype=object)
        width = s0 = s1 = np.zeros(0)
        point_like = np.zeros(0, dtype=bool)

    # Kerb corners as intersection anchors: the corner arc is the own extent.
    corner_start = kerbs["corner_start_m"].to_numpy(dtype=float)
    corner_end = kerbs["corner_end_m"].to_numpy(dtype=float)
    cs = np.flatnonzero(~np.isnan(corner_start))
    ce = np.flatnonzero(~np.isnan(corner_end))
    curb_ids = kerbs["curb_id"].to_numpy(dtype=object)
    k = np.concatenate([k, cs, ce])
    kinds = np.concatenate([kinds, np.full(len(cs) + len(ce), "intersection", dtype=object)])
    hid = np.concatenate(
        [hid, [f"corner:{c}:start" for c in curb_ids[cs]], [f"corner:{c}:end" for c in curb_ids[ce]]]
    )
    width = np.concatenate([width, np.zeros(len(cs) + len(ce))])
    s0 = np.concatenate([s0, np.zeros(len(cs)), lengths[ce] - np.minimum(corner_end[ce], lengths[ce])])
    s1 = np.concatenate([s1, np.minimum(corner_start[cs], lengths[cs]), lengths[ce]])
    point_like = np.concatenate([point_like, np.zeros(len(cs) + len(ce), dtype=bool)])

    # One row per (place, clearance rule of its kind): a kind may have several rules.
    # The rules of every kind present, flattened; each place points at its kind's first rule.
    kind_code, kind_names = pd.factorize(pd.Series(kinds, dtype=object), sort=False)
    flat: list[Clearance] = []
    first_rule = np.zeros(len(kind_names), dtype=np.int64)
    n_rules = np.zeros(len(kind_names), dtype=np.int64)
    for i, kind in enumerate(kind_names):
        listed = rules.clearance_rules(str(kind))
        first_rule[i], n_rules[i] = len(flat), len(listed)
        flat += listed
    counts = n_rules[kind_code]
    row = np.repeat(np.arange(len(k)), counts)
    which = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    rid = first_rule[kind_code][row] + which
    k, kinds, hid, width, s0, s1, point_like = (x[row] for x in (k, kinds, hid, width, s0, s1, point_like))
    before = np.array([c.before_m for c in flat])[rid]
    after = np.array([c.after_m for c in flat])[rid]
    default_w = np.array([c.default_width_m if c.default_width_m is not None else 0.0 for c in flat])[rid]
    min_w = np.array([c.min_width_m for c in flat])[rid]
    centre = np.array([c.anchor == "centre" for c in flat], dtype=bool)[rid]
    applies = np.array([c.applies_to for c in flat], dtype=object)[rid]
    rule_text = np.array([_rule_text(rules.name, c) for c in flat], dtype=object)[rid]

    w = np.where(np.isnan(width), default_w, width)
    w = np.where(point_like, np.maximum(w, min_w), 0.0)
    a = s0 - w / 2.0
    b = s1 + w / 2.0
    # Span of an along-kerb hazard shorter than its minimum width grows about its middle.
    short = ~point_like & (b - a < min_w)
    mid = (a + b) / 2.0
    a = np.where(short, mid - min_w / 2.0, a)
    b = np.where(short, mid + min_w / 2.0, b)

    # Rules for the kerb opposite: the same extent and clearances, projected across the carriageway.
    far = np.flatnonzero(applies != "same")
    if len(far):
        k_opp, s_opp = opposite_places(kerbs, k[far], (a[far] + b[far]) / 2.0, workers)
        ok = k_opp >= 0
        sel = far[ok]
        half = (b[sel] - a[sel]) / 2.0
        k = np.concatenate([k, k_opp[ok]])
        a = np.concatenate([a, s_opp[ok] - half])
        b = np.concatenate([b, s_opp[ok] + half])
        kinds, hid, rule_text = (np.concatenate([x, x[sel]]) for x in (kinds, hid, rule_text))
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
    zones = zones[zones["end_m"] > zones["start_m"]]
    # Numeric keys only (a text key is slow on millions of zones); ties keep their input order. Clearances
    # differ by kind, so the matches' order says little about the zones' order: one three-key sort.
    order = np.lexsort(
        (
            zones["end_m"].to_numpy(dtype=float),
            zones["start_m"].to_numpy(dtype=float),
            zones["kerb"].to_numpy(dtype=np.int64),
        )
    )
    return zones.iloc[order].reset_index(drop=True)


def kerb_order(
    kerb: NDArray[np.int64], start: NDArray[np.float64], end: NDArray[np.float64] | None = None
) -> NDArray[np.int64]:
    """Return the order of ``np.lexsort((end, start, kerb))`` (no ``end``: of ``np.lexsort((start, kerb))``).

    Made for rows that mostly come in that order already (concatenations of parts that are each sorted):
    a stable sort by kerb alone (timsort, quick on sorted runs) puts most kerbs in order, and only the
    kerbs whose rows then still disagree with (start, end) are sorted on all keys. Ties keep their input
    order, so the result is that of the full sort. Keys with NaN go to the full sort.
    """
    keys = (start,) if end is None else (end, start)
    if any(np.isnan(x).any() for x in keys):
        return np.lexsort((*keys, kerb))
    order = np.argsort(kerb, kind="stable")
    ks, ss = kerb[order], start[order]
    back = ss[1:] < ss[:-1]
    if end is not None:
        es = end[order]
        back |= (ss[1:] == ss[:-1]) & (es[1:] < es[:-1])
    back &= ks[1:] == ks[:-1]
    if back.any():
        rows = np.flatnonzero(np.isin(ks, np.unique(ks[1:][back])))
        order[rows] = order[rows[np.lexsort(tuple(x[order[rows]] for x in (*keys, kerb)))]]
    return order


def sort_zones(zones: pd.DataFrame) -> pd.DataFrame:
    """Sort zones by kerb, start and end; ties keep their input order (numeric keys; :func:`kerb_order`)."""
    order = kerb_order(
        zones["kerb"].to_numpy(dtype=np.int64),
        zones["start_m"].to_numpy(dtype=float),
        zones["end_m"].to_numpy(dtype=float),
    )
    return zones.iloc[order].reset_index(drop=True)


def _rule_text(name: str, c: Clearance) -> str:
    text = f"{name}: {c.kind} before {c.before_m:g} m, after {c.after_m:g} m"
    if c.anchor != "edge":
        text += f", from its {c.anchor}"
    if c.applies_to != "same":
        text += f", {c.applies_to} side" if c.applies_to == "opposite" else ", both sides"
    return text


OPPOSITE_REACH_M = 60.0
"""How far across the carriageway the kerb opposite a place is looked for (metres)."""


def opposite_places(
    kerbs: gpd.GeoDataFrame, kerb: NDArray[np.int64], s: NDArray[np.float64], workers: int | None = 1
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Find the kerb across the carriageway from each place, and the chainage there.

    A ray leaves the place at right angles to its kerb, towards the carriageway, for
    :data:`OPPOSITE_REACH_M`; the first other kerb it meets is the kerb opposite, and the place there is
    where the ray meets it. ``-1`` where no kerb is met. See :func:`opposite_hits`.
    """
    k, at, _ = opposite_hits(kerbs, kerb, s, workers)
    return k, at


def opposite_hits(
    kerbs: gpd.GeoDataFrame, kerb: NDArray[np.int64], s: NDArray[np.float64], workers: int | None = 1
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Cast the rays of :func:`opposite_places`; also return how far each ray went (metres, ``inf``: no hit).

    Everything is closed-form numpy on the kerbs' straight segments: the place and its direction from the
    segment that holds it, the hits after a bounding-box query. Many places are split among ``workers``
    processes (:mod:`parkplan.parallel`); each ray is independent, so the result is the same.
    """
    segments = _Segments(kerbs)
    bounds = chunk_bounds(len(kerb), workers)
    if len(bounds) > 1:
        segments.tree  # noqa: B018 - built once here, before the workers fork
        places = [(kerb[lo:hi], s[lo:hi]) for lo, hi in bounds]
        parts = fork_map(lambda p: segments.cast(*p), places, workers)
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )
    return segments.cast(kerb, s)


class _Segments:
    """The kerbs' straight segments with the chainage where each starts, and a tree of their boxes.

    Built once per :func:`opposite_hits` call and shared by its chunks (inherited by forked workers; the
    tree is rebuilt where the index is unpickled, e.g. on a Dask worker).
    """

    def __init__(self, kerbs: gpd.GeoDataFrame) -> None:
        index = KerbIndex(np.asarray(kerbs.geometry.values, dtype=object))
        self.lengths = kerbs["length_m"].to_numpy(dtype=float)
        self.left = kerbs["carriageway"].to_numpy(dtype=object) == "left"
        v = np.flatnonzero(index.owner[1:] == index.owner[:-1])  # segment v -> v + 1 inside a kerb
        self.a, self.b, self.k = rows(index.xy, v), rows(index.xy, v + 1), index.owner[v]
        self.length = index.seg_len[v]
        self.chain0 = index.chain[v]
        self._tree: shapely.STRtree | None = None

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_tree": None}

    @property
    def tree(self) -> shapely.STRtree:
        """STRtree of the segments' bounding boxes."""
        if self._tree is None:
            a, b = self.a, self.b
            self._tree = shapely.STRtree(
                shapely.box(
                    np.minimum(a[:, 0], b[:, 0]),
                    np.minimum(a[:, 1], b[:, 1]),
                    np.maximum(a[:, 0], b[:, 0]),
                    np.maximum(a[:, 1], b[:, 1]),
                )
            )
        return self._tree

    def cast(
        self, kerb: NDArray[np.int64], s: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """Cast the rays of :func:`opposite_hits` from these places, in this process."""
        lengths, seg_a, seg_b, seg_k = self.lengths, self.a, self.b, self.k
        seg_len, chain0 = self.length, self.chain0
        out_k = np.full(len(kerb), -1, dtype=np.int64)
        out_s = np.zeros(len(kerb))
        out_d = np.full(len(kerb), np.inf)
        if len(kerb) == 0 or len(lengths) == 0:
            return out_k, out_s, out_d
        side = np.where(self.left, 1.0, -1.0)[kerb]
        # Each place on the segment that holds it (segments of positive length, in kerb and chainage order).
        s = np.clip(s, 0.0, lengths[kerb])
        real = np.flatnonzero(seg_len > 1e-9)
        if len(real) == 0:
            return out_k, out_s, out_d
        stride = float(lengths.max()) + 1.0
        key = seg_k[real] * stride + chain0[real]
        q = np.searchsorted(key, kerb * stride + s, side="right") - 1
        lo = np.searchsorted(seg_k[real], kerb, side="left")
        hi = np.searchsorted(seg_k[real], kerb, side="right") - 1
        has = hi >= lo  # a kerb of no length casts no ray
        q = real[np.minimum(np.clip(q, lo, np.maximum(hi, lo)), len(real) - 1)]
        a_q = rows(seg_a, q)
        e_q = rows(seg_b, q) - a_q
        len_q = np.where(seg_len[q] > 0, seg_len[q], 1.0)
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
        ri, si = self.tree.query(ray_boxes)
        other = (seg_k[si] != kerb[ri]) & has[ri]
        ri, si = ri[other], si[other]
        if len(ri) == 0:
            return out_k, out_s, out_d
        # Ray: start + t * ray, 0 <= t <= 1; segment: a + u * (b - a), 0 <= u <= 1.
        r = rows(ray, ri)
        a_s = rows(seg_a, si)
        e = rows(seg_b, si) - a_s
        w = a_s - rows(start, ri)
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


def merge_intervals(
    group: NDArray[np.int64], start: NDArray[np.float64], end: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Merge overlapping or touching intervals within each group (vectorised).

    Parameters
    ----------
    group, start, end
        Interval group (kerb) and bounds; any order.

    Returns
    -------
    tuple
        Group, start and end of the merged intervals, sorted by group then start.
    """
    if len(group) == 0:
        return group.astype(np.int64), start.astype(float), end.astype(float)
    order = kerb_order(group, start)
    g, s, e = group[order], start[order], end[order]
    big = float(np.max(e) - np.min(s)) + 1.0
    offset = (g - g.min()).astype(float) * big * 4.0
    run_end = np.maximum.accumulate(e + offset) - offset
    new = np.ones(len(g), dtype=bool)
    new[1:] = (g[1:] != g[:-1]) | (s[1:] > run_end[:-1])
    ids = np.cumsum(new) - 1
    out_g = g[new]
    out_s = s[new]
    out_e = np.zeros(len(out_g))
    np.maximum.at(out_e, ids, run_end)
    return out_g.astype(np.int64), out_s, out_e


def free_stretches(zones: pd.DataFrame, lengths: NDArray[np.float64]) -> pd.DataFrame:
    """Return the free stretches of every kerb: the complement of its merged zones.

    Returns
    -------
    pandas.DataFrame
        ``kerb``, ``start_m``, ``end_m``, ``length_m`` for every stretch longer than 0.
    """
    n = len(lengths)
    g, s, e = merge_intervals(
        zones["kerb"].to_numpy(dtype=np.int64),
        zones["start_m"].to_numpy(dtype=float),
        zones["end_m"].to_numpy(dtype=float),
    )
    # Candidate gaps: from each kerb start / merged-zone end to the next merged-zone start / kerb end.
    gap_kerb = np.concatenate([np.arange(n), g])
    gap_start = np.concatenate([np.zeros(n), e])
    order = kerb_order(gap_kerb, gap_start)
    gap_kerb, gap_start = gap_kerb[order], gap_start[order]
    nxt_kerb = np.concatenate([g, np.arange(n)])
    nxt_start = np.concatenate([s, lengths])
    order2 = kerb_order(nxt_kerb, nxt_start)
    nxt_kerb, nxt_start = nxt_kerb[order2], nxt_start[order2]
    # Each kerb has (zones + 1) gap starts and (zones + 1) gap ends, in the same order.
    assert np.array_equal(gap_kerb, nxt_kerb)
    out = pd.DataFrame({"kerb": gap_kerb, "start_m": gap_start, "end_m": nxt_start})
    out["length_m"] = out["end_m"] - out["start_m"]
    out = out[out["length_m"] > 0].reset_index(drop=True)
    return out
