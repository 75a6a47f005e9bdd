"""The kink test of derivatives of order 2 to 4: where f or a derivative of lower order has a kink at x, or a
singularity far closer to x than the steps, the central difference of the order sought averages the two sides (or
cancels by symmetry) and gives a confident number for a derivative that does not exist; such a result is flagged.

Theory: a derivative of order n exists at x only where f^(n-1) is differentiable there. ``x*abs(x)`` has f' =
2|x| (a kink at 0: no f''); ``x**2*abs(x)`` has f'' = 6|x| (no f'''); ``x**3*abs(x)`` has f''' = 24|x| (no f'''').
References of the smooth cases: mpmath at 40 digits.
"""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest

from numdiff_cli.engine import KINK_BELOW, OK, PRECISION, derivative

mpmath.mp.dps = 40

# (expression, numpy function, point, order): no derivative of that order at that point.
NO_DERIVATIVE = [
    ("x*abs(x)", lambda x: x * np.abs(x), 0.0, 2),
    ("x**2*abs(x)", lambda x: x**2 * np.abs(x), 0.0, 3),
    ("x**3*abs(x)", lambda x: x**3 * np.abs(x), 0.0, 4),
    ("relu(x)**2", lambda x: np.maximum(x, 0) ** 2, 0.0, 2),
    ("abs(x)", np.abs, 0.0, 2),
    ("abs(x)", np.abs, 0.0, 3),
    ("abs(x)", np.abs, 0.0, 4),
    ("abs(x - 1)", lambda x: np.abs(x - 1), 1.0, 3),
    ("max(x**2, x)", lambda x: np.maximum(x**2, x), 1.0, 2),
    ("abs(sin(x))", lambda x: np.abs(np.sin(x)), float(np.pi), 3),
    # A kink 1e-300 away, far below every step: f is even about it, and its differences of odd order cancel.
    ("abs(asinh(x))", lambda x: np.abs(np.arcsinh(x)), 1e-300, 3),
    # Singularities of odd and even functions next to 0, whose central differences cancel by symmetry.
    ("cbrt(x)", np.cbrt, 1e-100, 2),
    ("cbrt(x)", np.cbrt, 1e-100, 4),
    ("x**-2", lambda x: x**-2.0, 1e-20, 3),
]


@pytest.mark.parametrize(
    ("text", "f", "x", "order"), NO_DERIVATIVE, ids=[f"{c[0]}@{c[2]}^{c[3]}" for c in NO_DERIVATIVE]
)
def test_no_derivative_of_this_order_is_flagged(run, text, f, x, order) -> None:
    # Before, all but three (abs at 0, orders 2 and 4, and max(x**2, x) at 1, order 2, whose differences grow
    # like 1/h**(n-1) and disagree) printed a number, 0 for most, with exit status 0.
    result = run("diff", text, "--at", repr(x), "--order", str(order), "--format", "json")
    assert result.exit_code == 3, result.output
    row = json.loads(result.stdout)
    with np.errstate(all="ignore"):
        estimate = derivative(f, np.array([x]), order=order, check_kink=True)
    assert estimate.status.tolist() != [OK]
    if estimate.status[0] == KINK_BELOW:
        assert row["warning"].startswith("the function or a derivative of lower order has a kink here")


def test_the_kink_test_is_what_flags_the_symmetric_cases() -> None:
    # Without the test, the cases whose differences cancel by symmetry are vouched for (0, or 2.2e-14 for
    # x**-2 at 1e-20, order 3, whose third derivative is -2.4e101); with it, each gets the kink status.
    for _, f, x, order in NO_DERIVATIVE:
        with np.errstate(all="ignore"):
            tested = derivative(f, np.array([x]), order=order, check_kink=True)
            untested = derivative(f, np.array([x]), order=order)
        if untested.status[0] == OK:
            assert tested.status.tolist() == [KINK_BELOW], (f, x, order)


# Smooth functions on several scales (the throughput benchmark's families and their neighbours): never flagged.
SMOOTH = [
    (np.sin, lambda t: mpmath.sin(t), -20.0, 20.0),
    (np.exp, lambda t: mpmath.exp(t), -5.0, 5.0),
    (np.log, lambda t: mpmath.log(t), 1e-3, 1e3),
    (np.arctan, lambda t: mpmath.atan(t), -50.0, 50.0),
    (lambda v: 1 / (1 + v**2), lambda t: 1 / (1 + t**2), -5.0, 5.0),
    (np.sqrt, lambda t: mpmath.sqrt(t), 1e-4, 1e4),
    (lambda v: np.sin(50 * v), lambda t: mpmath.sin(50 * t), -1.0, 1.0),
    (lambda v: np.tanh(100 * v), lambda t: mpmath.tanh(100 * t), -0.05, 0.05),
    (lambda v: 1 / v, lambda t: 1 / t, 1e-4, 1e-2),
    (np.cos, lambda t: mpmath.cos(t), 1e5, 1e7),
    (lambda v: v**2, lambda t: t**2, -1e3, 1e3),
]


