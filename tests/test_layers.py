"""The layer contract of the package (issue 18): a module imports only from its own layer or lower ones.

Every module under ``src/parkplan`` is parsed with :mod:`ast` (nothing is imported), and every import it
makes is collected: at module level and inside functions and classes, ``import x``, ``from x import y``,
relative imports and ``importlib.import_module("parkplan....")`` with a literal name; imports under
``if TYPE_CHECKING:`` do not count (they are never executed). Then:

* a module of layer A may import a parkplan module of layer B only if B <= A (:data:`LAYERS`, the table
  of ``docs/architecture.md``); a module in no layer fails too, so a new module must be placed;
* OR-Tools is imported only under ``parkplan/optimize/``, and nothing under ``parkplan/optimize/``
  imports shapely, GeoPandas or pyproj (the models get plain arrays).

Importing a submodule runs its packages' ``__init__`` first; those are kept light (``parkplan/__init__``
imports its public names lazily), so only the module named counts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "parkplan"

#: Layer of each module or package, lowest first; a module takes the entry of its longest dotted prefix
#: (``parkplan.io.paths`` is 0, the rest of ``parkplan.io`` 2). ``parkplan`` is the package's
#: ``__init__`` only: a new module of the package must be given a layer here.
LAYERS: dict[str, int] = {
    "parkplan.errors": 0,
    "parkplan.arguments": 0,
    "parkplan._arrays": 0,
    "parkplan._interrupt": 0,
    "parkplan._parallel": 0,
    "parkplan._progress": 0,
    "parkplan.io.paths": 0,
    "parkplan.rules": 1,
    "parkplan.io": 2,
    "parkplan.geometry": 3,
    "parkplan.intervals": 3,
    "parkplan.hazards": 4,
    "parkplan.optimize": 5,
    "parkplan.sides": 6,
    "parkplan.keep": 6,
    "parkplan.layout": 6,
    "parkplan.quotas": 6,
    "parkplan.accounting": 6,
    "parkplan.pipeline": 7,
    "parkplan.osm": 7,
    "parkplan.synthetic": 7,
    "parkplan.review": 7,
    "parkplan.check": 8,
    "parkplan.cli": 9,
    "parkplan": 9,
}

#: Only modules under this package may import OR-Tools, and none under it the geometry libraries.
OPTIMIZE = "parkplan.optimize"
SOLVER_LIBRARIES = frozenset({"ortools"})
GEOMETRY_LIBRARIES = frozenset({"shapely", "geopandas", "pyproj"})


def module_name(path: Path) -> str:
    """``src/parkplan/io/read.py`` -> ``parkplan.io.read``; a package's ``__init__.py`` -> the package."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int | None:
    """The layer of a parkplan module (its longest dotted prefix in :data:`LAYERS`), or None."""
    if module == "parkplan":
        return LAYERS[module]
    parts = module.split(".")
    for n in range(len(parts), 1, -1):
        layer = LAYERS.get(".".join(parts[:n]))
        if layer is not None:
            return layer
    return None


