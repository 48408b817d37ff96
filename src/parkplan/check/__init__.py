"""Layout checker: every bay measured against the rules on its own (see ``docs/check.md``).

:func:`check` returns the violations of a layout (parkplan's own or anyone's) as a GeoDataFrame;
:func:`run_check` also returns the counts by check. The checker shares the planner's readers and kerb
building, never its zone or projection code.

``parkplan.check`` is the function :func:`check`; this subpackage has the same name, and Python binds a
subpackage to its name in the parent package when the subpackage is first imported. Where that happens
before ``parkplan.check`` is first used (``import parkplan.check.core``), the name holds this module, so
the module is made callable as :func:`check` too.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from parkplan.check.attach import attach_bays
from parkplan.check.core import CHECKS, TOL_M, TOL_M2, CheckResult, check, run_check

__all__ = ["CHECKS", "TOL_M", "TOL_M2", "CheckResult", "attach_bays", "check", "run_check"]


class _CallableModule(types.ModuleType):
    """The module class of this subpackage: callable as :func:`parkplan.check.core.check`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Check a layout: :func:`parkplan.check.core.check`."""
        return check(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
