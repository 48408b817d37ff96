"""OSM files in any order, duplicates included, and Overpass JSON: the same frames and bays as sorted.

The bundled Neukölln extract (sorted, as Overpass wrote it) is rewritten here: its objects reversed and
shuffled with nodes, ways and relations interleaved and some repeated (what an Overpass union or a JOSM
save looks like), compressed, and converted to Overpass JSON (``out body`` with its nodes, and ``out geom``
without the untagged ones). Each must read and plan exactly as the sorted file does.
"""

from __future__ import annotations

import bz2
import gzip
import json
import random
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

import parkplan
from cli_run import assert_one_error, run
from parkplan.osm import read as osm_read
from parkplan.osm.streets import Mode, from_osm, osm_extent

NEUKOELLN = Path(__file__).parent / "data" / "osm" / "neukoelln-2024.osm"
RULES = "de-parkraum"
TYPES = ("node", "way", "relation")


# --------------------------------------------------------------------------------------------------
# Rewriting the extract
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def objects() -> tuple[list[ET.Element], list[ET.Element]]:
    """The extract's ``<osm>`` children: (header elements such as ``<note>``, the objects in file order)."""
    root = ET.parse(NEUKOELLN).getroot()
    head = [e for e in root if e.tag not in TYPES]
    return head, [e for e in root if e.tag in TYPES]


def _write_xml(path: Path, head: list[ET.Element], objs: list[ET.Element]) -> Path:
    root = ET.Element("osm", {"version": "0.6", "generator": "parkplan tests"})
    root.extend(head)
    root.extend(objs)
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)
    return path


