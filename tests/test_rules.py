"""Rule sets: the extended schema (sources, feet, several rules per kind, opposite side, anchors,
cross-section and quota tables) and the engine's use of it."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

import parkplan
from parkplan.cli import main
from parkplan.rules.loading import FOOT_M, load_rules
from parkplan.rules.table import rule_rows, rules_markdown, rules_to_dict, show_text

CRS = "EPSG:25833"
CAR = {"car": {"orientation": "parallel", "length_m": 6.0, "width_m": 2.5}}


def rules(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {"name": "t", "traffic": "right", "bays": CAR}
    data.update(extra)
    return data


def street(width: float = 10.0) -> gpd.GeoDataFrame:
    """Two kerbs of one 100 m street, ``width`` apart; traffic keeps right (forward on the south kerb)."""
    return gpd.GeoDataFrame(
        {"curb_id": ["south", "north"], "side": ["right", "left"], "flow": ["forward", "backward"]},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, width), (100, width)])],
        crs=CRS,
    )


def zone_span(plan: parkplan.Plan, curb: str, kind: str) -> list[tuple[float, float]]:
    z = plan.zones[(plan.zones["curb_id"] == curb) & (plan.zones["kind"] == kind)]
    return sorted(zip(z["start_m"].round(3), z["end_m"].round(3), strict=True))


def test_sourced_values_and_feet_are_converted_exactly() -> None:
    r = load_rules(
        rules(
            clearances={
                "hydrant": {
                    "before_ft": {"value": 15, "source": "CVC 22514", "verified": True},
                    "after_ft": 15,
                    "source": "table source",
                    "verified": False,
                }
            }
        )
    )
    c = r.clearance("hydrant")
    assert c.before_m == pytest.approx(15 * FOOT_M, abs=0) == pytest.approx(4.572)
    assert r.sources["clearances.hydrant.before_m"].text == "CVC 22514"
    assert r.sources["clearances.hydrant.before_m"].verified
    assert r.sources["clearances.hydrant.before_m"].unit == "ft"
    assert not r.sources["clearances.hydrant.after_m"].verified
    assert "clearances.hydrant.after_m" in r.unverified()
    assert "clearances.hydrant.before_m" not in r.unverified()
    # A number with no source at all is not verified either.
    assert "bays.car.length_m" in r.unverified()


def test_feet_and_metres_for_one_value_is_an_error() -> None:
    with pytest.raises(parkplan.RulesError, match="before_ft or before_m"):
        load_rules(rules(clearances={"hydrant": {"before_ft": 15, "before_m": 4.0}}))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"hydrant": {"applies_to": "across"}}, "applies_to"),
        ({"hydrant": {"anchor": "kerb"}}, "anchor"),
        ({"hydrant": []}, "empty"),
    ],
)
def test_bad_clearance_keys(table: dict[str, object], message: str) -> None:
    with pytest.raises(parkplan.RulesError, match=message):
        load_rules(rules(clearances=table))


def test_several_rules_for_one_kind_the_larger_wins() -> None:
    """CN style: 50 m from the junction itself, 20 m from the end of its approach; the union is forbidden."""
    r = rules(clearances={"hydrant": [{"before_m": 5.0, "after_m": 1.0}, {"before_m": 1.0, "after_m": 8.0}]})
    kerbs = street().iloc[[0]]
    haz = gpd.GeoDataFrame({"kind": ["hydrant"]}, geometry=[Point(50, -1)], crs=CRS)
    p = parkplan.plan(kerbs, haz, rules=r)
    assert zone_span(p, "south", "hydrant") == [(45.0, 51.0), (49.0, 58.0)]
    assert p.kerbs["lost_m"].iloc[0] == pytest.approx(13.0)


@pytest.mark.parametrize("traffic", ["right", "left"])
def test_asymmetric_rule_follows_the_flow_on_both_traffic_sides(traffic: str) -> None:
    """AU-style bus stop: 20 m before the sign, 10 m after, in the direction of traffic on that kerb."""
    r = rules(traffic=traffic, clearances={"bus_stop": {"before_m": 20.0, "after_m": 10.0}})
    kerb = gpd.GeoDataFrame({"curb_id": ["k"]}, geometry=[LineString([(0, 0), (100, 0)])], crs=CRS)
    # No flow given: under right-hand traffic the kerb's traffic runs forward (carriageway on the left,
    # stop at y=-1 is behind the kerb); under left-hand traffic the carriageway is on the right.
    y = -1.0 if traffic == "right" else 1.0
    haz = gpd.GeoDataFrame({"kind": ["bus_stop"]}, geometry=[Point(50, y)], crs=CRS)
    p = parkplan.plan(kerb, haz, rules=r)
    # Flow is forward by default in both cases: upstream is the low chainage.
    assert zone_span(p, "k", "bus_stop") == [(30.0, 60.0)]
    flipped = kerb.assign(flow=["backward"])
    p = parkplan.plan(flipped, haz, rules=r)
    assert zone_span(p, "k", "bus_stop") == [(40.0, 70.0)]


def test_opposite_and_both_apply_across_the_street() -> None:
    haz = gpd.GeoDataFrame({"kind": ["driveway"], "width_m": [4.0]}, geometry=[Point(30, -1)], crs=CRS)
    opposite = rules(clearances={"driveway": {"before_m": 2.0, "after_m": 2.0, "applies_to": "opposite"}})
    p = parkplan.plan(street(), haz, rules=opposite)
    assert zone_span(p, "south", "driveway") == [(28.0, 32.0)]  # own extent only
    assert zone_span(p, "north", "driveway") == [(26.0, 34.0)]  # extent and clearances, opposite
    both = rules(clearances={"driveway": {"before_m": 2.0, "after_m": 5.0, "applies_to": "both"}})
    p = parkplan.plan(street(), haz, rules=both)
    assert zone_span(p, "south", "driveway") == [(26.0, 37.0)]  # forward flow: 2 m before, 5 m after
    assert zone_span(p, "north", "driveway") == [(23.0, 34.0)]  # backward flow on the north kerb


def test_centre_anchor_measures_from_the_middle() -> None:
    haz = gpd.GeoDataFrame({"kind": ["bus_stop"], "width_m": [12.0]}, geometry=[Point(50, -1)], crs=CRS)
    edge = rules(clearances={"bus_stop": {"before_m": 10.0, "after_m": 10.0}})
    centre = rules(clearances={"bus_stop": {"before_m": 10.0, "after_m": 10.0, "anchor": "centre"}})
    kerbs = street().iloc[[0]]
    assert zone_span(parkplan.plan(kerbs, haz, rules=edge), "south", "bus_stop") == [(34.0, 66.0)]
    assert zone_span(parkplan.plan(kerbs, haz, rules=centre), "south", "bus_stop") == [(40.0, 60.0)]


def test_cross_section_table_and_clear_width() -> None:
    r = load_rules(
        rules(
            cross_section={
                "two_way": [{"min_width_m": 12.0, "sides": 2}, {"min_width_m": 8.0, "sides": 1}],
                "one_way": [{"min_width_m": 9.0, "sides": 2}, {"min_width_m": 6.0, "sides": 1}],
                "min_clear_width_m": 3.5,
            }
        )
    )
    cs = r.cross_section
    assert cs is not None
    assert [cs.sides(w, False) for w in (14.0, 12.0, 11.9, 8.0, 7.9)] == [2, 2, 1, 1, 0]
    assert [cs.sides(w, True) for w in (9.0, 6.0, 5.9)] == [2, 1, 0]
    assert cs.min_clear_width_m == 3.5
    with pytest.raises(parkplan.RulesError, match="descending"):
        load_rules(
            rules(
                cross_section={
                    "two_way": [{"min_width_m": 8.0, "sides": 1}, {"min_width_m": 12.0, "sides": 2}]
                }
            )
        )


def test_quotas_parse() -> None:
    r = load_rules(
        rules(
            quotas={
                "accessible_min_share": 0.02,
                "accessible_per_block": [
                    {"max_spaces": 25, "accessible": 1},
                    {"max_spaces": 50, "accessible": 2},
                ],
            }
        )
    )
    assert r.quotas is not None
    assert r.quotas.accessible_min_share == 0.02
    assert r.quotas.accessible_per_block[1].accessible == 2
    with pytest.raises(parkplan.RulesError, match="share"):
        load_rules(rules(quotas={"accessible_min_share": 2.0}))


def test_show_lists_every_value_with_its_source_and_warns_when_unverified() -> None:
    r = load_rules(
        rules(clearances={"hydrant": {"before_m": {"value": 5.0, "source": "guess", "verified": False}}})
    )
    text = show_text(r)
    assert "clearances.hydrant.before_m" in text
    assert "guess" in text
    assert "warning:" in text
    assert "[UNVERIFIED]" in text
    keys = [row.key for row in rule_rows(r)]
    assert "bays.car.length_m" in keys


def test_json_has_the_toml_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "show", "cn", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"name", "traffic", "bays", "clearances"}
    assert data == json.loads(json.dumps(rules_to_dict(load_rules("cn"))))


def test_every_preset_loads_and_plans_the_bundled_example() -> None:
    data = Path(__file__).parent / "data" / "neukoelln_small"
    extent = parkplan.io.read.read_extent(data / "extent.geojson")
    for name in parkplan.list_presets():
        r = load_rules(name)
        assert r.name == name
        assert r.description
        p = parkplan.plan(
            data / "street_areas.geojson",
            [
                parkplan.HazardSource(data / "crossings.geojson", "crossing"),
                parkplan.HazardSource(data / "driveways.geojson", "driveway"),
            ],
            rules=r,
            extent=extent,
        )
        assert p.summary["solver"]["status"] == "OPTIMAL", name
        assert len(p.bays) > 0, name


def test_docs_rules_md_is_generated_from_the_presets() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
    assert doc.read_text(encoding="utf-8") == rules_markdown() + "\n", (
        "run: parkplan rules doc > docs/rules.md"
    )


CN_TABLE = {
    "two_way": [{"min_width_m": 12.0, "sides": 2}, {"min_width_m": 8.0, "sides": 1}],
    "one_way": [{"min_width_m": 9.0, "sides": 2}, {"min_width_m": 6.0, "sides": 1}],
}


def _street(width: float, oneway: bool = False) -> gpd.GeoDataFrame:
    return street(width).assign(street_id="s", width_m=width, oneway=oneway)


def test_ten_metre_street_parks_on_the_side_with_more_bays() -> None:
    """A 10 m two-way street in China may park on one side only (8 <= 10 < 12).

    Hand-solved: the south kerb has driveways at 20 m and 60 m (4 m each): free 0-18, 22-58, 62-100 m hold
    3 + 6 + 6 = 15 bays of 6 m; the north kerb is free: 100 m holds 16. The north side keeps its bays.
    """
    haz = gpd.GeoDataFrame(
        {"kind": ["driveway", "driveway"], "width_m": [4.0, 4.0]},
        geometry=[Point(20, -1), Point(60, -1)],
        crs=CRS,
    )
    p = parkplan.plan(_street(10.0), haz, rules=rules(cross_section=CN_TABLE))
    assert p.bays["curb_id"].unique().tolist() == ["north"]
    assert len(p.bays) == 16
    assert zone_span(p, "south", "cross_section") == [(0.0, 100.0)]
    assert p.summary["cross_section"]["kerbs_closed"] == 1
    assert p.summary["cross_section"]["facing_pairs"] == 1


@pytest.mark.parametrize(
    ("width", "oneway", "sides"),
    [(12.0, False, 2), (7.9, False, 0), (9.0, True, 2), (6.0, True, 1), (5.9, True, 0)],
)
def test_cross_section_table_decides_how_many_sides_park(width: float, oneway: bool, sides: int) -> None:
    p = parkplan.plan(_street(width, oneway), None, rules=rules(cross_section=CN_TABLE))
    assert p.bays["curb_id"].nunique() == sides


def test_minimum_clear_width_counts_the_bay_depth() -> None:
    """Japan: 3.5 m must stay clear. 2.5 m deep bays: 8.5 m -> both sides, 6.0 m -> one, 5.9 m -> none."""
    jp = rules(cross_section={"min_clear_width_m": 3.5})
    for width, sides in ((8.5, 2), (6.0, 1), (5.9, 0)):
        p = parkplan.plan(_street(width), None, rules=jp)
        assert p.bays["curb_id"].nunique() == sides, width


def test_street_without_width_is_measured_between_its_kerbs() -> None:
    """No width_m: the width is measured across the carriageway, 10 m -> one side (CN table)."""
    p = parkplan.plan(street(10.0).assign(street_id="s"), None, rules=rules(cross_section=CN_TABLE))
    assert p.bays["curb_id"].nunique() == 1
    assert p.summary["cross_section"]["kerbs_without_width"] == 0


def test_kerb_without_width_or_kerb_opposite_is_not_limited_and_the_summary_says_so() -> None:
    p = parkplan.plan(street(10.0).iloc[:1], None, rules=rules(cross_section=CN_TABLE))
    assert len(p.bays) == 16
    assert p.summary["cross_section"]["kerbs_without_width"] == 1


def test_pinned_preset_values() -> None:
    us = load_rules("us-ca").clearance("hydrant")
    assert us.before_m == 15 * 0.3048 == pytest.approx(4.572)
    assert us.after_m == pytest.approx(4.572)
    de = load_rules("de").clearance("intersection")
    assert (de.before_m, de.after_m) == (5.0, 5.0)
    jp = load_rules("jp").clearance("driveway")
    assert (jp.before_m, jp.after_m) == (3.0, 3.0)
    cn = load_rules("cn")
    assert max(c.before_m for c in cn.clearance_rules("intersection")) == 50.0
    assert cn.grouping is not None
    assert (cn.grouping.max_run_m, cn.grouping.gap_m) == (60.0, 4.0)
    assert cn.cross_section is not None
    assert cn.cross_section.sides(10.0, False) == 1
    assert cn.quotas is not None
    assert cn.quotas.accessible_min_share == 0.02
    assert load_rules("jp").cross_section.min_clear_width_m == 3.5  # type: ignore[union-attr]
    au = load_rules("au")
    assert au.traffic == "left"
    assert (au.clearance("bus_stop").before_m, au.clearance("bus_stop").after_m) == (20.0, 10.0)
    fr = load_rules("fr").clearance("crossing")
    assert (fr.before_m, fr.after_m) == (5.0, 0.0)
    assert {load_rules(n).traffic for n in ("uk", "jp", "au")} == {"left"}


def test_rules_list_names_every_preset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("cn", "de", "us-ca", "uk", "fr", "nl", "jp", "au", "de-parkraum"):
        assert any(line.split()[0] == name for line in out.splitlines()), name


def test_rules_show_warns_about_unverified_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "show", "us-ca"]) == 0
    out = capsys.readouterr().out
    assert "clearances.hydrant.before_m" in out
    assert "15 ft" in out
    assert "warning:" in out


def test_inherited_values_keep_their_parents_source(tmp_path: Path) -> None:
    child = tmp_path / "city.toml"
    child.write_text(
        'extends = "cn"\nsource = "city bylaw"\n[clearances.hydrant]\nbefore_m = 10.0\nsource = "bylaw 3"\n',
        encoding="utf-8",
    )
    r = load_rules(child)
    base = load_rules("cn")
    assert r.name == "city"
    assert r.clearance("hydrant").before_m == 10.0
    assert r.sources["clearances.hydrant.before_m"].text == "bylaw 3"
    # Not overridden: still the preset's own source and verification.
    assert r.sources["bays.small.length_m"] == base.sources["bays.small.length_m"]
    assert r.sources["clearances.crossing.default_width_m"].verified is False


def test_sourced_value_with_a_unit() -> None:
    r = load_rules(rules(clearances={"hydrant": {"before_m": {"value": 15, "unit": "ft", "source": "x"}}}))
    assert r.clearance("hydrant").before_m == pytest.approx(4.572)
    with pytest.raises(parkplan.RulesError, match="unit"):
        load_rules(rules(clearances={"hydrant": {"before_m": {"value": 15, "unit": "yd"}}}))


def test_sides_told_apart_without_side_when_each_kerb_runs_with_its_traffic() -> None:
    """Both kerbs digitised in their own direction of traffic (both flow forward, no side): still two sides.

    A driveway at 43-47 m leaves the south kerb 7 + 8 = 15 bays, the north kerb holds 16: north parks.
    """
    kerbs = gpd.GeoDataFrame(
        {"curb_id": ["south", "north"], "street_id": "s", "width_m": 10.0, "oneway": False},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(100, 10), (0, 10)])],
        crs=CRS,
    )
    haz = gpd.GeoDataFrame({"kind": ["driveway"], "width_m": [4.0]}, geometry=[Point(45, -1)], crs=CRS)
    p = parkplan.plan(kerbs, haz, rules=rules(cross_section=CN_TABLE))
    assert p.bays["curb_id"].unique().tolist() == ["north"]


def test_more_pinned_preset_values() -> None:
    uk = load_rules("uk").clearance("intersection")
    assert (uk.before_m, uk.after_m, uk.applies_to) == (10.0, 10.0, "both")
    nl = load_rules("nl")
    assert (nl.clearance("bus_stop").before_m, nl.clearance("crossing").after_m) == (12.0, 5.0)
    parkraum = load_rules("de-parkraum")
    assert parkraum.bays[0].length_m == 5.2
    assert parkraum.clearance("driveway").min_width_m == 4.0
    assert parkraum.clearance("bus_stop").before_m == 15.0


@pytest.mark.parametrize("preset", ["au", "fr"])
def test_preset_asymmetric_rules_follow_each_kerbs_traffic(preset: str) -> None:
    """AU (left-hand traffic) bus stop: 20 m before the sign, 10 m after; FR crossing: 5 m upstream only.

    Two kerbs of one street, traffic on each in opposite directions: the forbidden stretch mirrors.
    """
    r = load_rules(preset)
    kind, width = ("bus_stop", 0.0) if preset == "au" else ("crossing", 4.0)
    c = r.clearance(kind)
    # Under left-hand traffic the kerb a forward flow keeps to lies on the right of the line: digitise
    # so that the carriageway is between the kerbs whatever the traffic side.
    south_side, north_side = ("right", "left") if r.traffic == "right" else ("left", "right")
    kerbs = gpd.GeoDataFrame(
        {"curb_id": ["south", "north"], "side": [south_side, north_side], "flow": ["forward", "backward"]},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, 10), (100, 10)])],
        crs=CRS,
    )
    if r.traffic == "left":
        kerbs = kerbs.assign(geometry=[LineString([(0, 10), (100, 10)]), LineString([(0, 0), (100, 0)])])
    # A bus stop stands behind each kerb; a crossing is one node on the centreline, for both kerbs.
    pts = [Point(50, -1), Point(50, 11)] if kind == "bus_stop" else [Point(50, 5)]
    haz = gpd.GeoDataFrame({"kind": [kind] * len(pts), "width_m": [width] * len(pts)}, geometry=pts, crs=CRS)
    p = parkplan.plan(kerbs, haz, rules=r, room=False)
    half = width / 2
    fwd = zone_span(p, "south", kind)
    back = zone_span(p, "north", kind)
    assert fwd == [(round(50 - half - c.before_m, 3), round(50 + half + c.after_m, 3))]
    assert back == [(round(50 - half - c.after_m, 3), round(50 + half + c.before_m, 3))]
    assert c.before_m != c.after_m


MIXED = {
    "car": {"orientation": "parallel", "length_m": 5.2, "width_m": 2.0},
    "perp": {"orientation": "perpendicular", "length_m": 5.0, "width_m": 2.5},
}


def test_kerb_orientation_limits_the_bay_types_on_that_kerb() -> None:
    """Three 100 m kerbs far apart: parallel only -> floor(100 / 5.2) = 19 bays; perpendicular only ->
    floor(100 / 2.5) = 40; no orientation -> the optimiser's choice, 40 perpendicular."""
    kerbs = gpd.GeoDataFrame(
        {"curb_id": ["par", "perp", "free"], "orientation": ["parallel", "perpendicular", None]},
        geometry=[LineString([(0, y), (100, y)]) for y in (0.0, 100.0, 200.0)],
        crs=CRS,
    )
    p = parkplan.plan(kerbs, None, rules=rules(bays=MIXED))
    got = p.bays.groupby("curb_id")["bay_type"].agg(lambda s: (s.iloc[0], len(s), s.nunique())).to_dict()
    assert got == {"par": ("car", 19, 1), "perp": ("perp", 40, 1), "free": ("perp", 40, 1)}
    assert p.summary["kerbs"]["orientation_given"] == 2
    assert p.summary["kerbs"]["orientation_without_bay_type"] == 0


