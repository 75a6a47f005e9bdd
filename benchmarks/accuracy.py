"""Accuracy of numdiff's derivatives against scipy.differentiate and numdifftools, on the same cases.

Run ``python benchmarks/accuracy.py > benchmarks/accuracy.md`` (needs the ``bench`` extra). References are the
sympy derivatives evaluated by mpmath at 50 digits at the exact floating-point point. "Digits" are correct
significant digits, ``-log10(relative error)``, capped at 17; a NaN result counts 0.
"""

from __future__ import annotations

import math
import platform
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numdifftools
import numpy as np
import scipy
import sympy as sp
from scipy.differentiate import derivative as scipy_derivative

from numdiff_cli import __version__, engine
from numdiff_cli.expr import parse_expression

# (kind, expression, point). None of these is one of the exact cases quoted in issue 3.
CASES = [
    ("smooth", "exp(x)", 1.3),
    ("smooth", "sin(x)", 0.8),
    ("smooth", "x**3 - 2*x", 1.7),
    ("smooth", "log(1 + x)", 0.4),
    ("smooth", "sqrt(x)", 2.5),
    ("smooth", "tanh(x)", 0.6),
    ("smooth", "1/(1 + x**2)", 0.9),
    ("smooth", "exp(-x**2)", 1.1),
    ("smooth", "sigmoid(x)", 0.0),
    ("smooth", "x**5", -1.2),
    ("smooth", "cosh(x)", 2.0),
    ("smooth", "sin(x)/x", 0.5),
    ("smooth", "exp(sin(x))", 2.2),
    ("edge", "log(x)", 2e-3),
    ("edge", "sqrt(x)", 1e-5),
    ("edge", "1/x", 3e-5),
    ("edge", "x**1.5", 1e-4),
    ("edge", "tan(x)", 1.5695),
    ("edge", "log(1 + x**2)", 1e-4),
    ("edge", "acos(x)", 0.9999),
    ("large", "cos(x)", 3e7),
    ("large", "atan(x)", 3e4),
    ("large", "log(x)", 1e9),
    ("large", "sqrt(x)", 1e12),
    ("oscillating", "sin(700*x)", 0.45),
    ("oscillating", "cos(300*x)", 1.1),
    ("oscillating", "sin(x**2)", 30.0),
    ("oscillating", "exp(-x)*sin(50*x)", 0.2),
]
CAP = 17.0


@dataclass
class Counted:
    """A univariate function that counts how many values it was evaluated at."""

    function: Callable[[np.ndarray], np.ndarray]
    count: int = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self.count += max(1, x.size)
        return self.function(x[None])


def reference(text: str, x: float) -> mpmath.mpf:
    expression = parse_expression(text)
    (symbol,) = expression.symbols
    derivative = sp.diff(expression.tree, symbol)
    value = derivative.subs(symbol, sp.Float(x, 60)).evalf(50)
    return mpmath.mpf(str(sp.re(value)))


def digits(value: float, exact: mpmath.mpf) -> float:
    if not math.isfinite(value):
        return 0.0
    with mpmath.workdps(50):
        error = abs(mpmath.mpf(value) - exact)
        if error == 0:
            return CAP
        return float(min(CAP, max(0.0, -mpmath.log10(error / abs(exact)))))


def run_case(text: str, x: float) -> dict[str, object]:
    expression = parse_expression(text)
    exact = reference(text, x)
    row: dict[str, object] = {"expr": text, "x": x}

    def numdiff(method: str) -> tuple[float, int, engine.Estimate]:
        f = Counted(expression.function)
        est = engine.derivative(f, np.array([x]), method=method)
        return float(est.value[0]), f.count, est

    value, count, est = numdiff("auto")
    row["auto"] = digits(value, exact)
    row["auto_nfev"] = count
    row["auto_flag"] = int(est.status[0]) != engine.OK
    true_error = float(abs(mpmath.mpf(value) - exact)) if math.isfinite(value) else math.inf
    row["auto_error"] = float(est.error[0])
    row["true_error"] = true_error
    row["central"] = digits(numdiff("central")[0], exact)
    row["complex"] = digits(numdiff("complex")[0], exact) if expression.analytic else None

    f = Counted(expression.function)
    result = scipy_derivative(f, np.array([x]))
    row["scipy"] = digits(float(result.df[0]), exact)
    row["scipy_nfev"] = f.count
    row["scipy_flag"] = not bool(result.success[0])

    f = Counted(expression.function)
    value = numdifftools.Derivative(f)(x)
    row["numdifftools"] = digits(float(value), exact)
    row["numdifftools_nfev"] = f.count
    return row


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def machine() -> list[str]:
    model = "unknown CPU"
    cores = "?"
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
        fields = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines if ":" in line}
        model, cores = fields.get("Model name", model), fields.get("CPU(s)", cores)
    except (OSError, subprocess.CalledProcessError):
        pass
    return [
        f"- Machine: {model}, {cores} CPU(s), {platform.system()} {platform.machine()}",
        f"- Python {platform.python_version()}; numdiff {__version__}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, numdifftools {numdifftools.__version__}, sympy {sp.__version__}, "
        f"mpmath {mpmath.__version__}",
    ]


