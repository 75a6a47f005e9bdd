"""Honesty of numerical derivatives on the corpus of benchmarks/honesty_cases.py, for numdiff and its peers.

Run ``python benchmarks/honesty.py > benchmarks/honesty.md`` (needs the ``bench`` extra); ``--fast`` runs the
fast subset only. Every result is classified against a 50-digit reference:

Reference
    The corpus text is turned into a sympy expression with ``sympy.sympify`` (the corpus is our own trusted
    data), float literals replaced by the exact binary value of the double numpy uses. Where the expression has
    non-smooth parts (abs, sign, step, relu, cbrt), each is replaced by its branch on the side of the point; a
    part whose argument is 0 at the point has no derivative there ("no reference"). ``sympy.diff`` gives the
    derivative, evaluated by mpmath at the exact float64 point at 50 digits and again at 80; when the two
    differ by more than 1e-30 of the derivative's scale ``T`` (below), the point has "no reference". A
    derivative that cannot be evaluated at the point is taken as its two-sided limit when that is finite
    (removable singularity, e.g. ``x*(0.5 + 1/(exp(x) - 1))`` at 0); otherwise (infinite slope, outside the
    real domain) the point has no reference.
Scale of the derivative, ``T``, and conditioning floor
    ``L`` is the length scale over which f varies (the case's ``length``, given for oscillating, fast-growing
    or fast-decaying functions; default ``max(|x|, 1)``); ``F`` is the largest ``|f|`` at ``x``, ``x +- L/4``,
    ``x +- L/2`` (points outside the real domain ignored). ``T = F / L**n`` is the size an order-n derivative
    of f has near x. The floor ``eps * F * S_n / (L/2)**n = eps * T * S_n * 2**n`` (``S_n`` = 1, 4, 3, 16,
    the sum of the absolute weights of the central difference of order n) is the rounding error of that
    difference at a step of L/2: the best absolute accuracy to expect where the true derivative is about 0.
Error and digits
    ``err = |value - ref|``; digits ``= -log10(err / max(|ref|, 1e10 * floor))``, capped at 17: significant
    digits, except near a zero of the derivative (``|ref| < 1e10 * floor``), where an error at the floor
    counts as 10 digits. So a result has >= 10 digits exactly when ``err <= max(1e-10 * |ref|, floor)``.
Allowed error
    ``allowed = max(PROMISE[n] * |ref|, floor, 2**-1075)``: numdiff's promise for an unflagged result (relative
    1e-10 for order 1, 1e-11, 1e-10, 1e-8 for orders 2-4, as the README states it), or the conditioning
    floor where the derivative is about 0.
Classes
    FLAGGED: status != 0 (scipy: ``success`` is False), or a non-finite value (NaN/inf shows itself).
    OK: unflagged and ``err <= allowed``.
    LOW: unflagged and ``allowed < err <= 100 * allowed`` (fewer digits than promised, not wrong).
    SILENT-WRONG: unflagged and ``err > 100 * allowed``, or unflagged where there is no reference.
    False alarm: a FLAGGED finite value with a reference and ``err <= allowed``: flagged, yet within the promise.

The same rule is applied to every method, although only numdiff's auto makes this promise: for central,
complex, scipy (default tolerances, rtol = sqrt(eps)) and numdifftools (no flag at all) "silently wrong" means
"would be silently wrong under numdiff's promise".
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from honesty_cases import CASES, Case, fast_points, points

EPS = float(np.finfo(np.float64).eps)
CAP = 17.0
FAR = 100.0  # SILENT-WRONG beyond FAR * allowed; LOW between allowed and FAR * allowed
ALARM_DIGITS = 10.0
STABLE = mpmath.mpf("1e-30")
# Sum of the absolute weights of the central difference of order n:
# (1/2, 1/2), (1, 2, 1), (1/2, 1, 1, 1/2), (1, 4, 6, 4, 1).
STENCIL_SUM = {1: 1, 2: 4, 3: 3, 4: 16}

OK, LOW, FLAGGED, SILENT = "OK", "LOW", "FLAGGED", "SILENT-WRONG"
CLASSES = (OK, LOW, FLAGGED, SILENT)

X = sp.Symbol("x", real=True)
_T = sp.Symbol("t", real=True)
_U = sp.Symbol("u", real=True)
LOCALS = {
    "x": X,
    "e": sp.E,
    "E": sp.E,
    "pi": sp.pi,
    "abs": sp.Abs,
    "sign": sp.sign,
    "step": sp.Heaviside,
    "sigmoid": sp.Lambda(_T, 1 / (1 + sp.exp(-_T))),
    "relu": sp.Lambda(_T, sp.Max(0, _T)),
    "cbrt": sp.Lambda(_T, sp.sign(_T) * sp.Abs(_T) ** sp.Rational(1, 3)),
    "ln": sp.log,
    "log10": sp.Lambda(_T, sp.log(_T) / sp.log(10)),
    "log2": sp.Lambda(_T, sp.log(_T) / sp.log(2)),
    "expm1": sp.Lambda(_T, sp.exp(_T) - 1),
    "log1p": sp.Lambda(_T, sp.log(1 + _T)),
    "hypot": sp.Lambda((_T, _U), sp.sqrt(_T**2 + _U**2)),
}
NONSMOOTH = (sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min)


class NoReference(Exception):
    """The derivative does not exist at the point, or cannot be computed reliably."""


@cache
def sympy_expression(text: str) -> sp.Expr:
    """The corpus text as a sympy expression in ``x`` (trusted corpus data), floats made exact binary values."""
    expr = sp.sympify(text, locals=LOCALS)
    return expr.xreplace({f: sp.Rational(float(f)) for f in expr.atoms(sp.Float)})


def _value(expr: sp.Expr, x: mpmath.mpf) -> mpmath.mpf | mpmath.mpc:
    return _lambdified(expr)(x)


@cache
def _lambdified(expr: sp.Expr) -> Callable[[mpmath.mpf], mpmath.mpf]:
    return sp.lambdify(X, expr, modules="mpmath")


def smooth_branch(expr: sp.Expr, x: mpmath.mpf) -> sp.Expr:
    """``expr`` with each non-smooth part replaced by its smooth branch at ``x``; NoReference where a part's
    argument is 0 at ``x`` (a kink or a jump: no derivative)."""
    if not expr.has(*NONSMOOTH):
        return expr
    args = [smooth_branch(a, x) for a in expr.args]
    if isinstance(expr, NONSMOOTH):
        with mpmath.workdps(60):
            values = [_real(_value(a, x)) if a.has(X) else _real(mpmath.mpf(sp.N(a, 60))) for a in args]
        tiny = mpmath.mpf("1e-40")
        if isinstance(expr, (sp.Max, sp.Min)):
            pick = max if isinstance(expr, sp.Max) else min
            best = pick(values)
            if sum(1 for v in values if abs(v - best) <= tiny * max(1, abs(best))) > 1:
                raise NoReference("kink (max/min tie)")
            return args[values.index(best)]
        a, v = args[0], values[0]  # Heaviside carries its value at 0 as a second argument
        if abs(v) <= tiny:
            raise NoReference("kink or jump at the point")
        s = 1 if v > 0 else -1
        if isinstance(expr, sp.Abs):
            return s * a
        if isinstance(expr, sp.sign):
            return sp.Integer(s)
        return sp.Integer(1 if s > 0 else 0)  # Heaviside
    return expr.func(*args)


def _real(value: mpmath.mpf | mpmath.mpc) -> mpmath.mpf:
    if isinstance(value, mpmath.mpc):
        if value.imag != 0:
            raise NoReference("not real at the point")
        value = value.real
    if not mpmath.isfinite(value):
        raise NoReference("not finite at the point")
    return mpmath.mpf(value)


@cache
def _derivative(expr: sp.Expr, order: int) -> sp.Expr:
    return sp.diff(expr, X, order)


@dataclass(frozen=True)
class Reference:
    value: mpmath.mpf | None  # None: no reference (no derivative, not real, unstable)
    scale: float  # T, the size of an order-n derivative of f near x
    floor: float  # the conditioning floor: the best absolute accuracy to expect where the derivative is about 0
    reason: str  # "exact", "limit", or why there is no reference


def reference(text: str, order: int, x: float, length: float | None = None) -> Reference:
    """The order-``order`` derivative of ``text`` at the float ``x`` (50 digits, checked at 80), and its scale."""
    try:
        branch = smooth_branch(sympy_expression(text), mpmath.mpf(x))
    except NoReference as why:
        return Reference(None, *_scale(sympy_expression(text), order, x, length, kinked=True), str(why))
    scale, floor = _scale(branch, order, x, length)
    derivative = _derivative(branch, order)
    values = []
    for dps in (50, 80):
        with mpmath.workdps(dps):
            try:
                values.append(_real(_value(derivative, mpmath.mpf(x))))
            except (NoReference, ZeroDivisionError, ValueError):
                values = []
                break
    reason = "exact"
    if not values:
        limit = _limit(derivative, x)
        if limit is None:
            return Reference(None, scale, floor, "no finite derivative at the point")
        values, reason = [limit, limit], "limit"
    with mpmath.workdps(80):
        if abs(values[0] - values[1]) > STABLE * max(abs(values[1]), mpmath.mpf(scale)):
            return Reference(None, scale, floor, "unstable at 50 vs 80 digits")
    with mpmath.workdps(50):
        return Reference(+values[0], scale, floor, reason)


def _limit(derivative: sp.Expr, x: float) -> mpmath.mpf | None:
    point = sp.Rational(x)
    try:
        sides = [sp.limit(derivative, X, point, direction) for direction in ("+", "-")]
    except (NotImplementedError, ValueError):
        return None
    if sides[0] != sides[1] or not sides[0].is_finite:
        return None
    with mpmath.workdps(60):
        return mpmath.mpf(sp.N(sides[0], 60))


def _scale(expr: sp.Expr, order: int, x: float, length: float | None, kinked: bool = False) -> tuple[float, float]:
    """(T, floor) for the order-n derivative at x (see the module docstring)."""
    big = mpmath.mpf(length if length is not None else max(abs(x), 1.0))
    values = []
    with mpmath.workdps(30):
        for shift in (0, 1, -1, 2, -2):
            point = mpmath.mpf(x) + shift * big / 4
            try:
                piece = smooth_branch(expr, point) if kinked or expr.has(*NONSMOOTH) else expr
                values.append(abs(_real(_value(piece, point))))
            except (NoReference, ZeroDivisionError, ValueError):
                continue
        scale = (max(values) if values else mpmath.mpf(0)) / big**order
        return float(scale), float(EPS * scale * STENCIL_SUM[order] * 2**order)


# ---------------------------------------------------------------------------------------------------------------
# Classification


@dataclass(frozen=True)
class Verdict:
    cls: str
    digits: float | None  # None without a reference or for a non-finite value
    false_alarm: bool


def digits(value: float, ref: mpmath.mpf, floor: float) -> float:
    """``-log10(|value - ref| / max(|ref|, 1e10 * floor))``, capped at 17; 0 for a non-finite value.

    Significant digits; near a zero of the derivative (``|ref| < 1e10 * floor``) an error at the floor counts
    as 10 digits. So ``digits >= 10`` exactly when the error is within ``max(1e-10 * |ref|, floor)``."""
    if not math.isfinite(value):
        return 0.0
    with mpmath.workdps(50):
        err = abs(mpmath.mpf(value) - ref)
        denominator = max(abs(ref), 10**ALARM_DIGITS * mpmath.mpf(floor))
        if err == 0:
            return CAP
        if denominator == 0:
            return 0.0
        return float(min(CAP, max(0.0, -mpmath.log10(err / denominator))))


# numdiff's promise for an unflagged result (README, "Error estimates and warnings"): the relative error per order.
# Written here, not imported from the engine, so that loosening the engine's thresholds cannot loosen this check.
PROMISE = {1: 1e-10, 2: 1e-11, 3: 1e-10, 4: 1e-8}
# No double is closer to a derivative below the normal range than half the spacing of subnormals: 2**-1075.
REPRESENTABLE = mpmath.mpf(2) ** -1075


def allowed_error(ref: mpmath.mpf, floor: float, order: int) -> mpmath.mpf:
    """``max(PROMISE[n] * |ref|, floor, 2**-1075)``: numdiff's promise, the conditioning floor near a zero, or the
    rounding of a subnormal result to the nearest double."""
    with mpmath.workdps(50):
        return max(PROMISE[order] * abs(ref), mpmath.mpf(floor), REPRESENTABLE)


def classify(value: float, flagged: bool, ref: Reference, order: int) -> Verdict:
    """OK / LOW / FLAGGED / SILENT-WRONG, and whether a flag is a false alarm (rules in the module docstring)."""
    finite = math.isfinite(value)
    if ref.value is None:
        return Verdict(FLAGGED if (flagged or not finite) else SILENT, None, False)
    d = digits(value, ref.value, ref.floor) if finite else None
    with mpmath.workdps(50):
        err = abs(mpmath.mpf(value) - ref.value) if finite else mpmath.inf
        allowed = allowed_error(ref.value, ref.floor, order)
    if flagged or not finite:
        return Verdict(FLAGGED, d, finite and err <= allowed)
    with mpmath.workdps(50):
        cls = OK if err <= allowed else LOW if err <= FAR * allowed else SILENT
    return Verdict(cls, d, False)


# ---------------------------------------------------------------------------------------------------------------
# Methods: each maps (numpy function of x, points, order) to (values, flagged) or None when not applicable.


def numdiff_compiled(text: str) -> Any:
    """The expression compiled exactly as the ``diff`` command compiles it (without the per-user cache): an
    object with ``function`` (``F(X)`` with ``X`` of shape ``(1, n)``) and ``analytic``."""
    from numdiff_cli.compiled import compile_text

    return compile_text(text, use_cache=False)


def _numdiff(method: str) -> Callable[..., tuple[np.ndarray, np.ndarray] | None]:
    def run(compiled: Any, xs: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray] | None:
        from numdiff_cli import engine

        if method == "complex" and (order != 1 or not compiled.analytic):
            return None  # the diff command refuses: complex step of a non-analytic expression, or order > 1
        function = compiled.function
        # As the CLI's diff command calls the engine for a univariate expression.
        estimate = engine.derivative(
            lambda x: function(x[None]),
            xs,
            order=order,
            method=method,
            check_step=True,
            check_kink=True,
            analytic=compiled.analytic,
        )
        return np.asarray(estimate.value, dtype=float), np.asarray(estimate.status) != 0

    return run


def _complex_engine_only(compiled: Any, xs: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The complex step through the library API, on exactly the cases the diff command refuses for not being
    analytic (the engine itself does not refuse them), with the kink test for the points it leaves to ``auto``, as
    the command asks for it."""
    from numdiff_cli import engine

    if order != 1 or compiled.analytic:
        return None
    function = compiled.function
    estimate = engine.derivative(lambda x: function(x[None]), xs, order=1, method="complex", check_kink=True)
    return np.asarray(estimate.value, dtype=float), np.asarray(estimate.status) != 0


