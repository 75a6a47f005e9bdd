"""``auto`` for gradients: the fast pass for every component, then a few passes for the few it cannot vouch for.

A gradient of ``m`` variables costs ``m`` times what one derivative costs, so the evaluations per component matter
more than anywhere else, and so does the number of calls of f: each costs the same bookkeeping whatever the number
of components in it. Each pass below is one batched call for the components the one before left:

0. the fast pass of a derivative (:func:`~.fast.fast_pass`: five absolute steps and f at x, 11 evaluations): it
   settles most components of functions that vary on a scale of about 1 (of the cyclic function of
   benchmarks/gradient.py at one random point: all 10 at n = 10 and 98 of 100 at n = 100, where the former first
   pass of 4 steps relative to max(1, |x|) settled 1 and 52); for an analytic f, the components it settles take the
   complex step's value where the two agree within the fast pass's error (one complex evaluation: see
   :func:`_complex_value`), 16 digits where the fast pass's smallest steps leave 13 to 15;
1. for an analytic f, the complex step (:func:`~.lines.complex_opinion`: 9 complex evaluations with the probe of
   its rounding, in the call of 0b's, :func:`_complex_values`, and 5 real ones that confirm it): what the fast pass
   leaves is mostly a component whose relative digits the rounding of f limits (a small derivative of a large sum),
   which real steps of the same size cannot do better on; a component whose error is within the rounding floor of
   f on the scale max(1, |x|) is done without it where f is not analytic;
2. the gradient's sequence of :data:`~.steps.GRADIENT_STEPS` steps in a
   ratio of :data:`~.steps.RATIO` from ``GRADIENT_FIRST_STEP * max(1, |x|)``, extrapolated (16 evaluations), done
   where it vouches for a component or the rounding it carries explains its error;
3. the rescaled pass: 7 steps of the same sequence ``RATIO**GROWTH_SHIFT`` (about 40) times smaller, for f that
   varies on a scale below the first steps (``sin(50 x)``, ``tanh(30 x)``, ``1 / (x**2 + 0.01)``: 16 evaluations
   instead of the wide search's 128);
4. the wide search of :func:`~.adaptive.adaptive` (:data:`~.steps.WIDE_SEARCH_STEPS` steps over 13 decades, the
   rounding noise of f measured) for the components none of them can vouch for.

The short passes of steps 2 and 3 check their choice against a false plateau with one more stencil in the same
call (see :func:`short_pass`); each component is judged as :func:`~.adaptive.adaptive` judges a point
(:func:`~.verdicts.verdict`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from numdiff_cli.contract import KINK
from numdiff_cli.numerics.adaptive import false_plateau, richardson_search, wide_search
from numdiff_cli.numerics.estimate import EPS, PRECISION, Along, Estimate, on_lines
from numdiff_cli.numerics.fast import fast_pass
from numdiff_cli.numerics.fine import evaluations, measured_settled
from numdiff_cli.numerics.kinks import KINK_EVALUATIONS, kinked
from numdiff_cli.numerics.lines import VOUCHING, VOUCHING_OFFSETS, complex_opinion
from numdiff_cli.numerics.richardson import Quieter
from numdiff_cli.numerics.stencils import QUIET_ULPS, complex_offsets, shaped_offsets, stencil
from numdiff_cli.numerics.steps import (
    COMPLEX_STEP,
    COMPLEX_UNDERFLOW,
    FAST_STEPS,
    GRADIENT_FIRST_STEP,
    GRADIENT_ROUNDING_LIMITED,
    GRADIENT_STEPS,
    GROWTH_SHIFT,
    RATIO,
    WIDE_SEARCH_STEPS,
    geometric_steps,
    taken,
)
from numdiff_cli.numerics.verdicts import absolute_floor, verdict

# Evaluations per component: the fast pass's (two per step, and f at x); two per step, and two for the
# false-plateau guard of each short pass.
FAST_EVALUATIONS = evaluations(stencil(1, "central")[0], len(FAST_STEPS)) + 1  # and f at x (fast_pass's grows)
SHORT_PASS_EVALUATIONS = 2 * (GRADIENT_STEPS + 1)
WIDE_EVALUATIONS = 2 * WIDE_SEARCH_STEPS


def gradient_auto(along: Along, x: np.ndarray, analytic: bool = False, check_kink: bool = False) -> Estimate:
    """``auto`` first derivatives along the lines through ``x`` (the components of a gradient, of any shape), with
    ``along`` as in :data:`~.estimate.Along`, by the passes of this module. With ``analytic`` (f is
    complex-analytic and takes complex arguments), the components the fast pass vouches for take the complex
    step's value where it agrees with the fast pass's (one evaluation more, with the fast pass's error), and those
    it cannot vouch for get the complex step first: 14 evaluations where it vouches for them, instead of 16 to 160
    for the real passes. With
    ``check_kink``, a component along whose line f has a kink (``abs(x) + y`` at x = 0, ``max(x)`` where two
    elements tie) gets the status :data:`~numdiff_cli.contract.KINK`, as :func:`~.adaptive.adaptive` gives it (the
    kink test, :data:`~.kinks.KINK_EVALUATIONS` more evaluations). Without it, the test still runs on the components
    whose fast pass saw its second differences grow towards its smallest step and that the complex step did not
    vouch for (a feature far below the steps: ``exp(-1e20*x**2)`` at 1e-21).

    Returns the :class:`~.estimate.Estimate` of every component; ``nfev`` is the largest number of evaluations any
    component needed (:data:`FAST_EVALUATIONS` where the fast pass vouched for all of them, one more for an
    analytic f).
    """
    flat_x = x.reshape(-1)
    # 0. The fast pass of a derivative (five absolute steps, one call): most components of functions that vary on a
    # scale of about 1 settle there.
    grows = np.zeros(flat_x.size, dtype=bool)
    # (For an analytic f, the search for the quieter entries of its tableau waits for the complex step's value: see 0b.)
    quiet_later: list[Quieter] | None = [] if analytic else None
    value, error, step, fscale, fast_settled, trusted, floor = fast_pass(
        along, flat_x, 1, None, x.shape, grows=grows, quiet_later=quiet_later
    )
    nfev = FAST_EVALUATIONS
    rest = np.flatnonzero(~fast_settled)
    least = FAST_EVALUATIONS  # what the components the fast pass settled cost
    if analytic:
        settled = np.flatnonzero(fast_settled)
        # One complex call for 0b and 1 below: f at x + ih on the components the fast pass settled, at the complex
        # opinion's offsets on the others (a call of f fewer than one for each: a tenth of the cyclic function's
        # gradient at n = 100, 3 of whose components the fast pass leaves).
        in_complex = _complex_values(along, settled, rest)
    if analytic and rest.size < flat_x.size:
        # 0b. Where the fast pass vouches for a component of an analytic f, the complex step's value (one complex
        # evaluation) where it agrees with the fast pass's within its error: the fast pass's error, which the
        # agreement keeps honest, and the complex step's digits (16 where f rounds like its value, against the
        # fast pass's 13 to 15, whose smallest step carries the rounding of f).
        complex_value, taken = _complex_value(in_complex[: settled.size], value[settled], error[settled])
        # (The step stays the fast pass's: its error's, and the one the kink test starts from.)
        value[settled[taken]] = complex_value[taken]
        # Where it is not taken, the fast pass's entry that carries less rounding, as for an f not analytic (the
        # agreement above is judged on the value its error is of, the last entry).
        for seek in quiet_later or ():
            seek(settled[~taken])
        least += 1
    if rest.size and analytic:
        # 1. The complex step, kept where it vouches for the component and agrees with the estimate so far: most of
        # what the fast pass leaves is a component whose relative digits the rounding of f limits (a small
        # derivative of a large sum), which real steps of the same size cannot do better on.
        value[rest], error[rest], done, count = _complex_opinion(
            along, flat_x, rest, value, error, in_complex[settled.size :].reshape(VOUCHING, rest.size)
        )
        nfev += count
        # (Vouched for on steps far below any feature the fast pass's steps missed: no kink test for that.)
        grows[rest[done]] = False
        rest = rest[~done]
    # Also done: the components whose error is within the rounding floor of f on the scale max(1, |x|), which the
    # status vouches for (a small component of a large sum: 4e-4 +- 4e-13 where f is 37), as the relative pass below
    # would judge them; its steps, of the same size, would not do better. (The fast pass's own floor, on the scale
    # of its steps, is 16 times looser: it vouches only for a value consistent with zero.)
    if rest.size:
        relative_floor = absolute_floor(fscale[rest], np.maximum(1.0, np.abs(flat_x[rest])), 1)
        with np.errstate(invalid="ignore"):
            within = trusted[rest] & (error[rest] <= relative_floor)
        floor[rest[within]] = relative_floor[within]
        rest = rest[~within]
    if rest.size:
        # 2. The gradient's sequence of steps relative to max(1, |x|), in one call.
        xs = flat_x[rest]
        v, e, s, noise, typical, plateau = short_pass(along, xs, GRADIENT_STEPS, rest)
        value[rest], error[rest], step[rest] = v, e, s
        fscale[rest] = np.fmax(fscale[rest], typical)
        floor[rest] = absolute_floor(fscale[rest], np.maximum(1.0, np.abs(xs)), 1)
        # Done where its estimate vouches for the component, or is explained by the rounding it carries (up to
        # GRADIENT_ROUNDING_LIMITED times it): the steps below would only add rounding, and the status says whether
        # the rounding floor of f vouches for it. (The rounding as measured: see measured_settled.)
        done = _settles(v, e, noise) & np.isfinite(e) & ~plateau
        e, noise, count = measured_settled(along, xs, rest, e, s, noise, typical, done)
        error[rest] = e
        done &= _settles(v, e, noise)
        nfev += SHORT_PASS_EVALUATIONS + count
        rest = rest[~done]
    if rest.size:
        # 3. The same short sequence RATIO**GROWTH_SHIFT (about 40) times smaller, for f that varies on a scale below
        # the first steps (sin(50 x): its period is 0.13): a false plateau there, or differences that do not settle.
        xs = flat_x[rest]
        v, e, s, noise, typical, plateau = short_pass(
            along, xs, GRADIENT_STEPS, rest, GRADIENT_FIRST_STEP / RATIO**GROWTH_SHIFT
        )
        # At these steps the rounding of f weighs 40 times more than at the first ones, and it is often many times
        # eps * |f| (a sum of terms larger than itself: sum(sin(50 x)) over 30 variables): the error counts it
        # GRADIENT_ROUNDING_LIMITED times, as the first pass allows for it (without, estimates were up to 56 times
        # below the true error).
        with np.errstate(all="ignore"):
            done = (e + GRADIENT_ROUNDING_LIMITED * noise <= PRECISION[1] * np.abs(v)) & np.isfinite(e) & ~plateau
        e, noise, count = measured_settled(along, xs, rest, e, s, noise, typical, done)
        e = e + GRADIENT_ROUNDING_LIMITED * noise
        with np.errstate(all="ignore"):
            done &= e <= PRECISION[1] * np.abs(v)
        nfev += count
        # The floor stays the one on the scale max(1, |x|) (not the smaller scale of these steps: no leniency).
        fscale[rest] = np.fmax(fscale[rest], typical)
        floor[rest] = absolute_floor(fscale[rest], np.maximum(1.0, np.abs(xs)), 1)
        settled_here = rest[done]
        value[settled_here], error[settled_here], step[settled_here] = v[done], e[done], s[done]
        nfev += SHORT_PASS_EVALUATIONS
        rest = rest[~done]
    if rest.size:
        # 4. The wide search; its grid contains the earlier steps, so its choice replaces theirs. The absolute floor
        # is judged on the scale max(1, step) (its steps go down to 1e-14: a candidate chosen there for want of
        # better ones is no measure of the scale of f), as in adaptive.
        wide_search(along, flat_x, rest, 1, value, error, step, floor, fscale)
        nfev += WIDE_EVALUATIONS
    estimate = _finished(x, value, error, step, floor, max(nfev, least))
    # The kink test, on every component where f may have one, and where the fast pass saw second differences grow
    # towards its smallest step even if f cannot have one (a feature far smaller than its steps, which f of functions
    # real-analytic everywhere can have: exp(-1e20*x**2) at 1e-21, or sqrt(x**2 + 1e-30), which the steps see as
    # |x|), unless the complex step vouched for the component.
    tested = np.arange(flat_x.size) if check_kink else np.flatnonzero(grows)
    if not tested.size:
        return estimate
    with np.errstate(invalid="ignore"):
        flat_value, flat_error = estimate.value.reshape(-1)[tested], estimate.error.reshape(-1)[tested]
        size = np.maximum(np.abs(flat_value), flat_error)
        kinks = np.zeros(flat_x.size, dtype=bool)
        kinks[tested] = np.isfinite(flat_value) & kinked(
            on_lines(along, tested), flat_x[tested], estimate.step.reshape(-1)[tested], size
        )
    status = np.where(kinks.reshape(x.shape), KINK, estimate.status)
    return dataclasses.replace(estimate, status=status, nfev=estimate.nfev + KINK_EVALUATIONS)


def _finished(
    x: np.ndarray, value: np.ndarray, error: np.ndarray, step: np.ndarray, floor: np.ndarray, nfev: int
) -> Estimate:
    """The :class:`~.estimate.Estimate` of the components (flat arrays), each judged as
    :func:`~.adaptive.adaptive` judges a point."""
    status = verdict(value, error, floor, 1)
    error = np.where(np.isfinite(error), error, np.nan)
    shape = x.shape
    return Estimate(
        value.reshape(shape), error.reshape(shape), step.reshape(shape), nfev, "auto", status.reshape(shape)
    )


def _complex_opinion(
    along: Along, flat_x: np.ndarray, points: np.ndarray, value: np.ndarray, error: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """:func:`~.lines.complex_opinion` on the components ``points``: their values and errors (the complex step's
    where it vouched for them), where it did, and its evaluations (``values``: f at the complex step's offsets on
    those lines, :func:`_complex_values`).

    The error of a value it vouched for counts the rounding of the terms of f, carried into Im f where the terms of
    the derivative cancel, which the complex step's own estimate (4 ulps of f', 2 of ``x f''``) does not see: as much
    as its check lets f carry (QUIET_ULPS ulps of ``|f| + |x f'|``) over the scale of x. ``sin(x*y) + sin(x*z) + 5``
    at z = -0.9999999999: f_x is 3e-11 with 5 correct digits, whose estimate said 3e-26; now 3.6e-14, within the
    rounding floor of f, which vouches for it. (Along one variable both f' and f'' must cancel for this, which
    another variable's value arranges at once.)"""
    old_value, old_error = value[points], error[points]
    xs = flat_x[points]
    opinion, done = complex_opinion(on_lines(along, points), xs, old_value, old_error, values)
    with np.errstate(invalid="ignore"):
        scale = np.maximum(1.0, np.abs(xs))
        carried = QUIET_ULPS * EPS * (opinion.fscale / scale + np.abs(xs) / scale * np.abs(opinion.value))
        new_error = np.fmax(opinion.error, carried)
    return np.where(done, opinion.value, old_value), np.where(done, new_error, old_error), done, opinion.nfev


def _complex_values(along: Along, settled: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """f at ``x + ih`` on the lines ``settled``, then at :data:`~.lines.VOUCHING_OFFSETS` on the lines ``rest`` (offset
    after offset), in one call: shape ``(settled.size + VOUCHING * rest.size,)``."""
    t, lines = np.full(settled.size, complex_offsets(COMPLEX_STEP)[0]), settled
    if rest.size:  # (none where the fast pass settled every line, the common case)
        t = np.concatenate([t, np.repeat(VOUCHING_OFFSETS, rest.size)])
        lines = np.concatenate([settled, np.tile(rest, VOUCHING)])
    with np.errstate(all="ignore"):
        return along(t[None], lines)[0]


def _complex_value(f_values: np.ndarray, value: np.ndarray, error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The complex step ``Im f(x + i h) / h`` from f at ``x + i h`` (``f_values``, one complex evaluation per line),
    and where it may replace the estimate ``value`` whose ``error`` vouches for it: where the two agree within that
    error, and ``Im f`` has not underflowed (:data:`~.steps.COMPLEX_UNDERFLOW`).

    The agreement is the complex step's check, in place of :func:`~.stencils.complex_check`'s five evaluations:
    where f cancels internally the complex step carries the rounding of its terms (``z / sin(z)`` near 0), where f
    is not analytic along the line it is not the derivative at all, and either shows as a difference larger than
    the real estimate's error, which then stays. Where they agree, the complex step's value is within twice that
    error of the true derivative, so the error stays the real estimate's (the status is judged on it, as before)."""
    with np.errstate(all="ignore"):
        imaginary = f_values.imag
        new = imaginary / COMPLEX_STEP
        taken = (np.abs(new - value) <= error) & (np.abs(imaginary) >= COMPLEX_UNDERFLOW)
    return new, taken


def _settles(value: np.ndarray, error: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Where the relative steps' estimate vouches for a component, or its error is explained by the rounding it
    carries (up to :data:`~.steps.GRADIENT_ROUNDING_LIMITED` times its ``noise``)."""
    with np.errstate(all="ignore"):
        return (error <= PRECISION[1] * np.abs(value)) | (error <= GRADIENT_ROUNDING_LIMITED * noise)


def short_pass(
    along: Along, x: np.ndarray, count: int, sel: np.ndarray, largest: float = GRADIENT_FIRST_STEP
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Central differences at ``count`` steps from ``largest * max(1, |x|)`` (the gradient's sequence) at the flat
    points ``x``, extrapolated (:func:`~.adaptive.richardson_search`), with one call of f on the lines ``sel`` of
    ``along``.

    The same call evaluates a reference stencil at ``RATIO**(GROWTH_SHIFT + count - 1)`` times below the largest
    step, at least ``RATIO**GROWTH_SHIFT`` (about 40) times below any candidate's largest step: where the
    differences over the chosen candidate's steps are much smaller than the reference, the candidate is a false
    plateau, as :func:`~.adaptive.richardson_search` tests within its own sequence, which a short one does not
    reach. Steps all far beyond the scale of f can agree by accident (``sin`` at 6434 with steps of thousands); a
    reference at the rounding level of f is no evidence.

    Returns value, error, step, carried rounding noise, typical |f|, and the false-plateau mask.
    """
    offsets = stencil(1, "central")[0]
    steps = geometric_steps(x, largest, count)
    reference_step = taken(x, steps[0] / RATIO ** (GROWTH_SHIFT + count - 1))
    t = shaped_offsets(offsets, 2) * np.concatenate([steps, reference_step[None]])[None]
    with np.errstate(all="ignore"):
        values = along(t.reshape(-1, x.size), sel).reshape(t.shape)
    v, e, s, noise, typical, top = richardson_search(
        lambda _t, _sel: values[:, :-1].reshape(-1, x.size), x, steps, 1, None
    )
    assert typical is not None  # richardson_search returns it with fscale (its default)
    plateau = false_plateau(top, values[:, -1], reference_step, 1)
    return v, e, s, noise, typical, plateau
