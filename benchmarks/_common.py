"""Helpers the benchmark scripts share: machine and code description, number formatting, the docs file.

Imported by ``bench_neukoelln.py`` and ``bench_synthetic.py`` (run as scripts, so this folder is on
``sys.path``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
"""The Markdown file the benchmarks write their results into (between their own markers)."""


def nproc() -> int:
    """Number of CPUs this process may use (``nproc``)."""
    try:
        return int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip())
    except (OSError, ValueError, subprocess.CalledProcessError):
        return os.cpu_count() or 1


def machine(packages: list[str]) -> dict[str, Any]:
    """CPU, memory, OS, Python and the versions of ``packages``."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        m = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        mem = int(m.group(1)) / 1024 / 1024 if m else None
    except OSError:
        pass
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "nproc": nproc(),
        "cpu": cpu,
        "mem_gib": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
    }


def source_hash(folder: Path) -> str:
    """Short hash of the ``.py`` and ``.toml`` files under ``folder`` (which code ran)."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in (".py", ".toml"):
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:12]


def git_state() -> dict[str, Any]:
    """Commit, subject and files changed under ``src`` of the repository."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            return ""
        return done.stdout

    dirty = [line[3:] for line in git("status", "--porcelain", "--", "src").splitlines() if line.strip()]
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip() or "unknown",
        "subject": git("log", "-1", "--format=%s").strip(),
        "dirty": dirty,
    }


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def med(values: list[float]) -> float:
    """Median as a float."""
    return float(statistics.median(values))


def fmt_s(values: list[float]) -> str:
    """Seconds as ``median / min`` (one value: just it), 3 decimals below 10 s."""
    m, lo = med(values), min(values)
    digits = 3 if m < 10 else 1
    return f"{m:.{digits}f} / {lo:.{digits}f}" if len(values) > 1 else f"{m:.{digits}f}"


def same(values: list[Any]) -> str:
    """The value if all repeats agree, else all of them marked as differing."""
    first = values[0]
    return str(first) if all(v == first for v in values) else " / ".join(map(str, values)) + " (differs!)"


def add_output_args(parser: argparse.ArgumentParser) -> None:
    """Add the options every benchmark shares: ``--doc FILE``, ``--no-doc``, ``--json FILE``."""
    parser.add_argument("--doc", type=Path, default=DOC, help="Markdown file to update (docs/benchmarks.md)")
    parser.add_argument("--no-doc", action="store_true", help="do not update the Markdown file")
    parser.add_argument("--json", type=Path, help="also write all raw measurements as JSON")


def write_doc(section: str, path: Path, start: str, end: str) -> None:
    """Replace the text between the markers ``start`` and ``end`` of ``path`` (append if missing)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def publish(section: str, args: argparse.Namespace, start: str, end: str, raw: dict[str, Any]) -> None:
    """Print the Markdown section, write it between its markers (unless ``--no-doc``), and ``raw`` as JSON."""
    print(section)
    if not args.no_doc:
        write_doc(section, args.doc, start, end)
        print(f"updated {args.doc}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")


def summary_record(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a plan summary both benchmarks record."""
    s = summary
    return {
        "bays": s["bays"]["total"],
        "objective": s["solver"]["objective"],
        "bound": s["solver"]["best_bound"],
        "gap": s["solver"]["gap"],
        "status": s["solver"]["status"],
        "presolved": s["solver"]["presolved_stretches"],
        "models": s["solver"]["models"],
        "kerbs": s["kerbs"]["count"],
        "kerb_km": s["kerbs"]["length_m"] / 1000.0,
        "hazards": s["hazards"]["total"],
    }


def stretches_from_plan(plan: Any) -> Any:
    """Free stretches rebuilt from a plan's zones and kerbs (zone ends rounded to 1 mm, as written).

    Returns the stretch table of :func:`parkplan.intervals.free_stretches`.
    """
    import numpy as np
    import pandas as pd
    import shapely

    from parkplan.intervals import free_stretches

    row = {c: i for i, c in enumerate(plan.kerbs["curb_id"])}
    zones = pd.DataFrame(
        {
            "kerb": plan.zones["curb_id"].map(row).to_numpy(dtype=np.int64),
            "start_m": plan.zones["start_m"].to_numpy(dtype=float),
            "end_m": plan.zones["end_m"].to_numpy(dtype=float),
        }
    )
    lengths = shapely.length(np.asarray(plan.kerbs.geometry.values, dtype=object))
    return free_stretches(zones, lengths)
