"""Quotas (accessible bays) and fragments (motorcycle bays), on hand-solved kerbs (issue 5, decisions 2-3)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

import parkplan
from parkplan.quotas import required_per_face
from parkplan.rules.loading import load_rules

CRS = "EPSG:25833"
FT = 0.3048


def kerb(length_m: float, n: int = 1) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"curb_id": [f"k{i}" for i in range(n)]},
        geometry=[LineString([(0, 50 * i), (length_m, 50 * i)]) for i in range(n)],
        crs=CRS,
    )


CN_LIKE = {
    "name": "t",
    "traffic": "right",
    "bays": {
        "small": {"orientation": "parallel", "length_m": 6.0, "width_m": 2.5},
        "accessible": {"orientation": "parallel", "length_m": 6.0, "width_m": 2.5, "role": "accessible"},
    },
    "quotas": {"accessible_min_share": 0.02},
}

PROWAG = [
    {"max_spaces": 25, "accessible": 1},
    {"max_spaces": 50, "accessible": 2},
    {"max_spaces": 75, "accessible": 3},
    {"max_spaces": 100, "accessible": 4},
    {"max_spaces": 150, "accessible": 5},
    {"max_spaces": 200, "accessible": 6},
]
US_LIKE = {
    "name": "t",
    "traffic": "right",
    "bays": {
        "standard": {"orientation": "parallel", "length_m": 20 * FT, "width_m": 8 * FT},
        "accessible": {
            "orientation": "parallel",
            "length_m": 25 * FT,
            "width_m": 8 * FT,
            "role": "accessible",
        },
    },
    "quotas": {"accessible_per_block": PROWAG, "accessible_share_above_200": 0.04},
}


def test_district_share_is_met_exactly_without_losing_a_bay() -> None:
    """Three 100 m kerbs: 3 x 16 = 48 bays of 6 m. 2 % of 48 = 0.96 -> 1 accessible bay, none lost
    (the accessible bay is the standard size)."""
    p = parkplan.plan(kerb(100.0, 3), None, rules=CN_LIKE)
    assert len(p.bays) == 48
    assert (p.bays["bay_type"] == "accessible").sum() == 1
    assert p.summary["quotas"] == {
        "enforced": True,
        "accessible": 1,
        "block_faces_with_quota": 0,
        "bays_given_up": 0,
        "shortfall": 0,
        "exact": True,
    }


def test_accessible_bay_stands_at_the_end_next_to_a_crossing() -> None:
    """One 100 m kerb, a 4 m crossing at 80-84 m: free 0-80 (13 bays) and 84-100 (2 bays). The accessible
    bay is the last bay before the crossing on the long stretch (both stretches touch it; the first one
    in kerb order is used)."""
    haz = gpd.GeoDataFrame({"kind": ["crossing"], "width_m": [4.0]}, geometry=[Point(82, -1)], crs=CRS)
    p = parkplan.plan(kerb(100.0), haz, rules=CN_LIKE)
    acc = p.bays[p.bays["bay_type"] == "accessible"]
    assert len(acc) == 1
    first_stretch = p.bays[p.bays["end_m"] <= 80.0 + 1e-6]
    assert float(acc["end_m"].iloc[0]) == pytest.approx(float(first_stretch["end_m"].max()))


def test_prowag_block_face_gives_up_a_bay_only_when_the_slack_is_too_short() -> None:
    """20 ft standard and 25 ft accessible bays, PROWAG: 1-25 spaces need 1 accessible.

    62.0 m: 10 standard bays take 60.96 m; 9 standard + 1 accessible need 62.484 m > 62.0, so one bay is
    given up: 8 standard + 1 accessible = 9 bays. 62.5 m: 62.484 fits, 10 bays of which 1 accessible.
    """
    short = parkplan.plan(kerb(62.0), None, rules=US_LIKE)
    assert len(short.bays) == 9
    assert (short.bays["bay_type"] == "accessible").sum() == 1
    assert short.summary["quotas"]["bays_given_up"] == 1
    long = parkplan.plan(kerb(62.5), None, rules=US_LIKE)
    assert len(long.bays) == 10
    assert (long.bays["bay_type"] == "accessible").sum() == 1
    assert long.summary["quotas"]["bays_given_up"] == 0


def test_prowag_table_rows() -> None:
    r = load_rules(US_LIKE)
    n = np.array([0, 1, 25, 26, 50, 200, 201, 260])
    assert required_per_face(n, r).tolist() == [0, 1, 1, 2, 2, 6, 9, 11]


def test_quotas_without_an_accessible_type_are_reported_not_enforced() -> None:
    rules = {**CN_LIKE, "bays": {"small": CN_LIKE["bays"]["small"]}}  # type: ignore[index]
    p = parkplan.plan(kerb(100.0), None, rules=rules)
    assert p.summary["quotas"]["enforced"] is False


def test_fragments_too_short_for_a_car_get_motorcycle_bays() -> None:
    """Driveways (4 m) at 10 and 19 m: free 0-8, 12-17, 21-100. Cars (6 m): 1 + 0 + 13 = 14; the 5 m
    stretch holds no car, so it gets floor(5 / 1.0) = 5 motorcycle bays (2.0 x 1.0 m); the others none."""
    rules = {
        "name": "t",
        "traffic": "right",
        "bays": {
            "small": {"orientation": "parallel", "length_m": 6.0, "width_m": 2.5},
            "moto": {"orientation": "perpendicular", "length_m": 2.0, "width_m": 1.0, "role": "motorcycle"},
        },
    }
    haz = gpd.GeoDataFrame(
        {"kind": ["driveway", "driveway"], "width_m": [4.0, 4.0]},
        geometry=[Point(10, -1), Point(19, -1)],
        crs=CRS,
    )
    p = parkplan.plan(kerb(100.0), haz, rules=rules)
    assert (p.bays["bay_type"] == "small").sum() == 14
    moto = p.bays[p.bays["bay_type"] == "moto"]
    assert len(moto) == 5
    assert moto["start_m"].min() >= 12.0 - 1e-6
    assert moto["end_m"].max() <= 17.0 + 1e-6
    assert p.summary["bays"]["fragments"] == 5


@settings(max_examples=25, deadline=None)
@given(lengths=st.lists(st.floats(3.0, 400.0), min_size=1, max_size=6))
def test_share_quota_holds_exactly_and_costs_nothing(lengths: list[float]) -> None:
    """Property: with same-size accessible bays, the count is the plain optimum and exactly
    ceil(2 % x N) bays are accessible."""
    k = gpd.GeoDataFrame(
        {"curb_id": [f"k{i}" for i in range(len(lengths))]},
        geometry=[LineString([(0, 50 * i), (x, 50 * i)]) for i, x in enumerate(lengths)],
        crs=CRS,
    )
    p = parkplan.plan(k, None, rules=CN_LIKE)
    n = sum(int((x + 1e-3) // 6.0) for x in lengths)
    assert len(p.bays) == n
    assert (p.bays["bay_type"] == "accessible").sum() == int(np.ceil(0.02 * n - 1e-9))


def test_loading_bays_per_block_face_where_the_kerbs_ask() -> None:
    """Two 100 m kerbs; the first asks for 2 loading bays (10 x 2.5 m), the second for none.

    Hand-solved: 16 cars of 6 m take 96 m (4 m slack). A loading bay is 4 m longer than a car: the first
    fits in the slack; 16 bays with two loading bays would need 14 x 6 + 2 x 10 = 104 m > 100 m, so one car
    is given up: 13 x 6 + 2 x 10 = 98 m, 15 bays. The second kerb keeps its 16 cars.
    """
    rules = {
        "name": "t",
        "traffic": "right",
        "bays": {
            "small": {"orientation": "parallel", "length_m": 6.0, "width_m": 2.5},
            "loading": {"orientation": "parallel", "length_m": 10.0, "width_m": 2.5, "role": "loading"},
        },
    }
    k = kerb(100.0, 2).assign(loading_demand=[2, None])
    p = parkplan.plan(k, None, rules=rules)
    by = p.bays.groupby(["curb_id", "bay_type"]).size().to_dict()
    assert by == {("k0", "loading"): 2, ("k0", "small"): 13, ("k1", "small"): 16}
    assert p.summary["quotas"]["loading"] == {
        "demanded": 2,
        "placed": 2,
        "bays_given_up": 1,
        "shortfall": 0,
        "exact": False,
    }


def test_rule_sets_of_special_bays_only_still_plan() -> None:
    """Only a motorcycle (or only an accessible) bay type: the optimiser places it everywhere; a kerb whose
    orientation only a quota type has gets the optimiser's types and is counted."""
    moto = {"m": {"orientation": "perpendicular", "length_m": 2.0, "width_m": 1.0, "role": "motorcycle"}}
    p = parkplan.plan(kerb(100.0), None, rules={"name": "t", "traffic": "left", "bays": moto})
    assert len(p.bays) == 100
    bays = {
        "car": {"orientation": "parallel", "length_m": 5.0, "width_m": 2.0},
        "acc": {
            "orientation": "angled",
            "angle_deg": 45,
            "length_m": 5.0,
            "width_m": 2.5,
            "role": "accessible",
        },
    }
    p = parkplan.plan(kerb(100.0).assign(orientation="angled"), None, rules={"name": "t", "bays": bays})
    assert len(p.bays) == 20
    assert p.summary["kerbs"]["orientation_without_bay_type"] == 1


