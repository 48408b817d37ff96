"""Inputs read as the user meant them, or refused (issue 19: cases 6, 7, and 10's ids and antimeridian).

* Multi-layer files: a GeoPackage with several layers is read only when the layer is named
  (``PATH:LAYER``, :class:`parkplan.io.paths.LayerPath`, ``--layer``); otherwise one error line lists them.
* Several UTM zones: longitude / latitude kerbs spread so that one UTM zone would measure them more than
  0.2 % wrong are refused (``--crs`` / ``crs=`` overrides); a district across a zone edge is fine.
* The antimeridian: a kerb line or street area drawn across 180 degrees is planned as the short piece
  it is, in the UTM zone there.
* Integer ids beyond 2^53 (20-digit ids GDAL reads as floats, 19-digit ids in a column with an empty
  value) are kept exactly, as text, in the kerbs, hazards and bays.

Every case runs through the command line (``parkplan.cli.main``: exit 2 and one error line, or success)
and through the Python API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import CRS

import parkplan
from cli_run import assert_one_error, run
from parkplan.errors import InputError
from parkplan.io.paths import LayerPath
from parkplan.io.read import MAX_SCALE_ERROR, HazardSource, read_kerbs, utm_crs

DATA = Path(__file__).parent / "data" / "neukoelln_small"
STREETS = DATA / "street_areas.geojson"

# Two parallel kerbs in Berlin (EPSG:4326), about 68 m long and 33 m apart.
K1 = [[13.4700, 52.4600], [13.4710, 52.4600]]
K2 = [[13.4700, 52.4603], [13.4710, 52.4603]]
# A third, 20 m south: the "roads" layer of the GeoPackage below has only this one.
K3 = [[13.4700, 52.4598], [13.4710, 52.4598]]

BIG = (12345678901234567890, 12345678901234567891)  # beyond int64 and float precision
INT64 = (1234567890123456789, 1234567890123456788)  # int64, not float64


def lines_frame(*coords: list[list[float]], crs: Any = 4326, **columns: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[shapely.LineString(c) for c in coords], crs=crs)


def feature(coords: list[list[float]], fid: Any = None, **props: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": coords},
    }
    if fid is not None:
        out["id"] = fid
    return out


def write_features(path: Path, *features: dict[str, Any]) -> Path:
    # json.dumps writes Python's big integers with all their digits, as a user's file would have them.
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------
# Case 6: multi-layer inputs
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A GeoPackage with two layers: ``roads`` (one line, written first) and ``kerbs`` (two lines)."""
    path = tmp_path / "project.gpkg"
    lines_frame(K3, name=["r"]).to_file(path, layer="roads")
    lines_frame(K1, K2, curb_id=["k1", "k2"]).to_file(path, layer="kerbs")
    return path


