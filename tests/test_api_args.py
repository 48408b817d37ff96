# mypy: disable-error-code="arg-type,call-overload,dict-item,no-any-return"
"""Every public function checks its arguments (issue 19, case 9).

Before, ``plan(None)``, a DataFrame without geometry or ``workers="2"`` failed deep inside with a bare
TypeError or AttributeError, ``client=3`` with an AttributeError, ``workers=-1``, ``time_limit_s=-1`` and
``presolve="no"`` were silently taken as something else, ``--workers -1`` meant one worker and a
malformed ``--scheduler`` printed a traceback and exited 1. Now each is an :class:`ArgumentError`
(an :class:`InputError`, so the CLI exits 2 with one line) naming the argument.
"""

from __future__ import annotations

import importlib
import math
import subprocess
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import GeometryCollection, LineString, Point, box

import parkplan
from parkplan import cli
from parkplan._parallel import _local_cpus, worker_count
from parkplan.arguments import CHECKED_CLASSES, is_instance, resolve_workers, scheduler_address
from parkplan.errors import ArgumentError, InputError, ParkplanError
from parkplan.osm.streets import Mode
from parkplan.rules.loading import Traffic
from parkplan.synthetic import grid_city, make_city

CRS = "EPSG:25833"
KERB = gpd.GeoDataFrame({"curb_id": ["k"]}, geometry=[LineString([(0, 0), (40, 0)])], crs=CRS)
CAR = {
    "name": "t",
    "traffic": "right",
    "bays": {"car": {"orientation": "parallel", "length_m": 6.0, "width_m": 2.5}},
}
OSM = str(Path(__file__).parent / "data" / "osm" / "neukoelln-2024.osm")


