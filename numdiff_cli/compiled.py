"""Validated expressions compiled to numpy code, and the only way such code is ever loaded.

A validated sympy expression (from :mod:`numdiff_cli.expr`) is printed as *one Python expression* over the
arguments ``_0, _1, ...`` and a fixed set of names: numpy functions and constants (for the numerical
function), or mpmath ones (for the analytic derivative of ``compare``). That text is what the per-user cache
(:mod:`numdiff_cli.cache`) stores, so that a repeated call skips sympy entirely.

Loading code means executing it, so :func:`load_code` never trusts its input, whether it was just printed by
sympy or read back from the cache: the text is parsed with :mod:`ast` and walked against a whitelist
(arithmetic, comparisons, conditional expressions, calls of whitelisted functions by plain name, number
literals), then evaluated in a namespace holding only those whitelisted objects and no builtins. There is no
attribute access, no subscript, no string, no lambda, no comprehension in the whitelist, so even a tampered
cache entry can compute nothing but arithmetic on numpy/mpmath functions. Importing this module does not
import sympy; :func:`from_expression` imports the printers only when it is called.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import sympy as sp

    from numdiff_cli.expr import Expression

# Longest code accepted (the parser bounds expressions to 10,000 characters; printing can expand them a bit).
MAX_CODE = 200_000
# Integer literals in generated code never exceed float64's exact range (the printer turns larger ones into floats).
MAX_INT = 2**53


def numpy_cbrt(z: Any) -> Any:
    """Real cube root on real arrays; on complex arrays (the complex step) the analytic continuation of it
    around the real axis."""
    z = np.asarray(z)
    if np.iscomplexobj(z):
        return np.where(z.real >= 0, z ** (1 / 3), -((-z) ** (1 / 3)))
    return np.cbrt(z)


_NUMPY_FUNCTIONS = (
    *("sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh"),
    *("exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "sign", "maximum", "minimum", "heaviside", "select"),
    *("less", "less_equal", "greater", "greater_equal", "equal", "not_equal"),
    *("logical_and", "logical_or", "logical_not"),
)
NUMPY_NAMES: dict[str, Any] = {name: getattr(np, name) for name in _NUMPY_FUNCTIONS}
NUMPY_NAMES.update(
    {
        "abs": np.absolute,
        "cbrt": numpy_cbrt,
        "reduce": functools.reduce,
        "nan": np.nan,
        "inf": np.inf,
        "pi": np.pi,
        "e": np.e,
    }
)

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
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Pow)
            and _integer_constant(node.left)
            and _integer_constant(node.right)
        ):
            raise UnsafeCode("integer powers of integer constants are not allowed")
    return tree


def _integer_constant(node: ast.AST) -> bool:
    """True when ``node`` could evaluate to a Python int: no variable, no float literal, no division."""
    for child in ast.walk(node):
        if isinstance(child, (ast.Name, ast.Div)):
            return False
        if isinstance(child, ast.Constant) and isinstance(child.value, float):
            return False
    return True


def load_code(code: str, arity: int, names: dict[str, Any]) -> Callable[..., Any]:
    """A function of ``arity`` arguments evaluating ``code``, after :func:`check_code` accepted it."""
    tree = check_code(code, arity, names)
    body = compile(tree, "<numdiff>", "eval")
    namespace = {"__builtins__": {}, **names}

    def function(*args: Any) -> Any:
        scope = {f"_{index}": value for index, value in enumerate(args)}
        # Not user text: printer output over a validated sympy tree, re-checked against the whitelist above.
        return eval(body, namespace, scope)

    return function


@dataclass(frozen=True)
class Compiled:
    """An expression compiled to numpy code, with what the CLI needs to know about it.

    Offers the same interface as :class:`numdiff_cli.expr.Expression` for ``names``, ``shapes``, ``analytic``,
    ``function``, ``with_variable`` and ``reordered``; the last two are free (no sympy) when they only
    permute the variables, and otherwise parse the text again.
    """

    text: str
    names: tuple[str, ...]  # variable order, as in Expression.names
    shapes: dict[str, tuple[int, ...]]
    analytic: bool
    args: tuple[str, ...]  # the variable bound to each argument _0, _1, ... of ``code``
    code: str
    parsed: Expression | None = field(default=None, compare=False, repr=False)

    @cached_property
    def function(self) -> Callable[[np.ndarray], np.ndarray]:
        """``F(X)`` with ``X`` of shape ``(len(names), *batch)`` returning values of shape ``batch``."""
        raw = load_code(self.code, len(self.args), NUMPY_NAMES)
        rows = [self.names.index(name) for name in self.args]

        def evaluate(points: np.ndarray) -> np.ndarray:
            return real_values(lambda: raw(*(points[row] for row in rows)), points)

        return evaluate

    def expression(self) -> Expression:
        """The sympy expression (parsed again when this came from the cache)."""
        if self.parsed is None:
            from numdiff_cli.expr import parse_expression

            parsed = parse_expression(self.text).reordered(self.names)
            object.__setattr__(self, "parsed", parsed)
        assert self.parsed is not None
        return self.parsed

    def with_variable(self, name: str) -> Compiled:
        if name in self.names:
            return self
        return from_expression(self.expression().with_variable(name))

    def reordered(self, order: tuple[str, ...]) -> Compiled:
        if len(order) == len(self.names) and set(order) == set(self.names):
            parsed = self.parsed.reordered(order) if self.parsed is not None else None
            return replace(self, names=tuple(order), parsed=parsed)
        return from_expression(self.expression().reordered(order))

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "names": list(self.names),
            "shapes": {base: list(shape) for base, shape in self.shapes.items()},
            "analytic": self.analytic,
            "args": list(self.args),
            "code": self.code,
        }

    @classmethod
    def from_json(cls, data: Any) -> Compiled:
        """Rebuild from :meth:`to_json` output, checking every field (and the code, see :func:`check_code`)."""
        try:
            text, code, analytic = data["text"], data["code"], data["analytic"]
            names = tuple(data["names"])
            args = tuple(data["args"])
            shapes = {str(base): tuple(int(n) for n in shape) for base, shape in data["shapes"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise UnsafeCode(f"malformed entry: {type(error).__name__}") from None
        if not (isinstance(text, str) and isinstance(code, str) and isinstance(analytic, bool)):
            raise UnsafeCode("malformed entry")
        if not all(isinstance(n, str) for n in names) or not set(args) <= set(names):
            raise UnsafeCode("malformed variable names")
        check_code(code, len(args), NUMPY_NAMES)
        return cls(text, names, shapes, analytic, args, code)


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
    """The numpy code of a validated sympy expression (the printer of :mod:`numdiff_cli.expr`)."""
    from numdiff_cli.expr import _NumPyPrinter

    return print_code(_NumPyPrinter, {}, tree, symbols)


def from_expression(expression: Expression) -> Compiled:
    """Compile a validated expression; raises :class:`UnsafeCode` if its code falls outside the whitelist."""
    code = numpy_code(expression.tree, expression.symbols)
    check_code(code, len(expression.names), NUMPY_NAMES)
    return Compiled(
        expression.text,
        expression.names,
        dict(expression.shapes),
        expression.analytic,
        expression.names,
        code,
        expression,
    )


def compile_text(text: str, use_cache: bool) -> Compiled | Expression:
    """The expression ``text`` compiled to numpy code: from the per-user cache, or parsed and then cached.

    Raises :class:`numdiff_cli.errors.ExpressionError` for a malformed expression (never cached). An
    expression whose code falls outside the whitelist (none that the parser builds today) is returned as the
    parsed :class:`~numdiff_cli.expr.Expression`, which evaluates through sympy's lambdify, and is not cached.
    """
    from numdiff_cli import cache

    entry_key = cache.key("numpy", text)
    if use_cache:
        data = cache.load(entry_key)
        if data is not None:
            try:
                return Compiled.from_json(data)
            except UnsafeCode:
                pass  # corrupt or foreign: rebuilt and overwritten below
    from numdiff_cli.expr import parse_expression

    expression = parse_expression(text)
    try:
        compiled = from_expression(expression)
    except UnsafeCode:
        return expression
    if use_cache:
        cache.store(entry_key, compiled.to_json())
    return compiled


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