def test_several_layers_none_named_is_refused_cli(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: the first layer (roads) was planned, silently.
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", project, "-o", out)
    assert_one_error(code, err, "project.gpkg", "2 layers (roads, kerbs)", "project.gpkg:LAYER", "--layer")
    assert not out.exists()


def test_several_layers_none_named_is_refused_api(project: Path) -> None:
    with pytest.raises(InputError, match=r"2 layers \(roads, kerbs\).*project\.gpkg:LAYER") as info:
        parkplan.plan(str(project))
    assert "--layer" not in str(info.value)  # no command-line option to offer in Python
    with pytest.raises(InputError, match="2 layers"):
        parkplan.plan(project)  # a Path is a whole path, no layer in it


@pytest.mark.parametrize("how", ["path", "option", "option_case"])
def test_named_layer_is_read_cli(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    out = tmp_path / "bays.geojson"
    summary = tmp_path / "summary.json"
    given = {
        "path": [f"{project}:kerbs"],
        "option": [project, "--layer", "kerbs"],
        "option_case": [f"{project}:KERBS"],  # GeoPackage layer names are not case-sensitive
    }[how]
    code, _, err = run(capsys, "plan", *given, "-o", out, "--summary", summary, "-q")
    assert code == 0, err
    assert json.loads(summary.read_text())["kerbs"]["input_features"] == 2  # kerbs, not roads


def test_named_layer_is_read_api(project: Path) -> None:
    for given in (f"{project}:kerbs", LayerPath(project, "kerbs")):
        result = parkplan.plan(given)
        assert result.summary["kerbs"]["input_features"] == 2
        assert set(result.kerbs["curb_id"]) == {"k1", "k2"}
    roads = parkplan.plan(LayerPath(project, "roads"))
    assert roads.summary["kerbs"]["input_features"] == 1


def test_missing_layer_is_refused(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "plan", f"{project}:kerb", "-o", tmp_path / "b.geojson")
    assert_one_error(code, err, "no layer 'kerb'", "roads, kerbs")
    with pytest.raises(InputError, match=r"no layer 'kerb'.*roads, kerbs"):
        parkplan.plan(f"{project}:kerb")


def test_layer_option_not_in_the_file_is_refused(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --layer also names the output layer; a multi-layer input without it is still ambiguous.
    code, _, err = run(capsys, "plan", project, "--layer", "bays", "-o", tmp_path / "b.geojson")
    assert_one_error(code, err, "2 layers (roads, kerbs)", "none is 'bays'")


def test_layer_option_is_ignored_for_a_single_layer_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    single = tmp_path / "single.gpkg"
    lines_frame(K1, K2, curb_id=["k1", "k2"]).to_file(single, layer="anything")
    code, _, err = run(capsys, "plan", single, "--layer", "bays", "-o", tmp_path / "b.geojson", "-q")
    assert code == 0, err


def test_empty_first_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Before: the empty first layer was read: "no kerb features: the layer is empty".
    path = tmp_path / "survey.gpkg"
    lines_frame(K3, curb_id=["x"]).iloc[:0].to_file(path, layer="draft")
    lines_frame(K1, K2, curb_id=["k1", "k2"]).to_file(path, layer="kerbs")
    code, _, err = run(capsys, "plan", path, "-o", tmp_path / "b.geojson")
    assert_one_error(code, err, "2 layers (draft, kerbs)")
    code, _, err = run(capsys, "plan", f"{path}:kerbs", "-o", tmp_path / "b.geojson", "-q")
    assert code == 0, err
    assert len(parkplan.plan(f"{path}:kerbs").kerbs) == 2


def test_attribute_table_beside_one_layer_is_no_choice(tmp_path: Path) -> None:
    path = tmp_path / "with_table.gpkg"
    lines_frame(K1, K2, curb_id=["k1", "k2"]).to_file(path, layer="kerbs")
    pyogrio.write_dataframe(pd.DataFrame({"note": ["a table without geometry"]}), path, layer="notes")
    assert len(pyogrio.list_layers(path)) == 2
    assert set(parkplan.plan(str(path)).kerbs["curb_id"]) == {"k1", "k2"}


def test_every_input_takes_a_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Kerbs, hazards (with and without KIND=), --keep and --extent from one GeoPackage, then check's bays."""
    gpkg = tmp_path / "city.gpkg"
    lines_frame(K1, K2, curb_id=["k1", "k2"]).to_file(gpkg, layer="kerbs")
    points = gpd.GeoDataFrame(geometry=[shapely.Point(13.4705, 52.46001)], crs=4326)
    points.to_file(gpkg, layer="hydrants")
    points.assign(kind="driveway").to_file(gpkg, layer="driveways")
    box = gpd.GeoDataFrame(geometry=[shapely.box(13.46, 52.45, 13.48, 52.47)], crs=4326)
    box.to_file(gpkg, layer="extent")
    first = tmp_path / "first.gpkg"
    code, _, err = run(capsys, "plan", f"{gpkg}:kerbs", "-f", f"hydrant={gpkg}:hydrants", "-o", first, "-q")
    assert code == 0, err
    # The plan's bays become a layer of the project file: --keep reads them from there.
    planned = gpd.read_file(first)
    planned.to_file(gpkg, layer="bays")
    out = tmp_path / "bays.geojson"
    zones = tmp_path / "zones.geojson"
    summary = tmp_path / "summary.json"
    code, _, err = run(
        capsys,
        *("plan", f"{gpkg}:kerbs", "-f", f"hydrant={gpkg}:hydrants", "-f", f"{gpkg}:driveways"),
        *("--keep", f"{gpkg}:bays", "--extent", f"{gpkg}:extent", "-o", out, "--zones", zones),
        *("--summary", summary, "-q"),
    )
    assert code == 0, err
    s = json.loads(summary.read_text())
    assert s["hazards"]["by_kind"]["hydrant"]["total"] == 1
    assert s["hazards"]["by_kind"]["driveway"]["total"] == 1
    assert s["keep"]["existing_features"] == len(planned) > 0
    # Hazards without an id are numbered after their layer, not the file: two layers, two names.
    ids = {f["properties"]["hazard_id"] for f in json.loads(zones.read_text())["features"]}
    assert {"hydrants#0", "driveways#0"} <= ids
    # Unnamed, each multi-layer input is refused before planning.
    for args in (
        ("-f", f"hydrant={gpkg}"),
        ("--keep", str(gpkg)),
        ("--extent", str(gpkg)),
    ):
        code, _, err = run(capsys, "plan", f"{gpkg}:kerbs", *args, "-o", tmp_path / "x.geojson")
        assert_one_error(code, err, "5 layers (kerbs, hydrants, driveways, extent, bays)")
    # check: the bays and the kerbs as layers of the project file.
    code, _, err = run(
        capsys, "check", f"{gpkg}:bays", f"{gpkg}:kerbs", "-f", f"hydrant={gpkg}:hydrants", "-q"
    )
    assert code == 0, err
    code, _, err = run(capsys, "check", f"{gpkg}:bays", gpkg, "--layer", "kerbs", "-q")
    assert code == 0, err
    code, _, err = run(capsys, "check", gpkg, f"{gpkg}:kerbs")
    assert_one_error(code, err, "5 layers", "--layer")
    hydrants = HazardSource(f"{gpkg}:hydrants", "hydrant")
    assert len(parkplan.check(f"{gpkg}:bays", LayerPath(gpkg, "kerbs"), hydrants)) == 0


# --------------------------------------------------------------------------------------------------
# Case 7: data across several UTM zones
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def berlin() -> gpd.GeoDataFrame:
    """The Neukölln street areas in longitude / latitude."""
    return gpd.read_file(STREETS).to_crs(4326)


def moved(frame: gpd.GeoDataFrame, dlon: float, dlat: float, name: str) -> gpd.GeoDataFrame:
    out = frame.copy()
    out["geometry"] = frame.geometry.translate(dlon, dlat)
    out["curb_id"] = name
    return out


def two_cities(berlin: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Neukölln, and the same streets in Moscow (24 degrees east)."""
    both = pd.concat([moved(berlin, 0, 0, "berlin"), moved(berlin, 24.15, 3.3, "moscow")], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=4326)


def test_the_bound_is_met_by_the_two_cities_only_in_their_own_zones(berlin: gpd.GeoDataFrame) -> None:
    """What the refusal protects: in one zone the two cities' kerbs are off by more than the bound."""
    both = two_cities(berlin)
    one_zone = both.to_crs(32635).length.to_numpy()  # the zone in the middle, as chosen before
    own = np.array([both.iloc[[0]].to_crs(32633).length.iloc[0], both.iloc[[1]].to_crs(32637).length.iloc[0]])
    assert np.abs(one_zone / own - 1.0).max() > 2 * MAX_SCALE_ERROR


def test_two_cities_are_refused_cli(
    berlin: gpd.GeoDataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: planned in UTM zone 35 (EPSG:32635), lengths 1.0 % off in Berlin, exit 0.
    path = tmp_path / "cities.geojson"
    two_cities(berlin).to_file(path)
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", path, "-o", out)
    assert_one_error(code, err, "cities.geojson", "24.2 degrees of longitude", "UTM zones 33 to 37", "--crs")
    assert not out.exists()
    code, _, err = run(capsys, "check", STREETS, path)
    assert_one_error(code, err, "UTM zones 33 to 37")


def test_two_cities_are_refused_api(berlin: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match=r"UTM zones 33 to 37.*off by up to 1\.0%.*crs="):
        parkplan.plan(two_cities(berlin))
    with pytest.raises(InputError, match="UTM zones 33 to 37"):
        parkplan.check(STREETS, two_cities(berlin))


def test_two_cities_with_a_working_crs(
    berlin: gpd.GeoDataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cities.geojson"
    two_cities(berlin).to_file(path)
    summary = tmp_path / "summary.json"
    out = tmp_path / "bays.gpkg"
    code, _, err = run(capsys, "plan", path, "--crs", "EPSG:32633", "-o", out, "--summary", summary, "-q")
    assert code == 0, err
    assert json.loads(summary.read_text())["crs"] == "EPSG:32633"
    result = parkplan.plan(two_cities(berlin), crs=32633)
    assert result.crs == CRS.from_epsg(32633)
    assert set(result.bays["curb_id"].str.split("/").str[0]) == {"berlin", "moscow"}


def test_one_city_and_a_zone_edge_plan_as_before(berlin: gpd.GeoDataFrame) -> None:
    assert parkplan.plan(moved(berlin, 0, 0, "berlin")).crs == CRS.from_epsg(32633)
    assert parkplan.plan(moved(berlin, 24.15, 3.3, "moscow")).crs == CRS.from_epsg(32637)
    # A district across the edge of zones 32 and 33 (12 degrees east): 0.2 degrees on either side.
    across = pd.concat([moved(berlin, 11.8 - 13.46, 0, "w"), moved(berlin, 12.2 - 13.46, 0, "e")])
    across = gpd.GeoDataFrame(across, geometry="geometry", crs=4326)
    assert utm_crs(across) == across.estimate_utm_crs()
    result = parkplan.plan(across)
    assert result.crs == across.estimate_utm_crs()
    assert len(result.bays) > 0


def test_zone_spread_near_the_bound() -> None:
    """At the equator the bound lets data reach about 1 degree past its zone's edge (12 E), not 1.2."""

    def kerbs_at(*lons: float) -> gpd.GeoDataFrame:
        return lines_frame(*([[lon, 0.001], [lon + 0.001, 0.001]] for lon in lons))

    # 10.999 to 12.801: zone 32 (central meridian 9 E), 0.18 % at 12.8 E.
    assert utm_crs(kerbs_at(10.999, 12.8)).to_epsg() == 32632
    # 10.6 to 13.2: zone 32 again, 0.23 % at 13.2 E.
    with pytest.raises(InputError, match=r"UTM zones 32 to 33.*off by up to 0\.2%"):
        utm_crs(kerbs_at(10.6, 13.2))


def test_projected_metric_data_is_used_as_is(berlin: gpd.GeoDataFrame) -> None:
    assert parkplan.plan(moved(berlin, 0, 0, "berlin").to_crs(25833)).crs == CRS.from_epsg(25833)
    # Moscow in Berlin's zone is 2.4 % long: the file's own CRS does not measure it, nor does one zone.
    both = two_cities(berlin).to_crs(32633)
    with pytest.raises(InputError, match="UTM zones 33 to 37"):
        parkplan.plan(both)


def test_data_in_feet_gets_its_utm_zone() -> None:
    # Two kerbs in Manhattan in New York's state plane (US feet): planned in UTM zone 18N as before.
    feet = lines_frame([[-73.9855, 40.7580], [-73.9845, 40.7580]], [[-73.9855, 40.7583], [-73.9845, 40.7583]])
    assert parkplan.plan(feet.to_crs(2263)).crs == CRS.from_epsg(32618)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("EPSG:4326", "is not a projected CRS"),
        ("EPSG:2263", "is in US survey foot, not metres"),
        ("not-a-crs", "cannot read 'not-a-crs' as a CRS"),
    ],
)
def test_bad_working_crs(
    value: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kerbs = tmp_path / "kerbs.geojson"
    lines_frame(K1, K2).to_file(kerbs)
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", kerbs, "--crs", value, "-o", out)
    assert_one_error(code, err, "--crs:", expected)
    assert not out.exists()
    code, _, err = run(capsys, "check", STREETS, STREETS, "--crs", value)
    assert_one_error(code, err, "--crs:", expected)
    with pytest.raises(InputError, match=f"^crs: .*{expected}"):
        parkplan.plan(kerbs, crs=value)
    with pytest.raises(InputError, match=f"^crs: .*{expected}"):
        parkplan.check(STREETS, STREETS, crs=value)


# --------------------------------------------------------------------------------------------------
# Case 10: kerbs across the antimeridian (Fiji, 16.8 S)
# --------------------------------------------------------------------------------------------------

D = 0.00047  # degrees of longitude: 50 m at 16.8 S
LAT = -16.8


def across(lat: float) -> list[list[float]]:
    """A 100 m kerb from 50 m west of 180 degrees to 50 m east of it."""
    return [[180 - D, lat], [-180 + D, lat]]


def test_kerb_lines_across_the_antimeridian(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kerbs = tmp_path / "fiji.geojson"
    write_features(kerbs, feature(across(LAT), curb_id="a"), feature(across(LAT - 0.0003), curb_id="b"))
    summary = tmp_path / "summary.json"
    code, _, err = run(capsys, "plan", kerbs, "-o", tmp_path / "bays.gpkg", "--summary", summary, "-q")
    assert code == 0, err
    s = json.loads(summary.read_text())
    # The UTM zone at 180 degrees (before: zone 30, at 0 degrees, the middle of -180 and 180).
    assert s["crs"] in ("EPSG:32701", "EPSG:32760")
    result = parkplan.plan(str(kerbs))
    lengths = result.kerbs["length_m"].to_numpy()
    np.testing.assert_allclose(lengths, 100.2, atol=0.5)  # the short way, not round the globe
    projected = parkplan.plan(gpd.read_file(kerbs).to_crs(32760))  # the same kerbs given in metres
    assert len(result.bays) == len(projected.bays) > 0
    centres = shapely.centroid(np.asarray(result.bays.to_crs(32760).geometry.values))
    expected = shapely.centroid(np.asarray(projected.bays.geometry.values))
    assert float(shapely.distance(centres, expected).max()) < 1e-3


def street_area_across(notch: bool) -> shapely.Polygon:
    """A 100 m x 40 m street area across 180 degrees; with a notch (a kerb recess) just west of it."""
    south, north = LAT, LAT + 0.00036
    if not notch:
        return shapely.Polygon([[180 - D, south], [-180 + D, south], [-180 + D, north], [180 - D, north]])
    return shapely.Polygon(
        [
            [180 - D, south],
            [-180 + D, south],
            [-180 + D, north],
            [-179.99995, north],
            [-179.99995, north - 0.00006],
            [179.99995, north - 0.00006],
            [179.99995, north],
            [180 - D, north],
        ]
    )


def test_street_area_across_the_antimeridian() -> None:
    # Before: taken the long way round, the notched area is not a valid polygon; its "repair" gave
    # 472.9 m of kerb instead of 293.6 m, and a warning.
    area = street_area_across(notch=True)
    assert not area.is_valid  # as longitude / latitude in the plane
    frame = gpd.GeoDataFrame({"curb_id": ["s"]}, geometry=[area], crs=4326)
    result = parkplan.plan(frame)
    projected = parkplan.plan(frame.to_crs(32760))
    assert result.summary["kerbs"]["length_m"] == pytest.approx(
        projected.summary["kerbs"]["length_m"], abs=0.01
    )
    assert result.summary["kerbs"]["count"] == projected.summary["kerbs"]["count"]
    assert not result.summary["warnings"]


def test_street_area_split_at_the_antimeridian() -> None:
    """RFC 7946 splits a polygon across 180 into two parts: the cut is no kerb."""
    # Before: the cut was kerb on both sides: 8 kerbs, 360.1 m instead of 4 and 280.3 m.
    whole = street_area_across(notch=False)
    south, north = LAT, LAT + 0.00036
    west = shapely.box(180 - D, south, 180, north)
    east = shapely.box(-180, south, -180 + D, north)
    split = gpd.GeoDataFrame({"curb_id": ["s"]}, geometry=[shapely.MultiPolygon([west, east])], crs=4326)
    result = parkplan.plan(split)
    one = parkplan.plan(gpd.GeoDataFrame({"curb_id": ["s"]}, geometry=[whole], crs=4326))
    assert result.summary["kerbs"]["count"] == one.summary["kerbs"]["count"] == 4
    assert result.summary["kerbs"]["length_m"] == pytest.approx(one.summary["kerbs"]["length_m"], abs=0.01)
    # A kerb line split there is one kerb again.
    line = shapely.MultiLineString([[[180 - D, LAT], [180, LAT]], [[-180, LAT], [-180 + D, LAT]]])
    kerbs, _ = read_kerbs(gpd.GeoDataFrame({"curb_id": ["l"]}, geometry=[line], crs=4326))
    assert kerbs.geometry.iloc[0].geom_type == "LineString"


def test_data_on_both_sides_of_the_antimeridian() -> None:
    """Kerbs on either side (none across) are planned in the zone at 180, not refused as 360 degrees."""
    frame = lines_frame(
        [[179.9990, LAT], [179.9995, LAT]], [[-179.9995, LAT], [-179.9990, LAT]], curb_id=["w", "e"]
    )
    assert utm_crs(frame).to_epsg() in (32701, 32760)
    result = parkplan.plan(frame)
    np.testing.assert_allclose(result.kerbs["length_m"], 53.3, atol=0.5)


# --------------------------------------------------------------------------------------------------
# Case 10: integer ids beyond float precision
# --------------------------------------------------------------------------------------------------

ID_CASES = {
    # Before: every one of these gave the two kerbs one id (then row numbers, or a duplicate error).
    "id_property_20_digits": [feature(K1, id=BIG[0]), feature(K2, id=BIG[1])],
    "curb_id_20_digits": [feature(K1, curb_id=BIG[0]), feature(K2, curb_id=BIG[1])],
    "feature_id_20_digits": [feature(K1, BIG[0]), feature(K2, BIG[1])],
    "id_19_digits_and_an_empty_one": [
        feature(K1, id=INT64[0]),
        feature(K2, id=INT64[1]),
        feature(K3, id=None),
    ],
    "id_19_and_20_digits": [feature(K1, id=INT64[0]), feature(K2, id=BIG[1])],
    "negative_20_digits": [feature(K1, id=-BIG[0]), feature(K2, id=-BIG[1])],
}


@pytest.mark.parametrize("case", sorted(ID_CASES))
def test_large_integer_ids_stay_distinct(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    features = ID_CASES[case]
    path = write_features(tmp_path / "kerbs.geojson", *features)
    expected = []
    for f in features:
        value = f["properties"].get("curb_id", f["properties"].get("id", f.get("id")))
        expected.append(str(value) if value is not None else None)
    result = parkplan.plan(str(path))
    ids = result.kerbs.sort_values("input_index")["curb_id"].tolist()
    assert ids[:2] == expected[:2]
    assert len(set(ids)) == len(ids)
    assert set(result.bays["curb_id"]) <= set(ids)
    assert {b.split("#")[0] for b in result.bays["bay_id"]} == set(result.bays["curb_id"])
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", path, "-o", out, "-q")
    assert code == 0, err
    written = {f["properties"]["curb_id"] for f in json.loads(out.read_text())["features"]}
    assert {expected[0], expected[1]} <= written  # the digits, as text


def test_large_hazard_ids(tmp_path: Path) -> None:
    kerbs = write_features(tmp_path / "kerbs.geojson", feature(K1, curb_id="k1"))
    hazards = tmp_path / "hydrants.geojson"
    points = [
        {"type": "Feature", "properties": {"hazard_id": h}, "geometry": {"type": "Point", "coordinates": c}}
        for h, c in zip(BIG, ([13.4703, 52.46001], [13.4707, 52.46001]), strict=True)
    ]
    hazards.write_text(json.dumps({"type": "FeatureCollection", "features": points}), encoding="utf-8")
    zones = parkplan.plan(str(kerbs), HazardSource(str(hazards), "hydrant")).zones
    assert {str(b) for b in BIG} <= set(zones["hazard_id"])


def test_large_ids_in_a_geopackage_column_with_an_empty_value(tmp_path: Path) -> None:
    # pandas reads a 64-bit integer column with an empty value as floats: the ids are read again exactly.
    path = tmp_path / "kerbs.gpkg"
    ids = pd.array([INT64[0], INT64[1], None], dtype="Int64")
    lines_frame(K1, K2, K3, osm_id=ids).to_file(path)
    assert gpd.read_file(path)["osm_id"].dtype == np.float64  # what GeoPandas gives
    result = parkplan.plan(str(path))
    assert result.kerbs.sort_values("input_index")["curb_id"].tolist() == [str(INT64[0]), str(INT64[1]), "2"]


def test_ids_in_a_geojson_sequence(tmp_path: Path) -> None:
    path = tmp_path / "kerbs.geojsonl"
    path.write_text(
        "\n".join(json.dumps(feature(c, id=i)) for c, i in zip((K1, K2), BIG, strict=True)) + "\n"
    )
    result = parkplan.plan(str(path))
    assert sorted(result.kerbs["curb_id"]) == [str(b) for b in BIG]


def test_integral_float_ids_are_integer_text(tmp_path: Path) -> None:
    # A column of small integers with an empty value is read as floats: its ids are 5 and 7, not 5.0.
    path = write_features(
        tmp_path / "kerbs.geojson", feature(K1, id=5), feature(K2, id=None), feature(K3, id=7)
    )
    ids = parkplan.plan(str(path)).kerbs.sort_values("input_index")["curb_id"].tolist()
    assert ids == ["5", "1", "7"]


def test_large_bay_ids_in_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two overlapping bays with 20-digit ids: each violation names the other exactly."""
    kerbs = write_features(tmp_path / "kerbs.geojson", feature(K1, curb_id="k1"))
    bay = [
        [13.4702, 52.46001],
        [13.4703, 52.46001],
        [13.4703, 52.46003],
        [13.4702, 52.46003],
        [13.4702, 52.46001],
    ]
    shifted = [[x + 0.00003, y] for x, y in bay]
    bays = tmp_path / "bays.geojson"
    bays.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"bay_id": b},
                        "geometry": {"type": "Polygon", "coordinates": [r]},
                    }
                    for b, r in zip(BIG, (bay, shifted), strict=True)
                ],
            }
        ),
        encoding="utf-8",
    )
    found = parkplan.check(str(bays), str(kerbs))
    overlap = found[found["check"] == "overlap"]
    assert sorted(overlap["bay_id"]) == [str(b) for b in BIG]
    assert f"overlaps bay {BIG[1]}" in " ".join(overlap["detail"])


def test_web_mercator_is_not_measured_in(berlin: gpd.GeoDataFrame, caplog: pytest.LogCaptureFixture) -> None:
    """A projected CRS in metres that stretches lengths (Web Mercator: 64 % at 52 N) is not planned in.

    Before: the Neukölln kerbs in EPSG:3857 were planned in EPSG:3857 (the whole kerb layer: 567 bays
    on 11.3 km of kerb, against 61 on 6.9 km in UTM).
    """
    mercator = berlin.to_crs(3857)
    with caplog.at_level("WARNING", logger="parkplan"):
        result = parkplan.plan(mercator, rules="de-parkraum")
    assert result.crs == CRS.from_epsg(32633)
    assert "stretches lengths by up to 64." in caplog.text
    reference = parkplan.plan(berlin.to_crs(25833), rules="de-parkraum")
    assert result.summary["kerbs"]["length_m"] == pytest.approx(
        reference.summary["kerbs"]["length_m"], rel=1e-3
    )
    assert len(result.bays) == len(reference.bays)
    # Given as the working CRS on purpose, it is used, with the warning.
    caplog.clear()
    with caplog.at_level("WARNING", logger="parkplan"):
        forced = parkplan.plan(berlin, rules="de-parkraum", crs=3857)
    assert forced.crs == CRS.from_epsg(3857)
    assert "measured that much off" in caplog.text
