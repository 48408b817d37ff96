"""Carriageway widths from OSM tags (issue 14): the order of the width tags, lanes plus parking lanes,
implausible values, ``width_source`` on ways, kerbs and in the summary, and the clear width beside bays."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import parkplan
from parkplan.osm.tags import (
    DEFAULT_WIDTHS_M,
    LANE_WIDTH_M,
    PARKING_LANE_DEPTHS_M,
    WIDTH_SOURCES,
    parking_lane_depth,
    parse_width,
    way_width,
)

NEUKOELLN = Path(__file__).parent / "data" / "osm" / "neukoelln-2024.osm"


def _street(tags: dict[str, str], highway: str = "residential") -> str:
    """One straight way about 200 m long (east-west at 52.47 N) with ``tags``, as an OSM XML file."""
    tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in {"highway": highway, **tags}.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="52.4730" lon="13.4380"/>
  <node id="2" lat="52.4730" lon="13.4410"/>
  <way id="10"><nd ref="1"/><nd ref="2"/>{tag_xml}</way>
</osm>
"""


def _write(tmp_path: Path, tags: dict[str, str], highway: str = "residential") -> Path:
    path = tmp_path / "street.osm"
    path.write_text(_street(tags, highway), encoding="utf-8")
    return path


def _plan(path: Path, rules: str) -> parkplan.Plan:
    osm = parkplan.from_osm(path, traffic="left")
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    return parkplan.plan(areas, hazards, rules=rules, ways=ways)


# ------------------------------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("7 m", 7.0),
        ("7,5", 7.5),
        ("7.5m", 7.5),
        ("12 ft", 12 * 0.3048),
        ("12'", 12 * 0.3048),
        ("10'6\"", 10 * 0.3048 + 6 * 0.0254),
        ("250 cm", 2.5),
        ("3 furlongs", None),
        ("narrow", None),
        ("0", None),
        ("-3", None),
    ],
)
def test_parse_width_units(value: str, expected: float | None) -> None:
    got = parse_width(value)
    assert got == (None if expected is None else pytest.approx(expected))


# ---------------------------------------------------------------------------------- order of sources


ALL = {
    "width:carriageway": "6.5",
    "width": "8",
    "est_width": "9",
    "lanes": "2",
    "parking:both": "lane",
    "parking:both:orientation": "parallel",
}
DEPTH = PARKING_LANE_DEPTHS_M["parallel"]


@pytest.mark.parametrize(
    ("drop", "width_m", "source"),
    [
        ((), 6.5, "width:carriageway"),
        (("width:carriageway",), 8.0, "width"),
        (("width:carriageway", "width"), 9.0, "est_width"),
        (("width:carriageway", "width", "est_width"), 2 * LANE_WIDTH_M + 2 * DEPTH, "lanes+parking"),
        (
            ("width:carriageway", "width", "est_width", "parking:both", "parking:both:orientation"),
            2 * LANE_WIDTH_M,
            "lanes",
        ),
        (tuple(ALL), DEFAULT_WIDTHS_M["residential"], "class_default"),
    ],
)
def test_each_width_source_wins_over_the_later_ones(
    drop: tuple[str, ...], width_m: float, source: str
) -> None:
    tags = {k: v for k, v in ALL.items() if k not in drop}
    found = way_width({"highway": "residential", **tags}, DEFAULT_WIDTHS_M)
    assert found.width_m == pytest.approx(width_m)
    assert found.source == source
    assert found.ignored == ()


def test_implausible_widths_are_ignored_and_named() -> None:
    tags = {"highway": "residential", "lanes": "2", "width:carriageway": "0", "width": "300"}
    tags["est_width"] = "4"
    found = way_width(tags, DEFAULT_WIDTHS_M)
    # 0 and 300 m are absurd; 4 m cannot hold two lanes: lanes decide.
    assert (found.width_m, found.source) == (2 * LANE_WIDTH_M, "lanes")
    assert found.ignored == ("width:carriageway=0", "width=300", "est_width=4")
    # Without a lanes tag, 4 m is plausible.
    del tags["lanes"]
    found = way_width(tags, DEFAULT_WIDTHS_M)
    assert (found.width_m, found.source) == (4.0, "est_width")


