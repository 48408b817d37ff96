"""Benchmark: the review map of the Neukölln kerb layer: file size and render time in headless Chromium.

Run from anywhere (paths are relative to the repository root)::

    python benchmarks/bench_map.py                  # 3 page loads; updates docs/benchmarks.md
    python benchmarks/bench_map.py --runs 5 --no-doc --json r.json

The plan is made as ``examples/neukoelln_kerbs.py`` makes it (street areas with its ``data_extent``,
crossings as ``crossing``, service ways as ``driveway``, de-parkraum rules). Its map
(:meth:`parkplan.Plan.to_html`) is written once, timed, and opened ``--runs`` times from ``file://`` in
Debian's headless Chromium with the network emulated offline, each time in a fresh tab. The render time
is ``window.parkplanMap.drawn_ms``: milliseconds from the start of the navigation (the page's time
origin) to the end of the page's first drawing of every feature, which includes reading the HTML,
parsing Leaflet and the data, decoding and projecting the coordinates and the canvas drawing. The
results are written between ``<!-- bench:map:start -->`` and ``<!-- bench:map:end -->`` of
``docs/benchmarks.md``. Issue 15's targets: under 30 MB and under 3 s on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ROOT, add_output_args, git_state, load_average, machine, med, publish, source_hash

START = "<!-- bench:map:start -->"
END = "<!-- bench:map:end -->"
DATA = ROOT / "examples" / "data" / "neukoelln-kerbs"
SIZE_TARGET_MB = 30.0
RENDER_TARGET_S = 3.0
PACKAGES = ["shapely", "geopandas", "numpy", "pandas", "selenium"]


def make_plan() -> Any:
    """The Neukölln plan as ``examples/neukoelln_kerbs.py`` makes it."""
    import geopandas as gpd

    import parkplan

    sys.path.insert(0, str(ROOT / "examples"))
    from neukoelln_kerbs import data_extent

    areas = gpd.read_file(DATA / "kerb_street_areas.geojson")
    hazards = [
        parkplan.HazardSource(DATA / "crossing.geojson", "crossing"),
        parkplan.HazardSource(DATA / "service_driveways.geojson", "driveway"),
    ]
    return parkplan.plan(areas, hazards, rules="de-parkraum", extent=data_extent(areas))


def browser(profile: str) -> Any:
    """Headless Debian Chromium, offline."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(120)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
    )
    return driver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="page loads (each in a fresh tab)")
    add_output_args(parser)
    args = parser.parse_args()
    load0 = load_average()
    t = time.perf_counter()
    plan = make_plan()
    plan_s = time.perf_counter() - t
    out = Path(tempfile.mkdtemp(prefix="parkplan-map-"))
    profile = tempfile.mkdtemp(prefix="parkplan-chromium-")
    try:
        path = out / "neukoelln.html"
        t = time.perf_counter()
        plan.to_html(path)
        write_s = time.perf_counter() - t
        size_mb = path.stat().st_size / 1e6
        driver = browser(profile)
        runs: list[dict[str, Any]] = []
        try:
            for _ in range(args.runs):
                driver.switch_to.new_window("tab")
                t = time.perf_counter()
                driver.get(path.as_uri())
                load_s = time.perf_counter() - t
                info = driver.execute_script(
                    "var m = window.parkplanMap; return m && {drawn_ms: m.drawn_ms, build_ms: m.build_ms,"
                    " bays: m.bays, zones: m.zones, kerbs: m.kerbs, counts: m.counts}"
                )
                severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
                if not info or severe:
                    raise SystemExit(f"the map did not draw: {severe}")
                runs.append({**info, "load_s": load_s})
        finally:
            driver.quit()
    finally:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)
    render = [r["drawn_ms"] / 1000 for r in runs]
    script = [r["build_ms"] / 1000 for r in runs]
    first = runs[0]
    counts = first["counts"]
    left = {k: v[1] - v[0] for k, v in counts.items() if v[1] > v[0]}
    mach = machine(PACKAGES)
    git = git_state()
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    size_ok = size_mb < SIZE_TARGET_MB
    render_ok = med(render) < RENDER_TARGET_S
    lines = [
        START,
        "<!-- generated by benchmarks/bench_map.py; edits between the markers are overwritten -->",
        "",
        f"### Review map of the Neukölln kerb layer: {now}",
        "",
        "- Data: `examples/data/neukoelln-kerbs`, planned as `examples/neukoelln_kerbs.py` plans it "
        f"(de-parkraum; {plan.summary['bays']['total']:,} bays, {len(plan.zones):,} zones, "
        f"{len(plan.kerbs):,} kerbs; planned in {plan_s:.1f} s).",
        f"- Code: commit `{git['commit']}` ({git['subject']}); parkplan source hash "
        f"`{source_hash(ROOT / 'src' / 'parkplan')}`.",
        f"- Machine: {mach['nproc']} CPUs (`nproc`), {mach['cpu']}, {mach['mem_gib']:.0f} GiB RAM, "
        f"{mach['os']}; "
        f"Python {mach['python']}; " + ", ".join(f"{k} {v}" for k, v in mach["versions"].items()) + "; "
        "Debian Chromium, headless, offline.",
        f"- Load average (1, 5, 15 min) at start: {load0}; at end: {load_average()}.",
        f"- {args.runs} page loads, each in a fresh tab; seconds as median / min.",
        "",
        "| measure | value | target |",
        "|---|--:|--:|",
        f"| map file (MB) | {size_mb:.1f} | < {SIZE_TARGET_MB:.0f} MB ({'met' if size_ok else 'missed'}) |",
        f"| writing it (`Plan.to_html`, s) | {write_s:.2f} | |",
        f"| render: navigation to all drawn (s) | {med(render):.2f} / {min(render):.2f} | "
        f"< {RENDER_TARGET_S:.0f} s ({'met' if render_ok else 'missed'}) |",
        f"| of which the page's script: decode, project, draw (s) | {med(script):.2f} / {min(script):.2f} "
        "| |",
        f"| `driver.get` until the load event (s) | {med([r['load_s'] for r in runs]):.2f} | |",
        f"| render of the first load, a fresh browser (s) | {render[0]:.2f} | |",
        f"| features drawn: bays, zones, kerbs | {first['bays']:,}, {first['zones']:,}, "
        f"{first['kerbs']:,} | |",
        f"| left out (cap 250,000) | {', '.join(f'{v:,} {k}' for k, v in left.items()) or 'none'} | |",
        "",
        END,
    ]
    raw = {
        "size_mb": size_mb,
        "write_s": write_s,
        "plan_s": plan_s,
        "runs": runs,
        "machine": mach,
        "git": git,
    }
    publish("\n".join(lines), args, START, END, raw)
    print(json.dumps({"size_mb": size_mb, "render_s": render}), file=sys.stderr)


if __name__ == "__main__":
    main()
