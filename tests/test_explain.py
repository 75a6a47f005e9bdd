"""diff --explain and diff --dtype: the formula evaluated with the actual numbers."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import json_lines


def test_textbook_central_difference(run) -> None:
    result = run("diff", "x**2 + 3*x + 5", "--at", "2", "--method", "central", "--h", "1e-4", "--explain")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "7.000000000019213"
    text = result.stdout
    f_plus, f_minus = 2.0001**2 + 3 * 2.0001 + 5, 1.9999**2 + 3 * 1.9999 + 5
    assert "f'(x) ~ (f(x+h) - f(x-h)) / (2*h)" in text
    assert re.search(r"x\+h = 2\.0001 +f\(x\+h\) = " + re.escape(repr(f_plus)) + "$", text, re.M)
    assert re.search(r"x-h = 1\.9999 +f\(x-h\) = " + re.escape(repr(f_minus)) + "$", text, re.M)
    assert f"f(x+h) - f(x-h) = {f_plus - f_minus!r}" in text
    assert "divided by 2*h: 7.000000000019213" in text
    # f''' = 0 for a quadratic: no truncation error; the whole error 1.9e-11 is rounding,
    # estimated as eps * (|f(x+h)| + |f(x-h)|) / (2h).
    assert "truncation error ~ (1/6)*h**2*|f'''(x)| = 0" in text
    rounding = 2.0**-52 * (abs(f_plus) + abs(f_minus)) / 2e-4
    assert f"= {rounding:.2g}" in text
    assert "exact (sympy): 7.0, actual error 1.9e-11" in text


def test_truncation_term_uses_the_third_derivative(run) -> None:
    result = run("diff", "exp(x)", "--at", "0", "--method", "central", "--h", "0.1", "--explain")
    assert result.exit_code == 0
    # h**2/6 * |f'''(0)| = 0.01/6 for exp, which is also (to leading order) the actual error.
    assert f"= {0.01 / 6:.2g}  (f'''(x) = 1)" in result.stdout
    actual = abs(float(result.stdout.splitlines()[0]) - 1.0)
    assert actual == pytest.approx(0.01 / 6, rel=1e-2)


def test_auto_lists_the_steps_and_the_chosen_one(run) -> None:
    plain = run("diff", "sin(x)", "--at", "1")
    result = run("diff", "sin(x)", "--at", "1", "--explain")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == plain.stdout.strip()
    assert "auto: Richardson extrapolation" in result.stdout
    chosen = re.findall(r"\[([0-9.e-]+)\]", result.stdout)
    assert len(chosen) == 1
    assert f"from h = {chosen[0]} down: {plain.stdout.strip()}" in result.stdout
    json_row = json_lines(run("diff", "sin(x)", "--at", "1", "--format", "json").stdout)[0]
    assert float(chosen[0]) == json_row["h"]


@pytest.mark.parametrize("method", ["forward", "backward", "central", "complex"])
def test_explained_value_is_the_printed_value(run, method: str) -> None:
    result = run("diff", "log(x)*y", "--wrt", "x", "--at", "x=3,y=2", "--method", method, "--explain")
    assert result.exit_code == 0
    printed = result.stdout.splitlines()[0]
    assert printed in result.stdout.split("\n", 1)[1]
    assert "\n  (the other variables held fixed)\n" in result.stdout
    other = run("diff", "log(x)*y", "--wrt", "y", "--at", "x=3,y=2", "--method", method, "--explain")
    assert "(x stands for y, the other variables held fixed)" in other.stdout
    assert float(printed) == pytest.approx(2 / 3, rel=1e-6)


def test_explain_json_keeps_stdout_clean(run) -> None:
    result = run("diff", "x**3", "--at", "1", "--method", "forward", "--explain", "--format", "json")
    assert result.exit_code == 0
    (row,) = json_lines(result.stdout)
    assert "forward difference in float64" in result.stderr
    assert row["derivative"] == pytest.approx(3.0, rel=1e-6)


def test_explain_needs_one_point(run) -> None:
    result = run("diff", "x", "--at", "1", "--at", "2", "--explain")
    assert result.exit_code == 2
    assert "one point" in result.stderr


def test_float32_explain_shows_float32_numbers(run) -> None:
    result = run(
        "diff", "x**2 + 3*x + 5", "--at", "2", "--method", "central", "--h", "1e-4", "--dtype", "float32", "--explain"
    )
    assert result.exit_code == 0
    x = np.float32(2)
    h = np.float32(1e-4)
    f = lambda t: t * t + np.float32(3) * t + np.float32(5)  # noqa: E731
    expected = (f(x + h) - f(x - h)) / (np.float32(2) * h)
    assert float(result.stdout.splitlines()[0]) == float(expected)
    assert f"x+h = {float(str(x + h))!r}" in result.stdout
    assert "h = 0.0001" in result.stdout
    assert "eps = 1.2e-07 in float32" in result.stdout


@pytest.mark.parametrize(
    "expr", [pytest.param("exp(x)", id="exp"), pytest.param("log(x, 10)", id="log10-float64-constant")]
)
def test_diff_float32_rounds_like_float32(run, expr: str) -> None:
    result = run(
        "diff", expr, "--at", "1", "--method", "central", "--h", "1e-3", "--dtype", "float32", "--format", "json"
    )
    assert result.exit_code == 0
    (row,) = json_lines(result.stdout)
    assert row["dtype"] == "float32"
    assert float(np.float32(row["derivative"])) == row["derivative"]


def test_diff_float32_vanishing_step_warns(run) -> None:
    result = run("diff", "exp(x)", "--at", "1", "--method", "central", "--h", "1e-9", "--dtype", "float32")
    assert result.exit_code == 3  # a result the engine cannot vouch for (README: Exit status)
    assert result.stdout == "0.0\n"
    assert "float32" in result.stderr and "double precision" not in result.stderr


def test_explain_shows_the_vanishing_step(run) -> None:
    result = run("diff", "x**2", "--at", "1", "--method", "central", "--h", "1e-50", "--explain")
    assert result.exit_code == 3  # a result the engine cannot vouch for (README: Exit status)
    assert "x+h and x-h == x in float64: the step is lost in rounding" in result.stdout
    assert "f(x+h) - f(x-h) = 0.0" in result.stdout
