"""Road classes where parking is forbidden (issue 14), and bus stops mapped a little off their kerb.

Small OSM files built here with the tagging real extracts use: a motorway with a slip road joining a
residential street, a trunk road tagged ``motorroad=yes``, a Chinese arterial (``primary``) with a side
road (``辅路``, or ``side_road=yes``) beside it, and a ``highway=bus_stop`` node 11-14 m behind its kerb.
Every plan is checked with :func:`parkplan.check` (0 violations).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import parkplan
from cli_run import run
from parkplan.errors import RulesError
from parkplan.hazards import applicable_hazards
from parkplan.osm.existing import bays_by_way_side
from parkplan.osm.streets import from_osm
from parkplan.osm.tags import may_have_road_class, tag_road_classes
from parkplan.rules.loading import ROAD_CLASSES, list_presets, load_rules
from parkplan.rules.table import rule_rows

pytest.importorskip("osmium")

# Berlin for the European cases; 1e-4 degree is 11.1 m north and 6.8 m east.
MOTORWAY = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="52.4730" lon="13.4380"/>
  <node id="7" lat="52.4730" lon="13.4410"/>
  <node id="2" lat="52.4730" lon="13.4440"/>
  <node id="3" lat="52.4742" lon="13.4370"/>
  <node id="5" lat="52.4742" lon="13.4395"/>
  <node id="4" lat="52.4742" lon="13.4450"/>
  <node id="6" lat="52.4736" lon="13.4403"/>
  <way id="100"><nd ref="1"/><nd ref="7"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="name" v="Teststraße"/><tag k="width" v="12"/></way>
  <way id="200"><nd ref="3"/><nd ref="5"/><nd ref="4"/>
    <tag k="highway" v="motorway"/><tag k="lanes" v="3"/><tag k="ref" v="A 100"/></way>
  <way id="300"><nd ref="5"/><nd ref="6"/><nd ref="7"/>
    <tag k="highway" v="motorway_link"/><tag k="oneway" v="yes"/><tag k="width" v="6"/></way>
</osm>
"""

# A trunk road that is a Kraftfahrstraße / 快速路 (motorroad=yes), and a residential street beside it.
MOTORROAD = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="39.9000" lon="116.4000"/>
  <node id="2" lat="39.9000" lon="116.4040"/>
  <node id="3" lat="39.9010" lon="116.4000"/>
  <node id="4" lat="39.9010" lon="116.4040"/>
  <way id="100"><nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="trunk"/><tag k="motorroad" v="yes"/><tag k="width" v="12"/>
    <tag k="oneway" v="yes"/></way>
  <way id="101"><nd ref="3"/><nd ref="4"/><tag k="highway" v="residential"/><tag k="width" v="12"/></way>
</osm>
"""

# A Beijing arterial (主干路, highway=primary) with its side road (辅路) 25 m north: one direction each.
SIDE_ROAD = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="39.9000" lon="116.4000"/>
  <node id="2" lat="39.9000" lon="116.4040"/>
  <node id="3" lat="39.900225" lon="116.4000"/>
  <node id="4" lat="39.900225" lon="116.4040"/>
  <way id="100"><nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="primary"/><tag k="name" v="北四环中路"/><tag k="oneway" v="yes"/>
    <tag k="width" v="12"/></way>
  <way id="101"><nd ref="3"/><nd ref="4"/>SIDE_TAGS<tag k="oneway" v="yes"/><tag k="width" v="10"/></way>
</osm>
"""
NAMED_SIDE = '<tag k="highway" v="secondary"/><tag k="name" v="北四环中路辅路"/>'
TAGGED_SIDE = '<tag k="highway" v="tertiary"/><tag k="side_road" v="yes"/>'
NO_SIDE = '<tag k="highway" v="tertiary"/><tag k="name" v="小营路"/>'
OTHER_SIDE = '<tag k="highway" v="tertiary"/><tag k="name" v="小营路辅路"/>'

