"""Reading OpenStreetMap files as they come: any format, any order, duplicates, Overpass JSON.

:func:`parkplan.from_osm` reads through :func:`read_osm`, which hands its collector (a function of a pyosmium
input and a flag) the file in the order pyosmium's location and area handlers need, nodes before ways before
relations, each by id, every object once:

* **Format by content.** The first bytes tell an OSM XML (``<``), PBF (``OSMHeader``), bzip2 (``BZh``),
  gzip (``1f 8b``) or Overpass JSON (``{`` with ``"elements"``) file, whatever its name says; the name
  decides only when the content says nothing (pyosmium's own error then).
* **Sorted input is read as it is** (the fast path, no extra pass): the collector is asked to check the
  order as it goes (:func:`in_order`), and libosmium's own checks ("Way IDs out of order", "Way ID twice")
  count as unsorted too.
* **Unsorted input** (an Overpass union, a JOSM save: objects in the order they were returned, some twice)
  is sorted in memory and made unique by libosmium (``osmium.MergeInputReader``, the newest version of
  each object) into a temporary uncompressed PBF, removed afterwards, and read from there; above
  :data:`SORT_LIMITS_BYTES` for its format the file is refused with the ``osmium sort`` command to run.
* **Overpass JSON** (``[out:json]``: ``elements`` of type ``node``, ``way``, ``relation``) is parsed,
  made unique, sorted and handed over as OPL text in memory (no temporary file). ``out geom`` ways (node
  ids with a ``geometry``) give their nodes the coordinates listed; ``out geom`` relation members (a way
  as a ``geometry`` only) become ways whose nodes are shared where coordinates coincide; ``out center``
  or ``out ids`` ways have no geometry and are refused with the query to use. A ``remark`` (Overpass
  stopped the query: a timeout, out of memory) means incomplete data and is an error.

Only the standard library is imported here (pyosmium when a file is read), so the command line can tell an
OSM input (:func:`is_osm_input`) cheaply.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from parkplan.errors import InputError

__all__ = [
    "JSON_SUFFIXES",
    "OSM_SUFFIXES",
    "SORT_LIMITS_BYTES",
    "UnsortedError",
    "header_box",
    "in_order",
    "is_osm_input",
    "read_osm",
    "sniff_format",
]

#: File names read as OpenStreetMap whatever their content (XML, PBF, compressed XML, Overpass JSON).
OSM_SUFFIXES: tuple[str, ...] = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz", ".osm.json")

#: File names read as OpenStreetMap when their content is Overpass JSON (else GeoJSON).
JSON_SUFFIXES: tuple[str, ...] = (".json",)

#: Largest file (bytes on disk) sorted in memory, per format (pyosmium's format names; ``json`` is Overpass
#: JSON, always parsed in memory). About 1-2 GB of memory each: libosmium keeps every object, a PBF or a
#: compressed XML file holds about ten times its size, and Python's parse of a JSON file about ten times.
SORT_LIMITS_BYTES: dict[str, int] = {
    "osm": 1_000_000_000,
    "osm.bz2": 100_000_000,
    "osm.gz": 100_000_000,
    "pbf": 100_000_000,
    "json": 200_000_000,
}

#: Bytes read from the start of a file to tell its format.
SNIFF_BYTES = 65_536

_T = TypeVar("_T")

#: A collector: reads a pyosmium input (a path, ``osmium.io.File`` or ``osmium.io.FileBuffer``); when the
#: flag is true it must iterate through :func:`in_order` (the input may be unsorted).
Collector = Callable[[Any, bool], _T]

_OUT_OF_ORDER = re.compile(r"out of order|twice in input", re.IGNORECASE)
_JSON_OSM = re.compile(rb'"elements"\s*:\s*\[')
_JSON_GEO = re.compile(
    rb'"features"\s*:\s*\[|"type"\s*:\s*"(?:FeatureCollection|Feature|GeometryCollection|'
    rb'(?:Multi)?(?:Point|LineString|Polygon))"'
)
_PLAIN = re.compile(r"[^0-9A-Za-z_.:/;()'+*!?\-]")
_RANKS = {"node": 0, "way": 1, "relation": 2}
_LETTERS = {"node": "n", "way": "w", "relation": "r"}
# libosmium's id order: negative ids by absolute value, then 0, then positive ids.
_NEGATIVE_BASE = -(2**62)


class UnsortedError(Exception):
    """The objects of an OSM file are not in type and id order (or one comes twice).

    Raised by :func:`in_order` and caught by :func:`read_osm`, which then sorts the file. ``reason`` says
    where the order broke (``"way 5 after way 7"``).
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _id_key(osm_id: int) -> int:
    """Return a key ordering ids as libosmium sorts them (negative by absolute value, 0, positive)."""
    return osm_id if osm_id >= 0 else _NEGATIVE_BASE - osm_id


