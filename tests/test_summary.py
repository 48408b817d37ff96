"""The plan's summary (frozen, typed, read as its JSON), the frozen Plan and its methods, the stages'
timings, and the existing-mode workflow (``parkplan.osm.existing.plan_osm``)."""

from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

import parkplan
from parkplan._progress import Progress, Stages
from parkplan.accounting import CapacityReport, FrozenMap, Summary
from parkplan.errors import ArgumentError
from parkplan.osm.existing import apply_capacity, enforce_capacity, plan_osm, separate_bays
from parkplan.osm.streets import from_osm, osm_extent

CRS = "EPSG:25833"
NEUKOELLN = Path(__file__).parent / "data" / "osm" / "neukoelln-2024.osm"
TIMINGS = ["read", "kerbs", "intervals", "model_build", "solve", "quotas", "layout"]


def street() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"curb_id": ["a", "b"]},
        geometry=[LineString([(0, 0), (120, 0)]), LineString([(0, 30), (80, 30)])],
        crs=CRS,
    )


@pytest.fixture(scope="module")
def planned() -> parkplan.Plan:
    hydrants = gpd.GeoDataFrame(
        {"kind": ["hydrant", "hydrant"]}, geometry=[Point(50, 1), Point(500, 500)], crs=CRS
    )
    return parkplan.plan(street(), hydrants, rules="de", workers=1)


def test_the_summary_reads_as_its_json_and_typed(planned: parkplan.Plan) -> None:
    s = planned.summary
    assert isinstance(s, Summary)
    doc = s.to_json()
    assert list(s) == list(doc) == [
        "rules", "traffic", "crs", "kerbs", "bays", "solver", "hazards", "warnings", "timings_s",
        "cross_section", "baseline",
    ]  # fmt: skip
    assert dict(s.items()) == doc
    assert s == doc  # a Mapping equal to its JSON form
    assert s["bays"]["total"] == s.bays.total == len(planned.bays) > 0
    assert type(s["bays"]) is dict
    assert type(s["warnings"]) is list
    assert s["hazards"]["unmatched"] == s.hazards.unmatched == 1
    assert s["hazards"]["unmatched_features"][0]["kind"] == "hydrant"
    assert s.hazards.by_kind["hydrant"].matched == 1
    assert list(s["timings_s"]) == TIMINGS
    assert s["cross_section"] == s.cross_section.to_json()
    assert not {"keep", "quotas", "capacity", "written"} & set(s)
    with pytest.raises(KeyError):
        s["keep"]
    assert json.loads(json.dumps(doc)) == doc  # plain JSON all the way down


def test_nothing_changes_a_summary_or_a_plan(planned: parkplan.Plan) -> None:
    s = planned.summary
    total = s.bays.total
    bays = s["bays"]
    bays["total"] = -1  # a fresh copy: the summary does not see it
    bays["by_type"].clear()
    assert s["bays"]["total"] == total
    assert s["bays"]["by_type"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.bays = s.bays  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.bays.total = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.bays.by_type["car"] = 0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        planned.bays = planned.bays  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        planned.summary = s  # type: ignore[misc]


def test_write_returns_the_summary_as_written_and_leaves_the_plan_as_it_was(
    planned: parkplan.Plan, tmp_path: Path
) -> None:
    before = planned.summary.to_json()
    written = planned.write(tmp_path / "bays.geojson", summary=tmp_path / "summary.json", workers=1)
    assert planned.summary.to_json() == before
    assert list(written["timings_s"]) == [*TIMINGS, "write"]
    assert written["written"] == {"bays": {"features": len(planned.bays), "repaired": 0, "left_out": 0}}
    assert list(written)[-1] == "written"
    on_disk = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(written.to_json()))
    assert list(on_disk) == list(written)
    # Writing the summary alone: the summary says so (no layer written).
    again = planned.write(summary=tmp_path / "again.json")
    assert again["written"] == {}


def test_keeping_returns_a_new_plan_and_recounts(planned: parkplan.Plan) -> None:
    n = len(planned.bays)
    mask = np.ones(n, dtype=bool)
    mask[:2] = False
    fewer = planned.keeping(mask, reason="test")
    assert len(planned.bays) == n  # the plan it came from is unchanged
    assert int(planned.kerbs["bays"].sum()) == n
    assert len(fewer.bays) == n - 2
    assert int(fewer.kerbs["bays"].sum()) == n - 2
    gone = planned.bays.iloc[:2]
    moved = float((gone["end_m"] - gone["start_m"]).sum())
    assert fewer.kerbs["leftover_m"].sum() == pytest.approx(planned.kerbs["leftover_m"].sum() + moved)
    assert fewer.kerbs["bay_m"].sum() == pytest.approx(planned.kerbs["bay_m"].sum() - moved)
    assert fewer.summary["bays"]["total"] == n - 2
    assert sum(fewer.summary["bays"]["by_type"].values()) == n - 2
    assert list(fewer.summary["bays"]) == ["total", "by_type", "by_orientation", "test"]
    assert fewer.summary["bays"]["test"] == 2
    assert "test" not in planned.summary["bays"]
    # The same reason again adds up; nothing else in the summary changes.
    again = fewer.keeping(np.r_[False, np.ones(n - 3, dtype=bool)], reason="test")
    assert again.summary["bays"]["test"] == 3
    assert {k: v for k, v in again.summary.items() if k != "bays"} == {
        k: v for k, v in planned.summary.items() if k != "bays"
    }
    assert again.zones is planned.zones  # built once, shared


