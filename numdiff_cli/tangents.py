"""Tangent lines and planes: their equations as text, and their pictures.

``y = 0.2*x - 0.25`` for one variable, ``z = 5.0 + 2.0*(x - 1.0) + 4.0*(y - 2.0)`` for several; numbers are
written with :func:`numdiff_cli.render.short`, so that rounding noise in the last digit does not show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from numdiff_cli import engine, plot
from numdiff_cli.render import short


def signed(value: float) -> str:
    """``+ 0.25`` or ``- 0.25``: a term of an equation."""
    text = short(abs(value)) if math.isfinite(value) else "nan"
    return f"- {text}" if value < 0 else f"+ {text}"


def slopes(
    function: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    *,
    method: str,
    step: float | None,
    analytic: bool = False,
    smooth: bool = False,
) -> engine.Estimate:
    """The slopes of the tangent at the points ``X`` (the gradient, one row per variable).

    A kink is flagged as ``diff`` flags it, along each variable (``abs(x)`` at 0 has no tangent, and a central
    difference would return the average of the two slopes, 0, without a word), unless the function is ``smooth``
    (:attr:`~numdiff_cli.expr.Expression.smooth`). ``analytic``: as for :func:`~numdiff_cli.engine.derivative`.
    """
    return engine.gradient(
        function, X, method=method, step=step, check_step=True, analytic=analytic, check_kink=not smooth
    )


def line(value: float, slope: float, x: float, name: str) -> tuple[float, str]:
    """The intercept and the equation of the tangent line through ``(x, value)`` with ``slope``.

    The left-hand side is ``y``, or ``f`` when the variable is itself called ``y``; ``nan`` when the value, the
    slope or the intercept is not finite (``x**2`` at 1e154: slope * x overflows).
    """
    intercept = value - slope * x
    lhs = "y" if name != "y" else "f"
    finite = math.isfinite(value) and math.isfinite(slope) and math.isfinite(intercept)
    if not finite:
        return intercept, "nan"
    # The intercept is the difference of value and slope * x: its rounding is that of the larger of the two, so it
    # is shown to their 15 significant digits, not its own (0.75 - 0.2000000000000001 * 5 is -0.2500000000000007,
    # which reads -0.25 like its ingredients, not -0.250000000000001).
    larger = max(abs(value), abs(slope * x))
    shown = round(intercept, 14 - math.floor(math.log10(larger))) if larger > 0 and math.isfinite(larger) else intercept
    return intercept, f"{lhs} = {short(slope)}*{name} {signed(shown)}"


def plane(value: float, slopes: Sequence[float], point: Sequence[float], names: Sequence[str]) -> str:
    """The equation of the tangent plane at ``point`` (``nan`` when the value or a slope is not finite).

    The left-hand side is the first of ``z``, ``f``, ``value`` that is not a variable.
    """
    lhs = next(n for n in ("z", "f", "value") if n not in names)
    finite = math.isfinite(value) and all(math.isfinite(s) for s in slopes)
    # (x - a), with the sign of a zero ignored: (x - 0.0), never (x + 0.0).
    terms = " ".join(
        f"+ {short(s)}*({n} {'+' if a < 0 else '-'} {short(abs(a))})" for n, s, a in zip(names, slopes, point)
    )
    return f"{lhs} = {short(value)} {terms}" if finite else "nan"


DEPARTURE = 0.15  # the curve leaves its tangent by this share of the picture's height at the window's edge


def _half_width(curve: Callable[[np.ndarray], np.ndarray], a: float, fa: float, slope: float) -> float:
    """The half-width around ``a`` at which ``curve`` visibly leaves its tangent.

    The smallest of the widths ``w`` tried (geometrically, from 1e-3 to 1e3 times the point's scale) at which the
    largest distance between the curve and the tangent over ``[a - w, a + w]`` reaches :data:`DEPARTURE` of the
    height the picture spans there: a narrower window shows a straight line, a wider one flattens the bend (or
    runs into a pole). A straight line never departs: it gets the point's scale.
    """
    scale = max(1.0, abs(a))
    t = np.linspace(-1.0, 1.0, 41)
    for w in scale * np.geomspace(1e-3, 1e3, 61):
        x = a + w * t
        with np.errstate(all="ignore"):
            y = np.asarray(curve(x), dtype=float)
        if not np.isfinite(y).all():
            return float(w / 1.25) if w > scale * 1e-3 else float(w)  # the domain ends or a pole: stop before it
        tangent = fa + slope * (x - a)
        height = max(float(y.max() - y.min()), float(np.abs(tangent[-1] - tangent[0])))
        if height > 0 and float(np.abs(y - tangent).max()) >= DEPARTURE * height:
            return float(w)
    return scale


def tangent_picture(
    curve: Callable[[np.ndarray], np.ndarray],
    points: np.ndarray,
    values: np.ndarray,
    slopes: np.ndarray,
    xlim: tuple[float, float] | None = None,
    num: int = 400,
) -> plot.TangentData:
    """f and its tangent lines over a window where the curve visibly leaves each tangent (or over ``xlim``).

    Each tangent is drawn over its own window (:func:`_half_width`); f over the union of them, or ``xlim``. Values
    of f far outside what the window shows near the points (a pole) are left out, so that they do not flatten the
    picture, and the curve is not joined across them.
    """
    halves = [
        _half_width(curve, float(a), float(fa), float(s)) if math.isfinite(fa) and math.isfinite(s) else 1.0
        for a, fa, s in zip(points, values, slopes)
    ]
    if xlim is None:
        low = min(float(a) - 1.2 * w for a, w in zip(points, halves))
        high = max(float(a) + 1.2 * w for a, w in zip(points, halves))
    else:
        low, high = xlim
        halves = [min(w, high - low) for w in halves]
    x = np.linspace(low, high, num)
    with np.errstate(all="ignore"):
        y = np.asarray(curve(x), dtype=float)
    y = np.where(np.isfinite(y), y, np.nan)
    near = [np.abs(x - a) <= 1.2 * w for a, w in zip(points, halves)]
    core = y[np.logical_or.reduce(near) & np.isfinite(y)] if near else y[np.isfinite(y)]
    if core.size:
        bottom, top = float(core.min()), float(core.max())
        pad = max(top - bottom, 1e-12 * max(1.0, abs(top)))
        y = np.where((y >= bottom - 2 * pad) & (y <= top + 2 * pad), y, np.nan)
    lines = []
    for a, fa, slope, w in zip(points, values, slopes, halves):
        xs = np.array([a - w, a + w])
        lines.append((xs, fa + slope * (xs - a)))
    return plot.TangentData(x, y, np.asarray(points), np.asarray(values), np.asarray(slopes), lines)


def text_picture(
    function: Callable[[np.ndarray], np.ndarray],
    points: np.ndarray,
    method: str,
    step: float | None,
    var: str,
    xlim: tuple[float, float] | None = None,
) -> str:
    """A text plot of the function of one variable and its tangent lines at the finite ``points`` ("" if none)."""
    finite = points[np.isfinite(points)]
    if not finite.size:
        return ""
    values = function(finite[None])
    slopes = engine.gradient(function, finite[None], method=method, step=step).value[0]
    data = tangent_picture(lambda x: function(x[None]), finite, values, slopes, xlim, num=60)
    return plot.text_tangent(data, var)


def draw_picture(
    function: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    method: str,
    step: float | None,
    title: str,
    path: str,
    var: str,
    xlim: tuple[float, float] | None = None,
) -> None:
    """Draw the function of one variable and its tangent lines at the points ``X`` (shape ``(1, n)``) into
    ``path`` (needs matplotlib), over ``xlim`` or a window where the curve visibly leaves its tangents."""
    values = function(X)
    slopes = engine.gradient(function, X, method=method, step=step).value[0]
    data = tangent_picture(lambda x: function(x[None]), X[0], values, slopes, xlim)
    plot.draw_tangent(data, title, path, var)