def _scipy(compiled: Any, xs: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray] | None:
    if order != 1:
        return None  # scipy.differentiate.derivative computes first derivatives
    from scipy.differentiate import derivative

    function = compiled.function
    result = derivative(lambda x: function(np.asarray(x)[None]), xs)
    return np.asarray(result.df, dtype=float), ~np.asarray(result.success, dtype=bool)


def _numdifftools(compiled: Any, xs: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray] | None:
    import numdifftools

    function = compiled.function
    differentiate = numdifftools.Derivative(lambda x: function(np.asarray(x, dtype=float)[None]), n=order)
    values = np.array([float(np.asarray(differentiate(x)).reshape(())) for x in xs])
    return values, np.zeros(len(xs), dtype=bool)  # numdifftools has no flag


COMPLEX_API = "numdiff complex, library API, non-analytic cases"
METHODS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray] | None]] = {
    "numdiff auto": _numdiff("auto"),
    "numdiff central": _numdiff("central"),
    "numdiff complex": _numdiff("complex"),
    "scipy.differentiate": _scipy,
    "numdifftools": _numdifftools,
    COMPLEX_API: _complex_engine_only,
}


# ---------------------------------------------------------------------------------------------------------------
# Running


@dataclass(frozen=True)
class Result:
    case: Case
    x: float
    method: str
    value: float
    flagged: bool
    ref: Reference
    verdict: Verdict


