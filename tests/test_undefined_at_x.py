"""f not a number at x but finite around it (0/0): a derivative is vouched for only where f extended by its limit at x
has one (numerics/kinks.py: ``undefined_kinks``).

A removable singularity (sin(x)/x at 0) is differentiated as its continuous extension, silently and to the promised
digits; a kink hidden by the 0/0 (abs(x)*sin(x)/x at 0), or a function that oscillates without end as x nears the
point (x*sin(1/x) at 0, whose central differences are exactly 0 by symmetry, so that every pass agreed on a
derivative of 0), has none and is flagged. The references of the removable cases are sympy's limits at the point.
"""

from __future__ import annotations

import json

import pytest
import sympy as sp

from numdiff_cli.contract import EXIT_OK, EXIT_UNVOUCHED

X = sp.Symbol("x", real=True)

# (expression, point): removable singularities, differentiable through them, including ones whose rounding grows
# as x nears the point (1 - cos(x) cancels: 1e-6 of f at 1e-5) and points other than 0.
REMOVABLE = [
    ("sin(x)/x", "0"),
    ("sin(3*x)/x", "0"),
    ("sin(0.01*x)/x", "0"),
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
    ("(x**3 - 1)/(x - 1)", "1"),
    ("sin(x - 0.5)/(x - 0.5)", "0.5"),
    ("(exp(x + 3) - 1)/(x + 3)", "-3"),
    ("x**3*sin(1/x)", "0"),
]

# (expression, point): no first derivative of the extension (a kink, or slopes that never settle).
NO_DERIVATIVE = [
    *[(f"x*sin({a}/x)", "0") for a in ("0.001", "0.01", "0.1", "0.3", "1", "2", "5", "10", "100", "1000")],
    *[(f"(x - {c})*sin(1/(x - {c}))", c) for c in ("0.5", "1", "-2", "3.25", "100")],
    ("x*sin(1/x) + 1", "0"),
    ("x*sin(1/x) + 2*x", "0"),
    ("x**2*cos(1/x)**2/x", "0"),
    ("abs(x)*sin(x)/x", "0"),
    ("abs(x)*(exp(x) - 1)/x", "0"),
    ("abs(x - 1)*sin(x - 1)/(x - 1)", "1"),
    ("1e-3*abs(x)*sin(x)/x + x", "0"),
    ("tan(3/x**2)", "1e-300"),
]


def limit_derivative(text: str, at: str) -> float:
    f = sp.sympify(text, locals={"x": X})
    return float(sp.limit(sp.diff(f, X), X, sp.Rational(at)))


@pytest.mark.parametrize(("text", "at"), REMOVABLE)
def test_a_removable_singularity_is_differentiated_through(run, text: str, at: str) -> None:
    result = run("diff", text, "--at", at, "--format", "json")
    assert result.exit_code == EXIT_OK, result.output
    row = json.loads(result.stdout)
    reference = limit_derivative(text, at)
    assert abs(row["derivative"] - reference) <= 1e-9 * max(abs(reference), 1e-3), (row, reference)


@pytest.mark.parametrize(("text", "at"), NO_DERIVATIVE)
@pytest.mark.parametrize("order", [1, 3])
def test_no_derivative_through_the_point_is_flagged(run, text: str, at: str, order: int) -> None:
    result = run("diff", text, "--at", at, "--order", str(order), "--format", "json")
    assert result.exit_code == EXIT_UNVOUCHED, result.output
    assert json.loads(result.stdout)["warning"]


def test_gradients_and_compare_see_it_too(run) -> None:
    # (Along y, f is not a number anywhere on the line x = 0: that component is flagged as not finite in both.)
    grad = run("grad", "x*sin(1/x) + y**2", "--at", "0,1", "--format", "json")
    assert grad.exit_code == EXIT_UNVOUCHED, grad.output
    assert "along x: the function has a kink" in json.loads(grad.stdout)["warning"]
    removable = run("grad", "sin(x)/x + y**2", "--at", "0,1", "--format", "json")
    assert "along x" not in json.loads(removable.stdout)["warning"], removable.output
    compare = run("compare", "abs(x)*sin(x)/x", "--at", "0", "--format", "json")
    assert compare.exit_code != EXIT_OK, compare.output
