"""Local worker processes: the same plan and the same files for any number of workers (issue 6)."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from shapely.ops import substring

import parkplan
from parkplan import _parallel as parallel
from parkplan.io.write import geojson_text
from parkplan.optimize import sides as choice_model
from parkplan.optimize import solve
from parkplan.synthetic import make_city


def test_chunk_bounds_cover_every_row_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNKS_PER_WORKER", 1)
    assert parallel.chunk_bounds(10, 3, min_rows=1) == [(0, 4), (4, 8), (8, 10)]
    assert parallel.chunk_bounds(10, 3, min_rows=6) == [(0, 10)]
    monkeypatch.setattr(parallel, "CHUNKS_PER_WORKER", 4)
    # Several ranges per local worker (handed out as workers become free), never below one row.
    assert parallel.chunk_bounds(100, 2, min_rows=10) == [(lo, lo + 13) for lo in range(0, 91, 13)] + [
        (91, 100)
    ]
    assert parallel.chunk_bounds(5, 3, min_rows=1) == [(i, i + 1) for i in range(5)]
    assert parallel.chunk_bounds(0, 4, min_rows=1) == [(0, 0)]
    assert parallel.worker_count(0) == 1


def test_fork_map_keeps_the_order() -> None:
    assert parallel.fork_map(lambda x: x * x, list(range(7)), workers=3) == [x * x for x in range(7)]


def test_geos_map_runs_on_threads_and_keeps_the_order() -> None:
    import threading

    here = threading.get_ident()
    ids = parallel.geos_map(lambda x: (x * x, threading.get_ident()), list(range(9)), workers=2)
    assert [v for v, _ in ids] == [x * x for x in range(9)]
    assert here not in {t for _, t in ids}  # the pool's threads, not the caller
    assert parallel.geos_map(lambda x: threading.get_ident(), [1, 2], workers=1) == [here, here]


def test_submit_runs_beside_the_caller_and_does_not_hold_it_when_the_caller_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    monkeypatch.setattr(parallel, "MIN_ROWS_PER_WORKER", 1)
    here = threading.get_ident()
    assert parallel.submit(threading.get_ident, workers=1, rows=10).result() == here  # one worker: here
    assert parallel.submit(threading.get_ident, workers=2, rows=10).result() != here  # another thread
    release = threading.Event()
    t0 = time.perf_counter()
    with (
        pytest.raises(RuntimeError, match="caller"),
        parallel.submit(lambda: release.wait(60), workers=2, rows=10),
    ):
        raise RuntimeError("the caller's half failed")
    assert time.perf_counter() - t0 < 10  # the error came through at once, not after the thread
    release.set()
    with pytest.raises(ZeroDivisionError):  # the thread's own error reaches the caller
        parallel.submit(lambda: 1 / 0, workers=2, rows=10).result()


def test_the_plan_is_the_same_for_any_number_of_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small city with the chunk thresholds lowered, so hazard matching (threads), the rays and the
    choice models (one per few kerbs; forked workers) really run in parallel: bays, zones and the GeoJSON
    text are identical to a one-process run."""
    kerbs, hazards = make_city(2_000, seed=1)
    monkeypatch.setattr(choice_model, "CHOICE_BUDGET", 12)
    one = parkplan.plan(kerbs, hazards, rules="cn", workers=1)
    assert one.summary["cross_section"]["choice_models"] >= 4
    monkeypatch.setattr(parallel, "MIN_ROWS_PER_WORKER", 10)
    monkeypatch.setattr(choice_model, "MIN_MODELS_PER_WORKER", 1)
    two = parkplan.plan(kerbs, hazards, rules="cn", workers=2)
    assert one.summary["cross_section"] == two.summary["cross_section"]
    assert one.summary["bays"] == two.summary["bays"]
    assert one.zones.drop(columns="geometry").equals(two.zones.drop(columns="geometry"))
    assert one.zones.geometry.geom_equals_exact(two.zones.geometry, 0.0).all()
    assert one.bays.geometry.geom_equals_exact(two.bays.geometry, 0.0).all()
    assert "".join(geojson_text(one.bays, workers=1)) == "".join(geojson_text(two.bays, chunk=100, workers=2))


