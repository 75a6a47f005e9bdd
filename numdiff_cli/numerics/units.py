"""The unit of the scaled pass's steps (:func:`scale_found`): the scale on which f varies at a point, as the fast pass
measured it (:func:`~.scaled.scaled_passes` runs the fast pass again on its steps times that unit)."""

from __future__ import annotations

import numpy as np

from numdiff_cli.numerics.steps import SCALED_FRACTION

# The h**2 coefficient of the central difference of each order, in units of f^(n+2): D(h) = f^(n) + c_n f^(n+2) h**2.
CURVATURE = {1: 1 / 6, 2: 1 / 12, 3: 1 / 4, 4: 1 / 6}


def scale_found(
    x: np.ndarray,
    order: int,
    steps: np.ndarray,
    estimates: np.ndarray,
    rounding: np.ndarray,
    noise: np.ndarray,
    error: np.ndarray,
    unit: np.ndarray | None,
) -> np.ndarray:
    """The unit of steps for the fast pass to try again at the points ``x`` (flat; see
    :func:`~.scaled.scaled_passes`): :data:`~.steps.SCALED_FRACTION` of the scale on which f varies there, as the
    fast pass on ``steps`` (times ``unit``) measured it from its ``estimates`` (each with its worst-case
    ``rounding``) and the value's ``error`` (of which ``noise`` is rounding), rounded to a power of two (``x +- h``
    stays exact for short x).

    The scale is ``sqrt|f^(n) / f^(n+2)|``, from the gap of the last two differences (``c_n f^(n+2) (h1**2 -
    h2**2)`` in the asymptotic regime: :data:`CURVATURE`). Where that comes out below the second smallest step and
    the differences grow towards the smallest, the steps were beyond a singularity of f and the gap measures
    nothing: at |x| < 1 the scale is then taken as at most |x| (f most often has its singularity at 0: ``1/x``,
    ``log(x)``, ``sqrt(x)``, ``x**2.5``). Where the gap is at the
    rounding level the steps were too small: the scale is at least what makes it so, and at least |x|; where it is
    resolved, the scale is never taken larger than these steps' (see below). Where a step left the domain of f, its
    edge is beyond the largest step that did not (``log(1 + x)`` at order 3), or, where none did (``sqrt(x)`` at
    1e-4), most often at 0: at most |x| and the smallest step. An estimate whose error is mostly the rounding it
    carries (``tanh(100*x)`` at 0.04, where
    f' is 1e-3 of f) needs larger steps: four times these, at least.
    """
    near = np.abs(x)
    floor_gap = 2 * (rounding[-2] + rounding[-1])
    gap = np.abs(estimates[-2] - estimates[-1])
    spread = (
        CURVATURE[order] * (steps[-2] ** 2 - steps[-1] ** 2) * np.maximum(np.abs(estimates[-1]), np.abs(estimates[-2]))
    )
    current = 1.0 if unit is None else unit
    resolved = gap > floor_gap
    measured = np.where(resolved, np.sqrt(spread / gap), np.maximum(np.sqrt(spread / floor_gap), near))
    # Steps beyond a singularity at 0 see differences that grow towards the smaller steps (1/x at 1e-3: 1/h**2);
    # a small scale from differences that shrink is a zero of f' (log(1 + x) - x near 0), not a singularity, and
    # steps of |x| there are below what 1 + x resolves: f is exactly linear on them, with the slope of -x.
    growing = np.abs(estimates[-1]) > np.abs(estimates[-2])
    beyond = resolved & (measured < steps[-2]) & growing & (near > 0) & (near < 1)
    # Never larger steps on a resolved gap, unless rounding limits the estimate: where f is smooth on a larger scale
    # the tableau converges and the point settles. A point that did not settle with a resolved gap that says
    # "smooth" has steps beyond a scale the gap does not see: x + cos(1000*x) at 7e-14, where the cosine cancels in
    # every central difference of steps above 1e-3 and all of them agree on 1 + 1e-12 (7e-8 off).
    found = np.where(resolved, np.minimum(measured, current / SCALED_FRACTION), measured)
    found = np.where(beyond, np.minimum(found, near), found)
    # Where a step left the domain of f, its edge lies beyond the largest step whose difference is finite: the scale
    # is that step (log(1 + x) at order 3 and 1e-20, whose edge is at 1), or |x| and the smallest step where none is
    # (sqrt(x) at 1e-4, whose edge is at 0).
    finite_steps = np.isfinite(estimates)
    edge = ~finite_steps.all(axis=0)
    if edge.any():
        largest_finite = np.where(finite_steps, steps, 0.0).max(axis=0)
        found = np.where(edge, np.where(largest_finite > 0, largest_finite, outside_scale(x, steps[-1])), found)
    rounded = (noise > error - noise) & ~edge
    found = np.where(rounded, np.maximum(measured, 4 * current / SCALED_FRACTION), found)
    return unit_of(found)


def outside_scale(x: np.ndarray, smallest: np.ndarray) -> np.ndarray:
    """The scale at points where no step of the fast pass stayed in the domain of f (``sqrt(x)`` at 1e-4): its edge
    is most often at 0, so at most |x|, and at most the ``smallest`` step."""
    return np.minimum(np.abs(x), smallest)


def unit_of(scale: np.ndarray) -> np.ndarray:
    """The unit of steps for a ``scale`` on which f varies: :data:`~.steps.SCALED_FRACTION` of it, rounded to a power
    of two (``x +- h`` stays exact for short x)."""
    return np.exp2(np.round(np.log2(SCALED_FRACTION * scale)))
