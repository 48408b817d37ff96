"""The chainage lookup (:class:`parkplan.geometry.chainage.ChainageIndex`) against plain per-kerb searches."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from parkplan.geometry.chainage import ChainageIndex

# Entries and places on a half-metre grid: no two distinct chainages round to one key.
entries = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 40)), max_size=30)
places = st.lists(st.tuples(st.integers(0, 5), st.integers(-4, 44)), min_size=1, max_size=30)
STRIDE = 100.0


def _sorted(rows: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    data = sorted(rows)
    kerb = np.array([k for k, _ in data], dtype=np.int64)
    start = np.array([s / 2.0 for _, s in data], dtype=float)
    return kerb, start


def _places(rows: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([k for k, _ in rows], dtype=np.int64), np.array([s / 2.0 for _, s in rows], dtype=float)


@settings(max_examples=200, deadline=None)
@given(entries, places)
def test_holding_is_the_last_entry_of_the_kerb_at_or_before(rows, at):
    kerb, start = _sorted(rows)
    qk, qs = _places(at)
    i, found = ChainageIndex.of(kerb, start, STRIDE).holding(qk, qs)
    for j in range(len(qk)):
        mine = np.flatnonzero((kerb == qk[j]) & (start <= qs[j]))
        assert found[j] == (len(mine) > 0)
        if len(mine):
            assert i[j] == mine[-1]
        assert 0 <= i[j] < max(len(kerb), 1)


@settings(max_examples=200, deadline=None)
@given(entries, places, st.sampled_from([None, 0.5, 1.0]))
def test_inside_lists_the_entries_strictly_between(rows, at, margin):
    kerb, start = _sorted(rows)
    qk, lo = _places(at)
    hi = lo + 3.0
    first, stop = ChainageIndex.of(kerb, start, STRIDE).inside(qk, lo, hi, margin=margin)
    m = 0.0 if margin is None else margin
    for j in range(len(qk)):
        want = np.flatnonzero((kerb == qk[j]) & (start > lo[j] + m) & (start < hi[j] - m))
        assert list(range(first[j], max(stop[j], first[j]))) == want.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4000)), max_size=30), st.data())
def test_around_in_integer_millimetres_from_any_order(rows, data):
    kerb = np.array([k for k, _ in rows], dtype=np.int64)
    start = np.array([s for _, s in rows], dtype=np.int64)
    index, order = ChainageIndex.sorting(kerb, start, 10_000)
    assert index.key.dtype == np.int64
    assert np.array_equal(index.kerb, kerb[order])
    assert np.all(np.diff(index.key) >= 0)
    at = data.draw(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4000)), min_size=1, max_size=20))
    qk = np.array([k for k, _ in at], dtype=np.int64)
    qs = np.array([s for _, s in at], dtype=np.int64)
    first, stop = index.around(qk, qs, 7)
    for j in range(len(qk)):
        got = sorted(order[first[j] : stop[j]].tolist())
        want = np.flatnonzero((kerb == qk[j]) & (np.abs(start - qs[j]) <= 7)).tolist()
        assert got == want


@settings(max_examples=100, deadline=None)
@given(entries)
def test_rows_of_each_kerb(rows):
    kerb, start = _sorted(rows)
    index = ChainageIndex.of(kerb, start, STRIDE)
    assert len(index) == len(kerb)
    first, stop = index.rows_of(np.arange(6, dtype=np.int64))
    for k in range(6):
        assert list(range(first[k], stop[k])) == np.flatnonzero(kerb == k).tolist()


def test_keys_are_the_callers_arithmetic():
    """The keys are ``kerb * stride + chainage`` as written: a caller's stride gives its old keys exactly."""
    kerb = np.array([0, 3, 7], dtype=np.int64)
    s = np.array([0.1, 12.345678901, 99.99])
    stride = 123.456
    index = ChainageIndex.of(kerb, s, stride)
    assert np.array_equal(index.key, kerb * stride + s)
    assert np.array_equal(index.keys(kerb, s), kerb * stride + s)
    shifted = np.searchsorted(index.key, kerb * stride + s + 0.5, side="left")
    assert np.array_equal(index.search(kerb, s, "left", shift=0.5), shifted)
