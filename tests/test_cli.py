"""End-to-end command line on the real Neukölln fixture (tests/data/neukoelln_small)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

from parkplan.cli import main

DATA = Path(__file__).parent / "data" / "neukoelln_small"
STREETS = DATA / "street_areas.geojson"
CROSSINGS = DATA / "crossings.geojson"
DRIVEWAYS = DATA / "driveways.geojson"
EXTENT = DATA / "extent.geojson"


def plan_args(out_dir: Path, *extra: object, hazards: tuple[str, ...] | None = None) -> list[str]:
    if hazards is None:
        hazards = (f"crossing={CROSSINGS}", f"driveway={DRIVEWAYS}")
    args: list[object] = ["plan", STREETS, "--rules", "de-parkraum", "--extent", EXTENT]
    for h in hazards:
        args += ["-f", h]
    args += ["-o", out_dir / "bays.geojson", *extra]
    return [str(a) for a in args]


@pytest.fixture(scope="module")
def run_all(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One full run writing bays, zones, kerbs and summary."""
    out = tmp_path_factory.mktemp("cli")
    code = main(
        plan_args(
            out,
            "--zones",
            out / "zones.geojson",
            "--kerbs",
            out / "kerbs.geojson",
            "--summary",
            out / "summary.json",
            "-q",
        )
    )
    assert code == 0
    return {
        "dir": out,
        "bays": (out / "bays.geojson").read_bytes(),
        "zones": json.loads((out / "zones.geojson").read_text()),
        "kerbs": json.loads((out / "kerbs.geojson").read_text()),
        "summary": json.loads((out / "summary.json").read_text()),
    }


def test_summary_keys(run_all: dict[str, Any]) -> None:
    s = run_all["summary"]
    assert s["rules"] == "de-parkraum"
    assert s["bays"]["total"] > 0
    assert sum(s["bays"]["by_type"].values()) == s["bays"]["total"]
    assert s["solver"]["status"] == "OPTIMAL"
    assert s["solver"]["gap"] == 0
    assert s["solver"]["objective"] == s["solver"]["best_bound"] == s["bays"]["total"]
    hz = s["hazards"]
    assert hz["total"] == 31 + 129  # every crossing and driveway feature of the fixture
    assert hz["matched"] + hz["unmatched"] == hz["total"]
    assert hz["matched"] > 0
    assert set(hz["by_kind"]) == {"crossing", "driveway"}
    assert hz["by_kind"]["crossing"]["total"] == 31
    assert hz["by_kind"]["driveway"]["total"] == 129
    assert len(hz["unmatched_features"]) == hz["unmatched"]
    timings = s["timings_s"]
    for stage in ("read", "kerbs", "intervals", "solve", "layout", "write"):
        assert timings[stage] >= 0, stage


def test_bays_file_matches_summary(run_all: dict[str, Any]) -> None:
    bays = json.loads(run_all["bays"])
    s = run_all["summary"]
    assert len(bays["features"]) == s["bays"]["total"]
    types = [f["properties"]["bay_type"] for f in bays["features"]]
    assert {t: types.count(t) for t in set(types)} == {k: v for k, v in s["bays"]["by_type"].items() if v}


def test_kerb_lengths_are_all_accounted_for(run_all: dict[str, Any]) -> None:
    kerbs = run_all["kerbs"]["features"]
    s = run_all["summary"]
    assert len(kerbs) == s["kerbs"]["count"] > 0
    lengths = [f["properties"]["length_m"] for f in kerbs]
    assert sum(lengths) == pytest.approx(s["kerbs"]["length_m"], abs=1e-3 * len(kerbs))
    bays_per_kerb = sum(f["properties"]["bays"] for f in kerbs)
    assert bays_per_kerb == s["bays"]["total"]
    for f in kerbs:
        p = f["properties"]
        parts = p["bay_m"] + p["gap_m"] + p["lost_m"] + p["leftover_m"]
        assert parts == pytest.approx(p["length_m"], abs=0.01), p["curb_id"]
        lost_by_kind = sum(v for k, v in p.items() if k.startswith("lost_") and k != "lost_m")
        assert lost_by_kind == pytest.approx(p["lost_m"], abs=0.01), p["curb_id"]
    # The kerb kept is the street-area boundary inside the extent (segments on its edge excluded).
    area = gpd.read_file(STREETS)
    extent = gpd.read_file(EXTENT).to_crs(area.crs)
    inner = shapely.union_all(extent.geometry.values).buffer(-0.05)
    inside = shapely.intersection(shapely.union_all(area.boundary.values), inner).length
    assert s["kerbs"]["length_m"] == pytest.approx(inside, rel=0.01)


