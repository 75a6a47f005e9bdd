"""``hessian`` and ``jacobian``: engine and commands (issue 3). References from sympy at 50 digits."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from conftest import json_lines
from documented import VOUCHED

from numdiff_cli.engine import OK, gradient, hessian
from numdiff_cli.expr import parse_expression
from numdiff_cli.numerics.hessian import hessian_directions


def exact_hessian(text: str, point: dict[str, float]) -> np.ndarray:
    expression = parse_expression(text)
    substitutions = {s: sp.Float(point[n], 60) for n, s in zip(expression.names, expression.symbols)}
    matrix = sp.hessian(expression.tree, expression.symbols)
    return np.array([[float(sp.re(entry.subs(substitutions).evalf(50))) for entry in row] for row in matrix.tolist()])


HESSIAN_CASES = [
    pytest.param("x**2*y + y**3", {"x": 1.0, "y": 2.0}, id="issue-example"),
    pytest.param("sin(x*y) + exp(z)*x", {"x": 0.3, "y": 1.2, "z": 0.5}, id="three-variables"),
    pytest.param("log(x) + x*y**2", {"x": 2e-4, "y": 3.0}, id="near-domain-edge"),
    pytest.param("cos(x + 2*y)", {"x": 1e7, "y": 0.25}, id="large-x"),
    pytest.param("exp(-(x**2 + y**2))", {"x": 0.0, "y": 0.0}, id="zero-mixed-partial"),
]


@pytest.mark.parametrize(("text", "point"), HESSIAN_CASES)
def test_hessian_matches_sympy_and_is_symmetric(text: str, point: dict[str, float]) -> None:
    expression = parse_expression(text)
    X = np.array([[point[name]] for name in expression.names])
    result = hessian(expression.function, X)
    H, error = result.value[..., 0], result.error[..., 0]
    exact = exact_hessian(text, point)
    assert (H == H.T).all()  # symmetric by construction, bit for bit
    assert (result.status == OK).all()
    # Every entry is within 10 times its error estimate (honest), and the estimates vouch for second-derivative
    # precision relative to the largest entry (f_ij = (f_uu - f_vv)/4 can cancel, so entry-wise relative
    # precision is not promised for entries much smaller than the rest).
    assert (np.abs(H - exact) <= 10 * error + 1e-300).all()
    assert (np.abs(H - exact) <= 10 * VOUCHED[2] * np.abs(exact).max()).all()


def test_hessian_evaluates_all_points_in_a_few_batched_calls() -> None:
    def calls(points: int) -> list[tuple[int, ...]]:
        shapes = []

        def f(v: np.ndarray) -> np.ndarray:
            shapes.append(v.shape)
            return np.sin(v[0]) * v[1] + v[2] ** 2 * v[0]

        hessian(f, np.random.default_rng(1).uniform(-1, 1, (3, points)))
        return shapes

    # At most one call per pass, whatever the number of points (while the lines fit in one block of the fast pass,
    # 2,666 of them): the fast pass of all 3 + 6 directions; for the lines it leaves, the probe of f's rounding where
    # its tighter estimate may vouch for them, the fine pass from two anchors, the fast pass on steps scaled to each
    # line (two rounds, each with its probe of f's rounding), the relative first pass and the false-plateau check of
    # its chosen steps, the wide search and the last fine pass: 12 calls at most, never one per point.
    for points in (50, 100, 250):
        shapes = calls(points)
        assert 1 <= len(shapes) <= 12
        assert shapes[0][0] == 3 and shapes[0][-2:] == (len(hessian_directions(3)), points)


def test_hessian_directions() -> None:
    assert hessian_directions(2).tolist() == [[1, 0], [0, 1], [1, 1], [1, -1]]


def test_hessian_command_issue_example(run) -> None:
    result = run("hessian", "x**2*y + y**3", "--at", "x=1,y=2", "--format", "json")
    assert result.exit_code == 0
    (row,) = json_lines(result.stdout)
    assert row["vars"] == ["x", "y"]
    assert row["at"] == {"x": 1.0, "y": 2.0}
    assert np.allclose(row["hessian"], [[4, 2], [2, 12]], rtol=1e-12)
    assert np.array(row["error"]).shape == (2, 2)
    plain = run("hessian", "x**2*y + y**3", "--at", "x=1,y=2")
    assert plain.exit_code == 0
    rows = [[float(v) for v in part.split()] for part in plain.stdout.strip().split("; ")]
    assert np.allclose(rows, [[4, 2], [2, 12]], rtol=1e-12)


def test_hessian_command_csv_and_vars_order(run) -> None:
    result = run("hessian", "x**2*y + y**3", "--at", "2,1", "--vars", "y,x", "--format", "csv")
    assert result.exit_code == 0
    header, line = result.stdout.splitlines()
    assert header == "expr,vars,at,hessian,error,warning"
    assert '"[""y"",""x""]"' in line
    # --at 2,1 in the order y, x: y = 2, x = 1. Rows and columns in the order (y, x): f_yy = 6y = 12,
    # f_yx = 2x = 2, f_xx = 2y = 4 (the expression's own order would give [[4, 2], [2, 12]]).
    (row,) = json_lines(run("hessian", "x**2*y + y**3", "--at", "2,1", "--vars", "y,x", "--format", "json").stdout)
    assert row["vars"] == ["y", "x"] and row["at"] == {"y": 2.0, "x": 1.0}
    assert np.allclose(row["hessian"], [[12, 2], [2, 4]], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(["--method", "complex"], 2, "first derivatives only", id="complex-refused"),
        pytest.param(["--method", "central", "--h", "1e-50"], 3, "x + h == x", id="vanishing-step"),
    ],
)
def test_hessian_command_errors(run, args: list[str], code: int, message: str) -> None:
    result = run("hessian", "x*y", "--at", "1,2", *args)
    assert result.exit_code == code
    assert message in result.stderr


def test_hessian_outside_the_domain_is_null_with_a_warning(run) -> None:
    result = run("hessian", "log(x) + y", "--at", "-1,2", "--format", "json")
    assert result.exit_code == 3  # a result the engine cannot vouch for (README: Exit status)
    (row,) = json_lines(result.stdout)
    assert row["hessian"][0][0] is None
    assert "not finite" in row["warning"]


def test_jacobian_command(run) -> None:
    result = run("jacobian", "x*y", "x + y**2", "--at", "x=1,y=2", "--format", "json")
    assert result.exit_code == 0
    (row,) = json_lines(result.stdout)
    assert row["expr"] == ["x*y", "x + y**2"]
    assert row["vars"] == ["x", "y"]
    assert np.allclose(row["jacobian"], [[2, 1], [1, 4]], rtol=1e-12)
    assert np.array(row["error"]).shape == (2, 2)


def test_jacobian_variables_are_the_union_in_natural_order(run) -> None:
    # "y" alone and "x10 + x2" together: columns x2, x10, y; derivatives of missing variables are exactly 0.
    result = run("jacobian", "y", "x10 + x2", "--at", "1,2,3", "--format", "json")
    assert result.exit_code == 0
    (row,) = json_lines(result.stdout)
    assert row["vars"] == ["x2", "x10", "y"]
    assert row["at"] == {"x2": 1.0, "x10": 2.0, "y": 3.0}
    assert row["jacobian"][0][:2] == [0.0, 0.0]
    assert row["error"][0][:2] == [0.0, 0.0]
    assert np.allclose(row["jacobian"], [[0, 0, 1], [1, 1, 0]], rtol=1e-12)


def test_jacobian_matches_gradients_of_each_expression(run) -> None:
    texts = ["r*cos(t)", "r*sin(t)"]
    result = run("jacobian", *texts, "--at", "r=2,t=0.5", "--format", "json")
    (row,) = json_lines(result.stdout)
    for text, jac_row in zip(texts, row["jacobian"]):
        expression = parse_expression(text)
        # (As the command calls it: an analytic expression gets the complex step first.)
        expected = gradient(
            expression.function,
            np.array([[2.0], [0.5]]),
            analytic=expression.analytic,
            check_kink=not expression.smooth,
        ).value[:, 0]
        assert jac_row == expected.tolist()
    r, t = mpmath.mpf(2), mpmath.mpf(0.5)
    exact = [[mpmath.cos(t), -r * mpmath.sin(t)], [mpmath.sin(t), r * mpmath.cos(t)]]
    assert np.allclose(row["jacobian"], np.array(exact, dtype=float), rtol=10 * VOUCHED[1])


def test_jacobian_refuses_complex_for_non_analytic(run) -> None:
    result = run("jacobian", "abs(x)", "y", "--at", "1,2", "--method", "complex")
    assert result.exit_code == 2
    assert "analytic" in result.stderr


@pytest.mark.parametrize("command", ["grad", "hessian", "tangent"])
def test_too_large_user_step_is_flagged_for_several_variables(run, command: str) -> None:
    # sin varies on a scale of 1; a step of 1000 gives no derivative along x.
    result = run(command, "sin(x)*y", "--at", "1,2", "--method", "central", "--h", "1000")
    assert result.exit_code == 3  # a result the engine cannot vouch for (README: Exit status)
    assert "step is large" in result.stderr


# A method of one step (central, forward, backward) has no error estimate: its Hessian is flagged for its steps
# (a step that vanishes next to x), as diff --order 2 is, never for an estimate it does not have. Every off-diagonal
# entry was flagged "low accuracy ... see the error estimate" (exit 3) with the error null. Accuracy of the default
# steps (theory): central about eps**(1/2) ~ 1e-8 relative, one-sided eps**(1/3) ~ 6e-6; with the margin below.
@pytest.mark.parametrize("method", ["central", "forward", "backward"])
@pytest.mark.parametrize(
    ("text", "point"),
    [
        pytest.param("x**2*y + y**3", {"x": 1.0, "y": 2.0}, id="two-variables"),
        pytest.param("sin(x*y) + exp(z)*x", {"x": 0.3, "y": 1.2, "z": 0.5}, id="three-variables"),
    ],
)
def test_a_one_step_hessian_is_not_flagged_for_an_estimate_it_has_not(run, method: str, text: str, point) -> None:
    at = ",".join(f"{name}={value!r}" for name, value in point.items())
    result = run("hessian", text, "--at", at, "--method", method, "--format", "json")
    assert result.exit_code == 0 and result.stderr == "", result.output
    (row,) = json_lines(result.stdout)
    assert row["error"] is None and "warning" not in row
    tolerance = 1e-6 if method == "central" else 1e-4
    np.testing.assert_allclose(row["hessian"], exact_hessian(text, point), rtol=tolerance, atol=tolerance)


def test_a_one_step_hessian_of_array_values_and_a_vanishing_step(run) -> None:
    # sum(x**3): diag(6 x); with --h 1e-3 central is exact up to rounding (eps / h**2 ~ 2e-10).
    result = run("hessian", "sum(x**3)", "--at", "x=[1,2]", "--method", "central", "--h", "1e-3")
    assert result.exit_code == 0 and result.stderr == ""
    values = [float(v) for v in result.stdout.replace(";", " ").split()]
    np.testing.assert_allclose(values, [6.0, 0.0, 0.0, 12.0], rtol=1e-9, atol=1e-9)
    # A step that vanishes next to x is still flagged.
    result = run("hessian", "x*y", "--at", "1,2", "--method", "central", "--h", "1e-200")
    assert result.exit_code == 3 and "the step vanishes" in result.stderr
