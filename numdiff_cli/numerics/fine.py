"""``auto``'s fine pass for derivatives of order 2 to 4: a dense Richardson tableau around the step the other passes
chose, for the points whose estimate they cannot vouch for.

The rounding of an order-``n`` difference grows like ``1/h**n``, so the higher the order, the more an estimate gains
from the largest steps f allows, and the less it can afford the noise that a tableau of widely spaced steps
amplifies. The passes of :mod:`.adaptive` use ratios of 1.6 to 2.1 and at most 4 levels: on the order-2 to 4 cases
of benchmarks/honesty.py and a set of smooth functions, their results had a 5th percentile of 10.6, 9.5 and 8.1
correct digits. Steps in a ratio of 1.25 from 6 times the chosen step down to a sixth of it, extrapolated up to 8
levels, reach 11.5, 10.1 and 8.9 (medians 12.6, 11.5 and 10.2 instead of 12.2, 10.9 and 9.0; measured against
mpmath references).

The error of a candidate (:func:`fine_errors`) is its distance to the two entries built on the next smaller steps
(the next entry of its level and the entry of the level below that ends one step further), plus
:data:`NOISE_SIGMAS` standard deviations of the rounding it carries, from the rounding of f measured next to x
(:func:`ulps_of_noise`).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from numdiff_cli.numerics.estimate import EPS, Along
from numdiff_cli.numerics.richardson import richardson
from numdiff_cli.numerics.stencils import shaped_offsets, stencil, stencil_sum
from numdiff_cli.numerics.steps import FINE_LEVELS, FINE_RATIO, FINE_STEPS, FINE_UP, taken

# The rounding a candidate carries is counted as this many standard deviations. It is computed from the weights
# of the tableau and the rounding of f measured next to x (ulps_of_noise), not at its worst case (every value of f
# off by EPS * |f| with the signs that add up): that is 5 to 10 times what the values carry, and made estimates 10
# to 30 times the true error, flagging results that had the promised digits. With 2.5, the smallest ratio of
# estimate to true error on the order-2 to 4 cases of the honesty corpus is 0.37 (median 10).
NOISE_SIGMAS = 2.5
# The measured rounding of f is taken as at least this many ulps of |f| (polynomials evaluated exactly measure 0).
QUIET_ULPS = 0.1
# ulps_of_noise: PROBE_POINTS values of f at a spacing of PROBE_FRACTION times the chosen step.
PROBE_FRACTION = 1e-3
PROBE_POINTS = 12


def fine_steps(x: np.ndarray, step: np.ndarray) -> np.ndarray:
    """:data:`FINE_STEPS` steps from ``FINE_UP * step`` down by :data:`FINE_RATIO`, as taken from the flat points
    ``x``: shape ``(FINE_STEPS, x.size)``."""
    powers = FINE_RATIO ** -np.arange(FINE_STEPS).reshape((-1, 1))
    return taken(x, FINE_UP * step[None] * powers)


def fine_errors(candidates: np.ndarray, carried: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The error estimate of each candidate of the fine tableau (``levels``: the level of each, as flattened by
    :func:`~.richardson.richardson`); infinite for level 0 and for the last entry of each level.

    The neighbours on the side of the smaller steps are the ones that say something about a candidate: in the
    truncation regime they are the more accurate, so their distance measures the candidate's own truncation
    error; in the rounding regime they carry more noise than it, so the distance overstates its error. The
    neighbour on the larger step, which the tableau of the searches also consults, carries a larger truncation
    error of its own next to a singularity (sqrt at 0.35, asin at 0.65, order 3), and flagged results that had
    their digits. Two such distances, so that one accidental agreement does not vouch for a candidate.
    """
    errors = np.full_like(candidates, np.inf)
    for level in range(1, int(levels.max()) + 1):
        here, below = np.flatnonzero(levels == level), np.flatnonzero(levels == level - 1)
        same = np.abs(candidates[here[:-1]] - candidates[here[1:]])
        lower = np.abs(candidates[here[:-1]] - candidates[below[2:]])
        errors[here[:-1]] = np.maximum(same, lower) + carried[here[:-1]]
    return errors


