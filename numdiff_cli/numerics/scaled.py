"""``auto``'s fast pass in blocks of points (:func:`fast_blocks`), and again on steps scaled to the scale on which f
varies at each point it leaves (:func:`scaled_passes`, with :func:`confirm_scaled`): the passes that settle most points
at 10 to 30 evaluations each, whatever the scale of f (``exp(sin(x))``, ``log(x)`` at 1e6, ``1/x`` at 1e-4,
``sin(50*x)``)."""

from __future__ import annotations

import numpy as np

from numdiff_cli.numerics.blocks import fast_block
from numdiff_cli.numerics.estimate import FAST_CHECK_ABOVE, PRECISION, Along, on_lines
from numdiff_cli.numerics.fast import CONFIRM_WITHIN, empty_estimates, fast_estimates, vouch_fast
from numdiff_cli.numerics.fine import PROBE_POINTS, evaluations, measured_sigmas
from numdiff_cli.numerics.stencils import stencil
from numdiff_cli.numerics.steps import FAST_STEPS, SCALED_ROUNDS


def fast_blocks(
    along: Along,
    flat_x: np.ndarray,
    order: int,
    points: np.ndarray | None,
    shape: tuple[int, ...],
    unit: np.ndarray | None = None,
    deferred: np.ndarray | None = None,
) -> list[np.ndarray]:
    """:func:`~.fast.fast_estimates` at the flat points ``flat_x`` (all of them, of ``shape``, or the indices
    ``points``), its steps times ``unit`` (per point; absolute steps if not given), in blocks small enough for f's
    temporaries and the tableau to stay in the CPU's cache; its ten results, flat (``deferred`` as there)."""
    xs = flat_x if points is None else flat_x[points]
    width = max(256, fast_block() // (len(stencil(order, "central")[0]) * len(FAST_STEPS)))
    if xs.size <= width:
        return list(fast_estimates(along, xs, order, points, shape, unit, deferred=deferred))
    outputs = empty_estimates(xs.size)
    for begin in range(0, xs.size, width):
        block = slice(begin, begin + width)
        sel = np.arange(begin, min(begin + width, xs.size)) if points is None else points[block]
        parts = fast_estimates(
            along,
            xs[block],
            order,
            sel,
            shape,
            None if unit is None else unit[block],
            deferred=None if deferred is None else deferred[block],
        )
        for output, part in zip(outputs, parts):
            output[block] = part
    return outputs


def scaled_passes(
    along: Along,
    flat_x: np.ndarray,
    order: int,
    todo: np.ndarray,
    unit: np.ndarray,
    improvable: np.ndarray,
    trusted: np.ndarray,
    value: np.ndarray,
    error: np.ndarray,
    step: np.ndarray,
) -> tuple[int, np.ndarray, np.ndarray]:
    """The fast pass again, its steps times ``unit`` (flat, per point: the scale on which f varies there, as the pass
    before measured it), at the points ``todo`` (flat indices) it left and at those it settled with an error that is
    mostly rounding (``improvable``, flat mask; ``trusted``: where its estimate showed no sign of steps f does not
    resolve or of steps beyond its scale), up to :data:`SCALED_ROUNDS` times, each round on the points the
    one before left and with the unit it measured. Writes ``value``, ``error`` and ``step`` (flat) in place at the
    points it settles (one settled before only where the new error is smaller and the values agree) and, for those
    still open, where the
    estimate is better than the one before (the fine pass of first derivatives starts from it); returns the
    evaluations of f per point it made, the points still to settle, and the mask (flat) of the points whose
    estimate is now one of its own.

    A point settles only as in the fast pass, on its relative criterion: the same steps, tableau, error estimate
    and guards, scaled (the pass on f at x with unit ``u`` is the fast pass on ``g(t) = f(x + u t)`` at 0). The size
    of f and the absolute floor each point is judged by stay those of the fast pass: on steps next to a singularity
    |f| is far larger than on the scale the later passes judge a point on (``exp(1/x)`` at 0.01: 2.7e43 against
    1e12), and its floor would vouch for their garbage (-16692 for -2.9e55, order 3).
    """
    offsets = stencil(order, "central")[0]
    nfev = 0
    better = np.flatnonzero(improvable)
    points = np.concatenate([todo, better])
    unsettled = np.zeros(flat_x.size, dtype=bool)
    unsettled[todo] = True
    open_ = np.concatenate([np.ones(todo.size, dtype=bool), np.zeros(better.size, dtype=bool)])
    units = unit[points]
    # The points the fast pass could not trust keep no estimate of it (the passes after these replace it): an exact
    # 0 from differences that vanish at some steps only (exp at -745, whose values underflow) is no derivative.
    distrusted = todo[~trusted[todo]]
    error[distrusted] = np.inf
    # A point whose fast estimate was meaningful (an error below FAST_CHECK_ABOVE of its value) settles only on an
    # estimate that agrees with it within both errors: the fast pass's steps see what larger ones average away (a
    # part of f varying on a scale of 1 next to log(x) at 2e7, whose steps became 1e6 when rounding limited the fast
    # pass). Where they disagree, the later passes decide.
    first_value, first_error = value.copy(), error.copy()
    with np.errstate(invalid="ignore"):
        meaningful = first_error <= FAST_CHECK_ABOVE * np.abs(first_value)
    fresh = np.zeros(flat_x.size, dtype=bool)
    for _ in range(SCALED_ROUNDS):
        # (Not where the pass measured no scale, its differences all 0 or not finite, nor where the unit is 1: the
        # fast pass's own steps again.)
        # (Masks as indices first: numpy's a[mask] takes 7 times as long where about half the points are in it.)
        measured = np.flatnonzero(np.isfinite(units) & (units > 0) & (units != 1))
        points, units, open_ = points[measured], units[measured], open_[measured]
        if not points.size:
            break
        v, e, s, _, settled, trusted, truncation, deviation, again, improvable_again = fast_blocks(
            along, flat_x, order, points, flat_x.shape, units
        )
        nfev += evaluations(offsets, len(FAST_STEPS))
        if order >= 2:
            nfev += vouch_fast(
                on_lines(along, points), flat_x[points], order, v, e, s, settled, trusted, truncation, deviation
            )
        nfev += confirm_scaled(on_lines(along, points), flat_x[points], order, v, e, s, settled, deviation)
        with np.errstate(invalid="ignore"):
            agrees_first = ~meaningful[points] | (np.abs(v - first_value[points]) <= e + first_error[points])
            # ... nor on one that disagrees with the best estimate so far, where that is meaningful: a round before
            # on smaller steps. Larger steps can settle by missing a part of f: 2*x**3 + log(1 + 2.25*x**2), order
            # 3, at 250, where the first round's steps of 4 to 68 gave 12.00000026 +- 1.3e-9 (just short of the
            # promise) and the second's, of 3300 to 69632, settled 12.0 +- 6e-12 (the log's 2.6e-7 unseen).
            before, before_error = value[points], error[points]
            current = before_error <= FAST_CHECK_ABOVE * np.abs(before)
            agrees = np.abs(v - before) <= e + before_error
        settled &= agrees_first & (agrees | ~current)
        # A point settled before takes the new estimate only where it is better and agrees with the old one within
        # both errors (two vouched estimates that disagree say one of them agreed with itself by accident: the old
        # one, from smaller steps, stays).
        with np.errstate(invalid="ignore"):
            taken_ = settled & (open_ | ((e < before_error) & agrees))
        # The points still open keep the better of their estimates so far (the fine pass may start from it; the
        # next passes replace it).
        with np.errstate(invalid="ignore"):
            taken_ |= open_ & ~settled & trusted & agrees_first & (e < before_error)
        taken = np.flatnonzero(taken_)
        done = points[taken]
        fresh[done] = True
        unsettled[points[np.flatnonzero(settled)]] = False
        value[done], error[done], step[done] = v[taken], e[taken], s[taken]
        # On to the next round: the points still open, and those settled again with an error mostly rounding.
        # (Not where the unit would be the same again.)
        keep = np.flatnonzero((open_ & ~settled & (again != units)) | (settled & improvable_again))
        points, units, open_ = points[keep], again[keep], open_[keep] & ~settled[keep]
    return nfev, todo[unsettled[todo]], fresh


def confirm_scaled(
    along: Along,
    x: np.ndarray,
    order: int,
    value: np.ndarray,
    error: np.ndarray,
    step: np.ndarray,
    settled: np.ndarray,
    deviation: np.ndarray,
) -> int:
    """The rounding of f measured (:func:`~.fine.measured_sigmas`) at the points a scaled pass settled with an error
    within :data:`CONFIRM_WITHIN` of the promise: its ``deviation`` (per ulp of f) times the measured ulps is added
    to the ``error`` (flat, in place), and ``settled`` updated. Returns the evaluations of f per point it made.

    The pass's error estimate counts the rounding of each value of f as ``EPS * |f|``: where f cancels internally
    (``log(1 + x**2)`` at 1e-4 carries the rounding of ``1 + x**2``, 1e8 ulps of f), its steps, smaller than the
    fast pass's, carry far more, and the estimate vouched for 10.0 digits with a true error 1.2 times it."""
    with np.errstate(invalid="ignore"):
        close = np.flatnonzero(settled & (error > CONFIRM_WITHIN * PRECISION[order] * np.abs(value)))
    if not close.size:
        return 0
    error[close] += measured_sigmas(along, x[close], step[close], close) * deviation[close]
    with np.errstate(invalid="ignore"):
        settled[close] = error[close] <= PRECISION[order] * np.abs(value[close])
    return PROBE_POINTS
