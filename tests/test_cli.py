"""End to end: every command, format and exit code, through the real click group and the console script."""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest
from conftest import json_lines

from numdiff_cli import __version__, engine
from numdiff_cli.cli import cli, output, words
from numdiff_cli.contract import FORMATS, METHODS

mpmath.mp.dps = 40


# --- the worked examples, exactly --------------------------------------------------------------------


def test_textbook_central_difference(run) -> None:
    result = run("diff", "x**2 + 3*x + 5", "--at", "2", "--method", "central", "--h", "1e-4", "--format", "plain")
    assert result.exit_code == 0
    assert result.stdout == "7.000000000019213\n"


def test_textbook_partial_derivative(run) -> None:
    result = run("diff", "x0*x0 + x1*x1", "--wrt", "x0", "--at", "x0=3,x1=4", "--method", "central", "--h", "1e-4")
    assert result.exit_code == 0
    assert result.stdout == "6.00000000000378\n"


def test_gradient_positional(run) -> None:
    result = run("grad", "x0**2 + 5*x1 + 2*x2**2", "--at", "3,2,1")
    assert result.exit_code == 0
    values = [float(v) for v in result.stdout.split()]
    assert values == pytest.approx([6, 5, 4], abs=1e-8)


def test_gradient_indexed_two_points(run) -> None:
    result = run("grad", "x[0]**2 + x[1]**2", "--at", "3,4", "--at", "0,2")
    assert result.exit_code == 0
    lines = [[float(v) for v in line.split()] for line in result.stdout.splitlines()]
    assert lines[0] == pytest.approx([6, 8], abs=1e-8)
    assert lines[1] == pytest.approx([0, 4], abs=1e-8)


def test_tangent_line(run) -> None:
    result = run("tangent", "0.01*x**2 + 0.1*x", "--at", "5", "--format", "json")
    assert result.exit_code == 0
    (row,) = json_lines(result.stdout)
    assert set(row) == {"expr", "at", "value", "slope", "intercept", "equation"}
    assert row["slope"] == pytest.approx(0.2, abs=1e-13)
    assert row["intercept"] == pytest.approx(-0.25, abs=1e-12)
    assert row["equation"] == "y = 0.2*x - 0.25"
    assert run("tangent", "0.01*x**2 + 0.1*x", "--at", "5").stdout == "y = 0.2*x - 0.25\n"


def test_compare_shows_analytic_derivative(run) -> None:
    result = run("compare", "exp(3*x**2)", "--at", "1", "--format", "json")
    assert result.exit_code == 0
    (row,) = json_lines(result.stdout)
    assert list(row) == ["expr", "at", "analytic_expr", "analytic", "numeric", "abs_error", "rel_error", "method", "h"]
    assert row["analytic_expr"] == "6*x*exp(3*x**2)"
    reference = 6 * mpmath.e**3
    assert row["analytic"] == float(reference)
    assert row["abs_error"] == pytest.approx(abs(float(mpmath.mpf(row["numeric"]) - reference)), rel=1e-6)
    assert row["rel_error"] < 1e-12


def test_sigmoid_and_second_order(run) -> None:
    assert float(run("diff", "sigmoid(x)", "--at", "0").stdout) == pytest.approx(0.25, abs=1e-13)
    assert float(run("diff", "x^3", "--at", "2", "--order", "2").stdout) == pytest.approx(12, abs=1e-9)


def test_log_outside_domain_is_null_with_warning_and_exit_3(run) -> None:
    result = run("diff", "log(x)", "--at", "-1", "--at", "2", "--format", "json")
    assert result.exit_code == 3  # a result the engine cannot vouch for (README: Exit status)
    first, second = json_lines(result.stdout)
    assert first["derivative"] is None and "not finite" in first["warning"]
    assert second["derivative"] == pytest.approx(0.5, rel=1e-13) and "warning" not in second
    assert result.stderr == (
        "Warning: log(x) at -1.0, method auto: the derivative is not finite here (outside the domain, or a"
        " singularity) (derivative nan, error nan, h 0.5)\n"
    )


def test_implicit_multiplication_is_one_line_exit_2(run) -> None:
    result = run("diff", "2x", "--at", "1")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: invalid expression '2x': implicit multiplication '2x' is not supported; write '2*x' (column 1)\n"
    )


# --- formats ---------------------------------------------------------------------------------------------------


def test_diff_json_keys(run) -> None:
    (row,) = json_lines(run("diff", "sin(x)", "--at", "1", "--format", "json").stdout)
    assert list(row) == ["expr", "var", "at", "order", "method", "h", "derivative", "error"]
    assert row["derivative"] == pytest.approx(math.cos(1), rel=1e-13)
    assert abs(row["derivative"] - math.cos(1)) <= row["error"]
    assert row["method"] == "auto" and row["order"] == 1 and row["var"] == "x" and row["at"] == 1.0


