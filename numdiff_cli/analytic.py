"""The analytic derivative (``sympy.diff``) of a validated expression, evaluated at high precision.

``compare`` measures a numerical method's error against this reference, so it is evaluated with mpmath at
:data:`DIGITS` significant digits at the exact floating-point point, not in float64. The derivative's text and
its mpmath code are cached per user like the numpy code (:mod:`numdiff_cli.cache`); sympy is imported only
when they have to be computed.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import mpmath
import numpy as np

from numdiff_cli.codegen import UnsafeCode, dummy_lambdify, load_code, mpmath_printer, print_code
from numdiff_cli.compiled import Compiled
from numdiff_cli.errors import ExpressionError
from numdiff_cli.functions import ROWS

if TYPE_CHECKING:
    import sympy as sp

    from numdiff_cli.expr import Expression

DIGITS = 30

# Bounds on the symbolic work for one command: sympy's derivative of sin(sin(...(x))) to order 4, or of a long
# product, grows as a power of the expression's size and would run for hours.
MAX_DERIVATIVE_NODES = 5_000
SYMBOLIC_SECONDS = 3.0
_TOO_LARGE = (
    f"the analytic derivative is too large for compare (over {MAX_DERIVATIVE_NODES} terms or"
    f" {SYMBOLIC_SECONDS:g} s of symbolic work); 'numdiff diff' computes the numerical derivative"
)


class _OutOfTime(Exception):
    pass


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_OutOfTime` in the block after ``seconds`` (Unix main thread; elsewhere no limit)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _larger_than(tree: sp.Expr, limit: int) -> bool:
    """True if ``tree`` has more than ``limit`` nodes (stops counting there)."""
    import sympy as sp

    return any(count > limit for count, _ in enumerate(sp.preorder_traversal(tree)))


def _select(conditions: list[Any], choices: list[Any], default: Any = mpmath.nan) -> Any:
    for condition, choice in zip(conditions, choices):
        if condition:
            return choice
    return default


# Names that sympy's mpmath printer writes for nodes of its own rather than for a function of the language (exact
# rationals, a Piecewise, Min, nan/inf), and functions that sympy could introduce itself.
_PRINTER_MPMATH = ("mpf", "nan", "inf", "asinh", "acosh", "atanh", "expm1", "log1p")
MPMATH_NAMES: dict[str, Any] = {name: getattr(mpmath, name) for name in _PRINTER_MPMATH}
MPMATH_NAMES.update({"select": _select, "min": min})
for _row in ROWS:
    MPMATH_NAMES.update(
        {name: getattr(mpmath, value) if isinstance(value, str) else value for name, value in _row.mpmath.items()}
    )
# The objects among them that are not mpmath's own (the real cube root, select): sympy's lambdify needs them too.
_MPMATH_HELPERS = {name: value for name, value in MPMATH_NAMES.items() if getattr(mpmath, name, None) is not value}


def _lambdified(expression: Expression, derivative: sp.Expr) -> Any:
    """sympy's own lambdify: the fallback for code outside the whitelist of :func:`load_code` (none known)."""
    return dummy_lambdify(
        expression.symbols,
        derivative,
        modules=[_MPMATH_HELPERS, "mpmath"],
        printer=mpmath_printer()({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True}),
    )


