"""Bays as written are valid, with counter-clockwise exterior rings, in every output format.

The checks read the files back as a GIS would: GeoJSON by parsing the raw JSON (ring orientation as
written, by the signed area of the written numbers), the other formats through pyogrio / GeoPandas. The
kerbs are drawn to hit what broke on real data: bends (sharp and shallow) whose vertex lies millimetres from
a bay's end, and vertices a fraction of a millimetre apart; in both hemispheres, east and west, and with
left-hand traffic.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import LineString, Polygon

import parkplan
from parkplan.geometry.kerbs import KerbIndex
from parkplan.io import write as output
from parkplan.layout import _following, kerb_edge

FOLD = Path(__file__).parent / "data" / "neukoelln_fold"
FORMATS = (".geojson", ".geojsonl", ".geojsons", ".gpkg", ".fgb", ".parquet")

# Places (lon, lat of the local origin) and the preset used there: north-east (Berlin), south-east with
# left-hand traffic (Sydney), north-west (New York), south-west (Buenos Aires), left-hand near 0 degrees
# (London: longitudes of both signs).
PLACES = [
    (13.4, 52.5, "de-parkraum"),
    (151.2, -33.87, "au"),
    (-74.0, 40.7, "us-ca"),
    (-58.4, -34.6, "de-parkraum"),
    (-0.0005, 51.5, "uk"),
]


# --------------------------------------------------------------------------------------------------
# Reading back
# --------------------------------------------------------------------------------------------------


def _signed_area(ring: Any) -> float:
    """Twice the signed area of a closed ring (positive: counter-clockwise), relative to its first point."""
    xy = np.asarray(ring, dtype=float)[:, :2]
    xy = xy - xy[0]
    return float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]))


def _json_geometries(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".geojson":
        return [f["geometry"] for f in json.loads(text)["features"]]
    return [json.loads(line.lstrip("\x1e"))["geometry"] for line in text.splitlines() if line.strip()]


def _polygon_rings(geometry: dict[str, Any]) -> list[list[Any]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    return []


def written_faults(path: Path) -> dict[str, int]:
    """Count what is wrong in a written layer: invalid geometries, clockwise exteriors, counter-clockwise
    holes, repeated consecutive vertices; and the features."""
    faults = {"features": 0, "invalid": 0, "clockwise": 0, "hole_ccw": 0, "repeated": 0}
    if path.suffix in (".geojson", ".geojsonl", ".geojsons"):
        raw = _json_geometries(path)
        geoms = np.array([shapely.geometry.shape(g) for g in raw], dtype=object)
        for g in raw:
            for polygon in _polygon_rings(g):
                faults["clockwise"] += _signed_area(polygon[0]) <= 0
                faults["hole_ccw"] += sum(_signed_area(h) >= 0 for h in polygon[1:])
    else:
        frame = gpd.read_parquet(path) if path.suffix == ".parquet" else pyogrio.read_dataframe(path)
        geoms = np.asarray(frame.geometry.values, dtype=object)
        polys = shapely.get_parts(geoms[np.isin(shapely.get_type_id(geoms), (3, 6))])
        for p in polys:
            faults["clockwise"] += _signed_area(p.exterior.coords) <= 0
            faults["hole_ccw"] += sum(_signed_area(h.coords) >= 0 for h in p.interiors)
    faults["features"] = len(geoms)
    faults["invalid"] = int((~shapely.is_valid(geoms)).sum())
    coords, which = shapely.get_coordinates(geoms, return_index=True)
    same = (coords[1:] == coords[:-1]).all(axis=1) & (which[1:] == which[:-1])
    # A ring's closing point repeats its first, never the one before it.
    faults["repeated"] = int(same.sum())
    return faults


def write_every_format(gdf: gpd.GeoDataFrame, folder: Path, stem: str = "bays") -> dict[str, dict[str, int]]:
    """Write ``gdf`` in every format; per format, :func:`written_faults` of the file and the writer's
    counts (``written``, ``dropped``)."""
    out = {}
    for suffix in FORMATS:
        path = folder / f"{stem}{suffix}"
        with output.atomic_path(path) as tmp:
            report = output.dump_layer(gdf, tmp, path, workers=1)
        out[suffix] = written_faults(path) | {"written": report.written, "dropped": len(report.dropped)}
    return out


def assert_clean(faults: dict[str, dict[str, int]], features: int | None) -> None:
    """Nothing wrong in any format; all ``features`` written (``None``: whatever the writer says it wrote)."""
    for suffix, f in faults.items():
        assert f["features"] == (f["written"] if features is None else features), (suffix, f)
        assert f["invalid"] == f["clockwise"] == f["hole_ccw"] == f["repeated"] == 0, (suffix, f)


def assert_plan_written_clean(p: parkplan.Plan, folder: Path) -> None:
    """The plan's bays (all of them), zones and kerbs, written valid in every format."""
    assert_clean(write_every_format(p.bays, folder), len(p.bays))
    for stem, layer in (("zones", p.zones), ("kerbs", p.kerbs)):
        faults = write_every_format(layer, folder, stem)
        assert_clean(faults, None)
        for suffix, f in faults.items():
            assert f["written"] + f["dropped"] == len(layer), (stem, suffix)


