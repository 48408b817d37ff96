"""OpenStreetMap input: street areas and hazards from a raw OSM file.

:func:`from_osm` reads an ``.osm`` (XML), ``.osm.pbf``, ``.osm.bz2``, ``.osm.gz`` or Overpass JSON file,
its objects in any order (:mod:`parkplan.osm.read`), with pyosmium (4.0 or later) and returns the two
frames :func:`parkplan.plan` takes (with the carriageway ways and the separately mapped parking, in one
:class:`OsmData`):

* **street areas**: every carriageway way buffered by half its width and the buffers merged, so a street
  drawn as several parallel ways (dual carriageways, turn lanes) becomes one carriageway polygon whose
  boundary is the kerb, and no bays land in a median or on top of each other;
* **hazards**: junction nodes, driveways, crossings, hydrants, bus stops, traffic signals, stop and
  give-way signs, no-parking areas (ways and multipolygons), fire stations, obstacles in the carriageway
  (``barrier=bollard`` and the like, anything tagged ``obstacle:parking=yes``, bicycle parking on the
  street), school and kindergarten gates, and ``road_class`` lines round the kerbs of motorways, their
  links, motorroads, expressways and main carriageways beside side roads (applied only where the rules'
  ``[road_classes]`` list the class), with a ``kind``, ``hazard_id`` (``node/123``, ``way/456`` or
  ``relation/789``), ``width_m`` where known, and ``source = "osm"``. A sign or signal tagged for one
  direction of a two-way street (``direction=forward|backward``) is placed beside the kerb of that
  traffic (``traffic="right"`` or ``"left"``) with ``match = "nearest"``.

With ``mode="existing"`` the street-parking tags are read too: every kerb side of a carriageway way that
the tags do not allow parking on gets a ``no_parking`` line along that kerb, so bays land only where
OpenStreetMap says parking is allowed today.

>>> import parkplan
>>> osm = parkplan.from_osm("extract.osm.pbf")  # doctest: +SKIP
>>> plan = parkplan.plan(osm.kerbs, osm.hazards, rules="de-parkraum", ways=osm.ways)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from parkplan.arguments import check_osm_arguments
from parkplan.errors import InputError
from parkplan.io.read import utm_zone_crs
from parkplan.osm import read as osm_read
from parkplan.osm.tags import (
    AREA_TAGS,
    BARRIER,
    DEFAULT_WIDTHS_M,
    MAIN_CARRIAGEWAY_HIGHWAYS,
    SCHOOL_AREA,
    STREET_SIDE_PARKING,
    Kind,
    ParkingSide,
    WayWidth,
    governed_side,
    is_carriageway,
    is_gate,
    is_oneway,
    is_side_road,
    may_have_road_class,
    node_kind,
    obstacle_width,
    parking_side,
    parse_capacity,
    parse_width,
    sign_direction,
    street_name,
    tag_road_classes,
    way_kind,
    way_width,
)

if TYPE_CHECKING:
    from parkplan.rules.loading import Traffic

log = logging.getLogger("parkplan")

__all__ = [
    "MODES",
    "Mode",
    "OsmData",
    "from_osm",
    "osm_extent",
]

#: Gaps between buffered ways narrower than twice this (metres) are closed.
CLOSE_GAP_M = 0.5

#: The ``mode`` of :func:`from_osm`: ignore the street-parking tags, or plan along what they allow today.
Mode = Literal["plan", "existing"]

#: Modes of :func:`from_osm`.
MODES: frozenset[str] = frozenset(get_args(Mode))

#: A gate or ``entrance=*`` node this close (metres) to a school's outline is one of its gates.
GATE_REACH_M = 1.0

#: A sign or signal that governs one direction of a two-way way is moved from the centreline to this far
#: (metres) behind the kerb beside that traffic, where its pole stands: half the way's carriageway width
#: plus this, at right angles to the way.
SIGN_SETBACK_M = 1.0

#: Values of :func:`from_osm`'s ``traffic``: the side of the road traffic keeps to.
TRAFFIC_SIDES: frozenset[str] = frozenset({"right", "left"})

#: The ``no_parking`` line of a side is drawn this far (metres) inside the kerb of the buffered
#: carriageway, so it lies along the kerb (within the 3 m snap) without touching or crossing it.
KERB_INSET_M = 0.5

#: ... and cut to the street area shrunk by this much (metres), so it never touches a kerb.
CLIP_INSET_M = 0.2

#: ... and shortened by this much (metres) at a free end of its way (a dead end or the edge of the data),
#: so it keeps clear of the flat end cap, which belongs to the kerb piece of the other side.
FREE_END_TRIM_M = 2.0


@dataclass
class _Way:
    osm_id: int
    tags: dict[str, str]
    refs: list[int]
    coords: list[tuple[float, float]]

    @property
    def closed(self) -> bool:
        return len(self.coords) >= 4 and self.refs[0] == self.refs[-1]

    def geometry(self) -> Any:
        """Return the way as a (valid) Polygon when closed, else as a LineString (EPSG:4326)."""
        if self.closed:
            return shapely.make_valid(shapely.Polygon(self.coords))
        return shapely.LineString(self.coords)


@dataclass
class _Area:
    """A multipolygon relation assembled by pyosmium's area handler."""

    osm_id: int
    tags: dict[str, str]
    geom: Any  # Polygon or MultiPolygon, EPSG:4326


@dataclass
class _Collected:
    carriageway: list[_Way] = field(default_factory=list)
    hazard_ways: list[tuple[_Way, Kind]] = field(default_factory=list)
    hazard_nodes: list[tuple[int, float, float, dict[str, str], Kind]] = field(default_factory=list)
    hazard_areas: list[tuple[_Area, Kind]] = field(default_factory=list)
    node_xy: dict[int, tuple[float, float]] = field(default_factory=dict)
    parking: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)  # (osm_id, tags, geometry)
    gates: list[tuple[int, float, float, dict[str, str]]] = field(default_factory=list)


