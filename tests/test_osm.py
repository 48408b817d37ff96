"""OpenStreetMap input: street areas and hazards from a raw OSM file, planned end to end."""

from __future__ import annotations

import bz2
import dataclasses
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.strtree import STRtree

import parkplan
from parkplan.cli import main
from parkplan.geometry.kerbs import side_of
from parkplan.osm.existing import bays_by_way_side
from parkplan.osm.streets import from_osm, osm_extent
from parkplan.osm.tags import DEFAULT_WIDTHS_M, parking_side, parse_width

KINDS = {
    "intersection",
    "driveway",
    "crossing",
    "crossing_marked",
    "crossing_kerb_extension",
    "hydrant",
    "bus_stop",
    "traffic_signal",
    "stop_sign",
    "no_parking",
    "railway_crossing",
    "fire_station",
    "obstacle",
    "school",
}
NEUKOELLN = Path(__file__).parent / "data" / "osm" / "neukoelln-2024.osm"

# Two residential ways crossing at node 3 (about 200 m each), width=8, plus one hydrant and a driveway.
TINY = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="52.4730" lon="13.4380"/>
  <node id="2" lat="52.4730" lon="13.4410"/>
  <node id="3" lat="52.4730" lon="13.4395"/>
  <node id="4" lat="52.4721" lon="13.4395"/>
  <node id="5" lat="52.4739" lon="13.4395"/>
  <node id="6" lat="52.47306" lon="13.4385"><tag k="emergency" v="fire_hydrant"/></node>
  <node id="7" lat="52.4730" lon="13.4403"/>
  <node id="8" lat="52.4728" lon="13.4403"/>
  <way id="10">
    <nd ref="1"/><nd ref="3"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="width" v="8"/><tag k="name" v="Ost-West"/>
  </way>
  <way id="11">
    <nd ref="4"/><nd ref="3"/><nd ref="5"/>
    <tag k="highway" v="residential"/><tag k="width" v="8 m"/>
  </way>
  <way id="12">
    <nd ref="7"/><nd ref="8"/>
    <tag k="highway" v="service"/><tag k="service" v="driveway"/><tag k="width" v="3"/>
  </way>
