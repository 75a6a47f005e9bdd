"""What the lesson options compute and print: ``diff --explain``, ``--dtype``, ``compare --sweep``.

The click options live in the ``numdiff_cli.cli`` package; this module turns an expression and a point into the
explanation text and the sweep rows, and a sweep over many points into its pictures. The numerics are in
:mod:`numdiff_cli.stepsize` (numpy only); the exact references come from :class:`numdiff_cli.analytic.Analytic`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from numdiff_cli import engine, plot
from numdiff_cli.analytic import Analytic
from numdiff_cli.contract import fixed_step_kind
from numdiff_cli.expr import Expression
from numdiff_cli.numerics import sweep
from numdiff_cli.render import describe


def line_function(expression: Expression, X: np.ndarray, var: str, dtype: str) -> Callable[[np.ndarray], np.ndarray]:
    """``g(v)``: f with variable ``var`` set to ``v`` (shape ``(k, n)``) and the others held at ``X`` (``(m, n)``).

    The other coordinates are rounded to ``dtype``; ``v`` keeps its own type (complex for the complex step).
    """
    function = expression.function
    index = expression.names.index(var)
    base = np.asarray(X, dtype=dtype)

    def g(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v)
        shape = (base.shape[0],) + v.shape
        points = np.empty(shape, dtype=np.result_type(base, v))
        points[...] = base.reshape((base.shape[0],) + (1,) * (v.ndim - 1) + base.shape[1:])
        points[index] = v
        return function(points)

    return g


def single_precision(
    expression: Expression, X: np.ndarray, var: str, order: int, method: str, step: float | None, dtype: str
) -> engine.Estimate:
    """The finite difference of ``--dtype float32`` (``auto`` means central: the adaptive search is float64), with
    the check of its step that float64 gives the same method (a difference that changes by more than half at a
    quarter of the step is flagged)."""
    kind = fixed_step_kind(method)
    index = expression.names.index(var)
    g = line_function(expression, X, var, dtype)
    return sweep.finite_difference(g, X[index], order=order, kind=kind, step=step, dtype=dtype, check_step=True)


# ---------------------------------------------------------------------------------------------------------------
# --explain


def _prime(order: int) -> str:
    return "f" + "'" * order if order <= 4 else f"f^({order})"


def _point_label(offset: int) -> str:
    if offset == 0:
        return "x"
    size = "" if abs(offset) == 1 else str(abs(offset))
    return f"x{'+' if offset > 0 else '-'}{size}h"


def _power(base: str, exponent: int) -> str:
    return base if exponent == 1 else f"{base}**{exponent}"


def _scaled(coefficient: int | Fraction, term: str) -> str:
    if coefficient == 1:
        return term
    shown = str(coefficient) if Fraction(coefficient).denominator == 1 else f"({coefficient})"
    return f"{shown}*{term}"


def _unwrap(text: str) -> str:
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def formula(order: int, kind: str) -> str:
    """The stencil as text, e.g. ``f'(x) ~ (f(x+h) - f(x-h)) / (2*h)``."""
    offsets, numerators, denominator = engine.stencil(order, kind)
    text = ""
    # Largest offset first reads like the textbook: f(x+h) - f(x-h).
    for offset, c in sorted(zip(offsets, numerators), key=lambda pair: -pair[0]):
        term = _scaled(abs(c), f"f({_point_label(offset)})")
        text += (f"- {term}" if c < 0 else term) if not text else (f" - {term}" if c < 0 else f" + {term}")
    below = _scaled(denominator, _power("h", order))
    below = f"({below})" if denominator != 1 else below
    return f"{_prime(order)}(x) ~ ({text}) / {below}"


@dataclass(frozen=True)
class _Numbers:
    dtype: str

    def __call__(self, value: float) -> str:
        """Shortest round-trip form in the working precision."""
        if not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        # float32: its shortest round-trip digits (2.0001, not the double 2.0000998973846436).
        return repr(value) if self.dtype == "float64" else repr(float(str(np.float32(value))))


