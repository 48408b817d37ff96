"""The output plan: every file a run reads and writes, checked before any work, written all together.

A run (``parkplan plan``, ``parkplan check``, :meth:`parkplan.Plan.write`) names the files it writes
(:class:`Target`) and the files it reads (:class:`InputFile`). An :class:`OutputPlan` checks them all
before any work is done, raising :class:`parkplan.errors.OutputError` with one line naming the files:

* every output path is usable (:func:`parkplan.io.write.check_output`);
* no output is an input: kerbs, hazards, ``--keep``, ``--extent``, ``check``'s bays, the rules file and
  every file it reaches through ``extends`` (:func:`rules_inputs`), compared by real path
  (:func:`parkplan.io.paths.same_file`: symbolic and hard links, ``./x`` and ``x``); and no two outputs are
  the same target;
* a GeoPackage output is one layer: ``PATH:LAYER``, else the name the caller gives (``--layer`` for the
  main output), else the file's stem. It is written into the file beside the layers already there, which
  are kept. A layer that exists is replaced only with ``overwrite`` (layer names compared ignoring case,
  as GeoPackage does); a layer that is read as an input is never replaced, but another layer of the same
  file may be written (every input is read in full before anything is written). An existing ``.gpkg``
  that is no GeoPackage is never replaced, nor one another program is writing (a non-empty ``-wal`` or
  ``-journal`` file beside it: copying it would lose what is in those). FlatGeobuf, GeoParquet and
  GeoJSON are single-layer files, replaced whole.

:meth:`OutputPlan.writing` then yields one temporary file per output file, beside it (so the final move
is a rename on one file system): a GeoPackage's starts as a byte copy of the existing file. The caller
writes every output into its temporary; only when all are complete does :func:`replace_all` move them
onto their targets, all or none: each old target is kept as a hard link (or, where the file system has
none, renamed aside) until every new file is in place, and put back if any move fails. SIGINT and
SIGTERM are held during that short phase (``pthread_sigmask`` in the main thread, and Python handlers
that only note the signal should another thread receive it); a signal that came meanwhile undoes the
moves, then is delivered as usual. No temporary or backup file is left behind, whatever happens.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parkplan import _interrupt as interrupt
from parkplan.errors import OutputError
from parkplan.io.paths import LayerPath, same_file

__all__ = [
    "InputFile",
    "OutputPlan",
    "Target",
    "document_target",
    "hold_signals",
    "input_files",
    "layer_target",
    "replace_all",
    "rules_inputs",
]

GPKG_SUFFIX = ".gpkg"
SQLITE_MAGIC = b"SQLite format 3\x00"
GPKG_APPLICATION_IDS = (b"GPKG", b"GP10", b"GP11")
"""SQLite ``application_id`` values (header bytes 68-71) of GeoPackage 1.2+ and of 1.0 / 1.1."""
SIDECARS = ("-wal", "-journal")
"""SQLite files beside a database that hold writes not yet in it."""
RESERVED_LAYER_PREFIXES = ("gpkg_", "rtree_", "sqlite_")
HELD_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s)


@dataclass(frozen=True)
class InputFile:
    """A file a run reads.

    Parameters
    ----------
    what
        What it is, as messages name it: ``"the kerbs"``, ``"a hazards file"``, ``"the rules file"``...
    path
        The file.
    layer
        The layer read from it when it has several (``PATH:LAYER``); ``None``: not named (any layer of
        the file may be the one read).
    """

    what: str
    path: Path
    layer: str | None = None

    def __str__(self) -> str:
        """``PATH`` or ``PATH:LAYER``."""
        return str(LayerPath(self.path, self.layer))


@dataclass(frozen=True)
class Target:
    """One output of a run.

    Parameters
    ----------
    what
        What it is, for messages: ``"bays"``, ``"zones"``, ``"summary"``, ``"violations"``...
    path
        The file.
    layer
        The layer's name in a GeoPackage; ``None`` for every other format and for documents.
    document
        A JSON document (any extension) rather than a vector layer; it never replaces a GeoPackage.
    """

    what: str
    path: Path
    layer: str | None = None
    document: bool = False

    def __str__(self) -> str:
        """``PATH`` or ``PATH:LAYER``."""
        return str(LayerPath(self.path, self.layer))


PathArgument = str | os.PathLike[str] | LayerPath


def _is_path(value: object) -> bool:
    return isinstance(value, (str, os.PathLike, LayerPath))


def layer_target(what: str, value: PathArgument, layer: str | None = None) -> Target:
    """Return the target of a vector layer output given as ``PATH`` or ``PATH:LAYER``.

    Parameters
    ----------
    what
        What the output is, for messages (``"bays"``).
    value
        The path, ``PATH:LAYER`` or a :class:`parkplan.io.paths.LayerPath`.
    layer
        The GeoPackage layer name when ``value`` names none (``--layer`` for the main output); ``None``:
        the file's stem.

    Raises
    ------
    OutputError
        If the path is unusable (:func:`parkplan.io.write.check_output`), a layer is named for a
        single-layer format, or the layer name is empty or reserved by GeoPackage.
    """
    from parkplan.io.write import check_output

    if not _is_path(value):
        raise OutputError(f"the {what} output must be a path, not {type(value).__name__}")
    given = LayerPath.parse(value)
    path = check_output(given.path)
    if path.suffix.lower() != GPKG_SUFFIX:
        if given.layer is not None:
            raise OutputError(
                f"{path.suffix} holds a single layer; ':{given.layer}' names a layer only in a .gpkg output",
                source=str(given),
            )
        return Target(what, path)
    name = given.layer if given.layer is not None else layer if layer is not None else path.stem
    if not name.strip() or name.lower().startswith(RESERVED_LAYER_PREFIXES):
        raise OutputError(
            f"{name!r} cannot name a GeoPackage layer (empty, or a name GeoPackage reserves); give another",
            source=str(path),
        )
    return Target(what, path, name)


def document_target(what: str, value: str | os.PathLike[str]) -> Target:
    """Return the target of a JSON document output (``--summary``): a whole file, any extension.

    Raises
    ------
    OutputError
        If the path is unusable.
    """
    from parkplan.io.write import check_output

    if not isinstance(value, (str, os.PathLike)):
        raise OutputError(f"the {what} output must be a path, not {type(value).__name__}")
    return Target(what, check_output(value, layer=False), document=True)


def input_files(items: Iterable[tuple[str, Any]]) -> list[InputFile]:
    """Return the files among a run's inputs.

    ``items`` are ``(what, value)`` pairs where value is a path, ``PATH:LAYER``, a
    :class:`parkplan.io.paths.LayerPath` or a :class:`parkplan.io.read.HazardSource` over one; in-memory data
    (GeoDataFrames, geometries), ``None`` and ``""`` are no file and are skipped.
    """
    from parkplan.io.read import HazardSource

    files = []
    for what, value in items:
        data = value.data if isinstance(value, HazardSource) else value
        if _is_path(data) and str(data) != "":
            given = LayerPath.parse(data)
            files.append(InputFile(what, given.path, given.layer))
    return files


def rules_inputs(rules: Any) -> list[InputFile]:
    """Return the rules file and every file it reaches through ``extends`` (:func:`.rules_files`).

    Raises
    ------
    RulesError
        If a rules file is missing or malformed (as loading the rules would).
    """
    from parkplan.rules.loading import rules_files

    files = rules_files(rules)
    names = ("the rules file", "a rules file reached through extends")
    return [InputFile(names[min(i, 1)], p) for i, p in enumerate(files)]


def _same_layer(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _is_sqlite(path: Path) -> bool:
    """Whether ``path`` is an existing SQLite database (a GeoPackage is one)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _geopackage_layers(path: Path, label: str) -> list[str] | None:
    """Return the layers of an existing GeoPackage; ``None`` when there is none (no file, or an empty one).

    Raises
    ------
    OutputError
        If the file is no GeoPackage, another program is writing it, or its layers cannot be read.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(100)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"cannot read it: {exc.strerror or exc}", source=label) from exc
    if not head:
        return None  # an empty file holds nothing to keep
    if not head.startswith(SQLITE_MAGIC) or head[68:72] not in GPKG_APPLICATION_IDS:
        raise OutputError(
            "exists and is not a GeoPackage; parkplan replaces no such file: move it or give another name",
            source=label,
        )
    for sidecar in SIDECARS:
        side = path.with_name(path.name + sidecar)
        if side.is_file() and side.stat().st_size > 0:
            raise OutputError(
                f"{side.name} beside it holds writes not yet in the GeoPackage (another program has it "
                "open, or did not close it); close it and run again",
                source=label,
            )
    import pyogrio

    try:
        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # pyogrio's DataSourceError and the like
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise OutputError(f"cannot read its layers: {reason}", source=label) from exc


class OutputPlan:
    """Every output of a run with the files it reads: checked on creation, written with :meth:`writing`.

    Parameters
    ----------
    targets
        The outputs (:func:`layer_target`, :func:`document_target`).
    inputs
        The files the run reads (:func:`input_files`, :func:`rules_inputs`).
    overwrite
        Replace GeoPackage layers that exist (other layers are always kept).

    Raises
    ------
    OutputError
        If an output is unusable, is an input, or is given twice; or a GeoPackage layer exists and
        ``overwrite`` is false (see the module docstring).
    """

    def __init__(
        self, targets: Sequence[Target], inputs: Sequence[InputFile] = (), *, overwrite: bool = False
    ) -> None:
        if not isinstance(overwrite, bool):
            raise OutputError(f"overwrite must be True or False, not {overwrite!r}")
        self.targets = tuple(targets)
        self.inputs = tuple(inputs)
        self.overwrite = overwrite
        self.check()

    def check(self) -> None:
        """Check the outputs against each other, the inputs and the files there now.

        Raises
        ------
        OutputError
            For the first output that cannot be written as planned.
        """
        layers: dict[int, list[str] | None] = {}
        for n, target in enumerate(self.targets):
            if target.layer is not None:
                layers[n] = _geopackage_layers(target.path, str(target.path))
            elif target.document and _is_sqlite(target.path):
                raise OutputError(
                    f"is a GeoPackage (or another SQLite database); the {target.what} is a document of its "
                    "own (JSON, PNG, HTML) and would replace it whole: give it a file of its own",
                    source=str(target),
                )
            for other in self.targets[:n]:
                if same_file(target.path, other.path) and (
                    target.layer is None or other.layer is None or _same_layer(target.layer, other.layer)
                ):
                    raise OutputError(
                        f"given as both the {other.what} output ({other}) and the {target.what} output; "
                        "give each output its own file" + (" or layer" if target.layer else ""),
                        source=str(target),
                    )
            for source in self.inputs:
                if not same_file(target.path, source.path):
                    continue
                if target.layer is None:
                    raise OutputError(
                        f"the {target.what} output would overwrite an input, {source.what} ({source}); "
                        "write it somewhere else",
                        source=str(target),
                    )
                # Another layer of an input GeoPackage may be written: the input is read in full first.
                read = [source.layer] if source.layer is not None else (layers[n] or [])
                if any(_same_layer(target.layer, name) for name in read):
                    raise OutputError(
                        f"the {target.what} output would replace layer '{target.layer}', read as "
                        f"{source.what} ({source}); write it to another layer or file",
                        source=str(target),
                    )
            existing = [name for name in layers.get(n) or [] if _same_layer(name, target.layer or "")]
            if existing and existing[0] != target.layer:
                raise OutputError(
                    f"layer '{target.layer}' would clash with the layer '{existing[0]}' there (GeoPackage "
                    "layer names ignore case); use that name or another",
                    source=str(target.path),
                )
            if existing and not self.overwrite:
                raise OutputError(
                    f"layer '{target.layer}' exists; pass --overwrite (API: overwrite=True) to replace it "
                    "(the file's other layers are kept), or name another layer as PATH:LAYER",
                    source=str(target.path),
                )

    @contextmanager
    def writing(self) -> Iterator[list[Path]]:
        """Yield one temporary path per target; replace the targets with them when the block succeeds.

        Outputs into one GeoPackage share one temporary file, a copy of the existing file if there is
        one (each output writes its own layer into it). The plan is checked again first (the files may
        have changed since). All or nothing: when the block raises, no target is touched; when a final
        move fails, the targets already moved are put back (:func:`replace_all`). The temporary files
        are removed in every case.

        Raises
        ------
        OutputError
            If the plan no longer holds, a GeoPackage cannot be copied, or the final moves fail.
        """
        self.check()
        files: list[tuple[Path, Path]] = []  # (temporary, target)
        which: list[int] = []
        complete = False
        try:
            for target in self.targets:
                for k, (_, path) in enumerate(files):
                    if same_file(path, target.path):
                        which.append(k)
                        break
                else:
                    temp = _temp_beside(target.path)
                    files.append((temp, target.path))
                    which.append(len(files) - 1)
                    if (
                        target.layer is not None
                        and _geopackage_layers(target.path, str(target.path)) is not None
                    ):
                        _copy(target.path, temp)
            yield [files[k][0] for k in which]
            complete = True
        finally:
            # The moves and the clean-up under one hold: a signal (even one that ends the process) is
            # acted on only once the targets are all new or all old and no temporary file is left.
            with hold_signals() as noted:
                try:
                    if complete:
                        _replace_all(files, noted)
                finally:
                    for temp, _ in files:
                        _remove_temporary(temp)


def _temp_beside(target: Path) -> Path:
    """Return a new, unused name for a temporary file in ``target``'s folder (hidden, ``.tmp`` + suffix)."""
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp" + target.suffix, dir=target.parent
        )
    except OSError as exc:
        raise OutputError(f"cannot write here: {exc.strerror or exc}", source=str(target)) from exc
    os.close(fd)
    os.unlink(name)
    return Path(name)


