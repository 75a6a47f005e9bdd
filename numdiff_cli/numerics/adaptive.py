"""``auto``: adaptive Richardson extrapolation of central differences.

Passes, each for the points the one before did not settle: a fast pass of absolute steps (:mod:`.fast`; for
orders 2 to 4 with a tighter estimate where f's measured rounding allows it), the same pass on steps scaled to the
scale on which f varies at each point it left (:mod:`.scaled`), a first pass of steps relative to |x| and a wide
search over about 13 decades of steps (both :func:`richardson_search`); a fine pass for the points they cannot
vouch for (:func:`~.fine.refine`); then, optionally, the kink test
(:func:`~.kinks.kinked`). :func:`adaptive` runs them and judges each point (:func:`~.verdicts.absolute_floor`,
:func:`~.fast.fast_floor`); :func:`~.lines.line_derivative` chooses between it and the one-step methods.
"""

from __future__ import annotations

import numpy as np

from numdiff_cli.contract import KINK, KINK_BELOW
from numdiff_cli.numerics.estimate import EPS, PRECISION, RESOLVED_ABOVE, UNRELIABLE_ABOVE, Along, Estimate
from numdiff_cli.numerics.estimate import columns as columns_of
from numdiff_cli.numerics.fast import fast_floor, vouch_fast
from numdiff_cli.numerics.fine import FAST_FINE_STEPS, FIRST_PASS_PROBE_SHRINK, evaluations, measured_settled, refine
from numdiff_cli.numerics.kinks import kink_evaluations, kinked
from numdiff_cli.numerics.noise import measured_noise
from numdiff_cli.numerics.richardson import best_on_larger_steps, first_least, picked, richardson
from numdiff_cli.numerics.scaled import fast_blocks, scaled_passes
from numdiff_cli.numerics.stencils import quotients, shaped_offsets, stencil, stencil_sum
from numdiff_cli.numerics.steps import (
    DRIFT_ULPS,
    FAST_STEPS,
    FINE_AFTER_FAST,
    FINE_STEPS,
    FINE_WIDER,
    FIRST_PASS_STEP,
    FIRST_PASS_STEPS,
    GROWTH_FACTOR,
    GROWTH_SHIFT,
    RATIO,
    RICHARDSON_LEVELS,
    WIDE_BLOCK,
    WIDE_SEARCH_STEP,
    WIDE_SEARCH_STEPS,
    geometric_steps,
    taken,
)
from numdiff_cli.numerics.verdicts import absolute_floor, check_against_fast, verdict


