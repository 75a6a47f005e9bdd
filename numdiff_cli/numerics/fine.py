"""``auto``'s fine pass for derivatives of order 2 to 4: a dense Richardson tableau around the step the other passes
chose, for the points whose estimate they cannot vouch for.

The rounding of an order-``n`` difference grows like ``1/h**n``, so the higher the order, the more an estimate gains
from the largest steps f allows, and the less it can afford the noise that a tableau of widely spaced steps
amplifies. The passes of :mod:`.adaptive` use ratios of 1.6 to 2.1 and at most 4 levels: on the order-2 to 4 cases
of benchmarks/honesty.py and a set of smooth functions, their results had a 5th percentile of 10.6, 9.5 and 8.1
correct digits. Steps in a ratio of 1.25 from 6 times the chosen step down to a sixth of it, extrapolated up to 8
levels, reach 11.5, 10.1 and 8.9 (medians 12.6, 11.5 and 10.2 instead of 12.2, 10.9 and 9.0; measured against
mpmath references).

The error of a candidate (:func:`fine_search`) is its distance to the two entries built on the next smaller steps
(the next entry of its level and the entry of the level below that ends one step further), plus
:data:`NOISE_SIGMAS` standard deviations of the rounding it carries, from the rounding of f measured next to x
(:func:`ulps_of_noise`).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from numdiff_cli.numerics.estimate import EPS, PRECISION, UNRELIABLE_ABOVE, Along
from numdiff_cli.numerics.stencils import quotients, shaped_offsets, stencil, stencil_sum
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
# The relative first pass measures f's rounding (measured_settled) on a probe for a step this many times
# smaller than the one it chose: its steps can be far beyond the scale of f where the differences agree by symmetry
# (sin at 3 pi / 2, where they are all 0 on steps of 1 to 26), and the smooth part of f at the probe's spacing for
# the chosen step was taken for rounding (1e5 ulps of sin at -51.8; 0.25, its floor, at 64 times smaller).
FIRST_PASS_PROBE_SHRINK = 64
# Where the fine pass follows the fast pass (smooth functions on a scale of about 1), its candidates come from its
# largest steps: the 12 largest of the 17 steps give the same results there at two thirds of the cost.
FAST_FINE_STEPS = 12
# Points per block of the tableau.
FINE_BLOCK = 4096


def fine_steps(x: np.ndarray, step: np.ndarray, count: int = FINE_STEPS) -> np.ndarray:
    """``count`` steps from ``FINE_UP * step`` down by :data:`FINE_RATIO`, as taken from the flat points ``x``: shape
    ``(count, x.size)``."""
    powers = FINE_RATIO ** -np.arange(count).reshape((-1, 1))
    return taken(x, FINE_UP * step[None] * powers)


def fine_tableau(estimates: np.ndarray, steps: np.ndarray) -> list[np.ndarray]:
    """The levels ``0 .. FINE_LEVELS`` of the Richardson tableau (Neville's scheme in ``h**2``, ratios from the steps
    actually taken, as :func:`~.richardson.richardson` writes a step) of the differences ``estimates`` at ``steps``
    (shape ``(K, n)``); level ``j`` has ``K - j`` entries, entry ``k`` built on the steps ``k .. k + j``."""
    table = [estimates]
    for level in range(1, FINE_LEVELS + 1):
        r = (steps[:-level] / steps[level:]) ** 2
        below = table[-1]
        table.append((r * below[1:] - below[:-1]) / (r - 1))
    return table


@cache
def fine_weights() -> tuple[np.ndarray, ...]:
    """The squared weight of each difference in each entry of :func:`fine_tableau`, per level (shape
    ``(K - j, K)``): the tableau is linear in the differences, and its ratios are those of the nominal steps."""
    steps = np.broadcast_to((FINE_RATIO ** -np.arange(FINE_STEPS))[:, None], (FINE_STEPS, FINE_STEPS))
    return tuple(np.square(level) for level in fine_tableau(np.eye(FINE_STEPS), steps))


def probe_offsets(x: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The :data:`PROBE_POINTS` offsets from the flat points ``x`` at which :func:`ulps_of_noise` measures the
    rounding of f: a spacing of ``PROBE_FRACTION * step``, shape ``(PROBE_POINTS, x.size)``. NaN where that spacing
    is below half an ulp of x (``sin`` at 1e15): f at one point says nothing about its rounding, and a measure of 0
    would vouch for anything."""
    spacing = taken(x, PROBE_FRACTION * step)
    spacing = np.where(spacing > 0, spacing, np.nan)
    return (np.arange(PROBE_POINTS, dtype=float) - PROBE_POINTS // 2)[:, None] * spacing[None]


def ulps_of_noise(values: np.ndarray) -> np.ndarray:
    """The rounding noise of f in its ``values`` at :func:`probe_offsets`, as a standard deviation in units of
    ``EPS * |f|``.

    Sixth differences of f at that spacing are pure rounding: the smooth part of f contributes
    ``f^(6) * spacing**6``, far below it. Each has a variance of 924 (the sum of the squared binomial weights)
    times that of one value, and the mean square of the ``PROBE_POINTS - 6`` of them measures it (the rounding
    of sqrt, asin or a rational function measured so is 0.2 to 0.3 in these units).
    """
    deviation = rounding_deviation(values)
    size = EPS * np.mean(np.abs(values), axis=0)
    return np.where(size > 0, deviation / size, np.inf)


def binade(size: np.ndarray) -> np.ndarray:
    """The power of two at or below ``size`` (1 where it is 0 or not finite): scaling by it is exact, and a value
    scaled so is at most 2, whatever its size (the largest double included)."""
    return np.where(np.isfinite(size) & (size > 0), np.ldexp(1.0, np.frexp(size)[1] - 1), 1.0)


def _mean_size(values: np.ndarray) -> np.ndarray:
    """The mean |value| along the first axis, without the overflow of their sum near the largest double."""
    unit = binade(np.max(np.abs(values), axis=0))
    return unit * np.mean(np.abs(values) / unit, axis=0)


def rounding_deviation(values: np.ndarray) -> np.ndarray:
    """The standard deviation of the rounding of f in its ``values`` at :func:`probe_offsets` (absolute; see
    :func:`ulps_of_noise`). The differences are scaled by a power of two before they are squared (exact): their
    squares overflow where |f| is above about 1e154 (``x**3`` at 1e100), and the measure was infinite."""
    sixth = values
    for _ in range(6):
        sixth = np.diff(sixth, axis=0)
    with np.errstate(all="ignore"):
        unit = binade(np.max(np.abs(sixth), axis=0))
        return unit * np.sqrt(np.mean(np.square(sixth / unit), axis=0) / 924)


def evaluations(offsets: tuple[int, ...], count: int) -> int:
    """Values of f per point that :func:`stencil_values` takes for a stencil of ``offsets`` at ``count`` steps."""
    moving = sum(offset != 0 for offset in offsets)
    return moving * count + (moving < len(offsets))


def stencil_values(
    along: Along,
    offsets: tuple[int, ...],
    steps: np.ndarray,
    sel: np.ndarray | None,
    extra: np.ndarray | None = None,
    shape: tuple[int, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """f at the ``offsets`` of a stencil times each of ``steps`` (shape ``(K, n)``), shape ``(len(offsets), K, n)``,
    and at the ``extra`` offsets (shape ``(E, n)``; none if not given), in one call of ``along`` (which takes the
    points in ``shape`` if given: ``sel=None``). The point itself (offset 0) is evaluated once for all steps, not
    once per step: a third of an order-2 stencil's evaluations."""
    t = shaped_offsets(offsets, steps.ndim) * steps[None]
    moving = [i for i, offset in enumerate(offsets) if offset != 0]
    centre = [i for i, offset in enumerate(offsets) if offset == 0]
    parts = [t[moving] if centre else t]
    if centre:
        parts.append(np.zeros((1, 1) + steps.shape[1:]))
    if extra is not None:
        parts.append(extra)
    points = steps.shape[1:] if shape is None else shape
    joined = np.concatenate([part.reshape((-1,) + steps.shape[1:]) for part in parts]) if len(parts) > 1 else t
    with np.errstate(all="ignore"):
        both = along(joined.reshape((-1,) + points), sel).reshape((-1,) + steps.shape[1:])
    split = len(moving) * len(steps)
    if centre:
        values = np.empty(t.shape)
        values[moving] = both[:split].reshape((len(moving),) + steps.shape)
        values[centre] = both[split]
    else:
        values = np.asarray(both[:split].reshape(t.shape), dtype=float)  # (f of another dtype: as copied above)
    return values, both[split + len(centre[:1]) :]


def measured_sigmas(along: Along, x: np.ndarray, step: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
    """:data:`NOISE_SIGMAS` standard deviations of the rounding of f at the flat points ``x`` (``sel``: their indices
    for ``along``), in units of ``EPS * |f|``: :func:`ulps_of_noise` on a probe at a spacing of ``PROBE_FRACTION``
    times ``step`` (at least :data:`QUIET_ULPS`). :data:`PROBE_POINTS` evaluations per point."""
    with np.errstate(all="ignore"):
        probe = along(probe_offsets(x, step), sel)
        return NOISE_SIGMAS * np.maximum(QUIET_ULPS, ulps_of_noise(probe))


def measured_rounding(along: Along, x: np.ndarray, step: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
    """:func:`measured_sigmas` as an absolute error of f: :data:`NOISE_SIGMAS` standard deviations of its rounding
    (:func:`rounding_deviation`), at least :data:`QUIET_ULPS` ulps of the probe's mean |f|. Near a zero of f of high
    order (``(x + y)**10`` at x = -y) the probe's values are far below f's on the steps, and so is this, where the
    units of the probe's own |f| would make a smooth f look like noise."""
    with np.errstate(all="ignore"):
        probe = along(probe_offsets(x, step), sel)
        return NOISE_SIGMAS * np.maximum(QUIET_ULPS * EPS * _mean_size(probe), rounding_deviation(probe))


def measured_settled(
    along: Along,
    x: np.ndarray,
    sel: np.ndarray,
    error: np.ndarray,
    step: np.ndarray,
    noise: np.ndarray,
    typical: np.ndarray,
    settled: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """A pass's ``error`` and rounding ``noise`` at the points it would settle (``settled``; ``x`` flat, ``sel`` their
    indices for ``along``, ``step`` its choice), where the rounding of f measured next to x
    (:func:`measured_rounding`) is larger than the pass counted: its noise, which counts ``EPS * |f|`` for
    each value of f (``typical`` |f|), counted again from the measure, and the difference added to the error; and
    the evaluations of f it made.

    Where f cancels internally it carries far more than ``EPS * |f|``: ``sin(x*y) + sin(x*z)`` at z = -0.999999999
    is 4e-10 with the rounding of terms near 1, and the gradient's rescaled pass vouched for f_x with 5 correct
    digits and an error of 2.5e-21. (Never less than the pass counted: next to a minimum the probe sees f far
    smaller than the steps do. Not measurable where the probe's spacing is below an ulp of x: such a point is not
    settled.)"""
    points = np.flatnonzero(settled)
    if not points.size:
        return error, noise, 0
    error, noise = error.copy(), noise.copy()
    rounding = measured_rounding(along, x[points], step[points], sel[points])
    with np.errstate(all="ignore"):
        # (The rounding in ulps of f first: noise times rounding overflows where f is near 1e300.)
        carried = np.where(typical[points] > 0, noise[points] * (rounding / (EPS * typical[points])), noise[points])
        more = np.where(carried > noise[points], carried - noise[points], np.where(np.isnan(carried), np.nan, 0.0))
    error[points] += more
    noise[points] += more
    return error, noise, PROBE_POINTS


def fine_search(
    along: Along, x: np.ndarray, step: np.ndarray, order: int, sel: np.ndarray | None, count: int = FINE_STEPS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The best candidate of the fine tableau of ``count`` steps around ``step`` at the flat points ``x`` (``sel``:
    their indices for ``along``): value, error estimate, and the largest step of the candidate.

    The error of a candidate is its distance to the two entries built on the next smaller steps (the next entry of
    its level, and the entry of the level below that ends one step further), plus :data:`NOISE_SIGMAS` standard
    deviations of the rounding it carries. Those neighbours are the ones that say something about it: in the
    truncation regime they are the more accurate, so their distance measures its own truncation error; in the
    rounding regime they carry more noise than it, so the distance overstates its error. The neighbour on the larger
    step, which the searches' tableau also consults, carries a larger truncation error of its own next to a
    singularity (sqrt at 0.35, asin at 0.65, order 3), and flagged results that had their digits. Two distances, so
    that one accidental agreement does not vouch for a candidate.
    """
    offsets = stencil(order, "central")[0]
    steps = fine_steps(x, step, count)
    # The stencils and the probe of f's rounding in one call.
    values, probe = stencil_values(along, offsets, steps, sel, probe_offsets(x, step))
    value, error, chosen = np.full(x.size, np.nan), np.full(x.size, np.inf), np.full(x.size, np.nan)
    # In blocks, so that the tableau's temporaries stay in the CPU cache.
    for begin in range(0, x.size, FINE_BLOCK):
        block = slice(begin, begin + FINE_BLOCK)
        value[block], error[block], chosen[block] = _best(values[:, :, block], probe[:, block], steps[:, block], order)
    return value, error, chosen


def _best(
    values: np.ndarray, probe: np.ndarray, steps: np.ndarray, order: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`fine_search` on a block of points, from the values of f at the stencils and at the probe."""
    _, numerators, denominator = stencil(order, "central")
    size = steps.shape[1]
    with np.errstate(all="ignore"):
        scale = denominator * steps**order
        table = fine_tableau(quotients(values, numerators, scale), steps)
        # The rounding each difference carries as a standard deviation (EPS * |f| per value of f, independent
        # between values), then through the tableau; a step that left the domain must not spoil the candidates that
        # do not use it (0 * inf is NaN).
        variance = stencil_sum(np.square(values), tuple(c * c for c in numerators)) * np.square(EPS / scale)
        variance = np.where(np.isfinite(variance), variance, np.finfo(float).max)
        ulps = NOISE_SIGMAS * np.maximum(QUIET_ULPS, ulps_of_noise(probe))
        value, error, chosen = np.full(size, np.nan), np.full(size, np.inf), np.full(size, np.nan)
        for level in range(1, FINE_LEVELS + 1):
            here = table[level]
            same = np.abs(here[:-1] - here[1:])
            lower = np.abs(here[:-1] - table[level - 1][2:])
            errors = np.maximum(same, lower) / (1 - FINE_RATIO ** -(2 * level + 2))
            # einsum, not ``@``: a product this small costs more in the BLAS library's threads than it computes
            # (10 to 30 times the CPU time on a busy machine).
            errors += ulps * np.sqrt(
                np.einsum("ij,jn->in", fine_weights()[level][: len(here) - 1, : len(steps)], variance)
            )
            errors = np.where(np.isfinite(here[:-1]) & np.isfinite(errors), errors, np.inf)
            best = np.argmin(errors, axis=0)[None]
            least = np.take_along_axis(errors, best, 0)[0]
            better = least < error
            value = np.where(better, np.take_along_axis(here, best, 0)[0], value)
            error = np.where(better, least, error)
            chosen = np.where(better, np.take_along_axis(steps, best, 0)[0], chosen)
    return value, error, chosen


def refine(
    along: Along,
    x: np.ndarray,
    order: int,
    value: np.ndarray,
    error: np.ndarray,
    step: np.ndarray,
    floor: np.ndarray,
    among: np.ndarray,
    anchor: float = 1.0,
    count: int = FINE_STEPS,
    relative: bool = False,
) -> int:
    """The fine pass (:func:`fine_search`) at the points ``among`` (flat indices) whose estimate the passes
    before do not vouch for; updates ``value``, ``error`` and ``step`` (flat) in place where it does better, and
    returns the evaluations of f per point it made (0 if none).

    Its estimate must agree with the one it replaces within the two error bars: where it does not, its error is at
    least their disagreement (two tableaus on different steps that disagree say that one of them converged by
    accident). With ``relative``, it replaces only estimates it vouches for relative to the value
    (``PRECISION[order]``): for first derivatives, whose absolute floor allows more than the fine pass's error
    estimate should be trusted with (atan at 1e6, where its 9.3 digits would pass the floor). An estimate that
    replaces one with no meaning (an error estimate above ``UNRELIABLE_ABOVE`` of its value) must have a meaning
    itself, relative to its own value: no pass found a step on which f is smooth, and the tableau around that step
    can converge on steps far beyond the scale of f (``1/sin(x)`` a millionth from pi, order 3: steps of 7.5, which
    see a function of period 2 pi, and a value of -0.08 for 6e24 whose error estimate, 1.2, was within the floor
    that f's size there, 1e6, allows).
    """
    with np.errstate(all="ignore"):
        vouched = (error[among] <= PRECISION[order] * np.abs(value[among])) | (error[among] <= floor[among])
        candidate = ~vouched & np.isfinite(value[among]) & (step[among] > 0) & np.isfinite(step[among])
    redo = among[np.flatnonzero(candidate)]
    if not redo.size:
        return 0
    v, e, s = fine_search(along, x[redo], anchor * step[redo], order, redo, count)
    with np.errstate(all="ignore"):
        meaningless = ~(error[redo] <= UNRELIABLE_ABOVE * np.abs(value[redo]))
        disagreement = np.abs(v - value[redo])
        e = np.where(disagreement > e + error[redo], np.fmax(e, disagreement), e)
        better = e < error[redo]
        if relative:
            better &= e <= PRECISION[order] * np.abs(v)
        better &= ~meaningless | (e <= UNRELIABLE_ABOVE * np.abs(v))
        better = np.flatnonzero(better)
    done = redo[better]
    value[done], error[done], step[done] = v[better], e[better], s[better]
    return evaluations(stencil(order, "central")[0], count) + PROBE_POINTS
