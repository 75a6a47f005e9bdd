"""``auto`` for gradients: a short first pass for every component, its continuation for the few it cannot vouch for.

A gradient of ``m`` variables costs ``m`` times what one derivative costs, so the evaluations per component matter
more than anywhere else. Four passes, each one batched call of f for the components the one before left:

1. the first pass: :data:`~.steps.GRADIENT_FIRST_STEPS` central differences at steps in a ratio of
   :data:`~.steps.RATIO` from ``GRADIENT_FIRST_STEP * max(1, |x|)``, extrapolated; its short tableau has a single
   entry at its last level, whose error estimate (from how fast the gaps of the levels below shrink) is often a
   thousand times pessimistic: 13-14 correct digits under an estimate of 1e-11 (``exp(sin(x_i) x_(i+1))`` terms at
   n = 100);
2. the continuation: :data:`~.steps.GRADIENT_MORE_STEPS` more steps of the same sequence, the first pass's
   evaluations reused: on the longer sequence the tableau's entries have neighbours on both sides, whose
   distances are honest error estimates of their own size. Also for the components the first pass settled for
   rounding alone, which it would flag: the continuation vouches for about a quarter of them (measured over 10
   functions at random points; on the cyclic benchmark function at n = 1000, 289 flags instead of 553);
3. the rescaled pass: the same 7 steps ``RATIO**GROWTH_SHIFT`` (about 40) times smaller, for f that varies on a
   scale below the first steps (``sin(50 x)``, ``tanh(30 x)``, ``1 / (x**2 + 0.01)``: 34 evaluations in all
   instead of the wide search's 146);
4. the wide search of :func:`~.adaptive.adaptive` (:data:`~.steps.WIDE_SEARCH_STEPS` steps over 13 decades, the
   rounding noise of f measured) for the components none of them can vouch for.

Over 14 functions at random points (|x| up to 30, n up to 20; those of ``tests/test_gradient_honesty.py``), 28.6
evaluations per component on average where the first pass and the wide search alone spent 79, with more components
vouched for (10231 of 10540, against 10179) and none wrong under an OK status.

Each of the short passes checks its choice against a false plateau with one more stencil in the same call (see
:func:`short_pass`); each component is judged as :func:`~.adaptive.adaptive` judges a point
(:func:`~.verdicts.verdict`).
"""

from __future__ import annotations

import numpy as np

from numdiff_cli.contract import IMPRECISE, OK
from numdiff_cli.numerics.adaptive import false_plateau, richardson_search, wide_search
from numdiff_cli.numerics.estimate import PRECISION, Along, Estimate, on_lines
from numdiff_cli.numerics.lines import second_opinion
from numdiff_cli.numerics.stencils import shaped_offsets, stencil
from numdiff_cli.numerics.steps import (
    GRADIENT_FIRST_STEP,
    GRADIENT_FIRST_STEPS,
    GRADIENT_MORE_ROUNDING_LIMITED,
    GRADIENT_MORE_STEPS,
    GRADIENT_RESCALED_STEPS,
    GRADIENT_ROUNDING_LIMITED,
    GROWTH_SHIFT,
    RATIO,
    WIDE_SEARCH_STEPS,
    geometric_steps,
    taken,
)
from numdiff_cli.numerics.verdicts import absolute_floor, verdict

# Evaluations per component: two per step, and two for the false-plateau guard of each short pass.
FIRST_PASS_EVALUATIONS = 2 * (GRADIENT_FIRST_STEPS + 1)
MORE_EVALUATIONS = 2 * (GRADIENT_MORE_STEPS + 1)
RESCALED_EVALUATIONS = 2 * (GRADIENT_RESCALED_STEPS + 1)
WIDE_EVALUATIONS = 2 * WIDE_SEARCH_STEPS