def test_diff_central_has_null_error(run) -> None:
    (row,) = json_lines(
        run("diff", "x**2", "--at", "1", "--method", "central", "--h", "0.5", "--format", "json").stdout
    )
    assert row["error"] is None and row["h"] == 0.5 and row["derivative"] == 2.0


def test_diff_csv(run) -> None:
    result = run("diff", "x**2", "--at", "1", "--at", "2", "--method", "central", "--h", "0.5", "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [
        ["expr", "var", "at", "order", "method", "h", "derivative", "error", "warning"],
        ["x**2", "x", "1.0", "1", "central", "0.5", "2.0", "", ""],
        ["x**2", "x", "2.0", "1", "central", "0.5", "4.0", "", ""],
    ]


def test_table_format(run) -> None:
    result = run("diff", "x**2", "--at", "3", "--format", "table")
    assert result.exit_code == 0
    assert "derivative" in result.stdout and "6.0" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour when stdout is not a terminal


def test_auto_format_is_plain_when_not_a_terminal(run) -> None:
    assert run("diff", "x**2", "--at", "3").stdout == run("diff", "x**2", "--at", "3", "--format", "plain").stdout


def test_grad_json_and_matrix_shape(run) -> None:
    (row,) = json_lines(run("grad", "x*y", "--at", "x=2,y=3", "--format", "json").stdout)
    assert list(row) == ["expr", "vars", "at", "gradient", "error"]
    assert row["vars"] == ["x", "y"] and row["at"] == {"x": 2.0, "y": 3.0}
    assert row["gradient"] == pytest.approx([3, 2], rel=1e-13)
    result = run("grad", "W[0,0]*W[1,1] - W[0,1]*W[1,0]", "--at", "[[1,2],[3,4]]", "--format", "json")
    (row,) = json_lines(result.stdout)
    assert [v for r in row["gradient"] for v in r] == pytest.approx([4, -3, -2, 1], abs=1e-12)
    assert len(row["error"]) == 2 and len(row["error"][0]) == 2


def test_grad_vars_order(run) -> None:
    result = run("grad", "x + 2*y", "--vars", "y,x", "--at", "1,5")
    assert [float(v) for v in result.stdout.split()] == pytest.approx([2, 1], rel=1e-13)


def test_tangent_plane(run) -> None:
    result = run("tangent", "x**2 + y**2", "--at", "1,2", "--format", "json")
    (row,) = json_lines(result.stdout)
    assert list(row) == ["expr", "at", "value", "gradient", "equation"]
    assert row["value"] == 5.0 and row["gradient"] == pytest.approx([2, 4], rel=1e-13)
    assert row["equation"] == "z = 5.0 + 2.0*(x - 1.0) + 4.0*(y - 2.0)"


def test_tangent_of_variable_named_y(run) -> None:
    assert run("tangent", "y**2", "--at", "-1").stdout == "f = -2.0*y - 1.0\n"


def test_compare_all_methods(run) -> None:
    result = run("compare", "sin(x)", "--at", "1", "--method", "all", "--format", "json")
    rows = json_lines(result.stdout)
    assert [row["method"] for row in rows] == ["central", "forward", "backward", "complex", "auto"]
    for row in rows:
        assert row["abs_error"] == pytest.approx(abs(float(mpmath.mpf(row["numeric"]) - mpmath.cos(1))), rel=1e-6)
    assert rows[3]["abs_error"] < 1e-15 and rows[4]["abs_error"] < 1e-13 and rows[1]["abs_error"] > 1e-10


def test_compare_plain_and_partial(run) -> None:
    result = run("compare", "x**2*y", "--wrt", "y", "--at", "x=3,y=1", "--method", "central", "--h", "0.5")
    numeric, analytic, error = (float(v) for v in result.stdout.split())
    assert (numeric, analytic, error) == (9.0, 9.0, 0.0)


def test_compare_tol_gate(run) -> None:
    ok = run("compare", "x**3", "--at", "2", "--order", "2", "--tol", "1e-6")
    assert ok.exit_code == 0
    failed = run("compare", "sin(x)", "--at", "1", "--method", "forward", "--tol", "1e-12")
    assert failed.exit_code == 1
    assert failed.stderr.startswith(
        "FAIL: sin(x) at 1.0, method forward: |numeric - analytic| = 6.91e-09 > bound 1e-12"
    )
    assert len(failed.stdout.splitlines()) == 1
    assert run("compare", "sin(x)", "--at", "1", "--method", "forward", "--rtol", "1e-12").exit_code == 1


