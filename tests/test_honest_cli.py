"""Issue 11's command-line examples: a tangent at a kink, an exact reference that must be exact, exact parity."""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest

from numdiff_cli.expr import parse_expression


@pytest.mark.parametrize("text", ["abs(x)", "relu(x)", "abs(x - 1)"])
def test_tangent_at_a_kink_is_flagged_like_diff(run, text: str) -> None:
    at = "1" if "- 1" in text else "0"
    result = run("tangent", text, "--at", at, "--format", "json")
    assert result.exit_code == 3  # a result the engine cannot vouch for (README: Exit status)
    assert "kink" in json.loads(result.stdout)["warning"]


def test_tangent_of_a_smooth_function_stays_unflagged(run) -> None:
    result = run("tangent", "0.01*x**2 + 0.1*x", "--at", "5", "--format", "plain")
    assert result.exit_code == 0
    assert result.stdout == "y = 0.2*x - 0.25\n"


def test_the_reference_of_compare_is_exact_where_30_digits_are_not(run) -> None:
    # tan(exp(x)) at 700: exp(700) ~ 1e304 needs ~330 digits before tan can reduce it (once 1.2457e304, true
    # 1.3716e304).
    result = run("compare", "tan(exp(x))", "--at", "700", "--format", "json")
    with mpmath.workdps(900):
        x = mpmath.mpf(700)
        exact = mpmath.exp(x) / mpmath.cos(mpmath.exp(x)) ** 2
    row = json.loads(result.stdout)
    assert abs(row["analytic"] - float(exact)) <= 1e-15 * float(exact)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("(-1)**(2**53+1)", -1, id="odd-beyond-2**53"),  # float(2**53+1) is even: once +1
        pytest.param("(-1)**(2**53)", 1, id="even"),
        pytest.param("(-1)**(-(2**60+1))", -1, id="negative-odd"),
        pytest.param("(-2)**3", -8, id="small-exact"),
    ],
)
def test_the_parity_of_a_power_is_exact(text: str, value: int) -> None:
    assert float(parse_expression(text).function(np.zeros((0,)))) == value


def test_diff_of_an_odd_power_of_minus_one(run) -> None:
    result = run("diff", "(-1)**(2**53+1)*x", "--at", "1", "--format", "plain")
    assert (result.exit_code, result.stdout) == (0, "-1.0\n")


# Derivatives that are 0 without sympy seeing it: the terms of sympy's derivative cancel, so at every precision its
# value is their rounding, which shrinks as digits are added. compare and check take 0 as the reference; they
# refused such points as "too costly" (exit 2) before. d/dx_i sum(softmax(x)) = d/dx_i 1 = 0, and
# e^x/(e^x + e^2) + e^2/(e^x + e^2) = 1.
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("sum(softmax(x))", "--wrt", "x[0]", "--at", "x=[1,2]"), id="sum-softmax-0"),
        pytest.param(("sum(softmax(x))", "--wrt", "x[2]", "--at", "x=[142.085,-19.69,109.29]"), id="sum-softmax-2"),
        pytest.param(("mean(softmax(x**2))", "--wrt", "x[1]", "--at", "x=[1.9,0.99,-0.4]"), id="mean-softmax"),
        pytest.param(("exp(x)/(exp(x)+exp(2)) + exp(2)/(exp(x)+exp(2))", "--at", "1"), id="one-in-two-parts"),
        pytest.param(("exp(x)/(exp(x)+exp(2)) + exp(2)/(exp(x)+exp(2))", "--at", "1", "--order", "3"), id="order-3"),
    ],
)
def test_a_derivative_that_is_zero_by_cancellation_has_the_reference_zero(run, args: tuple[str, ...]) -> None:
    result = run("compare", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert row["analytic"] == 0.0 and abs(row["numeric"]) <= 1e-12


def test_a_reference_that_does_not_settle_is_still_refused() -> None:
    from numdiff_cli.analytic import Analytic
    from numdiff_cli.errors import ExpressionError

    # Values that neither agree nor vanish as precision grows (1 / digits): no reference, the point is refused.
    drifting = Analytic("drifting", lambda x: 1 / mpmath.mpf(mpmath.mp.dps))
    with pytest.raises(ExpressionError, match="could not be established"):
        drifting.values(np.array([[1.0]]))
    # A small value that every precision agrees on stays what it is: 0 is only for values that vanish.
    small = Analytic("small", lambda x: mpmath.mpf(10) ** -40 * (1 + mpmath.mpf(10) ** -mpmath.mp.dps))
    assert float(small.values(np.array([[1.0]]))[0]) == 1e-40


# The tangent line's intercept value - slope * x overflows where slope * x does (x**2 at 1e154: 2e154 * 1e154), though
# the value and the slope are finite: "y = 2e+154*x - nan" was printed with exit 0. Now a warning, null in JSON.
@pytest.mark.parametrize(
    ("text", "at"),
    [
        pytest.param("x**2", "1e154", id="square"),
        pytest.param("(-1)*x**2", "-1e154", id="negative-square"),
        pytest.param("exp(x)", "709", id="exp"),
    ],
)
def test_a_tangent_whose_intercept_overflows_is_flagged(run, text: str, at: str) -> None:
    result = run("tangent", text, "--at", at, "--format", "json")
    assert result.exit_code == 3
    row = json.loads(result.stdout)
    assert row["intercept"] is None and row["equation"] == "nan" and "intercept" in row["warning"]


def test_a_tangent_next_to_the_overflow_is_exact(run) -> None:
    # x**2 at 1e153: slope 2e153, intercept 1e306 - 2e306 = -1e306, all finite.
    result = run("tangent", "x**2", "--at", "1e153")
    assert result.exit_code == 0 and result.stdout == "y = 2e+153*x - 1e+306\n"
