"""OpenStreetMap input: street areas and hazards from a raw OSM file, planned end to end."""

from __future__ import annotations

import bz2
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.strtree import STRtree

import parkplan
from parkplan.osm import DEFAULT_WIDTHS_M, parse_width

KINDS = {
    "intersection",
    "driveway",
    "crossing",
    "hydrant",
    "bus_stop",
    "traffic_signal",
    "stop_sign",
    "no_parking",
    "railway_crossing",
    "fire_station",
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
    areas, hazards, ways = parkplan.from_osm(NEUKOELLN, return_ways=True)
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
    areas, hazards = parkplan.from_osm(tiny)
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
    areas, hazards = parkplan.from_osm(tiny)
    plan = parkplan.plan(areas, hazards, rules="de-parkraum")
    assert plan.summary["solver"]["status"] == "OPTIMAL"
    assert len(plan.bays) > 0
    assert plan.summary["hazards"]["by_kind"]["intersection"]["matched"] == 1


def test_return_ways_and_default_widths(tiny, tmp_path):
    _, _, ways = parkplan.from_osm(tiny, return_ways=True)
    assert list(ways.columns) == ["osm_id", "name", "highway", "oneway", "width_m", "geometry"]
    assert list(ways["osm_id"]) == ["way/10", "way/11"]
    assert list(ways["width_m"]) == [8.0, 8.0]
    assert ways["name"].iloc[0] == "Ost-West"
    # Without width tags the class default (or default_widths) applies.
    path = tmp_path / "nowidth.osm"
    path.write_text(TINY.replace('<tag k="width" v="8"/>', "").replace('<tag k="width" v="8 m"/>', ""))
    _, _, ways = parkplan.from_osm(path, return_ways=True)
    assert list(ways["width_m"]) == [DEFAULT_WIDTHS_M["residential"]] * 2
    _, _, ways = parkplan.from_osm(path, return_ways=True, default_widths={"residential": 6.5})
    assert list(ways["width_m"]) == [6.5, 6.5]


def test_service_ways_only_on_request(tiny, tmp_path):
    text = TINY.replace(
        "</osm>",
        '<node id="20" lat="52.4735" lon="13.4380"/><node id="21" lat="52.4735" lon="13.4390"/>'
        '<way id="30"><nd ref="20"/><nd ref="21"/><tag k="highway" v="service"/></way></osm>',
    )
    path = tmp_path / "service.osm"
    path.write_text(text)
    _, _, ways = parkplan.from_osm(path, return_ways=True)
    assert "way/30" not in set(ways["osm_id"])
    _, hazards, ways = parkplan.from_osm(path, return_ways=True, service=True)
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
    ref_areas, ref_hazards = parkplan.from_osm(tiny)
    for path in (bz, pbf):
        areas, hazards = parkplan.from_osm(path)
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
        ("12 ft", None),
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
    from parkplan.cli import main

    out = tmp_path / "bays.geojson"
    src = Path(__file__).parent / "data" / "osm" / "neukoelln-2024.osm"
    assert main(["plan", str(src), "--rules", "de-parkraum", "-o", str(out), "-q"]) == 0
    assert out.exists()
    assert main(["plan", str(src), "--mode", "existing", "-o", str(tmp_path / "x.geojson")]) == 2
    assert not (tmp_path / "x.geojson").exists()


def test_kerbs_take_the_attributes_of_the_way_beside_them():
    """Street areas plus their ways: every kerb knows its street, width, side of the way and one-way flow."""
    import parkplan
    from parkplan.osm import from_osm

    src = Path(__file__).parent / "data" / "osm" / "neukoelln-2024.osm"
    areas, hazards, ways = from_osm(src, return_ways=True)
    p = parkplan.plan(areas, hazards, rules="de-parkraum", ways=ways)
    kerbs = p.kerbs
    assert kerbs["street_id"].str.startswith("way/").mean() > 0.8
    assert set(kerbs["side"].dropna()) <= {"left", "right"}
    assert {"left", "right"} <= set(kerbs["side"].dropna())
    assert kerbs["width_m"].notna().mean() > 0.8
    assert kerbs["name"].notna().any()
    # Same bays as without the ways: attributes alone change nothing in plan mode without a cross-section.
    assert len(p.bays) == len(parkplan.plan(areas, hazards, rules="de-parkraum").bays)


def test_one_way_street_kerbs_flow_with_the_way():
    import geopandas as gpd
    from shapely.geometry import LineString, box

    import parkplan

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
