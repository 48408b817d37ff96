"""Writing results: RFC 7946 GeoJSON (own writer, deterministic) and other formats through pyogrio.

Every write is atomic: the data goes to a temporary file beside the target, which replaces the target
only once it is complete, so an error never leaves a partial file. :func:`atomic_paths` extends this to
several outputs at once (all or none), and :func:`check_output` lets a caller reject an unusable path
before any work is done.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkplan.errors import OutputError
from parkplan.io import HAS_ARROW, PYOGRIO_ERRORS
from parkplan.parallel import fork_imap

__all__ = [
    "LAYER_SUFFIXES",
    "atomic_path",
    "atomic_paths",
    "check_output",
    "dump_json",
    "dump_layer",
    "geojson_seq_text",
    "geojson_text",
    "write_layer",
]

COORD_DECIMALS = 7
"""Decimal places of lon/lat in GeoJSON: 1e-7 degree is about 1.1 cm."""

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


def _temp_beside(target: Path) -> Path:
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp" + target.suffix, dir=target.parent
        )
    except OSError as exc:
        raise OutputError(f"cannot write here: {exc.strerror or exc}", source=str(target)) from exc
    os.close(fd)
    os.unlink(tmp)
    return Path(tmp)


@contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """Yield temporary paths beside ``paths``; move them onto ``paths`` only if the block succeeds.

    All or nothing: when the block raises, no target is touched (an existing file stays as it was)
    and the temporary files are removed.

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
        If a target is unusable or the final move fails.
    """
    targets = [check_output(p, layer=False) for p in paths]
    temps: list[Path] = []
    try:
        for target in targets:
            temps.append(_temp_beside(target))
        yield temps
        for tmp, target in zip(temps, targets, strict=True):
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise OutputError(f"cannot write: {exc.strerror or exc}", source=str(target)) from exc
    finally:
        for tmp in temps:
            if tmp.exists():
                tmp.unlink()


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


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    geoms = np.asarray(out.geometry.values, dtype=object)
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))
    return gpd.GeoDataFrame(out.drop(columns=out.geometry.name), geometry=geoms, crs=4326)


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


def _chunk_features(rows: gpd.GeoDataFrame) -> list[str]:
    """RFC 7946 Feature texts of the rows (WGS84, rounded, oriented)."""
    columns = [c for c in rows.columns if c != rows.geometry.name]
    part = _to_wgs84(rows)
    geo = _geometry_texts(np.asarray(part.geometry.values, dtype=object))
    if columns:
        text = pd.DataFrame(part[columns]).to_json(
            orient="records", lines=True, force_ascii=False, double_precision=15
        )
        # pandas escapes "/" as "\/" (valid, but noisy): unescape it.
        rows = text.rstrip("\n").replace("\\/", "/").split("\n")
    else:
        rows = ["{}"] * len(part)
    return [f'{{"type":"Feature","properties":{r},"geometry":{g}}}' for r, g in zip(rows, geo, strict=True)]


def _feature_chunks(gdf: gpd.GeoDataFrame, chunk: int, workers: int | None = None) -> Iterator[list[str]]:
    """Yield lists of RFC 7946 Feature texts, ``chunk`` at a time, in row order.

    Each chunk is reprojected on its own, so no second copy of the whole layer is ever held. Layers of
    several chunks are turned into text by ``workers`` forked processes (:mod:`parkplan.parallel`;
    default: the CPUs this process may use); the chunks come back in order, so the file is the same
    whatever the number of workers.
    """
    # The chunks themselves are the items: a Dask task then ships only its own rows.
    parts = [gdf.iloc[lo : lo + chunk] for lo in range(0, len(gdf), chunk)]
    yield from fork_imap(_chunk_features, parts, workers)


def geojson_text(gdf: gpd.GeoDataFrame, chunk: int = 20_000, workers: int | None = None) -> Iterator[str]:
    """Yield the chunks of an RFC 7946 FeatureCollection.

    WGS84 lon/lat, counter-clockwise exterior rings (clockwise holes), coordinates rounded to 1e-7
    degree, no ``crs`` member. Vectorised: geometries through GEOS's GeoJSON writer, properties through
    pandas' JSON writer, ``chunk`` features at a time, by ``workers`` processes (default: all CPUs).
    """
    yield '{"type":"FeatureCollection","features":['
    first = True
    for features in _feature_chunks(gdf, chunk, workers):
        yield ("" if first else ",") + ",".join("\n" + f for f in features)
        first = False
    yield "\n]}\n"


def geojson_seq_text(
    gdf: gpd.GeoDataFrame, *, record_separator: bool = False, chunk: int = 20_000, workers: int | None = None
) -> Iterator[str]:
    """Yield GeoJSON text sequences: one RFC 7946 Feature per line.

    ``record_separator=True`` starts every record with the ASCII record separator (RFC 8142, ``.geojsons``);
    otherwise newline-delimited (``.geojsonl``). Written ``chunk`` features at a time, never as one document.
    """
    prefix = "\x1e" if record_separator else ""
    for features in _feature_chunks(gdf, chunk, workers):
        yield "".join(f"{prefix}{f}\n" for f in features)


def dump_layer(
    gdf: gpd.GeoDataFrame, tmp: Path, target: str | os.PathLike[str], workers: int | None = None
) -> None:
    """Write a layer to the temporary file ``tmp`` in the format ``target``'s extension names.

    ``.geojson`` / ``.json`` use parkplan's RFC 7946 writer, ``.geojsonl`` / ``.geojsons`` its GeoJSON
    text-sequence writer (streamed); ``.gpkg`` and ``.fgb`` go through pyogrio, ``.parquet`` through
    GeoPandas. ``workers``: processes that turn GeoJSON chunks into text (default: all CPUs; the file is
    the same for any number).

    Raises
    ------
    OutputError
        If the extension is not one of :data:`LAYER_SUFFIXES` or the format cannot be written.
    """
    check_output(target)
    suffix = Path(target).suffix.lower()
    try:
        if suffix in GEOJSON_SUFFIXES:
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
                _write_chunks(fh, geojson_text(gdf, workers=workers))
        elif suffix in SEQ_SUFFIXES:
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
                _write_chunks(
                    fh, geojson_seq_text(gdf, record_separator=suffix != ".geojsonl", workers=workers)
                )
        elif suffix == ".parquet":
            gdf.to_parquet(tmp)
        else:
            # The layer is named after the target, not the temporary file (GPKG rejects its dots).
            driver = "GPKG" if suffix == ".gpkg" else "FlatGeobuf"
            gdf.to_file(tmp, engine="pyogrio", driver=driver, layer=Path(target).stem, use_arrow=HAS_ARROW)
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", source=str(target)) from exc
    except Exception as exc:
        # pyogrio's and GeoPandas' errors, and Arrow's when the layer is written through Arrow.
        if not isinstance(exc, WRITE_ERRORS) and not type(exc).__module__.startswith("pyarrow"):
            raise
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise OutputError(f"cannot write {suffix}: {reason}", source=str(target)) from exc


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


def write_layer(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a layer atomically; the format follows the extension (see :func:`dump_layer`).

    Raises
    ------
    OutputError
        If the path or format is unusable, or the file cannot be written.
    """
    target = check_output(path)
    with atomic_path(target) as tmp:
        dump_layer(gdf, tmp, target)
    return target


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
