"""Benchmark: plan the whole Neukölln kerb layer (read, solve, write GeoJSON) and time every stage.

Run from anywhere (paths are relative to the repository root)::

    python benchmarks/bench_neukoelln.py                       # de-parkraum and cn, 3 repeats each
    python benchmarks/bench_neukoelln.py --rules cn --repeats 5
    python benchmarks/bench_neukoelln.py --cpsat               # also every preset with presolve=False
    python benchmarks/bench_neukoelln.py --no-doc --json r.json

Every run (one preset, one mode, one repeat) is a fresh Python process, so its peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is that run's own. The results are written as Markdown
between the markers ``<!-- bench:neukoelln:start -->`` and ``<!-- bench:neukoelln:end -->`` of
``docs/benchmarks.md``; text outside the markers is kept.

Beside parkplan's count the child also counts the *subtractive baseline* on the very same free
stretches: ``floor(F / length_m)`` bays per stretch with the preset's bay length (and parkplan's 1 mm
tolerance), which is the Berlin tools' formula with the same bay length and no grouping.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    ROOT,
    add_output_args,
    fmt_s,
    git_state,
    load_average,
    machine,
    med,
    publish,
    same,
    source_hash,
    stretches_from_plan,
    summary_record,
)

START = "<!-- bench:neukoelln:start -->"
END = "<!-- bench:neukoelln:end -->"
STAGES = ["load", "extent", "read", "kerbs", "intervals", "model_build", "solve", "layout", "write", "total"]
PACKAGES = ["shapely", "geopandas", "ortools", "numpy", "pandas", "pyogrio", "pyproj", "parkplan"]
BERLIN_CAR_M, BERLIN_GAP_M = 4.4, 0.8
"""The Berlin tools' constants: capacity = floor((L + 0.8) / (4.4 + 0.8)) per stretch (field survey)."""


def default_data() -> Path:
    shared = ROOT.parent / "shared" / "data" / "neukoelln-kerbs"
    return shared if shared.is_dir() else ROOT / "examples" / "data" / "neukoelln-kerbs"


# --------------------------------------------------------------------------------------------- child


def child(data: Path, rules: str, presolve: bool) -> dict[str, Any]:
    """One run in this (fresh) process; returns the measurements as a JSON-able dict."""
    import importlib.util
    import resource

    t_import = time.perf_counter()
    import geopandas as gpd
    import numpy as np

    import parkplan

    spec = importlib.util.spec_from_file_location("neukoelln_kerbs", ROOT / "examples" / "neukoelln_kerbs.py")
    assert spec is not None
    assert spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    import_s = time.perf_counter() - t_import

    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="parkplan-bench-") as tmp:
        t0 = time.perf_counter()
        areas = gpd.read_file(data / "kerb_street_areas.geojson")
        timings["load"] = time.perf_counter() - t0
        t = time.perf_counter()
        extent = example.data_extent(areas)
        timings["extent"] = time.perf_counter() - t
        plan = parkplan.plan(
            areas,
            [
                parkplan.HazardSource(data / "crossing.geojson", "crossing"),
                parkplan.HazardSource(data / "service_driveways.geojson", "driveway"),
            ],
            rules=rules,
            extent=extent,
            presolve=presolve,
        )
        out = Path(tmp) / "bays.geojson"
        written = plan.write(out)  # the summary as written: with timings_s["write"]
        timings["total"] = time.perf_counter() - t0
        raw = out.read_bytes()
    timings.update({k: float(v) for k, v in written["timings_s"].items()})

    # Baseline on the same free stretches: the plan's zones (mapped back to kerb rows) minus the kerbs.
    t = time.perf_counter()
    stretches = stretches_from_plan(plan)
    free = stretches["length_m"].to_numpy(dtype=float)
    stretch_s = time.perf_counter() - t
    bay = plan.rules.bays[0]
    t = time.perf_counter()
    base = np.floor((free + 0.001) / bay.length_m + 1e-9).astype(np.int64)
    base_s = time.perf_counter() - t
    berlin = np.floor((free + BERLIN_GAP_M) / (BERLIN_CAR_M + BERLIN_GAP_M) + 1e-9).astype(np.int64)

    s = plan.summary
    return {
        "rules": rules,
        "presolve": presolve,
        "import_s": import_s,
        "timings_s": timings,
        **summary_record(s),
        "bays_by_type": s["bays"]["by_type"],
        "corners": s["kerbs"]["corners"],
        "hazards_matched": s["hazards"]["matched"],
        "stretches": len(stretches),
        "free_km": float(free.sum()) / 1000.0,
        "bay_types": len(plan.rules.bays),
        "bay_length_m": bay.length_m,
        "grouping": None if (g := plan.rules.grouping) is None else [g.max_run_m, g.gap_m],
        "baseline_bays": int(base.sum()),
        "baseline_count_s": base_s,
        "stretches_s": stretch_s,
        "berlin_bays": int(berlin.sum()),
        "geojson_mb": len(raw) / 1e6,
        "geojson_sha256": hashlib.sha256(raw).hexdigest(),
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "parkplan_file": str(Path(parkplan.__file__).parent),
        "source_sha256": source_hash(Path(parkplan.__file__).parent),
    }


