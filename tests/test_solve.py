"""The optimiser: closed form against CP-SAT, and multi-type optima against a brute-force enumerator.

Everything is checked per free stretch, in integer millimetres with the library's 1 mm tolerance: a
stretch of ``F`` metres offers ``floor(F * 1000) + 1`` mm (written with exact decimals below), and a
bay's kerb length is its pitch rounded *up* to the millimetre.
"""

from __future__ import annotations

import math
from itertools import product

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString

import parkplan
from parkplan.optimize.solve import bay_arrays, closed_form, solve_stretches, to_mm

# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def make_rules(bays, grouping=None):
    data = {"name": "t", "traffic": "right", "bays": bays}
    if grouping is not None:
        data["grouping"] = {"max_run_m": grouping[0], "gap_m": grouping[1]}
    return parkplan.load_rules(data)


def parallel(length, weight=1.0, width=2.0):
    return {"orientation": "parallel", "length_m": length, "width_m": width, "weight": weight}


def perpendicular(width, weight=1.0, length=5.0):
    return {"orientation": "perpendicular", "length_m": length, "width_m": width, "weight": weight}


def angled(length, width, angle, weight=1.0):
    return {
        "orientation": "angled",
        "length_m": length,
        "width_m": width,
        "angle_deg": angle,
        "weight": weight,
    }


def free_mm(length_m):
    """Free length in mm with the 1 mm tolerance, for lengths with at most 0.1 mm resolution."""
    return math.floor(round(length_m * 10000) / 10) + 1


def kerb_mm(rules):
    """(pitch_mm, end_mm, weight_milli) per bay type, computed from the bay geometry."""
    out = []
    for b in rules.bays:
        if b.orientation == "parallel":
            pitch, end = b.length_m, 0.0
        elif b.orientation == "perpendicular":
            pitch, end = b.width_m, 0.0
        else:
            a = math.radians(b.angle_deg)
            pitch, end = b.width_m / math.sin(a), b.length_m * math.cos(a)
        out.append((math.ceil(pitch * 1000 - 1e-6), math.ceil(end * 1000 - 1e-6), round(b.weight * 1000)))
    return out


def totals(solution, n):
    """Bays per stretch (all types) from a Solution."""
    out = np.zeros(n, dtype=np.int64)
    b = solution.blocks
    np.add.at(out, b["stretch"].to_numpy(dtype=np.int64), b["count"].to_numpy(dtype=np.int64))
    return out


def values(solution, n, types):
    """Objective (weight in thousandths) per stretch from a Solution."""
    out = np.zeros(n, dtype=np.int64)
    b = solution.blocks
    w = np.array([t[2] for t in types], dtype=np.int64)
    np.add.at(out, b["stretch"].to_numpy(dtype=np.int64), b["count"].to_numpy(dtype=np.int64) * w[b["type"]])
    return out


def check_feasible(solution, free, types, run_mm, gap_mm):
    """Every stretch's blocks fit: each run at most run_mm, runs plus gaps at most the free length."""
    b = solution.blocks
    assert (b["count"] > 0).all()
    assert b["type"].between(0, len(types) - 1).all()
    for s, grp in b.groupby("stretch"):
        used = 0
        runs = grp.groupby("run")
        for _, run in runs:
            length = sum(
                types[t][0] * c + types[t][1] for t, c in zip(run["type"], run["count"], strict=True)
            )
            # One block per type per run: the end triangle is paid once per type per run.
            assert run["type"].is_unique
            if run_mm is not None:
                assert length <= run_mm, (s, length, run_mm)
            used += length
        used += gap_mm * (len(runs) - 1)
        assert used <= free[s], (s, used, free[s])


def single_type_optimum(f, pitch, end, run_mm, gap):
    """Most bays of one type in ``f`` mm, by enumerating the number of runs."""
    if run_mm is None:
        return (f - end) // pitch if f >= pitch + end else 0
    per_run = (run_mm - end) // pitch
    best = 0
    r = 1
    while r * (pitch + end) + (r - 1) * gap <= f:
        fit = (f - r * end - (r - 1) * gap) // pitch
        best = max(best, min(r * per_run, fit))
        r += 1
    return best


