"""``auto``'s fast pass on steps scaled to the scale on which f varies (numerics/scaled.py): the functions that do not
vary on a scale of about 1 settle in a few evaluations, with the digits numdiff promises.

Expectations come from closed-form derivatives evaluated by mpmath at 40 digits, from numdiff's documented promise
(10 correct digits at order 1) and from the documented cost of the passes (10 evaluations each), never from the
engine's constants.
"""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest
from click.testing import CliRunner

from numdiff_cli import engine
from numdiff_cli.cli import cli
from numdiff_cli.contract import OK
from numdiff_cli.numerics import adaptive, fast, scaled

mpmath.mp.dps = 40

# The promise for an unflagged first derivative (README, Accuracy): 10 correct digits relative to it.
PROMISE = 1e-10

# (expression, exact derivative in mpmath, low, high, log-spaced): the function families of the throughput benchmark
# and their neighbours.
FAMILIES = [
    ("log(x)", lambda x: 1 / x, 1e3, 1e6, True),
    ("log(x)", lambda x: 1 / x, 1e-6, 1e-2, True),
    ("1/x", lambda x: -1 / x**2, 1e-4, 1e-2, True),
    ("sqrt(x)", lambda x: 1 / (2 * mpmath.sqrt(x)), 1e-6, 1e-2, True),
    ("x**2.5", lambda x: mpmath.mpf(5) / 2 * x**1.5, 1e-6, 1e-2, True),
    ("sin(50*x)", lambda x: 50 * mpmath.cos(50 * x), -1.0, 1.0, False),
    ("sin(1000*x)", lambda x: 1000 * mpmath.cos(1000 * x), -1.0, 1.0, False),
    ("tanh(100*x)", lambda x: 100 / mpmath.cosh(100 * x) ** 2, -0.05, 0.05, False),
    ("exp(x/1000)", lambda x: mpmath.exp(x / 1000) / 1000, -10.0, 10.0, False),
    ("atan(x)", lambda x: 1 / (1 + x**2), 10.0, 1e4, True),
]


