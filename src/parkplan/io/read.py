"""Reading kerbs and hazards, checking them, and choosing the metric working CRS.

Everything that comes from outside passes through here: files are read with pyogrio (through
GeoPandas), every feature is checked (null, empty, wrong-type or non-finite geometry; coordinates out
of range; negative widths; unknown kinds), and the data is reprojected to one local metric CRS.

What is read is what the user meant, or an error says why not:

* a file with several layers (a GeoPackage) is read only when the layer is named (``PATH:LAYER``, a
  :class:`parkplan.io.paths.LayerPath`, or the command line's ``--layer``): :func:`input_layer`;
* integer ids beyond what a float holds exactly (20-digit ids, which GDAL reads as floating-point
  numbers, and 19-digit ones in a column with empty values) are read back exactly, as text, from the
  file itself: :func:`exact_ids`;
* longitude and latitude data is planned in one UTM zone only when that zone measures all of it to
  :data:`MAX_SCALE_ERROR` (:func:`utm_crs`), and a feature drawn across the antimeridian is read as the
  short piece it is, not as a line round the globe.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio.errors
import shapely
import shapely.errors
from numpy.typing import NDArray
from pyproj import CRS, Proj, Transformer
from pyproj.exceptions import CRSError

from parkplan.arguments import check_hazard_source, check_text
from parkplan.errors import InputError
from parkplan.io.paths import LayerPath

__all__ = [
    "MAX_CRS_SCALE_ERROR",
    "MAX_SCALE_ERROR",
    "SCALE_GRID",
    "HazardSource",
    "exact_ids",
    "input_layer",
    "metric_crs",
    "read_extent",
    "read_hazards",
    "read_kerbs",
    "read_vector",
    "text_column",
    "to_metric",
    "utm_crs",
    "utm_zone_crs",
]

log = logging.getLogger("parkplan")

KERB_TYPES = ("LineString", "MultiLineString", "Polygon", "MultiPolygon")
HAZARD_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
)
ID_COLUMNS = ("curb_id", "hazard_id", "id", "osm_id", "fid")

PathOrFrame: TypeAlias = str | PathLike[str] | LayerPath | gpd.GeoDataFrame
"""An input: a file (``PATH`` or ``PATH:LAYER`` as text, a path, a :class:`LayerPath`) or a GeoDataFrame."""


@dataclass(frozen=True)
class HazardSource:
    """A hazard input: a file or GeoDataFrame, optionally with one kind for all its features.

    Parameters
    ----------
    data
        Path to a vector file (``PATH:LAYER`` or a :class:`LayerPath` for one layer of a file with
        several) or a GeoDataFrame.
    kind
        When given, every feature gets this kind (the CLI's ``-f KIND=PATH``); otherwise each feature
        needs a ``kind`` property.

    Raises
    ------
    parkplan.errors.ArgumentError
        If ``data`` is no path or GeoDataFrame, or ``kind`` no non-empty string.
    """

    data: PathOrFrame
    kind: str | None = None

    def __post_init__(self) -> None:
        """Check the arguments (:func:`parkplan.arguments.check_hazard_source`)."""
        check_hazard_source(self.data, self.kind)

    @classmethod
    def parse(cls, text: str) -> HazardSource:
        """Parse the CLI form ``PATH`` or ``KIND=PATH`` (split at the first ``=``).

        A leading ``KIND=`` is recognised only when ``KIND`` looks like a kind name (letters, digits,
        ``_`` and ``-``), so a path that merely contains ``=`` further on still works; and when the
        part after the first ``=`` is no file but the whole text is one, the whole text is the path.

        Raises
        ------
        InputError
            If ``KIND=`` is followed by no path.
        parkplan.errors.ArgumentError
            If ``text`` is not a string.
        """
        check_text(text, "text", "HazardSource.parse", "a string PATH or KIND=PATH")
        head, sep, tail = text.partition("=")
        if sep and head and all(c.isalnum() or c in "_-" for c in head):
            if not tail:
                raise InputError(
                    f"no path after '{head}='; give hazards as -f KIND=PATH, e.g. -f {head}=hazards.geojson",
                    source=text,
                )
            if not Path(tail).exists() and Path(text).exists():
                return cls(text)
            return cls(tail, head)
        return cls(text)


GEOMETRY_TYPE_NAMES = np.array(
    [
        "Point",
        "LineString",
        "LinearRing",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "GeometryCollection",
    ],
    dtype=object,
)
"""Geometry type names by ``shapely.get_type_id``."""

HAS_ARROW = importlib.util.find_spec("pyarrow") is not None
"""Read and write files through Arrow when pyarrow is installed (the ``parquet`` extra): reading about 2x,
writing GeoPackage about 1.4x faster."""


def text_column(values: object, n: int) -> pd.Series:
    """``n`` strings (one value repeated, or a sequence) as a column of Python strings.

    Object dtype on purpose: pandas 3 would otherwise convert every text column to Arrow strings, which
    costs more than all the arithmetic on a table of millions of zones.
    """
    arr = np.empty(n, dtype=object)
    arr[:] = values
    return pd.Series(arr, dtype=object, copy=False)


def _label(data: PathOrFrame, default: str) -> str:
    return default if isinstance(data, gpd.GeoDataFrame) else str(data)


def _stem(data: PathOrFrame, label: str) -> str:
    """Return what numbered ids start with: the layer's name, else the file's stem (``label`` for a frame)."""
    if isinstance(data, gpd.GeoDataFrame):
        return label
    src = LayerPath.parse(data)
    return src.layer if src.layer is not None else src.path.stem


PYOGRIO_ERRORS: tuple[type[Exception], ...] = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
)
"""What pyogrio raises for a file it cannot read or write."""

READ_ERRORS: tuple[type[Exception], ...] = (
    *PYOGRIO_ERRORS,
    shapely.errors.GEOSException,
    CRSError,
    OSError,
    UnicodeDecodeError,
)
"""What reading a file with pyogrio / GeoPandas raises for a bad file; each becomes an InputError."""

GEOJSON_SUFFIXES = (".geojson", ".json", ".geojsonl", ".geojsons")
_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def _gdal_reason(exc: Exception) -> str:
    """First line of a GDAL / GEOS message, without GDAL's hint about driver prefixes."""
    text = str(exc).strip()
    reason = text.splitlines()[0] if text else type(exc).__name__
    reason = reason.split("; It might help to specify the correct driver", 1)[0].rstrip(". ")
    if "not recognized as being in a supported file format" in reason:
        return (
            "not a vector format GDAL recognises; use GeoJSON, GeoPackage, FlatGeobuf or Shapefile "
            "and check the file extension"
        )
    return reason


def _json_feature_name(feature: dict[str, Any], index: int) -> str:
    props = feature.get("properties")
    if isinstance(props, dict):
        for col in ID_COLUMNS:
            if props.get(col) is not None:
                return f"{col}={props[col]}"
    if feature.get("id") is not None:
        return f"id={feature['id']}"
    return f"#{index}"


def _position_problem(pos: Any) -> str | None:
    if not isinstance(pos, list) or len(pos) < 2:
        return f"a position must be an array of 2 or 3 numbers, not {json.dumps(pos)[:40]}"
    for v in pos:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return f"coordinate {json.dumps(v)[:40]} is not a number; fix or delete the feature"
        if not math.isfinite(v):
            return "coordinate is NaN or infinite; fix or delete the feature"
    return None


def _geometry_problem(geom: Any) -> str | None:
    """Return what makes one GeoJSON geometry object unreadable, or ``None``."""
    if geom is None:
        return None
    if not isinstance(geom, dict):
        return "geometry must be a GeoJSON geometry object or null"
    gtype = geom.get("type")
    if gtype == "GeometryCollection":
        parts = geom.get("geometries")
        if not isinstance(parts, list):
            return "a GeometryCollection needs a 'geometries' array"
        for part in parts:
            problem = _geometry_problem(part)
            if problem:
                return problem
        return None
    if gtype not in _DEPTH:
        return f"unknown geometry type {gtype!r}; GeoJSON types are {', '.join(_DEPTH)}, GeometryCollection"
    depth = _DEPTH[str(gtype)]

    def walk(value: Any, level: int) -> str | None:
        if level == 0:
            return _position_problem(value)
        if not isinstance(value, list):
            return f"{gtype} coordinates are not nested arrays as GeoJSON requires"
        if gtype in ("LineString", "MultiLineString") and level == 1 and len(value) < 2:
            return f"a line needs at least 2 positions, this one has {len(value)}"
        if gtype in ("Polygon", "MultiPolygon") and level == 1:
            if len(value) < 4:
                return f"a polygon ring needs at least 4 positions, this one has {len(value)}"
            if value[0] != value[-1]:
                return "polygon ring is not closed: repeat its first position at the end"
        for item in value:
            problem = walk(item, level - 1)
            if problem:
                return problem
        return None

    return walk(geom.get("coordinates"), depth)


def diagnose_geojson(path: str | PathLike[str]) -> InputError | None:
    """Find why a GeoJSON file cannot be used: a JSON syntax error, or the first malformed feature.

    Used when GDAL fails to read a ``.geojson`` / ``.json`` file, or reads a feature as a null
    geometry, to give a message that points at the line or the feature.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    InputError or None
        The problem found, or ``None`` when the file looks like well-formed GeoJSON.
    """
    label = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None
    if not raw.strip():
        return InputError("the file is empty; expected a GeoJSON FeatureCollection", source=label)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return InputError(
            f"not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}); GeoJSON must be UTF-8, "
            "export it again as UTF-8",
            source=label,
        )
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return InputError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; "
            "fix the file or export it again",
            source=label,
        )
    except RecursionError:
        return InputError("not usable JSON: nested too deeply", source=label)
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        return InputError(
            'not GeoJSON: the top level must be an object with a "type", e.g. a FeatureCollection',
            source=label,
        )
    if doc["type"] == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            return InputError('not GeoJSON: a FeatureCollection needs a "features" array', source=label)
    elif doc["type"] == "Feature":
        features = [doc]
    elif doc["type"] in _DEPTH or doc["type"] == "GeometryCollection":
        features = [{"type": "Feature", "geometry": doc}]
    else:
        return InputError(
            f"not GeoJSON: unknown type {doc['type']!r}; expected a FeatureCollection", source=label
        )
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            return InputError("not a GeoJSON Feature object", source=label, feature=f"#{i}")
        problem = _geometry_problem(feature.get("geometry"))
        if problem:
            return InputError(problem, source=label, feature=_json_feature_name(feature, i))
    return None


