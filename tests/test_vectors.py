"""Array values: vectors and matrices, the array functions, shapes, slices, fixed values and derivatives by array.

References come from outside the code under test: numpy written out here (the textbook's own gradient loop, the
closed form of the softmax cross-entropy gradient, the softmax Jacobian diag(s) - s s^T), and sympy derivatives of
the expressions written out by hand, component by component.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from conftest import json_lines

from numdiff_cli.bound import bind
from numdiff_cli.expr import parse_expression

X = np.array([0.3, -1.2, 2.0])
M = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def _softmax(v: np.ndarray) -> np.ndarray:
    e = np.exp(v - v.max())
    return e / e.sum()


def numerical_gradient(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The textbook's loop: one central difference per component, x changed in place and restored."""
    grad = np.zeros_like(x)
    for idx in range(x.size):
        tmp = x[idx]
        x[idx] = tmp + h
        fxh1 = f(x)
        x[idx] = tmp - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp
    return grad


def test_the_textbook_gradient_digits(run) -> None:  # type: ignore[no-untyped-def]
    expected = numerical_gradient(lambda x: np.sum(x**2), np.array([3.0, 4.0]))
    result = run("grad", "sum(x**2)", "--at", "3,4", "--method", "central", "--h", "1e-4")
    assert result.exit_code == 0, result.output
    assert result.output == " ".join(map(repr, expected.tolist())) + "\n"
    assert result.output == "6.00000000000378 7.999999999999119\n"  # the digits printed in the lesson


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        pytest.param("sum(x**2)", lambda x, W: np.sum(x**2), id="sum"),
        pytest.param("prod(cos(x))", lambda x, W: np.prod(np.cos(x)), id="prod"),
        pytest.param("mean(exp(x))", lambda x, W: np.mean(np.exp(x)), id="mean"),
        pytest.param("norm(x)", lambda x, W: np.linalg.norm(x), id="norm"),
        pytest.param("norm(W)", lambda x, W: np.linalg.norm(W), id="norm-frobenius"),
        pytest.param("dot(x, x)", lambda x, W: np.dot(x, x), id="dot"),
        pytest.param("max(x)", lambda x, W: np.max(x), id="max"),
        pytest.param("min(W)", lambda x, W: np.min(W), id="min"),
        pytest.param("sum(max(x, 0.5))", lambda x, W: np.sum(np.maximum(x, 0.5)), id="max-elementwise"),
        pytest.param("sum(min(W, x))", lambda x, W: np.sum(np.minimum(W, x)), id="min-broadcast"),
        pytest.param("softmax(x)[2]", lambda x, W: _softmax(x)[2], id="softmax"),
        pytest.param("logsumexp(x)", lambda x, W: np.log(np.sum(np.exp(x))), id="logsumexp"),
        pytest.param("sum(transpose(W)[:, 1])", lambda x, W: np.sum(W.T[:, 1]), id="transpose"),
        pytest.param("sum(W @ x)", lambda x, W: np.sum(W @ x), id="matmul-matrix-vector"),
        pytest.param("sum(x @ transpose(W))", lambda x, W: np.sum(x @ W.T), id="matmul-vector-matrix"),
        pytest.param("sum(W @ transpose(W))", lambda x, W: np.sum(W @ W.T), id="matmul-matrix-matrix"),
        pytest.param("x @ x", lambda x, W: x @ x, id="matmul-vectors"),
        pytest.param("sum(x[1:]) - x[-1] + W[1, 2]", lambda x, W: np.sum(x[1:]) - x[-1] + W[1, 2], id="slices"),
        pytest.param("sum(x[:-1] * x[1:])", lambda x, W: np.sum(x[:-1] * x[1:]), id="shifted-slices"),
        pytest.param("sum(W[:, ::2])", lambda x, W: np.sum(W[:, ::2]), id="step-slice"),
        pytest.param("sum(W[1])", lambda x, W: np.sum(W[1]), id="row"),
        pytest.param("x[0] * sum(x)", lambda x, W: x[0] * np.sum(x), id="element-and-array"),
        pytest.param("W[1][0]", lambda x, W: W[1][0], id="index-of-index"),
        pytest.param("sum((W @ x)[1:])", lambda x, W: np.sum((W @ x)[1:]), id="index-of-expression"),
        pytest.param("sum(sigmoid(W) * x)", lambda x, W: np.sum(1 / (1 + np.exp(-W)) * x), id="broadcast"),
    ],
)
def test_values_of_array_functions(text: str, reference) -> None:  # type: ignore[no-untyped-def]
    """Values at three points at once (the batch axis), against numpy written out."""
    parsed = parse_expression(text)
    expression = bind(parsed, {name: {"x": (3,), "W": (2, 3)}[name] for name in parsed.names}, {})
    rng = np.random.default_rng(1)
    points = [(X + rng.normal(size=3), M + rng.normal(size=(2, 3))) for _ in range(3)]
    # Each coordinate's value, read from its name (W[1,2], x[0]): the layout comes from the names alone.
    columns = np.array([[eval(name, {"x": x, "W": W}) for x, W in points] for name in expression.names])
    values = expression.function(columns)
    assert values.shape == (3,)
    np.testing.assert_allclose(values, [reference(x, W) for x, W in points], rtol=1e-13, atol=1e-15)


