"""Benchmark: time and peak memory of synthetic cities of 20,000 to 1,300,000 bays, by how work is spread.

Run from anywhere (paths are relative to the repository root)::

    python benchmarks/bench_scaling.py                                # 20k, 100k, 400k, 1.3M; all modes
    python benchmarks/bench_scaling.py --sizes 20000 100000 --no-doc --json scaling.json
    python benchmarks/bench_scaling.py --modes local-1 local-2 --keep-inputs /tmp/cities
    python benchmarks/bench_scaling.py --sizes 20000 --doc /tmp/benchmarks.md
    python benchmarks/bench_scaling.py --commit HEAD      # src/parkplan of a commit, not the working tree
    python benchmarks/bench_scaling.py --repeat 3         # medians of three runs per size and mode

For every size a fresh process generates the city with :func:`parkplan.synthetic.make_city` (seed 0
unless ``--seed``, ``cn`` unless ``--rules``) and writes its kerbs and hazards as GeoPackage files: it is
the ``setup`` child of ``bench_synthetic.py``, not timed. ``--keep-inputs DIR`` keeps those files in
``DIR`` and reuses them on the next run. With ``--commit REV`` every child imports ``src/parkplan`` of that
commit (``git archive``, as in ``bench_synthetic.py``), so edits made during a long run do not mix in.

Then every mode is ONE fresh Python process that plans from the files and writes the bays as a
GeoPackage to a temporary folder:

* ``local-1``: ``parkplan.plan(..., workers=1)`` and ``plan.write(..., workers=1)``;
* ``local-2``: ``workers=2`` in both places (forked local workers and threads, :mod:`parkplan._parallel`);
* ``dask-2``: a ``dask.distributed.LocalCluster`` of 2 worker processes with one thread each, started
  before the timer (its start-up is reported apart), and ``client=`` in both places.

``--repeat N`` runs every mode N times (the modes taking turns, so that a slow spell of the machine
falls on all of them) and reports, per mode, the median of each stage time and of the total, the highest
peak memory, and the range of "model and layout" over the repeats; the ratios are of the medians.

Each run records the ``timings_s`` of the summary ``plan.write`` returns (whatever stages it has), the
total from the call of ``parkplan.plan`` to the written file, the peak resident set size of the process
(``getrusage(RUSAGE_SELF).ru_maxrss``, right after the file is written), of its largest forked child
(``RUSAGE_CHILDREN``) and of the Dask workers (``RUSAGE_SELF`` in each worker, via ``client.run``), and a
SHA-256 of the bays (attributes sorted by ``bay_id`` and the WKB of the polygons), so the tables can
say whether all modes planned the same bays. The results are written as Markdown between
``<!-- bench:scaling:start -->`` and ``<!-- bench:scaling:end -->`` in ``docs/benchmarks.md``; text
outside the markers is kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    add_output_args,
    git_state,
    load_average,
    machine,
    source_hash,
    summary_record,
    write_doc,
)
from bench_synthetic import CHILD_ENV, PACKAGES, TARGETS, export_commit, run_child

START = "<!-- bench:scaling:start -->"
END = "<!-- bench:scaling:end -->"
SIZES = [20_000, 100_000, 400_000, 1_300_000]
MODES = {"local-1": (1, False), "local-2": (2, False), "dask-2": (None, True)}
"""Mode: (``workers=`` for ``plan`` and ``write``, whether on a Dask LocalCluster)."""
DASK_WORKERS = 2
MODEL_AND_LAYOUT = ["model_build", "solve", "quotas", "layout"]
"""The stages summed as "model and layout" (those a run has)."""
TARGET_SIZE = 1_300_000
TARGET_SPEEDUP = 1.7
"""2 workers against 1 on model and layout, at the largest size."""
MIN_SPEEDUP_S = 0.001
"""A stage shorter than this (in either run) gets no speed-up ratio."""


# ---------------------------------------------------------------------------------------------- child


def bays_sha256(bays: Any) -> str:
    """SHA-256 of a bay table: its attributes sorted by ``bay_id``, then the WKB of the polygons."""
    import numpy as np
    import pandas as pd
    import shapely

    order = np.argsort(bays["bay_id"].to_numpy(dtype=str), kind="stable")
    table = bays.iloc[order]
    attrs = pd.DataFrame(table.drop(columns=table.geometry.name))
    h = hashlib.sha256()
    h.update("\t".join(map(str, attrs.columns)).encode())
    h.update(pd.util.hash_pandas_object(attrs, index=False).to_numpy().tobytes())
    h.update(b"".join(shapely.to_wkb(np.asarray(table.geometry.values, dtype=object))))
    return h.hexdigest()


def child_plan(mode: str, folder: Path, rules: str) -> dict[str, Any]:
    """Plan from the GeoPackage inputs in ``folder`` in one mode and write the bays as GeoPackage."""
    import resource

    workers, on_dask = MODES[mode]
    client = cluster = None
    dask: dict[str, Any] = {}
    if on_dask:
        # Before parkplan is imported: a worker's peak RSS includes its parent's RSS at the spawn (the
        # fork before the exec), so the workers are spawned while this process is still small.
        from dask.distributed import Client, LocalCluster

        t = time.perf_counter()
        cluster = LocalCluster(
            n_workers=DASK_WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
        client.wait_for_workers(DASK_WORKERS)
        dask["startup_s"] = time.perf_counter() - t
        dask["workers_start_kb"] = _workers_maxrss(client)

    t_import = time.perf_counter()
    import parkplan

    import_s = time.perf_counter() - t_import
    # Children that ended before the timer (the cluster's start-up) are not the plan's workers.
    children_start_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with tempfile.TemporaryDirectory(prefix="parkplan-scaling-") as tmp:
        out = Path(tmp) / "bays.gpkg"
        t0 = time.perf_counter()
        plan = parkplan.plan(
            folder / "kerbs.gpkg", folder / "hazards.gpkg", rules=rules, workers=workers, client=client
        )
        written = plan.write(out, workers=workers, client=client)  # the summary with timings_s["write"]
        total_s = time.perf_counter() - t0
        maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        gpkg_mb = out.stat().st_size / 1e6
        # The zones layer is built on first use (it is not written here): its cost, after the peak.
        t = time.perf_counter()
        n_zones = len(plan.zones)
        zones_s = time.perf_counter() - t
    if client is not None:
        dask["workers_kb"] = _workers_maxrss(client)
        t = time.perf_counter()
        client.close()
        cluster.close()
        dask["shutdown_s"] = time.perf_counter() - t
    timings = {k: float(v) for k, v in written["timings_s"].items()}
    return {
        "mode": mode,
        "import_s": import_s,
        "timings_s": {**timings, "total": total_s},
        "zones_first_use_s": zones_s,
        "zones": n_zones,
        **summary_record(plan.summary),
        "maxrss_kb": maxrss_kb,
        "children_maxrss_kb": children_kb if children_kb > children_start_kb else None,
        "children_start_kb": children_start_kb,
        "dask": dask or None,
        "gpkg_mb": gpkg_mb,
        "bays_sha256": bays_sha256(plan.bays),
        "source_sha256": source_hash(Path(parkplan.__file__).parent),
    }


def _workers_maxrss(client: Any) -> list[int]:
    """Peak RSS (kB) of each Dask worker process so far."""
    import resource

    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return [int(v) for _, v in sorted(peaks.items())]


# --------------------------------------------------------------------------------------------- parent


def city_inputs(size: int, args: argparse.Namespace, scratch: Path) -> tuple[Path, dict[str, Any]]:
    """The folder of the city's GeoPackage inputs and its description; generated unless kept from before."""
    if args.keep_inputs is None:
        folder = scratch / f"city-{size}"
    else:
        folder = args.keep_inputs / f"city-{size}-seed{args.seed}-{Path(args.rules).stem}"
    described = folder / "city.json"
    if described.exists() and (folder / "kerbs.gpkg").exists() and (folder / "hazards.gpkg").exists():
        return folder, {**json.loads(described.read_text(encoding="utf-8")), "reused": True}
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    setup = ["--child", "setup", "--sizes", str(size), "--seed", str(args.seed), "--rules", args.rules]
    city = run_child([*setup, "--input-format", "gpkg", "--folder", str(folder)])
    described.write_text(json.dumps(city, indent=2) + "\n", encoding="utf-8")
    return folder, city