SINGLE_LAYER_SUFFIXES = (*GEOJSON_SUFFIXES, ".geojsonseq", ".fgb", ".shp", ".parquet", ".geoparquet")
"""Formats that hold one layer: read without listing their layers first (GDAL parses a whole GeoJSON file
to list its layer)."""

LAYERS_LISTED = 12
"""At most this many layer names in an error message."""


def _layer_names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:LAYERS_LISTED])
    return shown if len(names) <= LAYERS_LISTED else f"{shown}, ... ({len(names)} in all)"


def input_layer(
    data: str | PathLike[str] | LayerPath,
    default: str | None = None,
    *,
    what: str,
    option: str | None = None,
) -> LayerPath:
    """Choose the layer of an input file to read.

    A layer the input names (``PATH:LAYER``, a :class:`LayerPath`) must exist. A file with one layer (or
    one layer with geometry beside attribute tables) gives that one, whatever ``default`` says, since
    the command line's ``--layer`` also names the output layer. A file with several needs one named: the
    input's own, else ``default`` when the file has that layer; otherwise an error lists the layers.

    Parameters
    ----------
    data
        ``PATH`` or ``PATH:LAYER`` (:meth:`LayerPath.parse`), a path, or a :class:`LayerPath`.
    default
        The layer to read from a file with several when ``data`` names none (the command line's
        ``--layer``).
    what
        What the file holds (``"kerbs"``, ``"hazards"``, ...), for messages.
    option
        How the user gives ``default`` (``"--layer"``), named in the hint of the error; ``None``: the
        hint names only ``PATH:LAYER``.

    Returns
    -------
    LayerPath
        The file and the layer to read (``None``: the file's only layer, or a file that cannot be listed,
        whose error :func:`read_vector` reports).

    Raises
    ------
    InputError
        If the named layer is not in the file, or the file has several layers and none is named.
    """
    src = LayerPath.parse(data)
    path = src.path
    if src.layer is None and path.suffix.lower() in SINGLE_LAYER_SUFFIXES:
        return src
    if not path.exists() or (path.is_dir() and path.suffix.lower() != ".gdb"):
        return src
    try:
        listed = pyogrio.list_layers(path)
    except READ_ERRORS:
        return src
    names = [str(row[0]) for row in listed]
    spatial = [str(row[0]) for row in listed if row[1] is not None]
    if src.layer is not None:
        if src.layer in names:
            return src
        folded = [n for n in names if n.casefold() == src.layer.casefold()]
        if len(folded) == 1:
            return LayerPath(path, folded[0])
        raise InputError(
            f"no layer {src.layer!r} in the file; its layers: {_layer_names(names) or 'none'}",
            source=str(path),
        )
    choices = spatial or names
    if len(choices) <= 1:
        return src if len(names) <= 1 else LayerPath(path, choices[0])
    if default is not None and default in choices:
        return LayerPath(path, default)
    missing = f" and none is {default!r} ({option})" if default is not None and option else ""
    hint = f" or {option} NAME" if option else ""
    raise InputError(
        f"the file has {len(choices)} layers ({_layer_names(choices)}){missing}; name the one to read as "
        f"{what}: {path}:LAYER{hint}",
        source=str(path),
    )


