"""Start-up: help and completion import neither numpy nor sympy; a cached diff does not import sympy.

Each check runs numdiff in a fresh interpreter and looks at ``sys.modules`` when it is done, so nothing that an
earlier test imported can hide an import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "sympy", "mpmath", "rich")

# Runs numdiff's console entry point as the `numdiff` script would, then reports the heavy modules it loaded.
PROBE = f"""
import json, sys
from numdiff_cli.cli import main
sys.argv = ["numdiff"] + json.loads(sys.argv[1])
try:
    main()
except SystemExit as exit:
    code = exit.code
heavy = sorted(name for name in {HEAVY!r} if name in sys.modules)
sys.stderr.write("\\nMODULES " + json.dumps({{"heavy": heavy, "code": code}}) + "\\n")
"""


def probe(args: list[str], env: dict[str, str] | None = None) -> tuple[str, list[str], int]:
    """numdiff's stdout, the heavy modules it imported and its exit status."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    report = json.loads(result.stderr.rsplit("MODULES ", 1)[1])
    return result.stdout, report["heavy"], report["code"]


COMMANDS = ("diff", "grad", "tangent", "compare", "hessian", "jacobian", "descend", "check")


def test_every_command_is_probed() -> None:
    from numdiff_cli.cli import cli

    assert sorted(cli.commands) == sorted(COMMANDS)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--help"], id="help"),
        pytest.param(["--version"], id="version"),
        *(pytest.param([command, "--help"], id=f"{command}-help") for command in COMMANDS),
    ],
)
def test_help_imports_neither_numpy_nor_sympy(args: list[str]) -> None:
    stdout, heavy, code = probe(args)
    assert code == 0
    assert stdout.strip()
    assert heavy == []


def complete(words: str) -> tuple[list[str], list[str], int]:
    """The bash completions of the last of ``words``, the heavy modules imported and the exit status."""
    cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    env = {"_NUMDIFF_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    stdout, heavy, code = probe([], env)
    return stdout.splitlines(), heavy, code


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        pytest.param("numdiff di", "plain,diff", id="command"),
        *(pytest.param(f"numdiff {command} --", "plain,--help", id=f"{command}-options") for command in COMMANDS),
        pytest.param("numdiff diff --method ", "plain,central", id="method"),
        pytest.param("numdiff compare --method ", "plain,all", id="compare-method"),
        pytest.param("numdiff grad --format ", "plain,json", id="format"),
        pytest.param("numdiff diff --dtype ", "plain,float32", id="dtype"),
        pytest.param("numdiff tangent --plot ", "file,", id="plot-path"),
    ],
)
def test_completion_request_imports_neither_numpy_nor_sympy(words: str, expected: str) -> None:
    completions, heavy, code = complete(words)
    assert code == 0
    assert expected in completions
    assert heavy == []


def test_cached_diff_does_not_import_sympy(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    first_out, first_heavy, first_code = probe(["diff", "sin(x)**2", "--at", "1"], env)
    assert "sympy" in first_heavy  # the first call parses the expression
    second_out, second_heavy, second_code = probe(["diff", "sin(x)**2", "--at", "1"], env)
    assert first_code == second_code == 0
    assert second_out == first_out
    assert second_heavy == ["numpy"]  # the numbers need numpy, and nothing else heavy


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["grad", "x*sin(y)", "--at", "1,2"], id="grad"),
        pytest.param(["tangent", "sin(x)**2", "--at", "1"], id="tangent"),
        pytest.param(["hessian", "x*sin(y)", "--at", "1,2"], id="hessian"),
        pytest.param(["descend", "(x-1)**2", "--from", "3"], id="descend"),
    ],
)
def test_other_cached_commands_do_not_import_sympy(tmp_path: Path, args: list[str]) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    first_out, _, _ = probe(args, env)
    second_out, second_heavy, code = probe(args, env)
    assert code == 0
    assert second_out == first_out
    assert second_heavy == ["numpy"]


def test_cached_compare_does_not_import_sympy(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    first_out, _, _ = probe(["compare", "exp(3*x**2)", "--at", "1"], env)
    second_out, second_heavy, code = probe(["compare", "exp(3*x**2)", "--at", "1"], env)
    assert code == 0
    assert second_out == first_out
    assert "sympy" not in second_heavy
