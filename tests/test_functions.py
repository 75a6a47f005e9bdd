"""functions.py: the one table of the expression language, and everything that reads it agrees with it."""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp
from conftest import json_lines

from numdiff_cli.analytic import MPMATH_NAMES
from numdiff_cli.codegen import NUMPY_NAMES, check_code, numpy_code
from numdiff_cli.expr import parse_expression
from numdiff_cli.floats import BUILDERS, SYMBOLIC, float_call, float_value
from numdiff_cli.functions import CONSTANTS, FUNCTIONS

README = Path(__file__).resolve().parent.parent / "README.md"
# Where a function has a real domain smaller than the real line, points inside it.
POINTS = [-0.75, -0.25, 0.5, 0.9, 1.5, 3.0]


def readme_table() -> list[str]:
    """The README's table of functions, as the rows of functions.py give it."""
    lines = ["| function | arguments | value |", "| --- | --- | --- |"]
    for row in FUNCTIONS.values():
        lines.append(f"| `{row.name}` | {' or '.join(map(str, row.arities))} | {row.description} |")
    return lines


def expressions_section() -> list[str]:
    return README.read_text().split("\n## Expressions\n", 1)[1].split("\n## ", 1)[0].splitlines()


def test_readme_lists_exactly_the_functions_of_the_table() -> None:
    lines = expressions_section()
    expected = readme_table()
    assert expected[0] in lines, "the README's expression section has no table of functions"
    start = lines.index(expected[0])
    assert lines[start : start + len(expected)] == expected
    assert lines[start + len(expected)] == "", "the README lists a function that functions.py does not have"


def test_readme_lists_exactly_the_constants_of_the_table() -> None:
    rows = {id(row): row for row in CONSTANTS.values()}.values()
    listed = ", ".join(" / ".join(f"`{name}`" for name in row.names) for row in rows)
    assert f"| constants | {listed} |" in expressions_section()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_a_row_is_complete(name: str) -> None:
    row = FUNCTIONS[name]
    assert row.name == name and name.isidentifier() and name.islower()
    assert row.arities and list(row.arities) == sorted(set(row.arities))
    assert row.description and "|" not in row.description and "\n" not in row.description
    assert set(row.numpy) <= set(NUMPY_NAMES) and set(row.mpmath) <= set(MPMATH_NAMES)
    assert all(NUMPY_NAMES[key] is value for key, value in row.numpy.items())


# Array functions (sum, softmax, ...) are checked on arrays in tests/test_vectors.py; of a number they are the number.
SCALAR_FUNCTIONS = [name for name, row in FUNCTIONS.items() if not row.array]


@pytest.mark.parametrize("name", SCALAR_FUNCTIONS)
def test_float_fallback_agrees_with_sympy(name: str) -> None:
    """The double-precision value of a row is its sympy function's value (to rounding), where it is real."""
    row = FUNCTIONS[name]
    for point in POINTS:
        args = [point, 3.0][: row.arities[0]]
        exact = complex(BUILDERS[name](*[sp.Float(arg) for arg in args]).evalf(30))
        if exact.imag != 0:
            continue
        assert float_call(name, args) == pytest.approx(exact.real, rel=1e-14, abs=1e-300)
        assert row.floats(*args) == pytest.approx(exact.real, rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_analytic_flag_is_what_the_parser_reports(name: str) -> None:
    expression = parse_expression(f"{name}(x)" if 1 in FUNCTIONS[name].arities else f"{name}(x, 3)")
    assert expression.analytic is FUNCTIONS[name].analytic


def called_names(code: str) -> set[str]:
    return {
        node.func.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call) and hasattr(node.func, "id")
    }


@pytest.mark.parametrize("name", FUNCTIONS)
def test_numpy_code_calls_only_the_names_of_its_row(name: str) -> None:
    expression = parse_expression(f"{name}(x)" if 1 in FUNCTIONS[name].arities else f"{name}(x, 3)")
    code = numpy_code(expression.tree, expression.symbols)
    check_code(code, 1, NUMPY_NAMES)  # whitelisted, so it is compiled and cached (not left to sympy's lambdify)
    assert called_names(code) <= set(FUNCTIONS[name].numpy)


