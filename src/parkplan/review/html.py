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
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from parkplan.errors import ArgumentError
from parkplan.review import style

try:  # pragma: no cover - depends on the Python version
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = ["LANGUAGES", "MAX_FEATURES", "catalogue", "map_html", "plan_html", "write_map"]

LANGUAGES = ("en", "zh-CN")
MAX_FEATURES = 250_000
"""Features drawn at most (bays, violations, zones, kerbs in that order); the rest are left out, and said so."""
SCALE = 1_000_000
"""Coordinates are stored as integers of 1 / SCALE degrees."""


def catalogue() -> dict[str, Any]:
    """Return the strings of the map by language (``catalogue.toml``)."""
    text = resources.files("parkplan.review").joinpath("catalogue.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _asset(name: str) -> str:
    return resources.files("parkplan.review").joinpath("assets", name).read_text(encoding="utf-8")


def _leaflet_js() -> str:
    """Leaflet's code with ``://`` written ``:\\/\\/`` (the same string in JavaScript).

    Its URLs are an XML namespace, comments and the attribution link: no request, but a page without
    ``tiles`` then holds no ``http://`` or ``https://`` text at all, which is simple to check.
    """
    return _asset("leaflet.js").replace("://", ":\\/\\/")


def _parts(geom: Any) -> list[np.ndarray]:
    """The coordinate arrays of a geometry's lines or polygon exteriors (no closing point)."""
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
    """A column as a list (numbers) or a lookup table ``{"v": values, "i": codes}`` (strings)."""
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
    """The sources of each kind's clearance numbers, as texts (``unverified`` ones marked by a leading ``?``)."""
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
    """What the summary panel shows."""
    out: dict[str, Any] = {}
    if summary is not None:
        s = summary.to_json() if hasattr(summary, "to_json") else dict(summary)
        bays = s.get("bays", {})
        out["by_type"] = {k: v for k, v in bays.get("by_type", {}).items() if v}
        out["total"] = bays.get("total")
        solver = s.get("solver") or {}
        out["status"] = solver.get("status")
        out["gap"] = solver.get("gap")
        out["subtractive"] = (s.get("baseline") or {}).get("subtractive_bays")
        out["rules"] = s.get("rules")
        if "violations" in s and "by_check" in s:
            out["by_check"] = {k: v for k, v in s["by_check"].items() if v}
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
        The base map's attribution (shown with ``tiles``).
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
    types = sorted(set(bays["bay_type"].astype(str))) if bays is not None and len(bays) else []
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
        "attribution": attribution or "",
    }
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    payload = payload.replace("</", "<\\/")
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>parkplan</title>\n<style>\n" + _asset("leaflet.css") + "\n" + _CSS + "</style>\n"
        '</head><body><div id="map"></div>\n<script>\n' + _asset("leaflet.js") + "\n</script>\n"
        '<script id="parkplan-data" type="application/json">' + payload + "</script>\n"
        "<script>\n" + _JS + "</script>\n</body></html>\n"
    )


def write_map(path: str | os.PathLike[str], **frames: Any) -> Path:
    """Write :func:`map_html` of ``frames`` to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    target.write_text(map_html(**frames), encoding="utf-8")
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


_CSS = """
html, body, #map { margin: 0; height: 100%; width: 100%; }
#map { background: #f4f4f0; }
.pp-panel { background: rgba(255,255,255,0.95); padding: 8px 10px; font: 12px/1.4 sans-serif;
  max-height: 85vh; overflow-y: auto; width: 280px; border-radius: 4px; box-shadow: 0 1px 5px rgba(0,0,0,.4); }
