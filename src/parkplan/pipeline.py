"""The whole job: inputs -> kerbs -> forbidden zones -> sides and depths -> bays -> accounting -> Plan.

:func:`plan` is the recipe, one named step per stage (:func:`_read`, :func:`_kerbs`, :func:`_zones`,
:func:`_sides`, :func:`_quotas`, :func:`_place`, then :func:`parkplan.accounting.summarize`); each stage is
shown and timed by :class:`parkplan._progress.Stages`. :class:`Plan` is its frozen result.
"""

from __future__ import annotations

import dataclasses
import logging
import operator
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from parkplan import _parallel as parallel
from parkplan import accounting
from parkplan._progress import Progress, Stages
from parkplan.accounting import CapacityReport, HazardReport, KeepReport, Summary, WrittenReport
from parkplan.arguments import (
    check_crs_frame,
    check_mask,
    check_path,
    check_plan_arguments,
    check_text,
    shown,
)
from parkplan.errors import ArgumentError
from parkplan.geometry.kerbs import CornerSettings, KerbIndex, attach_ways, build_kerbs
from parkplan.hazards import applicable_hazards, match_hazards, zones_from_matches
from parkplan.io import write as output
from parkplan.io.paths import LayerPath
from parkplan.io.read import (
    HazardSource,
    PathOrFrame,
    metric_crs,
    read_hazards,
    read_kerbs,
    read_vector,
    text_column,
    to_metric,
)
from parkplan.io.targets import (
    InputFile,
    OutputPlan,
    document_target,
    input_files,
    layer_target,
    rules_inputs,
)
from parkplan.keep import existing_spans, keep_layout
from parkplan.layout import bay_polygons, kerb_lines, place_bays
from parkplan.quotas import apply_quotas, fill_fragments, main_types
from parkplan.rules.loading import Rules, load_rules
from parkplan.sides import Decision, decide

__all__ = ["Plan", "hazard_sources", "plan"]

log = logging.getLogger("parkplan")


