"""Exception classes raised by parkplan.

Every error a user can cause by giving bad input derives from :class:`ParkplanError`; the command
line turns each into a one-line message and exit code 2.

Which to catch: :class:`InputError` covers every unusable input, output path and argument
(:class:`OutputError` and :class:`ArgumentError` are kinds of it), :class:`RulesError` a bad rule set,
:class:`SolverError` a solver failure; :class:`ParkplanError` all of them.
"""

from __future__ import annotations

__all__ = ["ArgumentError", "InputError", "OutputError", "ParkplanError", "RulesError", "SolverError"]


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


class ArgumentError(InputError, TypeError):
    """A function argument (or command-line option) has the wrong type or an invalid value.

    Raised by the public functions (:func:`parkplan.plan`, :func:`parkplan.check`,
    :func:`parkplan.from_osm`, :func:`parkplan.load_rules`, the :class:`parkplan.Plan` methods,
    :class:`parkplan.HazardSource`) before any work is done, e.g. for ``plan(None)``, ``workers="2"`` or
    ``time_limit_s=-1``. The message names the argument, what it must be and what was given.

    A subclass of :class:`InputError` (the command line exits with code 2; ``except InputError`` catches
    it) and of both :class:`ValueError` and :class:`TypeError`, so code that caught the bare built-in
    errors these cases raised before still catches them.

    Parameters
    ----------
    message
        What is wrong, naming the argument.
    argument
        The argument's name (``"workers"``, ``"--scheduler"``...).
    """

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        self.argument = argument
        super().__init__(message)
