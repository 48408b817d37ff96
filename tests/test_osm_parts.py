"""Each part of a kerb takes its own way's attributes (issue 14): streets drawn as several ways in OSM.

After the carriageways are merged, one kerb of the street area runs beside several ways. Before, it took
the width, orientation, flow and parking tags of the way nearest its middle for its whole length; now
:func:`parkplan.geometry.kerbs.attach_ways` cuts it where the way beside it (what it would take from it)
changes.
The OSM files are written here with the tagging patterns of real streets split mid-block.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import parkplan
from parkplan.geometry.kerbs import MIN_PART_M, attach_ways, build_kerbs
from parkplan.io.read import read_kerbs, to_metric
from parkplan.osm.streets import from_osm, osm_extent
from parkplan.rules.loading import Rules, load_rules
from parkplan.sides import facing_kerbs

NEUKOELLN = Path(__file__).parent / "data" / "osm" / "neukoelln-2024.osm"

# An east-west street of about 150 m in Berlin, drawn as two ways split mid-block at node 2: way 10
# from node 1 to node 2, way 11 from node 2 to node 3 (0.0011 degrees of longitude: about 75 m).
NODES = {1: (52.4730, 13.4380), 2: (52.4730, 13.4391), 3: (52.4730, 13.4402)}


def osm_file(path: Path, ways: list[tuple[int, list[int], Mapping[str, str]]]) -> Path:
    """Write an OSM XML file with :data:`NODES` and ``ways`` (id, node refs, tags)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="hand">']
    lines += [f'  <node id="{i}" lat="{lat}" lon="{lon}"/>' for i, (lat, lon) in NODES.items()]
    for way_id, refs, tags in ways:
        lines.append(f'  <way id="{way_id}">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def street(path: Path, first: Mapping[str, str], second: Mapping[str, str]) -> Path:
    """One residential street named Teststraße, way 10 tagged ``first`` and way 11 ``second``."""
    base = {"highway": "residential", "name": "Teststraße"}
    return osm_file(path, [(10, [1, 2], {**base, **first}), (11, [2, 3], {**base, **second})])


def plan_osm(path: Path, mode: str, rules: str) -> tuple[parkplan.Plan, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Plan an OSM file as the CLI does; return the plan, its violations and the ways (metric CRS)."""
    osm = from_osm(path, mode=mode)
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    plan = parkplan.plan(areas, hazards, rules=rules, ways=ways, extent=osm_extent(path))
    violations = parkplan.check(plan, path, None, rules=rules, mode=mode)
    return plan, violations, ways.to_crs(plan.kerbs.crs)


def kerb_table(areas: gpd.GeoDataFrame, ways: gpd.GeoDataFrame, rules: Rules) -> gpd.GeoDataFrame:
    """The planner's kerb table of street areas and their ways (UTM; no extent: ends are corners)."""
    frame, _ = read_kerbs(areas)
    metric, crs = to_metric(frame, None)
    return attach_ways(build_kerbs(metric, rules), ways.to_crs(crs), rules)


def beside(bays: gpd.GeoDataFrame, ways: gpd.GeoDataFrame) -> np.ndarray:
    """The ``osm_id`` of the way nearest each bay's centre."""
    centre = shapely.centroid(np.asarray(bays.to_crs(ways.crs).geometry.values, dtype=object))
    _, w = shapely.STRtree(np.asarray(ways.geometry.values, dtype=object)).query_nearest(centre)
    return np.asarray(ways["osm_id"].to_numpy(dtype=object)[w])


def crossing_a_centreline(bays: gpd.GeoDataFrame, ways: gpd.GeoDataFrame) -> int:
    """How many bays cross (or touch) a way's centreline."""
    geoms = np.asarray(bays.to_crs(ways.crs).geometry.values, dtype=object)
    hit, _ = shapely.STRtree(np.asarray(ways.geometry.values, dtype=object)).query(
        geoms, predicate="intersects"
    )
    return len(np.unique(hit))


ORIENTATION_TAGS = {
    # Current scheme (parking:both + parking:both:orientation) and the old one (parking:lane:both).
    "parking:both": (
        {"parking:both": "lane", "parking:both:orientation": "parallel"},
        {"parking:both": "lane", "parking:both:orientation": "perpendicular"},
    ),
    "parking:lane:both": ({"parking:lane:both": "parallel"}, {"parking:lane:both": "perpendicular"}),
}


@pytest.mark.parametrize("scheme", sorted(ORIENTATION_TAGS))
def test_each_part_of_a_kerb_has_its_own_ways_orientation(tmp_path: Path, scheme: str) -> None:
    """Way 10 (9 m) parks parallel, way 11 (12 m) perpendicular: each kerb's two halves keep their own.

    Before, each kerb took one way's orientation for its whole 150 m: the south kerb held 51
    perpendicular bays, 5 m deep, beside way 10's 9 m carriageway too (across its centreline), where the
    tags say parallel.
    """
    parallel, perpendicular = ORIENTATION_TAGS[scheme]
    path = street(tmp_path / "two.osm", {"width": "9", **parallel}, {"width": "12", **perpendicular})
    plan, violations, ways = plan_osm(path, "existing", "de-parkraum")
    bays = plan.bays
    way = beside(bays, ways)
    assert set(bays.loc[way == "way/10", "bay_type"]) == {"car"}
    assert set(bays.loc[way == "way/11", "bay_type"]) == {"perpendicular"}
    # Both halves of both kerbs park (each way side allows it and there is room for it).
    assert {(w, t) for w, t in zip(way, bays["bay_type"], strict=True)} == {
        ("way/10", "car"),
        ("way/11", "perpendicular"),
    }
    for w in ("way/10", "way/11"):
        assert (way == w).sum() >= 20
    assert crossing_a_centreline(bays, ways) == 0
    assert len(violations) == 0, violations[["check", "detail"]].to_string()
    # Each kerb is cut in two where the ways meet, ids derived from the kerb's.
    kerbs = plan.kerbs
    assert kerbs["curb_id"].is_unique
    assert sorted(kerbs["curb_id"].str.rsplit("|", n=1).str[1]) == ["1", "1", "2", "2"]
    assert set(kerbs["street_id"]) == {"way/10", "way/11"}


@pytest.mark.parametrize("narrow", [{"width": "4"}, {"lanes": "1"}])
def test_a_narrow_stretch_keeps_its_own_width(tmp_path: Path, narrow: dict[str, str]) -> None:
    """A one-lane stretch (``width=4`` or ``lanes=1``) beside a 7 m way, plan mode under ``de`` (3.1 m clear).

    The narrow half holds no bay (2.0 m + 3.1 m > 4 m), the wide half parks on one side
    (2.0 + 2.0 + 3.1 > 7 m). Before, one kerb took 4 m, the other 7 m for their whole length: the pair
    was judged 4 m wide and the wide half lost its bays too (0 bays).
    """
    path = street(tmp_path / "narrow.osm", narrow, {"width": "7"})
    plan, violations, ways = plan_osm(path, "plan", "de")
    kerbs = plan.kerbs
    near = {w: kerbs[kerbs["street_id"] == w] for w in ("way/10", "way/11")}
    assert len(near["way/10"]) == 2
    assert len(near["way/11"]) == 2
    assert (near["way/11"]["width_m"] == 7.0).all()
    assert (near["way/10"]["width_m"] <= 4.0).all()
    way = beside(plan.bays, ways)
    assert (way == "way/10").sum() == 0
    assert (way == "way/11").sum() >= 10
    assert crossing_a_centreline(plan.bays, ways) == 0
    assert "clear_width" in violations.attrs["summary"]["by_check"]
    assert len(violations) == 0, violations[["check", "detail"]].to_string()


def test_a_narrow_stretch_in_existing_mode(tmp_path: Path) -> None:
    """Both ways tagged ``parking:both=lane``: only the 7 m half parks, one side, none on the 4 m half."""
    lane = {"parking:both": "lane", "parking:both:orientation": "parallel"}
    path = street(tmp_path / "narrow.osm", {"width": "4", **lane}, {"width": "7", **lane})
    plan, violations, ways = plan_osm(path, "existing", "de")
    way = beside(plan.bays, ways)
    assert (way == "way/10").sum() == 0
    assert (way == "way/11").sum() >= 10
    assert len(violations) == 0, violations[["check", "detail"]].to_string()


def test_a_one_way_part_flows_with_its_way(tmp_path: Path) -> None:
    """Way 10 one-way eastwards, way 11 two-way: the north kerb (walked westwards, carriageway on its left)
    flows against its digitised direction beside way 10 only."""
    path = street(tmp_path / "oneway.osm", {"width": "8", "oneway": "yes"}, {"width": "8"})
    osm = from_osm(path)
    areas, hazards, ways = osm.kerbs, osm.hazards, osm.ways
    plan = parkplan.plan(areas, hazards, rules="de-parkraum", ways=ways, extent=osm_extent(path))
    kerbs = plan.kerbs.set_index(["street_id", "side"])
    assert kerbs.loc[("way/10", "left"), "flow"] == "backward"
    assert kerbs.loc[("way/11", "left"), "flow"] == "forward"
    assert kerbs.loc[("way/10", "right"), "flow"] == "forward"
    assert bool(kerbs.loc[("way/10", "left"), "oneway"]) is True
    assert bool(kerbs.loc[("way/11", "left"), "oneway"]) is False


def test_ways_with_equal_attributes_cut_nothing(tmp_path: Path) -> None:
    """A street split into two ways for tags parkplan does not read (here ``maxspeed``) keeps whole kerbs
    (a cut could cost a bay at every way's end): the same kerbs and bays as without the ways."""
    path = street(tmp_path / "split.osm", {"width": "9", "maxspeed": "30"}, {"width": "9", "maxspeed": "50"})
    split, _, _ = plan_osm(path, "plan", "de-parkraum")
    osm = from_osm(path)
    areas, hazards = osm.kerbs, osm.hazards
    alone = parkplan.plan(areas, hazards, rules="de-parkraum", extent=osm_extent(path))
    assert not split.kerbs["curb_id"].str.contains("|", regex=False).any()
    assert split.kerbs["curb_id"].tolist() == alone.kerbs["curb_id"].tolist()
    assert len(split.bays) == len(alone.bays) > 40


def test_parts_are_stable_and_unique(tmp_path: Path) -> None:
    """Cutting twice gives the same parts; the parts cover their kerb end to end."""
    path = street(tmp_path / "two.osm", {"width": "9"}, {"width": "12"})
    osm = from_osm(path)
    areas, ways = osm.kerbs, osm.ways
    rules = load_rules("de-parkraum")
    frame, _ = read_kerbs(areas)
    metric, crs = to_metric(frame, None)
    table = build_kerbs(metric, rules)  # no <bounds>: the street's ends are kerb corners
    one = attach_ways(table, ways.to_crs(crs), rules)
    two = attach_ways(table, ways.to_crs(crs), rules)
    assert one["curb_id"].tolist() == two["curb_id"].tolist()
    assert shapely.equals_exact(
        np.asarray(one.geometry.values, dtype=object), np.asarray(two.geometry.values, dtype=object), 0.0
    ).all()
    assert one["curb_id"].is_unique
    assert len(one) == 2 * len(table)
    # The parts of a kerb add up to it, and meet end to start.
    parent = one["curb_id"].str.rsplit("|", n=1).str[0]
    for curb_id, length in zip(table["curb_id"], table["length_m"], strict=True):
        parts = one[parent == curb_id]
        assert parts["length_m"].sum() == pytest.approx(length, abs=1e-6)
        g = np.asarray(parts.geometry.values, dtype=object)
        assert shapely.distance(shapely.get_point(g[0], -1), shapely.get_point(g[1], 0)) < 1e-9
    # Only the kerb's ends keep their corners: the first part the one at its start, the last the other.
    number = one["curb_id"].str.rsplit("|", n=1).str[1].astype(int).to_numpy()
    assert np.isnan(one["corner_start_m"].to_numpy()[number == 2]).all()
    assert np.isnan(one["corner_end_m"].to_numpy()[number == 1]).all()
    start = dict(zip(table["curb_id"], table["corner_start_m"], strict=True))
    assert one["corner_start_m"].to_numpy()[number == 1].tolist() == [start[c] for c in parent[number == 1]]
    assert np.isfinite(one["corner_start_m"].to_numpy()[number == 1]).all()


def test_no_cut_within_the_reach_of_a_corner(tmp_path: Path) -> None:
    """A side street (way 12) joins at node 2 from the north; east of it the main street widens from 9 to
    12 m at node 9, about 17 m on. Under ``cn`` the intersection clearance reaches 50 m from the corner:
    a part begun by a cut there would have no corner and park inside it, so the north-east kerb is not
    cut; the south kerb, straight past the junction, is cut where the width changes."""
    NODES.update({4: (52.4740, 13.4391), 9: (52.4730, 13.43935)})
    try:
        base = {"highway": "residential"}
        path = osm_file(
            tmp_path / "tee.osm",
            [
                (10, [1, 2], {**base, "width": "9"}),
                (11, [2, 9], {**base, "width": "9"}),
                (12, [2, 4], {**base, "width": "8"}),
                (13, [9, 3], {**base, "width": "12"}),
            ],
        )
        plan, violations, _ = plan_osm(path, "plan", "cn")
    finally:
        del NODES[4], NODES[9]
    kerbs = plan.kerbs
    parent = kerbs["curb_id"].str.rsplit("|", n=1).str[0]
    cut = kerbs[kerbs["curb_id"].str.contains("|", regex=False)]
    assert parent[cut.index].nunique() == 1  # the south kerb only
    assert len(cut) == 2
    assert set(cut["width_m"]) == {9.0, 12.0}
    # Every part is at least MIN_PART_M long but for one step of the sampling.
    assert kerbs["length_m"].min() >= MIN_PART_M - 2.0
    assert len(violations) == 0, violations[["check", "detail"]].to_string()


def test_kerbs_of_different_ways_face_each_other_but_never_across_a_median(tmp_path: Path) -> None:
    """The rule of :func:`parkplan.sides.facing_kerbs`: kerbs face the kerb their rays meet first, whatever
    way each took. Two one-way ways 5.6 m apart, 6 m wide, share one carriageway: its kerbs take
    different ways and still face each other, judged at the smaller of their tagged widths and the
    measured one. The two carriageways of a dual carriageway (ways 11 m apart, 7 m wide: a 4 m median)
    never face: a ray stops at the first kerb, the median's."""
    rules = load_rules("de")
    NODES.update(
        {5: (52.47305, 13.4380), 6: (52.47305, 13.4402), 7: (52.4731, 13.4380), 8: (52.4731, 13.4402)}
    )
    try:
        oneway = {"highway": "residential", "width": "6", "oneway": "yes", "name": "Paar"}
        pair = osm_file(tmp_path / "pair.osm", [(20, [1, 3], oneway), (21, [6, 5], oneway)])
        osm = from_osm(pair)
        areas, ways = osm.kerbs, osm.ways
        dual = osm_file(
            tmp_path / "dual.osm",
            [
                (20, [1, 3], {"highway": "secondary", "width": "7", "oneway": "yes", "name": "Allee"}),
                (21, [8, 7], {"highway": "secondary", "width": "7", "oneway": "yes", "name": "Allee"}),
            ],
        )
        osm = from_osm(dual)
        dual_areas, dual_ways = osm.kerbs, osm.ways
    finally:
        for node in (5, 6, 7, 8):
            del NODES[node]
    assert len(areas) == 1  # one carriageway
    table = kerb_table(areas, ways, rules)
    whole = table.assign(kerb=range(len(table)), start_m=0.0, end_m=table["length_m"])
    facing = facing_kerbs(table, whole[["kerb", "start_m", "end_m", "length_m"]].reset_index(drop=True))
    pairs = facing.pairs()
    street_id = table["street_id"].to_numpy(dtype=object)
    across = street_id[pairs[:, 0]] != street_id[pairs[:, 1]]
    assert across.any()
    assert np.allclose(facing.width_m[across], 6.0)

    table = kerb_table(dual_areas, dual_ways, rules)
    assert len(dual_areas) == 2  # two carriageways with a median between them
    whole = table.assign(kerb=range(len(table)), start_m=0.0, end_m=table["length_m"])
    facing = facing_kerbs(table, whole[["kerb", "start_m", "end_m", "length_m"]].reset_index(drop=True))
    pairs = facing.pairs()
    assert len(pairs) >= 2
    area_of = table["input_index"].to_numpy()
    assert (area_of[pairs[:, 0]] == area_of[pairs[:, 1]]).all()
    assert (facing.width_m <= 7.1).all()


@pytest.fixture(scope="module")
def neukoelln_plans() -> dict[str, tuple[parkplan.Plan, gpd.GeoDataFrame, gpd.GeoDataFrame]]:
    return {mode: plan_osm(NEUKOELLN, mode, "de-parkraum") for mode in ("plan", "existing")}


@pytest.mark.parametrize("mode", ["plan", "existing"])
def test_the_bundled_extract_still_plans_with_no_violation(neukoelln_plans, mode: str) -> None:
    """Neukölln 2024 (streets split mid-block: Thomasstraße's narrow stretch tagged ``parking:both=no``,
    Karl-Marx-Straße's one-lane sections): kerbs are cut, every part at least about MIN_PART_M long, and
    ``parkplan check`` finds nothing."""
    plan, violations, ways = neukoelln_plans[mode]
    kerbs = plan.kerbs
    cut = kerbs["curb_id"].str.contains("|", regex=False)
    assert cut.sum() >= 10
    assert kerbs.loc[cut, "length_m"].min() >= MIN_PART_M - 2.0
    assert kerbs["curb_id"].is_unique
    assert len(violations) == 0, violations[["check", "detail"]].to_string()
    assert len(plan.bays) > 200
    # Thomasstraße's 6 m stretch (way/163379149, parking:both=no) is a part of its own, with its width.
    narrow = kerbs[kerbs["street_id"] == "way/163379149"]
    assert len(narrow) >= 1
    assert (narrow["width_m"] == 6.0).all()
    if mode == "existing":
        assert (beside(plan.bays, ways) != "way/163379149").all()
