"""Decomposition, exact presolve and CP-SAT runs for a whole district.

Free stretches are independent of each other under the rules of this module (no quota or cross-section
coupling yet), so the district splits into one component per stretch. A component that nothing couples
is settled by the presolve and CP-SAT has nothing left to decide there:

* one bay type: the closed form (``floor(F / p)`` bays, or the run formula below with grouping);
* several bay types: an exact dynamic programme over integer millimetres
  (:mod:`parkplan.optimize.presolve`).

Every other stretch goes to CP-SAT in models of a bounded size. ``presolve=False`` sends everything
through CP-SAT. Both paths reach the same optimum on every stretch, and for one bay type the same
layout (tested on random districts); with several types, equally good count vectors may differ.

Closed form with grouping (one type, pitch ``p``, end triangle ``e``, longest run ``R``, gap ``g``)::

    k = floor((R - e) / p)                 bays in a full run
    G = k * p + e + g                      kerb a full run and its gap take
    m = floor((F + g) / G)                 full runs
    r = F - m * G                          kerb left after them (and their gaps)
    n = m * k + max(0, floor((r - e) / p))
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkplan._parallel import map_range
from parkplan.errors import RulesError, SolverError
from parkplan.optimize._cpsat import Status, has_solution, worst
from parkplan.optimize.presolve import presolve_stretches
from parkplan.optimize.stretches import BayArrays, ChunkResult, fits, run_patterns, solve_chunk
from parkplan.rules.loading import Rules

__all__ = ["Solution", "bay_arrays", "closed_form", "solve_stretches", "to_mm"]

WEIGHT_SCALE = 1000
"""Objective weights are multiplied by this and rounded to integers for CP-SAT."""

MODEL_BUDGET = {"single_run": 600, "patterns": 30}
"""Stretches are packed into CP-SAT models of at most about this many variables. Measured on 1,000
random stretches (2 cores): the single-run model solves fastest in chunks of a few hundred variables
(1.7 s vs 2.4 s in chunks of 10), the run-pattern model in the smallest ones (4.9 s in chunks of 10
variables, 52 s in chunks of 200): CP-SAT proves many independent knapsacks in one model slowly."""


def to_mm(length_m: NDArray[np.float64]) -> NDArray[np.int64]:
    """Free length in integer millimetres, with the library's 1 mm tolerance added.

    A stretch computed as 41.9999999 m still holds seven 6 m bays.
    """
    return np.floor(np.asarray(length_m, dtype=float) * 1000.0 + 1.0 + 1e-6).astype(np.int64)


def bay_arrays(rules: Rules) -> BayArrays:
    """Pitch, end triangle and integer weight per bay type (mm)."""
    pitch = np.array([math.ceil(b.pitch_m * 1000.0 - 1e-6) for b in rules.bays], dtype=np.int64)
    end = np.array([math.ceil(b.end_m * 1000.0 - 1e-6) for b in rules.bays], dtype=np.int64)
    weight = np.array([round(b.weight * WEIGHT_SCALE) for b in rules.bays], dtype=np.int64)
    delta = np.array([round(b.end_delta_m * 1000.0) for b in rules.bays], dtype=np.int64)
    return BayArrays(pitch, end, np.maximum(weight, 1), delta if delta.any() else None)


def closed_form(
    free_mm: NDArray[np.int64],
    pitch_mm: int,
    end_mm: int,
    run_mm: int | None,
    gap_mm: int,
    delta_mm: int = 0,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Optimal bay count for one bay type, vectorised.

    Returns
    -------
    tuple
        ``(total, full_runs, bays_per_full_run, last_run)`` flattened as three arrays: number of full
        runs, bays per full run (scalar broadcast) and bays in the last, partial run. Without grouping
        everything is one "partial" run.
    """
    f = np.asarray(free_mm, dtype=np.int64)

    def one_run(length: NDArray[np.int64]) -> NDArray[np.int64]:
        """Most bays in one run of at most ``length``: ``n * p + e + 2 delta``, or one of ``p + delta``."""
        many = (length - end_mm - 2 * delta_mm) // pitch_mm
        single = length >= pitch_mm + end_mm + delta_mm
        return np.where(many >= 2, many, np.where(single, 1, 0)).astype(np.int64)

    if run_mm is None:
        return np.zeros_like(f), np.zeros_like(f), one_run(f)
    k = int(one_run(np.array([run_mm], dtype=np.int64))[0])
    span = k * pitch_mm + end_mm + (2 * delta_mm if k >= 2 else delta_mm) + gap_mm
    m = (f + gap_mm) // span
    r = f - m * span
    return m, np.full_like(f, k), np.minimum(one_run(np.maximum(r, 0)), k)