def test_with_separate_and_with_capacity_return_new_plans(planned: parkplan.Plan) -> None:
    separate = gpd.GeoDataFrame(
        {"bay_id": ["way/1#0", "way/1#1"]}, geometry=[box(0, 40, 5, 42), box(5, 40, 10, 42)], crs=CRS
    ).to_crs(4326)
    more = planned.with_separate(separate)
    assert "source" not in planned.bays.columns
    assert len(more.bays) == len(planned.bays) + 2
    assert more.bays["source"].tolist() == ["kerb"] * len(planned.bays) + ["separate"] * 2
    assert more.bays.crs == planned.bays.crs
    assert more.summary["bays"]["separate"] == 2
    assert more.summary["bays"]["total"] == len(more.bays)
    assert "separate" not in planned.summary["bays"]
    counts = CapacityReport(
        way_sides_tagged=3, capped=1, capped_partly=0, geometry_fits_fewer=1, agrees=1, not_allowed=0,
        disagree=2, bays_dropped=4,
    )  # fmt: skip
    capped = more.with_capacity(counts)
    assert list(capped.summary)[-1] == "capacity"
    assert capped.summary["capacity"] == counts.to_json() == dict(counts)
    assert counts["bays_dropped"] == counts.bays_dropped == 4
    assert "capacity" not in more.summary
    with pytest.raises(ArgumentError, match="capacity"):
        more.with_capacity({"capped": 1})  # type: ignore[arg-type]


def test_a_plan_made_from_a_plan_pickles_with_its_summary(planned: parkplan.Plan) -> None:
    fewer = planned.keeping(pd.Series([True] * len(planned.bays)))
    back = pickle.loads(pickle.dumps(fewer))
    assert back.summary == fewer.summary.to_json()
    assert back.summary.bays.removed == FrozenMap({"removed": 0})
    assert back.bays.equals(fewer.bays)


def test_stages_time_each_stage_in_order() -> None:
    stages = Stages(Progress(False))
    with stages.stage("reading", "read"):
        pass
    with stages.stage("kerbs") as bar:
        assert bar is stages.progress
    with stages.stage("again", "read"):  # adds to read
        pass
    stages.timings_s["read"] = 5.0
    stages.split("read", build=1.0, solve=1.5)
    assert list(stages.timings_s) == ["read", "kerbs", "build", "solve"]
    assert stages.timings_s["read"] == pytest.approx(2.5)
    with pytest.raises(RuntimeError), stages.stage("failing"):
        raise RuntimeError
    assert "failing" not in stages.timings_s


def test_plan_osm_existing_is_the_workflow_step_by_step() -> None:
    """plan_osm in existing mode: from_osm, plan on the ways cut to the file's box, the capacity, the
    separately mapped bays; the same as doing each step by hand."""
    got = plan_osm(NEUKOELLN, rules="de-parkraum", mode="existing", workers=1)
    osm = from_osm(NEUKOELLN, mode="existing")
    areas, hazards, ways, parking = osm.kerbs, osm.hazards, osm.ways, osm.parking
    step = parkplan.plan(
        areas, [hazards], rules="de-parkraum", ways=ways, extent=osm_extent(NEUKOELLN), workers=1
    )
    capped, report = enforce_capacity(step.bays, ways, rules=step.rules)
    step = apply_capacity(step, ways)
    assert step.bays["bay_id"].tolist() == capped["bay_id"].tolist()
    if len(parking):
        step = step.with_separate(separate_bays(parking, step.rules))
    assert got.bays.drop(columns="geometry").equals(step.bays.drop(columns="geometry"))
    assert got.kerbs.drop(columns="geometry").equals(step.kerbs.drop(columns="geometry"))
    strip = {"timings_s"}
    assert {k: v for k, v in got.summary.items() if k not in strip} == {
        k: v for k, v in step.summary.items() if k not in strip
    }
    assert got.summary["capacity"]["bays_dropped"] == int(report["dropped"].sum())
    assert got.summary["bays"]["capped_by_capacity"] == got.summary["capacity"]["bays_dropped"]


def test_plan_osm_keeps_todays_bays_only_in_existing_mode() -> None:
    with pytest.raises(ArgumentError, match="keep"):
        plan_osm(NEUKOELLN, mode="plan", keep=True)
    with pytest.raises(ArgumentError, match="mode"):
        plan_osm(NEUKOELLN, mode="today")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="workers"):
        plan_osm(NEUKOELLN, workers="2")  # type: ignore[arg-type]
    today = plan_osm(NEUKOELLN, rules="de-parkraum", mode="existing", keep=True, workers=1)
    assert "kept" in today.bays.columns
    assert today.summary["keep"]["kept"] > 0
    assert "capacity" not in today.summary  # the plan that keeps today's bays is a plan-mode plan