</osm>
"""


@pytest.fixture(scope="module")
def neukoelln():
    osm = parkplan.from_osm(NEUKOELLN)
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    plan = parkplan.plan(areas, hazards, rules="de-parkraum")
    return areas, hazards, ways, plan


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(TINY, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------
# Hand-made fixture
# --------------------------------------------------------------------------------------------------


def test_tiny_two_crossing_ways(tiny):
    osm = parkplan.from_osm(tiny)
    areas, hazards = osm.kerbs, osm.hazards
    assert areas.crs.to_epsg() == 4326
    assert hazards.crs.to_epsg() == 4326
    assert len(areas) == 1
    assert list(areas["curb_id"]) == ["osm-area-0"]
    assert areas.geometry.iloc[0].geom_type == "Polygon"
    junctions = hazards[hazards["kind"] == "intersection"]
    assert list(junctions["hazard_id"]) == ["node/3"]
    assert junctions.geometry.iloc[0].equals(shapely.Point(13.4395, 52.4730))
    assert set(hazards["source"]) == {"osm"}
    by_id = hazards.set_index("hazard_id")
    assert by_id.loc["node/6", "kind"] == "hydrant"
    assert by_id.loc["way/12", "kind"] == "driveway"
    assert by_id.loc["way/12", "width_m"] == 3.0
    assert by_id.loc["way/12"].geometry.geom_type == "LineString"
    # Street area is a cross 8 m wide: area ~ 2 * (length * 8) - 8 * 8.
    metric = areas.to_crs(areas.estimate_utm_crs())
    lengths = [203.6, 200.2]  # ~0.003 deg lon at 52.47 N, ~0.0018 deg lat
    expected = 8 * sum(lengths) - 64
    assert metric.area.iloc[0] == pytest.approx(expected, rel=0.03)


def test_tiny_plan_runs(tiny):
    osm = parkplan.from_osm(tiny)
    areas, hazards = osm.kerbs, osm.hazards
    plan = parkplan.plan(areas, hazards, rules="de-parkraum")
    assert plan.summary["solver"]["status"] == "OPTIMAL"
    assert len(plan.bays) > 0
    assert plan.summary["hazards"]["by_kind"]["intersection"]["matched"] == 1


def test_from_osm_returns_one_frozen_result_always(tiny):
    """One OsmData with all four frames, whatever the mode; the old return_ways / return_parking are gone."""
    for mode in ("plan", "existing"):
        osm = parkplan.from_osm(tiny, mode=mode)
        assert isinstance(osm, parkplan.OsmData)
        assert [f.name for f in dataclasses.fields(osm)] == ["kerbs", "hazards", "ways", "parking"]
        assert list(osm.ways["osm_id"]) == ["way/10", "way/11"]
        assert list(osm.parking.columns) == ["osm_id", "parking", "capacity", "orientation", "geometry"]
        assert len(osm.parking) == 0
        assert all(frame.crs.to_epsg() == 4326 for frame in (osm.kerbs, osm.hazards, osm.ways, osm.parking))
        assert repr(osm) == f"OsmData(kerbs: 1, hazards: {len(osm.hazards)}, ways: 2, parking: 0 rows)"
        with pytest.raises(dataclasses.FrozenInstanceError):
            osm.kerbs = osm.hazards  # type: ignore[misc]
    for flag in ("return_ways", "return_parking"):
        with pytest.raises(TypeError, match=flag):
            parkplan.from_osm(tiny, **{flag: True})


def test_ways_frame_and_default_widths(tiny, tmp_path):
    ways = parkplan.from_osm(tiny).ways
    assert list(ways.columns) == [
        "osm_id", "name", "highway", "oneway", "width_m", "width_source", "width_ignored", "geometry"
    ]  # fmt: skip
    assert list(ways["osm_id"]) == ["way/10", "way/11"]
    assert list(ways["width_m"]) == [8.0, 8.0]
    assert ways["name"].iloc[0] == "Ost-West"
    # Without width tags the class default (or default_widths) applies.
    path = tmp_path / "nowidth.osm"
    path.write_text(TINY.replace('<tag k="width" v="8"/>', "").replace('<tag k="width" v="8 m"/>', ""))
    ways = parkplan.from_osm(path).ways
    assert list(ways["width_m"]) == [DEFAULT_WIDTHS_M["residential"]] * 2
    ways = parkplan.from_osm(path, default_widths={"residential": 6.5}).ways
    assert list(ways["width_m"]) == [6.5, 6.5]


def test_service_ways_only_on_request(tiny, tmp_path):
    text = TINY.replace(
        "</osm>",
        '<node id="20" lat="52.4735" lon="13.4380"/><node id="21" lat="52.4735" lon="13.4390"/>'
        '<way id="30"><nd ref="20"/><nd ref="21"/><tag k="highway" v="service"/></way></osm>',
    )
    path = tmp_path / "service.osm"
    path.write_text(text)
    ways = parkplan.from_osm(path).ways
    assert "way/30" not in set(ways["osm_id"])
    osm = parkplan.from_osm(path, service=True)
    hazards, ways = osm.hazards, osm.ways
    assert "way/30" in set(ways["osm_id"])
    assert ways.set_index("osm_id").loc["way/30", "width_m"] == DEFAULT_WIDTHS_M["service"]
    # A driveway is a hazard, never carriageway.
    assert "way/12" not in set(ways["osm_id"])
    assert "way/12" in set(hazards["hazard_id"])


def test_compressed_formats(tiny, tmp_path):
    import osmium

    bz = tmp_path / "tiny.osm.bz2"
    bz.write_bytes(bz2.compress(tiny.read_bytes()))
    pbf = tmp_path / "tiny.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(tiny)):
            writer.add(obj)
    osm = parkplan.from_osm(tiny)
    ref_areas, ref_hazards = osm.kerbs, osm.hazards
    for path in (bz, pbf):
        osm = parkplan.from_osm(path)
        areas, hazards = osm.kerbs, osm.hazards
        assert len(areas) == 1
        assert areas.geometry.iloc[0].equals_exact(ref_areas.geometry.iloc[0], 1e-9)
        assert sorted(hazards["hazard_id"]) == sorted(ref_hazards["hazard_id"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("7 m", 7.0),
        ("7.5", 7.5),
        ("7,5", 7.5),
        ("7m", 7.0),
        ("12 ft", 12 * 0.3048),
        ("wide", None),
        ("0", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_width(value, expected):
    assert parse_width(value) == expected


# --------------------------------------------------------------------------------------------------
# Bad files
# --------------------------------------------------------------------------------------------------


def _one_line_error(path):
    with pytest.raises(parkplan.InputError) as info:
        parkplan.from_osm(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_truncated_file(tmp_path):
    data = NEUKOELLN.read_bytes()
    path = tmp_path / "truncated.osm"
    path.write_bytes(data[: len(data) // 2])
    assert "cannot read OSM data" in _one_line_error(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("garbage.osm", b"this is not xml at all\n"),
        ("garbage.osm.pbf", bytes(range(256)) * 8),
        ("garbage.osm.bz2", b"BZh9 not really bzip2"),
    ],
)
def test_garbage_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    _one_line_error(path)


def test_missing_file_and_no_streets(tmp_path):
    assert "not found" in _one_line_error(tmp_path / "missing.osm")
    path = tmp_path / "empty.osm"
    path.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="1" lon="1"/></osm>')
    assert "no carriageway" in _one_line_error(path)


# --------------------------------------------------------------------------------------------------
# Real data: a few blocks of Berlin-Neukölln
# --------------------------------------------------------------------------------------------------


def test_neukoelln_frames(neukoelln):
    areas, hazards, ways, _ = neukoelln
    assert len(areas) >= 1
    assert set(areas.geometry.geom_type) == {"Polygon"}
    assert areas["curb_id"].is_unique
    assert hazards["hazard_id"].is_unique
    counts = hazards["kind"].value_counts()
    assert counts["hydrant"] == 19
    assert counts["driveway"] > 0
    assert counts["crossing"] > 0
    assert counts["traffic_signal"] > 0
    assert counts["intersection"] > 0
    assert set(hazards["kind"]) <= KINDS
    assert len(ways) == 37  # carriageway ways in the extract (SOURCE of the data)
    # Every carriageway way lies in the street area.
    union = areas.to_crs(25833).union_all().buffer(0.01)
    assert ways.to_crs(25833).within(union).all()


def test_neukoelln_plan(neukoelln):
    areas, _, _, plan = neukoelln
    assert plan.summary["solver"]["status"] == "OPTIMAL"
    assert len(plan.bays) > 100
    assert plan.bays.is_valid.all()  # in the working CRS (UTM 33N)

    # No two bays overlap. Reprojecting can leave a bay with a self-touching sliver of ~1e-5 m at a
    # near-degenerate vertex, hence make_valid.
    geoms = shapely.make_valid(np.asarray(plan.bays.to_crs(25833).geometry.values, dtype=object))
    left, right = STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    assert overlap.max(initial=0.0) < 1e-4

    # Bays lie inside the street area.
    street = shapely.buffer(areas.to_crs(25833).union_all(), 0.01)
    outside = shapely.area(shapely.difference(geoms, street))
    assert outside.max() < 1e-3

    # No bay touches a hydrant's forbidden stretch of kerb (beyond a shared end point).
    zones = plan.zones[plan.zones["kind"] == "hydrant"].to_crs(25833)
    assert len(zones) > 0
    zone_geoms = np.asarray(zones.geometry.values, dtype=object)
    z, b = STRtree(geoms).query(zone_geoms, predicate="intersects")
    shared = shapely.length(shapely.intersection(zone_geoms[z], geoms[b]))
    assert shared.max(initial=0.0) < 1e-3
    # ... and on the same kerb, bay and hydrant zone chainages do not overlap.
    for zone in plan.zones[plan.zones["kind"] == "hydrant"].itertuples():
        on = plan.bays[plan.bays["curb_id"] == zone.curb_id]
        inside = (on["start_m"] < zone.end_m - 1e-3) & (on["end_m"] > zone.start_m + 1e-3)
        assert not inside.any(), zone.hazard_id


def test_neukoelln_hazards_matched(neukoelln):
    _, _, _, plan = neukoelln
    by_kind = plan.summary["hazards"]["by_kind"]
    assert by_kind["hydrant"]["matched"] >= 15
    assert by_kind["crossing"]["matched"] > 0
    assert by_kind["intersection"]["matched"] == by_kind["intersection"]["total"]
    assert not math.isnan(plan.summary["solver"]["objective"])
    assert isinstance(plan.bays, gpd.GeoDataFrame)


def test_cli_plans_an_osm_extract(tmp_path):

    out = tmp_path / "bays.geojson"
    src = Path(__file__).parent / "data" / "osm" / "neukoelln-2024.osm"
    assert main(["plan", str(src), "--rules", "de-parkraum", "-o", str(out), "-q"]) == 0
    assert out.exists()
    plan_bays = gpd.read_file(out)
    existing = tmp_path / "x.geojson"
    assert main(["plan", str(src), "--mode", "existing", "-o", str(existing), "-q"]) == 0
    assert 0 < len(gpd.read_file(existing)) < len(plan_bays)


def test_kerbs_take_the_attributes_of_the_way_beside_them():
    """Street areas plus their ways: every kerb knows its street, width, side of the way and one-way flow."""

    src = Path(__file__).parent / "data" / "osm" / "neukoelln-2024.osm"
    osm = from_osm(src)
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    p = parkplan.plan(areas, hazards, rules="de-parkraum", ways=ways)
    kerbs = p.kerbs
    assert kerbs["street_id"].str.startswith("way/").mean() > 0.8
    assert set(kerbs["side"].dropna()) <= {"left", "right"}
    assert {"left", "right"} <= set(kerbs["side"].dropna())
    assert kerbs["width_m"].notna().mean() > 0.8
    assert kerbs["name"].notna().any()
    # Nearly the same bays as without the ways (no cross-section in plan mode): the ways cut kerbs where
    # their width changes (each part its own way's, issue 14), and a bay never straddles a cut.
    cuts = (
        int(kerbs["curb_id"].str.contains("|", regex=False).sum())
        - kerbs["curb_id"].str.split("|").str[0][kerbs["curb_id"].str.contains("|", regex=False)].nunique()
    )
    assert cuts > 0
    without = len(parkplan.plan(areas, hazards, rules="de-parkraum").bays)
    assert without - cuts <= len(p.bays) <= without


def test_one_way_street_kerbs_flow_with_the_way():
    from shapely.geometry import LineString, box

    area = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 8)], crs="EPSG:25833")
    way = gpd.GeoDataFrame(
        {"osm_id": ["way/1"], "oneway": ["yes"], "width_m": [8.0]},
        geometry=[LineString([(0, 4), (100, 4)])],
        crs="EPSG:25833",
    )
    p = parkplan.plan(area, None, rules="de-parkraum", ways=way, extent=box(0, -5, 100, 13))
    kerbs = p.kerbs.set_index("side")
    # South kerb (right of the way) is walked west to east, north kerb east to west (carriageway on the left):
    # traffic runs east on both, so the south kerb flows forward and the north kerb backward.
    assert kerbs.loc["right", "flow"] == "forward"
    assert kerbs.loc["left", "flow"] == "backward"
    assert (p.kerbs["width_m"] == 8.0).all()


# --------------------------------------------------------------------------------------------------
# Existing mode: bays only where the street-parking tags allow parking
# --------------------------------------------------------------------------------------------------

# Two parallel east-west residential ways 60 m apart (about 200 m long, 8 m wide), not connected.
# Way 40 (south): parking:left=lane (north kerb, left of its west-to-east direction), parking:right=no.
# Way 41 (north): old scheme parking:lane:both=no_stopping. A street-side parking area stands on the
# allowed kerb's east end.
PARKING = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="52.4730" lon="13.4380"/>
  <node id="2" lat="52.4730" lon="13.4410"/>
  <node id="3" lat="52.47354" lon="13.4380"/>
  <node id="4" lat="52.47354" lon="13.4410"/>
  <node id="5" lat="52.47302" lon="13.4404"/>
  <node id="6" lat="52.47302" lon="13.4408"/>
  <node id="7" lat="52.47305" lon="13.4408"/>
  <node id="8" lat="52.47305" lon="13.4404"/>
  <way id="40">
    <nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="width" v="8"/>
    <tag k="parking:left" v="lane"/><tag k="parking:left:orientation" v="parallel"/>
    <tag k="parking:left:capacity" v="20"/><tag k="parking:right" v="no"/>
  </way>
  <way id="41">
    <nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="residential"/><tag k="width" v="8"/>
    <tag k="parking:lane:both" v="no_stopping"/>
  </way>
  <way id="50">
    <nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
    <tag k="amenity" v="parking"/><tag k="parking" v="street_side"/><tag k="capacity" v="4"/>
    <tag k="orientation" v="parallel"/>
  </way>
</osm>
"""


