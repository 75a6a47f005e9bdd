"""Speed and accuracy of numdiff's gradient against scipy.differentiate.jacobian and numdifftools.Gradient.

Run ``python benchmarks/gradient.py > benchmarks/gradient.md`` (needs the ``bench`` extra). One point in
n = 10, 100, 1000 dimensions; every library differentiates the same vectorized function, measured in one run.
numdiff differentiates the function written as an expression of array values (``sum(x**2) + prod(cos(x))``),
compiled as ``numdiff grad`` compiles it; the peers get the same function written in numpy. Time: best of several
rounds of one full gradient. Digits: correct significant digits of each component against an mpmath reference at
50 digits (capped at 17), as the minimum and the median over the components. Last, the gradient of a softmax
cross-entropy loss by a 784x10 weight matrix (7,840 variables): time and peak memory of the process.
"""

from __future__ import annotations

import math
import os
import resource
import time
from collections.abc import Callable

import mpmath
import numdifftools
import numpy as np
from machine import machine  # benchmarks/machine.py, next to this script
from scipy.differentiate import jacobian as scipy_jacobian

from numdiff_cli import engine
from numdiff_cli.bound import bind
from numdiff_cli.expr import parse_expression
from numdiff_cli.perturbed import STRUCTURED_FROM, Changes

CAP = 17.0
DIMENSIONS = (10, 100, 1000)
# Rounds of each timing per n: more where a gradient takes a millisecond, so that a busy moment of the shared machine
# (which costs a round, not a row) has many rounds to be outlasted in; the same for every library.
ROUNDS = {10: 41, 100: 21, 1000: 7}


def function(x: np.ndarray) -> np.ndarray:
    """``f(x) = sum_i exp(sin(x_i) * x_{i+1}) / n + log(1 + sum_i x_i**2)`` (indices cyclic); ``x`` of shape
    ``(n, *batch)``."""
    n = x.shape[0]
    return np.exp(np.sin(x) * np.roll(x, -1, axis=0)).sum(axis=0) / n + np.log1p((x**2).sum(axis=0))


def cyclic_text(n: int) -> str:
    """:func:`function` as a numdiff expression (the cyclic neighbour written with slices)."""
    return f"(sum(exp(sin(x[:-1]) * x[1:])) + exp(sin(x[-1]) * x[0])) / {n} + log1p(sum(x**2))"


def sum_prod(x: np.ndarray) -> np.ndarray:
    """``sum(x**2) + prod(cos(x))`` on ``x`` of shape ``(n, *batch)``."""
    return np.sum(x**2, axis=0) + np.prod(np.cos(x), axis=0)


def sum_prod_reference(x: np.ndarray) -> list[mpmath.mpf]:
    """The exact gradient of :func:`sum_prod`: 2 x_i - sin(x_i) prod_(j != i) cos(x_j) (50 digits)."""
    with mpmath.workdps(50):
        v = [mpmath.mpf(float(t)) for t in x]
        cosines = [mpmath.cos(t) for t in v]
        result = []
        for i, t in enumerate(v):
            others = mpmath.fprod(c for j, c in enumerate(cosines) if j != i)
            result.append(2 * t - mpmath.sin(t) * others)
        return result


def reference(x: np.ndarray) -> list[mpmath.mpf]:
    """The exact gradient of :func:`function` at ``x`` (50 digits)."""
    with mpmath.workdps(50):
        v = [mpmath.mpf(float(t)) for t in x]
        n = len(v)
        s = [mpmath.exp(mpmath.sin(v[i]) * v[(i + 1) % n]) for i in range(n)]
        total = 1 + mpmath.fsum(t**2 for t in v)
        return [
            (mpmath.cos(v[i]) * v[(i + 1) % n] * s[i] + mpmath.sin(v[i - 1]) * s[i - 1]) / n + 2 * v[i] / total
            for i in range(n)
        ]


class Counted:
    """``f`` with a count of the points at which it was evaluated (a call on an array of shape ``(m, *batch)``
    evaluates ``prod(batch)`` points)."""

    def __init__(self, f: Callable[[np.ndarray], np.ndarray], m: int):
        self.f, self.m, self.points = f, m, 0

    def __call__(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v)
        self.points += v.size // self.m
        return self.f(v)


class CountedChanges(Counted):
    """:class:`Counted` for a function that also evaluates batches of changes (numdiff's compiled expressions)."""

    def at_changes(self, changes: Changes, budget: int) -> np.ndarray:
        self.points += math.prod(changes.shape)
        return self.f.at_changes(changes, budget)  # type: ignore[attr-defined]


def counted(f: Callable[[np.ndarray], np.ndarray], m: int) -> Counted:
    return CountedChanges(f, m) if hasattr(f, "at_changes") else Counted(f, m)


