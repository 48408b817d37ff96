"""Running the command line in-process from the tests, and what a user error must look like."""

from __future__ import annotations

import pytest

from parkplan.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    """Run ``parkplan ARGS...`` in this process; return the exit code, standard output and error."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error(code: int, err: str, *expected: str) -> str:
    """Exit code 2, exactly one stderr line, starting with 'parkplan: error:', naming ``expected``."""
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    msg = lines[0]
    assert msg.startswith("parkplan: error:"), msg
    assert "Traceback" not in msg
    for text in expected:
        assert text in msg, f"{text!r} not in {msg!r}"
    return msg