@pytest.fixture
def parking_file(tmp_path):
    path = tmp_path / "parking.osm"
    path.write_text(PARKING, encoding="utf-8")
    return path


def _utm(frame):
    return frame.to_crs(25833)


def test_parking_side_both_schemes():

    cur = {"parking:left": "lane", "parking:right": "no", "parking:both:orientation": "diagonal"}
    left, right = parking_side(cur, "left"), parking_side(cur, "right")
    assert left.allowed
    assert left.tag == "parking:left=lane"
    assert left.orientation == "diagonal"
    assert not right.allowed
    assert right.reason == "parking:right=no"
    # A restriction forbids even where a lane is tagged; the side key beats the both key.
    tags = {"parking:both": "lane", "parking:right:restriction": "no_stopping", "parking:left:capacity": "7"}
    assert parking_side(tags, "left").allowed
    assert parking_side(tags, "left").capacity == 7.0
    assert parking_side(tags, "right").reason == "parking:right:restriction=no_stopping"
    old = {"parking:lane:both": "perpendicular", "parking:condition:right": "no_parking"}
    assert parking_side(old, "left").allowed
    assert parking_side(old, "left").orientation == "perpendicular"
    assert parking_side(old, "right").reason == "parking:condition:right=no_parking"
    assert not parking_side({"parking:lane:left": "fire_lane"}, "left").allowed
    assert not parking_side({"parking:lane:right": "drawn_separately"}, "right").allowed
    assert parking_side({"parking:lane:right": "marked"}, "right").allowed
    assert parking_side({"parking:right": "separate"}, "right").reason == "parking:right=separate"
    assert parking_side({}, "left").reason == "untagged"
    assert parking_side({"parking:left": "maybe"}, "left").reason == "parking:left=maybe (unknown value)"