def _copy(source: Path, temp: Path) -> None:
    """Copy an existing GeoPackage to its temporary file (content and permission bits)."""
    try:
        shutil.copyfile(source, temp)
        shutil.copymode(source, temp)
    except OSError as exc:
        raise OutputError(
            f"cannot copy it to write the new layer beside the others: {exc.strerror or exc}",
            source=str(source),
        ) from exc


def _remove_temporary(temp: Path) -> None:
    """Remove a temporary file and the SQLite journal files GDAL may have left beside it."""
    for path in (temp, *(temp.with_name(temp.name + s) for s in (*SIDECARS, "-shm"))):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError:  # pragma: no cover - a folder made read-only meanwhile: nothing more to do
            pass


@contextmanager
def hold_signals() -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM for the block: they are noted, then delivered when it ends.

    In the main thread only (elsewhere the block runs as is): the signals are blocked there
    (``pthread_sigmask``), and a Python handler that only notes the signal stands in for the present
    one, in case another thread receives it. Yields the list of signals noted so far (the block may
    look at it, with :func:`_pending`, to undo its work). At the end the handlers and the mask are put
    back and every noted signal is raised again, so the program's own handlers see it.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield []
        return
    noted: list[int] = []

    def note(signum: int, frame: object) -> None:
        noted.append(signum)

    saved: dict[int, Callable[[int, Any], Any] | int | None] = {}
    for sig in HELD_SIGNALS:
        handler = signal.getsignal(sig)
        if handler is not None and handler != signal.SIG_IGN:  # (None: set from C, cannot be put back)
            saved[sig] = handler
            signal.signal(sig, note)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, set(HELD_SIGNALS))
    try:
        yield noted
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # signals blocked meanwhile arrive here
        for sig in dict.fromkeys(noted):
            signal.raise_signal(sig)


