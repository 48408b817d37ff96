"""Reading kerbs and hazards, checking them, and choosing the metric working CRS.

Everything that comes from outside passes through here: files are read with pyogrio (through
GeoPandas), every feature is checked (null, empty, wrong-type or non-finite geometry; coordinates out
of range; negative widths; unknown kinds), and the data is reprojected to one local metric CRS.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from parkplan.errors import InputError

__all__ = [
    "HazardSource",
    "read_extent",
    "read_hazards",
    "read_kerbs",
    "read_vector",
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

PathOrFrame = str | PathLike[str] | gpd.GeoDataFrame


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
    """

    data: PathOrFrame
    kind: str | None = None

    @classmethod
    def parse(cls, text: str) -> HazardSource:
        """Parse the CLI form ``PATH`` or ``KIND=PATH`` (split at the first ``=``).

        A leading ``KIND=`` is recognised only when ``KIND`` looks like a kind name (letters, digits,
        ``_`` and ``-``), so a path that merely contains ``=`` further on still works.
        """
        head, sep, tail = text.partition("=")
        if sep and head and all(c.isalnum() or c in "_-" for c in head) and tail:
            return cls(tail, head)
        return cls(text)


def _label(data: PathOrFrame, default: str) -> str:
    return default if isinstance(data, gpd.GeoDataFrame) else str(data)


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
    else:
        path = Path(data)
        label = str(path)
        if not path.exists():
            raise InputError(f"{what} file not found", source=label)
        if path.is_dir() and path.suffix.lower() not in (".gdb",):
            raise InputError(f"is a folder, not a {what} file", source=label)
        try:
            gdf = gpd.read_file(path, engine="pyogrio")
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"cannot read {what}: {reason}", source=label) from exc
        if not isinstance(gdf, gpd.GeoDataFrame) or "geometry" not in gdf:
            raise InputError(f"no geometry column: not a vector layer of {what}", source=label)
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
            return [f"{col}={v}" if pd.notna(v) else f"#{i}" for i, v in enumerate(values)]
    return [f"#{i}" for i in range(len(gdf))]


