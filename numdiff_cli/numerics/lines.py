"""The derivative along lines by any method: :func:`line_derivative`, on which every public function is built."""

from __future__ import annotations

import numpy as np

from numdiff_cli.contract import METHODS, fixed_step_kind
from numdiff_cli.numerics.adaptive import adaptive
from numdiff_cli.numerics.estimate import OK, Along, Estimate
from numdiff_cli.numerics.stencils import complex_step, fixed_step_difference
from numdiff_cli.numerics.steps import COMPLEX_UNDERFLOW


def complex_with_fallback(along: Along, x: np.ndarray, *, order: int, step: float | None) -> Estimate:
    """The complex step; where its imaginary part underflows (:data:`~.steps.COMPLEX_UNDERFLOW`), ``auto``.

    No step keeps ``h * f'`` representable when f' is near the smallest double (``exp`` at -700) without a
    truncation error that spoils the point of the method, so those points are computed by :func:`adaptive` (their
    error estimate and status are its own; ``nfev`` is the larger of the two).
    """
    estimate = complex_step(along, x, order=order, step=step)
    with np.errstate(all="ignore"):
        imaginary = np.abs(estimate.value * estimate.step).reshape(-1)
    lost = (estimate.status.reshape(-1) == OK) & (imaginary < COMPLEX_UNDERFLOW)
    points = np.flatnonzero(lost)
    if not points.size:
        return estimate

    def along_points(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        return along(t, points if sel is None else points[sel])

    redone = adaptive(along_points, x.reshape(-1)[points], order=order)
    value, error, status = (a.reshape(-1).copy() for a in (estimate.value, estimate.error, estimate.status))
    value[points], error[points], status[points] = redone.value, redone.error, redone.status
    shape = x.shape
    return Estimate(
        value.reshape(shape),
        error.reshape(shape),
        estimate.step,
        max(estimate.nfev, redone.nfev),
        "complex",
        status.reshape(shape),
    )


def line_derivative(
    along: Along,
    x: np.ndarray,
    *,
    order: int,
    method: str,
    step: float | None,
    check_step: bool = False,
    check_kink: bool = False,
) -> Estimate:
    """The ``order``-th derivative of f along the lines through the points ``x``, by ``method``.

    The one entry on which the derivative, partial, gradient and Hessian are built: ``auto`` without a step is
    :func:`adaptive`; ``complex`` the complex step; any other method, or ``auto`` with a step, one finite
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
        return complex_with_fallback(along, x, order=order, step=step)
    if method == "auto" and step is None:
        return adaptive(along, x, order=order, kink_check=check_kink)
    kind = fixed_step_kind(method)
    return fixed_step_difference(along, x, order=order, kind=kind, step=step, check_step=check_step)
