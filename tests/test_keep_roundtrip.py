"""A plan fed back as its own existing layout (``keep=`` / ``--keep``) is kept whole (issue 19, case 8).

GeoJSON keeps positions to about 1 cm (1e-7 degree in WGS84); before, keep matched existing bays to
1 mm and recognised about half of a plan's own GeoJSON output (252 of 566 bays of the small Neukölln
sample). GeoPackage and FlatGeobuf keep full precision, but bays on bends and angled bays were measured
on their far side and missed too. Also: a kerb digitised the other way round, and a kerb rounded
through WGS84; the tolerance is about 1 cm and no more; the chain without solver finds what CP-SAT does.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

import parkplan
from parkplan.cli import main
from parkplan.keep import MATCH_TOLERANCE_M, _distinct
from parkplan.optimize.keep import chain, cpsat_stretch

DATA = Path(__file__).parent / "data" / "neukoelln_small"
AREAS = str(DATA / "street_areas.geojson")
HAZARDS = [
    parkplan.HazardSource(str(DATA / "crossings.geojson"), "crossing"),
    parkplan.HazardSource(str(DATA / "driveways.geojson"), "driveway"),
]
CRS = "EPSG:25833"
PARALLEL = {
    "name": "parallel",
    "traffic": "right",
    "bays": {"car": {"orientation": "parallel", "length_m": 5.7, "width_m": 2.2}},
}
PERPENDICULAR = {
    "name": "perpendicular",
    "traffic": "right",
    "bays": {"car": {"orientation": "perpendicular", "length_m": 5.0, "width_m": 2.5}},
}
GROUPED = {**PERPENDICULAR, "name": "grouped", "grouping": {"max_run_m": 25.0, "gap_m": 2.0}}


def assert_all_kept(first: parkplan.Plan, again: parkplan.Plan) -> None:
    """Every bay of ``again`` kept, none to mark or remove, each within 1 cm of where ``first`` had it."""
    keep = again.summary["keep"]
    total = len(again.bays)
    assert total == len(first.bays) > 0
    assert (keep["kept"], keep["restriped"], keep["removed"]) == (total, 0, 0), keep
    assert bool(again.bays["kept"].all())
    a = first.bays.sort_values(["curb_id", "start_m"]).reset_index(drop=True)
    b = again.bays.sort_values(["curb_id", "start_m"]).reset_index(drop=True)
    assert (a["curb_id"] == b["curb_id"]).all()
    assert np.abs(a["start_m"] - b["start_m"]).max() <= MATCH_TOLERANCE_M + 1e-6


@pytest.fixture(scope="module", params=["de", "de-parkraum"])
def neukoelln(request: pytest.FixtureRequest) -> tuple[str, parkplan.Plan]:
    """The small Neukölln sample planned with ``de`` (angled bays, a stretch of several types) or
    ``de-parkraum`` (parallel and perpendicular)."""
    return request.param, parkplan.plan(AREAS, HAZARDS, rules=request.param)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".fgb"])
def test_a_plan_written_and_fed_back_is_kept_whole(
    neukoelln: tuple[str, parkplan.Plan], suffix: str, tmp_path: Path
) -> None:
    rules, first = neukoelln
    out = tmp_path / f"bays{suffix}"
    first.write(out)
    again = parkplan.plan(AREAS, HAZARDS, rules=rules, keep=out)
    assert_all_kept(first, again)


def test_cli_plan_fed_back_as_keep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = [
        AREAS,
        "-f",
        f"crossing={DATA / 'crossings.geojson'}",
        "-f",
        f"driveway={DATA / 'driveways.geojson'}",
    ]
    bays, again, summary = tmp_path / "bays.geojson", tmp_path / "again.geojson", tmp_path / "s.json"
    assert main(["plan", *inputs, "--rules", "de", "-o", str(bays), "-q"]) == 0
    n = len(gpd.read_file(bays))
    assert main(["plan", *inputs, "--rules", "de", "--keep", str(bays), "-o", str(again),
                 "--summary", str(summary)]) == 0  # fmt: skip
    assert f"kept {n} of {n} existing bays in place; 0 bays to mark, 0 to remove" in capsys.readouterr().out
    keep = json.loads(summary.read_text(encoding="utf-8"))["keep"]
    assert (keep["kept"], keep["restriped"], keep["removed"]) == (n, 0, 0)


def curved_kerb() -> gpd.GeoDataFrame:
    """An arc of about 150 m (60 vertices) in Berlin, in a metric CRS."""
    pts = [(13.43 + 0.0009 * math.cos(t), 52.48 + 0.0006 * math.sin(t)) for t in np.linspace(0, 2.5, 60)]
    return gpd.GeoDataFrame({"curb_id": ["c"]}, geometry=[LineString(pts)], crs="EPSG:4326").to_crs(CRS)


@pytest.mark.parametrize("rules", [PARALLEL, PERPENDICULAR, GROUPED], ids=lambda r: r["name"])
@pytest.mark.parametrize("kerb_as", ["same", "reversed", "rounded"])
def test_kept_whole_on_a_reversed_or_rounded_kerb(
    rules: dict[str, object], kerb_as: str, tmp_path: Path
) -> None:
    """The second plan's kerb: the same, digitised the other way round, or written as GeoJSON (WGS84,
    1e-7 degree) and read back; the layout always goes through GeoJSON."""
    kerb = curved_kerb()
    first = parkplan.plan(kerb, None, rules=rules)
    out = tmp_path / "bays.geojson"
    first.write(out)
    if kerb_as == "reversed":
        kerb = kerb.assign(geometry=kerb.geometry.reverse())
    elif kerb_as == "rounded":
        kerb.to_file(tmp_path / "kerb.geojson")
        kerb = gpd.read_file(tmp_path / "kerb.geojson")
    again = parkplan.plan(kerb, None, rules=rules, keep=out)
    keep = again.summary["keep"]
    assert len(again.bays) == len(first.bays)
    assert (keep["kept"], keep["restriped"], keep["removed"]) == (len(first.bays), 0, 0), keep


def straight(length_m: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"curb_id": ["k"]}, geometry=[LineString([(0, 0), (length_m, 0)])], crs=CRS)


CAR = {
    "name": "t",
    "traffic": "right",
    "bays": {"car": {"orientation": "parallel", "length_m": 6.0, "width_m": 2.5}},
}


@pytest.mark.parametrize(("shift_m", "kept"), [(0.0, 2), (0.008, 2), (0.015, 1), (0.05, 1)])
def test_the_tolerance_is_about_one_centimetre(shift_m: float, kept: int) -> None:
    """12 m of kerb holds two 6 m bays with no slack: the second stands at 6 m. An existing second bay
    8 mm off is the same bay (GeoJSON rounding moves a point up to 7.9 mm); 15 mm off is another one."""
    existing = gpd.GeoDataFrame(geometry=[box(0, 0, 6, 2.5), box(6 + shift_m, 0, 12, 2.5)], crs=CRS)
    p = parkplan.plan(straight(12.0), None, rules=CAR, keep=existing)
    assert len(p.bays) == 2
    assert p.summary["keep"]["kept"] == kept


def test_keep_without_a_bay_near_a_kerb_reports_every_count(tmp_path: Path) -> None:
    """Before, the summary then lacked ``restriped`` and ``removed`` and the CLI failed with a KeyError."""
    far = tmp_path / "far.geojson"
    gpd.GeoDataFrame(geometry=[box(1000, 1000, 1006, 1002.5)], crs=CRS).to_file(far)
    p = parkplan.plan(straight(40.0), None, rules=CAR, keep=far)
    keep = p.summary["keep"]
    assert (keep["kept"], keep["restriped"], keep["removed"]) == (0, len(p.bays), 0)
    kerb = tmp_path / "kerb.geojson"
    straight(40.0).to_file(kerb)
    assert main(["plan", str(kerb), "--keep", str(far), "-o", str(tmp_path / "b.geojson"), "-q"]) == 0


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 8),
    pitch=st.sampled_from([2500, 5700, 6000]),
    slack=st.integers(0, 12000),
    raw=st.lists(st.integers(-30, 60000), max_size=10),
    tol=st.sampled_from([0, 10]),
)
def test_chain_keeps_as_many_as_cpsat(n: int, pitch: int, slack: int, raw: list[int], tol: int) -> None:
    """The chain (no solver) keeps as many bays as the CP-SAT model, each within ``tol`` of its own start,
    in order, inside the stretch."""
    hi = n * pitch + slack
    starts = _distinct(np.array([a for a in raw if a <= hi - pitch + 30], dtype=np.int64), tol)
    xs, kept = chain(0, hi, n, pitch, starts, tol)
    _, _, on, status = cpsat_stretch(0, hi, n, pitch, starts, None, 0, tol)
    assert status == "OPTIMAL"
    assert sum(kept) == sum(on)
    assert xs[0] >= 0
    assert xs[-1] + pitch <= hi
    assert all(b - a >= pitch for a, b in itertools.pairwise(xs))
    used = [min(starts, key=lambda a: abs(a - x)) for x, k in zip(xs, kept, strict=True) if k]
    assert len(set(used)) == len(used)
    assert all(
        abs(a - x) <= tol for a, x in zip(used, [x for x, k in zip(xs, kept, strict=True) if k], strict=True)
    )
