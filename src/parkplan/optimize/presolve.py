"""Exact presolve of stretches that nothing couples, for rule sets with several bay types.

A free stretch that no constraint ties to any other is an unbounded knapsack on its own: fill ``F``
millimetres of kerb with items worth the most.

* With grouping the items are the Pareto-efficient run contents of
:func:`parkplan.optimize.stretches.run_patterns`,
  each taking its length plus one gap, in a capacity of ``F + gap``.
* Without grouping the items are the bay types themselves, taking their pitch; a type with an end
  triangle (angled) pays it once, so every subset ``U`` of such types is tried with capacity
  ``F - sum(e_t for t in U)`` and only those types and the others allowed.

One dynamic programme over the integer-millimetre capacities ``0 .. max F`` answers every stretch at
once (vectorised in blocks as long as the shortest item: no value in a block depends on another in the
same block). Among optima it keeps the first item in canonical order, so the result is deterministic.
This is exact, like the closed form for one type, and is what the ``presolve`` switch turns off.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from numpy.typing import NDArray

from parkplan.optimize.stretches import BayArrays, pattern_blocks, run_patterns

__all__ = ["MAX_DP_CAPACITY_MM", "knapsack_table", "presolve_stretches"]

MAX_DP_CAPACITY_MM = 30_000_000
"""Longest stretch (mm) the dynamic programme covers; longer stretches go to CP-SAT."""


def knapsack_table(
    sizes: NDArray[np.int64], values: NDArray[np.int64], capacity: int
) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    """Unbounded knapsack values for every capacity ``0 .. capacity``.

    Returns
    -------
    tuple
        ``value[c]``, the best total value within capacity ``c``, and ``choice[c]``, the item that
        improves on ``value[c - 1]`` at ``c`` (``-1`` when ``value[c] == value[c - 1]``).
    """
    value = np.zeros(capacity + 1, dtype=np.int64)
    choice = np.full(capacity + 1, -1, dtype=np.int32)
    if len(sizes) == 0:
        return value, choice
    step = int(sizes.min())
    for b in range(step, capacity + 1, step):
        e = min(b + step, capacity + 1)
        best = np.full(e - b, -1, dtype=np.int64)
        arg = np.full(e - b, -1, dtype=np.int32)
        for k, (size, val) in enumerate(zip(sizes.tolist(), values.tolist(), strict=True)):
            lo = max(b, size)
            if lo >= e:
                continue
            cand = value[lo - size : e - size] + val
            seg = slice(lo - b, e - b)
            better = cand > best[seg]
            best[seg] = np.where(better, cand, best[seg])
            arg[seg] = np.where(better, k, arg[seg])
        acc = np.maximum.accumulate(np.maximum(best, value[b - 1]))
        prev = np.concatenate([[value[b - 1]], acc[:-1]])
        value[b:e] = acc
        choice[b:e] = np.where(best > prev, arg, -1)
    return value, choice


def _walk_back(
    caps: NDArray[np.int64], sizes: NDArray[np.int64], choice: NDArray[np.int32]
) -> NDArray[np.int64]:
    """Item counts per capacity in ``caps`` (``len(caps) x len(sizes)``), by following the choices."""
    # last[c]: the largest c' <= c where an item was chosen (-1 if none).
    marked = np.where(choice >= 0, np.arange(len(choice)), -1)
    last = np.maximum.accumulate(marked)
    counts = np.zeros((len(caps), len(sizes)), dtype=np.int64)
    c = np.asarray(caps, dtype=np.int64).copy()
    active = np.flatnonzero(c >= 0)
    while len(active):
        src = last[c[active]]
        ok = src >= 0
        active, src = active[ok], src[ok]
        if not len(active):
            break
        item = choice[src].astype(np.int64)
        np.add.at(counts, (active, item), 1)
        c[active] = src - sizes[item]
        active = active[c[active] >= 0]
    return counts


def presolve_stretches(
    free_mm: NDArray[np.int64], bays: BayArrays, run_mm: int | None, gap_mm: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Solve every stretch exactly on its own.

    Parameters
    ----------
    free_mm
        Free length per stretch (mm, tolerance included).
    bays
        Bay types.
    run_mm, gap_mm
        Longest run and gap (mm); ``run_mm=None`` for no grouping.

    Returns
    -------
    tuple
        ``blocks`` rows ``(stretch, run, type, count)``, the objective per stretch, and a mask of the
        stretches settled (those longer than :data:`MAX_DP_CAPACITY_MM` are not).
    """
    free = np.asarray(free_mm, dtype=np.int64)
    settled = free <= MAX_DP_CAPACITY_MM
    idx = np.flatnonzero(settled)
    objective = np.zeros(len(free), dtype=np.int64)
    if len(idx) == 0:
        return np.zeros((0, 4), np.int64), objective, settled
    if run_mm is not None:
        counts, length, value = run_patterns(bays, run_mm)
        sizes = length + gap_mm
        caps = free[idx] + gap_mm
        table, choice = knapsack_table(sizes, value, int(caps.max()))
        x = _walk_back(caps, sizes, choice)
        objective[idx] = table[caps]
        return pattern_blocks(idx, x, counts, length), objective, settled

    angled = [t for t in range(bays.n_types) if bays.end_mm[t] > 0]
    plain = [t for t in range(bays.n_types) if bays.end_mm[t] == 0]
    best_val = np.full(len(idx), -1, dtype=np.int64)
    best_counts = np.zeros((len(idx), bays.n_types), dtype=np.int64)
    for r in range(len(angled) + 1):
        for subset in combinations(angled, r):
            types = np.array(sorted(plain + list(subset)), dtype=np.int64)
            if len(types) == 0:
                continue
            setup = int(bays.end_mm[list(subset)].sum()) if subset else 0
            caps = free[idx] - setup
            ok = caps >= 0
            if not ok.any():
                continue
            sizes = bays.pitch_mm[types]
            table, choice = knapsack_table(sizes, bays.weight[types], int(caps[ok].max()))
            val = np.where(ok, table[np.maximum(caps, 0)], -1)
            better = val > best_val
            if better.any():
                n = _walk_back(np.where(ok, caps, -1)[better], sizes, choice)
                best_counts[better] = 0
                best_counts[np.ix_(np.flatnonzero(better), types)] = n
                best_val[better] = val[better]
    objective[idx] = np.maximum(best_val, 0)
    s, t = np.nonzero(best_counts)
    blocks = np.column_stack([idx[s], np.zeros(len(s), np.int64), t, best_counts[s, t]]).astype(np.int64)
    return blocks, objective, settled
