"""The derivative along lines by any method: :func:`line_derivative`, on which every public function is built."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from numdiff_cli.contract import IMPRECISE, METHODS, OK, fixed_step_kind
from numdiff_cli.numerics.adaptive import adaptive
from numdiff_cli.numerics.contour import RADII, SAMPLES, on_circles
from numdiff_cli.numerics.estimate import EPS, Along, Estimate, on_lines
from numdiff_cli.numerics.fine import NOISE_SIGMAS, binade
from numdiff_cli.numerics.stencils import (
    CHECK_TOLERANCE,
    complex_check,
    complex_offsets,
    complex_step,
    fixed_step_difference,
)
from numdiff_cli.numerics.steps import COMPLEX_STEP, COMPLEX_UNDERFLOW, taken
from numdiff_cli.numerics.verdicts import absolute_floor, verdict

# The steps of complex_check, times the scale of x: eps**(1/3), the step at which a central difference balances
# truncation and rounding.
CHECK_STEP = EPS ** (1 / 3)
# Points per block of the complex step and its check (14 values of f each, complex for 9 of them).
COMPLEX_BLOCK = 8192


def complex_with_fallback(
    along: Along, x: np.ndarray, *, order: int, step: float | None, check_kink: bool = False
) -> Estimate:
    """The complex step where it can vouch for its value; ``auto`` at the other points.

    The complex step cannot vouch for its value where its imaginary part underflows
    (:data:`~.steps.COMPLEX_UNDERFLOW`: no step keeps ``h * f'`` representable when f' is near the smallest double,
    ``exp`` at -700, without a truncation error that spoils the point of the method), nor, with its default step,
    where central differences do not confirm it (:func:`~.stencils.complex_check`: f cancels internally and
    the rounding of its real part reaches the imaginary part, or the point is next to a pole). The check is made
    with steps scaled to ``max(1, |x|)`` and, at the points it does not confirm, with steps scaled to
    ``min(1, |x|)`` (``1/x`` at 1e-150, ``cos`` at 2e8). Unconfirmed points are computed by :func:`adaptive`
    (their error estimate and status are its own, with its kink test where ``check_kink``: ``relu(x)`` at 0 was its
    average of the two slopes, 0.5, unflagged; ``nfev`` counts both). The error of a confirmed value is 4 ulps
    of f', or 2 ulps of ``|x f''|`` where that is larger: f' moves by that much over the rounding of arguments the
    size of x inside f.
    """
    flat = x.reshape(-1)
    if flat.size <= COMPLEX_BLOCK:
        value, error, status, lost, nfev = _vouched_complex_step(along, x, order, step)[:5]
    else:
        # In blocks: the values of f per point stay in the CPU cache (twice as fast on a million points).
        parts = [
            _vouched_complex_step(on_lines(along, block), flat[block], order, step)
            for block in np.array_split(np.arange(flat.size), -(-flat.size // COMPLEX_BLOCK))
        ]
        value, error, status, lost = (np.concatenate([part[k] for part in parts]) for k in range(4))
        nfev = max(part[4] for part in parts)
    points = np.flatnonzero(lost)
    if points.size:
        redone = adaptive(on_lines(along, points), flat[points], order=order, kink_check=check_kink)
        value[points], error[points], status[points] = redone.value, redone.error, redone.status
        nfev += redone.nfev
    shape = x.shape
    h = np.full(shape, COMPLEX_STEP if step is None else float(step))
    return Estimate(value.reshape(shape), error.reshape(shape), h, nfev, "complex", status.reshape(shape))


class Vouched(NamedTuple):
    """:func:`_vouched_complex_step`'s results, flat."""

    value: np.ndarray
    error: np.ndarray
    status: np.ndarray
    lost: np.ndarray  # the points it cannot vouch for
    nfev: int
    fscale: np.ndarray  # the largest |f| its check saw (NaN where it made none)


# The complex steps of the probe of the complex step's rounding (VOUCHING_OFFSETS): the default step times factors
# whose binary expansions differ (1 + k/7), so that the rounding of every product with the step differs too. With
# the default step's own value, 7 values whose only difference is rounding: their standard deviation (6 degrees of
# freedom) measures it.
PROBE_STEPS = COMPLEX_STEP * (1 + np.arange(1, 7) / 7)
# The evaluations of f per point of _vouched_complex_step with the default step, in one call (VOUCHING_OFFSETS).
VOUCHING = 3 + len(PROBE_STEPS)


# The complex offsets at which _vouched_complex_step evaluates f with the default step, in this order: complex_step's
# three, then the probe of its rounding, ``x + i h_k`` with the steps PROBE_STEPS. (At x itself: at points a little
# apart, f' differs by f'' times the spacing, and next to a zero of f' their rounding is far above the value's: ``sin``
# at ``pi/2`` in double, whose derivative 6.1e-17 the complex step gives to the last bit.)
VOUCHING_OFFSETS = np.concatenate([complex_offsets(COMPLEX_STEP), 1j * PROBE_STEPS])


