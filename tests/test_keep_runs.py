"""Keeping existing bays under a grouping rule: a run's bays stand end to end, runs are a full gap apart.

Before, the keep model let a bay of a run slide along to stand on an existing bay, which left gaps inside
a run shorter than the rules' gap between runs: ``parkplan check`` reported them as ``grouping``
violations (central Helsinki, ``cn``, ``--mode existing --keep``: 2 gaps of 3.2 m and 1.9 m where 4 m are
the least between runs).
"""

from __future__ import annotations

import itertools

from hypothesis import example, given, settings
from hypothesis import strategies as st

from parkplan.optimize.keep import keep_stretch

PITCH = 6000  # mm: cn's 6 m parallel bays
GAP = 4000  # mm between runs
RUN = 10  # bays at most in a run


def _assert_runs(xs: list[int], lo: int, hi: int, n: int) -> None:
    assert len(xs) == n
    assert xs[0] >= lo
    assert xs[-1] + PITCH <= hi
    steps = [b - a - PITCH for a, b in itertools.pairwise(xs)]
    assert all(s == 0 or s >= GAP for s in steps), steps
    run = 1
    for s in steps:
        run = run + 1 if s == 0 else 1
        assert run <= RUN


def test_the_helsinki_stretch_keeps_its_runs_whole() -> None:
    """17 bays on 56-165 m (Helsinki, way 221590116) with three existing bays at 101.234 m and on: before,
    bays 0-6 stood from 56 m and bays 7-16 from 101.234 m, 3.234 m after bay 6."""
    lo, hi, n = 56_000, 165_234, 17
    starts = [101_234, 107_234, 113_234]
    xs, _runs, kept, status = keep_stretch(lo, hi, n, PITCH, starts, RUN, GAP, 10)
    assert status == "OPTIMAL"
    _assert_runs(xs, lo, hi, n)
    assert sum(kept) == 3


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 25),
    slack=st.integers(0, 30_000),
    starts=st.lists(st.integers(0, 200_000), max_size=8),
)
@example(n=17, slack=5_234, starts=[45_234, 51_234, 57_234])
def test_kept_layouts_keep_runs_end_to_end_and_gaps_full(n: int, slack: int, starts: list[int]) -> None:
    """Property: whatever the existing bays, the layout keeps ``n`` bays in runs of at most 10, end to end
    within a run and at least the gap apart between runs, inside the stretch."""
    breaks = (n - 1) // RUN
    lo = 0
    hi = n * PITCH + breaks * GAP + slack
    xs, _, kept, status = keep_stretch(lo, hi, n, PITCH, sorted(set(starts)), RUN, GAP, 10)
    assert status in ("OPTIMAL", "FEASIBLE")
    _assert_runs(xs, lo, hi, n)
    for x, on in zip(xs, kept, strict=True):
        if on:
            assert any(abs(x - a) <= 10 for a in starts)