def in_order(objects: Iterable[Any]) -> Iterator[Any]:
    """Yield pyosmium objects, raising :class:`UnsortedError` where they leave type and id order.

    Nodes must come before ways before relations, each type by strictly increasing id (libosmium's order,
    see :func:`_id_key`); an id twice is out of order. Areas (and any other type) pass unchecked.

    Parameters
    ----------
    objects
        What a ``osmium.FileProcessor`` yields.

    Yields
    ------
    Any
        The objects, unchanged.

    Raises
    ------
    UnsortedError
        At the first object out of order.
    """
    import osmium

    ranks = {osmium.osm.Node: 0, osmium.osm.Way: 1, osmium.osm.Relation: 2}
    last = (-1, 0)
    for obj in objects:
        rank = ranks.get(type(obj))
        if rank is not None:
            key = (rank, _id_key(obj.id))
            if key <= last:
                names = ("node", "way", "relation")
                before = f"{names[last[0]]} {_unkey(last[1])}"
                raise UnsortedError(f"{names[rank]} {obj.id} after {before}")
            last = key
        yield obj


def _unkey(key: int) -> int:
    return key if key >= 0 else _NEGATIVE_BASE - key


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(SNIFF_BYTES)


def _json_kind(head: bytes) -> str | None:
    """Tell Overpass JSON (``"osm"``) from GeoJSON (``"geojson"``) by the first telling key in ``head``."""
    osm = _JSON_OSM.search(head)
    geo = _JSON_GEO.search(head)
    if osm is None and geo is None:
        return None
    if geo is None or (osm is not None and osm.start() < geo.start()):
        return "osm"
    return "geojson"


def sniff_format(path: str | os.PathLike[str]) -> str | None:
    """Return an OSM file's format from its first bytes, or ``None`` when they tell none.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str or None
        pyosmium's format name (``"osm"`` for XML, ``"pbf"``, ``"osm.bz2"``, ``"osm.gz"``), ``"json"`` for
        Overpass JSON, or ``None`` (GeoJSON, something else, or an unreadable file: the caller's reader
        then says what is wrong).
    """
    try:
        head = _head(Path(path))
    except OSError:
        return None
    if head.startswith(b"BZh"):
        return "osm.bz2"
    if head.startswith(b"\x1f\x8b"):
        return "osm.gz"
    if b"OSMHeader" in head[:32]:
        return "pbf"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return "osm"
    if text.startswith(b"{") and _json_kind(text) == "osm":
        return "json"
    return None


