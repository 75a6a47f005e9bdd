"""Generated code: the printers that write it, the whitelist that checks it, and the only way it is ever loaded.

A validated sympy expression (from :mod:`numdiff_cli.expr`) is printed as *one Python expression* over the
arguments ``_0, _1, ...`` and a fixed set of names: numpy functions and constants (for the numerical
function), or mpmath ones (for the analytic derivative of ``compare``). The names are those of the rows of
:mod:`numdiff_cli.functions` plus the few that sympy's printers write for nodes of their own (``select`` and the
comparisons for a Piecewise, ``nan``, ...). That text is what the per-user cache (:mod:`numdiff_cli.cache`)
stores, so that a repeated call skips sympy entirely.

Loading code means executing it, so :func:`load_code` never trusts its input, whether it was just printed by
sympy or read back from the cache: the text is parsed with :mod:`ast` and walked against a whitelist
(arithmetic, comparisons, conditional expressions, calls of whitelisted functions by plain name, number
literals), then evaluated in a namespace holding only those whitelisted objects and no builtins. There is no
attribute access, no subscript, no string, no lambda, no comprehension in the whitelist, so even a tampered
cache entry can compute nothing but arithmetic on numpy/mpmath functions. Importing this module does not
import sympy; the printers are made the first time code is printed.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import inspect
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from numdiff_cli.errors import ExpressionError
from numdiff_cli.functions import OPERATOR_NAMES, ROWS

if TYPE_CHECKING:
    import sympy as sp

# Longest code accepted (the parser bounds expressions to 10,000 characters; printing can expand them a bit).
MAX_CODE = 200_000
# Integer literals in generated code never exceed float64's exact range (the printer turns larger ones into floats).
MAX_INT = 2**53

# Names that sympy's numpy printer writes for nodes of its own rather than for a function of the language: a
# Piecewise (select, comparisons, logic), Min, sympy's nan/inf, and functions that sympy could introduce itself.
_PRINTER_NUMPY = (
    *("select", "less", "less_equal", "greater", "greater_equal", "equal", "not_equal"),
    *("logical_and", "logical_or", "logical_not", "minimum", "nan", "inf"),
    *("arcsinh", "arccosh", "arctanh", "expm1", "log1p", "log2", "log10"),
)
NUMPY_NAMES: dict[str, Any] = {name: getattr(np, name) for name in _PRINTER_NUMPY}
for _row in ROWS:
    NUMPY_NAMES.update(_row.numpy)
NUMPY_NAMES.update(OPERATOR_NAMES)
# The objects among them that are not numpy's own (the real cube root): sympy's lambdify needs them as well.
NUMPY_HELPERS = {name: value for name, value in NUMPY_NAMES.items() if getattr(np, name, None) is not value}

_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or)
_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.keyword,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
    *_OPERATORS,
    *_COMPARISONS,
)
_KEYWORDS = frozenset({"default"})


class UnsafeCode(ValueError):
    """Code that is not of the form numdiff generates; it is never executed."""


def check_code(code: str, arity: int, names: dict[str, Any]) -> ast.Expression:
    """Parse ``code`` and check it against the whitelist; returns the tree.

    Raises
    ------
    UnsafeCode
        For anything numdiff's printers do not produce: other node types, unknown names, attribute access,
        non-numeric literals, integer powers of integer constants (which could take forever).
    """
    if not isinstance(code, str) or len(code) > MAX_CODE:
        raise UnsafeCode("code is not a string of bounded length")
    try:
        tree = ast.parse(code, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise UnsafeCode(f"code does not parse: {type(error).__name__}") from None
    arguments = {f"_{index}" for index in range(arity)}
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise UnsafeCode(f"{type(node).__name__} is not allowed")
        if isinstance(node, ast.Name) and node.id not in arguments and node.id not in names:
            raise UnsafeCode(f"unknown name {node.id!r}")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in names):
            raise UnsafeCode("only whitelisted functions can be called")
        if isinstance(node, ast.keyword) and node.arg not in _KEYWORDS:
            raise UnsafeCode(f"keyword {node.arg!r} is not allowed")
        if isinstance(node, ast.Constant):
            value = node.value
            if type(value) not in (int, float, bool) or (type(value) is int and abs(value) > MAX_INT):
                raise UnsafeCode("only numbers are allowed as literals")
        if isinstance(node, ast.BoolOp) and not all(_boolean(value) for value in node.values):
            raise UnsafeCode("'and' and 'or' combine conditions only")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and not _boolean(node.operand):
            raise UnsafeCode("'not' applies to conditions only")
        if isinstance(node, ast.IfExp) and not _boolean(node.test):
            raise UnsafeCode("a conditional expression tests a condition only")
        if isinstance(node, ast.Call):
            _check_arity(node, names[node.func.id])  # type: ignore[attr-defined]
    integers = _integer_valued(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Pow)
            and node.left in integers
            and node.right in integers
        ):
            # 2**9007199254740992 is exact integer arithmetic in Python: it would run for hours.
            raise UnsafeCode("integer powers of integer constants are not allowed")
    return tree


# Calls whose value is a condition (the numpy printer's comparisons and logic).
_CONDITIONS = frozenset(
    {"less", "less_equal", "greater", "greater_equal", "equal", "not_equal", "logical_and", "logical_or", "logical_not"}
)
# Calls that may hand back one of their arguments unchanged, an int among them (mpmath code's min and select, and
# heaviside's value at 0): an int argument makes their value an int.
_PASS_THROUGH = frozenset({"min", "select", "heaviside"})


def _boolean(node: ast.AST) -> bool:
    """True for a node whose value is a condition: a comparison, logic of conditions, True/False."""
    if isinstance(node, (ast.Compare, ast.BoolOp)):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return True
    if isinstance(node, ast.Constant) and type(node.value) is bool:
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CONDITIONS


def _integer_valued(tree: ast.AST) -> set[ast.AST]:
    """The nodes of ``tree`` that could evaluate to a Python int (exact, unbounded arithmetic).

    Bottom-up without recursion (generated code can be a chain of a thousand operations): the reversed
    breadth-first order visits every node after its children.
    """
    integers: set[ast.AST] = set()
    for node in reversed(list(ast.walk(tree))):
        if isinstance(node, ast.Constant):
            integer = type(node.value) in (int, bool)
        elif isinstance(node, ast.BinOp):
            integer = not isinstance(node.op, ast.Div) and node.left in integers and node.right in integers
        elif isinstance(node, ast.UnaryOp):
            integer = node.operand in integers
        elif isinstance(node, ast.IfExp):
            integer = node.body in integers or node.orelse in integers
        elif isinstance(node, ast.BoolOp):
            integer = any(value in integers for value in node.values)
        elif isinstance(node, (ast.List, ast.Tuple)):
            integer = any(element in integers for element in node.elts)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _PASS_THROUGH:
            integer = any(arg in integers for arg in node.args) or any(k.value in integers for k in node.keywords)
        else:
            integer = False  # names (float arguments and constants), other calls (floats), comparisons
        if integer:
            integers.add(node)
    return integers


def _check_arity(node: ast.Call, function: Any) -> None:
    """Refuse a call with a number of arguments that ``function`` does not take (an error at run time)."""
    if isinstance(function, np.ufunc):
        if node.keywords or len(node.args) != function.nin:
            raise UnsafeCode(f"{node.func.id}() takes {function.nin} argument(s)")  # type: ignore[attr-defined]
        return
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return  # a builtin without a signature (min): any count is an answer, not a crash
    try:
        signature.bind(*node.args, **{keyword.arg: None for keyword in node.keywords if keyword.arg})
    except TypeError:
        raise UnsafeCode(f"{node.func.id}() does not take {len(node.args)} argument(s)") from None  # type: ignore[attr-defined]


# A sum of 999 terms (under the parser's limit of 1,000 operations) prints as a left-deep chain of 999 additions;
# Python's compiler walks it recursively and counts against the interpreter's recursion limit (1,000 by default).
# The chain's length is bounded by the parser's limits, so a limit that covers it is bounded too.
COMPILE_RECURSION = 20_000


@contextlib.contextmanager
def recursion_limit(limit: int) -> Iterator[None]:
    """Python's recursion limit raised to ``limit`` in the block (never lowered)."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def load_code(code: str, arity: int, names: dict[str, Any]) -> Callable[..., Any]:
    """A function of ``arity`` arguments evaluating ``code``, after :func:`check_code` accepted it."""
    tree = check_code(code, arity, names)
    try:
        with recursion_limit(COMPILE_RECURSION):
            body = compile(tree, "<numdiff>", "eval")
    except (RecursionError, MemoryError) as error:
        raise UnsafeCode(f"code does not compile: {type(error).__name__}") from None
    namespace = {"__builtins__": {}, **names}

    def function(*args: Any) -> Any:
        scope = {f"_{index}": value for index, value in enumerate(args)}
        # Not user text: printer output over a validated sympy tree, re-checked against the whitelist above.
        return eval(body, namespace, scope)

    return function


