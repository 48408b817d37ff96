"""Intervals of chainage along kerbs: zone tables, their order, their union and the free stretches.

A *zone* forbids an interval ``[start_m, end_m]`` of one kerb's chainage (the table of
:func:`zone_table`); the zones of every source (hazards, the room in front of the kerbs, the cross
section, the grouping gap) share its columns. Here is the arithmetic on such intervals: the order of
rows by kerb and chainage (:func:`kerb_order`, :func:`sort_zones`), their union per kerb
(:func:`merge_intervals`), the zones that keep groups of bays apart (:func:`grouping_zones`) and the
free stretches between the zones (:func:`free_stretches`). numpy and pandas only: no geometry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkplan.io.read import text_column

__all__ = [
    "free_stretches",
    "grouping_zones",
    "kerb_order",
    "merge_intervals",
    "no_zones",
    "sort_zones",
    "zone_table",
]


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


def merge_intervals(
    group: NDArray[np.int64], start: NDArray[np.float64], end: NDArray[np.float64], touch_m: float = 0.0
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Merge overlapping or touching intervals within each group (vectorised).

    Parameters
    ----------
    group, start, end
        Interval group (kerb) and bounds; any order.
    touch_m
        Intervals this close also merge (for ends computed on two segments, a rounding apart).

    Returns
    -------
    tuple
        Group, start and end of the merged intervals, sorted by group then start.
    """
    if len(group) == 0:
        return group.astype(np.int64), start.astype(float), end.astype(float)
    order = kerb_order(group, start)
    g, s, e = group[order], start[order], end[order]
    # The furthest end so far within each group, exactly: complex numbers compare by real part (the
    # group, ascending) and then by imaginary part (the end), so one running maximum restarts at every
    # group. (Adding a float offset per group, as before, lost the last bits of the ends: touching
    # intervals of far-apart kerbs stayed apart.)
    run_end = np.maximum.accumulate(g.astype(float) + 1j * e).imag
    new = np.ones(len(g), dtype=bool)
    new[1:] = (g[1:] != g[:-1]) | (s[1:] > run_end[:-1] + touch_m)
    ids = np.cumsum(new) - 1
    out_g = g[new]
    out_s = s[new]
    out_e = np.zeros(len(out_g))
    np.maximum.at(out_e, ids, run_end)
    return out_g.astype(np.int64), out_s, out_e


def grouping_zones(
    zones: pd.DataFrame,
    lengths: NDArray[np.float64],
    gap_m: float,
    curb_ids: NDArray[np.object_],
    rule: str,
    shortest_bay_m: float = 0.0,
) -> pd.DataFrame:
    """Zones that keep the groups of bays either side of a short zone the grouping gap apart.

    The bays either side of a zone are in different free stretches, planned apart: a merged zone inside a
    kerb shorter than ``gap_m`` (a 1 mm bend, a 3 m driveway under a 4 m gap, a zero-length cut) would
    leave two groups closer than the rules' ``[grouping] gap_m``. Each such place gets a ``grouping``
    zone ``gap_m`` long about its middle (clipped to the kerb), its own extent the merged zone. A zone
    with less free kerb than ``shortest_bay_m`` on one side separates no groups and gets none (a zone
    ending a millimetre short of the kerb's end, as rounding leaves one).
    """
    if gap_m <= 0 or len(zones) == 0:
        return no_zones()
    g, s, e = merge_intervals(
        zones["kerb"].to_numpy(dtype=np.int64),
        zones["start_m"].to_numpy(dtype=float),
        zones["end_m"].to_numpy(dtype=float),
    )
    # Free kerb before and after each merged zone (to the zone before / after it, or the kerb's ends).
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    last = np.ones(len(g), dtype=bool)
    last[:-1] = g[1:] != g[:-1]
    prev_end = np.where(first, 0.0, np.roll(e, 1))
    next_start = np.where(last, lengths[g], np.roll(s, -1))
    room = np.minimum(s - prev_end, next_start - e)
    short = (e - s < gap_m - 1e-9) & (room >= max(shortest_bay_m, 1e-9))
    g, s, e = g[short], s[short], e[short]
    mid = (s + e) / 2.0
    return zone_table(
        g,
        np.maximum(mid - gap_m / 2.0, 0.0),
        np.minimum(mid + gap_m / 2.0, lengths[g]),
        "grouping",
        [f"kerb:{c}@{x:.2f}" for c, x in zip(curb_ids[g], mid, strict=True)],
        rule,
        hazard_start_m=s,
        hazard_end_m=e,
    )


def free_stretches(zones: pd.DataFrame, lengths: NDArray[np.float64]) -> pd.DataFrame:
    """Return the free stretches of every kerb: the complement of its merged zones.

    Zero-length zones cut a stretch in two.

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
