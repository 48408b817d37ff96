"""Ctrl-C (SIGINT) and SIGTERM stop a run at once and leave nothing behind (issue 19, case 4).

Real ``parkplan plan`` processes are signalled at a stage they announce (``PARKPLAN_PROGRESS=1``
prints ``parkplan: stage NAME``): while reading, inside CP-SAT with ``--no-presolve`` (in this process
and on two forked workers) and while two workers turn the bays into GeoJSON text. Each run must end
within seconds with exit code 130 (SIGINT) or 143 (SIGTERM), ``parkplan: interrupted`` as the one line
on standard error besides the stage lines (no traceback from any process), the previous output file
byte for byte, no temporary file and no process of the run left. The signal goes to the whole process
group, as a terminal sends Ctrl-C, or to the main process alone.

The input is generated: many straight kerbs of random lengths under the German rules, whose three bay
orientations make each CP-SAT model take a fraction of a second with ``--no-presolve`` (seconds of
solving in all), and whose plan with the presolve is 150,000 bays (seconds of writing GeoJSON).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from ortools.sat.python import cp_model

from parkplan import _interrupt as interrupt
from parkplan import _parallel as parallel
from parkplan.errors import ParkplanError
from parkplan.optimize import _cpsat as cpsat

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists() or not hasattr(signal, "pthread_sigmask"),
    reason="needs POSIX signals and /proc to find the run's processes",
)

PREVIOUS = b'{"type": "FeatureCollection", "features": [], "note": "the previous run"}\n'
STAGE_TIMEOUT_S = 60.0
"""Longest wait for the stage a test signals at (a busy machine)."""
EXIT_TIMEOUT_S = 10.0
"""Longest a run may take to end after the signal before the test fails (it is killed then)."""
PROMPT_S = 5.0
"""A run must have ended this soon after the signal."""


def _kerb_lines(path: Path, n: int, seed: int = 0) -> Path:
    """``n`` parallel straight kerbs 20-400 m long, 50 m apart (UTM 33N), as a GeoPackage."""
    rng = np.random.default_rng(seed)
    length = rng.uniform(20.0, 400.0, n)
    y = np.arange(n) * 50.0
    start = np.stack([np.zeros(n), y], axis=1)
    end = np.stack([length, y], axis=1)
    lines = shapely.linestrings(np.stack([start, end], axis=1))
    frame = gpd.GeoDataFrame({"curb_id": [f"k{i}" for i in range(n)]}, geometry=lines, crs="EPSG:32633")
    frame.to_file(path, engine="pyogrio")
    return path


@pytest.fixture(scope="module")
def kerbs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 kerbs: 28 CP-SAT models over 6 s without the presolve; 157,000 bays with it."""
    return _kerb_lines(tmp_path_factory.mktemp("signals") / "kerbs.gpkg", 2_000)


@pytest.fixture(scope="module")
def many_kerbs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6,000 kerbs: enough CP-SAT models per depth level for two forked workers."""
    return _kerb_lines(tmp_path_factory.mktemp("signals") / "many.gpkg", 6_000)


@pytest.fixture(scope="module")
def few_kerbs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 kerbs: CP-SAT solves for a second, then 33,000 bays to write (two GeoJSON chunks)."""
    return _kerb_lines(tmp_path_factory.mktemp("signals") / "few.gpkg", 400)


