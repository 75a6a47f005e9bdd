"""The complex step's value on the components of an analytic gradient that the fast pass vouches for.

The fast pass's smallest steps carry the rounding of f: 13 to 15 digits on the gradient benchmark's functions (a
median of 14.2 at n = 10 where scipy's had 14.4). Where f is analytic, one complex evaluation per component gives
the complex step's value, 16 digits where f rounds like its value; it is taken where it agrees with the fast
pass's within that pass's error, which stays the component's error. Where the derivative's terms cancel (``z /
sin(z)`` near 0) the complex step carries their rounding, and where f is not analytic along the line it is not the
derivative at all: either disagrees, or agrees within the error that then still bounds it. References: sympy's
derivative in mpmath at 50 digits, at the exact double point.
"""

from __future__ import annotations

import json
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from numdiff_cli import engine
from numdiff_cli.bound import bind
from numdiff_cli.expr import parse_expression
from numdiff_cli.numerics.fast import fast_pass

mpmath.mp.dps = 50


def _exact(text: str, names: list[str], point: list[float]) -> list[mpmath.mpf]:
    symbols = sp.symbols(names)
    expression = sp.sympify(text, locals=dict(zip(names, symbols)))
    at = {s: mpmath.mpf(v) for s, v in zip(symbols, point)}
    return [mpmath.mpf(sp.diff(expression, s).evalf(50, subs=at)) for s in symbols]


def _digits(value: float, exact: mpmath.mpf) -> float:
    error = abs(mpmath.mpf(value) - exact)
    return 17.0 if error == 0 else min(17.0, float(-mpmath.log10(error / abs(exact))))


SUM_PROD = "sum(x**2) + prod(cos(x))"
CYCLIC = "(sum(exp(sin(x[:-1]) * x[1:])) + exp(sin(x[-1]) * x[0])) / 10 + log1p(sum(x**2))"


def _array_exact(text: str, point: np.ndarray) -> list[mpmath.mpf]:
    names = [f"x{i}" for i in range(point.size)]
    x = sp.symbols(names)
    n = point.size
    if text == SUM_PROD:
        expression = sum(v**2 for v in x) + sp.Mul(*[sp.cos(v) for v in x])
    else:
        terms = [sp.exp(sp.sin(x[i]) * x[(i + 1) % n]) for i in range(n)]
        expression = sp.Add(*terms) / n + sp.log(1 + sum(v**2 for v in x))
    at = {s: mpmath.mpf(float(v)) for s, v in zip(x, point)}
    return [mpmath.mpf(sp.diff(expression, s).evalf(50, subs=at)) for s in x]


@pytest.mark.parametrize("text", [SUM_PROD, CYCLIC], ids=["sum-prod", "cyclic"])
def test_the_benchmark_functions_get_the_complex_steps_digits_through_the_command(run, text: str) -> None:
    # Five random points of gradient.md's functions at n = 10: median 14.1 and 13.4 digits, worst 12.0 and 11.2, before.
    digits = []
    rng = np.random.default_rng(7)
    for _ in range(5):
        point = rng.uniform(-1, 1, 10)
        at = "x=[" + ",".join(repr(float(v)) for v in point) + "]"
        result = run("grad", text, "--at", at, "--format", "json")
        assert result.exit_code == 0, result.output
        row = json.loads(result.stdout)
        for value, error, exact in zip(row["gradient"], row["error"], _array_exact(text, point)):
            assert abs(mpmath.mpf(value) - exact) <= error, (value, error, exact)
            digits.append(_digits(value, exact))
    assert np.median(digits) >= 15.5 and min(digits) >= 13.5, sorted(digits)[:5]


# Where the terms of the derivative cancel and f's do not, the complex step carries the rounding of the terms: z /
# sin(z) near 0 has the derivative z/3 from terms of 1/z. The complex step's value is then worse than the fast
# pass's; it must not be taken with the fast pass's error unless that error still covers it.
CANCELLING = [
    "z/sin(z) + x",
    "(exp(z) - 1)/z + x*z",
    "log(1 + z)/z + x",
    "(1 - cos(z))/z**2 + x**2",
    "sin(z)/z + exp(x)",
    "(2*x / 2*z) * exp(-(2*x)**2) / sin(z)",
    "sin(x*z) + sin(-0.999999*x*z) + 5",
    # Vouched for by the floor of f only (the constant's rounding): the complex value may be anywhere within it.
    "1e12 + (1 - cos(z/1000))/(z/1000)**2 + x",
]


@pytest.mark.parametrize("text", CANCELLING)
def test_where_the_complex_step_carries_rounding_the_error_still_bounds_the_value(text: str) -> None:
    expression = parse_expression(text)
    for z in np.geomspace(0.5, 1e-5, 12):
        point = [0.37, float(z)]
        kwargs = {"check_kink": not expression.smooth}
        analytic = engine.gradient(expression.function, np.array(point)[:, None], analytic=True, **kwargs)
        real = engine.gradient(expression.function, np.array(point)[:, None], **kwargs)
        for i, exact in enumerate(_exact(text, ["x", "z"], point)):
            if int(analytic.status[i, 0]) != engine.OK:
                continue
            value, error = float(analytic.value[i, 0]), float(analytic.error[i, 0])
            where = f"{text} at z={z}, component {i}: {value} +- {error} for {mpmath.nstr(exact, 17)}"
            true_error = float(abs(mpmath.mpf(value) - exact))
            # Every component called OK: within a factor 10 of its error (the house's bound; the components the
            # fast pass leaves get the complex step checked by central differences, as before).
            assert true_error <= 10 * error, where
            if int(real.status[i, 0]) == engine.OK and float(real.error[i, 0]) == error:
                # The fast pass settled it either way: the value moved by at most its error, and stays within
                # twice it of the truth.
                assert abs(value - float(real.value[i, 0])) <= error, where
                assert true_error <= 2 * error, where


def test_a_callable_whose_complex_values_are_not_its_derivative_keeps_the_fast_passs_value() -> None:
    # x * conj(x) + x is x**2 + x on the real line, but Im f(x + ih) is h: the complex step says 1 for a slope of
    # 2x + 1. Told (wrongly) that f is analytic, the gradient must not take it.
    def f(v: np.ndarray) -> np.ndarray:
        return v[0] * np.conj(v[0]) + v[0] + np.sin(v[1])

    point = np.array([[1.3], [0.4]])
    told = engine.gradient(f, point, analytic=True)
    plain = engine.gradient(f, point)
    assert float(told.value[0, 0]) == float(plain.value[0, 0]) == pytest.approx(3.6, rel=1e-12)
    assert float(told.value[1, 0]) == pytest.approx(np.cos(0.4), rel=1e-15)


@pytest.mark.parametrize("slope", [1e-80, 1e-118, 1e-200])
def test_a_component_below_the_rounding_of_f_takes_the_complex_step_unless_it_underflows(slope: float) -> None:
    # Next to f = 2, a slope of 1e-80 is below what real steps can see: 0 +- 1.7e-15, vouched for by the floor of f.
    # The complex step sees it (Im f = 5e-281) and agrees within that error: its value is the slope's. At 1e-118
    # and 1e-200, Im f is subnormal or 0 (h = 1e-200): it has lost its bits, and the fast pass's value stays.
    expression = parse_expression(f"{slope!r}*x + y")
    point = np.array([[0.5], [2.0]])
    told = engine.gradient(expression.function, point, analytic=True)
    plain = engine.gradient(expression.function, point)
    assert told.error[0, 0] == plain.error[0, 0] and told.status[0, 0] == engine.OK
    if slope * 1e-200 >= 1e-290:
        assert float(told.value[0, 0]) == pytest.approx(slope, rel=1e-15, abs=0)
    else:
        assert float(told.value[0, 0]) == float(plain.value[0, 0])
    assert float(told.value[1, 0]) == 1.0


def test_the_evaluations_count_the_complex_value() -> None:
    # Every component settled by the fast pass (11 evaluations) and one complex evaluation more where f is analytic.
    expression = parse_expression("sin(x) * exp(y)")
    point = np.array([[0.3], [0.2]])
    assert engine.gradient(expression.function, point).nfev == 11
    assert engine.gradient(expression.function, point, analytic=True).nfev == 12


