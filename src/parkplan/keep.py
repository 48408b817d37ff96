"""Keep what is legal: reach the optimum count while moving as few existing bays as possible.

Restriping costs money, so a city re-planning a district wants the optimal number of bays with as many
of today's bays as possible left where they are. Given an existing layout (bays from OSM existing mode,
parkplan's own output, or any bays file), every existing bay is projected onto its kerb (the nearest
kerb within :data:`MATCH_M`; through an index of kerb segments, so that a long kerb costs no more per
bay than a short one): its span is the chainage span of its kerb edge (:func:`existing_spans`). Then,
for each free stretch that holds one bay type (no end triangle, no end-of-run bays), with the optimal
count ``n`` already fixed by the model, the ``n`` bays are placed on as many existing bays as the runs
and gaps allow (:func:`parkplan.optimize.keep.keep_stretch`: an exact chain without grouping, a small
CP-SAT model with it).

An existing bay counts as kept when a planned bay stands on its chainage span to within
:data:`MATCH_TOLERANCE_M` (``t``, 1 cm: the precision of the output formats, so that a plan fed back
as its own existing layout is kept whole), and only if it has the planned bay's length (within
:data:`LENGTH_TOLERANCE_M`); others have to be restriped anyway. The count stays the optimum, so the
plan loses nothing by keeping. Stretches with several bay types (quota conversions, mixed types) or
angled bays keep the standard layout, and are reported; their bays too count as kept where they stand
on an existing bay (both ends within the tolerance), as a plan's own bays do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkplan.geometry.chainage import ChainageIndex
from parkplan.geometry.kerbs import KerbSegments
from parkplan.optimize.keep import keep_stretch
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
        xs, breaks, on, _ = keep_stretch(
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