def is_osm_input(data: object) -> bool:
    """Tell whether a kerb input is an OpenStreetMap file, for the command line and the checker.

    Parameters
    ----------
    data
        A kerb input: a path, or anything else (a GeoDataFrame, a ``PATH:LAYER``...).

    Returns
    -------
    bool
        True for a path ending in one of :data:`OSM_SUFFIXES`, or in one of :data:`JSON_SUFFIXES` whose
        content is Overpass JSON (``"elements"`` before any GeoJSON key in its first
        :data:`SNIFF_BYTES` bytes); False otherwise, and for a ``.json`` that cannot be read (the GeoJSON
        reader then says why).
    """
    if not isinstance(data, (str, os.PathLike)):
        return False
    name = os.fspath(data)
    if not isinstance(name, str):
        return False
    lower = name.lower()
    if lower.endswith(OSM_SUFFIXES):
        return True
    return lower.endswith(JSON_SUFFIXES) and os.path.isfile(name) and sniff_format(name) == "json"


def import_osmium() -> Any:
    """Import pyosmium, or say how to install it (it comes with the ``osm`` extra)."""
    try:
        import osmium
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        raise InputError('reading OpenStreetMap needs pyosmium: pip install "parkplan[osm]"') from exc
    return osmium


def _size_text(n_bytes: int) -> str:
    if n_bytes < 100_000:
        return f"{n_bytes:,} bytes"
    return f"{n_bytes / 1e6:,.0f} MB" if n_bytes >= 10_000_000 else f"{n_bytes / 1e6:,.1f} MB"


#: How the error messages name each format.
_FORMAT_NAMES = {"osm": "OSM XML", "pbf": "PBF", "osm.bz2": "bzip2 OSM XML", "osm.gz": "gzip OSM XML"}


def _check_size(path: Path, fmt: str, why: str) -> None:
    """Refuse a file over the in-memory limit of its format (:data:`SORT_LIMITS_BYTES`)."""
    size = path.stat().st_size
    limit = SORT_LIMITS_BYTES[fmt]
    if size <= limit:
        return
    if fmt == "json":
        raise InputError(
            f"Overpass JSON is read in memory, and at {_size_text(size)} the file is over the "
            f"{_size_text(limit)} limit (parkplan.osm.read.SORT_LIMITS_BYTES); download it as OSM XML or "
            "PBF instead ([out:xml] in the query; osmium sort reads those)",
            source=str(path),
        )
    raise InputError(
        f"objects are not sorted by type and id ({why}), and at {_size_text(size)} the file is over the "
        f"{_size_text(limit)} limit for sorting {_FORMAT_NAMES[fmt]} in memory "
        f"(parkplan.osm.read.SORT_LIMITS_BYTES); sort it first: osmium sort {path} -o sorted.osm.pbf",
        source=str(path),
    )


_EMPTY_XML = b'<?xml version="1.0" encoding="UTF-8"?><osm version="0.6"></osm>'


def _sort_into(path: Path, fmt: str, target: Path) -> None:
    """Write ``path``'s objects sorted by type and id, each once (newest version), to a PBF ``target``."""
    osmium = import_osmium()
    merger = osmium.MergeInputReader()
    if _format_from_name(str(path)) != fmt:
        merger.add_buffer(path.read_bytes(), fmt)  # a name that does not tell pyosmium the format
    else:
        merger.add_file(str(path))
    reader = osmium.io.Reader(osmium.io.FileBuffer(_EMPTY_XML, "osm"))
    writer = osmium.io.Writer(osmium.io.File(str(target), "pbf,pbf_compression=none"))
    try:
        merger.apply_to_reader(reader, writer, False)
    finally:
        writer.close()
        reader.close()


