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
import sys
import types
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from parkplan.errors import ArgumentError, InputError, OutputError, ParkplanError, RulesError, SolverError

if TYPE_CHECKING:
    from parkplan.check import check
    from parkplan.io.paths import LayerPath
    from parkplan.io.read import HazardSource
    from parkplan.osm.streets import OsmData, from_osm
    from parkplan.pipeline import Plan, plan
    from parkplan.rules.loading import BayType, Clearance, Grouping, Rules, list_presets, load_rules

try:
    __version__ = version("parkplan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

_LAZY = {
    "BayType": "parkplan.rules.loading",
    "Clearance": "parkplan.rules.loading",
    "Grouping": "parkplan.rules.loading",
    "HazardSource": "parkplan.io.read",
    "LayerPath": "parkplan.io.paths",
    "OsmData": "parkplan.osm.streets",
    "Plan": "parkplan.pipeline",
    "Rules": "parkplan.rules.loading",
    "check": "parkplan.check",
    "from_osm": "parkplan.osm.streets",
    "list_presets": "parkplan.rules.loading",
    "load_rules": "parkplan.rules.loading",
    "plan": "parkplan.pipeline",
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
    "OsmData",
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


class _Package(types.ModuleType):
    """The module class of this package: a submodule does not take the name of a public function.

    ``parkplan.plan`` and ``parkplan.check`` are functions defined in the submodules of the same name;
    Python binds a submodule to its name in the package when it is first imported (``from
    parkplan.pipeline import Plan`` anywhere), which would put the module where the function belongs.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        """Set an attribute, except a submodule over the public function of its name."""
        if isinstance(value, types.ModuleType) and name in _LAZY and value.__name__ == _LAZY[name]:
            return
        super().__setattr__(name, value)


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'parkplan' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the module's names, the lazily imported ones included."""
    return sorted(set(globals()) | set(_LAZY))


sys.modules[__name__].__class__ = _Package
