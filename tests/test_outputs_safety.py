"""Data safety of the outputs (issue 19): no input overwritten, GeoPackage layers kept, all or nothing.

Each case of the issue is its own test: the ``--keep`` file and the summary (case 1), a GeoPackage's other
layers (case 2), a rules file reached through ``extends`` (case 3), outputs that land together or not at
all when a replace fails half-way (case 5), ``Plan.write`` from the API (case 9), GeoPackage bytes, the
antimeridian and ``RULES.TOML`` (case 10). The command line runs in-process through
:func:`parkplan.cli.main`, and as a real subprocess where nothing else may reach standard error.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer

import parkplan
from parkplan.cli import main
from parkplan.errors import ArgumentError, OutputError
from parkplan.io import write as output
from parkplan.io.paths import LayerPath
from parkplan.io.targets import InputFile, OutputPlan, Target, layer_target, replace_all
from parkplan.rules.loading import is_rules_file, load_rules, rules_files

PRESETS = Path(parkplan.__file__).parent / "rules" / "presets"


# --------------------------------------------------------------------------------------------------
# Small inputs
# --------------------------------------------------------------------------------------------------


def kerbs_frame() -> gpd.GeoDataFrame:
    """Two straight kerbs 80 m long, 14 m apart, in Berlin (ETRS89 / UTM 33N)."""
    lines = [shapely.LineString([(392_000, 5_815_000), (392_080, 5_815_000)])]
    lines.append(shapely.LineString([(392_080, 5_815_014), (392_000, 5_815_014)]))
    return gpd.GeoDataFrame({"curb_id": ["k1", "k2"], "side": ["right", "right"]}, geometry=lines, crs=25833)


@pytest.fixture
def kerbs(tmp_path: Path) -> Path:
    path = tmp_path / "kerbs.geojson"
    kerbs_frame().to_file(path)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def plan_args(kerbs: Path, *extra: object) -> list[object]:
    return ["plan", kerbs, "--rules", "de", "-q", *extra]


def one_error(code: int, err: str, *expected: str) -> str:
    """Exit code 2 and one ``parkplan: error:`` line naming every ``expected`` text."""
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("parkplan: error:"), err
    for text in expected:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    """Temporary and backup files parkplan may have left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".bak"))


def snapshot(*paths: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}


def make_geopackage(path: Path, *layers: str) -> None:
    """A GeoPackage holding the ``layers``, a point or two each (not parkplan's)."""
    for n, name in enumerate(layers):
        frame = gpd.GeoDataFrame(
            {"name": [f"{name}{i}" for i in range(n + 1)]},
            geometry=[shapely.Point(13.4 + i * 1e-3, 52.5) for i in range(n + 1)],
            crs=4326,
        )
        frame.to_file(path, layer=name, driver="GPKG")


def layer_rows(path: Path, layer: str) -> list[Any]:
    frame = gpd.read_file(path, layer=layer)
    return sorted(zip(frame["name"], frame.geometry.to_wkt(), strict=True))


def layers(path: Path) -> list[str]:
    return sorted(str(n) for n in pyogrio.list_layers(path)[:, 0])


# --------------------------------------------------------------------------------------------------
# Case 1: the --keep file (and every other input) is never an output
# --------------------------------------------------------------------------------------------------


