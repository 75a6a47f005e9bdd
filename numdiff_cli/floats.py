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

from numdiff_cli.functions import CONSTANTS, FUNCTIONS, Symbolic


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
    elif expr in _CONSTANTS:
        value = _CONSTANTS[expr]
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
        if expr.func in _MATH:
            return float(_MATH[expr.func](*args))
    except OverflowError:
        return math.inf
    except (ValueError, ZeroDivisionError):
        return math.nan
    return math.nan


def float_call(name: str, args: list[float]) -> sp.Expr:
    """``name(*args)`` in double precision, as a sympy Float or :class:`NonFinite`."""
    try:
        value = float(FUNCTIONS[name].floats(*args))
    except OverflowError:
        value = math.inf
    except (ValueError, ZeroDivisionError, KeyError):
        value = math.nan
    return sp.Float(value) if math.isfinite(value) else NonFinite(value)


def float_literal(p: int, q: int) -> str:
    """``p / q`` rounded to the nearest double, as a Python literal (``1e999`` for an infinite value)."""
    try:
        value = p / q
    except OverflowError:
        value = math.inf if (p > 0) == (q > 0) else -math.inf
    if math.isfinite(value):
        return f"({value!r})" if value < 0 else repr(value)
    return "(-1e999)" if value < 0 else "1e999"


# The rows of numdiff_cli.functions made into sympy: each function's builder, each constant's value, and the rows
# whose builder is one sympy class, by that class (the class of the nodes they build).
SYMBOLIC = Symbolic(sp, lambda expr: float_value(expr, {}), NonFinite)
BUILDERS = {name: row.sympy(SYMBOLIC) for name, row in FUNCTIONS.items()}
SYMPY_CONSTANTS = {name: row.sympy(SYMBOLIC) for name, row in CONSTANTS.items()}
NODES = {BUILDERS[name]: row for name, row in FUNCTIONS.items() if row.single and isinstance(BUILDERS[name], type)}
# The float versions of those nodes (and of sympy's Max and Min, which relu builds) and of the constants.
_MATH: dict[Any, Callable[..., float]] = {node: row.floats for node, row in NODES.items()}
_MATH.update({sp.Max: max, sp.Min: min})
_CONSTANTS = {SYMPY_CONSTANTS[name]: row.value for name, row in CONSTANTS.items()}
