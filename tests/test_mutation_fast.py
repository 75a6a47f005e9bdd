"""The fast pass's tighter estimate for orders 2 to 4 (numerics/fast.py, vouch_fast), as the README describes it.

README ("How auto works"): the fast pass takes central differences at five fixed steps; "for orders 2-4 ... a point
it does not settle gets a tighter estimate where its tableau converges as theory says ... (12 more evaluations)".
The second difference takes f at x +- h for the five steps and f(x) once: 11 evaluations; with the tighter
estimate, 23. The expected values are the closed form of the second derivative, not the engine's.
"""

from __future__ import annotations

import numpy as np
import pytest

from numdiff_cli.contract import OK
from numdiff_cli.engine import derivative


def f(v: np.ndarray) -> np.ndarray:
    return np.exp(np.sin(v))


@pytest.mark.parametrize(
    ("x", "evaluations"),
    [
        # Settled by the fast pass's own estimate: no probe of the rounding.
        (-9.0, 2 * 5 + 1),
        (-2.5, 2 * 5 + 1),
        # Not settled by it, but by the tighter estimate.
        (-6.5, 2 * 5 + 1 + 12),
        (0.0, 2 * 5 + 1 + 12),
        (1.0, 2 * 5 + 1 + 12),
    ],
)
def test_smooth_points_are_settled_by_the_fast_pass_or_its_tighter_estimate(x: float, evaluations: int) -> None:
    # d2/dx2 exp(sin x) = exp(sin x) * (cos(x)**2 - sin(x)); order 2 promises 11 digits.
    exact = np.exp(np.sin(x)) * (np.cos(x) ** 2 - np.sin(x))
    estimate = derivative(f, np.array([x]), order=2)
    assert int(estimate.status[0]) == OK
    assert estimate.nfev == evaluations
    assert abs(estimate.value[0] - exact) <= estimate.error[0] <= 1e-11 * abs(exact)
