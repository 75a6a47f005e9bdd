"""Finite-difference stencils and the differences computed with one step: fixed-step and complex step."""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from math import factorial, lcm

import numpy as np

from numdiff_cli.contract import NONFINITE, NOT_REAL, OK, STEP_TOO_LARGE, VANISHING_STEP
from numdiff_cli.numerics.estimate import EPS, STEP_CHECK_DIVISOR, STEP_CHECK_TOLERANCE, Along, Estimate
from numdiff_cli.numerics.steps import COMPLEX_STEP, taken

# The complex step's Im f(x + 2ih) / Im f(x + ih) is 2 for an analytic f (to O(h**2)); beyond this relative
# departure it is not (a branch cut: about 1; a square-root branch point: 1.41).
LINEARITY_TOLERANCE = 0.25
# complex_check: a complex-step derivative is confirmed when two central differences agree with it to this
# (relative), well inside numdiff's promise of 1e-10 times 100 for a result that is not flagged, and well above
# the differences' own error at their steps on smooth functions (truncation about 1e-11, rounding 4e-11).
CHECK_TOLERANCE = 1e-9
# complex_check: the fourth difference of f (weights 1, 4, 6, 4, 1) of a function that rounds like its value or its
# argument stays within 16 roundings of 2 ulps each.
QUIET_ULPS = 32


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


def quotients(values: np.ndarray, numerators: tuple[float, ...], scale: np.ndarray) -> np.ndarray:
    """The difference quotients ``stencil_sum(values, numerators) / scale`` of the searches, NaN where the quotient
    is 0 and its difference is not: the quotient lost what the difference measured (``h**order`` beyond the largest
    double, for orders 2-4 at |x| near 1e300, where every step that moves x is that large), and says no more than a
    step that left the domain of f, which the searches drop as they drop this."""
    difference = stencil_sum(values, numerators)
    quotient = difference / scale
    zero = quotient == 0
    return np.where(zero & (difference != 0), np.nan, quotient) if zero.any() else quotient


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
            status = np.where((status == OK) & step_too_large(value, check, noise), STEP_TOO_LARGE, status)
            nfev *= 2
    status = np.where((x + h == x) | (h == 0), VANISHING_STEP, status)
    return Estimate(value, np.full(x.shape, np.nan), h, nfev, kind, status)