# -------------------------------------------------------------------------------------------- parent


def run_child(data: Path, rules: str, presolve: bool) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--data", str(data), "--rules", rules]
    if not presolve:
        cmd.append("--no-presolve")
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark run failed: {' '.join(cmd)} (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    return result


def label(rules: str, presolve: bool) -> str:
    return rules if presolve else f"{rules}, presolve off"


def markdown(groups: list[list[dict[str, Any]]], info: dict[str, Any], data: Path, repeats: int) -> str:
    m, g = info["machine"], info["git"]
    v = m["versions"]
    src = sorted({r["source_sha256"] for grp in groups for r in grp})
    dirty = f" + uncommitted changes in {', '.join(g['dirty'])}" if g["dirty"] else ""
    try:
        data_label = str(data.relative_to(ROOT.parent))
    except ValueError:
        data_label = str(data)
    lines = [
        START,
        "<!-- generated by benchmarks/bench_neukoelln.py; edits between the markers are overwritten -->",
        "",
        f"### Neukölln kerb layer: {info['date']}",
        "",
        f"- Data: `{data_label}` (street areas with `data_extent` from `examples/neukoelln_kerbs.py`, "
        "crossings as `crossing`, service ways as `driveway`).",
        f"- Code: commit `{g['commit']}` ({g['subject']}){dirty}; parkplan source hash `{', '.join(src)}`.",
        f"- Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}"
        + (f", {m['mem_gib']:.0f} GiB RAM" if m["mem_gib"] else "")
        + f", {m['os']}.",
        f"- Python {m['python']}; shapely {v['shapely']}, geopandas {v['geopandas']}, "
        f"ortools {v['ortools']}, numpy {v['numpy']}, pandas {v['pandas']}, pyogrio {v['pyogrio']}, "
        f"pyproj {v['pyproj']}.",
        f"- Load average (1, 5, 15 min) at start: {info['load_start']}; at end: {info['load_end']}.",
        f"- {repeats} repeat(s) per configuration, each a fresh process; times are median / min in seconds.",
        "",
        "#### Result",
        "",
        "| rules | bays | objective | bound | gap | status | kerbs | kerb km | free stretches | presolved "
        "| CP-SAT models | peak RSS MB (median / max) | bays.geojson MB | same output every repeat |",
        "|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for grp in groups:
        r0 = grp[0]
        rss = [r["maxrss_kb"] / 1024 for r in grp]
        identical = "yes" if len({r["geojson_sha256"] for r in grp}) == 1 else "**no**"
        gaps = [f"{r['gap']:.2%}" for r in grp]
        lines.append(
            f"| {label(r0['rules'], r0['presolve'])} | {same([r['bays'] for r in grp])} "
            f"| {same([r['objective'] for r in grp])} | {same([r['bound'] for r in grp])} "
            f"| {same(gaps)} | {same([r['status'] for r in grp])} "
            f"| {r0['kerbs']} | {r0['kerb_km']:.1f} | {r0['stretches']} | {r0['presolved']} | {r0['models']} "
            f"| {med(rss):.0f} / {max(rss):.0f} | {r0['geojson_mb']:.1f} | {identical} |"
        )
    lines += [
        "",
        "#### Stage times (s, median / min)",
        "",
        "| stage | " + " | ".join(label(grp[0]["rules"], grp[0]["presolve"]) for grp in groups) + " |",
        "|---|" + "--:|" * len(groups),
    ]
    notes = {
        "load": "`gpd.read_file` of the street areas",
        "extent": "`data_extent` (example's margin removal)",
        "read": "parkplan: check kerbs, read hazard files",
        "kerbs": "metric CRS, rings, corners",
        "intervals": "hazard matching, zones, free stretches",
        "model_build": "presolve and CP-SAT model building",
        "solve": "CP-SAT",
        "layout": "bay polygons, zones, accounting",
        "write": "bays GeoJSON (RFC 7946)",
        "total": "load to written file",
    }
    for stage in STAGES:
        cells = [fmt_s([r["timings_s"].get(stage, 0.0) for r in grp]) for grp in groups]
        name = f"**{stage}**" if stage == "total" else stage
        lines.append(f"| {name}: {notes[stage]} | " + " | ".join(cells) + " |")
    lines.append(
        "| import (parkplan, geopandas, ortools) | "
        + " | ".join(fmt_s([r["import_s"] for r in grp]) for grp in groups)
        + " |"
    )
    lines.append(
        "| whole process (start to exit) | "
        + " | ".join(fmt_s([r["process_s"] for r in grp]) for grp in groups)
        + " |"
    )
    lines += [
        "",
        "#### Against the subtractive baseline on the same free stretches",
        "",
        "Baseline: `floor(F / length_m)` bays on every free stretch `F` (1 mm tolerance), with the preset's "
        "bay length: the subtractive method of the Berlin tools with the same bay length and no grouping. "
        "Berlin formula: the tools' own constants, `floor((F + 0.8) / (4.4 + 0.8))` (a 5.2 m pitch whose "
        "last 0.8 m gap may be missing), on the same stretches, for reference only.",
        "",
        "| rules | bay length m | grouping | free km | baseline bays | parkplan bays | parkplan − baseline "
        "| Berlin formula bays | baseline count s | parkplan model_build + solve s |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for grp in groups:
        r0 = grp[0]
        grouping = "none"
        if r0["grouping"] is not None:
            grouping = f"runs ≤ {r0['grouping'][0]:g} m, gaps ≥ {r0['grouping'][1]:g} m"
        diff = r0["bays"] - r0["baseline_bays"]
        opt = [r["timings_s"].get("model_build", 0.0) + r["timings_s"].get("solve", 0.0) for r in grp]
        types = "" if r0["bay_types"] == 1 else f" (first of {r0['bay_types']} types)"
        lines.append(
            f"| {label(r0['rules'], r0['presolve'])} | {r0['bay_length_m']:g}{types} | {grouping} "
            f"| {r0['free_km']:.1f} "
            f"| {r0['baseline_bays']} | {r0['bays']} | {diff:+d} ({diff / max(r0['baseline_bays'], 1):+.2%}) "
            f"| {r0['berlin_bays']} | {med([r['baseline_count_s'] for r in grp]):.5f} | {med(opt):.4f} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder with kerb_street_areas.geojson, crossing.geojson and service_driveways.geojson "
        "(default: ../shared/data/neukoelln-kerbs if it exists, else examples/data/neukoelln-kerbs)",
    )
    parser.add_argument("--rules", nargs="+", default=["de-parkraum", "cn"], help="presets or rules files")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--cpsat",
        action="store_true",
        help="also run every preset with presolve=False (everything through CP-SAT; can be slow)",
    )
    add_output_args(parser)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-presolve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data = (args.data or default_data()).resolve()
    for name in ("kerb_street_areas.geojson", "crossing.geojson", "service_driveways.geojson"):
        if not (data / name).is_file():
            parser.error(f"{data / name} not found")

    if args.child:
        print(json.dumps(child(data, args.rules[0], not args.no_presolve)))
        return 0
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    info = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(PACKAGES),
        "git": git_state(),
        "load_start": load_average(),
    }
    modes = [True, False] if args.cpsat else [True]
    groups: list[list[dict[str, Any]]] = []
    for rules in args.rules:
        for presolve in modes:
            grp = []
            for i in range(args.repeats):
                r = run_child(data, rules, presolve)
                t = r["timings_s"]
                print(
                    f"{label(rules, presolve)} run {i + 1}/{args.repeats}: {r['bays']} bays, {r['status']}, "
                    f"total {t['total']:.2f} s (solve {t['solve']:.2f} s), "
                    f"peak RSS {r['maxrss_kb'] / 1024:.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
                grp.append(r)
            groups.append(grp)
    info["load_end"] = load_average()
    section = markdown(groups, info, data, args.repeats)
    publish(section, args, START, END, {"info": info, "runs": groups})
    return 0


if __name__ == "__main__":
    sys.exit(main())
