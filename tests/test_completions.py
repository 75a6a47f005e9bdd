"""The committed completion scripts are the ones numdiff generates, and a completion request answers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from numdiff_cli.completion import SHELLS, script

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_committed_completions_are_current(shell: str) -> None:
    committed = (ROOT / "completions" / SHELLS[shell]).read_text()
    assert committed == script(shell), f"completions/{SHELLS[shell]} is stale: run python -m numdiff_cli.completion"


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        pytest.param("numdiff di", "1", ["plain,diff"], id="command"),
        pytest.param("numdiff diff x --meth", "3", ["plain,--method"], id="option"),
        pytest.param("numdiff diff x --method c", "4", ["plain,central", "plain,complex"], id="choice"),
    ],
)
def test_completion_request_answers(words: str, cword: str, expected: list[str]) -> None:
    """What the bash script asks numdiff (see completions/numdiff.bash), through `python -m numdiff_cli`."""
    env = {**os.environ, "_NUMDIFF_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    result = subprocess.run([sys.executable, "-m", "numdiff_cli"], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.splitlines() == expected