def run_mode(mode: str, folder: Path, rules: str, timeout_s: float) -> dict[str, Any]:
    """Run one mode in a fresh Python process; its JSON result plus the process' wall time."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "plan", "--mode", mode]
    cmd += ["--folder", str(folder), "--rules", rules]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, check=False, timeout=timeout_s, env=CHILD_ENV
        )
    except subprocess.TimeoutExpired:
        return {"mode": mode, "error": f"timed out after {timeout_s:g} s"}
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-5000:])
        last = (done.stderr.strip().splitlines() or [""])[-1]
        return {"mode": mode, "error": f"exit {done.returncode}: {last}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    return result


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One result for the repeats of a mode: median stage times and total, highest peak memory.

    The other fields (bays, status, hashes) come from the run with the median total; ``repeats`` holds
    every run's "model and layout" seconds and total.
    """
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[-1]
    if len(good) == 1:
        return {
            **good[0],
            "repeats": [(model_and_layout(good[0]["timings_s"]), good[0]["timings_s"]["total"])],
        }
    middle = sorted(good, key=lambda r: r["timings_s"]["total"])[len(good) // 2]
    stages = dict.fromkeys(k for r in good for k in r["timings_s"])
    out = dict(middle)
    out["timings_s"] = {
        k: statistics.median(r["timings_s"][k] for r in good if k in r["timings_s"]) for k in stages
    }
    for key in ("maxrss_kb", "children_maxrss_kb"):
        values = [r[key] for r in good if r.get(key)]
        out[key] = max(values) if values else middle.get(key)
    for key in ("zones_first_use_s", "process_s", "import_s"):
        if all(r.get(key) is not None for r in good):
            out[key] = statistics.median(r[key] for r in good)
    out["repeats"] = [(model_and_layout(r["timings_s"]), r["timings_s"]["total"]) for r in good]
    if len({r["bays_sha256"] for r in good}) > 1:
        out["bays_sha256"] = "repeats differ"
    return out


def _n(x: float) -> str:
    return format(x, ",.0f")


def _mb(kb: float | None) -> str:
    return "—" if not kb else f"{kb / 1024:,.0f}"


def model_and_layout(timings: dict[str, float]) -> float:
    """Seconds of the stages in :data:`MODEL_AND_LAYOUT` (those the run has)."""
    return sum(timings[k] for k in MODEL_AND_LAYOUT if k in timings)


def _speedup(one: float | None, two: float | None) -> str:
    if one is None or two is None or min(one, two) < MIN_SPEEDUP_S:
        return "—"
    return f"{one / two:.2f} ×"


def _ok(met: bool) -> str:
    return "met" if met else "**missed**"


def _stages(runs: list[dict[str, Any]]) -> list[str]:
    """Stage names of the runs' timings in their order, ``total`` last."""
    names: dict[str, None] = {}
    for r in runs:
        names.update(dict.fromkeys(k for k in r["timings_s"] if k != "total"))
    return list(names)


def _header(info: dict[str, Any], results: list[dict[str, Any]]) -> list[str]:
    m, g = info["machine"], info["git"]
    v = m["versions"]
    used: dict[str, list[str]] = {}
    for res in results:
        for r in _good(res):
            used.setdefault(r["source_sha256"], []).append(f"{_n(res['size'])} {r['mode']}")
    src = f"`{next(iter(used), '?')}`"
    if len(used) > 1:
        src = "**changed during the run**: " + "; ".join(f"`{h}` ({', '.join(w)})" for h, w in used.items())
    dirty = f" + uncommitted changes in {', '.join(g['dirty'])}" if g["dirty"] else ""
    if g.get("exported"):
        dirty = ", `src/parkplan` exported with `git archive`"
    ram = f", {m['mem_gib']:.0f} GiB RAM" if m["mem_gib"] else ""
    libs = ", ".join(f"{name} {v[name]}" for name in (*PACKAGES[:-1], "dask", "distributed"))
    return [
        START,
        "<!-- generated by benchmarks/bench_scaling.py; edits between the markers are overwritten -->",
        "",
        f"### Scaling: {info['date']}",
        "",
        f'- Cities: `make_city(target, seed={info["seed"]}, rules="{info["rules"]}")` as GeoPackage files '
        f'(written by a separate process, not timed), planned with `rules="{info["rules"]}"`; the bays '
        "written as GeoPackage. One fresh process per run; times in seconds. "
        + (
            f"{info['repeat']} runs per size and mode (the modes taking turns): medians of each stage and "
            "of the total, the highest peak memory."
            if info.get("repeat", 1) > 1
            else "One run per size and mode."
        ),
        f"- Code: commit `{g['commit']}` ({g['subject']}){dirty}; parkplan source hash {src}.",
        f"- Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}{ram}, {m['os']}; Python {m['python']}; {libs}.",
        f"- Load average (1, 5, 15 min) at start: {info['load_start']}; at end: {info['load_end']}.",
    ]


def _good(res: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in res["runs"].values() if "error" not in r]


def markdown(results: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """The Markdown section (with its markers) of the results."""
    lines = _header(info, results)
    lines += [
        "",
        "#### Time and peak memory",
        "",
        "| target bays | mode | bays | status | gap | total s | s per 100,000 bays | peak RSS MB: process "
        "| largest forked worker | Dask workers | bays.gpkg MB | same bays as local-1 |",
        "|--:|---|--:|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for res in results:
        ref = res["runs"].get("local-1", {}).get("bays_sha256")
        for mode, r in res["runs"].items():
            if "error" in r:
                lines.append(f"| {_n(res['size'])} | {mode} | failed: {r['error']} |" + " |" * 9)
                continue
            total = r["timings_s"]["total"]
            d = r["dask"]
            workers = "—" if d is None else " / ".join(_mb(kb) for kb in d["workers_kb"])
            same = (
                "—" if ref is None or mode == "local-1" else ("yes" if r["bays_sha256"] == ref else "**no**")
            )
            lines.append(
                f"| {_n(res['size'])} | {mode} | {_n(r['bays'])} | {r['status']} | {r['gap']:.2%} "
                f"| {total:.2f} | {total / max(r['bays'], 1) * 1e5:.2f} | {_mb(r['maxrss_kb'])} "
                f"| {_mb(r['children_maxrss_kb'])} | {workers} | {r['gpkg_mb']:.1f} | {same} |"
            )
    lines += _growth(results)
    for res in results:
        lines += _stage_table(res)
    lines += _targets(results)
    lines += ["", END]
    return "\n".join(lines)


def _growth(results: list[dict[str, Any]]) -> list[str]:
    """How total time grows with bays: the log-log slope from the smallest to the largest size, per mode."""
    if len(results) < 2:
        return []
    parts = []
    for mode in MODES:
        pts = sorted(
            (r["bays"], r["timings_s"]["total"]) for res in results for r in _good(res) if r["mode"] == mode
        )
        if len(pts) >= 2 and pts[0][0] != pts[-1][0]:
            slope = math.log(pts[-1][1] / pts[0][1]) / math.log(pts[-1][0] / pts[0][0])
            parts.append(f"{mode} {slope:.2f}")
    return [
        "",
        "Growth of the total time with the bays, `log(t₂ / t₁) / log(n₂ / n₁)` from the smallest to the "
        "largest size (1.00 is linear): " + ", ".join(parts) + ".",
    ]


def _stage_table(res: dict[str, Any]) -> list[str]:
    runs = _good(res)
    if not runs:
        return []
    by_mode = {r["mode"]: r["timings_s"] for r in runs}
    modes = list(by_mode)
    ratios = [m for m in modes if m != "local-1" and "local-1" in by_mode]
    lines = [
        "",
        f"#### Stage times at {_n(res['size'])} target bays (s)",
        "",
        "| stage | " + " | ".join(modes) + "".join(f" | local-1 / {m}" for m in ratios) + " |",
        "|---|" + "--:|" * (len(modes) + len(ratios)),
    ]
    rows = [(s, {m: t.get(s) for m, t in by_mode.items()}) for s in _stages(runs)]
    rows.append(("**model and layout**", {m: model_and_layout(t) for m, t in by_mode.items()}))
    rows.append(
        ("**total**: call of `plan` to the written file", {m: t["total"] for m, t in by_mode.items()})
    )
    zones = {r["mode"]: r.get("zones_first_use_s") for r in runs}
    if all(v is not None for v in zones.values()):
        rows.append(("zones layer on first use (`plan.zones`, after the total; not written)", zones))
    for name, cells in rows:
        times = " | ".join("—" if cells[m] is None else f"{cells[m]:.3f}" for m in modes)
        speed = "".join(f" | {_speedup(cells['local-1'], cells[m])}" for m in ratios)
        lines.append(f"| {name} | {times}{speed} |")
    spread = {r["mode"]: r.get("repeats", []) for r in runs}
    if any(len(v) > 1 for v in spread.values()):
        cells = " | ".join(
            " / ".join(f"{ml:.2f}" for ml, _ in sorted(spread[m])) if spread[m] else "—" for m in modes
        )
        lines.append(f"| model and layout, each run (sorted) | {cells}" + " |" * len(ratios) + " |")
    extra = {
        "import (parkplan and its libraries)": {r["mode"]: r["import_s"] for r in runs},
        "whole process (start to exit)": {r["mode"]: r["process_s"] for r in runs},
        "Dask cluster start (before the timer)": {
            r["mode"]: r["dask"]["startup_s"] for r in runs if r["dask"] is not None
        },
    }
    for name, cells in extra.items():
        if cells:
            times = " | ".join(f"{cells[m]:.3f}" if m in cells else "—" for m in modes)
            lines.append(f"| {name} | {times}" + " |" * len(ratios) + " |")
    return lines


def _targets(results: list[dict[str, Any]]) -> list[str]:
    """The issue's targets, met or missed."""
    secs, mb = TARGETS[TARGET_SIZE]
    verdicts = []
    at_target = next((res for res in results if res["size"] == TARGET_SIZE), None)
    if at_target is None:
        verdicts.append(f"{_n(TARGET_SIZE)} bays in {secs:g} s and {mb:,.0f} MB: not run at this size")
    else:
        for r in _good(at_target):
            total, rss = r["timings_s"]["total"], r["maxrss_kb"] / 1024
            verdicts.append(
                f"{r['mode']}: {total:.1f} s against {secs:g} s ({_ok(total <= secs)}), process peak "
                f"{rss:,.0f} MB against {mb:,.0f} MB ({_ok(rss <= mb)})"
            )
    largest = max(results, key=lambda res: res["size"])
    by_mode = {r["mode"]: model_and_layout(r["timings_s"]) for r in _good(largest)}
    where = f"at {_n(largest['size'])} target bays" + (
        "" if largest["size"] == TARGET_SIZE else f" (the largest run; the target is for {_n(TARGET_SIZE)})"
    )
    for mode in ("local-2", "dask-2"):
        if "local-1" in by_mode and mode in by_mode and by_mode[mode] > 0:
            ratio = by_mode["local-1"] / by_mode[mode]
            verdicts.append(
                f"model and layout local-1 / {mode} {where}: {ratio:.2f} × against {TARGET_SPEEDUP:g} × "
                f"({_ok(ratio >= TARGET_SPEEDUP)})"
            )
    n_runs = max((len(r.get("repeats", [])) for res in results for r in _good(res)), default=1)
    return [
        "",
        ("Issue targets (medians of " + str(n_runs) + " runs; " if n_runs > 1 else "Issue targets (")
        + "2 cores; end to end: read, plan, write GeoPackage; model and layout = "
        + " + ".join(f"`{s}`" for s in MODEL_AND_LAYOUT)
        + "): "
        + "; ".join(verdicts)
        + ".",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES, help="target bays per city")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rules", default="cn", help="preset or rules file (default cn)")
    parser.add_argument("--keep-inputs", type=Path, metavar="DIR", help="keep the cities' files here; reuse")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run (default 3600)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per size and mode; medians are reported (default 1)"
    )
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="benchmark src/parkplan of this commit (git archive), not the working tree",
    )
    add_output_args(parser)
    parser.add_argument("--child", choices=["plan"], help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=list(MODES), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "plan":
        print(json.dumps(child_plan(args.mode, args.folder, args.rules)))
        return 0

    exported = tempfile.TemporaryDirectory(prefix="parkplan-source-") if args.commit else None
    code = export_commit(args.commit, Path(exported.name)) if exported is not None else git_state()
    info: dict[str, Any] = dict(
        vars(args),
        date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine([*PACKAGES, "dask", "distributed"]),
        git=code,
        load_start=load_average(),
    )
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="parkplan-scaling-inputs-") as scratch:
        for size in args.sizes:
            folder, city = city_inputs(size, args, Path(scratch))
            print(
                f"{size:,} bays: {city['kerbs']:,} kerbs, {city['hazards']:,} hazards"
                + (" (reused)" if city.get("reused") else f", generated in {city['generate_s']:.2f} s"),
                file=sys.stderr,
                flush=True,
            )
            repeats: dict[str, list[dict[str, Any]]] = {mode: [] for mode in args.modes}
            for _ in range(max(args.repeat, 1)):
                for mode in args.modes:
                    r = run_mode(mode, folder, args.rules, args.timeout)
                    repeats[mode].append(r)
                    if "error" in r:
                        print(f"{size:,} {mode}: FAILED {r['error']}", file=sys.stderr, flush=True)
                        continue
                    print(
                        f"{size:,} {mode}: {r['bays']:,} bays, {r['status']}, "
                        f"total {r['timings_s']['total']:.2f} s, model and layout "
                        f"{model_and_layout(r['timings_s']):.2f} s, "
                        f"peak RSS {r['maxrss_kb'] / 1024:,.0f} MB, "
                        f"bays {r['bays_sha256'][:12]}",
                        file=sys.stderr,
                        flush=True,
                    )
            runs = {mode: combine(rs) for mode, rs in repeats.items()}
            results.append({"size": size, "city": city, "runs": runs, "repeats": repeats})
            if args.keep_inputs is None:
                shutil.rmtree(folder, ignore_errors=True)
    info["load_end"] = load_average()
    if exported is not None:
        exported.cleanup()
    if args.json is not None:
        raw = {"info": info, "results": results}
        args.json.write_text(json.dumps(raw, indent=2, default=str) + "\n", encoding="utf-8")
    section = markdown(results, info)
    print(section)
    if args.no_doc:
        return 0
    write_doc(section, args.doc, START, END)
    print(f"updated {args.doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
