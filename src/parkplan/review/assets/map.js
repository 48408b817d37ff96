// parkplan review map: decodes the inlined data, draws it on one canvas, popups, panel, languages.
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
var TM = {parse_ms: performance.now() - t0};
var G = {}, name;
for (name in D.layers) G[name] = decode(name);
TM.decode_ms = performance.now() - t0;
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
function flush(st) {
  if (st.line) ctx.stroke(); else { ctx.fill(); if (st.width) ctx.stroke(); }
}
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
    // Paths are flushed every CHUNK features (one huge path is very slow to stroke or fill), and
    // points closer than ~0.7 px to the last one drawn are skipped (a far zoom draws few vertices).
    var CHUNK = 400;
    for (var colour in GROUPS[k]) {
      var list = GROUPS[k][colour], n = 0;
      ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = st.width || 1;
      ctx.beginPath();
      for (var a = 0; a < list.length; a++) {
        var f = list[a];
        if (b[4 * f] > vx1 + pad || b[4 * f + 2] < vx0 - pad || b[4 * f + 1] > vy1 + pad || b[4 * f + 3] < vy0 - pad) continue;
        for (var p = g.start[f]; p < g.start[f + 1]; p++) {
          var s0 = g.pstart[p], e0 = g.pstart[p + 1], lx = 0, ly = 0, drawn = 0;
          for (var q = s0; q < e0; q++) {
            var x = xy[2 * q] * sc - o.x, y = xy[2 * q + 1] * sc - o.y;
            if (q === s0) { ctx.moveTo(x, y); lx = x; ly = y; drawn = 1; continue; }
            if (q < e0 - 1 && Math.abs(x - lx) < 0.7 && Math.abs(y - ly) < 0.7) continue;
            ctx.lineTo(x, y); lx = x; ly = y; drawn++;
          }
          if (!st.line) { if (drawn < 3) ctx.rect(lx - 0.5, ly - 0.5, 1, 1); else ctx.closePath(); }
        }
        if (++n % CHUNK === 0) { flush(st); ctx.beginPath(); }
      }
      flush(st);
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
var current = null, popup = null;
function open(k, i, latlng) {
  if (!latlng) { var g = G[k], q = g.pstart[g.start[i]]; latlng = unproject(g.xy[2 * q], g.xy[2 * q + 1]); }
  current = [k, i, latlng];
  popup = L.popup({maxWidth: 420}).setLatLng(latlng).setContent(popupHtml(k, i)).openOn(map);
  return popup;
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
  if (S.violations != null) h += esc(T("layer_violations")) + ": " + fmt(S.violations) + " · " + esc(T("layer_bays")) + ": " + fmt(S.checked) + "<br>";
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
  if (current && popup && popup.isOpen()) open(current[0], current[1], current[2]);
}
function setLang(l) { if (CAT[l]) { lang = l; render(); window.parkplanMap.lang = l; } }
TM.setup_ms = performance.now() - t0;
render();
TM.panel_ms = performance.now() - t0;
draw();
TM.draw_ms = performance.now() - t0;
window.parkplanMap = {
  bays: G.bays ? G.bays.n : 0, zones: G.zones ? G.zones.n : 0, kerbs: G.kerbs ? G.kerbs.n : 0,
  violations: G.violations ? G.violations.n : 0, counts: D.counts, lang: lang, setLang: setLang,
  open: function (k, i) { open(k, i); var el = document.querySelector(".leaflet-popup-content"); return el ? el.textContent : null; },
  zoomTo: function (lat, lng, z) { map.setView([lat, lng], z, {animate: false}); },
  timings: TM, drawn_ms: performance.now(), build_ms: performance.now() - t0
};
})();
