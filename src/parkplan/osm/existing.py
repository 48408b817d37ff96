"""Today's street parking from OpenStreetMap, and plans that start from it (the existing-mode workflow).

:func:`plan_osm` is the whole workflow the command line runs on an OSM file (``parkplan plan
EXTRACT.osm.pbf [--mode existing] [--keep]``):

1. read the street areas, hazards, ways and separately mapped parking (:func:`parkplan.osm.streets.from_osm`);
   in existing mode every kerb side the parking tags do not allow parking on is forbidden;
2. plan (:func:`parkplan.pipeline.plan`), the ways lending the kerbs their street, width, side and flow,
   cut to the file's box (:func:`parkplan.osm.streets.osm_extent`) unless given an extent;
3. in existing mode, hold each way side to its tagged ``parking:<side>:capacity``
   (:func:`apply_capacity`: :func:`enforce_capacity`, then :meth:`parkplan.pipeline.Plan.keeping` and
   :meth:`parkplan.pipeline.Plan.with_capacity`), and add the separately mapped parking as bays
   (:func:`separate_bays`, :meth:`parkplan.pipeline.Plan.with_separate`).

With ``keep=True`` (``--keep`` without a file) it plans today's layout first (existing mode, steps 1 and
2), then the optimal plan (plan mode) that leaves as many of today's bays in place as it can.

>>> plan = plan_osm("extract.osm.pbf", rules="de-parkraum", mode="existing")  # doctest: +SKIP
>>> plan.summary["capacity"]["bays_dropped"]  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkplan.accounting import CapacityReport
from parkplan.arguments import check_choice, check_path, check_plan_arguments
from parkplan.errors import ArgumentError
from parkplan.geometry.kerbs import side_of
from parkplan.io.read import HazardSource, PathOrFrame, utm_zone_crs
from parkplan.osm.streets import from_osm, osm_extent
from parkplan.pipeline import Plan, hazard_sources, plan
from parkplan.rules.loading import Rules, Traffic, load_rules

__all__ = [
    "CAPACITY_STATUSES",
    "FALLBACK_DEPTH_M",
    "FALLBACK_PITCH_M",
    "apply_capacity",
    "bays_by_way_side",
    "capacity_summary",
    "enforce_capacity",
    "plan_osm",
    "separate_bays",
]


def plan_osm(
    path: str | os.PathLike[str],
    hazards: Sequence[HazardSource | PathOrFrame] | PathOrFrame | None = None,
    rules: Rules | str | os.PathLike[str] | Mapping[str, Any] | None = None,
    *,
    mode: Literal["plan", "existing"] = "plan",
    keep: PathOrFrame | bool | None = None,
    extent: Any | None = None,
    time_limit_s: float | None = None,
    presolve: bool = True,
    strategy: Literal["optimal", "habit"] = "optimal",
    progress: bool = False,
    workers: int | None = None,
    client: Any | None = None,
    crs: Any | None = None,
) -> Plan:
    """Plan the bays of an OpenStreetMap file: the command line's workflow for OSM input (see the module).

    Parameters
    ----------
    path
        An OSM file (:func:`parkplan.osm.streets.from_osm`).
    hazards
        Hazard inputs besides the file's own, as :func:`parkplan.pipeline.plan` takes them.
    rules
        As :func:`parkplan.pipeline.plan` takes them; their ``traffic`` places the signs and signals tagged
        for one direction.
    mode
        ``"plan"``: the parking tags are ignored, the rules alone decide. ``"existing"``: bays only where
        the tags allow parking today, held to the tagged capacity, with the separately mapped parking.
    keep
        Existing bays to leave in place where the optimum allows (:func:`parkplan.pipeline.plan`), or
        ``True`` for today's bays from the parking tags (``mode="existing"`` only): the plan is then the
        optimal one (plan mode) that keeps most of them. ``None`` or ``False``: none.
    extent
        The polygon the data was cut to (as for :func:`parkplan.pipeline.plan`); default: the box the
        file's header declares.
    time_limit_s, presolve, strategy, progress, workers, client, crs
        As for :func:`parkplan.pipeline.plan`.

    Returns
    -------
    Plan
        The plan; in existing mode (without ``keep=True``) its summary has a ``capacity`` block and
        ``bays.capped_by_capacity``, and separately mapped parking is in its bays (``source``).

    Raises
    ------
    parkplan.errors.ArgumentError
        Before any work, for an argument of the wrong type or value, or ``keep=True`` in plan mode.
    parkplan.errors.InputError, parkplan.errors.RulesError
        As :func:`parkplan.osm.streets.from_osm` and :func:`parkplan.pipeline.plan` raise them.
    """
    where = "plan_osm"
    check_path(path, "path", where)
    check_choice(mode, "mode", where, ("plan", "existing"))
    today = keep is True
    if today and mode != "existing":
        raise ArgumentError(f"{where}: keep=True (today's bays) needs mode='existing'", argument="keep")
    keep = None if isinstance(keep, bool) else keep
    check_plan_arguments(
        kerbs=path, hazards=hazards, rules=rules, time_limit_s=time_limit_s, presolve=presolve,
        extent=extent, corners=None, room=True, ways=None, strategy=strategy, keep=keep,
        progress=progress, workers=workers, client=client,
    )  # fmt: skip
    traffic = load_rules(rules).traffic
    sources = hazard_sources(hazards)
    if today:
        # Today's layout from the parking tags, then the optimal plan that keeps most of it.
        kerbs, tagged, ways, _ = _read(path, "existing", traffic)
        region = extent if extent is not None else osm_extent(path)
        keep = plan(kerbs, [tagged, *sources], rules=rules, extent=region, ways=ways, crs=crs).bays
        mode = "plan"
    # The ways give street-area kerbs their street, width, side and one-way flow.
    kerbs, tagged, ways, parking = _read(path, mode, traffic)
    result = plan(
        kerbs,
        [tagged, *sources],
        rules=rules,
        time_limit_s=time_limit_s,
        presolve=presolve,
        extent=extent if extent is not None else osm_extent(path),
        ways=ways,
        strategy=strategy,
        keep=keep,
        progress=progress,
        workers=workers,
        client=client,
        crs=crs,
    )
    if mode == "existing":
        result = apply_capacity(result, ways)
        if len(parking):
            result = result.with_separate(separate_bays(parking, result.rules))
    return result


def _read(
    path: str | os.PathLike[str], mode: Literal["plan", "existing"], traffic: Traffic
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read an OSM file's street areas, hazards, ways and separately mapped parking (:func:`from_osm`)."""
    osm = from_osm(path, mode=mode, traffic=traffic)
    return osm.kerbs, osm.hazards, osm.ways, osm.parking


