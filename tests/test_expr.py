"""expr.py: user text -> validated sympy expression; accept and reject tables."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from numdiff_cli.builder import natural_key
from numdiff_cli.errors import ExpressionError
from numdiff_cli.expr import evaluate_constant, parse_expression

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("x**2 + 3*x + 5", x**2 + 3 * x + 5, id="polynomial"),
        pytest.param("x^3", x**3, id="caret-is-power"),
        pytest.param("-x + +y", -x + y, id="unary"),
        pytest.param("sin(x)*cos(y)", sp.sin(x) * sp.cos(y), id="trig"),
        pytest.param("ln(x) - log(x)", sp.Integer(0), id="ln-is-log"),
        pytest.param("log(x, 2)", sp.log(x) / sp.log(2), id="log-base"),
        pytest.param("log10(x)", sp.log(x) / sp.log(10), id="log10"),
        pytest.param("log2(x)", sp.log(x) / sp.log(2), id="log2"),
        pytest.param("sigmoid(x)", 1 / (1 + sp.exp(-x)), id="sigmoid"),
        pytest.param("relu(x)", sp.Max(0, x), id="relu"),
        pytest.param("step(x)", sp.Heaviside(x), id="step"),
        pytest.param("abs(x) + sign(x)", sp.Abs(x) + sp.sign(x), id="abs-sign"),
        pytest.param("e**x + E", sp.exp(x) + sp.E, id="e-constant"),
        pytest.param("pi*x", sp.pi * x, id="pi"),
        pytest.param("1e-4*x", sp.Float(1e-4) * x, id="exponent-literal"),
        pytest.param("2**10", sp.Integer(1024), id="small-exact-power"),
        pytest.param("asin(x)+acos(x)+atan(x)", sp.asin(x) + sp.acos(x) + sp.atan(x), id="inverse-trig"),
        pytest.param("sinh(x)+cosh(x)+tanh(x)", sp.sinh(x) + sp.cosh(x) + sp.tanh(x), id="hyperbolic"),
        pytest.param("sqrt(x)", sp.sqrt(x), id="sqrt"),
    ],
)
def test_accepts(text: str, expected: sp.Expr) -> None:
    assert sp.simplify(parse_expression(text).tree - expected) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("x**", "expression ends after '**' (column 4)", id="dangling-power"),
        pytest.param("x +", "expression ends after '+' (column 4)", id="dangling-plus"),
        pytest.param("2x", "implicit multiplication '2x' is not supported; write '2*x' (column 1)", id="2x"),
        pytest.param("1 + 3xy", "write '3*xy' (column 5)", id="3xy"),
        pytest.param("2(x+1)", "write '*' before '('", id="number-paren"),
        pytest.param("(x+1)(x-1)", "write '*' before '('", id="paren-paren"),
        pytest.param("(x+1", "'(' is never closed (column 1)", id="unclosed"),
        pytest.param("x+1)", "unmatched ')' (column 4)", id="unmatched"),
        pytest.param("x y", "missing operator before 'y' (column 3)", id="missing-operator"),
        pytest.param("foo(x)", "unknown function 'foo'", id="unknown-function"),
        pytest.param("sin", "'sin' is a function; write sin(...)", id="bare-function"),
        pytest.param("sin(x, y)", "sin() takes 1 argument, got 2", id="arity"),
        pytest.param("log(x, 2, 3)", "log() takes 1 or 2 arguments, got 3", id="log-arity"),
        pytest.param("sin(x=1)", "keyword arguments are not allowed", id="keyword"),
        pytest.param("x.real", "attribute access is not allowed", id="attribute"),
        pytest.param("__import__('os')", "unknown function '__import__' (column 1)", id="dunder-call"),
        pytest.param("__import__('os').system('id')", "only the built-in functions can be called", id="method-call"),
        pytest.param("_x + 1", "names starting with '_' are not allowed", id="underscore"),
        pytest.param("'a'", "strings are not allowed", id="string"),
        pytest.param("x < 1", "comparisons are not allowed", id="compare"),
        pytest.param("x if x else 1", "conditional expressions are not allowed", id="ifexp"),
        pytest.param("lambda: 1", "lambda is not allowed", id="lambda"),
        pytest.param("[x for x in y]", "comprehensions are not allowed", id="comprehension"),
        pytest.param("x % 2", "operator '%' is not supported", id="modulo"),
        pytest.param("x // 2", "operator '//' is not supported", id="floordiv"),
        pytest.param("1j*x", "complex numbers are not supported", id="complex-literal"),
        pytest.param("0x1F", "hexadecimal, octal and binary numbers are not supported", id="hex"),
        pytest.param("1e999*x", "number is too large for double precision", id="overflow-literal"),
        pytest.param("9**9**9**9", "the power is too large to compute", id="power-tower"),
        pytest.param("x[-1]", "indices must be non-negative whole numbers", id="negative-index"),
        pytest.param("x[0] + x[0,1]", "indexed with different numbers of indices", id="rank-mismatch"),
        pytest.param(
            "x\u22121", "character '\u2212' (U+2212) is not allowed; write '-' (column 2)", id="unicode-minus"
        ),
        pytest.param("x\x00", "control character U+0000 is not allowed (column 2)", id="nul"),
        pytest.param("   ", "the expression is empty", id="empty"),
        pytest.param("nan*x", "'nan' is reserved", id="reserved-name"),
        pytest.param("x, y", "tuples (a bare comma) are not allowed", id="tuple"),
    ],
)
def test_rejects_with_one_line_message(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    text_of_error = str(info.value)
    assert message in text_of_error
    assert "\n" not in text_of_error
    assert text_of_error.startswith("invalid expression")


def test_too_long_is_rejected_before_parsing() -> None:
    with pytest.raises(ExpressionError, match="too long"):
        parse_expression("x+" * 6000 + "x")


def test_deep_nesting_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="nested deeper"):
        parse_expression("(" * 500 + "x" + ")" * 500)


def test_variable_order_indexed_first_then_natural() -> None:
    expression = parse_expression("x10 + x2 + b[1] + a + b[0]")
    assert expression.names == ("b[0]", "b[1]", "a", "x2", "x10")


def test_matrix_variable_fills_its_shape() -> None:
    expression = parse_expression("W[0,1]*W[1,0]")
    assert expression.shapes == {"W": (2, 2)}
    assert expression.names == ("W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]")


def test_natural_key() -> None:
    assert sorted(["x10", "x2", "x1"], key=natural_key) == ["x1", "x2", "x10"]


def test_analytic_flag() -> None:
    assert parse_expression("exp(x)*sin(x)").analytic
    for text in ("abs(x)", "sign(x)", "step(x)", "relu(x)"):
        assert not parse_expression(text).analytic, text


def test_float_literals_reach_numpy_bit_for_bit() -> None:
    # sympy prints Floats with 15 digits; 0.1 + 2**-52 would silently become 0.1 without our printer.
    literal = repr(0.1 + 2**-52)
    expression = parse_expression(f"{literal}*x")
    assert expression.function(np.array([[1.0]]))[0] == 0.1 + 2**-52


def test_function_is_vectorized_over_any_batch_shape() -> None:
    expression = parse_expression("x*y")
    points = np.arange(12.0).reshape(2, 3, 2)
    assert np.array_equal(expression.function(points), points[0] * points[1])


def test_constant_expression_broadcasts() -> None:
    expression = parse_expression("5").with_variable("x")
    assert np.array_equal(expression.function(np.zeros((1, 4))), np.full(4, 5.0))


def test_cbrt_is_the_real_cube_root() -> None:
    expression = parse_expression("cbrt(x)")
    assert np.allclose(expression.function(np.array([[-8.0, 27.0]])), [-2.0, 3.0])
    assert sp.diff(expression.tree, expression.symbols[0]).subs(expression.symbols[0], -8).evalf() == pytest.approx(
        1 / 12
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("pi/4", math.pi / 4, id="pi-over-4"),
        pytest.param("-1.5e3", -1500.0, id="negative-exponent"),
        pytest.param("sqrt(2)", math.sqrt(2), id="sqrt2"),
        pytest.param("e", math.e, id="e"),
        pytest.param("2^-3", 0.125, id="caret"),
    ],
)
def test_evaluate_constant(text: str, value: float) -> None:
    assert evaluate_constant(text) == value


def test_evaluate_constant_rejects_variables() -> None:
    with pytest.raises(ExpressionError, match="contains the variable 'x'"):
        evaluate_constant("x+1")


def test_with_variable_and_reordered() -> None:
    expression = parse_expression("y**2").with_variable("x")
    assert expression.names == ("x", "y")
    assert expression.reordered(("y", "x")).names == ("y", "x")
    with pytest.raises(ExpressionError, match="missing y"):
        expression.reordered(("x",))
    with pytest.raises(ExpressionError, match="invalid variable name"):
        expression.with_variable("sin")


@pytest.mark.parametrize("text", [" x**2", "   x**2", "\tx**2", " \t x**2  "])
def test_leading_blanks_are_accepted_like_trailing_ones(run, text: str) -> None:
    # Python's parser takes leading blanks for an indentation; the expression language does not.
    result = run("diff", text, "--at", "3", "--method", "central", "--h", "1e-4")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "6.000000000012662"


def test_columns_after_leading_blanks_are_those_of_the_text(run) -> None:
    result = run("diff", "   foo(x)", "--at", "0")
    assert result.exit_code == 2
    assert result.stderr.rstrip().endswith("(column 4)")