# --------------------------------------------------------------------------------------------------
# Random bent kerbs, planned and written
# --------------------------------------------------------------------------------------------------


def _local_crs(lon: float, lat: float) -> CRS:
    return CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")


@st.composite
def bent_kerb(draw: st.DrawFn, i: int) -> LineString:
    """A kerb of 1-4 segments in strip ``i`` (80 m apart): bends sharp (20-60 degrees) or shallow
    (0.2-4 degrees), and here and there a micro-zigzag: a vertex a fraction of a millimetre from the one
    before it, off the line."""
    heading = math.radians(draw(st.floats(0.0, 360.0)))
    pts = [np.array([draw(st.floats(-5.0, 5.0)), i * 80.0])]
    for k in range(draw(st.integers(1, 4))):
        if k:
            turn = draw(st.one_of(st.floats(20.0, 60.0), st.floats(0.2, 4.0)))
            heading += math.radians(turn * draw(st.sampled_from([-1.0, 1.0])))
        step = np.array([math.cos(heading), math.sin(heading)])
        across = np.array([-step[1], step[0]])
        length = draw(st.floats(8.0, 45.0))
        end = pts[-1] + step * length
        if draw(st.booleans()):
            at = pts[-1] + step * draw(st.floats(0.5, length - 0.5))
            tiny = draw(st.floats(1e-6, 2e-4))
            pts += [at, at + step * tiny + across * tiny * draw(st.sampled_from([-1.0, 1.0]))]
        pts.append(end)
    return LineString(pts)


def _bend_at(line: LineString, cuts: list[tuple[float, float]]) -> LineString:
    """``line`` with a vertex put at each chainage ``s`` and everything after it turned by ``deg`` about it
    (lengths, hence chainages, are kept)."""
    coords = np.asarray(line.coords, dtype=float)
    for s, deg in sorted(cuts, reverse=True):
        chain = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
        if not 0.0 < s < chain[-1]:
            continue
        j = int(np.searchsorted(chain, s, side="right"))
        t = (s - chain[j - 1]) / (chain[j] - chain[j - 1])
        pivot = coords[j - 1] + t * (coords[j] - coords[j - 1])
        c, si = math.cos(math.radians(deg)), math.sin(math.radians(deg))
        tail = coords[j:] - pivot
        tail = np.column_stack([c * tail[:, 0] - si * tail[:, 1], si * tail[:, 0] + c * tail[:, 1]]) + pivot
        coords = np.vstack([coords[:j], pivot, tail])
    return LineString(coords)


@st.composite
def district(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, str, list[float], list[float]]:
    lon, lat, rules = draw(st.sampled_from(PLACES))
    n = draw(st.integers(1, 3))
    lines = [draw(bent_kerb(i)) for i in range(n)]
    sides = [draw(st.sampled_from(["left", "right"])) for _ in range(n)]
    frame = gpd.GeoDataFrame({"curb_id": [f"k{i}" for i in range(n)], "side": sides}, geometry=lines)
    frame = frame.set_crs(_local_crs(lon, lat)).to_crs(4326)
    # Where the second plan bends each kerb: this far (metres) past a bay's end of the first plan, and by
    # this much (degrees); sign and size drawn per bend.
    offsets = draw(st.lists(st.floats(-0.03, 0.03).filter(lambda e: abs(e) > 1e-5), min_size=4, max_size=4))
    turns = draw(st.lists(st.sampled_from([-3.0, -1.0, -0.3, 0.3, 1.0, 3.0]), min_size=4, max_size=4))
    return frame, rules, offsets, turns


