"""Every documented number pinned by its behaviour, with expectations from the README (tests/documented.py) or
from theory, never from the engine's own constants.
"""

from __future__ import annotations

import math
from pathlib import Path

import mpmath
import numpy as np
import pytest
from conftest import json_lines
from documented import (
    FAST_PASS_SETTLES,
    FIRST_ORDER_VOUCHED,
    UNRELIABLE_ABOVE,
    VOUCHED,
    readme_threshold_sentence,
    written,
)

from numdiff_cli.checks import tolerance
from numdiff_cli.contract import IMPRECISE, OK, UNRELIABLE
from numdiff_cli.engine import derivative
from numdiff_cli.numerics import fast

# The README with its line breaks as spaces (a sentence may be wrapped anywhere).
README = " ".join((Path(__file__).resolve().parent.parent / "README.md").read_text().split())


def test_documented_numbers_are_the_readmes() -> None:
    assert FIRST_ORDER_VOUCHED == 1e-10
    assert readme_threshold_sentence() in README
    assert f"relative error estimate above {written(UNRELIABLE_ABOVE)})" in README
    assert "all but 0.03% of the points" in README


# --- the flag thresholds, by behaviour ----------------------------------------------------------------------------


def noisy_exp(delta: float):
    """``exp(x) * (1 + delta * r(x))``, r a hash of the bits of x in [-1, 1): rounding noise of relative size delta.

    Noise that no step resolves gives the engine's error estimate every size from the rounding level of exp
    (delta ~ 1e-16) up to garbage (delta ~ 1e-3), at a point where the floor of the absolute accuracy (a
    derivative small next to f) plays no part: every derivative of exp at 0.5 is 1.65, the size of f.
    """

    def f(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        bits = x.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        r = (bits >> np.uint64(11)).astype(np.float64) / 2.0**53 * 2 - 1
        return np.exp(x) * (1 + delta * r)

    return f


def relative_estimates(order: int) -> list[tuple[float, int]]:
    """(relative error estimate, status) of the order-``order`` derivative at 0.5 for noise from 1e-15 to 1e-3."""
    results = []
    for delta in np.logspace(-15, -3, 61):
        estimate = derivative(noisy_exp(float(delta)), np.array([0.5]), order=order)
        results.append((float(estimate.error[0] / abs(estimate.value[0])), int(estimate.status[0])))
    return results


# "Clearly" above or below a threshold: a factor 1.5 either way.
MARGIN = 1.5


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_a_result_is_flagged_exactly_when_its_relative_error_estimate_is_above_the_documented_threshold(
    order: int,
) -> None:
    threshold = VOUCHED[order]
    results = relative_estimates(order)
    above = [status for relative, status in results if relative > MARGIN * threshold]
    below = [status for relative, status in results if relative < threshold / MARGIN]
    assert above and below, results
    assert all(status != OK for status in above), results
    assert all(status == OK for status in below), results
    # The threshold is pinned to within a factor 5 (order 1) and 100 (orders 2-4): results whose estimate is
    # in that band above it exist in this sweep and are flagged, so a threshold loosened that much fails here.
    band = 5 if order == 1 else 100
    assert [s for r, s in results if MARGIN * threshold < r < band * threshold / MARGIN], results


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_low_accuracy_turns_into_no_reliable_estimate_above_the_documented_1e_6(order: int) -> None:
    results = relative_estimates(order)
    assert all(status == UNRELIABLE for r, status in results if r > MARGIN * UNRELIABLE_ABOVE), results
    between = [s for r, s in results if MARGIN * VOUCHED[order] < r < UNRELIABLE_ABOVE / MARGIN]
    assert between and all(status == IMPRECISE for status in between), results


def test_order_1_threshold_in_the_cli(run) -> None:
    # The same noisy function through the command line is not possible (an expression has no hash), so the
    # documented example: log(1 + x**2) at 3e-6 carries the rounding of 1 + x**2, about 1.1e-16 absolute, in every
    # value of f, real or complex; its poles at +-i keep every step and circle within about 1 of x, so no
    # difference and no circle can beat ~1e-16 / 0.1 = 1e-15 against a derivative of 6e-6: about 9.8 digits,
    # flagged, exit 3, with its relative error estimate above 1e-10. atan(x) at 30: 1.1e-3, 10 digits are easy.
    flagged = run("diff", "log(1 + x**2)", "--at", "3e-6", "--format", "json")
    assert flagged.exit_code == 3
    (row,) = json_lines(flagged.stdout)
    assert row["error"] > FIRST_ORDER_VOUCHED * abs(row["derivative"])
    vouched = run("diff", "atan(x)", "--at", "30", "--format", "json")
    assert vouched.exit_code == 0
    (row,) = json_lines(vouched.stdout)
    assert row["error"] < FIRST_ORDER_VOUCHED * abs(row["derivative"])
    # 1/(1 + 900) is the exact derivative: the result has the 10 digits it vouches for.
    assert abs(row["derivative"] - 1 / 901) <= FIRST_ORDER_VOUCHED * (1 / 901)


# --- the fast pass's documented share -------------------------------------------------------------------------------


def test_fast_pass_settles_all_but_three_hundredths_of_a_percent_of_exp_sin() -> None:
    x = np.linspace(-10, 10, 100_001)

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        return np.exp(np.sin((x if sel is None else x[sel]) + t))

    _, _, _, _, settled, _, _ = fast.fast_pass(along, x, 1, None, x.shape)
    assert settled.mean() >= FAST_PASS_SETTLES


def test_scaled_passes_give_a_slowly_varying_function_its_digits() -> None:
    # README, "How --method auto works": where the fast pass's estimate is mostly rounding, the scaled passes take
    # larger steps: "exp(x/1000) on [-10, 10] gets 13.6 correct digits at worst" (the fast pass alone: 10.9). The
    # reference is exp(x/1000)/1000 evaluated by mpmath at 30 digits.
    x = np.linspace(-10, 10, 2001)
    estimate = derivative(lambda t: np.exp(t / 1000), x)
    with mpmath.workdps(30):
        exact = np.array([float(mpmath.exp(mpmath.mpf(float(v)) / 1000) / 1000) for v in x])
    digits = -np.log10(np.maximum(np.abs(estimate.value - exact) / exact, 1e-17))
    assert np.all(estimate.status == OK)
    assert digits.min() >= 13.5


# --- the tolerance check: |numeric - reference| <= atol + rtol * |reference| ----------------------------------------


def test_compare_tolerance_holds_the_absolute_error_not_the_relative_one(run) -> None:
    # Forward difference of x**3 at 10 with h = 1e-3: ((10 + h)**3 - 1000) / h = 300 + 30 h + h**2 = 300.030001,
    # so |numeric - analytic| = 0.030001 (relative 1.0e-4). An atol of 1e-3 lies between the two: the check
    # must fail (it would pass on the relative error).
    args = ("compare", "x**3", "--at", "10", "--method", "forward", "--h", "1e-3", "--format", "json")
    failed = run(*args, "--atol", "1e-3")
    assert failed.exit_code == 1
    (row,) = json_lines(failed.stdout)
    assert row["abs_error"] == pytest.approx(0.030001, rel=1e-6)
    assert row["bound"] == 1e-3 and row["passed"] is False
    # rtol scales by |analytic| = 300: 2e-4 allows 0.06 (passes), 5e-5 allows 0.015 (fails).
    assert run(*args, "--rtol", "2e-4").exit_code == 0
    assert run(*args, "--rtol", "5e-5").exit_code == 1
    # atol and rtol add up: 0.02 + 5e-5 * 300 = 0.035 > 0.030001, where each alone fails.
    both = run(*args, "--atol", "0.02", "--rtol", "5e-5")
    assert both.exit_code == 0
    assert json_lines(both.stdout)[0]["bound"] == pytest.approx(0.035, rel=1e-12)
    assert run(*args, "--atol", "0.02").exit_code == 1


@pytest.mark.parametrize(
    ("error", "reference", "atol", "rtol", "passed"),
    [
        pytest.param(0.5, 2.0, 0.5, None, True, id="error-equal-to-the-bound-passes"),
        pytest.param(0.5000001, 2.0, 0.5, None, False, id="just-above-fails"),
        pytest.param(0.3, -2.0, 0.1, 0.1, True, id="rtol-of-the-absolute-reference"),
        pytest.param(0.31, -2.0, 0.1, 0.1, False, id="atol-plus-rtol-times-2"),
        pytest.param(math.inf, math.inf, 1e-12, 1e-6, False, id="infinite-reference-never-passes"),
        pytest.param(0.0, math.nan, 1.0, 1.0, False, id="no-reference-never-passes"),
        pytest.param(math.nan, 1.0, 1.0, 1.0, False, id="no-result-never-passes"),
        pytest.param(0.0, 5.0, None, None, True, id="exact-result-with-zero-bound"),
    ],
)
def test_tolerance_rule(error: float, reference: float, atol, rtol, passed: bool) -> None:
    verdict = tolerance(error, reference, atol, rtol)
    assert verdict.passed is passed
    if math.isfinite(reference):
        assert verdict.bound == (atol or 0.0) + (rtol or 0.0) * abs(reference)
    else:
        assert math.isnan(verdict.bound)


# --- evaluations per point -------------------------------------------------------------------------------------------


def test_the_fast_pass_costs_10_evaluations_and_the_kink_check_7_more() -> None:
    # README: the fast pass is "central differences at five fixed absolute steps ... 10 evaluations per point";
    # "diff adds 7 per point for the kink check". exp(sin(x)) at 0.7 is settled by the fast pass alone.
    def f(v: np.ndarray) -> np.ndarray:
        return np.exp(np.sin(v))

    plain = derivative(f, np.array([0.7]))
    assert int(plain.status[0]) == OK and plain.nfev == 2 * 5
    assert derivative(f, np.array([0.7]), check_kink=True).nfev == 2 * 5 + 7
