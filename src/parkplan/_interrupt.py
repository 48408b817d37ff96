"""Stopping a run on Ctrl-C (SIGINT) or SIGTERM: at once, quietly, and leaving no trace.

Three parts, one per kind of process:

* **The library** changes no signal handler. Its CP-SAT solves (:mod:`parkplan.optimize._cpsat`) tell
  CP-SAT not to install its own and run, when started from the main thread with a Python handler
  installed (:func:`handlers_raise`), in a helper thread, so the host's handler runs at once: when it
  raises (``KeyboardInterrupt``), the search is stopped and the exception goes on up. Code that must
  act before :mod:`parkplan._parallel` forks (ending that helper thread) registers with
  :func:`before_fork`; this module imports nothing of the layers above it.
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
from types import FrameType
from typing import Any

__all__ = [
    "GRACE_S",
    "SIGNALS",
    "WAIT_POLL_S",
    "Interrupted",
    "before_fork",
    "blocked",
    "check",
    "exit_code",
    "force_exit",
    "handlers_raise",
    "handling_signals",
    "prepare_fork",
    "quiet_worker",
    "requested",
]

SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals a run stops on."""

GRACE_S = 5.0
"""Seconds a run may take to end after the first signal (clean-up included) before it is ended."""

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


def handlers_raise() -> bool:
    """Whether a Python signal handler of SIGINT or SIGTERM is installed (it may raise)."""
    return any(callable(signal.getsignal(s)) for s in SIGNALS)


_BEFORE_FORK: list[Callable[[], None]] = []
"""What :func:`prepare_fork` calls, in the order registered."""


def before_fork(callback: Callable[[], None]) -> None:
    """Have :func:`prepare_fork` call ``callback`` (once, however often it is registered).

    For modules above this layer that keep a thread of their own (the CP-SAT helper thread of
    :mod:`parkplan.optimize._cpsat`): :mod:`parkplan._parallel` ends it before forking without
    importing them.
    """
    if callback not in _BEFORE_FORK:
        _BEFORE_FORK.append(callback)


def prepare_fork() -> None:
    """Call every callback registered with :func:`before_fork`: just before forking worker processes.

    A process forked while it has other threads is warned about since Python 3.12.
    """
    for callback in list(_BEFORE_FORK):
        callback()


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