.pp-panel h2 { font-size: 14px; margin: 0 0 4px; }
.pp-panel h3 { font-size: 12px; margin: 8px 0 2px; }
.pp-sw { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: middle; }
.pp-bar { display: flex; align-items: center; margin: 1px 0; }
.pp-bar span.l { width: 110px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.pp-bar span.b { height: 9px; margin: 0 4px; }
.pp-notice { color: #a50026; font-weight: bold; }
.pp-ramp { height: 10px; background: linear-gradient(to right, #d7191c, #ffffbf, #1a9641); }
.pp-popup table { border-collapse: collapse; } .pp-popup td { padding: 0 4px; vertical-align: top; }
.pp-popup td:first-child { color: #555; white-space: nowrap; }
"""

_JS = r"""
(function () {
"use strict";
var t0 = performance.now();
var D = JSON.parse(document.getElementById("parkplan-data").textContent);
var CAT = D.catalogue, lang = D.lang, S = D.summary;
function T(k) { return (CAT[lang] && CAT[lang][k]) || CAT.en[k] || k; }
function K(kind) { return (CAT[lang].kinds || {})[kind] || CAT.en.kinds[kind] || kind; }
function esc(s) { return String(s).replace(/[&<>"]/g, function (c) {
  return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; }); }
function prop(layer, name, i) {
  var c = D.layers[layer].p[name]; if (!c) return null;
  return Array.isArray(c) ? c[i] : c.v[c.i[i]];
}
// Geometry: projected to Web Mercator pixels at zoom 0 once, kept in typed arrays.
var PI = Math.PI;
function decode(name) {
  var g = D.layers[name].g, n = g.n, m = g.m, c = g.c;
  var total = 0, k; for (k = 0; k < m.length; k++) total += m[k];
  var xy = new Float64Array(total * 2), start = new Int32Array(n.length + 1), pstart = new Int32Array(m.length + 1);
  var bbox = new Float64Array(n.length * 4), part = 0, q = 0, ci = 0, f, p, j;
  for (f = 0; f < n.length; f++) {
    start[f] = part;
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (p = 0; p < n[f]; p++, part++) {
      pstart[part] = q; var lon = 0, lat = 0;
      for (j = 0; j < m[part]; j++, q++) {
        lon += c[ci++]; lat += c[ci++];
        var x = (lon / 1e6 + 180) / 360 * 256, s = Math.sin(lat / 1e6 * PI / 180);
        var y = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * PI)) * 256;
        xy[2 * q] = x; xy[2 * q + 1] = y;
        if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
      }
    }
    bbox[4 * f] = x0; bbox[4 * f + 1] = y0; bbox[4 * f + 2] = x1; bbox[4 * f + 3] = y1;
  }
  start[n.length] = part; pstart[m.length] = q;
  return {n: n.length, xy: xy, start: start, pstart: pstart, bbox: bbox};
}
var G = {}, name;
for (name in D.layers) G[name] = decode(name);
// Colour of each feature, grouped so that each colour is one path.
function groups(name, colourOf) {
  var out = {}, i;
  for (i = 0; i < G[name].n; i++) { var c = colourOf(i); (out[c] = out[c] || []).push(i); }
  return out;
}
function ramp(v) {
  var a = D.colours.kerbs, lo = v < 0.5 ? a[0] : a[1], hi = v < 0.5 ? a[1] : a[2], t = v < 0.5 ? v * 2 : v * 2 - 1;
  function ch(h, o) { return parseInt(h.substr(o, 2), 16); }
  var r = [1, 3, 5].map(function (o) { return Math.round(ch(lo, o) + (ch(hi, o) - ch(lo, o)) * t); });
  return "rgb(" + r.join(",") + ")";
}
var STYLE = {
  kerbs: {line: true, width: 3, colour: function (i) {
    var l = prop("kerbs", "length_m", i), b = prop("kerbs", "bay_m", i);
    return ramp(l > 0 && b != null ? Math.round(10 * Math.max(0, Math.min(1, b / l))) / 10 : 0); }},
  zones: {line: true, width: 5, alpha: 0.8, colour: function (i) { return D.colours.zones[prop("zones", "kind", i)] || "#888"; }},
  bays: {line: false, colour: function (i) { return D.colours.bays[prop("bays", "bay_type", i)] || "#2b83ba"; }},
  violations: {line: false, width: 3, colour: function () { return D.colours.violation; }}
};
var ORDER = ["kerbs", "zones", "bays", "violations"].filter(function (k) { return G[k]; });
var GROUPS = {}; ORDER.forEach(function (k) { GROUPS[k] = groups(k, STYLE[k].colour); });
var shown = {}; ORDER.forEach(function (k) { shown[k] = true; });

// The map.
var bounds = null;
ORDER.forEach(function (k) { var b = G[k].bbox; for (var f = 0; f < G[k].n; f++) {
  if (!isFinite(b[4 * f])) continue;
  if (!bounds) bounds = [b[4 * f], b[4 * f + 1], b[4 * f + 2], b[4 * f + 3]];
  bounds[0] = Math.min(bounds[0], b[4 * f]); bounds[1] = Math.min(bounds[1], b[4 * f + 1]);
  bounds[2] = Math.max(bounds[2], b[4 * f + 2]); bounds[3] = Math.max(bounds[3], b[4 * f + 3]); } });
var map = L.map("map", {preferCanvas: true, renderer: L.canvas(), zoomAnimation: false, fadeAnimation: false,
  maxZoom: 22, attributionControl: !!D.tiles});
if (D.tiles) L.tileLayer(D.tiles, {attribution: D.attribution, maxZoom: 22, maxNativeZoom: 19}).addTo(map);
function unproject(x, y) {
  var lon = x / 256 * 360 - 180, n = PI - 2 * PI * y / 256;
  return L.latLng(180 / PI * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n))), lon);
}
if (bounds) map.fitBounds(L.latLngBounds(unproject(bounds[0], bounds[3]), unproject(bounds[2], bounds[1])));
else map.setView([0, 0], 2);

var pane = map.createPane("parkplan"); pane.style.zIndex = 450; pane.style.pointerEvents = "none";
var canvas = L.DomUtil.create("canvas", "", pane), ctx = canvas.getContext("2d");
function draw() {
  var size = map.getSize(), r = window.devicePixelRatio || 1, z = map.getZoom(), sc = Math.pow(2, z);
  canvas.width = size.x * r; canvas.height = size.y * r;
  canvas.style.width = size.x + "px"; canvas.style.height = size.y + "px";
  L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
  var o = map.project(map.containerPointToLatLng([0, 0]), z);
  var vx0 = o.x / sc, vy0 = o.y / sc, vx1 = (o.x + size.x) / sc, vy1 = (o.y + size.y) / sc, pad = 8 / sc;
  ctx.setTransform(r, 0, 0, r, 0, 0); ctx.clearRect(0, 0, size.x, size.y);
  ctx.lineJoin = "round"; ctx.lineCap = "butt";
  ORDER.forEach(function (k) {
    if (!shown[k]) return;
    var g = G[k], st = STYLE[k], xy = g.xy, b = g.bbox;
    ctx.globalAlpha = st.alpha || 1;
    for (var colour in GROUPS[k]) {
      var list = GROUPS[k][colour]; ctx.beginPath();
      for (var a = 0; a < list.length; a++) {
        var f = list[a];
        if (b[4 * f] > vx1 + pad || b[4 * f + 2] < vx0 - pad || b[4 * f + 1] > vy1 + pad || b[4 * f + 3] < vy0 - pad) continue;
        for (var p = g.start[f]; p < g.start[f + 1]; p++) {
          for (var q = g.pstart[p]; q < g.pstart[p + 1]; q++) {
            var x = xy[2 * q] * sc - o.x, y = xy[2 * q + 1] * sc - o.y;
            if (q === g.pstart[p]) ctx.moveTo(x, y); else ctx.lineTo(x, y);
          }
          if (!st.line) ctx.closePath();
        }
      }
      if (st.line) { ctx.strokeStyle = colour; ctx.lineWidth = st.width; ctx.stroke(); }
      else { ctx.fillStyle = colour; ctx.fill(); if (st.width) { ctx.strokeStyle = colour; ctx.lineWidth = st.width; ctx.stroke(); } }
    }
  });
  ctx.globalAlpha = 1;
}
map.on("moveend resize", draw);

// Clicks: the feature under the pointer (bays, violations: inside or within 4 px; lines: within 6 px).
function segDist(px, py, ax, ay, bx, by) {
  var dx = bx - ax, dy = by - ay, l = dx * dx + dy * dy, t = l ? ((px - ax) * dx + (py - ay) * dy) / l : 0;
  t = Math.max(0, Math.min(1, t)); var ex = ax + t * dx - px, ey = ay + t * dy - py; return Math.sqrt(ex * ex + ey * ey);
}
function hit(k, f, px, py, tol) {
  var g = G[k], xy = g.xy, inside = false, best = Infinity;
  for (var p = g.start[f]; p < g.start[f + 1]; p++) {
    var s = g.pstart[p], e = g.pstart[p + 1], closed = !STYLE[k].line;
    for (var q = s; q < e; q++) {
      var r = q + 1 < e ? q + 1 : (closed ? s : -1); if (r < 0) { if (e - s === 1) best = Math.min(best, Math.hypot(xy[2 * q] - px, xy[2 * q + 1] - py)); break; }
      var ax = xy[2 * q], ay = xy[2 * q + 1], bx = xy[2 * r], by = xy[2 * r + 1];
      best = Math.min(best, segDist(px, py, ax, ay, bx, by));
      if (closed && ((ay > py) !== (by > py)) && px < (bx - ax) * (py - ay) / (by - ay) + ax) inside = !inside;
    }
  }
  return inside ? 0 : best;
}
function find(latlng) {
  var sc = Math.pow(2, map.getZoom()), pt = map.project(latlng, 0), px = pt.x, py = pt.y;
  var layers = ["violations", "bays", "zones", "kerbs"];
  for (var a = 0; a < layers.length; a++) {
    var k = layers[a]; if (!G[k] || !shown[k]) continue;
    var tol = (STYLE[k].line ? 6 : 4) / sc, b = G[k].bbox, best = -1, bd = Infinity;
    for (var f = 0; f < G[k].n; f++) {
      if (b[4 * f] > px + tol || b[4 * f + 2] < px - tol || b[4 * f + 1] > py + tol || b[4 * f + 3] < py - tol) continue;
      var d = hit(k, f, px, py, tol); if (d <= tol && d < bd) { bd = d; best = f; }
    }
    if (best >= 0) return [k, best];
  }
  return null;
}
function fmt(v, unit) { return v == null ? "" : (typeof v === "number" ? v.toLocaleString(lang, {maximumFractionDigits: 2}) : esc(v)) + (unit || ""); }
function row(label, value) { return "<tr><td>" + esc(label) + "</td><td>" + value + "</td></tr>"; }
function popupHtml(k, i) {
  var h = "", P = function (n) { return prop(k, n, i); };
  if (k === "bays") {
    h = "<b>" + esc(T("bay")) + "</b><table>" + row(T("bay"), fmt(P("bay_id"))) + row(T("bay_type"), fmt(P("bay_type")))
      + row(T("orientation"), fmt(P("orientation"))) + row(T("kerb"), fmt(P("curb_id")))
      + row(T("chainage"), fmt(P("start_m")) + " – " + fmt(P("end_m"), " m")) + row(T("length"), fmt(P("length_m"), " m")) + "</table>";
  } else if (k === "zones") {
    var kind = P("kind"), src = D.sources[kind] || [];
    h = "<b>" + esc(T("zone")) + "</b><table>" + row(T("kind"), esc(K(kind)) + " (" + esc(kind) + ")")
      + row(T("hazard_id"), fmt(P("hazard_id"))) + row(T("kerb"), fmt(P("curb_id")))
      + row(T("chainage"), fmt(P("start_m")) + " – " + fmt(P("end_m"), " m")) + row(T("rule"), fmt(P("rule")))
      + row(T("source"), src.map(function (s) { return s.charAt(0) === "?" ? esc(s.slice(1)) + " <i>(" + esc(T("unverified")) + ")</i>" : esc(s); }).join("<br>") || "–")
      + "</table>";
  } else if (k === "kerbs") {
    h = "<b>" + esc(T("kerb")) + " " + fmt(P("curb_id")) + "</b><table>" + row(T("length"), fmt(P("length_m"), " m"))
      + row(T("bays"), fmt(P("bays"))) + row(T("bay_m"), fmt(P("bay_m"), " m")) + row(T("gap_m"), fmt(P("gap_m"), " m"))
      + row(T("lost_m"), fmt(P("lost_m"), " m")) + row(T("leftover_m"), fmt(P("leftover_m"), " m"));
    var p = D.layers.kerbs.p;
    for (var c in p) { if (c !== "lost_m" && c.indexOf("lost_") === 0) { var v = P(c); if (v) h += row(K(c.slice(5, -2)), fmt(v, " m")); } }
    h += "</table>";
  } else {
    h = "<b>" + esc(T("violation")) + "</b><table>" + row(T("check"), fmt(P("check"))) + row(T("bay"), fmt(P("bay_id")))
      + row(T("detail"), fmt(P("detail"))) + row(T("kind"), fmt(P("kind") ? K(P("kind")) : ""))
      + row(T("hazard_id"), fmt(P("hazard_id"))) + row(T("required"), fmt(P("required_m"), " m"))
      + row(T("measured"), fmt(P("measured_m"), " m")) + "</table>";
  }
  return '<div class="pp-popup" data-layer="' + k + '" data-index="' + i + '">' + h + "</div>";
}
var current = null;
function open(k, i, latlng) {
  if (!latlng) { var g = G[k], q = g.pstart[g.start[i]]; latlng = unproject(g.xy[2 * q], g.xy[2 * q + 1]); }
  current = [k, i, latlng];
  return L.popup({maxWidth: 420}).setLatLng(latlng).setContent(popupHtml(k, i)).openOn(map);
}
map.on("click", function (e) { var f = find(e.latlng); if (f) open(f[0], f[1], e.latlng); });

// The panel: title, language, layers with legends, summary, what was left out.
var panel = L.control({position: "topright"}), div;
panel.onAdd = function () { div = L.DomUtil.create("div", "pp-panel"); L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div); return div; };
panel.addTo(map);
function bars(obj, unit) {
  var max = 0, k, h = ""; for (k in obj) max = Math.max(max, obj[k]);
  for (k in obj) h += '<div class="pp-bar"><span class="l" title="' + esc(k) + '">' + esc(unit === "km" ? K(k) : k) + '</span><span class="b" style="width:'
    + Math.round(100 * obj[k] / (max || 1)) + "px;background:" + (unit === "km" ? (D.colours.zones[k] || "#888") : (D.colours.bays[k] || "#2b83ba"))
    + '"></span>' + fmt(obj[k]) + "</div>";
  return h;
}
function render() {
  document.title = (D.check ? T("title_check") : T("title")) + (S.rules ? " — " + S.rules : "");
  var h = "<h2>" + esc(document.title) + "</h2>";
  h += esc(T("language_label")) + ': <select id="pp-lang">' + Object.keys(CAT).map(function (l) {
    return '<option value="' + l + '"' + (l === lang ? " selected" : "") + ">" + esc(CAT[l].language) + "</option>"; }).join("") + "</select>";
  h += "<h3>" + esc(T("layers")) + "</h3>";
  ORDER.slice().reverse().forEach(function (k) {
    h += '<label><input type="checkbox" data-layer="' + k + '"' + (shown[k] ? " checked" : "") + "> " + esc(T("layer_" + k))
      + " (" + D.counts[k][0].toLocaleString(lang) + ")</label><br>";
  });
  if (G.bays) { h += "<h3>" + esc(T("legend_bays")) + "</h3>"; for (var t in D.colours.bays) h += '<span class="pp-sw" style="background:' + D.colours.bays[t] + '"></span>' + esc(t) + "<br>"; }
  if (G.zones) { h += "<h3>" + esc(T("legend_zones")) + "</h3>"; for (var z in D.colours.zones) h += '<span class="pp-sw" style="background:' + D.colours.zones[z] + '"></span>' + esc(K(z)) + "<br>"; }
  if (G.kerbs) h += "<h3>" + esc(T("legend_kerbs")) + '</h3><div class="pp-ramp"></div><div style="display:flex;justify-content:space-between"><span>' + esc(T("kerb_none")) + "</span><span>" + esc(T("kerb_all")) + "</span></div>";
  h += "<h3>" + esc(T("summary")) + "</h3>";
  if (S.by_type) h += "<b>" + esc(T("bays_by_type")) + "</b>" + bars(S.by_type) + esc(T("total")) + ": " + fmt(S.total) + "<br>";
  if (S.lost_km && Object.keys(S.lost_km).length) h += "<b>" + esc(T("km_lost")) + "</b>" + bars(S.lost_km, "km");
  if (S.by_check) h += "<b>" + esc(T("violations_by_check")) + "</b>" + bars(S.by_check);
  if (S.status) h += "<b>" + esc(T("solver")) + "</b>: " + esc(S.status) + ", " + esc(T("gap")) + " " + fmt(100 * (S.gap || 0)) + " %<br>";
  if (S.subtractive != null) h += esc(T("optimum")) + " " + fmt(S.total) + " · " + esc(T("subtractive")) + " " + fmt(S.subtractive) + "<br>";
  if (S.rules) h += "<b>" + esc(T("rules")) + "</b>: " + esc(S.rules) + (S.jurisdiction ? "<br>" + esc(T("jurisdiction")) + ": " + esc(S.jurisdiction) : "") + "<br>";
  var left = [];
  for (var k in D.counts) if (D.counts[k][1] > D.counts[k][0]) left.push((D.counts[k][1] - D.counts[k][0]).toLocaleString(lang) + " " + T("layer_" + k));
  if (left.length) h += '<p class="pp-notice" id="pp-left-out">' + esc(T("left_out").replace("{what}", left.join(", "))) + "</p>";
  div.innerHTML = h;
  div.querySelector("#pp-lang").onchange = function (e) { setLang(e.target.value); };
  Array.prototype.forEach.call(div.querySelectorAll("input[data-layer]"), function (el) {
    el.onchange = function () { shown[el.getAttribute("data-layer")] = el.checked; draw(); };
  });
  if (current && map.hasLayer && map._popup && map._popup.isOpen()) open(current[0], current[1], current[2]);
}
function setLang(l) { if (CAT[l]) { lang = l; render(); window.parkplanMap.lang = l; } }
render();
draw();
window.parkplanMap = {
  bays: G.bays ? G.bays.n : 0, zones: G.zones ? G.zones.n : 0, kerbs: G.kerbs ? G.kerbs.n : 0,
  violations: G.violations ? G.violations.n : 0, counts: D.counts, lang: lang, setLang: setLang,
  open: function (k, i) { open(k, i); var el = document.querySelector(".leaflet-popup-content"); return el ? el.textContent : null; },
  drawn_ms: performance.now(), build_ms: performance.now() - t0
};
})();
"""
