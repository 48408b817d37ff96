"""The chainage lookup: which entry of a kerb holds a chainage, for many places at once.

Entries along the kerbs (vertices, segments, free stretches, zones, bays), sorted by kerb and then by
chainage, are found by one number per entry, its *key* ``kerb * stride + chainage``: a single
``numpy.searchsorted`` of the places' keys among the entries' keys answers, for every place at once,
which entry is at or before it (:meth:`ChainageIndex.before`, :meth:`ChainageIndex.holding`), which
entries lie inside a range of chainage (:meth:`ChainageIndex.inside`, :meth:`ChainageIndex.around`) or
which entries a kerb has (:meth:`ChainageIndex.rows_of`). This is the only place the keys are made and
searched.

The stride must exceed every chainage looked up (plus any shift), so that each kerb's keys lie apart
from the next kerb's; the caller chooses it from what it looks up. Entries and places go through the
same arithmetic (:meth:`ChainageIndex.keys`), so equal places give equal keys. A key holds the chainage
to the precision of ``kerb * stride`` only (places closer than that compare equal), so a different
stride can round a near tie differently: each caller keeps its own. Keys are floating point for
chainage in metres and integers for integer positions (millimetres) with an integer stride.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["ChainageIndex"]

Side = Literal["left", "right"]


@dataclass(frozen=True)
class ChainageIndex:
    """Entries along kerbs, sorted by kerb and chainage, found by the key ``kerb * stride + chainage``.

    Build it with :meth:`of` (entries already sorted) or :meth:`sorting`. The rows the lookups return are
    positions in the sorted entries.

    Attributes
    ----------
    kerb
        Kerb of each entry, ascending.
    key
        Key of each entry, ascending.
    stride
        The stride of the keys (metres, or an integer for integer positions).
    """

    kerb: NDArray[np.int64]
    key: NDArray[Any]
    stride: float

    @classmethod
    def of(cls, kerb: NDArray[np.int64], start: NDArray[Any], stride: float) -> ChainageIndex:
        """Index the entries ``(kerb, start)``, sorted by kerb and then chainage.

        Parameters
        ----------
        kerb, start
            Kerb and chainage (metres, or integer positions) of each entry.
        stride
            Larger than every chainage looked up (see the module docstring).
        """
        return cls(kerb, kerb * stride + start, stride)

    @classmethod
    def sorting(
        cls, kerb: NDArray[np.int64], start: NDArray[Any], stride: float
    ) -> tuple[ChainageIndex, NDArray[np.int64]]:
        """Index the entries ``(kerb, start)`` in any order: sorted by key first (stable, ties in order).

        Returns
        -------
        tuple
            The index and, for each of its rows, the caller's row of the entry.
        """
        key = kerb * stride + start
        order = np.argsort(key, kind="stable")
        return cls(kerb[order], key[order], stride), order

    def __len__(self) -> int:
        return len(self.key)

    def keys(self, kerb: NDArray[np.int64], s: NDArray[Any]) -> NDArray[Any]:
        """Return the key of each place ``(kerb, s)``: ``kerb * stride + s``."""
        key: NDArray[Any] = kerb * self.stride + s
        return key

    def search(
        self, kerb: NDArray[np.int64], s: NDArray[Any], side: Side = "left", shift: Any = None
    ) -> NDArray[np.int64]:
        """``numpy.searchsorted`` of the places' keys among the entries' keys.

        ``shift`` is added to the places' keys (not to their chainage: ``kerb * stride + s + shift``,
        rounded as written).
        """
        key = self.keys(kerb, s)
        if shift is not None:
            key = key + shift
        return np.asarray(np.searchsorted(self.key, key, side=side), dtype=np.int64)

    def before(self, kerb: NDArray[np.int64], s: NDArray[Any]) -> NDArray[np.int64]:
        """Row of the last entry at or before each place: its key is at most the place's.

        -1 where there is none; the entry may be another kerb's (the last of an earlier kerb, for a
        place before its own kerb's first entry): see :meth:`holding`.
        """
        return self.search(kerb, s, "right") - 1

    def holding(
        self, kerb: NDArray[np.int64], s: NDArray[Any]
    ) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Find the last entry of each place's own kerb at or before it, and whether there is one.

        Returns
        -------
        tuple of numpy.ndarray
            Row of the entry (0 where there is none: a valid row to index with) and whether it is on
            the place's kerb. Whether the place also lies before the entry's end is the caller's test.
        """
        i = self.before(kerb, s)
        if len(self.key) == 0:
            return np.zeros(len(i), dtype=np.int64), np.zeros(len(i), dtype=bool)
        found = i >= 0
        i = np.maximum(i, 0)
        found &= self.kerb[i] == kerb
        return i, found

    def inside(
        self, kerb: NDArray[np.int64], lo: NDArray[Any], hi: NDArray[Any], margin: Any = None
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Rows ``first`` to ``stop - 1`` of the entries strictly inside ``(lo, hi)`` on each kerb.

        ``margin`` narrows the range by that much at both ends, on the keys (``lo``'s key plus it,
        ``hi``'s key minus it). ``stop < first`` where the range is empty.
        """
        first = self.search(kerb, lo, "right", margin)
        stop = self.search(kerb, hi, "left", None if margin is None else -margin)
        return first, stop

    def around(
        self, kerb: NDArray[np.int64], s: NDArray[Any], tolerance: Any
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Rows ``first`` to ``stop - 1`` of the entries within ``tolerance`` of each place, ends included."""
        return self.search(kerb, s, "left", -tolerance), self.search(kerb, s, "right", tolerance)

    def rows_of(self, kerb: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Rows ``first`` to ``stop - 1`` of each kerb's entries (``first == stop``: it has none)."""
        first = np.searchsorted(self.kerb, kerb, side="left")
        stop = np.searchsorted(self.kerb, kerb, side="right")
        return np.asarray(first, dtype=np.int64), np.asarray(stop, dtype=np.int64)