def _session(sid: int) -> list[int]:
    """Processes of session ``sid`` still running (zombies aside)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry))
    return found


def _lines(stream: object, out: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        out.put(line.rstrip("\n"))
    out.put(None)


class Run:
    """A ``parkplan`` command in its own session, its standard error read line by line."""

    def __init__(self, args: list[str], cwd: Path, code: str | None = None) -> None:
        env = dict(os.environ, PARKPLAN_PROGRESS="1")
        src = str(Path(interrupt.__file__).parents[1])
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
        program = code if code is not None else "from parkplan.cli import main; raise SystemExit(main())"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", program, *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.stderr: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=_lines, args=(self.proc.stderr, self._queue), daemon=True)
        self._reader.start()

    def wait_for(self, text: str) -> None:
        """Wait until a line of standard error contains ``text``."""
        deadline = time.monotonic() + STAGE_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            self.stderr.append(line)
            if text in line:
                return
        self.kill()
        pytest.fail(f"no {text!r} on standard error: {self.stderr}")

    def wait_for_workers(self) -> None:
        """Wait until the run has forked a worker process."""
        deadline = time.monotonic() + STAGE_TIMEOUT_S
        while len(_session(self.proc.pid)) < 2:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.kill()
                pytest.fail(f"no worker process started: {self.stderr}")
            time.sleep(0.005)

    def signal(self, signum: int, group: bool) -> float:
        """Send ``signum`` to the process group (as a terminal does) or the main process; seconds to end."""
        t0 = time.monotonic()
        if group:
            os.killpg(self.proc.pid, signum)
        else:
            os.kill(self.proc.pid, signum)
        try:
            self.proc.wait(EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"still running {EXIT_TIMEOUT_S} s after {signal.Signals(signum).name}")
        took = time.monotonic() - t0
        self._reader.join(5.0)
        while (line := self._queue.get_nowait() if not self._queue.empty() else None) is not None:
            self.stderr.append(line)
        return took

    def left(self) -> list[int]:
        """Processes of the run still there (a moment's grace for them to go)."""
        deadline = time.monotonic() + 3.0
        while (found := _session(self.proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    def kill(self) -> None:
        for pid in _session(self.proc.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(10)


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    """Runs started by a test; whatever is left is killed afterwards."""
    started: list[Run] = []
    yield started
    for run in started:
        if run.proc.poll() is None or _session(run.proc.pid):
            run.kill()
        if run.proc.stdout is not None:
            run.proc.stdout.close()
        if run.proc.stderr is not None:
            run.proc.stderr.close()


def _interrupt(
    runs: list[Run],
    tmp_path: Path,
    args: list[str],
    stage: str,
    signum: int,
    group: bool,
    then: str | float = 0.0,
) -> Run:
    """Run ``parkplan plan ARGS -o out.geojson`` over a previous output, signal it at ``stage``, check.

    ``then``: ``"workers"`` (wait for a forked worker after the stage line) or seconds to wait.
    """
    out = tmp_path / "out.geojson"
    out.write_bytes(PREVIOUS)
    run = Run(["plan", *args, "-o", str(out)], tmp_path)
    runs.append(run)
    run.wait_for(f"parkplan: stage {stage}")
    if then == "workers":
        run.wait_for_workers()
    else:
        time.sleep(float(then))
    took = run.signal(signum, group)
    messages = [line for line in run.stderr if not line.startswith("parkplan: stage ")]
    assert messages == ["parkplan: interrupted"], run.stderr
    assert run.proc.returncode == 128 + signum, run.stderr
    assert took < PROMPT_S, f"took {took:.1f} s to end"
    assert out.read_bytes() == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.geojson"]  # no .out.geojson.*.tmp*
    assert run.left() == []
    return run


def test_sigint_while_reading(runs: list[Run], tmp_path: Path, kerbs: Path) -> None:
    _interrupt(runs, tmp_path, [str(kerbs), "--rules", "de"], "reading", signal.SIGINT, group=True)


@pytest.mark.parametrize(("signum", "group"), [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_signal_inside_cp_sat_in_this_process(
    runs: list[Run], tmp_path: Path, kerbs: Path, signum: int, group: bool
) -> None:
    """Half a second into the first depth level's models (each solve is stopped, not waited for)."""
    args = [str(kerbs), "--rules", "de", "--no-presolve", "--workers", "1"]
    _interrupt(runs, tmp_path, args, "bays at depth", signum, group, then=0.5)


@pytest.mark.parametrize(
    ("signum", "group"),
    [
        (signal.SIGINT, True),
        (signal.SIGINT, False),
        (signal.SIGTERM, True),
    ],
)
def test_signal_while_workers_solve(
    runs: list[Run], tmp_path: Path, many_kerbs: Path, signum: int, group: bool
) -> None:
    """CP-SAT models on two forked workers: the workers go too, quietly."""
    args = [str(many_kerbs), "--rules", "de", "--no-presolve", "--workers", "2"]
    _interrupt(runs, tmp_path, args, "bays at depth", signum, group, then="workers")


@pytest.mark.parametrize(
    ("signum", "group"),
    [
        (signal.SIGTERM, True),
        (signal.SIGINT, True),
        (signal.SIGTERM, False),
        (signal.SIGINT, False),
    ],
)
def test_signal_while_workers_write_geojson(
    runs: list[Run], tmp_path: Path, kerbs: Path, signum: int, group: bool
) -> None:
    """157,000 bays turned into GeoJSON text by two forked workers."""
    args = [str(kerbs), "--rules", "de", "--workers", "2"]
    _interrupt(runs, tmp_path, args, "writing", signum, group, then="workers")


def test_sigint_while_writing_after_cp_sat_solves(runs: list[Run], tmp_path: Path, few_kerbs: Path) -> None:
    """The issue's case: once a solve had run, Ctrl-C killed the writer silently (OR-Tools had reset
    SIGINT to the default action), leaving its hidden temporary file."""
    args = [str(few_kerbs), "--rules", "de", "--no-presolve", "--workers", "2"]
    _interrupt(runs, tmp_path, args, "writing", signal.SIGINT, group=True, then="workers")


HOST = """
import os, signal, sys, time
import parkplan

def host_handler(signum, frame):
    raise KeyboardInterrupt

signal.signal(signal.SIGINT, host_handler)
term = signal.getsignal(signal.SIGTERM)
try:
    parkplan.plan(sys.argv[1], rules="de", presolve=False, workers=1)
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted", time.monotonic())
print("SIGINT handler kept:", signal.getsignal(signal.SIGINT) is host_handler)
print("SIGTERM handler kept:", signal.getsignal(signal.SIGTERM) is term)
sys.stdout.flush()
# getsignal() shows what Python last set; only a signal shows what the process does with it (OR-Tools
# used to reset SIGINT to the default action, killing the host).
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)
    print("SIGINT lost")
except KeyboardInterrupt:
    print("SIGINT reaches the host's handler")
"""


def test_library_leaves_the_host_handlers_as_they_were(runs: list[Run], tmp_path: Path, kerbs: Path) -> None:
    """``parkplan.plan`` inside a program with its own SIGINT handler: interrupted at once mid-solve."""
    run = Run([str(kerbs)], tmp_path, code=HOST)
    runs.append(run)
    run.wait_for("parkplan: stage bays at depth")
    time.sleep(0.5)
    sent = time.monotonic()
    took = run.signal(signal.SIGINT, group=False)
    assert run.proc.stdout is not None
    out = run.proc.stdout.read().splitlines()
    assert out[0].startswith("interrupted"), (out, run.stderr)
    assert float(out[0].split()[1]) - sent < PROMPT_S
    assert out[1:] == [
        "SIGINT handler kept: True",
        "SIGTERM handler kept: True",
        "SIGINT reaches the host's handler",
    ]
    assert run.proc.returncode == 0
    assert took < PROMPT_S + 3.0


LOST = """
import os, signal, time
from parkplan import _interrupt as interrupt

with interrupt.handling_signals(grace_s=1.0):
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    except KeyboardInterrupt:
        pass  # lost, as Python loses an exception raised in an at-fork callback or a __del__
    try:
        interrupt.check()
    except interrupt.Interrupted as exc:
        print("check raised", exc.signum, flush=True)
    time.sleep(30)  # a run stuck after its interruption was lost
print("not ended")
"""


def test_a_lost_interruption_is_raised_again_and_a_stuck_run_ended(tmp_path: Path) -> None:
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", LOST], capture_output=True, text=True, timeout=20, cwd=tmp_path
    )
    assert done.stdout.splitlines() == [f"check raised {int(signal.SIGTERM)}"]
    assert done.stderr.splitlines() == ["parkplan: interrupted"]
    assert done.returncode == 143
    assert time.monotonic() - t0 < 10


def _hard_model() -> cp_model.CpModel:
    """Random knapsack constraints CP-SAT takes minutes to prove optimal."""
    rng = np.random.default_rng(0)
    model = cp_model.CpModel()
    xs = [model.new_int_var(0, 50, f"x{i}") for i in range(300)]
    for _ in range(200):
        pick = rng.choice(300, 30, replace=False)
        model.add(sum(int(rng.integers(1, 41)) * xs[i] for i in pick) <= int(rng.integers(500, 3001)))
    model.maximize(sum(int(rng.integers(1, 41)) * x for x in xs))
    return model


def test_a_solve_stops_when_the_handler_raises_and_changes_no_handler() -> None:
    """In this process: CP-SAT installs no handler and the host's exception comes at once."""

    def host_handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGINT, host_handler)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    try:
        solver = cpsat.new_solver(0, 60.0)
        t0 = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            cpsat.solve(solver, _hard_model())
        assert time.monotonic() - t0 < 0.5 + 2.0
        assert signal.getsignal(signal.SIGINT) is host_handler
        # The search was stopped, not left running: the helper thread takes the next solve at once.
        small = cp_model.CpModel()
        small.maximize(small.new_int_var(0, 3, "y"))
        t1 = time.monotonic()
        assert cpsat.solve(cpsat.new_solver(), small) == cp_model.OPTIMAL
        assert time.monotonic() - t1 < 1.0
    finally:
        timer.join()
        signal.signal(signal.SIGINT, old)
        cpsat.end_helper()
    assert not any(t.name == "parkplan-cp-sat" for t in threading.enumerate())


def test_a_solve_without_handlers_runs_here() -> None:
    model = cp_model.CpModel()
    x = model.new_int_var(0, 10, "x")
    model.maximize(x)
    solver = cpsat.new_solver(3, None)
    assert solver.parameters.num_workers == 1
    assert solver.parameters.random_seed == 3
    assert solver.parameters.catch_sigint_signal is False
    assert cpsat.solve(solver, model) == cp_model.OPTIMAL
    assert solver.value(x) == 10


def _die(item: int) -> int:
    if item == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return item


def _fail(item: int) -> int:
    if item == 2:
        raise ValueError("item 2 is bad")
    return item


def test_the_pool_reports_a_dead_worker_instead_of_hanging() -> None:
    """A worker killed (by the kernel's out-of-memory killer, say) is an error, not an endless wait."""
    t0 = time.monotonic()
    with pytest.raises(ParkplanError, match="worker process was killed by signal 9"):
        parallel.fork_map(_die, list(range(8)), workers=2)
    assert time.monotonic() - t0 < 10
    assert not parallel._LIVE


def test_the_pool_raises_a_worker_error_and_stops_early() -> None:
    with pytest.raises(ValueError, match="item 2 is bad"):
        parallel.fork_map(_fail, list(range(8)), workers=2)
    # The consumer leaving early ends the workers.
    results = parallel.fork_imap(lambda x: x * 2, list(range(20)), workers=2)
    assert next(results) == 0
    assert parallel._LIVE
    results.close()  # type: ignore[attr-defined]  # a generator
    assert not parallel._LIVE
    assert multiprocessing.active_children() == []
