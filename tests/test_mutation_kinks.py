"""The kink test of first derivatives (numerics/kinks.py: ``kinked``), on functions whose second differences theory
gives in closed form.

``kappa(h) = |f(x+h) - 2 f(x) + f(x-h)| / h`` is ``|f''(x)| h + O(h**3)`` for a smooth f: it shrinks about 10 times
when h does. At a kink it tends to the jump of the slope (2 for ``abs`` at 0, 1 for ``relu``, ``2 c`` for
``c * abs``), and it grows like ``h**-1/2`` for ``sqrt(|x|)``. README (Accuracy): *kink* is "the slopes on the left
and on the right of the point differ (``abs(x)`` or ``x*step(x)`` at 0) ... found by comparing second differences"
at three steps; values at the rounding level of f, or tiny next to the derivative, are not kinks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from click.testing import CliRunner

from numdiff_cli.cli import cli
from numdiff_cli.numerics.kinks import kinked


def kinks(f: Callable[[np.ndarray], np.ndarray], xs: list[float], step: float, size: float = 1.0) -> list[bool]:
    x = np.array(xs)

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        assert sel is None
        return f(x + t)

    return kinked(along, x, np.full(x.size, step), np.full(x.size, size)).tolist()


def relu(v: np.ndarray) -> np.ndarray:
    return np.maximum(v, 0.0)


@pytest.mark.parametrize("step", [1e-2, 1e-4])
def test_abs_and_relu_have_kinks_where_their_slopes_jump_and_only_there(step: float) -> None:
    # abs: slopes -1 and 1 at 0 (kappa = 2 at every step); relu: 0 and 1 (kappa = 1, from one side only: the left
    # and right differences must both be taken). Away from 0 both are linear: kappa = 0 (rounding at most).
    assert kinks(np.abs, [0.0, 0.5, -0.7], step) == [True, False, False]
    assert kinks(relu, [0.0, 0.5, -0.7], step) == [True, False, False]
    assert kinks(lambda v: relu(-v), [0.0, 0.3], step) == [True, False]
    # Away from 0 as well: the kink follows the point (x + h, not h).
    assert kinks(lambda v: np.abs(v - 1.5), [1.5, 0.0, 3.0], step) == [True, False, False]


def test_an_infinite_slope_is_a_kink() -> None:
    # sqrt|x| at 0: kappa(h) = 2 sqrt(h) / h grows as h shrinks.
    assert kinks(lambda v: np.sqrt(np.abs(v)), [0.0], 1e-2) == [True]


@pytest.mark.parametrize("step", [1e-2, 0.27])
def test_powers_of_abs_are_kinks_below_the_first_power_and_smooth_enough_above(step: float) -> None:
    # |x|**p at 0: kappa(h) = 2 h**p / h = 2 h**(p - 1), times 10**(1 - p) at each stage. p = 0.9: the slopes are
    # -inf and +inf (a kink), kappa grows only 1.26 times a stage; p = 1.5: f'(0) = 0 on both sides (no kink),
    # kappa shrinks 3.2 times a stage, far slower than the tenfold of a twice-differentiable f.
    assert kinks(lambda v: np.abs(v) ** 0.9, [0.0], step) == [True]
    assert kinks(lambda v: np.abs(v) ** 1.5, [0.0], step) == [False]


@pytest.mark.parametrize("step", [1e-1, 1e-3, 1e-5])
def test_smooth_functions_have_no_kink(step: float) -> None:
    # kappa = |f''| h: ten times smaller at each stage. (sin has f'' != 0 at 0.5; exp everywhere.)
    assert kinks(np.sin, [0.5, -1.2, 2.0], step) == [False, False, False]
    assert kinks(np.exp, [0.0, 3.0], step) == [False, False]


@pytest.mark.parametrize("amplitude", [1.0, 100.0, 1e-4])
def test_a_cancellation_at_one_step_is_not_taken_for_a_kink(amplitude: float) -> None:
    # cos at 0 with h = 6: kappa(6) = 2 (1 - cos 6) / 6 = 0.013, almost cancelled (cos(h) is near 1 again), kappa(0.6)
    # = 0.58, kappa(0.06) = 0.06. The first stage grows (as at a kink), the second shrinks 10 times (smooth): two
    # stages, so no kink, whatever the amplitude of the cosine (kappa scales with it).
    assert kinks(lambda v: amplitude * np.cos(v), [0.0], 6.0) == [False]


def test_a_kink_is_found_whatever_the_size_of_the_jump_next_to_the_slope_unless_tiny() -> None:
    # Slope 1 on both sides plus a jump of 2 c: c = 1e-2 and 1e-5 are kinks of f = x + c |x|; c = 1e-12 (a jump of
    # 2e-12 next to a derivative of 1) is tiny: the central difference is exact to 12 digits either way.
    assert kinks(lambda v: v + 1e-2 * np.abs(v), [0.0], 1e-2) == [True]
    assert kinks(lambda v: v + 1e-5 * np.abs(v), [0.0], 1e-2) == [True]
    assert kinks(lambda v: v + 1e-12 * np.abs(v), [0.0], 1e-2) == [False]
    # The same jump next to a derivative of size 1e6 is tiny, and next to one of 1e-6 it is not.
    assert kinks(lambda v: v + 1e-5 * np.abs(v), [0.0], 1e-2, size=1e6) == [False]
    assert kinks(lambda v: 1e-6 * v + 1e-12 * np.abs(v), [0.0], 1e-2, size=1e-6) == [True]


def test_rounding_that_grows_as_the_steps_shrink_is_not_a_kink() -> None:
    # 1e6 + sin(x) at steps of 1e-5, 1e-6 and 1e-7: each value of f carries up to 1.2e-10 of rounding (half an ulp of
    # 1e6), while f'' h is below 1e-5. At these points the second differences are one ulp each, so kappa is 1.2e-5,
    # 1.2e-4, 1.2e-3: it grows tenfold at each stage, as at an infinite slope, and is far above 1e-8 of the slope.
    # That is the rounding of f (1e3 eps |f| / h at the smallest step is 2.2), not a jump of its slope.
    xs = [0.4, 1.0, 1.1, 1.2, 2.3]
    assert kinks(lambda v: 1e6 + np.sin(v), xs, 1e-5) == [False] * len(xs)
    # A real jump well above that rounding is still found: 1e6 + |x - 0.3| at 0.3.
    assert kinks(lambda v: 1e6 + np.abs(v - 0.3), [0.3], 1e-4) == [True]


def test_a_step_of_zero_or_values_that_are_not_finite_give_no_kink_and_no_warning() -> None:
    # kappa is 0/0 at a step of 0 and inf/h or nan where f is not finite (log at 0 and below): no kink, and numpy's
    # floating-point warnings (here raised as errors) stay inside.
    with np.errstate(all="raise"):
        assert kinks(np.abs, [0.0], 0.0) == [False]
        assert kinks(np.log, [0.0, -1.0], 1e-3) == [False, False]


def test_a_kink_whose_second_difference_cancels_at_the_chosen_step_is_found() -> None:
    # |x| - 2 relu(|x| - 1/2): |x| for |x| <= 1/2 (slopes -1 and 1 at 0), 1 - |x| beyond. With h = 1, f(1) + f(-1)
    # - 2 f(0) = 0 exactly: kappa = 0, 2, 2. The two smaller steps see the kink; the chosen one sees both corners.
    assert kinks(lambda v: np.abs(v) - 2 * relu(np.abs(v) - 0.5), [0.0], 1.0) == [True]


def test_a_kink_under_strong_curvature_is_read_off_the_pairs_of_stages() -> None:
    # |x| + 50 x**2 at 0 with h = 1: kappa(h) = 2 + 100 h = 102, 12, 3, shrinking at each stage (and at the smallest
    # the curvature is still a third of it). The part that does not shrink, read off each pair, is 2 from both:
    # (10 * 12 - 102) / 9 and (10 * 3 - 12) / 9.
    assert kinks(lambda v: np.abs(v) + 50 * v**2, [0.0], 1.0) == [True]


def test_a_kink_next_to_curvature_not_yet_linear_in_the_step_is_found_where_kappa_shrinks_slowly() -> None:
    # |x| + sin(10 x)**2 / 2 at 0 (slopes -1 and 1; sin**2 is flat at 0) with h = 0.2: kappa(h) = 2 + sin(10 h)**2 / h
    # = 6.13, 3.97 and 2.20. The curvature's part, sin(10 h)**2 / h, is not linear in h at 0.2 (10 h = 2 rad): the
    # jump read off the first pair is 3.7, off the second 2.0. But kappa shrinks by less than half at each stage.
    assert kinks(lambda v: np.abs(v) + np.sin(10 * v) ** 2 / 2, [0.0], 0.2) == [True]


def test_rounding_of_a_few_hundred_ulps_of_f_is_not_a_kink() -> None:
    # (2.5e8 + sin x) - 2.5e8 + 1e6: sin x carried at the precision of 2.5e8 (an ulp of 3.0e-8, 256 ulps of f ~ 1e6;
    # the subtraction is exact). Each value is off by up to half of that, a second difference by up to 4 halves,
    # 6.0e-8, or 512 ulps of f; at h = 1e-5, 1e-6 and 1e-7 the differences are that rounding over h, growing tenfold
    # at each stage, as at an infinite slope. A smooth f: no kink anywhere.
    xs = np.linspace(0.1, 3.0, 50).tolist()
    assert kinks(lambda v: (2.5e8 + np.sin(v)) - 2.5e8 + 1e6, xs, 1e-5) == [False] * len(xs)


def test_a_point_whose_differences_are_all_zero_has_no_kink() -> None:
    # A constant (or linear) f: every kappa is exactly 0, which "keeps" nothing.
    assert kinks(lambda v: 0 * v + 2.0, [0.0, 1.0], 1e-2) == [False, False]
    assert kinks(lambda v: 3 * v, [0.0, 1.0], 1e-2) == [False, False]


def test_the_rounding_level_is_each_points_own() -> None:
    # abs at 0 next to a point where f is 1e12 (a step of f far away): the rounding level at 0 is that of |x| there,
    # not of the largest f among all points (1e3 eps 1e12 / 1e-4 = 2.2e3 would hide the jump of 2).
    def f(v: np.ndarray) -> np.ndarray:
        return np.abs(v) + np.where(v > 50, 1e12, 0.0)

    assert kinks(f, [0.0, 100.0], 1e-2) == [True, False]


def test_a_kink_far_above_the_rounding_of_f_is_flagged_whatever_the_size_of_f() -> None:
    # 1e12 + |x| at 0: slopes -1 and 1, no derivative. f's rounding is ulp(1e12) = 1.2e-4 per value; at the chosen
    # step 0.27 the second difference is 2 * 0.27 = 0.53, 4,400 ulps, and at h/100 it is 5.3e-3, 44 ulps: a kink
    # clearly above the rounding, read as 2.0, 2.004 and 2.02 at the three steps. (It said "0 +- 8e-4", OK.)
    assert kinks(lambda v: 1e12 + np.abs(v), [0.0], 0.265625) == [True]
    # A jump ten times larger, read alike (within a tenth of it) at the three steps, the rounding being the same.
    assert kinks(lambda v: 1e12 + 10 * np.abs(v), [0.0], 0.265625) == [True]
    result = CliRunner().invoke(cli, ["diff", "1e12 + abs(x)", "--at", "0", "--format", "json"])
    assert result.exit_code == 3
    assert "kink" in result.output


@pytest.mark.parametrize(
    "expr",
    [
        "10*x**2 + abs(x)",
        # (At the chosen step, 0.27, the curvature of cos(10 x) is not yet linear in h: the jump read off the first
        # pair of stages, 0.64, disagrees with the one off the second, 2.0, and this was a strict xfail. kappa at the
        # smallest step stands far above what the two larger stages let a smooth f have there: kinks.NARROW_EXCESS.)
        "cos(10*x) + abs(x)",
    ],
)
def test_a_kink_next_to_curvature_is_flagged(expr: str) -> None:
    # Slopes -1 and 1 at 0 (plus f'(0) = 0 of the smooth part): no derivative. kappa(h) = |f''(0)| h + 2: at the
    # chosen step 0.125 it is 4.5 (10 x**2), then 2.25 and 2.03: it tends to the jump, 2, as at any kink, but the
    # first stage shrinks it by half, and numdiff says 0, OK, exit 0 (x**2 + abs(x) is flagged).
    result = CliRunner().invoke(cli, ["diff", expr, "--at", "0", "--format", "json"])
    assert result.exit_code == 3
    assert "kink" in result.output


def test_f_infinite_at_x_and_finite_around_it_is_a_kink() -> None:
    # x**-2 at 1e-200: x**2 underflows, f(x) = inf; every step sees an even function about 0 (slope 0). f varies on a
    # scale far below the steps: a kink, as the warning says. Not where f is infinite or nan on a side (log at 0).
    with np.errstate(all="raise"):
        assert kinks(lambda v: v**-2.0, [1e-200, 5e-324, 1e-155], 0.25) == [True, True, True]
        assert kinks(lambda v: np.exp(v), [710.0], 1.0) == [False]
        assert kinks(lambda v: np.exp(v**-2.0), [1e-155], 0.3125) == [True]


# Points so close to a pole that f overflows there, while the steps see an even function about 0 and a derivative of
# 0: d/dx x**-2 = -2/x**3 is below -1e300 at all of them, d/dx x**-4 and exp(1/x**2) more so. Every command that
# differentiates by x flags it (exit 3) instead of printing 0 as a derivative.
@pytest.mark.parametrize("at", ["1e-155", "1e-200", "1e-300", "5e-324"])
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("diff", "x**-2"), id="diff"),
        pytest.param(("diff", "x**-4"), id="diff-x-4"),
        pytest.param(("diff", "exp(1/x**2)"), id="diff-exp"),
        pytest.param(("compare", "x**-2"), id="compare"),
        pytest.param(("tangent", "x**-2"), id="tangent"),
        pytest.param(("jacobian", "x**-2"), id="jacobian"),
        pytest.param(("grad", "x**-2 + y", "--vars", "x,y"), id="grad"),
    ],
)
def test_a_point_where_f_overflows_between_finite_values_is_flagged(args: tuple[str, ...], at: str) -> None:
    point = [at] if args[0] != "grad" else [f"{at},1"]
    result = CliRunner().invoke(cli, [*args, "--at", *point, "--format", "json"])
    assert result.exit_code == 3, result.output
    assert "warning" in result.stdout
