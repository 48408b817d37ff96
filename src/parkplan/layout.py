"""Counts back to geometry: bay chainages, then bay polygons on the carriageway side of the kerb.

Placement within a free stretch: runs follow each other in chainage order separated by exactly the
grouping gap, blocks of one type inside a run in the order the rules declare the types, and the whole
layout is centred in the stretch (the slack is split equally between its two ends).

Polygons (vectorised over all bays at once):

* parallel and perpendicular bays follow the kerb: their kerb edge is the kerb between the bay's two
  chainages (all kerb vertices in between kept) and their far edge is that line offset by the bay's
  depth towards the carriageway, with mitred vertex normals; two bays that share a chainage share the
  normal there, so neighbours share an edge and never overlap;
* angled bays are parallelograms: the kerb edge between the chainages, the far edge shifted upstream
  (against the flow of traffic) by the run's end-triangle length, since cars nose in forwards.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkplan._arrays import rows, scaled, set_rows
from parkplan._parallel import thread_map
from parkplan.geometry.kerbs import KerbIndex, lines_from_points, polygons_from_rings
from parkplan.optimize.solve import bay_arrays
from parkplan.rules.loading import Rules

__all__ = ["KerbIndex", "bay_polygons", "kerb_edge", "kerb_lines", "place_bays"]


def place_bays(
    blocks: pd.DataFrame, stretches: pd.DataFrame, rules: Rules, backward: NDArray[np.bool_]
) -> pd.DataFrame:
    """Chainages of every bay.

    Parameters
    ----------
    blocks
        ``stretch``, ``run``, ``type``, ``count`` from :func:`parkplan.optimize.solve.solve_stretches`.
    stretches
        Free stretches (``kerb``, ``start_m``, ``end_m``, ``length_m``).
    rules
        Rules (bay types, grouping gap).
    backward
        Per kerb: traffic flows against the digitised direction (puts angled bays' end triangles at the
        high-chainage end of their run).

    Returns
    -------
    pandas.DataFrame
        One row per bay: ``kerb``, ``stretch``, ``run``, ``type``, ``start_m``, ``end_m`` (kerb edge),
        ``far_start_m``, ``far_end_m`` (carriageway edge; differs for angled bays), sorted by kerb and
        chainage.
    """
    arrays = bay_arrays(rules)
    pitch = arrays.pitch_mm / 1000.0
    end = arrays.end_mm / 1000.0
    gap = 0.0 if rules.grouping is None else float(np.ceil(rules.grouping.gap_m * 1000.0 - 1e-6) / 1000.0)
    if len(blocks) == 0:
        return pd.DataFrame(
            {
                c: np.zeros(0, dtype=np.int64 if c in ("kerb", "stretch", "run", "type") else float)
                for c in ("kerb", "stretch", "run", "type", "start_m", "end_m", "far_start_m", "far_end_m")
            }
        )
    # Blocks in run order: by ``slot`` where given (quotas put accessible bays first or last), else type.
    b = blocks.sort_values(["stretch", "run", "slot" if "slot" in blocks.columns else "type"], kind="stable")
    st = b["stretch"].to_numpy(dtype=np.int64)
    run = b["run"].to_numpy(dtype=np.int64)
    typ = b["type"].to_numpy(dtype=np.int64)
    cnt = b["count"].to_numpy(dtype=np.int64)
    blen = arrays.block_mm(typ, cnt) / 1000.0
    delta = arrays.delta / 1000.0

    # Offset of each block inside its stretch: earlier blocks plus one gap per earlier run.
    cum = np.cumsum(blen) - blen
    first_of_stretch = np.ones(len(st), dtype=bool)
    first_of_stretch[1:] = st[1:] != st[:-1]
    stretch_base = np.maximum.accumulate(np.where(first_of_stretch, np.arange(len(st)), 0))
    within = cum - cum[stretch_base]
    new_run = first_of_stretch.copy()
    new_run[1:] |= run[1:] != run[:-1]
    runs_before = np.cumsum(new_run) - 1
    runs_before = runs_before - runs_before[stretch_base]
    block_off = within + runs_before * gap

    # Total used per stretch, then centre.
    last = np.append(np.flatnonzero(first_of_stretch)[1:] - 1, len(st) - 1)
    used = block_off[last] + blen[last]
    s_start = stretches["start_m"].to_numpy(dtype=float)[st[last]]
    s_len = stretches["length_m"].to_numpy(dtype=float)[st[last]]
    slack = np.maximum(s_len - used, 0.0) / 2.0
    stretch_no = np.cumsum(first_of_stretch) - 1
    block_start = s_start[stretch_no] + slack[stretch_no] + block_off

    # Expand blocks into bays.
    bay_block = np.repeat(np.arange(len(st)), cnt)
    first_bay = np.cumsum(cnt) - cnt
    i = np.arange(len(bay_block)) - first_bay[bay_block]
    t = typ[bay_block]
    kerb = stretches["kerb"].to_numpy(dtype=np.int64)[st[bay_block]]
    # End-of-run bays (delta != 0): the first and the last bay of a block are ``delta`` longer.
    d = delta[t]
    last_in_block = i == cnt[bay_block] - 1
    base = block_start[bay_block] + i * pitch[t] + np.where(i >= 1, d, 0.0)
    own = pitch[t] + np.where((i == 0) | last_in_block, d, 0.0)
    s_end = (s_start + s_len)[stretch_no[bay_block]]
    # Cars nose into angled bays forwards, so a bay's kerb edge lies downstream of its far edge by the
    # end triangle: forward flow puts the triangle at the low-chainage end of the run, backward flow at
    # the high end. Other orientations have no triangle (end = 0) and both edges coincide.
    back = np.asarray(backward, dtype=bool)[kerb]
    e = end[t]
    kerb_start = np.where(back, base, base + e)
    far_start = np.where(back, base + e, base)
    return pd.DataFrame(
        {
            "kerb": kerb,
            "stretch": st[bay_block],
            "run": run[bay_block],
            "type": t,
            "start_m": kerb_start,
            "end_m": np.minimum(kerb_start + own, s_end),
            "far_start_m": far_start,
            "far_end_m": np.minimum(far_start + own, s_end),
        }
    )


def bay_polygons(
    bays: pd.DataFrame,
    kerbs: gpd.GeoDataFrame,
    rules: Rules,
    index: KerbIndex | None = None,
    workers: int | None = 1,
) -> NDArray[np.object_]:
    """Polygons of the placed bays (working CRS).

    Parameters
    ----------
    bays
        Output of :func:`place_bays`.
    kerbs
        Kerb table (geometry, ``carriageway``, ``flow``).
    rules
        Rules (bay depth per type).
    index
        Precomputed :class:`KerbIndex` of the kerbs.
    workers
        Threads building the polygons and querying their index (:func:`parkplan._parallel.thread_map`;
        ``None``: all CPUs). The polygons are the same for any number.

    Returns
    -------
    numpy.ndarray
        One Polygon per bay, in the order of ``bays``.
    """
    if len(bays) == 0:
        return np.zeros(0, dtype=object)
    idx = index or KerbIndex(np.asarray(kerbs.geometry.values, dtype=object))
    depth_by_type = np.array([b.depth_m for b in rules.bays])
    angled_type = np.array([b.orientation == "angled" for b in rules.bays])
    k = bays["kerb"].to_numpy(dtype=np.int64)
    t = bays["type"].to_numpy(dtype=np.int64)
    side = np.where(kerbs["carriageway"].to_numpy(dtype=object)[k] == "left", 1.0, -1.0)
    a_k = bays["start_m"].to_numpy(dtype=float)
    b_k = bays["end_m"].to_numpy(dtype=float)
    fa_k = bays["far_start_m"].to_numpy(dtype=float)
    fb_k = bays["far_end_m"].to_numpy(dtype=float)
    depth = depth_by_type[t] * side
    angled = angled_type[t]
    out = np.empty(len(bays), dtype=object)

    if (~angled).any():
        m = np.flatnonzero(~angled)
        parts = thread_map(
            lambda lo, hi: _following(idx, k[m[lo:hi]], a_k[m[lo:hi]], b_k[m[lo:hi]], depth[m[lo:hi]]),
            len(m),
            workers,
        )
        out[m] = np.concatenate(parts)
    if angled.any():
        m = np.flatnonzero(angled)
        out[m] = _angled(idx, k[m], a_k[m], b_k[m], fa_k[m], fb_k[m], depth[m])
    return _untangle(out, idx, k, a_k, b_k, depth, angled, workers)


def _angled(
    idx: KerbIndex,
    k: NDArray[np.int64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    fa: NDArray[np.float64],
    fb: NDArray[np.float64],
    depth: NDArray[np.float64],
) -> NDArray[np.object_]:
    """Angled bays: the kerb between ``a`` and ``b`` (every kerb vertex kept), then the far edge straight.

    The kerb side follows the kerb like a parallel bay's: a straight chord across a curving kerb would
    cut the footway (Helsinki: 0.03-0.19 m² of angled bays outside the street area on a kerb curving on
    a 30 m radius). The far corners are the kerb points at the far chainages, offset by the depth.
    """
    pts, _, c = kerb_edge(idx, k, a, b)
    q1, s1 = idx.point(k, fb)
    q0, s0 = idx.point(k, fa)
    q1 = q1 + scaled(rows(idx.seg_normal, s1), depth)
    q0 = q0 + scaled(rows(idx.seg_normal, s0), depth)
    n = len(k)
    fs = np.cumsum(c) - c
    start = fs + 3 * np.arange(n)  # ring j: its c kerb points, q1, q0, its first point again
    owner = np.repeat(np.arange(n), c)
    ring = np.empty((len(pts) + 3 * n, 2))
    set_rows(ring, start[owner] + np.arange(len(pts)) - fs[owner], pts)
    set_rows(ring, start + c, q1)
    set_rows(ring, start + c + 1, q0)
    set_rows(ring, start + c + 2, rows(pts, fs))
    return polygons_from_rings(ring, c + 3)


def _largest_polygon(
    geoms: NDArray[np.object_], near_m: float = 0.001, thin_m: float = 0.01
) -> NDArray[np.object_]:
    """Return the largest polygon part of each (valid) geometry, without near-duplicates or thin spikes.

    GEOS' overlay (the overlap trim in :func:`_untangle`) and single-sided buffers (its redraw of a
    folded bay on a tight curve) leave vertices a tenth of a millimetre apart, and spikes a few
    centimetres long and a fraction of a millimetre thin, valid here but folded over by the output grid.
    Vertices closer than ``near_m`` are merged (``remove_repeated_points``), then the part is opened by
    ``thin_m`` (shrunk and grown back, mitred: straight edges and corners stay, anything thinner than
    2 x ``thin_m`` goes). Each step is kept where the part stays one valid polygon whose area changes by at
    most the step's distance x its perimeter; elsewhere the part is kept as it was.
    """
    parts, which = shapely.get_parts(geoms, return_index=True)
    polygon = shapely.get_type_id(parts) == 3
    parts, which = parts[polygon], which[polygon]
    area = shapely.area(parts)
    order = np.lexsort((-area, which))
    first = np.ones(len(order), dtype=bool)
    first[1:] = which[order][1:] != which[order][:-1]
    out = np.array([shapely.Polygon()] * len(geoms), dtype=object)
    best = parts[order][first]
    for step, distance in enumerate((near_m, thin_m)):
        if len(best) == 0:
            break
        if step == 0:
            changed = shapely.remove_repeated_points(best, near_m)
        else:
            shrunk = shapely.buffer(best, -thin_m, join_style="mitre")
            changed = shapely.buffer(shrunk, thin_m, join_style="mitre")
        ok = (
            (shapely.get_type_id(changed) == 3)
            & shapely.is_valid(changed)
            & (np.abs(shapely.area(changed) - shapely.area(best)) <= distance * shapely.length(best))
        )
        best = np.where(ok, changed, best)
    out[which[order][first]] = best
    return out


def _untangle(
    polys: NDArray[np.object_],
    idx: KerbIndex,
    k: NDArray[np.int64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    depth: NDArray[np.float64],
    angled: NDArray[np.bool_],
    workers: int | None = 1,
) -> NDArray[np.object_]:
    """Make every bay a valid polygon that overlaps no other bay.

    On the inside of a bend a bay's far side is shorter than its kerb side (by about depth x turn): a
    narrow bay straddling the vertex folds over itself, and two bays meeting near the vertex meet again
    at their far ends. Folded bays are redrawn as the single-sided buffer of their kerb (GEOS trims the
    fold), and where two bays still overlap the later one (along the kerb) gives up the overlap, a sliver
    at its far corner. Bays keep their chainages on the kerb.
    """
    out = polys.copy()
    # A bay within one straight segment of its kerb is a rectangle, valid by construction: only bays
    # spanning a kerb vertex (and angled ones, whose far edge may lie on another segment) are checked.
    seg_a = idx.segment(k, a)
    straight = seg_a == idx.segment(k, np.maximum(b - 1e-9, a))
    check = np.flatnonzero(~straight | angled)
    valid = thread_map(lambda lo, hi: shapely.is_valid(out[check[lo:hi]]), len(check), workers)
    bad = check[~np.concatenate(valid)]
    if len(bad):
        plain = bad[~angled[bad]]
        if len(plain):
            lines = kerb_lines(idx, k[plain], a[plain], b[plain])
            out[plain] = shapely.buffer(
                lines, depth[plain], single_sided=True, cap_style="flat", join_style="mitre"
            )
        tilted = bad[angled[bad]]
        if len(tilted):
            out[tilted] = shapely.make_valid(out[tilted])
        out[bad] = _largest_polygon(out[bad])
    cand = _overlap_candidates(out, idx, k, a, b, depth, seg_a, angled | ~straight, workers)
    sub = out[cand]
    tree = shapely.STRtree(sub)  # built here, so threads may query it together
    found = thread_map(lambda lo, hi: tree.query(sub[lo:hi]) + np.array([[lo], [0]]), len(sub), workers)
    pairs = cand[np.concatenate(found, axis=1)]
    # By first bay, then second: each bay is trimmed only by pairs whose second bay it is, all of which
    # come in the groups of lower first bays, so the order of the second bays within a group is free.
    pairs = pairs[:, np.lexsort((pairs[1], pairs[0]))]
    i, j = pairs[0], pairs[1]
    keep = i < j
    # Two bays each within one straight segment of the same kerb lie side by side and cannot overlap:
    # only the other candidate pairs are tested (most bays of a city are such neighbours).
    same = (k[i] == k[j]) & straight[i] & straight[j] & (seg_a[i] == seg_a[j])
    keep &= ~same
    i, j = i[keep], j[keep]
    if len(i):
        touching = shapely.overlaps(out[i], out[j])
        i, j = i[touching], j[touching]
    if len(i):
        area = shapely.area(shapely.intersection(out[i], out[j]))
        real = area > 1e-9
        # Sequentially: each later bay loses what it shares with earlier ones.
        for p, q in zip(i[real].tolist(), j[real].tolist(), strict=True):
            trimmed = shapely.difference(out[q], out[p])
            out[q] = _largest_polygon(np.array([trimmed], dtype=object))[0]
    return out


def _overlap_candidates(
    polys: NDArray[np.object_],
    idx: KerbIndex,
    k: NDArray[np.int64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    depth: NDArray[np.float64],
    seg_a: NDArray[np.int64],
    loose: NDArray[np.bool_],
    workers: int | None,
) -> NDArray[np.int64]:
    """Bays that may overlap a bay other than their neighbours on the same straight kerb segment.

    The bays lying within one segment (not ``loose``: not angled, not spanning a vertex) are grouped by
    segment; each group's polygons lie within its *region*, the rectangle from the group's first
    chainage to its last, as deep as its deepest bay on either side (a micrometre larger all round). A
    bay that overlaps a bay of another group overlaps that group's region, so only bays of groups whose
    region meets another region or a loose bay, and that themselves meet one, can overlap across
    groups; loose bays are always candidates. In a city most regions meet nothing (bays keep away from
    corners): the index of every bay is not needed.
    """
    n = len(polys)
    grouped = ~loose & (idx.segment(k, b) == seg_a)
    gi = np.flatnonzero(grouped)
    if len(gi) == 0:
        return np.arange(n)
    seg = seg_a[gi]
    order = np.argsort(seg, kind="stable")
    gi, seg = gi[order], seg[order]
    first = np.ones(len(gi), dtype=bool)
    first[1:] = seg[1:] != seg[:-1]
    starts = np.flatnonzero(first)
    s = seg[starts]
    lo = np.minimum.reduceat(a[gi], starts) - 1e-6
    hi = np.maximum.reduceat(b[gi], starts) + 1e-6
    d = depth[gi]
    left = (np.maximum.reduceat(np.maximum(d, 0.0), starts) + 1e-6)[:, None]
    right = (np.maximum.reduceat(np.maximum(-d, 0.0), starts) + 1e-6)[:, None]
    length = np.where(idx.seg_len[s] > 0, idx.seg_len[s], 1.0)
    along = (idx.xy[s + 1] - idx.xy[s]) / length[:, None]
    p0 = idx.xy[s] + along * (lo - idx.chain[s])[:, None]
    p1 = idx.xy[s] + along * (hi - idx.chain[s])[:, None]
    nrm = idx.seg_normal[s]
    ring = np.stack(
        [p0 - nrm * right, p1 - nrm * right, p1 + nrm * left, p0 + nrm * left, p0 - nrm * right], axis=1
    )
    regions = polygons_from_rings(ring.reshape(-1, 2), np.full(len(s), 5, dtype=np.int64))
    group = np.full(n, -1, dtype=np.int64)
    group[gi] = np.cumsum(first) - 1
    li = np.flatnonzero(~grouped)
    # One index over the regions and the loose bays: item r < len(regions) is region r.
    items = np.concatenate([regions, polys[li]])
    tree = shapely.STRtree(items)
    r, hit = tree.query(regions, predicate="intersects")
    busy = np.zeros(len(regions), dtype=bool)
    busy[r[hit != r]] = True
    ask = gi[busy[group[gi]]]
    if len(ask) == 0:
        return li
    found = thread_map(
        lambda lo_, hi_: tree.query(polys[ask[lo_:hi_]], predicate="intersects") + np.array([[lo_], [0]]),
        len(ask),
        workers,
    )
    q, hit = np.concatenate(found, axis=1)
    near = np.zeros(len(ask), dtype=bool)
    near[q[hit != group[ask[q]]]] = True
    return np.union1d(li, ask[near])


def kerb_edge(
    idx: KerbIndex,
    k: NDArray[np.int64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    end_m: float = 0.02,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Points of the kerb between chainages ``a`` and ``b``: P(a), the vertices inside, P(b).

    Kerb vertices within ``end_m`` of either end (along the kerb) are left out: such a vertex leaves an
    edge of millimetres beside the bay's end, which the output grid folds over (see
    :func:`parkplan.io.write.clean_geometries`); the edge runs straight from its end to the next vertex
    instead, at most ``end_m`` x sin(turn) from the kerb. The default, 2 cm, is more than the diagonal
    of the GeoJSON grid anywhere (1e-7 degree: at most 1.11 x 1.11 cm, diagonal 1.57 cm).

    Returns the flat points, the offset normal at each point and the number of points per item.
    """
    pa, sa = idx.point(k, a)
    pb, sb = idx.point(k, b)
    lo, hi = idx.vertices.inside(k, a, b, margin=end_m)
    lo = np.maximum(lo, idx.first_vertex[k])
    hi = np.minimum(hi, idx.last_vertex[k] + 1)
    c = np.maximum(hi - lo, 0) + 2
    fs = np.cumsum(c) - c
    total = int(c.sum())
    # Vertex lo - 1 + position for every point (one gather), then both ends overwritten.
    vert = np.repeat(lo - 1 - fs, c) + np.arange(total)
    np.clip(vert, 0, len(idx.xy) - 1, out=vert)
    pts = rows(idx.xy, vert)
    nrm = rows(idx.vertex_normal, vert)
    last = fs + c - 1
    set_rows(pts, fs, pa)
    set_rows(pts, last, pb)
    set_rows(nrm, fs, rows(idx.seg_normal, sa))
    set_rows(nrm, last, rows(idx.seg_normal, sb))
    return pts, nrm, c


