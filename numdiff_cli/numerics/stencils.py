"""Finite-difference stencils and the differences computed with one step: fixed-step and complex step."""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from math import factorial, lcm

import numpy as np

from numdiff_cli.numerics.estimate import (
    EPS,
    NONFINITE,
    NOT_REAL,
    OK,
    STEP_CHECK_DIVISOR,
    STEP_CHECK_TOLERANCE,
    STEP_TOO_LARGE,
    VANISHING_STEP,
    Along,
    Estimate,
)
from numdiff_cli.numerics.steps import COMPLEX_STEP, taken


@cache
def stencil(order: int, kind: str) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """Offsets and integer weights of the minimal finite-difference stencil.

    Returns ``(offsets, numerators, denominator)`` such that
    ``f^(order)(x) ~ sum(numerators[j] * f(x + offsets[j] * h)) / (denominator * h**order)``.
    Weights come from the exact solution (in fractions) of the Taylor conditions, so they are exact;
    zero weights are dropped.

    Notes
    -----
    ``central`` uses offsets ``-p..p`` with ``p = (order + 1) // 2`` and has truncation error ``O(h**2)``
    with only even powers of ``h``, which is what Richardson extrapolation needs. ``forward`` (``0..order``)
    and ``backward`` (``-order..0``) have truncation error ``O(h)``.

    Examples
    --------
    >>> stencil(1, "central")
    ((-1, 1), (-1, 1), 2)
    >>> stencil(2, "forward")
    ((0, 1, 2), (1, -2, 1), 1)
    """
    if order < 1:
        raise ValueError("order must be at least 1")
    if kind == "central":
        half = (order + 1) // 2
        offsets = list(range(-half, half + 1))
    elif kind == "forward":
        offsets = list(range(0, order + 1))
    elif kind == "backward":
        offsets = list(range(-order, 1))
    else:
        raise ValueError(f"unknown stencil kind {kind!r}")
    size = len(offsets)
    # Taylor conditions: sum_j w_j * o_j**m / m! = [m == order], m = 0..size-1.
    rows = [[Fraction(o**m, factorial(m)) for o in offsets] + [Fraction(int(m == order))] for m in range(size)]
    for col in range(size):
        pivot = next(r for r in range(col, size) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        rows[col] = [v / rows[col][col] for v in rows[col]]
        for r in range(size):
            if r != col and rows[r][col] != 0:
                rows[r] = [a - rows[r][col] * b for a, b in zip(rows[r], rows[col])]
    weights = [rows[j][-1] for j in range(size)]
    denominator = lcm(*(w.denominator for w in weights))
    kept = [(o, int(w * denominator)) for o, w in zip(offsets, weights) if w != 0]
    return tuple(o for o, _ in kept), tuple(c for _, c in kept), denominator


def default_step(x: np.ndarray, *, order: int = 1, kind: str = "central", eps: float = EPS) -> np.ndarray:
    """The textbook step scaled to the point: ``eps**(1/(order+2)) * max(1, |x|)`` for central differences,
    ``eps**(1/(order+1)) * max(1, |x|)`` for one-sided ones (the steps that balance truncation and rounding)."""
    power = 1 / (order + 2) if kind == "central" else 1 / (order + 1)
    return eps**power * np.maximum(1.0, np.abs(x))


def stencil_sum(values: np.ndarray, numerators: tuple[float, ...]) -> np.ndarray:
    """``sum(numerators[j] * values[j])`` accumulated in stencil order.

    For the central first derivative this is ``-f(x-h) + f(x+h)``, bit for bit ``f(x+h) - f(x-h)``.
    """
    total = values[0] if numerators[0] == 1 else -values[0] if numerators[0] == -1 else numerators[0] * values[0]
    for c, v in zip(numerators[1:], values[1:]):
        total = total + v if c == 1 else total - v if c == -1 else total + c * v
    return total


def shaped_offsets(offsets: tuple[int, ...], ndim: int) -> np.ndarray:
    """The stencil's offsets as floats along a new first axis, to broadcast against steps with ``ndim`` axes."""
    return np.asarray(offsets, dtype=float).reshape((-1,) + (1,) * ndim)


def fixed_step_difference(
    along: Along, x: np.ndarray, *, order: int, kind: str, step: float | None, check_step: bool = False
) -> Estimate:
    """One ``kind`` finite difference along the lines through ``x``, with ``step`` or :func:`default_step`.

    With ``check_step``, the status is :data:`STEP_TOO_LARGE` where the same difference at a step
    ``STEP_CHECK_DIVISOR`` times smaller changes by more than ``STEP_CHECK_TOLERANCE`` (relative) and by more than
    the rounding noise: the step is beyond the scale on which f varies. The default step is checked as a given one
    is: it is scaled to |x|, which is not the scale of f (``cos`` at 3e7 with h = 181). The error is NaN (one
    difference gives no estimate of its own error).
    """
    offsets, numerators, denominator = stencil(order, kind)
    h = taken(x, default_step(x, order=order, kind=kind)) if step is None else np.full(x.shape, float(step))
    with np.errstate(all="ignore"):
        values = along(shaped_offsets(offsets, x.ndim) * h, None)
        value = stencil_sum(values, numerators) / (denominator * h**order)
        nfev = len(offsets)
        status = np.where(np.isfinite(value), OK, NONFINITE)
        if check_step:
            small = h / STEP_CHECK_DIVISOR
            check_values = along(shaped_offsets(offsets, x.ndim) * small, None)
            check = stencil_sum(check_values, numerators) / (denominator * small**order)
            noise = (
                4 * EPS * stencil_sum(np.abs(check_values), tuple(map(abs, numerators))) / (denominator * small**order)
            )
            change = np.abs(value - check)
            too_large = (change > STEP_CHECK_TOLERANCE * np.maximum(np.abs(value), np.abs(check))) & (change > noise)
            status = np.where((status == OK) & too_large, STEP_TOO_LARGE, status)
            nfev *= 2
    status = np.where((x + h == x) | (h == 0), VANISHING_STEP, status)
    return Estimate(value, np.full(x.shape, np.nan), h, nfev, kind, status)


def complex_step(along: Along, x: np.ndarray, *, order: int, step: float | None) -> Estimate:
    """The complex step ``Im f(x + i h) / h`` along the lines through ``x`` (first derivatives only).

    No subtraction, so no cancellation: with ``h = COMPLEX_STEP`` the truncation error ``O(h**2)`` vanishes and
    the error is the rounding of f's evaluation. f is also evaluated at ``x`` itself, in the same call (2
    evaluations), to tell where the complex step does not give the derivative of the real function:

    - :data:`NOT_REAL` where f leaves the real axis: ``f(x)`` is not real (``log(-1)``), or the imaginary part is
      of the order of f rather than ``h * f'`` (a branch cut; relative to ``|f|``, so that ``exp`` at 700, whose
      ``h * f'`` is 1e104, is not mistaken for one), or the real part moves by more than ``sqrt(h)`` times the
      imaginary one (a branch point: ``sqrt`` at 0, where ``Im f(ih) / h = 7e99``);
    - :data:`NONFINITE` where ``f(x)`` is not finite (``x * (0.5 + 1/(exp(x) - 1))`` at 0, whose complex
      evaluation loses the cancelling real part of ``exp(ih) - 1`` and returns 0.5 instead of 0).

    Where ``Im f(x + i h)`` is below :data:`COMPLEX_UNDERFLOW` (``exp`` at -700: ``h * f'`` underflows to 0),
    the value has lost its precision; :func:`~numdiff_cli.numerics.lines.line_derivative` computes such points
    by ``auto`` instead.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([-1.0, 4.0, 0.0])
    >>> estimate = complex_step(lambda t, sel: np.sqrt(x + t), x, order=1, step=None)
    >>> estimate.status.tolist() == [NOT_REAL, OK, NOT_REAL], float(estimate.value[1])
    (True, 0.25)
    """
    if order != 1:
        raise ValueError("the complex step gives first derivatives only (order 1)")
    h = COMPLEX_STEP if step is None else float(step)
    with np.errstate(all="ignore"):
        shifted, at_x = along(np.stack([np.full(x.shape, 1j * h), np.zeros(x.shape, dtype=complex)]), None)
        value = np.imag(shifted) / h
        size = np.maximum(1.0, np.abs(np.real(shifted)))
        off_axis = np.abs(np.imag(shifted)) > np.sqrt(h) * size
        off_axis |= np.imag(at_x) != 0
        off_axis |= np.abs(np.real(shifted) - np.real(at_x)) > np.sqrt(h) * np.abs(np.imag(shifted))
        finite = np.isfinite(value) & np.isfinite(np.real(shifted)) & np.isfinite(at_x)
    status = np.where(finite, OK, NONFINITE)
    status = np.where(off_axis & (status == OK), NOT_REAL, status)
    # A few units in the last place of f's evaluation.
    error = 4 * EPS * np.abs(value)
    return Estimate(value, error, np.full(x.shape, h), 2, "complex", status)
