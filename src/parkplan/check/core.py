"""``parkplan.check``: measure a layout of bays against kerbs, hazards and rules, on its own.

The checker reads its inputs as :func:`parkplan.plan` does (:mod:`parkplan.io.read`,
:func:`parkplan.geometry.kerbs.
build_kerbs`, :func:`parkplan.osm.streets.from_osm`), but measures with its own tools
(:mod:`parkplan.check.geometry`, :mod:`parkplan.check.attach`): it never imports the planner's zone or
projection code, so a fault in one is caught by the other. The checks and their tolerances are described
in ``docs/check.md``.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from parkplan.arguments import check_check_arguments
from parkplan.check.attach import attach_bays, bay_vertices
from parkplan.check.geometry import KerbSegments
from parkplan.errors import InputError
from parkplan.geometry.kerbs import CornerSettings, attach_ways, build_kerbs
from parkplan.io.paths import LayerPath
from parkplan.io.read import (
    GEOMETRY_TYPE_NAMES,
    HazardSource,
    PathOrFrame,
    metric_crs,
    read_hazards,
    read_kerbs,
    read_vector,
    to_metric,
)
from parkplan.rules.loading import Rules, load_rules

if TYPE_CHECKING:
    from parkplan.osm.streets import Mode

__all__ = ["CHECKS", "TOL_M", "TOL_M2", "CheckResult", "check", "run_check"]

log = logging.getLogger("parkplan")

CHECKS = (
    "invalid_geometry",
    "ring_orientation",
    "overlap",
    "footway",
    "clearance",
    "tagged_no_parking",
    "clear_width",
    "grouping",
)
"""Every check, in the order violations are listed."""

TOL_M = 0.01
"""A violation needs more than this excess (metres): the planner works to 1 mm."""

RUN_TOL_M = 0.02
"""Tolerance on a length between two bay ends (grouping runs and gaps): each end of a layout written in
WGS84 at 7 decimals may move by up to about 0.8 cm, so a length may be off by up to about 1.6 cm."""

TOL_M2 = 0.01
"""A violation by area needs more than this (square metres)."""

OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz", ".osm.json")
"""Kerb inputs read as OpenStreetMap extracts."""

GEOJSON_SUFFIXES = (".geojson", ".json")
SEQ_SUFFIXES = (".geojsonl", ".geojsons", ".geojsonseq")

TILE_VERTICES = 256
"""Street areas are cut into tiles of at most about this many vertices for the footway check."""

COVER_SLACK_M = 0.0002
"""A bay inside the street area once shrunk by this much (metres) is inside it (see :func:`outside_area`)."""

RAY_MARGIN_M = 0.5
"""The clear-width rays reach this far beyond the carriageway width (metres)."""

COLUMNS = ["bay_id", "check", "detail", "hazard_id", "kind", "required_m", "measured_m"]


@dataclass
class CheckResult:
    """Violations and their summary.

    Attributes
    ----------
    violations
        One feature per violation (see :func:`check`).
    summary
        ``bays`` checked, ``violations`` in all, ``by_check`` counts (every check, 0 included),
        ``skipped`` checks, ``bays_without_kerb``, ``inputs`` and ``crs``.
    bays, kerbs
        The bays checked and the kerb table, in the working CRS (for the review outputs: the check's
        PNG draws the violations over them); ``None`` when not kept.
    """

    violations: gpd.GeoDataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    bays: gpd.GeoDataFrame | None = field(default=None, repr=False)
    kerbs: gpd.GeoDataFrame | None = field(default=None, repr=False)

    def line(self) -> str:
        """Return the one-line report, e.g. ``check: 0 violations in 67,546 bays (overlap 0, ...)``."""
        counts = ", ".join(f"{k} {v:,}" for k, v in self.summary["by_check"].items())
        skipped = self.summary.get("skipped") or []
        extra = f"; not checked: {', '.join(skipped)}" if skipped else ""
        n = self.summary["violations"]
        plural = "s" if n != 1 else ""
        return f"check: {n:,} violation{plural} in {self.summary['bays']:,} bays ({counts}){extra}"


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


def _is_osm(data: object) -> bool:
    from parkplan.osm.read import is_osm_input  # also a .json holding Overpass JSON

    return isinstance(data, (str, os.PathLike)) and (
        str(data).lower().endswith(OSM_SUFFIXES) or is_osm_input(data)
    )


def _geojson_geometries(texts: Sequence[str | None]) -> NDArray[np.object_]:
    arr = np.array([t if t is not None else "null" for t in texts], dtype=object)
    out = np.full(len(arr), None, dtype=object)
    real = arr != "null"
    if real.any():
        out[real] = shapely.from_geojson(arr[real], on_invalid="ignore")
    return out


def _raw_geojson(path: Path) -> NDArray[np.object_] | None:
    """Geometries of a GeoJSON (or GeoJSON text sequence) file exactly as written, or None if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in SEQ_SUFFIXES:
            docs = [json.loads(line.strip("\x1e")) for line in text.splitlines() if line.strip("\x1e \t")]
            features = [d for d in docs if isinstance(d, dict) and d.get("type") == "Feature"]
        else:
            doc = json.loads(text)
            features = doc.get("features", []) if isinstance(doc, dict) else []
    except (OSError, ValueError):
        return None
    texts = [
        json.dumps(f["geometry"]) if isinstance(f, dict) and f.get("geometry") is not None else None
        for f in features
    ]
    return _geojson_geometries(texts)