EXACT_FLOAT = 2.0**53
"""Integers from here on are not all exact as floating-point numbers."""

ID_TEXT_COLUMNS = ("curb_id", "hazard_id", "bay_id", "street_id", "id", "osm_id", "fid")
"""Columns that hold ids (used as text), whose integers :func:`exact_ids` keeps exact."""

_FLOAT_TEXT = re.compile(r"-?\d(\.\d+)?e\+\d+")
"""GDAL's text of a floating-point number, as it writes a GeoJSON feature ``id`` beyond 64 bits."""


def _integral_text(values: NDArray[np.float64]) -> NDArray[np.object_]:
    """Integral floats below :data:`EXACT_FLOAT` as integer text; NaN as ``None``."""
    out = np.full(len(values), None, dtype=object)
    ok = ~np.isnan(values)
    out[ok] = [str(int(v)) for v in values[ok].tolist()]
    return out


def _json_features(path: Path) -> list[Any] | None:
    """Read the features of a GeoJSON file (or sequence), numbers kept as the text they are written as."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None

    def load(part: str) -> Any:
        return json.loads(part, parse_int=str, parse_float=str)

    try:
        if path.suffix.lower() in (".geojsonl", ".geojsons", ".geojsonseq"):
            records = [r for r in re.split(r"[\n\x1e]", text) if r.strip()]
            return [load(r) for r in records]
        doc = load(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features")
        return features if isinstance(features, list) else None
    return [doc] if isinstance(doc, dict) and doc.get("type") == "Feature" else None


def _json_ids(features: list[Any], column: str) -> list[Any]:
    """Each feature's ``column`` property as written (the feature's own ``id`` for ``"id"`` without one)."""
    out: list[Any] = []
    for feature in features:
        value = None
        if isinstance(feature, dict):
            props = feature.get("properties")
            if isinstance(props, dict) and column in props:
                value = props[column]
            elif column == "id":
                value = feature.get("id")
        out.append(None if value is None else value if isinstance(value, str) else json.dumps(value))
    return out


def exact_ids(gdf: gpd.GeoDataFrame, src: LayerPath | None = None) -> list[str]:
    """Make the id columns (:data:`ID_TEXT_COLUMNS`) exact: integers as their digits, in place.

    GDAL reads an integer beyond 64 bits (a 20-digit id such as ``12345678901234567890``) as a
    floating-point number (its GeoJSONSeq reader clamps it to the 64-bit limit), and pandas turns a
    column of 64-bit integers with an empty value into floats: all keep fewer digits than the id has,
    so distinct ids become equal. A float id column whose values
    are all integral below :data:`EXACT_FLOAT` becomes integer text (``5``, not ``5.0``). One holding
    larger values (or an integer column holding a 64-bit limit) is read again from the file: a GeoJSON
    file's text (its features in order, the digits as written), or another format through Arrow, which
    keeps 64-bit integers. A feature ``id`` beyond 64 bits, which GDAL gives as text like
    ``1.2345678901234567e+19``, is read back the same way.

    Parameters
    ----------
    gdf
        The frame as read; its id columns are replaced by text columns (``None`` where empty).
    src
        The file it was read from; ``None`` for a GeoDataFrame given in memory, whose large float ids
        cannot be recovered and are left as they are.

    Returns
    -------
    list
        The columns that could not be made exact (floats in the source itself).
    """
    lossy: list[str] = []
    for column in ID_TEXT_COLUMNS:
        if column not in gdf.columns:
            continue
        values = gdf[column]
        if pd.api.types.is_float_dtype(values.dtype):
            v = values.to_numpy(dtype=float, na_value=np.nan)
            given = v[~np.isnan(v)]
            if not len(given) or not np.isfinite(given).all() or (given != np.trunc(given)).any():
                continue
            if (np.abs(given) >= EXACT_FLOAT).any():
                lossy.append(column)
            else:
                gdf[column] = text_column(_integral_text(v), len(v))
        elif pd.api.types.is_integer_dtype(values.dtype):
            # GDAL's GeoJSONSeq reader clamps integers beyond 64 bits to the limits (with a warning).
            limits = np.iinfo(np.int64)
            if values.isin([limits.max, limits.min]).any():
                lossy.append(column)
        elif column == "id" and (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
            # A GeoJSON feature's own id beyond 64 bits: GDAL makes it the text of a float.
            texts = values.dropna().astype(str)
            texts = texts[texts.str.contains("e+", regex=False)]
            if any(_FLOAT_TEXT.fullmatch(t) and abs(float(t)) >= EXACT_FLOAT for t in texts):
                lossy.append(column)
    if not lossy or src is None:
        return lossy
    left: list[str] = []
    if src.path.suffix.lower() in (*GEOJSON_SUFFIXES, ".geojsonseq"):
        features = _json_features(src.path)
        for column in lossy:
            if features is None or len(features) != len(gdf):
                left.append(column)
                continue
            exact = np.asarray(_json_ids(features, column), dtype=object)
            exact[~gdf[column].notna().to_numpy()] = None
            gdf[column] = text_column(exact, len(gdf))
        return left
    if not HAS_ARROW:
        return lossy
    try:
        _, table = pyogrio.read_arrow(src.path, layer=src.layer, columns=lossy, read_geometry=False)
    except READ_ERRORS:
        return lossy
    for column in lossy:
        found = table.column(column).to_pylist()
        if len(found) != len(gdf) or not all(x is None or type(x) is int for x in found):
            left.append(column)
            continue
        gdf[column] = text_column([None if x is None else str(x) for x in found], len(gdf))
    return left


def read_vector(data: PathOrFrame, *, what: str) -> gpd.GeoDataFrame:
    """Read a vector file (any format GDAL reads) or pass a GeoDataFrame through (copied).

    Parameters
    ----------
    data
        Path (``PATH:LAYER`` names a layer, see :func:`input_layer`), :class:`LayerPath` or GeoDataFrame.
    what
        ``"kerbs"`` or ``"hazards"``, for error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        The features with a CRS; id columns as text (:func:`exact_ids`).

    Raises
    ------
    InputError
        If the file is missing or unreadable, a layer is missing or not named in a file with several,
        or the data has no CRS.
    """
    if isinstance(data, gpd.GeoDataFrame):
        gdf = data.copy()
        label = what
        gdf.attrs["parkplan_source"] = label
        exact_ids(gdf)
    else:
        named = LayerPath.parse(data)
        path = named.path
        label = str(named)
        if not path.exists():
            raise InputError(f"{what} file not found", source=label)
        if path.is_dir() and path.suffix.lower() not in (".gdb",):
            raise InputError(f"is a folder, not a {what} file", source=label)
        src = input_layer(named, what=what)
        is_json = path.suffix.lower() in GEOJSON_SUFFIXES
        with warnings.catch_warnings(record=True) as caught:
            # GDAL's and shapely's warnings about the file (unsupported geometry type, non-closed
            # ring, NaN) would print as extra stderr lines; the checks below report each problem.
            warnings.simplefilter("always")
            try:
                # Through Arrow when pyarrow is installed (the same frame, about twice as fast).
                gdf = gpd.read_file(path, layer=src.layer, engine="pyogrio", use_arrow=HAS_ARROW)
            except READ_ERRORS as exc:
                found = diagnose_geojson(path) if is_json else None
                if found is not None:
                    raise found from exc
                raise InputError(f"cannot read {what}: {_gdal_reason(exc)}", source=label) from exc
        for w in caught:
            log.debug("%s: %s", label, w.message)
        if not isinstance(gdf, gpd.GeoDataFrame) or "geometry" not in gdf:
            raise InputError(f"no geometry column: not a vector layer of {what}", source=label)
        if is_json and shapely.is_missing(np.asarray(gdf.geometry.values, dtype=object)).any():
            found = diagnose_geojson(path)
            if found is not None:
                raise found
        for column in exact_ids(gdf, src):
            log.warning(
                "%s: %s holds integers beyond 2^53 stored as floating-point numbers: ids that differ only "
                "beyond their 16th digit may be read as one; store ids as text or integers",
                label,
                column,
            )
        gdf.attrs["parkplan_source"] = label
    if gdf.crs is None:
        raise InputError(
            f"{what} have no CRS. Please set one (GeoDataFrame.set_crs) or use a file that records it",
            source=label,
        )
    return gdf


def _feature_names(gdf: pd.DataFrame, id_column: str | None) -> list[str]:
    for col in ([id_column] if id_column else []) + list(ID_COLUMNS):
        if col and col in gdf.columns:
            values = gdf[col]
            named = (col + "=" + values.astype(str)).to_numpy(dtype=object)
            numbered = ("#" + pd.Series(np.arange(len(values)).astype(str))).to_numpy(dtype=object)
            return list(np.where(values.notna().to_numpy(), named, numbered))
    return [f"#{i}" for i in range(len(gdf))]


def _check_geometries(
    gdf: gpd.GeoDataFrame, allowed: Sequence[str], *, what: str, label: str, names: list[str]
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Check geometry presence, type, finiteness and range; repair invalid polygons.

    Z (and M) values are dropped: parkplan works in plan view, and a NaN elevation must not poison the
    chainage arithmetic.
    """
    notes: list[str] = []
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError(
            f"null geometry ({_count(int(missing.sum()), what)} like this); give every feature a "
            "geometry or delete the features without one",
            source=label,
            feature=names[i],
        )
    empty = shapely.is_empty(geoms)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError(
            f"empty geometry ({_count(int(empty.sum()), what)} like this); delete it or draw it again",
            source=label,
            feature=names[i],
        )
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    types = shapely.get_type_id(geoms)
    type_names = GEOMETRY_TYPE_NAMES[types]
    bad = ~np.isin(type_names, allowed)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"geometry type {type_names[i]} is not usable as {what} (expected {', '.join(allowed)})",
            source=label,
            feature=names[i],
        )
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    finite = np.isfinite(coords).all(axis=1)
    if not finite.all():
        i = int(index[np.flatnonzero(~finite)[0]])
        raise InputError(
            "coordinate is NaN or infinite; fix or delete the feature", source=label, feature=names[i]
        )
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_geographic:
        lon_bad = np.abs(coords[:, 0]) > 180.0
        lat_bad = np.abs(coords[:, 1]) > 90.0
        out = lon_bad | lat_bad
        if out.any():
            j = int(np.flatnonzero(out)[0])
            x, y = (float(v) for v in coords[j])
            if abs(x) <= 90.0 and abs(y) <= 180.0:
                hint = "; latitude and longitude look swapped: GeoJSON positions are [longitude, latitude]"
            elif max(abs(x), abs(y)) > 360.0:
                hint = (
                    "; these look like projected coordinates (metres): record the file's real CRS, or "
                    "reproject it to EPSG:4326 (GeoJSON is always longitude/latitude)"
                )
            else:
                hint = "; longitude must lie in [-180, 180] and latitude in [-90, 90]"
            raise InputError(
                f"coordinate ({x:.10g}, {y:.10g}) is outside the range of {crs.name}{hint}",
                source=label,
                feature=names[int(index[j])],
            )
        geoms, moved = _across_antimeridian(geoms)
        if moved.any():
            gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
            type_names = GEOMETRY_TYPE_NAMES[shapely.get_type_id(geoms)]
            log.debug("%s: %d features across the antimeridian read the short way", label, int(moved.sum()))
    is_poly = np.isin(type_names, ["Polygon", "MultiPolygon"])
    invalid = is_poly & ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
        for j, i in enumerate(np.flatnonzero(invalid).tolist()):
            reason = shapely.is_valid_reason(geoms[i])
            if fixed[j] is None or shapely.is_empty(fixed[j]):
                raise InputError(
                    f"invalid polygon that cannot be repaired ({reason}); draw it again",
                    source=label,
                    feature=names[i],
                )
            notes.append(f"{label}: feature {names[i]}: invalid polygon repaired with make_valid ({reason})")
        geoms = geoms.copy()
        geoms[invalid] = fixed
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    return gdf, notes