def test_room_is_checked_for_each_kerbs_own_bay_depth() -> None:
    """Two kerbs 6 m apart: 2 m parallel bays on both leave room (4 m < 6 m), so a parallel-only street parks
    on both sides even though the rules also offer 5 m deep perpendicular bays."""
    kerbs = street(6.0).assign(orientation="parallel")
    p = parkplan.plan(kerbs, None, rules=rules(bays=MIXED))
    assert p.bays["curb_id"].nunique() == 2
    assert (p.bays["bay_type"] == "car").all()


def test_narrow_street_parks_deep_on_one_side_when_that_is_worth_more() -> None:
    """6 m apart, no clear-width rule: perpendicular on one kerb (5 m) leaves no room opposite (5 + 2 > 6).

    Hand-solved: parallel both sides 2 x floor(100 / 5.2) = 38; perpendicular one side floor(100 / 2.5) = 40
    (perpendicular on both, 10 m, does not fit). The optimum is 40 on one kerb.
    """
    p = parkplan.plan(street(6.0), None, rules=rules(bays=MIXED))
    assert len(p.bays) == 40
    assert p.bays["curb_id"].nunique() == 1
    assert (p.bays["bay_type"] == "perp").all()


def test_default_orientation_keeps_untagged_kerbs_to_it() -> None:
    """de-parkraum offers diagonal and perpendicular bays only where a kerb's orientation says so."""
    kerbs = gpd.GeoDataFrame(
        {"curb_id": ["tagged", "untagged"], "orientation": ["perpendicular", None]},
        geometry=[LineString([(0, y), (100, y)]) for y in (0.0, 100.0)],
        crs=CRS,
    )
    p = parkplan.plan(kerbs, None, rules="de-parkraum")
    got = p.bays.groupby("curb_id")["bay_type"].agg(lambda s: (s.iloc[0], len(s), s.nunique())).to_dict()
    # floor(100 / 2.5) = 40 perpendicular; floor(100 / 5.2) = 19 parallel.
    assert got == {"tagged": ("perpendicular", 40, 1), "untagged": ("car", 19, 1)}


def test_default_orientation_must_name_a_bay_type() -> None:
    with pytest.raises(parkplan.RulesError, match="default_orientation"):
        load_rules(rules(default_orientation="perpendicular"))
