"""The rounding of f's own argument, which no difference of the steps shows (:func:`argument_rounding`).

Where f computes ``c*x`` before a function that varies fast, ``c*(x + h)`` is rounded the way ``c*x`` is at every
step whose bits the product has room for (the steps have few: see steps.py): every value of the stencil is f at
the shifted point ``x + delta``, and the estimate, however well its steps agree, is the derivative there,
``f''(x) * delta`` off (``sin(50*x)`` at 841322.75: -6.00089299573 +- 3.7e-12 for -6.00089313442; delta is up to
half an ulp of ``50*x`` over 50, 0.65 ulp of x).

The central difference at the chosen step, taken again at points a few ulps of x apart, measures it: the shift
such a rounding makes is the same at every stencil of one point and different from point to point, so that the
differences, which follow ``f'`` along a smooth curve over such small moves of x, scatter about it by ``f''``
times the shifts. The parabola fitted to them gives the difference at x without its own shift, to within that scatter;
the estimate's distance from it and the scatter, less what the rounding of f's values makes of them, are added to
its error (of 2,828 results vouched for among 8,000 points of sin(50*x), cos(3*x), exp(sin(7*x)) and tan(3*x) at
3e4 to 2e6, 3 are beyond it, 1.1 to 5.5 times; counted twice, they flagged twice as many right results and left 2).
Only where the rounding of an argument the size of x could matter: at |x| many times the chosen step
(:data:`STEPS_FROM_X`), and where shifts of a few ulps of x are far below the step (:data:`SHIFTS_BELOW_STEP`).

It does not see a rounding that is the same at every shift: ``(x + h)/3`` and ``(x - h)/3``, whose difference is
not ``2*h/3`` by the same few ulps at each (``sin(x/3)`` at 54238.2: 1.7e-10 relative, twice its error estimate).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from numdiff_cli.numerics.estimate import EPS, Along, on_lines
from numdiff_cli.numerics.stencils import stencil, stencil_sum
from numdiff_cli.numerics.steps import taken

# Points whose |x| is at least this many times the chosen step are probed. The rounding of an argument the size of
# x moves f' by about EPS * |x| * |f''|, EPS * |x| / h of f' where the step h is about the scale of f: 7e-12 of it
# here. (From 1,024 on, sin(1000*x) on [-1, 1] was probed at every point, 44 evaluations at the median instead of 30,
# for a rounding of 1e-13 of f'; cos(3*x) at 1e3 to 4e3, which this leaves, had 1 of 300 points unflagged and 1.7
# times its error.)
STEPS_FROM_X = 32768.0
# The shifts of x, in ulps of x, on both sides: odd and even, with and without a factor 3, so that a constant times
# them falls on the ulps of its product with x for a few at most (3 ulps of x over 3 are an exact shift of x/3,
# whose rounding then stays the same at every such shift; 2 and 4 times 3 are whole ulps of 3*x at some x).
SHIFTS = np.array([-5.0, -3.0, -2.0, 0.0, 1.0, 4.0, 7.0])
# The rounding of f's values the probe's differences may carry without a sign of its argument's, in ulps of f per
# value, over the step: two differences (the estimate's and the line's) of values off by up to 2 ulps each.
ROUNDING_ULPS = 8.0
SPAN = float(SHIFTS.max() - SHIFTS.min())
# The shifts span at most this fraction of the step (12 ulps of x: steps of 0.125 at x up to 1e12).
SHIFTS_BELOW_STEP = 1024.0


def argument_evaluations(order: int) -> int:
    """Evaluations of f per probed point: the central difference of ``order`` at each shift."""
    return len(stencil(order, "central")[0]) * len(SHIFTS)


def argument_rounding(
    along: Along,
    x: np.ndarray,
    value: np.ndarray,
    error: np.ndarray,
    step: np.ndarray,
    vouched: Callable[[], np.ndarray],
    order: int,
) -> int:
    """At the points ``vouched()`` (a flat mask, asked for only where a point is far enough) whose |x| is
    :data:`STEPS_FROM_X` times their ``step`` or more, adds what the rounding of f's argument makes of the derivative
    of ``order`` ``value`` to its ``error`` (flat arrays, in place; infinite where the probe's values are not
    finite); returns the evaluations of f per point it made (0 where it probed none). (Orders 2 to 4 as the first:
    the derivative at the shifted point, ``f^(n+1)`` times the shift off.)"""
    with np.errstate(all="ignore"):
        # (Not where the shifts are not far below the step: x of 1e14, whose ulps are 0.016, where f' varies over
        # them by more than any rounding of its argument moves it.)
        far = (np.abs(x) >= STEPS_FROM_X * step) & (SHIFTS_BELOW_STEP * SPAN * np.spacing(np.abs(x)) <= step)
        far &= np.isfinite(value) & (step > 0)
        if not far.any():  # (the common case: no verdict asked for)
            return 0
        points = np.flatnonzero(vouched() & far)
    if not points.size:
        return 0
    xs, h = x[points], step[points]
    with np.errstate(all="ignore"):
        ulp = np.spacing(np.abs(xs))
        shifts = taken(xs, SHIFTS[:, None] * ulp)  # (exact: x + shift is a double)
        steps = taken(xs + shifts, h)  # (x + shift +- step: doubles too)
        offsets, numerators, denominator = stencil(order, "central")
        t = np.concatenate([shifts + offset * steps for offset in offsets])
        values = on_lines(along, points)(t, None).reshape(len(offsets), len(SHIFTS), -1)
        slopes = stencil_sum(values, numerators) / (denominator * steps**order)
        # The parabola through them, least squares in the shift (in ulps of x), its value at x and the largest
        # distance of a difference from it. (A parabola, not a line: next to a pole, and at |x| of 1e10, where 7
        # ulps of x are 1e-5, f' bends over the shifts by more than the promise: tan(x) 1e-10 from its pole.)
        s = shifts / ulp
        design = np.stack([np.ones_like(s), s, s * s], axis=-1).transpose(1, 0, 2)  # (points, shifts, 3)
        normal = design.transpose(0, 2, 1) @ design
        try:
            coefficients = np.linalg.solve(normal, (design.transpose(0, 2, 1) @ slopes.T[:, :, None]))[:, :, 0]
        except np.linalg.LinAlgError:  # (shifts that collapsed: no measure, no vouching)
            error[points] = np.inf
            return argument_evaluations(order)
        at_x = coefficients[:, 0]
        scatter = np.abs(slopes.T - (design @ coefficients[:, :, None])[:, :, 0]).max(axis=1)
        own = slopes[int(np.flatnonzero(SHIFTS == 0)[0])]
        # Less what the rounding of f's values makes of them (ROUNDING_ULPS ulps of the largest each): it is in the
        # estimate's error already, and counted twice it flagged right results (sqrt(x) + cos(x) at 1.3e6, f ~ 1150).
        weight = sum(map(abs, numerators)) / denominator
        rounding = ROUNDING_ULPS * EPS * weight * np.abs(values).max(axis=(0, 1)) / h**order
        added = 1 * np.fmax(np.abs(own - at_x) + scatter - rounding, 0.0)
        error[points] += np.where(np.isfinite(added), added, np.inf)
    return argument_evaluations(order)
