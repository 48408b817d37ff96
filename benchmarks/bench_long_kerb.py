"""Benchmark: one very long kerb (a zigzag of 50,000 to 200,000 vertices) planned end to end.

Run from anywhere (paths are relative to the repository root)::

    python benchmarks/bench_long_kerb.py                        # 50k, 100k, 200k vertices; cn and de
    python benchmarks/bench_long_kerb.py --sizes 20000 50000 --rules cn --repeats 3
    python benchmarks/bench_long_kerb.py --no-doc --json r.json

The kerb (:func:`zigzag`) is one LineString in a metric CRS (EPSG:25833, placed in Berlin so the
coordinates have realistic magnitude): straight passes of :data:`PASS_M` metres with a vertex every
:data:`STEP_M` metres, alternately east and west, :data:`SPACING_M` metres apart, joined at their ends;
``round(N / 1001)`` passes for a target of ``N`` vertices (200,200 vertices and 28.1 km at 200,000). Its
carriageway lies south of the first pass (``side = left``), so the first and the last pass face out
and park; every other pass has the next one 0.7 m in front of it. A few hazards lie along it
(:func:`hazards`). Such a kerb is what survey data gives for a city block's ring (tens of thousands of
vertices), packed tighter than any real one so that every part of the room check and the hazard
matching meets many other parts of the same kerb.

Every run (one size, one preset, one repeat) is a fresh Python process: the kerb and hazards are built
in it (``generate``, not part of ``plan``), then ``parkplan.plan(kerbs, hazards, rules=...)`` runs on
all local CPUs; its peak resident set size (``getrusage(RUSAGE_SELF).ru_maxrss``) is that run's own.
The growth exponent between two sizes is ``log(t2 / t1) / log(n2 / n1)`` (1 is linear, 2 quadratic).
The results are written as Markdown between the markers ``<!-- bench:long-kerb:start -->`` and
``<!-- bench:long-kerb:end -->`` of ``docs/benchmarks.md``; text outside the markers is kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    add_output_args,
    fmt_s,
    git_state,
    load_average,
    machine,
    med,
    publish,
    same,
    source_hash,
)

ROOT = Path(__file__).resolve().parents[1]
START = "<!-- bench:long-kerb:start -->"
END = "<!-- bench:long-kerb:end -->"
SIZES = [50_000, 100_000, 200_000]
RULES = ["cn", "de"]
PACKAGES = ["shapely", "geopandas", "ortools", "numpy", "pandas", "parkplan"]
STAGES = ["read", "kerbs", "intervals", "model_build", "solve", "quotas", "layout"]
CRS = "EPSG:25833"
X0, Y0 = 391_000.0, 5_818_000.0
PASS_M = 140.0
"""Length of one pass of the zigzag (metres)."""
STEP_M = 0.14
"""Distance between the vertices along a pass (metres): 1,001 vertices per pass."""
SPACING_M = 0.7
"""Distance between neighbouring passes (metres)."""
HAZARD_SETS = {"all": "all six", "lines": "the three lines", "none": "none"}
TARGET_S = 30.0
"""The issue's target: 200,000 vertices planned in under 30 s on 2 cores."""


def zigzag(n_vertices: int) -> Any:
    """The benchmark kerb's vertices: ``round(n_vertices / 1001)`` passes (at least 1), ``(n, 2)`` array."""
    import numpy as np

    per = round(PASS_M / STEP_M) + 1
    passes = max(round(n_vertices / per), 1)
    x = np.linspace(0.0, PASS_M, per)
    rows = [
        np.column_stack([x if i % 2 == 0 else x[::-1], np.full(per, i * SPACING_M)]) for i in range(passes)
    ]
    return np.vstack(rows) + np.array([X0, Y0])


def hazards(passes: int, which: str = "all") -> Any:
    """A few hazards: on the first pass a hydrant and a driveway, on the last a no-parking line and a
    driveway, and a hydrant and a bus stop among the inner passes (their kerb is closed already).

    ``which``: ``"all"``, ``"lines"`` (the three lines only) or ``"none"``.
    """
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    last = (passes - 1) * SPACING_M
    out = 1.0 if passes % 2 == 0 else -1.0  # the last pass faces north when it runs west
    rows = [
        ("h1", "hydrant", Point(25.0, -0.3)),
        ("d1", "driveway", LineString([(100.0, 3.0), (100.0, -3.0)])),
        ("n1", "no_parking", LineString([(10.0, last + 0.2 * out), (30.0, last + 0.2 * out)])),
        ("d2", "driveway", LineString([(110.0, last - 3.0 * out), (110.0, last + 3.0 * out)])),
        ("h2", "hydrant", Point(70.0, last / 2.0 + 0.35)),
        ("b1", "bus_stop", Point(40.0, last / 3.0 + 0.35)),
    ]
    if which != "all":
        rows = [r for r in rows if which == "lines" and r[2].geom_type == "LineString"]
    geoms = [shapely_translate(g) for _, _, g in rows]
    return gpd.GeoDataFrame(
        {"hazard_id": [r[0] for r in rows], "kind": [r[1] for r in rows]}, geometry=geoms, crs=CRS
    )


