"""How a derivative is judged: the absolute error the rounding of f allows it (:func:`absolute_floor`) and its
status (:func:`verdict`), for every pass of ``auto`` and the gradient; and the check of a later pass's estimate
against the fast pass's (:func:`check_against_fast`)."""

from __future__ import annotations

import numpy as np

from numdiff_cli.contract import IMPRECISE, NONFINITE, OK, OVERFLOW, UNRELIABLE
from numdiff_cli.numerics.estimate import (
    ABSOLUTE_FLOOR,
    EPS,
    FAST_CHECK_ABOVE,
    FLOOR_STEP_FRACTION,
    PRECISION,
    UNRELIABLE_ABOVE,
)
from numdiff_cli.numerics.stencils import stencil


def absolute_floor(fscale: np.ndarray, scale: np.ndarray, order: int) -> np.ndarray:
    """The absolute error that the rounding of f allows a derivative of ``order``, for f of size ``fscale`` varying on
    the scale ``scale`` (see :data:`~numdiff_cli.numerics.estimate.ABSOLUTE_FLOOR`); 0 where it is not finite
    (:func:`finite_floor`)."""
    _, numerators, denominator = stencil(order, "central")
    weight = sum(map(abs, numerators)) / denominator
    with np.errstate(all="ignore"):
        return finite_floor(ABSOLUTE_FLOOR * EPS * fscale * weight * (FLOOR_STEP_FRACTION / scale) ** order)


def finite_floor(floor: np.ndarray) -> np.ndarray:
    """``floor``, 0 where it is not finite: such a floor comes from an f that overflows where it was measured
    (``exp(-1e6*x)`` at 1e-3, on steps of 0.25); it measures no rounding, and would vouch for any error, in the
    passes that settle a point on it as in the verdict. A value there is vouched for relatively or not at all."""
    return np.where(np.isfinite(floor), floor, 0.0)


# See verdict: a floor below LIFT_BELOW is multiplied by LIFT (exactly) before it is scaled, then divided back.
LIFT_BELOW = 2.0**-900
LIFT = 2.0**600


def verdict(value: np.ndarray, error: np.ndarray, floor: np.ndarray, order: int) -> np.ndarray:
    """The status of derivatives of ``order``: :data:`OK` where the error estimate is within ``PRECISION[order]`` of
    the value or within the absolute ``floor`` the rounding of f allows (a finite one); :data:`IMPRECISE`, or
    :data:`UNRELIABLE` beyond ``UNRELIABLE_ABOVE`` (relative, or that many times the floor over ``PRECISION[order]``:
    an estimate consistent with zero within a few hundred times the floor is imprecise, not a disagreement of the
    candidates); :data:`OVERFLOW` and :data:`NONFINITE` for values that are not finite."""
    finite = np.isfinite(value)
    size = np.abs(value)
    with np.errstate(invalid="ignore"):
        if finite.all() and (error <= PRECISION[order] * size).all():
            return np.full(value.shape, OK)  # the common case, in a few operations (a gradient's every component)
    floor = finite_floor(floor)
    # (floor * bound underflows where the floor is below about 1e-300, 1.7e-314 for atan at 1e300, and a floor of 0
    # vouched for nothing there: such a floor is lifted by a power of two, which is exact.)
    lift = np.where(floor < LIFT_BELOW, LIFT, 1.0)

    def vouched(bound: float) -> np.ndarray:
        return (error <= bound * size) | (error <= floor * lift * bound / PRECISION[order] / lift)

    with np.errstate(all="ignore"):
        status = np.where(finite, OK, np.where(np.isinf(value), OVERFLOW, NONFINITE))
        status = np.where(finite & ~vouched(PRECISION[order]), IMPRECISE, status)
        # (Vouched for within PRECISION, a value is within the larger bound too.)
        return np.where(finite & ~vouched(UNRELIABLE_ABOVE), UNRELIABLE, status)


def check_against_fast(
    checked: np.ndarray,
    fast_value: np.ndarray,
    fast_error: np.ndarray,
    value: np.ndarray,
    error: np.ndarray,
) -> None:
    """Where the fast pass's estimate (``fast_value`` +- ``fast_error`` at the flat indices ``checked``; at orders 2-4
    the fine pass's after it, where that one did better) was meaningful
    (an error below :data:`FAST_CHECK_ABOVE` of its value) and a later pass's (``value`` +- ``error``, flat) disagrees
    with it by more than both error bars, that later estimate agreed with its neighbours by accident: the derivative
    is within the fast pass's error of its estimate, so the later one's error (in place) becomes their disagreement
    plus that error."""
    if not checked.size:
        return
    with np.errstate(all="ignore"):
        disagreement = np.abs(value[checked] - fast_value)
        consistent = fast_error <= FAST_CHECK_ABOVE * np.abs(fast_value)
        inconsistent = consistent & (disagreement > error[checked] + fast_error)
    # (Above both error bars, the disagreement is above the later estimate's error already.)
    error[checked] = np.where(inconsistent, disagreement + fast_error, error[checked])
