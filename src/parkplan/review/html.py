"""The review map: one self-contained HTML file of a plan or a check, that opens offline.

Leaflet (vendored in ``assets/``, with its licence) and the data are inlined: coordinates in WGS84 as
integers of 1e-6 degrees, each feature's first point absolute and the others as differences; properties as
column arrays, strings through lookup tables. The features are drawn by one canvas layer of the page's
own (fast for ~200,000 features); a click finds the feature under the pointer and shows its popup. No
request leaves the file unless ``tiles`` (an XYZ URL template) names a base map.

Every string comes from ``catalogue.toml`` (``en`` and ``zh-CN``, both embedded; ``lang`` picks the
first shown, a switch in the page changes it).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from parkplan.errors import ArgumentError
from parkplan.review import style

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["LANGUAGES", "MAX_FEATURES", "catalogue", "check_html", "map_html", "plan_html", "write_map"]

LANGUAGES = ("en", "zh-CN")
MAX_FEATURES = 250_000
"""Features drawn at most (bays, violations, zones, kerbs in that order); the rest are left out."""
SCALE = 1_000_000
"""Coordinates are stored as integers of 1 / SCALE degrees."""


def catalogue() -> dict[str, Any]:
    """Return the strings of the map by language (``catalogue.toml``)."""
    text = resources.files("parkplan.review").joinpath("catalogue.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _asset(name: str) -> str:
    return resources.files("parkplan.review").joinpath("assets", name).read_text(encoding="utf-8")


def _leaflet_js() -> str:
    r"""Return Leaflet's code with ``://`` written ``:\\/\\/`` (the same string in JavaScript).

    Its URLs are an XML namespace, comments and the attribution link: no request, but a page without
    ``tiles`` then holds no ``http://`` or ``https://`` text at all, which is simple to check.
    """
    return _asset("leaflet.js").replace("://", ":\\/\\/")


def _host(tiles: str | None) -> str:
    """Return the host of a tile URL template (the default attribution), ``""`` without one."""
    if not tiles:
        return ""
    from urllib.parse import urlsplit

    return urlsplit(tiles.replace("{s}", "a")).netloc or tiles


def _parts(geom: Any) -> list[np.ndarray]:
    """Return the coordinate arrays of a geometry's lines or polygon exteriors (no closing point)."""
    import shapely

    out = []
    for part in shapely.get_parts(geom):
        if part is None or part.is_empty:
            continue
        if part.geom_type == "Polygon":
            xy = np.asarray(part.exterior.coords)[:-1, :2]
        elif part.geom_type == "Point":
            xy = np.asarray(part.coords)[:, :2]
        else:
            xy = np.asarray(part.coords)[:, :2]
        if len(xy):
            out.append(xy)
    return out


def _geometry(frame: Any) -> dict[str, list[int]]:
    """Encode a frame's geometries (WGS84): ``n`` parts per feature, ``m`` points per part, ``c`` coordinates.

    ``c`` holds per part its first point (x, y in 1e-6 degrees) then the differences to the point before.
    """
    geo = frame.geometry
    if geo.crs is not None and not geo.crs.equals("EPSG:4326"):
        geo = geo.to_crs(4326)
    counts: list[int] = []
    points: list[int] = []
    chunks: list[np.ndarray] = []
    for geom in geo.values:
        parts = _parts(geom) if geom is not None else []
        counts.append(len(parts))
        for xy in parts:
            q = np.round(xy * SCALE).astype(np.int64)
            q[1:] = np.diff(q, axis=0)
            points.append(len(q))
            chunks.append(q.ravel())
    flat = np.concatenate(chunks).tolist() if chunks else []
    return {"n": counts, "m": points, "c": flat}


