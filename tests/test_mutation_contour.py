"""The circles' error estimate (numerics/contour.py: ``on_circles``) on functions whose Taylor coefficients theory
gives: the error is at least what the samples cannot vouch for, and no more than that plus the samples' noise."""

from __future__ import annotations

import math

import numpy as np

from numdiff_cli.numerics.contour import on_circles


def test_the_imaginary_part_of_the_coefficient_is_the_error_when_it_dominates() -> None:
    # f(z) = exp(z) + 1e-3 i (z - 1)**2 at x = 1: c_2 = (e/2 + 1e-3 i) r**2 on a circle of radius r, so the value
    # (2! c_2 / r**2, real part) is e and the imaginary part's share of the second derivative is 2 * 1e-3 on every
    # circle. The aliasing of exp on circles of radius up to 0.1 (c_34 = r**34 / 34!) and the rounding of the samples
    # (ulps of e, times 2 / r**2 >= 200) add under 1e-10: the error is 2e-3, finite, and the value within it.
    x = np.array([1.0])

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        z = (x if sel is None else x[sel]) + t
        return np.exp(z) + 1e-3j * (z - 1.0) ** 2

    value, error, _ = on_circles(along, x, 2, np.array([0.1]), None)
    assert 2e-3 * (1 - 1e-9) <= error[0] <= 2e-3 + 1e-10, error
    assert abs(value[0] - math.e) <= error[0]
