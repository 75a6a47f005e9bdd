"""Constants of an expression in double precision, and the stand-in for those that are not finite.

sympy evaluates a constant such as ``exp(exp(exp(10*E)))`` with mpmath whenever it asks whether it is positive,
which needs more memory than exists (sympy issues #6835, #17609). The parser computes every constant's value here
in floats instead (overflow gives inf, a domain error nan, never an exception) and replaces a non-finite one by
:class:`NonFinite`, which sympy never evaluates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import sympy as sp


class NonFinite(sp.Function):
    """A constant whose value is not a finite double (``exp(exp(1000))``): +inf, -inf or nan, never evaluated."""

    nargs = 2
    _serial = itertools.count()

    def __new__(cls, value: float, serial: Any = None) -> sp.Expr:
        if serial is None:  # NonFinite(math.inf); sympy rebuilds a copy as NonFinite(code, serial)
            value = 0 if math.isnan(value) else (1 if value > 0 else -1)
            # Each one is distinct, so that sympy never simplifies inf/inf or inf - inf to 1 or 0.
            serial = next(cls._serial)
        return super().__new__(cls, sp.Integer(value), sp.Integer(serial), evaluate=False)

    @property
    def value(self) -> float:
        return (math.nan, math.inf, -math.inf)[int(self.args[0])]

    def _eval_evalf(self, prec: int) -> None:
        return None

    def _sympystr(self, printer: Any) -> str:
        return repr(self.value)

    def _numpycode(self, printer: Any) -> str:
        return {1: "1e999", -1: "(-1e999)"}.get(int(self.args[0]), "(1e999 - 1e999)")

    def _mpmathcode(self, printer: Any) -> str:
        return f"mpf('{self.value!r}')"


INFINITIES = (sp.zoo.__class__, sp.nan.__class__, sp.oo.__class__, sp.S.NegativeInfinity.__class__)

# Float versions of the functions the builder creates, for :func:`float_value`.
_MATH: dict[Any, Callable[..., float]] = {
    sp.sin: math.sin,
    sp.cos: math.cos,
    sp.tan: math.tan,
    sp.asin: math.asin,
    sp.acos: math.acos,
    sp.atan: math.atan,
    sp.sinh: math.sinh,
    sp.cosh: math.cosh,
    sp.tanh: math.tanh,
    sp.exp: math.exp,
    sp.Abs: abs,
    sp.sign: lambda v: math.copysign(1.0, v) if v else 0.0,
    sp.Heaviside: lambda v, *_: 1.0 if v > 0 else (0.0 if v < 0 else 0.5),
    sp.Max: max,
    sp.Min: min,
}


def float_value(expr: sp.Basic, memo: dict[sp.Basic, float]) -> float:
    """The value of a constant sympy expression computed in double precision (inf/nan, never an exception).

    Only the node types that the builder creates are known; anything else is nan. Subtrees are memoized, so
    calling this on every node of a growing tree is linear.
    """
    if expr in memo:
        return memo[expr]
    if isinstance(expr, NonFinite):
        value = expr.value
    elif expr.is_Rational:
        value = float(float_literal(int(expr.p), int(expr.q)).strip("()"))
    elif expr.is_Number:
        try:
            value = float(expr)
        except (OverflowError, TypeError, ValueError):
            value = math.nan
    elif expr is sp.pi:
        value = math.pi
    elif expr is sp.E:
        value = math.e
    else:
        args = [float_value(arg, memo) for arg in expr.args]
        value = _float_apply(expr, args)
    memo[expr] = value
    return value


def _float_apply(expr: sp.Basic, args: list[float]) -> float:
    try:
        if isinstance(expr, sp.UnevaluatedExpr):
            return args[0]
        if isinstance(expr, sp.Add):
            return sum(args)  # in order, as the compiled numpy code adds them
        if isinstance(expr, sp.Mul):
            return math.prod(args)
        if isinstance(expr, sp.Pow):
            return math.pow(*args)
        if isinstance(expr, sp.log):
            return math.log(args[0]) if args[0] != 0 else -math.inf
        if expr.func.__name__ == "cbrt":
            return math.copysign(abs(args[0]) ** (1 / 3), args[0])
        if expr.func in _MATH:
            return float(_MATH[expr.func](*args))
    except OverflowError:
        return math.inf if not isinstance(expr, sp.sinh) else math.copysign(math.inf, args[0])
    except (ValueError, ZeroDivisionError):
        return math.nan
    return math.nan


def float_call(name: str, args: list[float]) -> sp.Expr:
    """``name(*args)`` in double precision, as a sympy Float or :class:`NonFinite`."""
    value = _float_function(name, args)
    return sp.Float(value) if math.isfinite(value) else NonFinite(value)


def _float_function(name: str, args: list[float]) -> float:
    x = args[0]
    try:
        if name in ("log", "ln", "log10", "log2"):
            base = {"log10": 10.0, "log2": 2.0}.get(name, args[1] if len(args) > 1 else math.e)
            return (math.log(x) if x != 0 else -math.inf) / math.log(base)
        if name == "sqrt":
            return math.sqrt(x)
        if name == "sigmoid":
            return 1 / (1 + math.exp(-x)) if x > -700 else 0.0
        if name == "relu":
            return max(0.0, x) if not math.isnan(x) else x
        if name == "cbrt":
            return math.copysign(abs(x) ** (1 / 3), x)
        function = {"abs": sp.Abs, "sign": sp.sign, "step": sp.Heaviside}.get(name) or getattr(sp, name)
        return float(_MATH[function](*args))
    except OverflowError:
        return math.copysign(math.inf, x) if name in ("sinh", "cbrt") else math.inf
    except (ValueError, ZeroDivisionError, KeyError, AttributeError):
        return math.nan


def float_literal(p: int, q: int) -> str:
    """``p / q`` rounded to the nearest double, as a Python literal (``1e999`` for an infinite value)."""
    try:
        value = p / q
    except OverflowError:
        value = math.inf if (p > 0) == (q > 0) else -math.inf
    if math.isfinite(value):
        return f"({value!r})" if value < 0 else repr(value)
    return "(-1e999)" if value < 0 else "1e999"
