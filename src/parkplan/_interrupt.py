"""Stopping a run on Ctrl-C (SIGINT) or SIGTERM: at once, quietly, and leaving no trace.

Three parts, one per kind of process:

* **The library** changes no signal handler. CP-SAT is told not to install its own
  (``catch_sigint_signal`` off: OR-Tools' handler swallows the first Ctrl-C, stopping only the model
  it is solving, and resets SIGINT to the default action afterwards), and :func:`solve` hands a solve
  started from the main thread to a helper thread, so the host's handler runs at once: when it raises
  (``KeyboardInterrupt``), the search is stopped (``stop_search``) and the exception goes on up. Every
  CP-SAT solve of parkplan goes through :func:`new_solver` and :func:`solve`.
* **The command line** (:func:`handling_signals`) turns SIGINT and SIGTERM into :class:`Interrupted`
  (a ``KeyboardInterrupt``) for the duration of a command, so every ``finally`` on the way up runs
  (temporary files removed, worker processes stopped) before ``parkplan: interrupted`` and exit code
  130 (SIGINT) or 143 (SIGTERM). Further signals meanwhile do not interrupt that clean-up. Where Python
  loses the exception (raised inside an at-fork callback or a ``__del__``), :func:`check` at every stage
  and worker result raises it again; a run still not ended :data:`GRACE_S` seconds after the first
  signal is ended by :func:`force_exit`.
* **Forked worker processes** (:mod:`parkplan._parallel`) call :func:`quiet_worker` first: SIGINT (the
  terminal's Ctrl-C reaches every process of the group) is ignored, the parent stops its workers;
  SIGTERM ends a worker at once, without a traceback.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from queue import Empty, SimpleQueue
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

__all__ = [
    "GRACE_S",
    "HELPER_IDLE_S",
    "SIGNALS",
    "STOP_POLL_S",
    "WAIT_POLL_S",
    "Interrupted",
    "blocked",
    "check",
    "end_helper",
    "exit_code",
    "force_exit",
    "handling_signals",
    "new_solver",
    "quiet_worker",
    "requested",
    "solve",
]

SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals a run stops on."""

GRACE_S = 5.0
"""Seconds a run may take to end after the first signal (clean-up included) before it is ended."""

STOP_POLL_S = 0.05
"""How often (seconds) an interrupted solve is asked again to stop until it is over."""

WAIT_POLL_S = 0.1
"""Longest wait (seconds) of the main thread for a solve or a worker before it looks again. A signal
taken by another thread (while the main thread held it back, forking) reaches Python's handler only
once the main thread returns from a wait; an endless wait would hold it back until the work is done."""


class Interrupted(KeyboardInterrupt):
    """The run was interrupted by a signal (SIGINT or SIGTERM) while :func:`handling_signals` was on.

    A ``KeyboardInterrupt``, so code that cleans up after Ctrl-C does so after SIGTERM too.

    Parameters
    ----------
    signum
        The signal's number.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(exc: BaseException) -> int:
    """Exit code of a run ended by ``exc``: 128 + the signal's number (130 SIGINT, 143 SIGTERM)."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


def new_solver(seed: int = 0, time_limit_s: float | None = None) -> cp_model.CpSolver:
    """Make a CP-SAT solver as parkplan uses it: one search thread, fixed seed, no SIGINT handler.

    Parameters
    ----------
    seed
        CP-SAT random seed (with one worker, the same model gives the same solution).
    time_limit_s
        Wall-clock limit for the solve in seconds (at least 0.01); ``None`` means none.

    Returns
    -------
    ortools.sat.python.cp_model.CpSolver
        The solver, to be run with :func:`solve`.
    """
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.catch_sigint_signal = False
    if time_limit_s is not None:
        solver.parameters.max_time_in_seconds = max(float(time_limit_s), 0.01)
    return solver


def _handlers_raise() -> bool:
    """Whether a Python signal handler of SIGINT or SIGTERM is installed (it may raise)."""
    return any(callable(signal.getsignal(s)) for s in SIGNALS)


