"""Start-up: ``import parkplan`` and the command line's parsing load no heavy library.

A Ctrl-C while GeoPandas, shapely and OR-Tools load is then inside the command line's signal handling
("parkplan: interrupted", exit 130), not a traceback before it (issue 19), and ``parkplan --version``
answers at once.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import parkplan

HEAVY = ("geopandas", "shapely", "pandas", "pyogrio", "pyproj", "ortools")


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nsys.stderr.write(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(done.stderr.split())


def test_importing_the_package_and_the_cli_loads_no_heavy_library() -> None:
    assert _loaded_after("import parkplan, parkplan.cli") == set()
    assert (
        _loaded_after(
            "from parkplan.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass"
        )
        == set()
    )
    # The public names load what they need on first use.
    assert "geopandas" in _loaded_after("import parkplan\nparkplan.plan")


def test_public_names_resolve() -> None:
    for name in parkplan.__all__:
        assert getattr(parkplan, name) is not None, name
    assert set(parkplan.__all__) <= set(dir(parkplan))


@pytest.mark.parametrize(
    "first", ["import parkplan.check.core", "import parkplan.plan", "from parkplan.plan import Plan"]
)
def test_plan_and_check_are_the_functions_however_their_modules_were_first_imported(first: str) -> None:
    """``parkplan.plan`` / ``parkplan.check`` are functions, also after their modules were imported."""
    code = (
        f"{first}\nimport parkplan, types\n"
        "from parkplan.plan import plan\nfrom parkplan.check.core import check\n"
        "assert parkplan.plan is plan and parkplan.check is check\n"
        "import parkplan.check, parkplan.plan\n"
        "assert parkplan.plan is plan and parkplan.check is check\nprint('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr
