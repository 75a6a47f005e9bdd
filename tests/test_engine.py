"""engine.py: accuracy of every method and order against exact references, statuses, vectorization."""

from __future__ import annotations

import sys
from fractions import Fraction
from math import factorial

import mpmath
import numpy as np
import pytest

from numdiff_cli import engine
from numdiff_cli.engine import EPS, derivative, gradient, partial, stencil

mpmath.mp.dps = 40

# (name, numpy function, mpmath function, point): smooth, analytic cases with exact derivatives by mpmath.diff.
SMOOTH = [
    pytest.param(np.exp, mpmath.exp, 1.0, id="exp-at-1"),
    pytest.param(np.sin, mpmath.sin, 0.7, id="sin-at-0.7"),
    pytest.param(np.log, mpmath.log, 3.0, id="log-at-3"),
    pytest.param(lambda x: 1 / (1 + x**2), lambda x: 1 / (1 + x**2), 0.5, id="runge-at-0.5"),
    pytest.param(np.tanh, mpmath.tanh, -1.2, id="tanh-at-minus-1.2"),
    pytest.param(lambda x: x**5 - 2 * x, lambda x: x**5 - 2 * x, 2.5, id="quintic-at-2.5"),
    pytest.param(np.exp, mpmath.exp, -30.0, id="exp-at-minus-30"),
    pytest.param(np.cos, mpmath.cos, 100.0, id="cos-at-100"),
]


def exact(mp_function, x: float, order: int) -> float:
    return float(mpmath.diff(mp_function, mpmath.mpf(x), order))


def digits(value: float, reference: float) -> float:
    error = abs(value - reference)
    return 17.0 if error == 0 else -np.log10(error / max(abs(reference), 1e-300))


@pytest.mark.parametrize(
    ("order", "kind", "offsets", "numerators", "denominator"),
    [
        pytest.param(1, "central", (-1, 1), (-1, 1), 2, id="central-1"),
        pytest.param(2, "central", (-1, 0, 1), (1, -2, 1), 1, id="central-2"),
        pytest.param(3, "central", (-2, -1, 1, 2), (-1, 2, -2, 1), 2, id="central-3"),
        pytest.param(4, "central", (-2, -1, 0, 1, 2), (1, -4, 6, -4, 1), 1, id="central-4"),
        pytest.param(1, "forward", (0, 1), (-1, 1), 1, id="forward-1"),
        pytest.param(2, "backward", (-2, -1, 0), (1, -2, 1), 1, id="backward-2"),
    ],
)
def test_stencils_are_the_textbook_ones(order, kind, offsets, numerators, denominator) -> None:
    assert stencil(order, kind) == (offsets, numerators, denominator)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("kind", ["central", "forward", "backward"])
def test_stencil_weights_satisfy_taylor_conditions_exactly(order: int, kind: str) -> None:
    offsets, numerators, denominator = stencil(order, kind)
    for power in range(len(offsets)):
        moment = sum(Fraction(c * o**power, denominator) for o, c in zip(offsets, numerators)) / factorial(power)
        assert moment == (1 if power == order else 0)


def test_textbook_central_difference_is_bit_exact() -> None:
    f = lambda x: x**2 + 3 * x + 5  # noqa: E731
    h = 1e-4
    est = derivative(f, 2.0, method="central", step=h)
    assert float(est.value) == (f(2.0 + h) - f(2.0 - h)) / (2 * h) == 7.000000000019213
    assert est.nfev == 2


def test_textbook_forward_difference_is_bit_exact() -> None:
    h = 1e-4
    est = derivative(np.exp, 1.0, method="forward", step=h)
    assert float(est.value) == (np.exp(1.0 + h) - np.exp(1.0)) / h


@pytest.mark.parametrize(("f", "mp_f", "x"), SMOOTH)
def test_central_default_step_reaches_its_theoretical_accuracy(f, mp_f, x) -> None:
    # Optimal central step: error ~ eps**(2/3) relative to the scale of f; allow a factor 100 for constants.
    est = derivative(f, x, method="central")
    reference = exact(mp_f, x, 1)
    scale = max(abs(reference), abs(float(mp_f(mpmath.mpf(x)))))
    assert abs(float(est.value) - reference) <= 100 * EPS ** (2 / 3) * scale * max(1, abs(x))


@pytest.mark.parametrize(("f", "mp_f", "x"), SMOOTH)
@pytest.mark.parametrize("kind", ["forward", "backward"])
def test_one_sided_default_step(f, mp_f, x, kind) -> None:
    # Optimal one-sided step: error ~ eps**(1/2) relative; allow a factor 100.
    est = derivative(f, x, method=kind)
    reference = exact(mp_f, x, 1)
    scale = max(abs(reference), abs(float(mp_f(mpmath.mpf(x)))))
    assert abs(float(est.value) - reference) <= 100 * EPS**0.5 * scale * max(1, abs(x))


@pytest.mark.parametrize(("f", "mp_f", "x"), SMOOTH)
def test_complex_step_is_full_precision(f, mp_f, x) -> None:
    est = derivative(f, x, method="complex")
    # f at x + ih, x + 2ih and x itself to recognize where the complex step is not the real derivative (a branch
    # point, a removable singularity of the expression), at x + ih with six other steps to measure the rounding of
    # its value, and f at x, x +- s/2, x +- s to confirm its value (f does not cancel internally, no pole nearby):
    # fourteen evaluations.
    assert est.nfev == 14
    # No subtraction: only the rounding of f's complex evaluation, a few ulp.
    assert digits(float(est.value), exact(mp_f, x, 1)) >= 14.5


@pytest.mark.parametrize(("f", "mp_f", "x"), SMOOTH)
def test_auto_beats_plain_central_and_its_error_estimate_bounds_the_true_error(f, mp_f, x) -> None:
    reference = exact(mp_f, x, 1)
    auto = derivative(f, x)
    central = derivative(f, x, method="central")
    assert int(auto.status) == engine.OK
    true_error = abs(float(auto.value) - reference)
    assert true_error <= abs(float(central.value) - reference)
    assert digits(float(auto.value), reference) >= 12.5
    assert true_error <= float(auto.error)


@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize(("f", "mp_f", "x"), SMOOTH[:6])
def test_higher_orders(order, f, mp_f, x) -> None:
    reference = exact(mp_f, x, order)
    scale = max(abs(reference), abs(float(mp_f(mpmath.mpf(x)))), 1e-300)
    central = derivative(f, x, order=order, method="central")
    # Central order-n difference at h ~ eps**(1/(n+2)): error ~ eps**(2/(n+2)) relative to the scale of f.
    assert abs(float(central.value) - reference) <= 100 * EPS ** (2 / (order + 2)) * scale
    auto = derivative(f, x, order=order)
    assert abs(float(auto.value) - reference) <= abs(float(central.value) - reference) + 1e-12 * scale
    assert abs(float(auto.value) - reference) <= float(auto.error)


def test_vectorized_over_many_points_in_few_calls() -> None:
    calls = []

    def f(x: np.ndarray) -> np.ndarray:
        calls.append(x.shape)
        return np.sin(x)

    xs = np.linspace(-3, 3, 1001)
    est = derivative(f, xs, method="central")
    assert len(calls) == 1 and calls[0] == (2, 1001)
    assert np.allclose(est.value, np.cos(xs), atol=1e-9)
    calls.clear()
    est = derivative(f, xs)
    # First pass, the false-plateau check of the chosen steps, and the wide search only if some point needs it.
    assert len(calls) <= 3
    assert np.allclose(est.value, np.cos(xs), rtol=1e-12, atol=1e-13)


def test_non_finite_points_do_not_poison_others() -> None:
    est = derivative(np.log, [-1.0, 2.0])
    assert est.status[0] == engine.NONFINITE and not np.isfinite(est.value[0])
    assert est.status[1] == engine.OK and est.value[1] == pytest.approx(0.5, rel=1e-13)


