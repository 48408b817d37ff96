"""Hostile input on the command line: one error line, exit code 2, no traceback, no output file.

Every case builds its input in ``tmp_path`` (raw text where the JSON itself is broken) and runs the CLI
in-process through :func:`parkplan.cli.main`; a few run as a subprocess to prove that nothing else (a
traceback, a GDAL or NumPy warning) reaches standard error.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

from cli_run import assert_one_error, run
from parkplan.errors import InputError, RulesError
from parkplan.io.read import HazardSource, read_kerbs
from parkplan.rules.loading import load_rules

DATA = Path(__file__).parent / "data" / "neukoelln_small"

# Two parallel kerbs in Berlin (EPSG:4326), about 68 m long and 33 m apart.
K1 = [[13.4700, 52.4600], [13.4710, 52.4600]]
K2 = [[13.4700, 52.4603], [13.4710, 52.4603]]
POINT_NEAR_K1 = [13.4705, 52.46001]


def feature(geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def line(coords: list[list[float]]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": coords}


def point(coords: list[float]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": coords}


def collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def good_kerbs() -> str:
    return collection(feature(line(K1), curb_id="k1"), feature(line(K2), curb_id="k2"))


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def leftovers(folder: Path) -> list[str]:
    """Temporary files the atomic writer might have left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or ".tmp" in p.name)


# --- kerb files --------------------------------------------------------------------------------------

BAD_KERBS: dict[str, tuple[str | bytes, tuple[str, ...]]] = {
    # name: (file text, strings the error line must contain besides the file name)
    "invalid_json": (
        '{"type": "FeatureCollection", "features": [\n  {"type": "Feature",,}',
        ("JSON", "line 2"),
    ),
    "truncated_json": (good_kerbs()[:60], ("JSON",)),
    "empty_file": ("", ("empty",)),
    "not_utf8": (b'{"type": "FeatureCollection", "features": [\xff\xfe]}', ("UTF-8",)),
    "not_geojson": ("[1, 2, 3]", ("GeoJSON",)),
    "null_geometry": (
        collection(feature(line(K1), curb_id="k1"), feature(None, curb_id="k2")),
        ("k2", "null"),
    ),
    "point_as_kerb": (
        collection(feature(line(K1), curb_id="k1"), feature(point(POINT_NEAR_K1), curb_id="k2")),
        ("k2", "Point"),
    ),
    "unknown_geometry_type": (
        collection(
            feature(line(K1), curb_id="k1"), feature({"type": "Circle", "coordinates": K1[0]}, curb_id="k2")
        ),
        ("k2", "Circle"),
    ),
    "coordinates_not_arrays": (
        collection(feature({"type": "LineString", "coordinates": "abc"}, curb_id="k1")),
        ("k1",),
    ),
    "one_point_line": (collection(feature(line([K1[0]]), curb_id="k1")), ("k1", "2 positions")),
    "unclosed_ring": (
        collection(
            feature(
                {"type": "Polygon", "coordinates": [[[13.47, 52.46], [13.471, 52.46], [13.471, 52.461]]]},
                curb_id="k1",
            )
        ),
        ("k1",),
    ),
    "zero_length": (
        collection(feature(line(K1), curb_id="k1"), feature(line([K2[0], K2[0]]), curb_id="k2")),
        ("k2", "zero-length"),
    ),
    "zero_length_no_id": (
        collection(feature(line(K1)), feature(line([K2[0], K2[0]]))),
        ("#1", "zero-length"),
    ),
    "zero_length_multiline": (
        collection(feature({"type": "MultiLineString", "coordinates": [[K1[0], K1[0]]]}, curb_id="k1")),
        ("k1", "zero-length"),
    ),
    "nan_coordinate": (
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"curb_id": "k1"}, "geometry": '
        '{"type": "LineString", "coordinates": [[13.47, 52.46], [13.471, 52.46]]}},'
        '{"type": "Feature", "properties": {"curb_id": "k2"}, "geometry": '
        '{"type": "LineString", "coordinates": [[13.47, 52.4603], [NaN, 52.4603]]}}]}',
        ("k2", "NaN"),
    ),
    "infinite_coordinate": (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"curb_id": "k1"}, '
        '"geometry": {"type": "LineString", "coordinates": [[13.47, 52.46], [1e999, 52.46]]}}]}',
        ("k1", "infinite"),
    ),
    # Latitude first: (39.9, 116.4) is Beijing swapped; 116.4 is no latitude.
    "swapped_lat_lon": (
        collection(
            feature(line([[116.400, 39.900], [116.401, 39.900]]), curb_id="k1"),
            feature(line([[39.900, 116.400], [39.900, 116.401]]), curb_id="k2"),
        ),
        ("k2", "swapped"),
    ),
    "projected_coordinates_as_lon_lat": (
        collection(feature(line([[396306.0, 5813696.0], [396356.0, 5813696.0]]), curb_id="k1")),
        ("k1", "projected"),
    ),
    # No UTM zone beyond 84 N: no metric working CRS can be chosen.
    "near_the_pole": (collection(feature(line([[10.0, 89.5], [10.1, 89.5]]), curb_id="k1")), ("UTM",)),
    "negative_width": (collection(feature(line(K1), curb_id="k1", width_m=-3.5)), ("k1", "width_m", "-3.5")),
    "text_width": (collection(feature(line(K1), curb_id="k1", width_m="wide")), ("k1", "width_m")),
    "bad_side": (collection(feature(line(K1), curb_id="k1", side="up")), ("k1", "side")),
    "duplicate_curb_id": (
        collection(feature(line(K1), curb_id="k1"), feature(line(K2), curb_id="k1")),
        ("'k1'", "#1"),
    ),
    "no_features": (collection(), ("no kerb",)),
    "polygon_beyond_repair": (
        collection(
            feature(
                {"type": "Polygon", "coordinates": [[K1[0], K1[1], [13.4720, 52.46], K1[0]]]},
                curb_id="k1",
            )
        ),
        ("k1", "cannot be repaired"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_KERBS))
