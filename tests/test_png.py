"""The PNG overview (parkplan.review.png): size, content, legend, scale bar; the API and ``--png``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from PIL import Image

import parkplan
from parkplan.cli import main
from parkplan.errors import OutputError
from parkplan.review.png import (
    DPI,
    overview_figure,
    plan_titles,
    scale_length,
    write_png,
)
from parkplan.review.style import VIOLATION_COLOUR, bay_colour, zone_colour

DATA = Path(__file__).parent / "data" / "neukoelln_small"
STREETS = DATA / "street_areas.geojson"
CROSSINGS = DATA / "crossings.geojson"
DRIVEWAYS = DATA / "driveways.geojson"

A4_PX = (int(297 / 25.4 * DPI), int(210 / 25.4 * DPI))


@pytest.fixture(scope="module")
def small_plan() -> parkplan.Plan:
    hazards = [parkplan.HazardSource(CROSSINGS, "crossing"), parkplan.HazardSource(DRIVEWAYS, "driveway")]
    return parkplan.plan(STREETS, hazards, rules="de-parkraum")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _has_colour(pixels: np.ndarray, colour: str, tol: int = 3) -> bool:
    diff = np.abs(pixels.astype(int) - np.array(_rgb(colour))).max(axis=2)
    return bool((diff <= tol).sum() >= 20)


@pytest.fixture(scope="module")
def plan_png(small_plan: parkplan.Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("png") / "overview.png"
    assert small_plan.to_png(path) == path
    return path


def test_png_is_a4_landscape_at_200_dpi(plan_png: Path) -> None:
    with Image.open(plan_png) as im:
        assert im.format == "PNG"
        assert im.size == A4_PX == (2338, 1653)


def test_png_is_not_blank(plan_png: Path) -> None:
    pixels = _pixels(plan_png)
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 20
    white = (pixels == 255).all(axis=2).mean()
    assert 0.3 < white < 0.995  # mostly paper, but a drawing on it


def test_legend_colours_of_the_plan_appear(small_plan: parkplan.Plan, plan_png: Path) -> None:
    """Every zone kind of the plan and every bay type have their colour in the image (legend patches)."""
    pixels = _pixels(plan_png)
    for kind in small_plan.zones["kind"].unique():
        assert _has_colour(pixels, zone_colour(str(kind))), kind
    for bay_type in small_plan.bays["bay_type"].unique():
        assert _has_colour(pixels, bay_colour(str(bay_type))), bay_type
    assert not _has_colour(pixels, VIOLATION_COLOUR)  # a plan has no violations


def test_figure_legend_scale_bar_and_north_arrow(small_plan: parkplan.Plan) -> None:
    title, subtitle = plan_titles(small_plan.summary, small_plan.rules)
    fig, shown = overview_figure(
        small_plan.bays, small_plan.zones, small_plan.kerbs, title=title, subtitle=subtitle
    )
    labels = [label for label, _ in shown.legend]
    kinds = set(small_plan.zones["kind"].astype(str))
    for kind in kinds:
        entry = next(label for label in labels if label.startswith(kind.replace("_", " ") + ":"))
        lost = small_plan.kerbs[f"lost_{kind}_m"].sum() / 1000
        assert entry.endswith(f"{lost:,.2f} km lost")
    assert any(label.startswith("car bays (") for label in labels)
    # The legend the figure draws holds the same entries.
    drawn = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert drawn == labels
    texts = [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]
    assert shown.scale_label in texts
    assert shown.scale_label.endswith(" m")
    assert shown.scale_m > 0
    assert "N" in texts  # the north arrow
    assert title in texts
    assert "de-parkraum" in title
    assert "OPTIMAL" in title
    assert f"{small_plan.summary['bays']['total']:,} bays" in title


@pytest.mark.parametrize(
    ("width", "length"), [(7.0, 1.0), (230.0, 20.0), (300.0, 50.0), (5_000.0, 1_000.0), (9_999.0, 1_000.0)]
)
def test_scale_length(width: float, length: float) -> None:
    assert scale_length(width) == length
    assert scale_length(0.0) == 0.0


def test_empty_layers_draw_a_notice(tmp_path: Path) -> None:
    shown = write_png(tmp_path / "empty.png", None, None, None, title="nothing")
    assert shown.legend == ()
    assert shown.scale_m == 0
    with Image.open(tmp_path / "empty.png") as im:
        assert im.size == A4_PX


def test_size_and_dpi(small_plan: parkplan.Plan, tmp_path: Path) -> None:
    write_png(tmp_path / "a5.png", small_plan.bays, None, small_plan.kerbs, size="A5", dpi=100)
    with Image.open(tmp_path / "a5.png") as im:
        assert im.size == (int(210 / 25.4 * 100), int(148 / 25.4 * 100))
    with pytest.raises(ValueError, match="size"):
        overview_figure(None, None, None, title="x", size="B2")
    with pytest.raises(ValueError, match="dpi"):
        overview_figure(None, None, None, title="x", dpi=0)


def test_to_png_never_writes_over_an_input(small_plan: parkplan.Plan, tmp_path: Path) -> None:
    import shutil

    streets = tmp_path / "streets.geojson"
    shutil.copy(STREETS, streets)
    plan = parkplan.plan(streets, [], rules="de-parkraum")
    before = streets.read_bytes()
    with pytest.raises(OutputError, match="overwrite an input"):
        plan.to_png(streets)
    assert streets.read_bytes() == before


def _plan_args(out: Path, *extra: object) -> list[str]:
    args: list[object] = ["plan", STREETS, "--rules", "de-parkraum", "-f", f"crossing={CROSSINGS}"]
    return [str(a) for a in (*args, "-o", out / "bays.geojson", *extra, "-q")]


def test_cli_plan_png(tmp_path: Path) -> None:
    assert main(_plan_args(tmp_path, "--png", tmp_path / "plan.png", "--summary", tmp_path / "s.json")) == 0
    with Image.open(tmp_path / "plan.png") as im:
        assert im.size == A4_PX
    assert (tmp_path / "s.json").read_text().startswith("{")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bays.geojson", "plan.png", "s.json"]


def test_cli_png_refuses_an_input_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    crossings = tmp_path / "crossings.geojson"
    shutil.copy(CROSSINGS, crossings)
    before = crossings.read_bytes()
    args = ["plan", str(STREETS), "-f", f"crossing={crossings}", "-o", str(tmp_path / "bays.geojson")]
    assert main([*args, "--png", str(crossings), "-q"]) == 2
    assert "overwrite an input" in capsys.readouterr().err
    assert crossings.read_bytes() == before
    assert not (tmp_path / "bays.geojson").exists()
    # ... and the same file twice
    assert main([*args, "--png", str(tmp_path / "bays.geojson"), "-q"]) == 2
    assert "given as both" in capsys.readouterr().err


def test_cli_check_png_draws_the_violations(tmp_path: Path) -> None:
    assert main(_plan_args(tmp_path)) == 0
    bays = tmp_path / "bays.geojson"
    # Checked under other rules (cn's clearances are longer than de-parkraum's): violations.
    args = ["check", str(bays), str(STREETS), "-f", f"crossing={CROSSINGS}", "--rules", "cn", "-q"]
    code = main([*args, "--png", str(tmp_path / "check.png"), "--summary", str(tmp_path / "c.json")])
    assert code == 1
    pixels = _pixels(tmp_path / "check.png")
    assert pixels.shape[:2] == A4_PX[::-1]
    assert _has_colour(pixels, VIOLATION_COLOUR)
    assert _has_colour(pixels, bay_colour("car"))


def test_cli_check_png_without_violations(tmp_path: Path) -> None:
    assert main(_plan_args(tmp_path)) == 0
    bays = tmp_path / "bays.geojson"
    args = ["check", str(bays), str(STREETS), "-f", f"crossing={CROSSINGS}", "--rules", "de-parkraum", "-q"]
    assert main([*args, "--png", str(tmp_path / "check.png")]) == 0
    pixels = _pixels(tmp_path / "check.png")
    assert not _has_colour(pixels, VIOLATION_COLOUR)
    assert _has_colour(pixels, bay_colour("car"))


def test_png_module_is_loaded_only_when_asked() -> None:
    code = (
        "import sys, parkplan, parkplan.cli, parkplan.pipeline\n"
        "print('matplotlib' in sys.modules, 'parkplan.review.png' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_write_is_all_or_nothing_with_the_png(
    small_plan: parkplan.Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PNG that fails leaves no output written, and no temporary file."""
    import parkplan.review.png as png

    def fail(*_: object, **__: object) -> None:
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(png, "write_png", fail)
    with pytest.raises(RuntimeError, match="drawing failed"):
        small_plan.write(tmp_path / "bays.geojson", summary=tmp_path / "s.json", png=tmp_path / "p.png")
    assert list(tmp_path.iterdir()) == []


def test_png_never_replaces_a_geopackage(small_plan: parkplan.Plan, tmp_path: Path) -> None:
    small_plan.write(f"{tmp_path / 'project.gpkg'}:bays")
    before = (tmp_path / "project.gpkg").read_bytes()
    with pytest.raises(OutputError, match="GeoPackage"):
        small_plan.to_png(tmp_path / "project.gpkg")
    assert (tmp_path / "project.gpkg").read_bytes() == before


def test_png_needs_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "matplotlib" else real(n, *a))
    args = _plan_args(tmp_path, "--png", tmp_path / "plan.png")
    assert main(args) == 2  # before any work: nothing written
    assert "pip install 'parkplan[map]'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
