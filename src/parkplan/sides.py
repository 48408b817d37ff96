"""Sides and bay depth of every kerb, chosen for the whole district at once under the cross-section rules.

Bay types of different depth (parallel 2.0-2.5 m, angled about 4.5 m, perpendicular 5 m) compete for the
same carriageway. Each kerb gets a **level**: ``0`` (no bays) or ``j`` (bays of any allowed type at most
``depth[j]`` deep, the distinct depths in ascending order). For every level the free stretches (hazard
zones plus the room zones of :mod:`parkplan.geometry.carriageway` at that depth) are solved exactly on their
own
(:func:`parkplan.optimize.solve.solve_stretches`), which gives each kerb a value per level, ``V[k, j]``.

Kerbs interact across the carriageway. Rays at right angles to each kerb, every
:data:`SAMPLE_SPACING_M` inside its free stretches, measure the carriageway width there (the kerbs'
``width_m`` where given, else the distance to the first kerb the ray meets). Each sample stands for the
kerb half a spacing either side of it:

* where even the shallowest bays on one side do not fit (the cross-section table allows no side, or
  ``depth + min_clear_width_m > w``), that piece of kerb (and the piece opposite) is closed locally, a
  ``cross_section`` zone;
* where a level's depth does not fit but a shallower one does, a kerb at that level holds only the
  shallower bays there (its stretches are cut at those places and their bay types limited).

Where the ray meets kerb ``b`` inside one of *its* free stretches, ``a`` and ``b`` **face** each other; a
pair's width ``w`` is the smallest over its samples where one side could park. Where the piece opposite
a sample meets free kerb only in part, or runs onto the next part of the kerb met (:func:`_edges`), and
the kerbs face nowhere else, that bit is closed or the kerbs paired as well (:func:`_edge_pairs`).
Opposite stretches interact only where they overlap: kerbs that never face each other are independent.
A pair of levels ``(i, j)`` is allowed on a facing pair when

* the rules' cross-section table lets a carriageway ``w`` wide (one-way if either kerb is) park on at
  least as many sides as the levels use (China, GA/T 850), and
* the depths leave the clear width: ``depth[i] + depth[j] + min_clear_width_m <= w`` (Japan 3.5 m; 0 m
  without the rule: the bays must physically fit side by side).

The choice is then::

    x[k, j]  boolean     kerb k at level j           sum_j x[k, j] = 1
    x[a, i] + x[b, j] <= 1                           for every facing pair and disallowed (i, j)
    maximise  sum_k sum_j  demand_weight[k] * V[k, j] * x[k, j]

solved exactly with CP-SAT per connected component of facing kerbs (most components are one street's
two kerbs) by :mod:`parkplan.optimize.sides`, which gets the values and the forbidden pairs as arrays. A
level that is worth no more than a shallower one is never needed (a shallower level is allowed wherever
a deeper one is) and is dropped before the model is built. Ties go to the shallower level. Facing pairs
are exempt from the room check's ``narrow`` zones (this choice replaces it there); strips meeting
elsewhere (inside a corner, round a median's tip) still close the kerb where they meet. One level per
kerb (block face) is the model's granularity; a facing pair is judged at its narrowest place where both
could park.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkplan._progress import Progress
from parkplan.accounting import CrossSectionReport, FrozenMap
from parkplan.geometry.carriageway import room_zones
from parkplan.geometry.chainage import ChainageIndex
from parkplan.geometry.kerbs import KerbSegments
from parkplan.geometry.rays import opposite_hits
from parkplan.intervals import (
    free_stretches,
    grouping_zones,
    kerb_order,
    merge_intervals,
    sort_zones,
    zone_table,
)
from parkplan.optimize._cpsat import Status, worst
from parkplan.optimize.sides import solve_levels
from parkplan.optimize.solve import WEIGHT_SCALE, Solution, bay_arrays, solve_stretches
from parkplan.rules.loading import Rules

__all__ = [
    "SAMPLE_SPACING_M",
    "Choice",
    "Decision",
    "Facing",
    "choose_levels",
    "decide",
    "depth_levels",
    "facing_kerbs",
    "habit_levels",
    "kerb_values",
]

SAMPLE_SPACING_M = 10.0
"""Distance between the places along a free stretch where the kerb opposite is looked for (metres)."""

MEASURE_TOL_M = 0.02
"""Added to a carriageway width measured between kerbs (metres): rounding, not the street, moved it."""


def depth_levels(rules: Rules, kerb_types: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Distinct depths of the bay types some kerb may hold, ascending (metres)."""
    depths = np.array([b.depth_m for b in rules.bays])
    used = kerb_types.any(axis=0) if len(kerb_types) else np.ones(len(depths), dtype=bool)
    return np.unique(np.round(depths[used], 6))


def kerb_values(stretches: pd.DataFrame, solution: Solution, n_kerbs: int, rules: Rules) -> NDArray[np.int64]:
    """Integer objective value (weights x 1000) of the bays a solution puts on each kerb."""
    weight = bay_arrays(rules).weight
    blocks = solution.blocks
    out = np.zeros(n_kerbs, dtype=np.int64)
    if len(blocks) == 0:
        return out
    kerb = stretches["kerb"].to_numpy(dtype=np.int64)[blocks["stretch"].to_numpy(dtype=np.int64)]
    np.add.at(
        out, kerb, blocks["count"].to_numpy(dtype=np.int64) * weight[blocks["type"].to_numpy(dtype=np.int64)]
    )
    return out