class _Job:
    """One solve for the helper thread, and how it went."""

    def __init__(self, solver: cp_model.CpSolver, model: cp_model.CpModel) -> None:
        self.solver = solver
        self.model = model
        self.began = threading.Event()
        self.finished = threading.Event()
        self.cancelled = False
        self.outcome: Any = None

    def run(self) -> None:
        """Solve, unless the caller gave up before the helper took the job."""
        self.began.set()
        try:
            if not self.cancelled:
                self.outcome = self.solver.solve(self.model)
        except BaseException as exc:  # handed to the caller
            self.outcome = exc
        finally:
            self.finished.set()


HELPER_IDLE_S = 2.0
"""Seconds the solve helper thread waits for the next solve before it ends (started again when
needed): no thread is left over long after the solves."""

_HELPER: dict[str, Any] = {}
"""The helper thread (``thread``), its queue of :class:`_Job` (``jobs``) and the process it belongs to
(``pid``: a forked child starts its own)."""

_HELPER_LOCK = threading.Lock()


def _after_fork_in_child() -> None:
    """Forget the parent's helper thread in a forked child (its lock may have been held there)."""
    global _HELPER_LOCK
    _HELPER_LOCK = threading.Lock()
    _HELPER.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _helper_loop(jobs: SimpleQueue[_Job | None]) -> None:
    while True:
        try:
            job = jobs.get(timeout=HELPER_IDLE_S)
        except Empty:
            with _HELPER_LOCK:  # a job put meanwhile is run; else the next one starts a new helper
                if not jobs.empty():
                    continue
                if _HELPER.get("jobs") is jobs:
                    _HELPER.clear()
                return
        if job is None:
            return
        job.run()


def _submit(job: _Job) -> None:
    """Hand ``job`` to this process's solve helper thread (started if there is none)."""
    with _HELPER_LOCK:
        if _HELPER.get("pid") != os.getpid():
            jobs: SimpleQueue[_Job | None] = SimpleQueue()
            thread = threading.Thread(target=_helper_loop, args=(jobs,), name="parkplan-cp-sat", daemon=True)
            thread.start()
            _HELPER.update(pid=os.getpid(), jobs=jobs, thread=thread)
        _HELPER["jobs"].put(job)


def end_helper() -> None:
    """End the idle solve helper thread now, if there is one.

    Before forking: a process forked while it has other threads is warned about since Python 3.12.
    """
    with _HELPER_LOCK:
        if _HELPER.get("pid") != os.getpid():
            return
        _HELPER["jobs"].put(None)
        thread = _HELPER["thread"]
        _HELPER.clear()
    thread.join(1.0)


def solve(solver: cp_model.CpSolver, model: cp_model.CpModel) -> Any:
    """``solver.solve(model)``, stoppable by the signal handlers of this process at any moment.

    Python runs signal handlers in the main thread only, between bytecodes: a solve run there directly
    would hold them back until it ends (minutes, without a time limit). From the main thread, with a
    Python handler installed for SIGINT or SIGTERM, the solve runs in a helper thread (one per process,
    kept: a new thread per solve costs a millisecond) and the main thread waits for it; when a handler
    raises (``KeyboardInterrupt``, :class:`Interrupted`), the search is stopped, the helper is waited
    for (milliseconds) and the exception is raised here. Elsewhere (other threads, worker processes
    without handlers) the solve runs in the calling thread.

    Parameters
    ----------
    solver
        The solver (:func:`new_solver`; ``catch_sigint_signal`` is turned off here in any case).
    model
        The model.

    Returns
    -------
    ortools.sat.python.cp_model.CpSolverStatus
        What ``solver.solve`` returns.
    """
    solver.parameters.catch_sigint_signal = False
    check()
    if threading.current_thread() is not threading.main_thread() or not _handlers_raise():
        return solver.solve(model)
    job = _Job(solver, model)
    try:
        _submit(job)
        # Polled, not an endless wait (see WAIT_POLL_S).
        while not job.finished.wait(WAIT_POLL_S):
            pass
    except BaseException:
        # The helper skips a cancelled job it has not begun; one it has begun is stopped and waited
        # for (a daemon thread still in CP-SAT when Python exits aborts the process). stop_search is
        # lost if it comes before the solve has begun, so it is asked again until the solve is over.
        job.cancelled = True
        if job.began.is_set():
            while not job.finished.wait(STOP_POLL_S):
                solver.stop_search()
        raise
    if isinstance(job.outcome, BaseException):
        raise job.outcome
    return job.outcome


