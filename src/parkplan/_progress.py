"""Progress on long runs: one status line on standard error, rewritten in place.

``plan(..., progress=True)`` (the CLI turns it on when standard error is a terminal and ``--quiet`` is
not given) shows the stage running, its step within the stage where a stage has several (depth levels,
output files) and the seconds elapsed. Off by default for library use; nothing is printed when off.

With the environment variable ``PARKPLAN_PROGRESS=1`` every stage is also announced as a plain line
``parkplan: stage NAME`` when it begins, whether the status line is on or not and whatever standard
error is (a pipe, a log file): for scripts and tests that wait for a stage (the signal tests).

:class:`Stages` times the stages of a run as it shows them: ``with stages.stage("kerbs"): ...``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from parkplan import _interrupt as interrupt

__all__ = ["PLAIN_ENV", "Progress", "Stages", "end_line"]

PLAIN_ENV = "PARKPLAN_PROGRESS"
"""Environment variable: ``1`` prints a plain ``parkplan: stage NAME`` line as each stage begins."""

_OPEN: list[Progress] = []
"""The status line on screen now, if any (:func:`end_line` clears it; at most one)."""


def end_line() -> None:
    """Clear the status line on screen, if any (before a last message such as ``interrupted``)."""
    while _OPEN:
        _OPEN.pop().done()


class Progress:
    """A status line for the stages of a plan.

    Parameters
    ----------
    enabled
        Print anything at all.
    stream
        Where to print (default: standard error).
    """

    def __init__(self, enabled: bool = False, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.plain = os.environ.get(PLAIN_ENV) == "1"
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self._width = 0
        self._stage = ""

    def stage(self, name: str, step: int | None = None, total: int | None = None) -> None:
        """Show that stage ``name`` runs (its ``step`` of ``total`` if given).

        Also where an interrupted run stops if its interruption was lost (:func:`interrupt.check`).
        """
        interrupt.check()
        if self.plain and name != self._stage:
            self._stage = name
            self.stream.write(("\n" if self._width else "") + f"parkplan: stage {name}\n")
            self.stream.flush()
            self._width = 0
        if not self.enabled:
            return
        where = f" {step}/{total}" if step is not None and total is not None else ""
        text = f"parkplan: {name}{where}  {time.perf_counter() - self.start:6.1f} s"
        pad = " " * max(self._width - len(text), 0)
        self._width = len(text)
        self.stream.write("\r" + text + pad)
        self.stream.flush()
        _OPEN[:] = [self]  # one line on screen at a time

    def done(self) -> None:
        """End the status line."""
        if self in _OPEN:
            _OPEN.remove(self)
        if not self.enabled or self._width == 0:
            return
        self.stream.write("\r" + " " * self._width + "\r")
        self.stream.flush()
        self._width = 0


class Stages:
    """The stages of a run: each shown on a :class:`Progress` line as it begins, and timed.

    >>> stages = Stages(Progress(enabled=False))
    >>> with stages.stage("reading", "read"):
    ...     pass
    >>> list(stages.timings_s)
    ['read']

    Parameters
    ----------
    progress
        The status line to show the stages on (its sub-steps too: :attr:`progress`).

    Attributes
    ----------
    timings_s
        Seconds per timing name, in the order the stages first ended.
    """

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.timings_s: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, timing: str | None = None) -> Iterator[Progress]:
        """Show stage ``name`` and add the seconds the block takes to ``timings_s[timing]``.

        ``timing`` defaults to ``name``; a stage entered again adds to its time. A block left by an
        exception is not timed. Yields the status line, for the steps within the stage.
        """
        self.progress.stage(name)
        start = time.perf_counter()
        yield self.progress
        key = name if timing is None else timing
        self.timings_s[key] = self.timings_s.get(key, 0.0) + time.perf_counter() - start

    def split(self, timing: str, **parts_s: float) -> None:
        """Move ``parts_s`` out of ``timing`` into timings of their own.

        ``parts_s``: seconds spent inside the stage timed as ``timing``, measured by the work itself. They
        come after ``timing``, in the order given.
        """
        self.timings_s[timing] -= sum(parts_s.values())
        self.timings_s.update(parts_s)

    def done(self) -> None:
        """End the status line."""
        self.progress.done()
