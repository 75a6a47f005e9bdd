"""``auto`` for gradients: a short first pass for every component, a middle pass for the few it cannot vouch for.

A gradient of ``m`` variables costs ``m`` times what one derivative costs, so the evaluations per component
matter more than anywhere else. The first pass (:func:`first_pass`) evaluates :data:`~.steps.GRADIENT_FIRST_STEPS`
central differences at steps from ``GRADIENT_FIRST_STEP * max(1, |x|)`` and one more stencil that guards against a
false plateau, all components in one call. Its short tableau has a single entry at its last level, whose error
estimate (the next term of the series, from how fast the gaps shrink) is often a thousand times pessimistic: 13-14
correct digits under an estimate of 1e-11 (measured on ``exp(sin(x_i) x_(i+1))`` terms at n = 100). Such components
go to the middle pass, :func:`~.adaptive.adaptive`'s own first pass of :data:`~.steps.GRADIENT_MIDDLE_STEPS` steps
from :data:`~.steps.GRADIENT_MIDDLE_STEP`, whose longer tableau gives entries with neighbours on both sides (an
honest error estimate of their own size); only the components that one cannot vouch for either pay its wide search.
"""

from __future__ import annotations

import numpy as np

from numdiff_cli.contract import IMPRECISE, NONFINITE, OK, OVERFLOW, UNRELIABLE
from numdiff_cli.numerics.adaptive import absolute_floor, adaptive, richardson_search
from numdiff_cli.numerics.estimate import EPS, PRECISION, RESOLVED_ABOVE, UNRELIABLE_ABOVE, Along, Estimate
from numdiff_cli.numerics.stencils import shaped_offsets, stencil, stencil_sum
from numdiff_cli.numerics.steps import (
    GRADIENT_FIRST_STEP,
    GRADIENT_FIRST_STEPS,
    GRADIENT_MIDDLE_ROUNDING_LIMITED,
    GRADIENT_MIDDLE_STEP,
    GRADIENT_MIDDLE_STEPS,
    GRADIENT_ROUNDING_LIMITED,
    GROWTH_FACTOR,
    GROWTH_SHIFT,
    RATIO,
    geometric_steps,
    taken,
)

# The first pass's evaluations per component: two per step and two for the false-plateau guard.
FIRST_PASS_EVALUATIONS = 2 * (GRADIENT_FIRST_STEPS + 1)


def gradient_auto(along: Along, x: np.ndarray) -> Estimate:
    """``auto`` first derivatives along the lines through ``x`` (the components of a gradient, flat or of any
    shape), with ``along`` as in :data:`~.estimate.Along`.

    Returns the :class:`~.estimate.Estimate` of every component. ``nfev`` is the largest number of evaluations
    any component needed (:data:`FIRST_PASS_EVALUATIONS` where the first pass settled all of them).
    """
    flat_x = x.reshape(-1)
    value, error, step, settled, floor = first_pass(along, x)
    value, error, step, floor = (a.reshape(-1) for a in (value, error, step, floor))
    status = verdict(value, error, floor)
    nfev = FIRST_PASS_EVALUATIONS
    rest = np.flatnonzero(~settled.reshape(-1))
    if rest.size:

        def along_rest(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
            return along(t, rest if sel is None else rest[sel])

        later = adaptive(
            along_rest,
            flat_x[rest],
            order=1,
            fast=False,
            first_steps=GRADIENT_MIDDLE_STEPS,
            first_step=GRADIENT_MIDDLE_STEP,
            rounding_limited=GRADIENT_MIDDLE_ROUNDING_LIMITED,
            accept=PRECISION[1],
        )
        # The later passes look at these components more closely (longer tableaus): their estimate replaces the
        # first one.
        value[rest], error[rest], step[rest], status[rest] = later.value, later.error, later.step, later.status
        nfev += later.nfev
    error = np.where(np.isfinite(error), error, np.nan)
    shape = x.shape
    return Estimate(
        value.reshape(shape), error.reshape(shape), step.reshape(shape), nfev, "auto", status.reshape(shape)
    )


def first_pass(along: Along, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The gradient's first pass at every component: value, error, step, the settled mask and the absolute floor
    (the accuracy the rounding of f allows on the scale ``max(1, |x|)`` of the steps: see :func:`verdict`).

    A component is settled where its error estimate is within ``PRECISION[1]`` of its value or within
    :data:`~.steps.GRADIENT_ROUNDING_LIMITED` times the rounding noise it carries (smaller steps would only add
    noise), and no false plateau shows: the differences over the chosen candidate's steps are not much smaller than
    the one at a step ``RATIO**GROWTH_SHIFT`` (about 40) times smaller, which a short sequence does not reach by
    itself (steps all far beyond the scale of f can agree by accident: ``sin`` at 6434 with steps of thousands).
    """
    offsets, numerators, denominator = stencil(1, "central")
    v, e, s, noise, typical, top = richardson_search(
        along, x, geometric_steps(x, GRADIENT_FIRST_STEP, GRADIENT_FIRST_STEPS), 1, None
    )
    reference_step = taken(x, s / RATIO**GROWTH_SHIFT)
    with np.errstate(all="ignore"):
        values = along(shaped_offsets(offsets, x.ndim) * reference_step[None], None)
        scaled_step = denominator * reference_step
        reference = stencil_sum(values, numerators) / scaled_step
        reference_noise = stencil_sum(EPS * np.abs(values), tuple(map(abs, numerators))) / scaled_step
        plateau = (top < GROWTH_FACTOR * np.abs(reference)) & (np.abs(reference) > RESOLVED_ABOVE * reference_noise)
        settled = (e <= PRECISION[1] * np.abs(v)) | (e <= GRADIENT_ROUNDING_LIMITED * noise)
    settled &= np.isfinite(e) & ~plateau
    assert typical is not None  # richardson_search returns it with fscale (its default)
    floor = absolute_floor(typical, np.maximum(1.0, np.abs(x)), 1)
    return v, e, s, settled, floor


def verdict(value: np.ndarray, error: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """The status of first derivatives: :data:`OK` where the error estimate is within ``PRECISION[1]`` of the value
    or within the absolute ``floor`` the rounding of f allows; :data:`IMPRECISE`, or :data:`UNRELIABLE` beyond
    ``UNRELIABLE_ABOVE`` (relative, or that many times the floor over ``PRECISION[1]``); :data:`OVERFLOW` and
    :data:`NONFINITE` for values that are not finite. As :func:`~.adaptive.adaptive` judges its points."""
    status = np.where(np.isfinite(value), OK, np.where(np.isinf(value), OVERFLOW, NONFINITE))
    with np.errstate(all="ignore"):
        for bound, code in ((PRECISION[1], IMPRECISE), (UNRELIABLE_ABOVE, UNRELIABLE)):
            vouched = (error <= bound * np.abs(value)) | (error <= floor * bound / PRECISION[1])
            status = np.where(np.isfinite(value) & ~vouched, code, status)
    return status