def explanation(
    expression: Expression, X: np.ndarray, var: str, order: int, method: str, step: float | None, dtype: str
) -> str:
    """The text of ``diff --explain`` at the single point ``X`` (shape ``(m, 1)``)."""
    index = expression.names.index(var)
    x = float(X[index, 0])
    exact = Analytic.of(expression, var, order, use_cache=False).values(X)[0]
    if method == "complex":
        lines, value = _complex_lines(expression, X, var, x, step)
    elif method == "auto" and step is None and dtype == "float64":
        lines, value = _auto_lines(expression, X, var, x, order)
    else:
        lines, value = _stencil_lines(expression, X, var, x, order, method, step, dtype)
    held = "the other variables held fixed" if len(expression.names) > 1 else ""
    if var != "x":
        lines.insert(1, f"  (x stands for {var}{', ' + held if held else ''})")
    elif held:
        lines.insert(1, f"  ({held})")
    abs_error, _ = Analytic.errors(value, exact)
    shown = float(exact) if math.isfinite(float(exact)) else math.nan
    lines.append(f"  exact (sympy): {shown!r}, actual error {abs_error:.2g}")
    return "\n".join(lines) + "\n"


def _stencil_lines(
    expression: Expression,
    X: np.ndarray,
    var: str,
    x: float,
    order: int,
    method: str,
    step: float | None,
    dtype: str,
) -> tuple[list[str], float]:
    kind = fixed_step_kind(method)
    g = line_function(expression, X, var, dtype)
    terms = sweep.explain(g, x, order=order, kind=kind, step=step, dtype=dtype)
    num = _Numbers(dtype)
    lines = [f"{kind} difference in {dtype}: {formula(order, kind)}", f"  x = {num(terms.x)}, h = {num(terms.h)}"]
    pairs = sorted(zip(terms.offsets, terms.points, terms.values), key=lambda item: -item[0])
    width = max(len(_point_label(o)) for o, _, _ in pairs) + 3 + max(len(num(p)) for _, p, _ in pairs)
    for offset, point, value in pairs:
        label = _point_label(offset)
        left = f"{label} = {num(point)}" if offset else f"x = {num(point)}"
        lines.append(f"  {left:<{width}}  f({label}) = {num(value)}")
    lost = [_point_label(o) for o, p, _ in pairs if o and p == terms.x]
    if lost:
        lines.append(f"  {' and '.join(lost)} == x in {dtype}: the step is lost in rounding, so f cancels exactly")
    numerator = formula(order, kind).split(" ~ ", 1)[1].rsplit(" / ", 1)
    lines.append(f"  {_unwrap(numerator[0])} = {num(terms.total)}")
    lines.append(f"  divided by {_unwrap(numerator[1])}: {num(terms.value)}")
    power, coefficient = terms.truncation_power, terms.truncation_coefficient
    higher = Analytic.of(expression, var, power, use_cache=False).values(X)[0]
    higher_value = float(higher)
    size = abs(float(coefficient)) * terms.h ** (power - order) * abs(higher_value)
    lines.append(
        f"  truncation error ~ {_scaled(abs(coefficient), _power('h', power - order))}*|{_prime(power)}(x)|"
        f" = {size:.2g}  ({_prime(power)}(x) = {higher_value:.6g})"
    )
    weights = " + ".join(
        _scaled(abs(c), f"|f({_point_label(o)})|")
        for o, c in sorted(zip(terms.offsets, terms.numerators), key=lambda pair: -pair[0])
    )
    lines.append(
        f"  rounding error ~ eps*({weights}) / {numerator[1]} = {terms.rounding:.2g}"
        f"  (eps = {sweep.epsilon(dtype):.2g} in {dtype})"
    )
    return lines, terms.value


