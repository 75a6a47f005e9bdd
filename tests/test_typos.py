"""Typos answered with the fix: the close function name, a function glued to its variable, --wrt of an absent
variable, and an expression that starts with '-'."""

from __future__ import annotations

import pytest

from numdiff_cli.builder import unknown_function
from numdiff_cli.functions import FUNCTIONS
from numdiff_cli.typos import glued


@pytest.mark.parametrize(
    ("expr", "hint"),
    [
        pytest.param("arcsin(x)", "unknown function 'arcsin'; did you mean asin?", id="arcsin"),
        pytest.param("arctanh(x)", "unknown function 'arctanh'; did you mean atanh?", id="arc-close"),
        pytest.param("sinn(x)", "did you mean sin? or write sinn*(...) to multiply", id="close-or-multiply"),
        pytest.param("heaviside(x)", "unknown function 'heaviside'; write step(x)", id="heaviside"),
        pytest.param("sec(x)", "unknown function 'sec'; write 1/cos(x)", id="sec"),
        pytest.param("foo(x)", "unknown function 'foo'; or write foo*(...) to multiply", id="no-close-match"),
    ],
)
def test_unknown_functions_get_the_close_match_and_the_list(run, expr: str, hint: str) -> None:
    result = run("diff", expr, "--at", "0.5")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert hint in result.stderr
    assert f"(functions: {', '.join(sorted(FUNCTIONS))})" in result.stderr


@pytest.mark.parametrize(
    ("expr", "at", "value", "note"),
    [
        pytest.param("sinx", "1", "1.0", "'sinx' is read as a variable named sinx; did you mean sin(x)?", id="sinx"),
        pytest.param("expx**2", "2", "4.0", "did you mean exp(x)?", id="expx"),
        pytest.param("logx", "3", "1.0", "did you mean log(x)?", id="logx"),
    ],
)
def test_a_function_glued_to_its_variable_is_computed_with_a_note(
    run, expr: str, at: str, value: str, note: str
) -> None:
    result = run("diff", expr, "--at", at, "--method", "central", "--h", "0.5")
    assert result.exit_code == 0
    assert float(result.stdout) == pytest.approx(float(value))
    assert result.stderr.startswith("Note: ") and result.stderr.count("\n") == 1 and note in result.stderr


@pytest.mark.parametrize("name", ["x", "x0", "theta", "sinus", "expected", "cost2a", "signal"])
def test_ordinary_names_get_no_note(run, name: str) -> None:
    assert glued(name) is None or name == "signal"
    result = run("diff", f"{name}**2", "--at", "1")
    assert result.exit_code == 0
    assert ("Note:" in result.stderr) == (glued(name) is not None)


def test_glued_reads_the_longest_function_name() -> None:
    assert glued("sinhx") == "sinh(x)"
    assert glued("log10y") == "log10(y)"
    assert glued("cost") == "cos(t)"
    assert glued("x2") is None


def test_wrt_of_an_absent_variable(run) -> None:
    result = run("diff", "x**2", "--at", "2", "--wrt", "y")
    assert result.exit_code == 2
    assert result.stderr == "Error: --wrt y: y does not occur in the expression (its variables: x)\n"
    compare = run("compare", "x*z", "--at", "1,2", "--wrt", "y")
    assert compare.exit_code == 2 and "y does not occur in the expression (its variables: x, z)" in compare.stderr
    # A constant has no variable to name: --wrt names it (derivative 0).
    assert run("diff", "5", "--at", "1", "--wrt", "t").stdout == "0.0\n"
    # README, "Points": unless --vars names it, when its derivative is 0 (x**2*z does not depend on y).
    named = ("x**2*z", "--wrt", "y", "--vars", "x,y,z", "--at", "1,2,3")
    assert run("diff", *named).stdout == "0.0\n"
    assert run("compare", *named, "--format", "json").stdout.count('"numeric": 0.0') == 1


def test_expression_starting_with_minus_after_double_dash(run) -> None:
    refused = run("diff", "-x**2", "--at", "1")
    assert refused.exit_code == 2 and "after '--'" in refused.stderr
    result = run("diff", "--at", "1", "--method", "central", "--h", "1e-4", "--", "-x**2")
    assert result.exit_code == 0
    assert float(result.stdout) == pytest.approx(-2.0, abs=1e-7)


def test_unknown_function_message_lists_every_function() -> None:
    message = unknown_function("nope")
    assert all(name in message for name in FUNCTIONS)
