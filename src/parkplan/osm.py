"""OpenStreetMap input: street areas and hazards from a raw OSM file.

:func:`from_osm` reads an ``.osm`` (XML), ``.osm.pbf`` or ``.osm.bz2`` file with pyosmium and returns the
two frames :func:`parkplan.plan` takes:

* **street areas**: every carriageway way buffered by half its width and the buffers merged, so a street
  drawn as several parallel ways (dual carriageways, turn lanes) becomes one carriageway polygon whose
  boundary is the kerb, and no bays land in a median or on top of each other;
* **hazards**: junction nodes, driveways, crossings, hydrants, bus stops, traffic signals, stop and
  give-way signs, no-parking areas and fire stations, with a ``kind``, ``hazard_id`` (``node/123`` or
  ``way/456``), ``width_m`` where tagged, and ``source = "osm"``.

>>> import parkplan
>>> areas, hazards = parkplan.from_osm("extract.osm.pbf")  # doctest: +SKIP
>>> plan = parkplan.plan(areas, hazards, rules="de-parkraum")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, overload

import geopandas as gpd
import numpy as np
import shapely

from parkplan.errors import InputError

__all__ = ["CARRIAGEWAY_HIGHWAYS", "DEFAULT_WIDTHS_M", "LANE_WIDTH_M", "from_osm"]

#: ``highway`` values whose ways are carriageway (``service`` only with ``service=True``).
CARRIAGEWAY_HIGHWAYS: frozenset[str] = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "secondary_link",
        "tertiary_link",
    }
)

#: ``service`` values that are never carriageway: driveways are hazards, parking aisles are car parks.
NOT_CARRIAGEWAY_SERVICE: frozenset[str] = frozenset({"driveway", "parking_aisle"})

#: Carriageway width (metres, kerb to kerb) per ``highway`` class when a way has no ``width:carriageway``,
#: ``width`` or ``lanes`` tag. Engineering defaults chosen for this library (typical urban European
#: carriageways including parking lanes), not legal values; override with ``default_widths``. A ``*_link``
#: uses its own entry when given, else its base class's (``primary_link`` -> ``primary``).
DEFAULT_WIDTHS_M: Mapping[str, float] = {
    "motorway": 15.0,
    "trunk": 14.0,
    "primary": 12.0,
    "secondary": 10.0,
    "tertiary": 9.0,
    "unclassified": 6.0,
    "residential": 7.0,
    "living_street": 5.0,
    "service": 4.5,
}

#: Width of one lane (metres) for ways with a ``lanes`` tag but no width.
LANE_WIDTH_M = 3.0

#: Gaps between buffered ways narrower than twice this (metres) are closed.
CLOSE_GAP_M = 0.5

_WIDTH_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(m|meters?|metres?)?\s*$", re.IGNORECASE)

_Kind = str


@dataclass
class _Way:
    osm_id: int
    tags: dict[str, str]
    refs: list[int]
    coords: list[tuple[float, float]]


@dataclass
class _Collected:
    carriageway: list[_Way] = field(default_factory=list)
    hazard_ways: list[tuple[_Way, _Kind]] = field(default_factory=list)
    hazard_nodes: list[tuple[int, float, float, dict[str, str], _Kind]] = field(default_factory=list)
    node_xy: dict[int, tuple[float, float]] = field(default_factory=dict)


def parse_width(value: str | None) -> float | None:
    """Parse an OSM width value in metres.

    Parameters
    ----------
    value
        Tag value such as ``"7"``, ``"7 m"``, ``"7.5"`` or ``"7,5"``.

    Returns
    -------
    float or None
        The width, or None when the value is missing, not in metres (feet, ``"narrow"``), or not positive.
    """
    if value is None:
        return None
    m = _WIDTH_RE.match(value)
    if not m:
        return None
    width = float(m.group(1).replace(",", "."))
    return width if width > 0 and math.isfinite(width) else None


def _is_carriageway(tags: Mapping[str, str], service: bool) -> bool:
    highway = tags.get("highway")
    if highway in CARRIAGEWAY_HIGHWAYS:
        return True
    return service and highway == "service" and tags.get("service") not in NOT_CARRIAGEWAY_SERVICE


def _way_width(tags: Mapping[str, str], defaults: Mapping[str, float]) -> float:
    """Carriageway width of a way: ``width:carriageway``, ``width``, ``lanes`` x 3 m, or the class default."""
    for key in ("width:carriageway", "width"):
        w = parse_width(tags.get(key))
        if w is not None:
            return w
    lanes = parse_width(tags.get("lanes"))
    if lanes is not None:
        return lanes * LANE_WIDTH_M
    highway = tags.get("highway", "")
    if highway in defaults:
        return float(defaults[highway])
    return float(defaults.get(highway.removesuffix("_link"), defaults.get("residential", 7.0)))


def _node_kind(tags: Mapping[str, str]) -> _Kind | None:
    """Hazard kind of a tagged node, or None."""
    highway = tags.get("highway")
    if tags.get("emergency") == "fire_hydrant":
        return "hydrant"
    if (
        highway == "bus_stop"
        or tags.get("railway") == "tram_stop"
        or tags.get("public_transport") == "platform"
    ):
        return "bus_stop"
    if highway == "crossing":
        return "crossing"
    if highway == "traffic_signals":
        return "traffic_signal"
    if highway in ("stop", "give_way"):
        return "stop_sign"
    if tags.get("railway") in ("level_crossing", "crossing"):
        return "railway_crossing"
    if tags.get("amenity") == "fire_station":
        return "fire_station"
    return None


def _way_kind(tags: Mapping[str, str]) -> _Kind | None:
    """Hazard kind of a way, or None."""
    highway = tags.get("highway")
    if highway == "service" and tags.get("service") == "driveway":
        return "driveway"
    if tags.get("footway") == "crossing" or tags.get("cycleway") == "crossing":
        return "crossing"
    if tags.get("area:highway") == "prohibited":
        return "no_parking"
    if tags.get("public_transport") == "platform" or tags.get("railway") == "tram_stop":
        return "bus_stop"
    if tags.get("amenity") == "fire_station":
        return "fire_station"
    return None


def _collect(path: Path, service: bool) -> _Collected:
    """One pass over the file with node locations; copies out what the frames need."""
    import osmium

    out = _Collected()
    for obj in osmium.FileProcessor(str(path)).with_locations():
        if isinstance(obj, osmium.osm.Node):
            if len(obj.tags) == 0:
                continue
            tags = {t.k: t.v for t in obj.tags}
            kind = _node_kind(tags)
            if kind is not None and obj.location.valid():
                out.hazard_nodes.append((obj.id, obj.location.lon, obj.location.lat, tags, kind))
        elif isinstance(obj, osmium.osm.Way):
            if len(obj.tags) == 0:
                continue
            tags = {t.k: t.v for t in obj.tags}
            carriageway = _is_carriageway(tags, service)
            kind = None if carriageway else _way_kind(tags)
            if not carriageway and kind is None:
                continue
            refs: list[int] = []
            coords: list[tuple[float, float]] = []
            for n in obj.nodes:
                if n.location.valid():  # nodes missing from an extract are skipped
                    refs.append(n.ref)
                    coords.append((n.location.lon, n.location.lat))
            if len(coords) < 2:
                continue
            way = _Way(obj.id, tags, refs, coords)
            if kind is not None:
                out.hazard_ways.append((way, kind))
            else:
                out.carriageway.append(way)
                out.node_xy.update(zip(refs, coords, strict=True))
    return out


def _read(path: Path, service: bool) -> _Collected:
    """Read the file, turning every reading failure into a one-line :class:`InputError`."""
    label = str(path)
    if not path.exists():
        raise InputError("OSM file not found", source=label)
    if path.is_dir():
        raise InputError("is a folder, not an OSM file", source=label)
    if not os.access(path, os.R_OK):
        raise InputError("OSM file is not readable", source=label)
    try:
        return _collect(path, service)
    except (RuntimeError, ValueError, OSError, EOFError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(
            f"cannot read OSM data ({reason}); is it a complete .osm, .osm.pbf or .osm.bz2 file?",
            source=label,
        ) from exc


def _junction_nodes(ways: list[_Way]) -> set[int]:
    """Nodes where carriageway ways meet: shared by two or more ways and of degree three or more.

    The degree counts the way segments at a node (an inner node of a way counts two, an end one), so
    a street merely split into two ways end to end is no junction, while a side street ending on
    another street's middle is.
    """
    degree: Counter[int] = Counter()
    ways_at: dict[int, set[int]] = {}
    for w in ways:
        last = len(w.refs) - 1
        for i, ref in enumerate(w.refs):
            ends = int(i > 0) + int(i < last)
            if w.refs[0] == w.refs[-1] and i in (0, last):  # closed way: first/last are one inner node
                ends = 1
            degree[ref] += ends
            ways_at.setdefault(ref, set()).add(w.osm_id)
    return {ref for ref, ids in ways_at.items() if len(ids) >= 2 and degree[ref] >= 3}


def _connected_ends(ways: list[_Way]) -> set[int]:
    """Nodes shared by two or more carriageway ways (where a flat buffer end would leave a notch)."""
    count: Counter[int] = Counter()
    for w in ways:
        count.update(set(w.refs))
    return {ref for ref, c in count.items() if c >= 2}


def _street_areas(ways: list[_Way], widths: list[float], label: str) -> gpd.GeoDataFrame:
    """Buffer the ways by half their width, merge, close small gaps; one row per polygon part."""
    lines = gpd.GeoSeries([shapely.LineString(w.coords) for w in ways], crs="EPSG:4326")
    try:
        utm = lines.estimate_utm_crs()
    except (RuntimeError, ValueError) as exc:
        raise InputError(f"cannot find a UTM zone for the data: {exc}", source=label) from exc
    metric = np.asarray(lines.to_crs(utm).values, dtype=object)
    half = np.asarray(widths, dtype=float) / 2.0
    parts = list(shapely.buffer(metric, half, cap_style="flat", join_style="round"))
    # A way ending where another way goes on gets a round end there (no notch at an angled join);
    # free ends (dead ends, the edge of the extract) stay flat.
    connected = _connected_ends(ways)
    for geom, w, r in zip(metric, ways, half, strict=True):
        coords = shapely.get_coordinates(geom)
        for ref, xy in ((w.refs[0], coords[0]), (w.refs[-1], coords[-1])):
            if ref in connected:
                parts.append(shapely.Point(xy).buffer(r, quad_segs=8))
    merged = shapely.union_all(parts)
    closed = merged.buffer(CLOSE_GAP_M, join_style="round").buffer(-CLOSE_GAP_M, join_style="round")
    polys = [p for p in shapely.get_parts(closed) if p.geom_type == "Polygon" and not p.is_empty]
    polys.sort(key=lambda p: (p.bounds[0], p.bounds[1]))
    out = gpd.GeoDataFrame({"curb_id": [f"osm-area-{i}" for i in range(len(polys))]}, geometry=polys, crs=utm)
    return out.to_crs("EPSG:4326")


def _ways_frame(ways: list[_Way], widths: list[float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "osm_id": [f"way/{w.osm_id}" for w in ways],
            "name": [w.tags.get("name") for w in ways],
            "highway": [w.tags.get("highway") for w in ways],
            "oneway": [w.tags.get("oneway") for w in ways],
            "width_m": widths,
        },
        geometry=[shapely.LineString(w.coords) for w in ways],
        crs="EPSG:4326",
    )


def _hazards(data: _Collected) -> gpd.GeoDataFrame:
    rows: list[dict[str, object]] = []
    geoms: list[object] = []
    seen: set[str] = set()
    for node_id, lon, lat, tags, kind in data.hazard_nodes:
        rows.append({"hazard_id": f"node/{node_id}", "kind": kind, "width_m": parse_width(tags.get("width"))})
        geoms.append(shapely.Point(lon, lat))
        seen.add(f"node/{node_id}")
    for node_id in sorted(_junction_nodes(data.carriageway)):
        hid = f"node/{node_id}"
        if hid in seen:  # a junction that is also a signal or crossing keeps that kind (ids stay unique)
            hid = f"{hid}/intersection"
        lon, lat = data.node_xy[node_id]
        rows.append({"hazard_id": hid, "kind": "intersection", "width_m": None})
        geoms.append(shapely.Point(lon, lat))
    for way, kind in data.hazard_ways:
        closed = len(way.coords) >= 4 and way.refs[0] == way.refs[-1]
        geom: object
        if kind == "fire_station":
            geom = shapely.Polygon(way.coords).centroid if closed else shapely.LineString(way.coords).centroid
        elif closed and kind in ("no_parking", "bus_stop"):
            geom = shapely.make_valid(shapely.Polygon(way.coords))
        else:
            geom = shapely.LineString(way.coords)
        rows.append(
            {"hazard_id": f"way/{way.osm_id}", "kind": kind, "width_m": parse_width(way.tags.get("width"))}
        )
        geoms.append(geom)
    frame = gpd.GeoDataFrame(
        {
            "hazard_id": [r["hazard_id"] for r in rows],
            "kind": [r["kind"] for r in rows],
            "width_m": np.array(
                [np.nan if r["width_m"] is None else r["width_m"] for r in rows], dtype=float
            ),
            "source": "osm",
        },
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326").values,
        crs="EPSG:4326",
    )
    return frame


@overload
def from_osm(
    path: str | os.PathLike[str],
    *,
    service: bool = ...,
    default_widths: Mapping[str, float] | None = ...,
    return_ways: Literal[False] = ...,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]: ...


@overload
def from_osm(
    path: str | os.PathLike[str],
    *,
    service: bool = ...,
    default_widths: Mapping[str, float] | None = ...,
    return_ways: Literal[True],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]: ...


def from_osm(
    path: str | os.PathLike[str],
    *,
    service: bool = False,
    default_widths: Mapping[str, float] | None = None,
    return_ways: bool = False,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read street areas and hazards from an OpenStreetMap file.

    Parameters
    ----------
    path
        An ``.osm`` (XML), ``.osm.pbf`` or ``.osm.bz2`` file (format from the extension). Ways must come
        with their nodes (an Overpass ``(._;>;);`` download or an osmium extract do).
    service
        Also treat ``highway=service`` ways as carriageway (never ``service=driveway`` or
        ``service=parking_aisle``).
    default_widths
        Carriageway width (metres) per ``highway`` value for ways without ``width:carriageway``,
        ``width`` or ``lanes``; merged over :data:`DEFAULT_WIDTHS_M`.
    return_ways
        Also return the carriageway ways themselves.

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        ``(street_areas, hazards)``, or ``(street_areas, hazards, ways)`` with ``return_ways``, all in
        EPSG:4326. ``street_areas``: one Polygon per connected piece of carriageway, column ``curb_id``
        (``osm-area-<n>``). ``hazards``: columns ``hazard_id`` (``node/<id>``, ``way/<id>``;
        ``node/<id>/intersection`` for a junction node that is also another hazard), ``kind``, ``width_m``
        (NaN unless tagged ``width``) and ``source`` (``"osm"``). ``ways``: ``osm_id`` (``way/<id>``),
        ``name``, ``highway``, ``oneway`` (tag value), ``width_m`` (as used for the buffer) and the line.

    Raises
    ------
    parkplan.InputError
        The file is missing, unreadable, malformed or truncated, or holds no carriageway way.

    Notes
    -----
    Width of a way: ``width:carriageway``, else ``width`` (metres: ``"7"``, ``"7 m"``, ``"7.5"``; other
    units and text are ignored), else ``lanes`` x :data:`LANE_WIDTH_M`, else the class default. Each way is
    buffered by half its width with flat ends, round where it meets another carriageway way; the buffers
    are merged and gaps under 1 m closed (in the data's UTM zone).

    Hazards: ``intersection`` (nodes shared by two or more carriageway ways where at least three way
    segments meet, so a street split into two ways end to end is none), ``driveway``
    (``highway=service`` + ``service=driveway`` ways), ``crossing`` (``highway=crossing`` nodes,
    ``footway=crossing`` / ``cycleway=crossing`` ways), ``hydrant`` (``emergency=fire_hydrant``),
    ``bus_stop`` (``highway=bus_stop``, ``public_transport=platform``, ``railway=tram_stop``),
    ``traffic_signal`` (``highway=traffic_signals``), ``stop_sign`` (``highway=stop`` / ``give_way``),
    ``railway_crossing`` (``railway=level_crossing`` / ``crossing`` nodes), ``no_parking``
    (``area:highway=prohibited``; closed ways as polygons) and ``fire_station`` (``amenity=fire_station``;
    closed ways as their centroid). Relations (multipolygons) are not read.
    """
    p = Path(path)
    label = str(p)
    data = _read(p, service)
    if not data.carriageway:
        raise InputError(
            "no carriageway ways (highway=residential, tertiary, ...); nothing to plan along", source=label
        )
    defaults = {**DEFAULT_WIDTHS_M, **(default_widths or {})}
    widths = [_way_width(w.tags, defaults) for w in data.carriageway]
    areas = _street_areas(data.carriageway, widths, label)
    hazards = _hazards(data)
    if return_ways:
        return areas, hazards, _ways_frame(data.carriageway, widths)
    return areas, hazards
