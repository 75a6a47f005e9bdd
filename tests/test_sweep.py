"""compare --sweep and the step-size helpers: the V of error against step, in float64 and float32."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from conftest import json_lines

from numdiff_cli import engine
from numdiff_cli.numerics.sweep import (
    finite_difference,
    nearest_step,
    optimal_step,
    sweep,
    sweep_steps,
    truncation_term,
)


def test_sweep_steps_are_exact_powers_of_ten() -> None:
    assert sweep_steps().tolist() == [float(f"1e-{k}") for k in range(1, 17)]
    assert sweep_steps(1e-2, 1e-4, 5).tolist() == pytest.approx([1e-2, 10**-2.5, 1e-3, 10**-3.5, 1e-4], rel=1e-11)


@pytest.mark.parametrize("kind", ["central", "forward", "backward"])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_float64_sweep_is_the_engine_bit_for_bit(kind: str, order: int) -> None:
    x = np.array([0.3, 1.0, 7.5])
    steps = sweep_steps(1e-1, 1e-6, 6)
    values, _ = sweep(np.sin, x, steps, order=order, kind=kind)
    for k, h in enumerate(steps):
        reference = engine.derivative(np.sin, x, order=order, method=kind, step=float(h)).value
        assert values[k].tolist() == reference.tolist()


def test_float32_is_computed_in_single_precision() -> None:
    # The textbook central difference in float32, written out by hand with numpy float32 scalars.
    x, h = np.float32(1.0), np.float32(1e-2)
    expected = (np.exp(x + h) - np.exp(x - h)) / (np.float32(2) * h)
    estimate = finite_difference(np.exp, [1.0], step=1e-2, dtype="float32")
    assert estimate.value[0] == float(expected)
    assert estimate.value[0] != float(engine.derivative(np.exp, [1.0], method="central", step=1e-2).value[0])


def test_float32_step_vanishes_near_1e_minus_8() -> None:
    estimate = finite_difference(np.exp, [1.0], step=1e-8, dtype="float32")
    assert estimate.status[0] == engine.VANISHING_STEP
    assert estimate.value[0] == 0.0


@pytest.mark.parametrize(
    "order, kind, expected",
    [
        pytest.param(1, "central", (3, 1 / 6), id="central-1"),
        pytest.param(1, "forward", (2, 1 / 2), id="forward-1"),
        pytest.param(1, "backward", (2, -1 / 2), id="backward-1"),
        pytest.param(2, "central", (4, 1 / 12), id="central-2"),
    ],
)
def test_truncation_term_matches_taylor(order: int, kind: str, expected: tuple[int, float]) -> None:
    # Reference: expand the stencil applied to exp(t) (all derivatives 1) symbolically in h.
    h = sp.Symbol("h")
    offsets, numerators, denominator = engine.stencil(order, kind)
    series = sp.series(
        sum(c * sp.exp(o * h) for o, c in zip(offsets, numerators)) / (denominator * h**order) - 1, h, 0, 4
    ).removeO()
    power, coefficient = truncation_term(order, kind)
    assert power == expected[0]
    assert float(coefficient) == pytest.approx(expected[1])
    assert sp.nsimplify(series.coeff(h, power - order)) == sp.Rational(coefficient.numerator, coefficient.denominator)


def test_optimal_step_textbook_values() -> None:
    assert float(optimal_step(1.0)) == pytest.approx((2.0**-52) ** (1 / 3))
    assert float(optimal_step(1.0, dtype="float32")) == pytest.approx((2.0**-23) ** (1 / 3))
    assert float(optimal_step(10.0, kind="forward")) == pytest.approx(10 * 2.0**-26)
    assert nearest_step(sweep_steps(), 6e-6) == 4  # 1e-5


def test_cli_sweep_sin_has_the_v(run) -> None:
    result = run("compare", "sin(x)", "--at", "1", "--method", "central", "--sweep", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json_lines(result.stdout)
    assert [row["h"] for row in rows] == [float(f"1e-{k}") for k in range(1, 17)]
    exact = float(mpmath.cos(1))
    for row in rows:
        assert row["analytic"] == exact
        # abs_error is measured against the 30-digit cos(1); exact is that rounded to float64 (half an ulp off).
        assert row["abs_error"] == pytest.approx(abs(row["numeric"] - exact), abs=math.ulp(exact))
        assert row["rel_error"] == pytest.approx(row["abs_error"] / exact)
        assert row["method"] == "central" and row["dtype"] == "float64"
    errors = [row["abs_error"] for row in rows]
    best = int(np.argmin(errors))
    assert 1e-7 <= rows[best]["h"] <= 1e-3
    assert errors[-1] > 100 * errors[best]
    assert "best" in rows[best]["note"]
    assert sum("best" in row["note"] for row in rows) == 1
    # The theoretical optimum eps**(1/3) ~ 6e-6 is nearest 1e-5 on this grid.
    assert "theoretical optimum" in rows[4]["note"]
    assert "x + h == x" in rows[-1]["note"]


def test_cli_sweep_float32_best_near_1e_minus_2(run) -> None:
    result = run(
        "compare", "exp(x)", "--at", "1", "--method", "central", "--sweep", "--dtype", "float32", "--format", "json"
    )
    assert result.exit_code == 0
    rows = json_lines(result.stdout)
    best = min(rows, key=lambda row: row["abs_error"])
    assert best["h"] == 1e-2
    assert best["dtype"] == "float32"
    # float32 values are exact doubles of float32 numbers.
    assert all(float(np.float32(row["numeric"])) == row["numeric"] for row in rows)


def test_cli_sweep_range_and_plain(run) -> None:
    result = run("compare", "x**3", "--at", "2", "--method", "forward", "--sweep-range", "1e-1:1e-3")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    h, numeric, analytic, error = (float(v) for v in lines[0].split()[:4])
    # forward difference of x**3 at 2: ((2+h)**3 - 8)/h = 12 + 6h + h**2, exactly representable up to rounding.
    assert h == 0.1 and analytic == 12.0
    assert numeric == pytest.approx(12 + 6 * h + h * h, rel=1e-12)
    assert error == pytest.approx(abs(numeric - 12.0))
    assert "# best" in lines[-1]


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(["--method", "all"], "one method", id="all"),
        pytest.param(["--sweep-range", "1:x"], "START:STOP", id="bad-range"),
        pytest.param(["--sweep-range", "-1:1e-3"], "positive", id="negative"),
        pytest.param(["--sweep-range", "1e-1:1e-3:1"], "NUM", id="one-step"),
        pytest.param(["--h", "1e-3"], "leave out --h", id="with-step"),
        pytest.param(["--dtype", "float32", "--method", "complex"], "float32", id="complex-float32"),
    ],
)
def test_cli_sweep_bad_options(run, args: list[str], message: str) -> None:
    result = run("compare", "sin(x)", "--at", "1", "--sweep", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_cli_complex_step_sweep_has_no_rounding_arm(run) -> None:
    result = run("compare", "sin(x)", "--at", "1", "--method", "complex", "--sweep", "--format", "json")
    assert result.exit_code == 0
    rows = json_lines(result.stdout)
    # Im sin(1 + ih)/h = cos(1) sinh(h)/h: error ~ cos(1) h**2/6 that only falls; at tiny h it is exact.
    assert rows[-1]["abs_error"] <= 2 * math.ulp(math.cos(1))
    assert all("theoretical" not in row["note"] for row in rows)


def test_cli_compare_dtype_float32(run) -> None:
    result = run("compare", "exp(x)", "--at", "1", "--method", "central", "--dtype", "float32", "--format", "json")
    assert result.exit_code == 0
    (row,) = json_lines(result.stdout)
    # float32 default step eps32**(1/3): relative error ~ eps32**(2/3) ~ 2.4e-5, far above float64's 1e-10.
    assert 1e-7 < row["rel_error"] < 1e-3


@pytest.mark.parametrize("module", ["numdiff_cli.numerics.sweep", "numdiff_cli.descend"])
def test_docstring_examples(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0


def test_cli_compare_all_methods_in_float32(run) -> None:
    result = run("compare", "exp(x)", "--at", "1", "--method", "all", "--dtype", "float32", "--format", "json")
    assert result.exit_code == 0
    rows = json_lines(result.stdout)
    assert [row["method"] for row in rows] == ["central", "forward", "backward"]
    assert all(row["dtype"] == "float32" for row in rows)
    # One-sided float32 differences at their best step eps32**(1/2) ~ 3e-4: relative error ~ 3e-4.
    central, forward, backward = (row["rel_error"] for row in rows)
    assert central < forward and central < backward
    assert forward < 1e-2 and backward < 1e-2
