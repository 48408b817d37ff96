"""Progress on long runs: one status line on standard error, rewritten in place.

``plan(..., progress=True)`` (the CLI turns it on when standard error is a terminal and ``--quiet`` is
not given) shows the stage running, its step within the stage where a stage has several (depth levels,
output files) and the seconds elapsed. Off by default for library use; nothing is printed when off.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


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
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self._width = 0

    def stage(self, name: str, step: int | None = None, total: int | None = None) -> None:
        """Show that stage ``name`` runs (its ``step`` of ``total`` if given)."""
        if not self.enabled:
            return
        where = f" {step}/{total}" if step is not None and total is not None else ""
        text = f"parkplan: {name}{where}  {time.perf_counter() - self.start:6.1f} s"
        pad = " " * max(self._width - len(text), 0)
        self._width = len(text)
        self.stream.write("\r" + text + pad)
        self.stream.flush()

    def done(self) -> None:
        """End the status line."""
        if not self.enabled or self._width == 0:
            return
        self.stream.write("\r" + " " * self._width + "\r")
        self.stream.flush()
        self._width = 0
