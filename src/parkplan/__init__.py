"""parkplan: the most on-street parking bays the rules allow, placed provably optimally by CP-SAT.

>>> import parkplan
>>> plan = parkplan.plan("kerbs.geojson", "hazards.geojson", rules="cn")  # doctest: +SKIP
>>> plan.to_geojson("bays.geojson")  # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from parkplan.check import check
from parkplan.errors import ArgumentError, InputError, ParkplanError, RulesError, SolverError
from parkplan.io import HazardSource
from parkplan.osm import from_osm
from parkplan.plan import Plan, plan
from parkplan.rules import BayType, Clearance, Grouping, Rules, list_presets, load_rules

try:
    __version__ = version("parkplan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "ArgumentError",
    "BayType",
    "Clearance",
    "Grouping",
    "HazardSource",
    "InputError",
    "ParkplanError",
    "Plan",
    "Rules",
    "RulesError",
    "SolverError",
    "__version__",
    "check",
    "from_osm",
    "list_presets",
    "load_rules",
    "plan",
]