@dataclass
class Facing:
    """Kerbs across the carriageway from each other, and the places where that was looked at.

    Attributes
    ----------
    a, b
        Kerb indices of each facing pair (``a < b``).
    width_m
        Smallest carriageway width between the pair where both could park (metres).
    oneway
        Whether either kerb is on a one-way street.
    self_width_m
        Per kerb: the smallest width known anywhere along its free stretches (``inf`` if none).
    self_oneway
        Per kerb: on a one-way street.
    samples
        Places looked at: ``kerb``, ``s`` (chainage), ``half`` (half the spacing there), ``other`` (kerb
        opposite or -1), ``s_other``, ``width_m`` (``inf`` if unknown), ``oneway``.
    """

    a: NDArray[np.int64]
    b: NDArray[np.int64]
    width_m: NDArray[np.float64]
    oneway: NDArray[np.bool_]
    self_width_m: NDArray[np.float64]
    self_oneway: NDArray[np.bool_]
    samples: pd.DataFrame = field(default_factory=pd.DataFrame)
    edges: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Pieces opposite a sample that only partly meet a free stretch of a kerb the sample's ray did not
    meet inside one (:func:`_edges`): ``kerb``, ``s``, ``other``, ``lo_other``, ``hi_other``, ``width_m``,
    ``oneway``."""

    def pairs(self) -> NDArray[np.int64]:
        """Facing pairs as an ``(n, 2)`` array."""
        return np.column_stack([self.a, self.b]).astype(np.int64)

    def with_pairs(self, use: NDArray[np.bool_]) -> Facing:
        """Return a copy whose pairs and widths come from the samples ``use`` marks (and that hit)."""
        smp = self.samples
        other = smp["other"].to_numpy(dtype=np.int64)
        sel = use & (other >= 0)
        kerb = smp["kerb"].to_numpy(dtype=np.int64)
        return self._paired(kerb[sel], other[sel], smp["width_m"].to_numpy(dtype=float)[sel])

    def with_edge_pairs(self, use: NDArray[np.bool_]) -> Facing:
        """Return a copy with the pairs of the edges ``use`` marks added (each with its smallest width)."""
        if not use.any():
            return self
        e = self.edges
        return self._paired(
            np.concatenate([self.a, e["kerb"].to_numpy(dtype=np.int64)[use]]),
            np.concatenate([self.b, e["other"].to_numpy(dtype=np.int64)[use]]),
            np.concatenate([self.width_m, e["width_m"].to_numpy(dtype=float)[use]]),
        )

    def _paired(
        self, kerb: NDArray[np.int64], other: NDArray[np.int64], width_m: NDArray[np.float64]
    ) -> Facing:
        """Return a copy whose pairs are ``kerb``-``other`` (``a < b``), each with its smallest width."""
        frame = pd.DataFrame({"a": np.minimum(kerb, other), "b": np.maximum(kerb, other), "w": width_m})
        width = frame.groupby(["a", "b"], sort=True)["w"].min()
        pa = width.index.get_level_values(0).to_numpy(dtype=np.int64)
        pb = width.index.get_level_values(1).to_numpy(dtype=np.int64)
        return Facing(
            pa,
            pb,
            width.to_numpy(dtype=float),
            self.self_oneway[pa] | self.self_oneway[pb],
            self.self_width_m,
            self.self_oneway,
            self.samples,
            self.edges,
        )


def _oneway(kerbs: gpd.GeoDataFrame) -> NDArray[np.bool_]:
    values = kerbs["oneway"].to_numpy(dtype=object)
    return np.array([bool(v) if v is not None and v == v else False for v in values], dtype=bool)


def _in_stretch(
    stretches: pd.DataFrame,
    kerb: NDArray[np.int64],
    s: NDArray[np.float64],
    lo: NDArray[np.float64] | None = None,
) -> NDArray[np.bool_]:
    """Whether chainage ``s`` on ``kerb`` lies inside one of the free stretches (sorted by kerb, start).

    With ``lo``: whether ``[lo, s]`` meets one (a kerb's stretches are disjoint and sorted, so the last
    one starting at or before ``s`` is the one reaching furthest).
    """
    sk = stretches["kerb"].to_numpy(dtype=np.int64)
    s0 = stretches["start_m"].to_numpy(dtype=float)
    s1 = stretches["end_m"].to_numpy(dtype=float)
    if len(sk) == 0:
        return np.zeros(len(kerb), dtype=bool)
    span = float(max(s1.max(), float(np.max(s, initial=0.0)))) + 1.0
    i, ok = ChainageIndex.of(sk, s0, span).holding(kerb, s)
    inside: NDArray[np.bool_] = ok & ((s if lo is None else lo) <= s1[i] + 1e-9)
    return inside


def facing_kerbs(
    kerbs: gpd.GeoDataFrame,
    stretches: pd.DataFrame,
    spacing_m: float = SAMPLE_SPACING_M,
    workers: int | None = 1,
) -> Facing:
    """Find the kerbs that face each other across the carriageway where both could hold bays.

    Parameters
    ----------
    kerbs
        Kerb table (``carriageway``, ``width_m``, ``oneway``, ``street_id``, ``length_m``).
    stretches
        Free stretches (``kerb``, ``start_m``, ``end_m``, ``length_m``) after the hazard zones.
    spacing_m
        Distance between samples along each stretch (every stretch gets at least one, at its middle).
    workers
        Processes for the rays (:func:`parkplan.geometry.rays.opposite_places`).

    Returns
    -------
    Facing
        The facing pairs with their smallest width, and each kerb's own smallest width.

    Notes
    -----
    A kerb faces the kerb its ray meets first, whichever way (``street_id``) either took: the parts of a
    street drawn as several ways (:func:`parkplan.geometry.kerbs.attach_ways` cuts kerbs where the way beside
    them changes) and the two kerbs of a one-way pair sharing one carriageway face each other. The width
    at a place is the smallest of the measured distance and the ``width_m`` of both kerbs. A ray stops at
    the first kerb it meets, so it never measures across a median (an island's ring is kerb).
    """
    n = len(kerbs)
    width_attr = kerbs["width_m"].to_numpy(dtype=float)
    oneway = _oneway(kerbs)
    st = stretches.iloc[
        kerb_order(stretches["kerb"].to_numpy(dtype=np.int64), stretches["start_m"].to_numpy(dtype=float))
    ]
    length = st["length_m"].to_numpy(dtype=float)
    count = np.maximum(np.ceil(length / spacing_m).astype(np.int64), 1)
    kerb = np.repeat(st["kerb"].to_numpy(dtype=np.int64), count)
    first = np.repeat(np.cumsum(count) - count, count)
    frac = (np.arange(len(kerb)) - first + 0.5) / np.repeat(count, count)
    s = np.repeat(st["start_m"].to_numpy(dtype=float), count) + frac * np.repeat(length, count)
    other, s_other, reach = opposite_hits(kerbs, kerb, s, workers)
    # The width is measured to the kerb opposite, whatever street it is filed under: a street drawn as
    # several ways (or a one-way pair sharing one carriageway) puts the two kerbs of one carriageway on
    # different ways (Helsinki: 391 bays facing each other on a 6 m carriageway when they had to share a
    # street id). The kerbs face each other (a pair) only where the place opposite is free too.
    hit = other >= 0
    # A measured width is good to the data's precision: coordinates rounded through WGS84 at 7 decimals
    # move each kerb by up to 0.7 cm, and a 9.000 m street measured 8.996 m must still meet a 9 m row.
    measured = np.where(hit, reach + MEASURE_TOL_M, np.inf)
    facing_free = hit.copy()
    if hit.any():
        facing_free[hit] = _in_stretch(st, other[hit], s_other[hit])
    attr = width_attr[kerb]
    attr_pair = np.where(hit, np.fmin(attr, np.where(hit, width_attr[np.maximum(other, 0)], np.nan)), attr)
    width = np.fmin(np.where(np.isfinite(attr_pair), attr_pair, np.inf), measured)
    samples = pd.DataFrame(
        {
            "kerb": kerb,
            "s": s,
            "half": np.repeat(length / count / 2.0, count),
            "other": np.where(facing_free, other, -1),
            "s_other": np.where(facing_free, s_other, 0.0),
            "width_m": width,
            "oneway": oneway[kerb] | np.where(hit, oneway[np.maximum(other, 0)], False),
        }
    )
    self_width = np.full(n, np.inf)
    np.minimum.at(self_width, kerb, width)
    empty = np.zeros(0, dtype=np.int64)
    edges = _edges(kerbs, st, samples, other, s_other, hit, facing_free)
    facing = Facing(empty, empty, np.zeros(0), np.zeros(0, dtype=bool), self_width, oneway, samples, edges)
    return facing.with_pairs(np.ones(len(samples), dtype=bool))


def _kerb_neighbours(kerbs: gpd.GeoDataFrame) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per kerb: the kerb whose end is its start (``-1``: none), and the kerb whose start is its end.

    Kerbs cut into parts (a ring at its corners, a kerb where the way beside it changes) meet end to
    start; the ends are matched to the millimetre.
    """
    n = len(kerbs)
    pred = np.full(n, -1, dtype=np.int64)
    succ = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return pred, succ
    geoms = np.asarray(kerbs.geometry.values, dtype=object)
    start = np.round(shapely.get_coordinates(shapely.get_point(geoms, 0)) * 1000.0).astype(np.int64)
    end = np.round(shapely.get_coordinates(shapely.get_point(geoms, -1)) * 1000.0).astype(np.int64)
    starts = pd.DataFrame({"x": start[:, 0], "y": start[:, 1], "kerb": np.arange(n)})
    ends = pd.DataFrame({"x": end[:, 0], "y": end[:, 1], "prev": np.arange(n)})
    met = ends.drop_duplicates(["x", "y"], keep=False).merge(
        starts.drop_duplicates(["x", "y"], keep=False), on=["x", "y"]
    )
    met = met[met["kerb"] != met["prev"]]  # a closed ring meets itself
    pred[met["kerb"].to_numpy(dtype=np.int64)] = met["prev"].to_numpy(dtype=np.int64)
    succ[met["prev"].to_numpy(dtype=np.int64)] = met["kerb"].to_numpy(dtype=np.int64)
    return pred, succ


def _edges(
    kerbs: gpd.GeoDataFrame,
    stretches: pd.DataFrame,
    samples: pd.DataFrame,
    other: NDArray[np.int64],
    s_other: NDArray[np.float64],
    hit: NDArray[np.bool_],
    point_free: NDArray[np.bool_],
) -> pd.DataFrame:
    """Free kerb opposite a sample's piece that the sample's ray itself did not land in.

    A sample stands for its kerb half a spacing either side of it, and so for the piece opposite,
    ``[s_other - half, s_other + half]``. That piece can meet a free stretch of the kerb the ray met only
    in part (the ray's end lies in a zone), or run over that kerb's end onto the part that continues
    it: a street's two kerbs are cut where the way beside each changes, at different places on each side
    (Helsinki, Unioninkatu under ``jp``: bays 2 m apart across a 6 m street, at the ends of two parts that
    the rays, 10 m apart, never met). Each such piece of free kerb is an edge: the sample's kerb faces it.
    """
    pred, succ = _kerb_neighbours(kerbs)
    lengths = kerbs["length_m"].to_numpy(dtype=float)
    half = samples["half"].to_numpy(dtype=float)
    o = np.maximum(other, 0)
    lo, hi = s_other - half, s_other + half
    zero = np.zeros(len(o))
    cases = (
        # the kerb met, where the ray's own end is not free
        (o, hit & ~point_free, np.maximum(lo, 0.0), np.minimum(hi, lengths[o])),
        # the part before it (the piece runs over its start) and the part after it (over its end)
        (pred[o], hit & (pred[o] >= 0) & (lo < 0.0), lengths[pred[o]] + lo, lengths[pred[o]] + zero),
        (succ[o], hit & (succ[o] >= 0) & (hi > lengths[o]), zero, hi - lengths[o]),
    )
    columns = ["kerb", "s", "width_m", "oneway"]
    rows = []
    for neighbour, may, a, b in cases:
        may = may & (b > a)
        if not may.any():
            continue
        meets = np.zeros(len(o), dtype=bool)
        meets[may] = _in_stretch(stretches, neighbour[may], b[may], a[may])
        if not meets.any():
            continue
        rows.append(
            samples.loc[meets, columns].assign(
                other=neighbour[meets],
                lo_other=np.clip(a[meets], 0.0, lengths[neighbour[meets]]),
                hi_other=np.clip(b[meets], 0.0, lengths[neighbour[meets]]),
            )
        )
    if not rows:
        return pd.DataFrame(columns=[*columns, "other", "lo_other", "hi_other"])
    return pd.concat(rows, ignore_index=True)


def _allowed(
    rules: Rules,
    depth_i: NDArray[np.float64],
    depth_j: NDArray[np.float64],
    width: NDArray[np.float64],
    oneway: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """Whether bays ``depth_i`` and ``depth_j`` deep (0: none) may face each other over ``width`` metres."""
    cs = rules.cross_section
    clear = 0.0 if cs is None or cs.min_clear_width_m is None else cs.min_clear_width_m
    used = (depth_i > 0).astype(np.int64) + (depth_j > 0).astype(np.int64)
    finite = np.isfinite(width)
    ok = ~finite | (used == 0) | (depth_i + depth_j + clear <= width + 1e-9)
    if cs is not None and (cs.two_way or cs.one_way):
        shape = np.broadcast_shapes(np.shape(used), np.shape(width), np.shape(oneway))
        w_all = np.broadcast_to(width, shape)
        o_all = np.broadcast_to(oneway, shape)
        sides = np.full(shape, 2, dtype=np.int64)
        for rows, on in ((cs.one_way, True), (cs.two_way, False)):
            if not rows:
                continue
            minw = np.array([r.min_width_m for r in rows])
            n_sides = np.array([r.sides for r in rows] + [0])
            idx = (minw[None, :] > w_all.reshape(-1, 1) + 1e-9).sum(axis=1).reshape(shape)
            here = (o_all == on) & np.isfinite(w_all)
            sides = np.where(here, n_sides[idx], sides)
        ok &= used <= sides
    result: NDArray[np.bool_] = ok
    return result


@dataclass
class Choice:
    """The level chosen for every kerb, and how it was proven.

    Attributes
    ----------
    level
        Per kerb: 0 (no bays) or the 1-based index into the depth levels.
    status
        ``OPTIMAL`` when every choice model was solved to optimality.
    objective, bound
        Integer objective of the choice and CP-SAT's bound on it (weights x 1000 x demand weight).
    models
        CP-SAT models built.
    closed
        Kerbs that could hold bays at some level but were given none (a side the cross-section closed).
    """

    level: NDArray[np.int64]
    status: Status
    objective: int
    bound: int
    models: int
    closed: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    solve_s: float = 0.0
    not_optimal: list[dict[str, object]] = field(default_factory=list)
    """Choice models not proven optimal: ``model``, ``kerbs`` (indices), ``status``, ``gap``."""


def choose_levels(
    value: NDArray[np.int64],
    depth_m: NDArray[np.float64],
    facing: Facing,
    rules: Rules,
    demand_weight: NDArray[np.float64] | None = None,
    time_limit_s: float | None = None,
    workers: int | None = 1,
    progress: Progress | None = None,
) -> Choice:
    """Choose every kerb's level (0: none, ``j``: bays at most ``depth_m[j - 1]`` deep).

    Parameters
    ----------
    value
        ``(kerbs, levels)`` integer value of each kerb at each level (from :func:`kerb_values`).
    depth_m
        Depth of each level (metres), ascending.
    facing
        Facing pairs and widths (:func:`facing_kerbs`).
    rules
        Rules with the cross-section table and clear width, if any.
    demand_weight
        Per-kerb multiplier of its value (default 1).
    time_limit_s
        Limit per CP-SAT model.
    workers
        Processes solving the independent models (:mod:`parkplan._parallel`; ``None``: all CPUs).
    progress
        Status line counting the models solved.

    Returns
    -------
    Choice
        The levels, with status and bound.
    """
    n, n_levels = value.shape
    weight = np.ones(n) if demand_weight is None else np.asarray(demand_weight, dtype=float)
    # Integer objective: value x demand weight, rounded (demand weights to 1/1000).
    scaled = np.round(value * np.round(weight * 1000.0)[:, None]).astype(np.int64)
    depth0 = np.concatenate([[0.0], depth_m])
    full = np.concatenate([np.zeros((n, 1), dtype=np.int64), scaled], axis=1)
    # Usable: allowed for the kerb alone, and worth more than every shallower level.
    alone = _allowed(
        rules,
        np.broadcast_to(depth0[None, :], (n, n_levels + 1)),
        np.zeros((n, n_levels + 1)),
        np.broadcast_to(facing.self_width_m[:, None], (n, n_levels + 1)),
        np.broadcast_to(facing.self_oneway[:, None], (n, n_levels + 1)),
    )
    best_before = np.maximum.accumulate(np.where(alone, full, -1), axis=1)
    usable = alone.copy()
    usable[:, 1:] &= full[:, 1:] > best_before[:, :-1]
    usable[:, 0] = True
    # Pairs that can still conflict: some usable (i, j) combination is not allowed.
    pa, pb = facing.a, facing.b
    conflicts = np.zeros((0, 4), dtype=np.int64)
    if len(pa):
        li, lj = np.meshgrid(np.arange(n_levels + 1), np.arange(n_levels + 1), indexing="ij")
        ok = _allowed(
            rules,
            depth0[li][None, :, :],
            depth0[lj][None, :, :],
            facing.width_m[:, None, None],
            facing.oneway[:, None, None],
        )
        bad = ~ok & usable[pa][:, :, None] & usable[pb][:, None, :]
        p, i, j = np.nonzero(bad)
        conflicts = np.column_stack([pa[p], i, pb[p], j]).astype(np.int64)
    picked = solve_levels(full, usable, conflicts, time_limit_s, workers, progress)
    objective = int(full[np.arange(n), picked.level].sum())
    closed = (picked.level == 0) & (value > 0).any(axis=1)
    return Choice(
        picked.level,
        picked.status,
        objective,
        objective + picked.bound_gain,
        picked.models,
        closed,
        picked.solve_s,
        picked.not_optimal,
    )


def habit_levels(
    value: NDArray[np.int64],
    depth_m: NDArray[np.float64],
    facing: Facing,
    rules: Rules,
    prefer: NDArray[np.bool_],
) -> Choice:
    """Choose levels the way a fixed habit would, as a baseline for comparisons.

    "Park both sides if the street is wide enough, else the preferred side (the right-hand kerb), parallel
    only": every kerb at the shallowest level; where a facing pair may not both park, the kerb not
    preferred (or, both or neither preferred, the later one) gives way. Not optimal by design.
    """
    n = len(value)
    depth = np.full(n, depth_m[0] if len(depth_m) else 0.0)
    zero = np.zeros(n)
    alone = _allowed(rules, depth, zero, facing.self_width_m, facing.self_oneway)
    level = (
        np.where(alone & (value[:, 0] > 0), 1, 0).astype(np.int64) if len(depth_m) else np.zeros(n, np.int64)
    )
    if len(facing.a):
        d = np.full(len(facing.a), depth_m[0])
        clash = ~_allowed(rules, d, d, facing.width_m, facing.oneway)
        for a, b in zip(facing.a[clash].tolist(), facing.b[clash].tolist(), strict=True):
            if level[a] == 0 or level[b] == 0:
                continue
            loser = a if (prefer[b] and not prefer[a]) else b
            level[loser] = 0
    objective = int(value[np.arange(n), np.maximum(level - 1, 0)][level > 0].sum()) * 1000 if n else 0
    closed = (level == 0) & (value > 0).any(axis=1)
    return Choice(level, "HEURISTIC", objective, objective, 0, closed)


@dataclass
class Decision:
    """Everything the choice of sides and depths settled, ready for the layout.

    Attributes
    ----------
    zones
        Forbidden zones of every kerb at its chosen level, plus a ``cross_section`` zone over each kerb
        the choice closed.
    stretches
        Free stretches of every kerb at its chosen level (none on a closed kerb).
    solution
        Bays on those stretches (``blocks`` index ``stretches``), with the combined proof status.
    level
        Chosen level per kerb (0: none).
    depth_m
        Depth of each level, ascending.
    summary
        The plan summary's ``cross_section`` block.
    """

    zones: pd.DataFrame
    stretches: pd.DataFrame
    solution: Solution
    level: NDArray[np.int64]
    depth_m: NDArray[np.float64]
    summary: CrossSectionReport


def _edge_pairs(facing: Facing, rules: Rules, depth_m: float) -> tuple[Facing, pd.DataFrame | None]:
    """Add what the edges (:func:`_edges`) of kerbs not yet paired ask for: a pair, or a closed piece.

    An edge between kerbs that face each other elsewhere needs nothing: the pair's levels hold all along
    them. Otherwise, where even the shallowest bays may not stand on both sides at the edge's width, the
    piece of the other kerb is closed (a ``cross_section`` zone of at most a spacing): that costs less
    than making the two whole kerbs a pair, one level each (Helsinki under ``jp``: 53 bays). Where they
    may, but deeper ones might not, the two kerbs become a pair.
    """
    e = facing.edges
    if len(e) == 0:
        return facing, None
    kerb = e["kerb"].to_numpy(dtype=np.int64)
    other = e["other"].to_numpy(dtype=np.int64)
    width = e["width_m"].to_numpy(dtype=float)
    oneway = e["oneway"].to_numpy(dtype=bool)
    n = int(max(kerb.max(), other.max(), facing.a.max(initial=0), facing.b.max(initial=0))) + 1
    known = np.isin(np.minimum(kerb, other) * n + np.maximum(kerb, other), facing.a * n + facing.b)
    depth = np.full(len(e), depth_m)
    one = _allowed(rules, depth, np.zeros(len(e)), width, oneway)  # else closed as a narrow place
    both = _allowed(rules, depth, depth, width, oneway)
    close = ~known & one & ~both
    facing = facing.with_edge_pairs(~known & one & both)
    if not close.any():
        return facing, None
    g, a, b = merge_intervals(
        other[close], e["lo_other"].to_numpy(dtype=float)[close], e["hi_other"].to_numpy(dtype=float)[close]
    )
    zones = zone_table(
        g,
        a,
        b,
        "cross_section",
        [f"width@{x:.1f}" for x in a],
        f"{rules.name}: carriageway too narrow for bays {depth_m:g} m deep on both sides",
    )
    return facing, zones


def _narrow_places(
    samples: pd.DataFrame, depth_m: float, rules: Rules, lengths: NDArray[np.float64]
) -> pd.DataFrame:
    """Zones where the carriageway is too narrow for bays ``depth_m`` deep on even one side.

    Each sample stands for the kerb half a spacing either side of it; where it fails, that piece of kerb
    (and the piece opposite) is closed, merged into runs.
    """
    width = samples["width_m"].to_numpy(dtype=float)
    fail = ~_allowed(
        rules,
        np.full(len(samples), depth_m),
        np.zeros(len(samples)),
        width,
        samples["oneway"].to_numpy(dtype=bool),
    )
    kerb = samples["kerb"].to_numpy(dtype=np.int64)[fail]
    s = samples["s"].to_numpy(dtype=float)[fail]
    half = samples["half"].to_numpy(dtype=float)[fail]
    other = samples["other"].to_numpy(dtype=np.int64)[fail]
    so = samples["s_other"].to_numpy(dtype=float)[fail]
    hit = other >= 0
    k = np.concatenate([kerb, other[hit]])
    lo = np.concatenate([s - half, so[hit] - half[hit]])
    hi = np.concatenate([s + half, so[hit] + half[hit]])
    g, a, b = merge_intervals(k, np.clip(lo, 0.0, lengths[k]), np.clip(hi, 0.0, lengths[k]))
    cs = rules.cross_section
    clear = "" if cs is None or cs.min_clear_width_m is None else f" plus {cs.min_clear_width_m:g} m clear"
    return zone_table(
        g,
        a,
        b,
        "cross_section",
        [f"width@{x:.1f}" for x in a],
        f"{rules.name}: carriageway too narrow for bays {depth_m:g} m deep{clear}",
    )


def _cap_intervals(
    samples: pd.DataFrame, cap: NDArray[np.int64], level: int, lengths: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Stretches of kerb where bays may reach only a shallower level than ``level`` (1 <= cap < level).

    Returns ``(kerb, start, end, cap)`` of merged runs of equal cap, sorted by kerb and start.
    """
    sel = (cap >= 1) & (cap < level)
    kerb = samples["kerb"].to_numpy(dtype=np.int64)[sel]
    s = samples["s"].to_numpy(dtype=float)[sel]
    half = samples["half"].to_numpy(dtype=float)[sel]
    c = cap[sel]
    if len(kerb) == 0:
        empty = np.zeros(0)
        return np.zeros(0, dtype=np.int64), empty, empty, np.zeros(0, dtype=np.int64)
    group = kerb * (level + 1) + c
    g, lo, hi = merge_intervals(
        group, np.clip(s - half, 0.0, lengths[kerb]), np.clip(s + half, 0.0, lengths[kerb])
    )
    k, c = g // (level + 1), g % (level + 1)
    order = kerb_order(k, lo)
    return k[order], lo[order], hi[order], c[order]


def _lookup(
    kerb: NDArray[np.int64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    value: NDArray[np.int64],
    at_kerb: NDArray[np.int64],
    at_s: NDArray[np.float64],
    default: int,
) -> NDArray[np.int64]:
    """Value of the interval (sorted by kerb, start) containing each place, else ``default``."""
    out = np.full(len(at_kerb), default, dtype=np.int64)
    if len(kerb) == 0 or len(at_kerb) == 0:
        return out
    span = float(max(hi.max(), at_s.max())) + 1.0
    i, ok = ChainageIndex.of(kerb, lo, span).holding(at_kerb, at_s)
    inside = ok & (at_s <= hi[i])
    out[inside] = value[i[inside]]
    return out


def decide(
    kerbs: gpd.GeoDataFrame,
    hazard_zones: pd.DataFrame,
    kerb_types: NDArray[np.bool_],
    rules: Rules,
    *,
    street_area: object | None = None,
    room: bool = True,
    presolve: bool = True,
    time_limit_s: float | None = None,
    demand_weight: NDArray[np.float64] | None = None,
    strategy: str = "optimal",
    progress: Progress | None = None,
    workers: int | None = 1,
) -> Decision:
    """Solve every depth level, choose each kerb's level and put the chosen bays together.

    Parameters
    ----------
    kerbs
        Kerb table from :func:`parkplan.geometry.kerbs.build_kerbs`.
    hazard_zones
        Zones of the hazards' clearances (:func:`parkplan.hazards.zones_from_matches`).
    kerb_types
        ``(kerbs, types)``: bay types each kerb may hold.
    rules
        The rules.
    street_area
        Union of the street areas (street-area input) for the room check.
    room
        Check room in front of the kerbs (:func:`parkplan.geometry.carriageway.room_zones`).
    presolve, time_limit_s
        As for :func:`parkplan.optimize.solve.solve_stretches`.
    demand_weight
        Per-kerb weight of its bays in the choice (default 1).
    strategy
        ``"optimal"`` (the model above) or ``"habit"`` (:func:`habit_levels`, a baseline).
    progress
        Status line to report the depth levels and the choice on.
    workers
        Processes for the rays across the carriageway (:mod:`parkplan._parallel`).

    Returns
    -------
    Decision
        Zones, stretches and bays of the chosen levels, with the proof status.
    """
    n = len(kerbs)
    lengths = kerbs["length_m"].to_numpy(dtype=float)
    levels = depth_levels(rules, kerb_types)
    type_depth = np.array([b.depth_m for b in rules.bays])
    # Groups of bays either side of a zone are as far apart as the grouping rule asks.
    min_gap = 0.0 if rules.grouping is None else float(rules.grouping.gap_m)
    gap_rule = f"{rules.name}: groups of bays at least {min_gap:g} m apart"
    curb_ids = kerbs["curb_id"].to_numpy(dtype=object)
    # The longest bay along the kerb: no bay wraps kerb turning 30 degrees or more within it.
    bay_length = max((b.pitch_m + b.end_m for b in rules.bays), default=0.0)
    shortest = min((b.pitch_m + b.end_m for b in rules.bays), default=0.0)
    base = free_stretches(hazard_zones, lengths)
    segments = KerbSegments(np.asarray(kerbs.geometry.values, dtype=object)) if room else None
    facing = facing_kerbs(kerbs, base, workers=workers)
    smp = facing.samples
    s_width = smp["width_m"].to_numpy(dtype=float)
    s_oneway = smp["oneway"].to_numpy(dtype=bool)
    # Kerbs with free kerb but no width anywhere along it (no width_m, no kerb opposite): not limited.
    sampled_kerbs = np.zeros(n, dtype=bool)
    sampled_kerbs[smp["kerb"].to_numpy(dtype=np.int64)] = True
    without_width = int((sampled_kerbs & ~np.isfinite(facing.self_width_m)).sum())
    # Where even the shallowest bays on one side do not fit (or the table allows no side), the place is
    # closed locally; the pairs are judged where both sides could park.
    edge_zones = None
    if len(levels):
        ok1 = _allowed(rules, np.full(len(smp), levels[0]), np.zeros(len(smp)), s_width, s_oneway)
        facing = facing.with_pairs(ok1)
        facing, edge_zones = _edge_pairs(facing, rules, float(levels[0]))
    facing.self_width_m = np.full(n, np.inf)
    pairs = facing.pairs()
    per_level: list[tuple[pd.DataFrame, pd.DataFrame, Solution]] = []
    value = np.zeros((n, len(levels)), dtype=np.int64)
    # The deepest level that fits at each place with nothing opposite (levels are nested: a place that
    # takes depth d takes every shallower one).
    fits_level = np.zeros(len(smp), dtype=np.int64)
    for depth in levels:
        fits_level += _allowed(rules, np.full(len(smp), depth), np.zeros(len(smp)), s_width, s_oneway)
    closed_places = _narrow_places(smp, float(levels[0]), rules, lengths) if len(levels) else None
    if edge_zones is not None and len(edge_zones):
        closed_places = pd.concat([closed_places, edge_zones], ignore_index=True)
    # The deepest level each kerb reaches anywhere (kerbs never sampled: every level).
    kerb_reach = np.full(n, len(levels), dtype=np.int64)
    sampled = np.zeros(n, dtype=bool)
    sampled[smp["kerb"].to_numpy(dtype=np.int64)] = True
    kerb_reach[sampled] = 0
    np.maximum.at(kerb_reach, smp["kerb"].to_numpy(dtype=np.int64), fits_level)
    depth0 = np.concatenate([[0.0], levels])
    bar = progress if progress is not None else Progress()
    for j, depth in enumerate(levels):
        bar.stage(f"bays at depth {depth:g} m", j + 1, len(levels))
        types_ok = kerb_types & (type_depth[None, :] <= depth + 1e-6)
        zones = pd.concat([hazard_zones, closed_places], ignore_index=True)
        if room:
            # Room for the deepest bay the kerb may hold at this level and that fits its carriageway.
            reach = depth0[np.minimum(kerb_reach, j + 1)]
            kerb_depth = np.where(
                types_ok & (type_depth[None, :] <= reach[:, None] + 1e-6), type_depth[None, :], 0.0
            )
            kerb_depth = kerb_depth.max(axis=1)
            zones = sort_zones(
                pd.concat(
                    [zones, room_zones(kerbs, kerb_depth, street_area, pairs, bay_length, segments)],
                    ignore_index=True,
                )
            )
        # Places too narrow for this level but not for a shallower one keep the shallower bays there.
        cap_k, cap_lo, cap_hi, cap_level = _cap_intervals(smp, np.minimum(fits_level, j + 1), j + 1, lengths)
        cuts = pd.DataFrame(
            {"kerb": np.concatenate([cap_k, cap_k]), "start_m": np.concatenate([cap_lo, cap_hi])}
        ).assign(end_m=lambda f: f["start_m"])
        if min_gap > 0:
            gaps = grouping_zones(
                pd.concat([zones, cuts], ignore_index=True), lengths, min_gap, curb_ids, gap_rule, shortest
            )
            zones = sort_zones(pd.concat([zones, gaps], ignore_index=True))
        stretches = free_stretches(pd.concat([zones, cuts], ignore_index=True), lengths)
        st_kerb = stretches["kerb"].to_numpy(dtype=np.int64)
        mid = (stretches["start_m"].to_numpy(dtype=float) + stretches["end_m"].to_numpy(dtype=float)) / 2.0
        cap = _lookup(cap_k, cap_lo, cap_hi, cap_level, st_kerb, mid, default=j + 1)
        depth_cap = np.concatenate([[0.0], levels])[cap]
        allowed = kerb_types[st_kerb] & (type_depth[None, :] <= depth_cap[:, None] + 1e-6)
        solution = solve_stretches(
            stretches["length_m"].to_numpy(dtype=float),
            rules,
            presolve=presolve,
            time_limit_s=time_limit_s,
            allowed=allowed,
            workers=workers,
        )
        value[:, j] = kerb_values(stretches, solution, n, rules)
        per_level.append((zones, stretches, solution))
    bar.stage("choosing sides and depths")
    if strategy == "habit":
        prefer = kerbs["side"].to_numpy(dtype=object) == "right"
        choice = habit_levels(value, levels, facing, rules, prefer)
    else:
        choice = choose_levels(value, levels, facing, rules, demand_weight, time_limit_s, workers, bar)

    zone_parts: list[pd.DataFrame] = []
    stretch_parts: list[pd.DataFrame] = []
    block_parts: list[pd.DataFrame] = []
    statuses: list[dict[str, object]] = []
    # The habit baseline is a feasible layout, not a proven optimum (HEURISTIC counts as FEASIBLE).
    status = worst(choice.status)
    objective = 0.0
    gap_m = 0.0
    build_s = solve_s = 0.0
    n_presolved = n_models = 0
    offset = 0
    for j, (zones, stretches, solution) in enumerate(per_level):
        at = choice.level == j + 1
        if j == 0:
            at = at | (choice.level == 0)
        zk = zones["kerb"].to_numpy(dtype=np.int64)
        zone_parts.append(zones[at[zk]])
        sk = stretches["kerb"].to_numpy(dtype=np.int64)
        keep = (choice.level[sk] == j + 1) | ((j == 0) & (choice.level[sk] == 0) & ~choice.closed[sk])
        new_index = np.full(len(stretches), -1, dtype=np.int64)
        new_index[keep] = offset + np.arange(int(keep.sum()))
        offset += int(keep.sum())
        stretch_parts.append(stretches[keep])
        blocks = solution.blocks
        bs = blocks["stretch"].to_numpy(dtype=np.int64)
        chosen = keep[bs] & (choice.level[sk[bs]] == j + 1)
        block_parts.append(blocks[chosen].assign(stretch=new_index[bs[chosen]]))
        status = worst(status, solution.status)
        statuses += [dict(s, level=j + 1) for s in solution.model_statuses]
        gap_m += solution.bound - solution.objective
        build_s += solution.build_s
        solve_s += solution.solve_s
        n_presolved += solution.n_presolved
        n_models += solution.n_models
    curb_ids = kerbs["curb_id"].to_numpy(dtype=object)
    for r in choice.not_optimal:
        # Which component of the choice of sides was not proven optimal, by its kerbs (the first 20 named).
        kerb_rows = np.asarray(r["kerbs"], dtype=np.int64)
        statuses.append(
            {
                "component": f"choice of sides, model {r['model']}",
                "kerbs": len(kerb_rows),
                "curb_ids": [str(c) for c in curb_ids[kerb_rows[:20]]],
                "status": r["status"],
                "gap": r["gap"],
            }
        )
    closed = np.flatnonzero(choice.closed)
    if len(closed):
        street = kerbs["street_id"].to_numpy(dtype=object)
        curb = kerbs["curb_id"].to_numpy(dtype=object)
        cs = rules.cross_section
        why = (
            f"{rules.name}: the sides and depths chosen for the cross-section leave this kerb without bays"
            + (
                f" (clear width {cs.min_clear_width_m:g} m)"
                if cs is not None and cs.min_clear_width_m is not None
                else ""
            )
        )
        zone_parts.append(
            zone_table(
                closed,
                0.0,
                lengths[closed],
                "cross_section",
                [f"street:{street[k]}" if street[k] is not None else f"kerb:{curb[k]}" for k in closed],
                why,
            )
        )
    weights = bay_arrays(rules).weight
    if not stretch_parts:  # no kerb may hold any bay type: nothing to place
        stretch_parts = [base.iloc[:0]]
        zone_parts.append(hazard_zones)
        block_parts.append(pd.DataFrame({"stretch": [], "run": [], "type": [], "count": []}, dtype=np.int64))
    final = pd.concat(stretch_parts, ignore_index=True)
    order = kerb_order(final["kerb"].to_numpy(dtype=np.int64), final["start_m"].to_numpy(dtype=float))
    rank_of = np.empty(len(order), dtype=np.int64)
    rank_of[order] = np.arange(len(order))
    final = final.iloc[order].reset_index(drop=True)
    blocks = pd.concat(block_parts, ignore_index=True).astype(np.int64)
    blocks["stretch"] = rank_of[blocks["stretch"].to_numpy(dtype=np.int64)]
    blocks = blocks.sort_values(["stretch", "run", "type"], kind="stable").reset_index(drop=True)
    objective = float((blocks["count"].to_numpy() * weights[blocks["type"].to_numpy()]).sum()) / WEIGHT_SCALE
    choice_gap = (choice.bound - choice.objective) / 1000.0 / WEIGHT_SCALE
    bound = objective + gap_m + choice_gap
    solution = Solution(
        blocks=blocks,
        status=status,
        objective=objective,
        bound=bound,
        gap=(bound - objective) / max(abs(bound), 1e-9) if bound else 0.0,
        n_presolved=n_presolved,
        n_models=n_models + choice.models,
        model_statuses=statuses,
        build_s=build_s,
        solve_s=solve_s + choice.solve_s,
    )
    summary = CrossSectionReport(
        strategy=strategy,
        facing_pairs=len(facing.a),
        kerbs_closed=len(closed),
        kerbs_without_width=without_width,
        choice_models=choice.models,
        kerbs_by_depth_m=FrozenMap(
            (f"{d:g}", int((choice.level == j + 1).sum())) for j, d in enumerate(levels)
        ),
    )
    return Decision(
        sort_zones(pd.concat(zone_parts, ignore_index=True)),
        final,
        solution,
        choice.level,
        levels,
        summary,
    )