def _pending(noted: list[int]) -> bool:
    """Whether SIGINT or SIGTERM came while held (:func:`hold_signals`)."""
    if noted or interrupt.requested():
        return True
    if hasattr(signal, "sigpending") and threading.current_thread() is threading.main_thread():
        return bool(signal.sigpending() & set(HELD_SIGNALS))
    return False


def _backup(target: Path) -> Path | None:
    """Keep the present ``target`` under a hidden name beside it until the new one is in place.

    A hard link where the file system has them (``target`` stays in place), else a rename. ``None``
    when there is no target yet.

    Raises
    ------
    OSError
        If ``target`` became a folder, or cannot be kept.
    """
    if not os.path.lexists(target):
        return None
    if target.is_dir() and not target.is_symlink():
        raise IsADirectoryError(errno.EISDIR, "is a folder now", str(target))
    for _ in range(100):
        backup = target.with_name(f".{target.name}.{os.urandom(4).hex()}.bak")
        try:
            os.link(target, backup, follow_symlinks=False)
            return backup
        except FileExistsError:
            continue
        except OSError:
            if os.path.lexists(backup):
                continue
            os.replace(target, backup)  # no hard links here: set it aside instead
            return backup
    raise FileExistsError(errno.EEXIST, "no free name for a backup", str(target))  # pragma: no cover


