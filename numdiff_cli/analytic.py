"""The analytic derivative (``sympy.diff``) of a validated expression, evaluated at high precision.

``compare`` measures a numerical method's error against this reference, so it is evaluated with mpmath at
:data:`DIGITS` significant digits at the exact floating-point point, not in float64. The derivative's text and
its mpmath code are cached per user like the numpy code (:mod:`numdiff_cli.cache`); sympy is imported only
when they have to be computed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import mpmath
import numpy as np

from numdiff_cli.codegen import UnsafeCode, dummy_lambdify, load_code, mpmath_printer, print_code
from numdiff_cli.compiled import Compiled
from numdiff_cli.deadline import OutOfTime as _OutOfTime
from numdiff_cli.deadline import in_worker as _in_worker
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


# Bounds on the high-precision evaluation: a point whose evaluation takes longer is refused, and so is an argument
# whose size alone makes mpmath's work explode (sin(exp(x)) at 1e7: reducing exp(1e7) modulo pi takes 14 million
# bits; exp(exp(exp(exp(e)))) needs an exponent of 10**1600000 digits). Below the size bound every mpmath function
# answers in milliseconds; powers with an exponent above 2**64 are refused before any evaluation (x**(2**9999)
# takes seconds per point).
POINT_SECONDS = 2.0
MAX_ARGUMENT_BITS = 16_384
MAX_EXPONENT = 2**64
# The reference is evaluated at these precisions (digits) until two successive ones agree to AGREE_DIGITS digits.
PRECISIONS = (30, 50, 100, 200, 400, 800)
AGREE_DIGITS = 20

T = TypeVar("T")


class _TooCostly(Exception):
    """An argument too large for mpmath to work with in bounded time."""


def _larger_than(tree: sp.Expr, limit: int) -> bool:
    """True if ``tree`` has more than ``limit`` nodes (stops counting there)."""
    import sympy as sp

    return any(count > limit for count, _ in enumerate(sp.preorder_traversal(tree)))


def _select(conditions: list[Any], choices: list[Any], default: Any = mpmath.nan) -> Any:
    for condition, choice in zip(conditions, choices):
        if condition:
            return choice
    return default


def _heaviside(value: Any, at_zero: Any) -> Any:
    """The step function as numpy's heaviside computes it: 0 below zero, 1 above, ``at_zero`` at 0, NaN for NaN."""
    if value > 0:
        return mpmath.mpf(1)
    if value < 0:
        return mpmath.mpf(0)
    return at_zero if value == 0 else mpmath.nan


def _power(base: Any, exponent: Any) -> Any:
    """``base ** exponent``, refusing an exponent above 2**64 (mpmath would build an integer of its size first)."""
    if isinstance(exponent, mpmath.mpf) and mpmath.isfinite(exponent) and abs(exponent) > MAX_EXPONENT:
        raise _TooCostly(f"a power with an exponent above 2**64 ({mpmath.nstr(exponent, 3)})")
    return base**exponent


# Names that sympy's mpmath printer writes for nodes of its own rather than for a function of the language (exact
# rationals, a Piecewise, Min, nan/inf), and functions that sympy could introduce itself.
_PRINTER_MPMATH = ("mpf", "nan", "inf", "asinh", "acosh", "atanh", "expm1", "log1p")
MPMATH_NAMES: dict[str, Any] = {name: getattr(mpmath, name) for name in _PRINTER_MPMATH}
MPMATH_NAMES.update({"select": _select, "min": min, "heaviside": _heaviside, "power": _power})
for _row in ROWS:
    MPMATH_NAMES.update(
        {name: getattr(mpmath, value) if isinstance(value, str) else value for name, value in _row.mpmath.items()}
    )


