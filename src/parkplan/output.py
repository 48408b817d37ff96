"""Writing results: RFC 7946 GeoJSON (own writer, deterministic) and other formats through pyogrio.

Every write is atomic: the data goes to a temporary file beside the target, which replaces the target
only once it is complete, so an error never leaves a partial file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkplan.errors import InputError

__all__ = ["atomic_path", "geojson_text", "write_json", "write_layer"]

COORD_DECIMALS = 7
"""Decimal places of lon/lat in GeoJSON: 1e-7 degree is about 1.1 cm."""

GEOJSON_SUFFIXES = (".geojson", ".json")


def _check_target(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise InputError(f"output folder {str(parent)!r} does not exist", source=str(path))
    if path.is_dir():
        raise InputError("output path is a folder", source=str(path))


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds."""
    target = Path(path)
    _check_target(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp" + target.suffix, dir=target.parent or ".")
    os.close(fd)
    os.unlink(tmp)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


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


def _ring_json(coords: np.ndarray) -> str:
    return "[" + ",".join(f"[{x!r},{y!r}]" for x, y in coords.tolist()) + "]"


def _geometry_json(geom: Any) -> str:
    """GeoJSON text of a (rounded, WGS84) Polygon or LineString; other types via shapely."""
    tid = shapely.get_type_id(geom)
    if tid == 3:  # Polygon
        rings = [geom.exterior, *geom.interiors]
        body = ",".join(_ring_json(np.asarray(r.coords)) for r in rings)
        return '{"type":"Polygon","coordinates":[' + body + "]}"
    if tid == 1:  # LineString
        return '{"type":"LineString","coordinates":' + _ring_json(np.asarray(geom.coords)) + "}"
    return shapely.to_geojson(geom)


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    geoms = np.asarray(out.geometry.values, dtype=object)
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))
    return gpd.GeoDataFrame(out.drop(columns=out.geometry.name), geometry=geoms, crs=4326)


def geojson_text(gdf: gpd.GeoDataFrame) -> Iterator[str]:
    """Yield the chunks of an RFC 7946 FeatureCollection: WGS84 lon/lat, counter-clockwise exterior rings
    (clockwise holes), coordinates rounded to 1e-7 degree, no ``crs`` member.
    """
    wgs = _to_wgs84(gdf)
    columns = [c for c in wgs.columns if c != wgs.geometry.name]
    values = [wgs[c].to_numpy(dtype=object) for c in columns]
    geoms = np.asarray(wgs.geometry.values, dtype=object)
    yield '{"type":"FeatureCollection","features":['
    for i, geom in enumerate(geoms):
        props = {c: _json_value(v[i]) for c, v in zip(columns, values, strict=True)}
        prefix = "," if i else ""
        yield (
            f'{prefix}\n{{"type":"Feature","properties":{json.dumps(props, ensure_ascii=False, separators=(",", ":"))},'
            f'"geometry":{_geometry_json(geom)}}}'
        )
    yield "\n]}\n"


def write_layer(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a layer atomically; the format follows the extension.

    ``.geojson`` / ``.json`` use parkplan's RFC 7946 writer; any other extension is handed to
    pyogrio (``.gpkg``, ``.fgb``, ``.shp``; ``.parquet`` through GeoPandas).
    """
    target = Path(path)
    suffix = target.suffix.lower()
    with atomic_path(target) as tmp:
        if suffix in GEOJSON_SUFFIXES:
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
                _write_chunks(fh, geojson_text(gdf))
        elif suffix == ".parquet":
            gdf.to_parquet(tmp)
        else:
            try:
                gdf.to_file(tmp, engine="pyogrio")
            except Exception as exc:
                raise InputError(f"cannot write this format: {exc}", source=str(target)) from exc
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


def write_json(data: Any, path: str | os.PathLike[str]) -> Path:
    """Write a JSON document atomically (sorted keys are not imposed; insertion order is kept)."""
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=_json_value) + "\n", encoding="utf-8")
    return target
