"""The review map (parkplan.review.html): its HTML text, and the page in headless Chromium, offline.

The browser tests need Debian's ``chromium`` and ``chromium-driver`` (installed by .ci/run) and Selenium;
they are skipped where either is missing.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import parkplan
from offline_browser import CHROMEDRIVER, CHROMIUM, offline_chromium
from parkplan.cli import main
from parkplan.errors import ArgumentError, OutputError
from parkplan.review.html import catalogue, map_html, plan_html, write_map

DATA = Path(__file__).parent / "data" / "neukoelln_small"
STREETS = DATA / "street_areas.geojson"
CROSSINGS = DATA / "crossings.geojson"
DRIVEWAYS = DATA / "driveways.geojson"
HAZARDS = [parkplan.HazardSource(CROSSINGS, "crossing"), parkplan.HazardSource(DRIVEWAYS, "driveway")]
TILES = "https://tiles.example.org/{z}/{x}/{y}.png"


@pytest.fixture(scope="module")
def small_plan() -> parkplan.Plan:
    return parkplan.plan(STREETS, HAZARDS, rules="de-parkraum")


# -- the HTML text, no browser ----------------------------------------------------------------------


def test_no_url_without_tiles(small_plan: parkplan.Plan) -> None:
    html = plan_html(small_plan)
    assert "http://" not in html
    assert "https://" not in html
    assert "<script src" not in html
    assert "<link" not in html


def test_tiles_url_with_tiles(small_plan: parkplan.Plan) -> None:
    html = plan_html(small_plan, tiles=TILES)
    assert TILES in html
    assert '"attribution":"tiles.example.org"' in html


def test_catalogue_languages_have_the_same_keys() -> None:
    cat = catalogue()
    assert set(cat) == {"en", "zh-CN"}
    assert cat["en"].keys() == cat["zh-CN"].keys()
    assert cat["en"]["kinds"].keys() == cat["zh-CN"]["kinds"].keys()


def test_bad_lang_and_tiles() -> None:
    with pytest.raises(ArgumentError):
        map_html(lang="fr")
    with pytest.raises(ArgumentError):
        map_html(tiles="https://tiles.example.org/tile.png")


def test_cap_counts_what_is_left_out(small_plan: parkplan.Plan) -> None:
    html = map_html(bays=small_plan.bays, zones=small_plan.zones, max_features=100)
    data = json.loads(html.split('type="application/json">', 1)[1].split("</script>", 1)[0])
    assert data["counts"]["bays"] == [100, len(small_plan.bays)]
    assert data["counts"]["zones"] == [0, len(small_plan.zones)]


def test_to_html_never_over_an_input(small_plan: parkplan.Plan, tmp_path: Path) -> None:
    copy = tmp_path / "streets.geojson"
    shutil.copy(STREETS, copy)
    p = parkplan.plan(copy, HAZARDS, rules="de-parkraum")
    with pytest.raises(OutputError):
        p.to_html(copy)
    out = p.to_html(tmp_path / "map.html", lang="zh-CN")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_cli_map_is_checked_before_work(tmp_path: Path) -> None:
    args = ["plan", str(STREETS), "--rules", "de-parkraum", "-o", str(tmp_path / "b.geojson")]
    code = main([*args, "--map", str(STREETS)])
    assert code != 0
    assert not (tmp_path / "b.geojson").exists()


# -- the page in Chromium ---------------------------------------------------------------------------

HAVE_BROWSER = (
    importlib.util.find_spec("selenium") is not None
    and Path(CHROMIUM).exists()
    and Path(CHROMEDRIVER).exists()
)
needs_browser = pytest.mark.skipif(not HAVE_BROWSER, reason="selenium, chromium or chromedriver missing")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not HAVE_BROWSER:
        pytest.skip("selenium, chromium or chromedriver missing")
    profile = tempfile.mkdtemp(prefix="parkplan-chromium-")
    driver = offline_chromium(profile, performance_log=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(driver: Any, path: Path) -> None:
    driver.get_log("browser")  # forget what came before
    driver.get_log("performance")
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return !!window.parkplanMap")


def _no_errors_no_requests(driver: Any) -> None:
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    assert [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))] == []


def _not_blank(driver: Any) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 10


@needs_browser
def test_plan_map_in_chromium(browser: Any, small_plan: parkplan.Plan, tmp_path: Path) -> None:
    path = small_plan.to_html(tmp_path / "plan.html")
    _open(browser, path)
    info = browser.execute_script("return window.parkplanMap")
    assert info["bays"] == len(small_plan.bays) == small_plan.summary["bays"]["total"]
    assert info["zones"] == len(small_plan.zones)
    assert info["violations"] == 0
    assert info["lang"] == "en"
    assert browser.title.startswith("Parking plan")

    # A crossing zone explains itself: its rule and the source clause of the crossing clearance.
    kinds = list(small_plan.zones["kind"])
    i = kinds.index("crossing")
    text = browser.execute_script(f"return window.parkplanMap.open('zones', {i})")
    assert small_plan.zones["rule"].iloc[i] in text
    source = small_plan.rules.sources["clearances.crossing.before_m"].text
    assert source in text
    assert "Source" in text

    bay = browser.execute_script("return window.parkplanMap.open('bays', 0)")
    assert small_plan.bays["bay_id"].iloc[0] in bay

    _not_blank(browser)
    _no_errors_no_requests(browser)

    # The language switch changes the strings.
    browser.execute_script("window.parkplanMap.setLang('zh-CN')")
    assert browser.title.startswith("停车规划")
    panel = browser.find_element("css selector", ".pp-panel").text
    assert "停车位" in panel
    assert browser.execute_script("return window.parkplanMap.lang") == "zh-CN"
    # The open popup (the bay's) follows the switch, and a new one is in Chinese.
    assert "里程" in browser.find_element("css selector", ".leaflet-popup-content").text
    text = browser.execute_script(f"return window.parkplanMap.open('zones', {i})")
    assert "人行横道" in text


@needs_browser
def test_zh_first_and_click(browser: Any, small_plan: parkplan.Plan, tmp_path: Path) -> None:
    path = small_plan.to_html(tmp_path / "plan_zh.html", lang="zh-CN")
    _open(browser, path)
    assert browser.title.startswith("停车规划")
    # A real click on the first bay's centre (brought to the middle of the map) opens its popup.
    from selenium.webdriver.common.action_chains import ActionChains

    centre = small_plan.bays.to_crs(4326).geometry.iloc[0].centroid
    browser.execute_script(f"window.parkplanMap.zoomTo({centre.y}, {centre.x}, 21)")
    ActionChains(browser).move_to_element(browser.find_element("id", "map")).click().perform()
    popup = browser.find_element("css selector", ".leaflet-popup-content").text
    assert small_plan.bays["bay_id"].iloc[0] in popup
    _no_errors_no_requests(browser)


@needs_browser
def test_check_map_in_chromium(browser: Any, tmp_path: Path) -> None:
    bays = tmp_path / "bays.geojson"
    base = ["--rules", "de-parkraum", "-f", f"crossing={CROSSINGS}", "-f", f"driveway={DRIVEWAYS}"]
    assert main(["plan", str(STREETS), *base, "-o", str(bays), "-q"]) == 0
    from parkplan.check.core import run_check

    # Checked under stricter rules the plan breaks some: the violations are on the map.
    result = run_check(str(bays), str(STREETS), [HAZARDS[0]], "cn")
    assert len(result.violations) > 0
    html = tmp_path / "check.html"
    code = main(["check", str(bays), str(STREETS), "-f", f"crossing={CROSSINGS}", "--rules", "cn",
                 "--map", str(html), "-q"])  # fmt: skip
    assert code == 1
    _open(browser, html)
    info = browser.execute_script("return window.parkplanMap")
    assert info["violations"] == len(result.violations)
    assert info["bays"] == len(result.bays)  # the bays checked, under the violations
    assert browser.title.startswith("Parking check")
    text = browser.execute_script("return window.parkplanMap.open('violations', 0)")
    assert result.violations["check"].iloc[0] in text
    _not_blank(browser)
    _no_errors_no_requests(browser)


@needs_browser
def test_left_out_notice(browser: Any, small_plan: parkplan.Plan, tmp_path: Path) -> None:
    path = tmp_path / "capped.html"
    write_map(path, bays=small_plan.bays, zones=small_plan.zones, kerbs=small_plan.kerbs, max_features=500)
    _open(browser, path)
    info = browser.execute_script("return window.parkplanMap")
    assert info["bays"] == 500
    assert info["zones"] == 0
    notice = browser.find_element("id", "pp-left-out").text
    assert f"{len(small_plan.bays) - 500} Bays" in notice
    assert f"{len(small_plan.zones)} No-bay zones" in notice
    _no_errors_no_requests(browser)


def test_cli_tiles_and_lang(tmp_path: Path) -> None:
    html = tmp_path / "m.html"
    args = [
        "plan",
        str(STREETS),
        "-f",
        f"crossing={CROSSINGS}",
        "--rules",
        "cn",
        "-o",
        str(tmp_path / "b.geojson"),
    ]
    assert main([*args, "--map", str(html), "--lang", "zh-CN", "--tiles", TILES, "-q"]) == 0
    text = html.read_text(encoding="utf-8")
    assert TILES in text
    assert '"lang":"zh-CN"' in text
    assert "GA/T 850" in text  # the cn rules' clearance sources
    assert main([*args, "--map", str(html), "--tiles", TILES, "--attribution", "© Tiles Example", "-q"]) == 0
    assert "© Tiles Example" in html.read_text(encoding="utf-8")


# -- the bundled examples (slow) --------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _example_plan(name: str) -> parkplan.Plan:
    from parkplan.osm.existing import plan_osm

    if name == "neukoelln_osm":
        return plan_osm(DATA.parent / "osm" / "neukoelln-2024.osm", rules="de-parkraum", mode="existing")
    if name == "helsinki":
        return plan_osm(ROOT / "examples" / "data" / "helsinki" / "Helsinki.osm.pbf", mode="existing")
    import geopandas as gpd

    sys.path.insert(0, str(ROOT / "examples"))
    from neukoelln_kerbs import data_extent

    kerbs = ROOT / "examples" / "data" / "neukoelln-kerbs"
    areas = gpd.read_file(kerbs / "kerb_street_areas.geojson")
    hazards = [
        parkplan.HazardSource(kerbs / "crossing.geojson", "crossing"),
        parkplan.HazardSource(kerbs / "service_driveways.geojson", "driveway"),
    ]
    return parkplan.plan(areas, hazards, rules="de-parkraum", extent=data_extent(areas))


@pytest.mark.slow
@needs_browser
@pytest.mark.parametrize("name", ["neukoelln_kerbs", "neukoelln_osm", "helsinki"])
def test_example_maps_open_offline(browser: Any, name: str, tmp_path: Path) -> None:
    plan = _example_plan(name)
    path = plan.to_html(tmp_path / f"{name}.html")
    assert path.stat().st_size < 30e6
    _open(browser, path)
    info = browser.execute_script("return window.parkplanMap")
    assert info["bays"] == len(plan.bays)
    assert info["zones"] == len(plan.zones)
    assert info["drawn_ms"] < 10_000
    zones = list(plan.zones["kind"])
    for kind in ("crossing", "intersection"):
        if kind in zones:
            text = browser.execute_script(f"return window.parkplanMap.open('zones', {zones.index(kind)})")
            assert plan.zones["rule"].iloc[zones.index(kind)] in text
    _not_blank(browser)
    _no_errors_no_requests(browser)


def test_leaflet_licence_and_safe_text() -> None:
    import geopandas as gpd
    import shapely

    html = map_html(
        bays=gpd.GeoDataFrame(
            {"bay_id": ["</script><!--x"], "bay_type": ["car"], "curb_id": ["k"]},
            geometry=[shapely.box(13.4, 52.4, 13.40001, 52.40001)],
            crs=4326,
        )
    )
    assert "Copyright (c) 2010-2023, Volodymyr Agafonkin" in html
    assert html.count("</script>") == 3
    assert "\\u003c/script>\\u003c!--x" in html