def test_softmax_and_logsumexp_do_not_overflow() -> None:
    expression = bind(parse_expression("logsumexp(x) + softmax(x)[0]"), {"x": (2,)}, {})
    # exp(1000) overflows; log(exp(1000) + exp(999)) = 1000 + log(1 + e^-1), softmax = 1/(1 + e^-1).
    value = expression.function(np.array([[1000.0], [999.0]]))
    assert value[0] == pytest.approx(1000 + np.log1p(np.exp(-1)) + 1 / (1 + np.exp(-1)), rel=1e-15)


# Gradients through the command, against sympy's derivative of the expression written out by components.
x0, x1, x2 = sp.symbols("x0 x1 x2", real=True)
_S = sp.exp(x0) + sp.exp(x1) + sp.exp(x2)


@pytest.mark.parametrize(
    ("text", "by_hand"),
    [
        pytest.param(
            "sum(x**2) + prod(cos(x))", x0**2 + x1**2 + x2**2 + sp.cos(x0) * sp.cos(x1) * sp.cos(x2), id="sum-prod"
        ),
        pytest.param("mean(x**3)", (x0**3 + x1**3 + x2**3) / 3, id="mean"),
        pytest.param("norm(x)", sp.sqrt(x0**2 + x1**2 + x2**2), id="norm"),
        pytest.param("logsumexp(x)", sp.log(_S), id="logsumexp"),
        pytest.param("softmax(x)[1]", sp.exp(x1) / _S, id="softmax"),
        pytest.param("sum((x[1:] - x[:-1]**2)**2)", (x1 - x0**2) ** 2 + (x2 - x1**2) ** 2, id="rosenbrock-slices"),
        pytest.param("dot(x, sin(x))", x0 * sp.sin(x0) + x1 * sp.sin(x1) + x2 * sp.sin(x2), id="dot"),
        pytest.param("prod(x)", x0 * x1 * x2, id="prod"),
        pytest.param("x[:2] @ x[1:]", x0 * x1 + x1 * x2, id="matmul-slices"),
        pytest.param("norm(x[::2])", sp.sqrt(x0**2 + x2**2), id="norm-step-slice"),
        # No ties at X = (0.3, -1.2, 2.0): max and min are smooth there.
        pytest.param("max(x**2) + min(x)", sp.Max(x0**2, x1**2, x2**2) + sp.Min(x0, x1, x2), id="max-min"),
        pytest.param("sum(max(x, 0) * x)", sp.Max(x0, 0) * x0 + sp.Max(x1, 0) * x1 + sp.Max(x2, 0) * x2, id="max-2"),
        pytest.param("sum(transpose(x) * exp(x))", x0 * sp.exp(x0) + x1 * sp.exp(x1) + x2 * sp.exp(x2), id="transpose"),
    ],
)
def test_gradient_against_sympy(run, text: str, by_hand: sp.Expr) -> None:  # type: ignore[no-untyped-def]
    point = dict(zip((x0, x1, x2), X.tolist()))
    expected = [float(sp.diff(by_hand, v).evalf(30, subs=point)) for v in (x0, x1, x2)]
    result = run("grad", text, "--at", "x=[0.3,-1.2,2.0]", "--format", "json")
    assert result.exit_code == 0, result.output
    (row,) = json_lines(result.output)
    assert row["vars"] == ["x[0]", "x[1]", "x[2]"]
    np.testing.assert_allclose(row["gradient"], expected, rtol=1e-10, atol=1e-12)
    if "max" not in text and "min" not in text:
        # The complex step through the array code (softmax and logsumexp shift by the real part only).
        result = run("grad", text, "--at", "x=[0.3,-1.2,2.0]", "--method", "complex", "--format", "json")
        assert result.exit_code == 0, result.output
        np.testing.assert_allclose(json_lines(result.output)[0]["gradient"], expected, rtol=1e-13, atol=1e-15)
    # compare: the analytic derivative of one component, written out by components and differentiated by sympy.
    result = run("compare", text, "--wrt", "x[1]", "--at", "0.3,-1.2,2.0", "--format", "json")
    assert result.exit_code == 0, result.output
    (row,) = json_lines(result.output)
    assert row["analytic"] == pytest.approx(expected[1], rel=1e-14, abs=1e-15)


