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


def line(value: float, slope: float, x: float, name: str) -> tuple[float, str]:
    """The intercept and the equation of the tangent line through ``(x, value)`` with ``slope``.

    The left-hand side is ``y``, or ``f`` when the variable is itself called ``y``; ``nan`` when the value or
    the slope is not finite.
    """
    intercept = value - slope * x
    lhs = "y" if name != "y" else "f"
    finite = math.isfinite(value) and math.isfinite(slope)
    return intercept, f"{lhs} = {short(slope)}*{name} {signed(intercept)}" if finite else "nan"


def plane(value: float, slopes: Sequence[float], point: Sequence[float], names: Sequence[str]) -> str:
    """The equation of the tangent plane at ``point`` (``nan`` when the value or a slope is not finite).

    The left-hand side is the first of ``z``, ``f``, ``value`` that is not a variable.
    """
    lhs = next(n for n in ("z", "f", "value") if n not in names)
    finite = math.isfinite(value) and all(math.isfinite(s) for s in slopes)
    terms = " ".join(f"+ {short(s)}*({n} {signed(-a)})" for n, s, a in zip(names, slopes, point))
    return f"{lhs} = {short(value)} {terms}" if finite else "nan"


def text_picture(
    function: Callable[[np.ndarray], np.ndarray], points: np.ndarray, method: str, step: float | None, var: str
) -> str:
    """A text plot of the function of one variable and its tangent lines at the finite ``points`` ("" if none)."""
    finite = points[np.isfinite(points)]
    if not finite.size:
        return ""
    values = function(finite[None])
    slopes = engine.gradient(function, finite[None], method=method, step=step).value[0]
    data = plot.tangent_data(lambda x: function(x[None]), finite, values, slopes, num=60)
    return plot.text_tangent(data, var)


def draw_picture(
    function: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    method: str,
    step: float | None,
    title: str,
    path: str,
    var: str,
) -> None:
    """Draw the function of one variable and its tangent lines at the points ``X`` (shape ``(1, n)``) into
    ``path`` (needs matplotlib)."""
    values = function(X)
    slopes = engine.gradient(function, X, method=method, step=step).value[0]
    data = plot.tangent_data(lambda x: function(x[None]), X[0], values, slopes)
    plot.draw_tangent(data, title, path, var)
