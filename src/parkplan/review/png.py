"""The PNG overview of a plan or a check, for a report: kerbs, zones by reason, bays by type, legend.

:func:`overview_figure` builds a matplotlib figure (Agg, no pyplot: no global state, no display) sized
for a printed page (A4 landscape, 297 x 210 mm, at 200 dpi by default): the kerbs in thin grey, the
forbidden zones coloured by kind and the bays by type (colours of :mod:`parkplan.review.style`, the same
as the HTML map's), a check's violations on top; a legend (bay types with their counts, the zone kinds
present with the kilometres of kerb each costs), a title (rules, bays, solver status), a scale bar in
metres and a north arrow. Everything is drawn in the plan's metric CRS with one collection per layer
(no Python loop over features or vertices). :func:`write_png` saves it to a path; the command line and
:meth:`parkplan.Plan.to_png` give it the temporary file of their output plan
(:class:`parkplan.io.targets.OutputPlan`), so it replaces its target only when complete.

matplotlib is imported here only, and this module only when a PNG is asked for: ``import parkplan`` and
the command line's start stay light.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from parkplan.errors import OutputError
from parkplan.io.targets import Target, document_target
from parkplan.review.style import VIOLATION_COLOUR, bay_colour, zone_colour

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "KERB_COLOUR",
    "PAGE_SIZES_MM",
    "Overview",
    "overview_figure",
    "plan_titles",
    "png_target",
    "scale_length",
    "write_png",
]

PAGE_SIZES_MM: dict[str, tuple[float, float]] = {
    "A3": (420.0, 297.0),
    "A4": (297.0, 210.0),
    "A5": (210.0, 148.0),
}
"""Landscape page sizes (width, height) in millimetres."""

MM_PER_INCH = 25.4
DPI = 200
"""Default resolution: A4 landscape at 200 dpi is 2339 x 1654 pixels."""

KERB_COLOUR = "#8c8c8c"
"""The kerbs: thin grey, the background of the plan."""

MAP_BOX = (0.02, 0.04, 0.70, 0.84)
"""The map's place on the page (left, bottom, width, height as fractions); the legend is on its right."""

BAY_FALLBACK = "#2b83ba"
"""Bays without a ``bay_type`` column (a check of any polygon layer)."""


@dataclass(frozen=True)
class Overview:
    """What the figure shows, for tests and callers: the legend's entries and the scale bar.

    Attributes
    ----------
    legend
        ``(label, colour)`` of every legend entry, in order.
    scale_m
        The scale bar's length in metres (0 when nothing is drawn).
    scale_label
        Its text (``"500 m"``, ``"2 km"``).
    """

    legend: tuple[tuple[str, str], ...]
    scale_m: float
    scale_label: str


def png_target(value: str | os.PathLike[str]) -> Target:
    """Return the output plan's target of a PNG overview (``--png``), checked before any work.

    Raises
    ------
    OutputError
        If the path is unusable or matplotlib is not installed (the file is a PNG whatever its name).
    """
    target = document_target("png", value)
    if importlib.util.find_spec("matplotlib") is None:
        raise OutputError(
            "the PNG overview needs matplotlib, which is not installed: pip install 'parkplan[map]'",
            source=str(target),
        )
    return target


def scale_length(width_m: float) -> float:
    """Return a round scale bar length (1, 2 or 5 times a power of ten) about a fifth of ``width_m``."""
    if not math.isfinite(width_m) or width_m <= 0:
        return 0.0
    target = width_m / 5
    power = 10 ** math.floor(math.log10(target))
    return float(max(m * power for m in (1, 2, 5) if m * power <= target))