def _check_geometries(
    gdf: gpd.GeoDataFrame, allowed: Sequence[str], *, what: str, label: str, names: list[str]
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Check geometry presence, type, finiteness and range; repair invalid polygons."""
    warnings: list[str] = []
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError(f"null geometry ({int(missing.sum())} such {what} features)", source=label, feature=names[i])
    empty = shapely.is_empty(geoms)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError(f"empty geometry ({int(empty.sum())} such {what} features)", source=label, feature=names[i])
    types = shapely.get_type_id(geoms)
    type_names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
                           "MultiPolygon", "GeometryCollection"])[types]
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
        raise InputError("coordinate is NaN or infinite", source=label, feature=names[i])
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_geographic:
        lon_bad = np.abs(coords[:, 0]) > 180.0
        lat_bad = np.abs(coords[:, 1]) > 90.0
        out = lon_bad | lat_bad
        if out.any():
            i = int(index[np.flatnonzero(out)[0]])
            x, y = coords[np.flatnonzero(out)[0]]
            hint = " (latitude and longitude swapped?)" if abs(y) <= 180 and abs(x) <= 90 or lat_bad.any() else ""
            raise InputError(
                f"coordinate ({x:g}, {y:g}) is outside the range of {crs.name}{hint}",
                source=label,
                feature=names[i],
            )
    is_poly = np.isin(type_names, ["Polygon", "MultiPolygon"])
    invalid = is_poly & ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
        for j, i in enumerate(np.flatnonzero(invalid)):
            reason = shapely.is_valid_reason(geoms[i])
            if fixed[j] is None or shapely.is_empty(fixed[j]):
                raise InputError(f"invalid polygon that cannot be repaired: {reason}", source=label, feature=names[i])
            warnings.append(f"{label}: feature {names[i]}: invalid polygon repaired with make_valid ({reason})")
        geoms = geoms.copy()
        geoms[invalid] = fixed
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    return gdf, warnings


def _polygonal(geom: Any) -> Any:
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    if not parts:
        return None
    return shapely.union_all(parts)


def _check_width(gdf: pd.DataFrame, *, label: str, names: list[str]) -> pd.Series:
    if "width_m" not in gdf.columns:
        return pd.Series(np.nan, index=gdf.index, dtype=float)
    raw = gdf["width_m"]
    values = pd.to_numeric(raw, errors="coerce")
    wrong = raw.notna() & values.isna()
    if wrong.any():
        i = int(np.flatnonzero(wrong.to_numpy())[0])
        raise InputError(f"width_m must be a number, not {raw.iloc[i]!r}", source=label, feature=names[i])
    bad = values.notna() & ((values < 0) | ~np.isfinite(values))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"width_m must be a non-negative number, not {values.iloc[i]!r}", source=label, feature=names[i])
    return values.astype(float)


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
    if crs is None:
        current = CRS.from_user_input(gdf.crs)
        unit = current.axis_info[0].unit_name if current.axis_info else ""
        if current.is_projected and unit in ("metre", "meter"):
            crs = current
        else:
            crs = CRS.from_user_input(gdf.to_crs(4326).estimate_utm_crs())
            log.info("working CRS: %s (UTM zone of the data)", crs.name)
    out = gdf if CRS.from_user_input(gdf.crs) == crs else gdf.to_crs(crs)
    return out, crs


def _bool_column(values: pd.Series, *, label: str, names: list[str], column: str) -> pd.Series:
    truthy = {"yes", "true", "1", "-1"}
    falsy = {"no", "false", "0"}

    def conv(i: int, v: Any) -> Any:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        text = str(v).strip().lower()
        if text in truthy:
            return True
        if text in falsy:
            return False
        raise InputError(f"{column} must be yes/no/true/false, not {v!r}", source=label, feature=names[i])

    return pd.Series([conv(i, v) for i, v in enumerate(values)], index=values.index, dtype=object)


def _choice_column(values: pd.Series, choices: Iterable[str], *, label: str, names: list[str], column: str) -> pd.Series:
    allowed = set(choices)
    text = values.astype(object).where(values.notna(), None)
    for i, v in enumerate(text):
        if v is not None and str(v) not in allowed:
            raise InputError(
                f"{column} must be one of {', '.join(sorted(allowed))}, not {v!r}", source=label, feature=names[i]
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
        raise InputError("no kerb features", source=label)
    gdf = gdf.reset_index(drop=True)
    names = _feature_names(gdf, "curb_id")
    gdf, warnings = _check_geometries(gdf, KERB_TYPES, what="kerbs", label=label, names=names)
    gdf["width_m"] = _check_width(gdf, label=label, names=names)
    if "side" in gdf.columns:
        gdf["side"] = _choice_column(gdf["side"], ("left", "right"), label=label, names=names, column="side")
    if "flow" in gdf.columns:
        gdf["flow"] = _choice_column(gdf["flow"], ("forward", "backward"), label=label, names=names, column="flow")
    if "oneway" in gdf.columns:
        gdf["oneway"] = _bool_column(gdf["oneway"], label=label, names=names, column="oneway")
    if "curb_id" in gdf.columns:
        ids = gdf["curb_id"]
        present = ids.notna()
        dup = ids[present].astype(str).duplicated()
        if dup.any():
            first = ids[present].astype(str)[dup].iloc[0]
            raise InputError(f"curb_id {first!r} is used by more than one feature", source=label)
    return gdf, warnings


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
    warnings: list[str] = []
    for n, item in enumerate(sources):
        src = item if isinstance(item, HazardSource) else HazardSource(item)
        label = _label(src.data, f"hazards[{n}]")
        gdf = read_vector(src.data, what="hazards").reset_index(drop=True)
        if len(gdf) == 0:
            warnings.append(f"{label}: no features")
            continue
        names = _feature_names(gdf, "hazard_id")
        gdf, warn = _check_geometries(gdf, HAZARD_TYPES, what="hazards", label=label, names=names)
        warnings += warn
        if src.kind is not None:
            kinds = pd.Series(src.kind, index=gdf.index, dtype=object)
        elif "kind" in gdf.columns:
            kinds = gdf["kind"].astype(object)
            missing = kinds.isna() | (kinds.astype(str).str.strip() == "")
            if missing.any():
                i = int(np.flatnonzero(missing.to_numpy())[0])
                raise InputError(
                    "no kind; give each feature a 'kind' property or use -f KIND=PATH", source=label, feature=names[i]
                )
        else:
            raise InputError("hazards have no 'kind' property; use -f KIND=PATH to give them one", source=label)
        width = _check_width(gdf, label=label, names=names)
        ids = None
        for col in ("hazard_id", "id", "osm_id"):
            if col in gdf.columns:
                ids = gdf[col]
                break
        hazard_id = [
            str(v) if ids is not None and pd.notna(v) else f"{Path(label).stem}#{i}"
            for i, v in enumerate(ids if ids is not None else [None] * len(gdf))
        ]
        out = gpd.GeoDataFrame(
            {
                "kind": kinds.astype(str).str.strip().to_numpy(),
                "hazard_id": hazard_id,
                "width_m": width.to_numpy(),
                "source": label,
                "feature": names,
            },
            geometry=gdf.geometry.values,
            crs=gdf.crs,
        )
        frames.append(out)
    return frames, warnings