def brute_force(f, types, run_mm, gap):
    """Best objective (weights in thousandths) on one stretch of ``f`` mm, by enumeration.

    Every content a run can hold (a count per type, each type present paying its end triangle once) is
    enumerated; without grouping the stretch is one run, with grouping an unbounded knapsack over run
    contents, each run costing its length plus one gap out of ``f + gap``.
    """
    limit = f if run_mm is None else min(f, run_mm)
    ranges = [range(max((limit - e) // p, 0) + 1) for p, e, _ in types]
    best_by_len: dict[int, int] = {}
    for n in product(*ranges):
        if not any(n):
            continue
        length = sum(p * k + (e if k else 0) for (p, e, _), k in zip(types, n, strict=True))
        if length > limit:
            continue
        value = sum(w * k for (_, _, w), k in zip(types, n, strict=True))
        if value > best_by_len.get(length, -1):
            best_by_len[length] = value
    if not best_by_len:
        return 0
    if run_mm is None:
        return max(best_by_len.values())
    # Pareto front of (length, value), then an unbounded knapsack over capacity (vectorised: each pass
    # adds at most one more run of each content; enough passes reach any number of runs).
    items = sorted(best_by_len.items())
    front = []
    for length, value in items:
        if not front or value > front[-1][1]:
            front.append((length, value))
    cap = f + gap
    best = np.zeros(cap + 1, dtype=np.int64)  # best[c]: most value with runs and gaps taking <= c
    for _ in range(cap // (front[0][0] + gap) + 1):
        before = best.copy()
        for length, value in front:
            k = length + gap
            if k <= cap:
                best[k:] = np.maximum(best[k:], before[:-k] + value)
        if np.array_equal(before, best):
            break
    return int(best[cap])


def assert_proven(solution, expected_objective):
    assert solution.status == "OPTIMAL"
    assert solution.gap == 0
    assert solution.objective == pytest.approx(solution.bound, abs=1e-9)
    assert solution.objective == pytest.approx(expected_objective, abs=1e-9)
    assert solution.model_statuses == []


# --------------------------------------------------------------------------------------------------
# Millimetres and the 1 mm tolerance
# --------------------------------------------------------------------------------------------------

CAR = make_rules({"car": parallel(6.0)})


def test_to_mm_adds_one_millimetre():
    got = to_mm(np.array([42.0, 41.9999999, 41.9995, 41.9989, 0.0, 6.0]))
    assert got.tolist() == [42001, 42000, 42000, 41999, 1, 6001]


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (42.0, 7),
        (41.9999999, 7),  # float noise below the tolerance
        (41.9995, 7),  # half a millimetre short: inside the tolerance
        (41.9989, 6),  # more than a millimetre short
        (41.998, 6),
        (6.0, 1),
        (5.9989, 0),
        (5.5, 0),
        (0.0, 0),
        (48.0, 8),
        (47.9, 7),
        (600.0, 100),
    ],
)
@pytest.mark.parametrize("presolve", [True, False])
def test_exact_multiples(length, expected, presolve):
    sol = solve_stretches(np.array([length]), CAR, presolve=presolve)
    assert totals(sol, 1).tolist() == [expected]
    assert_proven(sol, expected)


@pytest.mark.parametrize("presolve", [True, False])
def test_one_millimetre_tolerance_is_inclusive(presolve):
    """The 1 mm tolerance: a stretch up to 1 mm short of n bays still holds n; 2 mm short does not."""
    sol = solve_stretches(np.array([42.0, 41.999, 41.998, 5.999, 5.998]), CAR, presolve=presolve)
    assert totals(sol, 5).tolist() == [7, 7, 6, 1, 0]


# --------------------------------------------------------------------------------------------------
# Closed form == CP-SAT == enumeration, one bay type
# --------------------------------------------------------------------------------------------------

SINGLE_TYPES = {
    "parallel 6": {"car": parallel(6.0)},
    "parallel 5.2": {"car": parallel(5.2)},
    "perpendicular 2.5": {"car": perpendicular(2.5)},
    "angled 45": {"car": angled(5.0, 2.5, 45.0)},
    "angled 60": {"car": angled(5.0, 2.5, 60.0)},
    "angled 30 narrow": {"car": angled(4.5, 2.3, 30.0)},
}
GROUPINGS = {"none": None, "60/4": (60.0, 4.0), "25/1.5": (25.0, 1.5), "13/0": (13.0, 0.0)}


def single_lengths(pitch_m, end_m):
    """Exact multiples of the pitch (plus end triangle) and their neighbours, and some plain lengths."""
    out = []
    for k in (0, 1, 2, 3, 5, 7, 10, 13, 17, 24):
        base = round(k * pitch_m + end_m, 4)
        out += [base, base + 0.0005, max(base - 0.0011, 0.0), base + 0.3]
    out += [0.0, 1.0, 12.34, 59.9985, 60.0, 64.0, 64.001, 124.0, 128.5, 187.7, 250.0]
    return np.round(np.array(out), 4)


@pytest.mark.parametrize("grouping", list(GROUPINGS), ids=list(GROUPINGS))
@pytest.mark.parametrize("bay", list(SINGLE_TYPES), ids=list(SINGLE_TYPES))
def test_closed_form_equals_cp_sat_and_enumeration(bay, grouping):
    rules = make_rules(SINGLE_TYPES[bay], GROUPINGS[grouping])
    ((pitch, end, weight),) = kerb_mm(rules)
    arrays = bay_arrays(rules)
    assert (int(arrays.pitch_mm[0]), int(arrays.end_mm[0])) == (pitch, end)
    run_mm = None if rules.grouping is None else free_mm(rules.grouping.max_run_m)
    gap = 0 if rules.grouping is None else round(rules.grouping.gap_m * 1000)
    lengths = single_lengths(pitch / 1000.0, end / 1000.0)
    free = np.array([free_mm(x) for x in lengths])
    assert to_mm(lengths).tolist() == free.tolist()
    expected = np.array([single_type_optimum(int(f), pitch, end, run_mm, gap) for f in free])

    m, k, last = closed_form(free, pitch, end, run_mm, gap)
    assert (m * k + last).tolist() == expected.tolist()

    closed = solve_stretches(lengths, rules, presolve=True)
    cp = solve_stretches(lengths, rules, presolve=False)
    assert closed.n_presolved == len(lengths)
    assert closed.n_models == 0
    assert cp.n_presolved == 0
    assert totals(closed, len(lengths)).tolist() == expected.tolist()
    assert totals(cp, len(lengths)).tolist() == expected.tolist()
    objective = int(expected.sum()) * weight / 1000.0
    assert_proven(closed, objective)
    assert_proven(cp, objective)
    types = [(pitch, end, weight)]
    check_feasible(closed, free, types, run_mm, gap)
    check_feasible(cp, free, types, run_mm, gap)
    # With one type both paths lay the same total out the same way.
    assert closed.blocks.equals(cp.blocks)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pitch=st.integers(2000, 7000).map(lambda v: v / 1000.0),
    grouping=st.none() | st.tuples(st.integers(8, 40), st.integers(0, 40).map(lambda v: v / 10.0)),
    lengths=st.lists(st.integers(0, 150_000).map(lambda v: v / 1000.0), min_size=1, max_size=40),
)
def test_closed_form_equals_cp_sat_random(pitch, grouping, lengths):
    if grouping is not None and grouping[0] < pitch:
        grouping = (math.ceil(pitch), grouping[1])
    rules = make_rules({"car": parallel(pitch)}, grouping)
    x = np.array(lengths)
    # Add exact multiples of the pitch so the boundary is always exercised.
    x = np.round(np.concatenate([x, pitch * np.arange(1, 8)]), 3)
    closed = solve_stretches(x, rules, presolve=True)
    cp = solve_stretches(x, rules, presolve=False)
    assert totals(closed, len(x)).tolist() == totals(cp, len(x)).tolist()
    assert_proven(closed, cp.objective)
    assert_proven(cp, closed.objective)
    if grouping is None:
        # floor((F + 1 mm) / p), except exactly at the tolerance boundary (F one millimetre short of a
        # multiple), which test_exactly_one_millimetre_short_does_not_fit is about.
        got = totals(closed, len(x))
        for f, n in zip(x, got, strict=True):
            ratio = (f + 0.001) / pitch
            if abs(ratio - round(ratio)) > 1e-6:
                assert n == math.floor(ratio)


def test_empty_and_hopeless_stretches():
    rules = make_rules({"a": parallel(6.0), "b": parallel(4.5, 0.8)}, (30.0, 2.0))
    sol = solve_stretches(np.array([]), rules)
    assert len(sol.blocks) == 0
    assert sol.status == "OPTIMAL"
    sol = solve_stretches(np.array([0.0, 1.0, 4.4]), rules, presolve=False)
    assert len(sol.blocks) == 0
    assert_proven(sol, 0.0)


# --------------------------------------------------------------------------------------------------
# Several bay types: CP-SAT against brute force
# --------------------------------------------------------------------------------------------------

MULTI_TYPES = {
    "car+small": {"car": parallel(6.0, 1.0), "small": parallel(4.5, 0.7)},
    "car+perp": {"car": parallel(5.2, 1.0), "perp": perpendicular(2.5, 0.55)},
    "three": {"car": parallel(6.0, 1.0), "small": parallel(4.5, 0.8), "moto": perpendicular(1.5, 0.3)},
    "angled+parallel": {"angled": angled(5.0, 2.5, 60.0, 0.7), "car": parallel(5.5, 1.0)},
    "two angled": {"a45": angled(5.0, 2.5, 45.0, 0.7), "a60": angled(5.0, 2.5, 60.0, 0.75)},
    "heavy small": {"car": parallel(6.0, 1.0), "small": parallel(4.0, 0.9)},
}
MULTI_GROUPINGS = {"none": None, "12/3": (12.0, 3.0), "20/1": (20.0, 1.0), "15/0": (15.0, 0.0)}
MULTI_LENGTHS = np.array(
    [
        0.0,
        1.4,
        2.5,
        3.9,
        4.5,
        5.0,
        5.5,
        6.0,
        7.5,
        8.9,
        9.0,
        10.5,
        11.9995,
        12.0,
        13.5,
        15.0,
        16.5,
        17.3,
        18.0,
        19.2,
        21.0,
        22.4,
        24.0,
        25.5,
        27.0,
        28.2,
        30.0,
        31.5,
        33.3,
        36.0,
    ]
)


@pytest.mark.parametrize("grouping", list(MULTI_GROUPINGS), ids=list(MULTI_GROUPINGS))
@pytest.mark.parametrize("bays", list(MULTI_TYPES), ids=list(MULTI_TYPES))
def test_multi_type_reaches_brute_force_optimum(bays, grouping):
    rules = make_rules(MULTI_TYPES[bays], MULTI_GROUPINGS[grouping])
    types = kerb_mm(rules)
    run_mm = None if rules.grouping is None else free_mm(rules.grouping.max_run_m)
    gap = 0 if rules.grouping is None else round(rules.grouping.gap_m * 1000)
    free = np.array([free_mm(x) for x in MULTI_LENGTHS])
    expected = np.array([brute_force(int(f), types, run_mm, gap) for f in free])
    for presolve in (True, False):
        sol = solve_stretches(MULTI_LENGTHS, rules, presolve=presolve)
        assert values(sol, len(free), types).tolist() == expected.tolist()
        assert_proven(sol, expected.sum() / 1000.0)
        check_feasible(sol, free, types, run_mm, gap)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    types=st.lists(
        st.tuples(
            st.sampled_from(["parallel", "perpendicular", "angled"]),
            st.integers(30, 65).map(lambda v: v / 10.0),  # length
            st.integers(15, 30).map(lambda v: v / 10.0),  # width
            st.sampled_from([30.0, 45.0, 60.0]),
            st.integers(1, 20).map(lambda v: v / 10.0),  # weight
        ),
        min_size=2,
        max_size=3,
    ),
    grouping=st.none() | st.tuples(st.integers(10, 20), st.integers(0, 30).map(lambda v: v / 10.0)),
    lengths=st.lists(st.integers(0, 2400).map(lambda v: v / 100.0), min_size=1, max_size=12),
)
def test_multi_type_random_against_brute_force(types, grouping, lengths):
    bays = {}
    for i, (orientation, length, width, angle, weight) in enumerate(types):
        if orientation == "parallel":
            bays[f"t{i}"] = parallel(length, weight, width)
        elif orientation == "perpendicular":
            bays[f"t{i}"] = perpendicular(width, weight, length)
        else:
            bays[f"t{i}"] = angled(length, width, angle, weight)
    rules = make_rules(bays)
    if grouping is not None:
        shortest = min(b.pitch_m + b.end_m for b in rules.bays)
        rules = make_rules(bays, (max(float(grouping[0]), math.ceil(shortest)), grouping[1]))
    kt = kerb_mm(rules)
    run_mm = None if rules.grouping is None else free_mm(rules.grouping.max_run_m)
    gap = 0 if rules.grouping is None else round(rules.grouping.gap_m * 1000)
    x = np.array(lengths)
    free = np.array([free_mm(v) for v in x])
    expected = np.array([brute_force(int(f), kt, run_mm, gap) for f in free])
    sol = solve_stretches(x, rules, presolve=False)
    assert values(sol, len(x), kt).tolist() == expected.tolist()
    assert_proven(sol, expected.sum() / 1000.0)
    check_feasible(sol, free, kt, run_mm, gap)


