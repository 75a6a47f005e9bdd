"""What every computation returns: the :class:`Estimate` and the thresholds that set its status (the codes are in
:mod:`numdiff_cli.contract`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "EPS",
    "PRECISION",
    "STEP_CHECK_DIVISOR",
    "STEP_CHECK_TOLERANCE",
    "UNRELIABLE_ABOVE",
    "Along",
    "Estimate",
    "columns",
    "concatenated",
    "on_lines",
    "reshaped",
]

EPS = float(np.finfo(np.float64).eps)

# auto flags a result whose relative error estimate exceeds this (per derivative order): fewer than about
# 10, 8, 8 and 7 correct digits cannot be vouched for. Above 1e-6 the candidates disagree: UNRELIABLE.
PRECISION = {1: 1e-10, 2: 1e-11, 3: 1e-10, 4: 1e-8}
UNRELIABLE_ABOVE = 1e-6
# The precision a point allows is absolute where the derivative is small next to f (a zero of f', an odd order at a
# symmetric point, a zero entry of a Hessian): each value of f carries about EPS * |f| of rounding, and Richardson
# extrapolation needs steps of about a quarter of the scale ``s`` on which f varies, so no estimate can be expected
# to beat EPS * |f| * weight / (s / 4)**order (weight: the stencil's sum of |weights|). An error estimate within
# ABSOLUTE_FLOOR times that (the amplification of rounding by the tableau) is vouched for whatever the size of the
# value. ``s`` is never the step a search happened to choose (a garbage candidate at a tiny step has a huge rounding
# level): see adaptive.adaptive for the scale each pass measured f on.
ABSOLUTE_FLOOR = 12.5
FLOOR_STEP_FRACTION = 4.0
# The fast pass's estimate of a point it does not settle checks the later passes' estimate where its own relative
# error estimate is below this (see verdicts.check_against_fast and scaled.scaled_passes).
FAST_CHECK_ABOVE = 1e-2
# A difference quotient within this many times its rounding noise (EPS * |f| * weight / h**order) says nothing
# about the size of the derivative: it is not evidence of a false plateau, nor of a step f does not resolve.
RESOLVED_ABOVE = 100.0
# A given step is too large when the difference changes by more than this fraction when the step is divided by
# STEP_CHECK_DIVISOR (the truncation error is then of the order of the derivative itself).
STEP_CHECK_DIVISOR = 4
STEP_CHECK_TOLERANCE = 0.5

# ``along(t, sel)``: f at the points moved by ``t`` along their lines. With ``sel=None``, ``t`` has shape
# ``(k, *x.shape)``; otherwise ``sel`` holds flat indices into ``x`` (the lines still to refine) and ``t`` has
# shape ``(k, len(sel))``. Every derivative is computed along such lines: a univariate f, one variable of a
# multivariate f, or a direction of a Hessian.
Along = Callable[[np.ndarray, "np.ndarray | None"], np.ndarray]


def columns(a: np.ndarray, index: np.ndarray | slice) -> np.ndarray:
    """``a[..., index]``: the columns ``index`` (integer indices, or a slice) of the last axis of ``a``, laid out row
    by row. (numpy lays ``a[:, index]`` out column by column, and the arithmetic on it that follows ran three times
    slower: the scaled passes' unit at the columns going on took 230 us for 3,700 of ``log(x)``'s points, 70 on
    these.)"""
    if isinstance(index, slice):
        return a[..., index]
    if index.dtype == bool:
        raise TypeError("columns takes indices, not a mask (np.take would read False and True as columns 0 and 1)")
    return np.take(a, index, axis=-1)


def on_lines(along: Along, points: np.ndarray) -> Along:
    """``along`` restricted to the lines through ``points`` (indices into the flattened points)."""

    def along_points(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        return along(t, points if sel is None else points[sel])

    return along_points


@dataclass(frozen=True)
class Estimate:
    """The result of a finite-difference computation, one entry per point.

    Attributes
    ----------
    value : ndarray
        The derivative estimates.
    error : ndarray
        Estimated absolute error of each value (NaN where the method gives none).
    step : ndarray
        The step ``h`` used (for ``auto``: the largest step of the chosen Richardson estimate).
    nfev : int
        Evaluations of ``f`` per point.
    method : str
        The method used.
    status : ndarray
        :data:`OK` or one of the other status codes.
    """

    value: np.ndarray
    error: np.ndarray
    step: np.ndarray
    nfev: int
    method: str
    status: np.ndarray


def concatenated(parts: Sequence[Estimate], axis: int = 0) -> Estimate:
    """The estimates of blocks of lines (or of points: ``axis``), joined along ``axis``; ``nfev`` is the largest of
    the blocks'."""
    if len(parts) == 1:
        return parts[0]
    return Estimate(
        np.concatenate([p.value for p in parts], axis=axis),
        np.concatenate([p.error for p in parts], axis=axis),
        np.concatenate([p.step for p in parts], axis=axis),
        max(p.nfev for p in parts),
        parts[0].method,
        np.concatenate([p.status for p in parts], axis=axis),
    )


def reshaped(estimate: Estimate, shape: tuple[int, ...]) -> Estimate:
    """The estimate with its arrays in ``shape`` (the shape of the points it was computed at)."""
    return Estimate(
        estimate.value.reshape(shape),
        estimate.error.reshape(shape),
        estimate.step.reshape(shape),
        estimate.nfev,
        estimate.method,
        estimate.status.reshape(shape),
    )