def _east_of_antimeridian(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    out = xy.copy()
    out[:, 0] = np.where(out[:, 0] < 0.0, out[:, 0] + 360.0, out[:, 0])
    return out


def _across_antimeridian(geoms: NDArray[np.object_]) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Longitude / latitude features across the antimeridian, read the short way round.

    A feature wider than 180 degrees of longitude lies across 180 (a kerb has a vertex at 179.9999
    beside one at -179.9999, or is split there into parts as RFC 7946 asks): taken as it is it would
    run the long way round the globe, and its polygons be repaired as such. Its western longitudes move
    past 180 (-179.9999 becomes 180.0001), so it is one short piece again; the parts of a multi-part
    feature, which now meet at 180, are joined (polygons united, lines merged end to start), so the cut
    at 180 is no kerb. PROJ takes such longitudes as they are, and the checks after this see the real
    shapes. Features narrower than 180 degrees are not touched.

    Returns
    -------
    tuple
        The geometries (the moved ones new) and which were moved.
    """
    bounds = shapely.bounds(geoms)
    across = (bounds[:, 2] - bounds[:, 0]) > 180.0
    if not across.any():
        return geoms, across
    moved = np.asarray(shapely.transform(geoms[across], _east_of_antimeridian), dtype=object)
    types = shapely.get_type_id(moved)
    for j in np.flatnonzero(types == 6).tolist():
        moved[j] = shapely.union_all(shapely.get_parts(moved[j]))
    for j in np.flatnonzero(types == 5).tolist():
        moved[j] = shapely.line_merge(moved[j], directed=True)
    out = geoms.copy()
    out[across] = moved
    return out, across


def _count(n: int, what: str) -> str:
    noun = what.removesuffix("s")
    return f"1 {noun} feature" if n == 1 else f"{n} {noun} features"


def _polygonal(geom: Any) -> Any:
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    if not parts:
        return None
    return shapely.union_all(parts)


def _check_width(
    gdf: pd.DataFrame,
    *,
    label: str,
    names: list[str],
    column: str = "width_m",
    what: str = "number of metres",
) -> pd.Series:
    """Check a non-negative numeric column; NaN where missing or empty."""
    if column not in gdf.columns:
        return pd.Series(np.nan, index=gdf.index, dtype=float)
    raw = gdf[column]
    values = pd.to_numeric(raw, errors="coerce")
    wrong = raw.notna() & values.isna()
    if wrong.any():
        i = int(np.flatnonzero(wrong.to_numpy())[0])
        raise InputError(
            f"{column} must be a {what}, not {raw.iloc[i]!r}; fix the value or leave it empty",
            source=label,
            feature=names[i],
        )
    bad = values.notna() & ((values < 0) | ~np.isfinite(values))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{column} must be a non-negative {what}, not {float(values.iloc[i]):g}; "
            "fix the value or leave it empty",
            source=label,
            feature=names[i],
        )
    return values.astype(float)


def _check_streets(gdf: pd.DataFrame, *, label: str, names: list[str]) -> None:
    """Kerbs of one ``street_id`` must agree on ``width_m`` and ``oneway`` (one carriageway, one width)."""
    if "street_id" not in gdf.columns:
        return
    street = gdf["street_id"]
    have = street.notna().to_numpy()
    if not have.any():
        return
    keys = street[have].astype(str).to_numpy()
    rows = np.flatnonzero(have)
    for column in ("width_m", "oneway"):
        if column not in gdf.columns:
            continue
        values = gdf[column].to_numpy(dtype=object)[rows]
        given = np.array([v is not None and v == v for v in values], dtype=bool)
        if not given.any():
            continue
        first: dict[str, tuple[Any, int]] = {}
        for key, v, i in zip(keys[given], values[given], rows[given], strict=True):
            seen = first.setdefault(key, (v, int(i)))
            differs = (
                abs(float(v) - float(seen[0])) > 0.01 if column == "width_m" else bool(v) != bool(seen[0])
            )
            if differs:
                raise InputError(
                    f"street_id {key!r}: {column} {v!r} differs from {seen[0]!r} on {names[seen[1]]}; the "
                    "kerbs of one street share one carriageway, so give them the same value (or split the "
                    "street into two street_ids where the width changes)",
                    source=label,
                    feature=names[int(i)],
                )


def read_extent(data: PathOrFrame) -> gpd.GeoSeries:
    """Read an extent layer: the union of its polygons, as a one-item GeoSeries with the layer's CRS."""
    label = _label(data, "extent")
    gdf = read_vector(data, what="extent").reset_index(drop=True)
    names = _feature_names(gdf, None)
    gdf, _ = _check_geometries(gdf, ("Polygon", "MultiPolygon"), what="extent", label=label, names=names)
    if len(gdf) == 0:
        raise InputError("no polygon in the extent layer", source=label)
    return gpd.GeoSeries([shapely.union_all(np.asarray(gdf.geometry.values, dtype=object))], crs=gdf.crs)


MAX_SCALE_ERROR = 0.002
"""Largest scale error (0.2 %) of the UTM zone longitude / latitude data is planned in.

UTM's own error is -0.04 % on a zone's central meridian and about +0.1 % at its edge (3 degrees from
it, at the equator). Twice that lets data reach about 1 degree beyond the edge of its zone at the
equator (3.5 degrees at 52 N), so a district or a city region straddling a zone edge is planned in one
zone as always; two cities several zones apart are not (Moscow in Berlin's zone: 2.4 %). At
0.2 % a 6 m bay is 12 mm off, and a free stretch's count of bays can change only where the stretch is
within 0.2 % of holding one more (2 mm per metre, against the model's 1 mm tolerance per stretch)."""


MAX_CRS_SCALE_ERROR = 0.01
"""Largest scale error (1 %) at the data of the projected CRS in metres the data comes in, for it to be
the working CRS. Above it (Web Mercator beyond 8 degrees of latitude: 64 % in Berlin) the data is
planned in its UTM zone instead, with a warning. The bound is looser than :data:`MAX_SCALE_ERROR`
because the data's own CRS is what its user measures in: a national grid or a UTM zone used
several hundred kilometres beyond its area (0.3 % at 500 km from the central meridian) is kept, and so
are coordinates drawn near a CRS's origin for a test. A CRS given as the working CRS is always used
(with a warning above :data:`MAX_SCALE_ERROR`)."""


def metric_crs(value: Any, *, argument: str = "crs") -> CRS:
    """Read a working CRS given by the user: any pyproj input, projected, in metres.

    Parameters
    ----------
    value
        What :meth:`pyproj.CRS.from_user_input` takes (``"EPSG:25833"``, ``25833``, a WKT or PROJ string,
        a CRS).
    argument
        The argument or option it came from (``"crs"``, ``"--crs"``), named in the error.

    Returns
    -------
    pyproj.CRS
        The CRS.

    Raises
    ------
    InputError
        If ``value`` is no CRS, or one that is not projected or not in metres.
    """
    try:
        crs = CRS.from_user_input(value)
    except (CRSError, TypeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"cannot read {value!r} as a CRS ({reason}); give a projected CRS in metres, e.g. EPSG:25833",
            source=argument,
        ) from exc
    name = crs.to_string() if crs.to_epsg() is None else f"EPSG:{crs.to_epsg()} ({crs.name})"
    if not crs.is_projected:
        raise InputError(
            f"{name} is not a projected CRS; give one in metres, e.g. the UTM zone of the data",
            source=argument,
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if unit not in ("metre", "meter"):
        raise InputError(
            f"{name} is in {unit or 'unknown units'}, not metres; give a projected CRS in metres",
            source=argument,
        )
    return crs


def _wrap(lon: NDArray[np.float64]) -> NDArray[np.float64]:
    """Longitudes in [-180, 180)."""
    return np.asarray((lon + 180.0) % 360.0 - 180.0, dtype=float)


def _zone(lon: float) -> int:
    return int((float(_wrap(np.array([lon]))[0]) + 180.0) // 6.0) % 60 + 1


def utm_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """Choose the UTM zone to plan longitude / latitude data (or data in feet) in, checked to fit it.

    The zone is the one at the middle of the data's longitudes and latitudes, as
    ``GeoDataFrame.estimate_utm_crs`` picks it, with the longitudes taken the short way round: data on
    both sides of the antimeridian (180 degrees) is centred there, not at 0. Its scale error is then
    measured where it is largest, at each feature's longitude farthest from the zone's central meridian
    and latitude nearest the equator (the transverse Mercator scale ``k0 / sqrt(1 - (cos(lat)
    sin(dlon))^2)`` of the sphere, which differs from the ellipsoid's by less than 1 % of the error
    itself: 0.002 % at the bound).

    Parameters
    ----------
    gdf
        The kerbs, in a CRS that is geographic or not in metres.

    Returns
    -------
    pyproj.CRS
        The WGS 84 UTM zone (EPSG:326NN / 327NN).

    Raises
    ------
    InputError
        If no UTM zone covers the data (beyond 84 N or 80 S), or the zone's scale error somewhere in the
        data exceeds :data:`MAX_SCALE_ERROR` (data spread over several zones): the message names the
        spread and the zones, and asks for a working CRS (``--crs``, ``crs=``) or the data split.
    """
    label = str(gdf.attrs.get("parkplan_source", "input"))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        lonlat = gdf.geometry.to_crs(4326)
    bounds = shapely.bounds(np.asarray(lonlat.values, dtype=object))
    bounds = bounds[np.isfinite(bounds).all(axis=1)]
    if not len(bounds):
        raise InputError("no finite coordinates in WGS 84; is the data's CRS right?", source=label)
    west, south, east, north = bounds.T
    # A feature wider than half the globe lies across the antimeridian: the short way round it runs from
    # its east bound to its west bound.
    across = (east - west) > 180.0
    west, east = np.where(across, east, west), np.where(across, west + 360.0, east)
    width = east - west
    start = _wrap(west)
    # The data's longitudes as they are, or with the western hemisphere moved past 180: the shorter.
    shifted = np.where(start < 0.0, start + 360.0, start)
    spans = [float((start + width).max() - start.min()), float((shifted + width).max() - shifted.min())]
    first = start if spans[0] <= spans[1] else shifted
    lo, hi = float(first.min()), float((first + width).max())
    centre = float(_wrap(np.array([(lo + hi) / 2.0]))[0])
    lat = (float(south.min()) + float(north.max())) / 2.0
    found = _utm_codes_at(centre, lat)
    if not found:
        raise InputError(
            "no UTM zone covers these coordinates (beyond 84 N or 80 S?); reproject the data to "
            "a projected CRS in metres before planning, or give one as the working CRS (--crs, crs=)",
            source=label,
        )
    crs = CRS.from_epsg(found[0])
    operation = crs.coordinate_operation
    params = {p.name: float(p.value) for p in (operation.params if operation is not None else [])}
    lon0 = params["Longitude of natural origin"]
    k0 = params["Scale factor at natural origin"]
    dlon = np.maximum(np.abs(_wrap(first - lon0)), np.abs(_wrap(first + width - lon0)))
    dlon = np.maximum(dlon, np.where(width >= 180.0, 180.0, 0.0))
    near_equator = np.where((south <= 0.0) & (north >= 0.0), 0.0, np.minimum(np.abs(south), np.abs(north)))
    b = np.cos(np.radians(near_equator)) * np.sin(np.radians(np.minimum(dlon, 90.0)))
    with np.errstate(divide="ignore"):
        scale = np.where(dlon >= 90.0, np.inf, k0 / np.sqrt(np.maximum(1.0 - b * b, 0.0)))
    error = float(np.abs(scale - 1.0).max())
    if error > MAX_SCALE_ERROR:
        west_zone, east_zone = _zone(lo), _zone(hi)
        off = "beyond any measure" if not math.isfinite(error) else f"up to {error:.1%}"
        raise InputError(
            f"the data spans {hi - lo:.1f} degrees of longitude ({_lon_text(lo)} to {_lon_text(hi)}, "
            f"UTM zones {west_zone} to {east_zone}): planned in one zone ({crs.name}, EPSG:{crs.to_epsg()}) "
            f"its lengths would be off by {off}, more than the {MAX_SCALE_ERROR:.1%} parkplan accepts; "
            "split the file into areas of one zone each, or give a projected working CRS in metres "
            "(--crs, or crs= in Python)",
            source=label,
        )
    log.info("working CRS: %s (UTM zone of the data)", crs.name)
    return crs


UTM_NORTH_EPSG, UTM_SOUTH_EPSG = 32600, 32700
"""EPSG codes of the WGS 84 UTM zones are these plus the zone number (1 to 60)."""


@functools.cache
def _utm_area(code: int) -> tuple[float, float, float, float] | None:
    """Area of use of an EPSG CRS in PROJ's database: (west, south, east, north) degrees, or ``None``."""
    area = CRS.from_epsg(code).area_of_use
    return None if area is None else (area.west, area.south, area.east, area.north)


def _utm_codes_at(lon: float, lat: float) -> list[int]:
    """EPSG codes of the WGS 84 UTM zones whose area of use holds the point, in code order.

    The zones ``pyproj.database.query_utm_crs_info(datum_name="WGS 84")`` finds for the point as its
    area of interest, in the same order (bounds included; the tests compare them on every zone edge),
    without its query of PROJ's whole database (0.06 s a call, which the OSM reader made seven times on
    a small extract). The zone numbered for the longitude and its neighbours, north and south, are
    checked against their areas of use in the database: PROJ's areas are not all the nominal 6-degree
    strips (zone 29N reaches to 12.01 W and 84.01 N).
    """
    zone = int((lon + 180.0) // 6.0)  # 0-based nominal zone of the longitude
    found = []
    for base in (UTM_NORTH_EPSG, UTM_SOUTH_EPSG):
        for z in range(max(zone - 1, 0), min(zone + 2, 60)):
            area = _utm_area(base + z + 1)
            if area is not None and area[0] <= lon <= area[2] and area[1] <= lat <= area[3]:
                found.append(base + z + 1)
    return found


def utm_zone_crs(data: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """Find the UTM zone at the centre of the data's bounds: ``GeoDataFrame.estimate_utm_crs``, but cheap.

    The same centre and the same WGS 84 zone as GeoPandas' ``estimate_utm_crs`` (bounds taken in WGS 84,
    the centre across the antimeridian when the bounds cross it), without its query of PROJ's whole
    database (:func:`_utm_codes_at`).

    Parameters
    ----------
    data
        Features with a CRS.

    Returns
    -------
    pyproj.CRS
        The zone's CRS (EPSG:326NN / 327NN).

    Raises
    ------
    RuntimeError
        If ``data`` has no CRS, or no zone covers the centre (beyond 84 N or 80 S), as GeoPandas.
    ValueError
        If the bounds are not finite (no features), as GeoPandas.
    """
    geo = data.geometry if isinstance(data, gpd.GeoDataFrame) else data
    if not geo.crs:
        raise RuntimeError("crs must be set to estimate UTM CRS.")
    minx, miny, maxx, maxy = (float(v) for v in geo.total_bounds)
    crs = CRS.from_user_input(geo.crs)
    if crs.is_geographic:
        lon, lat = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    else:
        to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        minx, miny, maxx, maxy = to_lonlat.transform_bounds(minx, miny, maxx, maxy)
        lat = (miny + maxy) / 2.0
        across = minx > maxx  # the bounds cross the antimeridian: centre them there
        lon = ((minx + (maxx + 360.0)) / 2.0 + 180.0) % 360.0 - 180.0 if across else (minx + maxx) / 2.0
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError("NaN or None values are not allowed.")
    found = _utm_codes_at(lon, lat)
    if not found:
        raise RuntimeError("Unable to determine UTM CRS")
    return CRS.from_epsg(found[0])


SCALE_GRID = 5
"""Points per side of the grid over the data's bounds where :func:`scale_error` measures a projected CRS:
a projection's scale varies smoothly, so its extremes over a district lie on or near the bounds."""


def scale_error(gdf: gpd.GeoDataFrame, crs: CRS) -> float:
    """Measure the largest scale error of the projected ``crs`` over the data's bounds (0.01 is 1 %).

    Measured with :meth:`pyproj.Proj.get_factors` (meridional and parallel scale) on a
    :data:`SCALE_GRID` x :data:`SCALE_GRID` grid over the bounds of ``gdf`` taken in ``crs``. Returns
    0 where the factors cannot be computed (a CRS PROJ has no factors for), so the CRS is used as given.
    """
    if not crs.is_projected:
        return 0.0
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            west, south, east, north = gdf.geometry.to_crs(crs).total_bounds
            xs, ys = np.meshgrid(np.linspace(west, east, SCALE_GRID), np.linspace(south, north, SCALE_GRID))
            lon, lat = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(
                xs.ravel(), ys.ravel()
            )
            factors = Proj(crs).get_factors(lon, lat)
        except Exception:  # pyproj raises several types for CRSs it has no factors for
            return 0.0
    scales = np.concatenate([np.asarray(factors.meridional_scale), np.asarray(factors.parallel_scale)])
    scales = scales[np.isfinite(scales)]
    return float(np.abs(scales - 1.0).max()) if len(scales) else 0.0


def _lon_text(lon: float) -> str:
    value = float(_wrap(np.array([lon]))[0]) if lon != 180.0 else 180.0
    return f"{abs(value):.2f} {'W' if value < 0 else 'E'}"


def to_metric(gdf: gpd.GeoDataFrame, crs: CRS | None = None) -> tuple[gpd.GeoDataFrame, CRS]:
    """Reproject to ``crs`` or, when none is given, to a local metric CRS.

    A projected CRS whose unit is the metre is kept unless it stretches lengths at the data by more than
    :data:`MAX_CRS_SCALE_ERROR` (Web Mercator); that one, a geographic CRS or one in feet is replaced by
    the UTM zone of the data, checked to measure all of it well enough (:func:`utm_crs`).

    Parameters
    ----------
    gdf
        The frame, with its CRS.
    crs
        The working CRS (:func:`metric_crs`); ``None`` chooses it as above.

    Returns
    -------
    tuple
        The reprojected frame and the CRS used.

    Raises
    ------
    InputError
        If no UTM zone fits the data (:func:`utm_crs`), or the data does not reproject to finite
        coordinates.
    """
    label = str(gdf.attrs.get("parkplan_source", "input"))
    if crs is None:
        current = CRS.from_user_input(gdf.crs)
        unit = current.axis_info[0].unit_name if current.axis_info else ""
        if current.is_projected and unit in ("metre", "meter"):
            error = scale_error(gdf, current)
            if error <= MAX_CRS_SCALE_ERROR:
                crs = current
            else:
                # Web Mercator (EPSG:3857) is "projected, in metres" but measures Berlin 64 % long: the
                # Neukoelln kerbs planned in it gave 567 bays on 11.3 km of kerb, against 61 on 6.9 km.
                crs = utm_crs(gdf)
                log.warning(
                    "%s: its CRS (%s) stretches lengths by up to %.1f%% here; planned in %s instead "
                    "(give --crs / crs= to choose)",
                    label,
                    current.name,
                    100.0 * error,
                    crs.name,
                )
        else:
            crs = utm_crs(gdf)
    elif (error := scale_error(gdf, crs)) > MAX_SCALE_ERROR:
        log.warning(
            "%s: the working CRS %s stretches lengths by up to %.1f%% here (more than %.1f%%): bays and "
            "clearances are measured that much off",
            label,
            crs.name,
            100.0 * error,
            100.0 * MAX_SCALE_ERROR,
        )
    if CRS.from_user_input(gdf.crs) == crs:
        return gdf, crs
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        out = gdf.to_crs(crs)
    coords, index = shapely.get_coordinates(np.asarray(out.geometry.values, dtype=object), return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        i = int(index[np.flatnonzero(bad)[0]])
        names = gdf["feature"].astype(str).tolist() if "feature" in gdf.columns else None
        raise InputError(
            f"cannot be reprojected to {crs.name} (the result is not finite); is the data's CRS right, "
            "and does it cover a small area?",
            source=label,
            feature=names[i] if names is not None and i < len(names) else f"#{i}",
        )
    return out, crs


def _bool_column(values: pd.Series, *, label: str, names: list[str], column: str) -> pd.Series:
    truthy = {"yes", "true", "1", "-1"}
    falsy = {"no", "false", "0"}

    def conv(i: int, v: Any) -> Any:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, (int, float, np.integer, np.floating)) and float(v) in (1.0, -1.0, 0.0):
            return float(v) != 0.0  # OSM's oneway=-1 is one-way too (against the digitised direction)
        text = str(v).strip().lower()
        if text in truthy:
            return True
        if text in falsy:
            return False
        raise InputError(
            f"{column} must be yes/no/true/false/1/0/-1, not {v!r}", source=label, feature=names[i]
        )

    return pd.Series([conv(i, v) for i, v in enumerate(values)], index=values.index, dtype=object)


def _choice_column(
    values: pd.Series, choices: Iterable[str], *, label: str, names: list[str], column: str
) -> pd.Series:
    allowed = set(choices)
    text = values.astype(object).where(values.notna(), None)
    for i, v in enumerate(text):
        if v is not None and str(v) not in allowed:
            raise InputError(
                f"{column} must be one of {', '.join(sorted(allowed))}, not {v!r}",
                source=label,
                feature=names[i],
            )
    return text


def read_kerbs(data: PathOrFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read and check a kerb layer.

    Parameters
    ----------
    data
        Path or GeoDataFrame of LineString / MultiLineString kerbs or Polygon / MultiPolygon street areas.

    Returns
    -------
    tuple
        The checked frame (original CRS, columns ``curb_id``, ``street_id``, ``side``, ``flow``,
        ``width_m``, ``oneway`` normalised where present) and a list of warnings.
    """
    label = _label(data, "kerbs")
    gdf = read_vector(data, what="kerbs")
    if len(gdf) == 0:
        raise InputError("no kerb features: the layer is empty", source=label)
    gdf = gdf.reset_index(drop=True)
    names = _feature_names(gdf, "curb_id")
    gdf, notes = _check_geometries(gdf, KERB_TYPES, what="kerbs", label=label, names=names)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    is_line = np.isin(shapely.get_type_id(geoms), (1, 5))
    zero = is_line & (shapely.length(geoms) <= 0.0)
    if zero.any():
        i = int(np.flatnonzero(zero)[0])
        raise InputError(
            f"zero-length kerb ({_count(int(zero.sum()), 'kerbs')} like this): all its points are the same; "
            "delete the feature or draw it again",
            source=label,
            feature=names[i],
        )
    gdf["width_m"] = _check_width(gdf, label=label, names=names)
    if "side" in gdf.columns:
        gdf["side"] = _choice_column(gdf["side"], ("left", "right"), label=label, names=names, column="side")
    if "flow" in gdf.columns:
        gdf["flow"] = _choice_column(
            gdf["flow"], ("forward", "backward"), label=label, names=names, column="flow"
        )
    if "oneway" in gdf.columns:
        gdf["oneway"] = _bool_column(gdf["oneway"], label=label, names=names, column="oneway")
    if "demand_weight" in gdf.columns:
        gdf["demand_weight"] = _check_width(
            gdf, label=label, names=names, column="demand_weight", what="number (a weight, 1 = normal)"
        ).fillna(1.0)
    if "loading_demand" in gdf.columns:
        gdf["loading_demand"] = _check_width(
            gdf, label=label, names=names, column="loading_demand", what="number of loading bays"
        ).fillna(0.0)
    _check_streets(gdf, label=label, names=names)
    if "orientation" in gdf.columns:
        text = gdf["orientation"].astype(object).where(gdf["orientation"].notna(), None)
        gdf["orientation"] = _choice_column(
            text.map(
                lambda v: (
                    {"diagonal": "angled"}.get(str(v).strip().lower(), str(v).strip().lower())
                    if v is not None
                    else None
                )
            ),
            ("parallel", "angled", "perpendicular"),
            label=label,
            names=names,
            column="orientation",
        )
    if "curb_id" in gdf.columns:
        ids = gdf["curb_id"]
        present = ids.notna()
        dup = ids[present].astype(str).duplicated()
        if dup.any():
            first = ids[present].astype(str)[dup].iloc[0]
            i = int(dup.index[dup.to_numpy()][0])
            raise InputError(
                f"curb_id {first!r} is used by more than one feature; give each kerb its own curb_id",
                source=label,
                feature=f"#{i}",
            )
    gdf.attrs["parkplan_source"] = label
    return gdf, notes


def read_hazards(
    sources: Sequence[HazardSource | PathOrFrame] | None,
) -> tuple[list[gpd.GeoDataFrame], list[str]]:
    """Read and check hazard inputs.

    Parameters
    ----------
    sources
        Hazard inputs; plain paths or frames must carry a ``kind`` property per feature.

    Returns
    -------
    tuple
        One frame per input, each in its own CRS, with columns ``kind``, ``hazard_id``, ``width_m``,
        ``source``, ``feature`` and ``geometry`` (and ``road_class`` where the input has it); and a list
        of warnings.
    """
    if not sources:
        return [], []
    frames: list[gpd.GeoDataFrame] = []
    notes: list[str] = []
    for n, item in enumerate(sources):
        src = item if isinstance(item, HazardSource) else HazardSource(item)
        label = _label(src.data, f"hazards[{n}]")
        gdf = read_vector(src.data, what="hazards").reset_index(drop=True)
        if len(gdf) == 0:
            notes.append(f"{label}: no features")
            continue
        names = _feature_names(gdf, "hazard_id")
        gdf, warn = _check_geometries(gdf, HAZARD_TYPES, what="hazards", label=label, names=names)
        notes += warn
        if src.kind is not None:
            kinds = pd.Series(src.kind, index=gdf.index, dtype=object)
        elif "kind" in gdf.columns:
            kinds = gdf["kind"].astype(object)
            missing = kinds.isna() | (kinds.astype(str).str.strip() == "")
            if missing.any():
                i = int(np.flatnonzero(missing.to_numpy())[0])
                raise InputError(
                    "no kind; give each feature a 'kind' property or use -f KIND=PATH",
                    source=label,
                    feature=names[i],
                )
        else:
            raise InputError(
                "hazards have no 'kind' property; use -f KIND=PATH to give them one", source=label
            )
        width = _check_width(gdf, label=label, names=names)
        match = pd.Series([None] * len(gdf), index=gdf.index, dtype=object)
        if "match" in gdf.columns:
            match = gdf["match"].astype(object).where(gdf["match"].notna(), None)
            bad = match.notna() & ~match.isin(["nearest", "all"])
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(
                    f"match must be 'nearest' or 'all', not {match.iloc[i]!r}", source=label, feature=names[i]
                )
        ids = None
        for col in ("hazard_id", "id", "osm_id"):
            if col in gdf.columns:
                ids = gdf[col]
                break
        numbered = (f"{_stem(src.data, label)}#" + pd.Series(np.arange(len(gdf)).astype(str))).to_numpy(
            dtype=object
        )
        if ids is None:
            hazard_id = list(numbered)
        else:
            hazard_id = list(
                np.where(ids.notna().to_numpy(), ids.astype(str).to_numpy(dtype=object), numbered)
            )
        out = gpd.GeoDataFrame(
            {
                "kind": text_column(kinds.astype(str).str.strip().to_numpy(dtype=object), len(gdf)),
                "hazard_id": text_column(hazard_id, len(gdf)),
                "width_m": width.to_numpy(),
                "match": text_column(match.to_numpy(dtype=object), len(gdf)),
                "source": text_column(label, len(gdf)),
                "feature": text_column(names, len(gdf)),
            },
            geometry=gdf.geometry.values,
            crs=gdf.crs,
        )
        if "road_class" in gdf.columns:  # a road-class line's classes (parkplan.hazards.applicable_hazards)
            classes = gdf["road_class"].astype(object)
            out["road_class"] = classes.where(classes.notna(), None).to_numpy()
        out.attrs["parkplan_source"] = label
        frames.append(out)
    return frames, notes