def _scale_label(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def _page(size: str | tuple[float, float]) -> tuple[float, float]:
    """Width and height in inches of ``size``: a page name (landscape) or ``(width_mm, height_mm)``."""
    if isinstance(size, str):
        try:
            w, h = PAGE_SIZES_MM[size.upper()]
        except KeyError:
            raise ValueError(
                f"size must be one of {', '.join(PAGE_SIZES_MM)} or (width_mm, height_mm), not {size!r}"
            ) from None
    else:
        w, h = (float(v) for v in size)
        if not (w > 0 and h > 0 and math.isfinite(w) and math.isfinite(h)):
            raise ValueError(f"size must be positive millimetres, not {size!r}")
    return w / MM_PER_INCH, h / MM_PER_INCH


def _geometries(frame: gpd.GeoDataFrame | None) -> np.ndarray:
    """Return the frame's non-empty geometries, as a numpy object array (none for ``None``)."""
    if frame is None or len(frame) == 0:
        return np.empty(0, dtype=object)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out: np.ndarray = geoms[keep]
    return out


def _paths(geoms: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Return the vertex arrays of the lines or polygon outlines in ``geoms`` and the geometry of each.

    Multi-part geometries give one path per part; polygons give their exterior ring. Returns the paths
    and, per path, the index into ``geoms`` it came from.
    """
    if len(geoms) == 0:
        return [], np.empty(0, dtype=np.int64)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    polygonal = shapely.get_type_id(parts) == 3
    rings = np.where(polygonal, shapely.get_exterior_ring(parts), parts)
    xy, index = shapely.get_coordinates(rings, return_index=True)
    if len(xy) == 0:
        return [], np.empty(0, dtype=np.int64)
    counts = np.bincount(index, minlength=len(rings))
    paths = np.split(xy, np.cumsum(counts)[:-1])
    has = counts > 0
    return [p for p, h in zip(paths, has, strict=True) if h], owner[has]


def _colours(keys: np.ndarray, colour_of: Any) -> np.ndarray:
    """One colour per key, ``colour_of`` called once per distinct key."""
    if len(keys) == 0:
        return np.empty(0, dtype=object)
    names, inverse = np.unique(keys.astype(str), return_inverse=True)
    return np.array([colour_of(n) for n in names], dtype=object)[inverse]


def _lost_km(zones: gpd.GeoDataFrame | None, kerbs: gpd.GeoDataFrame | None) -> dict[str, float]:
    """Kilometres of kerb lost to each zone kind present: the kerbs' ``lost_<kind>_m``, else zone lengths."""
    if zones is None or len(zones) == 0 or "kind" not in zones.columns:
        return {}
    kinds = zones["kind"].astype(str)
    if {"start_m", "end_m"} <= set(zones.columns):
        lengths = (zones["end_m"] - zones["start_m"]).groupby(kinds).sum()
    else:
        lengths = zones.geometry.length.groupby(kinds).sum()
    out = {}
    for kind, metres in lengths.items():
        column = f"lost_{kind}_m"
        if kerbs is not None and column in kerbs.columns:
            metres = kerbs[column].sum()
        out[str(kind)] = float(metres) / 1000
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def _extent(layers: Sequence[np.ndarray]) -> tuple[float, float, float, float] | None:
    boxes = [shapely.total_bounds(g) for g in layers if len(g)]
    boxes = [b for b in boxes if np.isfinite(b).all()]
    if not boxes:
        return None
    b = np.array(boxes)
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def _scale_bar(ax: Axes, box: tuple[float, float, float, float]) -> tuple[float, str]:
    """Draw a scale bar in the map's lower left corner; return its length and label."""
    x0, y0, x1, y1 = ax.get_xlim()[0], ax.get_ylim()[0], ax.get_xlim()[1], ax.get_ylim()[1]
    width = x1 - x0
    length = scale_length(width)
    if length <= 0:
        return 0.0, ""
    label = _scale_label(length)
    left = x0 + 0.04 * width
    base = y0 + 0.05 * (y1 - y0)
    tick = 0.012 * (y1 - y0)
    half = length / 2
    # Two blocks, black and white, as on a printed map.
    ax.fill(
        [left, left + half, left + half, left],
        [base, base, base + tick, base + tick],
        color="black",
        zorder=10,
    )
    ax.fill(
        [left + half, left + length, left + length, left + half],
        [base, base, base + tick, base + tick],
        facecolor="white",
        edgecolor="black",
        linewidth=0.8,
        zorder=10,
    )
    ax.text(left, base + 1.8 * tick, "0", ha="center", va="bottom", fontsize=8, zorder=10)
    ax.text(
        left + length,
        base + 1.8 * tick,
        label,
        ha="center",
        va="bottom",
        fontsize=8,
        zorder=10,
        gid="scale-bar",
    )
    return length, label


def _north_arrow(ax: Axes) -> None:
    """Draw a north arrow in the map's upper right corner (grid north of the projected CRS)."""
    ax.annotate(
        "N",
        xy=(0.96, 0.97),
        xytext=(0.96, 0.87),
        xycoords="axes fraction",
        textcoords="axes fraction",
        ha="center",
        va="top",
        fontsize=12,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.5, "mutation_scale": 18},
        zorder=10,
        gid="north-arrow",
    )


def overview_figure(
    bays: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
    kerbs: gpd.GeoDataFrame | None,
    *,
    title: str,
    subtitle: str = "",
    violations: gpd.GeoDataFrame | None = None,
    size: str | tuple[float, float] = "A4",
    dpi: int = DPI,
) -> tuple[Figure, Overview]:
    """Build the overview figure (not yet saved) and say what is on it.

    Parameters
    ----------
    bays, zones, kerbs
        The layers, all in one projected CRS in metres (a plan's are); any may be ``None`` or empty.
        ``violations`` in another CRS are projected to theirs.
        ``bays`` are coloured by ``bay_type`` and ``zones`` by ``kind`` where they have those columns;
        the zones' km lost per kind are the kerbs' ``lost_<kind>_m`` sums where present.
    title, subtitle
        The figure's title and a smaller line under it.
    violations
        A check's violations, drawn on top in :data:`parkplan.review.style.VIOLATION_COLOUR`.
    size
        ``"A3"``, ``"A4"``, ``"A5"`` (landscape) or ``(width_mm, height_mm)``.
    dpi
        Dots per inch of the saved image.

    Raises
    ------
    ValueError
        If ``size`` or ``dpi`` is not usable.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    if not isinstance(dpi, int) or isinstance(dpi, bool) or not 10 <= dpi <= 1200:
        raise ValueError(f"dpi must be a whole number from 10 to 1200, not {dpi!r}")
    fig = Figure(figsize=_page(size), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes(MAP_BOX)
    ax.set_axis_off()
    fig.text(0.02, 0.965, title, fontsize=15, fontweight="bold", va="top")
    if subtitle:
        fig.text(0.02, 0.925, subtitle, fontsize=9, va="top", color="#333333")

    crs = next((f.crs for f in (kerbs, bays, zones) if f is not None and f.crs is not None), None)
    if violations is not None and crs is not None and violations.crs is not None and violations.crs != crs:
        violations = violations.to_crs(crs)  # a check reports them in the bays' own CRS
    kerb_g, zone_g, bay_g, bad_g = (_geometries(f) for f in (kerbs, zones, bays, violations))
    legend: list[tuple[str, str]] = []
    handles: list[Any] = []

    def entry(label: str, colour: str, **patch: Any) -> None:
        legend.append((label, colour))
        handles.append(
            Patch(facecolor=colour, edgecolor=patch.pop("edgecolor", colour), label=label, **patch)
        )

    paths, _ = _paths(kerb_g)
    if paths:
        ax.add_collection(LineCollection(paths, colors=KERB_COLOUR, linewidths=0.25, zorder=1))
        entry(f"kerb ({len(kerb_g):,})", KERB_COLOUR)

    paths, owner = _paths(bay_g)
    if paths:
        has_type = bays is not None and "bay_type" in bays.columns
        if has_type:
            assert bays is not None
            kept = ~(shapely.is_missing(np.asarray(bays.geometry.values, dtype=object)))
            kept &= ~shapely.is_empty(np.asarray(bays.geometry.values, dtype=object))
            types = bays["bay_type"].astype(str).to_numpy(dtype=object)[kept]
        else:
            types = np.full(len(bay_g), "bay", dtype=object)
        colour_of = bay_colour if has_type else (lambda _: BAY_FALLBACK)
        colours = _colours(types, colour_of)
        ax.add_collection(
            PolyCollection(
                paths,
                facecolors=list(colours[owner]),
                edgecolors=list(colours[owner]),
                linewidths=0.3,
                zorder=2,
            )
        )
        names, counts = np.unique(types.astype(str), return_counts=True)
        for name, count in sorted(zip(names, counts, strict=True), key=lambda nc: (-nc[1], nc[0])):
            label = f"{name} bays ({count:,})" if has_type else f"bays ({count:,})"
            entry(label, colour_of(name))

    paths, owner = _paths(zone_g)
    if paths:
        has_kind = zones is not None and "kind" in zones.columns
        if has_kind:
            assert zones is not None
            zgeoms = np.asarray(zones.geometry.values, dtype=object)
            kept = ~(shapely.is_missing(zgeoms) | shapely.is_empty(zgeoms))
            kinds = zones["kind"].astype(str).to_numpy(dtype=object)[kept]
        else:
            kinds = np.full(len(zone_g), "zone", dtype=object)
        colours = _colours(kinds, zone_colour)
        ax.add_collection(LineCollection(paths, colors=list(colours[owner]), linewidths=1.0, zorder=3))
        lost = _lost_km(zones, kerbs) if has_kind else {}
        for kind in lost or sorted(set(kinds)):
            km = lost.get(kind)
            text = kind.replace("_", " ")
            entry(f"{text}: {km:,.2f} km lost" if km is not None else text, zone_colour(kind))

    if len(bad_g):
        paths, _ = _paths(bad_g)
        if paths:
            ax.add_collection(LineCollection(paths, colors=VIOLATION_COLOUR, linewidths=1.2, zorder=4))
        spots = shapely.get_coordinates(shapely.point_on_surface(bad_g))
        ax.scatter(
            spots[:, 0],
            spots[:, 1],
            s=28,
            facecolors="none",
            edgecolors=VIOLATION_COLOUR,
            linewidths=1.2,
            zorder=5,
        )
        entry(f"violations ({len(bad_g):,})", VIOLATION_COLOUR)

    box = _extent([kerb_g, zone_g, bay_g, bad_g])
    scale = (0.0, "")
    if box is not None:
        x0, y0, x1, y1 = box
        pad = 0.02 * max(x1 - x0, y1 - y0, 1.0)
        x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
        # Widen the box to the axes' own shape, so equal scales in x and y fill it.
        fig_w, fig_h = fig.get_size_inches()
        shape = (MAP_BOX[3] * fig_h) / (MAP_BOX[2] * fig_w)
        if (y1 - y0) / (x1 - x0) < shape:
            grow = (shape * (x1 - x0) - (y1 - y0)) / 2
            y0, y1 = y0 - grow, y1 + grow
        else:
            grow = ((y1 - y0) / shape - (x1 - x0)) / 2
            x0, x1 = x0 - grow, x1 + grow
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        scale = _scale_bar(ax, box)
        _north_arrow(ax)
    else:
        ax.text(0.5, 0.5, "nothing to draw", ha="center", va="center", transform=ax.transAxes, fontsize=14)
    if handles:
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.74, 0.88),
            frameon=False,
            fontsize=8,
            title="legend",
            title_fontsize=9,
            alignment="left",
        )
    return fig, Overview(tuple(legend), scale[0], scale[1])


def plan_titles(summary: Mapping[str, Any] | None, rules: Any | None) -> tuple[str, str]:
    """Return the title and subtitle of a plan's overview (rules, bays, solver; jurisdiction, km, gap)."""
    name = getattr(rules, "name", None) or (summary or {}).get("rules") or "parkplan"
    if summary is None:
        return f"{name}", ""
    bays = summary["bays"]
    solver = summary["solver"]
    title = f"{name}: {bays['total']:,} bays, solver {solver['status']}"
    parts = []
    where = getattr(rules, "jurisdiction", None)
    if where:
        parts.append(str(where))
    kerbs = summary["kerbs"]
    parts.append(f"{kerbs['count']:,} kerbs, {kerbs['length_m'] / 1000:,.1f} km")
    parts.append(f"gap {solver['gap']:.2%}")
    base = summary.get("baseline")
    if base and base.get("subtractive_bays") is not None:
        parts.append(f"subtractive method {base['subtractive_bays']:,} bays")
    return title, "; ".join(parts)


def write_png(
    path: str | os.PathLike[str],
    bays: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
    kerbs: gpd.GeoDataFrame | None,
    summary: Mapping[str, Any] | None = None,
    rules: Any | None = None,
    *,
    violations: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    size: str | tuple[float, float] = "A4",
    dpi: int = DPI,
) -> Overview:
    """Draw the overview (:func:`overview_figure`) and save it as a PNG to ``path``.

    ``path`` is written as given (the caller's temporary file: see the module docstring). The title and
    subtitle default to the plan's (:func:`plan_titles` of ``summary`` and ``rules``).
    """
    default_title, default_subtitle = plan_titles(summary, rules)
    fig, shown = overview_figure(
        bays,
        zones,
        kerbs,
        title=default_title if title is None else title,
        subtitle=default_subtitle if subtitle is None else subtitle,
        violations=violations,
        size=size,
        dpi=dpi,
    )
    fig.savefig(Path(path), format="png", dpi=dpi, facecolor="white", metadata={"Software": "parkplan"})
    return shown