def _column(values: Any, digits: int | None = None) -> dict[str, Any] | list[Any]:
    """Return a column as a list (numbers) or a lookup table ``{"v": values, "i": codes}`` (strings)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        floats = arr.astype(float)
        if digits is not None:
            floats = np.round(floats, digits)
        return [None if not math.isfinite(v) else (int(v) if v == int(v) else v) for v in floats.tolist()]
    texts = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in arr.tolist()]
    table: dict[str, int] = {}
    codes = [table.setdefault(t, len(table)) for t in texts]
    return {"v": list(table), "i": codes}


def _layer(frame: Any, columns: Mapping[str, int | None], limit: int) -> tuple[dict[str, Any], int, int]:
    """Encode up to ``limit`` features of a frame; return the layer, its features drawn, and in all."""
    total = len(frame)
    if total > limit:
        frame = frame.iloc[:limit]
    props = {
        name: _column(frame[name].to_numpy(), digits) for name, digits in columns.items() if name in frame
    }
    return {"g": _geometry(frame), "p": props}, len(frame), total


def _sources(rules: Any) -> dict[str, list[str]]:
    """Return the sources of each kind's clearances as texts (unverified ones start with ``?``)."""
    if rules is None:
        return {}
    out: dict[str, list[str]] = {}
    for key, src in getattr(rules, "sources", {}).items():
        if not key.startswith("clearances."):
            continue
        kind = key.split(".")[1].split("[")[0]
        text = ("" if src.verified else "?") + src.text
        if text not in out.setdefault(kind, []):
            out[kind].append(text)
    # A kind without sources of its own takes its parent's (crossing_marked -> crossing).
    for kind, defaults in getattr(rules, "kinds", {}).items():
        parent = getattr(defaults, "parent", None)
        if kind not in out and parent and parent in out:
            out[kind] = out[parent]
    return out


def _summary(summary: Any, kerbs: Any, rules: Any) -> dict[str, Any]:
    """Return what the summary panel shows."""
    out: dict[str, Any] = {}
    if summary is not None:
        s = summary.to_json() if hasattr(summary, "to_json") else dict(summary)
        bays: Mapping[str, Any] = s["bays"] if isinstance(s.get("bays"), Mapping) else {}
        by_type = {k: v for k, v in bays.get("by_type", {}).items() if v}
        if by_type:
            out["by_type"] = by_type
            out["total"] = bays.get("total")
        solver = s.get("solver") or {}
        out["status"] = solver.get("status")
        out["gap"] = solver.get("gap")
        out["subtractive"] = (s.get("baseline") or {}).get("subtractive_bays")
        out["rules"] = s.get("rules")
        if "violations" in s and "by_check" in s:  # a check's summary: bays checked, violations by check
            out["checked"] = s["bays"]
            out["violations"] = s["violations"]
            by_check = {k: v for k, v in s["by_check"].items() if v}
            if by_check:
                out["by_check"] = by_check
    if kerbs is not None:
        lost = {
            c[len("lost_") : -len("_m")]: round(float(kerbs[c].sum()) / 1000, 3)
            for c in kerbs.columns
            if c.startswith("lost_") and c.endswith("_m") and c != "lost_m"
        }
        out["lost_km"] = dict(sorted(((k, v) for k, v in lost.items() if v > 0), key=lambda kv: -kv[1]))
    if rules is not None:
        out["rules"] = rules.name
        out["jurisdiction"] = rules.jurisdiction
    return out


