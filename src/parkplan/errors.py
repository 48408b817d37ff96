"""Exception classes raised by parkplan.

Every error a user can cause by giving bad input derives from :class:`ParkplanError`; the command
line turns each into a one-line message and exit code 2.
"""

from __future__ import annotations

__all__ = ["InputError", "OutputError", "ParkplanError", "RulesError", "SolverError"]


class ParkplanError(Exception):
    """Base class of every error parkplan raises on purpose."""


class InputError(ParkplanError, ValueError):
    """A kerb or hazard input is unusable (missing file, bad geometry, unknown kind, bad CRS...).

    Parameters
    ----------
    message
        What is wrong and, where possible, how to fix it.
    source
        The file (or ``"kerbs"`` / ``"hazards"`` for in-memory data) the problem was found in.
    feature
        The id or position of the offending feature, when one feature is at fault.
    """

    def __init__(self, message: str, *, source: str | None = None, feature: str | None = None) -> None:
        self.message = message
        self.source = source
        self.feature = feature
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.source:
            where += f"{self.source}: "
        if self.feature is not None:
            where += f"feature {self.feature}: "
        return where + self.message


class OutputError(InputError):
    """An output path is unusable (missing folder, a folder itself, unsupported format, not writable).

    A subclass of :class:`InputError`: the path is part of what the user gives. ``source`` is the
    output path; ``feature`` is not used.
    """


class RulesError(ParkplanError, ValueError):
    """A rules file or preset is malformed or holds an invalid value."""


class SolverError(ParkplanError, RuntimeError):
    """CP-SAT failed in a way no layout can be reported for (model invalid, solver crash)."""