def plan_with_bends_at_bay_ends(
    frame: gpd.GeoDataFrame, rules: str, offsets: list[float], turns: list[float]
) -> parkplan.Plan:
    """Plan, then bend every kerb millimetres from the ends of its bays and plan again (in the working CRS,
    so the chainages of the first plan are those of the second kerbs)."""
    first = parkplan.plan(frame, rules=rules, workers=1)
    kerbs = first.kerbs[["curb_id", "side", "geometry"]]
    bent = []
    for curb, line in zip(kerbs["curb_id"], kerbs.geometry, strict=True):
        bays = first.bays[first.bays["curb_id"] == curb]
        ends = np.concatenate([bays["start_m"].to_numpy(), bays["end_m"].to_numpy()])
        cuts = [(float(s) + offsets[i % 4], turns[i % 4]) for i, s in enumerate(np.unique(ends))]
        bent.append(_bend_at(line, cuts))
    kerbs = gpd.GeoDataFrame(kerbs.drop(columns="geometry"), geometry=bent, crs=first.crs)
    return parkplan.plan(kerbs, rules=rules, workers=1)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(district())
def test_bent_kerbs_are_written_valid_and_counter_clockwise(
    tmp_path: Path, case: tuple[gpd.GeoDataFrame, str, list[float], list[float]]
) -> None:
    frame, rules, offsets, turns = case
    p = plan_with_bends_at_bay_ends(frame, rules, offsets, turns)
    assert_plan_written_clean(p, tmp_path)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(district())
def test_bent_kerbs_are_written_valid_and_counter_clockwise_more(
    tmp_path: Path, case: tuple[gpd.GeoDataFrame, str, list[float], list[float]]
) -> None:
    frame, rules, offsets, turns = case
    p = plan_with_bends_at_bay_ends(frame, rules, offsets, turns)
    assert_plan_written_clean(p, tmp_path)


# --------------------------------------------------------------------------------------------------
# The writer: snap, deduplicate, orient, validate, repair, report
# --------------------------------------------------------------------------------------------------

# A bay as the layout drew it before the fix (EPSG:25833): a kerb vertex 2.3 mm from its end on a 1.2 degree
# bend left edges of millimetres at its end, valid here but folded over by the 1e-7 degree grid.
FOLDED_BAY = (
    "POLYGON ((391007.05749443086 5818004.786471836, 391012.2551944309 5818004.786471836, "
    "391012.25749392645 5818004.786520004, 391012.21560908674 5818006.786081371, "
    "391012.23424971424 5818006.786471836, 391007.05749443086 5818006.786471836, "
    "391007.05749443086 5818004.786471836))"
)

# A counter-clockwise rectangle (EPSG:4326) with two vertices a few hundredths of a millimetre from its
# top-left corner, off the line: shapely.orient_polygons (GEOS) reads it as clockwise and reverses it.
ZIGZAG_RECTANGLE = (
    "POLYGON ((13.400335855753054 52.5072965544643, 13.400405855753053 52.5072965544643, "
    "13.400405855753053 52.507316554464296, 13.400335855753054 52.507316554464296, "
    "13.400335856116234 52.507316554505756, 13.400335855552767 52.50731655438698, "
    "13.400335855753054 52.5072965544643))"
)


def test_float_formats_hold_the_coordinates_as_computed(tmp_path: Path) -> None:
    bay = shapely.Polygon([(391000.1234567, 5818000.7654321), (391005.3, 5818000.1), (391005.2, 5818002.9)])
    frame = gpd.GeoDataFrame({"bay_id": ["a#1"]}, geometry=[bay], crs="EPSG:25833")
    for suffix in (".gpkg", ".fgb", ".parquet"):
        path = tmp_path / f"bays{suffix}"
        output.write_layer(frame, path)
        back = gpd.read_parquet(path) if suffix == ".parquet" else pyogrio.read_dataframe(path)
        assert back.geometry.iloc[0].equals_exact(bay, 0.0), suffix  # not snapped, already CCW
    text = "".join(output.geojson_text(frame, workers=1))
    lon, lat = json.loads(text)["features"][0]["geometry"]["coordinates"][0][0]
    assert (round(lon, 7), round(lat, 7)) == (lon, lat)