# A residential street (12 m) with a bus stop node OFFSET_M north of its north kerb.
BUS_STOP = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="52.4730" lon="13.4380"/>
  <node id="2" lat="52.4730" lon="13.4440"/>
  <node id="9" lat="STOP_LAT" lon="13.4410"><tag k="highway" v="bus_stop"/></node>
  <way id="100"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/><tag k="width" v="12"/></way>
</osm>
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def plan_and_check(
    path: Path, rules: str, mode: str = "plan"
) -> tuple[parkplan.Plan, dict[str, int], gpd.GeoDataFrame]:
    """Plan an OSM file as the CLI does, check it, and count the bays beside each way."""
    osm = from_osm(path, mode=mode, traffic=load_rules(rules).traffic)
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    result = parkplan.plan(areas, hazards, rules=rules, ways=ways, workers=1)
    violations = parkplan.check(result, areas, hazards, rules=rules)
    assert len(violations) == 0, violations[["check", "detail"]].to_string()
    per_way = bays_by_way_side(result.bays, ways).groupby("osm_id")["bays"].sum().to_dict()
    return result, {str(k): int(v) for k, v in per_way.items()}, hazards


@pytest.fixture(scope="module")
def motorway_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("osm"), "motorway.osm", MOTORWAY)


# ----------------------------------------------------------------------------------------------- rules


def test_every_preset_forbids_motorways_with_a_source() -> None:
    for name in list_presets():
        rules = load_rules(name)
        assert {"motorway", "motorway_link"} <= set(rules.no_parking_classes), name
        assert set(rules.no_parking_classes) <= set(ROAD_CLASSES), name
        rows = {r.value: r for r in rule_rows(rules) if r.key.startswith("road_classes.no_parking[")}
        assert set(rows) == set(rules.no_parking_classes), name
        assert all(r.source for r in rows.values()), name
        # Trunk roads only where a law says so: no preset lists them as such.
        assert "trunk" not in rules.no_parking_classes, name
    cn = load_rules("cn")
    assert {"expressway", "main_carriageway"} <= set(cn.no_parking_classes)


def test_road_classes_table_is_validated() -> None:
    base = {"bays": {"car": {"length_m": 5.0, "width_m": 2.0}}}
    with pytest.raises(RulesError, match=r"unknown road class 'freeway'.*known: motorway"):
        load_rules({**base, "road_classes": {"no_parking": ["freeway"]}})
    with pytest.raises(RulesError, match="no_parking must be a list"):
        load_rules({**base, "road_classes": {"no_parking": "motorway"}})
    with pytest.raises(RulesError, match="unknown key"):
        load_rules({**base, "road_classes": {"no_stopping": ["motorway"]}})
    rules = load_rules(
        {**base, "road_classes": {"no_parking": [{"value": "motorroad", "source": "§ 1", "verified": False}]}}
    )
    assert rules.no_parking_classes == ("motorroad",)
    assert "road_classes.no_parking[0]" in rules.unverified()
    assert rules.keeps_road_class("expressway;motorroad")
    assert not rules.keeps_road_class("motorway")
    assert rules.keeps_road_class(None)  # a road_class feature the user drew: no parking whatever its class


def test_applicable_hazards_drops_unlisted_classes(motorway_file: Path) -> None:
    hazards = from_osm(motorway_file).hazards
    lines = hazards[hazards["kind"] == "road_class"]
    assert set(lines["road_class"]) == {"expressway;motorway", "motorway_link"}
    uk = applicable_hazards(hazards, load_rules("uk"))
    assert len(uk) == len(hazards)
    only_links = load_rules(
        {"extends": "uk", "road_classes": {"no_parking": ["motorway_link"]}}  # a rules file narrowing it
    )
    kept = applicable_hazards(hazards, only_links)
    assert set(kept.loc[kept["kind"] == "road_class", "road_class"]) == {"motorway_link"}


# ------------------------------------------------------------------------------------------------ plans


