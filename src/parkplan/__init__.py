"""parkplan: the most on-street parking bays the rules allow, placed provably optimally by CP-SAT.

>>> import parkplan
>>> plan = parkplan.plan("kerbs.geojson", "hazards.geojson", rules="cn")  # doctest: +SKIP
>>> plan.to_geojson("bays.geojson")  # doctest: +SKIP

The public names are imported on first use (PEP 562), so ``import parkplan`` and the command line start
without loading GeoPandas, shapely and OR-Tools (0.7 s on the development machine) until a command needs
them, and a Ctrl-C while they load is the command line's "interrupted", not a traceback.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from parkplan.errors import ArgumentError, InputError, OutputError, ParkplanError, RulesError, SolverError

if TYPE_CHECKING:
    from parkplan.check.core import check
    from parkplan.io import HazardSource
    from parkplan.osm import from_osm
    from parkplan.paths import LayerPath
    from parkplan.plan import Plan, plan
    from parkplan.rules import BayType, Clearance, Grouping, Rules, list_presets, load_rules

try:
    __version__ = version("parkplan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

_LAZY = {
    "BayType": "parkplan.rules",
    "Clearance": "parkplan.rules",
    "Grouping": "parkplan.rules",
    "HazardSource": "parkplan.io",
    "LayerPath": "parkplan.paths",
    "Plan": "parkplan.plan",
    "Rules": "parkplan.rules",
    "check": "parkplan.check.core",
    "from_osm": "parkplan.osm",
    "list_presets": "parkplan.rules",
    "load_rules": "parkplan.rules",
    "plan": "parkplan.plan",
}
"""Public name -> the module it is defined in, imported by :func:`__getattr__` on first use."""

__all__ = [
    "ArgumentError",
    "BayType",
    "Clearance",
    "Grouping",
    "HazardSource",
    "InputError",
    "LayerPath",
    "OutputError",
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


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'parkplan' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    # Set after the import: importing the subpackage parkplan.check binds its module to this name.
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the module's names, the lazily imported ones included."""
    return sorted(set(globals()) | set(_LAZY))
