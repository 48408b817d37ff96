"""Keep what is legal: reach the optimum count while moving as few existing bays as possible.

Restriping costs money, so a city re-planning a district wants the optimal number of bays with as many
of today's bays as possible left where they are. Given an existing layout (bays from OSM existing mode,
parkplan's own output, or any bays file), every existing bay is projected onto its kerb (the nearest
kerb within :data:`MATCH_M`; through an index of kerb segments, so that a long kerb costs no more per
bay than a short one): its span is the chainage span of its kerb edge (:func:`existing_spans`). Then,
for each free stretch that holds one bay type (no end triangle, no end-of-run bays), with the optimal
count ``n`` already fixed by the model, a small CP-SAT model places the ``n`` bays::

    x[i]      integer mm     start of bay i (x[0] >= S, x[n-1] + p <= E)
    b[i]      boolean        a gap (a new run) after bay i         (with grouping only)
    x[i+1] >= x[i] + p + g * b[i]                                   (bays in order, gaps between runs)
    sum of b over any k consecutive bays >= 1                       (no run longer than k bays)
    y[i, j]   boolean        bay i stands on existing bay j        (y => |x[i] - a[j]| <= t)
    maximise  sum y        (then each x as near its existing start as the others allow)

Without grouping the same optimum is found exactly without a solver, in O(m log m) for m pairs of a
bay and a start it can take, plus list moves (:func:`_chain`): CP-SAT, which stops at
its 10 s limit unproven from a few hundred bays, is left for grouping.

An existing bay counts as kept when a planned bay stands on its chainage span to within
:data:`MATCH_TOLERANCE_M` (``t``, 1 cm: the precision of the output formats, so that a plan fed back
as its own existing layout is kept whole), and only if it has the planned bay's length (within
:data:`LENGTH_TOLERANCE_M`); others have to be restriped anyway. The count stays the optimum, so the
plan loses nothing by keeping. Stretches with several bay types (quota conversions, mixed types) or
angled bays keep the standard layout, and are reported; their bays too count as kept where they stand
on an existing bay (both ends within the tolerance), as a plan's own bays do.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from ortools.sat.python import cp_model

from parkplan import _interrupt as interrupt
from parkplan.geometry.chainage import ChainageIndex
from parkplan.geometry.kerbs import KerbSegments
from parkplan.optimize.solve import bay_arrays
from parkplan.rules.loading import Rules

__all__ = [
    "KERB_EDGE_FRACTION",
    "LENGTH_TOLERANCE_M",
    "MATCH_M",
    "MATCH_TOLERANCE_M",
    "KeepResult",
    "existing_spans",
    "keep_layout",
]

MATCH_M = 6.0
"""An existing bay belongs to the nearest kerb within this distance of its centre (metres)."""

MATCH_TOLERANCE_M = 0.01
"""A planned bay stands on an existing one when their starts (and, for :func:`_mark_standing`, ends) are
this close along the kerb (metres).

Why 1 cm: the output formats keep positions to about that. GeoJSON (RFC 7946) is written in WGS84 on a
1e-7 degree grid: rounding moves a coordinate by at most 0.5e-7 degree, 5.6 mm of latitude (and at most
as much of longitude), so a vertex moves at most 7.9 mm (both axes at once) and its chainage along the
kerb no more; chainages are taken in whole millimetres (0.5 mm more): 8.4 mm < 10 mm. GeoPackage,
FlatGeobuf and GeoParquet keep full doubles in the working CRS.

