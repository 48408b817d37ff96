"""OpenStreetMap input: obstacles, school gates, multipolygon relations, tagged capacity and signs for one
direction of traffic."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import parkplan
from parkplan.geometry.kerbs import side_of
from parkplan.osm.existing import bays_by_way_side, capacity_summary, enforce_capacity
from parkplan.osm.streets import from_osm

NEUKOELLN = Path(__file__).parent / "data" / "osm" / "neukoelln-2024.osm"

# One east-west residential way (node 1 to node 2, about 200 m, 8 m wide: kerbs 4 m either side) at
# 52.4730 N. At this latitude 1 m is 8.99e-6 degrees of latitude and 1.475e-5 degrees of longitude.
#
# South of the centreline: 101 a bollard in the carriageway 3.5 m out (0.5 m from the kerb), 102 a bollard
# on the footway 6 m out, 103 a barrier=kerb 3.8 m out, 104 a street tree in a pit 4.5 m out tagged
# obstacle:parking=yes, 105 an untagged tree in the carriageway. North: 106 a street lamp in the
# carriageway (no obstacle tag), 107 bicycle stands in the parking lane (capacity 6), 108 bicycle stands on
# the footway, and way 20 a row of concrete blocks in the carriageway 3.5 m out.
#
# Way 21: a school 8 to 60 m north of the centreline with a gate (node 112) on its south fence. Way 22: a
# kindergarten 10 to 40 m north without a mapped gate. Relation 900: a fire station (multipolygon, outer
# way 23) 12 to 40 m south. Relation 901: a hatched no-parking area (area:highway=prohibited) in the
# carriageway at the south kerb (outer way 24). Relation 902: street-side parking for 2 cars in the
# carriageway at the north kerb (outer way 25).
OBJECTS = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="52.4730" lon="13.4380"/>
  <node id="2" lat="52.4730" lon="13.4410"/>
  <node id="101" lat="52.4729685" lon="13.4390">
    <tag k="barrier" v="bollard"/><tag k="bollard" v="fixed"/></node>
  <node id="102" lat="52.4729460" lon="13.4392"><tag k="barrier" v="bollard"/></node>
  <node id="103" lat="52.4729658" lon="13.4394"><tag k="barrier" v="kerb"/><tag k="kerb" v="lowered"/></node>
  <node id="104" lat="52.4729595" lon="13.4396">
    <tag k="natural" v="tree"/><tag k="obstacle:parking" v="yes"/><tag k="ref" v="77"/></node>
  <node id="105" lat="52.4729685" lon="13.4398"><tag k="natural" v="tree"/></node>
  <node id="106" lat="52.4730315" lon="13.4385"><tag k="highway" v="street_lamp"/></node>
  <node id="107" lat="52.4730270" lon="13.4388">
    <tag k="amenity" v="bicycle_parking"/><tag k="bicycle_parking" v="stands"/>
    <tag k="bicycle_parking:position" v="lane"/><tag k="capacity" v="6"/></node>
  <node id="108" lat="52.4730540" lon="13.4389">
    <tag k="amenity" v="bicycle_parking"/><tag k="bicycle_parking:position" v="sidewalk"/></node>
  <node id="109" lat="52.4730315" lon="13.4400"/>
  <node id="110" lat="52.4730315" lon="13.4401"/>
  <node id="111" lat="52.4730719" lon="13.4382"/>
  <node id="112" lat="52.4730719" lon="13.4385">
    <tag k="barrier" v="gate"/><tag k="access" v="private"/></node>
  <node id="113" lat="52.4730719" lon="13.4388"/>
  <node id="114" lat="52.4735396" lon="13.4388"/>
  <node id="115" lat="52.4735396" lon="13.4382"/>
  <node id="116" lat="52.4730899" lon="13.4395"/>
  <node id="117" lat="52.4730899" lon="13.4400"/>
  <node id="118" lat="52.4733597" lon="13.4400"/>
  <node id="119" lat="52.4733597" lon="13.4395"/>
  <node id="120" lat="52.4728921" lon="13.4402"/>
  <node id="121" lat="52.4728921" lon="13.4406"/>
  <node id="122" lat="52.4726403" lon="13.4406"/>
  <node id="123" lat="52.4726403" lon="13.4402"/>
  <node id="124" lat="52.4729649" lon="13.4383"/>
  <node id="125" lat="52.4729649" lon="13.4386"/>
  <node id="126" lat="52.4729820" lon="13.4386"/>
  <node id="127" lat="52.4729820" lon="13.4383"/>
  <node id="128" lat="52.4730180" lon="13.4405"/>
  <node id="129" lat="52.4730180" lon="13.4407"/>
  <node id="130" lat="52.4730351" lon="13.4407"/>
  <node id="131" lat="52.4730351" lon="13.4405"/>
  <way id="10">
    <nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="width" v="8"/>
    <tag k="parking:both" v="lane"/><tag k="parking:both:orientation" v="parallel"/>
  </way>
  <way id="20"><nd ref="109"/><nd ref="110"/><tag k="barrier" v="block"/></way>
  <way id="21">
    <nd ref="111"/><nd ref="112"/><nd ref="113"/><nd ref="114"/><nd ref="115"/><nd ref="111"/>
    <tag k="amenity" v="school"/><tag k="name" v="Grundschule"/>
  </way>
  <way id="22">
    <nd ref="116"/><nd ref="117"/><nd ref="118"/><nd ref="119"/><nd ref="116"/>
    <tag k="amenity" v="kindergarten"/>
  </way>
  <way id="23"><nd ref="120"/><nd ref="121"/><nd ref="122"/><nd ref="123"/><nd ref="120"/></way>
  <way id="24"><nd ref="124"/><nd ref="125"/><nd ref="126"/><nd ref="127"/><nd ref="124"/></way>
  <way id="25"><nd ref="128"/><nd ref="129"/><nd ref="130"/><nd ref="131"/><nd ref="128"/></way>
  <relation id="900">
    <member type="way" ref="23" role="outer"/>
    <tag k="type" v="multipolygon"/><tag k="amenity" v="fire_station"/>
  </relation>
  <relation id="901">
    <member type="way" ref="24" role="outer"/>
    <tag k="type" v="multipolygon"/><tag k="area:highway" v="prohibited"/>
  </relation>
  <relation id="902">
    <member type="way" ref="25" role="outer"/>
    <tag k="type" v="multipolygon"/><tag k="amenity" v="parking"/><tag k="parking" v="street_side"/>
    <tag k="capacity" v="2"/><tag k="orientation" v="parallel"/>
  </relation>
</osm>
"""