def apply_capacity(plan: Plan, ways: gpd.GeoDataFrame, *, reach_m: float = 40.0) -> Plan:
    """Return ``plan`` held to the ways' tagged capacity (existing mode).

    :func:`enforce_capacity` picks the bays to drop; they go with
    :meth:`~parkplan.pipeline.Plan.keeping` (``bays.capped_by_capacity`` in the summary, the kerbs table
    recounted) and the summary gets the ``capacity`` block (:func:`capacity_summary`).

    Parameters
    ----------
    plan
        A plan made with ``ways`` (its rules decide which bays may go).
    ways
        Ways frame of :func:`parkplan.osm.streets.from_osm` with ``mode="existing"`` (``OsmData.ways``).
    reach_m
        Farthest a bay's centre may be from its way (metres).
    """
    capped, report = enforce_capacity(plan.bays, ways, rules=plan.rules, reach_m=reach_m)
    kept = plan.keeping(plan.bays["bay_id"].isin(capped["bay_id"]), reason="capped_by_capacity")
    return kept.with_capacity(capacity_summary(report))


def _way_sides(
    bays: gpd.GeoDataFrame, ways: gpd.GeoDataFrame, reach_m: float
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.object_]]]:
    """Find the way (row of ``ways``; -1: none within ``reach_m``) and its side of each bay's centre."""
    crs = utm_zone_crs(ways.to_crs(4326))
    w = ways.to_crs(crs)
    wg = np.asarray(w.geometry.values, dtype=object)
    centre = shapely.centroid(np.asarray(bays.to_crs(crs).geometry.values, dtype=object))
    way = np.full(len(bays), -1, dtype=np.int64)
    side = np.full(len(bays), None, dtype=object)
    if len(bays) == 0 or len(wg) == 0:
        return way, side
    bi, wi = shapely.STRtree(wg).query_nearest(centre, max_distance=reach_m, all_matches=False)
    way[bi] = wi
    side[bi], _ = side_of(wg[wi], centre[bi])
    return way, side