def quiet_worker() -> None:
    """Set up a forked worker process: SIGINT ignored, SIGTERM ends it at once (no traceback).

    The parent turns Ctrl-C into the end of its workers (:mod:`parkplan._parallel`); without this, the
    handlers inherited from the parent would raise in the worker and print its traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def blocked() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back in the calling thread inside the block (delivered after it).

    For forking: a worker starts with them held back until :func:`quiet_worker` has set its handlers,
    so no signal reaches a worker that still has its parent's handlers.
    """
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not on POSIX
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_RAISED: list[int] = []
"""The signal :func:`handling_signals` has raised :class:`Interrupted` for, while its block runs."""


def check() -> None:
    """Raise :class:`Interrupted` again if a signal came and the run still goes on.

    Python ignores an exception raised where it cannot propagate (an at-fork callback, a ``__del__``
    method, a weak-reference callback: "Exception ignored in ..."); a run whose :class:`Interrupted`
    was lost that way is stopped at the next check instead (every stage and every worker result call
    this). Nothing happens outside :func:`handling_signals` or before a signal.
    """
    if _RAISED:
        raise Interrupted(_RAISED[0])


def requested() -> bool:
    """Tell whether a signal has come while :func:`handling_signals` is on.

    True from the signal on, whether or not its :class:`Interrupted` has reached the code running.
    """
    return bool(_RAISED)


def force_exit(signum: int, cleanup: Callable[[], None] | None = None, message: bool = True) -> None:
    """End the process now: ``cleanup()``, ``parkplan: interrupted`` on standard error, exit 128 + signum.

    The last resort when a run does not end within :data:`GRACE_S` after a signal (a thread stuck in
    a library call): the exit skips Python's own clean-up, which could hang on that thread.
    ``message=False`` when the line has been printed already.
    """
    try:
        if cleanup is not None:
            cleanup()
        if message:
            sys.stderr.write("parkplan: interrupted\n")
            sys.stderr.flush()
    finally:
        os._exit(128 + signum)


@contextmanager
def handling_signals(
    cleanup: Callable[[], None] | None = None, grace_s: float = GRACE_S
) -> Iterator[dict[str, Any]]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` inside the block; the old handlers after it.

    The first signal raises :class:`Interrupted` in the main thread; later ones are ignored, so the
    clean-up on the way up (``finally`` blocks) is not cut short, and a grace timer ends the process
    with :func:`force_exit` (after ``cleanup()``, e.g. stopping worker processes) if it has not ended
    ``grace_s`` seconds after the first signal. Only from the main thread; elsewhere nothing changes.

    Yields
    ------
    dict
        The state: ``signum`` (the first signal, if any); set ``done`` when the run's message has been
        printed (the timer then prints nothing), and ``ignore_after`` to leave both signals ignored
        after the block instead of restoring the old handlers (a program about to exit).
    """
    if threading.current_thread() is not threading.main_thread():
        yield {}
        return
    state: dict[str, Any] = {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if "signum" in state:
            return
        state["signum"] = signum
        _RAISED[:] = [signum]
        timer = threading.Timer(grace_s, lambda: force_exit(signum, cleanup, not state.get("done")))
        timer.daemon = True
        timer.start()
        state["timer"] = timer
        raise Interrupted(signum)

    old = {s: signal.signal(s, on_signal) for s in SIGNALS}
    try:
        yield state
    finally:
        _RAISED.clear()
        for s, handler in old.items():
            signal.signal(s, signal.SIG_IGN if state.get("ignore_after") else handler)
        if "timer" in state:
            state["timer"].cancel()