def test_a_fold_the_grid_makes_is_repaired_and_reported(tmp_path: Path, caplog: Any) -> None:
    folded = shapely.from_wkt(FOLDED_BAY)
    neighbour = shapely.affinity.translate(shapely.box(0.0, 0.0, 5.2, 2.0), 391001.0, 5818004.786471836)
    frame = gpd.GeoDataFrame({"bay_id": ["k#1", "k#2"]}, geometry=[neighbour, folded], crs="EPSG:25833")
    # The fault is real: snapped as the old writer did, the bay is invalid.
    snapped = shapely.transform(frame.to_crs(4326).geometry.values, lambda xy: np.round(xy, 7))
    assert shapely.is_valid(snapped).tolist() == [True, False]
    for suffix in FORMATS:
        caplog.clear()
        path = tmp_path / f"bays{suffix}"
        with caplog.at_level(logging.WARNING, logger="parkplan"), output.atomic_path(path) as tmp:
            report = output.dump_layer(frame, tmp, path, workers=1)
        if suffix.startswith(".geojson"):
            assert report.repaired == ["k#2"], suffix
            assert "1 repaired" in caplog.text
            assert "k#2" in caplog.text
        else:  # written as computed: valid as it is
            assert report.repaired == [], suffix
        assert (report.written, report.dropped) == (2, [])
        faults = written_faults(path)
        assert (faults["features"], faults["invalid"], faults["clockwise"]) == (2, 0, 0), (suffix, faults)
    # The repair keeps the bay: its area at the grid, less the fold.
    written = _json_geometries(tmp_path / "bays.geojson")[1]
    repaired = gpd.GeoSeries([shapely.geometry.shape(written)], crs=4326).to_crs(25833).iloc[0]
    assert repaired.area == pytest.approx(folded.area, rel=0.01)


def test_orientation_is_read_after_snapping(tmp_path: Path) -> None:
    ring = shapely.from_wkt(ZIGZAG_RECTANGLE)
    assert _signed_area(ring.exterior.coords) > 0
    frame = gpd.GeoDataFrame({"bay_id": ["z#1"]}, geometry=[ring], crs=4326)
    faults = write_every_format(frame, tmp_path)
    assert_clean(faults, 1)
    written = _json_geometries(tmp_path / "bays.geojson")[0]["coordinates"][0]
    assert len(written) == 5  # the near-duplicates became repeats at the grid, and went


def test_rings_are_oriented_in_every_format_and_tiny_holes_go(tmp_path: Path, caplog: Any) -> None:
    x0, y0 = 391000.0, 5818000.0
    outer = [(x0, y0), (x0, y0 + 10), (x0 + 10, y0 + 10), (x0 + 10, y0), (x0, y0)]  # clockwise
    hole = [(x0 + 2, y0 + 2), (x0 + 4, y0 + 2), (x0 + 4, y0 + 4), (x0 + 2, y0 + 4), (x0 + 2, y0 + 2)]  # ccw
    speck = [(x0 + 6, y0 + 6), (x0 + 6.0003, y0 + 6), (x0 + 6.0003, y0 + 6.0003), (x0 + 6, y0 + 6)]
    frame = gpd.GeoDataFrame(
        {"name": ["holed", "speck"]},
        geometry=[Polygon(outer, [hole]), Polygon(outer, [hole, speck])],
        crs="EPSG:25833",
    )
    with caplog.at_level(logging.WARNING, logger="parkplan"):
        faults = write_every_format(frame, tmp_path)
    assert_clean(faults, 2)
    # At 1e-7 degree the 0.3 mm hole collapses and goes (a repair); in the float formats it stays.
    assert [len(p["coordinates"]) for p in _json_geometries(tmp_path / "bays.geojson")] == [2, 2]
    assert "1 repaired" in caplog.text
    assert "#1" in caplog.text
    gpkg = pyogrio.read_dataframe(tmp_path / "bays.gpkg")
    assert [len(p.interiors) for p in gpkg.geometry] == [1, 2]


def test_lines_that_collapse_at_the_grid_are_left_out(tmp_path: Path, caplog: Any) -> None:
    zones = gpd.GeoDataFrame(
        {"kind": ["crossing", "narrow", "narrow"]},
        geometry=[
            LineString([(13.4, 52.5), (13.4001, 52.5)]),
            LineString([(13.40000001, 52.50000001), (13.40000002, 52.50000002)]),  # 1.5 mm
            LineString([(13.41, 52.5), (13.41, 52.5)]),  # no length
        ],
        crs=4326,
    )
    for suffix in FORMATS:
        caplog.clear()
        path = tmp_path / f"zones{suffix}"
        with caplog.at_level(logging.WARNING, logger="parkplan"), output.atomic_path(path) as tmp:
            report = output.dump_layer(zones, tmp, path, workers=1)
        # GeoJSON snaps the 1.5 mm line to one point; the float formats keep it. The line without length
        # goes from every format.
        gone = ["#1", "#2"] if suffix.startswith(".geojson") else ["#2"]
        assert (report.written, report.dropped) == (3 - len(gone), gone), suffix
        assert f"{len(gone)} left out" in caplog.text
        faults = written_faults(path)
        assert (faults["features"], faults["invalid"], faults["repeated"]) == (3 - len(gone), 0, 0), suffix


