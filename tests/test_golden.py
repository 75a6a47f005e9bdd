"""Golden output: every command x format x situation, byte for byte (stdout, stderr, exit status), and every help.

The recorded outputs live in ``tests/golden/cli.json``. They pin what users and scripts see, so that a change of
where code lives (or of how often it is written) cannot change a single byte of it unnoticed. When output is meant
to change, record it again and review the diff of the JSON file like any other change:

    NUMDIFF_RECORD_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from numdiff_cli.cli import cli

GOLDEN = Path(__file__).resolve().parent / "golden" / "cli.json"
FORMATS = ("plain", "json", "csv", "table")
STDIN = "1\nfoo\n3\n"  # the second line is unreadable: its rows carry a message, the others a result
STDIN_2D = "1 2\nfoo\n3,4\n"

# id -> (arguments, standard input). Each command gets: one point; standard input with a bad line; a result with
# a warning; a failed check or another exit 1 where the command has one; a usage error (exit 2).
SITUATIONS: dict[str, tuple[list[str], str | None]] = {
    "diff-point": (["diff", "x**2 + 3*x + 5", "--at", "2"], None),
    "diff-central": (["diff", "x**2 + 3*x + 5", "--at", "2", "--method", "central", "--h", "1e-4"], None),
    "diff-partial": (["diff", "x0*x0 + x1*x1", "--wrt", "x0", "--at", "x0=3,x1=4"], None),
    "diff-order": (["diff", "x^3", "--at", "2", "--order", "2"], None),
    "diff-stdin": (["diff", "x**2", "--at", "-"], STDIN),
    "diff-warning": (["diff", "log(x)", "--at", "-1", "--at", "2"], None),
    "diff-kink": (["diff", "abs(x)", "--at", "0"], None),
    "diff-step": (["diff", "x**2", "--at", "1", "--method", "central", "--h", "1e-50"], None),
    "diff-range": (["diff", "sin(x)", "--range", "0:1:3"], None),
    "diff-float32": (["diff", "exp(x)", "--at", "1", "--method", "central", "--h", "1e-2", "--dtype", "float32"], None),
    "diff-complex": (["diff", "exp(x)", "--at", "1", "--method", "complex"], None),
    "diff-usage": (["diff", "2x", "--at", "1"], None),
    "diff-no-points": (["diff", "x**2"], None),
    "grad-point": (["grad", "x0**2 + 5*x1 + 2*x2**2", "--at", "3,2,1"], None),
    "grad-matrix": (["grad", "W[0,0]*W[1,1] - W[0,1]*W[1,0]", "--at", "[[1,2],[3,4]]"], None),
    "grad-stdin": (["grad", "x*y", "--at", "-"], STDIN_2D),
    "grad-warning": (["grad", "log(x)*y", "--at", "-1,2", "--at", "1,2"], None),
    "grad-usage": (["grad", "x*", "--at", "1"], None),
    "tangent-point": (["tangent", "0.01*x**2 + 0.1*x", "--at", "5"], None),
    "tangent-plane": (["tangent", "x**2 + y**2", "--at", "1,2"], None),
    "tangent-stdin": (["tangent", "x**2", "--at", "-"], STDIN),
    "tangent-warning": (["tangent", "log(x)", "--at", "-1", "--at", "1"], None),
    "tangent-usage": (["tangent", "sin(", "--at", "1"], None),
    "compare-point": (["compare", "exp(3*x**2)", "--at", "1"], None),
    "compare-all": (["compare", "sin(x)", "--at", "1", "--method", "all"], None),
    "compare-stdin": (["compare", "x**2", "--at", "-", "--method", "all"], STDIN),
    "compare-warning": (["compare", "log(x)", "--at", "-1", "--at", "2"], None),
    "compare-tol": (["compare", "sin(x)", "--at", "1", "--method", "central", "--tol", "1e-14"], None),
    "compare-rtol": (["compare", "sin(x)", "--at", "1", "--method", "central", "--rtol", "1e-14"], None),
    "compare-usage": (["compare", "x**2", "--at", "1", "--method", "complex", "--order", "2"], None),
    "compare-sweep": (["compare", "sin(x)", "--at", "1", "--method", "central", "--sweep"], None),
    "hessian-point": (["hessian", "x**2*y + y**3", "--at", "x=1,y=2"], None),
    "hessian-stdin": (["hessian", "x**2*y", "--at", "-"], STDIN_2D),
    "hessian-warning": (["hessian", "log(x)*y", "--at", "-1,2", "--at", "1,2"], None),
    "hessian-usage": (["hessian", "x*y", "--at", "1,2", "--method", "complex"], None),
    "jacobian-point": (["jacobian", "x*y", "x + y**2", "--at", "x=1,y=2"], None),
    "jacobian-stdin": (["jacobian", "x*y", "x + y**2", "--at", "-"], STDIN_2D),
    "jacobian-warning": (["jacobian", "log(x)", "y", "--at", "-1,2", "--at", "1,2"], None),
    "jacobian-usage": (["jacobian", "x*y", "--at", "1,2,3"], None),
    "descend-point": (["descend", "x0**2 + x1**2", "--from", "-3,4", "--lr", "0.1", "--steps", "100"], None),
    "descend-trace": (["descend", "(x-1)**2", "--from", "5", "--lr", "0.2", "--steps", "3", "--trace"], None),
    "descend-diverges": (["descend", "x0**2 + x1**2", "--from", "-3,4", "--lr", "1.5", "--steps", "100"], None),
    "descend-unconverged": (["descend", "x**2", "--from", "1", "--lr", "0.01", "--steps", "5"], None),
    "descend-usage": (["descend", "x**2", "--from", "1", "--lr", "-1"], None),
}

# Commands whose output does not depend on --format (help, version, explain, field) are recorded once.
ONCE: dict[str, tuple[list[str], str | None]] = {
    "version": (["--version"], None),
    "help": (["--help"], None),
    "no-command": (["nosuch"], None),
    "diff-explain": (["diff", "x**2 + 3*x + 5", "--at", "2", "--method", "central", "--h", "1e-4", "--explain"], None),
    "diff-explain-auto": (["diff", "exp(x)", "--at", "1", "--explain"], None),
    "diff-explain-complex": (["diff", "exp(x)", "--at", "1", "--method", "complex", "--explain"], None),
    "grad-field": (["grad", "x**2 + 3*y**2", "--field", "--format", "csv"], None),
    "leading-minus": (["diff", "-x**2", "--at", "1"], None),
    # numdiff check has its own formats (no table): the example file, run from the repository's root.
    "check-example": (["check", "examples/checks.toml"], None),
    "check-example-json": (["check", "examples/checks.toml", "--format", "json"], None),
    "check-example-csv": (["check", "examples/checks.toml", "--format", "csv", "--quiet"], None),
    "check-missing": (["check", "examples/no-such-file.toml"], None),
    **{
        f"help-{command}": ([command, "--help"], None)
        for command in ("diff", "grad", "tangent", "compare", "hessian", "jacobian", "descend", "check")
    },
}


def cases() -> dict[str, tuple[list[str], str | None]]:
    everything = dict(ONCE)
    for name, (args, stdin) in SITUATIONS.items():
        for fmt in FORMATS:
            everything[f"{name}-{fmt}"] = ([*args, "--format", fmt], stdin)
    return everything


def invoke(args: list[str], stdin: str | None) -> dict[str, Any]:
    # A fixed terminal width and no colour: the table format must not depend on where the tests run.
    env = {"COLUMNS": "100", "LINES": "40", "NO_COLOR": "1", "TERM": "dumb", "NUMDIFF_NO_PROGRESS": "1"}
    cwd = os.getcwd()
    os.chdir(GOLDEN.parent.parent.parent)  # the repository's root: examples/ is where the check cases find it
    try:
        result = CliRunner().invoke(cli, args, input=stdin, env=env, catch_exceptions=False, prog_name="numdiff")
    finally:
        os.chdir(cwd)
    return {"args": args, "stdin": stdin, "stdout": result.stdout, "stderr": result.stderr, "exit": result.exit_code}


CASES = cases()


def recorded() -> dict[str, Any]:
    if os.environ.get("NUMDIFF_RECORD_GOLDEN") == "1":
        return {}
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_every_case_is_recorded() -> None:
    """Each case has its recording and each recording its case (a removed case is removed on purpose)."""
    if os.environ.get("NUMDIFF_RECORD_GOLDEN") == "1":
        pytest.skip("recording")
    assert sorted(recorded()) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_is_unchanged(name: str) -> None:
    args, stdin = CASES[name]
    actual = invoke(args, stdin)
    if os.environ.get("NUMDIFF_RECORD_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        store = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
        store[name] = actual
        GOLDEN.write_text(json.dumps(dict(sorted(store.items())), indent=1, ensure_ascii=False) + "\n", "utf-8")
        return
    expected = recorded()[name]
    assert actual["exit"] == expected["exit"]
    assert actual["stdout"] == expected["stdout"]
    assert actual["stderr"] == expected["stderr"]