def test_existing_mode_side_hazards(parking_file):
    osm = parkplan.from_osm(parking_file, mode="existing")
    hazards, ways, parking = osm.hazards, osm.ways, osm.parking
    lines = hazards[hazards["hazard_id"].str.startswith("way/4")].set_index("hazard_id")
    assert sorted(lines.index) == ["way/40/right", "way/41/left", "way/41/right"]
    assert set(lines["kind"]) == {"no_parking"}
    assert lines.loc["way/40/right", "reason"] == "parking:right=no"
    assert lines.loc["way/41/left", "reason"] == "parking:lane:both=no_stopping"
    # Each line lies along its kerb: ~3.5 m from the centreline (half of 8 m less 0.5 m), south of way 40.
    m_lines, m_ways = _utm(lines), _utm(ways).set_index("osm_id")
    south = m_lines.loc["way/40/right"].geometry
    assert south.distance(m_ways.loc["way/40"].geometry) == pytest.approx(3.5, abs=0.05)
    assert south.centroid.y < m_ways.loc["way/40"].geometry.centroid.y
    # The separate area is a no_parking polygon and is reported.
    sep = hazards.set_index("hazard_id").loc["way/50"]
    assert sep["kind"] == "no_parking"
    assert sep["reason"] == "separate"
    assert sep.geometry.geom_type == "Polygon"
    assert list(parking["osm_id"]) == ["way/50"]
    assert parking["capacity"].iloc[0] == 4.0
    assert parking["orientation"].iloc[0] == "parallel"
    assert parking["parking"].iloc[0] == "street_side"
    # Per-side columns.
    w = ways.set_index("osm_id")
    assert w.loc["way/40", "parking_left"]
    assert not w.loc["way/40", "parking_right"]
    assert w.loc["way/40", "capacity_left"] == 20.0
    assert w.loc["way/40", "orientation_left"] == "parallel"
    assert not w.loc["way/41", "parking_left"]
    assert not w.loc["way/41", "parking_right"]
    # Plan mode ignores all of it.
    osm = parkplan.from_osm(parking_file)
    plan_hazards, plan_ways = osm.hazards, osm.ways
    assert "reason" not in plan_hazards.columns
    assert not set(plan_hazards["hazard_id"]) & {"way/40/right", "way/41/left", "way/41/right", "way/50"}
    assert "parking_left" not in plan_ways.columns
    with pytest.raises(ValueError, match="mode"):
        parkplan.from_osm(parking_file, mode="survey")