RULES = {
    "name": "t",
    "traffic": "right",
    "bays": {"car": {"orientation": "parallel", "length_m": 5.2, "width_m": 2.0}},
}


@pytest.fixture(scope="module")
def objects(tmp_path_factory):
    path = tmp_path_factory.mktemp("osm") / "objects.osm"
    path.write_text(OBJECTS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def read(objects):
    return from_osm(objects, mode="existing")


def _metric(frame):
    return frame.to_crs(25833)


def _edge(lon0, lon1, lat):
    """An east-west edge of an outline, in EPSG:25833."""
    return _metric(gpd.GeoSeries([shapely.LineString([(lon0, lat), (lon1, lat)])], crs=4326)).iloc[0]


def test_obstacles_in_the_carriageway_keep_their_osm_ids(read):
    hazards = read.hazards
    by_id = hazards.set_index("hazard_id")
    obstacles = hazards[hazards["kind"] == "obstacle"]
    assert sorted(obstacles["hazard_id"]) == ["node/101", "node/104", "node/107", "way/20"]
    # Widths: bollard 0.6 m, tree pit 3 m (TILDA buffers), bicycle stands 0.8 m per space, blocks 1 m.
    assert by_id.loc["node/101", "width_m"] == pytest.approx(0.6)
    assert by_id.loc["node/104", "width_m"] == pytest.approx(3.0)
    assert by_id.loc["node/107", "width_m"] == pytest.approx(4.8)
    assert by_id.loc["way/20", "width_m"] == pytest.approx(1.0)
    assert by_id.loc["way/20"].geometry.geom_type == "LineString"
    assert set(obstacles["source"]) == {"osm"}


def test_what_is_not_an_obstacle(read):
    """A kerb, a footway bollard, an untagged tree, a street lamp and footway bicycle stands are not read."""
    hazards = read.hazards
    for node in (102, 103, 105, 106, 108):
        assert f"node/{node}" not in set(hazards["hazard_id"])


def test_school_gates_and_a_school_without_gates(read):
    hazards = read.hazards
    schools = hazards[hazards["kind"] == "school"].set_index("hazard_id")
    assert sorted(schools.index) == ["node/112", "way/22"]
    # The gate where it is mapped; the kindergarten at the point of its outline that faces the street.
    assert schools.loc["node/112"].geometry.equals(shapely.Point(13.4385, 52.4730719))
    point = _metric(schools.loc[["way/22"]]).geometry.iloc[0]
    assert _edge(13.4395, 13.4400, 52.4730899).distance(point) < 0.01  # its south side
    assert schools["width_m"].isna().all()


def test_multipolygon_relations(read):
    hazards, parking = read.hazards, read.parking
    by_id = hazards.set_index("hazard_id")
    assert by_id.loc["relation/900", "kind"] == "fire_station"
    assert by_id.loc["relation/900"].geometry.geom_type == "Point"  # on its north side, facing the street
    assert (
        _edge(13.4402, 13.4406, 52.4728921).distance(_metric(by_id.loc[["relation/900"]]).geometry.iloc[0])
        < 0.01
    )
    assert by_id.loc["relation/901", "kind"] == "no_parking"
    assert by_id.loc["relation/901"].geometry.geom_type == "Polygon"
    # Street-side parking mapped as a multipolygon: reported, and its kerb kept free in existing mode.
    assert list(parking["osm_id"]) == ["relation/902"]
    assert parking["capacity"].iloc[0] == 2.0
    assert by_id.loc["relation/902", "reason"] == "separate"
    assert hazards["hazard_id"].is_unique
    bays = parkplan.osm.existing.separate_bays(parking, RULES)
    assert len(bays) == 2


def test_plan_mode_reads_the_same_objects(objects, read):
    hazards = from_osm(objects).hazards
    existing = read.hazards
    new_kinds = ("obstacle", "school", "fire_station")
    assert sorted(hazards.loc[hazards["kind"].isin(new_kinds), "hazard_id"]) == sorted(
        existing.loc[existing["kind"].isin(new_kinds), "hazard_id"]
    )


def test_an_obstacle_keeps_its_own_extent_free_without_a_clearance(objects):
    """No rule set gives obstacle a clearance: its own width is forbidden all the same."""
    osm = from_osm(objects)
    areas, hazards = osm.kerbs, osm.hazards
    plan = parkplan.plan(areas, hazards, rules=RULES)
    zones = plan.zones[plan.zones["kind"] == "obstacle"].set_index("hazard_id")
    assert set(zones.index) == {"node/101", "node/104", "node/107", "way/20"}
    assert zones.loc["node/101", "end_m"] - zones.loc["node/101", "start_m"] == pytest.approx(0.6, abs=1e-3)
    assert zones.loc["node/104", "end_m"] - zones.loc["node/104", "start_m"] == pytest.approx(3.0, abs=1e-3)
    # The blocks lie along the kerb: their stretch (about 6.8 m), not a point.
    assert zones.loc["way/20", "end_m"] - zones.loc["way/20", "start_m"] == pytest.approx(6.8, abs=0.2)
    for zone in zones.itertuples():
        on = plan.bays[plan.bays["curb_id"] == zone.curb_id]
        assert not ((on["start_m"] < zone.end_m - 1e-3) & (on["end_m"] > zone.start_m + 1e-3)).any()
    by_kind = plan.summary["hazards"]["by_kind"]
    assert by_kind["obstacle"] == {"total": 4, "matched": 4, "unmatched": 0}


def test_a_school_gate_matters_only_with_a_clearance(objects):
    osm = from_osm(objects)
    areas, hazards = osm.kerbs, osm.hazards
    plain = parkplan.plan(areas, hazards, rules=RULES)
    # Matched and counted, but no clearance and no width: no kerb is lost to it.
    assert plain.summary["hazards"]["by_kind"]["school"]["matched"] == 2
    assert (plain.zones["kind"] != "school").all()
    rules = {**RULES, "clearances": {"school": {"before_m": 10.0, "after_m": 10.0, "anchor": "centre"}}}
    strict = parkplan.plan(areas, hazards, rules=rules)
    zones = strict.zones[strict.zones["kind"] == "school"]
    assert sorted(zones["hazard_id"]) == ["node/112", "way/22"]
    assert (zones["end_m"] - zones["start_m"]).round(3).tolist() == [20.0, 20.0]
    assert len(strict.bays) < len(plain.bays)


# --------------------------------------------------------------------------------------------------
# Tagged capacity in existing mode
# --------------------------------------------------------------------------------------------------

# One 200 m residential way, 8 m wide, parking on both sides: the north kerb (left of the way) is tagged for
# 3 cars, far fewer than it fits; the south kerb (right) for 50, more than it fits.
CAPACITY = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="52.4730" lon="13.4380"/>
  <node id="2" lat="52.4730" lon="13.4410"/>
  <way id="10">
    <nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="width" v="8"/>
    <tag k="parking:both" v="lane"/><tag k="parking:both:orientation" v="parallel"/>
    <tag k="parking:left:capacity" v="3"/><tag k="parking:right:capacity" v="50"/>
  </way>
</osm>
"""


@pytest.fixture(scope="module")
def capacity_plan(tmp_path_factory):
    path = tmp_path_factory.mktemp("osm") / "capacity.osm"
    path.write_text(CAPACITY, encoding="utf-8")
    osm = from_osm(path, mode="existing")
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    rules = {**RULES, "grouping": {"max_run_m": 60.0, "gap_m": 5.0}}
    return parkplan.plan(areas, hazards, rules=rules, ways=ways), ways


def test_capacity_caps_the_bays_of_a_way_side(capacity_plan):
    plan, ways = capacity_plan
    before = bays_by_way_side(plan.bays, ways).set_index("side")
    assert before.loc["left", "bays"] > 3
    assert 0 < before.loc["right", "bays"] < 50
    bays, report = enforce_capacity(plan.bays, ways)
    report = report.set_index("side")
    assert report.loc["left", "status"] == "capped"
    assert report.loc["left", "bays_geometry"] == before.loc["left", "bays"]
    assert report.loc["left", "bays_kept"] == 3
    assert report.loc["left", "dropped"] == before.loc["left", "bays"] - 3
    assert report.loc["right", "status"] == "geometry_fits_fewer"
    assert (
        report.loc["right", "bays_kept"]
        == report.loc["right", "bays_geometry"]
        == before.loc["right", "bays"]
    )
    counts = capacity_summary(report.reset_index())
    assert counts["way_sides_tagged"] == 2
    assert (counts["capped"], counts["geometry_fits_fewer"], counts["disagree"]) == (1, 1, 2)
    assert counts["bays_dropped"] == before.loc["left", "bays"] - 3
    after = bays_by_way_side(bays, ways).set_index("side")
    assert after.loc["left", "bays"] == 3
    assert after.loc["right", "bays"] == before.loc["right", "bays"]
    assert bays.crs == plan.bays.crs
    assert list(bays.columns) == list(plan.bays.columns)
    # The bays kept stay where they were, with their ids.
    kept = plan.bays.set_index("bay_id").loc[bays["bay_id"]]
    assert np.allclose(kept["start_m"], bays["start_m"])
    assert shapely.equals(np.asarray(kept.geometry.values), np.asarray(bays.geometry.values)).all()


def _runs(frame):
    runs, last = [], None
    for row in frame.sort_values(["curb_id", "start_m"]).itertuples():
        if last is not None and row.curb_id == last.curb_id and row.start_m <= last.end_m + 1e-3:
            runs[-1].append(row.bay_id)
        else:
            runs.append([row.bay_id])
        last = row
    return runs


def test_capacity_drops_bays_only_at_the_ends_of_runs(capacity_plan):
    """Every run left is an unbroken piece of a run before (a gap inside a run could break the grouping)."""
    plan, ways = capacity_plan
    for cap in (1, 2, 3, 7, 11):
        capped = ways.assign(capacity_left=float(cap))
        bays, report = enforce_capacity(plan.bays, capped)
        assert report.set_index("side").loc["left", "bays_kept"] == cap
        again, _ = enforce_capacity(plan.bays, capped)
        assert list(again["bay_id"]) == list(bays["bay_id"])  # deterministic
        before = {b: i for i, run in enumerate(_runs(plan.bays)) for b in run}
        for run in _runs(bays):
            assert len({before[b] for b in run}) == 1
            # ... and no bay of the old run between its first and last kept bay was dropped.
            old = next(r for r in _runs(plan.bays) if run[0] in r)
            assert old[old.index(run[0]) : old.index(run[-1]) + 1] == run


def test_capacity_leaves_separate_bays_and_untagged_sides_alone(capacity_plan):
    plan, ways = capacity_plan
    separate = plan.bays.iloc[:2].assign(source="separate", bay_id=["way/9#0", "way/9#1"])
    bays = pd.concat([plan.bays.assign(source="kerb"), separate], ignore_index=True)
    bays = gpd.GeoDataFrame(bays, geometry="geometry", crs=plan.bays.crs)
    capped, _ = enforce_capacity(bays, ways)
    assert (capped["source"] == "separate").sum() == 2
    untagged = ways.assign(capacity_left=np.nan, capacity_right=np.nan)
    same, report = enforce_capacity(plan.bays, untagged)
    assert len(same) == len(plan.bays)
    assert set(report["status"]) == {"untagged"}
    with pytest.raises(parkplan.ArgumentError, match="existing"):
        enforce_capacity(plan.bays, ways.drop(columns=["capacity_left", "capacity_right"]))


def _sandwich():
    """Three 30 m ways end to end (EPSG:25833, in Berlin); one run of 18 touching 5 m bays south of them.

    The middle way's right side is tagged for 2 cars: its 6 bays all lie inside the run.
    """
    x0, y0 = 390_000.0, 5_814_000.0
    ways = gpd.GeoDataFrame(
        {
            "osm_id": ["way/1", "way/2", "way/3"],
            "parking_left": False,
            "parking_right": True,
            "capacity_left": np.nan,
            "capacity_right": [np.nan, 2.0, np.nan],
        },
        geometry=[shapely.LineString([(x0 + 30 * i, y0), (x0 + 30 * (i + 1), y0)]) for i in range(3)],
        crs=25833,
    )
    bays = gpd.GeoDataFrame(
        {
            "bay_id": [f"k#{i}" for i in range(18)],
            "curb_id": "k",
            "start_m": [5.0 * i for i in range(18)],
            "end_m": [5.0 * (i + 1) for i in range(18)],
        },
        geometry=[shapely.box(x0 + 5 * i, y0 - 6, x0 + 5 * (i + 1), y0 - 4) for i in range(18)],
        crs=25833,
    )
    return bays, ways


def test_capacity_inside_a_run_drops_only_what_the_grouping_allows():
    bays, ways = _sandwich()
    # Without the rules, only run ends are dropped: none belongs to the middle way.
    same, report = enforce_capacity(bays, ways)
    middle = report.set_index(["osm_id", "side"]).loc[("way/2", "right")]
    assert (middle["status"], middle["bays_geometry"], middle["dropped"]) == ("capped_partly", 6, 0)
    assert len(same) == 18
    # Rules without [grouping]: any bay may go; the middle way keeps exactly 2.
    capped, report = enforce_capacity(bays, ways, rules=RULES)
    middle = report.set_index(["osm_id", "side"]).loc[("way/2", "right")]
    assert (middle["status"], middle["bays_kept"]) == ("capped", 2)
    assert len(capped) == 14
    assert set(capped["bay_id"]) >= {f"k#{i}" for i in (*range(6), *range(12, 18))}  # other ways untouched
    # A grouping gap longer than a bay: no gap inside the run may open.
    strict = {**RULES, "grouping": {"max_run_m": 200.0, "gap_m": 6.0}}
    _, report = enforce_capacity(bays, ways, rules=strict)
    assert report.set_index(["osm_id", "side"]).loc[("way/2", "right"), "dropped"] == 0
    # A shorter one: the gaps opened are at least a bay long.
    loose = {**RULES, "grouping": {"max_run_m": 200.0, "gap_m": 4.0}}
    capped, report = enforce_capacity(bays, ways, rules=loose)
    assert report.set_index(["osm_id", "side"]).loc[("way/2", "right"), "status"] == "capped"
    kept = capped.sort_values("start_m")
    gaps = kept["start_m"].to_numpy()[1:] - kept["end_m"].to_numpy()[:-1]
    assert (gaps[gaps > 1e-6] >= 4.0).all()


def test_capacity_never_drops_an_accessible_bay():
    """The last bay of the run (beside way 3, tagged for 2) is accessible: a quota may need it."""
    bays, ways = _sandwich()
    ways = ways.assign(capacity_right=[np.nan, np.nan, 2.0])
    bays = bays.assign(bay_type=["car"] * 17 + ["acc"])
    rules = {
        **RULES,
        "bays": {
            **RULES["bays"],
            "acc": {"orientation": "parallel", "length_m": 5.2, "width_m": 3.5, "role": "accessible"},
        },
    }
    capped, report = enforce_capacity(bays, ways, rules=rules)
    assert report.set_index(["osm_id", "side"]).loc[("way/3", "right"), "status"] == "capped"
    assert set(capped["bay_id"]) - {f"k#{i}" for i in range(12)} == {"k#12", "k#17"}
    # Without the rules nothing tells the accessible bay apart: the run loses its far end.
    capped, _ = enforce_capacity(bays, ways)
    assert set(capped["bay_id"]) - {f"k#{i}" for i in range(12)} == {"k#12", "k#13"}


# --------------------------------------------------------------------------------------------------
# Signs and signals for one direction of traffic
# --------------------------------------------------------------------------------------------------

# One west-to-east residential way 10 (node 1 to node 2, about 200 m, 8 m wide: kerbs 4 m either side) at
# 52.4730 N; a side street (way 11) leaves it northwards at node 7. On way 10, about 40 m apart: 3 a stop
# sign for the forward (eastbound) traffic, 4 one for the backward (westbound) traffic, 5 a signal for the
# forward traffic (traffic_signals:direction), 6 a stop sign without a direction, and 7 (the junction) a
# signal tagged forward. Under right-hand traffic the forward traffic keeps to the right of the way: the
# south kerb.
SIGNS = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="52.4730" lon="13.4380"/>
  <node id="3" lat="52.4730" lon="13.4386"><tag k="highway" v="stop"/><tag k="direction" v="forward"/></node>
  <node id="4" lat="52.4730" lon="13.4392">
    <tag k="highway" v="give_way"/><tag k="direction" v="backward"/></node>
  <node id="5" lat="52.4730" lon="13.4398">
    <tag k="highway" v="traffic_signals"/><tag k="traffic_signals:direction" v="forward"/></node>
  <node id="6" lat="52.4730" lon="13.4403"><tag k="highway" v="stop"/></node>
  <node id="7" lat="52.4730" lon="13.4407">
    <tag k="highway" v="traffic_signals"/><tag k="traffic_signals:direction" v="forward"/></node>
  <node id="2" lat="52.4730" lon="13.4412"/>
  <node id="8" lat="52.4740" lon="13.4407"/>
  <way id="10">
    <nd ref="1"/><nd ref="3"/><nd ref="4"/><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="width" v="8"/>ONEWAY
  </way>
  <way id="11"><nd ref="7"/><nd ref="8"/><tag k="highway" v="residential"/><tag k="width" v="8"/></way>
</osm>
"""

SIGN_RULES = {
    **RULES,
    "clearances": {"stop_sign": {"before_m": 10.0}, "traffic_signal": {"before_m": 10.0}},
}

#: The same, with the snap mode the moved signs ask for (their ``match`` column) set for the whole kind:
#: the planner does not read a per-feature ``match`` yet.
SIGN_RULES_NEAREST = {
    **SIGN_RULES,
    "kinds": {"stop_sign": {"match": "nearest"}, "traffic_signal": {"match": "nearest"}},
}


@pytest.fixture(scope="module")
def signs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("osm")
    two_way = folder / "signs.osm"
    two_way.write_text(SIGNS.replace("ONEWAY", ""), encoding="utf-8")
    one_way = folder / "signs-oneway.osm"
    one_way.write_text(SIGNS.replace("ONEWAY", '<tag k="oneway" v="yes"/>'), encoding="utf-8")
    return two_way, one_way


def _placed(hazards):
    """Side of way 10 (looking along it), distance from it (m) and ``match`` of each sign node."""
    way = _metric(gpd.GeoSeries([shapely.LineString([(13.4380, 52.4730), (13.4412, 52.4730)])], crs=4326))
    signs = hazards[hazards["kind"].isin(["stop_sign", "traffic_signal"])].set_index("hazard_id")
    points = np.asarray(_metric(signs.geometry).values, dtype=object)
    lines = np.full(len(points), way.iloc[0], dtype=object)
    side, _ = side_of(lines, points)
    distance = shapely.distance(lines, points)
    return {
        hid: (str(s), round(float(d), 1), m if isinstance(m, str) else None)
        for hid, s, d, m in zip(signs.index, side, distance, signs["match"], strict=True)
    }


def _zone_sides(plan, hazard_id):
    """Which kerbs (north or south of way 10) the zones of a hazard lie on."""
    zones = plan.zones[plan.zones["hazard_id"] == hazard_id].to_crs(4326)
    return {"north" if g.centroid.y > 52.4730 else "south" for g in zones.geometry}


def test_a_sign_for_one_direction_moves_beside_its_traffic(signs):
    hazards = from_osm(signs[0]).hazards
    placed = _placed(hazards)
    # Half the 8 m carriageway plus the 1 m setback, on the side of the traffic it governs, ids kept.
    assert placed["node/3"] == ("right", 5.0, "nearest")
    assert placed["node/4"] == ("left", 5.0, "nearest")
    assert placed["node/5"] == ("right", 5.0, "nearest")
    # No direction, or a junction node (forward along which way?): on the centreline as before.
    assert placed["node/6"][1:] == (0.0, None)
    assert placed["node/7"][1:] == (0.0, None)
    assert hazards.loc[hazards["match"].notna(), "kind"].tolist() == [
        "stop_sign",
        "stop_sign",
        "traffic_signal",
    ]


def test_left_hand_traffic_flips_the_side(signs):
    hazards = from_osm(signs[0], traffic="left").hazards
    placed = _placed(hazards)
    assert placed["node/3"] == ("left", 5.0, "nearest")
    assert placed["node/4"] == ("right", 5.0, "nearest")
    assert placed["node/5"] == ("left", 5.0, "nearest")
    assert placed["node/6"][1:] == (0.0, None)


def test_a_one_way_street_keeps_both_kerbs(signs):
    """Both kerbs of a one-way street carry the traffic the sign governs."""
    osm = from_osm(signs[1])
    areas, hazards = osm.kerbs, osm.hazards
    placed = _placed(hazards)
    assert all(d == 0.0 and m is None for _, d, m in placed.values())
    assert hazards["match"].isna().all()
    plan = parkplan.plan(areas, hazards, rules=SIGN_RULES)
    for hid in ("node/3", "node/4", "node/5", "node/6"):
        assert _zone_sides(plan, hid) == {"north", "south"}, hid


def test_untagged_signs_are_read_as_before(signs, tmp_path):
    plain = tmp_path / "plain.osm"
    text = signs[0].read_text(encoding="utf-8")
    for tag in ('<tag k="direction" v="forward"/>', '<tag k="direction" v="backward"/>'):
        text = text.replace(tag, "")
    plain.write_text(text.replace('<tag k="traffic_signals:direction" v="forward"/>', ""), encoding="utf-8")
    tagged = from_osm(signs[0]).hazards
    untagged = from_osm(plain).hazards
    assert untagged["match"].isna().all()
    assert tagged["hazard_id"].tolist() == untagged["hazard_id"].tolist()
    nodes = {"node/3": 13.4386, "node/4": 13.4392, "node/5": 13.4398}
    by_id = untagged.set_index("hazard_id")
    for hid, lon in nodes.items():
        assert by_id.loc[hid, "geometry"].equals_exact(shapely.Point(lon, 52.4730), 1e-9)


def test_the_clearance_of_a_sign_for_one_direction_lands_on_its_kerb_only(signs):
    osm = from_osm(signs[0])
    areas, hazards = osm.kerbs, osm.hazards
    plan = parkplan.plan(areas, hazards, rules=SIGN_RULES_NEAREST)
    assert _zone_sides(plan, "node/3") == {"south"}  # forward traffic, right-hand: the right-hand kerb
    assert _zone_sides(plan, "node/4") == {"north"}
    assert _zone_sides(plan, "node/5") == {"south"}
    assert _zone_sides(plan, "node/6") == {"north", "south"}  # no direction: both kerbs
    # 10 m before the sign for the traffic it governs: west of it eastbound, east of it westbound.
    bounds = plan.zones.set_index("hazard_id").to_crs(4326).bounds
    ten = 10 * 1.475e-5  # 10 m of longitude here
    assert bounds.loc["node/3", ["minx", "maxx"]].tolist() == pytest.approx(
        [13.4386 - ten, 13.4386], abs=2e-6
    )
    assert bounds.loc["node/4", ["minx", "maxx"]].tolist() == pytest.approx(
        [13.4392, 13.4392 + ten], abs=2e-6
    )
    # Left-hand traffic: the other kerb.
    osm = from_osm(signs[0], traffic="left")
    areas, hazards = osm.kerbs, osm.hazards
    plan = parkplan.plan(areas, hazards, rules={**SIGN_RULES_NEAREST, "traffic": "left"})
    assert _zone_sides(plan, "node/3") == {"north"}
    assert _zone_sides(plan, "node/4") == {"south"}


def test_the_planner_honours_the_match_column_of_a_moved_sign(signs):
    """With the built-in kinds (stop_sign and traffic_signal match "all") the column alone must do it."""
    osm = from_osm(signs[0])
    areas, hazards = osm.kerbs, osm.hazards
    plan = parkplan.plan(areas, hazards, rules=SIGN_RULES)
    assert _zone_sides(plan, "node/3") == {"south"}
    assert _zone_sides(plan, "node/4") == {"north"}
    assert _zone_sides(plan, "node/6") == {"north", "south"}


# Way 10 split at the stop sign (node 3) into two ways, 12 (1 to 3) and 13: drawn on in one direction
# (3 to 2), or head to head (2 to 3), where "forward" means opposite things on the two ways.
SPLIT = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="52.4730" lon="13.4380"/>
  <node id="3" lat="52.4730" lon="13.4396"><tag k="highway" v="stop"/><tag k="direction" v="forward"/></node>
  <node id="2" lat="52.4730" lon="13.4412"/>
  <way id="12"><nd ref="1"/><nd ref="3"/><tag k="highway" v="residential"/><tag k="width" v="8"/></way>
  <way id="13">WAY13<tag k="highway" v="residential"/><tag k="width" v="8"/></way>
</osm>
"""


def test_a_sign_where_two_ways_meet(tmp_path):
    along = tmp_path / "along.osm"
    along.write_text(SPLIT.replace("WAY13", '<nd ref="3"/><nd ref="2"/>'), encoding="utf-8")
    head_to_head = tmp_path / "head.osm"
    head_to_head.write_text(SPLIT.replace("WAY13", '<nd ref="2"/><nd ref="3"/>'), encoding="utf-8")
    assert _placed(from_osm(along).hazards)["node/3"] == ("right", 5.0, "nearest")
    assert _placed(from_osm(head_to_head).hazards)["node/3"][1:] == (0.0, None)


def test_traffic_must_be_right_or_left(signs):
    with pytest.raises(ValueError, match="traffic must be 'right' or 'left'"):
        from_osm(signs[0], traffic="middle")


# --------------------------------------------------------------------------------------------------
# Real data: the Neukölln 2024 extract
# --------------------------------------------------------------------------------------------------


def test_neukoelln_obstacles_and_schools():
    hazards = from_osm(NEUKOELLN).hazards
    assert hazards["hazard_id"].is_unique
    obstacles = hazards[hazards["kind"] == "obstacle"]
    ids = obstacles["hazard_id"]
    # 15 bollards standing in the carriageway as the street areas model it, one bollard tagged
    # obstacle:parking=yes, 3 bicycle stands in the parking lane and 3 rows of bollards (ways).
    assert len(obstacles) == 22
    assert ids.str.startswith("node/").sum() == 16
    assert "node/11626906373" in set(ids)  # bollard, obstacle:parking=yes
    assert {"way/738603548", "way/768519400", "way/768519401"} <= set(ids)  # bicycle_parking:position=lane
    # None of the 105 barrier=kerb nodes, 21 gates, 52 street lamps or 145 trees.
    schools = hazards[hazards["kind"] == "school"]
    # Kita Uthmannstraße through its gate, Kita Magdalenen (no gate mapped) where it faces the street.
    assert sorted(schools["hazard_id"]) == ["node/765091583", "way/656180437"]


def test_cli_existing_mode_caps_at_the_tagged_capacity_and_recounts(tmp_path):
    """The CLI applies the cap; the summary and the kerbs table count the bays that remain."""
    import json

    from parkplan.cli import main

    path = tmp_path / "capacity.osm"
    path.write_text(CAPACITY, encoding="utf-8")
    rules = tmp_path / "r.toml"
    rules.write_text(
        'name = "r"\ntraffic = "right"\n[bays.car]\n'
        'orientation = "parallel"\nlength_m = 5.2\nwidth_m = 2.0\n',
        encoding="utf-8",
    )
    out, summary, kerbs = tmp_path / "b.geojson", tmp_path / "s.json", tmp_path / "k.geojson"
    argv = [
        "plan", str(path), "--mode", "existing", "--rules", str(rules),
        "-o", str(out), "--summary", str(summary), "--kerbs-out", str(kerbs), "--quiet",
    ]  # fmt: skip
    assert main(argv) == 0
    s = json.loads(summary.read_text(encoding="utf-8"))
    bays = gpd.read_file(out)
    assert s["capacity"]["capped"] == 1
    assert s["bays"]["capped_by_capacity"] == s["capacity"]["bays_dropped"] > 0
    assert s["bays"]["total"] == len(bays)
    assert int(gpd.read_file(kerbs)["bays"].sum()) == len(bays)


def test_neukoelln_signals_for_one_direction():
    """Five signals are tagged traffic_signals:direction: three on two-way carriageway ways move beside
    their traffic; one on a one-way way and one on no carriageway way stay where they are."""
    osm = from_osm(NEUKOELLN)
    hazards, ways = osm.hazards, osm.ways
    moved = hazards[hazards["match"] == "nearest"].set_index("hazard_id")
    assert set(moved["kind"]) == {"traffic_signal"}
    expected = {  # node: (its way, the side of the way its traffic keeps to under right-hand traffic)
        "node/6331736880": ("way/940414774", "left"),  # backward
        "node/6331736881": ("way/51857216", "left"),  # backward
        "node/6331736882": ("way/37184618", "right"),  # forward
    }
    assert set(moved.index) == set(expected)
    w = ways.set_index("osm_id").to_crs(25833)
    points = np.asarray(moved.to_crs(25833).geometry.values, dtype=object)
    lines = np.array([w.geometry.loc[expected[h][0]] for h in moved.index], dtype=object)
    side, _ = side_of(lines, points)
    assert side.tolist() == [expected[h][1] for h in moved.index]
    widths = np.array([w.loc[expected[h][0], "width_m"] for h in moved.index])
    assert shapely.distance(lines, points) == pytest.approx(widths / 2 + 1.0, abs=0.05)
    by_id = hazards.set_index("hazard_id")
    assert pd.isna(by_id.loc["node/6331736883", "match"])  # on the one-way Karl-Marx-Platz
    assert pd.isna(by_id.loc["node/3329891221", "match"])  # on no carriageway way


@pytest.mark.parametrize(
    ("tags", "kind"),
    [
        ({"highway": "crossing", "crossing": "marked"}, "crossing_marked"),
        ({"highway": "crossing", "crossing": "uncontrolled", "crossing_ref": "zebra"}, "crossing"),
        ({"highway": "crossing", "crossing": "zebra"}, "crossing"),
        ({"highway": "crossing", "crossing": "traffic_signals"}, "crossing"),
        ({"highway": "crossing", "crossing": "unmarked"}, "crossing"),
        ({"highway": "crossing", "crossing:kerb_extension": "both"}, "crossing_kerb_extension"),
        ({"highway": "crossing"}, "crossing"),
    ],
)
def test_crossing_types_from_tags(tags: dict[str, str], kind: str) -> None:
    from parkplan.osm.tags import crossing_kind

    assert crossing_kind(tags) == kind


def test_crossing_subtypes_fall_back_to_the_crossing_rules() -> None:
    """de-parkraum gives marked crossings 2 m; cn has no entry for them, so its crossing rule applies."""
    from parkplan.rules.loading import load_rules

    parkraum = load_rules("de-parkraum").clearance_rules("crossing_marked")
    assert (parkraum[0].before_m, parkraum[0].after_m) == (2.0, 2.0)
    cn = load_rules("cn")
    marked = cn.clearance_rules("crossing_marked")
    assert marked[0].kind == "crossing_marked"
    assert marked[0].default_width_m == cn.clearance("crossing").default_width_m == 5.0