@cache
def fine_weights() -> np.ndarray:
    """The squared weight of each difference of the fine tableau in each of its candidates, shape
    ``(C, FINE_STEPS)``: the tableau is linear in the differences, and its ratios are those of the nominal steps."""
    steps = np.broadcast_to((FINE_RATIO ** -np.arange(FINE_STEPS))[:, None], (FINE_STEPS, FINE_STEPS))
    identity = np.eye(FINE_STEPS)
    return np.square(richardson(identity, np.zeros_like(identity), steps, FINE_LEVELS)[0])


def probe_offsets(x: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The :data:`PROBE_POINTS` offsets from the flat points ``x`` at which :func:`ulps_of_noise` measures the
    rounding of f: a spacing of ``PROBE_FRACTION * step``, shape ``(PROBE_POINTS, x.size)``."""
    spacing = taken(x, PROBE_FRACTION * step)
    return (np.arange(PROBE_POINTS, dtype=float) - PROBE_POINTS // 2)[:, None] * spacing[None]


def ulps_of_noise(values: np.ndarray) -> np.ndarray:
    """The rounding noise of f in its ``values`` at :func:`probe_offsets`, as a standard deviation in units of
    ``EPS * |f|``.

    Sixth differences of f at that spacing are pure rounding: the smooth part of f contributes
    ``f^(6) * spacing**6``, far below it. Each has a variance of 924 (the sum of the squared binomial weights)
    times that of one value, and the mean square of the ``PROBE_POINTS - 6`` of them measures it (the rounding
    of sqrt, asin or a rational function measured so is 0.2 to 0.3 in these units).
    """
    sixth = values
    for _ in range(6):
        sixth = np.diff(sixth, axis=0)
    deviation = np.sqrt(np.mean(np.square(sixth), axis=0) / 924)
    size = EPS * np.mean(np.abs(values), axis=0)
    return np.where(size > 0, deviation / size, np.inf)


def fine_search(
    along: Along, x: np.ndarray, step: np.ndarray, order: int, sel: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The best candidate of the fine tableau around ``step`` at the flat points ``x`` (``sel``: their indices for
    ``along``): value, error estimate, and the largest step of the candidate."""
    offsets, numerators, denominator = stencil(order, "central")
    steps = fine_steps(x, step)
    with np.errstate(all="ignore"):
        t = shaped_offsets(offsets, 2) * steps[None]
        # The stencils and the probe of f's rounding in one call.
        both = along(np.concatenate([t.reshape(-1, x.size), probe_offsets(x, step)]), sel)
        values, probe = both[: t.size // x.size].reshape(t.shape), both[t.size // x.size :]
        scale = denominator * steps**order
        estimates = stencil_sum(values, numerators) / scale
        candidates, _, _, levels, starts = richardson(estimates, np.zeros_like(estimates), steps, FINE_LEVELS)
        # The rounding each candidate carries, as NOISE_SIGMAS standard deviations: EPS * |f| per value of f times
        # the noise measured next to x, independent between values.
        variance = np.square(EPS * values) * np.square(np.asarray(numerators, dtype=float))[:, None, None]
        deviation = np.sqrt(variance.sum(axis=0)) / scale
        # A step that left the domain must not spoil the candidates that do not use it (0 * inf is NaN).
        square = np.where(np.isfinite(deviation), np.square(deviation), np.finfo(float).max)
        spread = np.sqrt(fine_weights() @ square)
        ulps = np.maximum(QUIET_ULPS, ulps_of_noise(probe))
        errors = fine_errors(candidates, NOISE_SIGMAS * ulps * spread, levels)
    errors = np.where(np.isfinite(candidates) & np.isfinite(errors), errors, np.inf)
    best = np.argmin(errors, axis=0)
    value = np.take_along_axis(candidates, best[None], 0)[0]
    error = np.take_along_axis(errors, best[None], 0)[0]
    chosen = np.take_along_axis(steps, starts[best][None], 0)[0]
    return value, error, chosen