def _derivative(expression: Expression, var: str, order: int) -> sp.Expr:
    """``sympy.diff``, bounded in size and time (:data:`MAX_DERIVATIVE_NODES`, :data:`SYMBOLIC_SECONDS`)."""
    import sympy as sp

    symbol = expression.symbols[expression.names.index(var)]
    try:
        with _time_limit(SYMBOLIC_SECONDS):
            derivative = expression.tree
            for _ in range(order):
                # One order at a time: each can square the size (product rule), so check before going on.
                derivative = sp.diff(derivative, symbol)
                if _larger_than(derivative, MAX_DERIVATIVE_NODES):
                    raise ExpressionError(_TOO_LARGE)
    except _OutOfTime:
        raise ExpressionError(_TOO_LARGE) from None
    # DiracDelta (from step()) is zero away from its jump; at the jump the derivative does not exist. sympy leaves
    # d/dx sign(u) unevaluated when it cannot tell that u is real (sign(log(x))): the same holds for it.
    derivative = derivative.replace(
        lambda node: isinstance(node, sp.Derivative) and isinstance(node.expr, sp.sign),
        lambda node: sp.Piecewise((sp.nan, sp.Eq(node.expr.args[0], 0)), (0, True)),
    )
    derivative = derivative.replace(sp.DiracDelta, lambda *args: sp.Piecewise((sp.nan, sp.Eq(args[0], 0)), (0, True)))
    if derivative.has(sp.Derivative, sp.Subs):
        raise ExpressionError(f"invalid expression {expression.text!r}: sympy cannot differentiate it analytically")
    return derivative


class Analytic:
    """``d^order EXPR / d var^order`` as text and as a high-precision function of the points."""

    def __init__(self, text: str, function: Any):
        self.text = text
        self._function = function

    @classmethod
    def of(cls, expression: Compiled | Expression, var: str, order: int, use_cache: bool) -> Analytic:
        """The derivative of ``expression``: from the per-user cache, or derived by sympy and then cached.

        The cache entry holds the derivative's text and its mpmath code over ``_0, _1, ...`` (the variables in
        order); the code is checked against the whitelist each time it is loaded.
        """
        from numdiff_cli import cache

        names = list(expression.names)
        entry_key = cache.key("mpmath", expression.text, names, var, order)
        if use_cache:
            data = cache.load(entry_key)
            if isinstance(data, dict) and isinstance(data.get("text"), str) and isinstance(data.get("code"), str):
                try:
                    return cls(data["text"], load_code(data["code"], len(names), MPMATH_NAMES))
                except UnsafeCode:
                    pass  # corrupt or foreign: rebuilt and overwritten below
        parsed = expression.expression() if isinstance(expression, Compiled) else expression
        derivative = _derivative(parsed, var, order)
        text = str(derivative)
        code = print_code(
            mpmath_printer(), {"inline": True, "allow_unknown_functions": True}, derivative, parsed.symbols
        )
        try:
            function = load_code(code, len(names), MPMATH_NAMES)
        except UnsafeCode:
            return cls(text, _lambdified(parsed, derivative))
        if use_cache:
            cache.store(entry_key, {"text": text, "code": code})
        return cls(text, function)

    def values(self, X: np.ndarray) -> list[Any]:
        """High-precision values (mpmath numbers; NaN where undefined) at the columns of ``X``."""
        results = []
        with mpmath.workdps(DIGITS):
            for column in X.T.tolist():
                results.append(self._value(column))
        return results

    def _value(self, column: list[float]) -> Any:
        if not all(math.isfinite(v) for v in column):
            return mpmath.nan
        try:
            value = self._function(*[mpmath.mpf(v) for v in column])
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return mpmath.nan
        if isinstance(value, mpmath.mpc):
            return mpmath.nan if abs(value.imag) > abs(value.real) * mpmath.mpf(10) ** (-DIGITS + 5) else value.real
        try:
            return mpmath.mpf(value)
        except (TypeError, ValueError):
            return mpmath.nan

    @staticmethod
    def errors(numeric: float, exact: Any) -> tuple[float, float]:
        """Absolute and relative error of ``numeric`` against the high-precision ``exact`` (NaN if undefined)."""
        if not math.isfinite(numeric) or not mpmath.isfinite(exact):
            return math.nan, math.nan
        with mpmath.workdps(DIGITS):
            difference = abs(mpmath.mpf(numeric) - exact)
            relative = difference / abs(exact) if exact != 0 else (mpmath.mpf(0) if difference == 0 else mpmath.inf)
        return float(difference), float(relative)
