"""Jurisdiction rules: bay types, clearances around hazards, grouping of bays into runs.

Rules are data. A rules file is TOML (see ``docs/rules-format.md``); presets shipped with the package
live in ``parkplan/rules/presets/*.toml``. :func:`load_rules` accepts a preset name, a path, a mapping or a
:class:`Rules` object and returns a validated, frozen :class:`Rules`.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from parkplan.arguments import check_rules
from parkplan.errors import RulesError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "ROAD_CLASSES",
    "AccessibleRow",
    "BayType",
    "Clearance",
    "CrossSection",
    "Grouping",
    "KindDefaults",
    "Quotas",
    "Rules",
    "Source",
    "WidthRow",
    "is_rules_file",
    "list_presets",
    "load_rules",
    "normalise_kind",
    "rules_files",
]

Orientation = Literal["parallel", "angled", "perpendicular"]
Traffic = Literal["right", "left"]
Match = Literal["nearest", "all"]
AppliesTo = Literal["same", "opposite", "both"]
Anchor = Literal["edge", "centre"]
FOOT_M = 0.3048
"""One international foot in metres (exact)."""

_ORIENTATIONS = ("parallel", "angled", "perpendicular")
ROLES = ("standard", "accessible", "large", "motorcycle", "loading")
MIN_BAY_SIDE_M = 0.3
"""Smallest bay length or width accepted (metres): a bicycle stand is about 0.5 m wide."""
_DOC_KEYS = {"source", "verified", "note", "description"}
_MAX_NUMBER = 100_000.0
"""Largest value any rules number may take (metres, degrees or weight): larger ones overflow the solver."""

#: Road classes a rule set may list in ``[road_classes] no_parking``, and how parkplan recognises each in
#: OpenStreetMap tags (:func:`parkplan.from_osm`). A way may be in several; its kerbs are no-parking
#: (hazard kind ``road_class``) when any of them is listed.
ROAD_CLASSES: Mapping[str, str] = {
    "motorway": "highway=motorway",
    "motorway_link": "highway=motorway_link",
    "trunk": "highway=trunk",
    "trunk_link": "highway=trunk_link",
    "motorroad": "motorroad=yes (Kraftfahrstraße, autoweg, route express, 自動車専用道路)",
    "expressway": "highway=motorway, or motorroad=yes or expressway=yes (快速路)",
    "main_carriageway": (
        "a highway=trunk or primary way that is not itself a side road, beside a side road of the same "
        "street (side_road=yes or a name ending in 辅路), running along it within 40 m"
    ),
}


@dataclass(frozen=True)
class BayType:
    """One kind of bay the model may place.

    Parameters
    ----------
    name
        Key of the ``[bays.NAME]`` table.
    orientation
        ``"parallel"``, ``"angled"`` or ``"perpendicular"`` to the kerb.
    length_m
        Bay length in the vehicle-length direction (metres).
    width_m
        Bay width across the vehicle (metres).
    angle_deg
        Angle between the bay's long side and the kerb, for angled bays (degrees, 0 < angle < 90).
    weight
        Objective weight of one bay of this type (default 1).
    role
        What the bay is for: ``"standard"``, ``"accessible"``, ``"large"``, ``"motorcycle"`` or
        ``"loading"`` (quotas count bays by role).
    end_length_m
        Length of the first and the last bay of a run, where a standard gives end-of-run bays their own
        length (parallel bays only); ``None``: the same as ``length_m``.
    """

    name: str
    orientation: Orientation
    length_m: float
    width_m: float
    angle_deg: float | None = None
    weight: float = 1.0
    role: str = "standard"
    end_length_m: float | None = None

    @property
    def end_delta_m(self) -> float:
        """How much longer an end-of-run bay is than an inner one (metres; negative: shorter)."""
        return 0.0 if self.end_length_m is None else self.end_length_m - self.length_m

    @property
    def pitch_m(self) -> float:
        """Kerb length one bay takes inside a run (metres)."""
        if self.orientation == "parallel":
            return self.length_m
        if self.orientation == "perpendicular":
            return self.width_m
        assert self.angle_deg is not None
        return self.width_m / math.sin(math.radians(self.angle_deg))

    @property
    def end_m(self) -> float:
        """Extra kerb length a run of these bays needs once (the end triangle of angled bays), metres."""
        if self.orientation == "angled":
            assert self.angle_deg is not None
            return self.length_m * math.cos(math.radians(self.angle_deg))
        return 0.0

    @property
    def depth_m(self) -> float:
        """How far the bay reaches from the kerb into the carriageway (metres)."""
        if self.orientation == "parallel":
            return self.width_m
        if self.orientation == "perpendicular":
            return self.length_m
        assert self.angle_deg is not None
        return self.length_m * math.sin(math.radians(self.angle_deg))


@dataclass(frozen=True)
class Clearance:
    """Forbidden kerb around a hazard of one kind.

    Parameters
    ----------
    kind
        Hazard kind this clearance is for.
    before_m
        Metres forbidden upstream of the hazard's extent, in the direction of traffic on the kerb.
    after_m
        Metres forbidden downstream of the hazard's extent.
    default_width_m
        The hazard's own extent along the kerb when the feature gives no ``width_m`` (metres).
    min_width_m
        The smallest own extent a hazard of this kind is given, whatever its ``width_m`` (metres).
    applies_to
        Which kerbs of the street the rule covers: ``"same"`` (the kerb(s) the hazard is matched to),
        ``"opposite"`` (the kerb across the carriageway from it) or ``"both"``.
    anchor
        Where the clearance is measured from: ``"edge"`` (the ends of the hazard's own extent: a
        crossing's edge, a kerb corner's tangent point) or ``"centre"`` (its centre: a sign, a pole).
    """

    kind: str
    before_m: float = 0.0
    after_m: float = 0.0
    default_width_m: float | None = None
    min_width_m: float = 0.0
    applies_to: AppliesTo = "same"
    anchor: Anchor = "edge"


@dataclass(frozen=True)
class Grouping:
    """Runs of adjacent bays at most ``max_run_m`` long, separated by gaps of at least ``gap_m``."""

    max_run_m: float
    gap_m: float


@dataclass(frozen=True)
class Source:
    """Where a number in a rule set comes from."""

    text: str
    verified: bool = True
    unit: str = "m"


@dataclass(frozen=True)
class WidthRow:
    """One row of a cross-section table: streets at least ``min_width_m`` wide may park on ``sides``."""

    min_width_m: float
    sides: int


@dataclass(frozen=True)
class CrossSection:
    """Which sides of a street may have bays.

    ``two_way`` / ``one_way`` rows are sorted by descending ``min_width_m``; a carriageway narrower than
    the last row gets no bays. ``min_clear_width_m`` is the carriageway that must stay clear beside
    the bays (Japan: 3.5 m).
    """

    two_way: tuple[WidthRow, ...] = ()
    one_way: tuple[WidthRow, ...] = ()
    min_clear_width_m: float | None = None

    def sides(self, width_m: float, oneway: bool) -> int:
        """Return how many sides of a street of this width may have bays (2 when no table applies)."""
        rows = self.one_way if oneway else self.two_way
        if not rows or not math.isfinite(width_m):
            return 2
        for row in rows:
            if width_m + 1e-9 >= row.min_width_m:
                return row.sides
        return 0


@dataclass(frozen=True)
class AccessibleRow:
    """PROWAG-style row: up to ``max_spaces`` bays on a block face need ``accessible`` accessible bays."""

    max_spaces: int
    accessible: int


@dataclass(frozen=True)
class Quotas:
    """District or block-face requirements on accessible bays (enforced by :mod:`parkplan.quotas`)."""

    accessible_min_share: float | None = None
    accessible_per_block: tuple[AccessibleRow, ...] = ()
    accessible_share_above: float | None = None


@dataclass(frozen=True)
class KindDefaults:
    """How hazards of one kind find their kerbs (see ``parkplan/rules/kinds.toml``)."""

    kind: str
    snap_m: float
    match: Match
    description: str = ""
    parent: str | None = None
    width_m: float | None = None
    """Built-in extent along the kerb (metres) of a hazard of this kind that gives no ``width_m`` of its
    own when its clearance rule gives no ``default_width_m``: a driveway or a crossing is never 0 m wide."""


@dataclass(frozen=True)
class Rules:
    """A validated, immutable rule set.

    Parameters
    ----------
    name
        Name of the rule set.
    traffic
        ``"right"`` or ``"left"``: the side of the road traffic keeps to.
    bays
        Bay types in declaration order.
    clearances
        Clearance rules per hazard kind (several per kind: the largest wins where they overlap); a kind
        without an entry blocks only its own extent.
    grouping
        Optional run-length limit and gap.
    kinds
        Snap settings per hazard kind (built-in defaults, overridden by the rules file).
    description
        One-line description.
    aliases
        Other spellings of hazard kinds, normalised, to the kind they name.
    jurisdiction
        Where the rules hold (country, state, city).
    cross_section
        Which sides of a street may have bays, from its width and one-way-ness.
    quotas
        District-wide requirements (accessible bays).
    sources
        Provenance of every number: dotted key (``"clearances.hydrant.before_m"``) to its source.
    default_orientation
        Orientation of the bays on a kerb that has no ``orientation`` of its own; ``None``: the optimiser
        chooses among all bay types.
    no_parking_classes
        Road classes (:data:`ROAD_CLASSES`) where parking is forbidden along the whole kerb, from
        ``[road_classes] no_parking``; empty when the rules give none.
    """

    name: str
    traffic: Traffic
    bays: tuple[BayType, ...]
    clearances: Mapping[str, tuple[Clearance, ...]] = field(default_factory=dict)
    grouping: Grouping | None = None
    kinds: Mapping[str, KindDefaults] = field(default_factory=dict)
    description: str = ""
    aliases: Mapping[str, str] = field(default_factory=dict)
    jurisdiction: str = ""
    cross_section: CrossSection | None = None
    quotas: Quotas | None = None
    sources: Mapping[str, Source] = field(default_factory=dict)
    default_orientation: str | None = None
    no_parking_classes: tuple[str, ...] = ()
    """Road classes (:data:`ROAD_CLASSES`) whose kerbs have no parking at all (``[road_classes]``)."""

    def canonical_kind(self, kind: str) -> str:
        """Return the kind a hazard's ``kind`` value names.

        Lower case, ``_`` for spaces and hyphens, aliases resolved (``"Fire hydrant"`` -> ``hydrant``).
        Unknown kinds come back normalised but otherwise unchanged.
        """
        norm = normalise_kind(kind)
        return norm if norm in self.kinds else self.aliases.get(norm, norm)

    def clearance_rules(self, kind: str) -> tuple[Clearance, ...]:
        """Return the clearance rules for ``kind``.

        When the rules give the kind none, those of its ``parent`` kind (``crossing_marked`` -> ``crossing``),
        with the kind's own name; else one zero clearance.
        """
        own = self.clearances.get(kind)
        if own:
            return own
        parent = self.kinds[kind].parent if kind in self.kinds else None
        if parent is not None and self.clearances.get(parent):
            return tuple(replace(c, kind=kind) for c in self.clearances[parent])
        return (Clearance(kind),)

    def clearance(self, kind: str) -> Clearance:
        """Return the first clearance rule for ``kind`` (zero clearance when the rules give none)."""
        return self.clearance_rules(kind)[0]

    def keeps_road_class(self, classes: object) -> bool:
        """Whether a ``road_class`` hazard with these classes forbids kerb under these rules.

        ``classes``: the hazard's ``road_class`` value, road class names joined by ``;``. True when one of
        them is in :attr:`no_parking_classes`, or when the value is missing or empty (a ``road_class``
        hazard drawn by the user is a no-parking road whatever its class).
        """
        if not isinstance(classes, str) or not classes.strip():
            return True
        return any(c.strip() in self.no_parking_classes for c in classes.split(";"))

    def unverified(self) -> list[str]:
        """Return the dotted keys of the values whose source is marked unverified."""
        return sorted(k for k, src in self.sources.items() if not src.verified)

    def kind_defaults(self, kind: str) -> KindDefaults:
        """Return the snap settings for ``kind``."""
        return self.kinds[kind]


def normalise_kind(kind: str) -> str:
    """Spell a hazard kind the way parkplan compares kinds: lower case, ``_`` for spaces and hyphens."""
    return "_".join(str(kind).strip().lower().replace("-", " ").split())


def _builtin_kinds() -> dict[str, dict[str, Any]]:
    text = resources.files("parkplan.rules").joinpath("kinds.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def list_presets() -> list[str]:
    """Return the names of the rule presets shipped with parkplan, sorted."""
    folder = resources.files("parkplan.rules").joinpath("presets")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.lower().endswith(".toml"))


def _read_preset(name: str) -> dict[str, Any]:
    ref = resources.files("parkplan.rules").joinpath(f"presets/{name}.toml")
    if not ref.is_file():
        msg = (
            f"unknown rules preset {name!r}; presets are: {', '.join(list_presets())} (or give a .toml path)"
        )
        raise RulesError(msg)
    try:
        return tomllib.loads(ref.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - shipped presets are tested
        raise RulesError(f"preset {name}: {exc}") from exc


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise RulesError(f"{path}: rules file not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from exc


def _read_tree(path: Path, files: list[Path] | None) -> tuple[dict[str, Any], str]:
    """Read a rules file (recorded in ``files``); return its data and its name for messages."""
    if files is not None:
        files.append(path)
    return _read_file(path), str(path)


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def is_rules_file(rules: str | os.PathLike[str]) -> bool:
    """Whether a rules argument names a file rather than a preset.

    A path object, a name ending in ``.toml`` in any case (``RULES.TOML``, ``Base.Toml``), or one with a
    folder separator. The same test holds for ``extends`` and for the files a run must not overwrite.
    """
    text = os.fspath(rules)
    return isinstance(rules, os.PathLike) or text.lower().endswith(".toml") or "/" in text or "\\" in text


def _resolve(
    data: Mapping[str, Any],
    where: str,
    seen: tuple[str, ...] = (),
    *,
    path: Path | None = None,
    files: list[Path] | None = None,
) -> tuple[dict[str, Any], dict[str, Source]]:
    """Apply ``extends`` chains (a preset name or a path relative to the file).

    Each file's provenance is read from that file before the merge, so an inherited value keeps its
    parent's source. Returns the merged plain data and the source of every number. ``path``: the file
    ``data`` was read from (``None`` for a preset or a mapping: a relative ``extends`` path is then taken
    from the working folder); every file read on the way is appended to ``files``.
    """
    parent = data.get("extends")
    child_sources: dict[str, Source] = {}
    child = _extract({k: v for k, v in data.items() if k != "extends"}, where, "", _NO_SOURCE, child_sources)
    if parent is None:
        return child, child_sources
    if not isinstance(parent, str):
        raise RulesError(f"{where}: 'extends' must be a preset name or a path, not {parent!r}")
    if parent in seen:
        raise RulesError(f"{where}: 'extends' loops back to {parent!r}")
    if is_rules_file(parent):
        candidate = Path(parent)
        base_dir = path.parent if path is not None else Path.cwd()
        parent_path = candidate if candidate.is_absolute() else base_dir / candidate
        base, base_sources = _resolve(
            *_read_tree(parent_path, files), (*seen, parent), path=parent_path, files=files
        )
    else:
        base, base_sources = _resolve(_read_preset(parent), f"preset {parent}", (*seen, parent), files=files)
    merged = _merge(base, child)
    if "name" not in child:
        # A rule set that extends another is not that other one: name it after its own file.
        merged["name"] = path.stem if path is not None else f"{base.get('name', parent)}+changes"
    return merged, {**base_sources, **child_sources}


def _number(value: Any, where: str, *, minimum: float = 0.0, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RulesError(f"{where} must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise RulesError(f"{where} must be finite, not {value!r}")
    if number > _MAX_NUMBER:
        raise RulesError(f"{where} must be at most {_MAX_NUMBER:g}, not {value!r}")
    if strict and number <= minimum:
        raise RulesError(f"{where} must be greater than {minimum:g}, not {value!r}")
    if number < minimum:
        raise RulesError(f"{where} must be at least {minimum:g}, not {value!r}")
    return number


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed - _DOC_KEYS)
    if unknown:
        raise RulesError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed | _DOC_KEYS))}"
        )


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RulesError(f"{where} must be a table, not {value!r}")
    return value


def _parse_bay(name: str, table: Mapping[str, Any], where: str) -> BayType:
    at = f"{where}: [bays.{name}]"
    _check_keys(
        table, {"orientation", "length_m", "width_m", "angle_deg", "weight", "role", "end_length_m"}, at
    )
    role = table.get("role", "standard")
    if role not in ROLES:
        raise RulesError(f"{at} role must be one of {', '.join(ROLES)}, not {role!r}")
    orientation = table.get("orientation", "parallel")
    if orientation not in _ORIENTATIONS:
        raise RulesError(f"{at} orientation must be one of {', '.join(_ORIENTATIONS)}, not {orientation!r}")
    for key in ("length_m", "width_m"):
        if key not in table:
            raise RulesError(f"{at} needs {key}")
    length = _number(table["length_m"], f"{at} length_m", strict=True)
    width = _number(table["width_m"], f"{at} width_m", strict=True)
    for key, value in (("length_m", length), ("width_m", width)):
        if value < MIN_BAY_SIDE_M:
            raise RulesError(
                f"{at} {key} = {value:g} m is below {MIN_BAY_SIDE_M:g} m; no parking bay is that small "
                "(lengths are in metres)"
            )
    weight = _number(table.get("weight", 1.0), f"{at} weight", strict=True)
    angle: float | None = None
    if orientation == "angled":
        if "angle_deg" not in table:
            raise RulesError(f"{at} is angled and needs angle_deg")
        angle = _number(table["angle_deg"], f"{at} angle_deg", strict=True)
        if angle >= 90.0:
            raise RulesError(
                f"{at} angle_deg must be below 90 (use orientation = 'perpendicular'), not {angle:g}"
            )
    elif "angle_deg" in table:
        raise RulesError(f"{at} angle_deg is only for orientation = 'angled'")
    end_length: float | None = None
    if "end_length_m" in table:
        if orientation != "parallel":
            raise RulesError(f"{at} end_length_m is only for orientation = 'parallel'")
        end_length = _number(table["end_length_m"], f"{at} end_length_m", strict=True)
        if end_length < MIN_BAY_SIDE_M:
            raise RulesError(f"{at} end_length_m = {end_length:g} m is below {MIN_BAY_SIDE_M:g} m")
    return BayType(name, orientation, length, width, angle, weight, role, end_length)


_VALUE_KEYS = {"value", "source", "verified", "note", "unit"}
_NO_SOURCE = Source("", verified=False)


def _is_sourced(value: Any) -> bool:
    return isinstance(value, Mapping) and "value" in value and set(value) <= _VALUE_KEYS


def _extract(node: Any, where: str, path: str, inherited: Source, sources: dict[str, Source]) -> Any:
    """Strip provenance from a parsed rules tree.

    Sourced values (``{value = ..., source = ..., verified = ...}``) become plain values, ``*_ft`` keys
    become ``*_m`` (exactly, 1 ft = 0.3048 m), and every number's source is recorded in ``sources``
    under its dotted key.
    """
    if isinstance(node, list):
        return [_extract_item(v, where, f"{path}[{i}]", inherited, sources) for i, v in enumerate(node)]
    if not isinstance(node, Mapping):
        return node
    here = inherited
    if "source" in node or "verified" in node:
        verified = node.get("verified", True if "source" in node else inherited.verified)
        if not isinstance(verified, bool):
            raise RulesError(
                f"{where}: {path or 'top level'}: verified must be true or false, not {verified!r}"
            )
        here = Source(str(node.get("source", inherited.text)), verified)
    out: dict[str, Any] = {}
    for key, value in node.items():
        at = f"{path}.{key}" if path else str(key)
        unit = "m"
        if _is_sourced(value):
            verified = value.get("verified", here.verified if "source" not in value else True)
            if not isinstance(verified, bool):
                raise RulesError(f"{where}: {at}: verified must be true or false, not {verified!r}")
            src = Source(str(value.get("source", here.text)), verified)
            given_unit = value.get("unit", "m")
            if given_unit not in ("m", "ft"):
                raise RulesError(f"{where}: {at}: unit must be 'm' or 'ft', not {given_unit!r}")
            value = value["value"]
            if given_unit == "ft":
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise RulesError(f"{where}: {at} must be a number of feet, not {value!r}")
                value, unit = float(value) * FOOT_M, "ft"
        else:
            src = here
        if isinstance(key, str) and key.endswith("_ft"):
            target = key[:-3] + "_m"
            if target in node:
                raise RulesError(f"{where}: {at}: give {key} or {target}, not both")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise RulesError(f"{where}: {at} must be a number of feet, not {value!r}")
            key, value, unit = target, float(value) * FOOT_M, "ft"
            at = f"{path}.{key}" if path else key
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and key not in ("sides", "max_spaces")
        ):
            sources[at] = Source(src.text, src.verified, unit)
        out[key] = _extract(value, where, at, src, sources) if isinstance(value, (Mapping, list)) else value
    return out


def _extract_item(item: Any, where: str, at: str, inherited: Source, sources: dict[str, Source]) -> Any:
    """Extract one list element; a sourced string (``{value = "motorway", source = ...}``) keeps its source.

    So does a plain string in ``[road_classes]`` (its table's source, if any, else none).
    """
    if _is_sourced(item) and isinstance(item["value"], str):
        verified = item.get("verified", inherited.verified if "source" not in item else True)
        if not isinstance(verified, bool):
            raise RulesError(f"{where}: {at}: verified must be true or false, not {verified!r}")
        sources[at] = Source(str(item.get("source", inherited.text)), verified, "")
        return item["value"]
    if isinstance(item, str) and at.startswith("road_classes."):  # a plain road class: its table's source
        sources[at] = Source(inherited.text, inherited.verified, "")
        return item
    return _extract(item, where, at, inherited, sources)


def _parse_road_classes(raw: Any, where: str) -> tuple[str, ...]:
    """Parse ``[road_classes]``: ``no_parking``, a list of :data:`ROAD_CLASSES` names."""
    at = f"{where}: [road_classes]"
    table = _table(raw, at)
    _check_keys(table, {"no_parking"}, at)
    listed = table.get("no_parking", [])
    if not isinstance(listed, list) or not all(isinstance(c, str) for c in listed):
        raise RulesError(f"{at} no_parking must be a list of road class names, not {listed!r}")
    for name in listed:
        if name not in ROAD_CLASSES:
            raise RulesError(
                f"{at} no_parking: unknown road class {name!r}; known: {', '.join(ROAD_CLASSES)}"
            )
    return tuple(dict.fromkeys(listed))


def _parse_clearance(kind: str, raw: Mapping[str, Any], at: str) -> Clearance:
    table = _table(raw, at)
    allowed = {
        "before_m",
        "after_m",
        "default_width_m",
        "min_width_m",
        "snap_m",
        "match",
        "applies_to",
        "anchor",
    }
    _check_keys(table, allowed, at)
    applies_to = table.get("applies_to", "same")
    if applies_to not in ("same", "opposite", "both"):
        raise RulesError(f"{at} applies_to must be 'same', 'opposite' or 'both', not {applies_to!r}")
    anchor = table.get("anchor", "edge")
    if anchor not in ("edge", "centre"):
        raise RulesError(f"{at} anchor must be 'edge' or 'centre', not {anchor!r}")
    width = table.get("default_width_m")
    return Clearance(
        kind,
        _number(table.get("before_m", 0.0), f"{at} before_m"),
        _number(table.get("after_m", 0.0), f"{at} after_m"),
        None if width is None else _number(width, f"{at} default_width_m"),
        _number(table.get("min_width_m", 0.0), f"{at} min_width_m"),
        applies_to,
        anchor,
    )


def _parse_rows(raw: Any, at: str, keys: tuple[str, str]) -> list[Mapping[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(r, Mapping) for r in raw):
        raise RulesError(f"{at} must be a list of tables like {{{keys[0]} = ..., {keys[1]} = ...}}")
    for i, row in enumerate(raw):
        _check_keys(row, set(keys), f"{at}[{i}]")
        for key in keys:
            if key not in row:
                raise RulesError(f"{at}[{i}] needs {key}")
    return list(raw)


def _parse_cross_section(raw: Any, where: str) -> CrossSection:
    at = f"{where}: [cross_section]"
    table = _table(raw, at)
    _check_keys(table, {"two_way", "one_way", "min_clear_width_m"}, at)
    tables: dict[str, tuple[WidthRow, ...]] = {}
    for name in ("two_way", "one_way"):
        rows = _parse_rows(table.get(name, []), f"{at} {name}", ("min_width_m", "sides"))
        parsed = []
        for i, row in enumerate(rows):
            sides = row["sides"]
            if sides not in (0, 1, 2) or isinstance(sides, bool):
                raise RulesError(f"{at} {name}[{i}] sides must be 0, 1 or 2, not {sides!r}")
            parsed.append(WidthRow(_number(row["min_width_m"], f"{at} {name}[{i}] min_width_m"), int(sides)))
        widths = [r.min_width_m for r in parsed]
        if widths != sorted(widths, reverse=True):
            raise RulesError(f"{at} {name} rows must be sorted by descending min_width_m")
        tables[name] = tuple(parsed)
    clear = table.get("min_clear_width_m")
    return CrossSection(
        tables["two_way"],
        tables["one_way"],
        None if clear is None else _number(clear, f"{at} min_clear_width_m"),
    )


def _parse_quotas(raw: Any, where: str) -> Quotas:
    at = f"{where}: [quotas]"
    table = _table(raw, at)
    _check_keys(table, {"accessible_min_share", "accessible_per_block", "accessible_share_above_200"}, at)
    share = table.get("accessible_min_share")
    above = table.get("accessible_share_above_200")
    rows = _parse_rows(
        table.get("accessible_per_block", []), f"{at} accessible_per_block", ("max_spaces", "accessible")
    )
    per_block = []
    for i, row in enumerate(rows):
        values = (row["max_spaces"], row["accessible"])
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
            raise RulesError(f"{at} accessible_per_block[{i}] needs whole numbers, not {values!r}")
        per_block.append(AccessibleRow(int(values[0]), int(values[1])))
    for name, value in (("accessible_min_share", share), ("accessible_share_above_200", above)):
        if value is not None and not 0.0 <= _number(value, f"{at} {name}") <= 1.0:
            raise RulesError(f"{at} {name} must be a share between 0 and 1, not {value!r}")
    return Quotas(
        None if share is None else float(share), tuple(per_block), None if above is None else float(above)
    )


def _parse(data: Mapping[str, Any], sources: Mapping[str, Source], where: str) -> Rules:
    _check_keys(
        data,
        {
            "name",
            "traffic",
            "bays",
            "clearances",
            "grouping",
            "kinds",
            "jurisdiction",
            "cross_section",
            "quotas",
            "default_orientation",
            "road_classes",
        },
        where,
    )
    name = data.get("name", Path(where).stem)
    if not isinstance(name, str) or not name:
        raise RulesError(f"{where}: name must be a non-empty string")
    traffic = data.get("traffic", "right")
    if traffic not in ("right", "left"):
        raise RulesError(f"{where}: traffic must be 'right' or 'left', not {traffic!r}")

    bays_table = data.get("bays")
    if not bays_table:
        raise RulesError(
            f"{where}: no bay type; add at least one [bays.NAME] table with length_m and width_m"
        )
    bays = tuple(
        _parse_bay(str(n), _table(t, f"{where}: [bays.{n}]"), where)
        for n, t in _table(bays_table, f"{where}: bays").items()
    )

    kinds_raw = _builtin_kinds()
    kinds: dict[str, KindDefaults] = {}
    clearances: dict[str, tuple[Clearance, ...]] = {}
    for raw_kind, raw in _table(data.get("clearances", {}), f"{where}: clearances").items():
        at = f"{where}: [clearances.{raw_kind}]"
        kind = normalise_kind(raw_kind)
        tables = raw if isinstance(raw, list) else [raw]
        if not tables:
            raise RulesError(f"{at} is an empty list")
        clearances[kind] = tuple(
            _parse_clearance(kind, t, at if len(tables) == 1 else f"{at}[{i}]") for i, t in enumerate(tables)
        )
        snap_keys = {k: t[k] for t in tables if isinstance(t, Mapping) for k in ("snap_m", "match") if k in t}
        if snap_keys or kind not in kinds_raw:
            base = kinds_raw.get(kind, {"snap_m": 3.0, "match": "nearest"})
            kinds_raw[kind] = {**base, **snap_keys}
    for raw_kind, raw in _table(data.get("kinds", {}), f"{where}: kinds").items():
        table = _table(raw, f"{where}: [kinds.{raw_kind}]")
        _check_keys(
            table, {"snap_m", "match", "aliases", "parent", "width_m"}, f"{where}: [kinds.{raw_kind}]"
        )
        kind = normalise_kind(raw_kind)
        base = kinds_raw.get(kind, {"snap_m": 3.0, "match": "nearest"})
        merged = {**base, **table}
        if "aliases" in table and isinstance(table["aliases"], list):
            # A rules file adds spellings to the built-in ones.
            merged["aliases"] = [*base.get("aliases", []), *table["aliases"]]
        kinds_raw[kind] = merged
    aliases: dict[str, str] = {}
    for kind, table in kinds_raw.items():
        listed = table.get("aliases", [])
        if not isinstance(listed, list) or not all(isinstance(a, str) for a in listed):
            raise RulesError(f"{where}: kind {kind}: aliases must be a list of strings, not {listed!r}")
        for alias in listed:
            aliases[normalise_kind(alias)] = kind
    for kind, table in kinds_raw.items():
        match = table.get("match", "nearest")
        if match not in ("nearest", "all"):
            raise RulesError(f"{where}: kind {kind}: match must be 'nearest' or 'all', not {match!r}")
        snap = _number(table.get("snap_m", 3.0), f"{where}: kind {kind} snap_m")
        parent = table.get("parent")
        if parent is not None and normalise_kind(str(parent)) not in kinds_raw:
            raise RulesError(f"{where}: kind {kind}: parent {parent!r} is not a known kind")
        width = table.get("width_m")
        kinds[kind] = KindDefaults(
            kind,
            snap,
            match,
            str(table.get("description", "")),
            None if parent is None else normalise_kind(parent),
            None if width is None else _number(width, f"{where}: kind {kind} width_m"),
        )

    grouping = None
    if "grouping" in data:
        at = f"{where}: [grouping]"
        table = _table(data["grouping"], at)
        _check_keys(table, {"max_run_m", "gap_m"}, at)
        for key in ("max_run_m", "gap_m"):
            if key not in table:
                raise RulesError(f"{at} needs {key}")
        grouping = Grouping(
            _number(table["max_run_m"], f"{at} max_run_m", strict=True),
            _number(table["gap_m"], f"{at} gap_m"),
        )
        shortest = min(b.pitch_m + b.end_m for b in bays)
        if grouping.max_run_m + 1e-3 < shortest:
            raise RulesError(
                f"{at} max_run_m {grouping.max_run_m:g} is shorter than the shortest bay {shortest:g} m"
            )
    description = data.get("description", "")
    jurisdiction = data.get("jurisdiction", "")
    if not isinstance(jurisdiction, str):
        raise RulesError(f"{where}: jurisdiction must be a string, not {jurisdiction!r}")
    cross_section = _parse_cross_section(data["cross_section"], where) if "cross_section" in data else None
    quotas = _parse_quotas(data["quotas"], where) if "quotas" in data else None
    default_orientation = data.get("default_orientation")
    if default_orientation is not None and default_orientation not in {b.orientation for b in bays}:
        raise RulesError(
            f"{where}: default_orientation {default_orientation!r} is not the orientation of any bay type "
            f"({', '.join(sorted({b.orientation for b in bays}))})"
        )
    no_parking_classes = _parse_road_classes(data["road_classes"], where) if "road_classes" in data else ()
    return Rules(
        name,
        traffic,
        bays,
        clearances,
        grouping,
        kinds,
        str(description),
        aliases,
        jurisdiction,
        cross_section,
        quotas,
        dict(sources),
        default_orientation,
        no_parking_classes,
    )


def load_rules(rules: Rules | str | os.PathLike[str] | Mapping[str, Any] | None = None) -> Rules:
    """Load and validate a rule set.

    Parameters
    ----------
    rules
        A :class:`Rules` object (returned as is), a preset name (see :func:`list_presets`), a path to a
        TOML file, or an already parsed mapping with the TOML structure. ``None`` means the ``cn`` preset.

    Returns
    -------
    Rules
        The validated rule set.

    Raises
    ------
    parkplan.errors.ArgumentError
        If ``rules`` is none of these types (a number, a list...).
    RulesError
        If the preset is unknown, the file is missing or malformed, or a value is invalid.
    """
    if isinstance(rules, Rules):
        return rules
    check_rules(rules, "rules", "load_rules")
    data, sources, where = _load_tree(rules, None)
    return _parse(data, sources, where)


def _load_tree(
    rules: str | os.PathLike[str] | Mapping[str, Any] | None, files: list[Path] | None
) -> tuple[dict[str, Any], dict[str, Source], str]:
    """Read a rule set given as :func:`load_rules` takes it (but a :class:`Rules`), ``extends`` applied.

    Returns the merged data, the source of every number and the rule set's name for messages; every file
    read is appended to ``files``.
    """
    if rules is None:
        rules = "cn"
    if isinstance(rules, Mapping):
        return (*_resolve(rules, "rules", files=files), "rules")
    if is_rules_file(rules):
        path = Path(rules)
        return (*_resolve(*_read_tree(path, files), path=path, files=files), str(path))
    text = str(rules)
    return (*_resolve(_read_preset(text), f"preset {text}", files=files), f"preset {text}")


def rules_files(rules: Rules | str | os.PathLike[str] | Mapping[str, Any] | None) -> list[Path]:
    """Every file a rule set is read from: the rules file and each file it reaches through ``extends``.

    Parameters
    ----------
    rules
        As :func:`load_rules` takes it. A :class:`Rules` object or a preset that extends only presets
        reads no file.

    Returns
    -------
    list of pathlib.Path
        The files in the order they are read (the given file first), as they are spelled on the way
        (relative ``extends`` paths joined to their file's folder).

    Raises
    ------
    RulesError
        If a file is missing or malformed, or ``extends`` is (as :func:`load_rules` would).
    """
    files: list[Path] = []
    if not isinstance(rules, Rules):
        _load_tree(rules, files)
    return files