@pytest.mark.parametrize("rules", list_presets())
def test_no_bays_beside_motorway_or_its_link(motorway_file: Path, rules: str) -> None:
    result, per_way, _ = plan_and_check(motorway_file, rules)
    assert per_way.get("way/200", 0) == 0
    assert per_way.get("way/300", 0) == 0
    assert per_way["way/100"] > 10  # the street the slip road joins keeps its bays
    lost = result.kerbs["lost_road_class_m"].sum()
    assert lost > 1000.0  # both kerbs of the motorway and the link, counted as their own kind
    assert result.summary["hazards"]["by_kind"]["road_class"]["matched"] == 2


def test_rules_without_road_classes_park_on_motorways(motorway_file: Path, tmp_path: Path) -> None:
    # What the table does: the same preset with an empty list plans bays beside the motorway again.
    rules = tmp_path / "open.toml"
    rules.write_text('extends = "de"\nname = "open"\n[road_classes]\nno_parking = []\n', encoding="utf-8")
    osm = from_osm(motorway_file)
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    result = parkplan.plan(areas, hazards, rules=rules, ways=ways, workers=1)
    per_way = bays_by_way_side(result.bays, ways).groupby("osm_id")["bays"].sum()
    assert per_way["way/200"] > 0
    assert "lost_road_class_m" not in result.kerbs.columns


def test_existing_mode_also_keeps_motorways_free(tmp_path: Path) -> None:
    # Parking tagged on a motorway (a mapping error) does not put bays there.
    lane = '<tag k="parking:both" v="lane"/>'
    text = MOTORWAY.replace('<tag k="lanes" v="3"/>', f'<tag k="lanes" v="3"/>{lane}')
    text = text.replace('<tag k="width" v="12"/>', f'<tag k="width" v="12"/>{lane}')
    _, per_way, hazards = plan_and_check(write(tmp_path, "m.osm", text), "de", mode="existing")
    assert per_way.get("way/200", 0) == 0
    assert per_way["way/100"] > 10
    lines = hazards[hazards["kind"] == "road_class"]
    assert lines["reason"].str.startswith("road class").all()


@pytest.mark.parametrize(("rules", "bays_on_trunk"), [("cn", False), ("de", False), ("uk", True)])
def test_trunk_with_motorroad(tmp_path: Path, rules: str, bays_on_trunk: bool) -> None:
    _, per_way, _ = plan_and_check(write(tmp_path, "trunk.osm", MOTORROAD), rules)
    assert (per_way.get("way/100", 0) > 0) is bays_on_trunk
    assert per_way["way/101"] > 10


@pytest.mark.parametrize("side_tags", [NAMED_SIDE, TAGGED_SIDE], ids=["named-fulu", "side_road-yes"])
def test_main_carriageway_beside_a_side_road(tmp_path: Path, side_tags: str) -> None:
    path = write(tmp_path, "arterial.osm", SIDE_ROAD.replace("SIDE_TAGS", side_tags))
    _, per_way, hazards = plan_and_check(path, "cn")
    assert per_way.get("way/100", 0) == 0  # 主道: no bays
    assert per_way["way/101"] > 10  # 辅路: bays
    classes = set(hazards.loc[hazards["kind"] == "road_class", "road_class"])
    assert classes == {"main_carriageway"}


@pytest.mark.parametrize("beside", [NO_SIDE, OTHER_SIDE], ids=["plain-street", "side-road-of-another-street"])
def test_primary_without_side_road_keeps_its_bays(tmp_path: Path, beside: str) -> None:
    # A parallel street that is no side road, or the side road of another street (another name): the
    # primary is not a main carriageway.
    path = write(tmp_path, "a.osm", SIDE_ROAD.replace("SIDE_TAGS", beside))
    _, per_way, hazards = plan_and_check(path, "cn")
    assert per_way["way/100"] > 10
    assert (hazards["kind"] != "road_class").all()


def test_main_carriageway_only_under_cn(tmp_path: Path) -> None:
    _, per_way, _ = plan_and_check(write(tmp_path, "a.osm", SIDE_ROAD.replace("SIDE_TAGS", NAMED_SIDE)), "de")
    assert per_way["way/100"] > 10