def shapely_translate(geom: Any) -> Any:
    """``geom`` moved to the benchmark's origin (``X0``, ``Y0``)."""
    import numpy as np
    import shapely

    return shapely.transform(geom, lambda xy: xy + np.array([X0, Y0]))


# --------------------------------------------------------------------------------------------- child


def child(size: int, rules: str, which: str) -> dict[str, Any]:
    """One run in this (fresh) process; returns the measurements as a JSON-able dict."""
    import resource

    t_import = time.perf_counter()
    import geopandas as gpd
    import shapely

    import parkplan

    import_s = time.perf_counter() - t_import
    t0 = time.perf_counter()
    xy = zigzag(size)
    line = shapely.LineString(xy)
    kerbs = gpd.GeoDataFrame({"curb_id": ["zigzag"], "side": ["left"]}, geometry=[line], crs=CRS)
    passes = len(xy) // (round(PASS_M / STEP_M) + 1)
    haz = hazards(passes, which)
    generate_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    plan = parkplan.plan(kerbs, haz, rules=rules)
    plan_s = time.perf_counter() - t1
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    bays = plan.bays
    geoms = bays.geometry.values
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    overlap = (
        float(shapely.area(shapely.intersection(geoms[i[keep]], geoms[j[keep]])).sum()) if keep.any() else 0.0
    )
    s = plan.summary
    return {
        "size": size,
        "rules": rules,
        "vertices": len(xy),
        "passes": passes,
        "kerb_km": line.length / 1000.0,
        "hazards": len(haz),
        "hazards_matched": int(s["hazards"]["matched"]),
        "bays": len(bays),
        "bays_first_pass": int((bays["end_m"] <= PASS_M + 1e-6).sum()),
        "overlap_m2": overlap,
        "zones": len(plan.zones),
        "status": s["solver"]["status"],
        "timings_s": s["timings_s"],
        "plan_s": plan_s,
        "generate_s": generate_s,
        "import_s": import_s,
        "maxrss_kb": maxrss_kb,
    }