def map_html(
    *,
    bays: Any = None,
    zones: Any = None,
    kerbs: Any = None,
    summary: Any = None,
    rules: Any = None,
    violations: Any = None,
    lang: str = "en",
    tiles: str | None = None,
    attribution: str | None = None,
    max_features: int = MAX_FEATURES,
) -> str:
    """Return the HTML text of a review map of the frames given (any may be ``None``).

    Parameters
    ----------
    bays, zones, kerbs
        A plan's layers (:class:`parkplan.Plan`'s ``bays``, ``zones``, ``kerbs``).
    summary
        The plan's or check's summary (a mapping, or anything with ``to_json()``).
    rules
        The :class:`parkplan.rules.loading.Rules`: its name, jurisdiction, and the sources of its clearances.
    violations
        A check's violations (:class:`parkplan.check.core.CheckResult`'s ``violations``).
    lang
        The language shown first: ``"en"`` or ``"zh-CN"``.
    tiles
        An XYZ tile URL template (``https://tiles.example/{z}/{x}/{y}.png``) for a base map; ``None``: none,
        and the page makes no request to any host.
    attribution
        The base map's attribution (shown with ``tiles``; default: the tile server's host name).
    max_features
        Features drawn at most; the rest are left out, and the page says how many of which layer.
    """
    if lang not in LANGUAGES:
        raise ArgumentError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}", argument="lang")
    if tiles is not None and not (isinstance(tiles, str) and "{z}" in tiles):
        raise ArgumentError(f"tiles must be an XYZ URL template with {{z}}, not {tiles!r}", argument="tiles")
    budget = int(max_features)
    layers: dict[str, Any] = {}
    counts: dict[str, list[int]] = {}
    spec: list[tuple[str, Any, dict[str, int | None]]] = [
        ("bays", bays, {"bay_id": None, "bay_type": None, "curb_id": None, "orientation": None,
                        "start_m": 2, "end_m": 2, "length_m": 2}),
        ("violations", violations, {"bay_id": None, "check": None, "detail": None, "hazard_id": None,
                                    "kind": None, "required_m": 2, "measured_m": 2}),
        ("zones", zones, {"curb_id": None, "kind": None, "hazard_id": None, "rule": None,
                          "start_m": 2, "end_m": 2}),
        ("kerbs", kerbs, {}),
    ]  # fmt: skip
    for name, frame, columns in spec:
        if frame is None:
            continue
        if name == "kerbs":
            columns = {
                c: (None if c == "curb_id" else 2)
                for c in frame.columns
                if c in ("curb_id", "length_m", "bays", "bay_m", "gap_m", "lost_m", "leftover_m")
                or (c.startswith("lost_") and c.endswith("_m"))
            }
        layer, drawn, total = _layer(frame, columns, max(budget, 0))
        budget -= drawn
        layers[name] = layer
        counts[name] = [drawn, total]
    kinds = sorted(set(zones["kind"].astype(str))) if zones is not None and len(zones) else []
    if kerbs is not None:
        kinds = sorted(
            set(kinds)
            | {c[5:-2] for c in kerbs.columns if c.startswith("lost_") and c.endswith("_m") and c != "lost_m"}
        )
    has_types = bays is not None and len(bays) and "bay_type" in bays.columns
    types = sorted(set(bays["bay_type"].astype(str))) if has_types else []
    data = {
        "layers": layers,
        "counts": counts,
        "check": violations is not None,
        "summary": _summary(summary, kerbs, rules),
        "sources": _sources(rules),
        "colours": {
            "zones": {k: style.zone_colour(k) for k in kinds},
            "bays": {t: style.bay_colour(t) for t in types},
            "kerbs": list(style.KERB_COLOURS),
            "violation": style.VIOLATION_COLOUR,
        },
        "catalogue": catalogue(),
        "lang": lang,
        "tiles": tiles,
        "attribution": attribution if attribution is not None else _host(tiles),
    }
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    payload = payload.replace("<", "\\u003c")  # no "</script>" nor "<!--" in the script element
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>parkplan</title>\n<!-- Leaflet 1.9.4 is inlined below under its licence:\n"
        + _asset("LICENSE")
        + "-->\n<style>\n"
        + _asset("leaflet.css").replace("://", ":\\/\\/")
        + "\n"
        + _asset("map.css")
        + "</style>\n"
        '</head><body><div id="map"></div>\n<script>\n' + _leaflet_js() + "\n</script>\n"
        '<script id="parkplan-data" type="application/json">' + payload + "</script>\n"
        "<script>\n" + _asset("map.js") + "</script>\n</body></html>\n"
    )


def write_map(path: str | os.PathLike[str], **frames: Any) -> Path:
    """Write :func:`map_html` of ``frames`` to ``path`` (UTF-8) and return the path.

    The page is made first and written to a temporary file beside ``path``, which then replaces it: an
    existing file is never left half-written. (``Plan.to_html`` and ``--map`` go through the output plan,
    which also refuses to write over an input.)
    """
    target = Path(path)
    page = map_html(**frames)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def plan_html(plan: Any, *, lang: str = "en", tiles: str | None = None, **options: Any) -> str:
    """Return the review map of a :class:`parkplan.Plan`."""
    return map_html(
        bays=plan.bays,
        zones=plan.zones,
        kerbs=plan.kerbs,
        summary=plan.summary,
        rules=plan.rules,
        lang=lang,
        tiles=tiles,
        **options,
    )


def check_html(
    result: Any, *, rules: Any = None, lang: str = "en", tiles: str | None = None, **options: Any
) -> str:
    """Return the review map of a ``parkplan check`` (:class:`parkplan.check.core.CheckResult`).

    ``rules``: the :class:`~parkplan.rules.loading.Rules`, or a preset name or file (loaded), or ``None``.
    """
    if rules is not None and not hasattr(rules, "sources"):
        from parkplan.rules.loading import load_rules

        rules = load_rules(rules)
    # The bays checked, under the violations: any polygon layer, so a type is given where it has none.
    bays = getattr(result, "bays", None)
    if bays is not None and "bay_type" not in bays.columns:
        bays = bays.assign(bay_type="bay")
    return map_html(
        bays=bays,
        violations=result.violations,
        summary=result.summary,
        rules=rules,
        lang=lang,
        tiles=tiles,
        **options,
    )
