"""Kinks are flagged by every command that computes first derivatives, whatever the number of variables.

A central difference at a kink returns the average of the slopes on the left and on the right, a number that is no
derivative; ``diff`` says so (status 7, exit 3). ``grad``, ``jacobian``, ``tangent`` and ``check`` compute the
components of a gradient by their own passes, which once returned those averages without a word
(``grad "abs(x) + y" --at 0,1`` printed ``0.0 1.0`` and exited 0). The kinks below are where two slopes differ by
theory: ``abs`` and ``relu`` at 0, ``max``/``min`` where two elements tie, the Euclidean norm at 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from numdiff_cli import engine
from numdiff_cli.expr import parse_expression

KINKS = [
    ("abs(x) + y", "0,1"),
    ("relu(x - y) + x", "2,2"),
    ("max(x, y)", "1,1"),
    ("min(x, 2*y)", "2,1"),
    ("max(x)", "x=[1,3,3]"),
    ("min(x) + sum(x**2)", "x=[2,2]"),
    ("norm(x)", "x=[0,0]"),
    ("abs(W[0,1] - W[1,0])", "W=[[1,2],[2,1]]"),
]

# The same expressions where no two slopes differ, with their gradients by hand.
SMOOTH = [
    ("abs(x) + y", "0.5,1", [1.0, 1.0]),
    ("relu(x - y) + x", "3,2", [2.0, -1.0]),
    ("max(x, y)", "1,2", [0.0, 1.0]),
    ("min(x, 2*y)", "3,1", [0.0, 2.0]),
    ("max(x)", "x=[1,2,3]", [0.0, 0.0, 1.0]),
    ("min(x) + sum(x**2)", "x=[1,2]", [3.0, 4.0]),
    ("norm(x)", "x=[3,4]", [0.6, 0.8]),
    ("abs(W[0,1] - W[1,0])", "W=[[1,3],[2,1]]", [[0.0, 1.0], [-1.0, 0.0]]),
]


@pytest.mark.parametrize(("text", "at"), KINKS)
def test_grad_flags_a_kink_along_any_variable(run, text: str, at: str) -> None:
    result = run("grad", text, "--at", at, "--format", "json")
    assert result.exit_code == 3, result.output  # a result numdiff cannot vouch for (README: Exit status)
    assert "kink" in json.loads(result.stdout)["warning"]


@pytest.mark.parametrize(("text", "at", "gradient"), SMOOTH)
def test_grad_next_to_those_kinks_is_unflagged_and_right(run, text: str, at: str, gradient: list) -> None:
    result = run("grad", text, "--at", at, "--format", "json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert "warning" not in row
    np.testing.assert_allclose(row["gradient"], gradient, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("text", "at"), [k for k in KINKS if "[" not in k[1]])
def test_jacobian_and_tangent_flag_it_too(run, text: str, at: str) -> None:
    result = run("jacobian", text, "x*y", "--at", at, "--format", "json")
    assert result.exit_code == 3 and "kink" in result.stderr, result.output
    result = run("tangent", text, "--at", at, "--format", "json")
    assert result.exit_code == 3 and "kink" in json.loads(result.stdout)["warning"], result.output


def test_a_check_of_a_gradient_at_a_kink_warns(run, tmp_path: Path) -> None:
    # A check compares with sympy's derivative (sign(0) = 0 here, so it passes) and says what the engine saw.
    path = tmp_path / "checks.toml"
    path.write_text('[[check]]\nname = "kinked"\nexpr = "abs(x) + y"\nwhat = "gradient"\nat = ["0,1"]\nrtol = 1e-8\n')
    result = run("check", str(path))
    assert "kink" in result.stderr, result.output


def test_a_smooth_expression_pays_no_kink_test(run) -> None:
    # The kink test costs 7 evaluations per component (README: f at x and on both sides at three steps); an
    # expression of functions real-analytic on the whole line and integer powers has no kinks, so its gradient
    # costs the fast pass's 11 (README: two per step at five steps, and f at x).
    f = lambda v: np.exp(np.sin(v[0])) * np.cos(v[1])  # noqa: E731
    X = np.array([[0.7], [0.3]])
    assert engine.gradient(f, X).nfev == 11
    assert engine.gradient(f, X, check_kink=True).nfev == 11 + 7
    smooth = [
        "exp(sin(x))*cos(y)",
        "sum(x**2) + logsumexp(x)",
        "x**3/7 + atan(y)",
        "softmax(x)[0] * tanh(y)",
        "sigmoid(x)",
    ]
    # Powers of constants: constants (x/pi, sqrt(2)*y) or exponentials (2**x).
    for text in smooth + ["x/pi + sqrt(2)*y", "2**x * y"]:
        assert parse_expression(text).smooth, text
    for text in COMPOSED + ["norm(x)", "x**y", "abs(x) + y", "log2(x)", "cbrt(x) + y"]:
        assert not parse_expression(text).smooth, text


# Kinks made of pieces each smooth where it is defined: a cone, a domain edge touched from inside, a pole or a
# logarithm inside a bounded function (all |x|-like or a cusp at x = 0).
COMPOSED = [
    "hypot(x, y)",
    "(x**2 + y**2)**0.5",
    "acos(cos(x)) + y",
    "asin(1 - x**2) + y",
    "acosh(1 + x**2) + y",
    "x*tanh(1/x) + y",
    "x*sigmoid(1/x) + y",
    "atan(log(x**2)) + y",
]


@pytest.mark.parametrize("text", COMPOSED)
def test_kinks_of_smooth_pieces_are_flagged(run, text: str) -> None:
    at = "0,0" if "y**2" in text or "hypot" in text else "0,1"
    result = run("grad", text, "--at", at, "--format", "json")
    assert result.exit_code == 3 and "kink" in json.loads(result.stdout).get("warning", ""), result.output
    if "y" in text and text.endswith("+ y"):
        one = text.removesuffix(" + y")
        result = run("tangent", one, "--at", "0", "--format", "json")
        assert result.exit_code == 3 and "kink" in json.loads(result.stdout).get("warning", ""), result.output


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("y**2 - abs(x)", "x=0,y=0"),  # a ridge along x: f falls both ways, and the average slope is 0
        ("abs(x) + y**2", "x=0,y=1"),  # the bottom of a V: a minimum, but its gradient is no derivative
        ("max(x, y) + (x - y)**2", "1,1"),
    ],
)
def test_descend_says_when_its_gradient_is_the_average_of_two_slopes(run, text: str, start: str) -> None:
    result = run("descend", text, "--from", start, "--steps", "3", "--format", "json")
    assert result.exit_code == 3, result.output
    assert "kink" in json.loads(result.stdout.splitlines()[-1])["warning"]


def test_descend_on_a_smooth_function_has_no_warning(run) -> None:
    result = run("descend", "x0**2 + x1**2", "--from", "-3,4", "--lr", "0.1", "--steps", "100", "--format", "json")
    assert result.exit_code == 0 and "warning" not in json.loads(result.stdout) and result.stderr == ""


def test_a_warning_names_the_variables_it_concerns(run) -> None:
    # Only x has a kink at x = 0 (abs(x)); y's slope is 1 on both sides.
    result = run("grad", "abs(x) + y", "--at", "0,1", "--format", "json")
    assert json.loads(result.stdout)["warning"].startswith("along x: the function has a kink here")
    result = run("tangent", "y + abs(x)", "--at", "0,1", "--format", "json")
    assert json.loads(result.stdout)["warning"].startswith("along x: the function has a kink here")
    # A Jacobian entry is a variable in one of the expressions.
    result = run("jacobian", "x*y", "abs(y - 1) + x", "--at", "0,1", "--format", "json")
    assert json.loads(result.stdout)["warning"].startswith("along y in abs(y - 1) + x: the function has a kink")
    # Seven of nine elements at 0: five named, then the count of the others.
    result = run("grad", "sum(abs(x))", "--at", "x=[0,1,0,2,0,0,0,0,0]", "--format", "json")
    assert json.loads(result.stdout)["warning"].startswith("along x[0], x[2], x[4], x[5], x[6] and 2 more: the")
    # Exactly five: all named, no count.
    result = run("grad", "sum(abs(x))", "--at", "x=[0,1,0,2,0,0,0,3]", "--format", "json")
    assert json.loads(result.stdout)["warning"].startswith("along x[0], x[2], x[4], x[5], x[6]: the")
    # Every component: no list (the warning is the point's).
    result = run("grad", "abs(x) + abs(y)", "--at", "0,0", "--format", "json")
    assert json.loads(result.stdout)["warning"].startswith("the function has a kink here")