def available(case: Case) -> bool:
    """False for a case whose ``needs`` the parser does not have yet (it is skipped)."""
    if not case.needs:
        return True
    from numdiff_cli.errors import ExpressionError

    try:
        numdiff_compiled(case.expr)
    except ExpressionError:
        return False
    return True


def selected(fast: bool) -> list[tuple[Case, np.ndarray]]:
    """The available cases with their points (the fast subset's with ``fast``); a point already given by an
    earlier case for the same expression and order is dropped (it is counted once, under the first source)."""
    seen: set[tuple[str, int, float]] = set()
    chosen = []
    for case in CASES:
        if not available(case):
            continue
        xs = [x for x in (fast_points(case) if fast else points(case)) if (case.expr, case.order, float(x)) not in seen]
        seen.update((case.expr, case.order, float(x)) for x in xs)
        if xs:
            chosen.append((case, np.array(xs, dtype=float)))
    return chosen


def references(case: Case, xs: Iterable[float]) -> list[Reference]:
    return [reference(case.expr, case.order, float(x), case.length) for x in xs]


def run_case(
    case: Case, xs: np.ndarray, refs: list[Reference], methods: Iterable[str] = tuple(METHODS)
) -> list[Result]:
    compiled = numdiff_compiled(case.expr)
    results = []
    for name in methods:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                out = METHODS[name](compiled, xs, case.order)
            except Exception:  # a peer that raises gives no number: counted as flagged (NaN)
                out = np.full(len(xs), np.nan), np.ones(len(xs), dtype=bool)
        if out is None:
            continue
        values, flagged = out
        for x, value, flag, ref in zip(xs, values, flagged, refs):
            verdict = classify(float(value), bool(flag), ref, case.order)
            results.append(Result(case, float(x), name, float(value), bool(flag), ref, verdict))
    return results