def _source(path: Path, fmt: str | None) -> Any:
    """Return what pyosmium reads ``path`` from: a File of the format its content shows, else the path."""
    return str(path) if fmt is None else import_osmium().io.File(str(path), fmt)


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def read_osm(path: str | os.PathLike[str], collect: Collector[_T]) -> _T:
    """Read an OSM file in any order with ``collect``, turning every failure into a one-line error.

    Parameters
    ----------
    path
        An OSM XML, PBF, bzip2 or gzip XML, or Overpass JSON file (format from its content, see
        :func:`sniff_format`), its objects in any order, duplicates included.
    collect
        ``collect(source, check)`` reads the pyosmium input ``source`` with node locations and areas and
        returns what it collected. With ``check`` true the input may be unsorted: it must iterate through
        :func:`in_order` and let :class:`UnsortedError` out (or libosmium's "out of order" error); it is then
        called again with the sorted file and ``check`` false. It must have no effect beyond its result.

    Returns
    -------
    Any
        What ``collect`` returned.

    Raises
    ------
    parkplan.InputError
        The file is missing, a folder or not readable; malformed or truncated; unsorted and over
        :data:`SORT_LIMITS_BYTES`; or Overpass JSON with a ``remark`` (an incomplete result) or without
        way geometry. The message is one line and names the file.
    """
    p = Path(path)
    label = str(p)
    if not p.exists():
        raise InputError("OSM file not found", source=label)
    if p.is_dir():
        raise InputError("is a folder, not an OSM file", source=label)
    if not os.access(p, os.R_OK):
        raise InputError("OSM file is not readable", source=label)
    fmt = sniff_format(p)
    if fmt == "json" or (fmt is None and label.lower().endswith((".osm.json", *JSON_SUFFIXES))):
        _check_size(p, "json", "")
        opl = overpass_to_opl(p)
        return _collecting(label, lambda: collect(import_osmium().io.FileBuffer(opl, "opl"), False))
    try:
        return _collecting(label, lambda: collect(_source(p, fmt), True), fast=True)
    except _RereadError as unsorted:
        why = unsorted.reason
    fmt = fmt or _format_from_name(label)
    if fmt is None:  # pragma: no cover - pyosmium read it, so the name told the format
        raise InputError(f"cannot sort OSM data ({why}): unknown format", source=label)
    _check_size(p, fmt, why)
    with tempfile.TemporaryDirectory(prefix="parkplan-osm-") as tmp:
        target = Path(tmp) / "sorted.osm.pbf"
        _collecting(label, lambda: _sort_into(p, fmt, target))
        return _collecting(label, lambda: collect(str(target), False))


