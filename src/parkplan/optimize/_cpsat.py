"""CP-SAT as parkplan runs it: one solver setup, a solve that a signal can stop, one status ranking.

Every CP-SAT solve of parkplan goes through this module:

* :func:`new_solver` is the one place for the solver's settings: one search thread and a fixed seed
  (the same model gives the same solution), an optional wall-clock limit, and ``catch_sigint_signal``
  off: OR-Tools' own handler swallows the first Ctrl-C, stopping only the model it is solving, and
  resets SIGINT to the default action afterwards. The library changes no signal handler.
* :func:`solve` hands a solve started from the main thread to a helper thread, so the host's signal
  handler runs at once: when it raises (``KeyboardInterrupt``, :class:`parkplan._interrupt.Interrupted`)
  the search is stopped (``stop_search``) and the exception goes on up. :func:`solve_model` is both in
  one call, with the status by name.
* :data:`Status` names how a model was solved, :data:`RANK` orders the names from proven to unknown, and
  :func:`worst` combines the statuses of several models into the one a plan reports.

Before :mod:`parkplan._parallel` forks worker processes, the idle helper thread is ended
(:func:`end_helper`, registered with :func:`parkplan._interrupt.before_fork`); a forked child forgets
its parent's helper and starts its own.
"""

from __future__ import annotations

import os
import threading
from queue import Empty, SimpleQueue
from typing import Any, Literal, cast

from ortools.sat.python import cp_model

from parkplan import _interrupt as interrupt

__all__ = [
    "HELPER_IDLE_S",
    "RANK",
    "STOP_POLL_S",
    "Status",
    "end_helper",
    "has_solution",
    "new_solver",
    "solve",
    "solve_model",
    "status_of",
    "worst",
]

Status = Literal["OPTIMAL", "FEASIBLE", "HEURISTIC", "UNKNOWN", "INFEASIBLE", "MODEL_INVALID"]
"""How a model was solved, as written to the plan's summary: CP-SAT's status names, and ``HEURISTIC``
for a choice made by a fixed rule instead of a model (the habit baseline of :mod:`parkplan.sides`)."""

RANK: dict[Status, int] = {
    "OPTIMAL": 0,
    "FEASIBLE": 1,
    "HEURISTIC": 1,
    "UNKNOWN": 2,
    "INFEASIBLE": 2,
    "MODEL_INVALID": 2,
}
"""How far each status is from a proof: 0 proven optimal, 1 a solution without a proof (``HEURISTIC``
too: a feasible layout), 2 no solution."""

_REPORTED: tuple[Status, Status, Status] = ("OPTIMAL", "FEASIBLE", "UNKNOWN")
"""The status :func:`worst` reports for each rank."""

STOP_POLL_S = 0.05
"""How often (seconds) an interrupted solve is asked again to stop until it is over."""

HELPER_IDLE_S = 2.0
"""Seconds the solve helper thread waits for the next solve before it ends (started again when
needed): no thread is left over long after the solves."""


def worst(*statuses: Status) -> Status:
    """Combine the statuses of several models into the status of them all: the least proven one.

    Parameters
    ----------
    *statuses
        Statuses of the models (none: nothing to prove).

    Returns
    -------
    Status
        ``OPTIMAL`` when every model was solved to optimality (or there is none), else ``FEASIBLE`` when
        every model has a solution (``HEURISTIC`` counts as one), else ``UNKNOWN``.
    """
    return _REPORTED[max((RANK.get(s, 2) for s in statuses), default=0)]


def has_solution(status: Status) -> bool:
    """Whether a model with this status has a solution to read (``OPTIMAL`` or ``FEASIBLE``)."""
    return RANK.get(status, 2) <= 1


def status_of(solver: cp_model.CpSolver, result: cp_model.CpSolverStatus) -> Status:
    """Name the :data:`Status` of a solve: CP-SAT's name for ``result`` (what :func:`solve` returned)."""
    return cast(Status, solver.status_name(result))


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
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.catch_sigint_signal = False
    if time_limit_s is not None:
        solver.parameters.max_time_in_seconds = max(float(time_limit_s), 0.01)
    return solver


def solve_model(
    model: cp_model.CpModel, seed: int = 0, time_limit_s: float | None = None
) -> tuple[cp_model.CpSolver, Status]:
    """Solve ``model`` with a solver of :func:`new_solver`, stoppable as :func:`solve` is.

    Parameters
    ----------
    model
        The model.
    seed, time_limit_s
        As for :func:`new_solver`.

    Returns
    -------
    tuple
        The solver (to read the solution and the bound from) and the :data:`Status`.
    """
    solver = new_solver(seed, time_limit_s)
    return solver, status_of(solver, solve(solver, model))


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

    Before forking (:func:`parkplan._interrupt.prepare_fork`): a process forked while it has other
    threads is warned about since Python 3.12.
    """
    with _HELPER_LOCK:
        if _HELPER.get("pid") != os.getpid():
            return
        _HELPER["jobs"].put(None)
        thread = _HELPER["thread"]
        _HELPER.clear()
    thread.join(1.0)


interrupt.before_fork(end_helper)


def solve(solver: cp_model.CpSolver, model: cp_model.CpModel) -> cp_model.CpSolverStatus:
    """``solver.solve(model)``, stoppable by the signal handlers of this process at any moment.

    Python runs signal handlers in the main thread only, between bytecodes: a solve run there directly
    would hold them back until it ends (minutes, without a time limit). From the main thread, with a
    Python handler installed for SIGINT or SIGTERM, the solve runs in a helper thread (one per process,
    kept: a new thread per solve costs a millisecond) and the main thread waits for it; when a handler
    raises (``KeyboardInterrupt``, :class:`parkplan._interrupt.Interrupted`), the search is stopped, the
    helper is waited for (milliseconds) and the exception is raised here. Elsewhere (other threads,
    worker processes without handlers) the solve runs in the calling thread.

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
    interrupt.check()
    if threading.current_thread() is not threading.main_thread() or not interrupt.handlers_raise():
        return solver.solve(model)
    job = _Job(solver, model)
    try:
        _submit(job)
        # Polled, not an endless wait (see parkplan._interrupt.WAIT_POLL_S).
        while not job.finished.wait(interrupt.WAIT_POLL_S):
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
    return cast(cp_model.CpSolverStatus, job.outcome)