@pytest.mark.parametrize("name", CONSTANTS)
def test_constants(name: str) -> None:
    row = CONSTANTS[name]
    value = row.sympy(SYMBOLIC)
    assert float_value(value, {}) == row.value == float(value)
    assert [NUMPY_NAMES[key] for key in row.numpy] == list(row.numpy.values())
    assert parse_expression(name).function(np.zeros((0,))) == row.value
    assert math.isfinite(row.value)


# The functions of issue 11's peers: (expression, point, value, derivative), the references in mpmath at 50 digits.
NEW = [
    pytest.param("asinh(x)", 0.5, mpmath.asinh, lambda x: 1 / mpmath.sqrt(1 + x**2), id="asinh-at-0.5"),
    pytest.param("asinh(x)", -30.0, mpmath.asinh, lambda x: 1 / mpmath.sqrt(1 + x**2), id="asinh-at-minus-30"),
    pytest.param("acosh(x)", 1.5, mpmath.acosh, lambda x: 1 / mpmath.sqrt(x**2 - 1), id="acosh-at-1.5"),
    pytest.param("acosh(x)", 1e5, mpmath.acosh, lambda x: 1 / mpmath.sqrt(x**2 - 1), id="acosh-at-1e5"),
    pytest.param("atanh(x)", 0.5, mpmath.atanh, lambda x: 1 / (1 - x**2), id="atanh-at-0.5"),
    pytest.param("atanh(x)", -0.9, mpmath.atanh, lambda x: 1 / (1 - x**2), id="atanh-at-minus-0.9"),
    pytest.param("expm1(x)", 1e-10, mpmath.expm1, mpmath.exp, id="expm1-at-1e-10"),
    pytest.param("expm1(x)", -2.0, mpmath.expm1, mpmath.exp, id="expm1-at-minus-2"),
    pytest.param("log1p(x)", 1e-10, mpmath.log1p, lambda x: 1 / (1 + x), id="log1p-at-1e-10"),
    pytest.param("log1p(x)", 3.0, mpmath.log1p, lambda x: 1 / (1 + x), id="log1p-at-3"),
    pytest.param("hypot(x, 3)", 0.5, lambda x: mpmath.hypot(x, 3), lambda x: x / mpmath.hypot(x, 3), id="hypot-0.5"),
    pytest.param("hypot(x, 3)", -4.0, lambda x: mpmath.hypot(x, 3), lambda x: x / mpmath.hypot(x, 3), id="hypot--4"),
    pytest.param("hypot(3, x)", 2.0, lambda x: mpmath.hypot(3, x), lambda x: x / mpmath.hypot(3, x), id="hypot-3-x"),
    pytest.param("pow(x, 2.5)", 0.5, lambda x: x**2.5, lambda x: 2.5 * x**1.5, id="pow-x-2.5"),
    pytest.param("pow(2, x)", 0.5, lambda x: 2**x, lambda x: 2**x * mpmath.log(2), id="pow-2-x"),
    pytest.param("pow(x, x)", 1.5, lambda x: x**x, lambda x: x**x * (mpmath.log(x) + 1), id="pow-x-x"),
]
# Correctly rounded references and numdiff's double-precision results differ by the rounding of f's evaluation:
# a few units in the last place (numpy's functions are accurate to about 1 ulp; the complex step adds none).
ULPS = 8 * 2.0**-52


def _close(value: float, exact: mpmath.mpf) -> bool:
    return abs(mpmath.mpf(value) - exact) <= ULPS * abs(exact)