def bays_by_way_side(
    bays: gpd.GeoDataFrame, ways: gpd.GeoDataFrame, *, reach_m: float = 40.0
) -> pd.DataFrame:
    """Count the bays beside each side of each way.

    A bay belongs to the way nearest its centre (within ``reach_m``) and to the side of it its centre is on.

    Parameters
    ----------
    bays
        ``plan.bays`` (any CRS).
    ways
        Ways frame of :func:`parkplan.osm.streets.from_osm` (``OsmData.ways``).
    reach_m
        Farthest a bay's centre may be from its way (metres).

    Returns
    -------
    pandas.DataFrame
        ``osm_id``, ``side``, ``bays``; with existing-mode ways also ``parking`` (allowed by the tags),
        ``capacity`` (tagged, NaN when not tagged) and ``difference`` (bays minus tagged capacity).
    """
    way, side = _way_sides(bays, ways, reach_m)
    counts = pd.DataFrame({"way": way, "side": side})[way >= 0].value_counts()
    rows = []
    for i, osm_id in enumerate(ways["osm_id"].to_numpy(dtype=object)):
        for s in ("left", "right"):
            row: dict[str, object] = {"osm_id": osm_id, "side": s, "bays": int(counts.get((i, s), 0))}
            if f"parking_{s}" in ways.columns:
                row["parking"] = bool(ways[f"parking_{s}"].iloc[i])
                cap = float(ways[f"capacity_{s}"].iloc[i])
                row["capacity"] = cap
                row["difference"] = row["bays"] - cap if math.isfinite(cap) else float("nan")  # type: ignore[operator]
            rows.append(row)
    return pd.DataFrame(rows)


#: ``status`` values of :func:`enforce_capacity`'s report.
CAPACITY_STATUSES = ("capped", "capped_partly", "geometry_fits_fewer", "agrees", "not_allowed", "untagged")


def _runs(
    start: np.ndarray[Any, Any], end: np.ndarray[Any, Any], kerb: np.ndarray[Any, Any], rows: Any
) -> list[list[int]]:
    """Group bays ``rows`` into runs of touching bays on one kerb (in kerb and chainage order)."""
    order = sorted((int(i) for i in rows), key=lambda i: (str(kerb[i]), float(start[i]), i))
    runs: list[list[int]] = []
    for i in order:
        last = runs[-1][-1] if runs else None
        if last is not None and kerb[last] == kerb[i] and float(start[i]) <= float(end[last]) + 1e-3:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _surplus(
    runs: list[list[int]], mine: set[int], n: int, length: np.ndarray[Any, Any], gap_m: float | None
) -> list[int]:
    """Pick up to ``n`` bays of ``mine`` (the droppable bays of one way side) to drop; ``runs`` change.

    Each comes from an end of the run with the most bays left that ends in one of ``mine`` (ties: the first
    in kerb and chainage order); where both ends are, the far and the near end in turn, so what is left
    stays centred on its stretch. Dropping the end bay of a run only shortens the run and widens the gap to
    the next: no clearance or grouping rule can break. When no run ends in one of ``mine`` (its bays lie
    inside runs that go on beside the next way, or behind an accessible bay), a bay inside a run is dropped
    only if ``gap_m`` is given and the gap it leaves (its length) is at least ``gap_m``.
    """
    out: list[int] = []
    while len(out) < n:
        ends = [j for j, run in enumerate(runs) if run and (run[0] in mine or run[-1] in mine)]
        if ends:
            run = runs[max(ends, key=lambda j: (len(runs[j]), -j))]
            far = run[-1] in mine and (len(run) % 2 == 0 or run[0] not in mine)
            out.append(run.pop() if far else run.pop(0))
            continue
        if gap_m is None:
            break
        inner = [
            (len(run), -j, j, k)
            for j, run in enumerate(runs)
            for k in run[1:-1]
            if k in mine and float(length[k]) + 1e-3 >= gap_m
        ]
        if not inner:
            break
        _, _, j, k = max(inner)  # in the longest run, the last such bay
        i = runs[j].index(k)
        runs[j : j + 1] = [runs[j][:i], runs[j][i + 1 :]]
        out.append(k)
    return out