def richardson_search(
    along: Along,
    x: np.ndarray,
    steps: np.ndarray,
    order: int,
    sel: np.ndarray | None,
    *,
    fscale: bool = True,
    measure_noise: bool = False,
    disputed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """Central differences at every step of ``steps`` (shape ``(K, *x.shape)``), one evaluation call,
    then the Richardson tableau; returns the best value, its error, its step, its carried rounding noise,
    (with ``fscale``) the typical |f| per point, and the largest |difference| over the steps of the chosen
    candidate.

    Candidates are dropped when they are not finite (a step left the domain) and when they come from steps
    far larger than the scale on which f varies: there ``D(h) ~ O(f) / h**order`` is tiny and its successive
    values may agree in absolute terms (a false plateau, e.g. ``cos`` at 1e8 with steps of 1e7). Such a
    candidate is recognized by its level-0 estimates being much smaller than the estimate at a step
    ``RATIO**GROWTH_SHIFT`` (about 40) times smaller, which a genuine derivative estimate never is. Differences
    at the rounding level of f (within :data:`RESOLVED_ABOVE` times it) are no evidence either way: where the
    derivative is exactly 0 (a Hessian direction of ``sin(x)*cos(y)``) every difference is rounding, and taking
    that for a false plateau discarded the right answer for a garbage one at a tiny step.

    The chosen candidate is checked against the best one on steps all ``RATIO**GROWTH_SHIFT`` times larger (see
    below); ``disputed`` (optional, shape of ``x``) is set in place where they disagree.
    """
    offsets, numerators, denominator = stencil(order, "central")
    count = len(steps)
    with np.errstate(all="ignore"):
        t = shaped_offsets(offsets, 1 + x.ndim) * steps[None]  # (len(offsets), K, *batch)
        values = along(t.reshape((-1,) + x.shape), sel).reshape(t.shape)
        estimates = quotients(values, numerators, denominator * steps**order)
        # Rounding: each f value is wrong by about an ulp; the difference amplifies that by 1 / h**order. EPS
        # scales the values before they are summed, so that |f| near the largest double does not overflow.
        noise = stencil_sum(EPS * np.abs(values), tuple(abs(c) for c in numerators)) / (denominator * steps**order)
        resolved = np.abs(estimates) > RESOLVED_ABOVE * noise
        if measure_noise:
            noise = np.maximum(noise, measured_noise(estimates, steps, order, resolved) / steps**order)
        # Richardson's r * T1 - T0 overflows for derivatives near the largest double (exp near 709): such points
        # go through the tableau scaled by a power of two, which is exact.
        largest = np.where(np.isfinite(estimates), np.abs(estimates), 0.0).max(axis=0)
        huge = largest > 2.0**1000
        if huge.any():
            shrink = np.where(huge, 2.0**-16, 1.0)
            candidates, errors, noises, levels, starts = richardson(
                estimates * shrink, noise * shrink, steps, RICHARDSON_LEVELS
            )
            candidates, errors, noises = candidates / shrink, errors / shrink, noises / shrink
        else:
            # (Scaling by 1 changes nothing: the tableau's arrays are not copied for it.)
            candidates, errors, noises, levels, starts = richardson(estimates, noise, steps, RICHARDSON_LEVELS)
        # Largest |D| over the steps of each candidate (a running maximum over the levels), and |D| at a step
        # about 40 times smaller than the candidate's smallest one (0 where the sequence ends before, or where
        # that difference is at the rounding level).
        size = np.abs(estimates)
        padded = np.concatenate(
            [np.where(resolved, size, 0.0), np.zeros((GROWTH_SHIFT + RICHARDSON_LEVELS,) + size.shape[1:])]
        )
        # A difference that is exactly 0 at some steps while others are well above the rounding level is below
        # the resolution of f there (f(x+h) == f(x-h) after rounding, e.g. log(1 + x**2) at x = 3e-6 with
        # h = 1e-11): it carries no information, and a run of such zeros would look like a converged, exact answer.
        unresolved = (estimates == 0) & (np.isfinite(estimates) & resolved).any(axis=0)
        # (Each level written into one array, in place: fresh arrays of the tableau's size cost page faults.)
        top = np.empty(candidates.shape)
        false_plateau = np.empty(candidates.shape, dtype=bool)
        row, level_top, level_blind = 0, size, unresolved
        for level in range(int(levels[-1]) + 1):
            span = slice(row, row + count - level)
            if level:
                level_top = np.maximum(level_top[:-1], size[level:], out=top[span])
                level_blind = level_blind[:-1] | unresolved[level:]
            else:
                top[span] = size
            np.less(
                level_top, GROWTH_FACTOR * padded[level + GROWTH_SHIFT : GROWTH_SHIFT + count], out=false_plateau[span]
            )
            false_plateau[span] |= level_blind
            row += count - level
        # A difference quotient that overflows at the smallest step where f is finite: the derivative itself may
        # be beyond the largest double. (Not one that overflows only on larger steps, whose f is near the largest
        # double on one side: exp(-1e6*x) at 1e-3, whose derivative underflows.)
        finite = np.isfinite(values).all(axis=0)
        last_finite = count - 1 - np.argmax(finite[::-1], axis=0)
        smallest = picked(estimates, last_finite)
        overflowed = finite.any(axis=0) & np.isinf(smallest)
        overflow_sign = np.sign(smallest)
    bad = np.isfinite(candidates)
    bad &= np.isfinite(errors)
    np.logical_not(bad, out=bad)
    bad |= false_plateau
    # (In place: the tableau's errors are this function's own.)
    np.copyto(errors, np.inf, where=bad)
    best = first_least(errors)
    value = picked(candidates, best)
    error = picked(errors, best)
    # Within DRIFT_ULPS ulps of x, the values of f can follow a different function than f: the rounding of an
    # intermediate that then cancels (x**2 in sqrt(1 - x**2) at 0.999999) drifts linearly over up to a few hundred
    # thousand ulps of x, so the differences there agree to 11 digits on a slope 1e-6 off. A candidate chosen on
    # such steps must agree with the best one on steps all RATIO**GROWTH_SHIFT times larger; where it disagrees
    # beyond both error estimates, its error is the disagreement plus the larger steps' error (the derivative is
    # within that error of their estimate: the disagreement alone fell 5e-7 short at 0.999999). (Not on larger
    # steps: next to a pole, as tan a millionth from pi/2, the larger steps cross it and disagree with the right
    # answer.) (Only the points whose chosen step is that small are checked: most have none.)
    step = picked(steps, np.minimum(starts[best], count - 1))
    with np.errstate(all="ignore"):
        near = (step < DRIFT_ULPS * np.spacing(np.abs(x))).reshape(-1)
    disagrees = np.zeros(near.size, dtype=bool)
    columns = np.flatnonzero(near)
    if columns.size:
        rows = len(candidates)
        check_value, check_error = best_on_larger_steps(
            columns_of(candidates.reshape(rows, -1), columns),
            columns_of(errors.reshape(rows, -1), columns),
            starts,
            levels,
            best.reshape(-1)[columns],
            GROWTH_SHIFT,
        )
        mine, bound = value.reshape(-1)[columns], error.reshape(-1)[columns]
        with np.errstate(all="ignore"):
            disagreement = np.abs(check_value - mine)
            found = disagreement > bound + check_error
        disagrees[columns[found]] = True
        error = error.copy()
        error.reshape(-1)[columns[found]] = disagreement[found] + check_error[found]
    disagrees = disagrees.reshape(step.shape)
    if disputed is not None:
        disputed[...] = disagrees.reshape(disputed.shape)
    rounding = picked(noises, best)
    chosen_top = picked(top, best)
    # No usable candidate, and differences overflowing where f is finite: the derivative overflows. Without one,
    # and no finite candidate either, the difference at the smallest step where f is finite, if finite (a
    # derivative that underflows, as exp(-1e6*x) at 1e-3, whose larger steps reach f near the largest double: not an
    # overflow). (Where f is finite at no step, the first candidate stays: exp at 710, infinite there, whose
    # derivative overflows.)
    unusable = np.isinf(error)
    kept = unusable & ~np.isfinite(value) & np.isfinite(smallest) & finite.any(axis=0)
    value, step = np.where(kept, smallest, value), np.where(kept, picked(steps, last_finite), step)
    value = np.where(unusable & overflowed, np.copysign(np.inf, overflow_sign), value)
    if not fscale:
        return value, error, step, rounding, None, chosen_top
    # The largest finite |f| over the stencils: the size of f on the scale of the steps, against which the
    # absolute accuracy of a derivative close to zero is judged (x**3 at 0 is 0 next to x but 0.125 at 0.5).
    with np.errstate(all="ignore"):
        typical = np.where(np.isfinite(values), np.abs(values), 0.0).reshape((-1,) + x.shape).max(axis=0)
    return value, error, step, rounding, typical, chosen_top


def adaptive(
    along: Along,
    x: np.ndarray,
    *,
    order: int,
    fast: bool = True,
    first_steps: int = FIRST_PASS_STEPS,
    first_step: float = FIRST_PASS_STEP,
    accept: float = 1e-12,
    rounding_limited: float = 10.0,
    kink_check: bool = False,
) -> Estimate:
    """``auto``: Richardson-extrapolated central differences with an error estimate.

    Passes, each for the points the one before did not settle. With ``fast``, a cheap pass of absolute
    steps (:func:`~.fast.fast_pass`) settles functions that vary on a scale of about 1, and the same pass on steps
    scaled to the scale on which f varies at each point it leaves (:func:`~.scaled.scaled_passes`; for first
    derivatives followed by the fine pass from its step where it leaves a meaningful estimate unvouched) settles
    most of the others: ``log(x)`` at 1e6, ``1/x`` at 1e-4, ``sqrt(x)`` at 1e-6, ``sin(50*x)``. A first pass of
    ``first_steps`` steps from ``first_step * max(1, |x|)`` covers smooth functions on the scale of |x|; the
    (direction, point) pairs whose relative error estimate is above ``accept`` (and not explained by rounding)
    get a wide search of :data:`WIDE_SEARCH_STEPS` steps from ``WIDE_SEARCH_STEP * max(1, |x|)`` spanning about
    13 decades, which reaches both the small absolute steps needed next to a singularity or at large |x| of an
    oscillating function, and steps relative to |x|; it also measures the rounding noise of f
    (:func:`~numdiff_cli.numerics.noise.measured_noise`). Candidates whose values are not finite (steps that
    left the domain) are dropped.

    Status: :data:`IMPRECISE` where the error estimate exceeds ``PRECISION[order]`` relative,
    :data:`UNRELIABLE` above ``UNRELIABLE_ABOVE``, unless it is within the absolute accuracy the rounding of f
    allows (:data:`~numdiff_cli.numerics.estimate.ABSOLUTE_FLOOR`): ``EPS * |f|`` over the scale on which the
    pass that settled the point measured f, never over a step the search happened to choose. The fast pass
    measured it with its own absolute steps (or |x| if larger: :func:`fast_floor`; the scaled passes vouch only
    relative to the value), the first pass on the scale ``max(1, |x|)`` of its relative steps, the wide search on
    ``max(1, step)`` (its steps go down to 1e-14: a candidate chosen there for want of better ones is no measure of
    the scale of f). A value whose error estimate exceeds it is therefore never OK unless that error is at this
    floor. :data:`OVERFLOW` where the derivative is beyond the largest double.
    """
    offsets = stencil(order, "central")[0]
    nfev = 0
    flat_x = x.reshape(-1)
    todo: np.ndarray | None = None  # flat indices of the points still to settle; None: all of them
    if fast:
        deferred = np.zeros(flat_x.size, dtype=bool)
        value, error, step, fscale, settled, trusted, truncation, deviation, unit, improvable = (
            a.reshape(x.shape) for a in fast_blocks(along, flat_x, order, None, x.shape, deferred=deferred)
        )
        nfev += evaluations(offsets, len(FAST_STEPS))
        if order >= 2:
            nfev += vouch_fast(along, x, order, value, error, step, settled, trusted, truncation, deviation)
        todo = np.flatnonzero(~settled.reshape(-1))
        # The absolute accuracy each point is vouched for at, set by the pass that settles it (see the status).
        floor = fast_floor(fscale, step, x, order)
    else:
        value, error, step, fscale = (np.full(x.shape, np.nan) for _ in range(4))
        floor = np.zeros(x.shape)
    flat_value, flat_error, flat_step, flat_fscale = (a.reshape(-1) for a in (value, error, step, fscale))
    flat_floor = floor.reshape(-1)

    def fine(among: np.ndarray, anchor: float = 1.0, count: int = FINE_STEPS, relative: bool = False) -> int:
        """The fine pass (:func:`~.fine.refine`) on these points' estimates, at the flat indices ``among``."""
        return refine(
            along, flat_x, order, flat_value, flat_error, flat_step, flat_floor, among, anchor, count, relative
        )

    if todo is not None and todo.size and order >= 2:
        # Orders 2 to 4: the fine pass around the fast pass's step settles the points whose only fault there was
        # too few digits vouched for (smooth functions on a scale of about 1), without the searches.
        # Where that leaves a meaningful estimate it cannot vouch for (next to a zero of the derivative, whose relative
        # digits need larger steps), once more from FINE_WIDER times the fast pass's step: the step the wide search
        # would choose there (1.5 to 2.5 times it), without the searches' cost. Its estimate must agree with the
        # one before (see refine), which catches a tableau that reached the radius of convergence of f.
        fast_step = flat_step.copy()
        for anchor in (FINE_AFTER_FAST, FINE_WIDER):
            with np.errstate(invalid="ignore"):
                meaningful = trusted.reshape(-1)[todo] & (
                    flat_error[todo] <= UNRELIABLE_ABOVE * np.abs(flat_value[todo])
                )
            flat_step[todo] = fast_step[todo]
            nfev += fine(todo[np.flatnonzero(meaningful)], anchor, FAST_FINE_STEPS)
            # (Only the points it refined: the others keep the fast pass's estimate, which did not settle them; an
            # untrusted one within the floor is no evidence, as x + 1e-3*sin(2*pi*256*x) at order 3, whose larger fast
            # steps are whole periods of the sine: 0 +- 6e-14 for -3465640.)
            with np.errstate(invalid="ignore"):
                done = meaningful & (
                    (flat_error[todo] <= PRECISION[order] * np.abs(flat_value[todo]))
                    | (flat_error[todo] <= flat_floor[todo])
                )
            todo = todo[np.flatnonzero(~done)]
    # The estimates of the points left to the other passes so far (the fast pass's, or at orders 2-4 the fine pass's
    # after it where that did better), and their steps: an independent check on the later passes' estimates.
    checked = np.empty(0, dtype=int) if todo is None else todo
    fast_value, fast_error, checked_step = (a[checked].copy() for a in (flat_value, flat_error, flat_step))
    if todo is not None and (todo.size or improvable.any()):
        # The fast pass again, on steps scaled to the scale on which f varies at each point it left (``fresh``: the
        # points whose estimate is now one of its own).
        count, todo, fresh = scaled_passes(
            along,
            flat_x,
            order,
            todo,
            unit.reshape(-1),
            improvable.reshape(-1),
            trusted.reshape(-1),
            flat_value,
            flat_error,
            flat_step,
        )
        nfev += count
        # The points settled to be improved that keep the fast pass's estimate: its search for the entry of its
        # tableau that carries less rounding was deferred (fast_estimates' deferred), and is made now, with the fast
        # pass again (rare: 0.1% of exp(sin(x)) on [-10, 10]).
        kept = np.flatnonzero(deferred & ~fresh)
        if kept.size:
            flat_value[kept] = fast_blocks(along, flat_x, order, kept, x.shape)[0]
            nfev += evaluations(offsets, len(FAST_STEPS))
        if todo.size and order == 1:
            # (From an estimate of the scaled passes only: from the fast pass's step, its steps would not see more
            # than the fast pass did, as a small part varying on a shorter scale.)
            with np.errstate(invalid="ignore"):
                meaningful = fresh[todo] & (flat_error[todo] <= UNRELIABLE_ABOVE * np.abs(flat_value[todo]))
            nfev += fine(todo[np.flatnonzero(meaningful)], FINE_AFTER_FAST, FAST_FINE_STEPS, relative=True)
            with np.errstate(invalid="ignore"):
                done = (flat_error[todo] <= PRECISION[order] * np.abs(flat_value[todo])) & (flat_value[todo] != 0)
            todo = todo[np.flatnonzero(~done)]
    if todo is None or todo.size:
        xs = x if todo is None else flat_x[todo]
        where = slice(None) if todo is None else todo
        v, e, s, noise, typical, top = richardson_search(
            along, xs, geometric_steps(xs, first_step, first_steps), order, todo
        )
        nfev += len(offsets) * (first_steps + 1)
        # An error estimate within ``rounding_limited`` times the rounding noise carried into the chosen estimate
        # is explained by rounding (f's own evaluation error is often several ulp: sums, products): the smaller
        # steps of the wide search would only add noise.
        settled = ((e <= accept * np.abs(v)) | (e <= rounding_limited * noise)) & np.isfinite(e)
        # The false-plateau guard of richardson_search compares a candidate with the difference at a step
        # RATIO**GROWTH_SHIFT times smaller, which a short first pass does not reach: without this check, steps
        # all far beyond the scale of f (sin at x = 6434 with steps of thousands) can agree by accident and settle
        # as a confident wrong answer. One more stencil at that smaller step applies the same test to the choice.
        reference_step = taken(xs, s / RATIO**GROWTH_SHIFT)
        # As there, the differences over the candidate's steps (not its extrapolated value, which is ~0 for a zero
        # derivative) are compared, and a reference at the rounding level of f is no evidence.
        with np.errstate(all="ignore"):
            reference_values = along(shaped_offsets(offsets, xs.ndim) * reference_step[None], todo)
        settled &= ~false_plateau(top, reference_values, reference_step, order)
        # f's rounding measured (its noise counted EPS*|f|: atan(36*x) - atan(36.000000003*x) at -40, 1.48e-15 +- 4e-29
        # for 1.47e-15), added to error and noise alike: a point it explains stays settled, its status judged on it.
        assert typical is not None  # (richardson_search measures it by default)
        v, e, s = v.reshape(-1), e.reshape(-1), s.reshape(-1)
        noise, typical, settled = noise.reshape(-1), typical.reshape(-1), settled.reshape(-1)
        lines = np.arange(xs.size) if todo is None else todo
        probed = s / FIRST_PASS_PROBE_SHRINK
        e, noise, count = measured_settled(along, xs.reshape(-1), lines, e, probed, noise, typical, settled)
        with np.errstate(invalid="ignore"):
            settled &= (e <= accept * np.abs(v)) | (e <= rounding_limited * noise)
        nfev += count
        flat_value[where], flat_error[where], flat_step[where] = v, e, s
        # Also |f| next to x from the fast pass where it has one: the first pass's steps relative to |x| may reach
        # far from x (thousands for sin at 5e4), where f may happen to be small.
        flat_fscale[where] = np.fmax(flat_fscale[where], typical)
        flat_floor[where] = absolute_floor(flat_fscale[where], np.maximum(1.0, np.abs(xs)).reshape(-1), order)
        unsettled = np.flatnonzero(~settled)
        todo = unsettled if todo is None else todo[unsettled]
    disputed = np.zeros(x.size, dtype=bool)
    if todo.size:
        nfev += len(offsets) * WIDE_SEARCH_STEPS
        # The wide grid contains the first pass's steps, so its choice replaces the first one.
        wide_search(along, flat_x, todo, order, flat_value, flat_error, flat_step, flat_floor, flat_fscale, disputed)
    # Two estimates from different steps must agree within their error bars (check_against_fast: atan at 1.14, order
    # 4, was 2e-6 off with an error estimate of 2e-8 on steps beyond the radius of convergence of f; 1/sin at 1e6,
    # order 2, is about 0 on the searches' steps of 5e5, -43.792631 +- 1.2e-3 on the fast pass's, -43.792633 in
    # fact). The estimate checked against is the one before the scaled passes: the fast pass's, or at orders 2-4
    # the fine pass's that followed it where that one did better.
    check_against_fast(checked, fast_value, fast_error, flat_value, flat_error)
    # The fine pass for the points still not vouched for; first derivatives too, where it vouches relatively: next
    # to a pole or a branch point (tan near pi/2, log and x**1.5 near 0, acos near 1) its ratio of 1.25 and measured
    # rounding deliver 13 to 15 digits where the searches' tableau vouched for fewer than 10.
    # Not where the wide search's larger steps disputed its choice: the fine pass's steps (a ratio of 36 around
    # that choice) would see the same smooth rounding and vouch for it again.
    with np.errstate(invalid="ignore"):
        # (refine checks this again on the points it is given: the same test, here without gathering them first.)
        vouched = (flat_error <= PRECISION[order] * np.abs(flat_value)) | (flat_error <= flat_floor)
    refined = np.flatnonzero(~disputed & ~vouched)
    nfev += fine(refined, relative=order == 1)
    # The fine pass may vouch again for a value the check above found wrong, from steps around the same larger ones
    # (2*x**3 + sin(x), order 3, at 2180: 12.0 +- 3.6e-10 for 11.07, on steps whose differences average the sine
    # away; log(x) + 1e-12*sin(x) at 2.3e7, whose scaled steps of 1e6 disagreed with the fast pass and the fine pass
    # around them vouched for a value 2e-5 off): checked once more where its steps are larger than those of the
    # estimate checked against. (Not on smaller ones: there the fast pass's steps are the ones beyond the scale of f,
    # as tanh(100*x), which tests/test_checked_against_fast.py holds.)
    if refined.size and checked.size:
        # (checked and refined are sorted flat indices: the positions in checked of the points refined.)
        at = np.minimum(np.searchsorted(checked, refined), checked.size - 1)
        at = at[checked[at] == refined]
        at = at[flat_step[checked[at]] > checked_step[at]]
        check_against_fast(checked[at], fast_value[at], fast_error[at], flat_value, flat_error)
    # Relative accuracy; or (a derivative small next to f: a zero of f', a Hessian direction along which f is
    # linear) the absolute accuracy the rounding of f allows on the scale the pass measured f on.
    status = verdict(value, error, floor, order)
    if kink_check:
        kinks = np.isfinite(value) & kinked(along, x, step, np.maximum(np.abs(value), error), order)
        status = np.where(kinks, KINK if order == 1 else KINK_BELOW, status)
        nfev += kink_evaluations(order)
    error = np.where(np.isfinite(error), error, np.nan)
    return Estimate(value, error, step, nfev, "auto", status)


def false_plateau(top: np.ndarray, reference_values: np.ndarray, reference_step: np.ndarray, order: int) -> np.ndarray:
    """Where a candidate chosen from a short sequence is a false plateau: the largest |difference| over its steps
    (``top``) is much smaller than the difference at ``reference_step``, a step about 40 times smaller (f there:
    ``reference_values``, one row per stencil offset), which a genuine derivative estimate never is. As in
    :func:`richardson_search`, a reference at the rounding level of f is no evidence."""
    _, numerators, denominator = stencil(order, "central")
    with np.errstate(all="ignore"):
        scaled_step = denominator * reference_step**order
        reference = stencil_sum(reference_values, numerators) / scaled_step
        reference_noise = stencil_sum(EPS * np.abs(reference_values), tuple(map(abs, numerators))) / scaled_step
        return (top < GROWTH_FACTOR * np.abs(reference)) & (np.abs(reference) > RESOLVED_ABOVE * reference_noise)


def wide_search(
    along: Along,
    flat_x: np.ndarray,
    todo: np.ndarray,
    order: int,
    value: np.ndarray,
    error: np.ndarray,
    step: np.ndarray,
    floor: np.ndarray,
    fscale: np.ndarray,
    disputed: np.ndarray | None = None,
) -> None:
    """The wide search (:data:`WIDE_SEARCH_STEPS` steps from ``WIDE_SEARCH_STEP * max(1, |x|)``, the rounding noise
    of f measured) at the flat indices ``todo``, in blocks of :data:`WIDE_BLOCK` points; writes ``value``,
    ``error``, ``step`` and the absolute ``floor`` (judged with ``fscale`` on the scale ``max(1, step)``: its steps
    go down to 1e-14, and a candidate chosen there for want of better ones is no measure of the scale of f) in
    place, and ``disputed`` (flat, optional) where larger steps disagree with the chosen candidate."""
    for start in range(0, todo.size, WIDE_BLOCK):
        sel = todo[start : start + WIDE_BLOCK]
        xs = flat_x[sel]
        steps = geometric_steps(xs, WIDE_SEARCH_STEP, WIDE_SEARCH_STEPS)
        found = np.zeros(sel.size, dtype=bool)
        value[sel], error[sel], step[sel], _, _, _ = richardson_search(
            along, xs, steps, order, sel, fscale=False, measure_noise=True, disputed=found
        )
        if disputed is not None:
            disputed[sel] = found
        floor[sel] = absolute_floor(fscale[sel], np.maximum(1.0, step[sel]), order)