def gradient_auto(along: Along, x: np.ndarray, analytic: bool = False) -> Estimate:
    """``auto`` first derivatives along the lines through ``x`` (the components of a gradient, of any shape), with
    ``along`` as in :data:`~.estimate.Along`. With ``analytic`` (f is complex-analytic and takes complex arguments),
    the components the first pass and its continuation cannot vouch for get the complex step
    (:func:`~.lines.second_opinion`) before the searches: 8 evaluations where it vouches for them, instead of 34 or
    162 for the real passes.

    Returns the :class:`~.estimate.Estimate` of every component; ``nfev`` is the largest number of evaluations any
    component needed (:data:`FIRST_PASS_EVALUATIONS` where the first pass vouched for all of them).
    """
    flat_x = x.reshape(-1)
    # 1. The first pass, at every component.
    v, e, s, noise, typical, plateau, first_values = short_pass(along, x, GRADIENT_FIRST_STEPS, None, None)
    value, error, step, noise, fscale = (a.reshape(-1) for a in (v, e, s, noise, typical))
    with np.errstate(all="ignore"):
        settled = (error <= PRECISION[1] * np.abs(value)) | (error <= GRADIENT_ROUNDING_LIMITED * noise)
    settled &= np.isfinite(error) & ~plateau.reshape(-1)
    floor = absolute_floor(fscale, np.maximum(1.0, np.abs(flat_x)), 1)
    nfev = FIRST_PASS_EVALUATIONS
    # A component settled for rounding (its error estimate explained by the noise it carries) whose estimate is
    # above the floor would be flagged: the continuation's longer tableau often vouches for it (an entry with
    # neighbours on both sides), and it is then done by the first pass's criterion, never sent to the wide search.
    with np.errstate(all="ignore"):
        rounding_only = settled & ~((error <= PRECISION[1] * np.abs(value)) | (error <= floor))
    rest = np.flatnonzero(~settled | rounding_only)
    if rest.size:
        # 2. The same sequence continued for these components, the first pass's evaluations reused.
        xs = flat_x[rest]
        known = first_values.reshape(2, GRADIENT_FIRST_STEPS, -1)[:, :, rest]
        v, e, s, noise, typical, plateau, _ = short_pass(
            along, xs, GRADIENT_FIRST_STEPS + GRADIENT_MORE_STEPS, rest, known
        )
        value[rest], error[rest], step[rest] = v, e, s
        fscale[rest] = np.fmax(fscale[rest], typical)
        floor[rest] = absolute_floor(fscale[rest], np.maximum(1.0, np.abs(xs)), 1)
        with np.errstate(all="ignore"):
            limit = np.where(rounding_only[rest], GRADIENT_ROUNDING_LIMITED, GRADIENT_MORE_ROUNDING_LIMITED)
            done = (e <= PRECISION[1] * np.abs(v)) | (e <= limit * noise)
        done &= np.isfinite(e) & ~plateau
        nfev += MORE_EVALUATIONS
        rest = rest[~done]
    tried = np.zeros(flat_x.size, dtype=bool)
    if rest.size and analytic:
        # 2b. The complex step, kept where it vouches for the component and agrees with the estimate so far.
        value[rest], error[rest], done, count = _complex_opinion(along, flat_x, rest, value, error, step)
        tried[rest] = True
        nfev += count
        rest = rest[~done]
    if rest.size:
        # 3. The same short sequence RATIO**GROWTH_SHIFT (about 40) times smaller, for f that varies on a scale below
        # the first steps (sin(50 x): its period is 0.13): a false plateau there, or differences that do not settle.
        xs = flat_x[rest]
        v, e, s, noise, typical, plateau, _ = short_pass(
            along, xs, GRADIENT_RESCALED_STEPS, rest, None, GRADIENT_FIRST_STEP / RATIO**GROWTH_SHIFT
        )
        # At these steps the rounding of f weighs 40 times more than at the first ones, and it is often many times
        # eps * |f| (a sum of terms larger than itself: sum(sin(50 x)) over 30 variables): the error counts it
        # GRADIENT_ROUNDING_LIMITED times, as the first pass allows for it (without, estimates were up to 56 times
        # below the true error).
        e = e + GRADIENT_ROUNDING_LIMITED * noise
        with np.errstate(all="ignore"):
            done = e <= PRECISION[1] * np.abs(v)
        done &= np.isfinite(e) & ~plateau
        # The floor stays the one on the scale max(1, |x|) (not the smaller scale of these steps: no leniency).
        fscale[rest] = np.fmax(fscale[rest], typical)
        floor[rest] = absolute_floor(fscale[rest], np.maximum(1.0, np.abs(xs)), 1)
        settled_here = rest[done]
        value[settled_here], error[settled_here], step[settled_here] = v[done], e[done], s[done]
        nfev += RESCALED_EVALUATIONS
        rest = rest[~done]
    if rest.size:
        # 4. The wide search; its grid contains the earlier steps, so its choice replaces theirs. The absolute floor
        # is judged on the scale max(1, step) (its steps go down to 1e-14: a candidate chosen there for want of
        # better ones is no measure of the scale of f), as in adaptive.
        wide_search(along, flat_x, rest, 1, value, error, step, floor, fscale)
        nfev += WIDE_EVALUATIONS
    status = verdict(value, error, floor, 1)
    # The components settled by the passes above, but not vouched for (their error explained by f's rounding),
    # get the complex step too.
    again = np.flatnonzero((status == IMPRECISE) & ~tried) if analytic else np.empty(0, dtype=int)
    if again.size:
        value[again], error[again], done, count = _complex_opinion(along, flat_x, again, value, error, step)
        status[again[done]] = OK
        nfev += count
    error = np.where(np.isfinite(error), error, np.nan)
    shape = x.shape
    return Estimate(
        value.reshape(shape), error.reshape(shape), step.reshape(shape), nfev, "auto", status.reshape(shape)
    )


