"""The step policy of ``auto``: which steps it tries, in which order and how many per pass.

See the engine notes for why: steps relative to |x| and absolute ones, a ratio that does not alias, and the
step actually taken rather than the nominal one.
"""

from __future__ import annotations

import numpy as np

# Ratio between successive steps in the adaptive search. A simple fraction such as 2 can alias with
# periodic functions (successive estimates agree by accident); 1.6 is not close to any small fraction.
RATIO = 1.6
COMPLEX_STEP = 1e-200
# Below this, Im f(x + i h) has lost bits to underflow (subnormal numbers start at 2.2e-308; the margin of 2**60
# covers intermediate results inside f): exp at -700, whose h * f' is 1e-504, gives 0 with an error of 0.
COMPLEX_UNDERFLOW = 1e-290
FIRST_PASS_STEPS = 8
FIRST_PASS_STEP = 0.5
# auto's fast pass (fast.fast_pass): five absolute steps, ratios about 2.1 but none a small fraction (17/8,
# 32/15, 15/7, 28/13: no aliasing with periodic functions), each with few significant bits so that x +- h is exact
# for short x and a polynomial gives exact differences. In blocks of points: see blocks.py.
FAST_STEPS = (17 / 64, 1 / 8, 15 / 256, 7 / 256, 13 / 1024)
# The fast pass again on steps scaled to the scale on which f varies (scaled.scaled_passes): at most this many
# rounds, each with the scale the round before measured, its steps times this fraction of that scale (times a power
# of two: x +- h stays exact for short x). Measured on log(x) in [1e3, 1e6], 1/x in [1e-4, 1e-2], sqrt(x) in
# [1e-6, 1e-2], sin(50 x) and tanh(100 x), the first round settled 36-100% of the points with 1/4, 45-100% with 1/2
# and 0-100% with 1 (1/x: none, its steps cross the pole); sin(1000 x) needs the second round with any of them.
SCALED_ROUNDS = 2
SCALED_FRACTION = 0.5
# Orders 3 and 4 use the fast steps times this: their rounding grows like 1/h**order, and at the smallest fast step
# (0.0127) an order-4 difference of f ~ 1 carries 1e-7 of it (exp at 0.5: 1.64872129095 for 1.64872127070). A
# power of two keeps x +- h exact. Measured on smooth functions (exp, sin, log, 1/(1 + x**2), tanh, atan,
# exp(sin)), the 5th percentile of correct digits goes from 7.2 to 8.4 at order 4 (median 8.1 to 9.1) and from 9.0
# to 9.6 at order 3 (median 10.4 to 11.1). 4 does better on the median but reaches beyond the radius of
# convergence of atan near 1 (false agreement of the tableau).
FAST_STEP_SCALE = {1: 1.0, 2: 1.0, 3: 2.0, 4: 2.0}
# The wide search: this many steps from WIDE_SEARCH_STEP * max(1, |x|), spanning about 13 decades.
WIDE_SEARCH_STEPS = 64
WIDE_SEARCH_STEP = 0.5
# Points per block in the wide search, to bound memory: (2 * WIDE_SEARCH_STEPS) evaluations per point.
WIDE_BLOCK = 8192
RICHARDSON_LEVELS = 4
# The fine pass of orders 2 to 4 (numerics.fine): FINE_STEPS steps in a ratio of FINE_RATIO from FINE_UP times the
# step the other passes chose down to a sixth of it, extrapolated up to FINE_LEVELS levels (O(h**18)).
FINE_RATIO = 1.25
FINE_UP = 6.0
FINE_STEPS = 17
FINE_LEVELS = 8
# Where the fine pass follows the fast pass, its steps start from FINE_UP times this fraction of the fast pass's step
# (3 times it: 0.375 at order 2, 0.75 at orders 3-4): 6 times reached the radius of convergence of functions with a
# singularity at about 1 from x, whose tableau then agreed with itself by accident (1/(1 + x**2) at 0.5, order 2).
FINE_AFTER_FAST = 0.5
# Where that fine pass leaves a meaningful estimate it cannot vouch for (next to a zero of the derivative), a second one
# from FINE_UP times this fraction of the fast pass's step (9 times it): the wide search chose 1.5 to 2.5 times the fast
# pass's step for those points (exp(sin(x)), order 2), and the fine pass around its choice vouched for most of them.
FINE_WIDER = 1.5
# The kink test compares second differences at the chosen step divided by 1, this and its square.
KINK_SHRINK = 10.0
# A candidate whose central differences are GROWTH_FACTOR times smaller than the one at a step RATIO**GROWTH_SHIFT
# times smaller comes from steps beyond the scale of f (D ~ 1/h**order there): see adaptive.richardson_search.
GROWTH_SHIFT = 8
GROWTH_FACTOR = 0.05
# Steps below this many ulps of x can see the rounding of f's intermediates as a smooth function of the step: a
# candidate chosen there must agree with the best one on steps RATIO**GROWTH_SHIFT times larger (see
# adaptive.richardson_search).
DRIFT_ULPS = 2.0**20
# gradient (numerics.gradient): after the fast pass, the components it leaves get a sequence of GRADIENT_STEPS steps
# from GRADIENT_FIRST_STEP * max(1, |x|), extrapolated, in one call with a false-plateau stencil (2 evaluations per
# step, 2 for the stencil); the rescaled pass the same sequence 40 times smaller, for f that varies on a smaller
# scale (sin(50 x)). Measured when the sequence was a first pass of 4 steps and its continuation (3 more steps for
# the components the first could not vouch for): over 10 functions at random points (Rosenbrock, log-sum-exp,
# norms, products, chains of sines; |x| up to 30, n up to 20), evaluations per component on average 34, 30, 29 and
# 28 for 2, 3, 4 and 5 more steps (fewer went on to the wide search), the same components vouched for.
GRADIENT_STEPS = 7
GRADIENT_FIRST_STEP = 0.15
# The gradient settles a component for an error estimate up to this many times the rounding noise carried into it
# (the default for one derivative is 10); its status then says whether the rounding floor of f vouches for it.
GRADIENT_ROUNDING_LIMITED = 100.0


def taken(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The step actually taken from ``x`` towards ``x + h``: ``(x + h) - x``, exact in floating point."""
    return (x + h) - x


def geometric_steps(x: np.ndarray, largest: float, count: int) -> np.ndarray:
    """``count`` steps from ``largest * max(1, |x|)`` down by :data:`RATIO`, as taken: shape ``(count, *x.shape)``."""
    powers = RATIO ** -np.arange(count).reshape((-1,) + (1,) * x.ndim)
    return taken(x, largest * np.maximum(1.0, np.abs(x))[None] * powers)


def fast_steps(x: np.ndarray, order: int = 1, scale: np.ndarray | None = None) -> np.ndarray:
    """The absolute steps :data:`FAST_STEPS` (times :data:`FAST_STEP_SCALE` of ``order``) as taken from the flat
    points ``x``, shape ``(len(FAST_STEPS), x.size)``.

    Examples
    --------
    >>> import numpy as np
    >>> bool(np.all(fast_steps(np.array([1.0, -3.0])) == np.asarray(FAST_STEPS)[:, None]))
    True
    """
    steps = FAST_STEP_SCALE[order] * np.asarray(FAST_STEPS)[:, None]
    return taken(x, steps if scale is None else steps * scale[None])