def _auto_lines(expression: Expression, X: np.ndarray, var: str, x: float, order: int) -> tuple[list[str], float]:
    # Record where the engine evaluates f: the steps it tried, whatever its search does internally.
    g = line_function(expression, X, var, "float64")
    seen: list[np.ndarray] = []

    def recorder(v: np.ndarray) -> np.ndarray:
        seen.append(np.array(v, dtype=float).ravel())
        return g(v)

    estimate = engine.derivative(recorder, X[expression.names.index(var)], order=order, method="auto")
    samples = np.concatenate(seen) if seen else np.array([])
    distances = np.unique(np.abs(samples - x))
    distances = distances[distances > 0][::-1]
    chosen = float(estimate.step[0])
    what = "steps h tried" if len(engine.stencil(order, "central")[0]) <= 3 else "distances |x_i - x| sampled"
    shown = [f"[{d!r}]" if d == chosen else f"{d:.3g}" for d in distances.tolist()]
    lines = [
        "auto: Richardson extrapolation of central differences, " + formula(order, "central"),
        f"  x = {x!r}; f evaluated at {samples.size} points; {what} ({distances.size}, chosen in brackets):",
    ]
    for start in range(0, len(shown), 8):
        lines.append("    " + " ".join(shown[start : start + 8]))
    error = float(estimate.error[0])
    lines.append(
        f"  chosen: the extrapolated estimate from h = {chosen!r} down: {float(estimate.value[0])!r},"
        f" error estimate {error:.2g}"
    )
    return lines, float(estimate.value[0])


def _complex_lines(
    expression: Expression, X: np.ndarray, var: str, x: float, step: float | None
) -> tuple[list[str], float]:
    g = line_function(expression, X, var, "float64")
    h = engine.COMPLEX_STEP if step is None else step
    with np.errstate(all="ignore"):
        value = complex(np.asarray(g(np.array([[x + 1j * h]])))[0, 0])
    estimate = engine.derivative(g, np.array([x]), method="complex", step=step)
    lines = [
        "complex step: f'(x) ~ Im(f(x + i*h)) / h  (no subtraction, so no cancellation)",
        f"  x = {x!r}, h = {h!r}",
        f"  f(x + i*h) = {value.real!r} + {value.imag!r}i",
        f"  Im / h = {float(estimate.value[0])!r}",
        "  truncation error ~ h**2/6*|f'''(x)|, negligible at this h; rounding error ~ eps*|f'(x)|",
    ]
    return lines, float(estimate.value[0])


# ---------------------------------------------------------------------------------------------------------------
# compare --sweep


@dataclass
class Sweep:
    """One point's sweep: the rows (in step order), the errors and the marked steps."""

    rows: list[dict[str, Any]]
    errors: list[float]
    best: int | None
    optimum: float | None


def sweep_point(
    expression: Expression,
    analytic: Analytic,
    X: np.ndarray,
    var: str,
    *,
    expr: str,
    at: Any,
    order: int,
    kind: str,
    dtype: str,
    steps: np.ndarray,
) -> Sweep:
    """Rows ``h, numeric, analytic, abs_error, rel_error, note`` for the point ``X`` (shape ``(m, 1)``)."""
    index = expression.names.index(var)
    g = line_function(expression, X, var, "float64" if kind == "complex" else dtype)
    values, status = sweep.sweep(g, X[index], steps, order=order, kind=kind, dtype=dtype)
    exact = analytic.values(X)[0]
    errors = [analytic.errors(float(v), exact) for v in values[:, 0].tolist()]
    absolute = np.array([e[0] for e in errors])
    finite = np.isfinite(absolute)
    best = int(np.argmin(np.where(finite, absolute, np.inf))) if finite.any() else None
    optimum = None if kind == "complex" else float(sweep.optimal_step(X[index, 0], order=order, kind=kind, dtype=dtype))
    near = None if optimum is None else sweep.nearest_step(steps, optimum)
    rows = []
    for k, h in enumerate(steps.tolist()):
        notes = []
        if k == best:
            notes.append("best")
        if k == near:
            notes.append(f"nearest the theoretical optimum h ~ {optimum:.2g}")
        if status[k, 0] == engine.VANISHING_STEP:
            notes.append(f"x + h == x in {dtype}")
        row: dict[str, Any] = {
            "expr": expr,
            "at": at,
            "method": kind,
            "dtype": dtype,
            "h": h,
            "numeric": float(values[k, 0]),
            "analytic": float(exact),
            "abs_error": errors[k][0],
            "rel_error": errors[k][1],
            "note": "; ".join(notes),
        }
        if status[k, 0] == engine.NONFINITE:
            row["warning"] = "the difference is not finite at this step"
        rows.append(row)
    return Sweep(rows, absolute.tolist(), best, optimum)