def _put_back(target: Path, backup: Path | None, moved: bool) -> None:
    """Undo one move: the old ``target`` back from ``backup``, or no ``target`` where there was none."""
    if backup is not None and (moved or not os.path.lexists(target)):
        os.replace(backup, target)
    elif backup is not None:  # the hard link of a target that was never replaced
        backup.unlink()
    elif moved:
        target.unlink()


def replace_all(moves: Sequence[tuple[Path, Path]]) -> None:
    """Move each temporary file onto its target: all or none.

    Parameters
    ----------
    moves
        ``(temporary, target)`` pairs, each temporary in its target's folder.

    Raises
    ------
    OutputError
        If a move fails; the targets already moved are put back first (the message says where an old
        file is kept if even that fails).
    KeyboardInterrupt
        Or whatever the program's handler raises, when SIGINT / SIGTERM came during the moves: they are
        undone first (:func:`hold_signals`).
    """
    with hold_signals() as noted:
        _replace_all(moves, noted)


def _replace_all(moves: Sequence[tuple[Path, Path]], noted: list[int]) -> None:
    """:func:`replace_all` with the signals already held (``noted``: those that came meanwhile)."""
    done: list[tuple[Path, Path | None]] = []
    failure: OSError | None = None
    failed_at: Path | None = None
    lost: list[str] = []
    for temp, target in moves:
        try:
            backup = _backup(target)
        except OSError as exc:
            failure, failed_at = exc, target
            break
        try:
            os.replace(temp, target)
        except OSError as exc:
            failure, failed_at = exc, target
            try:
                _put_back(target, backup, moved=False)
            except OSError:  # pragma: no cover - the folder changed under us
                lost.append(f"{target} (the old file is kept as {backup})")
            break
        done.append((target, backup))
    interrupted = failure is None and _pending(noted)
    if failure is not None or interrupted:
        for target, backup in reversed(done):
            try:
                _put_back(target, backup, moved=True)
            except OSError:  # pragma: no cover - the folder changed under us
                lost.append(f"{target} (the old file is kept as {backup})" if backup else str(target))
    else:
        for _, backup in done:
            if backup is not None:
                with contextlib.suppress(OSError):
                    backup.unlink()
    if failure is None and lost:  # pragma: no cover - interrupted, and the folder changed under us
        raise OutputError(f"interrupted while replacing the outputs; could not put back {', '.join(lost)}")
    if failure is not None:
        reason = failure.strerror or str(failure)
        if lost:  # pragma: no cover
            undone = f"; could not put back {', '.join(lost)}"
        else:
            undone = "; no output was changed" if len(moves) > 1 else ""
        raise OutputError(f"cannot write: {reason}{undone}", source=str(failed_at)) from failure
