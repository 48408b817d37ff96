"""Quotas: accessible bays where the rules ask for them, and motorcycle bays on the leftover fragments.

Accessible bays (``role = "accessible"``) are not offered to the main optimiser: with the same weight it
would place them arbitrarily. After the choice of sides and depths, standard bays of the accessible
type's orientation are **converted**, as few as the ``[quotas]`` ask for:

* ``accessible_per_block``: each block face (a kerb between two corners) with ``n`` bays needs the
  table's count (PROWAG R214; ``accessible_share_above_200`` beyond the last row);
* ``accessible_min_share``: the whole district needs ``ceil(share x N)`` (GA/T 850: 2 %).

An accessible bay ``delta = p_accessible - p_standard`` longer than the bay it replaces fits in the
stretch's slack (with grouping: the end run's room below the longest run). Where the slack runs out,
a standard bay is given up and its kerb length lets more bays be converted; the conversions and
losses are chosen greedily, stretch by stretch, most conversions per lost bay first, until the quota
holds. When the accessible bay is the standard size (``delta = 0``: China) nothing is lost and the
result is exactly the optimum with the quota; otherwise the summary says the quota stage is greedy.

The converted bays stand at the end of the stretch nearest a crossing (a kerb ramp), else nearest an
intersection, else at its start; the district share is spread one per stretch first, stretches beside
crossings first.

Motorcycle bays (``role = "motorcycle"``) fill free stretches that hold no car bay at all, counted apart
(``bays.fragments`` in the summary).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkplan.geometry.chainage import ChainageIndex
from parkplan.optimize.solve import bay_arrays, closed_form, to_mm
from parkplan.rules.loading import Quotas, Rules

__all__ = ["QuotaResult", "apply_quotas", "fill_fragments", "main_types", "required_per_face"]

SLOT_START = -1
"""Block slot that places a block first in its run."""

SLOT_END = 1_000_000
"""Block slot that places a block last in its run."""

RAMP_KINDS = {"crossing": 0, "intersection": 1}
"""Zones beside which an accessible bay serves best, in order of preference."""


def main_types(rules: Rules) -> NDArray[np.bool_]:
    """Bay types the main optimiser may place: all but accessible, loading and motorcycle bays.

    A rule set with no other type (only motorcycle bays, say) has all its types placed by the optimiser.
    """
    main = np.array([b.role not in ("accessible", "loading", "motorcycle") for b in rules.bays], dtype=bool)
    return main if main.any() else np.ones(len(main), dtype=bool)


def required_per_face(n_bays: NDArray[np.int64], rules: Rules) -> NDArray[np.int64]:
    """Count the accessible bays a block face with ``n_bays`` bays needs (``accessible_per_block``)."""
    q = rules.quotas
    n = np.asarray(n_bays, dtype=np.int64)
    if q is None or not q.accessible_per_block:
        return np.zeros_like(n)
    rows = sorted(q.accessible_per_block, key=lambda r: r.max_spaces)
    edges = np.array([r.max_spaces for r in rows])
    counts = np.array([r.accessible for r in rows])
    idx = np.searchsorted(edges, n, side="left")
    within = idx < len(rows)
    out = np.where(within, counts[np.minimum(idx, len(rows) - 1)], 0)
    if q.accessible_share_above is not None:
        out = np.where(within, out, np.ceil(n * q.accessible_share_above - 1e-9).astype(np.int64))
    else:
        out = np.where(within, out, counts[-1])
    return np.where(n > 0, out, 0).astype(np.int64)


@dataclass
class QuotaResult:
    """Blocks after the quotas, and what was done."""

    blocks: pd.DataFrame
    summary: dict[str, object] = field(default_factory=dict)


def _ramp_end(stretches: pd.DataFrame, zones: pd.DataFrame) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Per stretch: priority of its best end (0 crossing, 1 intersection, 2 none); True if that is its end.

    A ramp zone touches a stretch's start if it ends exactly there (free stretches start where merged
    zones end) and its end if it starts exactly there. Each zone end is looked up among the stretch
    starts (and each zone start among the stretch ends) by a key ``kerb x stride + chainage``, the same
    arithmetic on both sides so equal places give equal keys; the exact kerb and chainage are compared
    at the place found and the next one (two stretch ends closer than the key's precision). Free
    stretches never overlap, so no more than two stretches of a kerb share a key.
    """
    n = len(stretches)
    prio = np.full(n, 2, dtype=np.int64)
    at_end = np.zeros(n, dtype=bool)
    if n == 0 or len(zones) == 0:
        return prio, at_end
    codes, uniq = pd.factorize(zones["kind"], sort=False)
    zrank = np.array([RAMP_KINDS.get(str(x), 2) for x in uniq] + [2], dtype=np.int64)[codes]
    keep = np.flatnonzero(zrank < 2)
    if len(keep) == 0:
        return prio, at_end
    zk = zones["kerb"].to_numpy(dtype=np.int64)[keep]
    z0 = zones["start_m"].to_numpy(dtype=float)[keep]
    z1 = zones["end_m"].to_numpy(dtype=float)[keep]
    zr = zrank[keep]
    sk = stretches["kerb"].to_numpy(dtype=np.int64)
    s0 = stretches["start_m"].to_numpy(dtype=float)
    s1 = stretches["end_m"].to_numpy(dtype=float)
    stride = float(max(np.abs(s1).max(), np.abs(z1).max(), np.abs(z0).max())) * 2.0 + 1.0
    best = []
    for mine, theirs in ((s0, z1), (s1, z0)):
        index, order = ChainageIndex.sorting(sk, mine, stride)
        pos = index.search(zk, theirs)
        found = np.full(n, 2, dtype=np.int64)
        for p in (pos, pos + 1):
            i = order[np.minimum(p, n - 1)]
            hit = (p < n) & (sk[i] == zk) & (mine[i] == theirs)
            np.minimum.at(found, i[hit], zr[hit])
        best.append(found)
    return np.minimum(best[0], best[1]), best[1] < best[0]