def test_kerb_lengths_without_extent_equal_the_boundary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    kerbs_out = tmp_path / "kerbs.geojson"
    args = ["plan", str(STREETS), "--rules", "de-parkraum", "-o", str(tmp_path / "b.geojson")]
    assert main([*args, "--kerbs", str(kerbs_out), "--summary", str(summary), "-q"]) == 0
    boundary = float(gpd.read_file(STREETS).boundary.length.sum())
    s = json.loads(summary.read_text())
    kerbs = json.loads(kerbs_out.read_text())["features"]
    assert s["kerbs"]["length_m"] == pytest.approx(boundary, abs=0.01)
    assert sum(f["properties"]["length_m"] for f in kerbs) == pytest.approx(boundary, abs=1e-3 * len(kerbs))


def test_every_kerb_line_appears_with_its_length(tmp_path: Path) -> None:
    """Line kerbs in EPSG:4326: each one is in the kerbs output with its length in metres."""
    lines = {
        "a": [[13.4700, 52.4600], [13.4710, 52.4600]],
        "b": [[13.4700, 52.4603], [13.4710, 52.4603]],
        "c": [[13.4720, 52.4600], [13.4720, 52.4610], [13.4725, 52.4615]],
    }
    features = [
        {
            "type": "Feature",
            "properties": {"curb_id": k},
            "geometry": {"type": "LineString", "coordinates": c},
        }
        for k, c in lines.items()
    ]
    src = tmp_path / "kerbs.geojson"
    src.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    kerbs_out, summary = tmp_path / "kerbs_out.geojson", tmp_path / "summary.json"
    code = main(
        [
            "plan",
            str(src),
            "-o",
            str(tmp_path / "b.geojson"),
            "--kerbs",
            str(kerbs_out),
            "--summary",
            str(summary),
        ]
    )
    assert code == 0
    gdf = gpd.read_file(src)
    expected = dict(zip(gdf["curb_id"], gdf.to_crs(gdf.estimate_utm_crs()).length, strict=True))
    got = json.loads(kerbs_out.read_text())["features"]
    assert sorted(f["properties"]["curb_id"] for f in got) == sorted(lines)
    for f in got:
        assert f["properties"]["length_m"] == pytest.approx(expected[f["properties"]["curb_id"]], abs=0.01)
    s = json.loads(summary.read_text())
    assert s["kerbs"]["length_m"] == pytest.approx(sum(expected.values()), abs=0.01)


def test_zones_file(run_all: dict[str, Any]) -> None:
    zones = run_all["zones"]
    assert zones["type"] == "FeatureCollection"
    kinds = {f["properties"]["kind"] for f in zones["features"]}
    assert {"crossing", "driveway"} <= kinds
    for f in zones["features"]:
        p = f["properties"]
        assert p["start_m"] <= p["end_m"]
        assert f["geometry"]["type"] in ("LineString", "MultiLineString")


def test_two_runs_give_identical_files(run_all: dict[str, Any], tmp_path: Path) -> None:
    extra = ["--zones", str(tmp_path / "zones.geojson"), "--kerbs", str(tmp_path / "kerbs.geojson"), "-q"]
    assert main(plan_args(tmp_path, *extra)) == 0
    assert (tmp_path / "bays.geojson").read_bytes() == run_all["bays"]
    assert json.loads((tmp_path / "zones.geojson").read_text()) == run_all["zones"]
    assert json.loads((tmp_path / "kerbs.geojson").read_text()) == run_all["kerbs"]


def test_no_presolve_gives_the_same_bays(run_all: dict[str, Any], tmp_path: Path) -> None:
    assert main(plan_args(tmp_path, "--no-presolve", "-q")) == 0
    assert (tmp_path / "bays.geojson").read_bytes() == run_all["bays"]