class ClosedClient:
    """Looks like a dask.distributed.Client that has been closed."""

    status = "closed"

    def scheduler_info(self) -> dict[str, Any]:
        return {}

    def map(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    def gather(self, futures: Any) -> list[Any]:
        return []


def plan_with(**kwargs: Any) -> Callable[[], object]:
    args = {"kerbs": KERB, "hazards": None, "rules": CAR, **kwargs}
    return lambda: parkplan.plan(args.pop("kerbs"), args.pop("hazards"), args.pop("rules"), **args)


def a_plan() -> parkplan.Plan:
    return parkplan.plan(KERB, None, rules=CAR)


CASES: list[tuple[str, str, Callable[[], object]]] = [
    ("plan(None)", "kerbs", lambda: parkplan.plan(None)),
    ("plan(42)", "kerbs", lambda: parkplan.plan(42)),
    ("plan(DataFrame)", "kerbs", lambda: parkplan.plan(pd.DataFrame({"a": [1]}))),
    ("plan(GeoSeries)", "kerbs", lambda: parkplan.plan(KERB.geometry)),
    ("plan('')", "kerbs", lambda: parkplan.plan("")),
    ("no geometry column", "kerbs", lambda: parkplan.plan(gpd.GeoDataFrame({"a": [1]}))),
    ("workers='2'", "workers", plan_with(workers="2")),
    ("workers=0", "workers", plan_with(workers=0)),
    ("workers=1.5", "workers", plan_with(workers=1.5)),
    ("workers=True", "workers", plan_with(workers=True)),
    ("time_limit_s=-1", "time_limit_s", plan_with(time_limit_s=-1)),
    ("time_limit_s=0", "time_limit_s", plan_with(time_limit_s=0)),
    ("time_limit_s=nan", "time_limit_s", plan_with(time_limit_s=math.nan)),
    ("time_limit_s=inf", "time_limit_s", plan_with(time_limit_s=math.inf)),
    ("time_limit_s='10'", "time_limit_s", plan_with(time_limit_s="10")),
    ("presolve='no'", "presolve", plan_with(presolve="no")),
    ("room=1", "room", plan_with(room=1)),
    ("progress='yes'", "progress", plan_with(progress="yes")),
    ("strategy='fast'", "strategy", plan_with(strategy="fast")),
    ("rules=3", "rules", plan_with(rules=3)),
    ("hazards=3", "hazards", plan_with(hazards=3)),
    ("hazards=[None]", "hazards[0]", plan_with(hazards=[None])),
    ("hazards=[KERB, 3]", "hazards[1]", plan_with(hazards=[KERB, 3])),
    ("hazards=DataFrame", "hazards", plan_with(hazards=pd.DataFrame({"kind": ["hydrant"]}))),
    ("extent=3", "extent", plan_with(extent=3)),
    ("extent='path'", "extent", plan_with(extent="extent.geojson")),
    ("extent=Point", "extent", plan_with(extent=Point(0, 0))),
    ("extent=GeoSeries no CRS", "extent", plan_with(extent=gpd.GeoSeries([box(0, 0, 1, 1)]))),
    ("extent empty", "extent", plan_with(extent=box(0, 0, 1, 1).difference(box(-1, -1, 2, 2)))),
    (
        "extent=GeometryCollection",
        "extent",
        plan_with(extent=GeometryCollection([box(0, 0, 1, 1), Point(5, 5)])),
    ),
    ("corners=3", "corners", plan_with(corners=3)),
    ("ways=3", "ways", plan_with(ways=3)),
    ("keep=3", "keep", plan_with(keep=3)),
    ("keep=DataFrame", "keep", plan_with(keep=pd.DataFrame({"a": [1]}))),
    ("client=3", "client", plan_with(client=3)),
    ("client='tcp://x:8786'", "client", plan_with(client="tcp://x:8786")),
    ("client closed", "client", plan_with(client=ClosedClient())),
    ("check(None, kerbs)", "bays", lambda: parkplan.check(None, KERB, rules=CAR)),
    ("check(3, kerbs)", "bays", lambda: parkplan.check(3, KERB, rules=CAR)),
    ("check(bays, None)", "kerbs", lambda: parkplan.check(KERB, None, rules=CAR)),
    ("check(mode='x')", "mode", lambda: parkplan.check(KERB, KERB, rules=CAR, mode="x")),
    ("check(rules=3)", "rules", lambda: parkplan.check(KERB, KERB, rules=3)),
    ("check(hazards=[1])", "hazards[0]", lambda: parkplan.check(KERB, KERB, [1], rules=CAR)),
    ("check(extent=3)", "extent", lambda: parkplan.check(KERB, KERB, rules=CAR, extent=3)),
    ("from_osm(None)", "path", lambda: parkplan.from_osm(None)),
    ("from_osm(3)", "path", lambda: parkplan.from_osm(3)),
    ("from_osm(mode='x')", "mode", lambda: parkplan.from_osm(OSM, mode="x")),
    ("from_osm(traffic=3)", "traffic", lambda: parkplan.from_osm(OSM, traffic=3)),
    ("from_osm(service='no')", "service", lambda: parkplan.from_osm(OSM, service="no")),
    ("from_osm(default_widths=3)", "default_widths", lambda: parkplan.from_osm(OSM, default_widths=3)),
    (
        "from_osm(default_widths={'residential': 'a'})",
        "default_widths['residential']",
        lambda: parkplan.from_osm(OSM, default_widths={"residential": "a"}),
    ),
    ("load_rules(3)", "rules", lambda: parkplan.load_rules(3)),
    ("load_rules([1])", "rules", lambda: parkplan.load_rules([1])),
    ("HazardSource(None)", "data", lambda: parkplan.HazardSource(None)),
    ("HazardSource(kind=4)", "kind", lambda: parkplan.HazardSource("h.geojson", kind=4)),
    ("HazardSource(kind='')", "kind", lambda: parkplan.HazardSource("h.geojson", kind="")),
    ("HazardSource.parse(3)", "text", lambda: parkplan.HazardSource.parse(3)),
    ("Plan.keeping('x')", "keep", lambda: a_plan().keeping("x")),
    ("Plan.keeping([True])", "keep", lambda: a_plan().keeping([True])),
    ("Plan.keeping(ints)", "keep", lambda: a_plan().keeping([1] * 6)),
    ("Plan.keeping(reason=3)", "reason", lambda: a_plan().keeping([True] * 6, reason=3)),
    ("Plan.with_separate(3)", "bays", lambda: a_plan().with_separate(3)),
    (
        "Plan.with_separate(no CRS)",
        "bays",
        lambda: a_plan().with_separate(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)])),
    ),
    ("Plan.with_capacity({})", "capacity", lambda: a_plan().with_capacity({})),
    ("Plan.to_geojson(3)", "path", lambda: a_plan().to_geojson(3)),
]