def test_compare_step_function_away_from_jump(run) -> None:
    (row,) = json_lines(run("compare", "step(x)*x", "--at", "2", "--format", "json").stdout)
    assert row["analytic"] == 1.0 and row["numeric"] == pytest.approx(1.0, abs=1e-12)


# --- points and streams ----------------------------------------------------------------------------------------


def test_stdin_points(run) -> None:
    result = run("diff", "x**2", "--at", "-", "--format", "plain", input="1\n2\n3\n4\n5\n")
    assert [float(v) for v in result.stdout.split()] == pytest.approx([2, 4, 6, 8, 10], rel=1e-13)


def test_stdin_bad_line_keeps_every_row_and_exits_2(run) -> None:
    result = run("diff", "x**2", "--at", "-", "--format", "json", input="1\nfoo\n3\n")
    assert result.exit_code == 2
    rows = json_lines(result.stdout)
    assert len(rows) == 3
    assert rows[1]["derivative"] is None and rows[1]["warning"] == "line 2: cannot read 'foo' as a number"
    assert result.stderr == "Error: line 2: cannot read 'foo' as a number\n"
    assert run("diff", "x**2", "--at", "-", input="1\nfoo\n3\n").stdout.splitlines()[1] == "nan"


def test_stdin_multivariate(run) -> None:
    result = run("grad", "x*y", "--at", "-", input="1,2\n3 4\n")
    assert result.stdout.splitlines() == ["2.0 1.0", "4.0 3.0"]


def test_range(run) -> None:
    # 11 points 0, 0.1, ..., 1 (both ends included): d/dx x**2 = 2x there, each vouched for (exit 0).
    result = run("diff", "x**2", "--range", "0:1:11")
    assert result.exit_code == 0 and result.stderr == ""
    values = [float(line) for line in result.stdout.splitlines()]
    assert values == pytest.approx([2 * k / 10 for k in range(11)], rel=1e-12, abs=1e-12)
    rows = json_lines(run("diff", "x**2", "--range", "0:1:11", "--format", "json").stdout)
    assert [row["at"] for row in rows] == pytest.approx([k / 10 for k in range(11)], rel=1e-15, abs=0)


def test_constant_expression_points(run) -> None:
    result = run("diff", "sin(x)", "--at", "pi/3", "--method", "complex")
    assert float(result.stdout) == pytest.approx(0.5, abs=1e-15)


