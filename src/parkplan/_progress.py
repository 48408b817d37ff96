"""Progress on long runs: one status line on standard error, rewritten in place.

``plan(..., progress=True)`` (the CLI turns it on when standard error is a terminal and ``--quiet`` is
not given) shows the stage running, its step within the stage where a stage has several (depth levels,
output files) and the seconds elapsed. Off by default for library use; nothing is printed when off.

With the environment variable ``PARKPLAN_PROGRESS=1`` every stage is also announced as a plain line
``parkplan: stage NAME`` when it begins, whether the status line is on or not and whatever standard
error is (a pipe, a log file): for scripts and tests that wait for a stage (the signal tests).
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from parkplan import _interrupt as interrupt

__all__ = ["PLAIN_ENV", "Progress", "end_line"]

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