def test_multi_part_geometries_lose_only_their_collapsed_parts() -> None:
    square = shapely.box(0.0, 0.0, 2.0, 2.0)
    speck = shapely.box(5.0, 5.0, 5.0002, 5.0002)
    geoms = np.array(
        [
            shapely.MultiPolygon([square, speck]),
            shapely.MultiLineString([[(0, 0), (3, 0)], [(5, 5), (5.0002, 5.0002)]]),
            shapely.MultiPolygon([speck]),
            None,
            shapely.Point(1.00004, 2.00006),
        ],
        dtype=object,
    )
    cleaned = output.clean_geometries(geoms, 3)  # a grid of 1 mm
    assert cleaned.keep.tolist() == [True, True, False, True, True]
    assert cleaned.repaired.tolist() == [True, True, False, False, False]
    got = cleaned.geometries
    assert shapely.get_num_geometries(got[:2]).tolist() == [1, 1]
    assert shapely.is_valid(got[:2]).all()
    assert _signed_area(got[0].geoms[0].exterior.coords) > 0
    assert got[3] is None
    assert got[4].equals(shapely.Point(1.0, 2.0))


def test_same_bytes_and_report_for_any_number_of_workers() -> None:
    folded = shapely.from_wkt(FOLDED_BAY)
    geoms = [shapely.affinity.translate(folded, 7.0 * i, 0.0) for i in range(9)]
    geoms[4] = LineString([(391000.0, 5818000.0), (391000.0001, 5818000.0)])  # collapses
    frame = gpd.GeoDataFrame({"bay_id": [f"b#{i}" for i in range(9)]}, geometry=geoms, crs="EPSG:25833")
    texts, reports = [], []
    for workers in (1, 2):
        report = output.GeometryReport()
        texts.append("".join(output.geojson_text(frame, chunk=2, workers=workers, report=report)))
        reports.append(report)
    assert texts[0] == texts[1]
    assert reports[0] == reports[1]
    assert (reports[0].written, reports[0].dropped) == (8, ["b#4"])
    assert len(reports[0].repaired) >= 1


# --------------------------------------------------------------------------------------------------
# The layout: no edge beside a bay's end that the grid can fold
# --------------------------------------------------------------------------------------------------


