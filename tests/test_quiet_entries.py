"""Where rounding limits a first derivative, ``auto``'s fast pass reports the entry of its Richardson tableau that
carries the least of it among those that agree with the last entry within the last entry's rounding
(``richardson.quietest``): entries on the largest steps carry 10 to 20 times less rounding than the last one,
whose smallest step is 13/1024.

The expectations come from the rounding of f, not from the engine: a difference at step h carries at most
``eps * (|f(x+h)| + |f(x-h)|) / (2h)`` times the ulps of f's own rounding, and Richardson's weights multiply it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import mpmath
import numpy as np
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st

from numdiff_cli.numerics.richardson import entry_weights, neville, quietest, top_weights

EPS = float(np.finfo(float).eps)


def _relative_errors(values: list[float], exact: list[mpmath.mpf]) -> np.ndarray:
    with mpmath.workdps(40):
        return np.array([float(abs(mpmath.mpf(v) - r) / abs(r)) for v, r in zip(values, exact)])


def test_a_cubic_at_large_x_is_as_accurate_as_its_largest_steps_allow(run: Callable[..., Result]) -> None:
    """``x**3`` and ``x**3 - 5*x**2`` at 1,000 points with 30 <= |x| <= 1000: a cubic's central differences have
    no truncation error after one level of the tableau, so the entry of level 1 on the two largest steps (17/64 and
    1/8, weights 1.29 and 0.29) is exact but for rounding: at most ``eps |x|**3 (1.29 / (1/8) + 0.29 / (17/64))``,
    11.4 eps |x|**3, per ulp of f, that is 3.8 eps |x| relative to ``3 x**2``. (The last entry, on steps down to
    13/1024, carries up to 35 eps |x|: before, errors reached 16 and 25 eps |x| here.)"""
    rng = np.random.default_rng(5)
    x = rng.uniform(30, 1000, 500) * rng.choice([-1.0, 1.0], 500)
    lines = "".join(f"{float(t)!r}\n" for t in x)
    for text, ulps, exact in (
        ("x**3", 1, lambda t: 3 * t**2),
        # three roundings, the last two of numbers at most a sixth of |x**3|: under 2 ulps of f
        ("x**3 - 5*x**2", 2, lambda t: 3 * t**2 - 10 * t),
    ):
        result = run("diff", text, "--at", "-", "--format", "json", input=lines)
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.output.splitlines()]
        values = [row["derivative"] for row in rows]
        relative = _relative_errors(values, [exact(mpmath.mpf(float(t))) for t in x])
        assert np.all(relative <= 3.8 * ulps * EPS * np.abs(x)), (text, float(np.max(relative / (EPS * np.abs(x)))))
        # The error estimate, made for the last entry, still bounds the value reported.
        assert np.all(relative * np.abs(values) <= [row["error"] for row in rows])


def test_a_small_component_of_a_large_sum(run: Callable[..., Result]) -> None:
    """``sum(x**2) + prod(cos(x))`` at 100 variables uniform in [-1, 1]: f is about 33, so a difference at step h
    carries up to ``2 ulp(33) / (2h)`` = 7.1e-15 / h of rounding, and the components (``2 x_i`` and a product
    below 1e-6) have a median |value| of about 1. The last entry of the tableau carries 1.33 times the rounding of
    the smallest step (13/1024): 7.5e-13, 12.1 digits at worst and about 12.7 in practice (before: medians of 12.6
    to 12.7 at these points); the level-1 entry on the largest steps carries 10 times less, 13.1 digits at worst."""
    for seed in range(3):
        x = np.random.default_rng(seed).uniform(-1, 1, 100)
        at = "x=[" + ",".join(repr(float(t)) for t in x) + "]"
        result = run("grad", "sum(x**2) + prod(cos(x))", "--at", at, "--format", "json")
        assert result.exit_code == 0, result.output
        values = json.loads(result.output)["gradient"]
        with mpmath.workdps(40):
            points = [mpmath.mpf(float(t)) for t in x]
            cosines = [mpmath.cos(t) for t in points]
            product = mpmath.fprod(cosines)
            exact = [2 * t - mpmath.sin(t) * product / c for t, c in zip(points, cosines)]
        digits = -np.log10(np.maximum(_relative_errors(values, exact), 1e-17))
        assert np.median(digits) >= 13.0, (seed, float(np.median(digits)))
        assert np.min(digits) >= 10.0, (seed, float(np.min(digits)))  # the promise of an unflagged result


STEPS = (17 / 64, 1 / 8, 15 / 256, 7 / 256, 13 / 1024)


@settings(max_examples=200)
@given(
    derivative=st.floats(-1e3, 1e3),
    curvature=st.floats(-1e3, 1e3),
    higher=st.floats(-1e3, 1e3),
    noise=st.lists(st.floats(-1.0, 1.0), min_size=5, max_size=5),
    scale=st.sampled_from([1e-16, 1e-12, 1e-8, 1e-4]),
)
def test_the_entry_taken_is_within_the_values_rounding(
    derivative: float, curvature: float, higher: float, noise: list[float], scale: float
) -> None:
    """Whatever the differences (a derivative, h**2 and h**4 terms, rounding of any size), the value reported is
    within the last entry's rounding of the last entry, so that the last entry's error estimate (which counts that
    rounding) bounds it within twice itself. (Whether it is better is the business of the tests above.)"""
    h = np.array(STEPS)
    rounding = scale * (1 + np.abs(derivative)) / h
    estimates = derivative + curvature * h**2 + higher * h**4 + np.array(noise) * rounding
    table = neville(estimates[:, None], (h * h)[:, None])
    last = table[-1][1]
    carried = np.array(top_weights(STEPS)) @ rounding[:, None]
    chosen = quietest(table, rounding[:, None], entry_weights(STEPS), last, carried)
    assert abs(chosen[0] - last[0]) <= carried[0]
