"""Benchmark: plan synthetic Chinese cities of 20,000 to 1,300,000 bays end to end and time every stage.

Run from anywhere (paths are relative to the repository root)::

    python benchmarks/bench_synthetic.py                          # 20k, 100k, 400k, 1.3M bays, 1 repeat
    python benchmarks/bench_synthetic.py --sizes 20000 --repeats 3
    python benchmarks/bench_synthetic.py --sizes 20000 --no-doc --json r.json
    python benchmarks/bench_synthetic.py --sizes 1300000 --profile prof/   # also one cProfile'd run
    python benchmarks/bench_synthetic.py --calibrate          # refit the constants of parkplan.synthetic

The cities come from :func:`parkplan.synthetic.make_city` (seed 0 unless ``--seed``). For every size a
fresh process generates the city and writes its kerbs and hazards as input files (GeoPackage unless
``--input-format``); then every repeat is a fresh Python process that plans from those files and writes
the bays as RFC 7946 GeoJSON to a temporary folder, so its peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, taken right after the GeoJSON is written) is that run's
own. The results are written as Markdown between ``<!-- bench:synthetic:start -->`` and
``<!-- bench:synthetic:end -->`` in ``docs/benchmarks.md``; text outside the markers is kept.

Besides parkplan's own plan, each size is compared with

* the **subtractive method** on the same free stretches (the kerb minus the zones parkplan derived,
  with the same clearances): ``floor(F / pitch)`` bays per stretch with the rules' first bay type and
  parkplan's 1 mm tolerance, no grouping;
* a **naive monolithic CP-SAT model** (at ``--naive-sizes``, 20,000 bays by default), in a fresh process
  of its own: one model for the whole district on the same free stretches, an integer count per
  stretch and bay type, a length constraint per stretch, the sum maximised; with ``[grouping]`` an
  integer number of runs per stretch, ``sum(pitch * n) + gap * runs <= F + gap`` and ``sum(n) <= k *
  runs`` (``k`` bays in a full run: exact when all bay types have one pitch and no end triangle); with
  an ``accessible_min_share`` quota and an accessible bay type, ``sum(accessible) >= share * sum(all)``
  over the district (the coupling a monolithic model takes in directly; parkplan meets it after its
  optimisation, exactly when the accessible bay is the standard size). It runs with CP-SAT's default
  parameters on all cores (``nproc``) and a time limit (``--naive-time-limit``), and is timed from
  building the model to the proof of optimality.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
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
    nproc,
    publish,
    same,
    source_hash,
    stretches_from_plan,
    summary_record,
)

START = "<!-- bench:synthetic:start -->"
END = "<!-- bench:synthetic:end -->"
SIZES = [20_000, 100_000, 400_000, 1_300_000]
STAGES = ["read", "kerbs", "intervals", "model_build", "solve", "quotas", "layout", "write", "total"]
PACKAGES = ["shapely", "geopandas", "ortools", "numpy", "pandas", "pyogrio", "pyproj", "parkplan"]
SUFFIX = {"gpkg": ".gpkg", "fgb": ".fgb", "geojson": ".geojson"}
TARGETS = {20_000: (3.0, None), 1_300_000: (60.0, 4096.0)}
"""Targets stated in the issue: end-to-end seconds and peak MB (on 2 cores), by size."""

CALIBRATION_SIDES_KM = [1.5, 2.5, 4.0, 6.0, 10.0, 16.0]
CALIBRATION_SEEDS = [0, 1, 2, 3]
CHECK_TARGETS = [2_000, 20_000, 100_000, 400_000]
CHECK_SEEDS = [0, 1, 2, 3, 4]


# --------------------------------------------------------------------------------------------- children


def child_setup(size: int, seed: int, rules: str, folder: Path, fmt: str) -> dict[str, Any]:
    """Generate the city and write it as input files; returns counts and times."""
    import resource

    from parkplan.synthetic import make_city

    t0 = time.perf_counter()
    kerbs, hazards = make_city(size, seed=seed, rules=rules)
    generate_s = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    if fmt != "memory":
        kerbs.to_file(folder / f"kerbs{SUFFIX[fmt]}", engine="pyogrio")
        hazards.to_file(folder / f"hazards{SUFFIX[fmt]}", engine="pyogrio")
    write_s = time.perf_counter() - t
    size_mb = sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 1e6
    bounds = kerbs.total_bounds
    return {
        "generate_s": generate_s,
        "write_inputs_s": write_s,
        "generate_maxrss_kb": rss_kb,
        "kerbs": len(kerbs),
        "kerb_km": float(kerbs.length.sum()) / 1000.0,
        "streets": int(kerbs["street_id"].nunique()),
        "hazards": len(hazards),
        "hazards_by_kind": {str(k): int(v) for k, v in hazards["kind"].value_counts(sort=False).items()},
        "extent_km": [float(bounds[2] - bounds[0]) / 1000.0, float(bounds[3] - bounds[1]) / 1000.0],
        "input_mb": size_mb,
    }


def child_plan(size: int, seed: int, rules: str, folder: Path, fmt: str) -> dict[str, Any]:
    """Plan from the input files (or a freshly generated city), write GeoJSON; returns measurements."""
    import resource

    t_import = time.perf_counter()
    import numpy as np

    import parkplan
    from parkplan.optimize.solve import to_mm

    import_s = time.perf_counter() - t_import

    timings: dict[str, float] = {}
    if fmt == "memory":
        from parkplan.synthetic import make_city

        t = time.perf_counter()
        kerb_in, hazard_in = make_city(size, seed=seed, rules=rules)
        timings["generate"] = time.perf_counter() - t
        kerbs_arg: Any = kerb_in
        hazards_arg: Any = hazard_in
    else:
        kerbs_arg = folder / f"kerbs{SUFFIX[fmt]}"
        hazards_arg = folder / f"hazards{SUFFIX[fmt]}"
    captured, choice_s = _capture_stretches()
    with tempfile.TemporaryDirectory(prefix="parkplan-bench-") as tmp:
        t0 = time.perf_counter()
        plan = parkplan.plan(kerbs_arg, hazards_arg, rules=rules)
        out = Path(tmp) / "bays.geojson"
        written = plan.write(out)  # the summary as written: with timings_s["write"]
        timings["total"] = time.perf_counter() - t0
        maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        raw = out.read_bytes()
    timings.update({k: float(v) for k, v in written["timings_s"].items()})

    # The free stretches parkplan solved, exactly as it solved them when they could be captured; else
    # its zones (rounded to the millimetre in the output) mapped back to kerb rows and cut out of the kerbs.
    if captured:
        free = np.asarray(captured[-1], dtype=float)
        exact = True
    else:
        free = stretches_from_plan(plan)["length_m"].to_numpy(dtype=float)
        exact = False
    np.save(folder / "free_m.npy", free)
    bay = next((b for b in plan.rules.bays if b.role == "standard"), plan.rules.bays[0])
    t = time.perf_counter()
    base = to_mm(free) // int(np.ceil(bay.pitch_m * 1000.0 - 1e-6))
    base_s = time.perf_counter() - t

    s = plan.summary
    return {
        "size": size,
        "import_s": import_s,
        "timings_s": timings,
        **summary_record(s),
        "hazards_unmatched": s["hazards"]["unmatched"],
        "unmatched_by_kind": {
            k: v["unmatched"] for k, v in s["hazards"]["by_kind"].items() if v["unmatched"]
        },
        "cross_section": s.get("cross_section"),
        "stretches": len(free),
        "stretches_exact": exact,
        "free_km": float(free.sum()) / 1000.0,
        "bay_types": len(plan.rules.bays),
        "pitch_m": bay.pitch_m,
        "grouping": None if (g := plan.rules.grouping) is None else [g.max_run_m, g.gap_m],
        "baseline_bays": int(base.sum()),
        "summary_baseline": s.get("baseline"),
        "choice_s": float(sum(choice_s)) if choice_s else None,
        "baseline_count_s": base_s,
        "geojson_mb": len(raw) / 1e6,
        "geojson_sha256": hashlib.sha256(raw).hexdigest(),
        "maxrss_kb": maxrss_kb,
        "source_sha256": source_hash(Path(parkplan.__file__).parent),
    }


def _capture_stretches() -> tuple[list[Any], list[float]]:
    """Watch the plan about to run: its free stretches, and the time of the choice of sides.

    ``parkplan.plan`` calls ``sides.decide``, which solves every stretch and then chooses the sides with
    ``sides.choose_levels`` (CP-SAT, timed under ``intervals``). Returns two lists that receive the
    stretch lengths (metres) of every ``decide`` call and the seconds of every ``choose_levels`` call;
    they stay empty when this version of parkplan has no such functions to wrap.
    """
    stretches: list[Any] = []
    choice_s: list[float] = []
    module = sys.modules.get("parkplan.pipeline")
    decide = getattr(module, "decide", None)
    if module is not None and decide is not None:

        def wrapped_decide(*args: Any, **kwargs: Any) -> Any:
            decision = decide(*args, **kwargs)
            stretches.append(decision.stretches["length_m"].to_numpy(dtype=float).copy())
            return decision

        module.decide = wrapped_decide  # type: ignore[attr-defined]
    sides = sys.modules.get("parkplan.sides")
    choose = getattr(sides, "choose_levels", None)
    if sides is not None and choose is not None:

        def wrapped_choose(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return choose(*args, **kwargs)
            finally:
                choice_s.append(time.perf_counter() - t)

        sides.choose_levels = wrapped_choose  # type: ignore[attr-defined]
    return stretches, choice_s


def child_naive(folder: Path, rules: str, time_limit_s: float, workers: int) -> dict[str, Any]:
    """One CP-SAT model for every free stretch of the district, solved to optimality (or the limit)."""
    import numpy as np
    from ortools.sat.python import cp_model

    from parkplan.optimize.solve import WEIGHT_SCALE, bay_arrays, to_mm
    from parkplan.rules.loading import load_rules

    rule_set = load_rules(rules)
    bays = bay_arrays(rule_set)
    free = to_mm(np.load(folder / "free_m.npy"))
    roles = [b.role for b in rule_set.bays]
    share = None if rule_set.quotas is None else rule_set.quotas.accessible_min_share
    quota = share is not None and "accessible" in roles
    t0 = time.perf_counter()
    model = cp_model.CpModel()
    terms = []
    all_counts = []
    accessible = []
    n_types = bays.n_types
    grouping = rule_set.grouping
    run_mm = gap_mm = 0
    per_run = 0
    if grouping is not None:
        run_mm = int(np.floor(grouping.max_run_m * 1000.0 + 1.0 + 1e-6))
        gap_mm = int(np.ceil(grouping.gap_m * 1000.0 - 1e-6))
        per_run = int((run_mm - int(bays.end_mm.max())) // int(bays.pitch_mm.min()))
    n_vars = 0
    for s, f in enumerate(free.tolist()):
        if f < bays.min_span_mm:
            continue
        counts = []
        length = []
        for t in range(n_types):
            p, e = int(bays.pitch_mm[t]), int(bays.end_mm[t])
            n = model.new_int_var(0, max((f - e) // p, 0), f"n{s}_{t}")
            counts.append(n)
            length.append(p * n)
            if e > 0:
                u = model.new_bool_var(f"u{s}_{t}")
                model.add(n <= max((f - e) // p, 0) * u)
                length.append(e * u)
            terms.append(int(bays.weight[t]) * n)
            all_counts.append(n)
            if roles[t] == "accessible":
                accessible.append(n)
            n_vars += 1
        if grouping is None:
            model.add(sum(length) <= f)
        else:
            runs = model.new_int_var(0, (f + gap_mm) // (int(bays.min_span_mm) + gap_mm) + 1, f"r{s}")
            model.add(sum(length) + gap_mm * runs <= f + gap_mm)
            model.add(sum(counts) <= per_run * runs)
            n_vars += 1
    if quota and all_counts:
        # The district-wide share of accessible bays (GA/T 850: 2 %), in per mille to stay integer.
        model.add(1000 * sum(accessible) >= round(1000 * float(share or 0.0)) * sum(all_counts))
    model.maximize(sum(terms))
    build_s = time.perf_counter() - t0
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    t1 = time.perf_counter()
    status = solver.solve(model)
    solve_s = time.perf_counter() - t1
    ok = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return {
        "status": solver.status_name(status),
        "objective": solver.objective_value / WEIGHT_SCALE if ok else None,
        "bound": solver.best_objective_bound / WEIGHT_SCALE if ok else None,
        "stretches": len(free),
        "variables": n_vars,
        "build_s": build_s,
        "solve_s": solve_s,
        "time_limit_s": time_limit_s,
        "workers": workers,
        "quota": quota,
        "exact": grouping is None or (len(set(bays.pitch_mm.tolist())) == 1 and not bays.end_mm.any()),
    }


# ------------------------------------------------------------------------------------------ calibration


def calibrate(rules: list[str], out: Path | None) -> None:
    """Fit ``bays = a * area + b * perimeter`` per preset, then check ``make_city`` against its targets."""
    import numpy as np

    import parkplan
    from parkplan import synthetic

    fits: dict[str, tuple[float, float]] = {}
    rows: list[dict[str, Any]] = []
    for name in rules:
        rule_set = parkplan.load_rules(name)
        xs, ys = [], []
        for side in CALIBRATION_SIDES_KM:
            for seed in CALIBRATION_SEEDS:
                kerbs, hazards = synthetic.grid_city(
                    side * 1000.0, side * 1000.0, seed, traffic=rule_set.traffic
                )
                n = parkplan.plan(kerbs, hazards, rules=rule_set).summary["bays"]["total"]
                xs.append([side * side, 4.0 * side])
                ys.append(n)
                print(f"{name}: {side:g} km, seed {seed}: {n} bays", file=sys.stderr, flush=True)
        coef, *_ = np.linalg.lstsq(np.array(xs), np.array(ys, dtype=float), rcond=None)
        fits[name] = (round(float(coef[0]), 2), round(float(coef[1]), 2))
        print(f"{name}: a = {coef[0]:.2f} bays/km2, b = {coef[1]:.2f} bays/km of perimeter", file=sys.stderr)
    print("CALIBRATION = " + json.dumps(fits))
    # Check make_city with the constants just fitted (paste them into parkplan.synthetic.CALIBRATION).
    synthetic.CALIBRATION.update(fits)
    for name in rules:
        for target in CHECK_TARGETS:
            counts = []
            for seed in CHECK_SEEDS:
                kerbs, hazards = synthetic.make_city(target, seed=seed, rules=name)
                counts.append(parkplan.plan(kerbs, hazards, rules=name).summary["bays"]["total"])
            dev = [c / target - 1.0 for c in counts]
            rows.append({"rules": name, "target": target, "bays": counts, "deviation": dev})
            print(
                f"{name} target {target}: {counts} (deviation {min(dev):+.1%} .. {max(dev):+.1%})",
                file=sys.stderr,
                flush=True,
            )
    if out is not None:
        out.write_text(json.dumps({"fits": fits, "checks": rows}, indent=2) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------- parent


CHILD_ENV: dict[str, str] = dict(os.environ)
"""Environment of the child processes (``--commit`` puts the exported source first on PYTHONPATH)."""


def run_child(args: list[str], profile: Path | None = None) -> dict[str, Any]:
    cmd = [sys.executable]
    if profile is not None:
        cmd += ["-m", "cProfile", "-o", str(profile)]
    cmd += [str(Path(__file__).resolve()), *args]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=CHILD_ENV)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark run failed: {' '.join(cmd)} (exit {proc.returncode})")
    last = [line for line in proc.stdout.splitlines() if line.startswith("{")][-1]
    result: dict[str, Any] = json.loads(last)
    result["process_s"] = wall
    return result


def export_commit(rev: str, dest: Path) -> dict[str, Any]:
    """Export ``src/parkplan`` of commit ``rev`` into ``dest`` (``git archive``) for the children to import.

    The working tree's ``synthetic.py`` is added when the commit has none. Returns what the doc reports.
    """
    import io
    import shutil
    import tarfile

    def git(*args: str) -> bytes:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=True).stdout

    archive = git("archive", "--format=tar", rev, "src/parkplan")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    added = []
    for name in ("synthetic.py",):
        target = dest / "src" / "parkplan" / name
        if not target.exists():
            shutil.copy2(ROOT / "src" / "parkplan" / name, target)
            added.append(f"src/parkplan/{name}")
    path = str(dest / "src")
    CHILD_ENV["PYTHONPATH"] = path + (
        os.pathsep + CHILD_ENV["PYTHONPATH"] if CHILD_ENV.get("PYTHONPATH") else ""
    )
    return {
        "commit": git("rev-parse", "--short", rev).decode().strip(),
        "subject": git("log", "-1", "--format=%s", rev).decode().strip(),
        "dirty": [],
        "exported": True,
        "added": added,
    }


def _n(x: float) -> str:
    return f"{x:,.0f}"


def markdown(results: list[dict[str, Any]], info: dict[str, Any]) -> str:
    m, g = info["machine"], info["git"]
    v = m["versions"]
    src = sorted({r["source_sha256"] for res in results for r in res["runs"]})
    dirty = f" + uncommitted changes in {', '.join(g['dirty'])}" if g["dirty"] else ""
    if g.get("exported"):
        dirty = ", `src/parkplan` exported with `git archive`"
        if g["added"]:
            dirty += f" plus the working tree's `{'`, `'.join(g['added'])}`"
    repeats = info["repeats"]
    lines = [
        START,
        "<!-- generated by benchmarks/bench_synthetic.py; edits between the markers are overwritten -->",
        "",
        f"### Synthetic cities: {info['date']}",
        "",
        f'- Cities: `parkplan.synthetic.make_city(target, seed={info["seed"]}, rules="{info["rules"]}")`, '
        f'planned with `rules="{info["rules"]}"` from {info["input_format"]} input files '
        "(kerbs and hazards written by a separate process, not timed).",
        f"- Code: commit `{g['commit']}` ({g['subject']}){dirty}; parkplan source hash `{', '.join(src)}`.",
        f"- Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}"
        + (f", {m['mem_gib']:.0f} GiB RAM" if m["mem_gib"] else "")
        + f", {m['os']}.",
        f"- Python {m['python']}; shapely {v['shapely']}, geopandas {v['geopandas']}, "
        f"ortools {v['ortools']}, numpy {v['numpy']}, pandas {v['pandas']}, pyogrio {v['pyogrio']}, "
        f"pyproj {v['pyproj']}.",
        f"- Load average (1, 5, 15 min) at start: {info['load_start']}; at end: {info['load_end']}.",
        f"- {repeats} repeat(s) per size, each a fresh process"
        + ("; times are median / min in seconds." if repeats > 1 else "; times in seconds."),
        "",
        "#### The cities",
        "",
        "| target bays | extent km | streets | kerbs | kerb km | hazards | of which driveways / hydrants / "
        "crossings / intersections / bus stops / manholes | generate s | input files MB |",
        "|--:|---|--:|--:|--:|--:|---|--:|--:|",
    ]
    for res in results:
        c = res["city"]
        kinds = c["hazards_by_kind"]
        by = " / ".join(
            _n(kinds.get(k, 0))
            for k in ("driveway", "hydrant", "crossing", "intersection", "bus_stop", "utility_shaft")
        )
        lines.append(
            f"| {_n(res['size'])} | {c['extent_km'][0]:.1f} × {c['extent_km'][1]:.1f} | {_n(c['streets'])} "
            f"| {_n(c['kerbs'])} | {_n(c['kerb_km'])} | {_n(c['hazards'])} | {by} | {c['generate_s']:.2f} "
            f"| {c['input_mb']:.0f} |"
        )
    lines += [
        "",
        "#### Result",
        "",
        "| target bays | bays | vs target | bound | gap | status | unmatched hazards | free stretches "
        "| peak RSS MB | bays.geojson MB | same output every repeat |",
        "|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|---|",
    ]
    for res in results:
        runs = res["runs"]
        r0 = runs[0]
        rss = [r["maxrss_kb"] / 1024 for r in runs]
        identical = "yes" if len({r["geojson_sha256"] for r in runs}) == 1 else "**no**"
        if len(runs) == 1:
            identical = "(1 run)"
        gaps = [f"{r['gap']:.2%}" for r in runs]
        lines.append(
            f"| {_n(res['size'])} | {same([r['bays'] for r in runs])} | {r0['bays'] / res['size'] - 1:+.1%} "
            f"| {same([r['bound'] for r in runs])} | {same(gaps)} "
            f"| {same([r['status'] for r in runs])} | {r0['hazards_unmatched']} | {_n(r0['stretches'])} "
            f"| {max(rss):,.0f} | {r0['geojson_mb']:.1f} | {identical} |"
        )
    notes = {
        "read": "parkplan: read and check the input files",
        "kerbs": "kerb table",
        "intervals": "hazard matching, zones, room check, depth levels, choice of sides",
        "model_build": "presolve and CP-SAT model building",
        "solve": "CP-SAT (per-stretch models and the choice of sides)",
        "quotas": "accessible-bay quota, fragments",
        "layout": "bay polygons, zones, accounting",
        "write": "bays GeoJSON (RFC 7946) to a temp folder",
        "total": "read to written file",
    }
    lines += [
        "",
        "#### Stage times (s" + (", median / min" if repeats > 1 else "") + ")",
        "",
        "| stage | " + " | ".join(_n(res["size"]) for res in results) + " |",
        "|---|" + "--:|" * len(results),
        "| generate: `make_city` (separate process) | "
        + " | ".join(f"{res['city']['generate_s']:.3f}" for res in results)
        + " |",
    ]
    for stage in STAGES:
        cells = [fmt_s([r["timings_s"].get(stage, 0.0) for r in res["runs"]]) for res in results]
        name = f"**{stage}**" if stage == "total" else stage
        lines.append(f"| {name}: {notes[stage]} | " + " | ".join(cells) + " |")
    lines.append(
        "| import (numpy, shapely, parkplan) | "
        + " | ".join(fmt_s([r["import_s"] for r in res["runs"]]) for res in results)
        + " |"
    )
    lines.append(
        "| whole process (start to exit) | "
        + " | ".join(fmt_s([r["process_s"] for r in res["runs"]]) for res in results)
        + " |"
    )
    lines.append(
        "| peak RSS MB (max) | "
        + " | ".join(f"{max(r['maxrss_kb'] for r in res['runs']) / 1024:,.0f}" for res in results)
        + " |"
    )
    targets = []
    for res in results:
        if res["size"] in TARGETS:
            secs, mb = TARGETS[res["size"]]
            total = med([r["timings_s"]["total"] for r in res["runs"]])
            rss = max(r["maxrss_kb"] for r in res["runs"]) / 1024
            verdict = f"{_n(res['size'])} bays: total {total:.1f} s against {secs:g} s " + (
                "(met)" if total <= secs else "(**missed**)"
            )
            if mb is not None:
                verdict += f", peak {rss:,.0f} MB against {mb:,.0f} MB " + (
                    "(met)" if rss <= mb else "(**missed**)"
                )
            targets.append(verdict)
    if targets:
        lines += [
            "",
            "Issue targets (end to end: read, solve, write GeoJSON; 2 cores): " + "; ".join(targets) + ".",
        ]

    r0 = results[0]["runs"][0]
    grouping = "no grouping"
    if r0["grouping"] is not None:
        grouping = f"runs of at most {r0['grouping'][0]:g} m with gaps of at least {r0['grouping'][1]:g} m"
    lines += [
        "",
        "#### Against the subtractive method and a naive monolithic CP-SAT model",
        "",
        f"Subtractive: `floor(F / {r0['pitch_m']:g})` bays on every free stretch `F` parkplan solved "
        f"(same kerbs, zones and clearances; 1 mm tolerance), ignoring the rules' grouping ({grouping}), "
        "so it counts bays the rules do not allow. Naive CP-SAT: one model for all stretches, with the "
        "rules' accessible quota when they have one (see the script's docstring), timed from building "
        "the model to the proof of optimality. parkplan's time to optimum is `model_build + solve` "
        "(its presolve, per-stretch CP-SAT and the CP-SAT choice of sides).",
        "",
        "| target bays | free km | subtractive bays | parkplan bays | parkplan − subtractive "
        "| subtractive count s | parkplan optimisation s | naive CP-SAT: stretches / variables "
        "| naive status | naive bays | naive build + solve s | naive / parkplan time |",
        "|--:|--:|--:|--:|--:|--:|--:|---|---|--:|--:|--:|",
    ]
    for res in results:
        runs = res["runs"]
        r0 = runs[0]
        diff = r0["bays"] - r0["baseline_bays"]
        opt = med([_optimisation_s(r) for r in runs])
        nv = res.get("naive")
        if nv is None:
            naive = "| — | not run | — | — | — |"
        else:
            t_naive = nv["build_s"] + nv["solve_s"]
            status = nv["status"]
            if status != "OPTIMAL":
                status += f" at {nv['time_limit_s']:g} s limit"
            bays = "—" if nv["objective"] is None else f"{nv['objective']:,.0f}"
            ratio = f"{t_naive / max(opt, 1e-6):,.0f} ×" + (
                "" if nv["status"] == "OPTIMAL" else " (at least)"
            )
            naive = (
                f"| {_n(nv['stretches'])} / {_n(nv['variables'])} | {status} ({nv['workers']} workers) "
                f"| {bays} | {nv['build_s']:.2f} + {nv['solve_s']:.2f} | {ratio} |"
            )
        lines.append(
            f"| {_n(res['size'])} | {r0['free_km']:,.1f} | {_n(r0['baseline_bays'])} | {_n(r0['bays'])} "
            f"| {diff:+,d} ({diff / max(r0['baseline_bays'], 1):+.2%}) "
            f"| {med([r['baseline_count_s'] for r in runs]):.5f} | {opt:.4f} " + naive
        )
    lines += ["", END]
    return "\n".join(lines)


def _optimisation_s(run: dict[str, Any]) -> float:
    """Seconds parkplan spent optimising: presolve and CP-SAT per stretch, and the choice of sides."""
    t = run["timings_s"]
    # Since commit 5d32529 the choice of sides' CP-SAT time is part of ``solve``.
    return float(t.get("model_build", 0.0) + t.get("solve", 0.0))


def print_profile(path: Path, top: int = 30) -> None:
    import pstats

    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES, help="target bays per city")
    parser.add_argument("--repeats", type=int, default=1, help="plan runs per size (fresh processes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rules", default="cn", help="preset or rules file (default cn)")
    parser.add_argument(
        "--input-format",
        choices=["gpkg", "fgb", "geojson", "memory"],
        default="gpkg",
        help="format of the input files planned from; memory: generate inside the planning process",
    )
    parser.add_argument(
        "--naive-sizes", type=int, nargs="*", default=[20_000], help="sizes to run the naive CP-SAT model at"
    )
    parser.add_argument("--naive-time-limit", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--profile", type=Path, help="folder: also run each size once under cProfile")
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="benchmark src/parkplan of this commit (exported with git archive; the working tree's "
        "synthetic.py added if the commit has none) instead of the working tree",
    )
    parser.add_argument("--calibrate", nargs="*", metavar="RULES", help="refit make_city's constants")
    add_output_args(parser)
    parser.add_argument("--child", choices=["setup", "plan", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "setup":
        print(json.dumps(child_setup(args.sizes[0], args.seed, args.rules, args.folder, args.input_format)))
        return 0
    if args.child == "plan":
        print(json.dumps(child_plan(args.sizes[0], args.seed, args.rules, args.folder, args.input_format)))
        return 0
    if args.child == "naive":
        print(json.dumps(child_naive(args.folder, args.rules, args.naive_time_limit, args.workers)))
        return 0
    if args.calibrate is not None:
        calibrate(args.calibrate or ["cn"], args.json)
        return 0
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    exported = tempfile.TemporaryDirectory(prefix="parkplan-source-") if args.commit else None
    info: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(PACKAGES),
        "git": export_commit(args.commit, Path(exported.name)) if exported is not None else git_state(),
        "load_start": load_average(),
        "seed": args.seed,
        "rules": args.rules,
        "input_format": {"gpkg": "GeoPackage", "fgb": "FlatGeobuf", "geojson": "GeoJSON"}.get(
            args.input_format, "in-memory"
        ),
        "repeats": args.repeats,
    }
    if args.input_format == "memory":
        info["input_format"] = "in-memory (generated in the planning process; `generate` not in `total`)"
    results: list[dict[str, Any]] = []
    common = ["--seed", str(args.seed), "--rules", args.rules, "--input-format", args.input_format]
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="parkplan-synthetic-") as tmp:
            folder = Path(tmp)
            base = [*common, "--sizes", str(size), "--folder", str(folder)]
            city = run_child(["--child", "setup", *base])
            print(
                f"{size:,} bays: city of {city['kerbs']:,} kerbs, {city['hazards']:,} hazards, "
                f"generated in {city['generate_s']:.2f} s",
                file=sys.stderr,
                flush=True,
            )
            runs = []
            for i in range(args.repeats):
                r = run_child(["--child", "plan", *base])
                t = r["timings_s"]
                print(
                    f"{size:,} run {i + 1}/{args.repeats}: {r['bays']:,} bays, {r['status']}, total "
                    f"{t['total']:.2f} s, peak RSS {r['maxrss_kb'] / 1024:,.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
                runs.append(r)
            result: dict[str, Any] = {"size": size, "city": city, "runs": runs}
            if args.profile is not None:
                args.profile.mkdir(parents=True, exist_ok=True)
                prof = args.profile / f"plan-{size}.prof"
                run_child(["--child", "plan", *base], profile=prof)
                print(f"profile of one plan run: {prof}", file=sys.stderr)
                print_profile(prof)
            if size in args.naive_sizes:
                nv = run_child(
                    [
                        "--child",
                        "naive",
                        *base,
                        "--naive-time-limit",
                        str(args.naive_time_limit),
                        "--workers",
                        str(nproc()),
                    ]
                )
                print(
                    f"{size:,} naive CP-SAT: {nv['status']}, {nv['objective']} bays, "
                    f"build {nv['build_s']:.1f} s, solve {nv['solve_s']:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
                result["naive"] = nv
            results.append(result)
    info["load_end"] = load_average()
    if exported is not None:
        exported.cleanup()
    section = markdown(results, info)
    publish(section, args, START, END, {"info": info, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