# --- usage errors: one line on stderr, exit 2 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["diff", "x**2"], "no points", id="no-points"),
        pytest.param(["diff", "x*y", "--at", "1,2"], "several variables (x, y); choose one with --wrt", id="need-wrt"),
        pytest.param(["diff", "x", "--at", "foo"], "cannot read 'foo' as a number", id="bad-point"),
        pytest.param(["diff", "x", "--at", "1", "--h", "-1"], "must be a positive finite number", id="negative-h"),
        pytest.param(["diff", "x", "--at", "1", "--h", "abc"], "is not a number", id="bad-h"),
        pytest.param(["diff", "x", "--at", "1", "--order", "5"], "--order", id="order-range"),
        pytest.param(["diff", "x", "--at", "1", "--method", "magic"], "'magic' is not one of", id="bad-method"),
        pytest.param(["diff", "abs(x)", "--at", "1", "--method", "complex"], "needs an analytic", id="complex-abs"),
        pytest.param(["diff", "x", "--at", "1", "--method", "complex", "--order", "2"], "first derivatives", id="cx-2"),
        pytest.param(["grad", "5", "--at", "1"], "no variables", id="grad-constant"),
        pytest.param(["grad", "x*y", "--range", "0:1:3"], "No such option", id="grad-range"),
        pytest.param(["frobnicate"], "No such command", id="unknown-command"),
        pytest.param(["diff", "x", "--at", "1", "--vars", "y"], "missing x", id="vars-missing"),
    ],
)
def test_usage_errors(run, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
    assert message in result.stderr


def test_vanishing_step_warns_and_exits_1(run) -> None:
    result = run("diff", "x**2", "--at", "1", "--method", "forward", "--h", "1e-50")
    assert result.exit_code == 3  # a result the engine cannot vouch for (README: Exit status)
    assert result.stdout == "0.0\n"
    assert "x + h == x" in result.stderr


def test_help_for_every_command(run) -> None:
    result = run("--help")
    assert result.exit_code == 0
    commands = list(cli.commands)
    assert {"diff", "grad", "tangent", "compare"} <= set(commands)
    for name in commands:
        result = run(name, "--help")
        assert result.exit_code == 0 and "Examples:" in result.stdout, name


def test_help_examples_run(run, tmp_path, monkeypatch) -> None:
    """Every example in every command's help is a real command that works (in a copy of the clone's examples/)."""
    import shlex

    shutil.copytree(Path(__file__).resolve().parent.parent / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)

    for name, command in cli.commands.items():
        examples = (command.help or "").split("Examples:")[1].splitlines()
        for line in (line.strip() for line in examples):
            if not line.startswith("numdiff ") or "|" in line:
                continue
            args = shlex.split(line)[1:]
            result = run(*args)
            # Works: exit 0, no warning, error or failure on stderr (check's summary goes there), and a result:
            # lines on stdout (JSON lines that parse, with --format json), or the picture a --plot names.
            said = [said for said in result.stderr.splitlines() if said.startswith(("Warning", "Error", "FAIL"))]
            assert result.exit_code == 0 and not said, (name, line, result.stderr)
            if "--plot" in args:
                assert Path(args[args.index("--plot") + 1]).stat().st_size > 0, line
            else:
                assert result.stdout.strip(), line
            if "json" in args:
                assert json_lines(result.stdout), line


def test_version(run) -> None:
    assert run("--version").stdout == f"numdiff, version {__version__}\n"


def test_cli_constants_match_the_layers_below() -> None:
    assert engine.METHODS == METHODS
    # The words for the engine's status codes live in the CLI: every code but OK has its sentence.
    names = (
        "NONFINITE",
        "VANISHING_STEP",
        "UNRELIABLE",
        "NOT_REAL",
        "STEP_TOO_LARGE",
        "IMPRECISE",
        "KINK",
        "OVERFLOW",
        "KINK_BELOW",
    )
    assert sorted(words.STATUS_MESSAGES) == sorted(getattr(engine, name) for name in names)
    assert engine.OK not in words.STATUS_MESSAGES
    # Every format of the contract but "auto" (which picks one) has its writer.
    assert {*output.FORMAT_WRITERS, "auto"} == set(FORMATS)


# --- the real console script -----------------------------------------------------------------------------------


def _script(name: str) -> str:
    path = shutil.which(name, path=os.path.dirname(sys.executable))
    if path is None:
        pytest.skip(f"{name} console script not installed next to {sys.executable}")
    return path


@pytest.mark.parametrize("name", ["numdiff", "numdiff-cli"])
def test_console_scripts(name: str) -> None:
    command = [_script(name), "diff", "x**2 + 3*x + 5", "--at", "2", "--method", "central", "--h", "1e-4"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "7.000000000019213\n", "")


def test_python_dash_m() -> None:
    command = [sys.executable, "-m", "numdiff_cli", "diff", "2x", "--at", "1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "write '2*x'" in result.stderr


def test_closed_pipe_ends_quietly() -> None:
    script = _script("numdiff")
    command = f"seq 1 300000 | {script} diff 'x**2' --at - --method central | head -1; echo ${{PIPESTATUS[1]}}"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    first, status = result.stdout.splitlines()
    assert float(first) == pytest.approx(2.0, rel=1e-8)
    assert status == "0"
    assert result.stderr == ""


def test_internal_errors_are_one_line_without_debug(run, monkeypatch) -> None:
    import numdiff_cli.expr

    def broken(text: str) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(numdiff_cli.expr, "parse_expression", broken)
    result = run("diff", "x", "--at", "1")
    assert result.exit_code == 1
    assert (
        result.stderr == "Error: internal error: RuntimeError: simulated bug (run 'numdiff --debug ...' for details)\n"
    )
    with pytest.raises(RuntimeError, match="simulated bug"):
        run("--debug", "diff", "x", "--at", "1")


def test_table_never_truncates_digits_on_a_narrow_terminal(run) -> None:
    result = run("compare", "sin(x)", "--at", "1", "--method", "all", "--format", "table", env={"COLUMNS": "40"})
    assert result.exit_code == 0
    rows = json_lines(run("compare", "sin(x)", "--at", "1", "--method", "all", "--format", "json").stdout)
    for row in rows:
        assert repr(row["numeric"]) in result.stdout and repr(row["abs_error"]) in result.stdout
    assert "…" not in result.stdout


def test_jacobian_warns_in_each_expressions_own_variable_order(run) -> None:
    # y + sqrt(x) with --vars y,x: the columns are (y, x), the expression's own order is (x, y). At x = 0 the
    # x-derivative is not finite; at y = 1e10 the step 1e-30 vanishes. The row's warning is the expression's first.
    args = ("jacobian", "y + sqrt(x)", "--vars", "y,x", "--at", "1e10,0", "--method", "central", "--h", "1e-30")
    result = run(*args, "--format", "json")
    assert result.exit_code == 3  # a result the engine cannot vouch for (README: Exit status)
    (row,) = json_lines(result.stdout)
    assert row["jacobian"] == [[0.0, None]]
    assert row["warning"] == "along x in y + sqrt(x): " + words.warning_text(engine.NONFINITE)