def kerb_lines(
    idx: KerbIndex,
    k: NDArray[np.int64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    workers: int | None = 1,
) -> NDArray[np.object_]:
    """LineStrings of the kerb between chainages ``a`` and ``b`` (vectorised ``substring``).

    ``workers``: threads (:func:`parkplan._parallel.thread_map`; ``None``: all CPUs); same lines for any.
    """
    if len(k) == 0:
        return np.zeros(0, dtype=object)

    def part(lo: int, hi: int) -> NDArray[np.object_]:
        pts, _, c = kerb_edge(idx, k[lo:hi], a[lo:hi], b[lo:hi])
        return lines_from_points(pts, c)

    return np.concatenate(thread_map(part, len(k), workers))


def _following(
    idx: KerbIndex,
    k: NDArray[np.int64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    depth: NDArray[np.float64],
    end_m: float = 0.02,
) -> NDArray[np.object_]:
    """Kerb-following polygons between chainages ``a`` and ``b``, ``depth`` to the left (negative: right).

    The kerb edge is :func:`kerb_edge`'s (no kerb vertex within ``end_m`` of an end). On the inside of a
    bend the far edge is shorter than the kerb edge, by about depth x tan(turn / 2) per vertex: a far
    point less than ``end_m`` inside a far corner (along the kerb's direction at that end), or past it
    with the corner less than ``end_m`` from the far edge that returns from it, is left out (its kerb
    point stays): no edge beside a bay's end is then shorter, and no spike past its end thinner, than
    the output grid can keep. A bay that is still not a simple polygon (a sharper bend) is redrawn by
    :func:`_untangle`.
    """
    fw, nrm, c = kerb_edge(idx, k, a, b, end_m)
    n = len(k)
    fs = np.cumsum(c) - c
    owner = np.repeat(np.arange(n), c)
    off = fw + scaled(nrm, depth[owner])
    # Ring of item j (2 c + 1 points from 2 fs + j): its kerb points forward, its far points backward,
    # its first point again. Each point's place in the rings, in three scatters.
    p = np.arange(len(fw))
    f = fs[owner]
    ring = np.empty((2 * len(fw) + n, 2))
    set_rows(ring, f + owner + p, fw)
    far_row = 3 * f + owner + 2 * c[owner] - 1 - p
    set_rows(ring, far_row, off)
    set_rows(ring, 2 * fs + np.arange(n) + 2 * c, rows(fw, fs))
    size = 2 * c + 1
    inner = np.flatnonzero((p != f) & (p != f + c[owner] - 1))
    if len(inner):
        # Each inner far point against the far corner at either end, along the kerb's direction there:
        # less than end_m inside the corner, it goes (an edge shorter than the grid); past the corner, it
        # goes if the lip it makes past the bay's end is thinner than end_m: the corner lies that close to
        # the far edge returning from the point (a spike a fraction of a millimetre thin, on the inside
        # of a shallow bend). A thicker lip stays (the overlap trim in _untangle cuts what it shares with
        # the next bay).
        o = owner[inner]
        here = off[inner]
        drop_mask = np.zeros(len(inner), dtype=bool)
        for corner, back, sign in ((fs[o], inner + 1, 1.0), (fs[o] + c[o] - 1, inner - 1, -1.0)):
            at = rows(off, corner)
            rel = (here - at) * sign
            n_end = rows(nrm, corner)
            along = rel[:, 0] * n_end[:, 1] - rel[:, 1] * n_end[:, 0]
            edge = rows(off, back) - here
            to_corner = at - here
            length = np.hypot(edge[:, 0], edge[:, 1])
            lip = np.abs(edge[:, 0] * to_corner[:, 1] - edge[:, 1] * to_corner[:, 0])
            drop_mask |= (along < end_m) & ((along >= 0.0) | (lip < end_m * length))
        drop = inner[drop_mask]
        if len(drop):
            keep = np.ones(len(ring), dtype=bool)
            keep[far_row[drop]] = False
            ring = ring[keep]
            size = size - np.bincount(owner[drop], minlength=n)
    return polygons_from_rings(ring, size)
