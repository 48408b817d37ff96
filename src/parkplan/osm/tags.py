"""OpenStreetMap tags read: what a node's, way's or relation's tags say, without geometry.

Pure functions of a tag mapping (``{"highway": "residential", "width": "7"}``) and the tables they read:
which ways are carriageway and how wide (:func:`way_width`, :func:`parse_width`, :func:`parking_lane_depth`),
which features are hazards of which kind (:func:`node_kind`, :func:`way_kind`, :func:`crossing_kind`,
:func:`obstacle_kind`, :func:`obstacle_width`), the direction a sign governs (:func:`sign_direction`,
:func:`governed_side`), whether the street-parking tags allow parking on a side (:func:`parking_side`), and
a way's road classes (:func:`tag_road_classes`). :mod:`parkplan.osm.streets` turns the ways and nodes they
pick into street areas and hazards.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from parkplan.rules.loading import Traffic

__all__ = [
    "AREA_TAGS",
    "BARRIER",
    "CARRIAGEWAY_HIGHWAYS",
    "DEFAULT_WIDTHS_M",
    "DIRECTION_KEYS",
    "GATE_BARRIERS",
    "LANE_WIDTH_M",
    "MAIN_CARRIAGEWAY_HIGHWAYS",
    "MAX_CARRIAGEWAY_WIDTH_M",
    "MIN_CARRIAGEWAY_WIDTH_M",
    "MIN_LANE_WIDTH_M",
    "NOT_CARRIAGEWAY_SERVICE",
    "OBSTACLE_BARRIERS",
    "OBSTACLE_WIDTHS_M",
    "ONEWAY_VALUES",
    "ON_STREET_POSITIONS",
    "PARKING_LANE_DEPTHS_M",
    "PARKING_POSITION_SHARE",
    "SCHOOL_AMENITIES",
    "SCHOOL_AREA",
    "SIDE_ROAD_SUFFIX",
    "STREET_SIDE_PARKING",
    "TWO_WHEEL_AMENITIES",
    "TWO_WHEEL_MIN_WIDTH_M",
    "TWO_WHEEL_WIDTH_PER_SPACE_M",
    "WIDTH_KEYS",
    "WIDTH_SOURCES",
    "Kind",
    "ParkingSide",
    "WayWidth",
    "crossing_kind",
    "first_tag",
    "governed_side",
    "is_carriageway",
    "is_gate",
    "is_oneway",
    "is_side_road",
    "may_have_road_class",
    "node_kind",
    "obstacle_kind",
    "obstacle_width",
    "parking_lane_depth",
    "parking_side",
    "parse_capacity",
    "parse_lanes",
    "parse_width",
    "sign_direction",
    "street_name",
    "tag_road_classes",
    "way_kind",
    "way_width",
]

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

#: Depth (metres, at right angles to the kerb) a parking lane adds to a way's width from ``lanes``, per
#: orientation: parallel 2.00 m (RASt 06 / EAR 23: a bay in Längsaufstellung at least 2.00 m wide,
#: stvo2go.de/parkstaende-abmessungen), diagonal 4.25 m (RAR oblique bays at 60 gon, regular depth,
#: sicherestrassen.de/VKO/Parken_schaeg.htm), perpendicular 5.00 m (RAR: 4.30 m depth plus 0.70 m
#: overhang, sicherestrassen.de/VKO/Parken_quer.htm): the values of the ``de`` preset's bays. A lane
#: whose orientation is not tagged is taken as parallel.
PARKING_LANE_DEPTHS_M: Mapping[str, float] = {"parallel": 2.0, "diagonal": 4.25, "perpendicular": 5.0}

#: Share of its depth a parking lane takes of the carriageway, by position: the current scheme's
#: ``parking:<side>`` value, or the old scheme's ``parking:lane:<side>:<orientation>`` (default
#: ``on_street``). On the kerb takes none of it, half on the kerb half; in a lay-by or on the shoulder the
#: bays stand beside the travel lanes, where parkplan's street area must hold them too.
PARKING_POSITION_SHARE: Mapping[str, float] = {
    "lane": 1.0,
    "on_street": 1.0,
    "street_side": 1.0,
    "lay_by": 1.0,
    "layby": 1.0,
    "painted_area_only": 1.0,
    "shoulder": 1.0,
    "half_on_kerb": 0.5,
    "on_kerb": 0.0,
}

#: Plausibility of a tagged carriageway width (``width:carriageway``, ``width``, ``est_width``), parkplan
#: choices, not legal values: each travel lane the way's ``lanes`` tag counts needs at least
#: :data:`MIN_LANE_WIDTH_M`, and any carriageway at least :data:`MIN_CARRIAGEWAY_WIDTH_M` (a car is about
#: 1.8 m wide) and at most :data:`MAX_CARRIAGEWAY_WIDTH_M` (one OSM way is one carriageway; wider streets
#: are drawn as several ways). A value outside is ignored (the next source in order decides) and counted.
MIN_LANE_WIDTH_M = 2.5
MIN_CARRIAGEWAY_WIDTH_M = 2.0
MAX_CARRIAGEWAY_WIDTH_M = 60.0

#: Tags giving a way's carriageway width, in the order they are read.
WIDTH_KEYS: tuple[str, ...] = ("width:carriageway", "width", "est_width")

#: Values of the ways' ``width_source`` column (and of the kerbs' after
#: :func:`parkplan.geometry.kerbs.attach_ways`):
#: the width tag that gave the width, ``lanes+parking`` (``lanes`` plus the tagged parking lanes),
#: ``lanes`` (no parking lane adds any width), ``class_default`` (:data:`DEFAULT_WIDTHS_M`).
WIDTH_SOURCES: tuple[str, ...] = (*WIDTH_KEYS, "lanes+parking", "lanes", "class_default")

#: ``parking=*`` values of a separately mapped ``amenity=parking`` that is street-side parking.
STREET_SIDE_PARKING: frozenset[str] = frozenset({"street_side", "lane", "on_kerb", "half_on_kerb", "layby"})

#: ``barrier=*`` values that keep a car from standing where they stand: posts and blocks put there to stop
#: vehicles. Read as ``obstacle`` only where they stand in the carriageway (inside the street area), where
#: a bay would be drawn over them; on the footway, even at the kerb edge, they leave the carriageway beside
#: them free. Not obstacles: ``kerb`` (the kerb itself, or a lowered kerb at a crossing), the linear
#: boundaries of footways and plots (``fence``, ``wall``, ``hedge``, ``retaining_wall``, ``guard_rail``,
#: ``railing``, ``handrail``), and barriers across a way (``gate``, ``lift_gate``, ``swing_gate``,
#: ``sliding_gate``, ``chain``, ``cycle_barrier``, ``turnstile``, ...): they close an access, which the
#: driveway or path they stand on stands for; a gate in a school's fence is read as ``school``.
OBSTACLE_BARRIERS: frozenset[str] = frozenset(
    {"bollard", "block", "planter", "jersey_barrier", "collision_protection", "rock"}
)

#: ``amenity`` values of two-wheeler parking and rental that is an obstacle where its position is on the
#: street (``<amenity>:position``, ``position`` or ``parking`` in :data:`ON_STREET_POSITIONS`): the
#: Berlin street-parking scheme (TILDA) maps bicycle stands in the parking lane so.
TWO_WHEEL_AMENITIES: frozenset[str] = frozenset(
    {"bicycle_parking", "motorcycle_parking", "small_electric_vehicle_parking", "bicycle_rental"}
)

#: Positions of two-wheeler parking that take room in the carriageway or parking lane.
ON_STREET_POSITIONS: frozenset[str] = frozenset({"lane", "street_side", "shoulder", "kerb_extension"})

#: Own extent along the kerb (metres) of an untagged obstacle point, by what it is: twice the buffer
#: radius of the Berlin street-parking processing (TILDA parking obstacles: bollard 0.3 m, street lamp
#: 0.4 m, tree and street cabinet 1.5 m, sign 0.3 m). A ``width`` tag wins. Others get ``"other"``, a
#: parkplan default (a block, a planter).
OBSTACLE_WIDTHS_M: Mapping[str, float] = {
    "bollard": 0.6,
    "street_lamp": 0.8,
    "tree": 3.0,
    "street_cabinet": 3.0,
    "traffic_sign": 0.6,
    "other": 1.0,
}

#: Two-wheeler parking on the street without a ``width`` tag: this many metres of kerb per tagged
#: ``capacity`` (TILDA: capacity / 2 stands x 1.6 m), or :data:`TWO_WHEEL_MIN_WIDTH_M` without capacity.
TWO_WHEEL_WIDTH_PER_SPACE_M = 0.8
TWO_WHEEL_MIN_WIDTH_M = 0.5

#: ``amenity`` values whose gates and entrances are ``school`` hazards.
SCHOOL_AMENITIES: frozenset[str] = frozenset({"school", "kindergarten"})

#: ``barrier`` values of a gate in a school's fence.
GATE_BARRIERS: frozenset[str] = frozenset(
    {"gate", "swing_gate", "sliding_gate", "lift_gate", "entrance", "turnstile", "full-height_turnstile"}
)

#: Kinds of the nodes on a carriageway way that may govern one direction of its traffic only, and the tags
#: giving that direction (``forward``/``backward``, relative to the way's digitised direction), the first
#: tagged one deciding: a ``highway=traffic_signals`` node's ``traffic_signals:direction`` or ``direction``,
#: a ``highway=stop`` / ``give_way`` node's ``direction``.
DIRECTION_KEYS: Mapping[str, tuple[str, ...]] = {
    "traffic_signal": ("traffic_signals:direction", "direction"),
    "stop_sign": ("direction",),
}

#: ``oneway`` values of a one-way way (both kerbs carry its traffic): one-way either way, or by turns.
ONEWAY_VALUES: frozenset[str] = frozenset({"yes", "true", "1", "-1", "reverse", "reversible", "alternating"})

# Current scheme (parking:left|right|both=*), old scheme (parking:lane:left|right|both=*).
_CURRENT_YES = frozenset({"lane", "street_side", "on_kerb", "half_on_kerb", "shoulder"})
_CURRENT_NO = frozenset({"no", "separate"})
_RESTRICTION_NO = frozenset({"no_parking", "no_stopping", "no_standing"})
_OLD_YES = {"parallel": "parallel", "diagonal": "diagonal", "perpendicular": "perpendicular", "marked": None}
_OLD_LEGACY = {"inline": "parallel", "orthogonal": "perpendicular"}
_OLD_NO = frozenset(
    {"no", "no_parking", "no_stopping", "no_standing", "fire_lane", "separate", "drawn_separately"}
)
_CONDITION_NO = frozenset({"no_parking", "no_stopping", "no_standing"})
_ORIENTATIONS = frozenset({"parallel", "diagonal", "perpendicular"})

_NUMBER = r"(\d+(?:[.,]\d+)?|[.,]\d+)"
_WIDTH_RE = re.compile(rf"^\s*{_NUMBER}\s*([a-z]+|'|\")?\s*$", re.IGNORECASE)
_FEET_INCHES_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*'\s*(\d+(?:\.\d+)?)\s*\"\s*$")
#: Metres per unit of a width value (OSM units page: ``m`` default, ``cm``, ``mm``, ``km``, ``ft``, ``in``,
#: ``'`` feet and ``"`` inches).
_WIDTH_UNITS_M: Mapping[str, float] = {
    "": 1.0,
    "m": 1.0,
    "meter": 1.0,
    "meters": 1.0,
    "metre": 1.0,
    "metres": 1.0,
    "cm": 0.01,
    "mm": 0.001,
    "km": 1000.0,
    "ft": 0.3048,
    "feet": 0.3048,
    "foot": 0.3048,
    "'": 0.3048,
    "in": 0.0254,
    "inch": 0.0254,
    "inches": 0.0254,
    '"': 0.0254,
}
_LANES_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")

#: A hazard kind (``"crossing"``, ``"obstacle"``...) or one of the two provisional kinds below.
Kind = str

#: Provisional kinds of collected features, resolved by :mod:`parkplan.osm.streets` with geometry: a barrier
#: becomes an ``obstacle`` where it stands in the carriageway; a school's outline gives its gates (or a
#: point facing the street).
BARRIER = "barrier?"
SCHOOL_AREA = "school_area?"


@dataclass(frozen=True)
class ParkingSide:
    """Street parking on one side of a way as the tags say."""

    allowed: bool
    tag: str | None  # the deciding tag as "key=value"; None when the side is untagged
    reason: str | None  # why parking is not allowed ("parking:right=no", "untagged"); None when allowed
    orientation: str | None
    capacity: float | None


def parse_width(value: str | None) -> float | None:
    """Parse an OSM width value in metres.

    Parameters
    ----------
    value
        Tag value: metres by default (``"7"``, ``"7 m"``, ``"7.5"``, a decimal comma ``"7,5"``), or with a
        unit (``"12 ft"``, ``"12'"``, feet and inches ``10'6"``, ``"250 cm"``).

    Returns
    -------
    float or None
        The width in metres, or None when the value is missing, text (``"narrow"``), in an unknown unit,
        or not positive.
    """
    if value is None:
        return None
    fi = _FEET_INCHES_RE.match(value)
    if fi:
        width = float(fi.group(1)) * 0.3048 + float(fi.group(2)) * 0.0254
    else:
        m = _WIDTH_RE.match(value)
        if not m:
            return None
        factor = _WIDTH_UNITS_M.get((m.group(2) or "").lower())
        if factor is None:
            return None
        width = float(m.group(1).replace(",", ".")) * factor
    return width if width > 0 and math.isfinite(width) else None


def parse_lanes(value: str | None) -> float | None:
    """Parse a ``lanes`` value: a positive number, else None (``"2;3"``, ``"0"``, text)."""
    m = _LANES_RE.match(value) if value is not None else None
    lanes = float(m.group(1)) if m else 0.0
    return lanes if lanes > 0 else None


def parking_lane_depth(tags: Mapping[str, str], side: Literal["left", "right"]) -> float:
    """Depth (metres) the parking lane the tags describe on one side of a way takes of its carriageway.

    Current scheme: ``parking:<side>`` (else ``parking:both``) = ``lane`` / ``street_side`` / ``shoulder``
    (whole depth), ``half_on_kerb`` (half), ``on_kerb`` (none), with the depth of
    ``parking:<side>:orientation`` (else ``parking:both:orientation``; parallel when untagged) from
    :data:`PARKING_LANE_DEPTHS_M`. Old scheme: ``parking:lane:<side>`` (else ``:both``) = ``parallel`` /
    ``diagonal`` / ``perpendicular`` (legacy ``inline`` / ``orthogonal``; ``marked`` as parallel), positioned
    by ``parking:lane:<side>:<orientation>`` (``on_street`` when untagged; ``half_on_kerb``, ``on_kerb``,
    ``lay_by``, ``street_side``, ``painted_area_only``, ``shoulder``). The current scheme wins where both
    are tagged. No parking, ``separate`` and unknown values take nothing.

    Parameters
    ----------
    tags
        The way's tags.
    side
        ``"left"`` or ``"right"`` of the way's digitised direction.

    Returns
    -------
    float
        The depth in metres (0.0 without a parking lane on that side).
    """
    cur = first_tag(tags, (f"parking:{side}", "parking:both"))
    if cur is not None and cur[1] in PARKING_POSITION_SHARE:
        orient = first_tag(tags, (f"parking:{side}:orientation", "parking:both:orientation"))
        depth = PARKING_LANE_DEPTHS_M.get(
            orient[1] if orient else "parallel", PARKING_LANE_DEPTHS_M["parallel"]
        )
        return depth * PARKING_POSITION_SHARE[cur[1]]
    if cur is not None:
        return 0.0
    old = first_tag(tags, (f"parking:lane:{side}", "parking:lane:both"))
    if old is None:
        return 0.0
    orientation = "parallel" if old[1] == "marked" else _OLD_YES.get(old[1]) or _OLD_LEGACY.get(old[1], "")
    if orientation not in PARKING_LANE_DEPTHS_M:
        return 0.0
    key = old[0]
    position = first_tag(tags, (f"{key}:{old[1]}", f"parking:lane:both:{old[1]}"))
    share = PARKING_POSITION_SHARE.get(position[1] if position else "on_street", 1.0)
    return PARKING_LANE_DEPTHS_M[orientation] * share


def is_carriageway(tags: Mapping[str, str], service: bool) -> bool:
    """Tell a carriageway way: :data:`CARRIAGEWAY_HIGHWAYS`, with ``service`` also ``highway=service``.

    Never a service way of :data:`NOT_CARRIAGEWAY_SERVICE` (driveways, parking aisles).
    """
    highway = tags.get("highway")
    if highway in CARRIAGEWAY_HIGHWAYS:
        return True
    return service and highway == "service" and tags.get("service") not in NOT_CARRIAGEWAY_SERVICE


@dataclass(frozen=True)
class WayWidth:
    """A way's carriageway width, where it came from, and the width tags set aside as implausible."""

    width_m: float
    source: str
    ignored: tuple[str, ...] = ()


def way_width(tags: Mapping[str, str], defaults: Mapping[str, float]) -> WayWidth:
    """Carriageway width of a way, where it came from, and the width tags set aside.

    The first plausible of :data:`WIDTH_KEYS`, else ``lanes`` x :data:`LANE_WIDTH_M` plus the parking lanes
    (:func:`parking_lane_depth`), else the class default.
    """
    lanes = parse_lanes(tags.get("lanes"))
    floor_m = max(MIN_CARRIAGEWAY_WIDTH_M, (lanes or 0.0) * MIN_LANE_WIDTH_M)
    ignored: list[str] = []
    for key in WIDTH_KEYS:
        raw = tags.get(key)
        if raw is None:
            continue
        w = parse_width(raw)
        if w is not None and floor_m - 1e-9 <= w <= MAX_CARRIAGEWAY_WIDTH_M:
            return WayWidth(w, key, tuple(ignored))
        ignored.append(f"{key}={raw}")
    if lanes is not None:
        parking = parking_lane_depth(tags, "left") + parking_lane_depth(tags, "right")
        source = "lanes+parking" if parking > 0 else "lanes"
        return WayWidth(lanes * LANE_WIDTH_M + parking, source, tuple(ignored))
    highway = tags.get("highway", "")
    if highway in defaults:
        return WayWidth(float(defaults[highway]), "class_default", tuple(ignored))
    width = float(defaults.get(highway.removesuffix("_link"), defaults.get("residential", 7.0)))
    return WayWidth(width, "class_default", tuple(ignored))


def node_kind(tags: Mapping[str, str]) -> Kind | None:
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
        return crossing_kind(tags)
    if highway == "traffic_signals":
        return "traffic_signal"
    if highway in ("stop", "give_way"):
        return "stop_sign"
    if tags.get("railway") in ("level_crossing", "crossing"):
        return "railway_crossing"
    if tags.get("amenity") == "fire_station":
        return "fire_station"
    if tags.get("amenity") in SCHOOL_AMENITIES:
        return "school"
    return obstacle_kind(tags)


def crossing_kind(tags: Mapping[str, str]) -> str:
    """Kind of a pedestrian crossing from its ``crossing=*`` tags (the Berlin analyses' three types).

    ``crossing_kerb_extension`` where ``crossing:kerb_extension`` is tagged (other than ``no``);
    ``crossing_marked`` for ``crossing=marked|uncontrolled`` that is neither a zebra (``crossing_ref`` /
    ``crossing:markings=zebra``) nor signalised; ``crossing`` otherwise (zebras, signals, unmarked and
    untagged crossings). Rules without an entry for a subtype treat it as a ``crossing`` (kinds.toml
    ``parent``).
    """
    if tags.get("crossing:kerb_extension", "no") != "no":
        return "crossing_kerb_extension"
    zebra = tags.get("crossing_ref") == "zebra" or tags.get("crossing:markings") == "zebra"
    signals = tags.get("crossing") == "traffic_signals" or tags.get("crossing:signals") == "yes"
    if tags.get("crossing") in ("marked", "uncontrolled", "zebra") and not zebra and not signals:
        return "crossing" if tags.get("crossing") == "zebra" else "crossing_marked"
    return "crossing"


def way_kind(tags: Mapping[str, str]) -> Kind | None:
    """Hazard kind of a way or multipolygon, or None."""
    highway = tags.get("highway")
    if highway == "service" and tags.get("service") == "driveway":
        return "driveway"
    if tags.get("footway") == "crossing" or tags.get("cycleway") == "crossing":
        return crossing_kind(tags)
    if tags.get("area:highway") == "prohibited":
        return "no_parking"
    if tags.get("public_transport") == "platform" or tags.get("railway") == "tram_stop":
        return "bus_stop"
    if tags.get("amenity") == "fire_station":
        return "fire_station"
    if tags.get("amenity") in SCHOOL_AMENITIES:
        return SCHOOL_AREA
    return obstacle_kind(tags)


def sign_direction(tags: Mapping[str, str], kind: Kind) -> str | None:
    """Direction (``forward``/``backward`` of its way) a sign or signal node governs, or None.

    None for other kinds, an untagged node, and any other value (``both``, a compass bearing).
    """
    for key in DIRECTION_KEYS.get(kind, ()):
        value = tags.get(key, "").strip().lower()
        if value:
            return value if value in ("forward", "backward") else None
    return None


def is_oneway(tags: Mapping[str, str]) -> bool:
    """Tell a one-way way: tagged :data:`ONEWAY_VALUES`, or implied (roundabouts, motorways)."""
    value = tags.get("oneway", "").strip().lower()
    if value:
        return value in ONEWAY_VALUES
    return tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway"


def governed_side(direction: str, traffic: Traffic = "right") -> Literal["left", "right"]:
    """Return the side of a way (of its digitised direction) whose traffic goes ``direction``.

    Under right-hand traffic, traffic going ``forward`` keeps to the right of the way, so the right-hand
    kerb is beside it; ``backward`` traffic, the left-hand kerb. Left-hand traffic the other way round.
    """
    forward: Literal["left", "right"] = "right" if traffic == "right" else "left"
    if direction == "forward":
        return forward
    return "left" if forward == "right" else "right"


def obstacle_kind(tags: Mapping[str, str]) -> Kind | None:
    """Obstacle kind of a feature, or None.

    ``obstacle`` where the tags put it in the parking lane; :data:`BARRIER` for a barrier that is an
    obstacle only where it stands in the carriageway.
    """
    amenity = tags.get("amenity")
    if amenity in TWO_WHEEL_AMENITIES and any(
        tags.get(key) in ON_STREET_POSITIONS for key in (f"{amenity}:position", "position", "parking")
    ):
        return "obstacle"
    leisure = tags.get("leisure")
    if leisure == "parklet" or (leisure == "outdoor_seating" and tags.get("outdoor_seating") == "parklet"):
        return "obstacle"
    if tags.get("obstacle:parking") == "yes":
        return "obstacle"
    if tags.get("barrier") in OBSTACLE_BARRIERS:
        return BARRIER
    return None


def obstacle_width(tags: Mapping[str, str]) -> float:
    """Own extent along the kerb of an obstacle point: ``width``, else by what it is."""
    tagged = parse_width(tags.get("width"))
    if tagged is not None:
        return tagged
    if tags.get("amenity") in TWO_WHEEL_AMENITIES:
        capacity = parse_capacity(tags.get("capacity"))
        if capacity:
            return capacity * TWO_WHEEL_WIDTH_PER_SPACE_M
        return TWO_WHEEL_MIN_WIDTH_M
    if tags.get("natural") in ("tree", "tree_stump"):
        return OBSTACLE_WIDTHS_M["tree"]
    if tags.get("highway") == "street_lamp":
        return OBSTACLE_WIDTHS_M["street_lamp"]
    if tags.get("man_made") == "street_cabinet":
        return OBSTACLE_WIDTHS_M["street_cabinet"]
    if tags.get("barrier") in ("bollard", "collision_protection"):
        return OBSTACLE_WIDTHS_M["bollard"]
    if "traffic_sign" in tags or tags.get("highway") == "traffic_sign" or "advertising" in tags:
        return OBSTACLE_WIDTHS_M["traffic_sign"]
    return OBSTACLE_WIDTHS_M["other"]


def is_gate(tags: Mapping[str, str]) -> bool:
    """Tell a gate or entrance node (a school's gate when it lies on the school's outline)."""
    return tags.get("barrier") in GATE_BARRIERS or tags.get("entrance", "no") != "no"


#: Tags of the multipolygon relations worth assembling (pyosmium's area handler, first pass).
AREA_TAGS: tuple[tuple[str, str], ...] = (
    ("area:highway", "prohibited"),
    ("amenity", "parking"),
    ("amenity", "fire_station"),
    *(("amenity", a) for a in sorted(SCHOOL_AMENITIES | TWO_WHEEL_AMENITIES)),
    ("obstacle:parking", "yes"),
    ("leisure", "parklet"),
    ("leisure", "outdoor_seating"),
    *(("barrier", b) for b in sorted(OBSTACLE_BARRIERS)),
)


def parse_capacity(value: str | None) -> float | None:
    """Parse a ``capacity`` value: a number not below zero, else None (missing, text, negative, NaN)."""
    if value is None:
        return None
    try:
        n = float(value.strip())
    except ValueError:
        return None
    return n if n >= 0 and math.isfinite(n) else None


def first_tag(tags: Mapping[str, str], keys: tuple[str, ...]) -> tuple[str, str] | None:
    """Return the first of ``keys`` that is tagged, as ``(key, value)``."""
    for key in keys:
        if key in tags:
            return key, tags[key].strip()
    return None


def parking_side(tags: Mapping[str, str], side: Literal["left", "right"]) -> ParkingSide:
    """Whether the street-parking tags of a way allow parking on one side (relative to its direction).

    Both tag schemes are read, the side's own key before the ``both`` key in each. Any tag that forbids
    parking wins (restrictions and conditions first, then the parking values); else a value that allows
    it; else parking is not allowed (untagged, or only unknown values).
    """
    cur = first_tag(tags, (f"parking:{side}", "parking:both"))
    restriction = first_tag(tags, (f"parking:{side}:restriction", "parking:both:restriction"))
    old = first_tag(tags, (f"parking:lane:{side}", "parking:lane:both"))
    condition = first_tag(tags, (f"parking:condition:{side}", "parking:condition:both"))
    orientation_tag = first_tag(tags, (f"parking:{side}:orientation", "parking:both:orientation"))
    capacity_tag = first_tag(
        tags,
        (
            f"parking:{side}:capacity",
            "parking:both:capacity",
            f"parking:lane:{side}:capacity",
            "parking:lane:both:capacity",
        ),
    )
    orientation = orientation_tag[1] if orientation_tag and orientation_tag[1] in _ORIENTATIONS else None
    if orientation is None and old is not None:
        orientation = _OLD_YES.get(old[1]) or _OLD_LEGACY.get(old[1])
    capacity = parse_capacity(capacity_tag[1]) if capacity_tag else None

    def result(allowed: bool, tag: tuple[str, str] | None, reason: str | None) -> ParkingSide:
        text = f"{tag[0]}={tag[1]}" if tag else None
        return ParkingSide(allowed, text, reason, orientation, capacity)

    forbids = (
        (restriction, _RESTRICTION_NO),
        (condition, _CONDITION_NO),
        (cur, _CURRENT_NO),
        (old, _OLD_NO),
    )
    for tag, no in forbids:
        if tag is not None and tag[1] in no:
            return result(False, tag, f"{tag[0]}={tag[1]}")
    if cur is not None and cur[1] in _CURRENT_YES:
        return result(True, cur, None)
    if old is not None and (old[1] in _OLD_YES or old[1] in _OLD_LEGACY):
        return result(True, old, None)
    unknown = cur or old
    if unknown is not None:
        return result(False, unknown, f"{unknown[0]}={unknown[1]} (unknown value)")
    return result(False, None, "untagged")


#: Name ending of a Chinese side road (辅路): a way so named is a side road of the street named without it.
SIDE_ROAD_SUFFIX = "辅路"

#: ``highway`` classes whose ways beside a side road of their street are its main carriageway (主道) under
#: GA/T 850's 主干路 / 快速路: Chinese mapping tags 主干路 (arterials) ``primary`` and urban 快速路 without
#: ``motorroad``/``expressway`` tags ``trunk``; ``secondary`` is 次干路, which the standard does not name.
MAIN_CARRIAGEWAY_HIGHWAYS: frozenset[str] = frozenset({"trunk", "primary"})

_YES_VALUES = frozenset({"yes", "true", "1"})

#: ``highway`` values that are road classes of their own (:data:`parkplan.rules.loading.ROAD_CLASSES`).
_HIGHWAY_CLASSES = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})