@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize(("f", "exact", "low", "high"), SMOOTH, ids=range(len(SMOOTH)))
def test_smooth_functions_are_never_flagged_as_kinked(f, exact, low, high, order: int) -> None:
    rng = np.random.default_rng(order)
    x = np.exp(rng.uniform(np.log(low), np.log(high), 200)) if low > 0 else rng.uniform(low, high, 200)
    with np.errstate(all="ignore"):
        estimate = derivative(f, x, order=order, check_kink=True)
    assert not (estimate.status == KINK_BELOW).any(), x[estimate.status == KINK_BELOW]
    # ... and what the test lets through at a few of the points is right.
    for k in range(0, 200, 40):
        if estimate.status[k] == OK:
            reference = mpmath.diff(exact, mpmath.mpf(float(x[k])), order)
            assert abs(mpmath.mpf(float(estimate.value[k])) - reference) <= max(
                10 * PRECISION[order] * abs(reference), 10 * estimate.error[k]
            )


@pytest.mark.parametrize(("order", "cost"), [(2, 12), (3, 13), (4, 18)])
def test_the_test_costs_the_stencil_of_the_next_order_at_three_steps(order: int, cost: int) -> None:
    # The central difference of order n + 1 at the chosen step, a tenth and a hundredth of it (README): 4 values of
    # f per step for orders 2 (offsets -2, -1, 1, 2) and 3 (and f at x once), 6 for order 4.
    x = np.array([0.7])
    with np.errstate(all="ignore"):
        without = derivative(np.sin, x, order=order)
        with_test = derivative(np.sin, x, order=order, check_kink=True)
    assert with_test.nfev - without.nfev == cost
    assert with_test.value.tolist() == without.value.tolist()


# The Hessian's entries are second derivatives along lines: the same test along each line, for an expression that
# may have a kink (README: Hessian).
@pytest.mark.parametrize(
    ("text", "at"),
    [("x*abs(x) + y**2", "0,1"), ("cbrt(x) + y**2", "1e-100,1"), ("relu(x)**2 + x*y", "0,1")],
)
def test_hessian_entries_across_a_kink_of_a_first_derivative_are_flagged(run, text: str, at: str) -> None:
    result = run("hessian", text, "--at", at, "--format", "json")
    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout)["warning"].startswith("the function or a derivative of lower order has a kink")


def test_hessians_of_smooth_functions_are_never_flagged_as_kinked() -> None:
    from numdiff_cli.engine import hessian

    rng = np.random.default_rng(5)
    X = rng.uniform(-3, 3, (2, 300))
    with np.errstate(all="ignore"):
        for f in (
            lambda v: np.sin(v[0]) * np.cos(v[1]),
            lambda v: np.exp(v[0] / 3) * v[1] ** 3,
            lambda v: np.log(1 + v[0] ** 2 + v[1] ** 2),
            lambda v: 1 / (1 + v[0] ** 2 + 2 * v[1] ** 2),
        ):
            tested = hessian(f, X, check_kink=True)
            untested = hessian(f, X)
            assert not (tested.status == KINK_BELOW).any()
            assert tested.value.tolist() == untested.value.tolist()


# The test of order n at a kink of f^(n-1), on steps given (numerics/kinks.py: ``kinked``), against the textbook
# central stencils of order n + 1 (numerators over denominators; their weights sum to 4, 3, 16 and 10):
STENCILS = {
    1: ({-1: 1, 0: -2, 1: 1}, 1),
    2: ({-2: -1, -1: 2, 1: -2, 2: 1}, 2),
    3: ({-2: 1, -1: -4, 0: 6, 1: -4, 2: 1}, 1),
    4: ({-3: -1, -2: 4, -1: -5, 1: 5, 2: -4, 3: 1}, 2),
}


def kinked_on(f, x: float, step: float, order: int) -> bool:
    from numdiff_cli.numerics.kinks import kinked

    xs = np.array([x])

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        return f(xs + t)

    return bool(kinked(along, xs, np.array([step]), np.array([1.0]), order)[0])


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_a_kink_stands_out_of_the_rounding_of_f_by_the_stencils_weights(order: int) -> None:
    # g = x**(n-1) |x| has a kink in g^(n-1) at 0 (|x| itself for n = 1, whose second difference is the one of the
    # first derivatives' test), where the difference of order n + 1 at step h is c h**n: the same
    # value of c at every stage, which the test reads at the chosen step (1 here) against 1e3 ulps of the largest
    # |f| it saw times the stencil's weights over the second difference's (4). Adding A x**n, whose difference of
    # order n + 1 vanishes, raises the largest |f| (at the largest offset K) but not the difference: the kink is
    # flagged when that allowance is 10% below c and not when it is 10% above.
    numerators, denominator = STENCILS[order]
    weight = sum(map(abs, numerators.values())) / denominator
    largest = max(numerators)

    def g(v: np.ndarray) -> np.ndarray:
        return v ** (order - 1) * np.abs(v)

    c = abs(sum(k * float(g(np.array([float(offset)]))[0]) for offset, k in numerators.items()) / denominator)
    for margin, flagged in ((0.9, True), (1.1, False)):
        # The largest |f| is g(K) + A K**n (A > 0, K the largest offset): A such that the allowance is margin * c.
        allowance_f = margin * c / (1e3 * np.finfo(float).eps * weight / 4)
        a = (allowance_f - largest**order) / largest**order
        assert kinked_on(lambda v, a=a: g(v) + a * v**order, 0.0, 1.0, order) is flagged, (margin, a)
