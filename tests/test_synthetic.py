"""The synthetic city generator: reproducible, well-formed kerbs and hazards, and a plan near its target."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS

import parkplan
from parkplan.errors import ArgumentError
from parkplan.rules.loading import load_rules
from parkplan.synthetic import city_side_m, grid_city, make_city

TARGET = 2_000
TOLERANCE = 0.15


@pytest.fixture(scope="module")
def city():
    return make_city(TARGET, seed=0)


@pytest.fixture(scope="module")
def planned(city):
    kerbs, hazards = city
    return parkplan.plan(kerbs, hazards, rules="cn")


def test_same_seed_gives_identical_frames(city):
    kerbs, hazards = make_city(TARGET, seed=0)
    pd.testing.assert_frame_equal(kerbs.drop(columns="geometry"), city[0].drop(columns="geometry"))
    pd.testing.assert_frame_equal(hazards.drop(columns="geometry"), city[1].drop(columns="geometry"))
    for mine, theirs in ((kerbs, city[0]), (hazards, city[1])):
        wkb = shapely.to_wkb(theirs.geometry.values).tolist()
        assert shapely.to_wkb(mine.geometry.values).tolist() == wkb


def test_other_seed_gives_another_city(city):
    kerbs, hazards = make_city(TARGET, seed=1)
    assert len(kerbs) != len(city[0]) or not kerbs.geom_equals(city[0]).all()
    assert len(hazards) != len(city[1]) or not hazards.geom_equals(city[1]).all()


def test_kerbs_are_well_formed(city):
    kerbs, _ = city
    assert CRS.from_user_input(kerbs.crs) == CRS.from_epsg(32650)
    assert kerbs["curb_id"].is_unique
    assert set(kerbs.geom_type) == {"LineString"}
    assert (kerbs.length > 0).all()
    assert set(kerbs["side"]) == {"left", "right"}
    assert set(kerbs["flow"]) <= {"forward", "backward"}
    assert kerbs["width_m"].between(8.0, 60.0).all()
    assert kerbs["oneway"].any()
    assert not kerbs["oneway"].all()
    # Near Beijing: within 60 km of Tiananmen in UTM 50N.
    x, y = shapely.get_coordinates(kerbs.geometry.values).T
    assert np.hypot(x - 448_500.0, y - 4_417_800.0).max() < 60_000.0


def test_kerbs_of_one_street_share_width_and_oneway(city):
    kerbs, _ = city
    per_street = kerbs.groupby("street_id").agg(
        widths=("width_m", "nunique"), oneway=("oneway", "nunique"), sides=("side", "nunique")
    )
    assert (per_street["widths"] == 1).all()
    assert (per_street["oneway"] == 1).all()
    assert (per_street["sides"] == 2).all()


def test_flow_follows_the_traffic_side(city):
    kerbs, _ = city
    two_way = ~kerbs["oneway"].astype(bool)
    right = kerbs["side"] == "right"
    assert (kerbs.loc[two_way & right, "flow"] == "forward").all()
    assert (kerbs.loc[two_way & ~right, "flow"] == "backward").all()
    assert (kerbs.loc[~two_way, "flow"] == "forward").all()
    left_hand, _ = grid_city(1500.0, 1500.0, seed=0, traffic="left")
    two = ~left_hand["oneway"].astype(bool)
    assert (left_hand.loc[two & (left_hand["side"] == "left"), "flow"] == "forward").all()


def test_side_is_the_side_of_the_centreline(city):
    """A right kerb has the carriageway (its street's other kerb) on its left, looking along it."""
    kerbs, _ = city
    first = kerbs.groupby(["street_id", "side"]).head(1).set_index(["street_id", "side"])
    streets = first.index.get_level_values(0).unique()
    right = np.asarray(first.loc[[(s, "right") for s in streets]].geometry.values, dtype=object)
    left = np.asarray(first.loc[[(s, "left") for s in streets]].geometry.values, dtype=object)
    a = shapely.get_coordinates(shapely.get_point(right, 0))
    b = shapely.get_coordinates(shapely.get_point(right, -1))
    p = shapely.get_coordinates(shapely.get_point(left, 0))
    d = b - a
    cross = d[:, 0] * (p[:, 1] - a[:, 1]) - d[:, 1] * (p[:, 0] - a[:, 0])
    assert (cross > 0).all()


def test_hazards_are_of_known_kinds(city):
    _, hazards = city
    rules = load_rules("cn")
    assert hazards["hazard_id"].is_unique
    assert set(hazards["kind"]) <= set(rules.kinds)
    assert {"intersection", "driveway", "crossing", "hydrant", "bus_stop"} <= set(hazards["kind"])
    assert set(hazards.geom_type) <= {"Point", "LineString"}


def test_plan_is_optimal_near_target_and_matches_every_hazard(planned):
    summary = planned.summary
    assert summary["solver"]["status"] == "OPTIMAL"
    assert summary["hazards"]["unmatched"] == 0
    assert all(v["unmatched"] == 0 for v in summary["hazards"]["by_kind"].values())
    bays = summary["bays"]["total"]
    assert abs(bays / TARGET - 1.0) <= TOLERANCE, bays


def test_no_bay_within_50_m_of_a_junction(city, planned):
    """Checked independently of the hazards: every kerb end inside the city is at a junction."""
    kerbs, _ = city
    minx, miny, maxx, maxy = kerbs.total_bounds
    geoms = np.asarray(kerbs.geometry.values, dtype=object)

    def open_end(which):
        x, y = shapely.get_coordinates(shapely.get_point(geoms, which)).T
        return np.isclose(x, minx) | np.isclose(x, maxx) | np.isclose(y, miny) | np.isclose(y, maxy)

    ends = pd.DataFrame(
        {"open_start": open_end(0), "open_end": open_end(-1), "length": shapely.length(geoms)},
        index=kerbs["curb_id"],
    )
    bays = planned.bays.join(ends, on="curb_id")
    assert len(bays) > 0
    assert (bays["open_start"] | (bays["start_m"] >= 50.0 - 1e-3)).all()
    assert (bays["open_end"] | (bays["end_m"] <= bays["length"] - 50.0 + 1e-3)).all()


def test_centre_junctions_are_one_point_per_crossing():
    kerbs, corners = grid_city(1500.0, 1500.0, seed=3)
    kerbs_c, centre = grid_city(1500.0, 1500.0, seed=3, junctions="centre")
    assert kerbs.geom_equals(kerbs_c).all()
    assert (centre["kind"] == "intersection").sum() < (corners["kind"] == "intersection").sum()
    assert (centre["kind"] != "intersection").sum() == (corners["kind"] != "intersection").sum()


def test_bad_arguments():
    with pytest.raises(ValueError, match="target_bays"):
        make_city(0)
    with pytest.raises(ValueError, match="junctions"):
        grid_city(1000.0, 1000.0, junctions="middle")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: make_city(0), "target_bays"),
        (lambda: make_city(-5), "target_bays"),
        (lambda: make_city("100"), "target_bays"),
        (lambda: city_side_m(0), "target_bays"),
        (lambda: grid_city(0.0, 1000.0), "width_m"),
        (lambda: grid_city(1000.0, math.inf), "height_m"),
        (lambda: grid_city(1000.0, math.nan), "height_m"),
        (lambda: grid_city(1000.0, 1000.0, junctions="middle"), "junctions"),
        (lambda: grid_city(1000.0, 1000.0, traffic="middle"), "traffic"),
        (lambda: make_city(1000, junctions="middle"), "junctions"),
    ],
)
def test_bad_arguments_are_argument_errors_naming_them(call, argument):
    """As every public function's: an ArgumentError (an InputError and a ValueError) naming the argument."""
    with pytest.raises(ArgumentError) as info:
        call()
    assert info.value.argument == argument
    assert str(info.value).split(": ", 1)[1].startswith(f"{argument} must be ")


def test_other_rules_are_scaled_from_a_reference_plan():
    """uk has no fitted constants: make_city measures it, and its left-hand traffic sets the flows."""
    kerbs, hazards = make_city(TARGET, seed=0, rules="uk")
    two_way = ~kerbs["oneway"].astype(bool)
    assert (kerbs.loc[two_way & (kerbs["side"] == "left"), "flow"] == "forward").all()
    bays = parkplan.plan(kerbs, hazards, rules="uk").summary["bays"]["total"]
    assert abs(bays / TARGET - 1.0) <= 0.2, bays