def test_weights_decide_the_mix():
    """18 m of kerb, no grouping: three 6 m cars (3.0) or four 4.5 m small bays. With small weight 0.7 four
    small bays are worth 2.8 < 3.0; at 0.8 they are worth 3.2 > 3.0."""
    for weight, expected, counts in ((0.7, 3.0, {0: 3}), (0.8, 3.2, {1: 4})):
        rules = make_rules({"car": parallel(6.0, 1.0), "small": parallel(4.5, weight)})
        sol = solve_stretches(np.array([18.0]), rules, presolve=True)
        assert_proven(sol, expected)
        assert dict(zip(sol.blocks["type"], sol.blocks["count"], strict=True)) == counts


# --------------------------------------------------------------------------------------------------
# Hand-solved cases
# --------------------------------------------------------------------------------------------------


def test_hand_solved_single_type_grouping():
    """6 m bays, runs of at most 20 m, gaps of 4 m, on 70 m of kerb.

    A full run holds k = floor(20 / 6) = 3 bays (18 m); a full run and its gap take G = 18 + 4 = 22 m.
    m = floor((70 + 4) / 22) = 3 full runs (3 * 22 - 4 = 62 m with their gaps), leaving r = 70 - 66 = 4 m
    after the gap that would precede a fourth run: no room for another bay. So 9 bays. Check against the
    alternatives: 4 runs need 3 gaps (12 m), leaving 58 m for bays: 9 bays (54 m), not 10; 2 runs hold
    at most 6. Without grouping: floor(70 / 6) = 11.
    """
    rules = make_rules({"car": parallel(6.0)}, (20.0, 4.0))
    m, k, last = closed_form(np.array([70_001]), 6000, 0, 20_001, 4000)
    assert (int(m[0]), int(k[0]), int(last[0])) == (3, 3, 0)
    for presolve in (True, False):
        sol = solve_stretches(np.array([70.0]), rules, presolve=presolve)
        assert_proven(sol, 9.0)
        assert totals(sol, 1).tolist() == [9]
    sol = solve_stretches(np.array([70.0]), make_rules({"car": parallel(6.0)}), presolve=False)
    assert_proven(sol, 11.0)
    # r is what is left after the full runs and the gap that follows them: 71.9 m -> r = 5.9 m, no bay;
    # 72 m -> r = 6 m, a fourth run of one bay.
    for presolve in (True, False):
        sol = solve_stretches(np.array([71.9, 72.0]), rules, presolve=presolve)
        assert totals(sol, 2).tolist() == [9, 10]


