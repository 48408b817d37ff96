"""Reading kerbs and hazards, checking them, and choosing the metric working CRS.

Everything that comes from outside passes through here: files are read with pyogrio (through
GeoPandas), every feature is checked (null, empty, wrong-type or non-finite geometry; coordinates out
of range; negative widths; unknown kinds), and the data is reprojected to one local metric CRS.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
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
from pyproj import CRS
from pyproj.exceptions import CRSError

from parkplan.arguments import check_hazard_source, check_text
from parkplan.errors import InputError

__all__ = [
    "HazardSource",
    "read_extent",
    "read_hazards",
    "read_kerbs",
    "read_vector",
    "text_column",
    "to_metric",
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

PathOrFrame: TypeAlias = str | PathLike[str] | gpd.GeoDataFrame


@dataclass(frozen=True)
class HazardSource:
    """A hazard input: a file or GeoDataFrame, optionally with one kind for all its features.

    Parameters
    ----------
    data
        Path to a vector file or a GeoDataFrame.
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


def read_vector(data: PathOrFrame, *, what: str) -> gpd.GeoDataFrame:
    """Read a vector file (any format GDAL reads) or pass a GeoDataFrame through (copied).

    Parameters
    ----------
    data
        Path or GeoDataFrame.
    what
        ``"kerbs"`` or ``"hazards"``, for error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        The features with a CRS.

    Raises
    ------
    InputError
        If the file is missing or unreadable, or the data has no CRS.
    """
    if isinstance(data, gpd.GeoDataFrame):
        gdf = data.copy()
        label = what
        gdf.attrs["parkplan_source"] = label
    else:
        path = Path(data)
        label = str(path)
        if not path.exists():
            raise InputError(f"{what} file not found", source=label)
        if path.is_dir() and path.suffix.lower() not in (".gdb",):
            raise InputError(f"is a folder, not a {what} file", source=label)
        is_json = path.suffix.lower() in GEOJSON_SUFFIXES
        with warnings.catch_warnings(record=True) as caught:
            # GDAL's and shapely's warnings about the file (unsupported geometry type, non-closed
            # ring, NaN) would print as extra stderr lines; the checks below report each problem.
            warnings.simplefilter("always")
            try:
                # Through Arrow when pyarrow is installed (the same frame, about twice as fast).
                gdf = gpd.read_file(path, engine="pyogrio", use_arrow=HAS_ARROW)
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


def to_metric(gdf: gpd.GeoDataFrame, crs: CRS | None = None) -> tuple[gpd.GeoDataFrame, CRS]:
    """Reproject to ``crs`` or, when none is given, to a local metric CRS.

    A projected CRS whose unit is the metre is kept; a geographic CRS or one in feet is replaced by the
    UTM zone of the data (pyproj / ``GeoDataFrame.estimate_utm_crs``).

    Returns
    -------
    tuple
        The reprojected frame and the CRS used.
    """
    label = str(gdf.attrs.get("parkplan_source", "input"))
    if crs is None:
        current = CRS.from_user_input(gdf.crs)
        unit = current.axis_info[0].unit_name if current.axis_info else ""
        if current.is_projected and unit in ("metre", "meter"):
            crs = current
        else:
            try:
                crs = CRS.from_user_input(gdf.to_crs(4326).estimate_utm_crs())
            except RuntimeError as exc:  # geopandas: "Unable to determine UTM CRS"
                raise InputError(
                    "no UTM zone covers these coordinates (beyond 84 N or 80 S?); reproject the data to "
                    "a projected CRS in metres before planning",
                    source=label,
                ) from exc
            log.info("working CRS: %s (UTM zone of the data)", crs.name)
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
        ``source``, ``feature`` and ``geometry``; and a list of warnings.
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
        numbered = (f"{Path(label).stem}#" + pd.Series(np.arange(len(gdf)).astype(str))).to_numpy(
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
        out.attrs["parkplan_source"] = label
        frames.append(out)
    return frames, notes