def sample(low: float, high: float, logspaced: bool, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if logspaced:
        return np.exp(rng.uniform(np.log(low), np.log(high), count))
    return rng.uniform(low, high, count)


def diff_json(expr: str, xs: np.ndarray) -> list[dict]:
    text = "".join(f"{x!r}\n" for x in xs.tolist())
    result = CliRunner().invoke(cli, ["diff", expr, "--at", "-", "--format", "json"], input=text)
    assert result.exit_code in (0, 3), result.output
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(("expr", "exact", "low", "high", "logspaced"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_every_unflagged_result_has_the_promised_digits_and_an_honest_error(expr, exact, low, high, logspaced) -> None:
    xs = sample(low, high, logspaced, 300, seed=len(expr))
    rows = diff_json(expr, xs)
    assert len(rows) == xs.size
    for x, row in zip(xs.tolist(), rows):
        reference = exact(mpmath.mpf(x))
        true_error = float(abs(mpmath.mpf(row["derivative"]) - reference))
        if "warning" in row:
            continue
        # Relative to f', or (a zero of f' in the oscillating families) to the size f' has there.
        size = max(float(abs(reference)), {"sin(50*x)": 50.0, "sin(1000*x)": 1000.0}.get(expr, 0.0))
        assert true_error <= PROMISE * size, (expr, x, row)
        # The error estimate is honest: never a tenth of the true error (it is typically 10 to 100 times it).
        assert true_error <= 10 * row["error"], (expr, x, row)


def evaluations_per_point(expr_f, xs: np.ndarray) -> np.ndarray:
    counts = np.zeros(xs.size)

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        counts[slice(None) if sel is None else sel] += t.shape[0]
        return expr_f((xs if sel is None else xs[sel]) + t)

    with np.errstate(all="ignore"):
        adaptive.adaptive(along, xs, order=1)
    return counts


NUMPY_FAMILIES = [
    (np.log, 1e3, 1e6, True),
    (lambda x: 1 / x, 1e-4, 1e-2, True),
    (np.sqrt, 1e-6, 1e-2, True),
    (lambda x: x**2.5, 1e-6, 1e-2, True),
    (lambda x: np.sin(50 * x), -1.0, 1.0, False),
    (lambda x: np.sin(1000 * x), -1.0, 1.0, False),
    (lambda x: np.tanh(100 * x), -0.05, 0.05, False),
    (lambda x: np.exp(x / 1000), -10.0, 10.0, False),
]


@pytest.mark.parametrize(("f", "low", "high", "logspaced"), NUMPY_FAMILIES)
def test_functions_on_other_scales_cost_a_few_passes_not_the_wide_search(f, low, high, logspaced) -> None:
    counts = evaluations_per_point(f, sample(low, high, logspaced, 2000, seed=7))
    # The fast pass (10 evaluations), then at most two rounds of it on scaled steps (10 each): 30 for most points.
    # The wide search alone is 128: if a tenth of the points took it, the mean would exceed 30 + 13.
    assert np.median(counts) <= 30
    assert counts.mean() <= 43


def test_a_scale_taken_from_x_near_zero_never_vouches_for_differences_f_does_not_resolve() -> None:
    # At x = -1.1e-16 the steps scaled to |x| are 1e-17: f ~ 1 does not change over them, every difference is 0,
    # and "0 within the rounding of f at such steps" (+- 20) is no derivative. The slope there is f'(0) = 1.
    expr = "exp(x)/sqrt(sin(x)**3 + cos(x)**3)"
    x = -1.1102230246251565e-16
    (row,) = diff_json(expr, np.array([x]))
    assert "warning" not in row
    assert abs(row["derivative"] - 1.0) <= PROMISE


@pytest.mark.parametrize("x", [1e-4, 3e-4, 1e-3])
def test_f_that_cancels_internally_is_not_vouched_for_on_a_model_of_its_rounding(x: float) -> None:
    # log(1 + x**2) near 0 carries the rounding of 1 + x**2 (1e8 ulps of f at 1e-4): scaled steps see far more of
    # it than a model of eps * |f| per value says. The estimate must still bound the true error.
    (row,) = diff_json("log(1 + x**2)", np.array([x]))
    reference = 2 * mpmath.mpf(x) / (1 + mpmath.mpf(x) ** 2)
    true_error = float(abs(mpmath.mpf(row["derivative"]) - reference))
    assert "warning" not in row
    assert true_error <= row["error"]
    assert true_error <= PROMISE * float(reference)


def test_steps_are_never_taken_larger_on_a_gap_that_looks_smooth_for_the_wrong_reason() -> None:
    # Next to 0 the cosine is even: it cancels in every central difference of steps above its scale (1e-3), which
    # all agree on a slope of 1 + 1e-12 while f' = 1 - 1000 sin(1000 x) (7e-8 below 1 at 7e-14). Larger steps,
    # "smooth on a larger scale", would vouch for the wrong slope; it is found on steps below 1e-3. (The engine
    # without the kink test, which the command adds: the value and its status alone must be right. Closer to 0, at
    # 2e-15, the fast pass's own steps settle on 1 + 7e-12 for 1 - 2e-9, which the command's kink test flags.)
    xs = np.array([7e-14, 1e-13, 1e-12, 3e-10, 1e-8])
    estimate = engine.derivative(lambda x: x + np.cos(1000 * x) + 5, xs)
    for x, value, status in zip(xs.tolist(), estimate.value.tolist(), estimate.status.tolist()):
        reference = 1 - 1000 * mpmath.sin(1000 * mpmath.mpf(x))
        if status == OK:
            assert float(abs(mpmath.mpf(value) - reference)) <= PROMISE * float(reference), (x, value)


def test_an_estimate_the_fast_pass_could_not_trust_is_never_kept_as_vouched() -> None:
    # exp near -745 underflows to the smallest subnormals: some differences are exactly 0, others are not, and
    # their tableau says 0 +- 0. No step resolves f there, so no estimate of 0 may pass for the derivative
    # (exp(-743) = 2e-323): the value is within a subnormal or two of it, or flagged.
    xs = np.array([-745.0, -744.0, -743.5, -743.0, -742.0, -741.0])
    estimate = engine.derivative(np.exp, xs)
    for x, value, status in zip(xs.tolist(), estimate.value.tolist(), estimate.status.tolist()):
        if status == OK:
            assert value > 0 and abs(value - float(mpmath.exp(x))) <= 2 * 2.0**-1074, (x, value)


@pytest.mark.parametrize(("amplitude", "period"), [(1e-12, 0.3), (1e-11, 0.3), (1e-12, 1.0)])
def test_larger_steps_never_replace_a_vouched_estimate_they_disagree_with(amplitude: float, period: float) -> None:
    # exp(x/1000) varies on a scale of 1000: the fast pass's estimate carries mostly rounding, and larger steps
    # would carry less. But a ripple of amplitude 1e-12 and period 0.3 adds 3e-12 to f' (3e-9 of it), which the
    # fast pass's steps (0.01-0.27) see and steps of tens average away while agreeing with themselves: the
    # estimate on larger steps must agree with the one it replaces, or it does not replace it.
    xs = np.linspace(-10, 10, 21)
    estimate = engine.derivative(lambda x: np.exp(x / 1000) + amplitude * np.sin(x / period), xs)
    for x, value, status in zip(xs.tolist(), estimate.value.tolist(), estimate.status.tolist()):
        t = mpmath.mpf(x)
        reference = mpmath.exp(t / 1000) / 1000 + amplitude * mpmath.cos(t / period) / period
        if status == OK:
            assert float(abs(value - reference)) <= PROMISE * float(reference), (x, value)


# Classes found by an adversarial sweep of the scaled passes (each once silently wrong), and their neighbours: f
# built on 1 + x at tiny |x| (steps of |x| are below what 1 + x resolves, where f is exactly constant or linear), a
# slow function plus a small fast part (larger steps average the part away), and large |x| with a small part on
# a scale of 1. (expression as mpmath text, order, point)
SWEEP_CLASSES = [
    ("log(1 + x)", 3, 1e-20),
    ("x*log(1 + x)", 4, 1e-20),
    ("sqrt(1 + x) - 1 - x/2", 3, 1e-8),
    ("sqrt(1 + x) - 1 - x/2", 1, 1e-8),
    ("log(1 + x**2)", 1, 1e-13),
    ("1 - cos(x)", 1, 1e-14),
    ("log(1 + x) - x", 1, 1e-20),
    ("log(1 + x) - x", 1, 1e-17),
    ("x - log(1 + x)", 1, -1e-100),
    ("exp(x) - 1 - x", 1, 1e-12),
    ("exp(x/300) + 1e-12*sin(1e4*x)", 1, -0.7859096386108925),
    ("x/100 + 1e-13*cos(100*x)", 1, 2.383282805817453),
    ("exp(x/500) + 1e-6/(1 + (1000*(x - 2))**2)", 1, 2.4324351927036694),
    ("exp(x/1000) + 1e-12*sin(10*x)", 1, 2.2413206723775714),
    ("log(x) + 1e-12*sin(x)", 1, 22822492.13277934),
    ("sqrt(x) + 1e-9*cos(x)", 1, 22822492.13277934),
]
# The sum of |weights| of the central difference of each order (1, 4, 3, 16 for its numerators over 2, 1, 2, 1).
WEIGHTS = {1: 1, 2: 4, 3: 3, 4: 16}
PROMISES = {1: 1e-10, 2: 1e-11, 3: 1e-10, 4: 1e-8}


@pytest.mark.parametrize(("text", "order", "x"), SWEEP_CLASSES)
def test_scaled_steps_never_vouch_for_what_f_does_not_resolve(text: str, order: int, x: float) -> None:
    # An unflagged result is within numdiff's promise, or (a derivative about 0 next to f) within the rounding of
    # an order-n difference of f at a step of half the scale L = max(|x|, 1): eps * F * weights * (2 / L)**n, F the
    # largest |f| at x, x +- L/4, x +- L/2 (benchmarks/honesty.py's rule).
    result = CliRunner().invoke(
        cli, ["diff", text, "--order", str(order), "--at", repr(x), "--format", "json"], catch_exceptions=False
    )
    (row,) = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    if "warning" in row:
        return
    names = {"log": mpmath.log, "sqrt": mpmath.sqrt, "cos": mpmath.cos, "sin": mpmath.sin, "exp": mpmath.exp}

    def mp_f(t: mpmath.mpf) -> mpmath.mpf:
        return eval(text, {"__builtins__": {}}, {**names, "x": t})  # trusted test data, not user input

    t = mpmath.mpf(x)
    reference = mpmath.diff(mp_f, t, order)
    scale = max(abs(x), 1.0)
    sizes = []
    for k in (-2, -1, 0, 1, 2):
        try:
            value = mp_f(t + k * mpmath.mpf(scale) / 4)
        except (ValueError, ZeroDivisionError):
            continue
        if mpmath.im(value) == 0:
            sizes.append(abs(value))
    size = max(sizes)
    floor = 2.0**-52 * float(size) * WEIGHTS[order] * (2 / scale) ** order
    allowed = max(PROMISES[order] * float(abs(reference)), floor)
    assert float(abs(mpmath.mpf(row["derivative"]) - reference)) <= allowed, (text, order, x, row)


def sigmoid(v: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-v))


# (f, points): families whose points the fast pass settles with an error that is mostly rounding, so that they go on
# to a scaled pass to be improved; the scaled pass improves all of exp(x/1000) and log at large x, but not sigmoid at
# 6 and 7 nor a few points of exp(sin(x)), which keep the fast pass's estimate.
DEFERRED = [
    (lambda v: np.exp(np.sin(v)), np.linspace(-10.0, 10.0, 20001)),
    (sigmoid, np.arange(0.0, 12.0, 0.25)),
    (lambda v: np.exp(v / 1000), np.linspace(-10.0, 10.0, 2001)),
    (np.log, np.geomspace(1.0, 1e6, 2001)),
]


def test_deferring_the_search_for_the_quietest_entry_changes_no_result(monkeypatch) -> None:
    # The fast pass defers its search for the entry of its tableau that carries less rounding at the points that go
    # on to be improved by a scaled pass, and comes back to those the scaled pass does not improve: every value,
    # error and status is the one the search made at once gives, bit for bit.
    deferred = [engine.derivative(f, xs) for f, xs in DEFERRED]
    real = fast.fast_estimates
    monkeypatch.setattr(scaled, "fast_estimates", lambda *args, deferred=None, **kwargs: real(*args, **kwargs))
    at_once = [engine.derivative(f, xs) for f, xs in DEFERRED]
    for got, expected in zip(deferred, at_once):
        assert got.value.tobytes() == expected.value.tobytes()
        assert got.error.tobytes() == expected.error.tobytes()
        assert np.array_equal(got.status, expected.status)


def test_a_point_the_scaled_pass_does_not_improve_gets_the_quietest_entry_all_the_same() -> None:
    # sigmoid at 6: the scaled pass does not improve the fast pass's estimate; the value reported is the fast pass's
    # with its search made (0.4 digits better than the last entry of the tableau, which the deferred pass holds),
    # for 10 more evaluations.
    xs = np.array([6.0])

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        return sigmoid((xs if sel is None else xs[sel]) + t)

    with np.errstate(all="ignore"):
        searched = fast.fast_estimates(along, xs, 1, None, xs.shape)
        deferred = np.zeros(1, dtype=bool)
        held = fast.fast_estimates(along, xs, 1, None, xs.shape, deferred=deferred)
    got = engine.derivative(sigmoid, xs)
    exact = mpmath.exp(-6) / (1 + mpmath.exp(-6)) ** 2
    assert deferred[0] and held[9][0] and held[0][0] != searched[0][0]
    assert got.value[0] == searched[0][0]
    assert got.nfev == 30
    assert abs(mpmath.mpf(float(got.value[0])) - exact) < abs(mpmath.mpf(float(held[0][0])) - exact)