def test_crossing_street_is_no_side_road(tmp_path: Path) -> None:
    # A side road crossing the primary at right angles does not make it a main carriageway.
    text = SIDE_ROAD.replace("SIDE_TAGS", TAGGED_SIDE)
    text = text.replace('lat="39.900225" lon="116.4000"', 'lat="39.8990" lon="116.4020"')
    text = text.replace('lat="39.900225" lon="116.4040"', 'lat="39.9010" lon="116.4020"')
    hazards = from_osm(write(tmp_path, "x.osm", text)).hazards
    assert (hazards["kind"] != "road_class").all()


# -------------------------------------------------------------------------------------------- bus stops


@pytest.mark.parametrize("offset_m", [11.0, 14.0])
def test_bus_stop_beside_the_kerb_is_matched(tmp_path: Path, offset_m: float) -> None:
    # North kerb at 6 m from the centreline; the stop offset_m behind it (1e-4 degree = 11.13 m north).
    lat = 52.4730 + (6.0 + offset_m) / 11.13 * 1e-4
    path = write(tmp_path, "stop.osm", BUS_STOP.replace("STOP_LAT", f"{lat:.7f}"))
    result, _, hazards = plan_and_check(path, "de")
    assert result.summary["hazards"]["by_kind"]["bus_stop"]["matched"] == 1
    zones = result.zones
    stop_zones = zones[zones["kind"] == "bus_stop"]
    assert len(stop_zones) == 1  # the near kerb only, not the far one 12 m farther
    # No bay on the north kerb within 15 m of the stop (de: StVO § 12 (1) Nr. 4 / Zeichen 224, 15 m).
    utm = result.bays.crs
    stop = hazards[hazards["kind"] == "bus_stop"].to_crs(utm).geometry.iloc[0]
    centres = shapely.centroid(np.asarray(result.bays.geometry.values, dtype=object))
    y0 = gpd.GeoSeries([shapely.Point(13.4410, 52.4730)], crs=4326).to_crs(utm).iloc[0].y
    north = shapely.get_y(centres) > y0
    along = np.abs(shapely.get_x(centres) - stop.x)
    assert not (north & (along < 15.0)).any()
    assert (~north & (along < 15.0)).any()  # the far kerb keeps its bays there


def test_bus_stop_snap_is_15_m() -> None:
    for name in list_presets():
        rules = load_rules(name)
        assert rules.kinds["bus_stop"].snap_m == 15.0, name


# --------------------------------------------------------------------------------------------------- CLI


def test_cli_plans_no_bays_on_motorway(
    motorway_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bays = tmp_path / "bays.geojson"
    summary = tmp_path / "summary.json"
    code, _, err = run(capsys, "plan", motorway_file, "--rules", "uk", "-o", bays, "--summary", summary)
    assert code == 0, err
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["hazards"]["by_kind"]["road_class"]["matched"] == 2
    ways = from_osm(motorway_file).ways
    per_way = bays_by_way_side(gpd.read_file(bays), ways).groupby("osm_id")["bays"].sum()
    assert per_way["way/200"] == 0
    assert per_way["way/300"] == 0
    assert per_way["way/100"] > 10


@pytest.mark.parametrize(
    ("tags", "classes"),
    [
        ({"highway": "motorway"}, {"motorway", "expressway"}),
        ({"highway": "motorway_link"}, {"motorway_link"}),
        ({"highway": "trunk_link"}, {"trunk_link"}),
        ({"highway": "primary", "motorroad": "yes"}, {"motorroad", "expressway"}),
        ({"highway": "trunk", "expressway": " Yes "}, {"trunk", "expressway"}),
        ({"highway": "residential", "motorroad": "no", "expressway": "no"}, set()),
        ({"highway": "primary", "name": "长安街辅路"}, set()),  # main_carriageway needs the ways beside it
    ],
)
def test_road_classes_from_the_tags_alone(tags: dict[str, str], classes: set[str]) -> None:
    assert tag_road_classes(tags) == classes
    assert may_have_road_class(tags) or not classes
