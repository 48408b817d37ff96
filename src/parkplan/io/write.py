"""Writing results: RFC 7946 GeoJSON (own writer, deterministic) and other formats through pyogrio.

Geometries are written valid and oriented *as written*, in every format (:func:`clean_geometries`):

* GeoJSON (always WGS 84) has its coordinates snapped to 7 decimals of a degree (1e-7 degree: at most
  1.11 cm north-south, less east-west), as RFC 7946 suggests. GeoPackage, FlatGeobuf and GeoParquet store
  64-bit floats in the layer's CRS (the working CRS for a plan): their coordinates are written as
  computed, on no coarser grid, so what is validated is exactly what they hold; snapping them to 1 mm was
  measured to cost 0.7-1.1 s of CPU per 1.35 million bays for no gain in validity;
* vertices equal to the one before them (after the snapping) are dropped, then polygon rings are
  oriented by their signed area on the coordinates as written (exterior counter-clockwise, holes
  clockwise, in every format; not by GEOS' orientation test, which misreads a ring whose highest vertex
  has neighbours a fraction of a millimetre away);
* every polygon is validated as it will be written (a triangle or quadrilateral that turns left at each
  vertex is valid by construction; the rest go to GEOS). One still invalid (in GeoJSON: a spike narrower
  than the grid that the snapping folds over) is repaired: GEOS' snap-rounding of the unsnapped
  geometry to a valid one on the same grid (``set_precision``; ``make_valid`` without a grid), of which a
  Polygon keeps its largest part, then snapped, deduplicated, oriented and validated again. It is never
  written invalid: one that cannot be repaired is left out;
* a geometry that collapses (a LineString with fewer than two distinct vertices left, which no format
  can hold valid, or a polygon whose exterior has fewer than three) is left out of the file: a point is
  not the line it came from, and a layer of mixed types is awkward in GIS tools. In GeoJSON that is any
  zone line shorter than about a centimetre. A hole that collapses is removed from its polygon (counted as
  a repair).

Repairs and omissions are logged as one warning per layer on the ``parkplan`` logger, with the ``bay_id``
(or ``#`` and the index label) of the first features concerned, and returned by :func:`dump_layer` as a
:class:`GeometryReport`. The work is vectorised (numpy on the coordinate arrays, GEOS validation per
geometry) and per row, so a GeoJSON file is the same for any number of workers; without snapping only
the geometries that change are rebuilt.

Every write is atomic: the data goes to a temporary file beside the target, which replaces the target
only once it is complete, so an error never leaves a partial file. :class:`parkplan.io.targets.OutputPlan`
extends this to several outputs at once (all or none), GeoPackage layers written beside the file's others
and the run's inputs never overwritten; :func:`atomic_paths` is its plain form (whole files), and
:func:`check_output` lets a caller reject an unusable path before any work is done. A GeoPackage layer's
timestamps are fixed (:data:`GPKG_TIMESTAMP`), so identical runs give identical files; GeoJSON geometries
crossing the antimeridian are split there (:func:`split_antimeridian`).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkplan._parallel import fork_imap, thread_map
from parkplan.errors import OutputError
from parkplan.io.paths import LayerPath
from parkplan.io.read import HAS_ARROW, PYOGRIO_ERRORS
from parkplan.io.targets import OutputPlan, Target, layer_target

__all__ = [
    "LAYER_SUFFIXES",
    "Cleaned",
    "GeometryReport",
    "atomic_path",
    "atomic_paths",
    "check_output",
    "clean_geometries",
    "dump_json",
    "dump_layer",
    "geojson_seq_text",
    "geojson_text",
    "split_antimeridian",
    "write_layer",
]

log = logging.getLogger("parkplan")

COORD_DECIMALS = 7
"""Decimal places of lon/lat in GeoJSON (and in any geographic CRS): 1e-7 degree is about 1.1 cm."""

REPORTED_IDS = 20
"""Feature ids a repair warning names (the counts are complete)."""

GEOJSON_SUFFIXES = (".geojson", ".json")
SEQ_SUFFIXES = (".geojsonl", ".geojsons", ".geojsonseq")
LAYER_SUFFIXES = (".geojson", ".json", ".geojsonl", ".geojsons", ".geojsonseq", ".gpkg", ".fgb", ".parquet")
"""Extensions :func:`write_layer` writes: GeoJSON (own writer), GeoJSONSeq (newline-delimited ``.geojsonl``;
RFC 8142 ``.geojsons`` / ``.geojsonseq``, streamed), GeoPackage, FlatGeobuf, GeoParquet."""

WRITE_ERRORS: tuple[type[Exception], ...] = (*PYOGRIO_ERRORS, ImportError)
"""What pyogrio / GeoPandas raise when a format cannot be written; each becomes an OutputError."""


def check_output(path: str | os.PathLike[str], *, layer: bool = True) -> Path:
    """Check that ``path`` can take an output, before any work is done.

    Parameters
    ----------
    path
        The output file.
    layer
        ``True`` for a vector layer (the extension must be one of :data:`LAYER_SUFFIXES`), ``False``
        for a JSON document (any extension).

    Returns
    -------
    pathlib.Path
        The path.

    Raises
    ------
    OutputError
        If the folder does not exist or is not writable, the path is a folder, or the extension names
        no format parkplan writes.
    """
    target = Path(path)
    label = str(target)
    parent = target.parent
    if not parent.exists():
        raise OutputError(f"output folder '{parent}' does not exist; create it first", source=label)
    if not parent.is_dir():
        raise OutputError(f"'{parent}' is a file, not a folder", source=label)
    if target.is_dir():
        raise OutputError("output path is a folder; give a file name", source=label)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"output folder '{parent}' is not writable", source=label)
    if layer:
        suffix = target.suffix.lower()
        if suffix == ".shp":
            raise OutputError(
                "Shapefile output is not supported (it is several files and cuts field names to 10 "
                f"characters); use one of {', '.join(LAYER_SUFFIXES)}",
                source=label,
            )
        if suffix not in LAYER_SUFFIXES:
            raise OutputError(
                f"cannot tell the output format from the extension {suffix or '(none)'!r}; "
                f"use one of {', '.join(LAYER_SUFFIXES)}",
                source=label,
            )
        if suffix == ".parquet" and importlib.util.find_spec("pyarrow") is None:
            raise OutputError(
                "writing .parquet needs pyarrow (pip install pyarrow); or use .gpkg or .fgb", source=label
            )
    return target


@contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """Yield temporary paths beside ``paths``; move them onto ``paths`` only if the block succeeds.

    All or nothing: when the block raises, no target is touched (an existing file stays as it was) and
    the temporary files are removed; when one final move fails, those done are put back
    (:func:`parkplan.io.targets.replace_all`). Each target is replaced whole, whatever its format: to
    write one layer into a GeoPackage beside its others, use :class:`parkplan.io.targets.OutputPlan`.

    Parameters
    ----------
    paths
        Output files; each is checked with :func:`check_output` (``layer=False``) first.

    Yields
    ------
    list of pathlib.Path
        One temporary path per target, in the same folder (so the final move is a rename).

    Raises
    ------
    OutputError
        If a target is unusable, two are the same file, or the final move fails.
    """
    plan = OutputPlan([Target(f"output {n + 1}", check_output(p, layer=False)) for n, p in enumerate(paths)])
    with plan.writing() as temps:
        yield temps


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds."""
    with atomic_paths([path]) as temps:
        yield temps[0]


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if not math.isfinite(v) else v
    if value is pd.NA or value is pd.NaT:
        return None
    return value if isinstance(value, (int, str)) else str(value)