def numpy_function(code: str, rows: Iterable[int]) -> Callable[[np.ndarray], np.ndarray]:
    """``F(X)`` evaluating ``code`` (checked by :func:`load_code`) with its argument ``_i`` bound to the row
    ``rows[i]`` of ``X``; ``X`` has shape ``(m, *batch)``, the values shape ``batch``."""
    rows = list(rows)
    raw = load_code(code, len(rows), NUMPY_NAMES)

    def evaluate(points: np.ndarray) -> np.ndarray:
        return real_values(lambda: raw(*(points[row] for row in rows)), points)

    return evaluate


@functools.cache
def numpy_printer() -> type:
    """sympy's numpy printer, printing floats and integers exactly as float64 computes them."""
    import sympy as sp
    from sympy.printing.numpy import NumPyPrinter

    from numdiff_cli.floats import float_literal

    class Printer(NumPyPrinter):
        """Prints floats with ``repr`` so literals reach numpy bit for bit (sympy would print 15 digits)."""

        def _print_Float(self, expr: sp.Float) -> str:
            return repr(float(expr))

        def _print_Integer(self, expr: sp.Integer) -> str:
            # Exact huge integers would turn numpy arrays into object arrays; float64 is what we compute in.
            if abs(int(expr)) > 2**53:
                return float_literal(int(expr), 1)
            return str(int(expr))

        def _print_Rational(self, expr: sp.Rational) -> str:
            # Python's int / int is correctly rounded; done here, a huge quotient is inf instead of an OverflowError.
            return float_literal(int(expr.p), int(expr.q))

        def _print_ComplexInfinity(self, expr: sp.Expr) -> str:
            # 1/0 in the expression: undefined as a real number, like 0/0.
            return str(self._print_NaN(sp.nan))

        def _print_ImaginaryUnit(self, expr: sp.Expr) -> str:
            # A constant that is not real (log(-pi) is log(pi) + I*pi): the expression is undefined as a real
            # number there, like 0/0. Printed as 1j it would fall outside the code whitelist of numbers.
            return str(self._print_NaN(sp.nan))

        def _print_Heaviside(self, expr: sp.Expr) -> str:
            # sympy would rewrite it as a Piecewise, which compares its argument symbolically (and fails on
            # step(log(pi, step(x)))); numpy's heaviside also keeps nan as nan.
            at_zero = self._print(expr.args[1]) if len(expr.args) > 1 else "0.5"
            heaviside = self._module_format("numpy.heaviside")
            return f"{heaviside}({self._print(expr.args[0])}, {at_zero})"

    return Printer