def is_side_road(tags: Mapping[str, str]) -> bool:
    """Tell a side road: ``side_road`` tagged (any value but ``no``) or a name ending in 辅路."""
    value = tags.get("side_road", "").strip().lower()
    return (value != "" and value != "no") or tags.get("name", "").strip().endswith(SIDE_ROAD_SUFFIX)


def street_name(tags: Mapping[str, str]) -> str | None:
    """Name of the street a way belongs to: its ``name`` without a trailing 辅路; None when unnamed."""
    name = tags.get("name", "").strip().removesuffix(SIDE_ROAD_SUFFIX).strip()
    return name or None


def may_have_road_class(tags: Mapping[str, str]) -> bool:
    """Tell a way that may have a road class, or be the side road that makes another a main carriageway."""
    return (
        tags.get("highway") in _HIGHWAY_CLASSES
        or "motorroad" in tags
        or "expressway" in tags
        or is_side_road(tags)
    )


def tag_road_classes(tags: Mapping[str, str]) -> frozenset[str]:
    """Find the road classes (:data:`parkplan.rules.loading.ROAD_CLASSES`) a way's own tags give.

    ``motorway``, ``motorway_link``, ``trunk``, ``trunk_link``: the ``highway`` value; ``motorroad``:
    ``motorroad=yes``; ``expressway``: ``highway=motorway``, ``motorroad=yes`` or ``expressway=yes``. The
    one class the tags alone cannot give, ``main_carriageway``, takes the ways beside it
    (:mod:`parkplan.osm.streets`).
    """
    highway = tags.get("highway", "")
    classes = {highway} & _HIGHWAY_CLASSES
    motorroad = tags.get("motorroad", "").strip().lower() in _YES_VALUES
    if motorroad:
        classes.add("motorroad")
    if highway == "motorway" or motorroad or tags.get("expressway", "").strip().lower() in _YES_VALUES:
        classes.add("expressway")
    return frozenset(classes)