def test_bad_kerbs_file(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, expected = BAD_KERBS[case]
    kerbs = write(tmp_path / f"{case}.geojson", text)
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", kerbs, "-o", out)
    assert_one_error(code, err, str(kerbs), *expected)
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_read_kerbs_rejects_zero_length_frame() -> None:
    gdf = gpd.GeoDataFrame(
        {"curb_id": ["a", "b"]},
        geometry=[shapely.LineString(K1), shapely.LineString([K1[0], K1[0]])],
        crs=4326,
    )
    with pytest.raises(InputError, match="zero-length") as info:
        read_kerbs(gdf)
    assert info.value.feature == "curb_id=b"


def test_nan_elevation_is_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Z is not used: a NaN elevation must neither fail nor poison the plan."""
    text = collection(feature(line([[*K1[0], 30.0], [*K1[1], 31.0]]), curb_id="k1")).replace("31.0", "NaN")
    kerbs = write(tmp_path / "z.geojson", text)
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", kerbs, "-o", out, "-q")
    assert code == 0, err
    assert len(json.loads(out.read_text())["features"]) > 0


# --- hazards -----------------------------------------------------------------------------------------


def test_unknown_hazard_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    hazards = write(
        tmp_path / "hazards.geojson",
        collection(
            feature(point(POINT_NEAR_K1), id="h1", kind="hydrant"),
            feature(point(POINT_NEAR_K1), id="h2", kind="unicorn"),
        ),
    )
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", kerbs, "-f", hazards, "-o", out)
    assert_one_error(code, err, str(hazards), "h2", "unicorn", "[clearances.unicorn]")
    assert not out.exists()


def test_unknown_kind_given_on_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    hazards = write(tmp_path / "signs.geojson", collection(feature(point(POINT_NEAR_K1))))
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", kerbs, "-f", f"unicorn={hazards}", "-o", out)
    assert_one_error(code, err, str(hazards), "#0", "unicorn")
    assert not out.exists()


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"id": "h1", "kind": "hydrant", "width_m": -1.5}, ("h1", "width_m", "-1.5")),
        ({"id": "h1"}, ("'kind'", "KIND=PATH")),
        ({"id": "h1", "kind": None}, ("'kind'",)),
    ],
    ids=["negative_width", "no_kind_column", "null_kind"],
)
def test_bad_hazard_properties(
    props: dict[str, Any], expected: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    features = [
        feature(point(POINT_NEAR_K1), id="h0", kind="hydrant"),
        feature(point(POINT_NEAR_K1), **props),
    ]
    if "kind" not in props:
        features = features[1:]
    hazards = write(tmp_path / "hazards.geojson", collection(*features))
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", kerbs, "-f", hazards, "-o", out)
    assert_one_error(code, err, str(hazards), *expected)
    assert not out.exists()


def test_bad_hazard_geometry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    hazards = write(
        tmp_path / "hazards.geojson",
        collection(feature(point(POINT_NEAR_K1), id="h1"), feature(point([52.46, 213.47]), id="h2")),
    )
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", kerbs, "-f", f"hydrant={hazards}", "-o", out)
    assert_one_error(code, err, str(hazards), "h2")
    assert not out.exists()


# --- missing files and bad paths ---------------------------------------------------------------------


@pytest.mark.parametrize("which", ["kerbs", "hazards", "kind_hazards", "extent", "rules"])
def test_missing_input_file(which: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    missing = tmp_path / "nowhere" / "missing.geojson"
    out = tmp_path / "bays.geojson"
    args: list[object] = ["plan", kerbs, "-o", out]
    if which == "kerbs":
        args[1] = missing
    elif which == "hazards":
        args += ["-f", missing]
    elif which == "kind_hazards":
        args += ["-f", f"hydrant={missing}"]
    elif which == "extent":
        args += ["--extent", missing]
    else:
        missing = missing.with_suffix(".toml")
        args += ["--rules", missing]
    code, _, err = run(capsys, *args)
    assert_one_error(code, err, str(missing), "not found")
    assert not out.exists()


def test_unknown_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", kerbs, "--rules", "atlantis", "-o", out)
    assert_one_error(code, err, "atlantis", "cn", "de-parkraum")
    assert not out.exists()


@pytest.mark.parametrize("option", ["-o", "--zones", "--kerbs", "--summary"])
def test_missing_output_folder(option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing folder for ANY output is found before planning, so no other output is written."""
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    bad = tmp_path / "no_such_folder" / ("summary.json" if option == "--summary" else "layer.geojson")
    outputs = {
        "-o": tmp_path / "bays.geojson",
        "--zones": tmp_path / "zones.geojson",
        "--kerbs": tmp_path / "kerbs_out.geojson",
        "--summary": tmp_path / "summary.json",
    }
    outputs[option] = bad
    args: list[object] = ["plan", kerbs]
    for opt, path in outputs.items():
        args += [opt, path]
    code, _, err = run(capsys, *args)
    assert_one_error(code, err, str(bad), "does not exist")
    for path in outputs.values():
        assert not path.exists()
    assert not bad.parent.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [("bays.xyz", "extension"), ("bays", "extension"), ("bays.shp", "Shapefile"), (".", "folder")],
)
def test_unusable_output_path(
    name: str,
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "kerbs.geojson", good_kerbs())
    code, _, err = run(capsys, "plan", "kerbs.geojson", "-o", name)
    assert_one_error(code, err, name, expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kerbs.geojson"]


def test_output_over_input_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    before = kerbs.read_bytes()
    code, _, err = run(capsys, "plan", kerbs, "-o", kerbs)
    assert_one_error(code, err, str(kerbs), "overwrite an input")
    assert kerbs.read_bytes() == before


def test_same_file_for_two_outputs_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    out = tmp_path / "out.geojson"
    code, _, err = run(capsys, "plan", kerbs, "-o", out, "--zones", out)
    assert_one_error(code, err, str(out), "bays", "zones")
    assert not out.exists()


# --- existing outputs stay as they were --------------------------------------------------------------


@pytest.mark.parametrize("failure", ["bad_kerbs", "unknown_kind", "zones_folder_missing"])
def test_existing_output_unchanged_on_error(
    failure: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    out = write(tmp_path / "bays.geojson", '{"old": "bays"}\n')
    summary = write(tmp_path / "summary.json", '{"old": "summary"}\n')
    args: list[object] = ["plan", kerbs, "-o", out, "--summary", summary]
    if failure == "bad_kerbs":
        write(kerbs, "{ not json")
    elif failure == "unknown_kind":
        hazards = write(tmp_path / "h.geojson", collection(feature(point(POINT_NEAR_K1), kind="unicorn")))
        args += ["-f", hazards]
    else:
        args += ["--zones", tmp_path / "missing" / "zones.geojson"]
    code, _, err = run(capsys, *args)
    assert_one_error(code, err)
    assert out.read_text() == '{"old": "bays"}\n'
    assert summary.read_text() == '{"old": "summary"}\n'
    assert leftovers(tmp_path) == []


def test_failure_while_writing_leaves_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """All outputs are written together: a failure on the last one leaves every target untouched."""
    import parkplan.io.write
    from parkplan.errors import OutputError

    def broken(data: object, tmp: Path) -> None:
        raise OutputError("disk full", source=str(tmp))

    monkeypatch.setattr(parkplan.io.write, "dump_json", broken)
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    out = write(tmp_path / "bays.geojson", "old\n")
    zones = tmp_path / "zones.geojson"
    code, _, err = run(capsys, "plan", kerbs, "-o", out, "--zones", zones, "--summary", tmp_path / "s.json")
    assert_one_error(code, err, "disk full")
    assert out.read_text() == "old\n"
    assert not zones.exists()
    assert not (tmp_path / "s.json").exists()
    assert leftovers(tmp_path) == []


# --- malformed rules files ---------------------------------------------------------------------------

BAD_RULES: dict[str, tuple[str | bytes, tuple[str, ...]]] = {
    "bad_toml": ("[bays.car\nlength_m = 5.2\n", ("TOML", "line 1")),
    "not_utf8": (b"[bays.car]\nlength_m = \xff\n", ("TOML",)),
    "negative_length": ("[bays.car]\nlength_m = -5.2\nwidth_m = 2.0\n", ("[bays.car]", "length_m", "-5.2")),
    "zero_width": ("[bays.car]\nlength_m = 5.2\nwidth_m = 0\n", ("[bays.car]", "width_m")),
    "text_length": ("[bays.car]\nlength_m = 'long'\nwidth_m = 2.0\n", ("length_m", "'long'")),
    "unknown_bay_key": (
        "[bays.car]\nlength_m = 5.2\nwidth_m = 2.0\ncolour = 'red'\n",
        ("[bays.car]", "colour"),
    ),
    "unknown_top_key": ("speed = 30\n[bays.car]\nlength_m = 5.2\nwidth_m = 2.0\n", ("speed",)),
    "no_bays_table": ("name = 'empty'\ntraffic = 'right'\n", ("[bays.NAME]",)),
    "bay_not_a_table": ("[bays]\ncar = 5.2\n", ("[bays.car]", "table")),
    "bad_orientation": (
        "[bays.car]\norientation = 'diagonal'\nlength_m = 5.2\nwidth_m = 2.0\n",
        ("diagonal",),
    ),
    "negative_clearance": (
        "[bays.car]\nlength_m = 5.2\nwidth_m = 2.0\n[clearances.hydrant]\nbefore_m = -5\n",
        ("[clearances.hydrant]", "before_m"),
    ),
    "bad_traffic": ("traffic = 'middle'\n[bays.car]\nlength_m = 5.2\nwidth_m = 2.0\n", ("traffic", "middle")),
    "infinite_length": ("[bays.car]\nlength_m = inf\nwidth_m = 2.0\n", ("length_m", "finite")),
    # These used to pass validation and crash the solver with an OverflowError traceback.
    "huge_length": ("[bays.car]\nlength_m = 1e308\nwidth_m = 2.0\n", ("length_m", "at most")),
    "huge_weight": ("[bays.car]\nlength_m = 5.2\nwidth_m = 2.0\nweight = 1e308\n", ("weight", "at most")),
    "huge_run": (
        "[bays.car]\nlength_m = 5.2\nwidth_m = 2.0\n[grouping]\nmax_run_m = 1e308\ngap_m = 1.0\n",
        ("max_run_m", "at most"),
    ),
    "missing_parent": ("extends = 'gone.toml'\n", ("gone.toml", "not found")),
}


@pytest.mark.parametrize("case", list(BAD_RULES))
def test_malformed_rules_file(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, expected = BAD_RULES[case]
    rules = write(tmp_path / f"{case}.toml", text)
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", kerbs, "--rules", rules, "-o", out)
    shown = str(tmp_path / "gone.toml") if case == "missing_parent" else str(rules)
    assert_one_error(code, err, shown, *expected)
    assert not out.exists()
    code, _, err = run(capsys, "rules", "show", rules)
    assert_one_error(code, err, *expected)


def test_rules_bays_not_a_table_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = write(tmp_path / "flat.toml", "bays = 3\n")
    code, _, err = run(capsys, "rules", "show", rules)
    assert_one_error(code, err, str(rules), "bays")


@pytest.mark.parametrize("dims", ["length_m = 0.0004\nwidth_m = 2.0", "length_m = 5.0\nwidth_m = 1e-9"])
def test_rules_reject_sub_millimetre_bays(dims: str, tmp_path: Path) -> None:
    orientation = "perpendicular" if "1e-9" in dims else "parallel"
    rules = write(tmp_path / "tiny.toml", f"[bays.car]\norientation = '{orientation}'\n{dims}\n")
    with pytest.raises(RulesError):
        load_rules(rules)


# --- command-line usage ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["plan"], "required"),
        (["plan", "k.geojson", "-o", "b.geojson", "--time-limit", "-3"], "--time-limit"),
        (["plan", "k.geojson", "-o", "b.geojson", "--time-limit", "nan"], "--time-limit"),
        (["plan", "k.geojson", "-o", "b.geojson", "--bogus"], "--bogus"),
        (["frobnicate"], "frobnicate"),
        (["plan", "k.geojson", "-f", "hydrant=", "-o", "b.geojson"], "hydrant="),
    ],
)
def test_usage_errors_are_one_line(
    args: list[str],
    expected: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "k.geojson", good_kerbs())
    code, _, err = run(capsys, *args)
    assert_one_error(code, err, expected)
    assert not (tmp_path / "b.geojson").exists()


def test_help_and_version_return_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("parkplan ")
    code, out, _ = run(capsys, "plan", "--help")
    assert code == 0
    assert "KIND=" in out


# --- KIND=PATH parsing -------------------------------------------------------------------------------


def test_kind_path_splits_at_first_equals(tmp_path: Path) -> None:
    odd = tmp_path / "a=b"
    odd.mkdir()
    target = write(odd / "x=y.geojson", collection(feature(point(POINT_NEAR_K1))))
    parsed = HazardSource.parse(f"hydrant={target}")
    assert parsed.kind == "hydrant"
    assert Path(str(parsed.data)) == target
    assert HazardSource.parse(str(target)) == HazardSource(str(target))  # no kind-like prefix
    assert HazardSource.parse("crossing=c.geojson") == HazardSource("c.geojson", "crossing")


def test_path_with_equals_sign_is_still_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`-f hydrants=2024.geojson`: when 'hydrants=2024.geojson' is the file, it is the path."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "hydrants=2024.geojson", collection(feature(point(POINT_NEAR_K1), kind="hydrant")))
    assert HazardSource.parse("hydrants=2024.geojson") == HazardSource("hydrants=2024.geojson")


def test_several_hazard_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    odd = tmp_path / "x=y"
    odd.mkdir()
    hydrants = write(odd / "h=1.geojson", collection(feature(point(POINT_NEAR_K1), id="h1")))
    mixed = write(
        tmp_path / "mixed.geojson", collection(feature(point([13.4708, 52.46001]), id="d1", kind="driveway"))
    )
    out, summary = tmp_path / "bays.geojson", tmp_path / "summary.json"
    code, _, err = run(
        capsys, "plan", kerbs, "-f", f"hydrant={hydrants}", "-f", mixed, "-o", out, "--summary", summary, "-q"
    )
    assert code == 0, err
    by_kind = json.loads(summary.read_text())["hazards"]["by_kind"]
    assert by_kind["hydrant"]["total"] == 1
    assert by_kind["driveway"]["total"] == 1


# --- recoverable input: warning and a correct result -------------------------------------------------


def _street_area_text(geom: shapely.Geometry) -> str:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}},
            "features": [
                {
                    "type": "Feature",
                    "properties": {"area_id": "s1"},
                    "geometry": json.loads(shapely.to_geojson(geom)),
                }
            ],
        }
    )