def run_child(args: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark run failed: {' '.join(cmd)} (exit {proc.returncode})")
    last = [line for line in proc.stdout.splitlines() if line.startswith("{")][-1]
    result: dict[str, Any] = json.loads(last)
    result["process_s"] = wall
    return result


# -------------------------------------------------------------------------------------------- report


def exponent(n1: float, t1: float, n2: float, t2: float) -> float:
    """Growth exponent ``log(t2 / t1) / log(n2 / n1)``."""
    return math.log(t2 / t1) / math.log(n2 / n1)


def markdown(results: dict[str, list[list[dict[str, Any]]]], info: dict[str, Any]) -> str:
    """The results as the Markdown section between the markers."""
    m, g = info["machine"], info["git"]
    v = m["versions"]
    dirty = f" + uncommitted changes in {', '.join(g['dirty'])}" if g["dirty"] else ""
    repeats = info["repeats"]
    lines = [
        START,
        "<!-- generated by benchmarks/bench_long_kerb.py; edits between the markers are overwritten -->",
        "",
        f"### One long kerb: {info['date']}",
        "",
        f"- Kerb: `zigzag(N)`, passes of {PASS_M:g} m with a vertex every {STEP_M:g} m, "
        f'{SPACING_M:g} m apart; hazards: `hazards(passes, "{info["hazards"]}")` '
        f"({HAZARD_SETS[info['hazards']]}); "
        "`parkplan.plan(kerbs, hazards, rules=...)` on all CPUs.",
        f"- Code: commit `{g['commit']}` ({g['subject']}){dirty}; parkplan source hash `{info['source']}`.",
        f"- Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}"
        + (f", {m['mem_gib']:.0f} GiB RAM" if m["mem_gib"] else "")
        + f", {m['os']}; Python {m['python']}; shapely {v['shapely']}, geopandas {v['geopandas']}, "
        f"ortools {v['ortools']}, numpy {v['numpy']}, pandas {v['pandas']}.",
        f"- Load average (1, 5, 15 min) at start: {info['load_start']}; at end: {info['load_end']}.",
        f"- {repeats} run(s) per size and preset, each a fresh process"
        + ("; times are median / min in seconds." if repeats > 1 else "; times in seconds."),
        "",
        "| rules | vertices | passes | kerb km | plan s | of which room check and hazards (`intervals`) s "
        "| layout s | peak RSS MB | bays | overlap m² | growth exponent (from the size before) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    verdicts = []
    for rules, per_size in results.items():
        prev: tuple[float, float] | None = None
        for runs in per_size:
            r0 = runs[0]
            t = med([r["plan_s"] for r in runs])
            growth = "—" if prev is None else f"{exponent(prev[0], prev[1], r0['vertices'], t):.2f}"
            prev = (r0["vertices"], t)
            lines.append(
                f"| {rules} | {r0['vertices']:,} | {r0['passes']} | {r0['kerb_km']:.1f} "
                f"| {fmt_s([r['plan_s'] for r in runs])} "
                f"| {fmt_s([r['timings_s'].get('intervals', 0.0) for r in runs])} "
                f"| {fmt_s([r['timings_s'].get('layout', 0.0) for r in runs])} "
                f"| {max(r['maxrss_kb'] for r in runs) / 1024:,.0f} | {same([r['bays'] for r in runs])} "
                f"| {max(r['overlap_m2'] for r in runs):.2f} | {growth} |"
            )
        first, last = per_size[0], per_size[-1]
        if len(per_size) > 1:
            t1 = med([r["plan_s"] for r in first])
            t2 = med([r["plan_s"] for r in last])
            verdicts.append(
                f"{rules}: {first[0]['vertices']:,} → {last[0]['vertices']:,} vertices, exponent "
                f"{exponent(first[0]['vertices'], t1, last[0]['vertices'], t2):.2f}"
            )
        if last[0]["vertices"] >= 200_000:
            t2 = med([r["plan_s"] for r in last])
            verdicts.append(
                f"{rules} at {last[0]['vertices']:,} vertices: {t2:.1f} s against {TARGET_S:g} s "
                + ("(met)" if t2 <= TARGET_S else "(**missed**)")
            )
    lines += ["", "Overall: " + "; ".join(verdicts) + ".", "", END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES, help="target vertices of the kerb")
    parser.add_argument("--rules", nargs="+", default=RULES, help="presets (default cn de)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per size and preset (fresh processes)")
    parser.add_argument(
        "--hazards",
        choices=["all", "lines", "none"],
        default="all",
        help="which of the six hazards (default all)",
    )
    add_output_args(parser)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.sizes[0], args.rules[0], args.hazards)))
        return 0
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    info: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(PACKAGES),
        "git": git_state(),
        "source": source_hash(ROOT / "src" / "parkplan"),
        "load_start": load_average(),
        "repeats": args.repeats,
        "hazards": args.hazards,
    }
    results: dict[str, list[list[dict[str, Any]]]] = {}
    print(
        "rules  vertices  passes  kerb km   plan s  intervals s  peak RSS MB  bays  exponent", file=sys.stderr
    )
    for rules in args.rules:
        results[rules] = []
        prev: tuple[float, float] | None = None
        for size in sorted(args.sizes):
            runs = [
                run_child(["--child", "--sizes", str(size), "--rules", rules, "--hazards", args.hazards])
                for _ in range(args.repeats)
            ]
            results[rules].append(runs)
            r0 = runs[0]
            t = med([r["plan_s"] for r in runs])
            growth = "" if prev is None else f"{exponent(prev[0], prev[1], r0['vertices'], t):.2f}"
            prev = (r0["vertices"], t)
            print(
                f"{rules:5}  {r0['vertices']:8,}  {r0['passes']:6}  {r0['kerb_km']:7.1f}  {t:7.2f}  "
                f"{med([r['timings_s'].get('intervals', 0.0) for r in runs]):11.2f}  "
                f"{max(r['maxrss_kb'] for r in runs) / 1024:11,.0f}  {r0['bays']:4}  {growth}",
                file=sys.stderr,
                flush=True,
            )
    info["load_end"] = load_average()
    section = markdown(results, info)
    publish(section, args, START, END, {"info": info, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
