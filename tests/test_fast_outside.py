"""The fast pass's points outside the domain of f (numerics/fast.py: ``_outside``): where every stencil of a point
reaches a NaN of f (``sqrt(x)`` at 1e-4, whose steps are all larger than x), the fast pass computes only the unit
for the scaled pass. What it returns there must be bit for bit what its whole arithmetic returns: these tests hold
the two side by side on the same values of f, for functions whose domain ends at 0, at 1 and nowhere near, at
points inside, outside, at the edge and beyond it, and where f itself is NaN or infinite."""

from __future__ import annotations

import numpy as np
import pytest

from numdiff_cli import engine
from numdiff_cli.numerics import fast
from numdiff_cli.numerics.fine import stencil_values
from numdiff_cli.numerics.stencils import stencil
from numdiff_cli.numerics.steps import fast_steps

FUNCTIONS = {
    "sqrt": np.sqrt,
    "log": np.log,
    "x**2.5": lambda x: x**2.5,
    "asin": np.arcsin,
    "sqrt(1 - x**2)": lambda x: np.sqrt(1 - x * x),
    "log of log": lambda x: np.log(np.log(x)),
    "1/sqrt": lambda x: 1 / np.sqrt(x),
    "nan below 0, inf at 0": lambda x: np.where(x < 0, np.nan, np.where(x == 0, np.inf, x)),
}


def points() -> np.ndarray:
    rng = np.random.default_rng(4)
    special = [0.0, -0.0, 1e-300, -1.0, 1.0, 1.0 + 1e-12, 0.999, 2.0, np.nan, np.inf, -np.inf, 0.27, 0.0127, 0.01, 3.0]
    return np.concatenate(
        [special, np.exp(rng.uniform(-30, 2, 300)), -np.exp(rng.uniform(-30, 2, 50)), rng.uniform(-2, 2, 100)]
    )


def values_at(f, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"):
        steps = fast_steps(x, 1)
        values, _ = stencil_values(lambda t, sel: f(x + t), stencil(1, "central")[0], steps, None)
    return values, steps


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("find_units", [True, False])
def test_the_points_outside_get_what_the_whole_arithmetic_gives_them(name: str, find_units: bool) -> None:
    x = points()
    values, steps = values_at(FUNCTIONS[name], x)
    outside = np.isnan(values).any(axis=0).all(axis=0)
    assert outside.any()  # (the case is about them)
    # (fast_estimates clears the mask first, then each fills it.)
    deferred_whole, deferred_short = np.zeros(x.size, dtype=bool), np.zeros(x.size, dtype=bool)
    with np.errstate(all="ignore"):
        whole = fast._estimates(values, None, steps, x, 1, None, None, deferred_whole, find_units, None)
        short = fast._outside(values, steps, x, outside, deferred_short, find_units)
    for got, expected in zip(short, whole):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(deferred_short, deferred_whole)


def test_every_point_outside() -> None:
    x = np.exp(np.random.default_rng(5).uniform(-14, -5, 64))
    values, steps = values_at(np.sqrt, x)
    outside = np.isnan(values).any(axis=0).all(axis=0)
    assert outside.all()
    with np.errstate(all="ignore"):
        whole = fast._estimates(values, None, steps, x, 1, None, None, None, True, None)
        short = fast._outside(values, steps, x, outside, None, True)
    for got, expected in zip(short, whole):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("share", [0.0, 0.05, 0.2, 0.9, 1.0])
def test_the_engine_gives_each_point_what_it_gives_it_alone(share: float) -> None:
    # Blocks with few or many points outside the domain (below or above the share from which the fast pass takes the
    # short way): every point's result is its own, as when it is differentiated alone.
    rng = np.random.default_rng(6)
    count = 400
    outside = rng.random(count) < share
    x = np.where(outside, np.exp(rng.uniform(-14, -5, count)), np.exp(rng.uniform(0, 3, count)))
    together = engine.derivative(np.sqrt, x, method="auto")
    for i in range(0, count, 37):
        alone = engine.derivative(np.sqrt, x[i : i + 1], method="auto")
        assert alone.value[0] == together.value[i] or (np.isnan(alone.value[0]) and np.isnan(together.value[i]))
        assert alone.error[0] == together.error[i]
        assert alone.status[0] == together.status[i]
    exact = 0.5 / np.sqrt(x)
    ok = together.status == engine.OK
    assert ok.all()
    assert np.all(np.abs(together.value - exact) <= together.error)