class _Collect(logging.Filter):
    """Keep the records of a logger instead of printing them."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.messages.append(record.getMessage())
        return False


def _as_written(geoms: NDArray[np.object_], crs: Any) -> tuple[NDArray[np.object_], list[str]]:
    """Return the bays as parkplan's RFC 7946 writer writes them, read back, and what the writer said.

    A row the writer leaves out (its geometry collapses on the output grid) comes back as None.
    """
    from parkplan.io.write import geojson_text

    out = np.full(len(geoms), None, dtype=object)
    ok = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    if len(ok) == 0:
        return out, []
    frame = gpd.GeoDataFrame({"row": ok}, geometry=geoms[ok], crs=crs)
    said = _Collect()
    log.addFilter(said)
    try:
        text = "".join(geojson_text(frame, workers=1))
    finally:
        log.removeFilter(said)
    lines = [ln for ln in text.split("\n") if ln.startswith('{"type":"Feature"')]
    # parkplan's writer puts the properties first and the geometry last on each feature's line.
    key = '"geometry":'
    rows = np.array(
        [json.loads(ln[ln.index(":{") + 1 : ln.rfind(key) - 1])["row"] for ln in lines], dtype=np.int64
    )
    texts = [ln[ln.rfind(key) + len(key) :].rstrip(",")[:-1] for ln in lines]
    out[rows] = _geojson_geometries(texts)
    return out, said.messages


@dataclass
class _Bays:
    frame: gpd.GeoDataFrame  # as given (input CRS), attributes kept
    written: NDArray[np.object_]  # geometries as written (GeoJSON: raw; else as read)
    orientation: bool  # ring orientation applies (GeoJSON)
    label: str
    in_memory: bool = False  # a GeoDataFrame: ``written`` is what parkplan's writer makes of it
    notes: list[str] = field(default_factory=list)


def _read_bays(bays: Any) -> _Bays:
    if hasattr(bays, "bays") and hasattr(bays, "rules") and not isinstance(bays, pd.DataFrame):
        bays = bays.bays  # a parkplan Plan
    if isinstance(bays, gpd.GeoDataFrame):
        frame = read_vector(bays, what="bays").reset_index(drop=True)
        geoms = np.asarray(frame.geometry.values, dtype=object)
        written, said = _as_written(geoms, frame.crs)
        return _Bays(frame, written, True, "bays", True, [f"writing the bays as GeoJSON: {m}" for m in said])
    src = LayerPath.parse(bays)
    path = src.path
    frame = read_vector(src, what="bays").reset_index(drop=True)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    suffix = path.suffix.lower()
    if suffix in GEOJSON_SUFFIXES + SEQ_SUFFIXES:
        raw = _raw_geojson(path)
        if raw is not None and len(raw) == len(frame):
            return _Bays(frame, raw, True, str(src))
        log.warning("%s: cannot read the raw GeoJSON coordinates; ring orientation not checked", src)
    return _Bays(frame, geoms, False, str(src))


def _bay_ids(frame: pd.DataFrame) -> NDArray[np.object_]:
    for col in ("bay_id", "id", "osm_id", "fid"):
        if col in frame.columns:
            values = frame[col]
            fallback = np.array([f"#{i}" for i in range(len(frame))], dtype=object)
            text = values.astype(str).to_numpy(dtype=object)
            return np.where(values.notna().to_numpy(), text, fallback)
    return np.array([f"#{i}" for i in range(len(frame))], dtype=object)


@dataclass
class _Inputs:
    bays: _Bays
    bays_m: NDArray[np.object_]  # metric geometries
    kerbs: gpd.GeoDataFrame  # kerb table, metric
    hazards: gpd.GeoDataFrame  # metric, kinds canonical, MultiPoints exploded
    rules: Rules
    street_area: Any  # union of the street-area polygons (metric) or None
    line_kerb: NDArray[np.bool_]  # per kerb: drawn as a line (not a street-area ring)
    crs: CRS
    notes: list[str]
    inputs: dict[str, Any]


def _hazard_sources(hazards: Any) -> list[HazardSource | PathOrFrame]:
    if hazards is None:
        return []
    if isinstance(hazards, (str, os.PathLike, LayerPath, gpd.GeoDataFrame, HazardSource)):
        return [hazards]
    return list(hazards)


def _read_inputs(
    bays: Any,
    kerbs: PathOrFrame,
    hazards: Any,
    rules: Any,
    extent: Any,
    ways: PathOrFrame | None,
    mode: Mode,
    corners: CornerSettings | None,
    crs: Any | None = None,
) -> _Inputs:
    if rules is None and hasattr(bays, "rules") and isinstance(getattr(bays, "rules", None), Rules):
        rules = bays.rules
    rule_set = load_rules(rules)
    working_crs = None if crs is None else metric_crs(crs)
    sources = _hazard_sources(hazards)
    inputs: dict[str, Any] = {
        "bays": "bays" if isinstance(bays, gpd.GeoDataFrame) or hasattr(bays, "rules") else str(bays),
        "kerbs": "kerbs" if isinstance(kerbs, gpd.GeoDataFrame) else str(kerbs),
        "hazards": [
            str(s.data if isinstance(s, HazardSource) else s)
            if not isinstance(s.data if isinstance(s, HazardSource) else s, gpd.GeoDataFrame)
            else f"hazards[{i}]"
            for i, s in enumerate(sources)
        ],
        "rules": rule_set.name,
        "mode": mode,
    }
    if _is_osm(kerbs):
        from parkplan.osm.streets import from_osm, osm_extent

        osm = from_osm(str(kerbs), mode=mode, traffic=rule_set.traffic)
        if extent is None:
            extent = osm_extent(str(kerbs))
        kerbs = osm.kerbs
        sources.insert(0, osm.hazards)
        if ways is None:
            ways = osm.ways
    b = _read_bays(bays)
    kerb_in, notes = read_kerbs(kerbs)
    frames, warn = read_hazards(sources)
    notes += warn
    input_crs = kerb_in.crs
    kerb_m, crs = to_metric(kerb_in, working_crs)
    if extent is not None:
        series = extent if isinstance(extent, gpd.GeoSeries) else gpd.GeoSeries([extent], crs=input_crs)
        extent = shapely.union_all(np.asarray(series.to_crs(crs).values, dtype=object))
    table = build_kerbs(kerb_m, rule_set, corners=corners, extent=extent)
    if ways is not None:
        table = attach_ways(table, to_metric(read_vector(ways, what="ways"), crs)[0], rule_set)
    geoms = np.asarray(kerb_m.geometry.values, dtype=object)
    is_line = np.isin(shapely.get_type_id(geoms), (1, 5))
    area = shapely.union_all(geoms[~is_line]) if (~is_line).any() else None
    line_kerb = is_line[table["input_index"].to_numpy(dtype=np.int64)]

    haz = _hazards_metric(frames, sources, crs, rule_set)
    bays_m = np.asarray(to_metric(b.frame, crs)[0].geometry.values, dtype=object)
    return _Inputs(b, bays_m, table, haz, rule_set, area, line_kerb, crs, notes, inputs)


def _hazards_metric(
    frames: list[gpd.GeoDataFrame], sources: list[HazardSource | PathOrFrame], crs: CRS, rules: Rules
) -> gpd.GeoDataFrame:
    """All hazards in the working CRS, kinds canonical (unknown kinds refused), MultiPoints split.

    A ``reason`` column (why OSM parking tags forbid a kerb side) is kept from GeoDataFrame inputs.
    """
    parts = []
    datas = [s.data if isinstance(s, HazardSource) else s for s in sources]
    with_features = [d for d in datas if not (isinstance(d, gpd.GeoDataFrame) and len(d) == 0)]
    for n, f in enumerate(frames):
        m = to_metric(f, crs)[0]
        src = with_features[n] if n < len(with_features) else None
        if isinstance(src, gpd.GeoDataFrame) and "reason" in src.columns and len(src) == len(m):
            m["reason"] = src["reason"].to_numpy(dtype=object)
        else:
            m["reason"] = None
        parts.append(m)
    if parts:
        haz = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)
    else:
        haz = gpd.GeoDataFrame(
            {c: [] for c in ("kind", "hazard_id", "width_m", "match", "source", "feature", "reason")},
            geometry=[],
            crs=crs,
        )
    kinds_in = haz["kind"].astype(str)
    canon = {k: rules.canonical_kind(k) for k in pd.unique(kinds_in)}
    unknown = sorted(v for v in set(canon.values()) if v not in rules.kinds)
    if unknown:
        first = int(np.flatnonzero(kinds_in.map(canon).to_numpy(dtype=object) == unknown[0])[0])
        raise InputError(
            f"unknown hazard kind {unknown[0]!r}. Known kinds: {', '.join(sorted(rules.kinds))}",
            source=str(haz["source"].iloc[first]),
            feature=str(haz["feature"].iloc[first]),
        )
    haz["kind"] = kinds_in.map(canon).to_numpy(dtype=object)
    if "road_class" in haz.columns:  # road-class lines only for the classes the rules forbid
        values = haz["road_class"].to_numpy(dtype=object)
        kinds = haz["kind"].to_numpy(dtype=object)
        kept = [k != "road_class" or rules.keeps_road_class(v) for k, v in zip(kinds, values, strict=True)]
        haz = haz.loc[np.asarray(kept, dtype=bool)].reset_index(drop=True)
    if len(haz) and (shapely.get_type_id(np.asarray(haz.geometry.values, dtype=object)) == 4).any():
        haz = haz.explode(index_parts=False).reset_index(drop=True)
    return haz


# --------------------------------------------------------------------------------------------------
# Checks. Each returns a table with a ``bay`` row, the violation's columns and optionally a metric
# ``part`` geometry (otherwise the bay's own geometry is the feature).
# --------------------------------------------------------------------------------------------------


def _rows(
    bay: NDArray[np.int64],
    check: str,
    detail: Sequence[str],
    *,
    hazard_id: Sequence[Any] | None = None,
    kind: Sequence[Any] | None = None,
    required_m: NDArray[np.float64] | None = None,
    measured_m: NDArray[np.float64] | None = None,
    part: NDArray[np.object_] | None = None,
) -> pd.DataFrame:
    n = len(bay)
    none = np.full(n, None, dtype=object)
    return pd.DataFrame(
        {
            "bay": np.asarray(bay, dtype=np.int64),
            "check": np.full(n, check, dtype=object),
            "detail": np.asarray(list(detail), dtype=object),
            "hazard_id": none if hazard_id is None else np.asarray(list(hazard_id), dtype=object),
            "kind": none if kind is None else np.asarray(list(kind), dtype=object),
            "required_m": np.full(n, np.nan) if required_m is None else np.asarray(required_m, dtype=float),
            "measured_m": np.full(n, np.nan) if measured_m is None else np.asarray(measured_m, dtype=float),
            "part": none if part is None else part,
        }
    )


def _polygonal(geoms: NDArray[np.object_]) -> NDArray[np.bool_]:
    return np.asarray(
        np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)
    )


def check_invalid(given: NDArray[np.object_], written: NDArray[np.object_], in_memory: bool) -> pd.DataFrame:
    """Check ``invalid_geometry``: no polygon, or a polygon not valid (``shapely.is_valid``).

    Parameters
    ----------
    given
        The bays' geometries as given (read from the file, or in memory).
    written
        The same as written: a file's own coordinates; for bays in memory, what parkplan's GeoJSON
        writer makes of them (None where it leaves a bay out).
    in_memory
        The bays were given in memory: they must be valid both as they are and as written.
    """
    missing = shapely.is_missing(given) | shapely.is_empty(given)
    tid = shapely.get_type_id(given)
    wrong = ~missing & ~np.isin(tid, (3, 6))
    poly = np.flatnonzero(~missing & ~wrong)
    detail = np.full(len(given), None, dtype=object)
    detail[missing] = "the bay has no geometry"
    detail[wrong] = [f"the bay is a {t}, not a polygon" for t in GEOMETRY_TYPE_NAMES[tid[wrong]]]
    if in_memory:
        bad = poly[~shapely.is_valid(given[poly])]
        detail[bad] = [f"the bay polygon is not valid: {r}" for r in shapely.is_valid_reason(given[bad])]
        poly = np.setdiff1d(poly, bad)
        lost = poly[shapely.is_missing(written[poly]) | shapely.is_empty(written[poly])]
        detail[lost] = "parkplan's GeoJSON writer leaves the bay out (it collapses on the 1e-7 degree grid)"
        poly = np.setdiff1d(poly, lost)
    bad = poly[~shapely.is_valid(written[poly])]
    detail[bad] = [
        f"the bay polygon is not valid as written: {r}" for r in shapely.is_valid_reason(written[bad])
    ]
    rows = np.flatnonzero(pd.notna(detail))
    return _rows(rows, "invalid_geometry", detail[rows].tolist())


def signed_ring_areas(
    polygons: NDArray[np.object_],
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
    """Shoelace area of every ring of every polygon part, sign kept (positive: counter-clockwise).

    Computed from the coordinates as they are (no reorientation, near-duplicate vertices included),
    relative to each ring's first vertex.

    Returns
    -------
    tuple
        ``(area, owner, exterior)``: per ring, its signed area, the row of ``polygons`` it belongs to, and
        whether it is an exterior ring.
    """
    parts, owner = shapely.get_parts(polygons, return_index=True)
    keep = shapely.get_type_id(parts) == 3
    parts, owner = parts[keep], owner[keep]
    rings, ring_owner = shapely.get_rings(parts, return_index=True)
    first = np.ones(len(ring_owner), dtype=bool)
    first[1:] = ring_owner[1:] != ring_owner[:-1]
    xy, r = shapely.get_coordinates(rings, return_index=True)
    start = np.ones(len(r), dtype=bool)
    start[1:] = r[1:] != r[:-1]
    origin = xy[np.maximum.accumulate(np.where(start, np.arange(len(r)), 0))]
    rel = xy - origin
    same = r[1:] == r[:-1]
    cross = rel[:-1, 0] * rel[1:, 1] - rel[1:, 0] * rel[:-1, 1]
    area = 0.5 * np.bincount(r[1:][same], weights=cross[same], minlength=len(rings))
    return area.astype(np.float64), np.asarray(owner[ring_owner], dtype=np.int64), first


def check_orientation(written: NDArray[np.object_]) -> pd.DataFrame:
    """``ring_orientation``: an exterior ring clockwise or a hole counter-clockwise, as written."""
    poly = np.flatnonzero(_polygonal(written))
    area, owner, exterior = signed_ring_areas(written[poly])
    bad = (exterior & (area < 0)) | (~exterior & (area > 0))
    if not bad.any():
        return _rows(np.zeros(0, dtype=np.int64), "", [])
    rows = pd.DataFrame({"bay": poly[owner[bad]], "exterior": exterior[bad]})
    by_bay = rows.groupby("bay", sort=True)["exterior"].agg(["any", "all"])
    detail = [
        "the exterior ring is clockwise as written (RFC 7946: counter-clockwise)"
        if ext_all
        else "a hole is counter-clockwise as written (RFC 7946: clockwise)"
        if not ext_any
        else "the exterior ring is clockwise and a hole counter-clockwise as written"
        for ext_any, ext_all in zip(by_bay["any"], by_bay["all"], strict=True)
    ]
    return _rows(by_bay.index.to_numpy(dtype=np.int64), "ring_orientation", detail)


def _repaired(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Polygons made valid for measuring (``make_valid``, structure method); non-polygons None."""
    out = np.full(len(geoms), None, dtype=object)
    poly = _polygonal(geoms)
    out[poly] = geoms[poly]
    bad = np.flatnonzero(poly)[~shapely.is_valid(geoms[poly])]
    if len(bad):
        out[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    return out


def check_overlap(geoms: NDArray[np.object_], ids: NDArray[np.object_]) -> pd.DataFrame:
    """``overlap``: two bays share more than :data:`TOL_M2`; a row for each of the two, on the shared part."""
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    part = shapely.intersection(geoms[i], geoms[j])
    area = shapely.area(part)
    hit = area > TOL_M2
    i, j, part, area = i[hit], j[hit], part[hit], area[hit]
    bay = np.concatenate([i, j])
    other = np.concatenate([j, i])
    a2 = np.concatenate([area, area])
    detail = [f"overlaps bay {ids[o]} by {a:.3f} m²" for o, a in zip(other, a2, strict=True)]
    return _rows(bay, "overlap", detail, part=np.concatenate([part, part]))


def _tiles(area: Any, max_vertices: int = TILE_VERTICES) -> NDArray[np.object_]:
    """Cut a polygon into pieces of at most about ``max_vertices`` vertices (halving boxes, O(n log n))."""
    done: list[Any] = []
    pending = np.array([area], dtype=object)
    boxes = np.array([shapely.box(*shapely.bounds(area))], dtype=object)
    while len(pending):
        counts = shapely.get_num_coordinates(pending)
        small = (counts <= max_vertices) | (shapely.area(boxes) < 1.0)
        done.extend(pending[small].tolist())
        pending, boxes = pending[~small], boxes[~small]
        if not len(pending):
            break
        b = shapely.bounds(boxes)
        wide = (b[:, 2] - b[:, 0]) >= (b[:, 3] - b[:, 1])
        mx = (b[:, 0] + b[:, 2]) / 2
        my = (b[:, 1] + b[:, 3]) / 2
        lo = shapely.box(b[:, 0], b[:, 1], np.where(wide, mx, b[:, 2]), np.where(wide, b[:, 3], my))
        hi = shapely.box(np.where(wide, mx, b[:, 0]), np.where(wide, b[:, 1], my), b[:, 2], b[:, 3])
        boxes = np.concatenate([lo, hi])
        pending = shapely.intersection(np.concatenate([pending, pending]), boxes)
        nonempty = ~shapely.is_empty(pending)
        pending, boxes = pending[nonempty], boxes[nonempty]
    return np.asarray(done, dtype=object)


def outside_area(geoms: NDArray[np.object_], area: Any) -> NDArray[np.float64]:
    """Area of each polygon outside ``area`` (square metres); NaN for missing geometries.

    ``area`` is cut into small tiles first (:func:`_tiles`), so each overlay is against a few hundred
    vertices. A polygon that a tile covers once shrunk by :data:`COVER_SLACK_M` is taken as inside (at
    most its perimeter times that slack, far below :data:`TOL_M2`, can lie outside).
    """
    out = np.full(len(geoms), np.nan)
    poly = np.flatnonzero(~shapely.is_missing(geoms))
    if not len(poly):
        return out
    g = geoms[poly]
    tiles = _tiles(area)
    shapely.prepare(tiles)
    tree = shapely.STRtree(tiles)
    inner = shapely.buffer(g, -COVER_SLACK_M, join_style="mitre")
    inner = np.where(shapely.is_empty(inner), g, inner)
    bay, tile = tree.query(inner, predicate="covered_by")
    covered = np.zeros(len(g), dtype=bool)
    covered[bay] = True
    out[poly[covered]] = 0.0
    rest = np.flatnonzero(~covered)
    if len(rest):
        bay, tile = tree.query(g[rest], predicate="intersects")
        inside = np.bincount(
            bay, weights=shapely.area(shapely.intersection(g[rest][bay], tiles[tile])), minlength=len(rest)
        )
        out[poly[rest]] = np.maximum(shapely.area(g[rest]) - inside, 0.0)
    return out


def check_footway(
    at: pd.DataFrame,
    geoms: NDArray[np.object_],
    kerbs: gpd.GeoDataFrame,
    segs: KerbSegments,
    street_area: Any,
    line_kerb: NDArray[np.bool_],
) -> pd.DataFrame:
    """``footway``: a bay on the wrong side of its kerb, outside the street area, or across a kerb line.

    Parameters
    ----------
    at
        :func:`parkplan.check.attach.attach_bays` (bays left out of the kerb checks: ``kerb = -1``).
    geoms
        Bay polygons, metric, made valid.
    kerbs
        Kerb table.
    segs
        Its segments.
    street_area
        Union of the street-area polygons, or None (kerb lines only).
    line_kerb
        Per kerb: drawn as a line.
    """
    curb = kerbs["curb_id"].to_numpy(dtype=object)
    kerb = at["kerb"].to_numpy(dtype=np.int64)
    attached = kerb >= 0
    rows = []
    wrong = np.flatnonzero(attached & ~at["carriageway_side"].to_numpy(dtype=bool))
    if len(wrong):
        rows.append(
            _rows(
                wrong,
                "footway",
                [f"the bay's centroid lies on the footway side of kerb {curb[k]}" for k in kerb[wrong]],
            )
        )
    done = np.zeros(len(at), dtype=bool)
    done[wrong] = True
    area_bay = np.flatnonzero(attached & ~done & ~line_kerb[np.maximum(kerb, 0)] & ~shapely.is_missing(geoms))
    if street_area is not None and len(area_bay):
        # Shrunk by 1 cm first: a bay poking out by less (the output grid's rounding) is no violation.
        shrunk = shapely.buffer(geoms[area_bay], -TOL_M, join_style="mitre")
        outside = outside_area(np.where(shapely.is_empty(shrunk), geoms[area_bay], shrunk), street_area)
        hit = outside > TOL_M2
        b = area_bay[hit]
        rows.append(
            _rows(
                b,
                "footway",
                [f"{a:.3f} m² of the bay lies more than 1 cm outside the street area" for a in outside[hit]],
            )
        )
        done[b] = True
    if line_kerb.any():
        cand = np.flatnonzero(attached & ~done & ~shapely.is_missing(geoms))
        inner = shapely.buffer(geoms[cand], -TOL_M)
        i, s = segs.tree.query(inner, predicate="intersects")
        on_line = line_kerb[segs.kerb[s]]
        i, s = i[on_line], s[on_line]
        if len(i):
            seg_lines = segs.tree.geometries.take(s)
            inside = shapely.length(shapely.intersection(seg_lines, inner[i]))
            per = pd.DataFrame({"bay": cand[i], "kerb": segs.kerb[s], "m": inside})
            per = per.groupby(["bay", "kerb"], sort=True)["m"].sum().reset_index()
            per = per[per["m"] > TOL_M].drop_duplicates("bay")
            if len(per):
                rows.append(
                    _rows(
                        per["bay"].to_numpy(dtype=np.int64),
                        "footway",
                        [
                            f"the bay crosses kerb {curb[k]} ({m:.2f} m of kerb line inside it)"
                            for k, m in zip(per["kerb"], per["m"], strict=True)
                        ],
                        measured_m=per["m"].to_numpy(dtype=float),
                    )
                )
    return pd.concat(rows, ignore_index=True) if rows else _rows(np.zeros(0, dtype=np.int64), "", [])


def bay_depths(
    at: pd.DataFrame, xy: NDArray[np.float64], vbay: NDArray[np.int64], segs: KerbSegments
) -> NDArray[np.float64]:
    """How far each attached bay reaches from its kerb: its farthest vertex's distance (metres).

    Each vertex is projected onto its kerb's segments beside the bay's extent (NaN: not attached).
    """
    n = len(at)
    kerb = at["kerb"].to_numpy(dtype=np.int64)
    depth = np.full(n, np.nan)
    idx = np.flatnonzero(kerb >= 0)
    if not len(idx):
        return depth
    vin = np.flatnonzero(kerb[vbay] >= 0)
    # Reach of the bay around its extent: its largest distance between vertices (bounded by the bbox).
    lo, hi = np.full(n, np.inf), np.full(n, -np.inf)
    np.minimum.at(lo, vbay[vin], xy[vin, 0])
    np.maximum.at(hi, vbay[vin], xy[vin, 0])
    ly, hy = np.full(n, np.inf), np.full(n, -np.inf)
    np.minimum.at(ly, vbay[vin], xy[vin, 1])
    np.maximum.at(hy, vbay[vin], xy[vin, 1])
    reach = np.hypot(hi - lo, hy - ly)[idx]
    s0 = at["s0_m"].to_numpy(dtype=float)[idx]
    s1 = at["s1_m"].to_numpy(dtype=float)[idx]
    owner, seg = segs.segments_over(kerb[idx], s0 - reach - 1.0, s1 + reach + 1.0)
    # Vertices of each bay: bay_vertices lists them bay by bay.
    counts = np.bincount(vbay, minlength=n)
    start = np.cumsum(counts) - counts
    b = idx[owner]
    pair, vertex = _expand(start[b], counts[b])
    proj = segs.project(xy, seg[pair], vertex)
    nearest = np.full(len(xy), np.inf)
    np.minimum.at(nearest, vertex, proj.dist_m)
    ok = np.isfinite(nearest)
    far = np.full(n, -np.inf)
    np.maximum.at(far, vbay[ok], nearest[ok])
    depth[idx] = far[idx]
    return np.where(np.isfinite(depth), depth, np.nan)


def _expand(
    start: NDArray[np.int64], count: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For rows with ranges ``[start, start + count)``: (row, value) for every value of every range."""
    owner = np.repeat(np.arange(len(start), dtype=np.int64), count)
    offsets = np.cumsum(count) - count
    value = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(offsets, count) + np.repeat(start, count)
    return owner, value


def _first_other_kerb(
    segs: KerbSegments,
    start: NDArray[np.float64],
    direction: NDArray[np.float64],
    length_m: NDArray[np.float64],
    kerb: NDArray[np.int64],
) -> NDArray[np.float64]:
    """Length of each ray up to the first segment of another kerb it crosses (+ 5 cm), else ``length_m``.

    The bays facing a bay are those across *its* carriageway: a ray stops at the kerb opposite (an
    island or median between two carriageways is kerb, and the bays beyond it face another lane).
    """
    out = np.asarray(length_m, dtype=float).copy()
    end = start + direction * out[:, None]
    rays = shapely.linestrings(np.stack([start, end], axis=1))
    r, sg = segs.tree.query(rays, predicate="intersects")
    other = segs.kerb[sg] != kerb[r]
    r, sg = r[other], sg[other]
    if not len(r):
        return out
    # Ray start + t * d (unit d), segment a + u * (b - a): the ray parameter of the crossing.
    d = direction[r]
    e = segs.b[sg] - segs.a[sg]
    w = segs.a[sg] - start[r]
    den = d[:, 0] * e[:, 1] - d[:, 1] * e[:, 0]
    ok = np.abs(den) > 1e-12
    t = np.where(ok, (w[:, 0] * e[:, 1] - w[:, 1] * e[:, 0]) / np.where(ok, den, 1.0), np.inf)
    t = np.where(t >= 0.0, t, np.inf)
    first = np.full(len(out), np.inf)
    np.minimum.at(first, r, t)
    return np.asarray(np.minimum(out, first + 0.05), dtype=float)


def check_clear_width(
    at: pd.DataFrame,
    geoms: NDArray[np.object_],
    depth: NDArray[np.float64],
    kerbs: gpd.GeoDataFrame,
    segs: KerbSegments,
    min_clear_m: float,
    ids: NDArray[np.object_],
) -> pd.DataFrame:
    """``clear_width``: carriageway width less this bay's depth and the facing bay's < the rules' minimum.

    Rays at right angles to the kerb, towards the carriageway, from both ends (5 cm in) and the middle of
    the bay's kerb extent, as long as the kerb's ``width_m`` (+ :data:`RAY_MARGIN_M`), find the facing bays:
    any bay of another kerb they cross.
    """
    kerb = at["kerb"].to_numpy(dtype=np.int64)
    width = kerbs["width_m"].to_numpy(dtype=float)
    idx = np.flatnonzero((kerb >= 0) & np.isfinite(width[np.maximum(kerb, 0)]) & np.isfinite(depth))
    if not len(idx):
        return _rows(np.zeros(0, dtype=np.int64), "", [])
    s0 = at["s0_m"].to_numpy(dtype=float)[idx]
    s1 = at["s1_m"].to_numpy(dtype=float)[idx]
    inset = np.minimum(0.05, (s1 - s0) / 2)
    ray_bay = np.repeat(idx, 3)
    s = np.column_stack([s0 + inset, (s0 + s1) / 2, s1 - inset]).reshape(-1)
    k = kerb[ray_bay]
    xy, u = segs.at_chainage(k, s)
    left = kerbs["carriageway"].to_numpy(dtype=object)[k] == "left"
    normal = np.where(
        left[:, None], np.column_stack([-u[:, 1], u[:, 0]]), np.column_stack([u[:, 1], -u[:, 0]])
    )
    w = width[k]
    a = xy + normal * 0.05
    reach = _first_other_kerb(segs, a, normal, w + RAY_MARGIN_M, k)
    b = a + normal * reach[:, None]
    rays = shapely.linestrings(np.stack([a, b], axis=1))
    tree = shapely.STRtree(geoms)
    r, hit = tree.query(rays, predicate="intersects")
    other = (hit != ray_bay[r]) & (kerb[hit] >= 0) & (kerb[hit] != k[r]) & np.isfinite(depth[hit])
    r, hit = r[other], hit[other]
    facing = np.zeros(len(rays))
    np.maximum.at(facing, r, depth[hit])
    who = np.full(len(rays), -1, dtype=np.int64)
    order = np.lexsort((depth[hit], r))
    who[r[order]] = hit[order]  # the deepest facing bay of each ray (written last)
    clear = w - depth[ray_bay] - facing
    per = pd.DataFrame({"bay": ray_bay, "clear": clear, "who": who, "facing": facing, "width": w})
    per = per.sort_values(["bay", "clear"], kind="stable").drop_duplicates("bay")
    bad = per[per["clear"] < min_clear_m - TOL_M]
    if not len(bad):
        return _rows(np.zeros(0, dtype=np.int64), "", [])
    detail = []
    for bay, c, wh, f, wd in zip(
        bad["bay"], bad["clear"], bad["who"], bad["facing"], bad["width"], strict=True
    ):
        facing_text = f", facing bay {ids[wh]} {f:.2f} m deep" if wh >= 0 else ", no facing bay"
        detail.append(
            f"leaves {c:.2f} m of the {wd:.2f} m carriageway clear (this bay {depth[bay]:.2f} m deep"
            f"{facing_text}); the rules keep {min_clear_m:.2f} m clear"
        )
    return _rows(
        bad["bay"].to_numpy(dtype=np.int64),
        "clear_width",
        detail,
        required_m=np.full(len(bad), min_clear_m),
        measured_m=bad["clear"].to_numpy(dtype=float),
    )


def check_grouping(
    at: pd.DataFrame, max_run_m: float, gap_m: float, ids: NDArray[np.object_]
) -> pd.DataFrame:
    """Check ``grouping``: along one kerb, a run (gaps <= 1 cm) over ``max_run_m``, or a short gap.

    A run is reported once, on the first bay that takes it past ``max_run_m``; a gap on the bay after it.
    """
    att = at[at["kerb"] >= 0].sort_values(["kerb", "s0_m", "s1_m"], kind="stable")
    if not len(att):
        return _rows(np.zeros(0, dtype=np.int64), "", [])
    bay = att["bay"].to_numpy(dtype=np.int64)
    kerb = att["kerb"].to_numpy(dtype=np.int64)
    s0 = att["s0_m"].to_numpy(dtype=float)
    s1 = att["s1_m"].to_numpy(dtype=float)
    same = np.zeros(len(bay), dtype=bool)
    same[1:] = kerb[1:] == kerb[:-1]
    reach = pd.Series(s1).groupby(kerb).cummax().to_numpy()  # farthest end so far on the kerb
    gap = np.full(len(bay), np.inf)
    gap[1:] = s0[1:] - reach[:-1]
    gap[~same] = np.inf
    new_run = gap > TOL_M
    run = np.cumsum(new_run)
    run_start = s0[np.flatnonzero(new_run)][run - 1]
    run_reach = pd.Series(s1).groupby(run).cummax().to_numpy()
    long = run_reach - run_start > max_run_m + RUN_TOL_M
    first_long = long & ~pd.Series(long).groupby(run).shift(1, fill_value=False).to_numpy(dtype=bool)
    # shift is per run: a bay is the first over the limit when the bay before it in its run was not.
    rows = []
    b = np.flatnonzero(first_long)
    if len(b):
        first_bay = bay[np.flatnonzero(new_run)][run[b] - 1]
        total = pd.Series(s1).groupby(run).max().to_numpy()[run[b] - 1] - run_start[b]
        rows.append(
            _rows(
                bay[b],
                "grouping",
                [
                    f"the run of bays from {ids[f]} to here is {run_reach[i] - run_start[i]:.2f} m long "
                    f"(whole run {t:.2f} m); the rules allow runs of {max_run_m:.2f} m"
                    for f, i, t in zip(first_bay, b, total, strict=True)
                ],
                required_m=np.full(len(b), max_run_m),
                measured_m=total,
            )
        )
    short = np.flatnonzero(same & (gap > TOL_M) & (gap < gap_m - RUN_TOL_M))
    if len(short):
        prev = bay[short - 1]
        rows.append(
            _rows(
                bay[short],
                "grouping",
                [
                    f"the gap of {g:.2f} m after bay {ids[p]} is shorter than the rules' {gap_m:.2f} m "
                    "between runs"
                    for g, p in zip(gap[short], prev, strict=True)
                ],
                required_m=np.full(len(short), gap_m),
                measured_m=gap[short],
            )
        )
    return pd.concat(rows, ignore_index=True) if rows else _rows(np.zeros(0, dtype=np.int64), "", [])


def _clearance_function() -> Callable[..., pd.DataFrame] | None:
    """``parkplan.check.clearance.clearance_violations`` when that module is there."""
    try:
        module = importlib.import_module("parkplan.check.clearance")
    except ImportError:
        return None
    fn = getattr(module, "clearance_violations", None)
    return fn if callable(fn) else None


# --------------------------------------------------------------------------------------------------
# The whole check
# --------------------------------------------------------------------------------------------------


def run_check(
    bays: Any,
    kerbs: PathOrFrame,
    hazards: Any = None,
    rules: Rules | str | os.PathLike[str] | Mapping[str, Any] | None = None,
    *,
    extent: Any | None = None,
    ways: PathOrFrame | None = None,
    mode: Mode = "plan",
    corners: CornerSettings | None = None,
    crs: Any | None = None,
) -> CheckResult:
    """Check a layout of bays; return the violations and a summary (:class:`CheckResult`).

    Parameters are those of :func:`check`.
    """
    check_check_arguments(
        bays=bays, kerbs=kerbs, hazards=hazards, rules=rules, extent=extent, ways=ways, mode=mode,
        corners=corners,
    )  # fmt: skip
    src = _read_inputs(bays, kerbs, hazards, rules, extent, ways, mode, corners, crs)
    frame = src.bays.frame
    n = len(frame)
    ids = _bay_ids(frame)
    kerb_table = src.kerbs
    rules_ = src.rules
    results: dict[str, pd.DataFrame] = {}
    skipped: list[str] = []

    results["invalid_geometry"] = check_invalid(
        np.asarray(frame.geometry.values, dtype=object), src.bays.written, src.bays.in_memory
    )
    if src.bays.orientation:
        results["ring_orientation"] = check_orientation(src.bays.written)
    else:
        skipped.append("ring_orientation")
    geoms = _repaired(src.bays_m)
    results["overlap"] = check_overlap(geoms, ids)

    segs = KerbSegments(np.asarray(kerb_table.geometry.values, dtype=object))
    attach_frame = gpd.GeoDataFrame(
        {"curb_id": frame["curb_id"].to_numpy(dtype=object)} if "curb_id" in frame.columns else {},
        geometry=src.bays_m,
        crs=src.crs,
    )
    at = attach_bays(attach_frame, kerb_table, segments=segs)
    without_kerb = int((at["kerb"] < 0).sum())
    # Separately mapped parking (parkplan's OSM existing mode) stands off the kerb: geometry checks only.
    separate = (
        frame["source"].astype(str).to_numpy(dtype=object) == "separate"
        if "source" in frame.columns
        else np.zeros(n, dtype=bool)
    )
    at_k = at.copy()
    at_k.loc[separate, "kerb"] = -1
    results["footway"] = check_footway(at_k, geoms, kerb_table, segs, src.street_area, src.line_kerb)

    fn = _clearance_function()
    if fn is None:
        skipped += ["clearance", "tagged_no_parking"]
        log.warning("parkplan.check.clearance is not available: clearance and tagged_no_parking not checked")
    else:
        bays_m = gpd.GeoDataFrame({"bay_id": ids}, geometry=src.bays_m, crs=src.crs)
        found = fn(bays_m, at_k, kerb_table, src.hazards, rules_)
        for name in ("clearance", "tagged_no_parking"):
            part = found[found["check"] == name]
            results[name] = _rows(
                part["bay"].to_numpy(dtype=np.int64),
                name,
                part["detail"].tolist(),
                hazard_id=part["hazard_id"].tolist(),
                kind=part["kind"].tolist(),
                required_m=part["required_m"].to_numpy(dtype=float),
                measured_m=part["measured_m"].to_numpy(dtype=float),
            )

    min_clear = rules_.cross_section.min_clear_width_m if rules_.cross_section is not None else None
    if min_clear is not None:
        xy, vbay, _ = bay_vertices(src.bays_m)
        depth = bay_depths(at_k, xy, vbay, segs)
        results["clear_width"] = check_clear_width(at_k, geoms, depth, kerb_table, segs, min_clear, ids)
    else:
        skipped.append("clear_width")
    if rules_.grouping is not None:
        results["grouping"] = check_grouping(at_k, rules_.grouping.max_run_m, rules_.grouping.gap_m, ids)
    else:
        skipped.append("grouping")

    violations = _assemble(results, frame, ids, src.crs)
    by_check = {c: int((violations["check"] == c).sum()) for c in CHECKS if c not in skipped}
    summary: dict[str, Any] = {
        "bays": n,
        "violations": len(violations),
        "by_check": by_check,
        "skipped": skipped,
        "bays_without_kerb": without_kerb,
        "bays_separate": int(separate.sum()),
        "kerbs": len(kerb_table),
        "hazards": len(src.hazards),
        "inputs": src.inputs,
        "crs": src.crs.to_string(),
        "warnings": [*src.notes, *src.bays.notes],
    }
    shown = [c for c in ("bay_id", "bay_type") if c in frame.columns]
    checked = gpd.GeoDataFrame(frame[shown].reset_index(drop=True), geometry=src.bays_m, crs=src.crs)
    return CheckResult(violations, summary, bays=checked, kerbs=kerb_table)


def _assemble(
    results: Mapping[str, pd.DataFrame], frame: gpd.GeoDataFrame, ids: NDArray[np.object_], crs: CRS
) -> gpd.GeoDataFrame:
    parts = [results[c] for c in CHECKS if c in results and len(results[c])]
    if not parts:
        return gpd.GeoDataFrame({c: [] for c in COLUMNS}, geometry=[], crs=frame.crs)
    table = pd.concat(parts, ignore_index=True)
    rank = {c: i for i, c in enumerate(CHECKS)}
    table["rank"] = table["check"].map(rank)
    table = table.sort_values(["rank", "bay"], kind="stable").reset_index(drop=True)
    bay = table["bay"].to_numpy(dtype=np.int64)
    geometry = np.asarray(frame.geometry.values, dtype=object)[bay].copy()
    part = table["part"].to_numpy(dtype=object)
    has = np.flatnonzero(~shapely.is_missing(part))
    if len(has):
        geometry[has] = np.asarray(gpd.GeoSeries(part[has], crs=crs).to_crs(frame.crs).values, dtype=object)
    out = pd.DataFrame({"bay_id": ids[bay], **{c: table[c].to_numpy() for c in COLUMNS[1:]}})
    return gpd.GeoDataFrame(out, geometry=geometry, crs=frame.crs)


def check(
    bays: Any,
    kerbs: PathOrFrame,
    hazards: Any = None,
    rules: Rules | str | os.PathLike[str] | Mapping[str, Any] | None = None,
    *,
    extent: Any | None = None,
    ways: PathOrFrame | None = None,
    mode: Mode = "plan",
    corners: CornerSettings | None = None,
    crs: Any | None = None,
) -> gpd.GeoDataFrame:
    """Check a layout of bays against kerbs, hazards and rules, measuring on its own.

    Parameters
    ----------
    bays
        Bay polygons: a path to any vector file GeoPandas reads, a GeoDataFrame (e.g. ``plan.bays``), or a
        :class:`parkplan.Plan` (its bays, and its rules when ``rules`` is not given). Bays with a ``curb_id``
        naming a kerb are measured on that kerb, others on the nearest (:func:`parkplan.check.attach.
        attach_bays`). Bays with ``source = "separate"`` (separately mapped parking) get the geometry checks
        only.
    kerbs
        What :func:`parkplan.plan` takes: kerb lines or street areas (path or GeoDataFrame), or an
        OpenStreetMap extract (``.osm``, ``.osm.pbf``, ``.osm.bz2``, ``.osm.gz``, Overpass JSON)
        read with ``mode``.
    hazards
        Hazard inputs as for :func:`parkplan.plan` (paths, GeoDataFrames, :class:`parkplan.HazardSource`).
    rules
        Rules, a preset name or a TOML path; ``None``: the plan's rules, else ``cn``.
    extent
        Polygon the street-area data was cut to (as for :func:`parkplan.plan`); OSM input: the extract's
        bounding box unless given.
    ways
        Street centrelines giving kerbs their width and flow (as for :func:`parkplan.plan`); OSM input: the
        extract's ways unless given.
    mode
        OSM input: ``"plan"`` ignores parking tags, ``"existing"`` makes every kerb side the tags do not
        allow parking on a ``no_parking`` hazard (checked as ``tagged_no_parking``).
    corners
        Corner settings for street areas.
    crs
        The working CRS, projected and in metres (as for :func:`parkplan.plan`); ``None``: the kerbs' own
        CRS in metres, else their UTM zone.

    Returns
    -------
    geopandas.GeoDataFrame
        One feature per violation, in the bays' CRS: the bay (for ``overlap`` the overlapping part, one
        feature for each of the two bays), with ``bay_id`` (the bays' ``bay_id``, ``id``, ``osm_id`` or
        ``fid``, else ``#ROW``), ``check`` (one of :data:`CHECKS`), ``detail`` (a sentence), ``hazard_id``,
        ``kind``, ``required_m``, ``measured_m`` (None / NaN where they do not apply). ``attrs["summary"]``
        holds the counts by check (:class:`CheckResult`).

    Raises
    ------
    parkplan.errors.ArgumentError
        Before any work, for an argument of the wrong type or value (``bays=None``, a pandas DataFrame
        without geometry, ``mode="x"``...); the message names the argument.
    parkplan.errors.InputError
        For unusable inputs (as :func:`parkplan.plan`).
    parkplan.errors.RulesError
        For a bad rule set.
    """
    result = run_check(
        bays, kerbs, hazards, rules, extent=extent, ways=ways, mode=mode, corners=corners, crs=crs
    )
    result.violations.attrs["summary"] = result.summary
    return result.violations