def test_summary_shows_the_subtractive_count_beside_the_plan() -> None:
    """CN-like runs of at most 60 m with 4 m gaps on 130 m: subtractive floor(130 / 6) = 21 ignores the runs;
    the plan holds 10 + 10 + 0 = 20 (60 + 4 + 60 + 4 = 128 m, 2 m left)."""
    rules = {**CN_LIKE, "grouping": {"max_run_m": 60.0, "gap_m": 4.0}}
    p = parkplan.plan(kerb(130.0), None, rules=rules)
    assert len(p.bays) == 20
    assert p.summary["baseline"]["subtractive_bays"] == 21
    assert p.summary["baseline"]["bay_type"] == "small"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 8), st.integers(1, 4)), min_size=1, max_size=12),
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, 12),
            st.integers(0, 3),
            st.sampled_from(["crossing", "intersection", "hydrant"]),
        ),
        max_size=15,
    ),
)
def test_ramp_ends_match_a_join_on_kerb_and_chainage(stretch_rows, zone_rows) -> None:
    """Each stretch's best ramp end (crossing before intersection) and which end it is: the key search
    gives what an exact join of zone ends to stretch starts (and zone starts to stretch ends) gives, for
    free stretches (which never overlap on a kerb)."""
    import pandas as pd

    from parkplan.quotas import RAMP_KINDS, _ramp_end

    # Free stretches of a kerb never overlap: each row is (kerb, gap after the kerb's last one, length).
    rows, end_of = [], {}
    for k, gap, n in stretch_rows:
        start = end_of.get(k, 0) + gap
        rows.append((k, float(start), float(start + n)))
        end_of[k] = start + n
    stretches = pd.DataFrame(rows, columns=["kerb", "start_m", "end_m"]).sort_values(
        ["kerb", "start_m"], kind="stable"
    )
    zones = pd.DataFrame(
        [(k, float(s), float(s + n), kind) for k, s, n, kind in zone_rows],
        columns=["kerb", "start_m", "end_m", "kind"],
    )
    prio, at_end = _ramp_end(stretches.reset_index(drop=True), zones)
    for i, row in enumerate(stretches.itertuples()):
        ranks0 = [
            RAMP_KINDS[z.kind]
            for z in zones.itertuples()
            if z.kind in RAMP_KINDS and z.kerb == row.kerb and z.end_m == row.start_m
        ]
        ranks1 = [
            RAMP_KINDS[z.kind]
            for z in zones.itertuples()
            if z.kind in RAMP_KINDS and z.kerb == row.kerb and z.start_m == row.end_m
        ]
        best0, best1 = min(ranks0, default=2), min(ranks1, default=2)
        assert prio[i] == min(best0, best1)
        assert at_end[i] == (best1 < best0)