def test_hand_solved_two_types_grouping():
    """Cars (6 m, weight 1.0) and small cars (4.5 m, weight 0.8), runs of at most 13.5 m, gaps of 2 m, on
    29 m of kerb.

    Contents of one run (<= 13.5 m): 2 cars 12 m -> 2.0; 3 small 13.5 m -> 2.4; car + small 10.5 m -> 1.8;
    2 small 9 m -> 1.6; 1 car 6 m -> 1.0; 1 small 4.5 m -> 0.8.
    Two runs take their lengths plus one 2 m gap, so at most 27 m of bays: 3 small + 3 small = 27 m -> 4.8.
    Three runs take two gaps (4 m), so at most 25 m of bays, and the best three runs are worth 4.2
    (13.5 m of 3 small + 10.5 m of car and small, or 9 + 9 + 6 m): worse than 4.8.
    One run: 2.4. So the optimum is 4.8: two runs of three small cars each.
    Without grouping 29 m hold 2 cars + 3 small (25.5 m) -> 4.4, or 6 small (27 m) -> 4.8, or
    4 cars (24 m) -> 4.0, or 1 car + 5 small (28.5 m) -> 5.0: the optimum is 5.0.
    """
    bays = {"car": parallel(6.0, 1.0), "small": parallel(4.5, 0.8)}
    grouped = make_rules(bays, (13.5, 2.0))
    sol = solve_stretches(np.array([29.0]), grouped, presolve=True)
    assert_proven(sol, 4.8)
    b = sol.blocks
    assert set(b["type"]) == {1}
    assert sorted(b["count"]) == [3, 3]
    check_feasible(sol, [29_001], kerb_mm(grouped), 13_501, 2000)

    sol = solve_stretches(np.array([29.0]), make_rules(bays), presolve=True)
    assert_proven(sol, 5.0)
    assert dict(zip(sol.blocks["type"], sol.blocks["count"], strict=True)) == {0: 1, 1: 5}

    types = kerb_mm(grouped)
    assert brute_force(29_001, types, 13_501, 2000) == 4800
    assert brute_force(29_001, types, None, 0) == 5000