def test_softmax_cross_entropy_gradient_by_a_weight_matrix(run) -> None:  # type: ignore[no-untyped-def]
    """The textbook's simpleNet: the gradient of -sum(t*log(softmax(x @ W))) by W is outer(x, softmax(x@W) - t)."""
    x, t = np.array([0.6, 0.9]), np.array([0.0, 0.0, 1.0])
    W = np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])
    result = run(
        "grad", "--wrt", "W", "--let", "x=[0.6,0.9],t=[0,0,1]",
        "--at", f"W={json.dumps(W.tolist())}", "--format", "json", "--", "-sum(t*log(softmax(x @ W)))",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json_lines(result.output)
    closed_form = np.outer(x, _softmax(x @ W) - t)
    assert np.shape(row["gradient"]) == (2, 3)
    np.testing.assert_allclose(row["gradient"], closed_form, rtol=1e-10)
    assert row["vars"] == [f"W[{i},{j}]" for i in range(2) for j in range(3)]


def test_wrt_holds_the_other_variables(run) -> None:  # type: ignore[no-untyped-def]
    # d/dx sum(x * y) = y, d/dy = x; --wrt x gives only x's gradient, in x's shape.
    result = run("grad", "sum(x * y)", "--wrt", "x", "--at", "x=[1,2],y=[3,5]")
    assert result.exit_code == 0 and result.output == "3.0 5.0\n"
    result = run("grad", "sum(x * y)", "--wrt", "y", "--wrt", "x", "--at", "x=[1,2],y=[3,5]", "--method", "central")
    assert result.exit_code == 0
    np.testing.assert_allclose([float(v) for v in result.output.split()], [1, 2, 3, 5], rtol=1e-9)
    result = run("grad", "sum(W)", "--wrt", "W", "--at", "W=[[1,2],[3,4]]", "--format", "json")
    assert json_lines(result.output)[0]["gradient"] == [[1.0, 1.0], [1.0, 1.0]]
    result = run("grad", "sum(x)", "--wrt", "z", "--at", "x=[1,2]")
    assert result.exit_code == 2 and "--wrt z: not a variable" in result.output


def test_diff_of_one_component_and_hessian(run) -> None:  # type: ignore[no-untyped-def]
    result = run("diff", "sum(x**3)", "--wrt", "x[1]", "--at", "1,2", "--method", "central", "--h", "1e-3")
    # (f(x+h) - f(x-h)) / 2h = 3*2**2 + h**2 = 12.000001 (exactly, up to rounding)
    assert result.exit_code == 0 and float(result.output) == pytest.approx(12.000001, rel=1e-9)
    result = run("hessian", "sum(x**3)", "--at", "1,2")
    assert result.exit_code == 0 and result.output == "6.0 0.0; 0.0 12.0\n"


def test_jacobian_of_softmax(run) -> None:  # type: ignore[no-untyped-def]
    result = run("jacobian", "softmax(z)", "--at", "z=[1,2,3]", "--format", "json")
    assert result.exit_code == 0, result.output
    (row,) = json_lines(result.output)
    s = _softmax(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(row["jacobian"], np.diag(s) - np.outer(s, s), rtol=1e-11, atol=1e-13)


def test_points_from_standard_input_and_fixed_values(run) -> None:  # type: ignore[no-untyped-def]
    result = run("grad", "sum(x**2)", "--at", "-", "--method", "central", "--h", "0.5", input="1 2\n3 4\n")
    assert result.exit_code == 0 and result.output == "2.0 4.0\n6.0 8.0\n"
    result = run("grad", "sum(x * t)", "--let", "t=[0,0,1]", "--at", "5,6,7")
    assert result.exit_code == 0 and result.output == "0.0 0.0 1.0\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("grad", "x @ y", "--at", "x=[1,2],y=[1,2,3]"),
            "invalid expression 'x @ y': shapes (2,) and (3,) do not fit in the matrix product 'x @ y'",
            id="matmul",
        ),
        pytest.param(
            ("grad", "sum(x + y)", "--at", "x=[1,2],y=[1,2,3]"),
            "invalid expression 'sum(x + y)': shapes (2,) and (3,) do not broadcast in 'x + y'",
            id="broadcast",
        ),
        pytest.param(
            ("grad", "x[5] + sum(x)", "--at", "1,2"),
            "index 5 is out of range for axis 0 of shape (2,) in 'x[5]'",
            id="index",
        ),
        pytest.param(
            ("grad", "x * sum(x)", "--at", "1,2"), "has a value of shape (2,); this needs one number", id="not-scalar"
        ),
        pytest.param(
            ("grad", "sum(x)", "--at", "x=[1,2]", "--at", "x=[1,2,3]"), "x has shape (2,), got (3,)", id="two-shapes"
        ),
        pytest.param(
            ("grad", "sum(x)", "--let", "y=2", "--at", "1,2"), "y is not a variable of the expression", id="let-unknown"
        ),
        pytest.param(
            ("grad", "x*y", "--let", "y=2", "--at", "1"),
            "--let holds variables of an expression with array",
            id="let-scalar",
        ),
        pytest.param(
            ("diff", "sum(W)", "--wrt", "W", "--at", "W=[[1,2],[3,4]]"),
            "--wrt W: W has shape (2,2); differentiate by one element (--wrt 'W[0,0]'), or use grad --wrt W",
            id="diff-wrt-array",
        ),
        # --let holding every variable leaves nothing to differentiate by: said so, in every command that has --let.
        *[
            pytest.param(
                (command, text, "--let", "x=[1,2]", "--at", "x=[1,2]"),
                f"--let gives every variable of {text!r} (x): no variables are left to differentiate by",
                id=f"let-all-{command}",
            )
            for command, text in [
                ("diff", "sum(x)"),
                ("compare", "sum(x)"),
                ("grad", "sum(x)"),
                ("hessian", "sum(x)"),
                ("jacobian", "softmax(x)"),
            ]
        ],
        # A vector value where one number is needed: the remedy offered is one the command has.
        *[
            pytest.param(
                args,
                "has a value of shape (2,); this needs one number: take sum(...) of it, or use jacobian",
                id=f"vector-value-{args[0]}",
            )
            for args in [
                ("diff", "softmax(x)", "--wrt", "x[0]", "--at", "x=[1,2]"),
                ("grad", "softmax(x)", "--at", "x=[1,2]"),
                ("tangent", "softmax(x)", "--at", "x=[1,2]"),
                ("compare", "softmax(x)", "--wrt", "x[0]", "--at", "x=[1,2]"),
                ("hessian", "softmax(x)", "--at", "x=[1,2]"),
                ("descend", "softmax(x)", "--from", "x=[1,2]"),
            ]
        ],
        *[
            pytest.param(
                ("jacobian", *exprs, "--at", "x=[1,2]"),
                "'softmax(x)' has a value of shape (2,); with several expressions each is one row and needs one "
                "number: take sum(...) of it, or give it alone for a row per element",
                id=f"vector-value-jacobian-{k}",
            )
            for k, exprs in enumerate([("softmax(x)", "x[0]"), ("x[0]", "softmax(x)")])
        ],
    ],
)
def test_shape_errors_are_one_line_and_exit_2(run, args, message) -> None:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output and result.output.count("\n") == 1, result.output