def test_keep_file_is_not_overwritten_by_the_bays(
    kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keep = tmp_path / "existing.geojson"
    assert main([str(a) for a in plan_args(kerbs, "-o", keep)]) == 0
    before = keep.read_bytes()
    code, err = run(capsys, *plan_args(kerbs, "--keep", keep, "-o", keep))
    one_error(code, err, str(keep), "bays output", "--keep")
    assert keep.read_bytes() == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("spelling", ["summary", "zones", "dot-slash", "symlink", "hard link"])
def test_keep_file_is_not_overwritten_by_any_output_in_any_spelling(
    spelling: str,
    kerbs: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keep = tmp_path / "existing.geojson"
    assert main([str(a) for a in plan_args(kerbs, "-o", keep)]) == 0
    before = keep.read_bytes()
    monkeypatch.chdir(tmp_path)
    bays = tmp_path / "bays.geojson"
    if spelling == "summary":
        extra: list[object] = ["-o", bays, "--summary", keep]
    elif spelling == "zones":
        extra = ["-o", bays, "--zones", keep]
    elif spelling == "dot-slash":
        extra = ["-o", "./existing.geojson"]
    elif spelling == "symlink":
        (tmp_path / "link.geojson").symlink_to(keep)
        extra = ["-o", "link.geojson"]
    else:
        os.link(keep, tmp_path / "hard.geojson")
        extra = ["-o", "hard.geojson"]
    code, err = run(capsys, *plan_args(kerbs, "--keep", "existing.geojson", *extra))
    one_error(code, err, "--keep", "would overwrite an input")
    assert keep.read_bytes() == before
    assert not bays.exists()


def test_every_input_is_protected(kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Kerbs, a KIND=PATH hazard file, --extent, the rules file; and check's bays."""
    hazards = tmp_path / "signs.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Point(392_040, 5_815_001)], crs=25833).to_file(hazards)
    extent = tmp_path / "extent.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(391_990, 5_814_990, 392_090, 5_815_030)], crs=25833).to_file(
        extent
    )
    rules = tmp_path / "rules.toml"
    rules.write_text((PRESETS / "de.toml").read_text(encoding="utf-8"), encoding="utf-8")
    files = [kerbs, hazards, extent, rules]
    before = snapshot(*files)
    base = ["plan", kerbs, "-f", f"sign={hazards}", "--extent", extent, "--rules", rules, "-q"]
    for path in files:
        for flag in ("-o", "--kerbs", "--summary") if path.suffix == ".geojson" else ("--summary",):
            extra = [flag, path] if flag == "-o" else ["-o", tmp_path / "b.geojson", flag, path]
            code, err = run(capsys, *base, *extra)
            one_error(code, err, str(path), "would overwrite an input")
    bays = tmp_path / "bays.geojson"
    assert main(["plan", str(kerbs), "--rules", "de", "-q", "-o", str(bays)]) == 0
    before[bays] = bays.read_bytes()
    for flag in ("-o", "--summary"):
        code, err = run(capsys, "check", bays, kerbs, "--rules", "de", "-q", flag, bays)
        one_error(code, err, str(bays), "the bays to check")
    assert snapshot(*before) == before
    assert not (tmp_path / "b.geojson").exists()


# --------------------------------------------------------------------------------------------------
# Case 2: a GeoPackage output writes its own layer and keeps the others
# --------------------------------------------------------------------------------------------------


def test_geopackage_keeps_its_other_layers(
    kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project.gpkg"
    make_geopackage(project, "roads", "survey")
    roads, survey = layer_rows(project, "roads"), layer_rows(project, "survey")
    assert main([str(a) for a in plan_args(kerbs, "-o", project)]) == 0
    assert layers(project) == ["project", "roads", "survey"]
    assert layer_rows(project, "roads") == roads
    assert layer_rows(project, "survey") == survey
    bays = gpd.read_file(project, layer="project")
    assert len(bays) > 0
    assert "bay_id" in bays.columns
    assert leftovers(tmp_path) == []


def test_existing_layer_needs_overwrite(
    kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project.gpkg"
    make_geopackage(project, "roads", "bays")
    before = project.read_bytes()
    code, err = run(capsys, *plan_args(kerbs, "-o", f"{project}:bays"))
    one_error(code, err, str(project), "'bays'", "--overwrite")
    assert project.read_bytes() == before
    # --layer names the -o layer; the case of a layer name does not make it another layer.
    code, err = run(capsys, *plan_args(kerbs, "-o", project, "--layer", "BAYS", "--overwrite"))
    one_error(code, err, "'BAYS'", "'bays'")
    assert project.read_bytes() == before
    code, err = run(capsys, *plan_args(kerbs, "-o", project, "--layer", "bays", "--overwrite"))
    assert code == 0, err
    assert layers(project) == ["bays", "roads"]
    assert "bay_id" in gpd.read_file(project, layer="bays").columns
    assert layer_rows(project, "roads") == [("roads0", "POINT (13.4 52.5)")]


def test_several_outputs_into_one_geopackage(
    kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    project = tmp_path / "p.gpkg"
    make_geopackage(project, "roads")
    code, err = run(
        capsys,
        *plan_args(
            kerbs, "-o", f"{project}:bays", "--zones", f"{project}:zones", "--kerbs", f"{project}:kerbs"
        ),
    )
    assert code == 0, err
    assert layers(project) == ["bays", "kerbs", "roads", "zones"]
    # Two outputs into one layer are one target.
    code, err = run(capsys, *plan_args(kerbs, "-o", f"{project}:x", "--zones", f"./{project.name}:x"))
    one_error(code, err, "given as both")
    # A layer name on a single-layer format is an error, not a silently different file.
    code, err = run(capsys, *plan_args(kerbs, "-o", f"{tmp_path / 'b.geojson'}:bays"))
    one_error(code, err, "single layer")


def test_input_layer_of_the_same_geopackage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Another layer of the kerbs' GeoPackage may be written; the layer read may not be replaced."""
    project = tmp_path / "project.gpkg"
    kerbs_frame().to_file(project, layer="kerbs", driver="GPKG")
    before = project.read_bytes()
    code, err = run(capsys, "plan", project, "--rules", "de", "-q", "-o", f"{project}:kerbs", "--overwrite")
    one_error(code, err, "'kerbs'", "the kerbs")
    assert project.read_bytes() == before
    code, err = run(capsys, "plan", project, "--rules", "de", "-q", "-o", f"{project}:bays")
    assert code == 0, err
    assert layers(project) == ["bays", "kerbs"]
    assert len(gpd.read_file(project, layer="kerbs")) == 2


def test_layer_granularity_of_the_output_plan(tmp_path: Path) -> None:
    project = tmp_path / "project.gpkg"
    make_geopackage(project, "kerbs", "bays")
    read = [InputFile("the kerbs", project, "kerbs")]
    OutputPlan([layer_target("bays", f"{project}:new")], read)  # a new layer: fine
    OutputPlan([layer_target("bays", f"{project}:bays")], read, overwrite=True)  # another layer: fine
    with pytest.raises(OutputError, match="read as the kerbs"):
        OutputPlan([layer_target("bays", f"{project}:kerbs")], read, overwrite=True)
    # An input that names no layer may be any of the file's layers: none of them is replaced.
    unnamed = [InputFile("the kerbs", project)]
    with pytest.raises(OutputError, match="read as the kerbs"):
        OutputPlan([layer_target("bays", f"{project}:bays")], unnamed, overwrite=True)
    OutputPlan([layer_target("bays", f"{project}:new")], unnamed)
    with pytest.raises(OutputError, match="reserves"):
        layer_target("bays", f"{project}:gpkg_contents")


def test_a_gpkg_that_is_no_geopackage_is_never_replaced(
    kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "notes.gpkg"
    fake.write_text("my notes, not a GeoPackage\n", encoding="utf-8")
    plain = tmp_path / "plain.gpkg"
    sqlite3.connect(plain).execute("create table t (x)").connection.commit()
    for path in (fake, plain):
        before = path.read_bytes()
        code, err = run(capsys, *plan_args(kerbs, "-o", path, "--overwrite"))
        one_error(code, err, str(path), "not a GeoPackage")
        assert path.read_bytes() == before
    # An empty file holds nothing: it is replaced.
    empty = tmp_path / "empty.gpkg"
    empty.touch()
    code, err = run(capsys, *plan_args(kerbs, "-o", empty))
    assert code == 0, err
    assert layers(empty) == ["empty"]


def test_the_summary_never_replaces_a_geopackage(
    kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project.gpkg"
    make_geopackage(project, "roads")
    before = project.read_bytes()
    code, err = run(capsys, *plan_args(kerbs, "-o", tmp_path / "b.geojson", "--summary", project))
    one_error(code, err, str(project), "is a GeoPackage", "summary")
    assert project.read_bytes() == before


def test_a_geopackage_with_pending_writes_is_not_copied(
    kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project.gpkg"
    make_geopackage(project, "roads")
    wal = tmp_path / "project.gpkg-wal"
    wal.write_bytes(b"\x37\x7f\x06\x82" + bytes(28))
    before = project.read_bytes()
    code, err = run(capsys, *plan_args(kerbs, "-o", project))
    one_error(code, err, "project.gpkg-wal", "another program")
    assert project.read_bytes() == before


def test_geopackage_layers_in_a_subprocess(kerbs: Path, tmp_path: Path) -> None:
    """The real command: one line on stderr, the other layers kept, exit codes 0 then 2."""
    project = tmp_path / "project.gpkg"
    make_geopackage(project, "roads", "survey")
    cmd = [sys.executable, "-c", "import sys; from parkplan.cli import main; sys.exit(main(sys.argv[1:]))"]
    args = [str(a) for a in plan_args(kerbs, "-o", project)]
    first = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    second = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 2
    one_error(second.returncode, second.stderr, "layer 'project' exists", "--overwrite")
    assert layers(project) == ["project", "roads", "survey"]


# --------------------------------------------------------------------------------------------------
# Case 3: rules files reached through extends; case 10: RULES.TOML
# --------------------------------------------------------------------------------------------------


def rules_chain(folder: Path) -> tuple[Path, Path, Path]:
    """``mine.toml`` extends ``sub/Mid.Toml`` extends ``BASE.TOML`` (a copy of the de preset)."""
    (folder / "sub").mkdir()
    base = folder / "BASE.TOML"
    base.write_text((PRESETS / "de.toml").read_text(encoding="utf-8"), encoding="utf-8")
    mid = folder / "sub" / "Mid.Toml"
    mid.write_text('extends = "../BASE.TOML"\n', encoding="utf-8")
    mine = folder / "mine.toml"
    mine.write_text('extends = "sub/Mid.Toml"\nname = "mine"\n', encoding="utf-8")
    return mine, mid, base


def test_rules_reached_through_extends_are_not_overwritten(
    kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine, mid, base = rules_chain(tmp_path)
    before = snapshot(mine, mid, base)
    for target in (base, mid, mine):
        code, err = run(
            capsys, "plan", kerbs, "--rules", mine, "-q", "-o", tmp_path / "b.geojson", "--summary", target
        )
        one_error(code, err, str(target), "would overwrite an input", "rules file")
    other_spelling = tmp_path / "sub" / ".." / "BASE.TOML"
    code, err = run(
        capsys,
        "plan",
        kerbs,
        "--rules",
        mine,
        "-q",
        "-o",
        tmp_path / "b.geojson",
        "--summary",
        other_spelling,
    )
    one_error(code, err, "reached through extends")
    assert snapshot(*before) == before
    code, err = run(capsys, "plan", kerbs, "--rules", mine, "-q", "-o", tmp_path / "b.geojson")
    assert code == 0, err


def test_rules_files_lists_the_extends_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine, mid, base = rules_chain(tmp_path)
    assert [p.resolve() for p in rules_files(mine)] == [mine.resolve(), mid.resolve(), base.resolve()]
    assert rules_files("de") == []
    assert rules_files(load_rules("de")) == []
    monkeypatch.chdir(tmp_path)
    assert [p.resolve() for p in rules_files({"extends": "BASE.TOML"})] == [base.resolve()]


def test_toml_in_any_case_is_a_rules_file(
    kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("RULES.TOML", "Base.Toml", "a.toml", "x/y"):
        assert is_rules_file(name)
    assert not is_rules_file("de-parkraum")
    rules_chain(tmp_path)
    upper = tmp_path / "RULES.TOML"
    upper.write_text('extends = "sub/Mid.Toml"\n', encoding="utf-8")
    rules = load_rules(str(upper))
    assert rules.name == "RULES"  # named after its own file
    assert rules.bays == load_rules("de").bays
    code, err = run(capsys, "plan", kerbs, "--rules", upper, "-q", "-o", tmp_path / "b.geojson")
    assert code == 0, err
    code, err = run(
        capsys, "plan", kerbs, "--rules", upper, "-q", "-o", tmp_path / "b.geojson", "--summary", upper
    )
    one_error(code, err, "the rules file")


# --------------------------------------------------------------------------------------------------
# Case 5: every output lands, or none
# --------------------------------------------------------------------------------------------------


def existing_outputs(folder: Path) -> tuple[Path, Path, Path]:
    paths = (folder / "bays.geojson", folder / "zones.geojson", folder / "summary.json")
    for p in paths:
        p.write_text(f'{{"old": "{p.stem}"}}\n', encoding="utf-8")
    return paths


def test_a_failed_replace_puts_back_the_outputs_already_replaced(
    kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    bays, zones, summary = existing_outputs(out)
    before = snapshot(bays, zones, summary)
    real = os.replace
    calls: list[str] = []

    def second_fails(src: Any, dst: Any) -> None:
        calls.append(str(dst))
        if len(calls) == 2:
            raise PermissionError(13, "Permission denied")
        real(src, dst)

    monkeypatch.setattr(os, "replace", second_fails)
    code, err = run(capsys, *plan_args(kerbs, "-o", bays, "--zones", zones, "--summary", summary))
    one_error(code, err, str(zones), "Permission denied", "no output was changed")
    assert calls[:2] == [str(bays), str(zones)]  # the bays were in place when the zones failed
    assert snapshot(bays, zones, summary) == before
    assert leftovers(out) == []


def test_a_target_that_became_a_folder_leaves_every_output_as_it_was(
    kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real failure after the checks: the zones' target turns into a non-empty folder while writing."""
    out = tmp_path / "out"
    out.mkdir()
    bays, zones, summary = existing_outputs(out)
    before = snapshot(bays, summary)
    real_dump = output.dump_json

    def dump_and_sabotage(data: Any, tmp: Path) -> None:
        real_dump(data, tmp)
        zones.unlink()
        zones.mkdir()
        (zones / "inside.txt").write_text("keep me", encoding="utf-8")

    monkeypatch.setattr(output, "dump_json", dump_and_sabotage)
    code, err = run(capsys, *plan_args(kerbs, "-o", bays, "--zones", zones, "--summary", summary))
    one_error(code, err, str(zones), "folder")
    assert snapshot(bays, summary) == before
    assert (zones / "inside.txt").read_text(encoding="utf-8") == "keep me"
    assert leftovers(out) == []


def test_a_failed_replace_in_a_subprocess(kerbs: Path, tmp_path: Path) -> None:
    """The same in a real process: one line on stderr, exit 2, the old files, no temporary files."""
    out = tmp_path / "out"
    out.mkdir()
    bays, zones, summary = existing_outputs(out)
    before = snapshot(bays, zones, summary)
    code = textwrap.dedent(
        """
        import os, sys
        from parkplan.io import targets
        from parkplan.cli import main
        real, calls = os.replace, []
        def flaky(src, dst):
            calls.append(dst)
            if len(calls) == 3:
                raise OSError(28, "No space left on device")
            real(src, dst)
        targets.os.replace = flaky
        sys.exit(main(sys.argv[1:]))
        """
    )
    args = [str(a) for a in plan_args(kerbs, "-o", bays, "--zones", zones, "--summary", summary)]
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, check=False
    )
    one_error(done.returncode, done.stderr, str(summary), "No space left on device", "no output was changed")
    assert snapshot(bays, zones, summary) == before
    assert leftovers(out) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_replacing_in_a_subprocess(signum: int, kerbs: Path, tmp_path: Path) -> None:
    """SIGINT / SIGTERM sent to the process just after the first output was moved in: the moves are
    undone before the signal is acted on (SIGTERM's default action included: the process ends then),
    the old files stay, no temporary or backup file is left."""
    out = tmp_path / "out"
    out.mkdir()
    bays, zones, summary = existing_outputs(out)
    before = snapshot(bays, zones, summary)
    code = textwrap.dedent(
        f"""
        import os, sys, time
        from parkplan.cli import main
        real, calls = os.replace, []
        def signalled(src, dst):
            real(src, dst)
            calls.append(dst)
            if len(calls) == 1:
                os.kill(os.getpid(), {int(signum)})
                time.sleep(0.05)  # another thread may take it: let it be noted, as a real Ctrl-C is
        os.replace = signalled
        sys.exit(main(sys.argv[1:]))
        """
    )
    args = [str(a) for a in plan_args(kerbs, "-o", bays, "--zones", zones, "--summary", summary)]
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, check=False
    )
    expected = {signal.SIGINT: (130,), signal.SIGTERM: (-signal.SIGTERM, 143)}[signal.Signals(signum)]
    assert done.returncode in expected, done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(bays, zones, summary) == before
    assert leftovers(out) == []


def test_replace_all_for_new_and_existing_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "old.txt"
    old.write_text("old", encoding="utf-8")
    new = tmp_path / "new.txt"
    temps = [tmp_path / ".a.tmp", tmp_path / ".b.tmp", tmp_path / ".c.tmp"]
    for t in temps:
        t.write_text(t.name, encoding="utf-8")
    third = tmp_path / "third.txt"
    real = os.replace
    monkeypatch.setattr(
        os,
        "replace",
        lambda s, d: (_ for _ in ()).throw(OSError(5, "I/O error")) if Path(d) == third else real(s, d),
    )
    with pytest.raises(OutputError, match="I/O error; no output was changed"):
        replace_all(list(zip(temps, [old, new, third], strict=True)))
    assert old.read_text(encoding="utf-8") == "old"
    assert not new.exists()
    assert not third.exists()
    # The new files moved in were put out again; the last one was never moved (its owner removes it).
    assert sorted(p.name for p in tmp_path.iterdir()) == [".c.tmp", "old.txt"]
    monkeypatch.setattr(os, "replace", real)
    for t in temps:
        t.write_text(t.name, encoding="utf-8")
    replace_all(list(zip(temps, [old, new, third], strict=True)))
    assert [p.read_text(encoding="utf-8") for p in (old, new, third)] == [".a.tmp", ".b.tmp", ".c.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.txt", "old.txt", "third.txt"]


def test_a_signal_during_the_replace_undoes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGINT while the targets are being replaced: held until they are put back, then delivered."""
    old = tmp_path / "old.txt"
    old.write_text("old", encoding="utf-8")
    temps = [tmp_path / ".a.tmp", tmp_path / ".b.tmp"]
    for t in temps:
        t.write_text("new", encoding="utf-8")
    real = os.replace

    def interrupted(src: Any, dst: Any) -> None:
        real(src, dst)
        if Path(dst) == old:
            os.kill(os.getpid(), signal.SIGINT)
            # The main thread blocks the signal, so the kernel may hand it to another thread (numpy's
            # OpenBLAS threads): give that thread a moment to note it, as a real Ctrl-C has.
            time.sleep(0.05)

    monkeypatch.setattr(os, "replace", interrupted)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        replace_all([(temps[0], old), (temps[1], tmp_path / "new.txt")])
    assert signal.getsignal(signal.SIGINT) is handler
    assert old.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.txt"]


def test_writing_cleans_up_when_the_block_fails(tmp_path: Path) -> None:
    project = tmp_path / "p.gpkg"
    make_geopackage(project, "roads")
    before = project.read_bytes()
    plan = OutputPlan(
        [layer_target("bays", f"{project}:bays"), Target("summary", tmp_path / "s.json", document=True)]
    )
    copied = []

    def write_then_fail() -> None:
        with plan.writing() as temps:
            copied.append(temps[0].read_bytes())  # the GeoPackage's copy
            temps[1].write_text("{}", encoding="utf-8")
            raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert copied == [before]
    assert project.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.gpkg"]


# --------------------------------------------------------------------------------------------------
# Case 9: Plan.write from the API
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[parkplan.Plan, Path]:
    folder = tmp_path_factory.mktemp("api")
    kerbs = folder / "kerbs.geojson"
    kerbs_frame().to_file(kerbs)
    mine, _, _ = rules_chain(folder)
    return parkplan.plan(str(kerbs), rules=str(mine), workers=1), folder


def test_plan_write_refuses_one_file_for_two_outputs(
    planned: tuple[parkplan.Plan, Path], tmp_path: Path
) -> None:
    p, _ = planned
    x = tmp_path / "x.geojson"
    with pytest.raises(OutputError, match="given as both the bays output"):
        p.write(x, zones=x)
    with pytest.raises(OutputError, match="given as both"):
        p.write(zones=tmp_path / "y.geojson", kerbs=f"{tmp_path}/./y.geojson")
    assert list(tmp_path.iterdir()) == []


def test_plan_write_refuses_the_files_the_plan_was_read_from(planned: tuple[parkplan.Plan, Path]) -> None:
    p, folder = planned
    assert {i.path.name for i in p.inputs} == {"kerbs.geojson", "mine.toml", "Mid.Toml", "BASE.TOML"}
    before = snapshot(*(i.path for i in p.inputs))
    for i in p.inputs:
        with pytest.raises(OutputError, match="would overwrite an input"):
            p.write(folder / "b.geojson", summary=i.path)
    with pytest.raises(OutputError, match="the kerbs"):
        p.to_geojson(folder / "kerbs.geojson")
    assert snapshot(*before) == before
    # In-memory inputs have no file.
    assert parkplan.plan(kerbs_frame(), rules="de", workers=1).inputs == ()


def test_plan_write_checks_its_arguments(planned: tuple[parkplan.Plan, Path], tmp_path: Path) -> None:
    p, _ = planned
    with pytest.raises(ArgumentError, match="bays must be a file path"):
        p.write(42)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="summary must be a file path"):
        p.write(summary=LayerPath(tmp_path / "s.gpkg", "x"))  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="overwrite must be True or False"):
        p.write(tmp_path / "b.geojson", overwrite="yes")  # type: ignore[arg-type]
    with pytest.raises(OutputError, match="folder"):
        p.write(zones=tmp_path / "missing" / "z.geojson")
    assert list(tmp_path.iterdir()) == []


def test_plan_write_geopackage_layers(planned: tuple[parkplan.Plan, Path], tmp_path: Path) -> None:
    p, _ = planned
    project = tmp_path / "p.gpkg"
    make_geopackage(project, "survey")
    p.write(f"{project}:bays", zones=LayerPath(project, "zones"))
    assert layers(project) == ["bays", "survey", "zones"]
    with pytest.raises(OutputError, match=r"layer 'bays' exists.*overwrite=True"):
        p.write(f"{project}:bays")
    p.write(f"{project}:bays", overwrite=True)
    assert layers(project) == ["bays", "survey", "zones"]
    assert len(gpd.read_file(project, layer="bays")) == len(p.bays)


# --------------------------------------------------------------------------------------------------
# Case 10: GeoPackage bytes, the antimeridian
# --------------------------------------------------------------------------------------------------


def test_geopackage_bytes_are_the_same_in_every_run(
    planned: tuple[parkplan.Plan, Path], tmp_path: Path
) -> None:
    p, _ = planned
    files = []
    make_geopackage(tmp_path / "roads.gpkg", "roads")
    for n, workers in enumerate((1, 2, 1)):
        folder = tmp_path / f"run{n}"
        folder.mkdir()
        shutil.copyfile(tmp_path / "roads.gpkg", folder / "p.gpkg")
        p.write(folder / "p.gpkg", zones=f"{folder / 'p.gpkg'}:zones", workers=workers)
        p.write(folder / "b.gpkg", workers=workers)
        files.append(((folder / "p.gpkg").read_bytes(), (folder / "b.gpkg").read_bytes()))
    assert files[0] == files[1] == files[2]
    stamps = sqlite3.connect(tmp_path / "run0" / "b.gpkg").execute("select last_change from gpkg_contents")
    assert [row[0] for row in stamps] == [output.GPKG_TIMESTAMP]
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") is None  # only set around the write


def test_cli_geopackage_bytes_are_the_same_in_every_run(
    kerbs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outs = []
    for n in range(2):
        folder = tmp_path / f"run{n}"
        folder.mkdir()
        code, err = run(capsys, *plan_args(kerbs, "-o", folder / "bays.gpkg", "--workers", str(n + 1)))
        assert code == 0, err
        outs.append((folder / "bays.gpkg").read_bytes())
    assert outs[0] == outs[1]


def _signed_area(ring: list[list[float]]) -> float:
    xy = np.asarray(ring, dtype=float)
    return float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]) / 2.0)


def test_bays_across_the_antimeridian_are_split_and_check_reads_them_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kerbs on Taveuni (Fiji) in PDC Mercator (EPSG:3832) crossing 180 degrees."""
    x0, y0 = Transformer.from_crs(4326, 3832, always_xy=True).transform(180.0, -16.8)
    lines = [shapely.LineString([(x0 - 60, y0), (x0 + 60, y0)])]
    lines.append(shapely.LineString([(x0 + 60, y0 + 14), (x0 - 60, y0 + 14)]))
    kerbs = tmp_path / "kerbs.gpkg"
    gpd.GeoDataFrame({"curb_id": ["a", "b"], "side": ["right", "right"]}, geometry=lines, crs=3832).to_file(
        kerbs
    )
    bays, edges = tmp_path / "bays.geojson", tmp_path / "kerbs_out.geojson"
    code, err = run(capsys, "plan", kerbs, "--rules", "de", "-q", "-o", bays, "--kerbs", edges)
    assert code == 0, err
    features = json.loads(bays.read_text(encoding="utf-8"))["features"]
    split = [f for f in features if f["geometry"]["type"] == "MultiPolygon"]
    assert len(split) >= 2  # a bay on each kerb straddles 180
    for f in features:
        geom = shapely.geometry.shape(f["geometry"])
        assert shapely.is_valid(geom), f["properties"]["bay_id"]
        assert geom.bounds[0] >= -180.0
        assert geom.bounds[2] <= 180.0
        for part in shapely.get_parts(geom):
            assert part.bounds[2] - part.bounds[0] < 1e-3  # metres wide, not round the globe
        polygons = f["geometry"]["coordinates"]
        for poly in polygons if f["geometry"]["type"] == "MultiPolygon" else [polygons]:
            assert _signed_area(poly[0]) > 0  # counter-clockwise as written
    for f in split:
        west, east = (
            shapely.geometry.shape({"type": "Polygon", "coordinates": c})
            for c in f["geometry"]["coordinates"]
        )
        assert west.bounds[2] == 180.0
        assert east.bounds[0] == -180.0
    kerb_lines = json.loads(edges.read_text(encoding="utf-8"))["features"]
    assert {f["geometry"]["type"] for f in kerb_lines} == {"MultiLineString"}
    # Read back: the same bays, no violation.
    code, err = run(capsys, "check", bays, kerbs, "--rules", "de", "-q")
    assert code == 0, err
    planned_bays = parkplan.plan(str(kerbs), rules="de", workers=1).bays
    back = gpd.read_file(bays).to_crs(planned_bays.crs)
    assert len(back) == len(planned_bays)
    assert list(back["bay_id"]) == list(planned_bays["bay_id"])
    # Each bay read back (its two parts where split) is the planned one, to the output grid (~1 cm).
    distance = shapely.hausdorff_distance(back.geometry.values, planned_bays.geometry.values)
    assert float(np.max(distance)) < 0.03


def test_split_antimeridian_leaves_other_geometries_alone() -> None:
    geoms = np.array(
        [
            shapely.LineString([(179.9, 1.0), (-179.9, 1.1)]),
            shapely.Polygon([(10, 0), (11, 0), (11, 1), (10, 0)]),
            shapely.LineString([(-150.0, 0.0), (0.0, 0.0), (150.0, 0.0)]),  # round the globe: left as is
            None,
        ],
        dtype=object,
    )
    out = output.split_antimeridian(geoms)
    assert out[0].equals(
        shapely.MultiLineString([[(179.9, 1.0), (180.0, 1.05)], [(-180.0, 1.05), (-179.9, 1.1)]])
    )
    assert out[1] is geoms[1]
    assert out[2] is geoms[2]
    assert out[3] is None
    same = geoms[1:2]
    assert output.split_antimeridian(same) is same