def test_hand_solved_angled_end_triangle():
    """Angled bays at 60 degrees, 5 m long and 2.5 m wide: pitch 2.5 / sin 60 = 2.8868 m -> 2887 mm,
    end triangle 5 cos 60 = 2.5 m. A run of n bays takes 2.887 n + 2.5 m.
    On 20 m: n = floor((20.001 - 2.5) / 2.887) = 6 (19.822 m). With runs of at most 12 m and 1 m gaps: a
    full run holds floor((12.001 - 2.5) / 2.887) = 3 bays (11.161 m); two full runs and a gap take
    23.322 m > 20, so one full run, a gap and 20.001 - 12.161 = 7.84 m: floor((7.84 - 2.5) / 2.887) = 1 more
    bay. 4 bays.
    """
    bay = {"a": angled(5.0, 2.5, 60.0)}
    ((pitch, end, _),) = kerb_mm(make_rules(bay))
    assert (pitch, end) == (2887, 2500)
    for presolve in (True, False):
        sol = solve_stretches(np.array([20.0]), make_rules(bay), presolve=presolve)
        assert totals(sol, 1).tolist() == [6]
        sol = solve_stretches(np.array([20.0]), make_rules(bay, (12.0, 1.0)), presolve=presolve)
        assert totals(sol, 1).tolist() == [4]
        assert_proven(sol, 4.0)