def _vouched_complex_step(
    along: Along, x: np.ndarray, order: int, step: float | None, values: np.ndarray | None = None
) -> Vouched:
    """The complex step on the points ``x`` (see :func:`complex_with_fallback`); with the default step, f at
    :data:`VOUCHING_OFFSETS` (``values``, if a caller has evaluated them in a call of its own), whose probe measures
    the rounding the complex step's value carries.

    The complex step's own error estimate, a few ulps of f', holds where f' is computed without cancellation. Where
    it is a small difference of large terms (``exp(-26.6010757973*x) - exp(-26.6010757981*x) + 1`` at 0.003: terms of
    27 for a derivative of 7e-10), each term's rounding is in ``Im f``, and :func:`~.stencils.complex_check`, which
    sees the rounding of f itself (there 1 ulp of f), passed it: 6.73694682e-10 +- 6e-25 for 6.73699353e-10. The
    complex step's values with steps of other binary expansions (:data:`PROBE_STEPS`) carry independent rounding of
    the terms (points a little apart do not: where the terms move in step, their roundings cancel alike at every
    point, and ``sin(2.2768552357*x) - sin(2.2768552373*x)`` at -0.0349 is the same to the last bit at twelve of
    them, 1e-7 off), and their standard deviation with the default step's measures it; the error is at least
    :data:`~.fine.NOISE_SIGMAS` times that. Where it exceeds the check's tolerance, the point is not vouched for.
    (The rounding of the terms' arguments, ``a*x`` before ``sin``, is the same at every step: only the check's
    estimate, 2 ulps of ``x f''``, counts it.)"""
    probing = step is None
    if probing and values is None:
        with np.errstate(all="ignore"):
            values = along(VOUCHING_OFFSETS.reshape(VOUCHING, *(1,) * x.ndim) + np.zeros(x.shape), None)
    estimate = complex_step(along, x, order=order, step=step, values=None if values is None else values[:3])
    value, error, status = (a.reshape(-1) for a in (estimate.value, estimate.error, estimate.status))  # (its own)
    flat = x.reshape(-1)
    nfev = estimate.nfev
    if probing and values is not None:
        with np.errstate(all="ignore"):
            probe = np.concatenate([value[None], values[3:].reshape(len(PROBE_STEPS), -1).imag / PROBE_STEPS[:, None]])
            # (Scaled by a power of two first: the squares of values near the largest double overflow.)
            unit = binade(np.max(np.abs(probe), axis=0))
            # (Their sample standard deviation as np.std(..., ddof=1) computes it, without its Python wrapper.)
            scaled = probe / unit
            spread = scaled - np.add.reduce(scaled, axis=0) / len(scaled)
            deviation = np.sqrt(np.add.reduce(spread * spread, axis=0) / (len(scaled) - 1))
            error = np.fmax(error, NOISE_SIGMAS * unit * deviation)
        nfev += len(PROBE_STEPS)
    with np.errstate(all="ignore"):
        imaginary = np.abs(value * estimate.step.reshape(-1))
    lost = (status == OK) & (imaginary < COMPLEX_UNDERFLOW)
    fscale = np.full(value.shape, np.nan)
    if step is None:
        # h is not far below the scale of f (log at 4e-197): its truncation error is beyond the check's reach.
        lost |= (status == OK) & ~(error <= CHECK_TOLERANCE * np.abs(value))
        unconfirmed = (status == OK) & ~lost
        wide, narrow = np.maximum(1.0, np.abs(flat)), np.minimum(1.0, np.abs(flat))
        for scale, tried in ((wide, None), (narrow, wide)):
            trial = np.flatnonzero(unconfirmed & (scale > 0) & (True if tried is None else scale != tried))
            if not trial.size:
                continue
            # Twice a step taken from x, so that x +- s/2 and x +- s are exact (cos at 2e8). Not powers of two: a
            # step of exactly 4 ulps of an intermediate of f (e**x at 1e-10) moves it by exactly 4 ulps at every
            # sample, and the differences would see f's rounding as smooth.
            steps = 2 * taken(flat[trial], CHECK_STEP * scale[trial] / 2)
            confirmed, change, largest = complex_check(on_lines(along, trial), flat[trial], value[trial], steps)
            nfev += 5
            done = trial[confirmed]
            error[done] = np.maximum(error[done], 2 * EPS * change[confirmed])
            fscale[done] = largest[confirmed]
            unconfirmed[done] = False
        lost |= unconfirmed
    return Vouched(value, error, status, lost, nfev, fscale)