def _directional_places(
    data: _Collected, widths: list[float], areas: gpd.GeoDataFrame, traffic: Traffic
) -> dict[int, Any]:
    """Place the signs and signals that govern one direction of a two-way way beside that traffic.

    Returns the node id and the new point (EPSG:4326) of every sign or signal node
    (:data:`parkplan.osm.tags.DIRECTION_KEYS`) tagged ``forward``/``backward`` on one two-way carriageway way
    (or on two joined end to end in one direction), away from any junction: at right angles to the way, half
    its width plus :data:`SIGN_SETBACK_M` to the side whose traffic goes that way
    (:func:`parkplan.osm.tags.governed_side`). The others stay where they are: on a one-way way both kerbs
    carry the traffic, and at a junction or where two ways meet head to head "forward" is ambiguous.
    """
    wanted = {
        node_id: direction
        for node_id, _, _, tags, kind in data.hazard_nodes
        if (direction := sign_direction(tags, kind)) is not None
    }
    if not wanted:
        return {}
    on: dict[int, list[tuple[int, int]]] = {}  # node id -> (way, position) of each carriageway way at it
    for wi, w in enumerate(data.carriageway):
        last = len(w.refs) - 1
        for i, ref in enumerate(w.refs):
            if ref in wanted and not (i == last and w.closed):  # a closed way's last node is its first
                on.setdefault(ref, []).append((wi, i))
    junctions = _junction_nodes(data.carriageway)
    nodes: list[int] = []
    chords: list[tuple[Any, Any, Any]] = []  # per (node, way at it): the node and its way neighbours
    owners: list[int] = []
    for node_id, places in on.items():
        if node_id in junctions or any(is_oneway(data.carriageway[wi].tags) for wi, _ in places):
            continue
        for wi, i in places:
            w = data.carriageway[wi]
            last = len(w.refs) - 1
            before = i - 1 if i > 0 else (last - 1 if w.closed else i)
            after = i + 1 if i < last else i
            chords.append((w.coords[i], w.coords[before], w.coords[after]))
            owners.append(len(nodes))
        nodes.append(node_id)
    if not nodes:
        return {}
    utm = utm_zone_crs(areas)
    xy = shapely.get_coordinates(_to_utm([shapely.Point(c) for chord in chords for c in chord], utm))
    xy = xy.reshape(len(chords), 3, 2)
    tangent = xy[:, 2] - xy[:, 1]
    norm = np.hypot(tangent[:, 0], tangent[:, 1])
    owner = np.asarray(owners)
    placed: list[int] = []
    points: list[Any] = []
    for n, node_id in enumerate(nodes):
        rows = np.flatnonzero(owner == n)
        if (norm[rows] <= 0).any():  # a way doubling back on one point: no direction to go by
            continue
        unit = tangent[rows] / norm[rows, None]
        if (unit @ unit.T).min() < 0:  # two ways meeting head to head or tail to tail
            continue
        t = unit.sum(axis=0)
        t /= np.hypot(t[0], t[1])
        left = governed_side(wanted[node_id], traffic) == "left"
        normal = np.array([-t[1], t[0]]) if left else np.array([t[1], -t[0]])
        reach = max(widths[wi] for wi, _ in on[node_id]) / 2.0 + SIGN_SETBACK_M
        placed.append(node_id)
        points.append(shapely.Point(xy[rows[0], 0] + normal * reach))
    return dict(zip(placed, gpd.GeoSeries(points, crs=utm).to_crs("EPSG:4326").values, strict=True))


def _osmium() -> Any:
    """Import pyosmium, or say how to install it (it comes with the ``osm`` extra)."""
    return osm_read.import_osmium()


def _collect(source: Any, service: bool, check_order: bool = False) -> _Collected:
    """Read the file once with node locations; copy out what the frames need.

    The area handler reads it a second time, for the multipolygon relations with
    :data:`parkplan.osm.tags.AREA_TAGS`. ``source`` is what pyosmium reads (a path, ``osmium.io.File`` or
    ``FileBuffer``); with ``check_order`` the objects go through :func:`parkplan.osm.read.in_order`, which
    stops at the first one out of order.
    """
    osmium = _osmium()

    out = _Collected()
    wkb = osmium.geom.WKBFactory()
    processor = osmium.FileProcessor(source).with_locations()
    # Assemble only the multipolygon relations of interest (osmium.filter: pyosmium 4.0).
    processor = processor.with_areas(osmium.filter.TagFilter(*AREA_TAGS))
    for obj in osm_read.in_order(processor) if check_order else processor:
        if isinstance(obj, osmium.osm.Node):
            if len(obj.tags) == 0 or not obj.location.valid():
                continue
            tags = {t.k: t.v for t in obj.tags}
            kind = node_kind(tags)
            if kind is not None:
                out.hazard_nodes.append((obj.id, obj.location.lon, obj.location.lat, tags, kind))
            elif is_gate(tags):
                out.gates.append((obj.id, obj.location.lon, obj.location.lat, tags))
        elif isinstance(obj, osmium.osm.Way):
            if len(obj.tags) == 0:
                continue
            tags = {t.k: t.v for t in obj.tags}
            carriageway = is_carriageway(tags, service)
            kind = None if carriageway else way_kind(tags)
            separate = (
                not carriageway
                and tags.get("amenity") == "parking"
                and tags.get("parking") in STREET_SIDE_PARKING
            )
            if not carriageway and kind is None and not separate:
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
            if separate:
                out.parking.append((f"way/{obj.id}", tags, way.geometry()))
            if kind is not None:
                out.hazard_ways.append((way, kind))
            elif carriageway:
                out.carriageway.append(way)
                out.node_xy.update(zip(refs, coords, strict=True))
        elif isinstance(obj, osmium.osm.Area) and not obj.from_way():  # closed ways are read as ways
            tags = {t.k: t.v for t in obj.tags}
            try:
                geom = shapely.make_valid(shapely.from_wkb(wkb.create_multipolygon(obj)))
            except (RuntimeError, shapely.errors.GEOSException):  # pragma: no cover - broken multipolygon
                continue
            polygons = [
                q
                for g in shapely.get_parts(geom)  # a GeometryCollection from make_valid: its polygons
                for q in shapely.get_parts(g)
                if q.geom_type == "Polygon" and not q.is_empty
            ]
            if not polygons:
                continue
            geom = polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)
            area = _Area(obj.orig_id(), tags, geom)
            if tags.get("amenity") == "parking" and tags.get("parking") in STREET_SIDE_PARKING:
                out.parking.append((f"relation/{area.osm_id}", tags, geom))
                continue
            kind = way_kind(tags)
            if kind is not None:
                out.hazard_areas.append((area, kind))
    return out


