"""Colours of the review outputs: one per zone kind (reason a metre of kerb has no bay) and per bay type.

The HTML map (:mod:`parkplan.review.html`) and the PNG overview (:mod:`parkplan.review.png`) take their
colours from here, so the two tell a reason by the same colour. The palette is Okabe-Ito based (readable
with the common colour-vision deficiencies) for the frequent kinds; no zone kind is blue, the colour of
the common bays (crossings are teal); kinds not listed get a colour from
:data:`OTHER_COLOURS` by a stable hash of their name.
"""

from __future__ import annotations

import zlib

__all__ = [
    "BAY_COLOURS",
    "KERB_COLOURS",
    "OTHER_COLOURS",
    "VIOLATION_COLOUR",
    "ZONE_COLOURS",
    "bay_colour",
    "zone_colour",
]

ZONE_COLOURS: dict[str, str] = {
    "intersection": "#d55e00",
    "driveway": "#e69f00",
    "crossing": "#35978f",
    "crossing_marked": "#01665e",
    "crossing_kerb_extension": "#80cdc1",
    "hydrant": "#cc79a7",
    "bus_stop": "#009e73",
    "traffic_signal": "#f0e442",
    "stop_sign": "#b8860b",
    "road_class": "#7f3c8d",
    "no_parking": "#a50026",
    "railway_crossing": "#4d4d4d",
    "fire_station": "#e41a1c",
    "utility_shaft": "#8c6d31",
    "obstacle": "#636363",
    "school": "#fdae61",
    "cross_section": "#9e0142",
    "narrow": "#5e4fa2",
    "room": "#5e4fa2",
    "bend": "#bf812d",
    "grouping": "#abdda4",
    "outside": "#bdbdbd",
}
"""Colour of each zone kind (``kind`` of the zones layer)."""

OTHER_COLOURS: tuple[str, ...] = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
"""Colours of kinds not in :data:`ZONE_COLOURS` and of bay types, picked by a stable hash of the name."""

BAY_COLOURS: dict[str, str] = {
    "bay": "#2b83ba",
    "standard": "#2b83ba",
    "car": "#2b83ba",
    "small": "#2b83ba",
    "meter": "#2b83ba",
    "parallel": "#2b83ba",
    "accessible": "#1a9641",
    "motorcycle": "#fdae61",
    "angled": "#7b3294",
    "perpendicular": "#c2a5cf",
}
"""Colour of the common bay types (``bay_type`` of the bays layer)."""

KERB_COLOURS: tuple[str, str, str] = ("#d7191c", "#ffffbf", "#1a9641")
"""Kerb colour ramp by the share of its length in bays: none, half, all."""

VIOLATION_COLOUR = "#ff00ff"
"""Colour of a ``parkplan check`` violation."""


def _hashed(name: str) -> str:
    return OTHER_COLOURS[zlib.crc32(name.encode("utf-8")) % len(OTHER_COLOURS)]


def zone_colour(kind: str) -> str:
    """Return the colour of zone kind ``kind`` (a stable one for kinds not listed)."""
    return ZONE_COLOURS.get(kind, _hashed(kind))


def bay_colour(bay_type: str) -> str:
    """Return the colour of bay type ``bay_type`` (a stable one for types not listed)."""
    return BAY_COLOURS.get(bay_type, _hashed(bay_type))
