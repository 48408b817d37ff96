"""The keep model: place a stretch's bays on as many existing bays as possible, their number fixed.

:func:`parkplan.keep.keep_layout` projects the existing bays onto the kerbs and hands each free stretch
that holds one bay type (no end triangle, no end-of-run bays) here as integer millimetres: the stretch
``[S, E]``, the optimal count ``n`` (fixed by the model of :mod:`parkplan.optimize.stretches`), the pitch
``p`` and the starts ``a[j]`` of the existing bays of that length on it. A small CP-SAT model places the
``n`` bays::

    x[i]      integer mm     start of bay i (x[0] >= S, x[n-1] + p <= E)
    b[i]      boolean        a gap (a new run) after bay i         (with grouping only)
    x[i+1] == x[i] + p        if not b[i]                           (a run's bays end to end)
    x[i+1] >= x[i] + p + g    if b[i]                               (runs at least the gap apart)
    x[i+1] >= x[i] + p                                              (without grouping)
    sum of b over any k consecutive bays >= 1                       (no run longer than k bays)
    y[i, j]   boolean        bay i stands on existing bay j        (y => |x[i] - a[j]| <= t)
    maximise  sum y        (then each x as near its existing start as the others allow)

Without grouping the same optimum is found exactly without a solver, in O(m log m) for m pairs of a
bay and a start it can take, plus list moves (:func:`chain`): CP-SAT, which stops at
its :data:`TIME_LIMIT_S` limit unproven from a few hundred bays, is left for grouping
(:func:`cpsat_stretch`). :func:`keep_stretch` takes the one that applies.
"""

from __future__ import annotations

import bisect

from ortools.sat.python import cp_model

from parkplan.optimize._cpsat import Status, has_solution, solve_model

__all__ = ["TIME_LIMIT_S", "chain", "cpsat_stretch", "keep_stretch"]

TIME_LIMIT_S = 10.0
"""Wall-clock limit of one stretch's CP-SAT model (seconds)."""


def chain(
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


def keep_stretch(
    lo: int, hi: int, n: int, pitch: int, starts: list[int], run_bays: int | None, gap: int, tol: int
) -> tuple[list[int], list[bool], list[bool], Status]:
    """Place ``n`` bays of ``pitch`` mm in ``[lo, hi]`` on as many of the ``starts`` as possible.

    Without grouping (``run_bays`` None) exactly by :func:`chain`; with grouping the CP-SAT model of
    :func:`cpsat_stretch` (which grows faster than linearly with the bays of the stretch).

    Returns
    -------
    tuple
        Each bay's start (mm), the run breaks after each bay (grouping only), whether each bay stands on
        a start, and the solver's status.
    """
    if run_bays is None:
        xs, kept = chain(lo, hi, n, pitch, starts, tol)
        return xs, [], kept, "OPTIMAL"
    return cpsat_stretch(lo, hi, n, pitch, starts, run_bays, gap, tol)


def cpsat_stretch(
    lo: int, hi: int, n: int, pitch: int, starts: list[int], run_bays: int | None, gap: int, tol: int = 0
) -> tuple[list[int], list[bool], list[bool], Status]:
    """Solve the stretch as the CP-SAT model of the module docstring (``run_bays`` None: no grouping).

    The model finds the most bays on a start (each within ``tol``, one enforced range per pair: as fast
    as the exact ``x == a``; an objective term for the deviations made it up to 50 times slower). Its
    positions are then settled in closed form, with its runs and kept pairs fixed: each run moves as one
    (its bays stay end to end, as the grouping rule wants: a gap inside a run shorter than the gap
    between runs is what ``parkplan check`` reports as ``grouping``), and the offsets of the runs from
    the tightest layout, ``x[i] - lo - i * pitch - gap * (breaks before i)``, do not fall along the
    stretch, so each run takes the start of its first kept bay as near as the others allow
    (:func:`_settle`).
    """
    model = cp_model.CpModel()
    x = [model.new_int_var(lo + i * pitch, hi - (n - i) * pitch, "") for i in range(n)]
    brk: list[cp_model.IntVar] = []
    if run_bays is not None:
        brk = [model.new_bool_var("") for _ in range(n - 1)]
        for i in range(n - 1):
            # A run's bays stand end to end; runs are at least ``gap`` apart (a shorter gap would
            # split a run without being a gap between runs: the checker's grouping violation).
            model.add(x[i + 1] == x[i] + pitch).only_enforce_if(~brk[i])
            model.add(x[i + 1] >= x[i] + pitch + gap).only_enforce_if(brk[i])
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
    solver, status = solve_model(model, 0, TIME_LIMIT_S)
    if not has_solution(status):
        return [], [], [], status
    runs = [bool(solver.value(b)) for b in brk]
    before = [0] * n  # breaks before each bay
    for i, r in enumerate(runs):
        before[i + 1] = before[i] + int(r)
    tight = [lo + i * pitch + gap * before[i] for i in range(n)]
    slack = hi - pitch - tight[-1]
    # With grouping each run moves as one (its bays stay end to end): a run's offset must meet the window
    # of every kept bay in it, and takes the wanted offset of its first kept bay as near as the others
    # allow. Without grouping each bay moves on its own (a unit of one).
    unit = before if run_bays is not None else list(range(n))
    in_run: dict[int, list[tuple[int, int, int, int]]] = {}
    on = [False] * n
    for y, i, a in kept:
        if solver.boolean_value(y):
            on[i] = True
            base = a - tight[i]
            low, high = max(base - tol, 0), min(base + tol, slack)
            in_run.setdefault(unit[i], []).append((i, low, high, min(max(base, low), high)))
    chosen = []
    for run, bays in sorted(in_run.items()):
        low, high = max(b[1] for b in bays), min(b[2] for b in bays)
        want = min(bays)[3]
        chosen.append((run, low, high, min(max(want, low), high)))
    d = _settle(unit[-1] + 1, chosen)
    return [tight[i] + d[unit[i]] for i in range(n)], runs, on, status