def test_kind_path_with_equals_signs(run_all: dict[str, Any], tmp_path: Path) -> None:
    """`-f KIND=PATH` splits at the first '=': a folder and file name with '=' in them still work."""
    odd = tmp_path / "in=put"
    odd.mkdir()
    shutil.copy(CROSSINGS, odd / "crossings=osm.geojson")
    shutil.copy(DRIVEWAYS, odd / "driveways.geojson")
    hazards = (f"crossing={odd / 'crossings=osm.geojson'}", f"driveway={odd / 'driveways.geojson'}")
    out = tmp_path / "out"
    out.mkdir()
    assert main(plan_args(out, "--summary", str(out / "s.json"), "-q", hazards=hazards)) == 0
    assert (out / "bays.geojson").read_bytes() == run_all["bays"]
    s = json.loads((out / "s.json").read_text())
    assert s["hazards"]["by_kind"]["crossing"]["total"] == 31


def test_stdout_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(plan_args(tmp_path)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert len(out.splitlines()) == 1
    assert "OPTIMAL" in out
    assert str(tmp_path / "bays.geojson") in out


@pytest.mark.parametrize("suffix", [".gpkg", ".fgb", ".parquet", ".geojsonl", ".geojsons"])
def test_other_formats_read_back(run_all: dict[str, Any], suffix: str, tmp_path: Path) -> None:
    out = tmp_path / f"bays{suffix}"
    args = plan_args(tmp_path, "-q")
    args[args.index("-o") + 1] = str(out)
    assert main(args) == 0
    gdf = gpd.read_parquet(out) if suffix == ".parquet" else gpd.read_file(out)
    assert len(gdf) == run_all["summary"]["bays"]["total"]
    assert {"bay_id", "curb_id", "bay_type"} <= set(gdf.columns)
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_geojson_seq_is_one_feature_per_line(run_all: dict[str, Any], tmp_path: Path) -> None:
    """.geojsonl: newline-delimited features; .geojsons: each record starts with RS (RFC 8142)."""
    for suffix, prefix in ((".geojsonl", ""), (".geojsons", "\x1e")):
        out = tmp_path / f"bays{suffix}"
        args = plan_args(tmp_path, "-q")
        args[args.index("-o") + 1] = str(out)
        assert main(args) == 0
        lines = out.read_text(encoding="utf-8").rstrip("\n").split("\n")
        assert len(lines) == run_all["summary"]["bays"]["total"]
        for line in lines:
            assert line.startswith(prefix)
            feature = json.loads(line[len(prefix) :])
            assert feature["type"] == "Feature"
            assert feature["geometry"]["type"] == "Polygon"


def test_rules_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    names = [line.split()[0] for line in out.splitlines()]
    assert "cn" in names
    assert "de-parkraum" in names


def test_rules_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "show", "cn", "--json"]) == 0
    out, _ = capsys.readouterr()
    data = json.loads(out)
    assert data["name"] == "cn"
    assert data["traffic"] == "right"
    assert data["bays"]
    for bay in data["bays"].values():
        assert bay["length_m"] > 0
        assert bay["width_m"] > 0


def test_rules_show_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "show", "de-parkraum"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("de-parkraum")
    assert "bay " in out


def test_progress_line_only_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """plan(progress=True) shows its stages on stderr and clears the line; off by default, and the CLI
    shows none when stderr is not a terminal (as under pytest)."""
    import io

    import geopandas as gpd
    from shapely.geometry import LineString

    import parkplan
    from parkplan._progress import Progress

    k = gpd.GeoDataFrame({"curb_id": ["k"]}, geometry=[LineString([(0, 0), (50, 0)])], crs="EPSG:25833")
    parkplan.plan(k, None, rules="de-parkraum")
    assert capsys.readouterr().err == ""
    parkplan.plan(k, None, rules="de-parkraum", progress=True)
    err = capsys.readouterr().err
    assert "parkplan: reading" in err
    assert "parkplan: layout" in err
    assert err.endswith("\r")
    buf = io.StringIO()
    bar = Progress(True, buf)
    bar.stage("bays at depth 2 m", 1, 3)
    assert "bays at depth 2 m 1/3" in buf.getvalue()
    silent = io.StringIO()
    Progress(False, silent).stage("x")
    assert silent.getvalue() == ""
    assert main(plan_args(tmp_path)) == 0
    assert "parkplan:" not in capsys.readouterr().err