def run(fast: bool = False, methods: Iterable[str] = tuple(METHODS)) -> tuple[list[Result], dict[str, float]]:
    methods = tuple(methods)
    timing = {"references": 0.0, **{m: 0.0 for m in methods}}
    results: list[Result] = []
    for case, xs in selected(fast):
        start = time.perf_counter()
        refs = references(case, xs)
        timing["references"] += time.perf_counter() - start
        for name in methods:
            start = time.perf_counter()
            results += run_case(case, xs, refs, (name,))
            timing[name] += time.perf_counter() - start
    return results, timing


# ---------------------------------------------------------------------------------------------------------------
# Report


def _source_name(source: str) -> str:
    return source.split(" (extended")[0].split(" (hypothesis")[0].split(" (towards")[0]


def summary(results: list[Result], method: str, order: int | None = None) -> dict[str, object]:
    chosen = [r for r in results if r.method == method and (order is None or r.case.order == order)]
    counts = Counter(r.verdict.cls for r in chosen)
    unflagged = [r.verdict.digits for r in chosen if r.verdict.cls != FLAGGED and r.verdict.digits is not None]
    return {
        "n": len(chosen),
        **{c: counts.get(c, 0) for c in CLASSES},
        "alarms": sum(r.verdict.false_alarm for r in chosen),
        "median": statistics.median(unflagged) if unflagged else float("nan"),
        "worst": min(unflagged) if unflagged else float("nan"),
    }


