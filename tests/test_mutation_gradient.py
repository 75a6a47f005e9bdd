"""The gradient's passes at their documented cost, and the floor that vouches for a small component, pinned from
outside the code: the README's list of evaluations per pass, mpmath references, and the floor's definition.

Written for the survivors of a mutation run of numerics/gradient.py (benchmarks/mutation.md): mutants that changed
the count of evaluations, skipped a pass or loosened a criterion and passed every test.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from numdiff_cli import engine

mpmath.mp.dps = 40

# README, How `--method auto` works: the fast pass 11 evaluations per component, the complex step 14 more, the
# relative steps 16 more, the same 40 times smaller 16 more, the wide search 128 more.
FAST, COMPLEX, RELATIVE, RESCALED, WIDE = 11, 14, 16, 16, 128


def cyclic(v: np.ndarray) -> np.ndarray:
    return np.exp(np.sin(v) * np.roll(v, -1, axis=0)).sum(axis=0) / v.shape[0] + np.log1p((v**2).sum(axis=0))


def cyclic_gradient(x: list) -> list:
    n = len(x)
    norm = 1 + sum(t * t for t in x)
    grads = []
    for i in range(n):
        own = mpmath.exp(mpmath.sin(x[i]) * x[(i + 1) % n]) * mpmath.cos(x[i]) * x[(i + 1) % n]
        previous = mpmath.exp(mpmath.sin(x[i - 1]) * x[i]) * mpmath.sin(x[i - 1])
        grads.append((own + previous) / n + 2 * x[i] / norm)
    return grads


def test_the_complex_step_costs_14_more_where_the_fast_pass_leaves_a_component() -> None:
    # At this point the fast pass leaves 2 of 100 components (relative digits limited by f's rounding); the complex
    # step, 14 evaluations, vouches for them: the most any component needed is 11 + 14.
    x = np.random.default_rng(0).uniform(-1, 1, 100)
    estimate = engine.gradient(cyclic, x[:, None], analytic=True)
    assert estimate.nfev == FAST + COMPLEX
    assert (estimate.status == engine.OK).all()
    # The step of each component is the one its estimate came from: the fast pass's (17/64 .. 13/1024 times a
    # unit of 1 here), or the complex step's 1e-200.
    steps = estimate.step.reshape(-1)
    assert steps.shape == (100,) and ((steps == 1e-200) | ((steps >= 13 / 1024) & (steps <= 17 / 64))).all()
    exact = cyclic_gradient([mpmath.mpf(float(t)) for t in x])
    for i in range(100):
        true_error = abs(mpmath.mpf(float(estimate.value[i, 0])) - exact[i])
        assert true_error <= 10 * float(estimate.error[i, 0]) and true_error <= 1e-10 * abs(exact[i])


@pytest.mark.parametrize("x0", [0.3, 0.7, 1.1])
def test_a_component_no_short_pass_settles_pays_every_pass_then_the_wide_search(x0: float) -> None:
    # sin(1000 x) varies on a scale of 1e-3: the fast pass's steps (0.27 to 0.013), the relative ones (0.15 to 0.009)
    # and the same 40 times smaller (down to 6e-4) are all beyond it; the wide search reaches below.
    estimate = engine.gradient(lambda v: np.sin(1000 * v[0]) + v[1], np.array([[x0], [0.5]]))
    assert estimate.nfev == FAST + RELATIVE + RESCALED + WIDE
    exact = 1000 * mpmath.cos(1000 * mpmath.mpf(x0))
    assert int(estimate.status[0, 0]) == engine.OK
    assert abs(mpmath.mpf(float(estimate.value[0, 0])) - exact) <= 1e-10 * abs(exact)
    assert float(estimate.value[1, 0]) == 1.0


def test_a_small_component_of_a_large_sum_is_vouched_for_by_the_floor_of_f_on_the_scale_of_x() -> None:
    # d/dx0 sum(x**2) at x0 = 1e-4 is 2e-4 next to f = 25: its relative digits are limited by the rounding of f,
    # 25 eps over the fast pass's steps, about 1e-10 of it. The status vouches for it where the error is within the
    # README's floor, 12.5 eps |f| (4 / max(1, |x|)) = 2.8e-13 here; the error estimate must bound the truth.
    X = np.array([[1e-4], [3.0], [4.0]])
    estimate = engine.gradient(lambda v: np.sum(v**2, axis=0), X)
    assert estimate.nfev == FAST
    floor = 12.5 * engine.EPS * 25.0 * 4.0
    assert (estimate.status == engine.OK).all()
    assert float(estimate.error[0, 0]) <= floor
    assert abs(float(estimate.value[0, 0]) - 2e-4) <= float(estimate.error[0, 0])
    assert float(estimate.error[0, 0]) > 1e-10 * 2e-4  # not vouched for relatively: the floor does it