def _bends(n: int, seed: int) -> tuple[KerbIndex, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` kerbs near Berlin (EPSG:25833) with one shallow bend (0.3-10 degrees, either way) at 10 m,
    and on each a bay 5.2 m long with the bend 1 mm - 20 cm inside one of its ends, 2 or 5 m deep on
    either side."""
    rng = np.random.default_rng(seed)
    turn = np.radians(rng.uniform(0.3, 10.0, n)) * rng.choice([-1.0, 1.0], n)
    origin = np.column_stack([391000.0 + rng.uniform(0, 5, n), 5818000.0 + rng.uniform(0, 5, n)])
    lines = [
        LineString([o, o + np.array([10.0, 0.0]), o + np.array([10.0 + 10.0 * np.cos(t), 10.0 * np.sin(t)])])
        for o, t in zip(origin, turn, strict=True)
    ]
    inside = rng.uniform(0.001, 0.2, n)
    at_end = rng.random(n) < 0.5
    a = np.where(at_end, 10.0 + inside - 5.2, 10.0 - inside)
    depth = rng.choice([2.0, 5.0], n) * rng.choice([-1.0, 1.0], n)
    return KerbIndex(np.array(lines, dtype=object)), a, a + 5.2, depth


def _folded_at_grid(polys: np.ndarray) -> np.ndarray:
    wgs = np.asarray(gpd.GeoSeries(polys, crs="EPSG:25833").to_crs(4326).values, dtype=object)
    return np.asarray(~shapely.is_valid(shapely.transform(wgs, lambda xy: np.round(xy, 7))), dtype=bool)


def test_bays_across_a_bend_near_their_end_survive_the_grid_unrepaired() -> None:
    idx, a, b, depth = _bends(1500, seed=13)
    k = np.arange(len(a))
    old = _following(idx, k, a, b, depth, end_m=0.0)  # every kerb vertex and far point kept
    assert _folded_at_grid(old).sum() > 10  # what the Neukoelln layer showed
    new = _following(idx, k, a, b, depth)
    assert shapely.is_valid(new).all()
    assert not _folded_at_grid(new).any()
    cleaned = output.clean_geometries(gpd.GeoSeries(new, crs="EPSG:25833").to_crs(4326).values, 7)
    assert cleaned.keep.all()
    assert not cleaned.repaired.any()
    # The bays keep their size: a sliver at most is given up at a corner.
    np.testing.assert_allclose(shapely.area(new), shapely.area(old), rtol=0.02)


def test_kerb_edge_leaves_out_vertices_millimetres_from_the_ends() -> None:
    line = LineString([(0.0, 0.0), (1.0, 0.0), (1.005, 0.001), (3.0, 0.1), (4.985, 0.2), (6.0, 0.2)])
    idx = KerbIndex(np.array([line], dtype=object))
    chain = idx.chain
    pts, _, count = kerb_edge(idx, np.array([0]), np.array([chain[1] - 0.004]), np.array([chain[4] + 0.01]))
    # P(a), then vertex 1 (4 mm past a) and vertex 2 (9 mm past a) left out, vertex 3 kept, vertex 4
    # (1 cm before b) left out, P(b).
    assert count.tolist() == [3]
    np.testing.assert_allclose(pts[1], (3.0, 0.1))
    _, _, count0 = kerb_edge(
        idx, np.array([0]), np.array([chain[1] - 0.004]), np.array([chain[4] + 0.01]), end_m=0.0
    )
    assert count0.tolist() == [6]


# --------------------------------------------------------------------------------------------------
# A real piece: the Neukoelln block whose bay folded when written
# --------------------------------------------------------------------------------------------------


def _plan_fold() -> parkplan.Plan:
    hazards = [
        parkplan.HazardSource(FOLD / "crossings.geojson", "crossing"),
        parkplan.HazardSource(FOLD / "driveways.geojson", "driveway"),
    ]
    extent = gpd.read_file(FOLD / "extent.geojson").geometry.iloc[0]
    return parkplan.plan(
        FOLD / "street_areas.geojson", hazards, rules="de-parkraum", extent=extent, workers=1
    )


def test_the_neukoelln_block_is_written_valid_in_every_format(tmp_path: Path) -> None:
    p = _plan_fold()
    assert len(p.bays) > 5
    # The piece still holds the trap: drawn with every kerb vertex and far point (the layout before the
    # fix), a bay folds at the GeoJSON grid.
    kerb_of = pd.Series(np.arange(len(p.kerbs)), index=p.kerbs["curb_id"].to_numpy())
    k = kerb_of[p.bays["curb_id"].to_numpy()].to_numpy()
    side = np.where(p.kerbs["carriageway"].to_numpy()[k] == "left", 1.0, -1.0)
    idx = KerbIndex(np.asarray(p.kerbs.geometry.values, dtype=object))
    a, b = p.bays["start_m"].to_numpy(), p.bays["end_m"].to_numpy()
    old = _following(idx, k, a, b, p.bays["width_m"].to_numpy() * side, end_m=0.0)
    old_wgs = gpd.GeoSeries(old, crs=p.crs).to_crs(4326).values
    assert (~shapely.is_valid(shapely.transform(old_wgs, lambda xy: np.round(xy, 7)))).sum() >= 1
    # As planned now: valid and counter-clockwise as written, and no bay needed the writer's repair.
    assert_plan_written_clean(p, tmp_path)
    report = output.GeometryReport()
    "".join(output.geojson_text(p.bays, workers=1, report=report))
    assert (report.repaired, report.dropped) == ([], [])


def test_3d_and_collections_are_cleaned_too() -> None:
    clockwise = [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)]
    geoms = np.array(
        [
            Polygon([(x, y, 5.0) for x, y in clockwise]),
            Polygon(clockwise),
            shapely.GeometryCollection([Polygon(clockwise), shapely.Point(3.0, 3.0)]),
        ],
        dtype=object,
    )
    cleaned = output.clean_geometries(geoms, 3)
    got = cleaned.geometries
    assert shapely.has_z(got).tolist() == [True, False, False]  # z kept where there was one, none added
    assert _signed_area(got[0].exterior.coords) > 0
    assert _signed_area(got[1].exterior.coords) > 0
    assert _signed_area(got[2].geoms[0].exterior.coords) > 0
    assert cleaned.keep.all()
