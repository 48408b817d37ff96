r"""File paths as the user gives them: a file, or one layer of a multi-layer file (``PATH:LAYER``).

A GeoPackage (or any file GDAL reads with several layers) holds many layers; the command line and the
API name one of them as ``project.gpkg:kerbs``, for inputs and outputs alike. :class:`LayerPath` is that
pair. The split is at the last ``:``, and only when what follows it is no path (no ``/`` or ``\``)
and what precedes it has a file extension, so ``C:\data\kerbs.gpkg`` and ``./a:b/kerbs.geojson`` stay
whole paths; and a path that exists as written is never split.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LayerPath", "same_file"]


@dataclass(frozen=True)
class LayerPath:
    """A file and, optionally, one named layer in it.

    Parameters
    ----------
    path
        The file.
    layer
        The layer's name; ``None`` when not given (a single-layer file, or a default chosen later).
    """

    path: Path
    layer: str | None = None

    @classmethod
    def parse(cls, value: str | os.PathLike[str] | LayerPath) -> LayerPath:
        """Read ``PATH`` or ``PATH:LAYER``.

        A :class:`LayerPath` is returned as is and an ``os.PathLike`` is always a whole path; a string
        is split at its last ``:`` when the part after it holds no path separator, the part before has
        a file extension, and the string as a whole is not an existing file.
        """
        if isinstance(value, LayerPath):
            return value
        if not isinstance(value, str):
            return cls(Path(value))
        head, sep, tail = value.rpartition(":")
        if (
            sep
            and tail
            and head
            and "/" not in tail
            and "\\" not in tail
            and Path(head).suffix
            and not Path(value).exists()
        ):
            return cls(Path(head), tail)
        return cls(Path(value))

    def __str__(self) -> str:
        """``PATH`` or ``PATH:LAYER``, as the user would write it."""
        return str(self.path) if self.layer is None else f"{self.path}:{self.layer}"


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file: the same real path (symbolic links followed) or the same inode.

    A hard link or a bind mount is caught by the inode; a path that does not exist yet is compared by its
    resolved name, so two spellings of one new output are also caught.
    """
    pa, pb = Path(a), Path(b)
    try:
        if pa.resolve() == pb.resolve():
            return True
        return pa.exists() and pb.exists() and os.path.samefile(pa, pb)
    except OSError:
        return False