# ------------------------------------------------------------------------ end-of-run bays (issue 3)

END_BAYS = {
    "name": "t",
    "traffic": "right",
    "bays": {"car": {"orientation": "parallel", "length_m": 5.7, "width_m": 2.0, "end_length_m": 5.2}},
}


@pytest.mark.parametrize(
    ("free_m", "expected"),
    # 16.4 m: 5.2 + 5.7 + 5.2 = 16.1 fits (without end bays only 2); 5.3 m: one 5.2 m bay; 5.1 m: none;
    # 10.4 m: two end bays exactly; 22.0 m: 5.2 + 2 x 5.7 + 5.2 = 21.8.
    [(16.4, 3), (5.3, 1), (5.1, 0), (10.4, 2), (22.0, 4)],
)
def test_end_of_run_bays_closed_form(free_m: float, expected: int) -> None:
    k = gpd.GeoDataFrame({"curb_id": ["k"]}, geometry=[LineString([(0, 0), (free_m, 0)])], crs="EPSG:25833")
    p = parkplan.plan(k, None, rules=END_BAYS)
    assert len(p.bays) == expected
    if expected >= 2:
        lengths = p.bays.sort_values("start_m")["length_m"].tolist()
        assert lengths[0] == lengths[-1] == pytest.approx(5.2)
        assert all(x == pytest.approx(5.7) for x in lengths[1:-1])
        starts = p.bays.sort_values("start_m")
        assert np.allclose(starts["start_m"].to_numpy()[1:], starts["end_m"].to_numpy()[:-1])


