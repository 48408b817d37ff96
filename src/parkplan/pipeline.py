"""The whole job: inputs -> kerbs -> forbidden intervals -> model -> layout -> result tables."""

from __future__ import annotations

import logging
import operator
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from parkplan import _parallel as parallel
from parkplan._progress import Progress
from parkplan.arguments import check_crs_frame, check_mask, check_path, check_plan_arguments, check_text
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
from parkplan.optimize.solve import to_mm
from parkplan.quotas import apply_quotas, fill_fragments, main_types
from parkplan.rules.loading import Rules, load_rules
from parkplan.sides import decide

__all__ = ["Plan", "plan"]

log = logging.getLogger("parkplan")


@dataclass
class Plan:
    """The result of :func:`plan`.

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
        Counts by bay type, solver status, objective, bound, gap, hazards matched and unmatched,
        warnings and timings per stage.
    crs
        The metric working CRS the plan was computed in. The tables are in this CRS.
    inputs
        The files the plan was read from (kerbs, hazards, ``keep``, ``ways``, the rules file and every
        file it extends; in-memory inputs have none): :meth:`write` never writes over them.
    """

    bays: gpd.GeoDataFrame
    _zones: gpd.GeoDataFrame | Callable[[], gpd.GeoDataFrame] = field(repr=False)
    kerbs: gpd.GeoDataFrame
    summary: dict[str, Any]
    crs: CRS
    rules: Rules = field(repr=False)
    inputs: tuple[InputFile, ...] = field(default=(), repr=False)

    @property
    def zones(self) -> gpd.GeoDataFrame:
        """The forbidden stretches (see the class' attributes), built the first time they are asked for."""
        if callable(self._zones):
            self._zones = self._zones()
        return self._zones

    def add_separate(self, bays: gpd.GeoDataFrame) -> None:
        """Add bays mapped separately (e.g. :func:`parkplan.osm.streets.separate_bays`) to ``bays``.

        They keep their own ids and get ``source = "separate"``; the planned kerb bays get ``source =
        "kerb"``. The summary counts them apart (``bays.separate``) and in ``bays.total``. The kerb beside
        separately mapped parking must already be kept free (``from_osm`` in existing mode does this), so
        nothing is counted twice.

        Raises
        ------
        parkplan.errors.ArgumentError
            If ``bays`` is not a GeoDataFrame with a CRS.
        """
        check_crs_frame(bays, "bays", "Plan.add_separate")
        if "source" not in self.bays.columns:
            self.bays["source"] = "kerb"
        extra = bays.to_crs(self.bays.crs).assign(source="separate")
        merged = pd.concat([self.bays, extra], ignore_index=True)
        self.bays = gpd.GeoDataFrame(merged, geometry="geometry", crs=self.bays.crs)
        self.summary["bays"]["separate"] = len(extra)
        self.summary["bays"]["total"] = len(self.bays)

    def keep_bays(self, keep: pd.Series | np.ndarray, reason: str = "removed") -> int:
        """Keep only the bays ``keep`` marks (e.g. after :func:`parkplan.osm.streets.enforce_capacity`).

        Removing bays never breaks a rule. The kerbs table moves the kerb length of each removed kerb bay
        from ``bay_m`` to ``leftover_m`` and lowers ``bays``; the summary's counts are redone and
        ``bays.<reason>`` says how many went. Returns that number.

        Raises
        ------
        parkplan.errors.ArgumentError
            If ``keep`` is not one boolean per bay, or ``reason`` not a non-empty string.
        """
        check_mask(keep, len(self.bays), "keep", "Plan.keep_bays")
        check_text(reason, "reason", "Plan.keep_bays")
        mask = np.asarray(keep, dtype=bool)
        gone = self.bays[~mask]
        if "source" in gone.columns:
            gone = gone[gone["source"].fillna("kerb") == "kerb"]
        if len(gone):
            per = (
                gone.assign(len_m=gone["end_m"] - gone["start_m"])
                .groupby("curb_id")
                .agg(n=("bay_id", "size"), m=("len_m", "sum"))
            )
            row = self.kerbs["curb_id"].map(per["n"]).fillna(0).to_numpy()
            metres = self.kerbs["curb_id"].map(per["m"]).fillna(0.0).to_numpy()
            self.kerbs["bays"] = self.kerbs["bays"].to_numpy() - row.astype(np.int64)
            self.kerbs["bay_m"] = np.round(self.kerbs["bay_m"].to_numpy() - metres, 3)
            self.kerbs["leftover_m"] = np.round(self.kerbs["leftover_m"].to_numpy() + metres, 3)
        removed = int((~mask).sum())
        self.bays = self.bays[mask].reset_index(drop=True)
        counts = self.summary["bays"]
        counts["total"] = len(self.bays)
        counts["by_type"] = {b.name: int((self.bays["bay_type"] == b.name).sum()) for b in self.rules.bays}
        counts["by_orientation"] = {
            o: int((self.bays["orientation"] == o).sum())
            for o in sorted({b.orientation for b in self.rules.bays})
        }
        counts[reason] = counts.get(reason, 0) + removed
        return removed

    def to_geojson(self, path: str | os.PathLike[str] | LayerPath, *, overwrite: bool = False) -> Path:
        """Write the bays (RFC 7946 GeoJSON, or the format the extension names) atomically; see :meth:`write`.

        Returns the path written.
        """
        check_path(path, "path", "Plan.to_geojson")
        self.write(path, overwrite=overwrite)
        return LayerPath.parse(path).path

    @parallel.without_gc
    def write(
        self,
        bays: str | os.PathLike[str] | LayerPath | None = None,
        *,
        zones: str | os.PathLike[str] | LayerPath | None = None,
        kerbs: str | os.PathLike[str] | LayerPath | None = None,
        summary: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        workers: int | None = None,
        client: Any | None = None,
    ) -> None:
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
        overwrite
            Replace a GeoPackage layer of the same name (otherwise an :class:`~parkplan.errors.OutputError`).
        workers
            Processes writing GeoJSON (default: all CPUs; the same bytes for any number).
        client
            A ``dask.distributed.Client`` to write them on instead.

        Raises
        ------
        parkplan.errors.ArgumentError
            If an argument is not a path or ``overwrite`` not a bool (the message names it).
        parkplan.errors.OutputError
            If an output is unusable, is one of the plan's input files or another output, a GeoPackage
            layer exists without ``overwrite``, or a file cannot be written.
        """
        plan = self._output_plan(bays=bays, zones=zones, kerbs=kerbs, summary=summary, overwrite=overwrite)
        frames: dict[str, Callable[[], gpd.GeoDataFrame]] = {
            "bays": lambda: self.bays,
            "zones": lambda: self.zones,
            "kerbs": lambda: self.kerbs,
        }
        with plan.writing() as temps:
            t0 = time.perf_counter()
            written: dict[str, dict[str, int]] = {}
            # A layer is only touched when asked for: the zones are built on first use (counted as writing).
            with parallel.using(client):
                for target, tmp in zip(plan.targets, temps, strict=True):
                    if target.document:
                        continue
                    report = output.dump_layer(
                        frames[target.what](), tmp, target.path, workers, layer=target.layer
                    )
                    written[target.what] = {
                        "features": report.written,
                        "repaired": len(report.repaired),
                        "left_out": len(report.dropped),
                    }
            self.summary["timings_s"]["write"] = round(time.perf_counter() - t0, 4)
            # What the output grid made the writer repair or leave out, per layer (logged by name too).
            self.summary["written"] = written
            for target, tmp in zip(plan.targets, temps, strict=True):
                if target.document:
                    output.dump_json(self.summary, tmp)

    def _output_plan(self, *, overwrite: bool, **paths: Any) -> OutputPlan:
        """Check :meth:`write`'s arguments and make its output plan (layers first, the summary last)."""
        for name, value in paths.items():
            if value is not None:
                check_path(value, name, "Plan.write")
        if isinstance(paths["summary"], LayerPath):
            raise ArgumentError(
                "Plan.write: summary must be a file path (a JSON document has no layers), "
                f"not {paths['summary']}",
                argument="summary",
            )
        if not isinstance(overwrite, bool):
            raise ArgumentError(
                f"Plan.write: overwrite must be True or False, not {overwrite!r}", argument="overwrite"
            )
        targets = [
            layer_target(name, value)
            for name, value in paths.items()
            if value is not None and name != "summary"
        ]
        if paths["summary"] is not None:
            targets.append(document_target("summary", paths["summary"]))
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


