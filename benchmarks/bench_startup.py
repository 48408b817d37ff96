"""Benchmark: how fast the command line starts, and a small OSM extract planned end to end.

Run from anywhere (paths are relative to the repository root)::

    python benchmarks/bench_startup.py                     # 7 runs of each command; updates the docs
    python benchmarks/bench_startup.py --runs 11 --no-doc --json r.json
    python benchmarks/bench_startup.py --src /tmp/old/src --no-doc   # the same commands on other code

Every run is a **fresh Python process** running the command line exactly as the ``parkplan`` console
script does (``from parkplan.cli import main; sys.exit(main())``), timed from before the process is
started to after it has ended: interpreter start, imports, work, output file and exit. The commands:

* ``parkplan --version`` and ``parkplan rules list`` / ``rules show cn``: no geometry library is needed,
  so these are the cost of starting Python and parkplan's command line (issue 14: under 0.3 s);
* ``parkplan plan tests/data/osm/neukoelln-2024.osm --mode existing --rules de-parkraum -o bays.geojson``:
  the bundled Neukölln 2024 extract (1.5 MB of OSM XML) read, planned and written (issue 14: under
  1.6 s on 2 cores, which is what the QGIS peer script takes on the same file).

The code run is ``src`` of this repository (or ``--src``), put first on ``PYTHONPATH``. One run of every
command before the timed ones is not counted; it also leaves Python's bytecode caches in place, as an
installed package has them (``PYTHONDONTWRITEBYTECODE`` is removed from the children's environment:
with it set and no caches yet, Python compiles parkplan's two dozen modules anew in every process, about
0.15 s on this machine). The
figures are the median and the minimum over the runs, and the SHA-256 of the bays file of every run
must agree. The results are written as Markdown between the markers ``<!-- bench:startup:start -->``
and ``<!-- bench:startup:end -->`` of ``docs/benchmarks.md``; text outside the markers is kept.
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
    publish,
    same,
    source_hash,
)

START = "<!-- bench:startup:start -->"
END = "<!-- bench:startup:end -->"
PACKAGES = ["shapely", "geopandas", "ortools", "numpy", "pandas", "pyarrow", "pyogrio", "pyproj", "osmium"]
EXTRACT = ROOT / "tests" / "data" / "osm" / "neukoelln-2024.osm"
LIGHT_TARGET_S = 0.3
"""Issue 14: ``parkplan --version`` and ``parkplan rules list`` in under this many seconds."""
PLAN_TARGET_S = 1.6
"""Issue 14: the Neukölln 2024 extract in existing mode, end to end, in under this many seconds."""
PEER_S = 1.6
"""The QGIS peer script (the Neukölln ``street_parking.py`` of /work/shared/reference/field-survey.md)
on the same file, as measured in issue 14; it needs QGIS, so it is not run here."""
RUNNER = "import sys\nfrom parkplan.cli import main\nsys.exit(main())"
"""What the ``parkplan`` console script runs."""


def commands(out: Path) -> list[tuple[str, list[str], float | None]]:
    """The timed commands: (label, arguments, target seconds or ``None``)."""
    return [
        ("parkplan --version", ["--version"], LIGHT_TARGET_S),
        ("parkplan rules list", ["rules", "list"], LIGHT_TARGET_S),
        ("parkplan rules show cn", ["rules", "show", "cn"], None),
        (
            "Neukölln 2024, existing mode, end to end",
            [
                "plan",
                str(EXTRACT),
                "--mode",
                "existing",
                "--rules",
                "de-parkraum",
                "-o",
                str(out),
                "--quiet",
            ],
            PLAN_TARGET_S,
        ),
    ]


def child_env(src: Path) -> dict[str, str]:
    """The environment of every run: ``src`` first on ``PYTHONPATH``, bytecode caches written."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_once(argv: list[str], env: dict[str, str], out: Path | None) -> dict[str, Any]:
    """Run the command line once in a fresh process; wall seconds and the output file's hash."""
    if out is not None:
        out.unlink(missing_ok=True)
    cmd = [sys.executable, "-c", RUNNER, *argv]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark run failed: parkplan {' '.join(argv)} (exit {proc.returncode})")
    record: dict[str, Any] = {"wall_s": wall}
    if out is not None:
        raw = out.read_bytes()
        record["sha256"] = hashlib.sha256(raw).hexdigest()[:16]
        record["bays"] = len(json.loads(raw)["features"])
    return record