def evaluations(gradient: Callable[[Callable[[np.ndarray], np.ndarray]], object], f, n: int) -> float:
    """Evaluations of ``f`` per component made by ``gradient(f)``."""
    wrapped = counted(f, n)
    gradient(wrapped)
    return wrapped.points / n


def digits(values: np.ndarray, exact: list[mpmath.mpf]) -> tuple[float, float]:
    result = component_digits(values, exact)
    return min(result), float(np.median(result))


def component_digits(values: np.ndarray, exact: list[mpmath.mpf]) -> list[float]:
    """Correct digits of each component, -log10 of the relative error against the exact value, 0 to CAP."""
    result = []
    with mpmath.workdps(50):
        for value, ref in zip(values.tolist(), exact):
            if not math.isfinite(value):
                result.append(0.0)
                continue
            error = abs(mpmath.mpf(value) - ref)
            result.append(CAP if error == 0 else float(min(CAP, max(0.0, -mpmath.log10(error / abs(ref))))))
    return result


def best_times(calls: list[Callable[[], np.ndarray]], rounds: int) -> tuple[list[float], list[np.ndarray]]:
    """Best wall time of each call over ``rounds`` rounds; the calls alternate within a round, so that a busy
    moment of the (shared) machine does not favour one of them, in an order drawn afresh for each round (seeded),
    so that none always runs right after the same other one, whose data has just pushed its own out of the CPU's
    caches (at n = 10, numdiff's gradient run right after numdifftools' took 0.24 ms, right after itself 0.20)."""
    results = [call() for call in calls]  # warm-up
    best = [math.inf] * len(calls)
    order = np.random.default_rng(0)
    for _ in range(rounds):
        for index in order.permutation(len(calls)).tolist():
            begin = time.perf_counter()
            results[index] = calls[index]()
            best[index] = min(best[index], time.perf_counter() - begin)
    return best, results


CASES = (
    ("sum(x**2) + prod(cos(x))", lambda n: "sum(x**2) + prod(cos(x))", sum_prod, sum_prod_reference),
    ("sum_i exp(sin(x_i) x_(i+1)) / n + log(1 + |x|^2)", cyclic_text, function, reference),
)


def softmax_cross_entropy() -> list[str]:
    """The gradient of -sum(t*log(softmax(x @ W))) by W, 784x10, against its closed form outer(x, softmax - t)."""
    rng = np.random.default_rng(0)
    x, t, W = rng.uniform(0, 1, 784), np.eye(10)[3], 0.01 * rng.standard_normal((784, 10))
    bound = bind(parse_expression("-sum(t*log(softmax(x @ W)))"), {"W": (784, 10)}, {"x": x, "t": t})
    function = counted(bound.function, W.size)
    # As numdiff grad calls it: the complex step for what the real passes leave, the kink test where the expression
    # may have a kink (this one cannot: the log is of a softmax, which is positive).
    options = {"analytic": True, "check_kink": not bound.smooth}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    begin = time.perf_counter()
    estimate = engine.gradient(function, W.reshape(-1, 1), **options)
    elapsed = time.perf_counter() - begin
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    z = x @ W
    s = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    exact = np.outer(x, s - t).reshape(-1)
    error = np.abs(estimate.value[:, 0] - exact)
    scale = np.abs(exact).max()
    # The same gradient with the perturbed points built in full (the function without its structured evaluation).
    begin = time.perf_counter()
    full = engine.gradient(Counted(bound.function, W.size), W.reshape(-1, 1), **options)
    full_elapsed = time.perf_counter() - begin
    flags = []
    for i in np.flatnonzero((estimate.status != engine.OK) | (full.status != engine.OK)):
        ours, theirs = (e.error[i, 0] / abs(e.value[i, 0]) for e in (estimate, full))
        flags.append(
            f"W[{i // 10},{i % 10}] estimate {ours:.2e} relative, in full {theirs:.2e}, true error "
            f"{error[i] / abs(exact[i]):.1e}"
        )
    return [
        "Softmax cross-entropy `-sum(t*log(softmax(x @ W)))`, gradient by W of shape 784x10 (7,840 variables), x",
        "uniform in [0, 1], t one-hot, W ~ 0.01 N(0, 1); `method='auto'` as `numdiff grad` calls it (kink test: "
        f"{'yes' if options['check_kink'] else 'no, the expression cannot have a kink'}),",
        "one run:",
        "",
        f"- time {elapsed:.2f} s; {function.points / W.size:.1f} evaluations per component on average, {estimate.nfev} "
        "at most; "
        f"{int((estimate.status != engine.OK).sum())} components flagged",
        f"- peak resident memory of the process {peak / 1024:.0f} MB (measured first in the run; before the gradient:"
        f" {before / 1024:.0f} MB: Python, numpy, scipy, sympy)",
        f"- largest error against the closed form outer(x, softmax(x@W) - t): {error.max():.1e} "
        f"({error.max() / scale:.1e} of the largest component)",
        f"- with the perturbed points built in full (measured after, so not in the peak): time {full_elapsed:.2f} s; "
        f"{int((full.status != engine.OK).sum())} components flagged",
        f"- components flagged either way: {'; '.join(flags) if flags else 'none'}",
    ]


