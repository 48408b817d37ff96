"""The CP-SAT model: how many bays of each type go into each run on each free stretch.

All lengths in the model are integer **millimetres** (the 1 mm length tolerance of the library is
the model's resolution). Geometry never enters this module: a stretch is a number, its free length.

Formulation for one free stretch of length ``F`` (no grouping: one run of unlimited length)::

    n[s, j, t]  integer   number of bays of type t in run j of stretch s
    u[s, j, t]  boolean   run j holds type t (only for types with an end triangle, e_t > 0)
    y[s, j]     boolean   run j is used (only with grouping)

    sum_t p_t * n[s,j,t] + e_t * u[s,j,t]  <=  R * y[s,j]               (run length, grouping)
    sum_j sum_t (p_t * n + e_t * u) + gap * sum_j y[s,j]  <=  F + gap    (stretch length, grouping)
    sum_t p_t * n[s,0,t] + e_t * u[s,0,t]  <=  F                         (stretch length, no grouping)
    n[s,j,t] <= ub * u[s,j,t]                                            (end triangle paid once per run)
    y[s,j] >= y[s,j+1]                                                   (symmetry: runs used in order)
    sum_j sum_t n[s,j,t] <= floor(F / min_t p_t)                         (valid bound, keeps the LP tight)

    maximise  sum_s sum_j sum_t w_t * n[s,j,t]

``p_t`` is the kerb length one bay takes (its pitch), ``e_t`` the end triangle of an angled run, ``R``
the longest run and ``gap`` the gap between runs. The number of runs offered per stretch is
``min(floor((F + gap) / (min_span + gap)), 2 * ceil(F / R) + 1)``: in an optimal layout two adjacent
runs are together longer than ``R`` (else they would merge and save a gap), so no more are needed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.sat.python import cp_model

__all__ = ["BayArrays", "ChunkResult", "runs_offered", "solve_chunk"]


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
    """

    pitch_mm: NDArray[np.int64]
    end_mm: NDArray[np.int64]
    weight: NDArray[np.int64]

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

    status: str
    objective: int
    bound: int
    blocks: NDArray[np.int64]
    build_s: float
    solve_s: float
    n_variables: int


def runs_offered(free_mm: NDArray[np.int64], bays: BayArrays, run_mm: int | None, gap_mm: int) -> NDArray[np.int64]:
    """Number of runs the model offers per stretch (0 when not even one bay fits)."""
    fits = free_mm >= bays.min_span_mm
    if run_mm is None:
        return fits.astype(np.int64)
    by_span = (free_mm + gap_mm) // (bays.min_span_mm + gap_mm)
    by_merge = 2 * -(-free_mm // run_mm) + 1
    return np.where(fits, np.minimum(by_span, by_merge), 0).astype(np.int64)


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
        Status name, objective, best bound and the chosen blocks.
    """
    t0 = time.perf_counter()
    model = cp_model.CpModel()
    n_types = bays.n_types
    pitch = [int(v) for v in bays.pitch_mm]
    end = [int(v) for v in bays.end_mm]
    weight = [int(v) for v in bays.weight]
    runs = runs_offered(free_mm, bays, run_mm, gap_mm)
    min_pitch = min(pitch)
    # keys[(s, j, t)] -> n variable; the meaning of each family is in the module docstring.
    keys: list[tuple[int, int, int]] = []
    n_vars: list[cp_model.IntVar] = []
    objective_terms: list[cp_model.LinearExprT] = []
    count = 0
    for s in np.flatnonzero(runs):
        s = int(s)
        free = int(free_mm[s])
        cap = free if run_mm is None else min(run_mm, free)
        used_prev: cp_model.IntVar | None = None
        stretch_lengths: list[cp_model.LinearExprT] = []
        stretch_counts: list[cp_model.IntVar] = []
        run_flags: list[cp_model.IntVar] = []
        for j in range(int(runs[s])):
            run_terms: list[cp_model.LinearExprT] = []
            for t in range(n_types):
                ub = (cap - end[t]) // pitch[t]
                if ub <= 0:
                    continue
                n = model.new_int_var(0, ub, "")
                count += 1
                keys.append((s, j, t))
                n_vars.append(n)
                stretch_counts.append(n)
                run_terms.append(pitch[t] * n)
                objective_terms.append(weight[t] * n)
                if end[t] > 0:
                    u = model.new_bool_var("")
                    model.add(n <= ub * u)
                    run_terms.append(end[t] * u)
            if not run_terms:
                continue
            length = sum(run_terms)
            stretch_lengths.append(length)
            if run_mm is not None:
                y = model.new_bool_var("")
                model.add(length <= run_mm * y)
                if used_prev is not None:
                    model.add_implication(y, used_prev)
                used_prev = y
                run_flags.append(y)
        if not stretch_lengths:
            continue
        if run_mm is None:
            model.add(sum(stretch_lengths) <= free)
        else:
            model.add(sum(stretch_lengths) + gap_mm * sum(run_flags) <= free + gap_mm)
        model.add(sum(stretch_counts) <= free // min_pitch)
    model.maximize(sum(objective_terms))
    build_s = time.perf_counter() - t0

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    if time_limit_s is not None:
        solver.parameters.max_time_in_seconds = max(float(time_limit_s), 0.01)
    t1 = time.perf_counter()
    status = solver.solve(model)
    solve_s = time.perf_counter() - t1
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ChunkResult(name, 0, _bound(solver, objective_terms), np.zeros((0, 4), np.int64), build_s, solve_s, count)
    values = np.array([solver.value(v) for v in n_vars], dtype=np.int64) if n_vars else np.zeros(0, np.int64)
    key_arr = np.array(keys, dtype=np.int64).reshape(-1, 3)
    nz = values > 0
    blocks = np.column_stack([key_arr[nz], values[nz]]) if nz.any() else np.zeros((0, 4), np.int64)
    objective = int(round(solver.objective_value)) if objective_terms else 0
    return ChunkResult(name, objective, _bound(solver, objective_terms), blocks, build_s, solve_s, count)


def _bound(solver: cp_model.CpSolver, terms: list[cp_model.LinearExprT]) -> int:
    if not terms:
        return 0
    bound = solver.best_objective_bound
    return int(math.floor(bound + 1e-6)) if math.isfinite(bound) else 0