def _shuffled(objs: list[ET.Element]) -> list[ET.Element]:
    """Reverse, interleave the types, and repeat a node, a way and a relation (as an Overpass union does)."""
    out = objs[::-1]
    random.Random(14).shuffle(out)
    for kind in TYPES:
        first = next(e for e in objs if e.tag == kind and len(e))  # one with tags or members
        out.insert(len(out) // 3, first)
    return out


def _element(e: ET.Element, geom: dict[str, tuple[float, float]] | None = None) -> dict[str, Any]:
    """One OSM XML object as an Overpass JSON element (``geom``: node id -> (lat, lon) for ``out geom``)."""
    out: dict[str, Any] = {"type": e.tag, "id": int(e.attrib["id"])}
    if e.tag == "node":
        out["lat"], out["lon"] = float(e.attrib["lat"]), float(e.attrib["lon"])
    for key in ("timestamp", "version", "changeset", "user", "uid"):
        if key in e.attrib:
            out[key] = int(e.attrib[key]) if key in {"version", "changeset", "uid"} else e.attrib[key]
    if e.tag == "way":
        out["nodes"] = [int(nd.attrib["ref"]) for nd in e.iter("nd")]
        if geom is not None:
            out["geometry"] = [
                {"lat": geom[str(r)][0], "lon": geom[str(r)][1]} if str(r) in geom else None
                for r in out["nodes"]
            ]
    if e.tag == "relation":
        out["members"] = [
            {"type": m.attrib["type"], "ref": int(m.attrib["ref"]), "role": m.attrib["role"]}
            for m in e.iter("member")
        ]
    tags = {t.attrib["k"]: t.attrib["v"] for t in e.iter("tag")}
    if tags:
        out["tags"] = tags
    return out


def _write_json(path: Path, elements: list[dict[str, Any]], **extra: Any) -> Path:
    doc = {
        "version": 0.6,
        "generator": "Overpass API 0.7.62.1 084b4234",
        "osm3s": {"timestamp_osm_base": "2024-03-30T13:08:30Z", "copyright": "ODbL"},
        **extra,
        "elements": elements,
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, objects: Any) -> dict[str, Path]:
    """The extract in every form: sorted, shuffled, compressed, Overpass JSON (out body and out geom)."""
    d = tmp_path_factory.mktemp("order")
    head, objs = objects
    shuffled = _shuffled(objs)
    out = {"sorted": NEUKOELLN, "shuffled": _write_xml(d / "shuffled.osm", head, shuffled)}
    data = out["shuffled"].read_bytes()
    out["bz2"] = d / "shuffled.osm.bz2"
    out["bz2"].write_bytes(bz2.compress(data))
    out["gz"] = d / "shuffled.osm.gz"
    out["gz"].write_bytes(gzip.compress(data))
    out["json"] = _write_json(d / "overpass.json", [_element(e) for e in shuffled])
    # out geom: ways carry their coordinates, only the tagged nodes come on their own.
    where = {
        e.attrib["id"]: (float(e.attrib["lat"]), float(e.attrib["lon"])) for e in objs if e.tag == "node"
    }
    geom = [_element(e, where) for e in shuffled if e.tag != "node" or len(e)]
    out["geom"] = _write_json(d / "overpass-geom.osm.json", geom)
    return out


def _frames(path: Path, mode: Mode = "plan") -> tuple[gpd.GeoDataFrame, ...]:
    osm = from_osm(path, mode=mode)
    return osm.kerbs, osm.hazards, osm.ways, osm.parking


def _assert_same_frames(a: tuple[gpd.GeoDataFrame, ...], b: tuple[gpd.GeoDataFrame, ...]) -> None:
    for x, y in zip(a, b, strict=True):
        assert list(x.columns) == list(y.columns)
        assert len(x) == len(y)
        assert x.drop(columns="geometry").equals(y.drop(columns="geometry"))
        assert x.geometry.geom_equals_exact(y.geometry, tolerance=1e-9).all()


# --------------------------------------------------------------------------------------------------
# The same frames
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sorted_existing() -> tuple[gpd.GeoDataFrame, ...]:
    return _frames(NEUKOELLN, "existing")


@pytest.mark.parametrize("name", ["shuffled", "bz2", "gz", "json", "geom"])
def test_same_frames_as_sorted(files, sorted_existing, name):
    """Street areas, hazards, ways (with their parking sides) and parking: identical, row for row."""
    _assert_same_frames(_frames(files[name], "existing"), sorted_existing)


def test_shuffled_file_is_unsorted_on_the_fast_path(files):
    """The test data really is out of order: the order check stops the fast path, libosmium agrees."""
    import osmium

    with pytest.raises(osm_read.UnsortedError):
        for _ in osm_read.in_order(osmium.FileProcessor(str(files["shuffled"]))):
            pass
    with pytest.raises(RuntimeError, match=r"out of order|twice"):
        for _ in osmium.FileProcessor(str(files["shuffled"])).with_locations().with_areas():
            pass
    for _ in osm_read.in_order(osmium.FileProcessor(str(NEUKOELLN))):  # the sorted file passes
        pass


def test_duplicates_are_read_once(tmp_path, objects):
    """A sorted file with a node twice (libosmium passes a repeated node silently) is read as without."""
    from parkplan.osm.streets import _read

    head, objs = objects
    hydrant = next(e for e in objs if e.tag == "node" and any(t.get("v") == "fire_hydrant" for t in e))
    i = objs.index(hydrant)
    path = _write_xml(tmp_path / "twice.osm", head, [*objs[: i + 1], hydrant, *objs[i + 1 :]])
    nodes = [n[0] for n in _read(path, False).hazard_nodes]
    assert nodes.count(int(hydrant.attrib["id"])) == 1
    assert sorted(nodes) == sorted(n[0] for n in _read(NEUKOELLN, False).hazard_nodes)


def test_sorted_file_is_never_sorted(monkeypatch):
    """The sorted file takes the fast path: it is never sorted."""

    def fail(*args: object) -> None:
        raise AssertionError("a sorted file was sorted")

    monkeypatch.setattr(osm_read, "_sort_into", fail)
    areas = from_osm(NEUKOELLN).kerbs
    assert len(areas)


# --------------------------------------------------------------------------------------------------
# The same bays
# --------------------------------------------------------------------------------------------------


def _plan(capsys, path: Path, out: Path, *args: str) -> bytes:
    code, _, err = run(capsys, "plan", path, "--rules", RULES, "-o", out, "-q", *args)
    assert code == 0, err
    return out.read_bytes()


@pytest.mark.parametrize("mode", ["plan", "existing"])
def test_shuffled_plans_the_same_bays(capsys, tmp_path, files, mode):
    """Same bay ids and geometry, byte for byte, and the checker finds nothing wrong with them."""
    ref = _plan(capsys, NEUKOELLN, tmp_path / "sorted.geojson", "--mode", mode)
    got = _plan(capsys, files["shuffled"], tmp_path / "shuffled.geojson", "--mode", mode)
    assert got == ref
    bays = gpd.read_file(tmp_path / "shuffled.geojson")
    assert len(bays) > 100
    violations = parkplan.check(tmp_path / "shuffled.geojson", str(files["shuffled"]), rules=RULES, mode=mode)
    assert len(violations) == 0, violations["check"].value_counts()


def test_overpass_json_plans_the_same_bays(capsys, tmp_path, files):
    """A ``.json`` kerb input holding Overpass JSON is read as OSM (not GeoJSON) and plans identically."""
    ref = _plan(capsys, NEUKOELLN, tmp_path / "sorted.geojson")
    assert _plan(capsys, files["json"], tmp_path / "json.geojson") == ref
    code, out, err = run(capsys, "check", tmp_path / "json.geojson", files["json"], "--rules", RULES)
    assert code == 0, err
    assert "0 violations" in out + err


# --------------------------------------------------------------------------------------------------
# Telling formats apart
# --------------------------------------------------------------------------------------------------


def test_geojson_is_not_osm(tmp_path, files):
    geo = tmp_path / "kerbs.json"
    geo.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
                   '{"elements": []}, "geometry": null}]}')  # fmt: skip
    assert not osm_read.is_osm_input(geo)
    assert osm_read.sniff_format(geo) is None
    assert osm_read.is_osm_input(files["json"])
    assert osm_read.is_osm_input(str(files["geom"]))
    assert not osm_read.is_osm_input(tmp_path / "missing.json")
    assert not osm_read.is_osm_input(gpd.GeoDataFrame())
    assert [osm_read.sniff_format(files[k]) for k in ("shuffled", "bz2", "gz", "json")] == [
        "osm", "osm.bz2", "osm.gz", "json"
    ]  # fmt: skip