@dataclass
class GeometryReport:
    """What :func:`dump_layer` changed in a layer's geometries to write them valid at the output grid.

    Attributes
    ----------
    written
        Features written.
    repaired
        Ids (``bay_id``, else ``#`` and the row's index label) of features whose geometry was invalid once
        snapped to the grid and was repaired, or lost a hole that collapsed.
    dropped
        Ids of features left out because the snapping collapsed their geometry (or it could not be
        repaired).
    """

    written: int = 0
    repaired: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def log(self, label: str) -> None:
        """Log one warning on the ``parkplan`` logger if anything was repaired or dropped."""
        if not self.repaired and not self.dropped:
            return
        parts = []
        if self.repaired:
            parts.append(
                f"{len(self.repaired)} repaired to be valid on the output grid ({_some(self.repaired)})"
            )
        if self.dropped:
            parts.append(
                f"{len(self.dropped)} left out, collapsed below the output grid ({_some(self.dropped)})"
            )
        log.warning("%s: %s", label, "; ".join(parts))


def _some(ids: list[str]) -> str:
    return ", ".join(ids[:REPORTED_IDS]) + (", ..." if len(ids) > REPORTED_IDS else "")


class Cleaned(NamedTuple):
    """Geometries as :func:`clean_geometries` makes them, one per input row.

    Attributes
    ----------
    geometries
        The cleaned geometries (input missing or empty geometries unchanged).
    keep
        Rows to write: ``False`` where the geometry collapsed at the grid or could not be repaired.
    repaired
        Rows whose geometry was repaired (invalid once snapped, or a hole that collapsed removed).
    """

    geometries: NDArray[np.object_]
    keep: NDArray[np.bool_]
    repaired: NDArray[np.bool_]


def _columns(geoms: NDArray[np.object_]) -> list[NDArray[np.float64]]:
    """Return the coordinates of the geometries as contiguous columns: x, y (and z where any has one)."""
    coords = shapely.get_coordinates(geoms, include_z=bool(shapely.has_z(geoms).any()))
    return [np.ascontiguousarray(coords[:, i]) for i in range(coords.shape[1])]


def _clean_paths(
    cols: list[NDArray[np.float64]], counts: NDArray[np.int64], decimals: int | None
) -> tuple[list[NDArray[np.float64]], NDArray[np.int64]]:
    """Snap coordinates to the grid and drop every vertex equal to the one before it on its path.

    ``cols`` holds the paths' coordinates one path after another, ``counts`` their numbers. Returns the
    columns kept and the new numbers.
    """
    if decimals is not None:
        cols = [np.round(c, decimals) for c in cols]
    n = len(cols[0])
    if n < 2:
        return cols, counts
    repeat = np.zeros(n, dtype=bool)
    np.equal(cols[0][1:], cols[0][:-1], out=repeat[1:])
    for c in cols[1:]:
        repeat[1:] &= c[1:] == c[:-1]
    starts = np.cumsum(counts) - counts
    repeat[starts[(counts > 0) & (starts < n)]] = False
    if repeat.any():
        # The path of each repeat: the last one starting at or before it (empty paths skipped).
        owner = np.searchsorted(starts, np.flatnonzero(repeat), side="right") - 1
        counts = counts - np.bincount(owner, minlength=len(counts))
        cols = [c[~repeat] for c in cols]
    return cols, counts


