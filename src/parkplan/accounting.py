"""Where every metre of kerb went, what the hazards did, and the plan's summary.

The per-kerb accounting (``length_m = bay_m + gap_m + lost_m + leftover_m``, ``lost_m`` split into
``lost_<kind>_m``), the hazard counts, and :class:`Summary`: the typed, frozen summary of a plan, which
reads as the mapping of its JSON form (``plan.summary["bays"]["total"]``) and as attributes
(``plan.summary.bays.total``).

Each block of the summary is a small frozen dataclass with a ``to_json`` method giving exactly the
keys, order and values the summary file holds; each block (and :class:`Summary`) is also a read-only
:class:`collections.abc.Mapping` over that JSON form. Reading a key gives a fresh plain value (``dict``,
``list``, number, string): changing it changes nothing in the plan. A summary is never changed once
built: :class:`parkplan.pipeline.Plan`'s methods and its writing make new ones
(:func:`dataclasses.replace`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from parkplan.io.read import text_column
from parkplan.optimize.solve import Solution, to_mm
from parkplan.rules.loading import Rules

__all__ = [
    "BaselineReport",
    "BayReport",
    "CapacityReport",
    "CrossSectionReport",
    "FrozenMap",
    "HazardFeature",
    "HazardReport",
    "KeepReport",
    "KerbReport",
    "KindReport",
    "SolverReport",
    "Summary",
    "WrittenReport",
    "baseline",
    "bay_report",
    "freeze",
    "hazard_report",
    "kerb_account",
    "kerbs_table",
    "kind_rank",
    "lost_by_kind",
    "summarize",
    "to_json",
    "width_sources",
    "without_bays",
    "without_zone_warning",
    "zone_account",
]

V = TypeVar("V")


# --- read-only values ---------------------------------------------------------------------------------


class FrozenMap(Mapping[str, V]):
    """A mapping that cannot be changed (counts by name in a summary); it pickles, unlike a proxy.

    Parameters
    ----------
    items
        The pairs, in the order they keep.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, V] | Iterable[tuple[str, V]] = ()) -> None:
        self._items: dict[str, V] = dict(items)

    def __getitem__(self, key: str) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"

    def __getstate__(self) -> dict[str, V]:
        return self._items

    def __setstate__(self, state: dict[str, V]) -> None:
        self._items = state