def test_end_of_run_bays_with_grouping() -> None:
    """Runs of at most 30 m, gaps of 3 m: a full run holds 5 (2 x 5.2 + 3 x 5.7 = 27.5; 6 would be 33.2).
    70 m: two full runs (27.5 + 3 + 27.5 = 58 m), a gap (3 m), and 9 m left: one bay of 5.2 m (two would
    need 10.4 m). Total 11, also through CP-SAT's path (end-of-run bays always use the closed form)."""
    rules = {**END_BAYS, "grouping": {"max_run_m": 30.0, "gap_m": 3.0}}
    k = gpd.GeoDataFrame({"curb_id": ["k"]}, geometry=[LineString([(0, 0), (70, 0)])], crs="EPSG:25833")
    assert len(parkplan.plan(k, None, rules=rules).bays) == 11
    assert len(parkplan.plan(k, None, rules=rules, presolve=False).bays) == 11


@settings(max_examples=60, deadline=None)
@given(free_mm=st.integers(0, 60_000), end_mm=st.integers(3_000, 8_000))
def test_end_of_run_closed_form_matches_brute_force(free_mm: int, end_mm: int) -> None:
    pitch = 5_700
    delta = end_mm - pitch

    def fits(n: int) -> bool:
        return (
            n == 0 or (n == 1 and end_mm <= free_mm) or (n >= 2 and 2 * end_mm + (n - 2) * pitch <= free_mm)
        )

    best = max(n for n in range(0, 30) if fits(n))
    _, _, n = closed_form(np.array([free_mm]), pitch, 0, None, 0, delta)
    assert int(n[0]) == best


def test_end_of_run_bays_need_one_type_per_kerb() -> None:
    rules = {
        **END_BAYS,
        "bays": {
            **END_BAYS["bays"],
            "perp": {"orientation": "perpendicular", "length_m": 5.0, "width_m": 2.5},
        },
    }
    k = gpd.GeoDataFrame({"curb_id": ["k"]}, geometry=[LineString([(0, 0), (50, 0)])], crs="EPSG:25833")
    with pytest.raises(parkplan.RulesError, match="end_length_m"):
        parkplan.plan(k, None, rules=rules)