def _is_module(dotted: str) -> bool:
    """Tell a parkplan module or package that exists in the source tree."""
    base = SRC.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node under ``body``, except the body of an ``if TYPE_CHECKING:`` (its ``else`` counts)."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(reversed(node.orelse))
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def imports(path: Path) -> list[tuple[str, int]]:
    """The modules the file ``path`` imports (:func:`imports_in`)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: str) -> list[tuple[str, int]]:
    """The modules the code ``source`` of a module in ``package`` imports, as ``(dotted name, line)``.

    parkplan modules by their full name (a name imported from a package is its submodule when there is
    one), other libraries by their top-level name.
    """
    found: list[tuple[str, int]] = []

    def add(dotted: str, line: int) -> None:
        found.append((dotted if dotted.split(".")[0] == "parkplan" else dotted.split(".")[0], line))

    for node in _nodes(ast.parse(source).body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                source_module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source_module = node.module or ""
            for alias in node.names:
                sub = f"{source_module}.{alias.name}"
                parkplan = source_module.split(".")[0] == "parkplan"
                add(sub if parkplan and _is_module(sub) else source_module, node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            add(node.args[0].value, node.lineno)
    return found


def violations() -> list[tuple[str, str, str]]:
    """Every import that breaks the contract, as ``(importer, imported, message)``."""
    out: list[tuple[str, str, str]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        mine = layer_of(module)
        if mine is None:
            out.append((module, module, f"{module} is in no layer: add it to LAYERS in tests/test_layers.py"))
            continue
        in_optimize = module == OPTIMIZE or module.startswith(OPTIMIZE + ".")
        seen: set[str] = set()
        for imported, line in imports(path):
            if imported in seen:
                continue
            seen.add(imported)
            where = f"at {path.relative_to(SRC.parent)}:{line}"
            why = None
            if imported.split(".")[0] == "parkplan":
                theirs = layer_of(imported)
                if theirs is not None and theirs > mine:
                    why = f"layer {mine} < {theirs}"
            elif imported in SOLVER_LIBRARIES and not in_optimize:
                why = f"only {OPTIMIZE} may"
            elif imported in GEOMETRY_LIBRARIES and in_optimize:
                why = f"never under {OPTIMIZE}"
            if why is not None:
                out.append((module, imported, f"{module} imports {imported} ({why}) {where}"))
    return out


def test_every_module_imports_only_its_own_layer_or_lower() -> None:
    found = [message for _, _, message in violations()]
    assert not found, "layer violations:\n" + "\n".join(found)


#: What the checker must not import: the planner's matching, zones, room, rays, sides, layout, keep and
#: solver code. It measures a layout on its own (docs/check.md), so a fault in one is caught by the other;
#: it shares only the reading of inputs and the kerb table (io, rules, geometry.kerbs, osm).
PLANNER = ("parkplan.hazards", "parkplan.intervals", "parkplan.geometry.carriageway",
           "parkplan.geometry.rays", "parkplan.geometry.chainage", "parkplan.sides", "parkplan.layout",
           "parkplan.keep", "parkplan.quotas", "parkplan.optimize", "parkplan.pipeline",
           "parkplan.accounting")  # fmt: skip


def test_the_checker_imports_none_of_the_planners_code() -> None:
    found = []
    for path in sorted((PACKAGE / "check").rglob("*.py")):
        module = module_name(path)
        for imported, line in imports(path):
            if any(imported == p or imported.startswith(p + ".") for p in PLANNER):
                found.append(f"{module} imports {imported} (line {line})")
    assert not found, "\n".join(found)


def test_every_layer_entry_names_a_module() -> None:
    """The table names modules that exist."""
    missing = sorted(name for name in LAYERS if not _is_module(name))
    assert not missing, missing


def test_the_checker_sees_what_it_must() -> None:
    """Imports inside functions, relative ones and import_module count; those under TYPE_CHECKING do not."""
    source = """
from __future__ import annotations
import importlib
from typing import TYPE_CHECKING
import shapely.ops
from parkplan.errors import InputError
from parkplan import osm
from . import tags
from ..io.read import utm_zone_crs
if TYPE_CHECKING:
    from parkplan.pipeline import Plan
else:
    import pyproj

def f():
    from parkplan.check.core import run_check
    return importlib.import_module("parkplan.hazards")
"""
    found = [name for name, _ in imports_in(source, "parkplan.osm")]
    assert found == [
        "__future__",
        "importlib",
        "typing",
        "shapely",
        "parkplan.errors",
        "parkplan.osm",
        "parkplan.osm.tags",
        "parkplan.io.read",
        "pyproj",
        "parkplan.check.core",
        "parkplan.hazards",
    ]
    assert layer_of("parkplan.io.paths") == 0
    assert layer_of("parkplan.io.read") == 2
    assert layer_of("parkplan.optimize.solve") == 5
    assert layer_of("parkplan.osm.tags") == 7
    assert layer_of("parkplan") == 9
    assert layer_of("parkplan.nowhere") is None  # a new module must be given a layer
