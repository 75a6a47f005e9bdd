"""The kink test of first derivatives: where the slopes of f on the left and on the right of x differ."""

from __future__ import annotations

import numpy as np

from numdiff_cli.numerics.estimate import EPS, Along
from numdiff_cli.numerics.steps import KINK_SHRINK, taken

# f at x and on both sides at three steps.
KINK_EVALUATIONS = 7


def kinked(along: Along, x: np.ndarray, step: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Where the left and right slopes of f at x differ (a kink, as ``abs`` or ``relu`` at 0).

    ``kappa(h) = (f(x+h) - 2 f(x) + f(x-h)) / h`` is ``f''(x) h + O(h**3)`` for a smooth f, but tends to the jump
    of the slope at a kink. It is compared at the chosen step ``h``, at ``h / 10`` and at ``h / 100``: a smooth f
    shrinks it about 10 times at each stage, a kink keeps it (or makes it grow, for an infinite slope); two
    stages, so that an accidental cancellation of the ``h`` and ``h**3`` terms at one step is not taken for a
    kink. Values at the rounding level of f, or tiny next to the derivative, are not kinks. :data:`KINK_EVALUATIONS`
    evaluations.
    """
    with np.errstate(all="ignore"):
        steps = [step, taken(x, step / KINK_SHRINK), taken(x, step / KINK_SHRINK**2)]
        values = along(np.stack([np.zeros_like(x)] + [sign * h for h in steps for sign in (1, -1)]), None)
        signed = [(values[1 + 2 * i] - 2 * values[0] + values[2 + 2 * i]) / h for i, h in enumerate(steps)]
        kappa = [np.abs(k) for k in signed]
        noise = 1e3 * EPS * np.abs(values).max(axis=0) / steps[-1]
        kept = (kappa[1] > 0.5 * kappa[0]) & (kappa[2] > 0.5 * kappa[1])
        # Next to curvature, kappa(h) = f'' h + jump (signed) shrinks at the first stage before it settles on the
        # jump (10*x**2 + abs(x) at 0: 4.5, 2.25, 2.03; cos(10*x) + abs(x): -9.0, 0.75, 1.9): the part of it that does
        # not shrink with h, taken from each pair of stages, is the jump, the same from both pairs and most of
        # kappa at the smallest step.
        jump_large = (KINK_SHRINK * signed[1] - signed[0]) / (KINK_SHRINK - 1)
        jump_small = (KINK_SHRINK * signed[2] - signed[1]) / (KINK_SHRINK - 1)
        affine = (np.abs(jump_small) > 0.5 * kappa[2]) & (np.abs(jump_large - jump_small) <= 0.1 * np.abs(jump_small))
        return (kept | affine) & (kappa[2] > noise) & (kappa[2] > 1e-8 * size) & (kappa[0] > 0)
