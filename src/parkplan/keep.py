"""Keep what is legal: reach the optimum count while moving as few existing bays as possible.

Restriping costs money, so a city re-planning a district wants the optimal number of bays with as many
of today's bays as possible left where they are. Given an existing layout (bays from OSM existing mode,
or any bays file), every existing bay is projected onto its kerb (the nearest kerb within
:data:`MATCH_M`, its chainage span; through an index of kerb segments, so that a long kerb costs no more
per bay than a short one). Then, for each free stretch that holds one bay type (no end
triangle, no end-of-run bays), with the optimal count ``n`` already fixed by the model, a small CP-SAT
model places the ``n`` bays::

    x[i]      integer mm     start of bay i (x[0] >= S, x[n-1] + p <= E)
    b[i]      boolean        a gap (a new run) after bay i         (with grouping only)
    x[i+1] >= x[i] + p + g * b[i]                                   (bays in order, gaps between runs)
    sum of b over any k consecutive bays >= 1                       (no run longer than k bays)
    y[i, j]   boolean        bay i stands exactly on existing bay j   (y => x[i] == a[j])
    maximise  sum y

Without grouping the same optimum is found exactly without a solver, in O(m log m) for m pairs of a
bay and a start it can take (:func:`_chain`): CP-SAT, which stops at its 10 s limit unproven from a
few hundred bays, is left for grouping.

An existing bay counts as kept when a planned bay takes exactly its chainage span (1 mm), and only if
it has the planned bay's length (within :data:`LENGTH_TOLERANCE_M`); others have to be restriped anyway.
The count stays the optimum, so the plan loses nothing by keeping. Stretches with several bay types
(quota conversions, mixed types) keep the standard layout and are reported.
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

from parkplan import interrupt
from parkplan.kerbs import KerbSegments
from parkplan.rules import Rules
from parkplan.solve import bay_arrays

__all__ = ["LENGTH_TOLERANCE_M", "MATCH_M", "KeepResult", "existing_spans", "keep_layout"]

MATCH_M = 6.0
"""An existing bay belongs to the nearest kerb within this distance of its centre (metres)."""

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
        :data:`MATCH_M` of a kerb.
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
    s, _, _ = segs.nearest_on(coords, reach + 1e-6, kerb[owner])
    ok = np.isfinite(s)
    span = pd.DataFrame({"i": owner[ok], "s": s[ok]}).groupby("i")["s"].agg(["min", "max"])
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


def _chain(lo: int, hi: int, n: int, pitch: int, starts: list[int]) -> list[int]:
    """Place ``n`` bays of ``pitch`` mm in ``[lo, hi]`` on as many ``starts`` as possible, without grouping.

    Exact in O(m log m) for m (bay, start) pairs. Bay ``i`` stands at ``lo + i * pitch + d[i]`` with
    ``d`` non-decreasing from 0 to the slack ``hi - lo - n * pitch``; bay ``i`` on start ``a`` fixes
    ``d[i] = a - lo - i * pitch``. Pairs can all hold at once exactly when their ``d`` do not fall as
    ``i`` rises, so the most kept bays are the longest such chain (pairs of one bay in falling ``d``, so a
    chain takes at most one of them; a start's pairs fall in ``d`` as ``i`` rises, so it is taken once).
    The other bays keep the ``d`` of the last kept bay before them (0 before the first).
    """
    pairs: list[tuple[int, int]] = []
    for a in starts:
        first = max(0, -((hi - n * pitch - a) // pitch))
        last = min(n - 1, (a - lo) // pitch)
        pairs += [(i, a - lo - i * pitch) for i in range(first, last + 1)]
    pairs.sort(key=lambda p: (p[0], -p[1]))
    tails: list[int] = []  # smallest d ending a chain of each length
    tail_at: list[int] = []  # the pair ending it
    before = [-1] * len(pairs)
    for k, (_, d) in enumerate(pairs):
        at = bisect.bisect_right(tails, d)
        before[k] = tail_at[at - 1] if at else -1
        if at == len(tails):
            tails.append(d)
            tail_at.append(k)
        else:
            tails[at] = d
            tail_at[at] = k
    k = tail_at[-1] if tail_at else -1
    chosen: list[tuple[int, int]] = []
    while k >= 0:
        chosen.append(pairs[k])
        k = before[k]
    chosen.reverse()
    xs: list[int] = []
    d, c = 0, 0
    for i in range(n):
        if c < len(chosen) and chosen[c][0] == i:
            d = chosen[c][1]
            c += 1
        xs.append(lo + i * pitch + d)
    return xs


def _stretch_model(
    lo: int, hi: int, n: int, pitch: int, starts: list[int], run_bays: int | None, gap: int
) -> tuple[list[int], list[bool], str]:
    """Place ``n`` bays of ``pitch`` mm in ``[lo, hi]`` on as many of the ``starts`` as possible.

    Without grouping (``run_bays`` None) exactly by :func:`_chain`; with grouping the CP-SAT model of
    :func:`_cpsat_stretch` (which grows faster than linearly with the bays of the stretch).
    """
    if run_bays is None:
        return _chain(lo, hi, n, pitch, starts), [], "OPTIMAL"
    return _cpsat_stretch(lo, hi, n, pitch, starts, run_bays, gap)


def _cpsat_stretch(
    lo: int, hi: int, n: int, pitch: int, starts: list[int], run_bays: int | None, gap: int
) -> tuple[list[int], list[bool], str]:
    """Solve the stretch as the CP-SAT model of the module docstring (``run_bays`` None: no grouping)."""
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
    kept: list[cp_model.IntVar] = []
    # The variables of each start and of each bay (grouped as they are made: no scan per start or bay).
    by_start: list[list[cp_model.IntVar]] = [[] for _ in starts]
    by_bay: list[list[cp_model.IntVar]] = [[] for _ in range(n)]
    for j, a in enumerate(starts):
        # Bay i can stand at a when lo + i * pitch <= a <= hi - (n - i) * pitch.
        first = max(0, -((hi - n * pitch - a) // pitch))
        last = min(n - 1, (a - lo) // pitch)
        for i in range(first, last + 1):
            y = model.new_bool_var("")
            model.add(x[i] == a).only_enforce_if(y)
            kept.append(y)
            by_start[j].append(y)
            by_bay[i].append(y)
    for ys in (*by_start, *by_bay):
        if len(ys) > 1:
            model.add_at_most_one(ys)
    model.maximize(sum(kept))
    solver = interrupt.new_solver(0, 10.0)
    status = interrupt.solve(solver, model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], [], solver.status_name(status)
    xs = [int(solver.value(v)) for v in x]
    runs = [bool(solver.value(b)) for b in brk]
    return xs, runs, solver.status_name(status)


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
        ``removed`` (existing bays no planned bay keeps) and ``stretches_not_kept`` (several types).
    """
    arrays = bay_arrays(rules)
    out = placed.reset_index(drop=True)
    kept = np.zeros(len(out), dtype=bool)
    if len(out) == 0 or len(spans) == 0:
        return KeepResult(out, kept, {"existing": len(spans), "kept": 0})
    run_mm = None if rules.grouping is None else math.floor(rules.grouping.max_run_m * 1000.0 + 1.0 + 1e-6)
    gap_mm = 0 if rules.grouping is None else math.ceil(rules.grouping.gap_m * 1000.0 - 1e-6)
    s0 = np.round(stretches["start_m"].to_numpy(dtype=float) * 1000.0).astype(np.int64)
    s1 = np.round(stretches["end_m"].to_numpy(dtype=float) * 1000.0).astype(np.int64)
    sk = stretches["kerb"].to_numpy(dtype=np.int64)
    e0 = np.round(spans["start_m"].to_numpy(dtype=float) * 1000.0).astype(np.int64)
    e1 = np.round(spans["end_m"].to_numpy(dtype=float) * 1000.0).astype(np.int64)
    ek = spans["kerb"].to_numpy(dtype=np.int64)
    skipped = 0
    for st, grp in out.groupby("stretch", sort=True):
        rows = grp.index.to_numpy()
        types = grp["type"].unique()
        st_i = int(str(st))
        inside = (ek == sk[st_i]) & (e0 >= s0[st_i] - 1) & (e1 <= s1[st_i] + 1)
        if not inside.any():
            continue
        t = int(types[0])
        if len(types) > 1 or arrays.end_mm[t] > 0 or arrays.delta[t] != 0:
            skipped += 1
            continue
        pitch = int(arrays.pitch_mm[t])
        ok = inside & (np.abs((e1 - e0) - pitch) <= LENGTH_TOLERANCE_M * 1000.0)
        starts = sorted(set(np.clip(e0[ok], s0[st_i], s1[st_i] - pitch).tolist()))
        if not starts:
            continue
        run_bays = None if run_mm is None else max(run_mm // pitch, 1)
        xs, breaks, _ = _stretch_model(
            int(s0[st_i]), int(s1[st_i]), len(rows), pitch, starts, run_bays, gap_mm
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
        kept[order] = np.isin(np.array(xs), starts)
    out = out.sort_values(["kerb", "start_m"], kind="stable")
    kept = kept[out.index.to_numpy()]
    out = out.reset_index(drop=True)
    n_kept = int(kept.sum())
    return KeepResult(
        out,
        kept,
        {
            "existing": int(spans["bay"].nunique()),
            "kept": n_kept,
            "restriped": int(len(out) - n_kept),
            "removed": int(spans["bay"].nunique() - n_kept),
            "stretches_not_kept": skipped,
        },
    )
