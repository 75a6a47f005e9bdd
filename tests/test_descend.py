"""Gradient descent: the library generator and the ``numdiff descend`` command."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from conftest import json_lines
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numdiff_cli.descend import GROWING_STEPS, descend


def bowl(v: np.ndarray) -> np.ndarray:
    return v[0] ** 2 + v[1] ** 2


@pytest.mark.parametrize("lr", [pytest.param(0.1, id="lr-0.1"), pytest.param(0.05, id="lr-0.05")])
def test_path_follows_the_closed_form(lr: float) -> None:
    # On f = |x|**2 the step is x <- (1 - 2 lr) x exactly; the numerical gradient of a quadratic is exact to
    # rounding (auto reaches ~1e-13 relative), so every point of the path matches the closed form closely.
    start = np.array([-3.0, 4.0])
    states = list(descend(bowl, start, lr=lr, steps=40, gtol=0.0))
    assert [s.index for s in states] == list(range(41))
    for state in states:
        exact = (1 - 2 * lr) ** state.index * start
        assert np.allclose(state.point, exact, rtol=1e-9, atol=1e-15)
        assert state.value == pytest.approx(float(exact @ exact), rel=1e-9, abs=1e-30)


def test_converges_to_the_minimum_and_stops_at_gtol() -> None:
    states = list(descend(bowl, [-3.0, 4.0], lr=0.1, steps=100, gtol=1e-8))
    last = states[-1]
    assert last.converged and not last.diverged
    assert np.linalg.norm(last.point) < 1e-8
    assert last.gradient_norm <= 1e-8 < states[-2].gradient_norm
    assert last.index < 100  # stopped early


def test_too_large_learning_rate_diverges() -> None:
    # x <- (1 - 2*1.5) x = -2x: f grows 4x per step, detected after GROWING_STEPS increases.
    states = list(descend(bowl, [-3.0, 4.0], lr=1.5, steps=100))
    last = states[-1]
    assert last.diverged and not last.converged
    assert last.index == GROWING_STEPS
    assert last.value == pytest.approx(25.0 * 4.0**GROWING_STEPS, rel=1e-9)


def test_overflow_is_divergence() -> None:
    # x**4 from 10 with lr 1: x <- x - 4x**3 explodes to inf within a few steps.
    states = list(descend(lambda v: v[0] ** 4, [10.0], lr=1.0, steps=100))
    assert states[-1].diverged
    assert states[-1].index < GROWING_STEPS
    assert not (math.isfinite(states[-1].value) and np.all(np.isfinite(states[-1].gradient)))


def test_too_small_learning_rate_runs_out_of_steps() -> None:
    states = list(descend(bowl, [-3.0, 4.0], lr=1e-4, steps=20))
    assert len(states) == 21
    assert not states[-1].converged and not states[-1].diverged


def test_cli_json_ends_at_the_origin(run) -> None:
    result = run("descend", "x0**2 + x1**2", "--from", "-3,4", "--lr", "0.1", "--steps", "100", "--format", "json")
    assert result.exit_code == 0, result.stderr
    (row,) = json_lines(result.stdout)
    assert list(row) == ["expr", "start", "lr", "steps", "at", "value", "gradient_norm", "converged", "diverged"]
    assert row["start"] == {"x0": -3.0, "x1": 4.0}
    assert row["lr"] == 0.1
    assert math.hypot(row["at"]["x0"], row["at"]["x1"]) < 1e-8
    assert row["converged"] is True and row["diverged"] is False
    assert row["gradient_norm"] <= 1e-8
    assert result.stderr == ""


def test_cli_divergence_exit_1_with_hint(run) -> None:
    result = run("descend", "x0**2 + x1**2", "--from", "-3,4", "--lr", "1.5", "--steps", "100", "--format", "json")
    assert result.exit_code == 1
    (row,) = json_lines(result.stdout)
    assert row["diverged"] is True and row["converged"] is False
    assert "diverged" in result.stderr and "--lr 0.15" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_cli_trace_one_line_per_step(run) -> None:
    result = run("descend", "(x-1)**2", "--from", "5", "--lr", "0.25", "--steps", "6", "--trace", "--format", "json")
    assert result.exit_code == 0
    rows = json_lines(result.stdout)
    assert [row["steps"] for row in rows] == list(range(7))
    # x <- x - 0.25 * 2 (x - 1): the distance to 1 halves at each step.
    for row in rows:
        assert row["at"]["x"] == pytest.approx(1 + 4 * 0.5 ** row["steps"], rel=1e-10)
    assert "not converged" in result.stderr


def test_cli_plain_prints_the_point(run) -> None:
    result = run("descend", "(x-1)**2 + (y+2)**2", "--from", "x=0,y=0", "--lr", "0.5", "--steps", "3")
    assert result.exit_code == 0
    # lr 0.5 on a unit quadratic jumps to the minimum in one step, then the gradient is zero.
    x, y = map(float, result.stdout.split())
    assert x == pytest.approx(1.0, abs=1e-9) and y == pytest.approx(-2.0, abs=1e-9)


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(["x*y", "--from", "1"], "expected 2 values", id="wrong-count"),
        pytest.param(["x*y", "--from", "1,2", "--lr", "-1"], "positive", id="negative-lr"),
        pytest.param(["3", "--from", "1"], "no variables", id="constant"),
    ],
)
def test_cli_bad_input_exit_2(run, args: list[str], message: str) -> None:
    result = run("descend", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_cli_start_outside_the_domain(run) -> None:
    result = run("descend", "log(x)", "--from", "-1")
    assert result.exit_code == 2
    assert result.stderr == "Error: f or its gradient is not finite at the starting point x=-1.0\n"


def test_cli_trace_is_json_lines_by_default(run) -> None:
    result = run("descend", "(x-1)**2", "--from", "5", "--lr", "0.25", "--steps", "2", "--trace")
    rows = json_lines(result.stdout)
    assert [row["steps"] for row in rows] == [0, 1, 2]
    assert [row["at"]["x"] for row in rows] == pytest.approx([5.0, 3.0, 2.0], rel=1e-10)


@settings(max_examples=30, deadline=None)
@given(
    a=st.floats(0.1, 10.0),
    ratio=st.floats(0.05, 0.95) | st.floats(1.15, 5.0),
    start=st.floats(-100.0, 100.0).filter(lambda v: abs(v) > 1e-3),
)
@example(a=1.0, ratio=0.5, start=5.0)  # lr = 1/(2a): the minimum in one step
@example(a=1.0, ratio=1.5, start=-3.0)  # the classic divergence
def test_quadratic_diverges_exactly_above_the_critical_rate(a: float, ratio: float, start: float) -> None:
    # On a*x**2 the step multiplies x by 1 - 2*a*lr: |.| < 1 (descent) for lr < 1/a, > 1 (divergence) above.
    lr = ratio / a
    states = list(descend(lambda v: a * v[0] ** 2, [start], lr=lr, steps=300))
    last = states[-1]
    if ratio < 1:
        assert not last.diverged
        # f falls at every step (up to rounding in f itself).
        assert all(b.value <= a.value * (1 + 1e-12) + 1e-300 for a, b in itertools.pairwise(states))
    else:
        assert last.diverged and not last.converged