def _read(path: Path, service: bool) -> _Collected:
    """Read the file in any order, turning every reading failure into a one-line ``InputError``."""
    return osm_read.read_osm(path, lambda source, check: _collect(source, service, check))


def osm_extent(path: str | os.PathLike[str]) -> gpd.GeoSeries | None:
    """Return the bounding box an OSM file's header declares (EPSG:4326), or ``None`` when it has none.

    An extract's ways run on past its box to their end nodes, so the street area there is incomplete:
    pass this as ``plan(..., extent=...)`` so that boundary outside the box is not taken for kerb.
    Overpass JSON declares none.
    """
    box = osm_read.header_box(path)
    if box is None:
        return None
    return gpd.GeoSeries([shapely.box(*box)], crs="EPSG:4326")


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
        utm = utm_zone_crs(lines)
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


def _side_lines(
    ways: list[_Way],
    widths: list[float],
    sides: list[tuple[ParkingSide, ParkingSide]],
    areas: gpd.GeoDataFrame,
) -> tuple[list[str], list[str], list[object]]:
    """``no_parking`` lines along the kerb of every side where parking is not allowed (EPSG:4326).

    Each is the centreline offset to its side, cut to the street area shrunk by :data:`CLIP_INSET_M`:
    where a narrower way joins, the kerb steps in and the offset line would cross it (and a crossing
    line only counts where it crosses); cut, every piece lies along the kerb without touching it.
    """
    ids: list[str] = []
    reasons: list[str] = []
    geoms: list[object] = []
    if not ways:
        return ids, reasons, geoms
    lines = gpd.GeoSeries([shapely.LineString(w.coords) for w in ways], crs="EPSG:4326")
    utm = utm_zone_crs(lines)
    metric = np.asarray(lines.to_crs(utm).values, dtype=object)
    inner = shapely.buffer(areas.to_crs(utm).union_all(), -CLIP_INSET_M, join_style="round")
    shapely.prepare(inner)
    connected = _connected_ends(ways)
    out: list[object] = []
    for geom, w, width, pair in zip(metric, ways, widths, sides, strict=True):
        offset = max(width / 2.0 - KERB_INSET_M, width / 4.0)
        for name, info, sign in (("left", pair[0], 1.0), ("right", pair[1], -1.0)):
            if info.allowed:
                continue
            line = shapely.offset_curve(geom, sign * offset, join_style="round")
            start = 0.0 if w.refs[0] in connected else FREE_END_TRIM_M
            end = line.length - (0.0 if w.refs[-1] in connected else FREE_END_TRIM_M)
            if end - start <= 0.0:
                continue
            if line.geom_type == "LineString":  # a way looping on itself can give a MultiLineString
                line = substring(line, start, end)
            line = shapely.intersection(line, inner)
            parts = [g for g in shapely.get_parts(line) if g.geom_type == "LineString" and g.length > 0]
            if not parts:
                continue
            ids.append(f"way/{w.osm_id}/{name}")
            reasons.append(info.reason or "untagged")
            out.append(parts[0] if len(parts) == 1 else shapely.MultiLineString(parts))
    if out:
        geoms = list(gpd.GeoSeries(out, crs=utm).to_crs("EPSG:4326").values)
    return ids, reasons, geoms


#: A side road belongs to a main way when it runs along it within this distance (metres, centreline to
#: centreline): a main carriageway, its separator and a side road of a Chinese ring road lie 10-35 m apart.
SIDE_ROAD_REACH_M = 40.0

#: ... over at least this length (metres) of the main way, or half the main way when it is shorter.
SIDE_ROAD_ALONG_M = 30.0

#: A segment of the main way runs along the side road when its projection onto it is at least this share of
#: its length (within about 30 degrees), so a street crossing the side road is no main carriageway.
SIDE_ROAD_ALONG_RATIO = 0.85


def _main_carriageways(ways: list[_Way], metric: np.ndarray[Any, Any]) -> set[int]:
    """Indexes of the ways that are the main carriageway of a street with side roads.

    A way of :data:`parkplan.osm.tags.MAIN_CARRIAGEWAY_HIGHWAYS` that is no side road itself is a main
    carriageway where a side road (:func:`parkplan.osm.tags.is_side_road`) of the same street (the same
    :func:`parkplan.osm.tags.street_name`, or either unnamed) runs along it: at least
    :data:`SIDE_ROAD_ALONG_M` of it (or half of it, if shorter) lies within :data:`SIDE_ROAD_REACH_M` of the
    side road in segments whose projection onto the side road is at least :data:`SIDE_ROAD_ALONG_RATIO` of
    their length. ``metric``: the ways' lines in metres.
    """
    side = np.array([i for i, w in enumerate(ways) if is_side_road(w.tags)], dtype=np.int64)
    main = np.array(
        [
            i
            for i, w in enumerate(ways)
            if w.tags.get("highway") in MAIN_CARRIAGEWAY_HIGHWAYS and not is_side_road(w.tags)
        ],
        dtype=np.int64,
    )
    if len(side) == 0 or len(main) == 0:
        return set()
    reach = shapely.buffer(metric[side], SIDE_ROAD_REACH_M)
    s_idx, m_idx = shapely.STRtree(metric[main]).query(reach, predicate="intersects")
    found: set[int] = set()
    for s, m in zip(s_idx.tolist(), m_idx.tolist(), strict=True):
        si, mi = int(side[s]), int(main[m])
        a, b = street_name(ways[si].tags), street_name(ways[mi].tags)
        if mi in found or (a is not None and b is not None and a != b):
            continue
        part = shapely.intersection(metric[mi], reach[s])
        along = 0.0
        for piece in shapely.get_parts(part):
            xy = shapely.get_coordinates(piece)
            if len(xy) < 2:
                continue
            at = shapely.line_locate_point(metric[si], shapely.points(xy))
            seg = np.hypot(*np.diff(xy, axis=0).T)
            moved = np.abs(np.diff(at))
            along += float(seg[moved >= SIDE_ROAD_ALONG_RATIO * seg].sum())
        if along >= min(SIDE_ROAD_ALONG_M, 0.5 * float(shapely.length(metric[mi]))):
            found.add(mi)
    return found