def step_too_large(value: np.ndarray, check: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Where a difference ``value`` changes by more than ``STEP_CHECK_TOLERANCE`` of itself at a step
    ``STEP_CHECK_DIVISOR`` times smaller (``check``), beyond the rounding ``noise`` of the check: its step is beyond
    the scale on which f varies."""
    change = np.abs(value - check)
    return (change > STEP_CHECK_TOLERANCE * np.maximum(np.abs(value), np.abs(check))) & (change > noise)


def complex_offsets(h: float) -> np.ndarray:
    """The offsets at which :func:`complex_step` evaluates f, in this order: ``i h``, ``2 i h`` and 0."""
    return np.array([1j * h, 2j * h, 0])


def complex_step(
    along: Along, x: np.ndarray, *, order: int, step: float | None, values: np.ndarray | None = None
) -> Estimate:
    """The complex step ``Im f(x + i h) / h`` along the lines through ``x`` (first derivatives only).

    No subtraction in the method: with ``h = COMPLEX_STEP`` the truncation error ``O(h**2)`` vanishes and the
    error is the rounding of f's evaluation (a subtraction inside f carries the rounding of f's real part into the
    imaginary part: :func:`complex_check` tells where). f is also evaluated at ``x + 2ih`` and at ``x`` itself,
    in the same call (3 evaluations), to tell where the complex step does not give the derivative of the real function:

    - :data:`NOT_REAL` where f leaves the real axis: ``f(x)`` is not real (``log(-1)``), or the imaginary part is
      of the order of f rather than ``h * f'`` (a branch cut; relative to ``|f|``, so that ``exp`` at 700, whose
      ``h * f'`` is 1e104, is not mistaken for one) and does not grow in proportion to the step (so that ``1/x`` at
      1e-150, whose ``h * f'`` is 1e100, is not either), or the real part moves by more than ``sqrt(h)`` times the
      imaginary one, beyond f's rounding and not in proportion to the square of the step (a branch point: ``sqrt``
      at 0, where ``Im f(ih) / h = 7e99``; not ``log`` at 3e-194, where ``h / x`` is 4e-7);
    - :data:`NONFINITE` where ``f(x)`` is not finite (``x * (0.5 + 1/(exp(x) - 1))`` at 0, whose complex
      evaluation loses the cancelling real part of ``exp(ih) - 1`` and returns 0.5 instead of 0).

    Where ``Im f(x + i h)`` is below :data:`COMPLEX_UNDERFLOW` (``exp`` at -700: ``h * f'`` underflows to 0),
    the value has lost its precision; :func:`~numdiff_cli.numerics.lines.line_derivative` computes such points,
    and those :func:`complex_check` does not confirm, by ``auto`` instead.

    ``values``: f at the offsets :func:`complex_offsets` (shape ``(3, *x.shape)``) where a caller has evaluated
    them in a call of its own (the gradient's, with other points: one call of f fewer).

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
    if values is None:
        t = np.zeros((3, *x.shape), dtype=complex)
        t[...] = complex_offsets(h).reshape(3, *(1,) * x.ndim)
        with np.errstate(all="ignore"):
            values = along(t, None)
    with np.errstate(all="ignore"):
        shifted, twice, at_x = values
        real, imag, real_at_x = shifted.real, shifted.imag, at_x.real
        value = imag / h
        size = np.maximum(1.0, np.abs(real))
        # Im f(x + i t) is t f'(x) for an analytic f, so it doubles from t = h to 2h; on a branch cut it is about
        # the same at both (log(-1 + ih): pi), at a branch point it grows like a root (sqrt(ih)). A large Im f
        # alone is no sign: 1/x at 1e-150 has Im f = h / x**2 = 1e100, of order h * f'.
        nonlinear = np.abs(twice.imag - 2 * imag) > LINEARITY_TOLERANCE * np.abs(twice.imag)
        off_axis = (np.abs(imag) > np.sqrt(h) * size) & nonlinear
        off_axis |= at_x.imag != 0
        # Re f(x + i t) - f(x) is -t**2 f''(x) / 2: it quadruples from t = h to 2h, unless it is f's rounding.
        moved, moved_twice = real - real_at_x, twice.real - real_at_x
        branch_point = np.abs(moved) > np.sqrt(h) * np.abs(imag)
        branch_point &= np.abs(moved) > 4 * EPS * np.abs(real_at_x)
        branch_point &= np.abs(moved_twice - 4 * moved) > LINEARITY_TOLERANCE * np.abs(moved_twice)
        off_axis |= branch_point
        finite = np.isfinite(value) & np.isfinite(real) & np.isfinite(at_x)
        status = np.where(finite, OK, NONFINITE)
        status = np.where(off_axis & (status == OK), NOT_REAL, status)
        # A few units in the last place of f's evaluation: this is the whole error where f rounds like its value
        # (no cancellation inside f; complex_check tells where it does not) and h is far below the scale of f. Where
        # it is not (log at 4e-197, h / x = 2.5e-4), the truncation, h**2 / 6 times the third derivative, shows in
        # the value at 2h, which carries 4 times as much.
        truncation = np.abs(twice.imag / (2 * h) - value) / 3
        error = np.maximum(4 * EPS * np.abs(value), np.where(np.isfinite(truncation), truncation, np.inf))
    return Estimate(value, error, np.full(x.shape, h), 3, "complex", status)


# complex_check's samples, in units of its step.
CHECK_OFFSETS = np.array([1.0, -1.0, 0.5, -0.5, 0.0])


def complex_check(
    along: Along, x: np.ndarray, value: np.ndarray, steps: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whether f at ``x``, ``x +- steps/2`` and ``x +- steps`` confirms the complex-step derivatives ``value``.

    The complex step carries the rounding of f's real part into its imaginary part wherever f cancels internally
    (``(exp(x) - 1)/x`` at 1e-10: Im f is ``h (x - (e**x - 1)) / x**2``, whose difference has lost every digit),
    and its error estimate of a few ulps does not see it. The five values of f tell where that cannot happen:

    - f rounds like its value, or like its argument: their fourth difference, which is the fourth derivative
      times ``(s/2)**4`` (negligible at these steps) plus the rounding of f, is within :data:`QUIET_ULPS` ulps of
      ``|f| + |x f'|``. Where f cancels internally its rounding is far larger (``(1 - cos(x))/x**2`` at 1e-6: 2e-4
      of f).
    - the Richardson extrapolation of the central differences at ``s`` and ``s/2`` agrees with the value to
      :data:`CHECK_TOLERANCE` (relative), or to its own rounding (a derivative about 0). Next to a pole or a
      domain edge within the steps (``exp(x)/sqrt(sin(x)**3 + cos(x)**3)`` 1e-9 from its pole), or where f varies
      on a scale much shorter than the steps, it does not.

    An unconfirmed value is recomputed by ``auto``. Returns ``(confirmed, change, largest)``: ``change`` is
    ``|x f''(x)|``, the change of f' over the rounding of arguments of the size of x inside f (``exp(-x**2)`` at 13
    rounds ``x**2`` to 169 eps relative, and its derivative by 2 x**2 eps, not 4 eps), for the error estimate;
    ``largest`` the largest |f| of the five.
    """
    offsets = np.multiply.outer(CHECK_OFFSETS, steps)  # (exact: s, -s, s/2, -s/2 and 0)
    offsets[-1] = 0.0
    with np.errstate(all="ignore"):
        up, down, half_up, half_down, centre = along(offsets, None)
        largest = np.maximum.reduce([np.abs(up), np.abs(down), np.abs(half_up), np.abs(half_down), np.abs(centre)])
        fourth = (up + down) - 4 * (half_up + half_down) + 6 * centre
        quiet = np.abs(fourth) <= QUIET_ULPS * EPS * (largest + np.abs(x * value))
        wide = (up - down) / (2 * steps)
        narrow = (half_up - half_down) / steps
        # One Richardson step: truncation O(s**4), so that f varying faster than the scale of x (exp at -30,
        # cos at 100) does not fail the check for nothing; its rounding is about 3 times that of the wide one.
        extrapolated = (4 * narrow - wide) / 3
        noise = 16 * EPS * largest / steps
        agrees = np.abs(extrapolated - value) <= CHECK_TOLERANCE * np.abs(value) + noise
        # f(x + s) + f(x - s) - 2 f(x) = f''(x) s**2 + O(s**4), divided in two steps (s**2 underflows at 1e-189)
        change = (np.abs(x) / steps) * (np.abs((up + down) - 2 * centre) / steps)
    return quiet & agrees, np.where(np.isfinite(change), change, 0.0), largest
