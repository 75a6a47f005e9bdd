"""A removable singularity (f is 0/0 at x, and its continuous extension is smooth there) is differentiated through,
silently and to the promised digits: sin(x)/x at 0 is 0, (x**2 - 4)/(x - 2) at 2 is 1.

These are the cases a kink test on the limit of f at x must leave alone (see the README's known limits: where f
is not a number at x, x*sin(1/x) at 0 is not flagged). A test of the limit tried on the second differences about
it, from the chosen step down to a hundredth of it, flagged several of them: the rounding of an f that cancels
near x grows as the steps shrink ((x**2 - 1e4)/(x - 100) at 100), and a derivative that is 0 by symmetry can be
chosen on steps beyond the scale of f (sin(50*x)/x at 0). The references are sympy's limits at the point.
"""

from __future__ import annotations

import json

import pytest
import sympy as sp

from numdiff_cli.contract import EXIT_OK

X = sp.Symbol("x", real=True)

REMOVABLE = [
    ("sin(x)/x", "0"),
    ("sin(0.01*x)/x", "0"),
    ("sin(3*x)/x", "0"),
    ("sin(20*x)/x", "0"),
    ("sin(50*x)/x", "0"),
    ("sin(100*x)/x", "0"),
    ("(exp(x) - 1)/x", "0"),
    ("(exp(20*x) - 1)/x", "0"),
    ("log(1 + x)/x", "0"),
    ("(1 - cos(x))/x**2", "0"),
    ("(1 - cos(7*x))/x**2", "0"),
    ("tan(x)/x", "0"),
    ("x/sin(x)", "0"),
    ("atan(x)/x", "0"),
    ("sinh(x)/x", "0"),
    ("(sqrt(1 + x) - 1)/x", "0"),
    ("sin(x)**2/x", "0"),
    ("(x**2 - 4)/(x - 2)", "2"),
    ("(x**2 - 4)/(x - 2) - x", "2"),
    ("(x**2 - 1e4)/(x - 100)", "100"),
    ("(x**2 - 1e6)/(x - 1000)", "1000"),
    ("(x**3 - 1)/(x - 1)", "1"),
    ("sin(x - 0.5)/(x - 0.5)", "0.5"),
    ("sin(x - 100)/(x - 100)", "100"),
    ("(exp(x + 3) - 1)/(x + 3)", "-3"),
    ("(1 - cos(x))/x**2 - 0.5", "0"),
    ("x**3*sin(1/x)", "0"),
]


def limit_derivative(text: str, at: str) -> float:
    f = sp.sympify(text, locals={"x": X})
    return float(sp.limit(sp.cancel(sp.diff(f, X)), X, sp.Rational(at)))


@pytest.mark.parametrize(("text", "at"), REMOVABLE)
def test_a_removable_singularity_is_differentiated_through(run, text: str, at: str) -> None:
    result = run("diff", text, "--at", at, "--format", "json")
    assert result.exit_code == EXIT_OK, result.output
    row = json.loads(result.stdout)
    reference = limit_derivative(text, at)
    assert abs(row["derivative"] - reference) <= 1e-9 * max(abs(reference), 1e-3), (row, reference)