@functools.cache
def mpmath_printer() -> type:
    """sympy's mpmath printer, printing 1/0 as nan like the numpy printer."""
    from sympy.printing.pycode import MpmathPrinter

    class Printer(MpmathPrinter):
        def _print_ComplexInfinity(self, expr: sp.Expr) -> str:
            return str(self._print_NaN(expr))

        def _print_Heaviside(self, expr: sp.Expr) -> str:
            # sympy's own route rewrites it as a Piecewise through its logic module (as_set, distribute_and_over_or),
            # which takes minutes for the derivative of relu(sign(x)+...+sign(x-4)); heaviside() is in the whitelist.
            at_zero = self._print(expr.args[1]) if len(expr.args) > 1 else "mpf(1)/mpf(2)"
            return f"heaviside({self._print(expr.args[0])}, {at_zero})"

        def _print_Pow(self, expr: sp.Expr, rational: bool = False) -> str:
            # A power whose exponent is only known at the point (t**(t**34686420671) at 6) goes through power(),
            # which refuses an exponent mpmath would expand into an integer of billions of bits; a constant
            # exponent is bounded when the derivative is built.
            if expr.exp.is_Number:
                return str(super()._print_Pow(expr, rational=rational))
            return f"power({self._print(expr.base)}, {self._print(expr.exp)})"

    return Printer