def _subtractive(stretches: pd.DataFrame, rules: Rules) -> dict[str, Any]:
    """Count the subtractive method's bays: each free stretch of the plan over the first bay's length."""
    first = next((b for b in rules.bays if b.role == "standard"), rules.bays[0])
    free = to_mm(stretches["length_m"].to_numpy(dtype=float))
    pitch = int(np.ceil(first.pitch_m * 1000.0 - 1e-6))
    return {
        "subtractive_bays": int((free // pitch).sum()),
        "bay_type": first.name,
        "pitch_m": first.pitch_m,
        "method": "each free stretch of this plan divided by the bay's kerb length, no grouping",
    }


def _kind_rank(rules: Rules) -> dict[str, int]:
    return {k: i for i, k in enumerate(rules.kinds)}


def _lost_by_kind(zones: pd.DataFrame, n_kerbs: int, rules: Rules) -> pd.DataFrame:
    """Metres of each kerb lost to each kind of hazard; overlaps go to one reason only.

    Where zones overlap, a hazard's own extent wins over a clearance, then kinds in the order of
    ``parkplan/rules/kinds.toml`` (rules' own kinds after them). The kerb is cut at every zone end into
    elementary pieces; each piece goes to the winning zone that covers it.
    """
    if len(zones) == 0:
        return pd.DataFrame(index=pd.RangeIndex(n_kerbs))
    rank = _kind_rank(rules)
    codes, uniq = pd.factorize(zones["kind"], sort=False)
    kinds = sorted(uniq, key=lambda k: rank.get(k, len(rank)))
    kind_code = {k: i for i, k in enumerate(kinds)}
    code = np.array([kind_code[k] for k in uniq], dtype=np.int64)[codes]
    kerb = zones["kerb"].to_numpy(dtype=np.int64)
    start = zones["start_m"].to_numpy(dtype=float)
    end = zones["end_m"].to_numpy(dtype=float)
    # A zone that overlaps no other zone of its kerb loses its whole length to its own kind (most zones;
    # found in one pass when the zones are in kerb and start order, as the plan keeps them).
    alone = np.zeros(len(zones), dtype=bool)
    if len(zones) > 1:
        nxt = (kerb[1:] > kerb[:-1]) | ((kerb[1:] == kerb[:-1]) & (start[1:] >= start[:-1]))
        if nxt.all():
            offset = (kerb - kerb.min()).astype(float) * (float(end.max() - start.min()) + 1.0) * 4.0
            run_end = np.maximum.accumulate(end + offset) - offset  # furthest end so far on the kerb
            clear_before = np.ones(len(zones), dtype=bool)
            clear_before[1:] = (kerb[1:] != kerb[:-1]) | (start[1:] >= run_end[:-1])
            clear_after = np.ones(len(zones), dtype=bool)
            clear_after[:-1] = clear_before[1:]
            alone = clear_before & clear_after
    n_kinds = len(kinds)
    # Metres per (kerb, kind) cell, summed in one pass at the end (the lone zones first, then the pieces).
    cells = [kerb[alone] * n_kinds + code[alone]]
    metres = [end[alone] - start[alone]]
    rest = ~alone
    # Sub-intervals: own extent (priority = kind) and the whole zone (priority = kind + kinds); lower wins.
    sk = np.concatenate([kerb[rest], kerb[rest]])
    s0 = np.concatenate([zones["hazard_start_m"].to_numpy(dtype=float)[rest], start[rest]])
    s1 = np.concatenate([zones["hazard_end_m"].to_numpy(dtype=float)[rest], end[rest]])
    prio = np.concatenate([code[rest], code[rest] + n_kinds])
    ok = s1 > s0
    sk, s0, s1, prio = sk[ok], s0[ok], s1[ok], prio[ok]
    if len(sk):
        # Elementary pieces: between consecutive distinct cut points of a kerb (keys kerb * stride + x,
        # the same arithmetic for both ends, so equal cut points give equal keys; each kerb's keys lie
        # apart from the next kerb's). One sort numbers the cuts; piece i runs from cut i to cut i + 1.
        stride = float(max(s1.max(), 0.0)) + 1.0
        keys = np.concatenate([sk * stride + s0, sk * stride + s1])
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        new = np.ones(len(keys), dtype=bool)
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
        cut_of = np.empty(len(keys), dtype=np.int64)
        cut_of[order] = np.cumsum(new) - 1
        cuts = ordered[new]
        cut_kerb = np.concatenate([sk, sk])[order][new]
        first, stop = cut_of[: len(sk)], cut_of[len(sk) :]  # pieces first .. stop - 1
        n_pieces = stop - first
        # Every (interval, piece) pair, in 32-bit integers where they fit (a city has tens of millions).
        small = np.int32 if int(n_pieces.sum()) < 2**31 and len(cuts) < 2**31 else np.int64
        owner = np.repeat(np.arange(len(sk), dtype=small), n_pieces)
        piece = np.arange(len(owner), dtype=small) - np.repeat(
            (np.cumsum(n_pieces) - n_pieces - first).astype(small), n_pieces
        )
        none = np.iinfo(np.int16).max
        best = np.full(len(cuts), none, dtype=np.int16)
        np.minimum.at(best, piece, prio.astype(np.int16)[owner])
        covered = np.flatnonzero(best != none)
        cells.append(cut_kerb[covered] * n_kinds + best[covered].astype(np.int64) % n_kinds)
        metres.append(cuts[covered + 1] - cuts[covered])
    total = np.bincount(np.concatenate(cells), weights=np.concatenate(metres), minlength=n_kerbs * n_kinds)
    out = total.reshape(n_kerbs, n_kinds)
    return pd.DataFrame(out, columns=[f"lost_{k}_m" for k in kinds])


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
        Street centrelines (e.g. the third frame of :func:`parkplan.from_osm` with ``return_ways=True``):
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
    timings: dict[str, float] = {}
    bar = Progress(progress)
    bar.stage("reading")
    t0 = time.perf_counter()
    rule_set = load_rules(rules)
    kerb_in, warnings = read_kerbs(kerbs)
    if hazards is None:
        sources: list[HazardSource | PathOrFrame] = []
    elif isinstance(hazards, (str, os.PathLike, LayerPath, gpd.GeoDataFrame, HazardSource)):
        sources = [hazards]
    else:
        sources = list(hazards)
    hazard_frames, warn = read_hazards(sources)
    warnings += warn
    timings["read"] = time.perf_counter() - t0

    bar.stage("kerbs")
    t = time.perf_counter()
    input_crs = kerb_in.crs
    kerb_m, crs = to_metric(kerb_in, working_crs)
    if extent is not None:
        series = extent if isinstance(extent, gpd.GeoSeries) else gpd.GeoSeries([extent], crs=input_crs)
        extent = shapely.union_all(np.asarray(series.to_crs(crs).values, dtype=object))
    kerb_table = build_kerbs(kerb_m, rule_set, corners=corners, extent=extent)
    if ways is not None:
        way_frame = read_vector(ways, what="ways")
        kerb_table = attach_ways(kerb_table, to_metric(way_frame, crs)[0], rule_set)
    # Everything drawn as kerb in the input, so what the extent left out is accounted for.
    geoms = np.asarray(kerb_m.geometry.values, dtype=object)
    is_line = np.isin(shapely.get_type_id(geoms), (1, 5))
    drawn_m = float(np.where(is_line, shapely.length(geoms), shapely.length(shapely.boundary(geoms))).sum())
    timings["kerbs"] = time.perf_counter() - t

    bar.stage("hazards and clearances")
    t = time.perf_counter()
    n_input = len(kerb_m)
    del kerb_in, kerb_m  # large layers: keep memory for the later stages
    if hazard_frames:
        haz = pd.concat([to_metric(f, crs)[0] for f in hazard_frames], ignore_index=True)
        haz = gpd.GeoDataFrame(haz, geometry="geometry", crs=crs)
        hazard_frames.clear()
    else:
        haz = gpd.GeoDataFrame(
            {"kind": [], "hazard_id": [], "width_m": [], "source": [], "feature": [], "match": []},
            geometry=[],
            crs=crs,
        )
    haz = applicable_hazards(haz, rule_set)  # road-class lines only for the classes the rules forbid
    kinds_in = haz["kind"].astype(str)
    haz["kind"] = kinds_in.map({k: rule_set.canonical_kind(k) for k in pd.unique(kinds_in)}).to_numpy(
        dtype=object
    )
    # A MultiPoint is several hazards under one id: each part finds its own kerbs.
    if (shapely.get_type_id(np.asarray(haz.geometry.values, dtype=object)) == 4).any():
        haz = haz.explode(index_parts=False).reset_index(drop=True)
    with parallel.using(client):
        matches = match_hazards(haz, kerb_table, rule_set, workers)
        zones = zones_from_matches(matches, haz, kerb_table, rule_set, workers)
    all_types, unmatched_orientation = _kerb_types(kerb_table, rule_set)
    # Accessible and motorcycle bays are placed by the quotas after the main choice, not by it.
    kerb_types = all_types & main_types(rule_set)[None, :]
    without_zone = zones.attrs.get("hazards_without_zone", np.zeros(0, dtype=np.int64))
    hazard_summary = _hazard_summary(haz, matches, without_zone)
    if len(without_zone):
        warnings.append(_without_zone_warning(haz, without_zone))
    del matches, haz
    area = shapely.union_all(geoms[~is_line]) if room and (~is_line).any() else None
    del geoms
    with parallel.using(client):
        decision = decide(
            kerb_table,
            zones,
            kerb_types,
            rule_set,
            street_area=area,
            room=room,
            presolve=presolve,
            time_limit_s=time_limit_s,
            demand_weight=kerb_table["demand_weight"].to_numpy(dtype=float),
            strategy=strategy,
            progress=bar,
            workers=workers,
        )
    zones, stretches, solution = decision.zones, decision.stretches, decision.solution
    # A zero-length zone cut a stretch in two (a change of depth): it forbids no kerb and is no zone.
    zones = zones[(zones["end_m"] > zones["start_m"]).to_numpy()].reset_index(drop=True)
    timings["intervals"] = time.perf_counter() - t - solution.build_s - solution.solve_s
    timings["model_build"] = solution.build_s
    timings["solve"] = solution.solve_s

    # With several workers each kerb's losses to each kind of zone (numpy work, final once the zones
    # are) are counted in a thread beside the quotas and the layout, whose geometries are built by
    # threads too (GEOS and numpy work without Python's lock).
    with (
        parallel.using(client),
        parallel.submit(
            lambda: _zone_account(kerb_table, zones, stretches, rule_set),
            workers,
            rows=len(zones),
        ) as side,
    ):
        bar.stage("quotas")
        t = time.perf_counter()
        quota = apply_quotas(
            solution.blocks, stretches, zones, rule_set, kerb_table["loading_demand"].to_numpy(dtype=float)
        )
        blocks, fragments = fill_fragments(quota.blocks, stretches, rule_set, all_types)
        timings["quotas"] = time.perf_counter() - t

        bar.stage("layout")
        t = time.perf_counter()
        backward = kerb_table["flow"].to_numpy(dtype=object) == "backward"
        placed = place_bays(blocks, stretches, rule_set, backward)
        kept_summary: dict[str, Any] | None = None
        kept = None
        if keep is not None:
            existing = to_metric(read_vector(keep, what="existing bays"), crs)[0]
            kept_result = keep_layout(placed, stretches, existing_spans(existing, kerb_table), rule_set)
            placed, kept = kept_result.placed, kept_result.kept
            kept_summary = {"existing_features": len(existing), **kept_result.summary}
        index = KerbIndex(np.asarray(kerb_table.geometry.values, dtype=object))
        polys = bay_polygons(placed, kerb_table, rule_set, index, workers=workers)
        bays_gdf = gpd.GeoDataFrame(_bay_columns(placed, kerb_table, rule_set), geometry=polys, crs=crs)
        account = _kerb_account(side.result(), placed, rule_set)
    if kept is not None:
        bays_gdf["kept"] = kept
    kerbs_gdf = _kerbs_table(kerb_table, account)
    timings["layout"] = time.perf_counter() - t

    summary = _summary(
        rule_set, crs, kerb_table, hazard_summary, bays_gdf, solution, warnings, timings, zones
    )
    summary["kerbs"]["input_features"] = n_input
    if kerb_table["orientation"].notna().any():
        summary["kerbs"]["orientation_given"] = int(kerb_table["orientation"].notna().sum())
        summary["kerbs"]["orientation_without_bay_type"] = unmatched_orientation
    summary["cross_section"] = decision.summary
    summary["baseline"] = _subtractive(stretches, rule_set)
    if kept_summary is not None:
        summary["keep"] = kept_summary
    if quota.summary:
        summary["quotas"] = quota.summary
    if any(b.role == "motorcycle" for b in rule_set.bays):
        summary["bays"]["fragments"] = fragments
    summary["kerbs"]["drawn_m"] = round(drawn_m, 3)
    if "width_source" in kerb_table.columns:
        summary["kerbs"]["width_source"] = _width_sources(kerb_table)
    summary["kerbs"]["outside_extent_m"] = round(max(drawn_m - float(kerb_table["length_m"].sum()), 0.0), 3)
    for w in warnings:
        log.warning(w)
    bar.done()
    zone_layer = _ZoneLayer(zones, kerb_table["curb_id"].to_numpy(dtype=object), index, crs, workers)
    inputs = (
        *input_files(
            [
                ("the kerbs", kerbs),
                *(("a hazards file", h) for h in sources),
                ("the keep bays", keep),
                ("the ways", ways),
            ]
        ),
        *rules_inputs(rules),
    )
    return Plan(bays_gdf, zone_layer, kerbs_gdf, summary, crs, rule_set, inputs)


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
    """What the zones' table is built from, when it is first asked for (:attr:`Plan.zones`)."""

    zones: pd.DataFrame
    curb_ids: np.ndarray
    index: KerbIndex
    crs: CRS
    workers: int | None

    def __call__(self) -> gpd.GeoDataFrame:
        with parallel.paused_gc():
            z = self.zones
            lines = kerb_lines(
                self.index,
                z["kerb"].to_numpy(dtype=np.int64),
                z["start_m"].to_numpy(dtype=float),
                z["end_m"].to_numpy(dtype=float),
                self.workers,
            )
            return _zones_table(z, self.curb_ids, lines, self.crs)


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


def _zone_account(
    kerbs: gpd.GeoDataFrame, zones: pd.DataFrame, stretches: pd.DataFrame, rules: Rules
) -> pd.DataFrame:
    """Each kerb's length, free length and losses: ``length_m``, ``free_m``, ``lost_m``, ``lost_<kind>_m``."""
    lengths = kerbs["length_m"].to_numpy(dtype=float)
    free = np.zeros(len(kerbs))
    np.add.at(free, stretches["kerb"].to_numpy(dtype=np.int64), stretches["length_m"].to_numpy(dtype=float))
    account = pd.DataFrame({"length_m": lengths, "free_m": free, "lost_m": np.round(lengths - free, 3)})
    return pd.concat([account, _lost_by_kind(zones, len(kerbs), rules).round(3)], axis=1)


def _kerb_account(zone_account: pd.DataFrame, placed: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Each kerb's account: ``bays``, ``bay_m``, ``gap_m``, ``lost_m``, ``leftover_m``, ``lost_<kind>_m``.

    ``zone_account`` is :func:`_zone_account` of the same kerbs.
    """
    n = len(zone_account)
    free = zone_account["free_m"].to_numpy(dtype=float)
    bays = np.zeros(n, dtype=np.int64)
    bay_m = np.zeros(n)
    gap_m = np.zeros(n)
    if len(placed):
        k = placed["kerb"].to_numpy(dtype=np.int64)
        st = placed["stretch"].to_numpy(dtype=np.int64)
        run = placed["run"].to_numpy(dtype=np.int64)
        lo = np.minimum(placed["start_m"].to_numpy(dtype=float), placed["far_start_m"].to_numpy(dtype=float))
        hi = np.maximum(placed["end_m"].to_numpy(dtype=float), placed["far_end_m"].to_numpy(dtype=float))
        step = np.diff(st)
        if ((step < 0) | ((step == 0) & (np.diff(run) < 0))).any():
            order = np.lexsort((run, st))
            k, st, run, lo, hi = k[order], st[order], run[order], lo[order], hi[order]
        bays = np.bincount(k, minlength=n)
        # Each run (bays of one stretch and run number, now consecutive) spans its lowest to highest
        # chainage; each stretch's runs are apart by the grouping gap.
        new_run = np.ones(len(k), dtype=bool)
        new_run[1:] = (st[1:] != st[:-1]) | (run[1:] != run[:-1])
        first = np.flatnonzero(new_run)
        span = np.maximum.reduceat(hi, first) - np.minimum.reduceat(lo, first)
        bay_m = np.bincount(k[first], weights=span, minlength=n).astype(float, copy=False)
        run_st = st[first]
        new_st = np.ones(len(first), dtype=bool)
        new_st[1:] = run_st[1:] != run_st[:-1]
        st_first = np.flatnonzero(new_st)
        n_runs = np.diff(np.append(st_first, len(first)))
        gap = 0.0 if rules.grouping is None else rules.grouping.gap_m
        gap_m = np.bincount(k[first][st_first], weights=(n_runs - 1) * gap, minlength=n).astype(
            float, copy=False
        )
    leftover = np.maximum(free - bay_m - gap_m, 0.0)
    account = pd.DataFrame(
        {
            "length_m": np.round(zone_account["length_m"].to_numpy(dtype=float), 3),
            "bays": bays,
            "bay_m": np.round(bay_m, 3),
            "gap_m": np.round(gap_m, 3),
            "lost_m": zone_account["lost_m"].to_numpy(dtype=float),
            "leftover_m": np.round(leftover, 3),
        }
    )
    by_kind = zone_account.drop(columns=["length_m", "free_m", "lost_m"])
    return pd.concat([account, by_kind], axis=1)


def _kerbs_table(kerbs: gpd.GeoDataFrame, account: pd.DataFrame) -> gpd.GeoDataFrame:
    n = len(kerbs)
    table = pd.DataFrame(
        {
            "curb_id": text_column(kerbs["curb_id"].to_numpy(dtype=object), n),
            "input_index": kerbs["input_index"].to_numpy(dtype=np.int64),
            "source_id": text_column(kerbs["source_id"].to_numpy(dtype=object), n),
            "street_id": text_column(kerbs["street_id"].to_numpy(dtype=object), n),
            "carriageway": text_column(kerbs["carriageway"].to_numpy(dtype=object), n),
            "flow": text_column(kerbs["flow"].to_numpy(dtype=object), n),
            "width_m": kerbs["width_m"].to_numpy(dtype=float),
            "oneway": kerbs["oneway"].to_numpy(dtype=object),
        }
    )
    main = account[["length_m", "bays", "bay_m", "gap_m", "lost_m", "leftover_m"]]
    table = pd.concat([table, main], axis=1)
    for col in ("side", "name", "highway"):
        if col in kerbs.columns and kerbs[col].notna().any():
            table[col] = kerbs[col].to_numpy(dtype=object)
    table = pd.concat([table, account.drop(columns=main.columns)], axis=1)
    return gpd.GeoDataFrame(table, geometry=kerbs.geometry.values, crs=kerbs.crs)


def _hazard_summary(
    hazards: gpd.GeoDataFrame, matches: Any, without_zone: np.ndarray | None = None
) -> dict[str, Any]:
    """Count the hazards matched and unmatched, by kind, and list the unmatched features.

    ``without_zone``: rows of hazards matched to a kerb that forbid no kerb there (no width and no
    clearance in these rules); counted as ``matched_without_zone`` and listed.
    """
    matched = np.zeros(len(hazards), dtype=bool)
    if len(matches.table):
        matched[matches.table["hazard"].to_numpy(dtype=np.int64)] = True
    silent = np.zeros(len(hazards), dtype=bool)
    if without_zone is not None and len(without_zone):
        silent[np.asarray(without_zone, dtype=np.int64)] = True
    by_kind: dict[str, dict[str, int]] = {}
    frame = pd.DataFrame({"kind": hazards["kind"], "m": matched, "z": silent})
    for kind, grp in frame.groupby("kind", sort=True):
        by_kind[str(kind)] = {
            "total": len(grp),
            "matched": int(grp["m"].sum()),
            "unmatched": int((~grp["m"]).sum()),
        }
        if grp["z"].any():
            by_kind[str(kind)]["matched_without_zone"] = int(grp["z"].sum())
    return {
        "total": len(hazards),
        "matched": int(matched.sum()),
        "unmatched": int((~matched).sum()),
        "matched_without_zone": int(silent.sum()),
        "by_kind": by_kind,
        "unmatched_features": _features(hazards.loc[~matched]),
        "without_zone_features": _features(hazards.loc[silent]),
    }


def _features(hazards: pd.DataFrame) -> list[dict[str, str]]:
    """``hazard_id``, ``kind`` and ``source`` of each hazard, for the summary's lists."""
    rows = hazards[["hazard_id", "kind", "source"]].itertuples(index=False)
    return [{"hazard_id": str(r.hazard_id), "kind": str(r.kind), "source": str(r.source)} for r in rows]


def _without_zone_warning(hazards: gpd.GeoDataFrame, rows: np.ndarray) -> str:
    """One line naming the matched hazards that forbid no kerb, by kind, with a few ids each."""
    picked = hazards.iloc[np.asarray(rows, dtype=np.int64)]
    parts = []
    for kind, grp in picked.groupby("kind", sort=True):
        ids = ", ".join(str(v) for v in grp["hazard_id"].head(5))
        more = f" and {len(grp) - 5} more" if len(grp) > 5 else ""
        parts.append(f"{kind} ({len(grp)}: {ids}{more})")
    return (
        f"{len(picked)} hazards matched a kerb but forbid none of it: the rules give their kind no "
        f"clearance and neither the feature nor the kind a width: {'; '.join(parts)}; add a width_m "
        "column or a [clearances.KIND] table to forbid kerb there"
    )


def _width_sources(kerbs: gpd.GeoDataFrame) -> dict[str, int]:
    """Count the kerbs by where their width came from (``width_source``; ``"none"``: no way lent one)."""
    counts = kerbs["width_source"].astype(object).where(kerbs["width_source"].notna(), "none").value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def _summary(
    rules: Rules,
    crs: CRS,
    kerbs: gpd.GeoDataFrame,
    hazards: dict[str, Any],
    bays: gpd.GeoDataFrame,
    solution: Any,
    warnings: list[str],
    timings: dict[str, float],
    zones: pd.DataFrame,
) -> dict[str, Any]:
    corner_zones = int(zones["hazard_id"].astype(str).str.startswith("corner:").sum()) if len(zones) else 0
    return {
        "rules": rules.name,
        "traffic": rules.traffic,
        "crs": crs.to_string(),
        "kerbs": {
            "count": len(kerbs),
            "length_m": round(float(kerbs["length_m"].sum()), 3),
            "corners": corner_zones,
        },
        "bays": {
            "total": len(bays),
            "by_type": {b.name: int((bays["bay_type"] == b.name).sum()) for b in rules.bays},
            "by_orientation": {
                o: int((bays["orientation"] == o).sum()) for o in sorted({b.orientation for b in rules.bays})
            },
        },
        "solver": {
            "status": solution.status,
            "objective": solution.objective,
            "best_bound": solution.bound,
            "gap": solution.gap,
            "presolved_stretches": solution.n_presolved,
            "models": solution.n_models,
            "not_optimal": solution.model_statuses,
        },
        "hazards": hazards,
        "warnings": list(warnings),
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
    }
