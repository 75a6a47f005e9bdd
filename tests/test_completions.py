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


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_completions_register_both_command_names(shell: str) -> None:
    text = (ROOT / "completions" / SHELLS[shell]).read_text()
    registered = {
        "bash": ["complete -o nosort -F _numdiff_completion numdiff\n", "-F _numdiff_cli_completion numdiff-cli\n"],
        "zsh": ["#compdef numdiff numdiff-cli\n", "compdef _numdiff_cli_completion numdiff-cli\n"],
        "fish": ["--command numdiff --arguments", "--command numdiff-cli --arguments"],
    }[shell]
    for line in registered:
        assert line in text


def test_bash_completes_numdiff_cli_through_the_installed_command() -> None:
    """Source the bash script in a real bash, then ask its numdiff-cli function what `numdiff-cli di` completes to."""
    bin_dir = Path(sys.executable).parent
    script_path = ROOT / "completions" / "numdiff.bash"
    program = (
        f"source {script_path}; complete -p numdiff-cli; COMP_WORDS=(numdiff-cli di); COMP_CWORD=1;"
        " _numdiff_cli_completion numdiff-cli; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["complete -o nosort -F _numdiff_cli_completion numdiff-cli", "diff"]