@dataclass
class Solution:
    """Counts chosen for every free stretch, and how they were proven.

    ``blocks`` columns: ``stretch`` (row in the stretch table), ``run`` (order within the stretch),
    ``type`` (index into ``rules.bays``), ``count``.
    """

    blocks: pd.DataFrame
    status: Status
    objective: float
    bound: float
    gap: float
    n_presolved: int
    n_models: int
    model_statuses: list[dict[str, object]] = field(default_factory=list)
    build_s: float = 0.0
    solve_s: float = 0.0


def _chunks(cost: NDArray[np.int64], budget: int) -> list[NDArray[np.int64]]:
    """Split the stretches with a positive cost into consecutive groups of about ``budget`` in cost."""
    idx = np.flatnonzero(cost)
    if len(idx) == 0:
        return []
    total = np.cumsum(cost[idx])
    cut = (total - 1) // budget
    bounds = np.flatnonzero(np.diff(cut)) + 1
    return np.split(idx, bounds)


def solve_stretches(
    length_m: NDArray[np.float64],
    rules: Rules,
    *,
    presolve: bool = True,
    time_limit_s: float | None = None,
    allowed: NDArray[np.bool_] | None = None,
    workers: int | None = 1,
) -> Solution:
    """Choose the bays on every free stretch.

    Parameters
    ----------
    length_m
        Free length of each stretch (metres).
    rules
        Bay types and grouping.
    presolve
        Settle single-type stretches in closed form (``False``: everything through CP-SAT).
    time_limit_s
        Wall-clock limit for all CP-SAT solves together; each model gets an equal share of what is left.
    allowed
        Which bay types each stretch may hold (stretches x types); ``None``: every type everywhere.
        Stretches are solved in groups of equal masks, each with the rules' bay types cut to its mask.
    workers
        Processes for the CP-SAT models (:mod:`parkplan._parallel`; ``None``: all CPUs). The models share
        nothing: without a time limit they are solved on the pool in contiguous groups and gathered in
        order, each by one CP-SAT thread, so the result is the same for any number. With a time limit
        they run one after the other here, each with an equal share of the time left.

    Returns
    -------
    Solution
        The blocks and the proof status (``OPTIMAL`` when every model was solved to optimality).
    """
    if allowed is not None and not np.asarray(allowed, dtype=bool).all():
        return _solve_by_mask(
            np.asarray(length_m, dtype=float),
            rules,
            np.asarray(allowed, dtype=bool),
            presolve=presolve,
            time_limit_s=time_limit_s,
            workers=workers,
        )
    bays = bay_arrays(rules)
    free = to_mm(length_m)
    run_mm = None if rules.grouping is None else math.floor(rules.grouping.max_run_m * 1000.0 + 1.0 + 1e-6)
    gap_mm = 0 if rules.grouping is None else math.ceil(rules.grouping.gap_m * 1000.0 - 1e-6)
    weight_total = 0
    bound_total = 0
    frames: list[pd.DataFrame] = []
    n_presolved = 0
    statuses: list[dict[str, object]] = []
    build_s = solve_s = 0.0
    todo = np.ones(len(free), dtype=bool)

    if bays.delta.any() and bays.n_types > 1:
        names = ", ".join(b.name for b in rules.bays)
        raise RulesError(
            f"{rules.name}: end_length_m (end-of-run bays) works when one bay type may stand on a kerb; "
            f"here {names} may share kerbs. Limit the kerbs to one type (an orientation column, "
            "default_orientation) or drop end_length_m"
        )
    if bays.delta.any() and rules.grouping is not None and 2 * int(bays.delta[0]) + gap_mm < 0:
        raise RulesError(
            f"{rules.name}: end-of-run bays shorter than inner bays by more than half the gap between runs "
            "would make many short runs worth more than full ones; this is not modelled"
        )
    if (presolve or bays.delta.any()) and bays.n_types == 1:
        # End-of-run bays are solved in the closed form only (it is exact), also with presolve=False.
        t0 = time.perf_counter()
        m, k, last = closed_form(
            free, int(bays.pitch_mm[0]), int(bays.end_mm[0]), run_mm, gap_mm, int(bays.delta[0])
        )
        total = m * k + last
        weight_total += int(total.sum()) * int(bays.weight[0])
        bound_total += int(total.sum()) * int(bays.weight[0])
        frames.append(_closed_form_blocks(m, k, last))
        n_presolved = len(free)
        todo[:] = False
        build_s += time.perf_counter() - t0
    elif presolve:
        t0 = time.perf_counter()
        blocks_dp, value, settled = presolve_stretches(free, bays, run_mm, gap_mm)
        weight_total += int(value[settled].sum())
        bound_total += int(value[settled].sum())
        frames.append(pd.DataFrame(blocks_dp, columns=["stretch", "run", "type", "count"]))
        n_presolved = int(settled.sum())
        todo &= ~settled
        build_s += time.perf_counter() - t0

    fit = fits(free, bays) * todo
    if run_mm is None:
        cost = fit * (bays.n_types + int((bays.end_mm > 0).sum()))
        chunks = _chunks(cost, MODEL_BUDGET["single_run"])
    else:
        _, pattern_mm, _ = run_patterns(bays, run_mm)
        cost = fit * np.searchsorted(pattern_mm, free, side="right")
        chunks = _chunks(cost, MODEL_BUDGET["patterns"])
    t_models = time.perf_counter()
    results = _solve_chunks(free, chunks, bays, run_mm, gap_mm, time_limit_s, workers)
    # Build and solve times are the models' own; on several workers they overlap, so they are scaled to
    # the wall-clock time the models took together.
    spent = sum(r.build_s + r.solve_s for r in results)
    share = min(1.0, (time.perf_counter() - t_models) / spent) if spent > 0 else 1.0
    for c, (idx, res) in enumerate(zip(chunks, results, strict=True)):
        if res.status in ("MODEL_INVALID",):
            raise SolverError(f"CP-SAT rejected model {c}: {res.status}")
        build_s += res.build_s * share
        solve_s += res.solve_s * share
        weight_total += res.objective
        if not has_solution(res.status) and res.bound <= 0:
            # No solution and no bound from CP-SAT: fall back on the trivial one (every stretch full of
            # its shortest bay, at the highest weight) so the gap says how little is known.
            res.bound = int((free[idx] // int(bays.pitch_mm.min())).sum()) * int(bays.weight.max())
        bound_total += res.bound
        if res.status != "OPTIMAL":
            statuses.append(
                {
                    "component": c,
                    "stretches": len(idx),
                    "status": res.status,
                    "objective": res.objective / WEIGHT_SCALE,
                    "bound": res.bound / WEIGHT_SCALE,
                    "gap": (res.bound - res.objective) / max(abs(res.bound), 1),
                }
            )
        if len(res.blocks):
            b = res.blocks
            frames.append(
                pd.DataFrame({"stretch": idx[b[:, 0]], "run": b[:, 1], "type": b[:, 2], "count": b[:, 3]})
            )

    if bays.n_types == 1 and not presolve and frames:
        # One type: CP-SAT's totals are unique, its split into runs need not be. Lay each total out in
        # the closed form's canonical runs (full runs first), which is always feasible when any is.
        cp = pd.concat(frames, ignore_index=True)
        totals = np.zeros(len(free), dtype=np.int64)
        np.add.at(totals, cp["stretch"].to_numpy(dtype=np.int64), cp["count"].to_numpy(dtype=np.int64))
        frames = [_canonical_single(totals, bays, run_mm)]
    blocks = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({"stretch": [], "run": [], "type": [], "count": []}, dtype=np.int64)
    )
    blocks = blocks[blocks["count"] > 0].astype(np.int64)
    blocks = blocks.sort_values(["stretch", "run", "type"], kind="stable").reset_index(drop=True)
    status = worst(*(res.status for res in results))
    gap = (bound_total - weight_total) / max(abs(bound_total), 1)
    return Solution(
        blocks=blocks,
        status=status,
        objective=weight_total / WEIGHT_SCALE,
        bound=bound_total / WEIGHT_SCALE,
        gap=gap,
        n_presolved=n_presolved,
        n_models=len(chunks),
        model_statuses=statuses,
        build_s=build_s,
        solve_s=solve_s,
    )


MIN_MODELS_PER_WORKER = 8
"""Fewer CP-SAT models than this per worker are solved in this process."""


def _solve_chunks(
    free: NDArray[np.int64],
    chunks: list[NDArray[np.int64]],
    bays: BayArrays,
    run_mm: int | None,
    gap_mm: int,
    time_limit_s: float | None,
    workers: int | None,
) -> list[ChunkResult]:
    """Solve the CP-SAT model of every chunk of stretches, in chunk order (see :func:`solve_stretches`)."""
    if time_limit_s is None:
        return list(
            map_range(
                lambda c: solve_chunk(free[chunks[c]], bays, run_mm=run_mm, gap_mm=gap_mm, time_limit_s=None),
                len(chunks),
                workers,
                MIN_MODELS_PER_WORKER,
            )
        )
    deadline = time.perf_counter() + time_limit_s
    results: list[ChunkResult] = []
    for c, idx in enumerate(chunks):
        limit = max(deadline - time.perf_counter(), 0.0) / (len(chunks) - c)
        results.append(solve_chunk(free[idx], bays, run_mm=run_mm, gap_mm=gap_mm, time_limit_s=limit))
    return results


def _solve_by_mask(
    length_m: NDArray[np.float64],
    rules: Rules,
    allowed: NDArray[np.bool_],
    *,
    presolve: bool,
    time_limit_s: float | None,
    workers: int | None,
) -> Solution:
    """Solve stretches grouped by the bay types they may hold, and put the answers back together."""
    masks, group = np.unique(allowed, axis=0, return_inverse=True)
    group = np.asarray(group).reshape(-1)
    frames: list[pd.DataFrame] = []
    objective = bound = 0.0
    statuses: list[dict[str, object]] = []
    n_presolved = n_models = 0
    build_s = solve_s = 0.0
    parts: list[Status] = []
    for g, mask in enumerate(masks):
        types = np.flatnonzero(mask)
        idx = np.flatnonzero(group == g)
        if len(types) == 0 or len(idx) == 0:
            continue
        sub = replace(rules, bays=tuple(rules.bays[t] for t in types))
        part = solve_stretches(
            length_m[idx], sub, presolve=presolve, time_limit_s=time_limit_s, workers=workers
        )
        b = part.blocks
        frames.append(
            b.assign(
                stretch=idx[b["stretch"].to_numpy(dtype=np.int64)],
                type=types[b["type"].to_numpy(dtype=np.int64)],
            )
        )
        objective += part.objective
        bound += part.bound
        statuses += part.model_statuses
        n_presolved += part.n_presolved
        n_models += part.n_models
        build_s += part.build_s
        solve_s += part.solve_s
        parts.append(part.status)
    blocks = (
        pd.concat(frames, ignore_index=True)
        .sort_values(["stretch", "run", "type"], kind="stable")
        .reset_index(drop=True)
        if frames
        else pd.DataFrame({"stretch": [], "run": [], "type": [], "count": []}, dtype=np.int64)
    )
    gap = (bound - objective) / max(abs(bound), 1e-9) if bound else 0.0
    return Solution(
        blocks.astype(np.int64),
        worst(*parts),
        objective,
        bound,
        gap,
        n_presolved,
        n_models,
        statuses,
        build_s,
        solve_s,
    )


def _canonical_single(totals: NDArray[np.int64], bays: BayArrays, run_mm: int | None) -> pd.DataFrame:
    if run_mm is None:
        return _closed_form_blocks(np.zeros_like(totals), np.zeros_like(totals), totals)
    k = (run_mm - int(bays.end_mm[0])) // int(bays.pitch_mm[0])
    return _closed_form_blocks(totals // k, np.full_like(totals, k), totals % k)


def _closed_form_blocks(m: NDArray[np.int64], k: NDArray[np.int64], last: NDArray[np.int64]) -> pd.DataFrame:
    """Blocks (type 0) of the closed-form solution: ``m`` full runs of ``k`` then a run of ``last``."""
    stretch = np.arange(len(m))
    full_s = np.repeat(stretch, m)
    starts = np.cumsum(m) - m
    full_run = np.arange(len(full_s)) - np.repeat(starts, m)
    has_last = last > 0
    frame = pd.DataFrame(
        {
            "stretch": np.concatenate([full_s, stretch[has_last]]),
            "run": np.concatenate([full_run, m[has_last]]),
            "type": 0,
            "count": np.concatenate([np.repeat(k, m), last[has_last]]),
        }
    )
    return frame
