"""One CP-SAT setup (:mod:`parkplan.optimize._cpsat`): the status ranking, the helper thread at fork time,
and the boundary of the optimisation layer (OR-Tools only under ``optimize/``, no geometry there)."""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from ortools.sat.python import cp_model

from parkplan import _interrupt as interrupt
from parkplan.optimize import _cpsat as cpsat

PACKAGE = Path(cpsat.__file__).parents[1]


def test_worst_is_the_least_proven_status() -> None:
    assert cpsat.worst() == "OPTIMAL"
    assert cpsat.worst("OPTIMAL", "OPTIMAL") == "OPTIMAL"
    assert cpsat.worst("OPTIMAL", "FEASIBLE") == "FEASIBLE"
    assert cpsat.worst("FEASIBLE", "OPTIMAL") == "FEASIBLE"
    # The habit baseline is a layout without a proof.
    assert cpsat.worst("HEURISTIC") == "FEASIBLE"
    assert cpsat.worst("OPTIMAL", "HEURISTIC") == "FEASIBLE"
    # A model with no solution makes the whole unknown, whatever CP-SAT called it.
    for none in ("UNKNOWN", "INFEASIBLE", "MODEL_INVALID"):
        assert cpsat.worst("OPTIMAL", none, "FEASIBLE") == "UNKNOWN"
        assert not cpsat.has_solution(none)
    assert cpsat.has_solution("OPTIMAL")
    assert cpsat.has_solution("FEASIBLE")
    # The ranking knows every status.
    assert set(cpsat.RANK) == set(cpsat.Status.__args__)  # type: ignore[attr-defined]


def test_solve_model_uses_the_one_setup_and_names_the_status() -> None:
    model = cp_model.CpModel()
    x = model.new_int_var(0, 7, "x")
    model.maximize(x)
    solver, status = cpsat.solve_model(model, 5, 30.0)
    assert status == "OPTIMAL"
    assert solver.value(x) == 7
    assert solver.parameters.num_workers == 1
    assert solver.parameters.random_seed == 5
    assert solver.parameters.catch_sigint_signal is False
    assert solver.parameters.max_time_in_seconds == 30.0
    bad = cp_model.CpModel()
    y = bad.new_int_var(0, 3, "y")
    bad.add(y >= 5)
    assert cpsat.solve_model(bad)[1] == "INFEASIBLE"


def test_the_helper_thread_ends_before_a_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_parallel`` (layer 0) ends the idle solve thread through the registry in ``_interrupt``."""
    assert cpsat.end_helper in interrupt._BEFORE_FORK
    interrupt.before_fork(cpsat.end_helper)  # registered once, however often
    assert interrupt._BEFORE_FORK.count(cpsat.end_helper) == 1
    monkeypatch.setattr(interrupt, "handlers_raise", lambda: True)  # as under the command line
    model = cp_model.CpModel()
    model.maximize(model.new_int_var(0, 3, "y"))
    try:
        assert cpsat.solve(cpsat.new_solver(), model) == cp_model.OPTIMAL
        assert any(t.name == "parkplan-cp-sat" for t in threading.enumerate())
    finally:
        interrupt.prepare_fork()
    assert not any(t.name == "parkplan-cp-sat" for t in threading.enumerate())


def _imports(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports (module level or inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_ortools_only_in_optimize_and_no_geometry_there() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        inside = path.parent.name == "optimize"
        imported = _imports(path)
        if not inside:
            assert "ortools" not in imported, path
        else:
            assert not imported & {"shapely", "geopandas", "pyproj"}, path


def test_signal_handling_loads_no_ortools() -> None:
    code = "import sys, parkplan._interrupt, parkplan._parallel; print('ortools' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