def test_existing_mode_bays_only_on_allowed_kerb(parking_file):
    osm = parkplan.from_osm(parking_file, mode="existing")
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    plan = parkplan.plan(areas, hazards, rules="de-parkraum")
    assert len(plan.bays) > 0
    m_ways = _utm(ways).set_index("osm_id")
    bays = _utm(plan.bays)
    y40 = m_ways.loc["way/40"].geometry.centroid.y
    # Every bay is on the north kerb of way 40 (its left side), none on way 41 nor south of way 40.
    assert (bays.centroid.y > y40).all()
    assert (bays.distance(m_ways.loc["way/40"].geometry) < 4.5).all()
    # ... and none on the kerb stretch of the separately mapped parking area at its east end.
    area = _utm(hazards).set_index("hazard_id").loc["way/50"].geometry
    assert (bays.intersection(area).area < 0.01).all()
    kerb_under_area = plan.zones[plan.zones["hazard_id"] == "way/50"]
    assert len(kerb_under_area) == 1
    assert kerb_under_area["end_m"].iloc[0] - kerb_under_area["start_m"].iloc[0] > 20
    everywhere = parkplan.from_osm(parking_file)
    plan_all = parkplan.plan(everywhere.kerbs, everywhere.hazards, rules="de-parkraum")
    assert len(plan_all.bays) > len(plan.bays)


