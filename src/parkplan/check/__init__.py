"""Layout checker: every bay measured against the rules on its own (see ``docs/check.md``).

:func:`check` returns the violations of a layout (parkplan's own or anyone's) as a GeoDataFrame;
:func:`run_check` also returns the counts by check. The checker shares the planner's readers and kerb
building, never its zone or projection code.
"""

from __future__ import annotations

from parkplan.check.attach import attach_bays
from parkplan.check.core import CHECKS, TOL_M, TOL_M2, CheckResult, check, run_check

__all__ = ["CHECKS", "TOL_M", "TOL_M2", "CheckResult", "attach_bays", "check", "run_check"]