def test_a_cancelled_variable_keeps_its_shape() -> None:
    # numpy: sum(x - x + 1) is the number of elements of x, and dot(x, x - x) is 0; sympy cancels x - x to 0.
    points = np.array([[1.0, 5.0], [2.0, -1.0], [3.0, 0.5]])
    assert bind(parse_expression("sum(x - x + 1)"), {"x": (3,)}, {}).function(points).tolist() == [3.0, 3.0]
    assert bind(parse_expression("dot(x, x - x)"), {"x": (3,)}, {}).function(points).tolist() == [0.0, 0.0]
    # step(0) is 0.5: 1 + 2 + 3, and 5 + 0.5 + 0.5.
    assert bind(parse_expression("sum(max(x, step(0)))"), {"x": (3,)}, {}).function(points).tolist() == [6.0, 6.0]


def test_element_limit_is_checked_before_any_work() -> None:
    from numdiff_cli.arrays import MAX_COORDINATES, MAX_ELEMENTS
    from numdiff_cli.errors import PointError

    # (A point's text is bounded first: on the command line 100,000 characters cannot hold more elements.)
    with pytest.raises(PointError, match=f"W has 120000 elements; the limit is {MAX_ELEMENTS}"):
        bind(parse_expression("sum(W @ x)"), {"W": (400, 300), "x": (300,)}, {})
    with pytest.raises(PointError, match=f"the variables have 10100 elements together; the limit is {MAX_COORDINATES}"):
        bind(parse_expression("sum(W @ x)"), {"W": (100, 100), "x": (100,)}, {})
    # Held fixed, W may be larger: only x is differentiated.
    fixed = bind(parse_expression("sum(W @ x)"), {"x": (300,)}, {"W": np.ones((300, 300))})
    assert len(fixed.names) == 300