def line_derivative(
    along: Along,
    x: np.ndarray,
    *,
    order: int,
    method: str,
    step: float | None,
    check_step: bool = False,
    check_kink: bool = False,
    analytic: bool = False,
) -> Estimate:
    """The ``order``-th derivative of f along the lines through the points ``x``, by ``method``.

    The one entry on which the derivative, partial, gradient and Hessian are built: ``auto`` without a step is
    :func:`adaptive` (and, for an ``analytic`` f that takes complex arguments, :func:`second_opinion` on the
    points it cannot vouch for); ``complex`` the complex step; any other method, or ``auto`` with a step, one finite
    difference of the method's stencil (``auto``: central).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 1.0])
    >>> def exp_along(t, sel):  # exp on the lines x + t (``sel``: the points still to refine)
    ...     return np.exp((x if sel is None else x[sel]) + t)
    >>> np.allclose(line_derivative(exp_along, x, order=2, method="auto", step=None).value, np.exp(x), rtol=1e-10)
    True
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if not 1 <= order <= 4:
        raise ValueError("order must be between 1 and 4")
    if method == "complex":
        return complex_with_fallback(along, x, order=order, step=step, check_kink=check_kink)
    if method == "auto" and step is None:
        result = adaptive(along, x, order=order, kink_check=check_kink)
        return second_opinion(along, x, order, result) if analytic else result
    kind = fixed_step_kind(method)
    return fixed_step_difference(along, x, order=order, kind=kind, step=step, check_step=check_step)


def complex_opinion(
    along: Along,
    x: np.ndarray,
    value: np.ndarray | None = None,
    error: np.ndarray | None = None,
    values: np.ndarray | None = None,
) -> tuple[Vouched, np.ndarray]:
    """First derivatives at the points ``x`` by the complex step where central differences confirm it (as ``complex``
    does): its results (:class:`Vouched`), and the mask of those it vouches for (and that agree with a first opinion
    ``value`` within both errors, ``error``, where one is given). (:func:`second_opinion` of first derivatives; the
    gradient's first pass; ``values`` as for :func:`_vouched_complex_step`.)"""
    opinion = _vouched_complex_step(along, x, 1, None, values)
    floor = np.zeros(opinion.value.size)  # relative digits only: the complex step measures no scale of f
    usable = (opinion.status == OK) & ~opinion.lost
    return opinion, _confirms(opinion.value, opinion.error, floor, 1, value, error, usable)


def _confirms(
    new_value: np.ndarray,
    new_error: np.ndarray,
    floor: np.ndarray,
    order: int,
    value: np.ndarray | None,
    error: np.ndarray | None,
    usable: np.ndarray | bool = True,
) -> np.ndarray:
    """Where an opinion (``new_value``, ``new_error``; ``usable`` where its method can vouch for it) is vouched for by
    its own error (``floor`` as in :func:`~.verdicts.verdict`) and, where there is a first one (``value``,
    ``error``), agrees with it within both errors: each is a check on the other."""
    vouched = usable & (verdict(new_value, new_error, floor, order) == OK)
    if value is None or error is None:
        return vouched
    with np.errstate(all="ignore"):
        return vouched & (np.abs(new_value - value) <= new_error + error)


def second_opinion(along: Along, x: np.ndarray, order: int, result: Estimate) -> Estimate:
    """``auto``'s results that it could not vouch for (:data:`IMPRECISE`), computed again in the complex plane: first
    derivatives by the complex step where central differences confirm it (as ``complex`` does), orders 2 to 4 on
    circles (:func:`~.contour.on_circles`). A point takes the new value where its error is vouched for and it
    agrees with the real passes' value within both error estimates (each is a check on the other).

    Circles are not tried for first derivatives: on the honesty corpus they vouched for 18 more of them (some 10
    fewer false alarms), at 160 complex evaluations per point, which made a stream of points that all cancel
    internally (``log(1 + x**2)`` near 1e-6) four times as costly."""
    flat_status = result.status.reshape(-1)
    points = np.flatnonzero(flat_status == IMPRECISE)
    if not points.size:
        return result
    flat_x = x.reshape(-1)
    value, error, step = (a.reshape(-1).copy() for a in (result.value, result.error, result.step))
    status = flat_status.copy()
    if order == 1:
        opinion, taken = complex_opinion(on_lines(along, points), flat_x[points], value[points], error[points])
        new_value, new_error, count = opinion.value, opinion.error, opinion.nfev
    else:
        new_value, new_error, fscale = on_circles(along, flat_x[points], order, step[points], points)
        floor = absolute_floor(fscale, np.maximum(1.0, np.abs(flat_x[points])), order)
        taken = _confirms(new_value, new_error, floor, order, value[points], error[points])
        count = SAMPLES * len(RADII)
    chosen = points[taken]
    value[chosen], error[chosen], status[chosen] = new_value[taken], new_error[taken], OK
    shape = x.shape
    nfev = result.nfev + count
    return Estimate(
        value.reshape(shape), error.reshape(shape), step.reshape(shape), nfev, "auto", status.reshape(shape)
    )