class _RereadError(Exception):
    """The fast path met unsorted data: sort and read again (``reason`` says where)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _format_from_name(label: str) -> str | None:
    lower = label.lower()
    for suffix, fmt in ((".bz2", "osm.bz2"), (".gz", "osm.gz"), (".pbf", "pbf"), (".osm", "osm")):
        if lower.endswith(suffix):
            return fmt
    return None


def _collecting(label: str, run: Callable[[], _T], *, fast: bool = False) -> _T:
    """Run a pyosmium read, its errors as a one-line :class:`InputError`.

    On the ``fast`` path (the file as it is) unsorted data raises :class:`_RereadError` instead.
    """
    try:
        return run()
    except UnsortedError as exc:
        if not fast:  # pragma: no cover - only the fast path checks the order
            raise InputError(f"cannot read OSM data in order ({exc.reason})", source=label) from exc
        raise _RereadError(exc.reason) from exc
    except (RuntimeError, ValueError, OSError, EOFError) as exc:
        if isinstance(exc, InputError):
            raise
        reason = _reason(exc)
        if fast and isinstance(exc, RuntimeError) and _OUT_OF_ORDER.search(reason):
            raise _RereadError(reason) from exc
        raise InputError(
            f"cannot read OSM data ({reason}); is it a complete .osm, .osm.pbf, .osm.bz2, .osm.gz or "
            "Overpass JSON file?",
            source=label,
        ) from exc


def header_box(path: str | os.PathLike[str]) -> tuple[float, float, float, float] | None:
    """Return the bounding box an OSM file's header declares, or ``None`` (none, or Overpass JSON).

    Parameters
    ----------
    path
        The OSM file.

    Returns
    -------
    tuple of float or None
        ``(min_lon, min_lat, max_lon, max_lat)``.

    Raises
    ------
    parkplan.InputError
        The header cannot be read.
    """
    p = Path(path)
    fmt = sniff_format(p)
    if fmt == "json":
        return None
    osmium = import_osmium()
    try:
        reader = osmium.io.Reader(_source(p, fmt), osmium.osm.osm_entity_bits.NOTHING)
        try:
            box = reader.header().box()
        finally:
            reader.close()
    except (RuntimeError, ValueError, OSError) as exc:
        raise InputError(f"cannot read the OSM header ({_reason(exc)})", source=str(p)) from exc
    if not box.valid():
        return None
    bl, tr = box.bottom_left, box.top_right
    return (bl.lon, bl.lat, tr.lon, tr.lat)


# --------------------------------------------------------------------------------------------------
# Overpass JSON
# --------------------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    """Escape a tag key, value or role for OPL: every character but a plain few as ``%<hex>%``."""
    return _PLAIN.sub(lambda m: f"%{ord(m.group()):x}%", text)


def _coordinate(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _point(item: object) -> tuple[float, float] | None:
    """Return ``(lon, lat)`` of a JSON object with numeric ``lat`` and ``lon``, else ``None``."""
    if not isinstance(item, dict):
        return None
    lon, lat = _coordinate(item.get("lon")), _coordinate(item.get("lat"))
    if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def _tags(element: dict[str, Any]) -> str:
    tags = element.get("tags")
    if not isinstance(tags, dict) or not tags:
        return ""
    return " T" + ",".join(f"{_escape(str(k))}={_escape(str(v))}" for k, v in tags.items())


def _version(element: dict[str, Any]) -> str:
    v = element.get("version")
    return f" v{v}" if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else ""


def _richness(element: dict[str, Any]) -> tuple[int, int, int]:
    """Order duplicates: the newest version, then the one with geometry, then the most tags."""
    v = element.get("version")
    version = v if isinstance(v, int) and not isinstance(v, bool) else -1
    shape = int(_point(element) is not None or bool(element.get("nodes")) or bool(element.get("members")))
    tags = element.get("tags")
    return version, shape, len(tags) if isinstance(tags, dict) else 0


def _load_elements(path: Path) -> list[dict[str, Any]]:
    """Parse an Overpass JSON file and return its ``elements``, refusing an incomplete result."""
    label = str(path)
    try:
        with path.open("rb") as f:
            data = json.load(f)
    except (ValueError, OSError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InputError(
            f"cannot read Overpass JSON ({_reason(exc)}); is it a complete [out:json] download?", source=label
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
        raise InputError('not Overpass JSON: no "elements" list at the top level', source=label)
    remark = data.get("remark")
    if isinstance(remark, str) and remark.strip():
        raise InputError(
            f"Overpass stopped the query early, the data is incomplete ({' '.join(remark.split())}); "
            "query a smaller area or raise [timeout:...] / [maxsize:...]",
            source=label,
        )
    elements: list[dict[str, Any]] = []
    for i, element in enumerate(data["elements"]):
        if not isinstance(element, dict):
            raise InputError("element is not a JSON object", source=label, feature=f"#{i}")
        kind, osm_id = element.get("type"), element.get("id")
        if kind not in _RANKS:
            continue  # "area", "count", ... from other out statements carry no map data
        if not isinstance(osm_id, int) or isinstance(osm_id, bool):
            raise InputError(f"{kind} without an integer id", source=label, feature=f"#{i}")
        elements.append(element)
    return elements


def _locate(
    nodes: dict[int, tuple[str, tuple[float, float] | None]], ref: int, xy: tuple[float, float] | None
) -> None:
    """Give node ``ref`` the location ``xy`` (listed in a way's or member's geometry) if it has none."""
    text, old = nodes.get(ref, ("", None))
    if old is None and xy is not None:
        nodes[ref] = (text, xy)


def overpass_to_opl(path: str | os.PathLike[str]) -> bytes:
    """Convert an Overpass JSON file to OPL text, sorted by type and id, each object once.

    Parameters
    ----------
    path
        An ``[out:json]`` result: ``elements`` of type ``node`` (``lat``, ``lon``), ``way`` (``nodes``,
        optionally ``geometry``) and ``relation`` (``members``, optionally with ``geometry``), any order,
        duplicates included (the newest ``version`` wins, then the one with geometry, then more tags).

    Returns
    -------
    bytes
        OPL for ``osmium.io.FileBuffer(..., "opl")``. Nodes listed only in an ``out geom`` way's
        ``geometry`` are added with those coordinates; a relation member way known only by its ``geometry``
        is added as a way whose nodes (new ids above the largest node id) are shared where coordinates
        coincide.

    Raises
    ------
    parkplan.InputError
        Not readable as Overpass JSON, a ``remark`` (incomplete), or ways without any coordinates.
    """
    p = Path(path)
    best: dict[tuple[str, int], dict[str, Any]] = {}
    for element in _load_elements(p):
        key = (element["type"], element["id"])
        old = best.get(key)
        if old is None or _richness(element) > _richness(old):
            best[key] = element
    # node id -> [OPL version and tags, (lon, lat) or None]
    nodes: dict[int, tuple[str, tuple[float, float] | None]] = {
        i: (_version(e) + _tags(e), _point(e)) for (kind, i), e in best.items() if kind == "node"
    }
    ways: dict[int, tuple[str, list[int]]] = {}
    relations: dict[int, str] = {}
    next_id = max([i for (_, i) in best] + [0]) + 1  # ids of the nodes made for member geometry
    made: dict[tuple[float, float], int] = {}
    for (kind, osm_id), element in best.items():
        if kind == "way":
            refs = [r for r in element.get("nodes") or [] if isinstance(r, int) and not isinstance(r, bool)]
            geometry = element.get("geometry")
            if isinstance(geometry, list) and len(geometry) == len(refs):  # out geom
                for ref, item in zip(refs, geometry, strict=True):
                    xy = _point(item)
                    _locate(nodes, ref, xy)
            ways[osm_id] = (_version(element) + _tags(element), refs)
        elif kind == "relation":
            members = []
            for m in element.get("members") or []:
                if not isinstance(m, dict):
                    continue
                member = m.get("ref")
                if m.get("type") not in _RANKS or not isinstance(member, int) or isinstance(member, bool):
                    continue
                geometry = m.get("geometry")
                if m["type"] == "way" and ("way", member) not in best and isinstance(geometry, list):
                    made_refs: list[int] = []
                    for xy in filter(None, map(_point, geometry)):
                        if xy not in made:
                            made[xy] = next_id
                            nodes[next_id] = ("", xy)
                            next_id += 1
                        made_refs.append(made[xy])
                    if len(made_refs) >= 2:
                        ways.setdefault(member, ("", made_refs))
                elif m["type"] == "node":
                    _locate(nodes, member, _point(m))
                members.append(f"{_LETTERS[m['type']]}{member}@{_escape(str(m.get('role') or ''))}")
            relations[osm_id] = f"{_version(element)}{_tags(element)} M" + ",".join(members)
    if ways and not any(nodes.get(r, ("", None))[1] is not None for _, refs in ways.values() for r in refs):
        raise InputError(
            "Overpass JSON ways come without node coordinates (out center, out ids or out tags?); query "
            'them with "out geom;" or with their nodes: "(._;>;); out;"',
            source=str(p),
        )
    lines = [
        f"n{i}{text}" + (f" x{xy[0]:.7f} y{xy[1]:.7f}" if xy else "")
        for i, (text, xy) in sorted(nodes.items(), key=lambda kv: _id_key(kv[0]))
        if xy is not None or text
    ]
    lines += [
        f"w{i}{ways[i][0]} N" + ",".join(f"n{r}" for r in ways[i][1]) for i in sorted(ways, key=_id_key)
    ]
    lines += [f"r{i}{relations[i]}" for i in sorted(relations, key=_id_key)]
    return "".join(line + "\n" for line in lines).encode()