class _Arguments:
    """Mixin for sympy printers: print the variables as the arguments ``_0, _1, ...``."""

    arguments: dict[Any, str]

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return self.arguments[expr]


def print_code(printer_class: type, settings: dict[str, Any], tree: sp.Expr, symbols: tuple[sp.Symbol, ...]) -> str:
    """``tree`` printed by ``printer_class`` with ``symbols`` as ``_0, _1, ...`` and unqualified names."""
    printer_type = type("ArgumentPrinter", (_Arguments, printer_class), {})
    printer = printer_type({**settings, "fully_qualified_modules": False})
    printer.arguments = {symbol: f"_{index}" for index, symbol in enumerate(symbols)}
    return str(printer.doprint(tree))


def numpy_code(tree: sp.Expr, symbols: tuple[sp.Symbol, ...]) -> str:
    """The numpy code of a validated sympy expression."""
    return print_code(numpy_printer(), {}, tree, symbols)


def lambdify(symbols: tuple[sp.Symbol, ...], expr: sp.Expr) -> Callable[..., Any]:
    """Compile a validated sympy expression into a numpy function of ``len(symbols)`` arrays (sympy's lambdify,
    with the printer of :func:`numpy_code`)."""
    # sympy prints Max (relu) as functools.reduce(numpy.maximum, ...) but does not put functools in the namespace.
    namespace = {**NUMPY_HELPERS, "functools": functools}
    return dummy_lambdify(symbols, expr, modules=[namespace, "numpy"], printer=numpy_printer())


def dummy_lambdify(symbols: tuple[sp.Symbol, ...], expr: sp.Expr, **options: Any) -> Callable[..., Any]:
    """``sympy.lambdify`` with the symbols renamed ``_a0, _a1, ...``, so no user name reaches the generated code.

    This is what ``dummify=True`` does, but in one pass over the tree: lambdify substitutes the symbols one
    at a time, which takes minutes for an expression with a thousand variables. User names never start with
    an underscore, so the new names cannot collide with them.

    Raises
    ------
    ExpressionError
        If Python cannot compile the generated code (an expression too large for its compiler).
    """
    import sympy as sp

    dummies = tuple(sp.Symbol(f"_a{index}", real=True) for index in range(len(symbols)))
    tree = expr.xreplace(dict(zip(symbols, dummies)))
    try:
        return sp.lambdify(dummies, tree, dummify=False, **options)
    except (RecursionError, MemoryError):
        raise ExpressionError("invalid expression: too large for Python to compile") from None


def real_values(compute: Callable[[], Any], points: np.ndarray) -> np.ndarray:
    """The values of a compiled expression, ``compute()``, at ``points`` (shape ``(m, *batch)``), as an array of
    shape ``batch``: float64 for real points (NaN where the value is not a finite real number), complex for the
    complex step. Shared by the freshly compiled and the cached functions, so both evaluate exactly alike."""
    with np.errstate(all="ignore"):
        try:
            values = np.asarray(compute())
        except (OverflowError, ZeroDivisionError, ValueError, TypeError):
            # Constant parts are computed with Python floats, which raise where numpy gives inf/nan
            # (e.g. pi**pi**pi**pi), and numpy refuses complex values in step (step(log(-1, x))): the
            # value is not a finite real number anywhere.
            values = np.full(points.shape[1:], np.nan)
        if np.iscomplexobj(values) and not np.iscomplexobj(points):
            # A real point but a complex value (e.g. (-8)**(1/3)): not a real number.
            values = np.where(values.imag == 0, values.real, np.nan)
        elif not np.iscomplexobj(values):
            values = values.astype(np.float64, copy=False)  # x - x is the integer 0
    if values.shape != points.shape[1:]:
        values = np.broadcast_to(values, points.shape[1:]).copy()
    return values
