"""The kink test: where the slopes of f on the left and on the right of x differ (first derivatives), or the
derivatives of the order below the one sought (orders 2 to 4)."""

from __future__ import annotations

import numpy as np

from numdiff_cli.numerics.estimate import EPS, Along
from numdiff_cli.numerics.fine import binade, evaluations, stencil_values
from numdiff_cli.numerics.stencils import stencil, stencil_sum
from numdiff_cli.numerics.steps import KINK_SHRINK, taken

# f at x and on both sides at three steps.
KINK_EVALUATIONS = 7
# A second difference at the smallest step of the kink test this many times what the larger steps let a smooth f have
# there is a feature of f below them.
NARROW_EXCESS = 5.0
# Values of f below this carry more rounding than EPS * |f| (subnormal ones from 2.2e-308: a margin of 2**52).
NORMAL_BELOW = float(np.finfo(np.float64).tiny) * 2.0**52


def kink_evaluations(order: int) -> int:
    """The evaluations of f per point of :func:`kinked` for a derivative of ``order``: 7 for the first, and the
    central stencil of order ``order + 1`` at three steps for the others (12, 13 and 18)."""
    return KINK_EVALUATIONS if order == 1 else evaluations(stencil(order + 1, "central")[0], 3)


def kinked(along: Along, x: np.ndarray, step: np.ndarray, size: np.ndarray, order: int = 1) -> np.ndarray:
    """Where the left and right slopes of f at x differ (a kink, as ``abs`` or ``relu`` at 0).

    ``kappa(h) = (f(x+h) - 2 f(x) + f(x-h)) / h`` is ``f''(x) h + O(h**3)`` for a smooth f, but tends to the jump
    of the slope at a kink. It is compared at the chosen step ``h``, at ``h / 10`` and at ``h / 100``: a smooth f
    shrinks it about 10 times at each stage, a kink keeps it (or makes it grow, for an infinite slope); two
    stages, so that an accidental cancellation of the ``h`` and ``h**3`` terms at one step is not taken for a
    kink. Values at the rounding level of f, or tiny next to the derivative, are not kinks; f infinite at x is one
    (f varies on a scale far below the steps), and so is a kappa at ``h / 100`` more than :data:`NARROW_EXCESS` times
    what the two larger steps let a smooth f have there (a feature of f next to x that only that step sees: a bump a
    thousandth wide 0.004 from x). :data:`KINK_EVALUATIONS` evaluations.

    For a derivative of ``order`` n from 2 to 4, the same test of ``kappa(h) = d(h) / h**n``, ``d(h)`` the central
    difference of order n + 1 (:func:`~.stencils.stencil`, divided by its denominator): ``f^(n+1)(x) h + O(h**3)``
    for a smooth f, and a constant where the derivative of order n jumps at x (the central difference of order n
    then averages its two sides: ``x*abs(x)`` at 0, order 2, gives 0 for a second derivative that is -2 on the left
    and 2 on the right); it grows where f or a derivative of lower order has a kink or a singularity far closer to
    x than the steps (``abs(x)`` at 0, order 3; ``cbrt(x)`` at 1e-100, order 2; ``x**-2`` at 1e-20, order 3, whose
    central differences of odd order cancel by symmetry about 0). :func:`kink_evaluations` evaluations.
    """
    with np.errstate(all="ignore"):
        steps = [step, taken(x, step / KINK_SHRINK), taken(x, step / KINK_SHRINK**2)]
        if order == 1:
            values = along(np.stack([np.zeros_like(x)] + [sign * h for h in steps for sign in (1, -1)]), None)
            # (Where f is subnormal its rounding is not EPS * |f|: exp at -740, whose second differences are its
            # quanta, is no feature.)
            narrow_possible = ~((np.abs(values) < NORMAL_BELOW) & (values != 0)).any(axis=0)
            values, size = _unit_scaled(values, size, x.ndim)
            second = [values[1 + 2 * i] - 2 * values[0] + values[2 + 2 * i] for i in range(3)]
            signed = [d / h for d, h in zip(second, steps)]
            weight = 4.0
            # f at x, on both sides at the chosen step, and at the smaller steps (for the test of f infinite at x).
            at_x: np.ndarray | None = values[0]
            beside, further = values[1:3], values[3:]
        else:
            offsets, numerators, denominator = stencil(order + 1, "central")
            values, _ = stencil_values(along, offsets, np.stack(steps), None, shape=x.shape)
            values, size = _unit_scaled(values, size, x.ndim)
            second = list(stencil_sum(values, numerators) / denominator)
            signed = [d / h**order for d, h in zip(second, steps)]
            weight = sum(map(abs, numerators)) / denominator
            # The same where the stencil has a centre (order 3); no f at x otherwise (orders 2 and 4).
            centre = offsets.index(0) if 0 in offsets else None
            at_x = None if centre is None else values[centre, 0]
            narrow_possible = np.zeros(x.shape, dtype=bool)
            beside = values[[k for k in range(len(offsets)) if k != centre], 0]
            further = values[:, 1:].reshape((-1,) + x.shape)
        kappa = [np.abs(k) for k in signed]
        # What rounding can make of a second difference: 1e3 ulps of f (f computed in many operations); of a
        # difference of higher order, as many times more as its weights sum to more than the second's, 4.
        rounding = 1e3 * EPS * np.abs(values).max(axis=tuple(range(values.ndim - x.ndim))) * (weight / 4)
        kept = (kappa[1] > 0.5 * kappa[0]) & (kappa[2] > 0.5 * kappa[1])
        # Next to curvature, kappa(h) = f'' h + jump (signed) shrinks at the first stage before it settles on the
        # jump (10*x**2 + abs(x) at 0: 4.5, 2.25, 2.03; cos(10*x) + abs(x): -9.0, 0.75, 1.9): the part of it that does
        # not shrink with h, taken from each pair of stages, is the jump, the same from both pairs and most of
        # kappa at the smallest step.
        jump_large = (KINK_SHRINK * signed[1] - signed[0]) / (KINK_SHRINK - 1)
        jump_small = (KINK_SHRINK * signed[2] - signed[1]) / (KINK_SHRINK - 1)
        affine = (np.abs(jump_small) > 0.5 * kappa[2]) & (np.abs(jump_large - jump_small) <= 0.1 * np.abs(jump_small))
        # The second difference at the smallest step must stand above that rounding, unless all three stages agree
        # within a tenth: rounding would grow tenfold at each, so that their agreement bounds it, and the kink need
        # only stand above it at the chosen step (1e12 + abs(x) at 0: 2.0, 2.004, 2.02, whose second difference
        # at h/100 is 44 ulps of f).
        flat = (np.abs(signed[0] - signed[2]) <= 0.1 * kappa[2]) & (np.abs(signed[1] - signed[2]) <= 0.1 * kappa[2])
        # What rounding makes of it includes the rounding of f's argument: each value of f off by up to EPS * |x| * |f'|
        # where f rounds x + h or c * (x + h), which at a zero of f (f'' = 0) is all the second differences hold, the
        # same at every stage (sin(2*pi*x) at 44, where |f| is 0.05: 5.7e-14 at all three; sin(1000*x) at 33: 7.3e-12
        # at the two smaller, kappa growing tenfold at each, as at a kink or next to a feature below the steps).
        # (Order 1 only: size is then |f'|; a derivative of higher order says nothing of it.)
        carried = rounding + 8 * EPS * np.abs(x) * size if order == 1 else rounding
        above = np.abs(np.where(flat, second[0], second[2])) > carried
        # (A step of 0 gives nan and f constant near x gives 0 at every stage: neither is kept nor affine. The
        # second difference at the chosen step may vanish at a kink all the same, as |x| - 2 relu(|x| - 1/2) at 0
        # with h = 1: it is not asked to be positive.)
        # f infinite at x, finite on both sides at the chosen step and defined at the others (x**-2 at 1e-200,
        # where x**2 underflows: the steps see an even function about 0 and a slope of 0; exp(1/x**2) at 1e-155,
        # infinite at the smaller steps too): f varies on a scale far below the steps, whatever the second
        # differences (infinite or nan) say. Not log at 0 (nan on the left), nor exp at 710 (infinite on the right).
        # (Where the test evaluates f at x: first derivatives, and order 3.)
        if at_x is None:
            singular = np.zeros(x.shape, dtype=bool)
        else:
            singular = np.isinf(at_x) & np.isfinite(beside).all(axis=0) & ~np.isnan(further).any(axis=0)
        # A feature of f far below the steps, next to x but not at it (a bump a thousandth wide, 0.004 from x): the
        # chosen step and the one ten times smaller do not see it, and kappa shrinks tenfold there as for a smooth f,
        # then stands far above that at the smallest (exp(x) + exp(-(1000*x)**2) at 0.004: 0.125, 0.0125, 0.4; f' is
        # 1e-3 off what the steps saw). Flagged where the excess is more than the promise could hide.
        smooth = np.maximum(kappa[1] / KINK_SHRINK, kappa[0] / KINK_SHRINK**2)
        narrow = (kappa[2] > NARROW_EXCESS * smooth) & (np.abs(second[2]) > carried) & (kappa[2] > 1e-10 * size)
        narrow &= narrow_possible
        return ((kept | affine) & above & (kappa[2] > 1e-8 * size)) | narrow | singular


def _unit_scaled(values: np.ndarray, size: np.ndarray, ndim: int) -> tuple[np.ndarray, np.ndarray]:
    """``values`` and ``size`` divided by the power of two nearest below the largest finite |value| at each point.

    The test is homogeneous in f: its comparisons of kappa, the rounding of f and ``size`` scale with f, and a power
    of two scales them exactly. Without it, f near the largest double (x**-2 at 2e-154: f(x) = 2.5e307, 14 at the
    chosen step) overflows its differences (-5e307 / h at h / 10 is infinite, and inf > 0.5 * inf is false), and
    the kink that a pole far below the steps is went unseen at some points and not at their neighbours. Values that
    are not finite stay so (the test of f infinite at x reads them)."""
    axes = tuple(range(values.ndim - ndim))
    finite = np.where(np.isfinite(values), np.abs(values), 0.0).max(axis=axes)
    scale = binade(finite)
    return values / scale, size / scale