def test_matrices_are_bounded(run) -> None:  # type: ignore[no-untyped-def]
    many = ",".join(["1"] * 1001)
    result = run("hessian", "sum(x**2)", "--at", many)
    assert result.exit_code == 2 and "hessian works on at most 1000 variables; this has 1001" in result.output
    result = run("jacobian", "softmax(x)", "--at", many)
    assert result.exit_code == 2 and "jacobian works on at most 1000 variables and rows" in result.output


def test_compare_refuses_arrays_too_large_to_write_out(run) -> None:  # type: ignore[no-untyped-def]
    result = run("compare", "sum(x**2)", "--wrt", "x[0]", "--at", ",".join(["1"] * 1001))
    assert result.exit_code == 2 and "more than 1000" in result.output


def test_installed_command_gradient_of_a_vector() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "numdiff_cli", "grad", "sum(x**2)", "--at", "3,4", "--method", "central", "--h", "1e-4"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout == "6.00000000000378 7.999999999999119\n"


def test_fixed_values_in_every_command(run) -> None:  # type: ignore[no-untyped-def]
    # d/dx1 sum(x*t) = t[1] = 2; d/dz of sum(x*z**2) = 2*x*z (Hessian diag(2x)); softmax(x*z) by x: z_i s_i - s_i (z.s).
    result = run("diff", "sum(x*t)", "--let", "t=[1,2]", "--wrt", "x[1]", "--at", "3,4")
    assert result.exit_code == 0 and float(result.output) == pytest.approx(2.0, rel=1e-13)
    result = run("hessian", "sum(x*z**2)", "--let", "x=[1,2]", "--at", "z=[1,1]")
    assert result.exit_code == 0 and result.output == "2.0 0.0; 0.0 4.0\n"
    result = run("jacobian", "softmax(x*z)", "--let", "z=[1,2]", "--at", "1", "--format", "json")
    s = _softmax(np.array([1.0, 2.0]))
    expected = s * np.array([1.0, 2.0]) - s * (s @ np.array([1.0, 2.0]))
    np.testing.assert_allclose(np.ravel(json_lines(result.output)[0]["jacobian"]), expected, rtol=1e-10)
    result = run(
        "compare", "--wrt", "W[0,1]", "--let", "x=[0.6,0.9],t=[0,0,1]", "--at", "W=[[0.4,0.9,0.8],[0.8,0.03,0.6]]",
        "--format", "json", "--", "-sum(t*log(softmax(x @ W)))",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    W = np.array([[0.4, 0.9, 0.8], [0.8, 0.03, 0.6]])
    closed_form = np.outer([0.6, 0.9], _softmax(np.array([0.6, 0.9]) @ W) - [0, 0, 1])
    assert json_lines(result.output)[0]["analytic"] == pytest.approx(closed_form[0, 1], rel=1e-14)


def test_cached_code_gives_the_same_gradient(run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The second run reads the compiled code from the per-user cache (no sympy) and checks the shapes on it."""
    monkeypatch.delenv("NUMDIFF_NO_CACHE", raising=False)
    args = ("grad", "sum(x[1:] * W @ x[:2])", "--at", "x=[1,2,3],W=[[1,2],[3,4]]", "--method", "central")
    first, second = run(*args), run(*args)
    assert first.exit_code == 0 and first.output == second.output
    result = run("grad", "sum(x[1:] * W @ x[:2])", "--at", "x=[1,2,3,4],W=[[1,2],[3,4]]")
    # * and @ bind equally, left to right, as in Python: (x[1:] * W) @ x[:2].
    assert result.exit_code == 2 and "shapes (2,2) and (3,) do not broadcast in 'W * x[1:]'" in result.output


def test_gradient_by_some_rows_is_those_rows_of_the_whole_gradient() -> None:
    """engine.gradient(rows=...) differentiates by some variables only; the others are held, bit for bit the same."""
    from numdiff_cli import engine

    function = bind(parse_expression("sum(exp(sin(x[:-1]) * x[1:]))"), {"x": (5,)}, {}).function
    points = np.random.default_rng(2).uniform(-1, 1, (5, 3))
    whole = engine.gradient(function, points)
    some = engine.gradient(function, points, rows=[3, 1])
    assert np.array_equal(some.value, whole.value[[3, 1]])
    assert np.array_equal(some.error, whole.error[[3, 1]])


def test_field_of_a_vector_expression(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The lesson's picture: -grad of sum(x**2) over the plane of x[0], x[1] (gradient 2x at the grid's corner)."""
    result = run("grad", "sum(x**2)", "--field", "--format", "json")
    assert result.exit_code == 0
    first = json_lines(result.output)[0]
    assert first["at"] == {"x[0]": -2.0, "x[1]": -2.0}
    np.testing.assert_allclose(first["gradient"], [-4.0, -4.0], rtol=1e-12)
    pytest.importorskip("matplotlib")
    result = run("grad", "sum(x**2)", "--field", "--plot", str(tmp_path / "field.png"))
    assert result.exit_code == 0 and (tmp_path / "field.png").read_bytes()[:4] == b"\x89PNG"


def test_jacobian_of_several_expressions_with_array_values(run) -> None:  # type: ignore[no-untyped-def]
    # Rows: d sum(x**2) = 2x, d prod(x) = (x1, x0); with a fixed t: d sum(x*t) = t, d x[0]*y = (y, 0, x0).
    result = run("jacobian", "sum(x**2)", "prod(x)", "--at", "1,2")
    assert result.exit_code == 0 and result.output == "2.0 4.0; 2.0 1.0\n"
    result = run("jacobian", "sum(x*t)", "x[0]*y", "--let", "t=[1,2]", "--at", "x=[1,2],y=3")
    assert result.exit_code == 0 and result.output == "1.0 2.0 0.0; 3.0 0.0 1.0\n"


def test_a_tie_of_max_is_flagged_as_a_kink(run) -> None:  # type: ignore[no-untyped-def]
    # max(x) at x = (1, 1): the slope by x[0] is 0 on the left and 1 on the right; central gives their mean.
    result = run("diff", "max(x)", "--wrt", "x[0]", "--at", "1,1")
    assert result.exit_code == 3 and "kink" in result.stderr and float(result.stdout) == pytest.approx(0.5)
    result = run("diff", "max(x)", "--wrt", "x[0]", "--at", "2,1")
    assert result.exit_code == 0 and float(result.stdout) == pytest.approx(1.0, rel=1e-12)


def test_a_warning_about_a_large_array_names_a_few_values_and_their_count(run) -> None:  # type: ignore[no-untyped-def]
    # A warning is one readable line, however large the point: the first values and how many there are (a 784x10
    # weight matrix once gave a line of hundreds of KB). stdout still carries every value of the row.
    values = [float(i + 1) for i in range(400)]
    values[-1] = -1.0  # log of a negative number: every component of the gradient is flagged
    result = run("grad", "sum(log(x))", "--at", "x=" + json.dumps(values))
    assert result.exit_code == 3
    [warning] = result.stderr.splitlines()
    assert warning.startswith("Warning: sum(log(x)) at x[0]=1.0,x[1]=2.0,")
    assert "(400 values), method auto" in warning and "... (400 values)])" in warning
    assert len(warning) < 400
    assert len(result.stdout.split()) == 400


# Every command that reads a point takes the array values its help promises (x=[3,4], 3,4 for the only variable,
# a line of standard input): d/dx sum(x**2) = 2x, the Hessian 2I, and the tangent plane at (1, 2) is
# z = 5 + 2(x0 - 1) + 4(x1 - 2); the Jacobian of x * sum(x) is sum(x) I + x 1^T. Gradient descent with lr 0.25
# halves x at every step: x_k = (1, 2) / 2**k.
@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        pytest.param(("grad", "sum(x**2)", "--at", "x=[1,2]"), None, "2.0 4.0\n", id="grad"),
        pytest.param(("diff", "sum(x**2)", "--wrt", "x[1]", "--at", "x=[1,2]"), None, "4.0\n", id="diff"),
        pytest.param(("hessian", "sum(x**2)", "--at", "x=[1,2]"), None, "2.0 0.0; 0.0 2.0\n", id="hessian"),
        pytest.param(("jacobian", "x * sum(x)", "--at", "x=[1,2]"), None, "4.0 1.0; 2.0 5.0\n", id="jacobian"),
        pytest.param(
            ("tangent", "sum(x**2)", "--at", "x=[1,2]"), None, "z = 5.0 + 2.0*(x[0] - 1.0) + 4.0*(x[1] - 2.0)\n",
            id="tangent-by-name",
        ),
        pytest.param(
            ("tangent", "sum(x**2)", "--at", "1,2"), None, "z = 5.0 + 2.0*(x[0] - 1.0) + 4.0*(x[1] - 2.0)\n",
            id="tangent-positional",
        ),
        pytest.param(
            ("tangent", "sum(x**2)", "--at", "-"), "1 2\n3 4\n",
            "z = 5.0 + 2.0*(x[0] - 1.0) + 4.0*(x[1] - 2.0)\nz = 25.0 + 6.0*(x[0] - 3.0) + 8.0*(x[1] - 4.0)\n",
            id="tangent-stdin",
        ),
        pytest.param(
            ("descend", "sum(x**2)", "--from", "x=[1,2]", "--lr", "0.25", "--steps", "3", "--gtol", "0"), None,
            "0.125 0.25\n", id="descend-by-name",
        ),
        pytest.param(
            ("descend", "sum(x**2)", "--from", "1,2", "--lr", "0.25", "--steps", "3", "--gtol", "0"), None,
            "0.125 0.25\n", id="descend-positional",
        ),
    ],
)  # fmt: skip
def test_every_command_that_reads_a_point_takes_array_values(run, args, stdin, expected) -> None:  # type: ignore[no-untyped-def]
    result = run(*args, input=stdin)
    assert result.exit_code == 0, result.output
    assert result.stdout == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("descend", "x**2 + y**2", "--from", "1"), "--from '1': expected 2 values", id="count"),
        pytest.param(("descend", "sum(x**2)", "--from", "x=[1,2"), "--from 'x=[1,2': cannot read", id="list"),
        pytest.param(("descend", "sum(x**2)", "--from", "-"), "--from '-': cannot read", id="stdin"),
    ],
)
def test_a_starting_point_that_cannot_be_read_is_named_by_its_option(run, args, message) -> None:  # type: ignore[no-untyped-def]
    result = run(*args, input="1 2\n")
    assert result.exit_code == 2 and result.stderr.startswith(f"Error: {message}") and "--at" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