def _clean_lines(
    lines: NDArray[np.object_], decimals: int | None
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Snapped LineStrings without repeated vertices, and which still have two distinct vertices.

    Without snapping only the lines that lose a vertex are rebuilt.
    """
    counts = shapely.get_num_coordinates(lines)
    cols, sizes = _clean_paths(_columns(lines), counts, decimals)
    alive = sizes >= 2
    changed = np.ones(len(lines), dtype=bool) if decimals is not None else sizes != counts
    out = lines.copy()
    if not changed.any():
        return out, alive
    take = changed & alive
    kept = np.repeat(take, sizes)
    sizes = sizes[take]
    out[changed & ~alive] = shapely.LineString()
    if len(sizes):
        xy = np.column_stack([c[kept] for c in cols])
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        out[take] = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, xy, (offsets,))
    return out, alive


def _clean_polygons(
    polys: NDArray[np.object_], decimals: int | None
) -> tuple[NDArray[np.object_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Snapped, deduplicated, oriented Polygons (not yet validated).

    Returns the polygons; which keep an exterior ring of at least three distinct vertices; which lost a
    hole that collapsed; and which are known valid: a single ring of three or four vertices turning left
    at each, by more than the rounding error of the turn's sign (all left turns and at most four vertices
    make one convex turn, hence a simple ring). Rings are oriented by their signed area on the snapped
    coordinates (exterior counter-clockwise, holes clockwise), computed relative to each ring's first
    vertex.
    """
    n = len(polys)
    holes = shapely.get_num_interior_rings(polys)
    if holes.any():
        rings_per = holes + 1
        counts = shapely.get_num_coordinates(shapely.get_rings(polys))
    else:  # one ring per polygon (bays): its coordinates are the polygon's
        rings_per = np.ones(n, dtype=np.int64)
        counts = shapely.get_num_coordinates(polys)
    cols, sizes = _clean_paths(_columns(polys), counts, decimals)
    geom_offsets = np.concatenate([[0], np.cumsum(rings_per)])
    owner = np.repeat(np.arange(n), rings_per)
    exterior = np.zeros(len(sizes), dtype=bool)
    exterior[geom_offsets[:-1][rings_per > 0]] = True
    ring_ok = sizes >= 4
    alive = np.zeros(n, dtype=bool)
    alive[owner[exterior & ring_ok]] = True
    keep_ring = ring_ok & alive[owner]
    lost_hole = np.zeros(n, dtype=bool)
    lost_hole[owner[~ring_ok & ~exterior]] = True
    lost_hole &= alive
    # Polygons to rebuild: all when snapped; else those that lose a vertex or ring, or turn round.
    changed = np.ones(n, dtype=bool) if decimals is not None else np.zeros(n, dtype=bool)
    changed[owner[(sizes != counts) | ~keep_ring]] = True
    if not keep_ring.all():
        kept = np.repeat(keep_ring, sizes)
        cols = [c[kept] for c in cols]
        sizes, owner, exterior = sizes[keep_ring], owner[keep_ring], exterior[keep_ring]
    rings_left = np.bincount(owner, minlength=n)
    known_valid = np.zeros(n, dtype=bool)
    total = len(cols[0])
    start = np.cumsum(sizes) - sizes
    if total:
        x, y = cols[0], cols[1]
        rx = x - np.repeat(x[start], sizes)
        ry = y - np.repeat(y[start], sizes)
        term = np.zeros(total)
        np.subtract(rx[:-1] * ry[1:], rx[1:] * ry[:-1], out=term[:-1])
        term[start[1:] - 1] = 0.0  # no term across two rings
        area2 = np.add.reduceat(term, start)
        flip = np.where(exterior, area2 < 0, area2 > 0)
        if flip.any():
            changed[owner[flip]] = True
            pos = np.arange(total)
            src = np.where(np.repeat(flip, sizes), np.repeat(2 * start + sizes - 1, sizes) - pos, pos)
            cols = [c[src] for c in cols]
        small = (sizes <= 5) & (rings_left[owner] == 1)
        known_valid[owner[small & _left_turns(cols[0], cols[1], start, sizes)]] = True
    out = polys.copy()
    out[changed & ~alive] = shapely.Polygon()
    take = changed & alive
    ring_take = take[owner]
    if ring_take.any():  # (from_ragged_array needs a coordinate)
        pts = np.repeat(ring_take, sizes)
        out[take] = shapely.from_ragged_array(
            shapely.GeometryType.POLYGON,
            np.column_stack([c[pts] for c in cols]),
            (
                np.concatenate([[0], np.cumsum(sizes[ring_take])]),
                np.concatenate([[0], np.cumsum(rings_left[take])]),
            ),
        )
    return out, alive, lost_hole, known_valid


def _left_turns(
    x: NDArray[np.float64], y: NDArray[np.float64], start: NDArray[np.int64], sizes: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Which closed rings turn left at every vertex, by more than 1e-9 radian (no sign left to rounding)."""
    ex, ey = np.diff(x), np.diff(y)
    # Turn at vertex i + 1, between edge i (into it) and edge i + 1 (out of it): cross and the product
    # of the two edges' squared lengths. A ring's first vertex is entered by its last edge: set apart.
    cross = ex[:-1] * ey[1:]
    cross -= ey[:-1] * ex[1:]
    sq = ex * ex
    sq += ey * ey
    bad = cross <= 0.0
    bad |= cross * cross <= 1e-18 * (sq[:-1] * sq[1:])
    last = start + sizes - 2  # the edge into the closing point
    first_cross = ex[last] * ey[start] - ey[last] * ex[start]
    first_bad = (first_cross <= 0.0) | (first_cross * first_cross <= 1e-18 * sq[last] * sq[start])
    # Per ring: its vertices 1 .. size - 2 are entries start .. start + size - 3 of ``bad`` (a ring of
    # size s has s - 2 of them); entries across two rings are not counted.
    counted = np.zeros(len(bad) + 1, dtype=np.int64)
    counted[1:] = np.cumsum(bad)
    inner_bad = counted[start + sizes - 2] - counted[start]
    return np.asarray((inner_bad == 0) & ~first_bad, dtype=bool)


def _polygon_parts(geoms: NDArray[np.object_], largest: bool) -> NDArray[np.object_]:
    """Return the polygonal parts of each geometry: its largest Polygon, or a MultiPolygon of them all."""
    parts, which = shapely.get_parts(geoms, return_index=True)
    polygon = shapely.get_type_id(parts) == 3
    parts, which = parts[polygon], which[polygon]
    out = np.array([shapely.Polygon()] * len(geoms), dtype=object)
    if len(parts) == 0:
        return out
    if largest:
        order = np.lexsort((-shapely.area(parts), which))
        first = np.ones(len(order), dtype=bool)
        first[1:] = which[order][1:] != which[order][:-1]
        out[which[order][first]] = parts[order][first]
    else:
        present, index = np.unique(which, return_inverse=True)
        out[present] = shapely.multipolygons(parts, indices=index)
    return out


def _repair(
    originals: NDArray[np.object_], decimals: int | None, single: bool
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Repair geometries that snapping made invalid: valid polygonal geometries on the grid.

    GEOS' snap-rounding (``set_precision``) of the unsnapped geometry gives a valid geometry on the grid;
    a Polygon keeps its largest part (``single``), a MultiPolygon all; the result is snapped, deduplicated,
    oriented and validated again. Returns the geometries and which of them are valid and not empty.
    """
    grid = 0.0 if decimals is None else 10.0**-decimals
    fixed = np.empty(len(originals), dtype=object)
    for i, geom in enumerate(originals):  # only the few invalid ones
        try:
            fixed[i] = shapely.set_precision(geom, grid, mode="valid_output") if grid else None
        except shapely.errors.GEOSException:
            fixed[i] = None
        if fixed[i] is None:
            fixed[i] = shapely.make_valid(geom)
    parts = _polygon_parts(fixed, largest=single)
    if single:
        out, alive, _, _ = _clean_polygons(parts, decimals)
    else:
        out, alive = _clean_multipolygons(parts, decimals)
    ok = alive & ~shapely.is_empty(out)
    ok[ok] = shapely.is_valid(out[ok])
    return out, ok


def _clean_multipolygons(
    geoms: NDArray[np.object_], decimals: int | None
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """MultiPolygons through :func:`_clean_polygons` part by part; parts that collapse are removed."""
    parts, which = shapely.get_parts(geoms, return_index=True)
    out = np.array([shapely.MultiPolygon()] * len(geoms), dtype=object)
    alive = np.zeros(len(geoms), dtype=bool)
    if len(parts) == 0:
        return out, alive
    cleaned, ok, _, _ = _clean_polygons(parts, decimals)
    present, index = np.unique(which[ok], return_inverse=True)
    if len(present):
        out[present] = shapely.multipolygons(cleaned[ok], indices=index)
        alive[present] = True
    return out, alive


def clean_geometries(
    geoms: NDArray[np.object_] | Sequence[Any], decimals: int | None, workers: int | None = 1
) -> Cleaned:
    """Geometries as they are written: snapped to the grid, without repeated vertices, oriented, valid.

    Parameters
    ----------
    geoms
        Geometries (any type; missing and empty ones pass unchanged).
    decimals
        Decimals to snap the coordinates to (:data:`COORD_DECIMALS` for GeoJSON); ``None``: no snapping.
    workers
        Threads, each cleaning a range of rows (:func:`parkplan._parallel.thread_map`; ``None``: all
        CPUs). The result is the same for any number.

    Returns
    -------
    Cleaned
        Per row, the geometry, whether to write it and whether it was repaired. Points are snapped;
        LineStrings snapped and deduplicated, left out (``keep`` false) when fewer than two distinct
        vertices remain; Polygons snapped, deduplicated and oriented (exterior counter-clockwise, holes
        clockwise), left out when the exterior collapses, a collapsed hole removed, and, where the result
        is invalid, repaired (see the module docstring); Multi* types part by part, parts that collapse
        removed. Other types (GeometryCollections) are snapped, and repaired to their polygonal parts if
        invalid.
    """
    geoms = np.asarray(geoms, dtype=object)
    parts = thread_map(lambda lo, hi: _clean(geoms[lo:hi], decimals), len(geoms), workers)
    if len(parts) == 1:
        return parts[0]
    return Cleaned(*(np.concatenate(columns) for columns in zip(*parts, strict=True)))


def _clean(geoms: NDArray[np.object_], decimals: int | None) -> Cleaned:
    """Clean one range of rows (:func:`clean_geometries`): 2D and 3D geometries apart.

    (A coordinate array has one number of dimensions.)
    """
    has_z = np.asarray(shapely.has_z(geoms), dtype=bool)
    if not has_z.any() or has_z.all():
        return _clean_alike(geoms, decimals)
    out = Cleaned(geoms.copy(), np.ones(len(geoms), dtype=bool), np.zeros(len(geoms), dtype=bool))
    for sel in (np.flatnonzero(~has_z), np.flatnonzero(has_z)):
        part = _clean_alike(geoms[sel], decimals)
        out.geometries[sel], out.keep[sel], out.repaired[sel] = part
    return out


def _clean_alike(geoms: NDArray[np.object_], decimals: int | None) -> Cleaned:
    """:func:`clean_geometries` on geometries all 2D or all 3D."""
    n = len(geoms)
    out = geoms.copy()
    keep = np.ones(n, dtype=bool)
    repaired = np.zeros(n, dtype=bool)
    if n == 0:
        return Cleaned(out, keep, repaired)
    tid = shapely.get_type_id(geoms)
    tid[shapely.is_empty(geoms)] = -1

    def select(*types: int) -> NDArray[np.int64]:
        return np.flatnonzero(np.isin(tid, types))

    def snapped(sel: NDArray[np.int64]) -> NDArray[np.object_]:
        if decimals is None:
            return geoms[sel]
        return np.asarray(shapely.transform(geoms[sel], lambda xy: np.round(xy, decimals)), dtype=object)

    points = select(0, 4)
    if len(points):
        out[points] = snapped(points)
    lines = select(1)
    if len(lines):
        out[lines], keep[lines] = _clean_lines(geoms[lines], decimals)
    multilines = select(5)
    if len(multilines):
        parts, which = shapely.get_parts(geoms[multilines], return_index=True)
        cleaned, ok = _clean_lines(parts, decimals)
        present, index = np.unique(which[ok], return_inverse=True)
        keep[multilines] = False
        keep[multilines[present]] = True
        out[multilines[present]] = shapely.multilinestrings(cleaned[ok], indices=index)
        repaired[multilines[present]] = (
            np.bincount(which[ok], minlength=len(multilines))[present]
            < np.bincount(which, minlength=len(multilines))[present]
        )
    polys = select(3)
    known_valid = np.zeros(n, dtype=bool)
    if len(polys):
        out[polys], keep[polys], repaired[polys], known_valid[polys] = _clean_polygons(geoms[polys], decimals)
    multipolys = select(6)
    if len(multipolys):
        cleaned, ok = _clean_multipolygons(geoms[multipolys], decimals)
        out[multipolys], keep[multipolys] = cleaned, ok
        n_parts = shapely.get_num_geometries
        repaired[multipolys] = ok & (n_parts(cleaned) < n_parts(geoms[multipolys]))
    others = select(2, 7)
    if len(others):  # (rare: GEOS orients the polygons of a collection)
        out[others] = shapely.orient_polygons(snapped(others), exterior_cw=False)
    # Validate what is written; repair what snapping made invalid (typically a handful of polygons).
    check = np.flatnonzero(keep & np.isin(tid, (3, 6, 7)) & ~known_valid)
    bad = check[~np.asarray(shapely.is_valid(out[check]), dtype=bool)]
    if len(bad):
        for single in (True, False):
            sel = bad[(tid[bad] == 3) == single]
            if len(sel):
                fixed, ok = _repair(geoms[sel], decimals, single)
                out[sel] = fixed
                keep[sel] = ok
                repaired[sel] = ok
    return Cleaned(out, keep, repaired)


def _labels(frame: pd.DataFrame, mask: NDArray[np.bool_]) -> list[str]:
    """Ids of the rows ``mask`` selects: ``bay_id`` where the layer has it, else ``#`` and the index label."""
    if not mask.any():
        return []
    if "bay_id" in frame.columns:
        return [str(v) for v in frame["bay_id"].to_numpy()[mask]]
    return [f"#{v}" for v in frame.index.to_numpy()[mask]]


def _cleaned_frame(
    gdf: gpd.GeoDataFrame, decimals: int | None, workers: int | None = 1
) -> tuple[gpd.GeoDataFrame, list[str], list[str]]:
    """Return the layer as written (:func:`clean_geometries`), and the ids of the rows repaired and left out.

    The rows left out are removed from the layer.
    """
    result = clean_geometries(np.asarray(gdf.geometry.values, dtype=object), decimals, workers)
    # A shallow copy with a new geometry column: the other columns are not copied, the caller's frame
    # is not touched (assigning a column replaces it), and the geometries are not checked again.
    out = gdf.copy(deep=False)
    geometry = gpd.array.GeometryArray(result.geometries, crs=gdf.crs)
    out[gdf.geometry.name] = gpd.GeoSeries(geometry, index=gdf.index)
    if not result.keep.all():
        out = out[result.keep]
    return out, _labels(gdf, result.repaired & result.keep), _labels(gdf, ~result.keep)


def _to_wgs84(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str], list[str]]:
    """Return the rows in WGS 84 as written in GeoJSON (see :func:`_cleaned_frame`).

    Geometries that cross the antimeridian are split there first (:func:`split_antimeridian`).
    """
    out = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    geoms = np.asarray(out.geometry.values, dtype=object)
    split = split_antimeridian(geoms)
    if split is not geoms:
        out = out.copy(deep=False)
        out[out.geometry.name] = gpd.GeoSeries(split, index=out.index, crs=out.crs)
    return _cleaned_frame(out, COORD_DECIMALS)


def _east_of_zero(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Longitudes below 0 moved by +360 degrees (so a geometry across 180 is continuous)."""
    out = xy.copy()
    out[:, 0] = np.where(out[:, 0] < 0.0, out[:, 0] + 360.0, out[:, 0])
    return out


def _back_west(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Longitudes moved by -360 degrees."""
    out = xy.copy()
    out[:, 0] -= 360.0
    return out


def split_antimeridian(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Split longitude / latitude geometries that cross the antimeridian into parts on either side.

    RFC 7946 (3.1.9): a geometry crossing 180 degrees is cut there, a Polygon into a MultiPolygon and a
    LineString into a MultiLineString (Multi* types stay so), with the new vertices exactly at 180 and
    -180. A geometry crosses when its longitudes span more than 180 degrees but less than 180 once the
    western ones are moved by 360 degrees (a bay or kerb spans metres, never half the globe); every other
    geometry is returned as it is. Returns ``geoms`` itself when none crosses (no copy).
    """
    xmin, _, xmax, _ = np.asarray(shapely.bounds(geoms), dtype=float).T
    with np.errstate(invalid="ignore"):
        across = np.flatnonzero((xmax - xmin) > 180.0)
    if len(across) == 0:
        return geoms
    east = np.asarray(shapely.transform(geoms[across], _east_of_zero, include_z=None), dtype=object)
    exmin, _, exmax, _ = np.asarray(shapely.bounds(east), dtype=float).T
    ok = (exmax - exmin) < 180.0
    across, east = across[ok], east[ok]
    if len(across) == 0:
        return geoms
    west_half = shapely.box(0.0, -90.0, 180.0, 90.0)
    east_half = shapely.box(180.0, -90.0, 360.0, 90.0)
    west_part = shapely.intersection(east, west_half)
    east_part = shapely.transform(shapely.intersection(east, east_half), _back_west, include_z=None)
    out = geoms.copy()
    polygonal = np.isin(shapely.get_type_id(geoms[across]), (3, 6))
    for rows, wanted, build in (
        (polygonal, 3, shapely.multipolygons),
        (~polygonal, 1, shapely.multilinestrings),
    ):
        if not rows.any():
            continue
        pieces = np.concatenate([west_part[rows], east_part[rows]])
        owner = np.tile(np.flatnonzero(rows), 2)
        parts, which = shapely.get_parts(pieces, return_index=True)
        keep = shapely.get_type_id(parts) == wanted
        # (an intersection can leave a lower-dimension remnant on the cut: not part of the geometry)
        parts, which = parts[keep], owner[which[keep]]
        order = np.argsort(which, kind="stable")  # each geometry's west part, then its east part
        parts, which = parts[order], which[order]
        present, index = np.unique(which, return_inverse=True)
        out[across[present]] = build(parts, indices=index)
    return out


_LONG_NUMBER = re.compile(r"-?\d+\.\d{8,}(?:e-?\d+)?")


def _short(match: re.Match[str]) -> str:
    return repr(round(float(match.group(0)), COORD_DECIMALS))


_WKT_TYPES = {0: ("POINT ", "Point"), 1: ("LINESTRING ", "LineString"), 3: ("POLYGON ", "Polygon")}


def _geometry_texts(geoms: NDArray[np.object_]) -> list[str]:
    """GeoJSON geometry texts, coordinates with at most :data:`COORD_DECIMALS` decimals.

    Points, LineStrings and Polygons go through GEOS's WKT writer (correctly rounded, trailing zeros
    trimmed) and plain string replacement into GeoJSON coordinates, on one joined string per type; other
    types through GEOS's GeoJSON writer, whose occasional 17-digit numbers (52.461862000000004) are
    rounded back.
    """
    out = np.empty(len(geoms), dtype=object)
    tid = shapely.get_type_id(geoms)
    empty = shapely.is_empty(geoms)
    done = np.zeros(len(geoms), dtype=bool)
    for type_id, (prefix, name) in _WKT_TYPES.items():
        sel = np.flatnonzero((tid == type_id) & ~empty)
        if len(sel) == 0:
            continue
        wkt = shapely.to_wkt(geoms[sel], rounding_precision=COORD_DECIMALS, trim=True)
        body = "|".join(w[len(prefix) :] for w in wkt.tolist())
        if type_id == 0:  # (x y)
            body = body.replace("(", "[").replace(")", "]")
        elif type_id == 1:  # (x y, x y)
            body = body.replace("(", "[[").replace(")", "]]").replace(", ", "],[")
        else:  # ((x y, ...), (x y, ...))
            body = (
                body.replace("), (", "]],[[").replace("((", "[[[").replace("))", "]]]").replace(", ", "],[")
            )
        coords = body.replace(" ", ",").split("|")
        out[sel] = [f'{{"type":"{name}","coordinates":{c}}}' for c in coords]
        done[sel] = True
    rest = np.flatnonzero(~done)
    if len(rest):
        out[rest] = [_LONG_NUMBER.sub(_short, g) for g in shapely.to_geojson(geoms[rest]).tolist()]
    return list(out)


def _chunk_features(rows: gpd.GeoDataFrame) -> tuple[list[str], list[str], list[str]]:
    """Return the RFC 7946 Feature texts of the rows, and the ids of the rows repaired and left out.

    WGS84, snapped, valid, oriented (see :func:`clean_geometries`).
    """
    columns = [c for c in rows.columns if c != rows.geometry.name]
    part, repaired, dropped = _to_wgs84(rows)
    geo = _geometry_texts(np.asarray(part.geometry.values, dtype=object))
    if columns and len(part):
        text = pd.DataFrame(part[columns]).to_json(
            orient="records", lines=True, force_ascii=False, double_precision=15
        )
        # pandas escapes "/" as "\/" (valid, but noisy): unescape it.
        props = text.rstrip("\n").replace("\\/", "/").split("\n")
    else:
        props = ["{}"] * len(part)
    features = [
        f'{{"type":"Feature","properties":{r},"geometry":{g}}}' for r, g in zip(props, geo, strict=True)
    ]
    return features, repaired, dropped


def _feature_chunks(
    gdf: gpd.GeoDataFrame, chunk: int, workers: int | None = None, report: GeometryReport | None = None
) -> Iterator[list[str]]:
    """Yield lists of RFC 7946 Feature texts, ``chunk`` rows at a time, in row order.

    Each chunk is reprojected on its own, so no second copy of the whole layer is ever held. Layers of
    several chunks are turned into text by ``workers`` forked processes (:mod:`parkplan._parallel`;
    default: the CPUs this process may use); the chunks come back in order, so the file is the same
    whatever the number of workers. What the writing repaired or left out goes into ``report``; without
    one, it is logged (:meth:`GeometryReport.log`) once the last chunk is done.
    """
    # The chunks themselves are the items: a Dask task then ships only its own rows.
    parts = [gdf.iloc[lo : lo + chunk] for lo in range(0, len(gdf), chunk)]
    own = report is None
    rep = GeometryReport() if report is None else report
    for features, repaired, dropped in fork_imap(_chunk_features, parts, workers):
        rep.written += len(features)
        rep.repaired.extend(repaired)
        rep.dropped.extend(dropped)
        yield features
    if own:
        rep.log("GeoJSON")


def geojson_text(
    gdf: gpd.GeoDataFrame,
    chunk: int = 20_000,
    workers: int | None = None,
    report: GeometryReport | None = None,
) -> Iterator[str]:
    """Yield the chunks of an RFC 7946 FeatureCollection.

    WGS84 lon/lat snapped to 1e-7 degree, valid geometries, counter-clockwise exterior rings (clockwise
    holes) as written (:func:`clean_geometries`: a geometry that collapses at that grid is left out), no
    ``crs`` member. Vectorised: geometries through GEOS's WKT writer, properties through pandas' JSON
    writer, ``chunk`` features at a time, by ``workers`` processes (default: all CPUs). Repairs and
    omissions go into ``report``, or are logged as a warning without one.
    """
    yield '{"type":"FeatureCollection","features":['
    first = True
    for features in _feature_chunks(gdf, chunk, workers, report):
        if not features:
            continue
        yield ("" if first else ",") + ",".join("\n" + f for f in features)
        first = False
    yield "\n]}\n"


def geojson_seq_text(
    gdf: gpd.GeoDataFrame,
    *,
    record_separator: bool = False,
    chunk: int = 20_000,
    workers: int | None = None,
    report: GeometryReport | None = None,
) -> Iterator[str]:
    """Yield GeoJSON text sequences: one RFC 7946 Feature per line (as in :func:`geojson_text`).

    ``record_separator=True`` starts every record with the ASCII record separator (RFC 8142, ``.geojsons``);
    otherwise newline-delimited (``.geojsonl``). Written ``chunk`` features at a time, never as one document.
    """
    prefix = "\x1e" if record_separator else ""
    for features in _feature_chunks(gdf, chunk, workers, report):
        yield "".join(f"{prefix}{f}\n" for f in features)


def dump_layer(
    gdf: gpd.GeoDataFrame,
    tmp: Path,
    target: str | os.PathLike[str],
    workers: int | None = None,
    *,
    layer: str | None = None,
) -> GeometryReport:
    """Write a layer to the temporary file ``tmp`` in the format ``target``'s extension names.

    ``.geojson`` / ``.json`` use parkplan's RFC 7946 writer, ``.geojsonl`` / ``.geojsons`` its GeoJSON
    text-sequence writer (streamed), both in WGS 84; ``.gpkg`` and ``.fgb`` go through pyogrio,
    ``.parquet`` through GeoPandas, in the layer's CRS. In every format the geometries are written as
    :func:`clean_geometries` makes them (snapped to 1e-7 degree in GeoJSON, as computed elsewhere): valid,
    rings oriented, none collapsed. ``workers``: processes that turn GeoJSON chunks into text, threads that
    validate the other formats' geometries (default: all CPUs; the file is the same for any number).

    A GeoPackage layer is named ``layer`` (default: ``target``'s stem) and written into ``tmp`` beside
    the layers already there (one of the same name is replaced), with its timestamps fixed
    (:data:`GPKG_TIMESTAMP`), so the same layer gives the same bytes in every run.

    Returns
    -------
    GeometryReport
        Features written, repaired and left out; a warning is logged when any were repaired or left out.

    Raises
    ------
    OutputError
        If the extension is not one of :data:`LAYER_SUFFIXES` or the format cannot be written.
    """
    check_output(target)
    suffix = Path(target).suffix.lower()
    report = GeometryReport()
    try:
        if suffix in GEOJSON_SUFFIXES:
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
                _write_chunks(fh, geojson_text(gdf, workers=workers, report=report))
        elif suffix in SEQ_SUFFIXES:
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
                _write_chunks(
                    fh,
                    geojson_seq_text(
                        gdf, record_separator=suffix != ".geojsonl", workers=workers, report=report
                    ),
                )
        else:
            cleaned, report.repaired, report.dropped = _cleaned_frame(gdf, None, workers)
            report.written = len(cleaned)
            if suffix == ".parquet":
                cleaned.to_parquet(tmp)
            else:
                # The layer is named after the target, not the temporary file (GPKG rejects its dots).
                driver = "GPKG" if suffix == ".gpkg" else "FlatGeobuf"
                with _fixed_timestamps():
                    cleaned.to_file(
                        tmp,
                        engine="pyogrio",
                        driver=driver,
                        layer=layer if layer is not None else Path(target).stem,
                        use_arrow=HAS_ARROW,
                    )
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", source=str(target)) from exc
    except Exception as exc:
        # pyogrio's and GeoPandas' errors, and Arrow's when the layer is written through Arrow.
        if not isinstance(exc, WRITE_ERRORS) and not type(exc).__module__.startswith("pyarrow"):
            raise
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise OutputError(f"cannot write {suffix}: {reason}", source=str(target)) from exc
    report.log(str(target))
    return report


GPKG_TIMESTAMP = "1970-01-01T00:00:00.000Z"
"""The time GeoPackage layers are stamped with (``gpkg_contents.last_change``; GDAL's ``OGR_CURRENT_DATE``
option): a fixed one, so that identical runs give identical files. An ``OGR_CURRENT_DATE`` set by the user
(environment or GDAL configuration) is kept."""


@contextmanager
def _fixed_timestamps() -> Iterator[None]:
    """Set GDAL's ``OGR_CURRENT_DATE`` to :data:`GPKG_TIMESTAMP` for the block only (unless already set)."""
    import pyogrio

    if pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") is not None:
        yield
        return
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def _plain(value: Any) -> Any:
    """``value`` with NaN / infinite floats replaced by ``None`` (JSON has no NaN), recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
        return None
    return value


def dump_json(data: Any, tmp: Path) -> None:
    """Write a JSON document (insertion order kept, NaN written as null) to the temporary file ``tmp``."""
    text = json.dumps(_plain(data), indent=2, ensure_ascii=False, default=_json_value, allow_nan=False) + "\n"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def write_layer(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike[str] | LayerPath, *, overwrite: bool = False
) -> Path:
    """Write a layer atomically; the format follows the extension (see :func:`dump_layer`).

    ``path`` may be ``PATH:LAYER`` (or a :class:`parkplan.io.paths.LayerPath`) for a GeoPackage, whose other
    layers are kept (:class:`parkplan.io.targets.OutputPlan`); the layer is the file's stem when not named.
    A layer that exists is replaced only with ``overwrite``.

    Raises
    ------
    OutputError
        If the path or format is unusable, the GeoPackage layer exists and ``overwrite`` is false, or
        the file cannot be written.
    """
    target = layer_target("layer", path)
    with OutputPlan([target], overwrite=overwrite).writing() as temps:
        dump_layer(gdf, temps[0], target.path, layer=target.layer)
    return target.path


def _write_chunks(fh: IO[str], chunks: Iterator[str]) -> None:
    buf: list[str] = []
    size = 0
    for chunk in chunks:
        buf.append(chunk)
        size += len(chunk)
        if size > 1 << 20:
            fh.write("".join(buf))
            buf, size = [], 0
    fh.write("".join(buf))
