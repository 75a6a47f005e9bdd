"""The functions and constants of the expression language: one row each, read by every part that knows them.

A row says everything numdiff needs about one function: its name and argument counts (the parser), the sympy
tree it builds (the parser), its value in double precision (constants, :mod:`numdiff_cli.floats`), the numpy
and mpmath names that generated code may call for it (the whitelists of :mod:`numdiff_cli.codegen` and
:mod:`numdiff_cli.analytic`), whether it is complex-analytic (the complex step) and a one-line description
(the README's table, which the tests compare with the rows). It is the one table of the language; the
implementations that numpy, sympy and math lack (the real cube root, hypot on complex numbers, float values that
overflow to inf) are in :mod:`numdiff_cli.special`.

Importing this module imports neither sympy nor mpmath (a cached run needs only numpy): a row's sympy builder
is made from the sympy module when the parser asks for it, and mpmath objects are named, not imported.

Adding a function
-----------------
Add its row to ``_ROWS`` and its line to the README's table (``python tests/test_functions.py --update`` writes
the table); tests/test_functions.py and tests/test_cache.py then check it like every other row (float value
against sympy, whitelisted code, cacheable derivatives, analytic flag). Nothing else changes when sympy's
printers already write the row's nodes as calls of the numpy/mpmath names it lists. Otherwise:

- a sympy class of numdiff's own (like ``cbrt``) is defined in :mod:`numdiff_cli.special` and prints itself
  (``_numpycode``, ``_mpmathcode``);
- a node of sympy's own that its printers write wrongly needs a ``_print_<Node>`` method in the printers of
  :mod:`numdiff_cli.codegen` (as ``Heaviside`` has);
- an array function (``array=True``: ``sum``, ``softmax``, ``@`` ...) is a sympy class made by
  :func:`~numdiff_cli.array_nodes.array_class`, printed as a call of the function of :mod:`numdiff_cli.arrays`
  named in its row, whose shape rule is in ``arrays.SHAPES``; its components for ``compare`` are in
  :mod:`numdiff_cli.components`;
- a builder made of several nodes (``single=False``) must build only nodes that :mod:`numdiff_cli.floats` can
  evaluate (arithmetic, ``Max``, ``Min`` and the classes of the other rows), and, if the function is not
  analytic, a node of ``_NON_ANALYTIC`` in :mod:`numdiff_cli.expr` (as relu builds ``Max``).
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

from numdiff_cli import arrays, special
from numdiff_cli.array_nodes import array_class


class Symbolic(NamedTuple):
    """What a row's sympy builder is made from: sympy, and numdiff's double-precision view of constants."""

    sp: ModuleType
    value: Callable[[Any], float]  # the value of a constant sympy expression in double precision (inf/nan)
    non_finite: Callable[[float], Any]  # the sympy stand-in for a constant that is not a finite double


Builder = Callable[..., Any]


def _positive(argument: Any) -> bool | None:
    """Whether sympy proves the argument positive for every real value of the variables (None: not proven)."""
    return argument.is_positive


def _never_zero(argument: Any) -> bool | None:
    """Whether sympy proves the argument positive, or negative, for every real value of the variables."""
    return argument.is_positive or argument.is_negative


@dataclass(frozen=True)
class Function:
    """One function of the expression language."""

    name: str  # as written in expressions
    arities: tuple[int, ...]  # allowed numbers of arguments
    description: str  # one line, for the README's table
    sympy: Callable[[Symbolic], Builder]  # makes the builder: sympy arguments -> sympy tree
    floats: Callable[..., float]  # the value in double precision (may raise OverflowError or ValueError)
    numpy: Mapping[str, Any]  # the names generated numpy code may call for it -> the objects they are
    mpmath: Mapping[str, str | Callable[..., Any]]  # the same for mpmath code: an mpmath attribute, or an object
    # The builder is one sympy function, which takes evaluate=False (constant arguments are then kept
    # unevaluated). When it is a class (all but sqrt, which builds a power), the nodes of that class are this
    # function's for the float value of constants and for the analytic check.
    single: bool = True
    analytic: bool = True  # complex-analytic, so the complex step can differentiate it
    # Real-analytic on the whole real line, so that no composition of such functions has a kink: not abs, sign,
    # step, relu, max, min; nor cbrt at 0 (an infinite slope), hypot and norm at 0 (cones), asin/acos/acosh (finite
    # at the edges of their domain, which an argument can touch from inside: acos(cos(x)) is |x| near 0), nor tan,
    # the logarithms and atanh (a pole or a logarithmic singularity, which a bounded function of them makes a cusp
    # of: atan(log(x**2)) at 0). The kink test can skip an expression of such functions and powers that are
    # integers (Expression.smooth).
    smooth: bool = True
    # For a function that is not smooth: a condition on its sympy argument under which it is real-analytic at every
    # value the argument takes (the logarithms of a positive argument, cbrt and abs of one that is never 0), which
    # sympy must prove (True, not None) for every real value of the variables: log(1 + x**2) is smooth, log(x**2)
    # may not be (atan(log(x**2)) has a cusp at 0).
    smooth_if: Callable[[Any], bool | None] | None = None
    array: bool = False  # takes arrays as arrays (a reduction, a product, softmax): the expression has array values


@dataclass(frozen=True)
class Constant:
    """One named constant of the expression language."""

    names: tuple[str, ...]
    description: str
    sympy: Callable[[Symbolic], Any]
    value: float  # in double precision
    numpy: Mapping[str, Any]
    mpmath: Mapping[str, str]


def _sympy(name: str) -> Callable[[Symbolic], Builder]:
    """The builder that is the sympy function ``sympy.<name>``."""
    return lambda symbolic: getattr(symbolic.sp, name)


def _numpy(*names: str) -> dict[str, Any]:
    return {name: getattr(np, name) for name in names}


def _mpmath(*names: str) -> dict[str, str | Callable[..., Any]]:
    return {name: name for name in names}


def _cfunction(name: str) -> Callable[[Symbolic], Builder]:
    """The builder that is sympy's ``codegen.cfunctions.<name>`` (expm1, log1p: sympy knows their derivatives and
    prints them as the numpy and mpmath functions of the same name)."""
    return lambda symbolic: getattr(importlib.import_module(f"{symbolic.sp.__name__}.codegen.cfunctions"), name)


def _log(symbolic: Symbolic) -> Builder:
    sp = symbolic.sp

    def build(x: Any, base: Any = None) -> Any:
        if base is None:
            return sp.log(x)
        if not base.free_symbols:
            value = symbolic.value(base)
            if not (math.isfinite(value) and value > 0 and value != 1):
                # log(x, 1) divides by log(1) = 0, log(x, 0) by -inf; sympy fails on some forms of such a base
                # (cos(0), log(cbrt(1.0))), so the factor 1/log(base) is computed in floats.
                return sp.log(x) * (sp.Float(0) if value in (0, math.inf) else symbolic.non_finite(math.nan))
        return sp.log(x) / sp.log(base)

    return build


# The largest numerator or denominator of an exact exponent that pow() keeps exact: sympy distributes an exact
# power over the numbers of its base ((x/2)**(10**50) would compute 2**(10**50)), and a float exponent does not.
_EXACT_EXPONENT = 1024


def _pow(symbolic: Symbolic) -> Builder:
    sp = symbolic.sp

    def build(base: Any, exponent: Any) -> Any:
        if not (base.free_symbols or exponent.free_symbols):
            # Constant: its value in double precision (sympy would compute 9**9**9 exactly).
            value = symbolic.value(sp.Pow(base, exponent, evaluate=False))
            return sp.Float(value) if math.isfinite(value) else symbolic.non_finite(value)
        if exponent.is_Rational and max(abs(exponent.p), exponent.q) > _EXACT_EXPONENT:
            exponent = sp.Float(exponent)
        return sp.Pow(base, exponent)

    return build


def _one(name: str, sympy: str, floats: Callable[..., float], numpy: str, description: str, **options: Any) -> Function:
    """A function of one argument that is a sympy, a math, a numpy and an mpmath function of the same name."""
    return Function(name, (1,), description, _sympy(sympy), floats, _numpy(numpy), _mpmath(sympy), **options)


def _log_to(base: int) -> Function:
    """``log<base>``, the logarithm to a fixed base."""
    return Function(
        f"log{base}",
        (1,),
        f"logarithm to base {base}",
        lambda symbolic: lambda x: symbolic.sp.log(x) / symbolic.sp.log(base),
        lambda x: special.float_log(x, float(base)),
        _numpy("log"),
        _mpmath("log"),
        single=False,
        smooth=False,
        smooth_if=_positive,
    )


def _array(
    name: str,
    floats: Callable[..., float],
    description: str,
    nargs: int = 1,
    smooth: bool = True,
    smooth_if: Callable[[Any], bool | None] | None = None,
) -> Function:
    """An array function of ``nargs`` arguments; ``floats`` is its value on scalars."""
    generated = f"array_{name}"
    return Function(
        name,
        (nargs,),
        description,
        lambda symbolic: array_class(symbolic.sp, generated, nargs),
        floats,
        {generated: getattr(arrays, generated)},
        {},
        smooth=smooth,
        smooth_if=smooth_if,
        array=True,
    )


def _float_constant(symbolic: Symbolic, value: Any) -> Any:
    number = symbolic.value(value)
    return symbolic.sp.Float(number) if math.isfinite(number) else symbolic.non_finite(number)


def _extreme(name: str, pick: Callable[..., float], description: str) -> Function:
    """max/min: of two arguments elementwise (sympy's Max/Min), of one the largest/smallest element."""
    generated = f"array_{name}"

    def sympy(symbolic: Symbolic) -> Builder:
        def build(a: Any, b: Any = None, **options: Any) -> Any:
            if b is None:
                return array_class(symbolic.sp, generated, 1)(a, **options)
            # A constant argument by its value: sympy cannot order some unevaluated constants (step(0)).
            a, b = (v if v.free_symbols else _float_constant(symbolic, v) for v in (a, b))
            return (symbolic.sp.Max if name == "max" else symbolic.sp.Min)(a, b)

        return build

    def floats(a: float, b: float | None = None) -> float:
        if b is None:
            return a
        return a if math.isnan(a) else (b if math.isnan(b) else pick(a, b))

    numpy = {generated: getattr(arrays, generated), **_numpy("maximum" if name == "max" else "minimum")}
    return Function(
        name,
        (1, 2),
        description,
        sympy,
        floats,
        {**numpy, "reduce": functools.reduce},
        {name: pick},
        single=False,
        analytic=False,
        smooth=False,
        array=True,
    )


# The rows of numpy code that name a span of an index (x[1:]) and an index (x[0], W[1:, 0]); not functions of the
# language (they are written with brackets), but printed by the classes of the parser's subscripts.
OPERATOR_NAMES = {
    "item": arrays.item,
    "span": arrays.span,
    "array_matmul": arrays.array_matmul,
    "shaped": arrays.shaped,
}

_ROWS = (
    _one("sin", "sin", math.sin, "sin", "sine (radians)"),
    _one("cos", "cos", math.cos, "cos", "cosine (radians)"),
    # (Not smooth: tan has poles, which a bounded function of it turns into jumps; asin, acos and acosh are finite
    # at the edges of their domain, which an argument can touch from inside: acos(cos(x)) is |x| near 0.)
    _one("tan", "tan", math.tan, "tan", "tangent (radians)", smooth=False),
    _one("asin", "asin", math.asin, "arcsin", "inverse sine", smooth=False),
    _one("acos", "acos", math.acos, "arccos", "inverse cosine", smooth=False),
    _one("atan", "atan", math.atan, "arctan", "inverse tangent"),
    _one("sinh", "sinh", special.float_sinh, "sinh", "hyperbolic sine"),
    _one("cosh", "cosh", math.cosh, "cosh", "hyperbolic cosine"),
    _one("tanh", "tanh", math.tanh, "tanh", "hyperbolic tangent"),
    _one("asinh", "asinh", math.asinh, "arcsinh", "inverse hyperbolic sine"),
    _one(
        "acosh",
        "acosh",
        math.acosh,
        "arccosh",
        "inverse hyperbolic cosine",
        smooth=False,
        smooth_if=lambda argument: (argument - 1).is_positive,
    ),
    _one("atanh", "atanh", special.float_atanh, "arctanh", "inverse hyperbolic tangent", smooth=False),
    _one("exp", "exp", math.exp, "exp", "exponential"),
    Function(
        "expm1",
        (1,),
        "`exp(x) - 1`, accurate for small x",
        _cfunction("expm1"),
        special.float_expm1,
        _numpy("expm1"),
        _mpmath("expm1"),
    ),
    Function(
        "log",
        (1, 2),
        "natural logarithm; `log(x, b)` is the logarithm to base b",
        _log,
        special.float_log,
        _numpy("log"),
        _mpmath("log"),
        single=False,
        smooth=False,
        smooth_if=_positive,
    ),
    _one("ln", "log", special.float_log, "log", "natural logarithm", smooth=False, smooth_if=_positive),
    _log_to(10),
    _log_to(2),
    Function(
        "log1p",
        (1,),
        "`log(1 + x)`, accurate for small x",
        _cfunction("log1p"),
        special.float_log1p,
        _numpy("log1p"),
        _mpmath("log1p"),
        smooth=False,
        smooth_if=lambda argument: (argument + 1).is_positive,
    ),
    _one("sqrt", "sqrt", math.sqrt, "sqrt", "square root"),
    Function(
        "pow",
        (2,),
        "`pow(x, y)` is `x**y`",
        _pow,
        special.float_pow,
        {},
        {},
        single=False,
    ),
    Function(
        "hypot",
        (2,),
        "`sqrt(x**2 + y**2)` without overflow",
        lambda symbolic: special.hypot_class(symbolic.sp),
        math.hypot,
        {"hypot": special.numpy_hypot},
        {"hypot": "hypot"},
        smooth=False,
    ),
    Function(
        "cbrt",
        (1,),
        "real cube root: `cbrt(-8)` is -2",
        lambda symbolic: special.cbrt_class(symbolic.sp),
        special.float_cbrt,
        {"cbrt": special.numpy_cbrt},
        {"cbrt": special.mpmath_cbrt},
        smooth=False,
        smooth_if=_never_zero,
    ),
    Function(
        "abs",
        (1,),
        "absolute value",
        _sympy("Abs"),
        abs,
        _numpy("abs"),
        {"abs": abs, "fabs": "fabs"},
        analytic=False,
        smooth=False,
        smooth_if=_never_zero,
    ),
    Function(
        "sign",
        (1,),
        "sign: -1, 0 or 1",
        _sympy("sign"),
        lambda v: math.copysign(1.0, v) if v else 0.0,
        _numpy("sign"),
        _mpmath("sign"),
        analytic=False,
        smooth=False,
        smooth_if=_never_zero,
    ),
    Function(
        "sigmoid",
        (1,),
        "logistic function 1/(1+exp(-x))",
        lambda symbolic: lambda x: 1 / (1 + symbolic.sp.exp(-x)),
        lambda x: 1 / (1 + math.exp(-x)) if x > -700 else 0.0,
        _numpy("exp"),
        _mpmath("exp"),
        single=False,
    ),
    Function(
        "relu",
        (1,),
        "rectifier max(0, x)",
        lambda symbolic: lambda x: symbolic.sp.Max(0, x),
        lambda x: max(0.0, x) if not math.isnan(x) else x,
        {**_numpy("maximum"), "reduce": functools.reduce},
        {"max": max},
        single=False,
        analytic=False,
        smooth=False,
    ),
    Function(
        "step",
        (1,),
        "Heaviside step: 0 below 0, 1/2 at 0, 1 above",
        _sympy("Heaviside"),
        lambda v, *_: 1.0 if v > 0 else (0.0 if v < 0 else 0.5),
        _numpy("heaviside"),
        {},
        analytic=False,
        smooth=False,
        smooth_if=_never_zero,
    ),
    _array("sum", lambda a: a, "sum of the elements of an array (a number is its own sum)"),
    _array("prod", lambda a: a, "product of the elements of an array"),
    _array("mean", lambda a: a, "mean of the elements of an array"),
    _array(
        "norm",
        abs,
        "Euclidean norm `sqrt(sum(x**2))` (Frobenius for a matrix)",
        smooth=False,
        smooth_if=_never_zero,
    ),
    _array("dot", lambda a, b: a * b, "`dot(a, b)`: product with a number, else the matrix product `a @ b`", 2),
    _extreme("max", max, "`max(a, b)` elementwise; `max(x)` the largest element"),
    _extreme("min", min, "`min(a, b)` elementwise; `min(x)` the smallest element"),
    _array("softmax", lambda a: 1.0, "`exp(x)/sum(exp(x))` over all elements, without overflow"),
    _array("logsumexp", lambda a: a, "`log(sum(exp(x)))` over all elements, without overflow"),
    _array("transpose", lambda a: a, "transpose of a matrix (a vector is unchanged)"),
)
FUNCTIONS: dict[str, Function] = {row.name: row for row in _ROWS}
ARRAY_FUNCTIONS = frozenset(row.name for row in _ROWS if row.array)

_PI = Constant(("pi",), "3.14159...", lambda symbolic: symbolic.sp.pi, math.pi, {"pi": np.pi}, {"pi": "pi"})
_E = Constant(("e", "E"), "2.71828...", lambda symbolic: symbolic.sp.E, math.e, {"e": np.e}, {"e": "e"})
CONSTANTS: dict[str, Constant] = {name: row for row in (_PI, _E) for name in row.names}
# Every row, functions and constants: what generated code may name.
ROWS: tuple[Function | Constant, ...] = (*_ROWS, _PI, _E)