def test_self_intersecting_street_area_is_repaired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A 120 m x 12 m street area whose ring crosses itself near one end (a small bow-tie).
    x0, y0 = 396000.0, 5813000.0
    ring = [
        (x0, y0),
        (x0 + 120, y0),
        (x0 + 120, y0 + 12),
        (x0 + 2, y0 + 12),
        (x0 + 4, y0 - 1),  # crosses the bottom edge: self-intersection
        (x0, y0 + 12),
        (x0, y0),
    ]
    bad = shapely.Polygon(ring)
    assert not bad.is_valid
    repaired = shapely.union_all(
        [p for p in shapely.get_parts(shapely.make_valid(bad)) if p.geom_type in ("Polygon", "MultiPolygon")]
    )
    kerbs_bad = write(tmp_path / "bad.geojson", _street_area_text(bad))
    kerbs_ok = write(tmp_path / "ok.geojson", _street_area_text(repaired))

    out_bad, out_ok = tmp_path / "bays_bad.geojson", tmp_path / "bays_ok.geojson"
    code, _, err = run(capsys, "plan", kerbs_bad, "--rules", "de-parkraum", "-o", out_bad)
    assert code == 0, err
    warnings = err.splitlines()
    assert len(warnings) == 1, err
    assert warnings[0].startswith("parkplan: warning:")
    assert str(kerbs_bad) in warnings[0]
    assert "#0" in warnings[0] or "s1" in warnings[0]
    assert "make_valid" in warnings[0]

    code, _, err = run(capsys, "plan", kerbs_ok, "--rules", "de-parkraum", "-o", out_ok)
    assert code == 0, err
    assert err == ""
    got = json.loads(out_bad.read_text())["features"]
    want = json.loads(out_ok.read_text())["features"]
    assert len(got) > 10
    assert got == want
    bays = gpd.read_file(out_bad).to_crs(25833)
    assert bays.within(repaired.buffer(0.05)).all()


