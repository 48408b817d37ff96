"""Local worker processes: the same plan and the same files for any number of workers (issue 6)."""

from __future__ import annotations

import pytest

import parkplan
from parkplan import parallel
from parkplan.output import geojson_text
from parkplan.synthetic import make_city


def test_chunk_bounds_cover_every_row_once() -> None:
    assert parallel.chunk_bounds(10, 3, min_rows=1) == [(0, 4), (4, 8), (8, 10)]
    assert parallel.chunk_bounds(10, 3, min_rows=6) == [(0, 10)]
    assert parallel.chunk_bounds(0, 4, min_rows=1) == [(0, 0)]
    assert parallel.worker_count(0) == 1


def test_fork_map_keeps_the_order() -> None:
    assert parallel.fork_map(lambda x: x * x, list(range(7)), workers=3) == [x * x for x in range(7)]


def test_the_plan_is_the_same_for_any_number_of_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small city with the chunk threshold lowered, so hazard matching and the rays really run in
    forked workers: bays, zones and the GeoJSON text are identical to a one-process run."""
    kerbs, hazards = make_city(2_000, seed=1)
    one = parkplan.plan(kerbs, hazards, rules="cn", workers=1)
    monkeypatch.setattr(parallel, "MIN_ROWS_PER_WORKER", 10)
    two = parkplan.plan(kerbs, hazards, rules="cn", workers=2)
    assert one.summary["bays"] == two.summary["bays"]
    assert one.zones.drop(columns="geometry").equals(two.zones.drop(columns="geometry"))
    assert one.zones.geometry.geom_equals_exact(two.zones.geometry, 0.0).all()
    assert one.bays.geometry.geom_equals_exact(two.bays.geometry, 0.0).all()
    assert "".join(geojson_text(one.bays, workers=1)) == "".join(geojson_text(two.bays, chunk=100, workers=2))
