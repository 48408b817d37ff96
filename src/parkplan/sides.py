"""Which sides of a street may have bays: the rules' cross-section table and minimum clear width.

A street is the set of kerbs sharing a ``street_id`` (a kerb without one is a street of its own); its
sides are the kerbs' ``side`` values (without ``side``: told apart by geometry, see ``_side_keys``). From the
carriageway ``width_m`` and ``oneway`` of its kerbs, the rules say how many sides may park:

* the ``[cross_section]`` table (China, GA/T 850: two-way >= 12 m both sides, 8-12 m one side, < 8 m
  none; one-way >= 9 / 6-9 / < 6 m);
* ``min_clear_width_m`` (Japan, 3.5 m): as many sides as leave that much carriageway beside bays of
  the deepest type.

Where fewer sides may park than the street has, the side(s) whose free kerb holds the most bays keep
them (the exact optimum of each side, from the presolve), ties to the side listed first; the other
kerbs become ``cross_section`` zones. A street whose kerbs give no width is not limited; the summary
counts such streets.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from parkplan.rules import Rules
from parkplan.solve import solve_stretches

__all__ = ["SideChoice", "cross_section_zones"]


@dataclass
class SideChoice:
    """What the cross-section rule did: forbidden kerbs as zones, and counts for the summary."""

    zones: pd.DataFrame
    streets_limited: int
    streets_without_width: int
    kerbs_closed: int


def _allowed_sides(width: float, oneway: bool, rules: Rules) -> int:
    cs = rules.cross_section
    assert cs is not None
    sides = cs.sides(width, oneway) if (cs.two_way or cs.one_way) else 2
    if cs.min_clear_width_m is not None and np.isfinite(width):
        depth = max(b.depth_m for b in rules.bays)
        by_clear = max((n for n in (0, 1, 2) if width - n * depth + 1e-9 >= cs.min_clear_width_m), default=0)
        sides = min(sides, by_clear)
    return sides


def _side_keys(kerbs: gpd.GeoDataFrame, street_key: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Name the side of its street each kerb is on.

    The input's ``side`` where given. Otherwise by geometry: a kerb whose middle lies within half the
    carriageway width (at least 1 m) of the line through the ends of its street's first kerb is on
    that kerb's side ("a"), any other on the far side ("b"). This tells the two edges apart however
    they were digitised.
    """
    side_col = kerbs["side"].to_numpy(dtype=object)
    geoms = np.asarray(kerbs.geometry.values, dtype=object)
    coords = [np.asarray(g.coords) for g in geoms]
    keys = np.empty(len(kerbs), dtype=object)
    first_of: dict[str, int] = {}
    for i, key in enumerate(street_key):
        if side_col[i] is not None:
            keys[i] = str(side_col[i])
            continue
        j = first_of.setdefault(str(key), i)
        p, q = coords[j][0], coords[j][-1]
        mid = coords[i][len(coords[i]) // 2] if len(coords[i]) > 2 else coords[i].mean(axis=0)
        d = q - p
        span = float(np.hypot(d[0], d[1])) or 1.0
        offset = abs(d[0] * (mid[1] - p[1]) - d[1] * (mid[0] - p[0])) / span
        half = width[i] / 2.0 if np.isfinite(width[i]) else 1.0
        keys[i] = "a" if offset < max(half, 1.0) else "b"
    return keys


def cross_section_zones(
    kerbs: gpd.GeoDataFrame,
    stretches: pd.DataFrame,
    rules: Rules,
    kerb_types: np.ndarray | None = None,
) -> SideChoice:
    """Close the kerbs the cross-section rule takes out.

    Parameters
    ----------
    kerbs
        Kerb table (``street_id``, ``width_m``, ``oneway``, ``length_m``; ``side`` if the input had it).
    stretches
        Free stretches after the hazard zones (``kerb``, ``length_m``).
    rules
        Rules with a ``cross_section``.
    kerb_types
        Bay types each kerb may hold (kerbs x types); ``None``: all.

    Returns
    -------
    SideChoice
        Zones of kind ``cross_section`` covering whole kerbs, and counts.
    """
    columns = ["kerb", "start_m", "end_m", "hazard_start_m", "hazard_end_m", "kind", "hazard_id", "rule"]
    empty = SideChoice(pd.DataFrame({c: [] for c in columns}), 0, 0, 0)
    if rules.cross_section is None or len(kerbs) == 0:
        return empty
    n = len(kerbs)
    street = kerbs["street_id"].to_numpy(dtype=object)
    curb = kerbs["curb_id"].to_numpy(dtype=object)
    street_key = np.array(
        [f"street:{s}" if s is not None else f"kerb:{c}" for s, c in zip(street, curb, strict=True)]
    )
    width = kerbs["width_m"].to_numpy(dtype=float)
    side_key = _side_keys(kerbs, street_key, width)
    oneway = np.array([bool(v) if v is not None else False for v in kerbs["oneway"].to_numpy(dtype=object)])

    # Exact optimum of every free stretch on its own, summed per kerb.
    allowed = None if kerb_types is None else kerb_types[stretches["kerb"].to_numpy(dtype=np.int64)]
    solution = solve_stretches(stretches["length_m"].to_numpy(dtype=float), rules, allowed=allowed)
    weights = np.array([b.weight for b in rules.bays])
    blocks = solution.blocks
    value = np.zeros(len(stretches))
    np.add.at(
        value,
        blocks["stretch"].to_numpy(dtype=np.int64),
        blocks["count"].to_numpy() * weights[blocks["type"].to_numpy(dtype=np.int64)],
    )
    kerb_value = np.zeros(n)
    np.add.at(kerb_value, stretches["kerb"].to_numpy(dtype=np.int64), value)

    frame = pd.DataFrame(
        {
            "street": street_key,
            "side": side_key,
            "width": width,
            "oneway": oneway,
            "value": kerb_value,
            "kerb": np.arange(n),
        }
    )
    closed: list[tuple[int, str]] = []
    limited = without_width = 0
    for _, grp in frame.groupby("street", sort=True):
        widths = grp["width"].to_numpy()
        if not np.isfinite(widths).any():
            without_width += 1
            continue
        allowed = _allowed_sides(float(np.nanmin(widths)), bool(grp["oneway"].any()), rules)
        per_side = grp.groupby("side", sort=False)["value"].sum()
        if allowed >= len(per_side):
            continue
        limited += 1
        keep = set(per_side.sort_values(ascending=False, kind="stable").index[:allowed])
        why = (
            f"{rules.name}: cross-section allows {allowed} side(s) on a "
            f"{'one-way' if grp['oneway'].any() else 'two-way'} carriageway {np.nanmin(widths):g} m wide"
        )
        closed += [(int(k), why) for k, s in zip(grp["kerb"], grp["side"], strict=True) if s not in keep]
    if not closed:
        return SideChoice(empty.zones, limited, without_width, 0)
    k = np.array([c[0] for c in closed], dtype=np.int64)
    length = kerbs["length_m"].to_numpy(dtype=float)[k]
    zones = pd.DataFrame(
        {
            "kerb": k,
            "start_m": 0.0,
            "end_m": length,
            "hazard_start_m": 0.0,
            "hazard_end_m": length,
            "kind": "cross_section",
            "hazard_id": [f"street:{street[i]}" if street[i] is not None else f"kerb:{curb[i]}" for i in k],
            "rule": [c[1] for c in closed],
        }
    )
    return SideChoice(zones, limited, without_width, len(k))