def _road_classes(ways: list[_Way], metric: np.ndarray[Any, Any]) -> list[frozenset[str]]:
    """Find the road classes (:data:`parkplan.rules.loading.ROAD_CLASSES`) of each carriageway way.

    Those its tags give (:func:`parkplan.osm.tags.tag_road_classes`), and ``main_carriageway``:
    :func:`_main_carriageways`. ``metric``: the ways' lines in metres.
    """
    main = _main_carriageways(ways, metric)
    out: list[frozenset[str]] = []
    for i, w in enumerate(ways):
        classes = tag_road_classes(w.tags)
        out.append(classes | {"main_carriageway"} if i in main else classes)
    return out


def _with_road_classes(
    hazards: gpd.GeoDataFrame, ways: list[_Way], widths: list[float], areas: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Add a ``road_class`` line round the kerbs of every way with a road class (:func:`_road_classes`).

    The line runs :data:`KERB_INSET_M` inside the way's own carriageway (the boundary of its buffer by
    half its width, shrunk by that on every side), along both kerbs and across a free end, as the
    ``no_parking`` lines of existing mode run along one kerb (:func:`_side_lines`); it is cut to the
    street area less :data:`CLIP_INSET_M` and loses the carriageway of the ways without a road class, so a
    slip road's line stops where it enters the street it joins. The rows get ``kind = "road_class"``,
    ``hazard_id`` ``way/<id>/road_class`` and a ``road_class`` column (the way's classes, ``;``-joined;
    None on the other hazards; in existing mode ``reason`` says ``road class <classes>``): the planner and
    the checker keep those whose classes the rules list in ``[road_classes] no_parking``
    (:func:`parkplan.hazards.applicable_hazards`). Returns ``hazards`` unchanged when no way has one.
    """
    if not any(may_have_road_class(w.tags) for w in ways):  # most city extracts: nothing to draw
        return hazards
    utm = utm_zone_crs(areas)
    metric = np.asarray(
        gpd.GeoSeries([shapely.LineString(w.coords) for w in ways], crs="EPSG:4326").to_crs(utm).values,
        dtype=object,
    )
    classes = _road_classes(ways, metric)
    pick = np.array([i for i, c in enumerate(classes) if c], dtype=np.int64)
    if len(pick) == 0:
        return hazards
    half = np.asarray(widths, dtype=float) / 2.0
    # The way's own carriageway shrunk by the inset on every side, its free ends included: a line offset
    # from the way by half its width less the inset (flat caps) would end on the end kerb itself, where
    # the clip below cuts it off, and leave that kerb free (a 13 m wide motorway end held a bay).
    own = shapely.buffer(metric[pick], half[pick], cap_style="flat", join_style="round")
    inset = np.minimum(KERB_INSET_M, half[pick] / 2.0)
    rings = shapely.boundary(shapely.buffer(own, -inset, join_style="mitre"))
    inner = shapely.buffer(areas.to_crs(utm).union_all(), -CLIP_INSET_M, join_style="round")
    lines = shapely.intersection(rings, inner)
    rest = np.array([i for i, c in enumerate(classes) if not c], dtype=np.int64)
    if len(rest):
        others = shapely.union_all(shapely.buffer(metric[rest], half[rest], cap_style="flat"))
        lines = shapely.difference(lines, others)
    keep = ~shapely.is_empty(lines) & (shapely.length(lines) > 0)
    pick, lines = pick[keep], lines[keep]
    frame = gpd.GeoDataFrame(
        {
            "hazard_id": [f"way/{ways[i].osm_id}/road_class" for i in pick],
            "kind": "road_class",
            "width_m": np.nan,
            "source": "osm",
            "match": None,
            "road_class": [";".join(sorted(classes[i])) for i in pick],
        },
        geometry=gpd.GeoSeries(lines, crs=utm).to_crs("EPSG:4326").values,
        crs="EPSG:4326",
    )
    if "reason" in hazards.columns:
        frame.insert(len(frame.columns) - 2, "reason", [f"road class {c}" for c in frame["road_class"]])
    out = pd.concat([hazards.assign(road_class=None), frame], ignore_index=True)
    columns = [c for c in out.columns if c != "geometry"] + ["geometry"]
    return gpd.GeoDataFrame(out[columns], geometry="geometry", crs="EPSG:4326")


def _parking_frame(parking: list[tuple[str, dict[str, str], Any]]) -> gpd.GeoDataFrame:
    """Frame the separately mapped street-side parking.

    Closed ways and multipolygons are (Multi)Polygons, open ways LineStrings.
    """
    capacity = [parse_capacity(tags.get("capacity")) for _, tags, _ in parking]
    return gpd.GeoDataFrame(
        {
            "osm_id": [oid for oid, _, _ in parking],
            "parking": [tags.get("parking") for _, tags, _ in parking],
            "capacity": np.array([np.nan if c is None else c for c in capacity], dtype=float),
            "orientation": [
                tags.get("orientation", tags.get("parking:orientation")) for _, tags, _ in parking
            ],
        },
        geometry=gpd.GeoSeries([g for _, _, g in parking], crs="EPSG:4326").values,
        crs="EPSG:4326",
    )


def _note_ignored_widths(ways: list[_Way], found: list[WayWidth], label: str) -> None:
    """Log, once for the file, how many ways had width tags set aside as implausible, with examples."""
    ignored = [(w, f) for w, f in zip(ways, found, strict=True) if f.ignored]
    if not ignored:
        return
    shown = "; ".join(f"way/{w.osm_id} {', '.join(f.ignored)}" for w, f in ignored[:5])
    more = f"; and {len(ignored) - 5} more" if len(ignored) > 5 else ""
    log.warning(
        "%s: %d carriageway way(s) with a width tag below the lanes it must hold, absurd or unreadable "
        "(ignored, the next width source used): %s%s",
        label,
        len(ignored),
        shown,
        more,
    )


def _ways_frame(
    ways: list[_Way], widths: list[WayWidth], sides: list[tuple[ParkingSide, ParkingSide]] | None
) -> gpd.GeoDataFrame:
    columns: dict[str, object] = {
        "osm_id": [f"way/{w.osm_id}" for w in ways],
        "name": [w.tags.get("name") for w in ways],
        "highway": [w.tags.get("highway") for w in ways],
        "oneway": [w.tags.get("oneway") for w in ways],
        "width_m": [f.width_m for f in widths],
        "width_source": [f.source for f in widths],
        "width_ignored": ["; ".join(f.ignored) if f.ignored else None for f in widths],
    }
    if sides is not None:
        for i, name in enumerate(("left", "right")):
            columns[f"parking_{name}"] = np.array([pair[i].allowed for pair in sides], dtype=bool)
            columns[f"parking_tag_{name}"] = [pair[i].tag for pair in sides]
            columns[f"reason_{name}"] = [pair[i].reason for pair in sides]
            columns[f"orientation_{name}"] = [pair[i].orientation for pair in sides]
            columns[f"capacity_{name}"] = np.array(
                [np.nan if pair[i].capacity is None else pair[i].capacity for pair in sides], dtype=float
            )
    return gpd.GeoDataFrame(columns, geometry=[shapely.LineString(w.coords) for w in ways], crs="EPSG:4326")


def _to_utm(geoms: list[Any], crs: Any) -> Any:
    """Reproject EPSG:4326 geometries to ``crs``, as an object array."""
    return np.asarray(gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(crs).values, dtype=object)


def _facing_points(geoms: list[Any], areas: gpd.GeoDataFrame) -> list[Any]:
    """Find, for each outline (polygon or line), its point nearest the street areas (EPSG:4326).

    A fire station's or a school's gate opens onto the street it faces: without a mapped gate, this is
    the best place for it (a large building's centroid can lie tens of metres behind the kerb).
    """
    if not geoms:
        return []
    utm = utm_zone_crs(areas)
    street = areas.to_crs(utm).union_all()
    g = _to_utm(geoms, utm)
    edge = np.where(np.isin(shapely.get_type_id(g), (3, 6)), shapely.boundary(g), g)
    points = shapely.get_point(shapely.shortest_line(edge, street), 0)
    return list(gpd.GeoSeries(points, crs=utm).to_crs("EPSG:4326").values)


def _gates_on(
    gates: list[tuple[int, float, float, dict[str, str]]], outlines: list[Any], areas: gpd.GeoDataFrame
) -> list[list[int]]:
    """Find, for each outline, the gates (indexes, in file order) within :data:`GATE_REACH_M` of it."""
    found: list[list[int]] = [[] for _ in outlines]
    if not gates or not outlines:
        return found
    utm = utm_zone_crs(areas)
    points = _to_utm([shapely.Point(lon, lat) for _, lon, lat, _ in gates], utm)
    edges = shapely.boundary(_to_utm(outlines, utm))
    o_idx, g_idx = shapely.STRtree(points).query(edges, predicate="dwithin", distance=GATE_REACH_M)
    for o, g in sorted(zip(o_idx.tolist(), g_idx.tolist(), strict=True)):
        found[o].append(g)
    return found


def _hazards(
    data: _Collected,
    areas: gpd.GeoDataFrame,
    parking: list[tuple[str, str, object]] | None = None,
    moved: Mapping[int, object] | None = None,
) -> gpd.GeoDataFrame:
    """Build the hazard frame.

    ``areas`` (the street areas) decides which barriers stand in the carriageway and where a fire station
    or a school without mapped gates faces the street. ``parking`` (existing mode) adds ``no_parking``
    rows ``(hazard_id, reason, geometry)`` and a ``reason`` column (None for the other hazards).
    ``moved`` (:func:`_directional_places`) gives the nodes that govern one direction of traffic their
    point beside it; their ``match`` is ``"nearest"`` (None for the other hazards: the kind's own).
    """
    hids: list[str] = []
    kinds: list[str] = []
    widths: list[float | None] = []
    geoms: list[object] = []
    reasons: list[str | None] = []
    matches: list[str | None] = []
    moved = moved or {}
    seen: set[str] = set()
    street = areas.union_all()
    shapely.prepare(street)
    facing: list[tuple[int, object]] = []  # rows placed where their outline faces the street

    def add(
        hid: str,
        kind: str,
        width: float | None,
        geom: object,
        reason: str | None = None,
        match: str | None = None,
    ) -> None:
        if hid in seen:  # a node read twice (a junction that is also a signal) keeps ids unique
            hid = f"{hid}/{kind}"
        seen.add(hid)
        hids.append(hid)
        kinds.append(kind)
        widths.append(width)
        geoms.append(geom)
        reasons.append(reason)
        matches.append(match)

    def in_street(geom: object) -> object | None:
        """Return the part of a barrier in the carriageway (inside the street areas), or None."""
        if not shapely.intersects(street, geom):
            return None
        if shapely.get_type_id(geom) == 0:
            return geom
        part = shapely.intersection(geom, street)
        return None if part.is_empty else part

    for node_id, lon, lat, tags, kind in data.hazard_nodes:
        point = shapely.Point(lon, lat)
        if kind == BARRIER:
            if in_street(point) is None:
                continue
            kind = "obstacle"
        width = obstacle_width(tags) if kind == "obstacle" else parse_width(tags.get("width"))
        if node_id in moved:  # a sign or signal for one direction: beside that traffic, its kerb only
            add(f"node/{node_id}", kind, width, moved[node_id], match="nearest")
        else:
            add(f"node/{node_id}", kind, width, point)
    for node_id in sorted(_junction_nodes(data.carriageway)):
        lon, lat = data.node_xy[node_id]
        add(f"node/{node_id}", "intersection", None, shapely.Point(lon, lat))

    # Ways (closed ones as polygons where the kind is an area) and multipolygon relations.
    areal = ("no_parking", "bus_stop", "obstacle", "fire_station", BARRIER, SCHOOL_AREA)
    features: list[tuple[str, dict[str, str], Any, str]] = [
        (f"way/{w.osm_id}", w.tags, w.geometry() if k in areal else shapely.LineString(w.coords), k)
        for w, k in data.hazard_ways
    ]
    features += [(f"relation/{a.osm_id}", a.tags, a.geom, k) for a, k in data.hazard_areas]
    outlines: list[tuple[str, Any]] = []
    for hid, tags, geom, kind in features:
        if kind == SCHOOL_AREA:
            if shapely.get_type_id(geom) in (3, 6):
                outlines.append((hid, geom))
            continue
        if kind == BARRIER:
            part = in_street(geom)
            if part is None:
                continue
            kind, geom = "obstacle", part
        width = obstacle_width(tags) if kind == "obstacle" else parse_width(tags.get("width"))
        if kind == "fire_station":
            facing.append((len(hids), geom))
        add(hid, kind, width, geom)

    # Schools: each gate on the outline, else the outline where it faces the street.
    gate_rows: set[int] = set()
    gates_near = _gates_on(data.gates, [g for _, g in outlines], areas)
    for (hid, geom), near in zip(outlines, gates_near, strict=True):
        for j in near:
            if j not in gate_rows:  # a gate shared by two outlines is one hazard
                gate_rows.add(j)
                node_id, lon, lat, tags = data.gates[j]
                add(f"node/{node_id}", "school", parse_width(tags.get("width")), shapely.Point(lon, lat))
        if not near:
            facing.append((len(hids), geom))
            add(hid, "school", None, geom)

    for hid, reason, geom in parking or []:
        add(hid, "no_parking", None, geom, reason)
    for (i, _), point in zip(facing, _facing_points([g for _, g in facing], areas), strict=True):
        geoms[i] = point
    frame = gpd.GeoDataFrame(
        {
            "hazard_id": hids,
            "kind": kinds,
            "width_m": np.array([np.nan if w is None else w for w in widths], dtype=float),
            "source": "osm",
            "match": matches,
        },
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326").values,
        crs="EPSG:4326",
    )
    if parking is not None:
        frame.insert(len(frame.columns) - 1, "reason", reasons)
    return frame


@dataclass(frozen=True, eq=False, repr=False)
class OsmData:
    """What :func:`from_osm` reads from an OpenStreetMap file: four frames, all in EPSG:4326.

    Frozen: the frames are set once (a frame itself is a pandas object and can be changed in place, as any
    frame a function returns). ``parkplan.plan(osm.kerbs, osm.hazards, ways=osm.ways)`` plans along them.

    Attributes
    ----------
    kerbs : geopandas.GeoDataFrame
        The street areas, what :func:`parkplan.plan` takes as ``kerbs`` (the boundary of each is the kerb):
        one Polygon per connected piece of carriageway, column ``curb_id`` (``osm-area-<n>``).
    hazards : geopandas.GeoDataFrame
        ``hazard_id`` (``node/<id>``, ``way/<id>``, ``relation/<id>``; ``node/<id>/intersection`` for a
        junction node that is also another hazard), ``kind``, ``width_m`` (NaN unless tagged ``width``;
        obstacles always have one), ``source`` (``"osm"``) and ``match`` (``"nearest"`` for a sign or signal
        moved beside the one direction of traffic it governs, which must match only the kerb nearest it;
        None elsewhere: the kind's own ``match``); in existing mode also ``reason``; where a way has a road
        class also ``road_class`` (see :func:`from_osm`).
    ways : geopandas.GeoDataFrame
        The carriageway ways, one LineString each: ``osm_id`` (``way/<id>``), ``name``, ``highway``,
        ``oneway`` (tag value), ``width_m`` (as used for the buffer), ``width_source`` (one of
        :data:`parkplan.osm.tags.WIDTH_SOURCES`), ``width_ignored`` (the width tags set aside as implausible,
        ``"width=0"``, joined by ``"; "``; None when none); in existing mode also, per side ``<s>`` in
        ``left``/``right`` (of the digitised direction): ``parking_<s>`` (bool, parking allowed),
        ``parking_tag_<s>`` (deciding tag ``key=value``, None when untagged), ``reason_<s>`` (why not
        allowed, None when allowed), ``orientation_<s>`` (``parallel``/``diagonal``/``perpendicular`` or
        None) and ``capacity_<s>`` (NaN unless tagged).
    parking : geopandas.GeoDataFrame
        The separately mapped street-side parking (``amenity=parking`` ways and multipolygons with
        ``parking=street_side|lane|on_kerb|half_on_kerb|layby``): ``osm_id`` (``way/<id>`` or
        ``relation/<id>``), ``parking``, ``capacity`` (NaN unless tagged), ``orientation`` (tag
        ``orientation`` or ``parking:orientation``) and a Polygon (closed way), MultiPolygon (relation) or
        LineString. Empty (with these columns) when the file has none.
    """

    kerbs: gpd.GeoDataFrame
    hazards: gpd.GeoDataFrame
    ways: gpd.GeoDataFrame
    parking: gpd.GeoDataFrame

    def __repr__(self) -> str:
        """Name the frames and their row counts, not their contents (``OsmData(kerbs: 1, ... rows)``)."""
        counts = ", ".join(f"{f.name}: {len(getattr(self, f.name))}" for f in fields(self))
        return f"OsmData({counts} rows)"


def from_osm(
    path: str | os.PathLike[str],
    *,
    mode: Mode = "plan",
    service: bool = False,
    default_widths: Mapping[str, float] | None = None,
    traffic: Traffic = "right",
) -> OsmData:
    """Read street areas and hazards from an OpenStreetMap file.

    .. versionchanged:: 0.2.0
       Returns one :class:`OsmData`, always. The ``return_ways`` and ``return_parking`` flags, which chose
       between two, three and four frames, are gone (a pre-1.0 API change): ``areas, hazards, ways =
       from_osm(path, return_ways=True)`` is now ``osm = from_osm(path)`` and ``osm.kerbs``, ``osm.hazards``,
       ``osm.ways``.

    Parameters
    ----------
    path
        An ``.osm`` (XML), ``.osm.pbf``, ``.osm.bz2``, ``.osm.gz`` or Overpass JSON (``[out:json]``) file,
        format from its content (:func:`parkplan.osm.read.sniff_format`), objects in any order and
        duplicates included (:func:`parkplan.osm.read.read_osm`: sorted in memory when not sorted, up to
        :data:`parkplan.osm.read.SORT_LIMITS_BYTES`). Ways must come with their nodes (an Overpass
        ``(._;>;);`` or ``out geom`` download or an osmium extract do).
    mode
        ``"plan"`` (default) ignores street-parking tags: the rules alone decide where bays go.
        ``"existing"`` reads them and forbids every kerb side where they do not allow parking today; a
        side with no parking tag at all counts as **not allowed** (only tagged parking is counted).
    service
        Also treat ``highway=service`` ways as carriageway (never ``service=driveway`` or
        ``service=parking_aisle``).
    default_widths
        Carriageway width (metres) per ``highway`` value for ways without a plausible
        ``width:carriageway``, ``width`` or ``est_width`` and without ``lanes``; merged over
        :data:`parkplan.osm.tags.DEFAULT_WIDTHS_M`.
    traffic
        ``"right"`` (default) or ``"left"``: the side of the road traffic keeps to, as in the rules the
        hazards are planned with (pass ``rules.traffic``). It decides which kerb a sign or signal tagged
        for one direction of traffic applies to (see Notes).

    Returns
    -------
    OsmData
        The street areas (``kerbs``), ``hazards``, carriageway ``ways`` and separately mapped street-side
        ``parking``, all in EPSG:4326; their columns are described there.

    Raises
    ------
    parkplan.errors.ArgumentError
        Before reading, for an argument of the wrong type or value: ``path`` no path, ``mode`` neither
        ``"plan"`` nor ``"existing"``, ``traffic`` neither ``"right"`` nor ``"left"``, a default width
        that is no positive number, ``service`` not a bool. A :class:`ValueError` too, as before.
    parkplan.InputError
        The file is missing, unreadable, malformed or truncated, unsorted and too large to sort in memory,
        or holds no carriageway way.

    Notes
    -----
    Width of a way, first found wins: ``width:carriageway``, ``width``, ``est_width``
    (:func:`parkplan.osm.tags.parse_width`: metres by default, ``"7,5"``, ``"12 ft"``, ``10'6"``; text is
    ignored); a value below :data:`parkplan.osm.tags.MIN_LANE_WIDTH_M` per tagged lane or outside
    :data:`parkplan.osm.tags.MIN_CARRIAGEWAY_WIDTH_M` .. :data:`parkplan.osm.tags.MAX_CARRIAGEWAY_WIDTH_M` is
    ignored too, and the ways with one are logged as one warning; else ``lanes`` x
    :data:`parkplan.osm.tags.LANE_WIDTH_M` plus the depth of the parking lanes the tags describe on each side
    (:func:`parkplan.osm.tags.parking_lane_depth`: ``lanes`` counts travel lanes only); else the class default
    (:data:`parkplan.osm.tags.DEFAULT_WIDTHS_M`). The ways frame's ``width_source`` says which. Each way is
    buffered by half its width with flat ends, round where it meets another carriageway way; the buffers are
    merged and gaps under 1 m closed (in the data's UTM zone).

    Hazards: ``intersection`` (nodes shared by two or more carriageway ways where at least three way segments
    meet, so a street split into two ways end to end is none), ``driveway`` (``highway=service`` +
    ``service=driveway`` ways), ``crossing`` (``highway=crossing`` nodes, ``footway=crossing`` /
    ``cycleway=crossing`` ways), ``hydrant`` (``emergency=fire_hydrant``), ``bus_stop`` (``highway=bus_stop``,
    ``public_transport=platform``, ``railway=tram_stop``), ``traffic_signal`` (``highway=traffic_signals``),
    ``stop_sign`` (``highway=stop`` / ``give_way``), ``railway_crossing`` (``railway=level_crossing`` /
    ``crossing`` nodes), ``no_parking`` (``area:highway=prohibited``; closed ways and multipolygons as
    polygons), ``fire_station`` (``amenity=fire_station``; ways and multipolygons at the point of their
    outline nearest the street areas), ``obstacle`` and ``school``. Obstacles: ``barrier`` = one of
    :data:`parkplan.osm.tags.OBSTACLE_BARRIERS` where it stands in the carriageway (a node inside the street
    areas, or a way's part inside them); anything tagged ``obstacle:parking=yes``; two-wheeler parking and
    rental (:data:`parkplan.osm.tags.TWO_WHEEL_AMENITIES`) whose position is on the street
    (:data:`parkplan.osm.tags.ON_STREET_POSITIONS`); parklets. Their ``width_m`` is the ``width`` tag, else
    :data:`parkplan.osm.tags.OBSTACLE_WIDTHS_M` by what they are (two-wheeler parking:
    :data:`parkplan.osm.tags.TWO_WHEEL_WIDTH_PER_SPACE_M` per ``capacity``), so a point keeps its own extent
    free without a clearance in the rules. Schools: every gate (:data:`parkplan.osm.tags.GATE_BARRIERS`) or
    ``entrance=*`` node within :data:`GATE_REACH_M` of the outline of an ``amenity=school`` / ``kindergarten``
    way or multipolygon; an outline without one, at its point nearest the street areas; school nodes as they
    are. Multipolygon relations are read for these kinds and for separately mapped parking; other relations
    are not.

    Direction: a ``traffic_signal`` or ``stop_sign`` node tagged ``direction=forward|backward`` (a signal
    also ``traffic_signals:direction``, which wins) governs only the traffic going that way along its way
    (relative to the way's digitised direction), so its clearance belongs on the kerb beside that traffic:
    under right-hand ``traffic`` the right-hand kerb for ``forward`` and the left-hand one for ``backward``,
    under left-hand traffic the other way round (:func:`parkplan.osm.tags.governed_side`). Such a node on a
    two-way carriageway way is moved at right angles to the way to half the way's width plus
    :data:`SIGN_SETBACK_M` on that side (just behind that kerb, where the sign's pole stands) and gets
    ``match = "nearest"``; it keeps its ``hazard_id``. It stays on the centreline, matching both kerbs as
    before, where its way is one-way (``oneway`` = one of :data:`parkplan.osm.tags.ONEWAY_VALUES`, or
    implied by ``junction=roundabout`` / ``circular`` or ``highway=motorway``: both kerbs carry that
    traffic), where it is a junction node or lies where two ways meet head to head (the direction is
    ambiguous), and where the direction is untagged or any other value (``both``, a compass bearing).

    Existing mode, per way side (left/right of the digitised direction, whatever ``oneway`` says), the
    side's own key before the ``both`` key. Not allowed, first match wins:
    ``parking:<side>:restriction`` = ``no_parking``/``no_stopping``/``no_standing``;
    ``parking:condition:<side>`` = ``no_parking``/``no_stopping``/``no_standing``; ``parking:<side>`` =
    ``no``/``separate``; ``parking:lane:<side>`` = ``no``/``no_parking``/``no_stopping``/``no_standing``/
    ``fire_lane``/``separate``/``drawn_separately``. Else allowed: ``parking:<side>`` = ``lane``/
    ``street_side``/``on_kerb``/``half_on_kerb``/``shoulder``; ``parking:lane:<side>`` = ``parallel``/
    ``diagonal``/``perpendicular``/``marked`` (and the legacy ``inline``/``orthogonal``). Else (no tag, or
    an unknown value) not allowed. Conditional restrictions (``...:conditional``) are ignored. Each side
    not allowed becomes a ``no_parking`` hazard ``way/<id>/left|right``: the centreline offset to that
    side by half the width less :data:`KERB_INSET_M` (in the UTM zone), shortened by
    :data:`FREE_END_TRIM_M` at a free end of the way, and cut to the street area less
    :data:`CLIP_INSET_M` (a LineString or MultiLineString), which the planner matches to the kerb beside
    it (3 m snap); a side whose line lies wholly outside (or deep inside merged carriageway) is dropped
    or matches no kerb; its ``reason`` column gives the forbidding tag (``"untagged"`` when there
    is none). Each separately mapped street-side parking way or multipolygon is a ``no_parking`` hazard
    ``way/<id>`` / ``relation/<id>`` too (reason ``"separate"``; polygon for a closed way), so the kerb
    beside it gets no bay of its own. The tagged ``parking:<side>:capacity`` caps the planned bays with
    :func:`parkplan.osm.existing.enforce_capacity`.

    Road classes: every way in a road class (:data:`parkplan.rules.loading.ROAD_CLASSES`: ``motorway``,
    ``motorway_link``, ``trunk``, ``trunk_link``, ``motorroad=yes``, the expressway class, a ``trunk`` /
    ``primary`` main carriageway beside a side road of its street) gets a ``road_class`` hazard
    ``way/<id>/road_class`` round its kerbs, in both modes, and the hazards a ``road_class`` column with
    the way's classes (``;``-joined; None on the other rows); the column is there only when such a way is.
    The planner and the checker apply only the classes the rules list in ``[road_classes] no_parking``
    (:func:`parkplan.hazards.applicable_hazards`).
    """
    check_osm_arguments(
        path=path, mode=mode, service=service, default_widths=default_widths, traffic=traffic
    )  # fmt: skip
    p = Path(path)
    label = str(p)
    data = _read(p, service)
    if not data.carriageway:
        raise InputError(
            "no carriageway ways (highway=residential, tertiary, ...); nothing to plan along", source=label
        )
    defaults = {**DEFAULT_WIDTHS_M, **(default_widths or {})}
    found = [way_width(w.tags, defaults) for w in data.carriageway]
    widths = [f.width_m for f in found]
    _note_ignored_widths(data.carriageway, found, label)
    areas = _street_areas(data.carriageway, widths, label)
    parking = _parking_frame(data.parking)
    sides: list[tuple[ParkingSide, ParkingSide]] | None = None
    extra: list[tuple[str, str, object]] | None = None
    if mode == "existing":
        sides = [(parking_side(w.tags, "left"), parking_side(w.tags, "right")) for w in data.carriageway]
        ids, reasons, geoms = _side_lines(data.carriageway, widths, sides, areas)
        extra = list(zip(ids, reasons, geoms, strict=True))
        extra += [(oid, "separate", g) for oid, g in zip(parking["osm_id"], parking.geometry, strict=True)]
    moved = _directional_places(data, widths, areas, traffic)
    hazards = _hazards(data, areas, extra, moved)
    hazards = _with_road_classes(hazards, data.carriageway, widths, areas)
    return OsmData(areas, hazards, _ways_frame(data.carriageway, found, sides), parking)
