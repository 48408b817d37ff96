"""Prove that two versions of parkplan make the same plans, byte for byte.

Runs ``parkplan plan`` (and ``parkplan check`` on its bays) on every bundled dataset under every preset,
in both OSM modes and with ``--keep``, and hashes every file written: the bays, the zones, the per-kerb
accounting and the summaries. The summaries' wall-clock figures (``timings_s`` and the solver's times)
are the only values left out; everything else must match to the byte.

Record the hashes of one version, then compare another with them::

    python benchmarks/same_plans.py record same_plans.json      # on the old version
    python benchmarks/same_plans.py compare same_plans.json     # on the new one: exit 1 on a difference

``--quick`` leaves out the 526 km Neukölln kerb layer (about a minute per preset). The hashes depend on
the versions of shapely/GEOS, pyproj/PROJ and OR-Tools, so record and compare on one machine.

Data: © OpenStreetMap contributors (ODbL 1.0); Bordsteinkanten: Geoportal Berlin / ALKIS (see each
folder's SOURCE.md).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples" / "data"
TD = ROOT / "tests" / "data"
PRESETS = ("cn", "de", "us-ca", "uk", "fr", "nl", "jp", "au", "de-parkraum")

# Keys whose values are wall-clock times, left out of the summaries' hashes.
TIME_KEYS = {"timings_s", "build_s", "solve_s", "wall_s", "wall_time_s", "time_s", "elapsed_s"}


def _cases(quick: bool) -> list[tuple[str, list[str]]]:
    """(name, arguments after ``parkplan plan KERBS``'s kerbs) for every case."""
    small = TD / "neukoelln_small"
    fold = TD / "neukoelln_fold"
    nk = EX / "neukoelln-kerbs"
    cases: list[tuple[str, list[str]]] = []
    for preset in PRESETS:
        r = ["--rules", preset]
        cases.append(
            (
                f"small-{preset}",
                [
                    str(small / "street_areas.geojson"),
                    "-f",
                    f"crossing={small / 'crossings.geojson'}",
                    "-f",
                    f"driveway={small / 'driveways.geojson'}",
                    "--extent",
                    str(small / "extent.geojson"),
                    *r,
                ],
            )
        )
        cases.append(
            (
                f"fold-{preset}",
                [
                    str(fold / "street_areas.geojson"),
                    "-f",
                    f"crossing={fold / 'crossings.geojson'}",
                    "-f",
                    f"driveway={fold / 'driveways.geojson'}",
                    "--extent",
                    str(fold / "extent.geojson"),
                    *r,
                ],
            )
        )
        for name, path in (
            ("osm2024", TD / "osm" / "neukoelln-2024.osm"),
            ("helsinki", EX / "helsinki" / "Helsinki.osm.pbf"),
        ):
            cases.append((f"{name}-plan-{preset}", [str(path), *r]))
            cases.append((f"{name}-existing-{preset}", [str(path), *r, "--mode", "existing"]))
            cases.append((f"{name}-keep-{preset}", [str(path), *r, "--mode", "existing", "--keep"]))
        if not quick:
            cases.append(
                (
                    f"nkerbs-{preset}",
                    [
                        str(nk / "kerb_street_areas.geojson"),
                        "-f",
                        f"crossing={nk / 'crossing.geojson'}",
                        "-f",
                        f"driveway={nk / 'service_driveways.geojson'}",
                        *r,
                    ],
                )
            )
    cases.append(("osm2024-habit-cn", [str(TD / "osm" / "neukoelln-2024.osm"), "--strategy", "habit"]))
    cases.append(("small-nopresolve-cn", [str(small / "street_areas.geojson"), "--no-presolve"]))
    return cases


def _strip(value: Any) -> Any:
    """The summary without its wall-clock values."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in TIME_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _digest(path: Path, folder: Path) -> str:
    """SHA-256 of a written file (JSON: without wall-clock values, the run's folder, the checkout's)."""
    if not path.exists():
        return "absent"
    data = path.read_bytes()
    if path.suffix == ".json":
        data = json.dumps(_strip(json.loads(data)), sort_keys=False).encode()
        data = data.replace(str(folder).encode(), b"OUT").replace(str(ROOT).encode(), b"ROOT")
    return hashlib.sha256(data).hexdigest()


def _run(case: tuple[str, list[str]]) -> tuple[str, dict[str, str]]:
    name, args = case
    exe = [sys.executable, "-m", "parkplan.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        outs = {
            "bays": d / "bays.geojson",
            "zones": d / "zones.geojson",
            "kerbs": d / "kerbs.geojson",
            "summary": d / "summary.json",
        }
        plan = subprocess.run(
            [
                *exe,
                "plan",
                *args,
                "-q",
                "--workers",
                "1",
                "-o",
                str(outs["bays"]),
                "--zones",
                str(outs["zones"]),
                "--kerbs",
                str(outs["kerbs"]),
                "--summary",
                str(outs["summary"]),
            ],
            capture_output=True,
            text=True,
        )
        result = {key: _digest(path, d) for key, path in outs.items()}
        result["plan_exit"] = str(plan.returncode)
        stderr = plan.stderr.replace(tmp, "OUT").replace(str(ROOT), "ROOT")
        result["plan_stderr"] = hashlib.sha256(stderr.encode()).hexdigest()
        if plan.returncode == 0:
            # check takes the kerbs, hazards, rules and mode as plan did (not --keep, --strategy, ...);
            # a plan that keeps today's bays is a plan-mode plan, checked as one
            kept = []
            skip = {"--keep": 0, "--strategy": 1, "--no-presolve": 0}
            if "--keep" in args:
                skip["--mode"] = 1
            i = 0
            while i < len(args):
                if args[i] in skip:
                    i += 1 + skip[args[i]]
                    continue
                kept.append(args[i])
                i += 1
            check_summary = d / "check.json"
            check = subprocess.run(
                [*exe, "check", str(outs["bays"]), *kept, "-q", "--summary", str(check_summary)],
                capture_output=True,
                text=True,
            )
            result["check"] = _digest(check_summary, d)
            result["check_exit"] = str(check.returncode)
    return name, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("record", "compare"))
    parser.add_argument("hashes", type=Path, help="the JSON file of hashes to write or compare with")
    parser.add_argument("--quick", action="store_true", help="leave out the 526 km Neukölln kerb layer")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", default=None, help="run only the cases whose name contains this")
    args = parser.parse_args()

    cases = _cases(args.quick)
    if args.only:
        cases = [c for c in cases if args.only in c[0]]
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        results = dict(pool.map(_run, cases))
    failing = sorted(name for name, r in results.items() if r.get("check_exit") not in ("0", None))
    planned = sum(r.get("plan_exit") == "0" for r in results.values())
    print(
        f"parkplan check passes {planned - len(failing)} of {planned} plans"
        + (f": not {failing}" if failing else "")
    )
    if args.action == "record":
        args.hashes.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(results)} cases in {args.hashes}")
        return 0
    recorded = json.loads(args.hashes.read_text())
    differ = 0
    for name, result in sorted(results.items()):
        if name not in recorded:
            print(f"{name}: not recorded")
            continue
        bad = [k for k, v in result.items() if recorded[name].get(k) != v]
        if bad:
            differ += 1
            print(f"{name}: DIFFERS in {', '.join(bad)}")
    print(f"{len(results) - differ} of {len(results)} cases the same byte for byte")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
