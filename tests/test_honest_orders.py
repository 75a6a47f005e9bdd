"""Orders 2 to 4 on smooth functions: the digits ``auto`` delivers and vouches for (issue 11, higher orders).

The goal, written here as literals rather than read from the engine's thresholds: at least 11, 10 and 8 correct
digits for orders 2, 3 and 4 on smooth functions, without a flag. Before the fine pass these cases had as few as
10.3, 9.6 and 8.0 digits and estimates that vouched for 8, 8 and 7. References from mpmath at 50 digits.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from numdiff_cli.engine import OK, derivative

# Relative error an unflagged result must stay within, per order (11, 10 and 8 correct digits).
GOAL = {2: 1e-11, 3: 1e-10, 4: 1e-8}

SMOOTH = [
    ("exp", np.exp, mpmath.exp, [0.5, -3.0, 2.0]),
    ("sin", np.sin, mpmath.sin, [0.3, 1.0, 2.5, 10.0]),
    ("log", np.log, mpmath.log, [0.5, 2.0, 100.0]),
    ("atan", np.arctan, mpmath.atan, [0.2, 3.0]),
    ("runge", lambda x: 1 / (1 + x**2), lambda x: 1 / (1 + x**2), [0.5, 2.0]),
    ("sqrt", np.sqrt, mpmath.sqrt, [0.5, 4.0, 100.0]),
    ("exp-sin", lambda x: np.exp(np.sin(x)), lambda x: mpmath.exp(mpmath.sin(x)), [0.7, 2.0]),
    ("tanh", np.tanh, mpmath.tanh, [0.4, 1.5]),
    ("cosh", np.cosh, mpmath.cosh, [0.2, 3.0]),
    ("x**7", lambda x: x**7, lambda x: x**7, [1.3, 0.4]),
    ("asinh", np.arcsinh, mpmath.asinh, [0.5, 2.0]),
    ("gauss", lambda x: np.exp(-(x**2)), lambda x: mpmath.exp(-(x**2)), [0.3, 1.2]),
]


def exact(mp_f, x: float, order: int) -> float:
    with mpmath.workdps(50):
        return float(mpmath.diff(mp_f, mpmath.mpf(x), order))


@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize(("name", "f", "mp_f", "points"), SMOOTH, ids=[case[0] for case in SMOOTH])
def test_higher_orders_deliver_and_vouch_for_the_goal(name, f, mp_f, points, order) -> None:
    estimate = derivative(f, np.array(points), order=order)
    for i, x in enumerate(points):
        reference = exact(mp_f, x, order)
        error = abs(float(estimate.value[i]) - reference)
        assert estimate.status[i] == OK, (name, x)
        assert error <= GOAL[order] * abs(reference), (name, x, error / abs(reference))
        # Vouched for honestly: the estimate bounds the true error within a factor 10 (issue 3's rule).
        assert float(estimate.error[i]) >= error / 10, (name, x)


NEAR_A_SINGULARITY = [
    ("sqrt", np.sqrt, mpmath.sqrt, np.linspace(0.05, 0.95, 10)),
    ("acos", np.arccos, mpmath.acos, np.linspace(-0.95, 0.95, 20)),
    ("log", np.log, mpmath.log, np.linspace(0.05, 0.95, 10)),
    (
        "pole",
        lambda x: np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3),
        lambda x: mpmath.exp(x) / mpmath.sqrt(mpmath.sin(x) ** 3 + mpmath.cos(x) ** 3),
        np.linspace(-0.7, 1.5, 23),
    ),
]


@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize(
    ("name", "f", "mp_f", "points"), NEAR_A_SINGULARITY, ids=[case[0] for case in NEAR_A_SINGULARITY]
)
def test_near_a_singularity_fewer_digits_are_flagged(name, f, mp_f, points, order) -> None:
    # Within about 1 of a branch point or a pole (the numdifftools example functions of the honesty corpus), orders
    # 2 to 4 reach about 10.5 to 12, 10 to 11.5 and 8.5 to 10 digits: at the limit of the goal, so some results are
    # flagged. None may be unflagged with fewer digits than the goal.
    estimate = derivative(f, points, order=order)
    for i, x in enumerate(points.tolist()):
        reference = exact(mp_f, x, order)
        if abs(reference) < 1e-30:
            continue  # a zero of the derivative (acos at 0, orders 2 and 4): judged absolutely, elsewhere
        error = abs(float(estimate.value[i]) - reference)
        assert estimate.status[i] != OK or error <= GOAL[order] * abs(reference), (name, x, error / abs(reference))