def test_stretch_models_on_the_pool_give_the_same_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without presolve every stretch goes through CP-SAT: its models (components of stretches) are solved in
    forked workers, and the bays are those of a one-process run."""
    kerbs, hazards = make_city(2_000, seed=3)
    one = parkplan.plan(kerbs, hazards, rules="cn", presolve=False, workers=1)
    assert one.summary["solver"]["models"] >= 2
    monkeypatch.setattr(solve, "MIN_MODELS_PER_WORKER", 1)
    calls: list[int] = []
    real = parallel.fork_imap

    def counting(func, items, workers=None):  # type: ignore[no-untyped-def]
        calls.append(len(items))
        return real(func, items, workers)

    monkeypatch.setattr(parallel, "fork_imap", counting)
    two = parkplan.plan(kerbs, hazards, rules="cn", presolve=False, workers=2)
    assert max(calls) >= 2  # the models really were split among workers
    assert one.summary["bays"] == two.summary["bays"]
    assert one.summary["solver"]["objective"] == two.summary["solver"]["objective"]
    assert one.bays.drop(columns="geometry").equals(two.bays.drop(columns="geometry"))


def test_a_dask_local_cluster_gives_the_same_plan_and_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The chunked stages as Dask tasks on a real LocalCluster (2 worker processes): same plan, same file."""
    distributed = pytest.importorskip("distributed")
    kerbs, hazards = make_city(2_000, seed=2)
    monkeypatch.setattr(choice_model, "CHOICE_BUDGET", 12)
    local = parkplan.plan(kerbs, hazards, rules="cn", workers=1)
    local.write(tmp_path / "local.geojson", workers=1)
    monkeypatch.setattr(parallel, "MIN_ROWS_PER_WORKER", 10)
    monkeypatch.setattr(choice_model, "MIN_MODELS_PER_WORKER", 1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = parkplan.plan(kerbs, hazards, rules="cn", client=client)
        with parallel.using(client):
            assert parallel.worker_count() == 2
        remote.write(tmp_path / "remote.geojson", client=client)
    assert local.summary["bays"] == remote.summary["bays"]
    assert local.zones.drop(columns="geometry").equals(remote.zones.drop(columns="geometry"))
    assert (tmp_path / "local.geojson").read_bytes() == (tmp_path / "remote.geojson").read_bytes()


def test_cli_scheduler_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--scheduler tcp://...`` plans on that cluster; an unreachable one is a clear error."""
    distributed = pytest.importorskip("distributed")
    from parkplan import cli
    from parkplan.cli import main

    monkeypatch.setattr(cli, "SCHEDULER_TIMEOUT_S", 1.0)
    kerbs, hazards = make_city(500, seed=3)
    kerbs.to_file(tmp_path / "kerbs.gpkg")
    hazards.to_file(tmp_path / "hazards.gpkg")
    args = ["plan", str(tmp_path / "kerbs.gpkg"), "-f", str(tmp_path / "hazards.gpkg"), "--rules", "cn", "-q"]
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        assert main([*args, "-o", str(tmp_path / "a.geojson"), "--scheduler", cluster.scheduler_address]) == 0
    assert main([*args, "-o", str(tmp_path / "b.geojson")]) == 0
    assert (tmp_path / "a.geojson").read_bytes() == (tmp_path / "b.geojson").read_bytes()
    capsys.readouterr()
    assert main([*args, "-o", str(tmp_path / "c.geojson"), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "Dask scheduler" in capsys.readouterr().err
    assert not (tmp_path / "c.geojson").exists()


def test_thread_map_keeps_the_order_for_any_number_of_threads() -> None:
    import numpy as np

    data = np.arange(1_000)
    for workers in (1, 2, 3, None):
        parts = parallel.thread_map(lambda lo, hi: data[lo:hi] * 2, len(data), workers, min_rows=10)
        assert np.array_equal(np.concatenate(parts), data * 2)
    assert len(parallel.thread_map(lambda lo, hi: (lo, hi), 1_000, 4, min_rows=300)) == 3
    assert parallel.thread_map(lambda lo, hi: (lo, hi), 0, 4) == [(0, 0)]
    # Ranges of at most chunk_rows, in order, for one thread and for several.
    for workers in (1, 2):
        ranges = parallel.thread_map(lambda lo, hi: (lo, hi), 1_000, workers, min_rows=10, chunk_rows=128)
        assert ranges[0][0] == 0
        assert ranges[-1][1] == 1_000
        assert len(ranges) == 8
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
        assert max(hi - lo for lo, hi in ranges) <= 128
        parts = parallel.thread_map(lambda lo, hi: data[lo:hi] * 2, len(data), workers, 10, chunk_rows=77)
        assert np.array_equal(np.concatenate(parts), data * 2)


def test_paused_gc_restores_the_collector() -> None:
    import gc

    assert gc.isenabled()
    with parallel.paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with parallel.paused_gc():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_the_zones_layer_is_built_on_first_use_and_kept(tmp_path: Path) -> None:
    import pickle

    kerbs, hazards = make_city(2_000, seed=2)
    p = parkplan.plan(kerbs, hazards, rules="cn", workers=1)
    assert callable(p._zones)
    pickle.loads(pickle.dumps(p))  # a plan travels before its zones are built
    p.write(tmp_path / "bays.geojson", workers=1)
    assert callable(p._zones)  # writing the bays alone does not build them
    zones = p.zones
    assert zones is p.zones
    assert len(zones) > 0
    # Each zone's line is its kerb between its chainages.
    kerb_of = dict(zip(p.kerbs["curb_id"], p.kerbs.geometry, strict=True))
    for row in zones.sample(50, random_state=0).itertuples():
        want = substring(kerb_of[row.curb_id], row.start_m, row.end_m)
        assert row.geometry.hausdorff_distance(want) < 2e-3


def test_plan_and_write_pause_the_collector_only_while_they_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import importlib

    from parkplan.io import write as output

    plan_module = importlib.import_module("parkplan.pipeline")
    seen: list[bool] = []
    for module, name in ((plan_module, "build_kerbs"), (output, "dump_layer")):
        inner = getattr(module, name)

        def spy(*args, _inner=inner, **kwargs):
            seen.append(gc.isenabled())
            return _inner(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    kerbs, hazards = make_city(500, seed=3)
    p = parkplan.plan(kerbs, hazards, rules="cn", workers=1)
    assert gc.isenabled()
    p.write(tmp_path / "bays.gpkg", workers=1)
    assert gc.isenabled()
    assert seen == [False, False]  # paused inside plan and write