# Digits at one point are a few samples of errors that are a few ulps of f over the step: the median of 10
# components moves by tenths of a digit from one point to the next. The same measure pooled over many points:
# (n, number of points).
MANY_POINTS = ((10, 40), (100, 10))


def many_points() -> list[str]:
    """Digits pooled over many random points (all components of all points), per n of :data:`MANY_POINTS`."""
    rng = np.random.default_rng(11)
    out = [
        "",
        "## Digits pooled over many random points",
        "",
        "The components of the gradients at random points in [-1, 1]^n, pooled: min / median digits, computed as in",
        "the tables above, numdiff called as there.",
        "",
        "| function | n, points | numdiff | scipy | numdifftools |",
        "|---|---|---:|---:|---:|",
    ]
    for title, text_of, numpy_function, exact_of in CASES:
        for n, count in MANY_POINTS:
            bound = bind(parse_expression(text_of(n)), {"x": (n,)}, {})
            options = {"analytic": True, "check_kink": not bound.smooth}
            pooled: list[list[float]] = [[], [], []]
            for _ in range(count):
                x = rng.uniform(-1, 1, n)
                exact = exact_of(x)
                values = (
                    engine.gradient(bound.function, x[:, None], **options).value[:, 0],
                    scipy_jacobian(numpy_function, x).df,
                    numdifftools.Gradient(lambda v, f=numpy_function: f(np.asarray(v)))(x),
                )
                for into, value in zip(pooled, values):
                    into.extend(component_digits(value, exact))
            cells = [f"{min(d):.2f} / {float(np.median(d)):.2f}" for d in pooled]
            out.append(f"| {title} | {n}, {count} | {' | '.join(cells)} |")
    return out


