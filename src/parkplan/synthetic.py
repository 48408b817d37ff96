"""A reproducible synthetic Chinese city for benchmarks: kerb lines and hazards on a grid of streets.

:func:`make_city` builds a city whose plan under the given rules holds about ``target_bays`` bays, in
a real projected CRS (``EPSG:32650``, UTM zone 50N) centred on Beijing (Tiananmen, about 448.5 km E,
4417.8 km N), ready for :func:`parkplan.plan`::

    kerbs, hazards = make_city(20_000, seed=0)
    plan = parkplan.plan(kerbs, hazards, rules="cn")

The street network
------------------
A grid of **major streets** (arterials 主干路 and collectors 次干路, alternating, 420-650 m apart) runs
the length and breadth of the city; each cell between them is cut by **local streets** (支路) 180-280 m
apart, laid out per cell, so that local streets of neighbouring cells are staggered and meet the major
streets at T-junctions, while crossing each other inside the cell. Some cells (15 % per direction) have
no local streets in one direction: a walled compound (大院) or a campus. Major streets run 100 m past
the outermost crossing street, where the data ends.

=========  ====================  =======  =============  =================================
class      carriageway (m)       one-way  corner radius  hazards beside the kerb
=========  ====================  =======  =============  =================================
arterial   30-60                 never    20 m           driveways every ~150 m, bus stops
collector  16-30                 never    15 m           driveways every ~80 m, bus stops
local      9-16, one-way 8-11    30 %     10 m           driveways every ~35 m
=========  ====================  =======  =============  =================================

The corner radius of a junction is the mean of its two streets' (each junction varies it by up to
15 %).

The kerbs
---------
One LineString per block face per side of each street, straight, digitised along the street's
centreline (two-way streets west to east and south to north; one-way streets in their direction of
traffic, as OpenStreetMap draws them). A block face ends where the crossing street's kerb begins: set
back from the crossing centreline by half the crossing carriageway plus the corner radius (the corner
arc itself is not drawn as kerb). Columns, as :func:`parkplan.io.read.read_kerbs` reads them:

* ``curb_id``: ``<street_id>/<side>/<n>``, ``n`` counting the street's block faces on that side from
  its west (south) end;
* ``street_id``: the street (``arterial-3``, ``collector-2``, ``local-812``); a major street is one
  street from end to end, a local street one cell long;
* ``road_class``: ``arterial``, ``collector`` or ``local`` (not read by parkplan);
* ``width_m``: the street's carriageway width; ``oneway``: a boolean;
* ``side``: ``left`` / ``right``, the side of the centreline the kerb lies on, looking along it (the
  kerb is digitised the same way, so ``side`` is also its side in parkplan's sense);
* ``flow``: ``forward`` / ``backward``, traffic beside the kerb along its digitised direction or
  against it: on a one-way street ``forward`` on both sides; on a two-way street under right-hand
  traffic (the rules' ``traffic``) ``forward`` on the right kerb and ``backward`` on the left one.

The hazards
-----------
Columns ``hazard_id``, ``kind``, ``width_m`` (NaN where the kind's default applies) and geometry:

* ``intersection``: with ``junctions="corners"`` (the default) a point in the middle of every corner
  arc (between the two kerb ends it joins) and, at a T-junction, a point 0.5 m behind the through
  street's far kerb opposite the joining street. With ``junctions="centre"`` one point where the
  centrelines cross, as an OpenStreetMap junction node; these lie farther than the built-in 20 m
  ``snap_m`` from the kerbs of wide junctions, which then get no intersection clearance (the summary
  counts them as unmatched).
* ``crossing``: zebra crossings, lines across the street from footway to footway, 1-3 m beyond every
  kerb corner of junctions with a major street (of 25 % of local junctions), 4-6 m wide; and in the
  middle of half the major-street block faces longer than 300 m.
* ``driveway``: entrances 3.5-7.5 m wide, as many as a Poisson draw gives for the class's spacing; 70 %
  as points 1 m behind the kerb, 30 % as lines from 8 m behind the kerb to 0.5 m into the carriageway.
* ``hydrant``: on one side of every street (GB 50974-2014 7.2.5: municipal hydrants at most 120 m
  apart, on one side of roads up to 60 m wide), the first 5-30 m from the start of each block face,
  then every 100-120 m, 0.6 m behind the kerb.
* ``bus_stop``: on arterials and collectors, a stop about every 450-500 m on each side, drawn as a line
  20-40 m long 0.5 m behind the kerb.
* ``utility_shaft``: manhole covers about every 150 m, 1 m into the carriageway.

How many bays
-------------
The city is a square whose side is chosen from ``target_bays`` by a fitted model, ``bays = a * A + b *
P`` (``A`` the area in km², ``P`` the perimeter in km: the outermost kerbs see fewer junctions). The
constants of :data:`CALIBRATION` were fitted for ``cn`` by ``benchmarks/bench_synthetic.py --calibrate
cn`` (24 cities, sides 1.5-16 km, seeds 0-3); for any other rule set :func:`make_city` plans a 3 km
reference city with those rules and with ``cn`` and scales the ``cn`` constants by the ratio (once per
process). Planned with ``cn`` on seeds 0-4 the bay count lands within -4.0 % .. +0.2 % of a 20,000
target, within 2 % from 100,000 bays up, and within 10 % of a 2,000 target, where one block more or
less matters (``docs/benchmarks.md``).

Everything is vectorised (numpy, shapely 2): 1.3 million bays' worth of city (about 100,000 kerbs and
400,000 hazards) takes a few seconds. The same arguments give the same frames, row for row.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from parkplan.arguments import check_choice, check_positive
from parkplan.rules.loading import Rules, Traffic, list_presets, load_rules

__all__ = [
    "CENTRE",
    "CRS",
    "ROAD_CLASSES",
    "RoadClass",
    "city_side_m",
    "grid_city",
    "make_city",
]

CRS = "EPSG:32650"
"""Working CRS of the synthetic city: WGS 84 / UTM zone 50N (Beijing, Tianjin, Shijiazhuang, ...)."""

CENTRE = (448_500.0, 4_417_800.0)
"""Centre of the city in ``CRS``: Tiananmen, Beijing (116.3975 E, 39.9087 N)."""

#: Where a synthetic city's junctions are drawn (the ``junctions`` of :func:`grid_city` / :func:`make_city`).
Junctions = Literal["corners", "centre"]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class RoadClass:
    """One class of street in the synthetic city.

    Parameters
    ----------
    name
        ``"arterial"``, ``"collector"`` or ``"local"``.
    width_m
        Range of carriageway widths of two-way streets (metres), drawn uniformly per street.
    oneway_width_m
        Range of carriageway widths of one-way streets (metres).
    oneway_share
        Share of the class's streets that are one-way.
    corner_radius_m
        Kerb radius at the corners of its junctions (a junction takes the mean of its two streets').
    driveway_spacing_m
        Mean distance between driveways along each kerb.
    bus_stop_spacing_m
        Mean distance between bus stops along each kerb; ``None``: no bus stops.
    signalised
        Junctions with a street of this class have zebra crossings on every arm.
    """

    name: str
    width_m: tuple[float, float]
    oneway_width_m: tuple[float, float]
    oneway_share: float
    corner_radius_m: float
    driveway_spacing_m: float
    bus_stop_spacing_m: float | None
    signalised: bool


ROAD_CLASSES = (
    RoadClass("arterial", (30.0, 60.0), (30.0, 60.0), 0.0, 20.0, 150.0, 450.0, True),
    RoadClass("collector", (16.0, 30.0), (16.0, 30.0), 0.0, 15.0, 80.0, 500.0, True),
    RoadClass("local", (9.0, 16.0), (8.0, 11.0), 0.3, 10.0, 35.0, None, False),
)
"""Street classes, indexed by the class code used inside the generator (0, 1, 2)."""

MAJOR_SPACING_M = (420.0, 650.0)
"""Distance between neighbouring major streets (arterials and collectors alternate)."""
LOCAL_SPACING_M = (180.0, 280.0)
"""Distance between neighbouring local streets inside a cell of the major grid."""
COMPOUND_SHARE = 0.15
"""Share of cells without local streets in one direction (walled compounds, campuses)."""
MARGIN_M = 100.0
"""How far major streets run past the outermost crossing street (the data ends there)."""
MIN_KERB_M = 1.0
"""Block faces shorter than this are left out."""
HYDRANT_SPACING_M = (100.0, 120.0)
"""GB 50974-2014 7.2.5: municipal hydrants at most 120 m apart."""
SHAFT_SPACING_M = 150.0
"""Mean distance between manhole covers along a kerb."""

CALIBRATION: dict[str, tuple[float, float]] = {
    "cn": (485.87, 54.22),
}
"""Fitted ``(a, b)`` per preset: planned bays = ``a`` per km² of city plus ``b`` per km of its perimeter.

Fitted by ``python benchmarks/bench_synthetic.py --calibrate cn`` (least squares over the cities it
plans); presets not listed are scaled from ``cn`` by a reference plan.
"""

REFERENCE_SIDE_M = 3000.0
"""Side of the reference city planned to scale the ``cn`` constants for rules without their own."""

_MEASURED: dict[str, float] = {}
"""Bays of the reference city under a rule set without constants, relative to ``cn`` (per process)."""


# ------------------------------------------------------------------------------------------ helpers


def _spread(
    rng: np.random.Generator, lo: FloatArray, length: FloatArray, count: IntArray, jitter: float
) -> tuple[IntArray, FloatArray]:
    """Place ``count[g]`` items evenly inside ``[lo[g], lo[g] + length[g]]`` for every group ``g``.

    Item ``k`` of ``n`` sits at ``(k + 1) / (n + 1)`` of its group, moved by up to ``jitter`` of the
    spacing either way. Returns each item's group and position.
    """
    group = np.repeat(np.arange(len(count), dtype=np.int64), count)
    k = np.arange(len(group), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    n = count[group].astype(float)
    spacing = length[group] / (n + 1.0)
    pos = lo[group] + (k + 1.0) * spacing + rng.uniform(-jitter, jitter, len(group)) * spacing
    return group, pos


def _along(
    rng: np.random.Generator, length: FloatArray, spacing: FloatArray, end_m: float
) -> tuple[IntArray, FloatArray]:
    """Poisson-many places per kerb at uniform chainages, at least ``end_m`` from either end.

    ``spacing`` is the mean distance between places (``inf``: none). Returns kerb and chainage.
    """
    lam = np.where(np.isfinite(spacing), length / np.where(np.isfinite(spacing), spacing, 1.0), 0.0)
    count = rng.poisson(lam).astype(np.int64)
    kerb = np.repeat(np.arange(len(length), dtype=np.int64), count)
    room = np.maximum(length[kerb] - 2.0 * end_m, 0.0)
    s = np.minimum(end_m, length[kerb] / 2.0) + rng.random(len(kerb)) * room
    return kerb, s


@dataclass
class _Streets:
    """Street table.

    Orientation (0 runs west-east, 1 south-north), centreline position across it, span along it, class
    code, carriageway width, one-way flag, digitised direction (+1 / -1) and ``street_id``.
    """

    orient: IntArray
    across: FloatArray
    lo: FloatArray
    hi: FloatArray
    cls: IntArray
    width: FloatArray
    oneway: BoolArray
    direction: FloatArray
    ident: NDArray[np.object_]


@dataclass
class _Junctions:
    """Junction table.

    The west-east and south-north street, the crossing point, which of the four arms (north, south,
    east, west) exist, and the corner radius.
    """

    ew: IntArray
    ns: IntArray
    x: FloatArray
    y: FloatArray
    arm_n: BoolArray
    arm_s: BoolArray
    arm_e: BoolArray
    arm_w: BoolArray
    radius: FloatArray


@dataclass
class _Kerbs:
    """Kerb table in street coordinates.

    Street, side of it (+1 north / east, -1 south / west), and the span along the street's axis
    (``lo`` < ``hi``).
    """

    street: IntArray
    side: IntArray
    lo: FloatArray
    hi: FloatArray


# ------------------------------------------------------------------------------------------- layout


def _streets(
    rng: np.random.Generator, width_m: float, height_m: float
) -> tuple[_Streets, _Junctions, FloatArray, FloatArray]:
    """Lay out the major grid, the local streets of every cell, and all junctions between them."""
    x0 = CENTRE[0] - width_m / 2.0
    y0 = CENTRE[1] - height_m / 2.0

    def major_lines(extent: float) -> FloatArray:
        n = max(1, round(extent / float(np.mean(MAJOR_SPACING_M))))
        gaps = rng.uniform(*MAJOR_SPACING_M, n)
        gaps *= extent / gaps.sum()
        return np.concatenate([[0.0], np.cumsum(gaps)])

    xs = x0 + major_lines(width_m)
    ys = y0 + major_lines(height_m)
    ncx, ncy = len(xs) - 1, len(ys) - 1
    n_cells = ncx * ncy
    cell_i = np.tile(np.arange(ncx, dtype=np.int64), ncy)
    cell_j = np.repeat(np.arange(ncy, dtype=np.int64), ncx)
    cell_w = (xs[1:] - xs[:-1])[cell_i]
    cell_h = (ys[1:] - ys[:-1])[cell_j]

    # Local streets per cell: west-east ones (at a y) and south-north ones (at an x).
    n_ew = np.maximum(np.rint(cell_h / rng.uniform(*LOCAL_SPACING_M, n_cells)) - 1, 0).astype(np.int64)
    n_ns = np.maximum(np.rint(cell_w / rng.uniform(*LOCAL_SPACING_M, n_cells)) - 1, 0).astype(np.int64)
    n_ew[rng.random(n_cells) < COMPOUND_SHARE] = 0
    n_ns[rng.random(n_cells) < COMPOUND_SHARE] = 0
    ew_cell, ew_y = _spread(rng, ys[cell_j], cell_h, n_ew, 0.1)
    ns_cell, ns_x = _spread(rng, xs[cell_i], cell_w, n_ns, 0.1)

    # Street table: major west-east, major south-north, local west-east, local south-north.
    n_mew, n_mns, n_lew, n_lns = len(ys), len(xs), len(ew_cell), len(ns_cell)
    orient = np.concatenate([np.zeros(n_mew), np.ones(n_mns), np.zeros(n_lew), np.ones(n_lns)]).astype(
        np.int64
    )
    across = np.concatenate([ys, xs, ew_y, ns_x])
    lo = np.concatenate(
        [
            np.full(n_mew, xs[0] - MARGIN_M),
            np.full(n_mns, ys[0] - MARGIN_M),
            xs[cell_i[ew_cell]],
            ys[cell_j[ns_cell]],
        ]
    )
    hi = np.concatenate(
        [
            np.full(n_mew, xs[-1] + MARGIN_M),
            np.full(n_mns, ys[-1] + MARGIN_M),
            xs[cell_i[ew_cell] + 1],
            ys[cell_j[ns_cell] + 1],
        ]
    )
    cls = np.concatenate([np.arange(n_mew) % 2, np.arange(n_mns) % 2, np.full(n_lew + n_lns, 2)]).astype(
        np.int64
    )
    n_streets = len(cls)
    share = np.array([c.oneway_share for c in ROAD_CLASSES])[cls]
    oneway = rng.random(n_streets) < share
    two = np.array([c.width_m for c in ROAD_CLASSES])[cls]
    one = np.array([c.oneway_width_m for c in ROAD_CLASSES])[cls]
    bounds = np.where(oneway[:, None], one, two)
    width = np.round(bounds[:, 0] + rng.random(n_streets) * (bounds[:, 1] - bounds[:, 0]), 1)
    direction = np.where(oneway & (rng.random(n_streets) < 0.5), -1.0, 1.0)
    names = np.array([c.name for c in ROAD_CLASSES], dtype=object)[cls]
    ordinal = np.zeros(n_streets, dtype=np.int64)
    for c in range(len(ROAD_CLASSES)):
        mask = cls == c
        ordinal[mask] = np.arange(int(mask.sum()))
    ident = np.array(
        [f"{a}-{b}" for a, b in zip(names.tolist(), ordinal.tolist(), strict=True)], dtype=object
    )
    streets = _Streets(orient, across, lo, hi, cls, width, oneway, direction, ident)

    # Junctions.
    mew = np.arange(n_mew, dtype=np.int64)
    mns = n_mew + np.arange(n_mns, dtype=np.int64)
    lew = n_mew + n_mns + np.arange(n_lew, dtype=np.int64)
    lns = n_mew + n_mns + n_lew + np.arange(n_lns, dtype=np.int64)
    # (a) major x major: every crossing, four arms.
    jj, ii = np.divmod(np.arange(n_mew * n_mns, dtype=np.int64), n_mns)
    parts: list[tuple[IntArray, IntArray, FloatArray, FloatArray, tuple[bool, bool, bool, bool]]] = [
        (mew[jj], mns[ii], xs[ii], ys[jj], (True, True, True, True))
    ]
    # (b) local west-east street meeting the major street at its west end (no west arm) and east end.
    ci = cell_i[ew_cell]
    parts.append((lew, mns[ci], xs[ci], ew_y, (True, True, True, False)))
    parts.append((lew, mns[ci + 1], xs[ci + 1], ew_y, (True, True, False, True)))
    # (c) local south-north street meeting the major street at its south end (no south arm) and north end.
    cj = cell_j[ns_cell]
    parts.append((mew[cj], lns, ns_x, ys[cj], (True, False, True, True)))
    parts.append((mew[cj + 1], lns, ns_x, ys[cj + 1], (False, True, True, True)))
    # (d) local x local inside a cell: every west-east local street with every south-north one.
    ns_start = np.cumsum(n_ns) - n_ns
    reps = n_ns[ew_cell]
    pair_ew = np.repeat(np.arange(n_lew, dtype=np.int64), reps)
    pair_ns = np.repeat(ns_start[ew_cell], reps) + (
        np.arange(len(pair_ew), dtype=np.int64) - np.repeat(np.cumsum(reps) - reps, reps)
    )
    parts.append((lew[pair_ew], lns[pair_ns], ns_x[pair_ns], ew_y[pair_ew], (True, True, True, True)))

    ew = np.concatenate([p[0] for p in parts])
    ns = np.concatenate([p[1] for p in parts])
    arms = [np.concatenate([np.full(len(p[0]), p[4][a]) for p in parts]) for a in range(4)]
    r_class = np.array([c.corner_radius_m for c in ROAD_CLASSES])
    radius = (r_class[cls[ew]] + r_class[cls[ns]]) / 2.0 * rng.uniform(0.85, 1.15, len(ew))
    junctions = _Junctions(
        ew,
        ns,
        np.concatenate([p[2] for p in parts]),
        np.concatenate([p[3] for p in parts]),
        arms[0],
        arms[1],
        arms[2],
        arms[3],
        np.round(radius, 1),
    )
    return streets, junctions, xs, ys


def _kerbs(streets: _Streets, junctions: _Junctions) -> tuple[_Kerbs, IntArray, IntArray, IntArray]:
    """Cut every side of every street into block faces at the junctions on that side.

    A junction interrupts the north (south) side of its west-east street when it has a north (south)
    arm, and the east (west) side of its south-north street when it has an east (west) arm; the kerb
    stops half the crossing carriageway plus the corner radius short of the crossing centreline. Major
    streets also end where the data ends. Returns the kerbs, and for every junction-made event on a
    west-east street its junction, side and event index (for the corner hazards).
    """
    half = streets.width / 2.0
    j = junctions
    n_j = len(j.ew)
    ev_street = np.concatenate([j.ew, j.ew, j.ns, j.ns])
    ev_side = np.concatenate([np.ones(n_j), -np.ones(n_j), np.ones(n_j), -np.ones(n_j)]).astype(np.int64)
    ev_pos = np.concatenate([j.x, j.x, j.y, j.y])
    ev_set = np.concatenate(
        [half[j.ns] + j.radius, half[j.ns] + j.radius, half[j.ew] + j.radius, half[j.ew] + j.radius]
    )
    ev_junction = np.tile(np.arange(n_j, dtype=np.int64), 4)
    ev_on = np.concatenate([j.arm_n, j.arm_s, j.arm_e, j.arm_w])
    # Open ends of major streets (where the data ends), both sides.
    major = np.flatnonzero(streets.cls < 2)
    ends_street = np.tile(major, 4)
    ends_side = np.repeat(np.array([1, -1, 1, -1], dtype=np.int64), len(major))
    ends_pos = np.concatenate([streets.lo[major], streets.lo[major], streets.hi[major], streets.hi[major]])
    street = np.concatenate([ev_street[ev_on], ends_street])
    side = np.concatenate([ev_side[ev_on], ends_side])
    pos = np.concatenate([ev_pos[ev_on], ends_pos])
    setback = np.concatenate([ev_set[ev_on], np.zeros(len(ends_street))])
    order = np.lexsort((pos, side, street))
    street, side, pos, setback = street[order], side[order], pos[order], setback[order]
    same = (street[1:] == street[:-1]) & (side[1:] == side[:-1])
    lo = (pos + setback)[:-1][same]
    hi = (pos - setback)[1:][same]
    keep = hi - lo >= MIN_KERB_M
    kerbs = _Kerbs(street[:-1][same][keep], side[:-1][same][keep], lo[keep], hi[keep])
    on_ew = ev_on[: 2 * n_j]
    return (
        kerbs,
        ev_junction[: 2 * n_j][on_ew],
        ev_side[: 2 * n_j][on_ew],
        np.flatnonzero(on_ew).astype(np.int64),
    )


# ----------------------------------------------------------------------------------------- geometry


def _xy(streets: _Streets, street: IntArray, side: IntArray, t: FloatArray, offset: FloatArray) -> FloatArray:
    """Return world coordinates of places along kerbs.

    A place is given by its street, side, position ``t`` along the street's axis and ``offset`` from
    the kerb line (positive: behind the kerb, away from the carriageway).
    """
    lateral = streets.across[street] + side * (streets.width[street] / 2.0 + offset)
    ew = streets.orient[street] == 0
    return np.column_stack([np.where(ew, t, lateral), np.where(ew, lateral, t)])


def _lines(a: FloatArray, b: FloatArray) -> NDArray[np.object_]:
    """Two-point LineStrings from ``a`` to ``b`` (``(n, 2)`` each)."""
    if len(a) == 0:
        return np.zeros(0, dtype=object)
    return np.asarray(shapely.linestrings(np.stack([a, b], axis=1)), dtype=object)


def _points(xy: FloatArray) -> NDArray[np.object_]:
    if len(xy) == 0:
        return np.zeros(0, dtype=object)
    return np.asarray(shapely.points(xy), dtype=object)


@dataclass
class _Hazards:
    kind: list[str]
    width: list[FloatArray]
    geometry: list[NDArray[np.object_]]

    def add(self, kind: str, geometry: NDArray[np.object_], width: FloatArray | None = None) -> None:
        self.kind.append(kind)
        self.geometry.append(geometry)
        self.width.append(np.full(len(geometry), np.nan) if width is None else np.round(width, 1))


def _junction_hazards(
    rng: np.random.Generator,
    streets: _Streets,
    junctions: _Junctions,
    ev_junction: IntArray,
    ev_side: IntArray,
    mode: Junctions,
    out: _Hazards,
) -> None:
    """Intersection points and the zebra crossings on the arms of junctions."""
    j = junctions
    hw_ew = streets.width[j.ew] / 2.0
    hw_ns = streets.width[j.ns] / 2.0
    if mode == "centre":
        out.add("intersection", _points(np.column_stack([j.x, j.y])))
    else:
        # Every corner lies between an arm of the west-east street and one of the south-north street,
        # so each one appears once among the events on west-east streets (qx = west / east of the
        # crossing, qy = the event's side).
        pts = []
        for qx, arm in ((-1.0, j.arm_w), (1.0, j.arm_e)):
            sel = arm[ev_junction]
            k, qy = ev_junction[sel], ev_side[sel].astype(float)
            r = j.radius[k]
            cx = j.x[k] + qx * (hw_ns[k] + r)
            cy = j.y[k] + qy * (hw_ew[k] + r)
            pts.append(np.column_stack([cx - qx * r / math.sqrt(2.0), cy - qy * r / math.sqrt(2.0)]))
        # T-junctions: the through street's far kerb, opposite the joining street.
        for arm, dx, dy in (
            (j.arm_n, 0.0, 1.0),
            (j.arm_s, 0.0, -1.0),
            (j.arm_e, 1.0, 0.0),
            (j.arm_w, -1.0, 0.0),
        ):
            k = np.flatnonzero(~arm)
            reach = np.where(dx != 0.0, hw_ns[k], hw_ew[k]) + 0.5
            pts.append(np.column_stack([j.x[k] + dx * reach, j.y[k] + dy * reach]))
        out.add("intersection", _points(np.concatenate(pts)))

    # Zebra crossings on every arm of junctions with a major street, and of a quarter of the others.
    signalised = np.array([c.signalised for c in ROAD_CLASSES])
    zebra = signalised[streets.cls[j.ew]] | signalised[streets.cls[j.ns]] | (rng.random(len(j.ew)) < 0.25)
    for arm, ax, ay in (
        (j.arm_n, 0.0, 1.0),
        (j.arm_s, 0.0, -1.0),
        (j.arm_e, 1.0, 0.0),
        (j.arm_w, -1.0, 0.0),
    ):
        k = np.flatnonzero(arm & zebra)
        w = rng.uniform(4.0, 6.0, len(k))
        back = rng.uniform(1.0, 3.0, len(k)) + w / 2.0 + j.radius[k]
        if ax != 0.0:  # across the west-east street, east or west of the crossing street
            cx = j.x[k] + ax * (hw_ns[k] + back)
            a = np.column_stack([cx, j.y[k] - hw_ew[k] - 1.0])
            b = np.column_stack([cx, j.y[k] + hw_ew[k] + 1.0])
        else:  # across the south-north street
            cy = j.y[k] + ay * (hw_ew[k] + back)
            a = np.column_stack([j.x[k] - hw_ns[k] - 1.0, cy])
            b = np.column_stack([j.x[k] + hw_ns[k] + 1.0, cy])
        out.add("crossing", _lines(a, b), w)


def _kerb_hazards(rng: np.random.Generator, streets: _Streets, kerbs: _Kerbs, out: _Hazards) -> None:
    """Driveways, hydrants, bus stops, manholes and mid-block crossings along the kerbs."""
    st, sd = kerbs.street, kerbs.side
    length = kerbs.hi - kerbs.lo
    cls = streets.cls[st]

    # Driveways: points behind the kerb, or lines across it.
    spacing = np.array([c.driveway_spacing_m for c in ROAD_CLASSES])[cls]
    k, s = _along(rng, length, spacing, 3.0)
    t = kerbs.lo[k] + s
    w = rng.uniform(3.5, 7.5, len(k))
    as_line = rng.random(len(k)) < 0.3
    pk, lk = ~as_line, as_line
    geoms = np.empty(len(k), dtype=object)
    geoms[pk] = _points(_xy(streets, st[k[pk]], sd[k[pk]], t[pk], np.full(int(pk.sum()), 1.0)))
    geoms[lk] = _lines(
        _xy(streets, st[k[lk]], sd[k[lk]], t[lk], np.full(int(lk.sum()), 8.0)),
        _xy(streets, st[k[lk]], sd[k[lk]], t[lk], np.full(int(lk.sum()), -0.5)),
    )
    out.add("driveway", geoms, w)

    # Hydrants: one side of every street, from near the start of each block face every 100-120 m.
    hydrant_side = np.where(rng.random(len(streets.cls)) < 0.5, 1, -1)
    first = rng.uniform(5.0, 30.0, len(length))
    step = rng.uniform(*HYDRANT_SPACING_M, len(length))
    count = np.where(
        (sd == hydrant_side[st]) & (length > first), np.floor((length - first) / step) + 1, 0
    ).astype(np.int64)
    k = np.repeat(np.arange(len(length), dtype=np.int64), count)
    n = np.arange(len(k), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    t = kerbs.lo[k] + first[k] + n * step[k]
    out.add("hydrant", _points(_xy(streets, st[k], sd[k], t, np.full(len(k), 0.6))))

    # Bus stops on major streets: lines 20-40 m long behind the kerb.
    bus = np.array([c.bus_stop_spacing_m or np.inf for c in ROAD_CLASSES])[cls]
    stop = rng.uniform(20.0, 40.0, len(length))
    fits = length > stop + 10.0
    k, s = _along(rng, np.where(fits, length - stop, 0.0), np.where(fits, bus, np.inf), 5.0)
    t = kerbs.lo[k] + s
    behind = np.full(len(k), 0.5)
    out.add(
        "bus_stop",
        _lines(_xy(streets, st[k], sd[k], t, behind), _xy(streets, st[k], sd[k], t + stop[k], behind)),
    )

    # Manhole covers in the carriageway, 1 m from the kerb.
    k, s = _along(rng, length, np.full(len(length), SHAFT_SPACING_M), 2.0)
    out.add("utility_shaft", _points(_xy(streets, st[k], sd[k], kerbs.lo[k] + s, np.full(len(k), -1.0))))

    # Mid-block zebra crossings on half the long block faces of major streets (drawn from the north /
    # east kerb across the street).
    k = np.flatnonzero((cls < 2) & (sd == 1) & (length > 300.0) & (rng.random(len(length)) < 0.5))
    t = (kerbs.lo[k] + kerbs.hi[k]) / 2.0
    far = -(streets.width[st[k]] + 1.0)
    w = rng.uniform(4.0, 6.0, len(k))
    out.add(
        "crossing",
        _lines(_xy(streets, st[k], sd[k], t, np.full(len(k), 1.0)), _xy(streets, st[k], sd[k], t, far)),
        w,
    )


# ------------------------------------------------------------------------------------------- public


def grid_city(
    width_m: float,
    height_m: float,
    seed: int = 0,
    *,
    traffic: Traffic = "right",
    junctions: Junctions = "corners",
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build a synthetic city of a given size (the generator behind :func:`make_city`).

    Parameters
    ----------
    width_m, height_m
        Extent of the major grid, west-east and south-north (metres); major streets run
        ``MARGIN_M`` beyond it.
    seed
        Seed of the random generator: the same arguments give the same frames.
    traffic
        ``"right"`` or ``"left"``: which kerb of a two-way street has traffic along the centreline
        (``flow = "forward"``).
    junctions
        ``"corners"``: intersection points on the corner arcs and opposite T-junctions; ``"centre"``:
        one point per junction where the centrelines cross.

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        ``(kerbs, hazards)`` in ``EPSG:32650``; see the module docstring for their columns.

    Raises
    ------
    parkplan.errors.ArgumentError
        If a size is no positive, finite number of metres, or ``junctions`` / ``traffic`` is none of its
        values (a :class:`ValueError` too, as before).
    """
    for name, value in (("width_m", width_m), ("height_m", height_m)):
        check_positive(value, name, "grid_city", "a positive, finite number of metres")
    check_choice(junctions, "junctions", "grid_city", get_args(Junctions))
    check_choice(traffic, "traffic", "grid_city", get_args(Traffic))
    rng = np.random.default_rng(seed)
    streets, junction_table, _, _ = _streets(rng, float(width_m), float(height_m))
    kerbs, ev_junction, ev_side, _ = _kerbs(streets, junction_table)

    # Kerb lines, digitised along their street's centreline.
    st, sd = kerbs.street, kerbs.side
    zero = np.zeros(len(st))
    a = _xy(streets, st, sd, kerbs.lo, zero)
    b = _xy(streets, st, sd, kerbs.hi, zero)
    reverse = streets.direction[st] < 0
    a, b = np.where(reverse[:, None], b, a), np.where(reverse[:, None], a, b)
    # Left of the centreline, looking along it: north of an eastbound / west of a northbound street.
    along = streets.direction[st] * sd
    left = np.where(streets.orient[st] == 0, along > 0, along < 0)
    oneway = streets.oneway[st]
    keeps_right = traffic == "right"
    forward = oneway | np.where(left, not keeps_right, keeps_right)
    side_name = np.where(left, "left", "right").astype(object)
    # Block faces of a street side numbered from its west (south) end.
    first = np.ones(len(st), dtype=bool)
    first[1:] = (st[1:] != st[:-1]) | (sd[1:] != sd[:-1])
    start = np.maximum.accumulate(np.where(first, np.arange(len(st)), 0))
    ordinal = np.arange(len(st)) - start
    ident = streets.ident[st]
    curb_id = np.array(
        [
            f"{name}/{where}/{n}"
            for name, where, n in zip(ident.tolist(), side_name.tolist(), ordinal.tolist(), strict=True)
        ],
        dtype=object,
    )
    kerb_frame = gpd.GeoDataFrame(
        {
            "curb_id": curb_id,
            "street_id": ident,
            "road_class": np.array([c.name for c in ROAD_CLASSES], dtype=object)[streets.cls[st]],
            "width_m": streets.width[st],
            "oneway": oneway,
            "side": side_name,
            "flow": np.where(forward, "forward", "backward").astype(object),
        },
        geometry=_lines(a, b),
        crs=CRS,
    )

    hazards = _Hazards([], [], [])
    _junction_hazards(rng, streets, junction_table, ev_junction, ev_side, junctions, hazards)
    _kerb_hazards(rng, streets, kerbs, hazards)
    counts = [len(g) for g in hazards.geometry]
    kind = np.repeat(np.array(hazards.kind, dtype=object), counts)
    seen: dict[str, int] = {}
    ids: list[str] = []
    for name, count in zip(hazards.kind, counts, strict=True):
        done = seen.get(name, 0)
        ids += [f"{name}-{i}" for i in range(done, done + count)]
        seen[name] = done + count
    hazard_id = np.array(ids, dtype=object)
    hazard_frame = gpd.GeoDataFrame(
        {"hazard_id": hazard_id, "kind": kind, "width_m": np.concatenate(hazards.width)},
        geometry=np.concatenate(hazards.geometry),
        crs=CRS,
    )
    return kerb_frame, hazard_frame


def _fitted(rules: Rules | str | os.PathLike[str] | Mapping[str, Any] | None) -> tuple[float, float, Rules]:
    """Return the ``(a, b)`` constants for ``rules`` (fitted for presets; else scaled from ``cn``)."""
    rule_set = load_rules(rules)
    is_preset = isinstance(rules, str) and rules in list_presets()
    if rules is None or (is_preset and str(rules) in CALIBRATION):
        a, b = CALIBRATION[rule_set.name if rules is not None else "cn"]
        return a, b, rule_set
    key = repr(rule_set)
    if key not in _MEASURED:
        from parkplan.pipeline import plan  # a rule set without constants: measure it on a reference city

        kerbs, hazards = grid_city(REFERENCE_SIDE_M, REFERENCE_SIDE_M, seed=0, traffic=rule_set.traffic)
        ref_kerbs, ref_hazards = grid_city(REFERENCE_SIDE_M, REFERENCE_SIDE_M, seed=0)
        mine = plan(kerbs, hazards, rules=rule_set).summary["bays"]["total"]
        base = plan(ref_kerbs, ref_hazards, rules="cn").summary["bays"]["total"]
        _MEASURED[key] = max(mine, 1) / max(base, 1)
    a, b = CALIBRATION["cn"]
    return a * _MEASURED[key], b * _MEASURED[key], rule_set


def city_side_m(
    target_bays: int, rules: Rules | str | os.PathLike[str] | Mapping[str, Any] | None = "cn"
) -> float:
    """Side of the square city whose plan under ``rules`` holds about ``target_bays`` bays (metres).

    Solves ``a * L**2 + 4 * b * L = target_bays`` (``L`` in km) with the fitted constants of
    :data:`CALIBRATION` (for rules without constants: the ``cn`` constants scaled by a reference plan).

    Raises
    ------
    parkplan.errors.ArgumentError
        If ``target_bays`` is no positive number.
    """
    check_positive(target_bays, "target_bays", "city_side_m", "a positive number of bays")
    a, b, _ = _fitted(rules)
    return _side_from(target_bays, a, b)


def _side_from(target_bays: int, a: float, b: float) -> float:
    if a <= 0:
        return 1000.0 * target_bays / max(4.0 * b, 1e-9)
    side_km = (-4.0 * b + math.sqrt(16.0 * b * b + 4.0 * a * target_bays)) / (2.0 * a)
    return 1000.0 * max(side_km, 0.3)


def make_city(
    target_bays: int,
    seed: int = 0,
    rules: Rules | str | os.PathLike[str] | Mapping[str, Any] | None = "cn",
    *,
    junctions: Junctions = "corners",
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build a synthetic Chinese city whose plan holds about ``target_bays`` bays.

    Parameters
    ----------
    target_bays
        Bays the plan of the city under ``rules`` should hold (within a few per cent above 10,000
        bays; see the module docstring).
    seed
        Seed of the random generator: the same arguments give the same frames, row for row.
    rules
        The rules the city will be planned with (preset name, path, mapping or :class:`Rules`): they
        decide the size of the city, and their ``traffic`` side the ``flow`` of the kerbs.
    junctions
        ``"corners"`` (default): intersection points on the corner arcs (and opposite T-junctions), so
        every junction reaches its kerbs; ``"centre"``: one point per junction where the centrelines
        cross, as OpenStreetMap maps it.

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        ``(kerbs, hazards)`` in ``EPSG:32650`` (UTM 50N), ready for
        ``parkplan.plan(kerbs, hazards, rules=rules)``.

    Raises
    ------
    parkplan.errors.ArgumentError
        If ``target_bays`` is no positive number or ``junctions`` neither ``"corners"`` nor ``"centre"``
        (a :class:`ValueError` too, as before).
    """
    check_positive(target_bays, "target_bays", "make_city", "a positive number of bays")
    check_choice(junctions, "junctions", "make_city", get_args(Junctions))
    a, b, rule_set = _fitted(rules)
    side = _side_from(int(target_bays), a, b)
    return grid_city(side, side, seed, traffic=rule_set.traffic, junctions=junctions)