Why it cannot merge two distinct bays: within a stretch a planned bay can stand on two existing bays
only if their starts are at most 2 cm apart, and two planned bays on one existing bay only if theirs
are, but planned bays are a pitch apart (a bay's kerb length, metres) and two distinct existing bays
(they do not overlap) their length; starts closer than 2 cm are the same bay drawn twice and are taken
once (:func:`keep_layout`)."""

KERB_EDGE_FRACTION = 0.25
"""A vertex of an existing bay belongs to its kerb edge when it is no farther from the kerb than the
bay's nearest vertex plus this fraction of the bay's depth (its farthest vertex's distance less its
nearest's). The far edge of a bay on a bend, and of an angled bay, reaches along the kerb beyond the
kerb edge (up to 3 m for angled bays); the kerb edge is what a planned bay's ``start_m`` to ``end_m``
measure. A bay drawn as a line along the kerb is all kerb edge."""

LENGTH_TOLERANCE_M = 0.1
"""An existing bay can be kept only if its length along the kerb is the planned bay's, within this."""


def existing_spans(existing: gpd.GeoDataFrame, kerbs: gpd.GeoDataFrame) -> pd.DataFrame:
    """Project existing bays onto the kerbs.

    Parameters
    ----------
    existing
        Existing bays (polygons or lines) in the kerbs' CRS.
    kerbs
        Kerb table.

    Returns
    -------
    pandas.DataFrame
        ``bay`` (row in ``existing``), ``kerb``, ``start_m``, ``end_m`` for every bay within
        :data:`MATCH_M` of a kerb: the chainage span of its kerb edge, the vertices nearest the kerb
        (:data:`KERB_EDGE_FRACTION`).
    """
    geoms = np.asarray(existing.geometry.values, dtype=object)
    segs = KerbSegments(np.asarray(kerbs.geometry.values, dtype=object))
    if len(geoms) == 0 or len(segs) == 0:
        return pd.DataFrame({"bay": [], "kerb": [], "start_m": [], "end_m": []})
    # The nearest kerb is the kerb of the nearest kerb segment: an index of segments, not of whole kerbs
    # (whose distances walk every vertex of a long kerb).
    _, _, seg = segs.nearest_on(shapely.get_coordinates(shapely.centroid(geoms)), MATCH_M)
    bay = np.flatnonzero(seg >= 0)
    seg = seg[bay]
    kerb = segs.kerb[seg]
    coords, owner = shapely.get_coordinates(geoms[bay], return_index=True)
    # Each vertex onto the nearest point of its bay's kerb: no farther than the segment nearest the centre.
    _, reach = segs.locate(coords, seg[owner])
    s, dist_m, _ = segs.nearest_on(coords, reach + 1e-6, kerb[owner])
    ok = np.isfinite(s)
    owner, s, dist_m = owner[ok], s[ok], dist_m[ok]
    # The kerb edge: the vertices within a fraction of the bay's depth of its nearest one.
    near_m = np.full(len(geoms), np.inf)
    far_m = np.zeros(len(geoms))
    np.minimum.at(near_m, owner, dist_m)
    np.maximum.at(far_m, owner, dist_m)
    edge = dist_m <= near_m[owner] + KERB_EDGE_FRACTION * (far_m[owner] - near_m[owner]) + 1e-9
    span = pd.DataFrame({"i": owner[edge], "s": s[edge]}).groupby("i")["s"].agg(["min", "max"])
    idx = span.index.to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "bay": bay[idx],
            "kerb": kerb[idx],
            "start_m": span["min"].to_numpy(),
            "end_m": span["max"].to_numpy(),
        }
    )


@dataclass
class KeepResult:
    """Placed bays after keeping, and the counts."""

    placed: pd.DataFrame
    kept: NDArray[np.bool_]
    summary: dict[str, object] = field(default_factory=dict)


