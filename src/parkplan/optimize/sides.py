"""The CP-SAT model of the choice of sides and depths: one level per kerb, no forbidden pair of levels.

What the geometry and the cross-section rules settled (:func:`parkplan.sides.choose_levels`) reaches
this module as plain arrays: per kerb and level (0: no bays) an integer score and whether the level is
usable, and the pairs of (kerb, level) that may not be chosen together (kerbs facing each other whose
bays would not leave the carriageway its width). The model::

    x[k, j]  boolean     kerb k at level j           sum_j x[k, j] = 1
    x[a, i] + x[b, j] <= 1                           for every forbidden pair (a, i), (b, j)
    maximise  sum_k sum_j  score[k, j] * x[k, j]     (ties to the shallower level)

is solved exactly per connected component of kerbs that share a forbidden pair, the components packed
into models of about :data:`CHOICE_BUDGET` kerbs. The models share nothing: they are solved on the
worker pool in contiguous groups (:func:`parkplan._parallel.map_range`) and gathered in order, so the
choice is the same for any number of workers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from ortools.sat.python import cp_model

from parkplan._parallel import map_range
from parkplan._progress import Progress
from parkplan.optimize._cpsat import Status, has_solution, solve_model, worst

__all__ = [
    "CHOICE_BUDGET",
    "MIN_MODELS_PER_WORKER",
    "LevelChoice",
    "components",
    "solve_choice",
    "solve_levels",
]

CHOICE_BUDGET = 400
"""Kerbs per CP-SAT model of the choice (independent components are packed together up to this)."""

MIN_MODELS_PER_WORKER = 8
"""Fewer choice models than this per worker are solved in this process."""


@dataclass
class LevelChoice:
    """The level chosen for every kerb by :func:`solve_levels`, and how it was proven.

    Attributes
    ----------
    level
        Per kerb: the chosen level (0: no bays).
    status
        ``OPTIMAL`` when every choice model was solved to optimality (:func:`parkplan.optimize._cpsat.worst`).
    bound_gain
        How far the models' bounds lie above the choice, in units of the score.
    models
        CP-SAT models built.
    solve_s
        Wall-clock time of the models (seconds).
    not_optimal
        Models not proven optimal: ``model``, ``kerbs`` (indices), ``status``, ``gap``.
    """

    level: NDArray[np.int64]
    status: Status
    bound_gain: int
    models: int
    solve_s: float = 0.0
    not_optimal: list[dict[str, object]] = field(default_factory=list)


def components(n: int, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int64]:
    """Label the connected components of the graph with edges ``a - b`` by their smallest member."""
    label = np.arange(n, dtype=np.int64)
    while True:
        low = np.minimum(label[a], label[b])
        before = label.copy()
        np.minimum.at(label, a, low)
        np.minimum.at(label, b, low)
        label = label[label]  # pointer jumping
        if np.array_equal(label, before):
            return label


def solve_levels(
    score: NDArray[np.int64],
    usable: NDArray[np.bool_],
    conflicts: NDArray[np.int64],
    time_limit_s: float | None = None,
    workers: int | None = 1,
    progress: Progress | None = None,
) -> LevelChoice:
    """Choose every kerb's level: the most score, one usable level per kerb, no forbidden pair.

    Parameters
    ----------
    score
        ``(kerbs, levels + 1)`` integer score of each kerb at each level (column 0: no bays).
    usable
        ``(kerbs, levels + 1)``: the levels each kerb may take (column 0 must be True).
    conflicts
        ``(m, 4)`` forbidden pairs ``(kerb a, level i, kerb b, level j)``, both levels usable.
    time_limit_s
        Limit per CP-SAT model.
    workers
        Processes solving the independent models (:mod:`parkplan._parallel`; ``None``: all CPUs).
    progress
        Status line counting the models solved.

    Returns
    -------
    LevelChoice
        The levels (kerbs in no conflict take their best usable level, ties to the shallower), with the
        status and the bound.
    """
    n = len(score)
    level = np.argmax(np.where(usable, score, -1), axis=1).astype(np.int64)
    conflicts = np.asarray(conflicts, dtype=np.int64).reshape(-1, 4)
    if len(conflicts) == 0:
        return LevelChoice(level, "OPTIMAL", 0, 0)

    ca = conflicts[:, 0]
    cb = conflicts[:, 2]
    label = components(n, ca, cb)
    coupled = np.zeros(n, dtype=bool)
    coupled[ca] = coupled[cb] = True
    comp_ids = np.unique(label[coupled])
    # Pack components into models of about CHOICE_BUDGET kerbs.
    comp_size = np.bincount(label[coupled], minlength=int(label.max()) + 1)[comp_ids]
    model_of_comp = (np.cumsum(comp_size) - 1) // CHOICE_BUDGET
    model_of_kerb = np.full(n, -1, dtype=np.int64)
    model_of_kerb[coupled] = model_of_comp[np.searchsorted(comp_ids, label[coupled])]
    n_models = int(model_of_comp.max()) + 1
    t_models = time.perf_counter()
    # The models are independent: solved on the worker pool in contiguous groups, gathered in order, so
    # the choice is the same for any number of workers (each model is solved by one CP-SAT thread).
    kerbs_of_model = _group_rows(model_of_kerb, n_models)
    conflicts_of_model = _group_rows(model_of_kerb[ca], n_models)

    statuses: list[Status] = []
    bound_gain = 0
    not_optimal: list[dict[str, object]] = []
    bar = progress if progress is not None else Progress()
    solved = map_range(
        lambda m: solve_choice(
            kerbs_of_model[m], conflicts[conflicts_of_model[m]], usable, score, time_limit_s
        ),
        n_models,
        workers,
        MIN_MODELS_PER_WORKER,
    )
    for m, (chosen, status, gain) in enumerate(solved):
        bar.stage("choosing sides and depths: models", m + 1, n_models)
        level[kerbs_of_model[m]] = chosen
        bound_gain += gain
        if status != "OPTIMAL":
            found = int(score[kerbs_of_model[m], chosen].sum())
            not_optimal.append(
                {"model": m, "kerbs": kerbs_of_model[m], "status": status, "gap": gain / max(found + gain, 1)}
            )
        statuses.append(status)
    return LevelChoice(
        level, worst(*statuses), bound_gain, n_models, time.perf_counter() - t_models, not_optimal
    )


def _group_rows(group: NDArray[np.int64], n_groups: int) -> list[NDArray[np.int64]]:
    """Row indices of each group ``0 .. n_groups - 1`` (rows with group -1 belong to none), ascending."""
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(n_groups + 1))
    return [order[bounds[m] : bounds[m + 1]] for m in range(n_groups)]


def solve_choice(
    kerbs_m: NDArray[np.int64],
    conflicts: NDArray[np.int64],
    usable: NDArray[np.bool_],
    score: NDArray[np.int64],
    time_limit_s: float | None,
) -> tuple[NDArray[np.int64], Status, int]:
    """Solve one choice model: its kerbs, their usable levels and scores, the forbidden level pairs.

    Returns the level of each kerb, the :data:`~parkplan.optimize._cpsat.Status` and how far CP-SAT's
    bound lies above the choice. A model without a solution in time leaves its kerbs without bays
    (always allowed).
    """
    n_levels = score.shape[1] - 1
    model = cp_model.CpModel()
    xs: dict[tuple[int, int], cp_model.IntVar] = {}
    terms = []
    for k in kerbs_m.tolist():
        options = np.flatnonzero(usable[k]).tolist()
        row = [model.new_bool_var("") for _ in options]
        for o, x in zip(options, row, strict=True):
            xs[(k, o)] = x
            # Ties to the shallower level: score dominates, depth index breaks ties.
            terms.append((int(score[k, o]) * (n_levels + 1) * (len(kerbs_m) + 1) - o) * x)
        model.add_exactly_one(row)
    for ka, la, kb, lb in conflicts.tolist():
        model.add_bool_or([xs[(ka, la)].Not(), xs[(kb, lb)].Not()])
    model.maximize(sum(terms))
    solver, status = solve_model(model, 0, time_limit_s)
    chosen = np.zeros(len(kerbs_m), dtype=np.int64)
    if not has_solution(status):
        return chosen, status, int(np.where(usable[kerbs_m], score[kerbs_m], 0).max(axis=1).sum())
    for i, k in enumerate(kerbs_m.tolist()):
        for o in np.flatnonzero(usable[k]).tolist():
            if solver.value(xs[(k, o)]):
                chosen[i] = o
    if status == "OPTIMAL":
        return chosen, status, 0
    scale = (n_levels + 1) * (len(kerbs_m) + 1)
    value = int(score[kerbs_m, chosen].sum())
    return chosen, status, max(int(solver.best_objective_bound) // scale + 1 - value, 0)