def test_where_the_complex_value_is_not_taken_the_fast_pass_keeps_its_quieter_entry() -> None:
    # The fast pass's search for the entry of its tableau that carries less rounding (0.3 to 1 digit more on a small
    # component of a large sum) waits, for an analytic f, for the complex step's value, and is made where that is
    # not taken. Im of v * conj(v) is 0: told (wrongly) that f is analytic, every component's complex value is off by
    # 2 x_i, none is taken, and every value must be the one the gradient gives f not told so, bit for bit.
    def f(v: np.ndarray) -> np.ndarray:
        return np.sum(v * np.conj(v), axis=0) + np.prod(np.cos(v), axis=0)

    point = np.random.default_rng(3).uniform(-1, 1, (100, 1))
    told = engine.gradient(f, point, analytic=True)
    plain = engine.gradient(f, point)
    assert np.array_equal(told.value, plain.value)
    assert np.array_equal(told.error, plain.error) and np.array_equal(told.status, plain.status)

    # ... and the search matters here: the fast pass's last entries (the search left undone) differ from them.
    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        lines = np.arange(100) if sel is None else sel
        steps = t.reshape(t.shape[0], lines.size)
        points = np.repeat(point[:, :, None], t.shape[0], axis=1).repeat(lines.size, axis=2)
        points[lines, :, np.arange(lines.size)] += steps.T
        return f(points).reshape(t.shape)

    last = fast_pass(along, point[:, 0], 1, None, point.shape, quiet_later=[])
    settled = last[4]
    assert settled.sum() >= 90
    assert not np.array_equal(plain.value[settled, 0], last[0][settled])


def test_the_complex_step_of_the_components_the_fast_pass_leaves_shares_the_complex_values_call() -> None:
    # The cyclic function at n = 100 (seed 7): the fast pass leaves 3 components whose relative digits the rounding
    # of f limits (5e-4 next to f ~ 4.6). Their complex step (three complex evaluations each) is made in the call
    # of the others' complex values: three calls of f in all (the fast pass, the complex values, the central
    # differences that confirm the complex step), where there were four.
    bound = bind(parse_expression(CYCLIC.replace("/ 10", "/ 100")), {"x": (100,)}, {})
    calls = []

    def f(v: np.ndarray) -> np.ndarray:
        calls.append(str(v.dtype))
        return bound.function(v)

    point = np.random.default_rng(7).uniform(-1, 1, 100)
    result = engine.gradient(f, point[:, None], analytic=True)
    assert calls == ["float64", "complex128", "float64"]
    assert result.nfev == 11 + 3 + 6 + 5  # (the fast pass's; the complex step's, the probe of its rounding, its check)
    with mpmath.workdps(50):
        x = [mpmath.mpf(float(v)) for v in point]
        terms = [mpmath.exp(mpmath.sin(x[i]) * x[(i + 1) % 100]) for i in range(100)]
        norm = 1 + sum(v**2 for v in x)
        for j in range(100):
            after, before = (j + 1) % 100, (j - 1) % 100
            exact = (mpmath.cos(x[j]) * x[after] * terms[j] + mpmath.sin(x[before]) * terms[before]) / 100
            exact += 2 * x[j] / norm
            assert int(result.status[j, 0]) == engine.OK
            assert abs(mpmath.mpf(float(result.value[j, 0])) - exact) <= float(result.error[j, 0])


def test_the_central_differences_that_confirm_the_complex_step_are_real_evaluations() -> None:
    # A callable whose complex evaluation is a slightly different analytic function (math.erf for real input,
    # Abramowitz and Stegun's 7.1.26 for complex input, 1.5e-7 off): the check of the complex step must see f's real
    # values, or it confirms the other function's derivative (at z = 0.5: 2.5890102659 +- 1.5e-14, OK, 5.5e-7 off,
    # when its central differences were taken from the complex call; 38 of these 40 points were so).
    real_erf = np.vectorize(math.erf)

    def approximate_erf(z: np.ndarray) -> np.ndarray:
        t = 1 / (1 + 0.3275911 * z)
        poly = 0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
        return 1 - t * poly * np.exp(-z * z)

    def f(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v)
        return (approximate_erf(v[1]) if np.iscomplexobj(v) else real_erf(v[1])) * np.cos(40 * v[0] * v[1])

    with mpmath.workdps(40):
        for z in np.concatenate([[0.5], np.linspace(0.05, 3.0, 39)]):
            result = engine.gradient(f, np.array([[0.3], [z]]), analytic=True)
            exact = mpmath.diff(lambda s: mpmath.erf(s) * mpmath.cos(12 * s), mpmath.mpf(float(z)))
            if int(result.status[1, 0]) == engine.OK:
                assert abs(mpmath.mpf(float(result.value[1, 0])) - exact) <= float(result.error[1, 0]), z
