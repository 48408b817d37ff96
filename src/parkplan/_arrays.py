"""Small array helpers for ``(n, 2)`` point arrays on hot paths (numpy only).

numpy's fancy indexing and broadcasting are slow on arrays two items wide; these helpers gather, scale
and scatter whole rows at once. They only move or multiply values, so the results are exactly those of
the plain numpy expressions they replace.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["rows", "scaled", "set_rows"]


def rows(points: NDArray[np.float64], which: NDArray[np.int64]) -> NDArray[np.float64]:
    """``points[which]`` for an (n, 2) array: ``numpy.take`` gathers whole rows several times faster."""
    return np.take(points, which, axis=0)


def scaled(points: NDArray[np.float64], factor: NDArray[np.float64]) -> NDArray[np.float64]:
    """``points * factor[:, None]`` (C order), without numpy's slow inner loop two items wide."""
    out = np.empty(points.shape)
    np.multiply(points[:, 0], factor, out=out[:, 0])
    np.multiply(points[:, 1], factor, out=out[:, 1])
    return out


def set_rows(target: NDArray[np.float64], which: NDArray[np.int64], points: NDArray[np.float64]) -> None:
    """``target[which] = points`` for (n, 2) arrays, each row moved as one 16-byte item.

    ``target`` must be C-contiguous (its rows are viewed as complex numbers, a fast one-dimensional
    scatter); ``points`` is copied to C order if needed. The values are moved, never computed on.
    """
    flat = target.view(np.complex128).reshape(-1)
    flat[which] = np.ascontiguousarray(points, dtype=np.float64).view(np.complex128).reshape(-1)