def _chain(
    lo: int, hi: int, n: int, pitch: int, starts: list[int], tol: int = 0
) -> tuple[list[int], list[bool]]:
    """Place ``n`` bays of ``pitch`` mm in ``[lo, hi]`` on as many ``starts`` as possible, without grouping.

    Bay ``i`` stands at ``lo + i * pitch + d[i]`` with ``d`` non-decreasing from 0 to the slack
    ``hi - lo - n * pitch``. Bay ``i`` stands on start ``a`` when ``|x[i] - a| <= tol``: ``d[i]`` in the
    window ``[a - tol, a + tol] - lo - i * pitch`` (cut to 0 .. slack). Pairs of a bay and a start can
    all hold at once exactly when ``d`` can rise through their windows in the order of their bays, so
    the most kept bays are the longest chain of pairs, by bay, whose windows a non-decreasing ``d``
    meets. ``starts`` must lie more than ``2 * tol`` apart, so a bay's windows on two starts are
    disjoint; taking a bay's pairs in falling windows, a chain takes at most one of them. A start's pairs
    are a pitch apart in ``d`` (more than the windows' width), so it is taken once.

    The chain is found as a longest non-decreasing subsequence of windows (``tol = 0``: of points, the
    textbook case): ``tails[k]`` is the lowest ``d`` a chain of ``k + 1`` pairs can end on. A pair with
    window ``[l, h]`` ends a chain of ``p + 1`` at ``l`` (``p`` chains end at or below ``l``) and extends
    each chain that ends in ``(l, h]`` by one at the same ``d``: one insertion and one removal in the
    sorted ``tails`` (a list move, O(w) for the w chains in the window, in C), and the range of entries
    it now ends, from which the chain is rebuilt at the end in O(m).

    The kept bays then take ``d`` as near their start as the chain allows (each clamped between the
    ``d`` before it and the lowest window bound after it); the others keep the ``d`` of the last kept bay
    before them (0 before the first).

    Returns
    -------
    tuple of list
        Each bay's start (mm) and whether it stands on one of ``starts``.
    """
    slack = hi - lo - n * pitch
    pairs: list[tuple[int, int, int, int]] = []  # bay, window low, window high, wanted d
    for a in starts:
        first = max(0, -((slack - (a - tol - lo)) // pitch))
        last = min(n - 1, (a + tol - lo) // pitch)
        for i in range(first, last + 1):
            base = a - lo - i * pitch
            low, high = max(base - tol, 0), min(base + tol, slack)
            if low <= high:
                pairs.append((i, low, high, min(max(base, low), high)))
    pairs.sort(key=lambda q: (q[0], -q[1]))
    tails: list[int] = []
    ends: list[tuple[int, int]] = []  # per pair: the entries of tails it ends a chain at, first and last
    for _, low, high, _ in pairs:
        at = bisect.bisect_right(tails, low)
        upto = bisect.bisect_right(tails, high)
        tails[at : upto + 1] = [low, *tails[at:upto]]
        ends.append((at, upto))
    # The longest chain, from its end: the chain at entry j is the one at entry j - 1 just before the
    # last pair that ended a chain at j, and that pair (the pairs are walked back once).
    chosen: list[tuple[int, int, int, int]] = []
    j, k = len(tails) - 1, len(pairs) - 1
    while j >= 0:
        while not ends[k][0] <= j <= ends[k][1]:
            k -= 1
        chosen.append(pairs[k])
        j, k = j - 1, k - 1
    chosen.reverse()
    d = _settle(n, chosen)
    kept = [False] * n
    for i, *_ in chosen:
        kept[i] = True
    return [lo + i * pitch + d[i] for i in range(n)], kept


def _settle(n: int, chosen: list[tuple[int, int, int, int]]) -> list[int]:
    """Offsets ``d`` of ``n`` bays, non-decreasing, each kept bay's as near its wanted one as they allow.

    ``chosen``: ``(bay, low, high, want)`` of the kept bays in bay order, whose windows a non-decreasing
    ``d`` meets (a chain). Each kept bay takes its ``want`` clamped between the ``d`` before it (and its
    ``low``) and the lowest ``high`` from it on, which leaves room for every later window; the others
    keep the ``d`` of the last kept bay before them (0 before the first).
    """
    upper = [high for _, _, high, _ in chosen]
    for c in range(len(chosen) - 2, -1, -1):
        upper[c] = min(upper[c], upper[c + 1])
    out: list[int] = []
    d, c = 0, 0
    for i in range(n):
        if c < len(chosen) and chosen[c][0] == i:
            _, low, _, want = chosen[c]
            d = min(max(want, low, d), upper[c])
            c += 1
        out.append(d)
    return out


def _stretch_model(
    lo: int, hi: int, n: int, pitch: int, starts: list[int], run_bays: int | None, gap: int, tol: int
) -> tuple[list[int], list[bool], list[bool], str]:
    """Place ``n`` bays of ``pitch`` mm in ``[lo, hi]`` on as many of the ``starts`` as possible.

    Without grouping (``run_bays`` None) exactly by :func:`_chain`; with grouping the CP-SAT model of
    :func:`_cpsat_stretch` (which grows faster than linearly with the bays of the stretch).

    Returns
    -------
    tuple
        Each bay's start (mm), the run breaks after each bay (grouping only), whether each bay stands on
        a start, and the solver's status.
    """
    if run_bays is None:
        xs, kept = _chain(lo, hi, n, pitch, starts, tol)
        return xs, [], kept, "OPTIMAL"
    return _cpsat_stretch(lo, hi, n, pitch, starts, run_bays, gap, tol)


def _cpsat_stretch(
    lo: int, hi: int, n: int, pitch: int, starts: list[int], run_bays: int | None, gap: int, tol: int = 0
) -> tuple[list[int], list[bool], list[bool], str]:
    """Solve the stretch as the CP-SAT model of the module docstring (``run_bays`` None: no grouping).

    The model finds the most bays on a start (each within ``tol``, one enforced range per pair: as fast
    as the exact ``x == a``; an objective term for the deviations made it up to 50 times slower). Its
    positions are then settled in closed form, with its runs and kept pairs fixed: offsets from the
    tightest layout of those runs, ``x[i] - lo - i * pitch - gap * (breaks before i)``, do not fall
    along the stretch, so each kept bay takes its start as near as they allow (:func:`_settle`).
    """
    model = cp_model.CpModel()
    x = [model.new_int_var(lo + i * pitch, hi - (n - i) * pitch, "") for i in range(n)]
    brk: list[cp_model.IntVar] = []
    if run_bays is not None:
        brk = [model.new_bool_var("") for _ in range(n - 1)]
        for i in range(n - 1):
            model.add(x[i + 1] >= x[i] + pitch + gap * brk[i])
        for i in range(0, n - 1 - run_bays + 1):
            model.add(sum(brk[i : i + run_bays]) >= 1)
    else:
        for i in range(n - 1):
            model.add(x[i + 1] >= x[i] + pitch)
    kept: list[tuple[cp_model.IntVar, int, int]] = []  # (y, bay, start)
    # The variables of each start and of each bay (grouped as they are made: no scan per start or bay).
    by_start: list[list[cp_model.IntVar]] = [[] for _ in starts]
    by_bay: list[list[cp_model.IntVar]] = [[] for _ in range(n)]
    for j, a in enumerate(starts):
        # Bay i can stand on a when lo + i * pitch - tol <= a <= hi - (n - i) * pitch + tol.
        first = max(0, -((hi - n * pitch - (a - tol)) // pitch))
        last = min(n - 1, (a + tol - lo) // pitch)
        for i in range(first, last + 1):
            y = model.new_bool_var("")
            model.add_linear_constraint(x[i], a - tol, a + tol).only_enforce_if(y)
            kept.append((y, i, a))
            by_start[j].append(y)
            by_bay[i].append(y)
    for ys in (*by_start, *by_bay):
        if len(ys) > 1:
            model.add_at_most_one(ys)
    model.maximize(sum(y for y, _, _ in kept))
    solver = interrupt.new_solver(0, 10.0)
    status = interrupt.solve(solver, model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], [], [], solver.status_name(status)
    runs = [bool(solver.value(b)) for b in brk]
    before = [0] * n  # breaks before each bay
    for i, r in enumerate(runs):
        before[i + 1] = before[i] + int(r)
    tight = [lo + i * pitch + gap * before[i] for i in range(n)]
    slack = hi - pitch - tight[-1]
    chosen = []
    for y, i, a in kept:
        if solver.boolean_value(y):
            base = a - tight[i]
            low, high = max(base - tol, 0), min(base + tol, slack)
            chosen.append((i, low, high, min(max(base, low), high)))
    chosen.sort()
    d = _settle(n, chosen)
    on = [False] * n
    for i, *_ in chosen:
        on[i] = True
    return [tight[i] + d[i] for i in range(n)], runs, on, solver.status_name(status)


def _distinct(starts: NDArray[np.int64], tol: int) -> list[int]:
    """Sort the starts and drop each within ``2 * tol`` of the one kept before it (one bay drawn twice)."""
    out: list[int] = []
    for a in np.unique(starts).tolist():
        if not out or a - out[-1] > 2 * tol:
            out.append(int(a))
    return out


def _mark_standing(out: pd.DataFrame, kept: NDArray[np.bool_], spans: pd.DataFrame, tol: int) -> None:
    """Mark (in place) each planned bay whose kerb edge is an existing bay's span, both ends within ``tol``.

    For the bays :func:`keep_layout` does not move (stretches of several types, angled bays), and any
    other that stands on an existing bay: one sorted search of the existing starts per kerb.
    """
    if not len(out) or not len(spans):
        return
    ek = spans["kerb"].to_numpy(dtype=np.int64)
    e0 = np.round(spans["start_m"].to_numpy(dtype=float) * 1000.0).astype(np.int64)
    e1 = np.round(spans["end_m"].to_numpy(dtype=float) * 1000.0).astype(np.int64)
    k = out["kerb"].to_numpy(dtype=np.int64)
    b0 = np.round(out["start_m"].to_numpy(dtype=float) * 1000.0).astype(np.int64)
    b1 = np.round(out["end_m"].to_numpy(dtype=float) * 1000.0).astype(np.int64)
    stride = int(max(e1.max(), b1.max(), 0)) + 4 * tol + 1  # each kerb's keys apart from the next's
    index, order = ChainageIndex.sorting(ek, e0, stride)
    e1 = e1[order]
    first, stop = index.around(k, b0, tol)
    for step in range(int((stop - first).max(initial=0))):
        at = first + step
        has = at < stop
        at = np.minimum(at, len(index) - 1)
        kept |= has & (np.abs(e1[at] - b1) <= tol)


def keep_layout(
    placed: pd.DataFrame, stretches: pd.DataFrame, spans: pd.DataFrame, rules: Rules
) -> KeepResult:
    """Move the planned bays of each single-type stretch onto as many existing bays as possible.

    Parameters
    ----------
    placed
        Bays from :func:`parkplan.layout.place_bays`.
    stretches
        Free stretches.
    spans
        Existing bays on the kerbs (:func:`existing_spans`).
    rules
        Rules (bay types, grouping).

    Returns
    -------
    KeepResult
        The placed bays (same count per stretch), which of them stand on an existing bay, and counts:
        ``existing``, ``on_kerbs``, ``kept``, ``restriped`` (planned bays not on an existing bay),
        ``removed`` (existing bays no planned bay keeps) and ``stretches_not_kept`` (stretches with
        existing bays whose planned bays are not moved: several types, angled or end-of-run bays).
    """
    arrays = bay_arrays(rules)
    out = placed.reset_index(drop=True)
    kept = np.zeros(len(out), dtype=bool)
    tol = round(MATCH_TOLERANCE_M * 1000.0)
    run_mm = None if rules.grouping is None else math.floor(rules.grouping.max_run_m * 1000.0 + 1.0 + 1e-6)
    gap_mm = 0 if rules.grouping is None else math.ceil(rules.grouping.gap_m * 1000.0 - 1e-6)
    s0 = np.round(stretches["start_m"].to_numpy(dtype=float) * 1000.0).astype(np.int64)
    s1 = np.round(stretches["end_m"].to_numpy(dtype=float) * 1000.0).astype(np.int64)
    sk = stretches["kerb"].to_numpy(dtype=np.int64)
    e0 = np.round(spans["start_m"].to_numpy(dtype=float) * 1000.0).astype(np.int64)
    e1 = np.round(spans["end_m"].to_numpy(dtype=float) * 1000.0).astype(np.int64)
    ek = spans["kerb"].to_numpy(dtype=np.int64)
    skipped = 0
    for st, grp in out.groupby("stretch", sort=True) if len(spans) else ():
        rows = grp.index.to_numpy()
        types = grp["type"].unique()
        st_i = int(str(st))
        inside = (ek == sk[st_i]) & (e0 >= s0[st_i] - tol) & (e1 <= s1[st_i] + tol)
        if not inside.any():
            continue
        t = int(types[0])
        if len(types) > 1 or arrays.end_mm[t] > 0 or arrays.delta[t] != 0:
            skipped += 1
            continue
        pitch = int(arrays.pitch_mm[t])
        ok = inside & (np.abs((e1 - e0) - pitch) <= LENGTH_TOLERANCE_M * 1000.0)
        starts = _distinct(e0[ok], tol)
        if not starts:
            continue
        run_bays = None if run_mm is None else max(run_mm // pitch, 1)
        xs, breaks, on, _ = _stretch_model(
            int(s0[st_i]), int(s1[st_i]), len(rows), pitch, starts, run_bays, gap_mm, tol
        )
        if not xs:
            continue
        order = rows[np.argsort(grp["start_m"].to_numpy(), kind="stable")]
        start = np.array(xs, dtype=float) / 1000.0
        out.loc[order, "start_m"] = start
        out.loc[order, "end_m"] = start + pitch / 1000.0
        out.loc[order, "far_start_m"] = start
        out.loc[order, "far_end_m"] = start + pitch / 1000.0
        out.loc[order, "run"] = np.concatenate([[0], np.cumsum(breaks)]).astype(np.int64) if breaks else 0
        kept[order] = on
    # Bays the stretches above did not move (several types, angled) that stand on an existing bay.
    _mark_standing(out, kept, spans, tol)
    out = out.sort_values(["kerb", "start_m"], kind="stable")
    kept = kept[out.index.to_numpy()]
    out = out.reset_index(drop=True)
    n_kept = int(kept.sum())
    n_existing = int(spans["bay"].nunique())
    return KeepResult(
        out,
        kept,
        {
            "existing": n_existing,
            "kept": n_kept,
            "restriped": int(len(out) - n_kept),
            "removed": max(n_existing - n_kept, 0),
            "stretches_not_kept": skipped,
        },
    )