def _guarded(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` refusing arguments beyond ``2**MAX_ARGUMENT_BITS`` in size (see :data:`MAX_ARGUMENT_BITS`)."""

    def guarded(*args: Any) -> Any:
        for arg in args:
            number = isinstance(arg, (mpmath.mpf, mpmath.mpc)) and mpmath.isfinite(arg)
            if number and mpmath.mag(arg) > MAX_ARGUMENT_BITS:
                raise _TooCostly(f"{name} of a number beyond 2**{MAX_ARGUMENT_BITS}")
        return function(*args)

    return guarded


_UNGUARDED = ("mpf", "nan", "inf", "select")
MPMATH_NAMES.update({name: _guarded(name, value) for name, value in MPMATH_NAMES.items() if name not in _UNGUARDED})
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
    """``sympy.diff``, bounded in size (:data:`MAX_DERIVATIVE_NODES`); the caller bounds its time."""
    import sympy as sp

    symbol = expression.symbols[expression.names.index(var)]
    derivative = expression.tree
    for _ in range(order):
        # One order at a time: each can square the size (product rule), so check before going on.
        derivative = sp.diff(derivative, symbol)
        if _larger_than(derivative, MAX_DERIVATIVE_NODES):
            raise ExpressionError(_TOO_LARGE)
    # DiracDelta (from step()) is zero away from its jump; at the jump the derivative does not exist. sympy leaves
    # d/dx sign(u) unevaluated when it cannot tell that u is real (sign(log(x))): the same holds for it.
    derivative = derivative.replace(
        lambda node: isinstance(node, sp.Derivative) and isinstance(node.expr, sp.sign),
        lambda node: sp.Piecewise((sp.nan, sp.Eq(node.expr.args[0], 0)), (0, True)),
    )
    derivative = derivative.replace(sp.DiracDelta, lambda *args: sp.Piecewise((sp.nan, sp.Eq(args[0], 0)), (0, True)))
    if derivative.has(sp.Derivative, sp.Subs):
        raise ExpressionError(f"invalid expression {expression.text!r}: sympy cannot differentiate it analytically")
    for power in derivative.atoms(sp.Pow):
        exponent = power.exp
        if exponent.is_Number and exponent.is_finite and abs(exponent) > MAX_EXPONENT:
            raise ExpressionError(
                f"the analytic derivative has a power with an exponent above 2**64 ({_shown_number(exponent)}):"
                " too costly to evaluate at 30 digits; 'numdiff diff' computes the numerical derivative"
            )
    return derivative


def _shown_number(number: Any) -> str:
    text = str(number)
    return text if len(text) <= 20 else f"{text[:8]}...{text[-4:]}, {len(text)} digits"


def _symbolic(expression: Compiled | Expression, var: str, order: int) -> tuple[str, str, Any]:
    """The derivative's text, its mpmath code and the function the code computes (sympy's work, all of it)."""
    if getattr(expression, "arrays", False):
        from numdiff_cli.components import expanded

        parsed = expanded(expression)  # array values, written out by components
    else:
        parsed = expression.expression() if isinstance(expression, Compiled) else expression
    derivative = _derivative(parsed, var, order)
    text = str(derivative)
    code = print_code(mpmath_printer(), {"inline": True, "allow_unknown_functions": True}, derivative, parsed.symbols)
    try:
        return text, code, load_code(code, len(expression.names), MPMATH_NAMES)
    except UnsafeCode:
        return text, "", _lambdified(parsed, derivative)


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
        entry_key = cache.key("mpmath", getattr(expression, "key_text", expression.text), names, var, order)
        if use_cache:
            data = cache.load(entry_key)
            if isinstance(data, dict) and isinstance(data.get("text"), str) and isinstance(data.get("code"), str):
                try:
                    return cls(data["text"], load_code(data["code"], len(names), MPMATH_NAMES))
                except UnsafeCode:
                    pass  # corrupt or foreign: rebuilt and overwritten below
        # Differentiating, printing (sympy rewrites Heaviside as a Piecewise through its logic module, which can
        # take minutes) and compiling, all within SYMBOLIC_SECONDS.
        try:
            text, code, function = _in_worker(
                lambda: _symbolic(expression, var, order), lambda elapsed: elapsed < SYMBOLIC_SECONDS
            )
        except (_OutOfTime, RecursionError, MemoryError):
            raise ExpressionError(_TOO_LARGE) from None
        if use_cache and code:
            cache.store(entry_key, {"text": text, "code": code})
        return cls(text, function)

    def values(self, X: np.ndarray) -> list[Any]:
        """High-precision values (mpmath numbers; NaN where undefined) at the columns of ``X``.

        Raises
        ------
        ExpressionError
            When one point takes longer than :data:`POINT_SECONDS`, or needs an argument beyond
            ``2**MAX_ARGUMENT_BITS``: the message names the point.
        """
        columns = X.T.tolist()
        results: list[Any] = []
        started = [0.0]

        def evaluate() -> list[Any]:
            with mpmath.workdps(DIGITS):
                for column in columns:
                    started[0] = time.monotonic()
                    results.append(self._value(column))
            return results

        try:
            return _in_worker(evaluate, lambda _: time.monotonic() - started[0] < POINT_SECONDS or not started[0])
        except _OutOfTime:
            raise ExpressionError(self._refusal(columns[len(results)], f"took over {POINT_SECONDS:g} s")) from None
        except _TooCostly as error:
            raise ExpressionError(self._refusal(columns[len(results)], str(error))) from None

    @staticmethod
    def _refusal(column: list[float], why: str) -> str:
        at = ", ".join(repr(v) for v in column[:6]) + (", ..." if len(column) > 6 else "")
        return (
            f"the analytic derivative at {at} is too costly to evaluate at {DIGITS} digits ({why});"
            " 'numdiff diff' computes the numerical derivative"
        )

    def _value(self, column: list[float]) -> Any:
        """The derivative at ``column``, at the first of :data:`PRECISIONS` whose value the next one confirms.

        30 digits are not always 30 correct digits: ``tan(exp(x))`` at 700 needs exp(700) ~ 1e304 to 330 digits
        before tan can reduce it. A value two precisions agree on (to :data:`AGREE_DIGITS` digits) is the
        reference; a value that shrinks as precision grows, by half the digits added or more, is the rounding of
        terms that cancel: the reference is 0. Otherwise it cannot be established and the point is refused.
        """
        if not all(math.isfinite(v) for v in column):
            return mpmath.nan
        previous = None
        sizes = []
        for digits in PRECISIONS:
            with mpmath.workdps(digits):
                value = self._value_at(column)
                if not mpmath.isfinite(value):
                    return value  # outside the domain: no precision changes that
                if previous is not None and abs(value - previous) <= abs(value) * mpmath.mpf(10) ** -AGREE_DIGITS:
                    return previous  # confirmed to AGREE_DIGITS digits, more than a double's error needs
            previous = value
            sizes.append(abs(value))
        # A derivative that is 0 without sympy seeing it (sum(softmax(x)), whose terms cancel) is the rounding of its
        # terms at each precision (or 0 by chance): it shrinks as digits are added. At the last three precisions,
        # within 10**-(digits added / 2) of the largest value, it is 0 to within about 10**-385 of its terms: 0 in
        # double precision.
        largest = max(sizes)
        if all(
            size <= largest * mpmath.mpf(10) ** -((digits - PRECISIONS[0]) // 2)
            for size, digits in zip(sizes[-3:], PRECISIONS[-3:])
        ):
            return mpmath.mpf(0)
        raise _TooCostly(
            f"the analytic reference could not be established: its values at {PRECISIONS[0]} to"
            f" {PRECISIONS[-1]} digits disagree"
        )

    def _value_at(self, column: list[float]) -> Any:
        try:
            value = self._function(*[mpmath.mpf(v) for v in column])
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return mpmath.nan
        if isinstance(value, mpmath.mpc):
            return (
                mpmath.nan if abs(value.imag) > abs(value.real) * mpmath.mpf(10) ** (-mpmath.mp.dps + 5) else value.real
            )
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
