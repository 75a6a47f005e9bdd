"""Throughput, memory and start-up of numdiff against its baselines, measured side by side in one run.

    python benchmarks/throughput.py [--quick] [--output benchmarks/throughput.md]

Every comparison is a ratio against a baseline measured in the same run, with the runs interleaved and repeated
(the best and the median are reported), because absolute times on a shared machine are noisy. Needs the
``bench`` extra (scipy, numdifftools) and the ``numdiff`` console script next to this interpreter.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

BIN = Path(sys.executable).parent
NUMDIFF = str(BIN / "numdiff") if (BIN / "numdiff").exists() else "numdiff"
PYTHON = sys.executable
EXPR = "sin(x)"

# The hand-written baseline: read the same text, central difference with the textbook step, print with repr.
NUMPY_SCRIPT = """
import sys
import numpy as np
x = np.array(sys.stdin.read().split(), dtype=float)
h = np.finfo(float).eps ** (1 / 3) * np.maximum(1.0, np.abs(x))
h = (x + h) - x
d = (np.sin(x + h) - np.sin(x - h)) / (2 * h)
sys.stdout.write("\\n".join(map(repr, d.tolist())) + "\\n")
"""


TIME = "/usr/bin/time"


def run(
    command: list[str], stdin: Any = None, env: dict[str, str] | None = None, rss: bool = False
) -> tuple[float, float, int]:
    """Wall time (s), peak RSS (MB, with ``rss``; else NaN) and exit status of one process; output discarded.

    The peak RSS comes from GNU time, not from this process's ``wait4``: on Linux a child's ``ru_maxrss``
    includes the memory of the process that forked it (here, this benchmark with its arrays), so it must be
    forked by a small one.
    """
    report = None
    if rss:
        handle, report = tempfile.mkstemp(suffix=".rss")
        os.close(handle)
        command = [TIME, "-f", "%M", "-o", report, *command]
    started = time.perf_counter()
    completed = subprocess.run(
        command,
        stdin=stdin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        check=False,
    )
    elapsed = time.perf_counter() - started
    peak = math.nan
    if report is not None:
        text = Path(report).read_text().split()
        os.unlink(report)
        peak = int(text[-1]) / 1024
    return elapsed, peak, completed.returncode


def interleaved(cases: dict[str, Callable[[], tuple[float, float, int]]], repeats: int) -> dict[str, dict[str, Any]]:
    """Run every case once per round, ``repeats`` rounds; best and median time, peak RSS, exit statuses."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    rss: dict[str, float] = dict.fromkeys(cases, math.nan)
    codes: dict[str, set[int]] = {name: set() for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():
            seconds, peak, code = case()
            times[name].append(seconds)
            rss[name] = peak if math.isnan(rss[name]) else max(rss[name], peak)
            codes[name].add(code)
    return {
        name: {
            "best": min(times[name]),
            "median": statistics.median(times[name]),
            "rss": rss[name],
            "codes": codes[name],
        }
        for name in cases
    }


def from_file(
    path: Path, command: list[str], env: dict[str, str] | None = None
) -> Callable[[], tuple[float, float, int]]:
    def case() -> tuple[float, float, int]:
        with open(path, "rb") as stdin:
            return run(command, stdin, env, rss=True)

    return case


def streamed(count: int, command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """``seq 1 COUNT | numdiff ...``: the pipeline's time and numdiff's peak RSS (GNU time's, see :func:`run`)."""
    seq = subprocess.Popen(["seq", "1", str(count)], stdout=subprocess.PIPE)
    try:
        return run(command, seq.stdout, env, rss=True)
    finally:
        assert seq.stdout is not None
        seq.stdout.close()
        seq.wait()


def digits(estimate: np.ndarray, exact: np.ndarray) -> tuple[float, float]:
    """Correct significant digits, worst and median: -log10(|error| / max(1, |exact|)), capped at 16."""
    error = np.abs(estimate - exact) / np.maximum(1.0, np.abs(exact))
    error = np.where(np.isfinite(error), error, 1.0)
    correct = np.minimum(16.0, -np.log10(np.maximum(error, 1e-16)))
    return float(correct.min()), float(np.median(correct))


def engine_comparison(sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    """In-process: numdiff's engine (auto, central) against scipy.differentiate and numdifftools, f = exp(sin x)."""
    import numdifftools as nd
    from scipy.differentiate import derivative as scipy_derivative

    from numdiff_cli.engine import derivative

    def f(x: np.ndarray) -> np.ndarray:
        return np.exp(np.sin(x))

    def exact(x: np.ndarray) -> np.ndarray:
        return np.cos(x) * np.exp(np.sin(x))

    methods: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "numdiff auto": lambda x: derivative(f, x, method="auto").value,
        "numdiff central": lambda x: derivative(f, x, method="central").value,
        "scipy.differentiate.derivative": lambda x: scipy_derivative(f, x).df,
        "numdifftools.Derivative": lambda x: nd.Derivative(f)(x),
    }
    rows = []
    for size in sizes:
        x = np.linspace(-10, 10, size)
        reference = exact(x)
        for name, method in methods.items():
            if name == "numdifftools.Derivative" and size > 100_000:
                # numdifftools holds all its steps for all points at once; above 1e5 points it is run on
                # 1e5-point slices (its throughput per point does not depend on the slicing).
                def method_sliced(x: np.ndarray, method: Callable[[np.ndarray], np.ndarray] = method) -> np.ndarray:
                    return np.concatenate([method(x[i : i + 100_000]) for i in range(0, len(x), 100_000)])

                chosen = method_sliced
            else:
                chosen = method
            times = []
            for _ in range(repeats if size <= 100_000 else 1):
                started = time.perf_counter()
                value = chosen(x)
                times.append(time.perf_counter() - started)
            worst, median = digits(np.asarray(value), reference)
            rows.append({"size": size, "method": name, "seconds": min(times), "worst": worst, "median": median})
    return rows


def auto_profile(x: np.ndarray) -> tuple[float, float, float]:
    """Engine ``auto`` on sin at ``x`` in process, in the CLI's chunks: seconds, and the shares of the points
    its fast pass leaves to the relative first pass and to the wide search, counted by wrapping the numerics'
    search function (called once per pass on the points still unsettled)."""
    from numdiff_cli import engine
    from numdiff_cli.numerics import adaptive
    from numdiff_cli.numerics.steps import FIRST_PASS_STEPS, WIDE_SEARCH_STEPS

    counts = {FIRST_PASS_STEPS: 0, WIDE_SEARCH_STEPS: 0}
    original = adaptive.richardson_search

    def counting(along: Any, xs: np.ndarray, steps: np.ndarray, order: int, sel: Any, **options: Any) -> Any:
        counts[len(steps)] = counts.get(len(steps), 0) + xs.size
        return original(along, xs, steps, order, sel, **options)

    adaptive.richardson_search = counting
    try:
        started = time.perf_counter()
        for begin in range(0, len(x), 65_536):  # the CLI's chunks
            engine.derivative(np.sin, x[begin : begin + 65_536], method="auto")
        seconds = time.perf_counter() - started
    finally:
        adaptive.richardson_search = original
    return seconds, counts[FIRST_PASS_STEPS] / len(x), counts[WIDE_SEARCH_STEPS] / len(x)


def _logspace(low: float, high: float) -> Callable[[np.random.Generator, int], np.ndarray]:
    def sample(rng: np.random.Generator, n: int) -> np.ndarray:
        return np.exp(rng.uniform(np.log(low), np.log(high), n))

    return sample


def _uniform(low: float, high: float) -> Callable[[np.random.Generator, int], np.ndarray]:
    def sample(rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(low, high, n)

    return sample


# The families of issue 15: (family, f as written, f, exact f', points, the size below which |f'| counts as about 0
# for digits: the derivative's typical size where f' has zeros, else 0 for digits relative to f' itself).
FAMILIES: list[tuple[str, str, Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray], Any, float]] = [
    (
        "scale 1",
        "exp(sin(x)), x in [-10, 10]",
        lambda x: np.exp(np.sin(x)),
        lambda x: np.cos(x) * np.exp(np.sin(x)),
        _uniform(-10, 10),
        1.0,
    ),
    ("large |x|", "log(x), x in [1e3, 1e6]", np.log, lambda x: 1 / x, _logspace(1e3, 1e6), 0.0),
    ("near a pole", "1/x, x in [1e-4, 1e-2]", lambda x: 1 / x, lambda x: -1 / x**2, _logspace(1e-4, 1e-2), 0.0),
    ("domain edge", "sqrt(x), x in [1e-6, 1e-2]", np.sqrt, lambda x: 0.5 / np.sqrt(x), _logspace(1e-6, 1e-2), 0.0),
    (
        "domain edge",
        "x**2.5, x in [1e-6, 1e-2]",
        lambda x: x**2.5,
        lambda x: 2.5 * x**1.5,
        _logspace(1e-6, 1e-2),
        0.0,
    ),
    (
        "high frequency",
        "sin(50*x), x in [-1, 1]",
        lambda x: np.sin(50 * x),
        lambda x: 50 * np.cos(50 * x),
        _uniform(-1, 1),
        50.0,
    ),
    (
        "slowly varying",
        "exp(x/1000), x in [-10, 10]",
        lambda x: np.exp(x / 1000),
        lambda x: np.exp(x / 1000) / 1000,
        _uniform(-10, 10),
        0.0,
    ),
    (
        "steep sigmoid",
        "tanh(100*x), x in [-0.05, 0.05]",
        lambda x: np.tanh(100 * x),
        lambda x: 100 / np.cosh(100 * x) ** 2,
        _uniform(-0.05, 0.05),
        0.0,
    ),
]


def family_digits(estimate: np.ndarray, exact: np.ndarray, about_zero: float) -> tuple[float, float]:
    """Correct digits, worst and median: -log10(|error| / max(|f'|, about_zero)), capped at 16 (0 where not
    finite)."""
    with np.errstate(all="ignore"):
        error = np.abs(estimate - exact) / np.maximum(np.abs(exact), about_zero)
        correct = np.minimum(16.0, -np.log10(np.maximum(error, 1e-16)))
    correct = np.where(np.isfinite(correct), correct, 0.0)
    return float(correct.min()), float(np.median(correct))


def pass_profile(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """``auto`` (the engine's adaptive scheme, order 1) on f at ``x``, instrumented: the evaluations of f per point,
    and the share of points settled by each pass (the last pass that computed the point; "not vouched" for the
    points it leaves flagged). Counted by wrapping the passes' functions, which are called with the indices of the
    points they compute."""
    from numdiff_cli.numerics import adaptive, fine, scaled

    evaluations = np.zeros(x.size)
    last = np.zeros(x.size, dtype=int)
    names = ["fast pass", "scaled, round 1", "scaled, round 2", "relative first pass", "wide search", "fine pass"]
    rounds = [0]

    def along(t: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
        evaluations[slice(None) if sel is None else sel] += t.shape[0]
        return f((x if sel is None else x[sel]) + t)

    def mark(pass_index: int, points: Any) -> None:
        last[slice(None) if points is None else points] = pass_index

    original_blocks = scaled.fast_blocks
    original_search = adaptive.richardson_search
    original_fine = fine.fine_search

    def fast_pass(along: Any, flat_x: Any, order: int, points: Any, *rest: Any, **options: Any) -> Any:
        # (With points: the fast pass again on the few a scaled round did not improve, for its deferred search.)
        mark(0, points)
        return original_blocks(along, flat_x, order, points, *rest, **options)

    def scaled_round(along: Any, flat_x: Any, order: int, points: Any, *rest: Any, **options: Any) -> Any:
        rounds[0] += 1
        mark(rounds[0], points)
        return original_blocks(along, flat_x, order, points, *rest, **options)

    def richardson_search(along: Any, xs: Any, steps: Any, order: int, sel: Any, **options: Any) -> Any:
        mark(4 if len(steps) > 8 else 3, sel)
        return original_search(along, xs, steps, order, sel, **options)

    def fine_search(along: Any, xs: Any, step: Any, order: int, sel: Any, *rest: Any) -> Any:
        mark(5, sel)
        return original_fine(along, xs, step, order, sel, *rest)

    # The fast pass calls fast_blocks from adaptive, the scaled rounds from scaled; the fine pass is refine's, in fine.
    patches = [
        (adaptive, "fast_blocks", fast_pass),
        (scaled, "fast_blocks", scaled_round),
        (adaptive, "richardson_search", richardson_search),
        (fine, "fine_search", fine_search),
    ]
    saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
    for module, name, wrapper in patches:
        setattr(module, name, wrapper)
    try:
        result = adaptive.adaptive(along, x, order=1)
    finally:
        for module, name, original in saved:
            setattr(module, name, original)
    shares = {name: float(np.mean((last == k) & (result.status == 0))) for k, name in enumerate(names)}
    shares["not vouched"] = float(np.mean(result.status != 0))
    return evaluations, shares


def leanest_pass(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """The least arithmetic any pass of ``auto`` could do: the fast pass's five steps (times ``unit``), one call of f
    per block of points as ``auto`` makes it, the central differences and their Richardson tableau, and the larger
    gap of the last entry as its error; no rounding estimate, no guard, no second pass. Not a method (it vouches for
    nothing): the floor of the cost of one honest pass of ten evaluations in numpy."""
    from numdiff_cli.numerics.blocks import fast_block
    from numdiff_cli.numerics.steps import FAST_STEPS

    width = fast_block() // (2 * len(FAST_STEPS))
    value, error = np.empty(x.size), np.empty(x.size)
    for begin in range(0, x.size, width):
        xs, u = x[begin : begin + width], unit[begin : begin + width]
        h = np.asarray(FAST_STEPS)[:, None] * u[None]
        values = f(np.concatenate([xs + h, xs - h]))
        table = [(values[: len(FAST_STEPS)] - values[len(FAST_STEPS) :]) / (2 * h)]
        squares = h * h
        for level in range(1, len(FAST_STEPS) - 1):
            below = table[-1]
            table.append(below[1:] + (below[1:] - below[:-1]) / (squares[:-level] / squares[level:] - 1))
        last = table[-1][1]
        value[begin : begin + width] = last
        error[begin : begin + width] = np.maximum(np.abs(last - table[-1][0]), np.abs(last - table[-2][-1]))
    return value


def one_family(
    index: int,
    family: str,
    label: str,
    f: Callable[[np.ndarray], np.ndarray],
    exact: Callable[[np.ndarray], np.ndarray],
    sample: Any,
    about_zero: float,
    count: int,
    repeats: int,
) -> dict[str, Any]:
    """One row of :func:`family_comparison`."""
    from scipy.differentiate import derivative as scipy_derivative

    from numdiff_cli.engine import derivative

    x = sample(np.random.default_rng(index), count)
    reference = exact(x)
    inside = [0.0]

    def timed(t: np.ndarray) -> np.ndarray:
        started = time.perf_counter()
        try:
            return f(t)
        finally:
            inside[0] += time.perf_counter() - started

    def central() -> np.ndarray:
        h = np.finfo(float).eps ** (1 / 3) * np.maximum(1.0, np.abs(x))
        h = (x + h) - x
        return (f(x + h) - f(x - h)) / (2 * h)

    # (The leanest pass's unit keeps its steps inside the domain of every family, as auto's scaled pass does.)
    unit = np.minimum(1.0, np.abs(x)) / 2
    methods: dict[str, Callable[[], np.ndarray]] = {
        "numdiff auto": lambda: derivative(timed, x).value,
        "scipy": lambda: scipy_derivative(f, x).df,
        "central": central,
        "leanest pass": lambda: leanest_pass(timed, x, unit),
    }
    times: dict[str, list[float]] = {name: [] for name in methods}
    values: dict[str, np.ndarray] = {}
    inside_share, lean_share = [], []
    with np.errstate(all="ignore"):
        for _ in range(repeats):
            for name, method in methods.items():
                inside[0] = 0.0
                started = time.perf_counter()
                values[name] = np.asarray(method())
                times[name].append(time.perf_counter() - started)
                if name == "numdiff auto":
                    inside_share.append(inside[0] / times[name][-1])
                if name == "leanest pass":
                    lean_share.append(inside[0] / times[name][-1])
        evaluations, shares = pass_profile(f, x)
    return {
        "family": family,
        "label": label,
        "seconds": {name: min(t) for name, t in times.items()},
        "digits": {
            name: family_digits(values[name], reference, about_zero) for name in ("numdiff auto", "scipy", "central")
        },
        "median evaluations": float(np.median(evaluations)),
        "mean evaluations": float(np.mean(evaluations)),
        "shares": shares,
        "inside f": float(np.median(inside_share)),
        "lean inside f": float(np.median(lean_share)),
    }


# numdiff auto per family in a fresh process whose C allocator is left as a library caller gets it (see
# numdiff_cli/allocator.py; the in-process rows run as the numdiff command sets it up): its best time per
# family, JSON.
UNTOUCHED = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import throughput
from numdiff_cli.engine import derivative
count, repeats, best = int(sys.argv[2]), int(sys.argv[3]), {}
for index, (family, label, f, exact, sample, about_zero) in enumerate(throughput.FAMILIES):
    x = sample(np.random.default_rng(index), count)
    times = []
    with np.errstate(all="ignore"):
        for _ in range(repeats):
            started = time.perf_counter()
            derivative(f, x)
            times.append(time.perf_counter() - started)
    best[label] = min(times)
print(json.dumps(best))
"""


def untouched_allocator(count: int, repeats: int) -> dict[str, float]:
    """UNTOUCHED's best times of numdiff auto per family (seconds, by label)."""
    import json

    done = subprocess.run(
        [PYTHON, "-c", UNTOUCHED, str(Path(__file__).parent), str(count), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    best: dict[str, float] = json.loads(done.stdout)
    return best


def family_comparison(count: int, repeats: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Per family of FAMILIES, ``count`` random points (seeded): the engine's ``auto`` (in process, as the CLI calls
    it, f timed), scipy.differentiate.derivative with its defaults and a hand-written central difference
    (``eps**(1/3) * max(1, |x|)``), interleaved, best of ``repeats``."""
    rows = [
        one_family(index, family, label, f, exact, sample, about_zero, count, repeats)
        for index, (family, label, f, exact, sample, about_zero) in enumerate(FAMILIES)
    ]
    untouched = untouched_allocator(count, repeats)
    lines = [
        f"## Engine throughput by function family, in process ({count:,} points each)",
        "",
        "Each family at random points (seeded): numdiff's engine `auto` (`numdiff_cli.engine.derivative`, as the CLI "
        "calls it, order 1), `scipy.differentiate.derivative` with its defaults, and a hand-written central "
        "difference with the textbook step `eps**(1/3) * max(1, |x|)`, interleaved, best of "
        f"{repeats}. Digits: -log10(|error| / |f'|), capped at 16 (for the two families where f' has zeros: "
        "/ max(|f'|, 1) and / max(|f'|, 50), the derivative's typical size); worst / median over the points. "
        "Evaluations per point counted on the evaluations themselves; the pass that settled a point is the last "
        "that computed it (points left flagged are counted apart); the share of time inside f is f's wall time "
        "within `auto`'s; 'f alone vs scipy' is scipy's time over that time inside f: the speed `auto` would have "
        "at its evaluations if all its own arithmetic cost nothing (the ceiling of its design on each family). "
        "The last column: `auto` on the same points in a fresh process whose C allocator is left as a library "
        "caller gets it (the rows before run with its thresholds fixed, as the numdiff command fixes them: see "
        "the note at the top), best of as many runs.",
        "",
        "| family | f, points | auto (ms) | scipy (ms) | central (ms) | speed vs scipy | auto digits | scipy digits "
        "| central digits | evaluations per point, median (mean) | time inside f | f alone vs scipy "
        "| auto, allocator untouched (ms) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        seconds, digits_ = row["seconds"], row["digits"]
        lines.append(
            f"| {row['family']} | `{row['label']}` | {1000 * seconds['numdiff auto']:.1f} | "
            f"{1000 * seconds['scipy']:.1f} | {1000 * seconds['central']:.1f} | "
            f"{seconds['scipy'] / seconds['numdiff auto']:.2f}x | "
            + " | ".join(
                f"{digits_[name][0]:.1f} / {digits_[name][1]:.1f}" for name in ("numdiff auto", "scipy", "central")
            )
            + f" | {row['median evaluations']:.0f} ({row['mean evaluations']:.1f}) | {100 * row['inside f']:.0f}% "
            f"| {seconds['scipy'] / (row['inside f'] * seconds['numdiff auto']):.1f}x "
            f"| {1000 * untouched[row['label']]:.1f} |"
        )
    names = list(rows[0]["shares"])
    lines += [
        "",
        "Share of points settled by each pass:",
        "",
        "| f | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for row in rows:
        lines.append(f"| `{row['label']}` | " + " | ".join(f"{100 * row['shares'][n]:.2f}%" for n in names) + " |")
    lines += [
        "",
        "The floor of the design: the leanest pass numpy allows (benchmarks/throughput.py: `leanest_pass`): the fast "
        "pass's ten evaluations in the same blocks of points, the central differences, their Richardson tableau and "
        "the larger gap of the last entry as its error, and nothing else (no rounding estimate, no guard against a "
        "false plateau, a kink or a step beyond the domain: it vouches for nothing). Measured in the same rounds as "
        "the rows above. Where the fast pass does not settle a family (all but the first), `auto` needs it and one "
        "scaled pass at least: two such passes.",
        "",
        "| f | leanest pass (ms) | time inside f | scipy / leanest pass | scipy / two leanest passes | auto / leanest "
        "pass |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        seconds = row["seconds"]
        lean = seconds["leanest pass"]
        lines.append(
            f"| `{row['label']}` | {1000 * lean:.1f} | {100 * row['lean inside f']:.0f}% | "
            f"{seconds['scipy'] / lean:.1f}x | {seconds['scipy'] / (2 * lean):.1f}x | "
            f"{seconds['numdiff auto'] / lean:.1f}x |"
        )
    lines.append("")
    return rows, lines


def wide_search_comparison(count: int, repeats: int, shares: dict[str, float]) -> list[str]:
    """The wide search alone (the fallback of ``auto``: 64 steps over 13 decades, its tableau and guards) on the first
    ``count`` points of three families, as if every point went there: its time per point, the share of it inside f,
    against scipy.differentiate.derivative on the same points (the baseline, in the same rounds). ``shares``: the share
    of each family's points that went there in the family comparison (by label)."""
    from scipy.differentiate import derivative as scipy_derivative

    from numdiff_cli.numerics.adaptive import wide_search
    from numdiff_cli.numerics.steps import WIDE_SEARCH_STEPS

    lines = [
        "## The wide search, where it still runs",
        "",
        "`auto`'s last resort (the points the passes above leave, in the family comparison: "
        + ", ".join(f"{100 * share:.2f}% of `{label.split(',')[0]}`'s" for label, share in shares.items())
        + f") run alone on {count:,} "
        f"points of each family, as if every point went there: {2 * WIDE_SEARCH_STEPS} evaluations per point in "
        "blocks, the tableau of 64 steps and its guards (numdiff_cli.numerics.adaptive.wide_search); scipy on the "
        f"same points in the same rounds; best of {repeats}.",
        "",
        "| f | wide search (ms) | per point (us) | time inside f | wide search / scipy time |",
        "|---|---:|---:|---:|---:|",
    ]
    for index, (_, label, f, _, sample, _) in enumerate(FAMILIES):
        if label.split(",")[0] not in ("exp(sin(x))", "log(x)", "tanh(100*x)"):
            continue
        x = sample(np.random.default_rng(index), count)
        inside = [0.0]

        def along(
            t: np.ndarray, sel: np.ndarray | None, x: np.ndarray = x, f: Any = f, inside: list[float] = inside
        ) -> np.ndarray:
            points = (x if sel is None else x[sel]) + t
            started = time.perf_counter()
            try:
                return f(points)
            finally:
                inside[0] += time.perf_counter() - started

        def search(x: np.ndarray = x, along: Any = along) -> None:
            outputs = [np.zeros(x.size) for _ in range(4)]
            wide_search(along, x, np.arange(x.size), 1, *outputs, np.ones(x.size))

        wide, theirs, shares = [], [], []
        with np.errstate(all="ignore"):
            for _ in range(repeats):
                inside[0] = 0.0
                started = time.perf_counter()
                search()
                wide.append(time.perf_counter() - started)
                shares.append(inside[0] / wide[-1])
                started = time.perf_counter()
                scipy_derivative(f, x)
                theirs.append(time.perf_counter() - started)
        best = min(wide)
        lines.append(
            f"| `{label}` | {1000 * best:.1f} | {1e6 * best / count:.1f} | {100 * float(np.median(shares)):.0f}% | "
            f"{best / min(theirs):.1f}x |"
        )
    lines.append("")
    return lines


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GB"
    except OSError:
        pass
    from importlib.metadata import version

    import numdifftools
    import scipy
    import sympy

    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores, {memory} RAM; {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, sympy {sympy.__version__}, "
        f"click {version('click')}, scipy {scipy.__version__}, numdifftools {numdifftools.__version__}",
        f"- Load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (a machine shared with other "
        "jobs: absolute times are noisy, the ratios within one run are what counts)",
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and points (a smoke run)")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("throughput.md"))
    options = parser.parse_args()
    quick = options.quick
    n_stream = 100_000 if quick else 1_000_000
    repeats = 2 if quick else 3
    start_repeats = 5 if quick else 15
    lines = ["# numdiff throughput, memory and start-up", "", "Generated by `python benchmarks/throughput.py`.", ""]
    lines += ["## Machine", "", *machine(), ""]
    began = time.time()
    # The in-process sections run as the numdiff command runs: with the C allocator's thresholds fixed at its start.
    from numdiff_cli.allocator import keep_arrays_in_heap

    fixed = keep_arrays_in_heap()
    # Byte-compile numdiff as `pip install` does for a regular install (an editable install under
    # PYTHONDONTWRITEBYTECODE would recompile it on every call, which no installed copy does).
    import numdiff_cli

    subprocess.run([PYTHON, "-m", "compileall", "-q", str(Path(numdiff_cli.__file__).parent)], check=True)
    lines += [
        "numdiff's modules are byte-compiled first, as `pip install` does (the editable install of this run "
        "would otherwise recompile them on each call).",
        "",
        "The sections measured in process (the engine, by function family, the wide search) run as the numdiff "
        "command runs: with the C allocator's mmap and trim thresholds fixed at its start "
        "(numdiff_cli/allocator.py; "
        + ("fixed in this run" if fixed else "not available here: left as they were")
        + "), "
        "so that the arrays of one pass are served from the heap rather than from pages faulted in again. scipy, "
        "numdifftools and the hand-written baselines run in the same process, under the same thresholds. The "
        "family table also gives `auto` in a fresh process with the allocator left untouched.",
        "",
    ]

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        env = {"XDG_CACHE_HOME": str(work / "cache")}
        points = work / "points.txt"
        points.write_text("\n".join(map(repr, np.linspace(-10, 10, n_stream).tolist())) + "\n")
        large = work / "large.txt"
        large.write_text("".join(f"{i}\n" for i in range(1, n_stream + 1)))
        script = work / "central.py"
        script.write_text(NUMPY_SCRIPT)

        # 1. stdin -> stdout
        diff = [NUMDIFF, "diff", EXPR, "--at", "-", "--format", "plain"]
        run(diff + ["--at", "1"], env=env)  # warm the cache like any repeated call
        stream = interleaved(
            {
                "numpy script": from_file(points, [PYTHON, str(script)]),
                "numdiff --method central": from_file(points, diff + ["--method", "central"], env),
                "numdiff --method auto": from_file(points, diff + ["--method", "auto"], env),
            },
            repeats,
        )
        large_x = interleaved(
            {
                "numpy script": from_file(large, [PYTHON, str(script)]),
                "numdiff --method auto": from_file(large, diff + ["--method", "auto"], env),
            },
            1,
        )
        base = stream["numpy script"]["best"]
        lines += [
            f"## stdin -> stdout, {n_stream:,} points of `{EXPR}`",
            "",
            f"Input: {n_stream:,} evenly spaced points in [-10, 10], one per line (`repr`), read from a file; output "
            "to /dev/null. Baseline: a hand-written numpy script that reads the same text, takes a central "
            "difference with the textbook step and prints with `repr`. "
            f"{repeats} interleaved rounds; ratios of the best times.",
            "",
            "| run | best (s) | median (s) | points/s | peak RSS (MB) | ratio to numpy script | target |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        targets = {"numdiff --method central": 1.5, "numdiff --method auto": 3.0}
        results: dict[str, bool] = {}
        for name, data in stream.items():
            ratio = data["best"] / base
            target = targets.get(name)
            shown = "" if target is None else f"<= {target}x: {verdict(ratio <= target)}"
            if target is not None:
                results[name] = ratio <= target
            lines.append(
                f"| {name} | {data['best']:.2f} | {data['median']:.2f} | {n_stream / data['best']:,.0f} | "
                f"{data['rss']:.0f} | {ratio:.2f}x | {shown} |"
            )
        lines += [
            "",
            f"The same with large |x| (the lines of `seq 1 {n_stream}`), one round (not a target; `auto`'s fast "
            "pass uses absolute steps, which suit sin at any |x|):",
            "",
            "| run | time (s) | ratio to numpy script |",
            "|---|---:|---:|",
        ]
        for name, data in large_x.items():
            lines.append(f"| {name} | {data['best']:.2f} | {data['best'] / large_x['numpy script']['best']:.2f}x |")
        engine_seconds, relative, wide = auto_profile(np.linspace(-10, 10, n_stream))
        lines += [
            "",
            f"Where `auto`'s time goes: the engine alone (in process, same points, same chunks, one run) takes "
            f"{engine_seconds:.2f} s, against {stream['numdiff --method auto']['best']:.2f} s end to end (best "
            f"of the rounds above); the rest is reading and printing, as for `central`. Its fast pass (10 "
            f"evaluations per point) and the scaled passes settle {100 * (1 - relative):.2f}% of the points; "
            f"{100 * relative:.2f}% go on "
            f"to the relative first pass and {100 * wide:.2f}% to the wide search of 64 steps (points next to a zero "
            "of the derivative, where 10 correct digits relative to it cannot be vouched for).",
            "",
        ]

        # 2. Peak RSS, streamed
        counts = [n_stream, n_stream * 10]
        memory = {count: streamed(count, diff + ["--method", "central"], env) for count in counts}
        small, big = memory[counts[0]][1], memory[counts[1]][1]
        lines += [
            "## Peak RSS, streaming",
            "",
            "`seq 1 N | numdiff diff 'sin(x)' --at - --method central` (numdiff's own peak RSS, measured by GNU time):",
            "",
            "| points | time (s) | peak RSS (MB) | exit |",
            "|---:|---:|---:|---:|",
        ]
        for count, (seconds, peak, code) in memory.items():
            lines.append(f"| {count:,} | {seconds:.1f} | {peak:.0f} | {code} |")
        rss_ok = big <= 300 and big <= 1.2 * small
        lines += [
            "",
            f"Target: <= 300 MB and within 1.2x of the smaller run: {big:.0f} MB, {big / small:.2f}x, "
            f"{verdict(rss_ok)}. (`--method auto` peaks at {stream['numdiff --method auto']['rss']:.0f} MB on "
            f"{n_stream:,} points, see above; its chunk size, not the input length, sets it.)",
            "",
        ]

        # 3. Start-up
        cold = work / "cold"
        starts = interleaved(
            {
                'python -c "import click"': lambda: run([PYTHON, "-c", "import click"]),
                'python -c "import sympy, numpy"': lambda: run([PYTHON, "-c", "import sympy, numpy"]),
                "numdiff --help": lambda: run([NUMDIFF, "--help"], env=env),
                "numdiff diff --help": lambda: run([NUMDIFF, "diff", "--help"], env=env),
                "completion (bash_complete)": lambda: run(
                    [NUMDIFF],
                    env={**env, "_NUMDIFF_COMPLETE": "bash_complete", "COMP_WORDS": "numdiff di", "COMP_CWORD": "1"},
                ),
                "numdiff diff, first call (--no-cache)": lambda: run(
                    [NUMDIFF, "diff", "x**2 + 3*x + 5", "--at", "2", "--no-cache"], env=env
                ),
                "numdiff diff, first call (empty cache)": lambda: _fresh_cache_run(cold, env),
                "numdiff diff, repeated (cached)": lambda: run(
                    [NUMDIFF, "diff", "x**2 + 3*x + 5", "--at", "2"], env=env
                ),
            },
            start_repeats,
        )
        click_time = starts['python -c "import click"']["best"]
        heavy_time = starts['python -c "import sympy, numpy"']["best"]
        start_targets: dict[str, tuple[str, float, float]] = {
            "numdiff --help": ("click", click_time, 1.5),
            "numdiff diff --help": ("click", click_time, 1.5),
            "completion (bash_complete)": ("click", click_time, 1.5),
            "numdiff diff, first call (--no-cache)": ("sympy, numpy", heavy_time, 1.2),
            "numdiff diff, first call (empty cache)": ("sympy, numpy", heavy_time, 1.2),
            "numdiff diff, repeated (cached)": ("sympy, numpy", heavy_time, 0.5),
        }
        lines += [
            "## Start-up",
            "",
            f"{start_repeats} interleaved rounds; ratios of the best times against the baseline named in the target.",
            "",
            "| command | best (ms) | median (ms) | ratio | target |",
            "|---|---:|---:|---:|---|",
        ]
        for name, data in starts.items():
            if name in start_targets:
                label, reference, limit = start_targets[name]
                ratio = data["best"] / reference
                results[name] = ratio <= limit
                target = f"<= {limit}x `import {label}`: {verdict(ratio <= limit)}"
                shown = f"{ratio:.2f}x"
            else:
                target, shown = "(baseline)", ""
            lines.append(f"| {name} | {data['best'] * 1000:.0f} | {data['median'] * 1000:.0f} | {shown} | {target} |")
        lines.append("")

    # 4. Engine, in process
    sizes = [1_000, 10_000] if quick else [1_000, 100_000, 1_000_000]
    engine = engine_comparison(sizes, repeats)
    lines += [
        "## Engine throughput, in process",
        "",
        "f(x) = exp(sin(x)) at N points evenly spaced in [-10, 10]; exact f'(x) = cos(x) exp(sin(x)). Digits: "
        "-log10(|error| / max(1, |f'|)), worst and median over the points. scipy and numdifftools with their "
        "default settings. Best of "
        f"{repeats} runs up to 1e5 points, one run above.",
        "",
        "| N | method | time (s) | points/s | speed vs scipy | worst digits | median digits |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        group = [row for row in engine if row["size"] == size]
        scipy_row = next(row for row in group if row["method"].startswith("scipy"))
        for row in group:
            speed = scipy_row["seconds"] / row["seconds"]
            lines.append(
                f"| {size:,} | {row['method']} | {row['seconds']:.4f} | {size / row['seconds']:,.0f} | {speed:.1f}x | "
                f"{row['worst']:.1f} | {row['median']:.1f} |"
            )
        auto = next(row for row in group if row["method"] == "numdiff auto")
        ok = scipy_row["seconds"] / auto["seconds"] >= 3 and auto["worst"] >= scipy_row["worst"]
        results[f"engine auto vs scipy at {size:,}"] = ok
    lines += [""]

    # 5. Engine, by function family
    family_rows, family_lines = family_comparison(10_000 if quick else 100_000, repeats)
    lines += family_lines
    for row in family_rows:
        seconds, digits_ = row["seconds"], row["digits"]
        name = f"`{row['label'].split(',')[0]}`"
        results[f"{name}: >= 3x scipy at >= its digits"] = (
            seconds["scipy"] / seconds["numdiff auto"] >= 3
            and digits_["numdiff auto"][0] >= digits_["scipy"][0]
            and digits_["numdiff auto"][1] >= digits_["scipy"][1]
        )
        results[f"{name}: median evaluations <= 30"] = row["median evaluations"] <= 30
        results[f"{name}: time inside f >= 50%"] = row["inside f"] >= 0.5

    # 6. The wide search alone
    wide_shares = {row["label"]: row["shares"]["wide search"] for row in family_rows}
    lines += wide_search_comparison(2_000 if quick else 20_000, repeats, wide_shares)

    lines += ["## Targets", "", "| target | result |", "|---|---|"]
    for name, ok in results.items():
        lines.append(f"| {name} | {verdict(ok)} |")
    lines += ["", f"Total benchmark time: {time.time() - began:.0f} s; load average at the end: "]
    lines[-1] += " ".join(f"{v:.2f}" for v in os.getloadavg()) + "."
    text = "\n".join(lines) + "\n"
    options.output.write_text(text)
    print(text)


def _fresh_cache_run(directory: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """A first call that also writes the cache entry: the cost a cache adds to a miss."""
    import shutil

    shutil.rmtree(directory, ignore_errors=True)
    return run([NUMDIFF, "diff", "x**2 + 3*x + 5", "--at", "2"], env={**env, "XDG_CACHE_HOME": str(directory)})


if __name__ == "__main__":
    main()
