"""The fast pass again on scaled steps (numerics/scaled.py) and the unit it takes (numerics/fast.py: ``scale_found``),
against the README's description and the theory of central differences.

README (How auto works): the unit of the scaled steps is "half the scale on which f varies, ``sqrt|f^(n) /
f^(n+2)|``, read off the gap between its two smallest differences (rounded to a power of two ...). Where its steps
were beyond that scale ... at |x| < 1, the unit is at most |x| ...; where a step left the domain of f, at most |x|
too; where the estimate was mostly rounding, at least four times the steps ... Steps are never taken larger on a gap
that is not rounding ... Up to two rounds, each from what the one before measured, 10 evaluations each. A point
settles here only relative to its value".

Theory: the central difference of order n at step h is ``D(h) = f^(n) + c_n f^(n+2) h**2 + O(h**4)`` with
``c_1 = 1/6``, ``c_2 = 1/12``, ``c_3 = 1/4``, ``c_4 = 1/6`` (Taylor expansion of the textbook stencils). The
differences below are built from that expansion for an f whose scale ``s = sqrt|f^(n) / f^(n+2)|`` is chosen, so
the unit expected is ``2**round(log2(s / 2))``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import mpmath
import numpy as np
import pytest

from numdiff_cli.numerics.estimate import Along
from numdiff_cli.numerics.fast import fast_estimates
from numdiff_cli.numerics.scaled import fast_blocks, scaled_passes
from numdiff_cli.numerics.units import scale_found

# The fast pass's steps (README: five fixed steps, from 17/64 down to 13/1024), twice those for orders 3 and 4.
STEPS = np.array([17 / 64, 1 / 8, 15 / 256, 7 / 256, 13 / 1024])
CURVATURE = {1: 1 / 6, 2: 1 / 12, 3: 1 / 4, 4: 1 / 6}
# The evaluations of one pass of five steps at order 1 (README: "10 per point").
FAST_1 = 10


@pytest.fixture(autouse=True)
def _references_at_40_digits() -> Iterator[None]:
    with mpmath.workdps(40):
        yield


def power_of_two(v: float) -> float:
    return float(2.0 ** round(np.log2(v)))


def differences(order: int, scale: np.ndarray, derivative: float = 1.0, factor: float = 1.0) -> np.ndarray:
    """D(h) at the fast steps for f^(n) = ``derivative`` and f^(n+2) = derivative / scale**2, shape (5, points)."""
    steps = factor * STEPS[:, None] * np.ones_like(scale)[None]
    return derivative * (1 + CURVATURE[order] * steps**2 / scale[None] ** 2), steps


def found(
    x: np.ndarray,
    order: int,
    estimates: np.ndarray,
    steps: np.ndarray,
    rounding: float = 1e-16,
    noise: float = 1e-16,
    error: float = 1e-6,
    unit: np.ndarray | None = None,
) -> list[float]:
    n = x.size
    with np.errstate(all="ignore"):  # as in the fast pass: a gap of 0 reads as an infinite scale
        unit_found = scale_found(
            x,
            order,
            steps,
            estimates,
            np.full((5, n), rounding),
            np.full(n, noise),
            np.full(n, error),
            unit,
        )
    return unit_found.tolist()


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_the_unit_is_half_the_scale_read_off_the_last_gap(order: int) -> None:
    # Scales between the second smallest step and twice the current unit (1): measured, halved, rounded to a power of
    # two (0.3 -> 0.15 -> 1/8; 0.7 -> 0.35 -> 1/2 (2**-1.51); 1.5 -> 0.75 -> 1). Orders 3 and 4 take twice the steps.
    factor = 2.0 if order >= 3 else 1.0
    scales = np.array([0.3, 0.7, 1.5])
    estimates, steps = differences(order, scales, derivative=-2.5, factor=factor)
    got = found(np.array([3.0, -5.0, 40.0]), order, estimates, steps)
    assert got == [power_of_two(s / 2) for s in scales.tolist()]


def test_the_unit_is_never_larger_than_the_steps_on_a_resolved_gap() -> None:
    # f smooth on a scale of 10 or 1000: the gap says so, but a point that did not settle with such a gap has steps
    # beyond a scale the gap does not see; the unit stays that of the steps (1, or the unit they were taken with).
    scales = np.array([10.0, 1000.0, 10.0])
    estimates, steps = differences(1, scales)
    assert found(np.array([3.0, 2.0, 3.0]), 1, estimates, steps) == [1.0, 1.0, 1.0]
    unit = np.array([0.25, 0.25, 4.0])
    estimates, steps = differences(1, scales, factor=1.0)
    assert found(np.array([3.0, 2.0, 3.0]), 1, estimates, steps * unit, unit=unit) == [0.25, 0.25, 4.0]


def test_steps_beyond_a_singularity_near_zero_take_x_as_the_scale() -> None:
    # Central differences of 1/x at steps beyond its pole at 0 (h > |x| = 1e-3): D(h) = 1/(h**2 - x**2), which grows
    # towards the smaller steps. The gap read as in the asymptotic regime, sqrt(c (h1**2 - h2**2) max|D| / gap), says
    # 0.011, below the second smallest step (0.027): the steps were beyond the scale. At 0 < |x| < 1 the scale is
    # then at most |x| (the singularity of 1/x, log(x) at 0); at |x| >= 1, or at 0, the measured scale stands, as it
    # does at 0.5 > 0.011.
    estimates = np.repeat((1 / (STEPS**2 - 1e-6))[:, None], 5, axis=1)
    steps = STEPS[:, None] * np.ones(5)[None]
    read = float(
        np.sqrt(
            CURVATURE[1] * (STEPS[-2] ** 2 - STEPS[-1] ** 2) * estimates[-1, 0] / (estimates[-1, 0] - estimates[-2, 0])
        )
    )
    assert 0.005 < read < STEPS[-2]
    xs = np.array([0.001, -0.0005, 0.5, 1.0, 0.0])
    assert found(xs, 1, estimates, steps) == [
        power_of_two(0.001 / 2),
        power_of_two(0.0005 / 2),
        power_of_two(read / 2),
        power_of_two(read / 2),
        power_of_two(read / 2),
    ]


def test_a_small_scale_from_differences_that_shrink_towards_small_steps_is_not_a_singularity() -> None:
    # f varying on 0.004 as in its asymptotic expansion (D(h) = f' (1 + c h**2 / s**2), shrinking towards the
    # smaller steps): the scale read off the gap is small, but nothing says a singularity sits at 0 (a zero of f',
    # log(1 + x) - x near 0, where steps of |x| are below what 1 + x resolves): the measured scale stands at every x.
    scales = np.full(5, 0.004)
    estimates, steps = differences(1, scales)
    read = float(
        np.sqrt(
            CURVATURE[1] * (STEPS[-2] ** 2 - STEPS[-1] ** 2) * estimates[-2, 0] / (estimates[-2, 0] - estimates[-1, 0])
        )
    )
    assert 0.005 < read < STEPS[-2]
    xs = np.array([0.001, -0.0005, 0.5, 1.0, 0.0])
    assert found(xs, 1, estimates, steps) == [power_of_two(read / 2)] * 5


def test_a_gap_at_the_rounding_level_says_the_steps_were_too_small() -> None:
    # Differences that agree within their rounding: the scale is at least what would make the gap resolved
    # (sqrt(c (h1**2 - h2**2) |D| / (2 (r1 + r2)))), and at least |x|; never capped at the steps.
    estimates = np.full((5, 2), 3.0)
    rounding = 1e-12
    spread = CURVATURE[1] * (STEPS[-2] ** 2 - STEPS[-1] ** 2) * 3.0
    measured = np.sqrt(spread / (2 * (rounding + rounding)))
    steps = STEPS[:, None] * np.ones(2)[None]
    got = found(np.array([0.5, 1e5]), 1, estimates, steps, rounding=rounding, noise=1e-12, error=1e-6)
    assert measured > 2  # beyond the cap of the resolved case
    assert got == [power_of_two(measured / 2), power_of_two(1e5 / 2)]


def test_an_estimate_that_is_mostly_rounding_gets_at_least_four_times_the_steps() -> None:
    # noise > error - noise: the error is mostly rounding. Scale 0.3 measured (unit 1/8 otherwise): the unit is four
    # times the current one (4, or 1 for a current unit of 1/4); a larger measured scale (100) stands.
    scales = np.array([0.3, 0.3, 100.0])
    estimates, steps = differences(1, scales)
    unit = np.array([1.0, 0.25, 1.0])
    got = found(np.array([3.0, 3.0, 3.0]), 1, estimates, steps * unit, noise=6e-7, error=1e-6, unit=unit)
    # (the measured scale on steps times 1/4 is 0.3 as well: the expansion is built at the unscaled steps)
    assert got[0] == 4.0 and got[1] == 1.0
    assert got[2] == power_of_two(100.0 / 2)
    # Rounding just under half the error: not mostly rounding, the measured scale stands.
    got = found(np.array([3.0]), 1, estimates[:, :1], steps[:, :1], noise=4.9e-7, error=1e-6)
    assert got == [power_of_two(0.3 / 2)]


def test_a_step_that_left_the_domain_puts_the_edge_beyond_the_largest_finite_step() -> None:
    scales = np.full(3, 0.3)
    estimates, steps = differences(1, scales)
    estimates[0] = [np.nan, np.inf, np.nan]  # the largest step left the domain; the next one, 1/8, did not
    got = found(np.array([1e-4, 5.0, 0.5]), 1, estimates, steps, noise=6e-7, error=1e-6)
    # The edge lies beyond 1/8 (log(1 + x) at order 3 and 1e-20, whose edge is at 1): half of it, never widened
    # for rounding.
    assert got == [power_of_two(0.125 / 2)] * 3
    # Where no step stayed in the domain (sqrt(x) at 1e-4, whose edge is at 0): min(|x|, smallest step 13/1024).
    estimates[:] = np.nan
    got = found(np.array([1e-4, 5.0, 0.5]), 1, estimates, steps, noise=6e-7, error=1e-6)
    assert got == [power_of_two(1e-4 / 2), power_of_two(13 / 1024 / 2), power_of_two(13 / 1024 / 2)]


def test_the_fast_pass_measures_the_scale_of_f_where_it_does_not_settle() -> None:
    # sin(x / s) at x = 1: f' / f''' = -s**2, so the scale is s. At s = 0.15 the fast steps (0.013 to 0.27) do not
    # settle 10 digits; the unit is 2**round(log2(s / 2)) = 1/16. (Points it settles get no unit: nan.)
    xs = np.array([1.0, 2.0])
    s = np.array([0.15, 0.15])

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        return np.sin(((xs if sel is None else xs[sel]) + t) / s[0])

    result = fast_estimates(along, xs, 1, None, xs.shape)
    settled, unit = result[4], result[8]
    assert not settled.any()
    assert unit.tolist() == [1 / 16, 1 / 16]
    exact = [float(mpmath.cos(mpmath.mpf(x) / 0.15) / 0.15) for x in xs.tolist()]
    assert result[0] == pytest.approx(exact, rel=1e-5)


def counted(f: Callable[[np.ndarray], np.ndarray], xs: np.ndarray, counts: np.ndarray) -> Along:
    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        counts[slice(None) if sel is None else sel] += t.shape[0]
        return f((xs if sel is None else xs[sel]) + t)

    return along


def fast_then_scaled(f: Callable[[np.ndarray], np.ndarray], xs: np.ndarray, order: int = 1) -> dict:
    """The fast pass, then the scaled passes on what it leaves, as ``auto`` runs them; evaluations per point."""
    counts = np.zeros(xs.size)
    along = counted(f, xs, counts)
    with np.errstate(all="ignore"):
        value, error, step, _, settled, trusted, _, _, unit, improvable = fast_estimates(
            along, xs, order, None, xs.shape
        )
        before = {"fast_value": value.copy(), "fast_error": error.copy(), "settled": settled.copy()}
        todo = np.flatnonzero(~settled)
        nfev, left, _ = scaled_passes(along, xs, order, todo, unit, improvable, trusted, value, error, step)
    return {
        "nfev": nfev,
        "left": left.tolist(),
        "value": value,
        "error": error,
        "step": step,
        "counts": counts,
        **before,
    }


# (f, x, f'(x) in mpmath, evaluations of f at x: the fast pass's 10, then 10 per scaled round and 12 where a round
# measures f's rounding (README: "10 more per round of the scaled passes (two at most; 12 more where they measure
# f's rounding)")).
SCALED_CASES = [
    # log on a scale of 1e6 and 1e3: one round settles it, with an error far inside the promise (no measurement).
    (np.log, 1e6, lambda x: 1 / x, 10 + 10),
    (np.log, 1e3, lambda x: 1 / x, 10 + 10),
    # 1/x at 1e-4: the fast steps are beyond its scale (the unit is then at most |x|); one round, settled within a
    # tenth of the promise, so f's rounding is measured.
    (lambda v: 1 / v, 1e-4, lambda x: -1 / x**2, 10 + 10 + 12),
    # sqrt at 1e-5: the fast steps leave its domain (no estimate); the unit is at most |x|; one round.
    (np.sqrt, 1e-5, lambda x: 1 / (2 * mpmath.sqrt(x)), 10 + 10),
    # sin(50 x): one round on steps of 1/128 of the fast ones.
    (lambda v: np.sin(50 * v), 0.3, lambda x: 50 * mpmath.cos(50 * x), 10 + 10),
    # tanh(100 x) at 0.04, where f' is 1e-3 of f: two rounds, each measuring f's rounding.
    (lambda v: np.tanh(100 * v), 0.04, lambda x: 100 / mpmath.cosh(100 * x) ** 2, 10 + 2 * (10 + 12)),
]


@pytest.mark.parametrize(
    ("f", "x", "exact", "cost"), SCALED_CASES, ids=["log 1e6", "log 1e3", "1/x", "sqrt", "sin", "tanh"]
)
def test_the_scaled_passes_settle_functions_on_other_scales_at_the_documented_cost(f, x, exact, cost) -> None:
    got = fast_then_scaled(f, np.array([x]))
    reference = exact(mpmath.mpf(x))
    assert not got["settled"][0]
    assert got["left"] == []
    assert got["counts"].tolist() == [cost]
    assert got["nfev"] == cost - 10
    true_error = abs(mpmath.mpf(float(got["value"][0])) - reference)
    assert true_error <= got["error"][0] <= 1e-10 * abs(reference)


def test_a_point_settled_with_an_error_mostly_rounding_gets_a_better_estimate() -> None:
    # exp(x/1000) at 2: the fast pass settles it with 10.4 digits, its error mostly rounding (README: 10.8 -> 13.5);
    # one scaled round on larger steps keeps the better estimate.
    got = fast_then_scaled(lambda v: np.exp(v / 1000), np.array([2.0]))
    reference = mpmath.exp(mpmath.mpf(2) / 1000) / 1000
    assert got["settled"][0]
    assert got["counts"].tolist() == [20]
    assert got["fast_error"][0] > 1e-11 * reference
    assert got["error"][0] <= 1e-12 * reference
    assert abs(mpmath.mpf(float(got["value"][0])) - reference) <= got["error"][0]


def test_points_the_fast_pass_settles_are_not_evaluated_again_and_the_others_in_place() -> None:
    # log at 3 and 5 settles in the fast pass (f varies on a scale of about 1 there); at 1e6 and 1e3 it does not.
    xs = np.array([3.0, 1e6, 5.0, 1e3])
    got = fast_then_scaled(np.log, xs)
    assert got["settled"].tolist() == [True, False, True, False]
    assert got["counts"].tolist() == [10, 20, 10, 20]
    assert got["left"] == []
    assert got["value"][[0, 2]].tolist() == got["fast_value"][[0, 2]].tolist()
    assert got["error"][[0, 2]].tolist() == got["fast_error"][[0, 2]].tolist()
    for x, value, error in zip(xs.tolist(), got["value"].tolist(), got["error"].tolist()):
        assert abs(value - 1 / x) <= error <= 1e-10 / x


def test_an_estimate_that_could_not_be_trusted_and_has_no_scale_is_left_with_no_error_bound() -> None:
    # exp at -744 underflows to subnormals: some differences are exactly 0, others not; no scale is measured (unit
    # nan), so no scaled round runs, and the fast pass's estimate (0 +- 2e-323 for 1.0e-323) is not kept as an
    # estimate: its error is infinite. (log(1 + x**2) at 1e-4, trusted, keeps its estimate and error.)
    got = fast_then_scaled(np.exp, np.array([-744.0]))
    assert got["left"] == [0] and got["nfev"] == 0 and got["counts"].tolist() == [10]
    assert got["error"].tolist() == [np.inf]


@pytest.mark.parametrize("order", [1, 2])
def test_the_fast_pass_in_blocks_gives_each_point_what_it_gives_alone(order: int) -> None:
    # Enough points for several blocks (a few thousand values of f per block): each point's ten results are its own,
    # whatever the points around it, whether all points, the indices ``points``, or per-point units are given.
    xs = np.linspace(-3.0, 3.0, 9001)
    f = np.sin
    counts = np.zeros(xs.size)
    along = counted(f, xs, counts)

    def alone(index: np.ndarray, unit: np.ndarray | None) -> list[np.ndarray]:
        parts = [
            fast_estimates(
                along,
                xs[index[i : i + 500]],
                order,
                index[i : i + 500],
                xs.shape,
                None if unit is None else unit[i : i + 500],
            )
            for i in range(0, index.size, 500)
        ]
        return [np.concatenate([p[k] for p in parts]) for k in range(10)]

    everything = np.arange(xs.size)
    with np.errstate(all="ignore"):
        got = fast_blocks(along, xs, order, None, xs.shape)
        # One pass at each point, whatever the blocks: 10 evaluations (order 1), 11 (order 2).
        assert counts.tolist() == [{1: 10, 2: 11}[order]] * xs.size
        expected = alone(everything, None)
        some = everything[::2]
        unit = np.full(some.size, 0.5)
        got_some = fast_blocks(along, xs, order, some, xs.shape, unit)
        expected_some = alone(some, unit)
    for a, b in zip(got + got_some, expected + expected_some):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    # And the values are sin's derivative: cos, or its derivative, within the error estimate where settled.
    exact = np.cos(xs) if order == 1 else -np.sin(xs)
    settled = got[4]
    assert settled.mean() > 0.9
    assert np.all(np.abs(got[0] - exact)[settled] <= got[1][settled])


@pytest.mark.parametrize(
    ("order", "f", "x", "exact", "cost"),
    [
        # exp(x/30): f varies on a scale of 30. Order 2: the fast pass (11 evaluations), two scaled rounds of 11, and
        # one measurement of f's rounding (12) for the tighter estimate; order 3: 20 a pass, two rounds each
        # measuring f's rounding.
        (2, lambda v: np.exp(v / 30), 2.0, lambda x: mpmath.exp(x / 30) / 900, 11 + 2 * 11 + 12),
        (3, lambda v: np.exp(v / 30), 2.0, lambda x: mpmath.exp(x / 30) / 27000, 20 + 2 * (20 + 12)),
    ],
)
def test_higher_orders_settle_on_scaled_steps_with_the_tighter_estimate(order, f, x, exact, cost) -> None:
    got = fast_then_scaled(f, np.array([x]), order)
    reference = exact(mpmath.mpf(x))
    promised = {2: 1e-11, 3: 1e-10}[order]
    assert got["left"] == []
    assert got["counts"].tolist() == [cost]
    # (The pass's own count leaves out the fast pass before it.)
    assert got["nfev"] == cost - {2: 11, 3: 20}[order]
    assert abs(mpmath.mpf(float(got["value"][0])) - reference) <= got["error"][0] <= promised * abs(reference)


def test_points_with_no_measured_scale_get_no_scaled_round() -> None:
    # sqrt and log at 0: every step leaves the domain, the edge is at |x| = 0, so the scale is 0: no round runs (f is
    # not evaluated again), and the point is left to the other passes.
    for f in (np.sqrt, np.log):
        got = fast_then_scaled(f, np.array([0.0]))
        assert got["left"] == [0] and got["nfev"] == 0 and got["counts"].tolist() == [10]


def test_units_that_are_not_a_scale_are_skipped_and_the_others_run() -> None:
    # The scaled passes called directly, with units of 0, -1, inf and nan at points of log on a scale of 1e6: none of
    # those points is evaluated or settled; the one with a unit of 2**19 (half its scale, rounded) is settled.
    xs = np.full(5, 1e6)
    counts = np.zeros(5)
    along = counted(np.log, xs, counts)
    value, error, step = np.full(5, 2e-6), np.full(5, 1.0), np.full(5, 0.1)
    unit = np.array([0.0, -1.0, np.inf, np.nan, 2.0**19])
    with np.errstate(all="ignore"):
        nfev, left, _ = scaled_passes(
            along, xs, 1, np.arange(5), unit, np.zeros(5, bool), np.ones(5, bool), value, error, step
        )
    assert counts.tolist() == [0, 0, 0, 0, 10]
    assert nfev == 10
    assert left.tolist() == [0, 1, 2, 3]
    assert value[:4].tolist() == [2e-6] * 4 and error[:4].tolist() == [1.0] * 4
    assert abs(value[4] - 1e-6) <= error[4] <= 1e-16


@pytest.mark.parametrize(("order", "ulps", "unit"), [(2, 1e6, None), (4, 1e2, None), (1, 1e3, 1.0), (2, 1e5, 1.0)])
def test_the_deviation_is_the_spread_of_the_value_per_ulp_of_f(order: int, ulps: float, unit: float | None) -> None:
    # Monte Carlo: 4000 copies of the point 0.7 of exp(sin(x)), each value of f given an independent rounding error of
    # `ulps` ulps (standard deviation, relative): the spread of the fast pass's values over the copies is `ulps` times
    # the deviation it reports per ulp of f (within the 5% a sample of 4000 allows at three standard errors, and the
    # spread of the error estimates' selection). It is reported where it is used: for orders 2 to 4 at the points
    # the fast pass does not settle but trusts, and on scaled steps at the points settled with an error within a
    # tenth of the promise; infinite elsewhere (order 1 without a unit).
    rng = np.random.default_rng(1)
    n = 4000
    xs = np.full(n, 0.7)

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        values = np.exp(np.sin((xs if sel is None else xs[sel]) + t))
        return values * (1 + ulps * 2.0**-52 * rng.standard_normal(values.shape))

    with np.errstate(all="ignore"):
        value, _, _, _, settled, trusted, _, deviation, _, _ = fast_estimates(
            along, xs, order, None, xs.shape, None if unit is None else np.full(n, unit)
        )
    used = np.isfinite(deviation)
    assert used.mean() > 0.5
    assert 0.85 <= value.std() / (ulps * deviation[used].mean()) <= 1.15
    if unit is None:
        assert not (used & settled).any() and trusted[used].all()
    elif order == 1:
        assert settled[used].all()
    with np.errstate(all="ignore"):
        deviation_1 = fast_estimates(along, xs, 1, None, xs.shape)[7]
    assert np.isinf(deviation_1).all()


def test_a_point_settled_in_the_first_round_is_not_evaluated_again_while_the_others_go_on() -> None:
    # tan next to pi/2: the three points nearest take two rounds, 1.5 settles in the first. (With most points going
    # on, the pass measures a unit at every point: the settled one must still not get a second round.)
    xs = np.array([1.5707, 1.57, 1.5706, 1.5])
    got = fast_then_scaled(np.tan, xs)
    assert got["counts"].tolist() == [FAST_1 + 2 * FAST_1] * 3 + [FAST_1 + FAST_1]
    assert got["left"] == []
    for x, value, error in zip(xs.tolist(), got["value"].tolist(), got["error"].tolist()):
        reference = 1 / mpmath.cos(mpmath.mpf(x)) ** 2
        assert abs(mpmath.mpf(value) - reference) <= error <= 1e-10 * reference


def test_a_gap_is_at_the_rounding_level_within_twice_the_rounding_of_its_two_differences() -> None:
    # The worst-case rounding of a difference grows like 1/h (here 1e-10 / h); the gap between the two smallest
    # differences is "at the rounding level" within twice the sum of theirs (as the tighter estimate's RESOLVED_GAP),
    # whatever the rounding of the larger steps. Just above (2.5 times the sum) the gap is resolved: a scale of about
    # 60 read off it, capped at the steps (unit 1); just below (1.83 times: above twice the rounding of the middle
    # and smallest steps, which is less) it is rounding: the scale is at least what would resolve it, about 65,
    # uncapped (unit 32).
    rounding = 1e-10 / STEPS
    total = rounding[-2] + rounding[-1]
    spread = CURVATURE[1] * (STEPS[-2] ** 2 - STEPS[-1] ** 2)
    assert 1.83 * total > 2 * (rounding[2] + rounding[-1])
    units = []
    for factor in (2.5, 1.83):
        estimates = np.ones((5, 1))
        estimates[-2] += factor * total
        with np.errstate(all="ignore"):
            units.append(
                scale_found(
                    np.array([3.0]),
                    1,
                    STEPS[:, None],
                    estimates,
                    rounding[:, None],
                    np.array([1e-16]),
                    np.array([1e-6]),
                    None,
                )[0]
            )
    expected = power_of_two(float(np.sqrt(spread * (1 + 1.83 * total) / (2 * total))) / 2)
    assert units == [1.0, expected]
    assert expected == 32.0


def test_a_scale_between_the_two_smallest_steps_is_not_beyond_them() -> None:
    # "Beyond" is below the second smallest step (7/256 = 0.027): a scale of 0.04 read off the gap (above it, below
    # the middle step 0.059) stands at x = 0.005, unlike one of 0.012 (test above), which x caps.
    scales = np.array([0.04])
    estimates, steps = differences(1, scales)
    read = float(
        np.sqrt(
            CURVATURE[1] * (STEPS[-2] ** 2 - STEPS[-1] ** 2) * estimates[-2, 0] / (estimates[-2, 0] - estimates[-1, 0])
        )
    )
    assert STEPS[-2] < read < STEPS[2]
    assert found(np.array([0.005]), 1, estimates, steps) == [power_of_two(read / 2)]
    assert power_of_two(read / 2) != power_of_two(0.005 / 2)


def test_only_the_fast_pass_on_absolute_steps_vouches_for_a_derivative_at_the_rounding_level() -> None:
    # cos at 0 and sin at pi/2: f' = 0 (to rounding). The fast pass on its own steps settles it at the rounding level
    # of f (README: "or for a derivative consistent with zero at the rounding level of f"); on scaled steps a point
    # settles "only relative to its value", which a derivative of 0 never is.
    for f, x in ((np.cos, 0.0), (np.sin, np.pi / 2)):
        xs = np.array([x])

        def along(t: np.ndarray, sel: np.ndarray | None, f=f, xs=xs) -> np.ndarray:
            return f(xs + t)

        with np.errstate(all="ignore"):
            value, error, _, _, settled, *_ = fast_estimates(along, xs, 1, None, xs.shape)
            assert settled.tolist() == [True]
            assert abs(value[0]) <= error[0] <= 1e-14
            scaled = fast_estimates(along, xs, 1, None, xs.shape, np.array([1.0]))
        assert scaled[4].tolist() == [False]


def test_points_still_open_keep_the_best_estimate_of_their_rounds() -> None:
    # tanh(100 x) at 0.045 and 0.05 (f' is 1e-3 to 1e-4 of f): neither round settles them. Each round is the fast
    # pass on steps times the unit the one before found (README); the points keep the estimate with the smallest
    # error among the rounds whose estimate is trusted (the fine pass starts from it), here the second's. The first
    # round settles the three other points (0.01 to 0.03), so that most points of that round do not go on: the unit
    # of the two that do is still measured on their own steps (four times them, their error being mostly rounding).
    xs = np.array([0.045, 0.05, 0.01, 0.02, 0.03])
    ys = xs[:2]

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        return np.tanh(100 * ((xs if sel is None else xs[sel]) + t))

    def along_open(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        return np.tanh(100 * ((ys if sel is None else ys[sel]) + t))

    with np.errstate(all="ignore"):
        fast = fast_estimates(along, xs, 1, None, xs.shape)
        first = fast_estimates(along_open, ys, 1, None, ys.shape, fast[8][:2])
        second = fast_estimates(along_open, ys, 1, None, ys.shape, first[8])
        value, error, step = fast[0].copy(), fast[1].copy(), fast[2].copy()
        _, left, _ = scaled_passes(along, xs, 1, np.arange(5), fast[8], fast[9], fast[5], value, error, step)
    assert not fast[4].any()
    assert left.tolist() == [0, 1]
    assert not first[4].any() and not second[4].any() and first[5].all() and second[5].all()
    assert np.all(first[8] == 4 * fast[8][:2])
    assert np.all(second[1] < first[1]) and np.all(first[1] < fast[1][:2])
    np.testing.assert_array_equal(value[:2], second[0])
    np.testing.assert_array_equal(error[:2], second[1])
    np.testing.assert_array_equal(step[:2], second[2])
    exact = [100 / mpmath.cosh(100 * mpmath.mpf(x)) ** 2 for x in xs.tolist()]
    assert all(abs(mpmath.mpf(float(v)) - r) <= e for v, r, e in zip(value, exact, error))
    assert np.all(error[2:] <= 1e-10 * np.abs(value[2:]))


@pytest.mark.parametrize(("order", "offset", "ulps"), [(1, 1e3, 10.0), (2, 1.0, 1e3)])
def test_where_f_is_a_polynomial_the_deviation_is_that_of_the_largest_step(
    order: int, offset: float, ulps: float
) -> None:
    # 1e3 + x**2 (order 1) and 1 + x**3 (order 2) at 1: the differences are exact at every step (up to rounding), so
    # the fast pass takes the one at its largest step (17/64), not the extrapolation, and the value's spread per ulp
    # of f is that difference's. Monte Carlo over 4000 copies as above, on scaled steps of unit 1.
    rng = np.random.default_rng(1)
    n = 4000
    xs = np.full(n, 1.0)

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        values = offset + ((xs if sel is None else xs[sel]) + t) ** (order + 1)
        return values * (1 + ulps * 2.0**-52 * rng.standard_normal(values.shape))

    with np.errstate(all="ignore"):
        value, _, step, _, _, _, _, deviation, _, _ = fast_estimates(along, xs, order, None, xs.shape, np.ones(n))
    largest = step == 17 / 64
    used = np.isfinite(deviation) & largest
    assert used.mean() > 0.5
    assert 0.85 <= value[largest].std() / (ulps * deviation[used].mean()) <= 1.15


def test_each_scaled_round_of_a_higher_order_tries_the_tighter_estimate() -> None:
    # 1/x at 0.01, order 2: two scaled rounds, each with its tighter estimate from f's measured rounding (11 + 12
    # evaluations a round, README); the estimate kept is within its error of 2/x**3.
    got = fast_then_scaled(lambda v: 1 / v, np.array([0.01]), 2)
    assert got["counts"].tolist() == [11 + 2 * (11 + 12)]
    reference = 2 / mpmath.mpf(0.01) ** 3
    assert abs(mpmath.mpf(float(got["value"][0])) - reference) <= got["error"][0]
