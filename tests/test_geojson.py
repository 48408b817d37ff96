"""RFC 7946 conformance of the bays GeoJSON the command line writes."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from parkplan.cli import main
from parkplan.io.write import geojson_text

DATA = Path(__file__).parent / "data" / "neukoelln_small"
STREETS = DATA / "street_areas.geojson"

REQUIRED = ("bay_id", "curb_id", "bay_type", "orientation", "length_m", "width_m", "start_m", "end_m")


@pytest.fixture(scope="module")
def bays_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("geojson") / "bays.geojson"
    args = [
        "plan",
        str(STREETS),
        "--rules",
        "de-parkraum",
        "--extent",
        str(DATA / "extent.geojson"),
        "-f",
        f"crossing={DATA / 'crossings.geojson'}",
        "-f",
        f"driveway={DATA / 'driveways.geojson'}",
        "-o",
        str(out),
        "-q",
    ]
    assert main(args) == 0
    return out


def _no_constants(name: str) -> None:
    raise AssertionError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


@pytest.fixture(scope="module")
def doc(bays_path: Path) -> dict[str, Any]:
    """The file parsed strictly: decimals kept exact, NaN / Infinity rejected."""
    text = bays_path.read_text(encoding="utf-8")
    parsed: dict[str, Any] = json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
    return parsed


def _rings(doc: dict[str, Any]) -> list[tuple[int, int, list[list[Decimal]]]]:
    """(feature index, ring index, ring) for every ring of every feature."""
    return [
        (i, r, ring)
        for i, f in enumerate(doc["features"])
        for r, ring in enumerate(f["geometry"]["coordinates"])
    ]


def _signed_area(ring: list[list[Any]]) -> float:
    xy = np.array([[float(x), float(y)] for x, y, *_ in ring])
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def test_feature_collection_without_crs(doc: dict[str, Any]) -> None:
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    assert set(doc) <= {"type", "features", "bbox"}
    assert len(doc["features"]) > 100
    for f in doc["features"]:
        assert f["type"] == "Feature"
        assert "crs" not in f
        assert isinstance(f["properties"], dict)


def test_geometries_are_polygons_with_closed_rings(doc: dict[str, Any]) -> None:
    for i, r, ring in _rings(doc):
        assert doc["features"][i]["geometry"]["type"] == "Polygon"
        assert len(ring) >= 4, (i, r)
        assert ring[0] == ring[-1], (i, r)
        for position in ring:
            assert len(position) == 2


def test_exterior_rings_counter_clockwise(doc: dict[str, Any]) -> None:
    for i, r, ring in _rings(doc):
        area = _signed_area(ring)
        if r == 0:
            assert area > 0, f"feature {i}: exterior ring is clockwise"
        else:
            assert area < 0, f"feature {i}: hole {r} is counter-clockwise"


def test_coordinates_in_range_with_at_most_7_decimals(doc: dict[str, Any]) -> None:
    for i, _, ring in _rings(doc):
        for lon, lat in ring:
            assert -180 <= lon <= 180, i
            assert -90 <= lat <= 90, i
            for value in (lon, lat):
                exponent = value.as_tuple().exponent
                assert isinstance(exponent, int)
                assert -exponent <= 7, f"feature {i}: {value} has more than 7 decimals"
    # Real data is in Berlin: lon/lat, not lat/lon.
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 13 < lon < 14
    assert 52 < lat < 53


def test_properties(doc: dict[str, Any]) -> None:
    ids = []
    for f in doc["features"]:
        p = f["properties"]
        for key in REQUIRED:
            assert key in p, key
        ids.append(p["bay_id"])
        assert isinstance(p["curb_id"], str)
        assert p["bay_type"] == "car"
        assert p["orientation"] in ("parallel", "angled", "perpendicular")
        assert p["length_m"] > 0
        assert p["width_m"] > 0
        assert 0 <= p["start_m"] < p["end_m"]
        if p["orientation"] == "parallel":
            assert float(p["end_m"] - p["start_m"]) == pytest.approx(float(p["length_m"]), abs=2e-3)
    assert len(ids) == len(set(ids)), "bay_id is not unique"


def test_reads_back_with_pyogrio(bays_path: Path, doc: dict[str, Any]) -> None:
    gdf = pyogrio.read_dataframe(bays_path)
    assert len(gdf) == len(doc["features"])
    assert gdf.crs is not None
    assert gdf.crs.to_epsg() == 4326
    assert set(REQUIRED) <= set(gdf.columns)
    assert (gdf.geom_type == "Polygon").all()
    assert gdf["bay_id"].tolist() == [f["properties"]["bay_id"] for f in doc["features"]]


def test_bays_lie_on_the_carriageway(bays_path: Path) -> None:
    bays = pyogrio.read_dataframe(bays_path).to_crs(25833)
    street = gpd.read_file(STREETS).to_crs(25833)
    carriageway = shapely.union_all(np.asarray(street.geometry.values, dtype=object)).buffer(0.05)
    outside = bays[~bays.within(carriageway)]
    assert outside.empty, (
        f"{len(outside)} bays leave the street area, e.g. {outside['bay_id'].head(3).tolist()}"
    )


def test_bay_shapes_match_their_properties(bays_path: Path) -> None:
    """Valid polygons; on straight kerb (most bays) the area is length x width.

    Bays on a curved kerb follow the curve, so their area differs from length x width there.
    """
    bays = pyogrio.read_dataframe(bays_path).to_crs(25833)
    assert bays.is_valid.all()
    assert (bays.area > 0).all()
    ratio = bays.area / (bays["length_m"] * bays["width_m"])
    assert float((ratio - 1).abs().lt(0.01).mean()) > 0.8
    assert float(ratio.median()) == pytest.approx(1.0, abs=0.005)


def test_bays_do_not_overlap(bays_path: Path) -> None:
    bays = pyogrio.read_dataframe(bays_path).to_crs(25833)
    geoms = np.asarray(bays.geometry.values, dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    # Neighbours share an edge; rounding to 1e-7 degree may leave a sliver of a few cm².
    assert overlap.max(initial=0.0) < 0.01


def test_writer_orients_rounds_and_nulls() -> None:
    """The writer itself: clockwise input is turned, holes run clockwise, NaN becomes null."""
    x0, y0 = 396000.0, 5813000.0
    shell = [(x0, y0), (x0, y0 + 10), (x0 + 10, y0 + 10), (x0 + 10, y0), (x0, y0)]  # clockwise
    hole = [(x0 + 2, y0 + 2), (x0 + 4, y0 + 2), (x0 + 4, y0 + 4), (x0 + 2, y0 + 4), (x0 + 2, y0 + 2)]  # ccw
    gdf = gpd.GeoDataFrame(
        {"name": ["a"], "value": [math.nan], "count": [np.int64(3)]},
        geometry=[shapely.Polygon(shell, [hole])],
        crs=25833,
    )
    text = "".join(geojson_text(gdf))
    parsed = json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
    assert "crs" not in parsed
    f = parsed["features"][0]
    assert f["properties"] == {"name": "a", "value": None, "count": 3}
    exterior, interior = f["geometry"]["coordinates"]
    assert _signed_area(exterior) > 0
    assert _signed_area(interior) < 0
    for lon, lat in exterior + interior:
        assert -lon.as_tuple().exponent <= 7
        assert -lat.as_tuple().exponent <= 7


def test_writing_with_worker_processes_gives_the_same_bytes() -> None:
    """GeoJSON chunks turned into text by forked workers come back in order: same text for 1 and 3."""
    import geopandas as gpd
    from shapely.geometry import LineString

    import parkplan
    from parkplan.io.write import geojson_seq_text, geojson_text

    k = gpd.GeoDataFrame(
        {"curb_id": [f"k{i}" for i in range(5)]},
        geometry=[LineString([(0, 20 * i), (200, 20 * i)]) for i in range(5)],
        crs="EPSG:25833",
    )
    bays = parkplan.plan(k, None, rules="de-parkraum").bays
    one = "".join(geojson_text(bays, chunk=7, workers=1))
    three = "".join(geojson_text(bays, chunk=7, workers=3))
    assert one == three
    assert "".join(geojson_seq_text(bays, chunk=5, workers=2)) == "".join(geojson_seq_text(bays, workers=1))