@pytest.mark.parametrize(
    ("tags", "left_m", "right_m"),
    [
        # Current scheme: side key before both; orientation depth; position share.
        ({"parking:both": "lane"}, 2.0, 2.0),
        ({"parking:both": "lane", "parking:right": "no"}, 2.0, 0.0),
        ({"parking:left": "lane", "parking:left:orientation": "perpendicular"}, 5.0, 0.0),
        ({"parking:both": "half_on_kerb", "parking:both:orientation": "diagonal"}, 4.25 / 2, 4.25 / 2),
        ({"parking:both": "on_kerb"}, 0.0, 0.0),
        ({"parking:both": "street_side", "parking:right": "separate"}, 2.0, 0.0),
        # Old scheme: orientation is the value, the position a sub-key (on_street when untagged).
        ({"parking:lane:both": "parallel"}, 2.0, 2.0),
        ({"parking:lane:right": "perpendicular", "parking:lane:right:perpendicular": "on_kerb"}, 0.0, 0.0),
        ({"parking:lane:left": "diagonal", "parking:lane:left:diagonal": "half_on_kerb"}, 4.25 / 2, 0.0),
        ({"parking:lane:both": "inline", "parking:lane:right": "no_stopping"}, 2.0, 0.0),
        # The current scheme wins over the old one.
        ({"parking:both": "no", "parking:lane:both": "parallel"}, 0.0, 0.0),
    ],
)
def test_parking_lane_depth(tags: dict[str, str], left_m: float, right_m: float) -> None:
    assert parking_lane_depth(tags, "left") == pytest.approx(left_m)
    assert parking_lane_depth(tags, "right") == pytest.approx(right_m)


# ------------------------------------------------------------------------------------------ planning


def test_one_lane_slip_road_gets_no_bays_under_au(tmp_path: Path) -> None:
    # A one-lane link: 3 m wide, and r.208 wants 3 m clear beside a 2.1 m bay.
    path = _write(tmp_path, {"lanes": "1", "oneway": "yes"}, highway="primary_link")
    ways = parkplan.from_osm(path).ways
    assert list(ways["width_m"]) == [LANE_WIDTH_M]
    assert list(ways["width_source"]) == ["lanes"]
    plan = _plan(path, "au")
    assert len(plan.bays) == 0
    assert plan.summary["kerbs"]["width_source"] == {"lanes": plan.summary["kerbs"]["count"]}
    # The same road without the clear width (uk has none) holds a row of bays: the 3 m rule decides.
    assert len(_plan(path, "uk").bays) > 0


def test_one_lane_with_parking_lanes_is_wide_enough_for_its_bays(tmp_path: Path) -> None:
    tags = {"lanes": "1", "parking:both": "lane", "parking:both:orientation": "parallel"}
    path = _write(tmp_path, tags)
    ways = parkplan.from_osm(path).ways
    assert list(ways["width_m"]) == [LANE_WIDTH_M + 2 * DEPTH]  # 7 m: was 3 m, the travel lane only
    assert list(ways["width_source"]) == ["lanes+parking"]
    # uk (2.0 m bays, no clear width): both kerbs, 2 + 2 <= 7 m; at 3 m only one kerb had bays.
    plan = _plan(path, "uk")
    assert plan.bays["curb_id"].nunique() == 2
    assert len(plan.bays) >= 50
    assert len(parkplan.check(plan, path, rules="uk")) == 0
    # au (2.1 m bays, 3 m clear): one kerb, 2.1 + 3 <= 7 m < 2.1 + 2.1 + 3; at 3 m none.
    plan = _plan(path, "au")
    assert plan.bays["curb_id"].nunique() == 1
    assert len(plan.bays) >= 25
    assert len(parkplan.check(plan, path, rules="au")) == 0


def test_width_source_is_counted_per_kerb(tmp_path: Path) -> None:
    path = _write(tmp_path, {"width": "9 m"})
    plan = _plan(path, "uk")
    counts = plan.summary["kerbs"]["width_source"]
    assert counts == {"width": plan.summary["kerbs"]["count"]}


def test_implausible_width_is_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _write(tmp_path, {"width": "300", "lanes": "2"})
    with caplog.at_level(logging.WARNING, logger="parkplan"):
        ways = parkplan.from_osm(path).ways
    assert list(ways["width_source"]) == ["lanes"]
    assert list(ways["width_ignored"]) == ["width=300"]
    warned = [r.getMessage() for r in caplog.records if "width tag" in r.getMessage()]
    assert len(warned) == 1
    assert "1 carriageway way(s)" in warned[0]
    assert "way/10 width=300" in warned[0]


def test_neukoelln_plans_with_no_check_violations() -> None:
    osm = parkplan.from_osm(NEUKOELLN)
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    plan = parkplan.plan(areas, hazards, rules="de-parkraum", ways=ways)
    assert len(plan.bays) > 0
    counts = plan.summary["kerbs"]["width_source"]
    assert sum(counts.values()) == plan.summary["kerbs"]["count"]
    assert set(counts) <= {*WIDTH_SOURCES, "none"}
    assert len(parkplan.check(plan, NEUKOELLN, rules="de-parkraum")) == 0