def test_format_by_content_not_name(tmp_path, files):
    """An XML extract saved without the right extension (a browser's ``map``) still reads."""
    odd = tmp_path / "map.xml.osm.bz2"
    shutil.copy(files["gz"], odd)  # gzip content under a bzip2 name
    hazards = from_osm(odd).hazards
    assert len(hazards)


def test_overpass_json_has_no_extent(files):
    assert osm_extent(files["json"]) is None


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


def _one_line_error(path: Path, *expected: str) -> str:
    with pytest.raises(parkplan.InputError) as info:
        from_osm(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    for text in expected:
        assert text in message, message
    return message


def test_unsorted_over_the_limit(monkeypatch, files, capsys):
    """Over the size limit an unsorted file is refused in one line naming the limit and ``osmium sort``."""
    monkeypatch.setitem(osm_read.SORT_LIMITS_BYTES, "osm", 1000)
    _one_line_error(files["shuffled"], "not sorted", "limit", "osmium sort", "after", "1,000 bytes")
    hazards = from_osm(NEUKOELLN).hazards  # a sorted file over the limit reads
    assert len(hazards)
    code, _, err = run(capsys, "plan", files["shuffled"], "-o", "x.geojson")
    assert_one_error(code, err, str(files["shuffled"]), "osmium sort")


def test_json_over_the_limit(monkeypatch, files):
    monkeypatch.setitem(osm_read.SORT_LIMITS_BYTES, "json", 1000)
    _one_line_error(files["json"], "Overpass JSON", "limit")


@pytest.mark.parametrize("name", ["shuffled", "json", "bz2", "gz"])
def test_truncated(tmp_path, files, name):
    data = files[name].read_bytes()
    path = tmp_path / ("truncated-" + files[name].name)
    path.write_bytes(data[: len(data) // 2])
    _one_line_error(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"elements": [{"type": "node", "id": "x"}]}', "integer id"),
        ('{"elements": [3]}', "not a JSON object"),
        ('{"elements": 3, "features": []}', "elements"),
        ('{"elements": [], "remark": "runtime error: Query timed out in \\"query\\" at line 3"}',
         "timed out"),
        ('{"elements": [{"type": "way", "id": 1, "center": {"lat": 1, "lon": 2}, "nodes": [1, 2],'
         ' "tags": {"highway": "residential"}}]}', "out geom"),
        ('{"elements": [{"type": "node", "id": 1, "lat": 52.0, "lon": 13.0}]}', "no carriageway"),
    ],
)  # fmt: skip
def test_bad_overpass_json(tmp_path, text, expected):
    path = tmp_path / "bad.osm.json"
    path.write_text(text)
    _one_line_error(path, expected)


def test_member_geometry_builds_the_multipolygon(tmp_path):
    """``out geom`` relation members without their ways: the multipolygon is still assembled."""
    ring = [(52.0, 13.0), (52.0, 13.001), (52.001, 13.001), (52.001, 13.0)]
    nodes = [{"type": "node", "id": i + 1, "lat": lat, "lon": lon} for i, (lat, lon) in enumerate(ring)]
    street = {"type": "way", "id": 10, "nodes": [1, 2], "tags": {"highway": "residential"}}
    halves = [[ring[0], ring[1], ring[2]], [ring[2], ring[3], ring[0]]]
    relation = {
        "type": "relation",
        "id": 7,
        "members": [
            {"type": "way", "ref": 100 + i, "role": "outer", "geometry": [{"lat": a, "lon": b} for a, b in h]}
            for i, h in enumerate(halves)
        ],
        "tags": {"type": "multipolygon", "area:highway": "prohibited"},
    }
    path = _write_json(tmp_path / "geom.json", [relation, street, *nodes])
    hazards = from_osm(path).hazards
    zone = hazards.set_index("hazard_id").loc["relation/7"]
    assert zone["kind"] == "no_parking"
    assert zone.geometry.geom_type == "Polygon"
    assert zone.geometry.area == pytest.approx(0.001 * 0.001, rel=1e-6)


def test_tags_with_odd_characters(tmp_path):
    """Tag values with spaces, commas, ``=``, ``@``, ``%`` and non-ASCII survive the OPL conversion."""
    name = "Straße 1, a=b @ 50% — 北京"
    elements = [
        {"type": "node", "id": 1, "lat": 52.0, "lon": 13.0},
        {"type": "node", "id": 2, "lat": 52.0, "lon": 13.001},
        {"type": "way", "id": 5, "nodes": [1, 2], "tags": {"highway": "residential", "name": name}},
    ]
    path = _write_json(tmp_path / "odd.json", elements)
    ways = from_osm(path).ways
    assert ways["name"].tolist() == [name]