@pytest.mark.parametrize(("text", "x", "f", "slope"), NEW)
def test_new_function_value_and_analytic_derivative(run, text, x, f, slope) -> None:  # type: ignore[no-untyped-def]
    """The value (tangent) and the analytic derivative (compare) against mpmath."""
    with mpmath.workdps(50):
        value, derivative = f(mpmath.mpf(x)), slope(mpmath.mpf(x))
        tangent = run("tangent", text, "--at", repr(x), "--format", "json")
        assert tangent.exit_code == 0, tangent.output
        assert _close(json_lines(tangent.stdout)[0]["value"], value)
        compare = run("compare", text, "--at", repr(x), "--format", "json")
        assert compare.exit_code == 0, compare.output
        row = json_lines(compare.stdout)[0]
        assert _close(row["analytic"], derivative), row
        # the numerical derivative keeps numdiff auto's promise of 1e-10 (relative)
        assert abs(mpmath.mpf(row["numeric"]) - derivative) <= 1e-10 * abs(derivative), row


@pytest.mark.parametrize(("text", "x", "f", "slope"), NEW)
def test_new_function_complex_step(run, text, x, f, slope) -> None:  # type: ignore[no-untyped-def]
    """Every new function is analytic: the complex step gives its derivative to a few ulps."""
    assert parse_expression(text).analytic
    result = run("diff", text, "--at", repr(x), "--method", "complex", "--format", "json")
    assert result.exit_code == 0, result.output
    with mpmath.workdps(50):
        assert _close(json_lines(result.stdout)[0]["derivative"], slope(mpmath.mpf(x)))


def test_new_functions_through_the_installed_command() -> None:
    """The console script, as a user runs it: compare's analytic and numerical derivatives of asinh at 0.5."""
    command = [sys.executable, "-m", "numdiff_cli", "compare", "asinh(x)", "--at", "0.5", "--format", "json"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    with mpmath.workdps(50):
        exact = 1 / mpmath.sqrt(1 + mpmath.mpf(0.5) ** 2)
        assert _close(row["analytic"], exact)
        assert abs(mpmath.mpf(row["numeric"]) - exact) <= 1e-10 * exact


def test_hypot_complex_step_does_not_overflow(run) -> None:  # type: ignore[no-untyped-def]
    """hypot's complex continuation is scaled: at 1.5e200 its square would overflow, its derivative is 1e200."""
    result = run("diff", "hypot(1e200*x, 3)", "--at", "1.5", "--method", "complex", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json_lines(result.stdout)[0]["derivative"] == pytest.approx(1e200, rel=1e-15)


def test_hypot_does_not_overflow() -> None:
    """hypot is numpy's hypot on real numbers: no overflow where sqrt(x**2 + y**2) would overflow."""
    function = parse_expression("hypot(x, 3)").function
    assert function(np.array([[1e300]]))[0] == 1e300
    assert parse_expression("hypot(1e300, 1e300)").function(np.zeros((1, 0))) == pytest.approx(math.sqrt(2) * 1e300)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("pow(2, 10)", 1024.0, id="pow"),
        pytest.param("pow(9, pow(9, 9))", math.inf, id="pow-overflow"),
        pytest.param("pow(-8, 1/3)", math.nan, id="pow-negative-base"),
        pytest.param("atanh(1)", math.inf, id="atanh-at-1"),
        pytest.param("log1p(-1)", -math.inf, id="log1p-at-minus-1"),
        pytest.param("acosh(0.5)", math.nan, id="acosh-outside"),
        pytest.param("expm1(1000)", math.inf, id="expm1-overflow"),
        pytest.param("hypot(3, 4)", 5.0, id="hypot"),
    ],
)
def test_new_functions_of_constants(text: str, value: float) -> None:
    """Constant arguments are computed in floats (never exactly by sympy: pow(9, pow(9, 9)) would not finish)."""
    result = float(parse_expression(f"{text} + 0*x").function(np.array([[1.0]]))[0])
    assert result == value or (math.isnan(value) and math.isnan(result))


if __name__ == "__main__":
    # python tests/test_functions.py --update: rewrite the README's table of functions from functions.py.
    import sys

    if sys.argv[1:] != ["--update"]:
        raise SystemExit("usage: python tests/test_functions.py --update")
    text = README.read_text()
    lines = text.split("\n")
    header = readme_table()[0]
    start = lines.index(header)
    end = lines.index("", start)
    README.write_text("\n".join([*lines[:start], *readme_table(), *lines[end:]]))
