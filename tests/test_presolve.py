"""The exact presolve (dynamic programme for several bay types) against CP-SAT and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkplan.optimize.presolve import knapsack_table, presolve_stretches
from parkplan.optimize.solve import bay_arrays, solve_stretches, to_mm
from parkplan.optimize.stretches import BayArrays, run_patterns, solve_chunk
from parkplan.rules.loading import load_rules


def _rules(grouping: bool, angled: bool) -> dict[str, object]:
    bays: dict[str, object] = {
        "car": {"orientation": "parallel", "length_m": 5.2, "width_m": 2.0},
        "small": {"orientation": "parallel", "length_m": 4.1, "width_m": 2.0, "weight": 0.75},
    }
    if angled:
        bays["angled"] = {
            "orientation": "angled",
            "length_m": 5.0,
            "width_m": 2.5,
            "angle_deg": 60,
            "weight": 1.0,
        }
    data: dict[str, object] = {"name": "t", "bays": bays}
    if grouping:
        data["grouping"] = {"max_run_m": 20.0, "gap_m": 3.0}
    return data


def _brute_single_run(free_mm: int, bays: BayArrays) -> int:
    """Best value of one run (no grouping) by enumerating every count vector."""
    best = 0
    ranges = [range(free_mm // int(p) + 1) for p in bays.pitch_mm]
    for n in itertools.product(*ranges):
        used = sum(
            int(p) * k + (int(e) if k else 0) for p, e, k in zip(bays.pitch_mm, bays.end_mm, n, strict=True)
        )
        if used <= free_mm:
            best = max(best, sum(int(w) * k for w, k in zip(bays.weight, n, strict=True)))
    return best


def test_knapsack_table_matches_brute_force() -> None:
    sizes = np.array([7, 5, 11], dtype=np.int64)
    values = np.array([10, 6, 17], dtype=np.int64)
    table, _ = knapsack_table(sizes, values, 60)
    for cap in range(61):
        best = max(
            (
                a * 10 + b * 6 + c * 17
                for a in range(9)
                for b in range(13)
                for c in range(6)
                if 7 * a + 5 * b + 11 * c <= cap
            ),
        )
        assert table[cap] == best, cap


@pytest.mark.parametrize("angled", [False, True])
def test_presolve_equals_brute_force_without_grouping(angled: bool) -> None:
    bays = bay_arrays(load_rules(_rules(False, angled)))
    free = to_mm(np.arange(0.0, 26.0, 0.37))
    blocks, value, settled = presolve_stretches(free, bays, None, 0)
    assert settled.all()
    for s, f in enumerate(free):
        assert value[s] == _brute_single_run(int(f), bays), f
    # The blocks realise the value and fit.
    for s, f in enumerate(free):
        rows = blocks[blocks[:, 0] == s]
        got = sum(int(bays.weight[t]) * n for _, _, t, n in rows)
        used = sum(int(bays.pitch_mm[t]) * n + int(bays.end_mm[t]) for _, _, t, n in rows)
        assert got == value[s]
        assert used <= f


@settings(max_examples=25, deadline=None)
@given(
    lengths=st.lists(st.floats(min_value=0.0, max_value=120.0, allow_nan=False), min_size=1, max_size=12),
    grouping=st.booleans(),
    angled=st.booleans(),
)
def test_presolve_and_cp_sat_reach_the_same_optimum_per_stretch(
    lengths: list[float], grouping: bool, angled: bool
) -> None:
    rules = load_rules(_rules(grouping, angled))
    bays = bay_arrays(rules)
    free = to_mm(np.array(lengths))
    run_mm = None if rules.grouping is None else int(rules.grouping.max_run_m * 1000) + 1
    gap_mm = 0 if rules.grouping is None else int(rules.grouping.gap_m * 1000)
    _, dp_value, _ = presolve_stretches(free, bays, run_mm, gap_mm)
    for s, f in enumerate(free):
        res = solve_chunk(np.array([f]), bays, run_mm=run_mm, gap_mm=gap_mm)
        assert res.status == "OPTIMAL"
        assert res.objective == dp_value[s] == res.bound


def test_run_patterns_are_pareto_efficient() -> None:
    bays = bay_arrays(load_rules(_rules(True, True)))
    counts, length, value = run_patterns(bays, 20_001)
    assert np.all(np.diff(length) > 0)
    assert np.all(np.diff(value) > 0)
    assert np.all(length <= 20_001)
    assert np.array_equal(counts @ bays.weight, value)


def test_solve_stretches_with_and_without_presolve_agree() -> None:
    rules = load_rules(_rules(True, True))
    rng = np.random.default_rng(3)
    lengths = rng.uniform(0, 90, size=40)
    a = solve_stretches(lengths, rules)
    b = solve_stretches(lengths, rules, presolve=False)
    assert a.status == b.status == "OPTIMAL"
    assert a.objective == pytest.approx(b.objective)
    assert a.gap == b.gap == 0
    assert a.n_presolved == 40
    assert b.n_presolved == 0