def sweep_plain(row: dict[str, Any]) -> str:
    """``h numeric analytic abs_error``, and the note as a ``#`` comment (gnuplot and awk skip it)."""
    line = f"{row['h']!r} {row['numeric']!r} {row['analytic']!r} {row['abs_error']!r}"
    return f"{line}  # {row['note']}" if row["note"] else line


class SweepStudy:
    """``compare --sweep`` at many points: each point's rows, and its curve of error against step for the pictures.

    ``kind`` is the difference studied (``central``, ``forward``, ``backward`` or ``complex``); the exact
    references are computed once, for every point, by one :class:`~numdiff_cli.analytic.Analytic`.
    """

    def __init__(
        self, expression: Expression, var: str, *, expr: str, order: int, kind: str, dtype: str, steps: np.ndarray
    ):
        self.expression = expression
        self.var = var
        self.expr = expr
        self.order = order
        self.kind = kind
        self.dtype = dtype
        self.steps = steps
        self.analytic = Analytic.of(expression, var, order, use_cache=False)
        self.curves: list[tuple[str, list[float]]] = []  # (label, abs_error at each step), one per point
        self.bests: list[int | None] = []
        self.optima: set[float | None] = set()

    def point(self, X: np.ndarray, at: Any) -> list[dict[str, Any]]:
        """The rows of the point ``X`` (shape ``(m, 1)``), whose "at" is ``at``; its curve is kept."""
        result = sweep_point(
            self.expression,
            self.analytic,
            X,
            self.var,
            expr=self.expr,
            at=at,
            order=self.order,
            kind=self.kind,
            dtype=self.dtype,
            steps=self.steps,
        )
        label = f"at {self.var}={describe(at)}" if not isinstance(at, dict) else f"at {describe(at)}"
        self.curves.append((label, result.errors))
        self.bests.append(result.best)
        self.optima.add(result.optimum)
        return result.rows

    def text_plots(self) -> str:
        """Log-log text plots of error against step for the first four points, the best step marked B."""
        steps = self.steps
        ticks = (f"h={steps[0]:g}", f"h={steps[-1]:g}")
        return "\n\n".join(
            f"{label}:\n"
            + plot.text_plot(
                1 / steps,
                errors,
                log=True,
                marks={best: "B"} if best is not None else {},
                xlabel="(B: best step)",
                ylabel="abs_error",
                xticks=ticks,
            )
            for (label, errors), best in zip(self.curves[:4], self.bests)
        )

    def draw(self, path: str) -> None:
        """Draw the curves of all the points into ``path`` (needs matplotlib)."""
        # One dashed line for the theoretical optimum, when it is the same for every point (it scales with |x|).
        optimum = next(iter(self.optima)) if len(self.optima) == 1 else None
        errors = np.array([errors for _, errors in self.curves])
        data = plot.sweep_data(self.steps, errors, [label for label, _ in self.curves], optimum)
        plot.draw_sweep(data, self.expr, path, self.kind, self.dtype)