def freeze(value: Any) -> Any:
    """Return ``value`` read-only, all the way down: mappings as :class:`FrozenMap`, lists as tuples."""
    if isinstance(value, Mapping):
        return FrozenMap((str(k), freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def to_json(value: Any) -> Any:
    """Return the plain JSON form of a summary value: blocks and mappings as dicts, sequences as lists."""
    if isinstance(value, _Block):
        return value.to_json()
    if isinstance(value, Mapping):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


class _Block(Mapping[str, Any]):
    """A block of the summary: a frozen dataclass, read as the mapping of its JSON form (:meth:`to_json`).

    Every read is a fresh plain value: ``block["by_type"]`` is a new ``dict`` each time.
    """

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        """Return the block as the summary file holds it (keys in order, plain values)."""
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        return self.to_json()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_json())

    def __len__(self) -> int:
        return len(self.to_json())


def _fields_json(block: Any, leave_out_none: Sequence[str] = ()) -> dict[str, Any]:
    """Return the dataclass ``block``'s fields in order, as JSON; ``leave_out_none`` ones only when set."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(block):
        value = getattr(block, f.name)
        if value is None and f.name in leave_out_none:
            continue
        out[f.name] = to_json(value)
    return out


# --- the summary's blocks -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class KerbReport(_Block):
    """The ``kerbs`` block: how many kerbs, how long, and what was drawn as kerb.

    ``orientation_given`` and ``orientation_without_bay_type`` are there only when some kerb has an
    ``orientation``; ``width_source`` only when the ways lent the kerbs their widths.
    """

    count: int
    length_m: float
    corners: int
    input_features: int
    drawn_m: float
    outside_extent_m: float
    orientation_given: int | None = None
    orientation_without_bay_type: int | None = None
    width_source: Mapping[str, int] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the block as the summary file holds it."""
        out: dict[str, Any] = {
            "count": self.count,
            "length_m": self.length_m,
            "corners": self.corners,
            "input_features": self.input_features,
        }
        if self.orientation_given is not None:
            out["orientation_given"] = self.orientation_given
            out["orientation_without_bay_type"] = self.orientation_without_bay_type
        out["drawn_m"] = self.drawn_m
        if self.width_source is not None:
            out["width_source"] = to_json(self.width_source)
        out["outside_extent_m"] = self.outside_extent_m
        return out


@dataclass(frozen=True, eq=False)
class BayReport(_Block):
    """The ``bays`` block: how many bays, by type and by orientation.

    Attributes
    ----------
    fragments
        Motorcycle bays put in fragments too short for a car (rules with a motorcycle type only).
    removed
        Bays taken out after planning by reason (:meth:`parkplan.pipeline.Plan.keeping`), in the order
        of the first removal of each reason: one key each in the JSON, after ``fragments``.
    separate
        Separately mapped bays added (:meth:`parkplan.pipeline.Plan.with_separate`).
    """

    total: int
    by_type: Mapping[str, int]
    by_orientation: Mapping[str, int]
    fragments: int | None = None
    removed: Mapping[str, int] = field(default_factory=FrozenMap)
    separate: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the block as the summary file holds it."""
        out: dict[str, Any] = {
            "total": self.total,
            "by_type": dict(self.by_type),
            "by_orientation": dict(self.by_orientation),
        }
        if self.fragments is not None:
            out["fragments"] = self.fragments
        out.update(self.removed)
        if self.separate is not None:
            out["separate"] = self.separate
        return out


@dataclass(frozen=True, eq=False)
class SolverReport(_Block):
    """The ``solver`` block: the proof status, objective, bound and gap (docs/model.md)."""

    status: str
    objective: float
    best_bound: float
    gap: float
    presolved_stretches: int
    models: int
    not_optimal: tuple[Mapping[str, Any], ...]

    @classmethod
    def of(cls, solution: Solution) -> SolverReport:
        """Report ``solution``'s status and values."""
        return cls(
            status=solution.status,
            objective=solution.objective,
            best_bound=solution.bound,
            gap=solution.gap,
            presolved_stretches=solution.n_presolved,
            models=solution.n_models,
            not_optimal=freeze(solution.model_statuses),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the block as the summary file holds it."""
        return _fields_json(self)


@dataclass(frozen=True, eq=False)
class KindReport(_Block):
    """The hazards of one kind: ``total``, ``matched``, ``unmatched`` (and ``matched_without_zone``)."""

    total: int
    matched: int
    unmatched: int
    matched_without_zone: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the counts as the summary file holds them."""
        return _fields_json(self, ("matched_without_zone",))


@dataclass(frozen=True, eq=False)
class HazardFeature(_Block):
    """One hazard named in the summary's lists."""

    hazard_id: str
    kind: str
    source: str

    def to_json(self) -> dict[str, Any]:
        """Return the hazard as the summary file holds it."""
        return _fields_json(self)


@dataclass(frozen=True, eq=False)
class HazardReport(_Block):
    """The ``hazards`` block (:func:`hazard_report`)."""

    total: int
    matched: int
    unmatched: int
    matched_without_zone: int
    by_kind: Mapping[str, KindReport]
    unmatched_features: tuple[HazardFeature, ...]
    without_zone_features: tuple[HazardFeature, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the block as the summary file holds it."""
        return _fields_json(self)


@dataclass(frozen=True, eq=False)
class CrossSectionReport(_Block):
    """The ``cross_section`` block: the choice of sides and depths (:func:`parkplan.sides.decide`)."""

    strategy: str
    facing_pairs: int
    kerbs_closed: int
    kerbs_without_width: int
    choice_models: int
    kerbs_by_depth_m: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        """Return the block as the summary file holds it."""
        return _fields_json(self)


@dataclass(frozen=True, eq=False)
class BaselineReport(_Block):
    """The ``baseline`` block: the subtractive method's count on this plan's free stretches."""

    subtractive_bays: int
    bay_type: str
    pitch_m: float
    method: str = "each free stretch of this plan divided by the bay's kerb length, no grouping"

    def to_json(self) -> dict[str, Any]:
        """Return the block as the summary file holds it."""
        return _fields_json(self)


@dataclass(frozen=True, eq=False)
class KeepReport(_Block):
    """The ``keep`` block: existing bays kept in place (:func:`parkplan.keep.keep_layout`)."""

    existing_features: int
    existing: int
    kept: int
    restriped: int
    removed: int
    stretches_not_kept: int

    def to_json(self) -> dict[str, Any]:
        """Return the block as the summary file holds it."""
        return _fields_json(self)


@dataclass(frozen=True, eq=False)
class CapacityReport(_Block):
    """The ``capacity`` block: the way sides' tagged capacity against the plan.

    ``way_sides_tagged`` (sides with a tagged capacity), one count per status of
    :func:`parkplan.osm.existing.enforce_capacity` other than ``untagged``, ``disagree`` (``capped`` +
    ``capped_partly`` + ``geometry_fits_fewer``) and ``bays_dropped``.
    """

    way_sides_tagged: int
    capped: int
    capped_partly: int
    geometry_fits_fewer: int
    agrees: int
    not_allowed: int
    disagree: int
    bays_dropped: int

    def to_json(self) -> dict[str, Any]:
        """Return the block as the summary file holds it."""
        return _fields_json(self)


@dataclass(frozen=True, eq=False)
class WrittenReport(_Block):
    """What the writer did to one layer (:func:`parkplan.io.write.dump_layer`)."""

    features: int
    repaired: int
    left_out: int

    def to_json(self) -> dict[str, Any]:
        """Return the counts as the summary file holds them."""
        return _fields_json(self)


_OPTIONAL = ("keep", "quotas", "capacity", "written")


@dataclass(frozen=True, eq=False)
class Summary(_Block):
    """The summary of a plan: frozen, typed, and read as the mapping of its JSON form.

    ``summary["bays"]["total"]`` and ``summary.bays.total`` are the same number; the first is a fresh
    plain ``dict`` each time (JSON as written by :meth:`parkplan.pipeline.Plan.write`), the second the
    typed block. :meth:`to_json` is the whole document. ``keep``, ``quotas``, ``capacity`` and
    ``written`` are there only when set (``None`` otherwise, and absent from the mapping).

    Attributes
    ----------
    rules, traffic, crs
        The rule set's name, its traffic side, the working CRS.
    kerbs, bays, solver, hazards, cross_section, baseline
        The blocks of the same names.
    warnings
        Messages such as repaired polygons or empty hazard files (also logged).
    timings_s
        Seconds per stage (``read``, ``kerbs``, ``intervals``, ``model_build``, ``solve``, ``quotas``,
        ``layout``; ``write`` in the summary as written).
    keep
        With ``keep=``: the existing bays kept.
    quotas
        With a ``[quotas]`` rule or loading demand: as :func:`parkplan.quotas.apply_quotas` reports it.
    capacity
        In existing mode: the tagged capacity (:meth:`parkplan.pipeline.Plan.with_capacity`).
    written
        In the summary as written: per layer, what the writer repaired or left out.
    """

    rules: str
    traffic: str
    crs: str
    kerbs: KerbReport
    bays: BayReport
    solver: SolverReport
    hazards: HazardReport
    warnings: tuple[str, ...]
    timings_s: Mapping[str, float]
    cross_section: CrossSectionReport
    baseline: BaselineReport
    keep: KeepReport | None = None
    quotas: Mapping[str, Any] | None = None
    capacity: CapacityReport | None = None
    written: Mapping[str, WrittenReport] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the whole summary as its JSON file holds it."""
        return _fields_json(self, _OPTIONAL)

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys():
            raise KeyError(key)
        return to_json(getattr(self, key))

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def _keys(self) -> list[str]:
        return [
            f.name
            for f in dataclasses.fields(self)
            if not (f.name in _OPTIONAL and getattr(self, f.name) is None)
        ]

    def after_writing(self, write_s: float, written: Mapping[str, WrittenReport]) -> Summary:
        """Return this summary as written: with the seconds of the writing and what it did per layer."""
        timings = FrozenMap({**self.timings_s, "write": write_s})
        return dataclasses.replace(self, timings_s=timings, written=FrozenMap(written))


# --- per-kerb accounting ------------------------------------------------------------------------------


def kind_rank(rules: Rules) -> dict[str, int]:
    """Rank of each hazard kind when zones overlap: the order of ``rules.kinds`` (lower wins)."""
    return {k: i for i, k in enumerate(rules.kinds)}


def lost_by_kind(zones: pd.DataFrame, n_kerbs: int, rules: Rules) -> pd.DataFrame:
    """Metres of each kerb lost to each kind of hazard; overlaps go to one reason only.

    Where zones overlap, a hazard's own extent wins over a clearance, then kinds in the order of
    ``parkplan/rules/kinds.toml`` (rules' own kinds after them). The kerb is cut at every zone end into
    elementary pieces; each piece goes to the winning zone that covers it.
    """
    if len(zones) == 0:
        return pd.DataFrame(index=pd.RangeIndex(n_kerbs))
    rank = kind_rank(rules)
    codes, uniq = pd.factorize(zones["kind"], sort=False)
    kinds = sorted(uniq, key=lambda k: rank.get(k, len(rank)))
    kind_code = {k: i for i, k in enumerate(kinds)}
    code = np.array([kind_code[k] for k in uniq], dtype=np.int64)[codes]
    kerb = zones["kerb"].to_numpy(dtype=np.int64)
    start = zones["start_m"].to_numpy(dtype=float)
    end = zones["end_m"].to_numpy(dtype=float)
    # A zone that overlaps no other zone of its kerb loses its whole length to its own kind (most zones;
    # found in one pass when the zones are in kerb and start order, as the plan keeps them).
    alone = np.zeros(len(zones), dtype=bool)
    if len(zones) > 1:
        nxt = (kerb[1:] > kerb[:-1]) | ((kerb[1:] == kerb[:-1]) & (start[1:] >= start[:-1]))
        if nxt.all():
            offset = (kerb - kerb.min()).astype(float) * (float(end.max() - start.min()) + 1.0) * 4.0
            run_end = np.maximum.accumulate(end + offset) - offset  # furthest end so far on the kerb
            clear_before = np.ones(len(zones), dtype=bool)
            clear_before[1:] = (kerb[1:] != kerb[:-1]) | (start[1:] >= run_end[:-1])
            clear_after = np.ones(len(zones), dtype=bool)
            clear_after[:-1] = clear_before[1:]
            alone = clear_before & clear_after
    n_kinds = len(kinds)
    # Metres per (kerb, kind) cell, summed in one pass at the end (the lone zones first, then the pieces).
    cells = [kerb[alone] * n_kinds + code[alone]]
    metres = [end[alone] - start[alone]]
    rest = ~alone
    # Sub-intervals: own extent (priority = kind) and the whole zone (priority = kind + kinds); lower wins.
    sk = np.concatenate([kerb[rest], kerb[rest]])
    s0 = np.concatenate([zones["hazard_start_m"].to_numpy(dtype=float)[rest], start[rest]])
    s1 = np.concatenate([zones["hazard_end_m"].to_numpy(dtype=float)[rest], end[rest]])
    prio = np.concatenate([code[rest], code[rest] + n_kinds])
    ok = s1 > s0
    sk, s0, s1, prio = sk[ok], s0[ok], s1[ok], prio[ok]
    if len(sk):
        # Elementary pieces: between consecutive distinct cut points of a kerb (keys kerb * stride + x,
        # the same arithmetic for both ends, so equal cut points give equal keys; each kerb's keys lie
        # apart from the next kerb's). One sort numbers the cuts; piece i runs from cut i to cut i + 1.
        stride = float(max(s1.max(), 0.0)) + 1.0
        keys = np.concatenate([sk * stride + s0, sk * stride + s1])
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        new = np.ones(len(keys), dtype=bool)
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
        cut_of = np.empty(len(keys), dtype=np.int64)
        cut_of[order] = np.cumsum(new) - 1
        cuts = ordered[new]
        cut_kerb = np.concatenate([sk, sk])[order][new]
        first, stop = cut_of[: len(sk)], cut_of[len(sk) :]  # pieces first .. stop - 1
        n_pieces = stop - first
        # Every (interval, piece) pair, in 32-bit integers where they fit (a city has tens of millions).
        small = np.int32 if int(n_pieces.sum()) < 2**31 and len(cuts) < 2**31 else np.int64
        owner = np.repeat(np.arange(len(sk), dtype=small), n_pieces)
        piece = np.arange(len(owner), dtype=small) - np.repeat(
            (np.cumsum(n_pieces) - n_pieces - first).astype(small), n_pieces
        )
        none = np.iinfo(np.int16).max
        best = np.full(len(cuts), none, dtype=np.int16)
        np.minimum.at(best, piece, prio.astype(np.int16)[owner])
        covered = np.flatnonzero(best != none)
        cells.append(cut_kerb[covered] * n_kinds + best[covered].astype(np.int64) % n_kinds)
        metres.append(cuts[covered + 1] - cuts[covered])
    total = np.bincount(np.concatenate(cells), weights=np.concatenate(metres), minlength=n_kerbs * n_kinds)
    out = total.reshape(n_kerbs, n_kinds)
    return pd.DataFrame(out, columns=[f"lost_{k}_m" for k in kinds])


def zone_account(
    kerbs: gpd.GeoDataFrame, zones: pd.DataFrame, stretches: pd.DataFrame, rules: Rules
) -> pd.DataFrame:
    """Each kerb's length, free length and losses: ``length_m``, ``free_m``, ``lost_m``, ``lost_<kind>_m``."""
    lengths = kerbs["length_m"].to_numpy(dtype=float)
    free = np.zeros(len(kerbs))
    np.add.at(free, stretches["kerb"].to_numpy(dtype=np.int64), stretches["length_m"].to_numpy(dtype=float))
    account = pd.DataFrame({"length_m": lengths, "free_m": free, "lost_m": np.round(lengths - free, 3)})
    return pd.concat([account, lost_by_kind(zones, len(kerbs), rules).round(3)], axis=1)


def kerb_account(zone_account: pd.DataFrame, placed: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Each kerb's account: ``bays``, ``bay_m``, ``gap_m``, ``lost_m``, ``leftover_m``, ``lost_<kind>_m``.

    ``zone_account`` is :func:`zone_account` of the same kerbs.
    """
    n = len(zone_account)
    free = zone_account["free_m"].to_numpy(dtype=float)
    bays = np.zeros(n, dtype=np.int64)
    bay_m = np.zeros(n)
    gap_m = np.zeros(n)
    if len(placed):
        k = placed["kerb"].to_numpy(dtype=np.int64)
        st = placed["stretch"].to_numpy(dtype=np.int64)
        run = placed["run"].to_numpy(dtype=np.int64)
        lo = np.minimum(placed["start_m"].to_numpy(dtype=float), placed["far_start_m"].to_numpy(dtype=float))
        hi = np.maximum(placed["end_m"].to_numpy(dtype=float), placed["far_end_m"].to_numpy(dtype=float))
        step = np.diff(st)
        if ((step < 0) | ((step == 0) & (np.diff(run) < 0))).any():
            order = np.lexsort((run, st))
            k, st, run, lo, hi = k[order], st[order], run[order], lo[order], hi[order]
        bays = np.bincount(k, minlength=n)
        # Each run (bays of one stretch and run number, now consecutive) spans its lowest to highest
        # chainage; each stretch's runs are apart by the grouping gap.
        new_run = np.ones(len(k), dtype=bool)
        new_run[1:] = (st[1:] != st[:-1]) | (run[1:] != run[:-1])
        first = np.flatnonzero(new_run)
        span = np.maximum.reduceat(hi, first) - np.minimum.reduceat(lo, first)
        bay_m = np.bincount(k[first], weights=span, minlength=n).astype(float, copy=False)
        run_st = st[first]
        new_st = np.ones(len(first), dtype=bool)
        new_st[1:] = run_st[1:] != run_st[:-1]
        st_first = np.flatnonzero(new_st)
        n_runs = np.diff(np.append(st_first, len(first)))
        gap = 0.0 if rules.grouping is None else rules.grouping.gap_m
        gap_m = np.bincount(k[first][st_first], weights=(n_runs - 1) * gap, minlength=n).astype(
            float, copy=False
        )
    leftover = np.maximum(free - bay_m - gap_m, 0.0)
    account = pd.DataFrame(
        {
            "length_m": np.round(zone_account["length_m"].to_numpy(dtype=float), 3),
            "bays": bays,
            "bay_m": np.round(bay_m, 3),
            "gap_m": np.round(gap_m, 3),
            "lost_m": zone_account["lost_m"].to_numpy(dtype=float),
            "leftover_m": np.round(leftover, 3),
        }
    )
    by_kind = zone_account.drop(columns=["length_m", "free_m", "lost_m"])
    return pd.concat([account, by_kind], axis=1)


def kerbs_table(kerbs: gpd.GeoDataFrame, account: pd.DataFrame) -> gpd.GeoDataFrame:
    """Build the plan's kerbs table: each kerb's own columns and its :func:`kerb_account` (``Plan.kerbs``)."""
    n = len(kerbs)
    table = pd.DataFrame(
        {
            "curb_id": text_column(kerbs["curb_id"].to_numpy(dtype=object), n),
            "input_index": kerbs["input_index"].to_numpy(dtype=np.int64),
            "source_id": text_column(kerbs["source_id"].to_numpy(dtype=object), n),
            "street_id": text_column(kerbs["street_id"].to_numpy(dtype=object), n),
            "carriageway": text_column(kerbs["carriageway"].to_numpy(dtype=object), n),
            "flow": text_column(kerbs["flow"].to_numpy(dtype=object), n),
            "width_m": kerbs["width_m"].to_numpy(dtype=float),
            "oneway": kerbs["oneway"].to_numpy(dtype=object),
        }
    )
    main = account[["length_m", "bays", "bay_m", "gap_m", "lost_m", "leftover_m"]]
    table = pd.concat([table, main], axis=1)
    for col in ("side", "name", "highway"):
        if col in kerbs.columns and kerbs[col].notna().any():
            table[col] = kerbs[col].to_numpy(dtype=object)
    table = pd.concat([table, account.drop(columns=main.columns)], axis=1)
    return gpd.GeoDataFrame(table, geometry=kerbs.geometry.values, crs=kerbs.crs)


def without_bays(kerbs: gpd.GeoDataFrame, gone: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return a copy of the kerbs table with the kerb bays ``gone`` taken out of it.

    Each kerb's ``bays`` drops by its bays in ``gone`` and their kerb length moves from ``bay_m`` to
    ``leftover_m`` (removing bays never breaks a rule). Bays of ``gone`` with ``source`` other than
    ``"kerb"`` (separately mapped) are not on a kerb and change nothing.
    """
    if "source" in gone.columns:
        gone = gone[gone["source"].fillna("kerb") == "kerb"]
    table = kerbs.copy()
    if len(gone):
        per = (
            gone.assign(len_m=gone["end_m"] - gone["start_m"])
            .groupby("curb_id")
            .agg(n=("bay_id", "size"), m=("len_m", "sum"))
        )
        row = table["curb_id"].map(per["n"]).fillna(0).to_numpy()
        metres = table["curb_id"].map(per["m"]).fillna(0.0).to_numpy()
        table["bays"] = table["bays"].to_numpy() - row.astype(np.int64)
        table["bay_m"] = np.round(table["bay_m"].to_numpy() - metres, 3)
        table["leftover_m"] = np.round(table["leftover_m"].to_numpy() + metres, 3)
    return table


# --- hazards ------------------------------------------------------------------------------------------


def hazard_report(
    hazards: gpd.GeoDataFrame, matched_rows: np.ndarray, without_zone: np.ndarray | None = None
) -> HazardReport:
    """Count the hazards matched and unmatched, by kind, and list the unmatched features.

    ``matched_rows``: the rows of ``hazards`` matched to a kerb (repeats allowed). ``without_zone``: rows of
    hazards matched to a kerb that forbid no kerb there (no width and no clearance in these rules);
    counted as ``matched_without_zone`` and listed.
    """
    matched = np.zeros(len(hazards), dtype=bool)
    if len(matched_rows):
        matched[np.asarray(matched_rows, dtype=np.int64)] = True
    silent = np.zeros(len(hazards), dtype=bool)
    if without_zone is not None and len(without_zone):
        silent[np.asarray(without_zone, dtype=np.int64)] = True
    by_kind: dict[str, KindReport] = {}
    frame = pd.DataFrame({"kind": hazards["kind"], "m": matched, "z": silent})
    for kind, grp in frame.groupby("kind", sort=True):
        by_kind[str(kind)] = KindReport(
            total=len(grp),
            matched=int(grp["m"].sum()),
            unmatched=int((~grp["m"]).sum()),
            matched_without_zone=int(grp["z"].sum()) if grp["z"].any() else None,
        )
    return HazardReport(
        total=len(hazards),
        matched=int(matched.sum()),
        unmatched=int((~matched).sum()),
        matched_without_zone=int(silent.sum()),
        by_kind=FrozenMap(by_kind),
        unmatched_features=_features(hazards.loc[~matched]),
        without_zone_features=_features(hazards.loc[silent]),
    )


def _features(hazards: pd.DataFrame) -> tuple[HazardFeature, ...]:
    """``hazard_id``, ``kind`` and ``source`` of each hazard, for the summary's lists."""
    rows = hazards[["hazard_id", "kind", "source"]].itertuples(index=False)
    return tuple(HazardFeature(str(r.hazard_id), str(r.kind), str(r.source)) for r in rows)


def without_zone_warning(hazards: gpd.GeoDataFrame, rows: np.ndarray) -> str:
    """One line naming the matched hazards that forbid no kerb, by kind, with a few ids each."""
    picked = hazards.iloc[np.asarray(rows, dtype=np.int64)]
    parts = []
    for kind, grp in picked.groupby("kind", sort=True):
        ids = ", ".join(str(v) for v in grp["hazard_id"].head(5))
        more = f" and {len(grp) - 5} more" if len(grp) > 5 else ""
        parts.append(f"{kind} ({len(grp)}: {ids}{more})")
    return (
        f"{len(picked)} hazards matched a kerb but forbid none of it: the rules give their kind no "
        f"clearance and neither the feature nor the kind a width: {'; '.join(parts)}; add a width_m "
        "column or a [clearances.KIND] table to forbid kerb there"
    )


# --- the summary --------------------------------------------------------------------------------------


def width_sources(kerbs: gpd.GeoDataFrame) -> dict[str, int]:
    """Count the kerbs by where their width came from (``width_source``; ``"none"``: no way lent one)."""
    counts = kerbs["width_source"].astype(object).where(kerbs["width_source"].notna(), "none").value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def baseline(stretches: pd.DataFrame, rules: Rules) -> BaselineReport:
    """Count the subtractive method's bays: each free stretch of the plan over the first bay's length."""
    first = next((b for b in rules.bays if b.role == "standard"), rules.bays[0])
    free = to_mm(stretches["length_m"].to_numpy(dtype=float))
    pitch = int(np.ceil(first.pitch_m * 1000.0 - 1e-6))
    return BaselineReport(
        subtractive_bays=int((free // pitch).sum()), bay_type=first.name, pitch_m=first.pitch_m
    )


def bay_report(
    bays: pd.DataFrame,
    rules: Rules,
    *,
    fragments: int | None = None,
    removed: Mapping[str, int] | None = None,
    separate: int | None = None,
) -> BayReport:
    """Count ``bays`` by type (every type of the rules, in their order) and by orientation (sorted)."""
    return BayReport(
        total=len(bays),
        by_type=FrozenMap((b.name, int((bays["bay_type"] == b.name).sum())) for b in rules.bays),
        by_orientation=FrozenMap(
            (o, int((bays["orientation"] == o).sum())) for o in sorted({b.orientation for b in rules.bays})
        ),
        fragments=fragments,
        removed=FrozenMap(removed or {}),
        separate=separate,
    )


def summarize(
    *,
    rules: Rules,
    crs: CRS,
    kerbs: gpd.GeoDataFrame,
    input_features: int,
    drawn_m: float,
    orientation_without_bay_type: int,
    zones: pd.DataFrame,
    stretches: pd.DataFrame,
    bays: pd.DataFrame,
    solution: Solution,
    hazards: HazardReport,
    cross_section: CrossSectionReport,
    warnings: Sequence[str],
    timings_s: Mapping[str, float],
    fragments: int,
    keep: KeepReport | None = None,
    quotas: Mapping[str, Any] | None = None,
) -> Summary:
    """Put a plan's summary together.

    Parameters
    ----------
    rules, crs
        The rules and the working CRS.
    kerbs
        The kerbs table of :func:`parkplan.geometry.kerbs.build_kerbs` (after the ways lent their columns).
    input_features, drawn_m
        Features of the kerb input, and their length as drawn (all of it: what the extent left out too).
    orientation_without_bay_type
        Kerbs whose ``orientation`` no bay type of the rules has.
    zones, stretches
        The plan's forbidden zones and free stretches (in kerb rows and chainage).
    bays
        The bays placed (``bay_type``, ``orientation``).
    solution
        The solver's :class:`parkplan.optimize.solve.Solution`.
    hazards, cross_section
        The blocks of those names.
    warnings
        The messages of the run, in order.
    timings_s
        Seconds per stage (rounded here to 0.1 ms).
    fragments
        Motorcycle bays in fragments (reported with a motorcycle bay type only).
    keep, quotas
        The ``keep`` block, and the quotas' report (left out when empty).
    """
    corners = int(zones["hazard_id"].astype(str).str.startswith("corner:").sum()) if len(zones) else 0
    length_m = float(kerbs["length_m"].sum())
    given = kerbs["orientation"].notna()
    oriented = bool(given.any())
    return Summary(
        rules=rules.name,
        traffic=rules.traffic,
        crs=crs.to_string(),
        kerbs=KerbReport(
            count=len(kerbs),
            length_m=round(length_m, 3),
            corners=corners,
            input_features=input_features,
            drawn_m=round(drawn_m, 3),
            outside_extent_m=round(max(drawn_m - length_m, 0.0), 3),
            orientation_given=int(given.sum()) if oriented else None,
            orientation_without_bay_type=orientation_without_bay_type if oriented else None,
            width_source=FrozenMap(width_sources(kerbs)) if "width_source" in kerbs.columns else None,
        ),
        bays=bay_report(
            bays, rules, fragments=fragments if any(b.role == "motorcycle" for b in rules.bays) else None
        ),
        solver=SolverReport.of(solution),
        hazards=hazards,
        warnings=tuple(warnings),
        timings_s=FrozenMap((k, round(v, 4)) for k, v in timings_s.items()),
        cross_section=cross_section,
        baseline=baseline(stretches, rules),
        keep=keep,
        quotas=freeze(quotas) if quotas else None,
    )