@pytest.fixture(scope="module")
def neukoelln_existing():
    osm = parkplan.from_osm(NEUKOELLN, mode="existing")
    areas, hazards, ways, parking = osm.kerbs, osm.hazards, osm.ways, osm.parking
    plan = parkplan.plan(areas, hazards, rules="de-parkraum")
    return areas, hazards, ways, parking, plan


def test_neukoelln_existing_mode(neukoelln, neukoelln_existing):
    _, hazards, ways, parking, plan = neukoelln_existing
    assert plan.summary["solver"]["status"] == "OPTIMAL"
    assert 0 < len(plan.bays) <= len(neukoelln[3].bays)
    assert hazards["hazard_id"].is_unique
    # Separately mapped street-side parking is reported (11 ways in the extract) and forbids its kerb.
    assert len(parking) == 11
    assert set(parking["parking"]) <= {"street_side", "lane"}
    assert (hazards.set_index("hazard_id").loc[list(parking["osm_id"]), "reason"] == "separate").all()
    # Both sides of a way tagged parking:both=no are forbidden.
    w = ways.set_index("osm_id")
    assert not w.loc["way/163379149", ["parking_left", "parking_right"]].any()
    assert w.loc["way/164679021", ["parking_left", "parking_right"]].all()
    # No bay stands on a kerb whose side is tagged no / no_stopping / no_parking: no bay touches the
    # no_parking line drawn along that kerb.
    forbidden = hazards[hazards["reason"].str.contains("=no", na=False)]
    assert len(forbidden) >= 30
    bays = np.asarray(_utm(plan.bays).geometry.values, dtype=object)
    for line in _utm(forbidden).geometry:
        assert not shapely.intersects(bays, line).any()
    # In plan mode, bays do stand along those kerbs.
    plan_bays = np.asarray(_utm(neukoelln[3].bays).geometry.values, dtype=object)
    assert sum(shapely.intersects(plan_bays, line).any() for line in _utm(forbidden).geometry) > 10


