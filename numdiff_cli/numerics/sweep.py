"""Finite differences at chosen steps and precisions: step sweeps, single precision, explanations.

The lessons of numerical differentiation are about the step ``h``: truncation error falls as ``h`` shrinks,
rounding error grows as ``eps / h``, and the best step sits where they meet. This module evaluates plain
stencils at any step in float64 or float32 so that the lessons can show that.

In float64 :func:`finite_difference` is bit for bit :func:`numdiff_cli.engine.derivative` with the same
method and step: the same points, the same summation order, the same division.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from math import factorial

import numpy as np
from numpy.typing import ArrayLike

from numdiff_cli.contract import NONFINITE, OK, STEP_TOO_LARGE, VANISHING_STEP
from numdiff_cli.numerics.estimate import STEP_CHECK_DIVISOR, Estimate, reshaped
from numdiff_cli.numerics.stencils import complex_step, default_step, stencil, stencil_sum, step_too_large

DTYPES = ("float64", "float32")
KINDS = ("central", "forward", "backward")


def epsilon(dtype: str) -> float:
    """Machine epsilon of ``dtype`` (2.2e-16 for float64, 1.2e-7 for float32)."""
    return float(np.finfo(np.dtype(dtype)).eps)


def optimal_step(x: ArrayLike, *, order: int = 1, kind: str = "central", dtype: str = "float64") -> np.ndarray:
    """The textbook step that balances truncation and rounding error.

    Notes
    -----
    ``eps**(1/(order+2)) * max(1, |x|)`` for central differences (truncation ``O(h**2)``),
    ``eps**(1/(order+1)) * max(1, |x|)`` for one-sided ones (truncation ``O(h)``), with the ``eps`` of
    ``dtype``: about 6e-6 for a central first derivative in float64 and 5e-3 in float32.

    Examples
    --------
    >>> import numpy as np
    >>> np.allclose(optimal_step(1.0), (2.0**-52) ** (1 / 3))
    True
    """
    return np.asarray(default_step(np.asarray(x, dtype=float), order=order, kind=kind, eps=epsilon(dtype)))


def finite_difference(
    g: Callable[[np.ndarray], np.ndarray],
    x: ArrayLike,
    *,
    order: int = 1,
    kind: str = "central",
    step: float | None = None,
    dtype: str = "float64",
    check_step: bool = False,
) -> Estimate:
    """One finite difference of the univariate vectorized ``g`` at the points ``x``, computed in ``dtype``.

    Parameters
    ----------
    g : callable
        ``g(v)`` for an array ``v`` of shape ``(k, *x.shape)`` in ``dtype``; its values are rounded to ``dtype``
        (a float64 constant inside ``g`` must not make the difference more precise than ``dtype`` allows).
    x : array_like
        The points.
    order, kind : int, str
        Derivative order and stencil (see :func:`numdiff_cli.numerics.stencils.stencil`).
    step : float, optional
        The step ``h``; default :func:`optimal_step` in ``dtype``, adjusted to the step actually taken.
    dtype : {"float64", "float32"}
    check_step : bool
        Also compute the difference at a step ``STEP_CHECK_DIVISOR`` times smaller, in ``dtype``, and report
        ``STEP_TOO_LARGE`` where the two differ as :func:`~numdiff_cli.numerics.stencils.fixed_step_difference`
        says (the rounding noise then that of ``dtype``): the step is beyond the scale on which f varies.

    Returns
    -------
    Estimate
        Values as float64 arrays holding the ``dtype`` results exactly; status ``VANISHING_STEP`` where
        ``x + h == x`` in ``dtype``.

    Examples
    --------
    >>> import numpy as np
    >>> est = finite_difference(np.exp, [1.0], step=1e-2, dtype="float32")
    >>> bool(abs(est.value[0] - np.e) < 1e-3)
    True
    """
    if kind not in KINDS:
        raise ValueError(f"unknown stencil kind {kind!r}; expected one of {', '.join(KINDS)}")
    dt = np.dtype(dtype)
    x = np.asarray(x, dtype=dt)
    offsets, numerators, denominator = stencil(order, kind)
    if step is None:
        h = optimal_step(x, order=order, kind=kind, dtype=dtype).astype(dt)
        h = (x + h) - x
    else:
        h = np.full(x.shape, step, dtype=dt)
    shaped = np.asarray(offsets, dtype=dt).reshape((-1,) + (1,) * x.ndim)
    with np.errstate(all="ignore"):
        values = np.asarray(g(x + shaped * h), dtype=dt)
        value = stencil_sum(values, numerators) / (denominator * h**order)
    status = np.where(np.isfinite(value), OK, NONFINITE)
    nfev = len(offsets)
    if check_step:
        small = h / dt.type(STEP_CHECK_DIVISOR)
        with np.errstate(all="ignore"):
            check_values = np.asarray(g(x + shaped * small), dtype=dt)
            scale = (denominator * small**order).astype(np.float64)
            check = stencil_sum(check_values, numerators).astype(np.float64) / scale
            # (Summed in float64: in float32 the sum of |f| overflows above about 1e37, and an infinite noise would
            # vouch for any step: 1e38*sin(x) at 1e5, order 4.)
            magnitude = stencil_sum(np.abs(check_values).astype(np.float64), tuple(map(abs, numerators)))
            noise = 4 * epsilon(dtype) * magnitude / scale
            too_large = step_too_large(value.astype(np.float64), check, noise)
        status = np.where((status == OK) & too_large, STEP_TOO_LARGE, status)
        nfev *= 2
    status = np.where((x + h == x) | (h == 0), VANISHING_STEP, status)
    as64 = np.asarray(value, dtype=np.float64)
    return Estimate(as64, np.full(x.shape, np.nan), np.asarray(h, dtype=np.float64), nfev, kind, status)


def sweep_steps(start: float = 1e-1, stop: float = 1e-16, num: int = 16) -> np.ndarray:
    """``num`` steps from ``start`` to ``stop``, evenly spaced in log scale (both ends included).

    Examples
    --------
    >>> import numpy as np
    >>> np.allclose(sweep_steps(), 10.0 ** -np.arange(1, 17))
    True
    """
    steps = np.geomspace(start, stop, num)
    # Powers of ten exactly as written (1e-5, not 1.0000000000000001e-05) when the grid is one per decade.
    return np.array([float(f"{h:.12g}") for h in steps])


def nearest_step(steps: np.ndarray, target: float) -> int:
    """Index of the step closest to ``target`` in log scale."""
    return int(np.argmin(np.abs(np.log(steps) - np.log(target))))


@dataclass(frozen=True)
class Terms:
    """A finite difference written out: the points, the values of f, the weighted sum and the result."""

    kind: str
    order: int
    dtype: str
    x: float
    h: float
    offsets: tuple[int, ...]
    numerators: tuple[int, ...]
    denominator: int
    points: tuple[float, ...]
    values: tuple[float, ...]
    total: float  # sum(numerators[j] * values[j])
    value: float  # total / (denominator * h**order)
    truncation_power: int  # the truncation error is truncation_coefficient * h**(p - order) * f^(p)(x), p this
    truncation_coefficient: Fraction
    rounding: float  # eps * sum(|numerators[j] * values[j]|) / (denominator * h**order)


def truncation_term(order: int, kind: str) -> tuple[int, Fraction]:
    """Leading truncation term of a stencil: ``(p, C)`` with error ``~ C * h**(p - order) * f^(p)(x)``.

    Notes
    -----
    From the Taylor expansion ``f(x + o h) = sum_q (o h)**q f^(q)(x) / q!``, the stencil's first non-zero
    moment beyond ``order`` gives ``C = sum_j w_j o_j**p / p!``: ``(3, 1/6)`` for the central first
    derivative, ``(2, 1/2)`` for the forward one.

    Examples
    --------
    >>> truncation_term(1, "central")
    (3, Fraction(1, 6))
    """
    offsets, numerators, denominator = stencil(order, kind)
    for p in range(order + 1, order + 2 * len(offsets) + 2):
        moment = Fraction(sum(c * o**p for c, o in zip(numerators, offsets)), denominator * factorial(p))
        if moment != 0:
            return p, moment
    raise AssertionError("a stencil with finitely many points always has a non-zero moment")


def explain(
    g: Callable[[np.ndarray], np.ndarray], x: float, *, order: int, kind: str, step: float | None, dtype: str
) -> Terms:
    """The terms of :func:`finite_difference` at one point, to show how a difference is computed.

    ``value`` equals ``finite_difference(...).value`` bit for bit.
    """
    estimate = finite_difference(g, [x], order=order, kind=kind, step=step, dtype=dtype)
    dt = np.dtype(dtype)
    offsets, numerators, denominator = stencil(order, kind)
    h = np.asarray(estimate.step, dtype=dt)
    points = np.asarray(x, dtype=dt) + np.asarray(offsets, dtype=dt)[:, None] * h
    with np.errstate(all="ignore"):
        values = np.asarray(g(points), dtype=dt)
        total = stencil_sum(values, numerators)
        magnitude = stencil_sum(np.abs(values), tuple(abs(c) for c in numerators))
        rounding = epsilon(dtype) * magnitude.astype(np.float64) / (denominator * h.astype(np.float64) ** order)
    power, coefficient = truncation_term(order, kind)
    return Terms(
        kind=kind,
        order=order,
        dtype=dtype,
        x=float(np.asarray(x, dtype=dt)),
        h=float(h[0]),
        offsets=offsets,
        numerators=numerators,
        denominator=denominator,
        points=tuple(float(p) for p in points[:, 0]),
        values=tuple(float(v) for v in values[:, 0]),
        total=float(total[0]),
        value=float(estimate.value[0]),
        truncation_power=power,
        truncation_coefficient=coefficient,
        rounding=float(rounding[0]),
    )


def sweep(
    g: Callable[[np.ndarray], np.ndarray],
    x: ArrayLike,
    steps: ArrayLike,
    *,
    order: int = 1,
    kind: str = "central",
    dtype: str = "float64",
) -> tuple[np.ndarray, np.ndarray]:
    """The same finite difference at each of ``steps``: values and statuses of shape ``(len(steps), *x.shape)``.

    ``kind="complex"`` is the complex step ``Im g(x + i h) / h`` (float64 only, first derivatives).

    Examples
    --------
    >>> import numpy as np
    >>> values, status = sweep(np.sin, [1.0], [1e-2, 1e-5])
    >>> np.allclose(values[:, 0], np.cos(1.0), rtol=1e-4)
    True
    """
    results = []
    for h in np.asarray(steps, dtype=float).tolist():
        if kind == "complex":
            if dtype != "float64":
                raise ValueError("the complex step is computed in float64 only")
            results.append(_complex_sweep_step(g, x, h))
        else:
            results.append(finite_difference(g, x, order=order, kind=kind, step=h, dtype=dtype))
    return np.stack([r.value for r in results]), np.stack([r.status for r in results])


def _complex_sweep_step(g: Callable[[np.ndarray], np.ndarray], x: ArrayLike, h: float) -> Estimate:
    """The complex step at ``h``, on the points flattened as :func:`numdiff_cli.engine.derivative` does."""
    given = np.asarray(x, dtype=float)
    points = given.reshape(-1)
    return reshaped(complex_step(lambda t, sel: np.asarray(g(points + t)), points, order=1, step=h), given.shape)
