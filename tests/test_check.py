"""``parkplan check``: the checker's own kerb attachment, each check seeded into a correct layout, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

import parkplan
from parkplan.check import CHECKS, CheckResult, run_check
from parkplan.check.attach import attach_bays
from parkplan.check.geometry import KerbSegments
from parkplan.cli import main
from parkplan.geometry.kerbs import build_kerbs
from parkplan.io.read import read_extent
from parkplan.io.write import write_layer
from parkplan.rules.loading import load_rules

CRS = "EPSG:25833"
X0, Y0 = 392_000.0, 5_817_000.0


def kerb_table(lines, **columns):
    frame = gpd.GeoDataFrame(
        {"curb_id": [f"k{i}" for i in range(len(lines))], "width_m": np.nan, **columns},
        geometry=list(lines),
        crs=CRS,
    )
    return build_kerbs(frame, load_rules("cn"))


def rect(x0, x1, y0, y1):
    return Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


# --------------------------------------------------------------------------------------------------
# attach_bays
# --------------------------------------------------------------------------------------------------


def test_segments_chainage_and_projection() -> None:
    line = LineString([(X0, Y0), (X0 + 10, Y0), (X0 + 10, Y0 + 5)])
    segs = KerbSegments(np.array([line, LineString([(X0, Y0 + 20), (X0 + 3, Y0 + 20)])], dtype=object))
    assert segs.s0_m.tolist() == [0.0, 10.0, 0.0]
    assert segs.kerb_length_m.tolist() == [15.0, 3.0]
    xy = np.array([[X0 + 12, Y0 + 2], [X0 + 4, Y0 - 1]])
    proj = segs.on_kerb(xy, np.array([0, 0]), 5.0)
    assert proj.point.tolist() == [0, 1]
    assert np.allclose(proj.s_m, [12.0, 4.0])
    assert np.allclose(proj.dist_m, [2.0, 1.0])
    # (x+12, y+2) is right of the rising segment; (x+4, y-1) right of the first one.
    assert segs.left_of(xy, proj).tolist() == [False, False]


def test_attach_by_curb_id_and_nearest() -> None:
    kerbs = kerb_table(
        [LineString([(X0, Y0), (X0 + 100, Y0)]), LineString([(X0, Y0 + 8), (X0 + 100, Y0 + 8)])]
    )
    # Right-hand traffic, flow forward: the carriageway is left of each line (north).
    bays = gpd.GeoDataFrame(
        {"curb_id": ["k0", None, None, "k1"]},
        geometry=[
            rect(X0 + 10, X0 + 15.2, Y0, Y0 + 2),  # on k0, named
            rect(X0 + 20, X0 + 25, Y0 + 0.3, Y0 + 2.3),  # user bay, 0.3 m off k0
            rect(X0 + 30, X0 + 35, Y0 + 5.5, Y0 + 7.9),  # user bay under k1 (south of it: footway side)
            rect(X0 + 40, X0 + 45, Y0 + 6, Y0 + 8),  # named k1, south of it: wrong side
        ],
        crs=CRS,
    )
    at = attach_bays(bays, kerbs)
    assert at["bay"].tolist() == [0, 1, 2, 3]
    assert at["kerb"].tolist() == [0, 0, 1, 1]
    assert np.allclose(at["s0_m"], [10, 20, 30, 40])
    assert np.allclose(at["s1_m"], [15.2, 25, 35, 45])
    assert np.allclose(at["offset_m"], [0.0, 0.3, 0.1, 0.0])
    assert at["carriageway_side"].tolist() == [True, True, False, False]


def test_attach_prefers_the_kerb_of_the_longest_edge() -> None:
    # A corner (two kerbs, 0.3 m apart): the bay's long side lies on k1, its short end 0.2 m from k0.
    kerbs = kerb_table([LineString([(X0 + 100, Y0), (X0 + 0.3, Y0)]), LineString([(X0, Y0), (X0, Y0 + 100)])])
    bay = rect(X0, X0 + 2, Y0 + 0.2, Y0 + 5.4)
    at = attach_bays(gpd.GeoDataFrame(geometry=[bay], crs=CRS), kerbs)
    assert at["kerb"].tolist() == [1]
    assert np.allclose(at[["s0_m", "s1_m"]].to_numpy(), [[0.2, 5.4]])


def test_attach_far_and_unattached() -> None:
    kerbs = kerb_table([LineString([(X0, Y0), (X0 + 100, Y0)])])
    bays = gpd.GeoDataFrame(
        geometry=[rect(X0 + 10, X0 + 15, Y0 + 3, Y0 + 5), rect(X0 + 10, X0 + 15, Y0 + 6, Y0 + 8)], crs=CRS
    )
    at = attach_bays(bays, kerbs)
    assert at["kerb"].tolist() == [0, -1]
    assert np.isclose(at["offset_m"][0], 3.0)
    assert np.allclose(at[["s0_m", "s1_m"]].to_numpy()[0], [10, 15])
    assert np.isnan(at["s0_m"][1])


def test_attach_angled_bay_on_a_bent_kerb() -> None:
    # Kerb edge on two segments of a bent kerb; the far corners shifted upstream do not count.
    line = LineString([(X0, Y0), (X0 + 10, Y0), (X0 + 20, Y0 + 2)])
    kerbs = kerb_table([line])
    p = shapely.line_interpolate_point(line, [8.0, 12.0])
    a, b = shapely.get_coordinates(p)
    shift = np.array([-2.0, 4.0])
    bay = Polygon([a, (X0 + 10, Y0), b, b + shift, a + shift])
    at = attach_bays(gpd.GeoDataFrame(geometry=[bay], crs=CRS), kerbs)
    assert np.allclose(at[["s0_m", "s1_m"]].to_numpy(), [[8.0, 12.0]])
    assert at["carriageway_side"].tolist() == [True]


# --------------------------------------------------------------------------------------------------
# check: a correct layout, then each kind of violation seeded into it
# --------------------------------------------------------------------------------------------------

CAR = {"car": {"orientation": "parallel", "length_m": 5.0, "width_m": 2.0}}
CROSSING = {"crossing": {"before_m": 5.0, "after_m": 5.0}}


def street_rules(grouping: tuple[float, float] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "t",
        "traffic": "right",
        "bays": CAR,
        "clearances": CROSSING,
        "cross_section": {"min_clear_width_m": 3.0},
    }
    if grouping is not None:
        data["grouping"] = {"max_run_m": grouping[0], "gap_m": grouping[1]}
    return data


def street_kerbs() -> gpd.GeoDataFrame:
    """Two facing kerbs 8 m apart (carriageway between them), one street."""
    return gpd.GeoDataFrame(
        {"curb_id": ["south", "north"], "street_id": ["s", "s"], "width_m": [8.0, 8.0]},
        geometry=[
            LineString([(X0, Y0), (X0 + 100, Y0)]),
            LineString([(X0 + 100, Y0 + 8), (X0, Y0 + 8)]),
        ],
        crs=CRS,
    )


def street_hazards() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"kind": ["crossing"], "hazard_id": ["x1"]}, geometry=[Point(X0 + 50, Y0 + 4)], crs=CRS
    )


@pytest.fixture(scope="module")
def street() -> parkplan.Plan:
    return parkplan.plan(street_kerbs(), street_hazards(), rules=street_rules())


@pytest.fixture(scope="module")
def grouped() -> parkplan.Plan:
    return parkplan.plan(street_kerbs(), street_hazards(), rules=street_rules((20.0, 3.0)))


def run(bays, rules=None, **kwargs) -> CheckResult:
    return run_check(bays, street_kerbs(), street_hazards(), rules or street_rules(), **kwargs)


def found(result: CheckResult) -> set[tuple[str, str]]:
    v = result.violations
    return set(zip(v["bay_id"], v["check"], strict=True))


def moved(bays: gpd.GeoDataFrame, which, dx: float = 0.0, dy: float = 0.0) -> gpd.GeoDataFrame:
    out = bays.copy()
    rows = out["bay_id"].isin([which] if isinstance(which, str) else which).to_numpy()
    out.loc[rows, "geometry"] = shapely.transform(
        np.asarray(out.geometry.values, dtype=object)[rows], lambda xy: xy + np.array([dx, dy])
    )
    return out


def kerb_bays(bays: gpd.GeoDataFrame, curb: str) -> gpd.GeoDataFrame:
    return bays[bays["curb_id"] == curb].sort_values("start_m")


def test_correct_layout_has_no_violation(street: parkplan.Plan, grouped: parkplan.Plan) -> None:
    assert len(street.bays) > 20
    result = run(street.bays)
    assert result.summary["violations"] == 0, result.violations[["bay_id", "check", "detail"]]
    assert set(result.summary["by_check"]) == set(CHECKS) - {"clearance", "tagged_no_parking"} - {
        "grouping"
    } | ({"clearance", "tagged_no_parking"} - set(result.summary["skipped"]))
    assert result.line().startswith(f"check: 0 violations in {len(street.bays)} bays (")
    assert run(grouped.bays, street_rules((20.0, 3.0))).summary["violations"] == 0
    # The Plan itself, with its rules.
    assert len(parkplan.check(street, street_kerbs(), street_hazards())) == 0


def test_user_bays_without_ids_attach_to_the_nearest_kerb(street: parkplan.Plan) -> None:
    user = gpd.GeoDataFrame(geometry=street.bays.geometry.to_crs(4326).values, crs=4326)
    result = run(user)
    assert result.summary["violations"] == 0
    assert result.summary["bays_without_kerb"] == 0


def test_seeded_clearance(street: parkplan.Plan) -> None:
    if "clearance" in run(street.bays).summary["skipped"]:
        pytest.skip("parkplan.check.clearance not available")
    south = kerb_bays(street.bays, "south")
    zone = street.zones[(street.zones["curb_id"] == "south") & (street.zones["hazard_id"] == "x1")]
    start = float(zone["start_m"].min())
    # The last bay before the crossing's zone moved 1 m into it.
    before = south[south["end_m"] <= start + 1e-3].iloc[-1]
    bay = before["bay_id"]
    result = run(moved(street.bays, bay, dx=start - before["end_m"] + 1.0))
    assert found(result) == {(bay, "clearance")}
    row = result.violations.iloc[0]
    assert row["hazard_id"] == "x1"
    assert row["kind"] == "crossing"


def test_seeded_overlap(street: parkplan.Plan) -> None:
    south = kerb_bays(street.bays, "south")
    a, b = south["bay_id"].iloc[1], south["bay_id"].iloc[2]
    result = run(moved(street.bays, a, dx=1.0))
    assert found(result) == {(a, "overlap"), (b, "overlap")}
    assert np.allclose(result.violations.geometry.area, 2.0)  # 1 m x 2 m shared


def test_seeded_footway(street: parkplan.Plan) -> None:
    bay = kerb_bays(street.bays, "south")["bay_id"].iloc[3]
    flipped = street.bays.copy()
    row = (flipped["bay_id"] == bay).to_numpy()
    flipped.loc[row, "geometry"] = shapely.transform(
        np.asarray(flipped.geometry.values, dtype=object)[row], lambda xy: xy * [1, -1] + [0, 2 * Y0]
    )
    result = run(flipped)
    assert found(result) == {(bay, "footway")}


def test_bay_across_a_kerb_line(street: parkplan.Plan) -> None:
    bay = kerb_bays(street.bays, "south")["bay_id"].iloc[3]
    result = run(moved(street.bays, bay, dy=-0.8))  # 0.8 m of it on the footway
    assert found(result) == {(bay, "footway")}
    assert "crosses kerb south" in result.violations["detail"].iloc[0]


def test_seeded_bow_tie(street: parkplan.Plan) -> None:
    bay = kerb_bays(street.bays, "south")["bay_id"].iloc[3]
    bays = street.bays.copy()
    row = int(np.flatnonzero((bays["bay_id"] == bay).to_numpy())[0])
    (x0, y0), (x1, _), (_, y1) = shapely.get_coordinates(bays.geometry.iloc[row])[[0, 1, 2]]
    # A small loop at a far corner: the ring crosses itself.
    fold = Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0 + 0.3, y1 + 0.2)])
    assert not fold.is_valid
    bays.loc[row, "geometry"] = fold
    result = run(bays)
    assert found(result) == {(bay, "invalid_geometry")}
    assert "Self-intersection" in result.violations["detail"].iloc[0]


def test_seeded_clockwise_ring_in_a_geojson_file(street: parkplan.Plan, tmp_path: Path) -> None:
    path = tmp_path / "bays.geojson"
    street.to_geojson(path)
    doc = json.loads(path.read_text())
    assert len(run(path).violations) == 0
    i = 5
    ring = doc["features"][i]["geometry"]["coordinates"][0]
    doc["features"][i]["geometry"]["coordinates"][0] = ring[::-1]
    path.write_text(json.dumps(doc))
    result = run(path)
    assert found(result) == {(doc["features"][i]["properties"]["bay_id"], "ring_orientation")}


def test_bays_as_written_are_rounded() -> None:
    # A 3 mm sliver fold disappears or appears only on the 1e-7 degree grid: judged as written.
    bays = gpd.GeoDataFrame(
        {"bay_id": ["a"]},
        geometry=[Polygon([(X0, Y0), (X0 + 5, Y0), (X0 + 5, Y0 + 2), (X0 + 2.5, Y0 + 2.003), (X0, Y0 + 2)])],
        crs=CRS,
    )
    written = run_check(bays, street_kerbs(), None, street_rules())
    assert written.summary["by_check"]["invalid_geometry"] == 0


def test_seeded_grouping_gap_and_run(grouped: parkplan.Plan) -> None:
    rules = street_rules((20.0, 3.0))
    south = kerb_bays(grouped.bays, "south")
    gaps = south["start_m"].to_numpy()[1:] - south["end_m"].to_numpy()[:-1]
    k = int(np.flatnonzero(gaps > 0.01)[0]) + 1  # first bay of the second run
    run2 = south["bay_id"].iloc[k : k + 4].tolist()
    gap = float(gaps[k - 1])
    assert gap >= 3.0 - 1e-3
    short = run(moved(grouped.bays, run2, dx=-(gap - 1.5)), rules)
    assert found(short) == {(run2[0], "grouping")}
    assert np.isclose(short.violations["measured_m"].iloc[0], 1.5, atol=2e-3)
    long = run(moved(grouped.bays, run2, dx=-gap), rules)
    assert found(long) == {(run2[0], "grouping")}
    assert "long" in long.violations["detail"].iloc[0]


def test_seeded_clear_width(street: parkplan.Plan) -> None:
    south = kerb_bays(street.bays, "south")
    bay = south["bay_id"].iloc[2]
    (x0, y0), (x1, _) = shapely.get_coordinates(south.geometry.iloc[2])[[0, 1]]
    deep = street.bays.copy()
    deep.loc[(deep["bay_id"] == bay).to_numpy(), "geometry"] = rect(x0, x1, y0, y0 + 3.5)
    result = run(deep)
    hits = found(result)
    assert (bay, "clear_width") in hits
    assert {c for _, c in hits} == {"clear_width"}
    # The others are the bays facing it across the street.
    north = street.bays.set_index("bay_id")
    for other, _ in hits - {(bay, "clear_width")}:
        assert north.loc[other, "curb_id"] == "north"
        b = north.loc[other, "geometry"].bounds
        assert b[2] > x0
        assert b[0] < x1
    row = result.violations[result.violations["bay_id"] == bay].iloc[0]
    assert row["required_m"] == 3.0
    assert np.isclose(row["measured_m"], 8.0 - 3.5 - 2.0, atol=1e-6)


# --------------------------------------------------------------------------------------------------
# Real data and the command line
# --------------------------------------------------------------------------------------------------

SMALL = Path(__file__).parent / "data" / "neukoelln_small"


@pytest.mark.parametrize("rules", ["de-parkraum", "cn"])
def test_plans_of_the_neukoelln_fixture_pass(rules: str) -> None:
    hazards = [
        parkplan.HazardSource(SMALL / "crossings.geojson", "crossing"),
        parkplan.HazardSource(SMALL / "driveways.geojson", "driveway"),
    ]
    extent = read_extent(SMALL / "extent.geojson")
    p = parkplan.plan(SMALL / "street_areas.geojson", hazards, rules=rules, extent=extent)
    result = run_check(p.bays, SMALL / "street_areas.geojson", hazards, rules, extent=extent)
    assert result.summary["bays"] == len(p.bays) > 0
    assert result.summary["bays_without_kerb"] == 0
    assert result.summary["violations"] == 0, result.violations[["bay_id", "check", "detail"]].to_string()


RULES_TOML = """
name = "t"
traffic = "right"
[bays.car]
orientation = "parallel"
length_m = 5.0
width_m = 2.0
[clearances.crossing]
before_m = 5.0
after_m = 5.0
[cross_section]
min_clear_width_m = 3.0
"""


@pytest.fixture
def files(street: parkplan.Plan, tmp_path: Path) -> dict[str, Path]:
    paths = {
        "bays": tmp_path / "bays.geojson",
        "kerbs": tmp_path / "kerbs.gpkg",
        "hazards": tmp_path / "crossings.geojson",
        "rules": tmp_path / "rules.toml",
    }
    street.to_geojson(paths["bays"])
    street_kerbs().to_file(paths["kerbs"])
    street_hazards().drop(columns="kind").to_file(paths["hazards"])
    paths["rules"].write_text(RULES_TOML)
    return paths


def cli_args(files: dict[str, Path], *extra: object) -> list[str]:
    f = files
    args = [str(f["bays"]), str(f["kerbs"]), "-f", f"crossing={f['hazards']}", "--rules", str(f["rules"])]
    return ["check", *args, *map(str, extra)]


def test_cli_exit_codes_and_outputs(
    files: dict[str, Path], street: parkplan.Plan, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, summary = tmp_path / "violations.geojson", tmp_path / "summary.json"
    assert main(cli_args(files, "-o", out, "--summary", summary)) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"check: 0 violations in {len(street.bays)} bays (invalid_geometry 0, ")
    assert len(gpd.read_file(out)) == 0
    counts = json.loads(summary.read_text())
    assert counts["violations"] == 0
    assert counts["by_check"]["overlap"] == 0
    assert counts["inputs"]["bays"] == str(files["bays"])

    # Two overlapping bays: exit 1, both written as violations.
    south = kerb_bays(street.bays, "south")
    write_layer(moved(street.bays, south["bay_id"].iloc[1], dx=1.0), files["bays"])
    assert main(cli_args(files, "-o", out, "--summary", summary)) == 1
    assert "check: 2 violations in" in capsys.readouterr().out
    written = gpd.read_file(out)
    assert written["check"].tolist() == ["overlap", "overlap"]
    assert json.loads(summary.read_text())["by_check"]["overlap"] == 2
    assert main([*cli_args(files), "-q"]) == 1
    assert capsys.readouterr().out == ""


def test_cli_bad_input(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    missing = dict(files, bays=files["bays"].with_name("nope.geojson"))
    assert main(cli_args(missing)) == 2
    err = capsys.readouterr().err
    assert err.startswith("parkplan: error: ")
    assert "nope.geojson" in err
    assert len(err.strip().splitlines()) == 1
    # An output that is an input is refused before anything is written.
    before = files["bays"].read_bytes()
    assert main(cli_args(files, "-o", files["bays"])) == 2
    assert "overwrite an input" in capsys.readouterr().err
    assert files["bays"].read_bytes() == before
    assert main(cli_args(files, "--summary", files["rules"])) == 2
    assert main([*cli_args(files)[:-2], "--rules", "no-such-preset"]) == 2
    assert main(cli_args(files, "-o", files["bays"].with_suffix(".txt"))) == 2