def apply_quotas(
    blocks: pd.DataFrame,
    stretches: pd.DataFrame,
    zones: pd.DataFrame,
    rules: Rules,
    loading_demand: NDArray[np.float64] | None = None,
) -> QuotaResult:
    """Convert standard bays to accessible and loading bays until the quotas and demands hold.

    Parameters
    ----------
    blocks
        ``stretch``, ``run``, ``type``, ``count`` of the optimal layout without accessible bays.
    stretches
        Free stretches (``kerb``, ``start_m``, ``end_m``, ``length_m``), sorted by kerb and chainage.
    zones
        Forbidden zones (to find crossings and intersections beside each stretch).
    rules
        Rules with ``[quotas]`` and a bay type of role ``accessible`` (and ``loading`` for the demand).
    loading_demand
        Per kerb (block face): loading bays wanted (the kerbs' ``loading_demand``; NaN or 0: none).

    Returns
    -------
    QuotaResult
        Blocks with a ``slot`` column (order within the run) and the quota summary.
    """
    q = rules.quotas
    out = blocks.assign(slot=blocks["type"].to_numpy(dtype=np.int64))
    summary: dict[str, object] = {}
    if q is not None and (q.accessible_min_share is not None or q.accessible_per_block):
        acc = [i for i, b in enumerate(rules.bays) if b.role == "accessible"]
        if not acc:
            summary = {
                "enforced": False,
                "why": "the rules have [quotas] but no bay type with role accessible",
            }
        else:
            out, summary = _convert(out, stretches, zones, rules, acc[0], None, q)
    demand = None if loading_demand is None else np.nan_to_num(np.asarray(loading_demand, dtype=float))
    if demand is not None and (demand > 0).any():
        load = [i for i, b in enumerate(rules.bays) if b.role == "loading"]
        if not load:
            summary["loading"] = {
                "placed": 0,
                "why": "kerbs ask for loading bays but no bay type has role loading",
            }
        else:
            out, done = _convert(
                out, stretches, zones, rules, load[0], np.ceil(demand).astype(np.int64), None
            )
            summary["loading"] = {
                "demanded": int(np.ceil(demand).sum()),
                "placed": done["accessible"],
                "bays_given_up": done["bays_given_up"],
                "shortfall": done["shortfall"],
                "exact": done["exact"],
            }
    return QuotaResult(out, summary)


