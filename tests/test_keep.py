"""Keeping an existing layout (issue 5, decision 4), on hand-solved kerbs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

import parkplan
from parkplan.keep import MATCH_TOLERANCE_M

CRS = "EPSG:25833"
CAR = {
    "name": "t",
    "traffic": "right",
    "bays": {"car": {"orientation": "parallel", "length_m": 6.0, "width_m": 2.5}},
}


def kerb(length_m: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"curb_id": ["k"]}, geometry=[LineString([(0, 0), (length_m, 0)])], crs=CRS)


def bays_at(*spans: tuple[float, float]) -> gpd.GeoDataFrame:
    """Existing bays drawn as 2.5 m deep boxes on the carriageway side (north of the kerb)."""
    return gpd.GeoDataFrame(geometry=[box(a, 0, b, 2.5) for a, b in spans], crs=CRS)


def test_keeps_as_many_existing_bays_as_the_optimum_allows() -> None:
    """40 m kerb, 6 m bays: the optimum is 6 bays (36 m). Existing bays at 2-8, 9-15, 16-22, 23-29, 30-36.

    Hand-solved: keeping four of them leaves room for only one more (5 < 6); keeping 2-8, 9-15, 16-22 leaves
    22-40 m for three more: 6 bays with 3 kept. So 3 kept, 3 restriped, 2 removed.
    """
    p = parkplan.plan(
        kerb(40.0), None, rules=CAR, keep=bays_at((2, 8), (9, 15), (16, 22), (23, 29), (30, 36))
    )
    assert len(p.bays) == 6
    assert int(p.bays["kept"].sum()) == 3
    keep = p.summary["keep"]
    assert (keep["kept"], keep["restriped"], keep["removed"]) == (3, 3, 2)
    kept = p.bays[p.bays["kept"]].sort_values("start_m")
    assert kept["start_m"].round(3).tolist() == [2.0, 9.0, 16.0]


def test_all_kept_when_they_leave_room_for_the_optimum() -> None:
    """Existing 1-7, 8-14, 20-26, 33-39 on 40 m: 1-7, 8-14, 14-20, 20-26, 26-32, 33-39 keeps all four."""
    p = parkplan.plan(kerb(40.0), None, rules=CAR, keep=bays_at((1, 7), (8, 14), (20, 26), (33, 39)))
    assert len(p.bays) == 6
    assert int(p.bays["kept"].sum()) == 4


def test_keep_with_grouping_respects_runs_and_gaps() -> None:
    """Runs of at most 2 bays (12 m) and gaps of 4 m on 60 m: the optimum is 4 runs of 2 = 8 bays
    (8 x 6 + 3 x 4 = 60). The existing bays 0-6 and 6-12 are one full run and both kept."""
    rules = {**CAR, "grouping": {"max_run_m": 12.0, "gap_m": 4.0}}
    p = parkplan.plan(kerb(60.0), None, rules=rules, keep=bays_at((0, 6), (6, 12)))
    assert len(p.bays) == 8
    assert int(p.bays["kept"].sum()) == 2
    s = p.bays.sort_values("start_m")
    gaps = s["start_m"].to_numpy()[1:] - s["end_m"].to_numpy()[:-1]
    assert np.all((np.abs(gaps) < 1e-6) | (gaps >= 4.0 - 1e-6))


@settings(max_examples=20, deadline=None)
@given(
    length=st.floats(10.0, 80.0),
    starts=st.lists(st.floats(0.0, 74.0), max_size=8),
)
def test_keeping_never_costs_a_bay(length: float, starts: list[float]) -> None:
    """Property: with or without an existing layout the count is the optimum, bays never overlap, and
    every bay marked kept stands on an existing bay (within the matching tolerance, 1 cm)."""
    spans = [(a, a + 6.0) for a in starts if a + 6.0 <= length]
    plain = parkplan.plan(kerb(length), None, rules=CAR)
    kept = parkplan.plan(kerb(length), None, rules=CAR, keep=bays_at(*spans) if spans else bays_at())
    assert len(kept.bays) == len(plain.bays)
    s = kept.bays.sort_values("start_m")
    assert (s["start_m"].to_numpy()[1:] >= s["end_m"].to_numpy()[:-1] - 1e-6).all()
    for a in s[s["kept"]]["start_m"]:
        assert any(abs(a - x) <= MATCH_TOLERANCE_M + 1e-6 for x, _ in spans)


def test_cli_keep_a_bays_file_and_today_from_osm(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json
    from pathlib import Path

    from parkplan.cli import main

    k = tmp_path / "kerb.geojson"
    kerb(40.0).to_file(k)
    existing = tmp_path / "existing.geojson"
    bays_at((2, 8), (9, 15), (16, 22), (23, 29), (30, 36)).to_file(existing)
    rules = tmp_path / "r.toml"
    rules.write_text(
        'name = "r"\ntraffic = "right"\n[bays.car]\n'
        'orientation = "parallel"\nlength_m = 6.0\nwidth_m = 2.5\n',
        encoding="utf-8",
    )
    out, summary = tmp_path / "b.geojson", tmp_path / "s.json"
    assert main(["plan", str(k), "--rules", str(rules), "--keep", str(existing), "-o", str(out),
                 "--summary", str(summary)]) == 0  # fmt: skip
    assert "kept 3 of 5 existing bays" in capsys.readouterr().out
    assert json.loads(summary.read_text(encoding="utf-8"))["keep"]["kept"] == 3
    # --keep without a file: today's bays from the OSM tags (existing mode), then the optimum.
    osm = Path(__file__).parent / "data" / "osm" / "neukoelln-2024.osm"
    assert main(["plan", str(osm), "--rules", "de-parkraum", "--mode", "existing", "--keep",
                 "-o", str(tmp_path / "o.geojson"), "--summary", str(summary)]) == 0  # fmt: skip
    s = json.loads(summary.read_text(encoding="utf-8"))
    assert s["bays"]["total"] == 356  # 360 before kerbs were cut where the way beside them changes (issue 14)
    assert 0 < s["keep"]["kept"] <= s["keep"]["existing_features"]
    # Without OSM input there is no "today" to start from.
    assert main(["plan", str(k), "--keep", "-o", str(out)]) != 0