@pytest.mark.parametrize("traffic", ["right", "left"])
def test_traffic_side_sets_each_kerbs_flow(tmp_path, traffic):
    """On the two-way Ost-West street, traffic beside the kerb on the traffic side of the way runs east.

    That is the right-hand kerb under right-hand traffic and the left-hand kerb under left-hand traffic.
    """

    path = tmp_path / "tiny.osm"
    path.write_text(TINY, encoding="utf-8")
    osm = from_osm(path)
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    rules = {
        "name": "t",
        "traffic": traffic,
        "bays": {"car": {"orientation": "parallel", "length_m": 5.0, "width_m": 2.0}},
    }
    p = parkplan.plan(areas, hazards, rules=rules, ways=ways)
    kerbs = p.kerbs[p.kerbs["name"] == "Ost-West"]
    assert len(kerbs) >= 4
    for row in kerbs.itertuples():
        c = np.asarray(row.geometry.coords)
        eastward = (c[-1, 0] - c[0, 0]) * (1 if row.flow == "forward" else -1) > 0
        keeps = "right" if traffic == "right" else "left"
        assert eastward == (row.side == keeps), (row.curb_id, row.side, row.flow)
    assert isinstance(p.bays, gpd.GeoDataFrame)
    assert shapely.is_valid(np.asarray(p.bays.geometry.values)).all()


def test_helsinki_existing_mode_real_extract():
    """The Helsinki extract (old parking:lane scheme): bays only on tagged sides, none overlapping."""

    path = Path(__file__).resolve().parents[1] / "examples" / "data" / "helsinki" / "Helsinki.osm.pbf"
    osm = from_osm(path, mode="existing")
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    p = parkplan.plan(areas, hazards, rules="de-parkraum", ways=ways)
    assert p.summary["solver"]["status"] == "OPTIMAL"
    assert 500 < len(p.bays) < 4000
    g = np.asarray(p.bays.to_crs(3067).geometry.values, dtype=object)
    g = shapely.make_valid(g)
    i, j = shapely.STRtree(g).query(g, predicate="intersects")
    keep = i < j
    assert shapely.area(shapely.intersection(g[i[keep]], g[j[keep]])).max(initial=0.0) < 1e-3
    # Every bay stands beside a way side that allows parking: the way nearest to the bay's centre, and
    # the side of it the bay is on.
    w = ways.to_crs(3067)
    wg = np.asarray(w.geometry.values, dtype=object)
    centre = shapely.centroid(g)
    bi, wi = shapely.STRtree(wg).query_nearest(centre, all_matches=False)
    side, _ = side_of(wg[wi], centre[bi])
    left = side == "left"
    ok = np.where(left, w["parking_left"].to_numpy()[wi], w["parking_right"].to_numpy()[wi]).astype(bool)
    # Where carriageways merge (slip roads, junctions) the nearest way can be a neighbour of the one whose
    # tag governs the bay: allow a small share, never a systematic failure.
    assert ok.mean() > 0.95, p.bays.iloc[bi[~ok]][["curb_id", "start_m"]].head()


