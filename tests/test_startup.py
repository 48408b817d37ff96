"""Start-up: ``import parkplan`` and the command line's parsing load no heavy library.

A Ctrl-C while GeoPandas, shapely and OR-Tools load is then inside the command line's signal handling
("parkplan: interrupted", exit 130), not a traceback before it (issue 19), and ``parkplan --version``
answers at once.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

import parkplan

HEAVY = ("geopandas", "shapely", "pandas", "pyogrio", "pyproj", "ortools")


def _loaded_after(code: str, modules: tuple[str, ...] = HEAVY) -> set[str]:
    """Which of ``modules`` a fresh Python process has loaded after running ``code``.

    The answer is the last line of standard error (``code`` may print on both streams).
    """
    probe = (
        f"import sys\ntry:\n    {code.replace(chr(10), chr(10) + '    ')}\nexcept SystemExit:\n    pass\n"
        f"sys.stderr.write('\\n' + ' '.join(m for m in {modules!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(done.stderr.rsplit("\n", 1)[-1].split())


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


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["rules", "list"], 0),
        (["rules", "show", "cn"], 0),
        (["rules", "show", "de-parkraum", "--json"], 0),
        (["rules", "doc"], 0),
        (["rules", "show", "no-such-preset"], 2),  # the error path too: one line, no heavy library
    ],
)
def test_rules_commands_load_no_heavy_library(argv: list[str], code: int) -> None:
    """``parkplan rules ...`` reads TOML and prints text: no GeoPandas, shapely, numpy or OR-Tools."""
    run = f"from parkplan.cli import main\nassert main({argv!r}) == {code}"
    assert _loaded_after(run, (*HEAVY, "numpy")) == set()


def test_loading_rules_and_checking_arguments_loads_no_heavy_library() -> None:
    """The API's rules loading and its argument checks (also their error messages) stay light."""
    code = (
        "import parkplan\nparkplan.load_rules('cn')\nparkplan.list_presets()\n"
        "from parkplan.arguments import check_rules, scheduler_address\n"
        "scheduler_address('tcp://127.0.0.1:8786')\n"
        "try:\n    check_rules(3, 'rules', 'plan')\nexcept parkplan.ArgumentError:\n    pass"
    )
    assert _loaded_after(code, (*HEAVY, "numpy")) == set()


def test_public_names_resolve() -> None:
    for name in parkplan.__all__:
        assert getattr(parkplan, name) is not None, name
    assert set(parkplan.__all__) <= set(dir(parkplan))


@pytest.mark.parametrize(
    "first", ["import parkplan.check.core", "import parkplan.pipeline", "from parkplan.pipeline import Plan"]
)
def test_plan_and_check_are_the_functions_however_their_modules_were_first_imported(first: str) -> None:
    """``parkplan.plan`` / ``parkplan.check`` are functions, also after their modules were imported."""
    code = (
        f"{first}\nimport parkplan, types\n"
        "from parkplan.pipeline import plan\nfrom parkplan.check.core import check\n"
        "assert parkplan.plan is plan and parkplan.check is check\n"
        "import parkplan.check, parkplan.pipeline\n"
        "assert parkplan.plan is plan and parkplan.check is check\nprint('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr


def _series(points: list[tuple[float, float]], crs: str = "EPSG:4326") -> Any:
    import geopandas as gpd
    import shapely

    return gpd.GeoSeries([shapely.Point(x, y) for x, y in points], crs="EPSG:4326").to_crs(crs)


@pytest.mark.parametrize(
    ("points", "crs"),
    [
        ([(13.40, 52.50), (13.45, 52.48)], "EPSG:4326"),  # Berlin
        ([(13.40, 52.50), (13.45, 52.48)], "EPSG:25833"),  # the same, projected
        ([(11.9, 48.1), (12.1, 48.2)], "EPSG:4326"),  # centre on the edge of zones 32 and 33: the first
        ([(-58.4, -34.6), (-58.3, -34.5)], "EPSG:4326"),  # Buenos Aires: southern hemisphere
        ([(179.9, -16.8), (-179.9, -16.7)], "EPSG:3832"),  # Fiji, bounds across the antimeridian
        ([(0.0, 0.0)], "EPSG:4326"),  # the equator and the prime meridian
    ],
)
def test_utm_zone_crs_is_geopandas_estimate(points: list[tuple[float, float]], crs: str) -> None:
    """``io.utm_zone_crs`` (PROJ's zone table read once) picks the zone ``estimate_utm_crs`` picks."""
    from parkplan.io.read import utm_zone_crs

    data = _series(points, crs)
    assert utm_zone_crs(data) == data.estimate_utm_crs()
    assert utm_zone_crs(data.to_frame("geometry")) == data.estimate_utm_crs()


def test_utm_zone_crs_errors_are_geopandas_errors() -> None:
    """No zone beyond 84 N (RuntimeError), no bounds (ValueError): the errors the OSM reader catches."""
    import geopandas as gpd

    from parkplan.io.read import utm_zone_crs

    with pytest.raises(RuntimeError):
        utm_zone_crs(_series([(10.0, 85.0)]))
    with pytest.raises(ValueError, match="NaN"):
        utm_zone_crs(gpd.GeoSeries([], crs="EPSG:4326"))
    with pytest.raises(RuntimeError, match="crs"):
        utm_zone_crs(gpd.GeoSeries([]))


def test_utm_codes_at_are_the_zones_of_projs_table() -> None:
    """The zones found near the point are those of PROJ's whole table, in its order, on every zone edge.

    PROJ's areas of use are not all nominal 6-degree strips (zone 29N reaches to 12.01 W and 84.01 N):
    the points lie on and just beside every edge, and at random.
    """
    import random

    from pyproj.database import query_utm_crs_info

    from parkplan.io.read import _utm_codes_at

    table = [
        (int(c.code), c.area_of_use.bounds)
        for c in query_utm_crs_info(datum_name="WGS 84")
        if c.area_of_use is not None
    ]
    rng = random.Random(14)
    lons = [e + d for e in range(-180, 181, 6) for d in (-0.011, -1e-9, 0.0, 1e-9, 0.011)]
    lats = [-90.0, -80.0, -80.0 - 1e-9, -1e-9, 0.0, 1e-9, 52.5, 84.0, 84.005, 84.01, 84.02]
    points = [(lon, lat) for lon in lons for lat in lats if -180.0 <= lon <= 180.0]
    points += [(rng.uniform(-180.0, 180.0), rng.uniform(-90.0, 90.0)) for _ in range(2000)]
    for lon, lat in points:
        expected = [code for code, (w, s, e, n) in table if w <= lon <= e and s <= lat <= n]
        assert _utm_codes_at(lon, lat) == expected, (lon, lat)
