"""functions.py: the one table of the expression language, and everything that reads it agrees with it."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

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


@pytest.mark.parametrize("name", FUNCTIONS)
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
