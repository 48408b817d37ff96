"""The ``parkplan`` command line.

``parkplan plan KERBS [-f HAZARDS | -f KIND=PATH]... [--rules NAME|FILE] -o BAYS.geojson
[--zones F] [--kerbs F] [--summary F.json]`` plans bays; ``parkplan check BAYS KERBS [-f ...] [--rules ...]
[-o VIOLATIONS] [--summary F.json]`` checks a layout (exit 1 when a bay violates a rule); ``parkplan rules
list`` lists the presets.

Every user error (bad input, bad rules, unwritable output, bad arguments) prints one line
``parkplan: error: ...`` to standard error and exits with code 2; no traceback, no partial output file.
The output paths are checked before any work is done, and all outputs are written together: either
every one is replaced or none is.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any, NoReturn

from parkplan import __version__
from parkplan import _interrupt as interrupt
from parkplan._parallel import stop_workers
from parkplan._progress import Progress, end_line
from parkplan.errors import InputError, ParkplanError
from parkplan.io.paths import LayerPath

if TYPE_CHECKING:
    from pyproj import CRS

    from parkplan.accounting import Summary
    from parkplan.io.read import HazardSource
    from parkplan.io.targets import OutputPlan

__all__ = ["main"]

log = logging.getLogger("parkplan")


SCHEDULER_TIMEOUT_S = 10.0
"""How long ``--scheduler`` waits to reach the Dask scheduler (seconds)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other parkplan error."""

    def error(self, message: str) -> NoReturn:
        """Print ``parkplan: error: MESSAGE (see 'PROG --help')`` and exit with code 2."""
        print(f"parkplan: error: {_one_line(message)} (see '{self.prog} --help')", file=sys.stderr)
        self.exit(2)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A log handler that writes to whatever ``sys.stderr`` is at the time of each message."""

    @property
    def stream(self) -> IO[str]:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, value: IO[str]) -> None:
        pass


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _seconds(text: str) -> float:
    """Argument type of ``--time-limit``: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def _workers(text: str) -> int:
    """Argument type of ``--workers``: a count, or negative as joblib (-1 all CPUs, -2 all but one).

    Resolved here to a positive count (:func:`parkplan._parallel.worker_count`, never below 1), so the
    planning and the writing both get it; 0 is refused.
    """
    from parkplan._parallel import worker_count

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of workers (-1: all CPUs, -2: all but one), not {text!r}"
        ) from None
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0; give a number of workers, or -1 for all CPUs")
    return worker_count(value)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="parkplan",
        description="Plan the most on-street parking bays the rules allow (OR-Tools CP-SAT).",
    )
    parser.add_argument("--version", action="version", version=f"parkplan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plan", help="place bays along kerbs and write them as GeoJSON")
    p.add_argument(
        "kerbs",
        help="kerb lines or street-area polygons (any vector file GeoPandas reads), or an OSM extract "
        "(.osm, .osm.pbf, .osm.bz2, .osm.gz, Overpass .json) in any order",
    )
    _add_hazards_and_rules(p)
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="bays output: .geojson, .geojsonl/.geojsons (a feature per line), .gpkg, .fgb, .parquet",
    )
    p.add_argument("--zones", help="also write the forbidden stretches with their reasons")
    p.add_argument("--kerbs-out", "--kerbs", dest="kerbs_out", help="also write the per-kerb accounting")
    p.add_argument("--summary", help="also write the summary as JSON")
    _add_layer_options(p, "the bays")
    p.add_argument(
        "--extent",
        metavar="PATH",
        help="polygon(s) the kerb data was cut to: street-area boundary on or outside its edge is not kerb",
    )
    p.add_argument("--time-limit", type=_seconds, default=None, metavar="SECONDS", help="CP-SAT time limit")
    p.add_argument("--no-presolve", action="store_true", help="send every stretch through CP-SAT")
    p.add_argument(
        "--mode",
        choices=("plan", "existing"),
        default="plan",
        help=(
            "OSM input: 'plan' ignores parking tags (the rules decide); 'existing' puts bays only where "
            "OSM parking tags allow parking today (untagged kerb sides get none)"
        ),
    )
    p.add_argument(
        "--keep",
        nargs="?",
        const="",
        default=None,
        metavar="BAYS",
        help=(
            "reach the optimum with as many existing bays left in place as possible: the bays of file BAYS, "
            "or (OSM input with --mode existing and no file) the bays the OSM parking tags give today; "
            "the result is the optimal plan"
        ),
    )
    p.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help=(
            "local processes (default: all CPUs; -1 all, -2 all but one, ...; the output is the same for "
            "any number)"
        ),
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="a Dask scheduler (tcp://host:8786): run the chunked stages on that cluster (the dask extra)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument(
        "--strategy",
        choices=("optimal", "habit"),
        default="optimal",
        help="'habit': a baseline for comparisons (parallel bays, both sides if wide enough, else right)",
    )
    _add_review_options(p, "the plan: kerbs, zones by reason, bays by type")
    _add_map_options(p)

    c = sub.add_parser(
        "check",
        help="check a layout of bays against kerbs, hazards and rules (exit 1 when anything is violated)",
    )
    c.add_argument("bays", help="bay polygons: parkplan's output or any polygon layer")
    c.add_argument("kerbs", help="what 'plan' reads: kerb lines, street areas, or an OSM extract")
    _add_hazards_and_rules(c)
    c.add_argument(
        "--mode",
        choices=("plan", "existing"),
        default="plan",
        help="OSM input: 'existing' also checks bays against the parking tags (tagged_no_parking)",
    )
    c.add_argument("--extent", metavar="PATH", help="polygon(s) the kerb data was cut to (as for 'plan')")
    c.add_argument("-o", "--output", help="write the violations (one feature each) to this layer")
    c.add_argument("--summary", help="write the counts by check as JSON")
    _add_layer_options(c, "the violations")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    _add_review_options(c, "the violations over the bays and kerbs")
    _add_map_options(c)

    r = sub.add_parser("rules", help="list or show rule presets")
    rsub = r.add_subparsers(dest="rules_command", required=True)
    rsub.add_parser("list", help="list the presets shipped with parkplan")
    show = rsub.add_parser("show", help="show a preset or rules file")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print the resolved rules as JSON")
    rsub.add_parser("doc", help="print the Markdown reference of every preset (docs/rules.md)")
    return parser


def _add_map_options(parser: argparse.ArgumentParser) -> None:
    """``--map F.html [--lang en|zh-CN] [--tiles URL]``: the review map (:mod:`parkplan.review.html`)."""
    parser.add_argument(
        "--map", metavar="F.html", help="also write the review map: one HTML file, opens offline"
    )
    parser.add_argument("--lang", choices=("en", "zh-CN"), default="en", help="the map's first language")
    parser.add_argument(
        "--tiles", metavar="URL", help="the map's base map: an XYZ template (https://host/{z}/{x}/{y}.png)"
    )
    parser.add_argument(
        "--attribution", metavar="TEXT", help="the base map's credit (default: its host name)"
    )


def _add_hazards_and_rules(parser: argparse.ArgumentParser) -> None:
    """Add the hazard inputs and the rules, as ``plan`` and ``check`` both take them."""
    parser.add_argument(
        "-f",
        "--hazards",
        action="append",
        default=[],
        metavar="[KIND=]PATH",
        help="hazard file; each feature needs a 'kind' unless given as KIND=PATH (repeatable)",
    )
    parser.add_argument("--rules", default=None, help="preset name or rules TOML file (default: cn)")


def _add_review_options(parser: argparse.ArgumentParser, shows: str) -> None:
    """Add the review outputs of ``plan`` and ``check``: ``--png`` (docs/map.md)."""
    parser.add_argument(
        "--png",
        metavar="PATH",
        default=None,
        help=f"also write a PNG overview for a report (A4 landscape, 200 dpi) of {shows}",
    )


def _add_layer_options(parser: argparse.ArgumentParser, output: str) -> None:
    """Add ``--layer``, ``--overwrite`` and ``--crs``, as ``plan`` and ``check`` both take them."""
    parser.add_argument(
        "--layer",
        metavar="NAME",
        default=None,
        help=(
            "the layer to read from an input file that has several (a GeoPackage), and the name of "
            f"{output} layer in a GeoPackage output (default: the file name without extension); "
            "PATH:LAYER names one file's layer on its own"
        ),
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an output GeoPackage layer that exists (other layers are always kept)",
    )
    parser.add_argument(
        "--crs",
        metavar="CRS",
        default=None,
        help="working CRS in metres (e.g. EPSG:25833); default: the data's own, or its UTM zone",
    )


def _check_outputs(args: argparse.Namespace) -> OutputPlan:
    """Check every output of ``plan`` / ``check`` before any work is done (:mod:`parkplan.io.targets`).

    Usable paths, none given twice, none of the files the run reads (kerbs, hazards, ``--keep``,
    ``--extent``, the rules and every file they extend, ``check``'s bays); GeoPackage layers named by
    ``PATH:LAYER``, else ``--layer`` for ``-o``, else the file's stem, replaced only with ``--overwrite``.

    Raises
    ------
    OutputError
        For the first output that cannot be written as asked.
    """
    from parkplan.io.read import HazardSource
    from parkplan.io.targets import OutputPlan, document_target, input_files, layer_target, rules_inputs

    planning = args.command == "plan"
    targets = []
    if args.output is not None:
        targets.append(layer_target("bays" if planning else "violations", args.output, args.layer))
    if planning:
        extra = (("zones", args.zones), ("kerbs", args.kerbs_out))
        targets += [layer_target(what, path) for what, path in extra if path is not None]
    if args.summary is not None:
        targets.append(document_target("summary", args.summary))
    if args.png is not None:
        from parkplan.review.png import png_target

        targets.append(png_target(args.png))
    if getattr(args, "map", None) is not None:
        targets.append(document_target("map", args.map))
    reads = [
        *([] if planning else [("the bays to check", args.bays)]),
        ("the kerbs", args.kerbs),
        *(("a hazards file", HazardSource.parse(h)) for h in args.hazards),
        ("the --keep bays", getattr(args, "keep", None)),
        ("the --extent", args.extent),
    ]
    return OutputPlan(targets, [*input_files(reads), *rules_inputs(args.rules)], overwrite=args.overwrite)


def _written_as(plan: OutputPlan) -> dict[str, LayerPath]:
    """Return each layer output as :meth:`parkplan.Plan.write` takes it (``PATH:LAYER`` in a GeoPackage)."""
    return {t.what: LayerPath(t.path, t.layer) for t in plan.targets if not t.document}


OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz", ".osm.json")
"""Kerb inputs read as OpenStreetMap extracts (street areas from the carriageway ways, hazards from tags);
a ``.json`` too when its content is Overpass JSON (:func:`parkplan.osm.read.is_osm_input`)."""


def _is_osm(path: str) -> bool:
    """Tell an OSM kerb input: by its name, or for ``.json`` by its content (Overpass JSON, not GeoJSON)."""
    from parkplan.osm.read import is_osm_input

    return str(path).lower().endswith(OSM_SUFFIXES) or is_osm_input(path)


def _input(args: argparse.Namespace, path: str, what: str) -> LayerPath:
    """Choose an input file's layer to read: its own ``PATH:LAYER``, else ``--layer`` if it has several.

    See :func:`parkplan.io.read.input_layer`; checked here, before planning, so a file with several layers and
    none named fails at once.
    """
    from parkplan.io.read import input_layer

    return input_layer(path, args.layer, what=what, option="--layer")


def _hazard_input(args: argparse.Namespace, text: str) -> HazardSource:
    """Read a ``-f [KIND=]PATH`` hazard input, its layer chosen as :func:`_input` does."""
    from parkplan.io.read import HazardSource

    src = HazardSource.parse(text)
    return HazardSource(_input(args, str(src.data), "hazards"), src.kind)


def _working_crs(args: argparse.Namespace) -> CRS | None:
    """Read and check ``--crs`` (projected, in metres); ``None`` when not given."""
    from parkplan.io.read import metric_crs

    return None if args.crs is None else metric_crs(args.crs, argument="--crs")


def _run_plan(args: argparse.Namespace) -> int:
    if args.scheduler is None:
        return _plan_with(args, None)
    from parkplan.arguments import scheduler_address

    address = scheduler_address(args.scheduler, "--scheduler")
    try:
        from distributed import Client
    except ImportError as exc:
        raise InputError("--scheduler needs dask.distributed: pip install 'parkplan[dask]'") from exc
    try:
        client = Client(address, timeout=SCHEDULER_TIMEOUT_S)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler {address}: {exc}") from exc
    except ValueError as exc:  # an address distributed refuses that scheduler_address let through
        raise InputError(f"--scheduler {address!r}: {exc}") from exc
    with client:
        return _plan_with(args, client)


def _plan_with(args: argparse.Namespace, client: object) -> int:
    from parkplan.pipeline import plan

    outputs = _check_outputs(args)
    crs = _working_crs(args)
    is_osm = _is_osm(args.kerbs)
    kerbs: object = args.kerbs if is_osm else _input(args, args.kerbs, "kerbs")
    hazards: list[object] = [_hazard_input(args, h) for h in args.hazards]
    keep: object = _input(args, args.keep, "existing bays") if args.keep else None
    extent = None
    if args.extent:
        from parkplan.io.read import read_extent

        extent = read_extent(_input(args, args.extent, "extent"))
    if args.keep == "" and not (is_osm and args.mode == "existing"):
        raise InputError("--keep without a file needs OSM input and --mode existing (today's bays)")
    options: dict[str, Any] = {
        "time_limit_s": args.time_limit,
        "presolve": not args.no_presolve,
        "extent": extent,
        "strategy": args.strategy,
        "progress": not args.quiet and sys.stderr.isatty(),
        "workers": args.workers,
        "client": client,
        "crs": crs,
    }
    if is_osm:
        from parkplan.osm.existing import plan_osm

        # --keep without a file: today's bays from the parking tags, then the optimum that keeps most.
        today = True if args.keep == "" else keep
        result = plan_osm(args.kerbs, hazards, args.rules, mode=args.mode, keep=today, **options)
    else:
        if args.mode == "existing":
            log.warning("--mode existing reads OpenStreetMap parking tags; %s is not an OSM file", args.kerbs)
        result = plan(kerbs, hazards, rules=args.rules, keep=keep, **options)
    if result.summary["kerbs"]["count"] == 0:
        log.warning(
            "%s: no kerb to plan on%s",
            args.kerbs,
            f"; does the extent {args.extent} cover the kerbs, in the right CRS?" if args.extent else "",
        )
    named = _written_as(outputs)
    bar = Progress(not args.quiet and sys.stderr.isatty())
    bar.stage("writing")
    result.write(
        named.get("bays"),
        zones=named.get("zones"),
        kerbs=named.get("kerbs"),
        summary=next((t.path for t in outputs.targets if t.what == "summary"), None),
        png=next((t.path for t in outputs.targets if t.what == "png"), None),
        overwrite=args.overwrite,
        map=next((t.path for t in outputs.targets if t.what == "map"), None),
        lang=args.lang,
        tiles=args.tiles,
        attribution=args.attribution,
        workers=args.workers,
        client=client,
    )
    bar.done()
    if not args.quiet:
        print(_plan_line(result.summary, args.output))
    return 0


def _plan_line(s: Summary, output: str) -> str:
    """Say what ``parkplan plan`` made: the bays, the kerbs, the proof, the hazards (and ``--keep``)."""
    by_type = ", ".join(f"{k} {v}" for k, v in s.bays.by_type.items())
    if s.bays.separate:
        by_type += f", separately mapped {s.bays.separate}"
    solver = s.solver
    text = (
        f"{s.bays.total} bays ({by_type}) on {s.kerbs.count} kerbs, {s.kerbs.length_m / 1000:.1f} km; "
        f"solver {solver.status}, objective {solver.objective:g}, bound {solver.best_bound:g}, "
        f"gap {solver.gap:.2%}; hazards matched {s.hazards.matched} of {s.hazards.total}; "
        f"subtractive method {s.baseline.subtractive_bays} bays; wrote {output}"
    )
    if s.keep is not None:
        k = s.keep
        text += (
            f"\nkept {k.kept} of {k.existing_features} existing bays in place; "
            f"{k.restriped} bays to mark, {k.removed} to remove"
        )
    return text


def _run_check(args: argparse.Namespace) -> int:
    """``parkplan check``: exit 0 without violations, 1 with."""
    from parkplan.check.core import run_check
    from parkplan.io.write import dump_json, dump_layer

    outputs = _check_outputs(args)
    crs = _working_crs(args)
    is_osm = _is_osm(args.kerbs)
    bays = _input(args, args.bays, "bays")
    kerbs: object = args.kerbs if is_osm else _input(args, args.kerbs, "kerbs")
    hazards = [_hazard_input(args, h) for h in args.hazards]
    extent = None
    if args.extent:
        from parkplan.io.read import read_extent

        extent = read_extent(_input(args, args.extent, "extent"))
    result = run_check(bays, kerbs, hazards, args.rules, extent=extent, mode=args.mode, crs=crs)
    if outputs.targets:
        page = None
        if args.map is not None:
            from parkplan.review.html import check_html

            page = check_html(
                result, rules=args.rules, lang=args.lang, tiles=args.tiles, attribution=args.attribution
            )
        with outputs.writing() as temps:
            for target, tmp in zip(outputs.targets, temps, strict=True):
                if target.what == "png":
                    _check_png(result, tmp, args)
                elif target.what == "map" and page is not None:
                    with open(tmp, "w", encoding="utf-8") as fh:
                        fh.write(page)
                elif target.what == "summary":
                    dump_json(result.summary, tmp)
                else:
                    dump_layer(result.violations, tmp, target.path, layer=target.layer)
    if not args.quiet:
        print(result.line())
    return 1 if result.summary["violations"] else 0


def _check_png(result: Any, path: os.PathLike[str], args: argparse.Namespace) -> None:
    """Write ``check``'s PNG overview: the violations over the bays and kerbs checked."""
    from parkplan.review.png import write_png

    count = result.summary["violations"]
    write_png(
        path,
        result.bays,
        None,
        result.kerbs,
        violations=result.violations,
        title=f"check of {os.path.basename(args.bays)} under {args.rules or 'cn'}: {count:,} violations",
        subtitle=result.line(),
    )


def _run_rules(args: argparse.Namespace) -> int:
    from parkplan.rules.loading import list_presets, load_rules
    from parkplan.rules.table import rules_markdown, rules_to_dict, show_text

    if args.rules_command == "list":
        for name in list_presets():
            rules = load_rules(name)
            where = rules.jurisdiction or "-"
            print(f"{name:12} {where:44} {rules.traffic:5}  {rules.description}")
        return 0
    if args.rules_command == "doc":
        print(rules_markdown())
        return 0
    rules = load_rules(args.name)
    if args.json:
        print(json.dumps(rules_to_dict(rules), indent=2, ensure_ascii=False))
    else:
        print(show_text(rules))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv
        Arguments without the program name; ``None`` means ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 success (also for ``--help`` / ``--version``), 1 ``check`` found violations, 2 bad
        input, rules, output path or arguments (one ``parkplan: error:`` line on standard error), 130
        interrupted by SIGINT (Ctrl-C), 143 by SIGTERM (one ``parkplan: interrupted`` line; no output
        replaced, no temporary file or worker process left: :mod:`parkplan._interrupt`).
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("parkplan: warning: %(message)s"))
    saved = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.ERROR if getattr(args, "quiet", False) else logging.WARNING)
    log.propagate = False
    try:
        with interrupt.handling_signals(cleanup=stop_workers) as signals:
            try:
                return _run_command(args)
            except KeyboardInterrupt as exc:
                end_line()
                print("parkplan: interrupted", file=sys.stderr)
                signals["done"] = True
                # The program itself (not a caller of main()): nothing may cut its exit short now.
                signals["ignore_after"] = argv is None
                return interrupt.exit_code(exc)
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]


def _run_command(args: argparse.Namespace) -> int:
    """Run the parsed command; a user error is one ``parkplan: error:`` line and exit code 2."""
    try:
        if args.command == "plan":
            return _run_plan(args)
        if args.command == "check":
            return _run_check(args)
        return _run_rules(args)
    except ParkplanError as exc:
        print(f"parkplan: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - output piped into `head` and closed early
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
