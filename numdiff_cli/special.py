"""What numpy, sympy and math lack for some functions of the expression language, as numdiff needs them: the real
cube root (numpy, mpmath and a sympy class of its own), ``hypot`` continued analytically to complex numbers (the
complex step) and as a sympy class, and float values that give inf where :mod:`math` raises ``OverflowError``.

The rows of :mod:`numdiff_cli.functions` name these; imports numpy only (sympy and mpmath when asked).
"""

from __future__ import annotations

import functools
import math
from types import ModuleType
from typing import Any

import numpy as np


def float_log(x: float, base: float = math.e) -> float:
    return (math.log(x) if x != 0 else -math.inf) / math.log(base)


def float_sinh(x: float) -> float:
    try:
        return math.sinh(x)
    except OverflowError:
        return math.copysign(math.inf, x)


def float_cbrt(x: float) -> float:
    return math.copysign(abs(x) ** (1 / 3), x)


def float_atanh(x: float) -> float:
    return math.copysign(math.inf, x) if abs(x) == 1 else math.atanh(x)


def float_expm1(x: float) -> float:
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf


def float_log1p(x: float) -> float:
    return -math.inf if x == -1 else math.log1p(x)


def numpy_cbrt(z: Any) -> Any:
    """Real cube root on real arrays; on complex arrays (the complex step) the analytic continuation of it
    around the real axis."""
    z = np.asarray(z)
    if np.iscomplexobj(z):
        return np.where(z.real >= 0, z ** (1 / 3), -((-z) ** (1 / 3)))
    return np.cbrt(z)


def mpmath_cbrt(value: Any) -> Any:
    """Real cube root of an mpmath number (mpmath's own is the principal root for negative numbers)."""
    import mpmath

    return mpmath.sign(value) * mpmath.cbrt(abs(value))


@functools.cache
def cbrt_class(sp: ModuleType) -> Any:
    class cbrt(sp.Function):  # type: ignore[name-defined]
        """Real cube root (negative for negative arguments), unlike sympy's principal ``x**(1/3)``."""

        nargs = 1

        def fdiff(self, argindex: int = 1) -> Any:
            return 1 / (3 * cbrt(self.args[0]) ** 2)

        def _eval_evalf(self, prec: int) -> Any:
            arg = self.args[0]._eval_evalf(prec)
            if arg is None or not arg.is_real:
                return None
            return sp.sign(arg) * sp.Abs(arg) ** sp.Rational(1, 3)

        # Both printers call the helper of the same name (numpy_cbrt, mpmath_cbrt).
        def _numpycode(self, printer: Any) -> str:
            return f"cbrt({printer._print(self.args[0])})"

        def _mpmathcode(self, printer: Any) -> str:
            return f"cbrt({printer._print(self.args[0])})"

    return cbrt


def numpy_hypot(x: Any, y: Any) -> Any:
    """``sqrt(x**2 + y**2)`` without overflow on real arrays (numpy's hypot); on complex arrays (the complex step)
    the analytic continuation of it, scaled by the larger real part (numpy's hypot refuses complex numbers, and
    ``abs`` of a complex number is not analytic)."""
    x, y = np.asarray(x), np.asarray(y)
    if not (np.iscomplexobj(x) or np.iscomplexobj(y)):
        return np.hypot(x, y)
    scale = np.maximum(np.abs(np.real(x)), np.abs(np.real(y)))
    scale = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
    return scale * np.sqrt((x / scale) ** 2 + (y / scale) ** 2)


@functools.cache
def hypot_class(sp: ModuleType) -> Any:
    class hypot(sp.Function):  # type: ignore[name-defined]
        """``sqrt(x**2 + y**2)``, computed without overflow (the numpy and mpmath functions of the same name)."""

        nargs = 2

        def fdiff(self, argindex: int = 1) -> Any:
            return self.args[argindex - 1] / self

        def _eval_evalf(self, prec: int) -> Any:
            x, y = (arg._eval_evalf(prec) for arg in self.args)
            if x is None or y is None or not (x.is_real and y.is_real):
                return None
            return sp.sqrt(x**2 + y**2)._eval_evalf(prec)

        def _numpycode(self, printer: Any) -> str:
            return f"hypot({printer._print(self.args[0])}, {printer._print(self.args[1])})"

        def _mpmathcode(self, printer: Any) -> str:
            return f"hypot({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    return hypot


def float_pow(base: float, exponent: float) -> float:
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return math.inf if base > 0 or (float(exponent).is_integer() and exponent % 2 == 0) else -math.inf