def enforce_capacity(
    bays: gpd.GeoDataFrame,
    ways: gpd.GeoDataFrame,
    *,
    rules: Rules | str | os.PathLike[str] | Mapping[str, Any] | None = None,
    reach_m: float = 40.0,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Hold the planned kerb bays beside each way side to its tagged ``parking:<side>:capacity``.

    In existing mode the kerb geometry can fit more bays than the mappers counted on the street (the
    carriageway is an estimate, the tag a count). Each kerb bay belongs to the way side its centre is
    nearest (as in :func:`bays_by_way_side`); where a way side has more bays than its tagged capacity, the
    surplus is dropped, one bay at a time from an end of the run (touching bays on one kerb) with the most
    bays left, so no clearance or grouping rule can break. The other bays keep their places and ids.
    Where the geometry fits fewer bays than tagged nothing is added: the side is reported.

    Parameters
    ----------
    bays
        ``plan.bays`` (any CRS). Bays with ``source = "separate"`` (separately mapped parking) are kept and
        not counted: their own tagged capacity applies.
    ways
        Ways frame of :func:`.streets.from_osm` with ``mode="existing"`` (``OsmData.ways``).
    rules
        The rules the bays were planned with (``plan.rules``; pass them). With them, bays of an
        ``accessible`` bay type are counted but never dropped (dropping a standard bay never raises what
        a quota asks for), ``motorcycle`` bays are neither counted nor dropped, and where a way side's
        bays lie inside runs that go on beside the next way, a bay inside a run is dropped when the rules
        have no ``[grouping]`` or when the gap it leaves is at least its ``gap_m``. Without them every bay
        counts and may go, and only run ends are dropped; a surplus left inside runs is reported
        (``capped_partly``).
    reach_m
        Farthest a bay's centre may be from its way (metres).

    Returns
    -------
    bays : geopandas.GeoDataFrame
        ``bays`` without the dropped bays (same columns and CRS, index reset).
    report : pandas.DataFrame
        One row per way side: ``osm_id``, ``side``, ``parking`` (allowed by the tags), ``capacity``
        (tagged, NaN when not), ``bays_geometry`` (kerb bays placed before capping), ``bays_kept``,
        ``dropped`` and ``status``: ``capped`` (more bays than tagged: dropped down to the capacity),
        ``capped_partly`` (more bays than tagged, and not all of the surplus could be dropped without
        leaving a gap inside a run or dropping an accessible bay), ``geometry_fits_fewer`` (fewer bays
        than tagged), ``agrees``, ``not_allowed`` (a capacity tagged on a side the tags do not allow
        parking on, with no bays) or ``untagged``.

    Raises
    ------
    parkplan.errors.ArgumentError
        ``ways`` has no ``capacity_left`` / ``capacity_right`` columns (not read in existing mode).

    Examples
    --------
    >>> osm = parkplan.from_osm(path, mode="existing")  # doctest: +SKIP
    >>> ways = osm.ways  # doctest: +SKIP
    >>> plan = parkplan.plan(osm.kerbs, osm.hazards, ways=ways)  # doctest: +SKIP
    >>> capped, report = enforce_capacity(plan.bays, ways, rules=plan.rules)  # doctest: +SKIP
    >>> plan = apply_capacity(plan, ways)  # doctest: +SKIP
    """
    if not {"capacity_left", "capacity_right"} <= set(ways.columns):
        raise ArgumentError(
            "enforce_capacity: ways must be the ways of from_osm(..., mode='existing') (OsmData.ways), "
            "with capacity_left / capacity_right columns",
            argument="ways",
        )
    gap_m: float | None = None
    role = np.full(len(bays), "standard", dtype=object)
    if rules is not None:
        rule_set = load_rules(rules)
        gap_m = rule_set.grouping.gap_m if rule_set.grouping is not None else 0.0
        if "bay_type" in bays.columns:
            roles = {b.name: b.role for b in rule_set.bays}
            role = np.array([roles.get(t, "standard") for t in bays["bay_type"]], dtype=object)
    kerb_bay = np.ones(len(bays), dtype=bool)
    if "source" in bays.columns:
        kerb_bay = bays["source"].fillna("kerb").to_numpy(dtype=object) == "kerb"
    way, side = _way_sides(bays, ways, reach_m)
    way = np.where(kerb_bay & (role != "motorcycle"), way, -1)
    curb = bays["curb_id"].to_numpy(dtype=object) if "curb_id" in bays.columns else np.zeros(len(bays))
    start = bays["start_m"].to_numpy(dtype=float)
    end = bays["end_m"].to_numpy(dtype=float)
    runs = _runs(start, end, curb, np.flatnonzero(kerb_bay))
    drop = np.zeros(len(bays), dtype=bool)
    rows: list[dict[str, object]] = []
    for i, osm_id in enumerate(ways["osm_id"].to_numpy(dtype=object)):
        for s in ("left", "right"):
            mine = np.flatnonzero((way == i) & (side == s))
            cap = float(ways[f"capacity_{s}"].iloc[i])
            allowed = bool(ways[f"parking_{s}"].iloc[i]) if f"parking_{s}" in ways.columns else True
            limit = math.floor(cap + 1e-9) if math.isfinite(cap) else None
            n = len(mine)
            dropped = 0
            if limit is None:
                status = "untagged"
            elif n > limit:
                droppable = set(mine[role[mine] != "accessible"].tolist())
                gone = _surplus(runs, droppable, n - limit, end - start, gap_m)
                drop[gone] = True
                dropped = len(gone)
                status = "capped" if n - dropped == limit else "capped_partly"
            elif not allowed and n == 0:
                status = "not_allowed"
            else:
                status = "agrees" if n == limit else "geometry_fits_fewer"
            rows.append(
                {
                    "osm_id": osm_id,
                    "side": s,
                    "parking": allowed,
                    "capacity": cap,
                    "bays_geometry": n,
                    "bays_kept": n - dropped,
                    "dropped": dropped,
                    "status": status,
                }
            )
    kept = bays.loc[~drop].reset_index(drop=True)
    return gpd.GeoDataFrame(kept, geometry=bays.geometry.name, crs=bays.crs), pd.DataFrame(rows)


def capacity_summary(report: pd.DataFrame) -> CapacityReport:
    """Sum up :func:`enforce_capacity`'s report for a plan summary or a printout.

    Parameters
    ----------
    report
        The report frame of :func:`enforce_capacity`.

    Returns
    -------
    CapacityReport
        ``way_sides_tagged`` (sides with a tagged capacity), one count per status other than ``untagged``
        (:data:`CAPACITY_STATUSES`), ``disagree`` (``capped`` + ``capped_partly`` +
        ``geometry_fits_fewer``: the geometry and the tag give different numbers) and ``bays_dropped``;
        read as a mapping too (``counts["capped"]``), and the summary's ``capacity`` block
        (:meth:`parkplan.pipeline.Plan.with_capacity`).
    """
    status = report["status"].value_counts()
    counts = {s: int(status.get(s, 0)) for s in CAPACITY_STATUSES if s != "untagged"}
    return CapacityReport(
        way_sides_tagged=int((report["status"] != "untagged").sum()),
        **counts,
        disagree=counts["capped"] + counts["capped_partly"] + counts["geometry_fits_fewer"],
        bays_dropped=int(report["dropped"].sum()),
    )


FALLBACK_PITCH_M = {"parallel": 5.2, "angled": 3.1, "perpendicular": 2.5}
"""Kerb length per car by orientation when the rules have no such bay type: the constants of the Berlin
street-parking analyses (field-survey.md: 4.4 m car + 0.8 m gap parallel; about 54 degrees diagonal)."""

FALLBACK_DEPTH_M = {"parallel": 2.0, "angled": 4.5, "perpendicular": 5.0}
"""Bay depth by orientation for parking mapped as a line, when the rules have no such bay type (RASt/RAR)."""


def separate_bays(parking: gpd.GeoDataFrame, rules: Rules | str | None = None) -> gpd.GeoDataFrame:
    """Build the bays of separately mapped street-side parking (``parking`` of :func:`.streets.from_osm`).

    Each area's minimum rotated rectangle gives its long side (along the kerb) and its depth. It holds its
    tagged ``capacity``, else as many bays as the long side fits at the pitch of the rules' first bay type
    of the tagged orientation (``parallel`` when not tagged; when the rules have no bay type of that
    orientation, the Berlin street-parking analyses' pitches in :data:`FALLBACK_PITCH_M`). The bays divide
    the rectangle evenly along its long side. Lines (parking mapped as a line) are treated as a rectangle
    one bay deep on their left. Every bay has ``source = "separate"``;
    these are mapped facts, so the optimiser does not move them, and the kerb beside them is kept free.

    Returns
    -------
    geopandas.GeoDataFrame
        Bay polygons in EPSG:4326 with ``bay_id`` (``<osm_id>#<n>``), ``osm_id``, ``orientation``,
        ``bay_type``, ``source``, ``capacity_tagged``.
    """
    rule_set = load_rules(rules)
    if len(parking) == 0:
        return gpd.GeoDataFrame(
            {
                "bay_id": [],
                "osm_id": [],
                "orientation": [],
                "bay_type": [],
                "source": [],
                "capacity_tagged": [],
            },
            geometry=[],
            crs="EPSG:4326",
        )
    crs = utm_zone_crs(parking.to_crs(4326))
    frame = parking.to_crs(crs)
    rows: list[dict[str, object]] = []
    polys: list[object] = []
    for r in frame.itertuples(index=False):
        orientation = {"diagonal": "angled"}.get(str(r.orientation), str(r.orientation))
        if orientation not in FALLBACK_PITCH_M:
            orientation = "parallel"
        bay = next((b for b in rule_set.bays if b.orientation == orientation), None)
        pitch = bay.pitch_m if bay is not None else FALLBACK_PITCH_M[orientation]
        depth = bay.depth_m if bay is not None else FALLBACK_DEPTH_M[orientation]
        name = bay.name if bay is not None else orientation
        geom = r.geometry
        if shapely.get_type_id(geom) in (1, 5):  # a line: one bay deep on its left
            geom = shapely.buffer(geom, depth, single_sided=True, cap_style="flat")
        rect = shapely.oriented_envelope(geom)
        c = shapely.get_coordinates(rect)[:4]
        e1, e2 = c[1] - c[0], c[2] - c[1]
        along, across = (e1, e2) if np.hypot(*e1) >= np.hypot(*e2) else (e2, e1)
        origin = c[0] if np.hypot(*e1) >= np.hypot(*e2) else c[1]
        length = float(np.hypot(*along))
        tagged = float(r.capacity)
        n = int(tagged) if math.isfinite(tagged) and tagged > 0 else int((length + 1e-3) // pitch)
        for i in range(n):
            p0 = origin + along * (i / n)
            p1 = origin + along * ((i + 1) / n)
            polys.append(shapely.Polygon([p0, p1, p1 + across, p0 + across]))
            rows.append(
                {
                    "bay_id": f"{r.osm_id}#{i}",
                    "osm_id": r.osm_id,
                    "orientation": orientation,
                    "bay_type": name,
                    "source": "separate",
                    "capacity_tagged": tagged,
                }
            )
    out = gpd.GeoDataFrame(rows, geometry=polys, crs=crs)
    return out.to_crs(4326)