def _complex_opinion(
    along: Along, flat_x: np.ndarray, points: np.ndarray, value: np.ndarray, error: np.ndarray, step: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """:func:`~.lines.second_opinion` on the components ``points``: their values and errors, where it vouched for
    them, and its evaluations."""
    so_far = Estimate(value[points], error[points], step[points], 0, "auto", np.full(points.size, IMPRECISE))
    opinion = second_opinion(on_lines(along, points), flat_x[points], 1, so_far)
    return opinion.value, opinion.error, opinion.status == OK, opinion.nfev


def short_pass(
    along: Along,
    x: np.ndarray,
    count: int,
    sel: np.ndarray | None,
    known: np.ndarray | None,
    largest: float = GRADIENT_FIRST_STEP,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Central differences at ``count`` steps from ``largest * max(1, |x|)`` (the gradient's sequence), extrapolated
    (:func:`~.adaptive.richardson_search`), with one call of f: the lines ``sel`` of ``along`` (``None``: all, of
    the shape of ``x``), the values at the first steps given by ``known`` (shape ``(2, k, x.size)``, or ``None``).

    The same call evaluates a reference stencil at ``RATIO**(GROWTH_SHIFT + count - 1)`` times below the largest
    step, at least ``RATIO**GROWTH_SHIFT`` (about 40) times below any candidate's largest step: where the
    differences over the chosen candidate's steps are much smaller than the reference, the candidate is a false
    plateau, as :func:`~.adaptive.richardson_search` tests within its own sequence, which a short one does not
    reach. Steps all far beyond the scale of f can agree by accident (``sin`` at 6434 with steps of thousands); a
    reference at the rounding level of f is no evidence.

    Returns value, error, step, carried rounding noise, typical |f|, the false-plateau mask, and f at the
    sequence's stencils (shape ``(2, count, *x.shape)``).
    """
    offsets = stencil(1, "central")[0]
    steps = geometric_steps(x, largest, count)
    reference_step = taken(x, steps[0] / RATIO ** (GROWTH_SHIFT + count - 1))
    first = 0 if known is None else known.shape[1]
    new_steps = np.concatenate([steps[first:], reference_step[None]])
    t = shaped_offsets(offsets, new_steps.ndim) * new_steps[None]
    with np.errstate(all="ignore"):
        new = along(t.reshape((-1,) + x.shape), sel).reshape(t.shape)
    values = new[:, :-1] if known is None else np.concatenate([known.reshape((2, first) + x.shape), new[:, :-1]], 1)
    # The tableau on the flattened points (its choice per point is then one indexing, not take_along_axis).
    flat = x.reshape(-1)
    v, e, s, noise, typical, top = richardson_search(
        lambda _t, _sel: values.reshape((-1, flat.size)), flat, steps.reshape(count, -1), 1, None
    )
    assert typical is not None  # richardson_search returns it with fscale (its default)
    plateau = false_plateau(top, new[:, -1].reshape(2, -1), reference_step.reshape(-1), 1)
    v, e, s, noise, typical, plateau = (a.reshape(x.shape) for a in (v, e, s, noise, typical, plateau))
    return v, e, s, noise, typical, plateau, values