def main() -> None:
    rows = [run_case(text, x) for _, text, x in CASES]
    kinds = [kind for kind, _, _ in CASES]
    out = [
        "# Accuracy benchmark",
        "",
        "Generated by `python benchmarks/accuracy.py > benchmarks/accuracy.md`; all columns measured in the same run.",
        "Digits: correct significant digits of the first derivative against sympy+mpmath at 50 digits (capped at",
        "17; a NaN result counts 0). nfev: evaluations of f for the point. numdiff's `auto` flags a result",
        "(warning, exit 1) when its status is not OK; scipy's flag is `success == False`; numdifftools has none.",
        "Peers run with their defaults: `scipy.differentiate.derivative(f, x)`, `numdifftools.Derivative(f)(x)`.",
        "`central` is numdiff's plain central difference with its default step `eps**(1/3)*max(1,|x|)`.",
        "",
        *machine(),
        "",
        "| kind | f(x) | x | auto | auto nfev | auto flagged | auto error est. / true error | central | complex "
        "| scipy | scipy nfev | numdifftools | numdifftools nfev |",
        "|---|---|---|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, row in zip(kinds, rows):
        true_error = float(row["true_error"])  # type: ignore[arg-type]
        est_error = float(row["auto_error"])  # type: ignore[arg-type]
        ratio = "exact" if true_error == 0 else f"{est_error / true_error:.2g}"
        out.append(
            f"| {kind} | `{row['expr']}` | {row['x']!r} | {fmt(row['auto'])} | {row['auto_nfev']} "
            f"| {'yes' if row['auto_flag'] else ''} | {ratio} | {fmt(row['central'])} | {fmt(row['complex'])} "
            f"| {fmt(row['scipy'])}{' (flagged)' if row['scipy_flag'] else ''} | {row['scipy_nfev']} "
            f"| {fmt(row['numdifftools'])} | {row['numdifftools_nfev']} |"
        )

    def column(name: str) -> list[float]:
        return [float(row[name]) for row in rows if row[name] is not None]  # type: ignore[arg-type]

    def nfev(name: str) -> float:
        return statistics.median(float(row[name]) for row in rows)  # type: ignore[arg-type]

    out += [
        "",
        "## Summary",
        "",
        "| method | median digits | min digits | cases < 10 digits | of which flagged | cases < 6 digits "
        "| median nfev |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label, count_name, flag_name in [
        ("auto", "numdiff auto", "auto_nfev", "auto_flag"),
        ("central", "numdiff central (default step)", None, None),
        ("complex", "numdiff complex (analytic cases)", None, None),
        ("scipy", "scipy.differentiate.derivative", "scipy_nfev", "scipy_flag"),
        ("numdifftools", "numdifftools.Derivative", "numdifftools_nfev", None),
    ]:
        values = column(name)
        below = [row for row in rows if row[name] is not None and float(row[name]) < 10]  # type: ignore[arg-type]
        flagged = str(sum(bool(row[flag_name]) for row in below)) if flag_name else "-"
        cost = fmt(nfev(count_name)) if count_name else ("1" if name == "complex" else "2")
        out.append(
            f"| {label} | {statistics.median(values):.1f} | {min(values):.1f} | {len(below)} | {flagged} "
            f"| {sum(v < 6 for v in values)} | {cost} |"
        )
    ratios = [
        float(row["auto_error"]) / float(row["true_error"])  # type: ignore[arg-type]
        for row in rows
        if float(row["true_error"]) > 0  # type: ignore[arg-type]
    ]
    bounded = sum(r >= 0.1 for r in ratios)
    out += [
        "",
        f"Error estimates of `auto` (all cases with a nonzero true error, flagged or not): {bounded} of {len(ratios)} "
        f"bound the true error within a factor 10 (estimate >= true error / 10); median estimate / true error "
        f"{statistics.median(ratios):.3g}, smallest {min(ratios):.3g}, largest {max(ratios):.3g}.",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
