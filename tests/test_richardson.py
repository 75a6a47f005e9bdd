"""The Richardson tableau of numerics.richardson: its levels and error bounds, and the entry the fast pass reports.

Where rounding limits a first derivative, ``auto``'s fast pass reports the entry of its Richardson tableau that
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
import pytest
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st

from numdiff_cli.numerics.richardson import (
    RUNNING_FROM,
    best_on_larger_steps,
    entry_weights,
    first_least,
    neville,
    quietest,
    richardson,
    top_weights,
)

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
    chosen = quietest(np.concatenate(table), rounding[:, None], entry_weights(STEPS), last, carried)
    assert abs(chosen[0] - last[0]) <= carried[0]


def test_the_tableau_of_a_short_sequence_has_the_levels_its_steps_allow() -> None:
    """K differences give levels 0 .. min(levels, K - 1), level j with K - j entries, whatever ``levels`` asks."""
    h = 0.1 * 1.6 ** -np.arange(3.0)
    estimates = (2.0 + h**2 + h**4)[:, None]  # a derivative of 2 with h**2 and h**4 terms: exact at level 2
    values, errors, noises, levels, starts = richardson(estimates, np.zeros((3, 1)), h[:, None], 4)
    assert levels.tolist() == [0, 0, 0, 1, 1, 2] and starts.tolist() == [0, 1, 2, 0, 1, 0]
    assert values.shape == errors.shape == noises.shape == (6, 1)
    assert abs(values[-1, 0] - 2.0) <= 1e-14
    values, *_ = richardson(estimates[:1], np.zeros((1, 1)), h[:1, None], 4)
    assert values.tolist() == [[estimates[0, 0]]]


def test_an_entry_at_either_end_of_its_level_is_bounded_by_the_level_below() -> None:
    """Ridders' bound of an end entry: its larger distance to the two entries of the level below it; inner
    entries, the larger distance to their two neighbours; level 0's ends have no bound (infinite)."""
    h = 0.1 * 1.6 ** -np.arange(5.0)
    estimates = (1.0 + h**2 + 50 * h**4)[:, None]
    values, errors, _, levels, _ = richardson(estimates, np.zeros((5, 1)), h[:, None], 1)
    level0, level1 = values[levels == 0, 0], values[levels == 1, 0]
    e0, e1 = errors[levels == 0, 0], errors[levels == 1, 0]
    assert np.isinf(e0[0]) and np.isinf(e0[-1])
    assert e0[1] == max(abs(level0[1] - level0[0]), abs(level0[1] - level0[2]))
    assert e1[0] == max(abs(level1[0] - level0[0]), abs(level1[0] - level0[1]))
    assert e1[-1] == max(abs(level1[-1] - level0[-1]), abs(level1[-1] - level0[-2]))
    assert e1[1] == max(abs(level1[1] - level1[0]), abs(level1[1] - level1[2]))


def test_an_independent_estimate_uses_only_steps_far_enough_above_the_chosen_ones() -> None:
    """best_on_larger_steps: a candidate qualifies when its smallest step (index start + level) comes at least
    ``shift`` places before the chosen candidate's largest step (its start)."""
    values = np.array([[1.0], [2.0], [3.0], [4.0]])
    errors = np.array([[0.4], [0.1], [0.3], [0.2]])
    starts, levels = np.array([0, 1, 0, 5]), np.array([1, 2, 2, 0])
    # Chosen: index 3, start 5; shift 2: steps up to index 3. Candidate 1 (steps 1-3) qualifies and is the best.
    assert best_on_larger_steps(values, errors, starts, levels, np.array([3]), 2) == (2.0, 0.1)
    # Shift 3: steps up to index 2: candidate 1 (up to 3) no longer, candidate 2 (steps 0-2) does.
    assert best_on_larger_steps(values, errors, starts, levels, np.array([3]), 3) == (3.0, 0.3)
    # Shift 4: steps up to index 1: only candidate 0 (steps 0-1).
    assert best_on_larger_steps(values, errors, starts, levels, np.array([3]), 4) == (1.0, 0.4)
    _, error = best_on_larger_steps(values, errors, starts, levels, np.array([3]), 5)
    assert np.isinf(error[0])


@pytest.mark.parametrize("points", [1, 7, RUNNING_FROM - 1, RUNNING_FROM, 3 * RUNNING_FROM + 5])
def test_the_first_least_entry_is_numpys_argmin_on_either_side_of_the_running_minimum(points: int) -> None:
    """first_least, the wide search's choice of its candidate, is np.argmin over the first axis at any batch: ties
    (the first wins), infinite rows, a batch of two axes."""
    rng = np.random.default_rng(points)
    a = np.round(rng.random((60, points)), 2)  # many ties
    a[rng.random(a.shape) < 0.3] = np.inf
    a[:, : min(3, points)] = np.inf  # whole columns infinite: the first row
    assert (first_least(a) == np.argmin(a, axis=0)).all()
    b = a.reshape(60, 1, points)
    assert (first_least(b) == np.argmin(b, axis=0)).all()