def test_self_intersecting_hazard_polygon_is_repaired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    # A bow-tie no-parking polygon over the middle of kerb k1.
    bowtie = [
        [13.4703, 52.45998],
        [13.4707, 52.46002],
        [13.4707, 52.45998],
        [13.4703, 52.46002],
        [13.4703, 52.45998],
    ]
    hazards = write(
        tmp_path / "np.geojson",
        collection(feature({"type": "Polygon", "coordinates": [bowtie]}, id="np1", kind="no_parking")),
    )
    out, zones = tmp_path / "bays.geojson", tmp_path / "zones.geojson"
    code, _, err = run(capsys, "plan", kerbs, "-f", hazards, "-o", out, "--zones", zones)
    assert code == 0, err
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("parkplan: warning:")
    assert str(hazards) in lines[0]
    assert "np1" in lines[0]
    kinds = {f["properties"]["kind"] for f in json.loads(zones.read_text())["features"]}
    assert "no_parking" in kinds


# --- subprocess: nothing but the one line reaches stderr ---------------------------------------------


@pytest.mark.parametrize("case", ["nan_coordinate", "unclosed_ring", "unknown_geometry_type", "invalid_json"])
def test_subprocess_prints_one_line_and_no_traceback(case: str, tmp_path: Path) -> None:
    text, expected = BAD_KERBS[case]
    kerbs = write(tmp_path / f"{case}.geojson", text)
    out = tmp_path / "bays.geojson"
    proc = subprocess.run(
        [sys.executable, "-m", "parkplan.cli", "plan", str(kerbs), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in proc.stderr
    assert "Warning" not in proc.stderr
    assert_one_error(proc.returncode, proc.stderr, str(kerbs), *expected)
    assert proc.stdout == ""
    assert not out.exists()


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is not None, reason="pyarrow is installed")
def test_parquet_without_pyarrow_fails_before_planning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kerbs = write(tmp_path / "kerbs.geojson", good_kerbs())
    out = tmp_path / "bays.parquet"
    code, _, err = run(capsys, "plan", kerbs, "-o", out)
    assert_one_error(code, err, str(out), "pyarrow")
    assert not out.exists()


def test_extent_missing_the_kerbs_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    far = {"type": "Polygon", "coordinates": [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0.01], [0, 0]]]}
    extent = write(tmp_path / "extent.geojson", collection(feature(far)))
    out = tmp_path / "bays.geojson"
    code, _, err = run(capsys, "plan", DATA / "street_areas.geojson", "--extent", extent, "-o", out, "-q")
    assert code == 0
    assert err == ""
    code, _, err = run(capsys, "plan", DATA / "street_areas.geojson", "--extent", extent, "-o", out)
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("parkplan: warning:")
    assert str(extent) in lines[0]
    assert json.loads(out.read_text())["features"] == []


def test_rules_aliases_must_be_strings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = write(
        tmp_path / "alias.toml",
        "[bays.car]\nlength_m = 5.0\nwidth_m = 2.0\n[kinds.hydrant]\naliases = 5\n",
    )
    code, _, err = run(capsys, "rules", "show", rules)
    assert_one_error(code, err, str(rules), "aliases")


def test_extending_rules_take_their_own_name(tmp_path: Path) -> None:
    child = write(
        tmp_path / "my_city.toml", 'extends = "de-parkraum"\n[clearances.hydrant]\nbefore_m = 5.0\n'
    )
    assert load_rules(child).name == "my_city"
    assert load_rules({"extends": "cn"}).name != "cn"
