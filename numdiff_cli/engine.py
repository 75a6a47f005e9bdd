"""Finite-difference derivatives of vectorized numpy callables: the public face of :mod:`numdiff_cli.numerics`.

This module imports numpy only, so it works as a library without sympy, click or rich::

    >>> import numpy as np
    >>> from numdiff_cli.engine import derivative
    >>> est = derivative(np.exp, [0.0, 1.0])
    >>> np.allclose(est.value, np.exp([0.0, 1.0]), rtol=1e-13)
    True

Every function evaluates whole stencils for all points in one vectorized call of ``f`` and returns an
:class:`Estimate` carrying the value, an error estimate, the step used and a status per point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from numdiff_cli.contract import (
    IMPRECISE,
    KINK,
    KINK_BELOW,
    METHODS,
    NONFINITE,
    NOT_REAL,
    OK,
    OVERFLOW,
    STEP_TOO_LARGE,
    UNRELIABLE,
    VANISHING_STEP,
)
from numdiff_cli.numerics.estimate import EPS, PRECISION, UNRELIABLE_ABOVE, Estimate, concatenated, reshaped
from numdiff_cli.numerics.estimate import columns as columns_of
from numdiff_cli.numerics.gradient import FAST_EVALUATIONS, gradient_auto
from numdiff_cli.numerics.hessian import hessian
from numdiff_cli.numerics.lines import line_derivative
from numdiff_cli.numerics.stencils import default_step, stencil, stencil_sum
from numdiff_cli.numerics.steps import COMPLEX_STEP
from numdiff_cli.perturbed import DENSE_BELOW, STRUCTURED_FROM, Changes

# Numbers per evaluated point that a gradient's batch of changes holds in place of m coordinates: a few changed
# positions per intermediate value, and the dense values of what the structured evaluation does not cover (the
# softmax of x @ W over 10 classes). With 32, the 784x10 softmax cross-entropy gradient peaks 10 MB above the
# process before it (8: 24 MB, and 20% faster; 128: 4 MB).
CHANGE_COST = 32

__all__ = [
    "COMPLEX_STEP",
    "EPS",
    "IMPRECISE",
    "KINK",
    "KINK_BELOW",
    "METHODS",
    "NONFINITE",
    "NOT_REAL",
    "OK",
    "OVERFLOW",
    "PRECISION",
    "STEP_TOO_LARGE",
    "UNRELIABLE",
    "UNRELIABLE_ABOVE",
    "VANISHING_STEP",
    "Estimate",
    "default_step",
    "derivative",
    "gradient",
    "hessian",
    "jacobian",
    "partial",
    "stencil",
    "stencil_sum",
]


def derivative(
    f: Callable[[np.ndarray], np.ndarray],
    x: ArrayLike,
    *,
    order: int = 1,
    method: str = "auto",
    step: float | None = None,
    check_step: bool = False,
    check_kink: bool = False,
    analytic: bool = False,
) -> Estimate:
    """Derivative of a univariate vectorized function at many points.

    Parameters
    ----------
    f : callable
        ``f(x)`` evaluated elementwise on arrays of any shape (complex arrays for ``method="complex"``).
    x : array_like
        Points, shape ``(n,)`` or any shape.
    order : int
        Derivative order, 1 to 4.
    method : {"auto", "central", "forward", "backward", "complex"}
        ``central``/``forward``/``backward``: one finite difference with ``step`` (or :func:`default_step`);
        ``complex``: ``Im f(x + i h) / h``; ``auto``: adaptive Richardson extrapolation with an error estimate.
    step : float, optional
        The step ``h``. With ``method="central"`` and ``order=1`` the result is exactly
        ``(f(x+h) - f(x-h)) / (2*h)`` in float64.
    check_step : bool
        One-step methods (a given ``step`` or the default one): also evaluate the difference at a quarter of the
        step and report :data:`STEP_TOO_LARGE` where it changes by more than half (the step is beyond the scale on
        which f varies: the default step is scaled to |x|, as for ``cos`` at 3e7). Doubles ``nfev``.
    check_kink : bool
        ``auto``, first derivatives: report :data:`KINK` where the slopes on the left and on the right of x
        differ (``abs`` at 0), where a central difference would return their average. 7 more evaluations. Orders
        2 to 4: :data:`KINK_BELOW` where f or a derivative of lower order has a kink at x, or a singularity far
        closer to x than the steps (``x*abs(x)`` at 0, order 2), 12, 13 and 18 more evaluations.
    analytic : bool
        ``f`` is complex-analytic and takes complex arrays (no abs, sign, max, ...). ``auto`` then computes again
        the results it cannot vouch for from values of f on circles around x in the complex plane, and keeps the
        new value where its error is vouched for and it agrees with the real passes' within both estimates (first
        derivatives: the complex step, 14 evaluations; orders 2-4: 160 complex evaluations on circles).

    Returns
    -------
    Estimate

    Notes
    -----
    Truncation error: ``O(h**2)`` for central, ``O(h)`` for one-sided differences, ``O(h**2)`` for the complex
    step (negligible at ``h = 1e-200``); ``auto`` removes the ``h**2 .. h**8`` terms by Richardson extrapolation.

    Examples
    --------
    >>> import numpy as np
    >>> est = derivative(lambda x: x**2 + 3*x + 5, 2.0, method="central", step=1e-4)
    >>> float(est.value)
    7.000000000019213
    >>> np.allclose(derivative(np.sin, [0.0, 1.0], order=2).value, -np.sin([0.0, 1.0]))
    True
    """
    given = np.asarray(x, dtype=float)
    points = given.reshape(-1)

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        base = points if sel is None else points[sel]
        return np.asarray(f(base + t))

    result = line_derivative(
        along,
        points,
        order=order,
        method=method,
        step=step,
        check_step=check_step,
        check_kink=check_kink,
        analytic=analytic,
    )
    return reshaped(result, given.shape)


def partial(
    f: Callable[[np.ndarray], np.ndarray],
    x: ArrayLike,
    *,
    index: int,
    order: int = 1,
    method: str = "auto",
    step: float | None = None,
    check_step: bool = False,
    check_kink: bool = False,
    analytic: bool = False,
) -> Estimate:
    """Partial derivative with respect to variable ``index`` of ``f(X)``, ``X`` of shape ``(m, n)``.

    ``f`` takes an array whose first axis holds the ``m`` variables and returns values over the other axes.
    Same methods and options as :func:`derivative`.

    Examples
    --------
    >>> import numpy as np
    >>> est = partial(lambda v: v[0]**2 * v[1], [[3.0], [2.0]], index=0)
    >>> np.allclose(est.value, [12.0])
    True
    """
    X = np.asarray(x, dtype=float)

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        base = X if sel is None else columns_of(X.reshape(len(X), -1), sel)
        points = np.broadcast_to(base[:, None], (base.shape[0],) + t.shape).astype(t.dtype)
        points[index] = points[index] + t
        return np.asarray(f(points))

    return line_derivative(
        along,
        X[index],
        order=order,
        method=method,
        step=step,
        check_step=check_step,
        check_kink=check_kink,
        analytic=analytic,
    )


def gradient(
    f: Callable[[np.ndarray], np.ndarray],
    x: ArrayLike,
    *,
    method: str = "auto",
    step: float | None = None,
    block: int = 1_000_000,
    check_step: bool = False,
    rows: Sequence[int] | None = None,
    analytic: bool = False,
    check_kink: bool = False,
) -> Estimate:
    """Gradient of ``f(X)`` at ``n`` points, ``X`` of shape ``(m, n)``; the result has shape ``(m, n)``.

    ``rows``: the variables to differentiate by (the others are held at their values); the result then has
    shape ``(len(rows), n)``. ``analytic``: as for :func:`derivative` (``auto`` takes a second opinion in the
    complex plane on the components it cannot vouch for). ``check_kink``: as for :func:`derivative`, per
    component (``abs(x) + y`` at x = 0 has no partial derivative by x).

    All ``2m`` perturbed points of a stencil (for every point) are evaluated in one call of ``f``, in blocks of
    directions so that no call holds more than about ``block`` values (a million values, 8 MB per array, keeps
    f's temporaries in cache: 30% faster than four times that at m = 1000).

    A function that offers ``f.at_changes(changes, budget)`` (compiled array expressions do: see
    :mod:`numdiff_cli.perturbed`) gets, from :data:`~numdiff_cli.perturbed.STRUCTURED_FROM` variables on, the
    perturbed points as a :class:`~numdiff_cli.perturbed.Changes` batch instead (the base points and, per point,
    the variable moved and its value): it evaluates the base point once and each perturbed point in a few
    numbers, ``O(m)`` per stencil instead of ``O(m**2)``, with no dense value of more than ``budget`` numbers.

    Examples
    --------
    >>> import numpy as np
    >>> est = gradient(lambda v: v[0]**2 + 5*v[1] + 2*v[2]**2, [[3.0], [2.0], [1.0]])
    >>> np.allclose(est.value[:, 0], [6.0, 5.0, 4.0])
    True
    """
    X = np.asarray(x, dtype=float)
    m, n = X.shape
    changes = m >= STRUCTURED_FROM and hasattr(f, "at_changes")
    # A dense batch holds m coordinates per evaluation; a batch of changes (f.at_changes) a few numbers.
    per_direction = max(1, (CHANGE_COST if changes else m) * n * FAST_EVALUATIONS)
    width = max(1, min(m, block // per_direction))
    if rows is None:
        blocks: list[Sequence[int]] = [range(d, min(m, d + width)) for d in range(0, m, width)]
    else:
        blocks = [list(rows)[d : d + width] for d in range(0, len(rows), width)]
    return concatenated(
        [
            _gradient_block(f, X, directions, method, step, check_step, block, changes, analytic, check_kink)
            for directions in blocks
        ]
    )


def _gradient_block(
    f: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    directions: Sequence[int],
    method: str,
    step: float | None,
    check_step: bool,
    block: int,
    structured: bool,
    analytic: bool = False,
    check_kink: bool = False,
) -> Estimate:
    dirs = np.asarray(directions)
    at_changes = getattr(f, "at_changes", None) if structured else None

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        # Each point is X at one of its points with one variable moved: t (k, d, n), direction d along variable
        # dirs[d], at every point; or t (k, s) for s selected (direction, point) pairs.
        # (Filled, not np.broadcast_to: its Python wrapper cost 5 us a call, 5% of the gradient at n = 100.)
        which, row = np.empty(t.shape, dtype=np.intp), np.empty(t.shape, dtype=np.intp)
        if sel is None:
            which[...] = np.arange(X.shape[1])
            row[...] = dirs[:, None]
        else:
            direction, point = np.unravel_index(sel, (len(dirs), X.shape[1]))
            which[...], row[...] = point, dirs[direction]
        base = X.astype(t.dtype)
        changes = Changes(base, which, row, base[row, which] + t)
        if at_changes is not None and t.size * X.shape[0] >= DENSE_BELOW:
            return np.asarray(at_changes(changes, block))
        return np.asarray(f(changes.dense()))

    if method == "auto" and step is None:
        return gradient_auto(along, X[dirs], analytic, check_kink)
    return line_derivative(along, X[dirs], order=1, method=method, step=step, check_step=check_step)


def jacobian(
    functions: Sequence[Callable[[np.ndarray], np.ndarray]],
    x: ArrayLike,
    *,
    columns: Sequence[Sequence[int]] | None = None,
    method: str = "auto",
    step: float | None = None,
    check_step: bool = False,
    analytic: bool = False,
    check_kink: bool = False,
) -> Estimate:
    """Jacobian of ``k`` functions at ``n`` points, ``X`` of shape ``(m, n)``; the result has shape ``(k, m, n)``.

    Parameters
    ----------
    functions : sequence of callables
        ``functions[i](V)`` takes the rows ``columns[i]`` of ``X`` (its own variables, shape
        ``(len(columns[i]), *batch)``) and returns values of shape ``batch``.
    x : array_like
        Points, shape ``(m, n)``: all the variables of all the functions.
    columns : sequence of sequences of int, optional
        For each function, the row indices of ``X`` of its variables, in the order it reads them. ``None``: every
        function takes all the rows.
    method, step, check_step, analytic, check_kink
        As for :func:`gradient` (``analytic``: every function is; ``check_kink``: any may have a kink).

    Returns
    -------
    Estimate
        Row ``i`` is the :func:`gradient` of ``functions[i]`` over its rows (``value``, ``error``, ``step``,
        ``status``), zeros with status :data:`OK` for the variables it does not depend on; the error is NaN where
        the method gives none. ``nfev`` is the largest over the functions.

    Examples
    --------
    >>> import numpy as np
    >>> est = jacobian([lambda v: v[0] * v[1], lambda v: v[0] + v[1] ** 2], [[1.0], [2.0]])
    >>> np.allclose(est.value[:, :, 0], [[2.0, 1.0], [1.0, 4.0]])
    True
    >>> est = jacobian([lambda v: v[0] * v[1], lambda v: v[0] ** 3], [[1.0], [2.0], [3.0]], columns=[[0, 2], [1]])
    >>> np.allclose(est.value[:, :, 0], [[3.0, 0.0, 1.0], [0.0, 12.0, 0.0]])
    True
    >>> float(est.error[1, 0, 0]), int(est.status[1, 0, 0])
    (0.0, 0)
    """
    X = np.asarray(x, dtype=float)
    rows = [range(len(X))] * len(functions) if columns is None else columns
    if len(rows) != len(functions):
        raise ValueError(f"{len(functions)} functions but {len(rows)} lists of columns")
    shape = (len(functions), *X.shape)
    value, error, steps = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    status = np.full(shape, OK)
    nfev, used = 0, method
    for k, (f, index) in enumerate(zip(functions, rows)):
        if not len(index):
            continue
        index = list(index)
        estimate = gradient(
            f, X[index], method=method, step=step, check_step=check_step, analytic=analytic, check_kink=check_kink
        )
        value[k, index] = estimate.value
        error[k, index] = estimate.error
        steps[k, index] = estimate.step
        status[k, index] = estimate.status
        nfev, used = max(nfev, estimate.nfev), estimate.method
    return Estimate(value, error, steps, nfev, used, status)