@pytest.mark.parametrize(("label", "argument", "call"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_argument_is_an_argument_error_naming_it(
    label: str, argument: str, call: Callable[[], object]
) -> None:
    with pytest.raises(ArgumentError) as info:
        call()
    err = info.value
    assert isinstance(err, InputError)
    assert isinstance(err, ParkplanError)
    assert err.argument == argument
    assert argument in str(err)
    assert "\n" not in str(err)


# --- string options: a Literal in the signature, checked at run time -----------------------------

LITERAL_OPTIONS = [
    ("plan(strategy=)", parkplan.plan, "strategy", lambda v: parkplan.plan(KERB, rules=CAR, strategy=v)),
    ("check(mode=)", parkplan.check, "mode", lambda v: parkplan.check(KERB, KERB, rules=CAR, mode=v)),
    ("from_osm(mode=)", parkplan.from_osm, "mode", lambda v: parkplan.from_osm(OSM, mode=v)),
    ("from_osm(traffic=)", parkplan.from_osm, "traffic", lambda v: parkplan.from_osm(OSM, traffic=v)),
    ("grid_city(junctions=)", grid_city, "junctions", lambda v: grid_city(1000.0, 1000.0, junctions=v)),
    ("grid_city(traffic=)", grid_city, "traffic", lambda v: grid_city(1000.0, 1000.0, traffic=v)),
    ("make_city(junctions=)", make_city, "junctions", lambda v: make_city(1000, junctions=v)),
]


@pytest.mark.parametrize(
    ("label", "function", "argument", "call"), LITERAL_OPTIONS, ids=[c[0] for c in LITERAL_OPTIONS]
)
def test_a_string_option_is_a_literal_and_any_other_value_an_argument_error(
    label: str, function: Callable[..., object], argument: str, call: Callable[[object], object]
) -> None:
    """The signature's Literal lists the values; any other value (or type) is refused in one line that
    names the argument, every allowed value and what was given, before any work is done."""
    hints = typing.get_type_hints(function, localns={"Mode": Mode, "Traffic": Traffic})
    allowed = typing.get_args(hints[argument])
    assert allowed, hints[argument]
    assert all(isinstance(a, str) for a in allowed), hints[argument]
    for given in ("nonsense", allowed[0].upper(), 3):
        with pytest.raises(ArgumentError) as info:
            call(given)
        message = str(info.value)
        assert info.value.argument == argument
        assert isinstance(info.value, InputError)
        assert isinstance(info.value, ValueError)
        assert f"{argument} must be " in message
        assert all(repr(a) in message for a in allowed), message
        assert repr(given) in message
        assert "\n" not in message


def test_argument_error_is_still_a_type_and_a_value_error() -> None:
    """Code that caught the bare built-ins (TypeError for plan(None), ValueError for strategy) still does."""
    with pytest.raises(TypeError):
        parkplan.plan(None)
    with pytest.raises(ValueError, match="strategy"):
        parkplan.plan(KERB, strategy="fast")
    assert "ArgumentError" in parkplan.__all__


def test_the_classes_the_checks_know_by_name_exist() -> None:
    """arguments.py (layer 0) recognises higher-layer classes by qualified name: each must name a class."""
    for qualified in CHECKED_CLASSES:
        module, _, name = qualified.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        assert isinstance(cls, type), qualified
        assert f"{cls.__module__}.{cls.__qualname__}" == qualified
    assert is_instance(parkplan.load_rules("cn"), "parkplan.rules.loading.Rules")
    assert not is_instance("cn", "parkplan.rules.loading.Rules")
    assert is_instance(parkplan.HazardSource("h.geojson"), "parkplan.io.read.HazardSource")

    class Base:
        pass

    class Sub(Base):
        pass

    assert is_instance(Sub(), f"{Base.__module__}.{Base.__qualname__}")  # subclasses count, as in isinstance
    assert not is_instance(Base(), f"{Sub.__module__}.{Sub.__qualname__}")


def test_arguments_are_checked_before_any_file_is_read(tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match="workers"):
        parkplan.plan(tmp_path / "missing.geojson", workers="2")


def test_good_arguments_of_other_types_still_work() -> None:
    """numpy integers and bools, an extent as a GeometryCollection of polygons or a GeoSeries with a CRS,
    a tuple of hazards: all accepted."""
    import numpy as np

    hazards = gpd.GeoDataFrame({"kind": ["hydrant"]}, geometry=[Point(20, 1)], crs=CRS)
    collection = GeometryCollection([box(-1, -5, 20, 5), box(20, -5, 41, 5)])
    assert len(parkplan.plan(KERB, None, rules=CAR, extent=collection).bays) > 0
    p = parkplan.plan(
        KERB,
        (hazards,),
        rules=CAR,
        workers=np.int64(1),
        presolve=np.bool_(True),
        time_limit_s=np.float64(5.0),
        extent=gpd.GeoSeries([box(-1, -5, 41, 5)], crs=CRS),
    )
    assert len(p.bays) > 0
    same = p.keeping(pd.Series([True] * len(p.bays)))
    assert len(same.bays) == len(p.bays)
    assert same.summary["bays"]["removed"] == 0


# --- workers: negative as joblib ------------------------------------------------------------------


def test_negative_workers_count_back_from_the_cpus() -> None:
    cpus = _local_cpus()
    assert worker_count(-1) == resolve_workers(-1) == cpus
    assert worker_count(-2) == resolve_workers(-2) == max(cpus - 1, 1)
    assert worker_count(-1000) == resolve_workers(-1000) == 1
    assert resolve_workers(3) == 3
    assert resolve_workers(None) is None


def test_plan_with_all_cpus_is_the_plan_with_one() -> None:
    one = parkplan.plan(KERB, None, rules=CAR, workers=1)
    every = parkplan.plan(KERB, None, rules=CAR, workers=-1)
    assert one.bays.drop(columns="geometry").equals(every.bays.drop(columns="geometry"))


@pytest.mark.parametrize(("given", "expected"), [("-1", "cpus"), ("-2", "cpus-1"), ("2", "2")])
def test_cli_workers_minus_one_means_all_cpus(
    given: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, --workers -1 reached the stages as -1 and ran on one worker."""
    plan_module = sys.modules["parkplan.pipeline"]  # the module (parkplan.plan is the function)
    seen: dict[str, Any] = {}
    real = plan_module.plan

    def spy(*args: Any, **kwargs: Any) -> parkplan.Plan:
        seen["workers"] = kwargs["workers"]
        return real(*args, **kwargs)

    monkeypatch.setattr(plan_module, "plan", spy)
    kerb = tmp_path / "kerb.geojson"
    KERB.to_file(kerb)
    assert cli.main(["plan", str(kerb), "-o", str(tmp_path / "b.geojson"), "--workers", given, "-q"]) == 0
    cpus = _local_cpus()
    assert seen["workers"] == {"cpus": cpus, "cpus-1": max(cpus - 1, 1), "2": 2}[expected]


@pytest.mark.parametrize("given", ["0", "x", "1.5"])
def test_cli_bad_workers_is_one_line_and_exit_2(
    given: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b.geojson"
    assert cli.main(["plan", "kerb.geojson", "-o", str(out), "--workers", given]) == 2
    err = capsys.readouterr().err
    assert err.startswith("parkplan: error: argument --workers:")
    assert err.count("\n") == 1
    assert not out.exists()


# --- scheduler addresses --------------------------------------------------------------------------

MALFORMED = ["foo", "tcp://", "tcp://host:notaport", "http://x", "", "tcp://:8786", "tcp://host:99999"]


@pytest.mark.parametrize("address", MALFORMED)
def test_a_malformed_scheduler_address_is_refused(address: str) -> None:
    with pytest.raises(ArgumentError, match="not a Dask scheduler address"):
        scheduler_address(address)


@pytest.mark.parametrize(
    "address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786", "tls://host.example:8786", "tcp://[::1]:8786"]
)
def test_a_well_formed_scheduler_address_passes(address: str) -> None:
    assert scheduler_address(address) == address


@pytest.mark.parametrize("address", MALFORMED[:4])
def test_cli_malformed_scheduler_is_one_line_and_exit_2(
    address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a ValueError traceback from inside distributed and exit 1."""
    kerb = tmp_path / "kerb.geojson"
    KERB.to_file(kerb)
    out = tmp_path / "b.geojson"
    assert cli.main(["plan", str(kerb), "-o", str(out), "--scheduler", address]) == 2
    err = capsys.readouterr().err
    assert err.startswith("parkplan: error: --scheduler:")
    assert "not a Dask scheduler address" in err
    assert err.count("\n") == 1
    assert not out.exists()


def test_cli_malformed_scheduler_in_a_real_process(tmp_path: Path) -> None:
    kerb = tmp_path / "kerb.geojson"
    KERB.to_file(kerb)
    run = subprocess.run(
        [sys.executable, "-m", "parkplan.cli", "plan", str(kerb), "-o", str(tmp_path / "b.geojson"),
         "--scheduler", "tcp://host:notaport"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == [
        "parkplan: error: --scheduler: 'tcp://host:notaport' is not a Dask scheduler address: port "
        "'notaport' is not a number from 1 to 65535; give [tcp://]HOST:PORT, e.g. tcp://127.0.0.1:8786"
    ]


def test_cli_unreachable_scheduler_is_still_cannot_reach(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(cli, "SCHEDULER_TIMEOUT_S", 1.0)
    kerb = tmp_path / "kerb.geojson"
    KERB.to_file(kerb)
    assert (
        cli.main(["plan", str(kerb), "-o", str(tmp_path / "b.geojson"), "--scheduler", "tcp://127.0.0.1:1"])
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("parkplan: error: cannot reach the Dask scheduler tcp://127.0.0.1:1")
    assert err.count("\n") == 1
