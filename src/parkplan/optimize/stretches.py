"""The CP-SAT model: how many bays of each type go on each free stretch, and in which runs.

All lengths in the model are integer **millimetres** (the 1 mm length tolerance of the library is
the model's resolution). Geometry never enters this module: a stretch is a number, its free length.

Without grouping, one stretch is one run::

    n[s, t]  integer   bays of type t on stretch s
    u[s, t]  boolean   stretch s holds type t (only for types with an end triangle, e_t > 0)

    sum_t p_t * n[s,t] + e_t * u[s,t]  <=  F_s          (the run fits the stretch)
    n[s,t] <= ub * u[s,t]                               (an angled run pays its end triangle once)
    sum_t n[s,t] <= floor(F_s / min_t p_t)              (valid bound, tightens the LP)
    maximise  sum_s sum_t w_t * n[s,t]

With grouping (runs at most ``R`` long, gaps of at least ``g``), the contents a run can hold are
enumerated once per rule set and only the Pareto-efficient ones kept (no other content is both shorter
and worth more; :func:`run_patterns`). Any layout can swap each run for an efficient content that is no
longer and worth no less, so the optimum over efficient contents is the true optimum::

    x[s, k]  integer   runs with content k on stretch s

    sum_k (len_k + g) * x[s,k]  <=  F_s + g              (runs and the gaps between them fit)
    sum_k bays_k * x[s,k] <= floor(F_s / min_t p_t)      (valid bound)
    maximise  sum_s sum_k value_k * x[s,k]

This has no symmetry between runs (a run-indexed formulation has one for every permutation of runs)
and a handful of variables per stretch. ``p_t`` is the kerb length one bay takes (its pitch), ``e_t`` the
end triangle of an angled run, ``w_t`` the integer weight.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.sat.python import cp_model

from parkplan.errors import RulesError
from parkplan.optimize._cpsat import Status, has_solution, solve_model

__all__ = ["BayArrays", "ChunkResult", "fits", "pattern_blocks", "run_patterns", "solve_chunk"]


@dataclass(frozen=True)
class BayArrays:
    """Bay types as model integers.

    Parameters
    ----------
    pitch_mm
        Kerb length one bay takes inside a run (mm), per type.
    end_mm
        Extra kerb length per run of that type (mm): the end triangle of angled bays, else 0.
    weight
        Integer objective weight per bay, per type.
    delta_mm
        End-of-run bay length minus inner bay length (mm), per type (``None``: no end-of-run bays).
    """

    pitch_mm: NDArray[np.int64]
    end_mm: NDArray[np.int64]
    weight: NDArray[np.int64]
    delta_mm: NDArray[np.int64] | None = None

    @property
    def delta(self) -> NDArray[np.int64]:
        """End-of-run bay length minus inner bay length (mm) per type; 0 for types without end bays."""
        return np.zeros_like(self.pitch_mm) if self.delta_mm is None else self.delta_mm

    def block_mm(self, types: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[np.int64]:
        """Kerb length of a block of ``counts`` bays of each type, end-of-run bays included (mm)."""
        d = self.delta[types]
        ends = np.where(counts >= 2, 2 * d, np.where(counts == 1, d, 0))
        out: NDArray[np.int64] = (
            counts * self.pitch_mm[types] + np.where(counts > 0, self.end_mm[types], 0) + ends
        )
        return out

    @property
    def n_types(self) -> int:
        """Number of bay types."""
        return len(self.pitch_mm)

    @property
    def min_span_mm(self) -> int:
        """Shortest run that holds one bay (mm)."""
        return int(np.min(self.pitch_mm + self.end_mm))


@dataclass
class ChunkResult:
    """What CP-SAT returned for one model.

    ``blocks`` has one row per non-empty block ``(stretch, run, type, count)``, with ``stretch``
    indexing the chunk's input array.
    """

    status: Status
    objective: int
    bound: int
    blocks: NDArray[np.int64]
    build_s: float
    solve_s: float


def fits(free_mm: NDArray[np.int64], bays: BayArrays) -> NDArray[np.int64]:
    """Return 1 for stretches where at least one bay fits, else 0 (such stretches get no variables)."""
    return (free_mm >= bays.min_span_mm).astype(np.int64)


MAX_PATTERN_CANDIDATES = 2_000_000
"""Largest number of run compositions enumerated before giving up (many short bay types, long runs)."""


def run_patterns(
    bays: BayArrays, run_mm: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """List the Pareto-efficient contents of one run: no other content is both shorter and worth more.

    Returns
    -------
    tuple
        ``counts`` (K x T bays of each type), ``length_mm`` (K) and ``value`` (K, integer weights), sorted
        by length. Among contents of equal length and value, the one with more bays of earlier-declared
        types is kept.
    """
    combos = np.zeros((1, 0), dtype=np.int64)
    length = np.zeros(1, dtype=np.int64)
    for t in range(bays.n_types):
        p, e = int(bays.pitch_mm[t]), int(bays.end_mm[t])
        n_max = max((run_mm - e) // p, 0)
        n = np.arange(n_max + 1, dtype=np.int64)
        add = n * p + np.where(n > 0, e, 0)
        new_len = (length[:, None] + add[None, :]).ravel()
        keep = new_len <= run_mm
        rows = np.repeat(np.arange(len(combos)), len(n))[keep]
        combos = np.column_stack([combos[rows], np.tile(n, len(combos))[keep]])
        length = new_len[keep]
        if len(combos) > MAX_PATTERN_CANDIDATES:
            msg = (
                f"[grouping] max_run_m allows more than {MAX_PATTERN_CANDIDATES:,} different runs of these "
                "bay types; shorten max_run_m or use fewer, longer bay types"
            )
            raise RulesError(msg)
    value = combos @ bays.weight
    nonzero = combos.sum(axis=1) > 0
    combos, length, value = combos[nonzero], length[nonzero], value[nonzero]
    keys = [*(-combos[:, t] for t in reversed(range(bays.n_types))), -value, length]
    order = np.lexsort(keys)
    combos, length, value = combos[order], length[order], value[order]
    best_before = np.maximum.accumulate(np.concatenate([[-1], value[:-1]]))
    efficient = value > best_before
    return combos[efficient], length[efficient], value[efficient]


def solve_chunk(
    free_mm: NDArray[np.int64],
    bays: BayArrays,
    *,
    run_mm: int | None,
    gap_mm: int,
    time_limit_s: float | None = None,
    seed: int = 0,
) -> ChunkResult:
    """Build and solve one CP-SAT model for a set of independent free stretches.

    Parameters
    ----------
    free_mm
        Free length of each stretch (mm, already including the 1 mm tolerance).
    bays
        Bay types.
    run_mm, gap_mm
        Longest run and gap between runs (mm); ``run_mm=None`` means no grouping.
    time_limit_s
        Wall-clock limit for the solve; ``None`` means none.
    seed
        CP-SAT random seed (with one worker, the same model gives the same solution).

    Returns
    -------
    ChunkResult
        Status name, objective, best bound and the chosen blocks ``(stretch, run, type, count)``.
    """
    t0 = time.perf_counter()
    model = cp_model.CpModel()
    todo = np.flatnonzero(fits(free_mm, bays))
    if run_mm is None:
        decode, objective_terms = _single_run_model(model, free_mm, todo, bays)
    else:
        decode, objective_terms = _pattern_model(model, free_mm, todo, bays, run_mm, gap_mm)
    model.maximize(sum(objective_terms))
    build_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    solver, status = solve_model(model, seed, time_limit_s)
    solve_s = time.perf_counter() - t1
    bound = _bound(solver, objective_terms)
    if not has_solution(status):
        return ChunkResult(status, 0, bound, np.zeros((0, 4), np.int64), build_s, solve_s)
    objective = round(solver.objective_value) if objective_terms else 0
    return ChunkResult(status, objective, bound, decode(solver), build_s, solve_s)


Decoder = Callable[[cp_model.CpSolver], NDArray[np.int64]]


def _single_run_model(
    model: cp_model.CpModel, free_mm: NDArray[np.int64], todo: NDArray[np.int64], bays: BayArrays
) -> tuple[Decoder, list[cp_model.LinearExprT]]:
    """No grouping: one run per stretch, ``n[s, t]`` bays of type t, ``u[s, t]`` pays its end triangle."""
    pitch = [int(v) for v in bays.pitch_mm]
    end = [int(v) for v in bays.end_mm]
    weight = [int(v) for v in bays.weight]
    min_pitch = min(pitch)
    keys: list[tuple[int, int]] = []
    n_vars: list[cp_model.IntVar] = []
    objective: list[cp_model.LinearExprT] = []
    for s in todo.tolist():
        free = int(free_mm[s])
        length: list[cp_model.LinearExprT] = []
        counts: list[cp_model.IntVar] = []
        for t in range(bays.n_types):
            ub = (free - end[t]) // pitch[t]
            if ub <= 0:
                continue
            # n[s, t]: bays of type t on stretch s.
            n = model.new_int_var(0, ub, "")
            keys.append((s, t))
            n_vars.append(n)
            counts.append(n)
            length.append(pitch[t] * n)
            objective.append(weight[t] * n)
            if end[t] > 0:
                # u[s, t]: the run holds type t, so its end triangle is paid once.
                u = model.new_bool_var("")
                model.add(n <= ub * u)
                length.append(end[t] * u)
        if counts:
            model.add(sum(length) <= free)
            model.add(sum(counts) <= free // min_pitch)

    def decode(solver: cp_model.CpSolver) -> NDArray[np.int64]:
        if not n_vars:
            return np.zeros((0, 4), np.int64)
        values = np.array([solver.value(v) for v in n_vars], dtype=np.int64)
        key = np.array(keys, dtype=np.int64).reshape(-1, 2)
        nz = values > 0
        return np.column_stack([key[nz, 0], np.zeros(int(nz.sum()), np.int64), key[nz, 1], values[nz]])

    return decode, objective


def _pattern_model(
    model: cp_model.CpModel,
    free_mm: NDArray[np.int64],
    todo: NDArray[np.int64],
    bays: BayArrays,
    run_mm: int,
    gap_mm: int,
) -> tuple[Decoder, list[cp_model.LinearExprT]]:
    """Add the grouping model: ``x[s, k]`` runs with the k-th efficient content on stretch s."""
    counts, length, value = run_patterns(bays, run_mm)
    keys: list[tuple[int, int]] = []
    x_vars: list[cp_model.IntVar] = []
    objective: list[cp_model.LinearExprT] = []
    max_bays = counts.sum(axis=1)
    min_pitch = int(bays.pitch_mm.min())
    for s in todo.tolist():
        free = int(free_mm[s])
        terms: list[cp_model.LinearExprT] = []
        bay_terms: list[cp_model.LinearExprT] = []
        for k in np.flatnonzero(length <= free).tolist():
            ub = (free + gap_mm) // (int(length[k]) + gap_mm)
            # x[s, k]: number of runs on stretch s whose content is pattern k.
            x = model.new_int_var(0, ub, "")
            keys.append((s, k))
            x_vars.append(x)
            terms.append((int(length[k]) + gap_mm) * x)
            bay_terms.append(int(max_bays[k]) * x)
            objective.append(int(value[k]) * x)
        if terms:
            model.add(sum(terms) <= free + gap_mm)
            model.add(sum(bay_terms) <= free // min_pitch)

    def decode(solver: cp_model.CpSolver) -> NDArray[np.int64]:
        if not x_vars:
            return np.zeros((0, 4), np.int64)
        values = np.array([solver.value(v) for v in x_vars], dtype=np.int64)
        key = np.array(keys, dtype=np.int64).reshape(-1, 2)
        nz = values > 0
        x = np.zeros((len(free_mm), len(length)), dtype=np.int64)
        x[key[nz, 0], key[nz, 1]] = values[nz]
        return pattern_blocks(np.arange(len(free_mm)), x, counts, length)

    return decode, objective


def pattern_blocks(
    stretch: NDArray[np.int64], x: NDArray[np.int64], counts: NDArray[np.int64], length: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Expand run-pattern counts ``x`` (stretches x patterns) into blocks ``(stretch, run, type, count)``.

    Runs are numbered along the stretch, longest pattern first; blocks inside a run follow the declared
    order of the types.
    """
    s_local, k = np.nonzero(x)
    reps = x[s_local, k]
    order = np.lexsort((-length[k], s_local))
    s_local, k, reps = s_local[order], k[order], reps[order]
    run_s = np.repeat(stretch[s_local], reps)
    run_k = np.repeat(k, reps)
    first = np.ones(len(run_s), dtype=bool)
    first[1:] = run_s[1:] != run_s[:-1]
    run_no = np.arange(len(run_s)) - np.maximum.accumulate(np.where(first, np.arange(len(run_s)), 0))
    rows = [np.zeros((0, 4), np.int64)]
    for t in range(counts.shape[1]):
        c = counts[run_k, t]
        m = c > 0
        rows.append(np.column_stack([run_s[m], run_no[m], np.full(int(m.sum()), t), c[m]]))
    out = np.concatenate(rows).astype(np.int64)
    return out[np.lexsort((out[:, 2], out[:, 1], out[:, 0]))]


def _bound(solver: cp_model.CpSolver, terms: list[cp_model.LinearExprT]) -> int:
    if not terms:
        return 0
    bound = solver.best_objective_bound
    return math.floor(bound + 1e-6) if math.isfinite(bound) else 0