def src_git(src: Path) -> dict[str, Any]:
    """Commit, subject and uncommitted files under ``src`` of the repository holding ``src``."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", "-C", str(src), *args], capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            return ""
        return done.stdout

    if src == (ROOT / "src").resolve():
        return git_state()
    dirty = [line[3:] for line in git("status", "--porcelain", "--", ".").splitlines() if line.strip()]
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip() or "unknown",
        "subject": git("log", "-1", "--format=%s").strip(),
        "dirty": dirty,
    }


def markdown(results: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """The results as the Markdown section between the markers."""
    m, g = info["machine"], info["git"]
    v = m["versions"]
    dirty = f" + uncommitted changes in {', '.join(g['dirty'])}" if g["dirty"] else ""
    runs = info["runs"]
    lines = [
        START,
        "<!-- generated by benchmarks/bench_startup.py; edits between the markers are overwritten -->",
        "",
        f"### Start-up and a small extract: {info['date']}",
        "",
        f"- Code: `{info['src']}`, commit `{g['commit']}` ({g['subject']}){dirty}; parkplan source hash "
        f"`{info['source']}`.",
        f"- Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}"
        + (f", {m['mem_gib']:.0f} GiB RAM" if m["mem_gib"] else "")
        + f", {m['os']}; Python {m['python']}; "
        + ", ".join(f"{name} {v[name]}" for name in PACKAGES)
        + ".",
        f"- Load average (1, 5, 15 min) at start: {info['load_start']}; at end: {info['load_end']}.",
        f"- {runs} runs of each command after one not counted, each a fresh process, timed from its start "
        "to its exit; seconds as median / min.",
        "",
        "| command | s (median / min) | target | bays | same output every run |",
        "|---|--:|--:|--:|---|",
    ]
    verdicts = []
    for r in results:
        times = [x["wall_s"] for x in r["runs"]]
        target = "—" if r["target_s"] is None else f"< {r['target_s']:g} s"
        bays = same([x["bays"] for x in r["runs"]]) if "bays" in r["runs"][0] else "—"
        agree = "—"
        if "sha256" in r["runs"][0]:
            agree = "yes" if len({x["sha256"] for x in r["runs"]}) == 1 else "**no**"
        lines.append(f"| {r['label']} | {fmt_s(times)} | {target} | {bays} | {agree} |")
        if r["target_s"] is not None:
            t = med(times)
            verdicts.append(
                f"{r['label']}: {t:.2f} s against {r['target_s']:g} s "
                + ("(met)" if t < r["target_s"] else "(**missed**)")
            )
    plan_s = med([x["wall_s"] for x in results[-1]["runs"]])
    lines += [
        f"| QGIS peer script on the same file (issue 14; not run here) | {PEER_S:.1f} | | | |",
        "",
        "Overall: " + "; ".join(verdicts) + ". On the Neukölln extract parkplan takes "
        f"{plan_s / PEER_S:.2f} × the peer script's {PEER_S:g} s.",
        "",
        END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each command (fresh processes)")
    parser.add_argument(
        "--src", type=Path, default=ROOT / "src", help="folder holding the parkplan package to run (src)"
    )
    add_output_args(parser)
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    src = args.src.resolve()
    if not (src / "parkplan" / "cli.py").is_file():
        parser.error(f"--src {args.src}: no parkplan/cli.py in it")
    env = child_env(src)
    info: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(PACKAGES),
        "git": src_git(src),
        "src": os.path.relpath(src, ROOT) if src.is_relative_to(ROOT) else str(src),
        "source": source_hash(src / "parkplan"),
        "load_start": load_average(),
        "runs": args.runs,
    }
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="parkplan-bench-") as tmp:
        out = Path(tmp) / "bays.geojson"
        for label, cmd, target in commands(out):
            writes = out if "plan" in cmd else None
            run_once(cmd, env, writes)  # not counted: warm caches, bytecode written
            runs = [run_once(cmd, env, writes) for _ in range(args.runs)]
            times = [r["wall_s"] for r in runs]
            print(f"{label}: {fmt_s(times)} s", file=sys.stderr)
            results.append({"label": label, "argv": cmd, "target_s": target, "runs": runs})
    info["load_end"] = load_average()
    section = markdown(results, info)
    publish(section, args, START, END, {"info": info, "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