def test_steps_that_leave_the_domain_are_dropped() -> None:
    # log at 1e-3: the first-pass steps (0.5 ...) cross into x < 0; smaller ones must still give the answer.
    est = derivative(np.log, 1e-3)
    assert int(est.status) == engine.OK
    assert float(est.value) == pytest.approx(1e3, rel=1e-11)


def test_vanishing_step_is_flagged() -> None:
    est = derivative(lambda x: x**2, 1.0, method="forward", step=1e-50)
    assert int(est.status) == engine.VANISHING_STEP
    assert float(est.value) == 0.0  # the classic lesson: x + h == x, so the difference is 0


def test_complex_step_detects_branch_cuts() -> None:
    est = derivative(np.log, [-1.0, 1.0], method="complex")
    assert est.status[0] == engine.NOT_REAL
    assert est.status[1] == engine.OK and est.value[1] == 1.0
    with pytest.raises(ValueError, match="first derivatives"):
        derivative(np.exp, 1.0, method="complex", order=2)


def test_partial_and_gradient() -> None:
    f = lambda v: v[0] ** 2 * v[1] + np.sin(v[2])  # noqa: E731
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    expected = np.array([2 * X[0] * X[1], X[0] ** 2, np.cos(X[2])])
    for index in range(3):
        est = partial(f, X, index=index)
        assert np.allclose(est.value, expected[index], rtol=1e-12, atol=1e-14)
    est = gradient(f, X)
    assert est.value.shape == (3, 2)
    assert np.allclose(est.value, expected, rtol=1e-12, atol=1e-14)
    assert np.all(np.abs(est.value - expected) <= est.error)


def test_textbook_partial_derivative_is_bit_exact() -> None:
    f = lambda v: v[0] * v[0] + v[1] * v[1]  # noqa: E731
    est = partial(f, [[3.0], [4.0]], index=0, method="central", step=1e-4)
    assert float(est.value[0]) == 6.00000000000378


def test_gradient_evaluates_all_directions_in_one_call() -> None:
    calls = []

    def f(v: np.ndarray) -> np.ndarray:
        calls.append(v.shape)
        return (v**2).sum(axis=0)

    est = gradient(f, np.ones((5, 3)), method="central")
    assert len(calls) == 1 and calls[0] == (5, 2, 5, 3)
    assert np.allclose(est.value, 2.0)


def test_gradient_blocks_bound_memory() -> None:
    f = lambda v: (v**2).sum(axis=0)  # noqa: E731
    X = np.random.default_rng(0).normal(size=(50, 4))
    whole = gradient(f, X, method="central")
    blocked = gradient(f, X, method="central", block=500)
    assert np.array_equal(whole.value, blocked.value)


def test_engine_imports_numpy_only() -> None:
    import subprocess

    code = (
        "import sys; import numdiff_cli.engine; "
        "bad = [m for m in ('sympy', 'click', 'rich', 'mpmath') if m in sys.modules]; print(bad)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_unknown_method_and_order() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        derivative(np.exp, 1.0, method="magic")
    with pytest.raises(ValueError, match="order"):
        derivative(np.exp, 1.0, order=5)


@pytest.mark.parametrize("x", [6434.0, 12868.0, 16471.0, 32942.0, 49413.0])
def test_no_false_plateau_from_steps_beyond_the_scale_of_f(x: float) -> None:
    # These points once settled on first-pass steps of thousands (far beyond sin's period), whose differences
    # agreed by accident: about 1e-6 with an error estimate of 1e-20, for a derivative of about 1.
    est = derivative(np.sin, x)
    reference = float(mpmath.cos(mpmath.mpf(x)))
    assert int(est.status) != engine.OK or abs(float(est.value) - reference) <= float(est.error)
    assert int(est.status) != engine.OK or digits(float(est.value), reference) >= 12