def test_extract_bounding_box_is_the_extent():

    helsinki = Path(__file__).resolve().parents[1] / "examples" / "data" / "helsinki" / "Helsinki.osm.pbf"
    box = osm_extent(helsinki)
    assert box is not None
    minx, miny, maxx, maxy = box.total_bounds
    assert (round(minx, 4), round(miny, 4), round(maxx, 4), round(maxy, 4)) == (
        24.9352,
        60.1642,
        24.9534,
        60.1791,
    )
    assert osm_extent(NEUKOELLN) is None  # an Overpass download declares no box


def test_bays_are_counted_per_way_side_against_tagged_capacity(tmp_path):

    osm = from_osm(NEUKOELLN, mode="existing")
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    p = parkplan.plan(areas, hazards, rules="de-parkraum", ways=ways)
    per_side = bays_by_way_side(p.bays, ways)
    assert per_side["bays"].sum() == len(p.bays)
    assert set(per_side.columns) >= {"osm_id", "side", "bays", "parking", "capacity", "difference"}
    # Bays stand overwhelmingly beside sides the tags allow.
    assert per_side.loc[per_side["parking"], "bays"].sum() >= 0.95 * len(p.bays)


def test_separately_mapped_parking_becomes_bays_of_its_own(tmp_path):

    out, summary = tmp_path / "bays.geojson", tmp_path / "s.json"
    assert (
        main(
            [
                "plan",
                str(NEUKOELLN),
                "--rules",
                "de-parkraum",
                "--mode",
                "existing",
                "-o",
                str(out),
                "--summary",
                str(summary),
                "-q",
            ]
        )
        == 0
    )
    bays = gpd.read_file(out).to_crs(25833)
    separate = bays[bays["source"] == "separate"]
    kerb = bays[bays["source"] == "kerb"]
    assert len(separate) > 0
    assert len(kerb) > 0
    assert bays["bay_id"].is_unique
    # The tagged capacity is respected where given: way/773834764 is tagged capacity=4.
    assert (separate["osm_id"] == "way/773834764").sum() == 4
    # Never counted twice: no separate bay overlaps a kerb bay.
    g_sep = np.asarray(shapely.make_valid(separate.geometry.values), dtype=object)
    g_kerb = np.asarray(shapely.make_valid(kerb.geometry.values), dtype=object)
    i, j = shapely.STRtree(g_kerb).query(g_sep, predicate="intersects")
    assert shapely.area(shapely.intersection(g_sep[i], g_kerb[j])).max(initial=0.0) < 0.5


ORIENTED = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="52.4730" lon="13.4380"/>
  <node id="2" lat="52.4730" lon="13.4410"/>
  <way id="10">
    <nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="width" v="16"/>
    <tag k="parking:left" v="lane"/><tag k="parking:left:orientation" v="perpendicular"/>
    <tag k="parking:right" v="lane"/><tag k="parking:right:orientation" v="parallel"/>
  </way>
</osm>
"""


def test_existing_mode_places_bays_in_the_tagged_orientation(tmp_path):

    path = tmp_path / "oriented.osm"
    path.write_text(ORIENTED, encoding="utf-8")
    osm = from_osm(path, mode="existing")
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    rules = {
        "name": "t",
        "bays": {
            "car": {"orientation": "parallel", "length_m": 5.2, "width_m": 2.0},
            "perp": {"orientation": "perpendicular", "length_m": 5.0, "width_m": 2.5},
        },
    }
    p = parkplan.plan(areas, hazards, rules=rules, ways=ways)
    kerbs = p.kerbs.set_index("curb_id")
    side_of_bay = kerbs.loc[p.bays["curb_id"], "side"].to_numpy()
    assert len(p.bays) > 0
    assert set(p.bays.loc[side_of_bay == "left", "bay_type"]) == {"perp"}
    assert set(p.bays.loc[side_of_bay == "right", "bay_type"]) == {"car"}