@dataclass(frozen=True, eq=False)
class Plan:
    """The result of :func:`plan`: frozen, so a plan never changes once made.

    The methods that change a plan (:meth:`keeping`, :meth:`with_separate`, :meth:`with_capacity`)
    return a new one, with the tables and the summary redone; the plan they are called on stays as it
    was, and the two share their zones (built once for both). The tables are GeoDataFrames: copy one
    before changing it in place.

    Attributes
    ----------
    bays
        One Polygon per bay: ``bay_id``, ``curb_id``, ``source_id``, ``street_id``, ``bay_type``,
        ``orientation``,
        ``length_m``, ``width_m``, ``start_m``, ``end_m`` (chainage of the bay's kerb edge).
    zones
        One LineString per forbidden stretch of kerb: ``curb_id``, ``kind``, ``hazard_id``, ``rule``,
        ``start_m``, ``end_m`` (forbidden, with clearances), ``hazard_start_m``, ``hazard_end_m``.
        Built on first use (a city has about two zones per bay, and most runs write only the bays);
        the same table whenever it is built.
    kerbs
        One LineString per kerb with its accounting: ``length_m`` = ``bay_m`` + ``gap_m`` +
        ``lost_m`` + ``leftover_m``, ``lost_m`` split into ``lost_<kind>_m`` columns.
    summary
        A :class:`parkplan.accounting.Summary`: counts by bay type, solver status, objective, bound, gap,
        hazards matched and unmatched, warnings and timings per stage. Read it as the mapping of its JSON
        form (``plan.summary["bays"]["total"]``, a fresh plain value each time) or typed
        (``plan.summary.bays.total``).
    crs
        The metric working CRS the plan was computed in. The tables are in this CRS.
    inputs
        The files the plan was read from (kerbs, hazards, ``keep``, ``ways``, the rules file and every
        file it extends; in-memory inputs have none): :meth:`write` never writes over them.
    """

    bays: gpd.GeoDataFrame
    _zones: gpd.GeoDataFrame | Callable[[], gpd.GeoDataFrame] = field(repr=False)
    kerbs: gpd.GeoDataFrame
    summary: Summary
    crs: CRS
    rules: Rules = field(repr=False)
    inputs: tuple[InputFile, ...] = field(default=(), repr=False)

    @property
    def zones(self) -> gpd.GeoDataFrame:
        """The forbidden stretches (see the class' attributes), built the first time they are asked for.

        The table is kept in place of its builder then (``object.__setattr__``: the one thing that ever
        changes in a plan, and it changes no value, only when the work is done).
        """
        zones = self._zones
        if callable(zones):
            zones = zones()
            object.__setattr__(self, "_zones", zones)
        return zones

    def keeping(self, keep: pd.Series | np.ndarray, reason: str = "removed") -> Plan:
        """Return the plan with only the bays ``keep`` marks.

        E.g. the bays :func:`parkplan.osm.existing.enforce_capacity` leaves.

        Removing bays never breaks a rule. The kerbs table moves the kerb length of each removed kerb bay
        from ``bay_m`` to ``leftover_m`` and lowers ``bays`` (:func:`parkplan.accounting.without_bays`);
        the summary's counts are redone and ``bays.<reason>`` says how many went (added to any earlier
        removal for the same reason).

        Raises
        ------
        parkplan.errors.ArgumentError
            If ``keep`` is not one boolean per bay, or ``reason`` not a non-empty string.
        """
        check_mask(keep, len(self.bays), "keep", "Plan.keeping")
        check_text(reason, "reason", "Plan.keeping")
        mask = np.asarray(keep, dtype=bool)
        bays = self.bays[mask].reset_index(drop=True)
        old = self.summary.bays
        removed = {**old.removed, reason: old.removed.get(reason, 0) + int((~mask).sum())}
        counts = accounting.bay_report(
            bays, self.rules, fragments=old.fragments, removed=removed, separate=old.separate
        )
        return dataclasses.replace(
            self,
            bays=bays,
            kerbs=accounting.without_bays(self.kerbs, self.bays[~mask]),
            summary=dataclasses.replace(self.summary, bays=counts),
        )

    def with_separate(self, bays: gpd.GeoDataFrame) -> Plan:
        """Return the plan with bays mapped separately added (:func:`parkplan.osm.existing.separate_bays`).

        They keep their own ids and get ``source = "separate"``; the planned kerb bays get ``source =
        "kerb"``. The summary counts them apart (``bays.separate``) and in ``bays.total``. The kerb beside
        separately mapped parking must already be kept free (``from_osm`` in existing mode does this), so
        nothing is counted twice.

        Raises
        ------
        parkplan.errors.ArgumentError
            If ``bays`` is not a GeoDataFrame with a CRS.
        """
        check_crs_frame(bays, "bays", "Plan.with_separate")
        own = self.bays if "source" in self.bays.columns else self.bays.assign(source="kerb")
        extra = bays.to_crs(own.crs).assign(source="separate")
        merged = pd.concat([own, extra], ignore_index=True)
        table = gpd.GeoDataFrame(merged, geometry="geometry", crs=own.crs)
        counts = dataclasses.replace(self.summary.bays, separate=len(extra), total=len(table))
        return dataclasses.replace(
            self,
            bays=table,
            summary=dataclasses.replace(self.summary, bays=counts),
        )

    def with_capacity(self, capacity: CapacityReport) -> Plan:
        """Return the plan with the tagged capacity's report in its summary (``capacity``).

        ``capacity`` is :func:`parkplan.osm.existing.capacity_summary` of the report of
        :func:`parkplan.osm.existing.enforce_capacity`; the bays it dropped go with :meth:`keeping`.
        """
        if not isinstance(capacity, CapacityReport):
            raise ArgumentError(
                "Plan.with_capacity: capacity must be a CapacityReport (capacity_summary), "
                f"not {shown(capacity)}",
                argument="capacity",
            )
        return dataclasses.replace(self, summary=dataclasses.replace(self.summary, capacity=capacity))

    def to_geojson(self, path: str | os.PathLike[str] | LayerPath, *, overwrite: bool = False) -> Path:
        """Write the bays (RFC 7946 GeoJSON, or the format the extension names) atomically; see :meth:`write`.

        Returns the path written.
        """
        check_path(path, "path", "Plan.to_geojson")
        self.write(path, overwrite=overwrite)
        return LayerPath.parse(path).path

    def to_png(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the PNG overview (:mod:`parkplan.review.png`: A4 landscape, 200 dpi) atomically.

        The kerbs, the zones by kind, the bays by type, a legend with the km lost per kind, a title, a
        scale bar and a north arrow; through the output plan as :meth:`write` (never over an input; the
        file is replaced whole, and only once complete). Returns the path written.
        """
        check_path(path, "path", "Plan.to_png")
        self.write(png=path, overwrite=overwrite)
        return Path(path)

    def to_html(
        self,
        path: str | os.PathLike[str],
        *,
        lang: str = "en",
        tiles: str | None = None,
        attribution: str | None = None,
        overwrite: bool = False,
    ) -> Path:
        """Write the review map: one self-contained HTML file that opens offline (:mod:`.review.html`).

        ``lang``: ``"en"`` or ``"zh-CN"`` (the page switches); ``tiles``: an XYZ URL template for a base
        map (none by default: then the page makes no request to any host), ``attribution`` its credit
        (default: the tile server's host name). Written as :meth:`write` writes
        (checked first, never over an input). Returns the path written.
        """
        check_path(path, "path", "Plan.to_html")
        self.write(map=path, lang=lang, tiles=tiles, attribution=attribution, overwrite=overwrite)
        return Path(path)

    @parallel.without_gc
    def write(
        self,
        bays: str | os.PathLike[str] | LayerPath | None = None,
        *,
        zones: str | os.PathLike[str] | LayerPath | None = None,
        kerbs: str | os.PathLike[str] | LayerPath | None = None,
        summary: str | os.PathLike[str] | None = None,
        png: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        workers: int | None = None,
        client: Any | None = None,
        map: str | os.PathLike[str] | None = None,
        lang: str = "en",
        tiles: str | None = None,
        attribution: str | None = None,
    ) -> Summary:
        """Write any of the outputs, all or nothing; formats follow the extensions.

        Every output is checked before anything is written (:class:`parkplan.io.targets.OutputPlan`): a
        usable path, none given twice, none of the files the plan was read from (:attr:`inputs`). The
        files replace their targets together only once all are complete: on any error no target is
        touched. Layers go through :func:`parkplan.io.write.dump_layer` (``.geojson`` is RFC 7946), the
        summary is JSON.

        Parameters
        ----------
        bays, zones, kerbs
            The layers' files: a path, or ``PATH:LAYER`` (or a :class:`parkplan.io.paths.LayerPath`) for a
            layer of a GeoPackage (default layer name: the file's stem). A GeoPackage keeps its other
            layers; the other formats hold one layer and are replaced whole. ``None``: not written.
        summary
            The summary's JSON file; ``None``: not written.
        png
            The PNG overview's file (:meth:`to_png`); ``None``: not written.
        overwrite
            Replace a GeoPackage layer of the same name (otherwise an :class:`~parkplan.errors.OutputError`).
        workers
            Processes writing GeoJSON (default: all CPUs; the same bytes for any number).
        client
            A ``dask.distributed.Client`` to write them on instead.
        map, lang, tiles, attribution
            The review map's HTML file (:meth:`to_html`), its first language, base-map tiles and their
            attribution.

        Returns
        -------
        Summary
            The summary as written (whether or not to a file): this plan's, with the seconds the
            writing took (``timings_s.write``) and what the writer repaired or left out in each layer
            (``written``). The plan's own summary does not change.

        Raises
        ------
        parkplan.errors.ArgumentError
            If an argument is not a path or ``overwrite`` not a bool (the message names it).
        parkplan.errors.OutputError
            If an output is unusable, is one of the plan's input files or another output, a GeoPackage
            layer exists without ``overwrite``, or a file cannot be written.
        """
        plan = self._output_plan(
            bays=bays, zones=zones, kerbs=kerbs, summary=summary, png=png, map=map, overwrite=overwrite
        )
        page = None
        if map is not None:  # made before any file is moved into place
            from parkplan.review.html import plan_html

            page = plan_html(self, lang=lang, tiles=tiles, attribution=attribution)
        frames: dict[str, Callable[[], gpd.GeoDataFrame]] = {
            "bays": lambda: self.bays,
            "zones": lambda: self.zones,
            "kerbs": lambda: self.kerbs,
        }
        with plan.writing() as temps:
            t0 = time.perf_counter()
            written: dict[str, WrittenReport] = {}
            # A layer is only touched when asked for: the zones are built on first use (counted as writing).
            with parallel.using(client):
                for target, tmp in zip(plan.targets, temps, strict=True):
                    if target.document:
                        continue
                    report = output.dump_layer(
                        frames[target.what](), tmp, target.path, workers, layer=target.layer
                    )
                    written[target.what] = WrittenReport(
                        features=report.written, repaired=len(report.repaired), left_out=len(report.dropped)
                    )
            # What the output grid made the writer repair or leave out, per layer (logged by name too).
            as_written = self.summary.after_writing(round(time.perf_counter() - t0, 4), written)
            for target, tmp in zip(plan.targets, temps, strict=True):
                if target.what == "png":
                    from parkplan.review.png import write_png

                    write_png(tmp, self.bays, self.zones, self.kerbs, self.summary, self.rules)
                elif target.what == "summary":
                    output.dump_json(as_written.to_json(), tmp)
                elif target.what == "map" and page is not None:
                    Path(tmp).write_text(page, encoding="utf-8")
        return as_written

    def _output_plan(self, *, overwrite: bool, **paths: Any) -> OutputPlan:
        """Check :meth:`write`'s arguments and make its output plan (layers first, the summary last)."""
        for name, value in paths.items():
            if value is not None:
                check_path(value, name, "Plan.write")
        for name in ("summary", "png", "map"):
            if isinstance(paths[name], LayerPath):
                raise ArgumentError(
                    f"Plan.write: {name} must be a file path (a document has no layers), not {paths[name]}",
                    argument=name,
                )
        if not isinstance(overwrite, bool):
            raise ArgumentError(
                f"Plan.write: overwrite must be True or False, not {overwrite!r}", argument="overwrite"
            )
        targets = [
            layer_target(name, value)
            for name, value in paths.items()
            if value is not None and name not in ("summary", "png", "map")
        ]
        if paths["summary"] is not None:
            targets.append(document_target("summary", paths["summary"]))
        if paths["png"] is not None:
            from parkplan.review.png import png_target

            targets.append(png_target(paths["png"]))
        if paths.get("map") is not None:
            targets.append(document_target("map", paths["map"]))
        return OutputPlan(targets, self.inputs, overwrite=overwrite)


def _kerb_types(kerbs: gpd.GeoDataFrame, rules: Rules) -> tuple[np.ndarray, int]:
    """Which bay types each kerb may hold: those of its ``orientation`` where it has one.

    A kerb without one holds the rules' ``default_orientation`` where they have one, else every type.

    A kerb whose orientation no bay type of the rules has (that the optimiser places: accessible, loading and
    motorcycle types aside) keeps every type, and is counted.
    """
    orient = np.array([b.orientation for b in rules.bays], dtype=object)
    main = main_types(rules)
    given = kerbs["orientation"].to_numpy(dtype=object)
    mask = np.ones((len(kerbs), len(orient)), dtype=bool)
    unmatched = 0
    default = rules.default_orientation
    for i, o in enumerate(given):
        if o is None or o != o:
            if default is not None:
                mask[i] = orient == default
            continue
        match = orient == o
        if (match & main).any():
            mask[i] = match
        else:
            unmatched += 1
    return mask, unmatched


@parallel.without_gc
def plan(
    kerbs: PathOrFrame,
    hazards: Sequence[HazardSource | PathOrFrame] | PathOrFrame | None = None,
    rules: Rules | str | os.PathLike[str] | Mapping[str, Any] | None = None,
    *,
    time_limit_s: float | None = None,
    presolve: bool = True,
    extent: Any | None = None,
    corners: CornerSettings | None = None,
    room: bool = True,
    ways: PathOrFrame | None = None,
    strategy: Literal["optimal", "habit"] = "optimal",
    keep: PathOrFrame | None = None,
    progress: bool = False,
    workers: int | None = None,
    client: Any | None = None,
    crs: Any | None = None,
) -> Plan:
    """Plan the most bays the rules allow along the given kerbs.

    Parameters
    ----------
    kerbs
        Kerb lines or street-area polygons: a path to any vector file GeoPandas reads, or a GeoDataFrame.
        A file with several layers (a GeoPackage) needs the layer named: ``"project.gpkg:kerbs"`` or a
        :class:`parkplan.io.paths.LayerPath`; so do the other file inputs (hazards, ``keep``, ``ways``).
    hazards
        Hazard inputs: one path / GeoDataFrame, or a list of them (each feature with a ``kind``), or
        :class:`parkplan.io.read.HazardSource` items giving all features of an input one kind.
    rules
        A :class:`Rules`, a preset name, a TOML path or a parsed mapping; ``None`` means ``cn``.
    time_limit_s
        Limit on CP-SAT time (positive seconds; ``None``: none); the best layout found is returned with
        its status.
    presolve
        Settle stretches that nothing couples exactly without CP-SAT: the closed form for one bay type,
        a dynamic programme for several (:mod:`parkplan.optimize.presolve`). ``False``: everything via CP-SAT.
    extent
        Polygon (in the kerbs' CRS, or a GeoSeries with its own CRS) the kerb data was cut to; street-area
        boundary on its edge or outside it is not kerb.
    corners
        Corner detection settings for street-area polygons.
    ways
        Street centrelines (e.g. ``OsmData.ways`` of :func:`parkplan.from_osm`):
        each kerb takes the nearest way's id, width, one-way-ness and which side of it the kerb is on
        (:func:`parkplan.geometry.kerbs.attach_ways`), so street-area kerbs get what the cross-section rule
        needs.
    room
        Forbid kerb where the deepest bay would leave the carriageway or meet the bays of another kerb
        (:mod:`parkplan.geometry.carriageway`). ``False`` trusts the kerbs to have room everywhere.
    strategy
        ``"optimal"``: sides and depths chosen by the model (:mod:`parkplan.sides`). ``"habit"``: a
        baseline for comparisons, parallel bays on both sides where wide enough, else the right-hand kerb.
    keep
        Existing bays (polygons or lines, any CRS): reach the same optimal count with as many of them
        left in place as possible (:mod:`parkplan.keep`); the bays get a ``kept`` column.
    progress
        Show the running stage on standard error (:mod:`parkplan._progress`).
    workers
        Local processes or threads for the stages that split into independent chunks (hazard matching,
        the rays across the carriageway, the choice models, the bay polygons; :mod:`parkplan._parallel`).
        ``None``: all CPUs. A negative number counts back from the CPUs as joblib's ``n_jobs`` does:
        ``-1`` all, ``-2`` all but one, never fewer than one; ``0`` is refused. Small inputs run in this
        process. The plan is the same for any number.
    client
        A ``dask.distributed.Client``: those stages run as Dask tasks on its cluster instead (the ``dask``
        extra); the plan is the same.
    crs
        The working CRS (anything :meth:`pyproj.CRS.from_user_input` reads), projected and in metres.
        ``None``: the kerbs' own CRS when it is projected in metres, else the UTM zone of the kerbs, which
        must measure all of them to 0.2 % (:func:`parkplan.io.read.utm_crs`: data spread over several zones is
        refused).

    Returns
    -------
    Plan
        Bays, zones, per-kerb accounting and a summary.

    Raises
    ------
    parkplan.errors.ArgumentError
        Before any work, for an argument of the wrong type or value (``plan(None)``, a pandas DataFrame
        without geometry, ``workers="2"`` or ``0``, ``time_limit_s=-1``, ``presolve="no"``,
        ``strategy="fast"``, ``client`` not a Dask client...); the message names the argument.
    parkplan.errors.InputError
        For unusable kerbs or hazards, a file with several layers and none named, a ``crs`` that is not
        projected in metres, or kerbs in longitude / latitude spread over several UTM zones.
    parkplan.errors.RulesError
        For a bad rule set.
    """
    workers = check_plan_arguments(
        kerbs=kerbs, hazards=hazards, rules=rules, time_limit_s=time_limit_s, presolve=presolve,
        extent=extent, corners=corners, room=room, ways=ways, strategy=strategy, keep=keep,
        progress=progress, workers=workers, client=client,
    )  # fmt: skip
    working_crs = None if crs is None else metric_crs(crs)
    stages = Stages(Progress(progress))
    with stages.stage("reading", "read"):
        read = _read(kerbs, hazards, rules)
    with stages.stage("kerbs"):
        street = _kerbs(read, working_crs, extent, corners, ways, room)
    with stages.stage("hazards and clearances", "intervals") as bar, parallel.using(client):
        zoned = _zones(read, street, workers)
        chosen = _sides(street, zoned, read.rules, bar, room, presolve, time_limit_s, strategy, workers)
    stages.split("intervals", model_build=chosen.solution.build_s, solve=chosen.solution.solve_s)
    # Each kerb's losses to each kind of zone (numpy work, final once the zones are) are counted in a
    # thread beside the quotas and the layout, whose geometries are built by threads too.
    with (
        parallel.using(client),
        parallel.submit(
            lambda: accounting.zone_account(street.table, chosen.zones, chosen.stretches, read.rules),
            workers,
            rows=len(chosen.zones),
        ) as losses,
    ):
        with stages.stage("quotas"):
            filled = _quotas(street, chosen, read.rules)
        with stages.stage("layout"):
            laid = _place(street, chosen, filled, read.rules, keep, workers)
            kerbs_table = _account(street, laid, losses.result(), read.rules)
    summary = _report(read, street, zoned, chosen, filled, laid, stages.timings_s)
    for w in summary.warnings:
        log.warning(w)
    stages.done()
    curb_ids = street.table["curb_id"].to_numpy(dtype=object)
    zones = _ZoneLayer(chosen.zones, curb_ids, laid.index, street.crs, workers)
    inputs = _inputs(kerbs, read.sources, keep, ways, rules)
    return Plan(laid.bays, zones, kerbs_table, summary, street.crs, read.rules, inputs)


def hazard_sources(
    hazards: Sequence[HazardSource | PathOrFrame] | PathOrFrame | None,
) -> list[HazardSource | PathOrFrame]:
    """Return the hazard inputs of :func:`plan` as a list: none for ``None``, one input as a list of one."""
    if hazards is None:
        return []
    if isinstance(hazards, (str, os.PathLike, LayerPath, gpd.GeoDataFrame, HazardSource)):
        return [hazards]
    return list(hazards)


# --- the steps of plan(), in order --------------------------------------------------------------------


@dataclass
class _Read:
    """What the reading stage read.

    The kerb and hazard layers are handed on once (:meth:`take_kerbs`, :meth:`take_hazards`), so the
    large input layers are freed as soon as the stage that reprojects them is done.
    """

    rules: Rules
    sources: list[HazardSource | PathOrFrame]
    warnings: list[str]
    kerbs: gpd.GeoDataFrame | None
    hazards: list[gpd.GeoDataFrame]

    def take_kerbs(self) -> gpd.GeoDataFrame:
        """Hand the kerb layer on; it is no longer held here."""
        frame, self.kerbs = self.kerbs, None
        assert frame is not None, "the kerbs were handed on already"
        return frame

    def take_hazards(self) -> list[gpd.GeoDataFrame]:
        """Hand the hazard layers on; they are no longer held here."""
        frames, self.hazards = self.hazards, []
        return frames


def _read(
    kerbs: PathOrFrame,
    hazards: Sequence[HazardSource | PathOrFrame] | PathOrFrame | None,
    rules: Rules | str | os.PathLike[str] | Mapping[str, Any] | None,
) -> _Read:
    """Load the rules and read the kerb and hazard inputs (:mod:`parkplan.io.read`)."""
    rule_set = load_rules(rules)
    kerb_in, warnings = read_kerbs(kerbs)
    sources = hazard_sources(hazards)
    frames, more = read_hazards(sources)
    return _Read(rule_set, sources, [*warnings, *more], kerb_in, frames)


@dataclass(frozen=True)
class _Street:
    """The kerbs stage's result.

    Attributes
    ----------
    table
        The kerb table (:func:`parkplan.geometry.kerbs.build_kerbs`, with the ways' columns).
    crs
        The working CRS.
    input_features, drawn_m
        Features of the kerb input, and all their length as drawn (what the extent left out too).
    area
        Union of the street-area polygons for the room check (``None``: kerb lines, or ``room=False``).
    types, unmatched_orientation
        :func:`_kerb_types` of the kerbs.
    """

    table: gpd.GeoDataFrame
    crs: CRS
    input_features: int
    drawn_m: float
    area: object | None
    types: np.ndarray
    unmatched_orientation: int


def _kerbs(
    read: _Read,
    working_crs: CRS | None,
    extent: Any | None,
    corners: CornerSettings | None,
    ways: PathOrFrame | None,
    room: bool,
) -> _Street:
    """Reproject the kerb input, cut it to the extent and build the kerb table (the ways lend columns)."""
    kerb_in = read.take_kerbs()
    kerb_m, crs = to_metric(kerb_in, working_crs)
    if extent is not None:
        series = extent if isinstance(extent, gpd.GeoSeries) else gpd.GeoSeries([extent], crs=kerb_in.crs)
        extent = shapely.union_all(np.asarray(series.to_crs(crs).values, dtype=object))
    table = build_kerbs(kerb_m, read.rules, corners=corners, extent=extent)
    if ways is not None:
        way_frame = read_vector(ways, what="ways")
        table = attach_ways(table, to_metric(way_frame, crs)[0], read.rules)
    # Everything drawn as kerb in the input, so what the extent left out is accounted for.
    geoms = np.asarray(kerb_m.geometry.values, dtype=object)
    is_line = np.isin(shapely.get_type_id(geoms), (1, 5))
    drawn_m = float(np.where(is_line, shapely.length(geoms), shapely.length(shapely.boundary(geoms))).sum())
    area = shapely.union_all(geoms[~is_line]) if room and (~is_line).any() else None
    types, unmatched = _kerb_types(table, read.rules)
    return _Street(table, crs, len(kerb_m), drawn_m, area, types, unmatched)


@dataclass(frozen=True)
class _Zoned:
    """The hazards' zones on the kerbs, the ``hazards`` block and the warning about hazards without zone."""

    zones: pd.DataFrame
    hazards: HazardReport
    warnings: tuple[str, ...]


def _zones(read: _Read, street: _Street, workers: int | None) -> _Zoned:
    """Match the hazards to the kerbs and make their zones of forbidden chainage (:mod:`parkplan.hazards`)."""
    rules, crs = read.rules, street.crs
    frames = read.take_hazards()
    if frames:
        haz = pd.concat([to_metric(f, crs)[0] for f in frames], ignore_index=True)
        haz = gpd.GeoDataFrame(haz, geometry="geometry", crs=crs)
        frames.clear()
    else:
        haz = gpd.GeoDataFrame(
            {"kind": [], "hazard_id": [], "width_m": [], "source": [], "feature": [], "match": []},
            geometry=[],
            crs=crs,
        )
    haz = applicable_hazards(haz, rules)  # road-class lines only for the classes the rules forbid
    kinds_in = haz["kind"].astype(str)
    haz["kind"] = kinds_in.map({k: rules.canonical_kind(k) for k in pd.unique(kinds_in)}).to_numpy(
        dtype=object
    )
    # A MultiPoint is several hazards under one id: each part finds its own kerbs.
    if (shapely.get_type_id(np.asarray(haz.geometry.values, dtype=object)) == 4).any():
        haz = haz.explode(index_parts=False).reset_index(drop=True)
    matches = match_hazards(haz, street.table, rules, workers)
    zones = zones_from_matches(matches, haz, street.table, rules, workers)
    without_zone = zones.attrs.get("hazards_without_zone", np.zeros(0, dtype=np.int64))
    matched = (
        matches.table["hazard"].to_numpy(dtype=np.int64) if len(matches.table) else np.zeros(0, np.int64)
    )
    report = accounting.hazard_report(haz, matched, without_zone)
    warnings = (accounting.without_zone_warning(haz, without_zone),) if len(without_zone) else ()
    return _Zoned(zones, report, warnings)


def _sides(
    street: _Street,
    zoned: _Zoned,
    rules: Rules,
    bar: Progress,
    room: bool,
    presolve: bool,
    time_limit_s: float | None,
    strategy: str,
    workers: int | None,
) -> Decision:
    """Choose every kerb's side and depth and solve its free stretches (:func:`parkplan.sides.decide`)."""
    decision = decide(
        street.table,
        zoned.zones,
        # Accessible and motorcycle bays are placed by the quotas after the main choice, not by it.
        street.types & main_types(rules)[None, :],
        rules,
        street_area=street.area,
        room=room,
        presolve=presolve,
        time_limit_s=time_limit_s,
        demand_weight=street.table["demand_weight"].to_numpy(dtype=float),
        strategy=strategy,
        progress=bar,
        workers=workers,
    )
    # A zero-length zone cut a stretch in two (a change of depth): it forbids no kerb and is no zone.
    zones = decision.zones
    zones = zones[(zones["end_m"] > zones["start_m"]).to_numpy()].reset_index(drop=True)
    return dataclasses.replace(decision, zones=zones)


@dataclass(frozen=True)
class _Filled:
    """The bays per stretch after the quotas and the motorcycle fragments (:mod:`parkplan.quotas`)."""

    blocks: pd.DataFrame
    fragments: int
    quotas: Mapping[str, object]


def _quotas(street: _Street, chosen: Decision, rules: Rules) -> _Filled:
    """Put in the accessible and loading bays the quotas ask for, and motorcycle bays in the fragments."""
    loading = street.table["loading_demand"].to_numpy(dtype=float)
    quota = apply_quotas(chosen.solution.blocks, chosen.stretches, chosen.zones, rules, loading)
    blocks, fragments = fill_fragments(quota.blocks, chosen.stretches, rules, street.types)
    return _Filled(blocks, fragments, quota.summary)


@dataclass(frozen=True)
class _Laid:
    """The bays placed: their rows along the kerbs, their table, the kerb index and the ``keep`` block."""

    placed: pd.DataFrame
    bays: gpd.GeoDataFrame
    index: KerbIndex
    keep: KeepReport | None


def _place(
    street: _Street,
    chosen: Decision,
    filled: _Filled,
    rules: Rules,
    keep: PathOrFrame | None,
    workers: int | None,
) -> _Laid:
    """Place the bays along the kerbs (as many existing bays kept as the optimum allows) and draw them."""
    table = street.table
    backward = table["flow"].to_numpy(dtype=object) == "backward"
    placed = place_bays(filled.blocks, chosen.stretches, rules, backward)
    kept, report = None, None
    if keep is not None:
        existing = to_metric(read_vector(keep, what="existing bays"), street.crs)[0]
        result = keep_layout(placed, chosen.stretches, existing_spans(existing, table), rules)
        placed, kept = result.placed, result.kept
        report = KeepReport(len(existing), **cast("dict[str, int]", result.summary))
    index = KerbIndex(np.asarray(table.geometry.values, dtype=object))
    polys = bay_polygons(placed, table, rules, index, workers=workers)
    bays = gpd.GeoDataFrame(_bay_columns(placed, table, rules), geometry=polys, crs=street.crs)
    if kept is not None:
        bays["kept"] = kept
    return _Laid(placed, bays, index, report)


def _account(street: _Street, laid: _Laid, zone_account: pd.DataFrame, rules: Rules) -> gpd.GeoDataFrame:
    """Build the kerbs table: where each metre of each kerb went (:mod:`parkplan.accounting`)."""
    return accounting.kerbs_table(street.table, accounting.kerb_account(zone_account, laid.placed, rules))


def _report(
    read: _Read,
    street: _Street,
    zoned: _Zoned,
    chosen: Decision,
    filled: _Filled,
    laid: _Laid,
    timings_s: Mapping[str, float],
) -> Summary:
    """Put the plan's summary together (:func:`parkplan.accounting.summarize`)."""
    return accounting.summarize(
        rules=read.rules,
        crs=street.crs,
        kerbs=street.table,
        input_features=street.input_features,
        drawn_m=street.drawn_m,
        orientation_without_bay_type=street.unmatched_orientation,
        zones=chosen.zones,
        stretches=chosen.stretches,
        bays=laid.bays,
        solution=chosen.solution,
        hazards=zoned.hazards,
        cross_section=chosen.summary,
        warnings=[*read.warnings, *zoned.warnings],
        timings_s=timings_s,
        fragments=filled.fragments,
        keep=laid.keep,
        quotas=filled.quotas,
    )


def _inputs(
    kerbs: PathOrFrame,
    sources: list[HazardSource | PathOrFrame],
    keep: PathOrFrame | None,
    ways: PathOrFrame | None,
    rules: Rules | str | os.PathLike[str] | Mapping[str, Any] | None,
) -> tuple[InputFile, ...]:
    """List the files a plan was read from (:attr:`Plan.inputs`)."""
    named = [
        ("the kerbs", kerbs),
        *(("a hazards file", h) for h in sources),
        ("the keep bays", keep),
        ("the ways", ways),
    ]
    return (*input_files(named), *rules_inputs(rules))


def _bay_ids(curb_ids: np.ndarray, kerb: np.ndarray, ordinal: np.ndarray) -> list[str]:
    """``"<curb_id>#<ordinal>"`` for each bay: each kerb's prefix and each ordinal's text made once."""
    prefix = np.array([f"{c}#" for c in curb_ids.tolist()], dtype=object)
    number = np.array([str(i) for i in range(int(ordinal.max(initial=0)) + 1)], dtype=object)
    return list(map(operator.add, prefix[kerb].tolist(), number[ordinal].tolist()))


def _bay_columns(placed: pd.DataFrame, kerbs: gpd.GeoDataFrame, rules: Rules) -> pd.DataFrame:
    """Build the bays' table without its geometry (see :class:`Plan`)."""
    k = placed["kerb"].to_numpy(dtype=np.int64)
    t = placed["type"].to_numpy(dtype=np.int64)
    curb_ids = kerbs["curb_id"].to_numpy(dtype=object)
    curb = curb_ids[k]
    n = len(k)
    # Ordinal of each bay along its kerb (placed is sorted by stretch, i.e. by kerb and chainage).
    first = np.ones(len(k), dtype=bool)
    first[1:] = k[1:] != k[:-1]
    start_idx = np.maximum.accumulate(np.where(first, np.arange(len(k)), 0))
    ordinal = np.arange(len(k)) - start_idx
    names = np.array([b.name for b in rules.bays], dtype=object)
    orient = np.array([b.orientation for b in rules.bays], dtype=object)
    length = np.array([b.length_m for b in rules.bays])
    width = np.array([b.width_m for b in rules.bays])
    return pd.DataFrame(
        {
            "bay_id": text_column(_bay_ids(curb_ids, k, ordinal), n),
            "curb_id": text_column(curb, n),
            "source_id": text_column(kerbs["source_id"].to_numpy(dtype=object)[k], n),
            "street_id": text_column(kerbs["street_id"].to_numpy(dtype=object)[k], n),
            "bay_type": text_column(names[t], n),
            "orientation": text_column(orient[t], n),
            # Parallel bays: the kerb length they take (end-of-run bays may differ from length_m).
            "length_m": np.where(
                (orient == "parallel")[t],
                np.round(placed["end_m"].to_numpy(dtype=float) - placed["start_m"].to_numpy(dtype=float), 3),
                length[t],
            ),
            "width_m": width[t],
            "start_m": np.round(placed["start_m"].to_numpy(dtype=float), 3),
            "end_m": np.round(placed["end_m"].to_numpy(dtype=float), 3),
        },
    )


@dataclass
class _ZoneLayer:
    """What the zones' table is built from, when it is first asked for (:attr:`Plan.zones`).

    The table is built once: the plans made from one plan (:meth:`Plan.keeping`...) share their builder.
    """

    zones: pd.DataFrame
    curb_ids: np.ndarray
    index: KerbIndex
    crs: CRS
    workers: int | None
    table: gpd.GeoDataFrame | None = field(default=None, init=False, repr=False)

    def __call__(self) -> gpd.GeoDataFrame:
        if self.table is None:
            with parallel.paused_gc():
                z = self.zones
                lines = kerb_lines(
                    self.index,
                    z["kerb"].to_numpy(dtype=np.int64),
                    z["start_m"].to_numpy(dtype=float),
                    z["end_m"].to_numpy(dtype=float),
                    self.workers,
                )
                self.table = _zones_table(z, self.curb_ids, lines, self.crs)
        return self.table


def _zones_table(zones: pd.DataFrame, curb_ids: np.ndarray, lines: np.ndarray, crs: CRS) -> gpd.GeoDataFrame:
    k = zones["kerb"].to_numpy(dtype=np.int64)
    return gpd.GeoDataFrame(
        {
            "curb_id": text_column(curb_ids[k], len(k)),
            "kind": text_column(zones["kind"].to_numpy(dtype=object), len(k)),
            "hazard_id": text_column(zones["hazard_id"].to_numpy(dtype=object), len(k)),
            "rule": text_column(zones["rule"].to_numpy(dtype=object), len(k)),
            "start_m": np.round(zones["start_m"].to_numpy(dtype=float), 3),
            "end_m": np.round(zones["end_m"].to_numpy(dtype=float), 3),
            "hazard_start_m": np.round(zones["hazard_start_m"].to_numpy(dtype=float), 3),
            "hazard_end_m": np.round(zones["hazard_end_m"].to_numpy(dtype=float), 3),
        },
        geometry=lines,
        crs=crs,
    )