def _convert(
    out: pd.DataFrame,
    stretches: pd.DataFrame,
    zones: pd.DataFrame,
    rules: Rules,
    a: int,
    per_kerb: NDArray[np.int64] | None,
    q: Quotas | None,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Convert standard bays to type ``a``: ``per_kerb`` bays on each kerb, or what quotas ``q`` ask."""
    arrays = bay_arrays(rules)
    orient = rules.bays[a].orientation
    same = np.array([b.orientation == orient and b.role in ("standard", "large") for b in rules.bays])
    n_st = len(stretches)
    b_st = out["stretch"].to_numpy(dtype=np.int64)
    b_type = out["type"].to_numpy(dtype=np.int64)
    b_cnt = out["count"].to_numpy(dtype=np.int64)
    total_bays = np.zeros(n_st, dtype=np.int64)
    np.add.at(total_bays, b_st, b_cnt)
    # The convertible type of each stretch: its most numerous bay type of the accessible orientation.
    conv = same[b_type]
    main_type = np.full(n_st, -1, dtype=np.int64)
    n_conv = np.zeros(n_st, dtype=np.int64)
    if conv.any():
        per = (
            pd.DataFrame({"s": b_st[conv], "t": b_type[conv], "c": b_cnt[conv]})
            .groupby(["s", "t"])["c"]
            .sum()
        )
        table = per.reset_index().sort_values(["s", "c", "t"], ascending=[True, False, True], kind="stable")
        first = table.drop_duplicates("s")
        main_type[first["s"].to_numpy(dtype=np.int64)] = first["t"].to_numpy(dtype=np.int64)
        n_conv[first["s"].to_numpy(dtype=np.int64)] = first["c"].to_numpy(dtype=np.int64)
    used = np.zeros(n_st, dtype=np.int64)
    np.add.at(used, b_st, arrays.block_mm(b_type, b_cnt))
    runs = out.groupby("stretch")["run"].max().reindex(range(n_st)).fillna(-1).to_numpy(dtype=np.int64)
    gap_mm = 0 if rules.grouping is None else math.ceil(rules.grouping.gap_m * 1000.0 - 1e-6)
    used += np.maximum(runs, 0) * gap_mm
    free = to_mm(stretches["length_m"].to_numpy(dtype=float))
    slack = np.maximum(free - used, 0)
    prio, at_end = _ramp_end(stretches, zones)
    if rules.grouping is not None:
        # The converted bays go into the end run: it may grow only to the longest run.
        run_mm = math.floor(rules.grouping.max_run_m * 1000.0 + 1.0 + 1e-6)
        end_run = np.where(at_end, runs, 0)
        run_len = np.zeros(n_st, dtype=np.int64)
        sel = out["run"].to_numpy(dtype=np.int64) == end_run[b_st]
        np.add.at(run_len, b_st[sel], arrays.block_mm(b_type, b_cnt)[sel])
        slack = np.minimum(slack, np.maximum(run_mm - run_len, 0))
    pitch_t = np.where(main_type >= 0, arrays.pitch_mm[np.maximum(main_type, 0)], 0)
    delta = np.where(main_type >= 0, int(arrays.pitch_mm[a]) - pitch_t, 0)

    def converts(s: int, lost: int) -> int:
        """Bays of stretch ``s`` that can be accessible when ``lost`` standard bays are given up."""
        n = int(n_conv[s]) - lost
        if n <= 0 or arrays.delta[main_type[s]] != 0:
            # Runs with end-of-run bays are not converted (their ends would change length).
            return 0
        if delta[s] <= 0:
            return n
        return min(n, int((slack[s] + lost * pitch_t[s]) // delta[s]))

    x = np.zeros(n_st, dtype=np.int64)  # conversions per stretch
    lost = np.zeros(n_st, dtype=np.int64)  # standard bays given up per stretch
    kerb = stretches["kerb"].to_numpy(dtype=np.int64)
    # Conversions without losing a bay, per stretch (vectorised ``converts(s, 0)``).
    blocked = (n_conv <= 0) | (main_type < 0) | (arrays.delta[np.maximum(main_type, 0)] != 0)
    cap0 = np.where(delta <= 0, n_conv, np.minimum(n_conv, slack // np.maximum(delta, 1)))
    cap0 = np.where(blocked, 0, cap0).astype(np.int64)
    # Stretches of each kerb (stretches are sorted by kerb).
    kerb_first = np.searchsorted(kerb, np.arange(int(kerb.max(initial=-1)) + 2))

    def meet(candidates: NDArray[np.int64], need: int) -> int:
        """Convert ``need`` more bays among ``candidates`` (stretches), losing bays only when needed."""
        if need <= 0 or len(candidates) == 0:
            return max(need, 0)
        # Zero-loss conversions, one per stretch per round, stretches beside crossings first.
        room = np.maximum(cap0[candidates] - x[candidates], 0)
        order = np.lexsort((stretches["start_m"].to_numpy()[candidates], kerb[candidates], prio[candidates]))
        cand = candidates[order]
        room = room[order]
        take = min(need, int(room.sum()))
        if take:
            # Round r converts a bay in every stretch with room > r, in that order: whole rounds first,
            # then the first stretches of the round that the need ends in.
            more = len(room) - np.cumsum(np.bincount(room))  # stretches with room > r
            done = np.cumsum(more)  # conversions after rounds 0 .. r
            full = int(np.searchsorted(done, take, side="right"))
            per = np.minimum(room, full)
            rest = take - (int(done[full - 1]) if full else 0)
            per[np.flatnonzero(room > full)[:rest]] += 1
            x[cand] += per
        need -= take
        if need <= 0:
            return 0
        # Then give up bays, most conversions gained per lost bay first.
        heap: list[tuple[int, int, int]] = []
        for s in cand.tolist():
            gain = converts(s, int(lost[s]) + 1) - int(x[s])
            if gain > 0:
                heapq.heappush(heap, (-gain, int(prio[s]), s))
        while need > 0 and heap:
            _, _, s = heapq.heappop(heap)
            lost[s] += 1
            now = converts(s, int(lost[s]))
            add = min(max(now - int(x[s]), 0), need)
            x[s] += add
            need -= add
            gain = converts(s, int(lost[s]) + 1) - int(x[s])
            if gain > 0:
                heapq.heappush(heap, (-gain, int(prio[s]), s))
        return need

    shortfall = 0
    faces_needing = 0
    if per_kerb is not None:
        for k in np.flatnonzero(per_kerb[: len(kerb_first) - 1]).tolist():
            shortfall += meet(np.arange(kerb_first[k], kerb_first[k + 1]), int(per_kerb[k]))
    if q is not None and q.accessible_per_block:
        face_bays = np.zeros(int(kerb.max(initial=-1)) + 1, dtype=np.int64)
        np.add.at(face_bays, kerb, total_bays)
        need_face = required_per_face(face_bays, rules)
        faces_needing = int((need_face > 0).sum())
        for k in np.flatnonzero(need_face).tolist():
            shortfall += meet(np.arange(kerb_first[k], kerb_first[k + 1]), int(need_face[k]))
    if q is not None and q.accessible_min_share is not None:
        n_total = int(total_bays.sum() - lost.sum())
        need = math.ceil(q.accessible_min_share * n_total - 1e-9) - int(x.sum())
        shortfall += meet(np.arange(n_st), need)

    out = _rewrite(out, x, lost, main_type, at_end, runs, a)
    exact = bool((delta[x > 0] <= 0).all()) and int(lost.sum()) == 0
    return out, {
        "enforced": True,
        "accessible": int(x.sum()),
        "block_faces_with_quota": faces_needing,
        "bays_given_up": int(lost.sum()),
        "shortfall": shortfall,
        "exact": exact,
    }


def _rewrite(
    blocks: pd.DataFrame,
    x: NDArray[np.int64],
    lost: NDArray[np.int64],
    main_type: NDArray[np.int64],
    at_end: NDArray[np.bool_],
    runs: NDArray[np.int64],
    acc_type: int,
) -> pd.DataFrame:
    """Take ``x + lost`` bays of each stretch's main type out, and put ``x`` accessible bays in.

    Bays are taken from the end run first (then the others from that end inwards); the accessible bays
    go to the chosen end of that run.
    """
    out = blocks.copy()
    take = x + lost
    if not take.any():
        return out
    counts = out["count"].to_numpy(dtype=np.int64).copy()
    st = out["stretch"].to_numpy(dtype=np.int64)
    typ = out["type"].to_numpy(dtype=np.int64)
    run = out["run"].to_numpy(dtype=np.int64)
    end_run = np.where(at_end, runs, 0)
    # Rows that give bays: the stretch's main type, the end run first, then inwards from that end.
    rows = np.flatnonzero((take[st] > 0) & (typ == main_type[st]))
    rows = rows[np.lexsort((np.abs(run[rows] - end_run[st[rows]]), st[rows]))]
    c = counts[rows]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = st[rows][1:] != st[rows][:-1]
    cum = np.cumsum(c)
    base = np.maximum.accumulate(np.where(first, cum - c, 0))
    before = cum - c - base  # bays of this stretch in the rows before this one
    counts[rows] = c - np.clip(take[st[rows]] - before, 0, c)
    out["count"] = counts
    has = np.flatnonzero(x > 0)
    extra = pd.DataFrame(
        {
            "stretch": has,
            "run": end_run[has],
            "type": acc_type,
            "count": x[has],
            "slot": np.where(at_end[has], SLOT_END, SLOT_START),
        }
    )
    out = pd.concat([out, extra], ignore_index=True) if len(extra) else out
    out = out[out["count"] > 0].astype(np.int64)
    return out.sort_values(["stretch", "run", "slot"], kind="stable").reset_index(drop=True)


def fill_fragments(
    blocks: pd.DataFrame, stretches: pd.DataFrame, rules: Rules, kerb_types: NDArray[np.bool_]
) -> tuple[pd.DataFrame, int]:
    """Fill free stretches without any car bay with the rules' motorcycle bays (the first such type).

    Returns the blocks with the motorcycle blocks added and their count.
    """
    moto = [i for i, b in enumerate(rules.bays) if b.role == "motorcycle"]
    if not moto or len(stretches) == 0:
        return blocks, 0
    m = moto[0]
    has = np.zeros(len(stretches), dtype=bool)
    has[blocks["stretch"].to_numpy(dtype=np.int64)] = True
    ok = ~has & kerb_types[stretches["kerb"].to_numpy(dtype=np.int64), m]
    arrays = bay_arrays(rules)
    free = to_mm(stretches["length_m"].to_numpy(dtype=float))
    _, _, n = closed_form(free, int(arrays.pitch_mm[m]), int(arrays.end_mm[m]), None, 0)
    n = np.where(ok, n, 0)
    idx = np.flatnonzero(n)
    if len(idx) == 0:
        return blocks, 0
    add = pd.DataFrame({"stretch": idx, "run": 0, "type": m, "count": n[idx], "slot": m})
    if "slot" not in blocks.columns:
        blocks = blocks.assign(slot=blocks["type"])
    merged = pd.concat([blocks, add], ignore_index=True).astype(np.int64)
    return merged.sort_values(["stretch", "run", "slot"], kind="stable").reset_index(drop=True), int(n.sum())
