"""The status of a derivative (numerics/verdicts.py: ``verdict``) and the absolute error the rounding of f allows it
(``absolute_floor``), at the edges the README draws.

README (Accuracy): a result is flagged *low accuracy* where "the estimated relative error is above 1e-10 (first
derivatives; 1e-11, 1e-10, 1e-8 for orders 2-4)" and above what the rounding of f allows; *no reliable estimate*
where the "relative error estimate [is] above 1e-6"; *overflow* where the derivative is larger than the largest
double; *not finite* outside the domain. The floor the rounding allows is "about eps * |f| / (s/4)**order, s the
scale on which f varies", times the stencil's sum of |weights| and the tableau's amplification of rounding (12.5,
documented with ``ABSOLUTE_FLOOR`` in numerics/estimate.py). The expected values below are those literals and the
weights of the central stencils, never the engine's constants.
"""

from __future__ import annotations

import numpy as np
import pytest

from numdiff_cli.contract import IMPRECISE, NONFINITE, OK, OVERFLOW, UNRELIABLE
from numdiff_cli.numerics.verdicts import absolute_floor, verdict

EPS = 2.0**-52
# README: the relative precision promised per order, and the bound above which candidates disagree.
PROMISED = {1: 1e-10, 2: 1e-11, 3: 1e-10, 4: 1e-8}
DISAGREE = 1e-6
# Sum of |weights| over the denominator of the central difference of each order (their textbook forms):
# (f1 - f-1) / 2h; (f1 - 2 f0 + f-1) / h**2; (f2 - 2 f1 + 2 f-1 - f-2) / 2h**3; (f2 - 4 f1 + 6 f0 - 4 f-1 + f-2) / h**4.
WEIGHT = {1: 2 / 2, 2: 4 / 1, 3: 6 / 2, 4: 16 / 1}
# The tableau's amplification of rounding and the fraction of the scale its steps take (numerics/estimate.py).
AMPLIFICATION = 12.5


def above(bound: float) -> float:
    return float(np.nextafter(bound, np.inf))


def status(value: float, error: float, floor: float, order: int) -> int:
    return int(verdict(np.array([value]), np.array([error]), np.array([floor]), order)[0])


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_the_relative_bounds_of_each_order_are_drawn_where_the_readme_says(order: int) -> None:
    promised = PROMISED[order]
    for value in (3.0, -3.0):
        # At the promise: vouched. Just above it: low accuracy, until the candidates disagree (1e-6).
        assert status(value, promised * 3.0, 0.0, order) == OK
        assert status(value, above(promised * 3.0), 0.0, order) == IMPRECISE
        assert status(value, DISAGREE * 3.0, 0.0, order) == IMPRECISE
        assert status(value, above(DISAGREE * 3.0), 0.0, order) == UNRELIABLE


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_a_derivative_small_next_to_f_is_judged_by_the_floor(order: int) -> None:
    # A zero of f' (value 0): an error within the floor is vouched for, just above it is low accuracy; the candidates
    # disagree only beyond the floor scaled as the relative bounds are (1e-6 / promise: 1e4 times the floor at order 1,
    # 100 at order 4): "an estimate consistent with zero within a few hundred times the floor is imprecise".
    floor = 2.5e-9
    scaled = floor * DISAGREE / PROMISED[order]
    for value in (0.0, 1e-30, -1e-30):
        assert status(value, floor, floor, order) == OK
        assert status(value, above(floor), floor, order) == IMPRECISE
        assert status(value, scaled, floor, order) == IMPRECISE
        assert status(value, above(scaled), floor, order) == UNRELIABLE


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_a_floor_in_the_subnormal_range_is_a_floor_too(order: int) -> None:
    # atan(x) at 1e300: a floor of 1.7e-314 (f of 1.6 on a scale of 1e300) times the promise underflowed to 0.
    for floor in (1.7e-314, 3e-320):
        scaled = floor * (DISAGREE / PROMISED[order])
        assert status(0.0, floor, floor, order) == OK
        assert status(0.0, above(floor), floor, order) == IMPRECISE
        assert status(0.0, scaled * 0.99, floor, order) == IMPRECISE
        assert status(0.0, scaled * 1.01, floor, order) == UNRELIABLE


def test_values_that_are_not_finite_and_errors_that_say_nothing() -> None:
    values = np.array([np.inf, -np.inf, np.nan, 1.0, 1.0, 0.0])
    errors = np.array([0.0, np.inf, np.nan, np.inf, np.nan, 0.0])
    floors = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    got = verdict(values, errors, floors, 1).tolist()
    # Overflow either sign, not finite for nan whatever its error; a finite value with an infinite or unknown error
    # has no reliable estimate; an exact 0 with an error of 0 is vouched for even with no floor.
    assert got == [OVERFLOW, OVERFLOW, NONFINITE, UNRELIABLE, UNRELIABLE, OK]


def test_each_point_gets_its_own_status() -> None:
    values = np.array([[1.0, 1.0], [0.0, 2.0]])
    errors = np.array([[1e-11, 1e-9], [1e-3, 1e-5]])
    floors = np.array([[0.0, 0.0], [1e-3, 0.0]])
    assert verdict(values, errors, floors, 1).tolist() == [[OK, IMPRECISE], [OK, UNRELIABLE]]


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_the_floor_is_the_rounding_of_f_through_the_stencil_at_a_quarter_of_the_scale(order: int) -> None:
    # eps * |f| * weight / (s/4)**order, times the tableau's amplification: at s = 4 the step term is 1.
    expected = AMPLIFICATION * EPS * WEIGHT[order]
    assert absolute_floor(np.array([1.0]), np.array([4.0]), order)[0] == pytest.approx(expected, rel=1e-14)
    # Linear in |f|, and as 1/s**order in the scale (theory: a difference of order n divides by h**n).
    fscale = np.array([3.0, 3.0, 1e300])
    scale = np.array([4.0, 0.5, 4.0])
    got = absolute_floor(fscale, scale, order)
    assert got[0] == pytest.approx(3 * expected, rel=1e-14)
    assert got[1] == pytest.approx(3 * expected * 8.0**order, rel=1e-14)
    assert got[2] == pytest.approx(1e300 * expected, rel=1e-14)


def test_the_floor_of_a_scale_of_zero_or_of_an_infinite_f_is_no_floor_without_a_warning() -> None:
    # Not finite, it would vouch for any error wherever a pass compares an error with it (not only in the verdict:
    # the passes settle points on it too): it is 0, and the value is judged relatively (the test below).
    with np.errstate(all="raise"):
        got = absolute_floor(np.array([1.0, np.inf]), np.array([0.0, 1.0]), 1)
    assert got.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_an_infinite_floor_vouches_for_nothing(order: int) -> None:
    # A floor that is not finite comes from an f that overflows where it was measured (exp(-1e6*x) at 1e-3, whose
    # fast steps reach x - 0.25): it is no rounding level. The value is judged relatively, as with no floor at all.
    for floor in (np.inf, np.nan):
        assert status(1.0, PROMISED[order], floor, order) == OK
        assert status(1.0, above(PROMISED[order]), floor, order) == IMPRECISE
        assert status(0.0, 1e-300, floor, order) == UNRELIABLE
        assert status(0.0, 0.0, floor, order) == OK