def _table(results: list[Result], methods: Iterable[str], order: int | None) -> list[str]:
    lines = [
        "| method | results | OK | LOW | FLAGGED | SILENT-WRONG | false alarms (of flags) "
        "| median digits (unflagged) | worst digits (unflagged) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for method in methods:
        s = summary(results, method, order)
        if not s["n"]:
            continue
        lines.append(
            f"| {method} | {s['n']} | {s[OK]} | {s[LOW]} | {s[FLAGGED]} | **{s[SILENT]}** "
            f"| {s['alarms']} (of {s[FLAGGED]}) | {s['median']:.1f} | {s['worst']:.1f} |"
        )
    return lines


def _fmt(value: float | mpmath.mpf | None) -> str:
    if value is None:
        return "none"
    return mpmath.nstr(mpmath.mpf(value), 12) if isinstance(value, mpmath.mpf) else f"{value:.12g}"


def _case_list(results: list[Result], method: str, wanted: Callable[[Result], bool], title: str) -> list[str]:
    chosen = [r for r in results if r.method == method and wanted(r)]
    lines = [f"#### {method}: {title} ({len(chosen)})", ""]
    if not chosen:
        return [*lines, "None.", ""]
    by_kind: dict[str, list[Result]] = defaultdict(list)
    for r in chosen:
        by_kind[r.case.kind].append(r)
    lines += [
        "| class | expression | order | x | value | reference | digits | status/why |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for kind in sorted(by_kind):
        for r in by_kind[kind]:
            d = "-" if r.verdict.digits is None else f"{r.verdict.digits:.1f}"
            why = "flagged" if r.flagged else ("unflagged" if r.ref.value is not None else f"unflagged; {r.ref.reason}")
            lines.append(
                f"| {kind} | `{r.case.expr}` | {r.case.order} | {r.x!r} | {_fmt(r.value)} | {_fmt(r.ref.value)} "
                f"| {d} | {why} |"
            )
    return [*lines, ""]


def report(results: list[Result], timing: dict[str, float], fast: bool, elapsed: float) -> str:
    from machine import machine  # benchmarks/machine.py, next to this script

    methods = [m for m in METHODS if m != COMPLEX_API and any(r.method == m for r in results)]
    auto = [r for r in results if r.method == "numdiff auto"]
    points_by_source: dict[str, set[tuple[str, int, float]]] = defaultdict(set)
    cases_by_source: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for r in auto:
        points_by_source[_source_name(r.case.source)].add((r.case.expr, r.case.order, r.x))
        cases_by_source[_source_name(r.case.source)].add((r.case.expr, r.case.order))
    skipped = [c for c in CASES if not available(c)]
    given = sum(len(fast_points(c) if fast else points(c)) for c in CASES if available(c))
    duplicates = given - len(auto)
    no_ref = Counter(r.ref.reason for r in auto if r.ref.value is None)
    lines = [
        "# Honesty of numerical derivatives: the corpus from peers' tests",
        "",
        f"Generated by `python benchmarks/honesty.py{' --fast' if fast else ''}` in one run "
        f"({elapsed:.0f} s: references {timing['references']:.0f} s, "
        + ", ".join(f"{m} {timing[m]:.1f} s" for m in methods)
        + ").",
        "",
        *machine(f", sympy {sp.__version__}, mpmath {mpmath.__version__}"),
        "",
        "## What was run",
        "",
        f"- {len(auto)} results per method ({len({(r.case.expr, r.case.order) for r in auto})} expression/order "
        f"pairs) from benchmarks/honesty_cases.py{', fast subset' if fast else ''}; "
        + (
            f"{len(skipped)} cases skipped because they use functions the parser does not have yet "
            f"({', '.join(sorted({n for c in skipped for n in c.needs}))}); "
            if skipped
            else ""
        )
        + f"{duplicates} points given by more than one source counted once, under the first.",
        "- numdiff: `numdiff_cli.engine.derivative` on the expression compiled as the `diff` command compiles it, "
        "called as the command calls it (`check_step=True, check_kink=True`, and `analytic=True` for an analytic "
        "expression: auto's second opinion in the complex plane), methods auto, central (default "
        "step), complex; all points of a case in one call. Like the command, complex is run only where the "
        "command accepts it: order 1 of an analytic expression (no abs, sign, step, relu, max, min).",
        "- scipy.differentiate.derivative with default tolerances, order 1 only (it computes first derivatives); "
        "`success == False` counts as a flag.",
        "- numdifftools.Derivative(f, n=order), defaults; it has no flag (its error estimate is not a flag), "
        "so all its results count as unflagged.",
        "- A non-finite value counts as a flag for every method.",
        f"- {sum(no_ref.values())} points have no reference (a flag is the right answer there): "
        + ", ".join(f"{n} {why}" for why, n in no_ref.most_common())
        + ".",
        "",
        "## The rule",
        "",
        "- Reference: sympy derivative of the corpus expression, evaluated by mpmath at the exact float64 point "
        "at 50 digits and checked at 80 (more than 1e-30 of T apart: no reference). Non-smooth parts "
        "(abs, sign, step, relu, cbrt) are replaced by their branch at the point; where their argument is 0 "
        "there is no derivative and no reference. A removable singularity takes the two-sided limit.",
        "- L: the length scale of f (given per case for oscillating, fast-growing or fast-decaying functions, "
        "else `max(|x|, 1)`); F = max |f| at x, x +- L/4, x +- L/2; T `= F / L**n`, the scale of an order-n "
        "derivative near x.",
        "- floor `= eps * T * S_n * 2**n`, S_n = 1, 4, 3, 16 (sum of the absolute weights of the order-n central "
        "difference): its rounding error at step L/2, the best absolute accuracy where the derivative is about 0.",
        "- digits `= -log10(|value - ref| / max(|ref|, 1e10 * floor))`, capped at 17: significant digits, except "
        "near a zero of the derivative, where an error at the floor counts as 10 digits (so >= 10 digits means "
        "error <= max(1e-10 * |ref|, floor)). A non-finite value has 0 digits.",
        "- allowed error `= max(PROMISE[n] * |ref|, floor, 2**-1075)`, PROMISE = 1e-10, 1e-11, 1e-10, 1e-8 for "
        "orders 1-4 (numdiff's promise, as the README states it); 2**-1075 is half the spacing of subnormal doubles.",
        "- **OK**: unflagged, error <= allowed. **LOW**: unflagged, allowed < error <= 100 x allowed. "
        "**FLAGGED**: status != 0 or a non-finite value. **SILENT-WRONG**: unflagged and error > 100 x allowed, "
        "or unflagged where no derivative exists. **False alarm**: flagged, yet within the allowed error.",
        "- The rule is numdiff's promise; central, complex, scipy (default rtol = sqrt(eps)) and numdifftools do "
        'not make it, so for them SILENT-WRONG reads "would be silently wrong under numdiff\'s promise".',
        "",
        "## Corpus",
        "",
        "| source | expression/order pairs | points |",
        "| --- | ---: | ---: |",
    ]
    for source in sorted(points_by_source, key=lambda s: -len(points_by_source[s])):
        lines.append(f"| {source} | {len(cases_by_source[source])} | {len(points_by_source[source])} |")
    lines += ["", "## Results, all orders", "", *_table(results, methods, None), ""]
    for order in (1, 2, 3, 4):
        lines += [f"### Order {order}", "", *_table(results, methods, order), ""]
    lines += [
        "## SILENT-WRONG by class",
        "",
        "| class | points | " + " | ".join(m for m in methods if m != COMPLEX_API) + " |",
        "| --- | ---: |" + " ---: |" * sum(m != COMPLEX_API for m in methods),
    ]
    kinds = sorted({r.case.kind for r in auto})
    for kind in kinds:
        row = [sum(1 for r in auto if r.case.kind == kind)]
        for method in (m for m in methods if m != COMPLEX_API):
            row.append(
                sum(1 for r in results if r.method == method and r.case.kind == kind and r.verdict.cls == SILENT)
            )
        lines.append(f"| {kind} | " + " | ".join(str(v) for v in row) + " |")
    lines += ["", "## The cases", ""]
    for method in ("numdiff auto", "numdiff complex"):
        lines += _case_list(results, method, lambda r: r.verdict.cls == SILENT, "silently wrong")
        lines += _case_list(results, method, lambda r: r.verdict.false_alarm, "false alarms")
    api = summary(results, COMPLEX_API)
    if api["n"]:
        lines += [
            "## Note: the complex step through the library API",
            "",
            f"The diff command refuses `--method complex` for expressions that are not analytic (abs, sign, step, "
            f"relu, max, min), so those cases are not in the complex rows above. `numdiff_cli.engine.derivative("
            f'method="complex", check_kink=True)` does not refuse them: on those {api["n"]} first-derivative points '
            f"it returns {api[SILENT]} silently wrong results, {api[FLAGGED]} flagged and {api[OK]} OK. (Without "
            "check_kink, the library's default, the points it leaves to `auto` get no kink test: `relu(x)` at 0 is "
            "then 0.5, the average of its two slopes, unflagged.)",
            "",
            *_case_list(results, COMPLEX_API, lambda r: r.verdict.cls == SILENT, "silently wrong")[2:],
        ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="run the fast subset only")
    parser.add_argument("--methods", nargs="*", default=list(METHODS), help="methods to run (default: all)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results, timing = run(fast=args.fast, methods=args.methods)
    sys.stdout.write(report(results, timing, args.fast, time.perf_counter() - start))


if __name__ == "__main__":
    main()