def main() -> None:
    # As the numdiff command runs: the C allocator's thresholds fixed at its start (numdiff_cli/allocator.py);
    # the peers run in the same process, under the same.
    from numdiff_cli.allocator import keep_arrays_in_heap

    fixed = keep_arrays_in_heap()
    # First, so that the process's peak memory is this case's (the peers' n = 1000 runs come later).
    load_before = os.getloadavg()
    cross_entropy = softmax_cross_entropy()
    rng = np.random.default_rng(3)
    out = [
        "# Gradient benchmark",
        "",
        "Generated by `python benchmarks/gradient.py > benchmarks/gradient.md`; all rows measured in the same run,",
        "in one process that fixed the C allocator's thresholds as the numdiff command does at its start",
        f"(numdiff_cli/allocator.py: {'fixed' if fixed else 'not available, left as they were'};",
        "the peers run in it too).",
        "Two functions at one random point in [-1, 1]^n. numdiff: `engine.gradient(f, X, method='auto',",
        "analytic=True, check_kink=...)` as `numdiff grad` calls it for an analytic expression (the components its",
        "fast pass vouches for take the complex step's value where the two agree within the fast pass's error, one",
        "complex evaluation; those its real passes cannot vouch for get the complex step, checked by central",
        "differences; the kink test, 7 evaluations per component, unless the",
        "expression cannot have a kink: neither function here, whose log1p is of 1 + sum(x**2), can; the",
        "components where the fast pass sees its second differences grow get it all the same) of the function",
        "written as an expression of array values and compiled as `numdiff grad` compiles it. From",
        f"{STRUCTURED_FROM} variables on, its batches of perturbed points (each the point with one variable moved)",
        "are evaluated structured: the base point once, then per perturbed point only the elements that differ,",
        "reductions (sum, prod, @ with a fixed operand, ...) as the base value plus the change, anything else as",
        "the dense batch (numdiff_cli/perturbed.py): O(n) work per batch of 2n points instead of O(n^2); below",
        f"{STRUCTURED_FROM} variables (n = 10 here), the 2n points are rows of batched dense array calls. The",
        "column 'numdiff, points in full' is the same gradient of the same function passed as a plain callable, so",
        "that every perturbed point is built and evaluated in full (how numdiff evaluated them before): at n = 10",
        "both columns are the same evaluation, and the difference of their times is the noise of the machine. scipy:",
        "`scipy.differentiate.jacobian(f, x)` with its defaults; numdifftools: `numdifftools.Gradient(f)(x)` with its",
        "defaults, both on the function written in numpy. Time: best of 41, 21 and 7 rounds (n = 10, 100, 1000) of",
        "one whole gradient, the four calls alternating within a round, in an order drawn afresh for each round.",
        "Digits: min / median over the n components against mpmath at 50 digits. Evaluations: points at which",
        "each library evaluated f, per component (numdiff's first pass: 11, and the complex value: 1;",
        "components it cannot vouch for get 14 more instead, then 16 at smaller steps (and 12 where they measure the",
        "rounding of f), and if needed the wide search's 128; and the kink test's 7).",
        "numdiff's error estimates: the share of components whose estimate bounds the true error within a",
        "factor 10, and the number of components flagged (estimated relative error above 1e-10).",
        "",
        *machine(),
    ]
    ratios: dict[str, list[float]] = {title: [] for title, *_ in CASES}
    for title, text_of, numpy_function, exact_of in CASES:
        out += [
            "",
            f"## {title}",
            "",
            "| n | numdiff auto time | evaluations | numdiff digits (min / median) | numdiff error bounds / flagged "
            "| numdiff, points in full: time / evaluations / digits / flagged "
            "| scipy time | evaluations | scipy digits | scipy / numdiff time "
            "| numdifftools time | evaluations | numdifftools digits | numdifftools / numdiff time |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for n in DIMENSIONS:
            x = rng.uniform(-1, 1, n)
            exact = exact_of(x)
            bound = bind(parse_expression(text_of(n)), {"x": (n,)}, {})
            ours_function = bound.function
            # As numdiff grad calls it (see the header): the kink test where the expression is not smooth.
            options = {"analytic": True, "check_kink": not bound.smooth}
            # The same function without its structured evaluation: the perturbed points built in full.
            full_function = Counted(ours_function, n)
            nd_gradient = numdifftools.Gradient(lambda v, f=numpy_function: f(np.asarray(v)))
            (ours_time, full_time, theirs_time, nd_time), (ours, full, theirs, nd) = best_times(
                [
                    lambda x=x, f=ours_function, o=options: engine.gradient(f, x[:, None], **o).value[:, 0],
                    lambda x=x, f=full_function, o=options: engine.gradient(f, x[:, None], **o).value[:, 0],
                    lambda x=x, f=numpy_function: scipy_jacobian(f, x).df,
                    lambda x=x, g=nd_gradient: g(x),
                ],
                rounds=ROUNDS[n],
            )
            estimate = engine.gradient(ours_function, x[:, None], **options)
            with mpmath.workdps(50):
                true_errors = [float(abs(mpmath.mpf(v) - r)) for v, r in zip(estimate.value[:, 0].tolist(), exact)]
            bounded = float(np.mean(estimate.error[:, 0] >= np.array(true_errors) / 10))
            counts = (
                evaluations(lambda g, x=x, o=options: engine.gradient(g, x[:, None], **o), ours_function, n),
                evaluations(lambda g, x=x: scipy_jacobian(g, x), numpy_function, n),
                evaluations(lambda g, x=x: numdifftools.Gradient(lambda p: g(np.asarray(p)))(x), numpy_function, n),
            )
            flagged = int((estimate.status != engine.OK).sum())
            full_function.points = 0
            full_flagged = int((engine.gradient(full_function, x[:, None], **options).status != engine.OK).sum())
            full_digits = digits(full, exact)
            ratios[title].append(theirs_time / ours_time)
            ours_digits, theirs_digits, nd_digits = digits(ours, exact), digits(theirs, exact), digits(nd, exact)
            out.append(
                f"| {n} | {ours_time * 1e3:.2f} ms | {counts[0]:.1f} | {ours_digits[0]:.2f} / {ours_digits[1]:.2f} "
                f"| {bounded:.0%} / {flagged} "
                f"| {full_time * 1e3:.2f} ms / {full_function.points / n:.1f} / {full_digits[0]:.2f} / {full_flagged} "
                f"| {theirs_time * 1e3:.2f} ms | {counts[1]:.1f} | {theirs_digits[0]:.2f} / {theirs_digits[1]:.2f} "
                f"| {theirs_time / ours_time:.1f}x | {nd_time * 1e3:.2f} ms | {counts[2]:.1f} "
                f"| {nd_digits[0]:.2f} / {nd_digits[1]:.2f} | {nd_time / ours_time:.1f}x |"
            )
    out += many_points()
    out += ["", "## Softmax cross-entropy by a weight matrix", "", *cross_entropy]
    load_after = os.getloadavg()
    out += [
        "",
        "## Load",
        "",
        "The machine is shared: its load average (1, 5, 15 minutes) was "
        f"{', '.join(f'{v:.2f}' for v in load_before)} when the run began and "
        f"{', '.join(f'{v:.2f}' for v in load_after)} when it ended; times are the best of the rounds, so a busy",
        "moment costs a library a round, not its row. scipy / numdiff time at n = "
        f"{', '.join(map(str, DIMENSIONS))}: "
        + "; ".join(f"{title}: {', '.join(f'{r:.1f}x' for r in values)}" for title, values in ratios.items()),
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
