"""Checks of the public functions' arguments, before any work is done.

Every public function (:func:`parkplan.plan`, :func:`parkplan.check`, :func:`parkplan.from_osm`,
:func:`parkplan.load_rules`, the :class:`parkplan.Plan` methods, :class:`parkplan.HazardSource`) checks
what it is given here and raises :class:`parkplan.errors.ArgumentError`, whose message names the
argument, says what it must be and shows what was given (its value and type). Without these checks a
wrong type failed deep inside pandas, pyogrio or OR-Tools with a bare ``TypeError`` or
``AttributeError``, or (``workers=-1``, ``time_limit_s=-1``, ``presolve="no"``) was silently taken as
something else.

This module is in the lowest layer of the package (``tests/test_layers.py``): it imports no parkplan
module above it, so it knows the parkplan classes it accepts (:class:`parkplan.Rules`,
:class:`parkplan.HazardSource`, :class:`parkplan.geometry.kerbs.CornerSettings`, :class:`parkplan.Plan`)
by their qualified names (:data:`CHECKED_CLASSES`, :func:`is_instance`), not by importing them.

Worker counts follow joblib's convention (:func:`resolve_workers`): a positive count, or a negative one
counted back from the CPUs (``-1`` all, ``-2`` all but one). Dask scheduler addresses are checked by
:func:`scheduler_address` before a client is made, so a malformed one is a one-line error, not a
traceback from inside ``distributed``.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from parkplan.errors import ArgumentError
from parkplan.io.paths import LayerPath

__all__ = [
    "CHECKED_CLASSES",
    "DASK_SCHEMES",
    "check_bool",
    "check_choice",
    "check_client",
    "check_corners",
    "check_extent",
    "check_frame_or_path",
    "check_hazards",
    "check_path",
    "check_plan_arguments",
    "check_positive",
    "check_rules",
    "check_time_limit",
    "is_instance",
    "resolve_workers",
    "scheduler_address",
    "shown",
]

DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
"""Address schemes a ``dask.distributed`` scheduler listens on (``tcp`` when none is given)."""

_HAZARD_SOURCE = "parkplan.io.read.HazardSource"
_RULES = "parkplan.rules.loading.Rules"
_CORNER_SETTINGS = "parkplan.geometry.kerbs.CornerSettings"
_PLAN = "parkplan.pipeline.Plan"

CHECKED_CLASSES = (_HAZARD_SOURCE, _RULES, _CORNER_SETTINGS, _PLAN)
"""The higher-layer parkplan classes the checks accept, by qualified name (``tests/test_api_args.py`` checks
that each names a class, so a class that moves breaks a test, not a check)."""


def is_instance(value: Any, qualified_name: str) -> bool:
    """Tell an instance of the class ``qualified_name`` (``"parkplan.rules.loading.Rules"``) or of a subclass.

    ``isinstance`` by name: walks the value's class hierarchy and compares each class's module and qualified
    name, so this module need not import the (higher-layer) module the class is defined in.
    """
    return any(f"{c.__module__}.{c.__qualname__}" == qualified_name for c in type(value).__mro__)


def shown(value: Any) -> str:
    """Describe ``value`` for a message: its ``repr`` (cut to 60 characters) and its type."""
    pandas = sys.modules.get("pandas")  # a DataFrame exists only once pandas is loaded: do not load it
    if pandas is not None and isinstance(value, pandas.DataFrame):
        return f"a {type(value).__name__} of {len(value)} rows"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _fail(where: str, name: str, must: str, value: Any) -> ArgumentError:
    return ArgumentError(f"{where}: {name} must be {must}, not {shown(value)}", argument=name)


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike, LayerPath))


def check_path(value: Any, name: str, where: str) -> None:
    """Require a file path: a non-empty ``str``, an ``os.PathLike`` or a :class:`parkplan.io.paths.LayerPath`.

    Raises
    ------
    ArgumentError
        For anything else, or an empty string.
    """
    if not _is_path(value):
        raise _fail(where, name, "a file path (str or pathlib.Path)", value)
    if isinstance(value, str) and not value.strip():
        raise ArgumentError(f"{where}: {name} is an empty string; give a file path", argument=name)


def check_frame_or_path(value: Any, name: str, where: str) -> None:
    """Require a file path or a GeoDataFrame with an active geometry column.

    A pandas DataFrame (no geometry), a GeoSeries, a GeoDataFrame whose geometry column is missing and
    ``None`` get a message saying how to make a GeoDataFrame.

    Raises
    ------
    ArgumentError
        For anything else.
    """
    import geopandas as gpd
    import pandas as pd

    if isinstance(value, gpd.GeoDataFrame):
        geometry = value._geometry_column_name
        if geometry is None or geometry not in value.columns:
            raise ArgumentError(
                f"{where}: {name} is a GeoDataFrame without an active geometry column; "
                "set one with GeoDataFrame.set_geometry(column)",
                argument=name,
            )
        return
    if isinstance(value, pd.DataFrame):
        raise ArgumentError(
            f"{where}: {name} is a pandas DataFrame without geometry; give a GeoDataFrame "
            "(geopandas.GeoDataFrame(frame, geometry=..., crs=...)) or a file path",
            argument=name,
        )
    if isinstance(value, gpd.GeoSeries):
        raise ArgumentError(
            f"{where}: {name} is a GeoSeries; give a GeoDataFrame (GeoSeries.to_frame()) or a file path",
            argument=name,
        )
    if not _is_path(value):
        raise _fail(where, name, "a file path or a GeoDataFrame", value)
    check_path(value, name, where)


def _is_hazard_item(value: Any) -> bool:
    import geopandas as gpd

    return _is_path(value) or isinstance(value, gpd.GeoDataFrame) or is_instance(value, _HAZARD_SOURCE)


def check_hazards(value: Any, name: str, where: str) -> None:
    """Require hazard inputs: ``None``, one path / GeoDataFrame / HazardSource, or a list or tuple of them.

    Raises
    ------
    ArgumentError
        For another type, or a list item that is none of these (the message gives its position).
    """
    import geopandas as gpd
    import pandas as pd

    if value is None or is_instance(value, _HAZARD_SOURCE):
        return
    if _is_path(value) or isinstance(value, (pd.DataFrame, gpd.GeoSeries)):
        check_frame_or_path(value, name, where)
        return
    if not isinstance(value, Sequence):
        raise _fail(
            where, name, "a file path, a GeoDataFrame, a HazardSource or a list of them (or None)", value
        )
    for i, item in enumerate(value):
        if is_instance(item, _HAZARD_SOURCE):
            continue
        if not _is_hazard_item(item) and not isinstance(item, (pd.DataFrame, gpd.GeoSeries)):
            raise _fail(where, f"{name}[{i}]", "a file path, a GeoDataFrame or a HazardSource", item)
        check_frame_or_path(item, f"{name}[{i}]", where)


def check_rules(value: Any, name: str, where: str) -> None:
    """Require rules: a :class:`parkplan.Rules`, a preset name, a TOML path, a mapping or ``None``.

    Raises
    ------
    ArgumentError
        For anything else (a number, a list...).
    """
    if value is None or is_instance(value, _RULES) or isinstance(value, Mapping) or _is_path(value):
        return
    raise _fail(where, name, "a preset name, a rules TOML path, a mapping, a Rules object or None", value)


def check_bool(value: Any, name: str, where: str) -> None:
    """Require ``True`` or ``False`` (a numpy bool too): ``"no"`` or ``0`` are refused, not taken as truth.

    Raises
    ------
    ArgumentError
        For anything else.
    """
    import numpy as np

    if not isinstance(value, (bool, np.bool_)):
        raise _fail(where, name, "True or False", value)


def check_choice(value: Any, name: str, where: str, choices: Sequence[str]) -> None:
    """Require one of the strings ``choices``.

    Raises
    ------
    ArgumentError
        For anything else.
    """
    if not isinstance(value, str) or value not in choices:
        raise _fail(where, name, " or ".join(repr(c) for c in choices), value)


def check_positive(value: Any, name: str, where: str, must: str = "a positive, finite number") -> None:
    """Require a positive, finite number (an int or float, numpy's too; not a string, not a bool).

    Raises
    ------
    ArgumentError
        For anything else: ``0``, ``-1``, NaN, infinity, ``"10"``, ``True``; the message says ``must``.
    """
    import numpy as np

    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or float(value) <= 0.0
    ):
        raise _fail(where, name, must, value)


def check_time_limit(value: Any, name: str, where: str) -> None:
    """Require ``None`` or a positive, finite number of seconds (not a string, not a bool).

    Raises
    ------
    ArgumentError
        For anything else: ``-1``, ``0``, NaN, infinity, ``"10"``.
    """
    import numpy as np

    if value is None:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise _fail(where, name, "a number of seconds or None", value)
    if not math.isfinite(float(value)) or float(value) <= 0.0:
        raise _fail(where, name, "a positive, finite number of seconds or None", value)


def resolve_workers(value: Any, name: str = "workers", where: str = "plan") -> int | None:
    """Check a worker count and resolve it to a positive count of processes (``None`` stays ``None``).

    As joblib's ``n_jobs``: a positive integer is that many workers; a negative one counts back from the
    CPUs available to this process, ``-1`` all of them, ``-2`` all but one, ...; one that reaches below
    one worker (``-5`` on 4 CPUs) means one worker, as in joblib, so a script written for a large machine
    still runs on a small one. ``0`` means nothing and is refused. ``None`` (the default) is left to
    :func:`parkplan._parallel.worker_count`: all CPUs, or all the workers of a Dask client.

    Raises
    ------
    ArgumentError
        For ``0``, a non-integer (``1.5``, ``"2"``) or a bool.
    """
    import numpy as np

    from parkplan._parallel import worker_count

    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise _fail(where, name, "a whole number of workers (-1: all CPUs, -2: all but one) or None", value)
    if int(value) == 0:
        raise ArgumentError(
            f"{where}: {name} must not be 0; give a number of workers, -1 for all CPUs (-2: all but one, "
            "...) or None",
            argument=name,
        )
    return worker_count(int(value))


def check_client(value: Any, name: str, where: str) -> None:
    """Require ``None`` or a running ``dask.distributed.Client``.

    Anything with the client methods the chunked stages call (``scheduler_info``, ``map``, ``gather``) is
    taken as one. A scheduler address given as a string is refused with the way to connect to it.

    Raises
    ------
    ArgumentError
        For anything else, or a client that has been closed.
    """
    if value is None:
        return
    if isinstance(value, (str, os.PathLike)):
        raise ArgumentError(
            f"{where}: {name} must be a dask.distributed.Client, not the address {shown(value)}; "
            f"connect first: {name}=distributed.Client(address)",
            argument=name,
        )
    if not all(callable(getattr(value, m, None)) for m in ("scheduler_info", "map", "gather")):
        raise _fail(where, name, "a dask.distributed.Client or None", value)
    if getattr(value, "status", "running") in ("closing", "closed"):
        raise ArgumentError(f"{where}: {name} is a closed Dask client; give a connected one", argument=name)


def check_extent(value: Any, name: str, where: str) -> None:
    """Require ``None``, a shapely Polygon / MultiPolygon, or a GeoSeries of them with a CRS.

    A GeometryCollection of polygons (as an overlay can return) counts as its polygons.

    Raises
    ------
    ArgumentError
        For another type, a geometry that is no polygon (a Point cuts every kerb away), an empty one, or
        a GeoSeries without a CRS or without any polygon.
    """
    import geopandas as gpd
    import numpy as np
    import shapely

    if value is None:
        return
    if isinstance(value, gpd.GeoSeries):
        if value.crs is None:
            raise ArgumentError(
                f"{where}: {name} is a GeoSeries without a CRS; set one (GeoSeries.set_crs)", argument=name
            )
        geoms = np.asarray(value.values, dtype=object)
    elif isinstance(value, shapely.Geometry):
        geoms = np.array([value], dtype=object)
    else:
        raise _fail(
            where,
            name,
            "a shapely Polygon or MultiPolygon, or a GeoSeries of them (parkplan.io.read.read_extent(path) "
            "reads a file)",
            value,
        )
    present = geoms[~shapely.is_missing(geoms)]
    present = present[~shapely.is_empty(present)]
    collections = shapely.get_type_id(present) == 7
    if collections.any():  # a GeometryCollection of polygons (what an overlay can return) is polygons
        present = np.concatenate([present[~collections], shapely.get_parts(present[collections])])
    if len(present) == 0:
        raise ArgumentError(f"{where}: {name} is empty: it would cut away every kerb", argument=name)
    if not np.isin(shapely.get_type_id(present), (3, 6)).all():
        raise _fail(where, name, "a Polygon or MultiPolygon (or a GeoSeries of them)", value)


def check_corners(value: Any, name: str, where: str) -> None:
    """Require ``None`` or a :class:`parkplan.geometry.kerbs.CornerSettings`.

    Raises
    ------
    ArgumentError
        For anything else.
    """
    if value is not None and not is_instance(value, _CORNER_SETTINGS):
        raise _fail(where, name, "a parkplan.geometry.kerbs.CornerSettings or None", value)


def check_plan_arguments(
    *,
    kerbs: Any,
    hazards: Any,
    rules: Any,
    time_limit_s: Any,
    presolve: Any,
    extent: Any,
    corners: Any,
    room: Any,
    ways: Any,
    strategy: Any,
    keep: Any,
    progress: Any,
    workers: Any,
    client: Any,
) -> int | None:
    """Check every argument of :func:`parkplan.plan`; return ``workers`` resolved (:func:`resolve_workers`).

    Raises
    ------
    ArgumentError
        For the first argument of a wrong type or value, naming it.
    """
    where = "plan"
    check_frame_or_path(kerbs, "kerbs", where)
    check_hazards(hazards, "hazards", where)
    check_rules(rules, "rules", where)
    check_time_limit(time_limit_s, "time_limit_s", where)
    for flag, value in (("presolve", presolve), ("room", room), ("progress", progress)):
        check_bool(value, flag, where)
    check_extent(extent, "extent", where)
    check_corners(corners, "corners", where)
    if ways is not None:
        check_frame_or_path(ways, "ways", where)
    check_choice(strategy, "strategy", where, ("optimal", "habit"))
    if keep is not None:
        check_frame_or_path(keep, "keep", where)
    check_client(client, "client", where)
    return resolve_workers(workers, "workers", where)


def scheduler_address(address: Any, name: str = "--scheduler") -> str:
    """Check a Dask scheduler address before connecting: ``[SCHEME://]HOST:PORT``.

    ``SCHEME`` is one of :data:`DASK_SCHEMES` (``tcp`` when left out), ``HOST`` a name or an IPv4
    address or a bracketed IPv6 one, ``PORT`` a number from 1 to 65535 (``inproc://`` addresses take any
    non-empty name). Whether a scheduler answers there is found out by connecting.

    Returns
    -------
    str
        The address as given.

    Raises
    ------
    ArgumentError
        For anything else (``foo``, ``tcp://``, ``tcp://host:notaport``, ``http://x``), in one line.
    """
    if not isinstance(address, str):
        raise _fail("scheduler", name, "an address such as tcp://HOST:8786", address)
    scheme, sep, rest = address.strip().rpartition("://")
    scheme = scheme.lower() if sep else "tcp"
    problem = None
    if scheme not in DASK_SCHEMES:
        problem = f"unknown scheme {scheme + '://'!r} (Dask schedulers use {', '.join(DASK_SCHEMES)})"
    elif scheme == "inproc":
        problem = None if rest else "no address after inproc://"
    else:
        host, colon, port = rest.rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if not colon or not port:
            problem = "no port"
        elif not host:
            problem = "no host"
        elif not port.isdigit() or not 1 <= int(port) <= 65535:
            problem = f"port {port!r} is not a number from 1 to 65535"
    if problem is not None:
        raise ArgumentError(
            f"{name}: {address!r} is not a Dask scheduler address: {problem}; give [tcp://]HOST:PORT, "
            "e.g. tcp://127.0.0.1:8786",
            argument=name,
        )
    return address


def check_check_arguments(
    *,
    bays: Any,
    kerbs: Any,
    hazards: Any,
    rules: Any,
    extent: Any,
    ways: Any,
    mode: Any,
    corners: Any,
) -> None:
    """Check every argument of :func:`parkplan.check` (and :func:`parkplan.check.run_check`).

    Raises
    ------
    ArgumentError
        For the first argument of a wrong type or value, naming it.
    """
    import geopandas as gpd
    import pandas as pd

    where = "check"
    if not is_instance(bays, _PLAN):
        if not _is_path(bays) and not isinstance(bays, (pd.DataFrame, gpd.GeoSeries)):
            raise _fail(where, "bays", "a file path, a GeoDataFrame or a parkplan.Plan", bays)
        check_frame_or_path(bays, "bays", where)
    check_frame_or_path(kerbs, "kerbs", where)
    check_hazards(hazards, "hazards", where)
    check_rules(rules, "rules", where)
    check_extent(extent, "extent", where)
    if ways is not None:
        check_frame_or_path(ways, "ways", where)
    check_choice(mode, "mode", where, ("plan", "existing"))
    check_corners(corners, "corners", where)


def check_osm_arguments(
    *,
    path: Any,
    mode: Any,
    service: Any,
    default_widths: Any,
    traffic: Any,
) -> None:
    """Check every argument of :func:`parkplan.from_osm`.

    Raises
    ------
    ArgumentError
        For the first argument of a wrong type or value, naming it (a width that is no positive number
        names its ``highway`` key).
    """
    import numpy as np

    where = "from_osm"
    check_path(path, "path", where)
    check_choice(mode, "mode", where, ("plan", "existing"))
    check_bool(service, "service", where)
    if default_widths is not None:
        if not isinstance(default_widths, Mapping):
            raise _fail(
                where, "default_widths", "a mapping of highway value to metres, or None", default_widths
            )
        for key, value in default_widths.items():
            name = f"default_widths[{key!r}]"
            if not isinstance(key, str):
                raise _fail(where, "default_widths", "keyed by highway values (strings)", key)
            if (
                isinstance(value, (bool, np.bool_))
                or not isinstance(value, numbers.Real)
                or not math.isfinite(float(value))
                or float(value) <= 0.0
            ):
                raise _fail(where, name, "a positive number of metres", value)
    check_choice(traffic, "traffic", where, ("right", "left"))


def check_hazard_source(data: Any, kind: Any) -> None:
    """Check the fields of a :class:`parkplan.HazardSource`.

    Raises
    ------
    ArgumentError
        If ``data`` is no path or GeoDataFrame, or ``kind`` neither ``None`` nor a non-empty string.
    """
    import geopandas as gpd
    import pandas as pd

    where = "HazardSource"
    if not _is_path(data) and not isinstance(data, (pd.DataFrame, gpd.GeoSeries)):
        raise _fail(where, "data", "a file path or a GeoDataFrame", data)
    check_frame_or_path(data, "data", where)
    if kind is not None and (not isinstance(kind, str) or not kind.strip()):
        raise _fail(where, "kind", "a kind name (a non-empty string) or None", kind)


def check_text(value: Any, name: str, where: str, must: str = "a non-empty string") -> None:
    """Require a non-empty string.

    Raises
    ------
    ArgumentError
        For anything else.
    """
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, name, must, value)


def check_mask(value: Any, n: int, name: str, where: str) -> None:
    """Require ``n`` booleans (a list, numpy array or pandas Series of bools).

    Raises
    ------
    ArgumentError
        For values that are not booleans (``"x"``, ``[0, 1]``) or the wrong number of them.
    """
    import numpy as np
    import pandas as pd

    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray, pd.Series)):
        raise _fail(where, name, f"{n} booleans (a list, numpy array or pandas Series)", value)
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.dtype != np.bool_:
        raise _fail(where, name, f"{n} booleans (True or False)", value)
    if len(arr) != n:
        raise ArgumentError(f"{where}: {name} has {len(arr)} values; give one per bay ({n})", argument=name)


def check_crs_frame(value: Any, name: str, where: str) -> None:
    """Require a GeoDataFrame with an active geometry column and a CRS.

    Raises
    ------
    ArgumentError
        For anything else.
    """
    import geopandas as gpd
    import pandas as pd

    if not isinstance(value, (gpd.GeoDataFrame, pd.DataFrame, gpd.GeoSeries)):
        raise _fail(where, name, "a GeoDataFrame", value)
    check_frame_or_path(value, name, where)
    if value.crs is None:
        raise ArgumentError(f"{where}: {name} has no CRS; set one (GeoDataFrame.set_crs)", argument=name)
